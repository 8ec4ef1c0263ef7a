/* Narrow-row operations shared by the AVX2 and AVX-512 kernels (both files
 * are built with AVX2 + FMA): the flat centring loop for contiguous rows of
 * d <= 16 features and the unweighted cluster sums with d <= 8 known at
 * compile time. Include once per kernel file, after immintrin.h. */
#ifndef STRATA_KERNELS_NARROW_ROWS_IMPL_H
#define STRATA_KERNELS_NARROW_ROWS_IMPL_H

#include "core/parallel.h"

/* Contiguous narrow rows (stride == d <= 16): one flat loop over the block
 * with the mean repeated over lcm(d, lanes) elements, in place of a loop per
 * row with a scalar tail (a fifth of a 1M x 8, k = 8 iteration before). The
 * same subtractions, so the same bits. */
#define CENTER_FLAT(T, LANES, VEC, LOAD, STORE, SUB)                                     \
    if (stride == d && d <= 16) {                                                         \
        const int64_t per = strata__lcm64(d, LANES); /* <= 16 * LANES */                    \
        T pat[16 * LANES];                                                                \
        for (int64_t i = 0; i < per; i++)                                                 \
            pat[i] = mean[i % d];                                                         \
        const int64_t n = rows * d;                                                       \
        int64_t i = 0;                                                                    \
        if (per == LANES) {                                                               \
            const VEC mv = LOAD(pat);                                                     \
            for (; i + 2 * LANES <= n; i += 2 * LANES) {                                  \
                STORE(out + i, SUB(LOAD(x + i), mv));                                     \
                STORE(out + i + LANES, SUB(LOAD(x + i + LANES), mv));                     \
            }                                                                             \
        } else {                                                                          \
            for (; i + per <= n; i += per)                                                \
                for (int64_t v = 0; v < per; v += LANES)                                  \
                    STORE(out + i + v, SUB(LOAD(x + i + v), LOAD(pat + v)));              \
        }                                                                                 \
        int64_t p = i % per;                                                              \
        for (; i + LANES <= n; i += LANES, p = (p + LANES) % per)                         \
            STORE(out + i, SUB(LOAD(x + i), LOAD(pat + p)));                              \
        for (; i < n; i++, p++)                                                           \
            out[i] = x[i] - pat[p];                                                       \
        return;                                                                           \
    }

/* Unweighted sums without the inertia (most Lloyd passes) with the width
 * known at compile time, d <= 8 (AVX2 also 16, 24, 32): the general loop's
 * per-row bookkeeping was a quarter of a 1M x 8, k = 8 iteration. Each sum gets the same additions
 * in the same order (w * x with w = 1 is x exactly), so the same bits. */
/* Written with vectors: the compiler left the scalar loop scalar. */
#define LOAD4_F32(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define LOAD2_F32(p) _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i_u *)(p))))
#define LOAD4_F64(p) _mm256_loadu_pd(p)
#define LOAD2_F64(p) _mm_loadu_pd(p)
#define SUMS_FIXED(NAME, XT, LOAD4, LOAD2)                                            \
    static inline __attribute__((always_inline)) void NAME(                           \
        const XT *x, int64_t rows, int64_t stride, const int D, const int32_t *labels, \
        double *sums, double *wsum)                                                   \
    {                                                                                 \
        for (int64_t r = 0; r < rows; r++) {                                          \
            const XT *xr = x + r * stride;                                            \
            const int64_t l = labels[r];                                              \
            double *s = sums + l * D;                                                 \
            int f = 0;                                                                \
            for (; f + 4 <= D; f += 4)                                                \
                _mm256_storeu_pd(s + f, _mm256_add_pd(_mm256_loadu_pd(s + f), LOAD4(xr + f))); \
            if (D - f >= 2) {                                                         \
                _mm_storeu_pd(s + f, _mm_add_pd(_mm_loadu_pd(s + f), LOAD2(xr + f)));  \
                f += 2;                                                               \
            }                                                                         \
            if (f < D)                                                                \
                s[f] += (double)xr[f];                                                \
            wsum[l] += 1.0;                                                           \
        }                                                                             \
    }
SUMS_FIXED(narrow_sums_f32, float, LOAD4_F32, LOAD2_F32)
SUMS_FIXED(narrow_sums_f64, double, LOAD4_F64, LOAD2_F64)

#define SUMS_DISPATCH(FN)                                                               \
    if (!w && !inertia)                                                                 \
        switch (d) {                                                                    \
        case 1: FN(x, rows, stride, 1, labels, sums, wsum); return;                     \
        case 2: FN(x, rows, stride, 2, labels, sums, wsum); return;                     \
        case 3: FN(x, rows, stride, 3, labels, sums, wsum); return;                     \
        case 4: FN(x, rows, stride, 4, labels, sums, wsum); return;                     \
        case 5: FN(x, rows, stride, 5, labels, sums, wsum); return;                     \
        case 6: FN(x, rows, stride, 6, labels, sums, wsum); return;                     \
        case 7: FN(x, rows, stride, 7, labels, sums, wsum); return;                     \
        case 8: FN(x, rows, stride, 8, labels, sums, wsum); return;                     \
        default: break;                                                                 \
        }

#endif
