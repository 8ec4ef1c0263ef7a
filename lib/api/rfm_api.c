/* The RFM handle: parameters, argument checks and the held result, in front
 * of the engine (lib/rfm) and the HDF5 layer (lib/io). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_profile.h"
#include "api/params.h"
#include "api/rfm_dist.h"
#include "api/rfm_spill.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5.h"
#include "kernels/kernels.h"
#include "profile/profile.h"
#include "rfm/rfm.h"
#include "api/out.h"

/* Scores of the held customers and the rule table that named them. */
typedef struct scores {
    strata__rfm_scores s;
    strata__rfm_rules rules;
} scores;

struct strata_rfm {
    /* parameters */
    int64_t bins, ties, reference_day, frequency_mode, monetary_mode, negative, zero, duplicates,
        time_unit, min_day, max_day, min_id, threads, kernel;
    int64_t memory; /* STRATA_RFM_MEMORY: bytes, 0 = no limit */
    char *tmpdir;   /* strata_rfm_set_tmpdir(); NULL: $TMPDIR, else /tmp */
    double *cuts[3];
    int64_t ncuts[3];
    strata__rfm_rules rules;
    /* result (cust.id == NULL when nothing is held) */
    strata__rfm_customers cust;
    strata__rfm_report report;
    int has_days; /* 0 after strata_rfm_fit_aggregates */
    strata__file_id input; /* the result's file (fit_h5): never replaced by write_h5 */
    struct {
        int time_unit, frequency_mode, monetary_mode, negative, zero, duplicates;
        int64_t min_day, max_day, min_id, memory;
    } used; /* aggregation settings of the held result */
    scores sc;
    /* Memory reused from one call to the next (see core/scratch.h): the
     * temporaries, and the blocks of the previous customer table and scores
     * (a new result is built beside the held one, which then becomes the
     * spare). */
    strata__scratch scratch, spare_table, spare_scores;
    strata__steps steps; /* strata_rfm_set_progress() */
    char msg[STRATA__MSG_LEN];
};

static const char *const NULL_HANDLE_MSG = "strata_rfm handle is NULL";

#define CHECK_HANDLE(h)                                                    \
    do {                                                                   \
        if (!(h))                                                          \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
        (h)->msg[0] = '\0';                                                \
    } while (0)

/* The const calls (getters) write nothing into the handle, so that threads
 * may read one result at once: messages to the thread's slot only. */
#define CHECK_CONST(h)                                                     \
    do {                                                                   \
        if (!(h))                                                          \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
    } while (0)

/* Release scores, their block kept as the spare (spare NULL: freed). */
static void scores_retire(scores *s, strata__scratch *spare)
{
    strata__rfm_scores_retire(&s->s, spare);
    strata__rfm_rules_free(&s->rules);
}

int strata_rfm_create(strata_rfm **out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_rfm_create: out is NULL");
    strata_rfm *h = strata__calloc(1, sizeof *h);
    if (!h || strata__rfm_rules_default(&h->rules)) {
        strata__free(h);
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory creating an RFM handle");
    }
    h->bins = 5;
    h->ties = STRATA_RFM_TIES_RANK;
    h->reference_day = STRATA_RFM_REFERENCE_AUTO;
    h->frequency_mode = STRATA_RFM_COUNT_ROWS;
    h->monetary_mode = STRATA_RFM_SUM;
    h->negative = STRATA_RFM_DROP;
    h->zero = STRATA_RFM_KEEP;
    h->duplicates = STRATA_RFM_KEEP;
    h->time_unit = STRATA_RFM_TIME_DAYS;
    h->min_day = STRATA__RFM_DAY_MIN;
    h->max_day = STRATA__RFM_DAY_MAX;
    h->min_id = 0;
    *out = h;
    return STRATA_OK;
}

void strata_rfm_free(strata_rfm *h)
{
    if (!h)
        return;
    strata__rfm_customers_free(&h->cust);
    scores_retire(&h->sc, NULL);
    strata__rfm_rules_free(&h->rules);
    strata__scratch_free(&h->scratch);
    strata__scratch_free(&h->spare_table);
    strata__scratch_free(&h->spare_scores);
    strata__free(h->tmpdir);
    for (int k = 0; k < 3; k++)
        strata__free(h->cuts[k]);
    strata__free(h);
}

const char *strata_rfm_last_error(const strata_rfm *h)
{
    return h ? h->msg : NULL_HANDLE_MSG;
}

/* ---- parameters -------------------------------------------------------- */

/* The handle's slot of parameter `param` (a key of the table, checked). */
static int64_t *param_slot(strata_rfm *h, int param)
{
    switch (param) {
    case STRATA_RFM_BINS: return &h->bins;
    case STRATA_RFM_TIES: return &h->ties;
    case STRATA_RFM_REFERENCE_DAY: return &h->reference_day;
    case STRATA_RFM_FREQUENCY_MODE: return &h->frequency_mode;
    case STRATA_RFM_MONETARY_MODE: return &h->monetary_mode;
    case STRATA_RFM_NEGATIVE: return &h->negative;
    case STRATA_RFM_ZERO: return &h->zero;
    case STRATA_RFM_DUPLICATES: return &h->duplicates;
    case STRATA_RFM_TIME_UNIT: return &h->time_unit;
    case STRATA_RFM_MIN_DAY: return &h->min_day;
    case STRATA_RFM_MAX_DAY: return &h->max_day;
    case STRATA_RFM_MIN_ID: return &h->min_id;
    case STRATA_RFM_MEMORY: return &h->memory;
    case STRATA_THREADS: return &h->threads;
    case STRATA_KERNEL: return &h->kernel;
    default: return NULL;
    }
}

