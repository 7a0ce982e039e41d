/* Limits of what train accepts and what it spends: the flag scanner (every
 * word is an option), non-finite numbers (divergence anywhere is an error,
 * never a published number or an overwritten model), bounded memory (lying
 * IDX headers, configs larger than the machine, --predict - streaming) and
 * signals in every phase. Each test builds its bad input itself. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "support/support.h"
#include "train/metrics.h"
#include "train/train.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = 0;
    return buf;
}

/* How a run ended: exit code (-1: killed), and seconds from the signal (or
 * the start) to its end. */
struct ended {
    int rc;
    double seconds;
    long max_rss_kb;
};

/* Run train with stdin from stdin_path (NULL: /dev/null); when sig, send it
 * once stderr contains `when` (a phase marker) or after delay_ms. */
static struct ended run_full(const char *const *args, const char *stdin_path, int delay_ms,
                             int sig, char **out, char **err)
{
    char outf[] = "/tmp/limits-out.XXXXXX", errf[] = "/tmp/limits-err.XXXXXX";
    int ofd = mkstemp(outf), efd = mkstemp(errf);
    assert_true(ofd >= 0 && efd >= 0);
    unlink(outf);
    unlink(errf);
    double t0 = now();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        if (in < 0)
            _exit(98);
        dup2(in, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        const char *argv[64] = {train_bin()};
        int n = 1;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(97);
    }
    if (sig) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        t0 = now();
        kill(pid, sig);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        assert_int_equal(errno, EINTR);
    struct ended r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, now() - t0, ru.ru_maxrss};
    *out = slurp_fd(ofd);
    *err = slurp_fd(efd);
    close(ofd);
    close(efd);
    return r;
}

/* ---- flags ---- */

/* each: the words, then the start of the expected message after "train: " */
static const char *const BAD_WORDS[][6] = {
    {"++epochs", "3", NULL, "++epochs: unexpected argument (options start with --: did you mean --epochs?)"},
    {"epochs", "3", NULL, "epochs: unexpected argument"},
    {"-epochs", "3", NULL, "-epochs: unexpected argument"},
    {"-x", NULL, "-x: unknown option"},
    {"-", NULL, "-: unexpected argument"},
    {"--", NULL, "--: unexpected argument"},
    {"--=5", NULL, "--=5: unexpected argument"},
    {"", NULL, "'': unexpected argument"},
    {"--print-config", "5", NULL, "5: unexpected argument"},
    /* short words after a flag once re-read that flag's name from a stale buffer */
    {"--epochs", "3", "-", "5", NULL, "-: unexpected argument"},
    {"--lr", "0.5", "", "0.1", NULL, "'': unexpected argument"},
    {"--lr", "0.5", "x", "0.1", NULL, "x: unexpected argument"},
    {"--lr", "0.5", "=", "0.1", NULL, "=: unexpected argument"},
    {"--epochs=", NULL, "--epochs: empty value"},
    {"--save=", NULL, "--save: empty value"},
    {"--no-lr", NULL, "--no-lr: unknown option (--lr is not a boolean"},
    {"--no-json=true", NULL, "--no-json: takes no value"},
    {"--no-", NULL, "--no-: unknown option"},
    {"--json", "true", NULL, "true: unexpected argument (a boolean takes --json=true)"},
    {"--json=yes", NULL, "--json: 'yes' is not true or false"},
    {"--help=1", NULL, "--help: takes no value"},
    {"--print-config=1", NULL, "--print-config: takes no value"},
    {"--batch_size", "3", NULL, "--batch_size: unknown option (did you mean --batch-size?)"},
    {"--EPOCHS", "3", NULL, "--EPOCHS: unknown option (did you mean --epochs?)"},
    {"--\xc3\xa9pochs", "3", NULL, "--\xc3\xa9pochs: unknown option (did you mean --epochs?)"},
    {"--ep\nochs", "3", NULL, "--ep?ochs: unknown option"},
    {"--epochsepochsepochsepochsepochsepochsepochsepochsepochsepochsepochsepochsepochs", NULL,
     "--" "epochsepochsepochsepochsepochsepochsepochsepochsepochsepochsepochsep...: unknown option"},
    {"--lr", "--epochs", "3", NULL, "--lr: missing value before --epochs (write --lr=VALUE"},
    {"--save", "--json", NULL, "--save: missing value before --json"},
    {"--lr", NULL, "--lr: missing value"},
    {"--config", "a.json", "--config", "b.json", NULL, "--config: given twice"},
    {"--config=", NULL, "--config: empty value"},
    {"--epochs", "3", "--epochs", "4x", NULL, "--epochs: '4x' is not an integer"},
    {"--lr=0.1=2", NULL, "--lr: '0.1=2' is not a finite number"},
};

