/* Using a fitted model on new rows: nearest-centroid labels and distances. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "kmeans/assign.h"
#include "kmeans/kmeans.h"

/* The reference predict centres on: per feature, the mean of the centroids
 * rounded to a dyadic grid 2^-10 of the centroids' spread (so within
 * spread / 2^11 of the mean, as good against cancellation), which keeps
 * data on a coarser grid (integers, cents) exact after centring: exact
 * distance ties then stay exact ties, won by the lowest index. */
static void model_reference(const double *c, int64_t k, int64_t d, double *ref, double *dev)
{
    for (int64_t f = 0; f < d; f++) {
        double s = 0.0, spread = 0.0;
        for (int64_t j = 0; j < k; j++)
            s += c[j * d + f];
        double m = s / (double)k;
        for (int64_t j = 0; j < k; j++)
            spread = fmax(spread, fabs(c[j * d + f] - m));
        if (spread > 0.0 && isfinite(m)) {
            double g = ldexp(1.0, ilogb(spread) - 10);
            m = nearbyint(m / g) * g;
        }
        ref[f] = m;
        dev[f] = 0.0;
        for (int64_t j = 0; j < k; j++)
            dev[f] = fmax(dev[f], fabs(c[j * d + f] - m));
    }
}

/* 1 if float32 row x, centred on ref, keeps every term of the expanded form
 * (||x'||^2, the centroids' norms, the products 2 x'_f c'_jf) well inside
 * the float range; the rule of strata__distance_dtype, row by row. */
static int row_fits_f32(const float *x, int64_t d, const double *ref, const double *dev)
{
    double b = 0.0;
    for (int64_t f = 0; f < d; f++) {
        double v = fabs((double)x[f] - ref[f]) + 2.0 * dev[f];
        b += v * v;
    }
    return b <= (double)FLT_MAX / 8.0;
}

static int label_rows(const strata__data *X, const double *centroids, int64_t k, const double *ref,
                      const strata__kmeans_cfg *cfg, int32_t *labels)
{
    strata__tables t;
    int rc = strata__tables_init(&t, X, k, ref, cfg->kern, STRATA_ASSIGN_FUSED, cfg->threads);
    if (rc)
        return rc;
    strata__tables_set_centroids(&t, centroids);
    rc = strata__assign_pass(&t, X, labels, NULL, STRATA__PASS_LABEL);
    strata__tables_free(&t);
    return rc;
}

/* A row's label depends on that row and the model only, never on the other
 * rows of the call: the expanded form is centred on model_reference() (the
 * batch mean would move the rounding of near-ties with the batch); a float32
 * row is scored in float32 when row_fits_f32() says so and else in double
 * (a per-batch choice would again depend on the other rows); and always by
 * the fused kernel, which scores each row on its own (a BLAS GEMM may block
 * and sum differently for a different number of rows). */
int strata__kmeans_predict(const strata__data *X, const double *centroids, int64_t k,
                           const strata__kmeans_cfg *cfg, int32_t *labels, char *msg)
{
    const int64_t d = X->d;
    double *mean = strata__alloc((size_t)(3 * d), sizeof(double));
    if (!mean)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    double *ref = mean + d, *dev = mean + 2 * d;
    strata__data_stats st = {mean, 0.0, 0.0};
    const strata__rowsrc src = strata__rowsrc_of(X);
    int work, rc = strata__data_check(&src, cfg->threads, &st, msg);
    /* only its error counts: squares beyond double (rows or centroids) */
    if (!rc)
        rc = strata__distance_dtype(&src, &st, centroids, k, cfg->threads, &work, msg);
    if (rc) {
        strata__free(mean);
        return rc;
    }
    model_reference(centroids, k, d, ref, dev);
    rc = label_rows(X, centroids, k, ref, cfg, labels);
    /* float32 rows beyond the float range: again in double, gathered */
    int64_t m = 0;
    if (!rc && X->dtype == STRATA_FLOAT32)
        for (int64_t i = 0; i < X->n; i++)
            m += !row_fits_f32(strata__row(X, i), d, ref, dev);
    if (!rc && m > 0) {
        double *wide = strata__alloc((size_t)(m * d), sizeof(double));
        int64_t *at = strata__alloc((size_t)m, sizeof(int64_t));
        int32_t *lab = strata__alloc((size_t)m, sizeof(int32_t));
        if (!wide || !at || !lab)
            rc = STRATA_E_NOMEM;
        for (int64_t i = 0, j = 0; !rc && i < X->n; i++) {
            const float *r = strata__row(X, i);
            if (row_fits_f32(r, d, ref, dev))
                continue;
            for (int64_t f = 0; f < d; f++)
                wide[j * d + f] = r[f];
            at[j++] = i;
        }
        strata__data W = {STRATA_FLOAT64, wide, m, d, d, NULL, 0, NULL};
        if (!rc && !(rc = label_rows(&W, centroids, k, ref, cfg, lab)))
            for (int64_t j = 0; j < m; j++)
                labels[at[j]] = lab[j];
        strata__free(wide);
        strata__free(at);
        strata__free(lab);
    }
    strata__free(mean);
    if (rc)
        return strata__fail(msg, rc, "out of memory labelling the rows");
    return STRATA_OK;
}

typedef struct transform_ctx {
    const strata__data *X;
    const double *c;
    int64_t k;
    double *out;
} transform_ctx;

static void transform_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const transform_ctx *t = vctx;
    const int64_t d = t->X->d;
    for (int64_t i = begin; i < end; i++)
        for (int64_t j = 0; j < t->k; j++) {
            double s = 0.0;
            for (int64_t f = 0; f < d; f++) {
                double v = strata__at(t->X, i, f) - t->c[j * d + f];
                s += v * v;
            }
            t->out[i * t->k + j] = sqrt(s);
        }
}

int strata__kmeans_transform(const strata__data *X, const double *centroids, int64_t k,
                             int threads, double *out, char *msg)
{
    double *mean = strata__alloc((size_t)X->d, sizeof(double));
    if (!mean)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    strata__data_stats st = {mean, 0.0, 0.0};
    const strata__rowsrc src = strata__rowsrc_of(X);
    int work, rc = strata__data_check(&src, threads, &st, msg);
    /* computed in double: only an overflow of double is an error */
    if (!rc)
        rc = strata__distance_dtype(&src, &st, centroids, k, threads, &work, msg);
    strata__free(mean);
    if (rc)
        return rc;
    transform_ctx t = {X, centroids, k, out};
    if (strata__parallel_chunks(X->n, STRATA__CHUNK_ROWS, threads, 0, NULL, transform_chunk, &t))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    return STRATA_OK;
}
