/* Customer lifetime value (issue 16): strata_clv against published values
 * and hand computations.
 *  - the CDNOW sample log (../shared/data/cdnow) summarised by the library
 *    reproduces every row of the published summary CSV (after its rounding:
 *    t_x and T to 2 decimals, zbar half-up in cents) and the README's checks;
 *  - BG/NBD and Gamma-Gamma fitted on it give the published estimates (Fader,
 *    Hardie and Lee 2005: r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4;
 *    p 6.25, q 3.74, gamma 15.44), and from the CSV too (gamma there 15.45:
 *    the CSV's zbar is rounded to cents);
 *  - a tiny log summarised by hand (x, t_x, T, zbar, holdout, exclusions,
 *    the tracking counts);
 *  - bitwise the same for 1, 2 and 4 threads and any row order;
 *  - bad input: clear statuses and messages; the output file read back.
 * Skips the CDNOW parts (exit 77 if nothing else ran) without ../shared/data. */
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#ifndef STRATA_TEST_SHARED_DATA
#define STRATA_TEST_SHARED_DATA "../shared/data"
#endif

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t day_number(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct log_t {
    int64_t n, *id, *day;
    double *amount;
} log_t;

static int g_have_data = -1;

static int load_cdnow(log_t *lg)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/cdnow/CDNOW_sample.txt", STRATA_TEST_SHARED_DATA);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    lg->id = test_alloc(8000, sizeof(int64_t));
    lg->day = test_alloc(8000, sizeof(int64_t));
    lg->amount = test_alloc(8000, sizeof(double));
    long mid, sid, date, cds;
    double dol;
    lg->n = 0;
    while (lg->n < 8000 && fscanf(f, "%ld %ld %ld %ld %lf", &mid, &sid, &date, &cds, &dol) == 5) {
        lg->id[lg->n] = sid;
        lg->day[lg->n] = day_number((int)(date / 10000), (int)(date / 100 % 100), (int)(date % 100));
        lg->amount[lg->n] = dol;
        lg->n++;
    }
    fclose(f);
    return lg->n == 6919;
}

static void free_log(log_t *lg)
{
    free(lg->id);
    free(lg->day);
    free(lg->amount);
}

typedef struct csv_t {
    int64_t n, *id;
    double *x, *tx, *T, *zbar;
} csv_t;

static int load_csv(csv_t *c)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/cdnow/cdnow_customers_summary_with_transactions.csv",
             STRATA_TEST_SHARED_DATA);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    c->id = test_alloc(3000, sizeof(int64_t));
    c->x = test_alloc(3000, sizeof(double));
    c->tx = test_alloc(3000, sizeof(double));
    c->T = test_alloc(3000, sizeof(double));
    c->zbar = test_alloc(3000, sizeof(double));
    c->n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return 0;
    }
    long id;
    while (c->n < 3000 && fscanf(f, "%ld,%lf,%lf,%lf,%lf", &id, &c->x[c->n], &c->tx[c->n],
                                 &c->T[c->n], &c->zbar[c->n]) == 5)
        c->id[c->n++] = id;
    fclose(f);
    return c->n == 2357;
}

static void free_csv(csv_t *c)
{
    free(c->id);
    free(c->x);
    free(c->tx);
    free(c->T);
    free(c->zbar);
}

static int have_data(void)
{
    if (g_have_data < 0) {
        log_t lg;
        csv_t c;
        g_have_data = load_cdnow(&lg) && load_csv(&c);
        if (g_have_data) {
            free_log(&lg);
            free_csv(&c);
        } else {
            printf("  SKIP: %s/cdnow (CDNOW sample log and summary CSV) is absent\n",
                   STRATA_TEST_SHARED_DATA);
        }
    }
    return g_have_data;
}

static double res(const strata_clv *h, int key)
{
    double v = NAN;
    ASSERT_OK(strata_clv_result_double(h, key, &v));
    return v;
}

/* v rounded to `digits` decimals equals want (printed with those digits). */
static int digits_match(double v, double want, int digits)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%.*f", digits, v);
    snprintf(b, sizeof b, "%.*f", digits, want);
    return strcmp(a, b) == 0;
}

#define ASSERT_DIGITS(v, want, digits)                                                     \
    ASSERT_MSG(digits_match((v), (want), (digits)), "%s = %.6f, published %.*f", #v, (v),   \
               (digits), (want))

static const int64_t CAL_END_Y = 1997, CAL_END_M = 9, CAL_END_D = 30;

static strata_clv *fit_cdnow(const log_t *lg, int threads)
{
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END,
                                 day_number(CAL_END_Y, CAL_END_M, CAL_END_D)));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_THREADS, threads));
    ASSERT_OK(strata_clv_fit(h, lg->id, lg->day, lg->amount, lg->n));
    return h;
}

