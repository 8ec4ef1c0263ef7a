/* Cluster profiles in original units.
 *
 * Moments in one pass over the rows: each fixed chunk of rows keeps, per
 * cluster, the (weighted) count, mean, sum of squared deviations (Welford),
 * min and max; chunks are merged in chunk order (Chan et al.), so results do
 * not depend on the thread count, and large offsets (spend, days) cost no
 * precision as they would with sums of squares. Chunks run in batches of a
 * fixed number, which bounds the per-chunk memory whatever n.
 *
 * Quantiles are exact: rows are grouped by cluster once (a counting sort of
 * row numbers), then each (cluster, feature) pair gathers its values and
 * selects the order statistics it needs (lib/core/select.c) without sorting;
 * pairs run in parallel, each on one thread. Weighted quantiles use the
 * inverted-CDF rule, by a weighted quickselect. */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/select.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "profile/profile.h"

#define CHUNK ((int64_t)1 << 14)
/* Doubles of per-chunk records held at once (32 MiB). */
#define BATCH_DOUBLES ((int64_t)1 << 22)
#define MAX_BATCH_CHUNKS 64
#define SEED 0x9f0f11e5ULL

static const double QUANTILE_P[3] = {0.1, 0.5, 0.9};

/* Record of one cluster: count (rows), rows of weight > 0, weight, then per
 * feature mean, M2 (sum of w (x - mean)^2), min, max. */
enum { R_COUNT, R_POS, R_WEIGHT, R_FEAT };
#define REC(d) (R_FEAT + 4 * (d))

enum { BAD_NONE, BAD_LABEL, BAD_WEIGHT, BAD_VALUE };

typedef struct moments {
    const double *x;
    int64_t d, stride, k, base;
    const int32_t *labels;
    const double *weights;
    double *acc;     /* batch chunks x k x REC(d) */
    int64_t *bad;    /* batch chunks x 3: row, kind, feature */
} moments;

static void record_init(double *r, int64_t d)
{
    r[R_COUNT] = r[R_POS] = r[R_WEIGHT] = 0.0;
    double *mean = r + R_FEAT, *m2 = mean + d, *mn = m2 + d, *mx = mn + d;
    for (int64_t f = 0; f < d; f++) {
        mean[f] = m2[f] = 0.0;
        mn[f] = INFINITY;
        mx[f] = -INFINITY;
    }
}

static void moments_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    (void)tid;
    (void)partial;
    const moments *m = ctx;
    const int64_t d = m->d, rec = REC(d);
    double *acc = m->acc + chunk * m->k * rec;
    int64_t *bad = m->bad + 3 * chunk;
    bad[0] = -1;
    for (int64_t c = 0; c < m->k; c++)
        record_init(acc + c * rec, d);
    for (int64_t i = m->base + begin; i < m->base + end; i++) {
        int32_t c = m->labels[i];
        if (c < 0 || c >= m->k) {
            bad[0] = i, bad[1] = BAD_LABEL;
            return;
        }
        double w = m->weights ? m->weights[i] : 1.0;
        if (!(w >= 0.0 && isfinite(w))) {
            bad[0] = i, bad[1] = BAD_WEIGHT;
            return;
        }
        const double *xi = m->x + i * m->stride;
        for (int64_t f = 0; f < d; f++)
            if (!isfinite(xi[f])) {
                bad[0] = i, bad[1] = BAD_VALUE, bad[2] = f;
                return;
            }
        double *r = acc + c * rec;
        r[R_COUNT] += 1.0;
        if (w == 0.0)
            continue; /* counted, but no part of any statistic */
        r[R_POS] += 1.0;
        double W = r[R_WEIGHT] + w, s = w / W;
        r[R_WEIGHT] = W;
        double *mean = r + R_FEAT, *m2 = mean + d, *mn = m2 + d, *mx = mn + d;
        for (int64_t f = 0; f < d; f++) {
            double delta = xi[f] - mean[f];
            mean[f] += delta * s;
            m2[f] += w * delta * (xi[f] - mean[f]);
            mn[f] = xi[f] < mn[f] ? xi[f] : mn[f];
            mx[f] = xi[f] > mx[f] ? xi[f] : mx[f];
        }
    }
}

