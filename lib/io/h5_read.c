/* Reading a 2-D numeric HDF5 dataset: checks that turn every way the file can
 * be wrong into a message naming the file and dataset, then a read in row
 * blocks with HDF5 converting the elements to float or double. */
#define _GNU_SOURCE /* MADV_POPULATE_READ, F_DUPFD_CLOEXEC */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5.h"
#include "io/h5_chunks.h"
#include "io/h5_lock.h"

/* Rows are read in blocks of about this many bytes (rounded to whole chunks),
 * which bounds HDF5's conversion and decompression work per call. */
#define BLOCK_BYTES ((size_t)16 << 20)

static size_t dtype_size(int dtype)
{
    return dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* An open dataset that passed every check. */
typedef struct source {
    const char *path, *dataset;
    hid_t file, dset, space;
    H5T_class_t cls;
    size_t elem_size; /* bytes per element in the file */
    int64_t n, d;
    uint64_t file_size; /* bytes, from stat() */
    const strata__steps *steps; /* STRATA_STEP_READ per block (NULL: none) */
} source;

static void source_close(source *s)
{
    if (s->space >= 0)
        H5Sclose(s->space);
    if (s->dset >= 0)
        H5Oclose(s->dset);
    if (s->file >= 0)
        H5Fclose(s->file);
    s->space = s->dset = s->file = -1;
}

/* Plain-file checks first: HDF5's own messages for these are obscure. The
 * size is what the dataset checks compare declared sizes with. */
static int check_file(const char *path, uint64_t *size, char *msg)
{
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0)
        return strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(EISDIR));
    if (!S_ISREG(st.st_mode)) /* a FIFO would block H5Fis_hdf5() */
        return strata__refuse_irregular_input(path, &st, msg);
    if (H5Fis_hdf5(path) <= 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "'%s' is not an HDF5 file", path);
    *size = (uint64_t)st.st_size;
    return STRATA_OK;
}

/* Open path read-only; on failure the message names HDF5's cause (read
 * before any other HDF5 call, which would clear the error stack). */
static hid_t open_file(const char *path, char *msg)
{
    char cause[256];
    hid_t fapl = strata__h5_file_access();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0)
        strata__fail(msg, STRATA_E_IO_FORMAT, "cannot open HDF5 file '%s': %s", path,
                     strata__h5_cause(cause, sizeof cause));
    H5Pclose(fapl);
    return file;
}

/* 1 if every link along `name` exists, 0 if one does not, -1 if a group on
 * the way cannot be read. Each group is read (H5Gget_info) before a link is
 * looked up in it: libhdf5 1.10 crashes in H5Lexists on a symbol table whose
 * heap address is corrupt, where H5Gget_info reports the bad address
 * (reproducer: tests/fuzz/corpus/fuzz_h5_rfm/regress-*). */
static int link_exists(hid_t file, const char *name)
{
    char path[1100];
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof path)
        return 0;
    memcpy(path, name, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char *slash = NULL; /* the group holding the link ending at i */
        for (size_t j = i; j-- > 0;)
            if (path[j] == '/') {
                slash = path + j;
                break;
            }
        H5G_info_t info;
        char keep = slash ? slash[1] : 0;
        if (slash)
            slash[1] = '\0';
        herr_t ok = H5Gget_info_by_name(file, slash ? path : ".", &info, H5P_DEFAULT);
        if (slash)
            slash[1] = keep;
        if (ok < 0)
            return -1;
        path[i] = '\0';
        htri_t e = H5Lexists(file, path, H5P_DEFAULT);
        path[i] = name[i];
        if (e <= 0)
            return e < 0 ? -1 : 0;
    }
    return 1;
}

/* Check every link along the dataset path, so the message can say which
 * part is missing. */
static int check_links(const source *s, char *msg)
{
    size_t len = strlen(s->dataset);
    if (len == 0)
        return strata__fail(msg, STRATA_E_IO_DATASET, "empty dataset name for '%s'", s->path);
    if (len >= 1024)
        return strata__fail(msg, STRATA_E_IO_DATASET, "dataset name of %zu bytes for '%s' "
                            "(at most 1023)", len, s->path);
    char prefix[1100];
    memcpy(prefix, s->dataset, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (prefix[i] != '/' && prefix[i] != '\0')
            continue;
        prefix[i] = '\0';
        int e = link_exists(s->file, prefix);
        if (e < 0) {
            char cause[256];
            return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the groups of '%s' in "
                                "'%s': %s", prefix, s->path, strata__h5_cause(cause, sizeof cause));
        }
        if (e == 0)
            return i < len ? strata__fail(msg, STRATA_E_IO_DATASET,
                                          "dataset '%s' not found in '%s' (no '%s')", s->dataset,
                                          s->path, prefix)
                           : strata__fail(msg, STRATA_E_IO_DATASET,
                                          "dataset '%s' not found in '%s'", s->dataset, s->path);
        prefix[i] = s->dataset[i];
    }
    return STRATA_OK;
}

static int bool_kind(hid_t type);

/* What a type of class c is called in messages; boolean: bool_kind() of it
 * (h5py's and pandas' bools are named as such, other enums and bitfields not). */
static const char *class_name(H5T_class_t c, int boolean)
{
    switch (c) {
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound (record)";
    case H5T_ENUM: return boolean ? "enum (h5py's bool)" : "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return boolean ? "bitfield (pandas' bool)" : "bitfield";
    case H5T_REFERENCE: return "reference";
    case H5T_TIME: return "time";
    default: return "unknown";
    }
}

/* "(3, 4, 5)"-style shape text. */
static const char *shape_text(const hsize_t *dims, int rank, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
    return buf;
}

/* "rank R, shape (a x b)" of a dataspace, or what a null or scalar one is. */
static const char *space_text(H5S_class_t cls, const hsize_t *dims, int rank, char *buf,
                              size_t len)
{
    if (cls == H5S_NULL)
        return "no values (a null dataspace)";
    if (cls == H5S_SCALAR)
        return "one value (a scalar)";
    char shape[128];
    snprintf(buf, len, "rank %d, shape %s", rank, shape_text(dims, rank, shape, sizeof shape));
    return buf;
}

static int check_shape_and_type(source *s, char *msg)
{
    char cause[256], shape[128];
    hsize_t dims[H5S_MAX_RANK];
    s->space = H5Dget_space(s->dset);
    int rank = s->space < 0 ? -1 : H5Sget_simple_extent_dims(s->space, dims, NULL);
    if (rank < 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the shape of '%s' in '%s': %s",
                            s->dataset, s->path, strata__h5_cause(cause, sizeof cause));
    if (rank != 2)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "dataset '%s' in '%s' has %s; expected a 2-D matrix (rows x features)",
                            s->dataset, s->path,
                            space_text(H5Sget_simple_extent_type(s->space), dims, rank, shape,
                                       sizeof shape));
    hid_t type = H5Dget_type(s->dset);
    s->cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    s->elem_size = type < 0 ? 0 : H5Tget_size(type);
    const int boolean = bool_kind(type);
    if (type >= 0)
        H5Tclose(type);
    if (s->cls != H5T_INTEGER && s->cls != H5T_FLOAT)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "dataset '%s' in '%s' holds %s values; expected integers or floats",
                            s->dataset, s->path, class_name(s->cls, boolean));
    s->n = (int64_t)dims[0];
    s->d = (int64_t)dims[1];
    return STRATA_OK;
}

/* A compression filter missing from this HDF5 build (h5py's lzf, blosc...)
 * would otherwise fail deep inside the read with an obscure message. */
static int check_filters(const source *s, char *msg)
{
    hid_t dcpl = H5Dget_create_plist(s->dset);
    int count = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
    int rc = STRATA_OK;
    for (int i = 0; i < count && !rc; i++) {
        char name[64] = "";
        unsigned flags, config;
        size_t nvalues = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvalues, NULL, sizeof name,
                                         name, &config);
        if (id >= 0 && H5Zfilter_avail(id) <= 0)
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "dataset '%s' in '%s' is compressed with HDF5 filter %d (%s), "
                              "which this HDF5 library cannot decode", s->dataset, s->path,
                              (int)id, name[0] ? name : "unnamed");
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rc;
}

/* ---- What HDF5 is asked to convert: checked before it reads ------------
 * libhdf5 trusts the sizes a file declares: a corrupted header (a 15 MB
 * integer, a record member beyond the record, a chunk larger than the
 * dataset, an extent far beyond the file) makes H5Dread read out of bounds or
 * allocate without limit. Every property below holds for any file libhdf5
 * itself writes, so the checks refuse only damaged files. What remains
 * inside libhdf5 is listed in docs/reliability.md. */

/* No record we read is anywhere near this (pandas' widest tables are a few KB). */
#define MAX_RECORD_BYTES ((size_t)1 << 20)

/* Is `type` one libhdf5 can convert without trusting a bad size? 1 if so;
 * else the reason in why and 0 (malformed: bit fields outside the number,
 * members outside the record) or -1 (well formed but not read: a number of
 * another size than numpy's, e.g. a 24-bit integer). */
static int type_ok(hid_t type, int depth, char *why, size_t len)
{
    size_t size = H5Tget_size(type);
    H5T_class_t cls = H5Tget_class(type);
    if (size == 0 || depth > 8) {
        snprintf(why, len, "a %s type of %zu bytes", class_name(cls, 0), size);
        return 0;
    }
    if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        size_t prec = H5Tget_precision(type);
        int off = H5Tget_offset(type);
        int ok = size <= 16 && prec > 0 && off >= 0 && (size_t)off + prec <= 8 * size;
        if (ok && cls == H5T_FLOAT) {
            size_t spos, epos, esize, mpos, msize;
            ok = H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos < prec &&
                 esize >= 1 && esize <= 32 && epos + esize <= prec && msize >= 1 &&
                 mpos + msize <= prec;
        }
        if (!ok) {
            snprintf(why, len, "a malformed %s type (%zu bytes, %zu-bit precision at bit %d)",
                     cls == H5T_INTEGER ? "integer" : "float", size, prec, off);
            return 0;
        }
        if (size == 1 || size == 2 || size == 4 || size == 8 || (cls == H5T_FLOAT && size == 16))
            return 1;
        snprintf(why, len, "%zu-byte %s (strata reads integers of 1, 2, 4 or 8 bytes and floats "
                 "of 2, 4, 8 or 16)", size, cls == H5T_INTEGER ? "integers" : "floats");
        return -1;
    }
    if (cls == H5T_COMPOUND) {
        int nm = H5Tget_nmembers(type);
        if (size > MAX_RECORD_BYTES || nm < 0) {
            snprintf(why, len, "records of %zu bytes", size);
            return 0;
        }
        for (int i = 0; i < nm; i++) {
            hid_t mt = H5Tget_member_type(type, (unsigned)i);
            size_t off = H5Tget_member_offset(type, (unsigned)i);
            size_t msize = mt < 0 ? 0 : H5Tget_size(mt);
            int ok = mt >= 0 && msize <= size && off <= size - msize
                         ? type_ok(mt, depth + 1, why, len) : 0;
            if (mt >= 0)
                H5Tclose(mt);
            if (ok <= 0) {
                char *name = H5Tget_member_name(type, (unsigned)i);
                char inner[192];
                snprintf(inner, sizeof inner, "%s", why);
                if (mt >= 0 && msize <= size && off <= size - msize)
                    snprintf(why, len, "field '%s' holding %s", name ? name : "?", inner);
                else
                    snprintf(why, len, "field '%s' (%zu bytes at offset %zu) outside its "
                             "%zu-byte record", name ? name : "?", msize, off, size);
                H5free_memory(name);
                return ok;
            }
        }
        return 1;
    }
    if (cls == H5T_ARRAY) {
        hsize_t dims[H5S_MAX_RANK];
        int rank = H5Tget_array_ndims(type);
        hid_t base = H5Tget_super(type);
        uint64_t count = 1;
        int ok = rank >= 1 && rank <= H5S_MAX_RANK && H5Tget_array_dims2(type, dims) == rank &&
                 base >= 0;
        for (int i = 0; ok && i < rank; i++)
            ok = dims[i] > 0 && dims[i] <= MAX_RECORD_BYTES && (count *= dims[i]) <= MAX_RECORD_BYTES;
        if (!ok)
            snprintf(why, len, "a malformed array type");
        else if (count * H5Tget_size(base) != size) {
            snprintf(why, len, "an array type whose %zu bytes do not hold its elements", size);
            ok = 0;
        } else
            ok = type_ok(base, depth + 1, why, len);
        if (base >= 0)
            H5Tclose(base);
        return ok;
    }
    return 1; /* strings and the like: never converted, only skipped over */
}

/* The file holding s's data as a stat of its descriptor (*st), and 1 if it
 * is the file s opened, 0 if not (the dataset path crossed an external
 * link: offsets of its data are offsets in the link's target), -1 if that
 * cannot be told. */
static int data_file(const source *s, struct stat *st)
{
    struct stat named;
    hid_t own = H5Iget_file_id(s->dset);
    int *h1 = NULL, *h2 = NULL;
    int ok = own >= 0 && H5Fget_vfd_handle(own, H5P_DEFAULT, (void **)&h1) >= 0 && h1 &&
             fstat(*h1, st) == 0 && H5Fget_vfd_handle(s->file, H5P_DEFAULT, (void **)&h2) >= 0 &&
             h2 && fstat(*h2, &named) == 0;
    if (own >= 0)
        H5Fclose(own);
    return ok ? st->st_dev == named.st_dev && st->st_ino == named.st_ino : -1;
}

/* External raw storage (H5Pset_external): each file must hold the bytes its
 * slots give the extent, for libhdf5 reads a short file as zeros. Names
 * resolve as libhdf5 resolves them: absolute, else under the prefix of
 * $HDF5_EXTFILE_PREFIX or the access property list ("${ORIGIN}" the
 * directory of the file holding the dataset), else from the working
 * directory. */
static int check_external(const source *s, hid_t dcpl, int count, uint64_t need, char *msg)
{
    char prefix[2048] = "", name[2048], full[4200];
    const char *env = getenv("HDF5_EXTFILE_PREFIX");
    if (env && *env)
        snprintf(prefix, sizeof prefix, "%s", env);
    else {
        hid_t dapl = H5Dget_access_plist(s->dset);
        if (dapl >= 0 && H5Pget_efile_prefix(dapl, prefix, sizeof prefix) < 0)
            prefix[0] = '\0';
        if (dapl >= 0)
            H5Pclose(dapl);
    }
    if (!strcmp(prefix, "."))
        prefix[0] = '\0';
    if (!strncmp(prefix, "${ORIGIN}", 9)) {
        hid_t own = H5Iget_file_id(s->dset);
        char home[2048] = ".";
        if (own >= 0 && H5Fget_name(own, home, sizeof home) > 0) {
            char *slash = strrchr(home, '/');
            if (slash)
                *slash = '\0';
            else
                snprintf(home, sizeof home, ".");
        }
        if (own >= 0)
            H5Fclose(own);
        char rest[2048];
        snprintf(rest, sizeof rest, "%s", prefix + 9);
        snprintf(prefix, sizeof prefix, "%s%s", home, rest);
    }
    for (int i = 0; i < count && need > 0; i++) {
        off_t off = 0;
        hsize_t size = 0;
        if (H5Pget_external(dcpl, (unsigned)i, sizeof name, name, &off, &size) < 0)
            return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the external storage of "
                                "'%s' in '%s'", s->dataset, s->path);
        name[sizeof name - 1] = '\0';
        const uint64_t take = size == H5F_UNLIMITED || size > need ? need : (uint64_t)size;
        if (name[0] == '/' || !prefix[0])
            snprintf(full, sizeof full, "%s", name);
        else
            snprintf(full, sizeof full, "%s/%s", prefix, name);
        struct stat st;
        if (stat(full, &st) != 0)
            return strata__fail(msg, STRATA_E_IO_OPEN, "dataset '%s' in '%s' keeps its values "
                                "in the external file '%s', which cannot be opened: %s%s",
                                s->dataset, s->path, full, strerror(errno),
                                full[0] == '/' ? ""
                                : " (a relative name is looked up from the working directory, "
                                  "or under $HDF5_EXTFILE_PREFIX; ${ORIGIN} there stands for the "
                                  "HDF5 file's directory)");
        if (off < 0 || (uint64_t)st.st_size < (uint64_t)off ||
            (uint64_t)st.st_size - (uint64_t)off < take)
            return strata__fail(msg, STRATA_E_IO_FORMAT, "dataset '%s' in '%s' keeps %llu bytes "
                                "at offset %lld of the external file '%s', which has %llu: "
                                "truncated", s->dataset, s->path, (unsigned long long)take,
                                (long long)off, full, (unsigned long long)st.st_size);
        need -= take;
    }
    return STRATA_OK;
}

/* Declared extent and storage against the file: an extent within the
 * maximum one, chunks within the maximum extent, stored bytes within the
 * file, and contiguous (or compact) data as large as the extent says.
 * Unallocated data (fill values) and compressed chunks can rightly be far
 * larger than the file; the memory check before allocating bounds those.
 * The file is the one holding the data: an external link's target, or the
 * external files of external storage. Virtual datasets are refused:
 * libhdf5 reads a source it cannot open as fill values, without an error. */
static int check_storage(const source *s, size_t elem, char *msg)
{
    char cause[256];
    hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    hid_t space = H5Dget_space(s->dset);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_dims(space, dims, maxdims);
    if (space >= 0)
        H5Sclose(space);
    if (rank < 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the shape of '%s' in '%s': %s",
                            s->dataset, s->path, strata__h5_cause(cause, sizeof cause));
    uint64_t points = 1;
    int over = 0;
    for (int i = 0; i < rank; i++) {
        if (maxdims[i] != H5S_UNLIMITED && dims[i] > maxdims[i])
            return strata__fail(msg, STRATA_E_IO_FORMAT,
                                "dataset '%s' in '%s' is corrupt: extent %llu of dimension %d "
                                "exceeds its maximum %llu", s->dataset, s->path,
                                (unsigned long long)dims[i], i, (unsigned long long)maxdims[i]);
        over |= dims[i] && points > UINT64_MAX / dims[i];
        points *= dims[i];
    }
    uint64_t need = points * elem;
    if (over || (elem && need / elem != points) || need > (uint64_t)INT64_MAX)
        return strata__fail(msg, STRATA_E_IO_FORMAT,
                            "dataset '%s' in '%s' is corrupt: its extent needs more than 2^63 "
                            "bytes", s->dataset, s->path);
    hid_t dcpl = H5Dget_create_plist(s->dset);
    H5D_layout_t layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
    int nfilters = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
    int crank = layout == H5D_CHUNKED ? H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) : 0;
    int nexternal = dcpl < 0 ? 0 : H5Pget_external_count(dcpl);
    int rc = STRATA_OK;
    if (layout == H5D_VIRTUAL)
        rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                          "dataset '%s' in '%s' is a virtual dataset (a map of other datasets), "
                          "which strata does not read: libhdf5 reads a source it cannot open as "
                          "fill values, without an error. Copy its values into a plain dataset "
                          "first (e.g. h5py: f2['x'] = f['%s'][()])", s->dataset, s->path,
                          s->dataset);
    else if (nexternal > 0)
        rc = check_external(s, dcpl, nexternal, need, msg);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (rc || nexternal > 0)
        return rc;
    uint64_t file_size = s->file_size;
    struct stat own;
    if (data_file(s, &own) == 0)
        file_size = (uint64_t)own.st_size; /* behind an external link */
    uint64_t stored = H5Dget_storage_size(s->dset);
    if (stored > file_size)
        return strata__fail(msg, STRATA_E_IO_FORMAT,
                            "dataset '%s' in '%s' is corrupt or the file truncated: it stores "
                            "%llu bytes, the file has %llu", s->dataset, s->path,
                            (unsigned long long)stored, (unsigned long long)file_size);
    if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
        haddr_t at = layout == H5D_CONTIGUOUS ? H5Dget_offset(s->dset) : 0;
        int allocated = layout == H5D_COMPACT || at != HADDR_UNDEF;
        if (allocated && (stored < need || (layout == H5D_CONTIGUOUS &&
                                            (at > file_size || need > file_size - at))))
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "dataset '%s' in '%s' is corrupt or the file truncated: its "
                              "extent needs %llu bytes, the file holds %llu of them", s->dataset,
                              s->path, (unsigned long long)need,
                              (unsigned long long)(layout == H5D_COMPACT ? stored
                                                   : at > file_size ? 0
                                                   : file_size - at < stored ? file_size - at
                                                                                : stored));
    } else if (layout == H5D_CHUNKED) {
        uint64_t chunk_bytes = elem;
        int ok = crank == rank;
        for (int i = 0; ok && i < rank; i++) {
            ok = chunk[i] >= 1 && (maxdims[i] == H5S_UNLIMITED || chunk[i] <= maxdims[i]) &&
                 chunk[i] < ((hsize_t)1 << 32);
            chunk_bytes *= ok ? chunk[i] : 1;
            ok = ok && chunk_bytes < ((uint64_t)1 << 32); /* libhdf5's own limit */
        }
        hsize_t nchunks = 0;
        hid_t all = H5Dget_space(s->dset); /* libhdf5 1.10 takes no H5S_ALL here */
        herr_t counted = all < 0 ? -1 : H5Dget_num_chunks(s->dset, all, &nchunks);
        if (all >= 0)
            H5Sclose(all);
        if (!ok)
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "dataset '%s' in '%s' is corrupt: its chunk shape does not fit "
                              "its extent", s->dataset, s->path);
        /* unfiltered chunks are stored whole: anything else is damage */
        else if (nfilters == 0 && counted >= 0 && stored != (uint64_t)nchunks * chunk_bytes)
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "dataset '%s' in '%s' is corrupt: %llu uncompressed chunks of "
                              "%llu bytes stored in %llu bytes", s->dataset, s->path,
                              (unsigned long long)nchunks, (unsigned long long)chunk_bytes,
                              (unsigned long long)stored);
    } else
        rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                          "cannot read the storage layout of '%s' in '%s': %s", s->dataset,
                          s->path, strata__h5_cause(cause, sizeof cause));
    return rc;
}

/* Filters this HDF5 can decode, a sound element type, storage that fits. */
static int check_data(const source *s, char *msg)
{
    int rc = check_filters(s, msg);
    if (rc)
        return rc;
    char why[256] = "";
    hid_t type = H5Dget_type(s->dset);
    size_t elem = type < 0 ? 0 : H5Tget_size(type);
    int ok = type >= 0 ? type_ok(type, 0, why, sizeof why) : 0;
    if (type >= 0)
        H5Tclose(type);
    if (ok < 0)
        return strata__fail(msg, STRATA_E_IO_TYPE, "dataset '%s' in '%s' holds %s", s->dataset,
                            s->path, why);
    if (!ok)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "dataset '%s' in '%s' is corrupt: it "
                            "declares %s", s->dataset, s->path,
                            why[0] ? why : "an unreadable type");
    return check_storage(s, elem, msg);
}

/* Refuse what this machine cannot hold before allocating it: more than its
 * physical memory, or than the address-space or data-segment limit
 * (ulimit -v / -d). A read into overcommitted memory would otherwise grow
 * until the kernel kills the process. */
static int check_memory(uint64_t bytes, const char *what, const char *path, char *msg)
{
    uint64_t budget = UINT64_MAX;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        budget = (uint64_t)pages * (uint64_t)page;
    const char *limit = "the physical memory";
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < budget) {
        budget = rl.rlim_cur;
        limit = "the address-space limit (ulimit -v)";
    }
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < budget) {
        budget = rl.rlim_cur;
        limit = "the data-size limit (ulimit -d)";
    }
    if (bytes <= budget)
        return STRATA_OK;
    return strata__fail(msg, STRATA_E_NOMEM,
                        "out of memory: %s in '%s' needs %.3g GB, more than %s (%.3g GB)", what,
                        path, (double)bytes / 1e9, limit, (double)budget / 1e9);
}