static double *column(const strata_clv *h, int col)
{
    int64_t n = (int64_t)res(h, STRATA_CLV_RESULT_CUSTOMERS);
    double *v = test_alloc((size_t)n, sizeof *v);
    ASSERT_OK(strata_clv_column_double(h, col, v, n));
    return v;
}

/* ---- the published CDNOW summary and estimates ---------------------------- */

static void test_cdnow_summary_from_log(void)
{
    if (!have_data())
        return;
    log_t lg;
    csv_t c;
    ASSERT_TRUE(load_cdnow(&lg) && load_csv(&c));
    strata_clv *h = fit_cdnow(&lg, 0);
    int64_t n = (int64_t)res(h, STRATA_CLV_RESULT_CUSTOMERS);
    ASSERT_EQ_INT(n, 2357);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_EXCLUDED), 0);
    int64_t *id = test_alloc((size_t)n, sizeof *id);
    ASSERT_OK(strata_clv_column_int64(h, STRATA_CLV_COL_CUSTOMER_ID, id, n));
    double *x = column(h, STRATA_CLV_COL_X), *tx = column(h, STRATA_CLV_COL_T_X);
    double *T = column(h, STRATA_CLV_COL_T), *z = column(h, STRATA_CLV_COL_ZBAR);
    double sx = 0;
    int64_t zeros = 0;
    for (int64_t i = 0; i < n; i++) {
        ASSERT_EQ_INT(id[i], c.id[i]); /* both sorted by id 1..2357 */
        ASSERT_MSG(x[i] == c.x[i], "customer %" PRId64 ": x %g, published %g", id[i], x[i],
                   c.x[i]);
        ASSERT_MSG(digits_match(tx[i], c.tx[i], 2), "customer %" PRId64 ": t_x %.6f, "
                   "published %.2f", id[i], tx[i], c.tx[i]);
        ASSERT_MSG(digits_match(T[i], c.T[i], 2), "customer %" PRId64 ": T %.6f, published "
                   "%.2f", id[i], T[i], c.T[i]);
        /* zbar half-up in cents, from the exact cents: x zbar is a whole number of cents */
        int64_t k = (int64_t)x[i];
        int64_t cents = llround(z[i] * (double)k * 100.0);
        ASSERT_MSG(fabs(z[i] * (double)k * 100.0 - (double)cents) < 1e-6,
                   "customer %" PRId64 ": x zbar = %.9f is not whole cents", id[i],
                   z[i] * (double)k);
        int64_t half_up = k > 0 ? (2 * cents + k) / (2 * k) : 0;
        ASSERT_MSG(half_up == llround(c.zbar[i] * 100.0), "customer %" PRId64 ": zbar %.6f "
                   "(%" PRId64 " cents half-up), published %.2f", id[i], z[i], half_up,
                   c.zbar[i]);
        sx += x[i];
        zeros += x[i] == 0;
    }
    /* the README's checks */
    ASSERT_EQ_INT((int64_t)sx, 2457);
    ASSERT_EQ_INT(zeros, 1411);
    ASSERT_TRUE(x[0] == 2 && digits_match(tx[0], 30.43, 2) && digits_match(T[0], 38.86, 2));
    ASSERT_EQ_INT(llround(z[0] * 200), 4469); /* 44.69 over 2 days: 22.345, half-up 22.35 */
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_REPEAT_CUSTOMERS), 946);
    /* the published estimates */
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_R), 0.243, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_ALPHA), 4.414, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_A), 0.793, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_B), 2.426, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_LOGLIK), -9582.4, 1);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_BGNBD_CONVERGED), 1);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_GG_P), 6.25, 2);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_GG_Q), 3.74, 2);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_GG_GAMMA), 15.44, 2);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_GG_CONVERGED), 1);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_GG_CUSTOMERS), 946);
    /* the Gamma-Gamma check: Pearson's r of x and zbar over repeat customers,
     * here from sums of products (a different formula from the library's) */
    double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0, m = 0;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > 0) {
            m++;
            s1 += x[i];
            s2 += z[i];
            s11 += x[i] * x[i];
            s22 += z[i] * z[i];
            s12 += x[i] * z[i];
        }
    double r = (m * s12 - s1 * s2) / sqrt((m * s11 - s1 * s1) * (m * s22 - s2 * s2));
    ASSERT_REL(res(h, STRATA_CLV_RESULT_FREQ_SPEND_CORR), r, 1e-9);
    ASSERT_DIGITS(r, 0.11, 2); /* small: the model's assumption holds */
    /* holdout: the 39 weeks after the calibration end; every value is a day count */
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS),
                  day_number(1998, 6, 30) - day_number(1997, 9, 30));
    double *ha = column(h, STRATA_CLV_COL_HOLDOUT_ACTUAL), tot = 0;
    for (int64_t i = 0; i < n; i++)
        tot += ha[i];
    ASSERT_TRUE(tot == res(h, STRATA_CLV_RESULT_HOLDOUT_ACTUAL));
    /* the tracking curve: 78 weeks; the actual repeat purchases of the
     * calibration weeks add up to sum x, all of them to sum x + holdout */
    int64_t np = (int64_t)res(h, STRATA_CLV_RESULT_TRACKING_PERIODS);
    ASSERT_EQ_INT(np, 78);
    double *ta = test_alloc((size_t)np, sizeof *ta), *te = test_alloc((size_t)np, sizeof *te);
    ASSERT_OK(strata_clv_tracking(h, ta, te, np));
    double all = 0, cal = 0;
    for (int64_t i = 0; i < np; i++) {
        all += ta[i];
        if (day_number(1997, 1, 1) + (i + 1) * 7 - 1 <= day_number(1997, 9, 30))
            cal += ta[i];
    }
    ASSERT_TRUE(all == sx + tot);
    ASSERT_TRUE(cal <= sx && cal > sx - 100); /* week 39 straddles the calibration end */
    double ce = 0;
    for (int64_t i = 0; i < np; i++)
        ce += te[i];
    ASSERT_MSG(fabs(ce - all) < 0.1 * all, "expected cumulative %.1f vs actual %.1f", ce, all);
    free(ta);
    free(te);
    free(ha);
    free(id);
    free(x);
    free(tx);
    free(T);
    free(z);
    strata_clv_free(h);
    free_log(&lg);
    free_csv(&c);
}

