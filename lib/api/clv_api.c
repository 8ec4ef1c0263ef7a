/* The CLV handle: parameters, argument checks and the held result, in front
 * of the CLV engine (lib/clv), the RFM engine it summarises logs with, and
 * the HDF5 layer (lib/io). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/params.h"
#include "clv/clv.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/steps.h"
#include "io/files.h"
#include "io/h5.h"
#include "kernels/kernels.h"

#define CUSTOMER_CHUNK 1024
#define WEEKS_PER_MONTH 4.345 /* lifetimes' factor for weekly periods */
#define DAYS_PER_MONTH 30.0

/* A fitted result. */
typedef struct result {
    int fitted, from_log;
    int time_unit; /* of the log (from_log) */
    strata__clv_data d;
    double *p_alive, *expected, *spend, *clv, *hold_pred; /* per customer */
    double *track_expected;                               /* d.nperiods */
    strata__clv_fit bg, gg;
    int64_t repeat, gg_customers;
    double corr, hold_actual, hold_predicted;
    int period_len;
    double horizon, discount;
    int64_t months;
} result;

struct strata_clv {
    int64_t cal_end, period, time_unit, holdout_end, months, starts, threads;
    double horizon, discount;
    strata__steps steps;
    strata__scratch scratch;
    result res;
    strata__file_id input;
    char msg[STRATA__MSG_LEN];
};

static const char *const NULL_HANDLE_MSG = "strata_clv handle is NULL";

#define CHECK_HANDLE(h)                                                      \
    do {                                                                     \
        if (!(h))                                                            \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
        (h)->msg[0] = '\0';                                                  \
    } while (0)

#define CHECK_CONST(h)                                                       \
    do {                                                                     \
        if (!(h))                                                            \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
    } while (0)

static void result_free(result *r)
{
    strata__clv_data_free(&r->d);
    strata__free(r->p_alive);
    strata__free(r->expected);
    strata__free(r->spend);
    strata__free(r->clv);
    strata__free(r->hold_pred);
    strata__free(r->track_expected);
    memset(r, 0, sizeof *r);
}

int strata_clv_create(strata_clv **out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_clv_create: out is NULL");
    strata_clv *h = strata__calloc(1, sizeof *h);
    if (!(*out = h))
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory creating a CLV handle");
    h->cal_end = STRATA_CLV_DAY_UNSET;
    h->period = STRATA_CLV_WEEKS;
    h->time_unit = STRATA_RFM_TIME_DAYS;
    h->holdout_end = STRATA_CLV_DAY_UNSET;
    h->horizon = 0.0;
    h->months = 12;
    h->discount = 0.01;
    h->starts = 8;
    h->threads = 0;
    return STRATA_OK;
}

void strata_clv_free(strata_clv *h)
{
    if (!h)
        return;
    result_free(&h->res);
    strata__scratch_free(&h->scratch);
    strata__free(h);
}

const char *strata_clv_last_error(const strata_clv *h)
{
    return h ? h->msg : NULL_HANDLE_MSG;
}

/* ---- parameters ------------------------------------------------------- */

static int64_t *int_slot(strata_clv *h, int param)
{
    switch (param) {
    case STRATA_CLV_CALIBRATION_END: return &h->cal_end;
    case STRATA_CLV_PERIOD: return &h->period;
    case STRATA_CLV_TIME_UNIT: return &h->time_unit;
    case STRATA_CLV_HOLDOUT_END: return &h->holdout_end;
    case STRATA_CLV_CLV_MONTHS: return &h->months;
    case STRATA_CLV_STARTS: return &h->starts;
    case STRATA_CLV_THREADS: return &h->threads;
    default: return NULL;
    }
}

static double *double_slot(strata_clv *h, int param)
{
    switch (param) {
    case STRATA_CLV_HORIZON: return &h->horizon;
    case STRATA_CLV_DISCOUNT_RATE: return &h->discount;
    default: return NULL;
    }
}

int strata_clv_set_int(strata_clv *h, int param, int64_t v)
{
    CHECK_HANDLE(h);
    int rc = strata__param_check_int(h->msg, STRATA_HANDLE_CLV, param, v);
    if (rc)
        return rc;
    int64_t *slot = int_slot(h, param);
    if (!slot)
        return strata__fail(h->msg, STRATA_E_INTERNAL, "CLV parameter %d has no slot", param);
    *slot = v;
    return STRATA_OK;
}

