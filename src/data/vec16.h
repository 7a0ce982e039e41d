/* vec16: the vector shims of the distortions' fast smoother, in one place.
 * GCC/Clang vector extensions, 16 floats (one AVX-512 register, two AVX ones
 * elsewhere). The order of the float operations is fixed by the source that
 * uses them (vector lanes are independent), so with FMA contraction off, as
 * the Makefile's ISO C mode keeps it, every sum is the same whatever the
 * vector width the compiler splits them into. */
#ifndef VEC16_H
#define VEC16_H

#include <stdint.h>

typedef float vec16 __attribute__((vector_size(64)));
typedef float vec16_at __attribute__((vector_size(64), aligned(4), may_alias));
typedef int32_t ivec16 __attribute__((vector_size(64)));
#define LOAD16(p) (*(const vec16_at *)(p))
#define STORE16(p, v) (*(vec16_at *)(p) = (v))

/* *r: lane l is lane m[l] (mod 32) of a then b, as gcc's __builtin_shuffle
 * gives it; clang, which builds the fuzzers, has only shuffles by constants,
 * and gets the same lanes one by one. (Pointers: a 64-byte vector passed by
 * value has another ABI without AVX-512, which the sanitizer builds lack.) */
static inline void shuffle2(vec16 *r, const vec16 *a, const vec16 *b, const ivec16 *m)
{
#if defined(__GNUC__) && !defined(__clang__)
    *r = __builtin_shuffle(*a, *b, *m);
#else
    for (int l = 0; l < 16; l++) {
        const int k = (*m)[l] & 31;
        (*r)[l] = k < 16 ? (*a)[k] : (*b)[k - 16];
    }
#endif
}

#endif
