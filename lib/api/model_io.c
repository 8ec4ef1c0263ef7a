/* Saving and loading tier models (layout: docs/tiers.md, "Models"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kmeans_handle.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
#include "tiers/tiers.h"

/* The value of the group's "format" attribute: what marks a model. */
#define MODEL_FORMAT "strata tier model 1"


static int write_group(const strata__tier_model *f, strata__h5_out *o, const char *g)
{
    char name[1200];
    int rc = STRATA_OK;
    const int64_t kd[2] = {f->k, f->d}, d1[1] = {f->d}, k1[1] = {f->k};
#define PATH(leaf) (snprintf(name, sizeof name, "%s/%s", strcmp(g, "/") ? g : "", leaf), name)
    if ((rc = strata__h5_out_group(o, g)) ||
        (rc = strata__h5_out_dataset(o, PATH("centroids"), STRATA__H5_F64, 2, kd, f->centroids)) ||
        (rc = strata__h5_out_dataset(o, PATH("centroids_original"), STRATA__H5_F64, 2, kd,
                                     f->centroids_orig)) ||
        (rc = strata__h5_out_strings(o, PATH("feature_names"), NULL,
                                     (const char *const *)f->names, f->d)) ||
        (rc = strata__h5_out_dataset(o, PATH("transform"), STRATA__H5_I32, 1, d1, f->transform)) ||
        (rc = strata__h5_out_dataset(o, PATH("center"), STRATA__H5_F64, 1, d1, f->center)) ||
        (rc = strata__h5_out_dataset(o, PATH("scale"), STRATA__H5_F64, 1, d1, f->scale)) ||
        (rc = strata__h5_out_dataset(o, PATH("value_weights"), STRATA__H5_F64, 1, d1,
                                     f->weights)) ||
        (rc = strata__h5_out_dataset(o, PATH("value_score"), STRATA__H5_F64, 1, k1, f->score)) ||
        (rc = strata__h5_out_dataset(o, PATH("cluster_tier"), STRATA__H5_I32, 1, k1,
                                     f->cluster_tier)) ||
        (rc = strata__h5_out_strings(o, PATH("tier_names"), NULL,
                                     (const char *const *)f->tier_names, f->ntiers)))
        return rc;
#undef PATH
    const char *inames[] = {"k", "d", "seed", "n_iter", "n_train"};
    const int64_t ivals[] = {f->k, f->d, f->seed, f->n_iter, f->n_train};
    for (int i = 0; i < 5 && !rc; i++)
        rc = strata__h5_out_attr(o, g, inames[i], STRATA__H5_I64, &ivals[i]);
    if (!rc)
        rc = strata__h5_out_attr(o, g, "inertia", STRATA__H5_F64, &f->inertia);
    const char *snames[] = {"format", "algorithm", "strata_version", "created", "source"};
    const char *svals[] = {MODEL_FORMAT, f->algorithm, STRATA_VERSION_STRING, f->created,
                           f->source ? f->source : ""};
    for (int i = 0; i < 5 && !rc; i++)
        rc = strata__h5_out_attr_string(o, g, snames[i], svals[i]);
    return rc;
}

int strata__model_write_group(const strata_model *m, strata__h5_out *o, const char *group)
{
    const strata__tier_model *f = strata__model_fitted(m);
    if (!f)
        return strata__fail(NULL, STRATA_E_STATE, "the model is not fitted");
    return write_group(f, o, group && group[0] ? group : "/model");
}

int strata_model_write_h5(strata_model *m, const char *path, int flags)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model handle is NULL");
    char *msg = strata__model_msg(m);
    msg[0] = '\0';
    if (!path)
        return strata__fail(msg, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    const strata__tier_model *f = strata__model_fitted(m);
    if (!f)
        return strata__fail(msg, STRATA_E_STATE, "the model is not fitted: call "
                            "strata_model_fit first");
    strata__h5_out *o;
    int rc = strata__h5_out_open(&o, path, strata__model_file(m), 1, flags, msg);
    if (rc)
        return rc;
    rc = write_group(f, o, "/model");
    return strata__h5_out_finish(o, rc);
}

/* ---- Loading ----------------------------------------------------------- */

typedef struct loader {
    strata__h5_in *in;
    const char *path, *group;
    char *msg;
    char name[1200];
} loader;

static const char *at(loader *l, const char *leaf)
{
    snprintf(l->name, sizeof l->name, "%s/%s", strcmp(l->group, "/") ? l->group : "", leaf);
    return l->name;
}

static int bad(loader *l, int code, const char *what, const char *why)
{
    return strata__fail(l->msg, code, "model '%s' in '%s': %s %s", l->group, l->path, what, why);
}

