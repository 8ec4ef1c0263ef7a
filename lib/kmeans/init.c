/* Initial centroids: greedy k-means++ (as scikit-learn), k-means||, AFK-MC^2,
 * random rows, or given. */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <string.h>

#include "core/dist.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/status.h"
#include "kmeans/assign.h"
#include "kmeans/kmeans.h"

/* A seeding that ran out of distinct points after j centroids: an error,
 * or (STRATA_KMEANS_ALLOW_TOO_FEW) the first centroid repeated up to k. */
static int too_few_points(const strata__kmeans_cfg *cfg, const char *method, int64_t j, int64_t d,
                          double *centroids, char *msg)
{
    if (!cfg->allow_too_few)
        return strata__fail(msg, STRATA_E_TOO_FEW, "%s found only %lld distinct points for k = %lld "
                            "(rows at squared distance 0 are one point; differences below "
                            "~1e-154 square to 0: rescale such data)",
                            method, (long long)j, (long long)cfg->k);
    for (; j < cfg->k; j++)
        memcpy(centroids + j * d, centroids, (size_t)d * sizeof(double));
    return STRATA_OK;
}

static double weight(const strata__data *X, int64_t i)
{
    return X->w ? X->w[i] : 1.0;
}

/* Trials evaluated together: 2 + ln k exceeds this only for k > 1.2e6. */
#define PP_MAX_TRIALS 16

/* Distances come from the same centred expanded form as the assignment
 * (lib/kmeans/assign.c), in the data's element type: k-means++ only samples
 * by them, so float32 precision is plenty, and every column of a pass costs
 * one broadcast FMA per feature and row. Each score is computed column by
 * column (bias, then one FMA per feature in order: kernels.h), so a centre
 * gives the same bits in whichever table and column it sits.
 *
 * One pass over the data per step: step j's pass scores the table
 * [c_{j-1}, trial_1 .. trial_m], first lowering `closest` by c_{j-1} (the
 * update the previous step left pending), then summing, per chunk, the
 * potential each trial would leave. The chunk sums of the trial kept are
 * the chunk potentials of the next step; its draws walk those chunk sums and
 * bring `closest` up to date (by the pending centre) only in the few chunks
 * they land in (pp_refresh). min() is idempotent, so a chunk refreshed
 * early is lowered again by the same bits in the next pass, harmlessly.
 *
 * Memory: the closest distances are the only per-row state. Row norms are
 * recomputed per block in every pass (the same bits each time). For float32
 * data (scores already in float32) the closest distances are stored as
 * float32, rounded to nearest (relative error <= 2^-24, below the float32
 * scores' own error; only squared distances under 2^-149, which float32
 * centred data cannot resolve, become 0), in the fit's labels array when the
 * caller lends it (4 bytes a row, unused until the first assignment). The
 * potentials are summed from the stored (rounded) values, so the draws
 * sample exactly the distribution the stored values define; rounding is
 * monotone, so round(min(a, b)) = min(round(a), round(b)) and a refresh
 * gives the bits the next pass gives. */
typedef struct pp_ctx {
    const strata__data *X;   /* the pass's view of the rows */
    const strata__rowsrc *src;
    void *rbuf;              /* pp_refresh's rows, read from a stream */
    size_t rcap;
    int rc;                  /* pp_refresh's read status (msg in rmsg) */
    char *rmsg;
    const strata__tables *t; /* the columns of this pass */
    int pending;             /* column 0 is the centre whose update is pending */
    int64_t m;               /* trials: columns pending .. pending + m - 1; 0 in the
                                first pass, which sums the potential itself */
    int64_t stride;          /* chunk_pot entries per chunk (>= 1, >= m) */
    const strata__tables *one; /* the pending centre alone, for pp_refresh */
    int64_t *fresh;          /* per chunk: the step whose pending update it has had */
    int64_t step;
    double *closest;         /* n: squared distance to the nearest chosen centre, or */
    float *closest32;        /* n: the same in float32 (float32 data) */
    double *chunk_pot;       /* per chunk x m: potential each trial would leave */
    double **xnorm;          /* per thread: STRATA__BLOCK_ROWS row norms ||x - mean||^2 */
} pp_ctx;

/* A squared distance as closest stores it. */
static inline double pp_round(const pp_ctx *c, double v)
{
    return c->closest32 ? (double)(float)v : v;
}

static inline double pp_get(const pp_ctx *c, int64_t i)
{
    return c->closest32 ? (double)c->closest32[i] : c->closest[i];
}

static inline void pp_set(const pp_ctx *c, int64_t i, double v)
{
    if (c->closest32)
        c->closest32[i] = (float)v;
    else
        c->closest[i] = v;
}

/* a < b ? x : y without a branch (false where either is NaN, as `<`) */
static inline double select_lt(double a, double b, double x, double y)
{
#if defined(__SSE2__)
    const __m128d lt = _mm_cmplt_sd(_mm_set_sd(a), _mm_set_sd(b));
    return _mm_cvtsd_f64(_mm_or_pd(_mm_and_pd(lt, _mm_set_sd(x)), _mm_andnot_pd(lt, _mm_set_sd(y))));
#else
    return a < b ? x : y;
#endif
}

/* Row r's squared distance from its score s[at] (float32 or float64 scores):
 * xnorm[r] + score, clamped at 0 (NaN to 0), as every pass computes it. */
static inline double pp_dist(const void *s, int f32, const double *xnorm, int64_t r, int64_t at)
{
    const double v = xnorm[r] + (f32 ? (double)((const float *)s)[at] : ((const double *)s)[at]);
    return v > 0.0 ? v : 0.0;
}

#if defined(__SSE2__)
/* Two trials' (n = 2) or one trial's (n = 1) terms w * min(round(dd), ci) of
 * one row, dd from the scores at s[at ..]: the scalar form's operations on
 * two lanes (max(v, 0) gives +0 for NaN and -0 as `v > 0 ? v : 0`). */
static inline __attribute__((always_inline)) __m128d
pp_terms(const void *s, int f32, int64_t at, int n, __m128d xn, __m128d ci, __m128d w)
{
    __m128d sc;
    if (f32) {
        const float *p = (const float *)s + at;
        if (n == 2) /* eight bytes, unaligned */
            sc = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p)));
        else
            sc = _mm_cvtps_pd(_mm_load_ss(p));
    } else {
        const double *p = (const double *)s + at;
        sc = n == 2 ? _mm_loadu_pd(p) : _mm_load_sd(p);
    }
    const __m128d dd = _mm_max_pd(_mm_add_pd(xn, sc), _mm_setzero_pd());
    const __m128d rd = f32 ? _mm_cvtps_pd(_mm_cvtpd_ps(dd)) : dd;
    const __m128d lt = _mm_cmplt_pd(dd, ci);
    return _mm_mul_pd(w, _mm_or_pd(_mm_and_pd(lt, rd), _mm_andnot_pd(lt, ci)));
}

