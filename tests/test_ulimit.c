/* Under a tight address-space limit (ulimit -v), libstrata loads OpenBLAS
 * only for the GEMM path, and only where the limit leaves room for its
 * start-up (which otherwise spins for ever): an explicit GEMM fit fails with
 * STRATA_E_NOMEM naming the limit, AUTO falls back to the fused kernels with
 * the same answer, and the fused path works. (The CLI side, `strata
 * --version` and a fit under `ulimit -v 180000`, is in tests/cli.) */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <unistd.h>

#include "test.h"

#define N 512
#define D 16
#define K 8
static float X[N][D];

static void fit_labels(int kernel, int assign, int expect, int32_t *labels)
{
    strata_kmeans *km;
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 1));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KERNEL, kernel));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, assign));
    int st = strata_kmeans_fit(km, STRATA_FLOAT32, X, N, D, 0, NULL);
    if (st != expect)
        TEST_FAIL("fit: status %d (%s), expected %d: %s", st, strata_status_str(st), expect,
                  strata_kmeans_last_error(km));
    if (st == STRATA_OK)
        ASSERT_OK(strata_kmeans_labels(km, labels, N));
    else
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "ulimit -v");
    strata_kmeans_free(km);
}

static void test_gemm_under_limit(void)
{
    static int32_t fused[N], autos[N];
    /* the portable kernel's AUTO rule takes GEMM from k*d = 64 */
    fit_labels(STRATA_KERNEL_SCALAR, STRATA_ASSIGN_GEMM, STRATA_E_NOMEM, NULL);
    fit_labels(STRATA_KERNEL_SCALAR, STRATA_ASSIGN_FUSED, STRATA_OK, fused);
    fit_labels(STRATA_KERNEL_SCALAR, STRATA_ASSIGN_AUTO, STRATA_OK, autos);
    ASSERT_TRUE(memcmp(fused, autos, sizeof fused) == 0);
}

int main(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            X[i][j] = (float)((i * 7 + j * 13) % 29) + 10.0f * (float)(i % K);
    /* 64 MiB more than this process maps now: far below OpenBLAS's needs */
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1)
        return TEST_SKIP_CODE;
    fclose(f);
    struct rlimit rl = {.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (64ul << 20), .rlim_max = RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return TEST_SKIP_CODE;
    RUN_TEST(test_gemm_under_limit);
    return test_summary();
}
