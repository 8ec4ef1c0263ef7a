/* The step callback (strata_step_fn) of the k-means and RFM handles: the
 * steps come in the documented order with monotone progress, the old
 * progress callback keeps its calls, and a cancel at every report returns
 * STRATA_E_CANCELLED and leaves no output and no temporary file. Streamed
 * fits and out-of-core RFM report within their passes (per block, per
 * centre, per part), on the calling thread, without changing a bit. */
#define _GNU_SOURCE
#include <math.h>
#include <hdf5.h>
#include <pthread.h>

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
    int other_thread; /* reports made on another thread than main()'s */
} recorder;

static pthread_t g_main;

static int record(void *user, int step, int64_t run, int64_t done, int64_t total, double value)
{
    recorder *r = user;
    r->other_thread += !pthread_equal(pthread_self(), g_main);
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

static const char *X_FILE, *TX_FILE, *BIG_FILE, *LOG_FILE;

/* The streamed fit's rows (5 blocks of 4096) and the out-of-core log. */
enum { BIG_N = 20000, BIG_D = 2, BLOCK = 4096, LOG_N = 20000, LOG_IDS = 500 };

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

    static float big[BIG_N * BIG_D];
    for (int i = 0; i < BIG_N * BIG_D; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        big[i] = (float)((double)(s >> 11) / 9007199254740992.0 + (double)((i / BIG_D) % 3) * 5.0);
    }
    BIG_FILE = strdup(path_of("big.h5"));
    ASSERT_OK(strata_h5_write_matrix(BIG_FILE, "/x", STRATA_FLOAT32, big, BIG_N, BIG_D, 0));
    static int64_t lid[LOG_N], lday[LOG_N];
    static double lamount[LOG_N];
    for (int i = 0; i < LOG_N; i++) {
        lid[i] = (i * 7919) % LOG_IDS;
        lday[i] = 18000 + (i * 13) % 365;
        lamount[i] = i % 17 == 0 ? -5.0 : 1.0 + (double)(i % 23); /* returns: cleaned away */
    }
    /* chunks of 1000 rows: the out-of-core reader's blocks are whole chunks */
    LOG_FILE = strdup(path_of("log.h5"));
    hid_t f = H5Fcreate(LOG_FILE, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {LOG_N}, chunk[1] = {1000};
    hid_t space = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_TRUE(f >= 0 && space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0);
    const char *names[3] = {"c", "t", "a"};
    const void *cols[3] = {lid, lday, lamount};
    for (int k = 0; k < 3; k++) {
        hid_t type = k < 2 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
        hid_t ds = H5Dcreate2(f, names[k], type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ASSERT_TRUE(ds >= 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, cols[k]) >= 0);
        H5Dclose(ds);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    ASSERT_TRUE(H5Fclose(f) >= 0);
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

/* Each step's reports: done never goes back (READ only to 0, a new pass),
 * and stays within total; every report made on the calling thread. */
static void check_monotone(const recorder *r)
{
    ASSERT_TRUE(r->n <= MAXEV);
    ASSERT_EQ_INT(r->other_thread, 0);
    for (int i = 1; i < r->n; i++) {
        const event *a = &r->ev[i - 1], *b = &r->ev[i];
        if (a->step == b->step && a->run == b->run && b->step != STRATA_STEP_ITERATE &&
            !(b->step == STRATA_STEP_READ && b->done == 0))
            ASSERT_MSG(b->done >= a->done, "step %s went back at report %d",
                       strata_step_name(b->step), i);
        ASSERT_MSG(b->done >= 0 && (b->total < 0 || b->done <= b->total),
                   "done %lld of %lld at report %d", (long long)b->done, (long long)b->total, i);
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
        /* k-means++: 0 of k = 4, then after each centre */
        for (int c = 0; c <= 4; c++, i++) {
            ASSERT_EQ_INT(r.ev[i].step, STRATA_STEP_SEED);
            ASSERT_EQ_INT(r.ev[i].run, run);
            ASSERT_EQ_INT(r.ev[i].done, c);
            ASSERT_EQ_INT(r.ev[i].total, 4);
        }
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

/* A streamed fit (blocks of 4096 rows of 20000) with init `init`: into r,
 * labels and centroids into the arrays (may be NULL). */
static int stream_run_init(recorder *r, const char *out, int init, int with_steps, int32_t *labels,
                           double *centroids)
{
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, 3));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, init));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 4));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, BLOCK));
    if (with_steps)
        ASSERT_OK(strata_kmeans_set_step_progress(km, record, r));
    int st = strata_kmeans_fit_h5(km, BIG_FILE, "/x");
    if (st == STRATA_OK && labels)
        ASSERT_OK(strata_kmeans_labels(km, labels, BIG_N));
    if (st == STRATA_OK && centroids)
        ASSERT_OK(strata_kmeans_centroids(km, centroids, 3, BIG_D));
    if (st == STRATA_OK && out)
        st = strata_kmeans_write_h5(km, out, "x", 0);
    if (st == STRATA_E_CANCELLED)
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "cancelled");
    strata_kmeans_free(km);
    return st;
}

