/* k-means from a frame's layouts in a file, streamed (issue 13):
 * strata_kmeans_fit_h5_columns() and _table() give bitwise the labels,
 * centroids and inertia of the frame path (strata_frame_read_* then
 * strata_kmeans_fit_frame(), the reference) for columns of different types
 * (float32, int32, int64, uint16 converted to float64), chunkings (with
 * gzip, and contiguous), block sizes and thread counts, and keep the
 * names and keys; bad inputs give the frame reader's statuses and
 * messages. Files are written here with libhdf5 directly. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tmpdir.h"

#define N 20011 /* not a multiple of any chunk or block */
#define K 5
#define D 4

/* Column j of row i: clustered values of each column's type. */
static double value(int64_t i, int j)
{
    const int64_t c = (i * 7919) % K;
    const double noise = (double)((i * 2654435761u) % 1000) / 1000.0;
    switch (j) {
    case 0: return (double)(float)(10.0 * (double)c + noise); /* float32 */
    case 1: return (double)(int32_t)(100 * c + (i % 13));      /* int32 */
    case 2: return 3.0 * (double)c - noise;                     /* float64 */
    default: return (double)(uint16_t)(50 * c + (i % 7));        /* uint16 */
    }
}

static const char *const NAMES[D] = {"a", "b", "c", "d"};

/* A 1-D dataset of n values of file type ft (memory: double, converted by
 * HDF5), chunk rows 0 = contiguous. */
static void write_column(hid_t f, const char *name, hid_t ft, int64_t n, int64_t chunk, int gz,
                         const double *v)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk > 0) {
        hsize_t ch[1] = {(hsize_t)chunk};
        H5Pset_chunk(dcpl, 1, ch);
        if (gz)
            H5Pset_deflate(dcpl, 4);
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(f, name, ft, sp, lcpl, dcpl, H5P_DEFAULT);
    ASSERT_TRUE(ds >= 0);
    ASSERT_TRUE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(ds);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

/* The file: /cols/{a,b,c,d,customer_id} of different types and chunkings,
 * and /tab, a compound table of the same columns (gzip, 1500-row chunks).
 * bad_row >= 0: feature c is NaN there. */
static void write_file(const char *path, int64_t bad_row)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_TRUE(f >= 0);
    double *v = malloc((size_t)N * sizeof *v);
    static const int64_t chunks[D] = {1000, 3000, 0, 7777};
    const hid_t types[D] = {H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_IEEE_F64LE, H5T_STD_U16LE};
    for (int j = 0; j < D; j++) {
        for (int64_t i = 0; i < N; i++)
            v[i] = value(i, j);
        if (j == 2 && bad_row >= 0)
            v[bad_row] = NAN;
        char name[32];
        snprintf(name, sizeof name, "/cols/%s", NAMES[j]);
        write_column(f, name, types[j], N, chunks[j], j != 1, v);
    }
    for (int64_t i = 0; i < N; i++)
        v[i] = (double)(1000000 + 3 * i);
    write_column(f, "/cols/customer_id", H5T_STD_I64LE, N, 5000, 1, v);
    /* the compound table */
    typedef struct rec {
        int64_t id;
        float a;
        int32_t b;
        double c;
        uint16_t d;
    } rec;
    rec *r = malloc((size_t)N * sizeof *r);
    for (int64_t i = 0; i < N; i++)
        r[i] = (rec){1000000 + 3 * i, (float)value(i, 0), (int32_t)value(i, 1),
                     i == bad_row ? NAN : value(i, 2), (uint16_t)value(i, 3)};
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(rec));
    H5Tinsert(mt, "customer_id", HOFFSET(rec, id), H5T_NATIVE_INT64);
    H5Tinsert(mt, "a", HOFFSET(rec, a), H5T_NATIVE_FLOAT);
    H5Tinsert(mt, "b", HOFFSET(rec, b), H5T_NATIVE_INT32);
    H5Tinsert(mt, "c", HOFFSET(rec, c), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "d", HOFFSET(rec, d), H5T_NATIVE_UINT16);
    hsize_t dims[1] = {N}, ch[1] = {1500};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, ch);
    H5Pset_deflate(dcpl, 4);
    hid_t ds = H5Dcreate2(f, "/tab", mt, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_TRUE(ds >= 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(mt);
    /* a string column and a short column beside the features */
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    hsize_t sd[1] = {N};
    sp = H5Screate_simple(1, sd, NULL);
    ds = H5Dcreate2(f, "/cols/name", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char *text = calloc(N, 4);
    H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
    free(text);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(st);
    write_column(f, "/cols/short", H5T_IEEE_F64LE, N - 1, 0, 0, v);
    H5Fclose(f);
    free(v);
    free(r);
}

typedef struct fit_out {
    int status;
    double c[K * D], inertia;
    int64_t n_iter, streamed;
    int32_t *labels;
    char msg[512];
} fit_out;

static strata_kmeans *handle(int64_t threads, int64_t block_rows, int64_t memory)
{
    strata_kmeans *km = NULL;
    ASSERT_EQ_INT(strata_kmeans_create(&km), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_K, K), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 3), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, 20), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_THREADS, threads), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, block_rows), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_set_int(km, STRATA_KMEANS_MEMORY, memory), STRATA_OK);
    return km;
}

