/* Per-feature transforms of a tier model: z = (t(x) - center) / scale, with
 * t = log1p or the identity, fitted on the training rows (unweighted). */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/select.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "tiers/tiers.h"

#define BASE(t) ((t) & ~STRATA_TRANSFORM_LOG1P)
#define HAS_LOG(t) (((t) & STRATA_TRANSFORM_LOG1P) != 0)

int strata__transform_valid(int t)
{
    return (t & ~(STRATA_TRANSFORM_LOG1P | 3)) == 0;
}

static double value_of(const double *x, int64_t i, int64_t stride, int64_t j, int log)
{
    double v = x[i * stride + j];
    return log ? log1p(v) : v;
}

/* Check the column: finite, and > -1 where log1p is taken. */
static int check_column(const double *x, int64_t n, int64_t stride, int64_t j, int log,
                        const char *name, char *msg)
{
    for (int64_t i = 0; i < n; i++) {
        double v = x[i * stride + j];
        if (!isfinite(v))
            return strata__fail(msg, STRATA_E_NONFINITE, "feature '%s' has a non-finite value "
                                "(%g) in row %lld", name, v, (long long)i);
        if (log && !(v > -1.0))
            return strata__fail(msg, STRATA_E_ARG, "feature '%s' has the value %g in row %lld: "
                                "log1p needs values > -1 (choose a transform without LOG1P)",
                                name, v, (long long)i);
    }
    return STRATA_OK;
}

/* Percentiles q[0..nq-1] (ascending, in [0, 1], nq <= 3) of the n values v,
 * numpy's "linear" method (lib/core/select.h: the same bits as numpy). */
static int percentiles(const double *v, int64_t n, const double *q, int nq, int threads,
                       double *out)
{
    int64_t ranks[6], pos[6];
    for (int i = 0; i < nq; i++) { /* ascending, as the selection wants */
        int64_t lo = strata__quantile_index(n, q[i]);
        ranks[2 * i] = lo;
        ranks[2 * i + 1] = lo + 1 < n ? lo + 1 : lo;
    }
    int rc = strata__select_ranks(v, n, ranks, 2 * nq, pos, threads,
                                  strata__kernels_get(STRATA_KERNEL_AUTO)->rank_keys);
    if (rc)
        return rc;
    for (int i = 0; i < nq; i++)
        out[i] = strata__quantile_lerp(n, q[i], v[pos[2 * i]], v[pos[2 * i + 1]]);
    return STRATA_OK;
}