static int g_stream_init = STRATA_INIT_KMEANSPP;

static int stream_run(recorder *r, const char *out)
{
    return stream_run_init(r, out, g_stream_init, 1, NULL, NULL);
}

/* The READ reports of passes: every pass 0, 4096, ..., 20000 of 20000;
 * returns the passes seen in [from, to). */
static int check_passes(const recorder *r, int from, int to)
{
    int passes = 0;
    for (int i = from; i < to; i++) {
        if (r->ev[i].step != STRATA_STEP_READ)
            continue;
        ASSERT_EQ_INT(r->ev[i].total, BIG_N);
        if (r->ev[i].done == 0)
            passes++;
        else /* a block more than the report before, the last one short */
            ASSERT_MSG(r->ev[i - 1].step == STRATA_STEP_READ &&
                           r->ev[i].done - r->ev[i - 1].done ==
                               (r->ev[i].done == BIG_N ? BIG_N - 4 * BLOCK : BLOCK),
                       "report %d: read %lld after %lld", i, (long long)r->ev[i].done,
                       (long long)r->ev[i - 1].done);
    }
    return passes;
}

static void test_stream_order(void)
{
    recorder r = {.cancel_at = -1};
    static int32_t la[BIG_N], lb[BIG_N];
    double ca[6], cb[6];
    ASSERT_OK(stream_run_init(&r, NULL, STRATA_INIT_KMEANSPP, 1, la, ca));
    check_monotone(&r);
    /* the checks' passes, then SEED 0..3 of 3 with a pass after 0, 1 and 2,
     * then each iteration's pass(es) before its ITERATE */
    int i = 0;
    while (r.ev[i].step == STRATA_STEP_READ)
        i++;
    ASSERT_TRUE(check_passes(&r, 0, i) >= 1);
    ASSERT_EQ_INT(r.ev[i].step, STRATA_STEP_SEED);
    int seeds = 0, seed_end = i;
    for (int j = i; j < r.n && r.ev[j].step != STRATA_STEP_ITERATE; j++) {
        if (r.ev[j].step == STRATA_STEP_SEED) {
            ASSERT_EQ_INT(r.ev[j].done, seeds++);
            ASSERT_EQ_INT(r.ev[j].total, 3);
            if (seeds <= 3) /* a pass for centre 0, then one per further centre */
                ASSERT_EQ_INT(check_passes(&r, j + 1, j + 1 + 7), 1);
            seed_end = j + 1;
        }
    }
    ASSERT_EQ_INT(seeds, 4);
    int its = 0;
    for (int j = seed_end, from = seed_end; j < r.n; j++)
        if (r.ev[j].step == STRATA_STEP_ITERATE) {
            ASSERT_EQ_INT(r.ev[j].done, ++its);
            ASSERT_TRUE(check_passes(&r, from, j) >= 1); /* the iteration read the file */
            from = j + 1;
        }
    ASSERT_TRUE(its >= 1);
    /* the same bits without the callback */
    ASSERT_OK(stream_run_init(NULL, NULL, STRATA_INIT_KMEANSPP, 0, lb, cb));
    ASSERT_TRUE(memcmp(la, lb, sizeof la) == 0);
    ASSERT_TRUE(memcmp(ca, cb, sizeof ca) == 0);
    /* every init: SEED from 0 to its total, monotone, on this thread */
    const int inits[] = {STRATA_INIT_RANDOM, STRATA_INIT_KMEANS_PARALLEL, STRATA_INIT_AFKMC2};
    const int64_t totals[] = {3, 71, 3};
    for (int t = 0; t < 3; t++) {
        recorder q = {.cancel_at = -1};
        ASSERT_OK(stream_run_init(&q, NULL, inits[t], 1, la, ca));
        check_monotone(&q);
        int first = -1, last = -1, reads_in_seed = 0;
        for (int j = 0; j < q.n; j++)
            if (q.ev[j].step == STRATA_STEP_SEED) {
                ASSERT_EQ_INT(q.ev[j].total, totals[t]);
                first = first < 0 ? j : first;
                last = j;
            }
        for (int j = first; j < last; j++)
            reads_in_seed += q.ev[j].step == STRATA_STEP_READ;
        ASSERT_EQ_INT(q.ev[first].done, 0);
        ASSERT_EQ_INT(q.ev[last].done, totals[t]);
        ASSERT_TRUE(t == 0 ? reads_in_seed == 0 : reads_in_seed > 0); /* passes seen within */
        if (t == 1) /* k-means||: a report per round, then the whole once reduced */
            ASSERT_TRUE(last - first - reads_in_seed >= 6);
        ASSERT_OK(stream_run_init(NULL, NULL, inits[t], 0, lb, cb));
        ASSERT_TRUE(memcmp(la, lb, sizeof la) == 0);
        ASSERT_TRUE(memcmp(ca, cb, sizeof ca) == 0);
    }
}

