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
#include <stdbool.h>
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
#include "train/budget.h"
#include "train/outstats_testing.h"
#include "util/interrupt.h"
#include "util/rng.h"
#include "util/sysres.h"
#include "train/train.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* whether process pid has a file open whose path contains name */
static bool has_open(pid_t pid, const char *name)
{
    char dir[64], link[1024];
    for (int fd = 0; fd < 64; fd++) {
        snprintf(dir, sizeof dir, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t n = readlink(dir, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            if (strstr(link, name))
                return true;
        }
    }
    return false;
}

/* How a run ended: exit code (-1: killed), seconds from the signal (or the
 * start) to its end, the CPU seconds it spent after the signal (or in all),
 * and its peak resident memory. */
struct ended {
    int rc;
    double seconds, cpu;
    long max_rss_kb;
};

/* CPU seconds process pid has used so far, all its threads (fields 14 and
 * 15 of /proc/PID/stat, after the parenthesised name, which may hold
 * anything); 0 when it cannot be read */
static double cpu_so_far(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A run that a signal ended stopped soon: within a second of CPU after the
 * signal (the work between two looks at the flag, which load does not
 * stretch) and a generous bound of wall time for the blocked cases (a read
 * that never returns uses no CPU at all). A loaded machine can hold a
 * runnable process off the CPU for seconds; neither bound is about that. */
static void assert_stops_soon(struct ended r, const char *what)
{
    print_message("%s stopped %.3f s (%.3f s of CPU) after the signal\n", what, r.seconds, r.cpu);
    if (r.cpu >= 1 || r.seconds >= 30)
        fail_msg("%s: %.3f s of CPU, %.3f s of wall time after the signal", what, r.cpu,
                 r.seconds);
}

/* Run train with stdin from stdin_path (NULL: /dev/null; "|": a pipe kept
 * open and silent). With sig: once stdout holds `marker` (NULL: at once;
 * "fd:NAME": once the process has a file NAME open), wait delay_ms more,
 * then send sig. */
static struct ended run_full(const char *const *args, const char *stdin_path, const char *marker,
                             int delay_ms, int sig, char **out, char **err)
{
    char outf[] = "/tmp/limits-out.XXXXXX", errf[] = "/tmp/limits-err.XXXXXX";
    int ofd = mkstemp(outf), efd = mkstemp(errf), pipefd[2] = {-1, -1};
    assert_true(ofd >= 0 && efd >= 0);
    unlink(outf);
    unlink(errf);
    bool piped = stdin_path && !strcmp(stdin_path, "|");
    if (piped)
        assert_int_equal(pipe(pipefd), 0);
    double t0 = now(), cpu0 = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = piped ? pipefd[0] : open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        if (in < 0)
            _exit(98);
        if (piped)
            close(pipefd[1]);
        dup2(in, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        default_signals();
        const char *argv[64] = {train_bin()};
        int n = 1;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(97);
    }
    if (piped)
        close(pipefd[0]);
    if (sig) {
        for (int i = 0; marker && i < 3000; i++) {
            bool seen;
            if (!strncmp(marker, "fd:", 3)) {
                seen = has_open(pid, marker + 3);
            } else {
                char *o = slurp_fd(ofd);
                seen = strstr(o, marker) != NULL;
                free(o);
            }
            if (seen || waitpid(pid, NULL, WNOHANG) == pid)
                break;
            usleep(10000);
        }
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        t0 = now();
        cpu0 = cpu_so_far(pid);
        kill(pid, sig);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        assert_int_equal(errno, EINTR);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    struct ended r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, now() - t0, cpu - cpu0,
                      ru.ru_maxrss};
    if (piped)
        close(pipefd[1]);
    *out = slurp_fd(ofd);
    *err = slurp_fd(efd);
    close(ofd);
    close(efd);
    return r;
}

/* Whether ./train is a sanitizer build: its memory figures are then not the
 * program's own (shadow memory, redzones). `make asan` runs with
 * ASAN_OPTIONS set, but can also leave ./train pointing at its binary. */
static bool sanitized(void)
{
    static int known = -1;
    if (known >= 0)
        return known;
    known = getenv("ASAN_OPTIONS") != NULL;
    FILE *f = fopen(train_bin(), "rb");
    if (f && !known) {
        size_t cap = 64u << 20;
        char *b = malloc(cap);
        size_t n = fread(b, 1, cap, f);
        known = memmem(b, n, "__asan_init", 11) != NULL;
        free(b);
    }
    if (f)
        fclose(f);
    return known;
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
    {"--config", "", NULL, "--config: empty value"},
    {"--save", "", NULL, "--save: empty value"},
    {"--epochs", "3", "--epochs", "4x", NULL, "--epochs: '4x' is not an integer"},
    {"--lr=0.1=2", NULL, "--lr: '0.1=2' is not a finite number"},
    /* a value is quoted on the same single line, whatever it holds */
    {"--epochs", "3\nx", NULL, "--epochs: '3?x' is not an integer"},
    {"--head", "soft\tmax\r", NULL, "--head: 'soft?max?' is not one of softmax, sigmoid"},
};

/* Every case through the scanner in-process (fast), and every fifth one
 * through ./train too: the same line on stderr, the hint, nothing on stdout. */
static void every_word_is_an_option(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof BAD_WORDS / sizeof BAD_WORDS[0]; t++) {
        char *argv[8] = {"train"};
        int n = 0;
        for (; BAD_WORDS[t][n]; n++)
            argv[n + 1] = (char *)BAD_WORDS[t][n];
        const char *want = BAD_WORDS[t][n + 1];
        argv[n + 1] = NULL;
        struct config c;
        struct err e = {0};
        enum config_action act;
        int rc = config_from_args(&c, n + 1, argv, &act, NULL, &e);
        if (rc != 64 || strncmp(e.msg, want, strlen(want)) || strchr(e.msg, '\n'))
            fail_msg("case %zu (%s ...): code %d, \"%s\"; expected 64 and \"%s\"", t, argv[1],
                     rc, e.msg, want);
        if (t % 5)
            continue;
        char *out, *err;
        rc = run_train((const char *const *)argv + 1, &out, &err);
        char expect[1200];
        snprintf(expect, sizeof expect, "train: %s\nTry 'train --help' for more information.\n",
                 e.msg);
        if (rc != 64 || strcmp(err, expect) || *out)
            fail_msg("case %zu (%s ...): exit %d, stderr \"%s\", stdout %zu bytes", t, argv[1],
                     rc, err, strlen(out));
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

/* A run whose very last update makes the outputs non-finite (adam, lr 100,
 * one batch per epoch: the loss of that batch was still finite) is
 * divergence: exit 65, no summary, and the good model under --save stays. */
static void divergence_in_the_last_step(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "good.bin");
    free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "16", "--save", m,
        "--quiet"));
    size_t la, lb;
    uint8_t *before = slurp_bytes(m, &la);
    const char *deep = "64,64,64,64,64,64,64,64,64,64,64,64";
    RUN(65, out, err, "--data-dir", test_dir, "--limit-train", "64", "--batch-size", "64",
        "--epochs", "1", "--optimizer", "adam", "--lr", "100", "--hidden", deep, "--json",
        "--save", m, "--report", "--predictions", path_in(test_dir, "p.csv"));
    assert_non_null(strstr(err, "train: training diverged: the "));
    assert_non_null(strstr(err, "are not finite after epoch 1"));
    assert_null(strstr(out, "\"summary\""));
    assert_null(strstr(out, "null"));
    free(out), free(err);
    uint8_t *after = slurp_bytes(m, &lb);
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
    assert_true(isnan(outstats_ece(conf, right, 4, 15)));
    float odd[4] = {-INFINITY, INFINITY, 1e30f, -0.0f};
    assert_true(isinf(outstats_ece(odd, right, 4, 15)));
    assert_true(isnan(outstats_ece(conf, right, 1, 0)));
    /* the defined case is unchanged: bins 3 (0.2), 13 (0.9), 14 (1.0) */
    float ok[3] = {0.2f, 0.9f, 1.0f};
    uint8_t r3[3] = {1, 0, 1};
    assert_float_equal(outstats_ece(ok, r3, 3, 15), (0.8 + 0.9 + 0.0) / 3, 1e-6);
}

