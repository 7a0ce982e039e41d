#include "mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "dropout.h"

size_t mlp_count_params(const struct mlp_spec *s)
{
    size_t n = 0;
    int prev = s->n_inputs;
    for (int l = 0; l <= s->n_hidden; l++) {
        int out = l < s->n_hidden ? s->hidden[l] : s->n_outputs;
        n += (size_t)prev * (size_t)out + (size_t)out;
        prev = out;
    }
    return n;
}

static void layout(struct mlp *m)
{
    float *w = m->params, *g = m->grads;
    for (int l = 0; l < m->L; l++) {
        m->W[l] = w;
        m->dW[l] = g;
        size_t n = (size_t)m->size[l] * (size_t)m->size[l + 1];
        w += n;
        g += n;
    }
    for (int l = 0; l < m->L; l++) {
        m->b[l] = w;
        m->db[l] = g;
        w += m->size[l + 1];
        g += m->size[l + 1];
    }
}

static int alloc_buffers(struct mlp *m)
{
    size_t B = (size_t)m->spec.max_batch;
    int widest = 0;
    for (int l = 0; l <= m->L; l++) {
        widest = m->size[l] > widest ? m->size[l] : widest;
        m->h[l] = malloc(sizeof(float) * B * (size_t)m->size[l]);
        if (!m->h[l])
            return -1;
        m->a[l] = m->h[l];
        /* dropout sits between a hidden layer's activation and the next layer */
        if (l > 0 && l < m->L && m->spec.dropout > 0) {
            m->a[l] = malloc(sizeof(float) * B * (size_t)m->size[l]);
            m->mask[l] = malloc(B * (size_t)m->size[l]);
            if (!m->a[l] || !m->mask[l])
                return -1;
        }
    }
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
    m->L = spec->n_hidden + 1;
    m->size[0] = spec->n_inputs;
    for (int l = 0; l < spec->n_hidden; l++)
        m->size[l + 1] = spec->hidden[l];
    m->size[m->L] = spec->n_outputs;
    m->n_params = mlp_count_params(spec);
    m->n_weights = 0;
    for (int l = 0; l < m->L; l++)
        m->n_weights += (size_t)m->size[l] * (size_t)m->size[l + 1];
    m->params = calloc(m->n_params, sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    if (!m->params || !m->grads || alloc_buffers(m)) {
        mlp_free(m);
        return NULL;
    }
    layout(m);
    return m;
}

void mlp_free(struct mlp *m)
{
    if (!m)
        return;
    for (int l = 0; l <= m->L; l++) {
        if (m->a[l] != m->h[l])
            free(m->a[l]);
        free(m->h[l]);
        free(m->mask[l]);
    }
    free(m->probs);
    free(m->dlogits);
    free(m->delta[0]);
    free(m->delta[1]);
    free(m->params);
    free(m->grads);
    free(m);
}

void mlp_init(struct mlp *m, uint64_t seed)
{
    for (int l = 0; l < m->L; l++) {
        int in = m->size[l], out = m->size[l + 1];
        int he = l < m->L - 1 && m->spec.act == ACT_RELU;
        float limit = he ? sqrtf(6.0f / (float)in) : sqrtf(6.0f / (float)(in + out));
        struct rng r;
        rng_seed(&r, seed, RNG_INIT + (uint64_t)l);
        size_t n = (size_t)in * (size_t)out;
        for (size_t i = 0; i < n; i++)
            m->W[l][i] = (2.0f * rng_uniform(&r) - 1.0f) * limit;
        memset(m->b[l], 0, sizeof(float) * (size_t)out);
    }
}

float *mlp_forward(struct mlp *m, int B, struct rng *r)
{
    for (int l = 0; l < m->L; l++) {
        int in = m->size[l], out = m->size[l + 1];
        /* without dropout (evaluation) layer l reads the activations directly */
        const float *x = r ? m->a[l] : m->h[l];
        dense_forward(m->h[l + 1], x, m->W[l], m->b[l], B, in, out);
        if (l + 1 == m->L)
            break;
        size_t n = (size_t)B * (size_t)out;
        act_forward(m->spec.act, m->h[l + 1], n);
        if (r && m->a[l + 1] != m->h[l + 1])
            dropout_forward(m->a[l + 1], m->mask[l + 1], m->h[l + 1], n, m->spec.dropout, r);
    }
    return m->h[m->L];
}

void mlp_backward(struct mlp *m, const float *dZ, int B, float *G, float beta)
{
    const float *dy = dZ;
    for (int l = m->L - 1; l >= 0; l--) {
        int in = m->size[l], out = m->size[l + 1];
        float *dx = l > 0 ? m->delta[l & 1] : NULL;
        dense_backward(dx, G + (m->W[l] - m->params), G + (m->b[l] - m->params), beta, dy,
                       m->a[l], m->W[l], B, in, out);
        if (!dx)
            break;
        size_t n = (size_t)B * (size_t)in;
        if (m->a[l] != m->h[l])
            dropout_backward(dx, m->mask[l], n, m->spec.dropout);
        act_backward(m->spec.act, dx, m->h[l], n);
        dy = dx;
    }
}
