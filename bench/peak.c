#include "peak.h"

#include <immintrin.h>
#include <omp.h>

enum { CHAINS = 12, ROUNDS = 1 << 16 };

/* one thread's share: ROUNDS x CHAINS independent FMAs; the sum keeps the
 * compiler from dropping them */
static float fma_loop(long rounds)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < CHAINS; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long r = 0; r < rounds; r++)
        for (int k = 0; k < CHAINS; k++)
            acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    __m512 s = acc[0];
    for (int k = 1; k < CHAINS; k++)
        s = _mm512_add_ps(s, acc[k]);
    return _mm512_reduce_add_ps(s);
}

static float dpbf16_loop(long rounds)
{
    __m512 acc[CHAINS];
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
    for (int k = 0; k < CHAINS; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long r = 0; r < rounds; r++)
        for (int k = 0; k < CHAINS; k++)
            acc[k] = _mm512_dpbf16_ps(acc[k], a, a);
    __m512 s = acc[0];
    for (int k = 1; k < CHAINS; k++)
        s = _mm512_add_ps(s, acc[k]);
    return _mm512_reduce_add_ps(s);
}

static double timed(float (*loop)(long), long rounds, int threads)
{
    volatile float sink = 0;
    double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
        float v = loop(rounds);
#pragma omp atomic
        sink += v;
    }
    (void)sink;
    return omp_get_wtime() - t0;
}

/* grow the round count until a run lasts about seconds/3, then report the
 * best of three runs: other work on a shared machine only slows them */
static double measure(float (*loop)(long), double flops_per_op, int threads, double seconds)
{
    long rounds = ROUNDS;
    while (rounds < (1L << 40) && timed(loop, rounds, threads) < seconds / 6)
        rounds *= 2;
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double g = flops_per_op * CHAINS * (double)rounds * threads / timed(loop, rounds, threads) * 1e-9;
        best = g > best ? g : best;
    }
    return best;
}

double peak_fp32_gflops(int threads, double seconds)
{
    if (!__builtin_cpu_supports("avx512f"))
        return 0;
    return measure(fma_loop, 32, threads, seconds);
}

double peak_bf16_gflops(int threads, double seconds)
{
    if (!__builtin_cpu_supports("avx512bf16"))
        return 0;
    return measure(dpbf16_loop, 64, threads, seconds);
}
