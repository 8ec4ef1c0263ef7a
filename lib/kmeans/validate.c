/* Input checks and data statistics, in one parallel pass plus one for the
 * variance (two passes keep the variance accurate for offset features). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/dist.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "kmeans/kmeans.h"

typedef struct check_ctx {
    const strata__data *X;
    int64_t *bad_x; /* per chunk: first row with NaN/Inf, or -1 */
    int64_t *bad_w; /* per chunk: first row with a bad weight, or -1 */
    const double *mean;
} check_ctx;

/* Add row values to acc. Non-finite values are found afterwards from the
 * chunk's sums (a NaN or infinity makes its column sum non-finite), not by a
 * test per value: that test, a serial chain over every value, took a third
 * of a 1M x 32 validation. */
static void add_row(const strata__data *X, int64_t i, double *acc)
{
    if (X->dtype == STRATA_FLOAT32) {
        const float *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++)
            acc[f] += r[f];
    } else {
        const double *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++)
            acc[f] += r[f];
    }
}

/* First row of [begin, end) holding a NaN or infinity, or -1. */
static int64_t first_nonfinite_row(const strata__data *X, int64_t begin, int64_t end)
{
    for (int64_t i = begin; i < end; i++)
        for (int64_t f = 0; f < X->d; f++)
            if (!isfinite(strata__at(X, i, f)))
                return i;
    return -1;
}

static void add_row_sq(const strata__data *X, int64_t i, const double *mean, double *acc)
{
    if (X->dtype == STRATA_FLOAT32) {
        const float *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++) {
            double v = (double)r[f] - mean[f];
            acc[f] += v * v;
        }
    } else {
        const double *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++) {
            double v = r[f] - mean[f];
            acc[f] += v * v;
        }
    }
}

/* Partial: [sum of each feature d][sum of weights]. */
static void check_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    check_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    c->bad_x[chunk] = -1;
    c->bad_w[chunk] = -1;
    for (int64_t i = begin; i < end; i++) {
        add_row(X, i, partial);
        if (X->w) {
            double w = X->w[i];
            if ((!isfinite(w) || w < 0.0) && c->bad_w[chunk] < 0)
                c->bad_w[chunk] = i;
            partial[X->d] += w;
        }
    }
    for (int64_t f = 0; f < X->d; f++)
        if (!isfinite(partial[f])) { /* -1 still if the sum only overflowed */
            c->bad_x[chunk] = first_nonfinite_row(X, begin, end);
            break;
        }
}

static void var_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    check_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    for (int64_t i = begin; i < end; i++)
        add_row_sq(X, i, c->mean, partial);
}

