#include "denormal.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>

/* OpenBLAS (pthread build): stops its worker threads; its next threaded call
 * starts them afresh from the calling thread, whose MXCSR they inherit. It is
 * the function OpenBLAS itself runs around fork(). */
void blas_thread_shutdown_(void);

void denormals_flush(void)
{
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    blas_thread_shutdown_();
}
#else
void denormals_flush(void) {}
#endif
