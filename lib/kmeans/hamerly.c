/* Hamerly's algorithm (G. Hamerly, "Making k-means even faster", SDM 2010),
 * exact: the same labels, centroids and inertia as Lloyd, bitwise.
 *
 * Each row i keeps an upper bound u_i on its distance to its centroid a and a
 * lower bound l_i on its distance to every other centroid. When the centroids
 * move by delta_j, u_i grows by delta_a and l_i shrinks by the largest move of
 * the others; with s_a half the distance from c_a to its nearest other
 * centroid, every other centroid is at least max(l_i, 2 s_a - u_i) away.
 *
 * Why the labels are Lloyd's. Lloyd labels a row with the lowest index j
 * minimising the kernel's score s_j = bias_j + x' . ct_j, computed in the
 * element type on centred data (kernels/kernels.h). With X = ||x - m||,
 * C = max_j ||c_j - m|| and u the element type's unit roundoff,
 *     |(||x'||^2 + s_j) - ||x - c_j||^2| <= E = (4d + 32) u (X + C)^2 + tiny
 * covers every rounding on the way: the centring of x, the rounding of the
 * table (-2 c'_j and ||c'_j||^2) to the element type, the d + 1 products and
 * sums of the score in any order with or without FMA (GEMM included:
 * gamma_{2d+2} (||c'_j||^2 + 2 X ||c'_j||)), and the double-precision sums
 * here (the analysis needs (3d + 10) u; tiny covers underflow, also with
 * flush-to-zero). A row keeps its label a without being scored only if
 *     max(l_i, 2 s_a - u_i)^2 > u_i^2 + 2E,  with X <= u_i + C,
 * which forces s_j - s_a > 0 for every j != a: a is then the kernel's unique
 * minimum, whatever its tie rule. Every bound is rounded outwards (upper bounds
 * up, lower bounds down by a few ulps), so rounding here can only fail a test,
 * never pass a wrong one. The bounds are stored, moved and tested in the data's
 * element type (8 bytes a row for float32), in one branch-free loop over a
 * block (move_test_*; the rounding argument is at KEEPS_T and MOVE_TEST_T);
 * values computed in double are rounded outwards to that type.
 *
 * A row that fails is first tested again with its exact distance to c_a (in
 * double); if it still fails, it is scored: the failing rows of a block are
 * centred (the same subtraction as the kernel's center) into a contiguous
 * block and scored by the kernel Lloyd's assignment uses:
 *   - GEMM: the same ?gemm call and the kernel's argmin with the bias;
 *   - FUSED: the kernel's scores(), which computes every score exactly as its
 *     assign (and assign_few) kernels do, bias first, then one FMA (or, in
 *     the portable kernel, one multiply and one add) per feature in feature
 *     order; its argmin with a zero bias adds 0 to each score (no change
 *     but -0 -> +0, which compares equal). scores() is called on slices of
 *     one vector of columns (its four-row fast path): a score depends on its
 *     own column only, so the slices give the same bits as one call.
 * In both the label is the lowest index among the minima (the tie rule of
 * every kernel), and each row's scores depend on that row only, not on where
 * it sits in the block. The second-lowest score (the winner's masked with
 * +inf, argmin again) gives the lower bound; both bounds come from the scores
 * widened by E. Exact distance ties are therefore settled by the kernel, as in
 * Lloyd: the lowest index wins.
 *
 * Sums, weights, the changed-label count and the inertia come from the
 * labels through the very same pass as Lloyd's (strata__assign_pass_by), so
 * the same labels give the same bits, for any thread count. */
#include "kmeans/hamerly.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "kmeans/bounds.h"

#define UPF STRATA__UPF
#define DOWNF STRATA__DOWNF

static size_t esize(const strata__hamerly *h, const strata__tables *t)
{
    (void)h;
    return t->dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
}

void strata__hamerly_free(strata__hamerly *h)
{
    strata__free(h->upper);
    strata__free(h->lower);
    strata__free(h->c_prev);
    strata__free(h->shift);
    strata__free(h->shift_other);
    strata__free(h->half);
    strata__free(h->shift_t);
    strata__free(h->other_t);
    strata__free(h->half_t);
    strata__free(h->ct_sliced);
    strata__free(h->zero);
    for (int i = 0; i < h->threads; i++) {
        if (h->scores)
            strata__free(h->scores[i]);
        if (h->part)
            strata__free(h->part[i]);
        if (h->rows)
            strata__free(h->rows[i]);
        if (h->lab2)
            strata__free(h->lab2[i]);
        if (h->xnorm)
            strata__free(h->xnorm[i]);
        if (h->fail)
            strata__free(h->fail[i]);
    }
    strata__free(h->scores);
    strata__free(h->part);
    strata__free(h->rows);
    strata__free(h->lab2);
    strata__free(h->xnorm);
    strata__free(h->fail);
    memset(h, 0, sizeof *h);
}

