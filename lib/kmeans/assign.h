/* Assignment of rows to centroids (internal to lib/kmeans). */
#ifndef STRATA_KMEANS_ASSIGN_H
#define STRATA_KMEANS_ASSIGN_H

#include "kmeans/kmeans.h"

/* Centroid tables in the data's element type plus per-thread scratch. */
typedef struct strata__tables {
    const strata__kernels *kern;
    int assign, dtype, threads;
    int64_t d, k, kp;
    void *ct;          /* d x kp: -2 * centred centroids */
    void *bias;        /* kp: squared norms of the centred centroids, +inf padding */
    void *mean;        /* d: centring mean in the element type */
    double *mean_used; /* the same mean as double */
    const double *centroids; /* k x d, as last set */
    void **xc;         /* per thread: centred block */
    void **scores;     /* per thread: GEMM output block */
    int32_t **lab;     /* per thread: block labels */
} strata__tables;

int strata__tables_init(strata__tables *t, const strata__data *X, int64_t k, const double *mean,
                        const strata__kernels *kern, int assign, int threads);
void strata__tables_free(strata__tables *t);
/* Rebuild the tables for centroids c (k x d, kept by pointer until the next call). */
void strata__tables_set_centroids(strata__tables *t, const double *c);

/* Length of the totals vector of a pass. */
int64_t strata__pass_len(const strata__tables *t);
/* Label every row. With totals != NULL also count label changes against
 * `labels` and accumulate [sums k*d][weights k][inertia][changed] into totals
 * (cleared first), in chunk order. */
int strata__assign_pass(const strata__tables *t, const strata__data *X, int32_t *labels,
                        double *totals);

#endif
