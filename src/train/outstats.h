/* outstats: the output statistics, what a trained classifier's test-set outputs look like, for the head
 * report: confusion matrix, the sum of the outputs (exactly 1 for softmax, free
 * for sigmoid), how many outputs pass 0.5 ("strict" multi-label reading), and
 * calibration of the top output, and the "binary accuracy" Keras reports.
 *
 * keras_binary_accuracy: what Keras 1.0.6 to 2.3 printed as "accuracy" for a
 * model compiled with loss='binary_crossentropy', metrics=['accuracy']:
 * mean(equal(y_true, round(y_pred))) over every image AND every output, i.e.
 * the mean over images and the K outputs of [p_k > 0.5] == y_k (one-hot y;
 * round(0.5) is 0, half to even). Nine of ten outputs are "right" by saying
 * no, so a 97% classifier whose wrong answers each miss two outputs reads
 * (0.97 + 0.03 * 0.8) = 99.4%. It is not an accuracy of the classifier. */
#ifndef OUTSTATS_H
#define OUTSTATS_H

#include <stdint.h>

#include "../data/dataset.h"

#define OUTSTATS_ECE_BINS 15

/* Per-class figures from a confusion matrix [true][predicted], integers
 * first: tp = the diagonal, fp = the rest of the column (predicted k, another
 * class true), fn = the rest of the row (true k, another predicted).
 * precision = tp/(tp+fp), recall = tp/(tp+fn), F1 = 2tp/(2tp+fp+fn): each 0
 * where its denominator is 0 (no prediction of k, no image of k). The macro
 * figures are the plain means over the K classes. */
struct class_figures {
    int K;
    long long tp[DATASET_CLASSES], fp[DATASET_CLASSES], fn[DATASET_CLASSES];
    double precision[DATASET_CLASSES], recall[DATASET_CLASSES], f1[DATASET_CLASSES];
    double macro_precision, macro_recall, macro_f1;
};

void outstats_class_figures(struct class_figures *f,
                            const long long confusion[DATASET_CLASSES][DATASET_CLASSES],
                            int K);

struct outstats {
    int K;
    long long n, correct;
    long long confusion[DATASET_CLASSES][DATASET_CLASSES];   /* [true][predicted] */
    double per_class_accuracy[DATASET_CLASSES];
    double sum_mean, sum_std;              /* of the K outputs of each image */
    double share_one, share_none, share_multi;   /* images with 1, 0, >= 2 outputs > 0.5 */
    double strict_accuracy;                /* outputs > 0.5 are exactly {true class} */
    double keras_binary_accuracy;          /* per-output correctness, see above */
    double ece;                            /* expected calibration error of the top output */
    double top_mean_correct, top_mean_wrong;
    struct class_figures classes;          /* from confusion */
};

/* P: n x K outputs; pred: predicted classes (argmax of the logits); y: labels */
void outstats_compute(struct outstats *m, const float *P, const int *pred, const uint8_t *y,
                     long long n, int K);


#endif
