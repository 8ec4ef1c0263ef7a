/* The pipeline of strata tiers (tools/tiers.h), on the public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "cli_scale.h"
#include "tiers.h"

#define MAX_FEATURES 5
#define FEATURE_CLV 4 /* the CLV step's column, not an RFM aggregate */

static const char *const KNOWN[MAX_FEATURES] = {"recency", "frequency", "monetary", "tenure",
                                                "clv"};
static const int KNOWN_COLUMN[MAX_FEATURES] = {STRATA_RFM_COL_RECENCY, STRATA_RFM_COL_FREQUENCY,
                                               STRATA_RFM_COL_MONETARY, STRATA_RFM_COL_TENURE,
                                               -1};

/* The CLV columns written under /clv (one row per customer of /customer_id). */
#define CLV_NCOLS 8
static const int CLV_COLUMN[CLV_NCOLS] = {
    STRATA_CLV_COL_X, STRATA_CLV_COL_T_X, STRATA_CLV_COL_T, STRATA_CLV_COL_ZBAR,
    STRATA_CLV_COL_P_ALIVE, STRATA_CLV_COL_EXPECTED_PURCHASES, STRATA_CLV_COL_EXPECTED_SPEND,
    STRATA_CLV_COL_CLV};
static const char *const CLV_NAME[CLV_NCOLS] = {
    "/clv/x", "/clv/t_x", "/clv/T", "/clv/zbar", "/clv/p_alive", "/clv/expected_purchases",
    "/clv/expected_spend", "/clv/clv"};
#define CLV_COL_OF_CLV 7 /* index of STRATA_CLV_COL_CLV in CLV_COLUMN */

void tiers_options_init(tiers_options *o)
{
    *o = (tiers_options){.k_min = 2, .k_max = 10, .n_init = 3, .max_iter = 300,
                         .sample = 10000, .days = {30, 90, 365}, .clv_months = 12,
                         .discount_rate = 0.01, .clv_period = STRATA_CLV_WEEKS};
    rfm_options_init(&o->rfm);
}

/* Everything a run holds, freed by release(). */
typedef struct run {
    strata_rfm *rfm;
    strata_clv *clv; /* the CLV step, or NULL */
    double *clv_cols[CLV_NCOLS]; /* per RFM customer (NaN: not in the CLV model) */
    int64_t clv_missing;          /* RFM customers the CLV model does not hold */
    int value_clv;                /* --value clv */
    strata_model *model;
    strata_kmeans *sweep_km;
    strata_profile *by_cluster, *by_tier;
    strata_out *out;
    int64_t n, d, k, t, k_lo; /* k_lo: the first k of the sweep */
    int feature[MAX_FEATURES];
    const char *names[MAX_FEATURES];
    double *x, *scaled, *sweep;
    int64_t *ids, *tier_stage;
    int32_t *labels, *tiers, *stage;
    char *source, *init_file;
    const char *init_dataset;
    int64_t suggested;
    int init_code; /* the seeding of every fit (k-means++ unless --init names another) */
    double secs[6]; /* wall seconds per step: aggregate, sweep, fit, profiles, write */
} run;

static void release(run *r)
{
    strata_out_discard(r->out);
    strata_profile_free(r->by_cluster);
    strata_profile_free(r->by_tier);
    strata_kmeans_free(r->sweep_km);
    strata_model_free(r->model);
    strata_rfm_free(r->rfm);
    strata_clv_free(r->clv);
    for (int c = 0; c < CLV_NCOLS; c++)
        free(r->clv_cols[c]);
    free(r->x);
    free(r->scaled);
    free(r->sweep);
    free(r->ids);
    free(r->tier_stage);
    free(r->labels);
    free(r->tiers);
    free(r->stage);
    free(r->source);
    free(r->init_file);
}

#define TRY(call, errfn)                                                           \
    do {                                                                           \
        int st_ = (call);                                                          \
        if (st_ != STRATA_OK)                                                      \
            return cli_library_error(st_, errfn);                                  \
    } while (0)

/* --features "recency,monetary" into column choices. */
static int parse_features(const char *text, run *r)
{
    const char *p = text ? text : "recency,frequency,monetary";
    r->d = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int j = 0; j < MAX_FEATURES; j++)
            if (strlen(KNOWN[j]) == len && !strncmp(p, KNOWN[j], len))
                found = j;
        if (found < 0)
            return cli_error(CLI_USAGE, "--features: unknown feature '%.*s' (recency, "
                             "frequency, monetary, tenure or clv)", (int)len, p);
        for (int64_t j = 0; j < r->d; j++)
            if (r->feature[j] == found)
                return cli_error(CLI_USAGE, "--features: '%s' given twice", KNOWN[found]);
        if (r->d == MAX_FEATURES)
            return cli_error(CLI_USAGE, "--features: at most %d features", MAX_FEATURES);
        r->feature[r->d] = found;
        r->names[r->d++] = KNOWN[found];
        p += len;
        if (*p == ',' && !*++p)
            return cli_error(CLI_USAGE, "--features ends with a comma");
    }
    return r->d ? CLI_OK : cli_error(CLI_USAGE, "--features is empty");
}

