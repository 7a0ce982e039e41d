/* enum_names: a C enum and the names its values go by, written once as a list,
 * so the order of the names can never drift from the order of the constants.
 *
 *   #define FRUITS(X) X(FRUIT_APPLE, "apple") X(FRUIT_PEAR, "pear")
 *   enum fruit { FRUITS(ENUM_ID) };
 *   enum { N_FRUITS = 0 FRUITS(ENUM_COUNT) };   (apart: no case for it in a switch)
 *   ... ENUM_NAMES(FRUITS) is {"apple", "pear", NULL}, for the option table.
 */
#ifndef ENUM_NAMES_H
#define ENUM_NAMES_H

#define ENUM_ID(id, name) id,
#define ENUM_NAME(id, name) name,
#define ENUM_COUNT(id, name) +1
/* a NULL-ended array of the names, in the order of the enum */
#define ENUM_NAMES(LIST) ((const char *const[]){LIST(ENUM_NAME) NULL})

#endif
