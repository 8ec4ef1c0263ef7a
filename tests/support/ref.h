/* Independent reference implementations for the libstrata tests.
 *
 * Plain, brute-force double-precision code written from the contract in
 * include/strata.h and scikit-learn's _kmeans_single_lloyd, sharing nothing
 * with lib/. Slow on purpose: every distance is a direct sum of squared
 * differences, every tie goes to the lowest centroid index.
 *
 * Reference Lloyd (ref_lloyd), exactly as the header documents
 * STRATA_KMEANS_TOL:
 *   V       = mean over features of the unweighted population variance
 *   tol_abs = tol * V
 *   labels_prev = all -1
 *   for it = 1 .. max_iter:
 *       assign every row to its nearest centroid          (an "assignment pass")
 *       update: centroid j = weighted mean of its rows
 *       shift = sum over centroids of ||new - old||^2
 *       if labels == labels_prev:  strict convergence, stop
 *       else if shift <= tol_abs:   convergence, stop
 *       labels_prev = labels
 *   if not strictly converged: one more assignment pass with the final centroids
 *   inertia = sum_i w_i ||x_i - c_label(i)||^2 (final centroids and labels)
 *   n_iter  = iterations run (the `it` above); converged = stopped before max_iter ran out
 * A cluster whose rows have total weight 0 is an error here (the reference
 * does not relocate empty clusters): ref_lloyd returns -1 and says why.
 *
 * Conditioning: the library computes distances in the element type of the
 * data (float32 or float64) and may use other formulas (GEMM on centred
 * data); a row whose two nearest centroids are almost tied may legitimately
 * be labelled differently. ref_lloyd therefore records, over every
 * assignment pass, the smallest ratio
 *     (d2 - d1) / scale,  scale = ||x-mu||^2 + ||c1-mu||^2 + ||c2-mu||^2 + d1 + d2
 *                                 + 2 sqrt(d * d2) * max|x, c1, c2|
 * (d1 <= d2 the two smallest squared distances, mu the data mean), and the
 * smallest relative gap between the centroid shift and tol_abs. Tests only
 * demand identical labels on cases whose ratio is far above the rounding
 * error of the element type (ref_well_conditioned). */
#ifndef STRATA_TEST_REF_H
#define STRATA_TEST_REF_H

#include <stdint.h>

/* A borrowed matrix, as strata_kmeans_fit() sees it. */
typedef struct ref_data {
    int dtype;       /* STRATA_FLOAT32 or STRATA_FLOAT64 */
    const void *x;   /* row i at x + i * stride elements */
    int64_t n, d;
    int64_t stride;  /* elements, >= d */
    const double *w; /* NULL = all weights 1 */
} ref_data;

/* Element (i, f) as double. */
double ref_at(const ref_data *X, int64_t i, int64_t f);
double ref_weight(const ref_data *X, int64_t i);

/* Squared Euclidean distance of row i to c (d doubles), direct sum. */
double ref_dist2(const ref_data *X, int64_t i, const double *c);

/* Nearest of k centroids (ties to the lowest index); *best and *second (may
 * be NULL) receive the smallest and second smallest squared distance
 * (second = INFINITY when k == 1). */
int32_t ref_nearest(const ref_data *X, int64_t i, const double *c, int64_t k, double *best,
                    double *second);

/* sum_i w_i ||x_i - c_labels[i]||^2 */
double ref_inertia(const ref_data *X, const double *c, const int32_t *labels);

/* Mean over features of the unweighted population variance (two-pass). */
double ref_mean_variance(const ref_data *X);

/* Weighted mean of all rows (d doubles into out); the k = 1 solution. */
void ref_weighted_mean(const ref_data *X, double *out);

typedef struct ref_fit {
    int64_t n, d, k;
    double *centroids;    /* k x d */
    int32_t *labels;      /* n */
    double inertia;
    int64_t n_iter;
    int converged;        /* strict convergence or shift <= tol_abs */
    int strict;           /* an iteration changed no label */
    double *iter_inertia; /* n_iter values: inertia of pass `it` w.r.t. the centroids it used */
    double min_margin;    /* smallest (d2 - d1) / scale over every pass (INFINITY if k == 1) */
    double min_tol_gap;   /* smallest |shift - tol_abs| / (tol_abs + k d (1e-12 cmax)^2) over the
                             shift tests made; cmax = largest |centroid value| (INFINITY if none) */
    char error[256];      /* why ref_lloyd failed, "" on success */
} ref_fit;

/* Reference Lloyd from `init` (k x d). Returns 0, or -1 with out->error set.
 * Free with ref_fit_free() either way. */
int ref_lloyd(const ref_data *X, const double *init, int64_t k, int64_t max_iter, double tol,
              ref_fit *out);
void ref_fit_free(ref_fit *f);

/* 1 if labels computed in `dtype` cannot differ from the double reference:
 * min_margin > 4 * (d + 4) * unit roundoff of dtype (about 4 times the worst-case
 * rounding error of a d-term dot product relative to `scale`), and the tol decision
 * is not within 1e-6 relative of the threshold. */
int ref_well_conditioned(const ref_fit *f, int dtype);

/* ---- deterministic random numbers and test data (independent of lib/) ---- */

typedef struct test_rng {
    uint64_t s[4];
} test_rng;

void rng_seed(test_rng *r, uint64_t seed);
uint64_t rng_u64(test_rng *r);
double rng_uniform(test_rng *r);              /* [0, 1) */
double rng_normal(test_rng *r);               /* N(0, 1) */
int64_t rng_int(test_rng *r, int64_t lo, int64_t hi); /* uniform in [lo, hi] */

/* A generated data set: `nblobs` Gaussian blobs (standard deviation `sd`)
 * with centres uniform in offset + [-spread, spread]^d; rows in random blob
 * order. The padding of each row (stride > d) is filled with NaN, so a
 * library that reads it fails. Weights (if asked): uniform in [0.25, 2),
 * about 5% of them exactly 0. */
typedef struct gen_data {
    int dtype;
    int64_t n, d, stride, nblobs;
    void *x;          /* n * stride elements of dtype */
    double *w;        /* NULL or n weights */
    double *centers;  /* nblobs x d */
    int32_t *blob;    /* blob of each row */
} gen_data;

void gen_blobs(gen_data *g, uint64_t seed, int dtype, int64_t n, int64_t d, int64_t stride,
               int64_t nblobs, double spread, double sd, double offset, int weighted);
void gen_free(gen_data *g);
ref_data gen_ref(const gen_data *g);
/* Store v (converted to the element type) at (i, f). */
void gen_set(gen_data *g, int64_t i, int64_t f, double v);

/* k distinct rows (by value, weight > 0), chosen with rng, as k x d doubles. */
void gen_pick_rows(const gen_data *g, test_rng *r, int64_t k, double *out);

#endif
