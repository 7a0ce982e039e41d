#include "head.h"

#include <math.h>

#include "act.h"

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

void head_outputs(const struct head *h, float *P, const float *Z, int B, int K)
{
    for (int i = 0; i < B; i++) {
        float *p = P + (size_t)i * K;
        const float *z = Z + (size_t)i * K;
        if (h->kind == HEAD_SOFTMAX)
            softmax_row(p, z, K);
        else
            for (int k = 0; k < K; k++)
                p[k] = act_sigmoid(z[k]);
    }
}

static double softmax_loss_row(float *p, float *dz, const float *z, const float *t, int K,
                               float scale)
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

static double sigmoid_loss_row(float *p, float *dz, const float *z, const float *t, int K,
                               float scale)
{
    double loss = 0;
    for (int k = 0; k < K; k++) {
        p[k] = act_sigmoid(z[k]);
        loss += fmaxf(z[k], 0) - z[k] * t[k] + log1pf(expf(-fabsf(z[k])));
        if (dz)
            dz[k] = (p[k] - t[k]) * scale;
    }
    return loss;
}

double head_loss(const struct head *h, float *P, float *dZ, const float *Z, const float *T,
                 int B, int K)
{
    float div = h->kind == HEAD_SIGMOID && h->reduction == BCE_MEAN ? (float)K : 1.0f;
    float scale = 1.0f / ((float)B * div);
    double total = 0;
    for (int i = 0; i < B; i++) {
        size_t o = (size_t)i * K;
        float *dz = dZ ? dZ + o : NULL;
        total += h->kind == HEAD_SOFTMAX
                     ? softmax_loss_row(P + o, dz, Z + o, T + o, K, scale)
                     : sigmoid_loss_row(P + o, dz, Z + o, T + o, K, scale);
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
