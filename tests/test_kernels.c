/* Every SIMD kernel this CPU can run, with both assignment methods, gives
 * the same fit on well-conditioned data (and the reference's); kernels the
 * CPU cannot run are refused; the result reports what was used. Shapes are
 * chosen to hit SIMD tails: d and k not multiples of the vector widths. */
#include "ref.h"
#include "test.h"

static const int KERNELS[3] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};
static const int ASSIGNS[2] = {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};

static int64_t result_int(strata_kmeans *km, int key)
{
    int64_t v = -12345;
    ASSERT_OK(strata_kmeans_result_int(km, key, &v));
    return v;
}

static int widest_available(void)
{
    int w = STRATA_KERNEL_SCALAR;
    for (int i = 0; i < 3; i++)
        if (strata_kernel_available(KERNELS[i]))
            w = KERNELS[i];
    return w;
}

static void test_availability(void)
{
    for (int i = 0; i < 3; i++)
        fprintf(stderr, "  kernel %-6s %s\n", strata_kernel_name(KERNELS[i]),
                strata_kernel_available(KERNELS[i]) ? "available" : "not available: SKIPPED");
    /* AVX-512 machines have AVX2 (and FMA) too */
    if (strata_kernel_available(STRATA_KERNEL_AVX512))
        ASSERT_TRUE(strata_kernel_available(STRATA_KERNEL_AVX2));
    strata_kmeans *km = test_new_kmeans();
    int tested = 0;
    for (int i = 0; i < 3; i++) {
        int64_t v;
        if (strata_kernel_available(KERNELS[i])) {
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, KERNELS[i]));
            ASSERT_OK(strata_kmeans_get_int(km, STRATA_KERNEL, &v));
            ASSERT_EQ_INT(v, KERNELS[i]);
        } else {
            ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, STRATA_KERNEL_SCALAR));
            ASSERT_STATUS(strata_kmeans_set_int(km, STRATA_KERNEL, KERNELS[i]),
                          STRATA_E_UNSUPPORTED);
            ASSERT_NONEMPTY(strata_kmeans_last_error(km));
            ASSERT_OK(strata_kmeans_get_int(km, STRATA_KERNEL, &v));
            ASSERT_EQ_INT(v, STRATA_KERNEL_SCALAR); /* unchanged */
            tested++;
        }
    }
    if (!tested)
        fprintf(stderr, "  every kernel is available here: STRATA_E_UNSUPPORTED not exercised\n");
    strata_kmeans_free(km);
}

/* AUTO picks the widest kernel; the result says which one ran. */
static void test_auto_reports_widest(void)
{
    gen_data g;
    gen_blobs(&g, 1, STRATA_FLOAT32, 500, 3, 3, 3, 20, 1, 0, 0);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_KERNEL), widest_available());
    int64_t a = result_int(km, STRATA_KMEANS_RESULT_ASSIGN);
    ASSERT_TRUE(a == STRATA_ASSIGN_FUSED || a == STRATA_ASSIGN_GEMM);
    strata_kmeans_free(km);
    gen_free(&g);
}

/* STRATA_KERNEL in the environment names AUTO's kernel where this CPU runs
 * it; an unknown name or one this CPU cannot run leaves AUTO the widest; a
 * kernel set on the handle wins over it. */
static void test_env_names_kernel(void)
{
    gen_data g;
    gen_blobs(&g, 2, STRATA_FLOAT32, 500, 3, 3, 3, 20, 1, 0, 0);
    const struct { const char *env; int set, want; } cases[] = {
        {"scalar", STRATA_KERNEL_AUTO, STRATA_KERNEL_SCALAR},
        {"AVX2", STRATA_KERNEL_AUTO,
         strata_kernel_available(STRATA_KERNEL_AVX2) ? STRATA_KERNEL_AVX2 : widest_available()},
        {"avx512", STRATA_KERNEL_AUTO,
         strata_kernel_available(STRATA_KERNEL_AVX512) ? STRATA_KERNEL_AVX512
                                                       : widest_available()},
        {"avx9000", STRATA_KERNEL_AUTO, widest_available()},
        {"", STRATA_KERNEL_AUTO, widest_available()},
        {"avx2", STRATA_KERNEL_SCALAR, STRATA_KERNEL_SCALAR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("STRATA_KERNEL", cases[i].env, 1);
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, cases[i].set));
        ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
        ASSERT_MSG(result_int(km, STRATA_KMEANS_RESULT_KERNEL) == cases[i].want,
                   "STRATA_KERNEL=%s: kernel %lld, expected %d", cases[i].env,
                   (long long)result_int(km, STRATA_KMEANS_RESULT_KERNEL), cases[i].want);
        strata_kmeans_free(km);
    }
    unsetenv("STRATA_KERNEL");
    gen_free(&g);
}

