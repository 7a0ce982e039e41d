/* dataset: an image set with its labels, as read from a pair of IDX files.
 * Pixels stay uint8 (47 MB for MNIST's training set rather than 188 MB of
 * floats); batch_gather scales them to [0,1] one mini-batch at a time. */
#ifndef DATASET_H
#define DATASET_H

#include <stdint.h>

#include "../util/err.h"
#include "../util/rng.h"
#include "classes.h"
#include "distort.h"

struct dataset {
    uint32_t n;          /* images in use (after any limit) */
    uint32_t rows, cols;
    uint32_t dim;        /* rows * cols */
    uint8_t *x;          /* n * dim pixels, owned */
    uint8_t *y;          /* n labels 0..9, owned */
    int range;           /* enum input_range (pixel.h) batch_gather gives */
};

/* Read and cross-check an image file and a label file. */
int dataset_load(struct dataset *d, const char *images, const char *labels, struct err *e);
void dataset_free(struct dataset *d);

/* A view of images [from, from+n) of d; shares d's memory (not to be freed). */
struct dataset dataset_slice(const struct dataset *d, uint32_t from, uint32_t n);

/* Fill X[b * d->dim + p] with image idx[b] (image b when idx is NULL) scaled
 * to [0,1] (or to d->range), for b < nb. With aug (made for d's rows x cols; NULL for none)
 * each image is distorted by it, with draws from r in image order. aug is
 * scratch: a thread filling batches beside another needs its own, and its
 * own r. */
void batch_gather(float *X, const struct dataset *d, const uint32_t *idx, int nb,
                  struct distort *aug, struct rng *r);

#endif