static int has_feature(const run *r, int which)
{
    for (int64_t j = 0; j < r->d; j++)
        if (r->feature[j] == which)
            return 1;
    return 0;
}

/* The CLV step: BG/NBD + Gamma-Gamma on the same log (strata clv), the
 * calibration ending on --calibration-end or the run's reference day; its
 * columns matched to the RFM customers by id (both ascending). */
static int clv_step(const tiers_options *o, run *r)
{
    int64_t end = o->clv_end;
    if (!o->has_clv_end)
        TRY(strata_rfm_result_int(r->rfm, STRATA_RFM_RESULT_REFERENCE_DAY_USED, &end),
            strata_last_error());
    TRY(strata_clv_create(&r->clv), strata_last_error());
    strata_clv *h = r->clv;
    const char *err = strata_clv_last_error(h);
    TRY(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, end), err);
    TRY(strata_clv_set_int(h, STRATA_CLV_TIME_UNIT, o->rfm.time_unit), err);
    TRY(strata_clv_set_int(h, STRATA_CLV_PERIOD, o->clv_period), err);
    TRY(strata_clv_set_int(h, STRATA_CLV_CLV_MONTHS, o->clv_months), err);
    TRY(strata_clv_set_double(h, STRATA_CLV_DISCOUNT_RATE, o->discount_rate), err);
    TRY(strata_clv_set_int(h, STRATA_CLV_THREADS, o->threads), err);
    TRY(strata_clv_set_progress(h, cli_progress_step, CLI_PROGRESS_LOGLIK), err);
    const rfm_options *f = &o->rfm;
    TRY(strata_clv_fit_h5(h, o->input, f->table, f->customer, f->time, f->amount), err);
    double count;
    TRY(strata_clv_result_double(h, STRATA_CLV_RESULT_CUSTOMERS, &count), strata_last_error());
    int64_t m = (int64_t)count, n = r->n;
    int64_t *ids = malloc((size_t)(m > 0 ? m : 1) * sizeof *ids);
    double *col = malloc((size_t)(m > 0 ? m : 1) * sizeof *col);
    int64_t *at = malloc((size_t)(n > 0 ? n : 1) * sizeof *at); /* CLV row of each customer */
    int ok = ids && col && at;
    for (int c = 0; c < CLV_NCOLS && ok; c++)
        ok = (r->clv_cols[c] = malloc((size_t)(n > 0 ? n : 1) * sizeof(double))) != NULL;
    if (!ok) {
        free(ids);
        free(col);
        free(at);
        return cli_error(CLI_RUNTIME, "out of memory for %lld customers", (long long)n);
    }
    int st = strata_clv_column_int64(h, STRATA_CLV_COL_CUSTOMER_ID, ids, m);
    r->clv_missing = 0;
    for (int64_t i = 0, j = 0; i < n && !st; i++) {
        while (j < m && ids[j] < r->ids[i])
            j++;
        at[i] = j < m && ids[j] == r->ids[i] ? j : -1;
        r->clv_missing += at[i] < 0;
    }
    for (int c = 0; c < CLV_NCOLS && !st; c++) {
        st = strata_clv_column_double(h, CLV_COLUMN[c], col, m);
        for (int64_t i = 0; i < n && !st; i++)
            r->clv_cols[c][i] = at[i] >= 0 ? col[at[i]] : NAN;
    }
    free(ids);
    free(col);
    free(at);
    if (st)
        return cli_library_error(st, strata_last_error());
    return CLI_OK;
}