typedef struct shape {
    int64_t n, d, k;
} shape;

/* Same start, every kernel x assignment: identical labels, centroids within
 * 1e-6 relative of each other, and labels identical to the reference's. */
static void test_kernels_agree(void)
{
    /* d = 8 with k <= 8 and d = 5: the float64 rows-in-lanes kernel's full and
     * masked loads; n not a multiple of 8 or 16 leaves short groups */
    const shape shapes[] = {{1001, 1, 2},  {3001, 3, 9},   {2049, 8, 16}, {3001, 13, 17},
                            {1500, 16, 5}, {2500, 17, 33}, {1200, 33, 7}, {4097, 2, 1},
                            {2003, 8, 6},  {1999, 5, 8}};
    const size_t ns = sizeof shapes / sizeof shapes[0];
    for (size_t s = 0; s < ns; s++)
        for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
            const int64_t n = shapes[s].n, d = shapes[s].d, k = shapes[s].k;
            gen_data g;
            double *init = test_alloc((size_t)(k * d), sizeof(double));
            ref_fit ref;
            int found = 0;
            for (int attempt = 0; attempt < 300 && !found; attempt++) {
                /* 2k blobs, started from k random rows */
                gen_blobs(&g, 1000 * s + 10 * (uint64_t)dt + 100000 * (uint64_t)attempt, dt, n,
                          d, d + (int64_t)(s % 2), 2 * k, 10.0 * pow(2.0 * (double)k, 1.0 / (double)d),
                          1.0, 5.0, (int)(s % 2));
                test_rng r;
                rng_seed(&r, s * 31 + (uint64_t)attempt);
                gen_pick_rows(&g, &r, k, init);
                ref_data X = gen_ref(&g);
                if (ref_lloyd(&X, init, k, 300, 0.0, &ref) == 0 && ref_well_conditioned(&ref, dt))
                    found = 1;
                else {
                    ref_fit_free(&ref);
                    gen_free(&g);
                }
            }
            ASSERT_MSG(found, "shape %zu: no well-conditioned case", s);
            int32_t *lab0 = test_alloc((size_t)n, sizeof(int32_t));
            int32_t *lab = test_alloc((size_t)n, sizeof(int32_t));
            double *c0 = test_alloc((size_t)(k * d), sizeof(double));
            double *c = test_alloc((size_t)(k * d), sizeof(double));
            double in0 = 0;
            int first = 1;
            for (int ki = 0; ki < 3; ki++) {
                if (!strata_kernel_available(KERNELS[ki]))
                    continue;
                for (int ai = 0; ai < 2; ai++) {
                    strata_kmeans *km = test_new_kmeans();
                    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, KERNELS[ki]));
                    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[ai]));
                    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
                    ASSERT_OK(strata_kmeans_set_init_centroids(km, init, k, d));
                    ASSERT_OK(strata_kmeans_fit(km, dt, g.x, n, d, g.stride, g.w));
                    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_KERNEL), KERNELS[ki]);
                    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_ASSIGN), ASSIGNS[ai]);
                    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N_ITER), ref.n_iter);
                    ASSERT_OK(strata_kmeans_labels(km, lab, n));
                    ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
                    double in;
                    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &in));
                    int64_t diff = 0;
                    for (int64_t i = 0; i < n; i++)
                        diff += lab[i] != ref.labels[i];
                    ASSERT_MSG(diff == 0, "shape %zu dtype %d kernel %s assign %d: %lld labels "
                               "differ from the reference", s, dt,
                               strata_kernel_name(KERNELS[ki]), ASSIGNS[ai], (long long)diff);
                    if (first) {
                        memcpy(lab0, lab, (size_t)n * sizeof(int32_t));
                        memcpy(c0, c, (size_t)(k * d) * sizeof(double));
                        in0 = in;
                        first = 0;
                    } else {
                        ASSERT_TRUE(memcmp(lab0, lab, (size_t)n * sizeof(int32_t)) == 0);
                        for (int64_t j = 0; j < k * d; j++)
                            ASSERT_NEAR(c[j], c0[j], 1e-6 * fmax(1.0, fabs(c0[j])));
                        ASSERT_REL(in, in0, 1e-6);
                    }
                    /* predict agrees with the fit on the training rows */
                    int32_t *pl = test_alloc((size_t)n, sizeof(int32_t));
                    ASSERT_OK(strata_kmeans_predict(km, dt, g.x, n, d, g.stride, pl));
                    ASSERT_TRUE(memcmp(pl, lab, (size_t)n * sizeof(int32_t)) == 0);
                    free(pl);
                    strata_kmeans_free(km);
                }
            }
            free(lab0);
            free(lab);
            free(c0);
            free(c);
            free(init);
            ref_fit_free(&ref);
            gen_free(&g);
        }
}

