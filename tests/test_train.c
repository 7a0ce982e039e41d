/* The training loop, on small data sets built in memory (no MNIST): what each
 * step is fed (every sample once per epoch, reshuffled every epoch, partial
 * last batch, augmented in training only), evaluation mode (no dropout, no
 * shift, repeatable), the update of every optimizer and schedule and the epoch
 * statistics against a reference computed here in double precision, the
 * validation split, and the seed reaching every random stream.
 *
 * Image i of the data has pixel 0 = i, so a test reads which samples a batch
 * holds from the inputs the network actually received (trainer.on_batch). */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"
#include "train/train.h"

enum { SIDE = 4, DIM = SIDE * SIDE, N_ALL = 64, MAX_STEPS = 128, MAX_B = 16, MAX_EPOCHS = 4 };

static uint8_t PIX[N_ALL * DIM], LAB[N_ALL];
static uint8_t SAME[N_ALL * DIM];   /* every image the same (labels as above) */

static void make_data(void)
{
    uint32_t s = 2463534242u;
    for (int i = 0; i < N_ALL; i++) {
        s = s * 1664525u + 1013904223u;
        LAB[i] = (uint8_t)((s >> 24) % 10);
        PIX[i * DIM] = (uint8_t)i;
        for (int p = 1; p < DIM; p++) {
            s = s * 1664525u + 1013904223u;
            PIX[i * DIM + p] = (uint8_t)(s >> 24);
        }
    }
    for (int i = 0; i < N_ALL; i++)
        memcpy(SAME + i * DIM, PIX + 5 * DIM, DIM);
}

/* images [from, from + n) */
static struct dataset slice_of(const uint8_t *x, uint32_t from, uint32_t n)
{
    return (struct dataset){.n = n, .rows = SIDE, .cols = SIDE, .dim = DIM,
                            .x = (uint8_t *)x + (size_t)from * DIM, .y = LAB + from};
}
static struct dataset slice(uint32_t from, uint32_t n) { return slice_of(PIX, from, n); }

/* no hidden layer, 3 epochs of 23 samples in batches of 5 (the last of 3) */
static struct config small_config(void)
{
    struct config c;
    config_defaults(&c);
    c.hidden.n = 0;
    c.epochs = 3;
    c.batch_size = 5;
    c.lr = 0.1;
    c.lr_schedule = LR_CONSTANT;
    c.threads = 1;
    c.seed = 5;
    return c;
}

/* ---- watching a run ---- */

struct step {
    int epoch, nb;            /* epoch 0-based */
    int ids[MAX_B];           /* pixel 0 of each input row */
    int originals;            /* rows equal to an unshifted image of the data */
};

struct run {
    struct trainer t;
    struct dataset train, val, test;
    const uint8_t *data;      /* all the images train is a slice of */
    int n_steps;
    struct step steps[MAX_STEPS];
    float first_x[MAX_B * DIM];        /* the first batch's inputs */
    uint8_t first_mask[MAX_B * 64];    /* and its dropout mask on hidden layer 1 */
    int n_epochs;
    struct epoch_stats stats[MAX_EPOCHS];
    float *params0, *params[MAX_EPOCHS];
};

static int is_original(const float *x, const uint8_t *data)
{
    for (int i = 0; i < N_ALL; i++) {
        int same = 1;
        for (int p = 0; p < DIM && same; p++)
            same = fabsf(x[p] - data[i * DIM + p] / 255.0f) < 1e-6f;
        if (same)
            return 1;
    }
    return 0;
}

static void on_batch(const struct trainer *t, int nb, void *ctx)
{
    struct run *r = ctx;
    assert_true(r->n_steps < MAX_STEPS && nb <= MAX_B);
    struct step *s = &r->steps[r->n_steps++];
    const float *X = t->model->a[0];
    s->epoch = t->pos.epoch;
    s->nb = nb;
    for (int b = 0; b < nb; b++) {
        s->ids[b] = (int)lrintf(X[b * DIM] * 255.0f);
        s->originals += is_original(X + b * DIM, r->data);
    }
    if (r->n_steps == 1) {
        memcpy(r->first_x, X, sizeof(float) * (size_t)nb * DIM);
        if (t->model->mask[1])
            memcpy(r->first_mask, t->model->mask[1], (size_t)nb * (size_t)t->model->size[1]);
    }
}

