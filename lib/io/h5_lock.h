/* The setting every HDF5 call of lib/io runs in (internal to lib/io).
 *
 * Each entry point of lib/io brackets its HDF5 calls with strata__h5_enter()
 * and strata__h5_leave(): they hold one process-wide mutex, because an HDF5
 * build is not necessarily thread-safe, and they switch HDF5's automatic
 * error printing off, restoring the host program's own setting on the way
 * out. Failures are then reported through strata__fail() with the innermost
 * HDF5 message as the cause. */
#ifndef STRATA_IO_H5_LOCK_H
#define STRATA_IO_H5_LOCK_H

#include <stddef.h>

#include <hdf5.h>

typedef struct strata__h5_guard {
    H5E_auto2_t func; /* the host's automatic error handler, restored on leave */
    void *data;
} strata__h5_guard;

void strata__h5_enter(strata__h5_guard *g);
void strata__h5_leave(const strata__h5_guard *g);

/* Count a file of ours that libhdf5 failed to close (a streamed file after
 * a write error): libhdf5 1.10 crashes closing it again, so the exit
 * handler leaves the library open when only such files remain. */
void strata__h5_unclosable(void);

/* The most specific message on the calling thread's HDF5 error stack (e.g.
 * "inflate() failed"), or "unknown HDF5 error"; written into buf. */
const char *strata__h5_cause(char *buf, size_t len);

/* File-access properties for every file we open or create: keep HDF5's file
 * locks, but don't fail on file systems that have locking disabled (NFS and
 * the like). Close with H5Pclose. */
hid_t strata__h5_file_access(void);

/* The HDF5 file of an open strata__h5_in (io/h5.h), for the readers of
 * lib/io that walk a file themselves (h5_catalog.c). */
struct strata__h5_in;
hid_t strata__h5_in_file(struct strata__h5_in *in);

#endif
