/* From a transaction log to one row per customer.
 *
 *   1. classify: every row is checked (id, day range, amount) and counted
 *      under its first problem, and the kept ones marked in a bitmap; per
 *      chunk, their id, time and cent ranges, and whether every kept amount
 *      is whole cents;
 *   2. histogram: kept rows per (chunk, bucket), a bucket being a range of
 *      ids given by the top bits of id - min_id;
 *   3. scatter: the kept rows, as records, into their buckets, each chunk at
 *      its own offsets (so the layout depends on nothing but the input);
 *   4. per bucket, in parallel: sort by (id, time, amount) - counting sorts
 *      on the key bits, then runs of equal keys by what is left - and count
 *      customers, duplicates, returns-only rows;
 *   5. per bucket again: write each customer's aggregates at its place in
 *      the id order.
 *
 * A record is one of three layouts, the smallest that holds every kept row:
 *   compact, 8 bytes: when every kept amount is a whole number of cents
 *     (amount == cents / 100.0 exactly, as money read from text is), one
 *     64-bit key = id bits below the bucket's | time - min_time | cents -
 *     min_cents, which alone orders the rows by (id, time, amount);
 *   narrow, 16 bytes: the key without the cents, and the amount;
 *   wide, 24 bytes: id, time, amount (keys wider than 64 bits).
 * Every layout gives back the same rows, so the results do not depend on it.
 *
 * Sorting each customer's rows by (time, amount) puts them in an order that
 * depends only on their values, so totals (compensated sums) and every other
 * result are bitwise the same for any row order of the input and any thread
 * count. Memory: 8 (16, at worst 24) bytes per kept row for the records, in
 * the handle's scratch block (kept for scoring and the next fit), one bit
 * per row, plus one bucket's worth per thread; nothing is quadratic. A fresh
 * record buffer is touched in order before the scatter writes into it
 * (core/scratch.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/mem.h"
#include "core/parallel.h"
#include "core/scratch.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "rfm/rfm.h"

#define ROW_CHUNK ((int64_t)1 << 18)
/* At most 2^11 buckets: more write streams than that slow the scatter down. */
#define MAX_BUCKET_BITS 11
/* Aim for buckets of about 2^13 rows (a few hundred KiB: they sort in cache). */
#define BUCKET_ROWS_LOG2 13
/* Counting-sort digits of up to 12 bits, at most 3 passes; wider id ranges
 * within a bucket fall back to a comparison sort. */
#define DIGIT_BITS 12
#define MAX_PASSES 3
#define SMALL_SORT 32

/* The record layouts (see the top of the file). */
enum { L_COMPACT, L_NARROW, L_WIDE };

typedef struct wide_rec {
    int64_t id, time;
    double amount;
} wide_rec;

typedef struct narrow_rec {
    uint64_t key;
    double amount;
} narrow_rec;

/* A decoded row. */
typedef struct row {
    int64_t id, time;
    double amount;
} row;


/* Take the spare block if it is large enough, else allocate one and touch
 * it in order (core/scratch.h: the table's columns are written as several
 * streams). */
static void *take_block(strata__scratch *spare, size_t bytes, int threads, size_t *size)
{
    if (spare && spare->p && spare->size >= bytes) {
        void *p = spare->p;
        *size = spare->size;
        spare->p = NULL;
        spare->size = 0;
        return p;
    }
    *size = bytes;
    void *p = strata__alloc(bytes, 1);
    if (p && strata__prefault(p, bytes, threads)) {
        strata__free(p);
        p = NULL;
    }
    return p;
}

/* Give a block back: it becomes the spare if larger than the spare's. */
static void retire_block(void *block, size_t size, strata__scratch *spare)
{
    if (spare && size > spare->size) {
        strata__free(spare->p);
        spare->p = block;
        spare->size = size;
    } else {
        strata__free(block);
    }
}

int strata__rfm_customers_alloc(strata__rfm_customers *o, int64_t n, int has_days, int mean,
                                int threads, strata__scratch *spare)
{
    size_t col = ((size_t)n * 8 + 63) & ~(size_t)63, size;
    char *b = take_block(spare, col * (4 + (size_t)has_days + (size_t)mean), threads, &size);
    if (!b)
        return STRATA_E_NOMEM;
    *o = (strata__rfm_customers){.n = n, .block = b, .block_size = size};
    o->id = (int64_t *)b;
    o->recency = (int64_t *)(b + col);
    o->frequency = (int64_t *)(b + 2 * col);
    o->monetary = (double *)(b + 3 * col);
    b += 4 * col;
    if (has_days) {
        o->first_day = (int64_t *)b;
        b += col;
    }
    if (mean)
        o->revenue = (double *)b;
    return STRATA_OK;
}

void strata__rfm_customers_retire(strata__rfm_customers *c, strata__scratch *spare)
{
    if (!c)
        return;
    strata__free(c->first_spend);
    if (c->block)
        retire_block(c->block, c->block_size, spare);
    memset(c, 0, sizeof *c);
}

void strata__rfm_customers_free(strata__rfm_customers *c)
{
    strata__rfm_customers_retire(c, NULL);
}

static inline int64_t day_of(int unit, int64_t t)
{
    if (unit == STRATA_RFM_TIME_DAYS)
        return t;
    int64_t d = t / 86400;
    return t % 86400 < 0 ? d - 1 : d;
}

/* An amount in cents, rounded to a whole number; amount == cents / 100.0
 * exactly when the amount is whole cents (then cents / 100.0 restores it).
 * The same rounding as the row check's (kernels/rfm_rows_impl.h), which
 * decided that every kept amount is whole cents. */
static inline double cents_of(double amount)
{
    return rint(amount * 100.0);
}

/* Bits [0, bits) set; bits may be 64. */
static inline uint64_t mask_of(int bits)
{
    return bits >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
}

