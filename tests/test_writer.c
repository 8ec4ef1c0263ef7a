/* The streamed writer (include/strata.h, "Files written as a stream"):
 * datasets and tables appended in odd block sizes read back by the
 * library's readers equal the data written at once; bad arguments (NULLs,
 * wrong type, wrong width, unknown id) fail with their codes and the file
 * never reaches its path; discard, a refused commit and a file size limit
 * leave nothing behind (no file, no temporary). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "tmpdir.h"

#define N 1237
#define D 3

static double X[N][D];
static float F[N][2];
static int64_t ID[N];
static int32_t I32[N];

static void make_data(void)
{
    uint64_t s = 99;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            X[i][j] = (double)(s >> 11) * 0x1.0p-53 * 100.0 - 50.0;
        }
        F[i][0] = (float)X[i][0];
        F[i][1] = (float)(i % 7);
        ID[i] = 1000000000000LL + i * 3;
        I32[i] = (int32_t)(i * 17 % 1001) - 500;
    }
}

/* Blocks of 1, 5, 13, 0, 100, ... rows up to N. */
static const int64_t BLOCKS[] = {1, 5, 13, 0, 100, 7, 1};

static void write_all(strata_writer *w, int id_x, int id_id, int id_i32, int id_f, int id_t)
{
    int64_t done = 0;
    for (int b = 0; done < N; b = (b + 1) % 7) {
        int64_t m = BLOCKS[b] < N - done ? BLOCKS[b] : N - done;
        ASSERT_OK(strata_writer_append(w, id_x, STRATA_FLOAT64, X[done], m, D));
        ASSERT_OK(strata_writer_append(w, id_id, STRATA_INT64, ID + done, m, 0));
        ASSERT_OK(strata_writer_append(w, id_i32, STRATA_INT32, I32 + done, m, 0));
        ASSERT_OK(strata_writer_append(w, id_f, STRATA_FLOAT32, F[done], m, 2));
        double v[100];
        int32_t day[100];
        for (int64_t i = 0; i < m; i++) {
            v[i] = X[done + i][1];
            day[i] = I32[done + i];
        }
        const void *cols[3] = {ID + done, day, v};
        ASSERT_OK(strata_writer_append_table(w, id_t, 3, cols, m));
        done += m;
    }
    ASSERT_EQ_INT(strata_writer_rows(w, id_x), N);
    ASSERT_EQ_INT(strata_writer_rows(w, id_t), N);
}

static void test_round_trip(void)
{
    strata_writer *w;
    const char *path = path_of("rt.h5");
    ASSERT_OK(strata_writer_open(&w, path, 0));
    int id_x, id_id, id_i32, id_f, id_t;
    static const char *const fields[3] = {"customer_id", "day", "v"};
    static const int types[3] = {STRATA_INT64, STRATA_INT32, STRATA_FLOAT64};
    ASSERT_OK(strata_writer_dataset(w, "/g/x", STRATA_FLOAT64, D, 64, &id_x));
    ASSERT_OK(strata_writer_dataset(w, "/g/customer_id", STRATA_INT64, 0, 100, &id_id));
    ASSERT_OK(strata_writer_dataset(w, "/g/i32", STRATA_INT32, 0, 0, &id_i32));
    ASSERT_OK(strata_writer_dataset(w, "/p/block0_values", STRATA_FLOAT32, 2, 9, &id_f));
    ASSERT_OK(strata_writer_table(w, "/t", 3, fields, types, 50, &id_t));
    static const char *const names[D] = {"a", "b", "c"};
    ASSERT_OK(strata_writer_strings(w, "/g/x", "feature_names", names, D));
    ASSERT_OK(strata_writer_strings(w, "/names", NULL, names, D));
    ASSERT_OK(strata_writer_attr_int(w, NULL, "rows", N));
    ASSERT_OK(strata_writer_attr_double(w, "/g", "pi", 3.25));
    ASSERT_OK(strata_writer_attr_string(w, "/t", "what", "a table"));
    /* a pandas format="fixed" frame's column names, as fixed-length strings */
    static const char *const items[2] = {"first", "second_col"};
    ASSERT_OK(strata_writer_fixed_strings(w, "/p/block0_items", NULL, items, 2));
    ASSERT_OK(strata_writer_fixed_strings(w, "/p/block0_items", "kind", items, 1));
    write_all(w, id_x, id_id, id_i32, id_f, id_t);
    ASSERT_TRUE(access(path, F_OK) != 0); /* nothing at path before the commit */
    ASSERT_OK(strata_writer_commit(w));
    ASSERT_EQ_INT(tmpdir_count(".tmp."), 0);

    /* the matrix, with its names */
    strata_frame *f;
    int64_t n, d;
    ASSERT_OK(strata_frame_read_matrix(&f, path, "/g/x"));
    ASSERT_OK(strata_frame_shape(f, &n, &d));
    ASSERT_EQ_INT(n, N);
    ASSERT_EQ_INT(d, D);
    ASSERT_TRUE(memcmp(strata_frame_data(f), X, sizeof X) == 0);
    ASSERT_TRUE(!strcmp(strata_frame_name(f, 2), "c"));
    strata_frame_free(f);
    /* the group of columns: the key and the int32 column */
    ASSERT_OK(strata_frame_read_table(&f, path, "/g", (const char *const[]){"i32"}, 1, NULL));
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(strata_frame_data(f)[i] == I32[i] && strata_frame_key(f)[i] == ID[i]);
    strata_frame_free(f);
    /* the compound table */
    ASSERT_OK(strata_frame_read_table(&f, path, "/t", NULL, 0, NULL));
    ASSERT_OK(strata_frame_shape(f, &n, &d));
    ASSERT_EQ_INT(d, 2);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(strata_frame_data(f)[2 * i] == I32[i] &&
                    strata_frame_data(f)[2 * i + 1] == X[i][1] && strata_frame_key(f)[i] == ID[i]);
    strata_frame_free(f);
    /* the frame's block: names from the fixed-length strings */
    ASSERT_OK(strata_frame_read_table(&f, path, "/p", (const char *const[]){"second_col"}, 1, ""));
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(strata_frame_data(f)[i] == F[i][1]);
    strata_frame_free(f);
    /* float32 n x 2 */
    static float back[N][2];
    ASSERT_OK(strata_h5_read_matrix(path, "/p/block0_values", STRATA_FLOAT32, back, N, 2));
    ASSERT_TRUE(memcmp(back, F, sizeof F) == 0);
    remove(path);
}

