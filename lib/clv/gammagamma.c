/* Gamma-Gamma model of spend per purchase (Fader, Hardie and Lee 2005, "RFM
 * and CLV: using iso-value curves for customer base analysis"): the
 * likelihood of the mean spend zbar of a customer's x repeat purchases,
 *   ln f = lnG(p x + q) - lnG(p x) - lnG(q) + q ln gamma + (p x - 1) ln zbar
 *          + p x ln x - (p x + q) ln(gamma + x zbar),
 * its gradient
 *   d/dp     = x [psi(p x + q) - psi(p x) + ln zbar + ln x - ln(gamma + x zbar)]
 *   d/dq     = psi(p x + q) - psi(q) + ln gamma - ln(gamma + x zbar)
 *   d/dgamma = q/gamma - (p x + q)/(gamma + x zbar),
 * the fit, the conditional expected spend and the frequency-spend check. */
#include <math.h>
#include <string.h>

#include "clv/clv.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"

#define POINT_CHUNK 4096

typedef struct xterms {
    double x, lg, ps_pxq, ps_px, lx;
} xterms;

static void x_terms(xterms *c, double x, const double *par)
{
    const double p = par[0], q = par[1];
    c->x = x;
    c->lg = strata__lgamma(p * x + q) - strata__lgamma(p * x) + p * x * log(x);
    c->ps_pxq = strata__digamma(p * x + q);
    c->ps_px = strata__digamma(p * x);
    c->lx = log(x);
}

/* Without the x-free terms -lnG(q) + q ln gamma (and their gradient). */
static double point_ll(const xterms *c, double m, double lm, const double *par, double *g)
{
    const double p = par[0], q = par[1], ga = par[2], x = c->x;
    const double lgm = log(ga + m * x);
    if (g) {
        g[0] = x * (c->ps_pxq - c->ps_px + lm + c->lx - lgm);
        g[1] = c->ps_pxq - lgm;
        g[2] = -(p * x + q) / (ga + m * x);
    }
    return c->lg + (p * x - 1) * lm - (p * x + q) * lgm;
}

static double const_terms(const double *par, double *g)
{
    const double q = par[1], ga = par[2];
    g[0] = 0.0;
    g[1] = -strata__digamma(q) + log(ga);
    g[2] = q / ga;
    return -strata__lgamma(q) + q * log(ga);
}

double strata__gg_loglik1(double x, double zbar, const double par[3], double grad[3])
{
    xterms c;
    double g[3], g0[3];
    x_terms(&c, x, par);
    double ll = point_ll(&c, zbar, log(zbar), par, g) + const_terms(par, g0);
    if (grad)
        for (int i = 0; i < 3; i++)
            grad[i] = g[i] + g0[i];
    return ll;
}

typedef struct ll_ctx {
    const strata__clv_points *p;
    const double *par;
} ll_ctx;

static void gg_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                     double *partial)
{
    const ll_ctx *c = ctx;
    const strata__clv_points *p = c->p;
    xterms xt = {.x = NAN};
    double g[3];
    for (int64_t i = begin; i < end; i++) {
        if (!(p->x[i] == xt.x))
            x_terms(&xt, p->x[i], c->par);
        double w = p->w[i];
        partial[0] += w * point_ll(&xt, p->a[i], p->b[i], c->par, g); /* b: log(zbar) */
        for (int k = 0; k < 3; k++)
            partial[1 + k] += w * g[k];
    }
}

int strata__gg_loglik(const strata__clv_points *p, const double par[3], int threads, double *ll,
                      double grad[3])
{
    double tot[4] = {0, 0, 0, 0}, g0[3], W = 0.0;
    ll_ctx c = {p, par};
    if (strata__parallel_chunks(p->n, POINT_CHUNK, threads, 4, tot, gg_chunk, &c))
        return STRATA_E_NOMEM;
    for (int64_t i = 0; i < p->n; i++)
        W += p->w[i];
    double k0 = const_terms(par, g0);
    *ll = tot[0] + W * k0;
    if (grad)
        for (int k = 0; k < 3; k++)
            grad[k] = tot[1 + k] + W * g0[k];
    return STRATA_OK;
}

