#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropout.h"
#include "mlp_dnn.h"
#include "mlp_testing.h"
#include "par.h"

int mlp_sizes(const struct mlp_spec *spec, int *size)
{
    const int L = spec->n_hidden + 1;
    size[0] = spec->n_inputs;
    for (int l = 0; l < spec->n_hidden; l++)
        size[l + 1] = spec->hidden[l];
    size[L] = spec->n_outputs;
    return L;
}

size_t mlp_count_params(const struct mlp_spec *s)
{
    int size[MLP_MAX_LAYERS + 1];
    const int L = mlp_sizes(s, size);
    size_t n = 0;
    for (int l = 0; l < L; l++)
        n += (size_t)size[l] * (size_t)size[l + 1] + (size_t)size[l + 1];
    return n;
}

int mlp_layer_packs(const struct mlp_spec *spec, const int *size, int l)
{
    return spec->pack ? spec->pack > 0 : dense_should_pack(size[l], size[l + 1], spec->precision);
}

double mlp_weight_bytes(const struct mlp_spec *s)
{
    int size[MLP_MAX_LAYERS + 1];
    const int bf = s->precision == PRECISION_BF16, L = mlp_sizes(s, size);
    double bytes = 4.0 * (double)mlp_count_params(s);
    for (int l = 0; l < L; l++) {
        if (mlp_layer_packs(s, size, l))
            bytes += dense_packed_bytes(size[l], size[l + 1], s->precision);
        if (bf)
            bytes += 2.0 * size[l] * size[l + 1];
    }
    return bytes;
}

double mlp_batch_bytes(const struct mlp_spec *s, double rows)
{
    int size[MLP_MAX_LAYERS + 1], widest = 0;
    const int L = mlp_sizes(s, size), bf = s->precision == PRECISION_BF16;
    double bytes = 0;
    for (int l = 0; l <= L; l++) {
        widest = size[l] > widest ? size[l] : widest;
        bytes += 4 * rows * size[l];
        /* dropout's mask (byte) and, in fp32, the dropped copy (float; bf16
         * drops into the copy below) */
        if (l > 0 && l < L && s->dropout > 0)
            bytes += (bf ? 1 : 5) * rows * size[l];
        if (bf && l < L)
            bytes += 2 * rows * size[l];   /* the bf16 copy the next product reads */
    }
    if (bf)
        bytes += 2 * rows * widest;   /* the bf16 gradient the backward products read */
    bytes += 2 * 4 * rows * s->n_outputs;   /* probs, dlogits */
    /* mlp_backward writes delta[l & 1] for hidden layers l = L-1 .. 1: with one
     * hidden layer only delta[1] is ever touched, and untouched pages cost
     * address space, not memory */
    bytes += (L >= 3 ? 2 : L == 2 ? 1 : 0) * 4 * rows * widest;
    return bytes;
}

static void layout(struct mlp *m)
{
    float *w = m->params;
    for (int l = 0; l < m->L; l++) {
        m->W[l] = w;
        w += (size_t)m->size[l] * (size_t)m->size[l + 1];
    }
    for (int l = 0; l < m->L; l++) {
        m->b[l] = w;
        w += m->size[l + 1];
    }
}

