#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_open(struct atomic_file *a, const char *path, struct err *e)
{
    a->path = path;
    a->f = NULL;
    if (snprintf(a->tmp, sizeof a->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof a->tmp)
        return err_set(e, ERR_USAGE, "%s: path too long", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        return err_set(e, errno == ENOENT ? ERR_NOINPUT : ERR_IO, "%s: %s", path, strerror(errno));
    /* mkstemp makes the file 0600; give it the mode any new file would get */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    a->f = fdopen(fd, "w");
    if (!a->f) {
        close(fd);
        unlink(a->tmp);
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

static void sync_dir(const char *path)
{
    char copy[4200];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int atomic_commit(struct atomic_file *a, struct err *e)
{
    int bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
    int saved = errno;
    if (fclose(a->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    a->f = NULL;
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        unlink(a->tmp);
        return err_set(e, ERR_IO, "%s: %s", a->path, strerror(saved ? saved : EIO));
    }
    sync_dir(a->path);
    return 0;
}

void atomic_abort(struct atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