/* pp_trials() for one shape: nt trials (1..4) of f32 or float64 scores,
 * weighted or not, closest lowered first by the pending centre or not; the
 * constants make each its own loop. */
static inline __attribute__((always_inline)) void
pp_trials_shape(const pp_ctx *c, const void *s, const double *xnorm, const double *wv, int64_t r0,
                int64_t rows, int64_t col, int nt, int f32, int pending, double *in)
{
    const int64_t kp = c->t->kp;
    __m128d acc0 = _mm_loadu_pd(in), acc1 = _mm_loadu_pd(in + 2);
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i = r0 + r;
        double cv = f32 ? (double)c->closest32[i] : c->closest[i];
        if (pending) {
            const double o0 = pp_dist(s, f32, xnorm, r, r * kp);
            cv = select_lt(o0, cv, f32 ? (double)(float)o0 : o0, cv);
            if (f32)
                c->closest32[i] = (float)cv;
            else
                c->closest[i] = cv;
        }
        const double w = wv ? wv[i] : 1.0;
        if (wv && w == 0.0)
            continue;
        const __m128d ci = _mm_set1_pd(cv), xn = _mm_set1_pd(xnorm[r]), wb = _mm_set1_pd(w);
        const int64_t at = r * kp + col;
        acc0 = _mm_add_pd(acc0, pp_terms(s, f32, at, nt < 2 ? nt : 2, xn, ci, wb));
        if (nt > 2)
            acc1 = _mm_add_pd(acc1, pp_terms(s, f32, at + 2, nt - 2, xn, ci, wb));
    }
    _mm_storeu_pd(in, acc0);
    _mm_storeu_pd(in + 2, acc1);
}
#endif

/* The potentials of trials t0 .. t0 + nt - 1 (nt <= 4, columns col ..) over
 * a block, added row by row in order onto pot[0 .. nt-1]: pot[t] += w *
 * min(round(dd), closest), closest first lowered by the pending centre
 * (column 0) where `pending` (round(min(dd, ci)) = min(round(dd), ci): ci is
 * stored). Two trials a vector, the same operations and bits as the scalar
 * form. Whether a centre is closer is as good as random: selects, not
 * branches (a mispredicted branch per trial and row was most of a pass). */
static void pp_trials(const pp_ctx *c, const void *s, const double *xnorm, const double *wv,
                      int64_t r0, int64_t rows, int64_t col, int nt, int pending, double *pot)
{
#if defined(__SSE2__)
    double in[4] = {0.0, 0.0, 0.0, 0.0};
    for (int t = 0; t < nt; t++)
        in[t] = pot[t];
    if (c->closest32 && !wv && nt == 4 && pending) /* float32, unweighted, k = 8 .. 20 */
        pp_trials_shape(c, s, xnorm, NULL, r0, rows, col, 4, 1, 1, in);
    else if (c->closest32)
        pp_trials_shape(c, s, xnorm, wv, r0, rows, col, nt, 1, pending, in);
    else
        pp_trials_shape(c, s, xnorm, wv, r0, rows, col, nt, 0, pending, in);
    for (int t = 0; t < nt; t++)
        pot[t] = in[t];
#else
    const int f32 = c->closest32 != NULL;
    for (int64_t r = 0; r < rows; r++) {
        double ci = pp_get(c, r0 + r);
        if (pending) {
            const double o0 = pp_dist(s, f32, xnorm, r, r * c->t->kp);
            ci = select_lt(o0, ci, pp_round(c, o0), ci);
            pp_set(c, r0 + r, ci);
        }
        const double w = wv ? wv[r0 + r] : 1.0;
        if (w == 0.0)
            continue;
        for (int t = 0; t < nt; t++) {
            const double dd = pp_dist(s, f32, xnorm, r, r * c->t->kp + col + t);
            pot[t] += w * select_lt(dd, ci, pp_round(c, dd), ci);
        }
    }
#endif
}

static void pp_pass_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    const pp_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    const int64_t m = c->m, kp = c->t->kp, p = c->pending;
    const int f32 = c->closest32 != NULL;
    const double *wv = X->w;
    double *xnorm = c->xnorm[tid];
    double *pot = c->chunk_pot + chunk * c->stride;
    for (int64_t t = 0; t < c->stride; t++)
        pot[t] = 0.0;
    for (int64_t r0 = begin; r0 < end; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = end - r0 < STRATA__BLOCK_ROWS ? end - r0 : STRATA__BLOCK_ROWS;
        int64_t next_end = r0 + rows + STRATA__BLOCK_ROWS;
        strata__prefetch_rows(X, r0 + rows, next_end < end ? next_end : end);
        const void *s = strata__tables_block_scores(c->t, X, r0, rows, tid, xnorm);
        if (m == 0) { /* the first pass: closest = the distance to c_0 */
            for (int64_t r = 0; r < rows; r++) {
                const double o0 = pp_dist(s, f32, xnorm, r, r * kp);
                const double ci = select_lt(o0, INFINITY, pp_round(c, o0), INFINITY);
                pp_set(c, r0 + r, ci);
                const double w = wv ? wv[r0 + r] : 1.0;
                if (w != 0.0)
                    pot[0] += w * ci;
            }
        }
        for (int64_t t0 = 0; t0 < m; t0 += 4)
            pp_trials(c, s, xnorm, wv, r0, rows, p + t0, m - t0 < 4 ? (int)(m - t0) : 4,
                      p && t0 == 0, pot + t0);
    }
    for (int64_t t = 0; t < m; t++)
        partial[t] = pot[t];
}

/* Bring closest up to date by the pending centre (table c->one) in rows
 * [b, e) of chunk ch, once per step, on the calling thread (scratch 0). */
static void pp_refresh(void *vctx, int64_t ch, int64_t b, int64_t e)
{
    pp_ctx *c = vctx;
    const strata__tables *one = c->one;
    if (c->fresh[ch] == c->step)
        return;
    c->fresh[ch] = c->step;
    double *xnorm = c->xnorm[0];
    strata__data X; /* the chunk's rows: a random read from a stream */
    if (c->rc || (c->rc = strata__rowsrc_rows(c->src, b, e - b, &X, &c->rbuf, &c->rcap, c->rmsg)))
        return;
    const int f32 = c->closest32 != NULL;
    for (int64_t r0 = b; r0 < e; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = e - r0 < STRATA__BLOCK_ROWS ? e - r0 : STRATA__BLOCK_ROWS;
        const void *s = strata__tables_block_scores(one, &X, r0, rows, 0, xnorm);
        for (int64_t r = 0; r < rows; r++) {
            const double o0 = pp_dist(s, f32, xnorm, r, r * one->kp);
            if (o0 < pp_get(c, r0 + r))
                pp_set(c, r0 + r, o0);
        }
    }
}