/* Clean and aggregate the log; the features (original units) and stages. */
static int aggregate(const tiers_options *o, run *r)
{
    TRY(strata_rfm_create(&r->rfm), strata_last_error());
    int rc = rfm_configure(r->rfm, &o->rfm);
    if (rc)
        return rc;
    TRY(strata_rfm_set_int(r->rfm, STRATA_THREADS, o->threads), strata_rfm_last_error(r->rfm));
    TRY(strata_rfm_set_progress(r->rfm, cli_progress_step, NULL), strata_rfm_last_error(r->rfm));
    const rfm_options *f = &o->rfm;
    TRY(strata_rfm_fit_h5(r->rfm, o->input, f->table, f->customer, f->time, f->amount),
        strata_rfm_last_error(r->rfm));
    TRY(strata_rfm_result_int(r->rfm, STRATA_RFM_RESULT_CUSTOMERS, &r->n), strata_last_error());
    int64_t n = r->n, d = r->d;
    r->x = malloc((size_t)(n * d) * sizeof *r->x);
    r->ids = malloc((size_t)n * sizeof *r->ids);
    r->stage = malloc((size_t)n * sizeof *r->stage);
    int64_t *col = malloc((size_t)n * sizeof *col);
    double *dcol = malloc((size_t)n * sizeof *dcol);
    if (!r->x || !r->ids || !r->stage || !col || !dcol) {
        free(col);
        free(dcol);
        return cli_error(CLI_RUNTIME, "out of memory for %lld customers", (long long)n);
    }
    int st = strata_rfm_column_int64(r->rfm, STRATA_RFM_COL_CUSTOMER_ID, r->ids, n);
    if (!st && o->clv) {
        int crc = clv_step(o, r);
        if (crc) {
            free(col);
            free(dcol);
            return crc;
        }
    }
    if (!st && has_feature(r, FEATURE_CLV) && r->clv_cols[0]) {
        /* a customer the CLV model holds with no CLV (its fit failed: no
         * repeat buyers for Gamma-Gamma) would be clustered and ranked as 0 */
        int64_t held = 0, none = 0, repeat = 0;
        for (int64_t i = 0; i < n; i++) {
            const int in = !isnan(r->clv_cols[0][i]); /* x: NaN only where not held */
            held += in;
            none += in && isnan(r->clv_cols[CLV_COL_OF_CLV][i]);
            repeat += in && r->clv_cols[0][i] > 0;
        }
        if (none) {
            free(col);
            free(dcol);
            return cli_error(CLI_RUNTIME,
                             "no CLV for %lld of the %lld customers the CLV model holds (its "
                             "spend model, Gamma-Gamma, needs repeat buyers: %lld in the "
                             "calibration period): clv can be neither a feature nor the tier "
                             "value here; leave it out of --features and use --value rfm "
                             "(--clv alone still writes the CLV columns)",
                             (long long)none, (long long)held, (long long)repeat);
        }
    }
    for (int64_t j = 0; j < d && !st; j++) {
        int c = KNOWN_COLUMN[r->feature[j]];
        if (r->feature[j] == FEATURE_CLV) { /* not in the CLV model: no value expected, 0 */
            for (int64_t i = 0; i < n; i++)
                dcol[i] = isnan(r->clv_cols[CLV_COL_OF_CLV][i]) ? 0.0
                                                                 : r->clv_cols[CLV_COL_OF_CLV][i];
        } else if (c == STRATA_RFM_COL_MONETARY) {
            st = strata_rfm_column_double(r->rfm, c, dcol, n);
        } else {
            st = strata_rfm_column_int64(r->rfm, c, col, n);
            for (int64_t i = 0; i < n && !st; i++)
                dcol[i] = (double)col[i];
        }
        for (int64_t i = 0; i < n && !st; i++)
            r->x[i * d + j] = dcol[i];
    }
    free(col);
    free(dcol);
    if (st) /* const calls: their message is the thread's */
        return cli_library_error(st, strata_last_error());
    TRY(strata_rfm_lifecycle(r->rfm, o->days, r->stage, n), strata_last_error());
    return CLI_OK;
}

/* Set up the model: k-means parameters, transform, tier names. */
static int configure(const tiers_options *o, run *r, int transform)
{
    TRY(strata_model_create(&r->model), strata_last_error());
    strata_kmeans *km = strata_model_kmeans(r->model);
    const char *err = strata_kmeans_last_error(km);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_K, o->k_min), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, o->max_iter), err);
    TRY(strata_kmeans_set_int(km, STRATA_THREADS, o->threads), err);
    TRY(strata_kmeans_set_step_progress(km, cli_progress_step, NULL), err);
    if (o->init) {
        int code = cli_init_method(o->init);
        if (code >= 0) {
            r->init_code = code;
            TRY(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, code), err);
        } else if (cli_split_target(o->init, &r->init_file, &r->init_dataset) == CLI_OK) {
            if (o->k_min != o->k_max)
                return cli_error(CLI_USAGE, "--init FILE:/dataset fixes k: give one -k");
            TRY(strata_kmeans_set_init_centroids_h5(km, r->init_file, r->init_dataset), err);
        } else {
            return cli_error(CLI_USAGE, "--init must be k-means++, k-means||, afk-mc2, random "
                             "or FILE.h5:/dataset, got '%s'", o->init);
        }
    }
    const char *merr = strata_model_last_error(r->model);
    TRY(strata_model_set_transform(r->model, -1, transform), merr);
    if (r->value_clv) { /* --value clv: a cluster's value is its (scaled) CLV centroid */
        double w[MAX_FEATURES] = {0};
        for (int64_t j = 0; j < r->d; j++)
            w[j] = r->feature[j] == FEATURE_CLV ? 1.0 : 0.0;
        TRY(strata_model_set_value_weights(r->model, w, r->d), merr);
    }
    TRY(strata_model_set_source(r->model, r->source), merr);
    return CLI_OK;
}

