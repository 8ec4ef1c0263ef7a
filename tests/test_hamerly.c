/* STRATA_ALGO_HAMERLY against STRATA_ALGO_LLOYD from the same start.
 *
 * What is compared, and how:
 *   - BITWISE, always: labels, centroids, inertia, n_iter, converged and every
 *     progress-callback inertia of a Hamerly fit equal those of a Lloyd fit
 *     with the same data, initial centroids, kernel, assignment method and
 *     tol/max_iter. Both score rows with the same kernel (GEMM included),
 *     Hamerly only skips rows whose label its bounds prove, so there is no
 *     rounding excuse: exact distance ties (integer grids, duplicated rows,
 *     equal centroids) must go to the same lowest index too. The data sets
 *     are random (many near-ties), clustered (most rows skipped), duplicated,
 *     tied, float32 and float64, weighted (with zero weights, so some clusters
 *     empty and relocated) and not, padded rows, k past the kernels'
 *     one-call scores limit (sliced tables), over threads 1/2/3 and every
 *     kernel this CPU runs.
 *   - TIE-TOLERANT: only the comparison with the independent double-precision
 *     reference (support/ref.c), whose distances round differently from the
 *     library's element-type kernels; as in test_reference.c it is made on
 *     well-conditioned cases only (ref_well_conditioned).
 * The API records the algorithm run (STRATA_KMEANS_RESULT_ALGORITHM). */
#include "check.h"

typedef struct fit_out {
    int64_t n, k, d;
    int32_t *labels;
    double *c, inertia;
    int64_t n_iter, converged, algorithm;
    prog_log log;
} fit_out;

typedef struct fit_cfg {
    int64_t k, threads, max_iter, n_init, seed;
    int algorithm, kernel, assign;
    double tol;
    const double *init; /* NULL: k-means++ with seed */
} fit_cfg;

static void fit(const gen_data *g, const fit_cfg *cf, fit_out *o)
{
    memset(o, 0, sizeof *o);
    strata_kmeans *km = test_new_kmeans();
    o->n = g->n;
    o->k = cf->k;
    o->d = g->d;
    if (cf->init)
        ASSERT_OK(strata_kmeans_set_init_centroids(km, cf->init, cf->k, g->d));
    else {
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, cf->k));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, cf->seed));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, cf->n_init ? cf->n_init : 1));
    }
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, cf->algorithm));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, cf->kernel));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, cf->assign));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, cf->threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, cf->max_iter));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALLOW_TOO_FEW, 1));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, cf->tol));
    ASSERT_OK(strata_kmeans_set_progress(km, log_progress, &o->log));
    ASSERT_OK(strata_kmeans_fit(km, g->dtype, g->x, g->n, g->d, g->stride, g->w));
    o->labels = test_alloc((size_t)g->n, sizeof(int32_t));
    o->c = test_alloc((size_t)(cf->k * g->d), sizeof(double));
    ASSERT_OK(strata_kmeans_labels(km, o->labels, g->n));
    ASSERT_OK(strata_kmeans_centroids(km, o->c, cf->k, g->d));
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &o->inertia));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &o->n_iter));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &o->converged));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &o->algorithm));
    strata_kmeans_free(km);
}

static void fit_free(fit_out *o)
{
    free(o->labels);
    free(o->c);
    memset(o, 0, sizeof *o);
}

static void assert_same(const fit_out *a, const fit_out *b, const char *what)
{
    int64_t diff = 0, first = -1;
    for (int64_t i = 0; i < a->n; i++)
        if (a->labels[i] != b->labels[i]) {
            diff++;
            if (first < 0)
                first = i;
        }
    ASSERT_MSG(diff == 0, "%s: %lld labels differ (first row %lld: %d vs %d)", what,
               (long long)diff, (long long)first, first >= 0 ? a->labels[first] : 0,
               first >= 0 ? b->labels[first] : 0);
    ASSERT_MSG(memcmp(a->c, b->c, (size_t)(a->k * a->d) * sizeof(double)) == 0,
               "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof(double)) == 0,
               "%s: inertia %.17g vs %.17g", what, a->inertia, b->inertia);
    ASSERT_MSG(a->n_iter == b->n_iter, "%s: n_iter %lld vs %lld", what, (long long)a->n_iter,
               (long long)b->n_iter);
    ASSERT_MSG(a->converged == b->converged, "%s: converged differs", what);
    ASSERT_MSG(a->log.calls == b->log.calls, "%s: %lld vs %lld progress calls", what,
               (long long)a->log.calls, (long long)b->log.calls);
    for (int64_t c = 0; c < a->log.calls && c < LOG_CAP; c++)
        ASSERT_MSG(memcmp(&a->log.inertia[c], &b->log.inertia[c], sizeof(double)) == 0 &&
                       a->log.run[c] == b->log.run[c],
                   "%s: progress call %lld: inertia %.17g vs %.17g", what, (long long)c,
                   a->log.inertia[c], b->log.inertia[c]);
}

