/* head: the output head, the ONE place where softmax and sigmoid differ.
 * Everything a head decides is here and nowhere else: how many outputs a
 * question needs, the target vector of an answer, the outputs p formed from
 * the logits z, the loss with its gradient, and how an answer is read back
 * from the logits. Tasks (train/task.c) only say what the question is.
 *
 *   softmax: p = softmax(z) over the K logits, loss = categorical cross-entropy
 *            -sum_k y_k log p_k, computed as y.lse(z) - y.z (log-sum-exp: no
 *            log(0), no overflow for logits of +-1000).
 *   sigmoid: p_k = sigmoid(z_k), K independent outputs; its loss is one of
 *            HEAD_LOSSES:
 *            bce       binary cross-entropy from the logits,
 *                      sum_k max(z,0) - z y + log1p(exp(-|z|)), summed over the
 *                      K outputs;
 *            bce-mean  the same averaged over the K outputs (the Keras/PyTorch
 *                      default, which scales the gradient by 1/K);
 *            squared   Nielsen ch. 1's quadratic cost 1/2 sum_k (p_k - y_k)^2,
 *                      gradient (p - y) p (1 - p) at the logits;
 *            keras-cce categorical cross-entropy on sigmoid outputs as Keras
 *                      computes it: q = p / sum p, clipped to [1e-7, 1 - 1e-7],
 *                      loss -sum_k y_k log q_k (the clip's gradient is zero
 *                      outside it, as in Keras).
 *   "cce" is softmax's loss and only softmax's; "auto" (the option's default)
 *   is cce for softmax, bce for sigmoid (head_resolve_loss).

 * For one-hot y softmax + cce and sigmoid + bce give the same gradient at the
 * logits, (p - y) / B (and (p - y) / (B K) for bce-mean): what differs is only
 * how p is formed from z.
 *
 * Questions a task asks (n classes or labels, at most 32):
 *   HEAD_ONE_OF  the answer is one class c of n. Targets one-hot; prediction
 *                argmax_k z_k (the first on ties). A sigmoid head answers a
 *                two-class question with ONE output, p = P(class 1), and
 *                predicts class 1 when z > 0; softmax keeps two outputs
 *                (softmax over (z, 0) is exactly sigmoid(z): the same model).
 *   HEAD_ANY_OF  the answer is a subset of n labels. Sigmoid: multi-hot
 *                target, predicts every label with z > 0 (p > 0.5). Softmax:
 *                the multi-hot target normalised to sum 1, predicts the top k
 *                outputs, k = the size of the true set (so softmax is told the
 *                count; sigmoid is not).
 *
 * To add a loss: a row function and its entry in LOSSES[] in head.c, and its
 * name in HEAD_LOSSES below (the `loss` option lists these names). To add a
 * head: its name in HEAD_KINDS and its cases in head.c; nothing outside. */
#ifndef HEAD_H
#define HEAD_H

#include "../util/enum_names.h"

#define HEAD_KINDS(X) X(HEAD_SOFTMAX, "softmax") X(HEAD_SIGMOID, "sigmoid")
enum head_kind { HEAD_KINDS(ENUM_ID) };
enum { N_HEAD_KINDS = 0 HEAD_KINDS(ENUM_COUNT) };

/* the head's loss; the names are the values of the `loss` option. AUTO is
 * only a setting, never a resolved head's loss. */
#define HEAD_LOSSES(X)                                                                   \
    X(HEAD_LOSS_AUTO, "auto") X(HEAD_CCE, "cce") X(HEAD_BCE_SUM, "bce")                  \
    X(HEAD_BCE_MEAN, "bce-mean") X(HEAD_SQUARED, "squared") X(HEAD_KERAS_CCE, "keras-cce")
enum head_loss { HEAD_LOSSES(ENUM_ID) };
enum { N_HEAD_LOSSES = 0 HEAD_LOSSES(ENUM_COUNT) };

struct head {
    enum head_kind kind;
    enum head_loss loss;            /* resolved: never HEAD_LOSS_AUTO */
};

/* The loss a head of `kind` trains with, for the `loss` setting `asked`; -1
 * when the two do not go together (*why then says why, naming the keys). */
int head_resolve_loss(enum head_kind kind, enum head_loss asked, const char **why);

enum head_question { HEAD_ONE_OF, HEAD_ANY_OF };

/* NULL when a head of h's kind and loss can learn to answer q over n; else
 * why not (keras-cce on a head of one output: p / p is always 1) */
const char *head_cannot_learn(const struct head *h, enum head_question q, int n);

/* outputs the head needs to answer q over n classes or labels */
int head_n_outputs(const struct head *h, enum head_question q, int n);

/* t (head_n_outputs floats) = the target for the answer `truth`, a bit set of
 * classes or labels (exactly one bit for HEAD_ONE_OF) */
void head_target(const struct head *h, enum head_question q, int n, unsigned truth, float *t);

/* The answer read from one sample's logits z, as a bit set. k: the number of
 * labels in the true answer (HEAD_ANY_OF under softmax only; else ignored). */
unsigned head_predict(const struct head *h, enum head_question q, int n, const float *z, int k);

/* P = the head's outputs for logits Z (B x K). */
void head_outputs(const struct head *h, float *P, const float *Z, int B, int K);

/* Fill P as above and return the per-sample loss summed over the batch, against
 * targets T (B x K; as head_target makes them, or any distribution for
 * softmax). When dZ is not NULL it receives the gradient of the batch-mean
 * loss with respect to Z. */
double head_loss(const struct head *h, float *P, float *dZ, const float *Z, const float *T,
                 int B, int K);

/* index of the largest of K outputs (the first one on ties) */
int head_argmax(const float *p, int K);

#endif
