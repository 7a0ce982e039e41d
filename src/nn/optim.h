/* optim: parameter updates over one flat block of floats, and the learning-rate
 * schedule. Weight decay (L2, added to the gradient) applies to the first
 * n_decay parameters only: the weights, not the biases (see mlp.h). */
#ifndef OPTIM_H
#define OPTIM_H

#include <stddef.h>

#include "bf16.h"
#include "optim_kinds.h"

struct optim {
    enum optim_kind kind;
    float momentum;          /* momentum: v = mu v + g; w -= lr v */
    int nesterov;            /*           w -= lr (g + mu v) */
    float beta1, beta2, eps; /* adam */
    float weight_decay;
    size_t n, n_decay;
    float *m, *v;            /* optimizer state, n floats each (m: momentum and adam,
                                v: adam only; NULL where the rule reads none) */
    float *g;                /* the gradient alone, n floats, for the rules that want
                                it apart; NULL for plain momentum (see below) */
    long long t;             /* steps taken */
    float adam_c1, adam_sqrt_c2;  /* this step's bias corrections (optim_begin) */
};

/* 0 on success, -1 when out of memory */
int optim_init(struct optim *o, size_t n, size_t n_decay);

/* The optimizer's state, in arrays of n floats: the ones optim_init
 * allocates (m, v, and the gradient block unless plain momentum takes the
 * gradient into m), and the ones a model file carries (m, v). */
int optim_state_arrays(enum optim_kind kind, int nesterov);
int optim_saved_arrays(enum optim_kind kind);
void optim_free(struct optim *o);

/* Where the backward pass should leave the gradient: G = beta G + g. Plain
 * momentum takes it straight into its velocity (G = v, beta = mu), so the
 * gradient never makes a trip of its own through memory and no gradient block
 * exists; the others want it alone in o->g (beta 0). */
float *optim_grad_target(struct optim *o, float *beta);

/* A step in pieces: optim_begin once, then optim_apply on ranges [i0, i1)
 * of the parameters that together cover them once, from any threads (each
 * element's update reads and writes that element only, so how the ranges are
 * cut and shared never changes a bit). decay: the range is of weights (weight
 * decay applies). With w16, the bf16 rounding of each updated w[i] goes to
 * w16[i] in the same loop. */
void optim_begin(struct optim *o);
void optim_apply(const struct optim *o, float *w, float *g, float lr, size_t i0, size_t i1,
                 int decay, bf16 *w16);

struct schedule {
    enum lr_schedule kind;
    double lr;
    int epochs;              /* cosine: total epochs */
    int step_every;          /* step: multiply by gamma every step_every epochs;
                                exp: by gamma every epoch */
    double gamma;
};

/* learning rate for 0-based epoch e: cosine is lr * (1 + cos(pi e / E)) / 2,
 * exp lr * gamma^e; a function of e alone, so a resumed run goes on exactly */
double schedule_lr(const struct schedule *s, int e);

#endif
