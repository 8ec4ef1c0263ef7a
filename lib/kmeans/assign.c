/* The assignment pass: label every row with its nearest centroid and, in the
 * same pass over the data, accumulate per-cluster sums, weights, inertia and
 * the number of changed labels, per fixed chunk, reduced along the fixed chunk tree (core/parallel.h). */
#include "kmeans/assign.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/mem.h"
#include "core/parallel.h"

/* Measured on AMD Zen 5 (docs/performance.md, table 3): the AVX-512 fused
 * kernel beats OpenBLAS GEMM + argmin at every k x d tried (up to k = 2048,
 * d = 1024); with AVX2, GEMM wins from k*d = 1024 when d >= 16 (at d = 8 the
 * fused kernel stays ahead up to k = 256); the portable kernel loses to GEMM
 * as soon as k*d reaches 64. */
int strata__assign_choose(int kernel, int64_t k, int64_t d)
{
    switch (kernel) {
    case STRATA_KERNEL_AVX512: return STRATA_ASSIGN_FUSED;
    case STRATA_KERNEL_AVX2:
        return d >= 16 && k * d >= 1024 ? STRATA_ASSIGN_GEMM : STRATA_ASSIGN_FUSED;
    default: return k * d >= 64 ? STRATA_ASSIGN_GEMM : STRATA_ASSIGN_FUSED;
    }
}

int strata__assign_resolve(const strata__kmeans_cfg *cfg, int64_t k, int64_t d, int *assign,
                           char *msg)
{
    int st = STRATA_OK;
    *assign = cfg->assign == STRATA_ASSIGN_AUTO ? strata__assign_choose(cfg->kern->id, k, d)
                                                : cfg->assign;
    if (*assign == STRATA_ASSIGN_GEMM && !strata__blas_get(&st, cfg->assign == STRATA_ASSIGN_AUTO ? NULL : msg)) {
        if (cfg->assign != STRATA_ASSIGN_AUTO)
            return st;
        *assign = STRATA_ASSIGN_FUSED; /* the same labels up to the last bits of ties */
    }
    return STRATA_OK;
}

static int64_t round_up(int64_t v, int64_t m)
{
    return (v + m - 1) / m * m;
}

void strata__tables_free(strata__tables *t)
{
    strata__free(t->ct);
    strata__free(t->bias);
    strata__free(t->mean);
    strata__free(t->mean_used);
    for (int i = 0; i < t->threads; i++) {
        if (t->xc)
            strata__free(t->xc[i]);
        if (t->scores)
            strata__free(t->scores[i]);
        if (t->lab)
            strata__free(t->lab[i]);
    }
    strata__free(t->xc);
    strata__free(t->scores);
    strata__free(t->lab);
    memset(t, 0, sizeof *t);
}

int strata__tables_init(strata__tables *t, const strata__data *X, int64_t k, const double *mean,
                        const strata__kernels *kern, int assign, int threads)
{
    memset(t, 0, sizeof *t);
    const size_t es = strata__dtype_size(X->dtype);
    const int lanes = X->dtype == STRATA_FLOAT32 ? kern->lanes_f32 : kern->lanes_f64;
    t->kern = kern;
    t->assign = assign;
    t->dtype = X->dtype;
    t->d = X->d;
    t->k = k;
    t->kp = round_up(k, lanes);
    t->threads = threads;
    if (assign == STRATA_ASSIGN_GEMM) { /* loaded by strata__assign_resolve() */
        int st;
        if (!(t->blas = strata__blas_get(&st, NULL)))
            return st;
    }
    t->ct = strata__alloc((size_t)(t->kp * X->d), es);
    t->bias = strata__alloc((size_t)t->kp, es);
    t->mean = strata__alloc((size_t)X->d, es);
    t->xc = strata__calloc((size_t)threads, sizeof(void *));
    t->scores = strata__calloc((size_t)threads, sizeof(void *));
    t->lab = strata__calloc((size_t)threads, sizeof(int32_t *));
    if (!t->ct || !t->bias || !t->mean || !t->xc || !t->scores || !t->lab)
        goto nomem;
    for (int i = 0; i < threads; i++) {
        t->xc[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * X->d), es);
        t->lab[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(int32_t));
        if (!t->xc[i] || !t->lab[i])
            goto nomem;
        if (assign == STRATA_ASSIGN_GEMM || t->kp / lanes <= STRATA__SCORES_MAX_V) {
            t->scores[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * t->kp), es);
            if (!t->scores[i])
                goto nomem;
        }
    }
    /* The centring mean is rounded to the element type, and the centroids are
     * centred by exactly that rounded value, so both sides agree. */
    t->mean_used = strata__alloc((size_t)X->d, sizeof(double));
    if (!t->mean_used)
        goto nomem;
    for (int64_t f = 0; f < X->d; f++) {
        if (X->dtype == STRATA_FLOAT32) {
            ((float *)t->mean)[f] = (float)mean[f];
            t->mean_used[f] = (double)(float)mean[f];
        } else {
            ((double *)t->mean)[f] = mean[f];
            t->mean_used[f] = mean[f];
        }
    }
    return STRATA_OK;
