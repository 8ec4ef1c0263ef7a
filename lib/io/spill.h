/* Temporary files of out-of-core work (internal to lib/io and lib/api): a
 * private directory (mkdtemp) under a caller's folder holding numbered
 * binary files, written through buffers and read back by offset. Closing the
 * spill removes every file in the directory and the directory itself, on
 * success and failure alike. No HDF5 here.
 *
 * Errors (a folder that cannot be written, a full disk, a read that comes
 * short) return STRATA_E_IO_WRITE or STRATA_E_IO_OPEN with a message naming
 * the directory and the system's reason. */
#ifndef STRATA_IO_SPILL_H
#define STRATA_IO_SPILL_H

#include <stddef.h>
#include <stdint.h>

typedef struct strata__spill strata__spill;

/* The folder temporary directories go under when the caller names none:
 * $TMPDIR when set and not empty, else /tmp. */
const char *strata__spill_default_dir(void);

/* Create "<dir>/strata-XXXXXX" (dir NULL or "": strata__spill_default_dir()).
 * msg: STRATA__MSG_LEN bytes, kept by pointer for later calls' messages. */
int strata__spill_open(strata__spill **out, const char *dir, char *msg);
/* Remove the files and directories of every spill open in the process
 * (at most 16 are tracked): async-signal-safe, for
 * strata_discard_temp_file(). A spill whose files went this way fails its
 * next read or write with a clear message. */
void strata__spill_discard_all(void);
/* Remove every file of the directory and the directory; NULL is a no-op. */
void strata__spill_close(strata__spill *s);

/* A file being written: bytes go through a buffer of `cap` bytes. */
typedef struct strata__spill_writer {
    int fd;
    int64_t file; /* its number in the spill */
    char *buf;
    size_t cap, len;
    uint64_t bytes; /* written so far, buffered ones included */
} strata__spill_writer;

/* A new file (number *file of the spill) open for writing with a buffer of
 * cap bytes. */
int strata__spill_create(strata__spill *s, size_t cap, strata__spill_writer *w);
/* Append n bytes. */
int strata__spill_write(strata__spill *s, strata__spill_writer *w, const void *p, size_t n);
/* Flush and close (the file stays); also after a failure (then rc is
 * returned). Returns the first error. */
int strata__spill_finish(strata__spill *s, strata__spill_writer *w, int rc);

/* Read n bytes at offset of file number `file` into buf. */
int strata__spill_read(strata__spill *s, int64_t file, uint64_t offset, void *buf, size_t n);
/* Remove file number `file` (its disk space is no longer needed). */
void strata__spill_remove(strata__spill *s, int64_t file);

#endif
