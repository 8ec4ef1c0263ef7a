/* Initial centroids: greedy k-means++ (as scikit-learn), random rows, or given. */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/status.h"
#include "kmeans/assign.h"
#include "kmeans/kmeans.h"

static void copy_row(const strata__data *X, int64_t i, double *out)
{
    for (int64_t f = 0; f < X->d; f++)
        out[f] = strata__at(X, i, f);
}

static double weight(const strata__data *X, int64_t i)
{
    return X->w ? X->w[i] : 1.0;
}

/* Trials evaluated together: 2 + ln k exceeds this only for k > 1.2e6. */
#define PP_MAX_TRIALS 16

/* Distances come from the same centred expanded form as the assignment
 * (lib/kmeans/assign.c), in the data's element type: k-means++ only samples
 * by them, so float32 precision is plenty, and every trial of a step costs
 * one broadcast FMA per feature and row. */
typedef struct pp_ctx {
    const strata__data *X;
    const strata__tables *t; /* the candidates of this pass */
    double *closest;         /* n: squared distance to the nearest chosen centre */
    double *xnorm;           /* n: ||x - mean||^2 */
    double *chunk_pot;       /* per chunk: sum of w * closest */
    double **out;            /* per thread: STRATA__BLOCK_ROWS x kp distances */
} pp_ctx;

/* Partial: for each candidate, the potential if it were added. */
static void pp_trial_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const pp_ctx *c = vctx;
    const int64_t m = c->t->k, kp = c->t->kp;
    double *out = c->out[tid];
    for (int64_t r0 = begin; r0 < end; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = end - r0 < STRATA__BLOCK_ROWS ? end - r0 : STRATA__BLOCK_ROWS;
        strata__tables_dist2(c->t, c->X, r0, rows, tid, c->xnorm + r0, out);
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = r0 + r;
            const double w = weight(c->X, i);
            if (w == 0.0)
                continue;
            for (int64_t t = 0; t < m; t++) {
                double dd = out[r * kp + t];
                partial[t] += w * (dd < c->closest[i] ? dd : c->closest[i]);
            }
        }
    }
}

static void pp_norm_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    const pp_ctx *c = vctx;
    for (int64_t r0 = begin; r0 < end; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = end - r0 < STRATA__BLOCK_ROWS ? end - r0 : STRATA__BLOCK_ROWS;
        strata__tables_xnorm(c->t, c->X, r0, rows, tid, c->xnorm + r0);
    }
}

/* closest = min(closest, distance to the table's one centre), and the
 * chunk's potential. */
static void pp_update_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const pp_ctx *c = vctx;
    const int64_t kp = c->t->kp;
    double *out = c->out[tid];
    double pot = 0.0;
    for (int64_t r0 = begin; r0 < end; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = end - r0 < STRATA__BLOCK_ROWS ? end - r0 : STRATA__BLOCK_ROWS;
        strata__tables_dist2(c->t, c->X, r0, rows, tid, c->xnorm + r0, out);
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = r0 + r;
            if (out[r * kp] < c->closest[i])
                c->closest[i] = out[r * kp];
            pot += weight(c->X, i) * c->closest[i];
        }
    }
    c->chunk_pot[chunk] = pot;
}

/* First row i where the running sum of w * val reaches target (numpy's
 * searchsorted on the cumulative sum), using per-chunk sums to skip ahead;
 * clipped to the last row with positive mass. */
static int64_t search_mass(const strata__data *X, const double *val, const double *chunk_sum,
                           int64_t nchunks, double target)
{
    double acc = 0.0;
    int64_t last = -1;
    for (int64_t ch = 0; ch < nchunks; ch++) {
        if (!(chunk_sum[ch] > 0.0))
            continue;
        if (acc + chunk_sum[ch] < target) {
            acc += chunk_sum[ch];
            continue;
        }
        int64_t b = ch * STRATA__CHUNK_ROWS;
        int64_t e = b + STRATA__CHUNK_ROWS < X->n ? b + STRATA__CHUNK_ROWS : X->n;
        for (int64_t i = b; i < e; i++) {
            double m = weight(X, i) * (val ? val[i] : 1.0);
            if (m > 0.0) {
                last = i;
                acc += m;
                if (acc >= target)
                    return i;
            }
        }
    }
    return last;
}

