#include "distort.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/num.h"

/* ---- the spec: grammar, ranges, canonical text ---- */

enum part { P_AFFINE, P_ELASTIC };

/* every parameter once, in canonical order */
static const struct param {
    const char *key;
    enum part part;
    size_t off;
    double lo, hi;
    bool lo_open;
} PARAMS[] = {
    {"rot", P_AFFINE, offsetof(struct distort_spec, rot), 0, 180, false},
    {"scale", P_AFFINE, offsetof(struct distort_spec, scale), 0, 0.5, false},
    {"stretch", P_AFFINE, offsetof(struct distort_spec, stretch), 0, 0.5, false},
    {"shear", P_AFFINE, offsetof(struct distort_spec, shear), 0, 1, false},
    {"translate", P_AFFINE, offsetof(struct distort_spec, translate), 0, 8, false},
    {"alpha", P_ELASTIC, offsetof(struct distort_spec, alpha), 0, 100, false},
    {"sigma", P_ELASTIC, offsetof(struct distort_spec, sigma), 0.25, 16, false},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])
#define SHIFT_MAX 8
#define ITEM_MAX 64

static const char *PART_NAME[] = {"affine", "elastic"};

static double *param_field(struct distort_spec *s, const struct param *p)
{
    return (double *)((char *)s + p->off);
}

static int bad(struct err *e, const char *who, const char *text, const char *fmt, const char *a,
               const char *b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, a, b);
    /* a long text is cut, so that what is wrong still fits in the message */
    int cut = strlen(text) > 100;
    return err_set(e, ERR_USAGE, "%s: '%.*s%s': %s", who, cut ? 96 : 100, text, cut ? "..." : "",
                   what);
}

static int parse_shift(struct distort_spec *s, const char *body, const char *who,
                       const char *text, struct err *e)
{
    long long v;
    if (!num_parse_long(body, &v))
        return bad(e, who, text, "shift '%s' is not a whole number of pixels", body, "");
    if (v < 1 || v > SHIFT_MAX)
        return bad(e, who, text, "shift %s is out of range 1..8", body, "");
    s->shift = (int)v;
    return 0;
}

static const struct param *find_param(const char *key)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if (!strcmp(PARAMS[i].key, key))
            return &PARAMS[i];
    return NULL;
}

/* one "key=value" of the list after the colon */
static int parse_item(struct distort_spec *s, unsigned *seen, const char *item, const char *who,
                      const char *text, struct err *e)
{
    char key[ITEM_MAX];
    const char *eq = strchr(item, '=');
    if (!*item)
        return bad(e, who, text, "empty parameter (a stray ',')", "", "");
    if (!eq)
        return bad(e, who, text, "'%s' has no value (write %s=V)", item, item);
    size_t kl = (size_t)(eq - item);
    memcpy(key, item, kl);
    key[kl] = 0;
    const struct param *p = find_param(key);
    if (!p)
        return bad(e, who, text,
                   "unknown parameter '%s' (affine: rot, scale, stretch, shear, translate; "
                   "elastic: alpha, sigma)", key, "");
    if (!(p->part == P_AFFINE ? s->affine : s->elastic))
        return bad(e, who, text, "'%s' is a parameter of %s, which this does not name", key,
                   PART_NAME[p->part]);
    unsigned bit = 1u << (p - PARAMS);
    if (*seen & bit)
        return bad(e, who, text, "'%s' given twice", key, "");
    *seen |= bit;
    double v;
    if (!num_parse_double(eq + 1, &v))
        return bad(e, who, text, "%s '%s' is not a finite decimal number", key, eq + 1);
    if (!(v <= p->hi && (p->lo_open ? v > p->lo : v >= p->lo))) {
        char range[64];
        snprintf(range, sizeof range, "%g..%g", p->lo, p->hi);
        char what[2 * ITEM_MAX + 128];
        snprintf(what, sizeof what, "%s %s is out of range %s", key, eq + 1, range);
        return bad(e, who, text, "%s", what, "");
    }
    *param_field(s, p) = v + 0.0;   /* -0 reads as 0 */
    return 0;
}

