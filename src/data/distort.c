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

/* Rows of fields are padded to a multiple of BLOCK floats; the padding lanes
 * are computed and thrown away. Two kinds of vector, both GCC/Clang vector
 * extensions: 16 floats (one AVX-512 register, two AVX ones elsewhere) for
 * the dense products of small images, 8 floats for the tap-by-tap passes of
 * large ones. The order of the float operations is fixed by this source
 * (vector lanes are independent), so with FMA contraction off, as the
 * Makefile's ISO C mode keeps it, every sum is the same whatever the vector
 * width the compiler splits them into. */
typedef float vec16 __attribute__((vector_size(64)));
typedef float vec16_at __attribute__((vector_size(64), aligned(4), may_alias));
typedef int32_t ivec16 __attribute__((vector_size(64)));
typedef float vec8 __attribute__((vector_size(32)));
typedef float vec8_at __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD16(p) (*(const vec16_at *)(p))
#define STORE16(p, v) (*(vec16_at *)(p) = (v))

/* *r: lane l is lane m[l] (mod 32) of a then b, as gcc's __builtin_shuffle
 * gives it; clang, which builds the fuzzers, has only shuffles by constants,
 * and gets the same lanes one by one. (Pointers: a 64-byte vector passed by
 * value has another ABI without AVX-512, which the sanitizer builds lack.) */
static inline void shuffle2(vec16 *r, const vec16 *a, const vec16 *b, const ivec16 *m)
{
#if defined(__GNUC__) && !defined(__clang__)
    *r = __builtin_shuffle(*a, *b, *m);
#else
    for (int l = 0; l < 16; l++) {
        const int k = (*m)[l] & 31;
        (*r)[l] = k < 16 ? (*a)[k] : (*b)[k - 16];
    }
#endif
}
#define LOAD8(p) (*(const vec8_at *)(p))
#define BLOCK 32
/* Images up to DENSE_MAX on each side (a row is one BLOCK) are smoothed as
 * two dense products; larger ones tap by tap. */
#define DENSE_MAX BLOCK

struct distort {
    struct distort_spec spec;
    int rows, cols, radius;
    int stride;      /* cols rounded up to a multiple of BLOCK */
    bool dense;      /* rows, cols <= DENSE_MAX */
    float *kernel;   /* 2 radius + 1 taps, sums to 1 */
    float *half;     /* kernel + radius: half[k] is the weight at offsets +-k */
    /* dense (see smooth_dense): the halves of the 1-D smoothing of a column
     * (hr x hr each) and of a row (hc rows of 16 each), the lane shuffles
     * that reverse a row, and their scratch */
    int hr, hc;
    float *kas, *kad, *kcs, *kca;
    int32_t rev[16], keep[16], out_lo[16], out_hi[16];   /* (calloc does not align an ivec16) */
    float *sd, *pq, *s2;
    /* tap by tap: mirror index of rows, columns -radius .. n-1+radius; the
     * noise in padded rows; one row with its mirrored margins */
    int *rmap, *cmap;
    float *padded, *pad;
    float *noise;    /* dx's then dy's, rows*cols each, packed, then BLOCK zeros */
    float *tmp;      /* rows*stride, between the two passes */
    float *field;    /* dx then dy, rows*cols each, packed, then BLOCK floats */
    float *xc, *yc;  /* pixel p's position from the image centre, rows*cols each */
    uint8_t *src;    /* the source, zero border: 1 before, 2 after, 4 bytes slack */
    int32_t *taps;   /* 3 rows*cols: each pixel's tap, its top and bottom bytes */
    /* distort_images: one lane of scratch per thread (lane 0 is this
     * struct, the others are made for the same spec) */
    int n_lanes;
    struct distort **lane;
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

static int make_taps(struct distort *w)
{
    const int r = w->radius;
    w->rmap = malloc(sizeof(int) * (size_t)(w->rows + 2 * r));
    w->cmap = malloc(sizeof(int) * (size_t)(w->cols + 2 * r));
    w->pad = alloc_vec((size_t)(w->stride + 2 * r));
    w->padded = alloc_vec((size_t)w->rows * (size_t)w->stride);
    if (!w->rmap || !w->cmap || !w->pad || !w->padded)
        return -1;
    for (int i = 0; i < w->rows + 2 * r; i++)
        w->rmap[i] = mirror(i - r, w->rows);
    for (int i = 0; i < w->cols + 2 * r; i++)
        w->cmap[i] = mirror(i - r, w->cols);
    return 0;
}

static int make_kernel(struct distort *w)
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
    return w->dense ? make_dense(w, g) : make_taps(w);
}

