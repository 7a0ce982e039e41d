/* distort_testing: the steps of distort_image, for the tests; production
 * code calls distort_image and distort_images (distort.h). */
#ifndef DISTORT_TESTING_H
#define DISTORT_TESTING_H

#include "distort.h"

/* source = A (p - c) + c + t, c the image centre ((cols-1)/2, (rows-1)/2) */
struct distort_affine {
    float a11, a12, a21, a22, tx, ty;
};

/* The sampling map of the forward transform "scale by (sx, sy), shear by k,
 * rotate by deg counter-clockwise, translate by (tx, ty)". */
struct distort_affine distort_affine_map(double deg, double sx, double sy, double k, double tx,
                                         double ty);

/* Draw a new elastic field into w (alpha and sigma of w's spec): one key
 * from r, the field distort_image would use with r in the same state. */
void distort_field(struct distort *w, struct rng *r);
/* copy w's current field out, rows*cols each (all 0 until one is drawn) */
void distort_field_get(const struct distort *w, float *fx, float *fy);
/* Smooth f[rows*cols] in place with w's kernel, then multiply by scale: the
 * smoother distort_image uses (the fast one up to 32 px a side), and the
 * plain one, tap by tap, for any size. */
void distort_smooth(struct distort *w, float *f, float scale);
void distort_smooth_plain(struct distort *w, float *f, float scale);
/* w's Gaussian: taps [-radius, radius] */
const float *distort_kernel(const struct distort *w, int *radius);
/* out = in sampled at A(p) + w's field(p) (field 0 unless w's spec is elastic) */
void distort_warp(struct distort *w, float *out, const uint8_t *in, const struct distort_affine *A);

#endif
