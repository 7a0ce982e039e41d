/* Distortions: the geometry on images whose answer is known, the elastic
 * field's smoothing against a direct 2-D sum, the per-seed stream, shift:N
 * against the original batch_gather path, and the augment grammar.
 *
 * Not tests, but the same binary: `test_distort --bench [N]` times each kind
 * on N MNIST training images ($MNIST_DIR), on one thread and on the OpenMP
 * team as training runs it; `test_distort --dump
 * FILE.pgm SPEC` writes 8 digits, each beside 7 distortions of it. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <omp.h>


#include "config/config_testing.h"
#include "data/dataset.h"
#include "nn/head.h"
#include "nn/precision.h"
#include "data/distort_testing.h"
#include "support/support.h"


enum { R = 28, C = 28, DIM = R * C };

static struct distort_spec parse_ok(const char *text)
{
    struct distort_spec s;
    struct err e = {0};
    if (distort_parse(&s, text, "augment", &e))
        fail_msg("'%s' rejected: %s", text, e.msg);
    return s;
}

/* a digit-like test image: a blob, a bar and noise, no two pixels alike */
static void make_image(uint8_t *img, int rows, int cols, uint32_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 77);
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++) {
            double d = hypot(x - cols * 0.4, y - rows * 0.5);
            int v = (int)(255 * exp(-d * d / 20)) + (x == cols / 2 ? 120 : 0);
            v += (int)rng_below(&r, 40);
            img[y * cols + x] = (uint8_t)(v > 255 ? 255 : v);
        }
}

/* n test images one after the other (image b from seed0 + b), malloc'd;
 * with in, in[b] points at image b */
static uint8_t *make_images(int n, int rows, int cols, uint32_t seed0, const uint8_t **in)
{
    const size_t dim = (size_t)rows * (size_t)cols;
    uint8_t *imgs = malloc((size_t)n * dim);
    for (int b = 0; b < n; b++) {
        make_image(imgs + (size_t)b * dim, rows, cols, seed0 + (uint32_t)b);
        if (in)
            in[b] = imgs + (size_t)b * dim;
    }
    return imgs;
}

static void plain(float *out, const uint8_t *img, int n)
{
    struct dataset d = {.n = 1, .rows = 1, .cols = (uint32_t)n, .dim = (uint32_t)n,
                        .x = (uint8_t *)img};
    batch_gather(out, &d, NULL, 1, NULL, NULL);
}

static void identity_is_identity(void **state)
{
    (void)state;
    uint8_t img[DIM];
    float want[DIM], got[DIM];
    make_image(img, R, C, 1);
    plain(want, img, DIM);
    const char *specs[] = {"affine:rot=0", "elastic:alpha=0,sigma=4",
                           "affine+elastic:rot=0,alpha=0,sigma=1"};
    for (int i = 0; i < 3; i++) {
        struct distort_spec s = parse_ok(specs[i]);
        struct distort *w = distort_create(&s, R, C);
        assert_non_null(w);
        struct rng r;
        rng_seed(&r, 5, RNG_AUGMENT);
        for (int k = 0; k < 3; k++) {
            memset(got, 0xff, sizeof got);
            distort_image(w, got, img, &r);
            assert_memory_equal(got, want, sizeof got);
        }
        /* the field was drawn (not skipped) and scaled to exactly 0 */
        float fx[DIM], fy[DIM];
        distort_field_get(w, fx, fy);
        for (int p = 0; s.elastic && p < DIM; p++)
            assert_true(fx[p] == 0 && fy[p] == 0);
        struct distort_affine id = {1, 0, 0, 1, 0, 0};
        distort_warp(w, got, img, &id);
        assert_memory_equal(got, want, sizeof got);
        distort_free(w);
    }
}

static void translation_moves_pixels(void **state)
{
    (void)state;
    uint8_t img[DIM];
    float src[DIM], got[DIM];
    make_image(img, R, C, 2);
    plain(src, img, DIM);
    struct distort_spec s = parse_ok("affine:translate=3");
    struct distort *w = distort_create(&s, R, C);
    /* the digit moves 2 right and 1 up: out(x, y) = in(x - 2, y + 1) */
    struct distort_affine A = distort_affine_map(0, 1, 1, 0, 2, -1);
    distort_warp(w, got, img, &A);
    assert_true(got[6 * C + 7] == src[7 * C + 5]);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            int sx = x - 2, sy = y + 1;
            float want = sx >= 0 && sy < R ? src[sy * C + sx] : 0.0f;
            if (got[y * C + x] != want)
                fail_msg("(%d,%d): %g, want %g", x, y, got[y * C + x], want);
        }
    /* half a pixel: the mean of two neighbours */
    A = distort_affine_map(0, 1, 1, 0, 0.5, 0);
    distort_warp(w, got, img, &A);
    assert_float_equal(got[10 * C + 10], (src[10 * C + 9] + src[10 * C + 10]) / 2, 1e-6);
    assert_float_equal(got[10 * C + 0], src[10 * C + 0] / 2, 1e-6);   /* zero fill beside */
    distort_free(w);
}

/* The translation draws x and y apart: over 400 images of a centred blob
 * under affine:translate=2 the blob's centroid moves by (dx, dy), each
 * uniform in [-2, 2] (sd 2/sqrt(3)), and the two uncorrelated: a y draw
 * reused for x would make dx == dy. */
static void translation_draws_x_and_y_apart(void **state)
{
    (void)state;
    enum { N = 400 };
    uint8_t img[DIM];
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            const double d2 = (x - 13.5) * (x - 13.5) + (y - 13.5) * (y - 13.5);
            img[y * C + x] = (uint8_t)(255 * exp(-d2 / 8));
        }
    struct distort_spec s = parse_ok("affine:translate=2");
    struct distort *w = distort_create(&s, R, C);
    assert_non_null(w);
    struct rng r;
    rng_seed(&r, 5, RNG_AUGMENT);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, apart = 0;
    for (int i = 0; i < N; i++) {
        float out[DIM];
        distort_image(w, out, img, &r);
        double m = 0, mx = 0, my = 0;
        for (int p = 0; p < DIM; p++) {
            m += out[p];
            mx += out[p] * (p % C);
            my += out[p] * (p / C);
        }
        const double dx = mx / m - 13.5, dy = my / m - 13.5;
        sx += dx, sy += dy, sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
        apart += fabs(dx - dy);
    }
    const double vx = sxx / N - (sx / N) * (sx / N), vy = syy / N - (sy / N) * (sy / N);
    const double cov = sxy / N - (sx / N) * (sy / N);
    assert_float_equal(sqrt(vx), 2 / sqrt(3), 0.15);
    assert_float_equal(sqrt(vy), 2 / sqrt(3), 0.15);
    assert_true(fabs(cov / sqrt(vx * vy)) < 0.15);
    assert_true(apart / N > 1.0);   /* E|U1 - U2| = 4/3 for independent U in [-2, 2] */
    distort_free(w);
}

/* the spread (standard deviation) of out's ink along x and y */
static void spread(const float *out, double *sdx, double *sdy)
{
    double m = 0, mx = 0, my = 0, mxx = 0, myy = 0;
    for (int p = 0; p < DIM; p++) {
        const double x = p % C, y = p / C;
        m += out[p], mx += out[p] * x, my += out[p] * y;
        mxx += out[p] * x * x, myy += out[p] * y * y;
    }
    *sdx = sqrt(mxx / m - (mx / m) * (mx / m));
    *sdy = sqrt(myy / m - (my / m) * (my / m));
}

