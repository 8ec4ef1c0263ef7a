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
 * never pass a wrong one.
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
 *     but -0 -> +0, which compares equal).
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

/* Outward rounding of a result computed with a few double roundings. */
#define UPF (1.0 + 0x1p-48)
#define DOWNF (1.0 - 0x1p-48)

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
    }
    strata__free(h->scores);
    strata__free(h->part);
    strata__free(h->rows);
    strata__free(h->lab2);
    strata__free(h->xnorm);
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
    h->eps = (double)(4 * d + 32) * (t->dtype == STRATA_FLOAT32 ? 0x1p-24 : 0x1p-53);
    /* scores() handles at most STRATA__SCORES_MAX_V vectors of centroids */
    h->slice = t->assign == STRATA_ASSIGN_GEMM ? kp : STRATA__SCORES_MAX_V * (int64_t)lanes;
    if (h->slice > kp)
        h->slice = kp;
    h->upper = strata__alloc((size_t)n, sizeof(double));
    h->lower = strata__alloc((size_t)n, sizeof(double));
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
    if (!h->upper || !h->lower || !h->c_prev || !h->shift || !h->shift_other || !h->half ||
        !h->zero || !h->scores || !h->part || !h->rows || !h->lab2 || !h->xnorm)
        goto nomem;
    if (h->slice < kp && !(h->ct_sliced = strata__alloc((size_t)(kp * d), es)))
        goto nomem;
    for (int i = 0; i < h->threads; i++) {
        h->scores[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * kp), es);
        h->rows[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int64_t));
        h->lab2[i] = strata__alloc(2 * STRATA__BLOCK_ROWS, sizeof(int32_t));
        h->xnorm[i] = strata__alloc(2 * STRATA__BLOCK_ROWS, sizeof(double));
        if (!h->scores[i] || !h->rows[i] || !h->lab2[i] || !h->xnorm[i])
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

/* sqrt of a sum of d squares computed in double, rounded up / down. */
static double norm_up(double s, int64_t d)
{
    return sqrt(s * (1.0 + (double)(d + 8) * 0x1p-52)) * UPF;
}

static double norm_down(double s, int64_t d)
{
    return sqrt(s * (1.0 - (double)(d + 8) * 0x1p-52)) * DOWNF;
}

static double dist2(const double *a, const double *b, int64_t d)
{
    double s = 0.0;
    for (int64_t f = 0; f < d; f++)
        s += (a[f] - b[f]) * (a[f] - b[f]);
    return s;
}

/* Per-pass quantities of the centroids c: their moves since the previous
 * pass, half the distance to the nearest other, the largest centred norm,
 * and the table cut into slices for scores(). */
static void prepare(strata__hamerly *h, const strata__tables *t, const double *c)
{
    const int64_t k = h->k, d = h->d, kp = h->kp;
    double cmax = 0.0;
    for (int64_t j = 0; j < k; j++)
        cmax = fmax(cmax, norm_up(dist2(c + j * d, t->mean_used, d), d));
    h->cmax = cmax;
    const double min_normal = t->dtype == STRATA_FLOAT32 ? (double)FLT_MIN : DBL_MIN;
    h->tiny = (double)(4 * d + 32) * min_normal * (1.0 + 2.0 * cmax) * (1.0 + 2.0 * cmax);
    for (int64_t j = 0; j < k; j++)
        h->half[j] = INFINITY;
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = j + 1; i < k; i++) {
            double s = dist2(c + j * d, c + i * d, d);
            h->half[j] = fmin(h->half[j], s);
            h->half[i] = fmin(h->half[i], s);
        }
    for (int64_t j = 0; j < k; j++)
        h->half[j] = isinf(h->half[j]) ? INFINITY : 0.5 * norm_down(h->half[j], d);
    if (!h->fresh) {
        double m1 = 0.0, m2 = 0.0;
        int64_t jmax = 0;
        for (int64_t j = 0; j < k; j++) {
            double s = norm_up(dist2(c + j * d, h->c_prev + j * d, d), d);
            h->shift[j] = s;
            if (s > m1) {
                m2 = m1;
                m1 = s;
                jmax = j;
            } else if (s > m2) {
                m2 = s;
            }
        }
        for (int64_t j = 0; j < k; j++)
            h->shift_other[j] = j == jmax ? m2 : m1;
    }
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

/* max without fmax()'s NaN handling (a libm call at -O2; no NaN reaches here) */
static inline double max2(double a, double b)
{
    return a > b ? a : b;
}