/* With a range of k: fit the scaling alone (a model of one cluster), sweep
 * on the scaled rows, and keep the suggested k. */
static int choose_k(const tiers_options *o, run *r)
{
    int64_t n = r->n, d = r->d;
    r->k_lo = o->k_min;
    if (o->tiers) { /* every tier needs a cluster: the range starts at the tier count */
        int64_t t = 1;
        for (const char *p = o->tiers; *p; p++)
            t += *p == ',';
        if (t > o->k_max)
            return cli_error(CLI_USAGE, "--tiers names %lld tiers, more than the %lld clusters "
                             "of -k", (long long)t, (long long)o->k_max);
        if (t > r->k_lo)
            r->k_lo = t;
    }
    int64_t nk = o->k_max - r->k_lo + 1;
    if (r->k_lo == o->k_max) {
        r->k = o->k_max;
        return CLI_OK;
    }
    const char *merr = strata_model_last_error(r->model);
    strata_kmeans *mkm = strata_model_kmeans(r->model);
    const char *kerr = strata_kmeans_last_error(mkm);
    TRY(strata_kmeans_set_int(mkm, STRATA_KMEANS_K, 1), kerr);
    TRY(strata_kmeans_set_int(mkm, STRATA_KMEANS_N_INIT, 1), kerr);
    TRY(strata_model_fit(r->model, r->x, n, d, 0, r->names, NULL), merr);
    TRY(strata_kmeans_set_int(mkm, STRATA_KMEANS_N_INIT, o->n_init), kerr);
    r->scaled = malloc((size_t)(n * d) * sizeof *r->scaled);
    r->sweep = malloc((size_t)(nk * STRATA_METRIC_COUNT) * sizeof *r->sweep);
    if (!r->scaled || !r->sweep)
        return cli_error(CLI_RUNTIME, "out of memory for %lld scaled rows", (long long)n);
    TRY(strata_model_scale(r->model, r->x, n, d, 0, r->scaled), strata_last_error());
    TRY(strata_kmeans_create(&r->sweep_km), strata_last_error());
    strata_kmeans *km = r->sweep_km;
    TRY(strata_kmeans_set_step_progress(km, cli_progress_step, NULL), strata_kmeans_last_error(km));
    const char *err = strata_kmeans_last_error(km);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, o->max_iter), err);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, r->init_code), err);
    TRY(strata_kmeans_set_int(km, STRATA_THREADS, o->threads), err);
    int64_t sample = o->sample < n ? o->sample : n;
    cli_progress_sweep(r->k_lo, o->k_max);
    const int st = strata_kmeans_sweep(km, STRATA_FLOAT64, r->scaled, n, d, 0, NULL, r->k_lo,
                                       o->k_max, sample, r->sweep, &r->suggested);
    cli_progress_sweep(0, -1);
    TRY(st, err);
    r->k = r->suggested;
    return CLI_OK;
}

/* The model at the chosen k (the tier names are set now: a range may start
 * below their count), its labels and tiers, the profiles. */
