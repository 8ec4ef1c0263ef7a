/* Reference implementations for the tests; see ref.h. Only the public
 * header's enums are used (for the dtype values). */
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "ref: out of memory\n");
        abort();
    }
    return p;
}

double ref_at(const ref_data *X, int64_t i, int64_t f)
{
    if (X->dtype == STRATA_FLOAT32)
        return (double)((const float *)X->x)[i * X->stride + f];
    return ((const double *)X->x)[i * X->stride + f];
}

double ref_weight(const ref_data *X, int64_t i)
{
    return X->w ? X->w[i] : 1.0;
}

double ref_dist2(const ref_data *X, int64_t i, const double *c)
{
    double s = 0.0;
    for (int64_t f = 0; f < X->d; f++) {
        double t = ref_at(X, i, f) - c[f];
        s += t * t;
    }
    return s;
}

int32_t ref_nearest(const ref_data *X, int64_t i, const double *c, int64_t k, double *best,
                    double *second)
{
    int32_t arg = 0;
    double b = INFINITY, s = INFINITY;
    for (int64_t j = 0; j < k; j++) {
        double dj = ref_dist2(X, i, c + j * X->d);
        if (dj < b) {
            s = b;
            b = dj;
            arg = (int32_t)j;
        } else if (dj < s) {
            s = dj;
        }
    }
    if (best)
        *best = b;
    if (second)
        *second = s;
    return arg;
}

double ref_inertia(const ref_data *X, const double *c, const int32_t *labels)
{
    double s = 0.0;
    for (int64_t i = 0; i < X->n; i++)
        s += ref_weight(X, i) * ref_dist2(X, i, c + (int64_t)labels[i] * X->d);
    return s;
}

static void data_mean(const ref_data *X, double *mu)
{
    for (int64_t f = 0; f < X->d; f++) {
        double s = 0.0;
        for (int64_t i = 0; i < X->n; i++)
            s += ref_at(X, i, f);
        mu[f] = s / (double)X->n;
    }
}

double ref_mean_variance(const ref_data *X)
{
    double *mu = xcalloc((size_t)X->d, sizeof(double));
    data_mean(X, mu);
    double total = 0.0;
    for (int64_t f = 0; f < X->d; f++) {
        double s = 0.0;
        for (int64_t i = 0; i < X->n; i++) {
            double t = ref_at(X, i, f) - mu[f];
            s += t * t;
        }
        total += s / (double)X->n;
    }
    free(mu);
    return total / (double)X->d;
}

void ref_weighted_mean(const ref_data *X, double *out)
{
    double sw = 0.0;
    for (int64_t i = 0; i < X->n; i++)
        sw += ref_weight(X, i);
    for (int64_t f = 0; f < X->d; f++) {
        double s = 0.0;
        for (int64_t i = 0; i < X->n; i++)
            s += ref_weight(X, i) * ref_at(X, i, f);
        out[f] = s / sw;
    }
}

static double maxabs(const double *v, int64_t d)
{
    double m = 0.0;
    for (int64_t f = 0; f < d; f++)
        m = fmax(m, fabs(v[f]));
    return m;
}

static double sqnorm_from(const double *v, const double *mu, int64_t d)
{
    double s = 0.0;
    for (int64_t f = 0; f < d; f++)
        s += (v[f] - mu[f]) * (v[f] - mu[f]);
    return s;
}

