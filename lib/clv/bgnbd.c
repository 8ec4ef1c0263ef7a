/* BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy
 * way"): the log-likelihood of the calibration summaries and its gradient
 * in closed form, the maximum-likelihood fit, and the per-customer
 * predictions. Also the weighted distinct points both models sum over.
 *
 * For a customer with x repeat purchases, the last at t_x, observed for T:
 *   L = B(a, b + x)/B(a, b) Gamma(r + x)/Gamma(r) alpha^r
 *       [ (alpha + T)^-(r + x) + [x > 0] a/(b + x - 1) (alpha + t_x)^-(r + x) ]
 * so, with l2 = -(r + x) ln(alpha + T) and l3 = ln a - ln(b + x - 1)
 * - (r + x) ln(alpha + t_x),
 *   ln L = lnG(r + x) - lnG(r) + r ln alpha + lnG(a + b) + lnG(b + x)
 *          - lnG(b) - lnG(a + b + x) + logsumexp(l2, l3)
 * and, with w2, w3 the shares of the two terms in the sum (w3 = 0 for x = 0),
 *   d/dr     = psi(r + x) - psi(r) + ln alpha - w2 ln(alpha + T) - w3 ln(alpha + t_x)
 *   d/dalpha = r/alpha - (r + x) (w2/(alpha + T) + w3/(alpha + t_x))
 *   d/da     = psi(a + b) - psi(a + b + x) + w3/a
 *   d/db     = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w3/(b + x - 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clv/clv.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"

#define POINT_CHUNK 4096

/* ---- distinct points --------------------------------------------------- */

typedef struct trip {
    double x, a, b;
    int64_t i; /* not compared */
} trip;

static int cmp_trip(const void *pa, const void *pb)
{
    const trip *p = pa, *q = pb;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    return 0;
}

static int cmp_double(const void *pa, const void *pb)
{
    const double p = *(const double *)pa, q = *(const double *)pb;
    return (p > q) - (p < q);
}

/* The distinct values of b (T) and each point's index among them, when
 * they are few (at most an eighth of the points, as the days of a log give):
 * the likelihood then takes log(alpha + T) once per value. */
