/* Yinyang k-means (Y. Ding, Y. Zhao, X. Shen, M. Musuvathi, T. Mytkowicz,
 * "Yinyang K-Means", ICML 2015), exact: the same labels, centroids and
 * inertia as Lloyd, bitwise, by the argument of kmeans/hamerly.c with the
 * margin and the test of kmeans/bounds.h.
 *
 * Groups. The k centroids are cut once per run, from the initial ones, into
 * t groups of `width` columns, width a multiple of the kernel's vector of
 * centroids (16 float32 columns for AVX-512, 8 otherwise; wider when k needs
 * more than STRATA__YY_MAX_GROUPS groups). Greedy: the remaining centroid
 * farthest from their mean and its width - 1 nearest remaining ones form a
 * group. Groups of equal width (not Ding et al.'s k-means of the centroids,
 * whose groups are uneven) because a group is scored with one call of the
 * kernel's scores() on its own columns: a score depends on its own column
 * only (bias first, then one FMA per feature in feature order, whatever the
 * columns beside it; kernels/kernels.h), so scoring a group gives each
 * centroid exactly the bits Lloyd's fused kernel gives it, and an uneven
 * group would pay for padding columns. Near centroids in one group make the
 * groups far from a row keep a large lower bound.
 *
 * Bounds. Row i with label a keeps u >= ||x - c_a||, a lower bound l_g on
 * its distance to every centroid of group g but a, and a global lower bound
 * l <= min_g l_g. Each pass, with delta_j >= the move of centroid j:
 * u grows by delta_a, l_g shrinks by max_{j in g} delta_j, l by max_j
 * delta_j. They are stored in the frame of the cumulative moves (u - cum_a,
 * l_g + cum_g, l + cum_max, rounded outwards), so the bounds of a row that
 * passes the global test are read but never written: 8 bytes a row of
 * traffic for float32, against (1 + t) x 4 written and read if they moved.
 * Memory: (2 + t) values of the element type a row ((8 + 4t) bytes float32,
 * t <= 16).
 *
 * The tests, each the KEEPS test of bounds.h (with Hamerly's 2 s_a - u):
 *   1. global: l against u, in one branch-free loop over a block;
 *   2. for a row that fails: u tightened to the exact distance (in double),
 *      the global test again, then each group's l_g against u;
 *   3. if any group fails, the failing groups and a's group are scored with
 *      the kernel (FUSED: the group's columns of the table, one scores()
 *      call; GEMM: the whole row, the same ?gemm call as Lloyd's). A group
 *      that passes has every score strictly above s_a, so the lowest score
 *      of the scored columns is Lloyd's minimum and the lowest index among
 *      its ties Lloyd's label. The new bounds come from the scores widened
 *      by the margin E (bounds.h); a group not scored keeps its l_g.
 *
 * Sums, weights, changed labels and inertia come from the labels through
 * strata__assign_pass_by, as for Lloyd: bitwise the same for any thread
 * count (each row's labels and bounds depend on that row only). */
#include "kmeans/yinyang.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/mem.h"

#define UPF STRATA__UPF
#define DOWNF STRATA__DOWNF

static size_t esize(const strata__tables *t)
{
    return t->dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
}

int64_t strata__yinyang_groups(int64_t k, int lanes, int64_t *width)
{
    /* about 10 centroids a group (Ding et al.), in whole vectors */
    int64_t w = lanes * ((8 + lanes - 1) / lanes);
    if ((k + w - 1) / w > STRATA__YY_MAX_GROUPS) {
        int64_t need = (k + STRATA__YY_MAX_GROUPS - 1) / STRATA__YY_MAX_GROUPS;
        w = (need + lanes - 1) / lanes * lanes;
    }
    if (width)
        *width = w;
    return (k + w - 1) / w;
}

