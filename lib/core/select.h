/* Exact order statistics by parallel selection (no full sort).
 *
 * Keys are the pairs (v[i], i), ordered by value, then by position: a total
 * order even with many equal values, so "the element of rank k" is unique and
 * every algorithm (and every thread count) finds the same one. Quantile
 * binning uses it to find bin boundaries, segment profiles to find medians. */
#ifndef STRATA_CORE_SELECT_H
#define STRATA_CORE_SELECT_H

#include <stdint.h>

#include "core/rank_keys.h"

/* Key order: 1 if (va, ia) < (vb, ib). */
static inline int strata__key_less(double va, int64_t ia, double vb, int64_t ib)
{
    return va < vb || (va == vb && ia < ib);
}

/* Number of the m ascending values c[] that are < x (strict) or <= x (not
 * strict), branch-free: x is unpredictable. A linear count for few values. */
static inline int64_t strata__count_below(const double *c, int64_t m, double x, int or_equal)
{
    if (m <= 16) {
        int64_t k = 0;
        if (or_equal)
            for (int64_t j = 0; j < m; j++)
                k += c[j] <= x;
        else
            for (int64_t j = 0; j < m; j++)
                k += c[j] < x;
        return k;
    }
    int64_t lo = 0;
    while (m > 1) { /* the answer lies in [lo, lo + m] */
        int64_t half = m / 2;
        double y = c[lo + half - 1];
        lo = (or_equal ? y <= x : y < x) ? lo + half : lo;
        m -= half;
    }
    return lo + (or_equal ? c[lo] <= x : c[lo] < x);
}

/* Number of the m keys (kv[j], ki[j]), ascending, that are < (v, i): by
 * value first, the positions only among keys of value v. */
static inline int64_t strata__keys_below(const double *kv, const int64_t *ki, int64_t m, double v,
                                         int64_t i)
{
    if (m <= 8) { /* all branch-free: ties with the keys' values are common */
        int64_t c = 0;
        for (int64_t j = 0; j < m; j++)
            c += (kv[j] < v) | ((kv[j] == v) & (ki[j] < i));
        return c;
    }
    int64_t lo = strata__count_below(kv, m, v, 0);
    int64_t c = lo;
    for (int64_t j = lo; j < m && kv[j] == v; j++)
        c += ki[j] < i;
    return c;
}

/* For each of the t 0-based ranks (ascending; repeats allowed; each in
 * [0, n)), write into pos[j] the position i of the key of that rank. v must
 * hold no NaN. Large inputs are split around pivots drawn from a fixed-seed
 * sample, counted and gathered in parallel (threads >= 1), and finished by
 * quickselect on the few candidates; small ones go straight to quickselect.
 * rank_keys: the kernel that splits the keys. Returns 0 or
 * STRATA_E_NOMEM. */
int strata__select_ranks(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                         int64_t *pos, int threads, strata__rank_keys_fn *rank_keys);

/* numpy's linear-interpolation quantile (its default method) of n sorted
 * values at p in [0, 1]: h = (n - 1) p, the values of ranks floor(h) (given
 * by strata__quantile_index()) and the next one, lo and hi, are combined by
 * strata__quantile_lerp() bit for bit as numpy's _lerp: lo + (hi - lo) *
 * gamma, or, for gamma >= 0.5, hi - (hi - lo) * (1 - gamma), gamma = h -
 * floor(h); each operation rounded on its own (no fused multiply-add).
 * Where hi - lo overflows (finite values of opposite signs near the double
 * range), numpy gives an infinite or NaN value; here the weighted mean of lo
 * and hi, whose terms have opposite signs and cannot overflow, kept within
 * [lo, hi]. */
int64_t strata__quantile_index(int64_t n, double p);
double strata__quantile_lerp(int64_t n, double p, double lo, double hi);

#endif
