/* Segment profiles: size, shares, means (chunk-order sums) and medians of
 * recency, frequency and monetary. Medians of integers over a modest range
 * (recency, frequency) come from per-segment histograms, one pass for all
 * segments; the others from a histogram of each segment's values on the top
 * bits of an order-preserving key, then selection among the few values in
 * the buckets that hold the middle ranks. A median is a value, unique
 * whatever the order the candidates are gathered in. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/select.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "rfm/rfm.h"

#define PROFILE_CHUNK STRATA__RFM_PROFILE_CHUNK
/* Largest segments x value range counted per thread (32 MiB of counts). */
#define HIST_CELLS ((int64_t)1 << 22)

enum { S_COUNT, S_REVENUE, S_RECENCY, S_FREQUENCY, S_MONETARY, S_SUMS };
_Static_assert(S_SUMS == STRATA__RFM_PROFILE_SUMS, "profile sums per segment");

typedef struct prof {
    const strata__rfm_customers *c;
    int64_t base; /* index of c's first customer among all (the chunks' rows) */
    const int32_t *segment;
    int64_t nseg;
    const strata__kernels *kern; /* for the selections */
} prof;

static void sum_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    const prof *p = ctx;
    const strata__rfm_customers *c = p->c;
    const double *revenue = c->revenue ? c->revenue : c->monetary;
    /* the chunk's running sums: from 0 at its start (a zeroed partial), or
     * where the part before stopped (strata__rfm_profile_sums) */
    double total = partial[p->nseg * S_SUMS];
    begin -= p->base;
    end -= p->base;
    for (int64_t i = begin; i < end; i++) {
        total += revenue[i]; /* unmatched customers included */
        int32_t s = p->segment[i];
        if (s < 0)
            continue;
        double *q = partial + s * S_SUMS;
        q[S_COUNT] += 1.0;
        q[S_REVENUE] += revenue[i];
        q[S_RECENCY] += (double)c->recency[i];
        q[S_FREQUENCY] += (double)c->frequency[i];
        q[S_MONETARY] += c->monetary[i];
    }
    partial[p->nseg * S_SUMS] = total;
}

/* ---- integer medians by counting ---------------------------------------- */

typedef struct int_hist {
    const int64_t *v;
    const int32_t *segment;
    int64_t nseg, lo, width;
    int64_t *range;  /* chunk x 2: min, max */
    int64_t **count; /* per thread: nseg x width */
} int_hist;

static void minmax_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                         double *partial)
{
    const int_hist *h = ctx;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = begin; i < end; i++) {
        lo = h->v[i] < lo ? h->v[i] : lo;
        hi = h->v[i] > hi ? h->v[i] : hi;
    }
    h->range[2 * chunk] = lo;
    h->range[2 * chunk + 1] = hi;
}

static void int_hist_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const int_hist *h = ctx;
    int64_t *count = h->count[tid];
    for (int64_t i = begin; i < end; i++)
        if (h->segment[i] >= 0)
            count[h->segment[i] * h->width + (h->v[i] - h->lo)]++;
}

/* Medians of v per segment into out[s * STATS + stat]; 1 if done, 0 if the
 * range is too wide for counting, < 0 on error. */
