/* Streamed HDF5 writes (include/strata.h, "Files written as a stream"):
 * datasets that grow by appended blocks of rows, written by HDF5 onto the
 * temporary file of lib/io/h5_write.c as they come, so that memory holds one
 * block and the chunk caches whatever the file's size.
 *
 * HDF5 must never see a failed write (libhdf5 1.10 cannot close a file after
 * one, and may crash at exit): before each block, disk space for the file's
 * current end plus the whole chunks the block touches plus every dataset's
 * chunk cache (chunks not yet written) and the metadata is reserved with fallocate(FALLOC_FL_KEEP_SIZE), so a full disk
 * (or quota) is reported by us, with the file intact; a file size limit
 * (ulimit -f) is checked the same way. Where the file system cannot reserve
 * space (EOPNOTSUPP), writes go ahead unreserved. */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
#include "io/h5_lock.h"
#include "io/h5_tmp.h"

/* Default chunk: about this many bytes of whole rows. */
#define CHUNK_BYTES ((int64_t)1 << 20)
/* Largest chunk accepted (HDF5 caps chunks at 4 GiB; caches hold two). */
#define CHUNK_MAX ((int64_t)64 << 20)
/* Reserved beyond what the next block needs, for metadata (B-tree nodes of
 * the chunk indexes, object headers, the superblock): this much, plus 1/256
 * of the file (chunk indexes grow with it; ~40 bytes a chunk of ~1 MiB) and
 * of the block; the reservation grows by 1/8 at a time. */
#define SLACK ((int64_t)256 << 10)
#define GZIP_LEVEL 1

typedef struct stream_set {
    char name[STRATA__H5_NAME_MAX];
    hid_t dset, mem_type; /* mem_type: native element, or the packed record */
    int type;             /* STRATA__H5_*; 0 for a table */
    int64_t cols;         /* 0: 1-D; else the second dimension */
    int nfields;          /* a table's fields (0 otherwise) */
    int *ftypes;          /* their STRATA__H5_* types */
    size_t *offsets;      /* their offsets in a packed record */
    size_t row_bytes;     /* of one row (record) */
    int64_t rows, chunk_rows;
} stream_set;

struct strata__h5_stream {
    strata__h5_out *out;
    stream_set *sets;
    int nsets, cap;
    int64_t reserved;   /* bytes of the temporary file reserved so far */
    int64_t cache;      /* bytes all chunk caches may hold */
    int no_reserve;     /* the file system cannot reserve space */
    rlim_t fsize_limit; /* RLIMIT_FSIZE */
};

/* The writer's element types; a stream has no uint8 datasets. */
static int types_of(int type, hid_t *file_type, hid_t *mem_type, size_t *size)
{
    return type != STRATA__H5_U8 && strata__h5_out_types(type, file_type, mem_type, size);
}

int strata__h5_stream_open(strata__h5_stream **out, const char *path, int flags, char *msg)
{
    *out = NULL;
    strata__h5_stream *s = strata__calloc(1, sizeof *s);
    if (!s)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    int rc = strata__h5_out_open_streamed(&s->out, path, flags, msg);
    if (rc) {
        strata__free(s);
        return rc;
    }
    struct rlimit lim;
    s->fsize_limit = getrlimit(RLIMIT_FSIZE, &lim) == 0 ? lim.rlim_cur : RLIM_INFINITY;
    *out = s;
    return STRATA_OK;
}

strata__h5_out *strata__h5_stream_out(strata__h5_stream *s)
{
    return s->out;
}