/* First row i where the running sum of w * val reaches target (numpy's
 * searchsorted on the cumulative sum), using per-chunk sums to skip ahead;
 * clipped to the last row with positive mass. val is double, or float32
 * (val32), or neither (1). refresh (or NULL) is called on a chunk before its
 * rows are read. */
static int64_t search_mass(const strata__data *X, const double *val, const float *val32,
                           const double *chunk_sum,
                           int64_t nchunks, double target,
                           void (*refresh)(void *, int64_t, int64_t, int64_t), void *rctx)
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
        if (refresh)
            refresh(rctx, ch, b, e);
        for (int64_t i = b; i < e; i++) {
            double m = weight(X, i) * (val ? val[i] : val32 ? (double)val32[i] : 1.0);
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

/* search_mass() over a distributed source (every process calls it with the
 * same chunk sums and target; they are the same on all): the chunk where
 * the running sum reaches the target is found by all, its owner searches
 * its rows (refreshing them first) and sends the outcome, the row or the
 * running sum past the chunk when rounding left it short (then the next
 * chunk, as search_mass() goes on). Returns the row, or -1 with *rc set. */
static int64_t search_mass_dist(const strata__rowsrc *src, pp_ctx *c, const double *chunk_sum,
                                int64_t nchunks, double target, int refresh, int *rc, char *msg)
{
    const strata__dist *dist = src->dist;
    const strata__data *X = &src->mem;
    double acc = 0.0;
    int64_t last = -1;
    for (int64_t ch = 0;; ch++) {
        for (; ch < nchunks; ch++) {
            if (!(chunk_sum[ch] > 0.0))
                continue;
            if (acc + chunk_sum[ch] < target) {
                acc += chunk_sum[ch];
                continue;
            }
            break;
        }
        if (ch == nchunks)
            return last;
        const int owner = strata__dist_owner(nchunks, dist->size, ch);
        struct {
            double acc;
            int64_t last, found;
        } out = {acc, last, -1};
        int lrc = STRATA_OK;
        if (owner == dist->rank) {
            int64_t b = ch * STRATA__CHUNK_ROWS;
            int64_t e = b + STRATA__CHUNK_ROWS < X->n ? b + STRATA__CHUNK_ROWS : X->n;
            if (refresh)
                pp_refresh(c, ch, b, e);
            if ((lrc = c->rc))
                c->rc = STRATA_OK; /* its message is in msg */
            for (int64_t i = b; !lrc && i < e; i++) {
                double m = weight(X, i) * (c->closest32 ? (double)c->closest32[i] : c->closest[i]);
                if (m > 0.0) {
                    out.last = i;
                    out.acc += m;
                    if (out.acc >= target) {
                        out.found = i;
                        break;
                    }
                }
            }
        }
        if ((*rc = dist->bcast(dist, &out, (int64_t)sizeof out, owner, lrc, msg)))
            return -1;
        if (out.found >= 0)
            return out.found;
        acc = out.acc;
        last = out.last;
    }
}

/* A row drawn with probability proportional to its weight (the first centre
 * of k-means++ and k-means||); chunk_mass (nchunks) receives each chunk's
 * total weight, summed in row order. */
static int64_t draw_by_weight(const strata__data *X, int64_t nchunks, double *chunk_mass,
                              strata__rng *rng)
{
    const int64_t n = X->n;
    double total = 0.0;
    for (int64_t ch = 0; ch < nchunks; ch++) {
        int64_t b = ch * STRATA__CHUNK_ROWS, e = b + STRATA__CHUNK_ROWS < n ? b + STRATA__CHUNK_ROWS : n;
        double s = 0.0;
        for (int64_t i = b; i < e; i++)
            s += weight(X, i);
        chunk_mass[ch] = s;
        total += s;
    }
    return search_mass(X, NULL, NULL, chunk_mass, nchunks, strata__rng_uniform(rng) * total, NULL,
                       NULL);
}

/* The SEED reports of one seeding between its first (0) and last (total),
 * made by strata__kmeans_init(): done of total units of the init's work. */
typedef struct seed_meter {
    const strata__steps *steps;
    int64_t run, total;
} seed_meter;

/* Report done units (sm NULL, or done >= total: nothing, the last report
 * being strata__kmeans_init()'s). */
static int seed_report(const seed_meter *sm, int64_t done, char *msg)
{
    if (!sm || done >= sm->total)
        return STRATA_OK;
    return strata__step(sm->steps, STRATA_STEP_SEED, sm->run, done, sm->total, NAN, msg);
}

/* scratch: n x 4 bytes the caller lends (or NULL), used for float32 data's
 * closest distances. sm: SEED after each centre (done = centres chosen). */
static int kmeanspp(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, const double *mean,
                    strata__rng *rng, double *centroids, void *scratch, const seed_meter *sm,
                    char *msg)
{
    const strata__data *X = &src->mem; /* n, d, dtype, w */
    const int64_t n = X->n, d = X->d, k = cfg->k;
    strata__data view;
    pp_ctx c = {.X = &view, .src = src, .rmsg = msg};
    int64_t ntrials = 2 + (int64_t)log((double)k);
    if (ntrials > PP_MAX_TRIALS)
        ntrials = PP_MAX_TRIALS;
    const int64_t nchunks = strata__chunk_count(n, STRATA__CHUNK_ROWS);
    strata__tables pass = {0}, one = {0};
    const int f32 = X->dtype == STRATA_FLOAT32;
    float *own32 = f32 && !scratch ? strata__alloc((size_t)n, sizeof(float)) : NULL;
    float *closest32 = f32 ? (scratch ? scratch : own32) : NULL;
    double *closest = f32 ? NULL : strata__alloc((size_t)n, sizeof(double));
    double *chunk_pot = strata__alloc((size_t)(nchunks * ntrials), sizeof(double));
    double *chunk_cur = strata__alloc((size_t)nchunks, sizeof(double));
    int64_t *fresh = strata__alloc((size_t)nchunks, sizeof(int64_t));
    double *cand = strata__alloc((size_t)((ntrials + 1) * d), sizeof(double));
    double *trial_pot = strata__alloc((size_t)ntrials, sizeof(double));
    double **xnorm = strata__calloc((size_t)cfg->threads, sizeof(double *));
    int rc = STRATA_OK;
    if (!(closest || closest32) || !xnorm || !chunk_pot || !chunk_cur || !fresh || !cand || !trial_pot ||
        strata__tables_init(&pass, X, ntrials + 1, mean, cfg->kern, STRATA_ASSIGN_FUSED,
                            cfg->threads) ||
        strata__tables_init(&one, X, 1, mean, cfg->kern, STRATA_ASSIGN_FUSED, cfg->threads))
        goto nomem;
    for (int i = 0; i < cfg->threads; i++)
        if (!(xnorm[i] = strata__alloc(STRATA__BLOCK_ROWS, sizeof(double))))
            goto nomem;
    for (int64_t ch = 0; ch < nchunks; ch++)
        fresh[ch] = 0;

    /* First centre: a row drawn with probability proportional to its weight. */
    c = (pp_ctx){.X = &view, .src = src, .rmsg = msg, .t = &one, .pending = 1, .m = 0,
                 .stride = ntrials, .one = &one, .fresh = fresh, .closest = closest,
                 .closest32 = closest32, .chunk_pot = chunk_pot, .xnorm = xnorm};
    int64_t first = draw_by_weight(X, nchunks, chunk_cur, rng);
    if ((rc = strata__rowsrc_copy_row(src, first, centroids, &c.rbuf, &c.rcap, msg)))
        goto done;
    /* The first pass: closest = distance to it, chunk potentials. (A stream:
     * one pass over the file per centre, plus the chunks the draws land in.) */
    strata__tables_set_centroids(&one, centroids);
    if ((rc = strata__rowsrc_pass(src, cfg->threads, 0, NULL, pp_pass_chunk, &c, &view, msg)) ||
        (src->dist && (rc = strata__dist_gather_chunks(src->dist, nchunks, chunk_pot, ntrials,
                                                       STRATA_OK, msg))) ||
        (rc = seed_report(sm, 1, msg)))
        goto done;
    for (int64_t ch = 0; ch < nchunks; ch++)
        chunk_cur[ch] = chunk_pot[ch * ntrials];

    for (int64_t j = 1; j < k; j++) {
        double pot = 0.0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            pot += chunk_cur[ch];
        if (!isfinite(pot)) { /* sampling by an infinite mass would pick the last row */
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "k-means++: the weighted squared distances sum beyond the double "
                              "range; rescale the data or the sample weights first");
            goto done;
        }
        if (!(pot > 0.0)) { /* every point of weight > 0 is a centroid */
            if ((rc = too_few_points(cfg, "k-means++", j, d, centroids, msg)))
                goto done;
            break;
        }
        /* Draws: by closest after c_{j-1}, refreshed in the chunks they reach
         * (c_0 was applied by the first pass). */
        c.step = j;
        const int pending = j > 1;
        if (pending)
            strata__tables_set_centroids(&one, centroids + (j - 1) * d);
        memcpy(cand, centroids + (j - 1) * d, (size_t)d * sizeof(double));
        for (int64_t t = 0; t < ntrials; t++) {
            const double target = strata__rng_uniform(rng) * pot;
            int64_t i = src->dist ? search_mass_dist(src, &c, chunk_cur, nchunks, target, pending,
                                                     &c.rc, msg)
                                  : search_mass(X, c.closest, c.closest32, chunk_cur, nchunks,
                                                target, pending ? pp_refresh : NULL, &c);
            if ((rc = c.rc) ||
                (rc = strata__rowsrc_copy_row(src, i, cand + (1 + t) * d, &c.rbuf, &c.rcap, msg)))
                goto done;
        }
        /* One pass: closest lowered by c_{j-1}, the trials scored. */
        pass.k = ntrials + pending; /* kp stays: the padding columns are +inf */
        strata__tables_set_centroids(&pass, pending ? cand : cand + d);
        c.t = &pass;
        c.pending = pending;
        c.m = ntrials;
        memset(trial_pot, 0, (size_t)ntrials * sizeof(double));
        if ((rc = strata__rowsrc_pass(src, cfg->threads, ntrials, trial_pot, pp_pass_chunk, &c,
                                      &view, msg)) ||
            (src->dist && (rc = strata__dist_gather_chunks(src->dist, nchunks, chunk_pot, ntrials,
                                                           STRATA_OK, msg))))
            goto done;
        int64_t best = 0;
        for (int64_t t = 1; t < ntrials; t++)
            if (trial_pot[t] < trial_pot[best])
                best = t;
        memcpy(centroids + j * d, cand + (1 + best) * d, (size_t)d * sizeof(double));
        for (int64_t ch = 0; ch < nchunks; ch++)
            chunk_cur[ch] = chunk_pot[ch * ntrials + best];
        if ((rc = seed_report(sm, j + 1, msg)))
            goto done;
    }
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in k-means++ (n = %lld, d = %lld)",
                      (long long)n, (long long)d);
    if (src->dist) /* before any exchange: the others learn it at their first */
        rc = src->dist->agree(src->dist, rc, msg);