int strata_rfm_set_int(strata_rfm *h, int param, int64_t v)
{
    CHECK_HANDLE(h);
    int rc = strata__param_check_int(h->msg, STRATA_HANDLE_RFM, param, v);
    if (rc)
        return rc;
    if (param == STRATA_KERNEL && !strata_kernel_available((int)v))
        return strata__fail(h->msg, STRATA_E_UNSUPPORTED, "kernel '%s' cannot run on this CPU",
                            strata_kernel_name((int)v));
    int64_t *slot = param_slot(h, param);
    if (!slot) /* a key of the table that this handle does not store: a bug */
        return strata__fail(h->msg, STRATA_E_INTERNAL, "RFM parameter %d has no slot", param);
    *slot = v;
    return STRATA_OK;
}

int strata_rfm_get_int(const strata_rfm *h, int param, int64_t *out)
{
    CHECK_CONST(h);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_rfm_get_int: out is NULL");
    int rc = strata__param_check_key(NULL, STRATA_HANDLE_RFM, param, STRATA_VALUE_INT, 1);
    if (rc)
        return rc;
    const int64_t *slot = param_slot((strata_rfm *)h, param); /* only read */
    if (!slot)
        return strata__fail(NULL, STRATA_E_INTERNAL, "RFM parameter %d has no slot", param);
    *out = *slot;
    return STRATA_OK;
}

int strata_rfm_set_tmpdir(strata_rfm *h, const char *path)
{
    CHECK_HANDLE(h);
    char *copy = NULL;
    if (path && path[0]) {
        size_t len = strlen(path) + 1;
        if (!(copy = strata__alloc(len, 1)))
            return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory copying a folder name");
        memcpy(copy, path, len);
    }
    strata__free(h->tmpdir);
    h->tmpdir = copy;
    return STRATA_OK;
}

static const char *const METRIC_NAME[3] = {"recency", "frequency", "monetary"};

int strata_rfm_set_edges(strata_rfm *h, int metric, const double *cuts, int64_t n_cuts)
{
    CHECK_HANDLE(h);
    if (metric < STRATA_RFM_RECENCY || metric > STRATA_RFM_MONETARY)
        return strata__fail(h->msg, STRATA_E_ARG, "unknown RFM metric %d", metric);
    if (n_cuts < 0 || n_cuts > STRATA__RFM_MAX_BINS - 1)
        return strata__fail(h->msg, STRATA_E_ARG, "%s: n_cuts must be in 0..99, got %lld",
                            METRIC_NAME[metric], (long long)n_cuts);
    if (n_cuts > 0 && !cuts)
        return strata__fail(h->msg, STRATA_E_NULL, "%s: cut points pointer is NULL",
                            METRIC_NAME[metric]);
    for (int64_t j = 0; j < n_cuts; j++) {
        if (!isfinite(cuts[j]))
            return strata__fail(h->msg, STRATA_E_NONFINITE, "%s: cut point %lld is not finite",
                                METRIC_NAME[metric], (long long)j);
        if (j > 0 && !(cuts[j] > cuts[j - 1]))
            return strata__fail(h->msg, STRATA_E_PARAM,
                                "%s: cut points must be strictly increasing (cut %lld = %g "
                                "follows %g)", METRIC_NAME[metric], (long long)j, cuts[j],
                                cuts[j - 1]);
    }
    double *copy = NULL;
    if (n_cuts > 0) {
        if (!(copy = strata__alloc((size_t)n_cuts, sizeof *copy)))
            return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory copying cut points");
        memcpy(copy, cuts, (size_t)n_cuts * sizeof *copy);
    }
    strata__free(h->cuts[metric]);
    h->cuts[metric] = copy;
    h->ncuts[metric] = n_cuts;
    return STRATA_OK;
}

int strata_rfm_rule_columns(void)
{
    return STRATA__RFM_RULE_COLUMNS;
}

static int check_ncols(char *msg, int64_t ncols)
{
    if (ncols < 1 || ncols > STRATA__RFM_RULE_COLUMNS)
        return strata__fail(msg, STRATA_E_ARG, "ncols (int32 values per segment rule) must be in "
                            "1..%d (strata_rfm_rule_columns()), got %lld",
                            STRATA__RFM_RULE_COLUMNS, (long long)ncols);
    return STRATA_OK;
}

