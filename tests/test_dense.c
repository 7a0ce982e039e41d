/* The dense layer on oneDNN: its three products against a naive reference in
 * double (fp32 within 1e-5, bf16 within 3e-3, relative to the sum of the
 * magnitudes of each dot product's terms; bf16 also within 1e-5 of the
 * reference on bf16-rounded operands: the accumulation is fp32, only the
 * operands are rounded), with and without the fused
 * activation and momentum sum, on full, partial and evaluation batches of one
 * layer (its primitive cache); the whole model in bf16 against fp32; and
 * repeatability of every product; products made for one thread give the same
 * bits as on the whole team. */
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/bf16.h"
#include "nn/dense.h"
#include "nn/head.h"
#include "nn/mlp_testing.h"
#include "nn/par.h"
#include "util/rng.h"

/* 64 x IN x OUT is above DENSE_SERIAL_MACS (threaded products), the smaller
 * batches below it (products on one thread): the reference checks both */
enum { IN = 300, OUT = 37 };

struct operands {
    int B;
    float x[64 * IN], W[IN * OUT], b[OUT], dy[64 * OUT];
    bf16 x16[64 * IN], W16[IN * OUT], dy16[64 * OUT];
};

static void fill(struct operands *o, int B, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 0);
    o->B = B;
    for (int i = 0; i < B * IN; i++)
        o->x[i] = rng_uniform(&r) * 2 - 1;
    for (int i = 0; i < IN * OUT; i++)
        o->W[i] = rng_uniform(&r) - 0.5f;
    for (int i = 0; i < OUT; i++)
        o->b[i] = rng_uniform(&r) - 0.5f;
    for (int i = 0; i < B * OUT; i++)
        o->dy[i] = rng_uniform(&r) - 0.5f;
    bf16_convert(o->x16, o->x, (size_t)B * IN);
    bf16_convert(o->W16, o->W, IN * OUT);
    bf16_convert(o->dy16, o->dy, (size_t)B * OUT);
}

static double act_ref(int act, double z)
{
    switch (act) {
    case ACT_RELU: return z > 0 ? z : 0;
    case ACT_TANH: return tanh(z);
    case ACT_SIGMOID: return 1 / (1 + exp(-z));
    case ACT_SCALED_TANH: return 1.7159 * tanh(0.6666 * z);
    }
    return z;
}

/* the reference reads operands as they are, or rounded to bf16 */
static int round_ref;
static double op(float v) { return round_ref ? bf16_to(bf16_from(v)) : v; }

/* |got - want| within rel of the dot product's scale (the sum of |terms|) */
static void near(float got, double want, double scale, double rel, const char *what, int i)
{
    if (!(fabs(got - want) <= rel * scale + 1e-6))
        fail_msg("%s[%d]: %.9g, reference %.9g (scale %.3g, tolerance %.1e relative)", what, i,
                 got, want, scale, rel);
}

static void check_forward(struct dense *d, const struct operands *o, int act, int bf, double rel)
{
    float y[64 * OUT];
    struct err e = {0};
    dense_pack(d, o->W, 64, IN);   /* in two pieces, the second first (no-ops unpacked) */
    dense_pack(d, o->W, 0, 64);
    if (dense_forward(d, y, bf ? (const void *)o->x16 : o->x, bf ? (const void *)o->W16 : o->W,
                      o->b, o->B, &e))
        fail_msg("%s", e.msg);
    for (int i = 0; i < o->B; i++)
        for (int j = 0; j < OUT; j++) {
            double z = o->b[j], scale = fabs(o->b[j]);
            for (int k = 0; k < IN; k++) {
                z += op(o->x[i * IN + k]) * op(o->W[k * OUT + j]);
                scale += fabs(op(o->x[i * IN + k]) * op(o->W[k * OUT + j]));
            }
            near(y[i * OUT + j], act_ref(act, z), scale, rel, "forward", i * OUT + j);
        }
}