static int fit(const tiers_options *o, run *r)
{
    int64_t n = r->n;
    const char *merr = strata_model_last_error(r->model);
    strata_kmeans *km = strata_model_kmeans(r->model);
    TRY(strata_kmeans_set_int(km, STRATA_KMEANS_K, r->k), strata_kmeans_last_error(km));
    if (o->tiers)
        TRY(strata_model_set_tier_names(r->model, o->tiers), merr);
    double t0 = cli_now();
    TRY(strata_model_fit(r->model, r->x, n, r->d, 0, r->names, NULL), merr);
    if (!r->scaled) { /* one k: the scaled rows of this fit */
        r->scaled = malloc((size_t)(n * r->d) * sizeof *r->scaled);
        if (!r->scaled)
            return cli_error(CLI_RUNTIME, "out of memory for %lld scaled rows", (long long)n);
        TRY(strata_model_scale(r->model, r->x, n, r->d, 0, r->scaled), strata_last_error());
    }
    r->t = strata_model_tier_count(r->model);
    r->labels = malloc((size_t)n * sizeof *r->labels);
    r->tiers = malloc((size_t)n * sizeof *r->tiers);
    r->tier_stage = malloc((size_t)(r->t * 4) * sizeof *r->tier_stage);
    if (!r->labels || !r->tiers || !r->tier_stage)
        return cli_error(CLI_RUNTIME, "out of memory for %lld labels", (long long)n);
    TRY(strata_model_labels(r->model, r->labels, n), strata_last_error());
    TRY(strata_model_tiers(r->model, r->tiers, n), strata_last_error());
    TRY(strata_crosstab(r->tiers, r->t, r->stage, 4, n, r->tier_stage), strata_last_error());
    double t1 = cli_now();
    r->secs[2] = t1 - t0;
    TRY(strata_profile_compute(&r->by_cluster, r->x, n, r->d, 0, r->names, r->labels, r->k, NULL,
                               (int)o->threads),
        strata_last_error());
    TRY(strata_profile_compute(&r->by_tier, r->x, n, r->d, 0, r->names, r->tiers, r->t, NULL,
                               (int)o->threads),
        strata_last_error());
    r->secs[3] = cli_now() - t1;
    /* the features in original units are not written: their room (8 d bytes
     * a customer) goes to the output's writer */
    free(r->x);
    r->x = NULL;
    return CLI_OK;
}

/* "a,b,c" of n strings (malloc'ed; NULL when out of memory). */
static char *joined(const char *const *v, int64_t n)
{
    size_t len = 1;
    for (int64_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *out = malloc(len), *p = out;
    for (int64_t i = 0; out && i < n; i++)
        p += sprintf(p, "%s%s", i ? "," : "", v[i]);
    if (out && !n)
        *out = '\0';
    return out;
}

/* The run's parameters as root attributes (provenance: the command line that
 * made the file can be read back from it). */
static int write_run_attrs(const tiers_options *o, const run *r, const char *const *tier_names,
                           strata_out *w)
{
    char *features = joined((const char *const *)r->names, r->d);
    char *tiers = joined(tier_names, r->t);
    int st = features && tiers ? STRATA_OK : STRATA_E_NOMEM;
    const struct {
        const char *name;
        int64_t value;
    } ints[] = {{"k", r->k}, {"k_min", o->k_min}, {"k_max", o->k_max}, {"seed", o->seed},
                {"n_init", o->n_init}, {"max_iter", o->max_iter}, {"sample", o->sample},
                {"new_days", o->days[0]}, {"active_days", o->days[1]}, {"lost_days", o->days[2]},
                {"memory", o->rfm.memory}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && !st; i++)
        st = strata_out_attr_int(w, NULL, ints[i].name, ints[i].value);
    if (!st)
        st = strata_out_attr_string(w, NULL, "features", features);
    if (!st)
        st = strata_out_attr_string(w, NULL, "tiers", tiers);
    if (!st)
        st = strata_out_attr_string(w, NULL, "transform", o->transform ? o->transform : "auto");
    if (!st)
        st = strata_out_attr_string(w, NULL, "init", o->init ? o->init : "k-means++");
    if (!st)
        st = strata_out_attr_string(w, NULL, "value", r->value_clv ? "clv" : "rfm");
    free(features);
    free(tiers);
    return st;
}

/* The CLV model's parameters and checks as attributes of /clv. */
static int write_clv_attrs(const tiers_options *o, run *r, strata_out *w)
{
    static const struct {
        const char *name;
        int key;
    } attrs[] = {{"bgnbd_r", STRATA_CLV_RESULT_BGNBD_R},
                 {"bgnbd_alpha", STRATA_CLV_RESULT_BGNBD_ALPHA},
                 {"bgnbd_a", STRATA_CLV_RESULT_BGNBD_A},
                 {"bgnbd_b", STRATA_CLV_RESULT_BGNBD_B},
                 {"bgnbd_loglik", STRATA_CLV_RESULT_BGNBD_LOGLIK},
                 {"gg_p", STRATA_CLV_RESULT_GG_P},
                 {"gg_q", STRATA_CLV_RESULT_GG_Q},
                 {"gg_gamma", STRATA_CLV_RESULT_GG_GAMMA},
                 {"gg_loglik", STRATA_CLV_RESULT_GG_LOGLIK},
                 {"freq_spend_corr", STRATA_CLV_RESULT_FREQ_SPEND_CORR}};
    int st = STRATA_OK;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && !st; i++) {
        double v;
        st = strata_clv_result_double(r->clv, attrs[i].key, &v);
        if (!st)
            st = strata_out_attr_double(w, "/clv", attrs[i].name, v);
    }
    double end = 0, customers = 0, excluded = 0;
    if (!st)
        st = strata_clv_result_double(r->clv, STRATA_CLV_RESULT_CALIBRATION_END, &end);
    if (!st)
        st = strata_clv_result_double(r->clv, STRATA_CLV_RESULT_CUSTOMERS, &customers);
    if (!st)
        st = strata_clv_result_double(r->clv, STRATA_CLV_RESULT_EXCLUDED, &excluded);
    if (!st)
        st = strata_out_attr_int(w, "/clv", "calibration_end", (int64_t)end);
    if (!st)
        st = strata_out_attr_int(w, "/clv", "customers", (int64_t)customers);
    if (!st)
        st = strata_out_attr_int(w, "/clv", "excluded", (int64_t)excluded);
    if (!st)
        st = strata_out_attr_int(w, "/clv", "missing", r->clv_missing);
    if (!st)
        st = strata_out_attr_int(w, "/clv", "clv_months", o->clv_months);
    if (!st)
        st = strata_out_attr_double(w, "/clv", "discount_rate", o->discount_rate);
    if (!st)
        st = strata_out_attr_string(w, "/clv", "period",
                                    o->clv_period == STRATA_CLV_DAYS ? "days" : "weeks");
    if (!st)
        st = strata_out_attr_string(w, "/clv", "value", r->value_clv ? "clv" : "rfm");
    return st;
}

