/* strata_writer: a new HDF5 file written as a stream (include/strata.h,
 * "Files written as a stream"), on lib/io/h5_stream.c. The attribute and
 * string calls, and the failure bookkeeping, are strata_out's. */
#include <stdio.h>
#include <string.h>

#include "api/out.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"

#define MAX_FIELDS 256

struct strata_writer {
    strata_out out; /* out.h5 is the stream's file */
    strata__h5_stream *s;
};

int strata_writer_open(strata_writer **out, const char *path, int flags)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "writer handle pointer is NULL");
    *out = NULL;
    if (!path)
        return strata__fail(NULL, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(NULL, STRATA_E_PARAM, "unknown write flags %d", flags);
    strata_writer *w = strata__calloc(1, sizeof *w);
    size_t len = strlen(path) + 1;
    if (!w || !(w->out.path = strata__alloc(len, 1))) {
        strata__free(w);
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory");
    }
    memcpy(w->out.path, path, len);
    int rc = strata__h5_stream_open(&w->s, w->out.path, flags, w->out.msg);
    if (rc) {
        strata__free(w->out.path);
        strata__free(w);
        return rc;
    }
    w->out.h5 = strata__h5_stream_out(w->s);
    *out = w;
    return STRATA_OK;
}

const char *strata_writer_last_error(const strata_writer *w)
{
    return w ? w->out.msg : "writer handle is NULL";
}

/* STRATA_INT32 ... STRATA_FLOAT64 as lib/io's type, or 0. */
static int io_type(int dtype)
{
    switch (dtype) {
    case STRATA_INT32: return STRATA__H5_I32;
    case STRATA_INT64: return STRATA__H5_I64;
    case STRATA_FLOAT32: return STRATA__H5_F32;
    case STRATA_FLOAT64: return STRATA__H5_F64;
    default: return 0;
    }
}

/* "/x" + STRATA_FLOAT32 style text for messages. */
static const char *dtype_name(int dtype)
{
    switch (dtype) {
    case STRATA_INT32: return "int32";
    case STRATA_INT64: return "int64";
    case STRATA_FLOAT32: return "float32";
    case STRATA_FLOAT64: return "float64";
    default: return "unknown";
    }
}

static int ready(strata_writer *w, const char *name)
{
    return w ? strata__out_ready(&w->out, name)
             : strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
}

static int fail(strata_writer *w, int code, const char *what)
{
    return strata__out_done(&w->out, strata__fail(w->out.msg, code, "%s", what));
}

int strata_writer_dataset(strata_writer *w, const char *name, int dtype, int64_t cols,
                          int64_t chunk_rows, int *id)
{
    int rc = ready(w, name);
    if (rc)
        return rc;
    char what[STRATA__MSG_LEN];
    if (!id)
        return fail(w, STRATA_E_NULL, "dataset id pointer is NULL");
    if (!io_type(dtype)) {
        snprintf(what, sizeof what, "dataset '%s': unknown element type %d (STRATA_INT32, "
                 "STRATA_INT64, STRATA_FLOAT32 or STRATA_FLOAT64)", name, dtype);
        return fail(w, STRATA_E_ARG, what);
    }
    return strata__out_done(&w->out, strata__h5_stream_dataset(w->s, name, io_type(dtype), cols,
                                                               chunk_rows, id));
}

