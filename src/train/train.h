/* train: the epoch loop (shuffle, gather, forward, head, backward, update) and
 * evaluation. What the inputs, targets and scores are is the task's business
 * (task.h); reporting is left to a callback, so this module prints nothing. */
#ifndef TRAIN_H
#define TRAIN_H

#include <signal.h>
#include <stdbool.h>

#include "../config/config.h"
#include "../data/dataset.h"
#include "../nn/mlp.h"
#include "../nn/optim.h"
#include "../util/err.h"
#include "spec.h"
#include "task.h"

struct eval {
    long long correct, total;
    double loss;            /* mean per-sample loss of the head */
    struct task_score score;
    bool finite;            /* every weight, output and the loss were finite */
    int stopped;            /* the signal that cut the evaluation short, or 0 */
};

struct epoch_stats {
    int epoch;              /* 1-based */
    double lr;
    double train_loss, train_accuracy;   /* over the epoch, with dropout and augmentation */
    struct eval val, test;               /* val.total == 0 without --val */
    double seconds;                      /* training only, evaluation excluded */
    double samples_per_second;
    int kept_epoch;          /* --patience: the best validation epoch so far, else 0 */
    bool patience_stop;      /* --patience: training stops after this epoch */
};

typedef int (*epoch_fn)(const struct epoch_stats *s, void *ctx);

/* progress inside an epoch: samples done of total, mean loss so far, seconds
 * since the epoch (or its resumed part) began */
typedef void (*progress_fn)(int epoch, int epochs, uint32_t done, uint32_t total, double loss,
                            double seconds, void *ctx);

/* where training stands: completed epochs, the next sample of the current
 * epoch's order, and that epoch's sums so far (a checkpoint restores them) */
struct train_pos {
    int epoch;
    uint32_t next;
    double loss;
    long long correct;
};

struct trainer {
    const struct config *cfg;
    struct task task;
    struct task_set train, val, test;
    struct mlp *model;
    struct optim optim;
    struct schedule schedule;
    uint32_t *order;        /* training samples, reshuffled every epoch */
    float *targets;         /* max_batch x outputs */
    struct rng shuffle, dropout, augment;
    struct distort *distort;   /* the augment setting's scratch; NULL for none */
    struct train_pos pos;
    /* set asynchronously (a signal handler) to stop after the current batch */
    volatile sig_atomic_t *stop;
    /* called during an epoch when set, at most every progress_seconds */
    progress_fn progress;
    void *progress_ctx;
    double progress_seconds;
    /* tests watch each training step here: called after the forward pass, before
     * the update, with the batch's nb inputs in model->a[0] and targets */
    void (*on_batch)(const struct trainer *t, int nb, void *ctx);
    void *on_batch_ctx;
    /* --patience (else kept is NULL): the weights of the best validation epoch
     * so far, kept_epoch (0 before the first), with kept_correct right answers
     * on the validation set; patience_stop once patience ran out. Training
     * runs on model->params; when it ends, trainer_run swaps the two (ended),
     * so the model holds the kept weights and kept the last ones, which a
     * model file keeps for training further. */
    float *kept;
    int kept_epoch;
    long long kept_correct;
    bool patience_stop, ended;
    /* the latest test-set evaluation; classify also keeps every output and
     * prediction, for --report and --predictions */
    struct eval test_eval;
    float *test_probs;      /* test.n x outputs */
    int *test_pred;         /* test.n */
    /* evaluate the test set after every epoch (trainer_init: true); false
     * when nobody reads the per-epoch figures: the caller evaluates once at
     * the end, and each epoch's s.test stays empty */
    bool test_each_epoch;
};

/* The four IDX files cfg names, validated, with the test images' geometry
 * checked against the training images'. train and test start zeroed; the
 * caller frees both with dataset_free, whether this succeeds or not. */
int trainer_load_data(const struct config *cfg, struct dataset *train, struct dataset *test,
                      struct err *e);

/* Apply limit_train, limit_test and val to the loaded sets, in place: val
 * becomes the last val images of the (limited) training set. */
int trainer_split_data(const struct config *cfg, struct dataset *train, struct dataset *val,
                       struct dataset *test, struct err *e);

/* Build the task, model and optimizer for cfg and the given data; nothing is
 * allocated after this. */
int trainer_init(struct trainer *t, const struct config *cfg, const struct dataset *train,
                 const struct dataset *val, const struct dataset *test, struct err *e);
void trainer_free(struct trainer *t);

/* Train from t->pos up to cfg->epochs, calling on_epoch after each; stops early
 * with an error when the loss stops being finite, when on_epoch returns
 * non-zero, or when *t->stop becomes non-zero (code 128 + *t->stop, with
 * t->pos saying where it stopped). With --patience it also stops (0) once the
 * validation accuracy has not improved for that many epochs, and on success
 * leaves the best validation epoch's weights in the model (t->ended). */
int trainer_run(struct trainer *t, epoch_fn on_epoch, void *ctx, struct err *e);

/* Score the model on a split, in evaluation mode (no dropout). probs and pred
 * (may be NULL) receive the head's outputs and, for classify, the predictions.
 * The result says whether everything was finite and whether *t->stop cut it
 * short; trainer_evaluate_test turns both into errors. */
struct eval trainer_evaluate(struct trainer *t, const struct task_set *s, float *probs, int *pred);

/* Evaluate the test set into t->test_eval, t->test_probs and t->test_pred:
 * ERR_DATA (65) when a weight, an output or the loss is not finite (nothing
 * may then be reported or saved), 128 + signal when interrupted. */
int trainer_evaluate_test(struct trainer *t, struct err *e);

/* true when every parameter of m is finite */
bool trainer_params_finite(const struct mlp *m);
/* true when every x[i] is finite */
bool trainer_finite(const float *x, size_t n);

#endif