static int write_all(const tiers_options *o, run *r)
{
    const char *inputs[3] = {o->input, r->init_file, o->rfm.segments};
    int ninputs = 0;
    const char *in[3];
    for (int i = 0; i < 3; i++)
        if (inputs[i])
            in[ninputs++] = inputs[i];
    cli_progress_note(STRATA_STEP_WRITE, 0, 1);
    /* under a budget the file is written onto the disk as it is assembled,
     * not built in memory (its image and compression buffers were the peak) */
    const int flags = (o->force ? STRATA_WRITE_FORCE : 0) |
                      (o->rfm.memory > 0 ? STRATA_WRITE_ON_DISK : 0);
    TRY(strata_out_open(&r->out, o->output, in, ninputs, flags), strata_last_error());
    strata_out *w = r->out;
    TRY(strata_out_set_int(w, STRATA_THREADS, o->threads), strata_out_last_error(w));
    const char *stage_names[4];
    for (int s = 0; s < 4; s++)
        stage_names[s] = strata_stage_name(s);
    const char **tier_names = malloc((size_t)r->t * sizeof *tier_names);
    if (!tier_names)
        return cli_error(CLI_RUNTIME, "out of memory");
    for (int64_t t = 0; t < r->t; t++)
        tier_names[t] = strata_model_tier_name(r->model, t);
    int64_t n = r->n;
    int st = strata_out_column_int64(w, "/customer_id", r->ids, n);
    if (!st)
        st = strata_out_column_int32(w, "/labels", r->labels, n);
    if (!st)
        st = strata_out_column_int32(w, "/tier", r->tiers, n);
    if (!st)
        st = strata_out_strings(w, "/tier", "names", tier_names, r->t);
    if (!st)
        st = strata_out_column_int32(w, "/stage", r->stage, n);
    if (!st)
        st = strata_out_strings(w, "/stage", "names", stage_names, 4);
    if (!st)
        st = strata_out_matrix_double(w, "/scaled", r->scaled, n, r->d);
    if (!st)
        st = strata_out_strings(w, "/scaled", "feature_names", r->names, r->d);
    /* written, and not read again: the copies of the model's labels and
     * tiers, the stages and the scaled rows (16 + 8 d bytes a customer) give
     * their room to the parts to come (RFM's writer materialises 40 bytes a
     * customer: the peak of a run under a budget) */
    free(r->labels);
    free(r->tiers);
    free(r->stage);
    free(r->scaled);
    r->labels = r->tiers = r->stage = NULL;
    r->scaled = NULL;
    if (!st)
        st = strata_out_matrix_int64(w, "/tier_stage", r->tier_stage, r->t, 4);
    if (!st)
        st = strata_out_strings(w, "/tier_stage", "tier_names", tier_names, r->t);
    if (!st)
        st = strata_out_strings(w, "/tier_stage", "stage_names", stage_names, 4);
    if (!st)
        st = strata_out_rfm(w, r->rfm, "/rfm", r->source);
    if (!st)
        st = strata_out_model(w, r->model, "/model");
    if (!st)
        st = strata_out_profile(w, r->by_cluster, "/profile");
    if (!st)
        st = strata_out_profile(w, r->by_tier, "/tier_profile");
    if (!st && r->sweep_km)
        st = strata_out_sweep(w, r->k_lo, o->k_max, r->sweep, r->suggested,
                           o->sample < n ? o->sample : n);
    if (!st)
        st = write_run_attrs(o, r, tier_names, w);
    free(tier_names);
    /* /clv's rows are /customer_id's: its own copy makes the group a table
     * keyed by customer (strata kmeans --table /clv) with pandas views */
    if (!st && r->clv)
        st = strata_out_column_int64(w, "/clv/customer_id", r->ids, n);
    for (int c = 0; c < CLV_NCOLS && !st && r->clv; c++)
        st = strata_out_column_double(w, CLV_NAME[c], r->clv_cols[c], n);
    if (!st && r->clv)
        st = write_clv_attrs(o, r, w);
    if (!st)
        st = strata_out_attr_string(w, NULL, "source", r->source);
    if (!st)
        st = strata_out_attr_string(w, NULL, "strata_version", strata_version_string());
    if (st == STRATA_E_NOMEM)
        return cli_error(CLI_RUNTIME, "out of memory writing '%s'", o->output);
    if (st)
        return cli_library_error(st, strata_out_last_error(w));
    r->out = NULL;
    TRY(strata_out_commit(w), strata_last_error());
    cli_progress_note(STRATA_STEP_WRITE, 1, 1);
    return CLI_OK;
}

