/* k-means engine (internal): validation, initialisation and Lloyd iterations
 * over a borrowed row-major matrix. Knows nothing of handles or HDF5. */
#ifndef STRATA_KMEANS_H
#define STRATA_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core/rowsrc.h"
#include "core/steps.h"
#include "kernels/kernels.h"
#include "strata.h"

/* Statistics gathered while validating the data. */
typedef struct strata__data_stats {
    double *mean;    /* d unweighted feature means (caller-allocated) */
    double mean_var; /* mean over features of the unweighted population variance */
    double sq_dev;   /* sum over rows and features of (x - mean)^2; +inf if that
                        overflows (float64 data only) */
} strata__data_stats;

/* Check every value is finite (naming the first bad row), weights are finite,
 * non-negative, not all zero and of finite sum, and compute the statistics. */
int strata__data_check(const strata__rowsrc *src, int threads, strata__data_stats *st, char *msg);

/* The element type squared distances between the rows of X and points
 * within their range (centroids of the rows), plus the npts points pts
 * (npts x d doubles, or NULL), can be computed in without overflow: X's own
 * type, or STRATA_FLOAT64 for float32 data too spread for float32 (their
 * squares exceed FLT_MAX), into *dtype. Fails with STRATA_E_NONFINITE when
 * they would overflow even double. st: X's statistics (strata__data_check).
 * Costs O(d + npts d), plus one pass over X only when the cheap bound from
 * st->sq_dev does not settle it (data near the limits). */
int strata__distance_dtype(const strata__rowsrc *src, const strata__data_stats *st,
                           const double *pts, int64_t npts, int threads, int *dtype, char *msg);

/* A float64 copy of in-memory float32 data X (contiguous rows, the same
 * weights; a stream widens by delivering its rows as float64 instead) into
 * *wide; *buf receives the copy, to free with strata__free. STRATA_E_NOMEM
 * (message set) if it cannot be allocated. */
int strata__data_widen(const strata__data *X, int threads, strata__data *wide, double **buf,
                       char *msg);

/* Number of distinct rows with weight > 0, counting no further than `limit`,
 * into *count (a walk that stops once `limit` are seen; the table holds at
 * most `limit` rows' values, no row indices: no random reads). */
int strata__count_distinct(const strata__rowsrc *src, int64_t limit, int64_t *count, char *msg);

/* Everything a fit needs besides the data. */
typedef struct strata__kmeans_cfg {
    int64_t k, max_iter, n_init, seed;
    double tol;
    int init;   /* strata_init */
    int assign; /* strata_assign, AUTO resolved by the engine */
    int algorithm; /* strata_algorithm, AUTO resolved by the engine */
    int threads;
    const strata__kernels *kern;
    const double *init_centroids; /* k x d, for STRATA_INIT_CENTROIDS */
    int allow_too_few;            /* STRATA_KMEANS_ALLOW_TOO_FEW */
    int64_t batch_size, max_no_improvement; /* MINIBATCH only */
    double reassignment_ratio;              /* MINIBATCH only */
    int64_t window_rows; /* MINIBATCH from a stream: rows gathered a sweep (whole batches, >= 1) */
    int stream_gaps;     /* a streamed fit may keep Hamerly's gaps, 2 bytes a row (the
                            budget holds them): it runs them when HAMERLY is asked */
    int64_t chain_length;         /* STRATA_KMEANS_CHAIN_LENGTH, for STRATA_INIT_AFKMC2 */
    strata_progress_fn progress;
    void *user;
    strata__steps steps; /* SEED reported around each seeding (kmeans/init.c) */
} strata__kmeans_cfg;

/* A fitted model; arrays from strata__alloc. */
typedef struct strata__kmeans_model {
    int64_t n, d, k;
    double *centroids; /* k x d */
    int32_t *labels;   /* n */
    double inertia;
    int64_t n_iter;
    int converged;
    int assign; /* FUSED or GEMM */
    int algorithm; /* LLOYD, HAMERLY, YINYANG or MINIBATCH */
    int streamed;  /* 1 if the rows came from a streamed source */
} strata__kmeans_model;

void strata__kmeans_model_free(strata__kmeans_model *m);

/* Validate, initialise and run n_init Lloyd fits (or one mini-batch fit,
 * kmeans/minibatch.c); the best lands in *out (which must be empty). */
int strata__kmeans_fit(const strata__data *X, const strata__kmeans_cfg *cfg,
                       strata__kmeans_model *out, char *msg);

/* The same from any row source. A streamed source runs Lloyd (under AUTO,
 * for an explicit Yinyang, and for Hamerly without cfg->stream_gaps: the
 * same bits anyway; out->algorithm says LLOYD), Hamerly with one gap a row
 * (kmeans/gaps.h) when asked and cfg->stream_gaps allows, with any seeding,
 * or mini-batch when asked (its batches gathered cfg->window_rows rows a
 * sweep). Results are bitwise those of the
 * in-memory fit of the same rows. */
int strata__kmeans_fit_src(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                           strata__kmeans_model *out, char *msg);

/* Bytes per row a fit of n rows of dtype keeps in memory besides the rows
 * themselves (labels 4; a second labels array for n_init > 1; k-means++'s
 * closest distances 8 for float64 data, none for float32, which borrows the
 * labels; k-means|| 9, AFK-MC^2 8; in memory, Hamerly's or Yinyang's bounds
 * when AUTO or the request picks them; mini-batch: the labels only, it seeds
 * on subsets), rounded up to whole bytes. */
int64_t strata__kmeans_bytes_per_row(const strata__kmeans_cfg *cfg, int dtype, int64_t n, int64_t d,
                                     int streamed);

/* The algorithm a fit runs for `requested` (a strata_algorithm; AUTO is
 * resolved from the data's dtype, the kernel, n, k and d). */
int strata__algorithm_choose(int requested, int dtype, int kernel, int64_t n, int64_t k, int64_t d);

/* Choose FUSED or GEMM for a kernel (strata_kernel) and k centroids of d features. */
int strata__assign_choose(int kernel, int64_t k, int64_t d);

/* The assignment a fit or predict of k centroids of d features runs, in
 * *assign: cfg's, or AUTO's choice. GEMM needs OpenBLAS, loaded now: AUTO
 * falls back to FUSED where it cannot be loaded, an explicit GEMM fails
 * (STRATA_E_NOMEM under a tight ulimit -v, STRATA_E_UNSUPPORTED). */
int strata__assign_resolve(const strata__kmeans_cfg *cfg, int64_t k, int64_t d, int *assign,
                           char *msg);

/* Label rows with the nearest of k centroids (k x d doubles), using the
 * kernel, assignment method and threads of cfg. */
int strata__kmeans_predict(const strata__data *X, const double *centroids, int64_t k,
                           const strata__kmeans_cfg *cfg, int32_t *labels, char *msg);

/* Exact Euclidean distances (double) of every row to every centroid: n x k. */
int strata__kmeans_transform(const strata__data *X, const double *centroids, int64_t k,
                             int threads, double *out, char *msg);

/* Initial centroids (k x d) for run `run`: k-means++, k-means||, AFK-MC^2,
 * random rows or given.
 * mean: the data's feature means (k-means++ centres its distances on them).
 * scratch: NULL, or n int32 the seeding may overwrite (the fit's labels,
 * unused until the first assignment): k-means++ keeps float32 data's
 * closest distances there, k-means|| each row's nearest candidate; without
 * it they are allocated. */
int strata__kmeans_init(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, int64_t run,
                        const double *mean, double *centroids, int32_t *scratch, char *msg);

#endif