static void every_word_is_an_option(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof BAD_WORDS / sizeof BAD_WORDS[0]; t++) {
        const char *args[8] = {NULL};
        int n = 0;
        for (; BAD_WORDS[t][n]; n++)
            args[n] = BAD_WORDS[t][n];
        const char *want = BAD_WORDS[t][n + 1];
        args[n] = NULL;
        char *out, *err;
        int rc = run_train(args, &out, &err);
        char expect[512];
        snprintf(expect, sizeof expect, "train: %s", want);
        if (rc != 64 || strncmp(err, expect, strlen(expect)) ||
            !strstr(err, "\nTry 'train --help' for more information.\n") || *out)
            fail_msg("case %zu (%s ...): exit %d, stderr \"%s\", stdout %zu bytes; expected 64 "
                     "and \"%s\"", t, args[0], rc, err, strlen(out), expect);
        free(out), free(err);
    }
}

/* what the scanner accepts, and how it reads it */
static void option_values(void **state)
{
    (void)state;
    char *out, *err;
    /* '=' splits at the first '='; a value may start with -- only after '=';
     * a single '-' is a value (stdin for --predict); the last of a repeated flag wins */
    RUN(0, out, err, "--print-config", "--predictions=a=b.csv", "--metrics=--m.csv",
        "--save", "-", "--lr", "0.5", "--lr=0.25", "--no-json", "--quiet=true", "--json",
        "--no-json");
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "predictions")->valuestring, "a=b.csv");
    assert_string_equal(cJSON_GetObjectItem(j, "metrics")->valuestring, "--m.csv");
    assert_string_equal(cJSON_GetObjectItem(j, "save")->valuestring, "-");
    assert_float_equal(cJSON_GetObjectItem(j, "lr")->valuedouble, 0.25, 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "json")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "quiet")));
    cJSON_Delete(j);
    free(out), free(err);
    /* a negative number is a value, not an option: the range check speaks */
    RUN(64, out, err, "--lr", "-1");
    assert_non_null(strstr(err, "train: --lr: -1 is out of range"));
    free(out), free(err);
}

/* ---- non-finite numbers ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *b = malloc(1 << 24);
    *len = fread(b, 1, 1 << 24, f);
    fclose(f);
    return b;
}

/* A run whose very last update makes the outputs non-finite (adam, lr 100,
 * one batch per epoch: the loss of that batch was still finite) is
 * divergence: exit 65, no summary, and the good model under --save stays. */
static void divergence_in_the_last_step(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "good.bin");
    RUN(0, out, err, "--data-dir", test_dir, "--epochs", "1", "--hidden", "16", "--save", m,
        "--quiet");
    free(out), free(err);
    size_t la, lb;
    uint8_t *before = slurp(m, &la);
    const char *deep = "64,64,64,64,64,64,64,64,64,64,64,64";
    RUN(65, out, err, "--data-dir", test_dir, "--limit-train", "64", "--batch-size", "64",
        "--epochs", "1", "--optimizer", "adam", "--lr", "100", "--hidden", deep, "--json",
        "--save", m, "--report", "--predictions", path_in(test_dir, "p.csv"));
    assert_non_null(strstr(err, "train: training diverged: the "));
    assert_non_null(strstr(err, "are not finite after epoch 1"));
    assert_null(strstr(out, "\"summary\""));
    assert_null(strstr(out, "null"));
    free(out), free(err);
    uint8_t *after = slurp(m, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(before, after, la);
    free(before), free(after);
    assert_int_equal(access(path_in(test_dir, "p.csv"), F_OK), -1);
}

/* evaluation refuses a model with a non-finite weight, whatever path led there */
static void non_finite_weights_fail_evaluation(void **state)
{
    (void)state;
    uint8_t x[20 * 4], y[20];
    for (int i = 0; i < 20; i++) {
        y[i] = (uint8_t)(i % 10);
        for (int p = 0; p < 4; p++)
            x[i * 4 + p] = (uint8_t)(i * 7 + p);
    }
    struct dataset d = {.n = 20, .rows = 2, .cols = 2, .dim = 4, .x = x, .y = y};
    struct config c;
    config_defaults(&c);
    c.hidden.n = 1;
    c.hidden.v[0] = 8;
    struct trainer t;
    struct err e = {0};
    assert_int_equal(trainer_init(&t, &c, &d, &(struct dataset){.dim = 4, .rows = 2, .cols = 2},
                                  &d, &e), 0);
    assert_int_equal(trainer_evaluate_test(&t, &e), 0);
    assert_true(isfinite(t.test_eval.loss));
    for (int k = 0; k < 3; k++) {
        float bad[] = {NAN, INFINITY, -INFINITY};
        size_t at[] = {0, t.model->n_params - 1, t.model->n_weights};
        t.model->params[at[k]] = bad[k];
        struct err e2 = {0};
        assert_int_equal(trainer_evaluate_test(&t, &e2), 65);
        assert_non_null(strstr(e2.msg, "weights are not finite"));
        assert_false(trainer_params_finite(t.model));
        t.model->params[at[k]] = 0.01f;
        assert_true(trainer_params_finite(t.model));
    }
    trainer_free(&t);
}