/* Bits needed for values 0..span. */
static inline int bits_of(uint64_t span)
{
    return span ? 64 - __builtin_clzll(span) : 0;
}

typedef struct bucket_stats {
    int64_t customers, used, duplicates, return_only, first_day, last_day;
    int overflow;        /* written: a customer's total is not finite (pass 5) */
    int64_t overflow_id; /* the first such customer of the bucket */
} bucket_stats;

typedef struct agg {
    const int64_t *id, *time;
    const double *amount;
    int64_t n;
    const strata__rfm_agg_cfg *cfg;
    strata__scratch *scratch; /* holds the records */
    strata__scratch *spare;   /* a previous customer table's memory, reused */
    strata__row_stats *chunk;
    uint64_t *kept_bits; /* bit i: row i is kept (pass 1) */
    /* buckets */
    int64_t min_id;
    int shift, low_bits; /* bucket = (id - min_id) >> shift; low_bits = shift */
    int64_t nbuckets;
    int64_t *offset; /* chunk x bucket: where the chunk's rows of the bucket go */
    int64_t *start;  /* nbuckets + 1: first record of each bucket */
    /* records */
    int layout;
    size_t rec_size;
    /* compact and narrow keys: id bits below the bucket's at bit id_at,
     * time - min_time at bit time_at (compact: above cents - min_cents) */
    int time_bits, cents_bits, time_at, id_at;
    int64_t min_time, min_cents;
    char *recs;
    int all_purchases; /* no netted return among the kept rows */
    bucket_stats *bucket;
    /* per-thread scratch */
    char **tmp;
    int64_t **counters;
    /* output (pass 5) */
    strata__rfm_customers *out;
    int64_t *first_customer; /* nbuckets: index of each bucket's first customer */
} agg;

/* ---- pass 1: classify ------------------------------------------------- */

strata__row_check strata__rfm_row_check(const strata__rfm_agg_cfg *c)
{
    return (strata__row_check){.min_id = c->min_id, .min_day = c->min_day,
                               .max_day = c->max_day,
                               .keep_negative = c->negative == STRATA_RFM_NET,
                               .keep_zero = c->zero == STRATA_RFM_KEEP,
                               .seconds = c->time_unit == STRATA_RFM_TIME_SECONDS};
}

static void classify_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const agg *g = ctx;
    const strata__rfm_agg_cfg *c = g->cfg;
    const strata__row_check chk = strata__rfm_row_check(c);
    /* chunks start at multiples of 64 rows: each has its own bitmap words */
    c->kern->check_rows(g->id + begin, g->time + begin, g->amount + begin, end - begin, &chk,
                        g->kept_bits + (begin >> 6), &g->chunk[chunk]);
}

/* ---- passes 2 and 3: histogram and scatter ---------------------------- */

/* Passes 2 and 3 visit the kept rows that pass 1 marked (chunks start at
 * multiples of 64 rows: each chunk has its own words), and read everything they need into locals first:
 * the stores into counters and records could otherwise alias the inputs,
 * and the compiler would reload them on every row. */
static void histogram_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const agg *g = ctx;
    const int64_t *ids = g->id;
    const uint64_t min_id = (uint64_t)g->min_id;
    const int shift = g->shift;
    int64_t *h = g->offset + chunk * g->nbuckets;
    for (int64_t w = begin >> 6; w < (end + 63) >> 6; w++)
        for (uint64_t bits = g->kept_bits[w]; bits; bits &= bits - 1)
            h[((uint64_t)ids[(w << 6) + __builtin_ctzll(bits)] - min_id) >> shift]++;
}

static void scatter_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    const agg *g = ctx;
    const int64_t *ids = g->id, *times = g->time;
    const double *amounts = g->amount;
    const uint64_t min_id = (uint64_t)g->min_id, min_time = (uint64_t)g->min_time;
    const uint64_t low_mask = mask_of(g->low_bits), min_cents = (uint64_t)g->min_cents;
    const int shift = g->shift, time_at = g->time_at, id_at = g->id_at, layout = g->layout;
    char *recs = g->recs;
    int64_t *off = g->offset + chunk * g->nbuckets;
    for (int64_t w = begin >> 6; w < (end + 63) >> 6; w++) {
        for (uint64_t bits = g->kept_bits[w]; bits; bits &= bits - 1) {
            int64_t i = (w << 6) + __builtin_ctzll(bits);
            int64_t id = ids[i], t = times[i];
            double a = amounts[i];
            int64_t k = off[((uint64_t)id - min_id) >> shift]++;
            if (layout == L_WIDE) {
                ((wide_rec *)recs)[k] = (wide_rec){id, t, a};
                continue;
            }
            uint64_t key = ((uint64_t)t - min_time) << time_at;
            if (shift > 0) /* low_bits == shift, and id_at < 64 */
                key |= (((uint64_t)id - min_id) & low_mask) << id_at;
            if (layout == L_COMPACT)
                ((uint64_t *)recs)[k] = key | ((uint64_t)(int64_t)cents_of(a) - min_cents);
            else
                ((narrow_rec *)recs)[k] = (narrow_rec){key, a};
        }
    }
}

/* ---- pass 4: sort each bucket ------------------------------------------ */

static inline int wide_less(const wide_rec *a, const wide_rec *b)
{
    if (a->id != b->id)
        return a->id < b->id;
    if (a->time != b->time)
        return a->time < b->time;
    return a->amount < b->amount;
}

static inline int narrow_less(const narrow_rec *a, const narrow_rec *b)
{
    return a->key < b->key || (a->key == b->key && a->amount < b->amount);
}

static inline int compact_less(const uint64_t *a, const uint64_t *b)
{
    return *a < *b;
}

