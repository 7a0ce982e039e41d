#include "optim.h"

#include <math.h>
#include <stdlib.h>

#include "par.h"

static const double PI = 3.14159265358979323846;

static int fused(const struct optim *o) { return o->kind == OPT_MOMENTUM && !o->nesterov; }

int optim_init(struct optim *o, size_t n, size_t n_decay)
{
    o->n = n;
    o->n_decay = n_decay;
    o->t = 0;
    /* plain SGD keeps no state: nothing of it would ever be read */
    o->m = o->kind != OPT_SGD ? calloc(n, sizeof(float)) : NULL;
    o->v = o->kind == OPT_ADAM ? calloc(n, sizeof(float)) : NULL;
    o->g = !fused(o) ? calloc(n, sizeof(float)) : NULL;
    if ((o->kind != OPT_SGD && !o->m) || (o->kind == OPT_ADAM && !o->v) || (!fused(o) && !o->g)) {
        optim_free(o);
        return -1;
    }
    return 0;
}

void optim_free(struct optim *o)
{
    free(o->m);
    free(o->v);
    free(o->g);
    o->m = o->v = o->g = NULL;
}

float *optim_grad_target(struct optim *o, float *beta)
{
    *beta = fused(o) ? o->momentum : 0.0f;
    return fused(o) ? o->m : o->g;
}

/* Every rule is one pass over the parameters, element by element, split
 * between the OpenMP threads (so the result does not depend on their number):
 * the weights below n_decay with decay and, when w16 is given, their bf16
 * copy; the rest (biases) without. Three plain loops in one parallel region,
 * so that each vectorizes. */
#define PASS(body)                                                                   \
    _Pragma("omp parallel if (n >= PAR_MIN_ELEMS)")                                  \
    {                                                                                \
        float wd = o->weight_decay;                                                  \
        if (w16) {                                                                   \
            _Pragma("omp for schedule(static) nowait")                               \
            for (size_t i = 0; i < nd; i++) {                                        \
                body;                                                                \
                w16[i] = bf16_from(w[i]);                                            \
            }                                                                        \
        } else {                                                                     \
            _Pragma("omp for schedule(static) nowait")                               \
            for (size_t i = 0; i < nd; i++) {                                        \
                body;                                                                \
            }                                                                        \
        }                                                                            \
        wd = 0;                                                                      \
        _Pragma("omp for schedule(static)")                                          \
        for (size_t i = nd; i < n; i++) {                                            \
            body;                                                                    \
        }                                                                            \
    }

void optim_step(struct optim *o, float *w, float *g, float lr, bf16 *w16, size_t n16)
{
    const size_t n = o->n, nd = o->n_decay;
    const float mu = o->momentum;
    float *v = o->m, *s = o->v;
    o->t++;
    /* the bf16 copy covers exactly the weights: the biases stay fp32 */
    if (n16 != nd)
        w16 = NULL;
    if (fused(o)) {
        /* v = mu v + g, unless the backward pass already accumulated g there
         * (g == v); decay joins it, then w -= lr v */
        if (g != v)
            PASS(v[i] = mu * v[i] + g[i]; v[i] += wd * w[i]; w[i] -= lr * v[i])
        else
            /* without decay (always for the biases) v is only read: no
             * store of it (v + 0 w is v for every finite w) */
            PASS(if (wd != 0) v[i] += wd * w[i]; w[i] -= lr * v[i])
        return;
    }
    switch (o->kind) {
    case OPT_SGD:
        PASS(w[i] -= lr * (g[i] + wd * w[i]))
        break;
    case OPT_MOMENTUM:   /* nesterov; plain momentum is fused above */
        PASS(const float gi = g[i] + wd * w[i]; v[i] = mu * v[i] + gi;
             w[i] -= lr * (gi + mu * v[i]))
        break;
    case OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2;
        /* bias corrections folded into the step size */
        const float c1 = 1.0f - (float)pow(b1, (double)o->t);
        const float c2 = 1.0f - (float)pow(b2, (double)o->t);
        const float step = lr * sqrtf(c2) / c1, eps = o->eps * sqrtf(c2);
        PASS(const float gi = g[i] + wd * w[i]; v[i] = b1 * v[i] + (1 - b1) * gi;
             s[i] = b2 * s[i] + (1 - b2) * gi * gi; w[i] -= step * v[i] / (sqrtf(s[i]) + eps))
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
