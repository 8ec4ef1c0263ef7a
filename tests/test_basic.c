/* Basic behaviour against hand-computed results: versions, status strings,
 * parameters, tiny fits worked out on paper, predict/transform against brute
 * force, the k == n and k == 1 extremes. */
#include "ref.h"
#include "test.h"

/* ---- helpers --------------------------------------------------------- */

typedef struct iter_log {
    int64_t calls;
    int64_t run[64], iteration[64];
    double inertia[64];
} iter_log;

static int log_iter(void *user, int64_t run, int64_t iteration, double inertia)
{
    iter_log *log = user;
    if (log->calls < 64) {
        log->run[log->calls] = run;
        log->iteration[log->calls] = iteration;
        log->inertia[log->calls] = inertia;
    }
    log->calls++;
    return 0;
}

static int64_t result_int(strata_kmeans *km, int key)
{
    int64_t v = -12345;
    ASSERT_OK(strata_kmeans_result_int(km, key, &v));
    return v;
}

static double result_inertia(strata_kmeans *km)
{
    double v = -1.0;
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &v));
    return v;
}

/* Inertia tolerance: distances may be computed in the element type. */
static double itol(int dtype, double v)
{
    return (dtype == STRATA_FLOAT32 ? 1e-6 : 1e-12) * (1.0 + fabs(v));
}

static const int ASSIGNS[] = {STRATA_ASSIGN_AUTO, STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};

/* Fit rows (given as doubles, n x d) in `dtype` with the given start. */
static void fit_rows(strata_kmeans *km, int dtype, const double *rows, int64_t n, int64_t d,
                     const double *w, const double *init, int64_t k)
{
    void *x = test_alloc((size_t)(n * d), sizeof(double));
    for (int64_t i = 0; i < n * d; i++) {
        if (dtype == STRATA_FLOAT32)
            ((float *)x)[i] = (float)rows[i];
        else
            ((double *)x)[i] = rows[i];
    }
    ASSERT_OK(strata_kmeans_set_init_centroids(km, init, k, d));
    ASSERT_OK(strata_kmeans_fit(km, dtype, x, n, d, 0, w));
    free(x);
}

/* ---- versions and names ---------------------------------------------- */

static void test_version(void)
{
    ASSERT_EQ_INT(strata_version_number(), STRATA_VERSION_NUMBER);
    ASSERT_EQ_INT(STRATA_VERSION_NUMBER, STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 +
                                             STRATA_VERSION_PATCH);
    ASSERT_STR_EQ(strata_version_string(), STRATA_VERSION_STRING);
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", STRATA_VERSION_MAJOR, STRATA_VERSION_MINOR,
             STRATA_VERSION_PATCH);
    ASSERT_STR_EQ(strata_version_string(), buf);
}

static void test_status_str(void)
{
    static const int codes[] = {
        STRATA_OK,          STRATA_E_NULL,       STRATA_E_ARG,        STRATA_E_PARAM,
        STRATA_E_NONFINITE, STRATA_E_WEIGHTS,    STRATA_E_TOO_FEW,    STRATA_E_UNSUPPORTED,
        STRATA_E_IO,        STRATA_E_IO_OPEN,    STRATA_E_IO_FORMAT,  STRATA_E_IO_DATASET,
        STRATA_E_IO_TYPE,   STRATA_E_IO_WRITE,   STRATA_E_IO_EXISTS,  STRATA_E_NOMEM,
        STRATA_E_STATE,     STRATA_E_CANCELLED,  STRATA_E_INTERNAL};
    const size_t nc = sizeof codes / sizeof codes[0];
    /* pinned values */
    ASSERT_EQ_INT(STRATA_E_NULL, -100);
    ASSERT_EQ_INT(STRATA_E_TOO_FEW, -105);
    ASSERT_EQ_INT(STRATA_E_IO_EXISTS, -206);
    ASSERT_EQ_INT(STRATA_E_CANCELLED, -500);
    ASSERT_EQ_INT(STRATA_E_INTERNAL, -900);
    for (size_t i = 0; i < nc; i++) {
        const char *s = strata_status_str(codes[i]);
        ASSERT_NONEMPTY(s);
        ASSERT_MSG(strcmp(s, "unknown status") != 0, "code %d has no description", codes[i]);
        for (size_t j = 0; j < i; j++)
            ASSERT_MSG(strcmp(s, strata_status_str(codes[j])) != 0,
                       "codes %d and %d share the description \"%s\"", codes[i], codes[j], s);
    }
    ASSERT_STR_EQ(strata_status_str(1), "unknown status");
    ASSERT_STR_EQ(strata_status_str(-1), "unknown status");
    ASSERT_STR_EQ(strata_status_str(-999), "unknown status");
    ASSERT_STR_EQ(strata_status_str(12345), "unknown status");
}

static void test_kernel_names(void)
{
    ASSERT_STR_EQ(strata_kernel_name(STRATA_KERNEL_AUTO), "auto");
    ASSERT_STR_EQ(strata_kernel_name(STRATA_KERNEL_SCALAR), "scalar");
    ASSERT_STR_EQ(strata_kernel_name(STRATA_KERNEL_AVX2), "avx2");
    ASSERT_STR_EQ(strata_kernel_name(STRATA_KERNEL_AVX512), "avx512");
    ASSERT_STR_EQ(strata_kernel_name(4), "unknown");
    ASSERT_STR_EQ(strata_kernel_name(-1), "unknown");
    ASSERT_EQ_INT(strata_kernel_available(STRATA_KERNEL_AUTO), 1);
    ASSERT_EQ_INT(strata_kernel_available(STRATA_KERNEL_SCALAR), 1);
    ASSERT_EQ_INT(strata_kernel_available(4), 0);
    ASSERT_EQ_INT(strata_kernel_available(-1), 0);
    int a2 = strata_kernel_available(STRATA_KERNEL_AVX2);
    int a5 = strata_kernel_available(STRATA_KERNEL_AVX512);
    ASSERT_TRUE(a2 == 0 || a2 == 1);
    ASSERT_TRUE(a5 == 0 || a5 == 1);
}