static struct distort *create_lane(const struct distort_spec *s, int rows, int cols)
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
        make_kernel(w)) {
        distort_free(w);
        return NULL;
    }
    for (size_t p = 0; p < dim; p++) {
        w->xc[p] = (float)(p % (size_t)cols) - (float)(cols - 1) * 0.5f;
        w->yc[p] = (float)(p / (size_t)cols) - (float)(rows - 1) * 0.5f;
    }
    return w;
}

/* Images at a time per parallel warp, and lanes: large images get one lane
 * (their scratch is large, and they are not what the parallel warp is for). */
#define CHUNK_MAX 64
#define LANES_MAX 64

static int make_lanes(struct distort *w)
{
    const size_t dim = (size_t)w->rows * (size_t)w->cols;
    const int warps = w->spec.affine || w->spec.elastic;
    int threads = omp_get_max_threads();
    w->n_lanes = !warps || dim > 65536 ? 1 : threads < 1 ? 1 : threads > LANES_MAX ? LANES_MAX
                                                                                  : threads;
    w->lane = calloc((size_t)w->n_lanes, sizeof *w->lane);
    if (!w->lane)
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
    free(w->kernel);
    free(w->kas);
    free(w->kad);
    free(w->kcs);
    free(w->kca);
    free(w->sd);
    free(w->pq);
    free(w->s2);
    free(w->rmap);
    free(w->cmap);
    free(w->padded);
    free(w->pad);
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

/* ---- Gaussian smoothing, large images: two 1-D passes tap by tap; the
 * kernel's symmetry halves the products ---- */

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
            vec8 a0 = g0 * LOAD8(c + x), a1 = g0 * LOAD8(c + x + 8);
            vec8 a2 = g0 * LOAD8(c + x + 16), a3 = g0 * LOAD8(c + x + 24);
            for (int k = 1; k <= r; k++) {
                const float gk = g[k];
                const float *u = up[k] + x, *d = down[k] + x;
                a0 += gk * (LOAD8(u) + LOAD8(d));
                a1 += gk * (LOAD8(u + 8) + LOAD8(d + 8));
                a2 += gk * (LOAD8(u + 16) + LOAD8(d + 16));
                a3 += gk * (LOAD8(u + 24) + LOAD8(d + 24));
            }
            float *o = out + (size_t)y * stride + x;
            memcpy(o, &a0, sizeof a0);
            memcpy(o + 8, &a1, sizeof a1);
            memcpy(o + 16, &a2, sizeof a2);
            memcpy(o + 24, &a3, sizeof a3);
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
            vec8 a0 = g0 * LOAD8(c), a1 = g0 * LOAD8(c + 8);
            vec8 a2 = g0 * LOAD8(c + 16), a3 = g0 * LOAD8(c + 24);
            for (int k = 1; k <= r; k++) {
                const float gk = gs[k];
                a0 += gk * (LOAD8(c - k) + LOAD8(c + k));
                a1 += gk * (LOAD8(c + 8 - k) + LOAD8(c + 8 + k));
                a2 += gk * (LOAD8(c + 16 - k) + LOAD8(c + 16 + k));
                a3 += gk * (LOAD8(c + 24 - k) + LOAD8(c + 24 + k));
            }
            float done[BLOCK];
            memcpy(done, &a0, sizeof a0);
            memcpy(done + 8, &a1, sizeof a1);
            memcpy(done + 16, &a2, sizeof a2);
            memcpy(done + 24, &a3, sizeof a3);
            memcpy(out + (size_t)y * cols + x, done,
                   sizeof(float) * (size_t)(cols - x < BLOCK ? cols - x : BLOCK));
        }
    }
}

/* out (rows*cols, packed) = scale * (G_sigma * in), in rows*cols packed; both
 * with BLOCK floats after them that may be read (in) and overwritten (out) */
