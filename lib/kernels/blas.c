#define _GNU_SOURCE /* dlopen flags */
#include "kernels/blas.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/status.h"
#include "strata.h"

#ifndef STRATA_BLAS_LIBRARY
#define STRATA_BLAS_LIBRARY "libopenblas.so.0"
#endif

/* Address space OpenBLAS's start-up needs: Debian's 0.3.21 asks for a
 * 128 MiB buffer and more per thread; measured to hang below ~300 MB of
 * limit and to run at 600 MB, so ask for twice what it took. */
#define BLAS_HEADROOM ((uint64_t)512 << 20)

typedef void sgemm_fn(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, const int,
                      const int, const int, const float, const float *, const int, const float *,
                      const int, const float, float *, const int);
typedef void dgemm_fn(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, const int,
                      const int, const int, const double, const double *, const int,
                      const double *, const int, const double, double *, const int);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sgemm_fn *blas_sgemm;
static dgemm_fn *blas_dgemm;
static int loaded;

static void sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                  int ldc)
{
    blas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
               ldc);
}

static void dgemm(int m, int n, int k, const double *a, int lda, const double *b, int ldb,
                  double *c, int ldc)
{
    blas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, 0.0, c,
               ldc);
}

static const strata__blas table = {sgemm, dgemm};

/* Bytes of address space this process may still map (UINT64_MAX: no limit). */
static uint64_t address_space_left(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return UINT64_MAX;
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    uint64_t used = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
    return used < rl.rlim_cur ? rl.rlim_cur - used : 0;
}

static int load(char *msg)
{
    uint64_t left = address_space_left();
    if (left < BLAS_HEADROOM)
        return strata__fail(msg, STRATA_E_NOMEM,
                            "not loading OpenBLAS for the GEMM path: its start-up needs about "
                            "%llu MiB of address space and the limit (ulimit -v) leaves %llu MiB; "
                            "use the fused assignment (STRATA_ASSIGN_FUSED)",
                            (unsigned long long)(BLAS_HEADROOM >> 20),
                            (unsigned long long)(left >> 20));
    const char *path = getenv("STRATA_BLAS_LIBRARY"); /* a host may point elsewhere */
    void *h = dlopen(path && path[0] ? path : STRATA_BLAS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!h && !(path && path[0]))
        h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return strata__fail(msg, STRATA_E_UNSUPPORTED, "cannot load OpenBLAS for the GEMM path: %s",
                            dlerror());
    blas_sgemm = (sgemm_fn *)dlsym(h, "cblas_sgemm");
    blas_dgemm = (dgemm_fn *)dlsym(h, "cblas_dgemm");
    if (!blas_sgemm || !blas_dgemm) {
        dlclose(h);
        return strata__fail(msg, STRATA_E_UNSUPPORTED,
                            "the BLAS library '%s' has no cblas_sgemm/cblas_dgemm",
                            path && path[0] ? path : STRATA_BLAS_LIBRARY);
    }
    return STRATA_OK;
}

const strata__blas *strata__blas_get(int *status, char *msg)
{
    pthread_mutex_lock(&lock);
    int rc = loaded ? STRATA_OK : load(msg);
    loaded = rc == STRATA_OK;
    pthread_mutex_unlock(&lock);
    *status = rc;
    return rc == STRATA_OK ? &table : NULL;
}