done:
    strata__free(c.rbuf);
    for (int i = 0; xnorm && i < cfg->threads; i++)
        strata__free(xnorm[i]);
    strata__free(own32);
    strata__tables_free(&pass);
    strata__tables_free(&one);
    strata__free(closest);
    strata__free(xnorm);
    strata__free(chunk_pot);
    strata__free(chunk_cur);
    strata__free(fresh);
    strata__free(cand);
    strata__free(trial_pot);
    return rc;
}

/* k distinct row indices (weight > 0) drawn uniformly, by rejection against a
 * bitmap of rows already taken. */
static int random_rows(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, strata__rng *rng,
                       double *centroids, char *msg)
{
    const strata__data *X = &src->mem; /* n, d, w */
    const int64_t n = X->n;
    void *rbuf = NULL;
    size_t rcap = 0;
    int rc = STRATA_OK;
    int64_t npos = n;
    if (X->w) {
        npos = 0;
        for (int64_t i = 0; i < n; i++)
            npos += X->w[i] > 0.0;
    }
    uint64_t *taken = strata__calloc((size_t)((n + 63) / 64), sizeof(uint64_t));
    int64_t *pos = NULL;
    if (npos < n && taken)
        pos = strata__alloc((size_t)npos, sizeof(int64_t));
    if (!taken || (npos < n && !pos)) {
        strata__free(taken);
        strata__free(pos);
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in random init");
        /* distributed: before any exchange, the others learn it at their first */
        return src->dist ? src->dist->agree(src->dist, rc, msg) : rc;
    }
    if (npos < n) {
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
        if ((rc = strata__rowsrc_copy_row(src, i, centroids + j * X->d, &rbuf, &rcap, msg)))
            break;
    }
    for (int64_t j = draws; !rc && j < cfg->k; j++)
        memcpy(centroids + j * X->d, centroids, (size_t)X->d * sizeof(double));
    strata__free(rbuf);
    strata__free(taken);
    strata__free(pos);
    return rc;
}

