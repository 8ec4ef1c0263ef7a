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
 * more than the step (and under load far more).
 *
 * Which rows are drawn never depends on the data: the batches' rows come
 * from one stream, the reassignments' picks (whose count does depend on the
 * data) from another, and each init subset and the validation subset from
 * streams of their own. So the rows of a window of upcoming steps can be
 * drawn ahead and fetched together by strata__rowsrc_gather(): in memory the
 * window is one step; from a stream it is cfg->window_rows rows, ONE ordered
 * sweep of the source per window (the steps after an early stop are drawn
 * and dropped). The steps then run on the gathered rows exactly as in
 * memory, so a stream gives the in-memory bits for any block size, window
 * and thread count. */
#include "kmeans/minibatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"

/* Streams apart from init.c's (seed, run): validation rows, batch rows, the
 * init subset of run r at MB_STREAM + 2 + r, and the reassignments' picks. */
#define MB_STREAM ((uint64_t)0x6d696e6962617463ull) /* "minibatc" */
#define MB_REASSIGN_STREAM (MB_STREAM - 1)

/* Rows gathered from a source: a contiguous matrix of its element type, with
 * the rows' indices. */
typedef struct sample {
    strata__data X;
    void *buf;
    double *w;
    int64_t *idx;
} sample;

static void sample_free(sample *s)
{
    strata__free(s->buf);
    strata__free(s->w);
    strata__free(s->idx);
    memset(s, 0, sizeof *s);
}

/* Room for `rows` rows of X (n, d, dtype and weights of the source). */
static int sample_alloc(sample *s, const strata__data *X, int64_t rows)
{
    memset(s, 0, sizeof *s);
    s->buf = strata__alloc((size_t)(rows * X->d), strata__dtype_size(X->dtype));
    s->w = X->w ? strata__alloc((size_t)rows, sizeof(double)) : NULL;
    s->idx = strata__alloc((size_t)rows, sizeof(int64_t));
    s->X = (strata__data){X->dtype, s->buf, rows, X->d, X->d, s->w, 0, NULL};
    return s->buf && s->idx && (!X->w || s->w) ? STRATA_OK : STRATA_E_NOMEM;
}

/* m row indices of [0, n) drawn uniformly with replacement (scikit-learn's
 * randint). */
static void draw_indices(int64_t *idx, int64_t m, int64_t n, strata__rng *rng)
{
    for (int64_t j = 0; j < m; j++)
        idx[j] = (int64_t)strata__rng_below(rng, (uint64_t)n);
}

/* `rows` rows of src drawn into s (s->X.n becomes rows): the indices first,
 * then one gather. */
static int sample_draw(sample *s, const strata__rowsrc *src, int64_t rows, strata__rng *rng,
                       char *msg)
{
    draw_indices(s->idx, rows, src->mem.n, rng);
    s->X.n = rows;
    return strata__rowsrc_gather(src, s->idx, rows, s->buf, s->w, msg);
}