static float *copy_params(const struct mlp *m)
{
    float *p = malloc(sizeof(float) * m->n_params);
    memcpy(p, m->params, sizeof(float) * m->n_params);
    return p;
}

static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct run *r = ctx;
    assert_true(r->n_epochs < MAX_EPOCHS);
    r->stats[r->n_epochs] = *s;
    r->params[r->n_epochs++] = copy_params(r->t.model);
    return 0;
}

static struct run *start(const struct config *c, struct dataset train, struct dataset val,
                         struct dataset test)
{
    struct run *r = calloc(1, sizeof *r);
    r->train = train, r->val = val, r->test = test;
    r->data = train.x - (train.y - LAB) * DIM;   /* slices share LAB's offsets */
    struct err e = {0};
    if (trainer_init(&r->t, c, &r->train, &r->val, &r->test, &e))
        fail_msg("trainer_init: %s", e.msg);
    r->params0 = copy_params(r->t.model);
    r->t.on_batch = on_batch;
    r->t.on_batch_ctx = r;
    return r;
}

static void run_training(struct run *r)
{
    struct err e = {0};
    if (trainer_run(&r->t, on_epoch, r, &e))
        fail_msg("trainer_run: %s", e.msg);
}

static struct run *run_config(const struct config *c)
{
    struct run *r = start(c, slice(0, 23), slice(0, 0), slice(40, 20));
    run_training(r);
    return r;
}

static void finish(struct run *r)
{
    trainer_free(&r->t);
    free(r->params0);
    for (int e = 0; e < r->n_epochs; e++)
        free(r->params[e]);
    free(r);
}

/* ---- what each step is fed ---- */

static void every_sample_once_per_epoch_reshuffled(void **state)
{
    (void)state;
    struct config c = small_config();
    struct run *r = run_config(&c);
    assert_int_equal(r->n_epochs, 3);
    assert_int_equal(r->n_steps, 3 * 5);   /* ceil(23 / 5) a epoch */
    int order[3][23];
    for (int e = 0, s = 0; e < 3; e++) {
        int seen[23] = {0}, k = 0;
        for (int b = 0; b < 5; b++, s++) {
            assert_int_equal(r->steps[s].epoch, e);
            assert_int_equal(r->steps[s].nb, b < 4 ? 5 : 3);   /* the partial batch is kept */
            for (int i = 0; i < r->steps[s].nb; i++) {
                int id = r->steps[s].ids[i];
                assert_true(id >= 0 && id < 23);
                seen[id]++;
                order[e][k++] = id;
            }
        }
        for (int i = 0; i < 23; i++)
            if (seen[i] != 1)
                fail_msg("epoch %d: sample %d seen %d times", e + 1, i, seen[i]);
        int identity = 1;
        for (int i = 0; i < 23; i++)
            identity &= order[e][i] == i;
        assert_false(identity);
        assert_int_equal(r->stats[e].epoch, e + 1);
    }
    /* a new order every epoch */
    assert_memory_not_equal(order[0], order[1], sizeof order[0]);
    assert_memory_not_equal(order[1], order[2], sizeof order[0]);
    assert_memory_not_equal(order[0], order[2], sizeof order[0]);
    finish(r);
}

static int originals_seen(const struct run *r)
{
    int n = 0;
    for (int s = 0; s < r->n_steps; s++)
        n += r->steps[s].originals;
    return n;
}

static void augment_shifts_training_inputs(void **state)
{
    (void)state;
    struct config c = small_config();
    struct run *plain = run_config(&c);
    assert_int_equal(originals_seen(plain), 3 * 23);
    c.augment.shift = 2;
    struct run *aug = run_config(&c);
    /* a row is unshifted with probability 1/25: about 3 of the 69 */
    int n = originals_seen(aug);
    if (n > 15)
        fail_msg("%d of 69 training inputs were not shifted", n);
    finish(plain);
    finish(aug);
}

