/* faultfs: an LD_PRELOAD shim that makes chosen file-system calls fail, for
 * the fault-injection tests of the writer (tests/faults/test_faults.sh). Test
 * code only, never linked into libstrata.
 *
 * Only calls on files inside one folder are touched (so the inputs, read
 * from elsewhere, never fail): paths opened there, the folder itself, and the
 * descriptors those opens return. Driven by the environment:
 *
 *   FAULTFS_DIR=/abs/folder    the folder watched (nothing happens without it)
 *   FAULTFS_FAIL=CLASS:N:WHAT  the Nth call (1-based) of CLASS on a watched
 *                              file fails; "N+" instead of N: that call and
 *                              every later one. WHAT: an errno name (ENOSPC,
 *                              EIO, EACCES, EROFS, EPERM, EDQUOT), the call
 *                              then does nothing and returns -1 with it
 *                              (close() still releases the descriptor, as
 *                              Linux does); or KILL: raise(SIGKILL) instead
 *                              of making the call (kill -9 at that moment);
 *                              or TERM_AFTER (rename only): make the call,
 *                              then raise(SIGTERM) (a signal right after the
 *                              new file is in place)
 *   FAULTFS_QUOTA=BYTES        a disk that fills up: once BYTES bytes have
 *                              been written to watched files, a write is cut
 *                              short at the limit and the next ones fail with
 *                              ENOSPC
 *   FAULTFS_MAXIO=BYTES        every write moves at most BYTES bytes (short
 *                              writes, as pipes and network file systems do):
 *                              one write becomes many, each a moment to fail
 *   FAULTFS_COUNT=FILE         at exit, append "CLASS COUNT" lines: how many
 *                              calls of each class were made on watched files
 *   FAULTFS_TRACE=FILE         append "CLASS FUNCTION" for each call failed
 *
 * CLASS: write (write, pwrite, pwrite64, writev, pwritev), sync (fsync,
 * fdatasync), open (open, open64, openat, openat64, creat that create or
 * truncate a file; other opens are watched but never failed), close, rename
 * (rename, renameat, renameat2: either name watched), truncate (ftruncate,
 * ftruncate64, fallocate, posix_fallocate), chmod (fchmod), chown (fchown),
 * unlink (unlink, unlinkat), or any (every call above, each counted once,
 * the other opens included: "any:N:KILL" for N = 1, 2, ... kills the program
 * at every file-system step of a write).
 *
 * Which functions HDF5's sec2 driver and lib/io/h5_write.c really call was
 * checked with strace and `nm -D --undefined-only`: open, pwrite, write,
 * ftruncate, close, flock (HDF5); open, openat, fsync, renameat2, rename,
 * fchmod, fchown, unlink, unlinkat, close (libstrata). Since HDF5 builds the
 * output in memory, the writes of a write are libstrata's own. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <dirent.h>
#include <unistd.h>

enum { C_WRITE, C_SYNC, C_OPEN, C_CLOSE, C_RENAME, C_TRUNCATE, C_CHMOD, C_CHOWN, C_UNLINK,
       C_ANY, NCLASS };
static const char *const CLASS_NAMES[NCLASS] = {"write",    "sync",  "open",  "close",
                                                "rename",   "truncate", "chmod", "chown",
                                                "unlink",   "any"};

#define MAX_FD 4096
static unsigned char watched[MAX_FD]; /* fd -> opened inside the folder */
static long counts[NCLASS];
static char dir[PATH_MAX];
static size_t dirlen;
static int fail_class = -1, fail_from_on, fail_errno, fail_kill, fail_term_after;
static volatile int pending_term; /* TERM_AFTER: raise once the call is made */
static long fail_n;
static long long quota = -1, written, maxio = -1;
static const char *trace;
static int ready;

static int errno_of(const char *name)
{
    static const struct {
        const char *name;
        int value;
    } T[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},   {"EACCES", EACCES}, {"EROFS", EROFS},
             {"EPERM", EPERM},   {"EDQUOT", EDQUOT}, {"EINTR", EINTR}, {"EBADF", EBADF}};
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        if (strcmp(name, T[i].name) == 0)
            return T[i].value;
    return 0;
}

