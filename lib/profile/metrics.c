/* Cluster-quality metrics: see metrics.h and docs/tiers.md, "Choosing k".
 *
 * Full-data metrics take four passes over the rows, each over fixed chunks
 * with ordered reductions (core/parallel.c):
 *   1. check the values and labels, sum the columns: the overall mean m;
 *   2. per cluster, the count N_C and the sum of (x - m): the means m_C,
 *      centred first so that the sums do not cancel;
 *   3. per cluster, W_C = sum ||x - m_C||^2 and the sum of ||x - m_C||;
 *   4. the squared-Euclidean silhouette of every row from
 *        sum over y in C of ||x - y||^2 = N_C ||x - m_C||^2 + W_C,
 *      exact and free of the cancellation of ||x||^2 - 2 x.S_C + Q_C.
 * The Euclidean silhouette needs every pairwise distance: O(s^2 d) on s
 * sampled rows gathered into a double matrix. */
#include "profile/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/status.h"

/* Rows per chunk of the full-data passes: fixed, so reductions never depend
 * on the thread count. */
#define ROWS_CHUNK 4096
/* Sampled rows per chunk of the Euclidean silhouette (each chunk reads all
 * s rows once) and rows per block of the inner loop (kept in cache). */
#define SIL_CHUNK 64
#define SIL_BLOCK 256
/* Work of the Euclidean silhouette between two SILHOUETTE reports, in row
 * pairs x (d + labellings): a fraction of a second (d = 8, 11 labellings:
 * shares of 2.7e7 pairs, 0.13 s each on 2 threads of Zen 5) */
#define SIL_SHARE_WORK ((int64_t)1 << 29)
/* Random stream of the silhouette sample (the seed is the caller's). */
#define SAMPLE_STREAM 0x51u

static inline double at(const strata__mrows *X, int64_t i, int64_t f)
{
    if (X->dtype == STRATA_FLOAT32)
        return (double)((const float *)X->x)[i * X->stride + f];
    return ((const double *)X->x)[i * X->stride + f];
}

/* ---- pass 1: check, column sums ------------------------------------------ */

typedef struct pass_ctx {
    const strata__mrows *X;
    const int32_t *labels;
    int64_t k;
    int checked;
    int64_t *bad;         /* pass 1: per chunk, the first bad row or -1 */
    const double *mean;   /* d */
    const double *cent;   /* k x d cluster means */
    const double *wmean;  /* k: W_C / N_C */
    const double *within; /* 2k: W_C, sum of ||x - m_C|| */
    const double *count;  /* k */
} pass_ctx;

static void pass_sums(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    pass_ctx *c = vctx;
    const strata__mrows *X = c->X;
    int64_t bad = -1;
    for (int64_t i = begin; i < end; i++) {
        if (!c->checked) {
            int32_t l = c->labels[i];
            int ok = l >= 0 && l < c->k;
            for (int64_t f = 0; f < X->d && ok; f++)
                ok = isfinite(at(X, i, f));
            if (!ok) {
                bad = i;
                break;
            }
        }
        for (int64_t f = 0; f < X->d; f++)
            partial[f] += at(X, i, f);
    }
    if (c->bad)
        c->bad[chunk] = bad;
}

/* ---- pass 2: counts and centred sums per cluster -------------------------- */

static void pass_clusters(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    pass_ctx *c = vctx;
    const int64_t d = c->X->d;
    for (int64_t i = begin; i < end; i++) {
        double *p = partial + (int64_t)c->labels[i] * (d + 1);
        p[0] += 1.0;
        for (int64_t f = 0; f < d; f++)
            p[1 + f] += at(c->X, i, f) - c->mean[f];
    }
}

static inline double sqdist_row(const strata__mrows *X, int64_t i, const double *m)
{
    double s = 0.0;
    for (int64_t f = 0; f < X->d; f++) {
        double t = at(X, i, f) - m[f];
        s += t * t;
    }
    return s;
}

/* ---- pass 3: within-cluster sums of squared and plain distances ----------- */

