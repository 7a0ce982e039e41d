/* train: the epoch loop (shuffle, gather, forward, head, backward, update) and
 * evaluation. Reporting is left to a callback, so this module prints nothing. */
#ifndef TRAIN_H
#define TRAIN_H

#include "../config/config.h"
#include "../data/dataset.h"
#include "../nn/mlp.h"
#include "../nn/optim.h"
#include "../util/err.h"

struct eval {
    long long correct, total;
    double loss;            /* mean per-sample loss of the head */
};

struct epoch_stats {
    int epoch;              /* 1-based */
    double lr;
    double train_loss, train_accuracy;   /* over the epoch, with dropout and augmentation */
    struct eval val, test;               /* val.total == 0 without --val */
    double seconds;                      /* training only, evaluation excluded */
    double samples_per_second;
};

typedef int (*epoch_fn)(const struct epoch_stats *s, void *ctx);

struct trainer {
    const struct config *cfg;
    struct mlp *model;
    struct optim optim;
    struct schedule schedule;
    const struct dataset *train, *val, *test;
    uint32_t *order;        /* training indices, reshuffled every epoch */
    float *targets;         /* max_batch x classes */
    /* the latest test-set evaluation, with every output and prediction */
    struct eval test_eval;
    float *test_probs;      /* test->n x classes */
    int *test_pred;         /* test->n */
    struct rng shuffle, dropout, augment;
};

/* Build the model and optimizer for cfg and the given data; nothing is
 * allocated after this. */
int trainer_init(struct trainer *t, const struct config *cfg, const struct dataset *train,
                 const struct dataset *val, const struct dataset *test, struct err *e);
void trainer_free(struct trainer *t);

/* Train for cfg->epochs, calling on_epoch after each; stops early with an error
 * when the loss stops being finite or on_epoch returns non-zero. */
int trainer_run(struct trainer *t, epoch_fn on_epoch, void *ctx, struct err *e);

/* Accuracy and loss of the model on d, in evaluation mode (no dropout). When
 * probs and pred are not NULL they receive the head's outputs (d->n x K) and
 * the predicted classes (argmax of the logits). */
struct eval evaluate(struct mlp *m, float *targets, const struct dataset *d, float *probs,
                     int *pred);

/* B x K one-hot rows for labels y[idx[b]] */
void one_hot(float *T, const uint8_t *y, const uint32_t *idx, int B, int K);

#endif
