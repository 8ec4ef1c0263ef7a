/* libstrata's Lloyd iterations against the brute-force double reference
 * (support/ref.c) on random cases, and the random initialisations
 * (k-means++, random rows, n_init) checked for validity and reproducibility.
 *
 * Labels must be identical to the reference. The library computes distances
 * in the element type of the data, so a row whose two nearest centroids are
 * tied to within rounding may legitimately go either way: such cases are
 * detected by the reference (ref_well_conditioned) and replaced by another
 * random case; the test prints how many were replaced. */
#include "check.h"

/* ---- random cases --------------------------------------------------------- */

typedef struct rcase {
    gen_data g;
    int64_t k;
    int64_t stride_arg; /* what is passed as row_stride (0 = d) */
    int assign;
    double *init;
    ref_fit ref[3]; /* tol 0, 1e-4, 1e-2 */
    int replaced;
} rcase;

#define N_TOLS 3
static const double CASE_TOLS[N_TOLS] = {0.0, 1e-4, 1e-2};

static void make_case(rcase *rc, int idx)
{
    memset(rc, 0, sizeof *rc);
    const int dtype = idx % 2 ? STRATA_FLOAT32 : STRATA_FLOAT64;
    const int weighted = (idx / 2) % 2;
    const int assigns[3] = {STRATA_ASSIGN_AUTO, STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};
    for (int attempt = 0; attempt < 200; attempt++) {
        test_rng r;
        rng_seed(&r, 7919u * (uint64_t)idx + 104729u * (uint64_t)attempt + 1);
        int64_t n = rng_int(&r, 200, 5000), d = rng_int(&r, 1, 40), k = rng_int(&r, 2, 40);
        /* pin the extremes on some cases */
        if (idx == 0) {
            d = 1;
            k = rng_int(&r, 2, 6);
        }
        if (idx == 1)
            n = 200;
        if (idx == 2) {
            n = 5000;
            d = 40;
            k = 40;
        }
        if (idx == 3)
            k = 40;
        int64_t stride = d, stride_arg = 0;
        if (idx % 3 == 1)
            stride_arg = d; /* explicit stride equal to d */
        if (idx % 3 == 2)
            stride = stride_arg = d + 1 + idx % 4; /* padded rows (NaN padding) */
        int64_t nblobs = 2 * k;
        double spread = 10.0 * pow((double)nblobs, 1.0 / (double)d);
        gen_blobs(&rc->g, 31 * (uint64_t)idx + 1000003u * (uint64_t)attempt, dtype, n, d, stride,
                  nblobs, spread, 1.0, 0.0, weighted);
        rc->init = test_alloc((size_t)(k * d), sizeof(double));
        gen_pick_rows(&rc->g, &r, k, rc->init);
        ref_data X = gen_ref(&rc->g);
        int ok = 1;
        for (int t = 0; t < N_TOLS; t++) {
            ok = ok && ref_lloyd(&X, rc->init, k, 300, CASE_TOLS[t], &rc->ref[t]) == 0 &&
                 ref_well_conditioned(&rc->ref[t], dtype);
        }
        if (ok) {
            rc->k = k;
            rc->stride_arg = stride_arg;
            rc->assign = assigns[(idx / 4) % 3];
            rc->replaced = attempt;
            return;
        }
        for (int t = 0; t < N_TOLS; t++)
            ref_fit_free(&rc->ref[t]);
        free(rc->init);
        gen_free(&rc->g);
    }
    TEST_FAIL("case %d: no well-conditioned random case in 200 attempts", idx);
}

static void free_case(rcase *rc)
{
    for (int t = 0; t < N_TOLS; t++)
        ref_fit_free(&rc->ref[t]);
    free(rc->init);
    gen_free(&rc->g);
}