/* An RFM fit of the log: out of core (its 2 MB of rows in a 200 kB budget)
 * with budget set, else in memory; `cols` (may be NULL) receives the
 * columns id, recency, frequency, R, F, M, segment of its 500 customers
 * and `mon` their monetary values. */
static int spill_run_cols(recorder *r, const char *out, int budget, int64_t *cols, double *mon)
{
    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    if (r)
        ASSERT_OK(strata_rfm_set_progress(h, record, r));
    if (budget)
        ASSERT_OK(strata_rfm_set_int(h, STRATA_RFM_MEMORY, ((int64_t)24 << 20) + 200000));
    ASSERT_OK(strata_rfm_set_tmpdir(h, g_dir));
    int st = strata_rfm_fit_h5(h, LOG_FILE, NULL, "/c", "/t", "/a");
    static const int which[] = {STRATA_RFM_COL_CUSTOMER_ID, STRATA_RFM_COL_RECENCY,
                                STRATA_RFM_COL_FREQUENCY, STRATA_RFM_COL_R, STRATA_RFM_COL_F,
                                STRATA_RFM_COL_M, STRATA_RFM_COL_SEGMENT};
    for (int c = 0; cols && st == STRATA_OK && c < 7; c++)
        ASSERT_OK(strata_rfm_column_int64(h, which[c], cols + c * LOG_IDS, LOG_IDS));
    if (mon && st == STRATA_OK)
        ASSERT_OK(strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, mon, LOG_IDS));
    if (st == STRATA_OK && out)
        st = strata_rfm_write_h5(h, out, "log", 0);
    if (st == STRATA_E_CANCELLED)
        ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "cancelled");
    strata_rfm_free(h);
    return st;
}

