/* Cluster metrics and the k sweep: argument checks and messages in front of
 * lib/profile/metrics.c (the metrics), lib/kmeans (the fits) and lib/io (the
 * sweep's file). */
#include <math.h>
#include <string.h>

#include "api/kmeans_handle.h"
#include "api/out.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5.h"
#include "kmeans/kmeans.h"
#include "profile/metrics.h"

/* At most this many k in one sweep: more is a mistake, not a request. */
#define SWEEP_MAX_K 1000
/* The sweep keeps every k's labels while they take at most this much
 * (else it refits the suggested k at the end). */
#define SWEEP_KEEP_BYTES ((int64_t)64 << 20)
/* Below this many rows a thread, the k run in parallel, one thread each. */
#define SWEEP_SMALL_ROWS_PER_THREAD 16384

static int check_rows(char *msg, int dtype, const void *x, int64_t n, int64_t d,
                      int64_t *stride)
{
    if (!x)
        return strata__fail(msg, STRATA_E_NULL, "data pointer is NULL");
    if (dtype != STRATA_FLOAT32 && dtype != STRATA_FLOAT64)
        return strata__fail(msg, STRATA_E_PARAM,
                            "dtype must be STRATA_FLOAT32 (1) or STRATA_FLOAT64 (2), got %d", dtype);
    if (n < 2)
        return strata__fail(msg, STRATA_E_ARG, "the metrics need n >= 2 rows, got %lld",
                            (long long)n);
    if (d < 1)
        return strata__fail(msg, STRATA_E_ARG, "d (features) must be >= 1, got %lld",
                            (long long)d);
    if (*stride == 0)
        *stride = d;
    if (*stride < d)
        return strata__fail(msg, STRATA_E_ARG, "row_stride %lld is smaller than d = %lld",
                            (long long)*stride, (long long)d);
    if ((uint64_t)n > (uint64_t)INT64_MAX / (uint64_t)*stride / 8)
        return strata__fail(msg, STRATA_E_ARG, "%lld rows of stride %lld overflow", (long long)n,
                            (long long)*stride);
    return STRATA_OK;
}

static int check_sample(char *msg, int64_t sample_size)
{
    if (sample_size < 0 || sample_size == 1)
        return strata__fail(msg, STRATA_E_ARG,
                            "sample_size must be 0 (every row) or >= 2, got %lld",
                            (long long)sample_size);
    return STRATA_OK;
}

/* Rows the Euclidean silhouette uses for sample_size (checked). */
static int64_t sample_used(int64_t n, int64_t sample_size)
{
    return sample_size == 0 || sample_size >= n ? n : sample_size;
}

/* The s sampled rows of X gathered as doubles (every row when s == n). */
static int gather_sample(const strata__mrows *X, int64_t s, uint64_t seed, double **xs,
                         int64_t **rows, char *msg)
{
    *rows = NULL;
    if (s < X->n) {
        *rows = strata__alloc((size_t)s, sizeof(int64_t));
        if (!*rows)
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a sample of %lld rows",
                                (long long)s);
        strata__sample_rows(X->n, s, seed, *rows);
    }
    *xs = strata__gather_rows(X, *rows, s);
    if (!*xs) {
        strata__free(*rows);
        *rows = NULL;
        return strata__fail(msg, STRATA_E_NOMEM,
                            "out of memory for the %lld x %lld sampled rows", (long long)s,
                            (long long)X->d);
    }
    return STRATA_OK;
}

int strata_silhouette_sample(int64_t n, int64_t sample_size, uint64_t seed, int64_t *out_rows)
{
    if (!out_rows)
        return strata__fail(NULL, STRATA_E_NULL, "strata_silhouette_sample: out_rows is NULL");
    if (n < 1 || sample_size < 1 || sample_size > n)
        return strata__fail(NULL, STRATA_E_ARG,
                            "a sample needs 1 <= sample_size <= n, got %lld of %lld",
                            (long long)sample_size, (long long)n);
    strata__sample_rows(n, sample_size, seed, out_rows);
    return STRATA_OK;
}

