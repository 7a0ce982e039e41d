#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MAX_LINKS 40
#define PROC_SUPER_MAGIC 0x9fa0

enum kind { K_NEW, K_REGULAR, K_THROUGH, K_FD };

/* where a path leads, links followed */
struct where {
    enum kind kind;
    int fd;                    /* K_FD: the descriptor to write to */
    struct stat st;            /* K_REGULAR: the file replaced */
    char path[AFILE_PATH_MAX]; /* the final name (K_NEW, K_REGULAR, K_THROUGH) */
};

static int cant(struct err *e, const char *name, const char *what, int errnum)
{
    if (errnum)
        return err_set(e, ERR_CANTCREAT, "%s: %s: %s", name, what, strerror(errnum));
    return err_set(e, ERR_CANTCREAT, "%s: %s", name, what);
}

/* "dir" of "dir/name"; "." for a bare name, "/" for "/name" */
static void dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == path)
        snprintf(dir, n, "/");
    else
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

/* /dev/fd/N, /proc/self/fd/N, /proc/thread-self/fd/N, /proc/<our pid>/fd/N */
static int fd_alias(const char *path, int *fd)
{
    char own[64];
    snprintf(own, sizeof own, "/proc/%ld/fd/", (long)getpid());
    const char *prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", own};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], n) || !path[n])
            continue;
        char *end;
        errno = 0;
        long v = strtol(path + n, &end, 10);
        if (*end || errno || v < 0 || v > INT_MAX)
            return 0;
        *fd = (int)v;
        return 1;
    }
    return 0;
}

/* a link kept by procfs ("pipe:[123]", a deleted file): a name for an open
 * file, not a path to follow */
