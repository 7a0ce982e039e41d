/* ./train as a user and a script see it: exit codes, exact messages, the
 * --json lines, determinism. Runs on a small synthetic digit set that the
 * test writes itself, so it needs no MNIST. */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>

#include "support/support.h"


static void help_and_version(void **state)
{
    (void)state;
    char *out, *err;
    RUN(0, out, err, "--help");
    assert_non_null(strstr(out, "Usage: train [OPTION]..."));
    assert_non_null(strstr(out, "--batch-size N"));
    assert_non_null(strstr(out, "Exit status:"));
    assert_string_equal(err, "");
    free(out), free(err);
    RUN(0, out, err, "--version");
    assert_non_null(strstr(out, "zlib "));
    assert_non_null(strstr(out, "oneDNN"));
    free(out), free(err);
}

/* every flag --help shows is documented in the reference (its option table
 * is generated from --help; test_docs checks that it is current) */
static void readme_documents_every_flag(void **state)
{
    (void)state;
    char *out, *err;
    RUN(0, out, err, "--help");
    FILE *f = fopen("docs/reference.md", "r");
    assert_non_null(f);
    static char readme[1 << 18];
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    fclose(f);
    readme[n] = 0;
    int flags = 0;
    for (char *p = out; (p = strstr(p, "  --")); p += 2) {
        char flag[64];
        size_t len = strcspn(p + 2, " ,\n");
        snprintf(flag, sizeof flag, "%.*s", (int)len, p + 2);
        flags++;
        if (!strstr(readme, flag))
            fail_msg("docs/reference.md does not mention %s", flag);
    }
    assert_true(flags > 30);
    free(out), free(err);
}

static void usage_errors(void **state)
{
    (void)state;
    char *out, *err;
    RUN(64, out, err, "--epochs", "3x");
    assert_string_equal(err, "train: --epochs: '3x' is not an integer\n"
                             "Try 'train --help' for more information.\n");
    assert_string_equal(out, "");
    free(out), free(err);
    RUN(64, out, err, "--lerning-rate", "3");
    assert_string_equal(err, "train: --lerning-rate: unknown option\n"
                             "Try 'train --help' for more information.\n");
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--limit-train", "601");
    assert_string_equal(err, "train: limit_train: 601 is more than the 600 training images\n"
                             "Try 'train --help' for more information.\n");
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--val", "600");
    assert_non_null(strstr(err, "train: val: 600 leaves no training images"));
    free(out), free(err);
    const char *cfg = path_in(test_dir, "bad.json");
    write_text(cfg, "{\"epochs\": 5, \"lr\": \"0.1\"}");
    RUN(64, out, err, "--config", cfg);
    assert_non_null(strstr(err, "bad.json: lr: expected a number, got a string\n"));
    free(out), free(err);
}

