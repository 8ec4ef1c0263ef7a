/* Parallel HDF5 for libstrata_mpi (lib/mpi): a process's block of rows read
 * through MPI-IO, and a k-means result written collectively into one file. */
#ifndef STRATA_MPI_H5_MPI_H
#define STRATA_MPI_H5_MPI_H

#include <stdint.h>

#include "core/dist.h"
#include "io/h5.h"

/* Rows [lo, hi) of the 2-D dataset (d columns) of path, converted to dtype
 * (STRATA_FLOAT32 or STRATA_FLOAT64), into buf ((hi - lo) x d), the file
 * opened through MPI-IO by all of d's processes (collective; lo == hi reads
 * nothing). Independent reads of at most 256 MiB each. Returns the run's
 * status (dist->agree). */
int strata__mpi_h5_read_rows(const strata__dist *dist, const char *path, const char *dataset,
                             int dtype, int64_t lo, int64_t hi, int64_t d, void *buf, char *msg);

/* o (every process the same, o->labels holding at least rows [lo, hi))
 * written to path as strata__h5_write_kmeans() writes it, collectively: a
 * temporary file created by process 0 (the target checked as the serial
 * write checks it), filled through MPI-IO by all (each writes its rows of
 * /labels), renamed into place by process 0 once all succeeded, removed
 * otherwise. Returns the run's status. */
int strata__mpi_h5_write_kmeans(const strata__dist *dist, const char *path,
                                const strata__kmeans_output *o, int64_t lo, int64_t hi, int flags,
                                char *msg);

#endif
