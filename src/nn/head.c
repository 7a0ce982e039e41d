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

/* Nielsen ch. 1's quadratic cost on the sigmoid outputs, summed over them:
 * 1/2 sum_k (p_k - y_k)^2, gradient (p - y) p (1 - p). No log, no exp beyond
 * the sigmoid: stable for any logit (the gradient vanishes when p saturates,
 * which is the cost's known slowness, not a numerical fault). */
static double squared_row(float *p, float *dz, const float *z, const float *t, int K,
                          float scale)
{
    double loss = 0;
    sigmoid_row(p, z, K);
    for (int k = 0; k < K; k++) {
        double d = (double)p[k] - t[k];
        loss += 0.5 * d * d;
        if (dz)
            dz[k] = (float)(d * p[k] * (1.0 - p[k])) * scale;
    }
    return loss;
}

#define KERAS_EPS 1e-7   /* keras.backend.epsilon() */

/* Keras's categorical_crossentropy applied to sigmoid outputs (Keras 1/2
 * backend: output /= sum(output); clip(output, eps, 1 - eps);
 * -sum(target * log(output))). This one cannot be computed from the logits in
 * log space: the clip acts on q = p / sum p itself, so q is formed as Keras
 * forms it and the clip (loss capped at -log 1e-7 = 16.1 per target, gradient
 * zero beyond it) is Keras's own behaviour, reproduced on purpose. p are the
 * float32 sigmoids as in Keras; the rest is in double. Gradient:
 * g_q = -y / q inside the clip, 0 outside; g_p_j = (g_q_j - sum_k g_q_k q_k) / S;
 * dz_j = g_p_j p_j (1 - p_j). */
static double keras_cce_row(float *p, float *dz, const float *z, const float *t, int K,
                            float scale)
{
    sigmoid_row(p, z, K);
    double S = 0, loss = 0, dot = 0;
    for (int k = 0; k < K; k++)
        S += p[k];
    /* every sigmoid underflowed to 0: Keras divides 0 by 0; we say q = 1/K */
    double gq[32];   /* K <= 32: the most outputs a question has (head.h) */
    for (int k = 0; k < K; k++) {
        double q = S > 0 ? p[k] / S : 1.0 / K;
        double c = q < KERAS_EPS ? KERAS_EPS : q > 1 - KERAS_EPS ? 1 - KERAS_EPS : q;
        loss -= (double)t[k] * log(c);
        gq[k] = c == q ? -(double)t[k] / q : 0.0;
        dot += gq[k] * q;
    }
    if (dz)
        for (int k = 0; k < K; k++)
            dz[k] = S > 0 ? (float)((gq[k] - dot) / S * p[k] * (1.0 - p[k])) * scale : 0.0f;
    return loss;
}

struct loss_rule {
    loss_row_fn row;
    int per_output;          /* averaged over the K outputs rather than summed */
    enum head_kind head;     /* the head this loss belongs to */
};

static const struct loss_rule LOSSES[] = {
    [HEAD_LOSS_AUTO] = {NULL, 0, HEAD_SOFTMAX},   /* resolved before use */
    [HEAD_CCE] = {cce_row, 0, HEAD_SOFTMAX},
    [HEAD_BCE_SUM] = {bce_row, 0, HEAD_SIGMOID},
    [HEAD_BCE_MEAN] = {bce_row, 1, HEAD_SIGMOID},
    [HEAD_SQUARED] = {squared_row, 0, HEAD_SIGMOID},
    [HEAD_KERAS_CCE] = {keras_cce_row, 0, HEAD_SIGMOID},
};
_Static_assert(sizeof LOSSES / sizeof LOSSES[0] == N_HEAD_LOSSES, "every loss has a rule");

int head_resolve_loss(enum head_kind kind, enum head_loss asked, const char **why)
{
    *why = NULL;
    if (asked == HEAD_LOSS_AUTO)
        return kind == HEAD_SOFTMAX ? HEAD_CCE : HEAD_BCE_SUM;
    if (LOSSES[asked].head != kind) {
        *why = kind == HEAD_SOFTMAX ? "head softmax takes only loss cce (or auto)"
                                    : "loss cce is softmax's; head sigmoid takes bce, bce-mean, "
                                      "squared or keras-cce";
        return -1;
    }
    return asked;
}

/* the rule of a head; a softmax head always has cce, and a sigmoid head given
 * no sigmoid loss (AUTO, cce) bce */
static const struct loss_rule *rule_of(const struct head *h)
{
    if (h->kind == HEAD_SOFTMAX)
        return &LOSSES[HEAD_CCE];
    return LOSSES[h->loss].head == HEAD_SIGMOID ? &LOSSES[h->loss] : &LOSSES[HEAD_BCE_SUM];
}

/* a sigmoid head answers a two-class question with a single output */
static int single_output(const struct head *h, enum head_question q, int n)
{
    return h->kind == HEAD_SIGMOID && q == HEAD_ONE_OF && n == 2;
}

const char *head_cannot_learn(const struct head *h, enum head_question q, int n)
{
    if (h->loss == HEAD_KERAS_CCE && head_n_outputs(h, q, n) == 1)
        return "the one sigmoid output divided by itself is always 1, there is nothing to learn";
    return NULL;
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
