/* RFM over MPI (include/strata_mpi.h): the same customers, scores,
 * segments, profiles and counts as strata_rfm_fit_h5() in one process, bit
 * for bit, from a log spread over the ranks of a communicator.
 *
 *   1. each rank reads its contiguous block of rows of the log (a hyperslab
 *      of the same datasets, lib/io's log source) and cleans it with the
 *      row check of the one-process fit; the counts are summed (integers);
 *   2. id splitters: every rank samples its kept ids (every s-th), the
 *      P - 1 splitters are exact quantiles of the sample found by the
 *      distributed selection below; rank r owns the ids in (split_r,
 *      split_{r+1}]: contiguous id ranges, ascending with the rank;
 *   3. one MPI_Alltoallv of the kept rows (24 bytes each) to their owners,
 *      after an MPI_Alltoall of the counts;
 *   4. each rank aggregates its rows with the one-process code (all of a
 *      customer's rows are there: duplicates, returns-only customers,
 *      canonical-order sums are those of the whole log), as the out-of-core
 *      fit aggregates a part; the reference day from the global last day;
 *   5. the bins: the serial binning (lib/rfm/binning.c) with a selector
 *      whose order statistics are global (distributed selection, below)
 *      and whose tie-break positions are global customer indices (the
 *      exclusive prefix sum of the customer counts: rank order is id order);
 *   6. segments per customer; profile sums over the chunks of 2^16
 *      customers that the one-process profile uses: a chunk cut between
 *      ranks is continued by the next rank from the running partial (a
 *      chain of point-to-point messages), the completed chunks go into each
 *      rank's pieces of the fixed reduction tree (core/parallel.h), and the
 *      pieces are joined in rank order by the non-commutative all-reduce of
 *      the distribution hooks (core/dist.h, lib/mpi/dist_mpi.c); medians by
 *      the distributed selection per segment;
 *   7. the root gathers the customer rows (ascending id = rank order) and
 *      holds them; strata_rfm_write_h5_mpi() writes them with the
 *      one-process writer.
 *
 * Distributed selection: the rank-k key of a multiset spread over ranks,
 * keys being 64-bit order-preserving images of the values, each rank's
 * sorted. Every round splits each target's candidate interval [lo, hi] at
 * 15 pivots and counts the keys <= each pivot globally (one MPI_Allreduce of
 * 15 int64 per target): at most 16 rounds for 64-bit keys, fewer for small
 * ranges. The tie-break position among equal values (the rank policy) is an
 * MPI_Exscan of the local counts of that value plus an MPI_Allreduce.
 *
 * All messages go over a duplicate of the caller's communicator.
 *
 * Errors: every step that can fail on one rank ends in agree(): all ranks
 * then return the status and message of the lowest failing rank (the one
 * whose ids are lowest), so no rank waits in a collective that another has
 * left, and every rank reports the same problem. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "api/rfm_dist.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5.h"
#include "kernels/kernels.h"
#include "mpi/mpi_dist.h"
#include "rfm/rfm.h"
#include "strata_mpi.h"

/* Ids sampled per rank for the splitters, on average. */
#define SAMPLE_PER_RANK 4096
/* Pivots per target and round of the selection. */
#define PIVOTS 15

typedef struct row {
    int64_t id, time;
    double amount;
} row;

typedef struct ctx {
    MPI_Comm comm;
    int me, np;
    char *msg;
} ctx;

/* ---- agreement on failures ------------------------------------------------ */

static int agree(const ctx *x, int rc)
{
    int who = rc ? x->me : INT_MAX, first;
    MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, x->comm);
    if (first == INT_MAX)
        return STRATA_OK;
    struct {
        int rc;
        char msg[STRATA__MSG_LEN];
    } b;
    memset(&b, 0, sizeof b);
    if (x->me == first) {
        b.rc = rc;
        memcpy(b.msg, x->msg, STRATA__MSG_LEN);
        b.msg[STRATA__MSG_LEN - 1] = '\0';
    }
    MPI_Bcast(&b, (int)sizeof b, MPI_BYTE, first, x->comm);
    return strata__fail_copy(x->msg, b.rc, b.msg);
}

static int nomem(const ctx *x, const char *what)
{
    return strata__fail(x->msg, STRATA_E_NOMEM, "out of memory for %s (rank %d of %d)", what,
                        x->me, x->np);
}

/* ---- keys ------------------------------------------------------------------ */

/* Order-preserving image of a double (no NaN); both zeros map to +0's. */
static inline uint64_t dkey(double v)
{
    uint64_t b;
    v = v == 0.0 ? 0.0 : v;
    memcpy(&b, &v, sizeof b);
    return b >> 63 ? ~b : b | ((uint64_t)1 << 63);
}