/* Whether the bounds prove the kernel's label of the row is a. */
static inline int keeps(const strata__hamerly *h, int32_t a, double u, double l)
{
    double lo = max2(l, (2.0 * h->half[a] - u) * DOWNF);
    double r = (u + 2.0 * h->cmax) * UPF; /* >= ||x - m|| + cmax */
    double e = h->eps * r * r * UPF + h->tiny;
    return lo > 0.0 && lo * lo > (u * u + 2.0 * e) * UPF;
}

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
                for (int64_t q = 0; q < m; q++)                                                \
                    memcpy(s + q * kp + o, part + q * w, (size_t)w * sizeof(T));               \
            }                                                                                  \
            bias = h->zero;                                                                    \
        }                                                                                      \
        kn->argmin##SFX(s, m, bias, kp, l1);                                                   \
        for (int64_t q = 0; q < m; q++) {                                                      \
            T v = bias[l1[q]] + s[q * kp + l1[q]];                                             \
            sa[q] = (double)v;                                                                 \
            s[q * kp + l1[q]] = (T)INFINITY;                                                   \
        }                                                                                      \
        kn->argmin##SFX(s, m, bias, kp, l2);                                                   \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const int64_t r = rows[q];                                                         \
            T vb = bias[l2[q]] + s[q * kp + l2[q]];                                            \
            double xr = sqrt(xn[q]);                                                           \
            double rr = (xr + h->cmax) * UPF;                                                  \
            double e = h->eps * rr * rr * UPF + h->tiny;                                       \
            lab[r] = l1[q];                                                                    \
            h->upper[r0 + r] = sqrt(max2(xn[q] + sa[q] + e, 0.0)) * UPF;                       \
            h->lower[r0 + r] = sqrt(max2(xn[q] + (double)vb - e, 0.0)) * DOWNF;                \
        }                                                                                      \
    }

SCORE_ROWS(score_rows_f32, float, sgemm, _f32)
SCORE_ROWS(score_rows_f64, double, dgemm, _f64)

/* Upper bound of the distance of row i to centroid a, from the row itself. */
static double dist_up(const strata__hamerly *h, int64_t i, int32_t a)
{
    const strata__data *X = h->X;
    const double *c = h->t->centroids + (int64_t)a * h->d;
    double s = 0.0;
    if (X->dtype == STRATA_FLOAT32) {
        const float *x = strata__row(X, i);
        for (int64_t f = 0; f < h->d; f++)
            s += ((double)x[f] - c[f]) * ((double)x[f] - c[f]);
    } else {
        const double *x = strata__row(X, i);
        for (int64_t f = 0; f < h->d; f++)
            s += (x[f] - c[f]) * (x[f] - c[f]);
    }
    return norm_up(s, h->d);
}

/* The labeller of strata__assign_pass_by(). */
static void label_rows(void *vctx, int64_t r0, int64_t rows, int tid, int32_t *lab)
{
    strata__hamerly *h = vctx;
    int64_t *todo = h->rows[tid], m = 0;
    if (h->fresh) {
        for (int64_t r = 0; r < rows; r++)
            todo[m++] = r;
    } else {
        const int32_t *old = h->labels + r0;
        double *up = h->upper + r0, *lo = h->lower + r0;
        const double *shift = h->shift, *other = h->shift_other;
        /* the bounds follow the centroids' moves */
        for (int64_t r = 0; r < rows; r++) {
            up[r] = (up[r] + shift[old[r]]) * UPF;
            lo[r] = (lo[r] - other[old[r]]) * DOWNF;
        }
        for (int64_t r = 0; r < rows; r++) {
            lab[r] = old[r];
            if (!keeps(h, old[r], up[r], lo[r]))
                todo[m++] = r;
        }
        /* tighten the upper bound to the exact distance and test again */
        int64_t m2 = 0;
        for (int64_t q = 0; q < m; q++) {
            const int64_t r = todo[q];
            up[r] = dist_up(h, r0 + r, old[r]);
            if (!keeps(h, old[r], up[r], lo[r]))
                todo[m2++] = r;
        }
        m = m2;
    }
    if (m == 0)
        return;
    if (h->t->dtype == STRATA_FLOAT32)
        score_rows_f32(h, r0, todo, m, tid, lab);
    else
        score_rows_f64(h, r0, todo, m, tid, lab);
}

int strata__hamerly_pass(strata__hamerly *h, const strata__tables *t, const strata__data *X,
                         int32_t *labels, double *totals, int mode)
{
    const double *c = t->centroids;
    prepare(h, t, c);
    h->t = t;
    h->X = X;
    h->labels = labels;
    int rc = strata__assign_pass_by(t, X, labels, totals, mode, label_rows, h);
    memcpy(h->c_prev, c, (size_t)(h->k * h->d) * sizeof(double));
    h->fresh = 0;
    return rc;
}

/* AUTO is Lloyd: on the AVX-512 machine of docs/performance.md ("Hamerly
 * against Lloyd"), time to convergence from the same start was never
 * shorter with Hamerly at n = 1M, d = 8 and 16, k = 8 to 256 (AVX-512 and
 * AVX2 kernels): the fused kernels score a row in a few cycles, about what
 * the bound bookkeeping costs. Revisit with faster bookkeeping or on
 * machines where scoring costs more. */
int strata__algorithm_choose(int requested, int dtype, int kernel, int64_t n, int64_t k, int64_t d)
{
    (void)dtype;
    (void)kernel;
    (void)n;
    (void)k;
    (void)d;
    return requested == STRATA_ALGO_AUTO ? STRATA_ALGO_LLOYD : requested;
}
