/* Small, fast, seedable random numbers (xoshiro256**, seeded by splitmix64).
 * Streams are keyed by (seed, stream) so restarts never share numbers. */
#ifndef STRATA_CORE_RNG_H
#define STRATA_CORE_RNG_H

#include <stdint.h>

typedef struct strata__rng {
    uint64_t s[4];
} strata__rng;

void strata__rng_seed(strata__rng *r, uint64_t seed, uint64_t stream);
uint64_t strata__rng_next(strata__rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double strata__rng_uniform(strata__rng *r);
/* Uniform integer in [0, bound), bound >= 1, without modulo bias. */
uint64_t strata__rng_below(strata__rng *r, uint64_t bound);

#endif
