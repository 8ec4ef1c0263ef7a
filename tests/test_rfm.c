/* RFM: hand-checked tiny cases, the cleaning report, tie policies, edge cases
 * (one customer, all-equal values, more bins than values), row-order and
 * thread-count invariance, bad input, and a random log checked against a
 * sort-based reference written here from the documented rules (sharing
 * nothing with lib/). Expected bins of the pandas cases come from pandas
 * 1.5 / numpy 1.24 (the recipe in docs/rfm.md). */
#include "test.h"

/* ---- helpers --------------------------------------------------------- */

static strata_rfm *new_rfm(void)
{
    strata_rfm *h = NULL;
    int st = strata_rfm_create(&h);
    if (st != STRATA_OK || !h)
        TEST_FAIL("strata_rfm_create returned %d: %s", st, strata_last_error());
    return h;
}

static int64_t res(const strata_rfm *h, int key)
{
    int64_t v = -12345;
    ASSERT_OK(strata_rfm_result_int(h, key, &v));
    return v;
}

static void set(strata_rfm *h, int key, int64_t v)
{
    ASSERT_OK(strata_rfm_set_int(h, key, v));
}

/* A whole result, copied out. */
typedef struct result {
    int64_t n;
    int64_t *col[13];
    double *mon, *rev;
} result;

enum { NCOLS = 13 };

static void get_result(const strata_rfm *h, result *r)
{
    r->n = res(h, STRATA_RFM_RESULT_CUSTOMERS);
    for (int c = 0; c < NCOLS; c++) {
        r->col[c] = test_alloc((size_t)r->n, sizeof(int64_t));
        if (c != STRATA_RFM_COL_MONETARY && c != STRATA_RFM_COL_REVENUE)
            ASSERT_OK(strata_rfm_column_int64(h, c, r->col[c], r->n));
    }
    r->mon = test_alloc((size_t)r->n, sizeof(double));
    r->rev = test_alloc((size_t)r->n, sizeof(double));
    ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, r->mon, r->n));
    ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_REVENUE, r->rev, r->n));
}

static void free_result(result *r)
{
    for (int c = 0; c < NCOLS; c++)
        free(r->col[c]);
    free(r->mon);
    free(r->rev);
}

/* Bitwise equality of two results (monetary bits included). */
static void assert_same(const result *a, const result *b)
{
    ASSERT_EQ_INT(a->n, b->n);
    for (int c = 0; c < NCOLS; c++)
        if (c != STRATA_RFM_COL_MONETARY && c != STRATA_RFM_COL_REVENUE)
            ASSERT_MSG(!memcmp(a->col[c], b->col[c], (size_t)a->n * sizeof(int64_t)),
                       "column %d differs", c);
    ASSERT_TRUE(!memcmp(a->mon, b->mon, (size_t)a->n * sizeof(double)));
    ASSERT_TRUE(!memcmp(a->rev, b->rev, (size_t)a->n * sizeof(double)));
}

/* Scores of one metric from per-customer values (ids 0..n-1 in order). */
static void score_values(strata_rfm *h, int metric, const double *v, int64_t n, int64_t *score)
{
    int64_t *id = test_alloc((size_t)n, sizeof *id), *rec = test_alloc((size_t)n, sizeof *rec),
            *freq = test_alloc((size_t)n, sizeof *freq);
    double *mon = test_alloc((size_t)n, sizeof *mon);
    for (int64_t i = 0; i < n; i++) {
        id[i] = i;
        rec[i] = metric == STRATA_RFM_RECENCY ? (int64_t)v[i] : 1;
        freq[i] = metric == STRATA_RFM_FREQUENCY ? (int64_t)v[i] : 1;
        mon[i] = metric == STRATA_RFM_MONETARY ? v[i] : 1.0;
    }
    ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_R + metric, score, n));
    free(id);
    free(rec);
    free(freq);
    free(mon);
}

/* ---- hand-checked cases ----------------------------------------------- */

/* Three customers over days 10..20; reference = 21 (the day after the last). */
static void test_tiny_by_hand(void)
{
    int64_t id[] = {7, 3, 7, 5, 3, 3, 5};
    int64_t day[] = {10, 12, 20, 15, 18, 18, 11};
    double amount[] = {5.0, 1.5, 2.5, 100.0, 3.0, 4.0, 50.0};
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_BINS, 3);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 7));
    result r;
    get_result(h, &r);
    ASSERT_EQ_INT(r.n, 3);
    int64_t ids[] = {3, 5, 7}, rec[] = {3, 6, 1}, freq[] = {3, 2, 2}, first[] = {12, 11, 10};
    double mon[] = {8.5, 150.0, 7.5};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][i], ids[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][i], rec[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][i], freq[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FIRST_DAY][i], first[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_TENURE][i], 21 - first[i]);
        ASSERT_TRUE(r.mon[i] == mon[i]);
    }
    /* q = 3, three customers: rank i+1 lands in bin i (edges 1, 1.67, 2.33, 3).
     * Recency 3, 6, 1 -> ranks 2, 3, 1 -> bins 1, 2, 0 -> R = 3 - bin = 2, 1, 3.
     * Frequency 3, 2, 2 -> ranks 3, 1, 2 (tie: lower id first) -> F = 3, 1, 2.
     * Monetary 8.5, 150, 7.5 -> ranks 2, 3, 1 -> M = 2, 3, 1. */
    int64_t R[] = {2, 1, 3}, F[] = {3, 1, 2}, M[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_R][i], R[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_F][i], F[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_M][i], M[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CODE][i], R[i] * 100 + F[i] * 10 + M[i]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_SCORE][i], R[i] + F[i] + M[i]);
    }
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_REFERENCE_DAY_USED), 21);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_FIRST_DAY), 10);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_LAST_DAY), 20);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS), 7);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), 7);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_R), 3);
    /* Edges (rank policy): the values at the bin boundaries. */
    double e[4];
    ASSERT_OK(strata_rfm_edges(h, STRATA_RFM_MONETARY, e, 4));
    ASSERT_TRUE(e[0] == 7.5 && e[1] == 7.5 && e[2] == 8.5 && e[3] == 150.0);

    /* Frequency as distinct days: customer 3 bought twice on day 18. */
    set(h, STRATA_RFM_FREQUENCY_MODE, STRATA_RFM_COUNT_DAYS);
    set(h, STRATA_RFM_MONETARY_MODE, STRATA_RFM_MEAN);
    set(h, STRATA_RFM_REFERENCE_DAY, 30);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 7));
    free_result(&r);
    get_result(h, &r);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][0], 2);
    ASSERT_TRUE(r.mon[0] == 8.5 / 2 && r.rev[0] == 8.5);
    ASSERT_TRUE(r.mon[1] == 75.0 && r.rev[1] == 150.0);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][2], 10);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_TENURE][2], 20);
    free_result(&r);
    strata_rfm_free(h);
}

/* Unix seconds: days are floor(t / 86400), before 1970 too. */
static void test_seconds(void)
{
    int64_t id[] = {1, 1, 2, 3};
    int64_t t[] = {86400 * 100 + 5, 86400 * 101 - 1, -1, 86400 * 102 + 86399};
    double amount[] = {1, 2, 3, 4};
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_TIME_UNIT, STRATA_RFM_TIME_SECONDS);
    set(h, STRATA_RFM_FREQUENCY_MODE, STRATA_RFM_COUNT_DAYS);
    ASSERT_OK(strata_rfm_fit(h, id, t, amount, 4));
    result r;
    get_result(h, &r);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_LAST_DAY), 102);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_FIRST_DAY), -1);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][0], 1); /* both on day 100 */
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][0], 3);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][1], 104);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][2], 1);
    free_result(&r);
    strata_rfm_free(h);
}

/* Every cleaning reason, with its default and its alternative policy. */
static void test_cleaning_counts(void)
{
    const double nan = NAN;
    int64_t id[] = {1, 1, 1, INT64_MIN, -4, 2, 2, 2, 2, 3, 3, 4, 4, 5};
    int64_t day[] = {1, 1, 2, 3, 3, 9999999999LL, 4, 4, 5, 6, 6, 7, 8, 9};
    double amount[] = {10, 10, -3, 5, 5, 5, nan, INFINITY, 0, 7, -7, -2, -1, 4};
    int64_t n = 14;
    strata_rfm *h = new_rfm();
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, n));
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS), n);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_ID), 2);     /* INT64_MIN and -4 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_TIME), 1);   /* a day past 2^31 - 1 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_AMOUNT), 2); /* NaN, Inf */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_NEGATIVE_ROWS), 4);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ZERO_ROWS), 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), 1); /* customer 1's two 10s on day 1 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_RETURN_ONLY_ROWS), 0);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), 5); /* 10, 10, 0, 7, 4 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_CUSTOMERS), 4); /* 1, 2 (zero kept), 3, 5 */
    result r;
    get_result(h, &r);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][1], 2);
    ASSERT_TRUE(r.mon[0] == 20.0 && r.mon[1] == 0.0);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][0], 2);
    free_result(&r);

    /* Alternatives: net the returns, drop zeros and duplicates, accept id -4. */
    set(h, STRATA_RFM_NEGATIVE, STRATA_RFM_NET);
    set(h, STRATA_RFM_ZERO, STRATA_RFM_DROP);
    set(h, STRATA_RFM_DUPLICATES, STRATA_RFM_DROP);
    set(h, STRATA_RFM_MIN_ID, -10);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, n));
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_ID), 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_NEGATIVE_ROWS), 4);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ZERO_ROWS), 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_RETURN_ONLY_ROWS), 2); /* customer 4: -2 and -1 only */
    /* kept: -4's 5; 1's 10, -3 (one 10 dropped); 3's 7, -7; 5's 4 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), 6);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_CUSTOMERS), 4); /* -4, 1, 3, 5 */
    get_result(h, &r);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][0], -4);
    ASSERT_TRUE(r.mon[1] == 7.0); /* 10 - 3 */
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][1], 1);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][1], 10 - 1); /* the return on day 2 is no purchase */
    ASSERT_TRUE(r.mon[2] == 0.0);                            /* 7 - 7 */
    free_result(&r);

    /* A valid day range, and times turned bad by it. */
    set(h, STRATA_RFM_MIN_DAY, 2);
    set(h, STRATA_RFM_MAX_DAY, 6);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, n));
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_TIME), 6); /* days 1, 1, 7, 8, 9 and 9999999999 */
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_LAST_DAY), 6);
    strata_rfm_free(h);
}