/* A numeric dataset of the expected shape (cols 0: 1-D of `rows`). */
static int load_array(loader *l, const char *leaf, int type, int64_t rows, int64_t cols,
                      void **out)
{
    int64_t dims[2] = {0, 0};
    int rc = strata__h5_in_dataset(l->in, at(l, leaf), type, cols ? 2 : 1, dims, out);
    if (rc)
        return rc;
    if (dims[0] != rows || (cols && dims[1] != cols)) {
        char why[160];
        snprintf(why, sizeof why, "has shape (%lld%s%lld), expected (%lld%s%lld)",
                 (long long)dims[0], cols ? ", " : "", cols ? (long long)dims[1] : 0LL,
                 (long long)rows, cols ? ", " : "", cols ? (long long)cols : 0LL);
        if (!cols) { /* no second number for 1-D */
            snprintf(why, sizeof why, "has %lld values, expected %lld", (long long)dims[0],
                     (long long)rows);
        }
        strata__free(*out);
        *out = NULL;
        return bad(l, STRATA_E_IO_TYPE, leaf, why);
    }
    return STRATA_OK;
}

static int check_values(loader *l, const char *leaf, const double *v, int64_t n, int finite,
                        int positive)
{
    for (int64_t i = 0; i < n; i++) {
        char why[128];
        if (isnan(v[i]) || (finite && !isfinite(v[i])) || (positive && !(v[i] > 0.0))) {
            snprintf(why, sizeof why, "holds %g at position %lld (must be %s)", v[i],
                     (long long)i, positive ? "finite and > 0" : finite ? "finite" : "not NaN");
            return bad(l, STRATA_E_IO_FORMAT, leaf, why);
        }
    }
    return STRATA_OK;
}

/* Distinct non-empty names of at most 127 bytes: want of them (any number
 * when want < 0) into *out, their number into *count. */
static int load_names(loader *l, const char *leaf, int64_t want, char ***out, int64_t *count)
{
    int64_t n = 0;
    int rc = strata__h5_in_strings(l->in, at(l, leaf), out, &n);
    if (rc)
        return rc;
    char why[160] = "";
    if (want >= 0 && n != want)
        snprintf(why, sizeof why, "holds %lld names, expected %lld", (long long)n,
                 (long long)want);
    for (int64_t i = 0; !why[0] && i < n; i++) {
        size_t len = strlen((*out)[i]);
        if (len == 0 || len > STRATA__NAME_MAX)
            snprintf(why, sizeof why, "name %lld is %s", (long long)i,
                     len ? "longer than 127 bytes" : "empty");
        for (int64_t j = 0; !why[0] && j < i; j++)
            if (!strcmp((*out)[i], (*out)[j]))
                snprintf(why, sizeof why, "repeats the name '%.100s'", (*out)[i]);
    }
    if (why[0]) {
        strata__h5_in_strings_free(*out, n);
        *out = NULL;
        return bad(l, STRATA_E_IO_FORMAT, leaf, why);
    }
    *count = n;
    return STRATA_OK;
}