static void print_summary(const tiers_options *o, run *r, double seconds)
{
    printf("strata tiers: %s -> %s (%.2f s: read + RFM %.2f, sweep %.2f, k-means %.2f, "
           "profiles %.2f, write %.2f)\n", o->input, o->output, seconds, r->secs[0], r->secs[1],
           r->secs[2], r->secs[3], r->secs[4]);
    cli_rfm_print_report(r->rfm);
    if (r->clv) {
        double v[12];
        static const int keys[12] = {
            STRATA_CLV_RESULT_BGNBD_R, STRATA_CLV_RESULT_BGNBD_ALPHA, STRATA_CLV_RESULT_BGNBD_A,
            STRATA_CLV_RESULT_BGNBD_B, STRATA_CLV_RESULT_BGNBD_LOGLIK, STRATA_CLV_RESULT_GG_P,
            STRATA_CLV_RESULT_GG_Q, STRATA_CLV_RESULT_GG_GAMMA, STRATA_CLV_RESULT_FREQ_SPEND_CORR,
            STRATA_CLV_RESULT_CALIBRATION_END, STRATA_CLV_RESULT_CUSTOMERS,
            STRATA_CLV_RESULT_EXCLUDED};
        for (int i = 0; i < 12; i++)
            if (strata_clv_result_double(r->clv, keys[i], &v[i]) != STRATA_OK)
                v[i] = NAN;
        char end[CLI_DAY_TEXT];
        printf("  CLV (calibration end day %s, %.0f customers, %.0f first seen later, %lld "
               "without a CLV row; value: %s):\n", isfinite(v[9]) ? cli_day_text((int64_t)v[9], end) : "?", v[10], v[11],
               (long long)r->clv_missing,
               r->value_clv ? "clv" : "rfm");
        printf("    BG/NBD r = %.4g, alpha = %.4g, a = %.4g, b = %.4g (log-likelihood %.1f)\n",
               v[0], v[1], v[2], v[3], v[4]);
        printf("    Gamma-Gamma p = %.4g, q = %.4g, gamma = %.4g; corr(frequency, spend) = "
               "%.3f\n", v[5], v[6], v[7], v[8]);
    }
    if (r->sweep_km) {
        printf("  k sweep (%lld..%lld; silhouette on %lld rows):\n", (long long)r->k_lo,
               (long long)o->k_max, (long long)(o->sample < r->n ? o->sample : r->n));
        printf("  %4s %14s %12s %10s %12s %12s\n", "k", "inertia", "calinski-h.", "davies-b.",
               "silh.(sq)", "silhouette");
        for (int64_t k = r->k_lo; k <= o->k_max; k++) {
            const double *m = r->sweep + (k - r->k_lo) * STRATA_METRIC_COUNT;
            printf("  %4lld %14.6g %12.6g %10.4f %12.4f %12.4f%s\n", (long long)k,
                   m[STRATA_METRIC_INERTIA], m[STRATA_METRIC_CALINSKI_HARABASZ],
                   m[STRATA_METRIC_DAVIES_BOULDIN], m[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN],
                   m[STRATA_METRIC_SILHOUETTE], k == r->suggested ? "   <- knee" : "");
        }
    }
    /* cluster names "c3 high" for the profile table */
    char (*cname)[48] = malloc((size_t)r->k * sizeof *cname);
    const char **cnames = malloc((size_t)r->k * sizeof *cnames);
    int32_t *ct = malloc((size_t)r->k * sizeof *ct);
    if (cname && cnames && ct && strata_model_cluster_tier(r->model, ct, r->k) == STRATA_OK) {
        for (int64_t c = 0; c < r->k; c++) {
            snprintf(cname[c], sizeof cname[c], "%lld %s", (long long)c,
                     strata_model_tier_name(r->model, ct[c]));
            cnames[c] = cname[c];
        }
        for (int pass = 0; pass < 2; pass++) {
            const strata_profile *p = pass ? r->by_tier : r->by_cluster;
            const char **names = cnames;
            if (pass) /* the tier names, best first, in the first r->t slots */
                for (int64_t t = 0; t < r->t; t++)
                    cnames[t] = strata_model_tier_name(r->model, t);
            int64_t need = strata_profile_format(p, names, NULL, 0);
            char *buf = need > 0 ? malloc((size_t)need + 1) : NULL;
            if (buf && strata_profile_format(p, names, buf, (size_t)need + 1) >= 0)
                printf("  %s:\n%s", pass ? "tiers" : "clusters (number, tier)", buf);
            free(buf);
        }
    }
    free(cname);
    free(cnames);
    free(ct);
    printf("  customers per tier and lifecycle stage:\n  %-12s", "tier");
    for (int s = 0; s < 4; s++)
        printf(" %10s", strata_stage_name(s));
    printf("\n");
    for (int64_t t = 0; t < r->t; t++) {
        printf("  %-12s", strata_model_tier_name(r->model, t));
        for (int s = 0; s < 4; s++)
            printf(" %10lld", (long long)r->tier_stage[t * 4 + s]);
        printf("\n");
    }
}

