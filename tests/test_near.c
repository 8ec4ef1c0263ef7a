/* The half test of streamed Lloyd passes (lib/kmeans/near.c), white box
 * like test_top2:
 * - the kernels' own_* against a long double sum: within the (2d + 8) u the
 *   header states, every kernel this CPU runs, float32 and float64, d across
 *   the vector widths' edges and the unrolled widths, a row stride beyond d,
 *   rows not a multiple of 8, features with a large common offset;
 * - a near pass labels every row as Lloyd's plain pass does, bitwise, for
 *   previous labels from nearby centroids (most rows kept: asserted) and for
 *   random ones (wrong labels must be scored), testing every block or only a
 *   sample, on clustered data, data with a large offset, duplicated
 *   centroids (nothing provable there), rows exactly halfway between two
 *   centroids (the tie goes to the lower index) and a few ulps from halfway
 *   (only the rounding margin tells those apart), k = 1 (every row kept),
 *   1 and 2 threads; with GEMM tables (whose bits depend on the block's
 *   shape) a near pass must be Lloyd's plain one;
 * - whole streamed Lloyd fits: bitwise the in-memory fit and the streamed
 *   fit with the test off (STRATA_STREAM_NEAR=0), rows kept asserted. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "kernels/kernels.h"
#include "kmeans/assign.h"
#include "kmeans/near.h"
#include "strata.h"

#define ROWS 53 /* not a multiple of 4 or 8 */

static uint64_t g_rng = 4242;

static double uniform(void) /* [-1, 1) on a grid of 2^-10 */
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)((int64_t)(g_rng >> 40) % 2048 - 1024) / 1024.0;
}

static int64_t below(int64_t n)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((g_rng >> 33) % (uint64_t)n);
}

static const int g_kernels[] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};

#define CHECK_OWN(NAME, T, SFX)                                                                \
    static int64_t NAME(const strata__kernels *kn, int64_t d, double offset)                   \
    {                                                                                          \
        const int64_t k = 7, ld = d + 3;                                                       \
        T *x = malloc(sizeof(T) * ROWS * ld), *c = malloc(sizeof(T) * k * d);                  \
        T *out = malloc(sizeof(T) * ROWS);                                                     \
        int32_t *lab = malloc(sizeof(int32_t) * ROWS);                                         \
        for (int64_t i = 0; i < ROWS * ld; i++)                                                \
            x[i] = (T)(offset + 4 * uniform());                                                \
        for (int64_t i = 0; i < k * d; i++)                                                    \
            c[i] = (T)(offset + 4 * uniform());                                                \
        for (int64_t r = 0; r < ROWS; r++)                                                     \
            lab[r] = (int32_t)below(k);                                                        \
        for (int64_t rows = 1; rows <= ROWS; rows += rows < 17 ? 1 : 12) {                     \
            for (int64_t r = 0; r < ROWS; r++)                                                 \
                out[r] = (T)-1;                                                                \
            kn->own##SFX(x, rows, ld, d, lab, c, out);                                         \
            for (int64_t r = 0; r < ROWS; r++) {                                               \
                if (r >= rows) { /* nothing written beyond the rows */                         \
                    ASSERT_TRUE(out[r] == (T)-1);                                              \
                    continue;                                                                  \
                }                                                                              \
                long double exact = 0;                                                         \
                for (int64_t f = 0; f < d; f++) {                                              \
                    const long double v = (long double)x[r * ld + f] - c[lab[r] * d + f];     \
                    exact += v * v;                                                            \
                }                                                                              \
                const double u = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;                           \
                ASSERT_MSG(fabsl((long double)out[r] - exact) <= (2 * d + 8) * u * exact,     \
                           "kernel %d d %lld rows %lld row %lld: own %.17g, exact %.17Lg",    \
                           kn->id, (long long)d, (long long)rows, (long long)r,               \
                           (double)out[r], exact);                                             \
            }                                                                                  \
        }                                                                                      \
        free(x), free(c), free(out), free(lab);                                                \
        return ROWS;                                                                           \
    }
