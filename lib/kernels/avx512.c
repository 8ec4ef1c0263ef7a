/* AVX-512F kernels (compiled with -mavx512f -mavx512dq -mavx512vl -mavx512bw). */
#include <immintrin.h>
#include <float.h>
#include <math.h>

#include "kernels/kernels.h"
#include "strata.h"

#define KERNEL_OWN_ROW_OPS
/* kernel_impl.h's empty asm, with all 32 vector registers allowed */
#define KEEP_VECTOR(v) __asm__("" : "+v"(v))

#include "kernels/narrow_rows_impl.h"

#define OWN_F32 own_f32_avx512
#define OWN_F64 own_f64_avx512
#include "kernels/own_rows_impl.h"

#define NORMS64_F32 norms64_f32_avx512
#include "kernels/norms64_impl.h"

/* Masked loads and stores are slow on some AVX-512 CPUs (AMD Zen 4/5 run
 * masked stores about 3x slower than plain ones), so row loops use full
 * vectors and finish the last d % width features in scalar code. */

static void center_f32_avx512(const float *x, int64_t rows, int64_t stride, int64_t d,
                              const float *mean, float *out)
{
    if (stride == d && 16 % d == 0) {
        /* Contiguous narrow rows (d = 1, 2, 4, 8): one flat loop with the
         * mean repeated across the vector, not a loop per row. */
        float pat[16];
        for (int i = 0; i < 16; i++)
            pat[i] = mean[i % d];
        const __m512 mv = _mm512_loadu_ps(pat);
        const int64_t n = rows * d;
        int64_t i = 0;
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i, _mm512_sub_ps(_mm512_loadu_ps(x + i), mv));
        for (; i < n; i++)
            out[i] = x[i] - mean[i % d];
        return;
    }
    /* other contiguous rows up to 16 features (d = 6, say): the AVX2 flat
     * loop (a scalar tail per row was most of a 1M x 6, k = 8 pass) */
    CENTER_FLAT(float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sub_ps)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * stride;
        float *o = out + r * d;
        int64_t f = 0;
        for (; f + 16 <= d; f += 16)
            _mm512_storeu_ps(o + f, _mm512_sub_ps(_mm512_loadu_ps(xr + f), _mm512_loadu_ps(mean + f)));
        for (; f + 8 <= d; f += 8)
            _mm256_storeu_ps(o + f, _mm256_sub_ps(_mm256_loadu_ps(xr + f), _mm256_loadu_ps(mean + f)));
        for (; f < d; f++)
            o[f] = xr[f] - mean[f];
    }
}

static void center_f64_avx512(const double *x, int64_t rows, int64_t stride, int64_t d,
                              const double *mean, double *out)
{
    if (stride == d && 8 % d == 0) { /* as in center_f32_avx512 */
        double pat[8];
        for (int i = 0; i < 8; i++)
            pat[i] = mean[i % d];
        const __m512d mv = _mm512_loadu_pd(pat);
        const int64_t n = rows * d;
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            _mm512_storeu_pd(out + i, _mm512_sub_pd(_mm512_loadu_pd(x + i), mv));
        for (; i < n; i++)
            out[i] = x[i] - mean[i % d];
        return;
    }
    CENTER_FLAT(double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_sub_pd)
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * stride;
        double *o = out + r * d;
        int64_t f = 0;
        for (; f + 8 <= d; f += 8)
            _mm512_storeu_pd(o + f, _mm512_sub_pd(_mm512_loadu_pd(xr + f), _mm512_loadu_pd(mean + f)));
        for (; f + 4 <= d; f += 4)
            _mm256_storeu_pd(o + f, _mm256_sub_pd(_mm256_loadu_pd(xr + f), _mm256_loadu_pd(mean + f)));
        for (; f < d; f++)
            o[f] = xr[f] - mean[f];
    }
}

/* Row values widened to double, 8 features at a time; the weighted distance
 * is accumulated lane-wise and reduced once per call. */
