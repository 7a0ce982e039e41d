/* smooth: the Gaussian smoothing of the elastic field. One fast smoother for
 * images up to DENSE_MAX on a side (MNIST's), F -> Kr F Kc^T as two dense
 * products, and one plain scalar smoother, tap by tap, for larger images;
 * the tests hold the fast one to the plain one. */
#include <math.h>

#include "distort_testing.h"
#include "distort_work.h"
#include "vec16.h"

/* Mirror boundary ("d c b a | a b c d | d c b a", scipy's 'reflect'), repeated
 * when the kernel is wider than the image. Zero padding would shrink the field
 * towards the border and bend a constant; mirroring keeps a constant constant
 * and needs no extra random draws (a noise canvas padded by the radius, the
 * only boundary-free choice, would draw 3.4 times the numbers at sigma 4). */
static int mirror(int i, int n)
{
    int m = i % (2 * n);
    if (m < 0)
        m += 2 * n;
    return m < n ? m : 2 * n - 1 - m;
}

/* K[i][k] (n x n) = the weight of value k in output i of the 1-D smoothing
 * of n values: the sum of the taps whose mirrored position is k */
static void fold_kernel(double K[DENSE_MAX][DENSE_MAX], int n, const double *g, int r)
{
    memset(K, 0, sizeof(double) * DENSE_MAX * DENSE_MAX);
    for (int i = 0; i < n; i++)
        for (int m = -r; m <= r; m++)
            K[i][mirror(i + m, n)] += g[m + r];
}

/* The mirror makes K centrosymmetric, K[n-1-i][n-1-k] = K[i][k], so with
 * s = v[k] + v[n-1-k] and d = v[k] - v[n-1-k], k < h = ceil(n/2) (the middle
 * one of an odd n paired with 0), output i of K v is P + Q and output n-1-i
 * is P - Q, P = sum of sym[i][k] s, Q = sum of anti[i][k] d, i < h: half the
 * multiplications. sym = (K[i][k] + K[i][n-1-k]) / 2, anti the difference
 * (0 at an odd n's middle k). Row i of sym at i*ld, column k at k*step. */
static void split_kernel(float *sym, float *anti, size_t ld, size_t step, int n,
                         const double *g, int r)
{
    double Kl[DENSE_MAX][DENSE_MAX];
    fold_kernel(Kl, n, g, r);
    const int h = (n + 1) / 2;
    for (int i = 0; i < h; i++)
        for (int c = 0; c < h; c++) {
            sym[(size_t)i * ld + (size_t)c * step] = (float)((Kl[i][c] + Kl[i][n - 1 - c]) / 2);
            anti[(size_t)i * ld + (size_t)c * step] = (float)((Kl[i][c] - Kl[i][n - 1 - c]) / 2);
        }
}

static int make_dense(struct distort *w, const double *g)
{
    const int hr = (w->rows + 1) / 2, hc = (w->cols + 1) / 2, n = w->cols;
    w->hr = hr;
    w->hc = hc;
    w->kas = alloc_vec((size_t)hr * (size_t)hr);
    w->kad = alloc_vec((size_t)hr * (size_t)hr);
    w->kcs = alloc_vec((size_t)hc * 16);
    w->kca = alloc_vec((size_t)hc * 16);
    w->sd = alloc_vec(2 * (size_t)hr * BLOCK);
    w->pq = alloc_vec(2 * (size_t)hr * BLOCK);
    w->s2 = alloc_vec(2 * (size_t)w->rows * 16);
    if (!w->kas || !w->kad || !w->kcs || !w->kca || !w->sd || !w->pq || !w->s2)
        return -1;
    split_kernel(w->kas, w->kad, (size_t)hr, 1, w->rows, g, w->radius);
    /* a row's outputs j < hc: kcs[k][j] = sym[j][k] */
    split_kernel(w->kcs, w->kca, 1, 16, n, g, w->radius);
    for (int l = 0; l < 16; l++) {
        /* value n-1-l of a row (2 vectors) into lane l; 0 at an odd n's middle */
        w->rev[l] = n - 1 - l >= 0 ? n - 1 - l : 0;
        w->keep[l] = l < hc && n - 1 - l != l ? -1 : 0;
        /* output lane j: P + Q (first vector) for j < hc, P - Q (second) at
         * n-1-j for the rest */
        const int j = l + 16;
        w->out_lo[l] = l < hc ? l : l < n ? 16 + (n - 1 - l) : 0;
        w->out_hi[l] = j < hc ? j : j < n ? 16 + (n - 1 - j) : 0;
    }
    return 0;
}

