/* CLV engine (internal): the calibration summary of a transaction log
 * (summary.c, on the RFM engine's cleaning and aggregation), the BG/NBD and
 * Gamma-Gamma likelihoods with their gradients (bgnbd.c, gammagamma.c), a
 * bounded quasi-Newton optimiser (optim.c), special functions (special.c)
 * and the per-customer predictions. Knows nothing of handles or HDF5; the
 * sums over customers go through strata__parallel_chunks (bitwise the same
 * for any thread count). */
#ifndef STRATA_CLV_H
#define STRATA_CLV_H

#include <stdint.h>

#include "core/scratch.h"
#include "core/steps.h"
#include "strata.h"

struct strata__kernels;

/* ---- special functions (special.c) -------------------------------------- */

/* log Gamma(x) for x > 0 (thread-safe: lgamma_r). */
double strata__lgamma(double x);
/* digamma(x) for x > 0, to about 1e-15 relative. */
double strata__digamma(double x);
/* Gauss hypergeometric 2F1(a, b; c; z) for finite a, b, c > 0 and
 * 0 <= z < 1 by its series, summed until the bound on what is left falls
 * below 1e-16 of the sum; NaN when an argument is out of range or 10^6
 * terms do not get there. */
double strata__hyp2f1(double a, double b, double c, double z);

/* ---- calibration data ---------------------------------------------------- */

/* Customers weighted by multiplicity: the likelihoods run over the distinct
 * (x, t_x, T) (BG/NBD) or (x, zbar) (Gamma-Gamma) values, sorted, with w
 * the number of customers of each. */
typedef struct strata__clv_points {
    int64_t n;
    double *x, *a, *b, *w; /* BG/NBD: a = t_x, b = T; Gamma-Gamma: a = zbar, b = log(zbar) */
    /* BG/NBD, when the T are few (else bi NULL): the nb distinct T ascending
     * in bu, and bu[bi[i]] == b[i]. */
    int64_t nb;
    double *bu;
    int32_t *bi;
} strata__clv_points;

/* The distinct points of n customers (k = 3: x, t_x, T; k = 2: x and zbar
 * of the customers with x > 0 and zbar > 0, into x and a, and log(zbar)
 * into b: the likelihood's, computed once). Sorted by value:
 * nothing depends on the customers' order. Returns 0 or STRATA_E_NOMEM. */
int strata__clv_points_make(const double *x, const double *a, const double *b, int64_t n, int k,
                            strata__clv_points *out);
/* The same, and (order not NULL: room for n) the customers of the points in
 * the points' order: those of point j (w[j] of them, ascending)
 * at order[s_j .. s_j + w[j] - 1], s_j = w[0] + .. + w[j - 1]. */
int strata__clv_points_make_order(const double *x, const double *a, const double *b, int64_t n,
                                  int k, strata__clv_points *out, int64_t *order);
void strata__clv_points_free(strata__clv_points *p);

/* ---- likelihoods ---------------------------------------------------------- */

/* BG/NBD log-likelihood (sum over the points, weighted) at par = (r, alpha,
 * a, b) and its gradient d/dpar (grad may be NULL). Returns 0 or
 * STRATA_E_NOMEM. The value is -inf/NaN outside the domain. */
int strata__bgnbd_loglik(const strata__clv_points *p, const double par[4], int threads,
                         double *ll, double grad[4]);
/* The log-likelihood of one customer and its gradient (tests, predictions). */
double strata__bgnbd_loglik1(double x, double tx, double T, const double par[4], double grad[4]);
/* Gamma-Gamma log-likelihood at par = (p, q, gamma) over points of (x, zbar). */
int strata__gg_loglik(const strata__clv_points *p, const double par[3], int threads, double *ll,
                      double grad[3]);
double strata__gg_loglik1(double x, double zbar, const double par[3], double grad[3]);

/* ---- optimiser ------------------------------------------------------------ */

/* f(theta) to minimise and its gradient; returns 0 or a status (stops). */
typedef int (*strata__clv_objective)(void *ctx, const double *theta, double *f, double *g);

typedef struct strata__clv_opt {
    int dim;
    double lo, hi;        /* box on every theta */
    int max_iter;
    double gtol;          /* converged: projected gradient's max norm below it */
} strata__clv_opt;

/* BFGS with a backtracking (Armijo) line search, projected on the box, from
 * theta (dim values, replaced by the optimum). *f: the value at it;
 * *converged: 1 when the gradient test was met. Returns 0 or the
 * objective's status. */
