/* num: strict text-to-number parsing. The whole string must be the number:
 * "3x", "", " 3", "0x10" and out-of-range values are rejected, never truncated. */
#ifndef NUM_H
#define NUM_H

#include <stdbool.h>

bool num_parse_long(const char *s, long long *out);   /* decimal integer */
bool num_parse_double(const char *s, double *out);    /* finite decimal */

#endif
