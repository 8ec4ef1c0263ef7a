/* Public HDF5 matrix functions: argument checks in front of lib/io. Without
 * a handle, messages go to the thread's slot (strata_last_error()). */
#include <stdint.h>

#include "core/status.h"
#include "io/h5.h"

static int check_matrix_args(const char *fn, int dtype, int64_t n, int64_t d)
{
    if (dtype != STRATA_FLOAT32 && dtype != STRATA_FLOAT64)
        return strata__fail(NULL, STRATA_E_PARAM,
                            "%s: dtype must be STRATA_FLOAT32 (1) or STRATA_FLOAT64 (2), got %d",
                            fn, dtype);
    if (n < 1 || d < 1)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n and d must be >= 1, got %lld x %lld", fn,
                            (long long)n, (long long)d);
    if ((uint64_t)n > (uint64_t)INT64_MAX / 8 / (uint64_t)d)
        return strata__fail(NULL, STRATA_E_ARG, "%s: %lld x %lld elements overflow", fn,
                            (long long)n, (long long)d);
    return STRATA_OK;
}

int strata_h5_shape(const char *path, const char *dataset, int64_t *out_n, int64_t *out_d)
{
    if (!path || !dataset || !out_n || !out_d)
        return strata__fail(NULL, STRATA_E_NULL, "strata_h5_shape: NULL argument");
    int64_t n, d;
    int rc = strata__h5_shape(path, dataset, &n, &d, NULL);
    if (rc)
        return rc;
    *out_n = n;
    *out_d = d;
    return STRATA_OK;
}

int strata_h5_read_matrix(const char *path, const char *dataset, int dtype, void *buf, int64_t n,
                          int64_t d)
{
    if (!path || !dataset || !buf)
        return strata__fail(NULL, STRATA_E_NULL, "strata_h5_read_matrix: NULL argument");
    int rc = check_matrix_args("strata_h5_read_matrix", dtype, n, d);
    if (rc)
        return rc;
    return strata__h5_read_into(path, dataset, dtype, buf, n, d, NULL);
}

int strata_h5_write_matrix(const char *path, const char *dataset, int dtype, const void *buf,
                           int64_t n, int64_t d, int flags)
{
    if (!path || !dataset || !buf)
        return strata__fail(NULL, STRATA_E_NULL, "strata_h5_write_matrix: NULL argument");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(NULL, STRATA_E_PARAM, "strata_h5_write_matrix: unknown flags %d",
                            flags);
    int rc = check_matrix_args("strata_h5_write_matrix", dtype, n, d);
    if (rc)
        return rc;
    return strata__h5_write_matrix(path, dataset, dtype, buf, n, d, flags, NULL);
}