CHECK_OWN(check_own_f32, float, _f32)
CHECK_OWN(check_own_f64, double, _f64)

static void test_own_within_bound(void)
{
    static const int64_t ds[] = {1, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40};
    int64_t checked = 0;
    for (int ki = 0; ki < 3; ki++) {
        const strata__kernels *kn = strata__kernels_get(g_kernels[ki]);
        if (!kn) {
            fprintf(stderr, "  kernel %s not available on this CPU: SKIPPED\n",
                    strata_kernel_name(g_kernels[ki]));
            continue;
        }
        for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
            for (int off = 0; off < 2; off++) {
                checked += check_own_f32(kn, ds[a], off ? 1000.0 : 0.0);
                checked += check_own_f64(kn, ds[a], off ? 1000.0 : 0.0);
            }
    }
    ASSERT_TRUE(checked > 0);
}

/* The kinds of data of the near-pass cases. */
enum { BLOBS, OFFSET, DUPLICATE, HALFWAY, NEAR_TIE, KINDS };

typedef struct near_case {
    int dtype, kind;
    int64_t n, d, k;
} near_case;

/* Rows and two sets of centroids: c1 (where the previous labels come from)
 * and c2 (the pass's), both k x d. */
static void make_case(const near_case *nc, double *x, double *c1, double *c2)
{
    const int64_t n = nc->n, d = nc->d, k = nc->k;
    const double off = nc->kind == OFFSET ? 5000.0 : 0.0;
    if (nc->kind == NEAR_TIE) { /* rows a few ulps from halfway between two centroids 4
                                   apart on a line: there only the rounding margin tells
                                   the kernel's label (checked to fail without it) */
        const double ulp = nc->dtype == STRATA_FLOAT32 ? 0x1p-19 : 0x1p-48;
        for (int64_t j = 0; j < k; j++)
            for (int64_t f = 0; f < d; f++)
                c1[j * d + f] = c2[j * d + f] = f == 0 ? 16.0 + 4.0 * (double)j : 1.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t f = 0; f < d; f++)
                x[i * d + f] = f == 0 ? 18.0 + 4.0 * (double)below(k) + (double)(below(33) - 16) * ulp
                                      : 1.0;
        return;
    }
    if (nc->kind == HALFWAY) { /* centroids on a line, rows on the midpoints and beside */
        for (int64_t j = 0; j < k; j++)
            for (int64_t f = 0; f < d; f++)
                c1[j * d + f] = c2[j * d + f] = f == 0 ? 4.0 * (double)j : 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t f = 0; f < d; f++)
                x[i * d + f] = f == 0 ? 2.0 * (double)below(2 * k) + (i % 3 == 0 ? 0.0 : 0.25 * uniform())
                                      : (double)below(3);
        return;
    }
    for (int64_t j = 0; j < k; j++) /* at least 12 apart */
        for (int64_t f = 0; f < d; f++) {
            c1[j * d + f] = off + (f == 0 ? 12.0 * (double)j : 10.0 * uniform());
            c2[j * d + f] = c1[j * d + f] + 0.05 * uniform();
        }
    if (nc->kind == DUPLICATE && k > 2) /* centroid 1 twice: rows there are never provable */
        for (int64_t f = 0; f < d; f++)
            c2[2 * d + f] = c2[1 * d + f];
    for (int64_t i = 0; i < n; i++) { /* a row in four spread out to the next clusters */
        const int64_t j = below(k);
        const double spread = (i % 4 ? 2.0 : 8.0) / sqrt((double)d);
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = c1[j * d + f] + spread * uniform();
    }
}

