#define _GNU_SOURCE
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

static void die(const char *what)
{
    perror(what);
    exit(99);
}

char *test_dir;

/* TEST_FILTER=name (a cmocka pattern: * and ?) runs only those tests of any
 * suite, set before main */
__attribute__((constructor)) static void test_filter(void)
{
    const char *f = getenv("TEST_FILTER");
    if (f && *f)
        cmocka_set_test_filter(f);
}

int setup_dir(void **state)
{
    (void)state;
    test_dir = tmpdir_make();
    return 0;
}

int setup_synthetic_dir(void **state)
{
    setup_dir(state);
    write_synthetic_mnist(test_dir, 600, 200, 10);
    return 0;
}

int teardown_dir(void **state)
{
    (void)state;
    tmpdir_remove(test_dir);
    test_dir = NULL;
    return 0;
}

char *tmpdir_make(void)
{
    char tmpl[] = "/tmp/train-test.XXXXXX";
    if (!mkdtemp(tmpl))
        die("mkdtemp");
    return strdup(tmpl);
}

void tmpdir_remove(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

const char *path_in(const char *dir, const char *name)
{
    static char buf[8][1024];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

void write_gz(const char *path, const void *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    if (!f || (n && gzwrite(f, data, (unsigned)n) != (int)n) || gzclose(f) != Z_OK)
        die(path);
}

size_t idx_bytes(uint8_t **out, int ndims, const uint32_t *dims, const uint8_t *payload)
{
    size_t items = 1;
    for (int i = 0; i < ndims; i++)
        items *= dims[i];
    size_t n = 4 + 4 * (size_t)ndims + items;
    uint8_t *b = malloc(n);
    b[0] = b[1] = 0;
    b[2] = 0x08;
    b[3] = (uint8_t)ndims;
    for (int i = 0; i < ndims; i++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * i + k] = (uint8_t)(dims[i] >> (24 - 8 * k));
    if (payload)
        memcpy(b + 4 + 4 * ndims, payload, items);
    else
        memset(b + 4 + 4 * ndims, 0, items);
    *out = b;
    return n;
}

static void synthetic_set(const char *dir, const char *img, const char *lab, uint32_t n,
                          int side, uint32_t salt)
{
    size_t dim = (size_t)side * side;
    uint8_t *x = malloc(n * dim), *y = malloc(n);
    uint32_t s = 12345u + salt;
    for (uint32_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 10);
        for (size_t p = 0; p < dim; p++) {
            s = s * 1103515245u + 12345u;
            int band = (int)(p / (size_t)side) * 10 / side;   /* row band 0..9 */
            x[i * dim + p] = (uint8_t)((band == y[i] ? 160 : 0) + (s >> 24) % 64);
        }
    }
    uint32_t dims[3] = {n, (uint32_t)side, (uint32_t)side};
    uint8_t *b;
    size_t len = idx_bytes(&b, 3, dims, x);
    write_gz(path_in(dir, img), b, len);
    free(b);
    len = idx_bytes(&b, 1, dims, y);
    write_gz(path_in(dir, lab), b, len);
    free(b);
    free(x);
    free(y);
}

void write_synthetic_mnist(const char *dir, uint32_t n_train, uint32_t n_test, int side)
{
    synthetic_set(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", n_train,
                  side, 0);
    synthetic_set(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", n_test, side,
                  7);
}

double grad_check(double (*f)(void *ctx), void *ctx, float *params, const float *grad, size_t n,
                  double eps, double *max_grad)
{
    double worst = 0;
    *max_grad = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = params[i];
        params[i] = keep + (float)eps;
        double up = f(ctx);
        params[i] = keep - (float)eps;
        double down = f(ctx);
        params[i] = keep;
        double num = (up - down) / (2 * eps);
        double err = fabs(num - grad[i]) / fmax(1e-2, fabs(num) + fabs(grad[i]));
        worst = fmax(worst, err);
        *max_grad = fmax(*max_grad, fabs(grad[i]));
    }
    return worst;
}