static int spill_run(recorder *r, const char *out)
{
    return spill_run_cols(r, out, 1, NULL, NULL);
}

static void test_spill_order(void)
{
    recorder r = {.cancel_at = -1};
    static int64_t ca[7 * LOG_IDS], cb[7 * LOG_IDS];
    static double ma[LOG_IDS], mb[LOG_IDS];
    ASSERT_OK(spill_run_cols(&r, NULL, 1, ca, ma));
    check_monotone(&r);
    /* READ: 0, then a block of ids at a time to n, then three columns to 4n */
    int i = 0, blocks1 = 0, blocks2 = 0;
    ASSERT_EQ_INT(r.ev[0].step, STRATA_STEP_READ);
    ASSERT_EQ_INT(r.ev[0].done, 0);
    for (i = 1; r.ev[i].step == STRATA_STEP_READ; i++) {
        ASSERT_EQ_INT(r.ev[i].total, 4 * LOG_N);
        ASSERT_TRUE(r.ev[i].done > r.ev[i - 1].done);
        blocks1 += r.ev[i].done <= LOG_N;
        blocks2 += r.ev[i].done > LOG_N;
    }
    ASSERT_EQ_INT(r.ev[i - 1].done, 4 * LOG_N);
    ASSERT_TRUE(blocks1 >= 4);
    ASSERT_EQ_INT(blocks1, blocks2); /* the same blocks twice */
    /* AGGREGATE: first the rows cleaned away (the returns), then per part */
    int64_t returns = 0;
    for (int j = 0; j < LOG_N; j++)
        returns += j % 17 == 0;
    ASSERT_EQ_INT(r.ev[i].step, STRATA_STEP_AGGREGATE);
    ASSERT_EQ_INT(r.ev[i].done, returns);
    int parts = 0;
    for (; r.ev[i].step == STRATA_STEP_AGGREGATE; i++, parts++)
        ASSERT_EQ_INT(r.ev[i].total, LOG_N);
    ASSERT_EQ_INT(r.ev[i - 1].done, LOG_N);
    ASSERT_TRUE(parts >= 4);
    static const int tail[] = {STRATA_STEP_SCORE, STRATA_STEP_SCORE};
    ASSERT_EQ_INT(r.n, i + 2);
    for (int j = 0; j < 2; j++)
        ASSERT_EQ_INT(r.ev[i + j].step, tail[j]);
    /* the same customers, values and scores as in memory, unreported */
    ASSERT_OK(spill_run_cols(NULL, NULL, 0, cb, mb));
    ASSERT_TRUE(memcmp(ca, cb, sizeof ca) == 0);
    ASSERT_TRUE(memcmp(ma, mb, sizeof ma) == 0);
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
        ASSERT_EQ_INT(tmpdir_count("strata-"), 0); /* no spill directory */
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

static void test_stream_cancel(void)
{
    const int inits[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_KMEANS_PARALLEL, STRATA_INIT_AFKMC2,
                         STRATA_INIT_RANDOM};
    for (int t = 0; t < 4; t++) {
        g_stream_init = inits[t];
        cancel_everywhere(stream_run, "streamc.h5");
    }
    g_stream_init = STRATA_INIT_KMEANSPP;
}

static void test_spill_cancel(void)
{
    cancel_everywhere(spill_run, "spillc.h5");
}

/* A sweep of k = 2..5 over the 3000 rows on `threads` threads (1: the k
 * one after another, each seeding and iteration reported; 2: in parallel,
 * unreported). */
static int sweep_run(recorder *r, int threads)
{
    static double x[3000 * 3];
    ASSERT_OK(strata_h5_read_matrix(X_FILE, "/x", STRATA_FLOAT64, x, 3000, 3));
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    ASSERT_OK(strata_kmeans_set_step_progress(km, record, r));
    double table[4 * STRATA_METRIC_COUNT];
    int64_t best;
    int st = strata_kmeans_sweep(km, STRATA_FLOAT64, x, 3000, 3, 0, NULL, 2, 5, 500, table, &best);
    if (st == STRATA_E_CANCELLED)
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "cancelled");
    strata_kmeans_free(km);
    return st;
}