static int int_medians(const int64_t *v, const int32_t *segment, int64_t n, int64_t nseg,
                       int threads, int stat, double *out)
{
    int64_t nchunks = strata__chunk_count(n, PROFILE_CHUNK);
    int_hist h = {.v = v, .segment = segment, .nseg = nseg};
    h.range = strata__alloc((size_t)(2 * nchunks), sizeof *h.range);
    if (!h.range)
        return STRATA_E_NOMEM;
    int rc = strata__parallel_chunks(n, PROFILE_CHUNK, threads, 0, NULL, minmax_chunk, &h);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t k = 0; k < nchunks; k++) {
        lo = h.range[2 * k] < lo ? h.range[2 * k] : lo;
        hi = h.range[2 * k + 1] > hi ? h.range[2 * k + 1] : hi;
    }
    strata__free(h.range);
    if (rc)
        return rc;
    if ((uint64_t)hi - (uint64_t)lo >= (uint64_t)(HIST_CELLS / nseg))
        return 0;
    h.lo = lo;
    h.width = hi - lo + 1;
    int64_t cells = nseg * h.width;
    h.count = strata__calloc((size_t)threads, sizeof *h.count);
    rc = h.count ? 0 : STRATA_E_NOMEM;
    for (int t = 0; t < threads && !rc; t++)
        if (!(h.count[t] = strata__calloc((size_t)cells, sizeof **h.count)))
            rc = STRATA_E_NOMEM;
    if (!rc)
        rc = strata__parallel_chunks(n, PROFILE_CHUNK, threads, 0, NULL, int_hist_chunk, &h);
    for (int t = 1; t < threads && !rc; t++) /* integer counts: any order of addition */
        for (int64_t j = 0; j < cells; j++)
            h.count[0][j] += h.count[t][j];
    for (int64_t s = 0; s < nseg && !rc; s++) {
        const int64_t *c = h.count[0] + s * h.width;
        int64_t m = 0;
        for (int64_t w = 0; w < h.width; w++)
            m += c[w];
        double mid[2] = {NAN, NAN};
        int64_t want[2] = {(m - 1) / 2, m / 2}, seen = 0;
        for (int64_t w = 0, j = 0; w < h.width && m > 0 && j < 2; w++) {
            seen += c[w];
            while (j < 2 && want[j] < seen)
                mid[j++] = (double)(lo + w);
        }
        out[s * STRATA__RFM_STATS + stat] = m == 0 ? NAN : (mid[0] + mid[1]) / 2.0;
    }
    if (h.count)
        for (int t = 0; t < threads; t++)
            strata__free(h.count[t]);
    strata__free(h.count);
    return rc ? rc : 1;
}

/* ---- other medians: bucket histograms, then selection ------------------- */

/* Cells of the bucket histograms (segments x buckets), per thread. */
#define VALUE_CELLS ((int64_t)1 << 20)

/* Order-preserving key of a double (no NaN); both zeros map to +0's key. */
static inline uint64_t order_key(double x)
{
    uint64_t b;
    x = x == 0.0 ? 0.0 : x;
    memcpy(&b, &x, sizeof b);
    return b >> 63 ? ~b : b | ((uint64_t)1 << 63);
}

/* (a + b) / 2, as pandas' median of an even count; where a + b overflows
 * (finite values near the double range) the halves are added instead. */
double strata__rfm_midpoint(double a, double b)
{
    double m = (a + b) / 2.0;
    return isfinite(m) ? m : a / 2.0 + b / 2.0;
}

/* Values gathered for one segment: those in its wanted buckets. */
typedef struct cand_list {
    double *v;
    int64_t n, cap;
} cand_list;

typedef struct value_medians {
    const strata__rfm_customers *c;
    const int32_t *segment;
    int64_t nseg, nb;
    int metric, shift;   /* bucket = order_key(value) >> shift */
    int64_t **count;     /* per thread: nseg x nb */
    const int64_t *lo, *hi; /* per segment: the wanted buckets lo..hi (lo > hi: none) */
    cand_list **cand;    /* per thread: nseg lists */
    int *nomem;          /* per thread */
} value_medians;

static inline double value_of(const value_medians *g, int64_t i)
{
    const strata__rfm_customers *c = g->c;
    return g->metric == 2 ? c->monetary[i]
                          : (double)(g->metric == 0 ? c->recency[i] : c->frequency[i]);
}

static void value_hist_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                             double *partial)
{
    const value_medians *g = ctx;
    int64_t *count = g->count[tid];
    for (int64_t i = begin; i < end; i++) {
        int32_t s = g->segment[i];
        if (s >= 0)
            count[s * g->nb + (int64_t)(order_key(value_of(g, i)) >> g->shift)]++;
    }
}

