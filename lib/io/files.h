/* Plain-file rules shared by the HDF5 reader and writer (internal to lib/io
 * and lib/api): only regular files are read or replaced, and a file a handle
 * has read is never replaced by a write through that handle. No HDF5 here. */
#ifndef STRATA_IO_FILES_H
#define STRATA_IO_FILES_H

#include <sys/stat.h>

/* The identity of a file (device and inode), as stat() sees it. */
typedef struct strata__file_id {
    dev_t dev;
    ino_t ino;
    int known;        /* 0: no file (stat failed or nothing recorded) */
    const char *role; /* static text for messages, e.g. "the file the model was fitted from" */
} strata__file_id;

/* Record the identity of the file at path, following symbolic links, with
 * its role; known = 0 when it cannot be stat()ed. */
void strata__file_id_of(const char *path, const char *role, strata__file_id *id);

/* What kind of file `mode` is, in words: "directory", "FIFO", ... */
const char *strata__file_kind(mode_t mode);

/* An input that is not a regular file (FIFO, device, socket, directory) is
 * refused before anything opens it: opening a FIFO blocks, a device never
 * ends. STRATA_OK for a regular file; STRATA_E_IO_OPEN naming the kind
 * otherwise (st is the file's stat(), msg as strata__fail()). */
int strata__refuse_irregular_input(const char *path, const struct stat *st, char *msg);

/* STRATA_OK unless `path` is (st_dev, st_ino, through any link) one of the
 * n files `inputs` (unknown ones skipped): then STRATA_E_IO_WRITE naming the
 * path and the input's role. */
int strata__refuse_input_as_output(const char *path, const strata__file_id *inputs, int n,
                                   char *msg);

/* 0 if a file may grow to `end` bytes under this process's file size limit
 * (ulimit -f); EFBIG if not. Checked before a write: past the limit,
 * write(2) raises SIGXFSZ, whose default action ends the process. */
int strata__file_size_allowed(unsigned long long end);

/* strerror(e), or for EFBIG what the limit is. Static text. */
const char *strata__write_error_text(int e);

#endif