int strata_rfm_set_segments(strata_rfm *h, int64_t n_rules, const char *const *names,
                            const int32_t *bounds, int64_t ncols)
{
    CHECK_HANDLE(h);
    if (n_rules < 0 || n_rules > STRATA__RFM_MAX_RULES)
        return strata__fail(h->msg, STRATA_E_ARG, "n_rules must be in 0..%d, got %lld",
                            STRATA__RFM_MAX_RULES, (long long)n_rules);
    strata__rfm_rules r;
    int rc;
    if (n_rules == 0) {
        if ((rc = strata__rfm_rules_default(&r)))
            return strata__fail(h->msg, rc, "out of memory for the default segment map");
    } else {
        if (!names || !bounds)
            return strata__fail(h->msg, STRATA_E_NULL, "segment names or bounds pointer is NULL");
        if ((rc = check_ncols(h->msg, ncols)))
            return rc;
        /* a caller's narrower layout: the columns it does not know match any score */
        int32_t *wide = NULL;
        if (ncols < STRATA__RFM_RULE_COLUMNS) {
            if (!(wide = strata__alloc((size_t)n_rules * STRATA__RFM_RULE_COLUMNS, sizeof *wide)))
                return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory for %lld segment "
                                    "rules", (long long)n_rules);
            for (int64_t i = 0; i < n_rules; i++)
                for (int64_t c = 0; c < STRATA__RFM_RULE_COLUMNS; c++)
                    wide[i * STRATA__RFM_RULE_COLUMNS + c] =
                        c < ncols ? bounds[i * ncols + c] : c % 2 ? 100 : 1;
        }
        rc = strata__rfm_rules_make(n_rules, names, wide ? wide : bounds, &r, h->msg);
        strata__free(wide);
        if (rc)
            return rc;
    }
    strata__rfm_rules_free(&h->rules);
    h->rules = r;
    return STRATA_OK;
}

int strata_rfm_set_segments_text(strata_rfm *h, const char *text)
{
    CHECK_HANDLE(h);
    if (!text)
        return strata__fail(h->msg, STRATA_E_NULL, "segment rules text is NULL");
    strata__rfm_rules r;
    int rc = strata__rfm_rules_parse(text, &r, h->msg);
    if (rc)
        return rc;
    strata__rfm_rules_free(&h->rules);
    h->rules = r;
    return STRATA_OK;
}

/* ---- scoring ----------------------------------------------------------- */

static int scoring_params(strata_rfm *h)
{
    if (h->ties == STRATA_RFM_TIES_EDGES)
        for (int k = 0; k < 3; k++)
            if (h->ncuts[k] != h->bins - 1)
                return strata__fail(h->msg, STRATA_E_PARAM,
                                    "ties = EDGES with %lld bins needs %lld %s cut points "
                                    "(strata_rfm_set_edges), %lld given",
                                    (long long)h->bins, (long long)(h->bins - 1),
                                    METRIC_NAME[k], (long long)h->ncuts[k]);
    return STRATA_OK;
}

/* Score c with the handle's scoring parameters into *out. */
int strata_rfm_set_progress(strata_rfm *h, strata_step_fn fn, void *user)
{
    CHECK_HANDLE(h);
    h->steps = (strata__steps){fn, user};
    return STRATA_OK;
}

static int score_quietly(strata_rfm *h, const strata__rfm_customers *c, scores *out);

/* Scoring reported as STRATA_STEP_SCORE before and after. */
static int score(strata_rfm *h, const strata__rfm_customers *c, scores *out)
{
    int rc = strata__step(&h->steps, STRATA_STEP_SCORE, 0, 0, c->n, NAN, h->msg);
    if (rc || (rc = score_quietly(h, c, out)))
        return rc;
    if ((rc = strata__step(&h->steps, STRATA_STEP_SCORE, 0, c->n, c->n, NAN, h->msg)))
        scores_retire(out, &h->spare_scores);
    return rc;
}

static int score_quietly(strata_rfm *h, const strata__rfm_customers *c, scores *out)
{
    int rc = scoring_params(h);
    if (rc)
        return rc;
    scores s = {0};
    const double *const cuts[3] = {h->cuts[0], h->cuts[1], h->cuts[2]};
    rc = strata__rfm_rules_copy(&h->rules, &s.rules) ? STRATA_E_NOMEM : STRATA_OK;
    if (!rc)
        rc = strata__rfm_score(c, (int)h->bins, (int)h->ties, cuts, &s.rules,
                               strata__resolve_threads(h->threads),
                               strata__kernels_get((int)h->kernel), &h->scratch,
                               &h->spare_scores, &s.s, h->msg);
    if (rc) {
        scores_retire(&s, &h->spare_scores);
        if (rc != STRATA_E_NOMEM) /* the message is set */
            return rc;
        return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory scoring %lld customers",
                            (long long)c->n);
    }
    *out = s;
    return STRATA_OK;
}

/* Make c (scored into s) the held result. */
static void hold(strata_rfm *h, strata__rfm_customers *c, const strata__rfm_report *rep,
                 scores *s, int has_days)
{
    strata__rfm_customers_retire(&h->cust, &h->spare_table);
    scores_retire(&h->sc, &h->spare_scores);
    h->cust = *c;
    h->input.known = 0; /* set by strata_rfm_fit_h5() after this */
    h->report = *rep;
    h->sc = *s;
    h->has_days = has_days;
    h->used.time_unit = (int)h->time_unit;
    h->used.frequency_mode = (int)h->frequency_mode;
    h->used.monetary_mode = (int)h->monetary_mode;
    h->used.negative = (int)h->negative;
    h->used.zero = (int)h->zero;
    h->used.duplicates = (int)h->duplicates;
    h->used.min_day = h->min_day;
    h->used.max_day = h->max_day;
    h->used.min_id = h->min_id;
    h->used.memory = h->memory;
}

/* The checks of the aggregation parameters every fit of a log makes first. */
static int log_params(strata_rfm *h)
{
    if (h->min_day > h->max_day)
        return strata__fail(h->msg, STRATA_E_PARAM,
                            "the valid day range is empty: minimum day %lld > maximum day %lld",
                            (long long)h->min_day, (long long)h->max_day);
    return scoring_params(h);
}

