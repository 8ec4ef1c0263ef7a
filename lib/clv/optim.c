/* A small bounded quasi-Newton minimiser for the CLV likelihoods (3 or 4
 * log-parameters): BFGS on the inverse Hessian, a backtracking line search
 * with the Armijo condition, every trial point projected on the box; the
 * variables held at a bound with the gradient pushing outwards are frozen
 * for the step. Deterministic: plain arithmetic in a fixed order. */
#include <math.h>
#include <string.h>

#include "clv/clv.h"
#include "core/status.h"

#define MAXD 8

/* Largest change of one theta in a step: exp(4) = 55 times a parameter. */
#define MAX_STEP 4.0

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Max norm of the projected gradient (a variable at a bound whose gradient
 * points out of the box counts 0). */
static double proj_norm(const strata__clv_opt *o, const double *th, const double *g)
{
    double m = 0.0;
    for (int i = 0; i < o->dim; i++) {
        double gi = g[i];
        if ((th[i] <= o->lo && gi > 0) || (th[i] >= o->hi && gi < 0))
            gi = 0;
        m = fabs(gi) > m ? fabs(gi) : m;
    }
    return m;
}

static void reset(double *H, int d)
{
    memset(H, 0, sizeof(double) * MAXD * MAXD);
    for (int i = 0; i < d; i++)
        H[i * MAXD + i] = 1.0;
}

int strata__clv_minimize(const strata__clv_opt *o, strata__clv_objective fn, void *ctx,
                         double *theta, double *fout, int *converged, int *iterations)
{
    const int d = o->dim;
    double H[MAXD * MAXD], g[MAXD], gn[MAXD], p[MAXD], tn[MAXD], s[MAXD], y[MAXD], f, fn_;
    *converged = 0;
    *iterations = 0;
    for (int i = 0; i < d; i++)
        theta[i] = clamp(theta[i], o->lo, o->hi);
    int rc = fn(ctx, theta, &f, g);
    if (rc)
        return rc;
    *fout = f;
    if (!isfinite(f))
        return 0;
    reset(H, d);
    int fresh = 1, stalls = 0;
    double hist[10]; /* f after the last 10 iterations */
    for (int it = 0; it < o->max_iter; it++) {
        *iterations = it + 1;
        if (proj_norm(o, theta, g) < o->gtol) {
            *converged = 1;
            break;
        }
        /* frozen: at a bound, pushed out */
        int frozen[MAXD];
        for (int i = 0; i < d; i++)
            frozen[i] = (theta[i] <= o->lo && g[i] > 0) || (theta[i] >= o->hi && g[i] < 0);
        double slope = 0.0, pmax = 0.0;
        for (int i = 0; i < d; i++) {
            p[i] = 0.0;
            if (frozen[i])
                continue;
            for (int j = 0; j < d; j++)
                if (!frozen[j])
                    p[i] -= H[i * MAXD + j] * g[j];
        }
        for (int i = 0; i < d; i++) {
            slope += p[i] * g[i];
            pmax = fabs(p[i]) > pmax ? fabs(p[i]) : pmax;
        }
        if (!(slope < 0)) { /* not a descent direction: steepest descent */
            if (!fresh) {
                reset(H, d);
                fresh = 1;
                it--;
                continue;
            }
            break;
        }
        double step = pmax > MAX_STEP ? MAX_STEP / pmax : 1.0;
        int accepted = 0;
        for (int ls = 0; ls < 40 && step * pmax > 1e-14; ls++) {
            for (int i = 0; i < d; i++)
                tn[i] = clamp(theta[i] + step * p[i], o->lo, o->hi);
            double lin = 0.0;
            for (int i = 0; i < d; i++)
                lin += g[i] * (tn[i] - theta[i]);
            if ((rc = fn(ctx, tn, &fn_, gn)))
                return rc;
            if (isfinite(fn_) && fn_ <= f + 1e-4 * lin) {
                accepted = 1;
                break;
            }
            /* the minimum of the quadratic through f, the slope and fn_,
             * kept within [0.1, 0.5] of the step (a plain halving when fn_
             * is not finite) */
            double next = 0.5 * step;
            if (isfinite(fn_) && lin < 0) {
                double curv = fn_ - f - lin; /* > 0: the Armijo test failed */
                double q = curv > 0 ? -0.5 * lin / curv * step : next;
                next = q < 0.1 * step ? 0.1 * step : q > 0.5 * step ? 0.5 * step : q;
            }
            step = next;
        }
        if (!accepted) {
            if (!fresh) { /* a stale Hessian: start again from the gradient */
                reset(H, d);
                fresh = 1;
                continue;
            }
            break; /* no decrease along the gradient either: as good as it gets */
        }
        double sy = 0.0, df = f - fn_;
        for (int i = 0; i < d; i++) {
            s[i] = tn[i] - theta[i];
            y[i] = gn[i] - g[i];
            sy += s[i] * y[i];
        }
        memcpy(theta, tn, sizeof(double) * (size_t)d);
        memcpy(g, gn, sizeof(double) * (size_t)d);
        f = fn_;
        *fout = f;
        /* BFGS update of the inverse Hessian when the curvature is positive */
        if (sy > 1e-12 * sqrt(fabs(sy)) && sy > 0) {
            double Hy[MAXD], yHy = 0.0;
            for (int i = 0; i < d; i++) {
                Hy[i] = 0.0;
                for (int j = 0; j < d; j++)
                    Hy[i] += H[i * MAXD + j] * y[j];
                yHy += y[i] * Hy[i];
            }
            if (fresh) { /* scale the first step's identity (Nocedal & Wright 6.20) */
                double yy = 0.0;
                for (int i = 0; i < d; i++)
                    yy += y[i] * y[i];
                double sc = sy / yy;
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++)
                        H[i * MAXD + j] *= sc;
                    Hy[i] *= sc;
                }
                yHy *= sc;
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    H[i * MAXD + j] += ((sy + yHy) * s[i] * s[j]) / (sy * sy) -
                                       (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
            fresh = 0;
        }
        /* no progress left worth having: the value has moved by less than
         * 1e-12 of itself over the last 10 steps */
        hist[it % 10] = f;
        if (it >= 10 && hist[(it + 1) % 10] - f <= 1e-12 * fabs(f)) {
            *converged = proj_norm(o, theta, g) < 1e3 * o->gtol;
            break;
        }
        stalls = df <= 1e-15 * fabs(f) ? stalls + 1 : 0;
        if (stalls >= 5) {
            *converged = proj_norm(o, theta, g) < 1e3 * o->gtol;
            break;
        }
    }
    return 0;
}

