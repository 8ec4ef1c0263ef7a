/* AVX2 + FMA kernels (compiled with -mavx2 -mfma). */
#include <immintrin.h>
#include <float.h>
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
/* Lanes holding the minimum of v, as a movemask, by a shuffle/min tree. */
static inline int min_lanes_f32(__m256 v)
{
    __m256 m = _mm256_min_ps(v, _mm256_permute2f128_ps(v, v, 1));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0x4E));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0xB1));
    return _mm256_movemask_ps(_mm256_cmp_ps(v, m, _CMP_EQ_OQ));
}

static inline int32_t hargmin_f32(__m256 best, __m256i besti)
{
    int eq = min_lanes_f32(best);
    if ((eq & (eq - 1)) == 0) /* one lane holds the minimum: the usual case */
        return _mm256_cvtsi256_si32(
            _mm256_permutevar8x32_epi32(besti, _mm256_set1_epi32(__builtin_ctz((unsigned)eq))));
    int32_t ix[8];
    _mm256_storeu_si256((__m256i *)ix, besti);
    int32_t bi = INT32_MAX;
    for (int l = 0; l < 8; l++)
        if ((eq >> l & 1) && ix[l] < bi)
            bi = ix[l];
    return bi;
}

/* When the index of lane l is l (all centroids in one vector). */
static inline void hargmin4_iota_f32(const __m256 *best, int32_t *out)
{
    for (int p = 0; p < 4; p++)
        out[p] = __builtin_ctz((unsigned)min_lanes_f32(best[p]));
}
#define HARGMIN_P4_IOTA(best, out) hargmin4_iota_f32(best, out)
#define HARGMIN(best, besti) hargmin_f32(best, besti)
#include "kernels/kernel_impl.h"
#undef HARGMIN_P4_IOTA
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
    __m256d m = _mm256_min_pd(best, _mm256_permute2f128_pd(best, best, 1));
    m = _mm256_min_pd(m, _mm256_permute_pd(m, 0x5));
    int eq = _mm256_movemask_pd(_mm256_cmp_pd(best, m, _CMP_EQ_OQ));
    int64_t ix[4];
    _mm256_storeu_si256((__m256i *)ix, besti);
    int64_t bi = INT64_MAX;
    for (int l = 0; l < 4; l++)
        if ((eq >> l & 1) && ix[l] < bi)
            bi = ix[l];
    return (int32_t)bi;
}
#define HARGMIN(best, besti) hargmin_f64(best, besti)
#include "kernels/kernel_impl.h"

#define RANK_KEYS_FN rank_keys_avx2
#include "kernels/rank_keys_impl.h"

#define CHECK_ROWS_FN check_rows_avx2
#include "kernels/rfm_rows_impl.h"

const strata__kernels strata__kernels_avx2 = {
    STRATA_KERNEL_AVX2, 8, 4,
    center_f32_avx2, center_f64_avx2,
    assign_f32_avx2, assign_f64_avx2,
    argmin_f32_avx2, argmin_f64_avx2,
    scores_f32_avx2, scores_f64_avx2,
    update_labels,
    accumulate_f32_avx2, accumulate_f64_avx2,
    NULL, NULL,
    rank_keys_avx2,
    check_rows_avx2,
};