/* the split: validation is the last val images of the limited training set,
 * never trained on; test is limited from its start */
static void validation_is_held_out(void **state)
{
    (void)state;
    struct config c = small_config();
    c.limit_train = 40;
    c.val = 10;
    c.limit_test = 15;
    c.epochs = 1;
    struct dataset train = slice(0, N_ALL), val, test = slice(0, N_ALL);
    struct err e = {0};
    assert_int_equal(trainer_split_data(&c, &train, &val, &test, &e), 0);
    assert_int_equal(train.n, 30);
    assert_int_equal(val.n, 10);
    assert_int_equal(test.n, 15);
    struct run *r = start(&c, train, val, test);
    run_training(r);
    int seen[N_ALL] = {0};
    for (int s = 0; s < r->n_steps; s++)
        for (int i = 0; i < r->steps[s].nb; i++)
            seen[r->steps[s].ids[i]]++;
    for (uint32_t i = 0; i < r->t.val.n; i++) {
        int id = r->t.val.d->x[i * DIM];
        assert_int_equal(id, 30 + (int)i);
        assert_int_equal(r->t.val.d->y[i], LAB[id]);
        assert_int_equal(seen[id], 0);
    }
    for (int i = 0; i < 30; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(r->stats[0].val.total, 10);
    assert_int_equal(r->stats[0].test.total, 15);
    assert_int_equal(r->t.test.d->x[14 * DIM], 14);
    finish(r);
}

/* ---- a reference in double precision ---- */

enum { REF_WIDE = 64, REF_LAYERS = 4 };

/* where layer l's weights and biases start in a parameter block laid out as
 * m->params: [W_0 .. W_{L-1} | b_0 .. b_{L-1}], W_l in x out row-major */
static void ref_offsets(const struct mlp *m, int l, size_t *wo, size_t *bo)
{
    *wo = 0, *bo = m->n_weights;
    for (int k = 0; k < l; k++) {
        *wo += (size_t)m->size[k] * (size_t)m->size[k + 1];
        *bo += (size_t)m->size[k + 1];
    }
}

/* One sample through the network described by m's sizes, with parameters w,
 * relu hidden layers, no dropout: a[l] is what feeds layer l (a[0] = x), z
 * the logits. */
static void ref_forward(const struct mlp *m, const double *w, const double *x,
                        double a[REF_LAYERS][REF_WIDE], double *z)
{
    assert_true(m->L <= REF_LAYERS);
    memcpy(a[0], x, sizeof(double) * (size_t)m->size[0]);
    for (int l = 0; l < m->L; l++) {
        int ni = m->size[l], no = m->size[l + 1];
        size_t wo, bo;
        ref_offsets(m, l, &wo, &bo);
        double *out = l + 1 == m->L ? z : a[l + 1];
        for (int j = 0; j < no; j++) {
            double s = w[bo + j];
            for (int i = 0; i < ni; i++)
                s += a[l][i] * w[wo + (size_t)i * no + j];
            out[j] = l + 1 < m->L && s < 0 ? 0 : s;
        }
    }
}

/* g += (the gradient of the loss at the logits dz, back through the network
 * of the last ref_forward) / nb */
static void ref_backward(const struct mlp *m, const double *w, double a[REF_LAYERS][REF_WIDE],
                         const double *dz, int nb, double *g)
{
    double d[REF_WIDE], prev[REF_WIDE];
    memcpy(d, dz, sizeof(double) * (size_t)m->size[m->L]);
    for (int l = m->L - 1; l >= 0; l--) {
        int ni = m->size[l], no = m->size[l + 1];
        size_t wo, bo;
        ref_offsets(m, l, &wo, &bo);
        for (int i = 0; i < ni; i++) {
            prev[i] = 0;
            for (int j = 0; j < no; j++) {
                g[wo + (size_t)i * no + j] += a[l][i] * d[j] / nb;
                prev[i] += w[wo + (size_t)i * no + j] * d[j];
            }
            prev[i] = a[l][i] > 0 ? prev[i] : 0;   /* relu, from its output */
        }
        for (int j = 0; j < no; j++)
            g[bo + j] += d[j] / nb;
        memcpy(d, prev, sizeof(double) * (size_t)ni);
    }
}

static void ref_input(const struct dataset *d, uint32_t i, double *x)
{
    for (int p = 0; p < DIM; p++)
        x[p] = d->x[(size_t)i * DIM + p] / 255.0;
}

static int ref_argmax(const double *z, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        best = z[k] > z[best] ? k : best;
    return best;
}

/* classify: loss of one sample and dL/dz, for the head and loss of h */
static double ref_loss(const struct head *h, const double *z, int y, int K, double *dz)
{
    double loss = 0;
    if (h->kind == HEAD_SOFTMAX) {
        double m = z[0], s = 0;
        for (int k = 1; k < K; k++)
            m = fmax(m, z[k]);
        for (int k = 0; k < K; k++)
            s += exp(z[k] - m);
        for (int k = 0; k < K; k++)
            dz[k] = exp(z[k] - m) / s - (k == y);
        return m + log(s) - z[y];
    }
    double div = h->loss == HEAD_BCE_MEAN ? K : 1;
    for (int k = 0; k < K; k++) {
        double t = k == y, p = 1 / (1 + exp(-z[k]));
        loss += fmax(z[k], 0) - z[k] * t + log1p(exp(-fabs(z[k])));
        dz[k] = (p - t) / div;
    }
    return loss / div;
}

static double ref_lr(const struct config *c, int e)
{
    if (c->lr_schedule == LR_COSINE)
        return c->lr * 0.5 * (1 + cos(M_PI * e / (double)c->epochs));
    if (c->lr_schedule == LR_STEP)
        return c->lr * pow(c->lr_gamma, (double)(e / c->lr_step));
    return c->lr;
}

/* Replay r's steps (the samples it fed) from its initial parameters with the
 * textbook form of c's optimizer; fail on the first epoch whose parameters,
 * learning rate, mean loss or accuracy differ from what the trainer got. */
static void check_against_reference(const struct run *r, const struct config *c)
{
    const struct mlp *m = r->t.model;
    const size_t n = m->n_params;
    const int K = m->size[m->L];
    double *w = malloc(sizeof(double) * n), *g = malloc(sizeof(double) * n);
    double *v = calloc(n, sizeof(double)), *s2 = calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        w[i] = r->params0[i];
    const struct head h = trainer_head(c);
    long long t = 0;
    for (int e = 0, s = 0; e < r->n_epochs; e++) {
        double lr = ref_lr(c, e), loss_sum = 0;
        int correct = 0, samples = 0;
        for (; s < r->n_steps && r->steps[s].epoch == e; s++) {
            const struct step *st = &r->steps[s];
            memset(g, 0, sizeof(double) * n);
            for (int b = 0; b < st->nb; b++) {
                double x[DIM], a[REF_LAYERS][REF_WIDE], z[16], dz[16];
                ref_input(&r->train, (uint32_t)st->ids[b], x);
                ref_forward(m, w, x, a, z);
                int y = r->train.y[st->ids[b]];
                loss_sum += ref_loss(&h, z, y, K, dz);
                correct += ref_argmax(z, K) == y;
                ref_backward(m, w, a, dz, st->nb, g);
            }
            samples += st->nb;
            for (size_t i = 0; i < m->n_weights; i++)
                g[i] += c->weight_decay * w[i];
            t++;
            for (size_t i = 0; i < n; i++) {
                switch (c->optimizer) {
                case OPT_SGD:
                    w[i] -= lr * g[i];
                    break;
                case OPT_MOMENTUM:
                    v[i] = c->momentum * v[i] + g[i];
                    w[i] -= lr * (c->nesterov ? g[i] + c->momentum * v[i] : v[i]);
                    break;
                case OPT_ADAM:
                    v[i] = c->adam_beta1 * v[i] + (1 - c->adam_beta1) * g[i];
                    s2[i] = c->adam_beta2 * s2[i] + (1 - c->adam_beta2) * g[i] * g[i];
                    w[i] -= lr * (v[i] / (1 - pow(c->adam_beta1, (double)t))) /
                            (sqrt(s2[i] / (1 - pow(c->adam_beta2, (double)t))) + c->adam_eps);
                    break;
                }
            }
        }
        const struct epoch_stats *st = &r->stats[e];
        assert_int_equal(samples, (int)r->train.n);
        if (fabs(st->lr - lr) > 1e-12)
            fail_msg("epoch %d: lr %g, expected %g", e + 1, st->lr, lr);
        for (size_t i = 0; i < n; i++)
            if (fabs(r->params[e][i] - w[i]) > 2e-5 * (1 + fabs(w[i])))
                fail_msg("epoch %d: parameter %zu is %.7g, expected %.7g", e + 1, i,
                         r->params[e][i], w[i]);
        if (fabs(st->train_loss - loss_sum / samples) > 1e-5 * (1 + loss_sum / samples))
            fail_msg("epoch %d: train_loss %.7g, expected %.7g", e + 1, st->train_loss,
                     loss_sum / samples);
        if (fabs(st->train_accuracy - (double)correct / samples) > 1e-12)
            fail_msg("epoch %d: train_accuracy %g, expected %d/%d", e + 1, st->train_accuracy,
                     correct, samples);
    }
    free(w), free(g), free(v), free(s2);
}

static void check_config(const struct config *c)
{
    struct run *r = run_config(c);
    assert_int_equal(r->n_epochs, (int)c->epochs);
    check_against_reference(r, c);
    /* the update moved the parameters at all */
    assert_memory_not_equal(r->params0, r->params[0], sizeof(float) * r->t.model->n_params);
    finish(r);
}

/* the default optimizer: momentum 0.9, v = mu v + g, w -= lr v */
static void momentum_update_by_hand(void **state)
{
    (void)state;
    struct config c = small_config();
    assert_int_equal(c.optimizer, OPT_MOMENTUM);
    check_config(&c);
    c.weight_decay = 0.05;
    check_config(&c);
    c.nesterov = true;
    check_config(&c);
}

static void sgd_and_adam_by_hand(void **state)
{
    (void)state;
    struct config c = small_config();
    c.optimizer = OPT_SGD;
    c.weight_decay = 0.05;
    check_config(&c);
    c.optimizer = OPT_ADAM;
    c.lr = 0.01;
    check_config(&c);
}

static void schedules_reach_the_update(void **state)
{
    (void)state;
    struct config c = small_config();
    c.lr_schedule = LR_COSINE;
    check_config(&c);
    c.lr_schedule = LR_STEP;
    c.lr_step = 2;
    c.lr_gamma = 0.25;
    check_config(&c);
    c.optimizer = OPT_SGD;
    c.lr_step = 1;
    check_config(&c);
}

/* hidden layers without dropout: the training forward pass reads the
 * activations directly */
static void hidden_layers_by_hand(void **state)
{
    (void)state;
    struct config c = small_config();
    c.hidden = (struct width_list){2, {12, 8}};
    check_config(&c);
    c.hidden = (struct width_list){1, {20}};
    c.head = HEAD_SIGMOID;
    check_config(&c);
}

/* the sigmoid head's gradient reaches the update, summed or averaged */
static void sigmoid_head_by_hand(void **state)
{
    (void)state;
    struct config c = small_config();
    c.head = HEAD_SIGMOID;
    check_config(&c);
    c.loss = HEAD_BCE_MEAN;
    check_config(&c);
}

/* ---- evaluation ---- */

/* mean loss and correct count of d through the reference, without dropout or shifts */
static double ref_evaluate(const struct run *r, const struct dataset *d, long long *correct)
{
    const struct mlp *m = r->t.model;
    const int K = m->size[m->L];
    double *w = malloc(sizeof(double) * m->n_params), loss = 0;
    for (size_t i = 0; i < m->n_params; i++)
        w[i] = m->params[i];
    const struct head h = r->t.task.head;
    *correct = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        double x[DIM], a[REF_LAYERS][REF_WIDE], z[16], dz[16];
        ref_input(d, i, x);
        ref_forward(m, w, x, a, z);
        loss += ref_loss(&h, z, d->y[i], K, dz);
        *correct += ref_argmax(z, K) == d->y[i];
    }
    free(w);
    return loss / d->n;
}

