/* HDF5 row source and result writer (internal). Only lib/io includes hdf5.h;
 * every HDF5 error is silenced and turned into a message naming the file and
 * dataset, and every call holds the library-wide HDF5 lock. */
#ifndef STRATA_IO_H5_H
#define STRATA_IO_H5_H

#include <stdint.h>

/* A dense row-major matrix owned by the library. */
typedef struct strata__matrix {
    int dtype;   /* STRATA_FLOAT32 or STRATA_FLOAT64 */
    void *data;  /* n * d elements, from strata__alloc */
    int64_t n, d;
} strata__matrix;

/* Shape of a 2-D numeric dataset. msg: STRATA__MSG_LEN bytes or NULL. */
int strata__h5_shape(const char *path, const char *dataset, int64_t *n, int64_t *d, char *msg);

/* Load a 2-D numeric dataset into memory in row blocks. want_dtype 0 keeps
 * float32 as float32 and turns float64 and integers into float64; otherwise the
 * data are converted to want_dtype. Zero rows is an error. */
int strata__h5_load(const char *path, const char *dataset, int want_dtype, strata__matrix *out,
                    char *msg);

/* Read into a caller buffer of exactly n x d elements of dtype. */
int strata__h5_read_into(const char *path, const char *dataset, int dtype, void *buf, int64_t n,
                         int64_t d, char *msg);

void strata__matrix_free(strata__matrix *m);

/* Write a matrix as a chunked gzip dataset of a new file (temporary name, then rename). */
int strata__h5_write_matrix(const char *path, const char *dataset, int dtype, const void *buf,
                            int64_t n, int64_t d, int flags, char *msg);

/* What strata_kmeans_write_h5() stores. */
typedef struct strata__kmeans_output {
    const int32_t *labels;
    int64_t n;
    const double *centroids;
    int64_t k, d;
    double inertia;
    int64_t n_iter;
    int converged;
    int64_t seed;
    const char *algorithm; /* e.g. "lloyd" */
    const char *source;    /* e.g. "in.h5:/features"; NULL means "" */
} strata__kmeans_output;

/* Write /labels, /centroids and the root attributes to a new file (temporary
 * name in the same folder, then rename; replaces only with STRATA_WRITE_FORCE). */
int strata__h5_write_kmeans(const char *path, const strata__kmeans_output *out, int flags, char *msg);

#endif