/* ---- parameters -------------------------------------------------------- */

typedef struct int_param {
    int key;
    int64_t dflt;
    int64_t good[4];
    int ngood;
    int64_t bad[4];
    int nbad;
} int_param;

static void test_param_defaults_and_round_trip(void)
{
    strata_kmeans *km = test_new_kmeans();
    const int_param params[] = {
        {STRATA_KMEANS_K, 8, {1, 2, 40, 1000}, 4, {0, -1, INT64_MIN}, 3},
        {STRATA_KMEANS_MAX_ITER, 300, {1, 2, 1000}, 3, {0, -1, -300}, 3},
        /* INIT_CENTROIDS: see test_init_centroids_set_k_and_init */
        {STRATA_KMEANS_INIT, STRATA_INIT_KMEANSPP,
         {STRATA_INIT_RANDOM, STRATA_INIT_KMEANS_PARALLEL, STRATA_INIT_AFKMC2, STRATA_INIT_KMEANSPP}, 4,
         {-1, 5, 100}, 3},
        {STRATA_KMEANS_SEED, 0, {1, 42, (int64_t)1 << 40, 0}, 4, {-1, INT64_MIN}, 2},
        {STRATA_KMEANS_N_INIT, 1, {1, 3, 10}, 3, {0, -1}, 2},
        {STRATA_KMEANS_ALGORITHM, STRATA_ALGO_AUTO,
         {STRATA_ALGO_LLOYD, STRATA_ALGO_HAMERLY, STRATA_ALGO_YINYANG, STRATA_ALGO_AUTO}, 4,
         {-1, 5, 99}, 3},
        {STRATA_KMEANS_BATCH_SIZE, 1024, {1, 7, (int64_t)1 << 40, 1024}, 4, {0, -1, INT64_MIN}, 3},
        {STRATA_KMEANS_MAX_NO_IMPROVEMENT, 10, {0, 1, 50, 10}, 4, {-1, INT64_MIN}, 2},
        {STRATA_KMEANS_ASSIGN, STRATA_ASSIGN_AUTO,
         {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM, STRATA_ASSIGN_AUTO}, 3, {-1, 3, 99}, 3},
        {STRATA_KMEANS_ALLOW_TOO_FEW, 0, {1, 0}, 2, {-1, 2, 99}, 3},
        {STRATA_KMEANS_CHAIN_LENGTH, 200, {1, 7, STRATA_KMEANS_CHAIN_LENGTH_LIMIT, 200}, 4,
         {0, -1, STRATA_KMEANS_CHAIN_LENGTH_LIMIT + 1, INT64_MIN}, 4},
        {STRATA_THREADS, 0, {1, 2, 3, 0}, 4, {-1, -100}, 2},
        {STRATA_KERNEL, STRATA_KERNEL_AUTO, {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AUTO}, 2,
         {-1, 4, 99}, 3},
    };
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
        const int_param *pp = &params[p];
        int64_t v = -777;
        ASSERT_OK(strata_kmeans_get_int(km, pp->key, &v));
        ASSERT_MSG(v == pp->dflt, "param %d default %lld, expected %lld", pp->key, (long long)v,
                   (long long)pp->dflt);
        for (int g = 0; g < pp->ngood; g++) {
            ASSERT_OK(strata_kmeans_set_int(km, pp->key, pp->good[g]));
            ASSERT_OK(strata_kmeans_get_int(km, pp->key, &v));
            ASSERT_MSG(v == pp->good[g], "param %d set %lld, read back %lld", pp->key,
                       (long long)pp->good[g], (long long)v);
        }
        int64_t keep = pp->good[pp->ngood - 1];
        for (int b = 0; b < pp->nbad; b++) {
            ASSERT_STATUS(strata_kmeans_set_int(km, pp->key, pp->bad[b]), STRATA_E_PARAM);
            ASSERT_NONEMPTY(strata_kmeans_last_error(km));
            ASSERT_NONEMPTY(strata_last_error());
            ASSERT_OK(strata_kmeans_get_int(km, pp->key, &v));
            ASSERT_MSG(v == keep, "param %d changed to %lld by a rejected value %lld", pp->key,
                       (long long)v, (long long)pp->bad[b]);
        }
        /* an int key through the double setter / getter */
        double dv = 0;
        ASSERT_STATUS(strata_kmeans_set_double(km, pp->key, (double)keep), STRATA_E_PARAM);
        ASSERT_STATUS(strata_kmeans_get_double(km, pp->key, &dv), STRATA_E_PARAM);
        ASSERT_OK(strata_kmeans_get_int(km, pp->key, &v));
        ASSERT_EQ_INT(v, keep);
    }

    /* tol: the one double key */
    double t = -1;
    ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_TOL, &t));
    ASSERT_TRUE(t == 1e-4);
    const double good_tol[] = {0.0, 1e-8, 0.5, 1e-4};
    for (size_t i = 0; i < 4; i++) {
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, good_tol[i]));
        ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_TOL, &t));
        ASSERT_TRUE(t == good_tol[i]);
    }
    const double bad_tol[] = {-1e-12, -1.0, NAN};
    for (size_t i = 0; i < 3; i++) {
        ASSERT_STATUS(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, bad_tol[i]), STRATA_E_PARAM);
        ASSERT_NONEMPTY(strata_kmeans_last_error(km));
        ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_TOL, &t));
        ASSERT_TRUE(t == 1e-4);
    }
    int64_t iv = 0;
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_TOL, 0), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_get_int(km, STRATA_KMEANS_TOL, &iv), STRATA_E_PARAM);
    ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_TOL, &t));
    ASSERT_TRUE(t == 1e-4);

    /* unknown keys, including result keys and neighbours of real keys */
    const int unknown[] = {-1, 0, 1, 99, 115, 399, 402, 1000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ASSERT_STATUS(strata_kmeans_set_int(km, unknown[i], 1), STRATA_E_PARAM);
        ASSERT_STATUS(strata_kmeans_set_double(km, unknown[i], 1.0), STRATA_E_PARAM);
        ASSERT_STATUS(strata_kmeans_get_int(km, unknown[i], &iv), STRATA_E_PARAM);
        ASSERT_STATUS(strata_kmeans_get_double(km, unknown[i], &t), STRATA_E_PARAM);
    }
    strata_kmeans_free(km);
}

