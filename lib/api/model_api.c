/* The tier model handle: settings, argument checks and messages in front of
 * lib/tiers (scaling, ranking) and the k-means handle it owns; save and load
 * through lib/io. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "api/kmeans_handle.h"
#include "api/params.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
#include "tiers/tiers.h"

struct strata_model {
    strata_kmeans *km;
    /* settings */
    int transform_all;       /* for features without their own */
    int64_t ntf;             /* per-feature transforms: (tf_feature[i], tf_value[i]) */
    int64_t *tf_feature;
    int *tf_value;
    double *weights;         /* wd values, or NULL = defaults from the names */
    int64_t wd;
    char *tier_text;         /* NULL = default names */
    char *source;
    char *read_from; /* "MODEL.h5:/group" of strata_model_read_h5(), else NULL */
    strata__file_id file; /* that file (known 0: none), never replaced by a write */
    /* fitted model (fit.centroids == NULL when none) */
    strata__tier_model fit;
    char msg[STRATA__MSG_LEN];
};

static const char *const NULL_MODEL_MSG = "strata_model handle is NULL";

#define CHECK_MODEL(m)                                                      \
    do {                                                                    \
        if (!(m))                                                           \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_MODEL_MSG); \
        (m)->msg[0] = '\0';                                                 \
    } while (0)

/* The const calls (scale, predict, the getters) write nothing into the
 * model, so that many threads may use one fitted model at once: their
 * messages go to the calling thread's slot only (strata_last_error()). */
#define CHECK_CONST(m)                                                      \
    do {                                                                    \
        if (!(m))                                                           \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_MODEL_MSG); \
    } while (0)

int strata_model_create(strata_model **out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model_create: out is NULL");
    strata_model *m = strata__calloc(1, sizeof *m);
    if (!m)
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory creating a model");
    int rc = strata_kmeans_create(&m->km);
    if (rc) {
        strata__free(m);
        return rc;
    }
    m->transform_all = STRATA_TRANSFORM_AUTO;
    *out = m;
    return STRATA_OK;
}

void strata_model_free(strata_model *m)
{
    if (!m)
        return;
    strata_kmeans_free(m->km);
    strata__tier_model_free(&m->fit);
    strata__free(m->tf_feature);
    strata__free(m->tf_value);
    strata__free(m->weights);
    strata__free(m->tier_text);
    strata__free(m->source);
    strata__free(m->read_from);
    strata__free(m);
}

const char *strata_model_last_error(const strata_model *m)
{
    return m ? m->msg : NULL_MODEL_MSG;
}

strata_kmeans *strata_model_kmeans(strata_model *m)
{
    return m ? m->km : NULL;
}

static int transform_ok(int t)
{
    return t == STRATA_TRANSFORM_AUTO || strata__transform_valid(t);
}

int strata_model_set_transform(strata_model *m, int64_t feature, int transform)
{
    CHECK_MODEL(m);
    if (!transform_ok(transform))
        return strata__fail(m->msg, STRATA_E_PARAM, "unknown transform %d (NONE 0, ZSCORE 1, "
                            "ROBUST 2, MINMAX 3, AUTO 4, each of 0..3 possibly | LOG1P 16)",
                            transform);
    if (feature < -1 || feature > INT32_MAX)
        return strata__fail(m->msg, STRATA_E_PARAM, "feature must be -1 (all) or in [0, 2^31), "
                            "got %lld", (long long)feature);
    if (feature == -1) {
        m->transform_all = transform;
        m->ntf = 0;
        return STRATA_OK;
    }
    for (int64_t i = 0; i < m->ntf; i++)
        if (m->tf_feature[i] == feature) {
            m->tf_value[i] = transform;
            return STRATA_OK;
        }
    int64_t *f = strata__grow(m->tf_feature, (size_t)m->ntf, (size_t)m->ntf + 1, sizeof *f);
    if (!f)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    m->tf_feature = f;
    int *v = strata__grow(m->tf_value, (size_t)m->ntf, (size_t)m->ntf + 1, sizeof *v);
    if (!v)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    m->tf_value = v;
    f[m->ntf] = feature;
    v[m->ntf] = transform;
    m->ntf++;
    return STRATA_OK;
}

