/* Sources of lib/core walked block by block (issue 13), white box: unlike
 * the other C tests this one links the static library and includes lib/
 * headers, to test the internal interfaces RFM and k-means read through.
 *
 *   - the HDF5 transaction log as a column source (three 1-D datasets and
 *     a compound table): a walk with several block sizes delivers exactly
 *     the columns written (int64 ids beyond 2^53 included), in whole
 *     chunks; a damaged chunk and a file changed mid-walk are statuses
 *     with messages;
 *   - the in-memory column source: one block, the arrays themselves;
 *   - the prefetch of the walk under both row and column sources: the read
 *     of block b + 1 starts before the consumer is done with block b
 *     (recorded by the read, no timing). Input files are written here with
 *     libhdf5 directly (an independent writer). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <hdf5.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tmpdir.h"

#include "core/colsrc.h"
#include "core/rowsrc.h"
#include "core/status.h"
#include "io/h5.h"

#define N 10007 /* not a multiple of the chunk */
#define CHUNK 1000

static int64_t g_id[N], g_day[N];
static double g_amt[N];

static void make_log(void)
{
    for (int64_t i = 0; i < N; i++) {
        /* ids around 2^53 and 2^62: a double would merge neighbours */
        g_id[i] = (i % 3 == 0 ? ((int64_t)1 << 53) : (int64_t)1 << 62) + i * 7 + 1;
        g_day[i] = 18000 + (i * 37) % 500 - (i == 5 ? 40000 : 0);
        g_amt[i] = (double)(i % 101) * 0.37 - 3.0;
    }
}