/* Comparison sorts, one per layout so that a record moves as a plain copy:
 * insertion sort for short runs (the common case: one customer's rows). */
#define SORT_FUNCS(name, type, less)                                                \
    static int cmp_##name(const void *pa, const void *pb)                           \
    {                                                                               \
        return less((const type *)pa, (const type *)pb)   ? -1                      \
               : less((const type *)pb, (const type *)pa) ? 1                       \
                                                          : 0;                      \
    }                                                                               \
    static void sort_##name(type *a, int64_t n)                                     \
    {                                                                               \
        if (n > SMALL_SORT) {                                                       \
            qsort(a, (size_t)n, sizeof *a, cmp_##name);                             \
            return;                                                                 \
        }                                                                           \
        for (int64_t i = 1; i < n; i++) {                                           \
            type x = a[i];                                                          \
            int64_t j = i;                                                          \
            for (; j > 0 && less(&x, &a[j - 1]); j--)                               \
                a[j] = a[j - 1];                                                    \
            a[j] = x;                                                               \
        }                                                                           \
    }
SORT_FUNCS(wide, wide_rec, wide_less)
SORT_FUNCS(narrow, narrow_rec, narrow_less)
SORT_FUNCS(compact, uint64_t, compact_less)

/* Sort n records by (id, time, amount). */
static void sort_records(const agg *g, char *a, int64_t n)
{
    if (g->layout == L_WIDE)
        sort_wide((wide_rec *)a, n);
    else if (g->layout == L_NARROW)
        sort_narrow((narrow_rec *)a, n);
    else
        sort_compact((uint64_t *)a, n);
}

/* The key of record i (compact and narrow layouts). */
static inline uint64_t key_of(const agg *g, const char *a, int64_t i)
{
    return g->layout == L_COMPACT ? ((const uint64_t *)a)[i] : ((const narrow_rec *)a)[i].key;
}

/* The id bits below the bucket's (0 .. 2^low_bits - 1) of record i. */
static inline uint64_t low_id(const agg *g, const char *a, int64_t i)
{
    if (g->layout == L_WIDE)
        return ((uint64_t)((const wide_rec *)a)[i].id - (uint64_t)g->min_id) &
               mask_of(g->low_bits);
    return g->low_bits > 0 ? key_of(g, a, i) >> g->id_at : 0;
}

/* Stable LSD counting sorts of m records by bits [start, start + nbits) of
 * a sort value (compact: the record; narrow: its key; wide: id - min_id),
 * in digits of at most DIGIT_BITS, through tmp; the result ends in a. */
#define RADIX_BODY(type, value)                                                     \
    int passes = (nbits + DIGIT_BITS - 1) / DIGIT_BITS;                             \
    int width = (nbits + passes - 1) / passes;                                      \
    uint64_t mask = ((uint64_t)1 << width) - 1;                                     \
    type *src = a, *dst = tmp;                                                      \
    for (int p = 0; p < passes; p++) {                                              \
        int sh = start + p * width;                                                 \
        memset(count, 0, ((size_t)mask + 2) * sizeof *count);                       \
        for (int64_t i = 0; i < m; i++)                                             \
            count[(((value) >> sh) & mask) + 1]++;                                  \
        for (uint64_t d = 0; d <= mask; d++)                                        \
            count[d + 1] += count[d];                                               \
        for (int64_t i = 0; i < m; i++)                                             \
            dst[count[((value) >> sh) & mask]++] = src[i];                          \
        type *t = src;                                                              \
        src = dst;                                                                  \
        dst = t;                                                                    \
    }                                                                               \
    if (src != a)                                                                   \
        memcpy(a, src, (size_t)m * sizeof *a);

static void radix_compact(uint64_t *a, int64_t m, uint64_t *tmp, int64_t *count, int start,
                          int nbits)
{
    RADIX_BODY(uint64_t, src[i])
}

static void radix_narrow(narrow_rec *a, int64_t m, narrow_rec *tmp, int64_t *count, int start,
                         int nbits)
{
    RADIX_BODY(narrow_rec, src[i].key)
}

static void radix_wide(wide_rec *a, int64_t m, wide_rec *tmp, int64_t *count, uint64_t min_id,
                       int nbits)
{
    const int start = 0;
    RADIX_BODY(wide_rec, ((uint64_t)src[i].id - min_id))
}

/* Counting sort of m compact or narrow records by bits [start, start +
 * nbits) of their keys. */
static void radix_keys(const agg *g, char *a, int64_t m, int tid, int start, int nbits)
{
    if (g->layout == L_COMPACT)
        radix_compact((uint64_t *)a, m, (uint64_t *)g->tmp[tid], g->counters[tid], start,
                      nbits);
    else
        radix_narrow((narrow_rec *)a, m, (narrow_rec *)g->tmp[tid], g->counters[tid], start,
                     nbits);
}

/* Compact records whose id and time bits take at most two digits (and
 * fewer than 2^32 of them: 32-bit counters, which stay in L1): one
 * counting of every digit, the counting passes, then the rare runs of one
 * customer and time out of amount order (the only records that can be out
 * of key order after the passes) sorted where found. */
static void sort_compact_bucket(uint64_t *a, int64_t m, uint64_t *tmp, uint32_t *count, int at,
                                int nbits)
{
    if (nbits > 0) {
        int passes = (nbits + DIGIT_BITS - 1) / DIGIT_BITS;
        int width = (nbits + passes - 1) / passes;
        const uint64_t mask = ((uint64_t)1 << width) - 1;
        const int64_t radix = (int64_t)1 << width;
        memset(count, 0, (size_t)(passes * radix) * sizeof *count);
        for (int64_t i = 0; i < m; i++) {
            uint64_t k = a[i] >> at;
            for (int p = 0; p < passes; p++)
                count[p * radix + (int64_t)((k >> (p * width)) & mask)]++;
        }
        for (int p = 0; p < passes; p++) {
            uint32_t *c = count + p * radix, sum = 0;
            for (int64_t d = 0; d < radix; d++) {
                uint32_t x = c[d];
                c[d] = sum;
                sum += x;
            }
        }
        uint64_t *src = a, *dst = tmp;
        for (int p = 0; p < passes; p++) {
            uint32_t *c = count + p * radix;
            const int sh = at + p * width;
            for (int64_t i = 0; i < m; i++)
                dst[c[(src[i] >> sh) & mask]++] = src[i];
            uint64_t *t = src;
            src = dst;
            dst = t;
        }
        if (src != a)
            memcpy(a, src, (size_t)m * sizeof *a);
    }
    for (int64_t i = 1; i < m; i++) {
        if (a[i] >= a[i - 1])
            continue;
        const uint64_t group = at < 64 ? a[i] >> at : 0;
        int64_t s = i - 1, e = i + 1;
        while (s > 0 && (at < 64 ? a[s - 1] >> at : 0) == group)
            s--;
        while (e < m && (at < 64 ? a[e] >> at : 0) == group)
            e++;
        sort_compact(a + s, e - s);
        i = e - 1;
    }
}

/* Sort a bucket by (id, time, amount). Keys whose id and time bits take at
 * most two digits are counting-sorted by those bits - (id, time) order - and
 * only runs of equal (id, time) then need ordering by amount; otherwise the
 * records are counting-sorted by id and each customer's rows sorted. Ids
 * too spread for counting fall back to a comparison sort. */
static void sort_bucket(const agg *g, char *a, int64_t m, int tid)
{
    const size_t size = g->rec_size;
    int group_bits = g->low_bits + g->time_bits;
    if (g->layout == L_COMPACT && group_bits <= 2 * DIGIT_BITS && m < (int64_t)UINT32_MAX) {
        sort_compact_bucket((uint64_t *)a, m, (uint64_t *)g->tmp[tid],
                            (uint32_t *)g->counters[tid], g->time_at, group_bits);
        return;
    }
    if (m > SMALL_SORT && g->layout == L_NARROW && group_bits <= 2 * DIGIT_BITS) {
        if (group_bits > 0)
            radix_keys(g, a, m, tid, g->time_at, group_bits);
        int at = g->time_at;
        for (int64_t i = 0; i < m;) {
            uint64_t group = at < 64 ? key_of(g, a, i) >> at : 0;
            int64_t j = i + 1;
            while (j < m && (at < 64 ? key_of(g, a, j) >> at : 0) == group)
                j++;
            if (j - i > 1)
                sort_records(g, a + (size_t)i * size, j - i);
            i = j;
        }
        return;
    }
    if (m <= SMALL_SORT || g->low_bits > DIGIT_BITS * MAX_PASSES) {
        /* everything at once: few records, or ids too spread for counting */
        sort_records(g, a, m);
        return;
    }
    if (g->low_bits > 0) {
        if (g->layout == L_WIDE)
            radix_wide((wide_rec *)a, m, (wide_rec *)g->tmp[tid], g->counters[tid],
                       (uint64_t)g->min_id, g->low_bits);
        else
            radix_keys(g, a, m, tid, g->id_at, g->low_bits);
    }
    for (int64_t i = 0; i < m;) {
        uint64_t id = low_id(g, a, i);
        int64_t j = i + 1;
        while (j < m && low_id(g, a, j) == id)
            j++;
        sort_records(g, a + (size_t)i * size, j - i);
        i = j;
    }
}

/* Row i of a sorted bucket whose first id is base_id. */
static inline row load(const agg *g, const char *a, int64_t i, int64_t base_id)
{
    if (g->layout == L_WIDE) {
        const wide_rec *r = (const wide_rec *)a + i;
        return (row){r->id, r->time, r->amount};
    }
    uint64_t key = key_of(g, a, i);
    uint64_t low = g->low_bits > 0 ? key >> g->id_at : 0;
    row r = {(int64_t)((uint64_t)base_id + low),
             (int64_t)((uint64_t)g->min_time + ((key >> g->time_at) & mask_of(g->time_bits))),
             0.0};
    if (g->layout == L_COMPACT)
        r.amount = (double)(int64_t)((uint64_t)g->min_cents + (key & mask_of(g->cents_bits))) /
                   100.0;
    else
        r.amount = ((const narrow_rec *)a)[i].amount;
    return r;
}

/* Neumaier's compensated sum: exact for money amounts (the error term stays
 * exact), so the total is the correctly rounded sum in practice. */
static inline void sum_add(double *s, double *c, double x)
{
    double t = *s + x;
    *c += fabs(*s) >= fabs(x) ? (*s - t) + x : (x - t) + *s;
    *s = t;
}

/* Walk a sorted bucket customer by customer; count, and with write != 0 store
 * the aggregates (recency holds the last purchase day for now). */
static void scan_bucket(const agg *g, const char *a, int64_t m, int64_t base_id, int write,
                        int64_t first, bucket_stats *st)
{
    const strata__rfm_agg_cfg *c = g->cfg;
    strata__rfm_customers *o = g->out;
    int drop_dup = c->duplicates == STRATA_RFM_DROP;
    *st = (bucket_stats){.first_day = INT64_MAX, .last_day = INT64_MIN};
    row next = m > 0 ? load(g, a, 0, base_id) : (row){0};
    for (int64_t i = 0; i < m;) {
        int64_t purchases = 0, days = 0, rows = 0, first_day = 0, last_day = 0, id = next.id;
        double s = 0.0, comp = 0.0, fs = 0.0, fcomp = 0.0;
        row prev = next, cur;
        int64_t j = i;
        for (; j < m && (cur = next).id == id; j++) {
            if (j + 1 < m)
                next = load(g, a, j + 1, base_id);
            else
                next.id = id == INT64_MAX ? 0 : id + 1; /* ends the loop */
            if (j > i && cur.time == prev.time && cur.amount == prev.amount) {
                st->duplicates++;
                if (drop_dup)
                    continue;
            }
            prev = cur;
            rows++;
            sum_add(&s, &comp, cur.amount);
            if (cur.amount >= 0) { /* a purchase (negatives are here only when netted) */
                int64_t d = day_of(c->time_unit, cur.time);
                if (purchases == 0)
                    first_day = d;
                if (purchases == 0 || d != last_day)
                    days++;
                last_day = d;
                purchases++;
            }
            if (purchases > 0 && day_of(c->time_unit, cur.time) == first_day)
                sum_add(&fs, &fcomp, cur.amount); /* the first purchase day's rows */
        }
        if (purchases == 0) {
            st->return_only += rows;
        } else {
            if (write) {
                int64_t k = first + st->customers;
                double total = s + comp;
                /* finite amounts whose sum overflows (a partial sum in the
                 * canonical order makes s infinite and total NaN): an error
                 * for the caller, found here once per customer */
                if (!isfinite(total) && !st->overflow) {
                    st->overflow = 1;
                    st->overflow_id = id;
                }
                int64_t freq = c->frequency_mode == STRATA_RFM_COUNT_DAYS ? days : purchases;
                o->id[k] = id;
                o->recency[k] = last_day;
                o->frequency[k] = freq;
                o->first_day[k] = first_day;
                if (o->first_spend)
                    o->first_spend[k] = fs + fcomp;
                if (o->revenue) {
                    o->revenue[k] = total;
                    o->monetary[k] = total / (double)freq;
                } else {
                    o->monetary[k] = total;
                }
            }
            st->customers++;
            st->used += rows;
            st->first_day = first_day < st->first_day ? first_day : st->first_day;
            st->last_day = last_day > st->last_day ? last_day : st->last_day;
        }
        i = j;
    }
}

static inline int64_t bucket_base(const agg *g, int64_t b)
{
    return (int64_t)((uint64_t)g->min_id + ((uint64_t)b << g->shift));
}

/* What scan_bucket counts, when every row is a purchase (no netted
 * returns): customers are the distinct ids, and only neighbours need
 * comparing - no sums, no days per row. */
static void count_bucket(const agg *g, const char *a, int64_t m, int64_t base_id,
                         bucket_stats *st)
{
    int64_t customers = 0, dup = 0, tmin = INT64_MAX, tmax = INT64_MIN;
    if (g->layout == L_COMPACT) {
        /* on the keys alone: equal keys are duplicates, no amount decoded */
        const uint64_t *k = (const uint64_t *)a, tmask = mask_of(g->time_bits);
        const int id_shift = g->low_bits > 0 ? g->id_at : 63, time_at = g->time_at;
        const uint64_t id_mask = g->low_bits > 0 ? ~(uint64_t)0 : 0;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int64_t i = 0; i < m; i++) { /* branch-free: new customers are unpredictable */
            uint64_t t = (k[i] >> time_at) & tmask;
            lo = t < lo ? t : lo;
            hi = t > hi ? t : hi;
            uint64_t prev = i > 0 ? k[i - 1] : ~k[0];
            int same = i > 0 && ((k[i] >> id_shift) & id_mask) == ((prev >> id_shift) & id_mask);
            customers += !same;
            dup += same & (k[i] == prev);
        }
        tmin = (int64_t)((uint64_t)g->min_time + lo);
        tmax = (int64_t)((uint64_t)g->min_time + hi);
    } else {
        row prev = {0};
        for (int64_t i = 0; i < m; i++) {
            row r = load(g, a, i, base_id);
            tmin = r.time < tmin ? r.time : tmin;
            tmax = r.time > tmax ? r.time : tmax;
            if (i == 0 || r.id != prev.id)
                customers++;
            else
                dup += r.time == prev.time && r.amount == prev.amount;
            prev = r;
        }
    }
    int unit = g->cfg->time_unit;
    *st = (bucket_stats){.customers = customers, .duplicates = dup,
                         .used = m - (g->cfg->duplicates == STRATA_RFM_DROP ? dup : 0),
                         .first_day = m ? day_of(unit, tmin) : INT64_MAX,
                         .last_day = m ? day_of(unit, tmax) : INT64_MIN};
}

