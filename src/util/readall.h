/* readall: the one whole-file reader (config files, model files, compare's
 * run files). A file is read once, to its end, whatever it is: a pipe
 * (--config <(...), /dev/stdin) cannot be read twice. */
#ifndef READALL_H
#define READALL_H

#include <stddef.h>

#include "err.h"

enum readall_flags {
    READALL_REGULAR = 1,   /* only a regular file: asked before opening, since opening a
                              FIFO waits for its writer (ERR_NOINPUT "not a regular file") */
};

/* The whole content of path into *buf (malloc'd, NUL-terminated after *len
 * bytes). ERR_NOINPUT when it cannot be opened or is a directory, ERR_IO on
 * a read error, ERR_DATA "larger than max bytes; not <what>" beyond max. */
int readall(const char *path, size_t max, unsigned flags, const char *what, char **buf,
            size_t *len, struct err *e);

#endif