static strata_kmeans *fit_case(const rcase *rc, double tol, int64_t max_iter, prog_log *log)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, tol));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, rc->assign));
    ASSERT_OK(strata_kmeans_set_init_centroids(km, rc->init, rc->k, rc->g.d));
    if (log) {
        memset(log, 0, sizeof *log);
        ASSERT_OK(strata_kmeans_set_progress(km, log_progress, log));
    }
    ASSERT_OK(strata_kmeans_fit(km, rc->g.dtype, rc->g.x, rc->g.n, rc->g.d, rc->stride_arg,
                                rc->g.w));
    return km;
}

#define N_CASES 16

static void test_random_cases_match_reference(void)
{
    static prog_log log;
    int replaced = 0;
    for (int idx = 0; idx < N_CASES; idx++) {
        rcase rc;
        make_case(&rc, idx);
        replaced += rc.replaced;
        fprintf(stderr,
                "  case %2d: %s n=%lld d=%lld k=%lld stride=%lld %s assign=%d iters(tol 0)=%lld "
                "iters(tol 1e-4)=%lld iters(tol 1e-2)=%lld\n",
                idx, rc.g.dtype == STRATA_FLOAT32 ? "float32" : "float64", (long long)rc.g.n,
                (long long)rc.g.d, (long long)rc.k, (long long)rc.g.stride,
                rc.g.w ? "weighted" : "unweighted", rc.assign, (long long)rc.ref[0].n_iter,
                (long long)rc.ref[1].n_iter, (long long)rc.ref[2].n_iter);
        for (int t = 0; t < N_TOLS; t++) {
            char what[64];
            snprintf(what, sizeof what, "case %d tol %g", idx, CASE_TOLS[t]);
            strata_kmeans *km = fit_case(&rc, CASE_TOLS[t], 300, &log);
            check_against_ref(km, &rc.g, &rc.ref[t], &log, default_tols(rc.g.dtype), what);
            strata_kmeans_free(km);
        }
        /* max_iter exactly the iterations needed: still converged */
        {
            char what[64];
            snprintf(what, sizeof what, "case %d max_iter = n_iter", idx);
            strata_kmeans *km = fit_case(&rc, 0.0, rc.ref[0].n_iter, &log);
            check_against_ref(km, &rc.g, &rc.ref[0], &log, default_tols(rc.g.dtype), what);
            strata_kmeans_free(km);
        }
        /* stopped by max_iter half way: not converged, labels from one more pass */
        if (rc.ref[0].n_iter >= 3) {
            int64_t mi = rc.ref[0].n_iter / 2;
            ref_fit part;
            ref_data X = gen_ref(&rc.g);
            ASSERT_TRUE(ref_lloyd(&X, rc.init, rc.k, mi, 0.0, &part) == 0);
            ASSERT_EQ_INT(part.converged, 0);
            char what[64];
            snprintf(what, sizeof what, "case %d max_iter %lld", idx, (long long)mi);
            strata_kmeans *km = fit_case(&rc, 0.0, mi, &log);
            check_against_ref(km, &rc.g, &part, &log, default_tols(rc.g.dtype), what);
            strata_kmeans_free(km);
            ref_fit_free(&part);
        }
        free_case(&rc);
    }
    fprintf(stderr, "  (%d random cases replaced for near-ties or empty clusters)\n", replaced);
}

/* ---- random initialisations ------------------------------------------------ */

/* Any fit must be a Lloyd fixed point of its own data: labels in range and
 * nearest (up to rounding), centroids the weighted means of their rows,
 * inertia the weighted sum of squared distances. */