static const int KERNELS[3] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};
static const int ASSIGNS[2] = {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};

static const int BOUNDED[2] = {STRATA_ALGO_HAMERLY, STRATA_ALGO_YINYANG};

/* Lloyd once (1 thread), Hamerly and Yinyang on threads 1, 2, 3: all bitwise
 * equal, for every kernel this CPU runs and both assignment methods. Returns
 * the Lloyd iterations of the last combination (to check a case is not
 * trivial). */
static int64_t check_all(const gen_data *g, fit_cfg cf, const char *name)
{
    int64_t iters = 0;
    for (int kx = 0; kx < 3; kx++) {
        if (!strata_kernel_available(KERNELS[kx]))
            continue;
        for (int ax = 0; ax < 2; ax++) {
            fit_out ref, h;
            cf.kernel = KERNELS[kx];
            cf.assign = ASSIGNS[ax];
            cf.algorithm = STRATA_ALGO_LLOYD;
            cf.threads = 1;
            fit(g, &cf, &ref);
            ASSERT_EQ_INT(ref.algorithm, STRATA_ALGO_LLOYD);
            iters = ref.n_iter;
            for (int bx = 0; bx < 2; bx++)
                for (int64_t th = 1; th <= 3; th++) {
                    char what[200];
                    snprintf(what, sizeof what, "%s, %s, %s, %s, %s, %s, %lld threads", name,
                             BOUNDED[bx] == STRATA_ALGO_HAMERLY ? "hamerly" : "yinyang",
                             g->dtype == STRATA_FLOAT32 ? "float32" : "float64",
                             g->w ? "weighted" : "unweighted", strata_kernel_name(KERNELS[kx]),
                             ASSIGNS[ax] == STRATA_ASSIGN_GEMM ? "gemm" : "fused", (long long)th);
                    cf.algorithm = BOUNDED[bx];
                    cf.threads = th;
                    fit(g, &cf, &h);
                    ASSERT_EQ_INT(h.algorithm, BOUNDED[bx]);
                    assert_same(&ref, &h, what);
                    fit_free(&h);
                }
            fit_free(&ref);
        }
    }
    return iters;
}

/* Blobs, random rows as the start, both dtypes, weighted or not, tol 0 (until
 * no label changes) and 1e-4, and a max_iter cut (the final pass after it). */
static void test_blobs(void)
{
    const struct {
        int64_t n, d, stride, nblobs, k;
        double spread, sd;
    } cases[] = {
        {8200, 3, 3, 6, 6, 12.0, 1.0},   /* separated: most rows skipped; 2 chunks */
        {4500, 8, 10, 10, 10, 6.0, 1.0}, /* overlapping, padded rows */
        {2000, 2, 2, 30, 25, 3.0, 1.0},  /* heavily overlapping, many near-ties */
        {1500, 16, 16, 5, 40, 4.0, 1.0}, /* k past the scalar kernel's scores() limit */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int dt = 0; dt < 2; dt++)
            for (int weighted = 0; weighted < 2; weighted++) {
                gen_data g;
                gen_blobs(&g, 100 + 7 * c + (uint64_t)(2 * dt + weighted),
                          dt ? STRATA_FLOAT32 : STRATA_FLOAT64, cases[c].n, cases[c].d,
                          cases[c].stride, cases[c].nblobs, cases[c].spread, cases[c].sd, 3.0,
                          weighted);
                test_rng r;
                rng_seed(&r, 5 + c);
                double *init = test_alloc((size_t)(cases[c].k * cases[c].d), sizeof(double));
                gen_pick_rows(&g, &r, cases[c].k, init);
                fit_cfg cf = {.k = cases[c].k, .max_iter = 60, .tol = 0.0, .init = init};
                char name[64];
                snprintf(name, sizeof name, "blobs case %zu, tol 0", c);
                int64_t it = check_all(&g, cf, name);
                ASSERT_MSG(it > 3, "%s: only %lld iterations, not a test of the bounds", name,
                           (long long)it);
                cf.tol = 1e-4;
                snprintf(name, sizeof name, "blobs case %zu, tol 1e-4", c);
                check_all(&g, cf, name);
                cf.tol = 0.0;
                cf.max_iter = 3;
                snprintf(name, sizeof name, "blobs case %zu, max_iter 3", c);
                check_all(&g, cf, name);
                free(init);
                gen_free(&g);
            }
}

