#include "outstats.h"
#include "outstats_testing.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* The bin of confidence c: clamped while still a double, so the conversion
 * to int only ever sees a value in [0, bins); -1 for NaN, which has no bin. */
static int bin_of(double c, int bins)
{
    if (isnan(c))
        return -1;
    double x = c * bins;
    if (!(x >= 0))
        return 0;
    if (x >= bins)
        return bins - 1;   /* confidence 1.0 goes in the top bin */
    return (int)x;
}

/* Expected calibration error, accumulated one sample at a time, so that the
 * report needs no per-image buffers. */
struct ece {
    double sum_conf[64], sum_right[64];
    long long count[64], n;
    int bins;
    bool undefined;   /* a NaN confidence was seen */
};

static void ece_init(struct ece *a, int bins)
{
    memset(a, 0, sizeof *a);
    a->bins = bins > 64 ? 64 : bins;
}

static void ece_add(struct ece *a, double conf, int right)
{
    int b = a->bins < 1 ? -1 : bin_of(conf, a->bins);
    if (b < 0) {
        a->undefined = true;
        return;
    }
    a->sum_conf[b] += conf;
    a->sum_right[b] += right;
    a->count[b]++;
    a->n++;
}

static double ece_value(const struct ece *a)
{
    if (a->undefined || a->bins < 1)
        return NAN;   /* an undefined confidence makes the calibration undefined */
    double ece = 0;
    for (int b = 0; b < a->bins; b++)
        if (a->count[b])
            ece += fabs(a->sum_right[b] - a->sum_conf[b]) / (double)a->n;
    return ece;
}

double outstats_ece(const float *conf, const uint8_t *correct, long long n, int bins)
{
    struct ece a;
    ece_init(&a, bins);
    for (long long i = 0; i < n; i++)
        ece_add(&a, conf[i], correct[i]);
    return ece_value(&a);
}

static double ratio(long long num, long long den) { return den ? (double)num / (double)den : 0; }

void outstats_class_figures(struct class_figures *f,
                            const long long confusion[DATASET_CLASSES][DATASET_CLASSES],
                            int K)
{
    memset(f, 0, sizeof *f);
    f->K = K;
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < K; j++) {
            if (j == k)
                continue;
            f->fp[k] += confusion[j][k];
            f->fn[k] += confusion[k][j];
        }
        f->tp[k] = confusion[k][k];
        f->precision[k] = ratio(f->tp[k], f->tp[k] + f->fp[k]);
        f->recall[k] = ratio(f->tp[k], f->tp[k] + f->fn[k]);
        f->f1[k] = ratio(2 * f->tp[k], 2 * f->tp[k] + f->fp[k] + f->fn[k]);
        f->macro_precision += f->precision[k];
        f->macro_recall += f->recall[k];
        f->macro_f1 += f->f1[k];
    }
    if (K) {
        f->macro_precision /= K;
        f->macro_recall /= K;
        f->macro_f1 /= K;
    }
}

void outstats_compute(struct outstats *m, const float *P, const int *pred, const uint8_t *y,
                     long long n, int K)
{
    memset(m, 0, sizeof *m);
    m->K = K;
    m->n = n;
    struct ece calibration;
    ece_init(&calibration, OUTSTATS_ECE_BINS);
    double mean = 0, m2 = 0, top_right = 0, top_wrong = 0;
    long long one = 0, none = 0, multi = 0, strict = 0, class_n[DATASET_CLASSES] = {0};
    long long outputs_right = 0;   /* Keras's binary accuracy, summed over images x outputs */
    for (long long i = 0; i < n; i++) {
        const float *p = P + i * K;
        double sum = 0;
        int above = 0;
        for (int k = 0; k < K; k++) {
            sum += p[k];
            above += p[k] > 0.5f;
            outputs_right += (p[k] > 0.5f) == (k == y[i]);
        }
        /* Welford: the sums are all close to 1 for softmax, where the naive
         * E[x^2] - E[x]^2 would cancel to noise */
        double d = sum - mean;
        mean += d / (double)(i + 1);
        m2 += d * (sum - mean);
        one += above == 1;
        none += above == 0;
        multi += above >= 2;
        strict += above == 1 && p[y[i]] > 0.5f;
        const int right = pred[i] == y[i];
        const float top = p[pred[i]];
        ece_add(&calibration, top, right);
        m->correct += right;
        if (right)
            top_right += top;
        else
            top_wrong += top;
        m->confusion[y[i]][pred[i]]++;
        class_n[y[i]]++;
    }
    double dn = n ? (double)n : 1;
    m->sum_mean = mean;
    m->sum_std = sqrt(m2 / dn);
    m->share_one = one / dn;
    m->share_none = none / dn;
    m->share_multi = multi / dn;
    m->strict_accuracy = strict / dn;
    m->keras_binary_accuracy = n && K ? (double)outputs_right / ((double)n * K) : 0;
    m->ece = ece_value(&calibration);
    m->top_mean_correct = m->correct ? top_right / (double)m->correct : 0;
    m->top_mean_wrong = n - m->correct ? top_wrong / (double)(n - m->correct) : 0;
    for (int k = 0; k < K; k++)
        m->per_class_accuracy[k] = class_n[k] ? (double)m->confusion[k][k] / class_n[k] : 0;
    outstats_class_figures(&m->classes, (const long long(*)[DATASET_CLASSES])m->confusion, K);
}