/* The scale draws: over 300 images of a centred round blob, stretch=0.2
 * scales x and y each by a factor uniform in [0.8, 1.2] (sd 0.2/sqrt(3)),
 * the two uncorrelated; scale=0.2 scales both by one such factor. The blob's
 * spread measures each image's factors. */
static void scale_and_stretch_draws(void **state)
{
    (void)state;
    enum { N = 300 };
    uint8_t img[DIM];
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            const double d2 = (x - 13.5) * (x - 13.5) + (y - 13.5) * (y - 13.5);
            img[y * C + x] = (uint8_t)(255 * exp(-d2 / 8));
        }
    float flat[DIM];
    plain(flat, img, DIM);
    double sd0x, sd0y;
    spread(flat, &sd0x, &sd0y);
    const char *specs[] = {"affine:stretch=0.2", "affine:scale=0.2"};
    for (int k = 0; k < 2; k++) {
        struct distort_spec s = parse_ok(specs[k]);
        struct distort *w = distort_create(&s, R, C);
        assert_non_null(w);
        struct rng r;
        rng_seed(&r, 9, RNG_AUGMENT);
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < N; i++) {
            float out[DIM];
            distort_image(w, out, img, &r);
            double fx, fy;
            spread(out, &fx, &fy);
            fx /= sd0x, fy /= sd0y;
            if (!(fx > 0.77 && fx < 1.23 && fy > 0.77 && fy < 1.23))
                fail_msg("%s: image %d scaled by (%.3f, %.3f), outside [0.8, 1.2]", specs[k], i,
                         fx, fy);
            if (k == 1 && fabs(fx - fy) > 0.02)
                fail_msg("%s: image %d scaled by (%.3f, %.3f), not alike", specs[k], i, fx, fy);
            sx += fx, sy += fy, sxx += fx * fx, syy += fy * fy, sxy += fx * fy;
        }
        const double vx = sxx / N - (sx / N) * (sx / N), vy = syy / N - (sy / N) * (sy / N);
        const double corr = (sxy / N - (sx / N) * (sy / N)) / sqrt(vx * vy);
        assert_float_equal(sx / N, 1, 0.03);
        assert_float_equal(sqrt(vx), 0.2 / sqrt(3), 0.025);
        assert_float_equal(sqrt(vy), 0.2 / sqrt(3), 0.025);
        if (k == 0)
            assert_true(fabs(corr) < 0.15);
        else
            assert_true(corr > 0.95);
        distort_free(w);
    }
}

static void rotation_by_90(void **state)
{
    (void)state;
    const int sizes[] = {5, 4, 28};
    for (int t = 0; t < 3; t++) {
        const int n = sizes[t];
        uint8_t img[DIM];
        float src[DIM], got[DIM];
        make_image(img, n, n, 3);
        plain(src, img, n * n);
        struct distort_spec s = parse_ok("affine:rot=90");
        struct distort *w = distort_create(&s, n, n);
        struct distort_affine A = distort_affine_map(90, 1, 1, 0, 0, 0);
        distort_warp(w, got, img, &A);
        /* counter-clockwise as displayed (y down): the pixel right of the
         * centre goes above it, so out(x', y') = in(n-1-y', x') */
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                if (fabsf(got[y * n + x] - src[x * n + (n - 1 - y)]) > 1e-6f)
                    fail_msg("n=%d (%d,%d): %g, want %g", n, x, y, got[y * n + x],
                             src[x * n + (n - 1 - y)]);
        distort_free(w);
    }
}

static void bilinear_keeps_a_constant(void **state)
{
    (void)state;
    uint8_t img[DIM];
    float got[DIM];
    memset(img, 200, sizeof img);
    const float c = 200 * (1.0f / 255.0f);
    struct distort_spec s = parse_ok("affine:rot=30");
    struct distort *w = distort_create(&s, R, C);
    struct distort_affine A = distort_affine_map(27.3, 1.13, 0.91, 0.21, 0.37, -0.61);
    distort_warp(w, got, img, &A);
    int inside = 0, fractional = 0;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            float xc = x - 13.5f, yc = y - 13.5f;
            float sx = A.a11 * xc + A.a12 * yc + 13.5f + A.tx;
            float sy = A.a21 * xc + A.a22 * yc + 13.5f + A.ty;
            if (sx < 0.01f || sy < 0.01f || sx > C - 1.01f || sy > R - 1.01f)
                continue;
            inside++;
            fractional += sx != floorf(sx);
            assert_float_equal(got[y * C + x], c, 1e-6);
        }
    assert_true(inside > 300 && fractional > 300);
    /* and the border fades into the zero fill, never above the constant */
    for (int p = 0; p < DIM; p++)
        assert_true(got[p] >= 0 && got[p] <= c + 1e-6f);
    assert_true(got[0] < c * 0.5f);
    distort_free(w);
}

static void kernel_and_smoothing(void **state)
{
    (void)state;
    const double sigmas[] = {4, 0.25, 1.3, 16};
    for (int t = 0; t < 4; t++) {
        struct distort_spec s = {.elastic = true, .alpha = 1, .sigma = sigmas[t]};
        struct distort *w = distort_create(&s, R, C);
        assert_non_null(w);
        int r;
        const float *g = distort_kernel(w, &r);
        assert_int_equal(r, (int)ceil(3 * sigmas[t]));
        double sum = 0;
        for (int k = 0; k <= 2 * r; k++) {
            sum += g[k];
            assert_true(g[k] == g[2 * r - k]);
            assert_true(k == 0 || k > r || g[k] >= g[k - 1]);
        }
        assert_float_equal(sum, 1.0, 1e-6);
        /* a constant field stays constant, at the border too (up to the
         * rounding of the folded weights) */
        float f[DIM];
        for (int p = 0; p < DIM; p++)
            f[p] = 0.7f;
        distort_smooth(w, f, 1);
        for (int p = 0; p < DIM; p++)
            assert_float_equal(f[p], 0.7, 1e-6);
        /* a random field against the direct 2-D sum with mirrored indices */
        struct rng rr;
        rng_seed(&rr, 9, 1);
        float in[DIM];
        for (int p = 0; p < DIM; p++)
            f[p] = in[p] = rng_uniform(&rr) - 0.5f;
        distort_smooth(w, f, 2.5f);
        for (int y = 0; y < R; y += 3)
            for (int x = 0; x < C; x += 2) {
                double want = 0;
                for (int i = -r; i <= r; i++)
                    for (int j = -r; j <= r; j++) {
                        int yy = y + i, xx = x + j;
                        while (yy < 0 || yy >= R)
                            yy = yy < 0 ? -1 - yy : 2 * R - 1 - yy;
                        while (xx < 0 || xx >= C)
                            xx = xx < 0 ? -1 - xx : 2 * C - 1 - xx;
                        want += (double)g[i + r] * g[j + r] * in[yy * C + xx];
                    }
                assert_float_equal(f[y * C + x], 2.5 * want, 1e-5);
            }
        distort_free(w);
    }
}

/* The documented definition, computed the slow way: taps exp(-k^2 / 2 sigma^2)
 * for |k| <= ceil(3 sigma), normalised to sum 1, in double; indices mirrored
 * (d c b a | a b c d | d c b a) as often as it takes. */
static int reference_taps(double *g, double sigma)
{
    int r = (int)ceil(3 * sigma);
    double sum = 0;
    for (int k = -r; k <= r; k++)
        sum += g[k + r] = exp(-(double)k * k / (2 * sigma * sigma));
    for (int k = -r; k <= r; k++)
        g[k + r] /= sum;
    return r;
}

