/* The file rules of every write and read (issue 12): only a regular file is
 * replaced, never a file the handle read (under any name), the replaced file's
 * permissions and owner are kept, non-regular inputs are refused at once,
 * temporaries of dead writers are swept and no other file is, and
 * strata_discard_temp_file() interrupts a write cleanly. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tmpdir.h"

/* Names in the folder containing ".tmp.". */
static int count_temporaries(void)
{
    int n = tmpdir_count(".tmp.");
    ASSERT_TRUE(n >= 0);
    return n;
}

/* The whole content of a file (malloc'ed, *len bytes); NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = test_alloc((size_t)n + 1, 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* The file's bytes equal `want` (wlen bytes). */
static int same_bytes(const char *path, const char *want, size_t wlen)
{
    size_t len = 0;
    char *got = slurp(path, &len);
    int same = got && len == wlen && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static const double A[6] = {1, 2, 3, 4, 5, 6};

/* A write with FORCE onto a FIFO, a symbolic link, a directory or a device is
 * refused; none of them changes and nothing is left behind. */
static void test_only_regular_files_are_replaced(void)
{
    remove_all();
    struct stat st;
    ASSERT_EQ_INT(mkfifo(path_of("fifo"), 0600), 0);
    ASSERT_OK(strata_h5_write_matrix(path_of("target.h5"), "/m", STRATA_FLOAT64, A, 3, 2, 0));
    size_t tlen = 0;
    char *target = slurp(path_of("target.h5"), &tlen);
    ASSERT_EQ_INT(symlink("target.h5", path_of("link.h5")), 0);
    ASSERT_EQ_INT(symlink("nowhere.h5", path_of("dangling.h5")), 0);
    ASSERT_EQ_INT(mkdir(path_of("dir.h5"), 0700), 0);
    const struct {
        const char *name, *kind;
    } cases[] = {{"fifo", "FIFO"}, {"link.h5", "symbolic link"}, {"dangling.h5", "symbolic link"},
                 {"dir.h5", "directory"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int flags = 0; flags <= STRATA_WRITE_FORCE; flags++) {
            ASSERT_STATUS(strata_h5_write_matrix(path_of(cases[i].name), "/m", STRATA_FLOAT64, A,
                                                 3, 2, flags),
                          STRATA_E_IO_WRITE);
            ASSERT_STR_CONTAINS(strata_last_error(), cases[i].kind);
            ASSERT_STR_CONTAINS(strata_last_error(), cases[i].name);
        }
    ASSERT_TRUE(lstat(path_of("fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
    ASSERT_TRUE(lstat(path_of("link.h5"), &st) == 0 && S_ISLNK(st.st_mode));
    ASSERT_TRUE(lstat(path_of("dangling.h5"), &st) == 0 && S_ISLNK(st.st_mode));
    ASSERT_TRUE(lstat(path_of("nowhere.h5"), &st) != 0 && errno == ENOENT);
    ASSERT_TRUE(lstat(path_of("dir.h5"), &st) == 0 && S_ISDIR(st.st_mode));
    ASSERT_TRUE(same_bytes(path_of("target.h5"), target, tlen));
    /* /dev/null: a character device, in a folder we must not litter either */
    ASSERT_TRUE(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    ASSERT_STATUS(strata_h5_write_matrix("/dev/null", "/m", STRATA_FLOAT64, A, 3, 2,
                                         STRATA_WRITE_FORCE),
                  STRATA_E_IO_WRITE);
    ASSERT_STR_CONTAINS(strata_last_error(), "character device");
    ASSERT_TRUE(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    ASSERT_EQ_INT(count_temporaries(), 0);
    free(target);
}

/* A replaced file keeps its permission bits (and, for root, its owner). */
static void test_replace_keeps_mode_and_owner(void)
{
    remove_all();
    const mode_t modes[] = {0600, 0640, 0444, 0755};
    struct stat st;
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        remove(path_of("m.h5"));
        ASSERT_OK(strata_h5_write_matrix(path_of("m.h5"), "/m", STRATA_FLOAT64, A, 3, 2, 0));
        ASSERT_EQ_INT(chmod(path_of("m.h5"), modes[i]), 0);
        ASSERT_TRUE(stat(path_of("m.h5"), &st) == 0);
        ino_t before = st.st_ino;
        ASSERT_OK(strata_h5_write_matrix(path_of("m.h5"), "/m", STRATA_FLOAT64, A, 2, 3,
                                         STRATA_WRITE_FORCE));
        ASSERT_TRUE(stat(path_of("m.h5"), &st) == 0);
        ASSERT_TRUE(st.st_ino != before); /* really replaced */
        ASSERT_EQ_INT(st.st_mode & 07777, modes[i]);
        int64_t n = 0, d = 0;
        ASSERT_OK(strata_h5_shape(path_of("m.h5"), "/m", &n, &d));
        ASSERT_TRUE(n == 2 && d == 3);
    }
    /* A new file gets the usual 0666 & ~umask. */
    mode_t mask = umask(022);
    ASSERT_OK(strata_h5_write_matrix(path_of("new.h5"), "/m", STRATA_FLOAT64, A, 3, 2, 0));
    umask(mask);
    ASSERT_TRUE(stat(path_of("new.h5"), &st) == 0);
    ASSERT_EQ_INT(st.st_mode & 07777, 0644);
    if (geteuid() == 0) { /* only root can give a file to someone else */
        ASSERT_EQ_INT(chown(path_of("m.h5"), 4321, 4322), 0);
        ASSERT_OK(strata_h5_write_matrix(path_of("m.h5"), "/m", STRATA_FLOAT64, A, 3, 2,
                                         STRATA_WRITE_FORCE));
        ASSERT_TRUE(stat(path_of("m.h5"), &st) == 0);
        ASSERT_TRUE(st.st_uid == 4321 && st.st_gid == 4322);
    } else {
        fprintf(stderr, "  (owner not checked: not running as root)\n");
    }
    ASSERT_EQ_INT(count_temporaries(), 0);
}

/* A write through a handle never replaces a file the handle read, under
 * its own name, a hard link or a symbolic link; others are replaced. */
static void test_handle_inputs_are_never_replaced(void)
{
    remove_all();
    gen_data g;
    gen_blobs(&g, 21, STRATA_FLOAT64, 300, 3, 3, 4, 20, 1, 0, 0);
    ASSERT_OK(strata_h5_write_matrix(path_of("in.h5"), "/x", STRATA_FLOAT64, g.x, g.n, g.d, 0));
    ASSERT_OK(strata_h5_write_matrix(path_of("init.h5"), "/c", STRATA_FLOAT64, g.x, 4, 3, 0));
    ASSERT_EQ_INT(link(path_of("in.h5"), path_of("hard.h5")), 0);
    ASSERT_EQ_INT(symlink("in.h5", path_of("soft.h5")), 0);
    size_t in_len = 0, init_len = 0;
    char *in = slurp(path_of("in.h5"), &in_len), *init = slurp(path_of("init.h5"), &init_len);
    strata_kmeans *km = test_new_kmeans();
    ASSERT_OK(strata_kmeans_set_init_centroids_h5(km, path_of("init.h5"), "/c"));
    ASSERT_OK(strata_kmeans_fit_h5(km, path_of("in.h5"), "/x"));
    const char *refused[] = {"in.h5", "hard.h5", "init.h5"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ASSERT_STATUS(strata_kmeans_write_h5(km, path_of(refused[i]), NULL, STRATA_WRITE_FORCE),
                      STRATA_E_IO_WRITE);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), refused[i]);
        ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "never replaced");
    }
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "initial centroids");
    ASSERT_STATUS(strata_kmeans_write_h5(km, path_of("soft.h5"), NULL, STRATA_WRITE_FORCE),
                  STRATA_E_IO_WRITE);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "fitted from");
    ASSERT_TRUE(same_bytes(path_of("in.h5"), in, in_len));
    ASSERT_TRUE(same_bytes(path_of("init.h5"), init, init_len));
    /* A model fitted in memory no longer comes from in.h5: it may be replaced
     * now (the initial centroids still come from init.h5). */
    ASSERT_OK(strata_kmeans_fit(km, g.dtype, g.x, g.n, g.d, 0, NULL));
    ASSERT_STATUS(strata_kmeans_write_h5(km, path_of("init.h5"), NULL, STRATA_WRITE_FORCE),
                  STRATA_E_IO_WRITE);
    ASSERT_OK(strata_kmeans_write_h5(km, path_of("hard.h5"), NULL, STRATA_WRITE_FORCE));
    ASSERT_TRUE(same_bytes(path_of("in.h5"), in, in_len)); /* the link was replaced, not in.h5 */
    ASSERT_OK(strata_kmeans_set_init_centroids(km, g.x, 4, 3));
    ASSERT_OK(strata_kmeans_write_h5(km, path_of("init.h5"), NULL, STRATA_WRITE_FORCE));
    ASSERT_EQ_INT(count_temporaries(), 0);

    /* RFM: the columns of a result file (/labels, n int32) as a transaction log */
    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    ASSERT_OK(strata_rfm_fit_h5(h, path_of("init.h5"), NULL, "/labels", "/labels", "/labels"));
    free(init);
    init = slurp(path_of("init.h5"), &init_len);
    ASSERT_STATUS(strata_rfm_write_h5(h, path_of("init.h5"), NULL, STRATA_WRITE_FORCE),
                  STRATA_E_IO_WRITE);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "never replaced");
    ASSERT_TRUE(same_bytes(path_of("init.h5"), init, init_len));
    ASSERT_OK(strata_rfm_write_h5(h, path_of("rfm.h5"), NULL, 0));
    int64_t ids[3] = {1, 2, 3}, rec[3] = {1, 5, 9}, freq[3] = {1, 2, 3};
    double mon[3] = {10, 20, 30};
    ASSERT_OK(strata_rfm_fit_aggregates(h, ids, rec, freq, mon, 3));
    ASSERT_OK(strata_rfm_write_h5(h, path_of("init.h5"), NULL, STRATA_WRITE_FORCE));
    strata_rfm_free(h);
    strata_kmeans_free(km);
    free(in);
    free(init);
    gen_free(&g);
}

