/* kernels.h norms64_f32, shared by the AVX2 and AVX-512 kernels (both files
 * are built with AVX2 + FMA): a row's four running sums are the four lanes
 * of one 256-bit vector, four features converted to double a step (a wider
 * vector would sum f mod 8: other bits); four rows' vectors are then summed
 * across lanes together, (s0 + s1) + (s2 + s3) by a horizontal add and a
 * vertical one. Include once per kernel file, after immintrin.h, with
 * NORMS64_F32 defined as the name. */
#ifndef STRATA_KERNELS_NORMS64_IMPL_H
#define STRATA_KERNELS_NORMS64_IMPL_H

static inline __attribute__((always_inline)) __m256d norms64_row(const float *x, int64_t d)
{
    __m256d a = _mm256_setzero_pd();
    int64_t f = 0;
    for (; f + 4 <= d; f += 4) {
        const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + f));
        a = _mm256_fmadd_pd(v, v, a); /* v * v is exact: one rounding, fused or not */
    }
    for (; f < d; f++) /* into s0; the other sums gain +0 */
        a = _mm256_add_pd(a, _mm256_setr_pd((double)x[f] * x[f], 0.0, 0.0, 0.0));
    return a;
}

/* Rows x .. x + 3d: lane p is row p's (s0 + s1) + (s2 + s3). */
static inline __attribute__((always_inline)) __m256d norms64_rows4(const float *x, int64_t d)
{
    const __m256d h01 = _mm256_hadd_pd(norms64_row(x, d), norms64_row(x + d, d));
    const __m256d h23 = _mm256_hadd_pd(norms64_row(x + 2 * d, d), norms64_row(x + 3 * d, d));
    return _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20),
                         _mm256_permute2f128_pd(h01, h23, 0x31));
}

static void NORMS64_F32(const float *x, int64_t rows, int64_t d, double *out)
{
    int64_t r = 0;
#define NORMS64_FIXED(D)                                                                       \
    case D:                                                                                    \
        for (; r + 4 <= rows; r += 4)                                                          \
            _mm256_storeu_pd(out + r, norms64_rows4(x + r * D, D));                            \
        break;
    switch (d) { /* the usual widths of customer features */
    NORMS64_FIXED(4) NORMS64_FIXED(6) NORMS64_FIXED(8) NORMS64_FIXED(12) NORMS64_FIXED(16)
    NORMS64_FIXED(24) NORMS64_FIXED(32)
    default:
        for (; r + 4 <= rows; r += 4)
            _mm256_storeu_pd(out + r, norms64_rows4(x + r * d, d));
    }
#undef NORMS64_FIXED
    for (; r < rows; r++) {
        const __m256d a = norms64_row(x + r * d, d);
        const __m128d lo = _mm256_castpd256_pd128(a), hi = _mm256_extractf128_pd(a, 1);
        const __m128d s01 = _mm_add_sd(lo, _mm_unpackhi_pd(lo, lo));
        const __m128d s23 = _mm_add_sd(hi, _mm_unpackhi_pd(hi, hi));
        out[r] = _mm_cvtsd_f64(_mm_add_sd(s01, s23));
    }
}

#endif