static void test_sweep(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        recorder all = {.cancel_at = -1};
        ASSERT_OK(sweep_run(&all, threads));
        check_monotone(&all);
        /* SCORE 0 of 5 first, 5 of 5 last; between: after each k (1 thread)
         * or each pair of k (2 threads), with the SEED reports of serial
         * fits; then the silhouettes of the 500 sampled rows (one share:
         * 0 and 500 of 500) between SCORE 4 and 5 */
        static const int64_t want1[] = {0, 1, 2, 3, 4, 5}, want2[] = {0, 2, 4, 5};
        const int64_t *want = threads == 1 ? want1 : want2;
        int seeds = 0, scores = 0, sils = 0, iters = 0;
        for (int i = 0; i < all.n; i++) {
            if (all.ev[i].step == STRATA_STEP_SEED) {
                seeds++;
                continue;
            }
            if (all.ev[i].step == STRATA_STEP_ITERATE) { /* serial fits: each iteration */
                ASSERT_EQ_INT(all.ev[i].total, 300);
                ASSERT_EQ_INT(all.ev[i].done, all.ev[i - 1].step == STRATA_STEP_ITERATE
                                                  ? all.ev[i - 1].done + 1 : 1);
                iters++;
                continue;
            }
            if (all.ev[i].step == STRATA_STEP_SILHOUETTE) {
                ASSERT_TRUE(scores > 0 && want[scores - 1] == 4);
                ASSERT_EQ_INT(all.ev[i].total, 500);
                ASSERT_EQ_INT(all.ev[i].done, sils++ ? 500 : 0);
                continue;
            }
            ASSERT_EQ_INT(all.ev[i].step, STRATA_STEP_SCORE);
            ASSERT_EQ_INT(all.ev[i].total, 5);
            ASSERT_EQ_INT(all.ev[i].done, want[scores++]);
        }
        ASSERT_EQ_INT(sils, 2);
        ASSERT_EQ_INT(scores, threads == 1 ? 6 : 4);
        ASSERT_TRUE(threads == 1 ? seeds == 3 + 4 + 5 + 6 : seeds == 0); /* 0..k of k each */
        ASSERT_TRUE(threads == 1 ? iters >= 4 : iters == 0);
        /* cancelling at any report, an ITERATE included, stops the sweep there */
        for (int at = 0; at < all.n; at++) {
            recorder r = {.cancel_at = at};
            ASSERT_STATUS(sweep_run(&r, threads), STRATA_E_CANCELLED);
            ASSERT_EQ_INT(r.n, at + 1);
        }
    }
}

static void test_names_and_null(void)
{
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_READ), "read");
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_ITERATE), "iterate");
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_WRITE), "write");
    ASSERT_STR_EQ(strata_step_name(STRATA_STEP_SILHOUETTE), "silhouette");
    ASSERT_STR_EQ(strata_step_name(99), "unknown");
    ASSERT_STATUS(strata_kmeans_set_step_progress(NULL, record, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_rfm_set_progress(NULL, record, NULL), STRATA_E_NULL);
}

int main(void)
{
    g_main = pthread_self();
    if (tmpdir_make("strata_steps"))
        return 1;
    make_inputs();
    RUN_TEST(test_names_and_null);
    RUN_TEST(test_kmeans_order);
    RUN_TEST(test_rfm_order);
    RUN_TEST(test_kmeans_cancel);
    RUN_TEST(test_rfm_cancel);
    RUN_TEST(test_stream_order);
    RUN_TEST(test_spill_order);
    RUN_TEST(test_stream_cancel);
    RUN_TEST(test_spill_cancel);
    RUN_TEST(test_sweep);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
