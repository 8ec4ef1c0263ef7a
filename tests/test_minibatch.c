/* STRATA_ALGO_MINIBATCH: mini-batch k-means (approximate, not Lloyd's result).
 *
 * What is checked, and against what:
 *   - BITWISE across STRATA_THREADS 1/2/3: labels, centroids, inertia, steps
 *     and converged, with batches of one chunk and of several (parallel), weighted
 *     and not, float32 and float64, n_init 1 and 3.
 *   - Well-separated blobs (centres 30 apart, sd 1): the labels equal the
 *     generating blob of every row up to a permutation (checked as a bijection).
 *   - Inertia against exact Lloyd (STRATA_ALGO_LLOYD, best of 3 k-means++) on
 *     separated and on overlapping blobs: within 1% and 5%.
 *   - The reported inertia is that of the labels and centroids reported,
 *     recomputed here in double; labels are the nearest centroids.
 *   - Step accounting: with both early stops off, exactly max_iter * n /
 *     batch_size steps (batch_size above n counts as n), converged 0, one
 *     progress call per step; with them on, fewer steps and converged 1.
 *   - Parameters: defaults, round trips, STRATA_E_PARAM for bad values and
 *     the wrong setter, the value left unchanged. */
#include <math.h>

#include "check.h"

/* `nb` blobs of sd 1 in d dimensions with centres 30 apart along the first
 * axis (others random in [-5, 5]); rows in random blob order. */
static void separated_blobs(gen_data *g, uint64_t seed, int dtype, int64_t n, int64_t d, int64_t nb,
                            double sd, int weighted)
{
    gen_blobs(g, seed, dtype, n, d, d, nb, 5.0, sd, 0.0, weighted);
    for (int64_t j = 0; j < nb; j++)
        g->centers[j * d] = 30.0 * (double)j;
    test_rng r;
    rng_seed(&r, seed + 99);
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < d; f++)
            gen_set(g, i, f, g->centers[g->blob[i] * d + f] + sd * rng_normal(&r));
}

typedef struct mb_out {
    int32_t *labels;
    double *c, inertia;
    int64_t steps, converged, algorithm;
    int64_t calls;
} mb_out;

typedef struct mb_cfg {
    int64_t k, threads, seed, n_init, max_iter, batch, no_impr;
    int algorithm, init;
    double tol, ratio;
} mb_cfg;

static int count_calls(void *user, int64_t run, int64_t it, double inertia)
{
    (void)run;
    (void)it;
    (void)inertia;
    ++*(int64_t *)user;
    return 0;
}

static void fit(const gen_data *g, const mb_cfg *cf, mb_out *o)
{
    memset(o, 0, sizeof *o);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, cf->k));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, cf->seed));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, cf->n_init ? cf->n_init : 1));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, cf->init));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM,
                                    cf->algorithm ? cf->algorithm : STRATA_ALGO_MINIBATCH));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, cf->threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, cf->max_iter ? cf->max_iter : 100));
    if (cf->batch)
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, cf->batch));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, cf->no_impr));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, cf->tol));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO, cf->ratio));
    ASSERT_OK(strata_kmeans_set_progress(km, count_calls, &o->calls));
    ASSERT_OK(strata_kmeans_fit(km, g->dtype, g->x, g->n, g->d, g->stride, g->w));
    o->labels = test_alloc((size_t)g->n, sizeof(int32_t));
    o->c = test_alloc((size_t)(cf->k * g->d), sizeof(double));
    ASSERT_OK(strata_kmeans_labels(km, o->labels, g->n));
    ASSERT_OK(strata_kmeans_centroids(km, o->c, cf->k, g->d));
    o->inertia = result_inertia(km);
    o->steps = result_int(km, STRATA_KMEANS_RESULT_N_ITER);
    o->converged = result_int(km, STRATA_KMEANS_RESULT_CONVERGED);
    o->algorithm = result_int(km, STRATA_KMEANS_RESULT_ALGORITHM);
    strata_kmeans_free(km);
}