/* The log as /c, /t, /a (gzip when gz) or as the compound table /tx. */
static void write_log(const char *path, int compound, int gz)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {N}, chunk[1] = {CHUNK};
    hid_t space = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_TRUE(f >= 0 && space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0);
    if (gz)
        ASSERT_TRUE(H5Pset_deflate(dcpl, 4) >= 0);
    if (!compound) {
        const char *names[3] = {"/c", "/t", "/a"};
        hid_t ft[3] = {H5T_STD_I64LE, H5T_STD_I64LE, H5T_IEEE_F64LE};
        hid_t mt[3] = {H5T_NATIVE_INT64, H5T_NATIVE_INT64, H5T_NATIVE_DOUBLE};
        const void *data[3] = {g_id, g_day, g_amt};
        for (int k = 0; k < 3; k++) {
            hid_t d = H5Dcreate2(f, names[k], ft[k], space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            ASSERT_TRUE(d >= 0 && H5Dwrite(d, mt[k], H5S_ALL, H5S_ALL, H5P_DEFAULT, data[k]) >= 0);
            H5Dclose(d);
        }
    } else {
        typedef struct row {
            int64_t c, t;
            double a;
        } row;
        row *rows = test_alloc(N, sizeof *rows);
        for (int64_t i = 0; i < N; i++)
            rows[i] = (row){g_id[i], g_day[i], g_amt[i]};
        hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(row));
        H5Tinsert(type, "c", HOFFSET(row, c), H5T_NATIVE_INT64);
        H5Tinsert(type, "t", HOFFSET(row, t), H5T_NATIVE_INT64);
        H5Tinsert(type, "a", HOFFSET(row, a), H5T_NATIVE_DOUBLE);
        hid_t d = H5Dcreate2(f, "/tx", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ASSERT_TRUE(d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
        H5Dclose(d);
        H5Tclose(type);
        free(rows);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    ASSERT_TRUE(H5Fclose(f) >= 0);
}

static const char *const NAMES_COLS[3] = {"/c", "/t", "/a"};
static const char *const NAMES_TAB[3] = {"c", "t", "a"};

/* Walk the log at path with about block_rows rows a block, the columns of
 * want; check every value against the arrays written. */
static void walk_check(const char *path, int compound, int64_t block_rows, unsigned want)
{
    char msg[STRATA__MSG_LEN];
    strata__h5_log *log;
    int64_t n, filtered;
    int rc = strata__h5_log_open(&log, path, compound ? "/tx" : NULL,
                                 compound ? NAMES_TAB : NAMES_COLS, STRATA_RFM_TIME_DAYS, &n,
                                 &filtered, NULL, msg);
    ASSERT_MSG(rc == STRATA_OK, "%s", msg);
    ASSERT_EQ_INT(n, N);
    ASSERT_EQ_INT(filtered, compound ? CHUNK : 0); /* the compound table is gzip'ed */
    strata__colsrc src;
    strata__h5_log_colsrc(log, block_rows, &src);
    ASSERT_EQ_INT(src.ncols, 3);
    /* whole chunks a block, or the whole log; blocks shorter than a raw
     * chunk as asked (parts of chunks, read from the file) */
    if (!compound && block_rows < CHUNK)
        ASSERT_EQ_INT(src.block_rows, block_rows);
    else
        ASSERT_MSG(src.block_rows == N || src.block_rows % CHUNK == 0, "block %lld",
                   (long long)src.block_rows);
    ASSERT_TRUE(src.block_rows >= block_rows || src.block_rows == N);
    strata__colsrc_walk *w;
    ASSERT_OK(strata__colsrc_walk_open(&w, &src, want, msg));
    int64_t r0, m, next = 0, blocks = 0;
    const void *col[3];
    int more;
    while ((rc = strata__colsrc_walk_next(w, &r0, &m, col, &more, msg)) == STRATA_OK && more) {
        ASSERT_EQ_INT(r0, next);
        ASSERT_TRUE(m >= 1 && (m == src.block_rows || r0 + m == N));
        const void *want_col[3] = {g_id, g_day, g_amt};
        for (int k = 0; k < 3; k++) {
            if (!((want >> k) & 1)) {
                ASSERT_TRUE(col[k] == NULL);
                continue;
            }
            ASSERT_TRUE(col[k] != NULL);
            /* bit for bit: int64 ids compared as integers, amounts as bytes */
            ASSERT_MSG(memcmp(col[k], (const char *)want_col[k] + r0 * 8, (size_t)m * 8) == 0,
                       "column %d, rows %lld + %lld, block %lld", k, (long long)r0,
                       (long long)m, (long long)block_rows);
        }
        next = r0 + m;
        blocks++;
    }
    ASSERT_MSG(rc == STRATA_OK, "%s", msg);
    ASSERT_EQ_INT(next, N);
    ASSERT_EQ_INT(blocks, (N + src.block_rows - 1) / src.block_rows);
    strata__colsrc_walk_close(w);
    strata__h5_log_close(log);
}

static void test_log_walk_exact(void)
{
    make_log();
    ASSERT_TRUE(((int64_t)1 << 53) + 1 != (int64_t)(double)(((int64_t)1 << 53) + 1));
    for (int compound = 0; compound < 2; compound++) {
        const char *path = path_of(compound ? "tab.h5" : "cols.h5");
        write_log(path, compound, compound);
        static const int64_t blocks[] = {1, 999, 1000, 2500, 4096, N - 1, N, 3 * N};
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            walk_check(path, compound, blocks[b], 7u);
            walk_check(path, compound, blocks[b], 1u); /* the ids only (the spill's pass 1) */
        }
        walk_check(path, compound, 3000, 6u);
        unlink(path);
    }
}

/* Open the log /c /t /a at path as a source of `block` rows a block. */
static void open_src(const char *path, int64_t block, strata__h5_log **log, strata__colsrc *src)
{
    char msg[STRATA__MSG_LEN];
    int64_t n, chunk;
    int rc = strata__h5_log_open(log, path, NULL, NAMES_COLS, STRATA_RFM_TIME_DAYS, &n, &chunk, NULL, msg);
    ASSERT_MSG(rc == STRATA_OK, "%s", msg);
    strata__h5_log_colsrc(*log, block, src);
}

/* Walk to the end; the first failing status with its message. */
static int walk_all(const strata__colsrc *src, int64_t *blocks_ok, char *msg)
{
    strata__colsrc_walk *w;
    int rc = strata__colsrc_walk_open(&w, src, 7u, msg), more = 1;
    int64_t r0, m;
    const void *col[3];
    *blocks_ok = 0;
    while (!rc && !(rc = strata__colsrc_walk_next(w, &r0, &m, col, &more, msg)) && more)
        ++*blocks_ok;
    strata__colsrc_walk_close(w);
    return rc;
}

/* A compressed chunk of the ids damaged in place (its exact bytes, found
 * with H5Dget_chunk_info): the block holding it fails with a message
 * naming the rows, the column and the file; the blocks before it arrive. */
static void test_log_damaged_chunk(void)
{
    make_log();
    const char *path = path_of("bad.h5");
    write_log(path, 0, 1);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "/c", H5P_DEFAULT);
    hsize_t off[1];
    unsigned mask;
    haddr_t addr;
    hsize_t size;
    hid_t fs = H5Dget_space(d);
    ASSERT_TRUE(d >= 0 && fs >= 0 && H5Dget_chunk_info(d, fs, 6, off, &mask, &addr, &size) >= 0);
    H5Sclose(fs);
    ASSERT_EQ_INT(off[0], 6 * CHUNK);
    H5Dclose(d);
    H5Fclose(f);
    int fd = open(path, O_WRONLY);
    char junk[64];
    memset(junk, 0x5A, sizeof junk);
    ASSERT_TRUE(fd >= 0 && pwrite(fd, junk, sizeof junk, (off_t)addr + 8) == (ssize_t)sizeof junk);
    close(fd);
    strata__h5_log *log;
    strata__colsrc src;
    open_src(path, 2000, &log, &src); /* the damage is in block 3 (rows 6000-7999) */
    char msg[STRATA__MSG_LEN] = "";
    int64_t ok;
    int rc = walk_all(&src, &ok, msg);
    ASSERT_MSG(rc == STRATA_E_IO_FORMAT, "%d: %s", rc, msg);
    ASSERT_STR_CONTAINS(msg, "cannot read rows");
    ASSERT_STR_CONTAINS(msg, "customer id");
    ASSERT_STR_CONTAINS(msg, "bad.h5");
    ASSERT_EQ_INT(ok, 3);
    strata__h5_log_close(log);
    unlink(path);
}

