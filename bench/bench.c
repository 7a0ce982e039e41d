/* bench: time the training loop of one config and set it against the sgemm
 * lower bound of the same step.
 *
 *   build/bin/bench --config bench/configs/mid.json --head sigmoid --threads 2 --epochs 3
 *
 * Takes every train flag (the same parser). Prints one JSON line:
 *   load_seconds        reading and validating the four IDX files
 *   epoch_seconds       each epoch's training loop (evaluation excluded), and
 *                       their median; samples/s and GFLOP/s from the median
 *   gflop_per_epoch     the multiply-adds of the step's matrix products (x2),
 *                       the only floating-point work that grows with weights x
 *                       samples
 *   bound_seconds       an epoch of nothing but those cblas_sgemm calls: one
 *                       step's products run in order on operands of their
 *                       own (median of repeats) times the steps, on the same
 *                       threads, timed again after every epoch because a
 *                       shared machine's speed drifts; bound_fraction is the
 *                       median over epochs of bound / epoch
 *   peak_rss_mb         the process's peak less the bound's operands
 *   test_accuracy       after the benchmarked epochs, so speed is never bought
 *                       with a wrong result */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config/config.h"
#include "data/dataset.h"
#include "train/train.h"
#include "util/denormal.h"
#include "util/err.h"
#include "util/rng.h"
#include "util/timer.h"

#define MAX_EPOCHS 64

struct gemm {
    enum CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
};

/* The matrix products of one training step on a batch of B, as
 * dense_forward and dense_backward (src/nn/dense.c) issue them: y = x W for
 * every layer, dW = x^T dy for every layer, dx = dy W^T for all but the first. */
static int step_gemms(const struct mlp *m, int B, struct gemm *g)
{
    int n = 0;
    for (int l = 0; l < m->L; l++) {
        int in = m->size[l], out = m->size[l + 1];
        g[n++] = (struct gemm){CblasNoTrans, CblasNoTrans, B, out, in};
        g[n++] = (struct gemm){CblasTrans, CblasNoTrans, in, out, B};
        if (l > 0)
            g[n++] = (struct gemm){CblasNoTrans, CblasTrans, B, in, out};
    }
    return n;
}

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

/* One step's products with operands of their own, filled with small random
 * values once, so that timing them needs no allocation. */
struct step {
    int n;
    struct gemm g[3 * MLP_MAX_LAYERS];
    float *A[3 * MLP_MAX_LAYERS], *B[3 * MLP_MAX_LAYERS], *C[3 * MLP_MAX_LAYERS];
    double madds, bytes;
};

static int step_init(struct step *s, const struct mlp *m, int B)
{
    memset(s, 0, sizeof *s);
    s->n = step_gemms(m, B, s->g);
    struct rng r;
    rng_seed(&r, 1, 0);
    for (int i = 0; i < s->n; i++) {
        const struct gemm *g = &s->g[i];
        size_t na = (size_t)g->M * g->K, nb = (size_t)g->K * g->N, nc = (size_t)g->M * g->N;
        s->A[i] = malloc(sizeof(float) * na);
        s->B[i] = malloc(sizeof(float) * nb);
        s->C[i] = calloc(nc, sizeof(float));
        if (!s->A[i] || !s->B[i] || !s->C[i])
            return -1;
        for (size_t j = 0; j < na; j++)
            s->A[i][j] = rng_uniform(&r) - 0.5f;
        for (size_t j = 0; j < nb; j++)
            s->B[i][j] = rng_uniform(&r) - 0.5f;
        s->madds += (double)g->M * g->N * g->K;
        s->bytes += sizeof(float) * (double)(na + nb + nc);
    }
    return 0;
}

static void step_free(struct step *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->A[i]), free(s->B[i]), free(s->C[i]);
}

/* median seconds of one step's products, run in the step's order; repeated
 * for about `budget` seconds, at least 5 and at most 201 times */
static double step_seconds(const struct step *s, double budget)
{
    double t[201];
    int reps = 0;
    double start = timer_now();
    while (reps < 201 && (reps < 5 || timer_now() - start < budget)) {
        double t0 = timer_now();
        for (int i = 0; i < s->n; i++) {
            const struct gemm *g = &s->g[i];
            int lda = g->ta == CblasNoTrans ? g->K : g->M, ldb = g->tb == CblasNoTrans ? g->N : g->K;
            cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->M, g->N, g->K, 1.0f, s->A[i], lda, s->B[i],
                        ldb, 0.0f, s->C[i], g->N);
        }
        t[reps++] = timer_now() - t0;
    }
    return median(t, reps);
}