static int alloc_buffers(struct mlp *m)
{
    size_t B = (size_t)m->spec.max_batch;
    int widest = 0, bf = m->spec.precision == PRECISION_BF16;
    for (int l = 0; l <= m->L; l++) {
        widest = m->size[l] > widest ? m->size[l] : widest;
        m->h[l] = malloc(sizeof(float) * B * (size_t)m->size[l]);
        if (!m->h[l])
            return -1;
        m->a[l] = m->h[l];
        /* dropout sits between a hidden layer's activation and the next layer */
        if (l > 0 && l < m->L && m->spec.dropout > 0) {
            m->a[l] = bf ? m->h[l] : malloc(sizeof(float) * B * (size_t)m->size[l]);
            m->mask[l] = malloc(B * (size_t)m->size[l]);
            if (!m->a[l] || !m->mask[l])
                return -1;
        }
        if (bf && l < m->L && !(m->a16[l] = malloc(sizeof(bf16) * B * (size_t)m->size[l])))
            return -1;
    }
    if (bf && (!(m->w16 = malloc(sizeof(bf16) * m->n_weights)) ||
               !(m->dy16 = malloc(sizeof(bf16) * B * (size_t)widest))))
        return -1;
    m->probs = malloc(sizeof(float) * B * (size_t)m->size[m->L]);
    m->dlogits = malloc(sizeof(float) * B * (size_t)m->size[m->L]);
    m->delta[0] = malloc(sizeof(float) * B * (size_t)widest);
    m->delta[1] = malloc(sizeof(float) * B * (size_t)widest);
    return m->probs && m->dlogits && m->delta[0] && m->delta[1] ? 0 : -1;
}

struct mlp *mlp_create(const struct mlp_spec *spec)
{
    struct mlp *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->spec = *spec;
    m->L = mlp_sizes(spec, m->size);
    m->n_params = mlp_count_params(spec);
    m->n_weights = 0;
    for (int l = 0; l < m->L; l++)
        m->n_weights += (size_t)m->size[l] * (size_t)m->size[l + 1];
    m->params = calloc(m->n_params, sizeof(float));
    m->dnn = calloc(1, sizeof *m->dnn);
    if (!m->params || !m->dnn || alloc_buffers(m) || onednn_open(&m->dnn->engine, &m->err)) {
        mlp_free(m);
        return NULL;
    }
    layout(m);
    for (int l = 0; l < m->L; l++) {
        const int pack = mlp_layer_packs(spec, m->size, l);
        if (dense_init(&m->dnn->layer[l], &m->dnn->engine, m->size[l], m->size[l + 1],
                       l + 1 < m->L ? (int)spec->act : -1, spec->precision, pack, &m->err)) {
            mlp_free(m);
            return NULL;
        }
        m->copies |= pack;
    }
    m->copies |= m->w16 != NULL;
    return m;
}

void mlp_free(struct mlp *m)
{
    if (!m)
        return;
    if (m->dnn) {
        for (int l = 0; l < m->L; l++)
            dense_free(&m->dnn->layer[l]);
        onednn_close(&m->dnn->engine);
        free(m->dnn);
    }
    for (int l = 0; l <= m->L; l++) {
        if (m->a[l] != m->h[l])
            free(m->a[l]);
        free(m->h[l]);
        free(m->mask[l]);
        free(m->a16[l]);
    }
    free(m->w16);
    free(m->dy16);
    free(m->probs);
    free(m->dlogits);
    free(m->delta[0]);
    free(m->delta[1]);
    free(m->params);
    free(m);
}

/* standard normal from two uniforms (Box-Muller, the cosine branch only: one
 * draw per pair keeps the stream position a plain function of the index) */
static float normal01(struct rng *r)
{
    double u1 = (rng_next(r) >> 11) * 0x1.0p-53, u2 = (rng_next(r) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2));
}

void mlp_init(struct mlp *m, uint64_t seed)
{
    for (int l = 0; l < m->L; l++) {
        int in = m->size[l], out = m->size[l + 1];
        int last = l == m->L - 1;
        struct rng r;
        rng_seed(&r, seed, RNG_INIT + (uint64_t)l);
        size_t n = (size_t)in * (size_t)out;
        enum mlp_init how = m->spec.init;
        if (how == INIT_HE_GLOROT) {
            int he = !last && m->spec.act == ACT_RELU;
            float limit = he ? sqrtf(6.0f / (float)in) : sqrtf(6.0f / (float)(in + out));
            for (size_t i = 0; i < n; i++)
                m->W[l][i] = (2.0f * rng_uniform(&r) - 1.0f) * limit;
            memset(m->b[l], 0, sizeof(float) * (size_t)out);
        } else if (how == INIT_UNIFORM) {
            const float r0 = m->spec.init_range;
            for (size_t i = 0; i < n; i++)
                m->W[l][i] = (2.0f * rng_uniform(&r) - 1.0f) * r0;
            for (int j = 0; j < out; j++)
                m->b[l][j] = (2.0f * rng_uniform(&r) - 1.0f) * r0;
        } else if (how == INIT_NORMAL_OUT && last) {
            memset(m->W[l], 0, sizeof(float) * n);
            memset(m->b[l], 0, sizeof(float) * (size_t)out);
        } else {
            double sd = how == INIT_NORMAL ? 1.0
                        : how == INIT_NORMAL_SCALED ? 1.0 / sqrt((double)in)
                                                    : 1.0 / sqrt((double)out);
            for (size_t i = 0; i < n; i++)
                m->W[l][i] = (float)(normal01(&r) * sd);
            for (int j = 0; j < out; j++)
                m->b[l][j] = normal01(&r);
        }
    }
    m->weights_fresh = 0;
}

