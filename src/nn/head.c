#include "head.h"

#include <math.h>

#include "act.h"

/* One loss: fills p (the head's outputs) for one row of K logits z against
 * targets t, and dz (when not NULL) with the gradient of the returned loss
 * times scale. */
typedef double (*loss_row_fn)(float *p, float *dz, const float *z, const float *t, int K,
                              float scale);

/* softmax of one row; returns log-sum-exp of z */
static double softmax_row(float *p, const float *z, int K)
{
    float m = z[0];
    for (int k = 1; k < K; k++)
        m = z[k] > m ? z[k] : m;
    double s = 0;
    for (int k = 0; k < K; k++) {
        p[k] = expf(z[k] - m);
        s += p[k];
    }
    for (int k = 0; k < K; k++)
        p[k] = (float)(p[k] / s);
    return m + log(s);
}

static void sigmoid_row(float *p, const float *z, int K)
{
    for (int k = 0; k < K; k++)
        p[k] = act_sigmoid(z[k]);
}

/* categorical cross-entropy of softmax(z), from the logits */
static double cce_row(float *p, float *dz, const float *z, const float *t, int K, float scale)
{
    double lse = softmax_row(p, z, K), tsum = 0, loss = 0;
    for (int k = 0; k < K; k++) {
        tsum += t[k];
        loss += (double)t[k] * (lse - z[k]);
    }
    if (dz)
        for (int k = 0; k < K; k++)
            dz[k] = (float)(p[k] * tsum - t[k]) * scale;
    return loss;
}

/* binary cross-entropy of each sigmoid(z_k), from the logits, summed */
static double bce_row(float *p, float *dz, const float *z, const float *t, int K, float scale)
{
    double loss = 0;
    sigmoid_row(p, z, K);
    for (int k = 0; k < K; k++) {
        loss += fmaxf(z[k], 0) - z[k] * t[k] + log1pf(expf(-fabsf(z[k])));
        if (dz)
            dz[k] = (p[k] - t[k]) * scale;
    }
    return loss;
}

struct loss_rule {
    loss_row_fn row;
    int per_output;          /* averaged over the K outputs rather than summed */
};

static const struct loss_rule SOFTMAX_LOSS = {cce_row, 0};
static const struct loss_rule SIGMOID_LOSSES[] = {
    [HEAD_BCE_SUM] = {bce_row, 0},
    [HEAD_BCE_MEAN] = {bce_row, 1},
};
_Static_assert(sizeof SIGMOID_LOSSES / sizeof SIGMOID_LOSSES[0] == N_HEAD_LOSSES,
               "every sigmoid loss has a rule");

static const struct loss_rule *rule_of(const struct head *h)
{
    return h->kind == HEAD_SOFTMAX ? &SOFTMAX_LOSS : &SIGMOID_LOSSES[h->loss];
}

/* a sigmoid head answers a two-class question with a single output */
static int single_output(const struct head *h, enum head_question q, int n)
{
    return h->kind == HEAD_SIGMOID && q == HEAD_ONE_OF && n == 2;
}

int head_n_outputs(const struct head *h, enum head_question q, int n)
{
    return single_output(h, q, n) ? 1 : n;
}

void head_target(const struct head *h, enum head_question q, int n, unsigned truth, float *t)
{
    if (single_output(h, q, n)) {
        t[0] = (float)(truth >> 1 & 1);
        return;
    }
    int k = __builtin_popcount(truth);
    /* softmax learns a distribution: a set is normalised to sum 1 */
    float v = h->kind == HEAD_SOFTMAX && k > 1 ? 1.0f / (float)k : 1.0f;
    for (int c = 0; c < n; c++)
        t[c] = truth >> c & 1 ? v : 0.0f;
}

/* the k largest of z, as a bit set (the first ones on ties) */
static unsigned top_k(const float *z, int n, int k)
{
    unsigned set = 0;
    for (; k > 0; k--) {
        int best = -1;
        for (int c = 0; c < n; c++)
            if (!(set >> c & 1) && (best < 0 || z[c] > z[best]))
                best = c;
        set |= 1u << best;
    }
    return set;
}

unsigned head_predict(const struct head *h, enum head_question q, int n, const float *z, int k)
{
    if (single_output(h, q, n))
        return z[0] > 0 ? 2u : 1u;   /* sigmoid(z) > 0.5 */
    if (q == HEAD_ONE_OF)
        return 1u << head_argmax(z, n);
    if (h->kind == HEAD_SOFTMAX)
        return top_k(z, n, k);
    unsigned set = 0;
    for (int c = 0; c < n; c++)
        if (z[c] > 0)
            set |= 1u << c;
    return set;
}

void head_outputs(const struct head *h, float *P, const float *Z, int B, int K)
{
    for (int i = 0; i < B; i++) {
        float *p = P + (size_t)i * K;
        const float *z = Z + (size_t)i * K;
        if (h->kind == HEAD_SOFTMAX)
            softmax_row(p, z, K);
        else
            sigmoid_row(p, z, K);
    }
}

double head_loss(const struct head *h, float *P, float *dZ, const float *Z, const float *T,
                 int B, int K)
{
    const struct loss_rule *r = rule_of(h);
    float div = r->per_output ? (float)K : 1.0f;
    float scale = 1.0f / ((float)B * div);
    double total = 0;
    for (int i = 0; i < B; i++) {
        size_t o = (size_t)i * K;
        total += r->row(P + o, dZ ? dZ + o : NULL, Z + o, T + o, K, scale);
    }
    return total / div;
}

int head_argmax(const float *p, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}