/* After each epoch, the bound is timed again: a shared machine's speed
 * drifts, so each epoch is set against products timed right after it. */
struct collect {
    double seconds[MAX_EPOCHS], bound[MAX_EPOCHS], fraction[MAX_EPOCHS];
    int n;
    double accuracy;
    const struct step *full, *rest;   /* rest: the last, partial batch (n may be 0) */
    uint32_t steps;                   /* full batches per epoch */
};

static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct collect *c = ctx;
    double b = step_seconds(c->full, 0.1) * c->steps;
    if (c->rest->n)
        b += step_seconds(c->rest, 0.02);
    c->seconds[c->n] = s->seconds;
    c->bound[c->n] = b;
    c->fraction[c->n++] = b / s->seconds;
    c->accuracy = s->test.total ? (double)s->test.correct / (double)s->test.total : 0;
    return 0;
}

static int bench(const struct config *c, struct err *e)
{
    if (c->epochs < 1 || c->epochs > MAX_EPOCHS)
        return err_set(e, ERR_USAGE, "epochs: the benchmark runs 1 to %d", MAX_EPOCHS);
    if (c->val)
        return err_set(e, ERR_USAGE, "val: the benchmark takes no validation split");
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
    openblas_set_num_threads((int)c->threads);
    struct trainer t;
    rc = trainer_init(&t, c, &train, &val, &test, e);
    const int B = (int)c->batch_size;
    const uint32_t n = train.n, rest = n % (uint32_t)B;
    struct step full = {0}, part = {0};
    struct collect col = {.full = &full, .rest = &part, .steps = n / (uint32_t)B};
    if (!rc && (step_init(&full, t.model, B) || (rest && step_init(&part, t.model, (int)rest))))
        rc = err_set(e, ERR_SOFTWARE, "out of memory for the sgemm bound");
    if (!rc)
        rc = trainer_run(&t, on_epoch, &col, e);
    if (!rc) {
        /* the bound's operands, allocated and touched before training, are
         * not part of what a training run needs */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double rss = ru.ru_maxrss / 1024.0 - (full.bytes + part.bytes) / 1048576.0;
        double gflop = 2 * (full.madds * col.steps + part.madds) * 1e-9;
        double epoch = median(col.seconds, col.n), bound = median(col.bound, col.n);
        double fraction = median(col.fraction, col.n);
        printf("{\"hidden\":\"");
        for (int l = 0; l <= t.model->L; l++)
            printf(l ? "-%d" : "%d", t.model->size[l]);
        printf("\",\"head\":\"%s\",\"batch\":%d,\"threads\":%lld,\"n_train\":%u,"
               "\"epochs\":%d,\"load_seconds\":%.4f,\"epoch_seconds\":[",
               config_enum_name("head", c->head), B, c->threads, n, col.n, load);
        for (int i = 0; i < col.n; i++)
            printf(i ? ",%.6g" : "%.6g", col.seconds[i]);
        printf("],\"epoch_seconds_median\":%.6g,\"samples_per_second\":%.0f,"
               "\"gflop_per_epoch\":%.6g,\"gflops\":%.1f,\"bound_seconds\":%.6g,"
               "\"bound_fraction\":%.3f,\"peak_rss_mb\":%.1f,\"test_accuracy\":%.6g}\n",
               epoch, n / epoch, gflop, gflop / epoch, bound, fraction,
               rss, col.accuracy);
    }
    step_free(&full);
    step_free(&part);
    trainer_free(&t);
    dataset_free(&train_all);
    dataset_free(&test_all);
    return rc;
}

int main(int argc, char **argv)
{
    struct err e = {0};
    struct config c;
    enum config_action action;
    denormals_flush();   /* as train does */
    int rc = config_from_args(&c, argc, argv, &action, NULL, &e);
    if (!rc && action == CONFIG_RUN)
        rc = bench(&c, &e);
    else if (!rc)
        rc = err_set(&e, ERR_USAGE, "bench takes train's flags for a training run only");
    if (rc)
        fprintf(stderr, "bench: %s\n", e.msg);
    return rc;
}
