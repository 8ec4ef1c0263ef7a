/* A synthetic customer base for `strata demo`: skewed, realistic-looking
 * purchase features drawn around five latent tiers. */
#ifndef STRATA_TOOLS_SYNTH_H
#define STRATA_TOOLS_SYNTH_H

#include <stdint.h>

enum { SYNTH_FEATURES = 7, SYNTH_TIERS = 5 };

/* Column names, in order. */
extern const char *const synth_feature_names[SYNTH_FEATURES];
/* 1 where a feature is heavy-tailed (counts, days, money): take log1p before
 * standardising; 0 for the shares in [0, 1]. */
extern const int synth_feature_skewed[SYNTH_FEATURES];
extern const char *const synth_tier_names[SYNTH_TIERS];

/* The random numbers of the generators: xoshiro256** seeded through
 * splitmix64 (small, fast, good enough here). One stream drawn in order, so
 * data made in blocks of any size are the same. */
typedef struct synth_rng {
    uint64_t s[4];
} synth_rng;
void synth_seed(synth_rng *r, uint64_t seed);
/* Uniform in (0, 1), never 0; a standard normal (Box-Muller). */
double synth_uniform(synth_rng *r);
double synth_normal(synth_rng *r);

/* The next n customers of the stream r: x (n x SYNTH_FEATURES, row-major)
 * and each one's latent tier. */
void synth_next(synth_rng *r, int64_t n, float *x, uint8_t *tier);

#endif