static void input_errors(void **state)
{
    (void)state;
    char *out, *err;
    RUN(66, out, err, "--data-dir", "/nonexistent");
    assert_string_equal(err, "train: data_dir: /nonexistent: No such file or directory; fetch "
                             "it with 'mnist-train-fetch' (in the source tree: make data), or "
                             "point --data-dir or MNIST_DIR at it\n");
    free(out), free(err);
    /* a folder without the files: the first missing one is named */
    RUN(66, out, err, "--data-dir", "/");
    assert_string_equal(err, "train: //train-images-idx3-ubyte.gz: No such file or directory (in "
                             "the MNIST folder /, from data_dir); fetch it with "
                             "'mnist-train-fetch' (in the source tree: make data), or point "
                             "--data-dir or MNIST_DIR at it\n");
    free(out), free(err);
    RUN(66, out, err, "--config", "/nonexistent.json");
    assert_string_equal(err, "train: /nonexistent.json: No such file or directory\n");
    free(out), free(err);
    /* test images of another geometry */
    char other[1024];
    snprintf(other, sizeof other, "%s/other", test_dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", other);
    assert_int_equal(system(cmd), 0);
    write_synthetic_mnist(other, 20, 20, 12);
    RUN(65, out, err, "--data-dir", test_dir, "--test-images",
        path_in(other, "t10k-images-idx3-ubyte.gz"), "--test-labels",
        path_in(other, "t10k-labels-idx1-ubyte.gz"));
    assert_non_null(strstr(err, "images are 12x12 but the training images are 10x10"));
    free(out), free(err);
    /* labels swapped for images */
    RUN(65, out, err, "--data-dir", test_dir, "--train-images",
        path_in(test_dir, "train-labels-idx1-ubyte.gz"));
    assert_non_null(strstr(err, "not an IDX image file (magic number 0x00000801"));
    free(out), free(err);
}

static void json_output_and_learning(void **state)
{
    (void)state;
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        char *out, *err;
        RUN(0, out, err, "--data-dir", test_dir, "--json", "--epochs", "3", "--val", "100", "--head",
            heads[h], "--hidden", "32", "--threads", "1");
        assert_string_equal(err, "");
        cJSON *l[8];
        int n = json_lines(out, l, 8);
        assert_int_equal(n, 4);
        for (int i = 0; i < 3; i++) {
            assert_string_equal(cJSON_GetObjectItem(l[i], "type")->valuestring, "epoch");
            assert_int_equal(json_num(l[i], "epoch"), i + 1);
            double acc = json_num(l[i], "test_accuracy");
            assert_true(acc >= 0 && acc <= 1);
            assert_true(json_num(l[i], "val_accuracy") >= 0);
            assert_true(json_num(l[i], "seconds") >= 0);
            assert_true(json_num(l[i], "samples_per_second") > 0);
            assert_true(json_num(l[i], "train_loss") > 0);
        }
        /* the loss falls and the synthetic digits are learnt */
        assert_true(json_num(l[2], "train_loss") < json_num(l[0], "train_loss"));
        cJSON *s = l[3];
        assert_string_equal(cJSON_GetObjectItem(s, "type")->valuestring, "summary");
        assert_int_equal(json_num(s, "test_total"), 200);
        assert_float_equal(json_num(s, "test_accuracy"), json_num(s, "test_correct") / 200, 1e-12);
        assert_float_equal(json_num(s, "test_accuracy"), json_num(l[2], "test_accuracy"), 1e-12);
        assert_true(json_num(s, "test_accuracy") > 0.9);
        cJSON *cfg = cJSON_GetObjectItem(s, "config");
        assert_string_equal(cJSON_GetObjectItem(cfg, "head")->valuestring, heads[h]);
        assert_int_equal(json_num(cfg, "epochs"), 3);
        for (int i = 0; i < n; i++)
            cJSON_Delete(l[i]);
        free(out), free(err);
    }
}

static void deterministic(void **state)
{
    (void)state;
    char *out[3], *err[3];
    const char *seeds[3] = {"7", "7", "8"};
    for (int i = 0; i < 3; i++)
        RUN(0, out[i], err[i], "--data-dir", test_dir, "--json", "--epochs", "2", "--seed", seeds[i],
            "--hidden", "32,16", "--dropout", "0.2", "--augment", "shift:1", "--threads", "2");
    char *a = json_without_times(out[0]), *b = json_without_times(out[1]), *c = json_without_times(out[2]);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_non_null(strstr(a, "\"train_loss\":"));
    free(a), free(b), free(c);
    for (int i = 0; i < 3; i++)
        free(out[i]), free(err[i]);
}

static void text_output(void **state)
{
    (void)state;
    char *out, *err;
    RUN(0, out, err, "--data-dir", test_dir, "--epochs", "2", "--hidden", "none", "--head", "sigmoid");
    assert_non_null(strstr(out, "network:  100-10 (no hidden, sigmoid head), 1010 parameters"));
    assert_non_null(strstr(out, "600 training, 0 validation, 200 test images of 10x10"));
    assert_non_null(strstr(out, "\n    2 "));
    const char *last = strstr(out, "test accuracy: ");
    assert_non_null(last);
    assert_non_null(strstr(last, "/200)\n"));
    assert_string_equal(last + strlen(last) - 1, "\n");
    free(out), free(err);
}

static void print_config_reloads(void **state)
{
    (void)state;
    char *out, *err, *out2, *err2;
    RUN(0, out, err, "--data-dir", test_dir, "--print-config", "--head", "sigmoid", "--lr", "0.03");
    const char *cfg = path_in(test_dir, "printed.json");
    write_text(cfg, out);
    RUN(0, out2, err2, "--config", cfg, "--print-config");
    assert_string_equal(out, out2);
    assert_non_null(strstr(out, "\"lr\":\t0.03"));
    free(out), free(err), free(out2), free(err2);
}

