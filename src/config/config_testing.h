/* config_testing: a config file applied on its own, for the tests
 * (production reads --config through config_from_args). */
#ifndef CONFIG_TESTING_H
#define CONFIG_TESTING_H

#include "config.h"

/* apply one JSON config file (a top-level object of known keys) */
int config_load_file(struct config *c, const char *path, struct err *e);

#endif
