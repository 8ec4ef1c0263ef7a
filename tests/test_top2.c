/* The kernels' assign2 (lib/kernels/kernels.h), white box like test_colsrc:
 * every kernel this CPU runs, float32 and float64, k across the vector
 * widths' edges, rows in and out of the register blocks, a row stride
 * beyond d, centred on the way in or not. It must give assign's labels
 * bitwise, and as s1 / s2 the lowest score and the lowest score of the other
 * columns, as scores() computes them (the same bits by the kernels' contract)
 * and found here by a plain scan; exact ties (duplicated centroid columns,
 * zero rows against equal biases) must give s2 == s1 and the lower index.
 * And norms: the rows' squared centred norms within the error bound the
 * header states. The streamed Hamerly (kmeans/gaps.c) relies on all three.
 * And norms64_f32 (k-means++'s row norms): the header's order of additions,
 * bitwise, on every kernel. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "kernels/kernels.h"
#include "strata.h"

#define ROWS 53 /* not a multiple of 4, 6 or 8 */

static uint64_t g_rng = 12345;
static int64_t g_ties; /* rows whose two lowest scores were equal */

static double uniform(void) /* [-1, 1) on a grid of 2^-10 */
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)((int64_t)(g_rng >> 40) % 2048 - 1024) / 1024.0;
}

/* The reference of one row: the first index of the minimum, the minimum,
 * and the lowest of the other columns (+inf if none). */
#define SCAN(NAME, T)                                                                          \
    static void NAME(const T *s, int64_t kp, int32_t *lab, T *s1, T *s2)                      \
    {                                                                                          \
        int32_t best = 0;                                                                      \
        for (int64_t j = 1; j < kp; j++)                                                       \
            if (s[j] < s[best])                                                                \
                best = (int32_t)j;                                                             \
        T second = (T)INFINITY;                                                                \
        for (int64_t j = 0; j < kp; j++)                                                       \
            if (j != best && s[j] < second)                                                    \
                second = s[j];                                                                 \
        *lab = best;                                                                           \
        *s1 = s[best];                                                                         \
        *s2 = second;                                                                          \
    }
SCAN(scan_f32, float)
SCAN(scan_f64, double)

#define CHECK_SHAPE(NAME, T, SFX, SCANF)                                                       \
    static int64_t NAME(const strata__kernels *kn, int64_t k, int64_t d, int lanes)            \
    {                                                                                          \
        const int64_t kp = (k + lanes - 1) / lanes * lanes, ld = d + 3;                        \
        T *x = malloc(sizeof(T) * ROWS * ld), *xc = malloc(sizeof(T) * ROWS * d);              \
        T *ct = malloc(sizeof(T) * kp * d), *bias = malloc(sizeof(T) * kp);                    \
        T *mean = malloc(sizeof(T) * d), *sc = malloc(sizeof(T) * ROWS * kp);                  \
        T *s1 = malloc(sizeof(T) * ROWS), *s2 = malloc(sizeof(T) * ROWS);                      \
        int32_t *lab = malloc(sizeof(int32_t) * ROWS), *ref = malloc(sizeof(int32_t) * ROWS);  \
        int64_t checked = 0;                                                                   \
        for (int64_t f = 0; f < d; f++)                                                        \
            mean[f] = (T)(uniform() / 4);                                                      \
        for (int64_t r = 0; r < ROWS; r++)                                                     \
            for (int64_t f = 0; f < ld; f++) /* row 0 and every 7th: the mean (zero centred) */ \
                x[r * ld + f] = f < d && r % 7 == 0 ? mean[f] : (T)uniform();                  \
        for (int64_t j = 0; j < kp; j++) {                                                     \
            /* column 3 repeats column 2 (an exact tie); columns 0 and 1 share a bias */      \
            const int64_t src = j == 3 ? 2 : j;                                                \
            for (int64_t f = 0; f < d; f++)                                                    \
                ct[f * kp + j] = j >= k ? (T)0 : src == j ? (T)uniform() : ct[f * kp + src];   \
            bias[j] = j >= k ? (T)INFINITY : j == 1 ? bias[0] : src == j ? (T)(uniform() + 2) \
                                                                        : bias[src];           \
        }                                                                                      \
        kn->center##SFX(x, ROWS, ld, d, mean, xc);                                             \
        /* norms: within (2d + 8) u of the exact sum of the centred squares */                 \
        for (int centre = 0; centre < 2; centre++) {                                           \
            if (centre)                                                                        \
                kn->norms##SFX(x, ROWS, ld, d, mean, s1);                                      \
            else                                                                               \
                kn->norms##SFX(xc, ROWS, d, d, NULL, s1);                                      \
            for (int64_t r = 0; r < ROWS; r++) {                                               \
                long double exact = 0; /* (T)(x - mean) exactly, squared and summed wider */   \
                for (int64_t f = 0; f < d; f++)                                                \
                    exact += (long double)xc[r * d + f] * xc[r * d + f];                       \
                const double u = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;                           \
                ASSERT_MSG(fabsl((long double)s1[r] - exact) <= (2 * d + 8) * u * exact,      \
                           "kernel %d d %lld row %lld: norm %.17g, exact %.17Lg", kn->id,     \
                           (long long)d, (long long)r, (double)s1[r], exact);                 \
            }                                                                                  \
        }                                                                                      \
        kn->scores##SFX(xc, ROWS, d, ct, bias, kp, sc);                                        \
        for (int centre = 0; centre < 2; centre++) {                                           \
            memset(s1, 0, sizeof(T) * ROWS);                                                   \
            memset(s2, 0, sizeof(T) * ROWS);                                                   \
            if (centre) {                                                                      \
                kn->assign2##SFX(x, ROWS, ld, d, mean, ct, bias, kp, lab, s1, s2);             \
                kn->assign##SFX(x, ROWS, ld, d, mean, ct, bias, kp, ref);                      \
            } else {                                                                           \
                kn->assign2##SFX(xc, ROWS, d, d, NULL, ct, bias, kp, lab, s1, s2);             \
                kn->assign##SFX(xc, ROWS, d, d, NULL, ct, bias, kp, ref);                      \
            }                                                                                  \
            for (int64_t r = 0; r < ROWS; r++) {                                               \
                int32_t l;                                                                     \
                T a, b;                                                                        \
                SCANF(sc + r * kp, kp, &l, &a, &b);                                            \
                ASSERT_MSG(lab[r] == ref[r] && lab[r] == l,                                    \
                           "kernel %d k %lld d %lld centre %d row %lld: label %d, assign %d, " \
                           "scan %d", kn->id, (long long)k, (long long)d, centre, (long long)r, \
                           lab[r], ref[r], l);                                                 \
                ASSERT_MSG(s1[r] == a && (s2[r] == b || (isinf(b) && isinf(s2[r]))),          \
                           "kernel %d k %lld d %lld centre %d row %lld: s1 %.9g s2 %.9g, "    \
                           "scan %.9g %.9g", kn->id, (long long)k, (long long)d, centre,      \
                           (long long)r, (double)s1[r], (double)s2[r], (double)a, (double)b); \
                g_ties += a == b && !isinf(a);                                                 \
                checked++;                                                                     \
            }                                                                                  \
        }                                                                                      \
        free(x), free(xc), free(ct), free(bias), free(mean), free(sc), free(s1), free(s2);     \
        free(lab), free(ref);                                                                  \
        return checked;                                                                        \
    }
