/* Kernel bodies written once and compiled per instruction set and element
 * type. The including file defines:
 *   T        element type (float or double)
 *   SFX      name suffix, e.g. _f32_avx512
 *   VEC/IVEC value vector / index vector types, L = lanes
 *   VLOAD(p) VSTORE(p, v) VSET1(s) VSUB(a, b) VFMA(a, b, c) VINF()
 *   IDX(base)                       index vector base + 0..L-1
 *   UPDATE_BEST(acc, best, besti, idx)  keep lanes where acc < best (strict:
 *                                       earlier centroids win ties)
 *   HARGMIN(best, besti)            lowest index among lanes holding the minimum
 *   P, NB    rows and centroid vectors per register block
 *   HARGMIN_P4(best, besti, out)    optional: HARGMIN of four rows at once
 *   HARGMIN_P4_IOTA(best, out)      optional: the same when the index of lane l is l
 *                                   (P must then be 4)
 *   KERNEL_ROWS_NV2, HARGMIN2(a, b) optional, together: rows at a time against two
 *                                   vectors, and the lowest index holding the minimum
 *                                   of the 2 L scores a (indices 0..L-1) and b (L..2L-1)
 *   TOP2_1(v, lab, s1, s2)          optional: of the L scores v (indices 0..L-1), the
 *                                   label (as HARGMIN), its score and the lowest other
 *                                   score (equal to it on a tie) into *lab, *s1, *s2
 *   TOP2_2(a, b, lab, s1, s2)       optional, with KERNEL_ROWS_NV2: the same of 2 L scores
 * and may define KERNEL_OWN_ROW_OPS to supply its own center/accumulate. */
/* An empty asm that takes v as a vector register: the compiler must
 * broadcast from memory first (a load) rather than subtract in a scalar
 * and broadcast the result (a shuffle competing with the FMAs; measured
 * 11% slower, AVX2 2M x 16, k = 16). */
#ifndef KEEP_VECTOR
#define KEEP_VECTOR(v) __asm__("" : "+x"(v))
#endif
#define KCAT_(a, b) a##b
#define KCAT(a, b) KCAT_(a, b)
#define KFN(name) KCAT(name, SFX)

/* The scores of PR rows (row p at x + p * stride) against NV centroid
 * vectors starting at vector v, into acc. Where CENTRE, each value is
 * centred on the way in, x - mean[f]: the subtraction centre_* does, so the
 * same bits as scoring its centred copy, without writing and reading one. */
#define KERNEL_SCORES(NAME, PR, NV)                                                         \
    static inline __attribute__((always_inline)) void NAME(                                  \
        const T *x, int64_t stride, int64_t d, const T *mean, const int CENTRE, const T *ct, \
        const T *bias, int64_t kp, int64_t v, VEC acc[PR][NV])                               \
    {                                                                                         \
        for (int b = 0; b < NV; b++) {                                                        \
            VEC bi = VLOAD(bias + (v + b) * L);                                               \
            for (int p = 0; p < PR; p++)                                                      \
                acc[p][b] = bi;                                                               \
        }                                                                                     \
        _Pragma("GCC unroll 4")                                                               \
        for (int64_t f = 0; f < d; f++) {                                                     \
            const T *c = ct + f * kp + v * L;                                                 \
            VEC cv[NV];                                                                       \
            for (int b = 0; b < NV; b++)                                                      \
                cv[b] = VLOAD(c + b * L);                                                     \
            const VEC mf = VSET1(CENTRE ? mean[f] : (T)0);                                    \
            for (int p = 0; p < PR; p++) {                                                    \
                VEC xb = VSET1(x[p * stride + f]);                                            \
                if (CENTRE) {                                                                 \
                    KEEP_VECTOR(xb);                                                          \
                    xb = VSUB(xb, mf);                                                        \
                }                                                                             \
                for (int b = 0; b < NV; b++)                                                  \
                    acc[p][b] = VFMA(xb, cv[b], acc[p][b]);                                   \
            }                                                                                 \
        }                                                                                     \
    }

/* One register block: PR rows against NV centroid vectors starting at
 * vector v, folded into each row's best so far (SCORES: its scores). */
