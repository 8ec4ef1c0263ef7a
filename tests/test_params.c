/* The key catalogue (strata_key_*, strata_param_*): every key of the header is
 * listed, under its own name and kind; the bounds it reports are exactly what
 * the setters accept (lo and hi taken, lo - 1 and hi + 1 refused, for every
 * integer parameter of every handle that takes it); the defaults are what a
 * new handle holds. The reference is the header itself: the list below is
 * written from include/strata.h by hand, not from the library's table. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "test.h"

#define KEY(k) {k, #k}
static const struct {
    int key;
    const char *name;
} HEADER_KEYS[] = {
    KEY(STRATA_KMEANS_K), KEY(STRATA_KMEANS_MAX_ITER), KEY(STRATA_KMEANS_TOL),
    KEY(STRATA_KMEANS_INIT), KEY(STRATA_KMEANS_SEED), KEY(STRATA_KMEANS_N_INIT),
    KEY(STRATA_KMEANS_ALGORITHM), KEY(STRATA_KMEANS_ASSIGN), KEY(STRATA_KMEANS_ALLOW_TOO_FEW),
    KEY(STRATA_KMEANS_BATCH_SIZE), KEY(STRATA_KMEANS_MAX_NO_IMPROVEMENT),
    KEY(STRATA_KMEANS_REASSIGNMENT_RATIO), KEY(STRATA_KMEANS_CHAIN_LENGTH),
    KEY(STRATA_KMEANS_MEMORY), KEY(STRATA_KMEANS_BLOCK_ROWS), KEY(STRATA_THREADS),
    KEY(STRATA_KERNEL), KEY(STRATA_RFM_BINS), KEY(STRATA_RFM_TIES), KEY(STRATA_RFM_REFERENCE_DAY),
    KEY(STRATA_RFM_FREQUENCY_MODE), KEY(STRATA_RFM_MONETARY_MODE), KEY(STRATA_RFM_NEGATIVE),
    KEY(STRATA_RFM_ZERO), KEY(STRATA_RFM_DUPLICATES), KEY(STRATA_RFM_TIME_UNIT),
    KEY(STRATA_RFM_MIN_DAY), KEY(STRATA_RFM_MAX_DAY), KEY(STRATA_RFM_MIN_ID),
    KEY(STRATA_RFM_MEMORY), KEY(STRATA_KMEANS_RESULT_N), KEY(STRATA_KMEANS_RESULT_D),
    KEY(STRATA_KMEANS_RESULT_K), KEY(STRATA_KMEANS_RESULT_N_ITER),
    KEY(STRATA_KMEANS_RESULT_CONVERGED), KEY(STRATA_KMEANS_RESULT_INERTIA),
    KEY(STRATA_KMEANS_RESULT_KERNEL), KEY(STRATA_KMEANS_RESULT_ASSIGN),
    KEY(STRATA_KMEANS_RESULT_SEED), KEY(STRATA_KMEANS_RESULT_INIT),
    KEY(STRATA_KMEANS_RESULT_ALGORITHM), KEY(STRATA_KMEANS_RESULT_STREAMED),
    KEY(STRATA_RFM_RESULT_ROWS), KEY(STRATA_RFM_RESULT_ROWS_USED), KEY(STRATA_RFM_RESULT_BAD_ID),
    KEY(STRATA_RFM_RESULT_BAD_TIME), KEY(STRATA_RFM_RESULT_BAD_AMOUNT),
    KEY(STRATA_RFM_RESULT_NEGATIVE_ROWS), KEY(STRATA_RFM_RESULT_ZERO_ROWS),
    KEY(STRATA_RFM_RESULT_DUPLICATE_ROWS), KEY(STRATA_RFM_RESULT_RETURN_ONLY_ROWS),
    KEY(STRATA_RFM_RESULT_CUSTOMERS), KEY(STRATA_RFM_RESULT_FIRST_DAY),
    KEY(STRATA_RFM_RESULT_LAST_DAY), KEY(STRATA_RFM_RESULT_REFERENCE_DAY_USED),
    KEY(STRATA_RFM_RESULT_BINS_USED), KEY(STRATA_RFM_RESULT_BINS_R), KEY(STRATA_RFM_RESULT_BINS_F),
    KEY(STRATA_RFM_RESULT_BINS_M), KEY(STRATA_RFM_RESULT_SEGMENTS),
    KEY(STRATA_RFM_RESULT_UNMATCHED), KEY(STRATA_MODEL_RESULT_K), KEY(STRATA_MODEL_RESULT_D),
    KEY(STRATA_MODEL_RESULT_N), KEY(STRATA_MODEL_RESULT_TIERS), KEY(STRATA_MODEL_RESULT_N_TRAIN),
    KEY(STRATA_MODEL_RESULT_SEED), KEY(STRATA_MODEL_RESULT_N_ITER),
    KEY(STRATA_CLV_CALIBRATION_END),
    KEY(STRATA_CLV_PERIOD),
    KEY(STRATA_CLV_TIME_UNIT),
    KEY(STRATA_CLV_HOLDOUT_END),
    KEY(STRATA_CLV_HORIZON),
    KEY(STRATA_CLV_CLV_MONTHS),
    KEY(STRATA_CLV_DISCOUNT_RATE),
    KEY(STRATA_CLV_STARTS),
    KEY(STRATA_CLV_THREADS),
    KEY(STRATA_CLV_RESULT_CUSTOMERS),
    KEY(STRATA_CLV_RESULT_REPEAT_CUSTOMERS),
    KEY(STRATA_CLV_RESULT_EXCLUDED),
    KEY(STRATA_CLV_RESULT_BGNBD_R),
    KEY(STRATA_CLV_RESULT_BGNBD_ALPHA),
    KEY(STRATA_CLV_RESULT_BGNBD_A),
    KEY(STRATA_CLV_RESULT_BGNBD_B),
    KEY(STRATA_CLV_RESULT_BGNBD_LOGLIK),
    KEY(STRATA_CLV_RESULT_GG_P),
    KEY(STRATA_CLV_RESULT_GG_Q),
    KEY(STRATA_CLV_RESULT_GG_GAMMA),
    KEY(STRATA_CLV_RESULT_GG_LOGLIK),
    KEY(STRATA_CLV_RESULT_FREQ_SPEND_CORR),
    KEY(STRATA_CLV_RESULT_HOLDOUT_ACTUAL),
    KEY(STRATA_CLV_RESULT_HOLDOUT_PREDICTED),
    KEY(STRATA_CLV_RESULT_HOLDOUT_DAYS),
    KEY(STRATA_CLV_RESULT_CALIBRATION_END),
    KEY(STRATA_CLV_RESULT_BGNBD_CONVERGED),
    KEY(STRATA_CLV_RESULT_TRACKING_PERIODS),
    KEY(STRATA_CLV_RESULT_GG_CONVERGED),
    KEY(STRATA_CLV_RESULT_GG_CUSTOMERS),
    KEY(STRATA_CLV_RESULT_LAST_DAY),
};
#define NHEADER ((int64_t)(sizeof HEADER_KEYS / sizeof HEADER_KEYS[0]))

/* The header's double parameters and results (every other key is an integer). */
static int is_double_key(int key)
{
    return key == STRATA_KMEANS_TOL || key == STRATA_KMEANS_REASSIGNMENT_RATIO ||
           key == STRATA_KMEANS_RESULT_INERTIA || key == STRATA_CLV_HORIZON ||
           key == STRATA_CLV_DISCOUNT_RATE || key >= STRATA_CLV_RESULT_CUSTOMERS; /* CLV results: double */
}

