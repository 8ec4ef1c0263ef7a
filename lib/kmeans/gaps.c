/* Hamerly's bounds folded into one gap per row, for streamed fits: the same
 * labels, centroids and inertia as Lloyd, bitwise.
 *
 * Hamerly (kmeans/hamerly.c) keeps an upper bound u on a row's distance to
 * its centroid a and a lower bound l on its distance to every other one, 8
 * bytes a row for float32: 800 MB at 100M rows, more than a streamed fit's
 * labels and too much for its budget. Here a row keeps only a lower bound G
 * on l - u, the gap, in bfloat16 (2 bytes a row): when the centroids move by
 * delta_j, l - u shrinks by at most delta_a + max_{j != a} delta_j.
 *
 * Why a row with a positive enough gap keeps Lloyd's label. Lloyd labels a
 * row with the lowest index j minimising the kernel's score s_j, and with X
 * = ||x - m||, C = max_j ||c_j - m||, |(||x'||^2 + s_j) - d_j^2| <= E = eps
 * (X + C)^2 + tiny (kmeans/bounds.h; d_j the distance to c_j). For j != a,
 * d_j^2 - d_a^2 = (d_j - d_a)(d_j + d_a) >= G^2, so G^2 > 2E gives s_j - s_a
 * > 0: a is the kernel's unique minimum. And sqrt(2E) <= r (X + C) +
 * sqrt(2 tiny) with r >= sqrt(2 eps). The row's own part is folded in when
 * the row is scored: it stores
 *     S = G - r X,  G = sqrt(||x'||^2 + s_2 - E) - sqrt(||x'||^2 + s_1 + E)
 * from the kernel's two lowest scores (s_1 its label's, s_2 the lowest other,
 * kernels.h assign2), and a pass keeps the label unscored only if
 *     S - dec_a > thr = r C + sqrt(2 tiny)
 * (C and tiny of that pass's centroids), storing S - dec_a. Every value is
 * rounded the safe way: S down (in double, then to float, then truncated to
 * bfloat16, which rounds a positive value down), dec_a and thr up, and the
 * subtraction down (x (1 - 4 u_float)); a negative S stays non-positive and
 * fails every test. The rows that fail are centred into the thread's scratch
 * (the kernel's subtraction, bit for bit) and labelled by assign2, whose
 * labels are assign's.
 *
 * Sums, weights, the changed-label count and the inertia come from the
 * labels through Lloyd's pass itself (strata__assign_pass_src_by), so the
 * same labels give the same bits, for any thread count and block size. */
#include "kmeans/gaps.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/mem.h"

#define UPF STRATA__UPF
#define DOWNF STRATA__DOWNF

void strata__gaps_free(strata__gaps *g)
{
    strata__free(g->gap);
    strata__free(g->c_prev);
    strata__free(g->dec);
    strata__free(g->shift);
    strata__free(g->other);
    for (int i = 0; i < g->threads; i++) {
        if (g->rows)
            strata__free(g->rows[i]);
        if (g->lab)
            strata__free(g->lab[i]);
        if (g->xn)
            strata__free(g->xn[i]);
        if (g->s1)
            strata__free(g->s1[i]);
        if (g->s2)
            strata__free(g->s2[i]);
        if (g->gf)
            strata__free(g->gf[i]);
    }
    strata__free(g->rows);
    strata__free(g->lab);
    strata__free(g->xn);
    strata__free(g->s1);
    strata__free(g->s2);
    strata__free(g->gf);
    memset(g, 0, sizeof *g);
}

int strata__gaps_init(strata__gaps *g, const strata__tables *t, int64_t n)
{
    memset(g, 0, sizeof *g);
    const size_t es = t->dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
    g->k = t->k;
    g->d = t->d;
    g->kp = t->kp;
    g->fresh = 1;
    g->threads = t->threads;
    /* the margin's run constants (eps depends on d and the type only) */
    const double u = t->dtype == STRATA_FLOAT32 ? 0x1p-24 : 0x1p-53;
    g->root = sqrt(2.0 * strata__margin_eps(t)) * UPF;
    g->xup = 1.0 + 4.0 * u;
    g->xrel = (double)(2 * t->d + 8) * u;
    g->gap = strata__alloc((size_t)n, sizeof(uint16_t));
    g->c_prev = strata__alloc((size_t)(t->k * t->d), sizeof(double));
    g->dec = strata__alloc((size_t)t->k, sizeof(float));
    g->shift = strata__alloc((size_t)t->k, sizeof(double));
    g->other = strata__alloc((size_t)t->k, sizeof(double));
    g->rows = strata__calloc((size_t)g->threads, sizeof(int64_t *));
    g->lab = strata__calloc((size_t)g->threads, sizeof(int32_t *));
    g->xn = strata__calloc((size_t)g->threads, sizeof(void *));
    g->s1 = strata__calloc((size_t)g->threads, sizeof(void *));
    g->s2 = strata__calloc((size_t)g->threads, sizeof(void *));
    g->gf = strata__calloc((size_t)g->threads, sizeof(float *));
    if (!g->gap || !g->c_prev || !g->dec || !g->shift || !g->other || !g->rows || !g->lab ||
        !g->xn || !g->s1 || !g->s2 || !g->gf)
        goto nomem;
    for (int i = 0; i < g->threads; i++) {
        g->rows[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int64_t));
        g->lab[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int32_t));
        g->xn[i] = strata__alloc(STRATA__BLOCK_ROWS, es);
        g->s1[i] = strata__alloc(STRATA__BLOCK_ROWS, es);
        g->s2[i] = strata__alloc(STRATA__BLOCK_ROWS, es);
        g->gf[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(float));
        if (!g->rows[i] || !g->lab[i] || !g->xn[i] || !g->s1[i] || !g->s2[i] || !g->gf[i])
            goto nomem;
    }
    return STRATA_OK;
