/* Every documented bad input returns its status and a message (on the handle
 * and in the thread's slot); failed and cancelled fits keep the previous
 * model; outputs are untouched on error. */
#include <pthread.h>

#include "ref.h"
#include "test.h"

/* The call fails with `code`, and both messages say something. */
#define EXPECT_FAIL(km, call, code)                                        \
    do {                                                                   \
        ASSERT_STATUS(call, code);                                         \
        ASSERT_NONEMPTY(strata_last_error());                              \
        if (km)                                                            \
            ASSERT_NONEMPTY(strata_kmeans_last_error(km));                 \
    } while (0)

/* A failing const call (getters, predict, transform): the message goes to the
 * thread's slot only and the handle's own message is left as it was, so that
 * many threads may use one fitted handle (include/strata.h, Conventions). */
#define EXPECT_CONST_FAIL(km, call, code)                                      \
    do {                                                                       \
        char before_[512];                                                     \
        snprintf(before_, sizeof before_, "%s", strata_kmeans_last_error(km)); \
        ASSERT_STATUS(call, code);                                             \
        ASSERT_NONEMPTY(strata_last_error());                                  \
        ASSERT_STR_EQ(strata_kmeans_last_error(km), before_);                  \
    } while (0)

static const double X6[12] = {0, 0, 2, 0, 0, 2, 10, 10, 12, 10, 10, 12};

static strata_kmeans *fitted_handle(int64_t k)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL));
    return km;
}

/* A snapshot of a fitted model, to check it survives failures. */
typedef struct model {
    int64_t n, d, k, n_iter;
    double inertia;
    double c[64];
    int32_t lab[512];
} model;

static void snapshot(strata_kmeans *km, model *m)
{
    memset(m, 0, sizeof *m);
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &m->n));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_D, &m->d));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &m->k));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &m->n_iter));
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &m->inertia));
    ASSERT_TRUE(m->k * m->d <= 64 && m->n <= 512);
    ASSERT_OK(strata_kmeans_centroids(km, m->c, m->k, m->d));
    ASSERT_OK(strata_kmeans_labels(km, m->lab, m->n));
}

static void assert_same_model(strata_kmeans *km, const model *before)
{
    model now;
    snapshot(km, &now);
    ASSERT_TRUE(memcmp(&now, before, sizeof now) == 0);
}

/* ---- NULL pointers ------------------------------------------------------ */

static void test_null_handle(void)
{
    int64_t v;
    double dv, c[4];
    int32_t lab[6];
    const double init[4] = {0, 0, 1, 1};
    ASSERT_STATUS(strata_kmeans_create(NULL), STRATA_E_NULL);
    ASSERT_NONEMPTY(strata_last_error());
    EXPECT_FAIL(NULL, strata_kmeans_set_int(NULL, STRATA_KMEANS_K, 2), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_set_double(NULL, STRATA_KMEANS_TOL, 0.1), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_get_int(NULL, STRATA_KMEANS_K, &v), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_get_double(NULL, STRATA_KMEANS_TOL, &dv), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_set_init_centroids(NULL, init, 2, 2), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_set_progress(NULL, NULL, NULL), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_fit(NULL, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_centroids(NULL, c, 2, 2), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_labels(NULL, lab, 6), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_result_int(NULL, STRATA_KMEANS_RESULT_K, &v), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_result_double(NULL, STRATA_KMEANS_RESULT_INERTIA, &dv),
                STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_predict(NULL, STRATA_FLOAT64, X6, 6, 2, 0, lab),
                STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_transform(NULL, STRATA_FLOAT64, X6, 6, 2, 0, c),
                STRATA_E_NULL);
    const char *s = strata_kmeans_last_error(NULL);
    ASSERT_NONEMPTY(s);
    strata_kmeans_free(NULL); /* no-op */
}

static void test_null_pointers(void)
{
    strata_kmeans *km = test_new_kmeans();
    /* (the messages of const calls: test_const_call_errors) */
    EXPECT_FAIL(NULL, strata_kmeans_get_int(km, STRATA_KMEANS_K, NULL), STRATA_E_NULL);
    EXPECT_FAIL(NULL, strata_kmeans_get_double(km, STRATA_KMEANS_TOL, NULL), STRATA_E_NULL);
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, NULL, 2, 2), STRATA_E_NULL);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, NULL, 6, 2, 0, NULL), STRATA_E_NULL);
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL));
    EXPECT_CONST_FAIL(km, strata_kmeans_centroids(km, NULL, 2, 2), STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_labels(km, NULL, 6), STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, NULL), STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, NULL), STRATA_E_NULL);
    int32_t lab[6];
    double out[12];
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, NULL, 6, 2, 0, lab), STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, STRATA_FLOAT64, NULL, 6, 2, 0, out),
                STRATA_E_NULL);
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL),
                STRATA_E_NULL);
    /* removing the callback with NULL is fine */
    ASSERT_OK(strata_kmeans_set_progress(km, NULL, NULL));
    strata_kmeans_free(km);
}

