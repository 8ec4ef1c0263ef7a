/* Quantile bins, the way pandas' qcut makes them, without sorting.
 *
 * pandas' qcut(x, q) takes edges = numpy.quantile(x, linspace(0, 1, q + 1))
 * (linear interpolation) and puts x in bin b when edges[b] < x <= edges[b+1]
 * (the lowest edge included in bin 0). Only a few order statistics of x are
 * needed for that, so they are found by selection (lib/core/select.c), and
 * the edges are computed with numpy's exact arithmetic so that every value
 * lands on the same side of every edge as in pandas.
 *
 * rank policy: x is rank(method="first") of the values, i.e. 1..n in (value,
 *   position) order, positions being ascending customer ids. A customer of
 *   rank r is in bin b = #{edges[j] < r : j = 1..q-1}; with T_j =
 *   floor(edges[j]) that is #{j : r > T_j}, so the q - 1 keys of ranks T_j
 *   decide every customer's bin.
 * value policy: x is the values; duplicate edges are dropped (duplicates=
 *   "drop"), so equal values share a bin.
 * edges policy: the caller's cut points. */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/select.h"
#include "kernels/kernels.h"
#include "rfm/rfm.h"

#define BIN_CHUNK ((int64_t)1 << 16)

/* linspace(0, 1, q + 1)[j]: numpy computes j * (1 / q) and sets the last to 1. */
static double quantile_p(int j, int q)
{
    return j == q ? 1.0 : (double)j * (1.0 / (double)q);
}

/* Every policy bins by counting keys below each value (the rank_keys
 * kernel): rank, the q - 1 threshold keys (value, position); value and
 * edges, the cut values with position INT64_MAX, so that a value equal to
 * a cut is not above it. map turns the count into the score. */
typedef struct binner {
    const strata__kernels *kern;
    int64_t offset; /* position of v[0] among all values */
    const double *v;
    const double *kv;
    const int64_t *ki;
    int64_t m;
    strata__rank_map map;
    uint8_t *score;
} binner;

static void bin_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    const binner *b = ctx;
    int64_t below[STRATA__RANK_KEYS_MAX] = {0};
    b->kern->rank_keys(b->v + begin, end - begin, b->offset + begin, b->kv, b->ki, b->m, b->map,
                       b->score + begin, below);
    for (int64_t j = 0; j < b->m; j++)
        partial[j] = (double)below[j];
}

/* Rank policy: select the keys of ranks 0, T_1 - 1, ..., T_{q-1} - 1, n - 1
 * (n: every value, on every part). */
static int rank_thresholds(const strata__rfm_selector *sel, const double *v, int64_t nloc, int q,
                           double *key_v, int64_t *key_i, double *edges)
{
    const int64_t n = sel->n;
    int64_t ranks[STRATA__RFM_MAX_BINS + 1], pos[STRATA__RFM_MAX_BINS + 1];
    double val[STRATA__RFM_MAX_BINS + 1];
    ranks[0] = 0;
    for (int j = 1; j < q; j++) {
        /* edges of the ranks 1..n: the sorted value at index k is k + 1 */
        double p = quantile_p(j, q);
        int64_t k = strata__quantile_index(n, p);
        double e = strata__quantile_lerp(n, p, (double)(k + 1),
                                             (double)(k + 1 < n ? k + 2 : n));
        int64_t t = (int64_t)floor(e); /* 1 <= t <= n */
        ranks[j] = t - 1;
    }
    ranks[q] = n - 1;
    int rc = sel->select(sel->ctx, v, nloc, ranks, q + 1, val, pos);
    if (rc)
        return rc;
    for (int j = 0; j <= q; j++)
        edges[j] = val[j];
    for (int j = 1; j < q; j++) {
        key_v[j - 1] = val[j];
        key_i[j - 1] = pos[j];
    }
    return 0;
}

/* Value policy: numpy.quantile edges of v, then the distinct ones. */
static int value_edges(const strata__rfm_selector *sel, const double *v, int64_t nloc, int q,
                       double *edges, double *uniq, int64_t *nuniq)
{
    const int64_t n = sel->n;
    int64_t ranks[2 * (STRATA__RFM_MAX_BINS + 1)] = {0};
    double val[2 * (STRATA__RFM_MAX_BINS + 1)];
    int64_t t = 0;
    for (int j = 0; j <= q; j++) {
        int64_t k = strata__quantile_index(n, quantile_p(j, q));
        if (t == 0 || ranks[t - 1] < k)
            ranks[t++] = k;
        if (k + 1 < n && ranks[t - 1] < k + 1)
            ranks[t++] = k + 1;
    }
    int rc = sel->select(sel->ctx, v, nloc, ranks, t, val, NULL);
    if (rc)
        return rc;
    for (int j = 0, r = 0; j <= q; j++) {
        double p = quantile_p(j, q);
        int64_t k = strata__quantile_index(n, p);
        while (ranks[r] != k)
            r++;
        double lo = val[r], hi = k + 1 < n ? val[r + 1] : lo;
        edges[j] = strata__quantile_lerp(n, p, lo, hi);
    }
    int64_t u = 0;
    for (int j = 0; j <= q; j++)
        if (u == 0 || !(uniq[u - 1] == edges[j]))
            uniq[u++] = edges[j];
    *nuniq = u;
    return 0;
}