/* Exact ties go to the lowest centroid index in every kernel, also between
 * centroids that share a SIMD lane (indices 4, 8, 16 or 32 apart) and when
 * the lower index is further right. Integer positions and a query mean that
 * is an integer keep every distance exact in float32 and float64. */
static void test_ties_across_lanes(void)
{
    enum { K = 40 };
    double pos[K];
    for (int j = 0; j < K; j++)
        pos[j] = 10.0 * j;
    pos[8] = pos[0] + 2;   /* 8 apart */
    pos[19] = pos[3] + 2;  /* 16 apart */
    pos[37] = pos[5] + 2;  /* 32 apart */
    pos[36] = pos[20] + 2; /* 16 apart */
    pos[13] = pos[9] + 2;  /* 4 apart */
    pos[38] = pos[22] - 2; /* 16 apart, higher index on the left */
    const double mid[6] = {1, 31, 51, 201, 91, 219};
    const int32_t want[6] = {0, 3, 5, 20, 9, 22};
    double q[7];
    memcpy(q, mid, sizeof mid);
    q[6] = 7 * 100.0 - 594.0; /* query mean exactly 100 */
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        float pos32[K], q32[7];
        for (int j = 0; j < K; j++)
            pos32[j] = (float)pos[j];
        for (int i = 0; i < 7; i++)
            q32[i] = (float)q[i];
        const void *xp = dt == STRATA_FLOAT32 ? (const void *)pos32 : (const void *)pos;
        const void *qp = dt == STRATA_FLOAT32 ? (const void *)q32 : (const void *)q;
        for (int ki = 0; ki < 3; ki++) {
            if (!strata_kernel_available(KERNELS[ki]))
                continue;
            for (int ai = 0; ai < 2; ai++) {
                strata_kmeans *km = test_new_kmeans();
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, KERNELS[ki]));
                ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGNS[ai]));
                /* every row its own centroid: the model is `pos` exactly */
                ASSERT_OK(strata_kmeans_set_init_centroids(km, pos, K, 1));
                ASSERT_OK(strata_kmeans_fit(km, dt, xp, K, 1, 0, NULL));
                double c[K];
                ASSERT_OK(strata_kmeans_centroids(km, c, K, 1));
                ASSERT_TRUE(memcmp(c, pos, sizeof c) == 0);
                int32_t lab[7];
                ASSERT_OK(strata_kmeans_predict(km, dt, qp, 7, 1, 0, lab));
                for (int i = 0; i < 6; i++)
                    ASSERT_MSG(lab[i] == want[i], "dtype %d kernel %s assign %d: %g labelled %d, "
                               "tie should go to %d", dt, strata_kernel_name(KERNELS[ki]),
                               ASSIGNS[ai], mid[i], lab[i], want[i]);
                ASSERT_EQ_INT(lab[6], 11); /* 106: nearest is 110 */
                strata_kmeans_free(km);
            }
        }
    }
}

/* The label contract of the fused kernels, bit for bit, on every shape the
 * rows-in-lanes kernels (AVX-512 and AVX2 assign_few_*) and the general ones
 * see: k = 1..16, d = 1..9, 16, 33, float32 and float64, n not a multiple of
 * 4, 8 or 16. The score of centroid j is bias_j = (T)||c_j||^2, then one
 * FMA per feature in feature order with the table value (T)(-2 c_jf) (the
 * portable kernel: a multiply and an add); the label is the lowest index
 * among the minima (kernels/kernels.h). The data make that checkable here:
 * values on a dyadic grid, rows in +x / -x pairs plus a zero row, so every
 * sum of the mean is exact, and the centroids' mean, predict's centring
 * reference, is exactly 0 (the last centroid balances the others); products and
 * partial sums do round, and half the rows are midpoints of two centroids
 * (exactly tied distances, decided by those roundings), some of them of two
 * equal centroids (exact score ties). A kernel that sums in another order,
 * drops a feature or mishandles a tie or a tail row fails here. */
