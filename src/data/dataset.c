#include "dataset.h"

#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "pixel.h"

int dataset_load(struct dataset *d, const char *images, const char *labels, struct err *e)
{
    memset(d, 0, sizeof *d);
    struct idx xi, yi;
    if (idx_read(&xi, images, 3, e))
        return e->code;
    if (idx_read(&yi, labels, 1, e)) {
        idx_free(&xi);
        return e->code;
    }
    int rc = 0;
    if (xi.dims[0] != yi.dims[0])
        rc = err_set(e, ERR_DATA, "%s: %u labels for the %u images of %s", labels, yi.dims[0],
                     xi.dims[0], images);
    for (uint32_t i = 0; !rc && i < yi.dims[0]; i++)
        if (yi.data[i] >= DATASET_CLASSES)
            rc = err_set(e, ERR_DATA, "%s: label %u of item %u is not a digit 0-9", labels,
                         yi.data[i], i);
    if (rc) {
        idx_free(&xi);
        idx_free(&yi);
        return rc;
    }
    d->n = xi.dims[0];
    d->rows = xi.dims[1];
    d->cols = xi.dims[2];
    d->dim = d->rows * d->cols;
    d->x = xi.data;   /* ownership moves to the dataset */
    d->y = yi.data;
    return 0;
}

void dataset_free(struct dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

struct dataset dataset_slice(const struct dataset *d, uint32_t from, uint32_t n)
{
    struct dataset s = *d;
    s.x = d->x + (size_t)from * d->dim;
    s.y = d->y + from;
    s.n = n;
    return s;
}

/* Shuffled images are scattered over the training set, and the hardware
 * prefetcher cannot guess the next one: ask for the image six ahead while
 * this one is scaled, far enough ahead for a miss to be over by the time it
 * is needed (docs/performance.md). */
#define PREFETCH_AHEAD 6

static const uint8_t *image(const struct dataset *d, const uint32_t *idx, int b)
{
    return d->x + (size_t)(idx ? idx[b] : (uint32_t)b) * d->dim;
}

static void prefetch_image(const struct dataset *d, const uint32_t *idx, int b, int nb)
{
    if (b + PREFETCH_AHEAD < nb)
        for (uint32_t o = 0; o < d->dim; o += 64)
            __builtin_prefetch(image(d, idx, b + PREFETCH_AHEAD) + o);
}

/* Threaded over the images of the batch (OpenMP, as the rest of a step). A
 * distortion takes one number per image from the stream, in image order:
 * distort_images takes those keys on this thread and does the rest in
 * parallel, so the pixels do not depend on the thread count. */
void batch_gather(float *X, const struct dataset *d, const uint32_t *idx, int nb,
                  struct distort *aug, struct rng *r)
{
    if (aug) {
        const uint8_t *in[64];
        uint8_t label[64];
        for (int b0 = 0; b0 < nb; b0 += 64) {
            const int m = nb - b0 < 64 ? nb - b0 : 64;
            for (int b = 0; b < m; b++) {
                in[b] = image(d, idx, b0 + b);
                label[b] = d->y ? d->y[idx ? idx[b0 + b] : (uint32_t)(b0 + b)] : 0;
            }
            distort_images_labelled(aug, X + (size_t)b0 * d->dim, in, d->y ? label : NULL, m, r);
        }
        pixel_to_range(X, (size_t)nb * d->dim, (enum input_range)d->range);
        return;
    }
    /* Two threads fetch the scattered images twice as many at a time; a
     * small batch stays on one, where the fork would cost more than the
     * copy (docs/performance.md). */
    const int threaded = (size_t)nb * d->dim > 32768;
#pragma omp parallel for schedule(static) if (threaded)
    for (int b = 0; b < nb; b++) {
        prefetch_image(d, idx, b, nb);
        pixel_scale_row(X + (size_t)b * d->dim, image(d, idx, b), d->dim);
    }
    pixel_to_range(X, (size_t)nb * d->dim, (enum input_range)d->range);
}