static void head_report_and_predictions(void **state)
{
    (void)state;
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        char *out, *err;
        const char *pred = path_in(test_dir, "pred.csv");
        RUN(0, out, err, "--data-dir", test_dir, "--json", "--epochs", "3", "--hidden", "32",
            "--head", heads[h], "--report", "--predictions", pred);
        cJSON *l[8];
        assert_int_equal(json_lines(out, l, 8), 4);
        const cJSON *rep = cJSON_GetObjectItem(l[3], "report");
        assert_non_null(rep);
        double acc = json_num(l[3], "test_accuracy"), strict = json_num(rep, "strict_accuracy");
        /* outputs above 0.5 equal to {true class} implies the argmax is right */
        assert_true(strict <= acc && strict > 0);
        double sum_sd = json_num(rep, "output_sum_std");
        if (h == 0) {
            assert_float_equal(json_num(rep, "output_sum_mean"), 1, 1e-6);
            assert_true(sum_sd < 1e-6);
        } else {
            assert_true(sum_sd > 1e-3);
        }
        assert_float_equal(json_num(rep, "share_one_above") + json_num(rep, "share_none_above") +
                               json_num(rep, "share_multi_above"), 1, 1e-9);
        const cJSON *conf = cJSON_GetObjectItem(rep, "confusion");
        assert_int_equal(cJSON_GetArraySize(conf), 10);
        double diag = 0;
        for (int k = 0; k < 10; k++)
            diag += cJSON_GetArrayItem(cJSON_GetArrayItem(conf, k), k)->valuedouble;
        assert_float_equal(diag, json_num(l[3], "test_correct"), 0);
        /* the CSV agrees with the summary, row by row */
        FILE *f = fopen(pred, "r");
        assert_non_null(f);
        char line[512];
        assert_non_null(fgets(line, sizeof line, f));
        assert_string_equal(line, "index,label,prediction,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n");
        int rows = 0, right = 0, idx, label, guess;
        while (fgets(line, sizeof line, f)) {
            assert_int_equal(sscanf(line, "%d,%d,%d,", &idx, &label, &guess), 3);
            assert_int_equal(idx, rows);
            right += label == guess;
            rows++;
        }
        fclose(f);
        assert_int_equal(rows, 200);
        assert_int_equal(right, (int)json_num(l[3], "test_correct"));
        for (int i = 0; i < 4; i++)
            cJSON_Delete(l[i]);
        free(out), free(err);
    }
    char *out, *err;
    RUN(0, out, err, "--data-dir", test_dir, "--epochs", "1", "--report", "--quiet");
    assert_non_null(strstr(out, "head report on 200 test images:"));
    assert_non_null(strstr(out, "strict accuracy"));
    free(out), free(err);
    /* checked before any work (tests/test_outputs.c has the rest) */
    RUN(73, out, err, "--data-dir", test_dir, "--epochs", "1", "--predictions", "/nonexistent/p.csv");
    assert_non_null(strstr(err, "train: predictions: /nonexistent/p.csv: directory /nonexistent "
                                "does not exist"));
    free(out), free(err);
}

/* the summary line of a run whose predictions file holds pred (text): the
 * counts and the CRC-32 that tie the two together */
static void write_summary(const char *dir, const char *file, int seed, double acc, int correct,
                          int total, const char *pred)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\":\"epoch\",\"epoch\":1,\"seconds\":2.5}\n"
             "{\"type\":\"summary\",\"config\":{\"head\":\"softmax\",\"seed\":%d},"
             "\"test_accuracy\":%.17g,\"test_correct\":%d,\"test_total\":%d,"
             "\"predictions_crc32\":\"%08lx\",\"report\":"
             "{\"strict_accuracy\":0.5,\"ece\":0.01}}\n", seed, acc, correct, total,
             (unsigned long)crc32(0L, (const unsigned char *)pred, (unsigned)strlen(pred)));
    write_text(path_in(dir, file), text);
}

/* a results folder as seed-runs.sh leaves it, with known disagreements */
static void write_run_in(const char *dir, const char *name, int seed, double acc,
                         const int *right, int n)
{
    char file[256], pred[4096];
    int len = snprintf(pred, sizeof pred, "index,label,prediction,p0\n"), correct = 0;
    for (int i = 0; i < n; i++) {
        len += snprintf(pred + len, sizeof pred - (size_t)len, "%d,%d,%d,0.5\n", i, i % 10,
                        right[i] ? i % 10 : (i + 1) % 10);
        correct += right[i] != 0;
    }
    snprintf(file, sizeof file, "%s-seed%d.jsonl", name, seed);
    write_summary(dir, file, seed, acc, correct, n, pred);
    snprintf(file, sizeof file, "%s-seed%d.pred.csv", name, seed);
    write_text(path_in(dir, file), pred);
}