static void check_backward_data(struct dense *d, const struct operands *o, int bf, double rel)
{
    float dx[64 * IN];
    struct err e = {0};
    if (dense_backward_data(d, dx, bf ? (const void *)o->dy16 : o->dy,
                            bf ? (const void *)o->W16 : o->W, o->B, &e))
        fail_msg("%s", e.msg);
    for (int i = 0; i < o->B; i++)
        for (int k = 0; k < IN; k++) {
            double s = 0, scale = 0;
            for (int j = 0; j < OUT; j++) {
                s += op(o->dy[i * OUT + j]) * op(o->W[k * OUT + j]);
                scale += fabs(op(o->dy[i * OUT + j]) * op(o->W[k * OUT + j]));
            }
            near(dx[i * IN + k], s, scale, rel, "backward-data", i * IN + k);
        }
}

/* dW starts from old (beta != 0: the momentum sum accumulates onto it) */
static void check_backward_weights(struct dense *d, const struct operands *o, float beta, int bf,
                                   double rel)
{
    float dW[IN * OUT], old[IN * OUT];
    for (int i = 0; i < IN * OUT; i++)
        old[i] = dW[i] = beta != 0 ? (float)sin(i) : NAN;   /* beta 0 must overwrite */
    struct err e = {0};
    if (dense_backward_weights(d, dW, bf ? (const void *)o->x16 : o->x,
                               bf ? (const void *)o->dy16 : o->dy, beta, o->B, &e))
        fail_msg("%s", e.msg);
    for (int k = 0; k < IN; k++)
        for (int j = 0; j < OUT; j++) {
            double s = beta != 0 ? beta * (double)old[k * OUT + j] : 0, scale = fabs(s);
            for (int i = 0; i < o->B; i++) {
                s += op(o->x[i * IN + k]) * op(o->dy[i * OUT + j]);
                scale += fabs(op(o->x[i * IN + k]) * op(o->dy[i * OUT + j]));
            }
            near(dW[k * OUT + j], s, scale, rel, "backward-weights", k * OUT + j);
        }
}

/* bf16 products run natively here; where not (a CPU without AVX512-BF16, or
 * ONEDNN_MAX_CPU_ISA below it), the bf16 tests skip and say why */
static int have_bf16(void)
{
    struct err e = {0};
    if (onednn_check_precision(PRECISION_BF16, &e) == 0)
        return 1;
    print_message("skipped: %s\n", e.msg);
    return 0;
}

/* every activation fused (and none: the output layer), batches of 16, then
 * a partial 5, then an evaluation 64, then 16 again from the cache, then 1;
 * momentum sum and plain overwrite. bf16 against the unrounded reference
 * leaves out backward-weights on the batches of 1 and 5: dot products of so
 * few terms keep a rounding error up to 2^-8 of the largest term (3.9e-3),
 * which more terms average down; the rounded reference covers them. */
static void products(enum precision p)
{
    const int bf = p == PRECISION_BF16;
    struct onednn dnn;
    struct err e = {0};
    if (onednn_open(&dnn, &e))
        fail_msg("%s", e.msg);
    static struct operands o;
    for (int pack = 0; pack <= 1; pack++)
    for (int act = -1; act < N_ACTS; act++) {
        struct dense d;
        if (dense_init(&d, &dnn, IN, OUT, act, p, pack, &e))
            fail_msg("%s", e.msg);
        assert_true((d.packed != NULL) == pack);
        const int sizes[] = {16, 5, 64, 16, 1};
        for (int s = 0; s < 5; s++) {
            fill(&o, sizes[s], (uint64_t)(10 * act + s + 20));
            for (round_ref = 0; round_ref <= bf; round_ref++) {
                const double rel = bf && !round_ref ? 3e-3 : 1e-5;
                check_forward(&d, &o, act, bf, rel);
                check_backward_data(&d, &o, bf, rel);
                if (bf && !round_ref && o.B < 16)
                    continue;
                check_backward_weights(&d, &o, 0, bf, rel);
                check_backward_weights(&d, &o, 0.9f, bf, rel);
            }
        }
        round_ref = 0;
        print_message("%s%s, activation %d: %s / %s / %s (batch 64 on %d threads, 16 on %d)\n",
                      bf ? "bf16" : "fp32", pack ? " packed" : "", act, d.impl[0], d.impl[1],
                      d.impl[2], dense_threads(&d, 64), dense_threads(&d, 16));
        dense_free(&d);
    }
    onednn_close(&dnn);
}