static void evaluation_mode(void **state)
{
    (void)state;
    struct config c = small_config();
    c.hidden = (struct width_list){1, {32}};
    c.dropout = 0.5;
    c.augment.shift = 1;
    c.epochs = 2;
    struct run *r = start(&c, slice(0, 23), slice(23, 11), slice(40, 20));
    run_training(r);
    /* repeatable: dropout and shifts would draw from their streams */
    struct eval a = trainer_evaluate(&r->t, &r->t.test, NULL, NULL);
    struct eval b = trainer_evaluate(&r->t, &r->t.test, NULL, NULL);
    assert_memory_equal(&a.loss, &b.loss, sizeof a.loss);
    assert_int_equal(a.correct, b.correct);
    assert_int_equal(a.total, 20);
    /* what the epoch reported is the same evaluation */
    const struct epoch_stats *last = &r->stats[1];
    assert_memory_equal(&last->test.loss, &a.loss, sizeof a.loss);
    assert_int_equal(last->test.correct, a.correct);
    struct eval v = trainer_evaluate(&r->t, &r->t.val, NULL, NULL);
    assert_memory_equal(&last->val.loss, &v.loss, sizeof v.loss);
    assert_int_equal(last->val.total, 11);
    /* and it is the network without dropout on unshifted images */
    long long correct;
    double loss = ref_evaluate(r, &r->test, &correct);
    if (fabs(a.loss - loss) > 1e-5 * (1 + loss))
        fail_msg("test loss %.7g, without dropout %.7g", a.loss, loss);
    assert_int_equal(a.correct, correct);
    loss = ref_evaluate(r, &r->val, &correct);
    if (fabs(v.loss - loss) > 1e-5 * (1 + loss))
        fail_msg("val loss %.7g, without dropout %.7g", v.loss, loss);
    assert_int_equal(v.correct, correct);
    /* and dropout was on in training: some hidden units were dropped */
    int dropped = 0;
    for (int i = 0; i < 5 * 32; i++)
        dropped += !r->first_mask[i];
    assert_true(dropped > 40 && dropped < 120);
    finish(r);
}