static int load(loader *l, strata__tier_model *f)
{
    int is_group = 0, rc;
    if (!strata__h5_in_exists(l->in, l->group, &is_group))
        return strata__fail(l->msg, STRATA_E_IO_DATASET, "'%s' holds no model group '%s'",
                            l->path, l->group);
    if (!is_group)
        return strata__fail(l->msg, STRATA_E_IO_TYPE, "'%s' in '%s' is a dataset, not a model "
                            "group", l->group, l->path);
    char format[64] = "";
    if (strata__h5_in_attr_string(l->in, l->group, "format", format, sizeof format) ||
        strcmp(format, MODEL_FORMAT))
        return strata__fail(l->msg, STRATA_E_IO_FORMAT, "'%s' in '%s' is not a strata model "
                            "(its attribute 'format' is not \"%s\")", l->group, l->path,
                            MODEL_FORMAT);
    if ((rc = strata__h5_in_attr(l->in, l->group, "k", STRATA__H5_I64, &f->k)) ||
        (rc = strata__h5_in_attr(l->in, l->group, "d", STRATA__H5_I64, &f->d)) ||
        (rc = strata__h5_in_attr(l->in, l->group, "seed", STRATA__H5_I64, &f->seed)) ||
        (rc = strata__h5_in_attr(l->in, l->group, "n_iter", STRATA__H5_I64, &f->n_iter)) ||
        (rc = strata__h5_in_attr(l->in, l->group, "n_train", STRATA__H5_I64, &f->n_train)) ||
        (rc = strata__h5_in_attr(l->in, l->group, "inertia", STRATA__H5_F64, &f->inertia)) ||
        (rc = strata__h5_in_attr_string(l->in, l->group, "algorithm", f->algorithm,
                                        sizeof f->algorithm)) ||
        (rc = strata__h5_in_attr_string(l->in, l->group, "created", f->created,
                                        sizeof f->created)))
        return rc;
    char source[4096] = "";
    if ((rc = strata__h5_in_attr_string(l->in, l->group, "source", source, sizeof source)))
        return rc;
    if (!(f->source = strata__strndup(source, strlen(source))))
        return strata__fail(l->msg, STRATA_E_NOMEM, "out of memory");
    if (f->k < 1 || f->k > INT32_MAX || f->d < 1 || f->d > INT32_MAX || f->k * f->d > (1 << 26))
        return strata__fail(l->msg, STRATA_E_IO_FORMAT, "model '%s' in '%s': bad shape k = "
                            "%lld, d = %lld", l->group, l->path, (long long)f->k,
                            (long long)f->d);
    const int64_t k = f->k, d = f->d;
    int64_t nf = 0;
    if ((rc = load_array(l, "centroids", STRATA__H5_F64, k, d, (void **)&f->centroids)) ||
        (rc = load_array(l, "centroids_original", STRATA__H5_F64, k, d,
                         (void **)&f->centroids_orig)) ||
        (rc = load_array(l, "transform", STRATA__H5_I32, d, 0, (void **)&f->transform)) ||
        (rc = load_array(l, "center", STRATA__H5_F64, d, 0, (void **)&f->center)) ||
        (rc = load_array(l, "scale", STRATA__H5_F64, d, 0, (void **)&f->scale)) ||
        (rc = load_array(l, "value_weights", STRATA__H5_F64, d, 0, (void **)&f->weights)) ||
        (rc = load_array(l, "value_score", STRATA__H5_F64, k, 0, (void **)&f->score)) ||
        (rc = load_array(l, "cluster_tier", STRATA__H5_I32, k, 0, (void **)&f->cluster_tier)) ||
        (rc = load_names(l, "feature_names", d, &f->names, &nf)))
        return rc;
    /* the tier names once: any count, checked against k below */
    if ((rc = load_names(l, "tier_names", -1, &f->tier_names, &f->ntiers)))
        return rc;
    const int64_t nt = f->ntiers;
    if (nt < 1 || nt > k || nt > STRATA__TIERS_MAX) {
        char why[96];
        snprintf(why, sizeof why, "holds %lld names, expected 1 to min(k, 64) = %lld",
                 (long long)nt, (long long)(k < STRATA__TIERS_MAX ? k : STRATA__TIERS_MAX));
        return bad(l, STRATA_E_IO_FORMAT, "tier_names", why);
    }
    if ((rc = check_values(l, "centroids", f->centroids, k * d, 1, 0)) ||
        (rc = check_values(l, "centroids_original", f->centroids_orig, k * d, 0, 0)) ||
        (rc = check_values(l, "center", f->center, d, 1, 0)) ||
        (rc = check_values(l, "scale", f->scale, d, 1, 1)) ||
        (rc = check_values(l, "value_weights", f->weights, d, 1, 0)) ||
        (rc = check_values(l, "value_score", f->score, k, 1, 0)))
        return rc;
    for (int64_t j = 0; j < d; j++)
        if (!strata__transform_valid(f->transform[j])) {
            char why[96];
            snprintf(why, sizeof why, "holds the unknown code %d for feature %lld",
                     (int)f->transform[j], (long long)j);
            return bad(l, STRATA_E_IO_FORMAT, "transform", why);
        }
    int used[STRATA__TIERS_MAX] = {0};
    for (int64_t j = 0; j < k; j++) {
        if (f->cluster_tier[j] < 0 || f->cluster_tier[j] >= nt) {
            char why[96];
            snprintf(why, sizeof why, "maps cluster %lld to tier %d, not in 0..%lld",
                     (long long)j, (int)f->cluster_tier[j], (long long)nt - 1);
            return bad(l, STRATA_E_IO_FORMAT, "cluster_tier", why);
        }
        used[f->cluster_tier[j]] = 1;
    }
    for (int64_t t = 0; t < nt; t++)
        if (!used[t]) {
            char why[160];
            snprintf(why, sizeof why, "maps no cluster to tier %lld ('%.100s')", (long long)t,
                     f->tier_names[t]);
            return bad(l, STRATA_E_IO_FORMAT, "cluster_tier", why);
        }
    return STRATA_OK;
}

int strata_model_read_h5(strata_model **out, const char *path, const char *group)
{
    if (!out || !path)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model_read_h5: %s is NULL",
                            out ? "path" : "out");
    char msg[STRATA__MSG_LEN] = "";
    loader l = {.path = path, .group = group && group[0] ? group : "/model", .msg = msg};
    if (strlen(l.group) + 64 > sizeof l.name) /* the longest leaf must fit after it */
        return strata__fail(NULL, STRATA_E_ARG, "strata_model_read_h5: group name '%.40s...' "
                            "is too long (%zu bytes)", l.group, strlen(l.group));
    strata__tier_model f = {0};
    int rc = strata__h5_in_open(&l.in, path, msg);
    if (!rc) {
        rc = load(&l, &f);
        strata__h5_in_close(l.in);
    }
    strata_model *m = NULL;
    if (!rc && !(rc = strata_model_create(&m)))
        rc = strata__model_adopt(m, &f, path, l.group);
    if (rc) {
        strata__tier_model_free(&f);
        strata_model_free(m);
        return rc;
    }
    *out = m;
    return STRATA_OK;
}