static inline double dval(uint64_t k)
{
    uint64_t b = k >> 63 ? k & ~((uint64_t)1 << 63) : ~k;
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static inline uint64_t ikey(int64_t id)
{
    return (uint64_t)id ^ ((uint64_t)1 << 63);
}

typedef struct kidx {
    uint64_t key;
    int64_t idx; /* local position; or the group (segment) for medians */
} kidx;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sort a[0..n) by key, stably (equal keys keep their order): LSD radix
 * sort on 11-bit digits, skipping the digits every key shares. tmp: n more
 * records. */
#define RADIX_BITS 11
static void radix_sort(kidx *a, kidx *tmp, int64_t n)
{
    uint64_t any = 0, all = ~(uint64_t)0;
    for (int64_t i = 0; i < n; i++) {
        any |= a[i].key;
        all &= a[i].key;
    }
    const uint64_t differ = any ^ all, mask = ((uint64_t)1 << RADIX_BITS) - 1;
    kidx *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += RADIX_BITS) {
        if (!((differ >> shift) & mask))
            continue;
        int64_t at[(size_t)1 << RADIX_BITS] = {0};
        for (int64_t i = 0; i < n; i++)
            at[(src[i].key >> shift) & mask]++;
        for (int64_t d = 0, sum = 0; d <= (int64_t)mask; d++) {
            int64_t c = at[d];
            at[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            dst[at[(src[i].key >> shift) & mask]++] = src[i];
        kidx *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
}

/* Keys of [lo, hi) that are <= p (upper bound). */
static int64_t count_le(const uint64_t *k, int64_t lo, int64_t hi, uint64_t p)
{
    int64_t a = lo, b = hi;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (k[m] <= p)
            a = m + 1;
        else
            b = m;
    }
    return a - lo;
}

/* ---- distributed selection ------------------------------------------------- */

/* Keys in groups: group g's local keys are key[gs[g] .. gs[g + 1]), sorted.
 * For the t targets (group tg[j], 0-based rank tk[j] among the group's keys
 * on all ranks, which must exist), the key of that rank into out[j] and the
 * number of the group's keys below it into below[j]. Collective. */
static int dselect(const ctx *x, const uint64_t *key, const int64_t *gs, int64_t ngroups,
                   int64_t t, const int64_t *tg, const int64_t *tk, uint64_t *out,
                   int64_t *below)
{
    if (t == 0)
        return STRATA_OK;
    uint64_t *mm = strata__alloc((size_t)(2 * ngroups), sizeof *mm);
    uint64_t *lo = strata__alloc((size_t)(2 * t), sizeof *lo), *hi = lo ? lo + t : NULL;
    int64_t *cnt = strata__alloc((size_t)(2 * t * PIVOTS), sizeof *cnt);
    int64_t *act = strata__alloc((size_t)t, sizeof *act);
    uint64_t *piv = strata__alloc((size_t)(t * PIVOTS), sizeof *piv);
    int rc = mm && lo && cnt && act && piv ? STRATA_OK : nomem(x, "the selection");
    rc = agree(x, rc);
    if (rc)
        goto done;
    /* the candidates start as the group's smallest .. largest key */
    for (int64_t g = 0; g < ngroups; g++) {
        int empty = gs[g + 1] == gs[g];
        mm[g] = empty ? UINT64_MAX : key[gs[g]];
        mm[ngroups + g] = empty ? UINT64_MAX : ~key[gs[g + 1] - 1];
    }
    MPI_Allreduce(MPI_IN_PLACE, mm, (int)(2 * ngroups), MPI_UINT64_T, MPI_MIN, x->comm);
    for (int64_t j = 0; j < t; j++) {
        lo[j] = mm[tg[j]];
        hi[j] = ~mm[ngroups + tg[j]];
        below[j] = 0; /* keys < lo */
    }
    for (;;) {
        int64_t na = 0;
        for (int64_t j = 0; j < t; j++)
            if (lo[j] < hi[j])
                act[na++] = j;
        if (na == 0)
            break; /* the same on every rank: the counts are global */
        for (int64_t a = 0; a < na; a++) {
            int64_t j = act[a], g = tg[j];
            unsigned __int128 span = (unsigned __int128)(hi[j] - lo[j]);
            for (int p = 0; p < PIVOTS; p++) {
                uint64_t v = lo[j] + (uint64_t)(span * (unsigned)(p + 1) / (PIVOTS + 1));
                piv[a * PIVOTS + p] = v;
                cnt[a * PIVOTS + p] = count_le(key, gs[g], gs[g + 1], v);
            }
        }
        MPI_Allreduce(MPI_IN_PLACE, cnt, (int)(na * PIVOTS), MPI_INT64_T, MPI_SUM, x->comm);
        for (int64_t a = 0; a < na; a++) {
            int64_t j = act[a];
            const uint64_t *pv = piv + a * PIVOTS;
            const int64_t *c = cnt + a * PIVOTS;
            int p = 0;
            while (p < PIVOTS && c[p] <= tk[j])
                p++;
            /* keys < lo stay below[j] <= tk[j] < keys <= hi */
            if (p > 0 && pv[p - 1] >= lo[j]) {
                lo[j] = pv[p - 1] + 1;
                below[j] = c[p - 1];
            }
            if (p < PIVOTS)
                hi[j] = pv[p];
        }
    }
    for (int64_t j = 0; j < t; j++)
        out[j] = lo[j];
done:
    strata__free(mm);
    strata__free(lo);
    strata__free(cnt);
    strata__free(act);
    strata__free(piv);
    return rc;
}

/* The selector of strata__rfm_bin_part(): values on every rank, positions
 * offset + local index. */
typedef struct dsel {
    const ctx *x;
    int64_t offset;
} dsel;

static int dsel_select(void *c, const double *v, int64_t nloc, const int64_t *ranks, int64_t t,
                       double *val, int64_t *pos)
{
    const dsel *d = c;
    const ctx *x = d->x;
    kidx *pairs = strata__alloc((size_t)(nloc > 0 ? 2 * nloc : 1), sizeof *pairs);
    uint64_t *keys = strata__alloc((size_t)(nloc > 0 ? nloc : 1), sizeof *keys);
    int64_t *tg = strata__calloc((size_t)(5 * t), sizeof *tg);
    uint64_t *out = strata__alloc((size_t)t, sizeof *out);
    int rc = pairs && keys && tg && out ? STRATA_OK : nomem(x, "the selection");
    if (!rc) { /* by value, then position: the order of the keys */
        for (int64_t i = 0; i < nloc; i++)
            pairs[i] = (kidx){dkey(v[i]), i};
        radix_sort(pairs, pairs + nloc, nloc);
        for (int64_t i = 0; i < nloc; i++)
            keys[i] = pairs[i].key;
    }
    rc = agree(x, rc);
    int64_t gs[2] = {0, nloc};
    int64_t *below = tg + t, *first = tg + 2 * t, *cnt = tg + 3 * t, *at = tg + 4 * t;
    if (!rc)
        rc = dselect(x, keys, gs, 1, t, tg, ranks, out, below);
    if (!rc) {
        for (int64_t j = 0; j < t; j++)
            val[j] = dval(out[j]);
    }
    if (!rc && pos) {
        /* the (ranks[j] - below[j])-th key of value out[j] in position order:
         * ranks before this one hold the lower positions */
        for (int64_t j = 0; j < t; j++) {
            first[j] = count_le(keys, 0, nloc, out[j] - 1);
            if (out[j] == 0)
                first[j] = 0;
            cnt[j] = count_le(keys, 0, nloc, out[j]) - first[j];
            at[j] = 0;
        }
        MPI_Exscan(cnt, at, (int)t, MPI_INT64_T, MPI_SUM, x->comm);
        if (x->me == 0)
            memset(at, 0, (size_t)t * sizeof *at);
        for (int64_t j = 0; j < t; j++) {
            int64_t w = ranks[j] - below[j] - at[j];
            pos[j] = w >= 0 && w < cnt[j] ? d->offset + pairs[first[j] + w].idx : -1;
        }
        MPI_Allreduce(MPI_IN_PLACE, pos, (int)t, MPI_INT64_T, MPI_MAX, x->comm);
    }
    strata__free(pairs);
    strata__free(keys);
    strata__free(tg);
    strata__free(out);
    return rc;
}

static int dsel_sum(void *c, double *v, int64_t m, int rc)
{
    const dsel *d = c;
    if (rc == STRATA_E_NOMEM) /* the binning pass's scratch: no message yet */
        rc = nomem(d->x, "the bins");
    if ((rc = agree(d->x, rc)))
        return rc;
    MPI_Allreduce(MPI_IN_PLACE, v, (int)m, MPI_DOUBLE, MPI_SUM, d->x->comm);
    return STRATA_OK;
}

/* ---- steps 1-3: read, clean, route ------------------------------------------ */

typedef struct fit {
    ctx x;
    strata__dist dist; /* core/dist.h over a duplicate of the caller's comm */
    strata__rfm_dist d;
    const char *path;
    int64_t n, r0, m; /* rows of the log; this rank's block */
    int64_t *id, *time;
    double *amount;
    uint64_t *kept;
    int64_t nkept;
    strata__rfm_report rep;
    row *rows; /* received */
    int64_t nrows;
} fit;

static int read_block(fit *f, const char *table, const char *const names[3])
{
    strata__h5_log *log = NULL;
    int64_t filtered;
    int rc = strata__h5_log_open(&log, f->path, table, names, f->d.cfg.time_unit, &f->n, &filtered,
                                 NULL, f->x.msg);
    if ((rc = agree(&f->x, rc))) {
        strata__h5_log_close(log);
        return rc;
    }
    if (f->n < 1) {
        strata__h5_log_close(log);
        return strata__fail(f->x.msg, STRATA_E_ARG,
                            "the transaction log is empty (n = %lld); at least one row is needed",
                            (long long)f->n);
    }
    f->r0 = f->n * f->x.me / f->x.np;
    f->m = f->n * (f->x.me + 1) / f->x.np - f->r0;
    int64_t m1 = f->m > 0 ? f->m : 1;
    f->id = strata__alloc((size_t)m1, sizeof *f->id);
    f->time = strata__alloc((size_t)m1, sizeof *f->time);
    f->amount = strata__alloc((size_t)m1, sizeof *f->amount);
    f->kept = strata__calloc((size_t)((m1 + 63) >> 6), sizeof *f->kept);
    rc = f->id && f->time && f->amount && f->kept ? STRATA_OK : nomem(&f->x, "a block of rows");
    if (!rc && f->m > 0) {
        strata__colsrc src;
        strata__h5_log_colsrc(log, f->m, &src);
        void *bufs[3] = {f->id, f->time, f->amount};
        rc = src.ops->read(src.impl, f->r0, f->m, bufs, f->x.msg);
    }
    strata__h5_log_close(log);
    if (!rc)
        f->nkept = strata__rfm_clean(f->id, f->time, f->amount, f->m, &f->d.cfg, f->kept, &f->rep);
    return agree(&f->x, rc);
}

/* The P - 1 splitters of the kept ids into split. */
static int splitters(fit *f, int64_t *split)
{
    ctx *x = &f->x;
    int64_t kept_all = f->nkept;
    MPI_Allreduce(MPI_IN_PLACE, &kept_all, 1, MPI_INT64_T, MPI_SUM, x->comm);
    if (kept_all == 0)
        return strata__rfm_nothing_left(&f->rep, x->msg); /* rep already global */
    int64_t stride = kept_all / ((int64_t)x->np * SAMPLE_PER_RANK) + 1;
    int64_t ns = (f->nkept + stride - 1) / stride, s = 0, seen = 0;
    uint64_t *sample = strata__alloc((size_t)(ns > 0 ? ns : 1), sizeof *sample);
    uint64_t *key = strata__alloc((size_t)x->np, sizeof *key);
    int64_t *tg = strata__calloc((size_t)(3 * x->np), sizeof *tg);
    int rc = sample && key && tg ? STRATA_OK : nomem(x, "the id sample");
    for (int64_t u = 0; !rc && u < (f->m + 63) >> 6; u++)
        for (uint64_t bits = f->kept[u]; bits; bits &= bits - 1, seen++)
            if (seen % stride == 0 && s < ns)
                sample[s++] = ikey(f->id[(u << 6) + __builtin_ctzll(bits)]);
    if (!rc)
        qsort(sample, (size_t)s, sizeof *sample, cmp_u64);
    rc = agree(x, rc);
    int64_t total = s;
    if (!rc)
        MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT64_T, MPI_SUM, x->comm);
    int64_t t = x->np - 1, gs[2] = {0, s};
    int64_t *tk = tg + x->np, *below = tg + 2 * x->np;
    for (int64_t j = 0; j < t; j++)
        tk[j] = total * (j + 1) / x->np; /* tg[j] = 0: one group */
    if (!rc)
        rc = dselect(x, sample, gs, 1, t, tg, tk, key, below);
    for (int64_t j = 0; !rc && j < t; j++)
        split[j] = (int64_t)(key[j] ^ ((uint64_t)1 << 63));
    strata__free(sample);
    strata__free(key);
    strata__free(tg);
    return rc;
}

/* Owner of an id: the number of splitters below it. */
static int owner(const int64_t *split, int64_t t, int64_t id)
{
    int64_t a = 0, b = t;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (split[m] < id)
            a = m + 1;
        else
            b = m;
    }
    return (int)a;
}