static strata__rfm_agg_cfg agg_cfg(const strata_rfm *h)
{
    return (strata__rfm_agg_cfg){
        .time_unit = (int)h->time_unit, .frequency_mode = (int)h->frequency_mode,
        .monetary_mode = (int)h->monetary_mode, .negative = (int)h->negative,
        .zero = (int)h->zero, .duplicates = (int)h->duplicates, .min_day = h->min_day,
        .max_day = h->max_day, .min_id = h->min_id, .reference_day = h->reference_day,
        .threads = strata__resolve_threads(h->threads),
        .kern = strata__kernels_get((int)h->kernel)};
}

/* Score the aggregated log c and hold it (c is released on failure). */
static int fit_done(strata_rfm *h, strata__rfm_customers *c, const strata__rfm_report *rep)
{
    scores s;
    int rc = strata__step(&h->steps, STRATA_STEP_AGGREGATE, 0, rep->rows, rep->rows, NAN, h->msg);
    if (rc || (rc = score(h, c, &s))) {
        strata__rfm_customers_retire(c, &h->spare_table);
        return rc;
    }
    hold(h, c, rep, &s, 1);
    return STRATA_OK;
}

int strata__rfm_dist_begin(strata_rfm *h, strata__rfm_dist *d)
{
    CHECK_HANDLE(h);
    int rc = log_params(h);
    if (rc)
        return rc;
    *d = (strata__rfm_dist){.cfg = agg_cfg(h), .q = (int)h->bins, .ties = (int)h->ties,
                            .threads = strata__resolve_threads(h->threads),
                            .cuts = {h->cuts[0], h->cuts[1], h->cuts[2]}, .rules = &h->rules,
                            .kern = strata__kernels_get((int)h->kernel), .scratch = &h->scratch,
                            .msg = h->msg};
    return STRATA_OK;
}

int strata__rfm_dist_hold(strata_rfm *h, strata__rfm_customers *c, const strata__rfm_report *rep,
                          strata__rfm_scores *s, const char *path)
{
    scores sc = {.s = *s};
    if (strata__rfm_rules_copy(&h->rules, &sc.rules)) {
        scores_retire(&sc, NULL);
        strata__rfm_customers_free(c);
        return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory holding an RFM result");
    }
    hold(h, c, rep, &sc, 1);
    strata__file_id_of(path, "the file the result was computed from", &h->input);
    return STRATA_OK;
}

int strata_rfm_fit(strata_rfm *h, const int64_t *customer_id, const int64_t *time,
                   const double *amount, int64_t n)
{
    CHECK_HANDLE(h);
    if (!customer_id || !time || !amount)
        return strata__fail(h->msg, STRATA_E_NULL, "customer_id, time or amount pointer is NULL");
    if (n < 1)
        return strata__fail(h->msg, STRATA_E_ARG,
                            "the transaction log is empty (n = %lld); at least one row is needed",
                            (long long)n);
    if ((uint64_t)n > SIZE_MAX / 64)
        return strata__fail(h->msg, STRATA_E_ARG, "n = %lld transactions is too many",
                            (long long)n);
    int rc = log_params(h);
    if (rc)
        return rc;
    strata__rfm_agg_cfg cfg = agg_cfg(h);
    strata__rfm_customers c;
    strata__rfm_report rep;
    if ((rc = strata__step(&h->steps, STRATA_STEP_AGGREGATE, 0, 0, n, NAN, h->msg)) ||
        (rc = strata__rfm_aggregate(customer_id, time, amount, n, &cfg, &h->scratch,
                                    &h->spare_table, &c, &rep, h->msg)))
        return rc;
    return fit_done(h, &c, &rep);
}

/* After a fit under a memory budget: the blocks kept for the next call (the
 * records or the scoring temporaries, 8-24 bytes a customer; a previous
 * result's table and scores) are given back, so that the result's writer
 * (40 bytes a customer) has their room. */
static void release_spares(strata_rfm *h)
{
    strata__scratch_free(&h->scratch);
    strata__scratch_free(&h->spare_table);
    strata__scratch_free(&h->spare_scores);
}

int strata_rfm_fit_h5(strata_rfm *h, const char *path, const char *table, const char *customer,
                      const char *time, const char *amount)
{
    CHECK_HANDLE(h);
    if (!path || !customer || !time || !amount)
        return strata__fail(h->msg, STRATA_E_NULL, "file path or column name is NULL");
    strata__h5_transactions tx;
    const char *names[3] = {customer, time, amount};
    table = table && table[0] ? table : NULL;
    int rc, in_memory = 1;
    if (h->memory > 0) { /* out of core when the log does not fit the budget */
        if ((rc = log_params(h)))
            return rc;
        strata__rfm_agg_cfg cfg = agg_cfg(h);
        strata__rfm_customers c;
        strata__rfm_report rep;
        if ((rc = strata__rfm_aggregate_h5(path, table, names, &cfg, (uint64_t)h->memory,
                                           h->tmpdir, &h->spare_table, &c, &rep, &in_memory,
                                           &h->steps, h->msg)))
            return rc;
        if (!in_memory && !(rc = fit_done(h, &c, &rep)))
            strata__file_id_of(path, "the file the result was computed from", &h->input);
        if (!in_memory) {
            release_spares(h);
            return rc;
        }
    }
    if ((rc = strata__h5_read_transactions_steps(path, table, names, (int)h->time_unit, &tx,
                                                 &h->steps, h->msg)))
        return rc;
    rc = strata_rfm_fit(h, tx.customer_id, tx.time, tx.amount, tx.n);
    strata__h5_transactions_free(&tx);
    if (!rc)
        strata__file_id_of(path, "the file the result was computed from", &h->input);
    if (h->memory > 0)
        release_spares(h);
    return rc;
}