static void test_every_key_listed(void)
{
    ASSERT_EQ_INT(strata_key_count(), NHEADER);
    int64_t seen[NHEADER];
    memset(seen, 0, sizeof seen);
    int prev = 0;
    for (int64_t i = 0; i < strata_key_count(); i++) {
        int key = strata_key_at(i);
        int64_t at = -1;
        for (int64_t j = 0; j < NHEADER; j++)
            if (HEADER_KEYS[j].key == key)
                at = j;
        ASSERT_MSG(at >= 0, "strata_key_at(%lld) = %d is no key of the header", (long long)i, key);
        ASSERT_MSG(!seen[at], "%s listed twice", HEADER_KEYS[at].name);
        seen[at] = 1;
        ASSERT_STR_EQ(strata_key_name(key), HEADER_KEYS[at].name);
        /* kinds by range: parameters below STRATA_RESULT_KEY_MIN, results above */
        int want_kind = key < STRATA_RESULT_KEY_MIN ? STRATA_KEY_PARAM : STRATA_KEY_RESULT;
        ASSERT_EQ_INT(strata_key_kind(key), want_kind);
        ASSERT_MSG(strstr(HEADER_KEYS[at].name, "_RESULT_") ? want_kind == STRATA_KEY_RESULT
                                                             : want_kind == STRATA_KEY_PARAM,
                   "%s: its name and its range disagree on what it is", HEADER_KEYS[at].name);
        ASSERT_EQ_INT(strata_key_type(key),
                      is_double_key(key) ? STRATA_VALUE_DOUBLE : STRATA_VALUE_INT);
        int handles = strata_key_handles(key);
        int want = !strncmp(HEADER_KEYS[at].name, "STRATA_KMEANS_", 14) ? STRATA_HANDLE_KMEANS
                   : !strncmp(HEADER_KEYS[at].name, "STRATA_RFM_", 11)  ? STRATA_HANDLE_RFM
                   : !strncmp(HEADER_KEYS[at].name, "STRATA_MODEL_", 13)
                       ? STRATA_HANDLE_MODEL
                   : !strncmp(HEADER_KEYS[at].name, "STRATA_CLV_", 11) ? STRATA_HANDLE_CLV
                       : STRATA_HANDLE_KMEANS | STRATA_HANDLE_RFM; /* THREADS, KERNEL */
        ASSERT_EQ_INT(handles, want);
        /* ascending: parameters first, then results */
        ASSERT_MSG(i == 0 || key > prev, "key %d after %d", key, prev);
        prev = key;
    }
    for (int64_t j = 0; j < NHEADER; j++)
        ASSERT_MSG(seen[j], "%s is not in the catalogue", HEADER_KEYS[j].name);
    ASSERT_EQ_INT(strata_key_at(-1), 0);
    ASSERT_EQ_INT(strata_key_at(NHEADER), 0);
    ASSERT_TRUE(strata_key_name(12345) == NULL);
    ASSERT_EQ_INT(strata_key_kind(12345), 0);
    ASSERT_EQ_INT(strata_key_type(12345), 0);
    ASSERT_EQ_INT(strata_key_handles(12345), 0);
}