static void test_cdnow_from_csv(void)
{
    if (!have_data())
        return;
    csv_t c;
    ASSERT_TRUE(load_csv(&c));
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_fit_summary(h, c.id, c.x, c.tx, c.T, c.zbar, c.n));
    ASSERT_TRUE(isnan(res(h, STRATA_CLV_RESULT_LAST_DAY))); /* no log */
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_R), 0.243, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_ALPHA), 4.414, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_A), 0.793, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_B), 2.426, 3);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_BGNBD_LOGLIK), -9582.4, 1);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_GG_P), 6.25, 2);
    ASSERT_DIGITS(res(h, STRATA_CLV_RESULT_GG_Q), 3.74, 2);
    /* the CSV's zbar is rounded to cents: gamma 15.4477 (scipy's Nelder-Mead
     * on the same 946 rows: 15.44774722), 15.4435 from the exact log */
    double g = res(h, STRATA_CLV_RESULT_GG_GAMMA);
    ASSERT_NEAR(g, 15.44774722, 2e-5);
    ASSERT_NEAR(res(h, STRATA_CLV_RESULT_GG_LOGLIK), -4055.9232435, 1e-5);
    /* no purchase days: no tracking */
    ASSERT_STATUS(strata_clv_tracking(h, NULL, NULL, 0), STRATA_E_STATE);
    /* customer 1's P(alive) with the fitted parameters, by the formula here */
    double r = res(h, STRATA_CLV_RESULT_BGNBD_R), al = res(h, STRATA_CLV_RESULT_BGNBD_ALPHA),
           a = res(h, STRATA_CLV_RESULT_BGNBD_A), b = res(h, STRATA_CLV_RESULT_BGNBD_B);
    double *pa = column(h, STRATA_CLV_COL_P_ALIVE);
    double want = 1 / (1 + a / (b + 2 - 1) * pow((al + 38.86) / (al + 30.43), r + 2));
    ASSERT_REL(pa[0], want, 1e-12);
    ASSERT_TRUE(pa[2] == 1.0); /* x = 0 */
    /* Gamma-Gamma expected spend: p (gamma + x zbar) / (p x + q - 1) */
    double p = res(h, STRATA_CLV_RESULT_GG_P), q = res(h, STRATA_CLV_RESULT_GG_Q);
    double *es = column(h, STRATA_CLV_COL_EXPECTED_SPEND);
    ASSERT_REL(es[0], p * (g + 2 * 22.35) / (p * 2 + q - 1), 1e-12);
    ASSERT_REL(es[2], p * g / (q - 1), 1e-12);
    free(pa);
    free(es);
    strata_clv_free(h);
    free_csv(&c);
}

/* ---- determinism ------------------------------------------------------------ */

