/* One fitted model used from many threads at once (include/strata.h,
 * "Thread-safety"): predict, transform and the getters of one strata_kmeans,
 * and predict, scale and the getters of one strata_model, called from 8
 * pthreads at the same time, give bitwise the labels, distances, tiers and
 * values of a single-thread reference, and each thread's failing calls report
 * their own message through strata_last_error(). Run under ThreadSanitizer by
 * scripts/sanitize.sh tsan (any report fails it). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

enum { N = 1500, D = 4, K = 5, NTHREADS = 8, ROUNDS = 6 };

static double X[N * D];
static float XF[N * D];
static int32_t REF_LABELS[N], REF_LABELS_F[N], REF_MODEL_LABELS[N], REF_TIERS[N];
static double REF_DIST[N * K], REF_SCALED[N * D], REF_CENTROIDS[K * D];

static strata_kmeans *KM;
static strata_model *MODEL;

/* Five well-separated groups of positive values with some spread: no
 * distance ties, so labels are a real check. */
static void make_data(void)
{
    for (int i = 0; i < N; i++)
        for (int f = 0; f < D; f++) {
            double jitter = (double)((i * 7919 + f * 104729) % 1000) / 1000.0;
            X[i * D + f] = 1.0 + 10.0 * (i % K) * (f + 1) + 3.0 * jitter;
            XF[i * D + f] = (float)X[i * D + f];
        }
}

typedef struct {
    int id;
    int mismatches;
    int bad_status;
    char problem[256];
} worker;

static void note(worker *w, const char *what, int st)
{
    if (!w->problem[0])
        snprintf(w->problem, sizeof w->problem, "thread %d: %s (status %d: %s)", w->id, what, st,
                 strata_last_error());
}

static void *work(void *arg)
{
    worker *w = arg;
    int32_t lab[N], tiers[N];
    static _Thread_local double dist[N * K], scaled[N * D];
    for (int round = 0; round < ROUNDS; round++) {
        /* a slice that differs by thread and round: labels must not depend on it */
        int64_t start = (w->id * 97 + round * 31) % (N / 2), n = N / 2 - (w->id * 13) % 100;
        int st = strata_kmeans_predict(KM, STRATA_FLOAT64, X + start * D, n, D, 0, lab);
        if (st)
            note(w, "kmeans predict failed", st), w->bad_status++;
        else if (memcmp(lab, REF_LABELS + start, (size_t)n * sizeof *lab))
            note(w, "kmeans predict differs", 0), w->mismatches++;
        st = strata_kmeans_predict(KM, STRATA_FLOAT32, XF + start * D, n, D, 0, lab);
        if (st)
            note(w, "float32 predict failed", st), w->bad_status++;
        else if (memcmp(lab, REF_LABELS_F + start, (size_t)n * sizeof *lab))
            note(w, "float32 predict differs", 0), w->mismatches++;
        st = strata_kmeans_transform(KM, STRATA_FLOAT64, X + start * D, n, D, 0, dist);
        if (st)
            note(w, "transform failed", st), w->bad_status++;
        else if (memcmp(dist, REF_DIST + start * K, (size_t)(n * K) * sizeof *dist))
            note(w, "transform differs", 0), w->mismatches++;
        double c[K * D];
        int64_t v = -1;
        if ((st = strata_kmeans_centroids(KM, c, K, D)) ||
            (st = strata_kmeans_result_int(KM, STRATA_KMEANS_RESULT_N, &v)))
            note(w, "kmeans getters failed", st), w->bad_status++;
        else if (memcmp(c, REF_CENTROIDS, sizeof c) || v != N)
            note(w, "kmeans getters differ", 0), w->mismatches++;
        /* a failing const call: this thread's own message, the handle untouched */
        int64_t wrong_d = D + 1 + w->id;
        st = strata_kmeans_predict(KM, STRATA_FLOAT64, X, N / wrong_d, wrong_d, 0, lab);
        char want[64];
        snprintf(want, sizeof want, "rows have %lld features", (long long)wrong_d);
        if (st != STRATA_E_ARG || !strstr(strata_last_error(), want))
            note(w, "wrong-d predict: not this thread's message", st), w->mismatches++;
        st = strata_kmeans_result_int(KM, STRATA_KMEANS_K, &v);
        if (st != STRATA_E_PARAM || !strstr(strata_last_error(), "is a parameter key"))
            note(w, "result_int(parameter key) not refused with its message", st),
                w->mismatches++;

        st = strata_model_predict(MODEL, X + start * D, n, D, 0, lab, tiers);
        if (st)
            note(w, "model predict failed", st), w->bad_status++;
        else if (memcmp(lab, REF_MODEL_LABELS + start, (size_t)n * sizeof *lab) ||
                 memcmp(tiers, REF_TIERS + start, (size_t)n * sizeof *tiers))
            note(w, "model predict differs", 0), w->mismatches++;
        st = strata_model_scale(MODEL, X + start * D, n, D, 0, scaled);
        if (st)
            note(w, "model scale failed", st), w->bad_status++;
        else if (memcmp(scaled, REF_SCALED + start * D, (size_t)(n * D) * sizeof *scaled))
            note(w, "model scale differs", 0), w->mismatches++;
        double bad[D] = {1, 2, 3, 4};
        bad[w->id % D] = NAN;
        st = strata_model_predict(MODEL, bad, 1, D, 0, lab, NULL);
        if (st != STRATA_E_NONFINITE)
            note(w, "NaN row not refused", st), w->mismatches++;
    }
    return NULL;
}