/* Open path:dataset read-only and check it is a 2-D numeric dataset. */
static int source_open(const char *path, const char *dataset, source *s, char *msg)
{
    char cause[256];
    *s = (source){.path = path, .dataset = dataset, .file = -1, .dset = -1, .space = -1};
    int rc = check_file(path, &s->file_size, msg);
    if (rc)
        return rc;
    if ((s->file = open_file(path, msg)) < 0)
        return STRATA_E_IO_FORMAT;
    if ((rc = check_links(s, msg)))
        return rc;
    s->dset = H5Oopen(s->file, dataset, H5P_DEFAULT);
    if (s->dset < 0)
        return strata__fail(msg, STRATA_E_IO_DATASET, "cannot open '%s' in '%s': %s", dataset,
                            path, strata__h5_cause(cause, sizeof cause));
    H5I_type_t kind = H5Iget_type(s->dset);
    if (kind != H5I_DATASET)
        return strata__fail(msg, STRATA_E_IO_DATASET, "'%s' in '%s' is a %s, not a dataset",
                            dataset, path, kind == H5I_GROUP ? "group" : "named datatype");
    if ((rc = check_shape_and_type(s, msg)))
        return rc;
    return check_data(s, msg);
}

/* Rows per read: about BLOCK_BYTES of output, rounded to whole chunks so that
 * no chunk is decompressed twice. */
static int64_t block_rows(const source *s, size_t out_elem)
{
    int64_t rows = (int64_t)(BLOCK_BYTES / ((size_t)s->d * out_elem));
    if (rows < 1)
        rows = 1;
    hid_t dcpl = H5Dget_create_plist(s->dset);
    hsize_t chunk[2];
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2 &&
        chunk[0] > 0)
        rows = (rows + (int64_t)chunk[0] - 1) / (int64_t)chunk[0] * (int64_t)chunk[0];
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rows;
}

/* Read rows [r0, r0 + rows), converted to dtype, into buf (rows x d). */
static int read_rows(const source *s, int dtype, int64_t r0, int64_t rows, void *buf, char *msg)
{
    char cause[256];
    hid_t mem_type = dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    hsize_t start[2] = {(hsize_t)r0, 0}, count[2] = {(hsize_t)rows, (hsize_t)s->d};
    hid_t mspace = H5Screate_simple(2, count, NULL);
    herr_t err = mspace < 0 ? -1
                 : H5Sselect_hyperslab(s->space, H5S_SELECT_SET, start, NULL, count, NULL);
    if (err >= 0)
        err = H5Dread(s->dset, mem_type, mspace, s->space, H5P_DEFAULT, buf);
    if (err < 0)
        strata__h5_cause(cause, sizeof cause);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (err < 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT,
                            "cannot read rows %lld-%lld of '%s' in '%s' (corrupt or "
                            "unreadable data): %s", (long long)r0, (long long)(r0 + rows - 1),
                            s->dataset, s->path, cause);
    return STRATA_OK;
}

/* Read all rows, converted to dtype, into buf (n x d). */
static int source_read(const source *s, int dtype, void *buf, char *msg)
{
    size_t elem = dtype_size(dtype);
    int64_t step = block_rows(s, elem);
    int rc = strata__step(s->steps, STRATA_STEP_READ, 0, 0, s->n, NAN, msg);
    for (int64_t r0 = 0; !rc && r0 < s->n; r0 += step) {
        int64_t rows = s->n - r0 < step ? s->n - r0 : step;
        rc = read_rows(s, dtype, r0, rows, (char *)buf + (size_t)r0 * (size_t)s->d * elem, msg);
        if (!rc)
            rc = strata__step(s->steps, STRATA_STEP_READ, 0, r0 + rows, s->n, NAN, msg);
    }
    return rc;
}

/* Check a non-empty source, allocate n x d of dtype and read into it. */
static int source_load(const source *s, int dtype, void **out, char *msg)
{
    if (s->n == 0 || s->d == 0)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "dataset '%s' in '%s' has 0 %s (shape %lld x %lld)", s->dataset,
                            s->path, s->n == 0 ? "rows" : "columns", (long long)s->n,
                            (long long)s->d);
    size_t elem = dtype_size(dtype);
    char what[300];
    snprintf(what, sizeof what, "the %lld x %lld dataset '%s'", (long long)s->n, (long long)s->d,
             s->dataset);
    /* the extent was checked to need < 2^63 bytes in the file: no overflow */
    int rc = check_memory((uint64_t)s->n * (uint64_t)s->d * elem, what, s->path, msg);
    if (rc)
        return rc;
    void *data = (uint64_t)s->n > SIZE_MAX / (uint64_t)s->d
                     ? NULL : strata__alloc((size_t)s->n * (size_t)s->d, elem);
    if (!data)
        return strata__fail(msg, STRATA_E_NOMEM,
                            "out of memory for the %lld x %lld dataset '%s' in '%s'",
                            (long long)s->n, (long long)s->d, s->dataset, s->path);
    rc = source_read(s, dtype, data, msg);
    if (rc) {
        strata__free(data);
        return rc;
    }
    *out = data;
    return STRATA_OK;
}

int strata__h5_shape(const char *path, const char *dataset, int64_t *n, int64_t *d, char *msg)
{
    strata__h5_guard g;
    source s;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    if (!rc) {
        *n = s.n;
        *d = s.d;
    }
    source_close(&s);
    strata__h5_leave(&g);
    return rc;
}

/* Keep float32 (and narrower floats) as float32, all else as float64. */
static int native_dtype(const source *s)
{
    return s->cls == H5T_FLOAT && s->elem_size <= sizeof(float) ? STRATA_FLOAT32 : STRATA_FLOAT64;
}

int strata__h5_load(const char *path, const char *dataset, int want_dtype, strata__matrix *out,
                    char *msg)
{
    return strata__h5_load_steps(path, dataset, want_dtype, out, NULL, msg);
}

int strata__h5_load_steps(const char *path, const char *dataset, int want_dtype,
                          strata__matrix *out, const strata__steps *steps, char *msg)
{
    strata__h5_guard g;
    source s;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    s.steps = steps;
    if (!rc) {
        /* Keep float32 (and narrower floats) as float32, all else as float64. */
        int dtype = want_dtype ? want_dtype : native_dtype(&s);
        void *data = NULL;
        rc = source_load(&s, dtype, &data, msg);
        if (!rc)
            *out = (strata__matrix){dtype, data, s.n, s.d};
    }
    source_close(&s);
    strata__h5_leave(&g);
    return rc;
}

int strata__h5_read_into(const char *path, const char *dataset, int dtype, void *buf, int64_t n,
                         int64_t d, char *msg)
{
    strata__h5_guard g;
    source s;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    if (!rc && (s.n != n || s.d != d))
        rc = strata__fail(msg, STRATA_E_ARG,
                          "dataset '%s' in '%s' is %lld x %lld, not %lld x %lld", dataset, path,
                          (long long)s.n, (long long)s.d, (long long)n, (long long)d);
    /* Straight into the caller's buffer: no second copy of a large matrix
     * (the header says the contents are unspecified after an I/O error). */
    if (!rc)
        rc = source_read(&s, dtype, buf, msg);
    source_close(&s);
    strata__h5_leave(&g);
    return rc;
}

/* ---- A dataset streamed in blocks (the HDF5 row source) --------------- */

/* Rows [r0, r0 + rows) of a dataset stored as plain row-major elements of
 * the type a fit uses, from byte `off` of the file: a run of its chunks
 * adjacent in the file (or the whole contiguous dataset). */
typedef struct h5_run {
    int64_t r0, rows;
    uint64_t off;
} h5_run;

struct strata__h5_rows {
    source s;
    char *path, *dataset; /* s's names, owned */
    int64_t chunk_rows;   /* the dataset's chunk rows (0: not chunked) */
    int64_t cache_bytes;  /* compressed chunks: the chunk cache that keeps them (0: none) */
    struct stat at_open;  /* the file as opened: a change in place is an error */
    /* Zero-copy reads (see "The mapped path" below): the whole file mapped
     * read-only, the dataset's rows as runs of the mapping. */
    int map_tried;
    int map_dtype;      /* the rows' dtype as mapped; 0: nothing mapped */
    int fd;             /* a duplicate of HDF5's descriptor of the file (-1: none) */
    const char *base;   /* the mapping (NULL: none) */
    size_t len;
    h5_run *runs;
    int64_t nruns;
    size_t row_bytes;
    int populate;       /* MADV_POPULATE_READ works here (else MADV_WILLNEED only) */
    int direct;         /* runs found, read with pread (the direct path), not mapped */
    /* Chunks read here (see "Chunks wider or longer than a block" below). */
    int zmode;            /* 1: deflated chunks inflated here (kc); 2: narrow plain chunks in strips */
    strata__h5_kept kc;   /* mode 1: the keeper; mode 2: the chunk shape */
    strata__h5_zbuf z;    /* mode 1: its scratch */
    unsigned char *strip; /* mode 2: the strip buffer */
};

/* A file written in place while it is streamed would mix old and new rows
 * between passes or blocks: every read first checks that the file at path,
 * if it is still the one opened (a file renamed over it leaves the open one
 * intact), has its size and modification time of the open. */
static int file_unchanged(const char *path, const struct stat *at_open, char *msg)
{
    struct stat now;
    if (stat(path, &now) != 0 || now.st_dev != at_open->st_dev || now.st_ino != at_open->st_ino)
        return STRATA_OK;
    if (now.st_size != at_open->st_size || now.st_mtim.tv_sec != at_open->st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != at_open->st_mtim.tv_nsec)
        return strata__fail(msg, STRATA_E_IO, "'%s' changed while the fit streamed it (its size "
                            "or modification time differ from when it was opened): fit a file "
                            "nothing writes to", path);
    return STRATA_OK;
}

static void zfree(strata__h5_rows *st)
{
    if (st->zmode == 1)
        strata__h5_kept_free(&st->kc);
    strata__h5_zbuf_free(&st->z);
    strata__free(st->strip);
    st->strip = NULL;
}

static void unmap_file(strata__h5_rows *st)
{
    if (st->base)
        munmap((void *)st->base, st->len);
    if (st->fd >= 0)
        close(st->fd);
    strata__free(st->runs);
    st->base = NULL;
    st->fd = -1;
    st->runs = NULL;
    st->nruns = 0;
    st->map_dtype = 0;
    st->direct = 0;
}

void strata__h5_rows_close(strata__h5_rows *st)
{
    if (!st)
        return;
    unmap_file(st);
    zfree(st);
    strata__h5_guard g;
    strata__h5_enter(&g);
    source_close(&st->s);
    strata__h5_leave(&g);
    strata__free(st->path);
    strata__free(st->dataset);
    strata__free(st);
}

/* The bytes of one decompressed chunk of dset where its chunks pass
 * through filters (compression) and HDF5's default chunk cache (1 MiB)
 * cannot hold one: every read touching such a chunk decompresses it whole;
 * 0 otherwise. */
static int64_t filtered_chunk_bytes(hid_t dset)
{
    hsize_t chunk[H5S_MAX_RANK];
    double bytes = 0;
    hid_t dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
    int rank = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) > 0
                   ? H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) : 0;
    if (rank > 0 && type >= 0) {
        bytes = (double)H5Tget_size(type);
        for (int i = 0; i < rank; i++)
            bytes *= (double)chunk[i];
        bytes += 4096.0;
    }
    if (type >= 0)
        H5Tclose(type);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return bytes > (double)(1 << 20) && bytes < 0x1p62 ? (int64_t)bytes : 0;
}

/* Compressed chunks larger than HDF5's default chunk cache (1 MiB) are
 * decompressed again by every read that touches them, and blocks (multiples
 * of 4096 rows) straddle chunks of other sizes (7777 rows: each chunk was
 * read and decompressed 2-4 times a pass). The cache that keeps the one
 * chunk two blocks share: a chunk (0 where HDF5's default holds it, or
 * beyond 128 MiB). */
static int64_t chunk_cache_bytes(int64_t filtered_bytes)
{
    return filtered_bytes <= (int64_t)128 << 20 ? filtered_bytes : 0;
}

void strata__h5_rows_keep_chunks(strata__h5_rows *st)
{
    if (!st->cache_bytes)
        return;
    strata__h5_guard g;
    strata__h5_enter(&g);
    /* closed first: a dataset open twice shares one cache, the first's */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Oclose(st->s.dset);
    st->s.dset = dapl >= 0 && H5Pset_chunk_cache(dapl, 521, (size_t)st->cache_bytes, 1.0) >= 0
                     ? H5Dopen2(st->s.file, st->s.dataset, dapl)
                     : -1;
    if (st->s.dset < 0) /* the default cache then: slower, the same rows */
        st->s.dset = H5Dopen2(st->s.file, st->s.dataset, H5P_DEFAULT);
    if (dapl >= 0)
        H5Pclose(dapl);
    strata__h5_leave(&g);
}

/* ---- Chunks wider or longer than a block -------------------------------
 * Two layouts libhdf5 reads slowly a block at a time:
 *
 * - Deflated chunks beyond its chunk cache (1 MiB): every read touching one
 *   inflates it whole, so the blocks of a matrix stored as one 25 MB gzip
 *   chunk inflated all of it each (79 times a pass at the least budget:
 *   minutes a pass), and its buffers for each (the stored bytes, the output
 *   doubled as it grows, the shuffle's copy) were left with the allocator
 *   beyond what the budget counted (glibc's mmap threshold rises to the chunk
 *   size once one is freed; the later ones stay on its heap: four 25 MB
 *   chunks under --memory 120M peaked at 141 MB). Chunks whose filters are
 *   deflate, or shuffle then deflate, are read by a keeper (io/h5_chunks.h,
 *   strata__h5_kept_read(): read stored, inflated and unshuffled into buffers
 *   allocated once, the chunk row a block is in kept until a block leaves
 *   it), so a pass inflates every chunk once whatever the block size.
 *   Memory: the row, one stored chunk, one shuffled and the conversion
 *   buffers (strata__h5_rows_info's kept_bytes, what a streamed fit's budget
 *   counts). The column readers below use the same keepers.
 * - Plain chunks narrower than a row (one column a chunk: (n, 1)) beyond the
 *   cache: libhdf5 reads them straight from the file, one pread() for each
 *   contiguous piece of the memory selection, one element each where a
 *   block's rows lie across chunks (3.2 million reads a pass of 320,000 x
 *   10). They are read here a strip (the rows of one chunk column) at a time
 *   into a buffer of at most STRIP_BYTES that is contiguous like the file:
 *   one read a chunk a strip, then spread into the rows.
 *
 * Anything unexpected in a chunk (not allocated, other filters on it, a
 * size or an inflated length that does not match) sends the block through
 * libhdf5 as before: the same rows, or its error. */

/* The strip buffer of narrow plain chunks. */
#define STRIP_BYTES ((size_t)1 << 20)

/* Which path st's dataset takes (st->zmode), its chunk shape and sizes.
 * Under the HDF5 lock. */
static void chunks_plan(strata__h5_rows *st)
{
    const int mode = strata__h5_kept_plan(&st->kc, st->s.dset, st->s.d, &st->z);
    st->zmode = mode == 2 && st->kc.zcols < st->s.d ? 2 : mode == 1 ? 1 : 0;
}

/* What the inflating path holds (0 for the others). */
static int64_t chunks_kept_bytes(const strata__h5_rows *st)
{
    if (st->zmode != 1)
        return 0;
    return strata__h5_kept_bytes(&st->kc) + strata__h5_zbuf_bytes(&st->z);
}

/* Why a read of a chunk strata__h5_kept_read() found corrupt fails. */
#define KEPT_CORRUPT_TEXT "a chunk's deflate stream ends before the chunk is full"

/* Rows [r0, r0 + m) of deflated chunks: STRATA_OK, an error, or 1 to read
 * them through HDF5. */
static int inflated_read(strata__h5_rows *st, int dtype, int64_t r0, int64_t m, void *buf,
                         char *msg)
{
    const hid_t mem = dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    const int rc = strata__h5_kept_read(&st->kc, mem, r0, m, 0, st->s.d, buf, 0);
    if (rc < 0)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld chunks of %zu "
                            "bytes of '%s' in '%s', inflated as they are read",
                            (long long)(st->kc.across + 1 + st->kc.shuffle), st->kc.zbytes,
                            st->dataset, st->path);
    if (rc == STRATA__KEPT_CORRUPT)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read rows %lld-%lld of '%s' in "
                            "'%s' (corrupt data): %s", (long long)r0, (long long)(r0 + m - 1),
                            st->dataset, st->path, KEPT_CORRUPT_TEXT);
    return rc;
}

/* Rows [r0, r0 + m) of plain chunks narrower than a row, a strip at a time
 * (converted by HDF5): STRATA_OK or an error. */
static int strip_read(strata__h5_rows *st, int dtype, int64_t r0, int64_t m, void *buf,
                      char *msg)
{
    const int64_t d = st->s.d;
    const strata__h5_kept *k = &st->kc; /* the chunk shape */
    const size_t es = strata__dtype_size(dtype), wide = (size_t)k->zcols * es;
    const size_t cap = wide > STRIP_BYTES ? wide : STRIP_BYTES;
    if (!st->strip && !(st->strip = strata__alloc(1, cap)))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s' in '%s'",
                            st->dataset, st->path);
    const hid_t mem_type = dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    char cause[256];
    int rc = STRATA_OK;
    for (int64_t c = 0; c < k->across && !rc; c++) {
        const int64_t w = k->zcols < d - c * k->zcols ? k->zcols : d - c * k->zcols;
        const int64_t most = (int64_t)(cap / ((size_t)w * es));
        for (int64_t r = r0; r < r0 + m && !rc; r += most) {
            const int64_t p = most < r0 + m - r ? most : r0 + m - r;
            hsize_t start[2] = {(hsize_t)r, (hsize_t)(c * k->zcols)};
            hsize_t count[2] = {(hsize_t)p, (hsize_t)w};
            strata__h5_guard g;
            strata__h5_enter(&g);
            hid_t mspace = H5Screate_simple(2, count, NULL);
            herr_t err = mspace < 0 ? -1
                         : H5Sselect_hyperslab(st->s.space, H5S_SELECT_SET, start, NULL, count,
                                               NULL);
            if (err >= 0)
                err = H5Dread(st->s.dset, mem_type, mspace, st->s.space, H5P_DEFAULT, st->strip);
            if (err < 0)
                strata__h5_cause(cause, sizeof cause);
            if (mspace >= 0)
                H5Sclose(mspace);
            strata__h5_leave(&g);
            if (err < 0) {
                rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read rows %lld-%lld of '%s' "
                                  "in '%s' (corrupt or unreadable data): %s", (long long)r,
                                  (long long)(r + p - 1), st->dataset, st->path, cause);
                break;
            }
            char *to = (char *)buf + ((size_t)(r - r0) * (size_t)d + (size_t)(c * k->zcols)) * es;
            for (int64_t i = 0; i < p; i++)
                memcpy(to + (size_t)i * (size_t)d * es, st->strip + (size_t)i * (size_t)w * es,
                       (size_t)w * es);
        }
    }
    return rc;
}

int strata__h5_rows_open(const char *path, const char *dataset, strata__h5_rows **out,
                           strata__h5_rows_info *info, char *msg)
{
    *out = NULL;
    strata__h5_rows *st = strata__calloc(1, sizeof *st);
    if (!st || !(st->path = strata__strndup(path, strlen(path))) ||
        !(st->dataset = strata__strndup(dataset, strlen(dataset)))) {
        if (st) {
            strata__free(st->path);
            strata__free(st);
        }
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory opening '%s'", path);
    }
    st->s = (source){.file = -1, .dset = -1, .space = -1};
    st->fd = -1;
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = source_open(st->path, st->dataset, &st->s, msg);
    if (!rc && stat(st->path, &st->at_open) != 0)
        rc = strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(errno));
    if (!rc && (st->s.n == 0 || st->s.d == 0))
        rc = strata__fail(msg, STRATA_E_IO_TYPE,
                          "dataset '%s' in '%s' has 0 %s (shape %lld x %lld)", dataset, path,
                          st->s.n == 0 ? "rows" : "columns", (long long)st->s.n,
                          (long long)st->s.d);
    if (!rc) {
        hid_t dcpl = H5Dget_create_plist(st->s.dset);
        hsize_t chunk[2];
        if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2)
            st->chunk_rows = (int64_t)chunk[0];
        if (dcpl >= 0)
            H5Pclose(dcpl);
        /* compressed chunks: the cache strata__h5_rows_keep_chunks() sets */
        const int64_t filtered = filtered_chunk_bytes(st->s.dset);
        chunks_plan(st);
        /* chunks inflated here keep their own (chunks_kept_bytes) */
        st->cache_bytes = st->zmode == 1 ? 0 : chunk_cache_bytes(filtered);
        *info = (strata__h5_rows_info){native_dtype(&st->s), st->s.n, st->s.d, st->chunk_rows, 0,
                                       st->cache_bytes, filtered, chunks_kept_bytes(st), 0};
    }
    strata__h5_leave(&g);
    if (rc) {
        strata__h5_rows_close(st);
        return rc;
    }
    *out = st;
    return STRATA_OK;
}

int strata__h5_rows_read(strata__h5_rows *st, int dtype, int64_t r0, int64_t m, void *buf,
                           char *msg)
{
    if (r0 < 0 || m < 1 || r0 > st->s.n - m)
        return strata__fail(msg, STRATA_E_INTERNAL, "rows %lld-%lld of '%s' in '%s' asked for: "
                            "it has %lld", (long long)r0, (long long)(r0 + m - 1), st->dataset,
                            st->path, (long long)st->s.n);
    int rc = file_unchanged(st->path, &st->at_open, msg);
    if (rc)
        return rc;
    if (st->zmode == 2)
        return strip_read(st, dtype, r0, m, buf, msg);
    if (st->zmode == 1 && (rc = inflated_read(st, dtype, r0, m, buf, msg)) <= 0)
        return rc; /* 1: through HDF5 */
    strata__h5_guard g;
    strata__h5_enter(&g);
    rc = read_rows(&st->s, dtype, r0, m, buf, msg);
    strata__h5_leave(&g);
    return rc;
}

static int stream_read_op(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg)
{
    return strata__h5_rows_read(impl, dtype, r0, m, buf, msg);
}

/* ---- Plain rows: the direct path and the mapped path -------------------
 * A dataset stored as plain little-endian IEEE floats of the fit's type
 * (float32 rows of an f32 dataset, float64 of an f64 one), unfiltered,
 * contiguous or in chunks of whole rows (chunk shape rc x d), in a plain file
 * (the sec2 driver, no user block) lies in the file as the rows a block
 * holds: chunks adjacent in the file, in row order, make one run, and every
 * offset and size is checked against the file's size first. Such a dataset
 * is read one of two ways (STRATA_STREAM_READ in the environment; anything
 * else, or a file the checks refuse, is read through HDF5 as before):
 *
 * - direct (the default, "pread"): rows are read run by run with pread()
 *   on a duplicate of HDF5's descriptor, straight into the pass's buffer:
 *   one copy (page cache -> buffer) instead of HDF5's, without the HDF5
 *   lock, so from several threads at once (a pass reads the next block in
 *   pieces on its computing threads: lib/core/rowsrc.c, "side reads"), and
 *   random reads (seeding) alike. A file truncated under it reads short: an
 *   error naming the file, never a signal.
 * - mapped ("mmap"; STRATA_STREAM_MMAP=1 as before): the file is mapped
 *   read-only (MAP_SHARED, PROT_READ) and the walk's views point into the
 *   mapping (lib/core/rowsrc.h, ops map/at/check/unmap), no copy at all; a
 *   block of many short runs is read instead. Measured slower than the direct
 *   path on the hosts we run on (docs/performance.md, "Direct reads"): every
 *   block maps its pages anew, and on a virtual machine with shadow page
 *   tables each newly mapped 4 KiB page costs a trap to the hypervisor at its
 *   first touch (~1.4 us, 0.35 s a GB), more than copying it (~0.1 s a GB).
 *
 * "hdf5" (or STRATA_STREAM_MMAP=0) reads every block through HDF5.
 *
 * Pages of the mapped path: the reader thread pages a block in ahead of its
 * use (MADV_WILLNEED, then MADV_POPULATE_READ, which reports a page beyond
 * the end of a truncated file as EFAULT instead of a SIGBUS) and drops the
 * block before last (MADV_DONTNEED: the pages leave the process, not the
 * page cache), so the process maps at most two blocks of the file at a time,
 * the memory its two block buffers would take on the read path. A file
 * truncated while mapped: every block checks, before it is paged in and again
 * before it is handed out, that the descriptor's file has the size and
 * modification time it had at the open (a change is an error naming the
 * file). What no check can cover: a truncation in the moments between the
 * last check and the compute threads' touching the block's pages; a page then
 * gone raises SIGBUS (docs/design.md, "Row sources"). */

