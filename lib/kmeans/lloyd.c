/* Lloyd iterations with scikit-learn's stopping rule, n_init restarts, and
 * deterministic re-seeding of empty clusters. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/mem.h"
#include "core/status.h"
#include "kmeans/assign.h"
#include "kmeans/gaps.h"
#include "kmeans/hamerly.h"
#include "kmeans/kmeans.h"
#include "kmeans/minibatch.h"
#include "kmeans/near.h"
#include "kmeans/yinyang.h"

void strata__kmeans_model_free(strata__kmeans_model *m)
{
    strata__free(m->centroids);
    strata__free(m->labels);
    memset(m, 0, sizeof *m);
}

static double weight(const strata__data *X, int64_t i)
{
    return X->w ? X->w[i] : 1.0;
}

static double dist2_to(const strata__data *X, int64_t i, const double *c)
{
    double s = 0.0;
    for (int64_t f = 0; f < X->d; f++) {
        double t = strata__at(X, i, f) - c[f];
        s += t * t;
    }
    return s;
}

/* A candidate for relocation, as processes exchange it: row, squared
 * distance, label, then its d values. */
#define FAR_HEAD 3

/* Distributed relocation: each process found its own e <= n_empty farthest
 * rows (far, fard, farv; *m of them); all exchange them (one all-gather of
 * n_empty records each) and keep the n_empty farthest of all in the same
 * order (distance descending, then row ascending) as one process's walk,
 * with their labels in *farl (allocated). */
static int merge_far(const strata__dist *dist, const int32_t *labels, int64_t n_empty, int64_t d,
                     int64_t *m, int64_t *far, double *fard, double *farv, int32_t **farl, int rc,
                     char *msg)
{
    const int P = dist->size;
    const int64_t rec = FAR_HEAD + d, mine_len = n_empty * rec;
    double *mine = strata__alloc((size_t)mine_len, sizeof(double));
    double *all = strata__alloc((size_t)P, (size_t)mine_len * sizeof(double));
    int64_t *bytes = strata__alloc((size_t)P, sizeof(int64_t));
    *farl = strata__alloc((size_t)n_empty, sizeof(int32_t));
    if ((!mine || !all || !bytes || !*farl) && !rc)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory relocating empty clusters");
    for (int64_t e = 0; !rc && e < n_empty; e++) { /* row -1: no candidate */
        double *r = mine + e * rec;
        r[0] = e < *m ? (double)far[e] : -1.0; /* rows < 2^53: exact */
        r[1] = e < *m ? fard[e] : 0.0;
        r[2] = e < *m ? (double)labels[far[e]] : 0.0;
        for (int64_t f = 0; f < d; f++)
            r[FAR_HEAD + f] = e < *m ? farv[e * d + f] : 0.0;
    }
    for (int r = 0; !rc && r < P; r++)
        bytes[r] = mine_len * (int64_t)sizeof(double);
    if ((rc = dist->allgather(dist, mine, bytes, all, rc, msg))) /* only agrees when rc */
        goto out;
    /* insertion of every candidate into the n_empty best, as the walk does */
    *m = 0;
    for (int64_t c = 0; c < P * n_empty; c++) {
        const double *r = all + c * rec;
        if (r[0] < 0.0)
            continue;
        const int64_t i = (int64_t)r[0];
        const double dd = r[1];
        int64_t p = *m;
        while (p > 0 && (dd > fard[p - 1] || (dd == fard[p - 1] && i < far[p - 1])))
            p--;
        if (p >= n_empty)
            continue;
        const int64_t last = *m < n_empty ? (*m)++ : n_empty - 1;
        for (int64_t q = last; q > p; q--) {
            far[q] = far[q - 1];
            fard[q] = fard[q - 1];
            (*farl)[q] = (*farl)[q - 1];
            memcpy(farv + q * d, farv + (q - 1) * d, (size_t)d * sizeof(double));
        }
        far[p] = i;
        fard[p] = dd;
        (*farl)[p] = (int32_t)r[2];
        memcpy(farv + p * d, r + FAR_HEAD, (size_t)d * sizeof(double));
    }
out:
    strata__free(mine);
    strata__free(all);
    strata__free(bytes);
    return rc;
}

