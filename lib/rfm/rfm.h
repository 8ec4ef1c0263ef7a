/* RFM engine (internal): transaction logs to per-customer aggregates
 * (aggregate.c), quantile bins (binning.c), scoring (score.c), segment rules
 * (segments.c) and segment profiles (profile.c). Knows nothing of handles or
 * HDF5; all parallel work goes through strata__parallel_chunks. */
#ifndef STRATA_RFM_H
#define STRATA_RFM_H

#include <stdint.h>

#include "core/scratch.h"
#include "strata.h"

struct strata__kernels;

#define STRATA__RFM_MAX_BINS 100
#define STRATA__RFM_MAX_RULES 1000
#define STRATA__RFM_NAME_MAX 127
#define STRATA__RFM_STATS 10 /* strata_rfm_stat values */
/* Valid days: every difference of two of them fits easily in int64. */
#define STRATA__RFM_DAY_MIN (-((int64_t)1 << 31))
#define STRATA__RFM_DAY_MAX (((int64_t)1 << 31) - 1)

/* ---- aggregation ------------------------------------------------------ */

typedef struct strata__rfm_agg_cfg {
    int time_unit;      /* strata_rfm_time_unit */
    int frequency_mode; /* strata_rfm_frequency */
    int monetary_mode;  /* strata_rfm_monetary */
    int negative;       /* STRATA_RFM_DROP or STRATA_RFM_NET */
    int zero;           /* STRATA_RFM_KEEP or STRATA_RFM_DROP */
    int duplicates;     /* STRATA_RFM_KEEP or STRATA_RFM_DROP */
    int64_t min_day, max_day, min_id;
    int64_t reference_day; /* STRATA_RFM_REFERENCE_AUTO: last day + 1 */
    int threads;
    const struct strata__kernels *kern; /* its check_rows checks the rows */
} strata__rfm_agg_cfg;

/* Row counts of the cleaning (strata_rfm_result keys 250..258). */
typedef struct strata__rfm_report {
    int64_t rows, used, bad_id, bad_time, bad_amount, negative, zero, duplicates, return_only;
} strata__rfm_report;

/* One row per customer, ascending id. The arrays are carved from one block. */
typedef struct strata__rfm_customers {
    int64_t n;
    int64_t *id, *recency, *frequency, *first_day; /* first_day NULL: unknown */
    double *monetary, *revenue;                    /* revenue NULL: equals monetary */
    int64_t first_day_all, last_day_all, reference_day; /* 0 when unknown */
    void *block;
    size_t block_size;
} strata__rfm_customers;

/* A table of n customers (first_day only with has_days, revenue only with
 * mean), in the spare block when it is large enough (the block then belongs
 * to the table), else in a new one, touched in order on `threads` threads
 * (core/scratch.h). Returns 0 or STRATA_E_NOMEM. */
int strata__rfm_customers_alloc(strata__rfm_customers *o, int64_t n, int has_days, int mean,
                                int threads, strata__scratch *spare);
/* Release a table: its block becomes the spare if larger, else is freed. */
void strata__rfm_customers_retire(strata__rfm_customers *c, strata__scratch *spare);
void strata__rfm_customers_free(strata__rfm_customers *c);

/* Clean and aggregate n transactions, the records in *scratch, the table
 * in *spare when it fits. On success fills *out (the caller releases it)
 * and *rep. */
int strata__rfm_aggregate(const int64_t *id, const int64_t *time, const double *amount,
                          int64_t n, const strata__rfm_agg_cfg *cfg, strata__scratch *scratch,
                          strata__scratch *spare, strata__rfm_customers *out,
                          strata__rfm_report *rep, char *msg);

/* ---- binning ---------------------------------------------------------- */

/* Bin the n values v (no NaN) into 0..q-1 (see strata_rfm_ties) and store
 * each value's score: bin + 1, or q - bin with reverse (recency). Value i's
 * position i is also the tie-break order of the rank policy. cuts: q - 1 cut
 * points for STRATA_RFM_TIES_EDGES. edges receives q + 1 values
 * (strata_rfm_edges), *nbins the number of distinct bins produced. kern:
 * the kernel table that counts (any gives the same bins). Returns 0 or
 * STRATA_E_NOMEM. */