static void test_params_are_per_handle(void)
{
    strata_kmeans *a = test_new_kmeans(), *b = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(a, STRATA_KMEANS_K, 5));
    ASSERT_OK(strata_kmeans_set_double(a, STRATA_KMEANS_TOL, 0.25));
    int64_t v;
    double t;
    ASSERT_OK(strata_kmeans_get_int(b, STRATA_KMEANS_K, &v));
    ASSERT_EQ_INT(v, 8);
    ASSERT_OK(strata_kmeans_get_double(b, STRATA_KMEANS_TOL, &t));
    ASSERT_TRUE(t == 1e-4);
    strata_kmeans_free(a);
    strata_kmeans_free(b);
}

static void test_init_centroids_set_k_and_init(void)
{
    strata_kmeans *km = test_new_kmeans();
    const double c[6] = {0, 1, 2, 3, 4, 5};
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c, 3, 2));
    int64_t v;
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &v));
    ASSERT_EQ_INT(v, 3);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_INIT, &v));
    ASSERT_EQ_INT(v, STRATA_INIT_CENTROIDS);
    ASSERT_OK(strata_kmeans_set_init_centroids(km, c, 2, 3));
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &v));
    ASSERT_EQ_INT(v, 2);
    /* switching away and back keeps the given centroids usable */
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_RANDOM));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_CENTROIDS));
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_INIT, &v));
    ASSERT_EQ_INT(v, STRATA_INIT_CENTROIDS);
    strata_kmeans_free(km);
}

/* ---- state ------------------------------------------------------------- */

static void test_results_before_fit(void)
{
    strata_kmeans *km = test_new_kmeans();
    double c[16] = {0};
    int32_t lab[4] = {7, 7, 7, 7};
    int64_t v = 99;
    double dv = 99;
    ASSERT_STATUS(strata_kmeans_centroids(km, c, 2, 2), STRATA_E_STATE);
    ASSERT_NONEMPTY(strata_last_error()); /* a const call: the thread's slot only */
    ASSERT_STATUS(strata_kmeans_labels(km, lab, 4), STRATA_E_STATE);
    for (int key = STRATA_KMEANS_RESULT_N; key <= STRATA_KMEANS_RESULT_INIT; key++) {
        if (key == STRATA_KMEANS_RESULT_INERTIA)
            continue;
        ASSERT_STATUS(strata_kmeans_result_int(km, key, &v), STRATA_E_STATE);
    }
    ASSERT_STATUS(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &dv), STRATA_E_STATE);
    const double x[4] = {0, 1, 2, 3};
    ASSERT_STATUS(strata_kmeans_predict(km, STRATA_FLOAT64, x, 2, 2, 0, lab), STRATA_E_STATE);
    ASSERT_STATUS(strata_kmeans_transform(km, STRATA_FLOAT64, x, 2, 2, 0, c), STRATA_E_STATE);
    /* outputs untouched */
    ASSERT_EQ_INT(v, 99);
    ASSERT_TRUE(dv == 99);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(lab[i], 7);
    for (int i = 0; i < 16; i++)
        ASSERT_TRUE(c[i] == 0);
    strata_kmeans_free(km);
}

/* ---- hand-computed fits ------------------------------------------------ */

/* {0, 1, 10, 11}, k = 2 from {1, 10}: pass 1 labels {0,0,1,1} (inertia 1+0+0+1 = 2),
 * centroids 0.5, 10.5; pass 2 changes nothing (inertia 4 * 0.25 = 1). */
static void test_hand_1d(void)
{
    const double x[4] = {0, 1, 10, 11}, init[2] = {1, 10};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t a = 0; a < 3; a++)
            for (int tolcase = 0; tolcase < 2; tolcase++) {
                strata_kmeans *km = test_new_kmeans();
                iter_log log = {0};
                ASSERT_OK(strata_kmeans_set_progress(km, log_iter, &log));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[a]));
                ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, tolcase ? 0.0 : 1e-4));
                fit_rows(km, dt, x, 4, 1, NULL, init, 2);
                double c[2];
                int32_t lab[4];
                ASSERT_OK(strata_kmeans_centroids(km, c, 2, 1));
                ASSERT_OK(strata_kmeans_labels(km, lab, 4));
                ASSERT_TRUE(c[0] == 0.5 && c[1] == 10.5);
                ASSERT_TRUE(lab[0] == 0 && lab[1] == 0 && lab[2] == 1 && lab[3] == 1);
                ASSERT_NEAR(result_inertia(km), 1.0, itol(dt, 1.0));
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 2);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N), 4);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_D), 1);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_K), 2);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_INIT), STRATA_INIT_CENTROIDS);
                int64_t as = result_int(km, STRATA_KMEANS_RESULT_ASSIGN);
                if (ASSIGNS[a] == STRATA_ASSIGN_AUTO)
                    ASSERT_TRUE(as == STRATA_ASSIGN_FUSED || as == STRATA_ASSIGN_GEMM);
                else
                    ASSERT_EQ_INT(as, ASSIGNS[a]);
                ASSERT_EQ_INT(log.calls, 2);
                ASSERT_TRUE(log.run[0] == 0 && log.run[1] == 0);
                ASSERT_TRUE(log.iteration[0] == 1 && log.iteration[1] == 2);
                ASSERT_NEAR(log.inertia[0], 2.0, itol(dt, 2.0));
                ASSERT_NEAR(log.inertia[1], 1.0, itol(dt, 1.0));
                strata_kmeans_free(km);
            }
}

