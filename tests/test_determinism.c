/* Results do not depend on the thread count: labels, centroids and inertia
 * are bitwise identical for STRATA_THREADS = 1, 2, 3 and the default, on
 * data spanning many work chunks; distinct handles fitted at the same time in
 * distinct threads give the same results as one after the other. */
#include <pthread.h>

#include "ref.h"
#include "test.h"

#define N 100003 /* not a multiple of any chunk or block size */
#define D 5
#define K 7

typedef struct result {
    double c[K * D];
    double inertia;
    int64_t n_iter, converged;
    int32_t *labels;
    int status;
    char msg[256];
} result;

typedef struct job {
    const gen_data *g;
    int64_t threads, n_init;
    int assign;
    result *out;
} job;

/* Fit and collect; no assertions (it may run in a worker thread). */
static void *run_job(void *arg)
{
    job *j = arg;
    const gen_data *g = j->g;
    result *r = j->out;
    strata_kmeans *km = NULL;
    r->labels = test_alloc((size_t)g->n, sizeof(int32_t));
    int st = strata_kmeans_create(&km);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_KMEANS_K, K);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 20240611);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, j->n_init);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, j->assign);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_THREADS, j->threads);
    /* tol 0: iterate until no label changes, so runs are long */
    if (!st)
        st = strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0);
    if (!st)
        st = strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 60);
    if (!st)
        st = strata_kmeans_fit(km, g->dtype, g->x, g->n, g->d, g->stride, g->w);
    if (!st)
        st = strata_kmeans_centroids(km, r->c, K, D);
    if (!st)
        st = strata_kmeans_labels(km, r->labels, g->n);
    if (!st)
        st = strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia);
    if (!st)
        st = strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter);
    if (!st)
        st = strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &r->converged);
    r->status = st;
    snprintf(r->msg, sizeof r->msg, "%s", st ? strata_kmeans_last_error(km) : "");
    strata_kmeans_free(km);
    return NULL;
}

static void assert_identical(const result *a, const result *b, int64_t n, const char *what)
{
    ASSERT_MSG(a->status == 0 && b->status == 0, "%s: fit failed: %s / %s", what, a->msg, b->msg);
    int64_t diff = 0;
    for (int64_t i = 0; i < n; i++)
        diff += a->labels[i] != b->labels[i];
    ASSERT_MSG(diff == 0, "%s: %lld labels differ", what, (long long)diff);
    ASSERT_MSG(memcmp(a->c, b->c, sizeof a->c) == 0, "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof a->inertia) == 0,
               "%s: inertia %.17g vs %.17g", what, a->inertia, b->inertia);
    ASSERT_EQ_INT(a->n_iter, b->n_iter);
    ASSERT_EQ_INT(a->converged, b->converged);
}

/* Overlapping blobs so that Lloyd runs many iterations. */
static void make_data(gen_data *g, int dtype)
{
    gen_blobs(g, 777 + (uint64_t)dtype, dtype, N, D, D + 2, 12, 4.0, 1.0, 50.0, 1);
}

static void test_thread_counts(void)
{
#define NT 4
    const int64_t thread_counts[NT] = {1, 2, 3, 0};
    const int assigns[2] = {STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++) {
        gen_data g;
        make_data(&g, dt);
        for (int a = 0; a < 2; a++) {
            int64_t n_init = a ? 2 : 1;
            result r[NT];
            memset(r, 0, sizeof r);
            for (int t = 0; t < NT; t++) {
                job j = {&g, thread_counts[t], n_init, assigns[a], &r[t]};
                run_job(&j);
                ASSERT_MSG(r[t].status == 0, "fit failed: %s", r[t].msg);
            }
            fprintf(stderr, "  %s assign=%d n_init=%lld: %lld iterations, inertia %.17g\n",
                    dt == STRATA_FLOAT32 ? "float32" : "float64", assigns[a], (long long)n_init,
                    (long long)r[0].n_iter, r[0].inertia);
            ASSERT_TRUE(r[0].n_iter >= 4); /* a real run, not a trivial one */
            for (int t = 1; t < NT; t++) {
                char what[80];
                snprintf(what, sizeof what, "dtype %d assign %d: threads 1 vs %lld", dt,
                         assigns[a], (long long)thread_counts[t]);
                assert_identical(&r[0], &r[t], g.n, what);
            }
            for (int t = 0; t < NT; t++)
                free(r[t].labels);
        }
        gen_free(&g);
    }
}

