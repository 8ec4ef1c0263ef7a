/* RFM engine (internal): transaction logs to per-customer aggregates
 * (aggregate.c), quantile bins (binning.c), scoring (score.c), segment rules
 * (segments.c) and segment profiles (profile.c). Knows nothing of handles or
 * HDF5; all parallel work goes through strata__parallel_chunks. */
#ifndef STRATA_RFM_H
#define STRATA_RFM_H

#include <stdint.h>

#include "core/parallel.h"
#include "core/scratch.h"
#include "strata.h"

struct strata__kernels;

#define STRATA__RFM_MAX_BINS 100
#define STRATA__RFM_MAX_RULES 1000
/* Columns of a stored rule: every column this library knows. */
#define STRATA__RFM_RULE_COLUMNS STRATA_RFM_RULE_NCOLS
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
    int partial; /* 1: the rows are one part of a log (parts.c): no customer
                    left is not an error (out->n = 0) */
    int first_spend; /* 1: also each customer's spend on its first purchase
                        day (strata__rfm_customers.first_spend; CLV's zbar) */
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
    double *first_spend; /* NULL unless cfg.first_spend: the sum of the kept
                            rows of the first purchase day (a block of its own) */
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

/* The error of a log with no customer left after cleaning (the counts of r
 * in msg). Returns STRATA_E_ARG. */
int strata__rfm_nothing_left(const strata__rfm_report *r, char *msg);
/* The reference day of a fit (STRATA_RFM_REFERENCE_AUTO: last_day + 1)
 * into *ref; STRATA_E_ARG when it is before last_day. */
int strata__rfm_reference(int64_t reference_day, int64_t last_day, int64_t *ref, char *msg);

/* ---- out-of-core aggregation: a log in id-range parts (parts.c) -------- */

/* Memory the in-memory aggregation may need per transaction row: the
 * three columns (24 bytes), the records (at worst 24), the kept bitmap and
 * a customer table row (48) when every row is its own customer. */
#define STRATA__RFM_ROW_BYTES 100
/* Memory per customer of the per-customer table, its scores, the scoring
 * temporaries and the columns the result writer builds. */
#define STRATA__RFM_CUSTOMER_BYTES 128
/* Memory of a fit whatever the log: the program, the library and its
 * thread stacks, HDF5 and its caches (`strata rfm` of a 10-customer log
 * peaks at 19.8 MB resident); set aside from a budget, so that a process's
 * peak stays under it, as k-means' fixed allowance does. */
#define STRATA__RFM_FIXED_BYTES ((uint64_t)24 << 20)

/* The row check (kernels/kernels.h) of cfg's cleaning rules. */
struct strata__row_check strata__rfm_row_check(const strata__rfm_agg_cfg *cfg);

/* Clean n rows with the rules of the aggregation (the same check_rows):
 * kept_bits (ceil(n / 64) words) marks the kept rows; rep's rows, bad_id,
 * bad_time, bad_amount, negative and zero grow by this block's counts.
 * Returns the number of kept rows. */
int64_t strata__rfm_clean(const int64_t *id, const int64_t *time, const double *amount,
                          int64_t n, const strata__rfm_agg_cfg *cfg, uint64_t *kept_bits,
                          strata__rfm_report *rep);

/* `parts` ranges of equal width covering the ids lo..hi, in ascending
 * order (parts <= hi - lo + 1). */
typedef struct strata__rfm_ranges {
    int64_t lo, parts;
    uint64_t width;
} strata__rfm_ranges;
void strata__rfm_ranges_make(int64_t lo, int64_t hi, int64_t parts, strata__rfm_ranges *r);
/* The range of id (ids outside lo..hi go to the first or last). */
static inline int64_t strata__rfm_range_of(const strata__rfm_ranges *r, int64_t id)
{
    if (id <= r->lo)
        return 0;
    uint64_t p = ((uint64_t)id - (uint64_t)r->lo) / r->width;
    return p >= (uint64_t)r->parts ? r->parts - 1 : (int64_t)p;
}

/* Add the counts a part's aggregation found (used, duplicates, return_only:
 * per customer, so a part holds all of them) to total. */
void strata__rfm_report_add_part(strata__rfm_report *total, const strata__rfm_report *part);

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

/* The bins of values spread over several parts (processes): part of n
 * values in all, its values at positions offset .. offset + nloc - 1 of
 * the tie-break order. select finds, among all n, the values of t ascending
 * ranks (keys ordered by value, then position; repeats allowed) into val,
 * and with pos != NULL their positions; sum adds m counts over all parts in
 * place (exact integers held in doubles; NULL: one part), given this part's
 * status rc so far. Both are collective: every part calls them in the same
 * order with the same ranks, whatever its own status, and every part gets
 * the same return: 0 or a status (one part's failure is every part's). */
typedef struct strata__rfm_selector {
    int64_t n, offset;
    int (*select)(void *ctx, const double *v, int64_t nloc, const int64_t *ranks, int64_t t,
                  double *val, int64_t *pos);
    int (*sum)(void *ctx, double *x, int64_t m, int rc);
    void *ctx;
} strata__rfm_selector;

/* strata__rfm_bin() of this part's nloc values v (scores of these only);
 * the edges and *nbins are those of all n values. */
int strata__rfm_bin_part(const strata__rfm_selector *sel, const double *v, int64_t nloc, int q,
                         int ties, const double *cuts, int reverse, int threads,
                         const struct strata__kernels *kern, uint8_t *score, double *edges,
                         int64_t *nbins);

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

/* A segment rule table: n names and n x STRATA__RFM_RULE_COLUMNS bounds. */
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

/* ---- profiles of customers spread over several parts ------------------- */

/* Sums per segment of a profile: count, revenue, recency, frequency,
 * monetary; then one more, the revenue of all customers. */
#define STRATA__RFM_PROFILE_SUMS 5
/* Customers per chunk of the profile sums. */
#define STRATA__RFM_PROFILE_CHUNK ((int64_t)1 << 16)

/* The chunk partials (nseg x STRATA__RFM_PROFILE_SUMS + 1 doubles) of the
 * profile of n customers, for the part c of them at indices offset ..
 * offset + c->n - 1 (ascending id), exactly as strata__rfm_profile() forms
 * them over all n: the chunks that end in this part are pushed into sum
 * (strata__tree_sum over strata__chunk_count(n, chunk) chunks); run holds
 * the running partial of a chunk cut between parts: on entry the one the
 * parts before left (zeros when offset starts a chunk), on return the one
 * this part leaves for the next (zeros if none). Returns 0 or a status. */
int strata__rfm_profile_sums(const strata__rfm_customers *c, const int32_t *segment, int64_t nseg,
                             int64_t offset, int64_t n, int threads, double *run,
                             strata__tree_sum *sum);
/* Counts, shares, revenue and means from the summed partials of n
 * customers into out (rules->n x STRATA__RFM_STATS; medians untouched).
 * Returns 0 or STRATA_E_NONFINITE (message in msg), as strata__rfm_profile. */
int strata__rfm_profile_stats(const double *sums, int64_t n, const strata__rfm_rules *rules,
                              double *out, char *msg);
/* (a + b) / 2, as pandas' median of an even count (the halves added where
 * a + b overflows). */
double strata__rfm_midpoint(double a, double b);

#endif
