/* Feature frames through the public API (issue 11, "frames"): frames from
 * memory (copies, names, keys, strides), every check with its status and a
 * message naming the column and row, the readers on files the library
 * wrote itself, and strata_kmeans_fit_frame(): the same model as
 * strata_kmeans_fit() on the same values, names and keys written by
 * strata_kmeans_write_h5() and dropped by a later plain fit. The pandas and
 * h5py layouts are tested against their writers in tests/python/test_frame.py. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "tmpdir.h"

enum { N = 300, D = 3, K = 3 };
static const char *const NAMES[D] = {"recency", "frequency", "monetary"};

/* Three separated blobs; keys 10 * i + 7 in reverse row order. */
static void make_data(double *x, int64_t *key)
{
    test_rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++)
            x[i * D + j] = 20.0 * (i % K) + rng_normal(&r);
        key[i] = 10 * (int64_t)(N - i) + 7;
    }
}

static void test_from_arrays(void)
{
    double x[N * D], wide[N * (D + 2)];
    int64_t key[N];
    make_data(x, key);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D + 2; j++)
            wide[i * (D + 2) + j] = j < D ? x[i * D + j] : NAN; /* padding never read */
    strata_frame *f = NULL;
    ASSERT_OK(strata_frame_from_arrays(&f, wide, N, D, D + 2, NAMES, key, NULL));
    x[0] = -1e300; /* copied: later changes of the caller's arrays do not show */
    key[0] = -1;
    int64_t n = 0, d = 0;
    ASSERT_OK(strata_frame_shape(f, &n, &d));
    ASSERT_TRUE(n == N && d == D);
    const double *data = strata_frame_data(f);
    for (int i = 0; i < N * D; i++)
        ASSERT_TRUE(data[i] == wide[(i / D) * (D + 2) + i % D]);
    for (int j = 0; j < D; j++)
        ASSERT_STR_EQ(strata_frame_name(f, j), NAMES[j]);
    ASSERT_TRUE(strata_frame_name(f, D) == NULL && strata_frame_name(f, -1) == NULL);
    ASSERT_STR_EQ(strata_frame_key_name(f), "customer_id");
    ASSERT_TRUE(strata_frame_key(f)[0] == 10 * N + 7 && strata_frame_key(f)[N - 1] == 17);
    strata_frame_free(f);
    /* default names, no key */
    ASSERT_OK(strata_frame_from_arrays(&f, wide, N, D, D + 2, NULL, NULL, "ignored"));
    ASSERT_STR_EQ(strata_frame_name(f, 2), "x2");
    ASSERT_TRUE(strata_frame_key(f) == NULL && strata_frame_key_name(f) == NULL);
    strata_frame_free(f);
    strata_frame_free(NULL);
    ASSERT_TRUE(strata_frame_data(NULL) == NULL && strata_frame_key(NULL) == NULL);
}

