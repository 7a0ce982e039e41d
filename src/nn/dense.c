#include "dense.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"

enum { F_SRC, F_WEI, F_BIAS, F_DST, D_SRC, D_WEI, D_DST, W_SRC, W_WEI, W_DST, N_MEM };

static dnnl_memory_desc_t matrix(int rows, int cols, dnnl_data_type_t t, int transposed);

static dnnl_data_type_t operand_type(const struct dense *d)
{
    return d->precision == PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
}

int dense_should_pack(int in, int out, enum precision p)
{
    return p == PRECISION_BF16 || (double)in * out >= DENSE_PACK_F32_MIN;
}

double dense_packed_bytes(int in, int out, enum precision p)
{
    /* oneDNN's blocked layout pads rows to 16, or 32 bf16 row pairs, and
     * columns to 64 */
    return (p == PRECISION_BF16 ? 2.0 : 4.0) * ceil(in / 32.0) * 32 * ceil(out / 64.0) * 64;
}

/* Element offset of coordinate x of dimension dim in a blocked layout: the
 * outer block times its stride, plus the place inside the inner blocks (the
 * innermost block varies fastest). A 2-D offset is the sum of its two
 * dimensions' parts, which is what row_at and col_at tabulate. */
static size_t dim_offset(const dnnl_memory_desc_t *md, int dim, dnnl_dim_t x)
{
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    dnnl_dim_t block = 1, step = 1;
    for (int j = 0; j < b->inner_nblks; j++)
        if (b->inner_idxs[j] == dim)
            block *= b->inner_blks[j];
    size_t at = (size_t)(x / block * b->strides[dim]);
    dnnl_dim_t rest = x % block;
    for (int j = b->inner_nblks - 1; j >= 0; j--) {
        if (b->inner_idxs[j] == dim) {
            at += (size_t)(rest % b->inner_blks[j] * step);
            rest /= b->inner_blks[j];
        }
        step *= b->inner_blks[j];
    }
    return at;
}

/* The layout oneDNN's forward kernel wants for W, the offset tables, and
 * which fast path of dense_pack fits it. */
static int choose_layout(struct dense *d, struct err *e)
{
    const dnnl_data_type_t t = operand_type(d);
    dnnl_memory_desc_t src = matrix(64, d->in, t, 0), dst = matrix(64, d->out, dnnl_f32, 0), wei;
    dnnl_dims_t dims = {d->in, d->out};
    dnnl_matmul_desc_t desc;
    dnnl_primitive_desc_t pd = NULL;
    int rc = onednn_check(dnnl_memory_desc_init_by_tag(&wei, 2, dims, t, dnnl_format_tag_any),
                          "choosing the weights' layout", e) ||
             onednn_check(dnnl_matmul_desc_init(&desc, &src, &wei, NULL, &dst),
                          "choosing the weights' layout", e) ||
             onednn_check(dnnl_primitive_desc_create(&pd, &desc, NULL, d->dnn->engine, NULL),
                          "choosing the weights' layout", e);
    if (rc)
        return e->code;
    d->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    if (d->wmd.format_kind != dnnl_blocked || d->wmd.ndims != 2 || d->wmd.offset0 != 0)
        return err_set(e, ERR_SOFTWARE, "oneDNN: the weights' layout it chose is not blocked");
    size_t size = dnnl_memory_desc_get_size(&d->wmd), align = 64;
    d->packed = aligned_alloc(align, (size + align - 1) / align * align);
    d->row_at = malloc(sizeof(size_t) * (size_t)d->in);
    d->col_at = malloc(sizeof(size_t) * (size_t)d->out);
    if (!d->packed || !d->row_at || !d->col_at)
        return err_set(e, ERR_SOFTWARE, "out of memory for packed weights");
    memset(d->packed, 0, size);   /* the padding oneDNN reads must be zero */
    for (int k = 0; k < d->in; k++)
        d->row_at[k] = dim_offset(&d->wmd, 0, k);
    for (int n = 0; n < d->out; n++)
        d->col_at[n] = dim_offset(&d->wmd, 1, n);
    /* fast paths: columns contiguous (fp32) or a row pair apart (bf16 pairs)
     * in runs; anything else goes element by element */
    int pairs = t == dnnl_bf16;
    for (int k = 0; pairs && k + 1 < d->in; k += 2)
        pairs = d->row_at[k + 1] == d->row_at[k] + 1 && d->row_at[k] % 2 == 0;
    const size_t gap = pairs ? 2 : 1;
    int run = d->out;
    for (int n = 1; n < d->out; n++)
        if (d->col_at[n] != d->col_at[n - 1] + gap) {
            run = n;
            break;
        }
    for (int n = 1; n < d->out && run; n++)
        if (n % run != 0 && d->col_at[n] != d->col_at[n - 1] + gap)
            run = 0;
    for (int n = 0; n < d->out && run && pairs; n += run)
        if (d->col_at[n] % 2 != 0)
            run = 0;
    d->run = run;
    d->pairs = pairs && run;
    return 0;
}