static int parse_params(struct distort_spec *s, const char *body, const char *who,
                        const char *text, struct err *e)
{
    unsigned seen = 0;
    char item[ITEM_MAX];
    if (!*body)
        return bad(e, who, text, "no parameters after ':'", "", "");
    for (const char *p = body;;) {
        size_t len = strcspn(p, ",");
        if (len >= sizeof item)
            return bad(e, who, text, "parameter '%.20s...' is too long", p, "");
        memcpy(item, p, len);
        item[len] = 0;
        if (parse_item(s, &seen, item, who, text, e))
            return e->code;
        if (!p[len])
            break;
        p += len + 1;
    }
    for (size_t i = 0; i < N_PARAMS; i++)
        if (PARAMS[i].part == P_ELASTIC && s->elastic && !(seen >> i & 1))
            return bad(e, who, text, "elastic needs %s", PARAMS[i].key, "");
    return 0;
}

int distort_parse(struct distort_spec *out, const char *text, const char *who, struct err *e)
{
    struct distort_spec s = {0};
    if (!strcmp(text, "none")) {
        *out = s;
        return 0;
    }
    const char *colon = strchr(text, ':');
    size_t hl = colon ? (size_t)(colon - text) : strlen(text);
    const char *body = colon ? colon + 1 : "";
#define HEAD_IS(name) (hl == strlen(name) && !strncmp(text, name, hl))
    if (HEAD_IS("shift") || HEAD_IS("affine") || HEAD_IS("elastic") ||
        HEAD_IS("affine+elastic")) {
        if (!colon)
            return bad(e, who, text, "expected parameters after '%s:'", text, "");
    } else if (HEAD_IS("elastic+affine")) {
        return bad(e, who, text, "write 'affine+elastic' (the affine map comes first)", "", "");
    } else {
        return bad(e, who, text,
                   "expected none, shift:N, affine:..., elastic:... or affine+elastic:...", "",
                   "");
    }
    int rc;
    if (HEAD_IS("shift")) {
        rc = parse_shift(&s, body, who, text, e);
    } else {
        s.affine = HEAD_IS("affine") || HEAD_IS("affine+elastic");
        s.elastic = HEAD_IS("elastic") || HEAD_IS("affine+elastic");
        rc = parse_params(&s, body, who, text, e);
    }
#undef HEAD_IS
    if (!rc)
        *out = s;
    return rc;
}

/* the shortest decimal that reads back as v, without an exponent when one
 * of at most 17 digits will do ("10", not "1e+01") */
static void shortest(char *buf, size_t n, double v)
{
    for (int plain = 1; plain >= 0; plain--)
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, v);
            if (strtod(buf, NULL) == v && (!plain || !strchr(buf, 'e')))
                return;
        }
}

int distort_format(const struct distort_spec *s, char *buf, size_t n)
{
    char tmp[DISTORT_TEXT_MAX * 2];
    size_t used;
    if (s->shift)
        used = (size_t)snprintf(tmp, sizeof tmp, "shift:%d", s->shift);
    else if (!s->affine && !s->elastic)
        used = (size_t)snprintf(tmp, sizeof tmp, "none");
    else {
        used = (size_t)snprintf(tmp, sizeof tmp, "%s%s%s:", s->affine ? "affine" : "",
                                s->affine && s->elastic ? "+" : "", s->elastic ? "elastic" : "");
        size_t before = used;
        for (size_t i = 0; i < N_PARAMS; i++) {
            const struct param *p = &PARAMS[i];
            double v = *param_field((struct distort_spec *)s, p);
            bool on = p->part == P_AFFINE ? s->affine : s->elastic;
            /* zeros are left out, but elastic's two are required and an
             * affine map with every parameter 0 still needs one */
            bool last_affine = i + 1 == N_PARAMS || PARAMS[i + 1].part != P_AFFINE;
            if (!on || (p->part == P_AFFINE && v == 0 && !(last_affine && used == before)))
                continue;
            if (p->part == P_AFFINE && v == 0)
                p = &PARAMS[0];   /* the all-zero map reads "rot=0" */
            char num[32];
            shortest(num, sizeof num, v);
            used += (size_t)snprintf(tmp + used, sizeof tmp - used, "%s%s=%s",
                                     used > before ? "," : "", p->key, num);
        }
    }
    if (used >= n || used >= sizeof tmp) {
        if (n)
            buf[0] = 0;
        return -1;
    }
    memcpy(buf, tmp, used + 1);
    return 0;
}