/* ---- k-means|| (Bahmani et al. 2012) ------------------------------------
 * c_0 drawn by weight; then KMPAR_ROUNDS rounds, each keeping every row i
 * independently with probability min(1, l w_i D_i / phi), l = 2k, D_i its
 * squared distance to the nearest candidate so far and phi = sum w D; each
 * candidate is weighted by the weight of the rows nearest to it, and
 * weighted greedy k-means++ reduces the candidates to k. Every random draw of
 * a round comes from the stream of its fixed chunk (keyed by seed, run,
 * round, chunk), and every sum is per chunk, added in chunk order: the
 * centroids do not depend on the thread count. */
#define KMPAR_ROUNDS 5
#define KMPAR_EXTRA_ROUNDS 64 /* more, only while there are fewer than k candidates */

typedef struct kp_ctx {
    const strata__data *X;  /* the pass's view of the rows */
    const double *w;        /* n weights, or NULL */
    const strata__tables *t; /* this round's candidates */
    const double *cand;     /* their rows (t->k x d) */
    int64_t base;           /* index of the round's first candidate */
    int first;              /* the first pass: closest starts at +inf */
    double *closest, *chunk_pot;
    int32_t *owner;         /* n: nearest candidate */
    uint64_t *sel;          /* bitmap of n: kept in this round (a chunk owns whole words) */
    int64_t *chunk_sel;     /* per chunk: rows kept */
    uint64_t seed, stream0; /* streams stream0 + chunk of this round */
    double l, phi;
} kp_ctx;

/* out[r] = the squared distance of row r0 + r of X to candidate lab[r] (rows
 * of cand, d doubles each), in double: (x_f - c_f)^2 added in feature order,
 * each product rounded (this file is built without FMA). Four rows at a
 * time, a row a lane of two SSE2 vectors: the same operations per row,
 * without one row's chain of additions holding up the next. */
static void kp_exact_dist(const strata__data *X, int64_t r0, int64_t rows, const int32_t *lab,
                          const double *cand, double *out)
{
    const int64_t d = X->d;
    int64_t r = 0;
#if defined(__SSE2__)
    const int f32 = X->dtype == STRATA_FLOAT32;
    for (; r + 4 <= rows; r += 4) {
        const double *c[4];
        const void *x[4];
        for (int q = 0; q < 4; q++) {
            c[q] = cand + (int64_t)lab[r + q] * d;
            x[q] = strata__row(X, r0 + r + q);
        }
        __m128d a01 = _mm_setzero_pd(), a23 = _mm_setzero_pd();
        for (int64_t f = 0; f < d; f++) {
            __m128d x01, x23;
            if (f32) {
                const float *const *xf = (const float *const *)x;
                x01 = _mm_set_pd(xf[1][f], xf[0][f]);
                x23 = _mm_set_pd(xf[3][f], xf[2][f]);
            } else {
                const double *const *xd = (const double *const *)x;
                x01 = _mm_set_pd(xd[1][f], xd[0][f]);
                x23 = _mm_set_pd(xd[3][f], xd[2][f]);
            }
            const __m128d v01 = _mm_sub_pd(x01, _mm_set_pd(c[1][f], c[0][f]));
            const __m128d v23 = _mm_sub_pd(x23, _mm_set_pd(c[3][f], c[2][f]));
            a01 = _mm_add_pd(a01, _mm_mul_pd(v01, v01));
            a23 = _mm_add_pd(a23, _mm_mul_pd(v23, v23));
        }
        _mm_storeu_pd(out + r, a01);
        _mm_storeu_pd(out + r + 2, a23);
    }
#endif
    for (; r < rows; r++) {
        const double *cc = cand + (int64_t)lab[r] * d;
        double dd = 0.0;
        for (int64_t f = 0; f < d; f++) {
            double v = strata__at(X, r0 + r, f) - cc[f];
            dd += v * v;
        }
        out[r] = dd;
    }
}

/* closest/owner lowered by this round's candidates (the table's k columns):
 * the kernel's assignment names the nearest, whose squared distance is then
 * computed exactly in double. Chunk potentials. */
static void kp_update_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const kp_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    const strata__tables *t = c->t;
    const double *wv = X->w;
    int32_t *lab = t->lab[tid];
    double dist[STRATA__BLOCK_ROWS];
    double pot = 0.0;
    for (int64_t r0 = begin; r0 < end; r0 += STRATA__BLOCK_ROWS) {
        int64_t rows = end - r0 < STRATA__BLOCK_ROWS ? end - r0 : STRATA__BLOCK_ROWS;
        int64_t next_end = r0 + rows + STRATA__BLOCK_ROWS;
        strata__prefetch_rows(X, r0 + rows, next_end < end ? next_end : end);
        strata__assign_fused_rows(t, X, r0, rows, tid, lab);
        kp_exact_dist(X, r0, rows, lab, c->cand, dist);
        /* whether a candidate is nearer is as good as random: selects */
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = r0 + r;
            const double dd = dist[r], ci = c->first ? INFINITY : c->closest[i];
            const int32_t nearer = -(int32_t)(c->first || dd < ci); /* all ones or 0 */
            const int32_t own = c->first ? 0 : c->owner[i];
            c->closest[i] = c->first ? dd : select_lt(dd, ci, dd, ci);
            c->owner[i] = ((int32_t)(c->base + lab[r]) & nearer) | (own & ~nearer);
            pot += (wv ? wv[i] : 1.0) * c->closest[i];
        }
    }
    c->chunk_pot[chunk] = pot;
}

/* Keep each row with probability min(1, l w D / phi), from the chunk's stream. */
static void kp_sample_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const kp_ctx *c = vctx;
    const double *wv = c->w;
    strata__rng g;
    strata__rng_seed(&g, c->seed, c->stream0 + (uint64_t)chunk);
    int64_t kept = 0;
    for (int64_t i = begin; i < end; i++) {
        double m = (wv ? wv[i] : 1.0) * c->closest[i];
        /* one draw per row, whatever its mass, so the streams stay aligned */
        double u = strata__rng_uniform(&g);
        uint64_t bit = (uint64_t)(m > 0.0 && u * c->phi < c->l * m);
        if (i % 64 == 0)
            c->sel[i / 64] = 0;
        c->sel[i / 64] |= bit << (i % 64);
        kept += (int64_t)bit;
    }
    c->chunk_sel[chunk] = kept;
}

/* Chunks own whole words of the selection bitmap: no two threads write one. */
_Static_assert(STRATA__CHUNK_ROWS % 64 == 0, "k-means|| bitmap words must not straddle chunks");