int strata_model_write_tiers_h5(strata_model *m, const char *path, const int64_t *customer_id,
                                const int32_t *labels, const int32_t *tiers, int64_t n,
                                const char *source, int flags)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model handle is NULL");
    char *msg = strata__model_msg(m);
    msg[0] = '\0';
    if (!path || !labels || !tiers)
        return strata__fail(msg, STRATA_E_NULL, "%s is NULL", !path ? "output path"
                            : !labels ? "labels" : "tiers");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    const strata__tier_model *f = strata__model_fitted(m);
    if (!f)
        return strata__fail(msg, STRATA_E_STATE, "the model is not fitted");
    if (n < 0)
        return strata__fail(msg, STRATA_E_ARG, "n must be >= 0, got %lld", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= f->k || tiers[i] != f->cluster_tier[labels[i]])
            return strata__fail(msg, STRATA_E_ARG, "row %lld: label %d / tier %d do not match "
                                "the model (k = %lld)", (long long)i, (int)labels[i],
                                (int)tiers[i], (long long)f->k);
    strata__h5_out *o;
    int rc = strata__h5_out_open(&o, path, strata__model_file(m), 1, flags, msg);
    if (rc)
        return rc;
    const int64_t dims[1] = {n};
    if (customer_id)
        rc = strata__h5_out_dataset(o, "/customer_id", STRATA__H5_I64, 1, dims, customer_id);
    if (!rc && !(rc = strata__h5_out_dataset(o, "/labels", STRATA__H5_I32, 1, dims, labels)) &&
        !(rc = strata__h5_out_dataset(o, "/tier", STRATA__H5_I32, 1, dims, tiers)))
        rc = strata__h5_out_strings(o, "/tier", "names", (const char *const *)f->tier_names,
                                    f->ntiers);
    if (!rc)
        rc = write_group(f, o, "/model");
    if (!rc && !(rc = strata__h5_out_attr_string(o, "/", "strata_version", STRATA_VERSION_STRING)))
        rc = strata__h5_out_attr_string(o, "/", "source", source);
    if (!rc && strata__model_read_from(m)) /* provenance: the model file applied */
        rc = strata__h5_out_attr_string(o, "/", "model", strata__model_read_from(m));
    return strata__h5_out_finish(o, rc);
}

/* ---- Predicting a file: loaded, or streamed under a memory budget ------- */

/* A predict's memory besides the fixed allowance, a row: loaded, the rows
 * as doubles, predict's scaled copy and cluster of each, the labels and
 * tiers, and the file image of both (compressed, at most their bytes);
 * streamed, a block's rows, scaled copy, clusters, labels and tiers. */
#define PREDICT_LOADED_ROW(d) (16 * (d) + 20)
#define PREDICT_STREAMED_ROW(d) (16 * (d) + 12)
/* A streamed output's dataset keeps two chunks of about 1 MiB
 * (strata_writer) and gzip's buffers for one (about two more); a matrix's
 * output has two (/labels, /tier), a keyed table's three (/customer_id). */
#define PREDICT_WRITER_DATASET_BYTES ((int64_t)4 << 20)
#define PREDICT_WRITER_BYTES (2 * PREDICT_WRITER_DATASET_BYTES)
/* Largest block of a streamed predict (bytes of its rows as doubles). */
#define PREDICT_BLOCK_BYTES ((int64_t)64 << 20)

/* The rows of the whole file predicted at once, then written as
 * strata_model_write_tiers_h5() does. */
static int predict_loaded(strata_model *m, const char *path, const char *dataset,
                          const char *out_path, const char *source, int flags,
                          const strata__steps *steps, int64_t *counts, char *msg)
{
    strata__matrix mx = {0};
    int rc = strata__h5_load_steps(path, dataset, STRATA_FLOAT64, &mx, steps, msg);
    if (rc)
        return rc;
    int32_t *labels = strata__alloc((size_t)mx.n, sizeof *labels);
    int32_t *tiers = strata__alloc((size_t)mx.n, sizeof *tiers);
    if (!labels || !tiers)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the labels of %lld rows",
                          (long long)mx.n);
    else if ((rc = strata_model_predict(m, mx.data, mx.n, mx.d, 0, labels, tiers)))
        snprintf(msg, STRATA__MSG_LEN, "%s", strata_last_error()); /* a const call's message */
    const int64_t n = mx.n;
    strata__matrix_free(&mx);
    for (int64_t i = 0; !rc && i < n; i++)
        counts[tiers[i]]++;
    if (!rc && !(rc = strata__step(steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, msg)))
        rc = strata_model_write_tiers_h5(m, out_path, NULL, labels, tiers, n, source, flags);
    strata__free(labels);
    strata__free(tiers);
    return rc;
}

/* What a streamed predict reads: the rows of a matrix, or the columns of a
 * table (a frame's layouts) with the row keys held whole. */
typedef struct predict_src {
    strata__h5_rows *rows;        /* a matrix, or NULL and: */
    strata__h5_cols *cols;        /* the table's D columns (head->d) */
    const strata__h5_frame *head; /* their names and keys (NULL: none) */
    const int64_t *col;           /* the model's feature j is column col[j] */
    const char *path;
} predict_src;

/* Rows [r0, r0 + b) of the model's d features into x (b x d): a matrix's
 * as they are; a table's D columns into buf (b x D), checked as the frame
 * reader checks them, then the model's picked out. */
static int predict_src_read(const predict_src *src, int64_t r0, int64_t b, int64_t d, double *buf,
                            double *x, char *msg)
{
    if (src->rows)
        return strata__h5_rows_read(src->rows, STRATA_FLOAT64, r0, b, x, msg);
    const int64_t D = src->head->d;
    int rc = strata__h5_cols_read(src->cols, r0, b, buf, msg);
    if (!rc)
        rc = strata__frame_check_rows(buf, r0, b, D, src->head->names, src->path, msg);
    for (int64_t i = 0; !rc && i < b; i++)
        for (int64_t j = 0; j < d; j++)
            x[i * d + j] = buf[i * D + src->col[j]];
    return rc;
}

