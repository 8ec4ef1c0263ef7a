/* SIMD loops of the `bounds` program, one object per instruction set. */
#ifndef STRATA_BENCH_BOUNDS_SIMD_H
#define STRATA_BENCH_BOUNDS_SIMD_H
#include <stddef.h>

/* Sum of a[0..n) (reads every byte once). */
double bounds_sum_f32_avx512(const float *a, size_t n);
double bounds_sum_f32_avx2(const float *a, size_t n);

/* iters rounds of independent FMA chains c = c * x + y; returns a checksum.
 * Flops per call: iters * chains * lanes * 2 (see BOUNDS_*_CHAINS). */
double bounds_fma_f32_avx512(long iters, float x, float y);
double bounds_fma_f64_avx512(long iters, double x, double y);
double bounds_fma_f32_avx2(long iters, float x, float y);
double bounds_fma_f64_avx2(long iters, double x, double y);

#define BOUNDS_AVX512_CHAINS 16
#define BOUNDS_AVX2_CHAINS 12

#endif
