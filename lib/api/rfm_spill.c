/* RFM on a transaction log larger than the memory budget (rfm_spill.h).
 *
 *   1. a first pass over the id column finds the range lo..hi of valid ids;
 *   2. a second reads the log in blocks (multiples of the datasets' chunks;
 *      both passes walk the log's column source, core/colsrc.h, so the next
 *      block is read on another thread while this one is worked on),
 *      cleans each block with the aggregation's own row check (its counts
 *      summed into the report) and appends every kept row, by equal-width
 *      id range, to one of P part files in a private temporary directory;
 *   3. parts in ascending id order: a part larger than the budget is split
 *      again by its own id range (skewed ids), else it is read back and
 *      aggregated in memory by strata__rfm_aggregate() (all of a customer's
 *      rows are in it, so its duplicates, returns-only rows, totals and
 *      days are those of the whole log), its customers appended to a
 *      customer file with their last purchase day;
 *   4. the reference day from the last day over every part, then the
 *      customer table read back in id order, recency = reference - last.
 * Every file is removed as soon as it is read, and the directory on return.
 * Steps (include/strata.h): READ after each block of passes 1 and 2 (done of
 * 4 n values: the id column, then all three), AGGREGATE before step 3 and
 * after each part aggregated: done of n = the rows cleaned away + the rows of
 * the parts aggregated so far (its n of n is the caller's). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/rfm_spill.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
#include "io/spill.h"

#define MAX_FANOUT 256
#define MIN_BUFFER ((size_t)4 << 10)
#define MAX_BUFFER ((size_t)1 << 20)

typedef struct rec { /* a kept row in a part file */
    int64_t id, time;
    double amount;
} rec;

typedef struct crec { /* a customer in the customer file */
    int64_t id, last_day, frequency, first_day;
    double monetary, revenue;
} crec;

typedef struct part {
    int64_t file, rows, lo, hi; /* lo..hi: the ids it holds */
} part;

typedef struct run {
    const char *path;
    strata__rfm_agg_cfg cfg; /* partial */
    uint64_t budget, given; /* the budget less the fixed allowance; as given */
    strata__spill *sp;
    /* Memory reused from part to part (fresh pages cost more than the work
     * on them, core/scratch.h): the records of the aggregation, the three
     * columns of a part, a part's customer table. */
    strata__scratch scratch, columns, table;
    strata__spill_writer cust;
    int64_t customers, first_day, last_day;
    strata__rfm_report rep;
    const strata__steps *steps;
    int64_t n, aggregated; /* rows of the log; AGGREGATE's done */
    char *msg;
} run;

/* P part files over the ids lo..hi. */
typedef struct fanout {
    strata__rfm_ranges rg;
    strata__spill_writer *w;
    part *parts;
    int64_t open;
} fanout;

static int nomem(run *r, const char *what)
{
    return strata__fail(r->msg, STRATA_E_NOMEM, "out of memory for %s reading '%s' within the "
                        "memory budget", what, r->path);
}

static int fanout_open(run *r, fanout *f, int64_t lo, int64_t hi, int64_t nparts)
{
    strata__rfm_ranges_make(lo, hi, nparts > MAX_FANOUT ? MAX_FANOUT : nparts, &f->rg);
    f->open = 0;
    f->w = strata__calloc((size_t)f->rg.parts, sizeof *f->w);
    f->parts = strata__calloc((size_t)f->rg.parts, sizeof *f->parts);
    if (!f->w || !f->parts)
        return nomem(r, "the part files");
    size_t cap = r->budget / 4 / (uint64_t)f->rg.parts;
    cap = cap < MIN_BUFFER ? MIN_BUFFER : cap > MAX_BUFFER ? MAX_BUFFER : cap;
    cap -= cap % sizeof(rec);
    for (int64_t p = 0; p < f->rg.parts; p++) {
        int rc = strata__spill_create(r->sp, cap, &f->w[p]);
        if (rc)
            return rc;
        f->open++;
        f->parts[p] = (part){.file = f->w[p].file, .lo = INT64_MAX, .hi = INT64_MIN};
    }
    return STRATA_OK;
}