/* A test set of 1100 images is evaluated in batches of 512, 512 and 76: every
 * image counts once, and the outputs and predictions kept for --report and
 * --predictions are the network's, row by row. */
static void evaluation_covers_every_sample(void **state)
{
    (void)state;
    enum { N = 1100 };
    uint8_t *x = malloc((size_t)N * DIM), *y = malloc(N);
    for (int i = 0; i < N; i++) {
        memcpy(x + (size_t)i * DIM, PIX + (size_t)(i % N_ALL) * DIM, DIM);
        x[(size_t)i * DIM + 1] = (uint8_t)(i * 7);   /* no two alike */
        y[i] = LAB[(i * 5) % N_ALL];
    }
    struct dataset big = {.n = N, .rows = SIDE, .cols = SIDE, .dim = DIM, .x = x, .y = y};
    struct config c = small_config();
    c.hidden = (struct width_list){1, {16}};
    c.epochs = 1;
    struct run *r = start(&c, slice(0, 23), slice(0, 0), big);
    run_training(r);
    float *probs = malloc(sizeof(float) * N * 10);
    int *pred = malloc(sizeof(int) * N);
    struct eval e = trainer_evaluate(&r->t, &r->t.test, probs, pred);
    assert_int_equal(e.total, N);
    long long correct;
    double loss = ref_evaluate(r, &big, &correct);
    if (fabs(e.loss - loss) > 1e-5 * (1 + loss))
        fail_msg("loss %.7g, expected %.7g", e.loss, loss);
    assert_int_equal(e.correct, correct);
    const struct mlp *m = r->t.model;
    double *w = malloc(sizeof(double) * m->n_params);
    for (size_t i = 0; i < m->n_params; i++)
        w[i] = m->params[i];
    for (int i = 0; i < N; i++) {
        double in[DIM], a[REF_LAYERS][REF_WIDE], z[10], s = 0;
        ref_input(&big, (uint32_t)i, in);
        ref_forward(m, w, in, a, z);
        for (int k = 0; k < 10; k++)
            s += exp(z[k]);
        for (int k = 0; k < 10; k++)
            if (fabs(probs[i * 10 + k] - exp(z[k]) / s) > 1e-5)
                fail_msg("image %d: output %d is %g, expected %g", i, k, probs[i * 10 + k],
                         exp(z[k]) / s);
        assert_int_equal(pred[i], ref_argmax(z, 10));
    }
    free(w), free(probs), free(pred), free(x), free(y);
    finish(r);
}