void strata__yinyang_free(strata__yinyang *y)
{
    strata__free(y->upper);
    strata__free(y->glb);
    strata__free(y->lower);
    strata__free(y->perm);
    strata__free(y->group);
    strata__free(y->c_prev);
    strata__free(y->move);
    strata__free(y->cum);
    strata__free(y->cum_g);
    strata__free(y->cum_t);
    strata__free(y->cum_g_t);
    strata__free(y->half);
    strata__free(y->half_t);
    strata__free(y->ct_perm);
    strata__free(y->bias_perm);
    strata__free(y->zero);
#define FREE_PER_THREAD(F)                                                                     \
    do {                                                                                       \
        for (int i = 0; y->F && i < y->threads; i++)                                           \
            strata__free(y->F[i]);                                                             \
        strata__free(y->F);                                                                    \
    } while (0)
    FREE_PER_THREAD(rows);
    FREE_PER_THREAD(fail);
    FREE_PER_THREAD(need);
    FREE_PER_THREAD(lcur);
    FREE_PER_THREAD(m1);
    FREE_PER_THREAD(m2);
    FREE_PER_THREAD(i1);
    FREE_PER_THREAD(xnorm);
    FREE_PER_THREAD(l1);
    FREE_PER_THREAD(list);
    FREE_PER_THREAD(xg);
    FREE_PER_THREAD(sc);
#undef FREE_PER_THREAD
    memset(y, 0, sizeof *y);
}

int strata__yinyang_init(strata__yinyang *y, const strata__tables *t, int64_t n)
{
    memset(y, 0, sizeof *y);
    const size_t es = esize(t);
    const int64_t d = t->d, k = t->k;
    const int lanes = t->dtype == STRATA_FLOAT32 ? t->kern->lanes_f32 : t->kern->lanes_f64;
    y->n = n;
    y->k = k;
    y->d = d;
    y->kp = t->kp;
    y->fresh = 1;
    y->fused = t->assign != STRATA_ASSIGN_GEMM;
    y->threads = t->threads;
    const int64_t g = y->groups = strata__yinyang_groups(k, lanes, &y->width);
    const int64_t slots = g * y->width, B = STRATA__BLOCK_ROWS;
    y->call = y->width < STRATA__SCORES_MAX_V * lanes ? y->width
                                                      : (int64_t)STRATA__SCORES_MAX_V * lanes;
    y->upper = strata__alloc((size_t)n, es);
    y->glb = strata__alloc((size_t)n, es);
    y->lower = strata__alloc((size_t)(n * g), es);
    y->perm = strata__alloc((size_t)slots, sizeof(int32_t));
    y->group = strata__alloc((size_t)k, sizeof(int32_t));
    y->c_prev = strata__alloc((size_t)(k * d), sizeof(double));
    y->move = strata__alloc((size_t)k, sizeof(double));
    y->cum = strata__alloc((size_t)k, sizeof(double));
    y->cum_g = strata__alloc((size_t)g, sizeof(double));
    y->cum_t = strata__alloc((size_t)k, es);
    y->cum_g_t = strata__alloc((size_t)g, es);
    y->half = strata__alloc((size_t)k, sizeof(double));
    y->half_t = strata__alloc((size_t)k, es);
    if (!y->upper || !y->glb || !y->lower || !y->perm || !y->group || !y->c_prev || !y->move ||
        !y->cum || !y->cum_g || !y->cum_t || !y->cum_g_t || !y->half || !y->half_t)
        goto nomem;
    if (y->fused && (!(y->ct_perm = strata__alloc((size_t)(slots * d), es)) ||
                     !(y->bias_perm = strata__alloc((size_t)slots, es)) ||
                     !(y->zero = strata__calloc((size_t)y->call, es))))
        goto nomem;
#define ALLOC_PER_THREAD(F, COUNT, SIZE)                                                       \
    do {                                                                                       \
        if (!(y->F = strata__calloc((size_t)y->threads, sizeof *y->F)))                       \
            goto nomem;                                                                        \
        for (int i = 0; i < y->threads; i++)                                                   \
            if (!(y->F[i] = strata__alloc((size_t)(COUNT), (SIZE))))                           \
                goto nomem;                                                                    \
    } while (0)
    ALLOC_PER_THREAD(rows, B, sizeof(int64_t));
    ALLOC_PER_THREAD(fail, B, 1);
    ALLOC_PER_THREAD(need, B * g, 1);
    ALLOC_PER_THREAD(lcur, B * g, sizeof(double));
    ALLOC_PER_THREAD(m1, B * g, sizeof(double));
    ALLOC_PER_THREAD(m2, B * g, sizeof(double));
    ALLOC_PER_THREAD(i1, B * g, sizeof(int32_t));
    ALLOC_PER_THREAD(xnorm, 2 * B, sizeof(double));
    ALLOC_PER_THREAD(l1, 2 * B, sizeof(int32_t));
    ALLOC_PER_THREAD(list, B, sizeof(int32_t));
    ALLOC_PER_THREAD(xg, B * d, es);
    ALLOC_PER_THREAD(sc, B * (y->fused ? y->call : 1), es);
#undef ALLOC_PER_THREAD
    return STRATA_OK;
nomem:
    strata__yinyang_free(y);
    return STRATA_E_NOMEM;
}