/* Give each empty cluster one of the rows farthest from their own centroid
 * (largest first, ties to the lower row), moving that row's weighted values
 * out of its cluster's sums, as scikit-learn does. Labels are not changed:
 * the next assignment settles them. Runs only when a cluster is empty: one
 * serial walk over the rows that keeps the candidates' values (no random
 * read of a stream afterwards). */
static int relocate_empty(const strata__rowsrc *src, const int32_t *labels, const double *c_old,
                          int64_t k, double *sums, double *wsum, char *msg)
{
    const int64_t d = src->mem.d;
    int64_t n_empty = 0;
    for (int64_t j = 0; j < k; j++)
        n_empty += !(wsum[j] > 0.0);
    if (n_empty == 0)
        return STRATA_OK;
    int64_t *far = strata__alloc((size_t)n_empty, sizeof(int64_t));
    double *fard = strata__alloc((size_t)n_empty, sizeof(double));
    double *farv = strata__alloc((size_t)n_empty, (size_t)d * sizeof(double));
    int32_t *farl = NULL; /* distributed: the candidates' labels */
    strata__rowsrc_walk *wk = NULL;
    int rc = STRATA_OK, more = 1;
    int64_t m = 0; /* sorted by distance descending, then row ascending */
    if (!far || !fard || !farv) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory relocating empty clusters");
    } else {
        rc = strata__rowsrc_walk_open(&wk, src, msg);
    }
    while (!rc) {
        strata__data V;
        const strata__data *X = &V;
        if ((rc = strata__rowsrc_walk_next(wk, &V, &more, msg)) || !more)
            break;
        for (int64_t i = X->row0; i < X->n; i++) {
            if (!(weight(X, i) > 0.0))
                continue;
            double dd = dist2_to(X, i, c_old + (int64_t)labels[i] * d);
            if (m == n_empty && !(dd > fard[m - 1]))
                continue;
            int64_t p = m < n_empty ? m++ : m - 1;
            while (p > 0 && dd > fard[p - 1]) {
                far[p] = far[p - 1];
                fard[p] = fard[p - 1];
                memcpy(farv + p * d, farv + (p - 1) * d, (size_t)d * sizeof(double));
                p--;
            }
            far[p] = i;
            fard[p] = dd;
            for (int64_t f = 0; f < d; f++)
                farv[p * d + f] = strata__at(X, i, f);
        }
    }
    if (src->dist) { /* every process's candidates: the farthest of all */
        if ((rc = merge_far(src->dist, labels, n_empty, d, &m, far, fard, farv, &farl, rc, msg)))
            goto done;
    }
    if (rc)
        goto done;
    for (int64_t j = 0, e = 0; j < k && e < m; j++) {
        if (wsum[j] > 0.0)
            continue;
        const double *v = farv + e * d;
        int64_t old = farl ? farl[e] : labels[far[e]];
        int64_t i = far[e++];
        double w = src->mem.w ? src->mem.w[i] : 1.0;
        for (int64_t f = 0; f < d; f++) {
            double wv = v[f] * w;
            sums[old * d + f] -= wv;
            sums[j * d + f] = wv;
        }
        wsum[j] = w;
        wsum[old] -= w;
    }
done:
    strata__rowsrc_walk_close(wk);
    strata__free(far);
    strata__free(fard);
    strata__free(farv);
    strata__free(farl);
    return rc;
}

/* Inertia of centroids c for labels whose per-cluster sums and weights are
 * S and W, without a pass over the rows: with m the centring mean and primes
 * for centred values, sum_{i in j} w_i ||x_i - c_j||^2
 *   = sum_{i in j} w_i ||x'_i||^2 - 2 c'_j . S'_j + W_j ||c'_j||^2,
 * S'_j = S_j - W_j m. The first sum, added over all clusters, is the label-
 * independent constant q (pass q = 0 to get the rest). */
