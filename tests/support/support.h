/* Test support: fixture files, a finite-difference gradient checker, and a
 * black-box runner for the ./train binary. */
#ifndef SUPPORT_H
#define SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The binaries under test: $TRAIN_BIN (a sanitizer build, say), else ./train;
 * $COMPARE_BIN, $GENDOC_BIN, $BENCH_BIN, else build/bin/compare, gendoc, bench
 * (the targets that run the suites build them: make check, make asan) */
const char *train_bin(void);
const char *compare_bin(void);
const char *gendoc_bin(void);
const char *bench_bin(void);
/* the real MNIST for the end-to-end tests: $MNIST_DIR, else data/mnist;
 * NULL when the training images are not there (the test skips) */
const char *mnist_dir(void);
/* The first n_train training images of that MNIST and all its test images,
 * in a temporary folder made once per process (removed at exit): every run
 * that uses --limit-train n_train or less trains on the same images, and
 * reads only those instead of all 60,000. NULL without MNIST. */
const char *mnist_subset(uint32_t n_train);
/* the whole content of an open file, from its start (malloc'd, NUL-ended) */
char *slurp_fd(int fd);
/* the whole content of the file at path and its length, in a malloc'd
 * buffer (NUL-ended, for text); a file that cannot be opened fails the test */
uint8_t *slurp_bytes(const char *path, size_t *len);
/* the whole content of the file at path, NUL-ended, in a buffer the next
 * call reuses (copy what must outlive it); NULL when it cannot be opened */
char *slurp_text(const char *path);
/* system() of a printf-formatted command: its exit status, -1 when it did
 * not exit (a command longer than the buffer fails the test) */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* TRAIN, COMPARE and GENDOC in the environment: the absolute binaries under
 * test (a sanitizer build under make asan), for the scripts a suite runs,
 * which never build or look for their own. -1 (and why, on stderr) when one
 * is missing. */
int export_test_bins(void);

/* cmocka group fixtures: test_dir is a fresh temporary directory, holding a
 * synthetic digit set (600 training, 200 test images of 10x10) for
 * setup_synthetic_dir; teardown_dir removes it. */
extern char *test_dir;
int setup_dir(void **state);
int setup_synthetic_dir(void **state);
int teardown_dir(void **state);

/* Run ./train with the arguments; fail the test unless it exits with code.
 * out and err receive its stdout and stderr (free them). */
#define RUN(code, out, err, ...)                                                        \
    do {                                                                                \
        const char *args_[] = {__VA_ARGS__, NULL};                                      \
        int rc_ = run_train(args_, &out, &err);                                         \
        if (rc_ != (code))                                                              \
            fail_msg("exit %d, expected %d; stderr: %s", rc_, code, err);               \
    } while (0)

/* Run ./train with the arguments; fail the test unless it exits 0 (with its
 * stderr in the message). Returns its stdout (free it); stderr is freed. */
#define RUN_OK(...) run_train_ok((const char *const[]){__VA_ARGS__, NULL})
char *run_train_ok(const char *const *args);

/* test_dir/NAME: the model train saves there with the arguments (and --save),
 * trained the first time a test asks for it in this test_dir, so that the
 * tests sharing it may run alone or in any order. The path stays valid. */
#define TRAINED_MODEL(name, ...) trained_model(name, (const char *const[]){__VA_ARGS__, NULL})
const char *trained_model(const char *name, const char *const *args);

/* A fresh temporary directory (removed by tmpdir_remove). */
char *tmpdir_make(void);
void tmpdir_remove(char *dir);
/* "dir/name" in a static rotating buffer */
const char *path_in(const char *dir, const char *name);

void write_bytes(const char *path, const void *data, size_t n);
void write_gz(const char *path, const void *data, size_t n);   /* one gzip member */
void write_text(const char *path, const char *text);

/* An IDX file image: magic 0x08nn with ndims dims, then the payload. Returns
 * its size; *out is malloc'd. */
size_t idx_bytes(uint8_t **out, int ndims, const uint32_t *dims, const uint8_t *payload);

/* A small synthetic digit set, learnable by an MLP: image of class c lights
 * up a class-specific band plus noise. Writes the four files with .gz into dir. */
void write_synthetic_mnist(const char *dir, uint32_t n_train, uint32_t n_test, int side);

/* Finite-difference check: f(ctx) is the loss at the current params; grad holds
 * the analytic gradient for the same point. Returns the largest relative error
 * over the checked entries and stores the largest |grad| in *max_grad so a
 * check cannot pass on an all-zero gradient. */
double grad_check(double (*f)(void *ctx), void *ctx, float *params, const float *grad, size_t n,
                  double eps, double *max_grad);

/* Run ./train (or $TRAIN_BIN) with argv (NULL-ended, without the program name); capture stdout
 * and stderr (malloc'd, NUL-terminated). Returns the exit status, or -1 when
 * it did not exit normally. stdout_path, if not NULL, replaces the pipe. */
int run_train(const char *const *args, char **out, char **err);
int run_train_to(const char *const *args, const char *stdout_path, char **out, char **err);
/* Run ./train and send it sig after delay_ms milliseconds, if it still runs
 * then (so a long delay costs nothing when it is only a guard against a hang). */
int run_train_signal(const char *const *args, int delay_ms, int sig, char **out, char **err);
/* In a forked child before exec: the signals a test sends at their defaults,
 * as from a terminal, whatever the test runner inherited (under nohup SIGHUP
 * is ignored, and train keeps a hangup ignored as nohup asks: a test's
 * SIGHUP would never stop the run) */
void default_signals(void);
/* Run ./train and send it sig as soon as its stdout holds `marker` n times
 * (an event of the run, not a time: the verdict does not depend on the
 * machine's load); *signalled says whether it was still running then.
 * Returns the exit status, -1 when it did not exit normally. */
int run_train_signal_at(const char *const *args, const char *marker, int n, int sig,
                        int *signalled, char **out, char **err);
/* From train's stderr: 1 and the epoch and batch of "interrupted at epoch
 * E, batch B" (a signal inside an epoch), 0 when it names no batch (between
 * epochs, or another phase), -1 when the line is there but not whole. */
int interrupted_at(const char *err, unsigned *epoch, unsigned *batch);
/* Run ./train and send it sig once it waits in an open() (a FIFO with no
 * reader or writer): an event, not a time, as above. Returns the exit status,
 * -1 when it did not exit normally; fails the test when it never waits there
 * in 120 s. */
int run_train_signal_in_open(const char *const *args, int sig, char **out, char **err);
/* the same for another program */
int run_prog(const char *prog, const char *const *args, char **out, char **err);

/* Parse each line of out (modified in place) as JSON into lines[]; fails the
 * test on a line that is not JSON. Returns the number of lines. */
struct cJSON;
int json_lines(char *out, struct cJSON **lines, int max);
/* the number under key, failing the test when there is none */
double json_num(const struct cJSON *o, const char *key);
/* --json output with the wall-clock fields removed, for determinism checks */
char *json_without_times(char *out);

#endif