static int route(fit *f)
{
    ctx *x = &f->x;
    const int np = x->np;
    /* the cleaning counts of the whole log (integers: any order) */
    int64_t c[6] = {f->rep.rows, f->rep.bad_id, f->rep.bad_time, f->rep.bad_amount,
                    f->rep.negative, f->rep.zero};
    MPI_Allreduce(MPI_IN_PLACE, c, 6, MPI_INT64_T, MPI_SUM, x->comm);
    f->rep = (strata__rfm_report){.rows = c[0], .bad_id = c[1], .bad_time = c[2],
                                  .bad_amount = c[3], .negative = c[4], .zero = c[5]};
    int64_t *split = strata__alloc((size_t)np, sizeof *split);
    int *scount = strata__calloc((size_t)(4 * np), sizeof *scount);
    int *sdisp = scount ? scount + np : NULL, *rcount = scount ? scount + 2 * np : NULL;
    int *rdisp = scount ? scount + 3 * np : NULL;
    int64_t *cnt = strata__calloc((size_t)(2 * np), sizeof *cnt), *at = cnt ? cnt + np : NULL;
    int rc = split && scount && cnt ? STRATA_OK : nomem(x, "the exchange");
    if ((rc = agree(x, rc)) || (rc = splitters(f, split)))
        goto done;
    for (int64_t u = 0; u < (f->m + 63) >> 6; u++)
        for (uint64_t bits = f->kept[u]; bits; bits &= bits - 1)
            cnt[owner(split, np - 1, f->id[(u << 6) + __builtin_ctzll(bits)])]++;
    row *send = strata__alloc((size_t)(f->nkept > 0 ? f->nkept : 1), sizeof *send);
    rc = send ? STRATA_OK : nomem(x, "the rows to send");
    if (!rc && f->nkept > INT_MAX) /* MPI counts and displacements are ints */
        rc = strata__fail(x->msg, STRATA_E_ARG, "rank %d would send %lld rows: more than MPI "
                          "displacements hold (%d); use more ranks", x->me,
                          (long long)f->nkept, INT_MAX);
    for (int p = 0, s = 0; p < np && !rc; p++) {
        at[p] = s;
        scount[p] = (int)cnt[p];
        sdisp[p] = s;
        s += (int)cnt[p];
    }
    if ((rc = agree(x, rc))) {
        strata__free(send);
        goto done;
    }
    for (int64_t u = 0; u < (f->m + 63) >> 6; u++)
        for (uint64_t bits = f->kept[u]; bits; bits &= bits - 1) {
            int64_t i = (u << 6) + __builtin_ctzll(bits);
            send[at[owner(split, np - 1, f->id[i])]++] = (row){f->id[i], f->time[i], f->amount[i]};
        }
    strata__free(f->id);
    strata__free(f->time);
    strata__free(f->amount);
    strata__free(f->kept);
    f->id = f->time = NULL;
    f->amount = NULL;
    f->kept = NULL;
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, x->comm);
    int64_t total = 0;
    for (int p = 0; p < np; p++)
        total += rcount[p];
    if (total > INT_MAX)
        rc = strata__fail(x->msg, STRATA_E_ARG, "rank %d would receive %lld rows: more than "
                          "MPI displacements hold (%d); use more ranks", x->me,
                          (long long)total, INT_MAX);
    f->rows = rc ? NULL : strata__alloc((size_t)(total > 0 ? total : 1), sizeof *f->rows);
    if (!rc && !f->rows)
        rc = nomem(x, "the rows received");
    if ((rc = agree(x, rc))) {
        strata__free(send);
        goto done;
    }
    for (int p = 0, s = 0; p < np; p++) {
        rdisp[p] = s;
        s += rcount[p];
    }
    f->nrows = total;
    MPI_Datatype rt;
    MPI_Type_contiguous((int)sizeof(row), MPI_BYTE, &rt);
    MPI_Type_commit(&rt);
    MPI_Alltoallv(send, scount, sdisp, rt, f->rows, rcount, rdisp, rt, x->comm);
    MPI_Type_free(&rt);
    strata__free(send);
