/* An "old client": compiled against the header of the ABI baseline
 * (tests/abi/baseline/strata.h, a copy made by scripts/abi-baseline.sh), run
 * against the library being built. It must keep working unchanged within one
 * SONAME: the core calls, with the enum values and result keys of that
 * header, give the results worked out on paper below (docs/abi-policy.md).
 * The quoted include finds the baseline copy next to this file before any
 * include path, so the current include/strata.h is never seen. */
#include "baseline/strata.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

static void version(void)
{
    /* Same major (SONAME) as the header it was built with, and not older. */
    CHECK(strata_version_number() / 10000 == STRATA_VERSION_MAJOR);
    CHECK(strata_version_number() >= STRATA_VERSION_NUMBER);
    char major[16];
    snprintf(major, sizeof major, "%d.", STRATA_VERSION_MAJOR);
    CHECK(strncmp(strata_version_string(), major, strlen(major)) == 0);
}

static void errors(void)
{
    CHECK(strata_kmeans_create(NULL) == STRATA_E_NULL);
    CHECK(strlen(strata_last_error()) > 0);
    CHECK(strcmp(strata_status_str(STRATA_E_NULL), strata_status_str(12345)) != 0);
    CHECK(strcmp(strata_status_str(STRATA_OK), strata_status_str(STRATA_E_PARAM)) != 0);

    strata_kmeans *km = NULL;
    CHECK(strata_kmeans_create(&km) == STRATA_OK);
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 0) == STRATA_E_PARAM);
    CHECK(strlen(strata_kmeans_last_error(km)) > 0);
    CHECK(strata_kmeans_set_double(km, STRATA_KMEANS_K, 2.0) == STRATA_E_PARAM); /* int key */
    double x[2] = {1.0, 2.0};
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3) == STRATA_OK);
    CHECK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 2, 1, 0, NULL) == STRATA_E_ARG); /* k > n */
    int32_t label;
    CHECK(strata_kmeans_predict(km, STRATA_FLOAT64, x, 1, 1, 0, &label) == STRATA_E_STATE);
    strata_kmeans_free(km);
    strata_kmeans_free(NULL);
}

/* Four points in two pairs: (0,0), (0,1) and (10,0), (10,1). Any sensible
 * start converges to the pairs: centroids (0, 0.5) and (10, 0.5), inertia
 * 4 x 0.5^2 = 1. */
static void kmeans(void)
{
    const double x[8] = {0, 0, 0, 1, 10, 0, 10, 1};
    const float xf[8] = {0, 0, 0, 1, 10, 0, 10, 1};
    strata_kmeans *km = NULL;
    CHECK(strata_kmeans_create(&km) == STRATA_OK);
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 2) == STRATA_OK);
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 7) == STRATA_OK);
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_KMEANSPP) == STRATA_OK);
    CHECK(strata_kmeans_fit(km, STRATA_FLOAT64, x, 4, 2, 0, NULL) == STRATA_OK);
    int32_t labels[4] = {-1, -1, -1, -1};
    CHECK(strata_kmeans_labels(km, labels, 4) == STRATA_OK);
    CHECK(labels[0] == labels[1] && labels[2] == labels[3] && labels[0] != labels[2]);
    CHECK(labels[0] == 0 || labels[0] == 1);
    double c[4];
    CHECK(strata_kmeans_centroids(km, c, 2, 2) == STRATA_OK);
    int a = labels[0], b = labels[2];
    CHECK(c[2 * a] == 0.0 && c[2 * a + 1] == 0.5 && c[2 * b] == 10.0 && c[2 * b + 1] == 0.5);
    double inertia = -1;
    CHECK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia) == STRATA_OK);
    CHECK(fabs(inertia - 1.0) < 1e-12);
    int64_t v = -1;
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &v) == STRATA_OK && v == 4);
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &v) == STRATA_OK && v == 2);
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &v) == STRATA_OK && v == 1);
    CHECK(strata_kmeans_get_int(km, STRATA_KMEANS_SEED, &v) == STRATA_OK && v == 7);

    /* Given centroids, float32 rows: the same answer, cluster 0 on the left. */
    const double start[4] = {1, 0, 9, 0};
    CHECK(strata_kmeans_set_init_centroids(km, start, 2, 2) == STRATA_OK);
    CHECK(strata_kmeans_fit(km, STRATA_FLOAT32, xf, 4, 2, 0, NULL) == STRATA_OK);
    CHECK(strata_kmeans_labels(km, labels, 4) == STRATA_OK);
    CHECK(labels[0] == 0 && labels[1] == 0 && labels[2] == 1 && labels[3] == 1);
    CHECK(strata_kmeans_centroids(km, c, 2, 2) == STRATA_OK);
    CHECK(c[0] == 0.0 && c[1] == 0.5 && c[2] == 10.0 && c[3] == 0.5);

    /* predict and transform: (9, 9) is nearer (10, 0.5), at sqrt(1 + 72.25). */
    const double q[2] = {9, 9};
    int32_t ql = -1;
    CHECK(strata_kmeans_predict(km, STRATA_FLOAT64, q, 1, 2, 0, &ql) == STRATA_OK && ql == 1);
    double dist[2];
    CHECK(strata_kmeans_transform(km, STRATA_FLOAT64, q, 1, 2, 0, dist) == STRATA_OK);
    CHECK(fabs(dist[1] - sqrt(73.25)) < 1e-12 && fabs(dist[0] - sqrt(81 + 72.25)) < 1e-12);
    strata_kmeans_free(km);
}