static int reference_mirror(int i, int n)
{
    while (i < 0 || i >= n)
        i = i < 0 ? -1 - i : 2 * n - 1 - i;
    return i;
}

/* the effective 1-D weights: K[i*n + k], output i, value k */
static void reference_fold(double *K, int n, const double *g, int r)
{
    memset(K, 0, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++)
        for (int m = -r; m <= r; m++)
            K[i * n + reference_mirror(i + m, n)] += g[m + r];
}

/* distort_smooth and distort_smooth_plain against the direct 2-D sum and
 * each other, every pixel, within 1e-5 of the
 * input's scale (the weights sum to 1; the dense way adds and subtracts
 * mirrored values, so its rounding is relative to them, not to the terms of
 * one pixel's sum; a wrong weight is off by at least 1e-4), on the sizes
 * of both ways of computing it (dense products up to 32 on a side, even and
 * odd, kernels wider than the image; tap by tap above), at several sigmas */
static void smoothing_matches_the_definition(void **state)
{
    (void)state;
    const int shapes[][2] = {{28, 28}, {27, 31}, {5, 3}, {1, 1}, {32, 17}, {40, 70}, {33, 12}};
    const double sigmas[] = {6, 4, 0.25, 1.3, 16};
    double g[2 * 48 + 1];
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (size_t u = 0; u < sizeof sigmas / sizeof sigmas[0]; u++) {
            const int rows = shapes[t][0], cols = shapes[t][1], n = rows * cols;
            struct distort_spec s = {.elastic = true, .alpha = 1, .sigma = sigmas[u]};
            struct distort *w = distort_create(&s, rows, cols);
            assert_non_null(w);
            const int r = reference_taps(g, sigmas[u]);
            float *f = malloc(sizeof(float) * (size_t)n), *in = malloc(sizeof(float) * (size_t)n);
            float *plain = malloc(sizeof(float) * (size_t)n);
            struct rng rr;
            rng_seed(&rr, 9 + t, u);
            for (int p = 0; p < n; p++)   /* |in| <= 1 */
                f[p] = in[p] = 2 * rng_uniform(&rr) - 1;
            memcpy(plain, f, sizeof(float) * (size_t)n);
            distort_smooth(w, f, 2.5f);
            distort_smooth_plain(w, plain, 2.5f);
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < cols; x++) {
                    double want = 0;
                    for (int i = -r; i <= r; i++)
                        for (int j = -r; j <= r; j++)
                            want += g[i + r] * g[j + r] *
                                    in[reference_mirror(y + i, rows) * cols +
                                       reference_mirror(x + j, cols)];
                    if (fabs(f[y * cols + x] - 2.5 * want) > 1e-5 * 2.5)
                        fail_msg("%dx%d sigma %g (%d,%d): %.9g, want %.9g", rows, cols,
                                 sigmas[u], x, y, f[y * cols + x], 2.5 * want);
                    if (fabs(plain[y * cols + x] - 2.5 * want) > 1e-5 * 2.5)
                        fail_msg("plain %dx%d sigma %g (%d,%d): %.9g, want %.9g", rows, cols,
                                 sigmas[u], x, y, plain[y * cols + x], 2.5 * want);
                    /* the fast smoother against the plain one, its oracle */
                    if (fabs(f[y * cols + x] - plain[y * cols + x]) > 1e-5 * 2.5)
                        fail_msg("fast %dx%d sigma %g (%d,%d): %.9g, plain %.9g", rows, cols,
                                 sigmas[u], x, y, f[y * cols + x], plain[y * cols + x]);
                }
            if (rows > 32 || cols > 32)   /* the plain smoother is the large images' path */
                assert_memory_equal(f, plain, sizeof(float) * (size_t)n);
            free(f), free(in), free(plain);
            distort_free(w);
        }
}

/* The field's statistics against the theory of the definition: uniform noise
 * of variance 1/3 through the effective weights K gives per-pixel variance
 * alpha^2/3 (sum_k Kr[y][k]^2)(sum_l Kc[x][l]^2), horizontal neighbours the
 * covariance with Kc[x][l] Kc[x+1][l], and dx, dy uncorrelated. At the
 * shipped alpha 34, sigma 6, over 4000 fields. */
static void elastic_field_statistics(void **state)
{
    (void)state;
    enum { DRAWS = 4000 };
    struct distort_spec s = parse_ok("elastic:alpha=34,sigma=6");
    struct distort *w = distort_create(&s, R, C);
    double g[2 * 48 + 1], K[R * C];
    const int r = reference_taps(g, 6);
    reference_fold(K, R, g, r);   /* R == C: one K for both */
    double rowsq[R], nb[C];
    for (int i = 0; i < R; i++) {
        rowsq[i] = nb[i] = 0;
        for (int k = 0; k < R; k++) {
            rowsq[i] += K[i * R + k] * K[i * R + k];
            nb[i] += i + 1 < R ? K[i * R + k] * K[(i + 1) * R + k] : 0;
        }
    }
    const double a2 = 34.0 * 34.0 / 3;
    double *m2 = calloc(2 * DIM, sizeof(double)), *mn = calloc(2 * DIM, sizeof(double));
    double cross = 0, adj = 0;
    float fx[DIM], fy[DIM];
    struct rng rng;
    rng_seed(&rng, 4, RNG_AUGMENT);
    for (int t = 0; t < DRAWS; t++) {
        distort_field(w, &rng);
        distort_field_get(w, fx, fy);
        for (int p = 0; p < DIM; p++) {
            m2[p] += (double)fx[p] * fx[p], m2[DIM + p] += (double)fy[p] * fy[p];
            mn[p] += fx[p], mn[DIM + p] += fy[p];
            cross += (double)fx[p] * fy[p];
            if (p % C + 1 < C)
                adj += (double)fx[p] * fx[p + 1] + (double)fy[p] * fy[p + 1];
        }
    }
    double got = 0, want = 0, want_adj = 0;
    for (int a = 0; a < 2; a++)
        for (int p = 0; p < DIM; p++) {
            const int y = p / C, x = p % C;
            const double v = a2 * rowsq[y] * rowsq[x];
            got += m2[a * DIM + p] / DRAWS;
            want += v;
            want_adj += x + 1 < C ? a2 * rowsq[y] * nb[x] : 0;
            /* each pixel, and the mean (0) within 4 standard errors */
            assert_float_equal(m2[a * DIM + p] / DRAWS, v, 0.12 * v);
            assert_true(fabs(mn[a * DIM + p] / DRAWS) < 4 * sqrt(v / DRAWS));
        }
    /* over the image: within 3% (the pixels are correlated over about sigma) */
    assert_float_equal(got / want, 1.0, 0.03);
    assert_float_equal(adj / DRAWS / want_adj, 1.0, 0.03);
    assert_true(fabs(cross / DRAWS) / (want / 2) < 0.02);
    /* and the theory is what the docs say: about 0.9 pixel sd in the middle */
    assert_float_equal(sqrt(a2 * rowsq[R / 2] * rowsq[C / 2]), 0.9, 0.05);
    free(m2), free(mn);
    distort_free(w);
}