/* Uniform random rows: no cluster structure, so many rows sit near a
 * boundary in every iteration; float32 rows far from the origin (offset 1e3)
 * make the kernel's rounding large against the gaps. */
static void test_uniform(void)
{
    for (int dt = 0; dt < 2; dt++)
        for (int off = 0; off < 2; off++) {
            gen_data g;
            /* one blob of sd 0 is its centre: fill the rows ourselves */
            gen_blobs(&g, 900 + (uint64_t)(2 * dt + off), dt ? STRATA_FLOAT32 : STRATA_FLOAT64,
                      3000, 4, 4, 1, 1.0, 1.0, 0.0, 0);
            test_rng r;
            rng_seed(&r, 17 + (uint64_t)(2 * dt + off));
            for (int64_t i = 0; i < g.n; i++)
                for (int64_t f = 0; f < g.d; f++)
                    gen_set(&g, i, f, (off ? 1000.0 : 0.0) + rng_uniform(&r));
            fit_cfg cf = {.k = 12, .max_iter = 80, .tol = 0.0, .seed = 3};
            check_all(&g, cf, off ? "uniform, offset 1e3, k-means++" : "uniform, k-means++");
            gen_free(&g);
        }
}

/* Integer grids: many rows exactly equidistant from two (or four) centroids
 * in the first iterations, which the kernel settles by the lowest index;
 * every row repeated 3 times (duplicates); and equal initial centroids (the
 * second copy never wins a row: an empty cluster to relocate). */
static void test_ties_and_duplicates(void)
{
    for (int dt = 0; dt < 2; dt++)
        for (int weighted = 0; weighted < 2; weighted++) {
            const int64_t side = 21, reps = 3, n = side * side * reps;
            gen_data g;
            gen_blobs(&g, 7, dt ? STRATA_FLOAT32 : STRATA_FLOAT64, n, 2, 2, 1, 1.0, 1.0, 0.0,
                      weighted);
            for (int64_t i = 0; i < n; i++) {
                int64_t p = i / reps;
                gen_set(&g, i, 0, (double)(p % side));
                gen_set(&g, i, 1, (double)(p / side));
            }
            /* symmetric starts: the bisectors x = 10, y = 10 go through grid rows */
            const double init4[] = {5, 5, 15, 5, 5, 15, 15, 15};
            const double init3[] = {4, 10, 16, 10, 4, 10}; /* two equal centroids */
            const double init2[] = {10, 4, 10, 16};
            fit_cfg cf = {.k = 4, .max_iter = 100, .tol = 0.0, .init = init4};
            check_all(&g, cf, "grid, 4 centroids");
            cf.k = 3;
            cf.init = init3;
            check_all(&g, cf, "grid, equal centroids");
            cf.k = 2;
            cf.init = init2;
            check_all(&g, cf, "grid, 2 centroids");
            /* k-means++ and n_init > 1 (bounds reset between runs) */
            fit_cfg pp = {.k = 9, .max_iter = 100, .tol = 1e-4, .seed = 11, .n_init = 3};
            check_all(&g, pp, "grid, k-means++, n_init 3");
            gen_free(&g);
        }
}

/* Small integer data in 1 to 3 dimensions with few distinct values: exact
 * ties are common in every iteration (centroids are means of integers, so
 * bisectors often pass through rows), and in one dimension every centroid
 * moves along the line through the rows, the case where a bound taken from
 * rounded scores without a margin would first let a wrong label through. */