static int32_t ref_label_f32(const float *x, const double *c, int64_t k, int64_t d, int fma)
{
    int32_t best = 0;
    float bs = 0.0f;
    for (int64_t j = 0; j < k; j++) {
        double norm = 0.0;
        for (int64_t f = 0; f < d; f++)
            norm += c[j * d + f] * c[j * d + f];
        float sc = (float)norm;
        for (int64_t f = 0; f < d; f++) {
            const float t = (float)(-2.0 * c[j * d + f]);
            if (fma) {
                sc = fmaf(x[f], t, sc);
            } else {
                volatile float p = x[f] * t; /* rounded on its own */
                sc = sc + p;
            }
        }
        if (j == 0 || sc < bs) {
            bs = sc;
            best = (int32_t)j;
        }
    }
    return best;
}

static int32_t ref_label_f64(const double *x, const double *c, int64_t k, int64_t d, int fma_)
{
    int32_t best = 0;
    double bs = 0.0;
    for (int64_t j = 0; j < k; j++) {
        double norm = 0.0;
        for (int64_t f = 0; f < d; f++)
            norm += c[j * d + f] * c[j * d + f];
        double sc = norm;
        for (int64_t f = 0; f < d; f++) {
            const double t = -2.0 * c[j * d + f];
            if (fma_) {
                sc = fma(x[f], t, sc);
            } else {
                volatile double p = x[f] * t;
                sc = sc + p;
            }
        }
        if (j == 0 || sc < bs) {
            bs = sc;
            best = (int32_t)j;
        }
    }
    return best;
}

/* Predicts n rows (ld apart) of dtype dt with the model c (k x d) on
 * kernel and checks every label against want; returns the rows checked (0
 * where the model's AUTO assignment is not the fused kernel: GEMM sums in
 * its own order, the scalar kernel from k d = 64). */
static int64_t predict_checked(int kernel, int dt, const double *c, int64_t k, int64_t d,
                               const void *x, int64_t n, int64_t ld, const int32_t *want,
                               int32_t *lab)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, kernel));
    ASSERT_OK(strata_kmeans_set_model(km, c, k, d));
    ASSERT_OK(strata_kmeans_predict(km, dt, x, n, d, ld, lab));
    const int fused = result_int(km, STRATA_KMEANS_RESULT_ASSIGN) == STRATA_ASSIGN_FUSED;
    strata_kmeans_free(km);
    if (!fused)
        return 0;
    for (int64_t i = 0; i < n; i++)
        ASSERT_MSG(lab[i] == want[i], "dtype %d kernel %s d %lld k %lld row %lld of %lld, rows "
                   "%lld apart: label %d, the contract gives %d", dt, strata_kernel_name(kernel),
                   (long long)d, (long long)k, (long long)i, (long long)n, (long long)ld, lab[i],
                   want[i]);
    return n;
}

