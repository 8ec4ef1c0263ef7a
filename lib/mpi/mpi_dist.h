/* The distribution hooks of core/dist.h over MPI (lib/mpi, libstrata_mpi
 * only). */
#ifndef STRATA_MPI_DIST_H
#define STRATA_MPI_DIST_H

#include <mpi.h>

#include "core/dist.h"

/* Hooks over a duplicate of comm (the library's messages never meet the
 * caller's). Collective. Returns STRATA_OK, or STRATA_E_NOMEM (msg set) on
 * every process. Release with strata__mpi_dist_end() (collective). */
int strata__mpi_dist_begin(strata__dist *d, MPI_Comm comm, char *msg);
void strata__mpi_dist_end(strata__dist *d);
/* Reserve tree_combine's buffer for trees of nchunks chunks and vectors of
 * up to max_len doubles (the run's largest pass), so that a pass never has
 * to allocate it (a pass that needs more grows it, and a process that then
 * cannot ends the job). Collective; returns the run's status. */
int strata__mpi_dist_reserve(const strata__dist *d, int64_t nchunks, int64_t max_len, char *msg);
MPI_Comm strata__mpi_dist_comm(const strata__dist *d);

#endif