typedef struct id_pos {
    int64_t id, pos;
} id_pos;

static int cmp_id(const void *pa, const void *pb)
{
    const id_pos *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

int strata_rfm_fit_aggregates(strata_rfm *h, const int64_t *customer_id, const int64_t *recency,
                              const int64_t *frequency, const double *monetary, int64_t n)
{
    CHECK_HANDLE(h);
    if (!customer_id || !recency || !frequency || !monetary)
        return strata__fail(h->msg, STRATA_E_NULL,
                            "customer_id, recency, frequency or monetary pointer is NULL");
    if (n < 1)
        return strata__fail(h->msg, STRATA_E_ARG, "no customers given (n = %lld)", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (recency[i] < 0)
            return strata__fail(h->msg, STRATA_E_ARG, "customer %lld (row %lld): recency %lld < 0",
                                (long long)customer_id[i], (long long)i, (long long)recency[i]);
        if (frequency[i] < 1)
            return strata__fail(h->msg, STRATA_E_ARG,
                                "customer %lld (row %lld): frequency %lld < 1",
                                (long long)customer_id[i], (long long)i, (long long)frequency[i]);
        if (!isfinite(monetary[i]))
            return strata__fail(h->msg, STRATA_E_NONFINITE,
                                "customer %lld (row %lld): monetary value is not finite",
                                (long long)customer_id[i], (long long)i);
    }
    int rc = scoring_params(h);
    if (rc)
        return rc;
    id_pos *order = strata__alloc((size_t)n, sizeof *order);
    strata__rfm_customers c = {0};
    if (!order || strata__rfm_customers_alloc(&c, n, 0, 0, strata__resolve_threads(h->threads),
                                               &h->spare_table)) {
        strata__free(order);
        return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory for %lld customers",
                            (long long)n);
    }
    int sorted = 1;
    for (int64_t i = 0; i < n; i++) {
        order[i] = (id_pos){customer_id[i], i};
        sorted &= i == 0 || customer_id[i - 1] < customer_id[i];
    }
    if (!sorted)
        qsort(order, (size_t)n, sizeof *order, cmp_id);
    for (int64_t i = 0; i < n; i++) {
        int64_t p = order[i].pos;
        if (i > 0 && order[i].id == order[i - 1].id) {
            rc = strata__fail(h->msg, STRATA_E_ARG, "customer id %lld appears twice (rows %lld "
                              "and %lld)", (long long)order[i].id,
                              (long long)order[i - 1].pos, (long long)p);
            break;
        }
        c.id[i] = order[i].id;
        c.recency[i] = recency[p];
        c.frequency[i] = frequency[p];
        c.monetary[i] = monetary[p];
    }
    strata__free(order);
    scores s;
    if (rc || (rc = score(h, &c, &s))) {
        strata__rfm_customers_retire(&c, &h->spare_table);
        return rc;
    }
    strata__rfm_report rep = {.rows = n, .used = n};
    hold(h, &c, &rep, &s, 0);
    return STRATA_OK;
}

static int check_fitted_msg(const strata_rfm *h, char *msg)
{
    if (!h->cust.id)
        return strata__fail(msg, STRATA_E_STATE,
                            "no RFM result: call strata_rfm_fit (or fit_h5, fit_aggregates) first");
    return STRATA_OK;
}
#define check_fitted(h) check_fitted_msg(h, (h)->msg)

int strata_rfm_score(strata_rfm *h)
{
    CHECK_HANDLE(h);
    int rc = check_fitted(h);
    scores s;
    if (rc || (rc = score(h, &h->cust, &s)))
        return rc;
    scores_retire(&h->sc, &h->spare_scores);
    h->sc = s;
    return STRATA_OK;
}

/* ---- results ----------------------------------------------------------- */

/* Preamble of the const calls that copy a result out (messages: the thread's slot only). */
static int check_out(const strata_rfm *h, const void *out)
{
    int rc = check_fitted_msg(h, NULL);
    if (!rc && !out)
        rc = strata__fail(NULL, STRATA_E_NULL, "output pointer is NULL");
    return rc;
}

