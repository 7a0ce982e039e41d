#include "optim.h"

#include <math.h>
#include <stdlib.h>

#include "par.h"

static const double PI = 3.14159265358979323846;

static int fused(const struct optim *o) { return o->kind == OPT_MOMENTUM && !o->nesterov; }

/* the state each rule reads: m for momentum and adam, v for adam only (plain
 * SGD keeps none: nothing of it would ever be read) */
static int has_m(enum optim_kind k) { return k != OPT_SGD; }
static int has_v(enum optim_kind k) { return k == OPT_ADAM; }

int optim_saved_arrays(enum optim_kind kind) { return has_m(kind) + has_v(kind); }

int optim_state_arrays(enum optim_kind kind, int nesterov)
{
    const struct optim o = {.kind = kind, .nesterov = nesterov};
    return optim_saved_arrays(kind) + !fused(&o);
}

int optim_init(struct optim *o, size_t n, size_t n_decay)
{
    o->n = n;
    o->n_decay = n_decay;
    o->t = 0;
    o->m = has_m(o->kind) ? calloc(n, sizeof(float)) : NULL;
    o->v = has_v(o->kind) ? calloc(n, sizeof(float)) : NULL;
    o->g = !fused(o) ? calloc(n, sizeof(float)) : NULL;
    if ((has_m(o->kind) && !o->m) || (has_v(o->kind) && !o->v) || (!fused(o) && !o->g)) {
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

void optim_begin(struct optim *o)
{
    o->t++;
    if (o->kind == OPT_ADAM) {
        /* bias corrections folded into the step size */
        o->adam_c1 = 1.0f - (float)pow(o->beta1, (double)o->t);
        o->adam_sqrt_c2 = sqrtf(1.0f - (float)pow(o->beta2, (double)o->t));
    }
}

/* Each rule is one plain loop over the range, element by element, so that it
 * vectorizes; with w16, the bf16 rounding of the new weight is stored in the
 * same loop. */
#define LOOP(body)                                                                   \
    do {                                                                             \
        if (w16)                                                                     \
            for (size_t i = i0; i < i1; i++) {                                       \
                body;                                                                \
                w16[i] = bf16_from(w[i]);                                            \
            }                                                                        \
        else                                                                         \
            for (size_t i = i0; i < i1; i++) {                                       \
                body;                                                                \
            }                                                                        \
    } while (0)

void optim_apply(const struct optim *o, float *w, float *g, float lr, size_t i0, size_t i1,
                 int decay, bf16 *w16)
{
    const float mu = o->momentum, wd = decay ? o->weight_decay : 0.0f;
    float *v = o->m, *s = o->v;
    if (fused(o)) {
        /* v = mu v + g, unless the backward pass already accumulated g there
         * (g == v); decay joins it, then w -= lr v */
        if (g != v)
            LOOP(v[i] = mu * v[i] + g[i]; v[i] += wd * w[i]; w[i] -= lr * v[i]);
        else if (wd != 0)
            LOOP(v[i] += wd * w[i]; w[i] -= lr * v[i]);
        else    /* without decay (always for the biases) v is only read */
            LOOP(w[i] -= lr * v[i]);
        return;
    }
    switch (o->kind) {
    case OPT_SGD:
        LOOP(w[i] -= lr * (g[i] + wd * w[i]));
        break;
    case OPT_MOMENTUM:   /* nesterov; plain momentum is fused above */
        LOOP(const float gi = g[i] + wd * w[i]; v[i] = mu * v[i] + gi;
             w[i] -= lr * (gi + mu * v[i]));
        break;
    case OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2;
        const float step = lr * o->adam_sqrt_c2 / o->adam_c1, eps = o->eps * o->adam_sqrt_c2;
        LOOP(const float gi = g[i] + wd * w[i]; v[i] = b1 * v[i] + (1 - b1) * gi;
             s[i] = b2 * s[i] + (1 - b2) * gi * gi; w[i] -= step * v[i] / (sqrtf(s[i]) + eps));
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
    case LR_EXP:
        return s->lr * pow(s->gamma, (double)e);
    case LR_CONSTANT:
        break;
    }
    return s->lr;
}