static atomic_llong mapped_blocks, direct_reads;

int64_t strata__h5_rows_mapped_blocks(void)
{
    return (int64_t)atomic_load(&mapped_blocks);
}

int64_t strata__h5_rows_direct_reads(void)
{
    return (int64_t)atomic_load(&direct_reads);
}

/* The runs of st's dataset, or 0 rows when they cannot be mapped. Under the
 * HDF5 lock. */
static int dataset_runs(strata__h5_rows *st, int dtype, uint64_t file_size)
{
    const source *s = &st->s;
    const size_t es = dtype == STRATA_FLOAT32 ? 4 : 8;
    const size_t rb = es * (size_t)s->d;
    hid_t type = H5Dget_type(s->dset);
    htri_t same = type < 0 ? -1
                  : H5Tequal(type, dtype == STRATA_FLOAT32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE);
    /* the host's floats are those bytes (little-endian IEEE) */
    htri_t native = H5Tequal(dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
                             dtype == STRATA_FLOAT32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE);
    if (type >= 0)
        H5Tclose(type);
    if (same <= 0 || native <= 0)
        return 0;
    hid_t fcpl = H5Fget_create_plist(s->file), fapl = H5Fget_access_plist(s->file);
    hsize_t userblock = 1;
    int plain = fcpl >= 0 && fapl >= 0 && H5Pget_userblock(fcpl, &userblock) >= 0 &&
                userblock == 0 && H5Pget_driver(fapl) == H5FD_SEC2;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    hid_t dcpl = H5Dget_create_plist(s->dset);
    H5D_layout_t layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
    hsize_t chunk[2] = {0, 0};
    /* Filters are allowed where every chunk skipped them all (its filter
     * mask has their bits set): the chunks are then the plain bytes, as
     * libstrata's writer stores a dataset that gzip does not shrink
     * (io/h5_chunks.h) and HDF5 one its optional filters could not. */
    int nfilters = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
    const unsigned skipped_all = nfilters > 0 && nfilters < 32 ? (1u << nfilters) - 1 : 0;
    /* offsets in the descriptor's file: not a dataset behind an external link */
    struct stat own;
    int ok = plain && dcpl >= 0 && nfilters >= 0 && nfilters < 32 &&
             H5Pget_external_count(dcpl) == 0 && data_file(s, &own) == 1;
    if (ok && layout == H5D_CHUNKED)
        ok = H5Pget_chunk(dcpl, 2, chunk) == 2 && chunk[0] >= 1 && chunk[1] == (hsize_t)s->d;
    else if (layout != H5D_CONTIGUOUS)
        ok = 0;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (!ok)
        return 0;
    if (layout == H5D_CONTIGUOUS) {
        haddr_t at = H5Dget_offset(s->dset);
        if (at == HADDR_UNDEF || (uint64_t)at > file_size ||
            (uint64_t)s->n > (file_size - (uint64_t)at) / rb)
            return 0;
        if (!(st->runs = strata__alloc(1, sizeof *st->runs)))
            return 0;
        st->runs[0] = (h5_run){0, s->n, (uint64_t)at};
        st->nruns = 1;
        return 1;
    }
    const int64_t rc = (int64_t)chunk[0], nchunks = (s->n + rc - 1) / rc;
    const uint64_t chunk_bytes = (uint64_t)rc * rb;
    if (!(st->runs = strata__alloc((size_t)nchunks, sizeof *st->runs)))
        return 0;
    int64_t nr = 0;
    for (int64_t c = 0; c < nchunks; c++) {
        hsize_t coord[2] = {(hsize_t)(c * rc), 0}, size = 0;
        haddr_t at = HADDR_UNDEF;
        unsigned mask = ~skipped_all;
        if (H5Dget_chunk_info_by_coord(s->dset, coord, &mask, &at, &size) < 0 ||
            at == HADDR_UNDEF || mask != skipped_all || size != chunk_bytes ||
            (uint64_t)at > file_size || chunk_bytes > file_size - (uint64_t)at) {
            strata__free(st->runs);
            st->runs = NULL;
            return 0; /* not allocated (fill values), filtered, or damaged */
        }
        const int64_t rows = c == nchunks - 1 ? s->n - c * rc : rc;
        h5_run *last = nr ? &st->runs[nr - 1] : NULL;
        if (last && last->off + (uint64_t)last->rows * rb == (uint64_t)at)
            last->rows += rows; /* adjacent in the file: one run */
        else
            st->runs[nr++] = (h5_run){c * rc, rows, (uint64_t)at};
    }
    st->nruns = nr;
    return 1;
}

/* How plain rows are read (see above): 0 through HDF5, 1 direct, 2 mapped. */
static int plain_rows_mode(void)
{
    const char *env = getenv("STRATA_STREAM_READ");
    if (env && *env)
        return !strcmp(env, "hdf5") ? 0 : !strcmp(env, "mmap") ? 2 : 1;
    env = getenv("STRATA_STREAM_MMAP"); /* the switch of before */
    return env && !strcmp(env, "0") ? 0 : env && !strcmp(env, "1") ? 2 : 1;
}

/* Find st's runs for dtype rows if its dataset allows (see above), then map
 * the file or keep the descriptor for direct reads; neither otherwise. Tried
 * once. */
static void plain_rows_open(strata__h5_rows *st, int dtype)
{
    if (st->map_tried)
        return;
    st->map_tried = 1;
    const int mode = plain_rows_mode();
    if (!mode)
        return;
    strata__h5_guard g;
    strata__h5_enter(&g);
    int *handle = NULL;
    struct stat now;
    if (H5Fget_vfd_handle(st->s.file, H5P_DEFAULT, (void **)&handle) >= 0 && handle &&
        (st->fd = fcntl(*handle, F_DUPFD_CLOEXEC, 0)) >= 0 && fstat(st->fd, &now) == 0 &&
        S_ISREG(now.st_mode) && now.st_dev == st->at_open.st_dev &&
        now.st_ino == st->at_open.st_ino && now.st_size == st->at_open.st_size &&
        now.st_size > 0 && (uint64_t)now.st_size <= SIZE_MAX &&
        dataset_runs(st, dtype, (uint64_t)now.st_size)) {
        st->row_bytes = (size_t)st->s.d * (dtype == STRATA_FLOAT32 ? 4 : 8);
        if (mode == 1) {
            st->direct = 1;
            st->map_dtype = dtype;
        } else {
            void *p = mmap(NULL, (size_t)now.st_size, PROT_READ, MAP_SHARED, st->fd, 0);
            if (p != MAP_FAILED) {
                st->base = p;
                st->len = (size_t)now.st_size;
                st->map_dtype = dtype;
                st->populate = 1;
                madvise(p, st->len, MADV_SEQUENTIAL);
            }
        }
    }
    strata__h5_leave(&g);
    if (!st->base && !st->direct)
        unmap_file(st);
}

/* The file behind the mapping as it was at the open. */
static int mapped_unchanged(const strata__h5_rows *st, char *msg)
{
    struct stat now;
    if (fstat(st->fd, &now) != 0 || now.st_size != st->at_open.st_size ||
        now.st_mtim.tv_sec != st->at_open.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != st->at_open.st_mtim.tv_nsec)
        return strata__fail(msg, STRATA_E_IO, "'%s' changed while the fit streamed it (its size "
                            "or modification time differ from when it was opened): fit a file "
                            "nothing writes to", st->path);
    return STRATA_OK;
}

/* The run holding row r. */
static const h5_run *run_of(const strata__h5_rows *st, int64_t r)
{
    int64_t lo = 0, hi = st->nruns - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (st->runs[mid].r0 <= r)
            lo = mid;
        else
            hi = mid - 1;
    }
    return &st->runs[lo];
}

static const void *stream_at_op(void *impl, int64_t r, int64_t m, int64_t *got)
{
    const strata__h5_rows *st = impl;
    const h5_run *run = run_of(st, r);
    const int64_t left = run->r0 + run->rows - r;
    *got = left < m ? left : m;
    return st->base + run->off + (uint64_t)(r - run->r0) * st->row_bytes;
}

/* Pages mapped beyond a range asked for: the kernel maps a whole large folio
 * of the page cache (up to a PMD, 2 MiB, aligned in the file) when it
 * populates or faults in any page of it, so a release rounds out to this.
 * Without it the pages between two runs (another dataset's chunks) stayed
 * mapped: +0.6 MB a block, +57 MB of RSS a pass of the 100M file. */
#define FOLIO_MAX ((uint64_t)2 << 20)

/* Apply advice to the pages of rows [r0, r0 + m), run by run, each run's
 * bytes rounded out to multiples of `align` bytes of the file (a multiple
 * of the page size) within the mapping; the first failure's errno, or 0. */
static int advise_rows(const strata__h5_rows *st, int64_t r0, int64_t m, int advice,
                       uint64_t align)
{
    for (int64_t r = r0, got; r < r0 + m; r += got) {
        const char *p = stream_at_op((void *)st, r, r0 + m - r, &got);
        uint64_t a = (uint64_t)(p - st->base), b = a + (uint64_t)got * st->row_bytes;
        a -= a % align;
        b = b % align ? b + (align - b % align) : b;
        if (b > st->len)
            b = st->len;
        if (madvise((void *)(st->base + a), (size_t)(b - a), advice) != 0)
            return errno;
    }
    return 0;
}

/* A block of more than one run per this many rows is read instead (a pass
 * over a mapped block syncs its threads once a run). */
#define MIN_RUN_ROWS (8 * STRATA__CHUNK_ROWS)

static int stream_map_op(void *impl, int dtype, int64_t r0, int64_t m, int *mapped, char *msg)
{
    strata__h5_rows *st = impl;
    *mapped = 0;
    if (!st->base || dtype != st->map_dtype)
        return STRATA_OK;
    int64_t runs = 0;
    for (int64_t r = r0, got; r < r0 + m; r += got, runs++)
        (void)stream_at_op(st, r, r0 + m - r, &got);
    if (runs > 1 && runs > m / MIN_RUN_ROWS)
        return STRATA_OK;
    int rc = mapped_unchanged(st, msg);
    if (rc)
        return rc;
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    (void)advise_rows(st, r0, m, MADV_WILLNEED, page);
#ifdef MADV_POPULATE_READ
    if (st->populate) {
        int err = advise_rows(st, r0, m, MADV_POPULATE_READ, page);
        if (err == EINVAL || err == ENOSYS)
            st->populate = 0; /* an older kernel: the compute threads fault the pages in */
        else if (err == EFAULT)
            return strata__fail(msg, STRATA_E_IO, "'%s' changed while the fit streamed it (rows "
                                "%lld-%lld are no longer in the file: truncated?): fit a file "
                                "nothing writes to", st->path, (long long)r0,
                                (long long)(r0 + m - 1));
        /* other failures (EINTR, EAGAIN, ENOMEM): the pages fault in when used */
    }
#endif
    atomic_fetch_add(&mapped_blocks, 1);
    *mapped = 1;
    return STRATA_OK;
}

static int stream_check_op(void *impl, char *msg)
{
    return mapped_unchanged(impl, msg);
}

static void stream_unmap_op(void *impl, int64_t r0, int64_t m)
{
    /* rounded out: pages of the blocks beside it, if dropped too, fault
     * back in from the page cache when used */
    (void)advise_rows(impl, r0, m, MADV_DONTNEED, FOLIO_MAX);
}

/* The direct path's read: rows [r0, r0 + m) run by run with pread(), from
 * any thread (pread moves no file offset; HDF5 is not involved); rows of
 * another dtype through HDF5. */
static int direct_read_op(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg)
{
    strata__h5_rows *st = impl;
    if (dtype != st->map_dtype)
        return strata__h5_rows_read(st, dtype, r0, m, buf, msg);
    if (r0 < 0 || m < 1 || r0 > st->s.n - m)
        return strata__fail(msg, STRATA_E_INTERNAL, "rows %lld-%lld of '%s' in '%s' asked for: "
                            "it has %lld", (long long)r0, (long long)(r0 + m - 1), st->dataset,
                            st->path, (long long)st->s.n);
    int rc = mapped_unchanged(st, msg);
    if (rc)
        return rc;
    char *out = buf;
    for (int64_t r = r0; r < r0 + m;) {
        const h5_run *run = run_of(st, r);
        const int64_t left = run->r0 + run->rows - r;
        const int64_t rows = left < r0 + m - r ? left : r0 + m - r;
        size_t want = (size_t)rows * st->row_bytes;
        off_t off = (off_t)(run->off + (uint64_t)(r - run->r0) * st->row_bytes);
        while (want > 0) {
            ssize_t got = pread(st->fd, out, want, off);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return strata__fail(msg, STRATA_E_IO, "cannot read rows %lld-%lld of '%s' in "
                                    "'%s': %s", (long long)r, (long long)(r + rows - 1),
                                    st->dataset, st->path, strerror(errno));
            if (got == 0)
                return strata__fail(msg, STRATA_E_IO, "'%s' changed while the fit streamed it "
                                    "(rows %lld-%lld are no longer in the file: truncated?): "
                                    "fit a file nothing writes to", st->path, (long long)r,
                                    (long long)(r + rows - 1));
            out += got;
            want -= (size_t)got;
            off += got;
        }
        r += rows;
    }
    atomic_fetch_add(&direct_reads, 1);
    return STRATA_OK;
}

static const strata__rowsrc_ops stream_ops = {.read = stream_read_op};
static const strata__rowsrc_ops direct_ops = {.read = direct_read_op, .concurrent_read = 1};
static const strata__rowsrc_ops mapped_ops = {.read = stream_read_op,
                                              .map = stream_map_op,
                                              .at = stream_at_op,
                                              .check = stream_check_op,
                                              .unmap = stream_unmap_op};

int64_t strata__h5_rows_block_rows(const strata__h5_rows_info *info, int dtype,
                                     int64_t block_bytes)
{
    const int64_t C = STRATA__CHUNK_ROWS;
    const int64_t row_bytes = info->d * (int64_t)(dtype == STRATA_FLOAT32 ? 4 : 8);
    const int64_t fit = block_bytes / row_bytes;
    /* Whole dataset chunks per block where they fit, so no chunk is read or
     * decompressed twice; else whole work chunks (at least one). */
    const int64_t chunks[2] = {info->chunk_rows, info->chunk_rows_max};
    for (int i = 0; i < 2; i++)
        if (chunks[i] > 0) {
            const int64_t unit = strata__lcm64(C, chunks[i]);
            if (unit <= fit)
                return fit / unit * unit;
        }
    return fit >= C ? fit / C * C : C;
}

void strata__h5_rows_rowsrc(strata__h5_rows *st, int dtype, int64_t block_rows,
                              strata__rowsrc *out)
{
    plain_rows_open(st, dtype);
    *out = (strata__rowsrc){.mem = {dtype, NULL, st->s.n, st->s.d, st->s.d, NULL, 0},
                            .ops = st->map_dtype != dtype ? &stream_ops
                                   : st->direct           ? &direct_ops
                                                          : &mapped_ops,
                            .impl = st, .block_rows = block_rows};
}

void strata__matrix_free(strata__matrix *m)
{
    if (!m)
        return;
    strata__free(m->data);
    m->data = NULL;
}

/* ---- RFM transaction logs: three 1-D columns or fields of a table ------- */

/* One column to read: a 1-D dataset, or a field of a 1-D compound dataset. */
typedef struct column {
    const char *name;  /* dataset path, or field name */
    const char *label; /* "customer id", "time", "amount" */
    hid_t dset;        /* borrowed for a field: the table's dataset */
    H5T_class_t cls;
    int64_t n;
    /* A column inside an array field (pandas' values_block_<i>): the
     * field's name, its length and the column's place in it; width 0 else. */
    char member[32];
    int64_t width, elem;
    /* A column of a 2-D block (pandas' format="fixed"): its index there. */
    int in_block;
    int64_t block_col;
    int u64; /* 64-bit unsigned integers: read as such, never clipped to int64 */
    int boolean; /* numpy booleans (bool_kind): a feature of 0 and 1 */
    /* A level of a fixed-format MultiIndex: dset holds its codes a row (-1:
     * missing), `levels` its nlevels values (doubles where levels_float,
     * else int64, uint64 where u64), loaded; level_kind its pandas kind. */
    int level, levels_float;
    void *levels;
    int64_t nlevels;
    const char *level_kind;
    /* Where a streamed reader keeps its dataset's deflated chunks (colset_keep):
     * the keeper (the colset's), else NULL. */
    strata__h5_kept *kc;
} column;

static int is_u64(hid_t type)
{
    return type >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE &&
           H5Tget_size(type) >= sizeof(int64_t);
}

/* numpy's bool as the writers store it: 1 for PyTables' (pandas' to_hdf)
 * 8-bit bitfield, 2 for h5py's enum {FALSE = 0, TRUE = 1} over int8; 0 for
 * any other type. */
enum { BOOL_BITFIELD = 1, BOOL_ENUM = 2 };

static int bool_kind(hid_t type)
{
    if (type < 0)
        return 0;
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_BITFIELD)
        return H5Tget_size(type) == 1 ? BOOL_BITFIELD : 0;
    if (cls != H5T_ENUM || H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2)
        return 0;
    hid_t base = H5Tget_super(type);
    int ok = base >= 0 && H5Tget_class(base) == H5T_INTEGER;
    if (base >= 0)
        H5Tclose(base);
    for (unsigned i = 0; ok && i < 2; i++) {
        signed char v = -1;
        char *name = H5Tget_member_name(type, i);
        ok = name && H5Tget_member_value(type, i, &v) >= 0 &&
             !strcmp(name, v == 0 ? "FALSE" : v == 1 ? "TRUE" : "") && v == (signed char)i;
        H5free_memory(name);
    }
    return ok ? BOOL_ENUM : 0;
}

/* The memory type reading a bool_kind() column as its one byte 0 or 1. */
static hid_t bool_mem_type(int kind)
{
    if (kind == BOOL_BITFIELD)
        return H5Tcopy(H5T_NATIVE_B8);
    hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
    signed char no = 0, yes = 1;
    if (t >= 0 && (H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0)) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

static int check_1d(const source *s, int64_t *n, char *msg)
{
    char cause[256], shape[128];
    hsize_t dims[H5S_MAX_RANK];
    hid_t space = H5Dget_space(s->dset);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_dims(space, dims, NULL);
    const H5S_class_t cls = space < 0 ? H5S_NO_CLASS : H5Sget_simple_extent_type(space);
    if (space >= 0)
        H5Sclose(space);
    if (rank < 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the shape of '%s' in '%s': %s",
                            s->dataset, s->path, strata__h5_cause(cause, sizeof cause));
    if (rank != 1)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "dataset '%s' in '%s' has %s; expected a 1-D column", s->dataset,
                            s->path, space_text(cls, dims, rank, shape, sizeof shape));
    *n = (int64_t)dims[0];
    return STRATA_OK;
}

/* Open s->dataset (file already open) and check it is a 1-D dataset. */
static int open_1d(source *s, int64_t *n, char *msg)
{
    char cause[256];
    int rc = check_links(s, msg);
    if (rc)
        return rc;
    s->dset = H5Oopen(s->file, s->dataset, H5P_DEFAULT);
    if (s->dset < 0)
        return strata__fail(msg, STRATA_E_IO_DATASET, "cannot open '%s' in '%s': %s", s->dataset,
                            s->path, strata__h5_cause(cause, sizeof cause));
    H5I_type_t kind = H5Iget_type(s->dset);
    if (kind != H5I_DATASET)
        return strata__fail(msg, STRATA_E_IO_DATASET, "'%s' in '%s' is a %s, not a dataset",
                            s->dataset, s->path, kind == H5I_GROUP ? "group" : "named datatype");
    if ((rc = check_1d(s, n, msg)))
        return rc;
    return check_data(s, msg);
}

/* After a message on a row key's values: how to read the table without one. */
#define KEY_HINT(label)                                                                \
    (strcmp((label), "key") ? ""                                                      \
                            : " (to cluster the rows without a key: --key none, or "  \
                              "key='' in Python)")

/* A column's values: numbers, or booleans for a feature (0 and 1, as
 * scikit-learn and the binding take a DataFrame's bool column). */
static int check_numeric(H5T_class_t cls, int boolean, const char *what, const char *label,
                         const char *path, char *msg)
{
    if (cls == H5T_INTEGER || cls == H5T_FLOAT || (boolean && !strcmp(label, "feature")))
        return STRATA_OK;
    return strata__fail(msg, STRATA_E_IO_TYPE,
                        "%s (the %s column) in '%s' holds %s values; expected integers or "
                        "floats%s", what, label, path, class_name(cls, boolean), KEY_HINT(label));
}

/* A growing list of strings (strata__alloc'ed). */
typedef struct strlist {
    char **v;
    int64_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (int64_t i = 0; i < l->n; i++)
        strata__free(l->v[i]);
    strata__free(l->v);
    *l = (strlist){0};
}

