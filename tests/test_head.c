/* The two heads: losses and gradients against hand-computed values, extreme
 * logits, finite differences, and softmax over (z, 0) == sigmoid(z). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/act.h"
#include "nn/head.h"
#include "support/support.h"

static const struct head SOFTMAX = {HEAD_SOFTMAX, HEAD_CCE};
static const struct head SIGMOID = {HEAD_SIGMOID, HEAD_BCE_SUM};
static const struct head SIGMOID_MEAN = {HEAD_SIGMOID, HEAD_BCE_MEAN};
static const struct head SQUARED = {HEAD_SIGMOID, HEAD_SQUARED};
static const struct head KERAS_CCE = {HEAD_SIGMOID, HEAD_KERAS_CCE};

/* Nielsen's quadratic cost: 1/2 sum (p - y)^2, gradient (p - y) p (1 - p) */
static void squared_hand_values(void **state)
{
    (void)state;
    float z[3] = {0, 2, -3}, t[3] = {1, 0, 0}, p[3], dz[3];
    /* p = (0.5, 0.8807970780, 0.0474258732):
     * 1/2 (0.25 + 0.7758034897 + 0.0022492134) */
    double loss = head_loss(&SQUARED, p, dz, z, t, 1, 3);
    assert_float_equal(loss, 0.5140263530, 1e-6);
    assert_float_equal(dz[0], -0.5 * 0.5 * 0.5, 1e-7);
    assert_float_equal(dz[1], 0.0924780432, 1e-6);
    assert_float_equal(dz[2], 0.0021425425, 1e-7);
    /* two samples: the gradient is of the batch mean, the loss the sum */
    float z2[6] = {0, 2, -3, 0, 2, -3}, t2[6] = {1, 0, 0, 1, 0, 0}, p2[6], d2[6];
    assert_float_equal(head_loss(&SQUARED, p2, d2, z2, t2, 2, 3), 2 * 0.5140263530, 2e-6);
    assert_float_equal(d2[4], 0.0924780432 / 2, 1e-6);
    /* saturated: a confident wrong answer has almost no gradient (the slowness
     * ch. 3 fixes with cross-entropy), and nothing is NaN */
    float zs[1] = {30}, ts[1] = {0}, ps[1], ds[1];
    assert_float_equal(head_loss(&SQUARED, ps, ds, zs, ts, 1, 1), 0.5, 1e-7);
    assert_true(ds[0] >= 0 && ds[0] < 1e-12);
}

/* Keras: q = p / sum p, clipped to [1e-7, 1 - 1e-7], loss -sum y log q. For a
 * one-hot y = c the unclipped loss is log S - log p_c and the gradient
 * dL/dz_j = -(1 - p_c) [j = c] + p_j (1 - p_j) / S. */
static void keras_cce_hand_values(void **state)
{
    (void)state;
    float z[3] = {0, 2, -3}, t[3] = {1, 0, 0}, p[3], dz[3];
    /* S = 0.5 + 0.8807970780 + 0.0474258732 = 1.4282229512, q0 = 0.5 / S */
    double loss = head_loss(&KERAS_CCE, p, dz, z, t, 1, 3);
    assert_float_equal(loss, 1.0495781606, 1e-6);
    assert_float_equal(p[1], 0.8807970780, 1e-6);   /* the outputs are the sigmoids */
    assert_float_equal(dz[0], -0.5 + 0.25 / 1.4282229512, 1e-6);
    assert_float_equal(dz[1], 0.0735134422, 1e-6);
    assert_float_equal(dz[2], 0.0316313778, 1e-6);
    float z2[3] = {1, -1, 0.5f}, t2[3] = {0, 1, 0};
    assert_float_equal(head_loss(&KERAS_CCE, p, dz, z2, t2, 1, 3), 1.7972047913, 1e-6);
    assert_float_equal(dz[1], -0.6098771539, 1e-6);
    /* clipped low: q_c = sigmoid(-20) / (about 2) = 1.03e-9 < 1e-7, so the loss
     * is -log 1e-7 and, through the clip, no gradient at all: Keras's plateau */
    float zl[3] = {-20, 20, 20}, tl[3] = {1, 0, 0};
    assert_float_equal(head_loss(&KERAS_CCE, p, dz, zl, tl, 1, 3), 16.1180956510, 1e-6);
    for (int k = 0; k < 3; k++)
        assert_float_equal(dz[k], 0, 0);
    /* clipped high: q_c = 1 - 4e-9 > 1 - 1e-7: loss -log(1 - 1e-7), no gradient */
    float zh[3] = {20, -20, -20}, th[3] = {1, 0, 0};
    assert_float_equal(head_loss(&KERAS_CCE, p, dz, zh, th, 1, 3), 1.00000005e-7, 1e-12);
    for (int k = 0; k < 3; k++)
        assert_float_equal(dz[k], 0, 0);
    /* every sigmoid 0 in float32: no 0/0, a finite loss */
    float z0[2] = {-200, -200}, t0[2] = {1, 0};
    double l0 = head_loss(&KERAS_CCE, p, dz, z0, t0, 1, 2);
    assert_float_equal(l0, log(2.0), 1e-9);
    assert_float_equal(dz[0], 0, 0);
}