int strata__rfm_bin(const double *v, int64_t n, int q, int ties, const double *cuts, int reverse,
                    int threads, const struct strata__kernels *kern, uint8_t *score,
                    double *edges, int64_t *nbins);

/* ---- scoring: bins, scores, segments and profiles (score.c) ------------ */

typedef struct strata__rfm_rules strata__rfm_rules;

typedef struct strata__rfm_scores {
    int64_t q;
    int ties;
    uint8_t *r, *f, *m; /* scores 1..q */
    int32_t *segment;
    void *block; /* r, f, m and segment are carved from it */
    size_t block_size;
    double edges[3][STRATA__RFM_MAX_BINS + 1];
    int64_t nbins[3];
    int64_t unmatched;
    double *profile; /* nseg x STRATA__RFM_STATS */
} strata__rfm_scores;

/* Release scores: their block becomes the spare if larger, else is freed. */
void strata__rfm_scores_retire(strata__rfm_scores *s, strata__scratch *spare);

/* Score the customers c: q bins, a strata_rfm_ties policy, cuts[metric]
 * (q - 1 each) for TIES_EDGES, the rule table; temporaries in *scratch, the
 * scores in *spare when it fits. Fills *out (the caller releases it) or
 * returns STRATA_E_NOMEM (no message), or STRATA_E_NONFINITE with its
 * message in msg (a profile sum overflows). */
int strata__rfm_score(const strata__rfm_customers *c, int q, int ties,
                      const double *const cuts[3], const strata__rfm_rules *rules, int threads,
                      const struct strata__kernels *kern, strata__scratch *scratch,
                      strata__scratch *spare, strata__rfm_scores *out, char *msg);

/* ---- segments --------------------------------------------------------- */

/* A segment rule table: n names and n x STRATA_RFM_RULE_COLUMNS bounds. */
struct strata__rfm_rules {
    int64_t n;
    char **names;
    int32_t *bounds;
    int is_default; /* bounds on a 1..5 scale: scores are rescaled when q != 5 */
};

/* The default 11-segment map (docs/rfm.md). */
int strata__rfm_rules_default(strata__rfm_rules *out);
/* Deep copy of names/bounds, checked (msg names the problem). */
int strata__rfm_rules_make(int64_t n, const char *const *names, const int32_t *bounds,
                           strata__rfm_rules *out, char *msg);
int strata__rfm_rules_copy(const strata__rfm_rules *src, strata__rfm_rules *out);
/* Rules from text, one "NAME: r=LO-HI f=LO-HI m=LO-HI fm=LO-HI" per line
 * (docs/rfm.md), checked as strata__rfm_rules_make() does; msg names the
 * line of the first problem. */
int strata__rfm_rules_parse(const char *text, strata__rfm_rules *out, char *msg);
void strata__rfm_rules_free(strata__rfm_rules *r);

/* Segment of every customer (index of the first matching rule, or -1) from
 * the scores r, f, m (1..q); *unmatched receives the count of -1. */
int strata__rfm_assign_segments(const strata__rfm_rules *rules, int q, const uint8_t *r,
                                const uint8_t *f, const uint8_t *m, int64_t n, int threads,
                                int32_t *segment, int64_t *unmatched);

/* ---- profiles --------------------------------------------------------- */

/* Per-segment statistics (rules->n x STRATA__RFM_STATS, row-major, in
 * strata_rfm_stat order) of the customers. Returns 0, STRATA_E_NOMEM, or
 * STRATA_E_NONFINITE (message in msg) when a segment's revenue or monetary
 * sum, or the total revenue, overflows double. */
int strata__rfm_profile(const strata__rfm_customers *c, const int32_t *segment,
                        const strata__rfm_rules *rules, int threads,
                        const struct strata__kernels *kern, double *out, char *msg);

#endif