static void same_results(const strata_clv *a, const strata_clv *b)
{
    for (int key = STRATA_CLV_RESULT_CUSTOMERS; key <= STRATA_CLV_RESULT_LAST_DAY; key++) {
        double va = res(a, key), vb = res(b, key);
        ASSERT_MSG(memcmp(&va, &vb, sizeof va) == 0 || (isnan(va) && isnan(vb)),
                   "%s: %.17g vs %.17g", strata_key_name(key), va, vb);
    }
    int64_t n = (int64_t)res(a, STRATA_CLV_RESULT_CUSTOMERS);
    for (int col = STRATA_CLV_COL_X; col <= STRATA_CLV_COL_HOLDOUT_PREDICTED; col++) {
        double *u = column(a, col), *v = column(b, col);
        ASSERT_MSG(memcmp(u, v, (size_t)n * sizeof *u) == 0, "column %d differs", col);
        free(u);
        free(v);
    }
    int64_t np = (int64_t)res(a, STRATA_CLV_RESULT_TRACKING_PERIODS);
    double *e1 = test_alloc((size_t)np, 8), *e2 = test_alloc((size_t)np, 8);
    ASSERT_OK(strata_clv_tracking(a, NULL, e1, np));
    ASSERT_OK(strata_clv_tracking(b, NULL, e2, np));
    ASSERT_TRUE(memcmp(e1, e2, (size_t)np * 8) == 0);
    free(e1);
    free(e2);
}

static void test_threads_and_order(void)
{
    if (!have_data())
        return;
    log_t lg;
    ASSERT_TRUE(load_cdnow(&lg));
    strata_clv *h1 = fit_cdnow(&lg, 1), *h2 = fit_cdnow(&lg, 2), *h4 = fit_cdnow(&lg, 4);
    same_results(h1, h2);
    same_results(h1, h4);
    /* reversed rows */
    for (int64_t i = 0, j = lg.n - 1; i < j; i++, j--) {
        int64_t t = lg.id[i];
        lg.id[i] = lg.id[j];
        lg.id[j] = t;
        t = lg.day[i];
        lg.day[i] = lg.day[j];
        lg.day[j] = t;
        double a = lg.amount[i];
        lg.amount[i] = lg.amount[j];
        lg.amount[j] = a;
    }
    strata_clv *hr = fit_cdnow(&lg, 3);
    same_results(h1, hr);
    strata_clv_free(h1);
    strata_clv_free(h2);
    strata_clv_free(h4);
    strata_clv_free(hr);
    free_log(&lg);
}

/* A larger synthetic log (many chunks of rows and of likelihood points):
 * bitwise the same results for 1, 2 and 4 threads. */
static void test_threads_large(void)
{
    enum { C = 40000, MAXR = 400000 };
    int64_t *id = test_alloc(MAXR, sizeof *id), *day = test_alloc(MAXR, sizeof *day);
    double *amt = test_alloc(MAXR, sizeof *amt);
    uint64_t s = 99;
    int64_t n = 0;
    for (int64_t c = 0; c < C && n < MAXR - 64; c++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int64_t first = (int64_t)((s >> 33) % 300), k = 1 + (int64_t)((s >> 20) % 12);
        int64_t rate = 5 + (int64_t)((s >> 45) % 60), d = first;
        for (int64_t j = 0; j < k && d < 730 && n < MAXR; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            id[n] = c * 3 + 1;
            day[n] = d;
            amt[n] = (double)(500 + (s >> 40) % 10000) / 100.0;
            n++;
            d += 1 + (int64_t)((s >> 24) % (uint64_t)(2 * rate));
        }
    }
    strata_clv *h[3];
    const int threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; t++) {
        ASSERT_OK(strata_clv_create(&h[t]));
        ASSERT_OK(strata_clv_set_int(h[t], STRATA_CLV_CALIBRATION_END, 364));
        ASSERT_OK(strata_clv_set_int(h[t], STRATA_CLV_THREADS, threads[t]));
        ASSERT_OK(strata_clv_set_int(h[t], STRATA_CLV_STARTS, 3));
        ASSERT_OK(strata_clv_fit(h[t], id, day, amt, n));
    }
    ASSERT_EQ_INT(res(h[0], STRATA_CLV_RESULT_CUSTOMERS), C);
    ASSERT_TRUE(res(h[0], STRATA_CLV_RESULT_HOLDOUT_ACTUAL) > 0);
    same_results(h[0], h[1]);
    same_results(h[0], h[2]);
    for (int t = 0; t < 3; t++)
        strata_clv_free(h[t]);
    free(id);
    free(day);
    free(amt);
}

/* ---- a log summarised by hand ----------------------------------------------- */