/* Candidates' rows (ncand x d doubles) grown to hold at least `need`. */
static int kp_grow(int64_t **rows, double **cand, int64_t *cap, int64_t ncand, int64_t need,
                   int64_t d)
{
    if (need <= *cap)
        return 0;
    int64_t ncap = need * 2;
    int64_t *nr = strata__alloc((size_t)ncap, sizeof(int64_t));
    double *nc = strata__alloc((size_t)(ncap * d), sizeof(double));
    if (!nr || !nc) {
        strata__free(nr);
        strata__free(nc);
        return -1;
    }
    memcpy(nr, *rows, (size_t)ncand * sizeof(int64_t));
    memcpy(nc, *cand, (size_t)(ncand * d) * sizeof(double));
    strata__free(*rows);
    strata__free(*cand);
    *rows = nr;
    *cand = nc;
    *cap = ncap;
    return 0;
}

/* scratch: n int32 the caller lends (or NULL) for the owners. A stream: the
 * distance passes walk its blocks (one pass per round), the sampling and the
 * weighting read only the in-memory per-row state, and each round's kept
 * rows (about l = 2k) are random reads, one per chunk that kept any. */
static int kmeans_parallel(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, int64_t run,
                           const double *mean, strata__rng *rng, double *centroids,
                           int32_t *scratch, const seed_meter *sm, char *msg)
{
    const strata__data *X = &src->mem; /* n, d, dtype, w */
    const int64_t n = X->n, d = X->d, k = cfg->k;
    const int64_t nchunks = strata__chunk_count(n, STRATA__CHUNK_ROWS);
    int64_t cap = 4 * k + 64, ncand = 0;
    int64_t *rows = strata__alloc((size_t)cap, sizeof(int64_t));
    double *cand = strata__alloc((size_t)(cap * d), sizeof(double)), *cw = NULL;
    void *rbuf = NULL;
    size_t rcap = 0;
    strata__data view;
    double *closest = strata__alloc((size_t)n, sizeof(double));
    int32_t *own = scratch ? NULL : strata__alloc((size_t)n, sizeof(int32_t));
    int32_t *owner = scratch ? scratch : own;
    uint64_t *sel = strata__alloc((size_t)((n + 63) / 64), sizeof(uint64_t));
    double *chunk_pot = strata__alloc((size_t)nchunks, sizeof(double));
    int64_t *chunk_sel = strata__alloc((size_t)nchunks, sizeof(int64_t));
    strata__tables tab = {0};
    int rc = STRATA_OK;
    if (!rows || !cand || !closest || !owner || !sel || !chunk_pot || !chunk_sel)
        goto nomem;
    for (int64_t i = 0; i < n; i++)
        owner[i] = 0;

    /* c_0: a row drawn with probability proportional to its weight. */
    rows[0] = draw_by_weight(X, nchunks, chunk_pot, rng);
    if ((rc = strata__rowsrc_copy_row(src, rows[0], cand, &rbuf, &rcap, msg)))
        goto done;
    ncand = 1;
    kp_ctx c = {.X = &view, .w = X->w, .first = 1, .closest = closest, .chunk_pot = chunk_pot,
                .owner = owner, .sel = sel, .chunk_sel = chunk_sel, .seed = (uint64_t)cfg->seed ^ 0x6b6d65616e737c7cull,
                .l = 2.0 * (double)k};
    int64_t lo = 0; /* candidates [lo, ncand) are new this round */
    for (int64_t round = 0; k > 1; round++) {
        /* Distances to the new candidates (none when a round kept no row). */
        if (ncand > lo) {
            const int64_t m = ncand - lo;
            if (strata__tables_init(&tab, X, m, mean, cfg->kern, STRATA_ASSIGN_FUSED, cfg->threads))
                goto nomem;
            strata__tables_set_centroids(&tab, cand + lo * d);
            c.t = &tab;
            c.cand = cand + lo * d;
            c.base = lo;
            if ((rc = strata__rowsrc_pass(src, cfg->threads, 0, NULL, kp_update_chunk, &c, &view,
                                          msg)))
                goto done;
            strata__tables_free(&tab);
        }
        if ((rc = seed_report(sm, round + 1, msg))) /* this round's pass is done */
            goto done;
        c.first = 0;
        double phi = 0.0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            phi += chunk_pot[ch];
        if (!isfinite(phi)) {
            rc = strata__fail(msg, STRATA_E_NONFINITE,
                              "k-means||: the weighted squared distances sum beyond the double "
                              "range; rescale the data or the sample weights first");
            goto done;
        }
        /* Candidates that are their own nearest: distinct points (a row drawn
         * twice in one round, or a duplicate of another, is owned by the first). */
        int64_t distinct = 0;
        for (int64_t j = 0; j < ncand; j++)
            distinct += owner[rows[j]] == (int32_t)j;
        if (!(phi > 0.0) || (round >= KMPAR_ROUNDS && distinct >= k) ||
            round >= KMPAR_ROUNDS + KMPAR_EXTRA_ROUNDS)
            break;
        /* Sample this round's candidates. */
        c.phi = phi;
        c.stream0 = ((uint64_t)run << 40) ^ ((uint64_t)(round + 1) << 32);
        if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, kp_sample_chunk, &c))
            goto nomem;
        int64_t kept = 0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            kept += chunk_sel[ch];
        if (ncand + kept > INT32_MAX) /* owner indices are int32 */
            break;
        if (kp_grow(&rows, &cand, &cap, ncand, ncand + kept, d))
            goto nomem;
        lo = ncand;
        for (int64_t ch = 0; ch < nchunks; ch++) {
            if (!chunk_sel[ch])
                continue;
            int64_t b = ch * STRATA__CHUNK_ROWS, e = b + STRATA__CHUNK_ROWS < n ? b + STRATA__CHUNK_ROWS : n;
            while (!(sel[b / 64] >> (b % 64) & 1))
                b++;
            while (!(sel[(e - 1) / 64] >> ((e - 1) % 64) & 1))
                e--;
            /* the chunk's kept rows in one read (a stream's dataset chunks
             * are then decompressed once, not once per row) */
            strata__data v;
            if ((rc = strata__rowsrc_rows(src, b, e - b, &v, &rbuf, &rcap, msg)))
                goto done;
            for (int64_t i = b; i < e; i++)
                if (sel[i / 64] >> (i % 64) & 1) {
                    for (int64_t f = 0; f < d; f++)
                        cand[ncand * d + f] = strata__at(&v, i, f);
                    rows[ncand++] = i;
                }
        }
    }

    /* Weight the candidates, then reduce them to k by weighted greedy k-means++. */
    cw = strata__calloc((size_t)ncand, sizeof(double));
    if (!cw)
        goto nomem;
    /* In row order (one O(n) loop; per-chunk partials of ncand would cost more). */
    for (int64_t i = 0; i < n; i++)
        cw[owner[i]] += weight(X, i);
    if (k == 1)
        cw[0] = 1.0;
    strata__data C = {STRATA_FLOAT64, cand, ncand, d, d, cw, 0, NULL};
    const strata__rowsrc csrc = strata__rowsrc_of(&C);
    rc = kmeanspp(&csrc, cfg, mean, rng, centroids, NULL, NULL, msg);
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in k-means|| (n = %lld, d = %lld, %lld candidates)",
                      (long long)n, (long long)d, (long long)ncand);
