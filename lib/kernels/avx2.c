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
#define VSUB(a, b) _mm256_sub_ps(a, b)
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
/* k = 9..16: six rows x two vectors, 12 accumulators of the 16 registers
 * (2M x 16 x 16, 1 thread: 23.6 -> 21.8 ms an iteration; 5 rows was no
 * better, 7 spilled: docs/performance.md, "AVX2: six rows for k = 9..16") */
#define KERNEL_ROWS_NV2 6
/* k = 9..16: the minimum of both vectors and the first lane holding it, in
 * place of a running best and its indices (two compares and four blends a
 * row) and a one-vector argmin. Ties go to the lower index, as before. */
static inline int32_t hargmin2_f32(__m256 a, __m256 b)
{
    __m256 m = _mm256_min_ps(a, b);
    m = _mm256_min_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0x4E));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0xB1)); /* the minimum in every lane */
    const unsigned eq = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, m, _CMP_EQ_OQ)) |
                        (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(b, m, _CMP_EQ_OQ)) << 8;
    return (int32_t)__builtin_ctz(eq);
}
#define HARGMIN2(a, b) hargmin2_f32(a, b)
/* The minimum of v in every lane. */
static inline __m256 hmin_f32(__m256 v)
{
    __m256 m = _mm256_min_ps(v, _mm256_permute2f128_ps(v, v, 1));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0x4E));
    return _mm256_min_ps(m, _mm256_permute_ps(m, 0xB1));
}

/* Of one vector's scores (column = lane): the label (the first lane holding
 * the minimum), its score, and the lowest score of the other lanes. */
static inline void top2_1_f32(__m256 v, int32_t *lab, float *s1, float *s2)
{
    const __m256 m = hmin_f32(v);
    const int j = __builtin_ctz((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, m, _CMP_EQ_OQ)));
    const __m256 at = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(j)));
    *lab = j;
    *s1 = _mm256_cvtss_f32(m);
    *s2 = _mm256_cvtss_f32(hmin_f32(_mm256_blendv_ps(v, _mm256_set1_ps(INFINITY), at)));
}

/* The same of two vectors, a: columns 0..7, b: 8..15 (the first column
 * holding the minimum: a's lanes, then b's, bits 8..15). */
static inline void top2_2_f32(__m256 a, __m256 b, int32_t *lab, float *s1, float *s2)
{
    const __m256 m = hmin_f32(_mm256_min_ps(a, b));
    const unsigned eqb = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(b, m, _CMP_EQ_OQ)) << 8;
    const unsigned eqa = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, m, _CMP_EQ_OQ));
    const int j = __builtin_ctz(eqa | eqb);
    const __m256 at = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(j & 7)));
    *lab = j;
    *s1 = _mm256_cvtss_f32(m);
    /* lane j & 7 offers its other column, every other lane its lower one */
    *s2 = _mm256_cvtss_f32(hmin_f32(_mm256_blendv_ps(_mm256_min_ps(a, b), _mm256_max_ps(a, b), at)));
}
#define TOP2_1(v, lab, s1, s2) top2_1_f32(v, lab, s1, s2)
#define TOP2_2(a, b, lab, s1, s2) top2_2_f32(a, b, lab, s1, s2)
#include "kernels/kernel_impl.h"
#undef KERNEL_ROWS_NV2
#undef HARGMIN2
#undef TOP2_1
#undef TOP2_2
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
#undef VSUB
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
#define VSUB(a, b) _mm256_sub_pd(a, b)
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

/* ------------------------------------------------------------------------
 * Few centroids (k <= 16), rows in lanes: 8 float32 or 4 float64 rows per
 * vector instead of 8 or 4 centroids. A group of centred rows is transposed
 * in registers, four (float32) or two (float64) features at a time, so the
 * scores of one centroid for the whole group build up in one register: k x d
 * FMAs per group and a lane-wise argmin, where the one-vector kernel spends
 * lanes x d FMAs (most of them padding at k = 4) and a horizontal argmin per
 * row. Each score is bias_j, then one FMA per feature in feature order, as
 * in assign_* and scores_*: the labels are the same bits. Sixteen registers
 * hold at most 8 accumulators and the features in flight, so k = 9..16 runs
 * as two halves of the centroids over the same group (ties: the first half
 * holds the lower indices and wins them, compares are strict). */