int strata__hamerly_init(strata__hamerly *h, const strata__tables *t, int64_t n)
{
    memset(h, 0, sizeof *h);
    const size_t es = esize(h, t);
    const int64_t d = t->d, k = t->k, kp = t->kp;
    const int lanes = t->dtype == STRATA_FLOAT32 ? t->kern->lanes_f32 : t->kern->lanes_f64;
    h->n = n;
    h->k = k;
    h->d = d;
    h->kp = kp;
    h->fresh = 1;
    h->threads = t->threads;
    /* scores() handles at most STRATA__SCORES_MAX_V vectors of centroids */
    h->slice = t->assign == STRATA_ASSIGN_GEMM ? kp : (int64_t)lanes;
    if (h->slice > kp)
        h->slice = kp;
    h->upper = strata__alloc((size_t)n, es);
    h->lower = strata__alloc((size_t)n, es);
    h->shift_t = strata__alloc((size_t)k, es);
    h->other_t = strata__alloc((size_t)k, es);
    h->half_t = strata__alloc((size_t)k, es);
    h->c_prev = strata__alloc((size_t)(k * d), sizeof(double));
    h->shift = strata__alloc((size_t)k, sizeof(double));
    h->shift_other = strata__alloc((size_t)k, sizeof(double));
    h->half = strata__alloc((size_t)k, sizeof(double));
    h->zero = strata__calloc((size_t)kp, es);
    h->scores = strata__calloc((size_t)h->threads, sizeof(void *));
    h->part = strata__calloc((size_t)h->threads, sizeof(void *));
    h->rows = strata__calloc((size_t)h->threads, sizeof(int64_t *));
    h->lab2 = strata__calloc((size_t)h->threads, sizeof(int32_t *));
    h->xnorm = strata__calloc((size_t)h->threads, sizeof(double *));
    h->fail = strata__calloc((size_t)h->threads, sizeof(unsigned char *));
    if (!h->upper || !h->lower || !h->c_prev || !h->shift || !h->shift_other || !h->half ||
        !h->shift_t || !h->other_t || !h->half_t || !h->zero || !h->scores || !h->part ||
        !h->rows || !h->lab2 || !h->xnorm || !h->fail)
        goto nomem;
    if (h->slice < kp && !(h->ct_sliced = strata__alloc((size_t)(kp * d), es)))
        goto nomem;
    for (int i = 0; i < h->threads; i++) {
        h->scores[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * kp), es);
        h->rows[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int64_t));
        h->lab2[i] = strata__alloc(2 * STRATA__BLOCK_ROWS, sizeof(int32_t));
        h->xnorm[i] = strata__alloc(2 * STRATA__BLOCK_ROWS, sizeof(double));
        h->fail[i] = strata__alloc(STRATA__BLOCK_ROWS, 1);
        if (!h->scores[i] || !h->rows[i] || !h->lab2[i] || !h->xnorm[i] || !h->fail[i])
            goto nomem;
        if (h->ct_sliced && !(h->part[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * h->slice), es)))
            goto nomem;
    }
    return STRATA_OK;
nomem:
    strata__hamerly_free(h);
    return STRATA_E_NOMEM;
}

void strata__hamerly_reset(strata__hamerly *h)
{
    h->fresh = 1;
}

/* Per-pass quantities of the centroids c: their moves since the previous
 * pass, half the distance to the nearest other, the largest centred norm,
 * and the table cut into slices for scores(). */
static void prepare(strata__hamerly *h, const strata__tables *t, const double *c)
{
    const int64_t k = h->k, d = h->d, kp = h->kp;
    strata__margin_set(&h->mg, t, c, h->half, h->half_t);
    if (!h->fresh)
        strata__centroid_moves(c, h->c_prev, k, d, h->shift, h->shift_other);
    if (h->ct_sliced) {
        /* slice at column o, width w: d x w, row stride w, from offset o * d */
        const size_t es = esize(h, t);
        for (int64_t o = 0; o < kp; o += h->slice) {
            const int64_t w = kp - o < h->slice ? kp - o : h->slice;
            for (int64_t f = 0; f < d; f++)
                memcpy((char *)h->ct_sliced + (size_t)(o * d + f * w) * es,
                       (const char *)t->ct + (size_t)(f * kp + o) * es, (size_t)w * es);
        }
    }
}

