/* Streamed fits (issue 13): a fit whose rows come in blocks, from memory
 * (STRATA_KMEANS_BLOCK_ROWS) or from an HDF5 file (strata_kmeans_fit_h5 over
 * a memory budget), gives bitwise the labels, centroids and inertia of the
 * in-memory fit, for any block size and thread count, mini-batch k-means
 * too (its windows of steps gathered in sweeps); read errors and a budget too
 * small are statuses with messages. Input files are written here
 * with libhdf5 directly (an independent writer). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ref.h"
#include "test.h"
#include "tmpdir.h"

#define N 30011 /* not a multiple of 4096 */
#define D 5
#define K 6

typedef struct fit_out {
    int status;
    double c[K * D];
    double inertia;
    int64_t n_iter, streamed, algorithm, converged;
    int32_t *labels;
    char msg[512];
} fit_out;

typedef struct fit_opts {
    int64_t threads, block_rows, memory, init, algorithm, n_init;
    int64_t max_iter; /* 0: 25 */
    const double *init_c; /* K x D, for init = centroids */
    /* mini-batch: batch_size (0: the default), max_no_improvement (0 = off),
     * tol (the handle's is 0 here), reassignment_ratio (0: the default) */
    int64_t batch_size, max_no_improvement;
    double tol, reassignment_ratio;
} fit_opts;

static strata_kmeans *make_handle(const fit_opts *o)
{
    strata_kmeans *km = NULL;
    ASSERT_EQ_INT(strata_kmeans_create(&km), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_K, K), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 7), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, o->max_iter ? o->max_iter : 25),
                  STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, o->tol), STRATA_OK);
    if (o->algorithm == STRATA_ALGO_MINIBATCH) {
        if (o->batch_size)
            ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, o->batch_size),
                          STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_NO_IMPROVEMENT,
                                            o->max_no_improvement), STRATA_OK);
        if (o->reassignment_ratio > 0.0)
            ASSERT_EQ_INT(strata_kmeans_set_double(km, STRATA_KMEANS_REASSIGNMENT_RATIO,
                                                   o->reassignment_ratio), STRATA_OK);
    }
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_THREADS, o->threads), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, o->block_rows), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MEMORY, o->memory), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, o->algorithm), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init ? o->n_init : 1),
                  STRATA_OK);
    if (o->init == STRATA_INIT_CENTROIDS)
        ASSERT_EQ_INT(strata_kmeans_set_init_centroids(km, o->init_c, K, D), STRATA_OK);
    else
        ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, o->init), STRATA_OK);
    return km;
}

static void collect(strata_kmeans *km, int status, int64_t n, fit_out *r)
{
    r->status = status;
    snprintf(r->msg, sizeof r->msg, "%s", strata_kmeans_last_error(km));
    if (status == STRATA_OK) {
        r->labels = test_alloc((size_t)n, sizeof(int32_t));
        ASSERT_EQ_INT(strata_kmeans_centroids(km, r->c, K, D), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_labels(km, r->labels, n), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia),
                      STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &r->streamed),
                      STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &r->algorithm),
                      STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &r->converged),
                      STRATA_OK);
        /* the cluster sizes agree with the labels */
        int64_t sizes[K], from_labels[K] = {0};
        ASSERT_EQ_INT(strata_kmeans_cluster_sizes(km, sizes, K), STRATA_OK);
        for (int64_t i = 0; i < n; i++)
            from_labels[r->labels[i]]++;
        ASSERT_TRUE(memcmp(sizes, from_labels, sizeof sizes) == 0);
        ASSERT_EQ_INT(strata_kmeans_cluster_sizes(km, sizes, K + 1), STRATA_E_ARG);
        ASSERT_EQ_INT(strata_kmeans_cluster_sizes(km, NULL, K), STRATA_E_NULL);
    }
    strata_kmeans_free(km);
}

static void fit_mem(const gen_data *g, const fit_opts *o, fit_out *r)
{
    memset(r, 0, sizeof *r);
    strata_kmeans *km = make_handle(o);
    collect(km, strata_kmeans_fit(km, g->dtype, g->x, g->n, g->d, g->stride, g->w), g->n, r);
}

static void fit_file(const char *path, int64_t n, const fit_opts *o, fit_out *r)
{
    memset(r, 0, sizeof *r);
    strata_kmeans *km = make_handle(o);
    collect(km, strata_kmeans_fit_h5(km, path, "/x"), n, r);
}