/* Append s[0..len); 0, or -1 out of memory. */
static int strlist_add(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 16;
        char **v = strata__grow(l->v, (size_t)l->cap, (size_t)cap, sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strata__strndup(s, len);
    if (!copy)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

static int64_t strlist_find(const strlist *l, const char *s)
{
    for (int64_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return i;
    return -1;
}

/* The text of the fixed-length string attribute `name` of obj (strata__alloc'ed,
 * NUL-terminated), or NULL if it is absent, not such a string or too long. */
static char *attr_text(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t at = a < 0 ? -1 : H5Aget_type(a);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    const int one = at >= 0 && H5Tget_class(at) == H5T_STRING && sp >= 0 &&
                    H5Sget_simple_extent_npoints(sp) == 1;
    const int vlen = one && H5Tis_variable_str(at) > 0;
    size_t len = !one || vlen ? 0 : H5Tget_size(at);
    char *text = len > 0 && len < (1u << 20) ? strata__calloc(1, len + 1) : NULL;
    /* the raw bytes in the file's own type: PyTables writes an 11-character
     * name as an 11-byte "NUL-terminated" string, which a conversion cuts */
    int ok = text && H5Aread(a, at, text) >= 0;
    if (vlen) { /* h5py's and strata's own strings (a key's "name") */
        char *v = NULL;
        hid_t mt = H5Tcopy(at);
        if (mt >= 0 && H5Aread(a, mt, &v) >= 0 && v) {
            size_t n = strnlen(v, 1u << 20);
            text = n < (1u << 20) ? strata__calloc(1, n + 1) : NULL;
            if (text)
                memcpy(text, v, n);
            ok = text != NULL;
            H5free_memory(v);
        }
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (sp >= 0)
        H5Sclose(sp);
    if (at >= 0)
        H5Tclose(at);
    if (a >= 0)
        H5Aclose(a);
    if (!ok) {
        strata__free(text);
        return NULL;
    }
    return text;
}

/* Code point cp as UTF-8 at o; its length. */
static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A pickle's "V" text (Python's raw-unicode-escape: \uXXXX and \UXXXXXXXX
 * escapes, every other byte a Latin-1 code point) added to out as UTF-8:
 * the name pandas gave the column. 0, or -1 out of memory. */
static int add_pickled_text(strlist *out, const char *s, size_t n)
{
    char *buf = strata__alloc(4 * n + 1, 1);
    if (!buf)
        return -1;
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        const int digits = s[i] == '\\' && i + 1 < n ? (s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0)
                                                   : 0;
        uint32_t cp = 0;
        int ok = digits && i + 2 + (size_t)digits <= n;
        for (int h = 0; ok && h < digits; h++) {
            const char c = s[i + 2 + (size_t)h];
            ok = isxdigit((unsigned char)c);
            cp = cp * 16 + (uint32_t)(isdigit((unsigned char)c) ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        if (ok && cp <= 0x10ffff) {
            len += utf8_put(buf + len, cp);
            i += 2 + (size_t)digits;
        } else {
            len += utf8_put(buf + len, (unsigned char)s[i]);
            i++;
        }
    }
    const int rc = strlist_add(out, buf, len);
    strata__free(buf);
    return rc;
}

/* The strings of a pickled (protocol 0) list as pandas writes them in its
 * attributes: "V<name>" for the first, "aV<name>" for the others, one per
 * line (add_pickled_text decodes the escapes). 0; -1 out of memory;
 * -2 when an item is a number ("I0", "aI1", "F0.5": column labels pandas
 * stored as numbers, which name no column here). */
static int pickle_names(const char *text, strlist *out)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *item = n > 1 && line[0] == 'a' ? line + 1 : line;
        const size_t left = n - (size_t)(item - line);
        if (left > 1 && (item[0] == 'I' || item[0] == 'L' || item[0] == 'F') &&
            (isdigit((unsigned char)item[1]) || item[1] == '-'))
            return -2;
        if (left > 1 && item[0] == 'V' && add_pickled_text(out, item + 1, left - 1) < 0)
            return -1;
        line = end ? end + 1 : NULL;
    }
    return 0;
}

/* pandas' to_hdf(format="table") without data_columns packs the columns of
 * one dtype into an array field values_block_<i>; the attribute
 * values_block_<i>_kind lists their names as a pickled list (pickle_names).
 * Finds c->name there: sets member, width and elem. *numbered (NULL: not
 * asked): set to 1 where a block's names are numbers (labels pandas stored
 * as numbers). */
static int find_pandas_block(hid_t dset, hid_t type, column *c, int *numbered)
{
    for (int i = 0; i < 64; i++) {
        char attr[48];
        snprintf(attr, sizeof attr, "values_block_%d_kind", i);
        if (H5Aexists(dset, attr) <= 0)
            return 0;
        char *text = attr_text(dset, attr);
        strlist names = {0};
        int64_t pos = -1, count = 0;
        const int listed = text ? pickle_names(text, &names) : -1;
        if (listed == 0) {
            pos = strlist_find(&names, c->name);
            count = names.n;
        } else if (listed == -2 && numbered) {
            *numbered = 1;
        }
        strlist_free(&names);
        strata__free(text);
        if (pos < 0)
            continue;
        snprintf(c->member, sizeof c->member, "values_block_%d", i);
        int idx = H5Tget_member_index(type, c->member);
        hid_t mtype = idx < 0 ? -1 : H5Tget_member_type(type, (unsigned)idx);
        hsize_t dims[4] = {0};
        int ok_array = mtype >= 0 && H5Tget_class(mtype) == H5T_ARRAY &&
                       H5Tget_array_ndims(mtype) == 1 && H5Tget_array_dims2(mtype, dims) == 1 &&
                       (int64_t)dims[0] == count;
        if (ok_array) {
            hid_t base = H5Tget_super(mtype);
            c->cls = base < 0 ? H5T_NO_CLASS : H5Tget_class(base);
            c->u64 = is_u64(base);
            c->boolean = bool_kind(base);
            if (base >= 0)
                H5Tclose(base);
        }
        if (mtype >= 0)
            H5Tclose(mtype);
        if (!ok_array)
            return 0;
        c->width = count;
        c->elem = pos;
        return 1;
    }
    return 0;
}

/* A field of the table's compound type: its class, or an error naming the fields. */
static int field_class(const source *t, hid_t type, column *c, H5T_class_t *cls, char *msg)
{
    int idx = H5Tget_member_index(type, c->name), numbered = 0;
    if (idx < 0 && find_pandas_block(t->dset, type, c, &numbered)) {
        *cls = c->cls;
        char what[320];
        snprintf(what, sizeof what, "column '%s' (in field '%s') of table '%s'", c->name,
                 c->member, t->dataset);
        return check_numeric(*cls, c->boolean, what, c->label, t->path, msg);
    }
    if (idx < 0) {
        char fields[256] = "";
        int nm = H5Tget_nmembers(type);
        size_t used = 0;
        for (int i = 0; i < nm && used < sizeof fields; i++) {
            char *name = H5Tget_member_name(type, (unsigned)i);
            used += (size_t)snprintf(fields + used, sizeof fields - used, "%s%s", i ? ", " : "",
                                     name ? name : "?");
            H5free_memory(name);
        }
        return strata__fail(msg, STRATA_E_IO_DATASET,
                            "table '%s' in '%s' has no field '%s' (the %s column); its fields: "
                            "%s%s", t->dataset, t->path, c->name, c->label, fields,
                            numbered ? " (pandas columns whose names are not strings: give the "
                                       "frame string column labels before to_hdf)"
                                     : "");
    }
    *cls = H5Tget_member_class(type, (unsigned)idx);
    hid_t mtype = H5Tget_member_type(type, (unsigned)idx);
    c->u64 = is_u64(mtype);
    c->boolean = bool_kind(mtype);
    if (mtype >= 0)
        H5Tclose(mtype);
    char what[320];
    snprintf(what, sizeof what, "field '%s' of table '%s'", c->name, t->dataset);
    return check_numeric(*cls, c->boolean, what, c->label, t->path, msg);
}

/* Memory type to read a column as `native`: the type itself for a plain
 * dataset, a one-field compound for a table's field. */
static hid_t column_mem_type(const column *c, int field, hid_t native)
{
    if (!field)
        return H5Tcopy(native);
    hid_t member = native;
    if (c->width > 0) { /* the whole array field; read_column picks the column */
        hsize_t w = (hsize_t)c->width;
        member = H5Tarray_create2(native, 1, &w);
        if (member < 0)
            return -1;
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, H5Tget_size(member));
    if (t >= 0 && H5Tinsert(t, c->width > 0 ? c->member : c->name, 0, member) < 0) {
        H5Tclose(t);
        t = -1;
    }
    if (member != native)
        H5Tclose(member);
    return t;
}

/* Read elements [r0, r0 + rows) of a column as `native` into buf. On
 * failure, cause gets HDF5's reason (before the closing calls clear it). */
static herr_t read_block(const column *c, int field, hid_t native, int64_t r0, int64_t rows,
                         void *buf, char *cause, size_t cause_len)
{
    hid_t mem = column_mem_type(c, field, native);
    if (c->kc && mem >= 0) { /* the chunks kept inflated, else libhdf5 below */
        const int kr = strata__h5_kept_read(c->kc, mem, r0, rows,
                                            c->block_col > 0 ? c->block_col : 0, 1, buf, 1);
        if (kr < 0 || kr == STRATA__KEPT_CORRUPT)
            snprintf(cause, cause_len, "%s", kr < 0 ? "out of memory for its chunks, inflated "
                                                      "as they are read" : KEPT_CORRUPT_TEXT);
        if (kr <= 0 || kr == STRATA__KEPT_CORRUPT) {
            H5Tclose(mem);
            return kr <= 0 ? kr : -1;
        }
    }
    hid_t fspace = H5Dget_space(c->dset);
    hsize_t start[2] = {(hsize_t)r0, (hsize_t)c->block_col}, count[2] = {(hsize_t)rows, 1};
    hid_t mspace = H5Screate_simple(1, count, NULL);
    herr_t err = mem < 0 || fspace < 0 || mspace < 0 ? -1
                 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    if (err >= 0)
        err = H5Dread(c->dset, mem, mspace, fspace, H5P_DEFAULT, buf);
    if (err < 0)
        strata__h5_cause(cause, cause_len);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mem >= 0)
        H5Tclose(mem);
    return err;
}

/* Float ids and times through a double buffer: kind 0 = id (integral or
 * missing), 1 = time (floored, NaN missing). */
static inline int64_t float_to_int(double x, int kind)
{
    if (kind == 1)
        x = __builtin_floor(x);
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0) || x != __builtin_floor(x))
        return INT64_MIN;
    return (int64_t)x;
}

/* Read rows [first, first + count) of column c into out, row first + i at
 * out + i * stride (8-byte elements: int64 for kinds 0 and 1, double for
 * kind 2). */
/* The most chunks, or else rows, one column read asks libhdf5 for. */
#define READ_CHUNKS 256
#define READ_MIN_ROWS 16384

static int64_t chunk_rows_of(hid_t dset);

static int read_column_range(const source *s, const column *c, int field, int kind, void *out,
                             int64_t stride, int64_t first, int64_t count, char *msg)
{
    char cause[256];
    const int64_t width = c->width > 0 ? c->width : 1;
    int64_t step = (int64_t)(BLOCK_BYTES / sizeof(double)) / width;
    /* libhdf5 holds a few KB of bookkeeping for every chunk one read
     * touches, all at once (1M rows in chunks of 100: 65 MB a column): at
     * most READ_CHUNKS chunks a read, or READ_MIN_ROWS rows */
    const int64_t chunk = chunk_rows_of(c->dset), most = chunk * READ_CHUNKS;
    if (chunk > 1 && step > most)
        step = most > READ_MIN_ROWS ? most : READ_MIN_ROWS;
    step = step > 0 ? step : 1;
    double *tmp = NULL;
    int as_float = kind != 2 && c->cls == H5T_FLOAT && !c->boolean && !c->level;
    /* read through tmp to convert floats to ids/times, to pick one column
     * of an array field, to spread a column over the rows of a matrix
     * (8-byte elements each way), or to widen booleans (a byte each) */
    int via_tmp = as_float || width > 1 || stride != 1 || c->boolean || c->level;
    if (via_tmp && !(tmp = strata__alloc((size_t)((count < step ? count : step) * width),
                                         sizeof *tmp)))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s' in '%s'", c->name,
                            s->path);
    hid_t bool_type = c->boolean ? bool_mem_type(c->boolean) : -1;
    hid_t native = c->boolean ? bool_type
                   : c->level ? H5T_NATIVE_INT64 /* the codes */
                   : kind == 2 || as_float ? H5T_NATIVE_DOUBLE
                   : c->u64 ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
    int rc = STRATA_OK;
#define AT(i) ((char *)out + (size_t)((r0 - first + (i)) * stride) * 8)
    for (int64_t r0 = first; r0 < first + count && !rc; r0 += step) {
        int64_t rows = first + count - r0 < step ? first + count - r0 : step;
        void *dst = via_tmp ? (void *)tmp : AT(0);
        if (read_block(c, field, native, r0, rows, dst, cause, sizeof cause) < 0) {
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "cannot read rows %lld-%lld of the %s column '%s' in '%s': %s",
                              (long long)r0, (long long)(r0 + rows - 1), c->label, c->name,
                              s->path, cause);
            break;
        }
        const int64_t e = width > 1 ? c->elem : 0;
        if (c->level) /* a MultiIndex level: each row's value by its code */
            for (int64_t i = 0; i < rows && !rc; i++) {
                int64_t code, v = INT64_MIN;
                double x = NAN;
                memcpy(&code, tmp + i, 8);
                if (code >= c->nlevels) {
                    rc = strata__fail(msg, STRATA_E_IO_FORMAT, "row %lld of the %s column '%s' "
                                      "in '%s' has code %lld, beyond its level's %lld values: "
                                      "the file is damaged", (long long)(r0 + i), c->label,
                                      c->name, s->path, (long long)code,
                                      (long long)c->nlevels);
                } else if (code >= 0) { /* -1: missing (NaN) */
                    if (c->levels_float) {
                        x = ((const double *)c->levels)[code];
                        v = kind == 2 ? 0 : float_to_int(x, kind);
                    } else {
                        v = ((const int64_t *)c->levels)[code];
                        x = c->u64 ? (double)(uint64_t)v : (double)v;
                    }
                }
                memcpy(AT(i), kind == 2 ? (const void *)&x : (const void *)&v, 8);
            }
        else if (c->boolean) /* 0 or 1, as doubles or as integers */
            for (int64_t i = 0; i < rows; i++) {
                const int yes = ((const unsigned char *)tmp)[i * width + e] != 0;
                const double x = yes;
                const int64_t v = yes;
                memcpy(AT(i), kind == 2 ? (const void *)&x : (const void *)&v, 8);
            }
        else if (as_float)
            for (int64_t i = 0; i < rows; i++) {
                int64_t v = float_to_int(tmp[i * width + e], kind);
                memcpy(AT(i), &v, 8);
            }
        else if (via_tmp) /* same 8-byte type: copy the column's bits */
            for (int64_t i = 0; i < rows; i++)
                memcpy(AT(i), tmp + i * width + e, 8);
        /* uint64 ids or times >= 2^63 (hashed ids) have no int64 value: they
         * get the missing mark and are counted as bad rows, as in Python */
        if (kind != 2 && c->u64)
            for (int64_t i = 0; i < rows; i++) {
                int64_t v;
                memcpy(&v, AT(i), 8);
                if (v < 0) {
                    v = INT64_MIN;
                    memcpy(AT(i), &v, 8);
                }
            }
    }
#undef AT
    strata__free(tmp);
    if (bool_type >= 0)
        H5Tclose(bool_type);
    return rc;
}

/* Read the whole column c (read_column_range). */
static int read_column(const source *s, const column *c, int field, int kind, void *out,
                       int64_t stride, char *msg)
{
    return read_column_range(s, c, field, kind, out, stride, 0, c->n, msg);
}

void strata__h5_transactions_free(strata__h5_transactions *t)
{
    if (!t)
        return;
    strata__free(t->customer_id);
    strata__free(t->time);
    strata__free(t->amount);
    memset(t, 0, sizeof *t);
}

static const char *obj_pandas_kind(hid_t file, const char *path);

/* The names of the levels of a fixed-format MultiIndex frame (pandas stores
 * level i as axis1_level<i>, its distinct values named by their "name"
 * attribute, and axis1_label<i>, each row's code into them), in order ("" for
 * an unnamed one): 0; -1 when out of memory. None for other frames. */
static int fixed_levels(hid_t file, const char *group, strlist *names)
{
    for (int i = 0; i < 64; i++) {
        char path[1100];
        if (snprintf(path, sizeof path, "%s%saxis1_level%d", group,
                     group[0] && group[strlen(group) - 1] == '/' ? "" : "/", i) >=
                (int)sizeof path ||
            link_exists(file, path) <= 0)
            break;
        hid_t obj = H5Oopen(file, path, H5P_DEFAULT);
        char *name = obj < 0 ? NULL : attr_text(obj, "name");
        if (obj >= 0)
            H5Oclose(obj);
        const char *nm = name && strcmp(name, "N.") != 0 ? name : ""; /* N.: pickled None */
        const int rc = strlist_add(names, nm, strlen(nm));
        strata__free(name);
        if (rc)
            return -1;
    }
    return 0;
}

/* Open level `i` of the fixed MultiIndex frame `group` as column c: its
 * codes (axis1_label<i>) as s, its values loaded into c->levels. */
static int open_fixed_level(hid_t file, const char *group, int i, column *c, source *s,
                            char *path_buf, size_t cap, char *msg)
{
    char cause[256], values[1100];
    const char *sep = group[0] && group[strlen(group) - 1] == '/' ? "" : "/";
    snprintf(path_buf, cap, "%s%saxis1_label%d", group, sep, i);
    snprintf(values, sizeof values, "%s%saxis1_level%d", group, sep, i);
    s->file = file;
    s->dataset = path_buf;
    int64_t nv = 0;
    int rc = open_1d(s, &c->n, msg);
    if (rc)
        return rc;
    hid_t type = H5Dget_type(s->dset);
    const H5T_class_t code_cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    if (type >= 0)
        H5Tclose(type);
    if (code_cls != H5T_INTEGER)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read level '%s' of pandas frame "
                            "'%s' in '%s': its codes '%s' are not integers", c->name, group,
                            s->path, path_buf);
    source v = {.path = s->path, .file = file, .dataset = values, .dset = -1, .space = -1,
                .file_size = s->file_size};
    rc = open_1d(&v, &nv, msg);
    hid_t vt = rc ? -1 : H5Dget_type(v.dset);
    c->cls = vt < 0 ? H5T_NO_CLASS : H5Tget_class(vt);
    c->u64 = is_u64(vt);
    /* a bool level is a 0/1 feature, as a bool column is (never a key) */
    const int boolean = bool_kind(vt) && !strcmp(c->label, "feature");
    if (!rc && c->cls != H5T_INTEGER && c->cls != H5T_FLOAT && !boolean)
        rc = strata__fail(msg, STRATA_E_IO_TYPE,
                          "level '%s' of pandas frame '%s' (the %s column) in '%s' holds %s; "
                          "expected integers or floats%s", c->name, group, c->label, s->path,
                          c->cls == H5T_STRING || nv == 0 ? "strings"
                                                          : class_name(c->cls, bool_kind(vt)),
                          KEY_HINT(c->label));
    if (!rc) {
        char what[64];
        snprintf(what, sizeof what, "%lld values of a MultiIndex level", (long long)nv);
        rc = check_memory((uint64_t)nv * 8, what, s->path, msg);
    }
    if (!rc && !(c->levels = strata__alloc((size_t)(nv ? nv : 1), 8)))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for level '%s' of '%s'", c->name,
                          s->path);
    c->levels_float = c->cls == H5T_FLOAT;
    hid_t mem = boolean ? vt /* one byte a value, widened below: libhdf5 converts no bool */
                : c->levels_float ? H5T_NATIVE_DOUBLE : c->u64 ? H5T_NATIVE_UINT64
                                                               : H5T_NATIVE_INT64;
    if (!rc && nv > 0 && H5Dread(v.dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->levels) < 0)
        rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read level '%s' of '%s' in '%s': %s",
                          c->name, group, s->path, strata__h5_cause(cause, sizeof cause));
    if (!rc && boolean) { /* bytes 0/1 at the front of the 8-byte slots, widened from the end */
        const unsigned char *b = (const unsigned char *)c->levels;
        for (int64_t j = nv - 1; j >= 0; j--)
            ((int64_t *)c->levels)[j] = b[j] != 0;
        c->cls = H5T_INTEGER;
        c->u64 = 0;
    }
    if (vt >= 0)
        H5Tclose(vt);
    v.file = -1; /* the colset's */
    source_close(&v);
    if (rc)
        return rc;
    c->nlevels = nv;
    c->level = 1;
    c->dset = s->dset;
    c->level_kind = obj_pandas_kind(file, values);
    return check_data(s, msg);
}

/* pandas' default to_hdf(format="fixed") stores a frame as a group with
 * block<i>_items (the column names, fixed-length strings) and block<i>_values
 * (rows x columns of one dtype). Opens the block holding column c->name as
 * s (s->dataset pointing into path_buf) and sets c's block column, length
 * and class. Returns STRATA_OK, or an error naming the frame's columns. */
static int open_fixed_column(hid_t file, const char *group, column *c, source *s, char *path_buf,
                             size_t cap, char *msg)
{
    char cause[256], names[256] = "";
    size_t used = 0;
    for (int b = 0; b < 64 && c->block_col < 0; b++) {
        char items[1100];
        snprintf(items, sizeof items, "%s/block%d_items", group, b);
        if (link_exists(file, items) <= 0)
            break;
        hid_t d = H5Dopen2(file, items, H5P_DEFAULT);
        hid_t t = d < 0 ? -1 : H5Dget_type(d);
        hid_t sp = d < 0 ? -1 : H5Dget_space(d);
        hssize_t m = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
        size_t len = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0
                         ? H5Tget_size(t) : 0;
        char *text = len && m > 0 && m < 100000 ? strata__calloc((size_t)m, len) : NULL;
        if (text && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) >= 0)
            for (hssize_t j = 0; j < m; j++) {
                const char *nm = text + (size_t)j * len;
                size_t n = strnlen(nm, len);
                if (n == strlen(c->name) && !memcmp(nm, c->name, n)) {
                    c->block_col = j;
                    snprintf(path_buf, cap, "%s/block%d_values", group, b);
                }
                if (used < sizeof names)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%.*s",
                                             used ? ", " : "", (int)n, nm);
            }
        strata__free(text);
        if (sp >= 0)
            H5Sclose(sp);
        if (t >= 0)
            H5Tclose(t);
        if (d >= 0)
            H5Dclose(d);
    }
    if (c->block_col < 0) { /* a level of its MultiIndex, as in table format */
        strlist levels = {0};
        if (fixed_levels(file, group, &levels) < 0) {
            strlist_free(&levels);
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s'", s->path);
        }
        const int64_t i = c->name[0] ? strlist_find(&levels, c->name) : -1;
        for (int64_t j = 0; j < levels.n && used < sizeof names; j++)
            if (levels.v[j][0])
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s (level)",
                                         used ? ", " : "", levels.v[j]);
        strlist_free(&levels);
        if (i >= 0)
            return open_fixed_level(file, group, (int)i, c, s, path_buf, cap, msg);
    }
    if (c->block_col < 0)
        return strata__fail(msg, STRATA_E_IO_DATASET,
                            "pandas frame '%s' in '%s' has no column '%s' (the %s column); its "
                            "columns: %s", group, s->path, c->name, c->label,
                            used ? names : "none found");
    s->file = file;
    s->dataset = path_buf;
    s->dset = H5Dopen2(file, path_buf, H5P_DEFAULT);
    hsize_t dims[H5S_MAX_RANK];
    hid_t space = s->dset < 0 ? -1 : H5Dget_space(s->dset);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    if (rank == 1) /* a VLArray: pandas' object (string) columns */
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "column '%s' of pandas frame '%s' (the %s column) in '%s' holds "
                            "Python objects (e.g. strings); expected integers or floats%s",
                            c->name, group, c->label, s->path, KEY_HINT(c->label));
    /* pandas writes an empty block as a 1 x 1 placeholder with its true
     * shape pickled in a "shape" attribute: a frame of no rows */
    const int empty = rank == 2 && dims[0] == 1 && dims[1] == 1 && H5Aexists(s->dset, "shape") > 0;
    if (empty)
        dims[0] = 0;
    else if (rank != 2 || (int64_t)dims[1] <= c->block_col)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read '%s' in '%s' as a pandas "
                            "block of columns: %s", path_buf, s->path,
                            rank < 0 ? strata__h5_cause(cause, sizeof cause) : "not 2-D");
    hid_t type = H5Dget_type(s->dset);
    c->cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    c->u64 = is_u64(type);
    c->boolean = bool_kind(type);
    if (type >= 0)
        H5Tclose(type);
    c->n = (int64_t)dims[0];
    c->dset = s->dset;
    c->in_block = 1;
    char what[1200];
    snprintf(what, sizeof what, "column '%s' of pandas frame '%s'", c->name, group);
    int rc = check_numeric(c->cls, c->boolean, what, c->label, s->path, msg);
    return rc ? rc : check_data(s, msg);
}