static void check_valid_fit(strata_kmeans *km, const gen_data *g, int64_t k)
{
    const int64_t n = g->n, d = g->d;
    ref_data X = gen_ref(g);
    int32_t *lab = test_alloc((size_t)n, sizeof(int32_t));
    double *c = test_alloc((size_t)(k * d), sizeof(double));
    double *m = test_alloc((size_t)(k * d), sizeof(double));
    double *ws = test_alloc((size_t)k, sizeof(double));
    ASSERT_OK(strata_kmeans_labels(km, lab, n));
    ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
    double scale = 1.0;
    for (int64_t j = 0; j < k * d; j++) {
        ASSERT_TRUE(isfinite(c[j]));
        scale = fmax(scale, fabs(c[j]));
    }
    double u = g->dtype == STRATA_FLOAT32 ? 0x1p-24 : 0x1p-53;
    for (int64_t i = 0; i < n; i++) {
        ASSERT_MSG(lab[i] >= 0 && lab[i] < k, "label %d of row %lld out of range", lab[i],
                   (long long)i);
        double best, second;
        ref_nearest(&X, i, c, k, &best, &second);
        double mine = ref_dist2(&X, i, c + (int64_t)lab[i] * d);
        ASSERT_MSG(mine - best <= 256.0 * (double)(d + 4) * u * (mine + scale * scale * (double)d),
                   "row %lld labelled %d at %.17g, nearest is at %.17g", (long long)i, lab[i],
                   mine, best);
        double w = ref_weight(&X, i);
        ws[lab[i]] += w;
        for (int64_t f = 0; f < d; f++)
            m[lab[i] * d + f] += w * ref_at(&X, i, f);
    }
    for (int64_t j = 0; j < k; j++) {
        ASSERT_MSG(ws[j] > 0, "cluster %lld is empty", (long long)j);
        for (int64_t f = 0; f < d; f++)
            ASSERT_MSG(fabs(m[j * d + f] / ws[j] - c[j * d + f]) <= 1e-9 * scale,
                       "centroid %lld feature %lld is %.17g, the mean of its rows %.17g",
                       (long long)j, (long long)f, c[j * d + f], m[j * d + f] / ws[j]);
    }
    ASSERT_REL(result_inertia(km), ref_inertia(&X, c, lab), inertia_rtol(g->dtype));
    free(lab);
    free(c);
    free(m);
    free(ws);
}

/* Uniform data in a box: no structure, so starts matter. */
static void gen_uniform(gen_data *g, uint64_t seed, int dtype, int64_t n, int64_t d, int weighted)
{
    /* one blob with a huge spread and tiny sd is uniform data */
    gen_blobs(g, seed, dtype, n, d, d + 1, n, 10.0, 0.0, 0.0, weighted);
}

static strata_kmeans *fit_random_init(const gen_data *g, int init, int64_t k, int64_t seed,
                                      int64_t n_init, prog_log *log)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, seed));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, n_init));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
    if (log) {
        memset(log, 0, sizeof *log);
        ASSERT_OK(strata_kmeans_set_progress(km, log_progress, log));
    }
    ASSERT_OK(strata_kmeans_fit(km, g->dtype, g->x, g->n, g->d, g->stride, g->w));
    return km;
}

static void test_random_inits_valid(void)
{
    static prog_log log;
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int weighted = 0; weighted < 2; weighted++) {
            gen_data g;
            gen_uniform(&g, 40 + (uint64_t)(dt * 2 + weighted), dt, 3000, 3, weighted);
            ref_data X = gen_ref(&g);
            const int64_t k = 12;
            /* inertia of starting from k random rows (no Lloyd), the worst a
             * fit should ever be: the smallest over 10 draws */
            double *rows = test_alloc((size_t)(k * 3), sizeof(double));
            int32_t *lab = test_alloc((size_t)g.n, sizeof(int32_t));
            double best_random = INFINITY;
            test_rng r;
            rng_seed(&r, 99);
            for (int t = 0; t < 10; t++) {
                gen_pick_rows(&g, &r, k, rows);
                for (int64_t i = 0; i < g.n; i++)
                    lab[i] = ref_nearest(&X, i, rows, k, NULL, NULL);
                best_random = fmin(best_random, ref_inertia(&X, rows, lab));
            }
            for (int init = STRATA_INIT_KMEANSPP; init <= STRATA_INIT_RANDOM; init++)
                for (int64_t seed = 0; seed < 3; seed++) {
                    strata_kmeans *km = fit_random_init(&g, init, k, seed, 1, &log);
                    check_valid_fit(km, &g, k);
                    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_INIT), init);
                    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_SEED), seed);
                    double in = result_inertia(km);
                    ASSERT_MSG(in < best_random, "init %d seed %lld: inertia %.6g not below the "
                               "best of 10 random-row starts %.6g", init, (long long)seed, in,
                               best_random);
                    ASSERT_EQ_INT(log.calls, result_int(km, STRATA_KMEANS_RESULT_N_ITER));
                    for (int64_t t = 1; t < log.calls && t < LOG_CAP; t++)
                        ASSERT_TRUE(log.inertia[t] <=
                                    log.inertia[t - 1] * (1 + inertia_rtol(dt)));
                    /* the final inertia is that of the last pass (strict convergence) */
                    ASSERT_REL(in, log.inertia[log.calls - 1], inertia_rtol(dt));
                    strata_kmeans_free(km);
                }
            free(rows);
            free(lab);
            gen_free(&g);
        }
}

