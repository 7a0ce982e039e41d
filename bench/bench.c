/* bench: time the training loop of one config and set it against the same
 * library's products alone and against the machine's arithmetic peak.
 *
 *   build/bin/bench --config bench/configs/mid.json --precision bf16 --threads 2 --epochs 3
 *
 * Takes every train flag (the same parser). Prints one JSON line:
 *   load_seconds        reading and validating the four IDX files
 *   epoch_seconds       each epoch's training loop (evaluation excluded), and
 *                       their median; samples/s and GFLOP/s from the median
 *   gflop_per_epoch     the multiply-adds of the step's matrix products (x2),
 *                       the only floating-point work that grows with weights x
 *                       samples
 *   bound_seconds       an epoch of nothing but those products, on oneDNN
 *                       primitives of the same kind (dense.h: forward with its
 *                       fused bias and activation, backward-data,
 *                       backward-weights with the momentum sum) on operands of
 *                       their own: one step's products in order (median of
 *                       repeats) times the steps, timed again after every
 *                       epoch because a shared machine's speed drifts;
 *                       bound_fraction is the median over epochs of bound / epoch
 *   peak_fp32_gflops,   register-only loops of 512-bit FMAs / vdpbf16ps on the
 *   peak_bf16_gflops    same threads (bench/peak.c), best of 3, after training;
 *                       peak_fraction: the epoch's GFLOP/s over the peak of the
 *                       precision it ran in
 *   peak_rss_mb         the process's peak less the bound's operands
 *   minor_faults_per_epoch  page faults after the first epoch, per epoch
 *                       (getrusage): a step that allocates and frees a large
 *                       buffer shows here as hundreds per epoch; 0 when
 *                       nothing in the steady state maps new memory
 *   test_accuracy       after the benchmarked epochs, so speed is never bought
 *                       with a wrong result */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config/config.h"
#include "data/dataset.h"
#include "nn/mlp_dnn.h"
#include "peak.h"
#include "train/train.h"
#include "util/denormal.h"
#include "util/err.h"
#include "util/rng.h"
#include "util/timer.h"

#define MAX_EPOCHS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One step's products on a batch of B, as mlp_forward and mlp_backward run
 * them, on layers and operands of their own, filled once with small values. */
struct step {
    int L, B;
    float beta;
    struct onednn dnn;
    struct dense layer[MLP_MAX_LAYERS];
    void *x[MLP_MAX_LAYERS], *w[MLP_MAX_LAYERS], *dy[MLP_MAX_LAYERS];
    float *b[MLP_MAX_LAYERS], *y[MLP_MAX_LAYERS], *dx[MLP_MAX_LAYERS], *dw[MLP_MAX_LAYERS];
    double madds, bytes;
};

static void *filled(size_t n, int bf, struct rng *r, double *bytes)
{
    size_t size = bf ? sizeof(bf16) : sizeof(float);
    unsigned char *p = malloc(n * size);
    for (size_t i = 0; p && i < n; i++) {
        float v = rng_uniform(r) - 0.5f;
        if (bf)
            ((bf16 *)p)[i] = bf16_from(v);
        else
            ((float *)p)[i] = v;
    }
    *bytes += (double)(n * size);
    return p;
}

static int step_init(struct step *s, const struct mlp *m, int B, float beta, struct err *e)
{
    memset(s, 0, sizeof *s);
    s->L = m->L;
    s->B = B;
    s->beta = beta;
    if (onednn_open(&s->dnn, e))
        return e->code;
    int bf = m->spec.precision == PRECISION_BF16;
    struct rng r;
    rng_seed(&r, 1, 0);
    for (int l = 0; l < m->L; l++) {
        size_t in = (size_t)m->size[l], out = (size_t)m->size[l + 1], nb = (size_t)B;
        /* packed as the model's layer is, from fp32 weights */
        if (dense_init(&s->layer[l], &s->dnn, (int)in, (int)out,
                       l + 1 < m->L ? (int)m->spec.act : -1, m->spec.precision,
                       m->dnn->layer[l].packed != NULL, e))
            return e->code;
        double unused = 0;
        float *w32 = filled(in * out, 0, &r, &unused);
        if (!w32)
            return err_set(e, ERR_SOFTWARE, "out of memory for the products bound");
        dense_pack(&s->layer[l], w32, 0, (int)in);
        free(w32);
        s->x[l] = filled(nb * in, bf, &r, &s->bytes);
        s->w[l] = filled(in * out, bf, &r, &s->bytes);
        s->dy[l] = filled(nb * out, bf, &r, &s->bytes);
        s->b[l] = filled(out, 0, &r, &s->bytes);
        s->y[l] = filled(nb * out, 0, &r, &s->bytes);
        s->dx[l] = filled(nb * in, 0, &r, &s->bytes);
        s->dw[l] = filled(in * out, 0, &r, &s->bytes);
        if (!s->x[l] || !s->w[l] || !s->dy[l] || !s->b[l] || !s->y[l] || !s->dx[l] || !s->dw[l])
            return err_set(e, ERR_SOFTWARE, "out of memory for the products bound");
        if (dense_prepare(&s->layer[l], B, 1, beta, e))
            return e->code;
        s->madds += (double)nb * in * out * (l > 0 ? 3 : 2);
    }
    return 0;
}

