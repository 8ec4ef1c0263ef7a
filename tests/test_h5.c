/* HDF5 input and output through the public API: matrices round-trip, fit_h5
 * and set_init_centroids_h5 give the same model as the in-memory calls, the
 * model file holds the model, files are never overwritten unless asked, and
 * every I/O failure has its code and a message naming the file. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <unistd.h>

#include "check.h"
#include "tmpdir.h"

/* Names in the temporary folder (not . and ..), to spot leftovers. */
static int count_entries(void)
{
    int n = tmpdir_count("");
    ASSERT_TRUE(n >= 0);
    return n;
}

static void test_matrix_round_trip(void)
{
    remove_all();
    enum { N = 1037, D = 5 };
    double *x = test_alloc(N * D, sizeof(double)), *y = test_alloc(N * D, sizeof(double));
    float *xf = test_alloc(N * D, sizeof(float)), *yf = test_alloc(N * D, sizeof(float));
    test_rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < N * D; i++) {
        x[i] = rng_normal(&r) * 1e3;
        xf[i] = (float)x[i];
    }
    ASSERT_OK(strata_h5_write_matrix(path_of("m64.h5"), "/features", STRATA_FLOAT64, x, N, D, 0));
    ASSERT_OK(strata_h5_write_matrix(path_of("m32.h5"), "/a/b/features", STRATA_FLOAT32, xf, N, D,
                                     STRATA_WRITE_DEFAULT));
    ASSERT_EQ_INT(count_entries(), 2); /* no temporary files left */
    int64_t n = 0, d = 0;
    ASSERT_OK(strata_h5_shape(path_of("m64.h5"), "/features", &n, &d));
    ASSERT_TRUE(n == N && d == D);
    ASSERT_OK(strata_h5_shape(path_of("m32.h5"), "/a/b/features", &n, &d));
    ASSERT_TRUE(n == N && d == D);
    ASSERT_OK(strata_h5_read_matrix(path_of("m64.h5"), "/features", STRATA_FLOAT64, y, N, D));
    ASSERT_TRUE(memcmp(x, y, N * D * sizeof(double)) == 0);
    ASSERT_OK(strata_h5_read_matrix(path_of("m64.h5"), "/features", STRATA_FLOAT32, yf, N, D));
    ASSERT_TRUE(memcmp(xf, yf, N * D * sizeof(float)) == 0); /* converted like a cast */
    ASSERT_OK(strata_h5_read_matrix(path_of("m32.h5"), "/a/b/features", STRATA_FLOAT64, y, N, D));
    for (int i = 0; i < N * D; i++)
        ASSERT_TRUE(y[i] == (double)xf[i]);
    /* wrong shape, dtype */
    ASSERT_STATUS(strata_h5_read_matrix(path_of("m64.h5"), "/features", STRATA_FLOAT64, y, N - 1,
                                        D),
                  STRATA_E_ARG);
    ASSERT_NONEMPTY(strata_last_error());
    ASSERT_STATUS(strata_h5_read_matrix(path_of("m64.h5"), "/features", STRATA_FLOAT64, y, N,
                                        D + 1),
                  STRATA_E_ARG);
    ASSERT_STATUS(strata_h5_read_matrix(path_of("m64.h5"), "/features", 0, y, N, D),
                  STRATA_E_PARAM);
    ASSERT_STATUS(strata_h5_write_matrix(path_of("bad.h5"), "/x", 5, x, N, D, 0), STRATA_E_PARAM);
    ASSERT_STATUS(strata_h5_write_matrix(path_of("bad.h5"), "/x", STRATA_FLOAT64, x, 0, D, 0),
                  STRATA_E_ARG);
    ASSERT_EQ_INT(count_entries(), 2);
    free(x);
    free(y);
    free(xf);
    free(yf);
}

static void test_no_overwrite_without_force(void)
{
    remove_all();
    const double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    double got[4];
    ASSERT_OK(strata_h5_write_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, a, 2, 2, 0));
    ASSERT_STATUS(strata_h5_write_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, b, 2, 2, 0),
                  STRATA_E_IO_EXISTS);
    ASSERT_STR_CONTAINS(strata_last_error(), "f.h5");
    ASSERT_OK(strata_h5_read_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, got, 2, 2));
    ASSERT_TRUE(memcmp(got, a, sizeof a) == 0);
    ASSERT_OK(strata_h5_write_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, b, 2, 2,
                                     STRATA_WRITE_FORCE));
    ASSERT_OK(strata_h5_read_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, got, 2, 2));
    ASSERT_TRUE(memcmp(got, b, sizeof b) == 0);
    ASSERT_EQ_INT(count_entries(), 1);
    /* a folder that does not exist */
    ASSERT_STATUS(strata_h5_write_matrix(path_of("nodir/f.h5"), "/m", STRATA_FLOAT64, a, 2, 2, 0),
                  STRATA_E_IO_WRITE);
    ASSERT_NONEMPTY(strata_last_error());
}