#define KERNEL_BLOCK(NAME, SCORES, PR, NV)                                                  \
    KERNEL_SCORES(SCORES, PR, NV)                                                             \
    static inline __attribute__((always_inline)) void NAME(                                  \
        const T *x, int64_t stride, int64_t d, const T *mean, const int CENTRE, const T *ct, \
        const T *bias, int64_t kp, int64_t v, VEC *best, IVEC *besti)                        \
    {                                                                                         \
        VEC acc[PR][NV];                                                                      \
        SCORES(x, stride, d, mean, CENTRE, ct, bias, kp, v, acc);                             \
        for (int p = 0; p < PR; p++)                                                          \
            for (int b = 0; b < NV; b++)                                                      \
                UPDATE_BEST(acc[p][b], best[p], besti[p], IDX((int)((v + b) * L)));           \
    }

KERNEL_BLOCK(KFN(block_pn_), KFN(scores_pn_), P, NB)
KERNEL_BLOCK(KFN(block_p2_), KFN(scores_p2_), P, 2)
KERNEL_BLOCK(KFN(block_p1_), KFN(scores_p1_), P, 1)
KERNEL_BLOCK(KFN(block_81_), KFN(scores_81_), 2 * P, 1)
KERNEL_BLOCK(KFN(block_1n_), KFN(scores_1n_), 1, NB)
KERNEL_BLOCK(KFN(block_11_), KFN(scores_11_), 1, 1)
#ifdef KERNEL_ROWS_NV2
KERNEL_SCORES(KFN(scores_r2_), KERNEL_ROWS_NV2, 2)
#endif

static inline __attribute__((always_inline)) void KFN(assign_body_)(
    const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean, const int CENTRE,
    const T *ct, const T *bias, int64_t kp, int32_t *labels)
{
    const int64_t nv = kp / L;
    int64_t r = 0;
    if (nv == 1) {
        /* Few centroids, one vector: eight rows at a time, so that eight
         * independent FMA chains hide the FMA latency (four left the kernel
         * latency-bound at d = 32, k = 8). */
        for (; r + 2 * P <= rows; r += 2 * P) {
            VEC best[2 * P];
            IVEC besti[2 * P];
            for (int p = 0; p < 2 * P; p++) {
                best[p] = VINF();
                besti[p] = IDX(0);
            }
            KFN(block_81_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, 0, best, besti);
#ifdef HARGMIN_P4_IOTA
            /* the lanes are the indices */
            HARGMIN_P4_IOTA(best, labels + r);
            HARGMIN_P4_IOTA(best + 4, labels + r + 4);
#else
            for (int p = 0; p < 2 * P; p++)
                labels[r + p] = HARGMIN(best[p], besti[p]);
#endif
        }
    }
#ifdef KERNEL_ROWS_NV2
    if (nv == 2) {
        /* Two centroid vectors: KERNEL_ROWS_NV2 rows at a time, for more
         * independent FMA chains than P rows give (the including file sets
         * it where the registers hold 2 x KERNEL_ROWS_NV2 accumulators). */
        for (; r + KERNEL_ROWS_NV2 <= rows; r += KERNEL_ROWS_NV2) {
            /* the argmin of both vectors at once, no running best */
            VEC acc[KERNEL_ROWS_NV2][2];
            KFN(scores_r2_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, 0, acc);
            for (int p = 0; p < KERNEL_ROWS_NV2; p++)
                labels[r + p] = HARGMIN2(acc[p][0], acc[p][1]);
        }
    }
#endif
    for (; r + P <= rows; r += P) {
        VEC best[P];
        IVEC besti[P];
        for (int p = 0; p < P; p++) {
            best[p] = VINF();
            besti[p] = IDX(0);
        }
        int64_t v = 0;
        for (; v + NB <= nv; v += NB)
            KFN(block_pn_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, best, besti);
        for (; v + 2 <= nv; v += 2)
            KFN(block_p2_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, best, besti);
        for (; v < nv; v++)
            KFN(block_p1_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, best, besti);
#if defined(HARGMIN_P4) && P == 4
        HARGMIN_P4(best, besti, labels + r);
#else
        for (int p = 0; p < P; p++)
            labels[r + p] = HARGMIN(best[p], besti[p]);
#endif
    }
    for (; r < rows; r++) {
        VEC best[1] = {VINF()};
        IVEC besti[1] = {IDX(0)};
        int64_t v = 0;
        for (; v + NB <= nv; v += NB)
            KFN(block_1n_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, best, besti);
        for (; v < nv; v++)
            KFN(block_11_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, best, besti);
        labels[r] = HARGMIN(best[0], besti[0]);
    }
}