static void step_free(struct step *s)
{
    for (int l = 0; l < s->L; l++) {
        dense_free(&s->layer[l]);
        free(s->x[l]), free(s->w[l]), free(s->dy[l]), free(s->b[l]);
        free(s->y[l]), free(s->dx[l]), free(s->dw[l]);
    }
    onednn_close(&s->dnn);
}

static int step_run(struct step *s, struct err *e)
{
    for (int l = 0; l < s->L; l++)
        if (dense_forward(&s->layer[l], s->y[l], s->x[l], s->w[l], s->b[l], s->B, e))
            return e->code;
    for (int l = s->L - 1; l >= 0; l--) {
        if (dense_backward_weights(&s->layer[l], s->dw[l], s->x[l], s->dy[l], s->beta, s->B, e))
            return e->code;
        if (l > 0 && dense_backward_data(&s->layer[l], s->dx[l], s->dy[l], s->w[l], s->B, e))
            return e->code;
    }
    return 0;
}

/* median seconds of one step's products, run in the step's order; repeated
 * for about `budget` seconds, at least 5 and at most 201 times */
static double step_seconds(struct step *s, double budget, struct err *e)
{
    double t[201];
    int reps = 0;
    double start = timer_now();
    while (reps < 201 && (reps < 5 || timer_now() - start < budget)) {
        double t0 = timer_now();
        if (step_run(s, e))
            return 0;
        t[reps++] = timer_now() - t0;
    }
    return median(t, reps);
}

/* After each epoch, the bound is timed again: a shared machine's speed
 * drifts, so each epoch is set against products timed right after it. */
struct collect {
    double seconds[MAX_EPOCHS], bound[MAX_EPOCHS], fraction[MAX_EPOCHS];
    long faults[MAX_EPOCHS];          /* minor faults so far, at each epoch's end */
    int n;
    double accuracy;
    struct step *full, *rest;         /* rest: the last, partial batch (L may be 0) */
    uint32_t steps;                   /* full batches per epoch */
    struct err *err;
};

static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct collect *c = ctx;
    double b = step_seconds(c->full, 0.1, c->err) * c->steps;
    if (c->rest->L)
        b += step_seconds(c->rest, 0.02, c->err);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    c->faults[c->n] = ru.ru_minflt;
    c->seconds[c->n] = s->seconds;
    c->bound[c->n] = b;
    c->fraction[c->n++] = b / s->seconds;
    c->accuracy = s->test.total ? (double)s->test.correct / (double)s->test.total : 0;
    return c->err->code;
}