/* the head report of outputs that are not numbers: defined results, no UB */
static void report_of_nan_outputs(void **state)
{
    (void)state;
    float P[3 * 10];
    for (int i = 0; i < 30; i++)
        P[i] = 0.1f;
    P[3] = NAN, P[17] = INFINITY, P[25] = -INFINITY;
    int pred[3] = {3, 7, 5};
    uint8_t y[3] = {3, 1, 5};
    struct outstats m;
    outstats_compute(&m, P, pred, y, 3, 10);
    assert_int_equal(m.correct, 2);
    assert_true(isnan(m.ece));
    assert_true(isnan(m.sum_mean));
    assert_int_equal(m.confusion[1][7], 1);
}

static void write_compare_run(const char *dir, const char *name, const char *acc,
                              const char *strict, const char *seconds)
{
    static const char pred[] = "index,label,prediction,p0\n0,1,1,0.5\n1,2,3,nan\n";
    char file[256], text[768];
    snprintf(file, sizeof file, "%s-seed1.jsonl", name);
    snprintf(text, sizeof text,
             "{\"type\":\"epoch\",\"epoch\":1,\"seconds\":%s}\n"
             "{\"type\":\"summary\",\"config\":{\"seed\":1},\"test_accuracy\":%s,"
             "\"test_correct\":1,\"test_total\":2,\"predictions_crc32\":\"%08lx\","
             "\"report\":{\"strict_accuracy\":%s,\"ece\":0.01}}\n", seconds, acc,
             (unsigned long)crc32(0L, (const unsigned char *)pred, sizeof pred - 1), strict);
    write_text(path_in(dir, file), text);
    snprintf(file, sizeof file, "%s-seed1.pred.csv", name);
    write_text(path_in(dir, file), pred);
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
        write_compare_run(dir, "a", "0.5", "0.5", "1");
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
    static const char pred[] = "index,label,prediction\n0,1,1\n1,2,3\n";
    char text[256];
    write_compare_run(dir, "a", "0.5", "0.5", "1");
    snprintf(text, sizeof text, "{\"type\":\"summary\",\"config\":{\"seed\":1},"
             "\"test_accuracy\":0.5,\"test_correct\":1,\"test_total\":2,"
             "\"predictions_crc32\":\"%08lx\"}\n",
             (unsigned long)crc32(0L, (const unsigned char *)pred, sizeof pred - 1));
    write_text(path_in(dir, "b-seed1.jsonl"), text);
    write_text(path_in(dir, "b-seed1.pred.csv"), pred);
    const char *args[] = {dir, "a", "b", NULL};
    char *out, *err;
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 0);
    assert_non_null(strstr(out, "| b | 1 | 50.00 ± 0.00 | 50.00 | 50.00 | n/a | n/a | n/a |"));
    free(out), free(err);
    tmpdir_remove(dir);
}