/* Reserve space for `bytes` more written by HDF5 (see the top). */
static int reserve(strata__h5_stream *s, hid_t file, int fd, const char *path, char *msg,
                   int64_t bytes)
{
    hsize_t size = 0;
    if (H5Fget_filesize(file, &size) < 0)
        size = (hsize_t)s->reserved;
    int64_t need = (int64_t)size + bytes + s->cache + SLACK + ((int64_t)size + bytes) / 256;
    if (need <= s->reserved)
        return STRATA_OK;
    int64_t want = need + need / 8;
    if (s->fsize_limit != RLIM_INFINITY) {
        if ((rlim_t)need > s->fsize_limit)
            return strata__fail(msg, STRATA_E_IO_WRITE,
                                "cannot write '%s': it would exceed the file size limit of "
                                "this process (%llu bytes, ulimit -f)",
                                path, (unsigned long long)s->fsize_limit);
        if ((rlim_t)want > s->fsize_limit)
            want = (int64_t)s->fsize_limit;
    }
    if (!s->no_reserve && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)want) != 0) {
        if (errno != EOPNOTSUPP && errno != ENOSYS)
            return strata__fail(msg, STRATA_E_IO_WRITE, "cannot write '%s': %s", path,
                                strerror(errno));
        s->no_reserve = 1;
    }
    s->reserved = want;
    return STRATA_OK;
}

/* The groups above `name` that do not exist yet, created tracking the
 * creation order of their links: readers of a group of columns (lib/io's
 * included) then list the columns in the order they were declared. */
static herr_t make_parents(hid_t file, const char *name)
{
    char part[STRATA__H5_NAME_MAX];
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    herr_t err = gcpl < 0 || H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED |
                                                                   H5P_CRT_ORDER_INDEXED) < 0
                     ? -1 : 0;
    for (const char *slash = strchr(name + 1, '/'); err >= 0 && slash; slash = strchr(slash + 1, '/')) {
        snprintf(part, sizeof part, "%.*s", (int)(slash - name), name);
        if (H5Lexists(file, part, H5P_DEFAULT) > 0)
            continue;
        hid_t g = H5Gcreate2(file, part, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        err = g < 0 ? -1 : H5Gclose(g);
    }
    if (gcpl >= 0)
        H5Pclose(gcpl);
    return err;
}

/* Create the growing dataset of `set` with file type ft; chunked, and
 * shuffled + gzipped when `compress`. */