static void collect(strata_kmeans *km, int status, fit_out *r)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    snprintf(r->msg, sizeof r->msg, "%s", strata_kmeans_last_error(km));
    if (status == STRATA_OK) {
        r->labels = malloc(N * sizeof(int32_t));
        ASSERT_EQ_INT(strata_kmeans_centroids(km, r->c, K, D), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_labels(km, r->labels, N), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia),
                      STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter), STRATA_OK);
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &r->streamed),
                      STRATA_OK);
        for (int j = 0; j < D; j++)
            ASSERT_MSG(strata_kmeans_feature_name(km, j) &&
                       !strcmp(strata_kmeans_feature_name(km, j), NAMES[j]), "name %d", j);
        ASSERT_TRUE(strata_kmeans_feature_name(km, D) == NULL);
        ASSERT_TRUE(strata_kmeans_key_name(km) && !strcmp(strata_kmeans_key_name(km),
                                                          "customer_id"));
    }
}

static void same(const fit_out *a, const fit_out *b, const char *what)
{
    ASSERT_MSG(a->status == STRATA_OK && b->status == STRATA_OK, "%s: %d (%s) / %d (%s)", what,
               a->status, a->msg, b->status, b->msg);
    ASSERT_MSG(memcmp(a->c, b->c, sizeof a->c) == 0, "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof(double)) == 0, "%s: inertia %.17g / %.17g",
               what, a->inertia, b->inertia);
    ASSERT_MSG(a->n_iter == b->n_iter, "%s: n_iter", what);
    ASSERT_MSG(memcmp(a->labels, b->labels, N * sizeof(int32_t)) == 0, "%s: labels", what);
}

static const char *const COLS[D] = {"/cols/a", "/cols/b", "/cols/c", "/cols/d"};

/* The reference: today's frame path. */
static void fit_frame(const char *path, int table, fit_out *r)
{
    strata_frame *f = NULL;
    ASSERT_EQ_INT(table ? strata_frame_read_table(&f, path, "/tab", NULL, 0, NULL)
                        : strata_frame_read_columns(&f, path, COLS, D, NULL),
                  STRATA_OK);
    strata_kmeans *km = handle(1, 0, 0);
    collect(km, strata_kmeans_fit_frame(km, f, NULL), r);
    strata_kmeans_free(km);
    strata_frame_free(f);
}

static int fit_stream(strata_kmeans *km, const char *path, int table)
{
    return table ? strata_kmeans_fit_h5_table(km, path, "/tab", NULL, 0, NULL)
                 : strata_kmeans_fit_h5_columns(km, path, COLS, D, NULL);
}

static void test_streamed_matches_frame(void)
{
    const char *path = path_of("t.h5");
    write_file(path, -1);
    static const int64_t blocks[] = {4096, 8192, 3 * 4096, 1 << 20};
    for (int table = 0; table <= 1; table++) {
        fit_out ref, got;
        fit_frame(path, table, &ref);
        ASSERT_EQ_INT(ref.streamed, 0);
        /* no budget: loaded, the frame path itself */
        strata_kmeans *km = handle(2, 0, 0);
        collect(km, fit_stream(km, path, table), &got);
        same(&ref, &got, table ? "table loaded" : "columns loaded");
        ASSERT_EQ_INT(got.streamed, 0);
        strata_kmeans_free(km);
        free(got.labels);
        for (int bi = 0; bi < 4; bi++)
            for (int64_t th = 1; th <= 2; th++) {
                km = handle(th, blocks[bi], 0);
                collect(km, fit_stream(km, path, table), &got);
                char what[96];
                snprintf(what, sizeof what, "%s block %lld threads %lld",
                         table ? "table" : "columns", (long long)blocks[bi], (long long)th);
                same(&ref, &got, what);
                ASSERT_EQ_INT(got.streamed, 1);
                strata_kmeans_free(km);
                free(got.labels);
            }
        free(ref.labels);
    }
    unlink(path);
}

