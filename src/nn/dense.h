/* dense: the fully connected layer on oneDNN matmul primitives. Row-major: x is
 * B x in, W is in x out (the layout of the parameter block and model files),
 * b is out, y is B x out. The three products of a layer
 *
 *   forward           y  = f(x W + b)       bias and activation f fused as post-ops
 *   backward-data     dx = dy W^T           W read transposed in place
 *   backward-weights  dW = beta dW + x^T dy x read transposed; beta as a sum post-op
 *
 * run as primitives created once per batch size and kept in the layer (a small
 * cache keyed by B: the training batch, the last partial batch, the evaluation
 * batch), so a training step creates nothing. With bf16 precision x, W and dy
 * are bf16 and y, dx, dW, b stay fp32 (fp32 accumulation).
 *
 * Packed weights: the forward product is faster when W is in the blocked
 * layout oneDNN's kernel wants (16 rows x 64 columns per tile, row pairs
 * interleaved for bf16) than when it must repack plain row-major W inside
 * every call (figures: docs/performance.md). A layer made with `pack` keeps its own copy of
 * W in that layout, in the product's precision, and its forward product reads
 * that copy: whoever changes W writes it through dense_pack, row range by row
 * range, so the optimizer can refresh it in the same pass that updates W
 * (mlp.c). The layout is oneDNN's choice, read back from the primitive; the
 * copy is written through its offsets, so any layout oneDNN picks is packed
 * correctly, and the two it picks on AVX-512 machines take vectorised paths.
 * The backward-data product still reads plain W (fp32 master, or mlp's plain
 * bf16 copy): a transposed packed copy would cost a transpose per step.
 *
 * A product of fewer than DENSE_SERIAL_MACS multiply-adds (an output layer of
 * 10 units on a training batch) is made for one thread: oneDNN then runs it
 * without an OpenMP parallel region, whose fork and join cost more than
 * splitting a few microseconds of work saves. Only where the work is cut
 * changes, not the order of any sum: the products give the same bits on one
 * thread as on several (tests/test_dense.c). */
#ifndef DENSE_H
#define DENSE_H

#include "act.h"
#include "onednn.h"

#define DENSE_CACHE 8   /* batch sizes kept per layer; the oldest goes first */
/* a few microseconds of one core's work: less than an OpenMP fork and join */
#define DENSE_SERIAL_MACS 600000.0
/* fp32 layers of at least this many weights pack (bf16 layers always do):
 * below it oneDNN's own repack is cheap (the weights stay in L2) and the copy
 * would cost about what it saves (docs/performance.md) */
#define DENSE_PACK_F32_MIN 500000.0

struct dense_shape {
    int B;                              /* 0: free slot */
    float beta;                         /* of bwd_weights */
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_memory_t mem[11];              /* the arguments, handles set per call */
};

struct dense {
    int in, out;
    int act;                            /* enum act, or -1: none (the output layer) */
    enum precision precision;
    const struct onednn *dnn;
    struct dense_shape shape[DENSE_CACHE];
    int next;                           /* the slot to reuse when all are taken */
    char impl[3][64];                   /* oneDNN's implementation name of each product */
    /* packing (NULL/0 when the layer does not pack) */
    void *packed;                       /* W in wmd's layout, in the product's precision */
    dnnl_memory_desc_t wmd;
    size_t *row_at, *col_at;            /* element offset of W[k][n]: row_at[k] + col_at[n] */
    int run, pairs;                     /* columns contiguous in runs of `run` (0: no);
                                           pairs: rows 2i, 2i+1 interleaved (bf16) */
};

/* whether a layer of in x out weights in precision p should pack (see above) */
int dense_should_pack(int in, int out, enum precision p);

/* the bytes of a packing layer's copy of its in x out weights */
double dense_packed_bytes(int in, int out, enum precision p);

/* 0, or an error (out of memory, or oneDNN cannot make the product) */
int dense_init(struct dense *d, const struct onednn *dnn, int in, int out, int act,
               enum precision p, int pack, struct err *e);
void dense_free(struct dense *d);   /* accepts a zeroed layer */

/* Write rows [k0, k1) of W (in x out, row-major fp32) into the packed copy.
 * With bf16, k0 must be even (rows go in pairs); the range may end anywhere.
 * Disjoint ranges may be packed by different threads at once. Does nothing
 * for a layer that does not pack. */
void dense_pack(struct dense *d, const float *W, int k0, int k1);

/* Create (and cache) the primitives for batch size B: the forward one, and
 * with backward also both backward ones (backward-weights with this beta). */
int dense_prepare(struct dense *d, int B, int backward, float beta, struct err *e);

/* the threads the products of a batch of B run on: 1 below
 * DENSE_SERIAL_MACS, else the OpenMP team (omp_get_max_threads()) */
int dense_threads(const struct dense *d, int B);

/* x and W are float or, with bf16, bf16; b and y float. A packing layer
 * ignores W and reads its packed copy. */
int dense_forward(struct dense *d, float *y, const void *x, const void *W, const float *b, int B,
                  struct err *e);
/* dy and W as the precision says; dx float */
int dense_backward_data(struct dense *d, float *dx, const void *dy, const void *W, int B,
                        struct err *e);
/* x and dy as the precision says; dW float: dW = beta dW + x^T dy (beta 0:
 * overwritten, whatever dW held) */
int dense_backward_weights(struct dense *d, float *dW, const void *x, const void *dy,
                           float beta, int B, struct err *e);

#endif
