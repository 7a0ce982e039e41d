/* distort: one image's distortion: the work object, shift:N, the draws of a
 * warp from its key, and the resampling (the grammar is in distort_spec.c,
 * the smoothing in smooth.c, the thread lanes in distort_lanes.c). */
#include "distort.h"

#include <math.h>

#include "distort_testing.h"
#include "distort_work.h"
#include "pixel.h"

struct distort *distort_lane_create(const struct distort_spec *s, int rows, int cols)
{
    if (rows < 1 || cols < 1 || rows > DISTORT_MAX_SIDE || cols > DISTORT_MAX_SIDE ||
        !(s->sigma >= 0 && s->sigma <= 16))
        return NULL;
    struct distort *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->spec = *s;
    w->rows = rows;
    w->cols = cols;
    w->stride = (cols + BLOCK - 1) / BLOCK * BLOCK;
    w->dense = rows <= DENSE_MAX && cols <= DENSE_MAX;
    size_t dim = (size_t)rows * (size_t)cols, padded = (size_t)rows * (size_t)w->stride;
    w->field = alloc_vec(2 * dim + BLOCK);
    w->noise = alloc_vec(2 * dim + BLOCK);
    w->tmp = alloc_vec(padded);
    w->xc = alloc_vec(dim);
    w->yc = alloc_vec(dim);
    w->src = calloc((size_t)(rows + 3) * (size_t)(cols + 3) + 4, 1);
    w->taps = malloc(sizeof(int32_t) * 3 * dim);
    if (!w->field || !w->noise || !w->tmp || !w->xc || !w->yc || !w->src || !w->taps ||
        smooth_make(w)) {
        distort_lane_free(w);
        return NULL;
    }
    for (size_t p = 0; p < dim; p++) {
        w->xc[p] = (float)(p % (size_t)cols) - (float)(cols - 1) * 0.5f;
        w->yc[p] = (float)(p / (size_t)cols) - (float)(rows - 1) * 0.5f;
    }
    return w;
}

void distort_lane_free(struct distort *w)
{
    if (!w)
        return;
    smooth_free(w);
    free(w->noise);
    free(w->tmp);
    free(w->field);
    free(w->xc);
    free(w->yc);
    free(w->src);
    free(w->taps);
    free(w);
}

void distort_field_get(const struct distort *w, float *fx, float *fy)
{
    const size_t dim = (size_t)w->rows * w->cols;
    memcpy(fx, w->field, sizeof(float) * dim);
    memcpy(fy, w->field + dim, sizeof(float) * dim);
}

/* ---- shift:N: batch_gather's scaling of the rows that stay ---- */

static void gather_shifted(float *out, const uint8_t *in, int rows, int cols, int dx, int dy)
{
    memset(out, 0, sizeof(float) * (size_t)rows * (size_t)cols);
    int x0 = dx > 0 ? dx : 0, x1 = dx < 0 ? cols + dx : cols;
    int y0 = dy > 0 ? dy : 0, y1 = dy < 0 ? rows + dy : rows;
    for (int y = y0; y < y1; y++)
        pixel_scale_row(out + (size_t)y * cols + x0, in + (size_t)(y - dy) * cols + (x0 - dx),
                        (uint32_t)(x1 - x0 > 0 ? x1 - x0 : 0));
}

/* ---- the draws of one image: counter-based, from the image's key ---- */

/* draws 0..6 are the warp's uniforms, the noise starts after them; draw i of
 * an image is rng_at(key, i), a function of (key, i) alone: an image's draws
 * need no state carried from the image before, so images can be drawn on any
 * thread, and the loop over i vectorises */
#define NOISE_AT 7

/* the seven uniforms of a warp, in [-1, 1) with 53 bits, drawn whatever the
 * spec uses */