/* Blocks of `rows` rows read, predicted and appended to a streamed file
 * (/customer_id from the table's keys too, when it has them). */
static int predict_streamed(strata_model *m, const predict_src *src, int64_t n, int64_t rows,
                            const char *out_path, const char *source, int flags,
                            const strata__steps *steps, int64_t *counts, char *msg)
{
    const strata__tier_model *f = strata__model_fitted(m);
    const int64_t d = f->d, D = src->rows ? 0 : src->head->d;
    const int64_t *key = src->rows ? NULL : src->head->key;
    rows = rows < n ? rows : n;
    double *x = strata__alloc((size_t)(rows * d), sizeof *x);
    double *buf = D ? strata__alloc((size_t)(rows * D), sizeof *buf) : NULL;
    int32_t *labels = strata__alloc((size_t)rows, sizeof *labels);
    int32_t *tiers = strata__alloc((size_t)rows, sizeof *tiers);
    strata__h5_stream *s = NULL;
    int id_key = -1, id_labels = -1, id_tier = -1, rc = STRATA_OK;
    if (!x || !labels || !tiers || (D && !buf))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a block of %lld rows",
                          (long long)rows);
    if (!rc && !(rc = strata__h5_stream_open(&s, out_path, flags, msg)) && key)
        rc = strata__h5_stream_dataset(s, "/customer_id", STRATA__H5_I64, 0, 0, &id_key);
    if (!rc && !(rc = strata__h5_stream_dataset(s, "/labels", STRATA__H5_I32, 0, 0, &id_labels)))
        rc = strata__h5_stream_dataset(s, "/tier", STRATA__H5_I32, 0, 0, &id_tier);
    if (!rc)
        rc = strata__step(steps, STRATA_STEP_READ, 0, 0, n, NAN, msg);
    for (int64_t r0 = 0; !rc && r0 < n; r0 += rows) {
        const int64_t b = n - r0 < rows ? n - r0 : rows;
        const void *lab[1] = {labels}, *tier[1] = {tiers}, *keys[1] = {key ? key + r0 : NULL};
        if ((rc = predict_src_read(src, r0, b, d, buf, x, msg)))
            break;
        if ((rc = strata__model_predict_rows(m, x, r0, b, d, 0, labels, tiers))) {
            snprintf(msg, STRATA__MSG_LEN, "%s", strata_last_error()); /* the file's row */
            break;
        }
        for (int64_t i = 0; i < b; i++)
            counts[tiers[i]]++;
        if ((!key || !(rc = strata__h5_stream_append(s, id_key, keys, b))) &&
            !(rc = strata__h5_stream_append(s, id_labels, lab, b)) &&
            !(rc = strata__h5_stream_append(s, id_tier, tier, b)))
            rc = strata__step(steps, STRATA_STEP_READ, 0, r0 + b, n, NAN, msg);
    }
    strata__free(x);
    strata__free(buf);
    strata__free(labels);
    strata__free(tiers);
    /* the model, the tier names and the root attributes: as the loaded file */
    strata__h5_out *o = s ? strata__h5_stream_out(s) : NULL;
    int64_t small = 65536 + 4 * f->k * f->d * 8 + 16 * (f->k + f->d);
    if (!rc)
        rc = strata__step(steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, msg);
    if (!rc && !(rc = strata__h5_stream_reserve(s, small)) &&
        !(rc = strata__h5_out_strings(o, "/tier", "names", (const char *const *)f->tier_names,
                                      f->ntiers)) &&
        !(rc = write_group(f, o, "/model")) &&
        !(rc = strata__h5_out_attr_string(o, "/", "strata_version", STRATA_VERSION_STRING)) &&
        !(rc = strata__h5_out_attr_string(o, "/", "source", source)) &&
        strata__model_read_from(m))
        rc = strata__h5_out_attr_string(o, "/", "model", strata__model_read_from(m));
    return strata__h5_stream_finish(s, rc);
}

/* What a predict into a file checks first: the flags, a fitted model (*f),
 * the budget and forced blocks of its k-means handle, and that out_path is
 * not the input (the rename would replace it). */
static int predict_begin(strata_model *m, const char *path, const char *out_path, int flags,
                         const strata__tier_model **f, int64_t *memory, int64_t *block_rows,
                         char *msg)
{
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    if (!out_path[0]) /* before the whole input is read, not at the rename */
        return strata__fail(msg, STRATA_E_ARG, "the output path is empty");
    if (!(*f = strata__model_fitted(m)))
        return strata__fail(msg, STRATA_E_STATE, "the model is not fitted");
    strata_kmeans *km = strata_model_kmeans(m);
    *memory = *block_rows = 0;
    if (strata_kmeans_get_int(km, STRATA_KMEANS_MEMORY, memory) ||
        strata_kmeans_get_int(km, STRATA_KMEANS_BLOCK_ROWS, block_rows))
        return strata__fail(msg, STRATA_E_STATE, "%s", strata_last_error());
    strata__file_id inputs[2] = {*strata__model_file(m)};
    strata__file_id_of(path, "the input file", &inputs[1]);
    return strata__refuse_input_as_output(out_path, inputs, 2, msg);
}