#define ACCUMULATE_BODY(LOAD8, XT)                                               \
    __m512d vin = _mm512_setzero_pd();                                           \
    double tail_in = 0.0;                                                        \
    for (int64_t r = 0; r < rows; r++) {                                         \
        const XT *xr = x + r * stride;                                           \
        const int64_t l = labels[r];                                             \
        const double wr = w ? w[r] : 1.0;                                        \
        const __m512d vw = _mm512_set1_pd(wr);                                   \
        double *s = sums + l * d;                                                \
        const double *cl = c + l * d;                                            \
        __m512d vd = _mm512_setzero_pd();                                        \
        int64_t f = 0;                                                           \
        for (; f + 8 <= d; f += 8) {                                             \
            __m512d xv = LOAD8(xr + f);                                          \
            _mm512_storeu_pd(s + f, _mm512_fmadd_pd(vw, xv, _mm512_loadu_pd(s + f))); \
            if (inertia) {                                                       \
                __m512d diff = _mm512_sub_pd(xv, _mm512_loadu_pd(cl + f));       \
                vd = _mm512_fmadd_pd(diff, diff, vd);                            \
            }                                                                    \
        }                                                                        \
        double td = 0.0;                                                         \
        for (; f < d; f++) {                                                     \
            double xv = (double)xr[f];                                           \
            s[f] += wr * xv;                                                     \
            if (inertia)                                                         \
                td += (xv - cl[f]) * (xv - cl[f]);                               \
        }                                                                        \
        if (inertia) {                                                           \
            vin = _mm512_fmadd_pd(vw, vd, vin);                                  \
            tail_in += wr * td;                                                  \
        }                                                                        \
        wsum[l] += wr;                                                           \
    }                                                                            \
    if (inertia)                                                                 \
        *inertia += _mm512_reduce_add_pd(vin) + tail_in;

#define LOAD8_F32(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define LOAD8_F64(p) _mm512_loadu_pd(p)

/* Two copies each, with and without the inertia, so the row loop has no
 * branch on it. */
static inline __attribute__((always_inline)) void accumulate_f32_body(
    const float *x, int64_t rows, int64_t stride, int64_t d, const int32_t *labels,
    const double *w, const double *c, double *sums, double *wsum,
    double *inertia)
{
    ACCUMULATE_BODY(LOAD8_F32, float)
}

static inline __attribute__((always_inline)) void accumulate_f64_body(
    const double *x, int64_t rows, int64_t stride, int64_t d, const int32_t *labels,
    const double *w, const double *c, double *sums, double *wsum,
    double *inertia)
{
    ACCUMULATE_BODY(LOAD8_F64, double)
}

/* The common case of later Lloyd passes, unweighted sums only, with the
 * width known at compile time: a few instructions per row instead of the
 * general loop's bookkeeping (measured 30% of a 1M x 8, k = 8 pass). The
 * additions are the same, in the same order. */
#define ACCUMULATE_SUMS_FIXED(NAME, XT, LOAD8)                                     \
    static inline __attribute__((always_inline)) void NAME(                        \
        const XT *x, int64_t rows, int64_t stride, const int D, const int32_t *labels, \
        double *sums, double *wsum)                                                \
    {                                                                              \
        for (int64_t r = 0; r < rows; r++) {                                       \
            const XT *xr = x + r * stride;                                         \
            const int64_t l = labels[r];                                           \
            double *s = sums + l * D;                                              \
            for (int f = 0; f < D; f += 8)                                         \
                _mm512_storeu_pd(s + f, _mm512_add_pd(_mm512_loadu_pd(s + f),      \
                                                      LOAD8(xr + f)));             \
            wsum[l] += 1.0;                                                        \
        }                                                                          \
    }
ACCUMULATE_SUMS_FIXED(sums_fixed_f32, float, LOAD8_F32)
ACCUMULATE_SUMS_FIXED(sums_fixed_f64, double, LOAD8_F64)

#define ACCUMULATE_DISPATCH_FIXED(FN)                                          \
    if (!w && !inertia)                                                        \
        switch (d) {                                                           \
        case 8: FN(x, rows, stride, 8, labels, sums, wsum); return;            \
        case 16: FN(x, rows, stride, 16, labels, sums, wsum); return;          \
        case 24: FN(x, rows, stride, 24, labels, sums, wsum); return;          \
        case 32: FN(x, rows, stride, 32, labels, sums, wsum); return;          \
        default: break;                                                        \
        }