/* NaN confidences once indexed a bin through (int)NaN (UBSan: out of range) */
static void ece_of_nan_is_nan(void **state)
{
    (void)state;
    float conf[4] = {0.2f, NAN, 0.9f, 1.0f};
    uint8_t right[4] = {1, 0, 1, 1};
    assert_true(isnan(metrics_ece(conf, right, 4, 15)));
    float odd[4] = {-INFINITY, INFINITY, 1e30f, -0.0f};
    assert_true(isinf(metrics_ece(odd, right, 4, 15)));
    assert_true(isnan(metrics_ece(conf, right, 1, 0)));
    /* the defined case is unchanged: bins 3 (0.2), 13 (0.9), 14 (1.0) */
    float ok[3] = {0.2f, 0.9f, 1.0f};
    uint8_t r3[3] = {1, 0, 1};
    assert_float_equal(metrics_ece(ok, r3, 3, 15), (0.8 + 0.9 + 0.0) / 3, 1e-6);
}

static const char *compare_bin(void)
{
    const char *b = getenv("COMPARE_BIN");
    return b && *b ? b : "build/bin/compare";
}

static void write_compare_run(const char *dir, const char *name, const char *acc,
                              const char *strict, const char *seconds)
{
    char file[256], text[512];
    snprintf(file, sizeof file, "%s-seed1.jsonl", name);
    snprintf(text, sizeof text,
             "{\"type\":\"epoch\",\"epoch\":1,\"seconds\":%s}\n"
             "{\"type\":\"summary\",\"test_accuracy\":%s,\"report\":"
             "{\"strict_accuracy\":%s,\"ece\":0.01}}\n", seconds, acc, strict);
    write_text(path_in(dir, file), text);
    snprintf(file, sizeof file, "%s-seed1.pred.csv", name);
    write_text(path_in(dir, file), "index,label,prediction,p0\n0,1,1,0.5\n1,2,3,nan\n");
}

/* hand-edited result files: a number that is not finite or not a fraction is
 * named, never averaged into a table */
static void compare_rejects_non_finite(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"1e999", "0.5", "1", "b-seed1.jsonl:2: test_accuracy: inf is not in [0, 1]"},
        {"-1e999", "0.5", "1", "b-seed1.jsonl:2: test_accuracy: -inf is not in [0, 1]"},
        {"1.5", "0.5", "1", "b-seed1.jsonl:2: test_accuracy: 1.5 is not in [0, 1]"},
        {"\"0.9\"", "0.5", "1", "b-seed1.jsonl:2: test_accuracy: not a number"},
        {"0.9", "1e999", "1", "b-seed1.jsonl:2: strict_accuracy: inf is not in [0, 1]"},
        {"0.9", "0.5", "1e999", "b-seed1.jsonl:1: seconds: inf is not in [0, 1e+09]"},
        {"0.9", "0.5", "-2", "b-seed1.jsonl:1: seconds: -2 is not in [0, 1e+09]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *dir = tmpdir_make();
        write_compare_run(dir, "a", "0.9", "0.5", "1");
        write_compare_run(dir, "b", cases[k][0], cases[k][1], cases[k][2]);
        const char *args[] = {dir, "a", "b", NULL};
        char *out, *err;
        int rc = run_prog(compare_bin(), args, &out, &err);
        if (rc != 65 || !strstr(err, cases[k][3]))
            fail_msg("case %zu: exit %d, stderr %s", k, rc, err);
        free(out), free(err);
        tmpdir_remove(dir);
    }
    /* without a report the cells say n/a instead of -100 */
    char *dir = tmpdir_make();
    write_compare_run(dir, "a", "0.9", "0.5", "1");
    write_text(path_in(dir, "b-seed1.jsonl"), "{\"type\":\"summary\",\"test_accuracy\":0.5}\n");
    write_text(path_in(dir, "b-seed1.pred.csv"), "index,label,prediction\n0,1,1\n1,2,3\n");
    const char *args[] = {dir, "a", "b", NULL};
    char *out, *err;
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 0);
    assert_non_null(strstr(out, "| b | 1 | 50.00 ± 0.00 | 50.00 | 50.00 | n/a | n/a | n/a |"));
    free(out), free(err);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_word_is_an_option),
        cmocka_unit_test(option_values),
        cmocka_unit_test(divergence_in_the_last_step),
        cmocka_unit_test(non_finite_weights_fail_evaluation),
        cmocka_unit_test(ece_of_nan_is_nan),
        cmocka_unit_test(compare_rejects_non_finite),
    };
    return cmocka_run_group_tests_name("limits", tests, setup_synthetic_dir, teardown_dir);
}