/* which loss goes with which head, and what auto means */
static void loss_resolution(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(head_resolve_loss(HEAD_SOFTMAX, HEAD_LOSS_AUTO, &why), HEAD_CCE);
    assert_int_equal(head_resolve_loss(HEAD_SOFTMAX, HEAD_CCE, &why), HEAD_CCE);
    assert_int_equal(head_resolve_loss(HEAD_SIGMOID, HEAD_LOSS_AUTO, &why), HEAD_BCE_SUM);
    assert_int_equal(head_resolve_loss(HEAD_SIGMOID, HEAD_BCE_MEAN, &why), HEAD_BCE_MEAN);
    assert_int_equal(head_resolve_loss(HEAD_SIGMOID, HEAD_SQUARED, &why), HEAD_SQUARED);
    for (int l = HEAD_BCE_SUM; l < N_HEAD_LOSSES; l++) {
        assert_int_equal(head_resolve_loss(HEAD_SOFTMAX, (enum head_loss)l, &why), -1);
        assert_non_null(strstr(why, "softmax"));
    }
    assert_int_equal(head_resolve_loss(HEAD_SIGMOID, HEAD_CCE, &why), -1);
    assert_non_null(strstr(why, "sigmoid"));
}

static void softmax_hand_values(void **state)
{
    (void)state;
    float z[3] = {1, 2, 3}, t[3] = {0, 0, 1}, p[3], dz[3];
    double loss = head_loss(&SOFTMAX, p, dz, z, t, 1, 3);
    /* lse = 3 + log(e^-2 + e^-1 + 1) */
    assert_float_equal(loss, 0.4076059644, 1e-6);
    assert_float_equal(p[0], 0.0900305732, 1e-6);
    assert_float_equal(p[1], 0.2447284711, 1e-6);
    assert_float_equal(p[2], 0.6652409558, 1e-6);
    assert_float_equal(dz[0], 0.0900305732, 1e-6);
    assert_float_equal(dz[2], 0.6652409558 - 1, 1e-6);
}

static void sigmoid_hand_values(void **state)
{
    (void)state;
    float z[3] = {0, 2, -3}, t[3] = {1, 0, 0}, p[3], dz[3];
    /* log 2 + (2 + log1p(e^-2)) + log1p(e^-3) */
    double loss = head_loss(&SIGMOID, p, dz, z, t, 1, 3);
    assert_float_equal(loss, 0.6931471806 + 2.1269280110 + 0.0485873516, 1e-5);
    assert_float_equal(p[1], 0.8807970780, 1e-6);
    assert_float_equal(dz[0], -0.5, 1e-6);
    assert_float_equal(dz[1], 0.8807970780, 1e-6);
    assert_float_equal(dz[2], 0.0474258732, 1e-6);
    /* mean reduction divides loss and gradient by the K = 3 outputs */
    double mean = head_loss(&SIGMOID_MEAN, p, dz, z, t, 1, 3);
    assert_float_equal(mean, loss / 3, 1e-6);
    assert_float_equal(dz[1], 0.8807970780 / 3, 1e-6);
}

