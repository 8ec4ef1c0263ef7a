/* Mini-batch k-means (Sculley 2010), following scikit-learn 1.2's
 * MiniBatchKMeans (sklearn/cluster/_kmeans.py) step for step:
 *   - n_init initialisations, each by the usual seeding (init.c) on its own
 *     random subset of init_size rows (drawn with replacement), scored by
 *     their inertia on one more random subset of init_size rows; the lowest
 *     is kept (the earliest on ties);
 *   - at most max_iter * n / batch_size steps; each draws batch_size rows
 *     with replacement, labels them (the assignment pass of assign.c), and
 *     moves each centroid to the weighted mean of everything it has been
 *     given so far: c <- (c * count + S) / (count + W), count += W, so the
 *     per-centre counts act as learning rates;
 *   - random reassignment of centres whose count falls below
 *     reassignment_ratio x the largest, checked when a centre is empty or
 *     after every 10 k rows seen;
 *   - early stopping: the squared centroid change of a step <= tol x the mean
 *     feature variance (when tol > 0), or max_no_improvement steps without a
 *     new minimum of the exponentially weighted average of the batch inertia
 *     per row (the first step is not counted);
 *   - labels and inertia of the full data from one exact pass at the end.
 * Every random draw comes from the library's generator on streams of its
 * own, and every pass reduces in fixed chunks, so a seed gives the same
 * result for any thread count. A batch of up to STRATA__CHUNK_ROWS rows is
 * one chunk, labelled on one thread: a parallel region per step would cost
 * more than the step (and under load far more). */
#include "kmeans/minibatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"

/* Streams apart from init.c's (seed, run): validation rows, steps, and the
 * init subset of run r at MB_STREAM + 2 + r. */
#define MB_STREAM ((uint64_t)0x6d696e6962617463ull) /* "minibatc" */

/* Rows gathered from X: a contiguous matrix of X's element type. */
typedef struct sample {
    strata__data X;
    void *buf;
    double *w;
} sample;

static void sample_free(sample *s)
{
    strata__free(s->buf);
    strata__free(s->w);
    memset(s, 0, sizeof *s);
}

static int sample_alloc(sample *s, const strata__data *X, int64_t rows)
{
    memset(s, 0, sizeof *s);
    s->buf = strata__alloc((size_t)(rows * X->d), strata__dtype_size(X->dtype));
    s->w = X->w ? strata__alloc((size_t)rows, sizeof(double)) : NULL;
    s->X = (strata__data){X->dtype, s->buf, rows, X->d, X->d, s->w, 0};
    return s->buf && (!X->w || s->w) ? STRATA_OK : STRATA_E_NOMEM;
}

/* s->X.n rows of X drawn uniformly with replacement (scikit-learn's randint). */
static void sample_draw(sample *s, const strata__data *X, strata__rng *rng)
{
    const size_t row_bytes = (size_t)X->d * strata__dtype_size(X->dtype);
    for (int64_t j = 0; j < s->X.n; j++) {
        int64_t i = (int64_t)strata__rng_below(rng, (uint64_t)X->n);
        memcpy((char *)s->buf + (size_t)j * row_bytes, strata__row(X, i), row_bytes);
        if (s->w)
            s->w[j] = X->w[i];
    }
}

static double total_weight(const strata__data *X)
{
    if (!X->w)
        return (double)X->n;
    double s = 0.0;
    for (int64_t i = 0; i < X->n; i++)
        s += X->w[i];
    return s;
}

/* Labels every row of S for centroids c (k x d): totals as strata__assign_pass(). */
static int label_pass(strata__tables *t, const strata__data *S, const double *c, int32_t *labels,
                      double *totals, char *msg)
{
    strata__tables_set_centroids(t, c);
    if (strata__assign_pass(t, S, labels, totals, STRATA__PASS_UPDATE_INERTIA))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory in the assignment pass");
    return STRATA_OK;
}

typedef struct by_count {
    double count;
    int64_t j;
} by_count;

