/* Cluster metrics and the k sweep (issue 11): hand-computed cases, bitwise
 * results for any thread count, the sample, bad inputs, and a sweep equal to
 * separate fits rated one by one. scikit-learn and brute force are the
 * references of tests/python/test_metrics.py. */
#include <unistd.h>

#include "test.h"

static double at_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1.0p-53;
}

/* n x d rows around k centres (spread 1, centres 0..10 apart) and their labels. */
static void make_rows(double *x, int32_t *lab, int64_t n, int64_t d, int64_t k, uint64_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        lab[i] = (int32_t)(i % k);
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = 10.0 * at_rand(&seed) * (double)((lab[i] + f) % 3) + at_rand(&seed);
    }
}

static void test_hand_computed(void)
{
    /* 1-D points 0, 2 | 10, 12: means 1 and 11, overall 6. */
    const double x[] = {0, 2, 10, 12};
    const int32_t lab[] = {0, 0, 1, 1};
    double out[STRATA_METRIC_COUNT];
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, 4, 1, 0, lab, 2, 0, 0, 1, out));
    ASSERT_NEAR(out[STRATA_METRIC_INERTIA], 4.0, 1e-12);
    ASSERT_NEAR(out[STRATA_METRIC_CALINSKI_HARABASZ], 50.0, 1e-12);   /* (100/1) / (4/2) */
    ASSERT_NEAR(out[STRATA_METRIC_DAVIES_BOULDIN], 0.2, 1e-15);       /* (1 + 1) / 10 */
    ASSERT_NEAR(out[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN], (118.0 / 122 + 78.0 / 82) / 2, 1e-15);
    ASSERT_NEAR(out[STRATA_METRIC_SILHOUETTE], (9.0 / 11 + 7.0 / 9) / 2, 1e-15);

    /* A singleton (5 alone) counts 0; an empty cluster (label 2) does not count. */
    const float y[] = {0, 1, 5};
    const int32_t lab2[] = {0, 0, 1};
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT32, y, 3, 1, 0, lab2, 3, 0, 0, 1, out));
    /* rows 0 and 1: a = 1, b = 5 and 4 (squared 25, 16) */
    ASSERT_NEAR(out[STRATA_METRIC_SILHOUETTE], ((5.0 - 1) / 5 + (4.0 - 1) / 4) / 3, 1e-15);
    ASSERT_NEAR(out[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN], ((25.0 - 1) / 25 + (16.0 - 1) / 16) / 3,
                1e-15);
    ASSERT_NEAR(out[STRATA_METRIC_INERTIA], 0.5, 1e-15);
    /* B = 2 (0.5 - 2)^2 + (5 - 2)^2 = 13.5; CH = 13.5 / (0.5 / 1) */
    ASSERT_NEAR(out[STRATA_METRIC_CALINSKI_HARABASZ], 27.0, 1e-12);
    /* s = 0.5 and 0, centroid gap 4.5 */
    ASSERT_NEAR(out[STRATA_METRIC_DAVIES_BOULDIN], 0.5 / 4.5, 1e-15);
}

static void test_thread_counts(void)
{
    enum { N = 10000, D = 5, K = 7 };
    double *x = malloc(sizeof(double) * N * D);
    float *xf = malloc(sizeof(float) * N * D);
    int32_t *lab = malloc(sizeof(int32_t) * N);
    make_rows(x, lab, N, D, K, 3);
    for (int i = 0; i < N * D; i++)
        xf[i] = (float)x[i];
    for (int dt = 0; dt < 2; dt++) {
        const void *data = dt ? (const void *)xf : (const void *)x;
        int dtype = dt ? STRATA_FLOAT32 : STRATA_FLOAT64;
        double ref[STRATA_METRIC_COUNT], out[STRATA_METRIC_COUNT];
        ASSERT_OK(strata_cluster_metrics(dtype, data, N, D, 0, lab, K, 600, 5, 1, ref));
        const int threads[] = {2, 3, 8, 0};
        for (int t = 0; t < 4; t++) {
            ASSERT_OK(strata_cluster_metrics(dtype, data, N, D, 0, lab, K, 600, 5, threads[t], out));
            ASSERT_MSG(!memcmp(ref, out, sizeof ref), "threads %d differ", threads[t]);
        }
        /* every row (1500 of them: several silhouette chunks) */
        ASSERT_OK(strata_cluster_metrics(dtype, data, 1500, D, 0, lab, K, 0, 0, 1, ref));
        ASSERT_OK(strata_cluster_metrics(dtype, data, 1500, D, 0, lab, K, 1500, 9, 3, out));
        ASSERT_MSG(!memcmp(ref, out, sizeof ref), "all rows, threads 3 differ");
    }
    free(x);
    free(xf);
    free(lab);
}

