/* The CLV engine's mathematics, white-box (built from lib/clv's sources):
 *  - the BG/NBD and Gamma-Gamma log-likelihood gradients against central
 *    finite differences at random points, and their values against the
 *    likelihoods written with tgamma (a different route, small x);
 *  - a hand-computed case (x = 0: ln L = r ln(alpha / (alpha + T)));
 *  - the weighted sums over distinct points bitwise the same for 1, 2, 4
 *    threads and equal to the sum of the single-customer values;
 *  - 2F1 against scipy.special.hyp2f1 values (pasted below, with the script
 *    that printed them), digamma against known values;
 *  - the optimiser on Rosenbrock's function, a bound active. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv/clv.h"
#include "test.h"

static uint64_t g_state = 88172645463325252ull;
static double unif(void) /* xorshift64 */
{
    g_state ^= g_state << 13;
    g_state ^= g_state >> 7;
    g_state ^= g_state << 17;
    return (double)(g_state >> 11) / 9007199254740992.0;
}

static void test_bgnbd_gradient(void)
{
    for (int t = 0; t < 200; t++) {
        double par[4] = {0.05 + 3 * unif(), 0.5 + 20 * unif(), 0.05 + 3 * unif(),
                         0.1 + 5 * unif()};
        double x = (double)(int)(10 * unif() * unif()), T = 1 + 50 * unif();
        double tx = x > 0 ? T * unif() : 0;
        double g[4];
        strata__bgnbd_loglik1(x, tx, T, par, g);
        for (int k = 0; k < 4; k++) {
            double h = 1e-6 * par[k], p1[4], p2[4];
            memcpy(p1, par, sizeof p1);
            memcpy(p2, par, sizeof p2);
            p1[k] += h;
            p2[k] -= h;
            double fd = (strata__bgnbd_loglik1(x, tx, T, p1, NULL) -
                         strata__bgnbd_loglik1(x, tx, T, p2, NULL)) / (2 * h);
            ASSERT_MSG(fabs(fd - g[k]) <= 1e-6 * fmax(1.0, fabs(g[k])),
                       "d/dpar[%d] at x=%g t_x=%g T=%g: %.10g analytic, %.10g numeric", k, x,
                       tx, T, g[k], fd);
        }
        /* the likelihood itself, with tgamma and no logarithms (small x) */
        const double r = par[0], al = par[1], a = par[2], b = par[3];
        double B = tgamma(a + b) * tgamma(b + x) / (tgamma(b) * tgamma(a + b + x));
        double G = tgamma(r + x) / tgamma(r) * pow(al, r);
        double L = B * G * (pow(al + T, -(r + x)) +
                            (x > 0 ? a / (b + x - 1) * pow(al + tx, -(r + x)) : 0.0));
        ASSERT_REL(strata__bgnbd_loglik1(x, tx, T, par, NULL), log(L), 1e-10);
    }
    /* by hand: x = 0, r = 1, alpha = 2, T = 3: L = 2/5 */
    const double par[4] = {1, 2, 0.7, 1.3};
    ASSERT_REL(strata__bgnbd_loglik1(0, 0, 3, par, NULL), log(0.4), 1e-14);
    /* P(alive): x = 0 is 1; x = 1, a = b = 1: 1 / (1 + ((alpha+T)/(alpha+t_x))^(r+1)) */
    const double q[4] = {1, 2, 1, 1};
    ASSERT_TRUE(strata__bgnbd_p_alive(q, 0, 0, 10) == 1.0);
    ASSERT_REL(strata__bgnbd_p_alive(q, 1, 3, 8), 1 / (1 + pow(10.0 / 5.0, 2)), 1e-14);
}

