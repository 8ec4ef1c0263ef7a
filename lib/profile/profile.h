/* What labels say about the rows (internal to lib/profile and lib/api):
 * cluster profiles in original units, lifecycle stages, tier migrations.
 * No HDF5 here: lib/api writes these through lib/io. */
#ifndef STRATA_PROFILE_PROFILE_H
#define STRATA_PROFILE_PROFILE_H

#include <stdint.h>

/* Per-feature statistics, in the order of enum strata_profile_stat from
 * STRATA_PROFILE_MEAN on. */
enum {
    STRATA__PF_MEAN,
    STRATA__PF_STD,
    STRATA__PF_MIN,
    STRATA__PF_P10,
    STRATA__PF_MEDIAN,
    STRATA__PF_P90,
    STRATA__PF_MAX,
    STRATA__PF_Z,
    STRATA__PF_STATS
};

/* A computed profile: k clusters and, as row k, all rows together. Arrays
 * from strata__alloc; per-cluster ones hold k + 1 values, per-feature ones
 * (k + 1) x d, row-major. */
typedef struct strata__profile {
    int64_t k, d;
    int weighted;
    double *count, *weight, *share;
    double *stat[STRATA__PF_STATS];
} strata__profile;

/* Compute a profile of n rows (x: row i at x + i * stride, d features,
 * original units) with labels in [0, k) and optional weights (NULL: all 1).
 * The caller has checked the pointers and sizes; the rows, labels and
 * weights are checked here (the first bad row is named in msg). Results do
 * not depend on threads. Returns STRATA_OK, STRATA_E_ARG (a label),
 * STRATA_E_NONFINITE (a value, or a statistic that overflows),
 * STRATA_E_WEIGHTS, STRATA_E_NOMEM. */
int strata__profile_compute(strata__profile *p, const double *x, int64_t n, int64_t d,
                            int64_t stride, const int32_t *labels, int64_t k,
                            const double *weights, int threads, char *msg);
void strata__profile_release(strata__profile *p);

/* Weighted quantile by the inverted-CDF rule: the smallest of the m values
 * v (weights w > 0, total W) whose cumulative weight in ascending order is
 * >= q W. Reorders v and w. Expected O(m). */
double strata__weighted_quantile(double *v, double *w, int64_t m, double q);

/* Lifecycle stages (enum strata_stage) of n customers; thresholds checked
 * by the caller; rows checked here. */
int strata__lifecycle(const int64_t *first_day, const int64_t *last_day, const int64_t *purchases,
                      int64_t n, int64_t reference_day, const int64_t thr[3], int32_t *stage,
                      char *msg);

/* A migration between two tierings: customers in the union of the ids,
 * ascending; old/new tier -1 where absent; move an enum strata_move. */
typedef struct strata__migration {
    int64_t n_tiers, n;
    int64_t *id;
    int32_t *old_tier, *new_tier, *move;
    int64_t *matrix; /* n_tiers x n_tiers: old row, new column */
    int64_t counts[5];
} strata__migration;

int strata__migrate(strata__migration *m, const int64_t *old_id, const int32_t *old_tier,
                    int64_t n_old, const int64_t *new_id, const int32_t *new_tier, int64_t n_new,
                    int64_t n_tiers, char *msg);
void strata__migration_release(strata__migration *m);

#endif