static double inertia_from_sums(const double *c, const double *sums, const double *wsum,
                                const double *m, int64_t k, int64_t d, double q)
{
    double in = q;
    for (int64_t j = 0; j < k; j++)
        for (int64_t f = 0; f < d; f++) {
            double cp = c[j * d + f] - m[f];
            double sp = sums[j * d + f] - wsum[j] * m[f];
            in += cp * (wsum[j] * cp - 2.0 * sp);
        }
    return in;
}

/* Whether inertia_from_sums() is accurate to 1e-9 relative for these data.
 * Its error comes from the raw sums S_j: n_j values near |m_f| + |c'_jf| lose
 * up to n_j ulps, and 2 c'_j . S'_j carries that loss. The bound
 * 2 eps W sum_f (|m_f| + C_f) C_f, with C_f = max_j |c'_jf|, is checked
 * against the exact inertia of the first pass. Large offsets relative to
 * the spread (timestamps in seconds, say) fail it: such fits sum the
 * inertia row by row in every pass. */
static int sums_inertia_accurate(const double *c, const double *wsum, const double *m, int64_t k,
                                 int64_t d, double inertia)
{
    double wtot = 0.0, bound = 0.0;
    for (int64_t j = 0; j < k; j++)
        wtot += wsum[j];
    for (int64_t f = 0; f < d; f++) {
        double cmax = 0.0;
        for (int64_t j = 0; j < k; j++)
            cmax = fmax(cmax, fabs(c[j * d + f] - m[f]));
        bound += (fabs(m[f]) + cmax) * cmax;
    }
    bound *= 2.0 * 0x1p-52 * wtot;
    return bound <= 1e-9 * inertia;
}

/* The bounds of the run, if it keeps any (one of the three, or none). */
typedef struct bounded {
    strata__hamerly *h;
    strata__yinyang *y;
    strata__gaps *g; /* streamed */
    strata__near *s; /* streamed Lloyd: no bounds, the half test */
} bounded;

/* One labelling pass: Lloyd's, or Hamerly's or Yinyang's where b has them
 * (the same labels and totals, bitwise; a pass that keeps the labels needs
 * no bounds). */
static int pass(const strata__tables *t, const bounded *b, const strata__rowsrc *src,
                int32_t *labels, double *totals, int mode, char *msg)
{
    if (b->g && mode != STRATA__PASS_INERTIA)
        return strata__gaps_pass_src(b->g, t, src, labels, totals, mode, msg);
    if (b->s && mode != STRATA__PASS_INERTIA)
        return strata__near_pass_src(b->s, t, src, labels, totals, mode, msg);
    /* Hamerly's and Yinyang's bounds exist only for in-memory sources: a
     * matrix, or a distributed source's rows (each rank keeps its rows') */
    if (src->dist && mode != STRATA__PASS_INERTIA && (b->h || b->y))
        return b->h ? strata__hamerly_pass_src(b->h, t, src, labels, totals, mode, msg)
                    : strata__yinyang_pass_src(b->y, t, src, labels, totals, mode, msg);
    if (b->h && mode != STRATA__PASS_INERTIA && strata__hamerly_pass(b->h, t, &src->mem, labels,
                                                                     totals, mode))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory in the assignment pass");
    if (b->y && mode != STRATA__PASS_INERTIA && strata__yinyang_pass(b->y, t, &src->mem, labels,
                                                                     totals, mode))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory in the assignment pass");
    if ((b->h || b->y) && mode != STRATA__PASS_INERTIA)
        return STRATA_OK;
    return strata__assign_pass_src(t, src, labels, totals, mode, msg);
}

typedef struct run_result {
    double inertia;
    int64_t n_iter;
    int converged;
} run_result;

/* One Lloyd run from the centroids in c (k x d, updated in place); labels
 * receive the final assignment. run_sums (k x d + 3k) holds the cluster sums,
 * weights and moved weights carried from pass to pass, and the last pass's
 * moved weights. */
