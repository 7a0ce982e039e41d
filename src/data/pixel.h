/* pixel: how a stored byte becomes an input value, for batch_gather and the
 * distortions alike. */
#ifndef PIXEL_H
#define PIXEL_H

#include <stdint.h>

/* a byte's input value is byte / 255, in [0, 1] */
#define PIXEL_SCALE (1.0f / 255.0f)

static inline void pixel_scale_row(float *out, const uint8_t *in, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        out[p] = (float)in[p] * PIXEL_SCALE;
}

#endif