/* Rows [r0, r0 + m) of s as a matrix of their own. */
static strata__data sample_rows(const sample *s, int64_t r0, int64_t m)
{
    const size_t rb = (size_t)s->X.d * strata__dtype_size(s->X.dtype);
    return (strata__data){s->X.dtype, (const char *)s->buf + (size_t)r0 * rb, m, s->X.d, s->X.d,
                          s->w ? s->w + r0 : NULL, 0, NULL};
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

/* Steps' worth of rows (whole batches, at least one) gathered per sweep of
 * src: one batch in memory, else cfg->window_rows. */
static int64_t window_steps(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, int64_t bs)
{
    if (!strata__rowsrc_streamed(src))
        return 1;
    const int64_t w = cfg->window_rows / bs;
    return w > 1 ? w : 1;
}

/* The starting centroids: the best of the runs' initialisations. */
static int initialise(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, strata__tables *t,
                      const double *mean, int64_t init_size, double *c, double *cand,
                      double *totals, char *msg)
{
    const strata__data *X = &src->mem;
    const int64_t k = cfg->k, d = X->d;
    if (cfg->init == STRATA_INIT_CENTROIDS)
        return strata__kmeans_init(src, cfg, 0, mean, c, NULL, msg);
    /* The subsets may hold fewer distinct points than k even when X does not
     * (duplicates, rows drawn twice): repeated centres are left empty by the
     * first batch and reassigned. */
    strata__kmeans_cfg icfg = *cfg;
    icfg.allow_too_few = 1;
    const int subset = init_size < X->n;
    /* Runs whose subsets one sweep gathers. */
    int64_t group = strata__rowsrc_streamed(src) ? cfg->window_rows / init_size : 1;
    group = group < 1 ? 1 : group > cfg->n_init ? cfg->n_init : group;
    sample sub = {0}, valid = {0};
    int32_t *vlab = NULL;
    int rc = STRATA_OK;
    strata__rng rng;
    if (subset && sample_alloc(&sub, X, group * init_size))
        goto nomem;
    if (cfg->n_init > 1) {
        if (sample_alloc(&valid, X, init_size) ||
            !(vlab = strata__alloc((size_t)init_size, sizeof(int32_t))))
            goto nomem;
        strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM);
        if ((rc = sample_draw(&valid, src, init_size, &rng, msg)))
            goto done;
        memset(vlab, 0, (size_t)init_size * sizeof(int32_t));
    }
    double best = INFINITY;
    for (int64_t run = 0; run < cfg->n_init; run++) {
        const strata__rowsrc *S = src;
        strata__data sx;
        strata__rowsrc ssrc;
        if (subset) {
            const int64_t q = run % group;
            if (q == 0) { /* the subsets of runs [run, run + group) in one gather */
                const int64_t m = cfg->n_init - run < group ? cfg->n_init - run : group;
                for (int64_t r = 0; r < m; r++) {
                    strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM + 2 + (uint64_t)(run + r));
                    draw_indices(sub.idx + r * init_size, init_size, X->n, &rng);
                }
                if ((rc = strata__rowsrc_gather(src, sub.idx, m * init_size, sub.buf, sub.w, msg)))
                    goto done;
            }
            sx = sample_rows(&sub, q * init_size, init_size);
            /* a subset of weight 0 only (rare weights) cannot seed: use X */
            if (total_weight(&sx) > 0.0) {
                ssrc = strata__rowsrc_of(&sx);
                S = &ssrc;
            }
        }
        double *dst = cfg->n_init > 1 ? cand : c;
        if ((rc = strata__kmeans_init(S, &icfg, run, mean, dst, NULL, msg)))
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

int strata__minibatch_fit(const strata__rowsrc *src, const strata__kmeans_cfg *cfg,
                          strata__tables *t, const double *mean, double tol_abs, double *c,
                          int32_t *labels, double *totals, strata__minibatch_result *res,
                          char *msg)
{
    const strata__data *X = &src->mem;
    const int64_t n = X->n, d = X->d, k = cfg->k;
    const int64_t bs = cfg->batch_size < n ? cfg->batch_size : n;
    int64_t init_size = 3 * bs < k ? 3 * k : 3 * bs;
    if (init_size > n)
        init_size = n;
    /* max_iter epochs of n rows; max_iter <= 1e6, so no overflow below 9e12 rows */
    const int64_t n_steps = (int64_t)((__int128)cfg->max_iter * n / bs);
    int64_t wsteps = window_steps(src, cfg, bs);
    if (wsteps > n_steps)
        wsteps = n_steps;
    sample win = {0};
    reassign_buf rb = {0};
    double *c_new = strata__alloc((size_t)(k * d), sizeof(double));
    double *cand = strata__alloc((size_t)(k * d), sizeof(double));
    double *counts = strata__calloc((size_t)k, sizeof(double));
    int32_t *blab = strata__calloc((size_t)bs, sizeof(int32_t));
    rb.mark = strata__alloc((size_t)k, 1);
    rb.order = strata__alloc((size_t)k, sizeof(by_count));
    rb.perm = strata__alloc((size_t)bs, sizeof(int64_t));
    int rc = STRATA_OK;
    if (!c_new || !cand || !counts || !blab || !rb.mark || !rb.order || !rb.perm) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for mini-batches of %lld rows",
                          (long long)bs);
        goto done;
    }
    if ((rc = initialise(src, cfg, t, mean, init_size, c, cand, totals, msg)))
        goto done;
    if (sample_alloc(&win, X, wsteps * bs)) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld mini-batches of %lld rows",
                          (long long)wsteps, (long long)bs);
        goto done;
    }

    strata__rng rng, rng_re;
    strata__rng_seed(&rng, (uint64_t)cfg->seed, MB_STREAM + 1);
    strata__rng_seed(&rng_re, (uint64_t)cfg->seed, MB_REASSIGN_STREAM);
    const double alpha = fmin(2.0 * (double)bs / ((double)n + 1.0), 1.0);
    double ewa = 0.0, ewa_min = 0.0;
    int have_ewa = 0, have_min = 0, converged = 0;
    int64_t no_improvement = 0, since_reassign = 0, step = 0;
    int64_t gathered = 0, used = 0; /* steps in the window, steps of it run */
    while (step < n_steps) {
        if (used == gathered) { /* the next window's rows, in one sweep */
            gathered = n_steps - step < wsteps ? n_steps - step : wsteps;
            used = 0;
            if ((rc = sample_draw(&win, src, gathered * bs, &rng, msg)))
                goto done;
        }
        const strata__data batch = sample_rows(&win, used++ * bs, bs);
        step++;
        int empty = 0;
        for (int64_t j = 0; j < k; j++)
            empty |= counts[j] == 0.0;
        since_reassign += bs;
        int reassign_now = empty || since_reassign >= 10 * k;
        if (reassign_now)
            since_reassign = 0;
        if ((rc = label_pass(t, &batch, c, blab, totals, msg)))
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
            reassign(&batch, cfg->reassignment_ratio, k, c_new, counts, &rb, &rng_re);
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
    /* Labels and inertia of the full data, exactly, in one pass (the window
     * freed first: a stream's walk needs its blocks). */
    sample_free(&win);
    memset(labels, 0, (size_t)n * sizeof(int32_t));
    strata__tables_set_centroids(t, c);
    if ((rc = strata__assign_pass_src(t, src, labels, totals, STRATA__PASS_UPDATE_INERTIA, msg)))
        goto done;
    res->inertia = totals[k * d + k];
    res->steps = step;
    res->converged = converged;
done:
    sample_free(&win);
    strata__free(c_new);
    strata__free(cand);
    strata__free(counts);
    strata__free(blab);
    strata__free(rb.mark);
    strata__free(rb.order);
    strata__free(rb.perm);
    return rc;
}