static void pass_within(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    pass_ctx *c = vctx;
    for (int64_t i = begin; i < end; i++) {
        int64_t l = c->labels[i];
        double s = sqdist_row(c->X, i, c->cent + l * c->X->d);
        partial[2 * l] += s;
        partial[2 * l + 1] += sqrt(s);
    }
}

/* ---- pass 4: the squared-Euclidean silhouette ---------------------------- */

/* (b - a) / max(a, b), 0 when both are 0 (scikit-learn's nan_to_num). */
static inline double silhouette_of(double a, double b)
{
    double m = a > b ? a : b;
    return m > 0.0 ? (b - a) / m : 0.0;
}

static void pass_silhouette_sq(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                               double *partial)
{
    pass_ctx *c = vctx;
    const int64_t d = c->X->d;
    for (int64_t i = begin; i < end; i++) {
        int64_t own = c->labels[i];
        double na = c->count[own];
        if (na < 2.0)
            continue; /* alone in its cluster: s = 0 */
        double a = 0.0, b = INFINITY;
        for (int64_t l = 0; l < c->k; l++) {
            if (c->count[l] == 0.0)
                continue;
            double s = sqdist_row(c->X, i, c->cent + l * d);
            if (l == own) /* mean over the N_A - 1 other rows (x itself adds 0) */
                a = (na * s + c->within[2 * l]) / (na - 1.0);
            else if (s + c->wmean[l] < b)
                b = s + c->wmean[l];
        }
        partial[0] += silhouette_of(a, b);
    }
}

