/* Seeding methods (STRATA_INIT_KMEANSPP, RANDOM, KMEANS_PARALLEL, AFKMC2):
 * the same centroids for any thread count, rows of weight > 0 only, k = 1,
 * k = every distinct row, duplicates with STRATA_KMEANS_ALLOW_TOO_FEW, and
 * well-separated blobs each found by one centroid for several seeds. */
#include <math.h>
#include <string.h>

#include "ref.h"
#include "test.h"

static const int INITS[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_RANDOM, STRATA_INIT_KMEANS_PARALLEL,
                            STRATA_INIT_AFKMC2};
#define NINITS 4

/* Fit with init, seed, threads, max_iter; centroids (k x d) and labels (n, or NULL). */
static int fit(int init, int64_t k, int64_t seed, int64_t threads, int64_t max_iter, int allow_few,
               int dtype, const void *x, int64_t n, int64_t d, const double *w, double *c,
               int32_t *labels, double *inertia)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALLOW_TOO_FEW, allow_few));
    int st = strata_kmeans_fit(km, dtype, x, n, d, 0, w);
    if (!st) {
        ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
        if (labels)
            ASSERT_OK(strata_kmeans_labels(km, labels, n));
        if (inertia)
            ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, inertia));
    }
    strata_kmeans_free(km);
    return st;
}

/* Bitwise the same centroids and labels for 1, 2 and 3 threads, float32 and
 * float64, weighted and not, on data spanning many chunks. */
static void test_threads(void)
{
    const int64_t n = 70001, d = 5, k = 23;
    double *c1 = test_alloc((size_t)(k * d), sizeof(double));
    double *ct = test_alloc((size_t)(k * d), sizeof(double));
    int32_t *l1 = test_alloc((size_t)n, sizeof(int32_t)), *lt = test_alloc((size_t)n, sizeof(int32_t));
    for (int dt = 0; dt < 2; dt++)
        for (int weighted = 0; weighted < 2; weighted++) {
            gen_data g;
            gen_blobs(&g, 11 + (uint64_t)weighted, dt ? STRATA_FLOAT32 : STRATA_FLOAT64, n, d, d, 9,
                      10.0, 1.0, 0.0, weighted);
            for (int m = 0; m < NINITS; m++) {
                ASSERT_OK(fit(INITS[m], k, 5, 1, 2, 0, g.dtype, g.x, n, d, g.w, c1, l1, NULL));
                for (int64_t th = 2; th <= 3; th++) {
                    ASSERT_OK(fit(INITS[m], k, 5, th, 2, 0, g.dtype, g.x, n, d, g.w, ct, lt, NULL));
                    ASSERT_MSG(!memcmp(c1, ct, sizeof(double) * (size_t)(k * d)) &&
                                   !memcmp(l1, lt, sizeof(int32_t) * (size_t)n),
                               "init %d, dtype %d, weighted %d: %lld threads differ from 1",
                               INITS[m], dt, weighted, (long long)th);
                }
            }
            gen_free(&g);
        }
    free(c1);
    free(ct);
    free(l1);
    free(lt);
}

/* k = the number of distinct rows of weight > 0, among rows of weight 0 far
 * away and duplicates: the start must be exactly those rows (one iteration
 * then leaves every centroid on its row, up to the rounding of a weighted
 * mean of equal rows); also k = n. */