int strata_model_set_value_weights(strata_model *m, const double *w, int64_t d)
{
    CHECK_MODEL(m);
    if (!w) {
        strata__free(m->weights);
        m->weights = NULL;
        m->wd = 0;
        return STRATA_OK;
    }
    if (d < 1 || d > INT32_MAX)
        return strata__fail(m->msg, STRATA_E_ARG, "value weights: d must be >= 1, got %lld",
                            (long long)d);
    int any = 0;
    for (int64_t j = 0; j < d; j++) {
        if (!isfinite(w[j]))
            return strata__fail(m->msg, STRATA_E_PARAM, "value weight %lld is not finite (%g)",
                                (long long)j, w[j]);
        any |= w[j] != 0.0;
    }
    if (!any)
        return strata__fail(m->msg, STRATA_E_PARAM, "value weights are all 0: every cluster "
                            "would score the same");
    double *copy = strata__alloc((size_t)d, sizeof *copy);
    if (!copy)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    memcpy(copy, w, (size_t)d * sizeof *copy);
    strata__free(m->weights);
    m->weights = copy;
    m->wd = d;
    return STRATA_OK;
}

/* Split "a, b ,c" into trimmed names; checks each. names NULL: count only. */
static int parse_tier_names(const char *text, char **names, int64_t *count, char *msg)
{
    int64_t n = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t len = (size_t)(b - a);
        if (len == 0)
            return strata__fail(msg, STRATA_E_PARAM, "tier names '%s': name %lld is empty",
                                text, (long long)n + 1);
        if (len > STRATA__NAME_MAX)
            return strata__fail(msg, STRATA_E_PARAM, "tier names: name %lld is %zu bytes "
                                "(at most %d)", (long long)n + 1, len, STRATA__NAME_MAX);
        if (n >= STRATA__TIERS_MAX)
            return strata__fail(msg, STRATA_E_PARAM, "tier names: more than %d tiers",
                                STRATA__TIERS_MAX);
        if (names) {
            if (!(names[n] = strata__strndup(a, len)))
                return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
            for (int64_t i = 0; i < n; i++)
                if (!strcmp(names[i], names[n]))
                    return strata__fail(msg, STRATA_E_PARAM, "tier names: '%s' is repeated",
                                        names[n]);
        }
        n++;
        if (!*end)
            break;
        p = end + 1;
    }
    *count = n;
    return STRATA_OK;
}

static void free_names(char **names, int64_t n)
{
    for (int64_t i = 0; names && i < n; i++)
        strata__free(names[i]);
    strata__free(names);
}

int strata_model_set_tier_names(strata_model *m, const char *text)
{
    CHECK_MODEL(m);
    char *copy = NULL;
    if (text) {
        char *names[STRATA__TIERS_MAX + 1] = {0};
        int64_t n = 0;
        int rc = parse_tier_names(text, names, &n, m->msg);
        for (int i = 0; i <= STRATA__TIERS_MAX; i++)
            strata__free(names[i]);
        if (rc)
            return rc;
        if (!(copy = strata__strndup(text, strlen(text))))
            return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    }
    strata__free(m->tier_text);
    m->tier_text = copy;
    return STRATA_OK;
}

int strata_model_set_source(strata_model *m, const char *source)
{
    CHECK_MODEL(m);
    char *copy = strata__strndup(source ? source : "", strlen(source ? source : ""));
    if (!copy)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    strata__free(m->source);
    m->source = copy;
    return STRATA_OK;
}

/* Feature names: copies of names[], or x0, x1, ... */
static int make_feature_names(strata_model *m, const char *const *names, int64_t d, char ***out)
{
    char **v = strata__calloc((size_t)d, sizeof *v);
    if (!v)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
    for (int64_t j = 0; j < d; j++) {
        char buf[32];
        const char *s = names ? names[j] : buf;
        if (!names)
            snprintf(buf, sizeof buf, "x%lld", (long long)j);
        int rc = STRATA_OK;
        if (!s)
            rc = strata__fail(m->msg, STRATA_E_NULL, "feature name %lld is NULL", (long long)j);
        else if (!s[0] || strlen(s) > STRATA__NAME_MAX)
            rc = strata__fail(m->msg, STRATA_E_ARG, "feature name %lld is %s", (long long)j,
                              s[0] ? "longer than 127 bytes" : "empty");
        for (int64_t i = 0; !rc && i < j; i++)
            if (!strcmp(v[i], s))
                rc = strata__fail(m->msg, STRATA_E_ARG, "feature name '%s' is repeated "
                                  "(features %lld and %lld)", s, (long long)i, (long long)j);
        if (!rc && !(v[j] = strata__strndup(s, strlen(s))))
            rc = strata__fail(m->msg, STRATA_E_NOMEM, "out of memory");
        if (rc) {
            free_names(v, d);
            return rc;
        }
    }
    *out = v;
    return STRATA_OK;
}