/* Is `group` a pandas format="fixed" frame (a group with block0_items)? */
static int is_fixed_frame(hid_t file, const char *group)
{
    char items[1100];
    if (snprintf(items, sizeof items, "%s/block0_items", group) >= (int)sizeof items ||
        link_exists(file, group) <= 0)
        return 0;
    hid_t obj = H5Oopen(file, group, H5P_DEFAULT);
    int is_group = obj >= 0 && H5Iget_type(obj) == H5I_GROUP;
    if (obj >= 0)
        H5Oclose(obj);
    return is_group && link_exists(file, items) > 0;
}

/* pandas' HDFStore key is a group holding the table as "<key>/table": accept
 * the key too. Returns table itself where that does not apply. */
static const char *pandas_table_path(hid_t file, const char *table, char *buf, size_t cap)
{
    if (snprintf(buf, cap, "%s/table", table) >= (int)cap || link_exists(file, table) <= 0)
        return table;
    hid_t obj = H5Oopen(file, table, H5P_DEFAULT);
    int group = obj >= 0 && H5Iget_type(obj) == H5I_GROUP;
    if (obj >= 0)
        H5Oclose(obj);
    return group && link_exists(file, buf) > 0 ? buf : table;
}

/* ---- A set of equal-length columns: the reader of every table layout ----- */

/* One column asked for: a 1-D dataset, a field of a compound table, or a
 * column of a pandas frame. */
typedef struct colspec {
    const char *name;  /* dataset path (no table, or `dataset`), else the column's name */
    const char *label; /* what it is for messages: "customer id", "feature", "key" */
    int dataset;       /* 1: a 1-D dataset even when a table is read (pandas' index) */
    int dates_ok;      /* a log's time: pandas' datetime64 is converted, not refused */
} colspec;

/* Columns opened and checked (numeric, 1-D, of one length), ready to read. */
typedef struct colset {
    const char *path;
    hid_t file;
    const char *table; /* the compound dataset or pandas frame; NULL: datasets */
    int fixed;         /* table is a pandas fixed-format frame */
    int ncols;
    const colspec *spec;
    source tab;        /* the compound table (fields read from it) */
    hid_t type;        /* its type */
    source *s;         /* per column: its own dataset (plain, or a fixed block) */
    column *col;
    char (*block_path)[1100];
    char key_table[1024];
    int64_t n;
    /* Streamed readers (colset_keep): a keeper for each dataset of deflated
     * chunks beyond libhdf5's cache, all sharing one scratch. */
    strata__h5_kept *kept;
    int nkept;
    strata__h5_zbuf z;
} colset;

static void colset_close(colset *cs)
{
    for (int i = 0; i < cs->nkept; i++)
        strata__h5_kept_free(&cs->kept[i]);
    strata__free(cs->kept);
    cs->kept = NULL;
    cs->nkept = 0;
    strata__h5_zbuf_free(&cs->z);
    for (int k = 0; cs->col && k < cs->ncols; k++)
        strata__free(cs->col[k].levels);
    for (int k = 0; cs->s && k < cs->ncols; k++) {
        cs->s[k].file = -1; /* closed once below */
        source_close(&cs->s[k]);
    }
    cs->tab.file = -1;
    source_close(&cs->tab);
    if (cs->type >= 0)
        H5Tclose(cs->type);
    if (cs->file >= 0)
        H5Fclose(cs->file);
    strata__free(cs->s);
    strata__free(cs->col);
    strata__free(cs->block_path);
    cs->s = NULL;
    cs->col = NULL;
    cs->block_path = NULL;
    cs->type = cs->file = -1;
}

/* Give cs room for ncols columns. */
static int colset_alloc(colset *cs, int ncols, char *msg)
{
    size_t m = (size_t)(ncols > 0 ? ncols : 1);
    for (int k = 0; cs->col && k < cs->ncols; k++)
        strata__free(cs->col[k].levels);
    cs->ncols = 0;
    strata__free(cs->s);
    strata__free(cs->col);
    strata__free(cs->block_path);
    cs->s = strata__calloc(m, sizeof *cs->s);
    cs->col = strata__calloc(m, sizeof *cs->col);
    cs->block_path = strata__calloc(m, sizeof *cs->block_path);
    if (!cs->s || !cs->col || !cs->block_path)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for %d columns of '%s'", ncols,
                            cs->path);
    for (int k = 0; k < ncols; k++)
        cs->s[k] = (source){.path = cs->path, .file = -1, .dset = -1, .space = -1,
                            .file_size = cs->tab.file_size};
    cs->ncols = ncols;
    return STRATA_OK;
}

/* Start a colset on an open file (owned by cs from here on). */
static int colset_init(colset *cs, const char *path, hid_t file, uint64_t file_size, int ncols,
                       char *msg)
{
    *cs = (colset){.path = path, .file = file, .type = -1};
    cs->tab = (source){.path = path, .file = -1, .dset = -1, .space = -1,
                       .file_size = file_size};
    return colset_alloc(cs, ncols, msg);
}

/* Open the file at path for a colset. */
static int colset_file(colset *cs, const char *path, int ncols, char *msg)
{
    uint64_t file_size = 0;
    *cs = (colset){.file = -1, .type = -1};
    cs->tab = (source){.file = -1, .dset = -1, .space = -1};
    int rc = check_file(path, &file_size, msg);
    if (rc)
        return rc;
    hid_t file = open_file(path, msg);
    if (file < 0)
        return STRATA_E_IO_FORMAT;
    return colset_init(cs, path, file, file_size, ncols, msg);
}

/* Resolve `table` (NULL: columns are datasets): pandas' key of a table
 * format frame names the group holding "table". */
static void colset_table(colset *cs, const char *table)
{
    if (table && strcmp(table, "/") != 0)
        table = pandas_table_path(cs->file, table, cs->key_table, sizeof cs->key_table);
    cs->table = table;
    cs->fixed = table && is_fixed_frame(cs->file, table);
}

/* Open cs->table as a compound table (once). */
static int colset_open_table(colset *cs, char *msg)
{
    if (cs->tab.dset >= 0)
        return STRATA_OK;
    int64_t n;
    cs->tab.file = cs->file;
    cs->tab.dataset = cs->table;
    int rc = open_1d(&cs->tab, &n, msg);
    if (rc)
        return rc;
    cs->type = H5Dget_type(cs->tab.dset);
    H5T_class_t cls = cs->type < 0 ? H5T_NO_CLASS : H5Tget_class(cs->type);
    if (cls != H5T_COMPOUND)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "table '%s' in '%s' holds %s values, not records with fields (a "
                            "compound type)", cs->table, cs->path,
                            cls == H5T_INTEGER || cls == H5T_FLOAT ? "plain numeric"
                                                                   : class_name(cls, 0));
    cs->tab.n = n;
    return STRATA_OK;
}

/* What pandas says a column holds where that is no number to read:
 * "datetime64" or "timedelta64" values (stored as int64 nanoseconds: a
 * date would weigh 1e18), or "categorical" codes; NULL for numbers (and
 * for anything pandas did not write). Table format: the attributes
 * <field>_dtype and <field>_meta of the table, for the values_block_<i>
 * holding the column or the column's own field (a data column); fixed
 * format: the "value_type" of the block holding it; a dataset (a group of
 * 1-D datasets, a fixed Series' "values"): its own "value_type". */
static const char *pandas_kind_of(const char *dtype, const char *meta)
{
    if (dtype && !strncmp(dtype, "datetime64", 10))
        return "datetime64";
    if (dtype && !strncmp(dtype, "timedelta64", 11))
        return "timedelta64";
    if (meta && !strcmp(meta, "category"))
        return "categorical";
    return NULL;
}

/* A dataset's: the "value_type" of a fixed-format block or Series, or the
 * "kind" of a stored index (axis1, a Series' index). */
static const char *obj_pandas_kind(hid_t file, const char *path)
{
    if (link_exists(file, path) <= 0)
        return NULL;
    hid_t obj = H5Oopen(file, path, H5P_DEFAULT);
    char *vt = obj < 0 ? NULL : attr_text(obj, "value_type");
    char *kind = obj < 0 || vt ? NULL : attr_text(obj, "kind");
    if (obj >= 0)
        H5Oclose(obj);
    const char *what = pandas_kind_of(vt ? vt : kind, NULL);
    strata__free(vt);
    strata__free(kind);
    return what;
}

/* A field of a pandas table (the dataset table): the table's attributes
 * <field>_dtype and <field>_meta, or index_kind for its index. */
static const char *field_pandas_kind(hid_t table, const char *field)
{
    char attr[1100];
    if (snprintf(attr, sizeof attr, "%s_%s", field, strcmp(field, "index") ? "dtype" : "kind") >=
        (int)sizeof attr)
        return NULL;
    char *dtype = attr_text(table, attr);
    snprintf(attr, sizeof attr, "%s_meta", field);
    char *meta = attr_text(table, attr);
    const char *kind = pandas_kind_of(dtype, meta);
    strata__free(dtype);
    strata__free(meta);
    return kind;
}

/* Open and check column k of spec. */
static int colset_open_column(colset *cs, int k, char *msg)
{
    const colspec *sp = &cs->spec[k];
    column *c = &cs->col[k];
    source *s = &cs->s[k];
    int rc;
    *c = (column){.name = sp->name, .label = sp->label, .block_col = -1};
    if (cs->table && cs->fixed && !sp->dataset)
        return open_fixed_column(cs->file, cs->table, c, s, cs->block_path[k],
                                 sizeof cs->block_path[k], msg);
    if (cs->table && !sp->dataset) { /* a field of the compound table */
        if ((rc = colset_open_table(cs, msg)))
            return rc;
        c->dset = cs->tab.dset;
        c->n = cs->tab.n;
        return field_class(&cs->tab, cs->type, c, &c->cls, msg);
    }
    s->file = cs->file;
    s->dataset = sp->name;
    if ((rc = open_1d(s, &c->n, msg)))
        return rc;
    c->dset = s->dset;
    hid_t type = H5Dget_type(s->dset);
    c->cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    c->u64 = is_u64(type);
    c->boolean = bool_kind(type);
    if (type >= 0)
        H5Tclose(type);
    return check_numeric(c->cls, c->boolean, sp->name, sp->label, cs->path, msg);
}

/* Column k's pandas kind (pandas_kind_of), once it is open. */
static const char *colset_pandas_kind(const colset *cs, int k)
{
    const colspec *sp = &cs->spec[k];
    const column *c = &cs->col[k];
    if (c->level)
        return c->level_kind;
    if (cs->table && cs->fixed && !sp->dataset)
        return obj_pandas_kind(cs->file, cs->block_path[k]);
    if (cs->table && !sp->dataset)
        return field_pandas_kind(cs->tab.dset, c->member[0] ? c->member : c->name);
    return obj_pandas_kind(cs->file, sp->name);
}

/* Open and check every column of spec (ncols given to colset_init). Dates,
 * durations (int64 nanoseconds to pandas) and category codes are refused
 * for every use: ids, times, amounts, features alike. */
static int colset_open(colset *cs, const colspec *spec, char *msg)
{
    cs->spec = spec;
    for (int k = 0; k < cs->ncols; k++) {
        int rc = colset_open_column(cs, k, msg);
        if (rc)
            return rc;
        const char *kind = colset_pandas_kind(cs, k);
        if (kind && !(spec[k].dates_ok && !strcmp(kind, "datetime64")))
            return strata__fail(
                msg, STRATA_E_IO_TYPE,
                "column '%s' (the %s) of '%s' holds pandas %s values, stored as %s: convert "
                "it to %s first%s", spec[k].name, spec[k].label, cs->path, kind,
                strcmp(kind, "categorical") ? "int64 nanoseconds" : "the codes of its categories",
                !strcmp(spec[k].label, "time") && !strcmp(kind, "datetime64")
                    ? "whole days since a date (or seconds, with --time-unit seconds)"
                    : "plain numbers", KEY_HINT(spec[k].label));
        if (cs->col[k].n != cs->col[0].n)
            return strata__fail(msg, STRATA_E_IO_TYPE,
                                "columns of different lengths in '%s': '%s' (%s) has %lld rows, "
                                "'%s' (%s) has %lld", cs->path, spec[0].name, spec[0].label,
                                (long long)cs->col[0].n, spec[k].name, spec[k].label,
                                (long long)cs->col[k].n);
    }
    cs->n = cs->ncols > 0 ? cs->col[0].n : 0;
    return STRATA_OK;
}

/* Rows [first, first + count) of column k as `kind` (read_column_range)
 * into out, element i at out + i * stride. */
static int colset_read_range(const colset *cs, int k, int kind, void *out, int64_t stride,
                             int64_t first, int64_t count, char *msg)
{
    int field = cs->table && !cs->fixed && !cs->spec[k].dataset;
    return read_column_range(field ? &cs->tab : &cs->s[k], &cs->col[k], field, kind, out, stride,
                             first, count, msg);
}

/* Read column k as `kind` (read_column) into out, element i at out + i * stride. */
static int colset_read(const colset *cs, int k, int kind, void *out, int64_t stride, char *msg)
{
    return colset_read_range(cs, k, kind, out, stride, 0, cs->col[k].n, msg);
}

/* Give the streamed readers of cs keepers (io/h5_chunks.h) for the datasets
 * of its first ncols columns (those the stream reads) whose chunks are
 * deflated beyond libhdf5's cache: one a dataset (a table's fields, or a
 * pandas block opened once per column, share it: datasets are told apart
 * by name), all sharing cs->z. *kept: what they
 * hold at most, their rows and the scratch; *other: the largest filtered
 * chunk (filtered_chunk_bytes()) of the datasets left to libhdf5, 0 none.
 * Buffers are allocated at the first read. Under the HDF5 lock. */
static int colset_keep(colset *cs, int ncols, int64_t *kept, int64_t *other, char *msg)
{
    *kept = *other = 0;
    if (!(cs->kept = strata__calloc((size_t)(cs->ncols > 0 ? cs->ncols : 1), sizeof *cs->kept)))
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory opening '%s'", cs->path);
    for (int k = 0; k < ncols && k < cs->ncols; k++) {
        column *c = &cs->col[k];
        char name[1100], seen[1100];
        if (c->dset < 0 || H5Iget_name(c->dset, name, sizeof name) <= 0)
            continue;
        for (int i = 0; i < cs->nkept && !c->kc; i++)
            if (H5Iget_name(cs->kept[i].dset, seen, sizeof seen) > 0 && !strcmp(seen, name))
                c->kc = &cs->kept[i];
        if (c->kc)
            continue;
        hid_t space = H5Dget_space(c->dset);
        hsize_t dims[2] = {0, 1};
        const int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
        if (space >= 0)
            H5Sclose(space);
        if ((rank == 1 || rank == 2) &&
            strata__h5_kept_plan(&cs->kept[cs->nkept], c->dset, rank == 2 ? (int64_t)dims[1] : 1,
                                 &cs->z) == 1) {
            c->kc = &cs->kept[cs->nkept++];
            *kept += strata__h5_kept_bytes(c->kc);
        } else {
            const int64_t f = filtered_chunk_bytes(c->dset);
            *other = f > *other ? f : *other;
        }
    }
    if (cs->nkept)
        *kept += strata__h5_zbuf_bytes(&cs->z);
    return STRATA_OK;
}

/* ---- A transaction log streamed as a column source ---------------------- */

struct strata__h5_log {
    colset cs;
    colspec spec[3];
    char index_path[1100]; /* a fixed frame's index (axis1), read as a named column */
    int64_t chunk_rows;    /* the longest chunks of the columns (1: none chunked) */
    int64_t filtered_rows; /* the longest filtered (compressed) chunks libhdf5 decompresses
                              (no keeper's); 0 none */
    int64_t kept_bytes;    /* what the keepers of deflated chunks hold (colset_keep) */
    /* the time column is pandas' datetime64: nanoseconds a unit of time_unit
     * (86400e9 a day, 1e9 a second), floored as read; 0: read as stored */
    int64_t ns_per_unit;
    struct stat at_open; /* the file as opened: a change in place is an error */
};

/* Rows per chunk of dataset dset (1 when it is not chunked); *filtered (may
 * be NULL): whether its chunks pass through filters (compression). */
static int64_t chunk_rows_filtered(hid_t dset, int *filtered)
{
    hsize_t chunk[H5S_MAX_RANK];
    int64_t rows = 1;
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK,
                                                                        chunk) >= 1 &&
        chunk[0] > 0)
        rows = (int64_t)chunk[0];
    if (filtered)
        *filtered = rows > 1 && dcpl >= 0 && H5Pget_nfilters(dcpl) > 0;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rows;
}

static int64_t chunk_rows_of(hid_t dset)
{
    return chunk_rows_filtered(dset, NULL);
}

static const char *join_path(const char *group, const char *name, char *buf, size_t cap);
static void pandas_index_name(hid_t file, const char *table, int fixed, char *buf, size_t cap);
static int frame_column(colset *cs, int fixed, const char *name, int numeric_only,
                        int *is_col, int *unlisted, char *msg);

/* A log's column k named as its pandas frame's index, and no column of the
 * frame (df.set_index("customer_id").to_hdf(...)): read that index, the
 * axis1 dataset of a fixed frame or the "index" field of a table. */
static int log_index_column(strata__h5_log *t, int k, char *msg)
{
    colset *cs = &t->cs;
    char index_name[256];
    if (!cs->table)
        return STRATA_OK;
    pandas_index_name(cs->file, cs->table, cs->fixed, index_name, sizeof index_name);
    if (!index_name[0] || strcmp(index_name, t->spec[k].name) != 0)
        return STRATA_OK;
    int is_col, unlisted;
    int rc = frame_column(cs, cs->fixed, t->spec[k].name, 0, &is_col, &unlisted, msg);
    if (rc || is_col || unlisted) /* names that cannot be listed: the open says why */
        return rc;
    if (cs->fixed) {
        join_path(cs->table, "axis1", t->index_path, sizeof t->index_path);
        t->spec[k].name = t->index_path;
        t->spec[k].dataset = 1;
    } else
        t->spec[k].name = "index";
    return STRATA_OK;
}

static int log_open(strata__h5_log *t, const char *path, const char *table,
                    const char *const names[3], int time_unit, int keep, char *msg)
{
    static const char *const LABEL[3] = {"customer id", "time", "amount"};
    for (int k = 0; k < 3; k++)
        t->spec[k] = (colspec){names[k], LABEL[k], 0, k == 1};
    int rc = colset_file(&t->cs, path, 3, msg);
    if (!rc)
        colset_table(&t->cs, table);
    for (int k = 0; k < 3 && !rc; k++)
        rc = log_index_column(t, k, msg);
    if (!rc)
        rc = colset_open(&t->cs, t->spec, msg);
    if (!rc && colset_pandas_kind(&t->cs, 1)) /* datetime64: the only kind let through */
        t->ns_per_unit = time_unit == STRATA_RFM_TIME_SECONDS ? INT64_C(1000000000)
                                                              : INT64_C(86400000000000);
    if (!rc && t->cs.n == 0)
        rc = strata__fail(msg, STRATA_E_IO_TYPE, "'%s' in '%s' has 0 rows: the transaction log "
                          "is empty", t->cs.table ? t->cs.table : names[0], path);
    if (!rc && stat(path, &t->at_open) != 0)
        rc = strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(errno));
    t->chunk_rows = 1;
    t->filtered_rows = 0;
    int64_t unkept;
    if (!rc && keep)
        rc = colset_keep(&t->cs, 3, &t->kept_bytes, &unkept, msg);
    for (int k = 0; k < 3 && !rc; k++) {
        int filtered;
        int64_t r = chunk_rows_filtered(t->cs.col[k].dset, &filtered);
        t->chunk_rows = r > t->chunk_rows ? r : t->chunk_rows;
        if (filtered && !t->cs.col[k].kc && r > t->filtered_rows)
            t->filtered_rows = r;
    }
    return rc;
}

int strata__h5_log_open(strata__h5_log **out, const char *path, const char *table,
                        const char *const names[3], int time_unit, int64_t *n,
                        int64_t *filtered_rows, int64_t *kept_bytes, char *msg)
{
    *out = NULL;
    strata__h5_log *t = strata__calloc(1, sizeof *t);
    if (!t)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory opening '%s'", path);
    t->cs.file = t->cs.type = -1;
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = log_open(t, path, table && table[0] ? table : NULL, names, time_unit, !!kept_bytes,
                      msg);
    if (rc)
        colset_close(&t->cs);
    strata__h5_leave(&g);
    if (rc) {
        strata__free(t);
        return rc;
    }
    *n = t->cs.n;
    *filtered_rows = t->filtered_rows;
    if (kept_bytes)
        *kept_bytes = t->kept_bytes;
    *out = t;
    return STRATA_OK;
}

/* The source's read: the columns asked for, converted as the whole-file
 * reader converts them, under the HDF5 lock for this call only. */
static int log_read(void *impl, int64_t first, int64_t count, void *const *bufs, char *msg)
{
    const strata__h5_log *t = impl;
    if (first < 0 || count < 0 || first > t->cs.n - count)
        return strata__fail(msg, STRATA_E_INTERNAL, "rows %lld + %lld of '%s' asked for, it "
                            "has %lld", (long long)first, (long long)count, t->cs.path,
                            (long long)t->cs.n);
    int rc = file_unchanged(t->cs.path, &t->at_open, msg);
    strata__h5_guard g;
    strata__h5_enter(&g);
    for (int k = 0; k < 3 && !rc; k++) {
        if (!bufs[k])
            continue;
        int field = t->cs.table && !t->cs.fixed;
        rc = read_column_range(field ? &t->cs.tab : &t->cs.s[k], &t->cs.col[k], field, k,
                               bufs[k], 1, first, count, msg);
        if (!rc && k == 1 && t->ns_per_unit) { /* pandas' datetime64: floored to the unit */
            int64_t *v = bufs[k];
            const int64_t u = t->ns_per_unit;
            for (int64_t i = 0; i < count; i++)
                if (v[i] != INT64_MIN) /* NaT: a bad time, as it is */
                    v[i] = v[i] / u - (v[i] % u < 0);
        }
    }
    strata__h5_leave(&g);
    return rc;
}

static const strata__colsrc_ops log_ops = {log_read};

void strata__h5_log_colsrc(strata__h5_log *t, int64_t block_rows, strata__colsrc *out)
{
    const int64_t c = t->chunk_rows;
    block_rows = block_rows < 1 ? 1 : block_rows;
    /* whole chunks where one fits the block (none read or decompressed
     * twice), else parts of chunks: an unfiltered chunk is read in parts from
     * the file, a filtered one decompressed whole for each part */
    if (c <= block_rows || t->filtered_rows > block_rows)
        block_rows = (block_rows + c - 1) / c * c;
    block_rows = block_rows < t->cs.n ? block_rows : t->cs.n;
    *out = (strata__colsrc){.ncols = 3,
                            .type = {STRATA__COL_INT64, STRATA__COL_INT64, STRATA__COL_FLOAT64},
                            .n = t->cs.n, .ops = &log_ops, .impl = t, .block_rows = block_rows};
}

void strata__h5_log_close(strata__h5_log *t)
{
    if (!t)
        return;
    strata__h5_guard g;
    strata__h5_enter(&g);
    colset_close(&t->cs);
    strata__h5_leave(&g);
    strata__free(t);
}

/* ---- A whole transaction log into memory --------------------------------- */

/* The log source read as one block, a column at a time (READ counts the
 * values of the three columns). */
