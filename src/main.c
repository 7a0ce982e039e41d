/* train: train a small MLP on MNIST with a softmax or a sigmoid output head.
 *
 *   parse the config (config/) -> load the data (data/) -> build and train the
 *   network (nn/, train/) -> report (report/), saving models on the way
 *   (train/checkpoint.c)
 *
 * This is the only place that turns an error into a message and an exit code. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config/config.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "report/report.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "util/denormal.h"
#include "util/err.h"
#include "util/timer.h"

#define TRAIN_VERSION "0.2.0"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* SIGINT and SIGTERM ask training to stop after the current batch */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* the config_base_fn for --resume and --load */
static int model_settings(const char *path, char **json, struct err *e)
{
    struct checkpoint ck;
    if (checkpoint_read(&ck, path, e))
        return e->code;
    *json = ck.config;
    ck.config = NULL;
    checkpoint_free(&ck);
    return 0;
}

struct run {
    const struct config *cfg;
    struct reporter rep;
    struct trainer *t;
};

/* after each epoch: report, then checkpoint when it is time */
static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct run *r = ctx;
    const struct config *c = r->cfg;
    if (report_epoch(s, &r->rep))
        return r->rep.err->code;
    if (c->checkpoint_every && s->epoch % c->checkpoint_every == 0 && s->epoch < c->epochs)
        return checkpoint_save(c->save, r->t, 1, r->rep.err);
    return 0;
}

static int start_from(struct trainer *t, const struct config *c, struct err *e)
{
    const char *path = *c->resume ? c->resume : c->load;
    if (!*path)
        return 0;
    struct checkpoint ck;
    if (checkpoint_read(&ck, path, e))
        return e->code;
    int rc = checkpoint_restore(t, &ck, *c->resume != 0, path, e);
    checkpoint_free(&ck);
    return rc;
}

/* Train (or with --epochs 0 only evaluate), report, save. */
static int train_and_report(struct run *r, const struct dataset *test, double t0,
                            double load_seconds, struct err *e)
{
    const struct config *c = r->cfg;
    struct trainer *t = r->t;
    report_header(&r->rep, t->model, t->train.d, t->val.d, test, load_seconds);
    double t1 = timer_now();
    int rc = c->epochs ? trainer_run(t, on_epoch, r, e) : 0;
    if (!c->epochs)
        t->test_eval = evaluate(t, &t->test, t->test_probs, t->test_pred);
    double t2 = timer_now();
    if (rc == 128 + SIGINT || rc == 128 + SIGTERM) {
        struct err saved = {0};
        if (!*c->save)
            err_append(e, " (nothing saved: no --save FILE)");
        else if (checkpoint_save(c->save, t, 1, &saved))
            err_append(e, "; could not save the checkpoint: %s", saved.msg);
        else
            err_append(e, "; checkpoint saved to %s (continue with --resume %s)", c->save, c->save);
        return rc;
    }
    if (rc)
        return rc;
    if (*c->save && checkpoint_save(c->save, t, 1, e))
        return e->code;
    const int K = t->task.n_outputs;
    struct metrics m;
    if (c->report)
        metrics_compute(&m, t->test_probs, t->test_pred, test->y, test->n, K);
    if (*c->predictions &&
        report_predictions(c->predictions, t->test_probs, t->test_pred, test->y, test->n, K, e))
        return e->code;
    struct run_summary s = {t->test_eval, c->report ? &m : NULL, t->task.kind == TASK_PAIRS,
                            (int)c->epochs, t2 - t1, load_seconds, timer_now() - t0};
    return report_summary(&r->rep, &s);
}

static int run(const struct config *c, struct err *e)
{
    double t0 = timer_now();
    struct dataset train_all = {0}, test_all = {0}, train, val, test;
    int rc = trainer_load_data(c, &train_all, &test_all, e);
    double load_seconds = timer_now() - t0;
    train = train_all;
    test = test_all;
    if (!rc)
        rc = trainer_split_data(c, &train, &val, &test, e);
    struct trainer t = {0};
    if (!rc) {
        openblas_set_num_threads((int)c->threads);
        rc = trainer_init(&t, c, &train, &val, &test, e);
    }
    if (!rc)
        rc = start_from(&t, c, e);
    if (!rc) {
        catch_signals();
        t.stop = &stop_signal;
        struct run r = {c, {stdout, c, e, NULL, NULL}, &t};
        rc = report_open(&r.rep, e);
        t.progress = report_progress;
        t.progress_ctx = &r.rep;
        if (!rc)
            rc = train_and_report(&r, &test, t0, load_seconds, e);
        report_close(&r.rep);
    }
    trainer_free(&t);
    dataset_free(&train_all);
    dataset_free(&test_all);
    return rc;
}

