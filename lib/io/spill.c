/* Temporary files of out-of-core work (spill.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/files.h"
#include "io/spill.h"

struct strata__spill {
    char dir[4096];
    int lock_fd;       /* the directory, flock()ed while the spill lives */
    atomic_llong next; /* number of the next file: files 0..next-1 may exist */
    int slot;          /* in active, or -1 */
    char *msg;
};

/* The spills in progress, for strata__spill_discard_all() (a signal
 * handler): whoever swaps a spill out of its slot removes its files; the
 * owner frees it once no discard runs (the h5_write.c pattern). */
#define SLOTS 16
static _Atomic(strata__spill *) active[SLOTS];
static atomic_int discarding;

/* "<dir>/<file>" into buf without stdio (async-signal-safe). */
static void file_path_raw(const char *dir, long long file, char *buf, size_t cap)
{
    size_t len = strlen(dir);
    char digits[24];
    int k = 0;
    do
        digits[k++] = (char)('0' + file % 10);
    while ((file /= 10) > 0 && k < 23);
    if (len + (size_t)k + 2 > cap) {
        buf[0] = '\0';
        return;
    }
    memcpy(buf, dir, len);
    buf[len++] = '/';
    while (k > 0)
        buf[len++] = digits[--k];
    buf[len] = '\0';
}

void strata__spill_discard_all(void)
{
    int saved = errno;
    atomic_fetch_add(&discarding, 1);
    for (int i = 0; i < SLOTS; i++) {
        strata__spill *s = atomic_exchange(&active[i], NULL);
        if (!s)
            continue;
        char path[4400];
        long long n = atomic_load(&s->next);
        for (long long f = 0; f < n; f++) {
            file_path_raw(s->dir, f, path, sizeof path);
            if (path[0])
                unlink(path);
        }
        rmdir(s->dir);
    }
    atomic_fetch_sub(&discarding, 1);
    errno = saved;
}

const char *strata__spill_default_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && t[0] ? t : "/tmp";
}

/* Remove every entry of folder `path`, then the folder. */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char file[4400];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(file, sizeof file, "%s/%s", path, e->d_name);
                unlink(file);
            }
        closedir(d);
    }
    rmdir(path);
}

/* The directories a killed process left in `dir` (kill -9, a crash): ours
 * are named strata-<pid>-XXXXXX. One is removed when it belongs to this
 * user, no process <pid> exists, and no process holds its lock (the owner
 * flock()s it: a live owner in another PID namespace keeps it). */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        const char *p = e->d_name;
        if (strncmp(p, "strata-", 7) != 0)
            continue;
        char *end;
        long pid = strtol(p + 7, &end, 10);
        if (end == p + 7 || pid <= 0 || *end != '-' || strlen(end + 1) != 6)
            continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, p);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            remove_dir(path);
        close(fd);
    }
    closedir(d);
}

int strata__spill_open(strata__spill **out, const char *dir, char *msg)
{
    *out = NULL;
    if (!dir || !dir[0])
        dir = strata__spill_default_dir();
    strata__spill *s = strata__calloc(1, sizeof *s);
    if (!s)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a temporary directory");
    s->msg = msg;
    struct stat st;
    int bad = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
    if (bad) {
        strata__free(s);
        return strata__fail(msg, STRATA_E_IO_WRITE, "cannot use '%s' for temporary files: %s",
                            dir, strerror(bad));
    }
    remove_stale(dir);
    if ((size_t)snprintf(s->dir, sizeof s->dir, "%s/strata-%ld-XXXXXX", dir, (long)getpid()) >=
        sizeof s->dir - 32) {
        strata__free(s);
        return strata__fail(msg, STRATA_E_IO_WRITE, "temporary folder path too long: '%s'", dir);
    }
    if (!mkdtemp(s->dir)) {
        int e = errno;
        strata__free(s);
        return strata__fail(msg, STRATA_E_IO_WRITE,
                            "cannot create a temporary directory in '%s': %s", dir, strerror(e));
    }
    s->lock_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->lock_fd >= 0)
        flock(s->lock_fd, LOCK_EX | LOCK_NB); /* a new directory: nobody else holds it */
    s->slot = -1;
    for (int i = 0; i < SLOTS && s->slot < 0; i++) {
        strata__spill *none = NULL;
        if (atomic_compare_exchange_strong(&active[i], &none, s))
            s->slot = i;
    }
    *out = s;
    return STRATA_OK;
}

