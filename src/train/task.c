#include "task.h"

#include <stdlib.h>
#include <string.h>

int task_n_outputs(enum task_kind kind, const struct head *head)
{
    int n;
    enum head_question q = task_question(kind, &n);
    return head_n_outputs(head, q, n);
}

int task_init(struct task *t, enum task_kind kind, const struct head *head, int positive,
              const struct dataset *shape)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->head = *head;
    t->positive = positive;
    t->input_dim = kind == TASK_PAIRS ? 2 * shape->dim : shape->dim;
    t->n_outputs = task_n_outputs(kind, head);
    if (kind == TASK_PAIRS) {
        t->scratch = malloc(sizeof(float) * 2 * shape->dim);
        if (!t->scratch)
            return -1;
    }
    return 0;
}

void task_free(struct task *t) { free(t->scratch); }

int task_set_init(struct task_set *s, const struct task *t, const struct dataset *d,
                  uint64_t seed, uint64_t stream)
{
    s->d = d;
    s->n = d->n;
    s->pairs = NULL;
    if (t->kind != TASK_PAIRS || !d->n)
        return 0;
    s->pairs = malloc(sizeof(uint32_t) * 2 * d->n);
    if (!s->pairs)
        return -1;
    struct rng r;
    rng_seed(&r, seed, stream);
    for (uint32_t i = 0; i < 2 * d->n; i++)
        s->pairs[i] = rng_below(&r, d->n);
    return 0;
}

void task_set_free(struct task_set *s) { free(s->pairs); }

static uint32_t sample(const uint32_t *idx, uint32_t from, int b)
{
    return idx ? idx[from + (uint32_t)b] : from + (uint32_t)b;
}

/* the answer for sample i, as a bit set: the digit (classify), other/D
 * (binary), the digits present (pairs) */
static unsigned truth_of(const struct task *t, const struct task_set *s, uint32_t i)
{
    if (s->pairs)
        return 1u << s->d->y[s->pairs[2 * i]] | 1u << s->d->y[s->pairs[2 * i + 1]];
    if (t->kind == TASK_BINARY)
        return 1u << (s->d->y[i] == t->positive);
    return 1u << s->d->y[i];
}

/* two images side by side: row r of the pair is row r of a, then row r of b */
static void compose_pair(const struct task *t, const struct task_set *s, uint32_t i, float *x,
                         struct distort *aug, struct rng *r)
{
    const struct dataset *d = s->d;
    float *a = t->scratch, *b = t->scratch + d->dim;
    batch_gather(a, d, &s->pairs[2 * i], 1, aug, r);
    batch_gather(b, d, &s->pairs[2 * i + 1], 1, aug, r);
    for (uint32_t row = 0; row < d->rows; row++) {
        memcpy(x + 2 * row * d->cols, a + row * d->cols, sizeof(float) * d->cols);
        memcpy(x + (2 * row + 1) * d->cols, b + row * d->cols, sizeof(float) * d->cols);
    }
}

void task_batch(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, float *X, float *T, struct distort *aug, struct rng *r)
{
    /* single images: the whole batch in one gather (threaded, and drawing any
     * augmentation in sample order, as one image at a time would) */
    if (t->kind != TASK_PAIRS && idx) {
        batch_gather(X, s->d, idx + from, nb, aug, r);
    } else if (t->kind != TASK_PAIRS) {
        struct dataset part = dataset_slice(s->d, from, (uint32_t)nb);
        batch_gather(X, &part, NULL, nb, aug, r);
    }
    int n;
    enum head_question q = task_question(t->kind, &n);
    for (int b = 0; b < nb; b++) {
        uint32_t i = sample(idx, from, b);
        if (t->kind == TASK_PAIRS)
            compose_pair(t, s, i, X + (size_t)b * t->input_dim, aug, r);
        head_target(&t->head, q, n, truth_of(t, s, i), T + (size_t)b * t->n_outputs);
    }
}

void task_score(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, const float *Z, struct task_score *sc, int *pred)
{
    int n;
    enum head_question q = task_question(t->kind, &n);
    for (int b = 0; b < nb; b++) {
        uint32_t i = sample(idx, from, b);
        unsigned truth = truth_of(t, s, i);
        unsigned got = head_predict(&t->head, q, n, Z + (size_t)b * t->n_outputs,
                                    __builtin_popcount(truth));
        sc->total++;
        sc->correct += got == truth;
        if (pred && t->kind == TASK_CLASSIFY)
            pred[from + (uint32_t)b] = __builtin_ctz(got);
        if (t->kind != TASK_PAIRS)
            continue;
        for (int c = 0; c < DATASET_CLASSES; c++) {
            sc->tp[c] += (got & truth) >> c & 1;
            sc->fp[c] += (got & ~truth) >> c & 1;
            sc->fn[c] += (~got & truth) >> c & 1;
        }
    }
}
