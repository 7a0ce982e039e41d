/* distort_work: the work object of src/data/distort*.c and smooth.c, private
 * to them (tests and callers see struct distort as opaque). */
#ifndef DISTORT_WORK_H
#define DISTORT_WORK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "distort.h"

/* Rows of the fast smoother's fields are padded to a multiple of BLOCK
 * floats; the padding lanes are computed and thrown away. Images up to
 * DENSE_MAX on each side (a row is one BLOCK) are smoothed as two dense
 * products; larger ones by the plain smoother. */
#define BLOCK 32
#define DENSE_MAX BLOCK

struct distort {
    struct distort_spec spec;
    int rows, cols, radius;
    int stride;      /* cols rounded up to a multiple of BLOCK */
    bool dense;      /* rows, cols <= DENSE_MAX */
    float *kernel;   /* 2 radius + 1 taps, sums to 1 */
    float *half;     /* kernel + radius: half[k] is the weight at offsets +-k */
    /* dense (see smooth.c): the halves of the 1-D smoothing of a column
     * (hr x hr each) and of a row (hc rows of 16 each), the lane shuffles
     * that reverse a row, and their scratch */
    int hr, hc;
    float *kas, *kad, *kcs, *kca;
    int32_t rev[16], keep[16], out_lo[16], out_hi[16];   /* (calloc does not align an ivec16) */
    float *sd, *pq, *s2;
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

static inline float *alloc_vec(size_t n)
{
    /* whole vectors, aligned for them, zeroed so padding lanes stay finite */
    size_t bytes = (sizeof(float) * n + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

/* smooth.c: w's kernel and the fast smoother's matrices (w's spec, rows,
 * cols, stride and dense set); 0 or -1 when out of memory */
int smooth_make(struct distort *w);
void smooth_free(struct distort *w);
/* out (rows*cols, packed) = scale * (G_sigma * in), in rows*cols packed; both
 * with BLOCK floats after them that may be read (in) and overwritten (out) */
void smooth_into(struct distort *w, float *out, const float *in, float scale);

/* distort.c: one lane (no lanes of its own), its free, and the warp of one
 * image by the draws of its key */
struct distort *distort_lane_create(const struct distort_spec *s, int rows, int cols);
void distort_lane_free(struct distort *w);
void distort_warp_key(struct distort *w, float *out, const uint8_t *in, uint64_t key, int label);
void distort_image_labelled(struct distort *w, float *out, const uint8_t *in, int label,
                            struct rng *r);

#endif