static int check_rows(char *msg, const double *x, int64_t n, int64_t d, int64_t *stride)
{
    if (!x)
        return strata__fail(msg, STRATA_E_NULL, "data pointer is NULL");
    if (n < 1 || d < 1 || d > INT32_MAX)
        return strata__fail(msg, STRATA_E_ARG, "need n >= 1 rows and d >= 1 features, got "
                            "%lld x %lld", (long long)n, (long long)d);
    if (*stride == 0)
        *stride = d;
    if (*stride < d)
        return strata__fail(msg, STRATA_E_ARG, "row_stride %lld is smaller than d = %lld",
                            (long long)*stride, (long long)d);
    if ((uint64_t)n > (uint64_t)INT64_MAX / 16 / (uint64_t)*stride)
        return strata__fail(msg, STRATA_E_ARG, "%lld rows of stride %lld overflow",
                            (long long)n, (long long)*stride);
    return STRATA_OK;
}

static void utc_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(buf, cap, "unknown");
}

/* Copy the message of a failed call on the k-means handle into the model's. */
static int km_fail(strata_model *m, int rc)
{
    /* the thread's slot: every failing call, const ones too, leaves its message there */
    char why[STRATA__MSG_LEN];
    snprintf(why, sizeof why, "%s", strata_last_error());
    return strata__fail(m->msg, rc, "k-means: %s", why);
}

