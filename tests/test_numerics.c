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

/* ---- overflow (issue 12): never a non-finite or silently wrong result ---- */

static const int OVF_KERNELS[3] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};

/* n rows of k well-separated blobs in d features, in double: row i belongs
 * to blob i % k, whose centre has feature f = 100 * ((j * (f + 3)) % 11)
 * (distinct for k <= 11), rows within +-1 of it; times `scale`. */
static double *ovf_blobs(int64_t n, int64_t d, int64_t k, double scale)
{
    double *x = test_alloc((size_t)(n * d), sizeof *x);
    uint64_t s = 12345;
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < d; f++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) * 0x1p-53 * 2.0 - 1.0;
            x[i * d + f] = (100.0 * (double)(((i % k) * (f + 3)) % 11) + u) * scale;
        }
    return x;
}

static float *ovf_to_f32(const double *x, int64_t len)
{
    float *y = test_alloc((size_t)len, sizeof *y);
    for (int64_t i = 0; i < len; i++)
        y[i] = (float)x[i];
    return y;
}

/* Every output of a fitted model is finite: centroids, inertia and the
 * distances of the rows to the centroids. */
static void assert_model_finite(strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                                int64_t k)
{
    double *c = test_alloc((size_t)(k * d), sizeof *c), *t = test_alloc((size_t)(n * k), sizeof *t);
    ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
    for (int64_t j = 0; j < k * d; j++)
        ASSERT_MSG(isfinite(c[j]), "centroid value %lld is %g", (long long)j, c[j]);
    double in = result_inertia(km);
    ASSERT_MSG(isfinite(in) && in >= 0, "inertia %g", in);
    ASSERT_OK(strata_kmeans_transform(km, dtype, x, n, d, 0, t));
    for (int64_t j = 0; j < n * k; j++)
        ASSERT_MSG(isfinite(t[j]), "distance %lld is %g", (long long)j, t[j]);
    free(c);
    free(t);
}

/* Labels equal to the blobs up to a renaming (a bijection of 0..k-1). */
static void assert_blob_labels(const int32_t *lab, int64_t n, int64_t k, int exact)
{
    int32_t map[16];
    for (int64_t j = 0; j < k; j++)
        map[j] = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t b = i % k;
        if (exact)
            ASSERT_MSG(lab[i] == b, "row %lld: label %d, blob %lld", (long long)i, lab[i],
                       (long long)b);
        if (map[b] < 0)
            map[b] = lab[i];
        ASSERT_MSG(map[b] == lab[i], "row %lld: blob %lld split", (long long)i, (long long)b);
    }
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = a + 1; b < k; b++)
            ASSERT_MSG(map[a] != map[b], "blobs %lld and %lld merged", (long long)a,
                       (long long)b);
}

/* float32 data scaled by 1e19..1e30: their squared distances exceed
 * FLT_MAX (1e20^2 = 1e40), which put every row in one cluster, "converged".
 * Such fits run in double: the same labels as the unscaled data (the blobs,
 * exactly, from one row of each blob), and bitwise the fit of the same
 * values given as float64; predict as well. */
