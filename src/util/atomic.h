/* atomic: write a file so that readers see the old version or the complete new
 * one, never a half-written file: write to a temporary file in the same
 * directory, flush, fsync, rename over the real name, fsync the directory. */
#ifndef ATOMIC_H
#define ATOMIC_H

#include <stdio.h>

#include "err.h"

struct atomic_file {
    FILE *f;
    char tmp[4200];
    const char *path;
};

int atomic_open(struct atomic_file *a, const char *path, struct err *e);
/* finish and rename into place; on any write error the target is untouched */
int atomic_commit(struct atomic_file *a, struct err *e);
/* give up: remove the temporary file */
void atomic_abort(struct atomic_file *a);

#endif
