#include "core/select.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "strata.h"

/* Below this many keys, quickselect on a copy beats the two parallel passes. */
#define SEQUENTIAL_MAX ((int64_t)1 << 17)
/* Keys sampled to place the pivots, and rows per parallel chunk. */
#define SAMPLE ((int64_t)1 << 15)
#define CHUNK ((int64_t)1 << 16)
/* Keys split against the pivots at a time (on the stack). */
#define SPLIT_BLOCK 2048
/* Fixed seed: the sample, hence the work (never the result), is reproducible. */
#define SEED 0x5e1ec7ULL

typedef struct skey {
    double v;
    int64_t i;
} skey;

static inline int kless(skey a, skey b)
{
    return strata__key_less(a.v, a.i, b.v, b.i);
}

static inline void kswap(skey *a, skey *b)
{
    skey t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(skey *a, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        skey x = a[i];
        int64_t j = i;
        for (; j > 0 && kless(x, a[j - 1]); j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Rearrange a[lo, hi) so that a[r] is the key of rank r (ranks counted from
 * the start of a) for every r in ranks[0, t), which are ascending and lie in
 * [lo, hi). Quickselect with a median-of-three of random pivots; keys are
 * distinct, so a two-way partition suffices. */
static void multiselect(skey *a, int64_t lo, int64_t hi, const int64_t *ranks, int64_t t,
                        strata__rng *rng)
{
    while (t > 0 && hi - lo > 1) {
        int64_t m = hi - lo;
        if (m <= 24) {
            insertion_sort(a + lo, m);
            return;
        }
        int64_t p0 = lo + (int64_t)strata__rng_below(rng, (uint64_t)m);
        int64_t p1 = lo + (int64_t)strata__rng_below(rng, (uint64_t)m);
        int64_t p2 = lo + (int64_t)strata__rng_below(rng, (uint64_t)m);
        int64_t p = kless(a[p0], a[p1]) ? (kless(a[p1], a[p2]) ? p1 : kless(a[p0], a[p2]) ? p2 : p0)
                                        : (kless(a[p0], a[p2]) ? p0 : kless(a[p1], a[p2]) ? p2 : p1);
        kswap(&a[p], &a[hi - 1]);
        skey pv = a[hi - 1];
        int64_t k = lo;
        for (int64_t j = lo; j < hi - 1; j++)
            if (kless(a[j], pv))
                kswap(&a[k++], &a[j]);
        kswap(&a[k], &a[hi - 1]);
        /* ranks[0, left) < k, ranks[left, right) == k, ranks[right, t) > k */
        int64_t left = 0;
        while (left < t && ranks[left] < k)
            left++;
        int64_t right = left;
        while (right < t && ranks[right] == k)
            right++;
        /* Recurse into the side with fewer keys, loop on the other. */
        if (k - lo < hi - k - 1) {
            multiselect(a, lo, k, ranks, left, rng);
            lo = k + 1;
            ranks += right;
            t -= right;
        } else {
            multiselect(a, k + 1, hi, ranks + right, t - right, rng);
            hi = k;
            t = left;
        }
    }
}

static int select_sequential(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                             int64_t *pos)
{
    skey *a = strata__alloc((size_t)n, sizeof *a);
    if (!a)
        return STRATA_E_NOMEM;
    for (int64_t i = 0; i < n; i++)
        a[i] = (skey){v[i], i};
    strata__rng rng;
    strata__rng_seed(&rng, SEED, 0);
    multiselect(a, 0, n, ranks, t, &rng);
    for (int64_t j = 0; j < t; j++)
        pos[j] = a[ranks[j]].i;
    strata__free(a);
    return 0;
}

/* The pivots split the keys into m + 1 buckets: bucket b holds the keys k
 * with pivot[b-1] <= k < pivot[b]. */
typedef struct split {
    strata__rank_keys_fn *rank_keys; /* when m allows */
    const double *v;
    int64_t n;
    const double *pv; /* pivots, ascending */
    const int64_t *pi;
    int64_t m;
    int64_t *counts;       /* chunk x (m + 1): keys per bucket, then write offsets */
    const uint8_t *wanted; /* m + 1 flags: buckets to gather */
    skey *cand;
} split;

/* Buckets of the keys [i0, i0 + len), len <= SPLIT_BLOCK, into b; with c,
 * c[k] gains the number of them in bucket k. The buckets are computed again
 * by the gather pass rather than stored: a store of n bucket ids costs more
 * (fresh memory, its traffic) than counting against the pivots twice. */
static void split_block(const split *s, int64_t i0, int64_t len, uint16_t *b, int64_t *c)
{
    /* pivots <= (v, i) are the pivots < (v, i + 1): keys are distinct */
    if (s->m <= STRATA__RANK_KEYS_MAX) {
        uint8_t b8[SPLIT_BLOCK];
        int64_t above[STRATA__RANK_KEYS_MAX] = {0}; /* keys above each pivot */
        s->rank_keys(s->v + i0, len, i0 + 1, s->pv, s->pi, s->m,
                           (strata__rank_map){.base = 0, .add = 0, .step = 1}, b8, above);
        for (int64_t i = 0; i < len; i++)
            b[i] = b8[i];
        if (c)
            for (int64_t k = 0; k <= s->m; k++)
                c[k] += (k ? above[k - 1] : len) - (k < s->m ? above[k] : 0);
        return;
    }
    for (int64_t i = 0; i < len; i++)
        b[i] = (uint16_t)strata__keys_below(s->pv, s->pi, s->m, s->v[i0 + i], i0 + i + 1);
    if (c)
        for (int64_t i = 0; i < len; i++)
            c[b[i]]++;
}

static void count_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    const split *s = ctx;
    int64_t *c = s->counts + chunk * (s->m + 1);
    uint16_t b[SPLIT_BLOCK];
    for (int64_t i0 = begin; i0 < end; i0 += SPLIT_BLOCK)
        split_block(s, i0, end - i0 < SPLIT_BLOCK ? end - i0 : SPLIT_BLOCK, b, c);
}

static void gather_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                         double *partial)
{
    const split *s = ctx;
    int64_t *off = s->counts + chunk * (s->m + 1);
    uint16_t b[SPLIT_BLOCK];
    for (int64_t i0 = begin; i0 < end; i0 += SPLIT_BLOCK) {
        int64_t len = end - i0 < SPLIT_BLOCK ? end - i0 : SPLIT_BLOCK;
        split_block(s, i0, len, b, NULL);
        for (int64_t i = 0; i < len; i++)
            if (s->wanted[b[i]])
                s->cand[off[b[i]]++] = (skey){s->v[i0 + i], i0 + i};
    }
}

/* Pivots: for each rank, the sample keys about three standard deviations
 * below and above where the rank should fall in the sorted sample (found by
 * selection in the sample). Returns the number of distinct pivots. */
static int64_t choose_pivots(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                             skey *sample, int64_t *at, double *pv, int64_t *pi)
{
    strata__rng rng;
    strata__rng_seed(&rng, SEED, 0);
    for (int64_t j = 0; j < SAMPLE; j++) {
        int64_t i = (int64_t)strata__rng_below(&rng, (uint64_t)n);
        sample[j] = (skey){v[i], i};
    }
    int64_t m = 0;
    for (int64_t j = 0; j < t; j++) {
        double p = (double)ranks[j] / (double)n;
        double c = p * (double)SAMPLE, spread = 3.0 * sqrt((double)SAMPLE * p * (1 - p)) + 4.0;
        double lo = floor(c - spread), hi = ceil(c + spread);
        if (lo >= 0 && (m == 0 || at[m - 1] < (int64_t)lo))
            at[m++] = (int64_t)lo;
        if (hi < (double)SAMPLE && (m == 0 || at[m - 1] < (int64_t)hi))
            at[m++] = (int64_t)hi;
    }
    multiselect(sample, 0, SAMPLE, at, m, &rng);
    /* The sample may hold a key twice (drawn with replacement). */
    int64_t u = 0;
    for (int64_t j = 0; j < m; j++) {
        skey k = sample[at[j]];
        if (u == 0 || strata__key_less(pv[u - 1], pi[u - 1], k.v, k.i)) {
            pv[u] = k.v;
            pi[u] = k.i;
            u++;
        }
    }
    return u;
}

static int select_parallel(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                           int64_t *pos, int threads, strata__rank_keys_fn *rank_keys)
{
    int64_t nchunks = strata__chunk_count(n, CHUNK);
    skey *sample = strata__alloc((size_t)SAMPLE, sizeof *sample);
    int64_t *at = strata__alloc((size_t)(2 * t), sizeof *at);
    double *pv = strata__alloc((size_t)(2 * t), sizeof *pv);
    int64_t *pi = strata__alloc((size_t)(2 * t), sizeof *pi);
    int64_t *total = NULL, *first = NULL, *rel = NULL;
    uint8_t *wanted = NULL;
    split s = {.v = v, .n = n, .pv = pv, .pi = pi};
    int rc = STRATA_E_NOMEM;
    if (!sample || !at || !pv || !pi)
        goto done;
    s.m = choose_pivots(v, n, ranks, t, sample, at, pv, pi);
    s.rank_keys = rank_keys;
    int64_t nb = s.m + 1;
    s.counts = strata__calloc((size_t)(nchunks * nb), sizeof *s.counts);
    total = strata__calloc((size_t)nb, sizeof *total);
    first = strata__alloc((size_t)(nb + 1), sizeof *first);
    wanted = strata__calloc((size_t)nb, 1);
    rel = strata__alloc((size_t)t, sizeof *rel);
    if (!s.counts || !total || !first || !wanted || !rel)
        goto done;
    if ((rc = strata__parallel_chunks(n, CHUNK, threads, 0, NULL, count_chunk, &s)))
        goto done;
    /* first[b]: rank of the first key of bucket b. */
    for (int64_t c = 0; c < nchunks; c++)
        for (int64_t b = 0; b < nb; b++)
            total[b] += s.counts[c * nb + b];
    first[0] = 0;
    for (int64_t b = 0; b < nb; b++)
        first[b + 1] = first[b] + total[b];
    for (int64_t j = 0, b = 0; j < t; j++) {
        while (first[b + 1] <= ranks[j])
            b++;
        wanted[b] = 1;
    }
    /* Candidates: the wanted buckets one after another, each in chunk order. */
    int64_t ncand = 0;
    for (int64_t b = 0; b < nb; b++) {
        if (!wanted[b])
            continue;
        for (int64_t c = 0; c < nchunks; c++) {
            int64_t count = s.counts[c * nb + b];
            s.counts[c * nb + b] = ncand;
            ncand += count;
        }
    }
    s.wanted = wanted;
    rc = STRATA_E_NOMEM;
    if (!(s.cand = strata__alloc((size_t)ncand, sizeof *s.cand)))
        goto done;
    if ((rc = strata__parallel_chunks(n, CHUNK, threads, 0, NULL, gather_chunk, &s)))
        goto done;
    /* Each wanted bucket: its ranks, shifted to the bucket's candidates. */
    strata__rng rng;
    strata__rng_seed(&rng, SEED, 1);
    for (int64_t j = 0, base = 0, b = 0; j < t;) {
        while (first[b + 1] <= ranks[j]) {
            if (wanted[b])
                base += total[b];
            b++;
        }
        int64_t k = j;
        for (; k < t && ranks[k] < first[b + 1]; k++)
            rel[k] = ranks[k] - first[b];
        multiselect(s.cand + base, 0, total[b], rel + j, k - j, &rng);
        for (int64_t r = j; r < k; r++)
            pos[r] = s.cand[base + rel[r]].i;
        j = k;
    }
    rc = 0;
done:
    strata__free(s.cand);
    strata__free(rel);
    strata__free(wanted);
    strata__free(first);
    strata__free(total);
    strata__free(s.counts);
    strata__free(pi);
    strata__free(pv);
    strata__free(at);
    strata__free(sample);
    return rc;
}

/* ---- integers in a small range: counting instead of pivots ---------------
 *
 * Recency and frequency are small integers with many ties. For them a
 * histogram per chunk finds the value of each rank, and the chunk histograms
 * locate, among the keys of that value, the one of the wanted position. */

#define COUNT_RANGE ((int64_t)1 << 16)

typedef struct range_stats {
    double lo, hi;
    int integral;
} range_stats;

typedef struct counting {
    const double *v;
    int64_t chunk_rows, width;
    double lo;
    range_stats *stats; /* per chunk */
    uint32_t *hist;     /* chunk x width */
} counting;

static void range_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    counting *c = ctx;
    double lo = c->v[begin], hi = lo;
    int integral = 1;
    for (int64_t i = begin; i < end && integral; i++) { /* stops at the first fraction */
        double x = c->v[i];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        integral = fabs(x) < 9.0e18 && x == (double)(int64_t)x;
    }
    c->stats[chunk] = (range_stats){lo, hi, integral};
}

