#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/timer.h"

#define EVAL_BATCH 512

void one_hot(float *T, const uint8_t *y, const uint32_t *idx, int B, int K)
{
    memset(T, 0, sizeof(float) * (size_t)B * (size_t)K);
    for (int b = 0; b < B; b++)
        T[(size_t)b * K + y[idx ? idx[b] : (uint32_t)b]] = 1.0f;
}

static struct mlp_spec spec_for(const struct config *c, int n_inputs)
{
    struct mlp_spec s = {
        .n_inputs = n_inputs,
        .n_outputs = DATASET_CLASSES,
        .n_hidden = c->hidden.n,
        .act = (enum act)c->activation,
        .dropout = (float)c->dropout,
        .head = {(enum head_kind)c->head, (enum bce_reduction)c->bce_reduction},
        .max_batch = c->batch_size > EVAL_BATCH ? (int)c->batch_size : EVAL_BATCH,
    };
    memcpy(s.hidden, c->hidden.v, sizeof(int) * (size_t)c->hidden.n);
    return s;
}

int trainer_init(struct trainer *t, const struct config *c, const struct dataset *train,
                 const struct dataset *val, const struct dataset *test, struct err *e)
{
    memset(t, 0, sizeof *t);
    t->cfg = c;
    t->train = train;
    t->val = val;
    t->test = test;
    struct mlp_spec spec = spec_for(c, (int)train->dim);
    t->model = mlp_create(&spec);
    t->order = malloc(sizeof(uint32_t) * train->n);
    t->targets = malloc(sizeof(float) * (size_t)spec.max_batch * DATASET_CLASSES);
    t->test_probs = malloc(sizeof(float) * (test->n ? test->n : 1) * DATASET_CLASSES);
    t->test_pred = malloc(sizeof(int) * (test->n ? test->n : 1));
    t->optim = (struct optim){
        .kind = (enum optim_kind)c->optimizer,
        .momentum = (float)c->momentum,
        .nesterov = c->nesterov,
        .beta1 = (float)c->adam_beta1,
        .beta2 = (float)c->adam_beta2,
        .eps = (float)c->adam_eps,
        .weight_decay = (float)c->weight_decay,
    };
    if (!t->model || !t->order || !t->targets || !t->test_probs || !t->test_pred ||
        optim_init(&t->optim, t->model->n_params, t->model->n_weights)) {
        trainer_free(t);
        return err_set(e, ERR_SOFTWARE, "out of memory for the model");
    }
    t->schedule = (struct schedule){(enum lr_schedule)c->lr_schedule, c->lr, (int)c->epochs,
                                    (int)c->lr_step, c->lr_gamma};
    uint64_t seed = (uint64_t)c->seed;
    mlp_init(t->model, seed);
    rng_seed(&t->shuffle, seed, RNG_SHUFFLE);
    rng_seed(&t->dropout, seed, RNG_DROPOUT);
    rng_seed(&t->augment, seed, RNG_AUGMENT);
    for (uint32_t i = 0; i < train->n; i++)
        t->order[i] = i;
    return 0;
}

void trainer_free(struct trainer *t)
{
    mlp_free(t->model);
    optim_free(&t->optim);
    free(t->order);
    free(t->targets);
    free(t->test_probs);
    free(t->test_pred);
    memset(t, 0, sizeof *t);
}

struct eval evaluate(struct mlp *m, float *targets, const struct dataset *d, float *probs,
                     int *pred)
{
    struct eval r = {0, d->n, 0};
    const int K = m->size[m->L];
    for (uint32_t from = 0; from < d->n; from += (uint32_t)m->spec.max_batch) {
        uint32_t nb = d->n - from < (uint32_t)m->spec.max_batch ? d->n - from
                                                                 : (uint32_t)m->spec.max_batch;
        struct dataset part = dataset_slice(d, from, nb);
        batch_gather(m->a[0], &part, NULL, (int)nb, 0, NULL);
        const float *Z = mlp_forward(m, (int)nb, NULL);
        one_hot(targets, part.y, NULL, (int)nb, K);
        r.loss += head_loss(&m->spec.head, m->probs, NULL, Z, targets, (int)nb, K);
        for (uint32_t b = 0; b < nb; b++) {
            int guess = head_argmax(Z + (size_t)b * K, K);
            r.correct += guess == part.y[b];
            if (pred)
                pred[from + b] = guess;
        }
        if (probs)
            memcpy(probs + (size_t)from * K, m->probs, sizeof(float) * nb * (size_t)K);
    }
    r.loss /= d->n ? (double)d->n : 1.0;
    return r;
}

/* One pass over the shuffled training set; fills the training half of s. */
static int train_epoch(struct trainer *t, struct epoch_stats *s, struct err *e)
{
    struct mlp *m = t->model;
    const int K = m->size[m->L], B = (int)t->cfg->batch_size;
    const uint32_t n = t->train->n;
    long long correct = 0;
    double loss = 0;
    rng_shuffle(&t->shuffle, t->order, n);
    for (uint32_t from = 0; from < n; from += (uint32_t)B) {
        int nb = n - from < (uint32_t)B ? (int)(n - from) : B;
        const uint32_t *idx = t->order + from;
        batch_gather(m->a[0], t->train, idx, nb, t->cfg->augment_shift, &t->augment);
        one_hot(t->targets, t->train->y, idx, nb, K);
        const float *Z = mlp_forward(m, nb, &t->dropout);
        float *dZ = m->dlogits;
        double l = head_loss(&m->spec.head, m->probs, dZ, Z, t->targets, nb, K);
        if (!isfinite(l))
            return err_set(e, ERR_DATA,
                           "training diverged: loss is %s at epoch %d, batch %u (try a lower lr)",
                           isnan(l) ? "nan" : "infinite", s->epoch, from / (uint32_t)B + 1);
        loss += l;
        for (int b = 0; b < nb; b++)
            correct += head_argmax(Z + (size_t)b * K, K) == t->train->y[idx[b]];
        mlp_backward(m, dZ, nb);
        optim_step(&t->optim, m->params, m->grads, (float)s->lr);
    }
    s->train_loss = loss / n;
    s->train_accuracy = (double)correct / n;
    return 0;
}

int trainer_run(struct trainer *t, epoch_fn on_epoch, void *ctx, struct err *e)
{
    for (int ep = 0; ep < t->cfg->epochs; ep++) {
        struct epoch_stats s = {.epoch = ep + 1, .lr = schedule_lr(&t->schedule, ep)};
        double t0 = timer_now();
        if (train_epoch(t, &s, e))
            return e->code;
        s.seconds = timer_now() - t0;
        s.samples_per_second = s.seconds > 0 ? t->train->n / s.seconds : 0;
        if (t->val->n)
            s.val = evaluate(t->model, t->targets, t->val, NULL, NULL);
        s.test = t->test_eval =
            evaluate(t->model, t->targets, t->test, t->test_probs, t->test_pred);
        if (on_epoch && on_epoch(&s, ctx))
            return e->code ? e->code : err_set(e, ERR_IO, "stopped by the reporter");
    }
    return 0;
}