static int kmeanspp(const strata__data *X, const strata__kmeans_cfg *cfg, const double *mean,
                    strata__rng *rng, double *centroids, char *msg)
{
    const int64_t n = X->n, d = X->d, k = cfg->k;
    int64_t ntrials = 2 + (int64_t)log((double)k);
    if (ntrials > PP_MAX_TRIALS)
        ntrials = PP_MAX_TRIALS;
    const int64_t nchunks = strata__chunk_count(n, STRATA__CHUNK_ROWS);
    strata__tables trials = {0}, one = {0};
    double *closest = strata__alloc((size_t)n, sizeof(double));
    double *xnorm = strata__alloc((size_t)n, sizeof(double));
    double *chunk_pot = strata__alloc((size_t)nchunks, sizeof(double));
    double *cand = strata__alloc((size_t)(ntrials * d), sizeof(double));
    double *trial_pot = strata__alloc((size_t)ntrials, sizeof(double));
    double **out = strata__calloc((size_t)cfg->threads, sizeof(double *));
    int rc = STRATA_OK;
    if (!closest || !xnorm || !chunk_pot || !cand || !trial_pot || !out ||
        strata__tables_init(&trials, X, ntrials, mean, cfg->kern, STRATA_ASSIGN_FUSED, cfg->threads) ||
        strata__tables_init(&one, X, 1, mean, cfg->kern, STRATA_ASSIGN_FUSED, cfg->threads))
        goto nomem;
    for (int i = 0; i < cfg->threads; i++)
        if (!(out[i] = strata__alloc((size_t)(STRATA__BLOCK_ROWS * trials.kp), sizeof(double))))
            goto nomem;
    pp_ctx c = {X, &one, closest, xnorm, chunk_pot, out};
    if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, pp_norm_chunk, &c))
        goto nomem;

    /* First centre: a row drawn with probability proportional to its weight. */
    for (int64_t i = 0; i < n; i++)
        closest[i] = INFINITY;
    double wtot = 0.0;
    for (int64_t ch = 0; ch < nchunks; ch++) {
        int64_t b = ch * STRATA__CHUNK_ROWS, e = b + STRATA__CHUNK_ROWS < n ? b + STRATA__CHUNK_ROWS : n;
        double s = 0.0;
        for (int64_t i = b; i < e; i++)
            s += weight(X, i);
        chunk_pot[ch] = s;
        wtot += s;
    }
    int64_t first = search_mass(X, NULL, chunk_pot, nchunks, strata__rng_uniform(rng) * wtot);
    copy_row(X, first, centroids);
    strata__tables_set_centroids(&one, centroids);
    if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, pp_update_chunk, &c))
        goto nomem;

    for (int64_t j = 1; j < k; j++) {
        double pot = 0.0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            pot += chunk_pot[ch];
        if (!isfinite(pot)) { /* sampling by an infinite mass would pick the last row */
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "k-means++: the weighted squared distances sum beyond the double "
                              "range; rescale the data or the sample weights first");
            goto done;
        }
        if (!(pot > 0.0)) { /* every point of weight > 0 is a centroid */
            if (!cfg->allow_too_few) {
                rc = strata__fail(msg, STRATA_E_TOO_FEW,
                                  "k-means++ found only %lld distinct points for k = %lld",
                                  (long long)j, (long long)k);
                goto done;
            }
            for (; j < k; j++)
                memcpy(centroids + j * d, centroids, (size_t)d * sizeof(double));
            break;
        }
        for (int64_t t = 0; t < ntrials; t++) {
            int64_t i = search_mass(X, closest, chunk_pot, nchunks, strata__rng_uniform(rng) * pot);
            copy_row(X, i, cand + t * d);
        }
        strata__tables_set_centroids(&trials, cand);
        c.t = &trials;
        memset(trial_pot, 0, (size_t)ntrials * sizeof(double));
        if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, ntrials, trial_pot,
                                    pp_trial_chunk, &c))
            goto nomem;
        int64_t best = 0;
        for (int64_t t = 1; t < ntrials; t++)
            if (trial_pot[t] < trial_pot[best])
                best = t;
        memcpy(centroids + j * d, cand + best * d, (size_t)d * sizeof(double));
        strata__tables_set_centroids(&one, centroids + j * d);
        c.t = &one;
        if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, pp_update_chunk, &c))
            goto nomem;
    }
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in k-means++ (n = %lld, d = %lld)",
                      (long long)n, (long long)d);