static void test_read_errors(void)
{
    remove_all();
    int64_t n = -1, d = -1;
    double buf[4];
    const double a[4] = {1, 2, 3, 4};
    ASSERT_STATUS(strata_h5_shape(path_of("missing.h5"), "/m", &n, &d), STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_last_error(), "missing.h5");
    ASSERT_TRUE(n == -1 && d == -1);
    FILE *f = fopen(path_of("text.h5"), "w");
    ASSERT_TRUE(f != NULL);
    fputs("this is not an HDF5 file\n", f);
    fclose(f);
    ASSERT_STATUS(strata_h5_shape(path_of("text.h5"), "/m", &n, &d), STRATA_E_IO_FORMAT);
    ASSERT_STR_CONTAINS(strata_last_error(), "text.h5");
    ASSERT_OK(strata_h5_write_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, a, 2, 2, 0));
    ASSERT_STATUS(strata_h5_shape(path_of("f.h5"), "/nope", &n, &d), STRATA_E_IO_DATASET);
    ASSERT_STR_CONTAINS(strata_last_error(), "nope");
    ASSERT_STATUS(strata_h5_read_matrix(path_of("f.h5"), "/nope", STRATA_FLOAT64, buf, 2, 2),
                  STRATA_E_IO_DATASET);
    ASSERT_STATUS(strata_h5_read_matrix(path_of("missing.h5"), "/m", STRATA_FLOAT64, buf, 2, 2),
                  STRATA_E_IO_OPEN);
    ASSERT_STATUS(strata_h5_shape(NULL, "/m", &n, &d), STRATA_E_NULL);
    ASSERT_STATUS(strata_h5_shape(path_of("f.h5"), NULL, &n, &d), STRATA_E_NULL);
    ASSERT_STATUS(strata_h5_shape(path_of("f.h5"), "/m", NULL, &d), STRATA_E_NULL);
    ASSERT_STATUS(strata_h5_read_matrix(path_of("f.h5"), "/m", STRATA_FLOAT64, NULL, 2, 2),
                  STRATA_E_NULL);
    ASSERT_STATUS(strata_h5_write_matrix(NULL, "/m", STRATA_FLOAT64, a, 2, 2, 0), STRATA_E_NULL);
    ASSERT_STATUS(strata_h5_write_matrix(path_of("g.h5"), "/m", STRATA_FLOAT64, NULL, 2, 2, 0),
                  STRATA_E_NULL);
}

/* fit_h5 gives exactly the in-memory model, for float32 and float64 files. */
static void test_fit_h5_matches_memory(void)
{
    remove_all();
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        gen_data g;
        gen_blobs(&g, 9 + (uint64_t)dt, dt, 9000, 4, 4, 5, 20, 1, 100, 0);
        const char *file = dt == STRATA_FLOAT32 ? path_of("x32.h5") : path_of("x64.h5");
        ASSERT_OK(strata_h5_write_matrix(file, "/customers/features", dt, g.x, g.n, g.d, 0));
        strata_kmeans *mem = test_new_kmeans(), *h5 = test_new_kmeans();
        strata_kmeans *both[2] = {mem, h5};
        for (int i = 0; i < 2; i++) {
            ASSERT_OK(strata_kmeans_set_int(both[i], STRATA_KMEANS_K, 5));
            ASSERT_OK(strata_kmeans_set_int(both[i], STRATA_KMEANS_SEED, 11));
        }
        ASSERT_OK(strata_kmeans_fit(mem, dt, g.x, g.n, g.d, 0, NULL));
        ASSERT_OK(strata_kmeans_fit_h5(h5, file, "/customers/features"));
        int32_t *l1 = test_alloc((size_t)g.n, sizeof(int32_t));
        int32_t *l2 = test_alloc((size_t)g.n, sizeof(int32_t));
        double c1[20], c2[20];
        ASSERT_OK(strata_kmeans_labels(mem, l1, g.n));
        ASSERT_OK(strata_kmeans_labels(h5, l2, g.n));
        ASSERT_OK(strata_kmeans_centroids(mem, c1, 5, 4));
        ASSERT_OK(strata_kmeans_centroids(h5, c2, 5, 4));
        ASSERT_TRUE(memcmp(l1, l2, (size_t)g.n * sizeof(int32_t)) == 0);
        ASSERT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
        ASSERT_TRUE(result_inertia(mem) == result_inertia(h5));
        ASSERT_EQ_INT(result_int(h5, STRATA_KMEANS_RESULT_N), g.n);

        /* start centroids from a file */
        test_rng r;
        rng_seed(&r, 4);
        double init[20];
        gen_pick_rows(&g, &r, 5, init);
        ASSERT_OK(strata_h5_write_matrix(path_of(dt == STRATA_FLOAT32 ? "c32.h5" : "c64.h5"),
                                         "/init", STRATA_FLOAT64, init, 5, 4, 0));
        ASSERT_OK(strata_kmeans_set_init_centroids(mem, init, 5, 4));
        ASSERT_OK(strata_kmeans_set_int(h5, STRATA_KMEANS_K, 2));
        ASSERT_OK(strata_kmeans_set_init_centroids_h5(
            h5, path_of(dt == STRATA_FLOAT32 ? "c32.h5" : "c64.h5"), "/init"));
        int64_t v;
        ASSERT_OK(strata_kmeans_get_int(h5, STRATA_KMEANS_K, &v));
        ASSERT_EQ_INT(v, 5);
        ASSERT_OK(strata_kmeans_get_int(h5, STRATA_KMEANS_INIT, &v));
        ASSERT_EQ_INT(v, STRATA_INIT_CENTROIDS);
        ASSERT_OK(strata_kmeans_fit(mem, dt, g.x, g.n, g.d, 0, NULL));
        ASSERT_OK(strata_kmeans_fit_h5(h5, file, "/customers/features"));
        ASSERT_OK(strata_kmeans_centroids(mem, c1, 5, 4));
        ASSERT_OK(strata_kmeans_centroids(h5, c2, 5, 4));
        ASSERT_TRUE(memcmp(c1, c2, sizeof c1) == 0);

        /* I/O errors keep the model and name the file */
        ASSERT_STATUS(strata_kmeans_fit_h5(h5, path_of("missing.h5"), "/x"), STRATA_E_IO_OPEN);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(h5), "missing.h5");
        ASSERT_STATUS(strata_kmeans_fit_h5(h5, file, "/customers/nope"), STRATA_E_IO_DATASET);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(h5), "nope");
        ASSERT_STATUS(strata_kmeans_set_init_centroids_h5(h5, path_of("missing.h5"), "/init"),
                      STRATA_E_IO_OPEN);
        ASSERT_STATUS(strata_kmeans_fit_h5(h5, NULL, "/x"), STRATA_E_NULL);
        ASSERT_OK(strata_kmeans_centroids(h5, c2, 5, 4));
        ASSERT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
        free(l1);
        free(l2);
        strata_kmeans_free(mem);
        strata_kmeans_free(h5);
        gen_free(&g);
    }
}

