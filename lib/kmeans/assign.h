/* Assignment of rows to centroids (internal to lib/kmeans). */
#ifndef STRATA_KMEANS_ASSIGN_H
#define STRATA_KMEANS_ASSIGN_H

#include "kernels/blas.h"
#include "kmeans/kmeans.h"

/* Rows centred and labelled together; sized so a block stays in L1/L2. */
#define STRATA__BLOCK_ROWS 256

/* Centroid tables in the data's element type plus per-thread scratch. */
typedef struct strata__tables {
    const strata__kernels *kern;
    int assign, dtype, threads;
    const strata__blas *blas; /* GEMM only */
    int64_t d, k, kp;
    void *ct;          /* d x kp: -2 * centred centroids */
    void *bias;        /* kp: squared norms of the centred centroids, +inf padding */
    void *mean;        /* d: centring mean in the element type */
    double *mean_used; /* the same mean as double */
    const double *centroids; /* k x d, as last set */
    void **xc;         /* per thread: centred block */
    void **scores;     /* per thread: block of scores (GEMM output, or block_scores) */
    int32_t **lab;     /* per thread: block labels */
} strata__tables;

int strata__tables_init(strata__tables *t, const strata__data *X, int64_t k, const double *mean,
                        const strata__kernels *kern, int assign, int threads);
void strata__tables_free(strata__tables *t);
/* Rebuild the tables for centroids c (k x d, kept by pointer until the next call). */
void strata__tables_set_centroids(strata__tables *t, const double *c);

/* Rows [r0, r0 + rows) of X (rows <= STRATA__BLOCK_ROWS) against the k
 * table centroids: returns their scores, rows x kp in the element type in
 * thread tid's scratch (bias_j + x' . ct[:, j], the bits the assignment
 * compares), and puts each row's ||x_r - m||^2 in double into xnorm (m the
 * table's centring mean; the same bits from any table with that mean). The
 * squared distance to centroid j is xnorm[r] + score, clamped at 0. Needs
 * kp / lanes <= STRATA__SCORES_MAX_V. */
const void *strata__tables_block_scores(const strata__tables *t, const strata__data *X, int64_t r0,
                                        int64_t rows, int tid, double *xnorm);

/* Ask for rows [r0, r1) of X ahead of use (no-op when r0 >= r1): the next
 * block's rows are prefetched while this one is scored. */
void strata__prefetch_rows(const strata__data *X, int64_t r0, int64_t r1);

/* Length of the totals vector of a pass. */
int64_t strata__pass_len(const strata__tables *t);
/* What a pass over the rows does. */
enum strata__pass_mode {
    STRATA__PASS_LABEL,          /* labels only (totals NULL) */
    STRATA__PASS_UPDATE,         /* label; count changes against `labels`; sums and weights */
    STRATA__PASS_UPDATE_INERTIA, /* the same plus the inertia, sum of w ||x - c_label||^2 */
    STRATA__PASS_INERTIA,        /* `labels` as given: sums, weights and the inertia */
    STRATA__PASS_DELTA,          /* label; count changes; only the rows whose label
                                    changes (all labels >= 0 before): + w x into the
                                    new cluster's sums, - w x out of the old one's,
                                    the weights likewise, and w into `moved` of both */
};

/* One pass over all rows. Except in STRATA__PASS_LABEL, accumulates
 * [sums k*d][weights k][inertia][changed][moved k] into totals (cleared
 * first; the inertia is 0 and `moved` 0 where the mode leaves them out),
 * reduced along the chunk tree (core/parallel.h), everything in double. Sums are of the raw rows (not centred).
 * A DELTA pass touches only the rows that change cluster: later Lloyd
 * iterations then read the data once (labels) instead of twice, and the
 * bounded algorithms not at all for the rows their bounds vouch for. */
int strata__assign_pass(const strata__tables *t, const strata__data *X, int32_t *labels,
                        double *totals, int mode);

/* strata__assign_pass() over any row source (a stream's blocks give the
 * same bits); the status of a failed read or allocation with msg set. */
int strata__assign_pass_src(const strata__tables *t, const strata__rowsrc *src, int32_t *labels,
                            double *totals, int mode, char *msg);

/* The fused kernel's labels of rows [r0, r0 + rows) of X (rows <=
 * STRATA__BLOCK_ROWS) into lab, on thread tid (its centring scratch where
 * the kernel does not centre on the way in), whatever t->assign says. */
void strata__assign_fused_rows(const strata__tables *t, const strata__data *X, int64_t r0,
                               int64_t rows, int tid, int32_t *lab);

/* Lloyd's labels of rows [r0, r0 + rows) of X (rows <= STRATA__BLOCK_ROWS)
 * into lab, on thread tid (its scratch), by the tables' kernel: what a pass
 * without a labeller computes. A row's label depends on that row only. */
void strata__assign_label_rows(const strata__tables *t, const strata__data *X, int64_t r0,
                               int64_t rows, int tid, int32_t *lab);

/* The same labels for rows already centred into thread tid's scratch
 * t->xc[tid] (rows x d, contiguous; the kernels' centring, x - mean in the
 * element type, bit for bit). */
void strata__assign_label_centred(const strata__tables *t, int64_t rows, int tid, int32_t *lab);

/* Labels rows [r0, r0 + rows) (rows <= STRATA__BLOCK_ROWS) into lab, on
 * thread tid, in place of the tables' kernel; the pass's `labels` still hold
 * the rows' previous labels. The bounded algorithms (kmeans/hamerly.c) use
 * it to score only the rows whose label their bounds cannot vouch for. */
typedef void (*strata__labeler_fn)(void *ctx, int64_t r0, int64_t rows, int tid, int32_t *lab);

/* strata__assign_pass() with the labels of each block from fn (NULL: the
 * tables' kernel). Everything else (blocks, chunks, sums, the order of every
 * addition) is the same, so the same labels give the same totals bitwise. */
int strata__assign_pass_by(const strata__tables *t, const strata__data *X, int32_t *labels,
                           double *totals, int mode, strata__labeler_fn fn, void *ctx);

/* strata__assign_pass_src() with the labels of each block from fn (NULL:
 * the tables' kernel); fn's ctx reaches the rows through *view, which the
 * pass fills before each block (a distributed source's rows: the bounded
 * algorithms' passes over a rank's rows, kmeans/hamerly.h). */
int strata__assign_pass_src_by(const strata__tables *t, const strata__rowsrc *src,
                               strata__data *view, int32_t *labels, double *totals, int mode,
                               strata__labeler_fn fn, void *ctx, char *msg);

#endif