/* One assignment pass: labels, the pass inertia, and the smallest margin. */
static double assign_pass(const ref_data *X, const double *c, int64_t k, const double *mu,
                          int32_t *labels, double *min_margin, double *xrow)
{
    const int64_t d = X->d;
    double *cn = xcalloc((size_t)k, sizeof(double)), *cm = xcalloc((size_t)k, sizeof(double));
    for (int64_t j = 0; j < k; j++) {
        cn[j] = sqnorm_from(c + j * d, mu, d);
        cm[j] = maxabs(c + j * d, d);
    }
    double inertia = 0.0;
    for (int64_t i = 0; i < X->n; i++) {
        int32_t j1 = 0, j2 = -1;
        double d1 = INFINITY, d2 = INFINITY;
        for (int64_t j = 0; j < k; j++) {
            double dj = ref_dist2(X, i, c + j * d);
            if (dj < d1) {
                d2 = d1;
                j2 = j1;
                d1 = dj;
                j1 = (int32_t)j;
            } else if (dj < d2) {
                d2 = dj;
                j2 = (int32_t)j;
            }
        }
        labels[i] = j1;
        inertia += ref_weight(X, i) * d1;
        if (k > 1) {
            for (int64_t f = 0; f < d; f++)
                xrow[f] = ref_at(X, i, f);
            double m = fmax(maxabs(xrow, d), fmax(cm[j1], cm[j2]));
            double scale = sqnorm_from(xrow, mu, d) + cn[j1] + cn[j2] + d1 + d2 +
                           2.0 * sqrt((double)d * d2) * m;
            double r = scale > 0 ? (d2 - d1) / scale : INFINITY;
            if (r < *min_margin)
                *min_margin = r;
        }
    }
    free(cn);
    free(cm);
    return inertia;
}

int ref_lloyd(const ref_data *X, const double *init, int64_t k, int64_t max_iter, double tol,
              ref_fit *out)
{
    const int64_t n = X->n, d = X->d;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->d = d;
    out->k = k;
    out->centroids = xcalloc((size_t)(k * d), sizeof(double));
    out->labels = xcalloc((size_t)n, sizeof(int32_t));
    out->iter_inertia = xcalloc((size_t)max_iter, sizeof(double));
    out->min_margin = INFINITY;
    out->min_tol_gap = INFINITY;

    double *c = out->centroids;
    memcpy(c, init, (size_t)(k * d) * sizeof(double));
    double *cnew = xcalloc((size_t)(k * d), sizeof(double));
    double *wsum = xcalloc((size_t)k, sizeof(double));
    double *mu = xcalloc((size_t)d, sizeof(double));
    double *xrow = xcalloc((size_t)d, sizeof(double));
    int32_t *prev = xcalloc((size_t)n, sizeof(int32_t));
    int32_t *labels = out->labels;
    for (int64_t i = 0; i < n; i++)
        prev[i] = -1;
    data_mean(X, mu);
    const double tol_abs = tol * ref_mean_variance(X);

    int rc = 0, strict = 0, converged = 0;
    int64_t it = 0;
    while (it < max_iter) {
        it++;
        out->iter_inertia[it - 1] = assign_pass(X, c, k, mu, labels, &out->min_margin, xrow);
        /* update */
        memset(cnew, 0, (size_t)(k * d) * sizeof(double));
        memset(wsum, 0, (size_t)k * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            double w = ref_weight(X, i);
            wsum[labels[i]] += w;
            for (int64_t f = 0; f < d; f++)
                cnew[labels[i] * d + f] += w * ref_at(X, i, f);
        }
        double shift = 0.0, cmax = 0.0;
        for (int64_t j = 0; j < k; j++) {
            if (!(wsum[j] > 0.0)) {
                snprintf(out->error, sizeof out->error,
                         "reference: cluster %lld is empty at iteration %lld (not handled)",
                         (long long)j, (long long)it);
                rc = -1;
                goto done;
            }
            for (int64_t f = 0; f < d; f++) {
                double v = cnew[j * d + f] / wsum[j];
                shift += (v - c[j * d + f]) * (v - c[j * d + f]);
                cmax = fmax(cmax, fabs(v));
                c[j * d + f] = v;
            }
        }
        if (memcmp(labels, prev, (size_t)n * sizeof(int32_t)) == 0) {
            strict = converged = 1;
            break;
        }
        /* the shift of centroids of size cmax is only known to about
         * k * d * (u * cmax)^2; be generous */
        double tiny = (double)(k * d) * (1e-12 * cmax) * (1e-12 * cmax);
        double gap = fabs(shift - tol_abs) / (tol_abs + tiny + DBL_MIN);
        if (gap < out->min_tol_gap)
            out->min_tol_gap = gap;
        if (shift <= tol_abs) {
            converged = 1;
            break;
        }
        memcpy(prev, labels, (size_t)n * sizeof(int32_t));
    }
    if (!strict)
        (void)assign_pass(X, c, k, mu, labels, &out->min_margin, xrow);
    out->inertia = ref_inertia(X, c, labels);
    out->n_iter = it;
    out->converged = converged;
    out->strict = strict;
done:
    free(cnew);
    free(wsum);
    free(mu);
    free(xrow);
    free(prev);
    return rc;
}