/* The per-centroid quantities of the row loop in the element type, rounded
 * outwards. Every shift is at least the type's smallest normal, so that
 * u + shift is a normal number and its rounding is relative. */
#define PREPARE_T(NAME, T, SFX, TMIN)                                                          \
    static void NAME(strata__hamerly *h)                                                       \
    {                                                                                          \
        T *sh = h->shift_t, *so = h->other_t;                                                  \
        for (int64_t j = 0; j < h->k; j++) {                                                   \
            sh[j] = strata__up##SFX(strata__max2(h->fresh ? 0.0 : h->shift[j], TMIN));         \
            so[j] = strata__up##SFX(strata__max2(h->fresh ? 0.0 : h->shift_other[j], TMIN));   \
        }                                                                                      \
    }
PREPARE_T(prepare_f32, float, _f32, FLT_MIN)
PREPARE_T(prepare_f64, double, _f64, DBL_MIN)

/* The bounds of rows [0, rows) of a block follow the centroids' moves
 * (u += shift[a] rounded up, l -= shift_other[a] rounded down) and are
 * tested; fail[r] = 1 where the label is not proven. One pass, no branch:
 * the compiler vectorises it (gathers where the target has them).
 * Rounding: u + shift is normal (shift >= the smallest normal) and rounded
 * up by (1 + 4 UT); l - shift, if positive, is rounded down by (1 - 4 UT)
 * (a subnormal difference is exact); a negative lower bound stays negative,
 * which is still a lower bound and fails every test. */
#define MOVE_TEST_T(NAME, T, UT, KEEPS)                                                        \
    static void NAME(const strata__hamerly *h, const int32_t *old, T *restrict up,             \
                     T *restrict lo, int64_t rows, unsigned char *restrict fail)               \
    {                                                                                          \
        const T *sh = h->shift_t, *so = h->other_t, *hf = h->half_t;                           \
        const T c2 = (T)h->mg.c2_t, eps = (T)h->mg.eps_t, tiny = (T)h->mg.tiny_t;                  \
        const T upm = (T)(1.0 + 4.0 * UT), dnm = (T)(1.0 - 4.0 * UT);                         \
        for (int64_t r = 0; r < rows; r++) {                                                   \
            const int32_t a = old[r];                                                          \
            T u = (up[r] + sh[a]) * upm;                                                       \
            T l = (lo[r] - so[a]) * dnm;                                                       \
            up[r] = u;                                                                         \
            lo[r] = l;                                                                         \
            fail[r] = (unsigned char)!KEEPS(u, l, hf[a], c2, eps, tiny);                      \
        }                                                                                      \
    }
MOVE_TEST_T(move_test_f32, float, 0x1p-24, strata__keeps_f32)
MOVE_TEST_T(move_test_f64, double, 0x1p-53, strata__keeps_f64)

/* dst[q * ld + j] = src[q * w + j] (j < w, q < m); the widths of one
 * vector get a fixed-size copy (inlined moves instead of a memcpy call). */
#define COPY_COLS(T, dst, ld, src, w, m)                                                       \
    do {                                                                                       \
        if ((w) * sizeof(T) == 64)                                                             \
            for (int64_t q_ = 0; q_ < (m); q_++)                                               \
                memcpy((dst) + q_ * (ld), (src) + q_ * 64 / sizeof(T), 64);                    \
        else if ((w) * sizeof(T) == 32)                                                        \
            for (int64_t q_ = 0; q_ < (m); q_++)                                               \
                memcpy((dst) + q_ * (ld), (src) + q_ * 32 / sizeof(T), 32);                    \
        else                                                                                   \
            for (int64_t q_ = 0; q_ < (m); q_++)                                               \
                memcpy((dst) + q_ * (ld), (src) + q_ * (w), (size_t)(w) * sizeof(T));          \
    } while (0)

/* Score rows r0 + rows[q] (q < m) with the kernel, as Lloyd's pass would:
 * labels into lab[rows[q]], bounds from the two lowest scores widened by E. */