nomem:
    strata__tables_free(t);
    return STRATA_E_NOMEM;
}

void strata__tables_set_centroids(strata__tables *t, const double *c)
{
    const int64_t d = t->d, k = t->k, kp = t->kp;
    for (int64_t j = 0; j < kp; j++) {
        double norm = 0.0;
        for (int64_t f = 0; f < d; f++) {
            double cf = j < k ? c[j * d + f] - t->mean_used[f] : 0.0;
            norm += cf * cf;
            if (t->dtype == STRATA_FLOAT32)
                ((float *)t->ct)[f * kp + j] = (float)(-2.0 * cf);
            else
                ((double *)t->ct)[f * kp + j] = -2.0 * cf;
        }
        if (t->dtype == STRATA_FLOAT32)
            ((float *)t->bias)[j] = j < k ? (float)norm : INFINITY;
        else
            ((double *)t->bias)[j] = j < k ? norm : INFINITY;
    }
    t->centroids = c;
}

/* Centred on the way in where the kernel says that pays (no copy written
 * and read back), else into the thread's scratch first: the same bits. */
void strata__assign_fused_rows(const strata__tables *t, const strata__data *X, int64_t r0,
                               int64_t rows, int tid, int32_t *lab)
{
    const strata__kernels *kn = t->kern;
    const int64_t d = t->d, kp = t->kp;
    if (t->dtype == STRATA_FLOAT32) {
        const float *x = strata__row(X, r0);
        if (kn->centre_in_f32(kp)) {
            kn->assign_f32(x, rows, X->stride, d, t->mean, t->ct, t->bias, kp, lab);
        } else {
            kn->center_f32(x, rows, X->stride, d, t->mean, t->xc[tid]);
            kn->assign_f32(t->xc[tid], rows, d, d, NULL, t->ct, t->bias, kp, lab);
        }
    } else {
        const double *x = strata__row(X, r0);
        if (kn->centre_in_f64(kp)) {
            kn->assign_f64(x, rows, X->stride, d, t->mean, t->ct, t->bias, kp, lab);
        } else {
            kn->center_f64(x, rows, X->stride, d, t->mean, t->xc[tid]);
            kn->assign_f64(t->xc[tid], rows, d, d, NULL, t->ct, t->bias, kp, lab);
        }
    }
}

/* Whether the tables label rows through the fused kernel on rows as they
 * come (centred on the way in or into the scratch there). */
static int fused_rows(const strata__tables *t)
{
    const strata__kernels *kn = t->kern;
    return t->assign == STRATA_ASSIGN_FUSED &&
           !(t->dtype == STRATA_FLOAT32 ? kn->assign_few_f32 && kn->few_f32(t->k, t->d)
                                        : kn->assign_few_f64 && kn->few_f64(t->k, t->d));
}

void strata__assign_label_centred(const strata__tables *t, int64_t rows, int tid, int32_t *lab)
{
    const strata__kernels *kn = t->kern;
    const int64_t d = t->d, kp = t->kp;
    const int fused = fused_rows(t);
    if (t->dtype == STRATA_FLOAT32) {
        const float *xc = t->xc[tid];
        if (fused) {
            kn->assign_f32(xc, rows, d, d, NULL, t->ct, t->bias, kp, lab);
        } else if (t->assign == STRATA_ASSIGN_FUSED) {
            kn->assign_few_f32(xc, rows, d, t->ct, t->bias, t->k, kp, lab);
        } else {
            float *s = t->scores[tid];
            t->blas->sgemm((int)rows, (int)kp, (int)d, xc, (int)d, t->ct, (int)kp, s, (int)kp);
            kn->argmin_f32(s, rows, t->bias, kp, lab);
        }
    } else {
        const double *xc = t->xc[tid];
        if (fused) {
            kn->assign_f64(xc, rows, d, d, NULL, t->ct, t->bias, kp, lab);
        } else if (t->assign == STRATA_ASSIGN_FUSED) {
            kn->assign_few_f64(xc, rows, d, t->ct, t->bias, t->k, kp, lab);
        } else {
            double *s = t->scores[tid];
            t->blas->dgemm((int)rows, (int)kp, (int)d, xc, (int)d, t->ct, (int)kp, s, (int)kp);
            kn->argmin_f64(s, rows, t->bias, kp, lab);
        }
    }
}