/* Set and read back an integer parameter on a handle of kind `handle`. */
static int set_int(int handle, void *h, int key, int64_t v)
{
    return handle == STRATA_HANDLE_KMEANS ? strata_kmeans_set_int(h, key, v)
           : handle == STRATA_HANDLE_CLV  ? strata_clv_set_int(h, key, v)
                                          : strata_rfm_set_int(h, key, v);
}

static int64_t get_int(int handle, void *h, int key)
{
    int64_t v = -777;
    ASSERT_OK(handle == STRATA_HANDLE_KMEANS ? strata_kmeans_get_int(h, key, &v)
              : handle == STRATA_HANDLE_CLV  ? strata_clv_get_int(h, key, &v)
                                             : strata_rfm_get_int(h, key, &v));
    return v;
}

static void *new_handle(int handle)
{
    if (handle == STRATA_HANDLE_KMEANS)
        return test_new_kmeans();
    if (handle == STRATA_HANDLE_CLV) {
        strata_clv *c = NULL;
        ASSERT_OK(strata_clv_create(&c));
        return c;
    }
    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    return h;
}

static void free_handle(int handle, void *h)
{
    if (handle == STRATA_HANDLE_KMEANS)
        strata_kmeans_free(h);
    else if (handle == STRATA_HANDLE_CLV)
        strata_clv_free(h);
    else
        strata_rfm_free(h);
}