#define SCORE_ROWS(NAME, T, GEMM, SFX)                                                         \
    static void NAME(strata__hamerly *h, int64_t r0, const int64_t *rows, int64_t m, int tid, \
                     int32_t *lab)                                                             \
    {                                                                                          \
        const strata__tables *t = h->t;                                                        \
        const strata__kernels *kn = t->kern;                                                   \
        const int64_t d = h->d, kp = h->kp;                                                    \
        const T *mean = t->mean;                                                               \
        T *xc = t->xc[tid], *s = h->scores[tid];                                               \
        T *upper = (T *)h->upper + r0, *lower = (T *)h->lower + r0;                            \
        double *xn = h->xnorm[tid], *sa = xn + STRATA__BLOCK_ROWS;                             \
        int32_t *l1 = h->lab2[tid], *l2 = l1 + STRATA__BLOCK_ROWS;                             \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const T *x = strata__row(h->X, r0 + rows[q]);                                      \
            double nn = 0.0;                                                                   \
            for (int64_t f = 0; f < d; f++) {                                                  \
                T v = x[f] - mean[f]; /* the kernel's centring, bit for bit */                 \
                xc[q * d + f] = v;                                                             \
                nn += (double)v * (double)v;                                                   \
            }                                                                                  \
            xn[q] = nn;                                                                        \
        }                                                                                      \
        const T *bias;                                                                         \
        if (t->assign == STRATA_ASSIGN_GEMM) {                                                 \
            t->blas->GEMM((int)m, (int)kp, (int)d, xc, (int)d, (const T *)t->ct, (int)kp, s,    \
                          (int)kp);                                                            \
            bias = t->bias;                                                                    \
        } else if (!h->ct_sliced) {                                                            \
            kn->scores##SFX(xc, m, d, t->ct, t->bias, kp, s);                                  \
            bias = h->zero;                                                                    \
        } else {                                                                               \
            T *part = h->part[tid];                                                            \
            for (int64_t o = 0; o < kp; o += h->slice) {                                       \
                const int64_t w = kp - o < h->slice ? kp - o : h->slice;                       \
                kn->scores##SFX(xc, m, d, (const T *)h->ct_sliced + o * d,                     \
                                (const T *)t->bias + o, w, part);                              \
                COPY_COLS(T, s + o, kp, part, w, m);                                           \
            }                                                                                  \
            bias = h->zero;                                                                    \
        }                                                                                      \
        kn->argmin##SFX(s, m, bias, kp, l1);                                                   \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const int64_t a = l1[q];                                                           \
            const T *sq = s + q * kp;                                                          \
            T va = bias[a] + sq[a];                                                            \
            s[q * kp + a] = (T)INFINITY;                                                       \
            sa[q] = (double)va;                                                                \
        }                                                                                      \
        /* the second-lowest: the winner masked, the kernel's argmin again */                  \
        kn->argmin##SFX(s, m, bias, kp, l2);                                                   \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const int64_t r = rows[q];                                                         \
            T vb = bias[l2[q]] + s[q * kp + l2[q]];                                            \
            double xr = sqrt(xn[q]);                                                           \
            double rr = (xr + h->mg.cmax) * UPF;                                                  \
            double e = h->mg.eps * rr * rr * UPF + h->mg.tiny;                                     \
            lab[r] = l1[q];                                                                    \
            upper[r] = strata__up##SFX(sqrt(strata__max2(xn[q] + sa[q] + e, 0.0)) * UPF);          \
            double lb = sqrt(strata__max2(xn[q] + (double)vb - e, 0.0)) * DOWNF;          \
            lower[r] = strata__down##SFX(lb);             \
        }                                                                                      \
    }

SCORE_ROWS(score_rows_f32, float, sgemm, _f32)
SCORE_ROWS(score_rows_f64, double, dgemm, _f64)

/* Upper bound of the distance of row i to centroid a. */
static inline double dist_up_f32(const strata__hamerly *h, int64_t i, int32_t a)
{
    return strata__dist_up_f32(h->X, i, h->t->centroids + (int64_t)a * h->d, h->d);
}

static inline double dist_up_f64(const strata__hamerly *h, int64_t i, int32_t a)
{
    return strata__dist_up_f64(h->X, i, h->t->centroids + (int64_t)a * h->d, h->d);
}

/* The labeller of strata__assign_pass_by(): move and test every row's
 * bounds, tighten the upper bound of the rows that fail to their exact
 * distance and test again, score the rest with the kernel. */