/* Reading a FIFO, a device or a directory fails at once (a FIFO would block). */
static void test_irregular_inputs_are_refused(void)
{
    remove_all();
    alarm(60); /* a blocked open ends the program (SIGALRM): a failure, not a hang */
    ASSERT_EQ_INT(mkfifo(path_of("in.fifo"), 0600), 0);
    int64_t n, d;
    double buf[6];
    ASSERT_STATUS(strata_h5_shape(path_of("in.fifo"), "/x", &n, &d), STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_last_error(), "FIFO");
    ASSERT_STR_CONTAINS(strata_last_error(), "in.fifo");
    ASSERT_STATUS(strata_h5_read_matrix(path_of("in.fifo"), "/x", STRATA_FLOAT64, buf, 3, 2),
                  STRATA_E_IO_OPEN);
    ASSERT_STATUS(strata_h5_shape("/dev/zero", "/x", &n, &d), STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_last_error(), "character device");
    strata_kmeans *km = test_new_kmeans();
    ASSERT_STATUS(strata_kmeans_fit_h5(km, path_of("in.fifo"), "/x"), STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_kmeans_last_error(km), "FIFO");
    ASSERT_STATUS(strata_kmeans_set_init_centroids_h5(km, path_of("in.fifo"), "/c"),
                  STRATA_E_IO_OPEN);
    strata_kmeans_free(km);
    strata_rfm *h = NULL;
    ASSERT_OK(strata_rfm_create(&h));
    ASSERT_STATUS(strata_rfm_fit_h5(h, path_of("in.fifo"), NULL, "/c", "/t", "/a"),
                  STRATA_E_IO_OPEN);
    ASSERT_STR_CONTAINS(strata_rfm_last_error(h), "FIFO");
    strata_rfm_free(h);
    alarm(0);
}

