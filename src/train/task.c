#include "task.h"

#include <stdlib.h>
#include <string.h>

int task_init(struct task *t, enum task_kind kind, enum head_kind head, int positive,
              const struct dataset *shape)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->head = head;
    t->positive = positive;
    t->input_dim = kind == TASK_PAIRS ? 2 * shape->dim : shape->dim;
    t->n_outputs = kind == TASK_BINARY ? (head == HEAD_SIGMOID ? 1 : 2) : TASK_LABELS;
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

/* the digits present in sample i, as a bit set */
static unsigned digits_of(const struct task_set *s, uint32_t i)
{
    if (!s->pairs)
        return 1u << s->d->y[i];
    return 1u << s->d->y[s->pairs[2 * i]] | 1u << s->d->y[s->pairs[2 * i + 1]];
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

static void targets(const struct task *t, unsigned set, float *T)
{
    const int K = t->n_outputs;
    memset(T, 0, sizeof(float) * (size_t)K);
    if (t->kind == TASK_BINARY) {
        int yes = (set >> t->positive) & 1;
        if (K == 1)
            T[0] = (float)yes;
        else
            T[yes] = 1;
        return;
    }
    int k = __builtin_popcount(set);
    /* softmax learns a distribution: the multi-hot set normalised to sum 1 */
    float v = t->head == HEAD_SOFTMAX ? 1.0f / (float)k : 1.0f;
    for (int c = 0; c < TASK_LABELS; c++)
        if (set >> c & 1)
            T[c] = v;
}

void task_batch(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, float *X, float *T, struct distort *aug, struct rng *r)
{
    for (int b = 0; b < nb; b++) {
        uint32_t i = sample(idx, from, b);
        float *x = X + (size_t)b * t->input_dim;
        if (t->kind == TASK_PAIRS)
            compose_pair(t, s, i, x, aug, r);
        else
            batch_gather(x, s->d, &i, 1, aug, r);
        targets(t, digits_of(s, i), T + (size_t)b * t->n_outputs);
    }
}

/* pairs: the predicted set of one sample */
static unsigned predicted_set(const struct task *t, const float *z, unsigned truth)
{
    unsigned set = 0;
    if (t->head == HEAD_SIGMOID) {
        for (int c = 0; c < TASK_LABELS; c++)
            if (z[c] > 0)   /* sigmoid(z) > 0.5 */
                set |= 1u << c;
        return set;
    }
    for (int k = __builtin_popcount(truth); k > 0; k--) {
        int best = -1;
        for (int c = 0; c < TASK_LABELS; c++)
            if (!(set >> c & 1) && (best < 0 || z[c] > z[best]))
                best = c;
        set |= 1u << best;
    }
    return set;
}

void task_score(const struct task *t, const struct task_set *s, const uint32_t *idx,
                uint32_t from, int nb, const float *Z, struct task_score *sc, int *pred)
{
    const int K = t->n_outputs;
    for (int b = 0; b < nb; b++) {
        uint32_t i = sample(idx, from, b);
        const float *z = Z + (size_t)b * K;
        unsigned truth = digits_of(s, i);
        sc->total++;
        if (t->kind == TASK_CLASSIFY) {
            int guess = head_argmax(z, K);
            sc->correct += guess == s->d->y[i];
            if (pred)
                pred[from + (uint32_t)b] = guess;
        } else if (t->kind == TASK_BINARY) {
            int yes = K == 1 ? z[0] > 0 : z[1] > z[0];
            sc->correct += yes == (int)((truth >> t->positive) & 1);
        } else {
            unsigned got = predicted_set(t, z, truth);
            sc->correct += got == truth;
            for (int c = 0; c < TASK_LABELS; c++) {
                sc->tp[c] += (got & truth) >> c & 1;
                sc->fp[c] += (got & ~truth) >> c & 1;
                sc->fn[c] += (~got & truth) >> c & 1;
            }
        }
    }
}