static int b_table(strata__clv_points *p)
{
    double *v = strata__alloc((size_t)(p->n > 0 ? p->n : 1), sizeof *v);
    if (!v) {
        strata__clv_points_free(p);
        return STRATA_E_NOMEM;
    }
    memcpy(v, p->b, (size_t)p->n * sizeof *v);
    qsort(v, (size_t)p->n, sizeof *v, cmp_double);
    int64_t nb = 0;
    for (int64_t i = 0; i < p->n; i++)
        if (i == 0 || v[i] != v[nb - 1])
            v[nb++] = v[i];
    if (nb > p->n / 8 || nb > INT32_MAX) {
        strata__free(v);
        return STRATA_OK;
    }
    p->bi = strata__alloc((size_t)(p->n > 0 ? p->n : 1), sizeof *p->bi);
    if (!p->bi) {
        strata__free(v);
        strata__clv_points_free(p);
        return STRATA_E_NOMEM;
    }
    for (int64_t i = 0; i < p->n; i++) {
        int64_t lo = 0, hi = nb - 1; /* v[lo..hi] holds b[i] */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (v[mid] < p->b[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        p->bi[i] = (int32_t)lo;
    }
    p->bu = v;
    p->nb = nb;
    return STRATA_OK;
}

int strata__clv_points_make(const double *x, const double *a, const double *b, int64_t n, int k,
                            strata__clv_points *out)
{
    return strata__clv_points_make_order(x, a, b, n, k, out, NULL);
}

/* A hash of the triple (the bits of v + 0.0: -0 and +0, equal, hash alike). */
static uint64_t hash_trip(double x, double a, double b)
{
    double v[3] = {x + 0.0, a + 0.0, b + 0.0};
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 3; k++) {
        uint64_t u;
        memcpy(&u, &v[k], sizeof u);
        h = (h ^ u) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    return h;
}

/* The distinct triples in a hash table (open addressing, grown at half
 * full), each customer's triple numbered in order of first appearance
 * (pid), then the few distinct triples sorted and the customers counted
 * into them: O(n) but for the sort of the distinct points. The result does
 * not depend on the hash: the points are sorted by value, and the customers
 * of a point are in ascending order. */
int strata__clv_points_make_order(const double *x, const double *a, const double *b, int64_t n,
                                  int k, strata__clv_points *out, int64_t *order)
{
    memset(out, 0, sizeof *out);
    size_t cap = 1024;
    int64_t *pid = strata__alloc((size_t)(n > 0 ? n : 1), sizeof *pid);
    int64_t *tab = strata__alloc(cap, sizeof *tab); /* first customer of the triple, or -1 */
    trip *rep = NULL;                              /* the distinct triples (i: first customer) */
    int64_t *rank = NULL, *pos = NULL, u = 0, repcap = 1024;
    rep = strata__alloc((size_t)repcap, sizeof *rep);
    if (!pid || !tab || !rep)
        goto nomem;
    for (size_t q = 0; q < cap; q++)
        tab[q] = -1;
    for (int64_t i = 0; i < n; i++) {
        if (k == 2 && !(x[i] > 0 && a[i] > 0)) {
            pid[i] = -1;
            continue;
        }
        const double xi = x[i], ai = a[i], bi = k == 3 ? b[i] : 0.0;
        size_t q = (size_t)hash_trip(xi, ai, bi) & (cap - 1);
        int64_t j = -1;
        for (; tab[q] >= 0; q = (q + 1) & (cap - 1)) {
            const trip *t = &rep[tab[q]];
            if (t->x == xi && t->a == ai && t->b == bi) {
                j = tab[q];
                break;
            }
        }
        if (j < 0) {
            if (u == repcap) {
                trip *r2 = strata__alloc((size_t)repcap * 2, sizeof *r2);
                if (!r2)
                    goto nomem;
                memcpy(r2, rep, (size_t)u * sizeof *rep);
                strata__free(rep);
                rep = r2;
                repcap *= 2;
            }
            j = u++;
            rep[j] = (trip){xi, ai, bi, j};
            tab[q] = j;
            if ((size_t)u * 2 > cap) { /* grow and rehash */
                size_t c2 = cap * 2;
                int64_t *t2 = strata__alloc(c2, sizeof *t2);
                if (!t2)
                    goto nomem;
                for (size_t r = 0; r < c2; r++)
                    t2[r] = -1;
                for (int64_t e = 0; e < u; e++) {
                    size_t r = (size_t)hash_trip(rep[e].x, rep[e].a, rep[e].b) & (c2 - 1);
                    while (t2[r] >= 0)
                        r = (r + 1) & (c2 - 1);
                    t2[r] = e;
                }
                strata__free(tab);
                tab = t2;
                cap = c2;
            }
        }
        pid[i] = j;
    }
    strata__free(tab);
    tab = NULL;
    qsort(rep, (size_t)u, sizeof *rep, cmp_trip); /* distinct: no ties */
    size_t cnt = (size_t)(u > 0 ? u : 1);
    rank = strata__alloc(cnt, sizeof *rank);
    pos = strata__calloc(cnt + 1, sizeof *pos);
    out->x = strata__alloc(cnt, sizeof(double));
    out->a = strata__alloc(cnt, sizeof(double));
    out->b = strata__alloc(cnt, sizeof(double));
    out->w = strata__alloc(cnt, sizeof(double));
    if (!rank || !pos || !out->x || !out->a || !out->b || !out->w)
        goto nomem;
    for (int64_t j = 0; j < u; j++) {
        rank[rep[j].i] = j;
        out->x[j] = rep[j].x;
        out->a[j] = rep[j].a;
        out->b[j] = k == 3 ? rep[j].b : log(rep[j].a);
        out->w[j] = 0.0;
    }
    for (int64_t i = 0; i < n; i++)
        if (pid[i] >= 0) {
            pid[i] = rank[pid[i]];
            out->w[pid[i]] += 1.0;
            pos[pid[i] + 1]++;
        }
    if (order) {
        for (int64_t j = 0; j < u; j++)
            pos[j + 1] += pos[j];
        for (int64_t i = 0; i < n; i++)
            if (pid[i] >= 0)
                order[pos[pid[i]]++] = i;
    }
    out->n = u;
    strata__free(pid);
    strata__free(rep);
    strata__free(rank);
    strata__free(pos);
    return k == 3 ? b_table(out) : STRATA_OK;
nomem:
    strata__free(pid);
    strata__free(tab);
    strata__free(rep);
    strata__free(rank);
    strata__free(pos);
    strata__clv_points_free(out);
    return STRATA_E_NOMEM;
}

void strata__clv_points_free(strata__clv_points *p)
{
    strata__free(p->x);
    strata__free(p->a);
    strata__free(p->b);
    strata__free(p->w);
    strata__free(p->bu);
    strata__free(p->bi);
    memset(p, 0, sizeof *p);
}

/* ---- log-likelihood ------------------------------------------------------ */

/* The terms of one customer that depend on x, and the rest: ll and grad
 * (without the x-free constants). */
typedef struct xterms {
    double x, lg, ps_rx, ps_bx, ps_abx, l3a; /* l3a: log(a) - log(b + x - 1) */
} xterms;

static void x_terms(xterms *c, double x, const double *par)
{
    const double r = par[0], a = par[2], b = par[3];
    c->x = x;
    c->lg = strata__lgamma(r + x) + strata__lgamma(b + x) - strata__lgamma(a + b + x);
    c->ps_rx = strata__digamma(r + x);
    c->ps_bx = strata__digamma(b + x);
    c->ps_abx = strata__digamma(a + b + x);
    c->l3a = x > 0 ? log(a) - log(b + x - 1) : 0.0;
}

/* ltx: log(alpha + t_x) (any value when x = 0); lT: log(alpha + T). */
static double point_ll(const xterms *c, double tx, double ltx, double T, double lT,
                       const double *par, double *g)
{
    const double r = par[0], al = par[1], a = par[2], b = par[3], x = c->x;
    const double l2 = -(r + x) * lT;
    double lse = l2, w2 = 1.0, w3 = 0.0;
    if (x > 0) {
        double l3 = c->l3a - (r + x) * ltx;
        double m = l2 > l3 ? l2 : l3;
        double e2 = exp(l2 - m), e3 = exp(l3 - m), s = e2 + e3;
        lse = m + log(s);
        w2 = e2 / s;
        w3 = e3 / s;
    }
    if (g) {
        g[0] = c->ps_rx - w2 * lT - w3 * ltx;
        g[1] = -(r + x) * (w2 / (al + T) + (x > 0 ? w3 / (al + tx) : 0.0));
        g[2] = -c->ps_abx + (x > 0 ? w3 / a : 0.0);
        g[3] = c->ps_bx - c->ps_abx - (x > 0 ? w3 / (b + x - 1) : 0.0);
    }
    return c->lg + lse;
}

/* The x-free part per customer: value and gradient. */
static double const_terms(const double *par, double *g)
{
    const double r = par[0], al = par[1], a = par[2], b = par[3];
    double psab = strata__digamma(a + b);
    g[0] = -strata__digamma(r) + log(al);
    g[1] = r / al;
    g[2] = psab;
    g[3] = psab - strata__digamma(b);
    return -strata__lgamma(r) + r * log(al) + strata__lgamma(a + b) - strata__lgamma(b);
}

double strata__bgnbd_loglik1(double x, double tx, double T, const double par[4], double grad[4])
{
    xterms c;
    double g[4], g0[4];
    x_terms(&c, x, par);
    double ll = point_ll(&c, tx, log(par[1] + tx), T, log(par[1] + T), par, g) +
                const_terms(par, g0);
    if (grad)
        for (int i = 0; i < 4; i++)
            grad[i] = g[i] + g0[i];
    return ll;
}

typedef struct ll_ctx {
    const strata__clv_points *p;
    const double *par;
    const double *lbu; /* log(alpha + bu[k]), or NULL: no table */
} ll_ctx;

static void bgnbd_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    const ll_ctx *c = ctx;
    const strata__clv_points *p = c->p;
    xterms xt = {.x = NAN};
    double g[4], tx = NAN, ltx = 0.0;
    for (int64_t i = begin; i < end; i++) { /* sorted by x, then t_x: both cached */
        if (!(p->x[i] == xt.x))
            x_terms(&xt, p->x[i], c->par);
        if (!(p->a[i] == tx)) {
            tx = p->a[i];
            ltx = log(c->par[1] + tx);
        }
        double w = p->w[i];
        const double T = p->b[i], lT = c->lbu ? c->lbu[p->bi[i]] : log(c->par[1] + T);
        partial[0] += w * point_ll(&xt, tx, ltx, T, lT, c->par, g);
        for (int k = 0; k < 4; k++)
            partial[1 + k] += w * g[k];
    }
}

int strata__bgnbd_loglik(const strata__clv_points *p, const double par[4], int threads,
                         double *ll, double grad[4])
{
    double tot[5] = {0, 0, 0, 0, 0}, g0[4], W = 0.0, *lbu = NULL;
    if (p->bi) {
        if (!(lbu = strata__alloc((size_t)(p->nb > 0 ? p->nb : 1), sizeof *lbu)))
            return STRATA_E_NOMEM;
        for (int64_t k = 0; k < p->nb; k++)
            lbu[k] = log(par[1] + p->bu[k]);
    }
    ll_ctx c = {p, par, lbu};
    int rc = strata__parallel_chunks(p->n, POINT_CHUNK, threads, 5, tot, bgnbd_chunk, &c);
    strata__free(lbu);
    if (rc)
        return STRATA_E_NOMEM;
    for (int64_t i = 0; i < p->n; i++)
        W += p->w[i];
    double k0 = const_terms(par, g0);
    *ll = tot[0] + W * k0;
    if (grad)
        for (int k = 0; k < 4; k++)
            grad[k] = tot[1 + k] + W * g0[k];
    return STRATA_OK;
}

/* ---- fit ------------------------------------------------------------------ */

typedef struct obj_ctx {
    const strata__clv_points *p;
    int threads;
    double W;
    double mean; /* mean T: scales the starts' alpha */
} obj_ctx;

/* -LL / W and its gradient in theta = ln(par). */
static int bgnbd_obj(void *ctx, const double *th, double *f, double *g)
{
    const obj_ctx *c = ctx;
    double par[4], ll, gr[4];
    for (int i = 0; i < 4; i++)
        par[i] = exp(th[i]);
    int rc = strata__bgnbd_loglik(c->p, par, c->threads, &ll, gr);
    if (rc)
        return rc;
    *f = isfinite(ll) ? -ll / c->W : INFINITY;
    for (int i = 0; i < 4; i++)
        g[i] = -gr[i] * par[i] / c->W;
    return 0;
}

/* Starting points (r, alpha / mean T, a, b). */
static const double BG_START[][4] = {
    {1.0, 0.1, 1.0, 1.0},  {0.5, 0.1, 0.5, 2.0}, {2.0, 0.5, 2.0, 0.5},  {0.25, 0.05, 1.0, 4.0},
    {1.0, 1.0, 0.5, 0.5},  {0.5, 0.02, 2.0, 2.0}, {4.0, 2.0, 4.0, 4.0}, {0.1, 0.2, 0.2, 1.0},
};
#define NSTART_TABLE 8

/* Start s: the table's start, alpha by the mean T. */
static void bgnbd_start(void *ctx, int s, double *th)
{
    const obj_ctx *c = ctx;
    const double *st = BG_START[s % NSTART_TABLE];
    double sc = strata__clv_start_scale(s, NSTART_TABLE);
    th[0] = log(st[0] * sc);
    th[1] = log(st[1] * c->mean * sc);
    th[2] = log(st[2] * sc);
    th[3] = log(st[3] / sc);
}

int strata__bgnbd_fit(const strata__clv_points *p, int starts, int threads,
                      const strata__steps *steps, strata__clv_fit *out, char *msg)
{
    memset(out, 0, sizeof *out);
    out->loglik = -INFINITY;
    for (int i = 0; i < 4; i++)
        out->par[i] = NAN;
    if (p->n == 0)
        return strata__fail(msg, STRATA_E_ARG, "no customer to fit the BG/NBD model to");
    double W = 0.0, sT = 0.0;
    for (int64_t i = 0; i < p->n; i++) {
        W += p->w[i];
        sT += p->w[i] * p->b[i];
    }
    double meanT = sT / W > 0 ? sT / W : 1.0;
    obj_ctx c = {p, threads, W, meanT};
    strata__clv_opt o = {.dim = 4, .lo = log(1e-8), .hi = log(1e8), .max_iter = 500,
                         .gtol = 1e-9};
    int rc = strata__clv_multistart(&o, bgnbd_obj, &c, bgnbd_start, starts, W, steps, 0,
                                    "BG/NBD", out, msg);
    if (rc)
        return rc;
    if (!isfinite(out->loglik))
        return strata__fail(msg, STRATA_E_NONFINITE, "the BG/NBD log-likelihood is not finite "
                            "at any starting point: check the summaries (x, t_x, T)");
    /* the log-likelihood at the parameters reported, recomputed from them */
    double ll;
    if (strata__bgnbd_loglik(p, out->par, threads, &ll, NULL))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory fitting BG/NBD");
    out->loglik = ll;
    return STRATA_OK;
}

/* ---- predictions ---------------------------------------------------------- */

double strata__bgnbd_p_alive(const double par[4], double x, double tx, double T)
{
    if (!(x > 0))
        return 1.0;
    const double r = par[0], al = par[1], a = par[2], b = par[3];
    double l = log(a) - log(b + x - 1) + (r + x) * (log(al + T) - log(al + tx));
    return 1.0 / (1.0 + exp(l));
}

/* ((1 - z)^(r + x)) 2F1(r + x, b + x; a + b + x - 1; z), the papers' form,
 * or, by Euler's transformation 2F1(A, B; C; z) = (1 - z)^(C - A - B)
 * 2F1(C - A, C - B; C; z), the same as (1 - z)^(a - 1) 2F1(a + b - 1 - r,
 * a - 1; a + b + x - 1; z): l1z = log(1 - z). The sum of the papers' series
 * grows like (1 - z)^-(r + x + 1 - a) (terms rising like k^(r + x - a)
 * before they fall: overflow for x in the hundreds), the other's like
 * (1 - z)^-(a - 1 - r - x) (a in the millions, a fit of data without
 * dropout, overflows it): the one whose exponent is not positive is summed. */
static double scaled_hyp(double r, double a, double b, double x, double z, double l1z)
{
    if (r + x + 1 - a > 0)
        return exp((a - 1) * l1z) * strata__hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z);
    return exp((r + x) * l1z) * strata__hyp2f1(r + x, b + x, a + b + x - 1, z);
}

double strata__bgnbd_expected(const double par[4], double x, double tx, double T, double t)
{
    if (!(t > 0))
        return 0.0;
    const double r = par[0], al = par[1], a = par[2], b = par[3];
    double z = t / (al + T + t), l1z = log(al + T) - log(al + T + t);
    double first = (a + b + x - 1) / (a - 1);
    double second = 1.0 - scaled_hyp(r, a, b, x, z, l1z);
    double denom = 1.0;
    if (x > 0)
        denom += a / (b + x - 1) * exp((r + x) * (log(al + T) - log(al + tx)));
    return first * second / denom;
}

double strata__bgnbd_expected_new(const double par[4], double t)
{
    if (!(t > 0))
        return 0.0;
    const double r = par[0], al = par[1], a = par[2], b = par[3];
    double z = t / (al + t), l1z = log(al) - log(al + t);
    return (a + b - 1) / (a - 1) * (1.0 - scaled_hyp(r, a, b, 0.0, z, l1z));
}