int strata_clv_get_int(const strata_clv *h, int param, int64_t *out)
{
    CHECK_CONST(h);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_clv_get_int: out is NULL");
    int rc = strata__param_check_key(NULL, STRATA_HANDLE_CLV, param, STRATA_VALUE_INT, 1);
    if (rc)
        return rc;
    const int64_t *slot = int_slot((strata_clv *)h, param); /* only read */
    if (!slot)
        return strata__fail(NULL, STRATA_E_INTERNAL, "CLV parameter %d has no slot", param);
    *out = *slot;
    return STRATA_OK;
}

int strata_clv_set_double(strata_clv *h, int param, double v)
{
    CHECK_HANDLE(h);
    int rc = strata__param_check_double(h->msg, STRATA_HANDLE_CLV, param, v);
    if (rc)
        return rc;
    double *slot = double_slot(h, param);
    if (!slot)
        return strata__fail(h->msg, STRATA_E_INTERNAL, "CLV parameter %d has no slot", param);
    *slot = v;
    return STRATA_OK;
}

int strata_clv_get_double(const strata_clv *h, int param, double *out)
{
    CHECK_CONST(h);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_clv_get_double: out is NULL");
    int rc = strata__param_check_key(NULL, STRATA_HANDLE_CLV, param, STRATA_VALUE_DOUBLE, 1);
    if (rc)
        return rc;
    const double *slot = double_slot((strata_clv *)h, param);
    if (!slot)
        return strata__fail(NULL, STRATA_E_INTERNAL, "CLV parameter %d has no slot", param);
    *out = *slot;
    return STRATA_OK;
}

int strata_clv_set_progress(strata_clv *h, strata_step_fn fn, void *user)
{
    CHECK_HANDLE(h);
    h->steps = (strata__steps){fn, user};
    return STRATA_OK;
}

/* ---- scoring ------------------------------------------------------------ */

/* BG/NBD's predictions depend on the customer only through the point
 * (x, t_x, T): they are computed once per distinct point (the fit's points,
 * parallel over fixed chunks of points) and given to the point's customers,
 * with the same formulas and the same operations per customer as one by
 * one: the same bits. Per customer only the Gamma-Gamma spend and the CLV
 * sum, spend * (E(m f) - E((m - 1) f)) / (1 + rate)^m over the months m. */
typedef struct score_ctx {
    result *r;
    const strata__clv_points *p;
    const int64_t *order, *start; /* customers by point; point j's from start[j] */
    double horizon, hold_t, factor, disc;
    int64_t months;
} score_ctx;

#define POINT_CHUNK 64

static void score_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                        double *partial)
{
    const score_ctx *s = ctx;
    result *r = s->r;
    const strata__clv_data *d = &r->d;
    const double *bg = r->bg.par, *gg = r->gg.par;
    for (int64_t j = begin; j < end; j++) {
        const double x = s->p->x[j], tx = s->p->a[j], T = s->p->b[j];
        const int64_t *cust = s->order + s->start[j], nc = s->start[j + 1] - s->start[j];
        const double pa = strata__bgnbd_p_alive(bg, x, tx, T);
        const double ex = strata__bgnbd_expected(bg, x, tx, T, s->horizon);
        const double hp = s->hold_t > 0 ? strata__bgnbd_expected(bg, x, tx, T, s->hold_t) : 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const int64_t i = cust[c];
            r->p_alive[i] = pa;
            r->expected[i] = ex;
            r->hold_pred[i] = hp;
            r->spend[i] = strata__gg_expected_spend(gg, x, d->zbar[i]);
            r->clv[i] = 0.0;
        }
        double prev = 0.0, disc = 1.0;
        for (int64_t m = 1; m <= s->months; m++) {
            double cur = strata__bgnbd_expected(bg, x, tx, T, (double)m * s->factor);
            disc *= 1.0 + s->disc;
            for (int64_t c = 0; c < nc; c++) {
                const int64_t i = cust[c];
                r->clv[i] += r->spend[i] * (cur - prev) / disc;
            }
            prev = cur;
        }
    }
}

/* The holdout totals, summed over the customers in their order. */
static void hold_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                       double *partial)
{
    const result *r = ctx;
    for (int64_t i = begin; i < end; i++) {
        partial[0] += r->d.holdout ? r->d.holdout[i] : 0.0;
        partial[1] += r->hold_pred[i];
    }
}

typedef struct ex_ctx {
    const double *par;
    double *ex;
    double L;
} ex_ctx;