static void test_gg_gradient(void)
{
    for (int t = 0; t < 200; t++) {
        double par[3] = {0.2 + 10 * unif(), 1.1 + 10 * unif(), 0.5 + 30 * unif()};
        double x = 1 + (double)(int)(8 * unif()), m = 1 + 100 * unif(), g[3];
        strata__gg_loglik1(x, m, par, g);
        for (int k = 0; k < 3; k++) {
            double h = 1e-6 * par[k], p1[3], p2[3];
            memcpy(p1, par, sizeof p1);
            memcpy(p2, par, sizeof p2);
            p1[k] += h;
            p2[k] -= h;
            double fd = (strata__gg_loglik1(x, m, p1, NULL) - strata__gg_loglik1(x, m, p2, NULL)) /
                        (2 * h);
            ASSERT_MSG(fabs(fd - g[k]) <= 1e-6 * fmax(1.0, fabs(g[k])),
                       "d/dpar[%d] at x=%g zbar=%g: %.10g analytic, %.10g numeric", k, x, m,
                       g[k], fd);
        }
        const double p = par[0], q = par[1], ga = par[2];
        double f = tgamma(p * x + q) / (tgamma(p * x) * tgamma(q)) * pow(ga, q) *
                   pow(m, p * x - 1) * pow(x, p * x) / pow(ga + m * x, p * x + q);
        if (isfinite(f) && f > 0)
            ASSERT_REL(strata__gg_loglik1(x, m, par, NULL), log(f), 1e-9);
    }
}

static void test_sums_and_threads(void)
{
    enum { N = 5000 };
    double *x = test_alloc(N, 8), *tx = test_alloc(N, 8), *T = test_alloc(N, 8),
           *z = test_alloc(N, 8);
    for (int i = 0; i < N; i++) {
        x[i] = (double)(int)(6 * unif() * unif());
        T[i] = (double)(int)(1 + 270 * unif()) / 7;
        tx[i] = x[i] > 0 ? (double)(int)(T[i] * 7 * unif()) / 7 : 0;
        z[i] = x[i] > 0 ? 1 + (double)(int)(5000 * unif()) / 100 : 0;
    }
    strata__clv_points p, q;
    ASSERT_OK(strata__clv_points_make(x, tx, T, N, 3, &p));
    ASSERT_OK(strata__clv_points_make(x, z, NULL, N, 2, &q));
    ASSERT_TRUE(p.n < N && p.n > 50);
    const double par[4] = {0.3, 4, 0.8, 2.4}, gp[3] = {6, 3.7, 15};
    double ll1, g1[4], ll2, g2[4], ll4, g4[4], direct = 0, gd[4] = {0}, g[4];
    ASSERT_OK(strata__bgnbd_loglik(&p, par, 1, &ll1, g1));
    ASSERT_OK(strata__bgnbd_loglik(&p, par, 2, &ll2, g2));
    ASSERT_OK(strata__bgnbd_loglik(&p, par, 4, &ll4, g4));
    ASSERT_TRUE(memcmp(&ll1, &ll2, 8) == 0 && memcmp(&ll1, &ll4, 8) == 0);
    ASSERT_TRUE(memcmp(g1, g2, sizeof g1) == 0 && memcmp(g1, g4, sizeof g1) == 0);
    for (int i = 0; i < N; i++) {
        direct += strata__bgnbd_loglik1(x[i], tx[i], T[i], par, g);
        for (int k = 0; k < 4; k++)
            gd[k] += g[k];
    }
    ASSERT_REL(ll1, direct, 1e-11);
    for (int k = 0; k < 4; k++)
        ASSERT_REL(g1[k], gd[k], 1e-9);
    double l1, l4, h1[3], h4[3], dg = 0;
    ASSERT_OK(strata__gg_loglik(&q, gp, 1, &l1, h1));
    ASSERT_OK(strata__gg_loglik(&q, gp, 4, &l4, h4));
    ASSERT_TRUE(memcmp(&l1, &l4, 8) == 0 && memcmp(h1, h4, sizeof h1) == 0);
    for (int i = 0; i < N; i++)
        if (x[i] > 0)
            dg += strata__gg_loglik1(x[i], z[i], gp, NULL);
    ASSERT_REL(l1, dg, 1e-11);
    /* the fits: bitwise the same for any thread count */
    strata__clv_fit f1, f4;
    char msg[512];
    ASSERT_OK(strata__bgnbd_fit(&p, 4, 1, NULL, &f1, msg));
    ASSERT_OK(strata__bgnbd_fit(&p, 4, 4, NULL, &f4, msg));
    ASSERT_TRUE(memcmp(f1.par, f4.par, sizeof f1.par) == 0 && f1.loglik == f4.loglik);
    /* these points are no BG/NBD sample: a and b run off together towards
     * the box (no dropout; only a / (a + b) is identified), and the fit says
     * it did not converge; it still beats the point it was scored at, and the
     * gradient of the identified parameters vanishes */
    ASSERT_TRUE(f1.loglik > ll1);
    double ll, gr[4];
    ASSERT_OK(strata__bgnbd_loglik(&p, f1.par, 1, &ll, gr));
    ASSERT_TRUE(ll == f1.loglik);
    for (int k = 0; k < 2; k++)
        ASSERT_MSG(fabs(gr[k] * f1.par[k]) / N < 1e-4, "gradient %d at the optimum: %g", k, gr[k]);
    strata__clv_points_free(&p);
    strata__clv_points_free(&q);
    free(x);
    free(tx);
    free(T);
    free(z);
}