static inline int fanout_put(run *r, fanout *f, const rec *x)
{
    int64_t p = strata__rfm_range_of(&f->rg, x->id);
    part *q = &f->parts[p];
    q->rows++;
    q->lo = x->id < q->lo ? x->id : q->lo;
    q->hi = x->id > q->hi ? x->id : q->hi;
    return strata__spill_write(r->sp, &f->w[p], x, sizeof *x);
}

/* Close the writers (rc: the status so far); frees f->w, keeps f->parts. */
static int fanout_close(run *r, fanout *f, int rc)
{
    for (int64_t p = 0; p < f->open; p++)
        rc = strata__spill_finish(r->sp, &f->w[p], rc);
    strata__free(f->w);
    f->w = NULL;
    return rc;
}

/* Parts for rows of about `rows` rows: each should fit the budget with room
 * for uneven ranges. */
static int64_t parts_for(const run *r, int64_t rows)
{
    double bytes = (double)rows * STRATA__RFM_ROW_BYTES * 1.25;
    double p = bytes / (double)r->budget + 1.0;
    return p > MAX_FANOUT ? MAX_FANOUT : (int64_t)p;
}

/* Of the STRATA__RFM_FIXED_BYTES set aside for the program (whose own peak
 * is about 10 MB), what the blocks of compressed chunks may take beside
 * their quarter of the budget while the log is read. */
#define READ_SLACK (8.0 * 1024 * 1024)

/* Rows of a read piece: about an eighth of the budget. */
static int64_t piece_rows(const run *r, size_t row_bytes)
{
    int64_t k = (int64_t)(r->budget / 8 / row_bytes);
    return k < 256 ? 256 : k;
}

static int process_part(run *r, const part *q, int depth);

/* Split a part too large for the budget by its own id range. */
static int split_part(run *r, const part *q, int depth)
{
    fanout f = {0};
    int rc = fanout_open(r, &f, q->lo, q->hi, parts_for(r, q->rows) < 2 ? 2 : parts_for(r, q->rows));
    int64_t step = piece_rows(r, sizeof(rec));
    rec *buf = rc ? NULL : strata__alloc((size_t)step, sizeof *buf);
    if (!rc && !buf)
        rc = nomem(r, "reading a part file");
    for (int64_t i = 0; i < q->rows && !rc; i += step) {
        int64_t k = q->rows - i < step ? q->rows - i : step;
        rc = strata__spill_read(r->sp, q->file, (uint64_t)i * sizeof(rec), buf,
                                (size_t)k * sizeof(rec));
        for (int64_t j = 0; j < k && !rc; j++)
            rc = fanout_put(r, &f, &buf[j]);
    }
    strata__free(buf);
    rc = fanout_close(r, &f, rc);
    strata__spill_remove(r->sp, q->file);
    for (int64_t p = 0; f.parts && p < f.rg.parts && !rc; p++)
        rc = process_part(r, &f.parts[p], depth + 1);
    strata__free(f.parts);
    return rc;
}

/* Append the customers of a part (recency measured to its own last day + 1). */
static int add_customers(run *r, const strata__rfm_customers *c)
{
    int rc = STRATA_OK;
    if (c->n == 0) /* only customers with returns only: no purchase day */
        return STRATA_OK;
    r->first_day = c->first_day_all < r->first_day ? c->first_day_all : r->first_day;
    r->last_day = c->last_day_all > r->last_day ? c->last_day_all : r->last_day;
    for (int64_t i = 0; i < c->n && !rc; i++) {
        crec x = {.id = c->id[i], .last_day = c->reference_day - c->recency[i],
                  .frequency = c->frequency[i], .first_day = c->first_day[i],
                  .monetary = c->monetary[i], .revenue = c->revenue ? c->revenue[i] : 0.0};
        rc = strata__spill_write(r->sp, &r->cust, &x, sizeof x);
    }
    r->customers += c->n;
    return rc;
}

