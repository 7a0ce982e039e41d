/* Per-class figures: precision, recall and F1 of each class and their macro
 * means, from the confusion matrix's integers (a hand-computed case, and the
 * same matrix reached from predictions); train's --json summary and --report
 * carry them, consistent with the confusion matrix; compare --by-class shows
 * where two configs' errors differ by class (a hand-made results folder). */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>
#include <math.h>

#include "support/support.h"
#include "train/outstats.h"

/*   true \ predicted   0  1  2
 *          0           5  1  0
 *          1           2  3  1
 *          2           0  0  0     (no image of class 2, one wrong prediction of it)
 * class 0: tp 5, fp 2, fn 1: P 5/7, R 5/6, F1 10/13
 * class 1: tp 3, fp 1, fn 3: P 3/4, R 1/2, F1 6/10
 * class 2: tp 0, fp 1, fn 0: P 0/1, R 0/0 -> 0, F1 0/1 */
/* doubles equal to rounding (this cmocka has no assert_double_equal) */
#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static const long long hand[DATASET_CLASSES][DATASET_CLASSES] = {
    {5, 1, 0}, {2, 3, 1}, {0, 0, 0}};

static void check_hand(const struct class_figures *f)
{
    const long long tp[3] = {5, 3, 0}, fp[3] = {2, 1, 1}, fn[3] = {1, 3, 0};
    const double P[3] = {5.0 / 7, 3.0 / 4, 0}, R[3] = {5.0 / 6, 1.0 / 2, 0},
                 F[3] = {10.0 / 13, 6.0 / 10, 0};
    assert_int_equal(f->K, 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(f->tp[k], tp[k]);
        assert_int_equal(f->fp[k], fp[k]);
        assert_int_equal(f->fn[k], fn[k]);
        assert_double_equal(f->precision[k], P[k], 1e-15);
        assert_double_equal(f->recall[k], R[k], 1e-15);
        assert_double_equal(f->f1[k], F[k], 1e-15);
        /* F1 is the harmonic mean of P and R where both are defined */
        if (P[k] + R[k] > 0)
            assert_double_equal(f->f1[k], 2 * P[k] * R[k] / (P[k] + R[k]), 1e-15);
    }
    assert_double_equal(f->macro_precision, (5.0 / 7 + 3.0 / 4) / 3, 1e-15);
    assert_double_equal(f->macro_recall, (5.0 / 6 + 1.0 / 2) / 3, 1e-15);
    assert_double_equal(f->macro_f1, (10.0 / 13 + 6.0 / 10) / 3, 1e-15);
}

static void hand_computed(void **state)
{
    (void)state;
    struct class_figures f;
    outstats_class_figures(&f, hand, 3);
    check_hand(&f);
}

/* the same matrix, reached from labels and predictions */
static void from_predictions(void **state)
{
    (void)state;
    uint8_t y[12];
    int pred[12];
    float P[12 * 3] = {0};
    int n = 0;
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++)
            for (long long i = 0; i < hand[t][p]; i++, n++) {
                y[n] = (uint8_t)t;
                pred[n] = p;
                P[n * 3 + p] = 1;
            }
    assert_int_equal(n, 12);
    struct outstats m;
    outstats_compute(&m, P, pred, y, n, 3);
    check_hand(&m.classes);
}

static double num(const cJSON *a, int k) { return cJSON_GetArrayItem(a, k)->valuedouble; }

/* a real run: the summary's per-class integers are the confusion matrix's,
 * and the figures are made of them */
static void summary_carries_them(void **state)
{
    (void)state;
    char *out, *err;
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--lr", "0.02",
        "--json", "--report");
    cJSON *l[4];
    assert_int_equal(json_lines(out, l, 4), 2);
    const cJSON *s = l[1], *c = cJSON_GetObjectItem(s, "per_class");
    const cJSON *conf = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "report"), "confusion");
    const cJSON *tp = cJSON_GetObjectItem(c, "true_positives"),
                *fp = cJSON_GetObjectItem(c, "false_positives"),
                *fn = cJSON_GetObjectItem(c, "false_negatives");
    double sum_tp = 0, sum_fp = 0, sum_fn = 0, macro = 0;
    for (int k = 0; k < 10; k++) {
        double row = 0, col = 0;
        for (int j = 0; j < 10; j++) {
            row += j == k ? 0 : num(cJSON_GetArrayItem(conf, k), j);
            col += j == k ? 0 : num(cJSON_GetArrayItem(conf, j), k);
        }
        assert_true(num(tp, k) == num(cJSON_GetArrayItem(conf, k), k));
        assert_true(num(fp, k) == col);
        assert_true(num(fn, k) == row);
        double t = num(tp, k), want = t + col ? t / (t + col) : 0;
        /* (cJSON prints a double with 15 digits when that reads back within
         * its own epsilon) */
        assert_double_equal(num(cJSON_GetObjectItem(c, "precision"), k), want, 1e-14);
        want = t + row ? t / (t + row) : 0;
        assert_double_equal(num(cJSON_GetObjectItem(c, "recall"), k), want, 1e-14);
        want = 2 * t + row + col ? 2 * t / (2 * t + row + col) : 0;
        assert_double_equal(num(cJSON_GetObjectItem(c, "f1"), k), want, 1e-14);
        macro += want;
        sum_tp += t, sum_fp += col, sum_fn += row;
    }
    assert_double_equal(json_num(c, "macro_f1"), macro / 10, 1e-14);
    assert_true(sum_tp == json_num(s, "test_correct"));
    assert_true(sum_fp == json_num(s, "test_total") - sum_tp);
    assert_true(sum_fn == sum_fp);
    /* a run this short gets some wrong: the figures are not all 1 */
    assert_true(sum_fp > 0);
    cJSON_Delete(l[0]), cJSON_Delete(l[1]);
    free(out), free(err);
    /* without --report the summary still has them */
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--json");
    assert_non_null(strstr(out, "\"per_class\":{\"true_positives\":["));
    free(out), free(err);
    /* the text report prints the table */
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--report");
    assert_non_null(strstr(out, "  class     tp     fp     fn  precision   recall       F1\n"));
    assert_non_null(strstr(out, "  macro "));
    free(out), free(err);
}

