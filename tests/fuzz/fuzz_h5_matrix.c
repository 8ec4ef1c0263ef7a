/* libFuzzer target: a (corrupted) HDF5 file read as a k-means input matrix
 * "/x" and as starting centroids "/c", through the public readers. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    int64_t n = -1, d = -1;
    int st = strata_h5_shape(path, "/x", &n, &d);
    fuzz_status_ok(st);
    if (st == STRATA_OK && (n < 0 || d < 0))
        abort();
    /* Whole reads and fits only for small shapes: the readers' handling of
     * huge declared extents is tested on its own, and a fuzzer must not page. */
    if (st == STRATA_OK && n > 0 && d > 0 && n <= 4096 && d <= 64 && n * d <= 16384) {
        double *buf = malloc((size_t)(n * d) * sizeof *buf);
        if (!buf)
            return 0;
        fuzz_status_ok(strata_h5_read_matrix(path, "/x", STRATA_FLOAT64, buf, n, d));
        free(buf);
        strata_kmeans *km;
        if (strata_kmeans_create(&km) != STRATA_OK)
            return 0;
        int k = n < 3 ? (int)n : 3;
        if (strata_kmeans_set_int(km, STRATA_KMEANS_K, k) != STRATA_OK ||
            strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 5) != STRATA_OK ||
            strata_kmeans_set_int(km, STRATA_THREADS, 1) != STRATA_OK)
            abort();
        st = strata_kmeans_set_init_centroids_h5(km, path, "/c");
        fuzz_status_ok(st);
        st = strata_kmeans_fit_h5(km, path, "/x");
        fuzz_status_ok(st);
        if (st == STRATA_OK) {
            double inertia;
            if (strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia) != STRATA_OK ||
                !(inertia >= 0))
                abort(); /* a fit that succeeds reports a finite, non-negative inertia */
        }
        strata_kmeans_free(km);
    }
    return 0;
}
