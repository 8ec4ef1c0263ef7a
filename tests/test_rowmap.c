/* The plain-rows paths of the HDF5 row source (lib/io/h5_read.c, "Plain
 * rows"): a dataset of plain little-endian IEEE floats of the fit's type,
 * unfiltered (or every chunk stored raw, its filters skipped: libstrata's
 * own writer), contiguous or chunked in whole rows, is streamed with pread()
 * straight from the file (the direct path, the default) or as views of the
 * file mapped into memory (STRATA_STREAM_READ=mmap); every other one is read
 * through HDF5 (as is every one with STRATA_STREAM_READ=hdf5). White-box:
 * like test_colsrc this program links the static library, to count the reads
 * served directly and the blocks served from a mapping
 * (strata__h5_rows_direct_reads, strata__h5_rows_mapped_blocks).
 *
 * Checked: a streamed fit of the file gives bitwise the labels, centroids and
 * inertia of the in-memory fit of the same values on all three paths, for
 * several block sizes, 1 and 2 threads, contiguous and chunked files (chunk
 * rows not a multiple of 4096, a last partial chunk, chunks written in
 * reverse so they are not adjacent in the file: runs that split a work
 * chunk), float32 and float64; each path is taken exactly where it should be
 * (gzip, big-endian, integer files and chunks of part of a row go through
 * HDF5); Lloyd's passes keep rows unscored by the half test (kmeans/near.c)
 * on every path (strata__near_kept_rows); a file truncated mid-fit, mid-pass or before the fit fails with a
 * status naming it, no SIGBUS. Files are written here with libhdf5
 * directly. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ref.h"
#include "test.h"
#include "tmpdir.h"
#include "core/rowsrc.h"
#include "io/h5.h"
#include "kmeans/near.h"

#define D 5
#define K 6

typedef struct fit_out {
    int status;
    double c[K * D];
    double inertia;
    int64_t n_iter, streamed;
    int32_t *labels;
    char msg[512];
} fit_out;

/* Given centroids (NULL: k-means++). */
static const double *g_init;

static strata_kmeans *make_handle(int64_t threads, int64_t block_rows, int64_t max_iter)
{
    strata_kmeans *km = NULL;
    ASSERT_OK(strata_kmeans_create(&km));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_K, K));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 11));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter));
    ASSERT_OK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
    if (g_init)
        ASSERT_OK(strata_kmeans_set_init_centroids(km, g_init, K, D));
    else
        ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_INIT, STRATA_INIT_KMEANSPP));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    ASSERT_OK(strata_kmeans_set_int(km, STRATA_KMEANS_BLOCK_ROWS, block_rows));
    return km;
}

static void collect(strata_kmeans *km, int status, int64_t n, fit_out *r)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    snprintf(r->msg, sizeof r->msg, "%s", strata_kmeans_last_error(km));
    if (status == STRATA_OK) {
        r->labels = test_alloc((size_t)n, sizeof(int32_t));
        ASSERT_OK(strata_kmeans_centroids(km, r->c, K, D));
        ASSERT_OK(strata_kmeans_labels(km, r->labels, n));
        ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia));
        ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter));
        ASSERT_OK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &r->streamed));
    }
    strata_kmeans_free(km);
}

static void assert_same(const fit_out *a, const fit_out *b, int64_t n, const char *what)
{
    ASSERT_MSG(a->status == STRATA_OK && b->status == STRATA_OK, "%s: %d (%s) / %d (%s)", what,
               a->status, a->msg, b->status, b->msg);
    if (a->status || b->status)
        return;
    ASSERT_MSG(memcmp(a->c, b->c, sizeof a->c) == 0, "%s: centroids differ", what);
    ASSERT_MSG(memcmp(&a->inertia, &b->inertia, sizeof(double)) == 0,
               "%s: inertia %.17g vs %.17g", what, a->inertia, b->inertia);
    ASSERT_MSG(a->n_iter == b->n_iter, "%s: n_iter", what);
    ASSERT_MSG(memcmp(a->labels, b->labels, (size_t)n * sizeof(int32_t)) == 0,
               "%s: labels differ", what);
}

/* A file /x of g's rows as file_type: chunk_rows 0 = contiguous, else
 * chunked (gzip when gz), the chunks written last to first when `reverse`
 * (and no chunk cache, so each is placed as it is written: their order in
 * the file is the reverse of their rows'). */
