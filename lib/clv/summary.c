/* The calibration summary of a transaction log, on the RFM engine:
 *
 *   1. the cleaning of strata_rfm_fit() (its defaults) marks the kept rows
 *      of the whole log (strata__rfm_clean);
 *   2. the RFM aggregation of the rows on days <= the calibration end, with
 *      distinct days as frequency, the total spend, and the first purchase
 *      day's spend apart, gives per customer f, the last calibration day,
 *      the purchase days and zbar = (total - first day's spend) / x;
 *   3. one pass over the kept rows finds each row's customer among them
 *      (binary search on the sorted ids) and keeps the (customer, day) keys
 *      of its repeat purchases up to the end of the holdout, and the ids of
 *      the customers who are not in the model (first purchase later);
 *   4. the keys sorted (counting sorts: the order does not depend on the
 *      threads) and made distinct give the holdout's repeat purchase days per
 *      customer and the tracking curve's actual repeat purchases per period.
 * Everything is integer counting or per-customer values: the same for any
 * thread count and row order. */
#include <math.h>
#include <string.h>

#include "clv/clv.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "rfm/rfm.h"

#define ROW_CHUNK ((int64_t)1 << 16) /* a multiple of 64: whole words of the bitmap */
#define DIGIT 11

static inline int64_t day_of(int unit, int64_t t)
{
    if (unit == STRATA_RFM_TIME_DAYS)
        return t;
    int64_t d = t / 86400;
    return t % 86400 < 0 ? d - 1 : d;
}

static int bits_of(uint64_t span)
{
    return span ? 64 - __builtin_clzll(span) : 0;
}

/* LSD counting sort of n keys on their low `bits` bits through tmp; the
 * result ends in a. Returns 0 or STRATA_E_NOMEM. */