static void die(const char *what)
{
    fprintf(stderr, "faultfs: bad %s\n", what);
    _exit(99);
}

static void setup(void)
{
    if (ready)
        return;
    ready = 1;
    const char *d = getenv("FAULTFS_DIR");
    if (!d || !*d)
        return;
    if (d[0] != '/' || strlen(d) >= sizeof dir)
        die("FAULTFS_DIR (an absolute path)");
    strcpy(dir, d);
    dirlen = strlen(dir);
    while (dirlen > 1 && dir[dirlen - 1] == '/')
        dir[--dirlen] = '\0';
    const char *q = getenv("FAULTFS_QUOTA");
    if (q && *q)
        quota = atoll(q);
    const char *m = getenv("FAULTFS_MAXIO");
    if (m && *m && (maxio = atoll(m)) < 1)
        die("FAULTFS_MAXIO");
    trace = getenv("FAULTFS_TRACE");
    const char *f = getenv("FAULTFS_FAIL");
    if (f && *f) {
        char cls[32], n[32], what[32];
        if (sscanf(f, "%31[a-z]:%31[0-9+]:%31s", cls, n, what) != 3)
            die("FAULTFS_FAIL (CLASS:N:WHAT)");
        for (int c = 0; c < NCLASS; c++)
            if (strcmp(cls, CLASS_NAMES[c]) == 0)
                fail_class = c;
        fail_n = atol(n);
        fail_from_on = strchr(n, '+') != NULL;
        fail_kill = strcmp(what, "KILL") == 0;
        fail_term_after = strcmp(what, "TERM_AFTER") == 0;
        fail_errno = errno_of(what);
        if (fail_class < 0 || fail_n < 1 || (!fail_kill && !fail_term_after && !fail_errno))
            die("FAULTFS_FAIL (CLASS:N:WHAT)");
    }
}

/* Is path (relative to the folder of descriptor `at`) inside the folder? */
static int inside(int at, const char *path)
{
    setup();
    if (!dirlen || !path)
        return 0;
    char abs[2 * PATH_MAX];
    if (path[0] == '/') {
        snprintf(abs, sizeof abs, "%s", path);
    } else if (at == AT_FDCWD) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return 0;
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    } else {
        return at >= 0 && at < MAX_FD && watched[at];
    }
    size_t len = strlen(abs);
    while (len > 2 && strcmp(abs + len - 2, "/.") == 0) /* "folder/." is the folder */
        abs[len -= 2] = '\0';
    return strncmp(abs, dir, dirlen) == 0 && (abs[dirlen] == '\0' || abs[dirlen] == '/');
}

static int watched_fd(int fd)
{
    setup();
    return fd >= 0 && fd < MAX_FD && watched[fd];
}

static void note(int c, const char *func)
{
    static __typeof__(open) *real;
    if (!real)
        real = (__typeof__(open) *)dlsym(RTLD_NEXT, "open");
    int fd = trace && *trace ? real(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd >= 0) {
        dprintf(fd, "%s %s\n", CLASS_NAMES[c], func);
        static __typeof__(close) *real_close;
        if (!real_close)
            real_close = (__typeof__(close) *)dlsym(RTLD_NEXT, "close");
        real_close(fd);
    }
}

/* A call of class c (function func) on a watched file is about to be made: 0
 * to make it, or -1 with errno set to fail it. Counts it in c and in "any". */
#define fault(c) fault_in(c, __func__)
static int fault_in(int c, const char *func)
{
    long n = __atomic_add_fetch(&counts[c], 1, __ATOMIC_SEQ_CST);
    long any = __atomic_add_fetch(&counts[C_ANY], 1, __ATOMIC_SEQ_CST);
    long k = fail_class == C_ANY ? any : fail_class == c ? n : 0;
    if (!k || k < fail_n || (k > fail_n && !fail_from_on))
        return 0;
    if (fail_kill)
        raise(SIGKILL);
    note(c, func);
    if (fail_term_after) {
        pending_term = 1;
        return 0;
    }
    errno = fail_errno;
    return -1;
}