static void smooth_into(struct distort *w, float *out, const float *in, float scale)
{
    const int rows = w->rows, cols = w->cols, stride = w->stride;
    if (w->dense) {
        smooth_dense(w, out, in, scale);
        return;
    }
    for (int y = 0; y < rows; y++)
        memcpy(w->padded + (size_t)y * stride, in + (size_t)y * cols,
               sizeof(float) * (size_t)cols);
    smooth_vertical(w->tmp, w->padded, w->rmap, w->half, w->radius, rows, stride);
    smooth_horizontal(out, w->tmp, w->pad, w->cmap, w->half, scale, w->radius, rows, cols,
                      stride);
}

void distort_smooth(struct distort *w, float *f, float scale)
{
    const size_t dim = (size_t)w->rows * w->cols;
    memcpy(w->noise, f, sizeof(float) * dim);
    smooth_into(w, w->field, w->noise, scale);
    memcpy(f, w->field, sizeof(float) * dim);
}

/* ---- the draws of one image: counter-based, from the image's key ---- */

/* Draw i of the image whose key is `key`: element i of the SplitMix64
 * sequence seeded with the key (Steele, Lea and Flood 2014; rng_seed's
 * mixer). Any draw is one function of (key, i): an image's draws need no
 * state carried from the image before, so images can be drawn on any thread,
 * and the loop over i vectorises. */
static inline uint64_t draw_at(uint64_t key, uint64_t i)
{
    uint64_t z = key + (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* draws 0..6 are the warp's uniforms, the noise starts after them */
#define NOISE_AT 7

/* the seven uniforms of a warp, in [-1, 1) with 53 bits, drawn whatever the
 * spec uses */
static void draw_warp(double u[7], uint64_t key)
{
    for (int i = 0; i < NOISE_AT; i++)
        u[i] = (double)(draw_at(key, (uint64_t)i) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* n values of each noise field uniform in [-1, 1), 24 bits each: pixel p of
 * dx from the high 24 bits of draw NOISE_AT + p, of dy from bits 8..31 */
static void draw_noise(float *restrict fx, float *restrict fy, size_t n, uint64_t key)
{
    const float unit = 1.0f / 8388608.0f;
    for (size_t p = 0; p < n; p++) {
        const uint64_t v = draw_at(key, NOISE_AT + p);
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
 * on purpose: AVX-512 gathers of the same loads took three times as long
 * (perf, AMD EPYC), so GCC is told not to vectorise this loop. */
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
        const float v = ((1 - ay) * up + ay * down) * (1.0f / 255.0f);
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

/* out = in warped by the draws of this key, with w's scratch */
static void warp_image(struct distort *w, float *out, const uint8_t *in, uint64_t key)
{
    const struct distort_spec *s = &w->spec;
    struct distort_affine A = {1, 0, 0, 1, 0, 0};
    double u[7];
    draw_warp(u, key);
    if (s->affine) {
        double iso = 1 + s->scale * u[1];
        A = distort_affine_map(s->rot * u[0], iso * (1 + s->stretch * u[2]),
                               iso * (1 + s->stretch * u[3]), s->shear * u[4],
                               s->translate * u[5], s->translate * u[6]);
    }
    if (s->elastic)
        make_field(w, key);
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
    warp_image(w, out, in, rng_next(r));
}

/* The keys of a chunk in image order on this thread (one draw each), then
 * everything else on the OpenMP team: each image is the same function of its
 * key whichever lane makes it, so the pixels, like the stream, do not depend
 * on the thread count. */
void distort_images(struct distort *w, float *out, const uint8_t *const *in, int n,
                    struct rng *r)
{
    const size_t dim = (size_t)w->rows * w->cols;
    if (w->n_lanes < 2 || n < 4 || w->spec.shift || !(w->spec.affine || w->spec.elastic)) {
        for (int b = 0; b < n; b++)
            distort_image(w, out + (size_t)b * dim, in[b], r);
        return;
    }
    uint64_t key[CHUNK_MAX];
    for (int c0 = 0; c0 < n; c0 += CHUNK_MAX) {
        const int m = n - c0 < CHUNK_MAX ? n - c0 : CHUNK_MAX;
        for (int b = 0; b < m; b++)
            key[b] = rng_next(r);
#pragma omp parallel for num_threads(w->n_lanes) schedule(dynamic, 4)
        for (int b = 0; b < m; b++)
            warp_image(w->lane[omp_get_thread_num()], out + dim * (size_t)(c0 + b), in[c0 + b],
                       key[b]);
    }
}