/* one run's files as seed-runs.sh leaves them: labels 0,0,1,1,2,2 and which
 * of the six images it got right */
static void write_run(const char *dir, const char *name, int seed, const int right[6])
{
    char path[4096], *csv = malloc(4096);
    int n = snprintf(csv, 4096, "index,label,prediction,p0,p1,p2\n"), ok = 0;
    for (int i = 0; i < 6; i++) {
        int label = i / 2, pred = right[i] ? label : (label + 1) % 3;
        n += snprintf(csv + n, 4096 - (size_t)n, "%d,%d,%d,0,0,0\n", i, label, pred);
        ok += right[i];
    }
    snprintf(path, sizeof path, "%s/%s-seed%d.pred.csv", dir, name, seed);
    write_text(path, csv);
    unsigned long crc = crc32_z(0L, (const unsigned char *)csv, strlen(csv)) & 0xffffffffUL;
    snprintf(csv, 4096, "{\"type\":\"summary\",\"config\":{\"seed\":%d,\"head\":\"%s\"},"
             "\"test_accuracy\":%.17g,\"test_correct\":%d,\"test_total\":6,"
             "\"predictions_crc32\":\"%08lx\"}\n", seed, name, ok / 6.0, ok, crc);
    snprintf(path, sizeof path, "%s/%s-seed%d.jsonl", dir, name, seed);
    write_text(path, csv);
    free(csv);
}

/* pooled over seeds 1 and 2:
 *   class 0: A wrong on seed 1 image 1 (B right), B wrong on seed 2 image 0 (A right)
 *   class 1: B wrong on seed 1 image 2 (A right)
 *   class 2: both wrong on seed 1 image 4, A wrong on seed 2 image 5 (B right) */
static void compare_by_class(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    const int a1[6] = {1, 0, 1, 1, 0, 1}, b1[6] = {1, 1, 0, 1, 0, 1};
    const int a2[6] = {1, 1, 1, 1, 1, 0}, b2[6] = {0, 1, 1, 1, 1, 1};
    write_run(dir, "A", 1, a1);
    write_run(dir, "B", 1, b1);
    write_run(dir, "A", 2, a2);
    write_run(dir, "B", 2, b2);
    char *out, *err;
    const char *args[] = {"--by-class", dir, "A", "B", NULL};
    int rc = run_prog(compare_bin(), args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    const char *want =
        "Errors by true class, pooled over the 2 seeds both ran:\n\n"
        "| class | images | A errors | B errors | B − A | only A wrong | only B wrong | McNemar p |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| 0 | 4 | 1 | 1 | +0 | 1 | 1 | 1 |\n"
        "| 1 | 4 | 0 | 1 | +1 | 0 | 1 | 1 |\n"
        "| 2 | 4 | 2 | 1 | -1 | 1 | 0 | 1 |\n";
    const char *at = strstr(out, "Errors by true class");
    assert_non_null(at);
    assert_string_equal(at, want);
    free(out), free(err);
    /* without the flag, the output is what it was */
    const char *plain[] = {dir, "A", "B", NULL};
    assert_int_equal(run_prog(compare_bin(), plain, &out, &err), 0);
    assert_null(strstr(out, "Errors by true class"));
    assert_non_null(strstr(out, "| pooled | | | 2 | 2 |"));
    free(out), free(err);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_computed),
        cmocka_unit_test(from_predictions),
        cmocka_unit_test(summary_carries_them),
        cmocka_unit_test(compare_by_class),
    };
    return cmocka_run_group_tests_name("classes", tests, setup_synthetic_dir, teardown_dir);
}