int strata_cluster_metrics(int dtype, const void *x, int64_t n, int64_t d, int64_t row_stride,
                           const int32_t *labels, int64_t k, int64_t sample_size, uint64_t seed,
                           int threads, double out[STRATA_METRIC_COUNT])
{
    int rc = check_rows(NULL, dtype, x, n, d, &row_stride);
    if (rc)
        return rc;
    if (!labels || !out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_cluster_metrics: %s is NULL",
                            labels ? "out" : "labels");
    if (k < 2 || k > INT32_MAX)
        return strata__fail(NULL, STRATA_E_ARG, "k must be in [2, 2^31-1], got %lld",
                            (long long)k);
    if ((uint64_t)k > SIZE_MAX / 16 / (uint64_t)(d + 1))
        return strata__fail(NULL, STRATA_E_ARG, "k = %lld clusters of d = %lld are too many",
                            (long long)k, (long long)d);
    if (threads < 0)
        return strata__fail(NULL, STRATA_E_ARG, "threads must be >= 0, got %d", threads);
    if ((rc = check_sample(NULL, sample_size)))
        return rc;
    threads = strata__resolve_threads(threads);
    strata__mrows X = {dtype, x, n, d, row_stride};
    double res[STRATA_METRIC_COUNT];
    if ((rc = strata__metrics_full(&X, labels, k, threads, 0, res, NULL)))
        return rc;

    const int64_t s = sample_used(n, sample_size);
    double *xs;
    int64_t *rows;
    if ((rc = gather_sample(&X, s, seed, &xs, &rows, NULL)))
        return rc;
    int32_t *ls = rows ? strata__alloc((size_t)s, sizeof(int32_t)) : NULL;
    if (rows && !ls)
        rc = strata__fail(NULL, STRATA_E_NOMEM, "out of memory for the sample's labels");
    if (!rc) {
        for (int64_t i = 0; rows && i < s; i++)
            ls[i] = labels[rows[i]];
        rc = strata__silhouette_euclidean(xs, s, d, rows ? ls : labels, &k, 1, threads, NULL,
                                          &res[STRATA_METRIC_SILHOUETTE], NULL);
    }
    strata__free(ls);
    strata__free(xs);
    strata__free(rows);
    if (!rc)
        memcpy(out, res, sizeof res);
    return rc;
}

/* ---- the sweep ------------------------------------------------------------ */

typedef struct sweep_ctx {
    const strata__data *X;
    strata__mrows rows;
    const strata__kmeans_cfg *cfg;
    int64_t k_min, nk, s;
    const int64_t *sample; /* s rows, NULL: every row */
    int fit_threads;
    int keep;                       /* keep every k's model */
    strata__kmeans_model *models;   /* nk when keep */
    double *table;                  /* nk x STRATA_METRIC_COUNT */
    int32_t *sample_labels;         /* nk x s */
    int *rc;                        /* nk */
    int parallel_k;                 /* the k run in parallel (else here, one by one) */
    char *msgs;                     /* nk x STRATA__MSG_LEN */
    int64_t iter_total;             /* ITERATE's total: max_iter (mini-batch: its steps) */
} sweep_ctx;

/* A fit's iteration, made one k after another on the calling thread: the
 * step callback's ITERATE (a report, and a chance to cancel, an iteration
 * rather than a whole fit later). */
static int sweep_iteration(void *user, int64_t run, int64_t iteration, double inertia)
{
    const sweep_ctx *c = user;
    const strata__steps *s = &c->cfg->steps;
    return s->fn(s->user, STRATA_STEP_ITERATE, run, iteration, c->iter_total, inertia);
}

