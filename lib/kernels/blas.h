/* OpenBLAS, loaded on first use (dlopen) instead of linked: its start-up
 * reserves a large buffer and, where the address space is limited (ulimit
 * -v), spins for ever before main() of every program linking libstrata.
 * Loaded lazily, it costs nothing to fits that never take the GEMM path, and
 * a limit is checked before loading it. */
#ifndef STRATA_KERNELS_BLAS_H
#define STRATA_KERNELS_BLAS_H

#include <stdint.h>

/* Row-major, no transposes: C (m x n) = A (m x k) . B (k x n), as
 * cblas_sgemm / cblas_dgemm with alpha = 1, beta = 0. */
typedef struct strata__blas {
    void (*sgemm)(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                  int ldc);
    void (*dgemm)(int m, int n, int k, const double *a, int lda, const double *b, int ldb,
                  double *c, int ldc);
} strata__blas;

/* The loaded BLAS, or NULL with *status (STRATA_E_NOMEM: the address-space
 * limit leaves too little room for its start-up; STRATA_E_UNSUPPORTED: the
 * library or its symbols are missing) and msg filled (msg may be NULL).
 * Thread-safe; the first successful call loads it, later calls return it. */
const strata__blas *strata__blas_get(int *status, char *msg);

#endif