int strata__metrics_full(const strata__mrows *X, const int32_t *labels, int64_t k, int threads,
                         int checked, double out[4], char *msg)
{
    const int64_t n = X->n, d = X->d;
    int64_t nchunks = strata__chunk_count(n, ROWS_CHUNK);
    double *mean = strata__calloc((size_t)d, sizeof(double));
    double *sums = strata__calloc((size_t)(k * (d + 1)), sizeof(double));
    double *cent = strata__alloc((size_t)(k * d), sizeof(double));
    double *within = strata__calloc((size_t)(2 * k), sizeof(double));
    double *count = strata__alloc((size_t)k, sizeof(double));
    double *wmean = strata__alloc((size_t)k, sizeof(double));
    int64_t *bad = checked ? NULL : strata__alloc((size_t)nchunks, sizeof(int64_t));
    int rc = STRATA_OK;
    if (!mean || !sums || !cent || !within || !count || !wmean || (!checked && !bad)) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the metrics of %lld clusters",
                          (long long)k);
        goto done;
    }
    pass_ctx c = {X, labels, k, checked, bad, mean, cent, wmean, within, count};

    /* 1 */
    if (strata__parallel_chunks(n, ROWS_CHUNK, threads, d, mean, pass_sums, &c))
        goto nomem;
    for (int64_t ch = 0; bad && ch < nchunks; ch++) {
        int64_t i = bad[ch];
        if (i < 0)
            continue;
        if (labels[i] < 0 || labels[i] >= k)
            rc = strata__fail(msg, STRATA_E_ARG, "label %d of row %lld is outside 0..%lld",
                              (int)labels[i], (long long)i, (long long)(k - 1));
        else
            rc = strata__fail(msg, STRATA_E_NONFINITE, "row %lld holds NaN or Inf", (long long)i);
        goto done;
    }
    for (int64_t f = 0; f < d; f++) {
        mean[f] /= (double)n;
        if (!isfinite(mean[f])) {
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "the sum of column %lld overflows double", (long long)f);
            goto done;
        }
    }

    /* 2 */
    if (strata__parallel_chunks(n, ROWS_CHUNK, threads, k * (d + 1), sums, pass_clusters, &c))
        goto nomem;
    int64_t used = 0;
    double trace_b = 0.0;
    for (int64_t l = 0; l < k; l++) {
        const double *s = sums + l * (d + 1);
        count[l] = s[0];
        if (s[0] == 0.0) {
            memcpy(cent + l * d, mean, (size_t)d * sizeof(double)); /* unused */
            continue;
        }
        used++;
        double b = 0.0;
        for (int64_t f = 0; f < d; f++) {
            double dev = s[1 + f] / s[0];
            cent[l * d + f] = mean[f] + dev;
            b += dev * dev;
        }
        trace_b += s[0] * b;
    }
    if (used < 2 || used > n - 1) {
        rc = strata__fail(msg, STRATA_E_ARG,
                          "the labels name %lld non-empty clusters of %lld rows; the metrics "
                          "need 2 to n - 1 = %lld",
                          (long long)used, (long long)n, (long long)(n - 1));
        goto done;
    }

    /* 3 */
    if (strata__parallel_chunks(n, ROWS_CHUNK, threads, 2 * k, within, pass_within, &c))
        goto nomem;
    double trace_w = 0.0;
    for (int64_t l = 0; l < k; l++) {
        trace_w += within[2 * l];
        wmean[l] = count[l] > 0.0 ? within[2 * l] / count[l] : 0.0;
    }
    if (!isfinite(trace_w) || !isfinite(trace_b)) {
        rc = strata__fail(msg, STRATA_E_NONFINITE,
                          "squared distances between the rows overflow double");
        goto done;
    }

    /* Davies-Bouldin on the non-empty clusters */
    double db = 0.0;
    int all_spread_zero = 1, all_gaps_zero = 1;
    for (int64_t i = 0; i < k; i++) {
        if (count[i] == 0.0)
            continue;
        double si = within[2 * i + 1] / count[i], worst = 0.0;
        all_spread_zero &= si == 0.0;
        for (int64_t j = 0; j < k; j++) {
            if (j == i || count[j] == 0.0)
                continue;
            double g = 0.0;
            for (int64_t f = 0; f < d; f++) {
                double t = cent[i * d + f] - cent[j * d + f];
                g += t * t;
            }
            g = sqrt(g);
            all_gaps_zero &= g == 0.0;
            double r = g > 0.0 ? (si + within[2 * j + 1] / count[j]) / g : 0.0;
            if (r > worst)
                worst = r;
        }
        db += worst;
    }
    db = all_spread_zero || all_gaps_zero ? 0.0 : db / (double)used;

    /* 4 */
    double sil = 0.0;
    if (strata__parallel_chunks(n, ROWS_CHUNK, threads, 1, &sil, pass_silhouette_sq, &c))
        goto nomem;

    out[STRATA_METRIC_INERTIA] = trace_w;
    out[STRATA_METRIC_CALINSKI_HARABASZ] =
        trace_w == 0.0 ? 1.0 : trace_b * (double)(n - used) / (trace_w * (double)(used - 1));
    out[STRATA_METRIC_DAVIES_BOULDIN] = db;
    out[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN] = sil / (double)n;
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the metrics' scratch");
done:
    strata__free(mean);
    strata__free(sums);
    strata__free(cent);
    strata__free(within);
    strata__free(count);
    strata__free(wmean);
    strata__free(bad);
    return rc;
}

/* ---- the sample ----------------------------------------------------------- */

/* Up to this many rows the sample scans them all (Algorithm S, ~1 s per 1e8). */
#define SAMPLE_SCAN_MAX ((int64_t)1 << 32)