int strata__clv_minimize(const strata__clv_opt *opt, strata__clv_objective fn, void *ctx,
                         double *theta, double *f, int *converged, int *iterations);

/* ---- fits ------------------------------------------------------------------ */

typedef struct strata__clv_fit {
    double par[4];
    double loglik;
    int converged;
    int starts_converged;
} strata__clv_fit;

/* The starting theta of start s (dim values), from a model's table. */
typedef void (*strata__clv_start_fn)(void *ctx, int s, double *theta);

/* Scale of start s beyond a table of nt starts: the table's start s % nt
 * scaled by 2^(s / nt), alternately up and down (1 within the table). */
double strata__clv_start_scale(int s, int nt);

/* Minimise fn (-LL / W in theta = ln(par)) from `starts` starting points and
 * keep the best converged optimum (an unconverged one only while none is; the
 * first start on a tie) in out (par = exp(theta), loglik = -f W). steps:
 * ITERATE per start (run = `run`). Returns 0, the objective's status
 * (STRATA_E_NOMEM: msg names `model`) or STRATA_E_CANCELLED. */
int strata__clv_multistart(const strata__clv_opt *opt, strata__clv_objective fn, void *ctx,
                           strata__clv_start_fn start, int starts, double W,
                           const strata__steps *steps, int run, const char *model,
                           strata__clv_fit *out, char *msg);

/* Maximum likelihood from `starts` fixed starting points (scaled by the
 * data: alpha by the mean T, gamma by the mean zbar); the best
 * log-likelihood wins (the first start on a tie). steps: ITERATE per start
 * (run = model: 0 BG/NBD, 1 Gamma-Gamma). Returns 0, STRATA_E_NOMEM,
 * STRATA_E_CANCELLED, or STRATA_E_ARG (no point) with msg. */
int strata__bgnbd_fit(const strata__clv_points *p, int starts, int threads,
                      const strata__steps *steps, strata__clv_fit *out, char *msg);
int strata__gg_fit(const strata__clv_points *p, int starts, int threads,
                   const strata__steps *steps, strata__clv_fit *out, char *msg);

/* ---- predictions (bgnbd.c, gammagamma.c) --------------------------------- */

double strata__bgnbd_p_alive(const double par[4], double x, double tx, double T);
/* Expected purchases in the next t periods given (x, t_x, T). */
double strata__bgnbd_expected(const double par[4], double x, double tx, double T, double t);
/* Unconditional expected purchases in (0, t] of a new customer: E[X(t)]. */
double strata__bgnbd_expected_new(const double par[4], double t);
/* Gamma-Gamma expected spend per purchase given x and zbar. */
double strata__gg_expected_spend(const double par[3], double x, double zbar);
/* Pearson correlation of x and zbar over the customers with x > 0 (NaN if
 * fewer than two or a constant column); sums in a fixed order. */
double strata__clv_corr(const double *x, const double *zbar, int64_t n);

/* ---- the calibration summary of a log (summary.c) ------------------------ */

typedef struct strata__clv_log_cfg {
    int time_unit;       /* strata_rfm_time_unit */
    int64_t cal_end;     /* day */
    int64_t holdout_end; /* day, or STRATA_CLV_DAY_UNSET: the log's last day */
    int period_len;      /* 7 or 1 */
    int threads;
    const struct strata__kernels *kern;
} strata__clv_log_cfg;

typedef struct strata__clv_data {
    int64_t n;                 /* customers in the model, ascending id */
    int64_t *id, *first_day;
    double *x, *tx, *T, *zbar; /* in periods */
    double *holdout;           /* repeat purchase days in the holdout (NULL: none) */
    int64_t excluded;          /* customers whose first purchase is after cal_end */
    int64_t cal_end, holdout_end, holdout_days; /* holdout_days 0: no holdout */
    int64_t origin;            /* first purchase day of the earliest customer */
    int64_t nperiods;          /* tracking periods of period_len days from origin */
    double *track_actual;      /* nperiods */
    int64_t ncohort;           /* days origin .. cal_end */
    double *cohort;            /* customers per first day (ncohort) */
    int64_t rows, rows_used;   /* the log's rows, and those kept by the cleaning */
    int64_t last_day;          /* the log's last day (of any row with a time);
                                  INT64_MIN: fitted from a summary, no log */
} strata__clv_data;

int strata__clv_summarize(const int64_t *id, const int64_t *time, const double *amount, int64_t n,
                          const strata__clv_log_cfg *cfg, strata__scratch *scratch,
                          strata__clv_data *out, char *msg);
void strata__clv_data_free(strata__clv_data *d);

#endif