/* Fit one k, rate it, keep its sample labels (and its model when asked). */
static void sweep_one(sweep_ctx *c, int64_t j)
{
    strata__kmeans_cfg cfg = *c->cfg;
    cfg.k = c->k_min + j;
    cfg.threads = c->fit_threads;
    cfg.progress = NULL; /* the progress callback is not called in a sweep */
    if (c->parallel_k)
        cfg.steps = (strata__steps){0}; /* fits on worker threads: no reports */
    else if (cfg.steps.fn) {
        cfg.progress = sweep_iteration;
        cfg.user = c;
    }
    char *msg = c->msgs + j * STRATA__MSG_LEN;
    strata__kmeans_model m = {0};
    int rc = strata__kmeans_fit(c->X, &cfg, &m, msg);
    double *row = c->table + j * STRATA_METRIC_COUNT;
    if (!rc)
        rc = strata__metrics_full(&c->rows, m.labels, cfg.k, c->fit_threads, 1, row, msg);
    if (!rc) {
        row[STRATA_METRIC_INERTIA] = m.inertia;
        int32_t *sl = c->sample_labels + j * c->s;
        for (int64_t i = 0; i < c->s; i++)
            sl[i] = m.labels[c->sample ? c->sample[i] : i];
    }
    if (!rc && c->keep)
        c->models[j] = m;
    else
        strata__kmeans_model_free(&m);
    c->rc[j] = rc;
}

static void sweep_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    for (int64_t j = begin; j < end; j++)
        sweep_one(vctx, j);
}