static void write_run(const char *name, int seed, double acc, const int *right, int n)
{
    write_run_in(test_dir, name, seed, acc, right, n);
}

static void compare_tool(void **state)
{
    (void)state;
    /* seed 1: A alone right on 10 images, B alone right on 0 -> p = 2/1024 */
    int a[20], b[20];
    for (int i = 0; i < 20; i++)
        a[i] = 1, b[i] = i >= 10;
    write_run("alpha", 1, 1.0, a, 20);
    write_run("beta", 1, 0.5, b, 20);
    /* seed 2: 1 against 5 -> p = 0.21875 */
    for (int i = 0; i < 20; i++)
        a[i] = i == 0 || i > 5, b[i] = i != 0;
    write_run("alpha", 2, 0.75, a, 20);
    write_run("beta", 2, 0.95, b, 20);
    char *out, *err;
    const char *args[] = {test_dir, "alpha", "beta", NULL};
    int rc = run_prog(compare_bin(), args, &out, &err);
    if (rc)
        fail_msg("compare: exit %d: %s", rc, err);
    assert_non_null(strstr(out, "| alpha | 2 | 87.50 ± 17.68 | 75.00 | 100.00 | 50.00 | 0.0100 | 2.50 |"));
    assert_non_null(strstr(out, "| 1 | 100.00 | 50.00 | 10 | 0 | 0.00195 |"));
    assert_non_null(strstr(out, "| 2 | 75.00 | 95.00 | 1 | 5 | 0.219 |"));
    assert_non_null(strstr(out, "| pooled | | | 11 | 5 |"));
    assert_non_null(strstr(out, "Paired difference beta − alpha over 2 seeds: -15.000 points"));
    free(out), free(err);
    /* one shared seed: the difference, and no interval (t with 0 df is no
     * number: it printed "[+nan, +nan]") */
    for (int i = 0; i < 20; i++)
        a[i] = i < 15;
    write_run("solo", 1, 0.75, a, 20);
    const char *one[] = {test_dir, "alpha", "solo", NULL};
    rc = run_prog(compare_bin(), one, &out, &err);
    if (rc)
        fail_msg("compare: exit %d: %s", rc, err);
    assert_non_null(strstr(out, "Paired difference solo − alpha over 1 seed: -25.000 points (one seed: no interval"));
    assert_null(strstr(out, "nan"));
    free(out), free(err);
    /* a predictions file that is not the summary's run: one row edited */
    for (int i = 0; i < 20; i++)
        a[i] = 1;
    write_run("gamma", 1, 1.0, a, 20);
    char *pred = strdup(slurp_text(path_in(test_dir, "gamma-seed1.pred.csv")));
    char *row = strstr(pred, "\n3,3,3,");
    row[5] = '4';
    write_text(path_in(test_dir, "gamma-seed1.pred.csv"), pred);
    free(pred);
    const char *edited[] = {test_dir, "alpha", "gamma", NULL};
    assert_int_equal(run_prog(compare_bin(), edited, &out, &err), 65);
    assert_non_null(strstr(err, "gamma-seed1.pred.csv: its CRC-32 is not the predictions_crc32"));
    free(out), free(err);
    /* one seed spelt twice would count twice */
    write_run("twice", 1, 0.75, a, 20);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'",
             path_in(test_dir, "twice-seed1.pred.csv"), path_in(test_dir, "twice-seed01.pred.csv"),
             path_in(test_dir, "twice-seed1.jsonl"), path_in(test_dir, "twice-seed01.jsonl"));
    assert_int_equal(system(cmd), 0);
    const char *twice[] = {test_dir, "twice", "alpha", NULL};
    assert_int_equal(run_prog(compare_bin(), twice, &out, &err), 65);
    assert_non_null(strstr(err, "a second run of twice with seed 1"));
    free(out), free(err);
    const char *missing[] = {test_dir, "alpha", "delta", NULL};
    assert_int_equal(run_prog(compare_bin(), missing, &out, &err), 66);
    assert_non_null(strstr(err, "compare: "));
    free(out), free(err);
}

/* DIR and NAME are names: a NAME with *, ?, [, spaces or $(...) names those
 * characters, never other configs' runs (which a glob of it would match) */