static int lloyd_run(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, strata__tables *t,
                     const bounded *h, double tol_abs, int64_t run, double *c, double *c_new, double *totals,
                     double *run_sums, int32_t *labels, run_result *res, char *msg)
{
    const int64_t n = src->mem.n, d = src->mem.d, k = cfg->k;
    int strict = 0, converged = 0, by_sums = 0, full = 1, rc;
    double *sums = run_sums, *wsum = run_sums + k * d, *moved = wsum + k, *last = moved + k;
    double inertia = 0.0, q = 0.0;
    int64_t it = 0;
    /* distributed: this process's rows only (the others' labels are theirs) */
    for (int64_t i = src->dist ? src->lo : 0; i < (src->dist ? src->hi : n); i++)
        labels[i] = -1;
    if (h->h)
        strata__hamerly_reset(h->h);
    if (h->y)
        strata__yinyang_reset(h->y);
    if (h->g)
        strata__gaps_reset(h->g);
    if (h->s)
        strata__near_reset(h->s);
    while (it < cfg->max_iter) {
        it++;
        strata__tables_set_centroids(t, c);
        /* The first pass sums the inertia row by row, and from it the
         * constant q of inertia_from_sums(); where that is accurate, later
         * passes need only the sums (a third less work at small k). */
        /* Once the inertia comes from the sums, a pass moves only the rows
         * that change cluster between the sums carried over (DELTA). The sums
         * are summed afresh from the labels (a sums-only pass, before they
         * are used) where a cluster's sums have taken more moved weight than
         * the cluster holds: their rounding could then exceed a fresh sum's,
         * and an emptied cluster must have exactly zero weight. After a
         * relocation the next pass is a full one. Each choice depends on the
         * labels only, so every thread count and algorithm makes it alike. */
        const int mode = !by_sums ? STRATA__PASS_UPDATE_INERTIA
                         : full   ? STRATA__PASS_UPDATE
                                  : STRATA__PASS_DELTA;
        if ((rc = pass(t, h, src, labels, totals, mode, msg)))
            return rc;
        memcpy(last, totals + k * d + k + 2, (size_t)k * sizeof(double));
        int fresh = mode != STRATA__PASS_DELTA;
        if (!fresh) {
            for (int64_t i = 0; i < k * d; i++)
                sums[i] += totals[i];
            for (int64_t j = 0; j < k; j++) {
                wsum[j] += totals[k * d + j];
                moved[j] += totals[k * d + k + 2 + j];
                fresh |= moved[j] > wsum[j];
            }
            if (fresh) {
                const double changed_rows = totals[k * d + k + 1];
                if ((rc = pass(t, h, src, labels, totals, STRATA__PASS_INERTIA, msg)))
                    return rc;
                totals[k * d + k + 1] = changed_rows;
            }
        }
        if (fresh) {
            memcpy(run_sums, totals, (size_t)(k * d + k) * sizeof(double));
            memset(moved, 0, (size_t)k * sizeof(double));
        }
        full = 0;
        for (int64_t j = 0; j < k; j++)
            full |= !(wsum[j] > 0.0); /* relocate_empty() below moves a row */
        if (by_sums) {
            inertia = fmax(0.0, inertia_from_sums(c, sums, wsum, t->mean_used, k, d, q));
        } else {
            inertia = totals[k * d + k];
            if (it == 1 && sums_inertia_accurate(c, wsum, t->mean_used, k, d, inertia)) {
                q = inertia - inertia_from_sums(c, sums, wsum, t->mean_used, k, d, 0.0);
                by_sums = 1;
            }
        }
        double changed = totals[k * d + k + 1];
        /* Where the next pass, moving as much weight as this one did, would
         * leave a cluster's sums to be summed afresh after it (a second pass
         * over the rows, a second read of the file when streamed), it sums
         * afresh instead (UPDATE: one pass). After the first pass, which
         * labels every row, the next sums afresh too: early passes move
         * most rows. */
        full |= it == 1;
        for (int64_t j = 0; j < k; j++)
            full |= moved[j] + last[j] > wsum[j];
        if (cfg->progress && cfg->progress(cfg->user, run, it, inertia))
            return strata__fail(msg, STRATA_E_CANCELLED,
                                "fit cancelled by the progress callback at run %lld, iteration %lld",
                                (long long)run, (long long)it);
        if ((rc = relocate_empty(src, labels, c, k, sums, wsum, msg)))
            return rc;
        double shift = 0.0;
        for (int64_t j = 0; j < k; j++) {
            for (int64_t f = 0; f < d; f++) {
                double v = wsum[j] > 0.0 ? sums[j * d + f] / wsum[j] : c[j * d + f];
                double s = v - c[j * d + f];
                shift += s * s;
                c_new[j * d + f] = v;
            }
        }
        memcpy(c, c_new, (size_t)(k * d) * sizeof(double));
        if (changed == 0.0) {
            strict = converged = 1;
            break;
        }
        if (shift <= tol_abs) {
            converged = 1;
            break;
        }
    }
    /* Labels and inertia must describe the final centroids; the inertia
     * reported is always summed row by row. */
    strata__tables_set_centroids(t, c);
    if ((rc = pass(t, h, src, labels, totals,
                   strict ? STRATA__PASS_INERTIA : STRATA__PASS_UPDATE_INERTIA, msg)))
        return rc;
    inertia = totals[k * d + k];
    res->inertia = inertia;
    res->n_iter = it;
    res->converged = converged;
    return STRATA_OK;
}