static void ex_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                     double *partial)
{
    const ex_ctx *c = ctx;
    for (int64_t k = begin; k < end; k++)
        c->ex[k] = strata__bgnbd_expected_new(c->par, (double)k / c->L);
}

static int nomem(strata_clv *h, const char *what)
{
    return strata__fail(h->msg, STRATA_E_NOMEM, "out of memory for %s", what);
}

/* The expected tracking curve: per period, the customers' expected repeat
 * purchases E[X(t_i - f)] summed by cohort (first day), incremental. */
static int track_expected(strata_clv *h, result *r, int threads)
{
    strata__clv_data *d = &r->d;
    const int64_t L = r->period_len, track_end = d->origin + d->nperiods * L - 1;
    const int64_t last = d->holdout_days ? d->holdout_end : d->cal_end;
    int64_t span = (last < track_end ? last : track_end) - d->origin + 1;
    double *ex = strata__alloc((size_t)span, sizeof *ex);
    r->track_expected = strata__calloc((size_t)d->nperiods, sizeof(double));
    if (!ex || !r->track_expected) {
        strata__free(ex);
        return nomem(h, "the tracking curve");
    }
    ex_ctx c = {r->bg.par, ex, (double)L};
    if (strata__parallel_chunks(span, 64, threads, 0, NULL, ex_chunk, &c)) {
        strata__free(ex);
        return nomem(h, "the tracking curve");
    }
    /* the days that have a cohort, in order: the sums below skip the empty
     * ones, whose days can be most of a long calibration period */
    int64_t *days = strata__alloc((size_t)d->ncohort, sizeof *days), ndays = 0;
    if (!days) {
        strata__free(ex);
        return nomem(h, "the tracking curve");
    }
    for (int64_t j = 0; j < d->ncohort; j++)
        if (d->cohort[j] > 0)
            days[ndays++] = j;
    double prev = 0.0;
    for (int64_t i = 0; i < d->nperiods; i++) {
        int64_t e = d->origin + (i + 1) * L - 1;
        e = e < last ? e : last;
        double cum = 0.0;
        for (int64_t q = 0; q < ndays && d->origin + days[q] <= e; q++)
            cum += d->cohort[days[q]] * ex[e - (d->origin + days[q])];
        r->track_expected[i] = cum - prev;
        prev = cum;
    }
    strata__free(days);
    strata__free(ex);
    return STRATA_OK;
}

/* Fit both models on r->d (the summary) and score every customer. */
static int fit_models(strata_clv *h, result *r)
{
    strata__clv_data *d = &r->d;
    const int threads = strata__resolve_threads(h->threads);
    r->period_len = h->period == STRATA_CLV_DAYS ? 1 : 7;
    r->horizon = h->horizon > 0 ? h->horizon : (r->period_len == 7 ? 52.0 : 364.0);
    r->discount = h->discount;
    r->months = h->months;
    strata__clv_points bp, gp;
    int64_t *order = strata__alloc((size_t)d->n, sizeof *order), *start = NULL;
    if (!order || strata__clv_points_make_order(d->x, d->tx, d->T, d->n, 3, &bp, order)) {
        strata__free(order);
        return nomem(h, "the BG/NBD fit");
    }
    if (strata__clv_points_make(d->x, d->zbar, NULL, d->n, 2, &gp)) {
        strata__clv_points_free(&bp);
        strata__free(order);
        return nomem(h, "the Gamma-Gamma fit");
    }
    r->gg_customers = 0;
    for (int64_t i = 0; i < gp.n; i++)
        r->gg_customers += (int64_t)gp.w[i];
    int rc = strata__bgnbd_fit(&bp, (int)h->starts, threads, &h->steps, &r->bg, h->msg);
    if (!rc)
        rc = strata__gg_fit(&gp, (int)h->starts, threads, &h->steps, &r->gg, h->msg);
    strata__clv_points_free(&gp);
    if (!rc) {
        r->repeat = 0;
        for (int64_t i = 0; i < d->n; i++)
            r->repeat += d->x[i] > 0;
        r->corr = strata__clv_corr(d->x, d->zbar, d->n);
        rc = strata__step(&h->steps, STRATA_STEP_SCORE, 0, 0, d->n, NAN, h->msg);
    }
    if (!rc) {
        size_t n = (size_t)d->n;
        r->p_alive = strata__alloc(n, sizeof(double));
        r->expected = strata__alloc(n, sizeof(double));
        r->spend = strata__alloc(n, sizeof(double));
        r->clv = strata__alloc(n, sizeof(double));
        r->hold_pred = strata__alloc(n, sizeof(double));
        start = strata__alloc((size_t)bp.n + 1, sizeof *start);
        if (!r->p_alive || !r->expected || !r->spend || !r->clv || !r->hold_pred || !start)
            rc = nomem(h, "the scores");
    }
    if (!rc) {
        start[0] = 0;
        for (int64_t j = 0; j < bp.n; j++)
            start[j + 1] = start[j] + (int64_t)bp.w[j];
        score_ctx s = {r, &bp, order, start, r->horizon,
                       (double)d->holdout_days / (double)r->period_len,
                       r->period_len == 7 ? WEEKS_PER_MONTH : DAYS_PER_MONTH, r->discount,
                       r->months};
        if (strata__parallel_chunks(bp.n, POINT_CHUNK, threads, 0, NULL, score_chunk, &s))
            rc = nomem(h, "the scores");
    }
    strata__clv_points_free(&bp);
    strata__free(order);
    strata__free(start);
    double tot[2] = {0, 0};
    if (!rc && strata__parallel_chunks(d->n, CUSTOMER_CHUNK, threads, 2, tot, hold_chunk, r))
        rc = nomem(h, "the scores");
    if (rc)
        return rc;
    r->hold_actual = tot[0];
    r->hold_predicted = tot[1];
    if (r->from_log && (rc = track_expected(h, r, threads)))
        return rc;
    return strata__step(&h->steps, STRATA_STEP_SCORE, 0, d->n, d->n, NAN, h->msg);
}