int strata__data_check(const strata__rowsrc *src, int threads, strata__data_stats *st, char *msg)
{
    const strata__data *X = &src->mem; /* n, d, w */
    const int64_t d = X->d;
    strata__data view;
    void *rbuf = NULL;
    size_t rcap = 0;
    int64_t nchunks = strata__chunk_count(X->n, STRATA__CHUNK_ROWS);
    int64_t *bad = strata__alloc((size_t)(2 * nchunks), sizeof(int64_t));
    double *tot = strata__calloc((size_t)(d + 1), sizeof(double));
    int rc = STRATA_OK;
    if (!bad || !tot) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory checking %lld x %lld data",
                          (long long)X->n, (long long)d);
        goto done;
    }
    check_ctx c = {&view, bad, bad + nchunks, st->mean};
    for (int64_t ch = 0; ch < 2 * nchunks; ch++)
        bad[ch] = -1; /* chunks of other processes (distributed) stay so */
    if ((rc = strata__rowsrc_pass(src, threads, d + 1, tot, check_chunk, &c, &view, msg)))
        goto done;
    /* The first bad row and weight: the first chunk's holding one. */
    int64_t first[2] = {INT64_MAX, INT64_MAX};
    for (int64_t ch = nchunks - 1; ch >= 0; ch--) {
        if (c.bad_x[ch] >= 0)
            first[0] = c.bad_x[ch];
        if (c.bad_w[ch] >= 0)
            first[1] = c.bad_w[ch];
    }
    if (src->dist && (rc = src->dist->min_i64(src->dist, first, 2, STRATA_OK, msg)))
        goto done;
    if (first[0] != INT64_MAX) {
        const int64_t i = first[0];
        double *row = tot; /* the sums are done with: the fit fails */
        /* the bad row read again (a stream has moved on; collective when distributed) */
        if (!(rc = strata__rowsrc_copy_row(src, i, row, &rbuf, &rcap, msg))) {
            int64_t f = 0;
            while (f < d && isfinite(row[f]))
                f++;
            double v = row[f < d ? f : 0];
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "data contain %s at row %lld, column %lld (0-based); "
                              "remove or impute non-finite values first",
                              isnan(v) ? "NaN" : "infinity", (long long)i, (long long)f);
        }
        goto done;
    }
    if (X->w) {
        if (first[1] != INT64_MAX) {
            const int64_t i = first[1];
            rc = strata__fail(msg, STRATA_E_WEIGHTS,
                              "sample weight at row %lld is %g; weights must be finite and >= 0",
                              (long long)i, X->w[i]);
            goto done;
        }
        if (!(tot[d] > 0.0)) {
            rc = strata__fail(msg, STRATA_E_WEIGHTS, "all %lld sample weights are zero",
                              (long long)X->n);
            goto done;
        }
        if (!isfinite(tot[d])) { /* cluster weights, and the centroids, would overflow */
            rc = strata__fail(msg, STRATA_E_WEIGHTS,
                              "the sample weights sum beyond the double range (%g); "
                              "rescale them", DBL_MAX);
            goto done;
        }
    }
    for (int64_t f = 0; f < d; f++)
        if (!isfinite(tot[f])) {
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "column %lld (0-based) sums to infinity: values too large "
                              "(near the double range); rescale the data first", (long long)f);
            goto done;
        }
    for (int64_t f = 0; f < d; f++)
        st->mean[f] = tot[f] / (double)X->n;
    memset(tot, 0, (size_t)(d + 1) * sizeof(double));
    if ((rc = strata__rowsrc_pass(src, threads, d, tot, var_chunk, &c, &view, msg)))
        goto done;
    double v = 0.0, sq = 0.0;
    for (int64_t f = 0; f < d; f++) {
        v += tot[f] / (double)X->n;
        sq += tot[f];
    }
    st->mean_var = v / (double)d;
    st->sq_dev = sq;
done:
    strata__free(rbuf);
    strata__free(bad);
    strata__free(tot);
    return rc;
}

/* ---- the range of squared distances ------------------------------------ */

/* Squared distances are computed in the expanded form bias_j + x'.(-2 c'_j)
 * on centred values (x' = x - mean), |x'_f| and |c'_f| at most M_f =
 * max |v_f - mean_f| over the rows and points: every intermediate stays
 * within 3 B and every distance within 4 B, B = sum_f M_f^2. 8 B <= the
 * type's largest value leaves a factor 2 for rounding. */
#define RANGE_MARGIN 8.0

typedef struct range_ctx {
    const strata__data *X;
    const double *mean;
    double **dev; /* per thread: d largest |x - mean| */
} range_ctx;

static void range_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    const range_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    double *dev = c->dev[tid];
    for (int64_t i = begin; i < end; i++)
        for (int64_t f = 0; f < X->d; f++) {
            dev[f] = fmax(dev[f], fabs(strata__at(X, i, f) - c->mean[f]));
        }
}