/* Weights {3, 1, 1, 1}: centroid 0 = (3*0 + 1)/4 = 0.25, inertia
 * 3 * 0.0625 + 0.5625 + 0.25 + 0.25 = 1.25. A zero weight drops a row from
 * its centroid but it is still labelled. */
static void test_hand_1d_weighted(void)
{
    const double x[5] = {0, 1, 10, 11, 100}, init[2] = {1, 10};
    const double w[5] = {3, 1, 1, 1, 0};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t a = 0; a < 3; a++) {
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[a]));
            fit_rows(km, dt, x, 4, 1, w, init, 2);
            double c[2];
            int32_t lab[5];
            ASSERT_OK(strata_kmeans_centroids(km, c, 2, 1));
            ASSERT_OK(strata_kmeans_labels(km, lab, 4));
            ASSERT_TRUE(c[0] == 0.25 && c[1] == 10.5);
            ASSERT_TRUE(lab[0] == 0 && lab[1] == 0 && lab[2] == 1 && lab[3] == 1);
            ASSERT_NEAR(result_inertia(km), 1.25, itol(dt, 1.25));
            ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 2);

            /* the far row 100 with weight 0: labelled 1, centroids unchanged */
            fit_rows(km, dt, x, 5, 1, w, init, 2);
            ASSERT_OK(strata_kmeans_centroids(km, c, 2, 1));
            ASSERT_OK(strata_kmeans_labels(km, lab, 5));
            ASSERT_TRUE(c[0] == 0.25 && c[1] == 10.5);
            ASSERT_EQ_INT(lab[4], 1);
            ASSERT_NEAR(result_inertia(km), 1.25, itol(dt, 1.25));
            strata_kmeans_free(km);
        }
}

/* 2-D: A(0,0) B(2,0) C(0,2) D(10,10) E(12,10) F(10,12), k = 2 from (0,0), (2,0).
 * Pass 1: A,C -> 0; B,D,E,F -> 1 (B is on c1); inertia 0+0+4+164+200+208 = 576.
 *   update: c0 = (0,1), c1 = (8.5, 8).
 * Pass 2: A,B,C -> 0 (B: 5 vs 106.25); D,E,F -> 1; inertia 1+5+1+6.25+16.25+18.25 = 47.75.
 *   update: c0 = (2/3, 2/3), c1 = (32/3, 32/3).
 * Pass 3: no change: inertia 2 * (8/9 + 20/9 + 20/9) = 32/3; n_iter 3. */
static void test_hand_2d(void)
{
    const double x[12] = {0, 0, 2, 0, 0, 2, 10, 10, 12, 10, 10, 12};
    const double init[4] = {0, 0, 2, 0};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t a = 0; a < 3; a++)
            for (int tolcase = 0; tolcase < 2; tolcase++) {
                strata_kmeans *km = test_new_kmeans();
                iter_log log = {0};
                ASSERT_OK(strata_kmeans_set_progress(km, log_iter, &log));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[a]));
                ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, tolcase ? 0.0 : 1e-4));
                fit_rows(km, dt, x, 6, 2, NULL, init, 2);
                double c[4];
                int32_t lab[6];
                ASSERT_OK(strata_kmeans_centroids(km, c, 2, 2));
                ASSERT_OK(strata_kmeans_labels(km, lab, 6));
                ASSERT_NEAR(c[0], 2.0 / 3, 1e-14);
                ASSERT_NEAR(c[1], 2.0 / 3, 1e-14);
                ASSERT_NEAR(c[2], 32.0 / 3, 1e-14);
                ASSERT_NEAR(c[3], 32.0 / 3, 1e-14);
                const int32_t want[6] = {0, 0, 0, 1, 1, 1};
                for (int i = 0; i < 6; i++)
                    ASSERT_EQ_INT(lab[i], want[i]);
                ASSERT_NEAR(result_inertia(km), 32.0 / 3, itol(dt, 32.0 / 3));
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 3);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
                ASSERT_EQ_INT(log.calls, 3);
                ASSERT_NEAR(log.inertia[0], 576.0, itol(dt, 576.0));
                ASSERT_NEAR(log.inertia[1], 47.75, itol(dt, 47.75));
                ASSERT_NEAR(log.inertia[2], 32.0 / 3, itol(dt, 32.0 / 3));
                strata_kmeans_free(km);
            }
}

/* tol large enough to stop after the first update: the run stops on the
 * shift test, then labels are recomputed with the final centroids. Same
 * 2-D data: shift after iteration 1 is 1 + 6.5^2 + 8^2 = 107.25; the mean
 * variance V is 233/9 (both features 58 - (17/3)^2), so tol = 107.25 / V
 * (plus a margin) stops there: n_iter 1, converged, centroids (0,1), (8.5,8),
 * labels {0,0,0,1,1,1} from the final assignment, inertia 47.75. */