/* predict and transform do not depend on the thread count either. */
static void test_predict_thread_counts(void)
{
    gen_data g;
    make_data(&g, STRATA_FLOAT32);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, g.w));
    int32_t *l1 = test_alloc((size_t)g.n, sizeof(int32_t));
    int32_t *l3 = test_alloc((size_t)g.n, sizeof(int32_t));
    double *t1 = test_alloc((size_t)(g.n * K), sizeof(double));
    double *t3 = test_alloc((size_t)(g.n * K), sizeof(double));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 1));
    ASSERT_OK(strata_kmeans_predict(km, g.dtype, g.x, g.n, g.d, g.stride, l1));
    ASSERT_OK(strata_kmeans_transform(km, g.dtype, g.x, g.n, g.d, g.stride, t1));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 3));
    ASSERT_OK(strata_kmeans_predict(km, g.dtype, g.x, g.n, g.d, g.stride, l3));
    ASSERT_OK(strata_kmeans_transform(km, g.dtype, g.x, g.n, g.d, g.stride, t3));
    ASSERT_TRUE(memcmp(l1, l3, (size_t)g.n * sizeof(int32_t)) == 0);
    ASSERT_TRUE(memcmp(t1, t3, (size_t)(g.n * K) * sizeof(double)) == 0);
    free(l1);
    free(l3);
    free(t1);
    free(t3);
    strata_kmeans_free(km);
    gen_free(&g);
}

/* Two handles used at the same time from two threads. */
static void test_concurrent_handles(void)
{
    gen_data g32, g64;
    make_data(&g32, STRATA_FLOAT32);
    make_data(&g64, STRATA_FLOAT64);
    result seq[2], par[2];
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    job js[2] = {{&g32, 2, 1, STRATA_ASSIGN_AUTO, &seq[0]}, {&g64, 2, 1, STRATA_ASSIGN_AUTO, &seq[1]}};
    run_job(&js[0]);
    run_job(&js[1]);
    job jp[2] = {{&g32, 2, 1, STRATA_ASSIGN_AUTO, &par[0]}, {&g64, 2, 1, STRATA_ASSIGN_AUTO, &par[1]}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ASSERT_TRUE(pthread_create(&t[i], NULL, run_job, &jp[i]) == 0);
    for (int i = 0; i < 2; i++)
        ASSERT_TRUE(pthread_join(t[i], NULL) == 0);
    assert_identical(&seq[0], &par[0], g32.n, "float32 sequential vs concurrent");
    assert_identical(&seq[1], &par[1], g64.n, "float64 sequential vs concurrent");
    for (int i = 0; i < 2; i++) {
        free(seq[i].labels);
        free(par[i].labels);
    }
    gen_free(&g32);
    gen_free(&g64);
}

/* k = 256: each chunk's partial sums (k d + 2 k + 2 doubles, 14 KB) are
 * reduced in batches of a few chunks (lib/core/parallel.c bounds their memory),
 * 25 chunks here make two or more batches at 2, 3 and 4 threads: the order of
 * additions must still be the chunk order, as on one thread. */
static void test_many_batches(void)
{
#define KB 256
#define NTB 4
    gen_data g;
    make_data(&g, STRATA_FLOAT64);
    static double init[KB * D], c[NTB][KB * D];
    test_rng rng;
    rng_seed(&rng, 99);
    gen_pick_rows(&g, &rng, KB, init);
    int32_t *labels[NTB];
    double inertia[NTB];
    int64_t n_iter[NTB];
    for (int t = 0; t < NTB; t++) {
        strata_kmeans *km = NULL;
        ASSERT_OK(strata_kmeans_create(&km));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, KB));
        ASSERT_OK(strata_kmeans_set_init_centroids(km, init, KB, D));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, STRATA_ALGO_LLOYD));
        ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 6));
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, t + 1));
        ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, g.w));
        labels[t] = test_alloc((size_t)g.n, sizeof(int32_t));
        ASSERT_OK(strata_kmeans_centroids(km, c[t], KB, D));
        ASSERT_OK(strata_kmeans_labels(km, labels[t], g.n));
        ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia[t]));
        ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &n_iter[t]));
        strata_kmeans_free(km);
    }
    ASSERT_EQ_INT(n_iter[0], 6); /* every iteration moved something: a real run */
    for (int t = 1; t < NTB; t++) {
        ASSERT_MSG(memcmp(c[0], c[t], sizeof c[0]) == 0, "k = 256: centroids 1 vs %d threads", t + 1);
        ASSERT_MSG(memcmp(labels[0], labels[t], (size_t)g.n * sizeof(int32_t)) == 0,
                   "k = 256: labels 1 vs %d threads", t + 1);
        ASSERT_MSG(memcmp(&inertia[0], &inertia[t], sizeof inertia[0]) == 0,
                   "k = 256: inertia %.17g (1 thread) vs %.17g (%d)", inertia[0], inertia[t], t + 1);
        ASSERT_EQ_INT(n_iter[t], n_iter[0]);
    }
    for (int t = 0; t < NTB; t++)
        free(labels[t]);
    gen_free(&g);
}

int main(void)
{
    RUN_TEST(test_thread_counts);
    RUN_TEST(test_many_batches);
    RUN_TEST(test_predict_thread_counts);
    RUN_TEST(test_concurrent_handles);
    return test_summary();
}