int strata_rfm_result_int(const strata_rfm *h, int key, int64_t *out)
{
    CHECK_CONST(h);
    /* the key first: a parameter key is STRATA_E_PARAM, fitted or not */
    int rc = strata__result_check_key(NULL, STRATA_HANDLE_RFM, key, STRATA_VALUE_INT);
    if (rc || (rc = check_out(h, out)))
        return rc;
    const strata__rfm_report *r = &h->report;
    int64_t v;
    switch (key) {
    case STRATA_RFM_RESULT_ROWS: v = r->rows; break;
    case STRATA_RFM_RESULT_ROWS_USED: v = r->used; break;
    case STRATA_RFM_RESULT_BAD_ID: v = r->bad_id; break;
    case STRATA_RFM_RESULT_BAD_TIME: v = r->bad_time; break;
    case STRATA_RFM_RESULT_BAD_AMOUNT: v = r->bad_amount; break;
    case STRATA_RFM_RESULT_NEGATIVE_ROWS: v = r->negative; break;
    case STRATA_RFM_RESULT_ZERO_ROWS: v = r->zero; break;
    case STRATA_RFM_RESULT_DUPLICATE_ROWS: v = r->duplicates; break;
    case STRATA_RFM_RESULT_RETURN_ONLY_ROWS: v = r->return_only; break;
    case STRATA_RFM_RESULT_CUSTOMERS: v = h->cust.n; break;
    case STRATA_RFM_RESULT_FIRST_DAY: v = h->cust.first_day_all; break;
    case STRATA_RFM_RESULT_LAST_DAY: v = h->cust.last_day_all; break;
    case STRATA_RFM_RESULT_REFERENCE_DAY_USED: v = h->cust.reference_day; break;
    case STRATA_RFM_RESULT_BINS_USED: v = h->sc.s.q; break;
    case STRATA_RFM_RESULT_BINS_R: v = h->sc.s.nbins[0]; break;
    case STRATA_RFM_RESULT_BINS_F: v = h->sc.s.nbins[1]; break;
    case STRATA_RFM_RESULT_BINS_M: v = h->sc.s.nbins[2]; break;
    case STRATA_RFM_RESULT_SEGMENTS: v = h->sc.rules.n; break;
    case STRATA_RFM_RESULT_UNMATCHED: v = h->sc.s.unmatched; break;
    default: return strata__fail(NULL, STRATA_E_INTERNAL, "RFM result %d has no slot", key);
    }
    *out = v;
    return STRATA_OK;
}

static int64_t code_base(int64_t q)
{
    return q <= 9 ? 10 : q <= 99 ? 100 : 1000;
}

/* Value i of an integer column (the column was checked). */
static int64_t int_value(const strata_rfm *h, int column, int64_t i)
{
    const strata__rfm_customers *c = &h->cust;
    const strata__rfm_scores *s = &h->sc.s;
    int64_t b = code_base(s->q);
    switch (column) {
    case STRATA_RFM_COL_CUSTOMER_ID: return c->id[i];
    case STRATA_RFM_COL_RECENCY: return c->recency[i];
    case STRATA_RFM_COL_FREQUENCY: return c->frequency[i];
    case STRATA_RFM_COL_FIRST_DAY: return c->first_day ? c->first_day[i] : -1;
    case STRATA_RFM_COL_TENURE: return c->first_day ? c->reference_day - c->first_day[i] : -1;
    case STRATA_RFM_COL_R: return s->r[i];
    case STRATA_RFM_COL_F: return s->f[i];
    case STRATA_RFM_COL_M: return s->m[i];
    case STRATA_RFM_COL_CODE: return ((int64_t)s->r[i] * b + s->f[i]) * b + s->m[i];
    case STRATA_RFM_COL_SCORE: return (int64_t)s->r[i] + s->f[i] + s->m[i];
    default: return s->segment[i];
    }
}

static int is_int_column(int column)
{
    return column >= STRATA_RFM_COL_CUSTOMER_ID && column <= STRATA_RFM_COL_SEGMENT &&
           column != STRATA_RFM_COL_MONETARY;
}

static int check_column(const strata_rfm *h, int column, const void *out, int64_t n)
{
    int rc = check_out(h, out);
    if (rc)
        return rc;
    if (column < STRATA_RFM_COL_CUSTOMER_ID || column > STRATA_RFM_COL_REVENUE)
        return strata__fail(NULL, STRATA_E_PARAM, "unknown RFM column %d", column);
    if (n != h->cust.n)
        return strata__fail(NULL, STRATA_E_ARG, "the result has %lld customers, asked for %lld",
                            (long long)h->cust.n, (long long)n);
    return STRATA_OK;
}

int strata_rfm_column_int64(const strata_rfm *h, int column, int64_t *out, int64_t n)
{
    CHECK_CONST(h);
    int rc = check_column(h, column, out, n);
    if (rc)
        return rc;
    if (!is_int_column(column))
        return strata__fail(NULL, STRATA_E_PARAM,
                            "RFM column %d holds doubles: use strata_rfm_column_double", column);
    for (int64_t i = 0; i < n; i++)
        out[i] = int_value(h, column, i);
    return STRATA_OK;
}

int strata_rfm_column_double(const strata_rfm *h, int column, double *out, int64_t n)
{
    CHECK_CONST(h);
    int rc = check_column(h, column, out, n);
    if (rc)
        return rc;
    const strata__rfm_customers *c = &h->cust;
    if (column == STRATA_RFM_COL_MONETARY)
        memcpy(out, c->monetary, (size_t)n * sizeof *out);
    else if (column == STRATA_RFM_COL_REVENUE)
        memcpy(out, c->revenue ? c->revenue : c->monetary, (size_t)n * sizeof *out);
    else
        for (int64_t i = 0; i < n; i++)
            out[i] = (double)int_value(h, column, i);
    return STRATA_OK;
}