done:
    strata__free(split);
    strata__free(scount);
    strata__free(cnt);
    return rc;
}

/* ---- step 4: aggregate ----------------------------------------------------- */

static int aggregate(fit *f, strata__rfm_customers *c, int64_t *offset, int64_t *ncust)
{
    ctx *x = &f->x;
    const int64_t m = f->nrows;
    int64_t *col = strata__alloc((size_t)(m > 0 ? 3 * m : 3), sizeof *col);
    int rc = col ? STRATA_OK : nomem(x, "the columns of the rows received");
    strata__rfm_report part = {0};
    strata__rfm_agg_cfg cfg = f->d.cfg;
    cfg.partial = 1;
    cfg.reference_day = STRATA_RFM_REFERENCE_AUTO; /* per rank; fixed below */
    if (!rc && m > 0) {
        double *amount = (double *)(col + 2 * m);
        for (int64_t i = 0; i < m; i++) {
            col[i] = f->rows[i].id;
            col[m + i] = f->rows[i].time;
            amount[i] = f->rows[i].amount;
        }
        strata__free(f->rows);
        f->rows = NULL;
        rc = strata__rfm_aggregate(col, col + m, amount, m, &cfg, f->d.scratch, NULL, c, &part,
                                   x->msg);
    }
    /* A customer's total beyond the double range fails the serial fit only
     * after its reference-day check, which needs the last purchase day of
     * the whole log: a rank that failed so takes its own from its rows (the
     * purchases: amount >= 0) and reports after that check. */
    int nf = rc == STRATA_E_NONFINITE;
    char nfmsg[STRATA__MSG_LEN] = "";
    int64_t last = c->n ? c->last_day_all : INT64_MIN;
    if (nf) {
        memcpy(nfmsg, x->msg, sizeof nfmsg);
        const double *amount = (const double *)(col + 2 * m);
        for (int64_t i = 0; i < m; i++) {
            int64_t t = col[m + i], d = t;
            if (cfg.time_unit != STRATA_RFM_TIME_DAYS)
                d = t / 86400 - (t % 86400 < 0);
            if (amount[i] >= 0.0 && d > last)
                last = d;
        }
    }
    strata__free(col);
    if ((rc = agree(x, nf ? STRATA_OK : rc)))
        return rc;
    int64_t s[4] = {part.used, part.duplicates, part.return_only, nf};
    MPI_Allreduce(MPI_IN_PLACE, s, 4, MPI_INT64_T, MPI_SUM, x->comm);
    f->rep.used = s[0];
    f->rep.duplicates = s[1];
    f->rep.return_only = s[2];
    /* first and last purchase days, customers, this rank's first index */
    int64_t days[2] = {c->n ? c->first_day_all : INT64_MAX, last == INT64_MIN ? INT64_MAX : -last};
    MPI_Allreduce(MPI_IN_PLACE, days, 2, MPI_INT64_T, MPI_MIN, x->comm);
    *ncust = c->n;
    MPI_Allreduce(MPI_IN_PLACE, ncust, 1, MPI_INT64_T, MPI_SUM, x->comm);
    *offset = 0;
    MPI_Exscan(&c->n, offset, 1, MPI_INT64_T, MPI_SUM, x->comm);
    if (x->me == 0)
        *offset = 0;
    if (*ncust == 0 && s[3] == 0)
        return strata__rfm_nothing_left(&f->rep, x->msg);
    int64_t ref;
    if ((rc = strata__rfm_reference(f->d.cfg.reference_day, -days[1], &ref, x->msg)))
        return rc;
    if (s[3]) /* the overflow of the lowest failing rank: the lowest such id */
        return agree(x, nf ? strata__fail_copy(x->msg, STRATA_E_NONFINITE, nfmsg) : STRATA_OK);
    /* recency was measured to this rank's last day + 1 */
    for (int64_t i = 0; i < c->n; i++)
        c->recency[i] = ref - (c->reference_day - c->recency[i]);
    c->first_day_all = days[0];
    c->last_day_all = -days[1];
    c->reference_day = ref;
    return STRATA_OK;
}

