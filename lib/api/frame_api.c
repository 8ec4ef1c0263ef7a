/* Feature frames: argument checks in front of lib/io's readers, the checks
 * every frame passes (names, finite values, keys), and the accessors.
 * Without a handle, messages go to the thread's slot (strata_last_error()). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "api/api_internal.h"
#include "io/h5.h"

struct strata_frame {
    strata__h5_frame f;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct, non-empty names (sorted copy of the pointers: d may be large). */
static int check_names(const strata__h5_frame *f, const char *where, char *msg)
{
    for (int64_t j = 0; j < f->d; j++)
        if (!f->names[j][0])
            return strata__fail(msg, STRATA_E_ARG, "%s: feature %lld has an empty name", where,
                                (long long)j);
    const char **sorted = strata__alloc((size_t)f->d, sizeof *sorted);
    if (!sorted)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory checking %lld feature names",
                            (long long)f->d);
    memcpy(sorted, f->names, (size_t)f->d * sizeof *sorted);
    qsort(sorted, (size_t)f->d, sizeof *sorted, cmp_str);
    const char *dup = NULL;
    for (int64_t j = 1; j < f->d && !dup; j++)
        if (!strcmp(sorted[j - 1], sorted[j]))
            dup = sorted[j];
    int rc = STRATA_OK;
    if (dup) {
        int64_t a = -1, b = -1;
        for (int64_t j = 0; j < f->d && b < 0; j++)
            if (!strcmp(f->names[j], dup))
                *(a < 0 ? &a : &b) = j;
        rc = strata__fail(msg, STRATA_E_ARG, "%s: feature name '%s' appears twice (columns "
                          "%lld and %lld); feature names must be distinct", where, dup,
                          (long long)a, (long long)b);
    }
    strata__free(sorted);
    return rc;
}

int strata__frame_check_rows(const double *x, int64_t r0, int64_t m, int64_t d,
                             char *const *names, const char *where, char *msg)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < d; j++) {
            double v = x[i * d + j];
            if (!isfinite(v))
                return strata__fail(msg, STRATA_E_NONFINITE,
                                    "%s: feature '%s' is %s in row %lld (features must be "
                                    "finite numbers)", where, names[j],
                                    isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf",
                                    (long long)(r0 + i));
        }
    return STRATA_OK;
}

/* Every key present and distinct. */
static int check_keys(const strata__h5_frame *f, const char *where, char *msg)
{
    if (!f->key)
        return STRATA_OK;
    for (int64_t i = 0; i < f->n; i++)
        if (f->key[i] == INT64_MIN)
            return strata__fail(msg, STRATA_E_NONFINITE,
                                "%s: key '%s' is missing in row %lld (NaN, a fraction, or "
                                "beyond int64; INT64_MIN is reserved)", where, f->key_name,
                                (long long)i);
    int64_t *sorted = strata__alloc((size_t)f->n, sizeof *sorted);
    if (!sorted)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory checking %lld keys",
                            (long long)f->n);
    memcpy(sorted, f->key, (size_t)f->n * sizeof *sorted);
    qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_i64);
    int found = 0;
    int64_t dup = 0;
    for (int64_t i = 1; i < f->n && !found; i++)
        if (sorted[i - 1] == sorted[i]) {
            found = 1;
            dup = sorted[i];
        }
    strata__free(sorted);
    if (!found)
        return STRATA_OK;
    int64_t a = -1, b = -1;
    for (int64_t i = 0; i < f->n && b < 0; i++)
        if (f->key[i] == dup)
            *(a < 0 ? &a : &b) = i;
    return strata__fail(msg, STRATA_E_ARG, "%s: key '%s' repeats: %lld in rows %lld and %lld "
                        "(row keys must be distinct: a row per transaction is a log for RFM; "
                        "to cluster the rows without a key, give none: --key none, or key='' "
                        "in Python)", where, f->key_name, (long long)dup, (long long)a,
                        (long long)b);
}

int strata__frame_check_head(const strata__h5_frame *f, const char *where, char *msg)
{
    int rc = check_names(f, where, msg);
    return rc ? rc : check_keys(f, where, msg);
}

/* Check a frame just built and hand it out, or free it. */
static int finish(strata__h5_frame *f, const char *where, strata_frame **out)
{
    int rc = check_names(f, where, NULL);
    if (!rc)
        rc = strata__frame_check_rows(f->x, 0, f->n, f->d, f->names, where, NULL);
    if (!rc)
        rc = check_keys(f, where, NULL);
    strata_frame *h = rc ? NULL : strata__calloc(1, sizeof *h);
    if (!rc && !h)
        rc = strata__fail(NULL, STRATA_E_NOMEM, "out of memory for a frame");
    if (rc) {
        strata__h5_frame_free(f);
        return rc;
    }
    h->f = *f;
    *out = h;
    return STRATA_OK;
}

int strata__frame_args(const char *fn, const char *path, const char *table,
                       const char *const *columns, int64_t d, char *msg)
{
    if (!path || (!columns && !table))
        return strata__fail(msg, STRATA_E_NULL, "%s: NULL argument", fn);
    if (table && !columns && d != 0)
        return strata__fail(msg, STRATA_E_ARG, "%s: columns is NULL (every numeric column) but "
                            "d = %lld, not 0", fn, (long long)d);
    if (columns && (d < 1 || d > INT32_MAX))
        return strata__fail(msg, STRATA_E_ARG, "%s: d must be in [1, 2^31-1], got %lld", fn,
                            (long long)d);
    for (int64_t j = 0; columns && j < d; j++)
        if (!columns[j])
            return strata__fail(msg, STRATA_E_NULL, "%s: %s %lld is NULL", fn,
                                table ? "column" : "dataset", (long long)j);
    if (table && !table[0])
        return strata__fail(msg, STRATA_E_IO_DATASET, "empty table name for '%s'", path);
    return STRATA_OK;
}