static void out_free(mb_out *o)
{
    free(o->labels);
    free(o->c);
    memset(o, 0, sizeof *o);
}

/* The defaults of scikit-learn's MiniBatchKMeans, seeded by k-means++. */
static mb_cfg defaults(int64_t k, int64_t seed)
{
    return (mb_cfg){.k = k, .seed = seed, .n_init = 3, .max_iter = 100, .batch = 1024,
                    .no_impr = 10, .tol = 0.0, .ratio = 0.01, .init = STRATA_INIT_KMEANSPP};
}

static void test_threads_bitwise(void)
{
    const int dtypes[2] = {STRATA_FLOAT32, STRATA_FLOAT64};
    const int64_t batches[3] = {256, 1024, 10000}; /* 10000: three chunks, in parallel */
    int cases = 0;
    for (int dt = 0; dt < 2; dt++)
        for (int weighted = 0; weighted < 2; weighted++)
            for (int b = 0; b < 3; b++) {
                gen_data g;
                gen_blobs(&g, 11 + (uint64_t)(dt * 7 + weighted * 3 + b), dtypes[dt], 12000, 5, 5,
                          7, 3.0, 1.0, 2.0, weighted);
                mb_cfg cf = defaults(6, 5 + b);
                cf.batch = batches[b];
                cf.n_init = b == 1 ? 1 : 3;
                cf.tol = b == 2 ? 1e-3 : 0.0;
                cf.init = b == 2 ? STRATA_INIT_KMEANS_PARALLEL : STRATA_INIT_KMEANSPP;
                mb_out ref;
                cf.threads = 1;
                fit(&g, &cf, &ref);
                ASSERT_EQ_INT(ref.algorithm, STRATA_ALGO_MINIBATCH);
                for (int64_t th = 2; th <= 3; th++) {
                    mb_out o;
                    cf.threads = th;
                    fit(&g, &cf, &o);
                    ASSERT_MSG(!memcmp(o.labels, ref.labels, (size_t)g.n * sizeof(int32_t)),
                               "labels differ at %lld threads (dtype %d, weighted %d, batch %lld)",
                               (long long)th, dtypes[dt], weighted, (long long)cf.batch);
                    ASSERT_MSG(!memcmp(o.c, ref.c, (size_t)(cf.k * g.d) * sizeof(double)),
                               "centroids differ at %lld threads", (long long)th);
                    ASSERT_TRUE(!memcmp(&o.inertia, &ref.inertia, sizeof(double)));
                    ASSERT_EQ_INT(o.steps, ref.steps);
                    ASSERT_EQ_INT(o.converged, ref.converged);
                    out_free(&o);
                }
                out_free(&ref);
                gen_free(&g);
                cases++;
            }
    ASSERT_EQ_INT(cases, 12);
}

/* The inertia reported is that of the labels and centroids reported, and
 * every label is a nearest centroid (up to float32 rounding of the kernel). */
static void check_consistent(const gen_data *g, const mb_out *o, int64_t k)
{
    ref_data R = gen_ref(g);
    double in = ref_inertia(&R, o->c, o->labels);
    ASSERT_REL(o->inertia, in, inertia_rtol(g->dtype) * 10);
    for (int64_t i = 0; i < g->n; i++) {
        double best;
        ref_nearest(&R, i, o->c, k, &best, NULL);
        double mine = ref_dist2(&R, i, o->c + (int64_t)o->labels[i] * g->d);
        ASSERT_MSG(mine <= best * (1 + 1e-4) + 1e-9, "row %lld: label %d is not a nearest centroid",
                   (long long)i, o->labels[i]);
    }
}