static void value_gather_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                               double *partial)
{
    const value_medians *g = ctx;
    cand_list *lists = g->cand[tid];
    for (int64_t i = begin; i < end && !g->nomem[tid]; i++) {
        int32_t s = g->segment[i];
        if (s < 0)
            continue;
        double x = value_of(g, i);
        int64_t b = (int64_t)(order_key(x) >> g->shift);
        /* one unsigned compare: "b < lo || b > hi" branches on which half of
         * the segment b falls in, a coin toss for the branch predictor */
        if ((uint64_t)(b - g->lo[s]) > (uint64_t)(g->hi[s] - g->lo[s]))
            continue;
        cand_list *l = &lists[s];
        if (l->n == l->cap) {
            int64_t cap = l->cap ? 2 * l->cap : 1024;
            double *v = strata__grow(l->v, (size_t)l->n, (size_t)cap, sizeof *v);
            if (!v) {
                g->nomem[tid] = 1;
                return;
            }
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = x;
    }
}

/* Medians of one metric for every segment by bucket histograms: counts per
 * (segment, bucket); the buckets holding ranks (m - 1) / 2 and m / 2; their
 * values gathered (any order: only values are selected) and selected. */
static int value_medians_of(const prof *p, int metric, const double *sums, int threads,
                            double *out, int stat)
{
    const int64_t nseg = p->nseg, n = p->c->n;
    /* up to 2^16 buckets (sign, exponent and 4 leading fraction bits), fewer
     * with many segments or few customers */
    int64_t cells = n < VALUE_CELLS ? (n > 1024 ? n : 1024) : VALUE_CELLS;
    int bits = 1;
    while (bits < 16 && (nseg << (bits + 1)) <= cells)
        bits++;
    value_medians g = {.c = p->c, .segment = p->segment, .nseg = nseg, .metric = metric,
                       .nb = (int64_t)1 << bits, .shift = 64 - bits};
    int64_t *lo = strata__alloc((size_t)(3 * nseg), sizeof *lo), *hi = lo ? lo + nseg : NULL;
    int64_t *below = lo ? lo + 2 * nseg : NULL;
    g.count = strata__calloc((size_t)threads, sizeof *g.count);
    g.cand = strata__calloc((size_t)threads, sizeof *g.cand);
    g.nomem = strata__calloc((size_t)threads, sizeof *g.nomem);
    int rc = lo && g.count && g.cand && g.nomem ? 0 : STRATA_E_NOMEM;
    for (int t = 0; t < threads && !rc; t++)
        if (!(g.count[t] = strata__calloc((size_t)(nseg * g.nb), sizeof **g.count)) ||
            !(g.cand[t] = strata__calloc((size_t)nseg, sizeof **g.cand)))
            rc = STRATA_E_NOMEM;
    if (!rc)
        rc = strata__parallel_chunks(n, PROFILE_CHUNK, threads, 0, NULL, value_hist_chunk, &g);
    for (int t = 1; t < threads && !rc; t++) /* integer counts: any order of addition */
        for (int64_t j = 0; j < nseg * g.nb; j++)
            g.count[0][j] += g.count[t][j];
    for (int64_t s = 0; s < nseg && !rc; s++) {
        const int64_t *c = g.count[0] + s * g.nb, m = (int64_t)sums[s * S_SUMS + S_COUNT];
        lo[s] = 1;
        hi[s] = 0;
        for (int64_t b = 0, seen = 0; b < g.nb && m > 0; b++) {
            if (seen <= (m - 1) / 2 && (m - 1) / 2 < seen + c[b]) {
                lo[s] = b;
                below[s] = seen;
            }
            if (seen <= m / 2 && m / 2 < seen + c[b]) {
                hi[s] = b;
                break;
            }
            seen += c[b];
        }
    }
    g.lo = lo;
    g.hi = hi;
    if (!rc)
        rc = strata__parallel_chunks(n, PROFILE_CHUNK, threads, 0, NULL, value_gather_chunk, &g);
    for (int t = 0; t < threads && !rc; t++)
        if (g.nomem[t])
            rc = STRATA_E_NOMEM;
    for (int64_t s = 0; s < nseg && !rc; s++) {
        int64_t m = (int64_t)sums[s * S_SUMS + S_COUNT], total = 0;
        double *o = &out[s * STRATA__RFM_STATS + stat];
        if (m == 0) {
            *o = NAN;
            continue;
        }
        for (int t = 0; t < threads; t++)
            total += g.cand[t][s].n;
        double *v = strata__alloc((size_t)total, sizeof *v);
        if (!v) {
            rc = STRATA_E_NOMEM;
            break;
        }
        for (int64_t t = 0, at = 0; t < threads; t++) {
            if (g.cand[t][s].n > 0)
                memcpy(v + at, g.cand[t][s].v, (size_t)g.cand[t][s].n * sizeof *v);
            at += g.cand[t][s].n;
        }
        /* buckets lo..hi hold every value ranked below[s] .. below[s] + total - 1 */
        int64_t ranks[2] = {(m - 1) / 2 - below[s], m / 2 - below[s]}, pos[2];
        rc = strata__select_ranks(v, total, ranks, 2, pos, threads, p->kern->rank_keys);
        if (!rc)
            *o = ranks[0] == ranks[1] ? v[pos[0]] : strata__rfm_midpoint(v[pos[0]], v[pos[1]]);
        strata__free(v);
    }
    for (int t = 0; t < threads; t++) {
        if (g.count && g.count[t])
            strata__free(g.count[t]);
        for (int64_t s = 0; g.cand && g.cand[t] && s < nseg; s++)
            strata__free(g.cand[t][s].v);
        if (g.cand)
            strata__free(g.cand[t]);
    }
    strata__free(g.count);
    strata__free(g.cand);
    strata__free(g.nomem);
    strata__free(lo);
    return rc;
}

static int medians(prof *p, const double *sums, int threads, double *out)
{
    static const int STAT[3] = {STRATA_RFM_STAT_MEDIAN_RECENCY, STRATA_RFM_STAT_MEDIAN_FREQUENCY,
                                STRATA_RFM_STAT_MEDIAN_MONETARY};
    for (int k = 0; k < 3; k++) {
        int rc = k < 2 ? int_medians(k == 0 ? p->c->recency : p->c->frequency, p->segment,
                                     p->c->n, p->nseg, threads, STAT[k], out)
                       : 0;
        if (rc < 0)
            return rc;
        if (rc == 0 && (rc = value_medians_of(p, k, sums, threads, out, STAT[k])))
            return rc;
    }
    return 0;
}

/* Every customer's revenue and monetary value is finite (aggregate.c), but
 * their sums may still overflow: then no revenue, share or mean can be
 * given, and the scoring fails naming the sum. O(segments), after the pass. */
static int check_sums(const double *sums, int64_t nseg, const strata__rfm_rules *rules,
                      char *msg)
{
    for (int64_t s = 0; s < nseg; s++) {
        const double *q = sums + s * S_SUMS;
        if (!isfinite(q[S_REVENUE]) || !isfinite(q[S_MONETARY]))
            return strata__fail(msg, STRATA_E_NONFINITE,
                                "the %s of the %.0f customers of segment '%s' sums beyond the "
                                "double range (%g): amounts this large are not money",
                                isfinite(q[S_REVENUE]) ? "monetary value" : "revenue",
                                q[S_COUNT], rules->names[s], DBL_MAX);
    }
    if (!isfinite(sums[nseg * S_SUMS]))
        return strata__fail(msg, STRATA_E_NONFINITE,
                            "the revenue of all customers sums beyond the double range (%g): "
                            "amounts this large are not money", DBL_MAX);
    return STRATA_OK;
}

int strata__rfm_profile_stats(const double *sums, int64_t n, const strata__rfm_rules *rules,
                              double *out, char *msg)
{
    const int64_t nseg = rules->n;
    int rc = check_sums(sums, nseg, rules, msg);
    double total = sums[nseg * S_SUMS];
    for (int64_t s = 0; !rc && s < nseg; s++) {
        const double *q = sums + s * S_SUMS;
        double *o = out + s * STRATA__RFM_STATS, count = q[S_COUNT];
        o[STRATA_RFM_STAT_COUNT] = count;
        o[STRATA_RFM_STAT_CUSTOMER_SHARE] = count / (double)n;
        o[STRATA_RFM_STAT_REVENUE] = q[S_REVENUE];
        o[STRATA_RFM_STAT_REVENUE_SHARE] = total != 0.0 ? q[S_REVENUE] / total : NAN;
        o[STRATA_RFM_STAT_MEAN_RECENCY] = count > 0 ? q[S_RECENCY] / count : NAN;
        o[STRATA_RFM_STAT_MEAN_FREQUENCY] = count > 0 ? q[S_FREQUENCY] / count : NAN;
        o[STRATA_RFM_STAT_MEAN_MONETARY] = count > 0 ? q[S_MONETARY] / count : NAN;
    }
    return rc;
}

int strata__rfm_profile_sums(const strata__rfm_customers *c, const int32_t *segment, int64_t nseg,
                             int64_t offset, int64_t n, int threads, double *run,
                             strata__tree_sum *sum)
{
    prof p = {.c = c, .base = offset, .segment = segment, .nseg = nseg};
    const int64_t len = nseg * S_SUMS + 1, end = offset + c->n;
    int64_t i = offset;
    /* the chunk in progress at offset: continue it up to its end or ours */
    if (i < end && i % PROFILE_CHUNK) {
        int64_t stop = (i / PROFILE_CHUNK + 1) * PROFILE_CHUNK;
        stop = stop < end ? stop : end;
        sum_chunk(&p, i / PROFILE_CHUNK, i, stop, 0, run);
        if (stop % PROFILE_CHUNK == 0 || stop == n) {
            int rc = strata__tree_sum_push(sum, i / PROFILE_CHUNK, 0, run);
            if (rc)
                return rc;
            memset(run, 0, (size_t)len * sizeof *run);
        }
        i = stop;
    }
    /* whole chunks inside the part */
    int64_t c0 = (i + PROFILE_CHUNK - 1) / PROFILE_CHUNK, c1 = end / PROFILE_CHUNK;
    if (end == n)
        c1 = strata__chunk_count(n, PROFILE_CHUNK);
    if (i < end && c1 > c0) {
        int rc = strata__parallel_chunk_range(n, PROFILE_CHUNK, c0, c1, threads, sum, sum_chunk,
                                                  &p);
        if (rc)
            return rc;
        i = c1 * PROFILE_CHUNK < end ? c1 * PROFILE_CHUNK : end;
    }
    /* the start of a chunk that a later part finishes */
    if (i < end) {
        memset(run, 0, (size_t)len * sizeof *run);
        sum_chunk(&p, i / PROFILE_CHUNK, i, end, 0, run);
    }
    return 0;
}

int strata__rfm_profile(const strata__rfm_customers *c, const int32_t *segment,
                        const strata__rfm_rules *rules, int threads, const strata__kernels *kern,
                        double *out, char *msg)
{
    const int64_t nseg = rules->n;
    prof p = {.c = c, .segment = segment, .nseg = nseg, .kern = kern};
    int64_t len = nseg * S_SUMS + 1;
    double *sums = strata__calloc((size_t)len, sizeof *sums);
    if (!sums)
        return STRATA_E_NOMEM;
    int rc = strata__parallel_chunks(c->n, PROFILE_CHUNK, threads, len, sums, sum_chunk, &p);
    if (!rc)
        rc = strata__rfm_profile_stats(sums, c->n, rules, out, msg);
    if (!rc)
        rc = medians(&p, sums, threads, out);
    strata__free(sums);
    return rc;
}