/* dst += src (Chan et al.'s pairwise update). */
static void record_merge(double *dst, const double *src, int64_t d)
{
    double wa = dst[R_WEIGHT], wb = src[R_WEIGHT];
    dst[R_COUNT] += src[R_COUNT];
    if (wb == 0.0)
        return;
    double W = wa + wb;
    double *ma = dst + R_FEAT, *m2a = ma + d, *mna = m2a + d, *mxa = mna + d;
    const double *mb = src + R_FEAT, *m2b = mb + d, *mnb = m2b + d, *mxb = mnb + d;
    for (int64_t f = 0; f < d; f++) {
        if (wa == 0.0) {
            ma[f] = mb[f];
            m2a[f] = m2b[f];
        } else {
            double delta = mb[f] - ma[f];
            ma[f] += delta * (wb / W);
            m2a[f] += m2b[f] + delta * delta * wa * (wb / W);
        }
        mna[f] = mnb[f] < mna[f] ? mnb[f] : mna[f];
        mxa[f] = mxb[f] > mxa[f] ? mxb[f] : mxa[f];
    }
    dst[R_POS] += src[R_POS];
    dst[R_WEIGHT] = W;
}

/* ---- quantiles ------------------------------------------------------------ */

static inline void swap2(double *v, double *w, int64_t a, int64_t b)
{
    double t = v[a];
    v[a] = v[b];
    v[b] = t;
    if (w) {
        t = w[a];
        w[a] = w[b];
        w[b] = t;
    }
}

double strata__weighted_quantile(double *v, double *w, int64_t m, double q)
{
    double total = 0.0;
    for (int64_t i = 0; i < m; i++)
        total += w[i];
    double t = q * total, last = v[0];
    strata__rng rng;
    strata__rng_seed(&rng, SEED, 0);
    int64_t lo = 0, hi = m;
    while (hi - lo > 1) {
        int64_t p = lo + (int64_t)strata__rng_below(&rng, (uint64_t)(hi - lo));
        double pv = v[p];
        /* three ways: [lo, lt) < pv, [lt, gt) == pv, [gt, hi) > pv */
        int64_t lt = lo, gt = hi;
        for (int64_t i = lo; i < gt;) {
            if (v[i] < pv)
                swap2(v, w, i++, lt++);
            else if (v[i] > pv)
                swap2(v, w, i, --gt);
            else
                i++;
        }
        double wl = 0.0, we = 0.0;
        for (int64_t i = lo; i < lt; i++)
            wl += w[i];
        for (int64_t i = lt; i < gt; i++)
            we += w[i];
        if (lt > lo && wl >= t) { /* the cumulative weight reaches t below pv */
            hi = lt;
            continue;
        }
        if (wl + we >= t)
            return pv;
        t -= wl + we;
        last = pv;
        lo = gt;
    }
    /* one value left, or none where rounding put t beyond the total */
    return lo < hi ? v[lo] : last;
}

/* p10, median, p90 of m values (v reordered); w NULL: numpy's linear rule. */
static int quantiles(double *v, double *w, int64_t m, int threads,
                     strata__rank_keys_fn *rank_keys, double out[3])
{
    if (w) {
        for (int j = 0; j < 3; j++)
            out[j] = strata__weighted_quantile(v, w, m, QUANTILE_P[j]);
        return STRATA_OK;
    }
    int64_t ranks[6], pos[6];
    for (int j = 0; j < 3; j++) {
        int64_t lo = strata__quantile_index(m, QUANTILE_P[j]);
        ranks[2 * j] = lo;
        ranks[2 * j + 1] = lo + 1 < m ? lo + 1 : lo;
    }
    int rc = strata__select_ranks(v, m, ranks, 6, pos, threads, rank_keys);
    if (rc)
        return rc;
    for (int j = 0; j < 3; j++)
        out[j] = strata__quantile_lerp(m, QUANTILE_P[j], v[pos[2 * j]], v[pos[2 * j + 1]]);
    return STRATA_OK;
}

typedef struct qtask {
    const double *x;
    const double *weights;
    int64_t d, stride;
    const int64_t *order, *offset; /* rows of cluster c: order[offset[c] .. offset[c + 1]) */
    strata__rank_keys_fn *rank_keys;
    strata__profile *p;
    int *rc; /* per task */
    int threads;
} qtask;

/* Gather feature f of the m rows rows[] and write the quantiles of row `row`. */
static int gather_quantiles(const qtask *q, const int64_t *rows, int64_t m, int64_t f, int64_t row,
                            int threads)
{
    double *v = strata__alloc((size_t)m, sizeof *v);
    double *w = q->weights ? strata__alloc((size_t)m, sizeof *w) : NULL;
    int rc = v && (w || !q->weights) ? STRATA_OK : STRATA_E_NOMEM;
    if (!rc) {
        for (int64_t i = 0; i < m; i++) {
            v[i] = q->x[rows[i] * q->stride + f];
            if (w)
                w[i] = q->weights[rows[i]];
        }
        double out[3];
        rc = quantiles(v, w, m, threads, q->rank_keys, out);
        if (!rc) {
            q->p->stat[STRATA__PF_P10][row * q->d + f] = out[0];
            q->p->stat[STRATA__PF_MEDIAN][row * q->d + f] = out[1];
            q->p->stat[STRATA__PF_P90][row * q->d + f] = out[2];
        }
    }
    strata__free(v);
    strata__free(w);
    return rc;
}

