/* AVX-512F loops of the `bounds` program (compiled with -mavx512f -mfma only
 * for this file; called only when __builtin_cpu_supports("avx512f")). */
#include <immintrin.h>
#include <stddef.h>

#include "bounds_simd.h"

double bounds_sum_f32_avx512(const float *a, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    __m512 s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(a + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(a + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(a + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(a + i + 48));
        s4 = _mm512_add_ps(s4, _mm512_loadu_ps(a + i + 64));
        s5 = _mm512_add_ps(s5, _mm512_loadu_ps(a + i + 80));
        s6 = _mm512_add_ps(s6, _mm512_loadu_ps(a + i + 96));
        s7 = _mm512_add_ps(s7, _mm512_loadu_ps(a + i + 112));
    }
    s0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)),
                       _mm512_add_ps(_mm512_add_ps(s4, s5), _mm512_add_ps(s6, s7)));
    double t = _mm512_reduce_add_ps(s0);
    for (; i < n; i++) t += a[i];
    return t;
}

/* 16 independent chains of vfmadd (4-cycle latency x 2 pipes needs >= 8). */
double bounds_fma_f32_avx512(long iters, float x, float y)
{
    __m512 a = _mm512_set1_ps(x), b = _mm512_set1_ps(y);
    __m512 c[16];
    for (int j = 0; j < 16; j++) c[j] = _mm512_set1_ps((float)j * 1e-3f);
    for (long it = 0; it < iters; it++) {
#define F(j) c[j] = _mm512_fmadd_ps(c[j], a, b)
        F(0); F(1); F(2); F(3); F(4); F(5); F(6); F(7);
        F(8); F(9); F(10); F(11); F(12); F(13); F(14); F(15);
#undef F
    }
    __m512 s = c[0];
    for (int j = 1; j < 16; j++) s = _mm512_add_ps(s, c[j]);
    return _mm512_reduce_add_ps(s);
}

double bounds_fma_f64_avx512(long iters, double x, double y)
{
    __m512d a = _mm512_set1_pd(x), b = _mm512_set1_pd(y);
    __m512d c[16];
    for (int j = 0; j < 16; j++) c[j] = _mm512_set1_pd((double)j * 1e-3);
    for (long it = 0; it < iters; it++) {
#define F(j) c[j] = _mm512_fmadd_pd(c[j], a, b)
        F(0); F(1); F(2); F(3); F(4); F(5); F(6); F(7);
        F(8); F(9); F(10); F(11); F(12); F(13); F(14); F(15);
#undef F
    }
    __m512d s = c[0];
    for (int j = 1; j < 16; j++) s = _mm512_add_pd(s, c[j]);
    return _mm512_reduce_add_pd(s);
}