static void gradient_is_p_minus_y_over_batch(void **state)
{
    (void)state;
    float z[4] = {0.5f, -1, 2, 0}, t[4] = {0, 1, 1, 0}, p[4], dz[4];
    const struct head *heads[] = {&SOFTMAX, &SIGMOID};
    for (int h = 0; h < 2; h++) {
        head_loss(heads[h], p, dz, z, t, 2, 2);   /* two samples of two outputs */
        for (int i = 0; i < 4; i++)
            assert_float_equal(dz[i], (p[i] - t[i]) / 2, 1e-7);
    }
    /* softmax rows sum to 1, sigmoid rows do not */
    head_outputs(&SOFTMAX, p, z, 2, 2);
    assert_float_equal(p[0] + p[1], 1.0, 1e-6);
    assert_float_equal(p[3], 1 / (1 + exp(2.0)), 1e-6);   /* row 2: softmax(2, 0) */
    head_outputs(&SIGMOID, p, z, 2, 2);
    assert_true(fabs(p[0] + p[1] - 1.0) > 0.1);
    assert_float_equal(p[2], act_sigmoid(2), 1e-7);
    assert_float_equal(p[3], 0.5, 1e-7);
}

static void extreme_logits_are_finite(void **state)
{
    (void)state;
    float z[3] = {1000, -1000, 0}, t[3] = {0, 1, 0}, p[3], dz[3];
    double loss = head_loss(&SOFTMAX, p, dz, z, t, 1, 3);
    assert_float_equal(loss, 2000, 1e-3);
    assert_float_equal(dz[0], 1, 1e-6);
    assert_float_equal(dz[1], -1, 1e-6);
    assert_float_equal(dz[2], 0, 1e-6);
    loss = head_loss(&SIGMOID, p, dz, z, t, 1, 3);
    assert_float_equal(loss, 1000 + 1000 + 0.6931471806, 1e-3);
    assert_float_equal(dz[0], 1, 1e-6);
    assert_float_equal(dz[1], -1, 1e-6);
    /* a confident right answer costs nothing, not log(0) */
    float zr[2] = {1000, -1000}, tr[2] = {1, 0};
    assert_float_equal(head_loss(&SIGMOID, p, dz, zr, tr, 1, 2), 0, 1e-12);
    assert_float_equal(head_loss(&SOFTMAX, p, dz, zr, tr, 1, 2), 0, 1e-12);
}

struct fd_ctx {
    const struct head *h;
    float *z, *t, *p;
    int B, K;
};

static double fd_loss(void *c)
{
    struct fd_ctx *x = c;
    return head_loss(x->h, x->p, NULL, x->z, x->t, x->B, x->K) / x->B;
}

/* every head with every loss, on the targets of every kind of question a task
 * asks (one of ten, one of two, any of ten) */
static void finite_differences(void **state)
{
    (void)state;
    enum { B = 3, N = 10 };
    const struct { enum head_question q; int n; unsigned truth[B]; } qs[] = {
        {HEAD_ONE_OF, 10, {1u << 0, 1u << 7, 1u << 4}},
        {HEAD_ONE_OF, 2, {1u << 1, 1u << 0, 1u << 1}},
        {HEAD_ANY_OF, 10, {1u << 2 | 1u << 9, 1u << 5, 1u << 0 | 1u << 1}},
    };
    int checked = 0, expected = 0;
    for (int kind = 0; kind < N_HEAD_KINDS; kind++)
        for (int loss = 0; loss < N_HEAD_LOSSES; loss++) {
            const char *why;
            if (loss == HEAD_LOSS_AUTO ||
                head_resolve_loss((enum head_kind)kind, (enum head_loss)loss, &why) < 0)
                continue;
            for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++) {
                struct head h = {(enum head_kind)kind, (enum head_loss)loss};
                int K = head_n_outputs(&h, qs[q].q, qs[q].n);
                float z[B * N], t[B * N], p[B * N], dz[B * N];
                for (int i = 0; i < B * K; i++)
                    z[i] = (float)sin(1.7 * i) * 3;
                for (int b = 0; b < B; b++)
                    head_target(&h, qs[q].q, qs[q].n, qs[q].truth[b], t + b * K);
                double l = head_loss(&h, p, dz, z, t, B, K);
                struct fd_ctx c = {&h, z, t, p, B, K};
                double max_grad, err = grad_check(fd_loss, &c, z, dz, (size_t)(B * K), 1e-2,
                                                  &max_grad);
                expected++;
                if (loss == HEAD_KERAS_CCE && K == 1) {
                    /* one output divided by itself is 1: a constant loss (the config
                     * refuses keras-cce with task binary) */
                    double ones = t[0] + t[1] + t[2];   /* -log(1 - 1e-7) per target 1 */
                    if (max_grad != 0 || err > 1e-9 || fabs(l - ones * 1.00000005e-7) > 1e-12)
                        fail_msg("keras-cce on one output: loss %g, max |grad| %g", l, max_grad);
                } else if (max_grad < 1e-3 || err > 2e-3) {
                    fail_msg("head %d loss %d question %zu: max |grad| %g, error %g", kind, loss,
                             q, max_grad, err);
                }
                checked++;
            }
        }
    /* softmax: cce; sigmoid: bce, bce-mean, squared, keras-cce; 3 questions each */
    assert_int_equal(expected, 5 * 3);
    assert_int_equal(checked, expected);
}