/* Label rows [r0, r0 + rows) into lab using thread tid's scratch. Centring
 * streams the rows in order (the transposing kernel reading them straight
 * from memory, 64 bytes per row at a time, measured 1.5x slower at d = 32).
 * Rows in lanes pay a transpose to save a horizontal argmin per row; each
 * kernel table says where that was measured to pay. */
static void label_block(const strata__tables *t, const strata__data *X, int64_t r0, int64_t rows,
                        int tid, int32_t *lab)
{
    if (fused_rows(t)) {
        strata__assign_fused_rows(t, X, r0, rows, tid, lab);
        return;
    }
    if (t->dtype == STRATA_FLOAT32)
        t->kern->center_f32(strata__row(X, r0), rows, X->stride, t->d, t->mean, t->xc[tid]);
    else
        t->kern->center_f64(strata__row(X, r0), rows, X->stride, t->d, t->mean, t->xc[tid]);
    strata__assign_label_centred(t, rows, tid, lab);
}

void strata__assign_label_rows(const strata__tables *t, const strata__data *X, int64_t r0,
                               int64_t rows, int tid, int32_t *lab)
{
    label_block(t, X, r0, rows, tid, lab);
}

/* ||x'||^2 of a centred float64 row in double: four running sums (feature f
 * into sum f mod 4, the tail into sum 0) so the additions do not wait on
 * each other, then (s0 + s1) + (s2 + s3); float32 rows the same way in the
 * kernel (norms64_f32). Built without FMA: every product is rounded. */
static double centred_norm_f64(const double *x, int64_t d)
{
    int64_t f = 0;
#if defined(__SSE2__)
    __m128d a01 = _mm_setzero_pd(), a23 = _mm_setzero_pd();
    for (; f + 4 <= d; f += 4) {
        const __m128d lo = _mm_loadu_pd(x + f), hi = _mm_loadu_pd(x + f + 2);
        a01 = _mm_add_pd(a01, _mm_mul_pd(lo, lo));
        a23 = _mm_add_pd(a23, _mm_mul_pd(hi, hi));
    }
    for (; f < d; f++)
        a01 = _mm_add_sd(a01, _mm_set_sd(x[f] * x[f]));
    double a[4];
    _mm_storeu_pd(a, a01);
    _mm_storeu_pd(a + 2, a23);
#else
    double a[4] = {0.0, 0.0, 0.0, 0.0};
    for (; f + 4 <= d; f += 4)
        for (int q = 0; q < 4; q++)
            a[q] += x[f + q] * x[f + q];
    for (; f < d; f++)
        a[0] += x[f] * x[f];
#endif
    return (a[0] + a[1]) + (a[2] + a[3]);
}

/* Centre the block once: the norms and the scores both read it. */
const void *strata__tables_block_scores(const strata__tables *t, const strata__data *X, int64_t r0,
                                        int64_t rows, int tid, double *xnorm)
{
    const int64_t d = t->d, kp = t->kp;
    if (t->dtype == STRATA_FLOAT32) {
        float *xc = t->xc[tid], *s = t->scores[tid];
        t->kern->center_f32(strata__row(X, r0), rows, X->stride, d, t->mean, xc);
        t->kern->norms64_f32(xc, rows, d, xnorm);
        t->kern->scores_f32(xc, rows, d, t->ct, t->bias, kp, s);
        return s;
    }
    double *xc = t->xc[tid], *s = t->scores[tid];
    t->kern->center_f64(strata__row(X, r0), rows, X->stride, d, t->mean, xc);
    for (int64_t r = 0; r < rows; r++)
        xnorm[r] = centred_norm_f64(xc + r * d, d);
    t->kern->scores_f64(xc, rows, d, t->ct, t->bias, kp, s);
    return s;
}

/* Ask for rows [r0, r1) ahead of use. The centring copy of a block is where
 * the data leave DRAM; prefetching the next block while this one is labelled
 * overlaps that wait with the arithmetic (worth ~25% at 2 threads, d = 8). */