/* What a distributed fit cannot run yet: STRATA_E_UNSUPPORTED (a refusal,
 * never another algorithm than asked for), or STRATA_OK. */
static int distributed_refusal(const strata__kmeans_cfg *cfg, char *msg)
{
    if (cfg->algorithm == STRATA_ALGO_MINIBATCH)
        return strata__fail(msg, STRATA_E_UNSUPPORTED,
                            "algorithm minibatch is not distributed yet: a distributed fit runs "
                            "lloyd, hamerly or yinyang");
    if (cfg->init == STRATA_INIT_KMEANS_PARALLEL || cfg->init == STRATA_INIT_AFKMC2)
        return strata__fail(msg, STRATA_E_UNSUPPORTED,
                            "init %s is not distributed yet: a distributed fit seeds with "
                            "k-means++, random rows or given centroids",
                            cfg->init == STRATA_INIT_AFKMC2 ? "afk-mc2" : "k-means||");
    return STRATA_OK;
}

/* A streamed Lloyd fit tests each row against its previous centroid first
 * (kmeans/near.h) unless STRATA_STREAM_NEAR=0 (benchmarks compare). */
static int near_wanted(void)
{
    const char *env = getenv("STRATA_STREAM_NEAR");
    return !env || strcmp(env, "0") != 0;
}

/* What a streamed fit runs: mini-batch when asked; Hamerly with one gap a
 * row (kmeans/gaps.h) when asked and the budget holds the gaps (gaps);
 * else Lloyd (Hamerly's and Yinyang's bits are Lloyd's; Yinyang's bounds
 * would cost more memory a row). AUTO is Lloyd: on the streamed benchmark
 * the gaps' early passes, where most rows fail, cost more than their late
 * ones save (docs/performance.md, "Zen 5, session 12"). */
static int streamed_algorithm(int requested, int gaps)
{
    if (requested == STRATA_ALGO_MINIBATCH)
        return STRATA_ALGO_MINIBATCH;
    return gaps && requested == STRATA_ALGO_HAMERLY ? STRATA_ALGO_HAMERLY : STRATA_ALGO_LLOYD;
}

int64_t strata__kmeans_bytes_per_row(const strata__kmeans_cfg *cfg, int dtype, int64_t n, int64_t d,
                                     int streamed)
{
    const int64_t es = dtype == STRATA_FLOAT32 ? 4 : 8;
    int64_t b = 4; /* labels */
    int algorithm = streamed ? streamed_algorithm(cfg->algorithm, cfg->stream_gaps)
                             : strata__algorithm_choose(cfg->algorithm, dtype, cfg->kern->id, n,
                                                        cfg->k, d);
    if (cfg->n_init > 1 && cfg->init != STRATA_INIT_CENTROIDS && algorithm != STRATA_ALGO_MINIBATCH)
        b += 4; /* the best run's labels */
    /* mini-batch seeds on subsets of a few batches: no state per row */
    switch (algorithm == STRATA_ALGO_MINIBATCH ? STRATA_INIT_CENTROIDS : cfg->init) {
    case STRATA_INIT_KMEANSPP: b += dtype == STRATA_FLOAT32 ? 0 : 8; break;
    case STRATA_INIT_KMEANS_PARALLEL: b += 9; break;
    case STRATA_INIT_AFKMC2: b += 8; break;
    case STRATA_INIT_RANDOM: b += 1; break; /* a bit, and row indices with weights */
    default: break;
    }
    if (algorithm == STRATA_ALGO_HAMERLY)
        b += streamed ? STRATA__GAP_BYTES : 2 * es;
    else if (algorithm == STRATA_ALGO_YINYANG)
        b += es * (2 + strata__yinyang_groups(cfg->k, dtype == STRATA_FLOAT32 ? cfg->kern->lanes_f32
                                                                               : cfg->kern->lanes_f64,
                                              NULL));
    return b;
}