int dense_init(struct dense *d, const struct onednn *dnn, int in, int out, int act,
               enum precision p, int pack, struct err *e)
{
    memset(d, 0, sizeof *d);
    d->dnn = dnn;
    d->in = in;
    d->out = out;
    d->act = act;
    d->precision = p;
    if (pack && choose_layout(d, e)) {
        dense_free(d);
        return e->code;
    }
    return 0;
}

void dense_pack(struct dense *d, const float *W, int k0, int k1)
{
    if (!d->packed)
        return;
    const int out = d->out, run = d->run;
    if (d->precision == PRECISION_FP32) {
        float *P = d->packed;
        for (int k = k0; k < k1; k++) {
            const float *w = W + (size_t)k * out;
            float *p = P + d->row_at[k];
            if (run)
                for (int n0 = 0; n0 < out; n0 += run)
                    memcpy(p + d->col_at[n0], w + n0,
                           sizeof(float) * (size_t)(out - n0 < run ? out - n0 : run));
            else
                for (int n = 0; n < out; n++)
                    p[d->col_at[n]] = w[n];
        }
        return;
    }
    bf16 *P = d->packed;
    int k = k0;
    if (d->pairs)
        for (; k + 1 < k1; k += 2) {
            const float *w0 = W + (size_t)k * out, *w1 = w0 + out;
            for (int n0 = 0; n0 < out; n0 += run) {
                bf16 *q = P + d->row_at[k] + d->col_at[n0];
                const int len = out - n0 < run ? out - n0 : run;
                for (int j = 0; j < len; j++) {
                    q[2 * j] = bf16_from(w0[n0 + j]);
                    q[2 * j + 1] = bf16_from(w1[n0 + j]);
                }
            }
        }
    for (; k < k1; k++) {   /* no pairs, or the last row of the range alone */
        const float *w = W + (size_t)k * out;
        bf16 *p = P + d->row_at[k];
        for (int n = 0; n < out; n++)
            p[d->col_at[n]] = bf16_from(w[n]);
    }
}

static void shape_free(struct dense_shape *s)
{
    if (s->fwd)
        dnnl_primitive_destroy(s->fwd);
    if (s->bwd_data)
        dnnl_primitive_destroy(s->bwd_data);
    if (s->bwd_weights)
        dnnl_primitive_destroy(s->bwd_weights);
    for (int i = 0; i < N_MEM; i++)
        if (s->mem[i])
            dnnl_memory_destroy(s->mem[i]);
    memset(s, 0, sizeof *s);
}

void dense_free(struct dense *d)
{
    for (int i = 0; i < DENSE_CACHE; i++)
        shape_free(&d->shape[i]);
    free(d->packed);
    free(d->row_at);
    free(d->col_at);
    d->packed = NULL;
    d->row_at = d->col_at = NULL;
}

/* a rows x cols matrix, row-major, or its transpose read in place */
static dnnl_memory_desc_t matrix(int rows, int cols, dnnl_data_type_t t, int transposed)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {transposed ? 1 : cols, transposed ? rows : 1};
    dnnl_memory_desc_init_by_strides(&md, 2, dims, t, strides);
    return md;
}

static dnnl_alg_kind_t eltwise_alg(int act)
{
    switch (act) {
    case ACT_RELU: return dnnl_eltwise_relu;
    case ACT_TANH:
    case ACT_SCALED_TANH: return dnnl_eltwise_tanh;
    default: return dnnl_eltwise_logistic;
    }
}

