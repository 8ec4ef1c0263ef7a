/* strata_out: one result file assembled from parts (include/strata.h,
 * "Result files assembled from parts"), on the generic writer of lib/io. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/api_profile.h"
#include "api/out.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/files.h"
#include "io/h5.h"

#define MAX_INPUTS 8

int strata_out_open(strata_out **out, const char *path, const char *const *inputs, int ninputs,
                    int flags)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "output handle pointer is NULL");
    *out = NULL;
    if (!path)
        return strata__fail(NULL, STRATA_E_NULL, "output path is NULL");
    if (ninputs < 0 || ninputs > MAX_INPUTS || (ninputs > 0 && !inputs))
        return strata__fail(NULL, STRATA_E_ARG, "inputs: %d paths (0..%d, not NULL when > 0)",
                            ninputs, MAX_INPUTS);
    if (flags & ~(STRATA_WRITE_FORCE | STRATA_WRITE_ON_DISK))
        return strata__fail(NULL, STRATA_E_PARAM, "unknown write flags %d", flags);
    strata__file_id ids[MAX_INPUTS];
    for (int i = 0; i < ninputs; i++) {
        if (!inputs[i])
            return strata__fail(NULL, STRATA_E_NULL, "input path %d is NULL", i);
        strata__file_id_of(inputs[i], "an input of this result", &ids[i]);
    }
    strata_out *o = strata__calloc(1, sizeof *o);
    size_t len = strlen(path) + 1;
    if (!o || !(o->path = strata__alloc(len, 1))) {
        strata__free(o);
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory");
    }
    memcpy(o->path, path, len);
    int rc = strata__h5_out_open(&o->h5, o->path, ids, ninputs, flags, o->msg);
    if (rc) {
        strata__free(o->path);
        strata__free(o);
        return rc; /* strata__fail() filled the thread's slot too */
    }
    *out = o;
    return STRATA_OK;
}

const char *strata_out_last_error(const strata_out *o)
{
    return o ? o->msg : "output handle is NULL";
}

int strata_out_set_int(strata_out *o, int key, int64_t value)
{
    if (!o)
        return strata__fail(NULL, STRATA_E_NULL, "output handle is NULL");
    if (key != STRATA_THREADS)
        return strata__fail(o->msg, STRATA_E_PARAM, "unknown output parameter %d (STRATA_THREADS "
                            "is the only one)", key);
    if (value < 0 || value > 1024)
        return strata__fail(o->msg, STRATA_E_ARG, "threads %lld: 0..1024 (0 = the OpenMP "
                            "default)", (long long)value);
    strata__h5_out_threads(o->h5, (int)value);
    return STRATA_OK;
}

/* Any failed part, bad arguments included, fails the whole file; the first
 * failure's message is what commit reports. */
int strata__out_done(strata_out *o, int rc)
{
    if (rc && !o->failed) {
        o->failed = rc;
        snprintf(o->first, sizeof o->first, "%s", o->msg);
    }
    return rc;
}

/* A part may be added: the handle exists and no part failed before. */
int strata__out_ready(strata_out *o, const char *name)
{
    if (!o)
        return strata__fail(NULL, STRATA_E_NULL, "output handle is NULL");
    if (o->failed)
        return strata__fail(o->msg, STRATA_E_STATE,
                            "an earlier part of '%s' failed; the file will not be written",
                            o->path);
    o->msg[0] = '\0';
    if (!name || !name[0])
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "object name is NULL or empty"));
    if (strlen(name) >= STRATA__H5_NAME_MAX / 2)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_ARG, "object name '%.40s...' is too long",
                                    name));
    return STRATA_OK;
}

static int column(strata_out *o, const char *name, int type, const void *v, int64_t n)
{
    int rc = strata__out_ready(o, name);
    if (rc)
        return rc;
    if (n < 0 || (n > 0 && !v))
        return strata__out_done(o, strata__fail(o->msg, n < 0 ? STRATA_E_ARG : STRATA_E_NULL,
                                    "column '%s': %lld values at %p", name, (long long)n, v));
    int64_t dims[1] = {n};
    return strata__out_done(o, strata__h5_out_dataset(o->h5, name, type, 1, dims, v));
}

int strata_out_column_int32(strata_out *o, const char *name, const int32_t *v, int64_t n)
{
    return column(o, name, STRATA__H5_I32, v, n);
}

int strata_out_column_int64(strata_out *o, const char *name, const int64_t *v, int64_t n)
{
    return column(o, name, STRATA__H5_I64, v, n);
}

int strata_out_column_double(strata_out *o, const char *name, const double *v, int64_t n)
{
    return column(o, name, STRATA__H5_F64, v, n);
}