/* Five purchases of three customers (days, amounts):
 *   customer 1: day 1 10.0, day 5 20.0   -> F 2, M 30,  last day 5
 *   customer 2: day 3 5.0                -> F 1, M 5,   last day 3
 *   customer 3: day 10 100.0, 10 50.0    -> F 2, M 150, last day 10
 * Reference day 11 (the day after the last), so recency 6, 8, 1. With 3 bins
 * and rank ties (ties by ascending id) each customer gets its own bin:
 * R (most recent best) 2, 1, 3; F 2, 1, 3; M 2, 1, 3. */
static void rfm(void)
{
    const int64_t id[5] = {1, 2, 3, 1, 3};
    const int64_t day[5] = {1, 3, 10, 5, 10};
    const double amount[5] = {10.0, 5.0, 100.0, 20.0, 50.0};
    strata_rfm *h = NULL;
    CHECK(strata_rfm_create(&h) == STRATA_OK);
    CHECK(strata_rfm_set_int(h, STRATA_RFM_BINS, 3) == STRATA_OK);
    CHECK(strata_rfm_set_int(h, STRATA_RFM_TIES, STRATA_RFM_TIES_RANK) == STRATA_OK);
    CHECK(strata_rfm_fit(h, id, day, amount, 5) == STRATA_OK);
    int64_t v = -1;
    CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_ROWS, &v) == STRATA_OK && v == 5);
    CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_ROWS_USED, &v) == STRATA_OK && v == 5);
    CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &v) == STRATA_OK && v == 3);
    CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_REFERENCE_DAY_USED, &v) == STRATA_OK && v == 11);
    CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_BINS_USED, &v) == STRATA_OK && v == 3);

    const struct { int column; int64_t want[3]; } ints[] = {
        {STRATA_RFM_COL_CUSTOMER_ID, {1, 2, 3}}, {STRATA_RFM_COL_RECENCY, {6, 8, 1}},
        {STRATA_RFM_COL_FREQUENCY, {2, 1, 2}},   {STRATA_RFM_COL_FIRST_DAY, {1, 3, 10}},
        {STRATA_RFM_COL_TENURE, {10, 8, 1}},     {STRATA_RFM_COL_R, {2, 1, 3}},
        {STRATA_RFM_COL_F, {2, 1, 3}},           {STRATA_RFM_COL_M, {2, 1, 3}},
        {STRATA_RFM_COL_CODE, {222, 111, 333}},  {STRATA_RFM_COL_SCORE, {6, 3, 9}},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t got[3] = {-1, -1, -1};
        CHECK(strata_rfm_column_int64(h, ints[i].column, got, 3) == STRATA_OK);
        for (int j = 0; j < 3; j++)
            if (got[j] != ints[i].want[j]) {
                fprintf(stderr, "column %d customer %d: %lld, want %lld\n", ints[i].column, j,
                        (long long)got[j], (long long)ints[i].want[j]);
                failed++;
            }
    }
    double m[3];
    CHECK(strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, m, 3) == STRATA_OK);
    CHECK(m[0] == 30.0 && m[1] == 5.0 && m[2] == 150.0);
    CHECK(strata_rfm_column_int64(h, STRATA_RFM_COL_MONETARY, (int64_t[3]){0}, 3) == STRATA_E_PARAM);
    CHECK(strata_rfm_set_int(h, STRATA_RFM_BINS, 1) == STRATA_E_PARAM);
    CHECK(strlen(strata_rfm_last_error(h)) > 0);
    strata_rfm_free(h);
}

int main(void)
{
    version();
    errors();
    kmeans();
    rfm();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