static void test_float32_beyond_float_range(void)
{
    const int64_t n = 240, dims[3] = {2, 5, 8}, ks[2] = {4, 8};
    const double scales[4] = {1.0, 1e19, 1e20, 1e30};
    int runs = 0;
    for (int di = 0; di < 3; di++)
        for (int ki = 0; ki < 2; ki++)
            for (int si = 0; si < 4; si++) {
                const int64_t d = dims[di], k = ks[ki];
                double *x64 = ovf_blobs(n, d, k, scales[si]);
                float *x = ovf_to_f32(x64, n * d);
                for (int64_t i = 0; i < n * d; i++) /* the float32 values, widened */
                    x64[i] = (double)x[i];
                double *init = test_alloc((size_t)(k * d), sizeof *init);
                memcpy(init, x64, (size_t)(k * d) * sizeof *init); /* rows 0..k-1 */
                int32_t *lab = test_alloc((size_t)n, sizeof *lab);
                int32_t *lab64 = test_alloc((size_t)n, sizeof *lab64);
                double *c = test_alloc((size_t)(k * d), sizeof *c);
                double *c64 = test_alloc((size_t)(k * d), sizeof *c64);
                for (int kern = 0; kern < 3; kern++) {
                    if (!strata_kernel_available(OVF_KERNELS[kern]))
                        continue;
                    for (int assign = STRATA_ASSIGN_FUSED; assign <= STRATA_ASSIGN_GEMM; assign++)
                        for (int pp = 0; pp < 2; pp++) {
                            strata_kmeans *km = test_new_kmeans(), *km64 = test_new_kmeans();
                            strata_kmeans *both[2] = {km, km64};
                            for (int b = 0; b < 2; b++) {
                                ASSERT_OK(strata_kmeans_set_int(both[b], STRATA_KMEANS_K, k));
                                ASSERT_OK(strata_kmeans_set_int(both[b], STRATA_KERNEL,
                                                                OVF_KERNELS[kern]));
                                ASSERT_OK(strata_kmeans_set_int(both[b], STRATA_KMEANS_ASSIGN,
                                                                assign));
                                ASSERT_OK(strata_kmeans_set_int(both[b], STRATA_KMEANS_SEED, 7));
                                if (!pp)
                                    ASSERT_OK(strata_kmeans_set_init_centroids(both[b], init, k, d));
                            }
                            ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT32, x, n, d, 0, NULL));
                            ASSERT_OK(strata_kmeans_fit(km64, STRATA_FLOAT64, x64, n, d, 0, NULL));
                            ASSERT_OK(strata_kmeans_labels(km, lab, n));
                            ASSERT_OK(strata_kmeans_labels(km64, lab64, n));
                            assert_blob_labels(lab, n, k, !pp);
                            ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
                            assert_model_finite(km, STRATA_FLOAT32, x, n, d, k);
                            if (si > 0) { /* computed in double: the float64 fit, bitwise */
                                ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
                                ASSERT_OK(strata_kmeans_centroids(km64, c64, k, d));
                                ASSERT_TRUE(!memcmp(lab, lab64, (size_t)n * sizeof *lab));
                                ASSERT_TRUE(!memcmp(c, c64, (size_t)(k * d) * sizeof *c));
                                ASSERT_TRUE(result_inertia(km) == result_inertia(km64));
                            }
                            /* predict on float32 rows far beyond the float range */
                            memset(lab, 0xff, (size_t)n * sizeof *lab);
                            ASSERT_OK(strata_kmeans_predict(km, STRATA_FLOAT32, x, n, d, 0, lab));
                            assert_blob_labels(lab, n, k, !pp);
                            strata_kmeans_free(km);
                            strata_kmeans_free(km64);
                            runs++;
                        }
                }
                free(x64);
                free(x);
                free(init);
                free(lab);
                free(lab64);
                free(c);
                free(c64);
            }
    ASSERT_TRUE(runs >= 3 * 2 * 4 * 2 * 2);
}

/* predict: a model at +-2e19 (squared norms 4e38 > FLT_MAX) and float32
 * rows between: the centroids' distance to the rows counts in the range
 * too. Hand-computed: rows at -4e18, 6e18, 1e19, -1.4e19 on feature 0 are
 * nearest -2e19, +2e19, +2e19, -2e19. */
static void test_predict_far_centroids(void)
{
    const double model[4] = {-2e19, 0.0, 2e19, 0.0};
    const float rows[8] = {-4e18f, 0.0f, 6e18f, 1.0f, 1e19f, 3.0f, -1.4e19f, -3.0f};
    const int32_t want[4] = {0, 1, 1, 0};
    int32_t lab[4];
    double dist[8];
    for (int kern = 0; kern < 3; kern++) {
        if (!strata_kernel_available(OVF_KERNELS[kern]))
            continue;
        for (int assign = STRATA_ASSIGN_FUSED; assign <= STRATA_ASSIGN_GEMM; assign++) {
            strata_kmeans *km = test_new_kmeans();
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, OVF_KERNELS[kern]));
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, assign));
            ASSERT_OK(strata_kmeans_set_model(km, model, 2, 2));
            ASSERT_OK(strata_kmeans_predict(km, STRATA_FLOAT32, rows, 4, 2, 0, lab));
            for (int i = 0; i < 4; i++)
                ASSERT_EQ_INT(lab[i], want[i]);
            ASSERT_OK(strata_kmeans_transform(km, STRATA_FLOAT32, rows, 4, 2, 0, dist));
            for (int j = 0; j < 8; j++)
                ASSERT_TRUE(isfinite(dist[j]));
            ASSERT_REL(dist[5], 2e19 - (double)rows[4], 1e-12); /* row 2 to +2e19 */
            ASSERT_REL(dist[6], (double)rows[6] + 2e19, 1e-12); /* row 3 to -2e19 */
            strata_kmeans_free(km);
        }
    }
}