int strata__distance_dtype(const strata__rowsrc *src, const strata__data_stats *st,
                           const double *pts, int64_t npts, int threads, int *dtype, char *msg)
{
    const strata__data *X = &src->mem;
    strata__data view;
    const int64_t d = X->d;
    const double flt_room = (double)FLT_MAX / RANGE_MARGIN, dbl_room = DBL_MAX / RANGE_MARGIN;
    const double room = X->dtype == STRATA_FLOAT32 ? flt_room : dbl_room;
    double *dev = strata__calloc((size_t)((int64_t)threads * d), sizeof(double));
    double **per = strata__calloc((size_t)threads, sizeof(double *));
    int rc = STRATA_OK;
    if (!dev || !per) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory checking the data range");
        goto done;
    }
    /* the points' part: dev[f] = max over points of |p_f - mean_f| */
    double p = 0.0;
    for (int64_t f = 0; f < d; f++) {
        for (int64_t j = 0; j < npts; j++)
            dev[f] = fmax(dev[f], fabs(pts[j * d + f] - st->mean[f]));
        p += dev[f] * dev[f];
    }
    /* max_i (x_if - mean_f)^2 <= sum_i (x_if - mean_f)^2: B <= sq_dev + p */
    if (st->sq_dev + p <= room) {
        *dtype = X->dtype;
        goto done;
    }
    /* near a limit: the exact per-feature maxima (any order: a max is exact) */
    for (int t = 0; t < threads; t++) {
        per[t] = dev + t * d;
        if (t > 0)
            memcpy(per[t], dev, (size_t)d * sizeof(double));
    }
    range_ctx c = {&view, st->mean, per};
    if ((rc = strata__rowsrc_pass(src, threads, 0, NULL, range_chunk, &c, &view, msg)))
        goto done;
    for (int64_t f = 0; f < d; f++)
        for (int t = 1; t < threads; t++)
            per[0][f] = fmax(per[0][f], per[t][f]);
    if (src->dist && (rc = src->dist->max_f64(src->dist, per[0], d, STRATA_OK, msg)))
        goto done;
    double b = 0.0, widest = -1.0;
    int64_t col = 0;
    for (int64_t f = 0; f < d; f++) {
        double m = fmax(0.0, per[0][f]);
        b += m * m;
        if (m > widest) {
            widest = m;
            col = f;
        }
    }
    if (b <= room)
        *dtype = X->dtype;
    else if (b <= dbl_room)
        *dtype = STRATA_FLOAT64; /* float32 data: computed in double */
    else
        rc = strata__fail(msg, STRATA_E_NONFINITE,
                          "squared distances of the data overflow double: in column %lld "
                          "(0-based) the values%s lie up to %g from the mean; rescale the "
                          "data first", (long long)col, npts > 0 ? " and centroids" : "", widest);
done:
    strata__free(per);
    strata__free(dev);
    return rc;
}

typedef struct widen_ctx {
    const strata__data *X;
    double *out;
} widen_ctx;

static void widen_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    const widen_ctx *c = vctx;
    const int64_t d = c->X->d;
    for (int64_t i = begin; i < end; i++) {
        const float *r = strata__row(c->X, i);
        for (int64_t f = 0; f < d; f++)
            c->out[i * d + f] = (double)r[f];
    }
}

int strata__data_widen(const strata__data *X, int threads, strata__data *wide, double **buf,
                       char *msg)
{
    double *out = strata__alloc((size_t)X->n, (size_t)X->d * sizeof(double));
    if (!out)
        return strata__fail(msg, STRATA_E_NOMEM,
                            "out of memory for a float64 copy of %lld x %lld float32 data "
                            "(too spread for float32 distances)", (long long)X->n,
                            (long long)X->d);
    widen_ctx c = {X, out};
    if (strata__parallel_chunks(X->n, STRATA__CHUNK_ROWS, threads, 0, NULL, widen_chunk, &c)) {
        strata__free(out);
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory widening the data");
    }
    *wide = (strata__data){STRATA_FLOAT64, out, X->n, X->d, X->d, X->w, 0, NULL};
    *buf = out;
    return STRATA_OK;
}

/* The hash of a row's values as doubles (-0.0 as 0.0). */
static uint64_t hash_row(const double *v, int64_t d)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int64_t f = 0; f < d; f++) {
        double x = v[f];
        if (x == 0.0)
            x = 0.0; /* -0.0 and 0.0 are the same point */
        uint64_t b;
        memcpy(&b, &x, sizeof b);
        h ^= b;
        h *= 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    return h;
}

static int rows_equal(const double *a, const double *b, int64_t d)
{
    for (int64_t f = 0; f < d; f++)
        if (a[f] != b[f])
            return 0;
    return 1;
}

/* Insert row v into the table (slot: cap entries naming rows of vals) unless
 * an equal row is there; *n_seen counts the rows held (v is vals[*n_seen]
 * or is copied there). */
static void distinct_insert(const double *v, int64_t d, int64_t *slot, int64_t cap, double *vals,
                            int64_t *n_seen)
{
    int64_t s = (int64_t)(hash_row(v, d) & (uint64_t)(cap - 1));
    for (;;) {
        if (slot[s] < 0) {
            if (vals + *n_seen * d != v)
                memcpy(vals + *n_seen * d, v, (size_t)d * sizeof(double));
            slot[s] = (*n_seen)++;
            return;
        }
        if (rows_equal(vals + slot[s] * d, v, d))
            return;
        s = (s + 1) & (cap - 1);
    }
}

