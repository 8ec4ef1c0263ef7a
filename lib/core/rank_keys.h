/* The rank-keys contract shared by selection (core) and the kernels that
 * implement it: core defines the function type, each instruction set's
 * kernel table (lib/kernels) provides one, and callers hand it down. */
#ifndef STRATA_CORE_RANK_KEYS_H
#define STRATA_CORE_RANK_KEYS_H

#include <stdint.h>

/* How rank_keys turns a count of keys into its output byte. */
typedef struct strata__rank_map {
    int64_t base, add, step;
} strata__rank_map;

/* Most keys rank_keys takes (enough for every RFM bin count). */
#define STRATA__RANK_KEYS_MAX 128

/* Rank keys (RFM bins, selection splits): for each value i < n, with
 * c = #{j < m : (kv[j], ki[j]) < (v[i], first + i)} - keys ordered by value,
 * then position - out[i] = map.add + map.step * max(c - map.base, 0) (a
 * byte); below[j] += #{i : key j < value i}. The m <= STRATA__RANK_KEYS_MAX
 * keys ascend; v holds no NaN. */
typedef void strata__rank_keys_fn(const double *v, int64_t n, int64_t first, const double *kv,
                                  const int64_t *ki, int64_t m, strata__rank_map map,
                                  uint8_t *out, int64_t *below);

#endif