double strata__clv_start_scale(int s, int nt)
{
    int k = s / nt;
    return k == 0 ? 1.0 : (k % 2 ? pow(2.0, (k + 1) / 2) : pow(0.5, k / 2));
}

int strata__clv_multistart(const strata__clv_opt *opt, strata__clv_objective fn, void *ctx,
                           strata__clv_start_fn start, int starts, double W,
                           const strata__steps *steps, int run, const char *model,
                           strata__clv_fit *out, char *msg)
{
    int rc = strata__step(steps, STRATA_STEP_ITERATE, run, 0, starts, NAN, msg);
    for (int s = 0; s < starts && !rc; s++) {
        double th[MAXD], f;
        int conv, iters;
        start(ctx, s, th);
        if ((rc = strata__clv_minimize(opt, fn, ctx, th, &f, &conv, &iters)))
            return rc == STRATA_E_NOMEM
                       ? strata__fail(msg, rc, "out of memory fitting %s", model)
                       : rc;
        double ll = -f * W;
        out->starts_converged += conv;
        /* the best converged optimum; an unconverged one only while none is */
        int better = isfinite(ll) && ((conv && !out->converged) ||
                                      (conv == out->converged && ll > out->loglik));
        if (better) {
            for (int i = 0; i < opt->dim; i++)
                out->par[i] = exp(th[i]);
            out->loglik = ll;
            out->converged = conv;
        }
        rc = strata__step(steps, STRATA_STEP_ITERATE, run, s + 1, starts, out->loglik, msg);
    }
    return rc;
}
