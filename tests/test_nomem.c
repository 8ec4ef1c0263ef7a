/* Allocation failure injection (SQLite's method): every allocation libstrata
 * makes goes through the allocator set with strata_set_allocator(); this
 * test's allocator fails the Nth one. For each public call that allocates,
 * N runs from 1 up until the call no longer meets an injected failure, and
 * each time:
 *   - the call returns STRATA_E_NOMEM with a message, or STRATA_OK where the
 *     failed block was an optional shortcut (then the result must be right);
 *   - after a failure the handle holds exactly what it held before (model,
 *     result, parameters), and no output file or temporary is left;
 *   - once the handles are freed, every block the library took is given back
 *     (no leak on any failure path).
 * One thread, so the Nth allocation is the same one every time. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <hdf5.h>
#include <unistd.h>

#include "test.h"
#include "tmpdir.h"

/* ---- the failing allocator --------------------------------------------- */

static struct {
    long count, fail_at, live;
    int injected;
} A;

/* Atomic counts: the library allocates from its worker threads too (e.g.
 * the per-(cluster, feature) tasks of a profile's quantiles). */
static void *fault_alloc(size_t size, size_t alignment, void *user)
{
    (void)user;
    long nth = __atomic_add_fetch(&A.count, 1, __ATOMIC_SEQ_CST);
    if (A.fail_at > 0 && nth == A.fail_at) {
        __atomic_store_n(&A.injected, 1, __ATOMIC_SEQ_CST);
        return NULL;
    }
    void *p = aligned_alloc(alignment, size);
    if (p)
        __atomic_add_fetch(&A.live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void fault_free(void *p, void *user)
{
    (void)user;
    if (p)
        __atomic_sub_fetch(&A.live, 1, __ATOMIC_SEQ_CST);
    free(p);
}

/* ---- data and state shared by the cases --------------------------------- */

#define N 600
#define D 4
static float X32[N][D];
static double X64[N][D], W[N];
#define TX 3000
static int64_t ID[TX], DAY[TX];
static double AMOUNT[TX];
static void make_data(void)
{
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            X64[i][j] = (double)(s >> 40) / (1 << 24) + 5.0 * (i % 5) + j;
            X32[i][j] = (float)X64[i][j];
        }
        W[i] = 0.5 + (i % 3);
    }
    for (int i = 0; i < TX; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ID[i] = (int64_t)((s >> 33) % 700);
        DAY[i] = 18000 + (int64_t)((s >> 20) % 365);
        AMOUNT[i] = (double)((s >> 45) % 20000) / 100.0 - 10.0; /* whole cents, some returns */
    }
    AMOUNT[7] = 12.3456; /* not whole cents: the 16-byte record layout too */
}

/* What a k-means handle holds, to compare before and after a failed call. */
typedef struct km_state {
    int fitted;
    int64_t k, d, n, n_iter, init;
    double inertia, centroids[16 * D];
    int32_t labels[N];
} km_state;

static void km_snapshot(strata_kmeans *km, km_state *s)
{
    memset(s, 0, sizeof *s);
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_INIT, &s->init));
    s->fitted = strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &s->k) == STRATA_OK;
    if (!s->fitted)
        return;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_D, &s->d));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &s->n));
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &s->n_iter));
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &s->inertia));
    ASSERT_OK(strata_kmeans_centroids(km, s->centroids, s->k, s->d));
    if (s->n > 0)
        ASSERT_OK(strata_kmeans_labels(km, s->labels, s->n));
}

static void km_same(strata_kmeans *km, const km_state *before)
{
    km_state now;
    km_snapshot(km, &now);
    ASSERT_MSG(memcmp(&now, before, sizeof now) == 0, "the handle changed after a failed call");
}

/* ---- the loop ----------------------------------------------------------- */

typedef struct nomem_case {
    const char *name;
    void (*setup)(void);    /* state before the call (allocations not failed) */
    int (*call)(void);      /* the public call under test */
    void (*failed)(void);   /* after STRATA_E_NOMEM: the state is the one before */
    void (*succeeded)(void);/* after STRATA_OK: the result is right */
    void (*teardown)(void); /* frees every handle */
} nomem_case;

static void run_case(const nomem_case *c)
{
    long failures = 0;
    for (long n = 1;; n++) {
        ASSERT_MSG(n < 5000, "%s: still meeting allocations after %ld", c->name, n);
        A.fail_at = 0;
        c->setup();
        A.count = 0;
        A.injected = 0;
        A.fail_at = n;
        int st = c->call();
        A.fail_at = 0;
        if (A.injected && st != STRATA_OK) {
            ASSERT_MSG(st == STRATA_E_NOMEM, "%s, allocation %ld failed: status %d (%s): %s",
                       c->name, n, st, strata_status_str(st), strata_last_error());
            ASSERT_NONEMPTY(strata_last_error());
            failures++;
            c->failed();
        } else {
            ASSERT_MSG(st == STRATA_OK, "%s: status %d without a failure: %s", c->name, st,
                       strata_last_error());
            c->succeeded();
        }
        c->teardown();
        ASSERT_MSG(A.live == 0, "%s, allocation %ld failed: %ld blocks never freed", c->name, n,
                   A.live);
        ASSERT_MSG(tmpdir_count("") == 0, "%s, allocation %ld failed: files left behind", c->name, n);
        if (!A.injected) {
            printf("  %s: %ld allocations, %ld failures reported as STRATA_E_NOMEM\n", c->name,
                   n - 1, failures);
            ASSERT_MSG(failures > 0, "%s: no allocation failure was reported", c->name);
            return;
        }
    }
}