static void draw_warp(double u[7], uint64_t key)
{
    for (int i = 0; i < NOISE_AT; i++)
        u[i] = (double)(rng_at(key, (uint64_t)i) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* n values of each noise field uniform in [-1, 1), 24 bits each: pixel p of
 * dx from the high 24 bits of draw NOISE_AT + p, of dy from bits 8..31 */
static void draw_noise(float *restrict fx, float *restrict fy, size_t n, uint64_t key)
{
    const float unit = 1.0f / 8388608.0f;
    for (size_t p = 0; p < n; p++) {
        const uint64_t v = rng_at(key, NOISE_AT + p);
        fx[p] = (float)((int32_t)(v >> 40) - 8388608) * unit;
        fy[p] = (float)((int32_t)(v >> 8 & 0xffffff) - 8388608) * unit;
    }
}

/* w's field for the image of this key */
static void make_field(struct distort *w, uint64_t key)
{
    const size_t dim = (size_t)w->rows * w->cols;
    const float alpha = (float)w->spec.alpha;
    draw_noise(w->noise, w->noise + dim, dim, key);
    /* x first: writing it may spill into y's first row, not the reverse */
    smooth_into(w, w->field, w->noise, alpha);
    smooth_into(w, w->field + dim, w->noise + dim, alpha);
}

void distort_field(struct distort *w, struct rng *r)
{
    make_field(w, rng_next(r));
}

/* ---- resampling ---- */

struct distort_affine distort_affine_map(double deg, double sx, double sy, double k, double tx,
                                         double ty)
{
    /* forward M = R(deg) Sh(k) S(sx, sy), y pointing down */
    double th = deg * (3.14159265358979323846 / 180), c = cos(th), s = sin(th);
    double m11 = c * sx, m12 = (c * k + s) * sy;
    double m21 = -s * sx, m22 = (-s * k + c) * sy;
    double det = m11 * m22 - m12 * m21;
    double a11 = m22 / det, a12 = -m12 / det, a21 = -m21 / det, a22 = m11 / det;
    return (struct distort_affine){(float)a11, (float)a12, (float)a21, (float)a22,
                                   (float)-(a11 * tx + a12 * ty), (float)-(a21 * tx + a22 * ty)};
}

/* the source into w->src: bytes, inside a zero border */
static void load_source(uint8_t *restrict src, const uint8_t *restrict in, int rows, int cols)
{
    const int ps = cols + 3;
    for (int y = 0; y < rows; y++)
        memcpy(src + (size_t)(y + 1) * ps + 1, in + (size_t)y * cols, (size_t)cols);
}

/* Coordinates are clamped to [-1, n]: every tap there lands on the zero
 * border, so the clamp only replaces a zero by the same zero, and no pixel
 * needs a branch. Shifted by the border's 1 they are >= 0, where (int)
 * truncation is floor. Written so that GCC vectorises it over the pixels of
 * the whole image: one loop, separate clamps, no floorf, no calls. Writes
 * pixel p's top-left tap in the bordered source and its two weights. */
static void sample_at(int32_t *restrict at, float *restrict wx, float *restrict wy,
                      const float *restrict xc, const float *restrict yc,
                      const float *restrict fx, const float *restrict fy,
                      const struct distort_affine *A, int rows, int cols)
{
    const int ps = cols + 3, dim = rows * cols;
    const float ox = (float)(cols - 1) * 0.5f + A->tx, oy = (float)(rows - 1) * 0.5f + A->ty;
    const float hx = (float)cols, hy = (float)rows;
    const float a11 = A->a11, a12 = A->a12, a21 = A->a21, a22 = A->a22;
    for (int p = 0; p < dim; p++) {
        float sx = a11 * xc[p] + a12 * yc[p] + ox + fx[p];
        float sy = a21 * xc[p] + a22 * yc[p] + oy + fy[p];
        sx = sx < -1.0f ? -1.0f : sx;
        sx = sx > hx ? hx : sx;
        sy = sy < -1.0f ? -1.0f : sy;
        sy = sy > hy ? hy : sy;
        const float px = sx + 1.0f, py = sy + 1.0f;   /* in the bordered source */
        const int ix = (int)px, iy = (int)py;
        wx[p] = px - (float)ix;
        wy[p] = py - (float)iy;
        at[p] = iy * ps + ix;
    }
}

/* four bytes at any address */
typedef uint32_t u32_at __attribute__((aligned(1), may_alias));

/* The taps of each pixel: one 4-byte load at the top-left tap holds the
 * top-right one too, one at the bottom-left the bottom-right. Scalar loads
 * on purpose: vector gathers of the same loads are slower
 * (docs/performance.md), so GCC is told not to vectorise this loop. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static void load_taps(uint32_t *restrict top, uint32_t *restrict bot, const uint8_t *restrict src,
                      const int32_t *restrict at, int ps, int dim)
{
    for (int p = 0; p < dim; p++) {
        top[p] = *(const u32_at *)(src + at[p]);
        bot[p] = *(const u32_at *)(src + at[p] + ps);
    }
}

/* The bytes are interpolated as they are and scaled to [0,1] once (an
 * integer shift gives exactly the value batch_gather gives). */
static void interpolate(float *restrict out, const uint32_t *restrict top,
                        const uint32_t *restrict bot, const float *restrict wx,
                        const float *restrict wy, int dim)
{
    for (int p = 0; p < dim; p++) {
        const uint32_t t = top[p], b = bot[p];
        const float ax = wx[p], ay = wy[p];
        const float up = (1 - ax) * (float)(t & 0xff) + ax * (float)(t >> 8 & 0xff);
        const float down = (1 - ax) * (float)(b & 0xff) + ax * (float)(b >> 8 & 0xff);
        const float v = ((1 - ay) * up + ay * down) * PIXEL_SCALE;
        out[p] = v > 1.0f ? 1.0f : v;
    }
}

void distort_warp(struct distort *w, float *out, const uint8_t *in, const struct distort_affine *A)
{
    const int dim = w->rows * w->cols;
    /* w->noise (2 dim floats) is free once the field is made */
    float *wx = w->noise, *wy = w->noise + dim;
    int32_t *at = w->taps;
    uint32_t *top = (uint32_t *)(w->taps + dim), *bot = (uint32_t *)(w->taps + 2 * dim);
    load_source(w->src, in, w->rows, w->cols);
    sample_at(at, wx, wy, w->xc, w->yc, w->field, w->field + dim, A, w->rows, w->cols);
    load_taps(top, bot, w->src, at, w->cols + 3, dim);
    interpolate(out, top, bot, wx, wy, dim);
}

/* out = in warped by the draws of this key, with w's scratch; label -1: none */
void distort_warp_key(struct distort *w, float *out, const uint8_t *in, uint64_t key, int label)
{
    const struct distort_spec *s = &w->spec;
    struct distort_affine A = {1, 0, 0, 1, 0, 0};
    double u[7];
    draw_warp(u, key);
    if (s->affine) {
        double iso = 1 + s->scale * u[1];
        const double f = label == 1 || label == 7 ? 1 - s->narrow : 1;
        A = distort_affine_map(s->rot * f * u[0], iso * (1 + s->stretch * u[2]),
                               iso * (1 + s->stretch * u[3]), s->shear * f * u[4],
                               s->translate * u[5], s->translate * u[6]);
    }
    if (s->elastic)
        make_field(w, key);
    distort_warp(w, out, in, &A);
}

/* one image as distort_image makes it, with its label (-1: none) */
void distort_image_labelled(struct distort *w, float *out, const uint8_t *in, int label,
                            struct rng *r)
{
    const struct distort_spec *s = &w->spec;
    if (s->shift) {
        /* two draws, dx then dy */
        int dx = (int)rng_below(r, 2u * (uint32_t)s->shift + 1) - s->shift;
        int dy = (int)rng_below(r, 2u * (uint32_t)s->shift + 1) - s->shift;
        gather_shifted(out, in, w->rows, w->cols, dx, dy);
        return;
    }
    if (!s->affine && !s->elastic) {
        pixel_scale_row(out, in, (uint32_t)w->rows * (uint32_t)w->cols);
        return;
    }
    distort_warp_key(w, out, in, rng_next(r), label);
}

void distort_image(struct distort *w, float *out, const uint8_t *in, struct rng *r)
{
    distort_image_labelled(w, out, in, -1, r);
}
