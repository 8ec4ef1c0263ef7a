/* kernels.h norms64_f32, shared by the AVX2 and AVX-512 kernels (both files
 * are built with AVX2 + FMA): the four running sums are the four lanes of
 * one 256-bit vector, four features converted to double a step. A wider
 * vector would sum f mod 8, other bits. Include once per kernel file, after
 * immintrin.h, with NORMS64_F32 defined as the name. */
#ifndef STRATA_KERNELS_NORMS64_IMPL_H
#define STRATA_KERNELS_NORMS64_IMPL_H

static void NORMS64_F32(const float *x, int64_t rows, int64_t d, double *out)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        __m256d a = _mm256_setzero_pd();
        int64_t f = 0;
        for (; f + 4 <= d; f += 4) {
            const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(xr + f));
            a = _mm256_fmadd_pd(v, v, a); /* v * v exact: one rounding either way */
        }
        __m128d lo = _mm256_castpd256_pd128(a);
        const __m128d hi = _mm256_extractf128_pd(a, 1);
        for (; f < d; f++)
            lo = _mm_add_sd(lo, _mm_set_sd((double)xr[f] * xr[f]));
        const __m128d s01 = _mm_add_sd(lo, _mm_unpackhi_pd(lo, lo));
        const __m128d s23 = _mm_add_sd(hi, _mm_unpackhi_pd(hi, hi));
        out[r] = _mm_cvtsd_f64(_mm_add_sd(s01, s23));
    }
}

#endif