static void test_hand_2d_tol_stop(void)
{
    const double x[12] = {0, 0, 2, 0, 0, 2, 10, 10, 12, 10, 10, 12};
    const double init[4] = {0, 0, 2, 0};
    const double V = 233.0 / 9.0;
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 107.25 / V * 1.001));
        fit_rows(km, dt, x, 6, 2, NULL, init, 2);
        double c[4];
        int32_t lab[6];
        ASSERT_OK(strata_kmeans_centroids(km, c, 2, 2));
        ASSERT_OK(strata_kmeans_labels(km, lab, 6));
        ASSERT_TRUE(c[0] == 0 && c[1] == 1 && c[2] == 8.5 && c[3] == 8);
        const int32_t want[6] = {0, 0, 0, 1, 1, 1};
        for (int i = 0; i < 6; i++)
            ASSERT_EQ_INT(lab[i], want[i]);
        ASSERT_NEAR(result_inertia(km), 47.75, itol(dt, 47.75));
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 1);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);

        /* just below: a second iteration, whose shift (about 12.4) is far below tol */
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 107.25 / V * 0.999));
        fit_rows(km, dt, x, 6, 2, NULL, init, 2);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 2);
        ASSERT_OK(strata_kmeans_centroids(km, c, 2, 2));
        ASSERT_NEAR(c[0], 2.0 / 3, 1e-14);
        ASSERT_NEAR(c[3], 32.0 / 3, 1e-14);
        strata_kmeans_free(km);
    }
}

/* max_iter reached: not converged, labels from one more assignment. */
static void test_hand_2d_max_iter(void)
{
    const double x[12] = {0, 0, 2, 0, 0, 2, 10, 10, 12, 10, 10, 12};
    const double init[4] = {0, 0, 2, 0};
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 1));
    fit_rows(km, STRATA_FLOAT64, x, 6, 2, NULL, init, 2);
    double c[4];
    int32_t lab[6];
    ASSERT_OK(strata_kmeans_centroids(km, c, 2, 2));
    ASSERT_OK(strata_kmeans_labels(km, lab, 6));
    ASSERT_TRUE(c[0] == 0 && c[1] == 1 && c[2] == 8.5 && c[3] == 8);
    ASSERT_EQ_INT(lab[1], 0); /* B moved to cluster 0 in the final assignment */
    ASSERT_NEAR(result_inertia(km), 47.75, 1e-12);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 1);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 0);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 2));
    fit_rows(km, STRATA_FLOAT64, x, 6, 2, NULL, init, 2);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 2);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 0);
    ASSERT_NEAR(result_inertia(km), 32.0 / 3, 1e-12);
    strata_kmeans_free(km);
}

/* Exact ties go to the lowest centroid index: {0, 2, 4} from {1, 3}: 2 is at
 * distance 1 from both and joins 0; from {3, 1} it joins 0 (now the centroid 3). */
static void test_ties_lowest_index(void)
{
    const double x[3] = {0, 2, 4};
    const double init_a[2] = {1, 3}, init_b[2] = {3, 1};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t a = 0; a < 3; a++) {
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[a]));
            iter_log log = {0};
            ASSERT_OK(strata_kmeans_set_progress(km, log_iter, &log));
            fit_rows(km, dt, x, 3, 1, NULL, init_a, 2);
            double c[2];
            int32_t lab[3];
            ASSERT_OK(strata_kmeans_centroids(km, c, 2, 1));
            ASSERT_OK(strata_kmeans_labels(km, lab, 3));
            ASSERT_TRUE(c[0] == 1 && c[1] == 4);
            ASSERT_TRUE(lab[0] == 0 && lab[1] == 0 && lab[2] == 1);
            ASSERT_NEAR(log.inertia[0], 3.0, itol(dt, 3.0)); /* 1 + 1 + 1 */
            ASSERT_NEAR(result_inertia(km), 2.0, itol(dt, 2.0));
            fit_rows(km, dt, x, 3, 1, NULL, init_b, 2);
            ASSERT_OK(strata_kmeans_centroids(km, c, 2, 1));
            ASSERT_OK(strata_kmeans_labels(km, lab, 3));
            ASSERT_TRUE(c[0] == 3 && c[1] == 0);
            ASSERT_TRUE(lab[0] == 1 && lab[1] == 0 && lab[2] == 0);
            ASSERT_NEAR(result_inertia(km), 2.0, itol(dt, 2.0));

            /* predict on the tie too: 2 between centroids 1 and 3 -> 0 */
            fit_rows(km, dt, x, 3, 1, NULL, init_a, 2); /* centroids {1, 4} */
            const double q64[3] = {2.5, 1.0, 4.0};
            const float q32[3] = {2.5f, 1.0f, 4.0f};
            int32_t pl[3];
            ASSERT_OK(strata_kmeans_predict(km, dt, dt == STRATA_FLOAT32 ? (const void *)q32
                                                                          : (const void *)q64,
                                            3, 1, 0, pl));
            ASSERT_TRUE(pl[0] == 0 && pl[1] == 0 && pl[2] == 1);
            strata_kmeans_free(km);
        }
}

/* k == n: every row its own cluster, inertia 0, with given and k-means++ starts.
 * From the rows themselves the first update moves nothing: shift 0 <= tol
 * stops the run after one iteration (whatever tol, 0 included). */
