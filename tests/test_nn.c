/* The network: finite-difference gradient checks through dense layers, every
 * activation and dropout; initialisation; optimizers; schedules; the RNG. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <omp.h>
#include <xmmintrin.h>

#include "nn/bf16.h"
#include "nn/dropout.h"
#include "nn/head.h"
#include "nn/mlp_testing.h"
#include "nn/optim.h"
#include "support/support.h"
#include "util/denormal.h"
#include "util/rng.h"

enum { B = 3, IN = 6, K = 4 };

struct net {
    struct mlp *m;
    struct head head;
    float x[B * IN], t[B * K];
    float *g;               /* the gradient, n_params floats */
    uint64_t mask_seed;     /* dropout masks are redrawn identically for each loss */
};

static double net_loss(void *ctx)
{
    struct net *n = ctx;
    struct rng r;
    rng_seed(&r, n->mask_seed, RNG_DROPOUT);
    memcpy(n->m->a[0], n->x, sizeof n->x);
    mlp_params_changed(n->m);   /* grad_check nudged a parameter */
    const float *z = mlp_forward(n->m, B, n->m->spec.dropout > 0 ? &r : NULL);
    return head_loss(&n->head, n->m->probs, NULL, z, n->t, B, K) / B;
}

/* one optimizer step as the trainer takes it (mlp_backward_update): the
 * step's constants, then the weights (the first n_decay, with decay and their
 * bf16 copy when w16 is given) and the rest, in ranges */
static void optim_step_as_trained(struct optim *o, float *w, float *g, float lr, bf16 *w16)
{
    optim_begin(o);
    for (size_t i0 = 0; i0 < o->n_decay; i0 += 3)
        optim_apply(o, w, g, lr, i0, i0 + 3 < o->n_decay ? i0 + 3 : o->n_decay, 1, w16);
    optim_apply(o, w, g, lr, o->n_decay, o->n, 0, NULL);
}

/* dropout as a hidden layer's forward pass applies it */
static void dropout_forward(float *out, uint8_t *mask, const float *in, size_t n, float p,
                            struct rng *r)
{
    dropout_mask(mask, n, p, r);
    dropout_apply(out, mask, in, n, p);
}

static void net_grad(struct net *n)
{
    struct rng r;
    rng_seed(&r, n->mask_seed, RNG_DROPOUT);
    memcpy(n->m->a[0], n->x, sizeof n->x);
    mlp_params_changed(n->m);
    const float *z = mlp_forward(n->m, B, n->m->spec.dropout > 0 ? &r : NULL);
    head_loss(&n->head, n->m->probs, n->m->dlogits, z, n->t, B, K);
    mlp_backward(n->m, n->m->dlogits, B, n->g, 0);
}

/* with the forward products reading plain weights (pack -1) and packed
 * copies (1, dense.h) */
static void check_net_packed(enum act act, enum head_kind head, float dropout, int n_hidden,
                             int pack)
{
    struct mlp_spec spec = {.n_inputs = IN, .n_outputs = K, .n_hidden = n_hidden,
                            .hidden = {5, 4}, .act = act, .dropout = dropout, .max_batch = B,
                            .pack = pack};
    struct net n = {.m = mlp_create(&spec), .head = {head, head == HEAD_SOFTMAX ? HEAD_CCE : HEAD_BCE_SUM}, .mask_seed = 42};
    assert_non_null(n.m);
    mlp_init(n.m, 7);
    /* non-zero biases, so their gradients are exercised from a generic point */
    for (size_t i = n.m->n_weights; i < n.m->n_params; i++)
        n.m->params[i] = 0.1f * (float)sin((double)i);
    for (int i = 0; i < B * IN; i++)
        n.x[i] = (float)cos(0.9 * i);
    for (int b = 0; b < B; b++)
        n.t[b * K + (b * 3) % K] = 1;
    float *g = malloc(sizeof(float) * n.m->n_params);
    assert_non_null(g);
    n.g = g;
    net_grad(&n);
    double max_grad;
    double err = grad_check(net_loss, &n, n.m->params, g, n.m->n_params, 1e-3, &max_grad);
    print_message("act %d head %d dropout %.1f hidden %d pack %d: worst relative error %.2e\n",
                  act, head, dropout, n_hidden, pack, err);
    assert_true(max_grad > 1e-3);
    assert_true(err < 1e-2);
    free(g);
    mlp_free(n.m);
}

