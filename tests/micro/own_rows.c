/* The kernels' own_* (lib/kernels/own_rows_impl.h: each row's squared
 * distance to its previous centroid, the streamed Lloyd pass's half test)
 * against assign_* on the same cache-resident 4096 x 16 float32 rows, k =
 * 16, in blocks of 64 rows as a pass hands them out: ns a row, for the
 * kernel given (2 = AVX2, 3 = AVX-512). White box (the kernel table is
 * internal), so it lives with the tests, not in bench/ (which uses the
 * public API only, tests/layering); not built by CMake; against a build
 * tree's static library:
 *
 *   gcc -O2 -Iinclude -Ilib -Ibuild/tests/install/prefix/include tests/micro/own_rows.c \
 *       build/libstrata.a -o /tmp/own_rows -lm -fopenmp \
 *       -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lopenblas && /tmp/own_rows 2
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

int main(int argc, char **argv)
{
    const strata__kernels *kn = strata__kernels_get(argc > 1 ? atoi(argv[1]) : 0);
    if (!kn) {
        fprintf(stderr, "kernel not available on this CPU\n");
        return 1;
    }
    enum { N = 4096, D = 16, K = 16, BLOCK = 64, REPS = 2000 };
    static float x[N * D], c[K * D], ct[D * K], bias[K], mean[D], out[N];
    static int32_t lab[N];
    srand(1);
    for (int i = 0; i < N * D; i++)
        x[i] = rand() / (float)RAND_MAX;
    for (int i = 0; i < K * D; i++)
        c[i] = rand() / (float)RAND_MAX;
    for (int f = 0; f < D; f++)
        for (int j = 0; j < K; j++)
            ct[f * K + j] = -2.0f * c[j * D + f];
    for (int j = 0; j < K; j++)
        bias[j] = 1.0f;
    for (int i = 0; i < N; i++)
        lab[i] = rand() % K;
    double t0 = now();
    for (int r = 0; r < REPS; r++)
        for (int b = 0; b < N; b += BLOCK)
            kn->own_f32(x + b * D, BLOCK, D, D, lab + b, c, out + b);
    const double own = (now() - t0) / ((double)REPS * N) * 1e9;
    t0 = now();
    for (int r = 0; r < REPS; r++)
        for (int b = 0; b < N; b += BLOCK)
            kn->assign_f32(x + b * D, BLOCK, D, D, mean, ct, bias, K, lab + b);
    const double assign = (now() - t0) / ((double)REPS * N) * 1e9;
    printf("kernel %s: own %.3f ns a row, assign %.3f ns a row (checksum %g)\n",
           strata_kernel_name(kn->id), own, assign, (double)out[5]);
    return 0;
}