/* Same seed: bitwise the same model; other seeds: (usually) other models. */
static void test_seed_reproducible(void)
{
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        gen_data g;
        gen_uniform(&g, 7 + (uint64_t)dt, dt, 2500, 4, 1);
        const int64_t k = 9;
        for (int init = STRATA_INIT_KMEANSPP; init <= STRATA_INIT_RANDOM; init++)
            for (int64_t n_init = 1; n_init <= 3; n_init += 2) {
                double *c[4];
                int distinct = 0;
                for (int s = 0; s < 4; s++) {
                    strata_kmeans *a = fit_random_init(&g, init, k, 1000 + s, n_init, NULL);
                    strata_kmeans *b = fit_random_init(&g, init, k, 1000 + s, n_init, NULL);
                    double ca[36], cb[36], ia = result_inertia(a), ib = result_inertia(b);
                    int32_t *la = test_alloc((size_t)g.n, sizeof(int32_t));
                    int32_t *lb = test_alloc((size_t)g.n, sizeof(int32_t));
                    ASSERT_OK(strata_kmeans_centroids(a, ca, k, 4));
                    ASSERT_OK(strata_kmeans_centroids(b, cb, k, 4));
                    ASSERT_OK(strata_kmeans_labels(a, la, g.n));
                    ASSERT_OK(strata_kmeans_labels(b, lb, g.n));
                    ASSERT_TRUE(memcmp(ca, cb, sizeof ca) == 0);
                    ASSERT_TRUE(memcmp(la, lb, (size_t)g.n * sizeof(int32_t)) == 0);
                    ASSERT_TRUE(memcmp(&ia, &ib, sizeof ia) == 0);
                    ASSERT_EQ_INT(result_int(a, STRATA_KMEANS_RESULT_N_ITER),
                                  result_int(b, STRATA_KMEANS_RESULT_N_ITER));
                    c[s] = test_alloc(36, sizeof(double));
                    memcpy(c[s], ca, sizeof ca);
                    int same = 0;
                    for (int t = 0; t < s; t++)
                        same |= memcmp(c[t], ca, sizeof ca) == 0;
                    distinct += !same;
                    free(la);
                    free(lb);
                    strata_kmeans_free(a);
                    strata_kmeans_free(b);
                }
                ASSERT_MSG(distinct >= 2, "init %d n_init %lld: 4 seeds gave %d distinct models",
                           init, (long long)n_init, distinct);
                for (int s = 0; s < 4; s++)
                    free(c[s]);
            }
        gen_free(&g);
    }
}

/* n_init keeps the run of lowest inertia: with tol = 0 every run ends with
 * strict convergence, so the last progress inertia of each run is its final
 * inertia; the result must be the smallest, and its n_iter that run's. */
