/* afile: the one way train writes an output file (model, predictions,
 * metrics). Where the path leads decides how:
 *
 *   a regular file, or nothing yet   replaced atomically: a temporary file in
 *                                    the same directory, flushed, fsynced,
 *                                    renamed over the real name, directory
 *                                    fsynced; readers see the old file or the
 *                                    whole new one. An existing file keeps its
 *                                    permission bits (and, where allowed, owner).
 *   a symbolic link                  followed (up to 40 links); the file it
 *                                    finally names is replaced as above, in
 *                                    that file's directory. The link stays.
 *   a device, FIFO or an open        written through in place, never replaced
 *   descriptor (/dev/stdout,         (/dev/null stays a device, a FIFO stays a
 *   /dev/fd/N, /proc/self/fd/N)      FIFO, /dev/stdout writes to fd 1)
 *   "-" with AFILE_DASH              standard output
 *
 * afile_check answers "could this be written?" without writing anything, so
 * a run can refuse a bad output path before any work. Errors: ERR_CANTCREAT
 * (73) when the file cannot be created there, ERR_IO (74) when writing fails. */
#ifndef AFILE_H
#define AFILE_H

#include <stdio.h>

#include "err.h"

#define AFILE_PATH_MAX 4200

enum afile_flags {
    AFILE_DASH = 1,   /* "-" means standard output */
};

struct afile {
    FILE *f;
    int through;                 /* written in place: no temporary, no rename */
    int published;               /* renamed into place, still open (afile_publish) */
    char target[AFILE_PATH_MAX]; /* the file replaced: the path with links followed */
    char tmp[AFILE_PATH_MAX];    /* the temporary file, "" when none */
    const char *name;            /* the path as given, for messages */
};

/* Would afile_open succeed? The directory exists and is writable, the target
 * is not a directory, a device or FIFO is writable. Writes nothing. */
int afile_check(const char *path, unsigned flags, struct err *e);

/* Do a and b, links followed, name one regular file, existing or not yet
 * (the same name in the same directory, however spelt: a, ./a, a link to
 * it)? Devices and descriptors are never "the same file": several outputs
 * may go to /dev/null. */
int afile_same(const char *a, const char *b);

int afile_open(struct afile *a, const char *path, unsigned flags, struct err *e);
/* finish, put into place and close; on any write error the target is untouched */
int afile_commit(struct afile *a, struct err *e);
/* put what was written so far into place and keep a->f open to append (a log
 * that grows line by line: metrics); finish with afile_close */
int afile_publish(struct afile *a, struct err *e);
int afile_close(struct afile *a, struct err *e);
/* give up: close, remove the temporary file */
void afile_abort(struct afile *a);

#endif