static void compare_reads_the_files_named(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    int a[20], b[20];
    for (int i = 0; i < 20; i++)
        a[i] = i < 15, b[i] = i < 12;
    static const char *const names[] = {"b*", "b?", "b[x]", "b $(touch pwned)", "b\\*"};
    write_run_in(dir, "a", 1, 0.75, a, 20);
    write_run_in(dir, "bx", 1, 0.6, b, 20);   /* what a glob of the names would also take */
    write_run_in(dir, "bx", 2, 0.6, b, 20);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *args[] = {dir, "a", names[k], NULL};
        char *out, *err;
        /* not there yet: no runs of that name, whatever else the folder holds */
        int rc = run_prog(compare_bin(), args, &out, &err);
        if (rc != 66 || !strstr(err, "no runs of"))
            fail_msg("%s: exit %d: %s%s", names[k], rc, out, err);
        free(out), free(err);
        write_run_in(dir, names[k], 1, 0.6, b, 20);
        rc = run_prog(compare_bin(), args, &out, &err);
        char row[128];
        snprintf(row, sizeof row, "| %s | 1 | 60.00 ± 0.00 |", names[k]);
        if (rc != 0 || !strstr(out, row))
            fail_msg("%s: exit %d: %s%s", names[k], rc, out, err);
        free(out), free(err);
    }
    struct stat st;
    assert_int_equal(stat("pwned", &st), -1);
    /* a folder whose name is a pattern is that folder */
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/r*", dir);
    mkdir(sub, 0755);
    write_run_in(sub, "a", 1, 0.75, a, 20);
    write_run_in(sub, "c", 1, 0.6, b, 20);
    const char *args[] = {sub, "a", "c", NULL};
    char *out, *err;
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 0);
    free(out), free(err);
    tmpdir_remove(dir);
}

/* A predictions file belongs to its run by more than its accuracy: files
 * swapped between two seeds whose accuracies are equal are refused; and a
 * run is accepted whatever digits its accuracy prints with (678 of 865,
 * which 15 digits do not carry exactly) */
static void compare_pairs_each_run_with_its_predictions(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    int a[20], b1[20], b2[20];
    for (int i = 0; i < 20; i++)
        a[i] = 1, b1[i] = i < 15, b2[i] = i >= 5;   /* 15 of 20 right, other images */
    write_run_in(dir, "a", 1, 1.0, a, 20);
    write_run_in(dir, "a", 2, 1.0, a, 20);
    write_run_in(dir, "b", 1, 0.75, b1, 20);
    write_run_in(dir, "b", 2, 0.75, b2, 20);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && mv b-seed1.pred.csv t && mv b-seed2.pred.csv "
             "b-seed1.pred.csv && mv t b-seed2.pred.csv", dir);
    assert_int_equal(system(cmd), 0);
    const char *args[] = {dir, "a", "b", NULL};
    char *out, *err;
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 65);
    assert_non_null(strstr(err, "not the same run"));
    free(out), free(err);
    /* a summary copied to another seed's name says the seed it ran with */
    write_run_in(dir, "b", 1, 0.75, b1, 20);
    write_run_in(dir, "b", 2, 0.75, b2, 20);
    snprintf(cmd, sizeof cmd, "cd '%s' && cp b-seed1.jsonl b-seed2.jsonl && "
             "cp b-seed1.pred.csv b-seed2.pred.csv", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 65);
    assert_non_null(strstr(err, "the run's seed is 1, not the file name's 2"));
    free(out), free(err);
    /* 678 of 865, its accuracy as JSON writers print it (15 digits) */
    int *r = calloc(865, sizeof *r);
    for (int i = 0; i < 678; i++)
        r[i * 865 / 678] = 1;
    char *pred = malloc(865 * 16 + 64);
    int len = sprintf(pred, "index,label,prediction,p0\n");
    for (int i = 0; i < 865; i++)
        len += sprintf(pred + len, "%d,%d,%d,0.5\n", i, i % 10, r[i] ? i % 10 : (i + 1) % 10);
    char *d2 = tmpdir_make(), acc[64];
    snprintf(acc, sizeof acc, "%.15g", 678.0 / 865);
    assert_true(strtod(acc, NULL) != 678.0 / 865);   /* the condition itself */
    for (int seed = 1; seed <= 2; seed++) {
        char file[64];
        snprintf(file, sizeof file, "g-seed%d.jsonl", seed);
        write_summary(d2, file, seed, strtod(acc, NULL), 678, 865, pred);
        snprintf(file, sizeof file, "g-seed%d.pred.csv", seed);
        write_text(path_in(d2, file), pred);
        write_run_in(d2, "a", seed, 1.0, a, 20);
    }
    free(pred), free(r);
    const char *g[] = {d2, "g", "g", NULL};
    int rc = run_prog(compare_bin(), g, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(out, "| g | 2 | 78.38 ± 0.00 |"));
    free(out), free(err);
    tmpdir_remove(d2);
    tmpdir_remove(dir);
}