/* The selector of one process: select_ranks on the values themselves. */
typedef struct local_sel {
    int threads;
    const strata__kernels *kern;
} local_sel;

static int local_select(void *ctx, const double *v, int64_t n, const int64_t *ranks, int64_t t,
                        double *val, int64_t *pos)
{
    const local_sel *l = ctx;
    int64_t p[2 * (STRATA__RFM_MAX_BINS + 1)];
    int rc = strata__select_ranks(v, n, ranks, t, p, l->threads, l->kern->rank_keys);
    for (int64_t j = 0; j < t && !rc; j++) {
        val[j] = v[p[j]];
        if (pos)
            pos[j] = p[j];
    }
    return rc;
}

int strata__rfm_bin(const double *v, int64_t n, int q, int ties, const double *cuts, int reverse,
                    int threads, const strata__kernels *kern, uint8_t *score, double *edges,
                    int64_t *nbins)
{
    local_sel l = {threads, kern};
    strata__rfm_selector sel = {.n = n, .offset = 0, .select = local_select, .sum = NULL,
                                .ctx = &l};
    return strata__rfm_bin_part(&sel, v, n, q, ties, cuts, reverse, threads, kern, score, edges,
                                nbins);
}

int strata__rfm_bin_part(const strata__rfm_selector *sel, const double *v, int64_t nloc, int q,
                         int ties, const double *cuts, int reverse, int threads,
                         const strata__kernels *kern, uint8_t *score, double *edges,
                         int64_t *nbins)
{
    double key_v[STRATA__RFM_MAX_BINS], uniq[STRATA__RFM_MAX_BINS + 1];
    int64_t key_i[STRATA__RFM_MAX_BINS + 1];
    const int64_t n = sel->n;
    binner b = {.kern = kern, .v = v, .score = score, .offset = sel->offset};
    int base = 0; /* bin = max(count, base) - base */
    int rc;
    if (ties == STRATA_RFM_TIES_RANK) {
        if ((rc = rank_thresholds(sel, v, nloc, q, key_v, key_i, edges)))
            return rc;
        b.kv = key_v;
        b.m = q - 1;
    } else {
        if (ties == STRATA_RFM_TIES_VALUE) {
            if ((rc = value_edges(sel, v, nloc, q, edges, uniq, &b.m)))
                return rc;
            /* pandas: searchsorted(uniq, x, side="left"), the lowest edge in bin 0 */
            b.kv = uniq;
            base = 1;
        } else {
            int64_t ranks[2] = {0, n - 1};
            double val[2];
            if ((rc = sel->select(sel->ctx, v, nloc, ranks, 2, val, NULL)))
                return rc;
            edges[0] = val[0];
            memcpy(edges + 1, cuts, (size_t)(q - 1) * sizeof *cuts);
            edges[q] = val[1];
            b.kv = cuts;
            b.m = q - 1;
        }
        for (int64_t j = 0; j < b.m; j++)
            key_i[j] = INT64_MAX;
    }
    b.ki = key_i;
    /* score = bin + 1, or q - bin with reverse; bin = max(c - base, 0) */
    b.map = (strata__rank_map){.base = base, .add = reverse ? q : 1, .step = reverse ? -1 : 1};
    /* below[j]: values above key j, so the count c = j + 1 .. m */
    double below[STRATA__RANK_KEYS_MAX] = {0};
    rc = strata__parallel_chunks(nloc, BIN_CHUNK, threads, (int)b.m, below, bin_chunk, &b);
    if (sel->sum && b.m > 0) /* collective: called whatever this part's status */
        rc = sel->sum(sel->ctx, below, b.m, rc);
    if (rc)
        return rc;
    /* N(count >= c) is n for c = 0 and below[c - 1] for c = 1..m: bin 0
     * holds the counts up to base, bin c - base the count c above it */
    *nbins = (double)n - (base < b.m ? below[base] : 0.0) > 0;
    for (int64_t c = base + 1; c <= b.m; c++)
        *nbins += below[c - 1] - (c < b.m ? below[c] : 0.0) > 0;
    return 0;
}