static void accumulate_f32_avx512(const float *x, int64_t rows, int64_t stride, int64_t d,
                                  const int32_t *labels, const double *w,
                                  const double *c, double *sums, double *wsum, double *inertia)
{
    ACCUMULATE_DISPATCH_FIXED(sums_fixed_f32)
    if (d < 8) /* narrow rows: 256-bit sums with the width fixed (kernels/narrow_rows_impl.h) */
        SUMS_DISPATCH(narrow_sums_f32)
    if (inertia)
        accumulate_f32_body(x, rows, stride, d, labels, w, c, sums, wsum, inertia);
    else
        accumulate_f32_body(x, rows, stride, d, labels, w, c, sums, wsum, NULL);
}

static void accumulate_f64_avx512(const double *x, int64_t rows, int64_t stride, int64_t d,
                                  const int32_t *labels, const double *w,
                                  const double *c, double *sums, double *wsum, double *inertia)
{
    ACCUMULATE_DISPATCH_FIXED(sums_fixed_f64)
    if (d < 8)
        SUMS_DISPATCH(narrow_sums_f64)
    if (inertia)
        accumulate_f64_body(x, rows, stride, d, labels, w, c, sums, wsum, inertia);
    else
        accumulate_f64_body(x, rows, stride, d, labels, w, c, sums, wsum, NULL);
}

/* Few centroids (k <= 16), float32: sixteen rows per vector instead of
 * sixteen centroids. Each group of 16 centred rows is transposed in
 * registers (16 x 16 blocks of features), so the scores of one centroid for
 * 16 rows build up in one register with k x d FMAs per group, against d per
 * row (16 x d per group) when the centroids fill the lanes; at k = 8 half
 * of those lanes were padding. The argmin is then lane-wise (no horizontal
 * reductions). Each score is bias_j + sum_f x'_f * ct[f][j] in the same
 * order as assign_f32, so the labels are bitwise the same. */
static inline void transpose16_ps(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) { /* per 128-bit lane: a0 b0 a1 b1 | a2 b2 a3 b3 */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i + q], lane L: feature 4L + q of rows 4i..4i+3 */
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
    }
    for (int q = 0; q < 4; q++) /* 4 x 4 transpose of 128-bit lanes */
        t[q] = r[q], t[4 + q] = r[4 + q], t[8 + q] = r[8 + q], t[12 + q] = r[12 + q];
    for (int q = 0; q < 4; q++) {
        __m512 a = _mm512_shuffle_f32x4(t[q], t[4 + q], 0x44);
        __m512 b = _mm512_shuffle_f32x4(t[q], t[4 + q], 0xEE);
        __m512 c = _mm512_shuffle_f32x4(t[8 + q], t[12 + q], 0x44);
        __m512 e = _mm512_shuffle_f32x4(t[8 + q], t[12 + q], 0xEE);
        r[q] = _mm512_shuffle_f32x4(a, c, 0x88);
        r[4 + q] = _mm512_shuffle_f32x4(a, c, 0xDD);
        r[8 + q] = _mm512_shuffle_f32x4(b, e, 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(b, e, 0xDD);
    }
}

/* The same for d = 8: 16 contiguous rows of 8 floats (8 vectors of two rows
 * each) to 8 vectors of one feature, in 24 two-source permutes and shuffles
 * instead of the 64 of transpose16_ps. */