int smooth_make(struct distort *w)
{
    double sigma = w->spec.sigma > 0 ? w->spec.sigma : 1;
    int r = (int)ceil(3 * sigma);
    double g[2 * 48 + 1], sum = 0;   /* sigma <= 16 */
    w->radius = r;
    w->kernel = malloc(sizeof(float) * (size_t)(2 * r + 1));
    if (!w->kernel)
        return -1;
    for (int k = -r; k <= r; k++)
        sum += exp(-(double)k * k / (2 * sigma * sigma));
    for (int k = -r; k <= r; k++) {
        g[k + r] = exp(-(double)k * k / (2 * sigma * sigma)) / sum;
        w->kernel[k + r] = (float)g[k + r];
    }
    w->half = w->kernel + r;
    return w->dense ? make_dense(w, g) : 0;
}

void smooth_free(struct distort *w)
{
    free(w->kernel);
    free(w->kas);
    free(w->kad);
    free(w->kcs);
    free(w->kca);
    free(w->sd);
    free(w->pq);
    free(w->s2);
}

/* ---- Gaussian smoothing, small images: F -> Kr F Kc^T, two dense products
 * with the truncation and the mirror folded into the matrices. At 28 x 28
 * and sigma 6 (37 taps) this is as many multiplications as the taps with
 * the kernel's symmetry used, but whole 16-float rows and no margins. ---- */

/* c[i][0, width) = scale * sum over k < kd of a[i][k] * b[k][0, width), i < m.
 * Rows of a are lda floats apart, of b ldb, of c ldc; width is a multiple of
 * BLOCK, and b's rows are read whole blocks long (the caller leaves room).
 * Four rows of c share each load of b; their eight sums keep the adder busy
 * (one sum would wait on its own additions). When m is not a multiple of 4
 * the last block repeats row m-1, which stores the same values twice. The
 * sums run over k in order. */
static void mul_rows(float *restrict c, int ldc, const float *restrict a, int lda,
                     const float *restrict b, int ldb, int m, int kd, int width, float scale)
{
    for (int i = 0; i < m; i += 4)
        for (int x = 0; x < width; x += BLOCK) {
            const float *ar[4];
            float *o[4];
            for (int j = 0; j < 4; j++) {
                const int row = i + j < m ? i + j : m - 1;
                ar[j] = a + (size_t)row * lda;
                o[j] = c + (size_t)row * ldc + x;
            }
            vec16 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0};
            vec16 s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
            for (int k = 0; k < kd; k++) {
                const float *bk = b + (size_t)k * ldb + x;
                const vec16 b0 = LOAD16(bk), b1 = LOAD16(bk + 16);
                s00 += ar[0][k] * b0, s01 += ar[0][k] * b1;
                s10 += ar[1][k] * b0, s11 += ar[1][k] * b1;
                s20 += ar[2][k] * b0, s21 += ar[2][k] * b1;
                s30 += ar[3][k] * b0, s31 += ar[3][k] * b1;
            }
            STORE16(o[0], scale * s00), STORE16(o[0] + 16, scale * s01);
            STORE16(o[1], scale * s10), STORE16(o[1] + 16, scale * s11);
            STORE16(o[2], scale * s20), STORE16(o[2] + 16, scale * s21);
            STORE16(o[3], scale * s30), STORE16(o[3] + 16, scale * s31);
        }
}