/* raw images of dim bytes each on stdin, until its end */
static int read_raw_images(struct idx *x, uint32_t dim, struct err *e)
{
    memset(x, 0, sizeof *x);
    size_t cap = 0;
    for (;;) {
        if (x->size + dim > cap) {
            cap = cap ? 2 * cap : (size_t)dim * 256;
            uint8_t *p = realloc(x->data, cap);
            if (!p)
                return err_set(e, ERR_SOFTWARE, "stdin: out of memory");
            x->data = p;
        }
        size_t got = fread(x->data + x->size, 1, dim, stdin);
        x->size += got;
        if (got == dim)
            continue;
        if (ferror(stdin))
            return err_set(e, ERR_IO, "stdin: read error");
        if (got)
            return err_set(e, ERR_DATA, "stdin: %zu bytes left over; images are %u bytes", got,
                           dim);
        x->dims[0] = (uint32_t)(x->size / dim);
        return 0;
    }
}

/* --predict: the images of an IDX file, or raw images on stdin ("-") */
static int read_images(struct idx *x, const char *path, uint32_t dim, struct err *e)
{
    if (!strcmp(path, "-"))
        return read_raw_images(x, dim, e);
    if (idx_read(x, path, 3, e))
        return e->code;
    if (x->dims[1] * x->dims[2] != dim)
        return err_set(e, ERR_DATA, "%s: images of %ux%u pixels, the model takes %u", path,
                       x->dims[1], x->dims[2], dim);
    return 0;
}

/* the network a saved model describes, with its weights */
static struct mlp *model_from(const struct config *c, const struct checkpoint *ck, struct err *e)
{
    struct mlp_spec spec = trainer_spec(c, (int)ck->size[0], (int)ck->size[ck->L]);
    struct mlp *m = mlp_create(&spec);
    if (!m) {
        err_set(e, ERR_SOFTWARE, "out of memory");
        return NULL;
    }
    int same = m->L == (int)ck->L;
    for (int l = 0; same && l <= m->L; l++)
        same = m->size[l] == (int)ck->size[l];
    if (!same) {
        mlp_free(m);
        err_set(e, ERR_DATA, "%s: the model's layers do not match its settings", c->load);
        return NULL;
    }
    memcpy(m->params, ck->params, sizeof(float) * ck->n_params);
    return m;
}

static int predict(const struct config *c, struct err *e)
{
    if (c->task != TASK_CLASSIFY)
        return err_set(e, ERR_USAGE, "predict: only for task classify");
    struct checkpoint ck;
    if (checkpoint_read(&ck, c->load, e))
        return e->code;
    struct mlp *m = model_from(c, &ck, e);
    struct idx x = {0};
    int rc = m ? read_images(&x, c->predict, ck.size[0], e) : e->code;
    if (!rc) {
        const int K = m->size[m->L];
        const struct head head = trainer_head(c);
        const uint32_t step = (uint32_t)m->spec.max_batch;
        openblas_set_num_threads((int)c->threads);
        if (!c->json) {
            fputs("index,prediction", stdout);
            for (int k = 0; k < K; k++)
                printf(",p%d", k);
            putchar('\n');
        }
        struct dataset d = {.n = x.dims[0], .dim = ck.size[0], .x = x.data};
        for (uint32_t from = 0; from < d.n; from += step) {
            uint32_t nb = d.n - from < step ? d.n - from : step;
            struct dataset part = dataset_slice(&d, from, nb);
            batch_gather(m->a[0], &part, NULL, (int)nb, 0, NULL);
            const float *Z = mlp_forward(m, (int)nb, NULL);
            head_outputs(&head, m->probs, Z, (int)nb, K);
            report_prediction_rows(stdout, c->json, from, m->probs, Z, (int)nb, K);
        }
    }
    free(x.data);
    mlp_free(m);
    checkpoint_free(&ck);
    return rc;
}

static void print_version(void)
{
    printf("train %s\nzlib %s, cJSON %s, OpenBLAS %s\n", TRAIN_VERSION, zlibVersion(),
           cJSON_Version(), openblas_get_config());
}

static int print_config(const struct config *c, struct err *e)
{
    cJSON *j = config_to_json(c, false);
    char *s = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    puts(s);
    cJSON_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    struct err e = {0};
    struct config c;
    enum config_action action;
    denormals_flush();
    int rc = config_from_args(&c, argc, argv, &action, model_settings, &e);
    if (!rc) {
        switch (action) {
        case CONFIG_HELP:
            config_print_help(stdout);
            break;
        case CONFIG_VERSION:
            print_version();
            break;
        case CONFIG_PRINT:
            rc = print_config(&c, &e);
            break;
        case CONFIG_RUN:
            rc = *c.predict ? predict(&c, &e) : run(&c, &e);
            break;
        }
    }
    /* output that never reached its destination is a failure too (train > /dev/full) */
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = rc ? rc : err_set(&e, ERR_IO, "stdout: write error");
    if (rc) {
        fprintf(stderr, "train: %s\n", e.msg);
        if (rc == ERR_USAGE)
            fputs("Try 'train --help' for more information.\n", stderr);
    }
    return rc;
}