/* ---- sizes, dtype, stride ------------------------------------------------- */

static void test_bad_shapes(void)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 0, 2, 0, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, -1, 2, 0, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 0, 0, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, -2, 0, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 1, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 3, 3, 2, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, -1, NULL), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_fit(km, 0, X6, 6, 2, 0, NULL), STRATA_E_PARAM);
    EXPECT_FAIL(km, strata_kmeans_fit(km, 3, X6, 6, 2, 0, NULL), STRATA_E_PARAM);
    EXPECT_FAIL(km, strata_kmeans_fit(km, -1, X6, 6, 2, 0, NULL), STRATA_E_PARAM);
    /* k < 1 cannot even be set; k > n fails at fit time */
    EXPECT_FAIL(km, strata_kmeans_set_int(km, STRATA_KMEANS_K, 0), STRATA_E_PARAM);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 7));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_ARG);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 8)); /* the default, > 6 rows */
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_ARG);
    /* nothing was fitted */
    double c[4];
    EXPECT_CONST_FAIL(km, strata_kmeans_centroids(km, c, 2, 2), STRATA_E_STATE);
    /* a stride of exactly d, or 0, is fine */
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 2, NULL));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL));
    /* d = 1 with stride 2 reads every other value */
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 1, 2, NULL));
    double c1[2];
    ASSERT_OK(strata_kmeans_centroids(km, c1, 2, 1));
    ASSERT_TRUE((c1[0] == 2.0 / 3 && c1[1] == 32.0 / 3) || (c1[1] == 2.0 / 3 && c1[0] == 32.0 / 3));
    strata_kmeans_free(km);
}

/* ---- non-finite values ------------------------------------------------------ */

static void test_nonfinite_data(void)
{
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int b = 0; b < 3; b++) {
            gen_data g;
            gen_blobs(&g, 3, dt, 200, 3, 3, 3, 10, 1, 0, 0);
            gen_set(&g, 17, 2, bad[b]);
            gen_set(&g, 150, 0, bad[b]); /* a later one must not be the one named */
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
            EXPECT_FAIL(km, strata_kmeans_fit(km, dt, g.x, g.n, g.d, 0, NULL), STRATA_E_NONFINITE);
            ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "row 17");
            ASSERT_STR_CONTAINS(strata_last_error(), "row 17");
            ASSERT_TRUE(strstr(strata_kmeans_last_error(km), "150") == NULL);
            /* also in row 0 */
            gen_set(&g, 0, 0, bad[b]);
            EXPECT_FAIL(km, strata_kmeans_fit(km, dt, g.x, g.n, g.d, 0, NULL), STRATA_E_NONFINITE);
            ASSERT_STR_CONTAINS(strata_last_error(), "row 0");
            strata_kmeans_free(km);
            gen_free(&g);
        }
}

/* Finite values whose column sum overflows: a clear error, not a silent
 * infinite mean. Also +inf and -inf in one column (their sum is NaN) are
 * still reported by the first of their rows. */
static void test_overflowing_sums(void)
{
    gen_data g;
    gen_blobs(&g, 5, STRATA_FLOAT64, 300, 3, 3, 3, 10, 1, 0, 0);
    for (int64_t i = 10; i < 14; i++)
        gen_set(&g, i, 1, 1e308);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
    EXPECT_FAIL(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "column 1");
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "sums to infinity");
    for (int64_t i = 10; i < 14; i++)
        gen_set(&g, i, 1, 1.0);
    gen_set(&g, 40, 2, INFINITY);
    gen_set(&g, 41, 2, -INFINITY);
    EXPECT_FAIL(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "row 40");
    strata_kmeans_free(km);
    gen_free(&g);
}