static int radix_sort(uint64_t *a, uint64_t *tmp, int64_t n, int bits)
{
    int passes = (bits + DIGIT - 1) / DIGIT;
    int64_t *count = strata__alloc(((size_t)1 << DIGIT) + 1, sizeof *count);
    if (!count)
        return STRATA_E_NOMEM;
    uint64_t *src = a, *dst = tmp, mask = ((uint64_t)1 << DIGIT) - 1;
    for (int p = 0; p < passes; p++) {
        int sh = p * DIGIT;
        memset(count, 0, (((size_t)1 << DIGIT) + 1) * sizeof *count);
        for (int64_t i = 0; i < n; i++)
            count[((src[i] >> sh) & mask) + 1]++;
        for (uint64_t d = 0; d < mask + 1; d++)
            count[d + 1] += count[d];
        for (int64_t i = 0; i < n; i++)
            dst[count[(src[i] >> sh) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
    strata__free(count);
    return STRATA_OK;
}

typedef struct pass_ctx {
    const int64_t *id, *time;
    const uint64_t *kept;
    int unit;
    const strata__rfm_customers *c;
    int64_t origin, track_end, cal_end;
    int day_bits;
    int64_t *nkeys, *nexcl; /* per chunk: counts (count pass), offsets (write pass) */
    uint64_t *keys;
    uint64_t *excl;
    int64_t min_id;
    int write;
} pass_ctx;

/* Index of id among the sorted distinct ids, or -1: up to 4 interpolation
 * steps (ids of a log are often dense: one step; each keeps id, if there,
 * within [lo, hi]), then bisection. */
static int64_t find(const int64_t *ids, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n - 1;
    for (int k = 0; k < 4 && lo <= hi; k++) {
        if (id < ids[lo] || id > ids[hi])
            return -1;
        double span = (double)ids[hi] - (double)ids[lo];
        int64_t mid = lo;
        if (span > 0) {
            mid = lo + (int64_t)(((double)id - (double)ids[lo]) / span * (double)(hi - lo));
            mid = mid < lo ? lo : mid > hi ? hi : mid;
        }
        if (ids[mid] == id)
            return mid;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    hi++; /* bisection over [lo, hi) */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? lo : -1;
}

static void row_pass(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                     double *partial)
{
    pass_ctx *g = ctx;
    const strata__rfm_customers *c = g->c;
    int64_t nk = 0, ne = 0, k0 = 0, e0 = 0, last_id = 0, last_idx = -2;
    if (g->write) {
        k0 = g->nkeys[chunk];
        e0 = g->nexcl[chunk];
    }
    for (int64_t w = begin >> 6; w < (end + 63) >> 6; w++) {
        for (uint64_t bits = g->kept[w]; bits; bits &= bits - 1) {
            int64_t i = (w << 6) + __builtin_ctzll(bits);
            int64_t day = day_of(g->unit, g->time[i]), id = g->id[i];
            if (day > g->track_end)
                continue;
            int64_t idx = id == last_id && last_idx != -2 ? last_idx : find(c->id, c->n, id);
            last_id = id;
            last_idx = idx;
            if (idx < 0) {
                if (g->write)
                    g->excl[e0 + ne] = (uint64_t)id - (uint64_t)g->min_id;
                ne++;
            } else if (day > c->first_day[idx]) {
                if (g->write)
                    g->keys[k0 + nk] = ((uint64_t)idx << g->day_bits) |
                                       (uint64_t)(day - g->origin);
                nk++;
            }
        }
    }
    if (!g->write) {
        g->nkeys[chunk] = nk;
        g->nexcl[chunk] = ne;
    }
}

void strata__clv_data_free(strata__clv_data *d)
{
    if (!d)
        return;
    strata__free(d->id);
    strata__free(d->first_day);
    strata__free(d->x);
    strata__free(d->tx);
    strata__free(d->T);
    strata__free(d->zbar);
    strata__free(d->holdout);
    strata__free(d->track_actual);
    strata__free(d->cohort);
    memset(d, 0, sizeof *d);
}

static int nomem(char *msg)
{
    return strata__fail(msg, STRATA_E_NOMEM, "out of memory for the calibration summary");
}

/* The most days a calibration or holdout end may lie past the log: a century. */
#define CLV_MAX_DAYS_PAST_LOG 36525

static int summarize(const int64_t *id, const int64_t *time, const double *amount, int64_t n,
                     const strata__clv_log_cfg *cfg, strata__scratch *scratch,
                     strata__clv_data *d, strata__rfm_customers *A, uint64_t **kept_out,
                     char *msg)
{
    const int64_t E = cfg->cal_end, L = cfg->period_len;
    const int unset = cfg->holdout_end == STRATA_CLV_DAY_UNSET;
    strata__rfm_agg_cfg a = {.time_unit = cfg->time_unit,
                             .frequency_mode = STRATA_RFM_COUNT_DAYS,
                             .monetary_mode = STRATA_RFM_SUM,
                             .negative = STRATA_RFM_DROP,
                             .zero = STRATA_RFM_KEEP,
                             .duplicates = STRATA_RFM_KEEP,
                             .min_day = STRATA__RFM_DAY_MIN,
                             .max_day = unset ? STRATA__RFM_DAY_MAX
                                              : (cfg->holdout_end > E ? cfg->holdout_end : E),
                             .min_id = 0,
                             .reference_day = E,
                             .threads = cfg->threads,
                             .kern = cfg->kern,
                             .first_spend = 1};
    /* 1. the kept rows of the whole log (up to the holdout end) */
    uint64_t *kept = strata__calloc((size_t)((n + 63) >> 6), sizeof *kept);
    if (!(*kept_out = kept))
        return nomem(msg);
    strata__rfm_report rep = {0};
    int64_t used = strata__rfm_clean(id, time, amount, n, &a, kept, &rep);
    if (used == 0)
        return strata__rfm_nothing_left(&rep, msg);
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (int64_t w = 0; w < (n + 63) >> 6; w++)
        for (uint64_t bits = kept[w]; bits; bits &= bits - 1) {
            int64_t day = day_of(cfg->time_unit, time[(w << 6) + __builtin_ctzll(bits)]);
            first = day < first ? day : first;
            last = day > last ? day : last;
        }
    if (first > E)
        return strata__fail(msg, STRATA_E_ARG, "no purchase on or before the calibration end "
                            "(day %lld): the log's kept purchases run from day %lld to day %lld",
                            (long long)E, (long long)first, (long long)last);
    /* Days past the log are observed days without purchases (T grows), but a
     * century of them is a day in another unit (a date as 19970930, a year
     * read as a date), and the tracking curve costs a period per day. */
    const int64_t end = unset || cfg->holdout_end < E ? E : cfg->holdout_end;
    if (end - last > CLV_MAX_DAYS_PAST_LOG)
        return strata__fail(msg, STRATA_E_ARG, "the %s end (day %lld) is %lld days after the "
                            "log's last kept purchase (day %lld): more than %d; days are counted "
                            "from 1970-01-01 (day 10000 is 1997-05-19)", end == E ? "calibration"
                            : "holdout", (long long)end, (long long)(end - last), (long long)last,
                            CLV_MAX_DAYS_PAST_LOG);
    /* 2. the calibration period aggregated */
    a.max_day = E;
    strata__rfm_report rc_rep;
    int rc = strata__rfm_aggregate(id, time, amount, n, &a, scratch, NULL, A, &rc_rep, msg);
    if (rc)
        return rc;
    const int64_t m = A->n;
    d->n = m;
    d->cal_end = E;
    d->rows = n;
    d->rows_used = used;
    d->id = strata__alloc((size_t)m, sizeof(int64_t));
    d->first_day = strata__alloc((size_t)m, sizeof(int64_t));
    d->x = strata__alloc((size_t)m, sizeof(double));
    d->tx = strata__alloc((size_t)m, sizeof(double));
    d->T = strata__alloc((size_t)m, sizeof(double));
    d->zbar = strata__alloc((size_t)m, sizeof(double));
    d->holdout = strata__calloc((size_t)m, sizeof(double));
    if (!d->id || !d->first_day || !d->x || !d->tx || !d->T || !d->zbar || !d->holdout)
        return nomem(msg);
    for (int64_t i = 0; i < m; i++) {
        int64_t f = A->first_day[i], lastday = E - A->recency[i], x = A->frequency[i] - 1;
        d->id[i] = A->id[i];
        d->first_day[i] = f;
        d->x[i] = (double)x;
        d->tx[i] = x > 0 ? (double)(lastday - f) / (double)L : 0.0;
        d->T[i] = (double)(E - f) / (double)L;
        d->zbar[i] = x > 0 ? (A->monetary[i] - A->first_spend[i]) / (double)x : 0.0;
    }
    /* the holdout and the tracking periods */
    int64_t hend = unset ? last : cfg->holdout_end;
    d->holdout_end = hend;
    /* the log's last day, rows past the holdout end and rows the cleaning
     * drops included: a holdout end after it is pointed out (strata clv) */
    d->last_day = last;
    for (int64_t i = 0; i < n; i++)
        if (time[i] != INT64_MIN) { /* INT64_MIN: no time (NaN) */
            const int64_t day = day_of(cfg->time_unit, time[i]);
            d->last_day = day > d->last_day ? day : d->last_day;
        }
    d->holdout_days = hend > E ? hend - E : 0;
    int64_t track_end = d->holdout_days ? hend : E;
    d->origin = A->first_day_all;
    d->nperiods = (track_end - d->origin) / L + 1;
    d->ncohort = E - d->origin + 1;
    d->track_actual = strata__calloc((size_t)d->nperiods, sizeof(double));
    d->cohort = strata__calloc((size_t)d->ncohort, sizeof(double));
    if (!d->track_actual || !d->cohort)
        return nomem(msg);
    for (int64_t i = 0; i < m; i++)
        d->cohort[d->first_day[i] - d->origin] += 1.0;
    /* 3. the repeat purchase keys */
    int64_t nchunks = strata__chunk_count(n, ROW_CHUNK);
    pass_ctx g = {.id = id, .time = time, .kept = kept, .unit = cfg->time_unit, .c = A,
                  .origin = d->origin, .track_end = track_end, .cal_end = E,
                  .day_bits = bits_of((uint64_t)(track_end - d->origin))};
    int idx_bits = bits_of((uint64_t)(m - 1));
    if (idx_bits + g.day_bits > 64)
        return strata__fail(msg, STRATA_E_INTERNAL, "%lld customers over %lld days do not fit "
                            "a 64-bit key", (long long)m, (long long)(track_end - d->origin));
    g.nkeys = strata__alloc((size_t)nchunks, sizeof(int64_t));
    g.nexcl = strata__alloc((size_t)nchunks, sizeof(int64_t));
    uint64_t *keys = NULL, *excl = NULL, *tmp = NULL;
    rc = !g.nkeys || !g.nexcl ? STRATA_E_NOMEM : STRATA_OK;
    if (!rc)
        rc = strata__parallel_chunks(n, ROW_CHUNK, cfg->threads, 0, NULL, row_pass, &g);
    int64_t nk = 0, ne = 0, max_excl = 0;
    for (int64_t c = 0; c < nchunks && !rc; c++) {
        int64_t k = g.nkeys[c], e = g.nexcl[c];
        g.nkeys[c] = nk;
        g.nexcl[c] = ne;
        nk += k;
        ne += e;
    }
    if (!rc) {
        keys = strata__alloc((size_t)(nk > 0 ? nk : 1), sizeof *keys);
        excl = strata__alloc((size_t)(ne > 0 ? ne : 1), sizeof *excl);
        int64_t most = nk > ne ? nk : ne;
        tmp = strata__alloc((size_t)(most > 0 ? most : 1), sizeof *tmp);
        rc = !keys || !excl || !tmp ? STRATA_E_NOMEM : STRATA_OK;
    }
    if (!rc) {
        g.keys = keys;
        g.excl = excl;
        g.write = 1;
        g.min_id = 0; /* ids are >= 0 (the cleaning's minimum id) */
        rc = strata__parallel_chunks(n, ROW_CHUNK, cfg->threads, 0, NULL, row_pass, &g);
    }
    /* 4. distinct keys: counts */
    if (!rc)
        rc = radix_sort(keys, tmp, nk, idx_bits + g.day_bits);
    if (!rc) {
        for (int64_t i = 0; i < ne; i++)
            max_excl = (int64_t)excl[i] > max_excl ? (int64_t)excl[i] : max_excl;
        rc = radix_sort(excl, tmp, ne, bits_of((uint64_t)max_excl));
    }
    if (!rc) {
        const uint64_t dmask = g.day_bits ? (((uint64_t)1 << g.day_bits) - 1) : 0;
        for (int64_t i = 0; i < nk; i++) {
            if (i > 0 && keys[i] == keys[i - 1])
                continue;
            int64_t off = (int64_t)(keys[i] & dmask), idx = (int64_t)(keys[i] >> g.day_bits);
            d->track_actual[off / L] += 1.0;
            if (d->origin + off > E)
                d->holdout[idx] += 1.0;
        }
        for (int64_t i = 0; i < ne; i++)
            d->excluded += i == 0 || excl[i] != excl[i - 1];
    }
    strata__free(keys);
    strata__free(excl);
    strata__free(tmp);
    strata__free(g.nkeys);
    strata__free(g.nexcl);
    if (rc == STRATA_E_NOMEM)
        return nomem(msg);
    if (!d->holdout_days) {
        strata__free(d->holdout);
        d->holdout = NULL;
    }
    return rc;
}

int strata__clv_summarize(const int64_t *id, const int64_t *time, const double *amount, int64_t n,
                          const strata__clv_log_cfg *cfg, strata__scratch *scratch,
                          strata__clv_data *out, char *msg)
{
    strata__clv_data d = {0};
    strata__rfm_customers A = {0};
    uint64_t *kept = NULL;
    int rc = summarize(id, time, amount, n, cfg, scratch, &d, &A, &kept, msg);
    strata__free(kept);
    strata__rfm_customers_free(&A);
    if (rc) {
        strata__clv_data_free(&d);
        return rc;
    }
    *out = d;
    return STRATA_OK;
}