/* Setting `v` must succeed (the kernel: unless this CPU cannot run it) and read back. */
static void expect_taken(int handle, void *h, int key, int64_t v)
{
    int st = set_int(handle, h, key, v);
    if (key == STRATA_KERNEL && !strata_kernel_available((int)v)) {
        ASSERT_STATUS(st, STRATA_E_UNSUPPORTED);
        return;
    }
    ASSERT_MSG(st == STRATA_OK, "%s = %lld, inside its bounds, was refused: %s",
               strata_key_name(key), (long long)v, strata_last_error());
    ASSERT_EQ_INT(get_int(handle, h, key), v);
}

static void expect_refused(int handle, void *h, int key, int64_t v)
{
    int64_t before = get_int(handle, h, key);
    int st = set_int(handle, h, key, v);
    ASSERT_MSG(st == STRATA_E_PARAM, "%s = %lld, outside its bounds, gave %d", strata_key_name(key),
               (long long)v, st);
    ASSERT_EQ_INT(get_int(handle, h, key), before);
}

static void test_int_bounds_are_the_setters(void)
{
    int checked = 0;
    for (int64_t i = 0; i < strata_key_count(); i++) {
        int key = strata_key_at(i);
        if (strata_key_kind(key) != STRATA_KEY_PARAM || strata_key_type(key) != STRATA_VALUE_INT)
            continue;
        int64_t lo, hi;
        ASSERT_OK(strata_param_int_bounds(key, &lo, &hi));
        ASSERT_MSG(lo <= hi, "%s: bounds [%lld, %lld]", strata_key_name(key), (long long)lo,
                   (long long)hi);
        for (int handle = STRATA_HANDLE_KMEANS; handle <= STRATA_HANDLE_CLV; handle <<= 1) {
            if (!(strata_key_handles(key) & handle))
                continue;
            void *h = new_handle(handle);
            if (key == STRATA_KMEANS_INIT) { /* CENTROIDS (inside the range) needs centroids */
                const double c[2] = {0, 1};
                ASSERT_OK(strata_kmeans_set_init_centroids(h, c, 2, 1));
            }
            for (int64_t v = lo; v <= hi && v - lo < 8; v++) /* small enums: every value */
                expect_taken(handle, h, key, v);
            expect_taken(handle, h, key, lo);
            expect_taken(handle, h, key, hi);
            if (lo > INT64_MIN)
                expect_refused(handle, h, key, lo - 1);
            if (hi < INT64_MAX)
                expect_refused(handle, h, key, hi + 1);
            free_handle(handle, h);
            checked++;
        }
    }
    /* k-means, RFM, THREADS and KERNEL on both, CLV */
    ASSERT_EQ_INT(checked, 13 + 13 + 2 * 2 + 7);
}

static void test_double_bounds_are_the_setters(void)
{
    /* CLV's double parameters on a CLV handle */
    const int ckeys[] = {STRATA_CLV_HORIZON, STRATA_CLV_DISCOUNT_RATE};
    for (int i = 0; i < 2; i++) {
        double lo, hi, v;
        ASSERT_OK(strata_param_double_bounds(ckeys[i], &lo, &hi));
        strata_clv *c = NULL;
        ASSERT_OK(strata_clv_create(&c));
        ASSERT_OK(strata_clv_set_double(c, ckeys[i], lo));
        ASSERT_OK(strata_clv_set_double(c, ckeys[i], hi));
        const double bad[] = {nextafter(lo, -INFINITY), nextafter(hi, INFINITY), NAN};
        for (int b = 0; b < 3; b++)
            ASSERT_STATUS(strata_clv_set_double(c, ckeys[i], bad[b]), STRATA_E_PARAM);
        ASSERT_OK(strata_clv_get_double(c, ckeys[i], &v));
        ASSERT_TRUE(v == hi);
        strata_clv_free(c);
    }
    const int keys[] = {STRATA_KMEANS_TOL, STRATA_KMEANS_REASSIGNMENT_RATIO};
    for (int i = 0; i < 2; i++) {
        double lo, hi, v;
        ASSERT_OK(strata_param_double_bounds(keys[i], &lo, &hi));
        strata_kmeans *km = test_new_kmeans();
        ASSERT_OK(strata_kmeans_set_double(km, keys[i], lo));
        ASSERT_OK(strata_kmeans_get_double(km, keys[i], &v));
        ASSERT_TRUE(v == lo);
        ASSERT_OK(strata_kmeans_set_double(km, keys[i], hi));
        const double bad[] = {nextafter(lo, -INFINITY), INFINITY, -INFINITY, NAN};
        for (int b = 0; b < 4; b++) {
            ASSERT_STATUS(strata_kmeans_set_double(km, keys[i], bad[b]), STRATA_E_PARAM);
            ASSERT_OK(strata_kmeans_get_double(km, keys[i], &v));
            ASSERT_TRUE(v == hi);
        }
        strata_kmeans_free(km);
    }
}

