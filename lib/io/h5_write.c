/* Writing new HDF5 files safely: HDF5 builds the file in memory (its "core"
 * driver, no disk I/O), then we write that image to a temporary file
 * "<path>.tmp.<pid>.<n>" in the destination folder, which is synced and
 * renamed into place only once it is complete (then the folder is synced), so
 * an existing file is never left half-written. HDF5 never sees a failed write:
 * HDF5 1.10 cannot close a file after one (its metadata cache stays broken,
 * "slist already enabled?") and crashes at exit; our own writes report the
 * exact errno (disk full, I/O error). Only a regular file is ever
 * replaced, never one the handle read its data from, and it keeps its owner
 * (where the system allows) and permissions. Temporaries left by a writer
 * that died (kill -9) are removed by the next write into the same folder; a
 * program can remove the one in progress from a signal handler with
 * strata_discard_temp_file(). */
#define _GNU_SOURCE /* renameat2 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/files.h"
#include "io/h5.h"
#include "io/h5_chunks.h"
#include "io/h5_lock.h"
#include "io/h5_tmp.h"
#include "io/spill.h"

/* The in-memory file grows by this much at a time. */
#define IMAGE_INCREMENT ((size_t)4 << 20)
/* Chunks of about this size fit HDF5's default 1 MiB chunk cache (and the
 * chunk packer's buffers). */
#define CHUNK_BYTES STRATA__PACK_CHUNK_MAX
/* Fast gzip: floats compress little, so higher levels mostly cost time. */
#define GZIP_LEVEL 1

/* A file being written under a temporary name (io/h5_tmp.h). */
typedef strata__h5_tmp writer;

/* The temporary files of the writes in progress, for strata_discard_temp_file()
 * (a signal handler): one slot per open writer (result files assembled with
 * strata_out stay open between calls, so several may be). Whoever swaps a
 * name out stops that write; its writer frees the name once no
 * strata_discard_temp_file() call runs (one may, in another thread). */
#define TMP_SLOTS 16
static _Atomic(char *) active_tmp[TMP_SLOTS];
static atomic_int discarding; /* strata_discard_temp_file() calls running */

int strata_discard_temp_file(void)
{
    int saved = errno; /* called from signal handlers */
    atomic_fetch_add(&discarding, 1);
    int removed = 0;
    for (int i = 0; i < TMP_SLOTS; i++) {
        char *tmp = atomic_exchange(&active_tmp[i], NULL);
        if (tmp && unlink(tmp) == 0)
            removed = 1;
    }
    atomic_fetch_sub(&discarding, 1);
    strata__spill_discard_all(); /* out-of-core temporary directories too */
    errno = saved;
    return removed;
}

/* Take a free slot for tmp (before the file exists: a signal may come at once). */
static int take_slot(char *tmp)
{
    for (int i = 0; i < TMP_SLOTS; i++) {
        char *none = NULL;
        if (atomic_compare_exchange_strong(&active_tmp[i], &none, tmp))
            return i;
    }
    return -1;
}

static int fail_exists(char *msg, const char *path)
{
    return strata__fail(msg, STRATA_E_IO_EXISTS,
                        "'%s' already exists (it is replaced only when forced)", path);
}

/* The output may be created, or replaced (with FORCE) when it is a regular
 * file that is none of the inputs. *old: its lstat(), st_mode 0 when absent. */
static int check_target(writer *w, struct stat *old)
{
    int rc = strata__refuse_input_as_output(w->path, w->inputs, w->ninputs, w->msg);
    if (rc)
        return rc;
    if (lstat(w->path, old) != 0) {
        old->st_mode = 0;
        return errno == ENOENT ? STRATA_OK
                               : strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s",
                                              w->path, strerror(errno));
    }
    if (!S_ISREG(old->st_mode))
        return strata__fail(w->msg, STRATA_E_IO_WRITE,
                            "cannot write '%s': it is a %s, and only a regular file is replaced",
                            w->path, strata__file_kind(old->st_mode));
    return w->flags & STRATA_WRITE_FORCE ? STRATA_OK : fail_exists(w->msg, w->path);
}

/* "<pid>.<counter>" in decimal and nothing more: the pid, else 0. */
static pid_t temp_owner(const char *s)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return 0;
    errno = 0;
    long pid = strtol(s, &end, 10);
    if (errno || *end != '.' || pid < 1 || pid > INT_MAX || !isdigit((unsigned char)end[1]))
        return 0;
    (void)strtoull(end + 1, &end, 10);
    return errno || *end ? 0 : (pid_t)pid;
}

/* Whether process pid is gone: no such process, or a zombie (dead, not yet
 * reaped: in a container whose first process reaps nothing, for ever). */
static int process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return 0;
    buf[len] = '\0';
    const char *paren = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold spaces */
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* Remove the temporaries of `base` in the folder that writers which died (kill
 * -9, power cut) left behind: "<base>.tmp.<pid>.<n>" where no process <pid>
 * exists or it is a zombie (or <pid> is ours: we write one file at a time and have not created
 * ours yet, so it is from an earlier process of the same pid), a regular file
 * of our user that nobody holds a lock on - HDF5 locks a file it writes, so a
 * writer in another pid namespace or on another host sharing the folder is
 * left alone. Best effort: any failure just leaves the file. */
/* A temporary's name keeps at most TMP_BASE_MAX bytes of the file's name,
 * so that ".tmp.<pid>.<n>" (at most 36 more) stays within NAME_MAX (255). */
#define TMP_BASE_MAX 215

static void sweep_stale(int dirfd, const char *base)
{
    size_t blen = strlen(base);
    if (blen > TMP_BASE_MAX)
        blen = TMP_BASE_MAX;
    int fd = blen ? openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const struct dirent *e;
    while ((e = readdir(dir))) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
            continue;
        pid_t pid = temp_owner(name + blen + 5);
        if (!pid || (pid != getpid() && !process_gone(pid)))
            continue;
        struct stat st, st2;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        int tfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (tfd < 0)
            continue;
        if (fstat(tfd, &st2) == 0 && st2.st_dev == st.st_dev && st2.st_ino == st.st_ino &&
            (flock(tfd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK))
            unlinkat(dirfd, name, 0);
        close(tfd);
    }
    closedir(dir);
}

/* The folder of path (opened for the sweep and the final fsync) and the
 * position of the file name in path. */
static int open_folder(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *folder = strata__strndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd = folder ? open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    strata__free(folder);
    return fd;
}

/* Create "<path>.tmp.<pid>.<counter>" (the name cut to TMP_BASE_MAX bytes
 * first) with open() first, for a precise errno
 * (missing folder, no permission). On failure too the caller ends with
 * strata__h5_tmp_finish(). */