static void test_integer_data(void)
{
    for (int s = 0; s < 40; s++) {
        test_rng r;
        rng_seed(&r, 31337 + (uint64_t)s);
        const int dtype = s % 2 ? STRATA_FLOAT32 : STRATA_FLOAT64;
        const int64_t d = 1 + s % 3, n = rng_int(&r, 200, 900), vmax = rng_int(&r, 3, 40);
        gen_data g;
        gen_blobs(&g, 70 + (uint64_t)s, dtype, n, d, d, 1, 1.0, 1.0, 0.0, s % 4 == 3);
        const double offset = s % 5 == 4 ? 4096.0 : 0.0; /* coarse float32 spacing */
        for (int64_t i = 0; i < n; i++)
            for (int64_t f = 0; f < d; f++)
                gen_set(&g, i, f, offset + (double)rng_int(&r, 0, vmax));
        fit_cfg cf = {.k = rng_int(&r, 2, 12), .max_iter = 100, .tol = 0.0,
                      .seed = (int64_t)s, .n_init = 2};
        char name[64];
        snprintf(name, sizeof name, "integers, set %d", s);
        check_all(&g, cf, name);
        gen_free(&g);
    }
}

/* k = 1 (no second centroid: an infinite lower bound) and k large against n
 * (k past every kernel's one-call scores limit for float64). */
static void test_extreme_k(void)
{
    for (int dt = 0; dt < 2; dt++) {
        gen_data g;
        gen_blobs(&g, 55 + (uint64_t)dt, dt ? STRATA_FLOAT32 : STRATA_FLOAT64, 2500, 3, 3, 40,
                  8.0, 1.0, 0.0, 0);
        fit_cfg cf = {.k = 1, .max_iter = 50, .tol = 0.0, .seed = 1};
        check_all(&g, cf, "k = 1");
        cf.k = 150;
        cf.max_iter = 40;
        check_all(&g, cf, "k = 150");
        gen_free(&g);
    }
}

/* Yinyang over k = 2..300: fewer centroids than one group (2, 5), one group
 * exactly and one more (16, 17: the AVX-512 float32 group width; 8, 9 the
 * others'), k not a multiple of the width, and k past 16 groups of the
 * narrowest width (255, 300: groups widened). Bitwise against Lloyd from
 * the same start, threads 1 and 2, float32 and float64, weighted or not
 * (with zero weights), on overlapping blobs (rows change groups for many
 * iterations) and on data with every row twice. */
static void test_yinyang_k_range(void)
{
    static const int64_t ks[] = {2, 5, 8, 9, 16, 17, 33, 64, 100, 255, 300};
    for (int dt = 0; dt < 2; dt++)
        for (int weighted = 0; weighted < 2; weighted++) {
            gen_data g;
            gen_blobs(&g, 2024 + (uint64_t)(2 * dt + weighted), dt ? STRATA_FLOAT32 : STRATA_FLOAT64,
                      1400, 3, 3, 40, 4.0, 1.0, 0.0, weighted);
            for (int64_t i = 1; i < g.n; i += 2) /* every odd row repeats the even one */
                for (int64_t f = 0; f < g.d; f++)
                    gen_set(&g, i, f,
                            g.dtype == STRATA_FLOAT32
                                ? (double)((const float *)g.x)[(i - 1) * g.stride + f]
                                : ((const double *)g.x)[(i - 1) * g.stride + f]);
            for (size_t kx = 0; kx < sizeof ks / sizeof ks[0]; kx++) {
                test_rng r;
                rng_seed(&r, 77 + kx);
                double *init = test_alloc((size_t)(ks[kx] * g.d), sizeof(double));
                gen_pick_rows(&g, &r, ks[kx], init);
                fit_cfg cf = {.k = ks[kx], .max_iter = 40, .tol = 0.0, .init = init, .threads = 1,
                              .algorithm = STRATA_ALGO_LLOYD};
                fit_out ref, y;
                fit(&g, &cf, &ref);
                ASSERT_MSG(ref.n_iter > 3, "k = %lld: only %lld iterations", (long long)ks[kx],
                           (long long)ref.n_iter);
                for (int64_t th = 1; th <= 2; th++) {
                    char what[160];
                    snprintf(what, sizeof what, "yinyang k = %lld, %s, %s, %lld threads",
                             (long long)ks[kx], dt ? "float32" : "float64",
                             weighted ? "weighted" : "unweighted", (long long)th);
                    cf.algorithm = STRATA_ALGO_YINYANG;
                    cf.threads = th;
                    fit(&g, &cf, &y);
                    ASSERT_EQ_INT(y.algorithm, STRATA_ALGO_YINYANG);
                    assert_same(&ref, &y, what);
                    fit_free(&y);
                }
                fit_free(&ref);
                free(init);
            }
            gen_free(&g);
        }
}

