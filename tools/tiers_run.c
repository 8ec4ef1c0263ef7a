/* The pipeline of strata tiers (tools/tiers.h), on the public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "cli_scale.h"
#include "tiers.h"

#define MAX_FEATURES 4

static const char *const KNOWN[MAX_FEATURES] = {"recency", "frequency", "monetary", "tenure"};
static const int KNOWN_COLUMN[MAX_FEATURES] = {STRATA_RFM_COL_RECENCY, STRATA_RFM_COL_FREQUENCY,
                                               STRATA_RFM_COL_MONETARY, STRATA_RFM_COL_TENURE};

void tiers_options_init(tiers_options *o)
{
    *o = (tiers_options){.k_min = 2, .k_max = 10, .n_init = 3, .max_iter = 300,
                         .sample = 10000, .days = {30, 90, 365}};
    rfm_options_init(&o->rfm);
}

/* Everything a run holds, freed by release(). */
typedef struct run {
    strata_rfm *rfm;
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
                             "frequency, monetary or tenure)", (int)len, p);
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
    for (int64_t j = 0; j < d && !st; j++) {
        int c = KNOWN_COLUMN[r->feature[j]];
        if (c == STRATA_RFM_COL_MONETARY) {
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
    TRY(strata_kmeans_sweep(km, STRATA_FLOAT64, r->scaled, n, d, 0, NULL, r->k_lo, o->k_max,
                            sample, r->sweep, &r->suggested),
        err);
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
    return CLI_OK;
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
    TRY(strata_out_open(&r->out, o->output, in, ninputs, o->force ? STRATA_WRITE_FORCE : 0),
        strata_last_error());
    strata_out *w = r->out;
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
    free(tier_names);
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
    if (rc)
        return rc;
    const cli_input inputs[] = {{o->input, "input file"}, {o->rfm.segments, "--segments file"}};
    if ((rc = cli_check_files(inputs, 2, o->output, o->force)))
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
    if (!rc && !o->quiet)
        print_summary(o, &r, cli_now() - t0);
    release(&r);
    return rc;
}