static int on_procfs(const char *path)
{
    char dir[AFILE_PATH_MAX];
    struct statfs fs;
    dir_of(path, dir, sizeof dir);
    return statfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

static int follow(struct where *w, const char *name, struct err *e)
{
    char link[AFILE_PATH_MAX], dir[AFILE_PATH_MAX];
    ssize_t n = readlink(w->path, link, sizeof link - 1);
    if (n < 0)
        return cant(e, name, "cannot read the link", errno);
    link[n] = 0;
    if (link[0] == '/') {
        snprintf(w->path, sizeof w->path, "%s", link);
        return 0;
    }
    dir_of(w->path, dir, sizeof dir);
    if (snprintf(w->path, sizeof w->path, "%s/%s", dir, link) >= (int)sizeof w->path)
        return cant(e, name, "path too long after following links", 0);
    return 0;
}

static int resolve(struct where *w, const char *name, unsigned flags, struct err *e)
{
    memset(w, 0, sizeof *w);
    if (!*name)
        return cant(e, "\"\"", "empty file name", 0);
    if ((flags & AFILE_DASH) && !strcmp(name, "-")) {
        w->kind = K_FD;
        w->fd = STDOUT_FILENO;
        return 0;
    }
    if (snprintf(w->path, sizeof w->path, "%s", name) >= (int)sizeof w->path - 16)
        return cant(e, name, "path too long", 0);
    for (int hops = 0; hops <= MAX_LINKS; hops++) {
        if (fd_alias(w->path, &w->fd)) {
            w->kind = K_FD;
            return 0;
        }
        struct stat st;
        if (lstat(w->path, &st) != 0) {
            if (errno != ENOENT)
                return cant(e, name, "cannot create", errno);
            w->kind = K_NEW;
            return 0;
        }
        if (S_ISLNK(st.st_mode)) {
            if (on_procfs(w->path)) {
                /* what the open file is decides, as for any other target */
                if (stat(w->path, &w->st) == 0 && S_ISDIR(w->st.st_mode))
                    return cant(e, name, "the link names a directory", 0);
                w->kind = K_THROUGH;
                return 0;
            }
            if (follow(w, name, e))
                return e->code;
            continue;
        }
        if (S_ISDIR(st.st_mode))
            return cant(e, name, hops ? "the link names a directory" : "is a directory", 0);
        w->kind = S_ISREG(st.st_mode) ? K_REGULAR : K_THROUGH;
        w->st = st;
        return 0;
    }
    return cant(e, name, "too many levels of symbolic links", 0);
}

/* the directory that will hold the temporary file exists and takes new files */
static int check_dir(const struct where *w, const char *name, struct err *e)
{
    char dir[AFILE_PATH_MAX], what[AFILE_PATH_MAX + 64];
    struct stat st;
    dir_of(w->path, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(what, sizeof what, "directory %s does not exist", dir);
        return cant(e, name, what, 0);
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(what, sizeof what, "cannot create files in %s", dir);
        return cant(e, name, what, errno);
    }
    /* in a sticky directory (/tmp) only a file's owner may rename over it */
    uid_t me = geteuid();
    if (w->kind == K_REGULAR && (st.st_mode & S_ISVTX) && me != 0 && w->st.st_uid != me &&
        st.st_uid != me) {
        snprintf(what, sizeof what, "belongs to another user in the sticky directory %s", dir);
        return cant(e, name, what, 0);
    }
    return 0;
}

static int check_where(const struct where *w, const char *name, struct err *e)
{
    switch (w->kind) {
    case K_FD: {
        int fl = fcntl(w->fd, F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
            return cant(e, name, "descriptor is not open for writing", fl < 0 ? errno : 0);
        return 0;
    }
    case K_THROUGH:
        if (S_ISSOCK(w->st.st_mode))
            return cant(e, name, "is a socket", 0);
        /* not opened here: opening a FIFO waits for its reader */
        return access(w->path, W_OK) != 0 ? cant(e, name, "cannot write", errno) : 0;
    case K_NEW:
    case K_REGULAR:
        return check_dir(w, name, e);
    }
    return 0;
}

/* the final name's directory and name: two new files are one when both match */
static int same_place(const char *a, const char *b)
{
    char da[AFILE_PATH_MAX], db[AFILE_PATH_MAX];
    struct stat sa, sb;
    dir_of(a, da, sizeof da);
    dir_of(b, db, sizeof db);
    const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
    na = na ? na + 1 : a;
    nb = nb ? nb + 1 : b;
    return !strcmp(na, nb) && stat(da, &sa) == 0 && stat(db, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int afile_same(const char *a, const char *b)
{
    struct where wa, wb;
    struct err ignored = {0};
    if (!*a || !*b || resolve(&wa, a, 0, &ignored) || resolve(&wb, b, 0, &ignored))
        return 0;
    if (wa.kind == K_REGULAR && wb.kind == K_REGULAR)
        return wa.st.st_dev == wb.st.st_dev && wa.st.st_ino == wb.st.st_ino;
    return wa.kind == K_NEW && wb.kind == K_NEW && same_place(wa.path, wb.path);
}

int afile_check(const char *path, unsigned flags, struct err *e)
{
    struct where w;
    if (resolve(&w, path, flags, e))
        return e->code;
    return check_where(&w, path, e);
}

static int open_through(struct afile *a, const struct where *w, struct err *e)
{
    int fd = w->kind == K_FD ? dup(w->fd) : open(w->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return cant(e, a->name, "cannot open for writing", errno);
    /* what train already printed on stdout comes first */
    fflush(stdout);
    a->through = 1;
    a->f = fdopen(fd, "w");
    if (!a->f) {
        close(fd);
        return cant(e, a->name, "cannot open for writing", errno);
    }
    return 0;
}

/* the new file's mode: an existing file's, else what any new file would get */
static void set_mode(int fd, const struct where *w)
{
    if (w->kind == K_REGULAR) {
        /* chown before chmod: a chown clears set-id bits */
        if (w->st.st_uid != geteuid() || w->st.st_gid != getegid())
            (void)!fchown(fd, w->st.st_uid, w->st.st_gid);
        fchmod(fd, w->st.st_mode & 07777);
        return;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

int afile_open(struct afile *a, const char *path, unsigned flags, struct err *e)
{
    memset(a, 0, sizeof *a);
    a->name = path;
    struct where w;
    if (resolve(&w, path, flags, e) || check_where(&w, path, e))
        return e->code;
    if (w.kind == K_FD || w.kind == K_THROUGH)
        return open_through(a, &w, e);
    snprintf(a->target, sizeof a->target, "%s", w.path);
    if (strlen(w.path) + sizeof ".tmp.XXXXXX" > sizeof a->tmp)
        return cant(e, path, "path too long", 0);
    memcpy(a->tmp, w.path, strlen(w.path));
    memcpy(a->tmp + strlen(w.path), ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        a->tmp[0] = 0;
        return cant(e, path, "cannot create", errno);
    }
    set_mode(fd, &w);
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int saved = errno;
        close(fd);
        afile_abort(a);
        return cant(e, path, "cannot create", saved);
    }
    return 0;
}

static void sync_dir(const char *path)
{
    char dir[AFILE_PATH_MAX];
    dir_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* flush (and for a real file, fsync) what was written; errno-style result */
static int flush_all(struct afile *a)
{
    errno = 0;
    if (fflush(a->f) != 0 || ferror(a->f))
        return errno ? errno : EIO;
    if (!a->through && fsync(fileno(a->f)) != 0)
        return errno;
    return 0;
}

static int io_error(struct afile *a, int errnum, struct err *e)
{
    return err_set(e, ERR_IO, "%s: %s", a->name, strerror(errnum ? errnum : EIO));
}

int afile_publish(struct afile *a, struct err *e)
{
    int bad = flush_all(a);
    if (!bad && !a->through && rename(a->tmp, a->target) != 0)
        bad = errno;
    if (bad) {
        afile_abort(a);
        return io_error(a, bad, e);
    }
    if (!a->through)
        sync_dir(a->target);
    a->tmp[0] = 0;
    a->published = 1;
    return 0;
}

int afile_close(struct afile *a, struct err *e)
{
    if (!a->f)
        return 0;
    int bad = flush_all(a);
    if (fclose(a->f) != 0 && !bad)
        bad = errno ? errno : EIO;
    a->f = NULL;
    return bad ? io_error(a, bad, e) : 0;
}

int afile_commit(struct afile *a, struct err *e)
{
    if (afile_publish(a, e))
        return e->code;
    return afile_close(a, e);
}

void afile_abort(struct afile *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    if (a->tmp[0])
        unlink(a->tmp);
    a->tmp[0] = 0;
}