/* Make r the held result (the previous one freed). */
static void hold(strata_clv *h, result *r)
{
    result_free(&h->res);
    h->res = *r;
    h->res.fitted = 1;
    h->input.known = 0;
}

int strata_clv_fit(strata_clv *h, const int64_t *customer_id, const int64_t *time,
                   const double *amount, int64_t n)
{
    CHECK_HANDLE(h);
    if (!customer_id || !time || !amount)
        return strata__fail(h->msg, STRATA_E_NULL, "customer_id, time or amount pointer is NULL");
    if (n < 1)
        return strata__fail(h->msg, STRATA_E_ARG,
                            "the transaction log is empty (n = %lld); at least one row is needed",
                            (long long)n);
    if ((uint64_t)n > SIZE_MAX / 64)
        return strata__fail(h->msg, STRATA_E_ARG, "n = %lld transactions is too many",
                            (long long)n);
    if (h->cal_end == STRATA_CLV_DAY_UNSET)
        return strata__fail(h->msg, STRATA_E_PARAM, "the calibration end day is not set "
                            "(STRATA_CLV_CALIBRATION_END): rows on days up to it are the "
                            "calibration period");
    result r = {0};
    r.from_log = 1;
    r.time_unit = (int)h->time_unit;
    strata__clv_log_cfg cfg = {.time_unit = (int)h->time_unit, .cal_end = h->cal_end,
                               .holdout_end = h->holdout_end,
                               .period_len = h->period == STRATA_CLV_DAYS ? 1 : 7,
                               .threads = strata__resolve_threads(h->threads),
                               .kern = strata__kernels_get(STRATA_KERNEL_AUTO)};
    int rc = strata__step(&h->steps, STRATA_STEP_AGGREGATE, 0, 0, n, NAN, h->msg);
    if (!rc)
        rc = strata__clv_summarize(customer_id, time, amount, n, &cfg, &h->scratch, &r.d, h->msg);
    if (!rc)
        rc = strata__step(&h->steps, STRATA_STEP_AGGREGATE, 0, n, n, NAN, h->msg);
    if (!rc)
        rc = fit_models(h, &r);
    if (rc) {
        result_free(&r);
        return rc;
    }
    hold(h, &r);
    return STRATA_OK;
}