/* The same data in one block: the same arrays (the bytes of the file may
 * differ in layout, never in content). */
static void test_one_block_same_content(void)
{
    strata_writer *w;
    const char *path = path_of("one.h5");
    int id;
    ASSERT_OK(strata_writer_open(&w, path, 0));
    ASSERT_OK(strata_writer_dataset(w, "/x", STRATA_FLOAT64, D, 0, &id));
    ASSERT_OK(strata_writer_append(w, id, STRATA_FLOAT64, X, N, D));
    ASSERT_OK(strata_writer_commit(w));
    static double back[N][D];
    ASSERT_OK(strata_h5_read_matrix(path, "/x", STRATA_FLOAT64, back, N, D));
    ASSERT_TRUE(memcmp(back, X, sizeof X) == 0);
    remove(path);
}

static void test_bad_arguments(void)
{
    strata_writer *w = (strata_writer *)1;
    const char *path = path_of("bad.h5");
    int id = -1, id2;
    ASSERT_STATUS(strata_writer_open(NULL, path, 0), STRATA_E_NULL);
    ASSERT_STATUS(strata_writer_open(&w, NULL, 0), STRATA_E_NULL);
    ASSERT_TRUE(w == NULL);
    ASSERT_STATUS(strata_writer_open(&w, path, 8), STRATA_E_PARAM);
    ASSERT_STATUS(strata_writer_open(&w, path_of("no/such/folder.h5"), 0), STRATA_E_IO_WRITE);
    ASSERT_TRUE(w == NULL && strstr(strata_last_error(), "No such file or directory"));
    ASSERT_STATUS(strata_writer_dataset(NULL, "/x", STRATA_INT32, 0, 0, &id), STRATA_E_NULL);
    ASSERT_STATUS(strata_writer_append(NULL, 0, STRATA_INT32, I32, 1, 0), STRATA_E_NULL);
    ASSERT_STATUS(strata_writer_commit(NULL), STRATA_E_NULL);
    strata_writer_discard(NULL);
    ASSERT_EQ_INT(strata_writer_rows(NULL, 0), -1);

    /* each refusal fails the file: commit returns the first refusal's code */
    static const struct {
        const char *what;
        int code;
    } cases[] = {{"type", STRATA_E_ARG},  {"width", STRATA_E_ARG}, {"id", STRATA_E_ARG},
                 {"dtype", STRATA_E_ARG}, {"null", STRATA_E_NULL}, {"twice", STRATA_E_ARG},
                 {"table", STRATA_E_ARG}, {"fields", STRATA_E_ARG}, {"rows", STRATA_E_ARG},
                 {"fixed", STRATA_E_ARG}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ASSERT_OK(strata_writer_open(&w, path, 0));
        ASSERT_OK(strata_writer_dataset(w, "/x", STRATA_FLOAT64, D, 0, &id));
        static const char *const fields[2] = {"a", "b"};
        static const int types[2] = {STRATA_INT64, STRATA_INT32};
        ASSERT_OK(strata_writer_table(w, "/t", 2, fields, types, 0, &id2));
        const char *what = cases[c].what;
        const void *cols[1] = {ID};
        int st = !strcmp(what, "type")    ? strata_writer_append(w, id, STRATA_FLOAT32, X, 2, D)
                 : !strcmp(what, "width") ? strata_writer_append(w, id, STRATA_FLOAT64, X, 2, D + 1)
                 : !strcmp(what, "id")    ? strata_writer_append(w, 7, STRATA_FLOAT64, X, 2, D)
                 : !strcmp(what, "dtype") ? strata_writer_dataset(w, "/y", 99, 0, 0, &id2)
                 : !strcmp(what, "null")  ? strata_writer_append(w, id, STRATA_FLOAT64, NULL, 2, D)
                 : !strcmp(what, "twice") ? strata_writer_dataset(w, "/x", STRATA_FLOAT64, D, 0, &id2)
                 : !strcmp(what, "table") ? strata_writer_append(w, id2, STRATA_INT64, ID, 2, 0)
                 : !strcmp(what, "fields") ? strata_writer_append_table(w, id2, 1, cols, 2)
                 : !strcmp(what, "fixed") ? strata_writer_fixed_strings(w, "/x", "a", fields, 2)
                                           : strata_writer_append(w, id, STRATA_FLOAT64, X, -1, D);
        ASSERT_MSG(st == cases[c].code, "%s: %d", what, st);
        ASSERT_TRUE(strlen(strata_writer_last_error(w)) > 0);
        /* refused from now on, and the commit discards */
        ASSERT_STATUS(strata_writer_append(w, id, STRATA_FLOAT64, X, 2, D), STRATA_E_STATE);
        ASSERT_STATUS(strata_writer_commit(w), cases[c].code);
        ASSERT_TRUE(access(path, F_OK) != 0);
        ASSERT_EQ_INT(tmpdir_count(""), 0);
    }
}