static void elastic_field_is_bounded_and_smooth(void **state)
{
    (void)state;
    struct distort_spec s = parse_ok("elastic:alpha=34,sigma=4");
    struct distort *w = distort_create(&s, R, C);
    struct rng r;
    rng_seed(&r, 3, RNG_AUGMENT);
    double ss[2] = {0}, step = 0, mean = 0;
    long n = 0;
    for (int t = 0; t < 100; t++) {
        float fx[DIM], fy[DIM];
        distort_field(w, &r);
        distort_field_get(w, fx, fy);
        const float *f[2] = {fx, fy};
        for (int a = 0; a < 2; a++)
            for (int p = 0; p < DIM; p++) {
                /* |noise| <= 1 and the kernel sums to 1: |field| <= alpha */
                assert_true(fabsf(f[a][p]) <= 34);
                int x = p % C, y = p / C;
                if (x < 8 || x >= 20 || y < 8 || y >= 20)
                    continue;
                ss[a] += f[a][p] * f[a][p];
                mean += f[a][p];
                step += fabs(f[a][p] - f[a][p - 1]);
                n += a == 0;
            }
    }
    /* away from the border, smoothed noise of variance 1/3 has sd
     * alpha * sqrt((sum g^2)^2 / 3) = 1.38 pixels at sigma 4 */
    int radius;
    const float *g = distort_kernel(w, &radius);
    double g2 = 0;
    for (int k = 0; k <= 2 * radius; k++)
        g2 += (double)g[k] * g[k];
    const double want = 34 * sqrt(g2 * g2 / 3);
    assert_float_equal(want, 1.38, 0.01);
    for (int a = 0; a < 2; a++)
        assert_float_equal(sqrt(ss[a] / n), want, 0.12 * want);
    assert_true(fabs(mean / (2.0 * n)) < 0.2);
    /* and neighbours move together: their differences are far smaller */
    assert_true(step / (2.0 * n) < want / 4);
    distort_free(w);
}

static void same_seed_same_pixels(void **state)
{
    (void)state;
    const char *specs[] = {"affine:rot=15,scale=0.15,shear=0.3,translate=1",
                           "elastic:alpha=34,sigma=4", "affine+elastic:rot=10,alpha=30,sigma=5"};
    uint8_t img[DIM];
    make_image(img, R, C, 4);
    for (int i = 0; i < 3; i++) {
        struct distort_spec s = parse_ok(specs[i]);
        struct distort *w1 = distort_create(&s, R, C), *w2 = distort_create(&s, R, C);
        struct rng a, b, c;
        rng_seed(&a, 11, RNG_AUGMENT);
        rng_seed(&b, 11, RNG_AUGMENT);
        rng_seed(&c, 12, RNG_AUGMENT);
        float x[DIM], y[DIM], z[DIM], first[DIM];
        for (int k = 0; k < 3; k++) {
            distort_image(w1, x, img, &a);
            distort_image(w2, y, img, &b);
            distort_image(w2, z, img, &c);
            assert_memory_equal(x, y, sizeof x);
            assert_memory_not_equal(x, z, sizeof x);
            if (k == 0)
                memcpy(first, x, sizeof x);
            else   /* and each image of the stream differs */
                assert_memory_not_equal(x, first, sizeof x);
        }
        assert_memory_equal(&a, &b, sizeof a);
        distort_free(w1);
        distort_free(w2);
    }
}

/* distort_images (a key per image in order, the rest on the team) gives the
 * pixels and leaves the stream where image-by-image distort_image does, at 1,
 * 2 and 3 threads, over a chunk boundary (64 images), for batches below the
 * parallel threshold, for the same images cut into other batches, and for
 * every kind of spec. */
static void batch_equals_one_by_one(void **state)
{
    (void)state;
    enum { N = 150 };
    const char *specs[] = {"elastic:alpha=34,sigma=4", "affine+elastic:rot=10,alpha=30,sigma=5",
                           "affine:rot=15,scale=0.15,shear=0.3,translate=1", "shift:2", "none"};
    const uint8_t *in[N];
    uint8_t *imgs = make_images(N, R, C, 100, in);
    float *want = malloc(sizeof(float) * N * DIM), *got = malloc(sizeof(float) * N * DIM);
    const int sizes[] = {N, 64, 65, 3, 1};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct distort_spec s = parse_ok(specs[i]);
        struct distort *one = distort_create(&s, R, C);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            const int n = sizes[k];
            struct rng a;
            rng_seed(&a, 21, RNG_AUGMENT);
            for (int b = 0; b < n; b++)
                distort_image(one, want + (size_t)b * DIM, in[b], &a);
            for (int threads = 1; threads <= 3; threads++) {
                omp_set_num_threads(threads);
                struct distort *w = distort_create(&s, R, C);
                struct rng r;
                rng_seed(&r, 21, RNG_AUGMENT);
                memset(got, 0xff, sizeof(float) * N * DIM);
                distort_images(w, got, in, n, &r);
                assert_memory_equal(want, got, sizeof(float) * (size_t)n * DIM);
                assert_memory_equal(&a, &r, sizeof a);
                /* the next images too: the scratch lanes carry nothing over */
                distort_images(w, got, in, n, &r);
                struct rng a2 = a;
                for (int b = 0; b < n; b++)
                    distort_image(one, want + (size_t)b * DIM, in[b], &a2);
                assert_memory_equal(want, got, sizeof(float) * (size_t)n * DIM);
                distort_free(w);
                rng_seed(&a, 21, RNG_AUGMENT);
                for (int b = 0; b < n; b++)
                    distort_image(one, want + (size_t)b * DIM, in[b], &a);
            }
        }
        /* N images in batches of 5, 64, 1, 30 and the rest, on 2 threads */
        omp_set_num_threads(2);
        struct distort *w = distort_create(&s, R, C);
        struct rng a, r;
        rng_seed(&a, 22, RNG_AUGMENT);
        r = a;
        for (int b = 0; b < N; b++)
            distort_image(one, want + (size_t)b * DIM, in[b], &a);
        const int cuts[] = {0, 5, 69, 70, 100, N};
        for (int c = 0; c + 1 < 6; c++)
            distort_images(w, got + (size_t)cuts[c] * DIM, in + cuts[c], cuts[c + 1] - cuts[c], &r);
        assert_memory_equal(want, got, sizeof(float) * N * DIM);
        assert_memory_equal(&a, &r, sizeof a);
        distort_free(w);
        distort_free(one);
    }
    omp_set_num_threads(1);
    free(imgs), free(want), free(got);
}

/* Sizes other than MNIST's, both ways of smoothing (dense up to 32 a side,
 * odd and 1x1; tap by tap above): the team equals image by image, pixels
 * stay in [0, 1], and a zero map with alpha 0 is the identity. */
static void other_sizes(void **state)
{
    (void)state;
    const int shapes[][2] = {{1, 1}, {5, 3}, {31, 32}, {33, 40}, {28, 56}, {70, 9}};
    enum { N = 9 };
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int rows = shapes[t][0], cols = shapes[t][1], dim = rows * cols;
        const uint8_t *in[N];
        uint8_t *imgs = make_images(N, rows, cols, 300, in);
        float *want = malloc(sizeof(float) * N * dim), *got = malloc(sizeof(float) * N * dim);
        struct distort_spec s = parse_ok("affine+elastic:rot=20,scale=0.2,translate=2,alpha=8,sigma=3");
        omp_set_num_threads(2);
        struct distort *w = distort_create(&s, rows, cols), *one = distort_create(&s, rows, cols);
        assert_non_null(w);
        struct rng a, r;
        rng_seed(&a, 5, RNG_AUGMENT);
        r = a;
        for (int b = 0; b < N; b++)
            distort_image(one, want + (size_t)b * dim, in[b], &a);
        distort_images(w, got, in, N, &r);
        assert_memory_equal(want, got, sizeof(float) * N * dim);
        for (int p = 0; p < N * dim; p++)
            assert_true(got[p] >= 0 && got[p] <= 1);
        distort_free(w), distort_free(one);
        struct distort_spec z = parse_ok("affine+elastic:rot=0,alpha=0,sigma=5");
        w = distort_create(&z, rows, cols);
        distort_images(w, got, in, N, &r);
        for (int b = 0; b < N; b++) {
            plain(want, in[b], dim);
            assert_memory_equal(want, got + (size_t)b * dim, sizeof(float) * dim);
        }
        distort_free(w);
        free(imgs), free(want), free(got);
    }
    omp_set_num_threads(1);
}