static void test_sample(void)
{
    enum { N = 3000, D = 3, K = 4 };
    double *x = malloc(sizeof(double) * N * D);
    int32_t *lab = malloc(sizeof(int32_t) * N);
    make_rows(x, lab, N, D, K, 11);
    double a[STRATA_METRIC_COUNT], b[STRATA_METRIC_COUNT];
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, K, 200, 42, 1, a));
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, K, 200, 42, 2, b));
    ASSERT_MSG(!memcmp(a, b, sizeof a), "the same seed gave another result");
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, K, 200, 43, 2, b));
    ASSERT_TRUE(a[STRATA_METRIC_SILHOUETTE] != b[STRATA_METRIC_SILHOUETTE]);
    ASSERT_TRUE(!memcmp(a, b, STRATA_METRIC_SILHOUETTE * sizeof(double))); /* exact ones agree */

    /* Rows: ascending, distinct, each drawn with probability s / n. */
    enum { n = 10, s = 3, TRIALS = 20000 };
    int64_t rows[s], hits[n] = {0};
    for (uint64_t seed = 0; seed < TRIALS; seed++) {
        ASSERT_OK(strata_silhouette_sample(n, s, seed, rows));
        for (int i = 0; i < s; i++) {
            ASSERT_TRUE(rows[i] >= 0 && rows[i] < n);
            ASSERT_TRUE(i == 0 || rows[i] > rows[i - 1]);
            hits[rows[i]]++;
        }
    }
    for (int i = 0; i < n; i++) /* 0.3 +- 5 standard deviations (0.0032) */
        ASSERT_NEAR((double)hits[i] / TRIALS, 0.3, 0.017);
    /* Far beyond any data held (it scanned all n: 2^62 never returned):
     * ascending, distinct, in range, from the seed alone, and uniform (the
     * share in the lower half and in the last 1/8 of 20,000 rows). */
    enum { BIG_S = 1000 };
    static int64_t big[BIG_S], again[BIG_S];
    int64_t lower = 0, last8 = 0;
    const int64_t huge = (int64_t)1 << 62;
    for (uint64_t seed = 0; seed < 20; seed++) {
        ASSERT_OK(strata_silhouette_sample(huge, BIG_S, seed, big));
        ASSERT_OK(strata_silhouette_sample(huge, BIG_S, seed, again));
        ASSERT_TRUE(!memcmp(big, again, sizeof big));
        for (int i = 0; i < BIG_S; i++) {
            ASSERT_TRUE(big[i] >= 0 && big[i] < huge && (i == 0 || big[i] > big[i - 1]));
            lower += big[i] < huge / 2;
            last8 += big[i] >= huge / 8 * 7;
        }
    }
    ASSERT_NEAR((double)lower / (20 * BIG_S), 0.5, 0.018);
    ASSERT_NEAR((double)last8 / (20 * BIG_S), 0.125, 0.012);
    ASSERT_OK(strata_silhouette_sample((int64_t)1 << 33, 3, 5, rows));
    ASSERT_TRUE(rows[0] < rows[1] && rows[1] < rows[2] && rows[2] < (int64_t)1 << 33);
    ASSERT_STATUS(strata_silhouette_sample(n, n + 1, 0, rows), STRATA_E_ARG);
    ASSERT_STATUS(strata_silhouette_sample(n, 0, 0, rows), STRATA_E_ARG);
    ASSERT_STATUS(strata_silhouette_sample(n, 2, 0, NULL), STRATA_E_NULL);
    free(x);
    free(lab);
}

