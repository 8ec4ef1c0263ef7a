/* Large offsets (money in cents, Unix timestamps) must not cost accuracy:
 * with features around 1e4 (float32) or 1e6 and 1.7e9 (float64) the fit
 * agrees with the float64 reference run on the same values, for both
 * assignment methods. A naive ||x||^2 - 2 x.c + ||c||^2 in the element type,
 * without centring, mislabels many rows of these data (checked below, so the
 * test keeps its teeth). */
#include "check.h"

typedef struct ncase {
    const char *name;
    int dtype;
    double offset[4]; /* added to each feature */
    double spread;
} ncase;

/* Rows mislabelled by the naive expansion in the element type. */
static int64_t naive_mislabels(const gen_data *g, const double *c, int64_t k, const int32_t *lab)
{
    ref_data X = gen_ref(g);
    const int64_t d = g->d;
    int64_t wrong = 0;
    for (int64_t i = 0; i < g->n; i++) {
        int32_t best = 0;
        double bs = INFINITY;
        for (int64_t j = 0; j < k; j++) {
            double s;
            if (g->dtype == STRATA_FLOAT32) {
                float xx = 0, xc = 0, cc = 0;
                for (int64_t f = 0; f < d; f++) {
                    float xv = (float)ref_at(&X, i, f), cv = (float)c[j * d + f];
                    xx += xv * xv;
                    xc += xv * cv;
                    cc += cv * cv;
                }
                s = (double)(xx - 2 * xc + cc);
            } else {
                double xx = 0, xc = 0, cc = 0;
                for (int64_t f = 0; f < d; f++) {
                    double xv = ref_at(&X, i, f), cv = c[j * d + f];
                    xx += xv * xv;
                    xc += xv * cv;
                    cc += cv * cv;
                }
                s = xx - 2 * xc + cc;
            }
            if (s < bs) {
                bs = s;
                best = (int32_t)j;
            }
        }
        wrong += best != lab[i];
    }
    return wrong;
}

/* Blobs (sd 1) shifted by the offsets, started from one row of each blob. */
static int make_case(const ncase *nc, int64_t attempt, gen_data *g, double *init, ref_fit ref[2])
{
    const int64_t n = 3000, d = 3, k = 5;
    gen_blobs(g, 500 + 7919 * (uint64_t)attempt + (uint64_t)nc->dtype, nc->dtype, n, d,
              d + (attempt % 2), k, nc->spread, 1.0, 0.0, (int)(attempt % 2));
    /* add the offsets in double, then round once to the element type */
    ref_data X = gen_ref(g);
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < d; f++)
            gen_set(g, i, f, ref_at(&X, i, f) + nc->offset[f]);
    for (int64_t j = 0; j < k; j++) {
        int64_t i = 0;
        while (g->blob[i] != j || (g->w && !(g->w[i] > 0)))
            i++;
        for (int64_t f = 0; f < d; f++)
            init[j * d + f] = ref_at(&X, i, f);
    }
    int ok = 1;
    const double tols[2] = {0.0, 1e-4};
    for (int t = 0; t < 2; t++)
        ok = ok && ref_lloyd(&X, init, k, 300, tols[t], &ref[t]) == 0 &&
             ref_well_conditioned(&ref[t], nc->dtype);
    if (!ok) {
        ref_fit_free(&ref[0]);
        ref_fit_free(&ref[1]);
        gen_free(g);
    }
    return ok;
}