static void test_fit_h5_nonfinite(void)
{
    remove_all();
    double x[40];
    for (int i = 0; i < 40; i++)
        x[i] = i % 7;
    x[2 * 13 + 1] = NAN;
    ASSERT_OK(strata_h5_write_matrix(path_of("nan.h5"), "/x", STRATA_FLOAT64, x, 20, 2, 0));
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    ASSERT_STATUS(strata_kmeans_fit_h5(km, path_of("nan.h5"), "/x"), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "row 13");
    strata_kmeans_free(km);
}

static void test_write_model(void)
{
    remove_all();
    gen_data g;
    gen_blobs(&g, 12, STRATA_FLOAT64, 500, 3, 3, 4, 20, 1, 0, 0);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_STATUS(strata_kmeans_write_h5(km, path_of("model.h5"), NULL, 0), STRATA_E_STATE);
    ASSERT_EQ_INT(count_entries(), 0);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 4));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
    ASSERT_OK(strata_kmeans_write_h5(km, path_of("model.h5"), "mem:/x", 0));
    ASSERT_EQ_INT(count_entries(), 1);
    int64_t n, d;
    ASSERT_OK(strata_h5_shape(path_of("model.h5"), "/centroids", &n, &d));
    ASSERT_TRUE(n == 4 && d == 3);
    double c[12], got[12];
    ASSERT_OK(strata_kmeans_centroids(km, c, 4, 3));
    ASSERT_OK(strata_h5_read_matrix(path_of("model.h5"), "/centroids", STRATA_FLOAT64, got, 4, 3));
    ASSERT_TRUE(memcmp(c, got, sizeof c) == 0);
    /* /labels is 1-D: not a matrix */
    ASSERT_STATUS(strata_h5_shape(path_of("model.h5"), "/labels", &n, &d), STRATA_E_IO_TYPE);
    /* never overwritten unless asked */
    ASSERT_STATUS(strata_kmeans_write_h5(km, path_of("model.h5"), NULL, 0), STRATA_E_IO_EXISTS);
    ASSERT_NONEMPTY(strata_kmeans_last_error(km));
    ASSERT_OK(strata_kmeans_write_h5(km, path_of("model.h5"), NULL, STRATA_WRITE_FORCE));
    ASSERT_EQ_INT(count_entries(), 1);
    ASSERT_STATUS(strata_kmeans_write_h5(km, NULL, NULL, 0), STRATA_E_NULL);
    ASSERT_STATUS(strata_kmeans_write_h5(km, path_of("nodir/model.h5"), NULL, 0),
                  STRATA_E_IO_WRITE);
    strata_kmeans_free(km);
    gen_free(&g);
}

int main(void)
{
    if (tmpdir_make("strata_test_h5"))
        return 1;
    RUN_TEST(test_matrix_round_trip);
    RUN_TEST(test_no_overwrite_without_force);
    RUN_TEST(test_read_errors);
    RUN_TEST(test_fit_h5_matches_memory);
    RUN_TEST(test_fit_h5_nonfinite);
    RUN_TEST(test_write_model);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