static int create_set(strata__h5_stream *s, stream_set *set, hid_t ft, int compress)
{
    char cause[256], *msg;
    int fd;
    const char *path;
    hid_t file = strata__h5_out_hid(s->out, &fd, &path, &msg);
    int rank = set->cols ? 2 : 1;
    hsize_t dims[2] = {0, (hsize_t)set->cols}, maxdims[2] = {H5S_UNLIMITED, (hsize_t)set->cols};
    hsize_t chunk[2] = {(hsize_t)set->chunk_rows, (hsize_t)set->cols};
    int64_t chunk_bytes = set->chunk_rows * (int64_t)set->row_bytes;
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    herr_t err = space < 0 || lcpl < 0 || dcpl < 0 || dapl < 0 ||
                         H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
                         H5Pset_chunk(dcpl, rank, chunk) < 0 ||
                         /* two chunks: the one being filled and the one before */
                         H5Pset_chunk_cache(dapl, 521, (size_t)(2 * chunk_bytes), 1.0) < 0
                     ? -1 : 0;
    if (err >= 0 && compress)
        err = H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, GZIP_LEVEL) < 0 ? -1 : 0;
    if (err >= 0 && set->name[0] == '/')
        err = make_parents(file, set->name);
    int rc = STRATA_OK;
    if (err < 0 || !(rc = reserve(s, file, fd, path, msg, 0))) {
        set->dset = err < 0 ? -1 : H5Dcreate2(file, set->name, ft, space, lcpl, dcpl, dapl);
        if (set->dset < 0)
            rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot create dataset '%s' in '%s': %s",
                              set->name, path, strata__h5_cause(cause, sizeof cause));
        else
            s->cache += 2 * chunk_bytes;
    }
    if (dapl >= 0)
        H5Pclose(dapl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

/* A new entry of s->sets for `name` (its message names the file). */
static int add_set(strata__h5_stream *s, const char *name, int64_t chunk_rows, stream_set **set)
{
    char *msg;
    int fd;
    const char *path;
    (void)strata__h5_out_hid(s->out, &fd, &path, &msg);
    if (strlen(name) >= STRATA__H5_NAME_MAX)
        return strata__fail(msg, STRATA_E_ARG, "dataset name '%.40s...' is too long", name);
    for (int i = 0; i < s->nsets; i++)
        if (!strcmp(s->sets[i].name, name))
            return strata__fail(msg, STRATA_E_ARG, "dataset '%s' of '%s' is declared already",
                                name, path);
    if (s->nsets == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        stream_set *more = strata__alloc((size_t)cap, sizeof *more);
        if (!more)
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
        if (s->nsets)
            memcpy(more, s->sets, (size_t)s->nsets * sizeof *more);
        strata__free(s->sets);
        s->sets = more;
        s->cap = cap;
    }
    *set = &s->sets[s->nsets];
    **set = (stream_set){.dset = -1, .mem_type = -1, .chunk_rows = chunk_rows};
    snprintf((*set)->name, sizeof (*set)->name, "%s", name);
    return STRATA_OK;
}

/* chunk_rows 0: about CHUNK_BYTES of rows; else at most CHUNK_MAX bytes. */
static int chunk_rows_of(stream_set *set, const char *path, char *msg)
{
    int64_t max_rows = CHUNK_MAX / (int64_t)set->row_bytes;
    if (set->chunk_rows < 0 || set->chunk_rows > max_rows || max_rows < 1)
        return strata__fail(msg, STRATA_E_ARG, "dataset '%s' of '%s': chunk of %lld rows of "
                            "%zu bytes (1..%lld rows, at most %lld MiB)", set->name, path,
                            (long long)set->chunk_rows, set->row_bytes,
                            (long long)(max_rows > 0 ? max_rows : 0), (long long)(CHUNK_MAX >> 20));
    if (!set->chunk_rows) {
        set->chunk_rows = CHUNK_BYTES / (int64_t)set->row_bytes;
        if (set->chunk_rows < 1)
            set->chunk_rows = 1;
    }
    return STRATA_OK;
}

int strata__h5_stream_dataset(strata__h5_stream *s, const char *name, int type, int64_t cols,
                              int64_t chunk_rows, int *id)
{
    char *msg;
    int fd;
    const char *path;
    (void)strata__h5_out_hid(s->out, &fd, &path, &msg);
    hid_t ft, mt;
    size_t size;
    stream_set *set = NULL;
    if (!types_of(type, &ft, &mt, &size))
        return strata__fail(msg, STRATA_E_INTERNAL, "bad element type %d for '%s'", type, name);
    if (cols < 0 || cols > CHUNK_MAX / (int64_t)size)
        return strata__fail(msg, STRATA_E_ARG, "dataset '%s' of '%s': %lld columns (0 for 1-D, "
                            "else 1..%lld)", name, path, (long long)cols,
                            (long long)(CHUNK_MAX / (int64_t)size));
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = add_set(s, name, chunk_rows, &set);
    if (!rc) {
        set->type = type;
        set->cols = cols;
        set->row_bytes = size * (size_t)(cols ? cols : 1);
        set->mem_type = mt;
        rc = chunk_rows_of(set, path, msg);
    }
    if (!rc)
        rc = create_set(s, set, ft, type == STRATA__H5_I32 || type == STRATA__H5_I64);
    if (!rc)
        *id = s->nsets++;
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_stream_table(strata__h5_stream *s, const char *name, int nfields,
                            const char *const *fields, const int *types, int64_t chunk_rows,
                            int *id)
{
    char *msg, cause[256];
    int fd;
    const char *path;
    (void)strata__h5_out_hid(s->out, &fd, &path, &msg);
    stream_set *set = NULL;
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = add_set(s, name, chunk_rows, &set);
    if (!rc) {
        set->nfields = nfields;
        set->ftypes = strata__alloc((size_t)nfields, sizeof *set->ftypes);
        set->offsets = strata__alloc((size_t)nfields, sizeof *set->offsets);
        if (!set->ftypes || !set->offsets)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    }
    size_t rec = 0;
    for (int f = 0; !rc && f < nfields; f++) {
        hid_t ft, mt;
        size_t size;
        if (!types_of(types[f], &ft, &mt, &size))
            rc = strata__fail(msg, STRATA_E_INTERNAL, "bad element type for field %d", f);
        set->ftypes[f] = types[f];
        set->offsets[f] = rec;
        rec += size;
    }
    /* packed records, little-endian in the file and (on the hosts we build
     * for) in memory: no conversion on the way */
    hid_t ftype = rc ? -1 : H5Tcreate(H5T_COMPOUND, rec);
    hid_t mtype = rc ? -1 : H5Tcreate(H5T_COMPOUND, rec);
    for (int f = 0; !rc && f < nfields; f++) {
        hid_t ft, mt;
        size_t size;
        types_of(types[f], &ft, &mt, &size);
        if (ftype < 0 || mtype < 0 || H5Tinsert(ftype, fields[f], set->offsets[f], ft) < 0 ||
            H5Tinsert(mtype, fields[f], set->offsets[f], mt) < 0)
            rc = strata__fail(msg, STRATA_E_IO_WRITE, "table '%s' of '%s', field '%s': %s",
                              name, path, fields[f], strata__h5_cause(cause, sizeof cause));
    }
    if (!rc) {
        set->row_bytes = rec;
        set->mem_type = mtype;
        mtype = -1;
        rc = chunk_rows_of(set, path, msg);
    }
    if (!rc)
        rc = create_set(s, set, ftype, 0);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (mtype >= 0)
        H5Tclose(mtype);
    if (!rc) {
        *id = s->nsets++;
    } else if (set && s->nsets < s->cap && set == &s->sets[s->nsets]) {
        if (set->mem_type >= 0)
            H5Tclose(set->mem_type);
        strata__free(set->ftypes);
        strata__free(set->offsets);
        set->ftypes = NULL;
        set->offsets = NULL;
    }
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_stream_info(const strata__h5_stream *s, int id, int *type, int64_t *cols,
                           int *nfields, const int **ftypes, int64_t *rows)
{
    if (id < 0 || id >= s->nsets)
        return -1;
    const stream_set *set = &s->sets[id];
    *type = set->type;
    *cols = set->cols;
    *nfields = set->nfields;
    *ftypes = set->ftypes;
    *rows = set->rows;
    return 0;
}

int strata__h5_stream_append(strata__h5_stream *s, int id, const void *const *data, int64_t n)
{
    char *msg, cause[256];
    int fd;
    const char *path;
    hid_t file = strata__h5_out_hid(s->out, &fd, &path, &msg);
    stream_set *set = &s->sets[id];
    if (n == 0)
        return STRATA_OK;
    if (n < 0 || n > (INT64_MAX / 2 - set->rows) ||
        (uint64_t)n > (uint64_t)SIZE_MAX / set->row_bytes)
        return strata__fail(msg, STRATA_E_ARG, "cannot append %lld rows to '%s'", (long long)n,
                            set->name);
    const void *buf = data[0];
    char *packed = NULL;
    if (set->nfields) { /* the columns into packed records */
        packed = strata__alloc((size_t)n, set->row_bytes);
        if (!packed)
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory packing %lld rows of '%s'",
                                (long long)n, set->name);
        for (int f = 0; f < set->nfields; f++) {
            size_t size = set->ftypes[f] == STRATA__H5_I32 || set->ftypes[f] == STRATA__H5_F32 ? 4 : 8;
            const char *col = data[f];
            char *at = packed + set->offsets[f];
            for (int64_t i = 0; i < n; i++, at += set->row_bytes, col += size)
                memcpy(at, col, size);
        }
        buf = packed;
    }
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rank = set->cols ? 2 : 1;
    hsize_t start[2] = {(hsize_t)set->rows, 0}, count[2] = {(hsize_t)n, (hsize_t)set->cols};
    hsize_t dims[2] = {(hsize_t)(set->rows + n), (hsize_t)set->cols};
    /* a chunk takes its whole size in the file once written, however few
     * of its rows came: the chunks this block touches, and one more */
    int64_t chunk_bytes = set->chunk_rows * (int64_t)set->row_bytes;
    int rc = reserve(s, file, fd, path, msg, (n / set->chunk_rows + 2) * chunk_bytes);
    if (!rc) {
        hid_t fspace = -1, mspace = -1;
        herr_t err = H5Dset_extent(set->dset, dims);
        if (err >= 0 && (fspace = H5Dget_space(set->dset)) < 0)
            err = -1;
        if (err >= 0)
            err = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        if (err >= 0 && (mspace = H5Screate_simple(rank, count, NULL)) < 0)
            err = -1;
        if (err >= 0)
            err = H5Dwrite(set->dset, set->mem_type, mspace, fspace, H5P_DEFAULT, buf);
        if (err < 0)
            rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot append to dataset '%s' of '%s': %s",
                              set->name, path, strata__h5_cause(cause, sizeof cause));
        else
            set->rows += n;
        if (mspace >= 0)
            H5Sclose(mspace);
        if (fspace >= 0)
            H5Sclose(fspace);
    }
    strata__h5_leave(&g);
    strata__free(packed);
    return rc;
}

int strata__h5_stream_finish(strata__h5_stream *s, int rc)
{
    if (!s)
        return rc;
    char *msg, cause[256];
    int fd;
    const char *path;
    hid_t file = strata__h5_out_hid(s->out, &fd, &path, &msg);
    strata__h5_guard g;
    strata__h5_enter(&g);
    /* the last chunks and the metadata still to come: reserve for them */
    int r = rc ? STRATA_OK : reserve(s, file, fd, path, msg, 0);
    if (!rc)
        rc = r;
    for (int i = 0; i < s->nsets; i++) {
        stream_set *set = &s->sets[i];
        if (set->dset >= 0 && H5Dclose(set->dset) < 0 && !rc)
            rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot write dataset '%s' of '%s': %s",
                              set->name, path, strata__h5_cause(cause, sizeof cause));
        if (set->nfields && set->mem_type >= 0)
            H5Tclose(set->mem_type);
        strata__free(set->ftypes);
        strata__free(set->offsets);
    }
    strata__h5_leave(&g);
    rc = strata__h5_out_finish(s->out, rc);
    strata__free(s->sets);
    strata__free(s);
    return rc;
}