typedef struct obj_ctx {
    const strata__clv_points *p;
    int threads;
    double W;
    double mean; /* mean zbar: scales the starts' gamma */
} obj_ctx;

static int gg_obj(void *ctx, const double *th, double *f, double *g)
{
    const obj_ctx *c = ctx;
    double par[3], ll, gr[3];
    for (int i = 0; i < 3; i++)
        par[i] = exp(th[i]);
    int rc = strata__gg_loglik(c->p, par, c->threads, &ll, gr);
    if (rc)
        return rc;
    *f = isfinite(ll) ? -ll / c->W : INFINITY;
    for (int i = 0; i < 3; i++)
        g[i] = -gr[i] * par[i] / c->W;
    return 0;
}

/* Starting points (p, q, gamma / mean zbar). */
static const double GG_START[][3] = {
    {1.0, 2.0, 1.0},  {2.0, 4.0, 1.0},  {5.0, 3.0, 2.0}, {0.5, 1.5, 0.5},
    {10.0, 10.0, 5.0}, {1.0, 5.0, 4.0}, {3.0, 2.0, 0.2}, {20.0, 4.0, 10.0},
};
#define NSTART_TABLE 8

/* Start s: the table's start, gamma by the mean zbar. */
static void gg_start(void *ctx, int s, double *th)
{
    const obj_ctx *c = ctx;
    const double *st = GG_START[s % NSTART_TABLE];
    double sc = strata__clv_start_scale(s, NSTART_TABLE);
    th[0] = log(st[0] * sc);
    th[1] = log(st[1] * sc);
    th[2] = log(st[2] * c->mean / sc);
}

int strata__gg_fit(const strata__clv_points *p, int starts, int threads,
                   const strata__steps *steps, strata__clv_fit *out, char *msg)
{
    memset(out, 0, sizeof *out);
    out->loglik = -INFINITY;
    for (int i = 0; i < 4; i++)
        out->par[i] = NAN;
    if (p->n == 0) /* no repeat customer with spend: nothing to fit, not an error */
        return STRATA_OK;
    double W = 0.0, sm = 0.0;
    for (int64_t i = 0; i < p->n; i++) {
        W += p->w[i];
        sm += p->w[i] * p->a[i];
    }
    double meanz = sm / W > 0 ? sm / W : 1.0;
    obj_ctx c = {p, threads, W, meanz};
    strata__clv_opt o = {.dim = 3, .lo = log(1e-8), .hi = log(1e8), .max_iter = 500,
                         .gtol = 1e-9};
    int rc = strata__clv_multistart(&o, gg_obj, &c, gg_start, starts, W, steps, 1,
                                    "Gamma-Gamma", out, msg);
    if (rc)
        return rc;
    if (!isfinite(out->loglik))
        return strata__fail(msg, STRATA_E_NONFINITE, "the Gamma-Gamma log-likelihood is not "
                            "finite at any starting point: check zbar");
    double ll;
    if (strata__gg_loglik(p, out->par, threads, &ll, NULL))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory fitting Gamma-Gamma");
    out->loglik = ll;
    return STRATA_OK;
}

double strata__gg_expected_spend(const double par[3], double x, double zbar)
{
    const double p = par[0], q = par[1], ga = par[2];
    if (!(q > 1))
        return NAN;
    if (!(x > 0))
        return p * ga / (q - 1);
    return p * (ga + x * zbar) / (p * x + q - 1);
}

double strata__clv_corr(const double *x, const double *zbar, int64_t n)
{
    double sx = 0, sz = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > 0) {
            sx += x[i];
            sz += zbar[i];
            m++;
        }
    if (m < 2)
        return NAN;
    double mx = sx / (double)m, mz = sz / (double)m, cxz = 0, cxx = 0, czz = 0;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > 0) {
            double dx = x[i] - mx, dz = zbar[i] - mz;
            cxz += dx * dz;
            cxx += dx * dx;
            czz += dz * dz;
        }
    if (!(cxx > 0) || !(czz > 0))
        return NAN;
    return cxz / sqrt(cxx * czz);
}