static void test_hand_summary(void)
{
    /* calibration end day 20, holdout to day 34, days */
    const int64_t id[] = {7, 7, 7, 7, 7, 3, 3, 9, 9, 5, 5, -1, 7};
    const int64_t day[] = {0, 0, 6, 20, 25, 13, 30, 22, 27, 2, 9, 3, 6};
    const double amt[] = {10, 5, 4, 8, 1, 3, 2, 6, 6, 7, -7, 1, 0};
    /* 7: days 0 (15), 6 (4 + 0), 20 (8); holdout 25.  x=2 t_x=20 T=20 zbar=(4+8)/2=6
     * 3: days 13; holdout 30.                        x=0 t_x=0 T=7 zbar=0
     * 5: day 2 (7; the -7 row is dropped).           x=0 T=18
     * 9: first purchase day 22 > 20: excluded; -1: a bad id */
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, 20));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_PERIOD, STRATA_CLV_DAYS));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 13));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_CUSTOMERS), 3);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_EXCLUDED), 1);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_REPEAT_CUSTOMERS), 1);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), 10); /* days 21..30 */
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_LAST_DAY), 30);
    int64_t ids[3], first[3];
    ASSERT_OK(strata_clv_column_int64(h, STRATA_CLV_COL_CUSTOMER_ID, ids, 3));
    ASSERT_OK(strata_clv_column_int64(h, STRATA_CLV_COL_FIRST_DAY, first, 3));
    ASSERT_TRUE(ids[0] == 3 && ids[1] == 5 && ids[2] == 7);
    ASSERT_TRUE(first[0] == 13 && first[1] == 2 && first[2] == 0);
    double *x = column(h, STRATA_CLV_COL_X), *tx = column(h, STRATA_CLV_COL_T_X),
           *T = column(h, STRATA_CLV_COL_T), *z = column(h, STRATA_CLV_COL_ZBAR),
           *ha = column(h, STRATA_CLV_COL_HOLDOUT_ACTUAL);
    const double wx[] = {0, 0, 2}, wtx[] = {0, 0, 20}, wT[] = {7, 18, 20}, wz[] = {0, 0, 6},
                 wh[] = {1, 0, 1};
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(x[i] == wx[i] && tx[i] == wtx[i] && T[i] == wT[i] && z[i] == wz[i]);
        ASSERT_TRUE(ha[i] == wh[i]);
    }
    /* tracking, one period a day from day 0 to day 30: repeat days 6, 20 (7),
     * 25 (7), 30 (3) */
    int64_t np = (int64_t)res(h, STRATA_CLV_RESULT_TRACKING_PERIODS);
    ASSERT_EQ_INT(np, 31);
    double ta[31];
    ASSERT_OK(strata_clv_tracking(h, ta, NULL, 31));
    for (int i = 0; i < 31; i++)
        ASSERT_TRUE(ta[i] == (i == 6 || i == 20 || i == 25 || i == 30 ? 1.0 : 0.0));
    /* weeks: the same days / 7 */
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_PERIOD, STRATA_CLV_WEEKS));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 13));
    free(tx);
    free(T);
    tx = column(h, STRATA_CLV_COL_T_X);
    T = column(h, STRATA_CLV_COL_T);
    ASSERT_TRUE(tx[2] == 20.0 / 7 && T[0] == 1.0 && T[1] == 18.0 / 7);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_TRACKING_PERIODS), 5); /* days 0..30 */
    /* the same log in Unix seconds (any time of the day): the same summary */
    int64_t secs[13];
    for (int i = 0; i < 13; i++)
        secs[i] = day[i] * 86400 + (i * 7919) % 86400;
    strata_clv *hs = NULL;
    ASSERT_OK(strata_clv_create(&hs));
    ASSERT_OK(strata_clv_set_int(hs, STRATA_CLV_CALIBRATION_END, 20));
    ASSERT_OK(strata_clv_set_int(hs, STRATA_CLV_TIME_UNIT, STRATA_RFM_TIME_SECONDS));
    ASSERT_OK(strata_clv_fit(hs, id, secs, amt, 13));
    ASSERT_EQ_INT(res(hs, STRATA_CLV_RESULT_LAST_DAY), 30);
    for (int col = STRATA_CLV_COL_X; col <= STRATA_CLV_COL_HOLDOUT_PREDICTED; col++) {
        double *u = column(h, col), *v = column(hs, col);
        ASSERT_MSG(memcmp(u, v, 3 * sizeof *u) == 0, "column %d differs in seconds", col);
        free(u);
        free(v);
    }
    strata_clv_free(hs);
    /* an explicit holdout end before the log's end */
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_HOLDOUT_END, 26));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 13));
    free(ha);
    ha = column(h, STRATA_CLV_COL_HOLDOUT_ACTUAL);
    ASSERT_TRUE(ha[0] == 0 && ha[1] == 0 && ha[2] == 1);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), 6);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_LAST_DAY), 30); /* the log's, past the holdout too */
    /* a holdout end past the log (days 31..40 without purchases: strata clv
     * warns of it); a row on day 45 without a customer is still the log's */
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_HOLDOUT_END, 40));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 13));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), 20);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_LAST_DAY), 30);
    const int64_t id2[] = {7, 3, -1}, day2[] = {0, 30, 45};
    const double amt2[] = {1, 1, 1};
    ASSERT_OK(strata_clv_fit(h, id2, day2, amt2, 3));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_LAST_DAY), 45);
    /* no holdout */
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_HOLDOUT_END, 20));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 13));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), 0);
    ASSERT_TRUE(res(h, STRATA_CLV_RESULT_HOLDOUT_PREDICTED) == 0);
    free(x);
    free(tx);
    free(T);
    free(z);
    free(ha);
    strata_clv_free(h);
}