int strata__h5_tmp_open(writer *w, const char *path, const strata__file_id *inputs, int ninputs,
                        int flags, int lock, char *msg)
{
    static unsigned long counter; /* guarded by the HDF5 lock */
    struct stat old;
    *w = (writer){.path = path, .inputs = inputs, .ninputs = ninputs, .fd = -1, .dirfd = -1,
                  .file = -1, .flags = flags, .slot = -1, .msg = msg};
    int rc = check_target(w, &old);
    if (rc)
        return rc;
    const char *base;
    w->dirfd = open_folder(path, &base);
    if (w->dirfd >= 0)
        sweep_stale(w->dirfd, base);
    size_t len = strlen(path) + 64;
    w->tmp = strata__alloc(len, 1);
    if (!w->tmp)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    const size_t blen = strlen(base) > TMP_BASE_MAX ? TMP_BASE_MAX : strlen(base);
    snprintf(w->tmp, len, "%.*s.tmp.%ld.%lu", (int)((size_t)(base - path) + blen), path,
             (long)getpid(), ++counter);
    if ((w->slot = take_slot(w->tmp)) < 0)
        return strata__fail(msg, STRATA_E_IO_WRITE, "cannot write '%s': %d result files are "
                            "being written at once already", path, TMP_SLOTS);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w->fd < 0)
        return strata__fail(msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", path,
                            strerror(errno));
    w->created = 1;
    if (lock)
        (void)flock(w->fd, LOCK_EX | LOCK_NB); /* keeps other writers' sweeps off it */
    return STRATA_OK;
}

/* The temporary file, and the HDF5 file built in memory that will fill it.
 * On failure too the caller ends with writer_finish(). */
static int writer_open(writer *w, const char *path, const strata__file_id *inputs, int ninputs,
                       int flags, char *msg)
{
    char cause[256];
    int rc = strata__h5_tmp_open(w, path, inputs, ninputs, flags, 1, msg);
    if (rc)
        return rc;
    /* In memory only (no backing store): the name is just HDF5's label. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, IMAGE_INCREMENT, 0) >= 0)
        w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (w->file < 0) /* the cause before H5Pclose(), which clears HDF5's error stack */
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot create HDF5 file '%s': %s", path,
                          strata__h5_cause(cause, sizeof cause));
    if (fapl >= 0)
        H5Pclose(fapl);
    return rc;
}

/* Write all of buf at the start of fd (which is empty), or fail with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    if ((errno = strata__file_size_allowed(len)))
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n == 0) { /* no progress and no errno: a full disk, as write(2) allows */
            errno = ENOSPC;
            return -1;
        }
        done += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* Close the HDF5 file and write its image to the temporary file. */
static int write_image(writer *w)
{
    char cause[256];
    ssize_t size = H5Fflush(w->file, H5F_SCOPE_LOCAL) < 0
                       ? -1 : H5Fget_file_image(w->file, NULL, 0);
    char *image = size > 0 ? malloc((size_t)size) : NULL;
    if (size > 0 && !image)
        return strata__fail(w->msg, STRATA_E_NOMEM, "out of memory writing '%s'", w->path);
    if (!image || H5Fget_file_image(w->file, image, (size_t)size) != size) {
        free(image);
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", w->path,
                            strata__h5_cause(cause, sizeof cause));
    }
    herr_t closed = H5Fclose(w->file);
    w->file = -1;
    int rc = closed < 0 ? strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s",
                                       w->path, strata__h5_cause(cause, sizeof cause))
             : write_all(w->fd, image, (size_t)size) != 0
                 ? strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", w->path,
                                strata__write_error_text(errno))
                 : STRATA_OK;
    free(image);
    return rc;
}

/* Move the finished file into place; without FORCE, never over a file that
 * appeared meanwhile (falls back to rename() where the file system lacks
 * RENAME_NOREPLACE). */
static int move_into_place(const char *tmp, const char *path, int flags)
{
    if (!(flags & STRATA_WRITE_FORCE)) {
        int err = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
        if (err == 0 || (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP))
            return err;
    }
    return rename(tmp, path);
}

/* The replaced file's owner (where the system lets us: a user can only give
 * a file a group of his) and permission bits for the new file. */
static int keep_owner_and_mode(writer *w, int fd, const struct stat *old)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
        fchown(fd, old->st_uid, old->st_gid) != 0)
        (void)!fchown(fd, (uid_t)-1, old->st_gid);
    if (fchmod(fd, old->st_mode & 0777) != 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot set the permissions of '%s': %s",
                            w->path, strerror(errno));
    return STRATA_OK;
}

/* fsync(), where the file system can: EINVAL and EROFS mean it cannot sync
 * this kind of file at all (nothing more can be done), not that data was lost. */
static int sync_fd(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : -1;
}

/* Check the target again (it may have changed during the write), give the
 * temporary the old file's owner and mode, flush it, rename it into place and
 * flush the folder: after a crash the path holds the old file or the new one.
 * Only a failure to flush the folder comes after the rename: then the new file
 * is in place but may not survive a crash, and the error says so. */
static int commit(writer *w)
{
    struct stat old;
    int rc = check_target(w, &old);
    if (!rc && old.st_mode)
        rc = keep_owner_and_mode(w, w->fd, &old);
    if (!rc && sync_fd(w->fd) != 0)
        rc = strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", w->path,
                          strerror(errno));
    if (!rc && atomic_load(&active_tmp[w->slot]) != w->tmp) /* strata_discard_temp_file() took it */
        rc = strata__fail(w->msg, STRATA_E_IO_WRITE,
                          "writing '%s' was interrupted: its temporary file was discarded",
                          w->path);
    if (!rc && move_into_place(w->tmp, w->path, w->flags) != 0)
        rc = errno == EEXIST ? fail_exists(w->msg, w->path)
                             : strata__fail(w->msg, STRATA_E_IO_WRITE,
                                            "cannot rename '%s' to '%s': %s", w->tmp, w->path,
                                            strerror(errno));
    if (rc)
        return rc;
    w->created = 0; /* the name is the output's now */
    if (w->dirfd >= 0 && sync_fd(w->dirfd) != 0)
        rc = strata__fail(w->msg, STRATA_E_IO_WRITE,
                          "'%s' is written, but its folder could not be flushed to disk, so "
                          "after a crash it may be the previous file: %s", w->path,
                          strerror(errno));
    return rc;
}

int strata__h5_tmp_finish(writer *w, int rc)
{
    strata__h5_packer_free(w->packer);
    w->packer = NULL;
    if (!rc)
        rc = commit(w);
    if (rc && w->created)
        unlink(w->tmp);
    if (w->fd >= 0)
        close(w->fd); /* after fsync: an error here can no longer lose data */
    char *mine = w->tmp;
    if (w->slot >= 0 && !atomic_compare_exchange_strong(&active_tmp[w->slot], &mine, NULL))
        while (atomic_load(&discarding)) /* the taker may still be in unlink(name) */
            sched_yield();
    strata__free(w->tmp);
    w->tmp = NULL;
    if (w->dirfd >= 0)
        close(w->dirfd);
    return rc;
}