/* The file's modification time moved after the first block: the next read
 * fails with a status naming the change, never a walk of mixed data. */
static void test_log_changed_mid_walk(void)
{
    make_log();
    const char *path = path_of("moved.h5");
    write_log(path, 0, 0);
    strata__h5_log *log;
    strata__colsrc src;
    open_src(path, 1000, &log, &src);
    char msg[STRATA__MSG_LEN] = "";
    strata__colsrc_walk *w;
    ASSERT_OK(strata__colsrc_walk_open(&w, &src, 7u, msg));
    int64_t r0, m, blocks = 0;
    const void *col[3];
    int more = 1, rc;
    while (!(rc = strata__colsrc_walk_next(w, &r0, &m, col, &more, msg)) && more)
        if (++blocks == 1) { /* block 1 may be read already: block 2 is not */
            struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
            ASSERT_TRUE(utimensat(AT_FDCWD, path, t, 0) == 0);
        }
    strata__colsrc_walk_close(w);
    ASSERT_MSG(rc == STRATA_E_IO, "%d: %s", rc, msg);
    ASSERT_STR_CONTAINS(msg, "changed while");
    ASSERT_STR_CONTAINS(msg, "moved.h5");
    ASSERT_TRUE(blocks >= 1 && blocks <= 2);
    strata__h5_log_close(log);
    unlink(path);
}

/* Bad logs are refused at open with the reader's messages. */
static void test_log_open_errors(void)
{
    make_log();
    const char *path = path_of("open.h5");
    write_log(path, 0, 0);
    char msg[STRATA__MSG_LEN];
    strata__h5_log *log = (strata__h5_log *)1;
    int64_t n, chunk;
    const char *missing[3] = {"/c", "/nope", "/a"};
    ASSERT_TRUE(strata__h5_log_open(&log, path, NULL, missing, STRATA_RFM_TIME_DAYS, &n, &chunk, NULL, msg) != STRATA_OK);
    ASSERT_TRUE(log == NULL);
    ASSERT_STR_CONTAINS(msg, "/nope");
    ASSERT_TRUE(strata__h5_log_open(&log, path_of("absent.h5"), NULL, NAMES_COLS, STRATA_RFM_TIME_DAYS, &n, &chunk, NULL,
                                    msg) == STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(msg, "absent.h5");
    unlink(path);
}

/* In memory: one block, the caller's arrays themselves; unwanted columns NULL. */
static void test_memory_colsrc(void)
{
    make_log();
    const int type[3] = {STRATA__COL_INT64, STRATA__COL_INT64, STRATA__COL_FLOAT64};
    const void *cols[3] = {g_id, g_day, g_amt};
    strata__colsrc src;
    strata__colsrc_memory(3, type, cols, N, &src);
    ASSERT_EQ_INT(strata__colsrc_buffer_bytes(&src, 7u), 0);
    char msg[STRATA__MSG_LEN];
    strata__colsrc_walk *w;
    ASSERT_OK(strata__colsrc_walk_open(&w, &src, 5u, msg));
    int64_t r0, m;
    const void *col[3];
    int more;
    ASSERT_OK(strata__colsrc_walk_next(w, &r0, &m, col, &more, msg));
    ASSERT_TRUE(more && r0 == 0 && m == N);
    ASSERT_TRUE(col[0] == (const void *)g_id && col[1] == NULL && col[2] == (const void *)g_amt);
    ASSERT_OK(strata__colsrc_walk_next(w, &r0, &m, col, &more, msg));
    ASSERT_EQ_INT(more, 0);
    strata__colsrc_walk_close(w);
}

/* ---- the prefetch ------------------------------------------------------- */

/* A stream whose read records, for each block, the last block the consumer
 * had released when the read began, and the thread it ran on. */
#define PB 9 /* blocks */
#define PR 4096
typedef struct probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t released;          /* the last block the consumer is done with (-1 none) */
    int gave_up;               /* a wait ran out: wait no more (the test fails) */
    int64_t seen[PB];          /* released when block b's read began */
    int reads;
    pthread_t reader[PB];
} probe;