static void test_separated_blobs_exact(void)
{
    const int dtypes[2] = {STRATA_FLOAT32, STRATA_FLOAT64};
    for (int dt = 0; dt < 2; dt++)
        for (int64_t seed = 1; seed <= 4; seed++) {
            gen_data g;
            separated_blobs(&g, 100 + (uint64_t)seed, dtypes[dt], 20000, 3, 6, 1.0, seed == 2);
            mb_cfg cf = defaults(6, seed);
            mb_out o;
            fit(&g, &cf, &o);
            /* labels <-> blobs must be a bijection */
            int32_t map[6], back[6];
            for (int j = 0; j < 6; j++)
                map[j] = back[j] = -1;
            for (int64_t i = 0; i < g.n; i++) {
                int32_t b = g.blob[i], l = o.labels[i];
                if (map[b] < 0 && back[l] < 0) {
                    map[b] = l;
                    back[l] = b;
                }
                ASSERT_MSG(map[b] == l, "seed %lld dtype %d: row %lld of blob %d labelled %d, "
                           "blob %d is cluster %d", (long long)seed, dtypes[dt], (long long)i, b,
                           l, b, map[b]);
            }
            check_consistent(&g, &o, 6);
            ASSERT_TRUE(o.converged == 1); /* max_no_improvement stops it early */
            ASSERT_TRUE(o.steps < 100 * 20000 / 1024);
            out_free(&o);
            gen_free(&g);
        }
}

static void test_inertia_near_lloyd(void)
{
    /* separated (sd 1) and overlapping (sd 4, centres 30 apart x random) */
    const double sds[2] = {1.0, 6.0}, tol[2] = {0.01, 0.05};
    for (int s = 0; s < 2; s++)
        for (int64_t seed = 1; seed <= 3; seed++) {
            gen_data g;
            separated_blobs(&g, 200 + (uint64_t)seed, STRATA_FLOAT64, 30000, 4, 8, sds[s], 0);
            mb_cfg cf = defaults(8, seed);
            mb_out mb, ex;
            fit(&g, &cf, &mb);
            mb_cfg lc = cf;
            lc.algorithm = STRATA_ALGO_LLOYD;
            lc.max_iter = 300;
            lc.tol = 1e-4;
            fit(&g, &lc, &ex);
            ASSERT_EQ_INT(ex.algorithm, STRATA_ALGO_LLOYD);
            check_consistent(&g, &mb, 8);
            fprintf(stderr, "  sd %g seed %lld: inertia mini-batch / Lloyd = %.5f (%lld steps)\n",
                    sds[s], (long long)seed, mb.inertia / ex.inertia, (long long)mb.steps);
            ASSERT_MSG(mb.inertia <= ex.inertia * (1.0 + tol[s]) &&
                       mb.inertia >= ex.inertia * (1.0 - tol[s]),
                       "sd %g seed %lld: mini-batch inertia %.6g vs Lloyd %.6g", sds[s],
                       (long long)seed, mb.inertia, ex.inertia);
            out_free(&mb);
            out_free(&ex);
            gen_free(&g);
        }
}

static void test_steps(void)
{
    gen_data g;
    gen_blobs(&g, 9, STRATA_FLOAT32, 5000, 3, 3, 4, 4.0, 1.0, 0.0, 0);
    mb_cfg cf = defaults(4, 3);
    cf.no_impr = 0;
    cf.max_iter = 3;
    cf.batch = 128;
    mb_out o;
    fit(&g, &cf, &o);
    ASSERT_EQ_INT(o.steps, 3 * 5000 / 128);
    ASSERT_EQ_INT(o.converged, 0);
    ASSERT_EQ_INT(o.calls, o.steps);
    out_free(&o);
    cf.batch = 1000000; /* more than n: n */
    cf.max_iter = 4;
    fit(&g, &cf, &o);
    ASSERT_EQ_INT(o.steps, 4);
    ASSERT_EQ_INT(o.converged, 0);
    check_consistent(&g, &o, 4);
    out_free(&o);
    /* tol stops it early; so does max_no_improvement */
    cf = defaults(4, 3);
    cf.no_impr = 0;
    cf.tol = 0.01;
    cf.batch = 256;
    fit(&g, &cf, &o);
    ASSERT_EQ_INT(o.converged, 1);
    ASSERT_TRUE(o.steps >= 2 && o.steps < 100 * 5000 / 256);
    out_free(&o);
    cf = defaults(4, 3);
    cf.batch = 256;
    fit(&g, &cf, &o);
    ASSERT_EQ_INT(o.converged, 1);
    ASSERT_TRUE(o.steps >= 12 && o.steps < 100 * 5000 / 256); /* first + 10 without improvement */
    out_free(&o);
    /* given centroids, reassignment off, random init: all run */
    cf = defaults(4, 3);
    cf.init = STRATA_INIT_RANDOM;
    cf.ratio = 0.0;
    fit(&g, &cf, &o);
    check_consistent(&g, &o, 4);
    out_free(&o);
    gen_free(&g);
}