/* ---- steps 5-6: scores, segments, profile ----------------------------------- */

/* Profile sums: the chain for chunks cut between ranks, then the tree. */
static int profile_sums(fit *f, const strata__rfm_customers *c, const int32_t *segment,
                        int64_t offset, int64_t ncust, double *sums)
{
    ctx *x = &f->x;
    const int64_t nseg = f->d.rules->n, len = nseg * STRATA__RFM_PROFILE_SUMS + 1;
    strata__tree_sum tree;
    double *run = strata__calloc((size_t)len, sizeof *run);
    int rc = strata__tree_sum_init(&tree, strata__chunk_count(ncust, STRATA__RFM_PROFILE_CHUNK),
                                   len);
    if (!rc && !run)
        rc = STRATA_E_NOMEM;
    if ((rc = agree(x, rc ? nomem(x, "the profile sums") : 0)))
        goto out;
    if (x->me > 0)
        MPI_Recv(run, (int)len, MPI_DOUBLE, x->me - 1, 0, x->comm, MPI_STATUS_IGNORE);
    rc = strata__rfm_profile_sums(c, segment, nseg, offset, ncust, f->d.threads, run, &tree);
    if (x->me + 1 < x->np)
        MPI_Send(run, (int)len, MPI_DOUBLE, x->me + 1, 0, x->comm);
    /* every rank's pieces of the tree joined in rank order (chunk order):
     * a non-commutative all-reduce, the status travelling with the sums */
    if (rc == STRATA_E_NOMEM)
        rc = nomem(x, "the profile sums");
    rc = f->dist.tree_combine(&f->dist, &tree, rc, x->msg);
    if (!rc) {
        memset(sums, 0, (size_t)len * sizeof *sums);
        if ((rc = strata__tree_sum_finish(&tree, sums)))
            rc = strata__fail(x->msg, rc, "the profile sums' reduction tree does not join up");
    }
    rc = agree(x, rc);
out:
    strata__tree_sum_free(&tree);
    strata__free(run);
    return rc;
}