/* The call was made: TERM_AFTER's signal now. */
static int after(int result)
{
    if (pending_term) {
        pending_term = 0;
        raise(SIGTERM);
    }
    return result;
}

/* "any" only: opens that create nothing, which are never failed with an errno. */
static int step(void)
{
    long any = __atomic_add_fetch(&counts[C_ANY], 1, __ATOMIC_SEQ_CST);
    if (fail_class == C_ANY && fail_kill && (any == fail_n || (fail_from_on && any > fail_n)))
        raise(SIGKILL);
    return 0;
}

/* How many of `want` bytes this write moves: FAULTFS_MAXIO at most, and what
 * fits on the disk of FAULTFS_QUOTA (-1 with ENOSPC when nothing does). */
static ssize_t room(size_t want)
{
    if (maxio > 0 && (long long)want > maxio)
        want = (size_t)maxio;
    if (quota < 0)
        return (ssize_t)want;
    long long left = quota - __atomic_load_n(&written, __ATOMIC_SEQ_CST);
    if (left <= 0 && want > 0) {
        errno = ENOSPC;
        return -1;
    }
    return (ssize_t)((long long)want < left ? (long long)want : left);
}

static void wrote(ssize_t n)
{
    if (n > 0)
        __atomic_add_fetch(&written, n, __ATOMIC_SEQ_CST);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("FAULTFS_COUNT");
    if (!dirlen || !path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    for (int c = 0; c < NCLASS; c++)
        fprintf(f, "%s %ld\n", CLASS_NAMES[c], counts[c]);
    fclose(f);
}

#define REAL(name) static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* ---- open ------------------------------------------------------------------ */

/* Opens that create or truncate a file: others (reading, HDF5's probe of
 * whether a file is open already) are watched but never failed. */
static int is_write_open(int flags)
{
    return (flags & (O_CREAT | O_TRUNC)) != 0;
}

/* Before an open of path: 0 to go on, -1 to fail it. */
static int before_open(const char *func, int at, const char *path, int flags, int *watch)
{
    *watch = inside(at, path);
    if (!*watch)
        return 0;
    return is_write_open(flags) ? fault_in(C_OPEN, func) : step();
}

static int after_open(int fd, int watch)
{
    if (fd >= 0 && fd < MAX_FD)
        watched[fd] = (unsigned char)watch;
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int watch;
    if (before_open(__func__, AT_FDCWD, path, flags, &watch))
        return -1;
    return after_open(real_open(path, flags, mode), watch);
}

int open64(const char *path, int flags, ...)
{
    REAL(open64);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int watch;
    if (before_open(__func__, AT_FDCWD, path, flags, &watch))
        return -1;
    return after_open(real_open64(path, flags, mode), watch);
}

int openat(int at, const char *path, int flags, ...)
{
    REAL(openat);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int watch;
    if (before_open(__func__, at, path, flags, &watch))
        return -1;
    return after_open(real_openat(at, path, flags, mode), watch);
}

int openat64(int at, const char *path, int flags, ...)
{
    REAL(openat64);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int watch;
    if (before_open(__func__, at, path, flags, &watch))
        return -1;
    return after_open(real_openat64(at, path, flags, mode), watch);
}

int creat(const char *path, mode_t mode)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

/* ---- write ----------------------------------------------------------------- */

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(write);
    if (!watched_fd(fd))
        return real_write(fd, buf, len);
    ssize_t fit;
    if (fault(C_WRITE) || (fit = room(len)) < 0)
        return -1;
    ssize_t n = real_write(fd, buf, (size_t)fit);
    wrote(n);
    return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    REAL(pwrite);
    if (!watched_fd(fd))
        return real_pwrite(fd, buf, len, off);
    ssize_t fit;
    if (fault(C_WRITE) || (fit = room(len)) < 0)
        return -1;
    ssize_t n = real_pwrite(fd, buf, (size_t)fit, off);
    wrote(n);
    return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    REAL(pwrite64);
    if (!watched_fd(fd))
        return real_pwrite64(fd, buf, len, off);
    ssize_t fit;
    if (fault(C_WRITE) || (fit = room(len)) < 0)
        return -1;
    ssize_t n = real_pwrite64(fd, buf, (size_t)fit, off);
    wrote(n);
    return n;
}