/* A silhouette computed in several reported shares (5000 rows of 40
 * features: two shares at 1 thread, of 40 and 39 chunks; 42 and 37 at 3
 * threads): the brute-force value, and the same bits for any thread count. */
static void test_silhouette_shares(void)
{
    enum { N = 5000, D = 40, K = 5 };
    double *x = malloc(sizeof(double) * N * D);
    int32_t *lab = malloc(sizeof(int32_t) * N);
    double *sum = calloc((size_t)N * K, sizeof(double));
    ASSERT_TRUE(x && lab && sum);
    make_rows(x, lab, N, D, K, 5);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double q = 0.0;
            for (int f = 0; f < D; f++)
                q += (x[i * D + f] - x[j * D + f]) * (x[i * D + f] - x[j * D + f]);
            sum[(size_t)i * K + (size_t)lab[j]] += sqrt(q);
        }
    double want = 0.0;
    for (int i = 0; i < N; i++) {
        const double a = sum[(size_t)i * K + (size_t)lab[i]] / (N / K - 1);
        double b = INFINITY;
        for (int m = 0; m < K; m++)
            if (m != lab[i] && sum[(size_t)i * K + (size_t)m] / (N / K) < b)
                b = sum[(size_t)i * K + (size_t)m] / (N / K);
        want += (b - a) / (a > b ? a : b);
    }
    want /= N;
    double ref[STRATA_METRIC_COUNT], out[STRATA_METRIC_COUNT];
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, K, 0, 0, 1, ref));
    ASSERT_NEAR(ref[STRATA_METRIC_SILHOUETTE], want, 1e-12);
    for (int t = 2; t <= 3; t++) {
        ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, K, 0, 0, t, out));
        ASSERT_MSG(!memcmp(ref, out, sizeof ref), "threads %d differ", t);
    }
    free(x);
    free(lab);
    free(sum);
}

static void test_bad_inputs(void)
{
    double x[] = {0, 1, 2, 3, 4, 5, 6, 7};
    int32_t lab[] = {0, 1, 0, 1, 0, 1, 0, 1};
    double out[STRATA_METRIC_COUNT] = {-7, -7, -7, -7, -7};
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, NULL, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_NULL);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, NULL, 2, 0, 0, 1, out), STRATA_E_NULL);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 1, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_cluster_metrics(7, x, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_PARAM);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 1, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 0, 0, lab, 2, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 4, 2, 1, lab, 2, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 1, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 1, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, -1, 0, 1, out), STRATA_E_ARG);
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, -1, out), STRATA_E_ARG);
    lab[5] = 2;
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "row 5");
    lab[5] = -1;
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_ARG);
    lab[5] = 1;
    x[6] = NAN;
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 2, out), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "row 6");
    x[6] = -INFINITY;
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_NONFINITE);
    x[6] = 6;
    x[0] = 1e300; /* finite, but the squares overflow */
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, lab, 2, 0, 0, 1, out), STRATA_E_NONFINITE);
    x[0] = 0;
    int32_t one[] = {1, 1, 1, 1, 1, 1, 1, 1};
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, one, 3, 0, 0, 1, out), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "non-empty clusters");
    int32_t each[] = {0, 1, 2};
    ASSERT_STATUS(strata_cluster_metrics(STRATA_FLOAT64, x, 3, 1, 0, each, 3, 0, 0, 1, out), STRATA_E_ARG);
    for (int i = 0; i < STRATA_METRIC_COUNT; i++)
        ASSERT_TRUE(out[i] == -7); /* untouched on error */
    /* A sample holding a single cluster: NaN, the rest computed. */
    int32_t two[] = {0, 0, 0, 0, 0, 0, 0, 1};
    int sampled_nan = 0;
    for (uint64_t seed = 0; seed < 20 && !sampled_nan; seed++) {
        ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, 8, 1, 0, two, 2, 2, seed, 1, out));
        sampled_nan = isnan(out[STRATA_METRIC_SILHOUETTE]);
        ASSERT_TRUE(isfinite(out[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN]));
    }
    ASSERT_TRUE(sampled_nan);
}

static strata_kmeans *make_km(int64_t threads, int64_t seed)
{
    strata_kmeans *km = NULL;
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 2));
    return km;
}