void strata__prefetch_rows(const strata__data *X, int64_t r0, int64_t r1)
{
    if (r0 >= r1)
        return;
    const char *p = strata__row(X, r0);
    const char *end = (const char *)strata__row(X, r1 - 1) + (size_t)X->d * strata__dtype_size(X->dtype);
    for (; p < end; p += 64)
        __builtin_prefetch(p, 0, 3);
}

/* Row data per block (see pass_chunk). */
#define BLOCK_BYTES 4096
typedef struct pass_ctx {
    const strata__tables *t;
    const strata__data *X;
    int32_t *labels;
    int mode;
    strata__labeler_fn labeler; /* NULL: label_block() */
    void *lctx;
} pass_ctx;

/* Bit r of the result: lab[r] != old[r], for the n <= 64 rows from lab and
 * old. Four rows a compare (SSE2, every x86-64), so the rows that move are
 * found without a branch per row or per group of rows. */
static uint64_t moved_bits(const int32_t *lab, const int32_t *old, int64_t n)
{
    uint64_t m = 0;
    int64_t r = 0;
#if defined(__SSE2__)
    for (; r + 4 <= n; r += 4) {
        const __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(lab + r)),
                                           _mm_loadu_si128((const __m128i *)(old + r)));
        m |= (uint64_t)(~(unsigned)_mm_movemask_ps(_mm_castsi128_ps(eq)) & 0xFu) << r;
    }
#endif
    for (; r < n; r++)
        m |= (uint64_t)(lab[r] != old[r]) << r;
    return m;
}

/* The bookkeeping for rows [r0, r0 + rows) whose new label lab[r] differs
 * from the old one: each moves its weight to moved[] of both clusters (of
 * the new one only where there was no old label, -1), and, in a DELTA pass
 * (sums not NULL), its weighted values between the two clusters' sums, in
 * row order (so the same labels give the same bits); the old label is
 * replaced. Returns how many changed. Most rows keep their label: the
 * moved ones of 64 rows are found at once as bits and visited in order
 * (a branch per group of 16 rows and a loop over the group's moved rows,
 * as before, mispredicted so often that a moved row cost ~24 ns at 3%
 * moved, 18 ns now; docs/performance.md, "Zen 5, session 11"). */
static int64_t move_rows(const strata__data *X, int64_t r0, int64_t rows, const int32_t *lab,
                         int32_t *old, int64_t d, double *sums, double *wsum, double *moved)
{
    int64_t changed = 0;
    for (int64_t q = 0; q < rows; q += 64) {
        uint64_t bits = moved_bits(lab + q, old + q, rows - q < 64 ? rows - q : 64);
        changed += __builtin_popcountll(bits);
        for (; bits; bits &= bits - 1) {
            const int64_t r = q + __builtin_ctzll(bits), i = r0 + r, a = lab[r], b = old[r];
            const double w = X->w ? X->w[i] : 1.0;
            old[r] = lab[r];
            moved[a] += w;
            if (!sums) { /* an UPDATE pass sums afresh: only the moved weights */
                if (b >= 0)
                    moved[b] += w;
                continue;
            }
            double *restrict sa = sums + a * d, *restrict sb = sums + b * d; /* a != b */
            /* typed loops the compiler vectorises (w x with w = 1 is x) */
            if (X->w)
                for (int64_t f = 0; f < d; f++) {
                    const double v = w * strata__at(X, i, f);
                    sa[f] += v;
                    sb[f] -= v;
                }
            else if (X->dtype == STRATA_FLOAT32) {
                const float *x = strata__row(X, i);
                for (int64_t f = 0; f < d; f++) {
                    sa[f] += (double)x[f];
                    sb[f] -= (double)x[f];
                }
            } else {
                const double *x = strata__row(X, i);
                for (int64_t f = 0; f < d; f++) {
                    sa[f] += x[f];
                    sb[f] -= x[f];
                }
            }
            wsum[a] += w;
            wsum[b] -= w;
            moved[b] += w;
        }
    }
    return changed;
}

