/* Using a fitted model on new rows: nearest-centroid labels and distances. */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "kmeans/assign.h"
#include "kmeans/kmeans.h"

int strata__kmeans_predict(const strata__data *X, const double *centroids, int64_t k,
                           const strata__kmeans_cfg *cfg, int32_t *labels, char *msg)
{
    const int64_t d = X->d;
    double *mean = strata__alloc((size_t)d, sizeof(double));
    if (!mean)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    strata__data_stats st = {mean, 0.0, 0.0};
    strata__data wide;
    double *wide_buf = NULL;
    int work, rc = strata__data_check(X, cfg->threads, &st, msg);
    /* the model's centroids may lie far from these rows (as in fit) */
    if (!rc)
        rc = strata__distance_dtype(X, &st, centroids, k, cfg->threads, &work, msg);
    if (!rc && work != X->dtype && !(rc = strata__data_widen(X, cfg->threads, &wide, &wide_buf, msg)))
        X = &wide;
    if (rc) {
        strata__free(mean);
        return rc;
    }
    int assign;
    if ((rc = strata__assign_resolve(cfg, k, d, &assign, msg))) {
        strata__free(mean);
        strata__free(wide_buf);
        return rc;
    }
    strata__tables t;
    rc = strata__tables_init(&t, X, k, mean, cfg->kern, assign, cfg->threads);
    strata__free(mean);
    if (rc) {
        strata__free(wide_buf);
        return strata__fail(msg, rc, "out of memory for centroid tables");
    }
    strata__tables_set_centroids(&t, centroids);
    rc = strata__assign_pass(&t, X, labels, NULL, STRATA__PASS_LABEL);
    strata__tables_free(&t);
    strata__free(wide_buf);
    if (rc)
        return strata__fail(msg, rc, "out of memory in the assignment pass");
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
    int work, rc = strata__data_check(X, threads, &st, msg);
    /* computed in double: only an overflow of double is an error */
    if (!rc)
        rc = strata__distance_dtype(X, &st, centroids, k, threads, &work, msg);
    strata__free(mean);
    if (rc)
        return rc;
    transform_ctx t = {X, centroids, k, out};
    if (strata__parallel_chunks(X->n, STRATA__CHUNK_ROWS, threads, 0, NULL, transform_chunk, &t))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    return STRATA_OK;
}
