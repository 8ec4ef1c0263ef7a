/* Hamerly's half test with no bounds kept: a Lloyd pass that vouches for a
 * row's previous label from the row's distance to that centroid alone.
 *
 * Why a row that passes keeps Lloyd's label. Lloyd labels a row with the
 * lowest index j minimising the kernel's score s_j, and (kmeans/bounds.h,
 * the argument in hamerly.c) with X = ||x - m||, C = max_j ||c_j - m||,
 * |(||x'||^2 + s_j) - d_j^2| <= E = eps (X + C)^2 + tiny, d_j = ||x - c_j||.
 * Let a be the row's previous label, h_a half the distance from c_a to its
 * nearest other centroid, and suppose d_a < t_a = h_a - E_a / (2 h_a) with
 * E_a = eps (h_a + 2C)^2 + tiny. Then d_a < h_a, X <= d_a + C, so E <= E_a;
 * for j != a, d_j >= 2 h_a - d_a > d_a and
 *     d_j^2 - d_a^2 >= (2 h_a - d_a)^2 - d_a^2 = 4 h_a (h_a - d_a) > 2 E_a >= 2E,
 * so s_j - s_a > 0: a is the kernel's unique minimum, whatever the tie rule.
 *
 * The test in the element type, one compare a row. own_* (kernels.h) sums
 * the row's squared differences to c^_a, the centroid rounded to the element
 * type, to at least (1 - (2d + 8) u) of their exact sum, and d_a <= ||x -
 * c^_a|| + e_a, e_a = ||c^_a - c_a|| (0 in double). So
 *     own < q_a = (t_a - e_a)^2 (1 - (2d + 8) u)
 * gives ||x - c^_a|| < t_a - e_a, hence d_a < t_a. q_a is computed in double
 * with every step rounded the safe way (E_a up, t_a - e_a down, the square
 * down) and rounded down to the element type; where t_a - e_a is not
 * positive (duplicate centroids) q_a is 0 and no row passes. With k = 1,
 * h_a = +inf and every row passes.
 *
 * A pass runs the test on each block of rows, keeps the labels of the rows
 * that pass and labels the rest with Lloyd's own labelling, centred
 * together; where most of a block fails, the whole block is labelled as
 * Lloyd would. Only where Lloyd labels with the fused kernel (any kernel's
 * assign or assign_few: a row's scores depend on that row only): OpenBLAS
 * GEMM scores a row in the last bits differently in a block of another
 * shape, so rows a few ulps from halfway between two centroids were
 * labelled otherwise than in Lloyd's pass (tests/test_near.c); with GEMM
 * tables a pass is Lloyd's plain one. Sums, weights, the
 * changed-label count and the inertia come from the labels through Lloyd's
 * pass itself (strata__assign_pass_src_by), so the same labels give the
 * same bits, for any thread count and block size. */
#include "kmeans/near.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/mem.h"

#define UPF STRATA__UPF
#define DOWNF STRATA__DOWNF
/* The share of a probing pass's tested rows kept unscored from which the
 * next pass tests every block: below the measured break-even (~0.4, AVX2,
 * 20M x 16, k = 16; docs/performance.md, "The half test in streamed Lloyd
 * passes"), as the share grows from pass to pass while the centroids settle. */
#define PAYS 0.25
#define COUNT_STRIDE 8 /* int64s: a cache line between threads' counts */

static atomic_llong kept_rows;

int64_t strata__near_kept_rows(void)
{
    return (int64_t)atomic_load(&kept_rows);
}

void strata__near_free(strata__near *s)
{
    strata__free(s->c);
    strata__free(s->q);
    strata__free(s->half);
    strata__free(s->count);
    for (int i = 0; i < s->threads; i++) {
        if (s->rows)
            strata__free(s->rows[i]);
        if (s->lab)
            strata__free(s->lab[i]);
        if (s->own)
            strata__free(s->own[i]);
    }
    strata__free(s->rows);
    strata__free(s->lab);
    strata__free(s->own);
    memset(s, 0, sizeof *s);
}

int strata__near_init(strata__near *s, const strata__tables *t)
{
    memset(s, 0, sizeof *s);
    const size_t es = t->dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
    s->k = t->k;
    s->d = t->d;
    s->fresh = 1;
    s->threads = t->threads;
    s->c = strata__alloc((size_t)(t->k * t->d), es);
    s->q = strata__alloc((size_t)t->k, es);
    s->half = strata__alloc((size_t)t->k, sizeof(double));
    s->count = strata__calloc((size_t)(s->threads * COUNT_STRIDE), sizeof(int64_t));
    s->rows = strata__calloc((size_t)s->threads, sizeof(int64_t *));
    s->lab = strata__calloc((size_t)s->threads, sizeof(int32_t *));
    s->own = strata__calloc((size_t)s->threads, sizeof(void *));
    if (!s->c || !s->q || !s->half || !s->count || !s->rows || !s->lab || !s->own)
        goto nomem;
    for (int i = 0; i < s->threads; i++) {
        s->rows[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int64_t));
        s->lab[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int32_t));
        s->own[i] = strata__alloc(STRATA__BLOCK_ROWS, es);
        if (!s->rows[i] || !s->lab[i] || !s->own[i])
            goto nomem;
    }
    return STRATA_OK;