/* mean NULL: the rows are centred already */
static void KFN(assign)(const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean,
                        const T *ct, const T *bias, int64_t kp, int32_t *labels)
{
    if (mean)
        KFN(assign_body_)(x, rows, stride, d, mean, 1, ct, bias, kp, labels);
    else
        KFN(assign_body_)(x, rows, stride, d, NULL, 0, ct, bias, kp, labels);
}

/* The label (lowest index among the minima) and the two lowest of n
 * scores s of columns j0.., folded into the running (*b1, *i1, *b2) of a row:
 * b2 takes a score equal to b1 (a tie), so b1 == b2 says so. */
static inline void KFN(top2_scan_)(const T *s, int64_t n, int64_t j0, T *b1, int32_t *i1, T *b2)
{
    for (int64_t j = 0; j < n; j++) {
        const T v = s[j];
        if (v < *b1) {
            *b2 = *b1;
            *b1 = v;
            *i1 = (int32_t)(j0 + j);
        } else if (v < *b2) {
            *b2 = v;
        }
    }
}

static inline __attribute__((always_inline)) void KFN(assign2_body_)(
    const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean, const int CENTRE,
    const T *ct, const T *bias, int64_t kp, int32_t *labels, T *s1, T *s2)
{
    const int64_t nv = kp / L;
    int64_t r = 0;
#ifdef TOP2_1
    if (nv == 1)
        for (; r + 2 * P <= rows; r += 2 * P) {
            VEC acc[2 * P][1];
            KFN(scores_81_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, 0, acc);
            for (int p = 0; p < 2 * P; p++)
                TOP2_1(acc[p][0], labels + r + p, s1 + r + p, s2 + r + p);
        }
#endif
#if defined(KERNEL_ROWS_NV2) && defined(TOP2_2)
    if (nv == 2)
        for (; r + KERNEL_ROWS_NV2 <= rows; r += KERNEL_ROWS_NV2) {
            VEC acc[KERNEL_ROWS_NV2][2];
            KFN(scores_r2_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, 0, acc);
            for (int p = 0; p < KERNEL_ROWS_NV2; p++)
                TOP2_2(acc[p][0], acc[p][1], labels + r + p, s1 + r + p, s2 + r + p);
        }
#endif
    for (; r < rows; r++) { /* any shape: a row at a time, its scores scanned */
        T b1 = (T)INFINITY, b2 = (T)INFINITY, buf[NB * L];
        int32_t i1 = 0;
        int64_t v = 0;
        for (; v + NB <= nv; v += NB) {
            VEC acc[1][NB];
            KFN(scores_1n_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, acc);
            for (int b = 0; b < NB; b++)
                VSTORE(buf + b * L, acc[0][b]);
            KFN(top2_scan_)(buf, NB * L, v * L, &b1, &i1, &b2);
        }
        for (; v < nv; v++) {
            VEC acc[1][1];
            KFN(scores_11_)(x + r * stride, stride, d, mean, CENTRE, ct, bias, kp, v, acc);
            VSTORE(buf, acc[0][0]);
            KFN(top2_scan_)(buf, L, v * L, &b1, &i1, &b2);
        }
        labels[r] = i1;
        s1[r] = b1;
        s2[r] = b2;
    }
}

/* assign's labels, and the two lowest scores of each row (kernels.h) */
static void KFN(assign2)(const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean,
                         const T *ct, const T *bias, int64_t kp, int32_t *labels, T *s1, T *s2)
{
    if (mean)
        KFN(assign2_body_)(x, rows, stride, d, mean, 1, ct, bias, kp, labels, s1, s2);
    else
        KFN(assign2_body_)(x, rows, stride, d, NULL, 0, ct, bias, kp, labels, s1, s2);
}

static inline __attribute__((always_inline)) void KFN(norms_body_)(
    const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean, const int CENTRE, T *out)
{
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * stride;
        VEC acc = VSET1((T)0);
        int64_t f = 0;
        for (; f + L <= d; f += L) {
            VEC v = VLOAD(xr + f);
            if (CENTRE)
                v = VSUB(v, VLOAD(mean + f));
            acc = VFMA(v, v, acc);
        }
        T lane[L], s = 0;
        VSTORE(lane, acc);
        for (int l = 0; l < L; l++)
            s += lane[l];
        for (; f < d; f++) {
            const T v = CENTRE ? xr[f] - mean[f] : xr[f];
            s += v * v;
        }
        out[r] = s;
    }
}