/* ---- bounded resources ---- */

/* an IDX header claiming 2^28 images of 28x28 in a gzip file of a few
 * hundred KB that really expands to 64 MiB: refused at once, before the 64
 * MiB are read or allocated (it once cost 4 GB and 90 s at full scale) */
static void lying_idx_header_is_refused_at_once(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    write_synthetic_mnist(dir, 100, 50, 28);
    const char *bomb = path_in(dir, "bomb.gz");
    uint8_t claim[16] = {0, 0, 8, 3, 0x10, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz(bomb, claim, sizeof claim);
    uint8_t *zeros = calloc(1, 1 << 20);
    uLongf cap = compressBound(1 << 20) + 64;
    uint8_t *z = malloc(cap);
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = zeros, zs.avail_in = 1 << 20, zs.next_out = z, zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    FILE *f = fopen(bomb, "ab");
    for (int i = 0; i < 64; i++)
        fwrite(z, 1, zs.total_out, f);
    fclose(f);
    deflateEnd(&zs);
    free(z), free(zeros);
    char *out, *err;
    const char *args[] = {"--data-dir", dir, "--train-images", bomb, "--epochs", "1", NULL};
    struct ended r = run_full(args, NULL, NULL, 0, 0, &out, &err);
    if (r.rc != 65 || !strstr(err, "bomb.gz: header claims 210453397504 bytes of data, more "
                                   "than a ") || !strstr(err, "gzip file can hold"))
        fail_msg("exit %d: %s", r.rc, err);
    if (!sanitized() && r.max_rss_kb > 48 * 1024)
        fail_msg("peak memory %ld KB for a refused header", r.max_rss_kb);
    free(out), free(err);
    tmpdir_remove(dir);
}

/* images wider than augmentation takes are refused by name and limit, not
 * met as "out of memory"; at the limit they train */
static void augment_of_wide_images(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    const int widths[] = {5000, 4096};
    for (int k = 0; k < 2; k++) {
        uint32_t n[2] = {20, 10};
        const char *names[2][2] = {{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
                                   {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}};
        for (int s = 0; s < 2; s++) {
            uint32_t dims[3] = {n[s], 1, (uint32_t)widths[k]};
            uint8_t *px = calloc(n[s], (size_t)widths[k]), labels[20], *b;
            for (uint32_t i = 0; i < n[s]; i++) {
                labels[i] = (uint8_t)(i % 10);
                px[i * (size_t)widths[k] + i] = 255;
            }
            size_t len = idx_bytes(&b, 3, dims, px);
            write_gz(path_in(dir, names[s][0]), b, len);
            free(b);
            len = idx_bytes(&b, 1, n + s, labels);
            write_gz(path_in(dir, names[s][1]), b, len);
            free(b), free(px);
        }
        char *out, *err;
        const char *args[] = {"--data-dir", dir, "--augment", "shift:1", "--hidden", "4",
                              "--epochs", "1", "--quiet", NULL};
        int rc = run_train(args, &out, &err);
        if (k == 0 && (rc != 64 || !strstr(err, "train-images-idx3-ubyte.gz holds images of "
                                                "1x5000 pixels; augmentation takes at most 4096")))
            fail_msg("exit %d: %s", rc, err);
        if (k == 1 && rc != 0)
            fail_msg("exit %d: %s", rc, err);
        free(out), free(err);
    }
    tmpdir_remove(dir);
}

/* the config, and one no machine can hold: refused before any
 * allocation, quickly, naming the setting that weighs most */
static void config_larger_than_memory_is_refused(void **state)
{
    (void)state;
    char *out, *err;
    const char *wide = "16384,16384,16384,16384,16384,16384,16384,16384,16384,16384,16384,"
                       "16384,16384,16384,16384,16384";
    const char *args[] = {"--data-dir", test_dir, "--hidden", wide, "--batch-size", "65536",
                          "--limit-train", "600", NULL};
    struct ended r = run_full(args, NULL, NULL, 0, 0, &out, &err);
    if (r.rc != 64 || strncmp(err, "train: hidden: this run needs about ", 36) ||
        !strstr(err, "GiB available\n"))
        fail_msg("exit %d: %s", r.rc, err);
    if (r.cpu >= 2)   /* refused before the work: CPU, which load does not stretch */
        fail_msg("refused after %.3f s of CPU", r.cpu);
    if (!sanitized())
        assert_true(r.max_rss_kb < 64 * 1024);
    free(out), free(err);
    /* --hidden 16384,16384,16384 --batch-size 65536 on MNIST-sized data
     * (60000 images): about 24.7 GiB (2 GiB of it the two 16384 x 16384
     * layers' packed copies), more than most machines have */
    struct config c;
    config_defaults(&c);
    c.hidden.n = 3;
    c.hidden.v[0] = c.hidden.v[1] = c.hidden.v[2] = 16384;
    c.batch_size = 65536;
    c.threads = 2;
    struct budget b;
    budget_estimate(&b, &c, &(struct budget_shape){60000, 10000, 28, 28});
    assert_true(b.total > 24.0 * (1 << 30) && b.total < 25.5 * (1 << 30));
    assert_true(b.batch > b.model + b.optimizer);
    struct err e = {0};
    assert_int_equal(budget_check(&b, (uint64_t)16 << 30, &e), 64);
    assert_non_null(strstr(e.msg, "batch_size: this run needs about 24."));
    assert_non_null(strstr(e.msg, "16.0 GiB available"));
    memset(&e, 0, sizeof e);
    assert_int_equal(budget_check(&b, (uint64_t)64 << 30, &e), 0);
    assert_int_equal(budget_check(&b, 0, &e), 0);   /* unknown: no refusal on a guess */
    /* and through ./train on the real data, on a machine it does not fit */
    const char *mnist = getenv("MNIST_DIR");
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", mnist ? mnist : "");
    if (mnist && access(probe, R_OK) == 0 && (double)budget_available() < b.total / 0.9) {
        RUN(64, out, err, "--data-dir", mnist, "--hidden", "16384,16384,16384", "--batch-size",
            "65536", "--epochs", "1");
        assert_non_null(strstr(err, "train: batch_size: this run needs about "));
        free(out), free(err);
    }
}

static void meminfo_is_read(void **state)
{
    (void)state;
    assert_int_equal(sysres_parse_meminfo("MemTotal:       32000000 kB\nMemFree:  1 kB\n"
                                          "MemAvailable:   24130452 kB\nBuffers: 5 kB\n"),
                     24130452ull * 1024);
    assert_int_equal(sysres_parse_meminfo("MemTotal: 5 kB\n"), 0);
    assert_int_equal(sysres_parse_meminfo("MemAvailable: lots\n"), 0);
    uint64_t a = budget_available();
    assert_true(a > (16u << 20));
    /* --predict FILE: the images the header declares must fit too */
    struct err e = {0};
    assert_int_equal(budget_check_bytes(1e9, (uint64_t)1 << 30, "predict", "x.idx", &e), 64);
    assert_string_equal(e.msg, "predict: x.idx needs about 0.9 GiB, more than 90% of the 1.0 "
                               "GiB available");
    memset(&e, 0, sizeof e);
    assert_int_equal(budget_check_bytes(1e8, (uint64_t)1 << 30, "predict", "x.idx", &e), 0);
    /* a whole budget: every part in its place in the message, the heaviest
     * part's setting named (here the data) */
    const double G = 1073741824.0;
    struct budget b = {.data = 2.5 * G, .model = 0.5 * G, .optimizer = 0.25 * G, .batch = 1.5 * G,
                       .eval = 0.75 * G, .save = 0.125 * G, .fixed = 0.05 * G};
    b.total = b.data + b.model + b.optimizer + b.batch + b.eval + b.save + b.fixed;
    memset(&e, 0, sizeof e);
    assert_int_equal(budget_check(&b, (uint64_t)4 << 30, &e), 64);
    assert_string_equal(e.msg, "train_images: this run needs about 5.7 GiB (model and optimizer "
                               "0.8, batch buffers 1.5, data 2.5, outputs 0.8, saving 0.1), more "
                               "than 90% of the 4.0 GiB available");
    memset(&e, 0, sizeof e);
    assert_int_equal(budget_check(&b, (uint64_t)7 << 30, &e), 0);
}

/* The estimate against the peak resident memory of real runs (parameters
 * dominate in one, Adam, --save and batch buffers in the other): within a
 * few percent, never far below. */
static void estimate_matches_measured_memory(void **state)
{
    (void)state;
    if (sanitized())
        skip();   /* shadow memory and redzones are not the program's */
    const char *runs[][16] = {
        {"--hidden", "4096,4096", "--limit-train", "32", "--batch-size", "32", "--limit-test",
         "32", NULL},
        {"--hidden", "2048,2048", "--optimizer", "adam", "--limit-train", "64", "--batch-size",
         "64", "--limit-test", "64", "--save", "SAVE", NULL},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        const char *args[24] = {"--data-dir", test_dir, "--epochs", "1", "--threads", "2",
                                "--quiet"};
        int n = 7;
        for (int i = 0; runs[k][i]; i++)
            args[n++] = !strcmp(runs[k][i], "SAVE") ? path_in(test_dir, "est.bin") : runs[k][i];
        args[n] = NULL;
        struct config c;
        struct err e = {0};
        enum config_action act;
        char *argv[24] = {"train"};
        for (int i = 0; i < n; i++)
            argv[i + 1] = (char *)args[i];
        assert_int_equal(config_from_args(&c, n + 1, argv, &act, NULL, &e), 0);
        struct budget b;
        budget_estimate(&b, &c, &(struct budget_shape){600, 200, 10, 10});
        char *out, *err;
        struct ended r = run_full(args, NULL, NULL, 0, 0, &out, &err);
        if (r.rc)
            fail_msg("exit %d: %s", r.rc, err);
        double measured = (double)r.max_rss_kb * 1024, ratio = b.total / measured;
        print_message("estimate %.1f MiB, measured peak %.1f MiB (%.3f)\n", b.total / 1048576,
                      measured / 1048576, ratio);
        if (ratio < 0.95 || ratio > 1.25)
            fail_msg("run %zu: estimate %.0f bytes, measured %.0f", k, b.total, measured);
        free(out), free(err);
    }
}

/* --predict - reads a batch at a time: endless input costs constant memory
 * and stops on a signal; no input at all is an error */
static void predict_streams_stdin(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "pm.bin");
    free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--save", m,
        "--quiet"));
    const char *args[] = {"--load", m, "--predict", "-", NULL};
    struct ended r = run_full(args, "/dev/null", NULL, 0, 0, &out, &err);
    assert_int_equal(r.rc, 65);
    assert_string_equal(err, "train: stdin: no images (raw images of 100 bytes each expected)\n");
    assert_string_equal(out, "");
    free(out), free(err);
    /* 0.6 s of /dev/zero is millions of images: buffering them all would take
     * hundreds of MB */
    r = run_full(args, "/dev/zero", "\n1,", 600, SIGINT, &out, &err);
    /* the stream alternates between reading a batch and predicting it: the
     * signal lands in either, as the scheduler has it */
    if (r.rc != 130 || (!strstr(err, "train: interrupted while predicting (after ") &&
                        !strstr(err, "train: interrupted while reading images from stdin")))
        fail_msg("exit %d: %s", r.rc, err);
    assert_stops_soon(r, "prediction");
    if (!sanitized() && r.max_rss_kb > 48 * 1024)
        fail_msg("peak memory %ld KB streaming /dev/zero", r.max_rss_kb);
    free(out), free(err);
    /* a silent pipe: the blocked read ends on the signal */
    r = run_full(args, "|", NULL, 300, SIGTERM, &out, &err);
    if (r.rc != 143 || !strstr(err, "train: interrupted while reading images from stdin"))
        fail_msg("exit %d: %s", r.rc, err);
    assert_stops_soon(r, "a blocked read");
    free(out), free(err);
}