static void test_given_centroids(void)
{
    gen_data g;
    separated_blobs(&g, 31, STRATA_FLOAT64, 8000, 2, 3, 1.0, 0);
    strata_kmeans *km = test_new_kmeans();
    const double init[6] = {1, 1, 25, 0, 70, 2};
    ASSERT_OK(strata_kmeans_set_init_centroids(km, init, 3, 2));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, STRATA_ALGO_MINIBATCH));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 3));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
    double c[6];
    ASSERT_OK(strata_kmeans_centroids(km, c, 3, 2));
    for (int j = 0; j < 3; j++) /* each ends near the blob it started by */
        ASSERT_MSG(fabs(c[j * 2] - 30.0 * j) < 0.5, "centroid %d at %g", j, c[j * 2]);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_ALGORITHM), STRATA_ALGO_MINIBATCH);
    strata_kmeans_free(km);
    gen_free(&g);
}

static void test_params(void)
{
    strata_kmeans *km = test_new_kmeans();
    int64_t v = -1;
    double dv = -1;
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_BATCH_SIZE, &v));
    ASSERT_EQ_INT(v, 1024);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, &v));
    ASSERT_EQ_INT(v, 10);
    ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO, &dv));
    ASSERT_TRUE(dv == 0.01);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, STRATA_ALGO_MINIBATCH));
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_ALGORITHM, &v));
    ASSERT_EQ_INT(v, STRATA_ALGO_MINIBATCH);
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, 5), STRATA_E_PARAM);

    const int64_t bad_batch[3] = {0, -1, INT64_MIN};
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, 7));
    for (int i = 0; i < 3; i++) {
        ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, bad_batch[i]),
                      STRATA_E_PARAM);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "batch_size");
    }
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_BATCH_SIZE, &v));
    ASSERT_EQ_INT(v, 7);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, 0));
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, -1), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "max_no_improvement");
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, &v));
    ASSERT_EQ_INT(v, 0);

    const double bad_ratio[4] = {-0.5, NAN, INFINITY, -INFINITY};
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO, 0.25));
    for (int i = 0; i < 4; i++) {
        ASSERT_STATUS(strata_kmeans_set_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO, bad_ratio[i]),
                      STRATA_E_PARAM);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "reassignment_ratio");
    }
    ASSERT_OK(strata_kmeans_get_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO, &dv));
    ASSERT_TRUE(dv == 0.25);
    /* the wrong setter or getter */
    ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KMEANS_REASSIGNMENT_RATIO, 1), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_get_int(km, STRATA_KMEANS_REASSIGNMENT_RATIO, &v), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_set_double(km, STRATA_KMEANS_BATCH_SIZE, 8.0), STRATA_E_PARAM);
    ASSERT_STATUS(strata_kmeans_get_double(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT, &dv),
                  STRATA_E_PARAM);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_BATCH_SIZE, &v));
    ASSERT_EQ_INT(v, 7);
    /* the usual data checks still apply */
    const float x[4] = {0, 1, 2, NAN};
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT32, x, 4, 1, 0, NULL), STRATA_E_NONFINITE);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 5));
    ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT32, x, 3, 1, 0, NULL), STRATA_E_ARG);
    strata_kmeans_free(km);
}

int main(void)
{
    RUN_TEST(test_params);
    RUN_TEST(test_steps);
    RUN_TEST(test_given_centroids);
    RUN_TEST(test_separated_blobs_exact);
    RUN_TEST(test_inertia_near_lloyd);
    RUN_TEST(test_threads_bitwise);
    return test_summary();
}
