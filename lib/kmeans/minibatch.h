/* Mini-batch k-means (internal to lib/kmeans). */
#ifndef STRATA_KMEANS_MINIBATCH_H
#define STRATA_KMEANS_MINIBATCH_H

#include "kmeans/assign.h"

typedef struct strata__minibatch_result {
    double inertia;  /* of the full data, from one exact pass */
    int64_t steps;   /* mini-batch steps run */
    int converged;   /* stopped early by tol or max_no_improvement */
} strata__minibatch_result;

/* Fit the rows of src (validated, widened where needed; in memory or
 * streamed) by mini-batch steps: the best of cfg->n_init initialisations,
 * each made on a random subset and scored on another, then at most
 * max_iter * n / batch_size steps, then one exact assignment pass of the full
 * data that gives labels (n) and the inertia. A streamed src is read in
 * sweeps that gather the rows of cfg->window_rows rows' worth of steps
 * (strata__rowsrc_gather), and gives the in-memory bits. t: tables of the
 * rows' dtype and k (any centroids; rebuilt here); totals: a buffer of
 * strata__pass_len(t) doubles; mean: the feature means; tol_abs: cfg->tol
 * times the mean feature variance. c (k x d) receives the centroids. */
int strata__minibatch_fit(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                          strata__tables *t, const double *mean, double tol_abs, double *c,
                          int32_t *labels, double *totals, strata__minibatch_result *res,
                          char *msg);

#endif
