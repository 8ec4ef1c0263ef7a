/* The step callback (strata_step_fn) of the k-means and RFM handles: the
 * steps come in the documented order with monotone progress, the old
 * progress callback keeps its calls, and a cancel at every report returns
 * STRATA_E_CANCELLED and leaves no output and no temporary file. */
#define _GNU_SOURCE
#include <math.h>

#include "test.h"
#include "tmpdir.h"

enum { MAXEV = 4096 };

typedef struct event {
    int step;
    int64_t run, done, total;
    double value;
} event;

typedef struct recorder {
    event ev[MAXEV];
    int n;
    int cancel_at; /* index of the report that returns 1; -1 never */
    int legacy;    /* calls of the old progress callback */
} recorder;

static int record(void *user, int step, int64_t run, int64_t done, int64_t total, double value)
{
    recorder *r = user;
    if (r->n < MAXEV)
        r->ev[r->n] = (event){step, run, done, total, value};
    return r->n++ == r->cancel_at;
}

static int legacy(void *user, int64_t run, int64_t iteration, double inertia)
{
    (void)run, (void)iteration, (void)inertia;
    ((recorder *)user)->legacy++;
    return 0;
}

static const char *X_FILE, *TX_FILE;

static int cli_exists_(const char *path)
{
    return access(path, F_OK) == 0;
}

static void make_inputs(void)
{
    enum { N = 3000, D = 3 };
    static double x[N * D];
    uint64_t s = 7;
    for (int i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 11) / 9007199254740992.0 + (double)((i / D) % 4) * 3.0;
    }
    X_FILE = strdup(path_of("x.h5"));
    ASSERT_OK(strata_h5_write_matrix(X_FILE, "/x", STRATA_FLOAT64, x, N, D, 0));
    enum { T = 500 };
    static int64_t id[T], day[T];
    static double amount[T];
    for (int i = 0; i < T; i++) {
        id[i] = i % 37;
        day[i] = 18000 + (i * 7) % 300;
        amount[i] = 1.0 + (double)(i % 11);
    }
    TX_FILE = strdup(path_of("tx.h5"));
    strata_out *o;
    ASSERT_OK(strata_out_open(&o, TX_FILE, NULL, 0, 0));
    ASSERT_OK(strata_out_column_int64(o, "/c", id, T));
    ASSERT_OK(strata_out_column_int64(o, "/t", day, T));
    ASSERT_OK(strata_out_column_double(o, "/a", amount, T));
    ASSERT_OK(strata_out_commit(o));
}

/* The reports of one fit_h5 + write_h5 of k-means (n_init 2) into r; the
 * status of the first call that failed. */
static int kmeans_run(recorder *r, const char *out)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 4));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 2));
    ASSERT_OK(strata_kmeans_set_progress(km, legacy, r));
    ASSERT_OK(strata_kmeans_set_step_progress(km, record, r));
    int st = strata_kmeans_fit_h5(km, X_FILE, "/x");
    if (st == STRATA_OK)
        st = strata_kmeans_write_h5(km, out, "x", 0);
    if (st == STRATA_E_CANCELLED)
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "cancelled");
    strata_kmeans_free(km);
    return st;
}

static int rfm_run(recorder *r, const char *out)
{
    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    ASSERT_OK(strata_rfm_set_progress(h, record, r));
    int st = strata_rfm_fit_h5(h, TX_FILE, NULL, "/c", "/t", "/a");
    if (st == STRATA_OK)
        st = strata_rfm_write_h5(h, out, "tx", 0);
    if (st == STRATA_E_CANCELLED)
        ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "cancelled");
    strata_rfm_free(h);
    return st;
}

/* Each step's reports: done never goes back, and stays within total. */
static void check_monotone(const recorder *r)
{
    for (int i = 1; i < r->n; i++) {
        const event *a = &r->ev[i - 1], *b = &r->ev[i];
        if (a->step == b->step && a->run == b->run && b->step != STRATA_STEP_ITERATE)
            ASSERT_MSG(b->done >= a->done, "step %s went back", strata_step_name(b->step));
        ASSERT_MSG(b->total < 0 || b->done <= b->total, "done > total at report %d", i);
    }
}

