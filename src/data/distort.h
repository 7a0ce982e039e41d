/* distort: per-image random distortions of a training image, read from one
 * string (the `augment` setting) and drawn from one rng stream.
 *
 *   none                       no augmentation
 *   shift:N                    integer translation by (dx, dy), each uniform in
 *                              -N..N, zero fill (the original augmentation; same
 *                              draws, same pixels)
 *   affine:KEY=V,...           rot=DEG  scale=F  stretch=F  shear=K  translate=PX
 *                              narrow=F
 *   elastic:alpha=A,sigma=S    Simard, Steinkraus and Platt (2003)
 *   affine+elastic:KEY=V,...   both, composed into one sampling grid
 *
 * An affine map draws, per image and in this order, an angle in [-rot, rot]
 * degrees (counter-clockwise as displayed), an isotropic factor in
 * [1-scale, 1+scale], two per-axis factors in [1-stretch, 1+stretch] (x, y),
 * a horizontal shear in [-shear, shear] and a translation in [-translate,
 * translate] pixels (x, y): seven uniforms, always all seven, so adding one
 * parameter never changes the draws of another. narrow=F scales the angle
 * and the shear of an image labelled 1 or 7 by 1 - F (Ciresan et al. 2010
 * rotate and shear ones and sevens half as far): the same draws, so an image's
 * key still decides everything; without labels (or F = 0) no image narrows. The map moves the digit about
 * the image centre; the output samples the source through its inverse.
 *
 * A warp takes one number from the caller's stream per image, the image's
 * key; the seven uniforms and the noise are then counter-based draws of that
 * key (draw i is a function of (key, i) alone), so images can be drawn on any
 * thread, in any order, with the same result.
 *
 * The elastic field then has two noise fields dx, dy uniform in [-1, 1)
 * (rows*cols each, 24-bit values), smooths each by a Gaussian of width sigma
 * (truncated at 3 sigma, normalised to sum 1, mirror boundary: see smooth.c)
 * and scales it by alpha pixels. Output pixel p is the source, scaled to [0,1]
 * as batch_gather scales it, sampled bilinearly at affine(p) + field(p), zero
 * outside: one resampling. */
#ifndef DISTORT_H
#define DISTORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/rng.h"

/* longest canonical text distort_format writes, with its NUL */
#define DISTORT_TEXT_MAX 256

struct distort_spec {
    int shift;              /* shift:N; 0 otherwise */
    bool affine, elastic;   /* the parts of a warp (never with shift) */
    double rot;             /* degrees, 0..180 */
    double scale, stretch;  /* fractions, 0..0.5 */
    double shear;           /* x += k * y, 0..1 */
    double translate;       /* pixels, 0..8 */
    double narrow;          /* 0..1: rot and shear limits (1 - narrow) times
                               as large for the digits 1 and 7 */
    double alpha;           /* pixels, 0..100 */
    double sigma;           /* pixels, 0.25..16 */
};

/* Parse `text`; errors read "<who>: '<text>': <what is wrong>", ERR_USAGE.
 * s is written only on success. */
int distort_parse(struct distort_spec *s, const char *text, const char *who, struct err *e);

/* The canonical text of s, which distort_parse reads back to the same spec:
 * only the parameters that are not 0, in the order of the grammar above.
 * Returns 0, or -1 when n is too small (buf then holds "" if n > 0). */
int distort_format(const struct distort_spec *s, char *buf, size_t n);

bool distort_is_none(const struct distort_spec *s);

/* Scratch and precomputed kernel for one image size, with one lane of scratch
 * per OpenMP thread (omp_get_max_threads() when made) for distort_images;
 * one struct per calling thread. */
struct distort;

/* the widest and tallest image augmentation takes (callers refuse larger
 * ones by name before the work) */
#define DISTORT_MAX_SIDE 4096

/* NULL when out of memory or when rows, cols are not 1..DISTORT_MAX_SIDE. */
struct distort *distort_create(const struct distort_spec *s, int rows, int cols);
void distort_free(struct distort *w);

/* out[rows*cols] = one random distortion of in[rows*cols], drawn from r. */
void distort_image(struct distort *w, float *out, const uint8_t *in, struct rng *r);

/* out[b*rows*cols ...] = a distortion of in[b], b < n: the same pixels and the
 * same draws from r as n calls of distort_image in order, whatever the thread
 * count. One draw per image (its key) is taken from r on the calling thread;
 * everything else runs on the OpenMP team (at most the lanes w was made with). */
void distort_images(struct distort *w, float *out, const uint8_t *const *in, int n,
                    struct rng *r);
/* the same with the images' labels (for narrow; NULL: none) */
void distort_images_labelled(struct distort *w, float *out, const uint8_t *const *in,
                             const uint8_t *labels, int n, struct rng *r);

#endif