static inline void transpose16x8_ps(const float *x, __m512 o[8])
{
    /* Stage 1: four rows (two input vectors) -> features 0..3 / 4..7 of
     * those rows, lane 4f + q for row q. Stage 2: two such -> features f,
     * f + 1 of eight rows, lanes 8 (f % 2) + row. Stage 3: 256-bit halves. */
    const __m512i ia = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    const __m512i ib = _mm512_add_epi32(ia, _mm512_set1_epi32(4));
    const __m512i ilo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i ihi = _mm512_add_epi32(ilo, _mm512_set1_epi32(8));
    __m512 a[4], b[4];
    for (int j = 0; j < 4; j++) {
        __m512 u0 = _mm512_loadu_ps(x + 32 * j), u1 = _mm512_loadu_ps(x + 32 * j + 16);
        a[j] = _mm512_permutex2var_ps(u0, ia, u1);
        b[j] = _mm512_permutex2var_ps(u0, ib, u1);
    }
    for (int h = 0; h < 2; h++) {
        const __m512 *s = h ? b : a;
        __m512 lo01 = _mm512_permutex2var_ps(s[0], ilo, s[1]);
        __m512 lo23 = _mm512_permutex2var_ps(s[2], ilo, s[3]);
        __m512 hi01 = _mm512_permutex2var_ps(s[0], ihi, s[1]);
        __m512 hi23 = _mm512_permutex2var_ps(s[2], ihi, s[3]);
        o[4 * h] = _mm512_shuffle_f32x4(lo01, lo23, 0x44);
        o[4 * h + 1] = _mm512_shuffle_f32x4(lo01, lo23, 0xEE);
        o[4 * h + 2] = _mm512_shuffle_f32x4(hi01, hi23, 0x44);
        o[4 * h + 3] = _mm512_shuffle_f32x4(hi01, hi23, 0xEE);
    }
}

static inline __attribute__((always_inline)) void assign_few_group_f32(
    const float *x, int64_t rows, int64_t d, const float *ct, const float *bias, int64_t kp,
    const int KB, int32_t *labels)
{
    const int64_t extent = rows * d; /* elements readable from x */
    __m512 acc[16];
    for (int j = 0; j < KB; j++)
        acc[j] = _mm512_set1_ps(bias[j]);
    if (d == 8 && rows >= 16) {
        __m512 o[8];
        transpose16x8_ps(x, o);
        for (int f = 0; f < 8; f++)
            for (int j = 0; j < KB; j++)
                acc[j] = _mm512_fmadd_ps(o[f], _mm512_set1_ps(ct[f * kp + j]), acc[j]);
        d = 0; /* done: skip the general loop */
    }
    for (int64_t f0 = 0; f0 < d; f0 += 16) {
        const int64_t w = d - f0 < 16 ? d - f0 : 16;
        const __mmask16 fm = (__mmask16)((1u << w) - 1);
        __m512 v[16];
        /* Plain loads where the width allows (masked loads measured ~1.5x
         * slower here, Zen 5); full loads that stay inside the block and
         * drop the extra lanes; masked loads near the block's end. */
        if (w == 16 && rows >= 16)
            for (int r = 0; r < 16; r++)
                v[r] = _mm512_loadu_ps(x + r * d + f0);
        else if (w == 8 && rows >= 16)
            for (int r = 0; r < 16; r++)
                v[r] = _mm512_zextps256_ps512(_mm256_loadu_ps(x + r * d + f0));
        else
            for (int r = 0; r < 16; r++) {
                const float *p = x + r * d + f0;
                if (r >= rows)
                    v[r] = _mm512_setzero_ps();
                else if (r * d + f0 + 16 <= extent)
                    v[r] = _mm512_maskz_mov_ps(fm, _mm512_loadu_ps(p));
                else
                    v[r] = _mm512_maskz_loadu_ps(fm, p);
            }
        transpose16_ps(v);
        for (int64_t f = 0; f < w; f++) {
            const float *c = ct + (f0 + f) * kp;
            for (int j = 0; j < KB; j++)
                acc[j] = _mm512_fmadd_ps(v[f], _mm512_set1_ps(c[j]), acc[j]);
        }
    }
    __m512 best = acc[0];
    __m512i besti = _mm512_setzero_si512();
    for (int j = 1; j < KB; j++) { /* strict: the lower index keeps ties */
        __mmask16 m = _mm512_cmp_ps_mask(acc[j], best, _CMP_LT_OQ);
        best = _mm512_mask_mov_ps(best, m, acc[j]);
        besti = _mm512_mask_mov_epi32(besti, m, _mm512_set1_epi32(j));
    }
    if (rows >= 16) {
        _mm512_storeu_si512(labels, besti);
    } else {
        int32_t tmp[16];
        _mm512_storeu_si512(tmp, besti);
        for (int64_t r = 0; r < rows; r++)
            labels[r] = tmp[r];
    }
}

