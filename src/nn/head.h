/* head: the output head, the ONE place where softmax and sigmoid differ.
 *
 *   softmax: p = softmax(z) over the K logits, loss = categorical cross-entropy
 *            -sum_k y_k log p_k, computed as y.lse(z) - y.z (log-sum-exp: no
 *            log(0), no overflow for logits of +-1000).
 *   sigmoid: p_k = sigmoid(z_k), K independent outputs, loss = binary
 *            cross-entropy sum_k max(z,0) - z y + log1p(exp(-|z|)), summed over
 *            the K outputs (reduction "sum") or averaged (reduction "mean", the
 *            Keras/PyTorch default, which scales the gradient by 1/K).
 *
 * For one-hot y both give the same gradient at the logits, (p - y) / B (and
 * (p - y) / (B K) for mean BCE): what differs is only how p is formed from z.
 * Prediction is argmax_k p_k for both. */
#ifndef HEAD_H
#define HEAD_H

enum head_kind { HEAD_SOFTMAX, HEAD_SIGMOID };
enum bce_reduction { BCE_SUM, BCE_MEAN };

struct head {
    enum head_kind kind;
    enum bce_reduction reduction;   /* sigmoid only */
};

/* P = the head's outputs for logits Z (B x K). */
void head_outputs(const struct head *h, float *P, const float *Z, int B, int K);

/* Fill P as above and return the per-sample loss summed over the batch, against
 * targets T (B x K; one-hot, or a distribution for softmax). When dZ is not
 * NULL it receives the gradient of the batch-mean loss with respect to Z. */
double head_loss(const struct head *h, float *P, float *dZ, const float *Z, const float *T,
                 int B, int K);

/* index of the largest of K outputs (the first one on ties) */
int head_argmax(const float *p, int K);

#endif