int strata_kmeans_sweep(strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                        int64_t row_stride, const double *weights, int64_t k_min, int64_t k_max,
                        int64_t sample_size, double *out, int64_t *suggested_k)
{
    if (!km)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans handle is NULL");
    char *msg = strata__kmeans_msg(km);
    msg[0] = '\0';
    if (!out || !suggested_k)
        return strata__fail(msg, STRATA_E_NULL, "strata_kmeans_sweep: %s is NULL",
                            out ? "suggested_k" : "out");
    strata__data X;
    strata__kmeans_cfg cfg;
    int rc = strata__kmeans_prepare(km, dtype, x, n, d, row_stride, weights, &X, &cfg);
    if (rc)
        return rc;
    if (k_min < 2 || k_max < k_min || k_max > n - 1)
        return strata__fail(msg, STRATA_E_ARG,
                            "the k range %lld..%lld must lie within 2..n - 1 = %lld (n = %lld "
                            "rows: customers, in strata tiers): choose a range within it, or "
                            "one k of at most n", (long long)k_min, (long long)k_max,
                            (long long)(n - 1), (long long)n);
    if (k_max - k_min + 1 > SWEEP_MAX_K)
        return strata__fail(msg, STRATA_E_ARG, "a sweep takes at most %d values of k, got %lld",
                            SWEEP_MAX_K, (long long)(k_max - k_min + 1));
    if ((rc = check_sample(msg, sample_size)))
        return rc;
    if (cfg.init == STRATA_INIT_CENTROIDS)
        return strata__fail(msg, STRATA_E_PARAM,
                            "a sweep cannot start from given centroids (they fix one k): "
                            "choose another init");

    const int64_t nk = k_max - k_min + 1, s = sample_used(n, sample_size);
    const int parallel_k = cfg.threads > 1 && nk > 1 &&
                           n < (int64_t)SWEEP_SMALL_ROWS_PER_THREAD * cfg.threads;
    sweep_ctx c = {.X = &X, .rows = {dtype, x, n, d, X.stride}, .cfg = &cfg, .k_min = k_min,
                   .nk = nk, .s = s, .fit_threads = parallel_k ? 1 : cfg.threads,
                   .parallel_k = parallel_k,
                   .keep = parallel_k || nk * n * (int64_t)sizeof(int32_t) <= SWEEP_KEEP_BYTES,
                   .iter_total = strata__kmeans_iter_total(cfg.algorithm, cfg.max_iter,
                                                           cfg.batch_size, n)};
    double *xs = NULL;
    int64_t *sample = NULL;
    c.models = c.keep ? strata__calloc((size_t)nk, sizeof(strata__kmeans_model)) : NULL;
    c.table = strata__alloc((size_t)nk, STRATA_METRIC_COUNT * sizeof(double));
    c.sample_labels = strata__alloc((size_t)nk, (size_t)s * sizeof(int32_t));
    c.rc = strata__calloc((size_t)nk, sizeof(int));
    c.msgs = strata__calloc((size_t)nk, STRATA__MSG_LEN);
    int64_t *ks = strata__alloc((size_t)nk, sizeof(int64_t));
    double *sil = strata__alloc((size_t)nk, sizeof(double));
    double *inertia = strata__alloc((size_t)nk, sizeof(double));
    double *silsq = strata__alloc((size_t)nk, sizeof(double));
    if ((c.keep && !c.models) || !c.table || !c.sample_labels || !c.rc || !c.msgs || !ks ||
        !sil || !inertia || !silsq) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a sweep over %lld values of k",
                          (long long)nk);
        goto done;
    }
    if ((rc = gather_sample(&c.rows, s, (uint64_t)cfg.seed, &xs, &sample, msg)))
        goto done;
    c.sample = sample;

    /* The k in parallel (one chunk each, one thread a fit), or one after
     * another here, each fit on every thread (not inside a region of one).
     * SCORE (done of nk + 1) after each k, or each round of `threads` k in
     * parallel, from this thread; the last unit is the silhouettes. */
    const int64_t per = parallel_k ? cfg.threads : 1;
    if ((rc = strata__step(&cfg.steps, STRATA_STEP_SCORE, 0, 0, nk + 1, NAN, msg)))
        goto done;
    for (int64_t j0 = 0; j0 < nk; j0 += per) {
        const int64_t m = nk - j0 < per ? nk - j0 : per;
        if (!parallel_k) {
            sweep_one(&c, j0);
        } else if (strata__parallel_chunk_range(nk, 1, j0, j0 + m, cfg.threads, NULL,
                                                sweep_chunk, &c)) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory running a sweep");
            goto done;
        }
        int failed = 0;
        for (int64_t j = j0; j < j0 + m; j++)
            failed |= c.rc[j] != 0;
        if (failed)
            break;
        if ((rc = strata__step(&cfg.steps, STRATA_STEP_SCORE, 0, j0 + m, nk + 1, NAN, msg)))
            goto done;
    }
    for (int64_t j = 0; j < nk; j++)
        if (c.rc[j]) {
            rc = strata__fail(msg, c.rc[j], "sweep at k = %lld: %s", (long long)(k_min + j),
                              c.msgs + j * STRATA__MSG_LEN);
            goto done;
        }

    for (int64_t j = 0; j < nk; j++)
        ks[j] = k_min + j;
    if ((rc = strata__silhouette_euclidean(xs, s, d, c.sample_labels, ks, nk, cfg.threads,
                                           &cfg.steps, sil, msg)))
        goto done;
    for (int64_t j = 0; j < nk; j++) {
        c.table[j * STRATA_METRIC_COUNT + STRATA_METRIC_SILHOUETTE] = sil[j];
        inertia[j] = c.table[j * STRATA_METRIC_COUNT + STRATA_METRIC_INERTIA];
        silsq[j] = c.table[j * STRATA_METRIC_COUNT + STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN];
    }
    const int64_t best = strata__knee(k_min, nk, inertia, silsq);

    strata__kmeans_model m = {0};
    if (c.keep) {
        m = c.models[best - k_min];
        c.models[best - k_min] = (strata__kmeans_model){0};
    } else {
        strata__kmeans_cfg refit = cfg;
        refit.k = best;
        refit.progress = NULL;
        if ((rc = strata__kmeans_fit(&X, &refit, &m, msg)))
            goto done;
    }
    if ((rc = strata__step(&cfg.steps, STRATA_STEP_SCORE, 0, nk + 1, nk + 1, NAN, msg))) {
        strata__kmeans_model_free(&m);
        goto done;
    }
    strata__kmeans_adopt(km, &m, &cfg);
    memcpy(out, c.table, (size_t)nk * STRATA_METRIC_COUNT * sizeof(double));
    *suggested_k = best;
done:
    for (int64_t j = 0; c.models && j < nk; j++)
        strata__kmeans_model_free(&c.models[j]);
    strata__free(c.models);
    strata__free(c.table);
    strata__free(c.sample_labels);
    strata__free(c.rc);
    strata__free(c.msgs);
    strata__free(ks);
    strata__free(sil);
    strata__free(inertia);
    strata__free(silsq);
    strata__free(xs);
    strata__free(sample);
    return rc;
}