bool distort_is_none(const struct distort_spec *s)
{
    return !s->shift && !s->affine && !s->elastic;
}

/* ---- the work object ---- */

/* The smoothing runs on 8-float vectors (GCC/Clang vector extensions: one
 * AVX register, two SSE ones elsewhere) over rows padded to a multiple of
 * BLOCK floats; the padding lanes are computed and thrown away. Accumulating
 * over the taps in registers, not in memory, is what makes the 28-wide rows
 * of MNIST cheap. The order of the float operations is fixed by this source
 * (vector lanes are independent), so with FMA contraction off, as the
 * Makefile's ISO C mode keeps it, the sums do not depend on the vector width. */
typedef float vec __attribute__((vector_size(32)));
/* the same, at any float's address and allowed to alias floats: one vmovups */
typedef float vec_at __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD(p) (*(const vec_at *)(p))
#define VL 8
/* Four vectors (a block of 32 floats) are smoothed at once: one accumulator
 * would wait on its own additions, four keep the adder busy. */
#define BLOCK (4 * VL)

struct distort {
    struct distort_spec spec;
    int rows, cols, radius;
    int stride;      /* cols rounded up to a multiple of BLOCK */
    float *kernel;   /* 2 radius + 1 taps, sums to 1 */
    float *half;     /* kernel + radius: half[k] is the weight at offsets +-k */
    int *rmap, *cmap;/* mirror index of rows, columns -radius .. n-1+radius */
    float *field;    /* dx then dy, rows*cols each */
    float *noise;    /* 2 fields of rows*stride, padding lanes 0 */
    float *tmp;      /* rows*stride, between the two passes */
    float *pad;      /* one row with its mirrored margins, stride + 2 radius */
    float *src;      /* the source scaled to [0,1], zero border: 1 before, 2 after */
    /* distort_images: the draws of a chunk of images, made in order on the
     * calling thread, then warped in parallel, one lane per thread (lane 0 is
     * this struct, the others are made for the same spec) */
    int chunk, n_lanes;
    struct distort **lane;
    double *u;       /* chunk x 7 uniforms */
    float *draws;    /* chunk x 2 rows*cols noise values (elastic only) */
};

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