/* Aggregate a part in memory, or split it. */
static int process_part(run *r, const part *q, int depth)
{
    if (q->rows == 0) {
        strata__spill_remove(r->sp, q->file);
        return STRATA_OK;
    }
    if ((double)q->rows * STRATA__RFM_ROW_BYTES > (double)r->budget && q->lo < q->hi &&
        depth < 64)
        return split_part(r, q, depth);
    /* One customer's rows, however many, are aggregated together. */
    int64_t m = q->rows, step = piece_rows(r, sizeof(rec));
    int64_t *id = strata__scratch_get(&r->columns, (size_t)m * 3 * 8, NULL);
    int64_t *time = id ? id + m : NULL;
    double *amount = id ? (double *)(id + 2 * m) : NULL;
    rec *buf = strata__alloc((size_t)(m < step ? m : step), sizeof *buf);
    int rc = id && buf ? STRATA_OK : nomem(r, "a part of the log");
    for (int64_t i = 0; i < m && !rc; i += step) {
        int64_t k = m - i < step ? m - i : step;
        rc = strata__spill_read(r->sp, q->file, (uint64_t)i * sizeof(rec), buf,
                                (size_t)k * sizeof(rec));
        for (int64_t j = 0; j < k && !rc; j++) {
            id[i + j] = buf[j].id;
            time[i + j] = buf[j].time;
            amount[i + j] = buf[j].amount;
        }
    }
    strata__free(buf);
    strata__spill_remove(r->sp, q->file);
    strata__rfm_customers c = {0};
    strata__rfm_report rep = {0};
    if (!rc)
        rc = strata__rfm_aggregate(id, time, amount, m, &r->cfg, &r->scratch, &r->table, &c,
                                   &rep, r->msg);
    if (!rc) {
        strata__rfm_report_add_part(&r->rep, &rep);
        rc = add_customers(r, &c);
    }
    strata__rfm_customers_retire(&c, &r->table);
    r->aggregated += m;
    if (!rc && r->aggregated < r->n)
        rc = strata__step(r->steps, STRATA_STEP_AGGREGATE, 0, r->aggregated, r->n, NAN, r->msg);
    return rc;
}

/* Passes 1 and 2 over the log's source: the id range, then the kept rows
 * into parts. Each is a walk of the source, which reads the next block
 * while this one is scanned or spilled. */
static int spill_log(run *r, const strata__colsrc *log, fanout *f)
{
    const int64_t n = log->n;
    uint64_t *kept = strata__alloc((size_t)((log->block_rows + 63) >> 6), sizeof *kept);
    int rc = kept ? STRATA_OK : nomem(r, "a block of rows");
    int64_t lo = INT64_MAX, hi = INT64_MIN, valid = 0, r0, k;
    const void *col[3];
    int more = 1;
    strata__colsrc_walk *w = NULL;
    if (!rc)
        rc = strata__step(r->steps, STRATA_STEP_READ, 0, 0, 4 * n, NAN, r->msg);
    if (!rc)
        rc = strata__colsrc_walk_open(&w, log, 1u, r->msg); /* the ids only */
    while (!rc && !(rc = strata__colsrc_walk_next(w, &r0, &k, col, &more, r->msg)) && more) {
        const int64_t *id = col[0];
        if ((rc = strata__step(r->steps, STRATA_STEP_READ, 0, r0 + k, 4 * n, NAN, r->msg)))
            break;
        for (int64_t i = 0; i < k; i++) /* the row check's valid ids (kernels.h) */
            if (id[i] != INT64_MIN && id[i] >= r->cfg.min_id) {
                lo = id[i] < lo ? id[i] : lo;
                hi = id[i] > hi ? id[i] : hi;
                valid++;
            }
    }
    strata__colsrc_walk_close(w);
    w = NULL;
    if (!rc && valid == 0)
        lo = hi = 0;
    if (!rc)
        rc = fanout_open(r, f, lo, hi, parts_for(r, valid));
    if (!rc)
        rc = strata__colsrc_walk_open(&w, log, 7u, r->msg);
    while (!rc && !(rc = strata__colsrc_walk_next(w, &r0, &k, col, &more, r->msg)) && more) {
        const int64_t *id = col[0], *time = col[1];
        const double *amount = col[2];
        r->aggregated += k - strata__rfm_clean(id, time, amount, k, &r->cfg, kept, &r->rep);
        for (int64_t u = 0; u < (k + 63) >> 6 && !rc; u++)
            for (uint64_t bits = kept[u]; bits && !rc; bits &= bits - 1) {
                int64_t i = (u << 6) + __builtin_ctzll(bits);
                rec x = {id[i], time[i], amount[i]};
                rc = fanout_put(r, f, &x);
            }
        if (!rc) /* the block is spilled */
            rc = strata__step(r->steps, STRATA_STEP_READ, 0, n + 3 * (r0 + k), 4 * n, NAN, r->msg);
    }
    strata__colsrc_walk_close(w);
    strata__free(kept);
    return fanout_close(r, f, rc);
}