static void test_checks(void)
{
    double x[N * D];
    int64_t key[N];
    make_data(x, key);
    strata_frame *f = (strata_frame *)&f; /* never written on failure */
    strata_frame *const keep = f;
    ASSERT_STATUS(strata_frame_from_arrays(NULL, x, N, D, 0, NULL, NULL, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_frame_from_arrays(&f, NULL, N, D, 0, NULL, NULL, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, 0, D, 0, NULL, NULL, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, 0, 0, NULL, NULL, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, D - 1, NULL, NULL, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, INT64_MAX / 2, D, 0, NULL, NULL, NULL),
                  STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "overflow");
    const char *dup[D] = {"a", "b", "a"}, *empty[D] = {"a", "", "c"}, *null[D] = {"a", NULL, "c"};
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, dup, NULL, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "feature name 'a' appears twice (columns 0 and 2)");
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, empty, NULL, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "feature 1 has an empty name");
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, null, NULL, NULL), STRATA_E_NULL);
    x[41 * D + 1] = NAN;
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, NAMES, NULL, NULL), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "feature 'frequency' is NaN in row 41");
    x[41 * D + 1] = 1.0;
    x[5 * D + 2] = INFINITY;
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, NAMES, NULL, NULL), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "feature 'monetary' is +Inf in row 5");
    x[5 * D + 2] = 1.0;
    key[200] = key[17];
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, NAMES, key, "id"), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "key 'id' repeats");
    ASSERT_STR_CONTAINS(strata_last_error(), "in rows 17 and 200");
    key[200] = INT64_MIN;
    ASSERT_STATUS(strata_frame_from_arrays(&f, x, N, D, 0, NAMES, key, "id"), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "key 'id' is missing in row 200");
    ASSERT_TRUE(f == keep);
    /* reader arguments */
    const char *cols[1] = {"/x"};
    ASSERT_STATUS(strata_frame_read_columns(&f, "a.h5", cols, 0, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_read_columns(&f, NULL, cols, 1, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_frame_read_table(&f, "a.h5", "/t", NULL, 2, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_read_table(&f, "a.h5", "/t", cols, 0, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_frame_read_matrix(&f, "a.h5", NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_frame_read_columns(&f, path_of("missing.h5"), cols, 1, NULL),
                  STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_last_error(), "missing.h5");
    ASSERT_TRUE(f == keep);
    int64_t n;
    ASSERT_STATUS(strata_frame_shape(NULL, &n, &n), STRATA_E_NULL);
}

/* fit_frame = fit on the same values; the model file holds names and keys. */
static void test_fit_frame(void)
{
    remove_all();
    double x[N * D];
    int64_t key[N];
    make_data(x, key);
    strata_frame *f;
    ASSERT_OK(strata_frame_from_arrays(&f, x, N, D, 0, NAMES, key, "cust"));
    strata_kmeans *a, *b;
    ASSERT_OK(strata_kmeans_create(&a));
    ASSERT_OK(strata_kmeans_create(&b));
    ASSERT_OK(strata_kmeans_set_int(a, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_set_int(b, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_fit_frame(a, f, NULL));
    ASSERT_OK(strata_kmeans_fit(b, STRATA_FLOAT64, x, N, D, 0, NULL));
    int32_t la[N], lb[N];
    double ca[K * D], cb[K * D];
    ASSERT_OK(strata_kmeans_labels(a, la, N));
    ASSERT_OK(strata_kmeans_labels(b, lb, N));
    ASSERT_OK(strata_kmeans_centroids(a, ca, K, D));
    ASSERT_OK(strata_kmeans_centroids(b, cb, K, D));
    ASSERT_TRUE(memcmp(la, lb, sizeof la) == 0 && memcmp(ca, cb, sizeof ca) == 0);
    ASSERT_STATUS(strata_kmeans_fit_frame(a, NULL, NULL), STRATA_E_NULL);
    double w[N];
    for (int i = 0; i < N; i++)
        w[i] = -1.0;
    ASSERT_STATUS(strata_kmeans_fit_frame(a, f, w), STRATA_E_WEIGHTS); /* model kept */
    strata_frame_free(f); /* the model keeps its own copies */
    ASSERT_OK(strata_kmeans_write_h5(a, path_of("a.h5"), "frame", 0));
    ASSERT_OK(strata_kmeans_write_h5(b, path_of("b.h5"), "plain", 0));
    /* read the file back with the frame readers */
    const char *kc[1] = {"/customer_id"};
    ASSERT_OK(strata_frame_read_columns(&f, path_of("a.h5"), kc, 1, ""));
    const double *ids = strata_frame_data(f);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(ids[i] == (double)key[i]);
    strata_frame_free(f);
    /* /labels beside /customer_id: the key is found */
    const char *lc[1] = {"/labels"};
    ASSERT_OK(strata_frame_read_columns(&f, path_of("a.h5"), lc, 1, NULL));
    ASSERT_STR_EQ(strata_frame_key_name(f), "customer_id");
    ASSERT_TRUE(memcmp(strata_frame_key(f), key, sizeof key) == 0);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(strata_frame_data(f)[i] == la[i]);
    strata_frame_free(f);
    ASSERT_STATUS(strata_frame_read_columns(&f, path_of("b.h5"), kc, 1, ""), STRATA_E_IO_DATASET);
    ASSERT_STATUS(strata_frame_read_columns(&f, path_of("a.h5"), (const char *[]){"/feature_names"},
                                            1, ""),
                  STRATA_E_IO_TYPE); /* strings, not numbers */
    ASSERT_STR_CONTAINS(strata_last_error(), "string");
    /* the root of the model file as a table: labels is its one numeric column */
    ASSERT_OK(strata_frame_read_table(&f, path_of("a.h5"), "/", NULL, 0, NULL));
    ASSERT_TRUE(strata_frame_key(f) != NULL);
    ASSERT_STR_EQ(strata_frame_name(f, 0), "labels");
    int64_t n, d;
    ASSERT_OK(strata_frame_shape(f, &n, &d));
    ASSERT_TRUE(n == N && d == 1);
    strata_frame_free(f);
    /* a matrix: default names */
    ASSERT_OK(strata_frame_read_matrix(&f, path_of("a.h5"), "/centroids"));
    ASSERT_OK(strata_frame_shape(f, &n, &d));
    ASSERT_TRUE(n == K && d == D);
    ASSERT_STR_EQ(strata_frame_name(f, 1), "x1");
    ASSERT_TRUE(memcmp(strata_frame_data(f), ca, sizeof ca) == 0);
    strata_frame_free(f);
    /* a later plain fit drops names and keys */
    ASSERT_OK(strata_kmeans_fit(a, STRATA_FLOAT64, x, N, D, 0, NULL));
    ASSERT_OK(strata_kmeans_write_h5(a, path_of("c.h5"), NULL, 0));
    ASSERT_STATUS(strata_frame_read_columns(&f, path_of("c.h5"), kc, 1, ""), STRATA_E_IO_DATASET);
    strata_kmeans_free(a);
    strata_kmeans_free(b);
}

int main(void)
{
    if (tmpdir_make("strata_test_frame"))
        return 1;
    RUN_TEST(test_from_arrays);
    RUN_TEST(test_checks);
    RUN_TEST(test_fit_frame);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