/* Printed by (scipy 1.x):
 *   python3 -c "from scipy.special import hyp2f1
 *   for a,b,c,z in [(0.5,1.5,2.5,0.9),(2.2426,3.4259,4.2188,0.55),
 *       (0.2426,2.4259,2.2188,0.946),(1.0,1.0,2.0,0.5),(10.5,12.0,11.3,0.3),
 *       (0.25,2.5,1.75,0.99)]: print('{%r, %r, %r, %r, %.17g},'%(a,b,c,z,hyp2f1(a,b,c,z)))" */
static const double HYP[][5] = {
    {0.5, 1.5, 2.5, 0.9, 1.6673034691845778},
    {2.2426, 3.4259, 4.2188, 0.55, 4.1104949778706406},
    {0.2426, 2.4259, 2.2188, 0.946, 2.3803420931221768},
    {1.0, 1.0, 2.0, 0.5, 1.3862943611198901},
    {10.5, 12.0, 11.3, 0.3, 53.499817778376809},
    {0.25, 2.5, 1.75, 0.99, 20.783274116839085},
    /* c in (-1, 0): BG/NBD's a + b + x - 1 for x = 0 where a + b < 1 (mpmath
     * at 50 digits: mp.hyp2f1(a, b, c, z)); the series was refused there */
    {0.334, 0.2014, -0.7414, 0.5, 0.7743171228227574},
    {1.5, 0.3, -0.4, 0.9, -216.54425842677908},
    {0.2, 2.5, -0.95, 0.99, -259776789.59305713},
    {0.7, 0.4, -0.01, 0.3, -11.866522239339071},
};

/* Expected purchases against mpmath at 50 digits (the FHL 2005 formulas):
 *   import mpmath as mp; mp.mp.dps = 50
 *   def E(r,al,a,b,x,tx,T,t):   # conditional, next t periods
 *       r,al,a,b,x,tx,T,t = map(mp.mpf,(r,al,a,b,x,tx,T,t))
 *       hyp = mp.hyp2f1(r+x, b+x, a+b+x-1, t/(al+T+t))
 *       den = 1 + (a/(b+x-1)*((al+T)/(al+tx))**(r+x) if x > 0 else 0)
 *       return (a+b+x-1)/(a-1)*(1-((al+T)/(al+T+t))**(r+x)*hyp)/den
 *   unconditional: (a+b-1)/(a-1)*(1-(al/(al+t))**r*mp.hyp2f1(r,b,a+b-1,t/(al+t)))
 * The second set: a -> 0, b large (a fit of data without dropout): the
 * formula cancels about 1e5-fold there. */
/* The points' customer order (scoring per point) and the table of distinct
 * T (the likelihood's log(alpha + T) once per value): checked against the
 * customers, and the likelihood with the table bitwise equal to without. */