static int64_t g_chunk_cols; /* columns of a chunk (0: all, whole rows) */

/* gz: 1 = gzip by HDF5; 2 = written by libstrata (strata_h5_write_matrix:
 * chunked, shuffle + gzip declared, and chunks of rows that gzip cannot
 * shrink stored raw, filter mask 3; file_type and chunk_rows unused). */
static void write_h5(const char *path, const gen_data *g, hid_t file_type, int64_t chunk_rows,
                     int gz, int reverse)
{
    if (gz == 2) {
        ASSERT_OK(strata_h5_write_matrix(path, "/x", g->dtype, g->x, g->n, g->d,
                                         STRATA_WRITE_FORCE));
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "/x", H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(ds), space = H5Dget_space(ds);
        hsize_t nchunks = 0;
        ASSERT_TRUE(H5Pget_nfilters(dcpl) == 2 && H5Dget_num_chunks(ds, space, &nchunks) >= 0);
        ASSERT_MSG(nchunks >= 2, "%llu chunks", (unsigned long long)nchunks);
        for (hsize_t c = 0; c < nchunks; c++) { /* the premise: all raw */
            unsigned mask = 0;
            haddr_t at;
            hsize_t size;
            ASSERT_TRUE(H5Dget_chunk_info(ds, space, c, NULL, &mask, &at, &size) >= 0);
            ASSERT_MSG(mask == 3, "chunk %llu: filter mask %u", (unsigned long long)c, mask);
        }
        H5Sclose(space);
        H5Pclose(dcpl);
        H5Dclose(ds);
        H5Fclose(f);
        return;
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_TRUE(f >= 0);
    hsize_t dims[2] = {(hsize_t)g->n, (hsize_t)g->d};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (chunk_rows > 0) {
        hsize_t ch[2] = {(hsize_t)chunk_rows, (hsize_t)(g_chunk_cols ? g_chunk_cols : g->d)};
        H5Pset_chunk(dcpl, 2, ch);
        if (gz)
            H5Pset_deflate(dcpl, 1);
        H5Pset_chunk_cache(dapl, 0, 0, 1.0);
    }
    hid_t ds = H5Dcreate2(f, "/x", file_type, sp, H5P_DEFAULT, dcpl, dapl);
    ASSERT_TRUE(ds >= 0);
    hid_t mt = g->dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    const size_t es = g->dtype == STRATA_FLOAT32 ? 4 : 8;
    const int64_t step = chunk_rows > 0 ? chunk_rows : g->n;
    const int64_t nparts = (g->n + step - 1) / step;
    for (int64_t p = 0; p < nparts; p++) {
        const int64_t c = reverse ? nparts - 1 - p : p;
        hsize_t start[2] = {(hsize_t)(c * step), 0};
        hsize_t count[2] = {(hsize_t)(c == nparts - 1 ? g->n - c * step : step), (hsize_t)g->d};
        hid_t fsp = H5Dget_space(ds);
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
        hid_t msp = H5Screate_simple(2, count, NULL);
        ASSERT_TRUE(H5Dwrite(ds, mt, msp, fsp, H5P_DEFAULT,
                             (const char *)g->x + (size_t)(c * step * g->d) * es) >= 0);
        H5Sclose(msp);
        H5Sclose(fsp);
    }
    if (reverse && chunk_rows > 0) { /* the premise: chunk 0 lies after chunk 1 */
        hsize_t c0[2] = {0, 0}, c1[2] = {(hsize_t)chunk_rows, 0}, size;
        haddr_t a0, a1;
        unsigned mask;
        ASSERT_TRUE(H5Dget_chunk_info_by_coord(ds, c0, &mask, &a0, &size) >= 0);
        ASSERT_TRUE(H5Dget_chunk_info_by_coord(ds, c1, &mask, &a1, &size) >= 0);
        ASSERT_MSG(a0 > a1, "chunks not reversed in the file: %llu, %llu",
                   (unsigned long long)a0, (unsigned long long)a1);
    }
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Pclose(dapl);
    H5Sclose(sp);
    H5Fclose(f);
}

/* The read paths: through HDF5, direct (the default: no setting), mapped. */
enum { PATH_HDF5, PATH_DIRECT, PATH_MAPPED, PATHS };
static const char *const path_name[PATHS] = {"hdf5", "direct", "mapped"};

static void path_set(int p)
{
    if (p == PATH_DIRECT)
        unsetenv("STRATA_STREAM_READ");
    else
        setenv("STRATA_STREAM_READ", p == PATH_HDF5 ? "hdf5" : "mmap", 1);
}

/* Reads served by the path p's own means since `before` (direct reads or
 * mapped blocks; 0 for HDF5). */
static int64_t path_count(int p)
{
    return p == PATH_DIRECT ? strata__h5_rows_direct_reads()
           : p == PATH_MAPPED ? strata__h5_rows_mapped_blocks() : 0;
}

/* A fit of path:/x on read path p; *served receives the reads served by
 * that path's own means (path_count), *other those of the other one. */
static int64_t g_chunk_passes, g_side_passes; /* of the last fit_file() */

static void fit_file(const char *path, int64_t n, int p, int64_t threads, int64_t block_rows,
                     int64_t max_iter, fit_out *r, int64_t *served, int64_t *other)
{
    path_set(p);
    const int64_t d0 = strata__h5_rows_direct_reads(), m0 = strata__h5_rows_mapped_blocks();
    const int64_t c0 = strata__rowsrc_chunk_read_passes(), s0 = strata__rowsrc_side_read_passes();
    strata_kmeans *km = make_handle(threads, block_rows, max_iter);
    collect(km, strata_kmeans_fit_h5(km, path, "/x"), n, r);
    const int64_t dd = strata__h5_rows_direct_reads() - d0, dm = strata__h5_rows_mapped_blocks() - m0;
    *served = p == PATH_DIRECT ? dd : p == PATH_MAPPED ? dm : dd + dm;
    *other = p == PATH_DIRECT ? dm : p == PATH_MAPPED ? dd : 0;
    g_chunk_passes = strata__rowsrc_chunk_read_passes() - c0;
    g_side_passes = strata__rowsrc_side_read_passes() - s0;
    unsetenv("STRATA_STREAM_READ");
}

typedef struct file_case {
    const char *what;
    int dtype;      /* of the data (and of the fit) */
    hid_t type;     /* in the file */
    int64_t n, chunk;
    int gz, reverse;
    int mapped;     /* the mapped path is expected (1), not (0), either (-1) */
    int direct;     /* the direct path is expected (1), not (0), either (-1) */
    int64_t blocks[3];
} file_case;

static void test_mapped_matches_memory(void)
{
    const file_case cases[] = {
        {"f32 contiguous", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 0, 0, 0, 1, 1, {4096, 12288, 0}},
        {"f64 contiguous", STRATA_FLOAT64, H5T_IEEE_F64LE, 30011, 0, 0, 0, 1, 1, {8192, 0, 0}},
        /* chunks of 1000 rows, adjacent: one run; last chunk partial */
        {"f32 chunks 1000", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 1000, 0, 0, 1, 1,
         {4096, 12288, 0}},
        {"f64 chunks 1000", STRATA_FLOAT64, H5T_IEEE_F64LE, 30011, 1000, 0, 0, 1, 1, {8192, 0, 0}},
        /* chunks of 100000 rows in reverse file order: runs meeting inside
         * a work chunk (stitched), blocks of one run and of two */
        {"f32 chunks 100000 reversed", STRATA_FLOAT32, H5T_IEEE_F32LE, 230011, 100000, 0, 1, 1, 1,
         {122880, 32768, 4096 * 57}},
        {"f64 chunks 100000 reversed", STRATA_FLOAT64, H5T_IEEE_F64LE, 230011, 100000, 0, 1, 1, 1,
         {122880, 0, 0}},
        /* short runs (1000 rows, reversed): no block mapped (read through
         * HDF5 instead), but read directly run by run */
        {"f32 chunks 1000 reversed", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 1000, 0, 1, 0, 1,
         {8192, 0, 0}},
        /* chunks of 2 of the 5 columns (not whole rows): read */
        {"f32 chunks 1000 x 2", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 1000, 0, 0, 0, 0,
         {8192, 0, 0}},
        /* not the fit's bytes: read */
        {"f32 gzip", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 1000, 1, 0, 0, 0, {8192, 0, 0}},
        /* gzip declared, every chunk stored raw (libstrata's own writer):
         * the plain bytes, read directly */
        {"f32 by libstrata, raw chunks", STRATA_FLOAT32, H5T_IEEE_F32LE, 120011, 0, 2, 0, -1, 1,
         {32768, 0, 0}},
        {"f64 by libstrata, raw chunks", STRATA_FLOAT64, H5T_IEEE_F64LE, 70011, 0, 2, 0, -1, 1,
         {16384, 0, 0}},
        {"f32 big-endian", STRATA_FLOAT32, H5T_IEEE_F32BE, 30011, 0, 0, 0, 0, 0, {8192, 0, 0}},
        {"f64 from int32", STRATA_FLOAT64, H5T_STD_I32LE, 30011, 0, 0, 0, 0, 0, {8192, 0, 0}},
        /* float32 values too spread for float32 distances: the fit asks
         * for float64 rows, which a float32 mapping cannot serve (read);
         * its float32 passes before are mapped */
        {"f32 widened", STRATA_FLOAT32, H5T_IEEE_F32LE, 30011, 0, 0, 0, -1, -1, {8192, 0, 0}},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const file_case *fc = &cases[ci];
        const int integer = fc->type == H5T_STD_I32LE;
        gen_data g;
        gen_blobs(&g, 300 + ci, fc->dtype, fc->n, D, D, K, integer ? 500.0 : 10.0,
                  integer ? 30.0 : 1.5, 0.0, 0);
        if (integer)
            for (int64_t i = 0; i < g.n * D; i++)
                ((double *)g.x)[i] = round(((double *)g.x)[i]);
        if (g.n > 110000) /* an outlier inside the second run of the first block of
                           * 122880 rows: the far cluster's relocation must find it */
            for (int64_t f = 0; f < D; f++)
                gen_set(&g, 110000, f, 60.0);
        if (fc->mapped < 0)
            for (int64_t i = 0; i < g.n * D; i++)
                ((float *)g.x)[i] *= 1e18f;
        const char *path = path_of("in.h5");
        g_chunk_cols = strstr(fc->what, " x 2") ? 2 : 0;
        write_h5(path, &g, fc->type, fc->chunk, fc->gz, fc->reverse);
        g_chunk_cols = 0;
        const int64_t max_iter = 6;
        /* k-means++; then given centroids of which the last lies far from
         * every row: its cluster empties and the relocation walks all rows */
        double far[K * D];
        test_rng rng;
        rng_seed(&rng, 5);
        gen_pick_rows(&g, &rng, K, far);
        for (int64_t f = 0; f < D; f++)
            far[(K - 1) * D + f] = 1e4;
        for (int ii = 0; ii < 2; ii++) {
            g_init = ii ? far : NULL;
            fit_out ref;
            strata_kmeans *km = make_handle(1, 0, max_iter);
            collect(km, strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, g.stride, NULL), g.n, &ref);
            ASSERT_MSG(ref.status == STRATA_OK && ref.streamed == 0, "%s: %s", fc->what, ref.msg);
            for (int bi = 0; bi < (ii ? 1 : 3) && fc->blocks[bi]; bi++)
                for (int64_t th = 1; th <= 2; th++)
                    for (int p = 0; p < PATHS; p++) {
                        fit_out got;
                        int64_t served, other;
                        const int64_t kept0 = strata__near_kept_rows();
                        fit_file(path, g.n, p, th, fc->blocks[bi], max_iter, &got, &served,
                                 &other);
                        char what[200];
                        snprintf(what, sizeof what, "%s, %s, block %lld, %lld threads, %s path",
                                 fc->what, ii ? "far centroids" : "k-means++",
                                 (long long)fc->blocks[bi], (long long)th, path_name[p]);
                        assert_same(&ref, &got, g.n, what);
                        ASSERT_MSG(got.streamed == 1, "%s: not streamed", what);
                        /* Lloyd's passes tested rows against their previous
                         * centroids (kmeans/near.c) on every path */
                        ASSERT_MSG(strata__near_kept_rows() > kept0, "%s: no row kept unscored",
                                   what);
                        const int want = p == PATH_DIRECT ? fc->direct
                                         : p == PATH_MAPPED ? fc->mapped : 0;
                        if (want > 0)
                            ASSERT_MSG(served > 0, "%s: nothing read on that path", what);
                        else if (want == 0)
                            ASSERT_MSG(served == 0, "%s: %lld reads on the %s path", what,
                                       (long long)served, path_name[p]);
                        ASSERT_MSG(other == 0, "%s: %lld reads on the other path", what,
                                   (long long)other);
                        /* read directly: each thread reads its own chunks where a block
                         * holds one for every thread, else the next block is read as
                         * side work; neither on the other paths */
                        const int direct = p == PATH_DIRECT && fc->direct > 0;
                        const int by_chunk = th * 4096 <= fc->blocks[bi];
                        ASSERT_MSG(fc->direct < 0 || /* widened: some of each */
                                       ((g_chunk_passes > 0) == (direct && by_chunk) &&
                                        (g_side_passes > 0) == (direct && !by_chunk)),
                                   "%s: %lld passes by chunk reads, %lld by side reads", what,
                                   (long long)g_chunk_passes, (long long)g_side_passes);
                        free(got.labels);
                    }
            free(ref.labels);
        }
        g_init = NULL;
        gen_free(&g);
        unlink(path);
    }
}