/* dense_pack's fast paths (columns in runs, bf16 row pairs) write what the
 * element-by-element path writes, and nothing else, on the layouts oneDNN
 * picks here for odd and even shapes; on AVX2 and AVX-512 every layout it
 * picks takes a fast path, in runs of at least 16 columns (or all of them):
 * a detector that falls back, or finds runs of one, costs only speed, so no
 * other test would see it. */
static void packing_fast_paths(void **state)
{
    (void)state;
    struct onednn dnn;
    struct err e = {0};
    if (onednn_open(&dnn, &e))
        fail_msg("%s", e.msg);
    const int shapes[][2] = {{784, 500}, {300, 37}, {33, 65}, {1024, 10}, {5, 3}};
    const int avx = !strncmp(onednn_isa(), "avx", 3);
    for (int bf = 0; bf <= have_bf16(); bf++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            const int in = shapes[k][0], out = shapes[k][1];
            struct dense d;
            if (dense_init(&d, &dnn, in, out, ACT_RELU, bf ? PRECISION_BF16 : PRECISION_FP32, 1, &e))
                fail_msg("%s", e.msg);
            float *W = malloc(sizeof(float) * (size_t)in * (size_t)out);
            for (int i = 0; i < in * out; i++)
                W[i] = (float)sin(i) + 2;   /* never 0: a missed element shows */
            const size_t size = dnnl_memory_desc_get_size(&d.wmd);
            dense_pack(&d, W, 0, in);
            unsigned char *fast = malloc(size);
            memcpy(fast, d.packed, size);
            const int run = d.run, pairs = d.pairs;
            print_message("%s %dx%d: run %d, pairs %d (%s)\n", bf ? "bf16" : "fp32", in, out, run,
                          pairs, onednn_isa());
            if (avx && (run < (out < 16 ? out : 16) || (bf && !pairs)))
                fail_msg("%s %dx%d: no fast path (run %d, pairs %d)", bf ? "bf16" : "fp32", in, out,
                         run, pairs);
            memset(d.packed, 0, size);
            d.run = d.pairs = 0;
            dense_pack(&d, W, 0, in);
            if (memcmp(fast, d.packed, size))
                fail_msg("%s %dx%d: the fast path (run %d, pairs %d) packs other bytes",
                         bf ? "bf16" : "fp32", in, out, run, pairs);
            free(fast);
            free(W);
            dense_free(&d);
        }
    onednn_close(&dnn);
}

static void products_fp32(void **state)
{
    (void)state;
    products(PRECISION_FP32);
}

static void products_bf16(void **state)
{
    (void)state;
    if (!have_bf16())
        skip();
    products(PRECISION_BF16);
}

/* more batch sizes than the cache holds: the evicted ones are made again */
static void cache_eviction(void **state)
{
    (void)state;
    struct onednn dnn;
    struct err e = {0};
    assert_int_equal(onednn_open(&dnn, &e), 0);
    struct dense d;
    /* packed: every batch size's primitive is made for the one layout */
    assert_int_equal(dense_init(&d, &dnn, IN, OUT, ACT_TANH, PRECISION_FP32, 1, &e), 0);
    static struct operands o;
    for (int round = 0; round < 2; round++)
        for (int B = 1; B <= DENSE_CACHE + 3; B++) {
            fill(&o, B, (uint64_t)B);
            check_forward(&d, &o, ACT_TANH, 0, 1e-5);
            check_backward_weights(&d, &o, 0.5f, 0, 1e-5);
        }
    dense_free(&d);
    onednn_close(&dnn);
}

/* Packing where the layout has padding and partial blocks (an odd number of
 * rows: the last bf16 row has no partner; 70 columns: a second, partial block
 * of 64): the forward product of the packed layer matches the plain one's;
 * packing in pieces, in any order, writes the same bytes as all at once; and a
 * repack with new weights leaves nothing of the old. */
