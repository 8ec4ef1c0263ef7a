/* Initial centroids: greedy k-means++ (as scikit-learn), random rows, or given. */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/status.h"
#include "kmeans/kmeans.h"

static double row_dist2(const strata__data *X, int64_t i, const double *c)
{
    double s = 0.0;
    if (X->dtype == STRATA_FLOAT32) {
        const float *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++) {
            double t = (double)r[f] - c[f];
            s += t * t;
        }
    } else {
        const double *r = strata__row(X, i);
        for (int64_t f = 0; f < X->d; f++) {
            double t = r[f] - c[f];
            s += t * t;
        }
    }
    return s;
}

static void copy_row(const strata__data *X, int64_t i, double *out)
{
    for (int64_t f = 0; f < X->d; f++)
        out[f] = strata__at(X, i, f);
}

static double weight(const strata__data *X, int64_t i)
{
    return X->w ? X->w[i] : 1.0;
}

typedef struct pp_ctx {
    const strata__data *X;
    double *closest;     /* n: squared distance to the nearest chosen centre */
    double *chunk_pot;   /* per chunk: sum of w * closest */
    const double *cand;  /* ncand x d candidate centres */
    int64_t ncand;
    const double *centre; /* the centre being added (update pass) */
} pp_ctx;

/* Partial: for each candidate, the potential if it were added. */
static void pp_trial_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const pp_ctx *c = vctx;
    for (int64_t i = begin; i < end; i++) {
        double w = weight(c->X, i);
        if (w == 0.0)
            continue;
        for (int64_t t = 0; t < c->ncand; t++) {
            double dd = row_dist2(c->X, i, c->cand + t * c->X->d);
            partial[t] += w * (dd < c->closest[i] ? dd : c->closest[i]);
        }
    }
}

static void pp_update_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const pp_ctx *c = vctx;
    double pot = 0.0;
    for (int64_t i = begin; i < end; i++) {
        double dd = c->centre ? row_dist2(c->X, i, c->centre) : INFINITY;
        if (dd < c->closest[i])
            c->closest[i] = dd;
        pot += weight(c->X, i) * c->closest[i];
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

static int kmeanspp(const strata__data *X, const strata__kmeans_cfg *cfg, strata__rng *rng,
                    double *centroids, char *msg)
{
    const int64_t n = X->n, d = X->d, k = cfg->k;
    const int64_t ntrials = 2 + (int64_t)log((double)k);
    const int64_t nchunks = strata__chunk_count(n, STRATA__CHUNK_ROWS);
    double *closest = strata__alloc((size_t)n, sizeof(double));
    double *chunk_pot = strata__alloc((size_t)nchunks, sizeof(double));
    double *cand = strata__alloc((size_t)(ntrials * d), sizeof(double));
    double *trial_pot = strata__alloc((size_t)ntrials, sizeof(double));
    int64_t *cand_idx = strata__alloc((size_t)ntrials, sizeof(int64_t));
    int rc = STRATA_OK;
    if (!closest || !chunk_pot || !cand || !trial_pot || !cand_idx) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in k-means++ (n = %lld)",
                          (long long)n);
        goto done;
    }
    pp_ctx c = {X, closest, chunk_pot, cand, ntrials, NULL};

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
    c.centre = centroids;
    if ((rc = strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, pp_update_chunk, &c)))
        goto nomem;

    for (int64_t j = 1; j < k; j++) {
        double pot = 0.0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            pot += chunk_pot[ch];
        if (!(pot > 0.0)) {
            rc = strata__fail(msg, STRATA_E_TOO_FEW,
                              "k-means++ found only %lld distinct points for k = %lld",
                              (long long)j, (long long)k);
            goto done;
        }
        for (int64_t t = 0; t < ntrials; t++) {
            cand_idx[t] = search_mass(X, closest, chunk_pot, nchunks, strata__rng_uniform(rng) * pot);
            copy_row(X, cand_idx[t], cand + t * d);
        }
        memset(trial_pot, 0, (size_t)ntrials * sizeof(double));
        if ((rc = strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, ntrials, trial_pot,
                                          pp_trial_chunk, &c)))
            goto nomem;
        int64_t best = 0;
        for (int64_t t = 1; t < ntrials; t++)
            if (trial_pot[t] < trial_pot[best])
                best = t;
        memcpy(centroids + j * d, cand + best * d, (size_t)d * sizeof(double));
        c.centre = centroids + j * d;
        if ((rc = strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL,
                                          pp_update_chunk, &c)))
            goto nomem;
    }
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in k-means++");
done:
    strata__free(closest);
    strata__free(chunk_pot);
    strata__free(cand);
    strata__free(trial_pot);
    strata__free(cand_idx);
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
    for (int64_t j = 0; j < cfg->k; j++) {
        int64_t i;
        do {
            int64_t u = (int64_t)strata__rng_below(rng, (uint64_t)npos);
            i = pos ? pos[u] : u;
        } while (taken[i / 64] >> (i % 64) & 1);
        taken[i / 64] |= 1ull << (i % 64);
        copy_row(X, i, centroids + j * X->d);
    }
    strata__free(taken);
    strata__free(pos);
    return STRATA_OK;
}

int strata__kmeans_init(const strata__data *X, const strata__kmeans_cfg *cfg, int64_t run,
                        double *centroids, char *msg)
{
    if (cfg->init == STRATA_INIT_CENTROIDS) {
        memcpy(centroids, cfg->init_centroids, (size_t)(cfg->k * X->d) * sizeof(double));
        return STRATA_OK;
    }
    strata__rng rng;
    strata__rng_seed(&rng, (uint64_t)cfg->seed, (uint64_t)run);
    if (cfg->init == STRATA_INIT_RANDOM)
        return random_rows(X, cfg, &rng, centroids, msg);
    return kmeanspp(X, cfg, &rng, centroids, msg);
}