/* A file's whole content, read by pread from offset 0: the file offset,
 * shared with a child that may still be writing, never moves. */
/* the whole content of fd from its start, NUL-ended; *len its length */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = pread(fd, buf + n, cap - n - 1, (off_t)n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

char *slurp_fd(int fd)
{
    size_t n;
    return read_all(fd, &n);
}

uint8_t *slurp_bytes(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_msg("%s: cannot open: %s", path, strerror(errno));
    uint8_t *buf = (uint8_t *)read_all(fd, len);
    close(fd);
    return buf;
}

char *slurp_text(const char *path)
{
    static char *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    free(buf);
    buf = slurp_fd(fd);
    close(fd);
    return buf;
}

int sh(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd)
        fail_msg("sh: a command of %d bytes", n);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int export_test_bins(void)
{
    const char *var[] = {"TRAIN", "COMPARE", "GENDOC"};
    const char *bin[] = {train_bin(), compare_bin(), gendoc_bin()};
    for (int i = 0; i < 3; i++) {
        char abs[4096];
        if (!realpath(bin[i], abs)) {
            fprintf(stderr, "no %s: build it first (make check or make asan builds what they run)\n",
                    bin[i]);
            return -1;
        }
        setenv(var[i], abs, 1);
    }
    return 0;
}

void default_signals(void)
{
    const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

/* fork and exec prog with args, stdout to stdout_path or ofd, stderr to efd */
static pid_t start_prog(const char *prog, const char *const *args, const char *stdout_path, int ofd,
                        int efd)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int target = stdout_path ? open(stdout_path, O_WRONLY) : ofd;
        if (target < 0)
            _exit(98);
        dup2(target, 1);
        dup2(efd, 2);
        default_signals();
        const char *argv[64] = {prog};
        int n = 1;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(prog, (char *const *)argv);
        _exit(97);
    }
    return pid;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Whether process pid sleeps in an open(): /proc/PID/syscall starts with the
 * number of the call it is blocked in ("running" when it is not blocked).
 * -1: this machine does not say (no such file, or reading it is not allowed,
 * as where ptrace is locked down). */
static int blocked_in_open(pid_t pid)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return kill(pid, 0) == 0 ? -1 : 0;   /* alive, but not readable */
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    long nr = strtol(buf, NULL, 10);
    return (buf[0] >= '0' && buf[0] <= '9') && (nr == SYS_openat
#ifdef SYS_open
                                               || nr == SYS_open
#endif
                                               );
}

/* With marker: once stdout holds it n times (marker "open()": once the
 * child waits in an open), send sig (*signalled: whether the child still
 * ran). Without: sig after delay_ms, if sig. */
