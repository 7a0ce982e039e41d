/* pixel: how a stored byte becomes an input value, for batch_gather and the
 * distortions alike. */
#ifndef PIXEL_H
#define PIXEL_H

#include <stddef.h>
#include <stdint.h>

#include "../util/enum_names.h"

/* the range the network sees its inputs in: unit [0, 1] as stored bytes
 * / 255, or pm1 [-1, 1] as 2 v - 1 of that (background -1, ink +1: Ciresan
 * et al. 2010); a setting of the model, applied as a batch is gathered */
#define INPUT_RANGES(X) X(INPUT_UNIT, "unit") X(INPUT_PM1, "pm1")
enum input_range { INPUT_RANGES(ENUM_ID) };

/* a byte's input value is byte / 255, in [0, 1] */
#define PIXEL_SCALE (1.0f / 255.0f)

static inline void pixel_scale_row(float *out, const uint8_t *in, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        out[p] = (float)in[p] * PIXEL_SCALE;
}

/* n input values in [0, 1] taken to the range r, in place */
static inline void pixel_to_range(float *v, size_t n, enum input_range r)
{
    if (r == INPUT_PM1)
        for (size_t i = 0; i < n; i++)
            v[i] = 2.0f * v[i] - 1.0f;
}

#endif