static void assign_few_f32_avx512(const float *xc, int64_t rows, int64_t d, const float *ct,
                                  const float *bias, int64_t k, int64_t kp, int32_t *labels)
{
    /* Centroids k..kp-1 are padding (bias +inf); only the first k (rounded
     * up to a multiple of 2) are scored. */
    const int kb = (int)((k + 1) & ~(int64_t)1);
    for (int64_t r = 0; r < rows; r += 16) {
        const float *xr = xc + r * d;
        int64_t n = rows - r;
        switch (kb) {
#define FEW_CASE(KB) \
        case KB: assign_few_group_f32(xr, n, d, ct, bias, kp, KB, labels + r); break;
        FEW_CASE(2) FEW_CASE(4) FEW_CASE(6) FEW_CASE(8)
        FEW_CASE(10) FEW_CASE(12) FEW_CASE(14) default: FEW_CASE(16)
#undef FEW_CASE
        }
    }
}

/* The same for float64 and k <= 8: eight rows per vector, 8 x 8 blocks of
 * features transposed in 24 shuffles. At k = 8 no lane is padding here; the
 * gain is the lane-wise argmin in place of a horizontal one per row. */
static inline void transpose8_pd(__m512d r[8])
{
    __m512d t[8], u[8];
    for (int i = 0; i < 4; i++) { /* lane L: features 2L, 2L + 1 of rows 2i, 2i + 1 */
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) /* rows 4h..4h+3: features {0,4}, {2,6}, {1,5}, {3,7} */
        for (int e = 0; e < 2; e++) {
            u[4 * h + e] = _mm512_shuffle_f64x2(t[4 * h + e], t[4 * h + 2 + e], 0x88);
            u[4 * h + 2 + e] = _mm512_shuffle_f64x2(t[4 * h + e], t[4 * h + 2 + e], 0xDD);
        }
    /* u[0]: f0/f4, u[1]: f1/f5, u[2]: f2/f6, u[3]: f3/f7 of rows 0-3; u[4..7] rows 4-7 */
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f64x2(u[q], u[4 + q], 0x88);
        r[4 + q] = _mm512_shuffle_f64x2(u[q], u[4 + q], 0xDD);
    }
}

static inline __attribute__((always_inline)) void assign_few_group_f64(
    const double *x, int64_t rows, int64_t d, const double *ct, const double *bias, int64_t kp,
    const int KB, int32_t *labels)
{
    const int64_t extent = rows * d; /* elements readable from x */
    __m512d acc[8];
    for (int j = 0; j < KB; j++)
        acc[j] = _mm512_set1_pd(bias[j]);
    for (int64_t f0 = 0; f0 < d; f0 += 8) {
        const int64_t w = d - f0 < 8 ? d - f0 : 8;
        const __mmask8 fm = (__mmask8)((1u << w) - 1);
        __m512d v[8];
        if (w == 8 && rows >= 8) /* plain loads where the width allows */
            for (int r = 0; r < 8; r++)
                v[r] = _mm512_loadu_pd(x + r * d + f0);
        else
            for (int r = 0; r < 8; r++) {
                const double *p = x + r * d + f0;
                if (r >= rows)
                    v[r] = _mm512_setzero_pd();
                else if (r * d + f0 + 8 <= extent)
                    v[r] = _mm512_maskz_mov_pd(fm, _mm512_loadu_pd(p));
                else
                    v[r] = _mm512_maskz_loadu_pd(fm, p);
            }
        transpose8_pd(v);
        for (int64_t f = 0; f < w; f++) {
            const double *c = ct + (f0 + f) * kp;
            for (int j = 0; j < KB; j++)
                acc[j] = _mm512_fmadd_pd(v[f], _mm512_set1_pd(c[j]), acc[j]);
        }
    }
    __m512d best = acc[0];
    __m256i besti = _mm256_setzero_si256();
    for (int j = 1; j < KB; j++) { /* strict: the lower index keeps ties */
        __mmask8 m = _mm512_cmp_pd_mask(acc[j], best, _CMP_LT_OQ);
        best = _mm512_mask_mov_pd(best, m, acc[j]);
        besti = _mm256_mask_mov_epi32(besti, m, _mm256_set1_epi32(j));
    }
    if (rows >= 8) {
        _mm256_storeu_si256((__m256i *)labels, besti);
    } else {
        int32_t tmp[8];
        _mm256_storeu_si256((__m256i *)tmp, besti);
        for (int64_t r = 0; r < rows; r++)
            labels[r] = tmp[r];
    }
}