int strata_frame_read_columns(strata_frame **out, const char *path, const char *const *datasets,
                              int64_t d, const char *key)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_frame_read_columns: NULL argument");
    int rc = strata__frame_args("strata_frame_read_columns", path, NULL, datasets, d, NULL);
    if (rc)
        return rc;
    strata__h5_frame f;
    rc = strata__h5_read_frame(path, NULL, datasets, d, key, &f, NULL);
    return rc ? rc : finish(&f, path, out);
}

int strata_frame_read_table(strata_frame **out, const char *path, const char *table,
                            const char *const *columns, int64_t d, const char *key)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_frame_read_table: NULL argument");
    int rc = strata__frame_args("strata_frame_read_table", path, table, columns, d, NULL);
    if (rc)
        return rc;
    strata__h5_frame f;
    rc = strata__h5_read_frame(path, table, columns, d, key, &f, NULL);
    return rc ? rc : finish(&f, path, out);
}

int strata_frame_read_matrix(strata_frame **out, const char *path, const char *dataset)
{
    if (!out || !path || !dataset)
        return strata__fail(NULL, STRATA_E_NULL, "strata_frame_read_matrix: NULL argument");
    strata__h5_frame f;
    int rc = strata__h5_read_matrix_frame(path, dataset, &f, NULL);
    return rc ? rc : finish(&f, path, out);
}

int strata_frame_from_arrays(strata_frame **out, const double *x, int64_t n, int64_t d,
                             int64_t row_stride, const char *const *names, const int64_t *key,
                             const char *key_name)
{
    static const char WHERE[] = "strata_frame_from_arrays";
    if (!out || !x)
        return strata__fail(NULL, STRATA_E_NULL, "%s: NULL argument", WHERE);
    if (n < 1 || d < 1)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n and d must be >= 1, got %lld x %lld",
                            WHERE, (long long)n, (long long)d);
    if (row_stride == 0)
        row_stride = d;
    if (row_stride < d)
        return strata__fail(NULL, STRATA_E_ARG, "%s: row_stride %lld is smaller than d = %lld",
                            WHERE, (long long)row_stride, (long long)d);
    if ((uint64_t)n > (uint64_t)INT64_MAX / 8 / (uint64_t)row_stride ||
        (uint64_t)n * (uint64_t)d > SIZE_MAX / sizeof(double))
        return strata__fail(NULL, STRATA_E_ARG, "%s: %lld x %lld elements overflow", WHERE,
                            (long long)n, (long long)row_stride);
    for (int64_t j = 0; names && j < d; j++)
        if (!names[j])
            return strata__fail(NULL, STRATA_E_NULL, "%s: name %lld is NULL", WHERE,
                                (long long)j);
    strata__h5_frame f = {.n = n, .d = d};
    const char *kname = key_name ? key_name : "customer_id";
    f.x = strata__alloc((size_t)(n * d), sizeof(double));
    f.names = strata__calloc((size_t)d, sizeof *f.names);
    f.key = key ? strata__alloc((size_t)n, sizeof(int64_t)) : NULL;
    f.key_name = key ? strata__strndup(kname, strlen(kname)) : NULL;
    int ok = f.x && f.names && (!key || (f.key && f.key_name));
    for (int64_t j = 0; ok && j < d; j++) {
        char xj[32];
        snprintf(xj, sizeof xj, "x%lld", (long long)j);
        const char *name = names ? names[j] : xj;
        ok = (f.names[j] = strata__strndup(name, strlen(name))) != NULL;
    }
    if (!ok) {
        strata__h5_frame_free(&f);
        return strata__fail(NULL, STRATA_E_NOMEM, "%s: out of memory for %lld x %lld", WHERE,
                            (long long)n, (long long)d);
    }
    for (int64_t i = 0; i < n; i++)
        memcpy(f.x + i * d, x + i * row_stride, (size_t)d * sizeof(double));
    if (key)
        memcpy(f.key, key, (size_t)n * sizeof(int64_t));
    return finish(&f, WHERE, out);
}

int strata_frame_shape(const strata_frame *f, int64_t *out_n, int64_t *out_d)
{
    if (!f || !out_n || !out_d)
        return strata__fail(NULL, STRATA_E_NULL, "strata_frame_shape: NULL argument");
    *out_n = f->f.n;
    *out_d = f->f.d;
    return STRATA_OK;
}

const double *strata_frame_data(const strata_frame *f)
{
    return f ? f->f.x : NULL;
}

const char *strata_frame_name(const strata_frame *f, int64_t j)
{
    return f && j >= 0 && j < f->f.d ? f->f.names[j] : NULL;
}

const int64_t *strata_frame_key(const strata_frame *f)
{
    return f ? f->f.key : NULL;
}

const char *strata_frame_key_name(const strata_frame *f)
{
    return f ? f->f.key_name : NULL;
}

void strata_frame_free(strata_frame *f)
{
    if (!f)
        return;
    strata__h5_frame_free(&f->f);
    strata__free(f);
}