/* Pass 4: the customer table from the customer file. */
static int load_customers(run *r, strata__scratch *spare, strata__rfm_customers *out)
{
    int rc;
    if (r->customers == 0)
        return strata__rfm_nothing_left(&r->rep, r->msg);
    int64_t ref;
    if ((rc = strata__rfm_reference(r->cfg.reference_day, r->last_day, &ref, r->msg)))
        return rc;
    double need = (double)r->customers * STRATA__RFM_CUSTOMER_BYTES;
    if (need > (double)r->budget)
        return strata__fail(r->msg, STRATA_E_NOMEM,
                            "a memory budget of %llu bytes is too small for the %lld customers "
                            "of '%s': their table, scores and output need about %.0f bytes (%d "
                            "a customer) in memory besides the %llu bytes set aside for the "
                            "program; raise the budget to at least %.0f",
                            (unsigned long long)r->given, (long long)r->customers, r->path,
                            need, STRATA__RFM_CUSTOMER_BYTES,
                            (unsigned long long)STRATA__RFM_FIXED_BYTES,
                            need + (double)STRATA__RFM_FIXED_BYTES);
    int mean = r->cfg.monetary_mode == STRATA_RFM_MEAN;
    if (strata__rfm_customers_alloc(out, r->customers, 1, mean, r->cfg.threads, spare))
        return nomem(r, "the customer table");
    int64_t step = piece_rows(r, sizeof(crec)), n = r->customers;
    crec *buf = strata__alloc((size_t)(n < step ? n : step), sizeof *buf);
    rc = buf ? STRATA_OK : nomem(r, "the customer table");
    for (int64_t i = 0; i < n && !rc; i += step) {
        int64_t k = n - i < step ? n - i : step;
        rc = strata__spill_read(r->sp, r->cust.file, (uint64_t)i * sizeof(crec), buf,
                                (size_t)k * sizeof(crec));
        for (int64_t j = 0; j < k && !rc; j++) {
            const crec *x = &buf[j];
            out->id[i + j] = x->id;
            out->recency[i + j] = ref - x->last_day;
            out->frequency[i + j] = x->frequency;
            out->first_day[i + j] = x->first_day;
            out->monetary[i + j] = x->monetary;
            if (mean)
                out->revenue[i + j] = x->revenue;
        }
    }
    strata__free(buf);
    out->first_day_all = r->first_day;
    out->last_day_all = r->last_day;
    out->reference_day = ref;
    return rc;
}