static int read_transactions(const char *path, const char *table, const char *const names[3],
                             int time_unit, strata__h5_transactions *out,
                             const strata__steps *steps, char *msg)
{
    strata__h5_log *log;
    int64_t n, filtered;
    int rc = strata__h5_log_open(&log, path, table, names, time_unit, &n, &filtered, NULL, msg);
    if (rc)
        return rc;
    strata__h5_transactions t = {.n = n};
    char what[64];
    snprintf(what, sizeof what, "%lld transactions", (long long)t.n);
    rc = check_memory((uint64_t)t.n * 3 * sizeof(int64_t), what, path, msg);
    if (!rc) {
        t.customer_id = strata__alloc((size_t)t.n, sizeof(int64_t));
        t.time = strata__alloc((size_t)t.n, sizeof(int64_t));
        t.amount = strata__alloc((size_t)t.n, sizeof(double));
        if (!t.customer_id || !t.time || !t.amount)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld transactions of '%s'",
                              (long long)t.n, path);
    }
    if (!rc)
        rc = strata__step(steps, STRATA_STEP_READ, 0, 0, 3 * t.n, NAN, msg);
    for (int k = 0; k < 3 && !rc; k++) {
        void *bufs[3] = {NULL, NULL, NULL};
        bufs[k] = k == 0 ? (void *)t.customer_id : k == 1 ? (void *)t.time : (void *)t.amount;
        if (!(rc = log_read(log, 0, t.n, bufs, msg)))
            rc = strata__step(steps, STRATA_STEP_READ, 0, (k + 1) * t.n, 3 * t.n, NAN, msg);
    }
    strata__h5_log_close(log);
    if (rc)
        strata__h5_transactions_free(&t);
    else
        *out = t;
    return rc;
}

int strata__h5_read_transactions(const char *path, const char *table, const char *const names[3],
                                 int time_unit, strata__h5_transactions *out, char *msg)
{
    return strata__h5_read_transactions_steps(path, table, names, time_unit, out, NULL, msg);
}

int strata__h5_read_transactions_steps(const char *path, const char *table,
                                       const char *const names[3], int time_unit,
                                       strata__h5_transactions *out, const strata__steps *steps,
                                       char *msg)
{
    return read_transactions(path, table, names, time_unit, out, steps, msg);
}

/* ---- Feature frames: d named numeric columns and an optional row key ----- */

void strata__h5_frame_free(strata__h5_frame *f)
{
    if (!f)
        return;
    for (int64_t j = 0; f->names && j < f->d; j++)
        strata__free(f->names[j]);
    strata__free(f->names);
    strata__free(f->x);
    strata__free(f->key);
    strata__free(f->key_name);
    memset(f, 0, sizeof *f);
}

/* "group/name" into buf ("/name" for the root group); NULL if too long. */
static const char *join_path(const char *group, const char *name, char *buf, size_t cap)
{
    size_t g = strlen(group);
    int used = snprintf(buf, cap, "%s%s%s", group, g && group[g - 1] == '/' ? "" : "/", name);
    return used < 0 || (size_t)used >= cap ? NULL : buf;
}

/* The last part of a dataset path ("/customers/recency" -> "recency"). */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* The group of a dataset path ("/c/recency" -> "/c", "recency" -> "/"). */
static void dir_name(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    snprintf(buf, cap, "%.*s", (int)len, path);
    if (!buf[0])
        snprintf(buf, cap, "/");
}

/* Is `name` a 1-D numeric dataset (or of booleans, where bools_ok: a
 * feature)? Sets *n (its length) and *integer. */
static int probe_1d(hid_t file, const char *name, int bools_ok, int64_t *n, int *integer)
{
    if (link_exists(file, name) <= 0)
        return 0;
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    int ok = obj >= 0 && H5Iget_type(obj) == H5I_DATASET;
    hid_t space = ok ? H5Dget_space(obj) : -1, type = ok ? H5Dget_type(obj) : -1;
    hsize_t dims[H5S_MAX_RANK];
    H5T_class_t cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    ok = ok && space >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) == 1 &&
         (cls == H5T_INTEGER || cls == H5T_FLOAT || (bools_ok && bool_kind(type)));
    if (ok) {
        *n = (int64_t)dims[0];
        *integer = cls == H5T_INTEGER;
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (obj >= 0)
        H5Oclose(obj);
    return ok;
}

static int is_group(hid_t file, const char *name)
{
    if (strcmp(name, "/") != 0 && link_exists(file, name) <= 0)
        return 0;
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    int group = obj >= 0 && H5Iget_type(obj) == H5I_GROUP;
    if (obj >= 0)
        H5Oclose(obj);
    return group;
}

/* The strings of a 1-D string dataset or attribute (fixed or variable
 * length) of at most `max` items: 0; -1 when out of memory; -2 when it is
 * not one, is too big or cannot be read (nothing added then). */