/* Values in the padding between rows are not data: NaN there is fine. */
static void test_nan_in_padding_is_ignored(void)
{
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        gen_data g;
        gen_blobs(&g, 4, dt, 300, 2, 5, 3, 10, 1, 0, 1); /* padding is NaN */
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
        ASSERT_OK(strata_kmeans_fit(km, dt, g.x, g.n, g.d, g.stride, g.w));
        int32_t *lab = test_alloc((size_t)g.n, sizeof(int32_t));
        double *dist = test_alloc((size_t)g.n * 3, sizeof(double));
        ASSERT_OK(strata_kmeans_predict(km, dt, g.x, g.n, g.d, g.stride, lab));
        ASSERT_OK(strata_kmeans_transform(km, dt, g.x, g.n, g.d, g.stride, dist));
        for (int64_t i = 0; i < g.n * 3; i++)
            ASSERT_TRUE(isfinite(dist[i]));
        free(lab);
        free(dist);
        strata_kmeans_free(km);
        gen_free(&g);
    }
}

static void test_bad_weights(void)
{
    double w[6] = {1, 1, 1, 1, 1, 1};
    const double bad[4] = {-1.0, NAN, INFINITY, -0.5};
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    for (int b = 0; b < 4; b++) {
        w[4] = bad[b];
        EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, w), STRATA_E_WEIGHTS);
        w[4] = 1;
    }
    for (int i = 0; i < 6; i++)
        w[i] = 0;
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, w), STRATA_E_WEIGHTS);
    /* -0.0 is not negative */
    for (int i = 0; i < 6; i++)
        w[i] = 1;
    w[2] = -0.0;
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, w));
    strata_kmeans_free(km);
}

/* A model fitted with STRATA_KMEANS_ALLOW_TOO_FEW to data whose rows of
 * weight > 0 hold `points` distinct points: every centroid is one of them,
 * each of them is a centroid, every row has the lowest-index nearest
 * centroid (brute force), the inertia is 0 and `points` labels are used. */
static void check_too_few_model(strata_kmeans *km, const double *x, int64_t n, int64_t d,
                                const double *w, int64_t k, int64_t points)
{
    double c[64];
    int32_t lab[64];
    ASSERT_TRUE(k * d <= 64 && n <= 64);
    ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
    ASSERT_OK(strata_kmeans_labels(km, lab, n));
    for (int64_t j = 0; j < k; j++) {
        int found = 0;
        for (int64_t i = 0; i < n && !found; i++)
            found = (!w || w[i] > 0) && memcmp(c + j * d, x + i * d, (size_t)d * sizeof(double)) == 0;
        ASSERT_MSG(found, "centroid %lld is not a row of weight > 0", (long long)j);
    }
    int used[64] = {0};
    int64_t nused = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t best = 0;
        double bestd = INFINITY;
        for (int64_t j = 0; j < k; j++) {
            double s = 0;
            for (int64_t f = 0; f < d; f++)
                s += (x[i * d + f] - c[j * d + f]) * (x[i * d + f] - c[j * d + f]);
            if (s < bestd) {
                bestd = s;
                best = j;
            }
        }
        ASSERT_MSG(lab[i] == best, "row %lld: label %d, nearest lowest-index centroid %lld",
                   (long long)i, lab[i], (long long)best);
        if ((!w || w[i] > 0) && !used[best]++)
            nused++;
        if (!w || w[i] > 0)
            ASSERT_TRUE(bestd == 0.0); /* each point is a centroid */
    }
    ASSERT_EQ_INT(nused, points);
    double in = -1;
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &in));
    ASSERT_TRUE(in == 0.0);
}