/* Bitwise the same result. */
static void assert_same(const fit_out *a, const fit_out *b, int64_t n, const char *what)
{
    ASSERT_MSG(a->status == STRATA_OK && b->status == STRATA_OK, "%s: %d (%s) / %d (%s)", what,
               a->status, a->msg, b->status, b->msg);
    ASSERT_MSG(memcmp(a->c, b->c, sizeof a->c) == 0, "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof(double)) == 0,
               "%s: inertia %.17g vs %.17g", what, a->inertia, b->inertia);
    ASSERT_MSG(a->n_iter == b->n_iter, "%s: n_iter %lld vs %lld", what, (long long)a->n_iter,
               (long long)b->n_iter);
    /* a streamed HAMERLY fit runs Hamerly's gaps, with Lloyd's bits */
    const int lloyd_bits = (a->streamed || b->streamed) &&
                           (a->algorithm == STRATA_ALGO_LLOYD || a->algorithm == STRATA_ALGO_HAMERLY) &&
                           (b->algorithm == STRATA_ALGO_LLOYD || b->algorithm == STRATA_ALGO_HAMERLY);
    ASSERT_MSG(a->converged == b->converged && (a->algorithm == b->algorithm || lloyd_bits),
               "%s: converged %lld vs %lld, algorithm %lld vs %lld", what,
               (long long)a->converged, (long long)b->converged, (long long)a->algorithm,
               (long long)b->algorithm);
    ASSERT_MSG(memcmp(a->labels, b->labels, (size_t)n * sizeof(int32_t)) == 0,
               "%s: labels differ", what);
}

static void out_free(fit_out *r)
{
    free(r->labels);
    r->labels = NULL;
}

/* Given centroids of which the last lies far from every row: its cluster is
 * empty after the first assignment and gets a relocated row. */
static void far_centroids(const gen_data *g, double *c)
{
    test_rng r;
    rng_seed(&r, 99);
    gen_pick_rows(g, &r, K, c);
    for (int64_t f = 0; f < D; f++)
        c[(K - 1) * D + f] = 1e4;
}

/* In memory against the memory stream: dtypes, weights, blocks, threads,
 * inits, and streamed Lloyd (AUTO) or Hamerly with its gaps (HAMERLY). */
static void test_memory_stream_matches(void)
{
    static const int64_t blocks[] = {4096, 8192, 3 * 4096};
    static const int inits[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_RANDOM, STRATA_INIT_CENTROIDS};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int weighted = 0; weighted <= 1; weighted++) {
            gen_data g;
            gen_blobs(&g, 11 + (uint64_t)(dt * 2 + weighted), dt, N, D, D + (weighted ? 2 : 0),
                      K, 10.0, 1.5, 3.0, weighted);
            double c0[K * D];
            far_centroids(&g, c0);
            for (int ii = 0; ii < 3; ii++) {
                fit_opts o = {.threads = 1, .init = inits[ii], .init_c = c0};
                fit_out ref;
                fit_mem(&g, &o, &ref);
                ASSERT_MSG(ref.status == STRATA_OK, "%s", ref.msg);
                ASSERT_EQ_INT(ref.streamed, 0);
                if (inits[ii] == STRATA_INIT_CENTROIDS) { /* the relocation ran */
                    int used = 0;
                    for (int64_t i = 0; i < N; i++)
                        used |= ref.labels[i] == K - 1;
                    ASSERT_MSG(used, "the far centroid's cluster should have been refilled");
                }
                for (int bi = 0; bi < 3; bi++)
                    for (int64_t th = 1; th <= 2; th++)
                        for (int ai = 0; ai < 2; ai++) {
                            fit_opts s = o;
                            s.threads = th;
                            s.block_rows = blocks[bi];
                            s.algorithm = ai ? STRATA_ALGO_HAMERLY : STRATA_ALGO_AUTO;
                            fit_out got;
                            fit_mem(&g, &s, &got);
                            char what[160];
                            snprintf(what, sizeof what,
                                     "dtype %d weighted %d init %d block %lld threads %lld "
                                     "algorithm %d", dt, weighted, inits[ii],
                                     (long long)blocks[bi], (long long)th, (int)s.algorithm);
                            assert_same(&ref, &got, N, what);
                            ASSERT_EQ_INT(got.streamed, 1);
                            ASSERT_EQ_INT(got.algorithm,
                                          ai ? STRATA_ALGO_HAMERLY : STRATA_ALGO_LLOYD);
                            out_free(&got);
                        }
                out_free(&ref);
            }
            gen_free(&g);
        }
}

/* k-means|| and AFK-MC^2 seeding through the stream: the same bits as in
 * memory, for both dtypes, weights, block sizes and thread counts. One Lloyd
 * step (max_iter 1) keeps the result close to the seeds (a seeding that
 * differed would show), 25 steps check the whole fit. */