static void test_n_init_keeps_best(void)
{
    static prog_log log;
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int init = STRATA_INIT_KMEANSPP; init <= STRATA_INIT_RANDOM; init++) {
            gen_data g;
            gen_uniform(&g, 300 + (uint64_t)(dt * 3 + init), dt, 2000, 2, 1);
            const int64_t k = 10, runs = 4;
            for (int64_t seed = 0; seed < 3; seed++) {
                strata_kmeans *one = fit_random_init(&g, init, k, seed, 1, NULL);
                strata_kmeans *km = fit_random_init(&g, init, k, seed, runs, &log);
                check_valid_fit(km, &g, k);
                double last[8] = {0};
                int64_t iters[8] = {0}, prev_run = 0;
                ASSERT_TRUE(log.calls > 0 && log.calls < LOG_CAP);
                for (int64_t t = 0; t < log.calls; t++) {
                    int64_t run = log.run[t];
                    ASSERT_TRUE(run >= 0 && run < runs);
                    ASSERT_TRUE(run == prev_run || run == prev_run + 1);
                    prev_run = run;
                    ASSERT_EQ_INT(log.iteration[t], iters[run] + 1);
                    iters[run]++;
                    last[run] = log.inertia[t];
                }
                ASSERT_EQ_INT(prev_run, runs - 1);
                int64_t best = 0;
                for (int64_t r = 1; r < runs; r++)
                    if (last[r] < last[best])
                        best = r;
                double in = result_inertia(km);
                ASSERT_REL(in, last[best], inertia_rtol(dt));
                for (int64_t r = 0; r < runs; r++)
                    ASSERT_TRUE(in <= last[r] * (1 + inertia_rtol(dt)));
                ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), iters[best]);
                /* run 0 uses the same stream as a single run with this seed */
                ASSERT_TRUE(in <= result_inertia(one));
                ASSERT_REL(last[0], result_inertia(one), inertia_rtol(dt));
                strata_kmeans_free(one);
                strata_kmeans_free(km);
            }
            gen_free(&g);
        }
}

/* Given centroids: every restart starts from them, so n_init changes nothing. */
static void test_n_init_with_given_centroids(void)
{
    gen_data g;
    gen_uniform(&g, 5, STRATA_FLOAT64, 1000, 3, 0);
    test_rng r;
    rng_seed(&r, 5);
    double init[15];
    gen_pick_rows(&g, &r, 5, init);
    double c1[15], c3[15];
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_init_centroids(km, init, 5, 3));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, NULL));
    ASSERT_OK(strata_kmeans_centroids(km, c1, 5, 3));
    double i1 = result_inertia(km);
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 3));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 77));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, NULL));
    ASSERT_OK(strata_kmeans_centroids(km, c3, 5, 3));
    ASSERT_TRUE(memcmp(c1, c3, sizeof c1) == 0);
    ASSERT_TRUE(result_inertia(km) == i1);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_INIT), STRATA_INIT_CENTROIDS);
    strata_kmeans_free(km);
    gen_free(&g);
}

/* Well-separated blobs: k-means++ finds every blob, so its fit equals the
 * reference Lloyd from the true centres (up to the order of the clusters).
 * A far outlier of weight 0 must not be chosen as a centre. */