int strata_model_fit(strata_model *m, const double *x, int64_t n, int64_t d, int64_t row_stride,
                     const char *const *names, const double *weights)
{
    CHECK_MODEL(m);
    int rc = check_rows(m->msg, x, n, d, &row_stride);
    if (rc)
        return rc;
    int64_t k;
    if ((rc = strata_kmeans_get_int(m->km, STRATA_KMEANS_K, &k)))
        return km_fail(m, rc);
    for (int64_t i = 0; i < m->ntf; i++)
        if (m->tf_feature[i] >= d)
            return strata__fail(m->msg, STRATA_E_ARG, "a transform was set for feature %lld, "
                                "but the data have d = %lld features", (long long)m->tf_feature[i],
                                (long long)d);
    if (m->weights && m->wd != d)
        return strata__fail(m->msg, STRATA_E_ARG, "%lld value weights were set for d = %lld "
                            "features", (long long)m->wd, (long long)d);
    const char *tier_text = m->tier_text ? m->tier_text
                            : k >= 3 ? "high,mid,low" : k == 2 ? "high,low" : "all";
    strata__tier_model f = {.k = k, .d = d, .n = n, .n_train = n};
    int *req = NULL;
    double *z = NULL;
    char *tiers[STRATA__TIERS_MAX + 1] = {0};
    if ((rc = parse_tier_names(tier_text, tiers, &f.ntiers, m->msg)))
        goto fail;
    if (f.ntiers > k) {
        rc = strata__fail(m->msg, STRATA_E_ARG, "%lld tier names (%s) for k = %lld clusters: "
                          "each tier needs at least one cluster", (long long)f.ntiers, tier_text,
                          (long long)k);
        goto fail;
    }
    if ((rc = make_feature_names(m, names, d, &f.names)))
        goto fail;
    size_t dd = (size_t)d, kd = (size_t)(k * d);
    f.tier_names = strata__calloc((size_t)f.ntiers, sizeof(char *));
    f.transform = strata__alloc(dd, sizeof(int32_t));
    f.center = strata__alloc(dd, sizeof(double));
    f.scale = strata__alloc(dd, sizeof(double));
    f.weights = strata__alloc(dd, sizeof(double));
    f.centroids = strata__alloc(kd, sizeof(double));
    f.centroids_orig = strata__alloc(kd, sizeof(double));
    f.score = strata__alloc((size_t)k, sizeof(double));
    f.cluster_tier = strata__alloc((size_t)k, sizeof(int32_t));
    f.labels = strata__alloc((size_t)n, sizeof(int32_t));
    f.tiers = strata__alloc((size_t)n, sizeof(int32_t));
    f.source = strata__strndup(m->source ? m->source : "", strlen(m->source ? m->source : ""));
    req = strata__alloc(dd, sizeof(int));
    z = (uint64_t)n > SIZE_MAX / sizeof(double) / dd ? NULL : strata__alloc((size_t)n * dd, sizeof(double));
    if (!f.tier_names || !f.transform || !f.center || !f.scale || !f.weights || !f.centroids ||
        !f.centroids_orig || !f.score || !f.cluster_tier || !f.labels || !f.tiers || !f.source ||
        !req || !z) {
        rc = strata__fail(m->msg, STRATA_E_NOMEM, "out of memory for a %lld x %lld model",
                          (long long)n, (long long)d);
        goto fail;
    }
    for (int64_t t = 0; t < f.ntiers; t++) {
        f.tier_names[t] = tiers[t];
        tiers[t] = NULL;
    }
    for (int64_t j = 0; j < d; j++) {
        req[j] = m->transform_all;
        f.weights[j] = m->weights ? m->weights[j] : strata__default_value_weight(f.names[j]);
    }
    for (int64_t i = 0; i < m->ntf; i++)
        req[m->tf_feature[i]] = m->tf_value[i];
    /* 1. transforms, 2. the scaled rows */
    if ((rc = strata__scaling_fit(x, n, d, row_stride, req, (const char *const *)f.names,
                                  strata__kmeans_threads(m->km), f.transform, f.center, f.scale,
                                  m->msg)) ||
        (rc = strata__scaling_apply(x, 0, n, d, row_stride, f.transform, f.center, f.scale,
                                    (const char *const *)f.names, z, m->msg)))
        goto fail;
    /* 3. k-means on them */
    if ((rc = strata_kmeans_fit(m->km, STRATA_FLOAT64, z, n, d, 0, weights))) {
        rc = km_fail(m, rc);
        goto fail;
    }
    int64_t algo = 0;
    if ((rc = strata_kmeans_centroids(m->km, f.centroids, k, d)) ||
        (rc = strata_kmeans_labels(m->km, f.labels, n)) ||
        (rc = strata_kmeans_result_int(m->km, STRATA_KMEANS_RESULT_SEED, &f.seed)) ||
        (rc = strata_kmeans_result_int(m->km, STRATA_KMEANS_RESULT_N_ITER, &f.n_iter)) ||
        (rc = strata_kmeans_result_int(m->km, STRATA_KMEANS_RESULT_ALGORITHM, &algo)) ||
        (rc = strata_kmeans_result_double(m->km, STRATA_KMEANS_RESULT_INERTIA, &f.inertia))) {
        rc = km_fail(m, rc);
        goto fail;
    }
    snprintf(f.algorithm, sizeof f.algorithm, "%s", strata__algorithm_name((int)algo));
    utc_now(f.created, sizeof f.created);
    /* 4. original units, value ranking, tiers */
    strata__scaling_inverse(f.centroids, k, d, f.transform, f.center, f.scale, f.centroids_orig);
    strata__tiers_rank(f.centroids, k, d, f.weights, f.ntiers, f.score, f.cluster_tier);
    for (int64_t i = 0; i < n; i++)
        f.tiers[i] = f.cluster_tier[f.labels[i]];
    strata__free(req);
    strata__free(z);
    strata__tier_model_free(&m->fit);
    m->fit = f;
    strata__free(m->read_from);
    m->read_from = NULL;
    m->file = (strata__file_id){0};
    return STRATA_OK;
fail:
    for (int i = 0; i <= STRATA__TIERS_MAX; i++)
        strata__free(tiers[i]);
    strata__free(req);
    strata__free(z);
    strata__tier_model_free(&f);
    return rc;
}

static int check_fitted(const strata_model *m)
{
    if (!m->fit.centroids)
        return strata__fail(NULL, STRATA_E_STATE, "the model is not fitted: call "
                            "strata_model_fit or strata_model_read_h5 first");
    return STRATA_OK;
}

/* Scale rows with the fitted transform into a new array *z. */
static int scale_rows(const strata_model *m, const double *x, int64_t r0, int64_t n, int64_t d,
                      int64_t stride, double *out)
{
    int rc = check_fitted(m);
    if (rc || (rc = check_rows(NULL, x, n, d, &stride)))
        return rc;
    if (d != m->fit.d)
        return strata__fail(NULL, STRATA_E_ARG, "rows have %lld features, the model has %lld",
                            (long long)d, (long long)m->fit.d);
    return strata__scaling_apply(x, r0, n, d, stride, m->fit.transform, m->fit.center,
                                 m->fit.scale, (const char *const *)m->fit.names, out, NULL);
}