/* What a predict into a file does last: on success the WRITE 1 of 1
 * report (the file is in place: it cannot cancel) and the tier counts
 * copied out; on failure the message into the thread's slot too. Frees
 * counts; returns rc. */
static int predict_end(int rc, const strata__steps *steps, const strata__tier_model *f,
                       int64_t *counts, int64_t *tier_counts, const char *msg)
{
    if (!rc) {
        if (steps->fn)
            (void)steps->fn(steps->user, STRATA_STEP_WRITE, 0, 1, 1, NAN);
        if (tier_counts)
            memcpy(tier_counts, counts, (size_t)f->ntiers * sizeof *counts);
    } else if (msg[0]) {
        strata__fail(NULL, rc, "%s", msg);
    }
    strata__free(counts);
    return rc;
}

int strata_model_predict_h5(strata_model *m, const char *path, const char *dataset,
                            const char *out_path, const char *source, int flags,
                            int64_t *tier_counts)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model handle is NULL");
    char *msg = strata__model_msg(m);
    msg[0] = '\0';
    if (!path || !dataset || !out_path)
        return strata__fail(msg, STRATA_E_NULL, "%s is NULL", !path ? "input path"
                            : !dataset ? "dataset name" : "output path");
    const strata__tier_model *f = NULL;
    int64_t memory = 0, block_rows = 0;
    int rc = predict_begin(m, path, out_path, flags, &f, &memory, &block_rows, msg);
    const strata__steps *steps = strata__kmeans_steps(strata_model_kmeans(m));
    strata__h5_rows *st;
    strata__h5_rows_info info;
    if (rc || (rc = strata__h5_rows_open(path, dataset, &st, &info, msg)))
        return rc;
    if (info.d != f->d) {
        strata__h5_rows_close(st);
        return strata__fail(msg, STRATA_E_ARG, "'%s:%s' has %lld columns, the model %lld "
                            "features", path, dataset, (long long)info.d, (long long)f->d);
    }
    int64_t *counts = strata__calloc((size_t)f->ntiers, sizeof *counts);
    if (!counts) {
        strata__h5_rows_close(st);
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    }
    /* Load when the rows, their results and the output fit the budget (or
     * there is none); else stream blocks sized to what it leaves. Both
     * write the same file. */
    const int64_t n = info.n, d = info.d;
    const int64_t loaded = STRATA__FIT_FIXED_BYTES +
                           STRATA__CHUNKS_DECOMPRESSING * info.filtered_chunk_bytes +
                           n * PREDICT_LOADED_ROW(d);
    const int64_t transient = strata__streamed_chunk_bytes(&info); /* streamed */
    if (block_rows <= 0 && (memory <= 0 || loaded <= memory)) {
        strata__h5_rows_close(st);
        rc = predict_loaded(m, path, dataset, out_path, source, flags, steps, counts, msg);
    } else {
        const int64_t state = STRATA__FIT_FIXED_BYTES + transient + PREDICT_WRITER_BYTES;
        const int64_t least = state + 4 * STRATA__CHUNK_ROWS * PREDICT_STREAMED_ROW(d);
        int64_t rows = 0;
        if (block_rows > 0) {
            rows = (block_rows + STRATA__CHUNK_ROWS - 1) / STRATA__CHUNK_ROWS * STRATA__CHUNK_ROWS;
        } else if (memory < least) {
            rc = strata__fail(msg, STRATA_E_NOMEM,
                              "a memory budget of %lld bytes is too small to predict %lld x "
                              "%lld rows from a file: it needs at least %lld bytes to stream "
                              "them (four blocks of %d rows, %lld bytes a row, %lld bytes for "
                              "the output's buffers and %lld set aside for the program "
                              "itself%s%.0lld%s; %lld to load them)",
                              (long long)memory, (long long)n, (long long)d, (long long)least,
                              STRATA__CHUNK_ROWS, (long long)PREDICT_STREAMED_ROW(d),
                              (long long)PREDICT_WRITER_BYTES, (long long)STRATA__FIT_FIXED_BYTES,
                              transient ? ", and " : "", (long long)transient,
                              transient ? " bytes of the file's compressed chunks, decompressed "
                                          "whole as they are read: store it in smaller chunks "
                                          "(e.g. h5repack -l CHUNK=4096xD for a matrix, "
                                          "CHUNK=4096 for 1-D columns and tables) to need "
                                          "less" : "",
                              (long long)loaded);
        } else {
            /* a quarter of what is left: the allocator's and HDF5's slack stays in it */
            int64_t block = (memory - state) / 4;
            block = block < PREDICT_BLOCK_BYTES ? block : PREDICT_BLOCK_BYTES;
            rows = strata__h5_rows_block_rows(&info, STRATA_FLOAT64,
                                              block / PREDICT_STREAMED_ROW(d) * 8 * d);
        }
        const predict_src src = {.rows = st, .path = path};
        if (!rc)
            rc = predict_streamed(m, &src, n, rows, out_path, source, flags, steps, counts, msg);
        strata__h5_rows_close(st);
    }
    return predict_end(rc, steps, f, counts, tier_counts, msg);
}