static float *alloc_vec(size_t n)
{
    /* whole vectors, aligned for them, zeroed so padding lanes stay finite */
    size_t bytes = (sizeof(float) * n + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

static int make_kernel(struct distort *w)
{
    double sigma = w->spec.sigma > 0 ? w->spec.sigma : 1;
    int r = (int)ceil(3 * sigma);
    w->radius = r;
    w->kernel = malloc(sizeof(float) * (size_t)(2 * r + 1));
    w->rmap = malloc(sizeof(int) * (size_t)(w->rows + 2 * r));
    w->cmap = malloc(sizeof(int) * (size_t)(w->cols + 2 * r));
    w->pad = alloc_vec((size_t)(w->stride + 2 * r));
    if (!w->kernel || !w->rmap || !w->cmap || !w->pad)
        return -1;
    double sum = 0;
    for (int k = -r; k <= r; k++)
        sum += exp(-(double)k * k / (2 * sigma * sigma));
    for (int k = -r; k <= r; k++)
        w->kernel[k + r] = (float)(exp(-(double)k * k / (2 * sigma * sigma)) / sum);
    w->half = w->kernel + r;
    for (int i = 0; i < w->rows + 2 * r; i++)
        w->rmap[i] = mirror(i - r, w->rows);
    for (int i = 0; i < w->cols + 2 * r; i++)
        w->cmap[i] = mirror(i - r, w->cols);
    return 0;
}

static struct distort *create_lane(const struct distort_spec *s, int rows, int cols)
{
    if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096 || !(s->sigma >= 0 && s->sigma <= 16))
        return NULL;
    struct distort *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->spec = *s;
    w->rows = rows;
    w->cols = cols;
    w->stride = (cols + BLOCK - 1) / BLOCK * BLOCK;
    size_t dim = (size_t)rows * (size_t)cols, padded = (size_t)rows * (size_t)w->stride;
    w->field = calloc(2 * dim, sizeof(float));
    w->noise = alloc_vec(2 * padded);
    w->tmp = alloc_vec(padded);
    w->src = calloc((size_t)(rows + 3) * (size_t)(cols + 3), sizeof(float));
    if (!w->field || !w->noise || !w->tmp || !w->src || make_kernel(w)) {
        distort_free(w);
        return NULL;
    }
    return w;
}

/* Images drawn ahead per parallel warp, and lanes: a chunk's noise is at most
 * LANE_FLOATS floats, and large images get one lane (their scratch is large,
 * and they are not what the parallel warp is for). */
#define CHUNK_MAX 64
#define LANES_MAX 64
#define LANE_FLOATS (1u << 20)

static int make_lanes(struct distort *w)
{
    const size_t dim = (size_t)w->rows * (size_t)w->cols;
    const int warps = w->spec.affine || w->spec.elastic;
    int threads = omp_get_max_threads();
    w->n_lanes = !warps || dim > 65536 ? 1 : threads < 1 ? 1 : threads > LANES_MAX ? LANES_MAX
                                                                                  : threads;
    w->chunk = !warps ? 1 : w->spec.elastic ? (int)(LANE_FLOATS / (2 * dim)) : CHUNK_MAX;
    w->chunk = w->chunk < 1 ? 1 : w->chunk > CHUNK_MAX ? CHUNK_MAX : w->chunk;
    w->lane = calloc((size_t)w->n_lanes, sizeof *w->lane);
    w->u = malloc(sizeof(double) * 7 * (size_t)w->chunk);
    if (w->spec.elastic)
        w->draws = malloc(sizeof(float) * 2 * dim * (size_t)w->chunk);
    if (!w->lane || !w->u || (w->spec.elastic && !w->draws))
        return -1;
    w->lane[0] = w;
    for (int i = 1; i < w->n_lanes; i++)
        if (!(w->lane[i] = create_lane(&w->spec, w->rows, w->cols)))
            return -1;
    return 0;
}

struct distort *distort_create(const struct distort_spec *s, int rows, int cols)
{
    struct distort *w = create_lane(s, rows, cols);
    if (w && make_lanes(w)) {
        distort_free(w);
        return NULL;
    }
    return w;
}

void distort_free(struct distort *w)
{
    if (!w)
        return;
    for (int i = 1; w->lane && i < w->n_lanes; i++)
        distort_free(w->lane[i]);
    free(w->lane);
    free(w->u);
    free(w->draws);
    free(w->kernel);
    free(w->rmap);
    free(w->cmap);
    free(w->pad);
    free(w->field);
    free(w->noise);
    free(w->tmp);
    free(w->src);
    free(w);
}

const float *distort_field_x(const struct distort *w) { return w->field; }
const float *distort_field_y(const struct distort *w)
{
    return w->field + (size_t)w->rows * w->cols;
}

const float *distort_kernel(const struct distort *w, int *radius)
{
    *radius = w->radius;
    return w->kernel;
}

/* ---- shift:N, exactly as batch_gather always did it ---- */

static void scale_row(float *out, const uint8_t *in, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        out[p] = (float)in[p] * (1.0f / 255.0f);
}

static void gather_shifted(float *out, const uint8_t *in, int rows, int cols, int dx, int dy)
{
    memset(out, 0, sizeof(float) * (size_t)rows * (size_t)cols);
    int x0 = dx > 0 ? dx : 0, x1 = dx < 0 ? cols + dx : cols;
    int y0 = dy > 0 ? dy : 0, y1 = dy < 0 ? rows + dy : rows;
    for (int y = y0; y < y1; y++)
        scale_row(out + (size_t)y * cols + x0, in + (size_t)(y - dy) * cols + (x0 - dx),
                  (uint32_t)(x1 - x0 > 0 ? x1 - x0 : 0));
}

/* ---- Gaussian smoothing: two 1-D passes; the kernel's symmetry halves the
 * products ---- */

/* out = in smoothed down the columns; rows of `stride` floats, a multiple of BLOCK */
static void smooth_vertical(float *restrict out, const float *restrict in, const int *rmap,
                            const float *g, int r, int rows, int stride)
{
    const float *up[49], *down[49];   /* radius <= 48: sigma <= 16 */
    for (int y = 0; y < rows; y++) {
        for (int k = 1; k <= r; k++) {
            up[k] = in + (size_t)rmap[y - k + r] * stride;
            down[k] = in + (size_t)rmap[y + k + r] * stride;
        }
        const float *c = in + (size_t)y * stride;
        for (int x = 0; x < stride; x += BLOCK) {
            const float g0 = g[0];
            vec a0 = g0 * LOAD(c + x), a1 = g0 * LOAD(c + x + VL);
            vec a2 = g0 * LOAD(c + x + 2 * VL), a3 = g0 * LOAD(c + x + 3 * VL);
            for (int k = 1; k <= r; k++) {
                const float gk = g[k];
                const float *u = up[k] + x, *d = down[k] + x;
                a0 += gk * (LOAD(u) + LOAD(d));
                a1 += gk * (LOAD(u + VL) + LOAD(d + VL));
                a2 += gk * (LOAD(u + 2 * VL) + LOAD(d + 2 * VL));
                a3 += gk * (LOAD(u + 3 * VL) + LOAD(d + 3 * VL));
            }
            float *o = out + (size_t)y * stride + x;
            memcpy(o, &a0, sizeof a0);
            memcpy(o + VL, &a1, sizeof a1);
            memcpy(o + 2 * VL, &a2, sizeof a2);
            memcpy(o + 3 * VL, &a3, sizeof a3);
        }
    }
}

/* out (rows*cols, packed) = in smoothed along the rows, times scale */
static void smooth_horizontal(float *restrict out, const float *restrict in,
                              float *restrict pad, const int *cmap, const float *g, float scale,
                              int r, int rows, int cols, int stride)
{
    float gs[49];
    for (int k = 0; k <= r; k++)
        gs[k] = g[k] * scale;
    for (int y = 0; y < rows; y++) {
        const float *restrict row = in + (size_t)y * stride;
        /* the row and its mirrored margins (cmap is the identity in between) */
        for (int j = 0; j < r; j++) {
            pad[j] = row[cmap[j]];
            pad[r + cols + j] = row[cmap[r + cols + j]];
        }
        memcpy(pad + r, row, sizeof(float) * (size_t)cols);
        for (int x = 0; x < cols; x += BLOCK) {
            const float *c = pad + r + x;
            const float g0 = gs[0];
            vec a0 = g0 * LOAD(c), a1 = g0 * LOAD(c + VL);
            vec a2 = g0 * LOAD(c + 2 * VL), a3 = g0 * LOAD(c + 3 * VL);
            for (int k = 1; k <= r; k++) {
                const float gk = gs[k];
                a0 += gk * (LOAD(c - k) + LOAD(c + k));
                a1 += gk * (LOAD(c + VL - k) + LOAD(c + VL + k));
                a2 += gk * (LOAD(c + 2 * VL - k) + LOAD(c + 2 * VL + k));
                a3 += gk * (LOAD(c + 3 * VL - k) + LOAD(c + 3 * VL + k));
            }
            float done[BLOCK];
            memcpy(done, &a0, sizeof a0);
            memcpy(done + VL, &a1, sizeof a1);
            memcpy(done + 2 * VL, &a2, sizeof a2);
            memcpy(done + 3 * VL, &a3, sizeof a3);
            memcpy(out + (size_t)y * cols + x, done,
                   sizeof(float) * (size_t)(cols - x < BLOCK ? cols - x : BLOCK));
        }
    }
}

void distort_smooth(struct distort *w, float *f, float scale)
{
    for (int y = 0; y < w->rows; y++)
        memcpy(w->noise + (size_t)y * w->stride, f + (size_t)y * w->cols,
               sizeof(float) * (size_t)w->cols);
    smooth_vertical(w->tmp, w->noise, w->rmap, w->half, w->radius, w->rows, w->stride);
    smooth_horizontal(f, w->tmp, w->pad, w->cmap, w->half, scale, w->radius, w->rows, w->cols,
                      w->stride);
}

/* n values uniform in [-1, 1), 24 bits each, two per draw (high half first;
 * the low half of the last draw unused when n is odd) */
static void draw_noise(float *restrict f, size_t n, struct rng *r)
{
    const float unit = 1.0f / 8388608.0f;
    for (size_t i = 0; i < n; i += 2) {
        uint64_t v = rng_next(r);
        f[i] = (float)((int32_t)(v >> 40) - 8388608) * unit;
        if (i + 1 < n)
            f[i + 1] = (float)((int32_t)(v >> 8 & 0xffffff) - 8388608) * unit;
    }
}

/* w's field from 2 rows*cols noise values, packed (which may be w's field:
 * it is read before the smoothing writes it) */
static void field_from_noise(struct distort *w, const float *packed)
{
    const size_t dim = (size_t)w->rows * w->cols, padded = (size_t)w->rows * w->stride;
    for (int y = 0; y < 2 * w->rows; y++)
        memcpy(w->noise + (size_t)y * w->stride, packed + (size_t)y * w->cols,
               sizeof(float) * (size_t)w->cols);
    for (int f = 0; f < 2; f++) {
        smooth_vertical(w->tmp, w->noise + f * padded, w->rmap, w->half, w->radius, w->rows,
                        w->stride);
        smooth_horizontal(w->field + f * dim, w->tmp, w->pad, w->cmap, w->half,
                          (float)w->spec.alpha, w->radius, w->rows, w->cols, w->stride);
    }
}

void distort_field(struct distort *w, struct rng *r)
{
    /* drawn packed (a tight loop, two values a draw), then spread over the
     * padded rows */
    draw_noise(w->field, 2 * (size_t)w->rows * w->cols, r);
    field_from_noise(w, w->field);
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

static void load_source(float *restrict src, const uint8_t *restrict in, int rows, int cols)
{
    const int ps = cols + 3;
    for (int y = 0; y < rows; y++)
        scale_row(src + (size_t)(y + 1) * ps + 1, in + (size_t)y * cols, (uint32_t)cols);
}

/* Coordinates are clamped to [-1, n]: every tap there lands on the zero
 * border, so the clamp only replaces a zero by the same zero, and no pixel
 * needs a branch. Shifted by the border's 1 they are >= 0, where (int)
 * truncation is floor. Written so that GCC vectorises it (gathers on AVX2):
 * separate clamps, no floorf, no calls. */
static void resample(float *restrict out, const float *restrict src, const float *restrict fx,
                     const float *restrict fy, const struct distort_affine *A, int rows,
                     int cols)
{
    const int ps = cols + 3;
    const float cx = (float)(cols - 1) * 0.5f, cy = (float)(rows - 1) * 0.5f;
    const float hx = (float)cols, hy = (float)rows;
    const float a11 = A->a11, a21 = A->a21;
    for (int y = 0; y < rows; y++) {
        const float yc = (float)y - cy;
        const float bx = A->a12 * yc + cx + A->tx, by = A->a22 * yc + cy + A->ty;
        const float *restrict rx = fx + (size_t)y * cols, *restrict ry = fy + (size_t)y * cols;
        float *restrict o = out + (size_t)y * cols;
        for (int x = 0; x < cols; x++) {
            const float xc = (float)x - cx;
            float sx = a11 * xc + bx + rx[x];
            float sy = a21 * xc + by + ry[x];
            sx = sx < -1.0f ? -1.0f : sx;
            sx = sx > hx ? hx : sx;
            sy = sy < -1.0f ? -1.0f : sy;
            sy = sy > hy ? hy : sy;
            const float px = sx + 1.0f, py = sy + 1.0f;   /* in the bordered source */
            const int ix = (int)px, iy = (int)py;
            const float ax = px - (float)ix, ay = py - (float)iy;
            const int j = iy * ps + ix;
            const float top = (1 - ax) * src[j] + ax * src[j + 1];
            const float bot = (1 - ax) * src[j + ps] + ax * src[j + ps + 1];
            const float v = (1 - ay) * top + ay * bot;
            o[x] = v > 1.0f ? 1.0f : v;
        }
    }
}

void distort_warp(struct distort *w, float *out, const uint8_t *in, const struct distort_affine *A)
{
    load_source(w->src, in, w->rows, w->cols);
    resample(out, w->src, distort_field_x(w), distort_field_y(w), A, w->rows, w->cols);
}

/* uniform in [-1, 1), 53 bits */
static double symmetric(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* the seven uniforms of a warp, drawn whatever the spec uses */
static void draw_warp(double u[7], struct rng *r)
{
    for (int i = 0; i < 7; i++)
        u[i] = symmetric(r);
}

/* out = in warped by the draws u and (elastic) noise, with w's scratch */
static void apply_warp(struct distort *w, float *out, const uint8_t *in, const double u[7],
                       const float *noise)
{
    const struct distort_spec *s = &w->spec;
    struct distort_affine A = {1, 0, 0, 1, 0, 0};
    if (s->affine) {
        double iso = 1 + s->scale * u[1];
        A = distort_affine_map(s->rot * u[0], iso * (1 + s->stretch * u[2]),
                               iso * (1 + s->stretch * u[3]), s->shear * u[4],
                               s->translate * u[5], s->translate * u[6]);
    }
    if (s->elastic)
        field_from_noise(w, noise);
    distort_warp(w, out, in, &A);
}

void distort_image(struct distort *w, float *out, const uint8_t *in, struct rng *r)
{
    const struct distort_spec *s = &w->spec;
    if (s->shift) {
        /* two draws, dx then dy: the order batch_gather always used */
        int dx = (int)rng_below(r, 2u * (uint32_t)s->shift + 1) - s->shift;
        int dy = (int)rng_below(r, 2u * (uint32_t)s->shift + 1) - s->shift;
        gather_shifted(out, in, w->rows, w->cols, dx, dy);
        return;
    }
    if (!s->affine && !s->elastic) {
        scale_row(out, in, (uint32_t)w->rows * (uint32_t)w->cols);
        return;
    }
    double u[7];
    draw_warp(u, r);
    if (s->elastic)
        draw_noise(w->field, 2 * (size_t)w->rows * w->cols, r);
    apply_warp(w, out, in, u, w->field);
}

/* A chunk's draws in image order on this thread (they are a tenth of the
 * work), then its warps on the OpenMP team: each image is the same function
 * of its own draws whichever lane warps it, so the pixels, like the stream,
 * do not depend on the thread count. */
void distort_images(struct distort *w, float *out, const uint8_t *const *in, int n,
                    struct rng *r)
{
    const size_t dim = (size_t)w->rows * w->cols;
    if (w->n_lanes < 2 || n < 4 || w->spec.shift || !(w->spec.affine || w->spec.elastic)) {
        for (int b = 0; b < n; b++)
            distort_image(w, out + (size_t)b * dim, in[b], r);
        return;
    }
    for (int c0 = 0; c0 < n; c0 += w->chunk) {
        const int m = n - c0 < w->chunk ? n - c0 : w->chunk;
        for (int b = 0; b < m; b++) {
            draw_warp(w->u + 7 * b, r);
            if (w->spec.elastic)
                draw_noise(w->draws + 2 * dim * (size_t)b, 2 * dim, r);
        }
#pragma omp parallel for num_threads(w->n_lanes) schedule(static)
        for (int b = 0; b < m; b++)
            apply_warp(w->lane[omp_get_thread_num()], out + dim * (size_t)(c0 + b), in[c0 + b],
                       w->u + 7 * b, w->draws ? w->draws + 2 * dim * (size_t)b : NULL);
    }
}