static void test_concurrent_predict_matches_reference(void)
{
    make_data();
    KM = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(KM, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_set_int(KM, STRATA_KMEANS_SEED, 3));
    ASSERT_OK(strata_kmeans_set_int(KM, STRATA_KMEANS_N_INIT, 4));
    ASSERT_OK(strata_kmeans_set_int(KM, STRATA_THREADS, 2)); /* each predict runs a team too */
    ASSERT_OK(strata_kmeans_fit(KM, STRATA_FLOAT64, X, N, D, 0, NULL));
    ASSERT_OK(strata_model_create(&MODEL));
    strata_kmeans *mkm = strata_model_kmeans(MODEL);
    ASSERT_OK(strata_kmeans_set_int(mkm, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_set_int(mkm, STRATA_THREADS, 2));
    ASSERT_OK(strata_model_fit(MODEL, X, N, D, 0, NULL, NULL));

    /* the single-thread reference */
    ASSERT_OK(strata_kmeans_predict(KM, STRATA_FLOAT64, X, N, D, 0, REF_LABELS));
    ASSERT_OK(strata_kmeans_predict(KM, STRATA_FLOAT32, XF, N, D, 0, REF_LABELS_F));
    ASSERT_OK(strata_kmeans_transform(KM, STRATA_FLOAT64, X, N, D, 0, REF_DIST));
    ASSERT_OK(strata_kmeans_centroids(KM, REF_CENTROIDS, K, D));
    ASSERT_OK(strata_model_predict(MODEL, X, N, D, 0, REF_MODEL_LABELS, REF_TIERS));
    ASSERT_OK(strata_model_scale(MODEL, X, N, D, 0, REF_SCALED));
    /* the reference is the fit: every row sits in its own group's cluster */
    int32_t fit_labels[N];
    ASSERT_OK(strata_kmeans_labels(KM, fit_labels, N));
    ASSERT_TRUE(!memcmp(fit_labels, REF_LABELS, sizeof fit_labels));
    for (int i = K; i < N; i++)
        ASSERT_EQ_INT(REF_LABELS[i], REF_LABELS[i % K]);

    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (worker){.id = t};
        ASSERT_TRUE(pthread_create(&th[t], NULL, work, &w[t]) == 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        ASSERT_TRUE(pthread_join(th[t], NULL) == 0);
    for (int t = 0; t < NTHREADS; t++) {
        ASSERT_MSG(!w[t].mismatches && !w[t].bad_status, "%s (%d mismatches, %d failures)",
                   w[t].problem, w[t].mismatches, w[t].bad_status);
    }
    /* the const calls left the handles' own messages alone */
    ASSERT_STR_EQ(strata_kmeans_last_error(KM), "");
    ASSERT_STR_EQ(strata_model_last_error(MODEL), "");
    strata_kmeans_free(KM);
    strata_model_free(MODEL);
}

int main(void)
{
    RUN_TEST(test_concurrent_predict_matches_reference);
    return test_summary();
}