int strata__h5_stream_fixed_strings(strata__h5_stream *s, const char *object, const char *attr,
                                    const char *const *strs, int64_t n)
{
    char *msg, cause[256];
    int fd;
    const char *path;
    hid_t file = strata__h5_out_hid(s->out, &fd, &path, &msg);
    size_t len = 1; /* HDF5 has no 0-byte strings */
    for (int64_t i = 0; i < n; i++)
        len = strlen(strs[i]) > len ? strlen(strs[i]) : len;
    char *buf = strata__calloc((size_t)(n > 0 ? n : 1), len);
    if (!buf)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        memcpy(buf + (size_t)i * len, strs[i], strlen(strs[i]));
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = reserve(s, file, fd, path, msg, (int64_t)len * n);
    hid_t type = rc ? -1 : H5Tcopy(H5T_C_S1);
    herr_t err = type < 0 || H5Tset_size(type, len) < 0 || H5Tset_strpad(type, H5T_STR_NULLPAD) < 0
                     ? -1 : 0;
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = err < 0 ? -1 : attr ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), obj = -1, item = -1;
    if (space < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        err = -1;
    } else if (attr) {
        obj = object && strcmp(object, "/") ? H5Oopen(file, object, H5P_DEFAULT)
                                            : H5Oopen(file, "/", H5P_DEFAULT);
        item = obj < 0 ? -1 : H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
        err = item < 0 || H5Awrite(item, type, buf) < 0 ? -1 : 0;
    } else {
        item = H5Dcreate2(file, object, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        err = item < 0 || H5Dwrite(item, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
    }
    if (!rc && err < 0)
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot write %s%s%s to '%s': %s", object,
                          attr ? " attribute " : "", attr ? attr : "", path,
                          strata__h5_cause(cause, sizeof cause));
    if (item >= 0 && (attr ? H5Aclose(item) : H5Dclose(item)) < 0 && !rc)
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot write %s to '%s': %s", object, path,
                          strata__h5_cause(cause, sizeof cause));
    if (obj >= 0)
        H5Oclose(obj);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    strata__h5_leave(&g);
    strata__free(buf);
    return rc;
}

int strata__h5_stream_reserve(strata__h5_stream *s, int64_t bytes)
{
    char *msg;
    int fd;
    const char *path;
    hid_t file = strata__h5_out_hid(s->out, &fd, &path, &msg);
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = reserve(s, file, fd, path, msg, bytes);
    strata__h5_leave(&g);
    return rc;
}
