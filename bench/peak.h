/* peak: the machine's arithmetic peak on the bench's threads, from loops that
 * touch no memory: independent 512-bit FMAs (vfmadd231ps, 32 flops each) and
 * bf16 dot products (vdpbf16ps, 64 flops each: 16 lanes x 2 products, each a
 * multiply and an add), one chain per register, on `threads` OpenMP threads.
 * The kernels live in peak.c, compiled with -mavx512f -mavx512bf16 and only
 * run after the CPU says it has them. */
#ifndef PEAK_H
#define PEAK_H

/* GFLOP/s, or 0 when the CPU lacks the instructions */
double peak_fp32_gflops(int threads, double seconds);
double peak_bf16_gflops(int threads, double seconds);

#endif