/* The draws come in a fixed order whatever is switched on: the elastic field
 * of elastic:... and of affine+elastic:... with an all-zero map are the same. */
static void draws_do_not_depend_on_other_parameters(void **state)
{
    (void)state;
    uint8_t img[DIM];
    make_image(img, R, C, 5);
    struct distort_spec s1 = parse_ok("elastic:alpha=20,sigma=3");
    struct distort_spec s2 = parse_ok("affine+elastic:rot=0,alpha=20,sigma=3");
    struct distort *w1 = distort_create(&s1, R, C), *w2 = distort_create(&s2, R, C);
    struct rng a, b;
    rng_seed(&a, 21, RNG_AUGMENT);
    rng_seed(&b, 21, RNG_AUGMENT);
    float x[DIM], y[DIM];
    for (int k = 0; k < 4; k++) {
        distort_image(w1, x, img, &a);
        distort_image(w2, y, img, &b);
        assert_memory_equal(x, y, sizeof x);
    }
    distort_free(w1);
    distort_free(w2);
}

/* batch_gather's shift path as it was before this module (it computed these
 * pixels with these draws), kept as the reference */
static void reference_shift(float *out, const uint8_t *in, int rows, int cols, int shift,
                            struct rng *r)
{
    int dx = (int)rng_below(r, 2u * (uint32_t)shift + 1) - shift;
    int dy = (int)rng_below(r, 2u * (uint32_t)shift + 1) - shift;
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++) {
            int sx = x - dx, sy = y - dy;
            out[y * cols + x] = sx >= 0 && sx < cols && sy >= 0 && sy < rows
                                    ? (float)in[sy * cols + sx] * (1.0f / 255.0f)
                                    : 0.0f;
        }
}

static void shift_is_the_original_shift(void **state)
{
    (void)state;
    enum { N = 40 };
    uint8_t *pix = make_images(N, R, C, 100, NULL);
    struct dataset d = {.n = N, .rows = R, .cols = C, .dim = DIM, .x = pix};
    uint32_t idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = (uint32_t)(i * 7 % N);
    float *want = malloc(sizeof(float) * N * DIM), *got = malloc(sizeof(float) * N * DIM);
    float *ref = malloc(sizeof(float) * N * DIM);
    for (int shift = 1; shift <= 8; shift++) {
        char text[24];
        snprintf(text, sizeof text, "shift:%d", shift);
        struct distort_spec s = parse_ok(text);
        struct distort *w = distort_create(&s, R, C);
        struct rng a, b, c;
        rng_seed(&a, (uint64_t)shift, RNG_AUGMENT);
        b = c = a;
        batch_gather(want, &d, idx, N, w, &a);
        for (int i = 0; i < N; i++) {
            distort_image(w, got + i * DIM, pix + idx[i] * DIM, &b);
            reference_shift(ref + i * DIM, pix + idx[i] * DIM, R, C, shift, &c);
        }
        assert_memory_equal(got, want, sizeof(float) * N * DIM);
        assert_memory_equal(got, ref, sizeof(float) * N * DIM);
        assert_memory_equal(&a, &b, sizeof a);   /* the same draws were consumed */
        assert_memory_equal(&a, &c, sizeof a);
        distort_free(w);
    }
    free(pix);
    free(want);
    free(got);
    free(ref);
}

static void assert_spec_equal(const struct distort_spec *a, const struct distort_spec *b)
{
    assert_int_equal(a->shift, b->shift);
    assert_int_equal(a->affine, b->affine);
    assert_int_equal(a->elastic, b->elastic);
    assert_true(a->rot == b->rot && a->scale == b->scale && a->stretch == b->stretch);
    assert_true(a->shear == b->shear && a->translate == b->translate);
    assert_true(a->alpha == b->alpha && a->sigma == b->sigma && a->narrow == b->narrow);
}

/* narrow=F: an image labelled 1 or 7 is the image of the same key under rot
 * and shear (1 - F) times as large, any other label (or none) the full ones;
 * labelled batches are the same on 1 to 3 threads and in any cut */
static void narrow_ones_and_sevens(void **state)
{
    (void)state;
    enum { N = 100 };
    const uint8_t *in[N];
    uint8_t *imgs = make_images(N, R, C, 300, in);
    uint8_t labels[N];
    for (int b = 0; b < N; b++)
        labels[b] = (uint8_t)(b % 10);
    struct distort_spec full = parse_ok("affine+elastic:rot=15,shear=0.268,stretch=0.2,alpha=30,sigma=5");
    struct distort_spec half = parse_ok("affine+elastic:rot=7.5,shear=0.134,stretch=0.2,alpha=30,sigma=5");
    struct distort_spec nar = parse_ok("affine+elastic:rot=15,shear=0.268,narrow=0.5,stretch=0.2,alpha=30,sigma=5");
    assert_true(nar.narrow == 0.5);
    struct distort *wf = distort_create(&full, R, C), *wh = distort_create(&half, R, C);
    float *want = malloc(sizeof(float) * N * DIM), *got = malloc(sizeof(float) * N * DIM);
    struct rng a, b;
    rng_seed(&a, 9, RNG_AUGMENT);
    b = a;
    for (int i = 0; i < N; i++) {
        struct rng keep = a;
        distort_image(wf, want + (size_t)i * DIM, in[i], &a);
        if (labels[i] == 1 || labels[i] == 7)
            distort_image(wh, want + (size_t)i * DIM, in[i], &keep);
    }
    int differ = 0;
    for (int threads = 1; threads <= 3; threads++) {
        omp_set_num_threads(threads);
        struct distort *wn = distort_create(&nar, R, C);
        struct rng r = b;
        const int cuts[] = {0, 7, 71, 72, N};
        for (int c = 0; c + 1 < 5; c++)
            distort_images_labelled(wn, got + (size_t)cuts[c] * DIM, in + cuts[c], labels + cuts[c],
                                    cuts[c + 1] - cuts[c], &r);
        for (int i = 0; i < N; i++)
            if (memcmp(want + (size_t)i * DIM, got + (size_t)i * DIM, sizeof(float) * DIM))
                fail_msg("image %d (label %d) on %d threads", i, labels[i], threads);
        assert_memory_equal(&a, &r, sizeof a);
        /* without labels nothing narrows: the full spec's pixels */
        r = b;
        distort_images(wn, got, in, N, &r);
        struct rng c = b;
        float one[DIM];
        for (int i = 0; i < N; i++) {
            distort_image(wf, one, in[i], &c);
            assert_memory_equal(one, got + (size_t)i * DIM, sizeof one);
            if (threads == 1 && (labels[i] == 1 || labels[i] == 7))
                differ += memcmp(one, want + (size_t)i * DIM, sizeof one) != 0;
        }
        distort_free(wn);
    }
    assert_int_equal(differ, 20);   /* and narrowing does change the 1s and 7s */
    omp_set_num_threads(1);
    distort_free(wf), distort_free(wh);
    free(imgs), free(want), free(got);
}