int strata_model_scale(const strata_model *m, const double *x, int64_t n, int64_t d, int64_t row_stride,
                       double *out)
{
    CHECK_CONST(m);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "output pointer is NULL");
    /* into a scratch copy: out stays untouched on error */
    double *z = n > 0 && d > 0 && (uint64_t)n <= SIZE_MAX / 8 / (uint64_t)d
                    ? strata__alloc((size_t)(n * d), sizeof(double)) : NULL;
    if (!z && n > 0 && d > 0)
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory");
    int rc = scale_rows(m, x, 0, n, d, row_stride, z);
    if (!rc)
        memcpy(out, z, (size_t)(n * d) * sizeof(double));
    strata__free(z);
    return rc;
}

int strata_model_predict(const strata_model *m, const double *x, int64_t n, int64_t d,
                         int64_t row_stride, int32_t *labels, int32_t *tiers)
{
    return strata__model_predict_rows(m, x, 0, n, d, row_stride, labels, tiers);
}

int strata__model_predict_rows(const strata_model *m, const double *x, int64_t r0, int64_t n,
                               int64_t d, int64_t row_stride, int32_t *labels, int32_t *tiers)
{
    CHECK_CONST(m);
    if (!labels && !tiers)
        return strata__fail(NULL, STRATA_E_NULL, "labels and tiers are both NULL");
    int rc = check_fitted(m);
    if (rc || (rc = check_rows(NULL, x, n, d, &row_stride)))
        return rc;
    double *z = strata__alloc((size_t)(n * d), sizeof(double));
    int32_t *lab = strata__alloc((size_t)n, sizeof(int32_t));
    if (!z || !lab)
        rc = strata__fail(NULL, STRATA_E_NOMEM, "out of memory for %lld rows", (long long)n);
    if (!rc)
        rc = scale_rows(m, x, r0, n, d, row_stride, z);
    if (!rc)
        rc = strata__kmeans_predict_with(m->km, m->fit.centroids, m->fit.k, z, n, d, lab, NULL);
    if (!rc) {
        for (int64_t i = 0; i < n; i++) {
            if (labels)
                labels[i] = lab[i];
            if (tiers)
                tiers[i] = m->fit.cluster_tier[lab[i]];
        }
    }
    strata__free(z);
    strata__free(lab);
    return rc;
}

#define MODEL_PRE(m, out)                                                           \
    const strata_model *m = c##m;                                                    \
    CHECK_CONST(m);                                                                  \
    int rc = check_fitted(m);                                                        \
    if (rc)                                                                          \
        return rc;                                                                   \
    if (!(out))                                                                      \
        return strata__fail(NULL, STRATA_E_NULL, "output pointer is NULL")

static int per_row(const strata_model *m, const int32_t *src, int32_t *out, int64_t n)
{
    if (!src)
        return strata__fail(NULL, STRATA_E_STATE, "a loaded model holds no fitted rows: "
                            "use strata_model_predict");
    if (n != m->fit.n)
        return strata__fail(NULL, STRATA_E_ARG, "the model was fitted on %lld rows, asked "
                            "for %lld", (long long)m->fit.n, (long long)n);
    memcpy(out, src, (size_t)n * sizeof(int32_t));
    return STRATA_OK;
}

int strata_model_labels(const strata_model *cm, int32_t *out, int64_t n)
{
    MODEL_PRE(m, out);
    return per_row(m, m->fit.labels, out, n);
}

int strata_model_tiers(const strata_model *cm, int32_t *out, int64_t n)
{
    MODEL_PRE(m, out);
    return per_row(m, m->fit.tiers, out, n);
}

static int check_k(const strata_model *m, int64_t k)
{
    if (k != m->fit.k)
        return strata__fail(NULL, STRATA_E_ARG, "the model has k = %lld clusters, asked "
                            "for %lld", (long long)m->fit.k, (long long)k);
    return STRATA_OK;
}

int strata_model_centroids(const strata_model *cm, int space, double *out, int64_t k, int64_t d)
{
    MODEL_PRE(m, out);
    if (space != STRATA_MODEL_SCALED && space != STRATA_MODEL_ORIGINAL)
        return strata__fail(NULL, STRATA_E_ARG, "space must be STRATA_MODEL_SCALED (0) or "
                            "STRATA_MODEL_ORIGINAL (1), got %d", space);
    if ((rc = check_k(m, k)))
        return rc;
    if (d != m->fit.d)
        return strata__fail(NULL, STRATA_E_ARG, "the model has d = %lld features, asked for "
                            "%lld", (long long)m->fit.d, (long long)d);
    memcpy(out, space == STRATA_MODEL_SCALED ? m->fit.centroids : m->fit.centroids_orig,
           (size_t)(k * d) * sizeof(double));
    return STRATA_OK;
}

