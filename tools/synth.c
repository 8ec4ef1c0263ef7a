#include "synth.h"

#include <math.h>

const char *const synth_feature_names[SYNTH_FEATURES] = {
    "recency_days", "frequency", "monetary", "avg_basket", "tenure_days", "web_share",
    "discount_share"};
const int synth_feature_skewed[SYNTH_FEATURES] = {1, 1, 1, 1, 1, 0, 0};
const char *const synth_tier_names[SYNTH_TIERS] = {"champions", "loyal", "new", "at-risk", "lost"};

/* How one tier behaves. Gamma laws are given as (shape, mean). */
typedef struct tier_law {
    double share;
    double recency_shape, recency_mean;   /* days since the last order */
    double orders_shape, orders_mean;     /* orders beyond the first */
    double basket_median, basket_sigma;   /* lognormal spend per order */
    double history_shape, history_mean;   /* days from first to last order */
    double web_a, web_b;                  /* beta law of the share of web orders */
    double discount_a, discount_b;        /* beta law of the share of discounted orders */
} tier_law;

static const tier_law LAWS[SYNTH_TIERS] = {
    /* champions */ {0.10, 1.5, 10, 4.0, 24, 90, 0.40, 3.0, 1100, 8, 2, 1.5, 12},
    /* loyal     */ {0.20, 2.0, 30, 3.0, 10, 65, 0.40, 3.0, 800, 4, 4, 2, 8},
    /* new       */ {0.15, 1.5, 15, 0.8, 0.6, 45, 0.45, 2.0, 20, 6, 2, 6, 3},
    /* at-risk   */ {0.25, 6.0, 240, 2.0, 4, 50, 0.45, 3.0, 700, 3, 4, 2, 6},
    /* lost      */ {0.30, 6.0, 600, 0.6, 0.4, 30, 0.50, 2.0, 300, 2, 5, 4, 4},
};

typedef synth_rng rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void synth_seed(synth_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

/* Uniform in (0, 1): never 0, so log() is safe. */
double synth_uniform(synth_rng *r)
{
    return ((double)(next_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}

double synth_normal(synth_rng *r)
{
    double u = synth_uniform(r), v = synth_uniform(r); /* Box-Muller, one of the pair */
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Marsaglia and Tsang's method; shapes below 1 through the boost
 * gamma(a) = gamma(a + 1) * U^(1/a). */
static double gamma_unit(rng *r, double shape)
{
    if (shape < 1.0)
        return gamma_unit(r, shape + 1.0) * pow(synth_uniform(r), 1.0 / shape);
    double dd = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * dd);
    for (;;) {
        double z = synth_normal(r), v = 1.0 + c * z;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = synth_uniform(r);
        if (log(u) < 0.5 * z * z + dd - dd * v + dd * log(v))
            return dd * v;
    }
}

static double gamma_mean(rng *r, double shape, double mean)
{
    return gamma_unit(r, shape) * mean / shape;
}

static double beta(rng *r, double a, double b)
{
    double x = gamma_unit(r, a);
    return x / (x + gamma_unit(r, b));
}

static int pick_tier(rng *r)
{
    double u = synth_uniform(r);
    for (int t = 0; t < SYNTH_TIERS - 1; t++) {
        if (u < LAWS[t].share)
            return t;
        u -= LAWS[t].share;
    }
    return SYNTH_TIERS - 1;
}

void synth_next(synth_rng *r, int64_t n, float *x, uint8_t *tier)
{
    for (int64_t i = 0; i < n; i++) {
        int t = pick_tier(r);
        const tier_law *L = &LAWS[t];
        double recency = floor(gamma_mean(r, L->recency_shape, L->recency_mean));
        double frequency = 1.0 + floor(gamma_mean(r, L->orders_shape, L->orders_mean));
        double basket = L->basket_median * exp(L->basket_sigma * synth_normal(r));
        double tenure = recency + floor(gamma_mean(r, L->history_shape, L->history_mean));
        if (frequency == 1.0) /* one order: the first is the last (drawn all the same, so
                                 the stream, and every other value, stays as it was) */
            tenure = recency;
        float *row = x + i * SYNTH_FEATURES;
        row[0] = (float)recency;
        row[1] = (float)frequency;
        row[2] = (float)(frequency * basket);
        row[3] = (float)basket;
        row[4] = (float)tenure;
        row[5] = (float)beta(r, L->web_a, L->web_b);
        row[6] = (float)beta(r, L->discount_a, L->discount_b);
        tier[i] = (uint8_t)t;
    }
}
