/* The rows' squared distances to their own centroids (kernels.h, own_*),
 * shared by the AVX2 and AVX-512 kernels (both files are built with AVX2 +
 * FMA; 256-bit vectors here: at d = 16 a 512-bit row would save one
 * subtraction and pay a 512 -> 256 fold). Include once per kernel file,
 * after immintrin.h, with OWN_F32 and OWN_F64 defined as the names.
 *
 * A row's terms go into one vector (FMA, d / lanes steps, the tail through a
 * masked load that reads zero from both sides); eight (four) rows' vectors
 * are then summed across lanes together, three (two) levels of horizontal
 * additions for eight rows instead of a store and a scalar sum per row.
 * Every term meets at most ceil(d / lanes) + 4 roundings: within the bound
 * kernels.h states. */
#ifndef STRATA_KERNELS_OWN_ROWS_IMPL_H
#define STRATA_KERNELS_OWN_ROWS_IMPL_H

/* -1 in the first n of 8 (32-bit) lanes: the tail's mask */
static inline __m256i own_tail_mask(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) __m256 own_row_f32(const float *x, const float *c,
                                                                   int64_t d, __m256i tail)
{
    __m256 acc = _mm256_setzero_ps();
    int64_t f = 0;
    for (; f + 8 <= d; f += 8) {
        const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + f), _mm256_loadu_ps(c + f));
        acc = _mm256_fmadd_ps(v, v, acc);
    }
    if (f < d) {
        const __m256 v = _mm256_sub_ps(_mm256_maskload_ps(x + f, tail), _mm256_maskload_ps(c + f, tail));
        acc = _mm256_fmadd_ps(v, v, acc);
    }
    return acc;
}

/* lane r of the result: the sum of a[r]'s lanes */
static inline __m256 own_hsum8_f32(const __m256 a[8])
{
    const __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
}

/* Rows r.. r + 7 (the first `have` of them; the rest read as zero); D
 * a compile-time width where the caller knows one, so the eight rows'
 * loops unroll into registers. */
static inline __attribute__((always_inline)) __m256 own_rows8_f32(
    const float *x, int64_t stride, int64_t d, const int32_t *lab, const float *c, __m256i tail,
    int have)
{
    __m256 a[8];
    for (int p = 0; p < 8; p++)
        a[p] = p < have ? own_row_f32(x + p * stride, c + (int64_t)lab[p] * d, d, tail)
                        : _mm256_setzero_ps();
    return own_hsum8_f32(a);
}

static void OWN_F32(const float *x, int64_t rows, int64_t stride, int64_t d,
                    const int32_t *lab, const float *c, float *out)
{
    const __m256i tail = own_tail_mask(d % 8);
    int64_t r = 0;
#define OWN_F32_FIXED(D)                                                                       \
    case D:                                                                                    \
        for (; r + 8 <= rows; r += 8)                                                          \
            _mm256_storeu_ps(out + r, own_rows8_f32(x + r * stride, stride, D, lab + r, c, tail, 8)); \
        break;
    switch (d) { /* the usual widths of customer features */
    OWN_F32_FIXED(4) OWN_F32_FIXED(6) OWN_F32_FIXED(8) OWN_F32_FIXED(12) OWN_F32_FIXED(16)
    OWN_F32_FIXED(24) OWN_F32_FIXED(32)
    default:
        for (; r + 8 <= rows; r += 8)
            _mm256_storeu_ps(out + r, own_rows8_f32(x + r * stride, stride, d, lab + r, c, tail, 8));
    }
#undef OWN_F32_FIXED
    if (r < rows) {
        float s[8];
        _mm256_storeu_ps(s, own_rows8_f32(x + r * stride, stride, d, lab + r, c, tail, (int)(rows - r)));
        for (int p = 0; r + p < rows; p++)
            out[r + p] = s[p];
    }
}

static inline __m256d own_row_f64(const double *x, const double *c, int64_t d, __m256i tail)
{
    __m256d acc = _mm256_setzero_pd();
    int64_t f = 0;
    for (; f + 4 <= d; f += 4) {
        const __m256d v = _mm256_sub_pd(_mm256_loadu_pd(x + f), _mm256_loadu_pd(c + f));
        acc = _mm256_fmadd_pd(v, v, acc);
    }
    if (f < d) {
        const __m256d v = _mm256_sub_pd(_mm256_maskload_pd(x + f, tail), _mm256_maskload_pd(c + f, tail));
        acc = _mm256_fmadd_pd(v, v, acc);
    }
    return acc;
}

static inline __m256d own_hsum4_f64(const __m256d a[4])
{
    const __m256d h01 = _mm256_hadd_pd(a[0], a[1]), h23 = _mm256_hadd_pd(a[2], a[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20), _mm256_permute2f128_pd(h01, h23, 0x31));
}

static void OWN_F64(const double *x, int64_t rows, int64_t stride, int64_t d,
                    const int32_t *lab, const double *c, double *out)
{
    /* 64-bit lanes: both halves of each of the first d % 4 lanes */
    const int64_t t = d % 4;
    const __m256i tail = _mm256_setr_epi64x(t > 0 ? -1 : 0, t > 1 ? -1 : 0, t > 2 ? -1 : 0, 0);
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        __m256d a[4];
        for (int p = 0; p < 4; p++)
            a[p] = own_row_f64(x + (r + p) * stride, c + (int64_t)lab[r + p] * d, d, tail);
        _mm256_storeu_pd(out + r, own_hsum4_f64(a));
    }
    if (r < rows) {
        __m256d a[4];
        double s[4];
        for (int p = 0; p < 4; p++)
            a[p] = r + p < rows ? own_row_f64(x + (r + p) * stride, c + (int64_t)lab[r + p] * d, d, tail)
                                : _mm256_setzero_pd();
        _mm256_storeu_pd(s, own_hsum4_f64(a));
        for (int p = 0; r + p < rows; p++)
            out[r + p] = s[p];
    }
}

#endif