done:
    for (int i = 0; out && i < cfg->threads; i++)
        strata__free(out[i]);
    strata__free(out);
    strata__tables_free(&trials);
    strata__tables_free(&one);
    strata__free(closest);
    strata__free(xnorm);
    strata__free(chunk_pot);
    strata__free(cand);
    strata__free(trial_pot);
    return rc;
}

/* k distinct row indices (weight > 0) drawn uniformly, by rejection against a
 * bitmap of rows already taken. */
static int random_rows(const strata__data *X, const strata__kmeans_cfg *cfg, strata__rng *rng,
                       double *centroids, char *msg)
{
    const int64_t n = X->n;
    int64_t npos = n;
    if (X->w) {
        npos = 0;
        for (int64_t i = 0; i < n; i++)
            npos += X->w[i] > 0.0;
    }
    uint64_t *taken = strata__calloc((size_t)((n + 63) / 64), sizeof(uint64_t));
    int64_t *pos = NULL;
    if (!taken)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory in random init");
    if (npos < n) {
        pos = strata__alloc((size_t)npos, sizeof(int64_t));
        if (!pos) {
            strata__free(taken);
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory in random init");
        }
        for (int64_t i = 0, m = 0; i < n; i++)
            if (X->w[i] > 0.0)
                pos[m++] = i;
    }
    /* Fewer rows of weight > 0 than k (only with allow_too_few, which skips
     * the distinct-point check): the rest repeat the first centroid. */
    const int64_t draws = cfg->k < npos ? cfg->k : npos;
    for (int64_t j = 0; j < draws; j++) {
        int64_t i;
        do {
            int64_t u = (int64_t)strata__rng_below(rng, (uint64_t)npos);
            i = pos ? pos[u] : u;
        } while (taken[i / 64] >> (i % 64) & 1);
        taken[i / 64] |= 1ull << (i % 64);
        copy_row(X, i, centroids + j * X->d);
    }
    for (int64_t j = draws; j < cfg->k; j++)
        memcpy(centroids + j * X->d, centroids, (size_t)X->d * sizeof(double));
    strata__free(taken);
    strata__free(pos);
    return STRATA_OK;
}

int strata__kmeans_init(const strata__data *X, const strata__kmeans_cfg *cfg, int64_t run,
                        const double *mean, double *centroids, char *msg)
{
    if (cfg->init == STRATA_INIT_CENTROIDS) {
        memcpy(centroids, cfg->init_centroids, (size_t)(cfg->k * X->d) * sizeof(double));
        return STRATA_OK;
    }
    strata__rng rng;
    strata__rng_seed(&rng, (uint64_t)cfg->seed, (uint64_t)run);
    if (cfg->init == STRATA_INIT_RANDOM)
        return random_rows(X, cfg, &rng, centroids, msg);
    return kmeanspp(X, cfg, mean, &rng, centroids, msg);
}