int strata_rfm_edges(const strata_rfm *h, int metric, double *out, int64_t n_edges)
{
    CHECK_CONST(h);
    int rc = check_out(h, out);
    if (rc)
        return rc;
    if (metric < STRATA_RFM_RECENCY || metric > STRATA_RFM_MONETARY)
        return strata__fail(NULL, STRATA_E_ARG, "unknown RFM metric %d", metric);
    if (n_edges != h->sc.s.q + 1)
        return strata__fail(NULL, STRATA_E_ARG, "there are %lld edges (bins + 1), asked for %lld",
                            (long long)(h->sc.s.q + 1), (long long)n_edges);
    memcpy(out, h->sc.s.edges[metric], (size_t)n_edges * sizeof *out);
    return STRATA_OK;
}

int strata_rfm_profile(const strata_rfm *h, int stat, double *out, int64_t n_segments)
{
    CHECK_CONST(h);
    int rc = check_out(h, out);
    if (rc)
        return rc;
    if (stat < 0 || stat >= STRATA__RFM_STATS)
        return strata__fail(NULL, STRATA_E_PARAM, "unknown RFM profile statistic %d", stat);
    if (n_segments != h->sc.rules.n)
        return strata__fail(NULL, STRATA_E_ARG, "there are %lld segments, asked for %lld",
                            (long long)h->sc.rules.n, (long long)n_segments);
    for (int64_t s = 0; s < n_segments; s++)
        out[s] = h->sc.s.profile[s * STRATA__RFM_STATS + stat];
    return STRATA_OK;
}

/* The rule table of the held result, or the one set for the next fit. */
static const strata__rfm_rules *shown_rules(const strata_rfm *h)
{
    return h->cust.id ? &h->sc.rules : &h->rules;
}

const char *strata_rfm_segment_name(const strata_rfm *h, int64_t index)
{
    if (!h)
        return NULL;
    const strata__rfm_rules *r = shown_rules(h);
    return index >= 0 && index < r->n ? r->names[index] : NULL;
}

int strata_rfm_segment_rules(const strata_rfm *h, int32_t *out, int64_t n_rules, int64_t ncols)
{
    CHECK_CONST(h);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "output pointer is NULL");
    const strata__rfm_rules *r = shown_rules(h);
    if (n_rules != r->n)
        return strata__fail(NULL, STRATA_E_ARG, "there are %lld segment rules, asked for %lld",
                            (long long)r->n, (long long)n_rules);
    int rc = check_ncols(NULL, ncols);
    if (rc)
        return rc;
    for (int64_t i = 0; i < n_rules; i++)
        memcpy(out + i * ncols, r->bounds + i * STRATA__RFM_RULE_COLUMNS,
               (size_t)ncols * sizeof *out);
    return STRATA_OK;
}

/* ---- HDF5 output ------------------------------------------------------- */

static const char *const STAT_NAME[STRATA__RFM_STATS] = {
    "count", "customer_share", "revenue", "revenue_share", "mean_recency", "median_recency",
    "mean_frequency", "median_frequency", "mean_monetary", "median_monetary"};

static const char *policy_name(int p)
{
    return p == STRATA_RFM_KEEP ? "keep" : p == STRATA_RFM_DROP ? "drop" : "net";
}

/* The result into a new file at path, or (into != NULL) under group of an
 * output being assembled. */