int mlp_prepare(struct mlp *m, int B, int backward, float beta, struct err *e)
{
    for (int l = 0; l < m->L; l++)
        if (dense_prepare(&m->dnn->layer[l], B, backward, beta, e))
            return e->code;
    return 0;
}

void mlp_params_changed(struct mlp *m) { m->weights_fresh = 0; }

/* Where layer l's plain bf16 copy is read, and so must be written: by the
 * backward-data product (every layer after the first) and by the forward one
 * of a layer that does not pack. NULL: nowhere (fp32, or the first layer when
 * it packs). The copy is indexed as params. */
static bf16 *plain16(const struct mlp *m, int l)
{
    return m->w16 && (l > 0 || !m->dnn->layer[l].packed) ? m->w16 : NULL;
}

/* rows of W per piece of the refresh: even (bf16 row pairs), and 64 KB of a
 * 1024-wide layer, so a piece is packed while its update is still in L2 */
enum { PIECE_ROWS = 16 };

/* The weights' copies the products read (plain bf16, packed) for layers
 * [l0, l1), from the master weights, after the optimizer's update of the
 * same piece when o is given: one pass over those weights. Each element's
 * update touches that element only, so how the pieces fall to threads changes
 * no bit. */
static void refresh(struct mlp *m, int l0, int l1, const struct optim *o, float *G, float lr)
{
    size_t n = 0;
    for (int l = l0; l < l1; l++)
        n += (size_t)m->size[l] * (size_t)m->size[l + 1];
#pragma omp parallel if (n >= PAR_MIN_ELEMS)
    for (int l = l0; l < l1; l++) {
        const int in = m->size[l], out = m->size[l + 1];
        const size_t base = (size_t)(m->W[l] - m->params);
        bf16 *w16 = plain16(m, l);
#pragma omp for schedule(static) nowait
        for (int k0 = 0; k0 < in; k0 += PIECE_ROWS) {
            const int k1 = k0 + PIECE_ROWS < in ? k0 + PIECE_ROWS : in;
            const size_t i0 = base + (size_t)k0 * out, i1 = base + (size_t)k1 * out;
            if (o)
                optim_apply(o, m->params, G, lr, i0, i1, 1, w16);
            else if (w16)
                for (size_t i = i0; i < i1; i++)
                    w16[i] = bf16_from(m->params[i]);
            dense_pack(&m->dnn->layer[l], m->W[l], k0, k1);
        }
    }
}

/* the biases' update: a few thousand, fp32 only, no decay */
static void update_biases(struct mlp *m, const struct optim *o, float *G, float lr)
{
    optim_apply(o, m->params, G, lr, m->n_weights, m->n_params, 0, NULL);
}

/* what layer l reads: bf16 copies, or the fp32 activations (with dropout
 * only in training) */
static const void *layer_input(const struct mlp *m, int l, int training)
{
    if (m->a16[l])
        return m->a16[l];
    return training ? m->a[l] : m->h[l];
}

/* the plain weights a product reads: the bf16 copy or the fp32 master (a
 * packing layer's forward product reads its own copy instead) */