/* runs made by train itself (--json --report --predictions, and a model
 * evaluated with --load --epochs 0) pair with their predictions */
static void compare_accepts_genuine_runs(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    char model[1200];
    snprintf(model, sizeof model, "%s/m.bin", dir);
    char *out, *err;
    free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--save", model,
        "--quiet"));
    for (int seed = 1; seed <= 2; seed++) {
        char s[8], jl[1200], pr[1200];
        snprintf(s, sizeof s, "%d", seed);
        for (int k = 0; k < 2; k++) {
            snprintf(jl, sizeof jl, "%s/%s-seed%d.jsonl", dir, k ? "eval" : "fresh", seed);
            snprintf(pr, sizeof pr, "%s/%s-seed%d.pred.csv", dir, k ? "eval" : "fresh", seed);
            const char *fresh[] = {"--data-dir", test_dir, "--epochs", "1", "--hidden", "8",
                                   "--seed", s, "--json", "--report", "--predictions", pr,
                                   "--limit-test", "193", NULL};
            const char *eval[] = {"--data-dir", test_dir, "--load", model, "--epochs", "0",
                                  "--seed", s, "--json", "--report", "--predictions", pr,
                                  "--limit-test", "193", NULL};
            write_text(jl, "");
            int rc = run_train_to(k ? eval : fresh, jl, &out, &err);
            if (rc)
                fail_msg("exit %d: %s", rc, err);
            free(out), free(err);
        }
    }
    const char *args[] = {dir, "fresh", "eval", NULL};
    int rc = run_prog(compare_bin(), args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(out, "| pooled |"));
    free(out), free(err);
    /* a run of another config under the same name is not averaged in */
    char jl[1200], pr[1200];
    snprintf(jl, sizeof jl, "%s/fresh-seed3.jsonl", dir);
    snprintf(pr, sizeof pr, "%s/fresh-seed3.pred.csv", dir);
    write_text(jl, "");
    const char *other[] = {"--data-dir", test_dir, "--epochs", "1", "--hidden", "9", "--seed", "3",
                           "--json", "--report", "--predictions", pr, "--limit-test", "193", NULL};
    assert_int_equal(run_train_to(other, jl, &out, &err), 0);
    free(out), free(err);
    assert_int_equal(run_prog(compare_bin(), args, &out, &err), 65);
    assert_non_null(strstr(err, "fresh-seed3.jsonl: its hidden differs from seed 1's"));
    free(out), free(err);
    tmpdir_remove(dir);
}

/* The format of --metrics is its name's suffix, nothing else: a ".jsonl"
 * elsewhere in the path (a folder, the middle of the name) writes CSV */
static void metrics_format_by_suffix_alone(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), sub[1200];
    snprintf(sub, sizeof sub, "%s/runs.jsonl.d", dir);
    mkdir(sub, 0755);
    const char *csv[] = {path_in(sub, "m.csv"), path_in(dir, "x.jsonl.csv")};
    for (int k = 0; k < 2; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s", csv[k]);
        free(RUN_OK("--data-dir", test_dir, "--epochs", "2", "--hidden", "8", "--metrics",
            path, "--quiet"));
        const char *text = slurp_text(path);
        if (strncmp(text, "epoch,lr,train_loss,", 20) || strstr(text, "{"))
            fail_msg("%s is not CSV:\n%s", path, text);
    }
    char *out, *err, path[1200];
    snprintf(path, sizeof path, "%s", path_in(sub, "m.jsonl"));
    free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--metrics", path,
        "--quiet"));
    assert_true(!strncmp(slurp_text(path), "{\"type\":\"epoch\",\"epoch\":1,", 26));
    RUN(64, out, err, "--data-dir", test_dir, "--epochs", "1", "--metrics",
        path_in(dir, "x.csv.txt"));
    assert_non_null(strstr(err, "must end in .csv or .jsonl"));
    free(out), free(err);
    tmpdir_remove(dir);
}