/* Four features (f0..f0+3) of 8 rows at x (row stride d) -> o[q] = feature
 * f0 + q of rows 0..7. Rows at or past `rows` read as zero; `safe` says every
 * 4-float read stays inside the rows * d block, else reads near its end are
 * masked. */
static inline __attribute__((always_inline)) void quad8_ps(const float *x, int64_t d,
                                                           int64_t f0, int64_t rows,
                                                           int safe, __m256 o[4])
{
    __m128 h[8];
    if (safe) {
        for (int r = 0; r < 8; r++)
            h[r] = _mm_loadu_ps(x + r * d + f0);
    } else {
        const int64_t extent = rows * d;
        for (int r = 0; r < 8; r++) {
            const int64_t at = r * d + f0;
            if (r >= rows)
                h[r] = _mm_setzero_ps();
            else if (at + 4 <= extent)
                h[r] = _mm_loadu_ps(x + at);
            else {
                const int64_t w = extent - at; /* 1..3 */
                const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32((int)w), _mm_setr_epi32(0, 1, 2, 3));
                h[r] = _mm_maskload_ps(x + at, m);
            }
        }
    }
    __m256 v[4]; /* v[r]: row r | row r + 4 */
    for (int r = 0; r < 4; r++)
        v[r] = _mm256_insertf128_ps(_mm256_castps128_ps256(h[r]), h[r + 4], 1);
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    o[0] = _mm256_shuffle_ps(t0, t2, 0x44);
    o[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    o[2] = _mm256_shuffle_ps(t1, t3, 0x44);
    o[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}

/* Scores of centroids J0..J0+KB-1 for 8 rows, folded into (best, besti).
 * cb: the table broadcast, cb[f * k + j] = ct[f * kp + j] in every lane, so
 * that each FMA takes its centroid value straight from memory (a broadcast
 * per FMA cost a load each). */
#define CT_F32(f, j) (cb[(f) * k + (j)])
static inline __attribute__((always_inline)) void few_group_f32(
    const float *x, int64_t rows, int64_t d, const __m256 *cb,
    const float *bias, int64_t k, const int J0, const int KB, __m256 *best,
    __m256i *besti)
{
    __m256 acc[8];
    for (int j = 0; j < KB; j++)
        acc[j] = _mm256_set1_ps(bias[J0 + j]);
    if (d == 1 && rows >= 8) {
        const __m256 x0 = _mm256_loadu_ps(x);
        for (int j = 0; j < KB; j++)
            acc[j] = _mm256_fmadd_ps(x0, CT_F32(0, J0 + j), acc[j]);
    } else if (d == 2 && rows >= 8) {
        /* even / odd floats of two vectors: rows 0 1 4 5 | 2 3 6 7, then
         * the middle 64-bit pairs swapped */
        const __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
        const __m256 x0 = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
        const __m256 x1 = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
        for (int j = 0; j < KB; j++)
            acc[j] = _mm256_fmadd_ps(x0, CT_F32(0, J0 + j), acc[j]);
        for (int j = 0; j < KB; j++)
            acc[j] = _mm256_fmadd_ps(x1, CT_F32(1, J0 + j), acc[j]);
    } else {
        /* the last read of row 7 ends before 8 d + 4 */
        const int safe = 8 * d + 4 <= rows * d;
        for (int64_t f0 = 0; f0 < d; f0 += 4) {
            __m256 o[4];
            quad8_ps(x, d, f0, rows, safe, o);
            const int64_t w = d - f0 < 4 ? d - f0 : 4;
            for (int64_t q = 0; q < w; q++)
                for (int j = 0; j < KB; j++)
                    acc[j] = _mm256_fmadd_ps(o[q], CT_F32(f0 + q, J0 + j), acc[j]);
        }
    }
    int j = 0;
    if (J0 == 0) { /* the first centroid seeds the minimum */
        *best = acc[0];
        *besti = _mm256_setzero_si256();
        j = 1;
    }
    for (; j < KB; j++) { /* strict: the lower index keeps ties */
        const __m256 m = _mm256_cmp_ps(acc[j], *best, _CMP_LT_OQ);
        *best = _mm256_blendv_ps(*best, acc[j], m);
        *besti = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(*besti), _mm256_castsi256_ps(_mm256_set1_epi32(J0 + j)), m));
    }
}