/* A pid that no process has: a child's, after it was reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0)
        _exit(0);
    ASSERT_EQ_INT(waitpid(pid, NULL, 0), pid);
    ASSERT_TRUE(kill(pid, 0) != 0 && errno == ESRCH);
    return pid;
}

static int exists(const char *name)
{
    struct stat st;
    return lstat(path_of(name), &st) == 0;
}

/* A write removes exactly the temporaries of its output that dead writers
 * left: of a live process, another output, another pattern, a locked file,
 * a symbolic link stay. */
static void test_stale_temporaries_are_swept(void)
{
    remove_all();
    pid_t dead = dead_pid(), live = fork();
    ASSERT_TRUE(live >= 0);
    if (live == 0) {
        pause();
        _exit(0);
    }
    char stale[4][64], kept[7][64];
    snprintf(stale[0], 64, "out.h5.tmp.%d.1", (int)dead);
    snprintf(stale[1], 64, "out.h5.tmp.%d.12345", (int)dead);
    snprintf(stale[2], 64, "out.h5.tmp.%d.7", (int)getpid()); /* an earlier process of our pid */
    snprintf(stale[3], 64, "out.h5.tmp.%d.0", (int)dead);
    snprintf(kept[0], 64, "out.h5.tmp.%d.1", (int)live);
    snprintf(kept[1], 64, "other.h5.tmp.%d.1", (int)dead);
    snprintf(kept[2], 64, "out.h5.tmp.%d.1.bak", (int)dead);
    snprintf(kept[3], 64, "out.h5.tmp.%d.", (int)dead);
    snprintf(kept[4], 64, "xout.h5.tmp.%d.1", (int)dead);
    snprintf(kept[5], 64, "out.h5.tmp.%d.2", (int)dead);  /* locked below */
    snprintf(kept[6], 64, "out.h5.tmp.%d.3", (int)dead);  /* a symbolic link */
    for (int i = 0; i < 4; i++)
        write_text(path_of(stale[i]), "partial");
    for (int i = 0; i < 6; i++)
        write_text(path_of(kept[i]), "keep");
    ASSERT_EQ_INT(symlink("../elsewhere", path_of(kept[6])), 0);
    int lock_fd = open(path_of(kept[5]), O_RDONLY | O_CLOEXEC);
    ASSERT_TRUE(lock_fd >= 0 && flock(lock_fd, LOCK_SH) == 0);
    ASSERT_OK(strata_h5_write_matrix(path_of("out.h5"), "/m", STRATA_FLOAT64, A, 3, 2, 0));
    close(lock_fd);
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
    for (int i = 0; i < 4; i++)
        ASSERT_MSG(!exists(stale[i]), "stale '%s' was not removed", stale[i]);
    for (int i = 0; i < 7; i++)
        ASSERT_MSG(exists(kept[i]), "'%s' was removed", kept[i]);
    ASSERT_TRUE(exists("out.h5"));
}