static void test_memory_stream_seedings(void)
{
    static const int64_t blocks[] = {4096, 8192, 3 * 4096};
    static const int inits[] = {STRATA_INIT_KMEANS_PARALLEL, STRATA_INIT_AFKMC2};
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int weighted = 0; weighted <= 1; weighted++) {
            gen_data g;
            gen_blobs(&g, 61 + (uint64_t)(dt * 2 + weighted), dt, N, D, D + (weighted ? 2 : 0),
                      K, 10.0, 1.5, 3.0, weighted);
            for (int ii = 0; ii < 2; ii++)
                for (int64_t mi = 1; mi <= 25; mi += 24) {
                    fit_opts o = {.threads = 1, .init = inits[ii], .max_iter = mi};
                    fit_out ref;
                    fit_mem(&g, &o, &ref);
                    ASSERT_MSG(ref.status == STRATA_OK, "%s", ref.msg);
                    ASSERT_EQ_INT(ref.streamed, 0);
                    for (int bi = 0; bi < 3; bi++)
                        for (int64_t th = 1; th <= 2; th++) {
                            fit_opts s = o;
                            s.threads = th;
                            s.block_rows = blocks[bi];
                            fit_out got;
                            fit_mem(&g, &s, &got);
                            char what[160];
                            snprintf(what, sizeof what,
                                     "dtype %d weighted %d init %d max_iter %lld block %lld "
                                     "threads %lld", dt, weighted, inits[ii], (long long)mi,
                                     (long long)blocks[bi], (long long)th);
                            assert_same(&ref, &got, N, what);
                            ASSERT_EQ_INT(got.streamed, 1);
                            out_free(&got);
                        }
                    out_free(&ref);
                }
            gen_free(&g);
        }
}

/* An explicit Hamerly on a fit that streams runs Hamerly with one gap a row
 * (kmeans/gaps.c), an explicit Yinyang runs Lloyd; both with Lloyd's bits,
 * and they say which ran. */
static void test_memory_stream_bounded_fallback(void)
{
    gen_data g;
    gen_blobs(&g, 71, STRATA_FLOAT64, N, D, D, K, 10.0, 1.5, 0.0, 0);
    fit_opts o = {.threads = 2, .init = STRATA_INIT_KMEANSPP, .algorithm = STRATA_ALGO_LLOYD};
    fit_out lloyd, bounded;
    fit_mem(&g, &o, &lloyd);
    ASSERT_EQ_INT(lloyd.algorithm, STRATA_ALGO_LLOYD);
    static const int algos[] = {STRATA_ALGO_HAMERLY, STRATA_ALGO_YINYANG};
    for (int ai = 0; ai < 2; ai++) {
        fit_opts s = o;
        s.algorithm = algos[ai];
        fit_mem(&g, &s, &bounded); /* in memory: the bounded algorithm itself */
        ASSERT_EQ_INT(bounded.algorithm, algos[ai]);
        ASSERT_EQ_INT(bounded.streamed, 0);
        out_free(&bounded);
        s.block_rows = 8192;
        fit_mem(&g, &s, &bounded);
        assert_same(&lloyd, &bounded, N, algos[ai] == STRATA_ALGO_HAMERLY ? "hamerly streamed"
                                                                        : "yinyang streamed");
        ASSERT_EQ_INT(bounded.streamed, 1);
        ASSERT_EQ_INT(bounded.algorithm, algos[ai] == STRATA_ALGO_HAMERLY ? STRATA_ALGO_HAMERLY
                                                                           : STRATA_ALGO_LLOYD);
        out_free(&bounded);
    }
    out_free(&lloyd);
    gen_free(&g);
}

/* Restarts keep the best run's labels the same way. */
static void test_memory_stream_n_init(void)
{
    gen_data g;
    gen_blobs(&g, 5, STRATA_FLOAT64, 9001, D, D, K, 10.0, 3.0, 0.0, 0);
    fit_opts o = {.threads = 2, .init = STRATA_INIT_KMEANSPP, .n_init = 3};
    fit_out a, b;
    fit_mem(&g, &o, &a);
    o.block_rows = 4096;
    fit_mem(&g, &o, &b);
    assert_same(&a, &b, g.n, "n_init 3");
    out_free(&a);
    out_free(&b);
    gen_free(&g);
}

/* float32 rows too spread for float32 distances: the in-memory fit widens a
 * copy, the stream delivers float64 rows; the same bits. */
static void test_memory_stream_widened(void)
{
    gen_data g;
    gen_blobs(&g, 6, STRATA_FLOAT32, 9000, D, D, K, 10.0, 1.0, 0.0, 0);
    for (int64_t i = 0; i < g.n; i++)
        for (int64_t f = 0; f < D; f++)
            ((float *)g.x)[i * D + f] *= 1e18f;
    fit_opts o = {.threads = 2, .init = STRATA_INIT_KMEANSPP};
    fit_out a, b;
    fit_mem(&g, &o, &a);
    o.block_rows = 4096;
    fit_mem(&g, &o, &b);
    assert_same(&a, &b, g.n, "widened float32");
    out_free(&a);
    out_free(&b);
    gen_free(&g);
}

/* A NaN in the last block: the same message whether streamed or not. */
static void test_stream_nonfinite(void)
{
    gen_data g;
    gen_blobs(&g, 7, STRATA_FLOAT64, 9000, D, D, K, 10.0, 1.0, 0.0, 0);
    gen_set(&g, 8999, 3, NAN);
    fit_opts o = {.threads = 1, .init = STRATA_INIT_KMEANSPP};
    fit_out a, b;
    fit_mem(&g, &o, &a);
    o.block_rows = 4096;
    fit_mem(&g, &o, &b);
    ASSERT_EQ_INT(a.status, STRATA_E_NONFINITE);
    ASSERT_EQ_INT(b.status, STRATA_E_NONFINITE);
    ASSERT_MSG(strstr(b.msg, "row 8999, column 3"), "%s", b.msg);
    ASSERT_TRUE(strcmp(a.msg, b.msg) == 0);
    gen_free(&g);
}

