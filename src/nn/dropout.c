#include "dropout.h"

#include <math.h>
#include <omp.h>
#include <stdbool.h>

#include "par.h"

/* Each 64-bit draw decides two units: a unit is kept when its 32 bits, read
 * as a uniform u in [0, 1), are >= p (p rounded up to a multiple of 2^-32). */
static inline uint8_t keep(uint32_t u, uint64_t threshold) { return (uint64_t)u >= threshold; }

/* units [0, n) of a mask from the draws of r, two units a draw */
static void draw_units(uint8_t *mask, size_t n, uint64_t threshold, struct rng *r)
{
    /* the state in a local: the byte stores to mask may alias anything, and
     * with the state behind r the compiler would reload and store it around
     * every draw (the same numbers, several times the time) */
    struct rng local = *r;
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t x = rng_next(&local);
        mask[i] = keep((uint32_t)(x >> 32), threshold);
        mask[i + 1] = keep((uint32_t)x, threshold);
    }
    if (i < n)
        mask[i] = keep((uint32_t)(rng_next(&local) >> 32), threshold);
    *r = local;
}

/* A large mask is cut into chunks of CHUNK_DRAWS draws; each thread jumps
 * its copy of the stream to the start of its chunks and draws them, so the
 * mask and the stream's final state are those of drawing in order. */
enum { CHUNK_DRAWS = 4096 };
static struct rng_jump chunk_jump;
static bool chunk_jump_made;

void dropout_mask(uint8_t *mask, size_t n, float p, struct rng *r)
{
    /* clamped before the conversion: p outside [0, 1) (or NaN) never reaches it */
    const double q = (double)p * 4294967296.0;
    const uint64_t threshold = q > 0 ? (q < 4294967296.0 ? (uint64_t)ceil(q) : 4294967296u) : 0;
    const size_t chunk = 2 * (size_t)CHUNK_DRAWS, chunks = (n + chunk - 1) / chunk;
    if (n < PAR_MIN_ELEMS || chunks < 2 || omp_get_max_threads() < 2) {
        draw_units(mask, n, threshold, r);
        return;
    }
    /* made once, by the one thread that calls dropout_mask (outside any
     * parallel region: it starts its own) */
    if (!chunk_jump_made) {
        rng_jump_make(&chunk_jump, CHUNK_DRAWS);
        chunk_jump_made = true;
    }
    const struct rng start = *r;
    struct rng end = start;
#pragma omp parallel
    {
        const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        const size_t c0 = chunks * t / T, c1 = chunks * (t + 1) / T;
        struct rng s = start;
        for (size_t c = 0; c < c0; c++)
            rng_jump(&chunk_jump, &s);
        const size_t u0 = c0 * chunk, u1 = c1 * chunk < n ? c1 * chunk : n;
        if (u1 > u0)
            draw_units(mask + u0, u1 - u0, threshold, &s);
        if (c1 == chunks)
            end = s;
    }
    *r = end;
}

void dropout_apply(float *out, const uint8_t *mask, const float *in, size_t n, float p)
{
    const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n >= PAR_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        out[i] = mask[i] ? in[i] * scale : 0.0f;
}

void dropout_apply_bf16(bf16 *out, const uint8_t *mask, const float *in, size_t n, float p)
{
    const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n >= PAR_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        out[i] = bf16_from(mask[i] ? in[i] * scale : 0.0f);
}