static int cmp_count(const void *a, const void *b)
{
    const by_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

/* Scratch of the reassignment. */
typedef struct reassign_buf {
    unsigned char *mark; /* k */
    by_count *order;     /* k */
    int64_t *perm;       /* batch rows */
} reassign_buf;

/* scikit-learn's random reassignment after a step on batch B: centres whose
 * count is below ratio x the largest (at most floor(B/2) of them, the
 * lowest counts first, ties to the lower index) move to distinct rows of the
 * batch drawn uniformly, given in increasing centre order; their counts
 * become the lowest count among the others. Where every centre would move
 * (ratio > 1), the one of largest count stays (scikit-learn fails there). */
static void reassign(const strata__data *B, double ratio, int64_t k, double *c, double *counts,
                     reassign_buf *rb, strata__rng *rng)
{
    const int64_t d = B->d;
    double cmax = counts[0];
    int64_t jmax = 0;
    for (int64_t j = 1; j < k; j++)
        if (counts[j] > cmax) {
            cmax = counts[j];
            jmax = j;
        }
    int64_t m = 0;
    for (int64_t j = 0; j < k; j++) {
        rb->mark[j] = counts[j] < ratio * cmax;
        m += rb->mark[j];
    }
    const int64_t half = B->n / 2;
    if (m > half) {
        int64_t q = 0;
        for (int64_t j = 0; j < k; j++)
            if (rb->mark[j])
                rb->order[q++] = (by_count){counts[j], j};
        qsort(rb->order, (size_t)q, sizeof *rb->order, cmp_count);
        for (int64_t p = half; p < q; p++)
            rb->mark[rb->order[p].j] = 0;
        m = half;
    }
    if (m == k) {
        rb->mark[jmax] = 0;
        m--;
    }
    if (m == 0)
        return;
    for (int64_t r = 0; r < B->n; r++)
        rb->perm[r] = r;
    double cmin = INFINITY;
    for (int64_t j = 0, p = 0; j < k; j++) {
        if (!rb->mark[j]) {
            cmin = fmin(cmin, counts[j]);
            continue;
        }
        /* partial Fisher-Yates: distinct rows */
        int64_t u = p + (int64_t)strata__rng_below(rng, (uint64_t)(B->n - p));
        int64_t r = rb->perm[u];
        rb->perm[u] = rb->perm[p];
        rb->perm[p++] = r;
        for (int64_t f = 0; f < d; f++)
            c[j * d + f] = strata__at(B, r, f);
    }
    for (int64_t j = 0; j < k; j++)
        if (rb->mark[j])
            counts[j] = cmin;
}

/* The starting centroids: the best of the runs' initialisations. */
static int initialise(const strata__data *X, const strata__kmeans_cfg *cfg, strata__tables *t,
                      const double *mean, int64_t init_size, double *c, double *cand,
                      double *totals, char *msg)
{
    const int64_t k = cfg->k, d = X->d;
    if (cfg->init == STRATA_INIT_CENTROIDS)
    {
        strata__rowsrc src = strata__rowsrc_of(X);
        return strata__kmeans_init(&src, cfg, 0, mean, c, NULL, msg);
    }
    /* The subsets may hold fewer distinct points than k even when X does not
     * (duplicates, rows drawn twice): repeated centres are left empty by the
     * first batch and reassigned. */
    strata__kmeans_cfg icfg = *cfg;
    icfg.allow_too_few = 1;
    const int subset = init_size < X->n;
    sample sub = {0}, valid = {0};
    int32_t *vlab = NULL;
    int rc = STRATA_OK;
    strata__rng rng;
    if (subset && sample_alloc(&sub, X, init_size))
        goto nomem;
    if (cfg->n_init > 1) {
        if (sample_alloc(&valid, X, init_size) ||
            !(vlab = strata__alloc((size_t)init_size, sizeof(int32_t))))
            goto nomem;
        strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM);
        sample_draw(&valid, X, &rng);
        memset(vlab, 0, (size_t)init_size * sizeof(int32_t));
    }
    double best = INFINITY;
    for (int64_t run = 0; run < cfg->n_init; run++) {
        const strata__data *S = X;
        if (subset) {
            strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM + 2 + (uint64_t)run);
            sample_draw(&sub, X, &rng);
            /* a subset of weight 0 only (rare weights) cannot seed: use X */
            if (total_weight(&sub.X) > 0.0)
                S = &sub.X;
        }
        double *dst = cfg->n_init > 1 ? cand : c;
        strata__rowsrc ssrc = strata__rowsrc_of(S);
        if ((rc = strata__kmeans_init(&ssrc, &icfg, run, mean, dst, NULL, msg)))
            goto done;
        if (cfg->n_init == 1)
            break;
        if ((rc = label_pass(t, &valid.X, dst, vlab, totals, msg)))
            goto done;
        double inertia = totals[k * d + k];
        if (run == 0 || inertia < best) {
            best = inertia;
            memcpy(c, dst, (size_t)(k * d) * sizeof(double));
        }
    }
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the mini-batch init subsets "
                      "(%lld rows)", (long long)init_size);
done:
    sample_free(&sub);
    sample_free(&valid);
    strata__free(vlab);
    return rc;
}