/* ---- k-means cases ------------------------------------------------------ */

static strata_kmeans *km;
static km_state km_before;
static int32_t out_labels[N];
static double out_dist[N * 8];

static void km_new(void)
{
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, 1));
}

static void km_fitted(void)
{
    km_new();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
    ASSERT_OK(strata_kmeans_fit(km, STRATA_FLOAT32, X32, N, D, 0, NULL));
    km_snapshot(km, &km_before);
}

static void km_free(void)
{
    strata_kmeans_free(km);
    km = NULL;
    for (int i = 0; i < 4; i++)
        remove(path_of(i == 0 ? "m.h5" : i == 1 ? "x.h5" : i == 2 ? "c.h5" : "o.h5"));
}

static void km_unchanged(void) { km_same(km, &km_before); }

static void km_refit_ok(void)
{
    int64_t k = 0;
    double inertia = NAN;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k));
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia));
    ASSERT_TRUE(k == 5 && inertia >= 0 && isfinite(inertia));
}

static void km_refit_streamed_ok(void)
{
    int64_t streamed = 0;
    km_refit_ok();
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &streamed));
    ASSERT_TRUE(streamed == 1);
}

static int call_create(void) { return strata_kmeans_create(&km); }
static void nothing(void) {}
static void km_none(void) { ASSERT_TRUE(km == NULL); }

static int call_fit_f64_weighted(void)
{
    if (strata_kmeans_set_int(km, STRATA_KMEANS_K, 5) || strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 2))
        return STRATA_E_INTERNAL;
    return strata_kmeans_fit(km, STRATA_FLOAT64, X64, N, D, 0, W);
}

static int call_fit_gemm(void)
{
    if (strata_kmeans_set_int(km, STRATA_KMEANS_K, 5) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, STRATA_ASSIGN_GEMM) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_RANDOM))
        return STRATA_E_INTERNAL;
    return strata_kmeans_fit(km, STRATA_FLOAT32, X32, N, D, 0, NULL);
}

static int call_fit_minibatch(void)
{
    if (strata_kmeans_set_int(km, STRATA_KMEANS_K, 5) || strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 2) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, STRATA_ALGO_MINIBATCH) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, 16))
        return STRATA_E_INTERNAL;
    return strata_kmeans_fit(km, STRATA_FLOAT64, X64, N, D, 0, W);
}

/* The same through the memory stream: the window's gathers allocate too. */
static int call_fit_minibatch_streamed(void)
{
    if (strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, 4096))
        return STRATA_E_INTERNAL;
    return call_fit_minibatch();
}

/* AFK-MC^2 on 3 distinct points repeated (weighted), k = 3, chains of one
 * draw: with seed 0 the third chain draws a centre, so the exact w D^2 draw
 * and its allocations run too (checked when written, by a trace in init.c). */
static double XDUP[N][D];

static int call_fit_afkmc2(void)
{
    for (int i = 0; i < N; i++)
        memcpy(XDUP[i], X64[i % 3], sizeof XDUP[i]);
    if (strata_kmeans_set_int(km, STRATA_KMEANS_K, 3) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_AFKMC2) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_CHAIN_LENGTH, 1) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 0))
        return STRATA_E_INTERNAL;
    return strata_kmeans_fit(km, STRATA_FLOAT64, XDUP, N, D, 0, W);
}

static void afkmc2_ok(void)
{
    int64_t k = 0;
    double inertia = NAN;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k));
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia));
    ASSERT_TRUE(k == 3 && inertia == 0.0);
}

static void km_after_param_change(void)
{
    /* the setters before the call succeeded; only the model must be the old one */
    km_state now;
    km_snapshot(km, &now);
    now.init = km_before.init;
    ASSERT_MSG(memcmp(&now, &km_before, sizeof now) == 0, "the model changed after a failed fit");
}

static int call_predict(void) { return strata_kmeans_predict(km, STRATA_FLOAT64, X64, N, D, 0, out_labels); }

static void predict_ok(void)
{
    ASSERT_TRUE(memcmp(out_labels, km_before.labels, sizeof out_labels) == 0);
    km_unchanged();
}

static int call_transform(void) { return strata_kmeans_transform(km, STRATA_FLOAT32, X32, N, D, 0, out_dist); }

static void transform_ok(void)
{
    for (int i = 0; i < N; i++) { /* the nearest is the label */
        int best = 0;
        for (int j = 1; j < 3; j++)
            best = out_dist[i * 3 + j] < out_dist[i * 3 + best] ? j : best;
        ASSERT_TRUE(best == km_before.labels[i]);
    }
    km_unchanged();
}

static int call_set_init(void)
{
    double c[3 * D];
    for (int i = 0; i < 3 * D; i++)
        c[i] = X64[i * 7 % N][i % D];
    return strata_kmeans_set_init_centroids(km, c, 3, D);
}

static void set_init_ok(void)
{
    int64_t init = -1;
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_INIT, &init));
    ASSERT_TRUE(init == STRATA_INIT_CENTROIDS);
}

static void km_files(void)
{
    A.fail_at = 0;
    ASSERT_OK(strata_h5_write_matrix(path_of("x.h5"), "/x", STRATA_FLOAT64, X64, N, D, 0));
    ASSERT_OK(strata_h5_write_matrix(path_of("c.h5"), "/c", STRATA_FLOAT64, X64, 3, D, 0));
    km_fitted();
}