void ref_fit_free(ref_fit *f)
{
    free(f->centroids);
    free(f->labels);
    free(f->iter_inertia);
    f->centroids = NULL;
    f->labels = NULL;
    f->iter_inertia = NULL;
}

int ref_well_conditioned(const ref_fit *f, int dtype)
{
    double u = dtype == STRATA_FLOAT32 ? ldexp(1.0, -24) : ldexp(1.0, -53);
    return f->min_margin > 4.0 * (double)(f->d + 4) * u && f->min_tol_gap > 1e-6;
}

/* ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(test_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_u64(test_rng *r) /* xoshiro256** */
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(test_rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

double rng_normal(test_rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

int64_t rng_int(test_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_u64(r) % (uint64_t)(hi - lo + 1));
}

void gen_set(gen_data *g, int64_t i, int64_t f, double v)
{
    if (g->dtype == STRATA_FLOAT32)
        ((float *)g->x)[i * g->stride + f] = (float)v;
    else
        ((double *)g->x)[i * g->stride + f] = v;
}

void gen_blobs(gen_data *g, uint64_t seed, int dtype, int64_t n, int64_t d, int64_t stride,
               int64_t nblobs, double spread, double sd, double offset, int weighted)
{
    test_rng r;
    rng_seed(&r, seed);
    memset(g, 0, sizeof *g);
    g->dtype = dtype;
    g->n = n;
    g->d = d;
    g->stride = stride < d ? d : stride;
    g->nblobs = nblobs;
    size_t es = dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
    g->x = xcalloc((size_t)(n * g->stride), es);
    g->centers = xcalloc((size_t)(nblobs * d), sizeof(double));
    g->blob = xcalloc((size_t)n, sizeof(int32_t));
    for (int64_t j = 0; j < nblobs * d; j++)
        g->centers[j] = offset + spread * (2.0 * rng_uniform(&r) - 1.0);
    for (int64_t i = 0; i < n; i++) {
        int64_t b = rng_int(&r, 0, nblobs - 1);
        g->blob[i] = (int32_t)b;
        for (int64_t f = 0; f < d; f++)
            gen_set(g, i, f, g->centers[b * d + f] + sd * rng_normal(&r));
        for (int64_t f = d; f < g->stride; f++)
            gen_set(g, i, f, NAN);
    }
    if (weighted) {
        g->w = xcalloc((size_t)n, sizeof(double));
        for (int64_t i = 0; i < n; i++)
            g->w[i] = rng_uniform(&r) < 0.05 ? 0.0 : 0.25 + 1.75 * rng_uniform(&r);
    }
}

void gen_free(gen_data *g)
{
    free(g->x);
    free(g->w);
    free(g->centers);
    free(g->blob);
    memset(g, 0, sizeof *g);
}

ref_data gen_ref(const gen_data *g)
{
    ref_data X = {g->dtype, g->x, g->n, g->d, g->stride, g->w};
    return X;
}

void gen_pick_rows(const gen_data *g, test_rng *r, int64_t k, double *out)
{
    ref_data X = gen_ref(g);
    const int64_t d = g->d;
    int64_t got = 0, tries = 0;
    while (got < k) {
        if (++tries > 1000 * (k + 10)) {
            fprintf(stderr, "gen_pick_rows: cannot find %lld distinct rows\n", (long long)k);
            abort();
        }
        int64_t i = rng_int(r, 0, g->n - 1);
        if (!(ref_weight(&X, i) > 0.0))
            continue;
        int dup = 0;
        for (int64_t j = 0; j < got && !dup; j++) {
            int same = 1;
            for (int64_t f = 0; f < d && same; f++)
                same = ref_at(&X, i, f) == out[j * d + f];
            dup = same;
        }
        if (dup)
            continue;
        for (int64_t f = 0; f < d; f++)
            out[got * d + f] = ref_at(&X, i, f);
        got++;
    }
}