static void check_net(enum act act, enum head_kind head, float dropout, int n_hidden)
{
    check_net_packed(act, head, dropout, n_hidden, -1);
    check_net_packed(act, head, dropout, n_hidden, 1);
}

static void gradients_relu(void **s) { (void)s; check_net(ACT_RELU, HEAD_SOFTMAX, 0, 2); }
static void gradients_tanh(void **s) { (void)s; check_net(ACT_TANH, HEAD_SIGMOID, 0, 2); }
static void gradients_sigmoid(void **s) { (void)s; check_net(ACT_SIGMOID, HEAD_SOFTMAX, 0, 2); }
static void gradients_scaled_tanh(void **s)
{
    (void)s;
    check_net(ACT_SCALED_TANH, HEAD_SOFTMAX, 0, 2);
    check_net(ACT_SCALED_TANH, HEAD_SIGMOID, 0, 2);
}

/* scaled-tanh is 1.7159 tanh(0.6666 x): its values and its slope through y */
static void scaled_tanh_values(void **state)
{
    (void)state;
    const double xs[] = {-3, -1, -0.25, 0, 0.5, 1, 2.5};
    for (int i = 0; i < 7; i++) {
        double t = tanh(0.6666 * xs[i]), y = 1.7159 * t;
        assert_float_equal(act_grad(ACT_SCALED_TANH, 2.0f, (float)y),
                           2.0 * 1.7159 * 0.6666 * (1 - t * t), 1e-5);
    }
    /* f(1) is about 1: the point of the constants */
    assert_float_equal(1.7159 * tanh(0.6666), 1.0, 2e-4);
    assert_float_equal(act_grad(ACT_SCALED_TANH, 1.0f, 0.0f), 1.7159 * 0.6666, 1e-6);
}
static void gradients_no_hidden(void **s)
{
    (void)s;
    check_net(ACT_RELU, HEAD_SOFTMAX, 0, 0);
    check_net(ACT_RELU, HEAD_SIGMOID, 0, 0);
}
static void gradients_dropout(void **s)
{
    (void)s;
    check_net(ACT_TANH, HEAD_SOFTMAX, 0.3f, 2);
    check_net(ACT_RELU, HEAD_SIGMOID, 0.5f, 1);
}

static void init_scales(void **state)
{
    (void)state;
    struct mlp_spec spec = {.n_inputs = 600, .n_outputs = 10, .n_hidden = 1, .hidden = {300},
                            .act = ACT_RELU, .max_batch = 1};
    struct mlp *m = mlp_create(&spec);
    mlp_init(m, 3);
    /* He-uniform on the relu layer, Glorot-uniform on the output layer */
    float he = sqrtf(6.0f / 600), glorot = sqrtf(6.0f / 310);
    float max0 = 0, max1 = 0;
    for (int i = 0; i < 600 * 300; i++)
        max0 = fmaxf(max0, fabsf(m->W[0][i]));
    for (int i = 0; i < 300 * 10; i++)
        max1 = fmaxf(max1, fabsf(m->W[1][i]));
    assert_true(max0 <= he && max0 > 0.99f * he);
    assert_true(max1 <= glorot && max1 > 0.95f * glorot);
    for (size_t i = m->n_weights; i < m->n_params; i++)
        assert_true(m->params[i] == 0);
    /* same seed, same weights; the hidden layer does not depend on the output width */
    spec.n_outputs = 1;
    struct mlp *m2 = mlp_create(&spec);
    mlp_init(m2, 3);
    assert_memory_equal(m->W[0], m2->W[0], sizeof(float) * 600 * 300);
    mlp_init(m2, 4);
    assert_memory_not_equal(m->W[0], m2->W[0], sizeof(float) * 600 * 300);
    mlp_free(m);
    mlp_free(m2);
}