nomem:
    strata__gaps_free(g);
    return STRATA_E_NOMEM;
}

void strata__gaps_reset(strata__gaps *g)
{
    g->fresh = 1;
}

/* bfloat16: the high half of a float. Dropping the low half rounds towards
 * zero: a positive value down, a negative one stays non-positive. NaN (none
 * is expected) becomes -1, which fails every test. */
static inline float bf16_get(uint16_t b)
{
    const uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint16_t bf16_put(float f)
{
    uint32_t u;
    f = f == f ? f : -1.0f;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)(u >> 16);
}

/* The pass's margin, threshold and decrements for the centroids c. */
static void prepare(strata__gaps *g, const strata__tables *t, const double *c)
{
    const int64_t k = g->k, d = g->d;
    strata__margin_set(&g->mg, t, c, NULL, NULL);
    g->thr = strata__up_f32((g->root * g->mg.cmax * UPF + sqrt(2.0 * g->mg.tiny) * UPF) * UPF);
    if (g->fresh)
        return;
    strata__centroid_moves(c, g->c_prev, k, d, g->shift, g->other);
    for (int64_t j = 0; j < k; j++) /* its own move and the largest of the others */
        g->dec[j] = strata__up_f32(strata__max2((g->shift[j] + g->other[j]) * UPF, FLT_MIN));
}

/* S of m rows scored now (the argument at the top) from their ||x'||^2
 * (summed in the element type: within xrel of it) and two lowest scores,
 * into out, rounded down to float: one loop without a branch or a call,
 * which the compiler vectorises (a second copy for AVX2 and FMA, where a
 * fused operation only rounds less). The subtractions are rounded down by
 * 2^-50 of the largest magnitude in them; a NaN (k = 1: no second score)
 * becomes -1 in bf16_put. */
#define GAPS_OF(NAME, T, ATTR)                                                                 \
    ATTR static void NAME(const strata__gaps *g, int64_t m, const T *xn, const T *s1,          \
                          const T *s2, float *out)                                             \
    {                                                                                          \
        const double cm = g->mg.cmax, eps = g->mg.eps, tiny = g->mg.tiny, root = g->root;     \
        const double xup = g->xup * UPF, hi = 1.0 + g->xrel, lo_ = 1.0 - g->xrel;              \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const double xh = (double)xn[q] * hi, xl = (double)xn[q] * lo_;                    \
            const double xr = sqrt(xh) * xup; /* >= ||x - m|| */                               \
            const double rr = (xr + cm) * UPF;                                                 \
            const double e = eps * rr * rr * UPF + tiny;                                       \
            double a = xh + (double)s1[q] + e, b = xl + (double)s2[q] - e;                     \
            a = (a + fabs(a)) * 0.5; /* max(a, 0) without a compare, exactly */                \
            b = (b + fabs(b)) * 0.5;                                                           \
            const double up = sqrt(a) * UPF, lo = sqrt(b) * DOWNF, rx = root * xr * UPF;      \
            const double gd = ((lo - up) - rx) - (lo + up + rx) * 0x1p-50;                     \
            const float gf = (float)gd;                                                        \
            out[q] = gf - fabsf(gf) * 0x1p-22f; /* below gd: (float) rounded to nearest */     \
        }                                                                                      \
    }
GAPS_OF(gaps_of_f32_base, float, )
GAPS_OF(gaps_of_f64_base, double, )
#if defined(__x86_64__) && defined(__GNUC__)
#define AVX2_ATTR __attribute__((target("avx2,fma")))
GAPS_OF(gaps_of_f32_avx2, float, AVX2_ATTR)
GAPS_OF(gaps_of_f64_avx2, double, AVX2_ATTR)
#define GAPS_OF_PICK(g, SFX) ((g)->t->kern->id != STRATA_KERNEL_SCALAR ? gaps_of##SFX##_avx2 \
                                                                        : gaps_of##SFX##_base)