/* attributes: an eltwise post-op (act >= 0), a sum post-op (sum != 0) */
static int make_attr(dnnl_primitive_attr_t *attr, int act, float sum, struct err *e)
{
    dnnl_post_ops_t po = NULL;
    int rc = onednn_check(dnnl_primitive_attr_create(attr), "creating attributes", e) ||
             onednn_check(dnnl_post_ops_create(&po), "creating post-ops", e);
    if (!rc && sum != 0)
        rc = onednn_check(dnnl_post_ops_append_sum(po, sum), "adding a sum post-op", e);
    /* scaled-tanh A tanh(B x): a linear post-op B x, then tanh with output scale A */
    if (!rc && act == ACT_SCALED_TANH)
        rc = onednn_check(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear,
                                                       ACT_STANH_B, 0.0f),
                          "adding an activation post-op", e);
    if (!rc && act >= 0)
        rc = onednn_check(dnnl_post_ops_append_eltwise(po, act == ACT_SCALED_TANH ? ACT_STANH_A
                                                                                  : 1.0f,
                                                       eltwise_alg(act), 0.0f, 0.0f),
                          "adding an activation post-op", e);
    if (!rc)
        rc = onednn_check(dnnl_primitive_attr_set_post_ops(*attr, po), "setting post-ops", e);
    if (po)
        dnnl_post_ops_destroy(po);
    return rc ? e->code : 0;
}

/* one matmul primitive and the memory objects of its arguments (no buffers
 * yet: handles are set at each execution) */
static int make_primitive(const struct dense *d, dnnl_primitive_t *prim, dnnl_memory_t *mem,
                          const dnnl_memory_desc_t *md, int n_md, int act, float sum, char *impl,
                          const char *what, struct err *e)
{
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    const dnnl_memory_desc_t *bias = n_md == 4 ? &md[2] : NULL;
    int rc = onednn_check(dnnl_matmul_desc_init(&desc, &md[0], &md[1], bias, &md[n_md - 1]),
                          what, e) ||
             make_attr(&attr, act, sum, e) ||
             onednn_check(dnnl_primitive_desc_create(&pd, &desc, attr, d->dnn->engine, NULL),
                          what, e) ||
             onednn_check(dnnl_primitive_create(prim, pd), what, e);
    const char *name = NULL;
    if (!rc && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) ==
                   dnnl_success && name)
        snprintf(impl, 64, "%s", name);
    for (int i = 0; !rc && i < n_md; i++)
        rc = onednn_check(dnnl_memory_create(&mem[i], &md[i], d->dnn->engine, DNNL_MEMORY_NONE),
                          what, e);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc ? e->code : 0;
}

/* make_primitive for a batch of B. oneDNN fixes a primitive's thread
 * count when it is made, from omp_get_max_threads(): a small product is made
 * with the team limited to one thread (dense.h). */
static int make_matmul(const struct dense *d, int B, dnnl_primitive_t *prim, dnnl_memory_t *mem,
                       const dnnl_memory_desc_t *md, int n_md, int act, float sum, char *impl,
                       const char *what, struct err *e)
{
    const int threads = omp_get_max_threads(), want = dense_threads(d, B);
    if (want != threads)
        omp_set_num_threads(want);
    int rc = make_primitive(d, prim, mem, md, n_md, act, sum, impl, what, e);
    if (want != threads)
        omp_set_num_threads(threads);
    return rc;
}

int dense_threads(const struct dense *d, int B)
{
    return (double)B * d->in * d->out < DENSE_SERIAL_MACS ? 1 : omp_get_max_threads();
}

static struct dense_shape *find(struct dense *d, int B)
{
    for (int i = 0; i < DENSE_CACHE; i++)
        if (d->shape[i].B == B)
            return &d->shape[i];
    struct dense_shape *s = &d->shape[d->next];
    d->next = (d->next + 1) % DENSE_CACHE;
    shape_free(s);
    s->B = B;
    return s;
}

static int make_forward(struct dense *d, struct dense_shape *s, struct err *e)
{
    dnnl_data_type_t t = operand_type(d);
    dnnl_memory_desc_t md[4] = {matrix(s->B, d->in, t, 0),
                                d->packed ? d->wmd : matrix(d->in, d->out, t, 0),
                                matrix(1, d->out, dnnl_f32, 0), matrix(s->B, d->out, dnnl_f32, 0)};
    return make_matmul(d, s->B, &s->fwd, &s->mem[F_SRC], md, 4, d->act, 0, d->impl[0],
                       "dense forward", e);
}