static void sort_and_count(void *ctx, int64_t b, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    agg *g = ctx;
    char *a = g->recs + (size_t)g->start[b] * g->rec_size;
    int64_t m = g->start[b + 1] - g->start[b];
    sort_bucket(g, a, m, tid);
    if (g->all_purchases)
        count_bucket(g, a, m, bucket_base(g, b), &g->bucket[b]);
    else
        scan_bucket(g, a, m, bucket_base(g, b), 0, 0, &g->bucket[b]);
}

/* Selections without branches for the writing pass, on values >= 0 (never
 * -0, never NaN), where the ternaries would compile to branches that
 * mispredict at every new customer. On such values max/min agree with the
 * ternaries of sum_add (equal values have equal bits). */
#if defined(__SSE2__)
static inline double max_nonneg(double a, double b)
{
    return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(a), _mm_set_sd(b)));
}
static inline double min_nonneg(double a, double b)
{
    return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(a), _mm_set_sd(b)));
}
/* v if keep, else +0 (any v) */
static inline double keep_or_zero(double v, int keep)
{
    __m128d mask = _mm_castsi128_pd(_mm_set1_epi64x(-(int64_t)keep));
    return _mm_cvtsd_f64(_mm_and_pd(_mm_set_sd(v), mask));
}
#else
static inline double max_nonneg(double a, double b) { return a > b ? a : b; }
static inline double min_nonneg(double a, double b) { return a < b ? a : b; }
static inline double keep_or_zero(double v, int keep) { return keep ? v : 0.0; }
#endif