/* Medians of recency, frequency and monetary per segment. */
static int profile_medians(fit *f, const strata__rfm_customers *c, const int32_t *segment,
                           const double *sums, double *profile)
{
    static const int STAT[3] = {STRATA_RFM_STAT_MEDIAN_RECENCY, STRATA_RFM_STAT_MEDIAN_FREQUENCY,
                                STRATA_RFM_STAT_MEDIAN_MONETARY};
    ctx *x = &f->x;
    const int64_t nseg = f->d.rules->n, n = c->n;
    kidx *pairs = strata__alloc((size_t)(n > 0 ? 2 * n : 1), sizeof *pairs);
    uint64_t *keys = strata__alloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    int64_t *gs = strata__calloc((size_t)(nseg + 1 + 6 * nseg), sizeof *gs);
    uint64_t *out = strata__alloc((size_t)(2 * nseg + 1), sizeof *out);
    int rc = pairs && keys && gs && out ? STRATA_OK : nomem(x, "the segment medians");
    if ((rc = agree(x, rc)))
        goto done;
    int64_t *tg = gs + nseg + 1, *tk = tg + 2 * nseg, *below = tk + 2 * nseg, t = 0;
    for (int64_t s = 0; s < nseg; s++) {
        int64_t m = (int64_t)sums[s * STRATA__RFM_PROFILE_SUMS];
        if (m > 0) {
            tg[t] = s;
            tk[t++] = (m - 1) / 2;
            tg[t] = s;
            tk[t++] = m / 2;
        }
    }
    for (int k = 0; k < 3 && !rc; k++) {
        int64_t np = 0;
        for (int64_t i = 0; i < n; i++)
            if (segment[i] >= 0) {
                double v = k == 2 ? c->monetary[i]
                                  : (double)(k == 0 ? c->recency[i] : c->frequency[i]);
                pairs[np++] = (kidx){dkey(v), segment[i]};
            }
        /* by key, then (stable) by segment: each segment's keys ascending */
        radix_sort(pairs, pairs + n, np);
        memset(gs, 0, (size_t)(nseg + 1) * sizeof *gs);
        for (int64_t i = 0; i < np; i++)
            gs[pairs[i].idx + 1]++;
        for (int64_t g = 0; g < nseg; g++)
            gs[g + 1] += gs[g];
        int64_t *fill = below; /* free until the selection: 2 nseg >= nseg slots */
        memcpy(fill, gs, (size_t)nseg * sizeof *fill);
        for (int64_t i = 0; i < np; i++)
            keys[fill[pairs[i].idx]++] = pairs[i].key;
        rc = dselect(x, keys, gs, nseg, t, tg, tk, out, below);
        for (int64_t s = 0; s < nseg; s++)
            profile[s * STRATA__RFM_STATS + STAT[k]] = NAN;
        for (int64_t j = 0; !rc && j < t; j += 2) {
            double a = dval(out[j]), b = dval(out[j + 1]);
            profile[tg[j] * STRATA__RFM_STATS + STAT[k]] =
                tk[j] == tk[j + 1] ? a : strata__rfm_midpoint(a, b);
        }
    }
done:
    strata__free(pairs);
    strata__free(keys);
    strata__free(gs);
    strata__free(out);
    return rc;
}

