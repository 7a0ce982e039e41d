#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/deskew.h"
#include "../data/idx.h"
#include "../util/timer.h"
#include "budget.h"

/* The headers of the four files, then whether the run fits in memory: all
 * before the first payload byte is read. */
static int check_budget(const struct config *c, struct err *e)
{
    struct idx h[4];
    if (idx_probe(&h[0], c->train_images, 3, e) || idx_probe(&h[1], c->train_labels, 1, e) ||
        idx_probe(&h[2], c->test_images, 3, e) || idx_probe(&h[3], c->test_labels, 1, e))
        return e->code;
    struct budget_shape shape = {h[0].dims[0], h[2].dims[0], h[0].dims[1], h[0].dims[2]};
    struct budget b;
    budget_estimate(&b, c, &shape);
    return budget_check(&b, budget_available(), e);
}

/* one set, deskewed when the config says so */
static int load_set(const struct config *c, struct dataset *d, const char *images,
                    const char *labels, struct err *e)
{
    if (dataset_load(d, images, labels, e))
        return e->code;
    if (c->deskew && d->n) {
        void *scratch = malloc(deskew_scratch_bytes(d->rows, d->cols));
        if (!scratch)
            return err_set(e, ERR_SOFTWARE, "%s: out of memory to deskew the images", images);
        deskew_images(d->x, d->n, d->rows, d->cols, scratch);
        free(scratch);
    }
    return 0;
}

/* Both sets at once, as two sections of one OpenMP region: inflating is
 * most of the loading, and one set on each core makes it the training set's
 * time, not the sum (with a team of one the sections run in turn). Errors
 * are reported as a sequential read would meet them: the training set's
 * first. */
static int load_both(const struct config *c, struct dataset *train, struct dataset *test,
                     struct err *e)
{
    struct err test_e = {0};
    int rc = 0, test_rc = 0;
#pragma omp parallel sections num_threads(2)
    {
#pragma omp section
        rc = load_set(c, train, c->train_images, c->train_labels, e);
#pragma omp section
        test_rc = load_set(c, test, c->test_images, c->test_labels, &test_e);
    }
    if (!rc && test_rc)
        *e = test_e;
    if (rc || test_rc) {   /* neither set is kept when one fails */
        dataset_free(train);
        dataset_free(test);
    }
    return rc ? rc : test_rc;
}

int trainer_load_data(const struct config *c, struct dataset *train, struct dataset *test,
                      struct err *e)
{
    if (check_budget(c, e) || load_both(c, train, test, e)) {
        if (e->code == ERR_NOINPUT)
            err_append(e, " (get MNIST with 'make data', or point --data-dir or MNIST_DIR at it)");
        return e->code;
    }
    if (train->rows != test->rows || train->cols != test->cols)
        return err_set(e, ERR_DATA, "%s: images are %ux%u but the training images are %ux%u",
                       c->test_images, test->rows, test->cols, train->rows, train->cols);
    train->range = test->range = (int)c->input_range;
    return 0;
}

int trainer_split_data(const struct config *c, struct dataset *train, struct dataset *val,
                       struct dataset *test, struct err *e)
{
    if (c->limit_train > train->n)
        return err_set(e, ERR_USAGE, "limit_train: %lld is more than the %u training images",
                       c->limit_train, train->n);
    if (c->limit_test > test->n)
        return err_set(e, ERR_USAGE, "limit_test: %lld is more than the %u test images",
                       c->limit_test, test->n);
    uint32_t n = c->limit_train ? (uint32_t)c->limit_train : train->n;
    if (c->val >= n)
        return err_set(e, ERR_USAGE, "val: %lld leaves no training images out of %u", c->val, n);
    *val = dataset_slice(train, n - (uint32_t)c->val, (uint32_t)c->val);
    *train = dataset_slice(train, 0, n - (uint32_t)c->val);
    if (c->limit_test)
        *test = dataset_slice(test, 0, (uint32_t)c->limit_test);
    return 0;
}