static void packed_odd_shapes(void **state)
{
    (void)state;
    enum { I = 33, O = 70, NB = 8 };
    struct onednn dnn;
    struct err e = {0};
    assert_int_equal(onednn_open(&dnn, &e), 0);
    static float W[I * O], W2[I * O], x[NB * I], b[O], y[2][NB * O];
    static bf16 x16[NB * I], W16[I * O];
    struct rng r;
    rng_seed(&r, 9, 0);
    for (int i = 0; i < I * O; i++)
        W[i] = rng_uniform(&r) - 0.5f, W2[i] = rng_uniform(&r) - 0.5f;
    for (int i = 0; i < NB * I; i++)
        x[i] = rng_uniform(&r);
    for (int i = 0; i < O; i++)
        b[i] = 0.1f * (float)i;
    bf16_convert(x16, x, NB * I);
    bf16_convert(W16, W, I * O);
    for (int p = 0; p <= (have_bf16() ? 1 : 0); p++) {
        const int bf = p == PRECISION_BF16;
        struct dense plain, whole, pieces;
        assert_int_equal(dense_init(&plain, &dnn, I, O, -1, (enum precision)p, 0, &e), 0);
        assert_int_equal(dense_init(&whole, &dnn, I, O, -1, (enum precision)p, 1, &e), 0);
        assert_int_equal(dense_init(&pieces, &dnn, I, O, -1, (enum precision)p, 1, &e), 0);
        assert_non_null(whole.packed);
        dense_pack(&whole, W2, 0, I);   /* old weights first: the repack must replace them */
        dense_pack(&whole, W, 0, I);
        dense_pack(&pieces, W, 18, I);
        dense_pack(&pieces, W, 0, 2);
        dense_pack(&pieces, W, 2, 18);
        size_t size = dnnl_memory_desc_get_size(&whole.wmd);
        assert_true(size >= (size_t)I * O * (bf ? 2 : 4));
        assert_memory_equal(whole.packed, pieces.packed, size);
        const void *xin = bf ? (const void *)x16 : x, *Win = bf ? (const void *)W16 : W;
        assert_int_equal(dense_forward(&plain, y[0], xin, Win, b, NB, &e), 0);
        assert_int_equal(dense_forward(&whole, y[1], xin, NULL, b, NB, &e), 0);
        for (int i = 0; i < NB * O; i++)
            if (!(fabsf(y[0][i] - y[1][i]) <= 1e-5f * (1 + fabsf(y[0][i]))))
                fail_msg("%s packed forward [%d]: %.9g, plain %.9g", bf ? "bf16" : "fp32", i,
                         y[1][i], y[0][i]);
        dense_free(&plain);
        dense_free(&whole);
        dense_free(&pieces);
    }
    onednn_close(&dnn);
}

static const struct head SOFTMAX = {HEAD_SOFTMAX, HEAD_CCE};

/* a model, its logits and gradients for one batch */
static struct mlp *model(enum precision p, enum act act, float dropout, int pack)
{
    struct mlp_spec spec = {.n_inputs = 50, .n_outputs = 10, .n_hidden = 2, .hidden = {40, 30},
                            .act = act, .dropout = dropout,
                            .max_batch = 32, .precision = p, .pack = pack};
    struct mlp *m = mlp_create(&spec);
    assert_non_null(m);
    mlp_init(m, 5);
    for (int i = 0; i < 32 * 50; i++)
        m->a[0][i] = (float)(0.5 + 0.5 * sin(0.37 * i));
    return m;
}

/* the same model in bf16 and fp32: logits and gradients agree to bf16's
 * precision, and are not identical (the bf16 path really ran) */