/* ---- Predicting a table's columns: loaded, or streamed under a budget ---- */

/* A table predict's memory a row besides the fixed allowance, for D columns
 * read and the model's d features: loaded, the frame reader's peak (24
 * bytes a column: 1.56M rows of 12 columns peaked at 358 MB, of 3 at 148
 * MB, key none; the frame itself is D doubles), the rows
 * in the model's order, their scaled copy and cluster, labels and tiers and
 * the file image of both (compressed, at most their bytes); streamed, a
 * block's D columns and the d features picked from them, the scaled copy,
 * clusters, labels and tiers. The keys are held whole either way: 8 bytes a
 * row, and 8 more while they are checked distinct (a sorted copy); loaded,
 * 8 more in the file image. */
#define PREDICT_TABLE_LOADED_ROW(D, d) (24 * (D) + 16 * (d) + 20)
#define PREDICT_TABLE_STREAMED_ROW(D, d) (8 * (D) + 16 * (d) + 12)
#define PREDICT_KEY_ROW 16

/* col[j]: the column of the model's feature j among the D names, by name. */
static int feature_columns(const strata__tier_model *f, char *const *names, int64_t D,
                           int64_t *col, const char *path, char *msg)
{
    for (int64_t j = 0; j < f->d; j++) {
        col[j] = -1;
        for (int64_t c = 0; c < D && col[j] < 0; c++)
            if (!strcmp(names[c], f->names[j]))
                col[j] = c;
        if (col[j] < 0)
            return strata__fail(msg, STRATA_E_ARG, "the input '%s' has no column '%s' (the "
                                "model's feature %lld of %lld)", path, f->names[j],
                                (long long)j + 1, (long long)f->d);
    }
    return STRATA_OK;
}

/* The table read whole as a frame (strata_frame_read_table() / _columns()),
 * its model features predicted at once and written as
 * strata_model_write_tiers_h5() does, with the frame's keys. */
static int predict_table_loaded(strata_model *m, const char *path, const char *table,
                                const char *const *columns, int64_t d, const char *key,
                                const char *out_path, const char *source, int flags,
                                const strata__steps *steps, int64_t *counts, char *msg)
{
    const strata__tier_model *f = strata__model_fitted(m);
    strata_frame *fr = NULL;
    int64_t n = 0, D = 0, *col = NULL;
    double *x = NULL;
    int32_t *labels = NULL, *tiers = NULL;
    int rc = strata__step(steps, STRATA_STEP_READ, 0, 0, 1, NAN, msg);
    if (!rc && (rc = table ? strata_frame_read_table(&fr, path, table, columns, d, key)
                           : strata_frame_read_columns(&fr, path, columns, d, key)))
        snprintf(msg, STRATA__MSG_LEN, "%s", strata_last_error()); /* the reader's message */
    if (!rc && !(rc = strata__step(steps, STRATA_STEP_READ, 0, 1, 1, NAN, msg)) &&
        !(rc = strata_frame_shape(fr, &n, &D))) {
        char **names = strata__alloc((size_t)D, sizeof *names);
        col = strata__alloc((size_t)f->d, sizeof *col);
        x = strata__alloc((size_t)(n * f->d), sizeof *x);
        labels = strata__alloc((size_t)n, sizeof *labels);
        tiers = strata__alloc((size_t)n, sizeof *tiers);
        if (!names || !col || !x || !labels || !tiers)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld rows of '%s'",
                              (long long)n, path);
        for (int64_t c = 0; !rc && c < D; c++)
            names[c] = (char *)strata_frame_name(fr, c);
        if (!rc)
            rc = feature_columns(f, names, D, col, path, msg);
        strata__free(names);
    }
    const double *data = rc ? NULL : strata_frame_data(fr);
    for (int64_t i = 0; !rc && i < n; i++)
        for (int64_t j = 0; j < f->d; j++)
            x[i * f->d + j] = data[i * D + col[j]];
    if (!rc && (rc = strata_model_predict(m, x, n, f->d, 0, labels, tiers)))
        snprintf(msg, STRATA__MSG_LEN, "%s", strata_last_error()); /* a const call's message */
    strata__free(x);
    strata__free(col);
    for (int64_t i = 0; !rc && i < n; i++)
        counts[tiers[i]]++;
    if (!rc && !(rc = strata__step(steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, msg)))
        rc = strata_model_write_tiers_h5(m, out_path, strata_frame_key(fr), labels, tiers, n,
                                         source, flags);
    strata_frame_free(fr);
    strata__free(labels);
    strata__free(tiers);
    return rc;
}

/* Stream the open columns when they do not fit the budget (or block_rows
 * is set); *loaded set (nothing done) when they do. */