static int read_strings(hid_t obj, const char *attr, int64_t max, strlist *out)
{
    hid_t item = attr ? H5Aopen(obj, attr, H5P_DEFAULT) : obj;
    hid_t type = item < 0 ? -1 : attr ? H5Aget_type(item) : H5Dget_type(item);
    hid_t space = item < 0 ? -1 : attr ? H5Aget_space(item) : H5Dget_space(item);
    hssize_t m = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    int vlen = type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0;
    size_t len = type >= 0 && H5Tget_class(type) == H5T_STRING && !vlen ? H5Tget_size(type) : 0;
    int rc = -2;
    if ((vlen || (len > 0 && len < (1u << 16))) && rank <= 1 && m >= 0 && m <= max) {
        /* fixed length: the raw bytes (see attr_text), NUL added below */
        hid_t mt = vlen ? H5Tcopy(H5T_C_S1) : H5Tcopy(type);
        void *buf = strata__calloc((size_t)(m ? m : 1), vlen ? sizeof(char *) : len);
        herr_t err = mt < 0 || !buf ||
                             (vlen && (H5Tset_size(mt, H5T_VARIABLE) < 0 ||
                                       H5Tset_cset(mt, H5Tget_cset(type)) < 0))
                         ? -1
                         : attr ? H5Aread(item, mt, buf)
                                : H5Dread(item, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        rc = !buf ? -1 : err < 0 ? -2 : 0;
        for (hssize_t j = 0; !rc && j < m; j++) {
            const char *sj = vlen ? ((char **)buf)[j] : (char *)buf + (size_t)j * len;
            size_t sl = !sj ? 0 : vlen ? strlen(sj) : strnlen(sj, len);
            rc = strlist_add(out, sj ? sj : "", sl);
        }
        if (err >= 0 && vlen)
            H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
        strata__free(buf);
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (attr && item >= 0)
        H5Aclose(item);
    return rc;
}

/* ---- Which columns a table has ---- */

/* The layouts strata__h5_read_frame() takes. */
enum { LAYOUT_DATASETS, LAYOUT_GROUP, LAYOUT_COMPOUND, LAYOUT_FIXED };

/* Is column `name` of the table in cs numeric, or boolean? (a compound
 * table is open) */
static int compound_numeric(const colset *cs, const char *name)
{
    int idx = H5Tget_member_index(cs->type, name);
    if (idx >= 0) {
        H5T_class_t cls = H5Tget_member_class(cs->type, (unsigned)idx);
        hid_t mtype = H5Tget_member_type(cs->type, (unsigned)idx);
        const int boolean = bool_kind(mtype);
        if (mtype >= 0)
            H5Tclose(mtype);
        return cls == H5T_INTEGER || cls == H5T_FLOAT || boolean;
    }
    column c = {.name = name};
    return find_pandas_block(cs->tab.dset, cs->type, &c, NULL) &&
           (c.cls == H5T_INTEGER || c.cls == H5T_FLOAT || c.boolean);
}

/* A str of a protocol 0 pickle (opcode V: raw-unicode-escape, to the end of
 * the line) as UTF-8 into buf: bytes 0x80-0xff are Latin-1 letters, \uXXXX
 * and \UXXXXXXXX any other. 0 where it does not fit or is no text. */
static int pickled_str(const char *p, char *buf, size_t cap)
{
    size_t o = 0;
    for (; *p && *p != '\n'; p++) {
        uint32_t cp = (unsigned char)*p;
        const int digits = p[0] == '\\' ? (p[1] == 'u' ? 4 : p[1] == 'U' ? 8 : 0) : 0;
        if (digits) {
            cp = 0;
            for (int i = 0; i < digits; i++) {
                const char h = p[2 + i];
                const int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                              : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (v < 0)
                    return 0;
                cp = cp << 4 | (uint32_t)v;
            }
            p += 1 + digits;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || o + 5 > cap)
            return 0;
        if (cp < 0x80) {
            buf[o++] = (char)cp;
        } else if (cp < 0x800) {
            buf[o++] = (char)(0xC0 | cp >> 6);
            buf[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[o++] = (char)(0xE0 | cp >> 12);
            buf[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            buf[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[o++] = (char)(0xF0 | cp >> 18);
            buf[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            buf[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            buf[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    buf[o] = '\0';
    return 1;
}

/* The name pandas gave the index of a frame into buf ("" when unnamed or not
 * pandas): table format (`table` is the "table" dataset), in the pickled
 * "info" attribute of its group; fixed format (`table` is the group), the
 * "name" attribute of its axis1. */
static void pandas_index_name(hid_t file, const char *table, int fixed, char *buf, size_t cap)
{
    char path[1100];
    buf[0] = '\0';
    if (fixed ? !join_path(table, "axis1", path, sizeof path)
              : (dir_name(table, path, sizeof path), 0))
        return;
    if (strcmp(path, "/") != 0 && link_exists(file, path) <= 0)
        return;
    hid_t obj = H5Oopen(file, path, H5P_DEFAULT);
    char *text = obj < 0 ? NULL : attr_text(obj, fixed ? "name" : "info");
    if (obj >= 0)
        H5Oclose(obj);
    if (!text)
        return;
    if (fixed) {
        if (strcmp(text, "N.") != 0) /* a pickled None: no name */
            snprintf(buf, cap, "%s", text);
    } else {
        /* the dict key "index_name" (after the dict's "(dp<memo>\n" or the
         * previous item's SETITEM "s"), its memo "p<memo>\n", then the
         * value: "V<name>\n" (a memo reference "g<n>" is not followed) */
        for (const char *at = strstr(text, "Vindex_name\n"); at;
             at = strstr(at + 1, "Vindex_name\n")) {
            if (at != text && at[-1] != '\n' && at[-1] != 's')
                continue;
            const char *line = at + 12;
            if (line[0] == 'p' && (line = strchr(line, '\n')) != NULL)
                line++;
            if (line && line[0] == 'V' && !pickled_str(line + 1, buf, cap))
                buf[0] = '\0';
            break;
        }
    }
    strata__free(text);
}

/* Every column of a pandas fixed frame, in the frame's order (axis0), and
 * the numeric ones: 0; -1 when out of memory; -2 when a block's column names
 * are not strings (labels pandas stored as numbers) or cannot be read. */
static int fixed_columns(hid_t file, const char *group, strlist *all, strlist *numeric)
{
    char path[1100];
    for (int b = 0; b < 64; b++) {
        char items[64], values[64];
        snprintf(items, sizeof items, "block%d_items", b);
        snprintf(values, sizeof values, "block%d_values", b);
        if (!join_path(group, items, path, sizeof path) || link_exists(file, path) <= 0)
            break;
        hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
        strlist names = {0};
        int rc = d < 0 ? -2 : read_strings(d, NULL, 100000, &names);
        if (d >= 0)
            H5Dclose(d);
        hid_t v = join_path(group, values, path, sizeof path) && link_exists(file, path) > 0
                      ? H5Dopen2(file, path, H5P_DEFAULT) : -1;
        hid_t t = v < 0 ? -1 : H5Dget_type(v);
        H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
        const int boolean = bool_kind(t);
        if (t >= 0)
            H5Tclose(t);
        if (v >= 0)
            H5Dclose(v);
        for (int64_t j = 0; !rc && j < names.n; j++) {
            rc = strlist_add(all, names.v[j], strlen(names.v[j]));
            if (!rc && (cls == H5T_INTEGER || cls == H5T_FLOAT || boolean))
                rc = strlist_add(numeric, names.v[j], strlen(names.v[j]));
        }
        strlist_free(&names);
        if (rc)
            return rc;
    }
    /* axis0 holds the frame's column order; the blocks group them by dtype
     * (a frame without a readable axis0 keeps the blocks' order) */
    strlist order = {0};
    hid_t a = join_path(group, "axis0", path, sizeof path) && link_exists(file, path) > 0
                  ? H5Dopen2(file, path, H5P_DEFAULT) : -1;
    int rc = a < 0 ? -2 : read_strings(a, NULL, 100000, &order);
    if (a >= 0)
        H5Dclose(a);
    if (rc == 0 && order.n == all->n) {
        strlist sorted = {0};
        for (int64_t j = 0; !rc && j < order.n; j++)
            if (strlist_find(numeric, order.v[j]) >= 0)
                rc = strlist_add(&sorted, order.v[j], strlen(order.v[j]));
        if (!rc && sorted.n == numeric->n) {
            strlist_free(numeric);
            *numeric = sorted;
        } else
            strlist_free(&sorted);
    }
    strlist_free(&order);
    return rc == -1 ? -1 : 0;
}

/* Whether `name` is a column of the pandas frame cs->table (fixed: a group
 * of blocks; else a compound table), any or only a numeric one: *is_col.
 * *unlisted: fixed_columns()'s negative code where a fixed frame's column
 * names cannot be listed (then *is_col is 0), else 0. Returns the status of
 * opening the table. */
static int frame_column(colset *cs, int fixed, const char *name, int numeric_only,
                        int *is_col, int *unlisted, char *msg)
{
    *is_col = *unlisted = 0;
    if (fixed) {
        strlist all = {0}, numeric = {0}, levels = {0};
        const int listed = fixed_columns(cs->file, cs->table, &all, &numeric);
        if (listed < 0)
            *unlisted = listed;
        else
            *is_col = strlist_find(numeric_only ? &numeric : &all, name) >= 0;
        /* a level of its MultiIndex (numeric: not of strings) */
        int64_t i = !*is_col && !*unlisted && name[0] &&
                            fixed_levels(cs->file, cs->table, &levels) == 0
                        ? strlist_find(&levels, name) : -1;
        if (i >= 0) {
            char path[1100];
            int64_t n;
            int integer;
            snprintf(path, sizeof path, "%s%saxis1_level%lld", cs->table,
                     cs->table[strlen(cs->table) - 1] == '/' ? "" : "/", (long long)i);
            *is_col = !numeric_only || probe_1d(cs->file, path, 0, &n, &integer);
        }
        strlist_free(&all); /* what the blocks before a failing one added, too */
        strlist_free(&numeric);
        strlist_free(&levels);
        return STRATA_OK;
    }
    int rc = colset_open_table(cs, msg);
    if (rc)
        return rc;
    column c = {.name = name};
    *is_col = numeric_only ? compound_numeric(cs, name)
                           : H5Tget_member_index(cs->type, name) >= 0 ||
                                 find_pandas_block(cs->tab.dset, cs->type, &c, NULL);
    return STRATA_OK;
}

/* The text of attribute `name` of the group holding the table cs->table
 * (pandas keeps a table's metadata there), or NULL. */
static char *table_group_attr(const colset *cs, const char *name)
{
    char group[1100];
    dir_name(cs->table, group, sizeof group);
    hid_t g = H5Oopen(cs->file, group, H5P_DEFAULT);
    char *text = g < 0 ? NULL : attr_text(g, name);
    if (g >= 0)
        H5Oclose(g);
    return text;
}

/* The levels of a table-format MultiIndex frame (the pickled "levels" of
 * the table's group: columns of the table too) into *levels; 0, or
 * pickle_names()' failure. */
static int compound_levels(const colset *cs, strlist *levels)
{
    char *text = table_group_attr(cs, "levels");
    int rc = text ? pickle_names(text, levels) : 0;
    strata__free(text);
    return rc;
}

/* Every numeric column of the compound table open in cs, in the frame's
 * order: pandas' "non_index_axes" attribute of the frame's group when there
 * is one, else the fields in order with pandas' values_block_<i> fields
 * expanded into the columns they pack. */
static int compound_columns(const colset *cs, strlist *out)
{
    strlist order = {0};
    char *text = table_group_attr(cs, "non_index_axes");
    /* a MultiIndex frame: its levels are columns of the table too, never features */
    strlist levels = {0};
    int rc = compound_levels(cs, &levels);
    if (rc) {
        strata__free(text);
        strlist_free(&levels);
        return rc;
    }
    if (text) {
        rc = pickle_names(text, &order);
        strata__free(text);
    } else {
        int nm = H5Tget_nmembers(cs->type);
        for (int i = 0; !rc && i < nm; i++) {
            char *name = H5Tget_member_name(cs->type, (unsigned)i);
            char attr[64];
            int block = -1;
            if (name && sscanf(name, "values_block_%d", &block) == 1 &&
                snprintf(attr, sizeof attr, "%s_kind", name) < (int)sizeof attr &&
                (text = attr_text(cs->tab.dset, attr)) != NULL) {
                rc = pickle_names(text, &order);
                strata__free(text);
            } else if (name)
                rc = strlist_add(&order, name, strlen(name));
            H5free_memory(name);
        }
    }
    for (int64_t j = 0; !rc && j < order.n; j++)
        if (strlist_find(&levels, order.v[j]) < 0 && compound_numeric(cs, order.v[j]))
            rc = strlist_add(out, order.v[j], strlen(order.v[j]));
    strlist_free(&order);
    strlist_free(&levels);
    return rc;
}

/* H5Literate's callback that collects the names: an allocation failure is
 * told apart from a group that cannot be listed by `nomem`. */
typedef struct link_names {
    strlist list;
    int nomem;
} link_names;

static herr_t collect_link(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    link_names *ln = data;
    ln->nomem = strlist_add(&ln->list, name, strlen(name)) < 0;
    return ln->nomem ? -1 : 0;
}

/* Every 1-D numeric dataset of a group, as paths, in creation order when
 * the file tracks it, else by name: 0; -1 when out of memory; -2 when the
 * group cannot be listed (damage). */
static int group_columns(hid_t file, const char *group, strlist *out)
{
    link_names ln = {0};
    /* the group's own table read first, as link_exists() does (libhdf5 1.10
     * crashes iterating a symbol table whose heap address is corrupt) */
    H5G_info_t info;
    hid_t g = H5Gget_info_by_name(file, group, &info, H5P_DEFAULT) < 0
                  ? -1 : H5Gopen2(file, group, H5P_DEFAULT);
    hsize_t at = 0;
    herr_t err = g < 0 ? -1
                       : H5Literate(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, collect_link, &ln);
    if (g >= 0 && err < 0 && !ln.nomem) {
        strlist_free(&ln.list);
        at = 0;
        err = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &at, collect_link, &ln);
    }
    if (g >= 0)
        H5Gclose(g);
    int rc = ln.nomem ? -1 : err < 0 ? -2 : 0;
    for (int64_t j = 0; !rc && j < ln.list.n; j++) {
        char path[1100];
        int64_t n;
        int integer;
        if (join_path(group, ln.list.v[j], path, sizeof path) && probe_1d(file, path, 1, &n, &integer))
            rc = strlist_add(out, path, strlen(path));
    }
    strlist_free(&ln.list);
    return rc;
}

/* ---- The frame reader ---- */

static const char *column_pandas_kind(colset *cs, int layout, const char *table,
                                      const char *col)
{
    if (layout == LAYOUT_COMPOUND) {
        char ignored[STRATA__MSG_LEN]; /* the table's open reports its own errors */
        if (colset_open_table(cs, ignored) != STRATA_OK)
            return NULL;
        column c = {.name = col};
        const char *field = H5Tget_member_index(cs->type, col) >= 0 ? col
                            : find_pandas_block(cs->tab.dset, cs->type, &c, NULL) ? c.member : NULL;
        return field ? field_pandas_kind(cs->tab.dset, field) : NULL;
    }
    if (layout != LAYOUT_FIXED)
        return obj_pandas_kind(cs->file, col); /* a dataset path */
    char path[1100];
    for (int b = 0; b < 64; b++) {
        char items[64];
        snprintf(items, sizeof items, "block%d_items", b);
        if (!join_path(table, items, path, sizeof path) || link_exists(cs->file, path) <= 0)
            return NULL;
        hid_t d = H5Dopen2(cs->file, path, H5P_DEFAULT);
        strlist names = {0};
        int in = d >= 0 && read_strings(d, NULL, 100000, &names) == 0 &&
                 strlist_find(&names, col) >= 0;
        strlist_free(&names);
        if (d >= 0)
            H5Dclose(d);
        if (in) {
            snprintf(items, sizeof items, "block%d_values", b);
            return join_path(table, items, path, sizeof path) ? obj_pandas_kind(cs->file, path)
                                                              : NULL;
        }
    }
    return NULL;
}

/* A pandas Series written with format="fixed" (a group holding "index" and
 * "values"): its name, or "" (unnamed), in buf; 0 where table is not one. */
static int pandas_fixed_series(hid_t file, const char *table, char *buf, size_t cap)
{
    if (!table || link_exists(file, table) <= 0)
        return 0;
    hid_t obj = H5Oopen(file, table, H5P_DEFAULT);
    char *type = obj < 0 ? NULL : attr_text(obj, "pandas_type");
    char *name = type && !strcmp(type, "series") ? attr_text(obj, "name") : NULL;
    if (obj >= 0)
        H5Oclose(obj);
    const int series = type && !strcmp(type, "series");
    snprintf(buf, cap, "%s", name && strcmp(name, "N.") != 0 ? name : ""); /* N.: pickled None */
    strata__free(type);
    strata__free(name);
    return series;
}

/* Everything decided before reading: the layout, the columns and the key. */
typedef struct frame_plan {
    int layout;
    const char *table; /* resolved */
    strlist paths;     /* d feature columns: dataset paths or column names */
    strlist names;     /* d feature names */
    strlist dates;     /* every column pandas says holds datetime64 values (d = 0 only):
                          no features, but a transaction log's times */
    char key[1100];    /* the key's dataset path or column name; "" = none */
    char key_name[1100];
    int key_dataset;   /* key is a dataset even in a table (pandas' index) */
} frame_plan;

static int frame_nomem(const char *path, char *msg)
{
    return strata__fail(msg, STRATA_E_NOMEM, "out of memory listing the columns of '%s'", path);
}

/* fixed_columns() or group_columns() gave -2 (-1: out of memory). */
static int frame_unlisted(int rc, const char *table, const char *path, char *msg)
{
    if (rc == -1)
        return frame_nomem(path, msg);
    return strata__fail(msg, STRATA_E_IO_FORMAT,
                        "cannot list the columns of '%s' in '%s': their names are not strings "
                        "(pandas: give the frame string column labels before to_hdf) or the "
                        "group is damaged", table, path);
}

/* Decide the layout, the feature columns and the key of a read. */
static int plan_frame(colset *cs, const char *table, const char *const *columns, int64_t d,
                      const char *key, frame_plan *p, char *msg)
{
    hid_t file = cs->file;
    char buf[1100];
    if (!table) {
        p->layout = LAYOUT_DATASETS;
    } else {
        colset_table(cs, table);
        p->table = cs->table;
        p->layout = cs->fixed ? LAYOUT_FIXED
                    : is_group(file, cs->table) ? LAYOUT_GROUP : LAYOUT_COMPOUND;
        if (p->layout == LAYOUT_GROUP)
            cs->table = NULL; /* its columns are datasets */
    }
    const int by_name = p->layout == LAYOUT_COMPOUND || p->layout == LAYOUT_FIXED;
    /* the key: given, "customer_id", or pandas' index of that name */
    const char *want = key ? key : "customer_id";
    snprintf(p->key_name, sizeof p->key_name, "%s", want);
    if (key && !key[0]) {
        p->key[0] = '\0';
    } else if (by_name) {
        char index_name[256];
        pandas_index_name(file, p->table, p->layout == LAYOUT_FIXED, index_name,
                          sizeof index_name);
        int is_col, unlisted;
        int rc = frame_column(cs, p->layout == LAYOUT_FIXED, want, !key, &is_col, &unlisted, msg);
        if (rc)
            return rc;
        if (unlisted)
            return frame_unlisted(unlisted, p->table, cs->path, msg);
        if (is_col || (key && strcmp(index_name, want) != 0)) {
            snprintf(p->key, sizeof p->key, "%s", want); /* a missing one: the open says so */
        } else if (!strcmp(index_name, want)) {
            if (p->layout == LAYOUT_FIXED) {
                join_path(p->table, "axis1", p->key, sizeof p->key);
                p->key_dataset = 1;
            } else
                snprintf(p->key, sizeof p->key, "index");
        }
    } else {
        char group[1100];
        if (p->layout == LAYOUT_DATASETS)
            dir_name(columns[0], group, sizeof group);
        else
            snprintf(group, sizeof group, "%s", p->table);
        const char *k = want[0] == '/' ? want : join_path(group, want, buf, sizeof buf);
        if (!k)
            return strata__fail(msg, STRATA_E_IO_DATASET, "key name '%s' is too long", want);
        snprintf(p->key, sizeof p->key, "%s", k);
        snprintf(p->key_name, sizeof p->key_name, "%s", base_name(k));
        /* a fixed Series: its index, where it bears the key's name (as the
         * customer_id of strata's own pandas views does) */
        char series[256], index[1100];
        if (p->layout == LAYOUT_GROUP && want[0] != '/' && link_exists(file, p->key) <= 0 &&
            pandas_fixed_series(file, p->table, series, sizeof series) &&
            join_path(p->table, "index", index, sizeof index) && link_exists(file, index) > 0) {
            hid_t obj = H5Oopen(file, index, H5P_DEFAULT);
            char *name = obj < 0 ? NULL : attr_text(obj, "name");
            if (obj >= 0)
                H5Oclose(obj);
            if (name && !strcmp(name, want))
                snprintf(p->key, sizeof p->key, "%s", index);
            strata__free(name);
        }
        if (!key) { /* customer_id beside the first column, of its length, if any */
            int64_t nk, n0 = -1;
            int integer;
            int ok = probe_1d(file, p->key, 0, &nk, &integer);
            if (ok && p->layout == LAYOUT_DATASETS)
                ok = probe_1d(file, columns[0], 1, &n0, &integer) && n0 == nk;
            if (!ok)
                p->key[0] = '\0';
        }
    }
    if (!p->key[0])
        p->key_name[0] = '\0';
    /* the features */
    if (d > 0) {
        for (int64_t j = 0; j < d; j++) {
            const char *c = columns[j];
            const char *path = p->layout == LAYOUT_GROUP && c[0] != '/'
                                   ? join_path(p->table, c, buf, sizeof buf) : c;
            if (!path)
                return strata__fail(msg, STRATA_E_IO_DATASET, "column name '%s' is too long", c);
            if (strlist_add(&p->paths, path, strlen(path)) < 0 ||
                strlist_add(&p->names, by_name ? c : base_name(c),
                            strlen(by_name ? c : base_name(c))) < 0)
                return frame_nomem(cs->path, msg);
            const char *kind = column_pandas_kind(cs, p->layout, p->table, path);
            if (kind)
                return strata__fail(
                    msg, STRATA_E_IO_TYPE,
                    "column '%s' of '%s' in '%s' holds pandas %s values, not numbers to cluster "
                    "on: convert it to a number first (%s), or leave it out", c,
                    table ? table : c, cs->path, kind,
                    !strcmp(kind, "datetime64")    ? "e.g. days since a date"
                    : !strcmp(kind, "timedelta64") ? "e.g. days"
                                                   : "e.g. one 0/1 column a category");
        }
        return STRATA_OK;
    }
    strlist all = {0}, found = {0};
    int rc = 0;
    if (p->layout == LAYOUT_FIXED)
        rc = fixed_columns(file, p->table, &all, &found);
    else if (p->layout == LAYOUT_COMPOUND) {
        int st = colset_open_table(cs, msg);
        if (st)
            return st;
        rc = compound_columns(cs, &found);
    } else
        rc = group_columns(file, p->table, &found);
    strlist_free(&all);
    /* a fixed Series: its values, named as the Series is; the index is no feature */
    char series[256];
    const int is_series = p->layout == LAYOUT_GROUP &&
                          pandas_fixed_series(file, p->table, series, sizeof series);
    int skipped = 0;
    for (int64_t j = 0; !rc && j < found.n; j++) {
        const char *c = found.v[j];
        if (p->key[0] && !p->key_dataset && !strcmp(c, p->key))
            continue; /* the key is no feature */
        if (is_series && strcmp(base_name(c), "values") != 0)
            continue;
        const char *kind = column_pandas_kind(cs, p->layout, p->table, c);
        if (kind) {
            skipped++; /* dates, durations and category codes are no features */
            const char *date = by_name ? c : base_name(c);
            if (!strcmp(kind, "datetime64") && strlist_add(&p->dates, date, strlen(date)) < 0)
                rc = -1;
            continue;
        }
        const char *name = is_series && series[0] ? series : by_name ? c : base_name(c);
        rc = strlist_add(&p->paths, c, strlen(c)) || strlist_add(&p->names, name, strlen(name))
                 ? -1 : 0;
    }
    strlist_free(&found);
    strlist levels = {0}; /* a MultiIndex's levels of dates (set_index(["customer_id", "date"])) */
    if (!rc && p->layout == LAYOUT_COMPOUND)
        rc = compound_levels(cs, &levels);
    if (!rc && p->layout == LAYOUT_FIXED)
        rc = fixed_levels(file, p->table, &levels);
    for (int64_t j = 0; !rc && j < levels.n; j++) {
        char level[1100];
        snprintf(level, sizeof level, "%s%saxis1_level%lld", p->table,
                 p->table[strlen(p->table) - 1] == '/' ? "" : "/", (long long)j);
        const char *kind = !levels.v[j][0] ? NULL
                           : p->layout == LAYOUT_FIXED
                               ? obj_pandas_kind(file, level)
                               : column_pandas_kind(cs, p->layout, p->table, levels.v[j]);
        if (kind && !strcmp(kind, "datetime64") && strlist_find(&p->dates, levels.v[j]) < 0 &&
            strlist_add(&p->dates, levels.v[j], strlen(levels.v[j])) < 0)
            rc = -1;
    }
    strlist_free(&levels);
    if (!rc && by_name) { /* an index of dates, named (df.set_index("date")) */
        char index_name[256], index[1100];
        pandas_index_name(file, p->table, p->layout == LAYOUT_FIXED, index_name,
                          sizeof index_name);
        const char *kind = !index_name[0] ? NULL
                           : p->layout == LAYOUT_FIXED
                               ? (join_path(p->table, "axis1", index, sizeof index)
                                      ? obj_pandas_kind(file, index) : NULL)
                               : field_pandas_kind(cs->tab.dset, "index");
        if (kind && !strcmp(kind, "datetime64") && strlist_find(&p->dates, index_name) < 0 &&
            strlist_add(&p->dates, index_name, strlen(index_name)) < 0)
            rc = -1;
    }
    if (rc)
        return frame_unlisted(rc, p->table, cs->path, msg);
    if (p->paths.n == 0)
        return strata__fail(msg, STRATA_E_IO_TYPE, "'%s' in '%s' has no numeric column%s",
                            p->table, cs->path,
                            skipped       ? " (pandas dates, durations and categories are none)"
                            : p->key[0] ? " besides the key"
                                        : "");
    return STRATA_OK;
}

/* A frame's columns planned, opened and checked (every frame read's checks
 * but the memory one): the reader of read_frame() and of the stream. spec
 * and p's lists stay alive while cs is open (cs->spec points into them). */
typedef struct frame_open {
    colset cs;
    frame_plan p;
    colspec *spec;
    int64_t nf;
    int has_key;
} frame_open;

static void frame_open_close(frame_open *fo)
{
    colset_close(&fo->cs);
    strata__free(fo->spec);
    strlist_free(&fo->p.paths);
    strlist_free(&fo->p.names);
    strlist_free(&fo->p.dates);
    fo->spec = NULL;
}

static int open_frame(const char *path, const char *table, const char *const *columns, int64_t d,
                      const char *key, frame_open *fo, char *msg)
{
    uint64_t file_size = 0;
    *fo = (frame_open){0};
    fo->cs.file = fo->cs.type = -1;
    fo->cs.tab = (source){.file = -1, .dset = -1, .space = -1};
    int rc = check_file(path, &file_size, msg);
    if (rc)
        return rc;
    hid_t file = open_file(path, msg);
    if (file < 0)
        return STRATA_E_IO_FORMAT;
    frame_plan *p = &fo->p;
    colset *cs = &fo->cs;
    /* plan with no columns (the compound table may be opened), then open them */
    rc = colset_init(cs, path, file, file_size, 0, msg);
    if (!rc)
        rc = plan_frame(cs, table, columns, d, key, p, msg);
    const int64_t nf = p->paths.n, has_key = p->key[0] != '\0';
    const int by_name = p->layout == LAYOUT_COMPOUND || p->layout == LAYOUT_FIXED;
    fo->nf = nf;
    fo->has_key = (int)has_key;
    if (!rc && nf + has_key > INT32_MAX)
        rc = strata__fail(msg, STRATA_E_ARG, "%lld columns: too many", (long long)nf);
    if (!rc && !(fo->spec = strata__calloc((size_t)(nf + has_key), sizeof *fo->spec)))
        rc = frame_nomem(path, msg);
    for (int64_t j = 0; !rc && j < nf; j++)
        fo->spec[j] = (colspec){p->paths.v[j], "feature", !by_name, 0};
    if (!rc && has_key)
        fo->spec[nf] = (colspec){p->key, "key", p->key_dataset || !by_name, 0};
    if (!rc && !(rc = colset_alloc(cs, (int)(nf + has_key), msg)))
        rc = colset_open(cs, fo->spec, msg);
    if (!rc && cs->n == 0)
        rc = strata__fail(msg, STRATA_E_IO_TYPE, "'%s' in '%s' has 0 rows: no customers to read",
                          p->layout == LAYOUT_DATASETS ? p->paths.v[0] : p->table, path);
    return rc;
}

/* The names, key name and (when key_too) the keys of an open frame into f
 * (x left NULL). */
static int frame_head(const frame_open *fo, int key_too, strata__h5_frame *f, char *msg)
{
    const char *path = fo->cs.path;
    const int64_t nf = fo->nf;
    const int has_key = fo->has_key;
    *f = (strata__h5_frame){.n = fo->cs.n, .d = nf};
    f->key = has_key && key_too ? strata__alloc((size_t)f->n, sizeof(int64_t)) : NULL;
    f->names = strata__calloc((size_t)nf, sizeof *f->names);
    f->key_name = has_key ? strata__strndup(fo->p.key_name, strlen(fo->p.key_name)) : NULL;
    int ok = f->names && (!has_key || ((f->key || !key_too) && f->key_name));
    for (int64_t j = 0; ok && j < nf; j++)
        ok = (f->names[j] = strata__strndup(fo->p.names.v[j], strlen(fo->p.names.v[j]))) != NULL;
    int rc = ok ? STRATA_OK
                : strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld rows x %lld features "
                               "of '%s'", (long long)f->n, (long long)nf, path);
    if (!rc && has_key && key_too)
        rc = colset_read(&fo->cs, (int)nf, 0, f->key, 1, msg);
    if (rc)
        strata__h5_frame_free(f);
    return rc;
}

static int read_frame(const char *path, const char *table, const char *const *columns, int64_t d,
                      const char *key, strata__h5_frame *out, char *msg)
{
    frame_open fo;
    int rc = open_frame(path, table, columns, d, key, &fo, msg);
    const int64_t nf = fo.nf, has_key = fo.has_key, n = fo.cs.n;
    if (!rc) {
        char what[64];
        snprintf(what, sizeof what, "%lld rows x %lld features", (long long)n, (long long)nf);
        rc = (uint64_t)n > (uint64_t)INT64_MAX / 8 / (uint64_t)(nf + 1)
                 ? strata__fail(msg, STRATA_E_NOMEM, "%s of '%s' overflow", what, path)
                 : check_memory((uint64_t)n * (uint64_t)(nf + has_key) * 8, what, path, msg);
    }
    strata__h5_frame f = {0};
    if (!rc) {
        f.x = strata__alloc((size_t)n * (size_t)nf, sizeof(double));
        if (!f.x)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld rows x %lld features "
                              "of '%s'", (long long)n, (long long)nf, path);
    }
    for (int64_t j = 0; !rc && j < nf; j++)
        rc = colset_read(&fo.cs, (int)j, 2, f.x + j, nf, msg);
    if (!rc) { /* the names and keys, read after the features as always */
        double *x = f.x;
        f.x = NULL;
        if ((rc = frame_head(&fo, 1, &f, msg)))
            strata__free(x);
        else
            f.x = x;
    }
    if (rc)
        strata__h5_frame_free(&f);
    else
        *out = f;
    frame_open_close(&fo);
    return rc;
}

/* ---- Feature columns streamed in row blocks ------------------------------ */

struct strata__h5_cols {
    frame_open fo;
    char *path;          /* owned: fo's path points here */
    struct stat at_open; /* as strata__h5_rows: a change in place is an error */
};

/* Rows per chunk of column k's dataset (a compound table's, a pandas block's). */
static int64_t column_chunk_rows(const colset *cs, int k)
{
    return chunk_rows_of(cs->col[k].dset);
}

void strata__h5_cols_close(strata__h5_cols *c)
{
    if (!c)
        return;
    strata__h5_guard g;
    strata__h5_enter(&g);
    frame_open_close(&c->fo);
    strata__h5_leave(&g);
    strata__free(c->path);
    strata__free(c);
}

int strata__h5_cols_open(const char *path, const char *table, const char *const *columns,
                         int64_t d, const char *key, strata__h5_cols **out,
                         strata__h5_frame *head, strata__h5_rows_info *info, char *msg)
{
    *out = NULL;
    strata__h5_cols *c = strata__calloc(1, sizeof *c);
    if (!c || !(c->path = strata__strndup(path, strlen(path)))) {
        strata__free(c);
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory opening '%s'", path);
    }
    c->fo.cs.file = c->fo.cs.type = -1;
    c->fo.cs.tab = (source){.file = -1, .dset = -1, .space = -1};
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = open_frame(c->path, table, columns, d, key, &c->fo, msg);
    if (!rc && stat(c->path, &c->at_open) != 0)
        rc = strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(errno));
    if (!rc && c->fo.has_key) {
        char what[64];
        snprintf(what, sizeof what, "%lld row keys", (long long)c->fo.cs.n);
        rc = check_memory((uint64_t)c->fo.cs.n * 8, what, path, msg);
    }
    if (!rc)
        rc = frame_head(&c->fo, 1, head, msg);
    int64_t kept = 0, unkept = 0;
    if (!rc)
        rc = colset_keep(&c->fo.cs, (int)c->fo.nf, &kept, &unkept, msg);
    if (!rc) {
        /* blocks of whole chunks of every column where that is affordable
         * (the least common multiple), else of the longest chunks */
        int64_t lcm = 1, longest = 0, filtered = 0;
        for (int64_t j = 0; j < c->fo.nf; j++) {
            const int64_t f = filtered_chunk_bytes(c->fo.cs.col[j].dset);
            filtered = f > filtered ? f : filtered;
            int64_t r = column_chunk_rows(&c->fo.cs, (int)j);
            longest = r > longest ? r : longest;
            /* lcm * r bounds the multiple: no overflow; past n no block holds it */
            lcm = lcm > 0 && lcm <= INT64_MAX / r ? strata__lcm64(lcm, r) : 0;
            if (lcm > c->fo.cs.n)
                lcm = 0;
        }
        *info = (strata__h5_rows_info){STRATA_FLOAT64, c->fo.cs.n, c->fo.nf, lcm > 1 ? lcm : 0,
                                       longest > 1 ? longest : 0, 0, filtered, kept, unkept};
    }
    strata__h5_leave(&g);
    if (rc) {
        strata__h5_cols_close(c);
        return rc;
    }
    *out = c;
    return STRATA_OK;
}

/* Bytes of one read of a shared dataset (a step of rows): bounds the
 * temporary besides the block buffers. */
#define SHARED_STEP_BYTES ((int64_t)4 << 20)

/* The memory type reading, as doubles, every member of the compound table
 * that the feature columns in `cols` (nc of them) use, and each column's
 * byte offset in a record of it. */
static hid_t shared_compound_type(const colset *cs, const int64_t *cols, int64_t nc,
                                  size_t *offset)
{
    size_t size = 0;
    for (int64_t i = 0; i < nc; i++) {
        const column *c = &cs->col[cols[i]];
        size += 8 * (size_t)(c->width > 0 ? c->width : 1);
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    size_t at = 0;
    for (int64_t i = 0; t >= 0 && i < nc; i++) {
        const column *c = &cs->col[cols[i]];
        const char *member = c->width > 0 ? c->member : c->name;
        int64_t same = -1; /* an array field holds several columns: insert it once */
        for (int64_t q = 0; q < i && same < 0; q++)
            if (cs->col[cols[q]].width > 0 && c->width > 0 &&
                !strcmp(cs->col[cols[q]].member, c->member))
                same = q;
        if (same >= 0) {
            offset[i] = offset[same] - 8 * (size_t)cs->col[cols[same]].elem + 8 * (size_t)c->elem;
            continue;
        }
        hsize_t w = (hsize_t)c->width;
        hid_t mt = c->width > 0 ? H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &w)
                                : H5Tcopy(H5T_NATIVE_DOUBLE);
        if (mt < 0 || H5Tinsert(t, member, at, mt) < 0) {
            H5Tclose(t);
            t = -1;
        }
        if (mt >= 0)
            H5Tclose(mt);
        offset[i] = at + 8 * (size_t)(c->width > 0 ? c->elem : 0);
        at += 8 * (size_t)(c->width > 0 ? c->width : 1);
    }
    if (t >= 0 && H5Tset_size(t, at > 0 ? at : 8) < 0) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

/* The nc feature columns `cols` that share one dataset (fields of the
 * compound table, or columns of one pandas block): rows [r0, r0 + m) read
 * once per step for all of them, so a record (or block row) is converted
 * once, not once per column; element (i, cols[q]) to buf[i * d + cols[q]]. */
static int read_shared(const colset *cs, const int64_t *cols, int64_t nc, int64_t d,
                       int64_t r0, int64_t m, double *buf, char *msg)
{
    const column *c0 = &cs->col[cols[0]];
    const int block = c0->in_block;
    char cause[256] = "";
    size_t *offset = strata__alloc((size_t)nc, sizeof *offset);
    hid_t mem = -1;
    hsize_t dims[2] = {0, 0};
    size_t rec = 0;
    if (!offset)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s'", cs->path);
    hid_t fspace = H5Dget_space(c0->dset);
    if (block) { /* the block's rows whole: every column of it */
        if (fspace >= 0 && H5Sget_simple_extent_dims(fspace, dims, NULL) == 2) {
            mem = H5Tcopy(H5T_NATIVE_DOUBLE);
            rec = 8 * (size_t)dims[1];
            for (int64_t q = 0; q < nc; q++)
                offset[q] = 8 * (size_t)cs->col[cols[q]].block_col;
        }
    } else {
        mem = shared_compound_type(cs, cols, nc, offset);
        rec = mem >= 0 ? H5Tget_size(mem) : 0;
    }
    int64_t step = rec ? SHARED_STEP_BYTES / (int64_t)rec : 0;
    step = step > 0 ? step : 1;
    char *tmp = mem >= 0 && fspace >= 0 ? strata__alloc((size_t)(m < step ? m : step), rec) : NULL;
    int rc = STRATA_OK;
    if (mem < 0 || fspace < 0 || !tmp)
        rc = !tmp && mem >= 0 && fspace >= 0
                 ? strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s'", cs->path)
                 : strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the %s column '%s' in "
                                "'%s': %s", c0->label, c0->name, cs->path,
                                strata__h5_cause(cause, sizeof cause));
    for (int64_t r = r0; !rc && r < r0 + m; r += step) {
        const int64_t rows = r0 + m - r < step ? r0 + m - r : step;
        hsize_t start[2] = {(hsize_t)r, 0}, count[2] = {(hsize_t)rows, dims[1]};
        /* the chunks kept inflated, else libhdf5 */
        const int kr = c0->kc ? strata__h5_kept_read(c0->kc, mem, r, rows, 0,
                                                     block ? (int64_t)dims[1] : 1, tmp, 1)
                              : 1;
        if (kr < 0) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the chunks of the %s "
                              "column '%s' in '%s', inflated as they are read", c0->label,
                              c0->name, cs->path);
            break;
        }
        if (kr == STRATA__KEPT_CORRUPT) {
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "cannot read rows %lld-%lld of the %s column '%s' in '%s': %s",
                              (long long)r, (long long)(r + rows - 1), c0->label, c0->name,
                              cs->path, KEPT_CORRUPT_TEXT);
            break;
        }
        hid_t mspace = kr ? H5Screate_simple(block ? 2 : 1, count, NULL) : -1;
        herr_t err = !kr ? 0 : mspace < 0 ? -1
                     : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        if (kr && err >= 0)
            err = H5Dread(c0->dset, mem, mspace, fspace, H5P_DEFAULT, tmp);
        if (err < 0)
            rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                              "cannot read rows %lld-%lld of the %s column '%s' in '%s': %s",
                              (long long)r, (long long)(r + rows - 1), c0->label, c0->name,
                              cs->path, strata__h5_cause(cause, sizeof cause));
        if (mspace >= 0)
            H5Sclose(mspace);
        for (int64_t i = 0; !rc && i < rows; i++)
            for (int64_t q = 0; q < nc; q++)
                memcpy(buf + (r - r0 + i) * d + cols[q], tmp + (size_t)i * rec + offset[q], 8);
    }
    strata__free(tmp);
    if (mem >= 0)
        H5Tclose(mem);
    if (fspace >= 0)
        H5Sclose(fspace);
    strata__free(offset);
    return rc;
}

/* Are columns q and j read together, from one dataset? (A pandas block is
 * opened once per column: compared by path.) Booleans are read alone: a
 * shared read converts to doubles, which libhdf5 does not from them. */
static int same_dataset(const colset *cs, int64_t q, int64_t j)
{
    if (cs->col[q].boolean || cs->col[j].boolean || cs->col[q].level || cs->col[j].level)
        return 0;
    if (cs->col[q].in_block || cs->col[j].in_block)
        return cs->col[q].in_block && cs->col[j].in_block &&
               !strcmp(cs->block_path[q], cs->block_path[j]);
    return cs->col[q].dset == cs->col[j].dset;
}

int strata__h5_cols_read(strata__h5_cols *c, int64_t r0, int64_t m, double *buf, char *msg)
{
    const colset *cs = &c->fo.cs;
    const int64_t d = c->fo.nf;
    if (r0 < 0 || m < 1 || r0 > cs->n - m)
        return strata__fail(msg, STRATA_E_INTERNAL, "rows %lld-%lld of '%s' asked for: it has "
                            "%lld", (long long)r0, (long long)(r0 + m - 1), c->path,
                            (long long)cs->n);
    int rc = file_unchanged(c->path, &c->at_open, msg);
    int64_t *group = rc ? NULL : strata__alloc((size_t)d, sizeof *group);
    if (!rc && !group)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory reading '%s'", c->path);
    strata__h5_guard g;
    strata__h5_enter(&g);
    /* columns in order; those of a dataset holding several (a compound
     * table's fields, a pandas block's columns) together at its first */
    for (int64_t j = 0; !rc && j < d; j++) {
        const int shared = (cs->table && !cs->spec[j].dataset) || cs->col[j].in_block;
        int64_t first = j, nc = 0;
        for (int64_t q = 0; shared && q < j && first == j; q++)
            if (same_dataset(cs, q, j))
                first = q;
        if (first != j)
            continue; /* read with its dataset's first column */
        for (int64_t q = j; shared && q < d; q++)
            if (same_dataset(cs, q, j))
                group[nc++] = q;
        rc = nc > 1 ? read_shared(cs, group, nc, d, r0, m, buf, msg)
                    : colset_read_range(cs, (int)j, 2, buf + j, d, r0, m, msg);
    }
    strata__h5_leave(&g);
    strata__free(group);
    return rc;
}

/* A list's names comma-separated, a ',' or '\\' within a name escaped by a
 * '\\' (strata__alloc), or NULL out of memory. */
static char *strlist_join(const strlist *l)
{
    size_t len = 1;
    for (int64_t j = 0; j < l->n; j++)
        len += 2 * strlen(l->v[j]) + 1;
    char *text = strata__alloc(len, 1), *o = text;
    for (int64_t j = 0; text && j < l->n; j++) {
        if (j)
            *o++ = ',';
        for (const char *s = l->v[j]; *s; s++) {
            if (*s == ',' || *s == '\\')
                *o++ = '\\';
            *o++ = *s;
        }
    }
    if (o)
        *o = '\0';
    return text;
}

int strata__h5_table_plan(const char *path, const char *table, char **columns, char **dates,
                          int *layout, char *key, char *index, size_t cap, char *msg)
{
    uint64_t file_size = 0;
    int rc = check_file(path, &file_size, msg);
    if (rc)
        return rc;
    hid_t file = open_file(path, msg);
    if (file < 0)
        return STRATA_E_IO_FORMAT;
    frame_plan p = {0};
    colset cs;
    rc = colset_init(&cs, path, file, file_size, 0, msg);
    if (!rc)
        rc = plan_frame(&cs, table, NULL, 0, NULL, &p, msg);
    /* a key the reader refuses (strings, pandas' category codes or dates):
     * no table to read as planned; its checks are the reader's own */
    const int by_name = p.layout == LAYOUT_COMPOUND || p.layout == LAYOUT_FIXED;
    const colspec key_spec = {p.key, "key", p.key_dataset || !by_name, 0};
    if (!rc && p.key[0] && !(rc = colset_alloc(&cs, 1, msg)))
        rc = colset_open(&cs, &key_spec, msg);
    char *names = rc ? NULL : strlist_join(&p.names), *when = rc ? NULL : strlist_join(&p.dates);
    if (!rc && (!names || !when))
        rc = frame_nomem(path, msg);
    if (!rc) {
        *columns = names;
        *dates = when;
        *layout = p.layout == LAYOUT_GROUP ? 1 : p.layout == LAYOUT_COMPOUND ? 2 : 3;
        snprintf(key, cap, "%s", p.key_name);
        index[0] = '\0';
        if (by_name)
            pandas_index_name(file, p.table, p.layout == LAYOUT_FIXED, index, cap);
    } else {
        strata__free(names);
        strata__free(when);
    }
    colset_close(&cs);
    strlist_free(&p.paths);
    strlist_free(&p.names);
    strlist_free(&p.dates);
    return rc;
}

int strata__h5_read_frame(const char *path, const char *table, const char *const *columns,
                          int64_t d, const char *key, strata__h5_frame *out, char *msg)
{
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = read_frame(path, table, columns, d, key, out, msg);
    strata__h5_leave(&g);
    return rc;
}

/* The column names of an open matrix source: its string attribute
 * "feature_names", else "columns" (d strings), into names (left empty when
 * it has neither). A malformed one is an error. */
static int matrix_names(const source *s, strlist *names, char *msg)
{
    static const char *const ATTRS[2] = {"feature_names", "columns"};
    for (int a = 0; a < 2 && !names->n; a++) {
        if (H5Aexists(s->dset, ATTRS[a]) <= 0)
            continue;
        const int rc = read_strings(s->dset, ATTRS[a], s->d, names);
        if (rc == -1) {
            strlist_free(names);
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading attribute '%s' of "
                                "'%s' in '%s'", ATTRS[a], s->dataset, s->path);
        }
        if (rc < 0 || names->n != s->d) {
            strlist_free(names);
            return strata__fail(msg, STRATA_E_IO_TYPE,
                                "attribute '%s' of '%s' in '%s' must hold %lld strings (one name "
                                "per column)", ATTRS[a], s->dataset, s->path, (long long)s->d);
        }
    }
    return STRATA_OK;
}

int strata__h5_matrix_names(const char *path, const char *dataset, int64_t d, char ***out)
{
    char msg[STRATA__MSG_LEN];
    strata__h5_guard g;
    source s;
    strlist names = {0};
    *out = NULL;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    if (!rc && s.d == d && !matrix_names(&s, &names, msg) && names.n == d &&
        (*out = strata__calloc((size_t)d, sizeof **out))) {
        for (int64_t j = 0; j < d && *out; j++)
            if (!((*out)[j] = strata__strndup(names.v[j], strlen(names.v[j])))) {
                for (int64_t i = 0; i < j; i++)
                    strata__free((*out)[i]);
                strata__free(*out);
                *out = NULL;
            }
    }
    strlist_free(&names);
    source_close(&s);
    strata__h5_leave(&g);
    return *out ? STRATA_OK : STRATA_E_IO_TYPE;
}

int strata__h5_read_matrix_frame(const char *path, const char *dataset, strata__h5_frame *out,
                                 char *msg)
{
    strata__h5_guard g;
    source s;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    strata__h5_frame f = {0};
    void *data = NULL;
    if (!rc && !(rc = source_load(&s, STRATA_FLOAT64, &data, msg))) {
        f = (strata__h5_frame){.n = s.n, .d = s.d, .x = data};
        f.names = strata__calloc((size_t)s.d, sizeof *f.names);
        if (!f.names)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld feature names",
                              (long long)s.d);
    }
    strlist names = {0};
    if (!rc)
        rc = matrix_names(&s, &names, msg);
    for (int64_t j = 0; !rc && j < s.d; j++) {
        char x[32];
        snprintf(x, sizeof x, "x%lld", (long long)j);
        const char *name = names.n ? names.v[j] : x;
        if (!(f.names[j] = strata__strndup(name, strlen(name))))
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld feature names",
                              (long long)s.d);
    }
    strlist_free(&names);
    if (rc) {
        if (!f.x)
            strata__free(data);
        strata__h5_frame_free(&f);
    } else
        *out = f;
    source_close(&s);
    strata__h5_leave(&g);
    return rc;
}

