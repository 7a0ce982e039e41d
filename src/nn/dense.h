/* dense: the fully connected layer, y = x W + b, on whole mini-batches through
 * CBLAS. Row-major: x is B x in, W is in x out, b is out, y is B x out. */
#ifndef DENSE_H
#define DENSE_H

void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int in,
                   int out);

/* From dy (B x out): dW = beta dW + x^T dy, db = beta db + column sums of dy
 * (beta 0: overwritten; momentum accumulates into its velocity this way), and
 * dx = dy W^T unless dx is NULL (the first layer needs no input gradient). */
void dense_backward(float *dx, float *dW, float *db, float beta, const float *dy,
                    const float *x, const float *W, int B, int in, int out);

#endif