nomem:
    strata__near_free(s);
    return STRATA_E_NOMEM;
}

void strata__near_reset(strata__near *s)
{
    s->fresh = 1;
}

/* Whether the block at row r0 is tested in a probing pass: one in sixteen,
 * spread over the rows by a multiplicative hash of r0 (blocks start at
 * multiples of the block size, the same in every pass). */
static int probed(int64_t r0)
{
    return ((uint64_t)r0 * 0x9E3779B97F4A7C15ull) >> 60 == 0;
}

/* The pass's centroid table and thresholds for the centroids c (the
 * argument at the top). */
static void prepare(strata__near *s, const strata__tables *t, const double *c)
{
    const int64_t k = s->k, d = s->d;
    const int f32 = t->dtype == STRATA_FLOAT32;
    strata__margin mg;
    strata__margin_set(&mg, t, c, s->half, s->q); /* s->q: scratch for half_t */
    const double u = f32 ? 0x1p-24 : 0x1p-53;
    const double shrink = 1.0 - (double)(2 * d + 8) * u;
    for (int64_t j = 0; j < k; j++) {
        const double *cj = c + j * d;
        double e = 0.0; /* ||c^_j - c_j|| rounded up */
        if (f32) {
            float *cf = (float *)s->c + j * d;
            double e2 = 0.0;
            for (int64_t f = 0; f < d; f++) {
                cf[f] = (float)cj[f];
                const double v = (double)cf[f] - cj[f]; /* exact: both near cj[f] */
                e2 += v * v;
            }
            e = e2 > 0.0 ? strata__norm_up(e2, d) : 0.0;
        } else {
            memcpy((double *)s->c + j * d, cj, (size_t)d * sizeof(double));
        }
        const double h = s->half[j];
        const double r = (h + 2.0 * mg.cmax) * UPF;
        const double big_e = (mg.eps * r * r * UPF + mg.tiny) * UPF;
        /* t_j - e_j rounded down; h = 0 gives -inf; h = +inf (k = 1): +inf */
        const double v = isinf(h) ? h
                                  : strata__add_down(
                                        strata__add_down(h, -(big_e / (2.0 * h)) * UPF), -e);
        const double q = v > 0.0 && shrink > 0.0 ? v * v * shrink * DOWNF : 0.0;
        if (f32)
            ((float *)s->q)[j] = q > 0.0 ? strata__down_f32(q) : 0.0f;
        else
            ((double *)s->q)[j] = q;
    }
}

/* Rows r0 + todo[q] (q < m) of X centred one after another into o, as the
 * kernels centre (x - mean in the element type, the same bits whatever the
 * vector width): typed loops, and a copy for AVX2 (half the loop trips at
 * d = 16; a memcpy call a row cost more than the row's test). */
#define CENTRE_ROWS(NAME, T, ATTR)                                                             \
    static inline __attribute__((always_inline)) void NAME##_w(                                \
        const strata__data *X, int64_t r0, const int64_t *todo, int64_t m, const int64_t d,    \
        const T *restrict mean, T *restrict o)                                                 \
    {                                                                                          \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const T *restrict x = strata__row(X, r0 + todo[q]);                                \
            for (int64_t f = 0; f < d; f++)                                                    \
                o[q * d + f] = x[f] - mean[f];                                                 \
        }                                                                                      \
    }                                                                                          \
    ATTR static void NAME(const strata__data *X, int64_t r0, const int64_t *todo, int64_t m,  \
                          int64_t d, const T *restrict mean, T *restrict o)                    \
    {                                                                                          \
        switch (d) { /* the usual widths, unrolled */                                          \
        case 4: NAME##_w(X, r0, todo, m, 4, mean, o); break;                                   \
        case 6: NAME##_w(X, r0, todo, m, 6, mean, o); break;                                   \
        case 8: NAME##_w(X, r0, todo, m, 8, mean, o); break;                                   \
        case 16: NAME##_w(X, r0, todo, m, 16, mean, o); break;                                 \
        case 32: NAME##_w(X, r0, todo, m, 32, mean, o); break;                                 \
        default: NAME##_w(X, r0, todo, m, d, mean, o);                                         \
        }                                                                                      \
    }
CENTRE_ROWS(centre_rows_f32_base, float, )
CENTRE_ROWS(centre_rows_f64_base, double, )
#if defined(__x86_64__) && defined(__GNUC__)
#define AVX2_ATTR __attribute__((target("avx2")))
CENTRE_ROWS(centre_rows_f32_avx2, float, AVX2_ATTR)
CENTRE_ROWS(centre_rows_f64_avx2, double, AVX2_ATTR)
#define CENTRE_ROWS_PICK(t, SFX) ((t)->kern->id != STRATA_KERNEL_SCALAR ? centre_rows##SFX##_avx2 \
                                                                        : centre_rows##SFX##_base)