int strata_writer_table(strata_writer *w, const char *name, int nfields,
                        const char *const *fields, const int *dtypes, int64_t chunk_rows,
                        int *id)
{
    int rc = ready(w, name);
    if (rc)
        return rc;
    char what[STRATA__MSG_LEN];
    if (!id || !fields || !dtypes)
        return fail(w, STRATA_E_NULL, "table id pointer, field names or types are NULL");
    if (nfields < 1 || nfields > MAX_FIELDS) {
        snprintf(what, sizeof what, "table '%s': %d fields (1..%d)", name, nfields, MAX_FIELDS);
        return fail(w, STRATA_E_ARG, what);
    }
    int types[MAX_FIELDS];
    for (int f = 0; f < nfields; f++) {
        if (!fields[f] || !fields[f][0]) {
            snprintf(what, sizeof what, "table '%s': field %d has no name", name, f);
            return fail(w, fields[f] ? STRATA_E_ARG : STRATA_E_NULL, what);
        }
        for (int g = 0; g < f; g++)
            if (!strcmp(fields[f], fields[g])) {
                snprintf(what, sizeof what, "table '%s': field '%s' given twice", name, fields[f]);
                return fail(w, STRATA_E_ARG, what);
            }
        if (!(types[f] = io_type(dtypes[f]))) {
            snprintf(what, sizeof what, "table '%s', field '%s': unknown element type %d", name,
                     fields[f], dtypes[f]);
            return fail(w, STRATA_E_ARG, what);
        }
    }
    return strata__out_done(&w->out, strata__h5_stream_table(w->s, name, nfields, fields, types,
                                                             chunk_rows, id));
}

/* Dataset id exists: its shape into the out-parameters, else a failure. */
static int lookup(strata_writer *w, int id, int *type, int64_t *cols, int *nfields,
                  const int **ftypes)
{
    int64_t rows;
    char what[STRATA__MSG_LEN];
    if (strata__h5_stream_info(w->s, id, type, cols, nfields, ftypes, &rows) == 0)
        return STRATA_OK;
    snprintf(what, sizeof what, "no dataset %d declared in '%s'", id, w->out.path);
    return fail(w, STRATA_E_ARG, what);
}

int strata_writer_append(strata_writer *w, int id, int dtype, const void *values, int64_t n,
                         int64_t cols)
{
    int rc = ready(w, "append");
    int type, nfields;
    int64_t want_cols;
    const int *ftypes;
    if (rc || (rc = lookup(w, id, &type, &want_cols, &nfields, &ftypes)))
        return rc;
    char what[STRATA__MSG_LEN];
    if (nfields) {
        snprintf(what, sizeof what, "dataset %d of '%s' is a table: append its columns with "
                 "strata_writer_append_table()", id, w->out.path);
        return fail(w, STRATA_E_ARG, what);
    }
    if (io_type(dtype) != type || cols != want_cols) {
        int want = type == STRATA__H5_I32 ? STRATA_INT32 : type == STRATA__H5_I64 ? STRATA_INT64
                   : type == STRATA__H5_F32 ? STRATA_FLOAT32 : STRATA_FLOAT64;
        snprintf(what, sizeof what, "dataset %d of '%s' holds %s, %lld columns (0: 1-D); a "
                 "block of %s, %lld columns was given", id, w->out.path, dtype_name(want),
                 (long long)want_cols, dtype_name(dtype), (long long)cols);
        return fail(w, STRATA_E_ARG, what);
    }
    if (n < 0) {
        snprintf(what, sizeof what, "cannot append %lld rows", (long long)n);
        return fail(w, STRATA_E_ARG, what);
    }
    if (n > 0 && !values)
        return fail(w, STRATA_E_NULL, "values to append are NULL");
    const void *data[1] = {values};
    return strata__out_done(&w->out, strata__h5_stream_append(w->s, id, data, n));
}

int strata_writer_append_table(strata_writer *w, int id, int nfields, const void *const *columns,
                               int64_t n)
{
    int rc = ready(w, "append");
    int type, want_fields;
    int64_t cols;
    const int *ftypes;
    if (rc || (rc = lookup(w, id, &type, &cols, &want_fields, &ftypes)))
        return rc;
    char what[STRATA__MSG_LEN];
    if (nfields != want_fields) {
        snprintf(what, sizeof what, "dataset %d of '%s' has %d fields; %d columns were given",
                 id, w->out.path, want_fields, nfields);
        return fail(w, STRATA_E_ARG, what);
    }
    if (n < 0) {
        snprintf(what, sizeof what, "cannot append %lld rows", (long long)n);
        return fail(w, STRATA_E_ARG, what);
    }
    if (n > 0 && !columns)
        return fail(w, STRATA_E_NULL, "columns to append are NULL");
    for (int f = 0; n > 0 && f < nfields; f++)
        if (!columns[f]) {
            snprintf(what, sizeof what, "column %d to append is NULL", f);
            return fail(w, STRATA_E_NULL, what);
        }
    return strata__out_done(&w->out, strata__h5_stream_append(w->s, id, columns, n));
}