/* scan_bucket's writing pass for the common case - compact records, every
 * row a purchase (amounts >= 0), times in days - on the keys directly, with
 * the same sums in the same order, so the same bits. Branch-free over the
 * rows (where a customer ends is unpredictable): every row updates its
 * customer's running values and stores them at the customer's slot, so the
 * last store holds the customer's aggregates. No total can overflow here
 * (scan_bucket checks): compact amounts are whole cents below 2^52 / 100
 * in magnitude, so even 2^63 of them sum below 1e33. */
static inline __attribute__((always_inline)) void
write_compact_impl(const agg *g, const uint64_t *a, int64_t m, int64_t base_id, int64_t first,
                   const int with_first)
{
    const strata__rfm_agg_cfg *c = g->cfg;
    strata__rfm_customers *o = g->out;
    const int drop_dup = c->duplicates == STRATA_RFM_DROP;
    const int count_days = c->frequency_mode == STRATA_RFM_COUNT_DAYS;
    const int id_shift = g->low_bits > 0 ? g->id_at : 63, time_at = g->time_at;
    const uint64_t id_mask = g->low_bits > 0 ? ~(uint64_t)0 : 0;
    const uint64_t tmask = mask_of(g->time_bits), cmask = mask_of(g->cents_bits);
    const int64_t min_time = g->min_time, min_cents = g->min_cents;
    int64_t *ids = o->id, *last = o->recency, *freq = o->frequency, *first_day = o->first_day;
    double *monetary = o->monetary, *revenue = o->revenue;
    double *first_spend = o->first_spend;
    int64_t k = first - 1, rows = 0, days = 0, t0 = 0;
    uint64_t prev = 0, t = 0;
    double sum = 0.0, comp = 0.0, fsum = 0.0, fcomp = 0.0;
    for (int64_t i = 0; i < m; i++) {
        const uint64_t key = a[i], id = (key >> id_shift) & id_mask;
        const int same = i > 0 && id == ((prev >> id_shift) & id_mask);
        const int skip = same & drop_dup & (key == prev); /* a dropped duplicate */
        const uint64_t tk = (key >> time_at) & tmask;
        const int64_t cents = skip ? 0 : min_cents + (int64_t)(key & cmask);
        const double x = (double)cents / 100.0; /* +0 for a skipped row: changes nothing */
        k += !same;
        /* sum_add, from zero at a new customer */
        sum = keep_or_zero(sum, same);
        comp = keep_or_zero(comp, same);
        const double total = sum + x;
        comp += (max_nonneg(sum, x) - total) + min_nonneg(x, sum);
        sum = total;
        days = same ? days + (!skip & (tk != t)) : 1;
        rows = same ? rows + !skip : 1;
        t0 = same ? t0 : (int64_t)tk;
        if (with_first) { /* sum_add of the first day's rows, as sum's */
            const double xf = keep_or_zero(x, (int64_t)tk == t0);
            fsum = keep_or_zero(fsum, same);
            fcomp = keep_or_zero(fcomp, same);
            const double ft = fsum + xf;
            fcomp += (max_nonneg(fsum, xf) - ft) + min_nonneg(xf, fsum);
            fsum = ft;
            first_spend[k] = fsum + fcomp;
        }
        t = tk;
        prev = key;
        const double money = sum + comp;
        const int64_t f = count_days ? days : rows;
        ids[k] = (int64_t)((uint64_t)base_id + id);
        last[k] = min_time + (int64_t)t; /* the last purchase day, for now */
        freq[k] = f;
        first_day[k] = min_time + t0;
        if (revenue) {
            revenue[k] = money;
            monetary[k] = money / (double)f;
        } else {
            monetary[k] = money;
        }
    }
}

