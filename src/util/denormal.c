#include "denormal.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>

static void flush_here(void)
{
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

void denormals_flush(void)
{
    flush_here();
    /* every thread of the team oneDNN and our passes run on; threads the
     * runtime starts later are created by this one and copy its mode */
#pragma omp parallel
    flush_here();
}
#else
void denormals_flush(void) {}
#endif