/* Write the model of a streamed fit and of the frame path: the same
 * datasets, names and keys. */
static void test_streamed_output(void)
{
    const char *path = path_of("t.h5"), *o1 = path_of("o1.h5"), *o2 = path_of("o2.h5");
    write_file(path, -1);
    strata_frame *f = NULL;
    ASSERT_EQ_INT(strata_frame_read_columns(&f, path, COLS, D, NULL), STRATA_OK);
    strata_kmeans *a = handle(1, 0, 0), *b = handle(1, 4096, 0);
    ASSERT_EQ_INT(strata_kmeans_fit_frame(a, f, NULL), STRATA_OK);
    ASSERT_EQ_INT(fit_stream(b, path, 0), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_write_h5(a, o1, "s", 0), STRATA_OK);
    ASSERT_EQ_INT(strata_kmeans_write_h5(b, o2, "s", 0), STRATA_OK);
    /* the input is protected: never replaced by the model */
    ASSERT_EQ_INT(strata_kmeans_write_h5(b, path, "s", STRATA_WRITE_FORCE), STRATA_E_IO_WRITE);
    ASSERT_MSG(strstr(strata_kmeans_last_error(b), "fitted from"), "%s",
               strata_kmeans_last_error(b));
    hid_t h1 = H5Fopen(o1, H5F_ACC_RDONLY, H5P_DEFAULT), h2 = H5Fopen(o2, H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_TRUE(h1 >= 0 && h2 >= 0);
    int64_t *k1 = malloc(N * sizeof *k1), *k2 = malloc(N * sizeof *k2);
    hid_t d1 = H5Dopen2(h1, "/customer_id", H5P_DEFAULT), d2 = H5Dopen2(h2, "/customer_id", H5P_DEFAULT);
    ASSERT_TRUE(H5Dread(d1, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, k1) >= 0);
    ASSERT_TRUE(H5Dread(d2, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, k2) >= 0);
    ASSERT_TRUE(memcmp(k1, k2, N * sizeof *k1) == 0);
    ASSERT_EQ_INT(k2[N - 1], 1000000 + 3 * (N - 1));
    ASSERT_TRUE(H5Lexists(h2, "/feature_names", H5P_DEFAULT) > 0);
    H5Dclose(d1);
    H5Dclose(d2);
    H5Fclose(h1);
    H5Fclose(h2);
    free(k1);
    free(k2);
    strata_kmeans_free(a);
    strata_kmeans_free(b);
    strata_frame_free(f);
    unlink(o1);
    unlink(o2);
    unlink(path);
}

/* The status and message of the frame reader, and of a streamed fit. */
static void expect_same_error(const char *path, const char *const *cols, int64_t d,
                              const char *table, const char *key, int status, const char *part)
{
    strata_frame *f = NULL;
    int st = table ? strata_frame_read_table(&f, path, table, cols, d, key)
                   : strata_frame_read_columns(&f, path, cols, d, key);
    char frame_msg[512];
    snprintf(frame_msg, sizeof frame_msg, "%s", strata_last_error());
    ASSERT_MSG(st == status && strstr(frame_msg, part), "%s: frame: %d %s", part, st, frame_msg);
    for (int64_t block = 0; block <= 4096; block += 4096) {
        strata_kmeans *km = handle(2, block, 0);
        st = table ? strata_kmeans_fit_h5_table(km, path, table, cols, d, key)
                   : strata_kmeans_fit_h5_columns(km, path, cols, d, key);
        ASSERT_MSG(st == status && !strcmp(strata_kmeans_last_error(km), frame_msg),
                   "block %lld: %d '%s' vs '%s'", (long long)block, st,
                   strata_kmeans_last_error(km), frame_msg);
        /* no model came of it */
        int64_t n;
        ASSERT_EQ_INT(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &n), STRATA_E_STATE);
        strata_kmeans_free(km);
    }
}