static void write_compact(const agg *g, const uint64_t *a, int64_t m, int64_t base_id,
                          int64_t first)
{
    if (g->out->first_spend)
        write_compact_impl(g, a, m, base_id, first, 1);
    else
        write_compact_impl(g, a, m, base_id, first, 0);
}

static void write_bucket(void *ctx, int64_t b, int64_t begin, int64_t end, int tid,
                         double *partial)
{
    agg *g = ctx;
    const char *a = g->recs + (size_t)g->start[b] * g->rec_size;
    int64_t m = g->start[b + 1] - g->start[b];
    if (g->layout == L_COMPACT && g->all_purchases &&
        g->cfg->time_unit == STRATA_RFM_TIME_DAYS) {
        write_compact(g, (const uint64_t *)a, m, bucket_base(g, b), g->first_customer[b]);
        return;
    }
    bucket_stats st;
    scan_bucket(g, a, m, bucket_base(g, b), 1, g->first_customer[b], &st);
    g->bucket[b].overflow = st.overflow;
    g->bucket[b].overflow_id = st.overflow_id;
}

typedef struct finish_ctx {
    strata__rfm_customers *c;
} finish_ctx;

static void finish_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                         double *partial)
{
    strata__rfm_customers *c = ((finish_ctx *)ctx)->c;
    for (int64_t i = begin; i < end; i++)
        c->recency[i] = c->reference_day - c->recency[i];
}

/* ---- driver ------------------------------------------------------------ */

static int nomem(char *msg, const char *what)
{
    return strata__fail(msg, STRATA_E_NOMEM, "out of memory for %s", what);
}