/* The k range, suggestion and sample size of a sweep's table, checked. */
static int check_table(int64_t k_min, int64_t k_max, const double *table, int64_t suggested_k,
                       int64_t sample_size, char *msg)
{
    if (!table)
        return strata__fail(msg, STRATA_E_NULL, "the sweep's table is NULL");
    if (k_min < 2 || k_max < k_min || k_max - k_min >= SWEEP_MAX_K)
        return strata__fail(msg, STRATA_E_ARG, "bad k range %lld..%lld", (long long)k_min,
                            (long long)k_max);
    if (suggested_k < k_min || suggested_k > k_max || sample_size < 1)
        return strata__fail(msg, STRATA_E_ARG,
                            "suggested_k %lld outside %lld..%lld or sample_size %lld < 1",
                            (long long)suggested_k, (long long)k_min, (long long)k_max,
                            (long long)sample_size);
    return STRATA_OK;
}

int strata__sweep_put(strata__h5_out *o, int64_t k_min, int64_t k_max, const double *table,
                      int64_t suggested_k, int64_t sample_size, char *msg)
{
    static const char *const names[STRATA_METRIC_COUNT] = {
        "/sweep/inertia", "/sweep/calinski_harabasz", "/sweep/davies_bouldin",
        "/sweep/silhouette_sqeuclidean", "/sweep/silhouette"};
    int rc = check_table(k_min, k_max, table, suggested_k, sample_size, msg);
    if (rc)
        return rc;
    const int64_t nk = k_max - k_min + 1;
    int64_t *ks = strata__alloc((size_t)nk, sizeof(int64_t));
    double *col = strata__alloc((size_t)nk, sizeof(double));
    if (!ks || !col)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory writing a sweep");
    for (int64_t j = 0; !rc && j < nk; j++)
        ks[j] = k_min + j;
    if (!rc)
        rc = strata__h5_out_dataset(o, "/sweep/k", STRATA__H5_I64, 1, &nk, ks);
    for (int m = 0; !rc && m < STRATA_METRIC_COUNT; m++) {
        for (int64_t j = 0; j < nk; j++)
            col[j] = table[j * STRATA_METRIC_COUNT + m];
        rc = strata__h5_out_dataset(o, names[m], STRATA__H5_F64, 1, &nk, col);
    }
    if (!rc)
        rc = strata__h5_out_attr(o, "/sweep", "suggested_k", STRATA__H5_I64, &suggested_k);
    if (!rc)
        rc = strata__h5_out_attr(o, "/sweep", "sample_size", STRATA__H5_I64, &sample_size);
    strata__free(ks);
    strata__free(col);
    return rc;
}

int strata_sweep_write_h5(const char *path, int64_t k_min, int64_t k_max, const double *table,
                          int64_t suggested_k, int64_t sample_size, const char *source, int flags)
{
    if (!path || !table)
        return strata__fail(NULL, STRATA_E_NULL, "strata_sweep_write_h5: %s is NULL",
                            path ? "table" : "path");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(NULL, STRATA_E_PARAM, "unknown write flags %d", flags);
    char msg[STRATA__MSG_LEN] = "";
    int rc = check_table(k_min, k_max, table, suggested_k, sample_size, msg);
    if (rc)
        return strata__fail_copy(NULL, rc, msg);
    strata__h5_out *o;
    rc = strata__h5_out_open(&o, path, NULL, 0, flags, msg);
    if (!rc)
        rc = strata__sweep_put(o, k_min, k_max, table, suggested_k, sample_size, msg);
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "strata_version", STRATA_VERSION_STRING);
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "source", source);
    rc = strata__h5_out_finish(o, rc); /* o is NULL if the open failed */
    if (rc && !msg[0])
        strata__fail(msg, rc, "could not write %s", path);
    return rc ? strata__fail_copy(NULL, rc, msg) : STRATA_OK;
}