static int score(fit *f, const strata__rfm_customers *c, int64_t offset, int64_t ncust,
                 strata__rfm_scores *s)
{
    ctx *x = &f->x;
    const int64_t n = c->n, nseg = f->d.rules->n;
    size_t col = ((size_t)n + 63) & ~(size_t)63;
    *s = (strata__rfm_scores){.q = f->d.q, .ties = f->d.ties};
    s->block_size = 7 * col + 64;
    s->block = strata__alloc(s->block_size, 1);
    s->profile = strata__alloc((size_t)(nseg * STRATA__RFM_STATS), sizeof *s->profile);
    double *v = strata__alloc((size_t)(n > 0 ? n : 1), sizeof *v);
    double *sums = strata__alloc((size_t)(nseg * STRATA__RFM_PROFILE_SUMS + 1), sizeof *sums);
    int rc = s->block && s->profile && v && sums ? STRATA_OK : nomem(x, "the scores");
    if ((rc = agree(x, rc)))
        goto done;
    s->r = s->block;
    s->f = s->r + col;
    s->m = s->f + col;
    s->segment = (int32_t *)(s->m + col);
    dsel d = {x, offset};
    strata__rfm_selector sel = {.n = ncust, .offset = offset, .select = dsel_select,
                                .sum = dsel_sum, .ctx = &d};
    uint8_t *out[3] = {s->r, s->f, s->m};
    for (int k = 0; k < 3 && !rc; k++) {
        const double *xv = c->monetary;
        if (k < 2) {
            const int64_t *iv = k == 0 ? c->recency : c->frequency;
            for (int64_t i = 0; i < n; i++)
                v[i] = (double)iv[i];
            xv = v;
        }
        rc = strata__rfm_bin_part(&sel, xv, n, f->d.q, f->d.ties, f->d.cuts[k],
                                  k == STRATA_RFM_RECENCY, f->d.threads, f->d.kern, out[k],
                                  s->edges[k], &s->nbins[k]);
        rc = agree(x, rc); /* already agreed: the statuses and messages are the same */
    }
    if (!rc)
        rc = strata__rfm_assign_segments(f->d.rules, f->d.q, s->r, s->f, s->m, n, f->d.threads,
                                         s->segment, &s->unmatched);
    if ((rc = agree(x, rc ? nomem(x, "the segments") : 0)))
        goto done;
    MPI_Allreduce(MPI_IN_PLACE, &s->unmatched, 1, MPI_INT64_T, MPI_SUM, x->comm);
    if ((rc = profile_sums(f, c, s->segment, offset, ncust, sums)))
        goto done;
    rc = strata__rfm_profile_stats(sums, ncust, f->d.rules, s->profile, x->msg);
    if (!rc) /* the same sums on every rank: the same outcome */
        rc = profile_medians(f, c, s->segment, sums, s->profile);
done:
    strata__free(v);
    strata__free(sums);
    if (rc) {
        strata__rfm_scores_retire(s, NULL);
    }
    return rc;
}

/* ---- step 7: the root gathers the customers ----------------------------------- */