int64_t strata_writer_rows(const strata_writer *w, int id)
{
    int type, nfields;
    int64_t cols, rows;
    const int *ftypes;
    if (!w || strata__h5_stream_info(w->s, id, &type, &cols, &nfields, &ftypes, &rows) != 0)
        return -1;
    return rows;
}

int strata_writer_strings(strata_writer *w, const char *object, const char *attr,
                          const char *const *strings, int64_t n)
{
    if (!w)
        return strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
    /* disk space first (the string heap: the text and ~16 bytes a string) */
    int64_t bytes = 0;
    for (int64_t i = 0; strings && i < n; i++)
        bytes += strings[i] ? (int64_t)strlen(strings[i]) + 16 : 0;
    int rc = w->out.failed ? STRATA_OK : strata__h5_stream_reserve(w->s, bytes);
    return rc ? strata__out_done(&w->out, rc)
              : strata_out_strings(&w->out, object, attr, strings, n);
}

int strata_writer_fixed_strings(strata_writer *w, const char *object, const char *attr,
                                const char *const *strings, int64_t n)
{
    int rc = ready(w, attr ? attr : object);
    if (rc)
        return rc;
    char what[STRATA__MSG_LEN];
    if (!attr && !object)
        return fail(w, STRATA_E_NULL, "string dataset name is NULL");
    if (n < 0 || (attr && n != 1)) {
        snprintf(what, sizeof what, "strings '%s': %lld (a dataset: >= 0; an attribute: 1)",
                 attr ? attr : object, (long long)n);
        return fail(w, STRATA_E_ARG, what);
    }
    if (n > 0 && !strings)
        return fail(w, STRATA_E_NULL, "strings are NULL");
    for (int64_t i = 0; i < n; i++)
        if (!strings[i]) {
            snprintf(what, sizeof what, "string %lld is NULL", (long long)i);
            return fail(w, STRATA_E_NULL, what);
        }
    return strata__out_done(&w->out,
                            strata__h5_stream_fixed_strings(w->s, object, attr, strings, n));
}

int strata_writer_attr_int(strata_writer *w, const char *object, const char *name, int64_t value)
{
    return w ? strata_out_attr_int(&w->out, object, name, value)
             : strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
}

int strata_writer_attr_double(strata_writer *w, const char *object, const char *name,
                              double value)
{
    return w ? strata_out_attr_double(&w->out, object, name, value)
             : strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
}

int strata_writer_attr_string(strata_writer *w, const char *object, const char *name,
                              const char *value)
{
    return w ? strata_out_attr_string(&w->out, object, name, value)
             : strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
}

int strata_writer_commit(strata_writer *w)
{
    if (!w)
        return strata__fail(NULL, STRATA_E_NULL, "writer handle is NULL");
    int rc = w->out.failed;
    int final = strata__h5_stream_finish(w->s, rc);
    if (rc)
        strata__fail(NULL, rc, "%s", w->out.first);
    else if (final)
        strata__fail(NULL, final, "%s", w->out.msg);
    strata__free(w->out.path);
    strata__free(w);
    return final;
}

void strata_writer_discard(strata_writer *w)
{
    if (!w)
        return;
    (void)strata__h5_stream_finish(w->s, STRATA_E_CANCELLED);
    strata__free(w->out.path);
    strata__free(w);
}
