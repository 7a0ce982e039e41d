#include "dropout.h"

#include <math.h>

#include "par.h"

/* Each 64-bit draw decides two units: a unit is kept when its 32 bits, read
 * as a uniform u in [0, 1), are >= p (p rounded up to a multiple of 2^-32). */
static inline uint8_t keep(uint32_t u, uint64_t threshold) { return (uint64_t)u >= threshold; }

void dropout_mask(uint8_t *mask, size_t n, float p, struct rng *r)
{
    /* clamped before the conversion: p outside [0, 1) (or NaN) never reaches it */
    const double q = (double)p * 4294967296.0;
    const uint64_t threshold = q > 0 ? (q < 4294967296.0 ? (uint64_t)ceil(q) : 4294967296u) : 0;
    /* the state in a local: the byte stores to mask may alias anything, and
     * with the state behind r the compiler would reload and store it around
     * every draw (5 ns a draw instead of about 1.5, the same numbers) */
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

void dropout_forward(float *out, uint8_t *mask, const float *in, size_t n, float p,
                     struct rng *r)
{
    dropout_mask(mask, n, p, r);
    dropout_apply(out, mask, in, n, p);
}