/* Purchases only on the last day have recency 1; the reference may be set. */
static void test_reference_day(void)
{
    int64_t id[] = {1, 2}, day[] = {100, 90};
    double amount[] = {1, 1};
    strata_rfm *h = new_rfm();
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 2));
    int64_t rec[2];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_RECENCY, rec, 2));
    ASSERT_TRUE(rec[0] == 1 && rec[1] == 11);
    set(h, STRATA_RFM_REFERENCE_DAY, 100);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 2));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_RECENCY, rec, 2));
    ASSERT_TRUE(rec[0] == 0 && rec[1] == 10);
    set(h, STRATA_RFM_REFERENCE_DAY, 99); /* before the last purchase: refused, result kept */
    ASSERT_STATUS(strata_rfm_fit(h, id, day, amount, 2), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "before the last purchase day 100");
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_REFERENCE_DAY_USED), 100);
    set(h, STRATA_RFM_REFERENCE_DAY, STRATA_RFM_REFERENCE_AUTO);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 2));
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_REFERENCE_DAY_USED), 101);
    strata_rfm_free(h);
}

/* ---- tie policies against pandas ---------------------------------------- */

/* qcut(rank, q, labels=False) from pandas for ranks 1..n: the n = 19, q = 6
 * case has numpy's edge 15.999999999999998 where exact arithmetic gives 16. */
static void test_rank_bins_match_pandas(void)
{
    static const int64_t want19[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 5};
    static const int64_t want7[] = {0, 0, 1, 2, 3, 4, 4};
    static const int64_t want3[] = {0, 2, 4};
    struct {
        int64_t n, q;
        const int64_t *want;
    } cases[] = {{19, 6, want19}, {7, 5, want7}, {3, 5, want3}};
    strata_rfm *h = new_rfm();
    for (int c = 0; c < 3; c++) {
        int64_t n = cases[c].n, F[32];
        double v[32];
        for (int64_t i = 0; i < n; i++)
            v[i] = (double)(i + 1);
        set(h, STRATA_RFM_BINS, cases[c].q);
        score_values(h, STRATA_RFM_FREQUENCY, v, n, F);
        for (int64_t i = 0; i < n; i++)
            ASSERT_MSG(F[i] == cases[c].want[i] + 1, "n=%lld q=%lld rank %lld: F %lld, pandas bin %lld",
                       (long long)n, (long long)cases[c].q, (long long)(i + 1), (long long)F[i],
                       (long long)cases[c].want[i]);
    }
    strata_rfm_free(h);
}

/* Ties: rank breaks them by id, value keeps them together (maybe fewer bins). */
static void test_ties(void)
{
    /* pandas: qcut([5,1,3,3,3,9,7], 3, duplicates="drop") -> 1 0 0 0 0 2 2;
     * on rank(method="first") -> 1 0 0 0 1 2 2 */
    double v[] = {5, 1, 3, 3, 3, 9, 7};
    int64_t by_value[] = {1, 0, 0, 0, 0, 2, 2}, by_rank[] = {1, 0, 0, 0, 1, 2, 2}, M[7];
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_BINS, 3);
    score_values(h, STRATA_RFM_MONETARY, v, 7, M);
    for (int i = 0; i < 7; i++)
        ASSERT_EQ_INT(M[i], by_rank[i] + 1);
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_VALUE);
    score_values(h, STRATA_RFM_MONETARY, v, 7, M);
    for (int i = 0; i < 7; i++)
        ASSERT_EQ_INT(M[i], by_value[i] + 1);
    double e[4];
    ASSERT_OK(strata_rfm_edges(h, STRATA_RFM_MONETARY, e, 4));
    ASSERT_TRUE(e[0] == 1 && e[1] == 3 && e[2] == 5 && e[3] == 9);

    /* pandas: qcut([1,1,1,1,2,2,3,10], 4, duplicates="drop") -> 0 0 0 0 1 1 2 2,
     * edges 1, 1, 1.5, 2.25, 10: 3 bins from 4 asked. */
    double w[] = {1, 1, 1, 1, 2, 2, 3, 10};
    int64_t want[] = {0, 0, 0, 0, 1, 1, 2, 2}, F[8];
    set(h, STRATA_RFM_BINS, 4);
    score_values(h, STRATA_RFM_FREQUENCY, w, 8, F);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ_INT(F[i], want[i] + 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_F), 3);
    double e5[5];
    ASSERT_OK(strata_rfm_edges(h, STRATA_RFM_FREQUENCY, e5, 5));
    ASSERT_TRUE(e5[0] == 1 && e5[1] == 1 && e5[2] == 1.5 && e5[3] == 2.25 && e5[4] == 10);

    /* Recency scores in reverse: the most recent customers score q. */
    int64_t R[8];
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_RANK);
    score_values(h, STRATA_RFM_RECENCY, w, 8, R);
    int64_t wantR[] = {4, 4, 3, 3, 2, 2, 1, 1}; /* ranks 1..8 in id order; 2 per bin */
    for (int i = 0; i < 8; i++)
        ASSERT_EQ_INT(R[i], wantR[i]);
    strata_rfm_free(h);
}

/* One customer, all-equal values, more bins than distinct values or customers. */
static void test_degenerate(void)
{
    strata_rfm *h = new_rfm();
    int64_t id[] = {42}, day[] = {5};
    double amount[] = {9.5};
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 1));
    result r;
    get_result(h, &r);
    ASSERT_EQ_INT(r.n, 1);
    /* bin 0 everywhere: R = q, F = M = 1 -> "New Customers" in the default map */
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_R][0], 5);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_F][0], 1);
    ASSERT_EQ_INT(r.col[STRATA_RFM_COL_M][0], 1);
    ASSERT_STR_EQ(strata_rfm_segment_name(h, r.col[STRATA_RFM_COL_SEGMENT][0]), "New Customers");
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_M), 1);
    free_result(&r);

    double same[6] = {3, 3, 3, 3, 3, 3};
    int64_t s[9];
    for (int ties = 0; ties < 2; ties++) {
        set(h, STRATA_RFM_TIES, ties);
        score_values(h, STRATA_RFM_MONETARY, same, 6, s);
        if (ties == STRATA_RFM_TIES_VALUE) {
            for (int i = 0; i < 6; i++) /* all in one bin (pandas gives NaN here) */
                ASSERT_EQ_INT(s[i], 1);
            ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_M), 1);
        } else {
            int64_t want[] = {1, 1, 2, 3, 4, 5}; /* qcut of ranks 1..6, q = 5 */
            for (int i = 0; i < 6; i++)
                ASSERT_EQ_INT(s[i], want[i]);
            ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_M), 5);
        }
    }
    /* q = 10 with 3 distinct values: value policy gives at most 3 bins. */
    double few[9] = {1, 1, 1, 2, 2, 2, 7, 7, 7};
    set(h, STRATA_RFM_BINS, 10);
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_VALUE);
    score_values(h, STRATA_RFM_MONETARY, few, 9, s);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_M), 3);
    int64_t want_few[] = {1, 1, 1, 2, 2, 2, 4, 4, 4}; /* pandas: bins 0, 1, 3 ((2, 5] is empty) */
    for (int i = 0; i < 9; i++)
        ASSERT_EQ_INT(s[i], want_few[i]);
    int64_t code[9];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_CODE, code, 9));
    ASSERT_EQ_INT(code[0], 10 * 10000 + 1 * 100 + s[0]); /* two digits per score for q >= 10 */
    strata_rfm_free(h);
}

/* Caller-supplied cut points. */
static void test_given_edges(void)
{
    strata_rfm *h = new_rfm();
    double cuts_r[] = {30, 90, 180, 365}, cuts_f[] = {1, 2, 5, 10}, cuts_m[] = {10, 50, 100, 500};
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_EDGES);
    int64_t id[] = {1, 2, 3}, rec[] = {30, 31, 400}, freq[] = {1, 3, 50};
    double mon[] = {5, 100, 100.5};
    ASSERT_STATUS(strata_rfm_fit_aggregates(h, id, rec, freq, mon, 3), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "cut points");
    ASSERT_OK(strata_rfm_set_edges(h, STRATA_RFM_RECENCY, cuts_r, 4));
    ASSERT_OK(strata_rfm_set_edges(h, STRATA_RFM_FREQUENCY, cuts_f, 4));
    ASSERT_OK(strata_rfm_set_edges(h, STRATA_RFM_MONETARY, cuts_m, 4));
    ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, 3));
    int64_t R[3], F[3], M[3];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_R, R, 3));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_F, F, 3));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_M, M, 3));
    ASSERT_TRUE(R[0] == 5 && R[1] == 4 && R[2] == 1); /* right-closed: 30 <= 30 is the top bin */
    ASSERT_TRUE(F[0] == 1 && F[1] == 3 && F[2] == 5);
    ASSERT_TRUE(M[0] == 1 && M[1] == 3 && M[2] == 4);
    double e[6];
    ASSERT_OK(strata_rfm_edges(h, STRATA_RFM_RECENCY, e, 6));
    ASSERT_TRUE(e[0] == 30 && e[1] == 30 && e[4] == 365 && e[5] == 400);
    double bad[] = {3, 2};
    ASSERT_STATUS(strata_rfm_set_edges(h, STRATA_RFM_MONETARY, bad, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_edges(h, 7, cuts_m, 2), STRATA_E_ARG);
    /* Changing the bin count without new cut points: scoring refuses. */
    set(h, STRATA_RFM_BINS, 3);
    ASSERT_STATUS(strata_rfm_score(h), STRATA_E_PARAM);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BINS_USED), 5); /* the held scores stay */
    strata_rfm_free(h);
}