static void hist_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                       double *partial)
{
    counting *c = ctx;
    uint32_t *h = c->hist + chunk * c->width;
    memset(h, 0, (size_t)c->width * sizeof *h);
    for (int64_t i = begin; i < end; i++)
        h[(int64_t)(c->v[i] - c->lo)]++;
}

/* 1 if the values are integers within a range of at most COUNT_RANGE, then
 * selected by counting into pos; 0 to use pivots; <0 on error. */
static int select_counting(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                           int64_t *pos, int threads)
{
    /* chunks: at most 64 histograms */
    int64_t chunk_rows = (n + 63) / 64 > CHUNK ? (n + 63) / 64 : CHUNK;
    int64_t nchunks = strata__chunk_count(n, chunk_rows);
    counting c = {.v = v, .chunk_rows = chunk_rows};
    c.stats = strata__alloc((size_t)nchunks, sizeof *c.stats);
    if (!c.stats)
        return STRATA_E_NOMEM;
    int rc = strata__parallel_chunks(n, chunk_rows, threads, 0, NULL, range_chunk, &c);
    double lo = INFINITY, hi = -INFINITY;
    int integral = 1;
    for (int64_t k = 0; k < nchunks; k++) {
        lo = c.stats[k].lo < lo ? c.stats[k].lo : lo;
        hi = c.stats[k].hi > hi ? c.stats[k].hi : hi;
        integral &= c.stats[k].integral;
    }
    strata__free(c.stats);
    if (rc)
        return rc;
    if (!integral || !(lo > -9.0e18 && hi < 9.0e18) || hi - lo >= (double)COUNT_RANGE)
        return 0;
    c.lo = lo;
    c.width = (int64_t)(hi - lo) + 1;
    c.hist = strata__alloc((size_t)(nchunks * c.width), sizeof *c.hist);
    int64_t *below = strata__calloc((size_t)c.width + 1, sizeof *below);
    if (!c.hist || !below) {
        rc = STRATA_E_NOMEM;
        goto done;
    }
    if ((rc = strata__parallel_chunks(n, chunk_rows, threads, 0, NULL, hist_chunk, &c)))
        goto done;
    /* below[w]: keys of value < lo + w */
    for (int64_t k = 0; k < nchunks; k++)
        for (int64_t w = 0; w < c.width; w++)
            below[w + 1] += c.hist[k * c.width + w];
    for (int64_t w = 0; w < c.width; w++)
        below[w + 1] += below[w];
    for (int64_t j = 0, w = 0; j < t; j++) {
        while (below[w + 1] <= ranks[j])
            w++;
        /* the (ranks[j] - below[w])-th key of value lo + w, in position order */
        int64_t p = ranks[j] - below[w], k = 0;
        while (p >= c.hist[k * c.width + w])
            p -= c.hist[k++ * c.width + w];
        double x = lo + (double)w;
        int64_t i = k * chunk_rows;
        for (;; i++)
            if (v[i] == x && p-- == 0)
                break;
        pos[j] = i;
    }
    rc = 1;
done:
    strata__free(below);
    strata__free(c.hist);
    return rc;
}

