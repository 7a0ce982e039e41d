#include "bf16.h"

#include "par.h"

void bf16_convert(bf16 *dst, const float *src, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PAR_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        dst[i] = bf16_from(src[i]);
}