void strata__yinyang_reset(strata__yinyang *y)
{
    y->fresh = 1;
}

/* The groups, from the centroids c: the remaining centroid farthest from the
 * mean of all (ties: the lowest index) and its width - 1 nearest remaining
 * ones (ties: the lowest index), until none remain. */
static void make_groups(strata__yinyang *y, const double *c)
{
    const int64_t k = y->k, d = y->d, w = y->width;
    double mean[64], *m = d <= 64 ? mean : NULL;
    /* the mean only orders the seeds; beyond 64 features the first is used */
    if (m) {
        for (int64_t f = 0; f < d; f++)
            m[f] = 0.0;
        for (int64_t j = 0; j < k; j++)
            for (int64_t f = 0; f < d; f++)
                m[f] += c[j * d + f] / (double)k;
    }
    for (int64_t j = 0; j < k; j++)
        y->group[j] = -1;
    for (int64_t s = 0; s < y->groups * w; s++)
        y->perm[s] = -1;
    for (int64_t g = 0; g < y->groups; g++) {
        int64_t seed = -1;
        double far = -1.0;
        for (int64_t j = 0; j < k; j++) {
            if (y->group[j] >= 0)
                continue;
            double v = m ? strata__dist2(c + j * d, m, d) : 0.0;
            if (v > far) {
                far = v;
                seed = j;
            }
        }
        for (int64_t s = 0; s < w && seed >= 0; s++) {
            int64_t best = -1;
            double bd = INFINITY;
            for (int64_t j = 0; j < k; j++) {
                if (y->group[j] >= 0)
                    continue;
                double v = strata__dist2(c + j * d, c + seed * d, d);
                if (best < 0 || v < bd) {
                    bd = v;
                    best = j;
                }
            }
            if (best < 0)
                break;
            y->group[best] = (int32_t)g;
            int64_t p = g * w + s; /* ascending centroid index within the group */
            while (p > g * w && y->perm[p - 1] > best) {
                y->perm[p] = y->perm[p - 1];
                p--;
            }
            y->perm[p] = (int32_t)best;
        }
    }
}

/* Per-pass quantities: the margin, half distances, moves and their
 * cumulative sums, and (FUSED) the table's columns in group order, each
 * call's slice d x cw with row stride cw at offset (slot of its first
 * column) x d. */