/* Tie-tolerant: Hamerly against the independent double reference, on
 * well-conditioned cases only (the reference rounds differently). */
static void test_against_reference(void)
{
    int replaced = 0;
    for (int idx = 0; idx < 8; idx++) {
        int dtype = idx % 2 ? STRATA_FLOAT32 : STRATA_FLOAT64;
        for (int attempt = 0;; attempt++) {
            ASSERT_MSG(attempt < 50, "case %d: no well-conditioned data in 50 attempts", idx);
            gen_data g;
            gen_blobs(&g, 4242 + 97 * (uint64_t)idx + 7919 * (uint64_t)attempt, dtype, 1000,
                      2 + idx, 2 + idx, 8, 100.0, 1.0, 2.0, idx % 4 >= 2);
            test_rng r;
            rng_seed(&r, 99 + (uint64_t)idx + 1000 * (uint64_t)attempt);
            /* near the blob centres, so the start does not split a blob */
            double *init = test_alloc((size_t)(8 * g.d), sizeof(double));
            for (int64_t j = 0; j < 8 * g.d; j++)
                init[j] = g.centers[j] + 3.0 * (rng_uniform(&r) - 0.5);
            ref_data rd = gen_ref(&g);
            ref_fit ref;
            int ok = ref_lloyd(&rd, init, 8, 300, 1e-4, &ref) == 0 &&
                     ref_well_conditioned(&ref, dtype);
            if (ok) {
                fit_out h;
                fit_cfg cf = {.k = 8, .max_iter = 300, .tol = 1e-4, .init = init, .threads = 2,
                              .algorithm = STRATA_ALGO_HAMERLY};
                fit(&g, &cf, &h);
                for (int64_t i = 0; i < g.n; i++)
                    ASSERT_MSG(h.labels[i] == ref.labels[i],
                               "case %d row %lld: %d vs reference %d", idx, (long long)i,
                               h.labels[i], ref.labels[i]);
                ASSERT_EQ_INT(h.n_iter, ref.n_iter);
                ASSERT_EQ_INT(h.converged, ref.converged);
                ASSERT_REL(h.inertia, ref.inertia, inertia_rtol(dtype));
                for (int64_t j = 0; j < 8 * g.d; j++)
                    ASSERT_NEAR(h.c[j], ref.centroids[j], 1e-6 * (1.0 + fabs(ref.centroids[j])));
                fit_free(&h);
            } else {
                replaced++;
            }
            ref_fit_free(&ref);
            free(init);
            gen_free(&g);
            if (ok)
                break;
        }
    }
    fprintf(stderr, "  %d ill-conditioned or empty-cluster cases replaced\n", replaced);
}

/* AUTO resolves to a concrete algorithm, reported by the result key. */
static void test_result_key(void)
{
    gen_data g;
    gen_blobs(&g, 3, STRATA_FLOAT64, 500, 2, 2, 3, 10.0, 1.0, 0.0, 0);
    fit_out o;
    fit_cfg cf = {.k = 3, .max_iter = 50, .tol = 1e-4, .seed = 2, .algorithm = STRATA_ALGO_AUTO};
    fit(&g, &cf, &o);
    ASSERT_TRUE(o.algorithm == STRATA_ALGO_LLOYD || o.algorithm == STRATA_ALGO_HAMERLY);
    fit_free(&o);
    strata_kmeans *km = test_new_kmeans();
    int64_t v = -1;
    ASSERT_STATUS(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &v), STRATA_E_STATE);
    const double c[2] = {0.0, 1.0};
    ASSERT_OK(strata_kmeans_set_model(km, c, 1, 2));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &v));
    ASSERT_EQ_INT(v, STRATA_ALGO_LLOYD);
    strata_kmeans_free(km);
    gen_free(&g);
}

int main(void)
{
    RUN_TEST(test_result_key);
    RUN_TEST(test_ties_and_duplicates);
    RUN_TEST(test_extreme_k);
    RUN_TEST(test_yinyang_k_range);
    RUN_TEST(test_integer_data);
    RUN_TEST(test_uniform);
    RUN_TEST(test_blobs);
    RUN_TEST(test_against_reference);
    return test_summary();
}