/* Every customer buys once: no repeat purchase, no key, no exclusion; no
 * Gamma-Gamma fit (NaN parameters and spend), still a BG/NBD fit. */
static void test_no_repeat(void)
{
    const int64_t id[] = {1, 2, 3, 4};
    const int64_t day[] = {0, 3, 5, 9};
    const double amt[] = {5, 6, 7, 8};
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, 9));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 4));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_CUSTOMERS), 4);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_REPEAT_CUSTOMERS), 0);
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_GG_CUSTOMERS), 0);
    ASSERT_TRUE(isnan(res(h, STRATA_CLV_RESULT_GG_P)) && isnan(res(h, STRATA_CLV_RESULT_FREQ_SPEND_CORR)));
    ASSERT_TRUE(isfinite(res(h, STRATA_CLV_RESULT_BGNBD_LOGLIK)));
    ASSERT_EQ_INT(res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), 0);
    double *sp = column(h, STRATA_CLV_COL_EXPECTED_SPEND), *pa = column(h, STRATA_CLV_COL_P_ALIVE);
    ASSERT_TRUE(isnan(sp[0]) && pa[0] == 1.0);
    free(sp);
    free(pa);
    strata_clv_free(h);
}

/* CLV of one customer by lifetimes' sum, from the library's own expected
 * purchases over the months (horizon = m F) and its expected spend. */
static void test_clv_formula(void)
{
    const int64_t ids[] = {1, 2, 3, 4, 5, 6};
    const double x[] = {2, 0, 5, 1, 0, 3}, tx[] = {30, 0, 35, 2, 0, 10},
                 T[] = {39, 39, 38, 20, 5, 30}, zb[] = {22, 0, 40, 15, 0, 60};
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CLV_MONTHS, 3));
    ASSERT_OK(strata_clv_set_double(h, STRATA_CLV_DISCOUNT_RATE, 0.05));
    ASSERT_OK(strata_clv_fit_summary(h, ids, x, tx, T, zb, 6));
    double *clv = column(h, STRATA_CLV_COL_CLV), *sp = column(h, STRATA_CLV_COL_EXPECTED_SPEND);
    double e[4] = {0};
    for (int m = 1; m <= 3; m++) {
        ASSERT_OK(strata_clv_set_double(h, STRATA_CLV_HORIZON, 4.345 * m));
        ASSERT_OK(strata_clv_fit_summary(h, ids, x, tx, T, zb, 6));
        double *ep = column(h, STRATA_CLV_COL_EXPECTED_PURCHASES);
        e[m] = ep[0];
        free(ep);
    }
    double want = 0;
    for (int m = 1; m <= 3; m++)
        want += sp[0] * (e[m] - e[m - 1]) / pow(1.05, m);
    ASSERT_REL(clv[0], want, 1e-12);
    free(clv);
    free(sp);
    strata_clv_free(h);
}

/* ---- bad input ---------------------------------------------------------------- */