static int alloc_all(struct trainer *t, const struct config *c, const struct dataset *train,
                     const struct dataset *val, const struct dataset *test)
{
    uint64_t seed = (uint64_t)c->seed;
    struct head head = trainer_head(c);
    if (task_init(&t->task, (enum task_kind)c->task, &head, (int)c->positive, train) ||
        task_set_init(&t->train, &t->task, train, seed, RNG_TASK) ||
        task_set_init(&t->val, &t->task, val, seed, RNG_TASK + 1) ||
        task_set_init(&t->test, &t->task, test, seed, RNG_TASK + 2))
        return -1;
    struct mlp_spec spec = trainer_spec(c, (int)t->task.input_dim, t->task.n_outputs);
    size_t K = (size_t)spec.n_outputs, n_test = test->n ? test->n : 1;
    t->model = mlp_create(&spec);
    t->order = malloc(sizeof(uint32_t) * (train->n ? train->n : 1));
    t->targets = malloc(sizeof(float) * (size_t)spec.max_batch * K);
    t->test_probs = malloc(sizeof(float) * n_test * K);
    t->test_pred = malloc(sizeof(int) * n_test);
    if (!distort_is_none(&c->augment))
        t->distort = distort_create(&c->augment, (int)train->rows, (int)train->cols);
    if (c->patience)
        t->kept = malloc(sizeof(float) * t->model->n_params);
    if (!t->model || !t->order || !t->targets || !t->test_probs || !t->test_pred ||
        (!distort_is_none(&c->augment) && !t->distort) || (c->patience && !t->kept))
        return -1;
    t->optim = (struct optim){
        .kind = (enum optim_kind)c->optimizer,
        .momentum = (float)c->momentum,
        .nesterov = c->nesterov,
        .beta1 = (float)c->adam_beta1,
        .beta2 = (float)c->adam_beta2,
        .eps = (float)c->adam_eps,
        .weight_decay = (float)c->weight_decay,
    };
    return optim_init(&t->optim, t->model->n_params, t->model->n_weights);
}

/* every batch size the run will use, so that oneDNN's primitives exist (and
 * any failure shows) before the work */
static int prepare_shapes(struct trainer *t, const struct config *c, struct err *e)
{
    struct mlp *m = t->model;
    const uint32_t B = (uint32_t)c->batch_size, E = (uint32_t)m->spec.max_batch;
    const uint32_t train_sizes[] = {t->train.n < B ? t->train.n : B, t->train.n % B};
    const uint32_t eval_sizes[] = {E, t->val.n % E, t->test.n % E};
    float beta;
    optim_grad_target(&t->optim, &beta);
    for (int i = 0; i < 2; i++)
        if (train_sizes[i] && mlp_prepare(m, (int)train_sizes[i], 1, beta, e))
            return e->code;
    for (int i = 0; i < 3; i++)
        if (eval_sizes[i] && mlp_prepare(m, (int)eval_sizes[i], 0, 0, e))
            return e->code;
    return 0;
}