static void test_kmeans_order(void)
{
    recorder r = {.cancel_at = -1};
    ASSERT_OK(kmeans_run(&r, path_of("km.h5")));
    ASSERT_TRUE(r.n > 8);
    /* read 0..3000, then per run: seed 0/1, 1/1, iterations 1..m; write 0/1, 1/1 */
    ASSERT_EQ_INT(r.ev[0].step, STRATA_STEP_READ);
    ASSERT_EQ_INT(r.ev[0].done, 0);
    ASSERT_EQ_INT(r.ev[0].total, 3000);
    int i = 1;
    while (r.ev[i].step == STRATA_STEP_READ)
        i++;
    ASSERT_EQ_INT(r.ev[i - 1].done, 3000);
    int iterations = 0;
    for (int64_t run = 0; run < 2; run++) {
        ASSERT_EQ_INT(r.ev[i].step, STRATA_STEP_SEED);
        ASSERT_EQ_INT(r.ev[i].run, run);
        ASSERT_EQ_INT(r.ev[i].done, 0);
        ASSERT_EQ_INT(r.ev[i + 1].step, STRATA_STEP_SEED);
        ASSERT_EQ_INT(r.ev[i + 1].done, 1);
        i += 2;
        int64_t it = 0;
        double last = INFINITY;
        while (r.ev[i].step == STRATA_STEP_ITERATE) {
            ASSERT_EQ_INT(r.ev[i].run, run);
            ASSERT_EQ_INT(r.ev[i].done, ++it);
            ASSERT_EQ_INT(r.ev[i].total, 300);
            ASSERT_TRUE(r.ev[i].value <= last * (1 + 1e-9)); /* Lloyd's inertia never rises */
            last = r.ev[i].value;
            i++, iterations++;
        }
        ASSERT_TRUE(it >= 1);
    }
    ASSERT_EQ_INT(r.legacy, iterations); /* the old callback keeps every call */
    ASSERT_EQ_INT(r.ev[i].step, STRATA_STEP_WRITE);
    ASSERT_EQ_INT(r.ev[i].done, 0);
    ASSERT_EQ_INT(r.ev[i + 1].step, STRATA_STEP_WRITE);
    ASSERT_EQ_INT(r.ev[i + 1].done, 1);
    ASSERT_EQ_INT(r.n, i + 2);
    check_monotone(&r);
    remove(path_of("km.h5"));
}

static void test_rfm_order(void)
{
    recorder r = {.cancel_at = -1};
    ASSERT_OK(rfm_run(&r, path_of("rfm.h5")));
    static const int want[] = {STRATA_STEP_READ, STRATA_STEP_READ, STRATA_STEP_READ,
                               STRATA_STEP_READ, STRATA_STEP_AGGREGATE, STRATA_STEP_AGGREGATE,
                               STRATA_STEP_SCORE, STRATA_STEP_SCORE, STRATA_STEP_WRITE,
                               STRATA_STEP_WRITE};
    ASSERT_EQ_INT(r.n, 10);
    for (int i = 0; i < 10; i++)
        ASSERT_MSG(r.ev[i].step == want[i], "report %d is %s", i, strata_step_name(r.ev[i].step));
    ASSERT_EQ_INT(r.ev[3].done, 1500); /* three columns of 500 values */
    ASSERT_EQ_INT(r.ev[3].total, 1500);
    ASSERT_EQ_INT(r.ev[5].done, 500);  /* transactions aggregated */
    ASSERT_EQ_INT(r.ev[7].done, 37);   /* customers scored */
    check_monotone(&r);
    remove(path_of("rfm.h5"));
}

/* A cancel at any report but the last WRITE: STRATA_E_CANCELLED, no file. */
static void cancel_everywhere(int (*run)(recorder *, const char *), const char *name)
{
    recorder all = {.cancel_at = -1};
    ASSERT_OK(run(&all, path_of(name)));
    remove(path_of(name));
    for (int at = 0; at < all.n - 1; at++) {
        recorder r = {.cancel_at = at};
        int st = run(&r, path_of(name));
        ASSERT_MSG(st == STRATA_E_CANCELLED, "cancel at report %d (%s) returned %d", at,
                   strata_step_name(all.ev[at].step), st);
        ASSERT_EQ_INT(r.n, at + 1); /* nothing reported after the cancel */
        ASSERT_MSG(!cli_exists_(path_of(name)), "cancel at %d left %s", at, name);
        ASSERT_EQ_INT(tmpdir_count(".tmp."), 0);
    }
    /* the last report cannot cancel: the file is in place */
    recorder r = {.cancel_at = all.n - 1};
    ASSERT_OK(run(&r, path_of(name)));
    ASSERT_TRUE(cli_exists_(path_of(name)));
    remove(path_of(name));
}

static void test_kmeans_cancel(void)
{
    cancel_everywhere(kmeans_run, "kmc.h5");
}

static void test_rfm_cancel(void)
{
    cancel_everywhere(rfm_run, "rfmc.h5");
}

static void test_names_and_null(void)
{
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_READ), "read");
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_ITERATE), "iterate");
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_WRITE), "write");
    ASSERT_STR_EQ(strata_step_name(99), "unknown");
    ASSERT_STATUS(strata_kmeans_set_step_progress(NULL, record, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_rfm_set_progress(NULL, record, NULL), STRATA_E_NULL);
}

int main(void)
{
    if (tmpdir_make("strata_steps"))
        return 1;
    make_inputs();
    RUN_TEST(test_names_and_null);
    RUN_TEST(test_kmeans_order);
    RUN_TEST(test_rfm_order);
    RUN_TEST(test_kmeans_cancel);
    RUN_TEST(test_rfm_cancel);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