/* ---- HDF5 files --------------------------------------------------------- */

/* Write g's rows (contiguous copy) as /x of a new file: file_type (an HDF5
 * type), chunk_rows 0 = contiguous, else chunked (gzip when gz). */
static void write_h5(const char *path, const gen_data *g, hid_t file_type, int64_t chunk_rows,
                     int gz)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_TRUE(f >= 0);
    hsize_t dims[2] = {(hsize_t)g->n, (hsize_t)g->d};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk_rows > 0) {
        hsize_t ch[2] = {(hsize_t)chunk_rows, (hsize_t)g->d};
        H5Pset_chunk(dcpl, 2, ch);
        if (gz)
            H5Pset_deflate(dcpl, 1);
    }
    hid_t ds = H5Dcreate2(f, "/x", file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_TRUE(ds >= 0);
    /* memory rows of g's type, its stride as a hyperslab of a wider space */
    hsize_t mdims[2] = {(hsize_t)g->n, (hsize_t)g->stride};
    hid_t msp = H5Screate_simple(2, mdims, NULL);
    hsize_t start[2] = {0, 0};
    H5Sselect_hyperslab(msp, H5S_SELECT_SET, start, NULL, dims, NULL);
    hid_t mt = g->dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    ASSERT_TRUE(H5Dwrite(ds, mt, msp, H5S_ALL, H5P_DEFAULT, g->x) >= 0);
    H5Sclose(msp);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
}

/* The file's values as the library loads them: float32 stays, others double. */
static void loaded_copy(const gen_data *g, int as_float32, gen_data *out)
{
    *out = *g;
    out->w = NULL;
    out->stride = g->d;
    out->dtype = as_float32 ? STRATA_FLOAT32 : STRATA_FLOAT64;
    out->x = test_alloc((size_t)(g->n * g->d), as_float32 ? sizeof(float) : sizeof(double));
    for (int64_t i = 0; i < g->n; i++)
        for (int64_t f = 0; f < g->d; f++) {
            double v = g->dtype == STRATA_FLOAT32 ? ((float *)g->x)[i * g->stride + f]
                                                  : ((double *)g->x)[i * g->stride + f];
            if (as_float32)
                ((float *)out->x)[i * g->d + f] = (float)v;
            else
                ((double *)out->x)[i * g->d + f] = v;
        }
}

static void test_h5_stream_matches(void)
{
    struct {
        int dtype;
        hid_t type;
        int64_t chunk;
        int gz;
        int integer;
    } cases[] = {
        {STRATA_FLOAT32, H5T_IEEE_F32LE, 1000, 1, 0}, /* chunk rows not a multiple of 4096 */
        {STRATA_FLOAT64, H5T_IEEE_F64LE, 0, 0, 0},    /* contiguous */
        {STRATA_FLOAT32, H5T_IEEE_F32LE, 4096, 0, 0},
        {STRATA_FLOAT64, H5T_STD_I32LE, 3000, 1, 1},  /* integers: loaded as float64 */
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        gen_data g;
        gen_blobs(&g, 21 + ci, cases[ci].dtype, N, D, D, K, cases[ci].integer ? 500.0 : 10.0,
                  cases[ci].integer ? 30.0 : 1.5, 0.0, 0);
        if (cases[ci].integer) /* whole values, as the file will hold them */
            for (int64_t i = 0; i < g.n * D; i++)
                ((double *)g.x)[i] = round(((double *)g.x)[i]);
        const char *path = path_of("in.h5");
        write_h5(path, &g, cases[ci].type, cases[ci].chunk, cases[ci].gz);
        gen_data m;
        loaded_copy(&g, cases[ci].dtype == STRATA_FLOAT32, &m);
        double c0[K * D];
        far_centroids(&m, c0);
        static const int inits[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_RANDOM,
                                    STRATA_INIT_CENTROIDS, STRATA_INIT_KMEANS_PARALLEL,
                                    STRATA_INIT_AFKMC2};
        for (int ii = 0; ii < 5; ii++) {
            fit_opts o = {.threads = 2, .init = inits[ii], .init_c = c0};
            fit_out ref, loaded, s1, s2, budget;
            fit_mem(&m, &o, &ref);
            fit_file(path, N, &o, &loaded); /* no budget: loaded */
            ASSERT_EQ_INT(loaded.streamed, 0);
            assert_same(&ref, &loaded, N, "loaded file");
            fit_opts s = o;
            s.block_rows = 8192;
            s.threads = 1;
            fit_file(path, N, &s, &s1);
            ASSERT_EQ_INT(s1.streamed, 1);
            assert_same(&ref, &s1, N, "streamed, block 8192, 1 thread");
            s.block_rows = 3 * 4096;
            s.threads = 2;
            fit_file(path, N, &s, &s2);
            assert_same(&ref, &s2, N, "streamed, block 12288, 2 threads");
            /* a budget below the data (N x D x es bytes) plus the fit's
             * state, room for the streamed fit's state (the header's bytes
             * a row, 24 MiB fixed) and five blocks of 4096 rows (the fit
             * takes a quarter of what is left for each of its two):
             * streamed automatically */
            s = o;
            const int64_t es = cases[ci].dtype == STRATA_FLOAT32 ? 4 : 8;
            const int64_t per_row = 4 + (inits[ii] == STRATA_INIT_RANDOM ? 1 : 0) +
                                    (inits[ii] == STRATA_INIT_KMEANSPP && es == 8 ? 8 : 0) +
                                    (inits[ii] == STRATA_INIT_KMEANS_PARALLEL ? 9 : 0) +
                                    (inits[ii] == STRATA_INIT_AFKMC2 ? 8 : 0);
            s.memory = (24 << 20) + 8 * K * D * 8 + N * per_row + 5 * 4096 * D * es;
            fit_file(path, N, &s, &budget);
            ASSERT_MSG(budget.status == STRATA_OK, "%s", budget.msg);
            ASSERT_EQ_INT(budget.streamed, 1);
            assert_same(&ref, &budget, N, "streamed by the budget");
            out_free(&ref);
            out_free(&loaded);
            out_free(&s1);
            out_free(&s2);
            out_free(&budget);
        }
        free(m.x);
        gen_free(&g);
        unlink(path);
    }
}