/* ---- segments ----------------------------------------------------------- */

/* The documented default map (docs/rfm.md), written out cell by cell:
 * rows R = 5..1, columns FM = 1..5. */
static const char *const GRID[5][5] = {
    /* R=5 */ {"New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"},
    /* R=4 */ {"Promising", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"},
    /* R=3 */ {"Promising", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"},
    /* R=2 */ {"Hibernating", "Hibernating", "At Risk", "At Risk", "At Risk"},
    /* R=1 */ {"Lost", "Lost", "At Risk", "Can't Lose Them", "Can't Lose Them"},
};

static void test_default_segments(void)
{
    /* 125 customers: every (R, F, M) with q = 5 given directly as edges. */
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_EDGES);
    double cuts[] = {1.5, 2.5, 3.5, 4.5};
    for (int k = 0; k < 3; k++)
        ASSERT_OK(strata_rfm_set_edges(h, k, cuts, 4));
    int64_t id[125], rec[125], freq[125];
    double mon[125];
    for (int i = 0; i < 125; i++) {
        id[i] = i;
        rec[i] = 1 + i / 25;        /* R = 6 - rec */
        freq[i] = 1 + (i / 5) % 5;  /* F = freq */
        mon[i] = 1 + i % 5;         /* M = mon */
    }
    ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, 125));
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_SEGMENTS), 11);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_UNMATCHED), 0);
    int64_t seg[125], R[125], F[125], M[125];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, 125));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_R, R, 125));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_F, F, 125));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_M, M, 125));
    int seen[11] = {0};
    for (int i = 0; i < 125; i++) {
        ASSERT_EQ_INT(R[i], 6 - rec[i]);
        int64_t fm = (F[i] + M[i] + 1) / 2;
        const char *want = GRID[5 - R[i]][fm - 1];
        ASSERT_MSG(!strcmp(strata_rfm_segment_name(h, seg[i]), want), "R%lld F%lld M%lld: %s, want %s",
                   (long long)R[i], (long long)F[i], (long long)M[i],
                   strata_rfm_segment_name(h, seg[i]), want);
        seen[seg[i]] = 1;
    }
    for (int s = 0; s < 11; s++)
        ASSERT_MSG(seen[s], "segment %s is never used", strata_rfm_segment_name(h, s));
    ASSERT_TRUE(strata_rfm_segment_name(h, 11) == NULL && strata_rfm_segment_name(h, -1) == NULL);

    /* q = 10: the default map sees ceil(5 s / 10). */
    set(h, STRATA_RFM_BINS, 10);
    double cuts9[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int k = 0; k < 3; k++)
        ASSERT_OK(strata_rfm_set_edges(h, k, cuts9, 9));
    int64_t i10[] = {1, 2}, r10[] = {10, 1}, f10[] = {10, 1};
    double m10[] = {10, 1};
    ASSERT_OK(strata_rfm_fit_aggregates(h, i10, r10, f10, m10, 2));
    int64_t s10[2];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, s10, 2));
    ASSERT_STR_EQ(strata_rfm_segment_name(h, s10[0]), "Can't Lose Them"); /* R=1 F=M=10 */
    ASSERT_STR_EQ(strata_rfm_segment_name(h, s10[1]), "New Customers");   /* R=10 F=M=1 */
    strata_rfm_free(h);
}

/* A caller's own tiers, first match wins, unmatched customers get -1. */
static void test_custom_segments(void)
{
    strata_rfm *h = new_rfm();
    const char *names[] = {"active high value", "active", "dormant"};
    int32_t bounds[] = {
        /* R       F       M       FM */
        4, 5, 1, 5, 4, 5, 1, 5, /* active high value: recent and M >= 4 */
        4, 5, 1, 5, 1, 5, 1, 5, /* active: recent */
        2, 3, 1, 5, 1, 5, 1, 5, /* dormant; R = 1 matches nothing */
    };
    ASSERT_OK(strata_rfm_set_segments(h, 3, names, bounds, STRATA_RFM_RULE_NCOLS));
    set(h, STRATA_RFM_TIES, STRATA_RFM_TIES_EDGES);
    double cuts[] = {1.5, 2.5, 3.5, 4.5};
    for (int k = 0; k < 3; k++)
        ASSERT_OK(strata_rfm_set_edges(h, k, cuts, 4));
    int64_t id[] = {1, 2, 3, 4}, rec[] = {1, 2, 3, 5}, freq[] = {1, 1, 1, 1};
    double mon[] = {5, 2, 5, 5};
    ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, 4));
    int64_t seg[4];
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, 4));
    ASSERT_TRUE(seg[0] == 0 && seg[1] == 1 && seg[2] == 2 && seg[3] == -1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_UNMATCHED), 1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_SEGMENTS), 3);
    double count[3], share[3], rev[3], rshare[3];
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_COUNT, count, 3));
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_CUSTOMER_SHARE, share, 3));
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_REVENUE, rev, 3));
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_REVENUE_SHARE, rshare, 3));
    ASSERT_TRUE(count[0] == 1 && count[1] == 1 && count[2] == 1 && share[0] == 0.25);
    ASSERT_TRUE(rev[0] == 5 && rev[1] == 2 && rshare[1] == 2.0 / 17.0);
    int32_t got[24];
    ASSERT_OK(strata_rfm_segment_rules(h, got, 3, STRATA_RFM_RULE_NCOLS));
    ASSERT_TRUE(!memcmp(got, bounds, sizeof got));

    /* A caller that knows fewer rule columns (an older header): the columns
     * it does not give match any score; reading back takes its width too. */
    ASSERT_EQ_INT(strata_rfm_rule_columns(), STRATA_RFM_RULE_NCOLS);
    const int32_t r_only[] = {4, 5, 4, 5, 2, 3}; /* R ranges only: rule 0 now takes M < 4 too */
    ASSERT_OK(strata_rfm_set_segments(h, 3, names, r_only, 2));
    ASSERT_OK(strata_rfm_score(h));
    ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, 4));
    ASSERT_TRUE(seg[0] == 0 && seg[1] == 0 && seg[2] == 2 && seg[3] == -1);
    int32_t narrow[6], wide[24];
    ASSERT_OK(strata_rfm_segment_rules(h, narrow, 3, 2));
    ASSERT_TRUE(!memcmp(narrow, r_only, sizeof narrow));
    ASSERT_OK(strata_rfm_segment_rules(h, wide, 3, STRATA_RFM_RULE_NCOLS));
    for (int i = 0; i < 3; i++)
        for (int c = 2; c < 8; c++)
            ASSERT_EQ_INT(wide[i * 8 + c], c % 2 ? 100 : 1);
    ASSERT_STATUS(strata_rfm_segment_rules(h, wide, 3, 0), STRATA_E_ARG);
    ASSERT_STATUS(strata_rfm_segment_rules(h, wide, 3, STRATA_RFM_RULE_NCOLS + 1), STRATA_E_ARG);
    ASSERT_STATUS(strata_rfm_set_segments(h, 3, names, bounds, STRATA_RFM_RULE_NCOLS + 1),
                  STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "ncols");
    ASSERT_STATUS(strata_rfm_set_segments(h, 3, names, bounds, 0), STRATA_E_ARG);
    ASSERT_OK(strata_rfm_set_segments(h, 3, names, bounds, STRATA_RFM_RULE_NCOLS));

    /* Bad tables are refused and the old one stays. */
    const char *dup[] = {"a", "a"};
    ASSERT_STATUS(strata_rfm_set_segments(h, 2, dup, bounds, STRATA_RFM_RULE_NCOLS),
                  STRATA_E_ARG);
    const char *empty[] = {""};
    ASSERT_STATUS(strata_rfm_set_segments(h, 1, empty, bounds, STRATA_RFM_RULE_NCOLS),
                  STRATA_E_ARG);
    int32_t inverted[8] = {5, 4, 1, 5, 1, 5, 1, 5};
    ASSERT_STATUS(strata_rfm_set_segments(h, 1, names, inverted, STRATA_RFM_RULE_NCOLS),
                  STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "R range 5..4 is empty");
    ASSERT_STATUS(strata_rfm_set_segments(h, 1, NULL, bounds, STRATA_RFM_RULE_NCOLS),
                  STRATA_E_NULL);
    ASSERT_STATUS(strata_rfm_set_segments(h, 1001, names, bounds, STRATA_RFM_RULE_NCOLS),
                  STRATA_E_ARG);
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 2), "dormant");
    /* Back to the default map: takes effect at the next scoring. */
    ASSERT_OK(strata_rfm_set_segments(h, 0, NULL, NULL, STRATA_RFM_RULE_NCOLS));
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 2), "dormant");
    ASSERT_OK(strata_rfm_score(h));
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 0), "Champions");
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_SEGMENTS), 11);
    strata_rfm_free(h);
}

/* ---- invariance --------------------------------------------------------- */

typedef struct log_t {
    int64_t n, *id, *day;
    double *amount;
} log_t;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* n transactions of about n / per customers; amounts multiples of 0.25 (exact
 * sums in any order), some ties, a few bad rows of every kind. */
static log_t make_log(int64_t n, int64_t per, uint64_t seed)
{
    log_t L = {n, test_alloc((size_t)n, 8), test_alloc((size_t)n, 8), test_alloc((size_t)n, 8)};
    int64_t customers = n / per + 1;
    for (int64_t i = 0; i < n; i++) {
        uint64_t u = rng_next(&seed);
        L.id[i] = 1000 + (int64_t)(u % (uint64_t)customers) * 7;
        L.day[i] = 15000 + (int64_t)((u >> 20) % 700);
        L.amount[i] = (double)((u >> 40) % 2000) * 0.25;
        switch ((u >> 60) & 15) {
        case 0: if ((u >> 12) % 50 == 0) L.amount[i] = NAN; break;
        case 1: if ((u >> 12) % 50 == 0) L.amount[i] = -L.amount[i] - 1; break;
        case 2: if ((u >> 12) % 50 == 0) L.id[i] = -1; break;
        case 3: if (i > 0 && (u >> 12) % 20 == 0) { /* an exact duplicate */
                    L.id[i] = L.id[i - 1];
                    L.day[i] = L.day[i - 1];
                    L.amount[i] = L.amount[i - 1];
                }
                break;
        default: break;
        }
    }
    return L;
}