static int write_provenance(writer *w);

/* Commit (rc == OK) or discard the temporary file; returns the final status. */
static int writer_finish(writer *w, int rc)
{
    strata__h5_packer_free(w->packer); /* before the image is copied */
    w->packer = NULL;
    if (!rc && w->file >= 0)
        rc = write_provenance(w);
    if (!rc)
        rc = write_image(w);
    if (w->file >= 0) /* in memory: closing cannot fail for want of disk */
        H5Fclose(w->file);
    w->file = -1;
    return strata__h5_tmp_finish(w, rc);
}

/* Chunks of whole rows, about CHUNK_BYTES each; a longer row is split. */
static void chunk_shape(int rank, const hsize_t *dims, size_t elem, hsize_t *chunk)
{
    hsize_t max_elems = CHUNK_BYTES / elem;
    hsize_t cols = rank == 2 ? dims[1] : 1;
    if (cols > max_elems)
        cols = max_elems;
    hsize_t rows = max_elems / cols;
    chunk[0] = rows < dims[0] ? rows : dims[0];
    if (rank == 2)
        chunk[1] = cols;
}

/* Whether chunks of a dataset of `file` may be packed by
 * strata__h5_write_chunks(): the in-memory image (not lib/mpi's parallel
 * file, which HDF5 writes chunk by chunk itself), memory and file types
 * alike (that writer does no conversion). */
static int packs_chunks(hid_t file, hid_t file_type, hid_t mem_type)
{
    hid_t fapl = H5Fget_access_plist(file);
    int core = fapl >= 0 && H5Pget_driver(fapl) == H5FD_CORE;
    if (fapl >= 0)
        H5Pclose(fapl);
    return core && H5Tequal(file_type, mem_type) > 0;
}

/* Create dataset `name` (intermediate groups included) of rank 1 or 2 and
 * write buf (mem_type) into it; chunked, shuffled and gzipped when `compress`
 * (io/h5_chunks.h: chunks that gzip does not shrink are stored as they are). */
static int write_dataset(writer *w, const char *name, int rank, const hsize_t *dims,
                         hid_t file_type, hid_t mem_type, const void *buf, int compress)
{
    char cause[256];
    hsize_t chunk[2];
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t err = space < 0 || lcpl < 0 || dcpl < 0 ? -1 : H5Pset_create_intermediate_group(lcpl, 1);
    /* no chunk fits a dimension of 0: such a dataset stays contiguous */
    if (err >= 0 && compress && dims[0] > 0 && (rank < 2 || dims[1] > 0)) {
        chunk_shape(rank, dims, H5Tget_size(file_type), chunk);
        err = H5Pset_chunk(dcpl, rank, chunk);
        if (err >= 0)
            err = H5Pset_shuffle(dcpl);
        if (err >= 0)
            err = H5Pset_deflate(dcpl, GZIP_LEVEL);
    }
    hid_t dset = err < 0 ? -1
                         : H5Dcreate2(w->file, name, file_type, space, lcpl, dcpl, H5P_DEFAULT);
    int packed = compress && dset >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
                 packs_chunks(w->file, file_type, mem_type);
    int packed_rc = STRATA_OK;
    if (packed)
        err = (packed_rc = strata__h5_write_chunks(&w->packer, dset, rank, dims, chunk,
                                                   H5Tget_size(file_type), buf, GZIP_LEVEL,
                                                   w->threads, cause, sizeof cause))
                  ? -1 : 0;
    else
        err = dset < 0 ? -1 : H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (err < 0 && !packed)
        strata__h5_cause(cause, sizeof cause);
    if (dset >= 0 && H5Dclose(dset) < 0 && err >= 0) {
        err = -1;
        strata__h5_cause(cause, sizeof cause);
    }
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    H5Sclose(space);
    if (err < 0)
        return strata__fail(w->msg, packed_rc ? packed_rc : STRATA_E_IO_WRITE,
                            "cannot write dataset '%s' to '%s': %s", name, w->path, cause);
    return STRATA_OK;
}

/* A scalar attribute of object (NULL: the root group); `value` is of mem_type. */
static int write_attr_on(writer *w, const char *object, const char *name, hid_t file_type,
                         hid_t mem_type, const void *value)
{
    char cause[256];
    hid_t obj = object ? H5Oopen(w->file, object, H5P_DEFAULT) : w->file;
    hid_t space = obj < 0 ? -1 : H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? -1
                           : H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t err = attr < 0 ? -1 : H5Awrite(attr, mem_type, value);
    if (attr >= 0 && H5Aclose(attr) < 0)
        err = -1;
    if (err < 0)
        strata__h5_cause(cause, sizeof cause);
    if (space >= 0)
        H5Sclose(space);
    if (object && obj >= 0)
        H5Oclose(obj);
    if (err < 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write attribute '%s'%s%s to '%s': %s",
                            name, object ? " of " : "", object ? object : "", w->path, cause);
    return STRATA_OK;
}

static int write_attr(writer *w, const char *name, hid_t file_type, hid_t mem_type,
                      const void *value)
{
    return write_attr_on(w, NULL, name, file_type, mem_type, value);
}

/* The variable-length UTF-8 string type: h5py reads it back as str. */
static hid_t string_type(void)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type >= 0 && (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)) {
        H5Tclose(type);
        type = -1;
    }
    return type;
}

static int write_attr_string_on(writer *w, const char *object, const char *name, const char *value)
{
    hid_t type = string_type();
    if (type < 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot make a string type for '%s'",
                            w->path);
    int rc = write_attr_on(w, object, name, type, type, &value);
    H5Tclose(type);
    return rc;
}

static int write_attr_string(writer *w, const char *name, const char *value)
{
    return write_attr_string_on(w, NULL, name, value);
}

/* A fixed-length ASCII string attribute, as PyTables writes pandas' (its
 * readers and ours take those). */
static int write_attr_fixed_string_on(writer *w, const char *object, const char *name,
                                      const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, strlen(value) + 1) < 0) {
        if (type >= 0)
            H5Tclose(type);
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot make a string type for '%s'",
                            w->path);
    }
    int rc = write_attr_on(w, object, name, type, type, value);
    H5Tclose(type);
    return rc;
}

static int write_strings(writer *w, const char *object, const char *attr,
                         const char *const *strs, int64_t n);

/* ---- pandas views --------------------------------------------------------
 * pandas reads an HDF5 file through PyTables (pd.read_hdf), and only groups
 * it wrote itself: a plain /labels dataset is not one. So every per-row
 * dataset beside a customer_id gets a view pandas reads as a Series indexed
 * by customer id, with no data copied: a group /pandas/<its path> with
 * pandas' attributes of a fixed-format Series and two hard links, "values"
 * to the dataset and "index" to the customer_id beside it (which gains the
 * attributes pandas reads an index with). include/strata.h, "pandas views". */