done:
    strata__tables_free(&tab);
    strata__free(rows);
    strata__free(rbuf);
    strata__free(cand);
    strata__free(cw);
    strata__free(closest);
    strata__free(own);
    strata__free(sel);
    strata__free(chunk_pot);
    strata__free(chunk_sel);
    return rc;
}

/* ---- AFK-MC^2 (Bachem, Lucic, Hassani and Krause 2016) --------------------
 * c_0 drawn by weight; one pass over the data gives the proposal
 *   q(x) = w_x (d(x, c_0)^2 / (2 S) + 1 / (2 W)),  S = sum w d(., c_0)^2, W = sum w,
 * kept as prefix sums within each fixed chunk (rows of weight 0 add nothing
 * and are never drawn). Each further centre is the last state of a Markov
 * chain of chain_length draws from q: from x, a candidate y is taken with
 * probability min(1, w_y D_y q_x / (w_x D_x q_y)) (Metropolis-Hastings for
 * the k-means++ target w D, D the squared distance to the centres so far,
 * exact in double). The chains run on the calling thread and every sum is
 * per chunk, added in chunk order: the centroids do not depend on the thread
 * count. A chain whose every candidate was a centre already is replaced by
 * an exact w D draw (one pass, as k-means++ makes); no mass left then means
 * fewer distinct points than k. */
typedef struct af_ctx {
    const strata__data *X; /* the pass's view of the rows */
    const double *w;       /* n weights, or NULL */
    const double *cent; /* nc x d: the centres so far */
    int64_t nc;
    double a, b;        /* q_x / w_x = a d(x, c_0)^2 + b */
    double *val;        /* n: d(x, c_0)^2, then the chunk's prefix sums of q */
    double *chunk_sum;  /* per chunk: its total of q, or of w D in the exact pass */
} af_ctx;

/* Squared distance, in double, of row i to the point c (d doubles). */
static double row_dist2(const strata__data *X, int64_t i, const double *c)
{
    const void *r = strata__row(X, i);
    double s = 0.0;
    if (X->dtype == STRATA_FLOAT32)
        for (int64_t f = 0; f < X->d; f++) {
            double v = (double)((const float *)r)[f] - c[f];
            s += v * v;
        }
    else
        for (int64_t f = 0; f < X->d; f++) {
            double v = ((const double *)r)[f] - c[f];
            s += v * v;
        }
    return s;
}

/* D: squared distance of row i to the nearest of the nc centres; *d0 the one to c_0. */
static double af_nearest(const strata__data *X, int64_t i, const double *cent, int64_t nc,
                         double *d0)
{
    double best = *d0 = row_dist2(X, i, cent);
    for (int64_t c = 1; c < nc && best > 0.0; c++) {
        double s = row_dist2(X, i, cent + c * X->d);
        if (s < best)
            best = s;
    }
    return best;
}

/* val = d(x, c_0)^2; partial: {sum w d(x, c_0)^2, sum w}. */
static void af_first_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const af_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    const double *wv = c->w;
    for (int64_t i = begin; i < end; i++) {
        const double w = wv ? wv[i] : 1.0, dd = row_dist2(X, i, c->cent);
        c->val[i] = dd;
        partial[0] += w * dd;
        partial[1] += w;
    }
}

/* val: prefix sums of q within the chunk. */
static void af_prefix_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const af_ctx *c = vctx;
    const double *wv = c->w;
    double run = 0.0;
    for (int64_t i = begin; i < end; i++) {
        run += (wv ? wv[i] : 1.0) * (c->a * c->val[i] + c->b);
        c->val[i] = run;
    }
    c->chunk_sum[chunk] = run;
}

/* The exact pass: val = D, chunk_sum = sum w D. */
static void af_exact_chunk(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    const af_ctx *c = vctx;
    const strata__data *X = strata__chunk_view(c->X, tid);
    const double *wv = c->w;
    double pot = 0.0, d0;
    for (int64_t i = begin; i < end; i++) {
        c->val[i] = af_nearest(X, i, c->cent, c->nc, &d0);
        pot += (wv ? wv[i] : 1.0) * c->val[i];
    }
    c->chunk_sum[chunk] = pot;
}

/* The first index in [lo, hi] whose v exceeds target (hi if none; v
 * non-decreasing). */
static int64_t first_above(const double *v, int64_t lo, int64_t hi, double target)
{
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] > target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* A row drawn by q: the first whose prefix sum exceeds target (so it has
 * q > 0), found by bisection over the chunks' running totals (cum), then
 * within the chunk; a target at the total (rounding) takes the last row
 * with q > 0. */
static int64_t af_draw(const strata__data *X, const double *val, const double *cum,
                       int64_t nchunks, double target)
{
    int64_t lo = 0, hi = nchunks - 1;
    if (!(target < cum[hi])) { /* the last chunk with mass */
        target = cum[hi];
        while (hi > 0 && !(cum[hi] > cum[hi - 1]))
            hi--;
    }
    lo = first_above(cum, lo, hi, target);
    const int64_t b = lo * STRATA__CHUNK_ROWS;
    const int64_t e = b + STRATA__CHUNK_ROWS < X->n ? b + STRATA__CHUNK_ROWS : X->n;
    double t = target - (lo ? cum[lo - 1] : 0.0);
    if (!(t < val[e - 1]))
        t = nextafter(val[e - 1], -INFINITY); /* the first row reaching the chunk's total */
    return first_above(val, b, e - 1, t);
}

/* A stream: the proposal's pass and any exact pass walk its blocks; every
 * chain draw (k x chain_length in all) is a random read of one row. */