/* ---- seeds ---- */

static struct run *seeded(struct config c, long long seed, const uint8_t *data)
{
    c.seed = seed;
    c.hidden = (struct width_list){1, {32}};
    c.dropout = 0.5;
    c.augment.shift = 2;
    c.epochs = 1;
    struct run *r = start(&c, slice_of(data, 0, 23), slice(0, 0), slice(40, 20));
    run_training(r);
    return r;
}

static void seed_reaches_every_stream(void **state)
{
    (void)state;
    struct config c = small_config();
    /* identical images: the first batch's inputs differ only by their shifts */
    struct run *a = seeded(c, 5, SAME), *b = seeded(c, 5, SAME), *d = seeded(c, 6, SAME);
    const size_t np = a->t.model->n_params;
    assert_memory_equal(a->params[0], b->params[0], sizeof(float) * np);
    assert_memory_equal(a->first_x, b->first_x, sizeof a->first_x);
    assert_memory_equal(a->first_mask, b->first_mask, sizeof a->first_mask);
    assert_memory_not_equal(a->params0, d->params0, sizeof(float) * np);        /* init */
    assert_memory_not_equal(a->first_x, d->first_x, sizeof a->first_x);         /* augment */
    assert_memory_not_equal(a->first_mask, d->first_mask, sizeof a->first_mask); /* dropout */
    finish(a), finish(b), finish(d);
    /* the order (no augmentation: the ids are readable) */
    c.seed = 6;
    struct run *e = run_config(&c);
    c.seed = 7;
    struct run *f = run_config(&c);
    int same = 1;
    for (int i = 0; i < 5; i++)
        same &= e->steps[0].ids[i] == f->steps[0].ids[i];
    assert_false(same);
    finish(e), finish(f);
    /* the composition of pairs */
    c.task = TASK_PAIRS;
    c.epochs = 0;
    struct run *p = start(&c, slice(0, 23), slice(0, 0), slice(40, 20));
    c.seed = 8;
    struct run *q = start(&c, slice(0, 23), slice(0, 0), slice(40, 20));
    assert_memory_not_equal(p->t.train.pairs, q->t.train.pairs, sizeof(uint32_t) * 46);
    finish(p), finish(q);
}