static void metrics_files(void **state)
{
    (void)state;
    char *out, *err;
    const char *csv = path_in(test_dir, "m.csv"), *jl = path_in(test_dir, "m.jsonl");
    free(RUN_OK("--data-dir", test_dir, "--epochs", "3", "--hidden", "16", "--val", "50",
        "--metrics", csv, "--quiet"));
    FILE *f = fopen(csv, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "epoch,lr,train_loss,train_accuracy,val_accuracy,test_accuracy,"
                              "test_loss,seconds,samples_per_second\n");
    int rows = 0, epoch;
    double lr;
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(sscanf(line, "%d,%lf,", &epoch, &lr), 2);
        assert_int_equal(epoch, ++rows);
    }
    fclose(f);
    assert_int_equal(rows, 3);
    assert_float_equal(lr, 0.1 * 0.5 * (1 + cos(M_PI * 2 / 3)), 1e-12);   /* cosine, epoch 3 */
    free(RUN_OK("--data-dir", test_dir, "--epochs", "2", "--hidden", "16", "--metrics", jl));
    f = fopen(jl, "r");
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    cJSON *l[4];
    assert_int_equal(json_lines(text, l, 4), 2);
    assert_int_equal(json_num(l[1], "epoch"), 2);
    cJSON_Delete(l[0]), cJSON_Delete(l[1]);
    RUN(64, out, err, "--metrics", "m.txt");
    assert_non_null(strstr(err, "metrics: 'm.txt' must end in .csv or .jsonl"));
    free(out), free(err);
}

/* on a terminal a progress line redraws in place; --quiet turns it off */
/* ./train under a pseudo-terminal (script), its output in a static buffer;
 * the progress line redraws after every batch (TRAIN_PROGRESS_SECONDS=0), so
 * a short epoch shows it whatever the load */
static const char *on_a_terminal(const char *seconds, int quiet, int status)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "TRAIN_PROGRESS_SECONDS=%s script -qec '%s --data-dir %s --epochs 1 --hidden 16 "
             "--batch-size 50 --threads 1 %s' /dev/null > %s/tty.out 2>&1", seconds, train_bin(),
             test_dir, quiet ? "--quiet" : "", test_dir);
    const int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), status);
    FILE *f = fopen(path_in(test_dir, "tty.out"), "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

/* The progress line redraws in place, and --quiet turns it off; an interval
 * that is not a number of seconds is refused before the work. */
static void progress_on_a_terminal(void **state)
{
    (void)state;
    const char *text = on_a_terminal("0", 0, 0);
    if (!strstr(text, "\r\033[Kepoch 1/1 [") || !strstr(text, "samples/s  ETA"))
        fail_msg("no progress line in: %.300s", text);
    assert_null(strstr(on_a_terminal("0", 1, 0), "\r\033[Kepoch 1/1 ["));
    /* the default interval outlasts this epoch: no line */
    assert_null(strstr(on_a_terminal("60", 0, 0), "\r\033[Kepoch 1/1 ["));
    text = on_a_terminal("-1", 0, 64);
    assert_non_null(strstr(text, "train: TRAIN_PROGRESS_SECONDS: '-1' is not a number"));
}

static void write_errors_fail(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"--data-dir", test_dir, "--json", "--epochs", "1", NULL};
    assert_int_equal(run_train_to(args, "/dev/full", &out, &err), 74);
    assert_non_null(strstr(err, "train: stdout: No space left on device"));
    free(out), free(err);
    const char *help[] = {"--help", NULL};
    assert_int_equal(run_train_to(help, "/dev/full", &out, &err), 74);
    free(out), free(err);
}

static void divergence_is_an_error(void **state)
{
    (void)state;
    char *out, *err;
    /* depth makes weight growth multiplicative: the logits overflow to inf, then nan */
    RUN(65, out, err, "--data-dir", test_dir, "--lr", "100", "--hidden", "64,64,64,64", "--json");
    assert_non_null(strstr(err, "train: training diverged: loss is"));
    assert_non_null(strstr(err, "(try a lower lr)"));
    free(out), free(err);
}

/* The one line --quiet leaves on stdout: "test accuracy: P% (C/N)" */
static void assert_result_line(const char *out, int total)
{
    double pct;
    int correct, n, len = 0;
    assert_int_equal(sscanf(out, "test accuracy: %lf%% (%d/%d)\n%n", &pct, &correct, &n, &len), 3);
    assert_int_equal(n, total);
    assert_true(correct >= 0 && correct <= n);
    assert_float_equal(pct, 100.0 * correct / n, 0.005);
    if ((size_t)len != strlen(out))
        fail_msg("--quiet printed more than the result line:\n%s", out);
}