static void plain_labels(const strata__tables *t, const strata__rowsrc *src, const double *c,
                         int32_t *labels)
{
    char msg[256] = "";
    strata__tables_set_centroids((strata__tables *)t, c);
    ASSERT_MSG(strata__assign_pass_src(t, src, labels, NULL, STRATA__PASS_LABEL, msg) == STRATA_OK,
               "%s", msg);
}

/* One case on one kernel: returns the rows the full test kept with the
 * previous labels. */
static int64_t check_near_case(const strata__kernels *kn, const near_case *nc, int assign,
                               int threads)
{
    const int64_t n = nc->n, d = nc->d, k = nc->k;
    const size_t es = nc->dtype == STRATA_FLOAT32 ? 4 : 8;
    double *xd = malloc(sizeof(double) * n * d), *c1 = malloc(sizeof(double) * k * d);
    double *c2 = malloc(sizeof(double) * k * d), *mean = calloc((size_t)d, sizeof(double));
    void *x = malloc(es * n * d);
    int32_t *ref = malloc(sizeof(int32_t) * n), *old = malloc(sizeof(int32_t) * n);
    int32_t *got = malloc(sizeof(int32_t) * n);
    make_case(nc, xd, c1, c2);
    for (int64_t i = 0; i < n * d; i++) {
        if (nc->dtype == STRATA_FLOAT32)
            ((float *)x)[i] = (float)xd[i];
        else
            ((double *)x)[i] = xd[i];
        mean[i % d] += xd[i] / (double)n;
    }
    const strata__data X = {nc->dtype, x, n, d, d, NULL, 0, NULL};
    const strata__rowsrc src = strata__rowsrc_of(&X);
    strata__tables t;
    ASSERT_EQ_INT(strata__tables_init(&t, &X, k, mean, kn, assign, threads), STRATA_OK);
    strata__near s;
    ASSERT_EQ_INT(strata__near_init(&s, &t), STRATA_OK);
    int64_t kept_full = 0;
    /* previous labels from c1, random, or the exact nearest centroid of c2
     * (where the kernel's rounding picks another, only the margin keeps the
     * test from vouching for the exact one) */
    for (int prev = 0; prev < 3; prev++)
        for (int probe = 0; probe < 2; probe++) {
            plain_labels(&t, &src, c1, old);
            for (int64_t i = 0; prev && i < n; i++) {
                old[i] = (int32_t)below(k);
                long double best = INFINITY;
                for (int64_t j = 0; prev == 2 && j < k; j++) {
                    long double s2 = 0;
                    for (int64_t f = 0; f < d; f++) {
                        const long double xv = nc->dtype == STRATA_FLOAT32
                                                   ? (long double)((float *)x)[i * d + f]
                                                   : (long double)((double *)x)[i * d + f];
                        s2 += (xv - c2[j * d + f]) * (xv - c2[j * d + f]);
                    }
                    if (s2 < best) {
                        best = s2;
                        old[i] = (int32_t)j;
                    }
                }
            }
            plain_labels(&t, &src, c2, ref);
            memcpy(got, old, sizeof(int32_t) * n);
            s.fresh = 0;
            s.probe = probe;
            char msg[256] = "";
            ASSERT_MSG(strata__near_pass_src(&s, &t, &src, got, NULL, STRATA__PASS_LABEL, msg) ==
                           STRATA_OK, "%s", msg);
            int64_t bad = -1;
            for (int64_t i = 0; i < n && bad < 0; i++)
                if (got[i] != ref[i])
                    bad = i;
            ASSERT_MSG(bad < 0,
                       "kernel %d dtype %d kind %d d %lld k %lld assign %d threads %d prev %d "
                       "probe %d: row %lld labelled %d, Lloyd %d (previous %d)", kn->id,
                       nc->dtype, nc->kind, (long long)d, (long long)k, assign, threads, prev,
                       probe, (long long)bad, bad < 0 ? 0 : got[bad], bad < 0 ? 0 : ref[bad],
                       bad < 0 ? 0 : old[bad]);
            ASSERT_TRUE(s.kept <= s.tested && s.tested <= n);
            ASSERT_TRUE(probe || s.tested == (assign == STRATA_ASSIGN_GEMM ? 0 : n));
            if (!prev && !probe)
                kept_full = s.kept;
        }
    strata__near_free(&s);
    strata__tables_free(&t);
    free(xd), free(c1), free(c2), free(mean), free(x), free(ref), free(old), free(got);
    return kept_full;
}