static int run_prog_full(const char *prog, const char *const *args, const char *stdout_path,
                         int delay_ms, int sig, const char *marker, int n, int *signalled,
                         char **out, char **err)
{
    char outf[] = "/tmp/train-out.XXXXXX", errf[] = "/tmp/train-err.XXXXXX";
    int ofd = mkstemp(outf), efd = mkstemp(errf);
    if (ofd < 0 || efd < 0)
        die("mkstemp");
    pid_t pid = start_prog(prog, args, stdout_path, ofd, efd);
    int status, reaped = 0;
    if (marker) {
        /* poll the output the child writes; it flushes each line */
        const struct timespec tick = {0, 2000000L};
        int in_open = !strcmp(marker, "open()");
        for (long polls = 0;; polls++) {
            int seen;
            if (in_open) {
                seen = blocked_in_open(pid);
                if (seen < 0) {   /* cannot tell: a second and a half, as a time */
                    const struct timespec wait = {1, 500000000L};
                    nanosleep(&wait, NULL);
                    seen = 1;
                }
                if (!seen && polls > 60000) {   /* 120 s of 2 ms ticks */
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    fail_msg("the run never waited in an open()");
                }
            } else {
                char *o = slurp_fd(ofd);
                seen = count_of(o, marker) >= n;
                free(o);
            }
            if (seen)
                break;
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                reaped = 1;
                break;
            }
            if (w < 0 && errno != EINTR)
                die("waitpid");
            nanosleep(&tick, NULL);
        }
        *signalled = !reaped;
        if (!reaped)
            kill(pid, sig);
    } else if (sig) {
        /* the signal after delay_ms, unless the child ended before */
        const struct timespec tick = {0, 1000000L};
        for (int ms = 0; ms < delay_ms && !reaped; ms++) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w < 0 && errno != EINTR)
                die("waitpid");
            reaped = w == pid;
            if (!reaped)
                nanosleep(&tick, NULL);
        }
        if (!reaped)
            kill(pid, sig);
    }
    while (!reaped && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    *out = slurp_fd(ofd);
    *err = slurp_fd(efd);
    close(ofd);
    close(efd);
    unlink(outf);
    unlink(errf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run_prog_to(const char *prog, const char *const *args, const char *stdout_path,
                       char **out, char **err)
{
    return run_prog_full(prog, args, stdout_path, 0, 0, NULL, 0, NULL, out, err);
}

static const char *bin_or(const char *var, const char *dflt)
{
    const char *b = getenv(var);
    return b && *b ? b : dflt;
}

const char *train_bin(void) { return bin_or("TRAIN_BIN", "./train"); }
const char *compare_bin(void) { return bin_or("COMPARE_BIN", "build/bin/compare"); }
const char *gendoc_bin(void) { return bin_or("GENDOC_BIN", "build/bin/gendoc"); }
const char *bench_bin(void) { return bin_or("BENCH_BIN", "build/bin/bench"); }

int run_train_signal(const char *const *args, int delay_ms, int sig, char **out, char **err)
{
    return run_prog_full(train_bin(), args, NULL, delay_ms, sig, NULL, 0, NULL, out, err);
}

int run_train_signal_at(const char *const *args, const char *marker, int n, int sig,
                        int *signalled, char **out, char **err)
{
    return run_prog_full(train_bin(), args, NULL, 0, sig, marker, n, signalled, out, err);
}

int interrupted_at(const char *err, unsigned *epoch, unsigned *batch)
{
    const char *at = strstr(err, "train: interrupted at epoch");
    if (!at)
        return 0;
    return sscanf(at, "train: interrupted at epoch %u, batch %u", epoch, batch) == 2 ? 1 : -1;
}

int run_train_signal_in_open(const char *const *args, int sig, char **out, char **err)
{
    int signalled;
    return run_prog_full(train_bin(), args, NULL, 0, sig, "open()", 1, &signalled, out, err);
}

int run_train_to(const char *const *args, const char *stdout_path, char **out, char **err)
{
    return run_prog_to(train_bin(), args, stdout_path, out, err);
}

int run_train(const char *const *args, char **out, char **err)
{
    return run_prog_to(train_bin(), args, NULL, out, err);
}

char *run_train_ok(const char *const *args)
{
    char *out, *err;
    int rc = run_train(args, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    free(err);
    return out;
}

const char *trained_model(const char *name, const char *const *args)
{
    static char path[8][4096];
    static int used;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", test_dir, name);
    int i = 0;
    while (i < used && strcmp(path[i], p))
        i++;
    if (i == used) {
        if (used == 8)
            fail_msg("trained_model: more than 8 models");
        snprintf(path[used++], sizeof path[0], "%s", p);
    }
    if (access(path[i], F_OK) == 0)
        return path[i];
    const char *a[64];
    int n = 0;
    while (args[n] && n < 61) {
        a[n] = args[n];
        n++;
    }
    a[n] = "--save", a[n + 1] = path[i], a[n + 2] = NULL;
    free(run_train_ok(a));
    return path[i];
}

int run_prog(const char *prog, const char *const *args, char **out, char **err)
{
    return run_prog_to(prog, args, NULL, out, err);
}

int json_lines(char *out, cJSON **lines, int max)
{
    int n = 0;
    for (char *save, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        assert_true(n < max);
        lines[n] = cJSON_Parse(l);
        if (!lines[n])
            fail_msg("not JSON: %s", l);
        n++;
    }
    return n;
}

double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number \"%s\"", key);
    return v->valuedouble;
}

char *json_without_times(char *out)
{
    cJSON *l[256];
    int n = json_lines(out, l, 256);
    size_t cap = 1 << 20, used = 0;
    char *s = calloc(1, cap);
    const char *timing[] = {"seconds", "samples_per_second", "train_seconds", "load_seconds"};
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof timing / sizeof timing[0]; k++)
            cJSON_DeleteItemFromObject(l[i], timing[k]);
        char *t = cJSON_PrintUnformatted(l[i]);
        used += (size_t)snprintf(s + used, cap - used, "%s\n", t);
        cJSON_free(t);
        cJSON_Delete(l[i]);
    }
    return s;
}

