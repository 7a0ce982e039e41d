#include "dense.h"

#include <cblas.h>
#include <string.h>

void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int in,
                   int out)
{
    /* start from the bias in every row, then accumulate x W on top (beta = 1) */
    for (int i = 0; i < B; i++)
        memcpy(y + (size_t)i * out, b, sizeof(float) * (size_t)out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in, 1.0f, x, in, W, out,
                1.0f, y, out);
}

void dense_backward(float *dx, float *dW, float *db, float beta, const float *dy,
                    const float *x, const float *W, int B, int in, int out)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B, 1.0f, x, in, dy, out,
                beta, dW, out);
    if (beta == 0)
        memset(db, 0, sizeof(float) * (size_t)out);
    else
        for (int j = 0; j < out; j++)
            db[j] *= beta;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < out; j++)
            db[j] += dy[(size_t)i * out + j];
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out, 1.0f, dy, out, W,
                    out, 0.0f, dx, in);
}