/* Passes 1-3: classify, count, scatter. Fills rep's row counts and g's buckets. */
static int bucket_rows(agg *g, strata__rfm_report *rep, char *msg)
{
    int threads = g->cfg->threads;
    int64_t nchunks = strata__chunk_count(g->n, ROW_CHUNK);
    g->chunk = strata__alloc((size_t)nchunks, sizeof *g->chunk);
    g->kept_bits = strata__alloc((size_t)((g->n + 63) >> 6), sizeof *g->kept_bits);
    if (!g->chunk || !g->kept_bits)
        return nomem(msg, "the row counts");
    int rc = strata__parallel_chunks(g->n, ROW_CHUNK, threads, 0, NULL, classify_chunk, g);
    if (rc)
        return nomem(msg, "the row counts");
    int64_t count[STRATA__ROW_REASONS] = {0}, kept = 0, lo = INT64_MAX, hi = INT64_MIN;
    int64_t tlo = INT64_MAX, thi = INT64_MIN, clo = INT64_MAX, chi = INT64_MIN;
    int all_cents = 1;
    for (int64_t c = 0; c < nchunks; c++) {
        const strata__row_stats *k = &g->chunk[c];
        for (int r = 0; r < STRATA__ROW_REASONS; r++)
            count[r] += k->count[r];
        kept += k->kept;
        lo = k->min_id < lo ? k->min_id : lo;
        hi = k->max_id > hi ? k->max_id : hi;
        tlo = k->min_time < tlo ? k->min_time : tlo;
        thi = k->max_time > thi ? k->max_time : thi;
        clo = k->min_cents < clo ? k->min_cents : clo;
        chi = k->max_cents > chi ? k->max_cents : chi;
        all_cents &= k->all_cents;
    }
    g->all_purchases = g->cfg->negative != STRATA_RFM_NET || count[STRATA__ROW_NEGATIVE] == 0;
    *rep = (strata__rfm_report){.rows = g->n, .bad_id = count[STRATA__ROW_BAD_ID],
                                .bad_time = count[STRATA__ROW_BAD_TIME],
                                .bad_amount = count[STRATA__ROW_BAD_AMOUNT],
                                .negative = count[STRATA__ROW_NEGATIVE],
                                .zero = count[STRATA__ROW_ZERO]};
    if (kept == 0)
        return STRATA_OK;

    int key_bits = bits_of((uint64_t)hi - (uint64_t)lo), bits = 0;
    while (bits < MAX_BUCKET_BITS && bits < key_bits && (kept >> (bits + BUCKET_ROWS_LOG2)) > 0)
        bits++;
    if (key_bits - bits > 63) /* ids spanning more than 2^63 (a min_id below 0): a shift of */
        bits = key_bits - 63; /* 64 is undefined (it read and wrote outside the buckets) */
    g->min_id = lo;
    g->shift = g->low_bits = key_bits - bits;
    g->nbuckets = (int64_t)1 << bits;
    g->time_bits = bits_of((uint64_t)thi - (uint64_t)tlo);
    g->min_time = tlo;
    /* |cents| <= 2^52: the cent bits stay below 54, and every shift below 64 */
    if (all_cents) {
        g->min_cents = clo;
        g->cents_bits = bits_of((uint64_t)chi - (uint64_t)clo);
    }
    if (all_cents && g->low_bits + g->time_bits + g->cents_bits <= 64) {
        g->layout = L_COMPACT;
        g->rec_size = sizeof(uint64_t);
        g->time_at = g->cents_bits;
    } else if (g->low_bits + g->time_bits <= 64) {
        g->layout = L_NARROW;
        g->rec_size = sizeof(narrow_rec);
        g->cents_bits = g->time_at = 0;
    } else {
        g->layout = L_WIDE;
        g->rec_size = sizeof(wide_rec);
        g->cents_bits = g->time_at = 0;
    }
    g->id_at = g->time_at + g->time_bits;

    g->offset = strata__calloc((size_t)(nchunks * g->nbuckets), sizeof *g->offset);
    g->start = strata__alloc((size_t)(g->nbuckets + 1), sizeof *g->start);
    int64_t bytes = kept * (int64_t)g->rec_size;
    int fresh;
    g->recs = strata__scratch_get(g->scratch, (size_t)bytes, &fresh);
    if (!g->offset || !g->start || !g->recs)
        return nomem(msg, "sorting the transactions by customer");
    if (fresh && (rc = strata__prefault(g->recs, (size_t)bytes, threads)))
        return nomem(msg, "sorting the transactions by customer");
    if ((rc = strata__parallel_chunks(g->n, ROW_CHUNK, threads, 0, NULL, histogram_chunk, g)))
        return nomem(msg, "sorting the transactions by customer");
    /* Offsets: bucket by bucket, chunks in order within each. */
    int64_t pos = 0;
    for (int64_t b = 0; b < g->nbuckets; b++) {
        g->start[b] = pos;
        for (int64_t c = 0; c < nchunks; c++) {
            int64_t k = g->offset[c * g->nbuckets + b];
            g->offset[c * g->nbuckets + b] = pos;
            pos += k;
        }
    }
    g->start[g->nbuckets] = pos;
    if ((rc = strata__parallel_chunks(g->n, ROW_CHUNK, threads, 0, NULL, scatter_chunk, g)))
        return nomem(msg, "sorting the transactions by customer");
    return STRATA_OK;
}

static int alloc_scratch(agg *g, int threads, char *msg)
{
    int64_t largest = 0;
    for (int64_t b = 0; b < g->nbuckets; b++)
        if (g->start[b + 1] - g->start[b] > largest)
            largest = g->start[b + 1] - g->start[b];
    g->tmp = strata__calloc((size_t)threads, sizeof *g->tmp);
    g->counters = strata__calloc((size_t)threads, sizeof *g->counters);
    if (!g->tmp || !g->counters)
        return nomem(msg, "sorting scratch");
    for (int t = 0; t < threads; t++) {
        g->tmp[t] = strata__alloc((size_t)largest, g->rec_size);
        /* 2^DIGIT_BITS + 1 64-bit counts, or two passes' 32-bit ones */
        g->counters[t] = strata__alloc(((size_t)1 << DIGIT_BITS) + 1, sizeof(int64_t));
        if (!g->tmp[t] || !g->counters[t])
            return nomem(msg, "sorting scratch");
    }
    return STRATA_OK;
}