static int cmp_row(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void strata__sample_rows(int64_t n, int64_t s, uint64_t seed, int64_t *rows)
{
    strata__rng r;
    strata__rng_seed(&r, seed, SAMPLE_STREAM);
    if (n > SAMPLE_SCAN_MAX && s <= n / 4) {
        /* Beyond any data held (a pass over n would take minutes): rows drawn
         * uniformly, sorted, repeats drawn again - uniform over s-subsets
         * too, in O(s log s). */
        int64_t m = 0;
        while (m < s) {
            for (int64_t i = m; i < s; i++)
                rows[i] = (int64_t)strata__rng_below(&r, (uint64_t)n);
            qsort(rows, (size_t)s, sizeof *rows, cmp_row);
            m = 0;
            for (int64_t i = 0; i < s; i++)
                if (!m || rows[i] != rows[m - 1])
                    rows[m++] = rows[i];
        }
        return;
    }
    /* Knuth's Algorithm S: row i is taken with probability
     * (still needed) / (rows left), which makes every s-subset equally likely. */
    int64_t taken = 0;
    for (int64_t i = 0; i < n && taken < s; i++)
        if (strata__rng_below(&r, (uint64_t)(n - i)) < (uint64_t)(s - taken))
            rows[taken++] = i;
}

double *strata__gather_rows(const strata__mrows *X, const int64_t *rows, int64_t s)
{
    double *xs = strata__alloc((size_t)s, (size_t)X->d * sizeof(double));
    if (!xs)
        return NULL;
    for (int64_t i = 0; i < s; i++)
        for (int64_t f = 0; f < X->d; f++)
            xs[i * X->d + f] = at(X, rows ? rows[i] : i, f);
    return xs;
}

/* ---- the Euclidean silhouette -------------------------------------------- */

typedef struct sil_ctx {
    const double *xs;
    int64_t s, d, nl, ktot;
    const int32_t *labels;
    const int64_t *ks, *koff; /* koff[l]: first cluster slot of labelling l */
    const double *counts;     /* ktot: rows of each cluster among the s */
    double *scratch;          /* threads x SIL_CHUNK x ktot */
} sil_ctx;

static void pass_silhouette(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    sil_ctx *c = vctx;
    const int64_t d = c->d, kt = c->ktot;
    double *sum = c->scratch + (size_t)tid * SIL_CHUNK * (size_t)kt;
    memset(sum, 0, (size_t)(end - begin) * (size_t)kt * sizeof(double));
    /* Each (row, cluster) sum adds its distances in ascending j, whatever the
     * blocking: the same bits for any chunking of i. */
    for (int64_t j0 = 0; j0 < c->s; j0 += SIL_BLOCK) {
        int64_t j1 = j0 + SIL_BLOCK < c->s ? j0 + SIL_BLOCK : c->s;
        for (int64_t i = begin; i < end; i++) {
            const double *xi = c->xs + i * d;
            double *si = sum + (i - begin) * kt;
            for (int64_t j = j0; j < j1; j++) {
                const double *xj = c->xs + j * d;
                double q = 0.0;
                for (int64_t f = 0; f < d; f++) {
                    double t = xi[f] - xj[f];
                    q += t * t;
                }
                double dist = sqrt(q);
                for (int64_t l = 0; l < c->nl; l++)
                    si[c->koff[l] + c->labels[l * c->s + j]] += dist;
            }
        }
    }
    for (int64_t i = begin; i < end; i++) {
        const double *si = sum + (i - begin) * kt;
        for (int64_t l = 0; l < c->nl; l++) {
            const double *cnt = c->counts + c->koff[l];
            const double *sl = si + c->koff[l];
            int64_t own = c->labels[l * c->s + i];
            if (cnt[own] < 2.0)
                continue; /* alone in its cluster: s = 0 */
            double a = sl[own] / (cnt[own] - 1.0), b = INFINITY;
            for (int64_t m = 0; m < c->ks[l]; m++)
                if (m != own && cnt[m] > 0.0 && sl[m] / cnt[m] < b)
                    b = sl[m] / cnt[m];
            partial[l] += silhouette_of(a, b);
        }
    }
}

int strata__silhouette_euclidean(const double *xs, int64_t s, int64_t d, const int32_t *labels,
                                 const int64_t *ks, int64_t nl, int threads,
                                 const strata__steps *steps, double *out, char *msg)
{
    strata__tree_sum tree = {0};
    int64_t ktot = 0;
    for (int64_t l = 0; l < nl; l++)
        ktot += ks[l];
    if (threads < 1)
        threads = 1;
    int64_t *koff = strata__alloc((size_t)nl, sizeof(int64_t));
    double *counts = strata__calloc((size_t)ktot, sizeof(double));
    double *total = strata__calloc((size_t)nl, sizeof(double));
    double *scratch = strata__alloc((size_t)threads * SIL_CHUNK, (size_t)ktot * sizeof(double));
    int rc = STRATA_OK;
    if (!koff || !counts || !total || !scratch) {
        rc = strata__fail(msg, STRATA_E_NOMEM,
                          "out of memory for the silhouette of %lld sampled rows", (long long)s);
        goto done;
    }
    for (int64_t l = 0, off = 0; l < nl; off += ks[l], l++) {
        koff[l] = off;
        for (int64_t i = 0; i < s; i++)
            counts[off + labels[l * s + i]] += 1.0;
    }
    sil_ctx c = {xs, s, d, nl, ktot, labels, ks, koff, counts, scratch};
    /* In shares of about SIL_SHARE_WORK (whole rounds of the threads'
     * chunks), each reported: one tree over all the chunks, so the
     * shares change no bit of the total. */
    const int64_t nchunks = strata__chunk_count(s, SIL_CHUNK);
    int64_t share = SIL_SHARE_WORK / (d + nl) / ((int64_t)SIL_CHUNK * (s > 0 ? s : 1));
    share = share < 1 ? 1 : share;
    share = (share + threads - 1) / threads * threads;
    if ((rc = strata__tree_sum_init(&tree, nchunks, nl))) {
        rc = strata__fail(msg, rc, "out of memory for the silhouette's sums");
        goto done;
    }
    if ((rc = strata__step(steps, STRATA_STEP_SILHOUETTE, 0, 0, s, NAN, msg)))
        goto done;
    for (int64_t c0 = 0; c0 < nchunks; c0 += share) {
        const int64_t c1 = nchunks - c0 < share ? nchunks : c0 + share;
        if (strata__parallel_chunk_range(s, SIL_CHUNK, c0, c1, threads, &tree, pass_silhouette,
                                         &c)) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the silhouette's scratch");
            goto done;
        }
        const int64_t rows = c1 * SIL_CHUNK < s ? c1 * SIL_CHUNK : s;
        if ((rc = strata__step(steps, STRATA_STEP_SILHOUETTE, 0, rows, s, NAN, msg)))
            goto done;
    }
    if ((rc = strata__tree_sum_finish(&tree, total))) {
        rc = strata__fail(msg, rc, "the silhouette's sums are not whole (internal error)");
        goto done;
    }
    for (int64_t l = 0; l < nl; l++) {
        int64_t used = 0;
        for (int64_t m = 0; m < ks[l]; m++)
            used += counts[koff[l] + m] > 0.0;
        out[l] = used < 2 || used >= s ? NAN : total[l] / (double)s;
    }
done:
    strata__tree_sum_free(&tree);
    strata__free(koff);
    strata__free(counts);
    strata__free(total);
    strata__free(scratch);
    return rc;
}