/* ---- Tiered-customer files: /customer_id, /tier and its tier names ------- */

void strata__h5_tiering_free(strata__h5_tiering *t)
{
    if (!t)
        return;
    strata__free(t->customer_id);
    strata__free(t->tier);
    for (int64_t i = 0; t->names && i < t->nnames; i++)
        strata__free(t->names[i]);
    strata__free(t->names);
    memset(t, 0, sizeof *t);
}

/* The "names" attribute of dset (a 1-D array of variable- or fixed-length
 * strings) into t->names; none is not an error. */
static int read_names_attr(hid_t dset, const char *path, strata__h5_tiering *t, char *msg)
{
    if (H5Aexists(dset, "names") <= 0)
        return STRATA_OK;
    char cause[256];
    int rc = STRATA_OK;
    hid_t a = H5Aopen(dset, "names", H5P_DEFAULT);
    hid_t type = a < 0 ? -1 : H5Aget_type(a);
    hid_t space = a < 0 ? -1 : H5Aget_space(a);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (type < 0 || n < 0 || rank < 0)
        rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the attribute 'names' of "
                          "'/tier' in '%s': %s", path, strata__h5_cause(cause, sizeof cause));
    else if (H5Tget_class(type) != H5T_STRING || rank > 1 || n < 1 || n > 1000)
        rc = strata__fail(msg, STRATA_E_IO_TYPE, "the attribute 'names' of '/tier' in '%s' is "
                          "not a list of 1 to 1000 strings", path);
    int vlen = rc ? 0 : H5Tis_variable_str(type) > 0;
    size_t fixed = rc || vlen ? 0 : H5Tget_size(type);
    char **raw = NULL, *buf = NULL;
    hid_t mem = -1;
    if (!rc) {
        t->names = strata__calloc((size_t)n, sizeof *t->names);
        raw = vlen ? strata__calloc((size_t)n, sizeof *raw) : NULL;
        buf = vlen ? NULL : strata__calloc((size_t)n, fixed + 1);
        if (!t->names || (vlen ? !raw : !buf))
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory reading tier names of '%s'",
                              path);
    }
    if (!rc) {
        mem = H5Tcopy(H5T_C_S1);
        if (mem < 0 || H5Tset_size(mem, vlen ? H5T_VARIABLE : fixed + 1) < 0 ||
            H5Tset_cset(mem, H5Tget_cset(type)) < 0 ||
            (!vlen && H5Tset_strpad(mem, H5T_STR_NULLTERM) < 0) ||
            H5Aread(a, mem, vlen ? (void *)raw : (void *)buf) < 0)
            rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the tier names of '/tier' "
                              "in '%s': %s", path, strata__h5_cause(cause, sizeof cause));
    }
    for (hssize_t i = 0; i < n && !rc; i++) {
        const char *s = vlen ? raw[i] : buf + (size_t)i * (fixed + 1);
        size_t len = s ? strnlen(s, 1024) : 0;
        if (!s || len == 0 || len > 255)
            rc = strata__fail(msg, STRATA_E_IO_TYPE, "tier name %lld of '/tier' in '%s' is "
                              "empty or longer than 255 bytes", (long long)i, path);
        else if (!(t->names[i] = strata__strndup(s, len)))
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory reading tier names");
        else
            t->nnames = i + 1;
    }
    if (vlen && raw && mem >= 0 && space >= 0)
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw);
    strata__free(raw);
    strata__free(buf);
    if (mem >= 0)
        H5Tclose(mem);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

static int read_tiering(const char *path, strata__h5_tiering *out, char *msg)
{
    static const char *const NAME[2] = {"/customer_id", "/tier"};
    static const char *const LABEL[2] = {"customer id", "tier"};
    source s[2];
    column col[2];
    for (int k = 0; k < 2; k++)
        s[k] = (source){.path = path, .dataset = NAME[k], .file = -1, .dset = -1, .space = -1};
    uint64_t file_size = 0;
    int rc = check_file(path, &file_size, msg);
    if (rc)
        return rc;
    hid_t file = open_file(path, msg);
    if (file < 0)
        return STRATA_E_IO_FORMAT;
    strata__h5_tiering t = {0};
    for (int k = 0; k < 2 && !rc; k++) {
        s[k].file = file;
        s[k].file_size = file_size;
        col[k] = (column){.name = NAME[k], .label = LABEL[k], .block_col = -1};
        if ((rc = open_1d(&s[k], &col[k].n, msg)))
            break;
        col[k].dset = s[k].dset;
        hid_t type = H5Dget_type(s[k].dset);
        col[k].cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
        col[k].u64 = is_u64(type);
        if (type >= 0)
            H5Tclose(type);
        rc = check_numeric(col[k].cls, 0, NAME[k], LABEL[k], path, msg);
        if (!rc && col[k].n != col[0].n)
            rc = strata__fail(msg, STRATA_E_IO_TYPE, "'/customer_id' and '/tier' in '%s' have "
                              "different lengths (%lld and %lld)", path, (long long)col[0].n,
                              (long long)col[k].n);
    }
    if (!rc) {
        t.n = col[0].n;
        char what[64];
        snprintf(what, sizeof what, "%lld customers", (long long)t.n);
        rc = check_memory((uint64_t)t.n * 2 * sizeof(int64_t), what, path, msg);
    }
    if (!rc) {
        t.customer_id = strata__alloc((size_t)(t.n > 0 ? t.n : 1), sizeof(int64_t));
        t.tier = strata__alloc((size_t)(t.n > 0 ? t.n : 1), sizeof(int64_t));
        if (!t.customer_id || !t.tier)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld customers of '%s'",
                              (long long)t.n, path);
    }
    /* kind 0: float values must be integral (else INT64_MIN, checked by the caller) */
    if (!rc && t.n > 0)
        rc = read_column(&s[0], &col[0], 0, 0, t.customer_id, 1, msg);
    if (!rc && t.n > 0)
        rc = read_column(&s[1], &col[1], 0, 0, t.tier, 1, msg);
    if (!rc)
        rc = read_names_attr(s[1].dset, path, &t, msg);
    if (rc)
        strata__h5_tiering_free(&t);
    else
        *out = t;
    for (int k = 0; k < 2; k++) {
        s[k].file = -1; /* closed once below */
        source_close(&s[k]);
    }
    H5Fclose(file);
    return rc;
}

int strata__h5_read_tiering(const char *path, strata__h5_tiering *out, char *msg)
{
    strata__h5_guard g;
    strata__h5_enter(&g);
    int rc = read_tiering(path, out, msg);
    strata__h5_leave(&g);
    return rc;
}

/* ---- Small groups of a result file read back (saved models) --------------- */

struct strata__h5_in {
    const char *path;
    hid_t file;
    uint64_t file_size;
    strata__h5_guard g;
    char *msg;
};

/* Most elements of one dataset a model holds (k x d with k, d far smaller). */
#define IN_MAX_ELEMS ((int64_t)1 << 26)

int strata__h5_in_open(strata__h5_in **out, const char *path, char *msg)
{
    *out = NULL;
    strata__h5_in *in = strata__calloc(1, sizeof *in);
    if (!in)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    *in = (strata__h5_in){.path = path, .file = -1, .msg = msg};
    strata__h5_enter(&in->g);
    int rc = check_file(path, &in->file_size, msg);
    if (!rc && (in->file = open_file(path, msg)) < 0)
        rc = STRATA_E_IO_FORMAT;
    if (rc) {
        strata__h5_in_close(in);
        return rc;
    }
    *out = in;
    return STRATA_OK;
}

hid_t strata__h5_in_file(strata__h5_in *in)
{
    return in->file;
}

void strata__h5_in_close(strata__h5_in *in)
{
    if (!in)
        return;
    if (in->file >= 0)
        H5Fclose(in->file);
    strata__h5_leave(&in->g);
    strata__free(in);
}

int strata__h5_in_exists(strata__h5_in *in, const char *name, int *is_group)
{
    source s = {.path = in->path, .dataset = name, .file = in->file};
    char quiet[STRATA__MSG_LEN];
    if (check_links(&s, quiet))
        return 0;
    H5O_info_t info;
    if (H5Oget_info_by_name(in->file, name, &info, H5P_DEFAULT) < 0)
        return 0;
    if (is_group)
        *is_group = info.type == H5O_TYPE_GROUP;
    return 1;
}

/* Open a dataset of the group, checked as every dataset we read. */
static int in_open(strata__h5_in *in, const char *name, source *s, hsize_t *dims, int *rank)
{
    char cause[256];
    *s = (source){.path = in->path, .dataset = name, .file = in->file, .dset = -1, .space = -1,
                  .file_size = in->file_size};
    int rc = check_links(s, in->msg);
    if (rc)
        return rc;
    s->dset = H5Oopen(in->file, name, H5P_DEFAULT);
    if (s->dset < 0 || H5Iget_type(s->dset) != H5I_DATASET)
        return strata__fail(in->msg, STRATA_E_IO_DATASET, "'%s' in '%s' is not a dataset%s%s",
                            name, in->path, s->dset < 0 ? ": " : "",
                            s->dset < 0 ? strata__h5_cause(cause, sizeof cause) : "");
    s->space = H5Dget_space(s->dset);
    *rank = s->space < 0 ? -1 : H5Sget_simple_extent_dims(s->space, dims, NULL);
    if (*rank < 0)
        return strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read the shape of '%s' in "
                            "'%s'", name, in->path);
    return check_data(s, in->msg);
}

static void in_source_close(source *s)
{
    s->file = -1; /* the group's file stays open */
    source_close(s);
}

int strata__h5_in_dataset(strata__h5_in *in, const char *name, int type, int rank, int64_t *dims,
                          void **data)
{
    source s;
    hsize_t hd[H5S_MAX_RANK];
    int r, rc = in_open(in, name, &s, hd, &r);
    char shape[128];
    if (!rc && r != rank)
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' has shape %s; expected %d "
                          "dimension%s", name, in->path, shape_text(hd, r, shape, sizeof shape),
                          rank, rank > 1 ? "s" : "");
    hid_t ft = rc ? -1 : H5Dget_type(s.dset);
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    const int boolean = bool_kind(ft);
    if (ft >= 0)
        H5Tclose(ft);
    if (!rc && cls != H5T_INTEGER && cls != H5T_FLOAT)
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' holds %s values; expected "
                          "numbers", name, in->path, class_name(cls, boolean));
    int64_t elems = 1;
    for (int i = 0; !rc && i < r; i++) {
        dims[i] = (int64_t)hd[i];
        elems = hd[i] > (hsize_t)IN_MAX_ELEMS ? IN_MAX_ELEMS + 1 : elems * (int64_t)hd[i];
        if (elems > IN_MAX_ELEMS)
            rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' is too large for a "
                              "model (shape %s)", name, in->path,
                              shape_text(hd, r, shape, sizeof shape));
    }
    hid_t mt = type == STRATA__H5_I32 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE;
    size_t es = type == STRATA__H5_I32 ? 4 : 8;
    void *buf = NULL;
    if (!rc && !(buf = strata__alloc((size_t)(elems > 0 ? elems : 1), es)))
        rc = strata__fail(in->msg, STRATA_E_NOMEM, "out of memory reading '%s'", name);
    if (!rc && elems > 0 && H5Dread(s.dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        char cause[256];
        rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read '%s' in '%s' (corrupt, or "
                          "values out of range for %s): %s", name, in->path,
                          type == STRATA__H5_I32 ? "int32" : "float64",
                          strata__h5_cause(cause, sizeof cause));
    }
    in_source_close(&s);
    if (rc) {
        strata__free(buf);
        return rc;
    }
    *data = buf;
    return STRATA_OK;
}

void strata__h5_in_strings_free(char **strs, int64_t n)
{
    for (int64_t i = 0; strs && i < n; i++)
        strata__free(strs[i]);
    strata__free(strs);
}

int strata__h5_in_strings(strata__h5_in *in, const char *name, char ***strs, int64_t *n)
{
    source s;
    hsize_t hd[H5S_MAX_RANK];
    char shape[128], cause[256];
    int r, rc = in_open(in, name, &s, hd, &r);
    if (!rc && r != 1)
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' has shape %s; expected a "
                          "1-D list of strings", name, in->path,
                          shape_text(hd, r, shape, sizeof shape));
    hid_t ft = rc ? -1 : H5Dget_type(s.dset);
    if (!rc && (ft < 0 || H5Tget_class(ft) != H5T_STRING))
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' does not hold strings",
                          name, in->path);
    if (!rc && hd[0] > 65536)
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "'%s' in '%s' holds %llu strings, too "
                          "many for a model", name, in->path, (unsigned long long)hd[0]);
    const int64_t count = rc ? 0 : (int64_t)hd[0];
    char **out = rc ? NULL : strata__calloc((size_t)(count > 0 ? count : 1), sizeof(char *));
    if (!rc && !out)
        rc = strata__fail(in->msg, STRATA_E_NOMEM, "out of memory reading '%s'", name);
    if (!rc && count > 0) {
        int var = H5Tis_variable_str(ft) > 0;
        size_t size = H5Tget_size(ft);
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, var ? H5T_VARIABLE : size + 1) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
            rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read the strings '%s' in "
                              "'%s'", name, in->path);
        char **vbuf = NULL, *fbuf = NULL;
        if (!rc && !var && size >= 4096)
            rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "the strings '%s' in '%s' are %zu "
                              "bytes long: at most 4095 are read", name, in->path, size);
        if (!rc) {
            if (var)
                vbuf = strata__calloc((size_t)count, sizeof(char *));
            else
                fbuf = strata__calloc((size_t)count, size + 1);
            if (!vbuf && !fbuf)
                rc = strata__fail(in->msg, STRATA_E_NOMEM, "out of memory reading '%s'", name);
        }
        if (!rc && H5Dread(s.dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           var ? (void *)vbuf : (void *)fbuf) < 0)
            rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read '%s' in '%s': %s", name,
                              in->path, strata__h5_cause(cause, sizeof cause));
        else if (!rc)
            for (int64_t i = 0; i < count && !rc; i++) {
                const char *v = var ? vbuf[i] : fbuf + (size_t)i * (size + 1);
                if (!v)
                    v = "";
                if (!(out[i] = strata__strndup(v, strlen(v))))
                    rc = strata__fail(in->msg, STRATA_E_NOMEM, "out of memory");
            }
        if (vbuf && s.space >= 0 && mt >= 0)
            H5Dvlen_reclaim(mt, s.space, H5P_DEFAULT, vbuf);
        strata__free(vbuf);
        strata__free(fbuf);
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (ft >= 0)
        H5Tclose(ft);
    in_source_close(&s);
    if (rc) {
        strata__h5_in_strings_free(out, count);
        return rc;
    }
    *strs = out;
    *n = count;
    return STRATA_OK;
}

/* Open attribute `name` of `object` (which must exist) with a scalar or
 * one-element space. */
static hid_t in_attr(strata__h5_in *in, const char *object, const char *name, H5T_class_t *cls,
                     int *rc)
{
    *rc = STRATA_OK;
    if (!strata__h5_in_exists(in, object, NULL)) {
        *rc = strata__fail(in->msg, STRATA_E_IO_DATASET, "'%s' not found in '%s'", object,
                           in->path);
        return -1;
    }
    if (H5Aexists_by_name(in->file, object, name, H5P_DEFAULT) <= 0) {
        *rc = strata__fail(in->msg, STRATA_E_IO_DATASET, "attribute '%s' of '%s' not found in "
                           "'%s'", name, object, in->path);
        return -1;
    }
    hid_t a = H5Aopen_by_name(in->file, object, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    *cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    char why[256] = "";
    int ok = a >= 0 && np == 1 && t >= 0 && type_ok(t, 0, why, sizeof why) > 0;
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (!ok) {
        if (a >= 0)
            H5Aclose(a);
        *rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "attribute '%s' of '%s' in '%s' is not "
                           "a single readable value", name, object, in->path);
        return -1;
    }
    return a;
}

int strata__h5_in_attr(strata__h5_in *in, const char *object, const char *name, int type,
                       void *value)
{
    H5T_class_t cls;
    int rc;
    hid_t a = in_attr(in, object, name, &cls, &rc);
    if (a < 0)
        return rc;
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "attribute '%s' of '%s' in '%s' is not a "
                          "number", name, object, in->path);
    else if (H5Aread(a, type == STRATA__H5_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, value) < 0)
        rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read attribute '%s' of '%s' in "
                          "'%s'", name, object, in->path);
    H5Aclose(a);
    return rc;
}

int strata__h5_in_attr_string(strata__h5_in *in, const char *object, const char *name,
                              char *buf, size_t cap)
{
    H5T_class_t cls;
    int rc;
    hid_t a = in_attr(in, object, name, &cls, &rc);
    if (a < 0)
        return rc;
    hid_t ft = H5Aget_type(a);
    if (cls != H5T_STRING || ft < 0) {
        rc = strata__fail(in->msg, STRATA_E_IO_TYPE, "attribute '%s' of '%s' in '%s' is not a "
                          "string", name, object, in->path);
    } else if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        hid_t mt = H5Tcopy(ft);
        if (mt < 0 || H5Aread(a, mt, &v) < 0)
            rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read attribute '%s' of '%s' "
                              "in '%s'", name, object, in->path);
        else
            snprintf(buf, cap, "%s", v ? v : "");
        if (v)
            H5free_memory(v);
        if (mt >= 0)
            H5Tclose(mt);
    } else {
        size_t size = H5Tget_size(ft);
        char *tmp = size < 65536 ? strata__calloc(size + 1, 1) : NULL;
        if (!tmp || H5Aread(a, ft, tmp) < 0)
            rc = strata__fail(in->msg, STRATA_E_IO_FORMAT, "cannot read attribute '%s' of '%s' "
                              "in '%s'", name, object, in->path);
        else
            snprintf(buf, cap, "%s", tmp);
        strata__free(tmp);
    }
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return rc;
}
