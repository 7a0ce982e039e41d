/* task: what the network learns from the images, i.e. its inputs, the answer
 * it is asked for and how an answer is scored. How an answer becomes targets
 * and outputs, and how it is read back from the logits, is the head's
 * business (nn/head.h): nothing here depends on which head it is.
 *
 *   classify  10 digits; one image in; the answer is one digit of ten.
 *   binary    "is this the digit D?"; the answer is one of two classes
 *             (other, D).
 *   pairs     two images side by side (rows x 2 cols), composed from the seed;
 *             the answer is the set of digits present (one digit when both are
 *             the same). Scored by exact-set accuracy and per-label F1.
 */
#ifndef TASK_H
#define TASK_H

#include <stdint.h>

#include "../config/task_kinds.h"
#include "../data/dataset.h"
#include "../nn/head.h"
#include "../util/rng.h"

struct task {
    enum task_kind kind;
    struct head head;        /* the one copy the trainer uses */
    int positive;            /* binary: the digit D */
    int n_outputs;
    uint32_t input_dim;
    float *scratch;          /* pairs: two images while composing, 2 x dim */
};

/* the samples of one split as the task sees them */
struct task_set {
    const struct dataset *d;
    uint32_t n;
    uint32_t *pairs;         /* pairs: image indices (2 per sample), owned */
};

/* the scores of a batch or a whole split */
struct task_score {
    long long correct, total;
    long long tp[DATASET_CLASSES], fp[DATASET_CLASSES], fn[DATASET_CLASSES];   /* pairs */
};

/* 0, or -1 when out of memory */
/* how many outputs the network needs for this task and head */
int task_n_outputs(enum task_kind kind, const struct head *head);

int task_init(struct task *t, enum task_kind kind, const struct head *head, int positive,
              const struct dataset *shape);
void task_free(struct task *t);

/* The samples of d for this task; pairs are drawn from stream `stream` of seed. */
int task_set_init(struct task_set *s, const struct task *t, const struct dataset *d,
                  uint64_t seed, uint64_t stream);
void task_set_free(struct task_set *s);

/* Inputs X (nb x input_dim) and targets T (nb x n_outputs) for samples
 * idx[from .. from+nb) of s, or from .. from+nb when idx is NULL. aug and r
 * as in batch_gather (augmentation; NULL for evaluation). */
void task_batch(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, float *X, float *T, struct distort *aug, struct rng *r);

/* Score logits Z of the same samples into sc; pred (classify only, may be
 * NULL) receives the predicted digits at pred[from + b]. */
void task_score(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, const float *Z, struct task_score *sc, int *pred);

#endif