static void test_kmeanspp_finds_separated_blobs(void)
{
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int outlier = 0; outlier < 2; outlier++) {
            gen_data g;
            const int64_t k = 6, d = 4;
            gen_blobs(&g, 60 + (uint64_t)(dt * 2 + outlier), dt, 3000, d, d, k, 100.0, 1.0, 0.0,
                      1);
            /* blob centres must be far apart for "finds every blob" to hold */
            for (int64_t a = 0; a < k; a++)
                for (int64_t b = 0; b < a; b++) {
                    double s = 0;
                    for (int64_t f = 0; f < d; f++)
                        s += pow(g.centers[a * d + f] - g.centers[b * d + f], 2);
                    ASSERT_TRUE(sqrt(s) > 30.0);
                }
            if (outlier) {
                for (int64_t f = 0; f < d; f++)
                    gen_set(&g, 1234, f, 1e5);
                g.w[1234] = 0.0;
            }
            ref_data X = gen_ref(&g);
            ref_fit ref;
            ASSERT_TRUE(ref_lloyd(&X, g.centers, k, 300, 0.0, &ref) == 0);
            for (int64_t seed = 0; seed < 5; seed++) {
                static prog_log log;
                strata_kmeans *km = fit_random_init(&g, STRATA_INIT_KMEANSPP, k, seed, 1, &log);
                ASSERT_REL(result_inertia(km), ref.inertia, inertia_rtol(dt));
                /* the start itself covers every blob (a centre on the outlier
                 * would leave two blobs to one centre: ~40x the inertia) */
                ASSERT_MSG(log.inertia[0] < 4.0 * ref.inertia,
                           "seed %lld: inertia of the k-means++ start %.6g vs optimum %.6g",
                           (long long)seed, log.inertia[0], ref.inertia);
                int32_t *lab = test_alloc((size_t)g.n, sizeof(int32_t));
                ASSERT_OK(strata_kmeans_labels(km, lab, g.n));
                int32_t map[6] = {-1, -1, -1, -1, -1, -1};
                for (int64_t i = 0; i < g.n; i++) {
                    int32_t rl = ref.labels[i];
                    if (map[rl] < 0)
                        map[rl] = lab[i];
                    ASSERT_MSG(map[rl] == lab[i], "seed %lld: row %lld breaks the blob partition",
                               (long long)seed, (long long)i);
                }
                free(lab);
                strata_kmeans_free(km);
            }
            ref_fit_free(&ref);
            gen_free(&g);
        }
}

/* Random init draws rows of weight > 0 only (k-means++ too, as its D^2
 * sampling is weighted): with only 4 rows of positive weight and k = 4, the
 * start is exactly those rows, so the first pass has inertia 0, and so does
 * the fit. */
static void test_random_init_skips_zero_weights(void)
{
    gen_data g;
    gen_uniform(&g, 8, STRATA_FLOAT64, 500, 2, 1);
    const int64_t k = 4;
    for (int64_t i = 0; i < g.n; i++)
        g.w[i] = (i % 100 == 7) ? 1.0 : 0.0; /* rows 7, 107, 207, 307, 407: 5 rows */
    g.w[407] = 0.0;
    for (int init = STRATA_INIT_KMEANSPP; init <= STRATA_INIT_RANDOM; init++)
        for (int64_t seed = 0; seed < 4; seed++) {
            static prog_log log;
            strata_kmeans *km = fit_random_init(&g, init, k, seed, 1, &log);
            ASSERT_MSG(log.calls >= 1 && log.inertia[0] == 0.0,
                       "init %d seed %lld: the start has inertia %.6g: a row of weight 0 was "
                       "chosen", init, (long long)seed, log.inertia[0]);
            double c[8];
            ASSERT_OK(strata_kmeans_centroids(km, c, k, 2));
            /* each centroid is one of the 4 weighted rows, all different */
            int used[4] = {0};
            for (int64_t j = 0; j < k; j++) {
                int found = -1;
                for (int r = 0; r < 4; r++)
                    if (c[j * 2] == ((double *)g.x)[(7 + 100 * r) * g.stride] &&
                        c[j * 2 + 1] == ((double *)g.x)[(7 + 100 * r) * g.stride + 1])
                        found = r;
                ASSERT_MSG(found >= 0 && !used[found], "init %d seed %lld: centroid %lld is not "
                           "a distinct weighted row", init, (long long)seed, (long long)j);
                used[found] = 1;
            }
            ASSERT_TRUE(result_inertia(km) == 0.0);
            strata_kmeans_free(km);
        }
    gen_free(&g);
}

int main(void)
{
    RUN_TEST(test_random_cases_match_reference);
    RUN_TEST(test_random_inits_valid);
    RUN_TEST(test_seed_reproducible);
    RUN_TEST(test_n_init_keeps_best);
    RUN_TEST(test_n_init_with_given_centroids);
    RUN_TEST(test_kmeanspp_finds_separated_blobs);
    RUN_TEST(test_random_init_skips_zero_weights);
    return test_summary();
}