/* Damage inside the file (a compressed chunk's bytes) is found by the read
 * of its block mid-stream: a status and a message, no crash. */
static void test_h5_corrupt_mid_stream(void)
{
    gen_data g;
    gen_blobs(&g, 31, STRATA_FLOAT64, N, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("bad.h5");
    write_h5(path, &g, H5T_IEEE_F64LE, 2048, 1);
    FILE *fp = fopen(path, "r+b");
    ASSERT_TRUE(fp != NULL);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    char junk[4096];
    memset(junk, 0x5A, sizeof junk);
    fseek(fp, size * 2 / 3, SEEK_SET); /* a chunk of a later block */
    fwrite(junk, 1, sizeof junk, fp);
    fclose(fp);
    static const int inits[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_KMEANS_PARALLEL,
                                STRATA_INIT_AFKMC2};
    for (int ii = 0; ii < 3; ii++) {
        fit_opts o = {.threads = 2, .init = inits[ii], .block_rows = 4096};
        fit_out r;
        fit_file(path, N, &o, &r);
        ASSERT_MSG(r.status == STRATA_E_IO_FORMAT, "init %d: status %d: %s", inits[ii], r.status,
                   r.msg);
        ASSERT_MSG(strstr(r.msg, "cannot read rows") && strstr(r.msg, "bad.h5"), "%s", r.msg);
    }
    gen_free(&g);
    unlink(path);
}

/* The file written in place between two passes (its modification time moved
 * by the progress callback after the first iteration): the next read fails
 * with a status naming the change, never a fit of mixed data. */
static const char *g_touch_path;
static int touch_file(void *user, int64_t run, int64_t iteration, double inertia)
{
    (void)user;
    (void)run;
    (void)inertia;
    struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    if (iteration == 1)
        utimensat(AT_FDCWD, g_touch_path, t, 0);
    return 0;
}

static void test_h5_changed_mid_fit(void)
{
    gen_data g;
    gen_blobs(&g, 51, STRATA_FLOAT32, N, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("in.h5");
    write_h5(path, &g, H5T_IEEE_F32LE, 4096, 0);
    g_touch_path = path;
    fit_opts o = {.threads = 1, .init = STRATA_INIT_KMEANSPP, .block_rows = 4096};
    strata_kmeans *km = make_handle(&o);
    ASSERT_EQ_INT(strata_kmeans_set_progress(km, touch_file, NULL), STRATA_OK);
    fit_out r;
    memset(&r, 0, sizeof r);
    collect(km, strata_kmeans_fit_h5(km, path, "/x"), N, &r);
    ASSERT_MSG(r.status == STRATA_E_IO && strstr(r.msg, "changed while the fit streamed it"),
               "%d: %s", r.status, r.msg);
    gen_free(&g);
    unlink(path);
}

/* The same change seen by a seeding's own reads (the file touched as the
 * seeding starts, after validation): each seeding returns the read's status
 * and message, no seeds from mixed data. */
static int touch_at_seed(void *user, int step, int64_t run, int64_t done, int64_t total,
                         double value)
{
    (void)user;
    (void)run;
    (void)total;
    (void)value;
    struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    if (step == STRATA_STEP_SEED && done == 0)
        utimensat(AT_FDCWD, g_touch_path, t, 0);
    return 0;
}

static void test_h5_changed_during_seeding(void)
{
    gen_data g;
    gen_blobs(&g, 52, STRATA_FLOAT64, N, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("in.h5");
    static const int inits[] = {STRATA_INIT_KMEANSPP, STRATA_INIT_KMEANS_PARALLEL,
                                STRATA_INIT_AFKMC2, STRATA_INIT_RANDOM};
    for (int ii = 0; ii < 4; ii++) {
        write_h5(path, &g, H5T_IEEE_F64LE, 4096, 0);
        g_touch_path = path;
        fit_opts o = {.threads = 2, .init = inits[ii], .block_rows = 8192};
        strata_kmeans *km = make_handle(&o);
        ASSERT_EQ_INT(strata_kmeans_set_step_progress(km, touch_at_seed, NULL), STRATA_OK);
        fit_out r;
        memset(&r, 0, sizeof r);
        collect(km, strata_kmeans_fit_h5(km, path, "/x"), N, &r);
        ASSERT_MSG(r.status == STRATA_E_IO && strstr(r.msg, "changed while the fit streamed it"),
                   "init %d: %d: %s", inits[ii], r.status, r.msg);
        unlink(path);
    }
    gen_free(&g);
}

static void test_h5_budget_errors(void)
{
    gen_data g;
    gen_blobs(&g, 41, STRATA_FLOAT32, N, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("in.h5");
    write_h5(path, &g, H5T_IEEE_F32LE, 4096, 0);
    fit_opts o = {.threads = 1, .init = STRATA_INIT_KMEANSPP, .memory = 100000};
    fit_out r;
    fit_file(path, N, &o, &r);
    ASSERT_MSG(r.status == STRATA_E_NOMEM, "status %d: %s", r.status, r.msg);
    ASSERT_MSG(strstr(r.msg, "too small") && strstr(r.msg, "at least"), "%s", r.msg);
    /* Hamerly at the least budget named (Lloyd's) runs Lloyd, the same bits
     * (with room for its gaps beside 8 MiB blocks this small file would
     * load: tests/python/test_stream.py streams larger ones with the gaps) */
    long long least = 0;
    ASSERT_TRUE(sscanf(strstr(r.msg, "at least") + 8, "%lld", &least) == 1 && least > 0);
    fit_out ref, lo;
    o.memory = 0;
    o.algorithm = STRATA_ALGO_LLOYD;
    fit_file(path, N, &o, &ref);
    o.algorithm = STRATA_ALGO_HAMERLY;
    o.memory = least;
    fit_file(path, N, &o, &lo);
    ASSERT_MSG(lo.status == STRATA_OK && lo.streamed && lo.algorithm == STRATA_ALGO_LLOYD,
               "%d: %s", lo.status, lo.msg);
    assert_same(&ref, &lo, N, "hamerly at the least budget");
    out_free(&ref);
    out_free(&lo);
    /* Hamerly streams with its gaps */
    o.memory = 0;
    o.block_rows = 4096;
    o.algorithm = STRATA_ALGO_HAMERLY;
    o.init = STRATA_INIT_KMEANS_PARALLEL;
    fit_file(path, N, &o, &r);
    ASSERT_MSG(r.status == STRATA_OK && r.streamed == 1 && r.algorithm == STRATA_ALGO_HAMERLY,
               "%d: %s", r.status, r.msg);
    out_free(&r);
    /* negative values are refused */
    strata_kmeans *km = NULL;
    ASSERT_EQ_INT(strata_kmeans_create(&km), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MEMORY, -1), STRATA_E_PARAM);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, -5), STRATA_E_PARAM);
    int64_t v = -1;
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MEMORY, (int64_t)1 << 30), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_get_int(km, STRATA_KMEANS_MEMORY, &v), STRATA_OK);
    ASSERT_EQ_INT(v, (int64_t)1 << 30);
    strata_kmeans_free(km);
    gen_free(&g);
    unlink(path);
}