/* What the object at path is: H5I_GROUP, H5I_DATASET, ... (H5I_BADID: none). */
static H5I_type_t object_type(hid_t file, const char *path)
{
    hid_t obj = H5Oopen(file, path, H5P_DEFAULT);
    H5I_type_t t = obj < 0 ? H5I_BADID : H5Iget_type(obj);
    if (obj >= 0)
        H5Oclose(obj);
    return t;
}

/* The rows of the dataset at path if it is 1-D of an integer (float_ok:
 * or float) class; -1 else. */
static int64_t column_rows(hid_t file, const char *path, int float_ok)
{
    if (object_type(file, path) != H5I_DATASET)
        return -1;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t t = d < 0 ? -1 : H5Dget_type(d), sp = d < 0 ? -1 : H5Dget_space(d);
    H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    hsize_t dims[1];
    int64_t n = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SIMPLE &&
                        H5Sget_simple_extent_ndims(sp) == 1 &&
                        H5Sget_simple_extent_dims(sp, dims, NULL) == 1 &&
                        (cls == H5T_INTEGER || (float_ok && cls == H5T_FLOAT))
                    ? (int64_t)dims[0] : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    return n;
}

/* The per-row datasets found, to be viewed once the walk is over (a group
 * is not changed while it is iterated): counted by a first walk (path
 * NULL), listed by a second. */
typedef struct view_list {
    char (*path)[512]; /* the dataset */
    char (*key)[512];  /* the customer_id beside it */
    int n, cap;
} view_list;

typedef struct view_walk {
    writer *w;
    const char *group; /* "/" or "/rfm" */
    int64_t n;         /* rows of the group's customer_id; -1: none */
    int depth;
    view_list *out;
} view_walk;

static void views_in(writer *w, const char *group, int depth, view_list *out);

static herr_t view_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    view_walk *v = data;
    writer *w = v->w;
    const int root = !strcmp(v->group, "/");
    char path[512];
    if (info->type != H5L_TYPE_HARD ||
        snprintf(path, sizeof path, "%s/%s", root ? "" : v->group, name) >= (int)sizeof path)
        return 0;
    if (object_type(w->file, path) == H5I_GROUP) {
        if (v->depth < 8 && !(root && !strcmp(name, "pandas")))
            views_in(w, path, v->depth + 1, v->out);
        return 0;
    }
    if (v->n < 0 || !strcmp(name, "customer_id") || column_rows(w->file, path, 1) != v->n)
        return 0;
    view_list *l = v->out;
    if (l->path && l->n < l->cap) { /* the second walk: fill in (the first counts) */
        snprintf(l->path[l->n], sizeof l->path[0], "%s", path);
        snprintf(l->key[l->n], sizeof l->key[0], "%s/customer_id", root ? "" : v->group);
    }
    l->n++;
    return 0;
}

/* group's per-row datasets, then its subgroups' (a group that cannot be
 * read has none). */
static void views_in(writer *w, const char *group, int depth, view_list *out)
{
    char key[600];
    snprintf(key, sizeof key, "%s/customer_id", strcmp(group, "/") ? group : "");
    view_walk v = {w, group, H5Lexists(w->file, key, H5P_DEFAULT) > 0
                                 ? column_rows(w->file, key, 0) : -1, depth, out};
    hid_t g = H5Gopen2(w->file, group, H5P_DEFAULT);
    if (g < 0)
        return;
    hsize_t at = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &at, view_link, &v);
    H5Gclose(g);
}

/* The view of dataset path, indexed by key. */
static int write_view(writer *w, const char *path, const char *key)
{
    char view[600];
    snprintf(view, sizeof view, "/pandas%s", path);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t vg = lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0
                   ? -1 : H5Gcreate2(w->file, view, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    herr_t err = vg < 0 ? -1 : H5Lcreate_hard(w->file, path, vg, "values", H5P_DEFAULT, H5P_DEFAULT);
    if (err >= 0)
        err = H5Lcreate_hard(w->file, key, vg, "index", H5P_DEFAULT, H5P_DEFAULT);
    if (vg >= 0)
        H5Gclose(vg);
    if (err < 0) {
        char cause[256];
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s' to '%s': %s", view,
                            w->path, strata__h5_cause(cause, sizeof cause));
    }
    static const char *const attrs[][2] = {{"pandas_type", "series"},
                                           {"pandas_version", "0.15.2"},
                                           {"encoding", "UTF-8"},
                                           {"errors", "strict"},
                                           {"index_variety", "regular"}};
    int rc = STRATA_OK;
    for (size_t i = 0; !rc && i < sizeof attrs / sizeof attrs[0]; i++)
        rc = write_attr_fixed_string_on(w, view, attrs[i][0], attrs[i][1]);
    if (!rc)
        rc = write_attr_fixed_string_on(w, view, "name", strrchr(path, '/') + 1);
    /* how pandas reads an index: its kind and name (where not set already) */
    hid_t d = rc ? -1 : H5Oopen(w->file, key, H5P_DEFAULT);
    const int kind = d >= 0 && H5Aexists(d, "kind") > 0, named = d >= 0 && H5Aexists(d, "name") > 0;
    if (d >= 0)
        H5Oclose(d);
    if (!rc && !kind)
        rc = write_attr_fixed_string_on(w, key, "kind", "integer");
    if (!rc && !named)
        rc = write_attr_string_on(w, key, "name", "customer_id");
    return rc;
}

static int write_pandas_views(writer *w)
{
    if (H5Lexists(w->file, "/pandas", H5P_DEFAULT) != 0) /* written already, or a name taken */
        return STRATA_OK;
    view_list l = {0};
    views_in(w, "/", 0, &l); /* count */
    if (!l.n)
        return STRATA_OK;
    int rc = STRATA_OK;
    l.cap = l.n;
    l.path = strata__alloc((size_t)l.cap, sizeof *l.path);
    l.key = strata__alloc((size_t)l.cap, sizeof *l.key);
    if (!l.path || !l.key)
        rc = strata__fail(w->msg, STRATA_E_NOMEM, "out of memory writing '%s'", w->path);
    l.n = 0;
    if (!rc)
        views_in(w, "/", 0, &l);
    for (int i = 0; !rc && i < l.n && i < l.cap; i++)
        rc = write_view(w, l.path[i], l.key[i]);
    strata__free(l.path);
    strata__free(l.key);
    return rc;
}

/* Every result file says which libstrata wrote it and when: the root
 * attributes strata_version and created (ISO-8601 UTC, the time of the
 * write), unless its writer set them. */
