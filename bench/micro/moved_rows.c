/* The moved-rows bookkeeping of a DELTA pass (lib/kmeans/assign.c,
 * move_rows) on one 4096-row chunk of 16 float32 features, k = 16, with a
 * given fraction of rows changing cluster: the moved rows found per group of
 * 16 (a branch per group, a count per group's moved rows; before) against
 * as bits of 64 rows visited in order (now). Prints ns per row and per
 * moved row of each. Not built by CMake:
 *
 *   gcc -O3 -o /tmp/moved_rows bench/micro/moved_rows.c && /tmp/moved_rows
 */
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 4096
#define D 16
static float X[N * D];
static int32_t lab[N], old0[N], old[N];
static double sums[16 * D], wsum[16], moved[16];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static inline void move_one(int64_t r, int64_t d)
{
    const int64_t a = lab[r], b = old[r];
    old[r] = lab[r];
    double *restrict sa = sums + a * d, *restrict sb = sums + b * d;
    const float *x = X + r * d;
    for (int64_t f = 0; f < d; f++) {
        sa[f] += (double)x[f];
        sb[f] -= (double)x[f];
    }
    wsum[a] += 1.0;
    wsum[b] -= 1.0;
    moved[a] += 1.0;
    moved[b] += 1.0;
}

__attribute__((noinline)) static int64_t by_groups(int64_t rows, int64_t d)
{
    int64_t changed = 0;
    for (int64_t q = 0; q < rows; q += 16) {
        const int64_t q1 = q + 16 < rows ? q + 16 : rows;
        int32_t diff = 0;
        for (int64_t r = q; r < q1; r++)
            diff |= lab[r] ^ old[r];
        if (!diff)
            continue;
        int64_t mv[16], m = 0;
        for (int64_t r = q; r < q1; r++) {
            mv[m] = r;
            m += lab[r] != old[r];
        }
        for (int64_t u = 0; u < m; u++)
            move_one(mv[u], d);
        changed += m;
    }
    return changed;
}

static uint64_t moved_bits(const int32_t *l, const int32_t *o, int64_t n)
{
    uint64_t m = 0;
    int64_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(l + r)),
                                           _mm_loadu_si128((const __m128i *)(o + r)));
        m |= (uint64_t)(~(unsigned)_mm_movemask_ps(_mm_castsi128_ps(eq)) & 0xFu) << r;
    }
    for (; r < n; r++)
        m |= (uint64_t)(l[r] != o[r]) << r;
    return m;
}

__attribute__((noinline)) static int64_t by_bits(int64_t rows, int64_t d)
{
    int64_t changed = 0;
    for (int64_t q = 0; q < rows; q += 64) {
        uint64_t bits = moved_bits(lab + q, old + q, rows - q < 64 ? rows - q : 64);
        changed += __builtin_popcountll(bits);
        for (; bits; bits &= bits - 1)
            move_one(q + __builtin_ctzll(bits), d);
    }
    return changed;
}

int main(void)
{
    const double fracs[3] = {0.01, 0.03, 0.13};
    for (int i = 0; i < N * D; i++)
        X[i] = (float)(i % 97) * 0.01f;
    for (int fi = 0; fi < 3; fi++) {
        srand(1);
        int64_t nm = 0;
        for (int i = 0; i < N; i++) {
            old0[i] = rand() % 16;
            lab[i] = old0[i];
            if (rand() < fracs[fi] * RAND_MAX) {
                lab[i] = (old0[i] + 1 + rand() % 15) % 16;
                nm++;
            }
        }
        for (int rep = 0; rep < 2; rep++)
            for (int v = 0; v < 2; v++) {
                const int R = 20000;
                const double t0 = now();
                for (int it = 0; it < R; it++) {
                    memcpy(old, old0, sizeof old);
                    if ((v ? by_bits(N, D) : by_groups(N, D)) != nm)
                        return 1;
                }
                const double dt = now() - t0;
                printf("%4.0f%% moved, %-9s %.2f ns a row, %.1f ns a moved row\n",
                       fracs[fi] * 100, v ? "bits:" : "groups:", dt / R / N * 1e9,
                       dt / R / nm * 1e9);
            }
    }
    return sums[3] == 1.5;
}