int strata_clv_fit_h5(strata_clv *h, const char *path, const char *table, const char *customer,
                      const char *time, const char *amount)
{
    CHECK_HANDLE(h);
    if (!path || !customer || !time || !amount)
        return strata__fail(h->msg, STRATA_E_NULL, "file path or column name is NULL");
    if (h->cal_end == STRATA_CLV_DAY_UNSET)
        return strata__fail(h->msg, STRATA_E_PARAM, "the calibration end day is not set "
                            "(STRATA_CLV_CALIBRATION_END): rows on days up to it are the "
                            "calibration period");
    strata__h5_transactions tx;
    const char *names[3] = {customer, time, amount};
    int rc = strata__h5_read_transactions_steps(path, table && table[0] ? table : NULL, names,
                                                (int)h->time_unit, &tx, &h->steps, h->msg);
    if (rc)
        return rc;
    rc = strata_clv_fit(h, tx.customer_id, tx.time, tx.amount, tx.n);
    strata__h5_transactions_free(&tx);
    if (!rc)
        strata__file_id_of(path, "the file the result was computed from", &h->input);
    return rc;
}

typedef struct id_pos {
    int64_t id, pos;
} id_pos;

static int cmp_id(const void *pa, const void *pb)
{
    const id_pos *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

int strata_clv_fit_summary(strata_clv *h, const int64_t *customer_id, const double *x,
                           const double *t_x, const double *T, const double *zbar, int64_t n)
{
    CHECK_HANDLE(h);
    if (!customer_id || !x || !t_x || !T || !zbar)
        return strata__fail(h->msg, STRATA_E_NULL,
                            "customer_id, x, t_x, T or zbar pointer is NULL");
    if (n < 1)
        return strata__fail(h->msg, STRATA_E_ARG, "no customers given (n = %lld)", (long long)n);
    if ((uint64_t)n > SIZE_MAX / 64)
        return strata__fail(h->msg, STRATA_E_ARG, "n = %lld customers is too many",
                            (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const long long id = (long long)customer_id[i], row = (long long)i;
        if (!isfinite(x[i]) || !isfinite(t_x[i]) || !isfinite(T[i]) || !isfinite(zbar[i]))
            return strata__fail(h->msg, STRATA_E_NONFINITE, "customer %lld (row %lld): x, t_x, "
                                "T or zbar is not finite", id, row);
        if (x[i] < 0)
            return strata__fail(h->msg, STRATA_E_ARG, "customer %lld (row %lld): x = %g < 0",
                                id, row, x[i]);
        if (t_x[i] < 0)
            return strata__fail(h->msg, STRATA_E_ARG, "customer %lld (row %lld): t_x = %g < 0",
                                id, row, t_x[i]);
        if (T[i] < t_x[i])
            return strata__fail(h->msg, STRATA_E_ARG, "customer %lld (row %lld): T = %g is "
                                "before t_x = %g (the last purchase must be within the "
                                "calibration period)", id, row, T[i], t_x[i]);
        if (zbar[i] < 0)
            return strata__fail(h->msg, STRATA_E_ARG, "customer %lld (row %lld): zbar = %g < 0",
                                id, row, zbar[i]);
    }
    result r = {0};
    strata__clv_data *d = &r.d;
    d->last_day = INT64_MIN; /* no log */
    id_pos *order = strata__alloc((size_t)n, sizeof *order);
    size_t un = (size_t)n;
    d->id = strata__alloc(un, sizeof(int64_t));
    d->first_day = strata__calloc(un, sizeof(int64_t));
    d->x = strata__alloc(un, sizeof(double));
    d->tx = strata__alloc(un, sizeof(double));
    d->T = strata__alloc(un, sizeof(double));
    d->zbar = strata__alloc(un, sizeof(double));
    if (!order || !d->id || !d->first_day || !d->x || !d->tx || !d->T || !d->zbar) {
        strata__free(order);
        result_free(&r);
        return nomem(h, "the customers");
    }
    for (int64_t i = 0; i < n; i++)
        order[i] = (id_pos){customer_id[i], i};
    qsort(order, un, sizeof *order, cmp_id);
    for (int64_t i = 0; i < n; i++) {
        int64_t p = order[i].pos;
        if (i > 0 && order[i].id == order[i - 1].id) {
            int rc = strata__fail(h->msg, STRATA_E_ARG, "customer id %lld is given twice (rows "
                                  "%lld and %lld)", (long long)order[i].id,
                                  (long long)order[i - 1].pos, (long long)p);
            strata__free(order);
            result_free(&r);
            return rc;
        }
        d->id[i] = order[i].id;
        d->x[i] = x[p];
        d->tx[i] = x[p] > 0 ? t_x[p] : 0.0;
        d->T[i] = T[p];
        d->zbar[i] = x[p] > 0 ? zbar[p] : 0.0;
    }
    strata__free(order);
    d->n = n;
    d->cal_end = 0;
    int rc = fit_models(h, &r);
    if (rc) {
        result_free(&r);
        return rc;
    }
    hold(h, &r);
    return STRATA_OK;
}

/* ---- results -------------------------------------------------------------- */

static int check_fitted(const strata_clv *h, char *msg)
{
    if (!h->res.fitted)
        return strata__fail(msg, STRATA_E_STATE, "the CLV handle holds no result: fit it first "
                            "(strata_clv_fit, strata_clv_fit_h5 or strata_clv_fit_summary)");
    return STRATA_OK;
}

int strata_clv_result_double(const strata_clv *h, int key, double *out)
{
    CHECK_CONST(h);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_clv_result_double: out is NULL");
    int rc = strata__result_check_key(NULL, STRATA_HANDLE_CLV, key, STRATA_VALUE_DOUBLE);
    if (rc || (rc = check_fitted(h, NULL)))
        return rc;
    const result *r = &h->res;
    switch (key) {
    case STRATA_CLV_RESULT_CUSTOMERS: *out = (double)r->d.n; break;
    case STRATA_CLV_RESULT_REPEAT_CUSTOMERS: *out = (double)r->repeat; break;
    case STRATA_CLV_RESULT_EXCLUDED: *out = (double)r->d.excluded; break;
    case STRATA_CLV_RESULT_BGNBD_R: *out = r->bg.par[0]; break;
    case STRATA_CLV_RESULT_BGNBD_ALPHA: *out = r->bg.par[1]; break;
    case STRATA_CLV_RESULT_BGNBD_A: *out = r->bg.par[2]; break;
    case STRATA_CLV_RESULT_BGNBD_B: *out = r->bg.par[3]; break;
    case STRATA_CLV_RESULT_BGNBD_LOGLIK: *out = r->bg.loglik; break;
    case STRATA_CLV_RESULT_GG_P: *out = r->gg.par[0]; break;
    case STRATA_CLV_RESULT_GG_Q: *out = r->gg.par[1]; break;
    case STRATA_CLV_RESULT_GG_GAMMA: *out = r->gg.par[2]; break;
    case STRATA_CLV_RESULT_GG_LOGLIK: *out = r->gg_customers ? r->gg.loglik : NAN; break;
    case STRATA_CLV_RESULT_FREQ_SPEND_CORR: *out = r->corr; break;
    case STRATA_CLV_RESULT_HOLDOUT_ACTUAL: *out = r->hold_actual; break;
    case STRATA_CLV_RESULT_HOLDOUT_PREDICTED: *out = r->hold_predicted; break;
    case STRATA_CLV_RESULT_HOLDOUT_DAYS: *out = (double)r->d.holdout_days; break;
    case STRATA_CLV_RESULT_CALIBRATION_END: *out = (double)r->d.cal_end; break;
    case STRATA_CLV_RESULT_BGNBD_CONVERGED: *out = r->bg.converged; break;
    case STRATA_CLV_RESULT_TRACKING_PERIODS: *out = (double)r->d.nperiods; break;
    case STRATA_CLV_RESULT_GG_CONVERGED: *out = r->gg.converged; break;
    case STRATA_CLV_RESULT_GG_CUSTOMERS: *out = (double)r->gg_customers; break;
    case STRATA_CLV_RESULT_LAST_DAY:
        *out = r->d.last_day == INT64_MIN ? NAN : (double)r->d.last_day;
        break;
    default:
        return strata__fail(NULL, STRATA_E_INTERNAL, "CLV result %d has no value", key);
    }
    return STRATA_OK;
}

static const double *double_column(const result *r, int column)
{
    switch (column) {
    case STRATA_CLV_COL_X: return r->d.x;
    case STRATA_CLV_COL_T_X: return r->d.tx;
    case STRATA_CLV_COL_T: return r->d.T;
    case STRATA_CLV_COL_ZBAR: return r->d.zbar;
    case STRATA_CLV_COL_P_ALIVE: return r->p_alive;
    case STRATA_CLV_COL_EXPECTED_PURCHASES: return r->expected;
    case STRATA_CLV_COL_EXPECTED_SPEND: return r->spend;
    case STRATA_CLV_COL_CLV: return r->clv;
    case STRATA_CLV_COL_HOLDOUT_ACTUAL: return r->d.holdout; /* NULL: zeros */
    case STRATA_CLV_COL_HOLDOUT_PREDICTED: return r->hold_pred;
    default: return NULL;
    }
}

static int column_args(const strata_clv *h, const void *out, int64_t n, const char *fn)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "%s: out is NULL", fn);
    int rc = check_fitted(h, NULL);
    if (rc)
        return rc;
    if (n != h->res.d.n)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n = %lld, the handle holds %lld customers",
                            fn, (long long)n, (long long)h->res.d.n);
    return STRATA_OK;
}