/* Down the columns (T = Kr N): the sums and differences of mirrored rows of
 * in (rows*cols packed, read a BLOCK at a time), two products of half size,
 * and T's rows i and rows-1-i from their sum and difference. */
static void smooth_columns(struct distort *w, float *restrict t, const float *restrict in)
{
    const int n = w->rows, h = w->hr, cols = w->cols;
    float *s = w->sd, *d = w->sd + (size_t)h * BLOCK;
    float *p = w->pq, *q = w->pq + (size_t)h * BLOCK;
    for (int k = 0; k < h; k++)
        for (int x = 0; x < BLOCK; x += 16) {
            const vec16 a = LOAD16(in + (size_t)k * cols + x);
            vec16 b = {0};
            if (n - 1 - k != k)
                b = LOAD16(in + (size_t)(n - 1 - k) * cols + x);
            STORE16(s + (size_t)k * BLOCK + x, a + b);
            STORE16(d + (size_t)k * BLOCK + x, a - b);
        }
    mul_rows(p, BLOCK, w->kas, h, s, BLOCK, h, h, BLOCK, 1.0f);
    mul_rows(q, BLOCK, w->kad, h, d, BLOCK, h, h, BLOCK, 1.0f);
    for (int i = 0; i < h; i++)
        for (int x = 0; x < BLOCK; x += 16) {
            const vec16 a = LOAD16(p + (size_t)i * BLOCK + x), b = LOAD16(q + (size_t)i * BLOCK + x);
            STORE16(t + (size_t)(n - 1 - i) * BLOCK + x, a - b);
            STORE16(t + (size_t)i * BLOCK + x, a + b);   /* the same row when n-1-i == i */
        }
}

/* Along the rows (out = scale * T Kc^T): per row, the sums and differences
 * of mirrored values (one 16-lane vector each: cols <= 32), products with the
 * halves of Kc, and the row put back together by two shuffles. Rows of out
 * are written whole and in order (see smooth_dense). */
static void smooth_rows(struct distort *w, float *restrict out, const float *restrict t,
                        float scale)
{
    const int rows = w->rows, h = w->hc, cols = w->cols;
    float *restrict s = w->s2, *restrict d = w->s2 + (size_t)rows * 16;
    ivec16 rev, keep, out_lo, out_hi;
    memcpy(&rev, w->rev, sizeof rev);
    memcpy(&keep, w->keep, sizeof keep);
    memcpy(&out_lo, w->out_lo, sizeof out_lo);
    memcpy(&out_hi, w->out_hi, sizeof out_hi);
    for (int i = 0; i < rows; i++) {
        const vec16 lo = LOAD16(t + (size_t)i * BLOCK), hi = LOAD16(t + (size_t)i * BLOCK + 16);
        vec16 mirrored;
        shuffle2(&mirrored, &lo, &hi, &rev);
        const vec16 r = (vec16)((ivec16)mirrored & keep);
        STORE16(s + (size_t)i * 16, lo + r);
        STORE16(d + (size_t)i * 16, lo - r);
    }
    for (int i = 0; i < rows; i += 4) {
        /* four rows at a time, the last one repeated when rows is not a
         * multiple of 4: it is stored again, with the same values, after it */
        const float *sr[4], *dr[4];
        float *o[4];
        for (int j = 0; j < 4; j++) {
            const int row = i + j < rows ? i + j : rows - 1;
            sr[j] = s + (size_t)row * 16;
            dr[j] = d + (size_t)row * 16;
            o[j] = out + (size_t)row * cols;
        }
        vec16 p0 = {0}, q0 = {0}, p1 = {0}, q1 = {0}, p2 = {0}, q2 = {0}, p3 = {0}, q3 = {0};
        for (int k = 0; k < h; k++) {
            const vec16 ks = LOAD16(w->kcs + (size_t)k * 16), ka = LOAD16(w->kca + (size_t)k * 16);
            p0 += sr[0][k] * ks, q0 += dr[0][k] * ka;
            p1 += sr[1][k] * ks, q1 += dr[1][k] * ka;
            p2 += sr[2][k] * ks, q2 += dr[2][k] * ka;
            p3 += sr[3][k] * ks, q3 += dr[3][k] * ka;
        }
        const vec16 pr[4] = {p0, p1, p2, p3}, qr[4] = {q0, q1, q2, q3};
        for (int j = 0; j < 4; j++) {
            const vec16 sum = pr[j] + qr[j], dif = pr[j] - qr[j];
            vec16 first, second;
            shuffle2(&first, &sum, &dif, &out_lo);
            shuffle2(&second, &sum, &dif, &out_hi);
            STORE16(o[j], scale * first);
            STORE16(o[j] + 16, scale * second);
        }
    }
}