static void free_log(log_t *L)
{
    free(L->id);
    free(L->day);
    free(L->amount);
}

static void fit_log(strata_rfm *h, const log_t *L, result *r)
{
    ASSERT_OK(strata_rfm_fit(h, L->id, L->day, L->amount, L->n));
    get_result(h, r);
}

static void test_row_order_invariance(void)
{
    log_t L = make_log(200000, 4, 1);
    log_t S = {L.n, test_alloc((size_t)L.n, 8), test_alloc((size_t)L.n, 8),
               test_alloc((size_t)L.n, 8)};
    /* a random permutation */
    int64_t *perm = test_alloc((size_t)L.n, sizeof *perm);
    uint64_t seed = 99;
    for (int64_t i = 0; i < L.n; i++)
        perm[i] = i;
    for (int64_t i = L.n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_next(&seed) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int64_t i = 0; i < L.n; i++) {
        S.id[i] = L.id[perm[i]];
        S.day[i] = L.day[perm[i]];
        /* non-exact amounts now: the canonical order must still give the same bits */
        L.amount[i] = L.amount[i] * 1.1;
    }
    for (int64_t i = 0; i < L.n; i++)
        S.amount[i] = L.amount[perm[i]];
    strata_rfm *h = new_rfm();
    for (int pol = 0; pol < 2; pol++) {
        set(h, STRATA_RFM_NEGATIVE, pol ? STRATA_RFM_NET : STRATA_RFM_DROP);
        set(h, STRATA_RFM_DUPLICATES, pol ? STRATA_RFM_DROP : STRATA_RFM_KEEP);
        set(h, STRATA_RFM_TIES, pol ? STRATA_RFM_TIES_VALUE : STRATA_RFM_TIES_RANK);
        result a, b;
        fit_log(h, &L, &a);
        int64_t dup = res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), used = res(h, STRATA_RFM_RESULT_ROWS_USED);
        fit_log(h, &S, &b);
        assert_same(&a, &b);
        ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), dup);
        ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), used);
        free_result(&a);
        free_result(&b);
    }
    strata_rfm_free(h);
    free(perm);
    free_log(&S);
    free_log(&L);
}

static void test_thread_determinism(void)
{
    /* enough customers (> 2^17) for the parallel selection path */
    log_t L = make_log(600000, 3, 2);
    for (int64_t i = 0; i < L.n; i++)
        L.amount[i] *= 1.07;
    strata_rfm *h = new_rfm();
    result base;
    set(h, STRATA_THREADS, 1);
    fit_log(h, &L, &base);
    ASSERT_TRUE(base.n > (1 << 17));
    double prof1[11], prof[11];
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEAN_MONETARY, prof1, 11));
    for (int t = 2; t <= 3; t++) {
        result r;
        set(h, STRATA_THREADS, t);
        fit_log(h, &L, &r);
        assert_same(&base, &r);
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEAN_MONETARY, prof, 11));
        ASSERT_TRUE(!memcmp(prof, prof1, sizeof prof));
        free_result(&r);
    }
    free_result(&base);
    strata_rfm_free(h);
    free_log(&L);
}

static const int KERNELS[3] = {STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2, STRATA_KERNEL_AVX512};

/* Every SIMD kernel this CPU runs counts values against the bin edges and
 * selection pivots the same way: scores and profiles are bitwise the same. */
static void test_kernels_agree(void)
{
    /* > 2^17 customers: the parallel selection; q = 37 by value: more pivots
     * than the kernel takes */
    log_t L = make_log(600000, 3, 4);
    for (int64_t i = 0; i < L.n; i++)
        L.amount[i] *= 1.03;
    strata_rfm *h = new_rfm();
    ASSERT_TRUE(strata_rfm_set_int(h, STRATA_KERNEL, 99) == STRATA_E_PARAM);
    for (int run = 0; run < 3; run++) {
        set(h, STRATA_RFM_TIES, run ? STRATA_RFM_TIES_VALUE : STRATA_RFM_TIES_RANK);
        set(h, STRATA_RFM_BINS, run == 2 ? 37 : 5);
        set(h, STRATA_KERNEL, STRATA_KERNEL_AUTO);
        result base;
        fit_log(h, &L, &base);
        double prof0[11], prof[11];
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_MONETARY, prof0, 11));
        int tested = 0;
        for (int k = 0; k < 3; k++) {
            if (!strata_kernel_available(KERNELS[k])) {
                ASSERT_TRUE(strata_rfm_set_int(h, STRATA_KERNEL, KERNELS[k]) ==
                            STRATA_E_UNSUPPORTED);
                continue;
            }
            set(h, STRATA_KERNEL, KERNELS[k]);
            int64_t got = -1;
            ASSERT_OK(strata_rfm_get_int(h, STRATA_KERNEL, &got));
            ASSERT_EQ_INT(got, KERNELS[k]);
            result r;
            fit_log(h, &L, &r);
            assert_same(&base, &r);
            ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_MONETARY, prof, 11));
            ASSERT_TRUE(!memcmp(prof, prof0, sizeof prof));
            free_result(&r);
            tested++;
        }
        ASSERT_TRUE(tested >= 1);
        free_result(&base);
    }
    strata_rfm_free(h);
    free_log(&L);
}

/* The row check of the aggregation is a kernel too: every kernel counts the
 * same rows under the same reasons and keeps the same ones, on a log with
 * every kind of bad row, in days and in seconds, under each policy. */
static void test_row_check_kernels_agree(void)
{
    log_t L = make_log(50000, 3, 6);
    for (int64_t i = 0; i < L.n; i++) {
        switch (i % 23) {
        case 0: L.id[i] = INT64_MIN; break;
        case 1: L.amount[i] = i % 2 ? INFINITY : -INFINITY; break;
        case 2: L.day[i] = 14000; break; /* before MIN_DAY below */
        case 3: L.day[i] = 16000; break; /* after MAX_DAY below */
        case 4: L.amount[i] = 0.0; break;
        case 5: L.amount[i] = -0.0; break;
        case 6: L.amount[i] = -12.5; break;
        case 7: L.amount[i] = 1e300; break; /* finite, not whole cents in 53 bits */
        default: break;
        }
    }
    log_t S = {L.n, test_alloc((size_t)L.n, 8), L.day, L.amount};
    int64_t *sec = test_alloc((size_t)L.n, 8);
    for (int64_t i = 0; i < L.n; i++) {
        sec[i] = L.day[i] * 86400 + (int64_t)(i % 86400) - (i % 5 == 0 ? 86400 * 20000 : 0);
        S.id[i] = L.id[i];
    }
    S.day = sec;
    static const int KEYS[] = {STRATA_RFM_RESULT_ROWS_USED, STRATA_RFM_RESULT_BAD_ID, STRATA_RFM_RESULT_BAD_TIME,
                               STRATA_RFM_RESULT_BAD_AMOUNT,
                               STRATA_RFM_RESULT_NEGATIVE_ROWS, STRATA_RFM_RESULT_ZERO_ROWS,
                               STRATA_RFM_RESULT_DUPLICATE_ROWS, STRATA_RFM_RESULT_RETURN_ONLY_ROWS};
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_MIN_DAY, 14500);
    set(h, STRATA_RFM_MAX_DAY, 15600);
    set(h, STRATA_RFM_MIN_ID, 1000);
    for (int run = 0; run < 4; run++) {
        const log_t *log = run & 1 ? &S : &L;
        set(h, STRATA_RFM_TIME_UNIT, run & 1 ? STRATA_RFM_TIME_SECONDS : STRATA_RFM_TIME_DAYS);
        set(h, STRATA_RFM_NEGATIVE, run & 2 ? STRATA_RFM_NET : STRATA_RFM_DROP);
        set(h, STRATA_RFM_ZERO, run & 2 ? STRATA_RFM_DROP : STRATA_RFM_KEEP);
        set(h, STRATA_KERNEL, STRATA_KERNEL_SCALAR);
        result base;
        fit_log(h, log, &base);
        int64_t want[8];
        for (int k = 0; k < 8; k++)
            want[k] = res(h, KEYS[k]);
        /* the documented rules, counted here: the first problem of each row */
        int64_t ref[5] = {0};
        for (int64_t i = 0; i < log->n; i++) {
            int64_t t = log->day[i], d = run & 1 ? t / 86400 - (t % 86400 < 0) : t;
            double a = log->amount[i];
            if (log->id[i] == INT64_MIN || log->id[i] < 1000)
                ref[0]++;
            else if (d < 14500 || d > 15600)
                ref[1]++;
            else if (!isfinite(a))
                ref[2]++;
            else if (a < 0)
                ref[3]++;
            else if (a == 0)
                ref[4]++;
        }
        for (int k = 0; k < 5; k++) {
            ASSERT_EQ_INT(want[1 + k], ref[k]);
            ASSERT_TRUE(ref[k] > 0);
        }
        for (int kk = 1; kk < 3; kk++) {
            if (!strata_kernel_available(KERNELS[kk]))
                continue;
            set(h, STRATA_KERNEL, KERNELS[kk]);
            result r;
            fit_log(h, log, &r);
            assert_same(&base, &r);
            for (int k = 0; k < 8; k++)
                ASSERT_MSG(res(h, KEYS[k]) == want[k], "run %d kernel %d: count %d differs", run,
                           KERNELS[kk], KEYS[k]);
            free_result(&r);
        }
        free_result(&base);
    }
    strata_rfm_free(h);
    free(S.id);
    free(sec);
    free_log(&L);
}

/* Ids and times spread over wide ranges change the internal record layout
 * (packed 16-byte keys, radix passes, comparison sorts, 24-byte records)
 * but never the result: the same log under order-preserving id maps. */