static void km_files_free(void) { km_free(); }

static int call_fit_h5(void)
{
    int st = strata_kmeans_set_init_centroids_h5(km, path_of("c.h5"), "/c");
    return st ? st : strata_kmeans_fit_h5(km, path_of("x.h5"), "/x");
}

static void fit_h5_ok(void)
{
    int64_t n = 0;
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &n));
    ASSERT_TRUE(n == N);
}

static void fit_h5_failed(void) { km_after_param_change(); }

static int call_write_h5(void) { return strata_kmeans_write_h5(km, path_of("m.h5"), "test", 0); }

static void write_failed(void)
{
    km_unchanged();
    ASSERT_TRUE(access(path_of("m.h5"), F_OK) != 0);
}

static void write_ok(void)
{
    int64_t n, d;
    ASSERT_OK(strata_h5_shape(path_of("m.h5"), "/centroids", &n, &d));
    ASSERT_TRUE(n == 3 && d == D);
}

static int call_h5_matrix(void)
{
    static double back[N * D];
    int st = strata_h5_write_matrix(path_of("o.h5"), "/g/x", STRATA_FLOAT64, X64, N, D, 0);
    if (st)
        return st;
    st = strata_h5_read_matrix(path_of("o.h5"), "/g/x", STRATA_FLOAT64, back, N, D);
    if (!st && memcmp(back, X64, sizeof X64) != 0)
        return STRATA_E_INTERNAL;
    return st;
}

/* ---- RFM cases ---------------------------------------------------------- */

static strata_rfm *rh;
static int64_t rfm_customers;
static int64_t rfm_code[TX];
static double rfm_monetary[TX], rfm_profile[16];

static void rfm_snapshot(int64_t *customers, int64_t *code, double *monetary, double *profile)
{
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_CUSTOMERS, customers));
    ASSERT_OK(strata_rfm_column_int64(rh, STRATA_RFM_COL_CODE, code, *customers));
    ASSERT_OK(strata_rfm_column_double(rh, STRATA_RFM_COL_MONETARY, monetary, *customers));
    int64_t nseg = 0;
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_SEGMENTS, &nseg));
    ASSERT_TRUE(nseg <= 16);
    ASSERT_OK(strata_rfm_profile(rh, STRATA_RFM_STAT_MEDIAN_MONETARY, profile, nseg));
}

static void rfm_fitted(void)
{
    ASSERT_OK(strata_rfm_create(&rh));
    ASSERT_OK(strata_rfm_set_int(rh, STRATA_THREADS, 1));
    ASSERT_OK(strata_rfm_fit(rh, ID, DAY, AMOUNT, TX / 2));
    rfm_snapshot(&rfm_customers, rfm_code, rfm_monetary, rfm_profile);
}

static void rfm_free(void)
{
    strata_rfm_free(rh);
    rh = NULL;
    remove(path_of("tx.h5"));
    remove(path_of("r.h5"));
}

static void rfm_unchanged(void)
{
    int64_t customers, code[TX];
    static double monetary[TX], profile[16];
    rfm_snapshot(&customers, code, monetary, profile);
    ASSERT_TRUE(customers == rfm_customers);
    ASSERT_TRUE(memcmp(code, rfm_code, (size_t)customers * sizeof *code) == 0);
    ASSERT_TRUE(memcmp(monetary, rfm_monetary, (size_t)customers * sizeof *monetary) == 0);
    ASSERT_TRUE(memcmp(profile, rfm_profile, sizeof profile) == 0);
}

static int call_rfm_create(void) { return strata_rfm_create(&rh); }
static void rfm_none(void) { ASSERT_TRUE(rh == NULL); }
static void rfm_created(void) { ASSERT_TRUE(rh != NULL); }

static int call_rfm_fit(void) { return strata_rfm_fit(rh, ID, DAY, AMOUNT, TX); }

static void rfm_refit_ok(void)
{
    int64_t customers = 0;
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_CUSTOMERS, &customers));
    ASSERT_TRUE(customers > rfm_customers);
}

static int call_rfm_rules_and_score(void)
{
    const char *names[2] = {"Best", "Rest"};
    const int32_t bounds[2 * STRATA_RFM_RULE_NCOLS] = {4, 5, 4, 5, 4, 5, 1, 100,
                                                         1, 100, 1, 100, 1, 100, 1, 100};
    const double cuts[2] = {30, 90};
    int st = strata_rfm_set_segments(rh, 2, names, bounds, STRATA_RFM_RULE_NCOLS);
    if (!st)
        st = strata_rfm_set_int(rh, STRATA_RFM_BINS, 3);
    if (!st)
        st = strata_rfm_set_edges(rh, STRATA_RFM_RECENCY, cuts, 2);
    return st ? st : strata_rfm_score(rh);
}

static void rfm_rescored(void)
{
    int64_t nseg = 0;
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_SEGMENTS, &nseg));
    ASSERT_TRUE(nseg == 2);
    ASSERT_STR_EQ(strata_rfm_segment_name(rh, 0), "Best");
}

static int call_rfm_aggregates(void)
{
    static int64_t ids[500], rec[500], freq[500];
    static double mon[500];
    for (int i = 0; i < 500; i++) {
        ids[i] = 1000 - i;
        rec[i] = i % 97;
        freq[i] = 1 + i % 7;
        mon[i] = 3.5 * (i % 41);
    }
    return strata_rfm_fit_aggregates(rh, ids, rec, freq, mon, 500);
}