#define LABEL_ROWS(NAME, T, SFX)                                                               \
    static void NAME(strata__hamerly *h, int64_t r0, int64_t rows, int tid, int32_t *lab)     \
    {                                                                                          \
        int64_t *todo = h->rows[tid], m = 0;                                                   \
        if (h->fresh) {                                                                        \
            for (int64_t r = 0; r < rows; r++)                                                 \
                todo[m++] = r;                                                                 \
        } else {                                                                               \
            const int32_t *old = h->labels + r0;                                               \
            T *up = (T *)h->upper + r0, *lo = (T *)h->lower + r0;                              \
            unsigned char *fail = h->fail[tid];                                                \
            move_test##SFX(h, old, up, lo, rows, fail);                                        \
            memcpy(lab, old, (size_t)rows * sizeof(int32_t));                                  \
            for (int64_t r = 0; r < rows; r++) { /* branch-free compaction */                  \
                todo[m] = r;                                                                   \
                m += fail[r];                                                                  \
            }                                                                                  \
            const T *hf = h->half_t;                                                           \
            const T c2 = (T)h->mg.c2_t, eps = (T)h->mg.eps_t, tiny = (T)h->mg.tiny_t;              \
            int64_t m2 = 0;                                                                    \
            for (int64_t q = 0; q < m; q++) {                                                  \
                const int64_t r = todo[q];                                                     \
                const int32_t a = old[r];                                                      \
                up[r] = strata__up##SFX(dist_up##SFX(h, r0 + r, a));                               \
                todo[m2] = r;                                                                  \
                m2 += !strata__keeps##SFX(up[r], lo[r], hf[a], c2, eps, tiny);                     \
            }                                                                                  \
            m = m2;                                                                            \
        }                                                                                      \
        if (m)                                                                                 \
            score_rows##SFX(h, r0, todo, m, tid, lab);                                         \
    }
LABEL_ROWS(label_rows_f32, float, _f32)
LABEL_ROWS(label_rows_f64, double, _f64)

static void label_rows(void *vctx, int64_t r0, int64_t rows, int tid, int32_t *lab)
{
    strata__hamerly *h = vctx;
    if (h->t->dtype == STRATA_FLOAT32)
        label_rows_f32(h, r0, rows, tid, lab);
    else
        label_rows_f64(h, r0, rows, tid, lab);
}

int strata__hamerly_pass_src(strata__hamerly *h, const strata__tables *t,
                             const strata__rowsrc *src, int32_t *labels, double *totals, int mode,
                             char *msg)
{
    const double *c = t->centroids;
    strata__data view;
    prepare(h, t, c);
    if (t->dtype == STRATA_FLOAT32)
        prepare_f32(h);
    else
        prepare_f64(h);
    h->t = t;
    h->X = &view; /* each block's rows, as the pass hands them out */
    h->labels = labels;
    int rc = strata__assign_pass_src_by(t, src, &view, labels, totals, mode, label_rows, h, msg);
    memcpy(h->c_prev, c, (size_t)(h->k * h->d) * sizeof(double));
    h->fresh = 0;
    h->X = NULL;
    return rc;
}

int strata__hamerly_pass(strata__hamerly *h, const strata__tables *t, const strata__data *X,
                         int32_t *labels, double *totals, int mode)
{
    const double *c = t->centroids;
    prepare(h, t, c);
    if (t->dtype == STRATA_FLOAT32)
        prepare_f32(h);
    else
        prepare_f64(h);
    h->t = t;
    h->X = X;
    h->labels = labels;
    int rc = strata__assign_pass_by(t, X, labels, totals, mode, label_rows, h);
    memcpy(h->c_prev, c, (size_t)(h->k * h->d) * sizeof(double));
    h->fresh = 0;
    return rc;
}

/* AUTO is Lloyd, never Yinyang either (docs/performance.md, "Yinyang (issue
 * 10; 2026-12-03, fourth session)": slower than Lloyd at every case measured,
 * k = 8..256, d = 6/8/16, AVX-512 and AVX2).
 * On the AVX-512 machine of docs/performance.md ("Hamerly
 * against Lloyd", and "Hamerly, second pass"), time to convergence from the
 * same start was never shorter with Hamerly at d = 8 and 16, k = 8 to 256,
 * also after the bookkeeping was made branch-free in the element type: the
 * bounds test now costs ~7 cycles a row, but a row that fails costs ~3x what
 * Lloyd's fused kernel pays per row (scores() plus two argmins plus bounds),
 * and 20-35% of the rows fail per iteration on customer-like data. Revisit
 * with a fused "label + second-lowest score" kernel or group bounds. */
int strata__algorithm_choose(int requested, int dtype, int kernel, int64_t n, int64_t k, int64_t d)
{
    (void)dtype;
    (void)kernel;
    (void)n;
    (void)k;
    (void)d;
    return requested == STRATA_ALGO_AUTO ? STRATA_ALGO_LLOYD : requested;
}