int tiers_run(const tiers_options *o)
{
    run r = {0};
    int transform = 0;
    int rc = parse_features(o->features, &r);
    if (!rc)
        rc = cli_parse_transform(o->transform ? o->transform : "auto", &transform);
    if (!rc && o->value && strcmp(o->value, "rfm") && strcmp(o->value, "clv"))
        rc = cli_error(CLI_USAGE, "--value must be rfm or clv, got '%s'", o->value);
    if (rc)
        return rc;
    tiers_options with_clv = *o; /* the CLV step on when asked for in any way */
    r.value_clv = o->value && !strcmp(o->value, "clv");
    if (r.value_clv && !has_feature(&r, FEATURE_CLV)) { /* clv joins the features */
        if (r.d == MAX_FEATURES)
            return cli_error(CLI_USAGE, "--value clv: clv cannot join %lld features",
                             (long long)r.d);
        r.feature[r.d] = FEATURE_CLV;
        r.names[r.d++] = KNOWN[FEATURE_CLV];
    }
    with_clv.clv = o->clv || r.value_clv || has_feature(&r, FEATURE_CLV);
    o = &with_clv;
    /* --init FILE.h5:/dataset is an input too: the output may not replace it */
    char *init_file = NULL;
    const char *init_dataset;
    if (o->init && cli_init_method(o->init) < 0 &&
        cli_split_target(o->init, &init_file, &init_dataset) == CLI_RUNTIME)
        return CLI_RUNTIME;
    const cli_input inputs[] = {{o->input, "input file"},
                                {o->rfm.segments, "--segments file"},
                                {init_file, "--init file"}};
    rc = cli_check_files(inputs, 3, o->output, o->force);
    free(init_file);
    if (rc)
        return rc;
    cli_progress_begin("tiers");
    double t0 = cli_now();
    if (!(r.source = rfm_source(o->input, &o->rfm)))
        rc = cli_error(CLI_RUNTIME, "out of memory");
    double t = cli_now();
    if (!rc)
        rc = aggregate(o, &r);
    r.secs[0] = cli_now() - t;
    if (!rc)
        rc = configure(o, &r, transform);
    t = cli_now();
    if (!rc)
        rc = choose_k(o, &r);
    r.secs[1] = cli_now() - t;
    if (!rc)
        rc = fit(o, &r);
    t = cli_now();
    if (!rc)
        rc = write_all(o, &r);
    r.secs[4] = cli_now() - t;
    cli_progress_end();
    if (!rc) /* to /dev/null with --quiet (cli_progress_begin) */
        print_summary(o, &r, cli_now() - t0);
    release(&r);
    return rc;
}