/* A signal ends every phase within a second with 128 + signal and says what
 * it interrupted. */
static void signals_end_training_and_evaluation(void **state)
{
    (void)state;
    char *out, *err;
    /* training: long epochs of small batches */
    const char *train[] = {"--data-dir", test_dir, "--epochs", "100000", "--hidden", "256",
                           NULL};
    struct ended r = run_full(train, NULL, "data:", 200, SIGTERM, &out, &err);
    if (r.rc != 143 || !strstr(err, "train: interrupted "))
        fail_msg("exit %d: %s", r.rc, err);
    /* inside an epoch, the batch it names is one of the epoch's ten (600
     * images, batches of 64) */
    unsigned epoch, batch;
    int at = interrupted_at(err, &epoch, &batch);
    if (at < 0 || (at && (epoch < 1 || batch < 1 || batch > 10)))
        fail_msg("the epoch or batch it names is not one of the run's: %s", err);
    assert_stops_soon(r, "training");
    free(out), free(err);
    /* evaluation: a deep model over a large test set, evaluation only: some
     * 270 GFLOP in all, so it cannot end before the signal lands, in batches
     * of 3.5 GFLOP, so that the flag is looked at often even when a loaded
     * machine gives the run a tenth of a core */
    char *dir = tmpdir_make();
    write_synthetic_mnist(dir, 100, 40000, 20);
    const char *m = path_in(dir, "wide.bin");
    free(RUN_OK("--data-dir", dir, "--epochs", "1", "--hidden", "1024,1024,1024",
        "--limit-train", "10", "--batch-size", "10", "--limit-test", "10", "--save", m,
        "--quiet"));
    const char *eval[] = {"--data-dir", dir, "--load", m, "--epochs", "0", "--limit-test", "0",
                          NULL};
    r = run_full(eval, NULL, "data:", 50, SIGINT, &out, &err);
    if (r.rc != 130 || !strstr(err, "train: interrupted while evaluating the test set"))
        fail_msg("exit %d: %s", r.rc, err);
    assert_stops_soon(r, "evaluation");
    free(out), free(err);
    tmpdir_remove(dir);
}

