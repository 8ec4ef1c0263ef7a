/* libFuzzer target: a (corrupted) HDF5 file loaded as a tier model
 * (strata_model_read_h5, group "/model"), and when it loads, a few rows
 * predicted with it: each label a cluster, each tier that cluster's tier. */
#include "fuzz_common.h"

static void predict_rows(strata_model *m)
{
    int64_t k = -1, d = -1;
    if (strata_model_shape(m, &k, &d) != STRATA_OK || k < 1 || d < 1)
        abort();
    const int64_t t = strata_model_tier_count(m);
    if (t < 1 || t > k)
        abort();
    for (int64_t i = 0; i < t; i++)
        if (!strata_model_tier_name(m, i))
            abort();
    if (k > 256 || d > 256) /* a fuzzer must not page */
        return;
    int32_t ct[256];
    if (strata_model_cluster_tier(m, ct, k) != STRATA_OK)
        abort();
    /* rows: zeros, ones, the scaled model's own centroids taken as original
     * units, and a large value: in range of every transform or refused */
    enum { ROWS = 4 };
    double *x = calloc((size_t)(ROWS * d), sizeof *x), *c = malloc((size_t)(k * d) * sizeof *c);
    if (!x || !c) {
        free(x);
        free(c);
        return;
    }
    if (strata_model_centroids(m, STRATA_MODEL_SCALED, c, k, d) != STRATA_OK)
        abort();
    for (int64_t j = 0; j < d; j++) {
        x[d + j] = 1.0;
        x[2 * d + j] = c[j] > -1.0 ? c[j] : 0.0;
        x[3 * d + j] = 1e6;
    }
    if (strata_kmeans_set_int(strata_model_kmeans(m), STRATA_THREADS, 1) != STRATA_OK)
        abort();
    int32_t labels[ROWS], tiers[ROWS];
    int st = strata_model_predict(m, x, ROWS, d, 0, labels, tiers);
    fuzz_status_ok(st);
    for (int i = 0; st == STRATA_OK && i < ROWS; i++)
        if (labels[i] < 0 || labels[i] >= k || tiers[i] != ct[labels[i]])
            abort();
    free(x);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    strata_model *m = NULL;
    int st = strata_model_read_h5(&m, path, NULL);
    fuzz_status_ok(st);
    if (st != STRATA_OK) {
        if (m)
            abort();
        return 0;
    }
    predict_rows(m);
    strata_model_free(m);
    return 0;
}