static int write_provenance(writer *w)
{
    int rc = write_pandas_views(w);
    if (!rc && H5Aexists(w->file, "strata_version") == 0)
        rc = write_attr_string(w, "strata_version", STRATA_VERSION_STRING);
    if (!rc && H5Aexists(w->file, "created") == 0) {
        char now[32] = "unknown";
        time_t t = time(NULL);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        rc = write_attr_string(w, "created", now);
    }
    return rc;
}

/* Process-local part of a /labels written by several processes: this one
 * writes rows [lo, hi) with the transfer properties dxpl. */
typedef struct labels_part {
    int64_t lo, hi;
    hid_t dxpl;
} labels_part;

/* /labels as one int32 dataset of n rows, chunked with shuffle + gzip as
 * the serial writer's, of which this process writes its rows (a hyperslab;
 * none when lo == hi) in the collective write of part->dxpl (parallel HDF5
 * compresses a chunk that several processes share on one of them). */
static int write_labels_part(writer *w, const strata__kmeans_output *o, const labels_part *part)
{
    char cause[256];
    hsize_t dims[1] = {(hsize_t)o->n}, start[1] = {(hsize_t)part->lo},
            count[1] = {(hsize_t)(part->hi - part->lo)}, chunk[1];
    hid_t fspace = H5Screate_simple(1, dims, NULL);
    hid_t mspace = H5Screate_simple(1, count[0] ? count : dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t made = dcpl < 0 ? -1 : 0;
    if (made >= 0 && dims[0] > 0) { /* no chunk fits a dimension of 0 */
        chunk_shape(1, dims, 4, chunk);
        made = H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
                       H5Pset_deflate(dcpl, GZIP_LEVEL) < 0
                   ? -1 : 0;
    }
    hid_t dset = fspace < 0 || mspace < 0 || made < 0 ? -1
                 : H5Dcreate2(w->file, "/labels", H5T_STD_I32LE, fspace, H5P_DEFAULT, dcpl,
                              H5P_DEFAULT);
    herr_t err = dset < 0 ? -1
                 : count[0] ? H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL)
                            : H5Sselect_none(fspace);
    if (err >= 0 && !count[0])
        err = H5Sselect_none(mspace);
    if (err >= 0)
        err = H5Dwrite(dset, H5T_NATIVE_INT32, mspace, fspace, part->dxpl,
                       count[0] ? o->labels + part->lo : o->labels);
    if (err < 0)
        strata__h5_cause(cause, sizeof cause);
    if (dset >= 0 && H5Dclose(dset) < 0 && err >= 0) {
        err = -1;
        strata__h5_cause(cause, sizeof cause);
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (err < 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write dataset '/labels' to "
                            "'%s': %s", w->path, cause);
    return STRATA_OK;
}

static int write_kmeans_content(writer *w, const strata__kmeans_output *o,
                                const labels_part *part)
{
    hsize_t ldims[1] = {(hsize_t)o->n}, cdims[2] = {(hsize_t)o->k, (hsize_t)o->d};
    int32_t converged = o->converged != 0;
    int rc;
    if ((rc = part ? write_labels_part(w, o, part)
                   : write_dataset(w, "/labels", 1, ldims, H5T_STD_I32LE, H5T_NATIVE_INT32,
                                   o->labels, 1)) ||
        (rc = write_dataset(w, "/centroids", 2, cdims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                            o->centroids, 0)) ||
        (rc = write_attr(w, "k", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->k)) ||
        (rc = write_attr(w, "inertia", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &o->inertia)) ||
        (rc = write_attr(w, "n_iter", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->n_iter)) ||
        (rc = write_attr(w, "converged", H5T_STD_I32LE, H5T_NATIVE_INT32, &converged)) ||
        (rc = write_attr(w, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->seed)) ||
        (rc = write_attr_string(w, "algorithm", o->algorithm ? o->algorithm : "")) ||
        (rc = write_attr_string(w, "strata_version", STRATA_VERSION_STRING)))
        return rc;
    if ((rc = write_attr_string(w, "source", o->source ? o->source : "")))
        return rc;
    if (o->init && /* the other parameters of the fit */
        ((rc = write_attr(w, "max_iter", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->max_iter)) ||
         (rc = write_attr(w, "n_init", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->n_init)) ||
         (rc = write_attr(w, "tol", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &o->tol)) ||
         (rc = write_attr_string(w, "init", o->init)) ||
         (rc = write_attr(w, "streamed", H5T_STD_I32LE, H5T_NATIVE_INT32, &o->streamed))))
        return rc;
    if ((o->batch_size > 0 &&
         (rc = write_attr(w, "batch_size", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->batch_size))) ||
        (o->chain_length > 0 &&
         (rc = write_attr(w, "chain_length", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->chain_length))) ||
        (o->memory > 0 && (rc = write_attr(w, "memory", H5T_STD_I64LE, H5T_NATIVE_INT64, &o->memory))) ||
        (o->init_from && (rc = write_attr_string(w, "init_centroids", o->init_from))))
        return rc;
    /* a fit on a frame (strata_kmeans_fit_frame) also keeps its names and keys */
    if (o->feature_names && (rc = write_strings(w, "/feature_names", NULL, o->feature_names, o->d)))
        return rc;
    if (!o->customer_id)
        return STRATA_OK;
    if ((rc = write_dataset(w, "/customer_id", 1, ldims, H5T_STD_I64LE, H5T_NATIVE_INT64,
                            o->customer_id, 1)))
        return rc;
    return write_attr_string_on(w, "/customer_id", "name", o->key_name ? o->key_name : "");
}

int strata__h5_write_kmeans(const char *path, const strata__kmeans_output *out, int flags,
                            char *msg)
{
    strata__h5_guard g;
    writer w;
    strata__h5_enter(&g);
    int rc = writer_open(&w, path, out->inputs, out->ninputs, flags, msg);
    w.threads = out->threads;
    if (!rc)
        rc = write_kmeans_content(&w, out, NULL);
    rc = writer_finish(&w, rc);
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_kmeans_into(hid_t file, const char *path, const strata__kmeans_output *o,
                           int64_t lo, int64_t hi, hid_t dxpl, const char *created,
                           int64_t ranks, char *msg)
{
    writer w = {.path = path, .file = file, .fd = -1, .dirfd = -1, .slot = -1, .msg = msg};
    const labels_part part = {lo, hi, dxpl};
    int rc = write_kmeans_content(&w, o, &part);
    if (!rc)
        rc = write_attr_string(&w, "created", created);
    if (!rc && ranks > 0)
        rc = write_attr(&w, "mpi_ranks", H5T_STD_I64LE, H5T_NATIVE_INT64, &ranks);
    return rc;
}

int strata__h5_write_matrix(const char *path, const char *dataset, int dtype, const void *buf,
                            int64_t n, int64_t d, int flags, char *msg)
{
    size_t len = strlen(dataset);
    if (len == 0 || dataset[len - 1] == '/')
        return strata__fail(msg, STRATA_E_ARG, "'%s' is not a valid dataset name", dataset);
    strata__h5_guard g;
    writer w;
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    int f32 = dtype == STRATA_FLOAT32;
    strata__h5_enter(&g);
    int rc = writer_open(&w, path, NULL, 0, flags, msg);
    if (!rc)
        rc = write_dataset(&w, dataset, 2, dims, f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                           f32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE, buf, 1);
    rc = writer_finish(&w, rc);
    strata__h5_leave(&g);
    return rc;
}

/* ---- RFM results ---------------------------------------------------------- */

/* n variable-length UTF-8 strings: as the 1-D dataset `object` (attr NULL),
 * or as the attribute `attr` of the existing object `object`. */
static int write_strings(writer *w, const char *object, const char *attr,
                         const char *const *strs, int64_t n)
{
    char cause[256];
    hsize_t dims[1] = {(hsize_t)n};
    hid_t type = string_type();
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t obj = -1, item = -1;
    herr_t err = type < 0 || space < 0 || lcpl < 0 ||
                         H5Pset_create_intermediate_group(lcpl, 1) < 0
                     ? -1 : 0;
    if (err >= 0 && attr) {
        obj = H5Oopen(w->file, object, H5P_DEFAULT);
        item = obj < 0 ? -1 : H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
        err = item < 0 ? -1 : H5Awrite(item, type, strs);
    } else if (err >= 0) {
        item = H5Dcreate2(w->file, object, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        err = item < 0 ? -1 : H5Dwrite(item, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strs);
    }
    if (err < 0)
        strata__h5_cause(cause, sizeof cause);
    if (item >= 0 && (attr ? H5Aclose(item) : H5Dclose(item)) < 0 && err >= 0) {
        err = -1;
        strata__h5_cause(cause, sizeof cause);
    }
    if (obj >= 0 && H5Oclose(obj) < 0 && err >= 0) {
        err = -1;
        strata__h5_cause(cause, sizeof cause);
    }
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (err < 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write %s%s%s to '%s': %s",
                            object, attr ? " attribute " : "", attr ? attr : "", w->path, cause);
    return STRATA_OK;
}

/* The RFM result under group `prefix` ("" or "/" = the root; else "/name"):
 * datasets prefix/..., attributes on that group. */
static int write_rfm_content(writer *w, const char *prefix, const strata__rfm_output *o)
{
    if (!strcmp(prefix, "/"))
        prefix = "";
    const char *where = prefix[0] ? prefix : NULL; /* the attributes' object */
    char nm[STRATA__H5_NAME_MAX];
#define NAMED(s) (snprintf(nm, sizeof nm, "%s%s", prefix, (s)), nm)
    static const char *const RULE_COLUMNS[8] = {"r_lo", "r_hi", "f_lo", "f_hi",
                                                "m_lo", "m_hi", "fm_lo", "fm_hi"};
    static const char *const EDGES[3] = {"/edges/recency", "/edges/frequency", "/edges/monetary"};
    const struct {
        const char *name;
        const void *data;
        hid_t file_type, mem_type;
    } cols[] = {
        {"/customer_id", o->customer_id, H5T_STD_I64LE, H5T_NATIVE_INT64},
        {"/recency", o->recency, H5T_STD_I64LE, H5T_NATIVE_INT64},
        {"/frequency", o->frequency, H5T_STD_I64LE, H5T_NATIVE_INT64},
        {"/monetary", o->monetary, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE},
        {"/revenue", o->revenue, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE},
        {"/first_day", o->first_day, H5T_STD_I64LE, H5T_NATIVE_INT64},
        {"/tenure", o->tenure, H5T_STD_I64LE, H5T_NATIVE_INT64},
        {"/r", o->r, H5T_STD_I32LE, H5T_NATIVE_INT32},
        {"/f", o->f, H5T_STD_I32LE, H5T_NATIVE_INT32},
        {"/m", o->m, H5T_STD_I32LE, H5T_NATIVE_INT32},
        {"/code", o->code, H5T_STD_I32LE, H5T_NATIVE_INT32},
        {"/score", o->score, H5T_STD_I32LE, H5T_NATIVE_INT32},
        {"/segment", o->segment, H5T_STD_I32LE, H5T_NATIVE_INT32},
    };
    hsize_t n[1] = {(hsize_t)o->n}, nseg[1] = {(hsize_t)o->nseg}, rules[2] = {nseg[0], 8},
            nedges[1] = {(hsize_t)(o->q + 1)};
    int rc = STRATA_OK;
    for (size_t k = 0; k < sizeof cols / sizeof cols[0] && !rc; k++)
        rc = write_dataset(w, NAMED(cols[k].name), 1, n, cols[k].file_type, cols[k].mem_type,
                           cols[k].data, 1);
    if (!rc)
        rc = write_strings(w, NAMED("/segment"), "names", o->names, o->nseg);
    if (!rc)
        rc = write_strings(w, NAMED("/profile/name"), NULL, o->names, o->nseg);
    if (!rc)
        rc = write_dataset(w, NAMED("/profile/rules"), 2, rules, H5T_STD_I32LE, H5T_NATIVE_INT32,
                           o->rules, 0);
    if (!rc)
        rc = write_strings(w, NAMED("/profile/rules"), "columns", RULE_COLUMNS, 8);
    for (int64_t s = 0; s < o->nstats && !rc; s++) {
        char name[STRATA__H5_NAME_MAX];
        snprintf(name, sizeof name, "%s/profile/%s", prefix, o->stat_names[s]);
        rc = write_dataset(w, name, 1, nseg, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                           o->profile + s * o->nseg, 0);
    }
    for (int k = 0; k < 3 && !rc; k++)
        rc = write_dataset(w, NAMED(EDGES[k]), 1, nedges, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                           o->edges[k], 0);
    for (int64_t a = 0; a < o->nattr_int && !rc; a++)
        rc = write_attr_on(w, where, o->attr_int_names[a], H5T_STD_I64LE, H5T_NATIVE_INT64,
                        &o->attr_int_values[a]);
    for (int64_t a = 0; a < o->nattr_str && !rc; a++)
        rc = write_attr_string_on(w, where, o->attr_str_names[a], o->attr_str_values[a]);
#undef NAMED
    return rc;
}

static int finish_streamed(writer *w, int rc);

/* The most bytes an RFM result file takes: its columns raw (the chunks gzip
 * does not shrink grow by a few bytes in 16 KB), the profile and edges, and
 * the metadata (object headers, chunk indexes, attributes, names). */
static unsigned long long rfm_file_bound(const strata__rfm_output *o)
{
    const double raw = (double)o->n * (7 * 8 + 6 * 4);
    double names = 0;
    for (int64_t g = 0; g < o->nseg; g++)
        names += 2.0 * (double)strlen(o->names[g]);
    return (unsigned long long)(raw + raw / 256 + (raw / (double)CHUNK_BYTES + 13) * 1024 +
                                (double)o->nseg * (8 * 4 + (double)o->nstats * 8 + 64) + names +
                                (double)(o->q + 1) * 24 + ((size_t)1 << 20));
}

/* The temporary file, and the HDF5 file that HDF5 writes onto it itself (no
 * image in memory): not flocked by us (HDF5 opens the file again, and our
 * lock would refuse it); HDF5's own locking is off (a private temporary).
 * Whoever writes into it reserves the disk space ahead of HDF5's writes
 * (reserve_on_disk(), or h5_stream.c's). On failure too the caller ends with
 * finish_streamed(). */
static int create_on_disk(writer *w, const char *path, const strata__file_id *inputs,
                          int ninputs, int flags, char *msg)
{
    char cause[256];
    int rc = strata__h5_tmp_open(w, path, inputs, ninputs, flags, 0, msg);
    hid_t fapl = rc ? -1 : H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_sec2(fapl) >= 0 && H5Pset_file_locking(fapl, 0, 1) >= 0)
        w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (!rc && w->file < 0) /* the cause before H5Pclose(), which clears HDF5's error stack */
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot create HDF5 file '%s': %s", path,
                          strata__h5_cause(cause, sizeof cause));
    if (fapl >= 0)
        H5Pclose(fapl);
    return rc;
}

/* Metadata HDF5 may still hold in its cache, to be written at the latest
 * when the file is closed: room kept beyond every reservation. */
#define ON_DISK_SLACK ((unsigned long long)1 << 20)

/* Disk space for `bytes` more that HDF5 writes onto the temporary file of an
 * on-disk write (HDF5 must never see a failed write, see the top): the
 * file's end so far, bytes, 1/256 of both (chunk indexes) and ON_DISK_SLACK,
 * checked against the file size limit (ulimit -f) and reserved with
 * fallocate, so a full disk or that limit fails here, named. Where the file
 * system cannot reserve, writes go ahead unreserved. */
static int reserve_on_disk(writer *w, unsigned long long bytes)
{
    hsize_t size = 0;
    if (w->file < 0 || H5Fget_filesize(w->file, &size) < 0)
        size = 0;
    const unsigned long long end = size + bytes + (size + bytes) / 256 + ON_DISK_SLACK;
    int e = strata__file_size_allowed(end);
    if (!e && fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)end) != 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS) /* where it cannot reserve: unreserved */
        e = errno;
    struct rlimit rl;
    if (e == EFBIG && getrlimit(RLIMIT_FSIZE, &rl) == 0) /* the room reserved, not the file */
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': with the room it "
                            "reserves as it is written (%llu bytes) it would exceed the file "
                            "size limit of this process (%llu bytes, ulimit -f)", w->path, end,
                            (unsigned long long)rl.rlim_cur);
    return e ? strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", w->path,
                            strata__write_error_text(e))
             : STRATA_OK;
}

