/* distort_lanes: distort_images on the OpenMP team, one lane of scratch per
 * thread; the pixels and the draws do not depend on the thread count. */
#include "distort.h"

#include <omp.h>

#include "distort_work.h"

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
        if (!(w->lane[i] = distort_lane_create(&w->spec, w->rows, w->cols)))
            return -1;
    return 0;
}

struct distort *distort_create(const struct distort_spec *s, int rows, int cols)
{
    struct distort *w = distort_lane_create(s, rows, cols);
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
        distort_lane_free(w->lane[i]);
    free(w->lane);
    distort_lane_free(w);
}

/* The keys of a chunk in image order on this thread (one draw each), then
 * everything else on the OpenMP team: each image is the same function of its
 * key whichever lane makes it, so the pixels, like the stream, do not depend
 * on the thread count. */
void distort_images_labelled(struct distort *w, float *out, const uint8_t *const *in,
                             const uint8_t *labels, int n, struct rng *r)
{
    const size_t dim = (size_t)w->rows * w->cols;
    if (w->n_lanes < 2 || n < 4 || w->spec.shift || !(w->spec.affine || w->spec.elastic)) {
        for (int b = 0; b < n; b++)
            distort_image_labelled(w, out + (size_t)b * dim, in[b], labels ? labels[b] : -1, r);
        return;
    }
    uint64_t key[CHUNK_MAX];
    for (int c0 = 0; c0 < n; c0 += CHUNK_MAX) {
        const int m = n - c0 < CHUNK_MAX ? n - c0 : CHUNK_MAX;
        for (int b = 0; b < m; b++)
            key[b] = rng_next(r);
#pragma omp parallel for num_threads(w->n_lanes) schedule(dynamic, 4)
        for (int b = 0; b < m; b++)
            distort_warp_key(w->lane[omp_get_thread_num()], out + dim * (size_t)(c0 + b),
                             in[c0 + b], key[b], labels ? labels[c0 + b] : -1);
    }
}

void distort_images(struct distort *w, float *out, const uint8_t *const *in, int n,
                    struct rng *r)
{
    distort_images_labelled(w, out, in, NULL, n, r);
}