static void test_k_equals_n(void)
{
    const double x[10] = {0, 0, 5, 1, -3, 4, 7, -2, 2, 9};
    const double init[10] = {7, -2, 0, 0, 2, 9, 5, 1, -3, 4}; /* a permutation of the rows */
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        strata_kmeans *km = test_new_kmeans();
        fit_rows(km, dt, x, 5, 2, NULL, init, 5);
        int32_t lab[5];
        ASSERT_OK(strata_kmeans_labels(km, lab, 5));
        const int32_t want[5] = {1, 3, 4, 0, 2};
        for (int i = 0; i < 5; i++)
            ASSERT_EQ_INT(lab[i], want[i]);
        ASSERT_TRUE(result_inertia(km) == 0.0);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 1);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
        fit_rows(km, dt, x, 5, 2, NULL, init, 5);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 1);

        const float x32[10] = {0, 0, 5, 1, -3, 4, 7, -2, 2, 9};
        for (int init_kind = STRATA_INIT_KMEANSPP; init_kind <= STRATA_INIT_RANDOM; init_kind++)
            for (int seed = 0; seed < 3; seed++) {
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init_kind));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 5));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
                ASSERT_OK(strata_kmeans_fit(km, dt, dt == STRATA_FLOAT32 ? (const void *)x32
                                                                         : (const void *)x,
                                            5, 2, 0, NULL));
                double c[10];
                ASSERT_OK(strata_kmeans_centroids(km, c, 5, 2));
                ASSERT_OK(strata_kmeans_labels(km, lab, 5));
                ASSERT_TRUE(result_inertia(km) == 0.0);
                int seen[5] = {0};
                for (int i = 0; i < 5; i++) {
                    ASSERT_TRUE(lab[i] >= 0 && lab[i] < 5);
                    ASSERT_TRUE(!seen[lab[i]]);
                    seen[lab[i]] = 1;
                    ASSERT_TRUE(c[lab[i] * 2] == x[i * 2] && c[lab[i] * 2 + 1] == x[i * 2 + 1]);
                }
            }
        strata_kmeans_free(km);
    }
}

/* k == 1: the weighted mean, whatever the start. */
static void test_k_equals_1(void)
{
    gen_data g;
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int weighted = 0; weighted < 2; weighted++) {
            gen_blobs(&g, 11 + (uint64_t)weighted, dt, 777, 3, 4, 3, 10.0, 1.0, 5.0, weighted);
            ref_data X = gen_ref(&g);
            double mean[3], c[3];
            ref_weighted_mean(&X, mean);
            int32_t *lab = test_alloc(777, sizeof(int32_t));
            for (int init_kind = STRATA_INIT_KMEANSPP; init_kind <= STRATA_INIT_RANDOM; init_kind++) {
                strata_kmeans *km = test_new_kmeans();
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 1));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init_kind));
                ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
                ASSERT_OK(strata_kmeans_fit(km, dt, g.x, g.n, g.d, g.stride, g.w));
                ASSERT_OK(strata_kmeans_centroids(km, c, 1, 3));
                ASSERT_OK(strata_kmeans_labels(km, lab, 777));
                for (int f = 0; f < 3; f++)
                    ASSERT_NEAR(c[f], mean[f], 1e-12 * (1 + fabs(mean[f])));
                for (int i = 0; i < 777; i++)
                    ASSERT_EQ_INT(lab[i], 0);
                ASSERT_REL(result_inertia(km), ref_inertia(&X, mean, lab),
                           dt == STRATA_FLOAT32 ? 1e-5 : 1e-12);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), 2);
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_K), 1);
                strata_kmeans_free(km);
            }
            free(lab);
            gen_free(&g);
        }
}

/* A start with a centroid far from every row leaves that cluster empty. The
 * header does not say how an empty cluster is refilled, only that the fit
 * succeeds: so check a consistent model (labels in range and nearest,
 * finite centroids, inertia of those labels and centroids). */
static void test_empty_cluster_start(void)
{
    const double x[6] = {0, 1, 10, 11, 20, 21}, init[3] = {0.5, 10.5, 1000};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
        fit_rows(km, dt, x, 6, 1, NULL, init, 3);
        double c[3];
        int32_t lab[6];
        ASSERT_OK(strata_kmeans_centroids(km, c, 3, 1));
        ASSERT_OK(strata_kmeans_labels(km, lab, 6));
        double in = 0;
        for (int i = 0; i < 6; i++) {
            ASSERT_TRUE(lab[i] >= 0 && lab[i] < 3);
            for (int j = 0; j < 3; j++)
                ASSERT_TRUE(fabs(x[i] - c[lab[i]]) <= fabs(x[i] - c[j]));
            in += (x[i] - c[lab[i]]) * (x[i] - c[lab[i]]);
        }
        for (int j = 0; j < 3; j++)
            ASSERT_TRUE(isfinite(c[j]) && c[j] >= 0 && c[j] <= 21);
        ASSERT_NEAR(result_inertia(km), in, itol(dt, in));
        strata_kmeans_free(km);
    }
}

/* Results of a fit are copies: changing the caller's data afterwards
 * does not change the model; data are not modified by fit. */
static void test_fit_does_not_touch_data(void)
{
    gen_data g;
    gen_blobs(&g, 5, STRATA_FLOAT64, 500, 4, 6, 4, 20.0, 1.0, 0.0, 1);
    size_t bytes = (size_t)(g.n * g.stride) * sizeof(double);
    double *copy = test_alloc(bytes, 1), *wcopy = test_alloc((size_t)g.n, sizeof(double));
    memcpy(copy, g.x, bytes);
    memcpy(wcopy, g.w, (size_t)g.n * sizeof(double));
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 4));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, g.x, g.n, g.d, g.stride, g.w));
    ASSERT_TRUE(memcmp(copy, g.x, bytes) == 0); /* NaN padding compared bitwise too */
    ASSERT_TRUE(memcmp(wcopy, g.w, (size_t)g.n * sizeof(double)) == 0);
    double c1[16], c2[16];
    ASSERT_OK(strata_kmeans_centroids(km, c1, 4, 4));
    for (int64_t i = 0; i < g.n * g.stride; i++)
        ((double *)g.x)[i] = 0;
    ASSERT_OK(strata_kmeans_centroids(km, c2, 4, 4));
    ASSERT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
    strata_kmeans_free(km);
    free(copy);
    free(wcopy);
    gen_free(&g);
}