/* loading: decompressing MNIST's 60000 training images takes some 0.4 s */
static void signal_ends_loading(void **state)
{
    (void)state;
    const char *mnist = getenv("MNIST_DIR");
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", mnist ? mnist : "");
    if (!mnist || access(probe, R_OK) != 0)
        skip();
    char *out, *err;
    const char *args[] = {"--data-dir", mnist, "--epochs", "1", NULL};
    struct ended r = run_full(args, NULL, "fd:train-images", 50, SIGTERM, &out, &err);
    if (r.rc != 143 || !strstr(err, "train: interrupted while loading ") ||
        !strstr(err, "train-images-idx3-ubyte.gz"))
        fail_msg("exit %d: %s", r.rc, err);
    assert_stops_soon(r, "loading");
    assert_null(strstr(err, "make data"));
    free(out), free(err);
}

/* The race every "check the flag, then block" loop has: a signal that lands
 * after the check and before the blocking call. Here it lands first, so the
 * read of a silent pipe starts after it; it must still return, EINTR, and
 * soon (a child process, so the handlers do not outlive the test). */
static void signal_before_a_blocking_read(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    double t0 = now();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        interrupt_install();
        raise(SIGTERM);
        char c;
        ssize_t k = read(p[0], &c, 1); /* the write end stays open: no EOF */
        _exit(k < 0 && errno == EINTR && interrupt_signal == SIGTERM ? 0 : 1);
    }
    int status = 0;
    /* for ever is the bug; 30 s leaves a loaded machine time to run the child */
    while (waitpid(pid, &status, WNOHANG) == 0 && now() - t0 < 30)
        usleep(10000);
    if (now() - t0 >= 30) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("a read entered after SIGTERM waited for ever");
    }
    close(p[0]), close(p[1]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("the read returned %.3f s after the signal\n", now() - t0);
}