int strata__rfm_nothing_left(const strata__rfm_report *r, char *msg)
{
    return strata__fail(msg, STRATA_E_ARG,
                        "no purchase left after cleaning %lld rows: %lld with a missing or "
                        "invalid customer id, %lld with a day outside the valid range, %lld with "
                        "a NaN or infinite amount, %lld negative, %lld zero, %lld duplicates, "
                        "%lld of customers with returns only",
                        (long long)r->rows, (long long)r->bad_id, (long long)r->bad_time,
                        (long long)r->bad_amount, (long long)r->negative, (long long)r->zero,
                        (long long)r->duplicates, (long long)r->return_only);
}

int strata__rfm_reference(int64_t reference_day, int64_t last_day, int64_t *ref, char *msg)
{
    *ref = reference_day == STRATA_RFM_REFERENCE_AUTO ? last_day + 1 : reference_day;
    if (*ref < last_day)
        return strata__fail(msg, STRATA_E_ARG,
                            "the reference day %lld is before the last purchase day %lld: "
                            "drop later rows with the maximum valid day, or move the reference",
                            (long long)*ref, (long long)last_day);
    return STRATA_OK;
}

static void free_agg(agg *g, int threads)
{
    if (g->tmp)
        for (int t = 0; t < threads; t++)
            strata__free(g->tmp[t]);
    if (g->counters)
        for (int t = 0; t < threads; t++)
            strata__free(g->counters[t]);
    strata__free(g->tmp);
    strata__free(g->counters);
    strata__free(g->first_customer);
    strata__free(g->bucket);
    strata__free(g->start);
    strata__free(g->offset);
    strata__free(g->kept_bits);
    strata__free(g->chunk);
}

static int aggregate(agg *g, strata__rfm_customers *out, strata__rfm_report *rep, char *msg)
{
    const strata__rfm_agg_cfg *cfg = g->cfg;
    int threads = cfg->threads, rc;
    if ((rc = bucket_rows(g, rep, msg)))
        return rc;
    if (!g->recs)
        return cfg->partial ? STRATA_OK : strata__rfm_nothing_left(rep, msg);
    g->bucket = strata__alloc((size_t)g->nbuckets, sizeof *g->bucket);
    g->first_customer = strata__alloc((size_t)g->nbuckets, sizeof *g->first_customer);
    if (!g->bucket || !g->first_customer)
        return nomem(msg, "the customer counts");
    if ((rc = alloc_scratch(g, threads, msg)))
        return rc;
    if ((rc = strata__parallel_chunks(g->nbuckets, 1, threads, 0, NULL, sort_and_count, g)))
        return nomem(msg, "sorting the transactions by customer");
    int64_t customers = 0, first_day = INT64_MAX, last_day = INT64_MIN;
    for (int64_t b = 0; b < g->nbuckets; b++) {
        const bucket_stats *s = &g->bucket[b];
        g->first_customer[b] = customers;
        customers += s->customers;
        rep->used += s->used;
        rep->duplicates += s->duplicates;
        rep->return_only += s->return_only;
        first_day = s->first_day < first_day ? s->first_day : first_day;
        last_day = s->last_day > last_day ? s->last_day : last_day;
    }
    if (customers == 0)
        return cfg->partial ? STRATA_OK : strata__rfm_nothing_left(rep, msg);
    int64_t ref;
    if ((rc = strata__rfm_reference(cfg->reference_day, last_day, &ref, msg)))
        return rc;
    if (strata__rfm_customers_alloc(out, customers, 1, cfg->monetary_mode == STRATA_RFM_MEAN,
                                    threads, g->spare))
        return nomem(msg, "the customer table");
    if (cfg->first_spend &&
        !(out->first_spend = strata__alloc((size_t)customers, sizeof *out->first_spend)))
        return nomem(msg, "the customer table");
    g->out = out;
    if ((rc = strata__parallel_chunks(g->nbuckets, 1, threads, 0, NULL, write_bucket, g)))
        return nomem(msg, "the customer table");
    for (int64_t b = 0; b < g->nbuckets; b++) /* buckets in id order: the lowest id */
        if (g->bucket[b].overflow)
            return strata__fail(msg, STRATA_E_NONFINITE,
                                "the amounts of customer %lld sum beyond the double range "
                                "(%g): amounts this large are not money; check the amount "
                                "column", (long long)g->bucket[b].overflow_id, DBL_MAX);
    out->first_day_all = first_day;
    out->last_day_all = last_day;
    out->reference_day = ref;
    finish_ctx f = {out};
    if ((rc = strata__parallel_chunks(customers, ROW_CHUNK, threads, 0, NULL, finish_chunk, &f)))
        return nomem(msg, "the customer table");
    return STRATA_OK;
}

int strata__rfm_aggregate(const int64_t *id, const int64_t *time, const double *amount,
                          int64_t n, const strata__rfm_agg_cfg *cfg, strata__scratch *scratch,
                          strata__scratch *spare, strata__rfm_customers *out,
                          strata__rfm_report *rep, char *msg)
{
    agg g = {.id = id, .time = time, .amount = amount, .n = n, .cfg = cfg, .scratch = scratch,
             .spare = spare};
    strata__rfm_customers c = {0};
    strata__rfm_report r = {0};
    int rc = aggregate(&g, &c, &r, msg);
    free_agg(&g, cfg->threads);
    if (rc) {
        strata__rfm_customers_retire(&c, spare);
        return rc;
    }
    *out = c;
    *rep = r;
    return STRATA_OK;
}