/* predict and transform of new rows against brute force. */
static void test_predict_transform(void)
{
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t a = 0; a < 3; a++) {
            gen_data g, q;
            gen_blobs(&g, 100 + (uint64_t)dt, dt, 2000, 7, 7, 6, 15.0, 1.0, 3.0, 0);
            gen_blobs(&q, 200 + (uint64_t)dt, dt, 1500, 7, 9, 9, 25.0, 2.0, 3.0, 0);
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 6));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[a]));
            ASSERT_OK(strata_kmeans_fit(km, dt, g.x, g.n, g.d, 0, NULL));
            double c[42];
            ASSERT_OK(strata_kmeans_centroids(km, c, 6, 7));

            /* on the training rows predict gives the fitted labels */
            int32_t *fl = test_alloc((size_t)g.n, sizeof(int32_t));
            int32_t *pl = test_alloc((size_t)g.n, sizeof(int32_t));
            ASSERT_OK(strata_kmeans_labels(km, fl, g.n));
            ASSERT_OK(strata_kmeans_predict(km, dt, g.x, g.n, g.d, 0, pl));
            ASSERT_TRUE(memcmp(fl, pl, (size_t)g.n * sizeof(int32_t)) == 0);

            /* new rows (stride 9 with NaN padding) */
            ref_data Q = gen_ref(&q);
            int32_t *ql = test_alloc((size_t)q.n, sizeof(int32_t));
            double *dist = test_alloc((size_t)(q.n * 6), sizeof(double));
            ASSERT_OK(strata_kmeans_predict(km, dt, q.x, q.n, q.d, q.stride, ql));
            ASSERT_OK(strata_kmeans_transform(km, dt, q.x, q.n, q.d, q.stride, dist));
            double u = dt == STRATA_FLOAT32 ? 0x1p-24 : 0x1p-53;
            int64_t checked = 0;
            for (int64_t i = 0; i < q.n; i++) {
                double b, s;
                int32_t want = ref_nearest(&Q, i, c, 6, &b, &s);
                for (int j = 0; j < 6; j++) {
                    double e = sqrt(ref_dist2(&Q, i, c + j * 7));
                    ASSERT_MSG(fabs(dist[i * 6 + j] - e) <= 1e-12 * (1 + e),
                               "transform row %lld centroid %d: %.17g vs %.17g", (long long)i, j,
                               dist[i * 6 + j], e);
                }
                /* labels must match wherever the two best are not within rounding */
                double scale = 0;
                for (int f = 0; f < 7; f++)
                    scale += ref_at(&Q, i, f) * ref_at(&Q, i, f);
                if (s - b > 1e4 * u * (scale + b + s + 1)) {
                    ASSERT_MSG(ql[i] == want, "predict row %lld: %d, brute force %d", (long long)i,
                               ql[i], want);
                    checked++;
                } else {
                    double dl = ref_dist2(&Q, i, c + ql[i] * 7);
                    ASSERT_TRUE(dl - b <= 1e4 * u * (scale + b + s + 1));
                }
            }
            ASSERT_TRUE(checked > q.n * 9 / 10);
            strata_kmeans_free(km);
            free(fl);
            free(pl);
            free(ql);
            free(dist);
            gen_free(&g);
            gen_free(&q);
        }
}

/* Transform works in double even on float32 data, and gives plain distances. */
static void test_transform_hand(void)
{
    const double x[4] = {0, 1, 10, 11}, init[2] = {1, 10};
    strata_kmeans *km = test_new_kmeans();
    fit_rows(km, STRATA_FLOAT64, x, 4, 1, NULL, init, 2); /* centroids 0.5, 10.5 */
    const float q[3] = {3.5f, 0.5f, -1.5f};
    double out[6];
    ASSERT_OK(strata_kmeans_transform(km, STRATA_FLOAT32, q, 3, 1, 0, out));
    const double want[6] = {3.0, 7.0, 0.0, 10.0, 2.0, 12.0};
    for (int i = 0; i < 6; i++)
        ASSERT_TRUE(out[i] == want[i]);
    int32_t lab[3];
    ASSERT_OK(strata_kmeans_predict(km, STRATA_FLOAT32, q, 3, 1, 0, lab));
    ASSERT_TRUE(lab[0] == 0 && lab[1] == 0 && lab[2] == 0);
    strata_kmeans_free(km);
}

/* A handle can be refitted with other shapes; results follow the latest fit. */
static void test_refit_other_shape(void)
{
    const double x1[4] = {0, 1, 10, 11}, init1[2] = {1, 10};
    const double x2[12] = {0, 0, 2, 0, 0, 2, 10, 10, 12, 10, 10, 12}, init2[4] = {0, 0, 2, 0};
    strata_kmeans *km = test_new_kmeans();
    fit_rows(km, STRATA_FLOAT64, x1, 4, 1, NULL, init1, 2);
    fit_rows(km, STRATA_FLOAT64, x2, 6, 2, NULL, init2, 2);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N), 6);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_D), 2);
    double c[4];
    int32_t lab[6];
    ASSERT_STATUS(strata_kmeans_centroids(km, c, 2, 1), STRATA_E_ARG);
    ASSERT_STATUS(strata_kmeans_labels(km, lab, 4), STRATA_E_ARG);
    ASSERT_OK(strata_kmeans_centroids(km, c, 2, 2));
    ASSERT_NEAR(c[3], 32.0 / 3, 1e-14);
    fit_rows(km, STRATA_FLOAT64, x1, 4, 1, NULL, init1, 2);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N), 4);
    ASSERT_OK(strata_kmeans_labels(km, lab, 4));
    strata_kmeans_free(km);
}

