/* A kernel's rows-in-lanes assignment (assign_few_*) against its general
 * one (assign_*) on the same cache-resident centred rows, 4096 rows of d
 * features, k centroids, in calls of ROWS rows (64: a pass's block; fewer:
 * the compacted rows a streamed pass scores), float32 or float64 (DTYPE 1
 * or 2): ns a row each. What few_f32_avx512 and few_f64_avx512
 * (lib/kernels/avx512.c) were set from
 * (docs/performance.md, "AVX-512 rows in lanes, rechecked"). White box (the
 * kernel table is internal), not built by CMake; against a build tree's
 * static library:
 *
 *   gcc -O2 -Iinclude -Ilib -Ibuild/include tests/micro/few_rows.c build/libstrata.a \
 *       -o /tmp/few_rows -lm -fopenmp -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lopenblas
 *   /tmp/few_rows KERNEL ROWS K D [DTYPE]      # e.g. /tmp/few_rows 3 64 16 6
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/kernels.h"
#include "strata.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define RUN(NAME, T, SFX)                                                                      \
    static int NAME(const strata__kernels *kn, int m, int k, int d)                            \
    {                                                                                          \
        enum { N = 4096, KP = 16, BLOCK = 64, REPS = 1500 };                                   \
        if (!kn->assign_few##SFX || k > KP) {                                                  \
            fprintf(stderr, "no rows-in-lanes kernel here, or K over 16\n");                   \
            return 1;                                                                          \
        }                                                                                      \
        T *x = malloc(sizeof(T) * N * d), *ct = malloc(sizeof(T) * d * KP), bias[KP];         \
        int32_t *lab = malloc(sizeof(int32_t) * N);                                            \
        srand(1);                                                                              \
        for (int i = 0; i < N * d; i++)                                                        \
            x[i] = rand() / (T)RAND_MAX;                                                       \
        for (int i = 0; i < d * KP; i++)                                                       \
            ct[i] = rand() / (T)RAND_MAX;                                                      \
        for (int j = 0; j < KP; j++) /* padding columns, as the tables pad */                  \
            bias[j] = j < k ? (T)1 : (T)__builtin_inf();                                       \
        double t0 = now();                                                                     \
        for (int r = 0; r < REPS; r++)                                                         \
            for (int b = 0; b < N; b += BLOCK)                                                 \
                kn->assign##SFX(x + b * d, m, d, d, NULL, ct, bias, KP, lab + b);              \
        const double assign = (now() - t0) / ((double)REPS * (N / BLOCK) * m) * 1e9;           \
        t0 = now();                                                                            \
        for (int r = 0; r < REPS; r++)                                                         \
            for (int b = 0; b < N; b += BLOCK)                                                 \
                kn->assign_few##SFX(x + b * d, m, d, ct, bias, k, KP, lab + b);                \
        const double few = (now() - t0) / ((double)REPS * (N / BLOCK) * m) * 1e9;              \
        printf("kernel %s %s rows %d k %d d %d: assign %.3f ns a row, assign_few %.3f, "       \
               "few/assign %.2f\n", strata_kernel_name(kn->id), #T, m, k, d, assign, few,      \
               few / assign);                                                                  \
        free(x), free(ct), free(lab);                                                          \
        return 0;                                                                              \
    }
RUN(run_f32, float, _f32)
RUN(run_f64, double, _f64)

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: few_rows KERNEL ROWS K D [DTYPE: 1 float32, 2 float64]\n");
        return 2;
    }
    const strata__kernels *kn = strata__kernels_get(atoi(argv[1]));
    const int m = atoi(argv[2]), k = atoi(argv[3]), d = atoi(argv[4]);
    const int dtype = argc > 5 ? atoi(argv[5]) : 1;
    if (!kn || m < 1 || m > 64 || k < 1 || d < 1) {
        fprintf(stderr, "kernel not available here, or ROWS not in 1..64, K < 1, D < 1\n");
        return 1;
    }
    return dtype == 2 ? run_f64(kn, m, k, d) : run_f32(kn, m, k, d);
}