static void assign_few_f64_avx512(const double *xc, int64_t rows, int64_t d, const double *ct,
                                  const double *bias, int64_t k, int64_t kp, int32_t *labels)
{
    const int kb = (int)((k + 1) & ~(int64_t)1); /* as in assign_few_f32_avx512 */
    for (int64_t r = 0; r < rows; r += 8) {
        const double *xr = xc + r * d;
        int64_t n = rows - r;
        switch (kb) {
#define FEW_CASE(KB) \
        case KB: assign_few_group_f64(xr, n, d, ct, bias, kp, KB, labels + r); break;
        FEW_CASE(2) FEW_CASE(4) FEW_CASE(6) default: FEW_CASE(8)
#undef FEW_CASE
        }
    }
}

/* float32: 16 lanes, int32 indices. */
#define T float
#define SFX _f32_avx512
#define VEC __m512
#define IVEC __m512i
#define L 16
#define P 4
#define NB 4
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VSET1(s) _mm512_set1_ps(s)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VINF() _mm512_set1_ps(INFINITY)
#define IDX(base) _mm512_add_epi32(_mm512_set1_epi32(base), \
    _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define UPDATE_BEST(acc, best, besti, idx)                           \
    do {                                                             \
        __mmask16 m_ = _mm512_cmp_ps_mask(acc, best, _CMP_LT_OQ);    \
        best = _mm512_mask_mov_ps(best, m_, acc);                    \
        besti = _mm512_mask_mov_epi32(besti, m_, idx);               \
    } while (0)
static inline int32_t hargmin_f32(__m512 best, __m512i besti)
{
    float mn = _mm512_reduce_min_ps(best);
    __mmask16 m = _mm512_cmp_ps_mask(best, _mm512_set1_ps(mn), _CMP_EQ_OQ);
    if ((m & (m - 1)) == 0) /* one lane holds the minimum: the usual case */
        return _mm_cvtsi128_si32(_mm512_castsi512_si128(_mm512_maskz_compress_epi32(m, besti)));
    return _mm512_mask_reduce_min_epi32(m, besti);
}
#define HARGMIN(best, besti) hargmin_f32(best, besti)
/* Lane minima of four vectors by one shuffle/min tree (13 instructions
 * instead of 4 x 8); 128-bit lane p of the result holds row p's minimum. */
static inline __m512 min4_f32(const __m512 *best)
{
    __m512 ab = _mm512_min_ps(_mm512_shuffle_f32x4(best[0], best[1], 0x44),
                              _mm512_shuffle_f32x4(best[0], best[1], 0xEE));
    __m512 cd = _mm512_min_ps(_mm512_shuffle_f32x4(best[2], best[3], 0x44),
                              _mm512_shuffle_f32x4(best[2], best[3], 0xEE));
    __m512 m = _mm512_min_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    m = _mm512_min_ps(m, _mm512_permute_ps(m, 0x4E));
    return _mm512_min_ps(m, _mm512_permute_ps(m, 0xB1));
}