/* float64 squares overflow near 1e154: a clear error naming the column,
 * from fit, predict and transform, and the previous model stays. Just
 * below the limit the fit works and every output is finite. */
static void test_float64_beyond_double_range(void)
{
    const int64_t n = 64, d = 4, k = 4;
    double *small = ovf_blobs(n, d, k, 1.0), *huge = ovf_blobs(n, d, k, 1e155);
    double *fine = ovf_blobs(n, d, k, 1e149); /* |x - mean| <= ~1e152 */
    int32_t *lab = test_alloc((size_t)n, sizeof *lab);
    double *t = test_alloc((size_t)(n * k), sizeof *t);
    for (int kern = 0; kern < 3; kern++) {
        if (!strata_kernel_available(OVF_KERNELS[kern]))
            continue;
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, OVF_KERNELS[kern]));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, k));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, fine, n, d, 0, NULL));
        ASSERT_OK(strata_kmeans_labels(km, lab, n));
        assert_blob_labels(lab, n, k, 0);
        assert_model_finite(km, STRATA_FLOAT64, fine, n, d, k);
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, small, n, d, 0, NULL));
        double in = result_inertia(km);
        ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT64, huge, n, d, 0, NULL),
                      STRATA_E_NONFINITE);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "overflow double");
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "column");
        ASSERT_TRUE(result_inertia(km) == in); /* the previous model stays */
        ASSERT_STATUS(strata_kmeans_predict(km, STRATA_FLOAT64, huge, n, d, 0, lab),
                      STRATA_E_NONFINITE);
        ASSERT_STATUS(strata_kmeans_transform(km, STRATA_FLOAT64, huge, n, d, 0, t),
                      STRATA_E_NONFINITE);
        strata_kmeans_free(km);
    }
    free(small);
    free(huge);
    free(fine);
    free(lab);
    free(t);
}

/* Each distance fits double but their total does not (400 rows at
 * +-1.3e153): the variance behind tol, and the inertia, would be infinite. */
static void test_float64_total_overflow(void)
{
    const int64_t n = 400;
    double *x = test_alloc((size_t)n, sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = i % 2 ? 1.3e153 : -1.3e153 + (double)(i % 7) * 1e140;
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
    ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT64, x, n, 1, 0, NULL), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "squared deviations");
    /* 40 such rows sum to 6.8e307: fine, and exactly two clusters */
    int32_t lab[40];
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 40, 1, 0, NULL));
    ASSERT_OK(strata_kmeans_labels(km, lab, 40));
    for (int64_t i = 0; i < 40; i++)
        ASSERT_EQ_INT(lab[i], lab[i % 2]);
    ASSERT_TRUE(lab[0] != lab[1]);
    assert_model_finite(km, STRATA_FLOAT64, x, 40, 1, 2);
    strata_kmeans_free(km);
    free(x);
}

/* Sample weights: a sum beyond double is a weights error; weights whose
 * products with the data overflow (1e300 x 1e10) fail the fit, from the
 * k-means++ potential or the final check, never a NaN centroid. */
static void test_weights_overflow(void)
{
    const double x[4] = {0.0, 1e10, 2e10, 3e10}, big[4] = {1e308, 1e308, 1e308, 1e308};
    const double heavy[4] = {1e300, 1e300, 1e300, 1e300};
    for (int init = STRATA_INIT_KMEANSPP; init <= STRATA_INIT_RANDOM; init++) {
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
        ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT64, x, 4, 1, 0, big), STRATA_E_WEIGHTS);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "sum beyond");
        ASSERT_STATUS(strata_kmeans_fit(km, STRATA_FLOAT64, x, 4, 1, 0, heavy),
                      STRATA_E_NONFINITE);
        ASSERT_NONEMPTY(strata_kmeans_last_error(km));
        int64_t v;
        ASSERT_STATUS(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &v), STRATA_E_STATE);
        strata_kmeans_free(km);
    }
}

int main(void)
{
    RUN_TEST(test_float32_offset_1e4);
    RUN_TEST(test_float32_mixed_scales);
    RUN_TEST(test_float64_offset_1e6);
    RUN_TEST(test_float64_offset_1p7e9);
    RUN_TEST(test_tol_with_offset);
    RUN_TEST(test_float32_beyond_float_range);
    RUN_TEST(test_predict_far_centroids);
    RUN_TEST(test_float64_beyond_double_range);
    RUN_TEST(test_float64_total_overflow);
    RUN_TEST(test_weights_overflow);
    return test_summary();
}
