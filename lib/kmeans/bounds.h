/* What the bounded algorithms (kmeans/hamerly.c, kmeans/yinyang.c) share:
 * outward rounding, the rounding margin E of the kernel's scores, the
 * "label proven" test, and the per-pass geometry of the centroids.
 *
 * The margin (the argument is in hamerly.c): with X = ||x - m||, C = max_j
 * ||c_j - m|| and u the element type's unit roundoff, the kernel's score s_j
 * satisfies |(||x'||^2 + s_j) - ||x - c_j||^2| <= E = eps (X + C)^2 + tiny,
 * eps = (4d + 32) u. A row keeps its label a unscored only if
 *     max(l, 2 s_a - u)^2 > u^2 + 2E,  with X <= u + C,
 * l a lower bound on its distance to every centroid the test covers, u an
 * upper bound on its distance to c_a, s_a half the distance from c_a to its
 * nearest other centroid. Every value here is rounded outwards, so rounding
 * can only fail a test, never pass a wrong one. */
#ifndef STRATA_KMEANS_BOUNDS_H
#define STRATA_KMEANS_BOUNDS_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kmeans/assign.h"

/* Outward rounding of a result computed with a few double roundings. */
#define STRATA__UPF (1.0 + 0x1p-48)
#define STRATA__DOWNF (1.0 - 0x1p-48)

/* sqrt of a sum of d squares computed in double, rounded up / down. */
static inline double strata__norm_up(double s, int64_t d)
{
    return sqrt(s * (1.0 + (double)(d + 8) * 0x1p-52)) * STRATA__UPF;
}

static inline double strata__norm_down(double s, int64_t d)
{
    return sqrt(s * (1.0 - (double)(d + 8) * 0x1p-52)) * STRATA__DOWNF;
}

static inline double strata__dist2(const double *a, const double *b, int64_t d)
{
    double s = 0.0;
    for (int64_t f = 0; f < d; f++)
        s += (a[f] - b[f]) * (a[f] - b[f]);
    return s;
}

/* max without fmax()'s NaN handling (a libm call at -O2; no NaN reaches here) */
static inline double strata__max2(double a, double b)
{
    return a > b ? a : b;
}

/* A double rounded to float upwards / downwards (NaN stays NaN, which fails
 * every test). */
static inline float strata__step_f32(float v, int up) /* nextafterf(v, +-inf), v not NaN */
{
    if (v == 0.0f)
        return up ? FLT_TRUE_MIN : -FLT_TRUE_MIN;
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    b = (v > 0.0f) == (up != 0) ? b + 1 : b - 1;
    memcpy(&v, &b, sizeof v);
    return v;
}

static inline float strata__up_f32(double x)
{
    float v = (float)x;
    return (double)v < x ? strata__step_f32(v, 1) : v;
}

static inline float strata__down_f32(double x)
{
    float v = (float)x;
    return (double)v > x ? strata__step_f32(v, 0) : v;
}

static inline double strata__up_f64(double x)
{
    return x;
}

static inline double strata__down_f64(double x)
{
    return x;
}

/* a - b and a + b (one double rounding) rounded up / down, any signs: the
 * error of one rounding is at most 2^-53 of the result (0 when the result is
 * subnormal or zero), so 2^-50 of it covers it; infinities stay. */
static inline double strata__sub_up(double a, double b)
{
    double r = a - b;
    return isinf(r) ? r : r + fabs(r) * 0x1p-50;
}

static inline double strata__add_down(double a, double b)
{
    double r = a + b;
    return isinf(r) ? r : r - fabs(r) * 0x1p-50;
}

/* Whether the bounds prove the kernel's label of the row is a, computed in
 * the element type T (unit roundoff UT) so that a block of rows is one
 * vector loop. With X <= u + cmax, the margin is E = eps (u + 2 cmax)^2 + tiny:
 *   lb = max(l, 2 s_a - u) > 0  and  lb^2 > u^2 + 2E.
 * Rounding: lb is rounded down (x (1 - 4 UT)), lb^2 is rounded down, the
 * right side (six roundings of positive terms, FMA or not) is multiplied by
 * (1 + 8 UT); tiny (>= 32 x the smallest normal) covers underflow. An
 * overflow makes the right side +inf and the test fail. */
#define STRATA__KEEPS_T(NAME, T, UT)                                                           \
    static inline int NAME(T u, T l, T half, T c2, T eps, T tiny)                              \
    {                                                                                          \
        const T dn = (T)(1.0 - 4.0 * UT), up8 = (T)(1.0 + 8.0 * UT);                          \
        T lb = (2 * half - u) * dn;                                                            \
        lb = l > lb ? l : lb;                                                                  \
        T ru = u + c2;                                                                         \
        T rhs = (u * u + 2 * (eps * ru * ru + tiny)) * up8;                                    \
        return lb > 0 && lb * lb * dn > rhs;                                                   \
    }
STRATA__KEEPS_T(strata__keeps_f32, float, 0x1p-24)
STRATA__KEEPS_T(strata__keeps_f64, double, 0x1p-53)

/* Upper bound of the distance of row i of X to centroid c (d values), from
 * the row itself (four partial sums: the order does not matter to
 * norm_up's bound). */
#define STRATA__DIST_UP(NAME, T)                                                               \
    static inline double NAME(const strata__data *X, int64_t i, const double *c, int64_t d)    \
    {                                                                                          \
        const T *x = strata__row(X, i);                                                        \
        double s[4] = {0.0, 0.0, 0.0, 0.0};                                                    \
        int64_t f = 0;                                                                         \
        for (; f + 4 <= d; f += 4)                                                             \
            for (int q = 0; q < 4; q++) {                                                      \
                double v = (double)x[f + q] - c[f + q];                                        \
                s[q] += v * v;                                                                 \
            }                                                                                  \
        for (; f < d; f++) {                                                                   \
            double v = (double)x[f] - c[f];                                                    \
            s[0] += v * v;                                                                     \
        }                                                                                      \
        return strata__norm_up((s[0] + s[1]) + (s[2] + s[3]), d);                              \
    }
STRATA__DIST_UP(strata__dist_up_f32, float)
STRATA__DIST_UP(strata__dist_up_f64, double)

/* The margin's constants and the centroids' geometry for one pass. */
typedef struct strata__margin {
    double eps;             /* (4d + 32) u */
    double cmax;            /* >= max_j ||c_j - m||, m the tables' centring mean */
    double tiny;            /* the margin's underflow term */
    double c2_t, eps_t, tiny_t; /* 2 cmax, eps, tiny rounded up to the element type */
} strata__margin;

/* shift[j] >= how far centroid j moved from c_prev to c (k x d each),
 * rounded up; other[j] >= the largest move of the centroids other than j. */
void strata__centroid_moves(const double *c, const double *c_prev, int64_t k, int64_t d,
                            double *shift, double *other);

/* eps for the tables' element type and d. */
double strata__margin_eps(const strata__tables *t);
/* cmax, tiny and their element-type copies for the centroids c (k x d) of
 * tables t; with half != NULL, half[j] <= half the distance from c_j to its
 * nearest other centroid (+inf for k = 1), and half_t (k, element type) the
 * same rounded down. */
void strata__margin_set(strata__margin *mg, const strata__tables *t, const double *c,
                        double *half, void *half_t);

#endif