/* --quiet: the final result line alone on stdout, for every kind of run that
 * ends in one; output asked for by name (--report, --predict, --print-config)
 * stays; --json is unchanged */
static void quiet_prints_the_result_alone(void **state)
{
    (void)state;
    char *out, *err, *loud, *lerr;
    const char *m = path_in(test_dir, "quiet.bin");
    RUN(0, loud, lerr, "--data-dir", test_dir, "--epochs", "2", "--hidden", "16", "--save", m);
    RUN(0, out, err, "--data-dir", test_dir, "--epochs", "2", "--hidden", "16", "--quiet");
    assert_result_line(out, 200);
    /* the same line the full output ends with: the same number */
    assert_string_equal(strstr(loud, "test accuracy: "), out);
    assert_string_equal(err, "");
    free(out), free(err), free(loud), free(lerr);
    const char *runs[][8] = {
        {"--val", "100", "--epochs", "1"},
        {"--load", m, "--epochs", "0"},
        {"--task", "binary", "--positive", "3", "--epochs", "1"},
        {"--task", "pairs", "--epochs", "1"},
        {"--head", "sigmoid", "--epochs", "1", "--metrics", path_in(test_dir, "q.csv")},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *a[16] = {"--data-dir", test_dir, "--quiet"};
        int k = 3;
        for (int j = 0; j < 8 && runs[i][j]; j++)
            a[k++] = runs[i][j];
        a[k] = NULL;
        assert_int_equal(run_train(a, &out, &err), 0);
        assert_result_line(out, 200);
        free(out), free(err);
    }
    /* --report is asked for: it stays, and the result line is still last */
    RUN(0, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--report", "--quiet");
    assert_true(!strncmp(out, "head report on 200 test images:\n", 32));
    assert_result_line(strstr(out, "test accuracy: "), 200);
    free(out), free(err);
    /* --predict's rows are its result; --print-config's JSON is its output */
    RUN(0, loud, lerr, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"));
    RUN(0, out, err, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"),
        "--quiet");
    assert_string_equal(out, loud);
    assert_true(!strncmp(out, "index,prediction,p0,", 20));
    free(out), free(err), free(loud), free(lerr);
    RUN(0, loud, lerr, "--data-dir", test_dir, "--print-config");
    RUN(0, out, err, "--data-dir", test_dir, "--print-config", "--quiet");
    assert_non_null(strstr(out, "\"quiet\":\ttrue"));
    assert_int_equal(strlen(out) + 1, strlen(loud));   /* "false" -> "true" only */
    free(out), free(err), free(loud), free(lerr);
    /* --json: the same lines as without --quiet */
    RUN(0, loud, lerr, "--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--json");
    RUN(0, out, err, "--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--json", "--quiet");
    char *a = json_without_times(loud), *b = json_without_times(out);
    assert_non_null(strstr(a, "\"type\":\"epoch\""));
    /* the summary's config differs in "quiet" alone */
    char *q = strstr(a, "\"quiet\":false");
    assert_non_null(q);
    memmove(q + 12, q + 13, strlen(q + 13) + 1);
    memcpy(q, "\"quiet\":true", 12);
    assert_string_equal(a, b);
    free(a), free(b), free(out), free(err), free(loud), free(lerr);
    /* errors still go to stderr, nothing to stdout */
    RUN(66, out, err, "--data-dir", path_in(test_dir, "none"), "--quiet");
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "train: "));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(readme_documents_every_flag),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(input_errors),
        cmocka_unit_test(json_output_and_learning),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(text_output),
        cmocka_unit_test(quiet_prints_the_result_alone),
        cmocka_unit_test(print_config_reloads),
        cmocka_unit_test(head_report_and_predictions),
        cmocka_unit_test(compare_tool),
        cmocka_unit_test(compare_reads_the_files_named),
        cmocka_unit_test(compare_pairs_each_run_with_its_predictions),
        cmocka_unit_test(compare_accepts_genuine_runs),
        cmocka_unit_test(metrics_files),
        cmocka_unit_test(metrics_format_by_suffix_alone),
        cmocka_unit_test(progress_on_a_terminal),
        cmocka_unit_test(write_errors_fail),
        cmocka_unit_test(divergence_is_an_error),
    };
    return cmocka_run_group_tests_name("cli", tests, setup_synthetic_dir, teardown_dir);
}