/* ---- the knee ------------------------------------------------------------- */

int64_t strata__knee(int64_t k_min, int64_t m, const double *inertia, const double *fallback)
{
    if (m >= 3) {
        double lo = inertia[0], hi = inertia[0];
        for (int64_t i = 1; i < m; i++) {
            lo = inertia[i] < lo ? inertia[i] : lo;
            hi = inertia[i] > hi ? inertia[i] : hi;
        }
        if (hi > lo) {
            /* Kneedle: x = (k - k_min) / (m - 1), y = (I - min) / (max - min);
             * the difference between the chord from the first to the last
             * point and the curve; its largest positive value is the knee. */
            const double y0 = (inertia[0] - lo) / (hi - lo);
            const double y1 = (inertia[m - 1] - lo) / (hi - lo);
            double best = 0.0;
            int64_t knee = -1;
            for (int64_t i = 1; i < m - 1; i++) {
                double x = (double)i / (double)(m - 1);
                double gap = y0 + (y1 - y0) * x - (inertia[i] - lo) / (hi - lo);
                if (gap > best) {
                    best = gap;
                    knee = i;
                }
            }
            if (knee >= 0)
                return k_min + knee;
        }
    }
    int64_t pick = 0;
    for (int64_t i = 1; i < m; i++)
        if (fallback[i] > fallback[pick])
            pick = i;
    return k_min + pick;
}