int strata_clv_column_int64(const strata_clv *h, int column, int64_t *out, int64_t n)
{
    CHECK_CONST(h);
    int rc = column_args(h, out, n, "strata_clv_column_int64");
    if (rc)
        return rc;
    const int64_t *src = column == STRATA_CLV_COL_CUSTOMER_ID ? h->res.d.id
                         : column == STRATA_CLV_COL_FIRST_DAY ? h->res.d.first_day
                                                              : NULL;
    if (!src)
        return strata__fail(NULL, STRATA_E_PARAM, "CLV column %d is not an int64 column "
                            "(CUSTOMER_ID, FIRST_DAY; the others: strata_clv_column_double)",
                            column);
    memcpy(out, src, (size_t)n * sizeof *out);
    return STRATA_OK;
}

int strata_clv_column_double(const strata_clv *h, int column, double *out, int64_t n)
{
    CHECK_CONST(h);
    int rc = column_args(h, out, n, "strata_clv_column_double");
    if (rc)
        return rc;
    if (column < STRATA_CLV_COL_X || column > STRATA_CLV_COL_HOLDOUT_PREDICTED)
        return strata__fail(NULL, STRATA_E_PARAM, "CLV column %d is not a double column "
                            "(X .. HOLDOUT_PREDICTED; CUSTOMER_ID and FIRST_DAY: "
                            "strata_clv_column_int64)", column);
    const double *src = double_column(&h->res, column);
    if (src)
        memcpy(out, src, (size_t)n * sizeof *out);
    else
        memset(out, 0, (size_t)n * sizeof *out);
    return STRATA_OK;
}