int trainer_init(struct trainer *t, const struct config *c, const struct dataset *train,
                 const struct dataset *val, const struct dataset *test, struct err *e)
{
    memset(t, 0, sizeof *t);
    t->cfg = c;
    t->test_each_epoch = true;
    if (onednn_check_precision((enum precision)c->precision, e))
        return e->code;
    if (alloc_all(t, c, train, val, test)) {
        trainer_free(t);
        return err_set(e, ERR_SOFTWARE, "out of memory for the model");
    }
    if (prepare_shapes(t, c, e)) {
        trainer_free(t);
        return e->code;
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
    task_set_free(&t->train);
    task_set_free(&t->val);
    task_set_free(&t->test);
    task_free(&t->task);
    distort_free(t->distort);
    free(t->order);
    free(t->targets);
    free(t->test_probs);
    free(t->test_pred);
    free(t->kept);
    memset(t, 0, sizeof *t);
}

bool trainer_finite(const float *x, size_t n)
{
    /* x * 0 is 0 for a finite x and NaN otherwise, and NaN survives the sum:
     * one pass, no branch per value */
    float acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += x[i] * 0.0f;
    return acc == 0.0f;
}

bool trainer_params_finite(const struct mlp *m) { return trainer_finite(m->params, m->n_params); }

struct eval trainer_evaluate(struct trainer *t, const struct task_set *s, float *probs, int *pred)
{
    struct mlp *m = t->model;
    struct eval r = {.finite = trainer_params_finite(m)};
    const int K = m->size[m->L];
    const uint32_t step = (uint32_t)m->spec.max_batch;
    for (uint32_t from = 0; r.finite && from < s->n; from += step) {
        if (t->stop && *t->stop) {
            r.stopped = *t->stop;
            break;
        }
        int nb = (int)(s->n - from < step ? s->n - from : step);
        task_batch(&t->task, s, NULL, from, nb, m->a[0], t->targets, NULL, NULL);
        const float *Z = mlp_forward(m, nb, NULL);
        if (!Z)     /* m->err says why; eval_error reports it */
            break;
        /* non-finite logits would reach argmax and the report as if they were numbers */
        r.finite = trainer_finite(Z, (size_t)nb * (size_t)K);
        r.loss += head_loss(&t->task.head, m->probs, NULL, Z, t->targets, nb, K);
        task_score(&t->task, s, NULL, from, nb, Z, &r.score, pred);
        if (probs)
            memcpy(probs + (size_t)from * K, m->probs, sizeof(float) * (size_t)nb * K);
    }
    r.correct = r.score.correct;
    r.total = r.score.total;
    r.loss /= s->n ? (double)s->n : 1.0;
    r.finite = r.finite && isfinite(r.loss);
    return r;
}

/* An evaluation's failure as an error: divergence first, since a checkpoint
 * of non-finite weights must never be written on the way out. */
static int eval_error(const struct trainer *t, const struct eval *r, const char *split,
                      struct err *e)
{
    int ep = t->pos.epoch;
    if (t->model->err.code)
        return err_set(e, t->model->err.code, "%s", t->model->err.msg);
    if (!r->finite) {
        const char *what = !trainer_params_finite(t->model) ? "weights" : "outputs";
        if (ep == 0)
            return err_set(e, ERR_DATA, "the model's %s are not finite (on the %s set)", what,
                           split);
        return err_set(e, ERR_DATA,
                       "training diverged: the %s are not finite after epoch %d (%s set; try "
                       "a lower lr)", what, ep, split);
    }
    if (r->stopped)
        return ep ? err_set(e, 128 + r->stopped, "interrupted after epoch %d, while "
                            "evaluating the %s set", ep, split)
                  : err_set(e, 128 + r->stopped, "interrupted while evaluating the %s set", split);
    return 0;
}

int trainer_evaluate_test(struct trainer *t, struct err *e)
{
    t->test_eval = trainer_evaluate(t, &t->test, t->test_probs, t->test_pred);
    return eval_error(t, &t->test_eval, "test", e);
}

/* Stop for a signal, unless the last step already made the weights
 * non-finite: then it is divergence, and nothing may be saved. */
static int stop_or_diverged(const struct trainer *t, int epoch, uint32_t batch, struct err *e)
{
    if (!trainer_params_finite(t->model))
        return err_set(e, ERR_DATA, "training diverged: the weights are not finite at epoch "
                       "%d, batch %u (try a lower lr)", epoch, batch);
    return err_set(e, 128 + *t->stop, "interrupted at epoch %d, batch %u", epoch, batch);
}

/* The rest of the current epoch, from t->pos; fills the training half of s. */
static int train_epoch(struct trainer *t, struct epoch_stats *s, struct err *e)
{
    struct mlp *m = t->model;
    const int K = m->size[m->L], B = (int)t->cfg->batch_size;
    const uint32_t n = t->train.n, first = t->pos.next;
    struct train_pos *p = &t->pos;
    double t0 = timer_now(), shown = t0;
    if (p->next == 0)
        rng_shuffle(&t->shuffle, t->order, n);
    while (p->next < n) {
        uint32_t from = p->next;
        int nb = n - from < (uint32_t)B ? (int)(n - from) : B;
        task_batch(&t->task, &t->train, t->order, from, nb, m->a[0], t->targets,
                   t->distort, &t->augment);
        const float *Z = mlp_forward(m, nb, &t->dropout);
        if (!Z)
            return err_set(e, m->err.code, "%s", m->err.msg);
        double l = head_loss(&t->task.head, m->probs, m->dlogits, Z, t->targets, nb, K);
        if (!isfinite(l))
            return err_set(e, ERR_DATA,
                           "training diverged: loss is %s at epoch %d, batch %u (try a lower lr)",
                           isnan(l) ? "nan" : "infinite", s->epoch, from / (uint32_t)B + 1);
        struct task_score score = {0};
        task_score(&t->task, &t->train, t->order, from, nb, Z, &score, NULL);
        if (t->on_batch)
            t->on_batch(t, nb, t->on_batch_ctx);
        float beta;
        float *G = optim_grad_target(&t->optim, &beta);
        if (mlp_backward_update(m, m->dlogits, nb, &t->optim, G, beta, (float)s->lr))
            return err_set(e, m->err.code, "%s", m->err.msg);
        p->loss += l;
        p->correct += score.correct;
        p->next += (uint32_t)nb;
        if (t->progress && p->next < n) {
            double now = timer_now();
            if (now - shown >= t->progress_seconds) {
                shown = now;
                t->progress(s->epoch, (int)t->cfg->epochs, p->next - first, n - first,
                            p->loss / p->next, now - t0, t->progress_ctx);
            }
        }
        if (t->stop && *t->stop && p->next < n)
            return stop_or_diverged(t, s->epoch, p->next / (uint32_t)B, e);
    }
    s->train_loss = p->loss / n;
    s->train_accuracy = (double)p->correct / n;
    if (!isfinite(s->train_loss))
        return err_set(e, ERR_DATA, "training diverged: the training loss of epoch %d is not "
                       "finite (try a lower lr)", s->epoch);
    *p = (struct train_pos){p->epoch + 1, 0, 0, 0};
    return 0;
}

/* --patience: a strictly better validation count (ties keep the earlier
 * epoch) makes this epoch's weights the kept ones; patience runs out when
 * that many epochs have passed since */
static void watch_patience(struct trainer *t, struct epoch_stats *s)
{
    if (!t->kept)
        return;
    if (t->kept_epoch == 0 || s->val.correct > t->kept_correct) {
        t->kept_epoch = s->epoch;
        t->kept_correct = s->val.correct;
        memcpy(t->kept, t->model->params, sizeof(float) * t->model->n_params);
    }
    s->kept_epoch = t->kept_epoch;
    s->patience_stop = s->epoch - t->kept_epoch >= t->cfg->patience;
    t->patience_stop = s->patience_stop;
}

/* training is over: the model takes the kept weights, kept the last ones */
static void keep_best(struct trainer *t)
{
    if (!t->kept || t->kept_epoch == 0 || t->ended)
        return;
    float *w = t->model->params, *k = t->kept;
    for (size_t i = 0; i < t->model->n_params; i++) {
        float x = w[i];
        w[i] = k[i];
        k[i] = x;
    }
    mlp_params_changed(t->model);
    t->ended = true;
}

/* The evaluations that end an epoch (validation, with --patience's choice,
 * and the test set when each epoch reports it). They run to their end even
 * when a signal comes: once train_epoch has returned, the position, and so
 * any checkpoint, says the epoch is done, so its validation and its line
 * must be done too, or a run resumed from that checkpoint would never weigh
 * this epoch for the kept network nor report it. The signal takes effect
 * after the epoch's line ("interrupted after epoch E"), one evaluation pass
 * later. */
static int evaluate_epoch(struct trainer *t, struct epoch_stats *s, struct err *e)
{
    volatile sig_atomic_t *stop = t->stop;
    int rc = 0;
    t->stop = NULL;
    if (t->val.n) {
        s->val = trainer_evaluate(t, &t->val, NULL, NULL);
        rc = eval_error(t, &s->val, "validation", e);
        if (!rc)
            watch_patience(t, s);
    }
    if (!rc && t->test_each_epoch && !(rc = trainer_evaluate_test(t, e)))
        s->test = t->test_eval;
    t->stop = stop;
    return rc;
}

int trainer_run(struct trainer *t, epoch_fn on_epoch, void *ctx, struct err *e)
{
    while (!t->patience_stop && t->pos.epoch < t->cfg->epochs) {
        int ep = t->pos.epoch;
        struct epoch_stats s = {.epoch = ep + 1, .lr = schedule_lr(&t->schedule, ep)};
        double t0 = timer_now();
        if (train_epoch(t, &s, e))
            return e->code;
        s.seconds = timer_now() - t0;
        s.samples_per_second = s.seconds > 0 ? t->train.n / s.seconds : 0;
        if (evaluate_epoch(t, &s, e))
            return e->code;
        if (on_epoch && on_epoch(&s, ctx))
            return e->code ? e->code : err_set(e, ERR_IO, "stopped by the reporter");
        if (t->stop && *t->stop && t->pos.epoch < t->cfg->epochs && !t->patience_stop)
            return err_set(e, 128 + *t->stop, "interrupted after epoch %d", t->pos.epoch);
    }
    keep_best(t);
    return 0;
}