static void test_allow_too_few(void)
{
    /* 10 rows, 2 distinct points; then 10 distinct rows, 2 of weight > 0 */
    double x[20], y[20], w[10] = {0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    for (int i = 0; i < 10; i++) {
        x[2 * i] = i % 2 ? 1.0 : 5.0;
        x[2 * i + 1] = -3.0;
    }
    for (int i = 0; i < 20; i++)
        y[i] = i;
    for (int ii = 0; ii < 3; ii++) {
        const int init = (const int[]){STRATA_INIT_KMEANSPP, STRATA_INIT_RANDOM, STRATA_INIT_AFKMC2}[ii];
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
        /* a fit that works without the option gives the same model with it */
        model before;
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL));
        snapshot(km, &before);
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALLOW_TOO_FEW, 1));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL));
        assert_same_model(km, &before);
        for (int64_t k = 3; k <= 10; k += 7) { /* k = n: random init repeats rows */
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
            for (int64_t seed = 0; seed < 4; seed++) {
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
                ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL));
                check_too_few_model(km, x, 10, 2, NULL, k, 2);
                ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, y, 10, 2, 0, w));
                check_too_few_model(km, y, 10, 2, w, k, 2);
            }
        }
        /* k > n stays an error; 0 restores the status */
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 11));
        EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL), STRATA_E_ARG);
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALLOW_TOO_FEW, 0));
        EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL),
                    STRATA_E_TOO_FEW);
        strata_kmeans_free(km);
    }
}

static void test_too_few_distinct(void)
{
    /* 10 rows, 2 distinct values */
    double x[20];
    for (int i = 0; i < 10; i++) {
        x[2 * i] = i % 2 ? 1.0 : 5.0;
        x[2 * i + 1] = -3.0;
    }
    for (int ii = 0; ii < 3; ii++) {
        const int init = (const int[]){STRATA_INIT_KMEANSPP, STRATA_INIT_RANDOM, STRATA_INIT_AFKMC2}[ii];
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
        EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL),
                    STRATA_E_TOO_FEW);
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 10, 2, 0, NULL));
        double in = -1;
        ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &in));
        ASSERT_TRUE(in == 0.0);
        /* distinct rows, but only 2 of weight > 0 */
        double y[20], w[10] = {0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
        for (int i = 0; i < 20; i++)
            y[i] = i;
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
        EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, y, 10, 2, 0, w), STRATA_E_TOO_FEW);
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, y, 10, 2, 0, w));
        strata_kmeans_free(km);
    }
}

/* ---- given centroids -------------------------------------------------------- */

static void test_bad_init_centroids(void)
{
    strata_kmeans *km = test_new_kmeans();
    const double c6[6] = {0, 0, 1, 1, 2, 2};
    double nan6[6] = {0, 0, 1, NAN, 2, 2}, inf6[6] = {0, 0, 1, 1, INFINITY, 2};
    int64_t v;
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, c6, 0, 2), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, c6, 3, 0), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, c6, -1, 2), STRATA_E_ARG);
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, nan6, 3, 2), STRATA_E_NONFINITE);
    EXPECT_FAIL(km, strata_kmeans_set_init_centroids(km, inf6, 3, 2), STRATA_E_NONFINITE);
    /* the failures changed nothing */
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &v));
    ASSERT_EQ_INT(v, 8);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_INIT, &v));
    ASSERT_EQ_INT(v, STRATA_INIT_KMEANSPP);
    /* 3 x 2 centroids for 3-feature data; 2 x 3 centroids for 2-feature data */
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c6, 3, 2));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 4, 3, 0, NULL), STRATA_E_ARG);
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c6, 2, 3));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_ARG);
    /* k > n with given centroids */
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c6, 3, 2));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 2, 2, 0, NULL), STRATA_E_ARG);
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL));
    strata_kmeans_free(km);
}

/* ---- using a model ---------------------------------------------------------- */