/* uniform: weights and biases U(+-r) in every layer, mean 0 and variance r^2/3,
 * their own per-layer streams (the same seed, the same draws at any r) */
static void init_uniform(void **state)
{
    (void)state;
    struct mlp_spec spec = {.n_inputs = 400, .n_outputs = 10, .n_hidden = 2, .hidden = {300, 200},
                            .act = ACT_SCALED_TANH, .max_batch = 1, .init = INIT_UNIFORM,
                            .init_range = 0.05f};
    struct mlp *m = mlp_create(&spec);
    mlp_init(m, 7);
    double sum = 0, sq = 0, lo = 1, hi = -1;
    for (size_t i = 0; i < m->n_params; i++) {
        double v = m->params[i];
        sum += v, sq += v * v;
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    double n = (double)m->n_params, mean = sum / n, var = sq / n - mean * mean;
    assert_true(lo >= -0.05 && hi <= 0.05);
    assert_true(lo < -0.0499 && hi > 0.0499);
    assert_true(fabs(mean) < 0.05 * 4 / sqrt(3 * n));
    assert_float_equal(var, 0.05 * 0.05 / 3, 0.05 * 0.05 / 3 * 0.02);
    /* biases drawn too, from the same range */
    double bmax = 0;
    for (int l = 0; l < m->L; l++)
        for (int j = 0; j < m->size[l + 1]; j++)
            bmax = fmax(bmax, fabs(m->b[l][j]));
    assert_true(bmax > 0.04 && bmax <= 0.05);
    spec.init_range = 0.1f;
    struct mlp *m2 = mlp_create(&spec);
    mlp_init(m2, 7);
    for (size_t i = 0; i < m->n_params; i += 997)
        assert_float_equal(m2->params[i], 2 * m->params[i], 1e-7);
    mlp_free(m);
    mlp_free(m2);
}

/* he-glorot is bit for bit what mlp_init drew before init was an option: the
 * old loop, written out */
static void he_glorot_unchanged(void **state)
{
    (void)state;
    struct mlp_spec spec = {.n_inputs = 50, .n_outputs = 10, .n_hidden = 2, .hidden = {40, 30},
                            .act = ACT_RELU, .max_batch = 1};
    for (int a = 0; a < 2; a++) {
        spec.act = a ? ACT_SIGMOID : ACT_RELU;
        struct mlp *m = mlp_create(&spec);
        mlp_init(m, 11);
        for (int l = 0; l < m->L; l++) {
            int in = m->size[l], out = m->size[l + 1];
            int he = l < m->L - 1 && spec.act == ACT_RELU;
            float limit = he ? sqrtf(6.0f / (float)in) : sqrtf(6.0f / (float)(in + out));
            struct rng r;
            rng_seed(&r, 11, RNG_INIT + (uint64_t)l);
            for (int i = 0; i < in * out; i++) {
                float w = (2.0f * rng_uniform(&r) - 1.0f) * limit;
                assert_memory_equal(&w, &m->W[l][i], sizeof w);
            }
            for (int j = 0; j < out; j++)
                assert_true(m->b[l][j] == 0);
        }
        mlp_free(m);
    }
}

static void moments(const float *x, size_t n, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = sqrt(ss / (double)(n - 1));
}

/* sample mean within 5 standard errors of 0, sample sd within 5 standard
 * errors (sd / sqrt(2n)) of the target */
static void check_normal(const float *x, size_t n, double sd, const char *what)
{
    double m, s;
    moments(x, n, &m, &s);
    double se = sd / sqrt((double)n), se_sd = sd / sqrt(2.0 * (double)n);
    if (fabs(m) > 5 * se || fabs(s - sd) > 5 * se_sd)
        fail_msg("%s: mean %g sd %g over %zu, target N(0, %g^2)", what, m, s, n, sd);
}

/* Nielsen's initialisations: N(0,1), N(0,1/n_in), N(0,1/n_out) with the output
 * layer 0; deterministic per seed */
static void normal_inits(void **state)
{
    (void)state;
    struct mlp_spec spec = {.n_inputs = 784, .n_outputs = 10, .n_hidden = 1, .hidden = {100},
                            .act = ACT_SIGMOID, .max_batch = 1};
    const enum mlp_init inits[] = {INIT_NORMAL, INIT_NORMAL_SCALED, INIT_NORMAL_OUT};
    for (int k = 0; k < 3; k++) {
        spec.init = inits[k];
        struct mlp *m = mlp_create(&spec), *m2 = mlp_create(&spec);
        mlp_init(m, 5);
        for (int l = 0; l < m->L; l++) {
            int in = m->size[l], out = m->size[l + 1];
            size_t n = (size_t)in * (size_t)out;
            char what[64];
            snprintf(what, sizeof what, "init %d layer %d", inits[k], l);
            if (inits[k] == INIT_NORMAL_OUT && l == m->L - 1) {
                for (size_t i = 0; i < n; i++)
                    assert_true(m->W[l][i] == 0);
                for (int j = 0; j < out; j++)
                    assert_true(m->b[l][j] == 0);
                continue;
            }
            double sd = inits[k] == INIT_NORMAL ? 1 : inits[k] == INIT_NORMAL_SCALED
                                                          ? 1 / sqrt((double)in)
                                                          : 1 / sqrt((double)out);
            check_normal(m->W[l], n, sd, what);
            strcat(what, " biases");
            check_normal(m->b[l], (size_t)out, 1.0, what);
        }
        /* tails: N(0,1) over 78400 draws reaches past 3.5 sd, never past 7 */
        if (inits[k] == INIT_NORMAL) {
            float mx = 0;
            for (int i = 0; i < 784 * 100; i++)
                mx = fmaxf(mx, fabsf(m->W[0][i]));
            assert_true(mx > 3.5f && mx < 7.0f);
        }
        mlp_init(m2, 5);
        assert_memory_equal(m->params, m2->params, sizeof(float) * m->n_params);
        mlp_init(m2, 6);
        assert_memory_not_equal(m->W[0], m2->W[0], sizeof(float) * 784 * 100);
        mlp_free(m);
        mlp_free(m2);
    }
}

static void optimizer_steps(void **state)
{
    (void)state;
    float w[2] = {1, 2}, g[2];
    struct optim o = {.kind = OPT_MOMENTUM, .momentum = 0.9f};
    assert_int_equal(optim_init(&o, 2, 1), 0);
    g[0] = 1, g[1] = -1;
    optim_step_as_trained(&o, w, g, 0.1f, NULL);          /* v = g; w -= 0.1 v */
    g[0] = 1, g[1] = -1;
    optim_step_as_trained(&o, w, g, 0.1f, NULL);          /* v = 0.9 g + g = 1.9 g */
    assert_float_equal(w[0], 1 - 0.1 - 0.19, 1e-6);
    assert_float_equal(w[1], 2 + 0.1 + 0.19, 1e-6);
    optim_free(&o);

    /* weight decay reaches only the first n_decay entries (weights, not biases) */
    float w2[2] = {1, 1}, g2[2] = {0, 0};
    struct optim sgd = {.kind = OPT_SGD, .weight_decay = 0.5f};
    assert_int_equal(optim_init(&sgd, 2, 1), 0);
    /* plain SGD reads no state: none is kept; its gradient has a block */
    assert_null(sgd.m);
    assert_null(sgd.v);
    float beta_sgd, *G2 = optim_grad_target(&sgd, &beta_sgd);
    assert_ptr_equal(G2, sgd.g);
    assert_non_null(G2);
    assert_float_equal(beta_sgd, 0, 0);
    optim_step_as_trained(&sgd, w2, g2, 0.1f, NULL);
    assert_float_equal(w2[0], 1 - 0.1 * 0.5, 1e-6);
    assert_float_equal(w2[1], 1, 1e-7);
    optim_free(&sgd);

    /* adam's first step is lr * sign(g) whatever the gradient's scale */
    float w3[2] = {0, 0}, g3[2] = {1e-3f, -50};
    struct optim adam = {.kind = OPT_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    optim_init(&adam, 2, 2);
    optim_step_as_trained(&adam, w3, g3, 0.01f, NULL);
    assert_float_equal(w3[0], -0.01, 1e-5);
    assert_float_equal(w3[1], 0.01, 1e-5);
    optim_free(&adam);

    /* plain momentum with the gradient accumulated straight into the velocity
     * (as the backward pass does: G = mu G + g) is the same update, weight
     * decay included; nesterov and the others want the gradient alone */
    float wa[3] = {1, 2, 3}, wb[3] = {1, 2, 3}, ga[3], beta;
    struct optim sa = {.kind = OPT_MOMENTUM, .momentum = 0.9f, .weight_decay = 0.1f};
    struct optim sb = sa;
    optim_init(&sa, 3, 2);
    optim_init(&sb, 3, 2);
    for (int step = 0; step < 3; step++) {
        float g5[3] = {0.5f, -1, 2.0f - step};
        memcpy(ga, g5, sizeof ga);
        optim_step_as_trained(&sa, wa, ga, 0.1f, NULL);
        float *G = optim_grad_target(&sb, &beta);
        assert_ptr_equal(G, sb.m);
        assert_null(sb.g);   /* no gradient block: it would never be written */
        assert_float_equal(beta, 0.9f, 0);
        for (int i = 0; i < 3; i++)
            G[i] = beta * G[i] + g5[i];
        optim_step_as_trained(&sb, wb, G, 0.1f, NULL);
    }
    for (int i = 0; i < 3; i++)
        assert_float_equal(wa[i], wb[i], 1e-6);
    /* the last entry is a bias (no decay): v = 2, 2.8, 2.52 */
    assert_float_equal(wb[2], 3 - 0.1 * (2 + 2.8 + 2.52), 1e-5);
    optim_free(&sa);
    optim_free(&sb);

    /* nesterov: v = g; w -= lr (g + mu v) */
    float w4[1] = {0}, g4[1] = {1};
    struct optim nes = {.kind = OPT_MOMENTUM, .momentum = 0.5f, .nesterov = 1};
    optim_init(&nes, 1, 1);
    float *G4 = optim_grad_target(&nes, &beta);
    assert_non_null(nes.g);
    assert_ptr_equal(G4, nes.g);
    assert_float_equal(beta, 0, 0);
    optim_step_as_trained(&nes, w4, g4, 1.0f, NULL);
    assert_float_equal(w4[0], -1.5, 1e-6);
    optim_free(&nes);
}

/* every rule writes the bf16 copy of exactly the first n16 entries, from the
 * updated weights, and the threaded pass equals the rule done by hand */
static void optimizer_bf16_copy(void **state)
{
    (void)state;
    enum { N = 100003, N16 = 70001 };
    float *w = malloc(sizeof(float) * N), *g = malloc(sizeof(float) * N);
    bf16 *w16 = malloc(sizeof(bf16) * N);
    for (int i = 0; i < N; i++)
        w[i] = (float)sin(i), g[i] = (float)cos(0.3 * i);
    memset(w16, 0xff, sizeof(bf16) * N);
    struct optim o = {.kind = OPT_SGD, .weight_decay = 0.01f};
    assert_int_equal(optim_init(&o, N, N16), 0);
    optim_step_as_trained(&o, w, g, 0.5f, w16);
    for (int i = 0; i < N; i++) {
        float want = (float)sin(i) - 0.5f * ((float)cos(0.3 * i) + (i < N16 ? 0.01f : 0) * (float)sin(i));
        assert_float_equal(w[i], want, 1e-6);
        if (i < N16)
            assert_true(w16[i] == bf16_from(w[i]));
        else
            assert_true(w16[i] == 0xffff);
    }
    optim_free(&o);
    free(w), free(g), free(w16);
}

/* FTZ and DAZ hold in every OpenMP thread, also in threads the runtime
 * starts after the call (a bigger team later) */
static void denormals_in_every_thread(void **state)
{
    (void)state;
    omp_set_num_threads(2);
    denormals_flush();
    int missing = 0;
    omp_set_num_threads(6);
#pragma omp parallel reduction(+ : missing)
    missing += (_mm_getcsr() & 0x8040) != 0x8040;
    assert_int_equal(missing, 0);
    volatile float tiny = 1e-39f;   /* subnormal: read as 0 under DAZ */
    int nonzero = 0;
#pragma omp parallel reduction(+ : nonzero)
    nonzero += tiny * 1.0f != 0.0f;
    assert_int_equal(nonzero, 0);
}

/* bf16 rounding: to nearest, ties to even, NaN stays NaN */
static void bf16_rounding(void **state)
{
    (void)state;
    assert_true(bf16_from(1.0f) == 0x3f80);
    assert_true(bf16_to(bf16_from(1.0f + 1.0f / 256)) == 1.0f);             /* tie -> even */
    assert_true(bf16_to(bf16_from(1.0f + 3.0f / 256)) == 1.0f + 4.0f / 256); /* tie -> even, up */
    assert_true(bf16_to(bf16_from(1.0f + 1.5f / 256)) == 1.0f + 2.0f / 256);
    assert_true(isnan(bf16_to(bf16_from(NAN))));
    assert_true(isinf(bf16_to(bf16_from(INFINITY))));
    float v[5] = {0.1f, -2.5f, 3e38f, 1e-3f, 7}, back[5];
    bf16 h[5];
    bf16_convert(h, v, 5);
    for (int i = 0; i < 5; i++) {
        back[i] = bf16_to(h[i]);
        assert_true(fabsf(back[i] - v[i]) <= fabsf(v[i]) / 256);
    }
}

/* dropout keeps 1-p of the units, scales them by 1/(1-p), and draws the same
 * mask from the same stream; odd lengths and p = 0 included */
static void dropout_masks(void **state)
{
    (void)state;
    enum { N = 100001 };
    static float in[N], out[N], out2[N];
    static uint8_t mask[N], mask2[N];
    for (int i = 0; i < N; i++)
        in[i] = 1.0f + (float)(i % 7);
    struct rng r, r2;
    rng_seed(&r, 9, RNG_DROPOUT);
    rng_seed(&r2, 9, RNG_DROPOUT);
    memset(mask, 0xAA, N);   /* so that an unwritten entry shows (N is odd) */
    dropout_forward(out, mask, in, N, 0.3f, &r);
    dropout_forward(out2, mask2, in, N, 0.3f, &r2);
    assert_memory_equal(mask, mask2, N);
    long kept = 0;
    for (int i = 0; i < N; i++) {
        kept += mask[i];
        assert_float_equal(out[i], mask[i] ? in[i] / 0.7f : 0.0f, 1e-6);
    }
    assert_in_range(kept, (long)(0.69 * N), (long)(0.71 * N));
    assert_true(mask[N - 1] == 0 || mask[N - 1] == 1);
    /* the bf16 variant applies the same mask, rounded */
    static bf16 h[N];
    dropout_apply_bf16(h, mask, in, N, 0.3f);
    for (int i = 0; i < N; i++)
        assert_true(h[i] == bf16_from(out[i]));
    uint8_t m3[3];
    dropout_forward(out, m3, in, 3, 0.0f, &r);
    assert_memory_equal(out, in, 3 * sizeof(float));
}

/* mlp_batch_bytes is what mlp_create allocates for each row of its largest
 * batch, measured: the heap's bytes in use (mallinfo2, every block on the
 * heap) after creating a model for 1001 rows less those for 1 row, against
 * the estimate's difference, within the heap's rounding; fp32 and bf16,
 * with and without dropout, two and three hidden layers (every buffer is
 * written then; with fewer, the estimate leaves out the untouched ones). */
static void batch_bytes_are_allocated(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip();   /* the sanitizer's allocator is not the heap's */
#endif
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    for (int p = 0; p < 2; p++)
        for (int drop = 0; drop < 2; drop++)
            for (int h = 2; h <= 3; h++) {
                struct mlp_spec s = {.n_inputs = 784, .n_outputs = 10, .n_hidden = h,
                                     .hidden = {64, 32, 48}, .act = ACT_RELU,
                                     .dropout = drop ? 0.2f : 0,
                                     .precision = p ? PRECISION_BF16 : PRECISION_FP32, .pack = -1};
                long grew[2];
                for (int k = 0; k < 2; k++) {
                    s.max_batch = k ? 1001 : 1;
                    struct mallinfo2 before = mallinfo2();
                    struct mlp *m = mlp_create(&s);
                    assert_non_null(m);
                    struct mallinfo2 after = mallinfo2();
                    grew[k] = (long)(after.uordblks + after.hblkhd) -
                              (long)(before.uordblks + before.hblkhd);
                    mlp_free(m);
                }
                const double want = mlp_batch_bytes(&s, 1001) - mlp_batch_bytes(&s, 1);
                if (fabs((double)(grew[1] - grew[0]) - want) > 2000)
                    fail_msg("%s, dropout %d, %d hidden: 1000 rows allocate %ld bytes, the "
                             "estimate says %.0f", p ? "bf16" : "fp32", drop, h,
                             grew[1] - grew[0], want);
            }
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

/* The mask by its definition, against a reference written from it: draw d
 * (from 0) decides units 2d and 2d + 1, the first from its high 32 bits, the
 * second from its low ones, kept when that u32 >= ceil(p 2^32); an odd last
 * unit takes the high half of one more draw, and the stream ends exactly
 * ceil(n/2) draws on. Odd and even lengths, on one thread and on the team. */
static void dropout_mask_by_definition(void **state)
{
    (void)state;
    enum { MAX = 70001 };
    static uint8_t mask[MAX + 1];
    const size_t lengths[] = {1, 2, 7, 8, 1000, 70000, 70001};
    const float ps[] = {0.3f, 0.5f};
    const int team = omp_get_max_threads();
    for (int threads = 1; threads <= 2; threads++)
        for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
            for (int j = 0; j < 2; j++) {
                const size_t n = lengths[k];
                const uint64_t threshold = (uint64_t)ceil((double)ps[j] * 4294967296.0);
                struct rng r, ref;
                rng_seed(&r, 40 + k, RNG_DROPOUT);
                ref = r;
                memset(mask, 0xAA, sizeof mask);
                omp_set_num_threads(threads);
                dropout_mask(mask, n, ps[j], &r);
                for (size_t i = 0; i < n; i += 2) {
                    const uint64_t x = rng_next(&ref);
                    if (mask[i] != ((x >> 32) >= threshold) ||
                        (i + 1 < n && mask[i + 1] != ((x & 0xffffffffu) >= threshold)))
                        fail_msg("n %zu, p %.1f, %d threads: unit %zu or the next is not its draw's",
                                 n, ps[j], threads, i);
                }
                assert_int_equal(mask[n], 0xAA);   /* nothing past the end */
                assert_int_equal(rng_next(&r), rng_next(&ref));
            }
    omp_set_num_threads(team);
}

/* The mask drawn in chunks on the team is the mask drawn in order on one
 * thread, and leaves the stream where drawing in order would: lengths below
 * the threaded size, at it, odd, and of many chunks; then a draw after it. A
 * jump of n is n draws. */
static void dropout_masks_threaded(void **state)
{
    (void)state;
    struct rng a, b;
    rng_seed(&a, 5, 0);
    struct rng_jump j;
    rng_jump_make(&j, 1000);
    for (int k = 0; k < 3; k++) {
        b = a;
        for (int i = 0; i < 1000; i++)
            rng_next(&a);
        rng_jump(&j, &b);
        assert_memory_equal(a.s, b.s, sizeof a.s);
    }
    enum { MAX = 300001 };
    static uint8_t m1[MAX], m2[MAX];
    const size_t lengths[] = {1, 65535, 65536, 65537, 8192 * 12 + 3, 300001, 8192 * 30};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        size_t n = lengths[k];
        struct rng r1, r2;
        rng_seed(&r1, 11 + k, RNG_DROPOUT);
        r2 = r1;
        memset(m2, 0xAA, n);
        omp_set_num_threads(1);
        dropout_mask(m1, n, 0.4f, &r1);
        omp_set_num_threads(2);
        dropout_mask(m2, n, 0.4f, &r2);
        assert_memory_equal(m1, m2, n);
        assert_int_equal(rng_next(&r1), rng_next(&r2));
    }
}

static void schedules(void **state)
{
    (void)state;
    struct schedule c = {LR_COSINE, 0.1, 10, 0, 0};
    assert_float_equal(schedule_lr(&c, 0), 0.1, 1e-12);
    assert_float_equal(schedule_lr(&c, 5), 0.05, 1e-12);
    assert_float_equal(schedule_lr(&c, 9), 0.1 * 0.5 * (1 + cos(M_PI * 0.9)), 1e-12);
    struct schedule s = {LR_STEP, 1.0, 10, 3, 0.5};
    assert_float_equal(schedule_lr(&s, 2), 1.0, 1e-12);
    assert_float_equal(schedule_lr(&s, 3), 0.5, 1e-12);
    assert_float_equal(schedule_lr(&s, 7), 0.25, 1e-12);
    /* exp: 1e-3 to 1e-6 over 200 epochs, one factor per epoch */
    double g = pow(1e-3, 1.0 / 199);
    struct schedule x = {LR_EXP, 1e-3, 200, 10, g};
    assert_float_equal(schedule_lr(&x, 0), 1e-3, 1e-15);
    assert_float_equal(schedule_lr(&x, 1), 1e-3 * g, 1e-15);
    assert_float_equal(schedule_lr(&x, 199), 1e-6, 1e-15);
    for (int e = 1; e < 200; e++)
        assert_float_equal(schedule_lr(&x, e) / schedule_lr(&x, e - 1), g, 1e-12);
    struct schedule k = {LR_CONSTANT, 0.3, 10, 1, 0.1};
    assert_float_equal(schedule_lr(&k, 9), 0.3, 1e-12);
}

static void rng_streams(void **state)
{
    (void)state;
    struct rng a, b, c;
    rng_seed(&a, 5, RNG_SHUFFLE);
    rng_seed(&b, 5, RNG_SHUFFLE);
    rng_seed(&c, 5, RNG_DROPOUT);
    uint64_t x = rng_next(&a);
    assert_true(x == rng_next(&b));
    assert_true(x != rng_next(&c));
    /* rng_below stays in range and hits every value */
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint32_t v = rng_below(&a, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 850 && seen[i] < 1150);
    float u = rng_uniform(&a);
    assert_true(u >= 0 && u < 1);
    /* a shuffle is a permutation */
    uint32_t p[100], count[100] = {0};
    for (uint32_t i = 0; i < 100; i++)
        p[i] = i;
    rng_shuffle(&a, p, 100);
    int moved = 0;
    for (uint32_t i = 0; i < 100; i++) {
        count[p[i]]++;
        moved += p[i] != i;
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(count[i], 1);
    assert_true(moved > 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(he_glorot_unchanged),
        cmocka_unit_test(normal_inits),
        cmocka_unit_test(gradients_relu),
        cmocka_unit_test(gradients_tanh),
        cmocka_unit_test(gradients_sigmoid),
        cmocka_unit_test(gradients_scaled_tanh),
        cmocka_unit_test(scaled_tanh_values),
        cmocka_unit_test(init_uniform),
        cmocka_unit_test(gradients_no_hidden),
        cmocka_unit_test(gradients_dropout),
        cmocka_unit_test(dropout_masks),
        cmocka_unit_test(init_scales),
        cmocka_unit_test(optimizer_steps),
        cmocka_unit_test(optimizer_bf16_copy),
        cmocka_unit_test(bf16_rounding),
        cmocka_unit_test(denormals_in_every_thread),
        cmocka_unit_test(schedules),
        cmocka_unit_test(rng_streams),
        cmocka_unit_test(dropout_masks_threaded),
        cmocka_unit_test(dropout_mask_by_definition),
        cmocka_unit_test(batch_bytes_are_allocated),
    };
    return cmocka_run_group_tests_name("nn", tests, NULL, NULL);
}
