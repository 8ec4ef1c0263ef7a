/* Cluster-quality metrics (internal): inertia, Calinski-Harabasz,
 * Davies-Bouldin and the silhouette (exact for squared Euclidean distance
 * from per-cluster sums; classic Euclidean on a sample), and the knee rule of
 * the k sweep. Knows nothing of handles, k-means or HDF5. Every result is
 * bitwise the same for any thread count (fixed chunks, ordered reductions). */
#ifndef STRATA_PROFILE_METRICS_H
#define STRATA_PROFILE_METRICS_H

#include <stdint.h>

#include "core/steps.h"
#include "strata.h"

/* A borrowed row-major matrix: row i starts at x + i * stride elements. */
typedef struct strata__mrows {
    int dtype; /* STRATA_FLOAT32 or STRATA_FLOAT64 */
    const void *x;
    int64_t n, d, stride;
} strata__mrows;

/* out[STRATA_METRIC_INERTIA .. STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN] of the
 * labelling `labels` (n values in 0..k-1). checked = 0: every value is first
 * checked (finite, labels in range: STRATA_E_NONFINITE / STRATA_E_ARG naming
 * the first bad row); 1: the caller knows (the rows passed a k-means fit and
 * the labels came out of it). Then STRATA_E_ARG unless 2 <= non-empty
 * clusters <= n - 1, STRATA_E_NONFINITE when sums overflow double. */
int strata__metrics_full(const strata__mrows *X, const int32_t *labels, int64_t k, int threads,
                         int checked, double out[4], char *msg);

/* The rows of the uniform sample without replacement of s rows out of n
 * (1 <= s <= n) that `seed` gives, ascending (Knuth's selection sampling:
 * one pass, O(1) memory besides rows[s]; for n > 2^32 and s <= n / 4,
 * draws sorted and repeats drawn again, in O(s log s)). */
void strata__sample_rows(int64_t n, int64_t s, uint64_t seed, int64_t *rows);

/* The rows `rows` (s of them, or rows == NULL: the first s) of X as a
 * contiguous s x d double matrix (from strata__alloc), or NULL (no memory). */
double *strata__gather_rows(const strata__mrows *X, const int64_t *rows, int64_t s);

/* Mean Euclidean silhouette of s rows xs (s x d doubles) under nl
 * labellings at once: labels[l * s + i] in 0..ks[l]-1. Clusters are those
 * of the s rows (a cluster with no row in them does not count); out[l] is
 * NaN when the rows hold fewer than 2 clusters, or as many clusters as rows.
 * Each distance is computed once for all nl labellings; out[l] is bitwise
 * what a call with labelling l alone gives. O(s^2 d + s^2 nl). Reports
 * SILHOUETTE to steps (NULL: none; strata.h) and stops with its
 * STRATA_E_CANCELLED; the same bits whatever the reports' shares. */
int strata__silhouette_euclidean(const double *xs, int64_t s, int64_t d, const int32_t *labels,
                                 const int64_t *ks, int64_t nl, int threads,
                                 const strata__steps *steps, double *out, char *msg);

/* The k suggested by a sweep over the consecutive ks k_min .. k_min + m - 1
 * (docs/tiers.md, "Choosing k"): Kneedle on inertia vs k, falling back to the
 * highest fallback[] (ties: the lower k) when there is no knee. */
int64_t strata__knee(int64_t k_min, int64_t m, const double *inertia, const double *fallback);

#endif