static void run_case(const ncase *nc, int want_teeth)
{
    static prog_log log;
    const int64_t k = 5, d = 3;
    const double tols[2] = {0.0, 1e-4};
    const int assigns[2] = {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};
    int64_t teeth = 0, done = 0;
    for (int64_t attempt = 0; attempt < 200 && done < 3; attempt++) {
        gen_data g;
        double init[15];
        ref_fit ref[2];
        if (!make_case(nc, attempt, &g, init, ref))
            continue;
        done++;
        int64_t naive = naive_mislabels(&g, ref[0].centroids, k, ref[0].labels);
        teeth += naive;
        fprintf(stderr, "  %s attempt %lld: %lld iterations, naive expansion mislabels %lld rows\n",
                nc->name, (long long)attempt, (long long)ref[0].n_iter, (long long)naive);
        /* centroids: sums of values near the offset, in double */
        ref_tols tol = default_tols(nc->dtype);
        tol.centroid_rtol = 64.0 * (double)g.n * 0x1p-53;
        /* float32 distances may use centroids rounded to float32 (abs error
         * up to 2^-11 near 1e4), against within-cluster distances of about 1.
         * float64: the centroids themselves (sums of ~600 values near the
         * offset) are only known to ~1e-6 absolute near 1.7e9, and the
         * inertia of an iteration's labels (not at a fixed point) moves to
         * first order with them: the reference and the library differ there
         * by ~1e-8 relative, legitimately. */
        tol.inertia_rtol = nc->dtype == STRATA_FLOAT32 ? 1e-3 : 1e-6;
        for (int a = 0; a < 2; a++)
            for (int t = 0; t < 2; t++) {
                char what[128];
                snprintf(what, sizeof what, "%s attempt %lld assign %d tol %g", nc->name,
                         (long long)attempt, assigns[a], tols[t]);
                strata_kmeans *km = test_new_kmeans();
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, assigns[a]));
                ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, tols[t]));
                ASSERT_OK(strata_kmeans_set_init_centroids(km, init, k, d));
                memset(&log, 0, sizeof log);
                ASSERT_OK(strata_kmeans_set_progress(km, log_progress, &log));
                ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, g.w));
                check_against_ref(km, &g, &ref[t], &log, tol, what);
                /* predict on the same rows gives the reference labels */
                int32_t *pl = test_alloc((size_t)g.n, sizeof(int32_t));
                ASSERT_OK(strata_kmeans_predict(km, g.dtype, g.x, g.n, g.d, g.stride, pl));
                ASSERT_TRUE(memcmp(pl, ref[t].labels, (size_t)g.n * sizeof(int32_t)) == 0);
                free(pl);
                strata_kmeans_free(km);
            }
        ref_fit_free(&ref[0]);
        ref_fit_free(&ref[1]);
        gen_free(&g);
    }
    ASSERT_MSG(done == 3, "%s: only %lld well-conditioned cases", nc->name, (long long)done);
    if (want_teeth)
        ASSERT_MSG(teeth > 0, "%s: the naive expansion gets these data right; the test is too "
                   "easy", nc->name);
}

static void test_float32_offset_1e4(void)
{
    const ncase nc = {"float32 +1e4", STRATA_FLOAT32, {1e4, 1e4, 1e4, 0}, 10.0};
    run_case(&nc, 1);
}

/* RFM-like: recency in days, frequency, monetary around 1e4 */
static void test_float32_mixed_scales(void)
{
    const ncase nc = {"float32 mixed", STRATA_FLOAT32, {180.0, 5.0, 1e4, 0}, 10.0};
    run_case(&nc, 1);
}

static void test_float64_offset_1e6(void)
{
    const ncase nc = {"float64 +1e6", STRATA_FLOAT64, {1e6, 1e6, 1e6, 0}, 10.0};
    run_case(&nc, 0);
}

/* Unix timestamps in seconds */
static void test_float64_offset_1p7e9(void)
{
    const ncase nc = {"float64 +1.7e9", STRATA_FLOAT64, {1.7e9, 1.7e9, 1.7e9, 0}, 10.0};
    run_case(&nc, 1);
}

/* The mean variance behind tol must be computed stably too: with a 1.7e9
 * offset, a one-pass E[x^2] - E[x]^2 is off by far more than the variance
 * (about 33 here). A tol between the shifts of two iterations must stop
 * exactly where the reference stops. */
static void test_tol_with_offset(void)
{
    gen_data g;
    double init[15];
    ref_fit ref[2];
    const ncase nc = {"tol +1.7e9", STRATA_FLOAT64, {1.7e9, 1.7e9, 1.7e9, 0}, 10.0};
    int64_t attempt = 0;
    while (!make_case(&nc, attempt, &g, init, ref))
        attempt++;
    ref_data X = gen_ref(&g);
    double V = ref_mean_variance(&X);
    ASSERT_TRUE(V > 5 && V < 200);
    int64_t stopped_by_tol = 0;
    for (double tol = 1e-3; tol <= 3.0; tol *= 3) {
        ref_fit r;
        ASSERT_TRUE(ref_lloyd(&X, init, 5, 300, tol, &r) == 0);
        if (!ref_well_conditioned(&r, STRATA_FLOAT64)) {
            ref_fit_free(&r);
            continue;
        }
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, tol));
        ASSERT_OK(strata_kmeans_set_init_centroids(km, init, 5, 3));
        ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, g.w));
        char what[64];
        snprintf(what, sizeof what, "tol %g", tol);
        ref_tols tl = default_tols(STRATA_FLOAT64);
        tl.centroid_rtol = 64.0 * (double)g.n * 0x1p-53;
        tl.inertia_rtol = 1e-6;
        check_against_ref(km, &g, &r, NULL, tl, what);
        stopped_by_tol += !r.strict;
        strata_kmeans_free(km);
        ref_fit_free(&r);
    }
    ASSERT_TRUE(stopped_by_tol >= 2);
    ref_fit_free(&ref[0]);
    ref_fit_free(&ref[1]);
    gen_free(&g);
}

int main(void)
{
    RUN_TEST(test_float32_offset_1e4);
    RUN_TEST(test_float32_mixed_scales);
    RUN_TEST(test_float64_offset_1e6);
    RUN_TEST(test_float64_offset_1p7e9);
    RUN_TEST(test_tol_with_offset);
    return test_summary();
}