static inline void store_labels8(__m256i besti, int64_t rows, int32_t *labels)
{
    if (rows >= 8) {
        _mm256_storeu_si256((__m256i *)labels, besti);
    } else {
        int32_t tmp[8];
        _mm256_storeu_si256((__m256i *)tmp, besti);
        for (int64_t r = 0; r < rows; r++)
            labels[r] = tmp[r];
    }
}

/* Broadcast centroid tables up to this many vectors (8 KiB of stack); wider
 * tables (k d > 256, where the transposes no longer pay) go to assign_*,
 * which gives the same labels. */
#define FEW_TABLE_MAX 256

static inline __attribute__((always_inline)) void assign_few_f32_body(
    const float *xc, int64_t rows, int64_t d, const __m256 *cb, const float *bias,
    int64_t k, int32_t *labels)
{
    /* only the first k columns are scored (the rest are +inf padding) */
    for (int64_t r = 0; r < rows; r += 8) {
        const float *xr = xc + r * d;
        const int64_t n = rows - r;
        __m256 best = _mm256_setzero_ps(); /* set by the first group (k >= 1) */
        __m256i besti = _mm256_setzero_si256();
        switch (k) {
#define FEW_CASE(K)                                                                  \
        case K:                                                                      \
            few_group_f32(xr, n, d, cb, bias, k, 0, K, &best, &besti);       \
            break;                                                                   \
        case 8 + K:                                                                  \
            few_group_f32(xr, n, d, cb, bias, k, 0, 8, &best, &besti);       \
            few_group_f32(xr, n, d, cb, bias, k, 8, K, &best, &besti);       \
            break;
        FEW_CASE(1) FEW_CASE(2) FEW_CASE(3) FEW_CASE(4)
        FEW_CASE(5) FEW_CASE(6) FEW_CASE(7) FEW_CASE(8)
#undef FEW_CASE
        }
        store_labels8(besti, n, labels + r);
    }
}

static void assign_few_f32_avx2(const float *xc, int64_t rows, int64_t d, const float *ct,
                                const float *bias, int64_t k, int64_t kp, int32_t *labels)
{
    if (k * d > FEW_TABLE_MAX) {
        assign_f32_avx2(xc, rows, d, d, NULL, ct, bias, kp, labels);
        return;
    }
    __m256 cb[FEW_TABLE_MAX];
    for (int64_t f = 0; f < d; f++)
        for (int64_t j = 0; j < k; j++)
            cb[f * k + j] = _mm256_set1_ps(ct[f * kp + j]);
    assign_few_f32_body(xc, rows, d, cb, bias, k, labels);
}

/* float64: two features (f0, f0 + 1) of 4 rows -> o[q] = feature f0 + q of
 * rows 0..3; reads as in quad8_ps. */
static inline __attribute__((always_inline)) void pair4_pd(const double *x, int64_t d,
                                                           int64_t f0, int64_t rows,
                                                           int safe, __m256d o[2])
{
    __m128d h[4];
    if (safe) {
        for (int r = 0; r < 4; r++)
            h[r] = _mm_loadu_pd(x + r * d + f0);
    } else {
        const int64_t extent = rows * d;
        for (int r = 0; r < 4; r++) {
            const int64_t at = r * d + f0;
            if (r >= rows)
                h[r] = _mm_setzero_pd();
            else if (at + 2 <= extent)
                h[r] = _mm_loadu_pd(x + at);
            else
                h[r] = _mm_load_sd(x + at); /* the block's last element */
        }
    }
    /* v0: row 0 | row 2, v1: row 1 | row 3 */
    const __m256d v0 = _mm256_insertf128_pd(_mm256_castpd128_pd256(h[0]), h[2], 1);
    const __m256d v1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(h[1]), h[3], 1);
    o[0] = _mm256_unpacklo_pd(v0, v1);
    o[1] = _mm256_unpackhi_pd(v0, v1);
}