CHECK_SHAPE(check_f32, float, _f32, scan_f32)
CHECK_SHAPE(check_f64, double, _f64, scan_f64)

/* The kernel's table, or NULL (said on stderr) where this CPU lacks it. */
static const strata__kernels *kernel_or_skip(int kernel)
{
    const strata__kernels *kn = strata__kernels_get(kernel);
    if (!kn)
        fprintf(stderr, "  kernel %s not available on this CPU: SKIPPED\n",
                strata_kernel_name(kernel));
    return kn;
}

static void test_assign2_matches_scores(void)
{
    static const int kernels[] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};
    static const int64_t ks[] = {1, 2, 4, 5, 8, 9, 15, 16, 17, 24, 31, 32, 33, 64, 100};
    static const int64_t ds[] = {1, 3, 16, 21};
    int64_t checked = 0;
    for (int ki = 0; ki < 3; ki++) {
        const strata__kernels *kn = kernel_or_skip(kernels[ki]);
        if (!kn)
            continue;
        for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
            for (size_t b = 0; b < sizeof ds / sizeof ds[0]; b++) {
                /* scores() takes at most STRATA__SCORES_MAX_V vectors */
                if (ks[a] <= STRATA__SCORES_MAX_V * kn->lanes_f32)
                    checked += check_f32(kn, ks[a], ds[b], kn->lanes_f32);
                if (ks[a] <= STRATA__SCORES_MAX_V * kn->lanes_f64)
                    checked += check_f64(kn, ks[a], ds[b], kn->lanes_f64);
            }
    }
    fprintf(stderr, "  %lld rows checked, %lld with tied lowest scores\n", (long long)checked,
            (long long)g_ties);
    ASSERT_TRUE(checked > 0 && g_ties > 0);
}

/* norms64_f32 against the order kernels.h spells out, written here again:
 * values spread over 2^-20 .. 2^20 so that another order of the additions
 * gives other bits. */
static void test_norms64_order(void)
{
    static const int kernels[] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};
    enum { DMAX = 41 };
    float *x = malloc(sizeof(float) * ROWS * DMAX);
    double out[ROWS + 1];
    int64_t checked = 0, reordered = 0;
    for (int ki = 0; ki < 3; ki++) {
        const strata__kernels *kn = kernel_or_skip(kernels[ki]);
        if (!kn)
            continue;
        for (int64_t d = 1; d <= DMAX; d++) {
            for (int64_t i = 0; i < ROWS * d; i++)
                x[i] = (float)(uniform() * ldexp(1.0, (int)(uniform() * 20)));
            out[ROWS] = -1.0;
            kn->norms64_f32(x, ROWS, d, out);
            ASSERT_TRUE(out[ROWS] == -1.0); /* nothing past the rows */
            for (int64_t r = 0; r < ROWS; r++) {
                const float *xr = x + r * d;
                double a[4] = {0, 0, 0, 0}, seq = 0;
                for (int64_t f = 0; f < d; f++) {
                    const double sq = (double)xr[f] * xr[f];
                    a[f < d / 4 * 4 ? f % 4 : 0] += sq;
                    seq += sq;
                }
                const double want = (a[0] + a[1]) + (a[2] + a[3]);
                ASSERT_MSG(memcmp(&out[r], &want, sizeof want) == 0,
                           "kernel %s d %lld row %lld: %.17g, the order gives %.17g",
                           strata_kernel_name(kernels[ki]), (long long)d, (long long)r, out[r], want);
                reordered += seq != want;
                checked++;
            }
        }
    }
    free(x);
    fprintf(stderr, "  %lld norms checked, %lld of them other bits summed in feature order\n",
            (long long)checked, (long long)reordered);
    ASSERT_TRUE(checked > 0 && reordered > 0);
}

int main(void)
{
    RUN_TEST(test_assign2_matches_scores);
    RUN_TEST(test_norms64_order);
    return test_summary();
}