static void test_points_order_and_table(void)
{
    enum { N = 3000 };
    double *x = test_alloc(N, 8), *tx = test_alloc(N, 8), *T = test_alloc(N, 8),
           *z = test_alloc(N, 8);
    int64_t *order = test_alloc(N, 8);
    int *seen = test_alloc(N, sizeof(int));
    for (int i = 0; i < N; i++) {
        x[i] = (double)(int)(4 * unif() * unif());
        T[i] = (double)(30 + 7 * (int)(10 * unif())) / 7; /* 10 values */
        tx[i] = x[i] > 0 ? (double)(int)(T[i] * 7 * unif()) / 7 : 0;
        z[i] = x[i] > 0 ? 1 + (double)(int)(50 * unif()) : 0;
        seen[i] = 0;
    }
    strata__clv_points p, q;
    ASSERT_OK(strata__clv_points_make_order(x, tx, T, N, 3, &p, order));
    ASSERT_TRUE(p.n > 80 && p.bi != NULL && p.nb == 10);
    for (int64_t k = 1; k < p.nb; k++)
        ASSERT_TRUE(p.bu[k - 1] < p.bu[k]);
    int64_t s = 0;
    for (int64_t j = 0; j < p.n; j++) {
        ASSERT_TRUE(p.bu[p.bi[j]] == p.b[j]);
        for (int64_t c = 0; c < (int64_t)p.w[j]; c++, s++) {
            int64_t i = order[s];
            ASSERT_TRUE(i >= 0 && i < N && !seen[i]);
            ASSERT_TRUE(c == 0 || order[s - 1] < i); /* a point's customers ascending */
            seen[i] = 1;
            ASSERT_TRUE(x[i] == p.x[j] && tx[i] == p.a[j] && T[i] == p.b[j]);
        }
    }
    ASSERT_TRUE(s == N);
    const double par[4] = {0.3, 4, 0.8, 2.4};
    double ll_t, g_t[4], ll_n, g_n[4];
    ASSERT_OK(strata__bgnbd_loglik(&p, par, 2, &ll_t, g_t));
    int32_t *bi = p.bi;
    p.bi = NULL; /* without the table */
    ASSERT_OK(strata__bgnbd_loglik(&p, par, 2, &ll_n, g_n));
    p.bi = bi;
    ASSERT_TRUE(memcmp(&ll_t, &ll_n, 8) == 0 && memcmp(g_t, g_n, sizeof g_t) == 0);
    /* Gamma-Gamma points: b holds log(zbar) */
    ASSERT_OK(strata__clv_points_make(x, z, NULL, N, 2, &q));
    ASSERT_TRUE(q.n > 10 && q.bi == NULL);
    for (int64_t j = 0; j < q.n; j++)
        ASSERT_TRUE(q.b[j] == log(q.a[j]));
    strata__clv_points_free(&p);
    strata__clv_points_free(&q);
    free(x);
    free(tx);
    free(T);
    free(z);
    free(order);
    free(seen);
}

static void test_expectations(void)
{
    const double q[4] = {0.243, 4.414, 0.793, 2.426};
    ASSERT_REL(strata__bgnbd_expected(q, 2, 30.43, 38.86, 39), 1.2260281747671445, 1e-13);
    ASSERT_REL(strata__bgnbd_expected_new(q, 78), 1.8605190579427686, 1e-13);
    const double d[4] = {0.3817, 9.7123, 4.4e-7, 101742.5573};
    const double xs[4] = {0, 1, 3, 10}, want[4] = {0.39926537295474097, 1.4452841650653909,
                                                   3.5373217492234792, 10.859453284151};
    for (int i = 0; i < 4; i++)
        ASSERT_REL(strata__bgnbd_expected(d, xs[i], xs[i] > 0 ? 20 : 0, 40, 52), want[i], 1e-9);
    ASSERT_TRUE(strata__bgnbd_expected(q, 2, 30, 38, 0) == 0.0);
    /* a > r + x + 1: the papers' series is summed (E(0.5, 10, 6, 3, 2, 20, 40,
     * 52) and the unconditional U(0.5, 10, 6, 3, 78) with mp.dps = 60) */
    const double e[4] = {0.5, 10, 6.0, 3.0};
    ASSERT_REL(strata__bgnbd_expected(e, 2, 20, 40, 52), 0.19802601143098892, 1e-13);
    ASSERT_REL(strata__bgnbd_expected_new(e, 78), 0.9264931035719333, 1e-13);
    /* a + b < 1 (CDNOW's master log to 1997-02-15 fits a = 0.0572, b = 0.2014):
     * every x = 0 customer and the tracking curve were NaN. mpmath as above:
     * E(p, 0, 0, 6.43, 52), E(p, 0, 0, 30, 39), E(p, 3, 20, 30, 39), U(p, 39), U(p, 78) */
    const double s[4] = {0.334, 5.454, 0.0572, 0.2014};
    ASSERT_REL(strata__bgnbd_expected(s, 0, 0, 6.43, 52), 1.1812907175548051, 1e-12);
    ASSERT_REL(strata__bgnbd_expected(s, 0, 0, 30, 39), 0.3315453759215597, 1e-12);
    ASSERT_REL(strata__bgnbd_expected(s, 3, 20, 30, 39), 3.3007091024326815, 1e-12);
    ASSERT_REL(strata__bgnbd_expected_new(s, 39), 1.8509830302704735, 1e-12);
    ASSERT_REL(strata__bgnbd_expected_new(s, 78), 3.4969189831898185, 1e-12);
    /* x = 800 repeat days (a daily buyer): the papers' series would overflow
     * (E(0.243, 30.9, 0.793, 2.426, 800, 360, 364, 364)) */
    const double dq[4] = {0.243, 30.9, 0.793, 2.426};
    ASSERT_REL(strata__bgnbd_expected(dq, 800, 360, 364, 364), 126.78893072002305, 1e-12);
}