static void test_predict_errors(void)
{
    strata_kmeans *km = test_new_kmeans();
    int32_t lab[6] = {-7, -7, -7, -7, -7, -7};
    double out[12];
    for (int i = 0; i < 12; i++)
        out[i] = -7;
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 6, 2, 0, lab), STRATA_E_STATE);
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, STRATA_FLOAT64, X6, 6, 2, 0, out),
                STRATA_E_STATE);
    strata_kmeans_free(km);

    km = fitted_handle(2);
    const double bad[4] = {1, NAN, 3, 4};
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 4, 3, 0, lab), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 12, 1, 0, lab), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 0, 2, 0, lab), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, X6, 3, 2, 1, lab), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, 7, X6, 6, 2, 0, lab), STRATA_E_PARAM);
    EXPECT_CONST_FAIL(km, strata_kmeans_predict(km, STRATA_FLOAT64, bad, 2, 2, 0, lab),
                STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "row 0");
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, STRATA_FLOAT64, X6, 4, 3, 0, out), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, 0, X6, 6, 2, 0, out), STRATA_E_PARAM);
    EXPECT_CONST_FAIL(km, strata_kmeans_transform(km, STRATA_FLOAT64, bad, 2, 2, 0, out),
                STRATA_E_NONFINITE);
    for (int i = 0; i < 6; i++)
        ASSERT_EQ_INT(lab[i], -7);
    for (int i = 0; i < 12; i++)
        ASSERT_TRUE(out[i] == -7);
    /* wrong shapes when reading the model */
    double c[6] = {-7, -7, -7, -7, -7, -7};
    EXPECT_CONST_FAIL(km, strata_kmeans_centroids(km, c, 3, 2), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_centroids(km, c, 2, 3), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_labels(km, lab, 5), STRATA_E_ARG);
    EXPECT_CONST_FAIL(km, strata_kmeans_labels(km, lab, 7), STRATA_E_ARG);
    for (int i = 0; i < 6; i++) {
        ASSERT_TRUE(c[i] == -7);
        ASSERT_EQ_INT(lab[i], -7);
    }
    strata_kmeans_free(km);
}

/* Failing const calls report through the thread's slot (strata_last_error())
 * and leave the handle's message alone: each failure follows another one
 * with a different message, so a stale thread message does not pass, and the
 * handle keeps the message of the last failing non-const call. A key of the
 * wrong kind is named, with the call to use instead. */
static void test_const_call_errors(void)
{
    strata_kmeans *km = fitted_handle(2);
    int64_t v;
    double dv;
    struct {
        const char *what;
        int code;
        const char *says;
    } calls[] = {{"get_int(unknown key)", STRATA_E_PARAM, "unknown parameter key 9999"},
                 {"get_double(int key)", STRATA_E_PARAM,
                  "STRATA_KMEANS_K (k) is an integer parameter: use strata_kmeans_get_int"},
                 {"get_int(NULL out)", STRATA_E_NULL, "out is NULL"},
                 {"result_int(unknown key)", STRATA_E_PARAM, "unknown result key 9999"},
                 {"labels(NULL)", STRATA_E_NULL, "output pointer is NULL"},
                 {"get_int(result key)", STRATA_E_PARAM,
                  "STRATA_KMEANS_RESULT_N is a result key: read it with strata_kmeans_result_int"},
                 {"result_int(parameter key)", STRATA_E_PARAM,
                  "STRATA_KMEANS_K is a parameter key: read it with strata_kmeans_get_int"},
                 {"result_int(double result)", STRATA_E_PARAM,
                  "STRATA_KMEANS_RESULT_INERTIA is a double result: read it with "
                  "strata_kmeans_result_double"},
                 {"result_int(RFM result)", STRATA_E_PARAM,
                  "STRATA_RFM_RESULT_ROWS is an RFM result: read it with strata_rfm_result_int"},
                 {"get_int(RFM parameter)", STRATA_E_PARAM,
                  "STRATA_RFM_BINS is an RFM parameter: get it with strata_rfm_get_int"}};
    const int ncalls = (int)(sizeof calls / sizeof calls[0]);
    for (int i = 0; i < ncalls; i++) {
        ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, -1234 - i), STRATA_E_PARAM);
        char handle_msg[512];
        snprintf(handle_msg, sizeof handle_msg, "%s", strata_kmeans_last_error(km));
        int st = i == 0   ? strata_kmeans_get_int(km, 9999, &v)
                 : i == 1 ? strata_kmeans_get_double(km, STRATA_KMEANS_K, &dv)
                 : i == 2 ? strata_kmeans_get_int(km, STRATA_KMEANS_K, NULL)
                 : i == 3 ? strata_kmeans_result_int(km, 9999, &v)
                 : i == 4 ? strata_kmeans_labels(km, NULL, 6)
                 : i == 5 ? strata_kmeans_get_int(km, STRATA_KMEANS_RESULT_N, &v)
                 : i == 6 ? strata_kmeans_result_int(km, STRATA_KMEANS_K, &v)
                 : i == 7 ? strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_INERTIA, &v)
                 : i == 8 ? strata_kmeans_result_int(km, STRATA_RFM_RESULT_ROWS, &v)
                          : strata_kmeans_get_int(km, STRATA_RFM_BINS, &v);
        ASSERT_MSG(st == calls[i].code, "%s returned %d, expected %d", calls[i].what, st,
                   calls[i].code);
        ASSERT_STR_CONTAINS(strata_last_error(), calls[i].says);
        ASSERT_STR_EQ(strata_kmeans_last_error(km), handle_msg);
    }
    /* the wrong kind of key is named before a missing fit (it said "not fitted") */
    strata_kmeans *fresh = NULL;
    ASSERT_OK(strata_kmeans_create(&fresh));
    ASSERT_STATUS(strata_kmeans_result_int(fresh, STRATA_KMEANS_K, &v), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_last_error(), "STRATA_KMEANS_K is a parameter key");
    ASSERT_STATUS(strata_kmeans_result_double(fresh, STRATA_KMEANS_TOL, &dv), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_result_int(fresh, STRATA_KMEANS_RESULT_N, &v), STRATA_E_STATE);
    strata_kmeans_free(fresh);
    strata_rfm *unfit = NULL;
    ASSERT_OK(strata_rfm_create(&unfit));
    ASSERT_STATUS(strata_rfm_result_int(unfit, STRATA_RFM_BINS, &v), STRATA_E_PARAM);
    strata_rfm_free(unfit);
    /* setters (non-const) name the wrong kind of key the same way, on the handle */
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_RESULT_N, 1), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km),
                        "STRATA_KMEANS_RESULT_N is a result key: read it with "
                        "strata_kmeans_result_int");
    ASSERT_STATUS(strata_kmeans_set_double(km, STRATA_KMEANS_RESULT_INERTIA, 1.0),
                  STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "is a result key");
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_RFM_BINS, 5), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km),
                        "STRATA_RFM_BINS is an RFM parameter: set it with strata_rfm_set_int");
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_TOL, 1), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km),
                        "STRATA_KMEANS_TOL (tol) is a double parameter: use "
                        "strata_kmeans_set_double");
    strata_kmeans_free(km);

    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_RESULT_ROWS, 1), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h),
                        "STRATA_RFM_RESULT_ROWS is a result key: read it with "
                        "strata_rfm_result_int");
    ASSERT_STATUS(strata_rfm_get_int(h, STRATA_RFM_RESULT_BINS_USED, &v), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_last_error(), "STRATA_RFM_RESULT_BINS_USED is a result key");
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_KMEANS_K, 3), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h),
                        "STRATA_KMEANS_K is a k-means parameter: set it with "
                        "strata_kmeans_set_int");
    strata_rfm_free(h);
}