int strata__rfm_aggregate_h5(const char *path, const char *table, const char *const names[3],
                             const strata__rfm_agg_cfg *cfg, uint64_t budget, const char *tmpdir,
                             strata__scratch *spare, strata__rfm_customers *out,
                             strata__rfm_report *rep, int *in_memory,
                             const strata__steps *steps, char *msg)
{
    *in_memory = 0;
    strata__h5_log *log;
    int64_t n, filtered, kept;
    int rc = strata__h5_log_open(&log, path, table, names, cfg->time_unit, &n, &filtered, &kept,
                                 msg);
    if (rc)
        return rc;
    if ((double)n * STRATA__RFM_ROW_BYTES + (double)STRATA__RFM_FIXED_BYTES <= (double)budget) {
        strata__h5_log_close(log);
        *in_memory = 1;
        return STRATA_OK;
    }
    if (budget <= STRATA__RFM_FIXED_BYTES) {
        strata__h5_log_close(log);
        return strata__fail(msg, STRATA_E_NOMEM,
                            "a memory budget of %llu bytes is too small for an RFM fit of '%s' "
                            "(%lld rows): %llu bytes of any budget are set aside for the program "
                            "itself, and the log needs about %d bytes a row beside them to be "
                            "read whole, or %d a customer to be aggregated out of core; raise "
                            "the budget above %llu",
                            (unsigned long long)budget, path, (long long)n,
                            (unsigned long long)STRATA__RFM_FIXED_BYTES, STRATA__RFM_ROW_BYTES,
                            STRATA__RFM_CUSTOMER_BYTES,
                            (unsigned long long)STRATA__RFM_FIXED_BYTES);
    }
    run r = {.path = path, .cfg = *cfg, .budget = budget - STRATA__RFM_FIXED_BYTES,
             .given = budget, .first_day = INT64_MAX,
             .last_day = INT64_MIN, .steps = steps, .n = n, .msg = msg};
    r.cfg.partial = 1;
    r.cfg.reference_day = STRATA_RFM_REFERENCE_AUTO; /* the real one once the last day is known */
    r.cust.fd = -1;
    fanout f = {0};
    strata__rfm_customers c = {0};
    /* two blocks of the three columns (the walk's double buffer): about an
     * eighth of the budget, whole chunks where they fit. Compressed chunks
     * libhdf5 decompresses are decompressed whole by every read: two blocks
     * of them and one decompressing; deflated ones beyond libhdf5's cache are
     * kept inflated by the reads (the chunk a block is in, each column's, and
     * their scratch: `kept` bytes) and read in parts. The former may take a
     * quarter of the budget and READ_SLACK of the program's own share, the
     * latter (no blocks of whole chunks beside them) half and READ_SLACK,
     * else the budget would not hold (measured: a log in gzip chunks of 1M
     * rows a column, 40.5 MB kept, peaked at 60 MB under --memory 106M) */
    const int64_t rows = piece_rows(&r, 2 * 3 * sizeof(int64_t));
    const double chunked = (filtered > rows ? 7.0 * sizeof(int64_t) *
                                                  (double)(filtered < n ? filtered : n)
                                            : 0);
    if ((chunked && chunked > (double)r.budget / 4 + READ_SLACK) ||
        (double)kept > (double)r.budget / 2 + READ_SLACK) {
        /* the least budget: one that holds such blocks and the kept chunks
         * both (a log may have columns of each kind), or the log whole */
        const double for_chunked = chunked ? 4 * (chunked - READ_SLACK) : 0,
                     for_kept = kept ? 2 * ((double)kept - READ_SLACK) : 0,
                     whole = (double)n * STRATA__RFM_ROW_BYTES + (double)STRATA__RFM_FIXED_BYTES,
                     parts = (for_chunked > for_kept ? for_chunked : for_kept) +
                             (double)STRATA__RFM_FIXED_BYTES + 1;
        strata__h5_log_close(log);
        return strata__fail(msg, STRATA_E_NOMEM,
                            "a memory budget of %llu bytes cannot hold the compressed chunks of "
                            "'%s' (%.0f bytes, decompressed whole as they are read): raise "
                            "the budget to at least %.0f, or rewrite the log in shorter chunks "
                            "(e.g. h5repack -l CHUNK=65536 IN.h5 OUT.h5)",
                            (unsigned long long)budget, path, chunked + (double)kept,
                            whole < parts ? whole : parts);
    }
    strata__colsrc src;
    strata__h5_log_colsrc(log, rows, &src);
    rc = strata__spill_open(&r.sp, tmpdir, msg);
    if (!rc)
        rc = spill_log(&r, &src, &f);
    strata__h5_log_close(log);
    if (!rc)
        rc = strata__spill_create(r.sp, MAX_BUFFER, &r.cust);
    if (!rc && r.aggregated < n) /* the rows cleaned away count as done */
        rc = strata__step(steps, STRATA_STEP_AGGREGATE, 0, r.aggregated, n, NAN, msg);
    for (int64_t p = 0; f.parts && p < f.rg.parts && !rc; p++)
        rc = process_part(&r, &f.parts[p], 0);
    rc = strata__spill_finish(r.sp, &r.cust, rc);
    strata__free(f.parts);
    strata__scratch_free(&r.scratch);
    strata__scratch_free(&r.columns);
    strata__scratch_free(&r.table);
    if (!rc) {
        r.cfg.reference_day = cfg->reference_day;
        rc = load_customers(&r, spare, &c);
    }
    strata__spill_close(r.sp);
    if (rc) {
        strata__rfm_customers_retire(&c, spare);
        return rc;
    }
    *out = c;
    *rep = r.rep;
    return STRATA_OK;
}