int strata__minibatch_fit(const strata__data *X, const strata__kmeans_cfg *cfg, strata__tables *t,
                          const double *mean, double tol_abs, double *c, int32_t *labels,
                          double *totals, strata__minibatch_result *res, char *msg)
{
    const int64_t n = X->n, d = X->d, k = cfg->k;
    const int64_t bs = cfg->batch_size < n ? cfg->batch_size : n;
    int64_t init_size = 3 * bs < k ? 3 * k : 3 * bs;
    if (init_size > n)
        init_size = n;
    /* max_iter epochs of n rows; max_iter <= 1e6, so no overflow below 9e12 rows */
    const int64_t n_steps = (int64_t)((__int128)cfg->max_iter * n / bs);
    sample batch = {0};
    reassign_buf rb = {0};
    double *c_new = strata__alloc((size_t)(k * d), sizeof(double));
    double *cand = strata__alloc((size_t)(k * d), sizeof(double));
    double *counts = strata__calloc((size_t)k, sizeof(double));
    int32_t *blab = strata__calloc((size_t)bs, sizeof(int32_t));
    rb.mark = strata__alloc((size_t)k, 1);
    rb.order = strata__alloc((size_t)k, sizeof(by_count));
    rb.perm = strata__alloc((size_t)bs, sizeof(int64_t));
    int rc = STRATA_OK;
    if (!c_new || !cand || !counts || !blab || !rb.mark || !rb.order || !rb.perm ||
        sample_alloc(&batch, X, bs)) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for mini-batches of %lld rows",
                          (long long)bs);
        goto done;
    }
    if ((rc = initialise(X, cfg, t, mean, init_size, c, cand, totals, msg)))
        goto done;

    strata__rng rng;
    strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM + 1);
    const double alpha = fmin(2.0 * (double)bs / ((double)n + 1.0), 1.0);
    double ewa = 0.0, ewa_min = 0.0;
    int have_ewa = 0, have_min = 0, converged = 0;
    int64_t no_improvement = 0, since_reassign = 0, step = 0;
    while (step < n_steps) {
        step++;
        sample_draw(&batch, X, &rng);
        int empty = 0;
        for (int64_t j = 0; j < k; j++)
            empty |= counts[j] == 0.0;
        since_reassign += bs;
        int reassign_now = empty || since_reassign >= 10 * k;
        if (reassign_now)
            since_reassign = 0;
        if ((rc = label_pass(t, &batch.X, c, blab, totals, msg)))
            goto done;
        const double *sums = totals, *wsum = totals + k * d;
        const double batch_inertia = totals[k * d + k];
        for (int64_t j = 0; j < k; j++) {
            if (!(wsum[j] > 0.0)) {
                memcpy(c_new + j * d, c + j * d, (size_t)d * sizeof(double));
                continue;
            }
            double total = counts[j] + wsum[j], scale = 1.0 / total;
            for (int64_t f = 0; f < d; f++)
                c_new[j * d + f] = (c[j * d + f] * counts[j] + sums[j * d + f]) * scale;
            counts[j] = total;
        }
        if (reassign_now && cfg->reassignment_ratio > 0.0)
            reassign(&batch.X, cfg->reassignment_ratio, k, c_new, counts, &rb, &rng);
        double shift = 0.0;
        if (tol_abs > 0.0)
            for (int64_t j = 0; j < k * d; j++) {
                double s = c_new[j] - c[j];
                shift += s * s;
            }
        memcpy(c, c_new, (size_t)(k * d) * sizeof(double));
        if (cfg->progress && cfg->progress(cfg->user, 0, step, batch_inertia)) {
            rc = strata__fail(msg, STRATA_E_CANCELLED,
                              "fit cancelled by the progress callback at mini-batch step %lld",
                              (long long)step);
            goto done;
        }
        /* Early stopping, as scikit-learn's _mini_batch_convergence: the
         * first step's inertia is that of the initialisation. */
        if (step == 1)
            continue;
        const double per_row = batch_inertia / (double)bs;
        ewa = have_ewa ? ewa * (1.0 - alpha) + per_row * alpha : per_row;
        have_ewa = 1;
        if (tol_abs > 0.0 && shift <= tol_abs) {
            converged = 1;
            break;
        }
        if (!have_min || ewa < ewa_min) {
            no_improvement = 0;
            ewa_min = ewa;
            have_min = 1;
        } else {
            no_improvement++;
        }
        if (cfg->max_no_improvement > 0 && no_improvement >= cfg->max_no_improvement) {
            converged = 1;
            break;
        }
    }
    /* Labels and inertia of the full data, exactly. */
    memset(labels, 0, (size_t)n * sizeof(int32_t));
    if ((rc = label_pass(t, X, c, labels, totals, msg)))
        goto done;
    res->inertia = totals[k * d + k];
    res->steps = step;
    res->converged = converged;
done:
    sample_free(&batch);
    strata__free(c_new);
    strata__free(cand);
    strata__free(counts);
    strata__free(blab);
    strata__free(rb.mark);
    strata__free(rb.order);
    strata__free(rb.perm);
    return rc;
}