static void test_every_row(void)
{
    const int64_t m = 40, n = 3 * m + 20, d = 3;
    double *x = test_alloc((size_t)(n * d), sizeof(double)), *w = test_alloc((size_t)n, sizeof(double));
    test_rng r;
    rng_seed(&r, 3);
    for (int64_t i = 0; i < m; i++)
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = rng_normal(&r);
    for (int64_t i = m; i < 3 * m; i++) /* duplicates of the first m */
        memcpy(x + i * d, x + (i % m) * d, sizeof(double) * (size_t)d);
    for (int64_t i = 0; i < n; i++)
        w[i] = i < 3 * m ? 0.5 + rng_uniform(&r) : 0.0;
    for (int64_t i = 3 * m; i < n; i++) /* weight 0, far away */
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = 1e3 + rng_normal(&r);
    double *c = test_alloc((size_t)(n * d), sizeof(double)), inertia;
    for (int mi = 0; mi < NINITS; mi++)
        for (int64_t seed = 0; seed < 4; seed++) {
            if (INITS[mi] == STRATA_INIT_RANDOM) /* distinct row indices, not values */
                continue;
            ASSERT_OK(fit(INITS[mi], m, seed, 2, 1, 0, STRATA_FLOAT64, x, n, d, w, c, NULL, &inertia));
            /* weighted means of equal rows: equal up to rounding */
            ASSERT_MSG(inertia < 1e-20, "init %d seed %lld: inertia %g", INITS[mi], (long long)seed, inertia);
            int used[40] = {0};
            for (int64_t j = 0; j < m; j++) {
                int64_t hit = -1;
                for (int64_t i = 0; i < m; i++) {
                    double e = 0.0;
                    for (int64_t f = 0; f < d; f++)
                        e = fmax(e, fabs(c[j * d + f] - x[i * d + f]));
                    if (e < 1e-12)
                        hit = i;
                }
                ASSERT_MSG(hit >= 0 && !used[hit], "init %d: centroid %lld is not a distinct row of weight > 0",
                           INITS[mi], (long long)j);
                used[hit] = 1;
            }
            /* k = n, unweighted, all distinct */
            ASSERT_OK(fit(INITS[mi], m, seed, 1, 1, 0, STRATA_FLOAT64, x, m, d, NULL, c, NULL, &inertia));
            ASSERT_MSG(inertia == 0.0, "k = n, init %d: inertia %g", INITS[mi], inertia);
        }
    /* three distinct points repeated, k = 5: too few unless allowed, then
     * the three points are among the centroids */
    for (int mi = 0; mi < NINITS; mi++) {
        double *x3 = test_alloc(30 * (size_t)d, sizeof(double));
        for (int64_t i = 0; i < 30; i++)
            memcpy(x3 + i * d, x + (i % 3) * d, sizeof(double) * (size_t)d);
        ASSERT_STATUS(fit(INITS[mi], 5, 1, 1, 1, 0, STRATA_FLOAT64, x3, 30, d, NULL, c, NULL, NULL),
                      STRATA_E_TOO_FEW);
        ASSERT_OK(fit(INITS[mi], 5, 1, 2, 1, 1, STRATA_FLOAT64, x3, 30, d, NULL, c, NULL, &inertia));
        if (INITS[mi] == STRATA_INIT_RANDOM) { /* row indices: may repeat a point */
            free(x3);
            continue;
        }
        ASSERT_MSG(inertia < 1e-20, "duplicates, init %d: inertia %g", INITS[mi], inertia);
        for (int64_t p = 0; p < 3; p++) {
            int found = 0;
            for (int64_t j = 0; j < 5; j++)
                found |= fabs(c[j * d] - x3[p * d]) + fabs(c[j * d + 1] - x3[p * d + 1]) +
                             fabs(c[j * d + 2] - x3[p * d + 2]) < 1e-12;
            ASSERT_MSG(found, "duplicates, init %d: point %lld not a centroid", INITS[mi], (long long)p);
        }
        free(x3);
    }
    free(x);
    free(w);
    free(c);
}

/* k = 1: one row of weight > 0 to start; Lloyd then lands on the weighted mean. */
static void test_k1(void)
{
    const int64_t n = 9000, d = 2;
    gen_data g;
    gen_blobs(&g, 5, STRATA_FLOAT64, n, d, d, 3, 5.0, 1.0, 0.0, 1);
    ref_data R = gen_ref(&g);
    double mean[2], c[2];
    ref_weighted_mean(&R, mean);
    for (int mi = 0; mi < NINITS; mi++) {
        ASSERT_OK(fit(INITS[mi], 1, 9, 2, 10, 0, g.dtype, g.x, n, d, g.w, c, NULL, NULL));
        ASSERT_NEAR(c[0], mean[0], 1e-9);
        ASSERT_NEAR(c[1], mean[1], 1e-9);
    }
    gen_free(&g);
}

