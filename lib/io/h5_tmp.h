/* The temporary file of a write (internal to lib/io): created next to the
 * target as "<path>.tmp.<pid>.<n>", registered for strata_discard_temp_file(),
 * then synced and renamed into place, or removed (lib/io/h5_write.c). The
 * in-memory writer (h5_write.c) and the streamed one (h5_stream.c) fill it
 * in their own way. Callers hold the library-wide HDF5 lock. */
#ifndef STRATA_IO_H5_TMP_H
#define STRATA_IO_H5_TMP_H

#include <hdf5.h>

#include "io/files.h"
#include "io/h5.h"

typedef struct strata__h5_tmp {
    const char *path;
    const strata__file_id *inputs; /* files never to be replaced */
    int ninputs;
    char *tmp;
    int created; /* tmp is ours: created by this writer (0 again once renamed) */
    int fd;      /* tmp, open for writing; -1 when not open */
    int dirfd;   /* the destination folder, or -1 when it cannot be opened */
    hid_t file;  /* the HDF5 file (in memory, or on tmp when streamed) */
    int flags;
    int threads; /* that pack chunks (io/h5_chunks.h); 0 = the OpenMP default */
    struct strata__h5_packer *packer; /* their buffers (NULL until needed) */
    int slot; /* of tmp in the table of strata_discard_temp_file(); -1 before it has one */
    char *msg;
} strata__h5_tmp;

/* File and memory types and element size of a STRATA__H5_* type; 0 if unknown. */
int strata__h5_out_types(int type, hid_t *file_type, hid_t *mem_type, size_t *size);

/* Check the target (inputs, kind, STRATA_WRITE_FORCE), remove stale
 * temporaries of path in its folder, and create the temporary file (w->fd);
 * with `lock`, flock it (a file HDF5 writes itself is locked by HDF5 instead
 * or not at all). w->file is -1. On failure too, end with
 * strata__h5_tmp_finish(). */
int strata__h5_tmp_open(strata__h5_tmp *w, const char *path, const strata__file_id *inputs,
                        int ninputs, int flags, int lock, char *msg);

/* With rc == STRATA_OK: check the target again, sync the temporary, rename it
 * to path and sync the folder; otherwise (or when that fails) remove it.
 * Releases everything but w->file, which the caller has closed. Returns the
 * final status. */
int strata__h5_tmp_finish(strata__h5_tmp *w, int rc);

/* A result file that HDF5 writes on its temporary file as it goes (no
 * in-memory image): for strata__h5_stream_* (h5_stream.c), which reserves
 * the disk space ahead of HDF5's writes. strata__h5_out_finish() closes and
 * commits it like any other; the attribute, string and group calls of
 * strata__h5_out_* work on it too. */
int strata__h5_out_open_streamed(strata__h5_out **out, const char *path, int flags, char *msg);
/* Its HDF5 file (the caller holds the HDF5 lock), temporary file's
 * descriptor, target path and message buffer. */
hid_t strata__h5_out_hid(const strata__h5_out *o, int *fd, const char **path, char **msg);

/* strata__h5_write_kmeans()'s datasets and root attributes, written into
 * the open HDF5 file `file` (any driver: lib/mpi's parallel one, every
 * process calling it with the same o): /labels as one contiguous dataset
 * of o->n rows of which this process writes rows [lo, hi) from
 * o->labels + lo with the transfer properties dxpl (lo == hi: none), the
 * rest as strata__h5_write_kmeans() writes it; then the attributes created
 * (the time of the write, the same string on every process) and, when
 * ranks > 0, mpi_ranks. The caller holds the HDF5 lock. */
int strata__h5_kmeans_into(hid_t file, const char *path, const strata__kmeans_output *o,
                           int64_t lo, int64_t hi, hid_t dxpl, const char *created,
                           int64_t ranks, char *msg);

#endif