int strata_clv_tracking(const strata_clv *h, double *actual, double *expected, int64_t n)
{
    CHECK_CONST(h);
    int rc = check_fitted(h, NULL);
    if (rc)
        return rc;
    const result *r = &h->res;
    if (!r->from_log)
        return strata__fail(NULL, STRATA_E_STATE, "strata_clv_tracking: the result comes from "
                            "strata_clv_fit_summary, which has no purchase days");
    if (n != r->d.nperiods)
        return strata__fail(NULL, STRATA_E_ARG, "strata_clv_tracking: n = %lld, the curve has "
                            "%lld periods (STRATA_CLV_RESULT_TRACKING_PERIODS)", (long long)n,
                            (long long)r->d.nperiods);
    if (actual)
        memcpy(actual, r->d.track_actual, (size_t)n * sizeof *actual);
    if (expected)
        memcpy(expected, r->track_expected, (size_t)n * sizeof *expected);
    return STRATA_OK;
}

/* ---- output ----------------------------------------------------------------- */

static int write_file(strata_clv *h, const char *path, const char *source, int flags)
{
    const result *r = &h->res;
    const strata__clv_data *d = &r->d;
    const int64_t n = d->n, np = r->from_log ? d->nperiods : 0;
    double *zeros = NULL, *cum_a = NULL, *cum_e = NULL;
    strata__h5_out *o;
    int rc = strata__h5_out_open(&o, path, &h->input, 1, flags, h->msg);
    if (rc)
        return rc;
    strata__h5_out_threads(o, strata__resolve_threads(h->threads));
    if (!d->holdout)
        zeros = strata__calloc((size_t)n, sizeof *zeros);
    cum_a = strata__alloc((size_t)(np > 0 ? np : 1), sizeof *cum_a);
    cum_e = strata__alloc((size_t)(np > 0 ? np : 1), sizeof *cum_e);
    if ((!d->holdout && !zeros) || !cum_a || !cum_e)
        rc = strata__fail(h->msg, STRATA_E_NOMEM, "out of memory writing '%s'", path);
    double sa = 0, se = 0;
    for (int64_t i = 0; i < np && !rc; i++) {
        cum_a[i] = sa += d->track_actual[i];
        cum_e[i] = se += r->track_expected[i];
    }
    const int64_t dims[1] = {n}, tdims[1] = {np};
    struct {
        const char *name;
        const double *v;
    } cols[] = {{"x", d->x},
                {"t_x", d->tx},
                {"T", d->T},
                {"zbar", d->zbar},
                {"p_alive", r->p_alive},
                {"expected_purchases", r->expected},
                {"expected_spend", r->spend},
                {"clv", r->clv},
                {"holdout_actual", d->holdout ? d->holdout : zeros},
                {"holdout_predicted", r->hold_pred}};
    if (!rc)
        rc = strata__h5_out_dataset(o, "customer_id", STRATA__H5_I64, 1, dims, d->id);
    if (!rc)
        rc = strata__h5_out_dataset(o, "first_day", STRATA__H5_I64, 1, dims, d->first_day);
    for (size_t k = 0; k < sizeof cols / sizeof cols[0] && !rc; k++)
        rc = strata__h5_out_dataset(o, cols[k].name, STRATA__H5_F64, 1, dims, cols[k].v);
    if (!rc)
        rc = strata__h5_out_dataset(o, "tracking/actual", STRATA__H5_F64, 1, tdims,
                                    np ? d->track_actual : cum_a);
    if (!rc)
        rc = strata__h5_out_dataset(o, "tracking/expected", STRATA__H5_F64, 1, tdims,
                                    np ? r->track_expected : cum_e);
    if (!rc)
        rc = strata__h5_out_dataset(o, "tracking/cumulative_actual", STRATA__H5_F64, 1, tdims,
                                    cum_a);
    if (!rc)
        rc = strata__h5_out_dataset(o, "tracking/cumulative_expected", STRATA__H5_F64, 1, tdims,
                                    cum_e);
    const struct {
        const char *name;
        double v;
    } dattr[] = {{"bgnbd_r", r->bg.par[0]},
                 {"bgnbd_alpha", r->bg.par[1]},
                 {"bgnbd_a", r->bg.par[2]},
                 {"bgnbd_b", r->bg.par[3]},
                 {"bgnbd_loglik", r->bg.loglik},
                 {"gg_p", r->gg.par[0]},
                 {"gg_q", r->gg.par[1]},
                 {"gg_gamma", r->gg.par[2]},
                 {"gg_loglik", r->gg_customers ? r->gg.loglik : NAN},
                 {"freq_spend_corr", r->corr},
                 {"holdout_actual", r->hold_actual},
                 {"holdout_predicted", r->hold_predicted},
                 {"horizon", r->horizon},
                 {"discount_rate", r->discount}};
    for (size_t k = 0; k < sizeof dattr / sizeof dattr[0] && !rc; k++)
        rc = strata__h5_out_attr(o, NULL, dattr[k].name, STRATA__H5_F64, &dattr[k].v);
    const struct {
        const char *name;
        int64_t v;
    } iattr[] = {{"calibration_end", d->cal_end},
                 {"holdout_days", d->holdout_days},
                 {"clv_months", r->months},
                 {"customers", n},
                 {"repeat_customers", r->repeat},
                 {"excluded", d->excluded},
                 {"bgnbd_converged", r->bg.converged},
                 {"gg_converged", r->gg.converged}};
    for (size_t k = 0; k < sizeof iattr / sizeof iattr[0] && !rc; k++)
        rc = strata__h5_out_attr(o, NULL, iattr[k].name, STRATA__H5_I64, &iattr[k].v);
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "period", r->period_len == 7 ? "weeks" : "days");
    if (!rc && r->from_log) /* the log's times: days, or Unix seconds */
        rc = strata__h5_out_attr_string(o, NULL, "time_unit",
                                        r->time_unit == STRATA_RFM_TIME_SECONDS ? "seconds" : "days");
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "strata_version", strata_version_string());
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "source", source ? source : "");
    strata__free(zeros);
    strata__free(cum_a);
    strata__free(cum_e);
    return strata__h5_out_finish(o, rc);
}

int strata_clv_write_h5(strata_clv *h, const char *path, const char *source, int flags)
{
    CHECK_HANDLE(h);
    if (!path)
        return strata__fail(h->msg, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(h->msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    int rc = check_fitted(h, h->msg);
    if (rc || (rc = strata__step(&h->steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, h->msg)) ||
        (rc = write_file(h, path, source, flags)))
        return rc;
    if (h->steps.fn) /* the file is in place: this call cannot cancel */
        (void)h->steps.fn(h->steps.user, STRATA_STEP_WRITE, 0, 1, 1, NAN);
    return STRATA_OK;
}