/* Task t = cluster t / d, feature t % d, on one thread. */
static void quantile_task(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    (void)chunk;
    (void)tid;
    (void)partial;
    const qtask *q = ctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t c = t / q->d, f = t % q->d;
        int64_t m = q->offset[c + 1] - q->offset[c];
        if (m > 0)
            q->rc[t] = gather_quantiles(q, q->order + q->offset[c], m, f, c, 1);
    }
}

/* ---- the whole profile ---------------------------------------------------- */

void strata__profile_release(strata__profile *p)
{
    strata__free(p->count);
    strata__free(p->weight);
    strata__free(p->share);
    for (int s = 0; s < STRATA__PF_STATS; s++)
        strata__free(p->stat[s]);
    memset(p, 0, sizeof *p);
}

static int report_bad(const int64_t *bad, const int32_t *labels, int64_t k,
                      const double *weights, const double *x, int64_t stride, char *msg)
{
    int64_t i = bad[0];
    switch (bad[1]) {
    case BAD_LABEL:
        return strata__fail(msg, STRATA_E_ARG, "label %d of row %lld is outside 0..%lld",
                            (int)labels[i], (long long)i, (long long)(k - 1));
    case BAD_WEIGHT:
        return strata__fail(msg, STRATA_E_WEIGHTS,
                            "weight %g of row %lld is negative or not finite", weights[i],
                            (long long)i);
    default:
        return strata__fail(msg, STRATA_E_NONFINITE, "row %lld, feature %lld holds %g",
                            (long long)i, (long long)bad[2], x[i * stride + bad[2]]);
    }
}