/* ---- failures and cancellation keep the previous model --------------------- */

typedef struct cancel_ctx {
    int64_t at_run, at_iter, calls;
    pthread_t caller;
    int wrong_thread;
} cancel_ctx;

static int cancel_at(void *user, int64_t run, int64_t iteration, double inertia)
{
    cancel_ctx *c = user;
    (void)inertia;
    c->calls++;
    if (!pthread_equal(pthread_self(), c->caller))
        c->wrong_thread = 1;
    return run == c->at_run && iteration == c->at_iter;
}

static void test_cancel_keeps_model(void)
{
    gen_data g;
    gen_blobs(&g, 21, STRATA_FLOAT64, 400, 2, 2, 8, 10, 1, 0, 0);
    strata_kmeans *km = fitted_handle(2); /* model A: 6 rows */
    model a;
    snapshot(km, &a);
    cancel_ctx cc = {0, 2, 0, pthread_self(), 0};
    ASSERT_OK(strata_kmeans_set_progress(km, cancel_at, &cc));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 5));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 2));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
    EXPECT_FAIL(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL), STRATA_E_CANCELLED);
    ASSERT_EQ_INT(cc.calls, 2); /* stopped at once */
    ASSERT_TRUE(!cc.wrong_thread);
    assert_same_model(km, &a);
    int64_t v;
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &v));
    ASSERT_EQ_INT(v, 5);
    /* cancel in the second run of n_init */
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 3));
    cc.at_run = 1;
    cc.calls = 0;
    EXPECT_FAIL(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL), STRATA_E_CANCELLED);
    assert_same_model(km, &a);
    /* the handle is still usable */
    ASSERT_OK(strata_kmeans_set_progress(km, NULL, NULL));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &v));
    ASSERT_EQ_INT(v, 400);
    strata_kmeans_free(km);

    /* cancelled first fit: still nothing fitted */
    km = test_new_kmeans();
    cc.at_run = 0;
    cc.calls = 0;
    ASSERT_OK(strata_kmeans_set_progress(km, cancel_at, &cc));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 5));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
    EXPECT_FAIL(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL), STRATA_E_CANCELLED);
    double c[10];
    EXPECT_CONST_FAIL(km, strata_kmeans_centroids(km, c, 5, 2), STRATA_E_STATE);
    strata_kmeans_free(km);
    gen_free(&g);
}

