/* AVX2 + FMA kernels (compiled with -mavx2 -mfma). */
#include <immintrin.h>
#include <math.h>

#include "kernels/kernels.h"
#include "strata.h"

/* float32: 8 lanes, int32 indices. */
#define T float
#define SFX _f32_avx2
#define VEC __m256
#define IVEC __m256i
#define L 8
#define P 4
#define NB 2
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VSET1(s) _mm256_set1_ps(s)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VINF() _mm256_set1_ps(INFINITY)
#define IDX(base) _mm256_add_epi32(_mm256_set1_epi32(base), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define UPDATE_BEST(acc, best, besti, idx)                                              \
    do {                                                                                \
        __m256 m_ = _mm256_cmp_ps(acc, best, _CMP_LT_OQ);                               \
        best = _mm256_blendv_ps(best, acc, m_);                                         \
        besti = _mm256_castps_si256(                                                    \
            _mm256_blendv_ps(_mm256_castsi256_ps(besti), _mm256_castsi256_ps(idx), m_)); \
    } while (0)
static inline int32_t hargmin_f32(__m256 best, __m256i besti)
{
    float v[8];
    int32_t ix[8];
    _mm256_storeu_ps(v, best);
    _mm256_storeu_si256((__m256i *)ix, besti);
    int32_t bi = ix[0];
    float bv = v[0];
    for (int l = 1; l < 8; l++)
        if (v[l] < bv || (v[l] == bv && ix[l] < bi)) {
            bv = v[l];
            bi = ix[l];
        }
    return bi;
}
#define HARGMIN(best, besti) hargmin_f32(best, besti)
#include "kernels/kernel_impl.h"
#undef T
#undef SFX
#undef VEC
#undef IVEC
#undef L
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VINF
#undef IDX
#undef UPDATE_BEST
#undef HARGMIN

/* float64: 4 lanes, int64 indices. */
#define T double
#define SFX _f64_avx2
#define VEC __m256d
#define IVEC __m256i
#define L 4
#define VLOAD(p) _mm256_loadu_pd(p)
#define VSTORE(p, v) _mm256_storeu_pd(p, v)
#define VSET1(s) _mm256_set1_pd(s)
#define VFMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define VINF() _mm256_set1_pd(INFINITY)
#define IDX(base) _mm256_add_epi64(_mm256_set1_epi64x(base), _mm256_setr_epi64x(0, 1, 2, 3))
#define UPDATE_BEST(acc, best, besti, idx)                                              \
    do {                                                                                \
        __m256d m_ = _mm256_cmp_pd(acc, best, _CMP_LT_OQ);                              \
        best = _mm256_blendv_pd(best, acc, m_);                                         \
        besti = _mm256_castpd_si256(                                                    \
            _mm256_blendv_pd(_mm256_castsi256_pd(besti), _mm256_castsi256_pd(idx), m_)); \
    } while (0)
static inline int32_t hargmin_f64(__m256d best, __m256i besti)
{
    double v[4];
    int64_t ix[4];
    _mm256_storeu_pd(v, best);
    _mm256_storeu_si256((__m256i *)ix, besti);
    int64_t bi = ix[0];
    double bv = v[0];
    for (int l = 1; l < 4; l++)
        if (v[l] < bv || (v[l] == bv && ix[l] < bi)) {
            bv = v[l];
            bi = ix[l];
        }
    return (int32_t)bi;
}
#define HARGMIN(best, besti) hargmin_f64(best, besti)
#include "kernels/kernel_impl.h"

const strata__kernels strata__kernels_avx2 = {
    STRATA_KERNEL_AVX2, 8, 4,
    center_f32_avx2, center_f64_avx2,
    assign_f32_avx2, assign_f64_avx2,
    argmin_f32_avx2, argmin_f64_avx2,
    scores_f32_avx2, scores_f64_avx2,
    update_labels,
    accumulate_f32_avx2, accumulate_f64_avx2,
};
