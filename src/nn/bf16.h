/* bf16: the upper half of an IEEE float. Rounding is to nearest, ties to
 * even, as oneDNN and the AVX512-BF16 instructions do; NaN stays NaN. */
#ifndef BF16_H
#define BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint16_t bf16;

static inline bf16 bf16_from(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (bf16)((u >> 16) | 0x40);   /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1);
    return (bf16)(u >> 16);
}

static inline float bf16_to(bf16 h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* dst[i] = bf16(src[i]), threaded */
void bf16_convert(bf16 *dst, const float *src, size_t n);

#endif