static int matrix(strata_out *o, const char *name, int type, const void *v, int64_t n, int64_t d)
{
    int rc = strata__out_ready(o, name);
    if (rc)
        return rc;
    if (n < 0 || d < 0 || (n > 0 && d > INT64_MAX / n))
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_ARG, "matrix '%s': %lld x %lld", name,
                                    (long long)n, (long long)d));
    if (n * d > 0 && !v)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "matrix '%s': values are NULL", name));
    int64_t dims[2] = {n, d};
    return strata__out_done(o, strata__h5_out_dataset(o->h5, name, type, 2, dims, v));
}

int strata_out_matrix_double(strata_out *o, const char *name, const double *v, int64_t n,
                             int64_t d)
{
    return matrix(o, name, STRATA__H5_F64, v, n, d);
}

int strata_out_matrix_int64(strata_out *o, const char *name, const int64_t *v, int64_t n,
                            int64_t d)
{
    return matrix(o, name, STRATA__H5_I64, v, n, d);
}

int strata_out_strings(strata_out *o, const char *object, const char *attr,
                       const char *const *strings, int64_t n)
{
    int rc = strata__out_ready(o, object);
    if (rc)
        return rc;
    if (n < 0 || (n > 0 && !strings))
        return strata__out_done(o, strata__fail(o->msg, n < 0 ? STRATA_E_ARG : STRATA_E_NULL,
                                    "strings '%s': %lld at %p", object, (long long)n,
                                    (const void *)strings));
    for (int64_t i = 0; i < n; i++)
        if (!strings[i])
            return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "strings '%s': string %lld is NULL",
                                        object, (long long)i));
    return strata__out_done(o, strata__h5_out_strings(o->h5, object, attr, strings, n));
}

int strata_out_attr_int(strata_out *o, const char *object, const char *name, int64_t value)
{
    int rc = strata__out_ready(o, name);
    return rc ? rc : strata__out_done(o, strata__h5_out_attr(o->h5, object, name, STRATA__H5_I64, &value));
}

int strata_out_attr_double(strata_out *o, const char *object, const char *name, double value)
{
    int rc = strata__out_ready(o, name);
    return rc ? rc : strata__out_done(o, strata__h5_out_attr(o->h5, object, name, STRATA__H5_F64, &value));
}

int strata_out_attr_string(strata_out *o, const char *object, const char *name, const char *value)
{
    int rc = strata__out_ready(o, name);
    if (rc)
        return rc;
    if (!value)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "attribute '%s': value is NULL", name));
    return strata__out_done(o, strata__h5_out_attr_string(o->h5, object, name, value));
}

int strata_out_rfm(strata_out *o, strata_rfm *h, const char *group, const char *source)
{
    int rc = strata__out_ready(o, group);
    if (rc)
        return rc;
    if (!h)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "RFM handle is NULL"));
    return strata__out_done(o, strata__rfm_write_into(h, o, group, source, o->msg));
}

int strata_out_model(strata_out *o, const strata_model *m, const char *group)
{
    int rc = strata__out_ready(o, group);
    if (rc)
        return rc;
    if (!m)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "model handle is NULL"));
    rc = strata__model_write_group(m, o->h5, group);
    if (rc && !o->msg[0]) /* a refusal before any write: the thread's message */
        snprintf(o->msg, sizeof o->msg, "%s", strata_last_error());
    return strata__out_done(o, rc);
}

int strata_out_profile(strata_out *o, const strata_profile *p, const char *group)
{
    int rc = strata__out_ready(o, group);
    if (rc)
        return rc;
    if (!p)
        return strata__out_done(o, strata__fail(o->msg, STRATA_E_NULL, "profile handle is NULL"));
    rc = strata__profile_put(o->h5, group, p);
    if (rc && !o->msg[0])
        snprintf(o->msg, sizeof o->msg, "%s", strata_last_error());
    return strata__out_done(o, rc);
}

int strata_out_sweep(strata_out *o, int64_t k_min, int64_t k_max, const double *table,
                     int64_t suggested_k, int64_t sample_size)
{
    int rc = strata__out_ready(o, "/sweep");
    return rc ? rc
              : strata__out_done(o, strata__sweep_put(o->h5, k_min, k_max, table, suggested_k, sample_size,
                                          o->msg));
}

int strata_out_commit(strata_out *o)
{
    if (!o)
        return strata__fail(NULL, STRATA_E_NULL, "output handle is NULL");
    int rc = o->failed;
    int final = strata__h5_out_finish(o->h5, rc);
    if (rc) /* the failed part's own message */
        strata__fail(NULL, rc, "%s", o->first);
    else if (final)
        strata__fail(NULL, final, "%s", o->msg);
    strata__free(o->path);
    strata__free(o);
    return final;
}

void strata_out_discard(strata_out *o)
{
    if (!o)
        return;
    (void)strata__h5_out_finish(o->h5, STRATA_E_CANCELLED);
    strata__free(o->path);
    strata__free(o);
}