/* strata_discard_temp_file() from another thread (as a signal handler would):
 * the write then fails, leaving neither output nor temporary; without a
 * write in progress it does nothing. */
static atomic_int g_stop, g_discarded;

static void *discarder(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_stop))
        if (strata_discard_temp_file())
            atomic_fetch_add(&g_discarded, 1);
    return NULL;
}

static void test_discard_temp_file(void)
{
    remove_all();
    ASSERT_EQ_INT(strata_discard_temp_file(), 0);
    enum { N = 200000, D = 4 };
    double *x = test_alloc((size_t)N * D, sizeof(double));
    for (size_t i = 0; i < (size_t)N * D; i++)
        x[i] = (double)(i % 977) * 0.37;
    int interrupted = 0;
    for (int attempt = 0; attempt < 5 && !interrupted; attempt++) {
        pthread_t t;
        atomic_store(&g_stop, 0);
        atomic_store(&g_discarded, 0);
        ASSERT_EQ_INT(pthread_create(&t, NULL, discarder, NULL), 0);
        int st = strata_h5_write_matrix(path_of("big.h5"), "/m", STRATA_FLOAT64, x, N, D, 0);
        atomic_store(&g_stop, 1);
        pthread_join(t, NULL);
        ASSERT_EQ_INT(count_temporaries(), 0);
        if (st == STRATA_OK) { /* the thread came too late: the file is whole */
            int64_t n = 0, d = 0;
            ASSERT_OK(strata_h5_shape(path_of("big.h5"), "/m", &n, &d));
            ASSERT_TRUE(n == N && d == D);
            remove(path_of("big.h5"));
            continue;
        }
        ASSERT_EQ_INT(st, STRATA_E_IO_WRITE);
        ASSERT_TRUE(atomic_load(&g_discarded) <= 1); /* 0: taken before the file existed */
        ASSERT_TRUE(!exists("big.h5"));
        interrupted = 1;
    }
    ASSERT_MSG(interrupted, "no write was interrupted in 5 tries");
    /* the next write works */
    ASSERT_OK(strata_h5_write_matrix(path_of("big.h5"), "/m", STRATA_FLOAT64, x, 10, D, 0));
    ASSERT_EQ_INT(count_temporaries(), 0);
    free(x);
}

int main(void)
{
    if (tmpdir_make("strata_test_files"))
        return 1;
    RUN_TEST(test_only_regular_files_are_replaced);
    RUN_TEST(test_replace_keeps_mode_and_owner);
    RUN_TEST(test_handle_inputs_are_never_replaced);
    RUN_TEST(test_irregular_inputs_are_refused);
    RUN_TEST(test_stale_temporaries_are_swept);
    RUN_TEST(test_discard_temp_file);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
