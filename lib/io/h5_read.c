/* Reading a 2-D numeric HDF5 dataset: checks that turn every way the file can
 * be wrong into a message naming the file and dataset, then a read in row
 * blocks with HDF5 converting the elements to float or double. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
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

/* Plain-file checks first: HDF5's own messages for these are obscure. */
static int check_file(const char *path, char *msg)
{
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0)
        return strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': %s", path, strerror(EISDIR));
    if (H5Fis_hdf5(path) <= 0)
        return strata__fail(msg, STRATA_E_IO_FORMAT, "'%s' is not an HDF5 file", path);
    return STRATA_OK;
}

/* Check every link along the dataset path, so the message can say which
 * part is missing. */
static int check_links(const source *s, char *msg)
{
    size_t len = strlen(s->dataset);
    if (len == 0)
        return strata__fail(msg, STRATA_E_IO_DATASET, "empty dataset name for '%s'", s->path);
    char *prefix = strdup(s->dataset);
    if (!prefix)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory");
    int rc = STRATA_OK;
    for (size_t i = 1; i <= len && !rc; i++) {
        if (prefix[i] != '/' && prefix[i] != '\0')
            continue;
        prefix[i] = '\0';
        if (H5Lexists(s->file, prefix, H5P_DEFAULT) <= 0)
            rc = i < len ? strata__fail(msg, STRATA_E_IO_DATASET,
                                        "dataset '%s' not found in '%s' (no '%s')", s->dataset,
                                        s->path, prefix)
                         : strata__fail(msg, STRATA_E_IO_DATASET, "dataset '%s' not found in '%s'",
                                        s->dataset, s->path);
        prefix[i] = s->dataset[i];
    }
    free(prefix);
    return rc;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound (record)";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
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
                            "dataset '%s' in '%s' has rank %d, shape %s; expected a 2-D matrix "
                            "(rows x features)", s->dataset, s->path, rank,
                            shape_text(dims, rank, shape, sizeof shape));
    hid_t type = H5Dget_type(s->dset);
    s->cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    s->elem_size = type < 0 ? 0 : H5Tget_size(type);
    if (type >= 0)
        H5Tclose(type);
    if (s->cls != H5T_INTEGER && s->cls != H5T_FLOAT)
        return strata__fail(msg, STRATA_E_IO_TYPE,
                            "dataset '%s' in '%s' holds %s values; expected integers or floats",
                            s->dataset, s->path, class_name(s->cls));
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

/* Open path:dataset read-only and check it is a 2-D numeric dataset. */
static int source_open(const char *path, const char *dataset, source *s, char *msg)
{
    char cause[256];
    *s = (source){.path = path, .dataset = dataset, .file = -1, .dset = -1, .space = -1};
    int rc = check_file(path, msg);
    if (rc)
        return rc;
    hid_t fapl = strata__h5_file_access();
    s->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (s->file < 0)
        rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot open HDF5 file '%s': %s", path,
                          strata__h5_cause(cause, sizeof cause));
    H5Pclose(fapl);
    if (rc || (rc = check_links(s, msg)))
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
    return check_filters(s, msg);
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

/* Read all rows, converted to dtype, into buf (n x d). */
static int source_read(const source *s, int dtype, void *buf, char *msg)
{
    char cause[256];
    hid_t mem_type = dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    size_t elem = dtype_size(dtype);
    int64_t step = block_rows(s, elem);
    for (int64_t r0 = 0; r0 < s->n; r0 += step) {
        int64_t rows = s->n - r0 < step ? s->n - r0 : step;
        hsize_t start[2] = {(hsize_t)r0, 0}, count[2] = {(hsize_t)rows, (hsize_t)s->d};
        hid_t mspace = H5Screate_simple(2, count, NULL);
        herr_t err = mspace < 0 ? -1
                     : H5Sselect_hyperslab(s->space, H5S_SELECT_SET, start, NULL, count, NULL);
        if (err >= 0)
            err = H5Dread(s->dset, mem_type, mspace, s->space, H5P_DEFAULT,
                          (char *)buf + (size_t)r0 * (size_t)s->d * elem);
        if (err < 0)
            strata__h5_cause(cause, sizeof cause);
        if (mspace >= 0)
            H5Sclose(mspace);
        if (err < 0)
            return strata__fail(msg, STRATA_E_IO_FORMAT,
                                "cannot read rows %lld-%lld of '%s' in '%s' (corrupt or "
                                "unreadable data): %s", (long long)r0, (long long)(r0 + rows - 1),
                                s->dataset, s->path, cause);
    }
    return STRATA_OK;
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
    void *data = (uint64_t)s->n > SIZE_MAX / (uint64_t)s->d
                     ? NULL : strata__alloc((size_t)s->n * (size_t)s->d, elem);
    if (!data)
        return strata__fail(msg, STRATA_E_NOMEM,
                            "out of memory for the %lld x %lld dataset '%s' in '%s'",
                            (long long)s->n, (long long)s->d, s->dataset, s->path);
    int rc = source_read(s, dtype, data, msg);
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

int strata__h5_load(const char *path, const char *dataset, int want_dtype, strata__matrix *out,
                    char *msg)
{
    strata__h5_guard g;
    source s;
    strata__h5_enter(&g);
    int rc = source_open(path, dataset, &s, msg);
    if (!rc) {
        /* Keep float32 (and narrower floats) as float32, all else as float64. */
        int dtype = want_dtype ? want_dtype
                    : s.cls == H5T_FLOAT && s.elem_size <= sizeof(float) ? STRATA_FLOAT32
                                                                          : STRATA_FLOAT64;
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

void strata__matrix_free(strata__matrix *m)
{
    if (!m)
        return;
    strata__free(m->data);
    m->data = NULL;
}
