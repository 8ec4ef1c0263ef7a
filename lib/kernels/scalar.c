/* Portable kernels: plain C, one lane, built without FMA contraction so any
 * x86-64 (or other) CPU runs them. */
#include <stddef.h>
#include <float.h>
#include <math.h>

#include "kernels/kernels.h"
#include "strata.h"

#define L 1
#define P 4
#define NB 4
#define VSET1(s) (s)
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VSUB(a, b) ((a) - (b))
#define KEEP_VECTOR(v) ((void)0)
#define IVEC int32_t
#define IDX(base) (base)
#define UPDATE_BEST(acc, best, besti, idx) \
    do {                                   \
        if ((acc) < (best)) {              \
            best = acc;                    \
            besti = idx;                   \
        }                                  \
    } while (0)
#define HARGMIN(best, besti) (besti)

#define T float
#define SFX _f32_scalar
#define VEC float
#define VINF() INFINITY
#include "kernels/kernel_impl.h"
#undef T
#undef SFX
#undef VEC
#undef VINF

#define T double
#define SFX _f64_scalar
#define VEC double
#define VINF() ((double)INFINITY)
#include "kernels/kernel_impl.h"

/* kernels.h own_*: in feature order, one rounding a product and a sum */
#define OWN_SCALAR(NAME, T)                                                                    \
    static void NAME(const T *x, int64_t rows, int64_t stride, int64_t d, const int32_t *lab,  \
                     const T *c, T *out)                                                       \
    {                                                                                          \
        for (int64_t r = 0; r < rows; r++) {                                                   \
            const T *xr = x + r * stride, *cr = c + (int64_t)lab[r] * d;                       \
            T s = 0;                                                                           \
            for (int64_t f = 0; f < d; f++) {                                                  \
                const T v = xr[f] - cr[f];                                                     \
                s += v * v;                                                                    \
            }                                                                                  \
            out[r] = s;                                                                        \
        }                                                                                      \
    }
OWN_SCALAR(own_f32_scalar, float)
OWN_SCALAR(own_f64_scalar, double)

/* kernels.h norms64_f32, the order written out */
static void norms64_f32_scalar(const float *x, int64_t rows, int64_t d, double *out)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        double a[4] = {0.0, 0.0, 0.0, 0.0};
        int64_t f = 0;
        for (; f + 4 <= d; f += 4)
            for (int q = 0; q < 4; q++)
                a[q] += (double)xr[f + q] * xr[f + q];
        for (; f < d; f++)
            a[0] += (double)xr[f] * xr[f];
        out[r] = (a[0] + a[1]) + (a[2] + a[3]);
    }
}

#define RANK_KEYS_FN rank_keys_scalar
#include "kernels/rank_keys_impl.h"

#define CHECK_ROWS_FN check_rows_scalar
#include "kernels/rfm_rows_impl.h"

const strata__kernels strata__kernels_scalar = {
    STRATA_KERNEL_SCALAR, 1, 1,
    center_f32_scalar, center_f64_scalar,
    assign_f32_scalar, assign_f64_scalar,
    assign2_f32_scalar, assign2_f64_scalar,
    norms_f32_scalar, norms_f64_scalar, norms64_f32_scalar,
    own_f32_scalar, own_f64_scalar,
    centre_in_f32_scalar, centre_in_f64_scalar,
    argmin_f32_scalar, argmin_f64_scalar,
    scores_f32_scalar, scores_f64_scalar,
    accumulate_f32_scalar, accumulate_f64_scalar,
    NULL, NULL, NULL, NULL,
    rank_keys_scalar,
    check_rows_scalar,
};