/* Masks of the lanes of each row holding that row's minimum. */
static inline void min4_masks(const __m512 *best, __mmask16 *eq)
{
    __m512 m = min4_f32(best);
    eq[0] = _mm512_cmp_ps_mask(best[0], _mm512_shuffle_f32x4(m, m, 0x00), _CMP_EQ_OQ);
    eq[1] = _mm512_cmp_ps_mask(best[1], _mm512_shuffle_f32x4(m, m, 0x55), _CMP_EQ_OQ);
    eq[2] = _mm512_cmp_ps_mask(best[2], _mm512_shuffle_f32x4(m, m, 0xAA), _CMP_EQ_OQ);
    eq[3] = _mm512_cmp_ps_mask(best[3], _mm512_shuffle_f32x4(m, m, 0xFF), _CMP_EQ_OQ);
}

static inline void hargmin4_iota_f32(const __m512 *best, int32_t *out)
{
    __mmask16 eq[4];
    min4_masks(best, eq);
    for (int p = 0; p < 4; p++)
        out[p] = __builtin_ctz((unsigned)eq[p]); /* lowest lane = lowest index */
}

static inline void hargmin4_f32(const __m512 *best, const __m512i *besti, int32_t *out)
{
    __mmask16 eq[4];
    min4_masks(best, eq);
    for (int p = 0; p < 4; p++) {
        if ((eq[p] & (eq[p] - 1)) == 0) /* one lane holds the minimum: the usual case */
            out[p] = _mm_cvtsi128_si32(
                _mm512_castsi512_si128(_mm512_maskz_compress_epi32(eq[p], besti[p])));
        else
            out[p] = _mm512_mask_reduce_min_epi32(eq[p], besti[p]);
    }
}
#define HARGMIN_P4(best, besti, out) hargmin4_f32(best, besti, out)
#define HARGMIN_P4_IOTA(best, out) hargmin4_iota_f32(best, out)
/* Of one vector's scores (column = lane): the label (the first lane holding
 * the minimum), its score, and the lowest score of the other lanes. */
static inline void top2_1_f32(__m512 v, int32_t *lab, float *s1, float *s2)
{
    const float m = _mm512_reduce_min_ps(v);
    const int j = __builtin_ctz((unsigned)_mm512_cmp_ps_mask(v, _mm512_set1_ps(m), _CMP_EQ_OQ));
    *lab = j;
    *s1 = m;
    *s2 = _mm512_reduce_min_ps(_mm512_mask_mov_ps(v, (__mmask16)(1u << j), _mm512_set1_ps(INFINITY)));
}
#define TOP2_1(v, lab, s1, s2) top2_1_f32(v, lab, s1, s2)
#include "kernels/kernel_impl.h"
#undef HARGMIN_P4
#undef HARGMIN_P4_IOTA
#undef TOP2_1
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

/* float64: 8 lanes, int64 indices. */
#define T double
#define SFX _f64_avx512
#define VEC __m512d
#define IVEC __m512i
#define L 8
#define VLOAD(p) _mm512_loadu_pd(p)
#define VSTORE(p, v) _mm512_storeu_pd(p, v)
#define VSET1(s) _mm512_set1_pd(s)
#define VFMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define VSUB(a, b) _mm512_sub_pd(a, b)
#define VINF() _mm512_set1_pd(INFINITY)
#define IDX(base) _mm512_add_epi64(_mm512_set1_epi64(base), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7))
#define UPDATE_BEST(acc, best, besti, idx)                           \
    do {                                                             \
        __mmask8 m_ = _mm512_cmp_pd_mask(acc, best, _CMP_LT_OQ);     \
        best = _mm512_mask_mov_pd(best, m_, acc);                    \
        besti = _mm512_mask_mov_epi64(besti, m_, idx);               \
    } while (0)
static inline int32_t hargmin_f64(__m512d best, __m512i besti)
{
    double mn = _mm512_reduce_min_pd(best);
    __mmask8 m = _mm512_cmp_pd_mask(best, _mm512_set1_pd(mn), _CMP_EQ_OQ);
    return (int32_t)_mm512_mask_reduce_min_epi64(m, besti);
}
#define HARGMIN(best, besti) hargmin_f64(best, besti)
#include "kernels/kernel_impl.h"

/* The generic body does the tail; the vector loop keeps each value's count in
 * a register across all keys (the generic one counts in memory, key by key). */
