/* Peak memory of a fit (issue 10's goal: peak <= data + 25%, bounds included).
 *
 * Every allocation libstrata makes goes through a tracking allocator
 * (support/memtrack.h, installed with strata_set_allocator before any other
 * call), so the most the library holds at once during strata_kmeans_fit is
 * known exactly. The caller's data is not counted; the labels the model keeps
 * (n x int32, 4 bytes a row: 17% of 6 float32 features) are.
 *
 * What is checked, on 200000 x 6 float32 blobs, k = 8, from given centroids,
 * at 1 and 2 threads:
 *   - LLOYD: peak <= 25% of the data + FIXED (the goal), at k = 8 and
 *     k = 256: the labels (4 B/row) + the ordered reduction's partial sums
 *     for one batch of chunks (bounded, lib/core/parallel.c; one slot per
 *     chunk, 4 B/row at k = 256, d = 6, broke the goal there before)
 *     + O(threads x 256 x k) scratch;
 *   - HAMERLY: its documented bound (include/strata.h): labels + two bounds of
 *     the data's type per row (8 B/row for float32, 33% of these rows alone,
 *     so Hamerly cannot meet the 25% goal at d = 6: 12 B/row = 50% with the
 *     labels) + FIXED;
 *   - MINIBATCH: its documented bound: labels + 4 x batch_size rows + FIXED;
 *   - every peak holds at least the labels (the tracker sees the fit), and
 *     freeing the handle returns every byte (current back to its start).
 * Seeded fits (k-means++, k-means||, AFK-MC^2; Lloyd and Hamerly, 1 and 2
 * threads): regression guards at what the seeding holds today
 * (docs/performance.md, "Peak memory of a fit"):
 *   - k-means++ keeps float32 data's closest distances in float32 in the
 *     fit's labels array: nothing per row beyond the labels, so a default fit
 *     peaks where Lloyd does, within the 25% goal (about 18% here);
 *   - k-means|| holds n doubles (closest distances, exact) + a bitmap of n
 *     bits, its owners in the labels: 4 + 8.125 B/row = 51% (twice the goal);
 *   - AFK-MC^2 holds n doubles (the proposal's prefix sums): 4 + 8 B/row =
 *     50% (twice the goal);
 *   - Hamerly's bounds are allocated after the seeding, so a seeded Hamerly
 *     fit peaks at the larger of the seeding and the bounds, not their sum.
 * Besides FIXED, each thread holds a block of scores (256 rows x k floats:
 * 256 KiB at k = 256) whatever n is; the goal is about what grows with n, so
 * the Lloyd checks allow that per-thread block on top. */
#include "check.h"
#include "memtrack.h"

#define N 200000
#define D 6
#define K 8
#define K_BIG 256 /* where the per-chunk partial sums alone used to break the goal */
#define BATCH 1024
/* Room for what does not grow with n: centroid tables, per-thread block
 * scratch (256 rows), the partial sums of 49 chunks, the handle's state. */
#define FIXED ((size_t)256 << 10)

static gen_data G;
static double INIT[K * D], INIT_BIG[K_BIG * D];

/* Peak bytes libstrata held during one fit beyond what it held before it;
 * checks the handle gives back everything when freed. init: a strata_init
 * value; with STRATA_INIT_CENTROIDS the k x D centroids given. */
static size_t fit_peak_with(int algorithm, int init, int64_t threads, int64_t k,
                            const double *centroids)
{
    size_t start = memtrack_current();
    strata_kmeans *km = NULL;
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
    if (init == STRATA_INIT_CENTROIDS)
        ASSERT_OK(strata_kmeans_set_init_centroids(km, centroids, k, D));
    else
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, algorithm));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 10)); /* memory does not grow with iterations */
    if (algorithm == STRATA_ALGO_MINIBATCH)
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, BATCH));
    size_t before = memtrack_current();
    memtrack_reset_peak();
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT32, G.x, N, D, 0, NULL));
    size_t peak = memtrack_peak() - before;
    int64_t used = -1;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &used));
    ASSERT_EQ_INT(used, algorithm);
    strata_kmeans_free(km);
    ASSERT_EQ_INT(memtrack_current(), start);
    const size_t labels = (size_t)N * sizeof(int32_t);
    ASSERT_MSG(peak >= labels, "peak %zu bytes < the labels' %zu: the tracker missed the fit", peak,
               labels);
    printf("  %s, %s, k = %lld, %lld thread(s): peak %zu bytes = %.3f x the data, %.2f bytes/row\n",
           algorithm == STRATA_ALGO_LLOYD ? "Lloyd" : algorithm == STRATA_ALGO_HAMERLY ? "Hamerly"
                                                                                    : "mini-batch",
           init == STRATA_INIT_CENTROIDS ? "given start" : init == STRATA_INIT_KMEANSPP ? "k-means++"
           : init == STRATA_INIT_KMEANS_PARALLEL ? "k-means||" : "AFK-MC^2",
           (long long)k, (long long)threads, peak, (double)peak / ((double)N * D * sizeof(float)),
           (double)peak / N);
    return peak;
}

static size_t fit_peak(int algorithm, int64_t threads, int64_t k, const double *init)
{
    return fit_peak_with(algorithm, STRATA_INIT_CENTROIDS, threads, k, init);
}

