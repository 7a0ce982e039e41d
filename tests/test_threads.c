/* Threads and the machine, black-box: no variable of the OpenMP runtime
 * changes a number (training, evaluation with --load, --predict), a team
 * OpenMP cannot give is refused before the work, and --threads 0 sizes the
 * team from the CPUs this process may use. Each test sets the variables on
 * the real binary and compares its output bytes with a plain run's. */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

static char *dir;

/* 28x28 images: the hidden layer's products are large enough to be split
 * between the threads (DENSE_SERIAL_MACS) */
static int setup(void **state)
{
    (void)state;
    dir = tmpdir_make();
    write_synthetic_mnist(dir, 512, 256, 28);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

/* what one run leaves: its exit code, stderr, and the bytes of out_file
 * (or of stdout when out_file is NULL) */
struct result {
    int rc;
    char *err;
    uint8_t *bytes;
    size_t len;
};

static struct result run_env(const char *env, const char *out_file, const char *const *args)
{
    /* env: "NAME=VALUE NAME=VALUE", set for this run only */
    char copy[256], *names[8];
    int n = 0;
    snprintf(copy, sizeof copy, "%s", env);
    for (char *save, *v = strtok_r(copy, " ", &save); v && n < 8; v = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(v, '=');
        *eq = 0;
        setenv(v, eq + 1, 1);
        names[n++] = v;
    }
    if (out_file)
        unlink(out_file);
    struct result r = {0};
    char *out;
    r.rc = run_train(args, &out, &r.err);
    for (int i = 0; i < n; i++)
        unsetenv(names[i]);
    if (out_file) {
        free(out);
        if (access(out_file, F_OK) == 0)
            r.bytes = slurp_bytes(out_file, &r.len);
    } else {
        r.bytes = (uint8_t *)out;
        r.len = strlen(out);
    }
    return r;
}

static void result_free(struct result *r)
{
    free(r->err);
    free(r->bytes);
}

/* the three entry points that run the network: training (the saved model),
 * evaluation of a saved model (its predictions file), --predict (stdout) */
enum { TRAIN, EVALUATE, PREDICT };

static struct result entry(int which, const char *env, const char *model)
{
    char m[1024], p[1024], images[1024];
    snprintf(m, sizeof m, "%s", path_in(dir, "m.bin"));
    snprintf(p, sizeof p, "%s", path_in(dir, "p.csv"));
    snprintf(images, sizeof images, "%s", path_in(dir, "t10k-images-idx3-ubyte.gz"));
    const char *train[] = {"--data-dir", dir, "--epochs", "1", "--threads", "2", "--quiet",
                           "--save", m, NULL};
    const char *evaluate[] = {"--data-dir", dir, "--load", model, "--epochs", "0", "--quiet",
                              "--threads", "2", "--predictions", p, NULL};
    const char *predict[] = {"--load", model, "--threads", "2", "--predict", images, NULL};
    return which == TRAIN      ? run_env(env, m, train)
           : which == EVALUATE ? run_env(env, p, evaluate)
                               : run_env(env, NULL, predict);
}

/* Each variable (or pair) against a plain run, at each entry point: the
 * same bytes, or a refusal naming the variable (64) with nothing written.
 * OMP_THREAD_LIMIT=1 and OMP_MAX_ACTIVE_LEVELS=0 give a oneDNN product
 * planned for two threads a team of one on today's main (part of each batch
 * never computed); OMP_DYNAMIC does the same on a busy machine. */
static void openmp_environment_never_changes_a_number(void **state)
{
    (void)state;
    static const char *const envs[] = {
        "OMP_DYNAMIC=true",
        "OMP_DYNAMIC=true OMP_NUM_THREADS=64",
        "OMP_THREAD_LIMIT=1",
        "OMP_THREAD_LIMIT=2",
        "OMP_MAX_ACTIVE_LEVELS=0",
        "OMP_NESTED=false",
        "OMP_NUM_THREADS=1",
        "OMP_NUM_THREADS=4,2 OMP_MAX_ACTIVE_LEVELS=2",
        "OMP_NUM_THREADS=70000",
        "OMP_STACKSIZE=100G",
        "GOMP_STACKSIZE=1",
        "OMP_PROC_BIND=true OMP_PLACES={0}",
        "GOMP_CPU_AFFINITY=0",
        "OMP_WAIT_POLICY=active GOMP_SPINCOUNT=infinite",
        "OMP_SCHEDULE=dynamic,1",
        "OMP_TEAMS_THREAD_LIMIT=1 OMP_NUM_TEAMS=1",
    };
    struct result plain = entry(TRAIN, "", NULL);
    if (plain.rc)
        fail_msg("plain training: exit %d: %s", plain.rc, plain.err);
    /* the model the other two read: the plain one, kept apart */
    char model[1024];
    snprintf(model, sizeof model, "%s", path_in(dir, "plain.bin"));
    write_bytes(model, plain.bytes, plain.len);
    struct result ref[3] = {plain, entry(EVALUATE, "", model), entry(PREDICT, "", model)};
    for (int w = 1; w < 3; w++)
        if (ref[w].rc || !ref[w].len)
            fail_msg("plain entry %d: exit %d: %s", w, ref[w].rc, ref[w].err);
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++)
        for (int w = 0; w < 3; w++) {
            struct result r = entry(w, envs[i], model);
            if (r.rc == 64 && strstr(envs[i], "OMP_THREAD_LIMIT") &&
                strstr(r.err, "OMP_THREAD_LIMIT") && !r.len) {
                result_free(&r);
                continue;
            }
            if (r.rc || r.len != ref[w].len || memcmp(r.bytes, ref[w].bytes, r.len))
                fail_msg("%s, entry %d: exit %d, %zu bytes (plain: %zu), %s", envs[i], w, r.rc,
                         r.len, ref[w].len, r.err);
            result_free(&r);
        }
    /* a limit the planned team fits in runs; one it does not is refused */
    struct result r = entry(TRAIN, "OMP_THREAD_LIMIT=1", NULL);
    assert_int_equal(r.rc, 64);
    assert_non_null(strstr(r.err, "train: threads: this run uses 2 threads, but OMP_THREAD_LIMIT "
                                  "lets OpenMP start at most 1"));
    result_free(&r);
    for (int w = 0; w < 3; w++)
        result_free(&ref[w]);
}

/* the runtime's variables are read before the arguments: --version and
 * --help start no team at all, whatever they say */
static void no_team_before_the_arguments(void **state)
{
    (void)state;
    const char *version[] = {"--version", NULL}, *help[] = {"--help", NULL};
    for (int k = 0; k < 2; k++) {
        struct result r = run_env(k ? "OMP_NUM_THREADS=70000" : "OMP_NUM_THREADS=100000000",
                                  NULL, k ? version : help);
        if (r.rc)
            fail_msg("exit %d: %s", r.rc, r.err);
        result_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openmp_environment_never_changes_a_number),
        cmocka_unit_test(no_team_before_the_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