/* ---- mini-batch from a stream ------------------------------------------- */

/* The in-memory mini-batch fit of g by o (threads o->threads) against the
 * other thread count in memory and against memory streams of three block
 * sizes and both thread counts: bitwise the same. A memory stream's window
 * is a block's rows, so blocks of 4096 rows and batches of 100 gather 40
 * steps a sweep. The reference lands in *ref. */
static void mb_check(const gen_data *g, const fit_opts *o, const char *label, fit_out *ref)
{
    fit_mem(g, o, ref);
    ASSERT_MSG(ref->status == STRATA_OK, "%s: %s", label, ref->msg);
    ASSERT_EQ_INT(ref->algorithm, STRATA_ALGO_MINIBATCH);
    ASSERT_EQ_INT(ref->streamed, 0);
    static const int64_t blocks[] = {0, 4096, 8192, 3 * 4096};
    for (int bi = 0; bi < 4; bi++)
        for (int64_t th = 1; th <= 2; th++) {
            fit_opts s = *o;
            s.threads = th;
            s.block_rows = blocks[bi];
            fit_out got;
            fit_mem(g, &s, &got);
            char what[160];
            snprintf(what, sizeof what, "%s: block %lld threads %lld", label,
                     (long long)blocks[bi], (long long)th);
            assert_same(ref, &got, g->n, what);
            ASSERT_EQ_INT(got.streamed, blocks[bi] > 0);
            out_free(&got);
        }
}