static const struct head HEADS[2] = {{HEAD_SOFTMAX, HEAD_CCE}, {HEAD_SIGMOID, HEAD_BCE_SUM}};

/* how many outputs a question takes, and its targets */
static void outputs_and_targets(void **state)
{
    (void)state;
    const struct head *soft = &HEADS[0], *sig = &HEADS[1];
    assert_int_equal(head_n_outputs(soft, HEAD_ONE_OF, 10), 10);
    assert_int_equal(head_n_outputs(sig, HEAD_ONE_OF, 10), 10);
    assert_int_equal(head_n_outputs(soft, HEAD_ONE_OF, 2), 2);
    assert_int_equal(head_n_outputs(sig, HEAD_ONE_OF, 2), 1);   /* one output, P(class 1) */
    assert_int_equal(head_n_outputs(soft, HEAD_ANY_OF, 10), 10);
    assert_int_equal(head_n_outputs(sig, HEAD_ANY_OF, 10), 10);
    assert_int_equal(head_n_outputs(sig, HEAD_ANY_OF, 2), 2);
    float t[10];
    head_target(sig, HEAD_ONE_OF, 2, 1u << 1, t);
    assert_float_equal(t[0], 1, 0);
    head_target(sig, HEAD_ONE_OF, 2, 1u << 0, t);
    assert_float_equal(t[0], 0, 0);
    head_target(soft, HEAD_ONE_OF, 2, 1u << 0, t);
    assert_float_equal(t[0], 1, 0);
    assert_float_equal(t[1], 0, 0);
    const float one_hot[10] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    for (int h = 0; h < 2; h++) {
        head_target(&HEADS[h], HEAD_ONE_OF, 10, 1u << 3, t);
        assert_memory_equal(t, one_hot, sizeof t);
        head_target(&HEADS[h], HEAD_ANY_OF, 10, 1u << 3, t);   /* a set of one */
        assert_memory_equal(t, one_hot, sizeof t);
    }
    head_target(sig, HEAD_ANY_OF, 10, 1u << 3 | 1u << 8, t);   /* multi-hot */
    const float multi[10] = {0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    assert_memory_equal(t, multi, sizeof t);
    head_target(soft, HEAD_ANY_OF, 10, 1u << 0 | 1u << 3 | 1u << 8, t);   /* sums to 1 */
    assert_float_equal(t[0], 1.0 / 3, 1e-7);
    assert_float_equal(t[8], 1.0 / 3, 1e-7);
    assert_float_equal(t[1], 0, 0);
}

/* how an answer is read back from the logits */
static void prediction_rules(void **state)
{
    (void)state;
    const struct head *soft = &HEADS[0], *sig = &HEADS[1];
    float z10[10] = {-1, 2, 0.5f, 2, -3, 1.5f, -2, 0.2f, -0.1f, 0};
    for (int h = 0; h < 2; h++)   /* argmax, the first of ties */
        assert_int_equal(head_predict(&HEADS[h], HEAD_ONE_OF, 10, z10, 1), 1u << 1);
    /* two classes: sigmoid's one output says class 1 when z > 0 (0 is class 0) */
    float pos = 0.3f, zero = 0, neg = -0.3f;
    assert_int_equal(head_predict(sig, HEAD_ONE_OF, 2, &pos, 1), 1u << 1);
    assert_int_equal(head_predict(sig, HEAD_ONE_OF, 2, &zero, 1), 1u << 0);
    assert_int_equal(head_predict(sig, HEAD_ONE_OF, 2, &neg, 1), 1u << 0);
    /* softmax's two outputs: class 1 when z1 > z0, class 0 on a tie */
    float a[2] = {0.1f, 0.4f}, b[2] = {0.4f, 0.1f}, c[2] = {0.2f, 0.2f};
    assert_int_equal(head_predict(soft, HEAD_ONE_OF, 2, a, 1), 1u << 1);
    assert_int_equal(head_predict(soft, HEAD_ONE_OF, 2, b, 1), 1u << 0);
    assert_int_equal(head_predict(soft, HEAD_ONE_OF, 2, c, 1), 1u << 0);
    /* sets: sigmoid takes every z > 0 whatever k; softmax the top k */
    unsigned above = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 5 | 1u << 7;
    assert_int_equal(head_predict(sig, HEAD_ANY_OF, 10, z10, 1), above);
    assert_int_equal(head_predict(sig, HEAD_ANY_OF, 10, z10, 3), above);
    assert_int_equal(head_predict(soft, HEAD_ANY_OF, 10, z10, 1), 1u << 1);
    assert_int_equal(head_predict(soft, HEAD_ANY_OF, 10, z10, 2), 1u << 1 | 1u << 3);
    assert_int_equal(head_predict(soft, HEAD_ANY_OF, 10, z10, 3), 1u << 1 | 1u << 3 | 1u << 5);
    float first[4] = {3, -1, 2, 1};   /* the largest first */
    assert_int_equal(head_predict(soft, HEAD_ANY_OF, 4, first, 2), 1u << 0 | 1u << 2);
    assert_int_equal(head_predict(soft, HEAD_ONE_OF, 4, first, 1), 1u << 0);
}

static void softmax_over_z_and_zero_is_sigmoid(void **state)
{
    (void)state;
    for (float z = -30; z <= 30; z += 0.37f) {
        float two[2] = {z, 0}, t2[2] = {1, 0}, p2[2], d2[2];
        float one[1] = {z}, t1[1] = {1}, p1[1], d1[1];
        double l2 = head_loss(&SOFTMAX, p2, d2, two, t2, 1, 2);
        double l1 = head_loss(&SIGMOID, p1, d1, one, t1, 1, 1);
        assert_float_equal(p2[0], act_sigmoid(z), 1e-6);
        assert_float_equal(p2[0], p1[0], 1e-6);
        assert_float_equal(l2, l1, 1e-5 * (1 + l1));
        assert_float_equal(d2[0], d1[0], 1e-6);
    }
}

static void argmax_takes_first_of_ties(void **state)
{
    (void)state;
    float p[4] = {0.1f, 0.7f, 0.7f, 0.2f};
    assert_int_equal(head_argmax(p, 4), 1);
    float q[3] = {-5, -1, -3};
    assert_int_equal(head_argmax(q, 3), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_hand_values),
        cmocka_unit_test(sigmoid_hand_values),
        cmocka_unit_test(squared_hand_values),
        cmocka_unit_test(keras_cce_hand_values),
        cmocka_unit_test(loss_resolution),
        cmocka_unit_test(gradient_is_p_minus_y_over_batch),
        cmocka_unit_test(extreme_logits_are_finite),
        cmocka_unit_test(finite_differences),
        cmocka_unit_test(softmax_over_z_and_zero_is_sigmoid),
        cmocka_unit_test(argmax_takes_first_of_ties),
        cmocka_unit_test(outputs_and_targets),
        cmocka_unit_test(prediction_rules),
    };
    return cmocka_run_group_tests_name("head", tests, NULL, NULL);
}