static void test_near_pass_is_lloyd(void)
{
    static const int64_t dk[][2] = {{1, 4}, {2, 3}, {5, 16}, {16, 16}, {16, 64}, {21, 9}, {6, 1}};
    int64_t cases = 0;
    for (int ki = 0; ki < 3; ki++) {
        const strata__kernels *kn = strata__kernels_get(g_kernels[ki]);
        if (!kn)
            continue; /* said by the test above */
        for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
            for (int kind = 0; kind < KINDS; kind++)
                for (size_t a = 0; a < sizeof dk / sizeof dk[0]; a++)
                    for (int gemm = 0; gemm < 2; gemm++)
                        for (int threads = 1; threads <= 2; threads++) {
                            const near_case nc = {dt, kind, 3001, dk[a][0], dk[a][1]};
                            const int assign = gemm ? STRATA_ASSIGN_GEMM : STRATA_ASSIGN_FUSED;
                            int st;
                            if (gemm && !strata__blas_get(&st, NULL))
                                continue;
                            const int64_t kept = check_near_case(kn, &nc, assign, threads);
                            cases++;
                            if (gemm) /* GEMM's bits depend on the block: never tested */
                                ASSERT_MSG(kept == 0, "GEMM: %lld rows kept", (long long)kept);
                            else if (nc.k == 1) /* nothing to compare against: every row */
                                ASSERT_MSG(kept == nc.n, "k = 1: %lld of %lld kept",
                                           (long long)kept, (long long)nc.n);
                            else if (kind == BLOBS || kind == OFFSET)
                                /* the centroids barely moved: most rows provable */
                                ASSERT_MSG(kept > nc.n / 2,
                                           "kernel %d dtype %d kind %d d %lld k %lld: only "
                                           "%lld of %lld rows kept", kn->id, dt, kind,
                                           (long long)nc.d, (long long)nc.k, (long long)kept,
                                           (long long)nc.n);
                        }
    }
    fprintf(stderr, "  %lld cases\n", (long long)cases);
    ASSERT_TRUE(cases > 0);
}

typedef struct fit_result {
    double c[8 * 6], inertia;
    int32_t *labels;
    int64_t n_iter, streamed, algorithm;
} fit_result;

static void fit(const void *x, int dtype, int64_t n, int64_t d, int64_t k, int threads,
                int64_t block_rows, fit_result *r)
{
    strata_kmeans *km = NULL;
    ASSERT_EQ_INT(strata_kmeans_create(&km), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_K, k), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, STRATA_ALGO_LLOYD), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 40), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_THREADS, threads), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, block_rows), STRATA_OK);
    /* from the first k rows, as the streamed benchmark starts: early passes
     * move many rows (probing), later ones few (every block tested) */
    double c0[8 * 6];
    for (int64_t i = 0; i < k * d; i++)
        c0[i] = dtype == STRATA_FLOAT32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
    ASSERT_EQ_INT(strata_kmeans_set_init_centroids(km, c0, k, d), STRATA_OK);
    const int st = strata_kmeans_fit(km, dtype, x, n, d, d, NULL);
    ASSERT_MSG(st == STRATA_OK, "%s", strata_kmeans_last_error(km));
    r->labels = malloc(sizeof(int32_t) * n);
    ASSERT_EQ_INT(strata_kmeans_centroids(km, r->c, k, d), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_labels(km, r->labels, n), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &r->streamed), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &r->algorithm),
                  STRATA_OK);
    strata_kmeans_free(km);
}