static void parse_and_format(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"none", "none"},
        {"shift:2", "shift:2"},
        {"shift:+8", "shift:8"},
        {"affine:rot=15,scale=0.15,shear=0.3", "affine:rot=15,scale=0.15,shear=0.3"},
        {"affine:shear=0.3,rot=15.0", "affine:rot=15,shear=0.3"},
        {"affine:rot=0,scale=0", "affine:rot=0"},
        {"affine:translate=0", "affine:rot=0"},
        {"affine:stretch=0.2,translate=1.5", "affine:stretch=0.2,translate=1.5"},
        {"elastic:sigma=4,alpha=34", "elastic:alpha=34,sigma=4"},
        {"elastic:alpha=-0,sigma=4", "elastic:alpha=0,sigma=4"},
        {"elastic:alpha=1e1,sigma=.25", "elastic:alpha=10,sigma=0.25"},
        {"affine+elastic:rot=7.5,scale=0.1,alpha=36,sigma=5.5",
         "affine+elastic:rot=7.5,scale=0.1,alpha=36,sigma=5.5"},
        {"affine+elastic:alpha=34,sigma=4,rot=0.1", "affine+elastic:rot=0.1,alpha=34,sigma=4"},
        {"affine:rot=180,scale=0.5,stretch=0.5,shear=1,translate=8",
         "affine:rot=180,scale=0.5,stretch=0.5,shear=1,translate=8"},
        {"affine+elastic:narrow=0.5,shear=0.268,rot=15,alpha=36,sigma=6",
         "affine+elastic:rot=15,shear=0.268,narrow=0.5,alpha=36,sigma=6"},
        {"affine:rot=15,narrow=0", "affine:rot=15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct distort_spec s = parse_ok(cases[i][0]), back;
        char text[DISTORT_TEXT_MAX];
        assert_int_equal(distort_format(&s, text, sizeof text), 0);
        assert_string_equal(text, cases[i][1]);
        back = parse_ok(text);
        assert_spec_equal(&s, &back);
        assert_int_equal(distort_is_none(&s), i == 0);
    }
    /* values that need many digits come back exactly */
    struct distort_spec s = parse_ok("affine+elastic:rot=0.1,scale=0.30000000000000004,"
                                     "alpha=33.333333333333336,sigma=3.9999999999999996");
    char text[DISTORT_TEXT_MAX];
    assert_int_equal(distort_format(&s, text, sizeof text), 0);
    struct distort_spec back = parse_ok(text);
    assert_spec_equal(&s, &back);
    /* the longest text: every key, each with 17 digits and an exponent */
    s = parse_ok("affine+elastic:rot=1.2345678901234567e-05,scale=1.2345678901234567e-05,"
                 "stretch=1.2345678901234567e-05,shear=1.2345678901234567e-05,"
                 "translate=1.2345678901234567e-05,narrow=1.2345678901234567e-05,"
                 "alpha=1.2345678901234567e-05,"
                 "sigma=0.25000000000000006");
    assert_int_equal(distort_format(&s, text, sizeof text), 0);
    back = parse_ok(text);
    assert_spec_equal(&s, &back);
    assert_int_equal(distort_format(&s, text, 10), -1);
    assert_string_equal(text, "");
    /* a buffer of exactly the text's length has no room for its NUL: refused
     * (nothing written past it); one byte more holds it */
    s = parse_ok("affine:rot=15");
    const size_t len = strlen("affine:rot=15");
    char *exact = malloc(len + 1);
    assert_int_equal(distort_format(&s, exact, len), -1);
    assert_string_equal(exact, "");
    assert_int_equal(distort_format(&s, exact, len + 1), 0);
    assert_string_equal(exact, "affine:rot=15");
    free(exact);
}

static void parse_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "augment: '': expected none, shift:N, affine:..."},
        {"None", "expected none, shift:N"},
        {"flip", "expected none, shift:N"},
        {"none:", "expected none, shift:N"},
        {"shift", "expected parameters after 'shift:'"},
        {"shift:", "shift '' is not a whole number"},
        {"shift:0", "augment: 'shift:0': shift 0 is out of range 1..8"},
        {"shift:9", "shift 9 is out of range 1..8"},
        {"shift:2.5", "shift '2.5' is not a whole number"},
        {"shift:2 ", "shift '2 ' is not a whole number"},
        {"shift:99999999999999999999", "is not a whole number"},
        {"affine", "expected parameters after 'affine:'"},
        {"affine:", "no parameters after ':'"},
        {"elastic+affine:alpha=1,sigma=1", "write 'affine+elastic'"},
        {"affine+shift:rot=1", "expected none, shift:N"},
        {" affine:rot=1", "expected none"},
        {"affine:rot", "'rot' has no value (write rot=V)"},
        {"affine:rot=1,5", "',5' after a value: decimals take a point here (1.5, not 1,5)"},
        {"affine+elastic:alpha=34,5,sigma=6", "',5' after a value: decimals take a point"},
        {"affine:5", "'5' has no value (write 5=V)"},
        {"affine:rot=", "rot '' is not a finite decimal number"},
        {"affine:rot=nan", "rot 'nan' is not a finite decimal number"},
        {"affine:rot=NaN", "rot 'NaN' is not a finite decimal number"},
        {"affine:rot=inf", "rot 'inf' is not a finite decimal number"},
        {"affine:rot=1e999", "rot '1e999' is not a finite decimal number"},
        {"affine:rot=0x10", "rot '0x10' is not a finite decimal number"},
        {"affine:rot= 5", "rot ' 5' is not a finite decimal number"},
        {"affine:rot=5x", "rot '5x' is not a finite decimal number"},
        {"affine:rot=5,", "empty parameter"},
        {"affine:,rot=5", "empty parameter"},
        {"affine:rot=5,,scale=0.1", "empty parameter"},
        {"affine:rot=5=6", "rot '5=6' is not a finite decimal number"},
        {"affine:rot=181", "augment: 'affine:rot=181': rot 181 is out of range 0..180"},
        {"affine:rot=-1", "rot -1 is out of range 0..180"},
        {"affine:scale=0.6", "scale 0.6 is out of range 0..0.5"},
        {"affine:stretch=1", "stretch 1 is out of range 0..0.5"},
        {"affine:shear=1.01", "shear 1.01 is out of range 0..1"},
        {"affine:translate=9", "translate 9 is out of range 0..8"},
        {"elastic:alpha=101,sigma=4", "alpha 101 is out of range 0..100"},
        {"elastic:alpha=34,sigma=0.2", "sigma 0.2 is out of range 0.25..16"},
        {"elastic:alpha=34,sigma=17", "sigma 17 is out of range 0.25..16"},
        {"elastic:alpha=34,sigma=0", "sigma 0 is out of range 0.25..16"},
        {"affine:rot=5,rot=6", "'rot' given twice"},
        {"affine+elastic:alpha=3,sigma=4,alpha=3", "'alpha' given twice"},
        {"affine:rott=5", "unknown parameter 'rott' (affine: rot, scale"},
        {"affine:Rot=5", "unknown parameter 'Rot'"},
        {"affine:=5", "unknown parameter ''"},
        {"affine:alpha=34", "'alpha' is a parameter of elastic, which this does not name"},
        {"elastic:rot=5,alpha=1,sigma=1", "'rot' is a parameter of affine"},
        {"elastic:alpha=34", "elastic needs sigma"},
        {"elastic:sigma=4", "elastic needs alpha"},
        {"affine+elastic:rot=5", "elastic needs alpha"},
        {"affine:rot=1;", "rot '1;' is not a finite decimal number"},
        {"affine:rot=1 scale=0.1", "is not a finite decimal number"},
        {"affine:rotxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=1",
         "is too long"},
        {"affine:rot=1$(rm -rf x)", "rot '1$(rm -rf x)' is not a finite decimal number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct distort_spec s = {.shift = 3}, was = s;
        struct err e = {0};
        if (distort_parse(&s, cases[i][0], "augment", &e) != ERR_USAGE)
            fail_msg("'%s' accepted", cases[i][0]);
        if (!strstr(e.msg, cases[i][1]))
            fail_msg("'%s': message '%s' lacks '%s'", cases[i][0], e.msg, cases[i][1]);
        /* every message names the option and quotes the text */
        char head[256];
        snprintf(head, sizeof head, "augment: '%s': ", cases[i][0]);
        if (strncmp(e.msg, head, strlen(head)))
            fail_msg("'%s': message '%s' does not start with \"%s\"", cases[i][0], e.msg, head);
        assert_spec_equal(&s, &was);   /* untouched on error */
    }
    /* a long text is quoted cut, and the reason still ends the message */
    char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    memcpy(long_text, "affine:rot=1,", 13);
    struct err e = {0};
    struct distort_spec s;
    assert_int_equal(distort_parse(&s, long_text, "augment", &e), ERR_USAGE);
    assert_true(strlen(e.msg) < 300);
    assert_non_null(strstr(e.msg, "augment: 'affine:rot=1,xxx"));
    assert_non_null(strstr(e.msg, "xxx...': parameter 'xxxxxxxxxxxxxxxxxxxx...' is too long"));
    memset(&e, 0, sizeof e);
    assert_int_equal(distort_parse(&s, "affine:rot=-", "--augment", &e), ERR_USAGE);
    assert_string_equal(e.msg, "--augment: 'affine:rot=-': rot '-' is not a finite decimal number");
}

