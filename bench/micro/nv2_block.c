/* The AVX2 float32 six-row block against two centroid vectors (k = 9..16,
 * d = 16) on cache-resident rows, alone and with the two-vector argmin
 * (lib/kernels/avx2.c): cycles a row against the FMA bound of 16 (32 FMAs a
 * row, two a cycle); the GHz comes from an FMA throughput loop run first.
 * Not built by CMake:
 *
 *   gcc -O3 -mavx2 -mfma -o /tmp/nv2_block bench/micro/nv2_block.c && /tmp/nv2_block
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float cs[16 * 16] __attribute__((aligned(64)));
static float X[6 * 16 * 1024] __attribute__((aligned(64)));
static __m256 sink[12];
static int lab[6 * 1024];

static inline int argmin2(__m256 a, __m256 b)
{
    __m256 m = _mm256_min_ps(a, b);
    m = _mm256_min_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0x4E));
    m = _mm256_min_ps(m, _mm256_permute_ps(m, 0xB1));
    unsigned eq = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, m, _CMP_EQ_OQ)) |
                  (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(b, m, _CMP_EQ_OQ)) << 8;
    return __builtin_ctz(eq);
}

static inline __attribute__((always_inline)) void block(const float *xs, int with_argmin,
                                                        int *out)
{
    __m256 acc[12];
    for (int i = 0; i < 12; i++)
        acc[i] = _mm256_load_ps(cs + (i & 1) * 8);
    for (int f = 0; f < 16; f++) {
        __m256 c0 = _mm256_load_ps(cs + f * 16), c1 = _mm256_load_ps(cs + f * 16 + 8);
        for (int p = 0; p < 6; p++) {
            __m256 xb = _mm256_broadcast_ss(xs + p * 16 + f);
            acc[2 * p] = _mm256_fmadd_ps(xb, c0, acc[2 * p]);
            acc[2 * p + 1] = _mm256_fmadd_ps(xb, c1, acc[2 * p + 1]);
        }
    }
    if (with_argmin)
        for (int p = 0; p < 6; p++)
            out[p] = argmin2(acc[2 * p], acc[2 * p + 1]);
    else
        for (int i = 0; i < 12; i++)
            sink[i] = _mm256_min_ps(sink[i], acc[i]);
}

int main(void)
{
    __m256 a[10];
    for (int i = 0; i < 10; i++)
        a[i] = _mm256_set1_ps(i * 0.001f);
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.0001f);
    const long N = 200000000;
    double t0 = now();
    for (long i = 0; i < N; i++)
        for (int j = 0; j < 10; j++)
            a[j] = _mm256_fmadd_ps(a[j], m, c);
    const double ghz = N * 10 / (now() - t0) / 2 / 1e9; /* two FMAs a cycle */
    float o[8];
    _mm256_storeu_ps(o, a[3]);
    for (int i = 0; i < 6 * 16 * 1024; i++)
        X[i] = (i % 97) * 1e-3f;
    for (int i = 0; i < 256; i++)
        cs[i] = i * 1e-4f;
    printf("FMA loop: %.2f GHz at two FMAs a cycle (%g)\n", ghz, o[0]);
    for (int mode = 0; mode < 2; mode++) {
        const long R = 20000;
        t0 = now();
        for (long it = 0; it < R; it++)
            for (int b = 0; b < 1024; b++) {
                if (mode)
                    block(X + b * 96, 1, lab + b * 6);
                else
                    block(X + b * 96, 0, lab + b * 6);
            }
        const double ns = (now() - t0) / R / 1024 * 1e9;
        printf("six-row block%s: %.2f ns a block, %.2f cycles a row\n",
               mode ? " + two-vector argmin" : "", ns, ns * ghz / 6);
    }
    return lab[5] == 99;
}