static void test_id_layouts(void)
{
    log_t L = make_log(100000, 3, 5);
    log_t W = {L.n, test_alloc((size_t)L.n, 8), test_alloc((size_t)L.n, 8),
               test_alloc((size_t)L.n, 8)};
    const int64_t scale[] = {1, (int64_t)1 << 20, (int64_t)1 << 40, (int64_t)1 << 44}; /* ids stay below 2^63 */
    strata_rfm *h = new_rfm();
    result base;
    fit_log(h, &L, &base);
    for (int k = 1; k < 4; k++) {
        for (int sec = 0; sec < 2; sec++) {
            for (int64_t i = 0; i < L.n; i++) {
                W.id[i] = L.id[i] < 0 ? L.id[i] : L.id[i] * scale[k] + 3;
                W.day[i] = sec ? L.day[i] * 86400 + (int64_t)(i % 86400) : L.day[i];
                W.amount[i] = L.amount[i];
            }
            set(h, STRATA_RFM_TIME_UNIT, sec ? STRATA_RFM_TIME_SECONDS : STRATA_RFM_TIME_DAYS);
            result r;
            fit_log(h, &W, &r);
            ASSERT_EQ_INT(r.n, base.n);
            for (int64_t c = 0; c < r.n; c++)
                ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][c],
                              base.col[STRATA_RFM_COL_CUSTOMER_ID][c] * scale[k] + 3);
            for (int col = STRATA_RFM_COL_RECENCY; col <= STRATA_RFM_COL_SEGMENT; col++)
                if (col != STRATA_RFM_COL_MONETARY && !(sec && col == STRATA_RFM_COL_FREQUENCY))
                    ASSERT_MSG(!memcmp(r.col[col], base.col[col], (size_t)r.n * 8),
                               "scale 2^%d, seconds %d: column %d differs", k == 1 ? 20 : k == 2 ? 40 : 44,
                               sec, col);
            ASSERT_TRUE(!memcmp(r.mon, base.mon, (size_t)r.n * 8) || sec);
            free_result(&r);
        }
    }
    free_result(&base);
    strata_rfm_free(h);
    free_log(&W);
    free_log(&L);
}

/* Ids spanning more than 2^63 (hashed 64-bit ids, STRATA_RFM_MIN_ID at its
 * lowest): the bucket shift was 64, undefined - it read and wrote outside
 * the bucket counters, and a customer went missing without an error. By
 * hand on four rows, then a log whose ids are hashed over the whole int64
 * range: per customer the same values as with its plain ids. */
static void test_ids_over_the_whole_range(void)
{
    strata_rfm *h = new_rfm();
    set(h, STRATA_RFM_MIN_ID, INT64_MIN + 1);
    const int64_t id[4] = {-1, INT64_MAX, 7, -1}, day[4] = {0, 1, 2, 3};
    const double amount[4] = {1, 2, 3, 4};
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 4));
    result r;
    get_result(h, &r);
    ASSERT_EQ_INT(r.n, 3);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), 4);
    const int64_t want_id[3] = {-1, 7, INT64_MAX}, want_freq[3] = {2, 1, 1};
    const double want_mon[3] = {5, 3, 2};
    for (int c = 0; c < 3; c++) {
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][c], want_id[c]);
        ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][c], want_freq[c]);
        ASSERT_TRUE(r.mon[c] == want_mon[c]);
    }
    free_result(&r);

    log_t L = make_log(50000, 3, 9);
    log_t W = {L.n, test_alloc((size_t)L.n, 8), test_alloc((size_t)L.n, 8),
               test_alloc((size_t)L.n, 8)};
    result base;
    fit_log(h, &L, &base); /* its -1 ids are customers too, under this min_id */
    for (int64_t i = 0; i < L.n; i++) { /* odd multiplier: one-to-one, both signs */
        W.id[i] = (int64_t)((uint64_t)L.id[i] * 0x9E3779B97F4A7C15u);
        ASSERT_TRUE(W.id[i] != INT64_MIN);
        W.day[i] = L.day[i];
        W.amount[i] = L.amount[i];
    }
    result hashed;
    fit_log(h, &W, &hashed);
    ASSERT_EQ_INT(hashed.n, base.n);
    for (int64_t c = 0; c < base.n; c++) { /* base customer c is hashed customer j */
        const int64_t want = (int64_t)((uint64_t)base.col[STRATA_RFM_COL_CUSTOMER_ID][c] *
                                       0x9E3779B97F4A7C15u);
        int64_t lo = 0, hi = hashed.n - 1, j = -1;
        while (lo <= hi) {
            const int64_t mid = lo + (hi - lo) / 2, v = hashed.col[STRATA_RFM_COL_CUSTOMER_ID][mid];
            if (v == want) {
                j = mid;
                break;
            }
            if (v < want)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        ASSERT_TRUE(j >= 0);
        /* the aggregates (scores break ties by customer order, which hashing changes) */
        for (int col = STRATA_RFM_COL_RECENCY; col <= STRATA_RFM_COL_TENURE; col++)
            if (col != STRATA_RFM_COL_MONETARY)
                ASSERT_EQ_INT(hashed.col[col][j], base.col[col][c]);
        ASSERT_TRUE(hashed.mon[j] == base.mon[c]);
    }
    free_result(&base);
    free_result(&hashed);
    free_log(&W);
    free_log(&L);
    strata_rfm_free(h);
}

/* Amounts that are all whole cents are packed with the key (8-byte
 * records); one amount that is not (an eighth of a cent), or one so large
 * that the cents no longer fit beside the id and time bits, switches the
 * layout. The customers of the original log must come out bitwise the same
 * every time, under every policy that changes how rows are summed. */
static void test_amount_layouts(void)
{
    log_t L = make_log(120000, 3, 8);
    log_t X = {L.n + 1, test_alloc((size_t)L.n + 1, 8), test_alloc((size_t)L.n + 1, 8),
               test_alloc((size_t)L.n + 1, 8)};
    int64_t max_id = 0;
    for (int64_t i = 0; i < L.n; i++) {
        X.id[i] = L.id[i];
        X.day[i] = L.day[i];
        X.amount[i] = L.amount[i];
        max_id = L.id[i] > max_id ? L.id[i] : max_id;
    }
    /* one more customer, after all others, on a day inside the log's range */
    X.id[L.n] = max_id + 1;
    X.day[L.n] = 15010;
    const double extra[] = {0.125, 4.5e13};
    strata_rfm *h = new_rfm();
    for (int pol = 0; pol < 4; pol++) {
        set(h, STRATA_RFM_NEGATIVE, pol >= 2 ? STRATA_RFM_NET : STRATA_RFM_DROP);
        set(h, STRATA_RFM_DUPLICATES, pol == 1 || pol == 2 ? STRATA_RFM_DROP : STRATA_RFM_KEEP);
        set(h, STRATA_RFM_MONETARY_MODE, pol & 1 ? STRATA_RFM_MEAN : STRATA_RFM_SUM);
        set(h, STRATA_RFM_FREQUENCY_MODE, pol & 1 ? STRATA_RFM_COUNT_DAYS : STRATA_RFM_COUNT_ROWS);
        result base;
        fit_log(h, &L, &base);
        int64_t dup = res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), used = res(h, STRATA_RFM_RESULT_ROWS_USED);
        for (int e = 0; e < 2; e++) {
            X.amount[L.n] = extra[e];
            result r;
            fit_log(h, &X, &r);
            ASSERT_EQ_INT(r.n, base.n + 1);
            ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_DUPLICATE_ROWS), dup);
            ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS_USED), used + 1);
            const int cols[] = {STRATA_RFM_COL_CUSTOMER_ID, STRATA_RFM_COL_RECENCY,
                                STRATA_RFM_COL_FREQUENCY, STRATA_RFM_COL_FIRST_DAY};
            for (int c = 0; c < 4; c++)
                ASSERT_MSG(!memcmp(r.col[cols[c]], base.col[cols[c]], (size_t)base.n * 8),
                           "policy %d, extra amount %g: column %d differs", pol, extra[e],
                           cols[c]);
            ASSERT_TRUE(!memcmp(r.mon, base.mon, (size_t)base.n * 8));
            ASSERT_TRUE(!memcmp(r.rev, base.rev, (size_t)base.n * 8));
            ASSERT_TRUE(r.rev[base.n] == extra[e]);
            free_result(&r);
        }
        free_result(&base);
    }
    strata_rfm_free(h);
    free_log(&X);
    free_log(&L);
}

/* ---- a random log against a sort-based reference ------------------------ */

typedef struct ref_row {
    int64_t id, day;
    double amount;
} ref_row;

static int cmp_row(const void *pa, const void *pb)
{
    const ref_row *a = pa, *b = pb;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->amount > b->amount) - (a->amount < b->amount);
}

typedef struct ref_key {
    double v;
    int64_t i;
} ref_key;