static int make_backward_data(struct dense *d, struct dense_shape *s, struct err *e)
{
    dnnl_data_type_t t = operand_type(d);
    dnnl_memory_desc_t md[3] = {matrix(s->B, d->out, t, 0), matrix(d->out, d->in, t, 1),
                                matrix(s->B, d->in, dnnl_f32, 0)};
    return make_matmul(d, s->B, &s->bwd_data, &s->mem[D_SRC], md, 3, -1, 0, d->impl[1],
                       "dense backward-data", e);
}

static int make_backward_weights(struct dense *d, struct dense_shape *s, float beta,
                                 struct err *e)
{
    dnnl_data_type_t t = operand_type(d);
    dnnl_memory_desc_t md[3] = {matrix(d->in, s->B, t, 1), matrix(s->B, d->out, t, 0),
                                matrix(d->in, d->out, dnnl_f32, 0)};
    if (s->bwd_weights) {
        dnnl_primitive_destroy(s->bwd_weights);
        for (int i = W_SRC; i <= W_DST; i++)
            dnnl_memory_destroy(s->mem[i]);
        s->bwd_weights = NULL;
        memset(&s->mem[W_SRC], 0, sizeof(dnnl_memory_t) * 3);
    }
    s->beta = beta;
    return make_matmul(d, s->B, &s->bwd_weights, &s->mem[W_SRC], md, 3, -1, beta, d->impl[2],
                       "dense backward-weights", e);
}

int dense_prepare(struct dense *d, int B, int backward, float beta, struct err *e)
{
    struct dense_shape *s = find(d, B);
    if (!s->fwd && make_forward(d, s, e))
        return e->code;
    if (backward && !s->bwd_data && make_backward_data(d, s, e))
        return e->code;
    if (backward && (!s->bwd_weights || s->beta != beta) && make_backward_weights(d, s, beta, e))
        return e->code;
    return 0;
}

static int run(const struct dense *d, dnnl_primitive_t p, dnnl_memory_t *mem, const int *arg,
               void *const *ptr, int n, const char *what, struct err *e)
{
    dnnl_exec_arg_t args[4];
    for (int i = 0; i < n; i++) {
        if (onednn_check(dnnl_memory_set_data_handle(mem[i], ptr[i]), what, e))
            return e->code;
        args[i] = (dnnl_exec_arg_t){arg[i], mem[i]};
    }
    return onednn_check(dnnl_primitive_execute(p, d->dnn->stream, n, args), what, e);
}

int dense_forward(struct dense *d, float *y, const void *x, const void *W, const float *b, int B,
                  struct err *e)
{
    struct dense_shape *s = find(d, B);
    if (!s->fwd && make_forward(d, s, e))
        return e->code;
    static const int arg[4] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    void *const ptr[4] = {(void *)x, d->packed ? d->packed : (void *)W, (void *)b, y};
    return run(d, s->fwd, &s->mem[F_SRC], arg, ptr, 4, "dense forward", e);
}

int dense_backward_data(struct dense *d, float *dx, const void *dy, const void *W, int B,
                        struct err *e)
{
    struct dense_shape *s = find(d, B);
    if (!s->fwd && make_forward(d, s, e))
        return e->code;
    if (!s->bwd_data && make_backward_data(d, s, e))
        return e->code;
    static const int arg[3] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    void *const ptr[3] = {(void *)dy, (void *)W, dx};
    return run(d, s->bwd_data, &s->mem[D_SRC], arg, ptr, 3, "dense backward-data", e);
}

int dense_backward_weights(struct dense *d, float *dW, const void *x, const void *dy,
                           float beta, int B, struct err *e)
{
    struct dense_shape *s = find(d, B);
    if (!s->fwd && make_forward(d, s, e))
        return e->code;
    if ((!s->bwd_weights || s->beta != beta) && make_backward_weights(d, s, beta, e))
        return e->code;
    static const int arg[3] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    void *const ptr[3] = {(void *)x, (void *)dy, dW};
    return run(d, s->bwd_weights, &s->mem[W_SRC], arg, ptr, 3, "dense backward-weights", e);
}