/* Partial layout: [sums k*d][weights k][inertia][changed labels][moved k]. */
static void pass_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                       double *partial)
{
    const pass_ctx *c = vctx;
    const strata__tables *t = c->t;
    const strata__data *X = strata__chunk_view(c->X, tid);
    const int64_t k = t->k, d = t->d;
    /* PASS_LABEL has no partial (NULL): no offset from it (UB, clang's UBSan) */
    double *inertia = c->mode == STRATA__PASS_UPDATE || c->mode == STRATA__PASS_DELTA ||
                              c->mode == STRATA__PASS_LABEL
                          ? NULL : partial + k * d + k;
    /* Blocks of about 4 KiB of row data: the next block's prefetch then fits
     * the core's outstanding-miss capacity (measured: 1M x 32, k = 8 took
     * 15.4 ms per iteration on one thread with 32 KiB blocks, 12.2 with 4 KiB). */
    int64_t block = BLOCK_BYTES / (d * (int64_t)strata__dtype_size(X->dtype));
    block = block < 16 ? 16 : block > STRATA__BLOCK_ROWS ? STRATA__BLOCK_ROWS : block;
    for (int64_t r0 = begin; r0 < end; r0 += block) {
        int64_t rows = end - r0 < block ? end - r0 : block;
        int64_t next_end = r0 + rows + block;
        /* Also where a bounded algorithm reads only some rows: those are
         * scattered, and a miss each costs more than streaming the block. */
        strata__prefetch_rows(X, r0 + rows, next_end < end ? next_end : end);
        const int32_t *lab = c->labels + r0;
        if (c->mode != STRATA__PASS_INERTIA) {
            if (c->labeler)
                c->labeler(c->lctx, r0, rows, tid, t->lab[tid]);
            else
                label_block(t, X, r0, rows, tid, t->lab[tid]);
            lab = t->lab[tid];
            if (c->mode == STRATA__PASS_LABEL) {
                memcpy(c->labels + r0, lab, (size_t)rows * sizeof(int32_t));
                continue;
            }
            if (c->mode == STRATA__PASS_DELTA) {
                partial[k * d + k + 1] +=
                    (double)move_rows(X, r0, rows, lab, c->labels + r0, d, partial,
                                      partial + k * d, partial + k * d + k + 2);
                continue;
            }
            partial[k * d + k + 1] += (double)move_rows(X, r0, rows, lab, c->labels + r0, d, NULL,
                                                        NULL, partial + k * d + k + 2);
        }
        const double *w = X->w ? X->w + r0 : NULL;
        if (X->dtype == STRATA_FLOAT32)
            t->kern->accumulate_f32(strata__row(X, r0), rows, X->stride, d, lab, w, t->centroids,
                                    partial, partial + k * d, inertia);
        else
            t->kern->accumulate_f64(strata__row(X, r0), rows, X->stride, d, lab, w, t->centroids,
                                    partial, partial + k * d, inertia);
    }
}

int64_t strata__pass_len(const strata__tables *t)
{
    return t->k * t->d + 2 * t->k + 2;
}

int strata__assign_pass(const strata__tables *t, const strata__data *X, int32_t *labels,
                        double *totals, int mode)
{
    return strata__assign_pass_by(t, X, labels, totals, mode, NULL, NULL);
}

int strata__assign_pass_src(const strata__tables *t, const strata__rowsrc *src, int32_t *labels,
                            double *totals, int mode, char *msg)
{
    strata__data view;
    return strata__assign_pass_src_by(t, src, &view, labels, totals, mode, NULL, NULL, msg);
}

int strata__assign_pass_src_by(const strata__tables *t, const strata__rowsrc *src,
                               strata__data *view, int32_t *labels, double *totals, int mode,
                               strata__labeler_fn fn, void *ctx, char *msg)
{
    pass_ctx c = {t, view, labels, mode, fn, ctx};
    int64_t len = mode == STRATA__PASS_LABEL ? 0 : strata__pass_len(t);
    if (len)
        memset(totals, 0, (size_t)len * sizeof(double));
    return strata__rowsrc_pass(src, t->threads, len, len ? totals : NULL, pass_chunk, &c, view,
                               msg);
}

int strata__assign_pass_by(const strata__tables *t, const strata__data *X, int32_t *labels,
                           double *totals, int mode, strata__labeler_fn fn, void *ctx)
{
    pass_ctx c = {t, X, labels, mode, fn, ctx};
    int64_t len = mode == STRATA__PASS_LABEL ? 0 : strata__pass_len(t);
    if (len)
        memset(totals, 0, (size_t)len * sizeof(double));
    return strata__parallel_chunks(X->n, STRATA__CHUNK_ROWS, t->threads, len, len ? totals : NULL,
                                   pass_chunk, &c);
}