static void probe_start(probe *p, int64_t r0)
{
    pthread_mutex_lock(&p->mu);
    int64_t b = r0 / PR;
    p->seen[b] = p->released;
    p->reader[b] = pthread_self();
    p->reads++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* The consumer done with block b: first, unless b is the last, it waits
 * for the read of block b + 1 to begin (it must, with the prefetch: the walk
 * started it when it handed out block b). The deadline only keeps a walk
 * without prefetch from hanging the test; nothing is timed. */
static void probe_release(probe *p, int64_t b)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (b + 1 < PB && p->reads < b + 2 && !p->gave_up && rc == 0)
        rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
    p->gave_up |= rc != 0;
    p->released = b;
    pthread_mutex_unlock(&p->mu);
}

static int probe_colread(void *impl, int64_t r0, int64_t m, void *const *bufs, char *msg)
{
    (void)msg;
    probe_start(impl, r0);
    for (int64_t i = 0; i < m; i++)
        ((int64_t *)bufs[0])[i] = r0 + i;
    return STRATA_OK;
}

static int probe_rowread(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg)
{
    (void)msg;
    (void)dtype;
    probe_start(impl, r0);
    for (int64_t i = 0; i < m; i++)
        ((double *)buf)[i] = (double)(r0 + i);
    return STRATA_OK;
}

static void probe_check(const probe *p)
{
    ASSERT_EQ_INT(p->reads, PB);
    ASSERT_EQ_INT(p->seen[0], -1);
    for (int64_t b = 1; b < PB; b++) {
        /* block b's read began while the consumer still held block b - 1:
         * a walk without prefetch would read it only once b - 1 is released */
        ASSERT_MSG(p->seen[b] < b - 1, "block %lld read after block %lld was released",
                   (long long)b, (long long)p->seen[b]);
        ASSERT_TRUE(!pthread_equal(p->reader[b], pthread_self()));
    }
}

static void test_prefetch_columns(void)
{
    static probe p = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    p.released = -1;
    p.reads = p.gave_up = 0;
    static const strata__colsrc_ops ops = {probe_colread};
    strata__colsrc src = {.ncols = 1, .type = {STRATA__COL_INT64}, .n = PB * PR, .ops = &ops,
                          .impl = &p, .block_rows = PR};
    char msg[STRATA__MSG_LEN];
    strata__colsrc_walk *w;
    ASSERT_OK(strata__colsrc_walk_open(&w, &src, 1u, msg));
    ASSERT_EQ_INT(strata__colsrc_buffer_bytes(&src, 1u), 2 * PR * 8);
    int64_t r0, m, b = 0;
    const void *col[1];
    int more;
    while (strata__colsrc_walk_next(w, &r0, &m, col, &more, msg) == STRATA_OK && more) {
        ASSERT_EQ_INT(r0, b * PR);
        for (int64_t i = 0; i < m; i++)
            ASSERT_EQ_INT(((const int64_t *)col[0])[i], r0 + i);
        probe_release(&p, b++);
    }
    ASSERT_EQ_INT(b, PB);
    strata__colsrc_walk_close(w);
    probe_check(&p);
}

static void test_prefetch_rows(void)
{
    static probe p = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    p.released = -1;
    p.reads = p.gave_up = 0;
    static const strata__rowsrc_ops ops = {.read = probe_rowread};
    strata__rowsrc src = {.mem = {STRATA_FLOAT64, NULL, PB * PR, 1, 1, NULL, 0, NULL}, .ops = &ops,
                          .impl = &p, .block_rows = PR};
    char msg[STRATA__MSG_LEN];
    strata__rowsrc_walk *w;
    ASSERT_OK(strata__rowsrc_walk_open(&w, &src, msg));
    strata__data v;
    int64_t b = 0;
    int more;
    while (strata__rowsrc_walk_next(w, &v, &more, msg) == STRATA_OK && more) {
        ASSERT_EQ_INT(v.row0, b * PR);
        ASSERT_EQ_INT(v.n, (b + 1) * PR);
        ASSERT_TRUE(strata__at(&v, b * PR + 7, 0) == (double)(b * PR + 7));
        probe_release(&p, b++);
    }
    ASSERT_EQ_INT(b, PB);
    strata__rowsrc_walk_close(w);
    probe_check(&p);
}

int main(void)
{
    if (tmpdir_make("strata_colsrc"))
        return 1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN_TEST(test_log_walk_exact);
    RUN_TEST(test_log_damaged_chunk);
    RUN_TEST(test_log_changed_mid_walk);
    RUN_TEST(test_log_open_errors);
    RUN_TEST(test_memory_colsrc);
    RUN_TEST(test_prefetch_columns);
    RUN_TEST(test_prefetch_rows);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