/* The RFM result written by HDF5 onto the temporary file itself (no image
 * in memory), its disk space reserved first. */
static int write_rfm_on_disk(const char *path, const strata__rfm_output *o, int flags,
                             char *msg)
{
    writer w;
    int rc = create_on_disk(&w, path, o->inputs, o->ninputs, flags, msg);
    if (!rc)
        rc = reserve_on_disk(&w, rfm_file_bound(o));
    if (!rc)
        rc = write_rfm_content(&w, "", o);
    return finish_streamed(&w, rc);
}

int strata__h5_write_rfm(const char *path, const strata__rfm_output *o, int flags, char *msg)
{
    strata__h5_guard g;
    writer w;
    strata__h5_enter(&g);
    int rc;
    if (o->on_disk)
        rc = write_rfm_on_disk(path, o, flags, msg);
    else {
        rc = writer_open(&w, path, o->inputs, o->ninputs, flags, msg);
        w.threads = o->threads;
        if (!rc)
            rc = write_rfm_content(&w, "", o);
        rc = writer_finish(&w, rc);
    }
    strata__h5_leave(&g);
    return rc;
}

/* ---- Any result file -------------------------------------------------------- */

/* The HDF5 lock is taken per call, not held from open to finish: the
 * in-memory file stays open between calls, which may come from any thread
 * (one at a time) with other lib/io calls between them. */