static void rfm_aggregates_ok(void)
{
    int64_t customers = 0;
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_CUSTOMERS, &customers));
    ASSERT_TRUE(customers == 500);
}

/* An HDF5 file of 1-D columns to read a log from: an RFM result file
 * (customer_id, recency in days, monetary) is one. */
static void rfm_files(void)
{
    rfm_fitted();
    A.fail_at = 0;
    ASSERT_OK(strata_rfm_write_h5(rh, path_of("tx.h5"), "test", 0));
}

static int call_rfm_fit_h5(void)
{
    return strata_rfm_fit_h5(rh, path_of("tx.h5"), NULL, "/customer_id", "/recency", "/monetary");
}

static void rfm_fit_h5_ok(void)
{
    int64_t customers = 0;
    ASSERT_OK(strata_rfm_result_int(rh, STRATA_RFM_RESULT_CUSTOMERS, &customers));
    ASSERT_TRUE(customers > 0);
}

static int call_rfm_write(void) { return strata_rfm_write_h5(rh, path_of("r.h5"), "test", 0); }

static void rfm_write_failed(void)
{
    rfm_unchanged();
    ASSERT_TRUE(access(path_of("r.h5"), F_OK) != 0);
}

static void rfm_write_ok(void) { ASSERT_TRUE(access(path_of("r.h5"), F_OK) == 0); }

/* ---- the tests ---------------------------------------------------------- */