/* ---- loading: the test set is read on a thread beside the training set ---- */

static struct config files_in(const char *dir)
{
    struct config c;
    config_defaults(&c);
    snprintf(c.train_images, sizeof c.train_images, "%s", path_in(dir, "train-images.gz"));
    snprintf(c.train_labels, sizeof c.train_labels, "%s", path_in(dir, "train-labels.gz"));
    snprintf(c.test_images, sizeof c.test_images, "%s", path_in(dir, "test-images.gz"));
    snprintf(c.test_labels, sizeof c.test_labels, "%s", path_in(dir, "test-labels.gz"));
    return c;
}

/* the images of n samples as a gzip file, cut to keep bytes when keep > 0 */
static void write_images(const char *path, uint32_t n, const uint8_t *pix, size_t keep)
{
    uint8_t *idx;
    const uint32_t dims[3] = {n, SIDE, SIDE};
    size_t size = idx_bytes(&idx, 3, dims, pix);
    write_gz(path, idx, size);
    free(idx);
    if (keep) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(ftruncate(fileno(f), (off_t)keep), 0);
        fclose(f);
    }
}

static void write_labels(const char *path, uint32_t n)
{
    uint8_t *idx;
    const uint32_t dims[1] = {n};
    size_t size = idx_bytes(&idx, 1, dims, LAB);
    write_gz(path, idx, size);
    free(idx);
}