static void test_bad_input(void)
{
    const int64_t id[] = {1, 1, 2};
    const int64_t day[] = {0, 5, 3};
    const double amt[] = {1, 2, 3};
    strata_clv *h = NULL;
    ASSERT_STATUS(strata_clv_create(NULL), STRATA_E_NULL);
    ASSERT_OK(strata_clv_create(&h));
    double v;
    ASSERT_STATUS(strata_clv_result_double(h, STRATA_CLV_RESULT_BGNBD_R, &v), STRATA_E_STATE);
    ASSERT_STATUS(strata_clv_fit(h, id, day, amt, 3), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "calibration end");
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, 10));
    ASSERT_STATUS(strata_clv_fit(NULL, id, day, amt, 3), STRATA_E_NULL);
    ASSERT_STATUS(strata_clv_fit(h, NULL, day, amt, 3), STRATA_E_NULL);
    ASSERT_STATUS(strata_clv_fit(h, id, day, amt, 0), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "empty");
    const double nan3[] = {NAN, NAN, NAN};
    ASSERT_STATUS(strata_clv_fit(h, id, day, nan3, 3), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "NaN");
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, -5));
    ASSERT_STATUS(strata_clv_fit(h, id, day, amt, 3), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "no purchase on or before the calibration end");
    ASSERT_STATUS(strata_clv_set_int(h, STRATA_CLV_PERIOD, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_clv_set_int(h, STRATA_CLV_RESULT_BGNBD_R, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_clv_set_double(h, STRATA_CLV_DISCOUNT_RATE, NAN), STRATA_E_PARAM);
    ASSERT_STATUS(strata_clv_set_int(h, STRATA_RFM_BINS, 5), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "RFM parameter");
    /* summaries */
    const int64_t ids[] = {1, 2};
    double x[] = {1, 0}, tx[] = {2, 0}, T[] = {5, 5}, zb[] = {10, 0};
    ASSERT_STATUS(strata_clv_fit_summary(h, ids, NULL, tx, T, zb, 2), STRATA_E_NULL);
    ASSERT_STATUS(strata_clv_fit_summary(h, ids, x, tx, T, zb, 0), STRATA_E_ARG);
    x[0] = -1;
    ASSERT_STATUS(strata_clv_fit_summary(h, ids, x, tx, T, zb, 2), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "x = -1 < 0");
    x[0] = 1;
    T[0] = 1;
    ASSERT_STATUS(strata_clv_fit_summary(h, ids, x, tx, T, zb, 2), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "customer 1 (row 0): T = 1 is before t_x = 2");
    T[0] = 5;
    zb[0] = NAN;
    ASSERT_STATUS(strata_clv_fit_summary(h, ids, x, tx, T, zb, 2), STRATA_E_NONFINITE);
    zb[0] = 10;
    const int64_t dup[] = {4, 4};
    ASSERT_STATUS(strata_clv_fit_summary(h, dup, x, tx, T, zb, 2), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "customer id 4 is given twice");
    ASSERT_OK(strata_clv_fit_summary(h, ids, x, tx, T, zb, 2));
    double col[3];
    ASSERT_STATUS(strata_clv_column_double(h, STRATA_CLV_COL_X, col, 3), STRATA_E_ARG);
    ASSERT_STATUS(strata_clv_column_double(h, STRATA_CLV_COL_CUSTOMER_ID, col, 2),
                  STRATA_E_PARAM);
    ASSERT_STATUS(strata_clv_column_int64(h, STRATA_CLV_COL_X, (int64_t *)col, 2),
                  STRATA_E_PARAM);
    ASSERT_STATUS(strata_clv_result_double(h, STRATA_RFM_RESULT_ROWS, &v), STRATA_E_PARAM);
    /* files */
    ASSERT_STATUS(strata_clv_fit_h5(h, "/nonexistent/log.h5", NULL, "c", "t", "a"),
                  STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_clv_last_error(h), "/nonexistent/log.h5");
    ASSERT_STATUS(strata_clv_fit_h5(h, NULL, NULL, "c", "t", "a"), STRATA_E_NULL);
    ASSERT_STATUS(strata_clv_write_h5(h, "/tmp/x.h5", NULL, 99), STRATA_E_PARAM);
    strata_clv_free(h);
    strata_clv_free(NULL);
}

/* ---- the output file ---------------------------------------------------------- */

static double read_attr(hid_t f, const char *name)
{
    double v = NAN;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    ASSERT_MSG(a >= 0, "attribute %s missing", name);
    ASSERT_TRUE(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(a);
    return v;
}

static void test_write_read_back(void)
{
    const int64_t id[] = {7, 7, 7, 3, 3, 5, 5, 5, 2};
    const int64_t day[] = {0, 6, 20, 13, 30, 2, 9, 15, 31};
    const double amt[] = {10, 4, 8, 3, 2, 7, 5, 9, 1};
    strata_clv *h = NULL;
    ASSERT_OK(strata_clv_create(&h));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, 20));
    ASSERT_OK(strata_clv_set_int(h, STRATA_CLV_STARTS, 2));
    ASSERT_OK(strata_clv_fit(h, id, day, amt, 9));
    char path[256];
    snprintf(path, sizeof path, "/tmp/strata_test_clv_%d.h5", (int)getpid());
    unlink(path);
    ASSERT_OK(strata_clv_write_h5(h, path, "test", 0));
    ASSERT_STATUS(strata_clv_write_h5(h, path, "test", 0), STRATA_E_IO_EXISTS);
    ASSERT_OK(strata_clv_write_h5(h, path, "test", STRATA_WRITE_FORCE));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_TRUE(f >= 0);
    int64_t n = (int64_t)res(h, STRATA_CLV_RESULT_CUSTOMERS);
    ASSERT_EQ_INT(n, 3);
    const char *names[] = {"x", "t_x", "T", "zbar", "p_alive", "expected_purchases",
                           "expected_spend", "clv", "holdout_actual", "holdout_predicted"};
    for (int k = 0; k < 10; k++) {
        double got[3], *want = column(h, STRATA_CLV_COL_X + k);
        hid_t d = H5Dopen2(f, names[k], H5P_DEFAULT);
        ASSERT_MSG(d >= 0, "/%s missing", names[k]);
        ASSERT_TRUE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
        H5Dclose(d);
        ASSERT_MSG(memcmp(got, want, sizeof got) == 0, "/%s differs", names[k]);
        free(want);
    }
    int64_t ids[3];
    hid_t d = H5Dopen2(f, "customer_id", H5P_DEFAULT);
    ASSERT_TRUE(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids) >= 0);
    H5Dclose(d);
    ASSERT_TRUE(ids[0] == 3 && ids[1] == 5 && ids[2] == 7);
    const struct {
        const char *attr;
        int key;
    } attrs[] = {{"bgnbd_r", STRATA_CLV_RESULT_BGNBD_R},
                 {"bgnbd_alpha", STRATA_CLV_RESULT_BGNBD_ALPHA},
                 {"bgnbd_a", STRATA_CLV_RESULT_BGNBD_A},
                 {"bgnbd_b", STRATA_CLV_RESULT_BGNBD_B},
                 {"bgnbd_loglik", STRATA_CLV_RESULT_BGNBD_LOGLIK},
                 {"gg_p", STRATA_CLV_RESULT_GG_P},
                 {"gg_q", STRATA_CLV_RESULT_GG_Q},
                 {"gg_gamma", STRATA_CLV_RESULT_GG_GAMMA},
                 {"freq_spend_corr", STRATA_CLV_RESULT_FREQ_SPEND_CORR},
                 {"calibration_end", STRATA_CLV_RESULT_CALIBRATION_END},
                 {"customers", STRATA_CLV_RESULT_CUSTOMERS},
                 {"excluded", STRATA_CLV_RESULT_EXCLUDED}};
    for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++) {
        double a = read_attr(f, attrs[k].attr), b = res(h, attrs[k].key);
        ASSERT_MSG(a == b || (isnan(a) && isnan(b)), "%s: %g vs %g", attrs[k].attr, a, b);
    }
    /* tracking: 5 weeks of days 0..31, cumulative = running sums */
    int64_t np = (int64_t)res(h, STRATA_CLV_RESULT_TRACKING_PERIODS);
    ASSERT_EQ_INT(np, 5);
    double ta[5], te[5], ca[5], cexp[5];
    ASSERT_OK(strata_clv_tracking(h, ta, te, 5));
    d = H5Dopen2(f, "tracking/cumulative_actual", H5P_DEFAULT);
    ASSERT_TRUE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ca) >= 0);
    H5Dclose(d);
    d = H5Dopen2(f, "tracking/cumulative_expected", H5P_DEFAULT);
    ASSERT_TRUE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, cexp) >= 0);
    H5Dclose(d);
    double sa = 0, se = 0;
    for (int i = 0; i < 5; i++) {
        sa += ta[i];
        se += te[i];
        ASSERT_TRUE(ca[i] == sa);
        ASSERT_REL(cexp[i], se, 1e-15);
    }
    ASSERT_TRUE(sa == 5); /* repeat days: 7's 6 and 20, 3's 30, 5's 9 and 15 (2 is excluded) */
    H5Fclose(f);
    unlink(path);
    strata_clv_free(h);
}

int main(void)
{
    RUN_TEST(test_cdnow_summary_from_log);
    RUN_TEST(test_cdnow_from_csv);
    RUN_TEST(test_threads_and_order);
    RUN_TEST(test_threads_large);
    RUN_TEST(test_hand_summary);
    RUN_TEST(test_no_repeat);
    RUN_TEST(test_clv_formula);
    RUN_TEST(test_bad_input);
    RUN_TEST(test_write_read_back);
    return test_summary();
}