/* Eight tight blobs 100 apart: every method puts one centroid in each blob
 * (after one iteration every blob is one cluster), for several seeds. A
 * seeding that ignored D^2 sampling (k-means|| rounds, say) would miss a
 * blob for some seed: random rows do, and are the control. */
static void test_blobs(void)
{
    const int64_t nb = 8, per = 2000, n = nb * per, d = 3;
    float *x = test_alloc((size_t)(n * d), sizeof(float));
    int32_t *lab = test_alloc((size_t)n, sizeof(int32_t));
    double c[8 * 3];
    test_rng r;
    rng_seed(&r, 17);
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = (float)(100.0 * (double)((i % nb) >> f & 1) * (f == 0 ? 1 : 1.5) +
                                   (f == 2 ? 50.0 * (double)(i % nb >= 4) : 0.0) + rng_normal(&r));
    int random_missed = 0;
    for (int mi = 0; mi < NINITS; mi++)
        for (int64_t seed = 0; seed < 8; seed++) {
            ASSERT_OK(fit(INITS[mi], nb, seed, 2, 1, 0, STRATA_FLOAT32, x, n, d, NULL, c, lab, NULL));
            int32_t of[8];
            int ok = 1;
            for (int64_t b = 0; b < nb; b++)
                of[b] = lab[b];
            for (int64_t i = 0; i < n; i++)
                ok &= lab[i] == of[i % nb];
            for (int64_t a = 0; a < nb; a++)
                for (int64_t b = a + 1; b < nb; b++)
                    ok &= of[a] != of[b];
            if (INITS[mi] == STRATA_INIT_RANDOM)
                random_missed |= !ok;
            else
                ASSERT_MSG(ok, "init %d seed %lld: some blob has no centroid of its own", INITS[mi],
                           (long long)seed);
        }
    ASSERT_MSG(random_missed, "the control (random rows) found every blob for every seed: the test "
                              "cannot tell D^2 seeding from random");
    free(x);
    free(lab);
}

/* The progress callback's first report: the inertia of the initial centroids. */
static int first_inertia(void *user, int64_t run, int64_t iteration, double inertia)
{
    if (run == 0 && iteration == 1)
        *(double *)user = inertia;
    return 0;
}

/* AFK-MC^2 with a point the chains almost never propose: 3 points repeated
 * 3333 times each and one row 1e-3 from the first (q about 5e-5, so the
 * last chain of 200 draws misses it ~99% of the time and ends on a centre).
 * k = 4 distinct points: that chain must give way to the exact w D^2 draw,
 * so for every seed the initial centroids are the four points (inertia of
 * the start exactly 0, seen through the progress callback, since Lloyd
 * would relocate a duplicate centroid's empty cluster). With k = 5 the
 * points are too few: STRATA_E_TOO_FEW, or the first centroid repeated when
 * allowed. */
static void test_afkmc2_rare_point(void)
{
    const int64_t n = 10000, d = 2;
    double *x = test_alloc((size_t)(n * d), sizeof(double)), c[5 * 2], inertia;
    for (int64_t i = 0; i < n - 1; i++) {
        x[i * d] = 10.0 * (double)(i % 3);
        x[i * d + 1] = i % 3 == 2 ? 7.0 : 0.0;
    }
    x[(n - 1) * d] = 1e-3;
    x[(n - 1) * d + 1] = 0.0;
    for (int64_t seed = 0; seed < 6; seed++) {
        strata_kmeans *km = test_new_kmeans();
        double start = -1.0;
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 4));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_AFKMC2));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 1 + seed % 2));
        ASSERT_OK(strata_kmeans_set_progress(km, first_inertia, &start));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, n, d, 0, NULL));
        ASSERT_MSG(start == 0.0, "seed %lld: the start's inertia is %g, a point has no centroid",
                   (long long)seed, start);
        strata_kmeans_free(km);
    }
    ASSERT_STATUS(fit(STRATA_INIT_AFKMC2, 5, 0, 1, 1, 0, STRATA_FLOAT64, x, n, d, NULL, c, NULL, NULL),
                  STRATA_E_TOO_FEW);
    ASSERT_OK(fit(STRATA_INIT_AFKMC2, 5, 0, 2, 1, 1, STRATA_FLOAT64, x, n, d, NULL, c, NULL, &inertia));
    ASSERT_MSG(inertia == 0.0, "k = 5 allowed: inertia %g", inertia);
    for (int64_t f = 0; f < d; f++)
        ASSERT_MSG(c[4 * d + f] == c[f], "k = 5 allowed: the last centroid is not the first repeated");
    free(x);
}