int strata__scaling_fit(const double *x, int64_t n, int64_t d, int64_t stride,
                        const int *requested, const char *const *names, int threads,
                        int32_t *transform, double *center, double *scale, char *msg)
{
    double *col = NULL;
    int rc = STRATA_OK;
    for (int64_t j = 0; j < d && !rc; j++) {
        int t = requested[j];
        if (t == STRATA_TRANSFORM_AUTO) {
            /* skewness m3 / m2^1.5 of the raw values (scipy.stats.skew) */
            if ((rc = check_column(x, n, stride, j, 0, names[j], msg)))
                break;
            double s = 0.0, mn = INFINITY;
            for (int64_t i = 0; i < n; i++) {
                s += x[i * stride + j];
                mn = fmin(mn, x[i * stride + j]);
            }
            double mu = s / (double)n, m2 = 0.0, m3 = 0.0;
            for (int64_t i = 0; i < n; i++) {
                double e = x[i * stride + j] - mu;
                m2 += e * e;
                m3 += e * e * e;
            }
            m2 /= (double)n;
            m3 /= (double)n;
            /* scipy's rule: a variance at rounding level is a constant feature */
            int constant = !(m2 > (1e-14 * mu) * (1e-14 * mu)) || m2 == 0.0;
            double skew = constant ? 0.0 : m3 / pow(m2, 1.5);
            if (!constant && !isfinite(skew)) {
                /* cubes beyond the double range (a value of 1e110 among
                 * ordinary ones gave inf / inf = NaN, so no log): the same
                 * ratio of the deviations divided by the largest one */
                double big = 0.0, a2 = 0.0, a3 = 0.0;
                for (int64_t i = 0; i < n; i++)
                    big = fmax(big, fabs(x[i * stride + j] - mu));
                for (int64_t i = 0; i < n; i++) {
                    double e = (x[i * stride + j] - mu) / big;
                    a2 += e * e;
                    a3 += e * e * e;
                }
                skew = (a3 / (double)n) / pow(a2 / (double)n, 1.5);
            }
            t = STRATA_TRANSFORM_ZSCORE | (mn >= 0.0 && skew > 1.0 ? STRATA_TRANSFORM_LOG1P : 0);
        }
        transform[j] = t;
        const int log = HAS_LOG(t);
        if ((rc = check_column(x, n, stride, j, log, names[j], msg)))
            break;
        double c = 0.0, sc = 1.0;
        switch (BASE(t)) {
        case STRATA_TRANSFORM_ZSCORE: {
            double s = 0.0;
            for (int64_t i = 0; i < n; i++)
                s += value_of(x, i, stride, j, log);
            c = s / (double)n;
            double ss = 0.0;
            for (int64_t i = 0; i < n; i++) {
                double e = value_of(x, i, stride, j, log) - c;
                ss += e * e;
            }
            sc = sqrt(ss / (double)n);
            break;
        }
        case STRATA_TRANSFORM_MINMAX: {
            double lo = INFINITY, hi = -INFINITY;
            for (int64_t i = 0; i < n; i++) {
                double v = value_of(x, i, stride, j, log);
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
            c = lo;
            sc = hi - lo;
            break;
        }
        case STRATA_TRANSFORM_ROBUST: {
            if (!col && !(col = strata__alloc((size_t)n, sizeof(double)))) {
                rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the quantiles of "
                                  "feature '%s'", names[j]);
                break;
            }
            for (int64_t i = 0; i < n; i++)
                col[i] = value_of(x, i, stride, j, log);
            static const double q[3] = {0.25, 0.5, 0.75};
            double p[3];
            if ((rc = percentiles(col, n, q, 3, threads, p))) {
                rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the quantiles of "
                                  "feature '%s'", names[j]);
                break;
            }
            c = p[1];
            sc = p[2] - p[0];
            break;
        }
        default: break; /* NONE */
        }
        if (!(sc > 0.0) || !isfinite(sc))
            sc = isfinite(sc) ? 1.0 : sc; /* constant: shift only; an infinite one fails below */
        if (!isfinite(c) || !isfinite(sc)) {
            rc = strata__fail(msg, STRATA_E_NONFINITE, "the %s parameters of feature '%s' "
                              "overflow double (center %g, scale %g); rescale it first",
                              BASE(t) == STRATA_TRANSFORM_MINMAX ? "min-max" : "scaling",
                              names[j], c, sc);
            break;
        }
        center[j] = c;
        scale[j] = sc;
    }
    strata__free(col);
    return rc;
}

int strata__scaling_apply(const double *x, int64_t r0, int64_t n, int64_t d, int64_t stride,
                          const int32_t *transform, const double *center, const double *scale,
                          const char *const *names, double *out, char *msg)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double v = x[i * stride + j];
            if (!isfinite(v))
                return strata__fail(msg, STRATA_E_NONFINITE, "feature '%s' has a non-finite "
                                    "value (%g) in row %lld", names[j], v, (long long)(r0 + i));
            if (HAS_LOG(transform[j])) {
                if (!(v > -1.0))
                    return strata__fail(msg, STRATA_E_ARG, "feature '%s' has the value %g in "
                                        "row %lld: its transform takes log1p, which needs "
                                        "values > -1", names[j], v, (long long)(r0 + i));
                v = log1p(v);
            }
            double z = (v - center[j]) / scale[j];
            if (!isfinite(z))
                return strata__fail(msg, STRATA_E_NONFINITE, "feature '%s' in row %lld scales "
                                    "to %g (the value %g is too far from the model's range)",
                                    names[j], (long long)(r0 + i), z, x[i * stride + j]);
            out[i * d + j] = z;
        }
    return STRATA_OK;
}

void strata__scaling_inverse(const double *z, int64_t k, int64_t d, const int32_t *transform,
                             const double *center, const double *scale, double *out)
{
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < d; j++) {
            double v = z[i * d + j] * scale[j] + center[j];
            out[i * d + j] = HAS_LOG(transform[j]) ? expm1(v) : v;
        }
}
