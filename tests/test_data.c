/* The UEF clustering benchmark (P. Fränti's group; see ../shared/data/README.md):
 * Lloyd from the ground-truth centroids with tol = 0 must reach the
 * published SSE_opt (to the 11 digits given) in the published number of
 * iterations ("Lloyd iters from GT": assignment passes including the final
 * one in which no label changed). The reference Lloyd is checked on the same
 * table, which validates the reference too.
 * Skips (exit 77) when ../shared/data is absent. */
#include <errno.h>
#include <sys/stat.h>

#include "check.h"

#ifndef STRATA_TEST_SHARED_DATA
#define STRATA_TEST_SHARED_DATA "../shared/data"
#endif

static char g_dir[4096];

typedef struct uef_set {
    const char *data, *gt;
    int64_t n, d, k;
    double sse_opt;
    int64_t iters;
} uef_set;

/* From the README's table. */
static const uef_set SETS[] = {
    {"s1.txt", "s1_gt.txt", 5000, 2, 15, 8.9176500067e12, 3},
    {"s2.txt", "s2_gt.txt", 5000, 2, 15, 1.3279318158e13, 5},
    {"s3.txt", "s3_gt.txt", 5000, 2, 15, 1.6889602517e13, 7},
    {"s4.txt", "s4_gt.txt", 5000, 2, 15, 1.5705569482e13, 9},
    {"a1.txt", "a1_gt.txt", 3000, 2, 20, 1.2146338011e10, 3},
    {"a2.txt", "a2_gt.txt", 5250, 2, 35, 2.0286736642e10, 4},
    {"a3.txt", "a3_gt.txt", 7500, 2, 50, 2.8937496282e10, 4},
    {"unbalance.txt", "unbalance_gt.txt", 6500, 2, 8, 2.1449206285e11, 2},
    {"dim032.txt", "dim032_gt.txt", 1024, 32, 16, 2.3253510938e5, 2},
    {"birch1.txt", "birch1-gt.txt", 100000, 2, 100, 9.2772858282e13, 8},
    {"birch2.txt", "birch2-gt.txt", 100000, 2, 100, 4.5672449635e11, 3},
};

/* Whitespace-separated numbers (spaces, tabs, CR, LF; the last line may
 * lack its newline). Exactly `count` numbers expected. */
static double *load_numbers(const char *name, int64_t count)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "rb");
    ASSERT_MSG(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ASSERT_TRUE(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    ASSERT_TRUE(size > 0 && fseek(f, 0, SEEK_SET) == 0);
    char *buf = test_alloc((size_t)size + 1, 1);
    ASSERT_TRUE(fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    buf[size] = '\0';
    double *v = test_alloc((size_t)count, sizeof(double));
    int64_t got = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            break;
        char *end;
        double x = strtod(p, &end);
        ASSERT_MSG(end != p, "%s: not a number at offset %ld", name, (long)(p - buf));
        ASSERT_MSG(got < count, "%s: more than %lld numbers", name, (long long)count);
        v[got++] = x;
        p = end;
    }
    ASSERT_MSG(got == count, "%s: %lld numbers, expected %lld", name, (long long)got,
               (long long)count);
    free(buf);
    return v;
}

static void run_set(const uef_set *s)
{
    double *x = load_numbers(s->data, s->n * s->d);
    double *gt = load_numbers(s->gt, s->k * s->d);
    gen_data g = {STRATA_FLOAT64, s->n, s->d, s->d, s->k, x, NULL, NULL, NULL};
    ref_data X = gen_ref(&g);

    ref_fit ref;
    ASSERT_TRUE(ref_lloyd(&X, gt, s->k, 300, 0.0, &ref) == 0);
    ASSERT_MSG(fabs(ref.inertia - s->sse_opt) <= 1e-9 * s->sse_opt,
               "%s: reference SSE %.11g, published %.11g", s->data, ref.inertia, s->sse_opt);
    ASSERT_MSG(ref.n_iter == s->iters, "%s: reference took %lld iterations, published %lld",
               s->data, (long long)ref.n_iter, (long long)s->iters);

    const int assigns[2] = {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};
    for (int a = 0; a < 2; a++) {
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, assigns[a]));
        ASSERT_OK(strata_kmeans_set_init_centroids(km, gt, s->k, s->d));
        ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT64, x, s->n, s->d, 0, NULL));
        double in = result_inertia(km);
        int64_t it = result_int(km, STRATA_KMEANS_RESULT_N_ITER);
        fprintf(stderr, "  %-14s assign %d: SSE %.11g (published %.11g), %lld iterations (%lld)\n",
                s->data, assigns[a], in, s->sse_opt, (long long)it, (long long)s->iters);
        ASSERT_MSG(fabs(in - s->sse_opt) <= 1e-9 * s->sse_opt, "%s: SSE %.11g, published %.11g",
                   s->data, in, s->sse_opt);
        ASSERT_EQ_INT(it, s->iters);
        ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_CONVERGED), 1);
        if (ref_well_conditioned(&ref, STRATA_FLOAT64)) {
            check_against_ref(km, &g, &ref, NULL, default_tols(STRATA_FLOAT64), s->data);
        } else {
            fprintf(stderr, "  %s: near-ties, labels not compared row by row\n", s->data);
        }
        strata_kmeans_free(km);
    }
    ref_fit_free(&ref);
    free(x);
    free(gt);
}

#define SET_TEST(fn, i)                                                   \
    static void fn(void)                                                  \
    {                                                                     \
        run_set(&SETS[i]);                                                \
    }
SET_TEST(test_s1, 0)
SET_TEST(test_s2, 1)
SET_TEST(test_s3, 2)
SET_TEST(test_s4, 3)
SET_TEST(test_a1, 4)
SET_TEST(test_a2, 5)
SET_TEST(test_a3, 6)
SET_TEST(test_unbalance, 7)
SET_TEST(test_dim032, 8)
SET_TEST(test_birch1, 9)
SET_TEST(test_birch2, 10)

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/uef_clustering_benchmark", STRATA_TEST_SHARED_DATA);
    struct stat st;
    if (stat(g_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: ../shared/data not found (looked for %s)\n", g_dir);
        return TEST_SKIP_CODE;
    }
    RUN_TEST(test_s1);
    RUN_TEST(test_s2);
    RUN_TEST(test_s3);
    RUN_TEST(test_s4);
    RUN_TEST(test_a1);
    RUN_TEST(test_a2);
    RUN_TEST(test_a3);
    RUN_TEST(test_unbalance);
    RUN_TEST(test_dim032);
    RUN_TEST(test_birch1);
    RUN_TEST(test_birch2);
    return test_summary();
}