/* Mean inertia after Lloyd over 24 seeds: AFK-MC^2 against greedy k-means++,
 * on 10 overlapping blobs with k = 20. AFK-MC^2 (which approximates plain
 * k-means++ sampling, not the greedy rule) must come within 3% (it was 1%
 * when written); random rows are the control and must not (they were 4.8%
 * worse), else the data could not tell the seedings apart. */
static void test_afkmc2_inertia(void)
{
    const int64_t n = 6000, d = 2, k = 20, seeds = 24;
    gen_data g;
    gen_blobs(&g, 29, STRATA_FLOAT64, n, d, d, 10, 6.0, 1.0, 0.0, 0);
    double *c = test_alloc((size_t)(k * d), sizeof(double));
    double mean[3] = {0, 0, 0};
    const int inits[3] = {STRATA_INIT_KMEANSPP, STRATA_INIT_AFKMC2, STRATA_INIT_RANDOM};
    for (int mi = 0; mi < 3; mi++)
        for (int64_t seed = 0; seed < seeds; seed++) {
            double in;
            ASSERT_OK(fit(inits[mi], k, seed, 1, 300, 0, g.dtype, g.x, n, d, NULL, c, NULL, &in));
            mean[mi] += in / (double)seeds;
        }
    printf("  mean inertia: k-means++ %.6g, AFK-MC2 %.6g, random %.6g\n", mean[0], mean[1], mean[2]);
    ASSERT_MSG(mean[1] <= 1.03 * mean[0], "AFK-MC2 mean inertia %g vs k-means++ %g", mean[1], mean[0]);
    ASSERT_MSG(mean[2] > 1.03 * mean[0], "control: random rows %g within 3%% of k-means++ %g", mean[2],
               mean[0]);
    gen_free(&g);
    free(c);
}

/* The chain length is used: m = 1 (the proposal alone) and m = 200 start
 * from different centroids for some seed, while the same m and seed repeat
 * bitwise. */
static void test_afkmc2_chain_length(void)
{
    const int64_t n = 5000, d = 2, k = 10;
    gen_data g;
    gen_blobs(&g, 7, STRATA_FLOAT64, n, d, d, 10, 10.0, 1.0, 0.0, 0);
    double a[20], b[20];
    int differ = 0;
    for (int64_t seed = 0; seed < 4; seed++) {
        double *out[2] = {a, b};
        for (int r = 0; r < 2; r++) {
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_AFKMC2));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 1));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_CHAIN_LENGTH, r ? 200 : 1));
            ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, n, d, 0, NULL));
            ASSERT_OK(strata_kmeans_centroids(km, out[r], k, d));
            strata_kmeans_free(km);
        }
        differ |= memcmp(a, b, sizeof a) != 0;
        double again[20];
        ASSERT_OK(fit(STRATA_INIT_AFKMC2, k, seed, 2, 1, 0, g.dtype, g.x, n, d, NULL, again, NULL, NULL));
        ASSERT_MSG(!memcmp(again, b, sizeof b), "seed %lld: default chain length is not 200", (long long)seed);
    }
    ASSERT_MSG(differ, "chain length 1 and 200 gave the same centroids for every seed");
    gen_free(&g);
}

int main(void)
{
    RUN_TEST(test_threads);
    RUN_TEST(test_every_row);
    RUN_TEST(test_k1);
    RUN_TEST(test_blobs);
    RUN_TEST(test_afkmc2_rare_point);
    RUN_TEST(test_afkmc2_inertia);
    RUN_TEST(test_afkmc2_chain_length);
    return test_summary();
}