int strata__kmeans_fit(const strata__data *X, const strata__kmeans_cfg *cfg,
                       strata__kmeans_model *out, char *msg)
{
    const strata__rowsrc src = strata__rowsrc_of(X);
    return strata__kmeans_fit_src(&src, cfg, out, msg);
}

static int fit_src(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                   strata__kmeans_model *out, char *msg);

int strata__kmeans_fit_src(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                           strata__kmeans_model *out, char *msg)
{
    if (!strata__rowsrc_streamed(src) || src->bufs)
        return fit_src(src, cfg, out, msg);
    /* one pair of block buffers for all the fit's passes (core/rowsrc.h) */
    strata__rowsrc kept_src = *src;
    strata__rowsrc_bufs kept = {0};
    kept_src.bufs = &kept;
    int rc = fit_src(&kept_src, cfg, out, msg);
    strata__rowsrc_bufs_free(&kept);
    return rc;
}

static int fit_src(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                   strata__kmeans_model *out, char *msg)
{
    const strata__data *X = &src->mem; /* in memory: the rows; streamed: n, d, dtype, w */
    const int64_t n = X->n, d = X->d, k = cfg->k;
    const int streamed = strata__rowsrc_streamed(src);
    strata__rowsrc wide_src;
    int rc;
    double *mean = strata__alloc((size_t)d, sizeof(double));
    double *c = strata__alloc((size_t)(k * d), sizeof(double));
    double *c_new = strata__alloc((size_t)(k * d), sizeof(double));
    double *best_c = strata__alloc((size_t)(k * d), sizeof(double));
    int32_t *labels = strata__alloc((size_t)n, sizeof(int32_t));
    /* Lloyd's restarts keep the best run's labels; mini-batch labels once. */
    const int keep_labels = cfg->n_init > 1 && cfg->algorithm != STRATA_ALGO_MINIBATCH;
    int32_t *best_labels = keep_labels ? strata__alloc((size_t)n, sizeof(int32_t)) : NULL;
    double *totals = NULL, *run_sums = NULL, *wide_buf = NULL;
    strata__data wide;
    strata__tables t = {0};
    strata__hamerly hb = {0};
    strata__yinyang yb = {0};
    strata__gaps gb = {0};
    strata__near nb = {0};
    bounded h = {NULL, NULL, NULL, NULL};
    int assign = STRATA_ASSIGN_FUSED;
    /* Streamed: streamed_algorithm()'s choice (the labels and totals are
     * Lloyd's, bitwise, whichever), reported as the algorithm run. */
    /* Distributed with each rank's rows in memory: the bounded algorithms
     * too (each rank bounds its rows). */
    const int rows_here = !streamed || (src->dist && src->local);
    int algorithm = !rows_here ? streamed_algorithm(cfg->algorithm, cfg->stream_gaps && !src->dist)
                               : strata__algorithm_choose(cfg->algorithm, X->dtype, cfg->kern->id,
                                                          n, k, d);
    if (src->dist && (rc = distributed_refusal(cfg, msg)))
        goto done; /* the same on every process */
    if (!mean || !c || !c_new || !best_c || !labels || (keep_labels && !best_labels))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld x %lld data, k = %lld",
                          (long long)n, (long long)d, (long long)k);
    if (src->dist) /* a process's own failure, before the first exchange */
        rc = src->dist->agree(src->dist, rc, msg);
    if (rc)
        goto done;
    strata__data_stats st = {mean, 0.0, 0.0};
    if ((rc = strata__data_check(src, cfg->threads, &st, msg)))
        goto done;
    /* Squared distances that would overflow the data's type: float32 data
     * are fitted in double (a copy), float64 data are refused; given
     * centroids count too. The total squared deviation scales the stopping
     * rule: it must be finite. */
    int work;
    if ((rc = strata__distance_dtype(src, &st, cfg->init == STRATA_INIT_CENTROIDS ?
                                     cfg->init_centroids : NULL,
                                     cfg->init == STRATA_INIT_CENTROIDS ? k : 0, cfg->threads,
                                     &work, msg)))
        goto done;
    if (!isfinite(st.sq_dev)) {
        rc = strata__fail(msg, STRATA_E_NONFINITE,
                          "the squared deviations of the %lld x %lld data from their mean sum "
                          "beyond the double range (%g); rescale the data first", (long long)n,
                          (long long)d, DBL_MAX);
        goto done;
    }
    if (work != X->dtype) {
        if (streamed) { /* the stream delivers float64 rows: the copy's values */
            wide_src = *src;
            wide_src.mem.dtype = STRATA_FLOAT64;
        } else {
            if ((rc = strata__data_widen(X, cfg->threads, &wide, &wide_buf, msg)))
                goto done;
            wide_src = strata__rowsrc_of(&wide);
        }
        src = &wide_src;
        X = &src->mem;
    }
    if (!cfg->allow_too_few) {
        int64_t distinct;
        if ((rc = strata__count_distinct(src, k, &distinct, msg)))
            goto done;
        if (distinct < k) {
            rc = strata__fail(msg, STRATA_E_TOO_FEW,
                              "only %lld distinct rows%s for k = %lld clusters", (long long)distinct,
                              X->w ? " with weight > 0" : "", (long long)k);
            goto done;
        }
    }
    if ((rc = strata__assign_resolve(cfg, k, d, &assign, msg))) {
    } else if ((rc = strata__tables_init(&t, X, k, mean, cfg->kern, assign, cfg->threads))) {
        rc = strata__fail(msg, rc, "out of memory for centroid tables");
    } else {
        totals = strata__alloc((size_t)strata__pass_len(&t), sizeof(double));
        run_sums = strata__alloc((size_t)(k * d + 3 * k), sizeof(double));
        if (!totals || !run_sums)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    }
    if (src->dist) /* the same choices and tables on every process, or a failure */
        rc = src->dist->agree(src->dist, rc, msg);
    if (rc)
        goto done;
    const double tol_abs = cfg->tol * st.mean_var;
    run_result best = {INFINITY, 0, 0};
    int64_t runs = cfg->init == STRATA_INIT_CENTROIDS ? 1 : cfg->n_init;
    if (algorithm == STRATA_ALGO_MINIBATCH) { /* its n_init runs only seed */
        strata__minibatch_result mb;
        if ((rc = strata__minibatch_fit(src, cfg, &t, mean, tol_abs, best_c, labels, totals, &mb,
                                        msg)))
            goto done;
        best = (run_result){mb.inertia, mb.steps, mb.converged};
        runs = 0;
    }
    for (int64_t run = 0; run < runs; run++) {
        run_result r = {INFINITY, 0, 0};
        /* Hamerly's bounds exist only while a run iterates, so they never
         * overlap a seeding's scratch; the seeding may use this run's labels
         * as scratch (lloyd_run sets them before reading them). */
        strata__hamerly_free(&hb);
        strata__yinyang_free(&yb);
        strata__gaps_free(&gb);
        h = (bounded){NULL, NULL, NULL, NULL};
        if ((rc = strata__kmeans_init(src, cfg, run, mean, c, labels, msg)))
            goto done;
        if (algorithm == STRATA_ALGO_HAMERLY && !rows_here) { /* streamed: the gaps */
            if (strata__gaps_init(&gb, &t, n)) {
                rc = strata__fail(msg, STRATA_E_NOMEM,
                                  "out of memory for the streamed fit's gaps (%lld rows, %d "
                                  "bytes each)", (long long)n, STRATA__GAP_BYTES);
                goto done;
            }
            h.g = &gb;
        } else if (algorithm == STRATA_ALGO_HAMERLY) {
            if (strata__hamerly_init(&hb, &t, n))
                rc = strata__fail(msg, STRATA_E_NOMEM,
                                  "out of memory for Hamerly's bounds (%lld rows, %d bytes each)",
                                  (long long)n, X->dtype == STRATA_FLOAT32 ? 8 : 16);
            if (src->dist) /* a rank's own failure, agreed before the next exchange */
                rc = src->dist->agree(src->dist, rc, msg);
            if (rc)
                goto done;
            h.h = &hb;
        }
        if (algorithm == STRATA_ALGO_YINYANG) {
            int yrc = strata__yinyang_init(&yb, &t, n);
            if (src->dist) /* a rank's own failure, agreed before the next exchange */
                yrc = src->dist->agree(src->dist, yrc ? STRATA_E_NOMEM : STRATA_OK, msg);
            if (yrc) {
                const int es = t.dtype == STRATA_FLOAT32 ? 4 : 8;
                rc = strata__fail(msg, STRATA_E_NOMEM,
                                  "out of memory for Yinyang's bounds (%lld rows, %lld bytes each)",
                                  (long long)n,
                                  (long long)(es * (2 + strata__yinyang_groups(
                                                             k, t.dtype == STRATA_FLOAT32
                                                                    ? t.kern->lanes_f32
                                                                    : t.kern->lanes_f64,
                                                             NULL))));
                goto done;
            }
            h.y = &yb;
        }
        /* only with fused tables (kmeans/near.c: GEMM's bits depend on the block) */
        if (algorithm == STRATA_ALGO_LLOYD && !rows_here && !src->dist &&
            t.assign == STRATA_ASSIGN_FUSED && near_wanted()) {
            if (!nb.c && strata__near_init(&nb, &t)) {
                rc = strata__fail(msg, STRATA_E_NOMEM,
                                  "out of memory for the streamed passes' centroid tables");
                goto done;
            }
            h.s = &nb;
        }
        if ((rc = lloyd_run(src, cfg, &t, &h, tol_abs, run, c, c_new, totals, run_sums, labels, &r,
                            msg)))
            goto done;
        if (run == 0 || r.inertia < best.inertia) {
            best = r;
            memcpy(best_c, c, (size_t)(k * d) * sizeof(double));
            if (best_labels) {
                int32_t *tmp = best_labels;
                best_labels = labels;
                labels = tmp;
            }
        }
    }
    /* Last guard: with huge sample weights the weighted sums (centroids,
     * inertia) can still overflow; such a fit is an error, never a result. */
    int finite = isfinite(best.inertia);
    for (int64_t j = 0; j < k * d; j++)
        finite &= isfinite(best_c[j]) != 0;
    if (!finite) {
        rc = strata__fail(msg, STRATA_E_NONFINITE,
                          "the fit overflowed the double range (%s not finite): the data "
                          "or sample weights are too large; rescale them first",
                          isfinite(best.inertia) ? "centroids" : "inertia");
        goto done;
    }
    out->n = n;
    out->d = d;
    out->k = k;
    out->centroids = best_c;
    out->labels = best_labels ? best_labels : labels;
    out->inertia = best.inertia;
    out->n_iter = best.n_iter;
    out->converged = best.converged;
    out->assign = assign;
    out->algorithm = algorithm;
    /* distributed with the rows in memory: nothing was streamed */
    out->streamed = streamed && !(src->dist && src->local);
    best_c = NULL;
    if (best_labels)
        best_labels = NULL;
    else
        labels = NULL;
    rc = STRATA_OK;
done:
    strata__hamerly_free(&hb);
    strata__yinyang_free(&yb);
    strata__gaps_free(&gb);
    strata__near_free(&nb);
    strata__tables_free(&t);
    strata__free(totals);
    strata__free(run_sums);
    strata__free(wide_buf);
    strata__free(mean);
    strata__free(c);
    strata__free(c_new);
    strata__free(best_c);
    strata__free(labels);
    strata__free(best_labels);
    return rc;
}