/* Vectored writes: failed whole, never cut short (nothing here uses them). */
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(writev);
    if (watched_fd(fd) && (fault(C_WRITE) || room(1) < 0))
        return -1;
    ssize_t n = real_writev(fd, iov, cnt);
    if (watched_fd(fd))
        wrote(n);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(pwritev);
    if (watched_fd(fd) && (fault(C_WRITE) || room(1) < 0))
        return -1;
    ssize_t n = real_pwritev(fd, iov, cnt, off);
    if (watched_fd(fd))
        wrote(n);
    return n;
}

/* ---- sync, truncate, metadata ---------------------------------------------- */

#define FD_CALL(cls, name, proto, args) \
    int name proto                                             \
    {                                                          \
        REAL(name);                                            \
        if (watched_fd(fd) && fault(cls))                      \
            return -1;                                         \
        return real_##name args;                               \
    }

FD_CALL(C_SYNC, fsync, (int fd), (fd))
FD_CALL(C_SYNC, fdatasync, (int fd), (fd))
FD_CALL(C_TRUNCATE, ftruncate, (int fd, off_t len), (fd, len))
FD_CALL(C_TRUNCATE, ftruncate64, (int fd, off64_t len), (fd, len))
FD_CALL(C_TRUNCATE, fallocate, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len))
FD_CALL(C_CHMOD, fchmod, (int fd, mode_t mode), (fd, mode))
FD_CALL(C_CHOWN, fchown, (int fd, uid_t uid, gid_t gid), (fd, uid, gid))

int posix_fallocate(int fd, off_t off, off_t len)
{
    REAL(posix_fallocate);
    if (watched_fd(fd) && fault(C_TRUNCATE))
        return errno; /* posix_fallocate returns the error */
    return real_posix_fallocate(fd, off, len);
}

/* Linux releases the descriptor even when close() reports an error. */
int close(int fd)
{
    REAL(close);
    if (!watched_fd(fd))
        return real_close(fd);
    watched[fd] = 0;
    if (fault(C_CLOSE)) {
        int e = errno;
        real_close(fd);
        errno = e;
        return -1;
    }
    return real_close(fd);
}

/* closedir() closes its descriptor inside libc, out of our sight. */
int closedir(DIR *d)
{
    REAL(closedir);
    int fd = dirfd(d);
    if (fd >= 0 && fd < MAX_FD)
        watched[fd] = 0;
    return real_closedir(d);
}

/* ---- names ----------------------------------------------------------------- */

int rename(const char *from, const char *to)
{
    REAL(rename);
    if ((inside(AT_FDCWD, from) || inside(AT_FDCWD, to)) && fault(C_RENAME))
        return -1;
    return after(real_rename(from, to));
}

int renameat(int fromdir, const char *from, int todir, const char *to)
{
    REAL(renameat);
    if ((inside(fromdir, from) || inside(todir, to)) && fault(C_RENAME))
        return -1;
    return after(real_renameat(fromdir, from, todir, to));
}

int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned flags)
{
    REAL(renameat2);
    if ((inside(fromdir, from) || inside(todir, to)) && fault(C_RENAME))
        return -1;
    return after(real_renameat2(fromdir, from, todir, to, flags));
}

int unlink(const char *path)
{
    REAL(unlink);
    if (inside(AT_FDCWD, path) && fault(C_UNLINK))
        return -1;
    return real_unlink(path);
}

int unlinkat(int at, const char *path, int flags)
{
    REAL(unlinkat);
    if (inside(at, path) && fault(C_UNLINK))
        return -1;
    return real_unlinkat(at, path, flags);
}