struct strata__h5_out {
    writer w;
    strata__file_id inputs[STRATA__H5_OUT_MAX_INPUTS];
    /* HDF5 writes w.file on the temporary file itself: OUT_STREAMED, the
     * stream of h5_stream.c (which reserves the space); OUT_ON_DISK, the
     * parts of strata__h5_out_open() with STRATA_WRITE_ON_DISK, each
     * reserving its space first (reserve_on_disk()) */
    int streamed;
};
enum { OUT_IMAGE, OUT_STREAMED, OUT_ON_DISK };

/* Before a part of an on-disk file: disk space for `bytes` more. */
static int out_reserve(strata__h5_out *o, unsigned long long bytes)
{
    return o->streamed == OUT_ON_DISK ? reserve_on_disk(&o->w, bytes) : STRATA_OK;
}

/* What a dataset of `bytes` raw may take in the file: its chunks shuffled and
 * gzipped (a chunk gzip does not shrink grows by a few bytes in 16 KB), one
 * chunk-index entry and header each, and the object's header. */
static unsigned long long dataset_bound(unsigned long long bytes)
{
    return bytes + bytes / 256 + (bytes / CHUNK_BYTES + 2) * 1024 + 4096;
}

/* Strings: their bytes (twice: a heap copy), a header each, the object. */
static unsigned long long strings_bound(const char *const *strs, int64_t n)
{
    unsigned long long bytes = 4096;
    for (int64_t i = 0; i < n; i++)
        bytes += 2 * (strlen(strs[i]) + 32);
    return bytes;
}

int strata__h5_out_types(int type, hid_t *file_type, hid_t *mem_type, size_t *size)
{
    switch (type) {
    case STRATA__H5_I32: *file_type = H5T_STD_I32LE; *mem_type = H5T_NATIVE_INT32; *size = 4; return 1;
    case STRATA__H5_I64: *file_type = H5T_STD_I64LE; *mem_type = H5T_NATIVE_INT64; *size = 8; return 1;
    case STRATA__H5_F32: *file_type = H5T_IEEE_F32LE; *mem_type = H5T_NATIVE_FLOAT; *size = 4; return 1;
    case STRATA__H5_F64: *file_type = H5T_IEEE_F64LE; *mem_type = H5T_NATIVE_DOUBLE; *size = 8; return 1;
    case STRATA__H5_U8: *file_type = H5T_STD_U8LE; *mem_type = H5T_NATIVE_UINT8; *size = 1; return 1;
    default: return 0;
    }
}