static void create_rejects_bad_shapes(void **state)
{
    (void)state;
    struct distort_spec s = parse_ok("elastic:alpha=1,sigma=2");
    assert_null(distort_create(&s, 0, 28));
    assert_null(distort_create(&s, 28, -1));
    assert_null(distort_create(&s, 5000, 28));
    s.sigma = 100;   /* a spec that did not come through the parser */
    assert_null(distort_create(&s, 28, 28));
    distort_free(NULL);
    /* a 1x1 image and a kernel far wider than the image */
    s = parse_ok("affine+elastic:rot=30,alpha=5,sigma=16");
    struct distort *w = distort_create(&s, 1, 1);
    assert_non_null(w);
    uint8_t px = 255;
    float out;
    struct rng r;
    rng_seed(&r, 1, 1);
    for (int i = 0; i < 10; i++) {
        distort_image(w, &out, &px, &r);
        assert_true(out >= 0 && out <= 1);
    }
    distort_free(w);
}

/* ---- through ./train, on the synthetic 10x10 digits ---- */

/* the same seed and spec give the same run; a change of alpha alone (same
 * seed: same weights, order, draws) changes it, so the distortion is used */
static void trains_deterministically(void **state)
{
    (void)state;
    const char *specs[3] = {"affine+elastic:sigma=2,alpha=5,rot=10,translate=0.5",
                            "affine+elastic:sigma=2,alpha=5,rot=10,translate=0.5",
                            "affine+elastic:sigma=2,alpha=6,rot=10,translate=0.5"};
    char *out[3], *err[3], *clean[3];
    for (int i = 0; i < 3; i++) {
        RUN(0, out[i], err[i], "--data-dir", test_dir, "--json", "--epochs", "2", "--hidden", "16",
            "--threads", "1", "--seed", "5", "--augment", specs[i]);
        clean[i] = json_without_times(out[i]);
    }
    assert_string_equal(clean[0], clean[1]);
    assert_string_not_equal(clean[0], clean[2]);
    /* the summary carries the canonical text */
    assert_non_null(strstr(clean[0], "\"augment\":\"affine+elastic:rot=10,translate=0.5,alpha=5,sigma=2\""));
    for (int i = 0; i < 3; i++)
        free(out[i]), free(err[i]), free(clean[i]);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* With the warps on a team of two, a run stopped by SIGTERM part way (saving
 * a checkpoint) and resumed ends with exactly the bytes of a run left alone:
 * the checkpoint holds the augmentation stream where the batches left it. */
static void elastic_resume_is_exact(void **state)
{
    (void)state;
    char *out, *err;
    const char *whole = path_in(test_dir, "whole.bin"), *part = path_in(test_dir, "part.bin");
    const char *a[] = {"--data-dir", test_dir, "--hidden", "128", "--augment",
                       "affine+elastic:rot=10,alpha=5,sigma=2", "--epochs", "60",
                       "--batch-size", "32", "--threads", "2", "--quiet", "--save", whole, NULL};
    const char *b[] = {"--data-dir", test_dir, "--hidden", "128", "--augment",
                       "affine+elastic:rot=10,alpha=5,sigma=2", "--epochs", "60",
                       "--batch-size", "32", "--threads", "2", "--quiet", "--json",
                       "--save", part, NULL};
    assert_int_equal(run_train(a, &out, &err), 0);
    free(out), free(err);
    /* stopped part way: after its 20th epoch line (an event, not a time, so
     * the run cannot end first however busy the machine is) */
    int sent, rc = run_train_signal_at(b, "{\"type\":\"epoch\"", 20, SIGTERM, &sent, &out, &err);
    if (!sent || rc != 143)
        fail_msg("signalled after its 20th epoch: exit %d: %s", rc, err);
    assert_non_null(strstr(err, "checkpoint saved to"));
    free(out), free(err);
    const char *c[] = {"--data-dir", test_dir, "--resume", part, "--quiet", NULL};
    assert_int_equal(run_train(c, &out, &err), 0);
    free(out), free(err);
    size_t la, lb;
    uint8_t *x = slurp_bytes(whole, &la), *y = slurp_bytes(part, &lb);
    assert_true(la > 1000);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x), free(y);
}

/* The shipped distort configs load, differ only in the head, and say the
 * distortion and precision their table was made with. */
static void shipped_distort_configs(void **state)
{
    (void)state;
    struct config c[2];
    const char *files[2] = {"configs/distort-softmax.json", "configs/distort-sigmoid.json"};
    for (int i = 0; i < 2; i++) {
        struct err e = {0};
        config_defaults(&c[i]);
        if (config_load_file(&c[i], files[i], &e))
            fail_msg("%s", e.msg);
        char text[DISTORT_TEXT_MAX];
        assert_int_equal(distort_format(&c[i].augment, text, sizeof text), 0);
        assert_string_equal(text, "affine+elastic:rot=5,translate=1.5,alpha=34,sigma=6");
        assert_int_equal(c[i].precision, PRECISION_AUTO);   /* bf16 where native */
        assert_int_equal(c[i].hidden.n, 2);
        assert_int_equal(c[i].hidden.v[0], 800);
        assert_int_equal(c[i].hidden.v[1], 800);
    }
    assert_int_equal(c[0].head, HEAD_SOFTMAX);
    assert_int_equal(c[1].head, HEAD_SIGMOID);
    c[1].head = c[0].head;
    c[1].loss = c[0].loss;
    assert_memory_equal(&c[0], &c[1], sizeof c[0]);
}