/* out = scale * Kr in Kc^T, in and out rows*cols packed; a row of out is
 * one BLOCK (stride == BLOCK), written whole and row after row, so each
 * row's padding is overwritten by the next row: out needs BLOCK floats of
 * room after it, and in BLOCK readable floats. */
static void smooth_dense(struct distort *w, float *out, const float *in, float scale)
{
    smooth_columns(w, w->tmp, in);
    smooth_rows(w, out, w->tmp, scale);
}

/* ---- Gaussian smoothing, plain: two 1-D passes tap by tap, scalar, the
 * kernel's symmetry halving the products; the large images' path and the
 * fast one's oracle ---- */

/* out = scale * (G_sigma * in), rows*cols packed each; tmp holds rows*cols.
 * Each sum is g[0] v + sum over k = 1..r of g[k] (the two values k away), in
 * that order, down the columns and then along the rows with the kernel
 * times scale. */
static void smooth_plain(float *restrict out, const float *restrict in, float *restrict tmp,
                         const float *g, int r, float scale, int rows, int cols)
{
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++) {
            float a = g[0] * in[(size_t)y * cols + x];
            for (int k = 1; k <= r; k++)
                a += g[k] * (in[(size_t)mirror(y - k, rows) * cols + x] +
                             in[(size_t)mirror(y + k, rows) * cols + x]);
            tmp[(size_t)y * cols + x] = a;
        }
    float gs[49] = {0};   /* radius <= 48: sigma <= 16 */
    for (int k = 0; k <= r; k++)
        gs[k] = g[k] * scale;
    for (int y = 0; y < rows; y++) {
        const float *row = tmp + (size_t)y * cols;
        for (int x = 0; x < cols; x++) {
            float a = gs[0] * row[x];
            for (int k = 1; k <= r; k++)
                a += gs[k] * (row[mirror(x - k, cols)] + row[mirror(x + k, cols)]);
            out[(size_t)y * cols + x] = a;
        }
    }
}

void smooth_into(struct distort *w, float *out, const float *in, float scale)
{
    if (w->dense)
        smooth_dense(w, out, in, scale);
    else
        smooth_plain(out, in, w->tmp, w->half, w->radius, scale, w->rows, w->cols);
}

void distort_smooth(struct distort *w, float *f, float scale)
{
    const size_t dim = (size_t)w->rows * w->cols;
    memcpy(w->noise, f, sizeof(float) * dim);
    smooth_into(w, w->field, w->noise, scale);
    memcpy(f, w->field, sizeof(float) * dim);
}

void distort_smooth_plain(struct distort *w, float *f, float scale)
{
    const size_t dim = (size_t)w->rows * w->cols;
    memcpy(w->noise, f, sizeof(float) * dim);
    float *tmp = malloc(sizeof(float) * dim);
    if (!tmp)
        abort();
    smooth_plain(f, w->noise, tmp, w->half, w->radius, scale, w->rows, w->cols);
    free(tmp);
}

const float *distort_kernel(const struct distort *w, int *radius)
{
    *radius = w->radius;
    return w->kernel;
}