/* $MNIST_DIR, else data/mnist, when it holds the training images; NULL otherwise */
const char *mnist_dir(void)
{
    const char *env = getenv("MNIST_DIR");
    const char *d = env && *env ? env : "data/mnist";
    struct stat st;
    char p[1024];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", d);
    if (stat(p, &st) == 0)
        return d;
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", d);
    return stat(p, &st) == 0 ? d : NULL;
}

static char *subset_dir;

static void subset_remove(void)
{
    if (subset_dir)
        tmpdir_remove(subset_dir);
    subset_dir = NULL;
}

/* the first n items of IDX file src (header of hdr bytes, items of `item`
 * bytes), as a gzip file dst whose header says n */
static void idx_head(const char *src, const char *dst, size_t hdr, uint32_t n, size_t item)
{
    gzFile in = gzopen(src, "rb");
    if (!in)
        fail_msg("%s: cannot open", src);
    size_t len = hdr + (size_t)n * item;
    uint8_t *b = malloc(len);
    if (gzread(in, b, (unsigned)len) != (int)len)
        fail_msg("%s: fewer than %u items", src, n);
    gzclose(in);
    for (int k = 0; k < 4; k++)
        b[4 + k] = (uint8_t)(n >> (24 - 8 * k));
    gzFile out = gzopen(dst, "wb1");
    if (!out || gzwrite(out, b, (unsigned)len) != (int)len || gzclose(out) != Z_OK)
        die(dst);
    free(b);
}

const char *mnist_subset(uint32_t n_train)
{
    static uint32_t made;
    const char *m = mnist_dir();
    if (!m)
        return NULL;
    if (subset_dir && made == n_train)
        return subset_dir;
    if (!subset_dir)
        atexit(subset_remove);
    subset_remove();
    subset_dir = tmpdir_make();
    made = n_train;
    char abs[4096], src[4200];
    if (!realpath(m, abs))
        fail_msg("%s: cannot resolve", m);
    const char *set[][2] = {{"train-images-idx3-ubyte", "16"}, {"train-labels-idx1-ubyte", "8"}};
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, "%s/%s.gz", abs, set[i][0]);
        if (access(src, R_OK) != 0)
            snprintf(src, sizeof src, "%s/%s", abs, set[i][0]);
        char dst[4200];
        snprintf(dst, sizeof dst, "%s/%s.gz", subset_dir, set[i][0]);
        idx_head(src, dst, (size_t)atoi(set[i][1]), n_train, i ? 1 : 784);
    }
    const char *test[] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 2; i++)
        for (int gz = 0; gz < 2; gz++) {
            snprintf(src, sizeof src, "%s/%s%s", abs, test[i], gz ? ".gz" : "");
            if (access(src, R_OK) == 0 && symlink(src, path_in(subset_dir, strrchr(src, '/') + 1)))
                die("symlink");
        }
    return subset_dir;
}
