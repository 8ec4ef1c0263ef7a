/* AVX2+FMA loops of the `bounds` program (compiled with -mavx2 -mfma only for
 * this file; called only when __builtin_cpu_supports("avx2") and "fma"). */
#include <immintrin.h>
#include <stddef.h>

#include "bounds_simd.h"

static double hsum256(__m256 v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    double s = 0;
    for (int i = 0; i < 8; i++) s += t[i];
    return s;
}

static double hsum256d(__m256d v)
{
    double t[4];
    _mm256_storeu_pd(t, v);
    return t[0] + t[1] + t[2] + t[3];
}

double bounds_sum_f32_avx2(const float *a, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    __m256 s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(a + i + 24));
        s4 = _mm256_add_ps(s4, _mm256_loadu_ps(a + i + 32));
        s5 = _mm256_add_ps(s5, _mm256_loadu_ps(a + i + 40));
        s6 = _mm256_add_ps(s6, _mm256_loadu_ps(a + i + 48));
        s7 = _mm256_add_ps(s7, _mm256_loadu_ps(a + i + 56));
    }
    s0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)),
                       _mm256_add_ps(_mm256_add_ps(s4, s5), _mm256_add_ps(s6, s7)));
    double t = hsum256(s0);
    for (; i < n; i++) t += a[i];
    return t;
}

/* 12 independent chains: 16 ymm registers hold 12 accumulators + 2 constants. */
double bounds_fma_f32_avx2(long iters, float x, float y)
{
    __m256 a = _mm256_set1_ps(x), b = _mm256_set1_ps(y);
    __m256 c[12];
    for (int j = 0; j < 12; j++) c[j] = _mm256_set1_ps((float)j * 1e-3f);
    for (long it = 0; it < iters; it++) {
#define F(j) c[j] = _mm256_fmadd_ps(c[j], a, b)
        F(0); F(1); F(2); F(3); F(4); F(5); F(6); F(7); F(8); F(9); F(10); F(11);
#undef F
    }
    __m256 s = c[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_ps(s, c[j]);
    return hsum256(s);
}

double bounds_fma_f64_avx2(long iters, double x, double y)
{
    __m256d a = _mm256_set1_pd(x), b = _mm256_set1_pd(y);
    __m256d c[12];
    for (int j = 0; j < 12; j++) c[j] = _mm256_set1_pd((double)j * 1e-3);
    for (long it = 0; it < iters; it++) {
#define F(j) c[j] = _mm256_fmadd_pd(c[j], a, b)
        F(0); F(1); F(2); F(3); F(4); F(5); F(6); F(7); F(8); F(9); F(10); F(11);
#undef F
    }
    __m256d s = c[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_pd(s, c[j]);
    return hsum256d(s);
}