int strata__select_ranks(const double *v, int64_t n, const int64_t *ranks, int64_t t,
                         int64_t *pos, int threads, strata__rank_keys_fn *rank_keys)
{
    if (t <= 0 || n <= 0)
        return 0;
    if (n <= SEQUENTIAL_MAX || 2 * t + 1 > UINT16_MAX) /* bucket ids are 16-bit */
        return select_sequential(v, n, ranks, t, pos);
    int rc = select_counting(v, n, ranks, t, pos, threads);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    return select_parallel(v, n, ranks, t, pos, threads, rank_keys);
}

int64_t strata__quantile_index(int64_t n, double p)
{
    double h = (double)(n - 1) * p;
    if (h >= (double)(n - 1))
        return n - 1;
    return h < 0 ? 0 : (int64_t)floor(h);
}

double strata__quantile_lerp(int64_t n, double p, double lo, double hi)
{
    double h = (double)(n - 1) * p;
    if (h >= (double)(n - 1))
        return hi; /* numpy then takes the last value for both */
    double gamma = h - floor(h);
    if (!isfinite(hi - lo)) {
        double r = lo * (1.0 - gamma) + hi * gamma;
        return r < lo ? lo : r > hi ? hi : r;
    }
    volatile double diff = hi - lo;
    volatile double prod = diff * gamma;
    double r = lo + prod;
    if (gamma >= 0.5) {
        volatile double prod2 = diff * (1.0 - gamma);
        r = hi - prod2;
    }
    return r;
}