static void print_result(const struct config *c, const struct trainer *t, const struct collect *col,
                         double load, double gflop, double rss, double fp32, double bf16g)
{
    const struct mlp *m = t->model;
    char impl[256];
    mlp_describe(m, impl, sizeof impl);
    double epoch = median((double *)col->seconds, col->n), bound = median((double *)col->bound, col->n);
    double fraction = median((double *)col->fraction, col->n);
    double peak = c->precision == PRECISION_BF16 ? bf16g : fp32;
    double faults = col->n > 1 ? (double)(col->faults[col->n - 1] - col->faults[0]) / (col->n - 1)
                               : -1;
    printf("{\"hidden\":\"");
    for (int l = 0; l <= m->L; l++)
        printf(l ? "-%d" : "%d", m->size[l]);
    printf("\",\"head\":\"%s\",\"precision\":\"%s\",\"isa\":\"%s\",\"compute\":\"%s\","
           "\"batch\":%lld,\"threads\":%lld,\"n_train\":%u,\"epochs\":%d,\"load_seconds\":%.4f,"
           "\"epoch_seconds\":[",
           config_enum_name("head", c->head), config_enum_name("precision", c->precision),
           onednn_isa(), impl, c->batch_size, c->threads, t->train.n, col->n, load);
    for (int i = 0; i < col->n; i++)
        printf(i ? ",%.6g" : "%.6g", col->seconds[i]);
    printf("],\"epoch_seconds_median\":%.6g,\"samples_per_second\":%.0f,"
           "\"gflop_per_epoch\":%.6g,\"gflops\":%.1f,\"bound_seconds\":%.6g,"
           "\"bound_fraction\":%.4g,\"peak_fp32_gflops\":%.1f,\"peak_bf16_gflops\":%.1f,"
           "\"peak_fraction\":%.4g,\"peak_rss_mb\":%.1f,\"minor_faults_per_epoch\":%.1f,"
           "\"test_accuracy\":%.6g}\n",
           epoch, t->train.n / epoch, gflop, gflop / epoch, bound, fraction, fp32, bf16g,
           peak > 0 ? gflop / epoch / peak : 0, rss, faults, col->accuracy);
}

static int bench(const struct config *c, struct err *e)
{
    if (c->epochs < 1 || c->epochs > MAX_EPOCHS)
        return err_set(e, ERR_USAGE, "epochs: the benchmark runs 1 to %d", MAX_EPOCHS);
    if (c->val)
        return err_set(e, ERR_USAGE, "val: the benchmark takes no validation split");
    if (onednn_check_precision((enum precision)c->precision, e))
        return e->code;
    struct dataset train_all = {0}, test_all = {0}, train, val, test;
    double t0 = timer_now();
    int rc = trainer_load_data(c, &train_all, &test_all, e);
    double load = timer_now() - t0;
    train = train_all;
    test = test_all;
    if (rc || trainer_split_data(c, &train, &val, &test, e)) {
        dataset_free(&train_all);
        dataset_free(&test_all);
        return e->code;
    }
    omp_set_num_threads((int)c->threads);
    denormals_flush();
    struct trainer t;
    rc = trainer_init(&t, c, &train, &val, &test, e);
    const int B = (int)c->batch_size;
    const uint32_t n = train.n, rest = n % (uint32_t)B;
    struct step full = {0}, part = {0};
    struct collect col = {.full = &full, .rest = &part, .steps = n / (uint32_t)B, .err = e};
    float beta = 0;
    if (!rc) {
        optim_grad_target(&t.optim, &beta);
        rc = step_init(&full, t.model, B, beta, e) ||
             (rest && step_init(&part, t.model, (int)rest, beta, e));
    }
    if (!rc)
        rc = trainer_run(&t, on_epoch, &col, e);
    if (!rc) {
        /* the bound's operands, allocated and touched before training, are
         * not part of what a training run needs */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double rss = ru.ru_maxrss / 1024.0 - (full.bytes + part.bytes) / 1048576.0;
        double gflop = 2 * (full.madds * col.steps + part.madds) * 1e-9;
        double fp32 = peak_fp32_gflops((int)c->threads, 0.3);
        double bf16g = peak_bf16_gflops((int)c->threads, 0.3);
        print_result(c, &t, &col, load, gflop, rss, fp32, bf16g);
    }
    step_free(&full);
    step_free(&part);
    trainer_free(&t);
    dataset_free(&train_all);
    dataset_free(&test_all);
    return rc ? e->code : 0;
}

int main(int argc, char **argv)
{
    struct err e = {0};
    struct config c;
    enum config_action action;
    int rc = config_from_args(&c, argc, argv, &action, NULL, &e);
    if (!rc && action == CONFIG_RUN)
        rc = bench(&c, &e);
    else if (!rc)
        rc = err_set(&e, ERR_USAGE, "bench takes train's flags for a training run only");
    if (rc)
        fprintf(stderr, "bench: %s\n", e.msg);
    return rc;
}
