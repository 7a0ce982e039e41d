/* Tasks: targets, pair composition and scoring for each head, on a tiny
 * in-memory data set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "train/task.h"

/* four 2x2 images: image i has every pixel = 10 * (i + 1); labels 3, 3, 5, 0 */
static uint8_t PIX[16] = {10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30, 40, 40, 40, 40};
static uint8_t LAB[4] = {3, 3, 5, 0};
static const struct head SOFTMAX = {HEAD_SOFTMAX, HEAD_CCE};
static const struct head SIGMOID = {HEAD_SIGMOID, HEAD_BCE_SUM};
static const struct dataset D = {.n = 4, .rows = 2, .cols = 2, .dim = 4, .x = PIX, .y = LAB};

static void binary_targets_and_scores(void **state)
{
    (void)state;
    struct task sig, soft;
    assert_int_equal(task_init(&sig, TASK_BINARY, &SIGMOID, 3, &D), 0);
    assert_int_equal(task_init(&soft, TASK_BINARY, &SOFTMAX, 3, &D), 0);
    assert_int_equal(sig.n_outputs, 1);
    assert_int_equal(soft.n_outputs, 2);
    struct task_set s;
    task_set_init(&s, &sig, &D, 1, RNG_TASK);
    float X[16], T[8];
    task_batch(&sig, &s, NULL, 0, 4, X, T, 0, NULL);
    assert_float_equal(T[0], 1, 0);   /* a 3 */
    assert_float_equal(T[2], 0, 0);   /* a 5 */
    task_batch(&soft, &s, NULL, 0, 4, X, T, 0, NULL);
    assert_float_equal(T[0], 0, 0);   /* (other, D) one-hot */
    assert_float_equal(T[1], 1, 0);
    assert_float_equal(T[6], 1, 0);   /* the 0 is "other" */
    /* sigmoid says yes when z > 0; softmax when z1 > z0 */
    float z1[4] = {2, -1, -3, 0.5f};   /* yes no no yes against yes yes no no: 2 right */
    struct task_score sc = {0};
    task_score(&sig, &s, NULL, 0, 4, z1, &sc, NULL);
    assert_int_equal(sc.correct, 2);
    float z2[8] = {0, 1, 1, 0, 1, 0, 1, 0};   /* yes no no no: 3 right */
    memset(&sc, 0, sizeof sc);
    task_score(&soft, &s, NULL, 0, 4, z2, &sc, NULL);
    assert_int_equal(sc.correct, 3);
    assert_int_equal(sc.total, 4);
    task_set_free(&s);
    task_free(&sig);
    task_free(&soft);
}

static void pairs_compose_and_target(void **state)
{
    (void)state;
    struct task sig, soft;
    task_init(&sig, TASK_PAIRS, &SIGMOID, 0, &D);
    task_init(&soft, TASK_PAIRS, &SOFTMAX, 0, &D);
    assert_int_equal(sig.input_dim, 8);
    struct task_set s;
    assert_int_equal(task_set_init(&s, &sig, &D, 1, RNG_TASK), 0);
    /* fix the composition: sample 0 = images (0, 2): digits {3, 5};
     * sample 1 = images (0, 1): digits {3} twice */
    s.pairs[0] = 0, s.pairs[1] = 2, s.pairs[2] = 0, s.pairs[3] = 1;
    float X[16], T[20];
    task_batch(&sig, &s, NULL, 0, 2, X, T, 0, NULL);
    /* rows of the pair: [a row 0 | b row 0], [a row 1 | b row 1] */
    float a = 10 * (1.0f / 255.0f), b = 30 * (1.0f / 255.0f);
    float want[8] = {a, a, b, b, a, a, b, b};
    assert_memory_equal(X, want, sizeof want);
    assert_float_equal(T[3], 1, 0);
    assert_float_equal(T[5], 1, 0);
    assert_float_equal(T[10 + 3], 1, 0);   /* the same digit twice is one label */
    task_batch(&soft, &s, NULL, 0, 2, X, T, 0, NULL);
    assert_float_equal(T[3], 0.5, 0);       /* normalised for softmax */
    assert_float_equal(T[5], 0.5, 0);
    assert_float_equal(T[10 + 3], 1, 0);

    /* sigmoid predicts every z > 0; softmax the top k with k = |true set| */
    float z[20] = {0};
    for (int c = 0; c < 10; c++)
        z[c] = z[10 + c] = -1;
    z[3] = 2, z[5] = 1, z[7] = 0.5f;          /* sample 0: {3,5,7} by sigmoid, {3,5} by top-2 */
    z[10 + 3] = 3, z[10 + 8] = -0.5f;         /* sample 1: {3} both ways */
    struct task_score sc = {0};
    task_score(&sig, &s, NULL, 0, 2, z, &sc, NULL);
    assert_int_equal(sc.correct, 1);
    assert_int_equal(sc.tp[3], 2);
    assert_int_equal(sc.fp[7], 1);
    assert_int_equal(sc.fn[5], 0);
    memset(&sc, 0, sizeof sc);
    task_score(&soft, &s, NULL, 0, 2, z, &sc, NULL);
    assert_int_equal(sc.correct, 2);
    assert_int_equal(sc.fp[7], 0);

    /* sample 2 = images (3, 2): digits {0, 5}; reading only the 5 misses the 0 */
    s.pairs[4] = 3, s.pairs[5] = 2;
    float T3[10], z3[10] = {-1, -1, -1, -1, -1, 2, -1, -1, -1, -1};
    const float want3[10] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    task_batch(&sig, &s, NULL, 2, 1, X, T3, 0, NULL);
    assert_memory_equal(T3, want3, sizeof want3);
    memset(&sc, 0, sizeof sc);
    task_score(&sig, &s, NULL, 2, 1, z3, &sc, NULL);
    assert_int_equal(sc.correct, 0);
    assert_int_equal(sc.tp[5], 1);
    assert_int_equal(sc.fn[0], 1);
    assert_int_equal(sc.fn[5], 0);
    assert_int_equal(sc.fp[0] + sc.fp[5], 0);
    task_set_free(&s);
    task_free(&sig);
    task_free(&soft);
}

static void pairs_depend_on_the_seed(void **state)
{
    (void)state;
    struct task t;
    task_init(&t, TASK_PAIRS, &SIGMOID, 0, &D);
    struct task_set a, b, c;
    task_set_init(&a, &t, &D, 7, RNG_TASK);
    task_set_init(&b, &t, &D, 7, RNG_TASK);
    task_set_init(&c, &t, &D, 8, RNG_TASK);
    assert_memory_equal(a.pairs, b.pairs, 8 * sizeof(uint32_t));
    assert_memory_not_equal(a.pairs, c.pairs, 8 * sizeof(uint32_t));
    for (int i = 0; i < 8; i++)
        assert_true(a.pairs[i] < 4);
    task_set_free(&a);
    task_set_free(&b);
    task_set_free(&c);
    task_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binary_targets_and_scores),
        cmocka_unit_test(pairs_compose_and_target),
        cmocka_unit_test(pairs_depend_on_the_seed),
    };
    return cmocka_run_group_tests_name("task", tests, NULL, NULL);
}