/* Squared norms of the (centred) rows, summed in T (kernels.h) */
static void KFN(norms)(const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean, T *out)
{
    if (mean)
        KFN(norms_body_)(x, rows, stride, d, mean, 1, out);
    else
        KFN(norms_body_)(x, rows, stride, d, NULL, 0, out);
}

/* Whether assign should centre on the way in at kp columns: the
 * subtraction is repeated for each register block of centroid vectors a row
 * meets, so it pays only where one block holds them all and feeds several
 * FMAs a value (docs/performance.md, "Zen 5, session 11": with one
 * vector the subtraction cost as much as the copy it saves, 1.46x at AVX2
 * d = 32, k = 8; two blocks or more lost 6% at AVX2 d = 8, k = 64). */
static int KFN(centre_in)(int64_t kp)
{
    const int64_t nv = kp / L;
#ifdef KERNEL_ROWS_NV2
    if (nv == 2)
        return 1;
#endif
    return nv > 1 && nv == NB;
}

static void KFN(argmin)(const T *scores, int64_t rows, const T *bias, int64_t kp,
                        int32_t *labels)
{
    const int64_t nv = kp / L;
    for (int64_t r = 0; r < rows; r++) {
        const T *s = scores + r * kp;
        VEC best = VINF();
        IVEC besti = IDX(0);
        for (int64_t v = 0; v < nv; v++) {
            VEC acc = VLOAD(bias + v * L) + VLOAD(s + v * L);
            UPDATE_BEST(acc, best, besti, IDX((int)(v * L)));
        }
        labels[r] = HARGMIN(best, besti);
    }
}

/* All scores of few columns (k-means++ trials), kept in registers per row. */
static void KFN(scores)(const T *xc, int64_t rows, int64_t d, const T *ct, const T *bias,
                        int64_t kp, T *out)
{
    const int64_t nv = kp / L;
    int64_t r = 0;
    if (nv == 1) /* the usual case: all columns in one register; four rows
                    at a time so the FMA chains overlap */
        for (; r + 4 <= rows; r += 4) {
            const T *x = xc + r * d;
            VEC a0 = VLOAD(bias), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t f = 0; f < d; f++) {
                VEC c = VLOAD(ct + f * L);
                a0 = VFMA(VSET1(x[f]), c, a0);
                a1 = VFMA(VSET1(x[d + f]), c, a1);
                a2 = VFMA(VSET1(x[2 * d + f]), c, a2);
                a3 = VFMA(VSET1(x[3 * d + f]), c, a3);
            }
            VSTORE(out + r * L, a0);
            VSTORE(out + (r + 1) * L, a1);
            VSTORE(out + (r + 2) * L, a2);
            VSTORE(out + (r + 3) * L, a3);
        }
    for (; r < rows; r++) {
        const T *x = xc + r * d;
        VEC acc[STRATA__SCORES_MAX_V];
        for (int64_t v = 0; v < nv; v++)
            acc[v] = VLOAD(bias + v * L);
        for (int64_t f = 0; f < d; f++) {
            VEC xb = VSET1(x[f]);
            for (int64_t v = 0; v < nv; v++)
                acc[v] = VFMA(xb, VLOAD(ct + f * kp + v * L), acc[v]);
        }
        for (int64_t v = 0; v < nv; v++)
            VSTORE(out + r * kp + v * L, acc[v]);
    }
}

#ifndef KERNEL_OWN_ROW_OPS
static void KFN(center)(const T *x, int64_t rows, int64_t stride, int64_t d, const T *mean,
                        T *out)
{
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * stride;
        T *o = out + r * d;
        for (int64_t f = 0; f < d; f++)
            o[f] = xr[f] - mean[f];
    }
}

static void KFN(accumulate)(const T *x, int64_t rows, int64_t stride, int64_t d,
                            const int32_t *labels, const double *w, const double *c,
                            double *sums, double *wsum, double *inertia)
{
    double in = inertia ? *inertia : 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * stride;
        const int64_t l = labels[r];
        const double wr = w ? w[r] : 1.0;
        double *s = sums + l * d;
        for (int64_t f = 0; f < d; f++)
            s[f] += wr * (double)xr[f];
        wsum[l] += wr;
        if (inertia) {
            const double *cl = c + l * d;
            double dist = 0.0;
            for (int64_t f = 0; f < d; f++) {
                double diff = (double)xr[f] - cl[f];
                dist += diff * diff;
            }
            in += wr * dist;
        }
    }
    if (inertia)
        *inertia = in;
}
#endif

#undef KERNEL_BLOCK
#undef KFN
#undef KCAT
#undef KCAT_