static int gatherv(const ctx *x, const void *send, int64_t n, void *recv, size_t elem,
                   const int *counts, const int *disp)
{
    MPI_Datatype t;
    MPI_Type_contiguous((int)elem, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    MPI_Gatherv(send, (int)n, t, recv, counts, disp, t, 0, x->comm);
    MPI_Type_free(&t);
    return STRATA_OK;
}

static int gather(fit *f, strata__rfm_customers *c, strata__rfm_scores *s, int64_t ncust)
{
    ctx *x = &f->x;
    int mean = f->d.cfg.monetary_mode == STRATA_RFM_MEAN;
    int *counts = strata__alloc((size_t)(2 * x->np), sizeof *counts);
    int mine = (int)c->n, rc = counts ? STRATA_OK : nomem(x, "the gather");
    if (ncust > INT_MAX) /* the same on every rank */
        rc = strata__fail(x->msg, STRATA_E_ARG, "%lld customers: rank 0 gathers them all, and "
                          "MPI displacements hold at most %d", (long long)ncust, INT_MAX);
    if ((rc = agree(x, rc))) {
        strata__free(counts);
        return rc;
    }
    int *disp = counts + x->np;
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, x->comm);
    strata__rfm_customers all = {0};
    strata__rfm_scores sa = *s;
    if (x->me == 0) {
        for (int p = 0, at = 0; p < x->np; p++) {
            disp[p] = at;
            at += counts[p];
        }
        size_t col = ((size_t)ncust + 63) & ~(size_t)63;
        sa.block_size = 7 * col + 64;
        sa.block = strata__alloc(sa.block_size, 1);
        sa.profile = strata__alloc((size_t)(f->d.rules->n * STRATA__RFM_STATS),
                                   sizeof *sa.profile);
        if (sa.profile)
            memcpy(sa.profile, s->profile,
                   (size_t)(f->d.rules->n * STRATA__RFM_STATS) * sizeof *sa.profile);
        if (sa.block) {
            sa.r = sa.block;
            sa.f = sa.r + col;
            sa.m = sa.f + col;
            sa.segment = (int32_t *)(sa.m + col);
        }
        if (!sa.block || !sa.profile ||
            strata__rfm_customers_alloc(&all, ncust, 1, mean, f->d.threads, NULL))
            rc = nomem(x, "the customer table of the root");
    }
    if ((rc = agree(x, rc))) {
        if (x->me == 0) {
            strata__free(sa.block);
            strata__free(sa.profile);
            strata__rfm_customers_free(&all);
        }
        strata__free(counts);
        return rc;
    }
    gatherv(x, c->id, c->n, all.id, 8, counts, disp);
    gatherv(x, c->recency, c->n, all.recency, 8, counts, disp);
    gatherv(x, c->frequency, c->n, all.frequency, 8, counts, disp);
    gatherv(x, c->first_day, c->n, all.first_day, 8, counts, disp);
    gatherv(x, c->monetary, c->n, all.monetary, 8, counts, disp);
    if (mean)
        gatherv(x, c->revenue, c->n, all.revenue, 8, counts, disp);
    gatherv(x, s->r, c->n, sa.r, 1, counts, disp);
    gatherv(x, s->f, c->n, sa.f, 1, counts, disp);
    gatherv(x, s->m, c->n, sa.m, 1, counts, disp);
    gatherv(x, s->segment, c->n, sa.segment, 4, counts, disp);
    strata__free(counts);
    if (x->me == 0) {
        all.first_day_all = c->first_day_all;
        all.last_day_all = c->last_day_all;
        all.reference_day = c->reference_day;
        strata__rfm_customers_free(c);
        strata__rfm_scores_retire(s, NULL);
        *c = all;
        *s = sa;
    }
    return STRATA_OK;
}

/* ---- the entry points ------------------------------------------------------- */

int strata_rfm_fit_h5_mpi(strata_rfm *h, MPI_Comm comm, const char *path, const char *table,
                          const char *customer, const char *time, const char *amount)
{
    if (!h)
        return strata__fail(NULL, STRATA_E_NULL, "strata_rfm handle is NULL");
    fit f = {.path = path};
    int rc = strata__rfm_dist_begin(h, &f.d); /* clears the handle's message */
    /* the handle's message buffer (strata_rfm_last_error() returns it) */
    char *msg = (char *)strata_rfm_last_error(h);
    int rc0 = strata__mpi_dist_begin(&f.dist, comm, msg);
    if (rc0)
        return rc0;
    f.x = (ctx){.comm = strata__mpi_dist_comm(&f.dist), .me = f.dist.rank, .np = f.dist.size,
                .msg = msg};
    if (!rc && (!path || !customer || !time || !amount))
        rc = strata__fail(f.x.msg, STRATA_E_NULL, "file path or column name is NULL");
    if ((rc = agree(&f.x, rc))) {
        strata__mpi_dist_end(&f.dist);
        return rc;
    }
    const char *names[3] = {customer, time, amount};
    table = table && table[0] ? table : NULL;
    strata__rfm_customers c = {0};
    strata__rfm_scores s = {0};
    int64_t offset = 0, ncust = 0;
    if (!(rc = read_block(&f, table, names)) && !(rc = route(&f)) &&
        !(rc = aggregate(&f, &c, &offset, &ncust)) && !(rc = score(&f, &c, offset, ncust, &s)))
        rc = gather(&f, &c, &s, ncust);
    strata__free(f.id);
    strata__free(f.time);
    strata__free(f.amount);
    strata__free(f.kept);
    strata__free(f.rows);
    if (!rc) /* the previous result stays on failure */
        rc = agree(&f.x, strata__rfm_dist_hold(h, &c, &f.rep, &s, path));
    else {
        strata__rfm_customers_free(&c);
        strata__rfm_scores_retire(&s, NULL);
    }
    strata__mpi_dist_end(&f.dist);
    return rc;
}

int strata_rfm_write_h5_mpi(strata_rfm *h, MPI_Comm comm, const char *path, const char *source,
                            int flags)
{
    if (!h)
        return strata__fail(NULL, STRATA_E_NULL, "strata_rfm handle is NULL");
    int me;
    MPI_Comm_rank(comm, &me);
    int rc = me == 0 ? strata_rfm_write_h5(h, path, source, flags) : STRATA_OK;
    ctx x = {.comm = comm, .me = me, .msg = (char *)strata_rfm_last_error(h)};
    MPI_Comm_size(comm, &x.np);
    return agree(&x, rc);
}