static int cmp_key(const void *pa, const void *pb)
{
    const ref_key *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* numpy.quantile's linear interpolation on sorted values s[0, n). */
static double np_quantile(const double *s, int64_t n, int j, int q)
{
    double p = j == q ? 1.0 : (double)j * (1.0 / q);
    double h = (double)(n - 1) * p;
    if (h >= (double)(n - 1))
        return s[n - 1];
    int64_t k = (int64_t)floor(h);
    double g = h - (double)k, a = s[k], b = s[k + 1];
    volatile double d = b - a, t1 = d * g, t2 = d * (1 - g);
    return g >= 0.5 ? b - t2 : a + t1;
}

/* pandas: qcut(rank(method="first"), q) or qcut(values, q, duplicates="drop"). */
static void ref_bins(const double *v, int64_t n, int q, int ties, int64_t *bin)
{
    ref_key *k = test_alloc((size_t)n, sizeof *k);
    double *s = test_alloc((size_t)n, sizeof *s), e[101], u[101];
    for (int64_t i = 0; i < n; i++)
        k[i] = (ref_key){v[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_key);
    for (int64_t r = 0; r < n; r++)
        s[r] = ties == STRATA_RFM_TIES_RANK ? (double)(r + 1) : k[r].v;
    int nu = 0;
    for (int j = 0; j <= q; j++) {
        e[j] = np_quantile(s, n, j, q);
        if (nu == 0 || u[nu - 1] != e[j])
            u[nu++] = e[j];
    }
    for (int64_t r = 0; r < n; r++) {
        double x = s[r];
        int below = 0;
        for (int j = 0; j < nu; j++)
            below += u[j] < x;
        bin[k[r].i] = (below > 1 ? below : 1) - 1;
    }
    free(k);
    free(s);
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static void test_random_against_reference(void)
{
    log_t L = make_log(300000, 2, 3);
    /* the reference: clean with the default policies, sort, group */
    ref_row *rows = test_alloc((size_t)L.n, sizeof *rows);
    int64_t m = 0, last = INT64_MIN;
    for (int64_t i = 0; i < L.n; i++)
        if (L.id[i] >= 0 && isfinite(L.amount[i]) && L.amount[i] >= 0) {
            rows[m++] = (ref_row){L.id[i], L.day[i], L.amount[i]};
            last = L.day[i] > last ? L.day[i] : last;
        }
    qsort(rows, (size_t)m, sizeof *rows, cmp_row);
    int64_t nc = 0;
    for (int64_t i = 0; i < m; i++)
        nc += i == 0 || rows[i].id != rows[i - 1].id;
    int64_t *id = test_alloc((size_t)nc, 8), *rec = test_alloc((size_t)nc, 8),
            *freq = test_alloc((size_t)nc, 8);
    double *mon = test_alloc((size_t)nc, 8);
    for (int64_t i = 0, c = -1; i < m; i++) {
        if (i == 0 || rows[i].id != rows[i - 1].id) {
            c++;
            id[c] = rows[i].id;
            freq[c] = 0;
            mon[c] = 0;
        }
        freq[c]++;
        mon[c] += rows[i].amount;
        rec[c] = last + 1 - rows[i].day;
    }
    strata_rfm *h = new_rfm();
    /* q = 40: the value policy's selection needs more pivots than the
     * rank-keys kernel takes (the per-value binary search) */
    for (int run = 0; run < 4; run++) {
        int ties = run & 1, q = run < 2 ? (ties ? 7 : 5) : 40;
        set(h, STRATA_RFM_TIES, ties);
        set(h, STRATA_RFM_BINS, q);
        result r;
        fit_log(h, &L, &r);
        ASSERT_EQ_INT(r.n, nc);
        for (int64_t c = 0; c < nc; c++) {
            ASSERT_EQ_INT(r.col[STRATA_RFM_COL_CUSTOMER_ID][c], id[c]);
            ASSERT_EQ_INT(r.col[STRATA_RFM_COL_RECENCY][c], rec[c]);
            ASSERT_EQ_INT(r.col[STRATA_RFM_COL_FREQUENCY][c], freq[c]);
            ASSERT_TRUE(r.mon[c] == mon[c]);
        }
        double *v = test_alloc((size_t)nc, sizeof *v);
        int64_t *bin = test_alloc((size_t)nc, sizeof *bin);
        const int64_t *iv[2] = {rec, freq};
        for (int k = 0; k < 3; k++) {
            for (int64_t c = 0; c < nc; c++)
                v[c] = k == 2 ? mon[c] : (double)iv[k][c];
            ref_bins(v, nc, q, ties, bin);
            for (int64_t c = 0; c < nc; c++) {
                int64_t want = k == 0 ? q - bin[c] : bin[c] + 1;
                ASSERT_MSG(r.col[STRATA_RFM_COL_R + k][c] == want,
                           "metric %d customer %lld: score %lld, reference %lld", k,
                           (long long)id[c], (long long)r.col[STRATA_RFM_COL_R + k][c],
                           (long long)want);
            }
        }
        /* profiles: counts, means and medians per segment by brute force */
        double count[11], mean_m[11], med_r[11], med_f[11], med_m[11];
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_COUNT, count, 11));
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEAN_MONETARY, mean_m, 11));
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_RECENCY, med_r, 11));
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_FREQUENCY, med_f, 11));
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_MONETARY, med_m, 11));
        double total = 0;
        for (int s = 0; s < 11; s++) {
            int64_t cnt = 0;
            double sum = 0;
            for (int64_t c = 0; c < nc; c++)
                if (r.col[STRATA_RFM_COL_SEGMENT][c] == s) {
                    v[cnt] = (double)rec[c];
                    sum += mon[c];
                    cnt++;
                }
            ASSERT_EQ_INT((int64_t)count[s], cnt);
            total += count[s];
            if (cnt == 0) {
                ASSERT_TRUE(isnan(mean_m[s]) && isnan(med_r[s]));
                continue;
            }
            ASSERT_REL(mean_m[s], sum / (double)cnt, 1e-12);
            qsort(v, (size_t)cnt, sizeof *v, cmp_double);
            ASSERT_TRUE(med_r[s] == (v[(cnt - 1) / 2] + v[cnt / 2]) / 2);
            for (int64_t c = 0, j = 0; c < nc; c++)
                if (r.col[STRATA_RFM_COL_SEGMENT][c] == s)
                    v[j++] = mon[c];
            qsort(v, (size_t)cnt, sizeof *v, cmp_double);
            ASSERT_TRUE(med_m[s] == (v[(cnt - 1) / 2] + v[cnt / 2]) / 2);
            for (int64_t c = 0, j = 0; c < nc; c++)
                if (r.col[STRATA_RFM_COL_SEGMENT][c] == s)
                    v[j++] = (double)freq[c];
            qsort(v, (size_t)cnt, sizeof *v, cmp_double);
            ASSERT_TRUE(med_f[s] == (v[(cnt - 1) / 2] + v[cnt / 2]) / 2);
        }
        ASSERT_EQ_INT((int64_t)total, nc);
        free(v);
        free(bin);
        free_result(&r);
    }
    strata_rfm_free(h);
    free(id);
    free(rec);
    free(freq);
    free(mon);
    free(rows);
    free_log(&L);
}

/* Segment medians against sorting: recency spanning too wide a range to be
 * counted (the bucket-histogram path) and not (the counting path); monetary
 * always by bucket histograms, with negative values and zeros of both signs
 * in the wide case. */
static void test_profile_medians(void)
{
    int64_t n = 200001;
    int64_t *id = test_alloc((size_t)n, 8), *rec = test_alloc((size_t)n, 8),
            *freq = test_alloc((size_t)n, 8);
    double *mon = test_alloc((size_t)n, 8), *v = test_alloc((size_t)n, 8);
    uint64_t seed = 17;
    strata_rfm *h = new_rfm();
    for (int wide = 0; wide < 2; wide++) {
        for (int64_t i = 0; i < n; i++) {
            uint64_t u = rng_next(&seed);
            id[i] = i;
            rec[i] = (int64_t)(u % (wide ? 50000000u : 700u));
            freq[i] = 1 + (int64_t)((u >> 30) % 40);
            mon[i] = (double)((u >> 40) % 100000) / 7.0;
            if (wide) /* net spend: negative values, and zeros of both signs */
                mon[i] = i % 97 == 0 ? (i % 2 ? -0.0 : 0.0) : mon[i] - 5000.0;
        }
        ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n));
        int64_t *seg = test_alloc((size_t)n, 8);
        ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, n));
        double med[11];
        for (int metric = 0; metric < 2; metric++) {
            ASSERT_OK(strata_rfm_profile(h, metric ? STRATA_RFM_STAT_MEDIAN_MONETARY
                                                   : STRATA_RFM_STAT_MEDIAN_RECENCY,
                                         med, 11));
            for (int s = 0; s < 11; s++) {
                int64_t m = 0;
                for (int64_t i = 0; i < n; i++)
                    if (seg[i] == s)
                        v[m++] = metric ? mon[i] : (double)rec[i];
                if (m == 0) {
                    ASSERT_TRUE(isnan(med[s]));
                    continue;
                }
                qsort(v, (size_t)m, sizeof *v, cmp_double);
                ASSERT_MSG(med[s] == (v[(m - 1) / 2] + v[m / 2]) / 2,
                           "wide %d metric %d segment %d: %g vs %g", wide, metric, s, med[s],
                           (v[(m - 1) / 2] + v[m / 2]) / 2);
            }
        }
        free(seg);
    }
    strata_rfm_free(h);
    free(id);
    free(rec);
    free(freq);
    free(mon);
    free(v);
}