static size_t fit_peak_init(int algorithm, int init, int64_t threads)
{
    return fit_peak_with(algorithm, init, threads, K, NULL);
}

static void lloyd_within_goal(int64_t k, const double *init)
{
    const size_t data = (size_t)N * D * sizeof(float);
    for (int64_t threads = 1; threads <= 2; threads++) {
        size_t peak = fit_peak(STRATA_ALGO_LLOYD, threads, k, init);
        const size_t fixed = FIXED + (size_t)threads * 256 * (size_t)k * sizeof(float);
        ASSERT_MSG(peak <= data / 4 + fixed,
                   "Lloyd, k = %lld, at %lld threads: peak %zu > 25%% of %zu + %zu", (long long)k,
                   (long long)threads, peak, data, fixed);
    }
}

static void test_lloyd_within_goal(void)
{
    lloyd_within_goal(K, INIT);
}

/* k d + 2 k + 2 = 2050 doubles of partial sums per 4096-row chunk: 4 B/row if
 * every chunk kept its own slot; the ordered reduction now holds a bounded
 * batch of slots whatever n is. */
static void test_lloyd_within_goal_k256(void)
{
    lloyd_within_goal(K_BIG, INIT_BIG);
}

static void test_hamerly_documented(void)
{
    const size_t bound = (size_t)N * (sizeof(int32_t) + 2 * sizeof(float));
    for (int64_t threads = 1; threads <= 2; threads++) {
        size_t peak = fit_peak(STRATA_ALGO_HAMERLY, threads, K, INIT);
        ASSERT_MSG(peak <= bound + FIXED, "Hamerly at %lld threads: peak %zu > %zu (12 B/row) + %zu",
                   (long long)threads, peak, bound, FIXED);
    }
}

static void test_minibatch_documented(void)
{
    const size_t bound = (size_t)N * sizeof(int32_t) + (size_t)4 * BATCH * D * sizeof(float);
    for (int64_t threads = 1; threads <= 2; threads++) {
        size_t peak = fit_peak(STRATA_ALGO_MINIBATCH, threads, K, INIT);
        ASSERT_MSG(peak <= bound + FIXED, "mini-batch at %lld threads: peak %zu > %zu + %zu",
                   (long long)threads, peak, bound, FIXED);
    }
}

/* Seeded fits: at most labels + the seeding's per-row scratch (or Hamerly's
 * bounds, whichever is larger: they no longer overlap) + FIXED. */
static void test_seeded(void)
{
    const size_t data = (size_t)N * D * sizeof(float), labels = (size_t)N * sizeof(int32_t);
    const size_t bounds = (size_t)N * 2 * sizeof(float);
    const struct {
        int init;
        size_t scratch; /* per-row bytes the seeding holds beyond the labels */
    } cases[] = {
        {STRATA_INIT_KMEANSPP, 0},
        {STRATA_INIT_KMEANS_PARALLEL, (size_t)N * sizeof(double) + (size_t)(N + 63) / 64 * 8},
        {STRATA_INIT_AFKMC2, (size_t)N * sizeof(double)},
    };
    for (size_t m = 0; m < sizeof cases / sizeof cases[0]; m++)
        for (int64_t threads = 1; threads <= 2; threads++) {
            size_t peak = fit_peak_init(STRATA_ALGO_LLOYD, cases[m].init, threads);
            ASSERT_MSG(peak <= labels + cases[m].scratch + FIXED,
                       "init %d, Lloyd, %lld threads: peak %zu > %zu + %zu + %zu", cases[m].init,
                       (long long)threads, peak, labels, cases[m].scratch, FIXED);
            if (cases[m].init == STRATA_INIT_KMEANSPP) /* the default fit meets the goal */
                ASSERT_MSG(peak <= data / 4 + FIXED,
                           "k-means++, %lld threads: peak %zu > 25%% of %zu + %zu",
                           (long long)threads, peak, data, FIXED);
            size_t big = cases[m].scratch > bounds ? cases[m].scratch : bounds;
            peak = fit_peak_init(STRATA_ALGO_HAMERLY, cases[m].init, threads);
            ASSERT_MSG(peak <= labels + big + FIXED,
                       "init %d, Hamerly, %lld threads: peak %zu > %zu + %zu + %zu (overlap?)",
                       cases[m].init, (long long)threads, peak, labels, big, FIXED);
        }
}

int main(void)
{
    if (memtrack_install()) { /* before any other libstrata call */
        fprintf(stderr, "strata_set_allocator failed\n");
        return 1;
    }
    gen_blobs(&G, 2024, STRATA_FLOAT32, N, D, D, 16, 10.0, 1.0, 0.0, 0);
    test_rng r;
    rng_seed(&r, 7);
    gen_pick_rows(&G, &r, K, INIT);
    gen_pick_rows(&G, &r, K_BIG, INIT_BIG);
    RUN_TEST(test_lloyd_within_goal);
    RUN_TEST(test_lloyd_within_goal_k256);
    RUN_TEST(test_hamerly_documented);
    RUN_TEST(test_minibatch_documented);
    RUN_TEST(test_seeded);
    gen_free(&G);
    return test_summary();
}