static void prepare(strata__yinyang *y, const strata__tables *t, const double *c)
{
    const int64_t k = y->k, d = y->d, kp = y->kp, G = y->groups, w = y->width;
    const int f32 = t->dtype == STRATA_FLOAT32;
    strata__margin_set(&y->mg, t, c, y->half, y->half_t);
    if (y->fresh) {
        make_groups(y, c);
        for (int64_t j = 0; j < k; j++)
            y->cum[j] = 0.0;
        for (int64_t g = 0; g < G; g++)
            y->cum_g[g] = 0.0;
        y->cum_max = 0.0;
    } else {
        double mx = 0.0;
        for (int64_t j = 0; j < k; j++) {
            y->move[j] = strata__norm_up(strata__dist2(c + j * d, y->c_prev + j * d, d), d);
            y->cum[j] = (y->cum[j] + y->move[j]) * UPF;
            mx = strata__max2(mx, y->move[j]);
        }
        for (int64_t g = 0; g < G; g++) {
            double gm = 0.0;
            for (int64_t s = 0; s < w; s++)
                if (y->perm[g * w + s] >= 0)
                    gm = strata__max2(gm, y->move[y->perm[g * w + s]]);
            y->cum_g[g] = (y->cum_g[g] + gm) * UPF;
        }
        y->cum_max = (y->cum_max + mx) * UPF;
    }
    for (int64_t j = 0; j < k; j++) {
        if (f32)
            ((float *)y->cum_t)[j] = strata__up_f32(y->cum[j]);
        else
            ((double *)y->cum_t)[j] = y->cum[j];
    }
    for (int64_t g = 0; g < G; g++) {
        if (f32)
            ((float *)y->cum_g_t)[g] = strata__up_f32(y->cum_g[g]);
        else
            ((double *)y->cum_g_t)[g] = y->cum_g[g];
    }
    y->cum_max_t = f32 ? (double)strata__up_f32(y->cum_max) : y->cum_max;
    if (!y->fused)
        return;
    const size_t es = esize(t);
    for (int64_t g = 0; g < G; g++)
        for (int64_t o = 0; o < w; o += y->call) {
            const int64_t cw = w - o < y->call ? w - o : y->call, s0 = g * w + o;
            for (int64_t s = 0; s < cw; s++) {
                const int32_t j = y->perm[s0 + s];
                for (int64_t f = 0; f < d; f++) {
                    char *dst = (char *)y->ct_perm + (size_t)(s0 * d + f * cw + s) * es;
                    if (j >= 0)
                        memcpy(dst, (const char *)t->ct + (size_t)(f * kp + j) * es, es);
                    else
                        memset(dst, 0, es);
                }
                char *b = (char *)y->bias_perm + (size_t)(s0 + s) * es;
                if (j >= 0)
                    memcpy(b, (const char *)t->bias + (size_t)j * es, es);
                else if (f32)
                    *(float *)b = INFINITY;
                else
                    *(double *)b = INFINITY;
            }
        }
}

/* Lowest score (ties: lowest centroid index) and second-lowest of a group. */
static inline void take(double v, int32_t j, double *m1, int32_t *i1, double *m2)
{
    if (v < *m1 || (v == *m1 && j < *i1)) {
        *m2 = *m1;
        *m1 = v;
        *i1 = j;
    } else if (v < *m2) {
        *m2 = v;
    }
}

/* Score rows r0 + rows[q] (q < m) on the groups need[q * G + g] marks, then
 * label them and renew their bounds (groups not scored keep theirs; lcur
 * holds their current values for the global bound). */