/* Mini-batch k-means from a stream: the rows of a window of steps drawn
 * ahead and gathered in one sweep, the steps then run as in memory. Both
 * dtypes, weights; every step of a run of many windows with reassignments;
 * n_init > 1 with subsets gathered one and two runs a sweep; early stops by
 * max_no_improvement and by tol (the rest of the window dropped). */
static void test_memory_stream_minibatch(void)
{
    for (int dt = STRATA_FLOAT32; dt <= STRATA_FLOAT64; dt++)
        for (int weighted = 0; weighted <= 1; weighted++) {
            gen_data g;
            gen_blobs(&g, 81 + (uint64_t)(dt * 2 + weighted), dt, N, D, D + (weighted ? 2 : 0),
                      K, 10.0, 1.5, 3.0, weighted);
            char label[96];
            /* 2 epochs of batches of 100 = 600 steps (15 sweeps of 40), from
             * centroids of which the last is far from every row: its
             * cluster stays empty until a reassignment moves it onto a row */
            double c0[K * D];
            far_centroids(&g, c0);
            fit_opts o = {.threads = 1, .init = STRATA_INIT_CENTROIDS, .init_c = c0,
                          .algorithm = STRATA_ALGO_MINIBATCH, .max_iter = 2, .batch_size = 100};
            fit_out ref;
            snprintf(label, sizeof label, "dtype %d weighted %d every step", dt, weighted);
            mb_check(&g, &o, label, &ref);
            ASSERT_EQ_INT(ref.n_iter, 2 * N / 100);
            ASSERT_EQ_INT(ref.converged, 0);
            for (int64_t f = 0; f < D; f++)
                ASSERT_MSG(fabs(ref.c[(K - 1) * D + f]) < 100.0,
                           "%s: the far centroid was never reassigned (%g)", label,
                           ref.c[(K - 1) * D + f]);
            out_free(&ref);
            /* 3 k-means++ runs on subsets of 4500 rows (a window of 4096 or
             * 8192 rows gathers one subset a sweep, 12288 two, then one),
             * stopped by max_no_improvement */
            o = (fit_opts){.threads = 2, .init = STRATA_INIT_KMEANSPP, .n_init = 3,
                           .algorithm = STRATA_ALGO_MINIBATCH, .max_iter = 50,
                           .batch_size = 1500, .max_no_improvement = 3};
            snprintf(label, sizeof label, "dtype %d weighted %d n_init 3", dt, weighted);
            mb_check(&g, &o, label, &ref);
            ASSERT_MSG(ref.converged == 1 && ref.n_iter < 50 * N / 1500, "%s: %lld steps", label,
                       (long long)ref.n_iter);
            out_free(&ref);
            /* 2 random runs, stopped by tol, reassigning often */
            o = (fit_opts){.threads = 1, .init = STRATA_INIT_RANDOM, .n_init = 2,
                           .algorithm = STRATA_ALGO_MINIBATCH, .max_iter = 20, .batch_size = 100,
                           .tol = 1e-4, .reassignment_ratio = 0.3};
            snprintf(label, sizeof label, "dtype %d weighted %d tol", dt, weighted);
            mb_check(&g, &o, label, &ref);
            ASSERT_MSG(ref.converged == 1 && ref.n_iter < 20 * N / 100, "%s: %lld steps", label,
                       (long long)ref.n_iter);
            out_free(&ref);
            gen_free(&g);
        }
}

/* From HDF5 files (compressed chunks of 1000 rows, contiguous): loaded, in
 * blocks of 4096 rows, and streamed by a budget whose window holds about 27
 * steps: the in-memory fit's bits. */