/* Distributed: each process counted its own rows' distinct values (at most
 * limit, in vals); the run's count, min(limit, distinct rows of all), is
 * that of their union. One all-gather of the counts, one of the values. */
static int distinct_union(const strata__dist *dist, int64_t d, int64_t limit, int64_t *slot,
                          int64_t cap, double *vals, int64_t *count, int rc, char *msg)
{
    const int P = dist->size;
    int64_t *bytes = strata__alloc((size_t)P, sizeof(int64_t));
    int64_t *counts = strata__alloc((size_t)P, sizeof(int64_t));
    double *all = NULL;
    if ((!bytes || !counts) && !rc)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory counting distinct rows");
    for (int r = 0; !rc && r < P; r++)
        bytes[r] = (int64_t)sizeof(int64_t);
    int64_t mine = rc ? 0 : *count;
    if ((rc = dist->allgather(dist, &mine, bytes, counts, rc, msg)))
        goto out;
    int64_t total = 0;
    for (int r = 0; r < P; r++) {
        bytes[r] = counts[r] * d * (int64_t)sizeof(double);
        total += counts[r];
    }
    all = strata__alloc((size_t)(total > 0 ? total : 1), (size_t)d * sizeof(double));
    if (!all)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory counting distinct rows");
    if ((rc = dist->allgather(dist, vals, bytes, all, rc, msg)))
        goto out;
    for (int64_t s = 0; s < cap; s++)
        slot[s] = -1;
    int64_t n_seen = 0;
    for (int64_t j = 0; j < total && n_seen < limit; j++)
        distinct_insert(all + j * d, d, slot, cap, vals, &n_seen);
    *count = n_seen;
out:
    strata__free(bytes);
    strata__free(counts);
    strata__free(all);
    return rc;
}

int strata__count_distinct(const strata__rowsrc *src, int64_t limit, int64_t *count, char *msg)
{
    /* Open addressing with at least 2*limit slots, each naming one of the
     * `limit` stored rows; stops as soon as `limit` distinct rows are seen,
     * which for real data is within the first block. */
    const int64_t d = src->mem.d;
    const double *w = src->mem.w;
    int64_t cap = 16;
    while (cap < 2 * limit + 1)
        cap *= 2;
    int64_t *slot = strata__alloc((size_t)cap, sizeof(int64_t));
    double *vals = strata__alloc((size_t)(limit + 1), (size_t)d * sizeof(double));
    strata__rowsrc_walk *wk = NULL;
    int rc = STRATA_OK, more = 1;
    *count = 0;
    if (!slot || !vals) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory counting distinct rows");
        goto done;
    }
    for (int64_t s = 0; s < cap; s++)
        slot[s] = -1;
    if ((rc = strata__rowsrc_walk_open(&wk, src, msg)))
        goto done;
    int64_t n_seen = 0;
    while (n_seen < limit) {
        strata__data X;
        if ((rc = strata__rowsrc_walk_next(wk, &X, &more, msg)) || !more)
            break;
        for (int64_t i = X.row0; i < X.n && n_seen < limit; i++) {
            if (w && !(w[i] > 0.0))
                continue;
            double *v = vals + n_seen * d; /* the next free entry */
            for (int64_t f = 0; f < d; f++)
                v[f] = strata__at(&X, i, f);
            int64_t s = (int64_t)(hash_row(v, d) & (uint64_t)(cap - 1));
            for (;;) {
                if (slot[s] < 0) {
                    slot[s] = n_seen++;
                    break;
                }
                if (rows_equal(vals + slot[s] * d, v, d))
                    break;
                s = (s + 1) & (cap - 1);
            }
        }
    }
    *count = n_seen;
done:
    strata__rowsrc_walk_close(wk);
    if (src->dist) /* the union of every process's distinct rows, counted again */
        rc = distinct_union(src->dist, d, limit, slot, cap, vals, count, rc, msg);
    strata__free(slot);
    strata__free(vals);
    return rc;
}