static void file_path(const strata__spill *s, int64_t file, char *buf, size_t cap)
{
    file_path_raw(s->dir, (long long)file, buf, cap);
}

void strata__spill_close(strata__spill *s)
{
    if (!s)
        return;
    if (s->slot >= 0) {
        strata__spill *self = s;
        atomic_compare_exchange_strong(&active[s->slot], &self, NULL);
        while (atomic_load(&discarding)) /* a discard may still be removing our files */
            sched_yield();
    }
    /* Every entry, not only the numbers handed out: the directory is ours. */
    remove_dir(s->dir);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    strata__free(s);
}

static int write_error(strata__spill *s, int e)
{
    return strata__fail(s->msg, STRATA_E_IO_WRITE, "cannot write temporary files in '%s': %s",
                        s->dir, strata__write_error_text(e));
}

int strata__spill_create(strata__spill *s, size_t cap, strata__spill_writer *w)
{
    *w = (strata__spill_writer){.fd = -1, .file = s->next, .cap = cap};
    char path[4400];
    file_path(s, s->next, path, sizeof path);
    if (!(w->buf = strata__alloc(cap, 1)))
        return strata__fail(s->msg, STRATA_E_NOMEM, "out of memory for temporary file buffers");
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        int e = errno;
        strata__free(w->buf);
        w->buf = NULL;
        return write_error(s, e);
    }
    s->next++;
    return STRATA_OK;
}

static int flush(strata__spill *s, strata__spill_writer *w)
{
    size_t done = 0;
    const off_t at = lseek(w->fd, 0, SEEK_CUR);
    int e = at < 0 ? 0 : strata__file_size_allowed((unsigned long long)at + w->len);
    if (e)
        return write_error(s, e);
    while (done < w->len) {
        ssize_t k = write(w->fd, w->buf + done, w->len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return write_error(s, k < 0 ? errno : ENOSPC);
        done += (size_t)k;
    }
    w->len = 0;
    return STRATA_OK;
}

int strata__spill_write(strata__spill *s, strata__spill_writer *w, const void *p, size_t n)
{
    const char *c = p;
    w->bytes += n;
    while (n > 0) {
        if (w->len == w->cap) {
            int rc = flush(s, w);
            if (rc)
                return rc;
        }
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, c, k);
        w->len += k;
        c += k;
        n -= k;
    }
    return STRATA_OK;
}

int strata__spill_finish(strata__spill *s, strata__spill_writer *w, int rc)
{
    if (w->fd >= 0) {
        if (!rc)
            rc = flush(s, w);
        if (close(w->fd) != 0 && !rc)
            rc = write_error(s, errno);
    }
    strata__free(w->buf);
    w->buf = NULL;
    w->fd = -1;
    return rc;
}

int strata__spill_read(strata__spill *s, int64_t file, uint64_t offset, void *buf, size_t n)
{
    char path[4400];
    file_path(s, file, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return strata__fail(s->msg, STRATA_E_IO_OPEN, "cannot read the temporary file '%s': %s",
                            path, strerror(errno));
    size_t done = 0;
    int e = 0;
    while (done < n) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            e = k < 0 ? errno : 0;
            break;
        }
        done += (size_t)k;
    }
    close(fd);
    if (done < n)
        return strata__fail(s->msg, STRATA_E_IO_OPEN,
                            "cannot read the temporary file '%s': %s", path,
                            e ? strerror(e) : "it ends early (changed by another program?)");
    return STRATA_OK;
}

void strata__spill_remove(strata__spill *s, int64_t file)
{
    char path[4400];
    file_path(s, file, path, sizeof path);
    unlink(path);
}
