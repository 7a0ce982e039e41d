/* Statistics of the head comparison and the head report's metrics, on values
 * worked out by hand (McNemar's p from exact binomial sums). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stats/stats.h"
#include "train/outstats_testing.h"

static void mcnemar_exact(void **state)
{
    (void)state;
    assert_float_equal(stats_mcnemar_p(0, 0), 1.0, 0);
    assert_float_equal(stats_mcnemar_p(1, 5), 0.21875, 1e-12);          /* 2 * 7/64 */
    assert_float_equal(stats_mcnemar_p(5, 1), 0.21875, 1e-12);          /* symmetric */
    assert_float_equal(stats_mcnemar_p(10, 0), 0.001953125, 1e-12);     /* 2 / 2^10 */
    assert_float_equal(stats_mcnemar_p(5, 5), 1.0, 0);
    assert_float_equal(stats_mcnemar_p(30, 12), 0.007915897334896727, 1e-12);
    assert_float_equal(stats_mcnemar_p(100, 150), 0.001883300935076157, 1e-11);
    double p = stats_mcnemar_p(1200, 1000);
    assert_true(fabs(p - 2.1817026407914712e-05) < 1e-9);
}

static void t_quantiles(void **state)
{
    (void)state;
    assert_float_equal(stats_t975(4), 2.776, 1e-3);
    assert_float_equal(stats_t975(9), 2.262, 1e-3);
    assert_float_equal(stats_t975(30), 2.042, 1e-3);
    assert_float_equal(stats_t975(60), 2.0003, 2e-4);
    assert_float_equal(stats_t975(1000), 1.9623, 2e-4);
    assert_true(isnan(stats_t975(0)));
}

static void paired_interval(void **state)
{
    (void)state;
    double a[3] = {99.1, 99.2, 99.0}, b[3] = {99.2, 99.2, 99.1}, m, lo, hi;
    /* d = 0.1, 0, 0.1: mean 1/15, sd 0.057735, half width 4.303 * sd / sqrt 3 */
    stats_paired_ci(a, b, 3, &m, &lo, &hi);
    assert_float_equal(m, 0.1 / 1.5, 1e-9);
    assert_float_equal(hi - m, 4.303 * 0.0577350269 / sqrt(3), 1e-6);
    assert_float_equal(m - lo, hi - m, 1e-12);
    double x[4] = {1, 2, 3, 4};
    assert_float_equal(stats_mean(x, 4), 2.5, 1e-12);
    assert_float_equal(stats_sd(x, 4), sqrt(5.0 / 3), 1e-12);
}

static void ece_by_hand(void **state)
{
    (void)state;
    /* bin 14 holds 0.95 twice with one right: |0.5 - 0.95| * 2/4; bin 8 holds
     * 0.55 twice, both right: |1 - 0.55| * 2/4 */
    float conf[4] = {0.95f, 0.95f, 0.55f, 0.55f};
    uint8_t right[4] = {1, 0, 1, 1};
    assert_float_equal(outstats_ece(conf, right, 4, 15), 0.45, 1e-6);
    /* perfectly calibrated: confidence 1 and always right; 1.0 lands in the top bin */
    float one[2] = {1.0f, 1.0f};
    uint8_t yes[2] = {1, 1};
    assert_float_equal(outstats_ece(one, yes, 2, 15), 0, 1e-12);
}

static void output_statistics(void **state)
{
    (void)state;
    const float P[4 * 3] = {0.7f, 0.2f, 0.1f,  0.6f, 0.7f, 0.1f,  0.3f, 0.2f, 0.4f,
                            0.9f, 0.1f, 0.05f};
    const int pred[4] = {0, 1, 2, 0};
    const uint8_t y[4] = {0, 1, 2, 1};
    struct outstats m;
    outstats_compute(&m, P, pred, y, 4, 3);
    assert_int_equal(m.correct, 3);
    assert_float_equal(m.sum_mean, 4.35 / 4, 1e-6);
    assert_float_equal(m.sum_std, 0.1883305, 1e-6);   /* population std of 1, 1.4, .9, 1.05 */
    assert_float_equal(m.share_one, 0.5, 1e-12);        /* rows 1 and 4 */
    assert_float_equal(m.share_none, 0.25, 1e-12);      /* row 3 */
    assert_float_equal(m.share_multi, 0.25, 1e-12);     /* row 2 */
    assert_float_equal(m.strict_accuracy, 0.25, 1e-12); /* only row 1: {0} == {true class} */
    /* outputs [p > 0.5] against one-hot y: row 1 (1,0,0)=(1,0,0) 3 right, row 2
     * (1,1,0) vs (0,1,0) 2, row 3 (0,0,0) vs (0,0,1) 2, row 4 (1,0,0) vs (0,1,0) 1 */
    assert_float_equal(m.keras_binary_accuracy, 8.0 / 12, 1e-12);
    assert_float_equal(m.top_mean_correct, (0.7 + 0.7 + 0.4) / 3, 1e-6);
    assert_float_equal(m.top_mean_wrong, 0.9, 1e-6);
    assert_int_equal(m.confusion[1][0], 1);
    assert_int_equal(m.confusion[1][1], 1);
    assert_float_equal(m.per_class_accuracy[1], 0.5, 1e-12);
    assert_float_equal(m.per_class_accuracy[2], 1, 1e-12);
}

/* the trap: a 97% classifier reads 99.4% in Keras's binary accuracy; an
 * output of exactly 0.5 rounds to 0 (half to even) */
static void keras_binary_accuracy_trap(void **state)
{
    (void)state;
    enum { N = 100, K = 10 };
    static float P[N * K];
    int pred[N];
    uint8_t y[N];
    for (int i = 0; i < N; i++) {
        y[i] = (uint8_t)(i % K);
        pred[i] = i < 97 ? y[i] : (y[i] + 1) % K;   /* 3 wrong: two outputs wrong each */
        for (int k = 0; k < K; k++)
            P[i * K + k] = k == pred[i] ? 0.9f : 0.05f;
    }
    struct outstats m;
    outstats_compute(&m, P, pred, y, N, K);
    assert_int_equal(m.correct, 97);
    assert_float_equal(m.keras_binary_accuracy, (97 * 10 + 3 * 8) / 1000.0, 1e-12);
    /* 0.5 is "no": the true output at exactly 0.5 is wrong, a false one right */
    P[0] = 0.5f;
    P[1] = 0.5f;
    outstats_compute(&m, P, pred, y, N, K);
    assert_float_equal(m.keras_binary_accuracy, (97 * 10 + 3 * 8 - 1) / 1000.0, 1e-12);
}

static void softmax_sums_are_one(void **state)
{
    (void)state;
    /* many rows summing to 1 up to rounding: the std must not be cancellation noise */
    enum { N = 10000 };
    static float P[N * 2];
    static int pred[N];
    static uint8_t y[N];
    for (int i = 0; i < N; i++) {
        P[2 * i] = 0.25f + 0.5f * (float)i / N;
        P[2 * i + 1] = 1.0f - P[2 * i];
    }
    struct outstats m;
    outstats_compute(&m, P, pred, y, N, 2);
    assert_float_equal(m.sum_mean, 1, 1e-7);
    assert_true(m.sum_std < 1e-7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mcnemar_exact),
        cmocka_unit_test(t_quantiles),
        cmocka_unit_test(paired_interval),
        cmocka_unit_test(ece_by_hand),
        cmocka_unit_test(output_statistics),
        cmocka_unit_test(keras_binary_accuracy_trap),
        cmocka_unit_test(softmax_sums_are_one),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
