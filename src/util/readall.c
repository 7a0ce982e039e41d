#include "readall.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int readall(const char *path, size_t max, unsigned flags, const char *what, char **buf,
            size_t *len, struct err *e)
{
    *buf = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return err_set(e, ERR_NOINPUT, "%s: is a directory, not %s", path, what);
    if ((flags & READALL_REGULAR) && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return err_set(e, ERR_NOINPUT, "%s: not a regular file", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_NOINPUT, "%s: %s", path, strerror(errno));
    /* the file opened, not the name asked about before */
    if ((flags & READALL_REGULAR) && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return err_set(e, ERR_NOINPUT, "%s: not a regular file", path);
    }
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && (uint64_t)st.st_size > max) {
        close(fd);
        return err_set(e, ERR_DATA, "%s: larger than %zu bytes; not %s", path, max, what);
    }
    /* a regular file's size, and one more byte to see its end; a pipe grows */
    size_t cap = regular ? (size_t)st.st_size + 1 : (max < 65536 ? max + 1 : 65536);
    char *b = malloc(cap + 1);
    int rc = b ? 0 : err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
    size_t n = 0;
    while (!rc) {
        if (n == cap) {
            if (n > max) {
                rc = err_set(e, ERR_DATA, "%s: larger than %zu bytes; not %s", path, max, what);
                break;
            }
            size_t next = cap > (max + 1) / 2 ? max + 1 : 2 * cap;
            char *p = realloc(b, next + 1);
            if (!p) {
                rc = err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
                break;
            }
            b = p;
            cap = next;
        }
        /* EINTR is an error too: a signal ends the read (interrupt_settle) */
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0)
            rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        else if (got == 0)
            break;
        else
            n += (size_t)got;
    }
    close(fd);
    if (rc) {
        free(b);
        return rc;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}