/* ---- truncation ------------------------------------------------------------ */

static const char *g_path;
static off_t g_cut;

/* After the first iteration (between passes). */
static int cut_after_iter(void *user, int64_t run, int64_t iteration, double inertia)
{
    (void)user;
    (void)run;
    (void)inertia;
    if (iteration == 1)
        ASSERT_TRUE(truncate(g_path, g_cut) == 0);
    return 0;
}

/* Mid-pass: before the third block of a pass of the iterations (the block
 * after it is already paged in by then). */
static int g_iter_started;
static int cut_mid_pass(void *user, int step, int64_t run, int64_t done, int64_t total,
                        double value)
{
    (void)user;
    (void)run;
    (void)total;
    (void)value;
    if (step == STRATA_STEP_ITERATE)
        g_iter_started = 1;
    if (step == STRATA_STEP_READ && g_iter_started == 1 && done == 2 * 4096) {
        ASSERT_TRUE(truncate(g_path, g_cut) == 0);
        g_iter_started = 2;
    }
    return 0;
}

static void test_truncated(void)
{
    gen_data g;
    gen_blobs(&g, 401, STRATA_FLOAT32, 30011, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("cut.h5");
    g_path = path;
    const int64_t chunks[] = {0, 1000};
    /* 2 threads: blocks of 4096 rows are read as side work, of 8192 by chunk */
    const int64_t blocks[] = {4096, 8192};
    for (int ci = 0; ci < 2; ci++)
        for (int p = 0; p < PATHS; p++)
            for (int how = 0; how < 3; how++)
                for (int bi = 0; bi < 2; bi++) {
                    write_h5(path, &g, H5T_IEEE_F32LE, chunks[ci], 0, 0);
                    struct stat st;
                    ASSERT_TRUE(stat(path, &st) == 0);
                    g_cut = st.st_size / 2;
                    path_set(p);
                    const int64_t before = path_count(p);
                    const int64_t c0 = strata__rowsrc_chunk_read_passes();
                    const int64_t s0 = strata__rowsrc_side_read_passes();
                    strata_kmeans *km = make_handle(2, blocks[bi], 5);
                    if (how == 0)
                        ASSERT_OK(strata_kmeans_set_progress(km, cut_after_iter, NULL));
                    else if (how == 1) {
                        g_iter_started = 0;
                        ASSERT_OK(strata_kmeans_set_step_progress(km, cut_mid_pass, NULL));
                    } else
                        ASSERT_TRUE(truncate(path, g_cut) == 0); /* before the fit */
                    fit_out r;
                    collect(km, strata_kmeans_fit_h5(km, path, "/x"), g.n, &r);
                    const int64_t served = path_count(p) - before;
                    unsetenv("STRATA_STREAM_READ");
                    char what[120];
                    snprintf(what, sizeof what, "chunk %lld, block %lld, %s path, cut %s",
                             (long long)chunks[ci], (long long)blocks[bi], path_name[p],
                             how == 0 ? "between passes" : how == 1 ? "mid-pass" : "before the fit");
                    ASSERT_MSG(r.status != STRATA_OK && strstr(r.msg, path), "%s: %d: %s", what,
                               r.status, r.msg);
                    if (how < 2) {
                        ASSERT_MSG(r.status == STRATA_E_IO &&
                                   strstr(r.msg, "changed while the fit streamed it"), "%s: %d: %s",
                                   what, r.status, r.msg);
                        ASSERT_MSG(p == PATH_HDF5 || served > 0, "%s: nothing read on that path",
                                   what);
                        const int64_t passes = bi ? strata__rowsrc_chunk_read_passes() - c0
                                                  : strata__rowsrc_side_read_passes() - s0;
                        ASSERT_MSG(p != PATH_DIRECT || passes > 0, "%s: no pass read %s", what,
                                   bi ? "by chunk" : "as side work");
                    }
                    free(r.labels);
                    unlink(path);
                }
    gen_free(&g);
}

/* STRATA_STREAM_MMAP, the switch of before: 1 maps, 0 reads through HDF5;
 * STRATA_STREAM_READ wins over it. */
static void test_old_switch(void)
{
    gen_data g;
    gen_blobs(&g, 402, STRATA_FLOAT32, 20000, D, D, K, 10.0, 1.5, 0.0, 0);
    const char *path = path_of("old.h5");
    write_h5(path, &g, H5T_IEEE_F32LE, 0, 0, 0);
    const struct { const char *mmap, *read; int64_t direct, mapped; } cases[] = {
        {"1", NULL, 0, 1}, {"0", NULL, 0, 0}, {"1", "pread", 1, 0}, {"0", "mmap", 0, 1},
        {NULL, "no-such-path", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].mmap)
            setenv("STRATA_STREAM_MMAP", cases[i].mmap, 1);
        if (cases[i].read)
            setenv("STRATA_STREAM_READ", cases[i].read, 1);
        const int64_t d0 = strata__h5_rows_direct_reads(), m0 = strata__h5_rows_mapped_blocks();
        fit_out r;
        strata_kmeans *km = make_handle(2, 4096, 3);
        collect(km, strata_kmeans_fit_h5(km, path, "/x"), g.n, &r);
        const int64_t dd = strata__h5_rows_direct_reads() - d0;
        const int64_t dm = strata__h5_rows_mapped_blocks() - m0;
        unsetenv("STRATA_STREAM_MMAP");
        unsetenv("STRATA_STREAM_READ");
        ASSERT_MSG(r.status == STRATA_OK, "case %zu: %s", i, r.msg);
        ASSERT_MSG((dd > 0) == (cases[i].direct > 0) && (dm > 0) == (cases[i].mapped > 0),
                   "case %zu: %lld direct reads, %lld mapped blocks", i, (long long)dd,
                   (long long)dm);
        free(r.labels);
    }
    unlink(path);
    gen_free(&g);
}