#define RANK_KEYS_FN rank_keys_tail_avx512
#include "kernels/rank_keys_impl.h"

static void rank_keys_avx512(const double *v, int64_t n, int64_t first, const double *kv,
                             const int64_t *ki, int64_t m, strata__rank_map map, uint8_t *out,
                             int64_t *below)
{
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), one = _mm512_set1_epi64(1);
    const __m512i base = _mm512_set1_epi64(map.base), add = _mm512_set1_epi64(map.add);
    const __m512i step = _mm512_set1_epi64(map.step), zero = _mm512_setzero_si512();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d x = _mm512_loadu_pd(v + i);
        const __m512i pos = _mm512_add_epi64(_mm512_set1_epi64(first + i), lane);
        __m512i c = zero;
        for (int64_t j = 0; j < m; j++) {
            const __m512d kvj = _mm512_set1_pd(kv[j]);
            __mmask8 lt = _mm512_cmp_pd_mask(kvj, x, _CMP_LT_OQ);
            __mmask8 eq = _mm512_cmp_pd_mask(kvj, x, _CMP_EQ_OQ);
            __mmask8 tie = _mm512_mask_cmplt_epi64_mask(eq, _mm512_set1_epi64(ki[j]), pos);
            __mmask8 k = (__mmask8)(lt | tie);
            c = _mm512_mask_add_epi64(c, k, c, one);
            below[j] += __builtin_popcount((unsigned)k);
        }
        __m512i b = _mm512_max_epi64(_mm512_sub_epi64(c, base), zero);
        __m512i o = _mm512_add_epi64(add, _mm512_mullo_epi64(step, b));
        _mm512_mask_cvtepi64_storeu_epi8(out + i, 0xff, o);
    }
    if (i < n)
        rank_keys_tail_avx512(v + i, n - i, first + i, kv, ki, m, map, out + i, below);
}

#define CHECK_ROWS_FN check_rows_avx512
#include "kernels/rfm_rows_impl.h"

/* Where the rows-in-lanes kernels are used, as measured against the
 * general ones. float32 (Zen 5; docs/performance.md, "AVX-512 rows in
 * lanes, rechecked", and "Session 15"): where d is a multiple of 8 (plain
 * loads, no tail) up to k = 14 (at 15-16 the general kernel was as fast on
 * full blocks and faster on the streamed pass's small batches and whole fits
 * at d = 16, 32); for other d the transpose's masked
 * loads cost more than the general kernel's unused lanes from k = 8 (d < 8)
 * or k = 11 (d > 8), and at k <= 2 rows in lanes always win. float64: k <= 8
 * and d <= 8 (a transpose of 3 shuffles per row per 8 features against a
 * horizontal argmin per row: measured 17% faster at 1M x 8, k = 8, even at
 * d = 16, slower at d = 32), and k <= 6 up to d = 32 (Zen 5: 6-34% faster an
 * iteration at d = 12, 16, 32). */
static int few_f32_avx512(int64_t k, int64_t d)
{
    return k <= 2 || (d % 8 == 0 ? k <= 14 : d < 8 ? k < 8 : k <= 10);
}

static int few_f64_avx512(int64_t k, int64_t d)
{
    return (k <= 8 && d <= 8) || (k <= 6 && d <= 32);
}

const strata__kernels strata__kernels_avx512 = {
    STRATA_KERNEL_AVX512, 16, 8,
    center_f32_avx512, center_f64_avx512,
    assign_f32_avx512, assign_f64_avx512,
    assign2_f32_avx512, assign2_f64_avx512,
    norms_f32_avx512, norms_f64_avx512, norms64_f32_avx512,
    own_f32_avx512, own_f64_avx512,
    centre_in_f32_avx512, centre_in_f64_avx512,
    argmin_f32_avx512, argmin_f64_avx512,
    scores_f32_avx512, scores_f64_avx512,
    accumulate_f32_avx512, accumulate_f64_avx512,
    assign_few_f32_avx512, assign_few_f64_avx512, few_f32_avx512, few_f64_avx512,
    rank_keys_avx512,
    check_rows_avx512,
};