static void bad_augment_is_a_usage_error(void **state)
{
    (void)state;
    char *out, *err;
    const char *model = path_in(test_dir, "never.bin");
    RUN(64, out, err, "--data-dir", test_dir, "--save", model, "--augment", "elastic:alpha=nan,sigma=4");
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "train: --augment: 'elastic:alpha=nan,sigma=4': alpha 'nan' is not "
                                "a finite decimal number\n"));
    assert_null(fopen(model, "rb"));
    free(out), free(err);
    const char *cfg = path_in(test_dir, "a.json");
    write_text(cfg, "{\"augment\": \"affine:rot=15,shear=0.3,\"}");
    RUN(64, out, err, "--config", cfg, "--data-dir", test_dir);
    assert_non_null(strstr(err, "augment: 'affine:rot=15,shear=0.3,': empty parameter"));
    free(out), free(err);
}

/* ---- --bench and --dump ---- */

static int load_mnist(struct dataset *d)
{
    const char *dir = getenv("MNIST_DIR");
    char img[4096], lab[4096];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir ? dir : "data/mnist");
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir ? dir : "data/mnist");
    struct err e = {0};
    if (dataset_load(d, img, lab, &e)) {
        fprintf(stderr, "test_distort: %s\n", e.msg);
        return 1;
    }
    return 0;
}

/* CPU time of this thread: the machine is shared, wall time would count the others */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* seconds for distort_images over the n images, 64 at a time as batch_gather
 * hands them over, on the OpenMP team w was made for: wall time */
static double bench_team(struct distort *w, const struct dataset *d, int n, float *out)
{
    const uint8_t *in[64];
    struct rng r;
    rng_seed(&r, 1, RNG_AUGMENT);
    double t0 = now();
    for (int b0 = 0; b0 < n; b0 += 64) {
        const int m = n - b0 < 64 ? n - b0 : 64;
        for (int b = 0; b < m; b++)
            in[b] = d->x + (size_t)(b0 + b) * d->dim;
        distort_images(w, out, in, m, &r);
    }
    return now() - t0;
}

/* Per spec: one thread's CPU time for distort_image (the machine is shared,
 * wall time would count the others), and the wall time of distort_images on
 * the team (OMP_NUM_THREADS, or every core), as training uses it. */
static int bench(int n)
{
    struct dataset d;
    if (load_mnist(&d))
        return 1;
    if (n <= 0 || (uint32_t)n > d.n)
        n = (int)d.n;
    const char *specs[] = {"none", "shift:2", "affine:rot=15,scale=0.15,shear=0.3",
                           "elastic:alpha=34,sigma=4",
                           ("affine+elastic:rot=15,scale=0.15,shear=0.3,alpha=34,sigma=4"),
                           "elastic:alpha=34,sigma=6",
                           "affine+elastic:rot=5,translate=1.5,alpha=34,sigma=6"};
    float *out = malloc(sizeof(float) * d.dim * 64);
    double sink = 0;
    const int team = omp_get_max_threads();
    printf("%-52s %10s %8s %8s   (best of 3)\n", "augment", "images/s", "s/60k", "s/60k");
    printf("%-52s %10s %8s %8s\n", "", "1 thr CPU", "1 thr", "team");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct distort_spec s = parse_ok(specs[i]);
        struct distort *w = distort_create(&s, (int)d.rows, (int)d.cols);
        struct rng r;
        rng_seed(&r, 1, RNG_AUGMENT);
        double best = 1e9, best_team = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = cpu_now();
            for (int k = 0; k < n; k++) {
                distort_image(w, out, d.x + (size_t)k * d.dim, &r);
                sink += out[k % d.dim];
            }
            double t = cpu_now() - t0;
            best = t < best ? t : best;
            t = bench_team(w, &d, n, out);
            sink += out[rep];
            best_team = t < best_team ? t : best_team;
        }
        printf("%-52s %10.0f %8.4f %8.4f\n", specs[i], n / best, 60000 * best / n,
               60000 * best_team / n);
        distort_free(w);
    }
    printf("(team: %d threads, wall time)\n", team);
    fprintf(stderr, "(checksum %g)\n", sink);
    free(out);
    dataset_free(&d);
    return 0;
}

/* 8 rows: a digit, then 7 distortions of it, 2 pixels apart, as a binary PGM */
static int dump(const char *path, const char *text)
{
    struct dataset d;
    if (load_mnist(&d))
        return 1;
    struct distort_spec s = parse_ok(text);
    struct distort *w = distort_create(&s, (int)d.rows, (int)d.cols);
    const int cell = (int)d.cols + 2, W = 8 * cell, H = 8 * ((int)d.rows + 2);
    uint8_t *canvas = calloc((size_t)W * H, 1);
    float *out = malloc(sizeof(float) * d.dim);
    struct rng r;
    rng_seed(&r, 1, RNG_AUGMENT);
    for (int row = 0; row < 8; row++)
        for (int col = 0; col < 8; col++) {
            const uint8_t *img = d.x + (size_t)(row * 97) * d.dim;
            if (col == 0)
                plain(out, img, (int)d.dim);
            else
                distort_image(w, out, img, &r);
            for (uint32_t y = 0; y < d.rows; y++)
                for (uint32_t x = 0; x < d.cols; x++)
                    canvas[(size_t)(row * ((int)d.rows + 2) + 1 + (int)y) * W + col * cell + 1 +
                           (int)x] = (uint8_t)lrintf(255 * out[y * d.cols + x]);
        }
    FILE *f = fopen(path, "wb");
    int rc = !f || fprintf(f, "P5\n%d %d\n255\n", W, H) < 0 ||
             fwrite(canvas, 1, (size_t)W * H, f) != (size_t)W * H;
    if ((f && fclose(f)) || rc) {
        fprintf(stderr, "test_distort: %s: cannot write\n", path);
        rc = 1;
    }
    free(canvas);
    free(out);
    distort_free(w);
    dataset_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--bench"))
        return bench(argc >= 3 ? atoi(argv[2]) : 0);
    if (argc == 4 && !strcmp(argv[1], "--dump"))
        return dump(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_is_identity),
        cmocka_unit_test(translation_moves_pixels),
        cmocka_unit_test(translation_draws_x_and_y_apart),
        cmocka_unit_test(scale_and_stretch_draws),
        cmocka_unit_test(rotation_by_90),
        cmocka_unit_test(bilinear_keeps_a_constant),
        cmocka_unit_test(kernel_and_smoothing),
        cmocka_unit_test(smoothing_matches_the_definition),
        cmocka_unit_test(elastic_field_statistics),
        cmocka_unit_test(elastic_field_is_bounded_and_smooth),
        cmocka_unit_test(same_seed_same_pixels),
        cmocka_unit_test(batch_equals_one_by_one),
        cmocka_unit_test(other_sizes),
        cmocka_unit_test(draws_do_not_depend_on_other_parameters),
        cmocka_unit_test(shift_is_the_original_shift),
        cmocka_unit_test(narrow_ones_and_sevens),
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(create_rejects_bad_shapes),
        cmocka_unit_test(trains_deterministically),
        cmocka_unit_test(elastic_resume_is_exact),
        cmocka_unit_test(bad_augment_is_a_usage_error),
        cmocka_unit_test(shipped_distort_configs),
    };
    return cmocka_run_group_tests_name("distort", tests, setup_synthetic_dir, teardown_dir);
}