int strata_model_cluster_tier(const strata_model *cm, int32_t *out, int64_t k)
{
    MODEL_PRE(m, out);
    if ((rc = check_k(m, k)))
        return rc;
    memcpy(out, m->fit.cluster_tier, (size_t)k * sizeof(int32_t));
    return STRATA_OK;
}

int strata_model_value_score(const strata_model *cm, double *out, int64_t k)
{
    MODEL_PRE(m, out);
    if ((rc = check_k(m, k)))
        return rc;
    memcpy(out, m->fit.score, (size_t)k * sizeof(double));
    return STRATA_OK;
}

int strata_model_value_weights(const strata_model *cm, double *out, int64_t d)
{
    MODEL_PRE(m, out);
    if (d != m->fit.d)
        return strata__fail(NULL, STRATA_E_ARG, "the model has d = %lld features, asked for "
                            "%lld", (long long)m->fit.d, (long long)d);
    memcpy(out, m->fit.weights, (size_t)d * sizeof(double));
    return STRATA_OK;
}

int strata_model_transform_params(const strata_model *cm, int *transform, double *center,
                                  double *scale)
{
    MODEL_PRE(m, transform || center || scale);
    for (int64_t j = 0; j < m->fit.d; j++) {
        if (transform)
            transform[j] = m->fit.transform[j];
        if (center)
            center[j] = m->fit.center[j];
        if (scale)
            scale[j] = m->fit.scale[j];
    }
    return STRATA_OK;
}

int strata_model_shape(const strata_model *cm, int64_t *k, int64_t *d)
{
    MODEL_PRE(m, k || d);
    if (k)
        *k = m->fit.k;
    if (d)
        *d = m->fit.d;
    return STRATA_OK;
}

int strata_model_result_int(const strata_model *cm, int key, int64_t *out)
{
    MODEL_PRE(m, out);
    if ((rc = strata__result_check_key(NULL, STRATA_HANDLE_MODEL, key, STRATA_VALUE_INT)))
        return rc;
    switch (key) {
    case STRATA_MODEL_RESULT_K: *out = m->fit.k; break;
    case STRATA_MODEL_RESULT_D: *out = m->fit.d; break;
    case STRATA_MODEL_RESULT_N: *out = m->fit.n; break;
    case STRATA_MODEL_RESULT_TIERS: *out = m->fit.ntiers; break;
    case STRATA_MODEL_RESULT_N_TRAIN: *out = m->fit.n_train; break;
    case STRATA_MODEL_RESULT_SEED: *out = m->fit.seed; break;
    case STRATA_MODEL_RESULT_N_ITER: *out = m->fit.n_iter; break;
    default: return strata__fail(NULL, STRATA_E_INTERNAL, "model result %d has no slot", key);
    }
    return STRATA_OK;
}

int64_t strata_model_tier_count(const strata_model *m)
{
    return m && m->fit.centroids ? m->fit.ntiers : 0;
}

const char *strata_model_tier_name(const strata_model *m, int64_t t)
{
    return m && m->fit.centroids && t >= 0 && t < m->fit.ntiers ? m->fit.tier_names[t] : NULL;
}

const char *strata_model_feature_name(const strata_model *m, int64_t j)
{
    return m && m->fit.centroids && j >= 0 && j < m->fit.d ? m->fit.names[j] : NULL;
}


const strata__tier_model *strata__model_fitted(const strata_model *m)
{
    return m && m->fit.centroids ? &m->fit : NULL;
}

char *strata__model_msg(strata_model *m)
{
    return m->msg;
}

int strata__model_adopt(strata_model *m, strata__tier_model *f, const char *path,
                        const char *group)
{
    size_t len = strlen(path) + strlen(group) + 2;
    char *from = strata__alloc(len, 1);
    if (!from)
        return strata__fail(m->msg, STRATA_E_NOMEM, "out of memory loading a model");
    snprintf(from, len, "%s:%s", path, group);
    strata__tier_model_free(&m->fit);
    m->fit = *f;
    memset(f, 0, sizeof *f);
    strata__free(m->read_from);
    m->read_from = from;
    strata__file_id_of(path, "the file the model was read from", &m->file);
    return STRATA_OK;
}

const char *strata__model_read_from(const strata_model *m)
{
    return m->read_from;
}

const strata__file_id *strata__model_file(const strata_model *m)
{
    return &m->file;
}