static void test_bad_inputs(void)
{
    const char *path = path_of("t.h5");
    write_file(path, -1);
    const char *missing[] = {"/cols/a", "/cols/nope"};
    expect_same_error(path, missing, 2, NULL, NULL, STRATA_E_IO_DATASET, "/cols/nope");
    const char *shorter[] = {"/cols/a", "/cols/short"};
    expect_same_error(path, shorter, 2, NULL, "", STRATA_E_IO_TYPE, "different lengths");
    const char *strings[] = {"/cols/a", "/cols/name"};
    expect_same_error(path, strings, 2, NULL, NULL, STRATA_E_IO_TYPE, "string");
    const char *nofield[] = {"a", "zz"};
    expect_same_error(path, nofield, 2, "/tab", NULL, STRATA_E_IO_DATASET, "zz");
    const char *dup[] = {"/cols/a", "/cols/a"};
    expect_same_error(path, dup, 2, NULL, NULL, STRATA_E_ARG, "appears twice");
    const char *with_key[] = {"/cols/a", "/cols/c"};
    expect_same_error(path, with_key, 2, NULL, "/cols/b", STRATA_E_ARG, "key 'b' repeats");
    expect_same_error(path, with_key, 2, NULL, "/cols/none", STRATA_E_IO_DATASET, "none");
    unlink(path);
    /* NaN in row r (past the first blocks): the frame's message names the
     * feature and the row, streamed or not */
    for (int64_t bad = 0; bad + 9001 < N; bad += 10000) {
        write_file(path, bad + 9001);
        char row[64];
        snprintf(row, sizeof row, "feature 'c' is NaN in row %lld", (long long)(bad + 9001));
        expect_same_error(path, COLS, D, NULL, NULL, STRATA_E_NONFINITE, row);
        expect_same_error(path, NULL, 0, "/tab", NULL, STRATA_E_NONFINITE, row);
        unlink(path);
    }
    /* arguments */
    strata_kmeans *km = handle(1, 0, 0);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_columns(km, NULL, COLS, D, NULL), STRATA_E_NULL);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_columns(km, path, COLS, 0, NULL), STRATA_E_ARG);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_table(km, path, "/tab", NULL, 2, NULL), STRATA_E_ARG);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_table(km, path, NULL, NULL, 0, NULL), STRATA_E_NULL);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_columns(NULL, path, COLS, D, NULL), STRATA_E_NULL);
    ASSERT_EQ_INT(strata_kmeans_fit_h5_columns(km, "/nonexistent/x.h5", COLS, D, NULL),
                  STRATA_E_IO_OPEN);
    ASSERT_TRUE(strata_kmeans_feature_name(km, 0) == NULL && strata_kmeans_key_name(km) == NULL);
    ASSERT_TRUE(strata_kmeans_feature_name(NULL, 0) == NULL);
    strata_kmeans_free(km);
}

/* The file rewritten in place while the fit streams it: a clean error. */
static const char *g_touch;
static int touch(void *user, int64_t run, int64_t iteration, double inertia)
{
    (void)user;
    (void)run;
    (void)inertia;
    struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000 + iteration, 0}};
    utimensat(AT_FDCWD, g_touch, t, 0);
    return 0;
}

static void test_changed_mid_fit(void)
{
    const char *path = path_of("t.h5");
    for (int table = 0; table <= 1; table++) {
        write_file(path, -1);
        g_touch = path;
        strata_kmeans *km = handle(1, 4096, 0);
        ASSERT_EQ_INT(strata_kmeans_set_progress(km, touch, NULL), STRATA_OK);
        int st = fit_stream(km, path, table);
        ASSERT_MSG(st == STRATA_E_IO && strstr(strata_kmeans_last_error(km),
                                               "changed while the fit streamed it"),
                   "%d: %s", st, strata_kmeans_last_error(km));
        strata_kmeans_free(km);
        unlink(path);
    }
}

int main(void)
{
    if (tmpdir_make("strata_table_stream"))
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN_TEST(test_streamed_matches_frame);
    RUN_TEST(test_streamed_output);
    RUN_TEST(test_bad_inputs);
    RUN_TEST(test_changed_mid_fit);
    rmdir(g_dir);
    return test_summary();
}