static void test_kmeans_calls(void)
{
    const nomem_case cases[] = {
        {"kmeans_create", nothing, call_create, km_none, nothing, km_free},
        {"kmeans_fit float64 weighted n_init=2", km_fitted, call_fit_f64_weighted,
         km_after_param_change, km_refit_ok, km_free},
        {"kmeans_fit GEMM random init", km_fitted, call_fit_gemm, km_after_param_change,
         km_refit_ok, km_free},
        {"kmeans_fit minibatch weighted n_init=2", km_fitted, call_fit_minibatch,
         km_after_param_change, km_refit_ok, km_free},
        {"kmeans_fit minibatch streamed weighted n_init=2", km_fitted,
         call_fit_minibatch_streamed, km_after_param_change, km_refit_streamed_ok, km_free},
        {"kmeans_fit AFK-MC2 with an exact draw", km_fitted, call_fit_afkmc2, km_after_param_change,
         afkmc2_ok, km_free},
        {"kmeans_predict", km_fitted, call_predict, km_unchanged, predict_ok, km_free},
        {"kmeans_transform", km_fitted, call_transform, km_unchanged, transform_ok, km_free},
        {"kmeans_set_init_centroids", km_fitted, call_set_init, km_unchanged, set_init_ok, km_free},
        {"kmeans_fit_h5 + init_h5", km_files, call_fit_h5, fit_h5_failed, fit_h5_ok, km_files_free},
        {"kmeans_write_h5", km_fitted, call_write_h5, write_failed, write_ok, km_free},
        {"h5_write_matrix + read_matrix", nothing, call_h5_matrix, nothing, nothing, km_free},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_rfm_calls(void)
{
    const nomem_case cases[] = {
        {"rfm_create", nothing, call_rfm_create, rfm_none, rfm_created, rfm_free},
        {"rfm_fit", rfm_fitted, call_rfm_fit, rfm_unchanged, rfm_refit_ok, rfm_free},
        {"rfm_set_segments/edges + score", rfm_fitted, call_rfm_rules_and_score, rfm_unchanged,
         rfm_rescored, rfm_free},
        {"rfm_fit_aggregates", rfm_fitted, call_rfm_aggregates, rfm_unchanged, rfm_aggregates_ok,
         rfm_free},
        {"rfm_fit_h5", rfm_files, call_rfm_fit_h5, rfm_unchanged, rfm_fit_h5_ok, rfm_free},
        {"rfm_write_h5", rfm_fitted, call_rfm_write, rfm_write_failed, rfm_write_ok, rfm_free},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* ---- profiles and migrations (issue 11) ---------------------------------- */

static strata_profile *prof;
static strata_migration *mig;
static int32_t PLAB[N];
static int64_t OLD_ID[N], NEW_ID[N];
static int32_t OLD_T[N], NEW_T[N];

static void prof_data(void)
{
    for (int i = 0; i < N; i++) {
        PLAB[i] = i % 5;
        OLD_ID[i] = (i * 7919) % N;          /* a permutation: unsorted ids */
        NEW_ID[i] = OLD_ID[i] + 100;         /* some gone, some new */
        OLD_T[i] = i % 3;
        NEW_T[i] = (i / 3) % 3;
    }
}

static int call_profile(void)
{
    return strata_profile_compute(&prof, &X64[0][0], N, D, 0, NULL, PLAB, 6, W, 2);
}
static void prof_none(void) { ASSERT_TRUE(prof == NULL); }
static void prof_ok(void)
{
    double c[6];
    ASSERT_OK(strata_profile_get(prof, STRATA_PROFILE_COUNT, c, 6));
    ASSERT_TRUE(c[0] == N / 5 && c[5] == 0);
}
static void prof_made(void)
{
    ASSERT_OK(strata_profile_compute(&prof, &X64[0][0], N, D, 0, NULL, PLAB, 6, NULL, 2));
}
static void prof_free(void)
{
    strata_profile_free(prof);
    prof = NULL;
    strata_migration_free(mig);
    mig = NULL;
    unlink(path_of("profile.h5"));
    unlink(path_of("migration.h5"));
}
static int call_profile_write(void) { return strata_profile_write_h5(prof, path_of("profile.h5"), 0); }
static void prof_write_failed(void) { ASSERT_TRUE(access(path_of("profile.h5"), F_OK) != 0); }
static void prof_write_ok(void) { ASSERT_TRUE(access(path_of("profile.h5"), F_OK) == 0); }

static int call_migrate(void)
{
    return strata_migrate(&mig, OLD_ID, OLD_T, N, NEW_ID, NEW_T, N, 3);
}
static void mig_none(void) { ASSERT_TRUE(mig == NULL); }
static void mig_ok(void)
{
    int64_t counts[5];
    ASSERT_OK(strata_migration_counts(mig, counts, 5));
    ASSERT_TRUE(counts[STRATA_MOVE_NEW] == 100 && counts[STRATA_MOVE_GONE] == 100);
}
static void mig_made(void) { ASSERT_OK(call_migrate()); }
static int call_migration_write(void)
{
    return strata_migration_write_h5(mig, path_of("migration.h5"), 0);
}
static void mig_write_failed(void) { ASSERT_TRUE(access(path_of("migration.h5"), F_OK) != 0); }
static void mig_write_ok(void) { ASSERT_TRUE(access(path_of("migration.h5"), F_OK) == 0); }

static void test_profile_calls(void)
{
    prof_data();
    const nomem_case cases[] = {
        {"profile_compute", nothing, call_profile, prof_none, prof_ok, prof_free},
        {"profile_write_h5", prof_made, call_profile_write, prof_write_failed, prof_write_ok,
         prof_free},
        {"migrate", nothing, call_migrate, mig_none, mig_ok, prof_free},
        {"migration_write_h5", mig_made, call_migration_write, mig_write_failed, mig_write_ok,
         prof_free},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* ---- tier models, frames, sweeps, metrics and result files (issue 11) ---- */

static strata_model *mod, *loaded;
static strata_frame *frame;
static strata_out *out_h;
static int32_t MLAB[N], MTIER[N], ref_lab[N], ref_tier[N];
static double ref_metrics[STRATA_METRIC_COUNT];

/* What a model holds, to compare before and after a failed call. */
typedef struct model_state {
    int64_t k, d, t;
    double centroids[16 * D], scale[D];
    int32_t tiers[N];
} model_state;
static model_state mod_before;

static void model_snapshot(model_state *s)
{
    memset(s, 0, sizeof *s);
    ASSERT_OK(strata_model_shape(mod, &s->k, &s->d));
    s->t = strata_model_tier_count(mod);
    ASSERT_OK(strata_model_centroids(mod, STRATA_MODEL_SCALED, s->centroids, s->k, s->d));
    ASSERT_OK(strata_model_transform_params(mod, NULL, NULL, s->scale));
    ASSERT_OK(strata_model_tiers(mod, s->tiers, N));
}

static const char *const FNAMES[D] = {"recency", "frequency", "monetary", "tenure"};

static void model_fitted(void)
{
    ASSERT_OK(strata_model_create(&mod));
    ASSERT_OK(strata_kmeans_set_int(strata_model_kmeans(mod), STRATA_THREADS, 1));
    ASSERT_OK(strata_kmeans_set_int(strata_model_kmeans(mod), STRATA_KMEANS_K, 4));
    ASSERT_OK(strata_model_fit(mod, &X64[0][0], N, D, 0, FNAMES, NULL));
    model_snapshot(&mod_before);
    ASSERT_OK(strata_model_predict(mod, &X64[0][0], N, D, 0, ref_lab, ref_tier));
}

static void model_free(void)
{
    strata_model_free(mod);
    strata_model_free(loaded);
    mod = loaded = NULL;
    strata_frame_free(frame);
    frame = NULL;
    remove(path_of("model.h5"));
    remove(path_of("out.h5"));
    remove(path_of("tx.h5"));
}

static void model_unchanged(void)
{
    model_state now;
    model_snapshot(&now);
    ASSERT_MSG(memcmp(&now, &mod_before, sizeof now) == 0, "the model changed after a failed call");
}

/* a refit on other rows (every other row), with weights and other transforms */
static int call_model_fit(void)
{
    int st = strata_model_set_transform(mod, 2, STRATA_TRANSFORM_ROBUST | STRATA_TRANSFORM_LOG1P);
    if (!st)
        st = strata_model_set_tier_names(mod, "gold,silver,bronze");
    return st ? st : strata_model_fit(mod, &X64[0][0], N / 2, D, 2 * D, NULL, W);
}

static void model_refit_ok(void)
{
    ASSERT_EQ_INT(strata_model_tier_count(mod), 3);
    ASSERT_STR_EQ(strata_model_tier_name(mod, 0), "gold");
    ASSERT_OK(strata_model_labels(mod, MLAB, N / 2));
}

static int call_model_predict(void)
{
    return strata_model_predict(mod, &X64[0][0], N, D, 0, MLAB, MTIER);
}

static void model_predict_ok(void)
{
    ASSERT_TRUE(memcmp(MLAB, ref_lab, sizeof MLAB) == 0);
    ASSERT_TRUE(memcmp(MTIER, ref_tier, sizeof MTIER) == 0);
    model_unchanged();
}

static int call_model_write(void) { return strata_model_write_h5(mod, path_of("model.h5"), 0); }

static void model_write_failed(void)
{
    model_unchanged();
    ASSERT_TRUE(access(path_of("model.h5"), F_OK) != 0);
}

static void model_write_ok(void)
{
    model_unchanged();
    ASSERT_TRUE(access(path_of("model.h5"), F_OK) == 0);
}

static void model_saved(void)
{
    model_fitted();
    ASSERT_OK(strata_model_write_h5(mod, path_of("model.h5"), 0));
}

static int call_model_read(void) { return strata_model_read_h5(&loaded, path_of("model.h5"), NULL); }
static void model_read_failed(void) { ASSERT_TRUE(loaded == NULL); }

static void model_read_ok(void)
{
    ASSERT_TRUE(loaded != NULL);
    ASSERT_OK(strata_kmeans_set_int(strata_model_kmeans(loaded), STRATA_THREADS, 1));
    ASSERT_OK(strata_model_predict(loaded, &X64[0][0], N, D, 0, MLAB, MTIER));
    ASSERT_TRUE(memcmp(MLAB, ref_lab, sizeof MLAB) == 0);
    ASSERT_TRUE(memcmp(MTIER, ref_tier, sizeof MTIER) == 0);
    ASSERT_STR_EQ(strata_model_feature_name(loaded, 3), "tenure");
}

/* an RFM result file: a group of 1-D columns with customer_id */
static void frame_file(void)
{
    rfm_fitted();
    A.fail_at = 0;
    ASSERT_OK(strata_rfm_write_h5(rh, path_of("tx.h5"), "test", 0));
}

static void frame_file_free(void)
{
    rfm_free();
    model_free();
}

static int call_frame_table(void)
{
    return strata_frame_read_table(&frame, path_of("tx.h5"), "/", NULL, 0, NULL);
}

static void frame_none(void) { ASSERT_TRUE(frame == NULL); }

static void frame_table_ok(void)
{
    int64_t n = 0, d = 0;
    ASSERT_OK(strata_frame_shape(frame, &n, &d));
    ASSERT_TRUE(n == rfm_customers && d > 3);
    ASSERT_STR_EQ(strata_frame_key_name(frame), "customer_id");
    int64_t code[TX];
    ASSERT_OK(strata_rfm_column_int64(rh, STRATA_RFM_COL_CODE, code, n));
    for (int64_t j = 0; j < d; j++)
        if (!strcmp(strata_frame_name(frame, j), "code"))
            for (int64_t i = 0; i < n; i++)
                ASSERT_TRUE(strata_frame_data(frame)[i * d + j] == (double)code[i]);
}

/* The RFM result file with links added: soft, external, and a soft link
 * whose target is longer than any fixed buffer (2,150 bytes). */
static strata_h5_catalog *catalog;
static char long_target[2500];

static void catalog_file(void)
{
    frame_file();
    hid_t f = H5Fopen(path_of("tx.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_TRUE(f >= 0);
    long_target[0] = '\0';
    for (int i = 0; i < 250; i++)
        snprintf(long_target + strlen(long_target), sizeof long_target - strlen(long_target),
                 "/level%02d", i);
    ASSERT_TRUE(H5Lcreate_soft("/customer_id", f, "soft", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    ASSERT_TRUE(H5Lcreate_soft(long_target, f, "long", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    ASSERT_TRUE(H5Lcreate_external("far.h5", "/y", f, "ext", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
}

static int call_catalog(void)
{
    return strata_h5_catalog_open(&catalog, path_of("tx.h5"));
}

static void catalog_none(void) { ASSERT_TRUE(catalog == NULL); }

static void catalog_ok(void)
{
    int seen = 0;
    char want[2600];
    snprintf(want, sizeof want, "soft link to %s", long_target);
    for (int64_t i = 0; i < strata_h5_catalog_count(catalog); i++) {
        const char *p = strata_h5_catalog_path(catalog, i), *t = strata_h5_catalog_type(catalog, i);
        if (!strcmp(p, "/long"))
            seen += !strcmp(t, want);
        else if (!strcmp(p, "/ext"))
            seen += !strcmp(t, "external link to far.h5:/y");
        else if (!strcmp(p, "/soft"))
            seen += !strcmp(t, "soft link to /customer_id");
        else if (!strcmp(p, "/"))
            seen += strata_h5_catalog_use(catalog, i) == STRATA_H5_USE_TABLE;
    }
    ASSERT_TRUE(seen == 4);
}

static void catalog_free(void)
{
    strata_h5_catalog_free(catalog);
    catalog = NULL;
    frame_file_free();
}

static int call_frame_arrays(void)
{
    return strata_frame_from_arrays(&frame, &X64[0][0], N, D, 0, FNAMES, OLD_ID, NULL);
}

static void frame_arrays_ok(void)
{
    ASSERT_TRUE(memcmp(strata_frame_data(frame), X64, sizeof X64) == 0);
    ASSERT_TRUE(memcmp(strata_frame_key(frame), OLD_ID, sizeof OLD_ID) == 0);
    ASSERT_STR_EQ(strata_frame_name(frame, 1), "frequency");
}

static int64_t sweep_k;
static double sweep_table[3 * STRATA_METRIC_COUNT];

static int call_sweep(void)
{
    sweep_k = -1;
    return strata_kmeans_sweep(km, STRATA_FLOAT64, X64, N, D, 0, NULL, 2, 4, 100, sweep_table,
                               &sweep_k);
}

static void sweep_ok(void)
{
    int64_t k = 0, kparam = 0;
    ASSERT_TRUE(sweep_k >= 2 && sweep_k <= 4);
    ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k));
    ASSERT_OK(strata_kmeans_get_int(km, STRATA_KMEANS_K, &kparam));
    ASSERT_TRUE(k == sweep_k && kparam == 3);
    for (int i = 0; i < 3; i++) /* inertia falls with k on these blobs */
        ASSERT_TRUE(sweep_table[i * STRATA_METRIC_COUNT] > 0 &&
                    (i == 0 || sweep_table[i * STRATA_METRIC_COUNT] <
                                   sweep_table[(i - 1) * STRATA_METRIC_COUNT]));
}

static double metrics_out[STRATA_METRIC_COUNT];

static void metrics_ref(void)
{
    ASSERT_OK(strata_cluster_metrics(STRATA_FLOAT64, X64, N, D, 0, PLAB, 5, 100, 9, 1, ref_metrics));
}

static int call_metrics(void)
{
    return strata_cluster_metrics(STRATA_FLOAT64, X64, N, D, 0, PLAB, 5, 100, 9, 1, metrics_out);
}

static void metrics_ok(void)
{
    ASSERT_TRUE(memcmp(metrics_out, ref_metrics, sizeof metrics_out) == 0);
}

/* open, parts (columns, strings, an attribute, the model), commit; built in
 * memory, or (out_flags STRATA_WRITE_ON_DISK) written onto the disk */
static int out_flags;

static int call_out(void)
{
    int st = strata_out_open(&out_h, path_of("out.h5"), NULL, 0, out_flags);
    if (st)
        return st;
    const int64_t nn = N;
    /* after a failed part the rest are refused and commit returns that part's status */
    (void)(strata_out_column_int32(out_h, "/tier", ref_tier, nn) ||
           strata_out_column_int64(out_h, "/customer_id", OLD_ID, nn) ||
           strata_out_column_double(out_h, "/w", W, nn) ||
           strata_out_strings(out_h, "/tier", "names", FNAMES, D) ||
           strata_out_attr_int(out_h, "/", "rows", nn) ||
           strata_out_model(out_h, mod, "/model"));
    st = strata_out_commit(out_h);
    out_h = NULL;
    return st;
}

static void out_failed(void)
{
    model_unchanged();
    ASSERT_TRUE(access(path_of("out.h5"), F_OK) != 0);
}

static int call_out_on_disk(void)
{
    out_flags = STRATA_WRITE_ON_DISK;
    int st = call_out();
    out_flags = 0;
    return st;
}

static void out_ok(void)
{
    static const char *const cols[] = {"/tier", "/w"};
    ASSERT_OK(strata_frame_read_columns(&frame, path_of("out.h5"), cols, 2, NULL));
    const double *x = strata_frame_data(frame);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(x[2 * i] == ref_tier[i] && x[2 * i + 1] == W[i] &&
                    strata_frame_key(frame)[i] == OLD_ID[i]);
    ASSERT_OK(strata_model_read_h5(&loaded, path_of("out.h5"), "/model"));
}

/* the streamed writer: open, a dataset, a table, appends, strings, commit */
static int call_writer(void)
{
    strata_writer *w;
    int st = strata_writer_open(&w, path_of("stream.h5"), 0);
    if (st)
        return st;
    int id, tid;
    static const char *const fields[2] = {"customer_id", "w"};
    static const int types[2] = {STRATA_INT64, STRATA_FLOAT64};
    const void *cols[2] = {OLD_ID, W};
    (void)(strata_writer_dataset(w, "/g/tier", STRATA_INT32, 0, 100, &id) ||
           strata_writer_table(w, "/t", 2, fields, types, 64, &tid) ||
           strata_writer_append(w, id, STRATA_INT32, ref_tier, N / 2, 0) ||
           strata_writer_append(w, id, STRATA_INT32, ref_tier + N / 2, N - N / 2, 0) ||
           strata_writer_append_table(w, tid, 2, cols, N) ||
           strata_writer_strings(w, "/g/tier", "names", FNAMES, D) ||
           strata_writer_attr_int(w, NULL, "rows", N));
    return strata_writer_commit(w);
}

static void writer_failed(void)
{
    ASSERT_TRUE(access(path_of("stream.h5"), F_OK) != 0);
    ASSERT_EQ_INT(tmpdir_count(""), 0);
}

static void writer_ok(void)
{
    static const char *const cols[] = {"w"};
    ASSERT_OK(strata_frame_read_table(&frame, path_of("stream.h5"), "/t", cols, 1, NULL));
    const double *x = strata_frame_data(frame);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(x[i] == W[i] && strata_frame_key(frame)[i] == OLD_ID[i]);
    remove(path_of("stream.h5"));
}

static void test_model_calls(void)
{
    prof_data();
    const nomem_case cases[] = {
        {"model_fit", model_fitted, call_model_fit, model_unchanged, model_refit_ok, model_free},
        {"model_predict", model_fitted, call_model_predict, model_unchanged, model_predict_ok,
         model_free},
        {"model_write_h5", model_fitted, call_model_write, model_write_failed, model_write_ok,
         model_free},
        {"model_read_h5", model_saved, call_model_read, model_read_failed, model_read_ok,
         model_free},
        {"frame_read_table (group)", frame_file, call_frame_table, frame_none, frame_table_ok,
         frame_file_free},
        {"frame_from_arrays", nothing, call_frame_arrays, frame_none, frame_arrays_ok, model_free},
        {"h5_catalog_open (links, a long target)", catalog_file, call_catalog, catalog_none,
         catalog_ok, catalog_free},
        {"kmeans_sweep", km_fitted, call_sweep, km_unchanged, sweep_ok, km_free},
        {"cluster_metrics", metrics_ref, call_metrics, nothing, metrics_ok, nothing},
        {"out_open + columns + model + commit", model_fitted, call_out, out_failed, out_ok,
         model_free},
        {"out_open on disk + columns + model + commit", model_fitted, call_out_on_disk,
         out_failed, out_ok, model_free},
        {"writer_open + dataset + table + appends + commit", model_fitted, call_writer,
         writer_failed, writer_ok, model_free},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* ---- CLV (issue 16) ------------------------------------------------------- */

static strata_clv *ch;
static double clv_before[4];

static void clv_snapshot(double *v)
{
    const int keys[4] = {STRATA_CLV_RESULT_CUSTOMERS, STRATA_CLV_RESULT_BGNBD_R,
                         STRATA_CLV_RESULT_GG_P, STRATA_CLV_RESULT_HOLDOUT_PREDICTED};
    for (int k = 0; k < 4; k++)
        ASSERT_OK(strata_clv_result_double(ch, keys[k], &v[k]));
}

static void clv_new(void)
{
    ASSERT_OK(strata_clv_create(&ch));
    ASSERT_OK(strata_clv_set_int(ch, STRATA_CLV_THREADS, 1));
    ASSERT_OK(strata_clv_set_int(ch, STRATA_CLV_STARTS, 1));
    ASSERT_OK(strata_clv_set_int(ch, STRATA_CLV_CALIBRATION_END, 18250));
}

/* Fitted on the first half of the log, so that a refit differs. */
static void clv_fitted(void)
{
    clv_new();
    ASSERT_OK(strata_clv_fit(ch, ID, DAY, AMOUNT, TX / 2));
    clv_snapshot(clv_before);
}

static void clv_free(void)
{
    strata_clv_free(ch);
    ch = NULL;
    remove(path_of("clv.h5"));
}

static int call_clv_create(void)
{
    return strata_clv_create(&ch);
}
static void clv_none(void) { ASSERT_TRUE(ch == NULL); }
static void clv_created(void) { ASSERT_TRUE(ch != NULL); }
static int call_clv_fit(void) { return strata_clv_fit(ch, ID, DAY, AMOUNT, TX); }
static void clv_unchanged(void)
{
    double now[4];
    clv_snapshot(now);
    ASSERT_MSG(memcmp(now, clv_before, sizeof now) == 0, "the CLV result changed after a failed call");
}
static void clv_refit_ok(void)
{
    double now[4];
    clv_snapshot(now);
    ASSERT_TRUE(now[0] > clv_before[0] && isfinite(now[1]) && now[1] > 0);
}
static int call_clv_summary(void)
{
    static const int64_t id[] = {5, 3, 9, 1};
    static const double x[] = {2, 0, 4, 1}, tx[] = {10, 0, 30, 3}, T[] = {38, 20, 39, 12},
                        z[] = {20, 0, 35, 12};
    return strata_clv_fit_summary(ch, id, x, tx, T, z, 4);
}
static void clv_summary_ok(void)
{
    double n = 0;
    ASSERT_OK(strata_clv_result_double(ch, STRATA_CLV_RESULT_CUSTOMERS, &n));
    ASSERT_TRUE(n == 4);
}
static int call_clv_write(void) { return strata_clv_write_h5(ch, path_of("clv.h5"), "t", 0); }
static void clv_write_failed(void) { ASSERT_TRUE(access(path_of("clv.h5"), F_OK) != 0); }
static void clv_write_ok(void) { ASSERT_TRUE(access(path_of("clv.h5"), F_OK) == 0); }

static void test_clv_calls(void)
{
    const nomem_case cases[] = {
        {"clv_create", nothing, call_clv_create, clv_none, clv_created, clv_free},
        {"clv_fit", clv_fitted, call_clv_fit, clv_unchanged, clv_refit_ok, clv_free},
        {"clv_fit_summary", clv_fitted, call_clv_summary, clv_unchanged, clv_summary_ok,
         clv_free},
        {"clv_write_h5", clv_fitted, call_clv_write, clv_write_failed, clv_write_ok, clv_free},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_allocator_arguments(void)
{
    ASSERT_STATUS(strata_set_allocator(fault_alloc, NULL, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_set_allocator(NULL, fault_free, NULL), STRATA_E_NULL);
    /* still ours: a handle made now is counted */
    long before = A.live;
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_TRUE(A.live == before + 1);
    strata_kmeans_free(km);
    km = NULL;
    ASSERT_TRUE(A.live == before);
}

int main(void)
{
    if (tmpdir_make("strata_test_nomem"))
        return 1;
    make_data();
    if (strata_set_allocator(fault_alloc, fault_free, NULL) != STRATA_OK)
        return 1;
    RUN_TEST(test_allocator_arguments);
    RUN_TEST(test_kmeans_calls);
    RUN_TEST(test_rfm_calls);
    RUN_TEST(test_profile_calls);
    RUN_TEST(test_model_calls);
    RUN_TEST(test_clv_calls);
    if (strata_set_allocator(NULL, NULL, NULL) != STRATA_OK)
        return 1;
    rmdir(g_dir);
    return test_summary();
}