static void bf16_model_tracks_fp32(void **state)
{
    (void)state;
    if (!have_bf16())
        skip();
    struct mlp *a = model(PRECISION_FP32, ACT_TANH, 0, 0);
    struct mlp *b = model(PRECISION_BF16, ACT_TANH, 0, 0);
    const float *za = mlp_forward(a, 32, NULL), *zb = mlp_forward(b, 32, NULL);
    assert_non_null(za);
    assert_non_null(zb);
    double worst = 0, scale = 0;
    for (int i = 0; i < 32 * 10; i++) {
        worst = fmax(worst, fabs(za[i] - zb[i]));
        scale = fmax(scale, fabs(za[i]));
    }
    print_message("bf16 logits: worst difference %.3g of %.3g\n", worst, scale);
    assert_true(worst > 0 && worst < 2e-2 * scale);
    float T[32 * 10] = {0};
    for (int i = 0; i < 32; i++)
        T[i * 10 + i % 10] = 1;
    head_loss(&SOFTMAX, a->probs, a->dlogits, za, T, 32, 10);
    head_loss(&SOFTMAX, b->probs, b->dlogits, zb, T, 32, 10);
    float *ga = malloc(sizeof(float) * a->n_params), *gb = malloc(sizeof(float) * b->n_params);
    assert_true(ga && gb);
    assert_int_equal(mlp_backward(a, a->dlogits, 32, ga, 0), 0);
    assert_int_equal(mlp_backward(b, b->dlogits, 32, gb, 0), 0);
    double gw = 0, gs = 0;
    for (size_t i = 0; i < a->n_params; i++) {
        gw = fmax(gw, fabs(ga[i] - gb[i]));
        gs = fmax(gs, fabs(ga[i]));
    }
    free(ga);
    free(gb);
    print_message("bf16 gradients: worst difference %.3g of %.3g\n", gw, gs);
    assert_true(gw > 0 && gw < 3e-2 * gs);
    mlp_free(a);
    mlp_free(b);
}

/* a forward, backward and update step, twice from the same start: the same
 * bits, in each precision, with dropout */
static void steps(enum precision p, int pack, enum optim_kind kind, int fused, float *out,
                  size_t n)
{
    struct mlp *m = model(p, ACT_RELU, 0.2f, pack);
    struct optim o = {.kind = kind, .momentum = 0.9f, .beta1 = 0.9f, .beta2 = 0.999f,
                      .eps = 1e-8f, .weight_decay = 1e-3f};
    assert_int_equal(optim_init(&o, m->n_params, m->n_weights), 0);
    float T[32 * 10] = {0};
    for (int i = 0; i < 32; i++)
        T[i * 10 + (i * 7) % 10] = 1;
    struct rng r;
    rng_seed(&r, 3, RNG_DROPOUT);
    for (int step = 0; step < 3; step++) {
        const float *z = mlp_forward(m, 32 - step, &r);
        assert_non_null(z);
        head_loss(&SOFTMAX, m->probs, m->dlogits, z, T, 32 - step, 10);
        float beta, *G = optim_grad_target(&o, &beta);
        if (fused) {
            assert_int_equal(mlp_backward_update(m, m->dlogits, 32 - step, &o, G, beta, 0.1f), 0);
        } else {
            assert_int_equal(mlp_backward(m, m->dlogits, 32 - step, G, beta), 0);
            mlp_update(m, &o, G, 0.1f);
        }
    }
    assert_true(n == m->n_params);
    memcpy(out, m->params, sizeof(float) * n);
    optim_free(&o);
    mlp_free(m);
}

/* steps as the trainer takes them: the fused backward and update */
static void one_step(enum precision p, int pack, float *out, size_t n)
{
    steps(p, pack, OPT_MOMENTUM, 1, out, n);
}

/* the training loop's fused backward and update gives what the two calls
 * give, bit for bit, for the momentum rule that accumulates into its velocity
 * and for one that keeps the gradient apart */
static void fused_update_matches(void **state)
{
    (void)state;
    size_t n = 50 * 40 + 40 * 30 + 30 * 10 + 40 + 30 + 10;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    for (int p = 0; p <= (have_bf16() ? 1 : 0); p++)
        for (int k = OPT_MOMENTUM; k <= OPT_ADAM; k++) {
            steps((enum precision)p, 0, (enum optim_kind)k, 0, a, n);
            steps((enum precision)p, 0, (enum optim_kind)k, 1, b, n);
            assert_memory_equal(a, b, sizeof(float) * n);
        }
    free(a), free(b);
}

static void steps_repeat_exactly(void **state)
{
    (void)state;
    size_t n = 50 * 40 + 40 * 30 + 30 * 10 + 40 + 30 + 10;
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    for (int p = 0; p <= (have_bf16() ? 1 : 0); p++) {
        one_step((enum precision)p, 0, a, n);
        one_step((enum precision)p, 0, b, n);
        assert_memory_equal(a, b, sizeof(float) * n);
    }
    /* fp32 with every layer packed follows the plain run: after 3 steps the
     * weights agree to float rounding (the kernels may sum in another order;
     * a packed copy the update missed would send the forward pass astray) */
    one_step(PRECISION_FP32, -1, a, n);
    one_step(PRECISION_FP32, 1, b, n);
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(a[i]))))
            fail_msg("param %zu: packed %.9g, plain %.9g", i, b[i], a[i]);
    free(a), free(b);
}

