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

const char *test_bins(void)
{
    static char buf[3 * 4096 + 48];
    const char *c = getenv("COMPARE_BIN"), *g = getenv("GENDOC_BIN");
    char t[4096], k[4096], d[4096];
    if (!realpath(train_bin(), t) || !realpath(c && *c ? c : "build/bin/compare", k) ||
        !realpath(g && *g ? g : "build/bin/gendoc", d))
        fail_msg("no %s, compare or gendoc binary", train_bin());
    snprintf(buf, sizeof buf, "TRAIN=%s COMPARE=%s GENDOC=%s", t, k, d);
    return buf;
}

static int run_prog_full(const char *prog, const char *const *args, const char *stdout_path,
                         int delay_ms, int sig, char **out, char **err)
{
    char outf[] = "/tmp/train-out.XXXXXX", errf[] = "/tmp/train-err.XXXXXX";
    int ofd = mkstemp(outf), efd = mkstemp(errf);
    if (ofd < 0 || efd < 0)
        die("mkstemp");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int target = stdout_path ? open(stdout_path, O_WRONLY) : ofd;
        if (target < 0)
            _exit(98);
        dup2(target, 1);
        dup2(efd, 2);
        const char *argv[64] = {prog};
        int n = 1;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(prog, (char *const *)argv);
        _exit(97);
    }
    if (sig) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, sig);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
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
    return run_prog_full(prog, args, stdout_path, 0, 0, out, err);
}

const char *train_bin(void)
{
    const char *b = getenv("TRAIN_BIN");
    return b && *b ? b : "./train";
}

int run_train_signal(const char *const *args, int delay_ms, int sig, char **out, char **err)
{
    return run_prog_full(train_bin(), args, NULL, delay_ms, sig, out, err);
}

int run_train_to(const char *const *args, const char *stdout_path, char **out, char **err)
{
    return run_prog_to(train_bin(), args, stdout_path, out, err);
}

int run_train(const char *const *args, char **out, char **err)
{
    return run_prog_to(train_bin(), args, NULL, out, err);
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