static const void *layer_weights(const struct mlp *m, int l)
{
    return m->w16 ? (const void *)(m->w16 + (m->W[l] - m->params)) : m->W[l];
}

/* after hidden layer l's product: dropout (training) and, for bf16, the copy
 * the next product reads, in one pass */
static void after_forward(struct mlp *m, int l, int B, struct rng *r)
{
    size_t n = (size_t)B * (size_t)m->size[l];
    int drop = r && m->mask[l];
    if (drop)
        dropout_mask(m->mask[l], n, m->spec.dropout, r);
    if (m->a16[l] && drop)
        dropout_apply_bf16(m->a16[l], m->mask[l], m->h[l], n, m->spec.dropout);
    else if (m->a16[l])
        bf16_convert(m->a16[l], m->h[l], n);
    else if (drop)
        dropout_apply(m->a[l], m->mask[l], m->h[l], n, m->spec.dropout);
}

float *mlp_forward(struct mlp *m, int B, struct rng *r)
{
    if (!m->weights_fresh) {
        if (m->copies)
            refresh(m, 0, m->L, NULL, NULL, 0);
        m->weights_fresh = 1;
    }
    if (m->a16[0])
        bf16_convert(m->a16[0], m->a[0], (size_t)B * (size_t)m->size[0]);
    for (int l = 0; l < m->L; l++) {
        if (dense_forward(&m->dnn->layer[l], m->h[l + 1], layer_input(m, l, r != NULL),
                          layer_weights(m, l), m->b[l], B, &m->err))
            return NULL;
        if (l + 1 < m->L)
            after_forward(m, l + 1, B, r);
    }
    return m->h[m->L];
}

/* The gradient g (B x out) at the output of layer l becomes the gradient at its
 * pre-activation, in place (through the dropout mask and the activation, from
 * its output y), db = beta db + its column sums, and the bf16 copy, in one
 * pass. Threads own strips of columns and walk the rows in order, so the sums
 * do not depend on the thread count. */
struct grad_pass {
    float *g;                   /* fp32 result (may be in), or NULL: not needed */
    const float *in, *y;        /* y: the activation's output (act >= 0) */
    const uint8_t *mask;
    float scale, beta, *db;
    bf16 *g16;
    int act, B, out;
};

enum { STRIP = 32 };

/* one row of a strip, w <= STRIP columns: each step a short loop over the
 * strip (two vectors), the choices made once per row. Inlined where w is the
 * constant STRIP, so that those loops have no remainder to handle: a strip
 * of a runtime width is scalar code (docs/performance.md). */
static inline __attribute__((always_inline)) void strip_row(const struct grad_pass *p, size_t at,
                                                            int w, float *sum)
{
    float v[STRIP];
    for (int j = 0; j < w; j++)
        v[j] = p->in[at + j];
    if (p->mask)   /* mask ? v * scale : +0, as bits: gcc left the select a
                      branch per unit, mispredicted on a random mask */
        for (int j = 0; j < w; j++) {
            float kept = v[j] * p->scale;
            uint32_t u;
            memcpy(&u, &kept, sizeof u);
            u &= 0u - (uint32_t)(p->mask[at + j] != 0);
            memcpy(&v[j], &u, sizeof u);
        }
    const float *y = p->y + at;
    switch (p->act) {
    case ACT_RELU:
        for (int j = 0; j < w; j++)
            v[j] = y[j] > 0 ? v[j] : 0.0f;
        break;
    case ACT_TANH:
        for (int j = 0; j < w; j++)
            v[j] *= 1 - y[j] * y[j];
        break;
    case ACT_SIGMOID:
        for (int j = 0; j < w; j++)
            v[j] *= y[j] * (1 - y[j]);
        break;
    case ACT_SCALED_TANH:
        for (int j = 0; j < w; j++)
            v[j] *= act_stanh_slope(y[j]);
        break;
    }
    if (p->g)
        for (int j = 0; j < w; j++)
            p->g[at + j] = v[j];
    if (p->g16)
        for (int j = 0; j < w; j++)
            p->g16[at + j] = bf16_from(v[j]);
    for (int j = 0; j < w; j++)
        sum[j] += v[j];
}