static void test_h5_minibatch(void)
{
    struct {
        int dtype;
        hid_t type;
        int64_t chunk;
        int gz;
    } cases[] = {{STRATA_FLOAT32, H5T_IEEE_F32LE, 1000, 1}, {STRATA_FLOAT64, H5T_IEEE_F64LE, 0, 0}};
    for (size_t ci = 0; ci < 2; ci++) {
        gen_data g, m;
        gen_blobs(&g, 91 + ci, cases[ci].dtype, N, D, D, K, 10.0, 1.5, 0.0, 0);
        const char *path = path_of("in.h5");
        write_h5(path, &g, cases[ci].type, cases[ci].chunk, cases[ci].gz);
        loaded_copy(&g, cases[ci].dtype == STRATA_FLOAT32, &m);
        fit_opts o = {.threads = 2, .init = STRATA_INIT_KMEANSPP, .n_init = 2,
                      .algorithm = STRATA_ALGO_MINIBATCH, .max_iter = 2, .batch_size = 100,
                      .reassignment_ratio = 0.3};
        fit_out ref, loaded, blocks, budget;
        fit_mem(&m, &o, &ref);
        fit_file(path, N, &o, &loaded);
        ASSERT_EQ_INT(loaded.streamed, 0);
        assert_same(&ref, &loaded, N, "minibatch, loaded file");
        fit_opts s = o;
        s.threads = 1;
        s.block_rows = 4096;
        fit_file(path, N, &s, &blocks);
        ASSERT_EQ_INT(blocks.streamed, 1);
        assert_same(&ref, &blocks, N, "minibatch, blocks of 4096");
        /* the streamed state (labels, 24 MiB and the centroids fixed, a
         * validation subset of 300 rows of D values + 24 bytes) and six
         * blocks of 4096 rows: blocks of 4096, a window of a quarter of the
         * rest / (row + 24 bytes) rows */
        const int64_t es = cases[ci].dtype == STRATA_FLOAT32 ? 4 : 8;
        s = o;
        s.memory = (24 << 20) + 8 * K * D * 8 + N * 4 + 300 * (D * es + 24) + 6 * 4096 * D * es;
        fit_file(path, N, &s, &budget);
        ASSERT_MSG(budget.status == STRATA_OK, "%s", budget.msg);
        ASSERT_EQ_INT(budget.streamed, 1);
        assert_same(&ref, &budget, N, "minibatch, streamed by the budget");
        /* the same budget with batches too large for it: the minimum named */
        s.batch_size = 20000;
        out_free(&budget);
        fit_file(path, N, &s, &budget);
        ASSERT_MSG(budget.status == STRATA_E_NOMEM && strstr(budget.msg, "too small") &&
                   strstr(budget.msg, "mini-batch"), "%d: %s", budget.status, budget.msg);
        out_free(&ref);
        out_free(&loaded);
        out_free(&blocks);
        free(m.x);
        gen_free(&g);
        unlink(path);
    }
}

/* The file changed after the first step (its modification time moved by the
 * progress callback): the steps of the window already gathered (40 here)
 * run, then the next sweep's read fails with a status naming the change; no
 * model is kept. A damaged chunk is found by the first pass. */
static int g_calls;
static int touch_first_step(void *user, int64_t run, int64_t iteration, double inertia)
{
    g_calls++;
    return touch_file(user, run, iteration, inertia);
}

static void test_h5_minibatch_read_errors(void)
{
    gen_data g;
    gen_blobs(&g, 53, STRATA_FLOAT64, N, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("in.h5");
    write_h5(path, &g, H5T_IEEE_F64LE, 2048, 1);
    g_touch_path = path;
    fit_opts o = {.threads = 2, .init = STRATA_INIT_KMEANSPP, .algorithm = STRATA_ALGO_MINIBATCH,
                  .max_iter = 2, .batch_size = 100, .block_rows = 4096};
    strata_kmeans *km = make_handle(&o);
    ASSERT_EQ_INT(strata_kmeans_set_progress(km, touch_first_step, NULL), STRATA_OK);
    g_calls = 0;
    int rc = strata_kmeans_fit_h5(km, path, "/x");
    ASSERT_MSG(rc == STRATA_E_IO && strstr(strata_kmeans_last_error(km),
                                           "changed while the fit streamed it"),
               "%d: %s", rc, strata_kmeans_last_error(km));
    ASSERT_EQ_INT(g_calls, 40);
    double c[K * D];
    ASSERT_EQ_INT(strata_kmeans_centroids(km, c, K, D), STRATA_E_STATE);
    strata_kmeans_free(km);
    /* a damaged compressed chunk */
    FILE *fp = fopen(path, "r+b");
    ASSERT_TRUE(fp != NULL);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    char junk[4096];
    memset(junk, 0x5A, sizeof junk);
    fseek(fp, size / 2, SEEK_SET);
    fwrite(junk, 1, sizeof junk, fp);
    fclose(fp);
    fit_out r;
    fit_file(path, N, &o, &r);
    ASSERT_MSG(r.status == STRATA_E_IO_FORMAT && strstr(r.msg, "cannot read rows"), "%d: %s",
               r.status, r.msg);
    gen_free(&g);
    unlink(path);
}

int main(void)
{
    if (tmpdir_make("strata_stream"))
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN_TEST(test_memory_stream_matches);
    RUN_TEST(test_memory_stream_seedings);
    RUN_TEST(test_memory_stream_bounded_fallback);
    RUN_TEST(test_memory_stream_n_init);
    RUN_TEST(test_memory_stream_widened);
    RUN_TEST(test_stream_nonfinite);
    RUN_TEST(test_h5_stream_matches);
    RUN_TEST(test_h5_corrupt_mid_stream);
    RUN_TEST(test_h5_changed_mid_fit);
    RUN_TEST(test_h5_changed_during_seeding);
    RUN_TEST(test_h5_budget_errors);
    RUN_TEST(test_memory_stream_minibatch);
    RUN_TEST(test_h5_minibatch);
    RUN_TEST(test_h5_minibatch_read_errors);
    rmdir(g_dir);
    return test_summary();
}