static void test_labels_bitwise(void)
{
    const int64_t ds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 33};
    int64_t checked = 0, ties = 0;
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
            for (int64_t k = 1; k <= 16; k++) {
                const int64_t d = ds[di];
                /* grid 2^-10 (float32) or 2^-26 (float64) within [-8, 8]:
                 * products round, every sum of the mean is exact */
                const double step = dt == STRATA_FLOAT32 ? 0x1p-10 : 0x1p-26;
                const int64_t half = 40 + 3 * k + (d % 5); /* n = 2 half + 1: odd */
                const int64_t n = 2 * half + 1;
                test_rng r;
                rng_seed(&r, (uint64_t)(1000 * dt + 50 * di) + (uint64_t)k);
                double *c = test_alloc((size_t)(k * d), sizeof(double));
                for (int64_t j = 0; j < k; j++)
                    for (int64_t f = 0; f < d; f++)
                        c[j * d + f] = j >= 2 && j % 3 == 2 /* a copy of an earlier one */
                                           ? c[(j - 2) * d + f]
                                           : (double)rng_int(&r, -(1 << 13), 1 << 13) * step;
                /* the last centroid makes every feature's centroid mean exactly 0
                 * (sums on the grid are exact): predict's reference, the
                 * centroids' mean on a grid, is then 0, as this reference assumes */
                for (int64_t f = 0; f < d; f++) {
                    double sum = 0.0;
                    for (int64_t j = 0; j + 1 < k; j++)
                        sum += c[j * d + f];
                    c[(k - 1) * d + f] = -sum;
                }
                double *xd = test_alloc((size_t)(n * d), sizeof(double));
                for (int64_t i = 0; i < half; i++) {
                    const int64_t a = rng_int(&r, 0, k - 1), b = rng_int(&r, 0, k - 1);
                    const int kind = (int)rng_int(&r, 0, 2); /* midpoint, nudged, random */
                    for (int64_t f = 0; f < d; f++) {
                        double v = kind == 2 ? (double)rng_int(&r, -(1 << 13), 1 << 13) * step
                                             : 0.5 * (c[a * d + f] + c[b * d + f]);
                        if (kind == 1)
                            v += (double)rng_int(&r, -2, 2) * step * 0.5;
                        xd[(2 * i) * d + f] = v;
                        xd[(2 * i + 1) * d + f] = -v;
                    }
                }
                for (int64_t f = 0; f < d; f++)
                    xd[(n - 1) * d + f] = 0.0;
                float *xf = test_alloc((size_t)(n * d), sizeof(float));
                for (int64_t i = 0; i < n * d; i++)
                    xf[i] = (float)xd[i]; /* exact: 14 significant bits */
                int32_t *want_fma = test_alloc((size_t)n, sizeof(int32_t));
                int32_t *want_mul = test_alloc((size_t)n, sizeof(int32_t));
                for (int64_t i = 0; i < n; i++) {
                    want_fma[i] = dt == STRATA_FLOAT32 ? ref_label_f32(xf + i * d, c, k, d, 1)
                                                       : ref_label_f64(xd + i * d, c, k, d, 1);
                    want_mul[i] = dt == STRATA_FLOAT32 ? ref_label_f32(xf + i * d, c, k, d, 0)
                                                       : ref_label_f64(xd + i * d, c, k, d, 0);
                }
                int32_t *lab = test_alloc((size_t)n, sizeof(int32_t));
                for (int ki = 0; ki < 3; ki++) {
                    if (!strata_kernel_available(KERNELS[ki]))
                        continue;
                    const int32_t *want =
                        KERNELS[ki] == STRATA_KERNEL_SCALAR ? want_mul : want_fma;
                    checked += predict_checked(KERNELS[ki], dt, c, k, d,
                                               dt == STRATA_FLOAT32 ? (const void *)xf
                                                                    : (const void *)xd,
                                               n, d, want, lab);
                    /* The same rows and centroids moved by an offset o on a
                     * coarser grid, rows `ld` apart: the centroids' mean is
                     * then o exactly and centring takes it off exactly, so
                     * the labels are the same. A kernel that skips the
                     * centring or misreads the row stride fails here. */
                    const int64_t ld = d + 3;
                    double *cs = test_alloc((size_t)(k * d), sizeof(double));
                    double *xs = test_alloc((size_t)(n * ld), sizeof(double));
                    float *xsf = test_alloc((size_t)(n * ld), sizeof(float));
                    for (int64_t f = 0; f < d; f++) {
                        const double o = (double)((f * 37 + k) % 61 - 30) * 0.125;
                        for (int64_t j = 0; j < k; j++)
                            cs[j * d + f] = c[j * d + f] + o;
                        for (int64_t i = 0; i < n; i++) {
                            xs[i * ld + f] = xd[i * d + f] + o;
                            xsf[i * ld + f] = (float)xs[i * ld + f]; /* exact: 15 bits */
                        }
                    }
                    checked += predict_checked(KERNELS[ki], dt, cs, k, d,
                                               dt == STRATA_FLOAT32 ? (const void *)xsf
                                                                    : (const void *)xs,
                                               n, ld, want, lab);
                    free(cs);
                    free(xs);
                    free(xsf);
                }
                /* the data do exercise ties: rows whose label is not the
                 * nearest centroid by more than rounding */
                for (int64_t i = 0; i < n; i += 2)
                    ties += want_fma[i] != want_mul[i];
                free(c);
                free(xd);
                free(xf);
                free(want_fma);
                free(want_mul);
                free(lab);
            }
    fprintf(stderr, "  %lld labels checked; %lld rows where FMA and multiply-add disagree\n",
            (long long)checked, (long long)ties);
    ASSERT_TRUE(ties > 0);
}

int main(void)
{
    unsetenv("STRATA_KERNEL"); /* AUTO must mean the widest in the tests below */
    RUN_TEST(test_availability);
    RUN_TEST(test_auto_reports_widest);
    RUN_TEST(test_env_names_kernel);
    RUN_TEST(test_kernels_agree);
    RUN_TEST(test_ties_across_lanes);
    RUN_TEST(test_labels_bitwise);
    return test_summary();
}