static void assert_same_fit(const fit_result *a, const fit_result *b, int64_t n, int64_t kd,
                            const char *what)
{
    ASSERT_MSG(memcmp(a->c, b->c, sizeof(double) * kd) == 0, "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof(double)) == 0, "%s: inertia %.17g vs %.17g",
               what, a->inertia, b->inertia);
    ASSERT_MSG(a->n_iter == b->n_iter, "%s: n_iter %lld vs %lld", what, (long long)a->n_iter,
               (long long)b->n_iter);
    ASSERT_MSG(memcmp(a->labels, b->labels, sizeof(int32_t) * n) == 0, "%s: labels differ", what);
}

/* Whole fits: a streamed Lloyd fit (the memory stream, blocks of rows as a
 * file's) tests rows against their previous centroids (asserted: rows were
 * kept, also in passes that test every block) and gives bitwise the
 * in-memory fit and the streamed fit without the test. */
static void test_streamed_fit_is_lloyd(void)
{
    enum { N = 24001, D = 6, K = 8 };
    static const int64_t blocks[] = {4096, 8192};
    double *xd = malloc(sizeof(double) * N * D), c[K * D];
    float *xf = malloc(sizeof(float) * N * D);
    g_rng = 1; /* the same data whatever ran before */
    for (int64_t j = 0; j < K * D; j++)
        c[j] = 6.0 * uniform();
    for (int64_t i = 0; i < N; i++) {
        const int64_t j = below(K);
        for (int64_t f = 0; f < D; f++)
            xf[i * D + f] = (float)(xd[i * D + f] = c[j * D + f] + 2.0 * uniform());
    }
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        int64_t first_kept = -1;
        for (int threads = 1; threads <= 2; threads++) {
            const void *x = dt == STRATA_FLOAT32 ? (const void *)xf : (const void *)xd;
            fit_result mem, off;
            fit(x, dt, N, D, K, threads, 0, &mem);
            ASSERT_MSG(mem.streamed == 0 && mem.n_iter > 5, "in memory: %lld iterations",
                       (long long)mem.n_iter);
            for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
                char what[96];
                snprintf(what, sizeof what, "dtype %d threads %d block %lld", dt, threads,
                         (long long)blocks[b]);
                const int64_t before = strata__near_kept_rows();
                fit_result on;
                fit(x, dt, N, D, K, threads, blocks[b], &on);
                const int64_t kept = strata__near_kept_rows() - before;
                ASSERT_TRUE(on.streamed == 1 && on.algorithm == STRATA_ALGO_LLOYD);
                /* more than probing passes' samples could keep: whole passes */
                /* the same rows whatever the threads and blocks: the probing
                 * choices depend on the labels only */
                if (first_kept < 0)
                    first_kept = kept;
                ASSERT_MSG(kept == first_kept, "%s: %lld rows kept, %lld before", what,
                           (long long)kept, (long long)first_kept);
                ASSERT_MSG(kept > on.n_iter * N / 4, "%s: %lld rows kept in %lld iterations", what,
                           (long long)kept, (long long)on.n_iter);
                assert_same_fit(&mem, &on, N, K * D, what);
                setenv("STRATA_STREAM_NEAR", "0", 1);
                fit(x, dt, N, D, K, threads, blocks[b], &off);
                unsetenv("STRATA_STREAM_NEAR");
                ASSERT_MSG(strata__near_kept_rows() == before + kept, "%s: the test ran with "
                           "STRATA_STREAM_NEAR=0", what);
                assert_same_fit(&on, &off, N, K * D, what);
                free(on.labels);
                free(off.labels);
            }
            free(mem.labels);
        }
    }
    free(xd);
    free(xf);
}

int main(void)
{
    RUN_TEST(test_own_within_bound);
    RUN_TEST(test_near_pass_is_lloyd);
    RUN_TEST(test_streamed_fit_is_lloyd);
    return test_summary();
}
