/* Tier models (internal): per-feature scaling, value ranking of clusters and
 * the cluster-to-tier mapping. Knows nothing of handles or HDF5; lib/api
 * runs k-means between scaling and ranking and saves / loads the model. */
#ifndef STRATA_TIERS_H
#define STRATA_TIERS_H

#include <stdint.h>

#include "strata.h"

/* Longest feature or tier name, in bytes. */
#define STRATA__NAME_MAX 127
/* Most tiers a model has. */
#define STRATA__TIERS_MAX 64

/* A fitted (or loaded) tier model; every array from strata__alloc. */
typedef struct strata__tier_model {
    int64_t k, d, ntiers;
    int64_t n;        /* rows fitted, with labels and tiers; 0 for a loaded model */
    int64_t n_train;  /* rows trained on (kept through save / load) */
    int64_t seed, n_iter;
    double inertia;
    char algorithm[16];
    char created[32]; /* UTC, ISO 8601 */
    char *source;
    char **names;      /* d feature names */
    char **tier_names; /* ntiers, best first */
    int32_t *transform;                /* d, resolved: NONE..MINMAX [| LOG1P] */
    double *center, *scale, *weights;  /* d */
    double *centroids, *centroids_orig; /* k x d: scaled, original units */
    double *score;         /* k value scores */
    int32_t *cluster_tier; /* k */
    int32_t *labels, *tiers; /* n each, NULL when n == 0 */
} strata__tier_model;

void strata__tier_model_free(strata__tier_model *tm);

/* 1 if t is a resolved transform code (NONE..MINMAX, possibly | LOG1P). */
int strata__transform_valid(int t);

/* Fit each feature's transform: requested[j] (NONE..AUTO [| LOG1P]) into
 * transform[j] (AUTO resolved), center[j], scale[j]. x: n rows of d doubles
 * at stride; names name the features in messages. Threads for the exact
 * quantiles of ROBUST. */
int strata__scaling_fit(const double *x, int64_t n, int64_t d, int64_t stride,
                        const int *requested, const char *const *names, int threads,
                        int32_t *transform, double *center, double *scale, char *msg);

/* out[i*d + j] = (t(x_ij) - center_j) / scale_j; errors name the row (r0 +
 * i: the rows' first number, 0 unless they are a block of larger data) and
 * feature: a non-finite value, a LOG1P value <= -1, an overflowing result. */
int strata__scaling_apply(const double *x, int64_t r0, int64_t n, int64_t d, int64_t stride,
                          const int32_t *transform, const double *center, const double *scale,
                          const char *const *names, double *out, char *msg);

/* The inverse: out = t^-1(z * scale + center), rows of d (k rows). */
void strata__scaling_inverse(const double *z, int64_t k, int64_t d, const int32_t *transform,
                             const double *center, const double *scale, double *out);

/* Default value weight of a feature name: -1 if it names a time since the
 * last activity ("recency", "days_since", "inactive", any case), else +1. */
double strata__default_value_weight(const char *name);

/* score[j] = sum_f w[f] c[j*d + f]; clusters ranked by score, descending
 * (equal scores: lower index first), cut into ntiers contiguous groups of
 * floor(k / ntiers), the last k mod ntiers tiers one more: cluster_tier[j]. */
void strata__tiers_rank(const double *c, int64_t k, int64_t d, const double *w, int64_t ntiers,
                        double *score, int32_t *cluster_tier);

#endif