static void test_failed_fit_keeps_model(void)
{
    strata_kmeans *km = fitted_handle(2);
    model a;
    snapshot(km, &a);
    double bad[12];
    memcpy(bad, X6, sizeof bad);
    bad[7] = NAN;
    const double w0[6] = {0, 0, 0, 0, 0, 0}, wneg[6] = {1, 1, -1, 1, 1, 1};
    const double same[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, bad, 6, 2, 0, NULL), STRATA_E_NONFINITE);
    assert_same_model(km, &a);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, w0), STRATA_E_WEIGHTS);
    assert_same_model(km, &a);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, wneg), STRATA_E_WEIGHTS);
    assert_same_model(km, &a);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, same, 6, 2, 0, NULL), STRATA_E_TOO_FEW);
    assert_same_model(km, &a);
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 1, 2, 0, NULL), STRATA_E_ARG);
    assert_same_model(km, &a);
    EXPECT_FAIL(km, strata_kmeans_fit(km, 9, X6, 6, 2, 0, NULL), STRATA_E_PARAM);
    assert_same_model(km, &a);
    const double c3[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c3, 3, 3));
    EXPECT_FAIL(km, strata_kmeans_fit(km, STRATA_FLOAT64, X6, 6, 2, 0, NULL), STRATA_E_ARG);
    assert_same_model(km, &a);
    /* predict still uses model A */
    int32_t lab[6];
    ASSERT_OK(strata_kmeans_predict(km, STRATA_FLOAT64, X6, 6, 2, 0, lab));
    ASSERT_TRUE(memcmp(lab, a.lab, sizeof lab) == 0);
    strata_kmeans_free(km);
}

/* ---- the per-thread message slot --------------------------------------------- */

static void *fail_in_thread(void *arg)
{
    char *msg = arg;
    int st = strata_kmeans_fit(NULL, STRATA_FLOAT64, X6, 6, 2, 0, NULL);
    snprintf(msg, 512, "%d|%s", st, strata_last_error());
    return NULL;
}

static void test_last_error_is_per_thread(void)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_K, -3), STRATA_E_PARAM);
    char mine[512], theirs[512] = "";
    snprintf(mine, sizeof mine, "%s", strata_last_error());
    ASSERT_TRUE(mine[0] != '\0');
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, fail_in_thread, theirs) == 0);
    ASSERT_TRUE(pthread_join(t, NULL) == 0);
    ASSERT_TRUE(strncmp(theirs, "-100|", 5) == 0 && theirs[5] != '\0');
    ASSERT_TRUE(strcmp(theirs + 5, mine) != 0);
    ASSERT_STR_EQ(strata_last_error(), mine);
    strata_kmeans_free(km);
}

int main(void)
{
    RUN_TEST(test_null_handle);
    RUN_TEST(test_null_pointers);
    RUN_TEST(test_bad_shapes);
    RUN_TEST(test_nonfinite_data);
    RUN_TEST(test_overflowing_sums);
    RUN_TEST(test_nan_in_padding_is_ignored);
    RUN_TEST(test_bad_weights);
    RUN_TEST(test_too_few_distinct);
    RUN_TEST(test_allow_too_few);
    RUN_TEST(test_bad_init_centroids);
    RUN_TEST(test_predict_errors);
    RUN_TEST(test_const_call_errors);
    RUN_TEST(test_cancel_keeps_model);
    RUN_TEST(test_failed_fit_keeps_model);
    RUN_TEST(test_last_error_is_per_thread);
    return test_summary();
}