#define SCORE_ROWS(NAME, T, GEMM, SFX)                                                         \
    static void NAME(strata__yinyang *y, int64_t r0, const int64_t *rows, int64_t m, int tid,  \
                     int32_t *lab)                                                             \
    {                                                                                          \
        const strata__tables *t = y->t;                                                        \
        const strata__kernels *kn = t->kern;                                                   \
        const int64_t d = y->d, G = y->groups, w = y->width;                                   \
        const T *mean = t->mean;                                                               \
        T *xc = t->xc[tid];                                                                    \
        double *xn = y->xnorm[tid], *m1 = y->m1[tid], *m2 = y->m2[tid], *lc = y->lcur[tid];    \
        int32_t *i1 = y->i1[tid];                                                              \
        const unsigned char *need = y->need[tid];                                              \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const T *x = strata__row(y->X, r0 + rows[q]);                                      \
            double nn = 0.0;                                                                   \
            for (int64_t f = 0; f < d; f++) {                                                  \
                T v = x[f] - mean[f]; /* the kernel's centring, bit for bit */                 \
                xc[q * d + f] = v;                                                             \
                nn += (double)v * (double)v;                                                   \
            }                                                                                  \
            xn[q] = nn;                                                                        \
            for (int64_t g = 0; g < G; g++) {                                                  \
                m1[q * G + g] = m2[q * G + g] = INFINITY;                                      \
                i1[q * G + g] = INT32_MAX;                                                     \
            }                                                                                  \
        }                                                                                      \
        if (!y->fused) { /* the whole rows, as Lloyd's GEMM pass scores them */                \
            const int64_t kp = y->kp;                                                          \
            T *s = t->scores[tid];                                                             \
            const T *bias = t->bias;                                                           \
            t->blas->GEMM((int)m, (int)kp, (int)d, xc, (int)d, (const T *)t->ct, (int)kp, s,    \
                          (int)kp);                                                            \
            for (int64_t q = 0; q < m; q++)                                                    \
                for (int64_t g = 0; g < G; g++)                                                \
                    for (int64_t sl = 0; sl < w; sl++) {                                       \
                        const int32_t j = y->perm[g * w + sl];                                 \
                        if (j >= 0)                                                            \
                            take((double)(T)(bias[j] + s[q * kp + j]), j, &m1[q * G + g],      \
                                 &i1[q * G + g], &m2[q * G + g]);                              \
                    }                                                                          \
        } else {                                                                               \
            int32_t *list = y->list[tid], *l1 = y->l1[tid], *l2 = l1 + STRATA__BLOCK_ROWS;     \
            double *v1 = xn + STRATA__BLOCK_ROWS;                                              \
            T *xg = y->xg[tid], *sc = y->sc[tid];                                              \
            for (int64_t g = 0; g < G; g++) {                                                  \
                int64_t cnt = 0;                                                               \
                for (int64_t q = 0; q < m; q++) {                                              \
                    list[cnt] = (int32_t)q;                                                    \
                    cnt += need[q * G + g];                                                    \
                }                                                                              \
                if (!cnt)                                                                      \
                    continue;                                                                  \
                const T *xs = xc;                                                              \
                if (cnt < m) { /* the rows this group is scored for, contiguous */             \
                    for (int64_t p = 0; p < cnt; p++)                                          \
                        memcpy(xg + p * d, xc + (int64_t)list[p] * d, (size_t)d * sizeof(T));  \
                    xs = xg;                                                                   \
                }                                                                              \
                for (int64_t o = 0; o < w; o += y->call) {                                     \
                    const int64_t cw = w - o < y->call ? w - o : y->call, s0 = g * w + o;      \
                    kn->scores##SFX(xs, cnt, d, (const T *)y->ct_perm + s0 * d,                \
                                    (const T *)y->bias_perm + s0, cw, sc);                     \
                    /* the lowest (slots ascend by centroid, so the kernel's tie rule is       \
                       Lloyd's), masked, then the second-lowest; a zero bias adds 0 */         \
                    kn->argmin##SFX(sc, cnt, (const T *)y->zero, cw, l1);                      \
                    for (int64_t p = 0; p < cnt; p++) {                                        \
                        v1[p] = (double)sc[p * cw + l1[p]];                                    \
                        sc[p * cw + l1[p]] = (T)INFINITY;                                      \
                    }                                                                          \
                    kn->argmin##SFX(sc, cnt, (const T *)y->zero, cw, l2);                      \
                    for (int64_t p = 0; p < cnt; p++) {                                        \
                        const int64_t q = list[p];                                             \
                        double *a1 = &m1[q * G + g], *a2 = &m2[q * G + g];                     \
                        int32_t *b1 = &i1[q * G + g];                                          \
                        const int32_t j = y->perm[s0 + l1[p]];                                 \
                        const double v2 = (double)sc[p * cw + l2[p]];                          \
                        if (j >= 0)                                                            \
                            take(v1[p], j, a1, b1, a2);                                        \
                        *a2 = *a2 < v2 ? *a2 : v2;                                             \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        T *upper = (T *)y->upper + r0, *glb = (T *)y->glb + r0;                                \
        const double *cum = y->cum, *cum_g = y->cum_g;                                         \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const int64_t r = rows[q];                                                         \
            double best = INFINITY;                                                            \
            int32_t a = INT32_MAX;                                                             \
            for (int64_t g = 0; g < G; g++)                                                    \
                if (need[q * G + g] &&                                                         \
                    (m1[q * G + g] < best || (m1[q * G + g] == best && i1[q * G + g] < a))) {  \
                    best = m1[q * G + g];                                                      \
                    a = i1[q * G + g];                                                         \
                }                                                                              \
            double rr = (sqrt(xn[q]) + y->mg.cmax) * UPF;                                      \
            double e = y->mg.eps * rr * rr * UPF + y->mg.tiny;                                 \
            double u = sqrt(strata__max2(xn[q] + best + e, 0.0)) * UPF;                        \
            double lmin = INFINITY;                                                            \
            T *lo = (T *)y->lower + (r0 + r) * G;                                              \
            for (int64_t g = 0; g < G; g++) {                                                  \
                if (!need[q * G + g]) {                                                        \
                    lmin = lmin < lc[q * G + g] ? lmin : lc[q * G + g];                        \
                    continue;                                                                  \
                }                                                                              \
                double v = i1[q * G + g] == a ? m2[q * G + g] : m1[q * G + g];                \
                double l = isinf(v) ? v : sqrt(strata__max2(xn[q] + v - e, 0.0)) * DOWNF;     \
                lo[g] = strata__down##SFX(strata__add_down(l, cum_g[g]));                      \
                lmin = lmin < l ? lmin : l;                                                    \
            }                                                                                  \
            lab[r] = a;                                                                        \
            upper[r] = strata__up##SFX(strata__sub_up(u, cum[a]));                             \
            glb[r] = strata__down##SFX(strata__add_down(lmin, y->cum_max));                    \
        }                                                                                      \
    }
SCORE_ROWS(score_rows_f32, float, sgemm, _f32)
SCORE_ROWS(score_rows_f64, double, dgemm, _f64)

/* The global test of rows [0, rows) of a block, one branch-free loop: the
 * bounds are brought from their frames (u = U + cum_a rounded up by
 * (1 + 4 UT), l = L - cum_max rounded down by (1 - 4 UT); the rounding
 * argument of hamerly.c's MOVE_TEST_T: a sum whose result is subnormal is
 * exact, a negative lower bound stays a lower bound and fails). */
#define GLOBAL_TEST_T(NAME, T, UT, KEEPS)                                                      \
    static void NAME(const strata__yinyang *y, const int32_t *old, const T *restrict up,       \
                     const T *restrict gl, int64_t rows, unsigned char *restrict fail)         \
    {                                                                                          \
        const T *cu = y->cum_t, *hf = y->half_t;                                               \
        const T c2 = (T)y->mg.c2_t, eps = (T)y->mg.eps_t, tiny = (T)y->mg.tiny_t;              \
        const T cm = (T)y->cum_max_t;                                                          \
        const T upm = (T)(1.0 + 4.0 * UT), dnm = (T)(1.0 - 4.0 * UT);                         \
        for (int64_t r = 0; r < rows; r++) {                                                   \
            const int32_t a = old[r];                                                          \
            T u = (up[r] + cu[a]) * upm;                                                       \
            T l = (gl[r] - cm) * dnm;                                                          \
            fail[r] = (unsigned char)!KEEPS(u, l, hf[a], c2, eps, tiny);                      \
        }                                                                                      \
    }
GLOBAL_TEST_T(global_test_f32, float, 0x1p-24, strata__keeps_f32)
GLOBAL_TEST_T(global_test_f64, double, 0x1p-53, strata__keeps_f64)

/* The labeller of strata__assign_pass_by(): the global test for every row;
 * for the rows that fail, the exact distance to their centroid, the global
 * test again, the group tests; the rows with a failing group are scored on
 * those groups and their own. */
#define LABEL_ROWS(NAME, T, UT, SFX)                                                           \
    static void NAME(strata__yinyang *y, int64_t r0, int64_t rows, int tid, int32_t *lab)     \
    {                                                                                          \
        const int64_t G = y->groups;                                                           \
        int64_t *todo = y->rows[tid], m = 0;                                                   \
        unsigned char *need = y->need[tid];                                                    \
        if (y->fresh) {                                                                        \
            for (int64_t r = 0; r < rows; r++)                                                 \
                todo[m++] = r;                                                                 \
            memset(need, 1, (size_t)(rows * G));                                               \
            score_rows##SFX(y, r0, todo, m, tid, lab);                                         \
            return;                                                                            \
        }                                                                                      \
        const int32_t *old = y->labels + r0;                                                   \
        T *up = (T *)y->upper + r0, *gl = (T *)y->glb + r0;                                    \
        unsigned char *fail = y->fail[tid];                                                    \
        global_test##SFX(y, old, up, gl, rows, fail);                                          \
        memcpy(lab, old, (size_t)rows * sizeof(int32_t));                                      \
        for (int64_t r = 0; r < rows; r++) { /* branch-free compaction */                      \
            todo[m] = r;                                                                       \
            m += fail[r];                                                                      \
        }                                                                                      \
        const T *hf = y->half_t, *cg = y->cum_g_t;                                             \
        const T c2 = (T)y->mg.c2_t, eps = (T)y->mg.eps_t, tiny = (T)y->mg.tiny_t;              \
        const T cm = (T)y->cum_max_t, dnm = (T)(1.0 - 4.0 * UT);                              \
        double *lc = y->lcur[tid];                                                             \
        int64_t m2 = 0;                                                                        \
        for (int64_t q = 0; q < m; q++) {                                                      \
            const int64_t r = todo[q];                                                         \
            const int32_t a = old[r];                                                          \
            const double ud = strata__dist_up##SFX(y->X, r0 + r, y->t->centroids + a * y->d,   \
                                                   y->d);                                      \
            const T u = strata__up##SFX(ud);                                                   \
            up[r] = strata__up##SFX(strata__sub_up(ud, y->cum[a]));                            \
            if (strata__keeps##SFX(u, (gl[r] - cm) * dnm, hf[a], c2, eps, tiny))               \
                continue;                                                                      \
            const T *lo = (const T *)y->lower + (r0 + r) * G;                                  \
            unsigned char *nd = need + m2 * G;                                                 \
            double *l = lc + m2 * G, lmin = INFINITY;                                          \
            int any = 0;                                                                       \
            for (int64_t g = 0; g < G; g++) {                                                  \
                const T lg = (lo[g] - cg[g]) * dnm;                                            \
                l[g] = (double)lg;                                                             \
                lmin = lmin < l[g] ? lmin : l[g];                                              \
                nd[g] = (unsigned char)!strata__keeps##SFX(u, lg, hf[a], c2, eps, tiny);       \
                any |= nd[g];                                                                  \
            }                                                                                  \
            if (!any) { /* every group passes: a tighter global bound */                       \
                gl[r] = strata__down##SFX(strata__add_down(lmin, y->cum_max));                 \
                continue;                                                                      \
            }                                                                                  \
            nd[y->group[a]] = 1; /* s_a, and its group's bound without a */                    \
            todo[m2++] = r;                                                                    \
        }                                                                                      \
        if (m2)                                                                                \
            score_rows##SFX(y, r0, todo, m2, tid, lab);                                        \
    }
LABEL_ROWS(label_rows_f32, float, 0x1p-24, _f32)
LABEL_ROWS(label_rows_f64, double, 0x1p-53, _f64)

static void label_rows(void *vctx, int64_t r0, int64_t rows, int tid, int32_t *lab)
{
    strata__yinyang *y = vctx;
    if (y->t->dtype == STRATA_FLOAT32)
        label_rows_f32(y, r0, rows, tid, lab);
    else
        label_rows_f64(y, r0, rows, tid, lab);
}

int strata__yinyang_pass_src(strata__yinyang *y, const strata__tables *t,
                             const strata__rowsrc *src, int32_t *labels, double *totals, int mode,
                             char *msg)
{
    const double *c = t->centroids;
    strata__data view;
    prepare(y, t, c);
    y->t = t;
    y->X = &view; /* each block's rows, as the pass hands them out */
    y->labels = labels;
    int rc = strata__assign_pass_src_by(t, src, &view, labels, totals, mode, label_rows, y, msg);
    memcpy(y->c_prev, c, (size_t)(y->k * y->d) * sizeof(double));
    y->fresh = 0;
    y->X = NULL;
    return rc;
}

int strata__yinyang_pass(strata__yinyang *y, const strata__tables *t, const strata__data *X,
                         int32_t *labels, double *totals, int mode)
{
    const double *c = t->centroids;
    prepare(y, t, c);
    y->t = t;
    y->X = X;
    y->labels = labels;
    int rc = strata__assign_pass_by(t, X, labels, totals, mode, label_rows, y);
    memcpy(y->c_prev, c, (size_t)(y->k * y->d) * sizeof(double));
    y->fresh = 0;
    return rc;
}