/* Each Lloyd iteration reads the rows once, also while many rows change
 * cluster: the iteration after such a pass sums afresh instead of moving
 * the changed rows and then summing again (a second read of the file).
 * Counted as chunk-read passes of the direct path: a fit of M iterations
 * takes M - 1 passes more than a fit of one. The start (every centroid
 * near one row) moves most rows in the first iterations. */
static void test_one_read_per_iteration(void)
{
    gen_data g;
    gen_blobs(&g, 77, STRATA_FLOAT32, 30011, D, D, K, 10.0, 1.5, 0.0, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/iters.h5", g_dir);
    write_h5(path, &g, H5T_IEEE_F32LE, 0, 0, 0);
    double c0[K * D];
    const float *x0 = g.x;
    for (int j = 0; j < K; j++)
        for (int f = 0; f < D; f++)
            c0[j * D + f] = (double)x0[f] + 1e-3 * (j + 1) * (f == j % D ? 1.0 : 0.0);
    g_init = c0;
    int64_t passes[2], iters[2] = {1, 4};
    for (int q = 0; q < 2; q++) {
        fit_out r;
        int64_t served, other;
        fit_file(path, g.n, PATH_DIRECT, 2, 8192, iters[q], &r, &served, &other);
        ASSERT_MSG(r.status == STRATA_OK, "%s", r.msg);
        ASSERT_MSG(r.n_iter == iters[q], "n_iter %lld, not %lld (converged early?)",
                   (long long)r.n_iter, (long long)iters[q]);
        passes[q] = g_chunk_passes;
        free(r.labels);
    }
    ASSERT_MSG(passes[1] - passes[0] == iters[1] - iters[0],
               "%lld iterations more took %lld passes more", (long long)(iters[1] - iters[0]),
               (long long)(passes[1] - passes[0]));
    g_init = NULL;
    unlink(path);
    gen_free(&g);
}

int main(void)
{
    if (tmpdir_make("strata_rowmap"))
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN_TEST(test_mapped_matches_memory);
    RUN_TEST(test_truncated);
    RUN_TEST(test_old_switch);
    RUN_TEST(test_one_read_per_iteration);
    rmdir(g_dir);
    return test_summary();
}