#else
#define CENTRE_ROWS_PICK(t, SFX) centre_rows##SFX##_base
#endif

/* Label rows r0 + todo[q] (q < m) of X as Lloyd would: centred together and
 * labelled, or the whole block where most of it is to be scored. */
static void score_rows(strata__near *s, const strata__data *X, int64_t r0, int64_t rows,
                       const int64_t *todo, int64_t m, int tid, int32_t *lab)
{
    const strata__tables *t = s->t;
    if (4 * m >= 3 * rows) {
        strata__assign_label_rows(t, X, r0, rows, tid, lab);
        return;
    }
    if (X->dtype == STRATA_FLOAT32)
        CENTRE_ROWS_PICK(t, _f32)(X, r0, todo, m, s->d, t->mean, t->xc[tid]);
    else
        CENTRE_ROWS_PICK(t, _f64)(X, r0, todo, m, s->d, t->mean, t->xc[tid]);
    int32_t *l1 = s->lab[tid];
    strata__assign_label_centred(t, m, tid, l1);
    for (int64_t q = 0; q < m; q++)
        lab[todo[q]] = l1[q];
}

/* The labeller of strata__assign_pass_src_by(): test every row of the
 * block against its previous centroid, score the rows that fail. */
#define LABEL_ROWS(NAME, T, SFX)                                                               \
    static void NAME(strata__near *s, const strata__data *X, int64_t r0, int64_t rows, int tid, \
                     int32_t *lab)                                                             \
    {                                                                                          \
        const int32_t *old = s->labels + r0;                                                   \
        T *own = s->own[tid];                                                                  \
        const T *q = s->q;                                                                     \
        int64_t *todo = s->rows[tid], m = 0;                                                   \
        s->t->kern->own##SFX(strata__row(X, r0), rows, X->stride, s->d, old, s->c, own);       \
        for (int64_t r = 0; r < rows; r++) { /* branch-free: compaction by count */            \
            todo[m] = r;                                                                       \
            m += !(own[r] < q[old[r]]);                                                        \
        }                                                                                      \
        memcpy(lab, old, (size_t)rows * sizeof(int32_t));                                      \
        s->count[tid * COUNT_STRIDE] += rows;                                                  \
        s->count[tid * COUNT_STRIDE + 1] += rows - m;                                          \
        if (m)                                                                                 \
            score_rows(s, X, r0, rows, todo, m, tid, lab);                                     \
    }
LABEL_ROWS(label_rows_f32, float, _f32)
LABEL_ROWS(label_rows_f64, double, _f64)

static void label_rows(void *vctx, int64_t r0, int64_t rows, int tid, int32_t *lab)
{
    strata__near *s = vctx;
    const strata__data *X = strata__chunk_view(s->X, tid);
    if (s->fresh || (s->probe && !probed(r0)))
        strata__assign_label_rows(s->t, X, r0, rows, tid, lab);
    else if (s->t->dtype == STRATA_FLOAT32)
        label_rows_f32(s, X, r0, rows, tid, lab);
    else
        label_rows_f64(s, X, r0, rows, tid, lab);
}

int strata__near_pass_src(strata__near *s, const strata__tables *t, const strata__rowsrc *src,
                          int32_t *labels, double *totals, int mode, char *msg)
{
    strata__data view;
    if (t->assign != STRATA_ASSIGN_FUSED) { /* see the top: GEMM's bits depend on the block */
        s->fresh = 0;
        s->tested = s->kept = 0;
        return strata__assign_pass_src(t, src, labels, totals, mode, msg);
    }
    if (!s->fresh)
        prepare(s, t, t->centroids);
    s->t = t;
    s->X = &view; /* each block's rows, as the pass hands them out */
    s->labels = labels;
    memset(s->count, 0, (size_t)(s->threads * COUNT_STRIDE) * sizeof(int64_t));
    int rc = strata__assign_pass_src_by(t, src, &view, labels, totals, mode, label_rows, s, msg);
    /* The next pass tests every block where this one's tested rows kept
     * their labels often enough to pay for the test, else a sample (the
     * first pass after the fresh one probes: early passes move most rows). */
    s->tested = s->kept = 0;
    for (int i = 0; i < s->threads; i++) {
        s->tested += s->count[i * COUNT_STRIDE];
        s->kept += s->count[i * COUNT_STRIDE + 1];
    }
    atomic_fetch_add(&kept_rows, (long long)s->kept);
    s->probe = s->fresh || (double)s->kept < PAYS * (double)s->tested;
    s->fresh = 0;
    s->X = NULL;
    return rc;
}
