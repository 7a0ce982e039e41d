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
 *   bound_seconds       an epoch of nothing but those cblas_sgemm calls, each
 *                       shape timed alone (median of repeats) on the same
 *                       threads; bound_fraction = bound / median epoch
 *   peak_rss_mb         after training, before the bound is timed
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

/* median seconds of one call of g, operands filled with small random values */
static double time_gemm(const struct gemm *g)
{
    size_t na = (size_t)g->M * g->K, nb = (size_t)g->K * g->N, nc = (size_t)g->M * g->N;
    float *A = malloc(sizeof(float) * na), *Bm = malloc(sizeof(float) * nb),
          *C = malloc(sizeof(float) * nc);
    if (!A || !Bm || !C) {
        free(A), free(Bm), free(C);
        return -1;
    }
    struct rng r;
    rng_seed(&r, 1, 0);
    for (size_t i = 0; i < na; i++)
        A[i] = rng_uniform(&r) - 0.5f;
    for (size_t i = 0; i < nb; i++)
        Bm[i] = rng_uniform(&r) - 0.5f;
    memset(C, 0, sizeof(float) * nc);
    int lda = g->ta == CblasNoTrans ? g->K : g->M, ldb = g->tb == CblasNoTrans ? g->N : g->K;
    /* repeat for about 0.2 s, at least 5 and at most 2001 times */
    double t[2001];
    int reps = 0;
    double start = timer_now();
    while (reps < 2001 && (reps < 5 || timer_now() - start < 0.2)) {
        double t0 = timer_now();
        cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->M, g->N, g->K, 1.0f, A, lda, Bm, ldb, 0.0f,
                    C, g->N);
        t[reps++] = timer_now() - t0;
    }
    free(A), free(Bm), free(C);
    return median(t, reps);
}

/* seconds and multiply-adds of one step's products on a batch of B */
static double step_bound(const struct mlp *m, int B, double *madds)
{
    struct gemm g[3 * MLP_MAX_LAYERS];
    int n = step_gemms(m, B, g);
    double s = 0;
    *madds = 0;
    for (int i = 0; i < n; i++) {
        double t = time_gemm(&g[i]);
        if (t < 0)
            return -1;
        s += t;
        *madds += (double)g[i].M * g[i].N * g[i].K;
    }
    return s;
}

struct collect {
    double seconds[MAX_EPOCHS];
    int n;
    double accuracy;
};

static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct collect *c = ctx;
    c->seconds[c->n++] = s->seconds;
    c->accuracy = s->test.total ? (double)s->test.correct / (double)s->test.total : 0;
    return 0;
}

static int bench(const struct config *c, struct err *e)
{
    if (c->epochs < 1 || c->epochs > MAX_EPOCHS)
        return err_set(e, ERR_USAGE, "epochs: the benchmark runs 1 to %d", MAX_EPOCHS);
    struct dataset train_all, test_all;
    double t0 = timer_now();
    if (dataset_load(&train_all, c->train_images, c->train_labels, e))
        return e->code;
    if (dataset_load(&test_all, c->test_images, c->test_labels, e)) {
        dataset_free(&train_all);
        return e->code;
    }
    double load = timer_now() - t0;
    struct dataset train = train_all, test = test_all, val = dataset_slice(&train_all, 0, 0);
    if (c->limit_train > train.n || c->limit_test > test.n || c->val) {
        dataset_free(&train_all);
        dataset_free(&test_all);
        return err_set(e, ERR_USAGE, "limit_train, limit_test, val: at most the %u and %u "
                       "images there are, and no validation split", train.n, test.n);
    }
    if (c->limit_train)
        train = dataset_slice(&train_all, 0, (uint32_t)c->limit_train);
    if (c->limit_test)
        test = dataset_slice(&test_all, 0, (uint32_t)c->limit_test);
    openblas_set_num_threads((int)c->threads);
    struct trainer t;
    int rc = trainer_init(&t, c, &train, &val, &test, e);
    struct collect col = {0};
    if (!rc)
        rc = trainer_run(&t, on_epoch, &col, e);
    if (!rc) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        const int B = (int)c->batch_size;
        const uint32_t n = train.n, full = n / (uint32_t)B, rest = n % (uint32_t)B;
        double madds, madds_rest = 0;
        double bound = step_bound(t.model, B, &madds) * full;
        if (rest)
            bound += step_bound(t.model, (int)rest, &madds_rest);
        double gflop = 2 * (madds * full + madds_rest) * 1e-9;
        double epoch = median(col.seconds, col.n);
        printf("{\"hidden\":\"");
        for (int l = 0; l <= t.model->L; l++)
            printf(l ? "-%d" : "%d", t.model->size[l]);
        printf("\",\"head\":\"%s\",\"batch\":%d,\"threads\":%lld,\"n_train\":%u,"
               "\"epochs\":%d,\"load_seconds\":%.4f,\"epoch_seconds\":[",
               c->head == HEAD_SOFTMAX ? "softmax" : "sigmoid", B, c->threads, n, col.n, load);
        for (int i = 0; i < col.n; i++)
            printf(i ? ",%.6g" : "%.6g", col.seconds[i]);
        printf("],\"epoch_seconds_median\":%.6g,\"samples_per_second\":%.0f,"
               "\"gflop_per_epoch\":%.6g,\"gflops\":%.1f,\"bound_seconds\":%.6g,"
               "\"bound_fraction\":%.3f,\"peak_rss_mb\":%.1f,\"test_accuracy\":%.6g}\n",
               epoch, n / epoch, gflop, gflop / epoch, bound, bound / epoch,
               ru.ru_maxrss / 1024.0, col.accuracy);
        if (bound < 0)
            rc = err_set(e, ERR_SOFTWARE, "out of memory timing the sgemm bound");
    }
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
    int rc = config_from_args(&c, argc, argv, &action, NULL, &e);
    if (!rc && action == CONFIG_RUN)
        rc = bench(&c, &e);
    else if (!rc)
        rc = err_set(&e, ERR_USAGE, "bench takes train's flags for a training run only");
    if (rc)
        fprintf(stderr, "bench: %s\n", e.msg);
    return rc;
}