#define CT_F64(f, j) (cb[(f) * k + (j)])
static inline __attribute__((always_inline)) void few_group_f64(
    const double *x, int64_t rows, int64_t d, const __m256d *cb,
    const double *bias, int64_t k, const int J0, const int KB, __m256d *best,
    __m256i *besti)
{
    __m256d acc[8];
    for (int j = 0; j < KB; j++)
        acc[j] = _mm256_set1_pd(bias[J0 + j]);
    if (d == 1 && rows >= 4) {
        const __m256d x0 = _mm256_loadu_pd(x);
        for (int j = 0; j < KB; j++)
            acc[j] = _mm256_fmadd_pd(x0, CT_F64(0, J0 + j), acc[j]);
    } else {
        const int safe = 4 * d + 2 <= rows * d; /* the last read of row 3 ends before 4 d + 2 */
        for (int64_t f0 = 0; f0 < d; f0 += 2) {
            __m256d o[2];
            pair4_pd(x, d, f0, rows, safe, o);
            const int64_t w = d - f0 < 2 ? d - f0 : 2;
            for (int64_t q = 0; q < w; q++)
                for (int j = 0; j < KB; j++)
                    acc[j] = _mm256_fmadd_pd(o[q], CT_F64(f0 + q, J0 + j), acc[j]);
        }
    }
    int j = 0;
    if (J0 == 0) {
        *best = acc[0];
        *besti = _mm256_setzero_si256();
        j = 1;
    }
    for (; j < KB; j++) { /* strict: the lower index keeps ties */
        const __m256d m = _mm256_cmp_pd(acc[j], *best, _CMP_LT_OQ);
        *best = _mm256_blendv_pd(*best, acc[j], m);
        *besti = _mm256_castpd_si256(_mm256_blendv_pd(
            _mm256_castsi256_pd(*besti), _mm256_castsi256_pd(_mm256_set1_epi64x(J0 + j)), m));
    }
}

static inline __attribute__((always_inline)) void assign_few_f64_body(
    const double *xc, int64_t rows, int64_t d, const __m256d *cb, const double *bias,
    int64_t k, int32_t *labels)
{
    /* the 64-bit indices' low halves, in order */
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (int64_t r = 0; r < rows; r += 4) {
        const double *xr = xc + r * d;
        const int64_t n = rows - r;
        __m256d best = _mm256_setzero_pd(); /* set by the first group (k >= 1) */
        __m256i besti = _mm256_setzero_si256();
        switch (k) {
#define FEW_CASE(K)                                                                  \
        case K:                                                                      \
            few_group_f64(xr, n, d, cb, bias, k, 0, K, &best, &besti);       \
            break;                                                                   \
        case 8 + K:                                                                  \
            few_group_f64(xr, n, d, cb, bias, k, 0, 8, &best, &besti);       \
            few_group_f64(xr, n, d, cb, bias, k, 8, K, &best, &besti);       \
            break;
        FEW_CASE(1) FEW_CASE(2) FEW_CASE(3) FEW_CASE(4)
        FEW_CASE(5) FEW_CASE(6) FEW_CASE(7) FEW_CASE(8)
#undef FEW_CASE
        }
        const __m128i lab = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(besti, pick));
        if (n >= 4) {
            _mm_storeu_si128((__m128i *)(labels + r), lab);
        } else {
            int32_t tmp[4];
            _mm_storeu_si128((__m128i *)tmp, lab);
            for (int64_t i = 0; i < n; i++)
                labels[r + i] = tmp[i];
        }
    }
}

static void assign_few_f64_avx2(const double *xc, int64_t rows, int64_t d, const double *ct,
                                const double *bias, int64_t k, int64_t kp, int32_t *labels)
{
    if (k * d > FEW_TABLE_MAX) {
        assign_f64_avx2(xc, rows, d, d, NULL, ct, bias, kp, labels);
        return;
    }
    __m256d cb[FEW_TABLE_MAX];
    for (int64_t f = 0; f < d; f++)
        for (int64_t j = 0; j < k; j++)
            cb[f * k + j] = _mm256_set1_pd(ct[f * kp + j]);
    assign_few_f64_body(xc, rows, d, cb, bias, k, labels);
}

/* ------------------------------------------------------------------------
 * Row operations around the assignment. */

#include "kernels/narrow_rows_impl.h"

#define OWN_F32 own_f32_avx2
#define OWN_F64 own_f64_avx2
#include "kernels/own_rows_impl.h"

#define NORMS64_F32 norms64_f32_avx2
#include "kernels/norms64_impl.h"