static void test_existing_and_discard(void)
{
    strata_writer *w;
    const char *path = path_of("old.h5");
    FILE *fp = fopen(path, "w");
    ASSERT_TRUE(fp && fputs("old", fp) >= 0 && fclose(fp) == 0);
    ASSERT_STATUS(strata_writer_open(&w, path, 0), STRATA_E_IO_EXISTS);
    ASSERT_OK(strata_writer_open(&w, path, STRATA_WRITE_FORCE));
    int id;
    ASSERT_OK(strata_writer_dataset(w, "/x", STRATA_INT32, 0, 0, &id));
    ASSERT_OK(strata_writer_append(w, id, STRATA_INT32, I32, N, 0));
    ASSERT_EQ_INT(tmpdir_count(".tmp."), 1); /* the temporary beside it */
    strata_writer_discard(w);
    struct stat st;
    ASSERT_TRUE(stat(path, &st) == 0 && st.st_size == 3); /* the old file, untouched */
    ASSERT_EQ_INT(tmpdir_count(""), 1);
    /* a directory is never replaced, forced or not */
    ASSERT_TRUE(mkdir(path_of("dir.h5"), 0700) == 0);
    ASSERT_STATUS(strata_writer_open(&w, path_of("dir.h5"), STRATA_WRITE_FORCE),
                  STRATA_E_IO_WRITE);
    rmdir(path_of("dir.h5"));
    remove(path);
}

/* A file size limit (ulimit -f) below the file: the append fails with a
 * message, the commit discards, nothing is left; in a child, whose limit
 * does not touch the other tests (and SIGXFSZ never comes: we stop first). */
static void test_file_size_limit(void)
{
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {8 << 20, 8 << 20};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(10);
        strata_writer *w;
        int id;
        if (strata_writer_open(&w, path_of("big.h5"), 0) ||
            strata_writer_dataset(w, "/x", STRATA_FLOAT64, D, 0, &id))
            _exit(11);
        int st = STRATA_OK;
        for (int b = 0; b < 1000 && !st; b++) /* 1000 x 29 KiB */
            st = strata_writer_append(w, id, STRATA_FLOAT64, X, N, D);
        if (st != STRATA_E_IO_WRITE || !strstr(strata_writer_last_error(w), "file size limit"))
            _exit(12);
        if (strata_writer_commit(w) != STRATA_E_IO_WRITE)
            _exit(13);
        _exit(0);
    }
    int status;
    ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
    ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    ASSERT_EQ_INT(tmpdir_count(""), 0);
}

int main(void)
{
    if (tmpdir_make("strata_test_writer"))
        return 1;
    make_data();
    RUN_TEST(test_round_trip);
    RUN_TEST(test_one_block_same_content);
    RUN_TEST(test_bad_arguments);
    RUN_TEST(test_existing_and_discard);
    RUN_TEST(test_file_size_limit);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