int strata__h5_out_open(strata__h5_out **out, const char *path, const strata__file_id *inputs,
                        int ninputs, int flags, char *msg)
{
    *out = NULL;
    if (ninputs < 0 || ninputs > STRATA__H5_OUT_MAX_INPUTS)
        return strata__fail(msg, STRATA_E_INTERNAL, "too many protected inputs (%d)", ninputs);
    strata__h5_out *o = strata__calloc(1, sizeof *o);
    if (!o)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    for (int i = 0; i < ninputs; i++)
        o->inputs[i] = inputs[i];
    strata__h5_guard g;
    strata__h5_enter(&g);
    o->streamed = flags & STRATA_WRITE_ON_DISK ? OUT_ON_DISK : OUT_IMAGE;
    flags &= ~STRATA_WRITE_ON_DISK;
    int rc = o->streamed == OUT_ON_DISK
                 ? create_on_disk(&o->w, path, o->inputs, ninputs, flags, msg)
                 : writer_open(&o->w, path, o->inputs, ninputs, flags, msg);
    if (rc)
        (void)(o->streamed == OUT_ON_DISK ? finish_streamed(&o->w, rc)
                                          : writer_finish(&o->w, rc));
    strata__h5_leave(&g);
    if (rc) {
        strata__free(o);
        return rc;
    }
    *out = o;
    return STRATA_OK;
}

void strata__h5_out_threads(strata__h5_out *o, int threads)
{
    o->w.threads = threads;
}

int strata__h5_out_dataset(strata__h5_out *o, const char *name, int type, int rank,
                           const int64_t *dims, const void *data)
{
    hid_t ft, mt;
    size_t size;
    if (!strata__h5_out_types(type, &ft, &mt, &size) || rank < 1 || rank > 2)
        return strata__fail(o->w.msg, STRATA_E_INTERNAL, "bad dataset type or rank for '%s'", name);
    hsize_t hd[2] = {(hsize_t)dims[0], rank == 2 ? (hsize_t)dims[1] : 1};
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, dataset_bound((unsigned long long)(hd[0] * hd[1] * size)));
    if (!rc)
        rc = write_dataset(&o->w, name, rank, hd, ft, mt, data, 1);
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_out_strings(strata__h5_out *o, const char *object, const char *attr,
                           const char *const *strs, int64_t n)
{
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, strings_bound(strs, n));
    if (!rc)
        rc = write_strings(&o->w, object, attr, strs, n);
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_out_attr(strata__h5_out *o, const char *object, const char *name, int type,
                        const void *value)
{
    hid_t ft, mt;
    size_t size;
    if (!strata__h5_out_types(type, &ft, &mt, &size))
        return strata__fail(o->w.msg, STRATA_E_INTERNAL, "bad attribute type for '%s'", name);
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, 4096);
    if (!rc)
        rc = write_attr_on(&o->w, object && strcmp(object, "/") ? object : NULL, name, ft, mt,
                           value);
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_out_attr_string(strata__h5_out *o, const char *object, const char *name,
                               const char *value)
{
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, 4096 + 2 * strlen(value ? value : ""));
    if (!rc)
        rc = write_attr_string_on(&o->w, object && strcmp(object, "/") ? object : NULL, name,
                                  value ? value : "");
    strata__h5_leave(&g);
    return rc;
}

static int make_group(writer *w, const char *name)
{
    char cause[256];
    if (H5Lexists(w->file, name, H5P_DEFAULT) > 0)
        return STRATA_OK;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t g = lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0
                  ? -1 : H5Gcreate2(w->file, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        strata__h5_cause(cause, sizeof cause);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (g < 0)
        return strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot create group '%s' in '%s': %s",
                            name, w->path, cause);
    H5Gclose(g);
    return STRATA_OK;
}

int strata__h5_out_group(strata__h5_out *o, const char *name)
{
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, 4096);
    if (!rc)
        rc = make_group(&o->w, name);
    strata__h5_leave(&g);
    return rc;
}

/* The streamed file is closed by HDF5 onto the temporary file; its space
 * was reserved ahead (h5_stream.c), so the close does not run out of disk. */
static int finish_streamed(writer *w, int rc)
{
    char cause[256];
    if (!rc && w->file >= 0)
        rc = write_provenance(w);
    if (w->file >= 0 && H5Fclose(w->file) < 0) {
        strata__h5_unclosable();
        if (!rc)
            rc = strata__fail(w->msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", w->path,
                              strata__h5_cause(cause, sizeof cause));
    }
    w->file = -1;
    struct stat st; /* give back the space reserved beyond the end */
    if (w->fd >= 0 && fstat(w->fd, &st) == 0)
        (void)!ftruncate(w->fd, st.st_size);
    return strata__h5_tmp_finish(w, rc);
}

int strata__h5_out_open_streamed(strata__h5_out **out, const char *path, int flags, char *msg)
{
    *out = NULL;
    strata__h5_out *o = strata__calloc(1, sizeof *o);
    if (!o)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    o->streamed = OUT_STREAMED;
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = create_on_disk(&o->w, path, NULL, 0, flags, msg);
    if (rc)
        finish_streamed(&o->w, rc);
    strata__h5_leave(&g);
    if (rc) {
        strata__free(o);
        return rc;
    }
    *out = o;
    return STRATA_OK;
}

hid_t strata__h5_out_hid(const strata__h5_out *o, int *fd, const char **path, char **msg)
{
    *fd = o->w.fd;
    *path = o->w.path;
    *msg = o->w.msg;
    return o->w.file;
}

int strata__h5_out_finish(strata__h5_out *o, int rc)
{
    if (!o)
        return rc;
    strata__h5_guard g;
    strata__h5_enter(&g);
    if (!rc && o->streamed == OUT_ON_DISK) /* the pandas views and provenance to come */
        rc = reserve_on_disk(&o->w, 256 << 10);
    rc = o->streamed ? finish_streamed(&o->w, rc) : writer_finish(&o->w, rc);
    strata__h5_leave(&g);
    strata__free(o);
    return rc;
}

int strata__h5_out_rfm(strata__h5_out *o, const char *group, const strata__rfm_output *ro)
{
    if (strlen(group) >= STRATA__H5_NAME_MAX / 2)
        return strata__fail(o->w.msg, STRATA_E_ARG, "group name '%.40s...' is too long", group);
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = out_reserve(o, rfm_file_bound(ro));
    if (!rc && strcmp(group, "/") && group[0])
        rc = make_group(&o->w, group);
    if (!rc)
        rc = write_rfm_content(&o->w, group, ro);
    strata__h5_leave(&g);
    return rc;
}