/* The sweep equals separate fits, each rated by strata_cluster_metrics(),
 * whatever the thread count; 40000 rows: one k after another with 2
 * threads, in parallel with 4 (fewer than 16384 rows a thread). */
static void test_sweep_equals_fits(void)
{
    enum { N = 40000, D = 2, KMIN = 2, KMAX = 5, NK = KMAX - KMIN + 1, S = 300 };
    double *x = malloc(sizeof(double) * N * D);
    int32_t *lab = malloc(sizeof(int32_t) * N), *lab2 = malloc(sizeof(int32_t) * N);
    make_rows(x, lab, N, D, 3, 21);
    double ref[NK * STRATA_METRIC_COUNT], out[NK * STRATA_METRIC_COUNT];
    int64_t suggested = -1, suggested2 = -1;
    strata_kmeans *km = make_km(1, 4);
    ASSERT_OK(strata_kmeans_sweep(km, STRATA_FLOAT64, x, N, D, 0, NULL, KMIN, KMAX, S, ref, &suggested));
    ASSERT_TRUE(suggested >= KMIN && suggested <= KMAX);
    int64_t k_held = 0, k_param = 0;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k_held));
    ASSERT_EQ_INT(k_held, suggested);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &k_param));
    ASSERT_EQ_INT(k_param, 8); /* parameters unchanged */
    ASSERT_OK(strata_kmeans_labels(km, lab2, N));
    for (int64_t k = KMIN; k <= KMAX; k++) {
        strata_kmeans *one = make_km(2, 4);
        ASSERT_OK(strata_kmeans_set_int(one, STRATA_KMEANS_K, k));
        ASSERT_OK(strata_kmeans_fit(one, STRATA_FLOAT64, x, N, D, 0, NULL));
        ASSERT_OK(strata_kmeans_labels(one, lab, N));
        double m[STRATA_METRIC_COUNT], inertia;
        ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, x, N, D, 0, lab, k, S, 4, 2, m));
        ASSERT_OK(strata_kmeans_result_double(one, STRATA_KMEANS_RESULT_INERTIA, &inertia));
        m[STRATA_METRIC_INERTIA] = inertia;
        ASSERT_MSG(!memcmp(m, ref + (k - KMIN) * STRATA_METRIC_COUNT, sizeof m), "k = %d differs", (int)k);
        if (k == suggested)
            ASSERT_TRUE(!memcmp(lab, lab2, sizeof(int32_t) * N));
        strata_kmeans_free(one);
    }
    const int threads[] = {2, 4};
    for (int t = 0; t < 2; t++) {
        strata_kmeans *other = make_km(threads[t], 4);
        ASSERT_OK(strata_kmeans_sweep(other, STRATA_FLOAT64, x, N, D, 0, NULL, KMIN, KMAX, S, out,
                                      &suggested2));
        ASSERT_MSG(!memcmp(ref, out, sizeof ref), "threads %d differ", threads[t]);
        ASSERT_EQ_INT(suggested2, suggested);
        strata_kmeans_free(other);
    }
    strata_kmeans_free(km);
    free(x);
    free(lab);
    free(lab2);
}

/* Four tight blobs: the knee is at 4. */
static void test_sweep_knee(void)
{
    enum { N = 400, KMIN = 2, KMAX = 9, NK = KMAX - KMIN + 1 };
    double x[N * 2];
    uint64_t seed = 1;
    const double cx[] = {0, 50, 0, 50}, cy[] = {0, 0, 50, 50};
    for (int i = 0; i < N; i++) {
        x[2 * i] = cx[i % 4] + at_rand(&seed);
        x[2 * i + 1] = cy[i % 4] + at_rand(&seed);
    }
    double out[NK * STRATA_METRIC_COUNT];
    int64_t suggested = -1;
    strata_kmeans *km = make_km(0, 0);
    ASSERT_OK(strata_kmeans_sweep(km, STRATA_FLOAT64, x, N, 2, 0, NULL, KMIN, KMAX, 0, out, &suggested));
    ASSERT_EQ_INT(suggested, 4);
    /* Two k: no knee, the best squared-Euclidean silhouette (4 over 3). */
    ASSERT_OK(strata_kmeans_sweep(km, STRATA_FLOAT64, x, N, 2, 0, NULL, 3, 4, 0, out, &suggested));
    ASSERT_EQ_INT(suggested, 4);
    ASSERT_TRUE(out[STRATA_METRIC_COUNT + STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN] >
                out[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN]);
    /* One k. */
    ASSERT_OK(strata_kmeans_sweep(km, STRATA_FLOAT64, x, N, 2, 0, NULL, 5, 5, 0, out, &suggested));
    ASSERT_EQ_INT(suggested, 5);
    strata_kmeans_free(km);
}