static int load(const struct config *c, struct dataset *train, struct dataset *test,
                struct err *e)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    *e = (struct err){0};
    int rc = trainer_load_data(c, train, test, e);
    if (rc) {
        assert_null(train->x);   /* nothing is left half-loaded */
        assert_null(test->x);
    }
    return rc;
}

static void loading_both_sets_reports_errors_in_file_order(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    struct config c = files_in(dir);
    struct dataset train, test;
    struct err e;
    write_images(c.train_images, 40, PIX, 0);
    write_labels(c.train_labels, 40);
    write_images(c.test_images, 24, PIX + 40 * DIM, 0);
    write_labels(c.test_labels, 24);
    assert_int_equal(load(&c, &train, &test, &e), 0);
    assert_int_equal(train.n, 40);
    assert_int_equal(test.n, 24);
    assert_memory_equal(train.x, PIX, 40 * DIM);
    assert_memory_equal(test.x, PIX + 40 * DIM, 24 * DIM);
    assert_memory_equal(test.y, LAB, 24);
    dataset_free(&train);
    dataset_free(&test);

    /* only the test images cut short: their error, though the training set
     * (read at the same time) is fine */
    write_images(c.test_images, 24, PIX + 40 * DIM, 200);
    assert_int_equal(load(&c, &train, &test, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, c.test_images));
    /* a bad checksum in the test images: the file named once, zlib's reason */
    write_images(c.test_images, 24, PIX + 40 * DIM, 0);
    FILE *f = fopen(c.test_images, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -8, SEEK_END), 0);
    fputc(0xff ^ 0x5a, f);
    fclose(f);
    assert_int_equal(load(&c, &train, &test, &e), ERR_DATA);
    char want[sizeof c.test_images + 32];
    snprintf(want, sizeof want, "%s: incorrect data check", c.test_images);
    assert_string_equal(e.msg, want);
    /* both sets broken: the training set's error, as a sequential read has it */
    write_images(c.test_images, 24, PIX + 40 * DIM, 200);
    write_images(c.train_images, 40, PIX, 300);
    assert_int_equal(load(&c, &train, &test, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, c.train_images));
    /* the training set good, the test labels missing: 66, named */
    write_images(c.train_images, 40, PIX, 0);
    write_images(c.test_images, 24, PIX + 40 * DIM, 0);
    remove(c.test_labels);
    assert_int_equal(load(&c, &train, &test, &e), ERR_NOINPUT);
    assert_non_null(strstr(e.msg, c.test_labels));
    /* the test labels there but not matching the test images */
    write_labels(c.test_labels, 23);
    assert_int_equal(load(&c, &train, &test, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, "23 labels for the 24 images"));
    tmpdir_remove(dir);
}

int main(void)
{
    make_data();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_sample_once_per_epoch_reshuffled),
        cmocka_unit_test(augment_shifts_training_inputs),
        cmocka_unit_test(validation_is_held_out),
        cmocka_unit_test(momentum_update_by_hand),
        cmocka_unit_test(sgd_and_adam_by_hand),
        cmocka_unit_test(schedules_reach_the_update),
        cmocka_unit_test(sigmoid_head_by_hand),
        cmocka_unit_test(hidden_layers_by_hand),
        cmocka_unit_test(evaluation_mode),
        cmocka_unit_test(evaluation_covers_every_sample),
        cmocka_unit_test(seed_reaches_every_stream),
        cmocka_unit_test(loading_both_sets_reports_errors_in_file_order),
    };
    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