static int afkmc2(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, strata__rng *rng,
                  double *centroids, const seed_meter *sm, char *msg)
{
    const strata__data *X = &src->mem; /* n, d, dtype, w */
    strata__data view, rv;
    void *rbuf = NULL;
    size_t rcap = 0;
    const int64_t n = X->n, d = X->d, k = cfg->k, m = cfg->chain_length;
    const int64_t nchunks = strata__chunk_count(n, STRATA__CHUNK_ROWS);
    double *val = strata__alloc((size_t)n, sizeof(double));
    double *chunk_sum = strata__alloc((size_t)nchunks, sizeof(double));
    double *cum = strata__alloc((size_t)nchunks, sizeof(double));
    double *exact = NULL, *exact_sum = NULL; /* the exact pass's, made when first needed */
    int rc = STRATA_OK;
    if (!val || !chunk_sum || !cum)
        goto nomem;

    if ((rc = strata__rowsrc_copy_row(src, draw_by_weight(X, nchunks, chunk_sum, rng), centroids,
                                      &rbuf, &rcap, msg)))
        goto done;
    if (k == 1)
        goto done;
    /* The proposal. */
    af_ctx c = {.X = &view, .w = X->w, .cent = centroids, .nc = 1, .val = val, .chunk_sum = chunk_sum};
    double sw[2] = {0.0, 0.0};
    if ((rc = strata__rowsrc_pass(src, cfg->threads, 2, sw, af_first_chunk, &c, &view, msg)) ||
        (rc = seed_report(sm, 1, msg)))
        goto done;
    if (!isfinite(sw[0])) {
        rc = strata__fail(msg, STRATA_E_NONFINITE,
                          "AFK-MC2: the weighted squared distances sum beyond the double range; "
                          "rescale the data or the sample weights first");
        goto done;
    }
    /* Every row at c_0 (S = 0): the uniform part alone, and every chain ends
     * on c_0, so the exact pass below finds the points too few. */
    c.a = sw[0] > 0.0 ? 0.5 / sw[0] : 0.0;
    c.b = sw[0] > 0.0 ? 0.5 / sw[1] : 1.0 / sw[1];
    if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, cfg->threads, 0, NULL, af_prefix_chunk, &c))
        goto nomem;
    double total = 0.0;
    for (int64_t ch = 0; ch < nchunks; ch++)
        cum[ch] = total += chunk_sum[ch];

    for (int64_t j = 1; j < k; j++) {
        const double *cent = centroids;
        double dx = 0.0, rx = 0.0, d0;
        int64_t x = -1;
        for (int64_t s = 0; s < m; s++) {
            int64_t y = af_draw(X, val, cum, nchunks, strata__rng_uniform(rng) * total);
            if ((rc = strata__rowsrc_rows(src, y, 1, &rv, &rbuf, &rcap, msg)))
                goto done;
            double dy = af_nearest(&rv, y, cent, j, &d0), ry = c.a * d0 + c.b;
            /* accept with probability min(1, (dy / ry) / (dx / rx)); always
             * the first draw (x < 0), never a centre after a non-centre */
            double u = strata__rng_uniform(rng);
            if (x < 0 || dy * rx > u * dx * ry) {
                x = y;
                dx = dy;
                rx = ry;
            }
        }
        if (dx > 0.0) {
            if ((rc = strata__rowsrc_copy_row(src, x, centroids + j * d, &rbuf, &rcap, msg)) ||
                (rc = seed_report(sm, j + 1, msg)))
                goto done;
            continue;
        }
        /* Every candidate was a centre: an exact draw by w D. */
        if (!exact && (!(exact = strata__alloc((size_t)n, sizeof(double))) ||
                       !(exact_sum = strata__alloc((size_t)nchunks, sizeof(double)))))
            goto nomem;
        af_ctx e = {.X = &view, .w = X->w, .cent = centroids, .nc = j, .val = exact,
                    .chunk_sum = exact_sum};
        if ((rc = strata__rowsrc_pass(src, cfg->threads, 0, NULL, af_exact_chunk, &e, &view, msg)))
            goto done;
        double pot = 0.0;
        for (int64_t ch = 0; ch < nchunks; ch++)
            pot += exact_sum[ch];
        if (!(pot > 0.0)) { /* every point of weight > 0 is a centroid */
            if ((rc = too_few_points(cfg, "AFK-MC2", j, d, centroids, msg)))
                goto done;
            break;
        }
        x = search_mass(X, exact, NULL, exact_sum, nchunks, strata__rng_uniform(rng) * pot, NULL, NULL);
        if ((rc = strata__rowsrc_copy_row(src, x, centroids + j * d, &rbuf, &rcap, msg)) ||
            (rc = seed_report(sm, j + 1, msg)))
            goto done;
    }
    goto done;
nomem:
    rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory in AFK-MC2 (n = %lld, d = %lld)",
                      (long long)n, (long long)d);
done:
    strata__free(rbuf);
    strata__free(val);
    strata__free(chunk_sum);
    strata__free(cum);
    strata__free(exact);
    strata__free(exact_sum);
    return rc;
}

static int seed_run(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, int64_t run,
                    const double *mean, double *centroids, int32_t *scratch,
                    const seed_meter *sm, char *msg)
{
    const strata__data *X = &src->mem;
    if (cfg->init == STRATA_INIT_CENTROIDS) {
        memcpy(centroids, cfg->init_centroids, (size_t)(cfg->k * X->d) * sizeof(double));
        return STRATA_OK;
    }
    strata__rng rng;
    strata__rng_seed(&rng, (uint64_t)cfg->seed, (uint64_t)run);
    if (cfg->init == STRATA_INIT_RANDOM)
        return random_rows(src, cfg, &rng, centroids, msg);
    if (cfg->init == STRATA_INIT_KMEANS_PARALLEL)
        return kmeans_parallel(src, cfg, run, mean, &rng, centroids, scratch, sm, msg);
    if (cfg->init == STRATA_INIT_AFKMC2)
        return afkmc2(src, cfg, &rng, centroids, sm, msg);
    return kmeanspp(src, cfg, mean, &rng, centroids, scratch, sm, msg);
}

/* The seeding, reported as STRATA_STEP_SEED (cfg->steps): 0 of total
 * before, total of total after, and between, after each centre (k-means++,
 * AFK-MC2: total = k) or each round's pass (k-means||: total = its most
 * rounds + 1, the last unit its reduction to k); include/strata.h. */
int strata__kmeans_init(const strata__rowsrc *src, const strata__kmeans_cfg *cfg, int64_t run,
                        const double *mean, double *centroids, int32_t *scratch, char *msg)
{
    const seed_meter sm = {&cfg->steps, run,
                           cfg->init == STRATA_INIT_KMEANS_PARALLEL && cfg->k > 1
                               ? KMPAR_ROUNDS + KMPAR_EXTRA_ROUNDS + 2
                               : cfg->k};
    int rc = strata__step(&cfg->steps, STRATA_STEP_SEED, run, 0, sm.total, NAN, msg);
    if (!rc)
        rc = seed_run(src, cfg, run, mean, centroids, scratch, &sm, msg);
    return rc ? rc : strata__step(&cfg->steps, STRATA_STEP_SEED, run, sm.total, sm.total, NAN, msg);
}