/* fit_aggregates gives the scores fit gives for the same aggregates. */
static void test_fit_aggregates_matches_fit(void)
{
    log_t L = make_log(50000, 5, 4);
    strata_rfm *h = new_rfm();
    result a;
    fit_log(h, &L, &a);
    /* reversed order: fit_aggregates sorts by id */
    int64_t n = a.n, *id = test_alloc((size_t)n, 8), *rec = test_alloc((size_t)n, 8),
            *freq = test_alloc((size_t)n, 8);
    double *mon = test_alloc((size_t)n, 8);
    for (int64_t i = 0; i < n; i++) {
        id[i] = a.col[STRATA_RFM_COL_CUSTOMER_ID][n - 1 - i];
        rec[i] = a.col[STRATA_RFM_COL_RECENCY][n - 1 - i];
        freq[i] = a.col[STRATA_RFM_COL_FREQUENCY][n - 1 - i];
        mon[i] = a.mon[n - 1 - i];
    }
    ASSERT_OK(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n));
    result b;
    get_result(h, &b);
    for (int c = STRATA_RFM_COL_R; c <= STRATA_RFM_COL_SEGMENT; c++)
        ASSERT_TRUE(!memcmp(a.col[c], b.col[c], (size_t)n * 8));
    ASSERT_EQ_INT(b.col[STRATA_RFM_COL_FIRST_DAY][0], -1);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_ROWS), n);
    id[1] = id[0];
    ASSERT_STATUS(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "appears twice");
    id[1] = id[0] - 1;
    freq[3] = 0;
    ASSERT_STATUS(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n), STRATA_E_ARG);
    freq[3] = 1;
    mon[2] = NAN;
    ASSERT_STATUS(strata_rfm_fit_aggregates(h, id, rec, freq, mon, n), STRATA_E_NONFINITE);
    free_result(&a);
    free_result(&b);
    free(id);
    free(rec);
    free(freq);
    free(mon);
    strata_rfm_free(h);
    free_log(&L);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void)
{
    strata_rfm *h = new_rfm();
    int64_t id[] = {1, 2}, day[] = {3, 4}, out[2];
    double amount[] = {1, 2};
    /* nothing fitted yet */
    ASSERT_STATUS(strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, out), STRATA_E_STATE);
    ASSERT_STATUS(strata_rfm_column_int64(h, STRATA_RFM_COL_R, out, 2), STRATA_E_STATE);
    ASSERT_STATUS(strata_rfm_score(h), STRATA_E_STATE);
    ASSERT_STATUS(strata_rfm_write_h5(h, "/tmp/never.h5", NULL, 0), STRATA_E_STATE);
    /* arguments */
    ASSERT_STATUS(strata_rfm_fit(h, NULL, day, amount, 2), STRATA_E_NULL);
    ASSERT_STATUS(strata_rfm_fit(h, id, day, amount, 0), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "empty");
    ASSERT_STATUS(strata_rfm_fit(NULL, id, day, amount, 2), STRATA_E_NULL);
    ASSERT_STR_CONTAINS(strata_last_error(), "NULL");
    /* parameters: out of range values leave the parameter unchanged */
    int64_t v;
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_BINS, 1), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_BINS, 101), STRATA_E_PARAM);
    ASSERT_OK(strata_rfm_get_int(h, STRATA_RFM_BINS, &v));
    ASSERT_EQ_INT(v, 5);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_TIES, 3), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_NEGATIVE, STRATA_RFM_KEEP), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_ZERO, STRATA_RFM_NET), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_MIN_DAY, (int64_t)1 << 40), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_MIN_ID, INT64_MIN), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, 999, 1), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_get_int(h, 999, &v), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_KMEANS_K, 3), STRATA_E_PARAM);
    ASSERT_OK(strata_rfm_get_int(h, STRATA_RFM_REFERENCE_DAY, &v));
    ASSERT_TRUE(v == STRATA_RFM_REFERENCE_AUTO);
    /* the memory budget (out-of-core fit_h5: tests/python/test_rfm_outofcore.py) */
    ASSERT_OK(strata_rfm_get_int(h, STRATA_RFM_MEMORY, &v));
    ASSERT_EQ_INT(v, 0);
    ASSERT_STATUS(strata_rfm_set_int(h, STRATA_RFM_MEMORY, -1), STRATA_E_PARAM);
    set(h, STRATA_RFM_MEMORY, (int64_t)2 << 30);
    ASSERT_OK(strata_rfm_get_int(h, STRATA_RFM_MEMORY, &v));
    ASSERT_EQ_INT(v, (int64_t)2 << 30);
    ASSERT_OK(strata_rfm_set_tmpdir(h, "/nonexistent-folder"));
    ASSERT_OK(strata_rfm_set_tmpdir(h, NULL));
    ASSERT_STATUS(strata_rfm_set_tmpdir(NULL, "/tmp"), STRATA_E_NULL);
    /* a fit from arrays ignores both */
    ASSERT_OK(strata_rfm_set_tmpdir(h, "/nonexistent-folder"));
    set(h, STRATA_RFM_MEMORY, 1);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 2));
    set(h, STRATA_RFM_MEMORY, 0);
    /* an empty valid day range */
    set(h, STRATA_RFM_MIN_DAY, 10);
    set(h, STRATA_RFM_MAX_DAY, 9);
    ASSERT_STATUS(strata_rfm_fit(h, id, day, amount, 2), STRATA_E_PARAM);
    /* every row dropped: the message gives the counts */
    set(h, STRATA_RFM_MAX_DAY, 1000);
    ASSERT_STATUS(strata_rfm_fit(h, id, day, amount, 2), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "2 with a day outside the valid range");
    /* results: wrong sizes and keys */
    set(h, STRATA_RFM_MIN_DAY, 0);
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 2));
    ASSERT_STATUS(strata_rfm_column_int64(h, STRATA_RFM_COL_R, out, 3), STRATA_E_ARG);
    ASSERT_STATUS(strata_rfm_column_int64(h, STRATA_RFM_COL_MONETARY, out, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_column_int64(h, 99, out, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_result_int(h, 0, &v), STRATA_E_PARAM);
    double d[12];
    ASSERT_STATUS(strata_rfm_edges(h, STRATA_RFM_RECENCY, d, 5), STRATA_E_ARG);
    ASSERT_STATUS(strata_rfm_profile(h, STRATA_RFM_STAT_COUNT, d, 10), STRATA_E_ARG);
    ASSERT_STATUS(strata_rfm_profile(h, 10, d, 11), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_write_h5(h, "/tmp/never.h5", NULL, 4), STRATA_E_PARAM);
    ASSERT_STATUS(strata_rfm_fit_h5(h, "/nonexistent/x.h5", NULL, "/a", "/b", "/c"),
                  STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "/nonexistent/x.h5");
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_CUSTOMERS), 2); /* failures kept the result */
    strata_rfm_free(h);
    strata_rfm_free(NULL);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(NULL), "NULL");
}

/* ---- overflow (issue 12): an error or exact, never a NaN or Inf -------- */

/* Every number the handle gives out is finite, except the documented NaN:
 * means and medians of an empty segment, and revenue shares when the total
 * revenue (summed here in long double, which cannot overflow) is 0. */
static void assert_outputs_finite(const strata_rfm *h)
{
    result r;
    get_result(h, &r);
    long double total = 0;
    for (int64_t i = 0; i < r.n; i++) {
        ASSERT_MSG(isfinite(r.mon[i]) && isfinite(r.rev[i]), "customer %lld: monetary %g, "
                   "revenue %g", (long long)r.col[STRATA_RFM_COL_CUSTOMER_ID][i], r.mon[i],
                   r.rev[i]);
        total += r.rev[i];
    }
    int64_t q = res(h, STRATA_RFM_RESULT_BINS_USED), nseg = res(h, STRATA_RFM_RESULT_SEGMENTS);
    double e[101], count[1001], v[1001];
    for (int m = 0; m < 3; m++) {
        ASSERT_OK(strata_rfm_edges(h, m, e, q + 1));
        for (int64_t j = 0; j <= q; j++)
            ASSERT_MSG(isfinite(e[j]), "edge %lld of metric %d is %g", (long long)j, m, e[j]);
    }
    ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_COUNT, count, nseg));
    for (int stat = 0; stat <= STRATA_RFM_STAT_MEDIAN_MONETARY; stat++) {
        ASSERT_OK(strata_rfm_profile(h, stat, v, nseg));
        for (int64_t s = 0; s < nseg; s++) {
            int nan_ok = stat == STRATA_RFM_STAT_REVENUE_SHARE
                             ? total == 0
                             : stat >= STRATA_RFM_STAT_MEAN_RECENCY && count[s] == 0;
            ASSERT_MSG(isfinite(v[s]) || (nan_ok && isnan(v[s])),
                       "profile statistic %d of segment %lld is %g", stat, (long long)s, v[s]);
        }
    }
    free_result(&r);
}

/* One bad log: the fit fails with STRATA_E_NONFINITE naming `what`, and
 * the previous result (3 customers) stays. */
static void expect_overflow(strata_rfm *h, const int64_t *id, const int64_t *t, const double *a,
                            int64_t n, const char *what)
{
    ASSERT_STATUS(strata_rfm_fit(h, id, t, a, n), STRATA_E_NONFINITE);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "beyond the double range");
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), what);
    ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_CUSTOMERS), 3);
}

/* Finite amounts whose total overflows double (1e308 + 1e308 gave monetary
 * NaN with status OK and nothing counted): every record layout, time unit,
 * policy and kernel fails with the customer named; totals that stay finite
 * in the canonical order (day, time, amount) are exact results. */