static void test_special(void)
{
    for (size_t i = 0; i < sizeof HYP / sizeof HYP[0]; i++)
        ASSERT_REL(strata__hyp2f1(HYP[i][0], HYP[i][1], HYP[i][2], HYP[i][3]), HYP[i][4], 1e-12);
    /* 2F1(1, 1; 2; z) = -ln(1 - z) / z */
    for (double z = 0.05; z < 0.99; z += 0.07)
        ASSERT_REL(strata__hyp2f1(1, 1, 2, z), -log1p(-z) / z, 1e-13);
    ASSERT_TRUE(strata__hyp2f1(1, 1, 2, 0) == 1.0);
    ASSERT_TRUE(isnan(strata__hyp2f1(1, 1, 2, 1.0)) && isnan(strata__hyp2f1(1, 1, -2, 0.5)) &&
                isnan(strata__hyp2f1(1, 1, 0, 0.5))); /* poles */
    const double euler = 0.57721566490153286061;
    ASSERT_REL(strata__digamma(1.0), -euler, 1e-14);
    ASSERT_REL(strata__digamma(0.5), -euler - 2 * log(2.0), 1e-14);
    for (double x = 0.01; x < 50; x *= 1.7) /* psi(x + 1) = psi(x) + 1/x */
        ASSERT_REL(strata__digamma(x + 1), strata__digamma(x) + 1 / x, 1e-12);
    ASSERT_REL(strata__lgamma(0.5), 0.5 * log(M_PI), 1e-15);
}

typedef struct rosen {
    int evals;
} rosen;

static int rosenbrock(void *ctx, const double *t, double *f, double *g)
{
    ((rosen *)ctx)->evals++;
    double a = 1 - t[0], b = t[1] - t[0] * t[0];
    *f = a * a + 100 * b * b;
    g[0] = -2 * a - 400 * t[0] * b;
    g[1] = 200 * b;
    return 0;
}

static void test_optimiser(void)
{
    rosen c = {0};
    strata__clv_opt o = {.dim = 2, .lo = -5, .hi = 5, .max_iter = 1000, .gtol = 1e-10};
    double th[2] = {-1.2, 1.0}, f;
    int conv, it;
    ASSERT_OK(strata__clv_minimize(&o, rosenbrock, &c, th, &f, &conv, &it));
    ASSERT_TRUE(conv);
    ASSERT_NEAR(th[0], 1.0, 1e-7);
    ASSERT_NEAR(th[1], 1.0, 1e-7);
    /* the box: the optimum (1, 1) outside [-5, 0.5] on theta 1 */
    strata__clv_opt ob = {.dim = 2, .lo = -5, .hi = 0.5, .max_iter = 1000, .gtol = 1e-10};
    double tb[2] = {-1.2, 0.0};
    ASSERT_OK(strata__clv_minimize(&ob, rosenbrock, &c, tb, &f, &conv, &it));
    ASSERT_TRUE(conv);
    ASSERT_NEAR(tb[0], 0.5, 1e-9);
    ASSERT_NEAR(tb[1], 0.25, 1e-7);
}

int main(void)
{
    RUN_TEST(test_bgnbd_gradient);
    RUN_TEST(test_gg_gradient);
    RUN_TEST(test_sums_and_threads);
    RUN_TEST(test_points_order_and_table);
    RUN_TEST(test_expectations);
    RUN_TEST(test_special);
    RUN_TEST(test_optimiser);
    return test_summary();
}