static void test_sweep_errors(void)
{
    double x[40];
    for (int i = 0; i < 40; i++)
        x[i] = (double)(i * 7 % 11);
    double out[40 * STRATA_METRIC_COUNT];
    int64_t s = -1, k = 0;
    strata_kmeans *km = make_km(1, 0);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 20, 2, 0, NULL));
    ASSERT_STATUS(strata_kmeans_sweep(NULL, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 0, out, &s), STRATA_E_NULL);
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 0, NULL, &s), STRATA_E_NULL);
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 0, out, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 1, 4, 0, out, &s), STRATA_E_ARG);
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 4, 3, 0, out, &s), STRATA_E_ARG);
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 20, 0, out, &s), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "n - 1");
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 1, out, &s), STRATA_E_ARG);
    ASSERT_STATUS(strata_kmeans_sweep(km, 9, x, 20, 2, 0, NULL, 2, 4, 0, out, &s), STRATA_E_PARAM);
    x[13] = NAN;
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 0, out, &s), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "k = 2");
    x[13] = 1;
    double c[4] = {0, 0, 1, 1};
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c, 2, 2));
    ASSERT_STATUS(strata_kmeans_sweep(km, STRATA_FLOAT64, x, 20, 2, 0, NULL, 2, 4, 0, out, &s), STRATA_E_PARAM);
    ASSERT_EQ_INT(s, -1);
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k));
    ASSERT_EQ_INT(k, 3); /* the previous model stays */
    strata_kmeans_free(km);
}

static void test_write(void)
{
    char path[] = "/tmp/strata_test_sweep_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    double table[3 * STRATA_METRIC_COUNT];
    for (int i = 0; i < 3 * STRATA_METRIC_COUNT; i++)
        table[i] = i;
    ASSERT_STATUS(strata_sweep_write_h5(path, 2, 4, table, 3, 100, "x", 0), STRATA_E_IO_EXISTS);
    ASSERT_STATUS(strata_sweep_write_h5(path, 2, 4, table, 5, 100, "x", 1), STRATA_E_ARG);
    ASSERT_STATUS(strata_sweep_write_h5(path, 2, 4, table, 3, 0, "x", 1), STRATA_E_ARG);
    ASSERT_STATUS(strata_sweep_write_h5(path, 1, 4, table, 3, 10, "x", 1), STRATA_E_ARG);
    ASSERT_STATUS(strata_sweep_write_h5(path, 2, 4, NULL, 3, 10, "x", 1), STRATA_E_NULL);
    ASSERT_STATUS(strata_sweep_write_h5(path, 2, 4, table, 3, 10, "x", 4), STRATA_E_PARAM);
    ASSERT_OK(strata_sweep_write_h5(path, 2, 4, table, 3, 100, "x", STRATA_WRITE_FORCE));
    int64_t n = 0, d = 0;
    ASSERT_STATUS(strata_h5_shape(path, "/sweep/k", &n, &d), STRATA_E_IO_TYPE); /* 1-D */
    unlink(path);
}

int main(void)
{
    RUN_TEST(test_hand_computed);
    RUN_TEST(test_thread_counts);
    RUN_TEST(test_sample);
    RUN_TEST(test_silhouette_shares);
    RUN_TEST(test_bad_inputs);
    RUN_TEST(test_sweep_equals_fits);
    RUN_TEST(test_sweep_knee);
    RUN_TEST(test_sweep_errors);
    RUN_TEST(test_write);
    return test_summary();
}
