#include "optim.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

static const double PI = 3.14159265358979323846;

int optim_init(struct optim *o, size_t n, size_t n_decay)
{
    o->n = n;
    o->n_decay = n_decay;
    o->t = 0;
    o->m = calloc(n, sizeof(float));
    o->v = o->kind == OPT_ADAM ? calloc(n, sizeof(float)) : NULL;
    if (!o->m || (o->kind == OPT_ADAM && !o->v)) {
        optim_free(o);
        return -1;
    }
    return 0;
}

void optim_free(struct optim *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

/* y += a x over n floats, in pieces BLAS's int lengths can hold */
static void axpy(size_t n, float a, const float *x, float *y)
{
    for (size_t at = 0; at < n; at += INT_MAX / 2) {
        size_t k = n - at < INT_MAX / 2 ? n - at : INT_MAX / 2;
        cblas_saxpy((int)k, a, x + at, 1, y + at, 1);
    }
}

static int fused(const struct optim *o) { return o->kind == OPT_MOMENTUM && !o->nesterov; }

float *optim_grad_target(struct optim *o, float *grads, float *beta)
{
    *beta = fused(o) ? o->momentum : 0.0f;
    return fused(o) ? o->m : grads;
}

void optim_step(struct optim *o, float *w, float *g, float lr)
{
    const size_t n = o->n;
    o->t++;
    if (fused(o)) {
        /* v = mu v + g, unless the backward pass already accumulated g there;
         * decay joins it, then w -= lr v, as BLAS level-1 passes that
         * OpenBLAS splits between its threads */
        float *v = o->m;
        if (g != v)
            for (size_t i = 0; i < n; i++)
                v[i] = o->momentum * v[i] + g[i];
        if (o->weight_decay > 0)
            axpy(o->n_decay, o->weight_decay, w, v);
        axpy(n, -lr, v, w);
        return;
    }
    if (o->weight_decay > 0)
        for (size_t i = 0; i < o->n_decay; i++)
            g[i] += o->weight_decay * w[i];
    switch (o->kind) {
    case OPT_SGD:
        for (size_t i = 0; i < n; i++)
            w[i] -= lr * g[i];
        break;
    case OPT_MOMENTUM: {   /* nesterov; plain momentum is fused above */
        const float mu = o->momentum;
        float *v = o->m;
        for (size_t i = 0; i < n; i++) {
            v[i] = mu * v[i] + g[i];
            w[i] -= lr * (g[i] + mu * v[i]);
        }
        break;
    }
    case OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2;
        /* bias corrections folded into the step size */
        const float c1 = 1.0f - (float)pow(b1, (double)o->t);
        const float c2 = 1.0f - (float)pow(b2, (double)o->t);
        const float step = lr * sqrtf(c2) / c1, eps = o->eps * sqrtf(c2);
        for (size_t i = 0; i < n; i++) {
            o->m[i] = b1 * o->m[i] + (1 - b1) * g[i];
            o->v[i] = b2 * o->v[i] + (1 - b2) * g[i] * g[i];
            w[i] -= step * o->m[i] / (sqrtf(o->v[i]) + eps);
        }
        break;
    }
    }
}

double schedule_lr(const struct schedule *s, int e)
{
    switch (s->kind) {
    case LR_STEP:
        return s->lr * pow(s->gamma, (double)(e / s->step_every));
    case LR_COSINE:
        return s->lr * 0.5 * (1.0 + cos(PI * (double)e / (double)s->epochs));
    case LR_CONSTANT:
        break;
    }
    return s->lr;
}