/* without native bf16 the precision is refused, never quietly changed */
static void precision_check(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(onednn_check_precision(PRECISION_FP32, &e), 0);
    int rc = onednn_check_precision(PRECISION_BF16, &e);
    if (rc) {
        assert_int_equal(rc, ERR_UNAVAILABLE);
        assert_non_null(strstr(e.msg, "precision: bf16 needs"));
    } else {
        assert_non_null(strstr(onednn_isa(), "avx512_core_"));
    }
}

/* a small product runs on one thread, a large one on the team; making the
 * small one leaves the team as it was; and a product made for one thread
 * gives the same bits as the team's (only where the work is cut differs) */
static void one_thread_or_the_team(void **state)
{
    (void)state;
    struct onednn dnn;
    struct err e = {0};
    /* the team as train plans it: OMP_DYNAMIC from the caller's shell would
     * otherwise run a product made for two threads on one */
    assert_int_equal(par_team(2, &e), 0);
    assert_int_equal(onednn_open(&dnn, &e), 0);
    for (int p = 0; p <= (have_bf16() ? 1 : 0); p++) {
        const int bf = p == PRECISION_BF16;
        struct dense team, one;
        assert_int_equal(dense_init(&team, &dnn, IN, OUT, ACT_RELU, (enum precision)p, 0, &e), 0);
        assert_int_equal(dense_init(&one, &dnn, IN, OUT, ACT_RELU, (enum precision)p, 0, &e), 0);
        assert_true(64.0 * IN * OUT >= DENSE_SERIAL_MACS && 16.0 * IN * OUT < DENSE_SERIAL_MACS);
        assert_int_equal(dense_threads(&team, 64), 2);
        assert_int_equal(dense_threads(&team, 16), 1);
        assert_int_equal(dense_prepare(&team, 16, 1, 0.9f, &e), 0);
        assert_int_equal(omp_get_max_threads(), 2);
        assert_int_equal(dense_prepare(&team, 64, 1, 0.9f, &e), 0);
        omp_set_num_threads(1);
        assert_int_equal(dense_prepare(&one, 64, 1, 0.9f, &e), 0);
        omp_set_num_threads(2);
        static struct operands o;
        fill(&o, 64, 77);
        const void *x = bf ? (const void *)o.x16 : o.x, *W = bf ? (const void *)o.W16 : o.W;
        const void *dy = bf ? (const void *)o.dy16 : o.dy;
        static float y[2][64 * OUT], dx[2][64 * IN], dW[2][IN * OUT];
        struct dense *d[2] = {&team, &one};
        for (int i = 0; i < 2; i++) {
            for (int k = 0; k < IN * OUT; k++)
                dW[i][k] = (float)cos(k);
            assert_int_equal(dense_forward(d[i], y[i], x, W, o.b, 64, &e), 0);
            assert_int_equal(dense_backward_data(d[i], dx[i], dy, W, 64, &e), 0);
            assert_int_equal(dense_backward_weights(d[i], dW[i], x, dy, 0.9f, 64, &e), 0);
        }
        assert_memory_equal(y[0], y[1], sizeof y[0]);
        assert_memory_equal(dx[0], dx[1], sizeof dx[0]);
        assert_memory_equal(dW[0], dW[1], sizeof dW[0]);
        dense_free(&team);
        dense_free(&one);
    }
    onednn_close(&dnn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(products_fp32),
        cmocka_unit_test(products_bf16),
        cmocka_unit_test(cache_eviction),
        cmocka_unit_test(packed_odd_shapes),
        cmocka_unit_test(packing_fast_paths),
        cmocka_unit_test(bf16_model_tracks_fp32),
        cmocka_unit_test(steps_repeat_exactly),
        cmocka_unit_test(fused_update_matches),
        cmocka_unit_test(precision_check),
        cmocka_unit_test(one_thread_or_the_team),
    };
    return cmocka_run_group_tests_name("dense", tests, NULL, NULL);
}