int strata__profile_compute(strata__profile *p, const double *x, int64_t n, int64_t d,
                            int64_t stride, const int32_t *labels, int64_t k,
                            const double *weights, int threads, char *msg)
{
    memset(p, 0, sizeof *p);
    p->k = k;
    p->d = d;
    p->weighted = weights != NULL;
    const int64_t rec = REC(d), rows = k + 1;
    int64_t batch = BATCH_DOUBLES / (k * rec);
    batch = batch < 1 ? 1 : batch > MAX_BATCH_CHUNKS ? MAX_BATCH_CHUNKS : batch;
    moments mo = {.x = x, .d = d, .stride = stride, .k = k, .labels = labels,
                  .weights = weights};
    double *total = strata__alloc((size_t)rows, (size_t)rec * sizeof(double));
    mo.acc = strata__alloc((size_t)(batch * k), (size_t)rec * sizeof(double));
    mo.bad = strata__alloc((size_t)(3 * batch), sizeof(int64_t));
    int64_t *order = NULL, *offset = NULL;
    int *task_rc = NULL;
    int rc = total && mo.acc && mo.bad ? STRATA_OK
             : strata__fail(msg, STRATA_E_NOMEM, "out of memory for a profile of %lld clusters "
                            "x %lld features", (long long)k, (long long)d);
    for (int64_t c = 0; c < rows && !rc; c++)
        record_init(total + c * rec, d);
    /* pass 1: moments, in batches of chunks merged in chunk order */
    for (int64_t base = 0; base < n && !rc; base += batch * CHUNK) {
        int64_t nb = n - base < batch * CHUNK ? n - base : batch * CHUNK;
        mo.base = base;
        rc = strata__parallel_chunks(nb, CHUNK, threads, 0, NULL, moments_chunk, &mo);
        if (rc) {
            rc = strata__fail(msg, rc, "out of memory computing a profile");
            break;
        }
        int64_t nc = strata__chunk_count(nb, CHUNK);
        for (int64_t j = 0; j < nc && !rc; j++) {
            if (mo.bad[3 * j] >= 0)
                rc = report_bad(mo.bad + 3 * j, labels, k, weights, x, stride, msg);
            for (int64_t c = 0; c < k && !rc; c++)
                record_merge(total + c * rec, mo.acc + (j * k + c) * rec, d);
        }
    }
    for (int64_t c = 0; c < k && !rc; c++)
        record_merge(total + k * rec, total + c * rec, d);
    const double W = rc ? 0.0 : total[k * rec + R_WEIGHT];
    if (!rc && !(W > 0.0))
        rc = strata__fail(msg, STRATA_E_WEIGHTS, "the weights are all zero");
    if (!rc && !isfinite(W))
        rc = strata__fail(msg, STRATA_E_WEIGHTS, "the sum of the weights overflows double");

    /* results */
    if (!rc) {
        p->count = strata__alloc((size_t)rows, sizeof(double));
        p->weight = strata__alloc((size_t)rows, sizeof(double));
        p->share = strata__alloc((size_t)rows, sizeof(double));
        int ok = p->count && p->weight && p->share;
        for (int s = 0; s < STRATA__PF_STATS; s++)
            ok &= (p->stat[s] = strata__alloc((size_t)(rows * d), sizeof(double))) != NULL;
        if (!ok)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a profile");
    }
    for (int64_t c = 0; c < rows && !rc; c++) {
        const double *r = total + c * rec;
        const double *mean = r + R_FEAT, *m2 = mean + d, *mn = m2 + d, *mx = mn + d;
        const double *all = total + k * rec + R_FEAT;
        int empty = r[R_WEIGHT] == 0.0;
        p->count[c] = r[R_COUNT];
        p->weight[c] = r[R_WEIGHT];
        p->share[c] = r[R_WEIGHT] / W;
        for (int64_t f = 0; f < d && !rc; f++) {
            double sd = sqrt(m2[f] / r[R_WEIGHT]), sd_all = sqrt(all[d + f] / W);
            double *o[STRATA__PF_STATS];
            for (int s = 0; s < STRATA__PF_STATS; s++)
                o[s] = p->stat[s] + c * d + f;
            if (empty) {
                for (int s = 0; s < STRATA__PF_STATS; s++)
                    *o[s] = NAN;
                continue;
            }
            if (!isfinite(mean[f]) || !isfinite(sd) || !isfinite(sd_all)) {
                rc = strata__fail(msg, STRATA_E_NONFINITE, "the mean or standard deviation of "
                                  "feature %lld overflows double (values too large)", (long long)f);
                break;
            }
            *o[STRATA__PF_MEAN] = mean[f];
            *o[STRATA__PF_STD] = sd;
            *o[STRATA__PF_MIN] = mn[f];
            *o[STRATA__PF_MAX] = mx[f];
            double z = sd_all > 0.0 ? (mean[f] - all[f]) / sd_all : 0.0;
            *o[STRATA__PF_Z] = c == k ? 0.0 : isfinite(z) ? z : (z > 0 ? HUGE_VAL : -HUGE_VAL);
            *o[STRATA__PF_P10] = *o[STRATA__PF_MEDIAN] = *o[STRATA__PF_P90] = NAN;
        }
    }

    /* pass 2: quantiles; rows of weight > 0 grouped by cluster */
    if (!rc) {
        order = strata__alloc((size_t)(n > 0 ? n : 1), sizeof *order);
        offset = strata__alloc((size_t)(k + 2), sizeof *offset);
        task_rc = strata__calloc((size_t)(k * d), sizeof *task_rc);
        if (!order || !offset || !task_rc)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory grouping %lld rows by cluster",
                              (long long)n);
    }
    if (!rc) {
        offset[0] = 0;
        for (int64_t c = 0; c < k; c++)
            offset[c + 1] = offset[c] + (int64_t)total[c * rec + R_POS];
        offset[k + 1] = offset[k];
        int64_t *at = strata__alloc((size_t)k, sizeof *at);
        if (!at) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory grouping rows by cluster");
        } else {
            memcpy(at, offset, (size_t)k * sizeof *at);
            for (int64_t i = 0; i < n; i++)
                if (!weights || weights[i] > 0.0)
                    order[at[labels[i]]++] = i;
            strata__free(at);
        }
    }
    if (!rc) {
        const strata__kernels *kern = strata__kernels_get(STRATA_KERNEL_AUTO);
        qtask q = {.x = x, .weights = weights, .d = d, .stride = stride, .order = order,
                   .offset = offset, .rank_keys = kern->rank_keys, .p = p, .rc = task_rc,
                   .threads = threads};
        rc = strata__parallel_chunks(k * d, 1, threads, 0, NULL, quantile_task, &q);
        for (int64_t t = 0; t < k * d && !rc; t++)
            rc = task_rc[t];
        /* all rows: one feature at a time, each selection on every thread */
        for (int64_t f = 0; f < d && !rc; f++)
            rc = gather_quantiles(&q, order, offset[k], f, k, threads);
        if (rc)
            rc = strata__fail(msg, rc, "out of memory selecting the quantiles of a profile");
    }
    strata__free(total);
    strata__free(mo.acc);
    strata__free(mo.bad);
    strata__free(order);
    strata__free(offset);
    strata__free(task_rc);
    if (rc)
        strata__profile_release(p);
    return rc;
}