static void center_rows_f32_avx2(const float *x, int64_t rows, int64_t stride, int64_t d,
                                 const float *mean, float *out)
{
    CENTER_FLAT(float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sub_ps)
    center_f32_avx2(x, rows, stride, d, mean, out);
}

static void center_rows_f64_avx2(const double *x, int64_t rows, int64_t stride, int64_t d,
                                 const double *mean, double *out)
{
    CENTER_FLAT(double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_sub_pd)
    center_f64_avx2(x, rows, stride, d, mean, out);
}

/* Unweighted sums only (every UPDATE pass) with the width known at compile
 * time also for d = 16, 24, 32, as the AVX-512 file has: the general loop
 * multiplies by a weight of 1 and keeps a variable-length inner loop (an
 * AVX2 streamed pass of 100M x 16 that sums afresh took 0.2 s more than one
 * that moves rows). narrow_sums_* take any fixed width in 256-bit steps. */
#define SUMS_WIDE_DISPATCH(FN)                                                 \
    if (!w && !inertia)                                                        \
        switch (d) {                                                           \
        case 16: FN(x, rows, stride, 16, labels, sums, wsum); return;          \
        case 24: FN(x, rows, stride, 24, labels, sums, wsum); return;          \
        case 32: FN(x, rows, stride, 32, labels, sums, wsum); return;          \
        default: break;                                                        \
        }

static void accumulate_rows_f32_avx2(const float *x, int64_t rows, int64_t stride, int64_t d,
                                     const int32_t *labels, const double *w, const double *c,
                                     double *sums, double *wsum, double *inertia)
{
    SUMS_WIDE_DISPATCH(narrow_sums_f32)
    SUMS_DISPATCH(narrow_sums_f32)
    accumulate_f32_avx2(x, rows, stride, d, labels, w, c, sums, wsum, inertia);
}

static void accumulate_rows_f64_avx2(const double *x, int64_t rows, int64_t stride, int64_t d,
                                     const int32_t *labels, const double *w, const double *c,
                                     double *sums, double *wsum, double *inertia)
{
    SUMS_WIDE_DISPATCH(narrow_sums_f64)
    SUMS_DISPATCH(narrow_sums_f64)
    accumulate_f64_avx2(x, rows, stride, d, labels, w, c, sums, wsum, inertia);
}

#define RANK_KEYS_FN rank_keys_avx2
#include "kernels/rank_keys_impl.h"

#define CHECK_ROWS_FN check_rows_avx2
#include "kernels/rfm_rows_impl.h"

/* Where the rows-in-lanes kernels were measured faster than assign_*
 * (docs/performance.md, "AVX2 rows-in-lanes kernels"; 128K rows, 1 thread).
 * float32: always at d <= 2; at k < 8 (d <= 8), where the one-vector kernel
 * scores 8 - k padding columns; at k = 9..16 up to d = 6. Not at k = 8 with
 * d >= 4: there assign_f32 has no padding and 8 rows of independent FMA
 * chains, and was as fast or faster. float64 (4 lanes, so k > 4 takes two
 * or more vectors and a horizontal argmin per row): k <= 16 up to d = 8,
 * k <= 8 up to d = 16. */
static int few_f32_avx2(int64_t k, int64_t d)
{
    if (k > 16)
        return 0;
    return d <= 2 || (k < 8 && d <= 8) || (k > 8 && d <= 6);
}

static int few_f64_avx2(int64_t k, int64_t d)
{
    return (k <= 16 && d <= 8) || (k <= 8 && d <= 16);
}

const strata__kernels strata__kernels_avx2 = {
    STRATA_KERNEL_AVX2, 8, 4,
    center_rows_f32_avx2, center_rows_f64_avx2,
    assign_f32_avx2, assign_f64_avx2,
    assign2_f32_avx2, assign2_f64_avx2,
    norms_f32_avx2, norms_f64_avx2, norms64_f32_avx2,
    own_f32_avx2, own_f64_avx2,
    centre_in_f32_avx2, centre_in_f64_avx2,
    argmin_f32_avx2, argmin_f64_avx2,
    scores_f32_avx2, scores_f64_avx2,
    accumulate_rows_f32_avx2, accumulate_rows_f64_avx2,
    assign_few_f32_avx2, assign_few_f64_avx2, few_f32_avx2, few_f64_avx2,
    rank_keys_avx2,
    check_rows_avx2,
};