static int write_result(strata_rfm *h, const char *path, const char *source, int flags,
                        strata__h5_out *into, const char *group)
{
    int rc = check_fitted(h);
    if (rc)
        return rc;
    const strata__rfm_customers *c = &h->cust;
    const strata__rfm_scores *s = &h->sc.s;
    const strata__rfm_rules *rules = &h->sc.rules;
    int64_t n = c->n, nseg = rules->n;
    /* Integer columns derived on the fly are materialised for the writer. */
    static const int INT32_COLS[6] = {STRATA_RFM_COL_R, STRATA_RFM_COL_F, STRATA_RFM_COL_M,
                                      STRATA_RFM_COL_CODE, STRATA_RFM_COL_SCORE,
                                      STRATA_RFM_COL_SEGMENT};
    int32_t *cols32 = strata__alloc((size_t)n * 6, sizeof *cols32);
    int64_t *days = strata__alloc((size_t)n * 2, sizeof *days);
    double *profile = strata__alloc((size_t)(nseg * STRATA__RFM_STATS), sizeof *profile);
    if (!cols32 || !days || !profile) {
        rc = strata__fail(h->msg, STRATA_E_NOMEM, "out of memory writing %lld customers",
                          (long long)n);
        goto done;
    }
    for (int k = 0; k < 6; k++)
        for (int64_t i = 0; i < n; i++)
            cols32[k * n + i] = (int32_t)int_value(h, INT32_COLS[k], i);
    for (int64_t i = 0; i < n; i++) {
        days[i] = int_value(h, STRATA_RFM_COL_FIRST_DAY, i);
        days[n + i] = int_value(h, STRATA_RFM_COL_TENURE, i);
    }
    for (int st = 0; st < STRATA__RFM_STATS; st++) /* stat-major: one dataset per statistic */
        for (int64_t g = 0; g < nseg; g++)
            profile[st * nseg + g] = s->profile[g * STRATA__RFM_STATS + st];
    static const char *const TIES[] = {"rank", "value", "edges"};
    const char *int_names[] = {"rows", "rows_used", "bad_id", "bad_time", "bad_amount",
                               "negative", "zero", "duplicates", "return_only", "customers",
                               "first_day", "last_day", "reference_day", "bins", "bins_r",
                               "bins_f", "bins_m", "unmatched", "min_id", "min_day",
                               "max_day", "memory"};
    const strata__rfm_report *r = &h->report;
    int64_t int_values[] = {r->rows, r->used, r->bad_id, r->bad_time, r->bad_amount,
                            r->negative, r->zero, r->duplicates, r->return_only, n,
                            c->first_day_all, c->last_day_all, c->reference_day, s->q,
                            s->nbins[0], s->nbins[1], s->nbins[2], s->unmatched,
                            h->used.min_id, h->used.min_day, h->used.max_day, h->used.memory};
    const char *str_names[] = {"ties", "time_unit", "frequency_mode", "monetary_mode",
                               "negative_policy", "zero_policy", "duplicates_policy",
                               "strata_version", "source"};
    const char *str_values[] = {
        TIES[s->ties], h->used.time_unit == STRATA_RFM_TIME_SECONDS ? "seconds" : "days",
        h->used.frequency_mode == STRATA_RFM_COUNT_DAYS ? "days" : "rows",
        h->used.monetary_mode == STRATA_RFM_MEAN ? "mean" : "sum", policy_name(h->used.negative),
        policy_name(h->used.zero), policy_name(h->used.duplicates), STRATA_VERSION_STRING,
        source ? source : ""};
    strata__rfm_output o = {
        .n = n, .customer_id = c->id, .recency = c->recency, .frequency = c->frequency,
        .first_day = days, .tenure = days + n, .monetary = c->monetary,
        .revenue = c->revenue ? c->revenue : c->monetary, .r = cols32, .f = cols32 + n,
        .m = cols32 + 2 * n, .code = cols32 + 3 * n, .score = cols32 + 4 * n,
        .segment = cols32 + 5 * n, .nseg = nseg, .names = (const char *const *)rules->names,
        .rules = rules->bounds, .profile = profile, .stat_names = STAT_NAME,
        .nstats = STRATA__RFM_STATS, .q = s->q,
        .edges = {s->edges[0], s->edges[1], s->edges[2]},
        .nattr_int = (int64_t)(sizeof int_names / sizeof *int_names), .attr_int_names = int_names,
        .attr_int_values = int_values,
        .nattr_str = (int64_t)(sizeof str_names / sizeof *str_names), .attr_str_names = str_names,
        .attr_str_values = str_values, .inputs = &h->input, .ninputs = 1,
        .threads = strata__resolve_threads(h->threads),
        .on_disk = h->used.memory > 0}; /* a fit under a budget: no image of the file */
    rc = into ? strata__h5_out_rfm(into, group, &o) : strata__h5_write_rfm(path, &o, flags, h->msg);
done:
    strata__free(profile);
    strata__free(days);
    strata__free(cols32);
    return rc;
}

int strata_rfm_write_h5(strata_rfm *h, const char *path, const char *source, int flags)
{
    CHECK_HANDLE(h);
    if (!path)
        return strata__fail(h->msg, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(h->msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    int rc = check_fitted(h);
    if (rc || (rc = strata__step(&h->steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, h->msg)) ||
        (rc = write_result(h, path, source, flags, NULL, NULL)))
        return rc;
    if (h->steps.fn) /* the file is in place: this call cannot cancel */
        (void)h->steps.fn(h->steps.user, STRATA_STEP_WRITE, 0, 1, 1, NAN);
    return STRATA_OK;
}

int strata__rfm_write_into(strata_rfm *h, const strata_out *o, const char *group,
                           const char *source, char *msg)
{
    CHECK_HANDLE(h);
    int rc = strata__refuse_input_as_output(o->path, &h->input, 1, h->msg);
    if (!rc)
        rc = write_result(h, NULL, source, 0, o->h5, group);
    if (rc && msg && h->msg[0]) /* else the writer's own message is in msg already */
        snprintf(msg, STRATA__MSG_LEN, "%s", h->msg);
    return rc;
}

int strata_rfm_lifecycle(strata_rfm *h, const int64_t thresholds[3], int32_t *stage, int64_t n)
{
    CHECK_HANDLE(h);
    if (!stage)
        return strata__fail(h->msg, STRATA_E_NULL, "strata_rfm_lifecycle: stage is NULL");
    int rc = check_fitted(h);
    if (rc)
        return rc;
    const strata__rfm_customers *c = &h->cust;
    if (!h->has_days || !c->first_day)
        return strata__fail(h->msg, STRATA_E_STATE, "strata_rfm_lifecycle: the held result "
                            "comes from strata_rfm_fit_aggregates(), which has no purchase days");
    if (n != c->n)
        return strata__fail(h->msg, STRATA_E_ARG, "strata_rfm_lifecycle: n = %lld, the handle "
                            "holds %lld customers", (long long)n, (long long)c->n);
    int64_t thr[3];
    if ((rc = strata__lifecycle_thresholds(thresholds, thr, h->msg)))
        return rc;
    int64_t *last = strata__alloc((size_t)n, sizeof *last);
    if (!last)
        return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory for %lld customers",
                            (long long)n);
    for (int64_t i = 0; i < n; i++) /* recency = reference day - last purchase day */
        last[i] = c->reference_day - c->recency[i];
    rc = strata__lifecycle(c->first_day, last, c->frequency, n, c->reference_day, thr, stage,
                           h->msg);
    strata__free(last);
    return rc;
}