/* Defaults as reported are what a new handle holds. */
static void test_defaults_are_new_handles(void)
{
    for (int64_t i = 0; i < strata_key_count(); i++) {
        int key = strata_key_at(i);
        if (strata_key_kind(key) != STRATA_KEY_PARAM)
            continue;
        for (int handle = STRATA_HANDLE_KMEANS; handle <= STRATA_HANDLE_CLV; handle <<= 1) {
            if (!(strata_key_handles(key) & handle))
                continue;
            void *h = new_handle(handle);
            if (strata_key_type(key) == STRATA_VALUE_DOUBLE) {
                double def, v;
                ASSERT_OK(strata_param_default_double(key, &def));
                ASSERT_OK(handle == STRATA_HANDLE_CLV ? strata_clv_get_double(h, key, &v)
                                                      : strata_kmeans_get_double(h, key, &v));
                ASSERT_MSG(v == def, "%s: default %g, a new handle holds %g",
                           strata_key_name(key), def, v);
            } else {
                int64_t def;
                ASSERT_OK(strata_param_default_int(key, &def));
                ASSERT_MSG(get_int(handle, h, key) == def, "%s: default %lld, a new handle "
                           "holds %lld", strata_key_name(key), (long long)def,
                           (long long)get_int(handle, h, key));
            }
            free_handle(handle, h);
        }
    }
}

static void test_wrong_queries(void)
{
    int64_t lo = 7, hi = 7, v;
    double dlo;
    ASSERT_STATUS(strata_param_int_bounds(STRATA_KMEANS_TOL, &lo, &hi), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_last_error(), "STRATA_KMEANS_TOL is a double parameter");
    ASSERT_TRUE(lo == 7 && hi == 7);
    ASSERT_STATUS(strata_param_int_bounds(STRATA_RFM_RESULT_ROWS, &lo, NULL), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_last_error(), "STRATA_RFM_RESULT_ROWS is a result key");
    ASSERT_STATUS(strata_param_double_bounds(STRATA_KMEANS_K, &dlo, NULL), STRATA_E_PARAM);
    ASSERT_STATUS(strata_param_default_int(12345, &v), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_last_error(), "unknown key 12345");
    ASSERT_STATUS(strata_param_default_int(STRATA_KMEANS_K, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_param_default_double(STRATA_KMEANS_TOL, NULL), STRATA_E_NULL);
    ASSERT_OK(strata_param_int_bounds(STRATA_RFM_BINS, NULL, &hi)); /* either may be NULL */
    ASSERT_EQ_INT(hi, 100);
    /* the sentinel the range cannot say: REFERENCE_DAY's AUTO is its default */
    ASSERT_OK(strata_param_default_int(STRATA_RFM_REFERENCE_DAY, &v));
    ASSERT_TRUE(v == STRATA_RFM_REFERENCE_AUTO);
}

int main(void)
{
    RUN_TEST(test_every_key_listed);
    RUN_TEST(test_int_bounds_are_the_setters);
    RUN_TEST(test_double_bounds_are_the_setters);
    RUN_TEST(test_defaults_are_new_handles);
    RUN_TEST(test_wrong_queries);
    return test_summary();
}