static int predict_table_planned(strata_model *m, strata__h5_cols *cols,
                                 const strata__h5_frame *head, const strata__h5_rows_info *info,
                                 int64_t memory, int64_t block_rows, const char *path,
                                 const char *out_path, const char *source, int flags,
                                 const strata__steps *steps, int64_t *counts, int *loaded,
                                 char *msg)
{
    const strata__tier_model *f = strata__model_fitted(m);
    const int64_t n = info->n, D = head->d, d = f->d;
    int64_t *col = strata__alloc((size_t)d, sizeof *col);
    if (!col)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    int rc = strata__frame_check_head(head, path, msg);
    if (!rc)
        rc = feature_columns(f, head->names, D, col, path, msg);
    const int64_t key_bytes = head->key ? n * PREDICT_KEY_ROW : 0;
    const int64_t loaded_bytes = STRATA__FIT_FIXED_BYTES +
                                 STRATA__CHUNKS_DECOMPRESSING * info->filtered_chunk_bytes +
                                 n * PREDICT_TABLE_LOADED_ROW(D, d) +
                                 (head->key ? n * (PREDICT_KEY_ROW + 8) : 0);
    *loaded = !rc && block_rows <= 0 && loaded_bytes <= memory;
    if (rc || *loaded) {
        strata__free(col);
        return rc;
    }
    const int64_t transient = strata__streamed_chunk_bytes(info);
    const int64_t writer = (head->key ? 3 : 2) * PREDICT_WRITER_DATASET_BYTES;
    const int64_t state = STRATA__FIT_FIXED_BYTES + transient + writer + key_bytes;
    const int64_t row = PREDICT_TABLE_STREAMED_ROW(D, d);
    const int64_t least = state + 4 * STRATA__CHUNK_ROWS * row;
    int64_t rows = 0;
    if (block_rows > 0) {
        rows = (block_rows + STRATA__CHUNK_ROWS - 1) / STRATA__CHUNK_ROWS * STRATA__CHUNK_ROWS;
    } else if (memory < least) {
        char keys[96] = "";
        if (head->key)
            snprintf(keys, sizeof keys, ", %lld bytes for the row keys (16 a row, held whole to "
                     "be checked distinct)", (long long)key_bytes);
        rc = strata__fail(msg, STRATA_E_NOMEM,
                          "a memory budget of %lld bytes is too small to predict %lld rows "
                          "of %lld columns from '%s': it needs at least %lld bytes to stream "
                          "them (four blocks of %d rows, %lld bytes a row, %lld bytes for the "
                          "output's buffers%s and %lld set aside for the program itself%s%.0lld%s; "
                          "%lld to load them)",
                          (long long)memory, (long long)n, (long long)D, path, (long long)least,
                          STRATA__CHUNK_ROWS, (long long)row, (long long)writer, keys,
                          (long long)STRATA__FIT_FIXED_BYTES, transient ? ", and " : "",
                          (long long)transient,
                          transient ? " bytes of the file's compressed chunks, decompressed "
                                      "whole as they are read" : "",
                          (long long)loaded_bytes);
    } else {
        /* a quarter of what is left: the allocator's and HDF5's slack stays in it */
        int64_t block = (memory - state) / 4;
        block = block < PREDICT_BLOCK_BYTES ? block : PREDICT_BLOCK_BYTES;
        rows = strata__h5_rows_block_rows(info, STRATA_FLOAT64, block / row * 8 * D);
    }
    const predict_src src = {.cols = cols, .head = head, .col = col, .path = path};
    if (!rc)
        rc = predict_streamed(m, &src, n, rows, out_path, source, flags, steps, counts, msg);
    strata__free(col);
    return rc;
}

int strata_model_predict_h5_table(strata_model *m, const char *path, const char *table,
                                  const char *const *columns, int64_t d, const char *key,
                                  const char *out_path, const char *source, int flags,
                                  int64_t *tier_counts)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_model handle is NULL");
    char *msg = strata__model_msg(m);
    msg[0] = '\0';
    int rc = strata__frame_args("strata_model_predict_h5_table", path, table, columns, d, msg);
    if (rc)
        return rc;
    if (!out_path)
        return strata__fail(msg, STRATA_E_NULL, "output path is NULL");
    const strata__tier_model *f = NULL;
    int64_t memory = 0, block_rows = 0;
    if ((rc = predict_begin(m, path, out_path, flags, &f, &memory, &block_rows, msg)))
        return rc;
    const strata__steps *steps = strata__kmeans_steps(strata_model_kmeans(m));
    int64_t *counts = strata__calloc((size_t)f->ntiers, sizeof *counts);
    if (!counts)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    /* No budget, no forced blocks: loaded, the columns not opened twice.
     * Else open them: loaded when all fits the budget, streamed if not. */
    int loaded = memory <= 0 && block_rows <= 0;
    if (!loaded) {
        strata__h5_cols *cols;
        strata__h5_frame head = {0};
        strata__h5_rows_info info;
        rc = strata__h5_cols_open(path, table, columns, d, key, &cols, &head, &info, msg);
        if (!rc) {
            rc = predict_table_planned(m, cols, &head, &info, memory, block_rows, path, out_path,
                                       source, flags, steps, counts, &loaded, msg);
            strata__h5_cols_close(cols);
            strata__h5_frame_free(&head);
        }
    }
    if (!rc && loaded)
        rc = predict_table_loaded(m, path, table, columns, d, key, out_path, source, flags,
                                  steps, counts, msg);
    return predict_end(rc, steps, f, counts, tier_counts, msg);
}