/* an all-zero xoshiro state (a damaged checkpoint's) once made rng_below
 * reject forever, deaf to signals */
static void rng_never_spins(void **state)
{
    (void)state;
    alarm(10);   /* a spinning loop fails the test instead of hanging it */
    struct rng zero = {{0, 0, 0, 0}};
    for (uint32_t n = 1; n < 100000; n += 997)
        assert_true(rng_below(&zero, n) < n);
    assert_true(rng_below(&zero, 3000000001u) < 3000000001u);
    uint32_t a[60000];
    for (uint32_t i = 0; i < 60000; i++)
        a[i] = i;
    rng_shuffle(&zero, a, 60000);
    /* a working state is untouched by the bound: the same draws as ever */
    struct rng r;
    rng_seed(&r, 1, RNG_SHUFFLE);
    uint64_t sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += rng_below(&r, 3000000001u);
    assert_true(sum > 1000ull * 1000000000u && sum < 1000ull * 2000000000u);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_word_is_an_option),
        cmocka_unit_test(option_values),
        cmocka_unit_test(divergence_in_the_last_step),
        cmocka_unit_test(non_finite_weights_fail_evaluation),
        cmocka_unit_test(ece_of_nan_is_nan),
        cmocka_unit_test(report_of_nan_outputs),
        cmocka_unit_test(compare_rejects_non_finite),
        cmocka_unit_test(lying_idx_header_is_refused_at_once),
        cmocka_unit_test(config_larger_than_memory_is_refused),
        cmocka_unit_test(meminfo_is_read),
        cmocka_unit_test(estimate_matches_measured_memory),
        cmocka_unit_test(predict_streams_stdin),
        cmocka_unit_test(signals_end_training_and_evaluation),
        cmocka_unit_test(signal_ends_loading),
        cmocka_unit_test(signal_before_a_blocking_read),
        cmocka_unit_test(rng_never_spins),
        cmocka_unit_test(augment_of_wide_images),
    };
    return cmocka_run_group_tests_name("limits", tests, setup_synthetic_dir, teardown_dir);
}