static void test_amount_overflow(void)
{
    const int64_t gid[3] = {1, 2, 3}, gday[3] = {1, 2, 3};
    const double gamt[3] = {10.0, 20.0, 30.0};
    /* customer 1 twice at 1e308 (not whole cents: narrow records) */
    const int64_t id[4] = {2, 1, 3, 1}, day[4] = {5, 1, 6, 2};
    const double amt[4] = {7.0, 1e308, 8.0, 1e308};
    /* ids and days too spread for 64-bit keys: wide records */
    const int64_t wid[4] = {(int64_t)1 << 62, 9, 4, 9}, wday[4] = {0, 2147483647, 5, 0};
    const double wamt[4] = {1.0, 1.2e308, 2.0, 0.8e308};
    /* Unix seconds */
    const int64_t sday[4] = {86400 * 5, 86400, 86400 * 6, 86400 * 2 + 17};
    /* NET: +1e308 +1e308 -1e308 overflows on the way (canonical order), */
    const int64_t nid[5] = {1, 1, 1, 2, 3}, nday[5] = {1, 2, 3, 4, 5};
    const double nbad[5] = {1e308, 1e308, -1e308, 5.0, 6.0};
    /* ... +1e308 -1e308 +1e308 does not: monetary 1e308 exactly, 2 purchases */
    const double nok[5] = {1e308, -1e308, 1e308, 5.0, 6.0};
    /* one customer each at 1e308 and 0.9e308: finite customers, infinite profile sums */
    const int64_t pid[3] = {1, 2, 3}, pday[3] = {1, 1, 2};
    const double pamt[3] = {1e308, 0.9e308, 4.0};
    /* 1e308 + 5 is 1e308: a finite, exact result */
    const double big[4] = {7.0, 1e308, 8.0, 5.0};
    for (int k = 0; k < 3; k++) {
        if (!strata_kernel_available(KERNELS[k]))
            continue;
        for (int threads = 1; threads <= 2; threads++) {
            strata_rfm *h = new_rfm();
            set(h, STRATA_KERNEL, KERNELS[k]);
            set(h, STRATA_THREADS, threads);
            ASSERT_OK(strata_rfm_fit(h, gid, gday, gamt, 3));
            expect_overflow(h, id, day, amt, 4, "customer 1 ");
            expect_overflow(h, wid, wday, wamt, 4, "customer 9 ");
            set(h, STRATA_RFM_MONETARY_MODE, STRATA_RFM_MEAN); /* the revenue would overflow */
            expect_overflow(h, id, day, amt, 4, "customer 1 ");
            set(h, STRATA_RFM_MONETARY_MODE, STRATA_RFM_SUM);
            set(h, STRATA_RFM_TIME_UNIT, STRATA_RFM_TIME_SECONDS);
            expect_overflow(h, id, sday, amt, 4, "customer 1 ");
            set(h, STRATA_RFM_TIME_UNIT, STRATA_RFM_TIME_DAYS);
            expect_overflow(h, pid, pday, pamt, 3, "revenue");
            set(h, STRATA_RFM_NEGATIVE, STRATA_RFM_NET);
            expect_overflow(h, nid, nday, nbad, 5, "customer 1 ");
            ASSERT_OK(strata_rfm_fit(h, nid, nday, nok, 5));
            double mon[3], rev[3];
            int64_t freq[3];
            ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, mon, 3));
            ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_REVENUE, rev, 3));
            ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_FREQUENCY, freq, 3));
            ASSERT_TRUE(mon[0] == 1e308 && rev[0] == 1e308 && mon[1] == 5.0 && mon[2] == 6.0);
            ASSERT_EQ_INT(freq[0], 2);
            assert_outputs_finite(h);
            set(h, STRATA_RFM_NEGATIVE, STRATA_RFM_DROP);
            ASSERT_OK(strata_rfm_fit(h, id, day, big, 4));
            ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, mon, 3));
            ASSERT_TRUE(mon[0] == 1e308 && mon[1] == 7.0 && mon[2] == 8.0);
            ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_BAD_AMOUNT), 0);
            assert_outputs_finite(h);
            strata_rfm_free(h);
        }
    }
}

/* Scoring values near the double range (fit_aggregates): a quantile edge
 * between -1e308 and 1e308 is their weighted mean (numpy gives NaN), an even
 * median of 0.9e308 and 0.95e308 is 0.925e308 (not Inf), and profile sums
 * that overflow are an error naming the segment. */
/* The text rule format (strata_rfm_set_segments_text, `strata rfm
 * --segments`): hand-written rules against the bounds they mean, and every
 * malformed line refused with its line number, the previous rules kept. */
static void test_segments_text(void)
{
    const int64_t id[3] = {1, 2, 3}, day[3] = {10, 11, 12};
    const double amount[3] = {5, 6, 7};
    strata_rfm *h;
    ASSERT_OK(strata_rfm_create(&h));
    ASSERT_OK(strata_rfm_set_segments_text(h, "# tiers\r\n\n"
                                              "  Best customers : r=4-5 f=4-5 m=5 \r\n"
                                              "Mid:fm=3\tr=2-100\n"
                                              "a:b: r=1\n" /* the name ends at the last ':' */
                                              "Rest:"));     /* any score, no newline at the end */
    ASSERT_OK(strata_rfm_fit(h, id, day, amount, 3));
    int64_t nseg = 0;
    ASSERT_OK(strata_rfm_result_int(h, STRATA_RFM_RESULT_SEGMENTS, &nseg));
    ASSERT_EQ_INT(nseg, 4);
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 0), "Best customers");
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 1), "Mid");
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 2), "a:b");
    ASSERT_STR_EQ(strata_rfm_segment_name(h, 3), "Rest");
    int32_t b[4 * STRATA_RFM_RULE_NCOLS];
    ASSERT_OK(strata_rfm_segment_rules(h, b, 4, STRATA_RFM_RULE_NCOLS));
    const int32_t want[4 * STRATA_RFM_RULE_NCOLS] = {4, 5, 4, 5, 5, 5, 1, 100,
                                                       2, 100, 1, 100, 1, 100, 3, 3,
                                                       1, 1, 1, 100, 1, 100, 1, 100,
                                                       1, 100, 1, 100, 1, 100, 1, 100};
    for (int i = 0; i < 4 * STRATA_RFM_RULE_NCOLS; i++)
        ASSERT_EQ_INT(b[i], want[i]);
    static const struct {
        const char *text, *message;
    } bad[] = {
        {"A: r=1\nB: q=1\n", "line 2: bad range 'q=1'"},
        {"A: m=3-2", "line 1: bad range 'm=3-2'"},
        {"A: r=0", "line 1: bad range 'r=0'"},
        {"A: r=101", "line 1: bad range 'r=101'"},
        {"A: r=+3", "line 1: bad range 'r=+3'"},
        {"A: r=1-2-3", "line 1: bad range 'r=1-2-3'"},
        {"A: r=99999999999999999999999", "line 1: bad range"},
        {"A: r=", "line 1: bad range 'r='"},
        {"A: r", "line 1: bad range 'r'"},
        {"\n\n : r=1", "line 3: expected 'NAME:"},
        {"no colon here", "line 1: expected 'NAME:"},
        {"# only a comment\n\n", "no segment rules"},
        {"", "no segment rules"},
        {"A: r=1\nA: r=2", "the same name 'A'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_STATUS(strata_rfm_set_segments_text(h, bad[i].text), STRATA_E_ARG);
        ASSERT_STR_CONTAINS(strata_rfm_last_error(h), bad[i].message);
    }
    /* a name of 128 bytes is one too many */
    char longname[200];
    memset(longname, 'x', 128);
    strcpy(longname + 128, ": r=1");
    ASSERT_STATUS(strata_rfm_set_segments_text(h, longname), STRATA_E_ARG);
    longname[127] = ':';
    longname[128] = '\0';
    ASSERT_OK(strata_rfm_set_segments_text(h, longname));
    ASSERT_STATUS(strata_rfm_set_segments_text(h, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_rfm_set_segments_text(NULL, "A: r=1"), STRATA_E_NULL);
    strata_rfm_free(h);
}

static void test_score_overflow(void)
{
    const int64_t id[4] = {1, 2, 3, 4}, one[4] = {1, 1, 1, 1};
    const double pm[2] = {-1e308, 1e308};
    const double spread[4] = {-1.79e308, 0.9e308, 0.95e308, 1e308}; /* sums finite by id */
    const double twice[2] = {1e308, 1e308};
    const char *names[] = {"all"};
    const int32_t any[8] = {1, 100, 1, 100, 1, 100, 1, 100};
    for (int k = 0; k < 3; k++) {
        if (!strata_kernel_available(KERNELS[k]))
            continue;
        strata_rfm *h = new_rfm();
        set(h, STRATA_KERNEL, KERNELS[k]);
        set(h, STRATA_RFM_BINS, 2);
        for (int ties = STRATA_RFM_TIES_RANK; ties <= STRATA_RFM_TIES_VALUE; ties++) {
            set(h, STRATA_RFM_TIES, ties);
            ASSERT_OK(strata_rfm_fit_aggregates(h, id, one, one, pm, 2));
            double e[3];
            int64_t m[2];
            ASSERT_OK(strata_rfm_edges(h, STRATA_RFM_MONETARY, e, 3));
            ASSERT_TRUE(e[0] == -1e308 && e[2] == 1e308);
            /* value: lerp at 1/2 = 0; rank: the value of the last customer of bin 0 */
            ASSERT_TRUE(e[1] == (ties == STRATA_RFM_TIES_VALUE ? 0.0 : -1e308));
            ASSERT_OK(strata_rfm_column_int64(h, STRATA_RFM_COL_M, m, 2));
            ASSERT_TRUE(m[0] == 1 && m[1] == 2);
            assert_outputs_finite(h);
        }
        ASSERT_OK(strata_rfm_set_segments(h, 1, names, any, STRATA_RFM_RULE_NCOLS));
        ASSERT_OK(strata_rfm_fit_aggregates(h, id, one, one, spread, 4));
        double med, mean;
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEDIAN_MONETARY, &med, 1));
        ASSERT_OK(strata_rfm_profile(h, STRATA_RFM_STAT_MEAN_MONETARY, &mean, 1));
        ASSERT_TRUE(med == 0.9e308 / 2 + 0.95e308 / 2);
        ASSERT_REL(mean, (((-1.79e308 + 0.9e308) + 0.95e308) + 1e308) / 4, 1e-15);
        assert_outputs_finite(h);
        ASSERT_STATUS(strata_rfm_fit_aggregates(h, id, one, one, twice, 2), STRATA_E_NONFINITE);
        ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "segment 'all'");
        ASSERT_EQ_INT(res(h, STRATA_RFM_RESULT_CUSTOMERS), 4); /* the previous result stays */
        strata_rfm_free(h);
    }
}

int main(void)
{
    RUN_TEST(test_tiny_by_hand);
    RUN_TEST(test_seconds);
    RUN_TEST(test_cleaning_counts);
    RUN_TEST(test_reference_day);
    RUN_TEST(test_rank_bins_match_pandas);
    RUN_TEST(test_ties);
    RUN_TEST(test_degenerate);
    RUN_TEST(test_given_edges);
    RUN_TEST(test_default_segments);
    RUN_TEST(test_custom_segments);
    RUN_TEST(test_segments_text);
    RUN_TEST(test_row_order_invariance);
    RUN_TEST(test_thread_determinism);
    RUN_TEST(test_kernels_agree);
    RUN_TEST(test_row_check_kernels_agree);
    RUN_TEST(test_id_layouts);
    RUN_TEST(test_ids_over_the_whole_range);
    RUN_TEST(test_amount_layouts);
    RUN_TEST(test_random_against_reference);
    RUN_TEST(test_profile_medians);
    RUN_TEST(test_fit_aggregates_matches_fit);
    RUN_TEST(test_bad_input);
    RUN_TEST(test_amount_overflow);
    RUN_TEST(test_score_overflow);
    return test_summary();
}