/* A model restored from centroids alone predicts exactly as the fitted one. */
static void test_set_model(void)
{
    gen_data g;
    gen_blobs(&g, 300, STRATA_FLOAT32, 3000, 5, 5, 4, 20.0, 1.0, 3.0, 0);
    strata_kmeans *fitted = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(fitted, STRATA_KMEANS_K, 4));
    ASSERT_OK(strata_kmeans_fit(fitted, STRATA_FLOAT32, g.x, g.n, g.d, 0, NULL));
    double c[20];
    ASSERT_OK(strata_kmeans_centroids(fitted, c, 4, 5));
    int32_t *want = test_alloc((size_t)g.n, sizeof(int32_t));
    int32_t *got = test_alloc((size_t)g.n, sizeof(int32_t));
    ASSERT_OK(strata_kmeans_predict(fitted, STRATA_FLOAT32, g.x, g.n, g.d, 0, want));

    strata_kmeans *restored = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_model(restored, c, 4, 5));
    ASSERT_OK(strata_kmeans_predict(restored, STRATA_FLOAT32, g.x, g.n, g.d, 0, got));
    ASSERT_TRUE(memcmp(want, got, (size_t)g.n * sizeof(int32_t)) == 0);
    double back[20];
    ASSERT_OK(strata_kmeans_centroids(restored, back, 4, 5));
    ASSERT_TRUE(memcmp(back, c, sizeof c) == 0);
    int64_t v;
    ASSERT_OK(strata_kmeans_result_int(restored, STRATA_KMEANS_RESULT_N, &v));
    ASSERT_EQ_INT(v, 0);
    ASSERT_OK(strata_kmeans_result_int(restored, STRATA_KMEANS_RESULT_K, &v));
    ASSERT_EQ_INT(v, 4);
    double inertia;
    ASSERT_OK(strata_kmeans_result_double(restored, STRATA_KMEANS_RESULT_INERTIA, &inertia));
    ASSERT_TRUE(isnan(inertia));

    c[7] = NAN;
    ASSERT_STATUS(strata_kmeans_set_model(restored, c, 4, 5), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(restored), "centroid 1");
    ASSERT_STATUS(strata_kmeans_set_model(restored, c, 0, 5), STRATA_E_ARG);
    ASSERT_STATUS(strata_kmeans_set_model(restored, NULL, 4, 5), STRATA_E_NULL);
    /* the failed calls kept the restored model */
    ASSERT_OK(strata_kmeans_predict(restored, STRATA_FLOAT32, g.x, g.n, g.d, 0, got));
    ASSERT_TRUE(memcmp(want, got, (size_t)g.n * sizeof(int32_t)) == 0);
    strata_kmeans_free(fitted);
    strata_kmeans_free(restored);
    free(want);
    free(got);
    gen_free(&g);
}

static void test_result_keys(void)
{
    const double x[4] = {0, 1, 10, 11};
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 1234));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 4, 1, 0, NULL));
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_SEED), 1234);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_INIT), STRATA_INIT_KMEANSPP);
    int64_t kern = result_int(km, STRATA_KMEANS_RESULT_KERNEL);
    ASSERT_TRUE(kern >= STRATA_KERNEL_SCALAR && kern <= STRATA_KERNEL_AVX512);
    ASSERT_TRUE(strata_kernel_available((int)kern));
    int64_t v = -5;
    double dv = -5;
    ASSERT_STATUS(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_INERTIA, &v), STRATA_E_PARAM);
    int64_t algo = result_int(km, STRATA_KMEANS_RESULT_ALGORITHM);
    ASSERT_TRUE(algo == STRATA_ALGO_LLOYD || algo == STRATA_ALGO_HAMERLY);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_STREAMED), 0);
    ASSERT_STATUS(strata_kmeans_result_int(km, 12, &v), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_result_int(km, -1, &v), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_K, &dv), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_result_double(km, 10, &dv), STRATA_E_PARAM);
    ASSERT_EQ_INT(v, -5);
    ASSERT_TRUE(dv == -5);
    /* the well-separated pair is found by k-means++ whatever the seed */
    ASSERT_NEAR(result_inertia(km), 1.0, 1e-12);
    strata_kmeans_free(km);
}

int main(void)
{
    RUN_TEST(test_version);
    RUN_TEST(test_status_str);
    RUN_TEST(test_kernel_names);
    RUN_TEST(test_param_defaults_and_round_trip);
    RUN_TEST(test_params_are_per_handle);
    RUN_TEST(test_init_centroids_set_k_and_init);
    RUN_TEST(test_results_before_fit);
    RUN_TEST(test_hand_1d);
    RUN_TEST(test_hand_1d_weighted);
    RUN_TEST(test_hand_2d);
    RUN_TEST(test_hand_2d_tol_stop);
    RUN_TEST(test_hand_2d_max_iter);
    RUN_TEST(test_ties_lowest_index);
    RUN_TEST(test_k_equals_n);
    RUN_TEST(test_k_equals_1);
    RUN_TEST(test_empty_cluster_start);
    RUN_TEST(test_fit_does_not_touch_data);
    RUN_TEST(test_predict_transform);
    RUN_TEST(test_transform_hand);
    RUN_TEST(test_refit_other_shape);
    RUN_TEST(test_result_keys);
    RUN_TEST(test_set_model);
    return test_summary();
}