static void grad_pass(const struct grad_pass *p)
{
    const int strips = (p->out + STRIP - 1) / STRIP;
#pragma omp parallel for schedule(static) \
    if ((size_t)p->B * (size_t)p->out >= PAR_MIN_ELEMS)
    for (int s = 0; s < strips; s++) {
        const int j0 = s * STRIP, w = j0 + STRIP < p->out ? STRIP : p->out - j0;
        float sum[STRIP] = {0};
        if (w == STRIP)
            for (int i = 0; i < p->B; i++)
                strip_row(p, (size_t)i * (size_t)p->out + (size_t)j0, STRIP, sum);
        else
            for (int i = 0; i < p->B; i++)
                strip_row(p, (size_t)i * (size_t)p->out + (size_t)j0, w, sum);
        for (int j = 0; j < w; j++)
            p->db[j0 + j] = p->beta != 0 ? p->beta * p->db[j0 + j] + sum[j] : sum[j];
    }
}

/* Layer by layer from the output: the gradient pass, backward-data (while
 * the weights are still those of the forward pass), backward-weights, then,
 * with o, that layer's update while its gradient is still in cache. */
static int backward(struct mlp *m, const float *dZ, int B, float *G, float beta,
                    const struct optim *o, float lr)
{
    const float *dy = dZ;
    for (int l = m->L - 1; l >= 0; l--) {
        int out = m->size[l + 1], hidden = l + 1 < m->L;
        struct grad_pass p = {
            .g = hidden && !m->dy16 ? (float *)dy : NULL, .in = dy, .y = m->h[l + 1],
            .mask = hidden ? m->mask[l + 1] : NULL,
            .scale = 1.0f / (1.0f - m->spec.dropout), .beta = beta,
            .db = G + (m->b[l] - m->params), .g16 = m->dy16,
            .act = hidden ? (int)m->spec.act : -1, .B = B, .out = out,
        };
        grad_pass(&p);
        const void *g = m->dy16 ? (const void *)m->dy16 : (const void *)dy;
        float *dx = m->delta[l & 1];
        if (l > 0 && dense_backward_data(&m->dnn->layer[l], dx, g, layer_weights(m, l), B, &m->err))
            return m->err.code;
        if (dense_backward_weights(&m->dnn->layer[l], G + (m->W[l] - m->params),
                                   layer_input(m, l, 1), g, beta, B, &m->err))
            return m->err.code;
        if (o)
            refresh(m, l, l + 1, o, G, lr);
        dy = dx;
    }
    return 0;
}

int mlp_backward(struct mlp *m, const float *dZ, int B, float *G, float beta)
{
    return backward(m, dZ, B, G, beta, NULL, 0);
}

int mlp_backward_update(struct mlp *m, const float *dZ, int B, struct optim *o, float *G,
                        float beta, float lr)
{
    optim_begin(o);
    /* a failed product leaves the weights half updated: the copies follow
     * the master weights whatever happens */
    m->weights_fresh = 0;
    int rc = backward(m, dZ, B, G, beta, o, lr);
    if (rc)
        return rc;
    update_biases(m, o, G, lr);
    m->weights_fresh = 1;
    return 0;
}

void mlp_update(struct mlp *m, struct optim *o, float *G, float lr)
{
    optim_begin(o);
    refresh(m, 0, m->L, o, G, lr);
    update_biases(m, o, G, lr);
    m->weights_fresh = 1;
}

void mlp_describe(const struct mlp *m, char *s, size_t size)
{
    char v[64];
    onednn_version(v, sizeof v);
    const char *impl = m->dnn->layer[0].impl[0][0] ? m->dnn->layer[0].impl[0] : "not created yet";
    snprintf(s, size, "%s products on %s, ISA %s, matmul %s",
             onednn_precision_name(m->spec.precision), v, onednn_isa(), impl);
}