#else
#define GAPS_OF_PICK(g, SFX) gaps_of##SFX##_base
#endif

/* Label rows r0 + todo[q] (q < m) with the kernel and store their S. Where
 * most of the block's rows are to be scored, all of them are (a row that
 * passed gets its label again and a fresh S), straight from the block:
 * centred on the way in, no copy; else the rows are centred into the
 * thread's scratch (the kernel's subtraction, bit for bit) first. */
#define SCORE_ROWS(NAME, T, SFX)                                                               \
    static void NAME(strata__gaps *g, const strata__data *X, int64_t r0, int64_t rows,         \
                     const int64_t *todo, int64_t m, int tid, int32_t *lab)                    \
    {                                                                                          \
        const strata__tables *t = g->t;                                                        \
        const strata__kernels *kn = t->kern;                                                   \
        const int64_t d = g->d;                                                                \
        const T *mean = t->mean;                                                               \
        T *s1 = g->s1[tid], *s2 = g->s2[tid], *xn = g->xn[tid];                                \
        float *gf = g->gf[tid];                                                                \
        if (4 * m >= 3 * rows) {                                                               \
            const T *x = strata__row(X, r0);                                                   \
            kn->norms##SFX(x, rows, X->stride, d, mean, xn);                                   \
            kn->assign2##SFX(x, rows, X->stride, d, mean, t->ct, t->bias, g->kp, lab, s1, s2); \
            GAPS_OF_PICK(g, SFX)(g, rows, xn, s1, s2, gf);                                     \
            for (int64_t r = 0; r < rows; r++)                                                 \
                g->gap[r0 + r] = bf16_put(gf[r]);                                              \
            return;                                                                            \
        }                                                                                      \
        T *xc = t->xc[tid];                                                                    \
        int32_t *l1 = g->lab[tid];                                                             \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const T *x = strata__row(X, r0 + todo[q]);                                         \
            T *o = xc + q * d;                                                                 \
            for (int64_t f = 0; f < d; f++)                                                    \
                o[f] = x[f] - mean[f];                                                         \
        }                                                                                      \
        kn->norms##SFX(xc, m, d, d, NULL, xn);                                                 \
        kn->assign2##SFX(xc, m, d, d, NULL, t->ct, t->bias, g->kp, l1, s1, s2);                \
        GAPS_OF_PICK(g, SFX)(g, m, xn, s1, s2, gf);                                            \
        for (int64_t q = 0; q < m; q++) {                                                      \
            lab[todo[q]] = l1[q];                                                              \
            g->gap[r0 + todo[q]] = bf16_put(gf[q]);                                            \
        }                                                                                      \
    }
SCORE_ROWS(score_rows_f32, float, _f32)
SCORE_ROWS(score_rows_f64, double, _f64)

/* The labeller of strata__assign_pass_src_by(): shrink and test every row's
 * gap, score the rows that fail. */
static void label_rows(void *vctx, int64_t r0, int64_t rows, int tid, int32_t *lab)
{
    strata__gaps *g = vctx;
    const strata__data *X = strata__chunk_view(g->X, tid);
    int64_t *todo = g->rows[tid], m = 0;
    if (g->fresh) {
        for (int64_t r = 0; r < rows; r++)
            todo[m++] = r;
    } else {
        const int32_t *old = g->labels + r0;
        uint16_t *gp = g->gap + r0;
        const float *dec = g->dec, thr = g->thr, dn = 1.0f - 4.0f * 0x1p-24f;
        for (int64_t r = 0; r < rows; r++) { /* branch-free: compaction by count */
            const float s = (bf16_get(gp[r]) - dec[old[r]]) * dn;
            gp[r] = bf16_put(s);
            todo[m] = r;
            m += !(s > thr);
        }
        memcpy(lab, old, (size_t)rows * sizeof(int32_t));
    }
    if (!m)
        return;
    if (g->t->dtype == STRATA_FLOAT32)
        score_rows_f32(g, X, r0, rows, todo, m, tid, lab);
    else
        score_rows_f64(g, X, r0, rows, todo, m, tid, lab);
}

int strata__gaps_pass_src(strata__gaps *g, const strata__tables *t, const strata__rowsrc *src,
                          int32_t *labels, double *totals, int mode, char *msg)
{
    const double *c = t->centroids;
    strata__data view;
    prepare(g, t, c);
    g->t = t;
    g->X = &view; /* each block's rows, as the pass hands them out */
    g->labels = labels;
    int rc = strata__assign_pass_src_by(t, src, &view, labels, totals, mode, label_rows, g, msg);
    memcpy(g->c_prev, c, (size_t)(g->k * g->d) * sizeof(double));
    g->fresh = 0;
    g->X = NULL;
    return rc;
}
