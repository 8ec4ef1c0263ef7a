/* libstrata_mpi: k-means and RFM over MPI and parallel HDF5 (docs/distributed.md).
 *
 * Installed only by a build with -DSTRATA_MPI=ON. libstrata_mpi.so exports
 * the whole serial API of strata.h (the same functions, the same version
 * node STRATA_0.1) plus the functions below; a program links either
 * libstrata or libstrata_mpi, never both (they are built against the serial
 * and the parallel build of HDF5, which cannot share one process). Build
 * with mpicc: mpicc prog.c -lstrata_mpi.
 *
 * Distributed fits
 *   Every rank of a communicator calls the same function with the same
 *   arguments and a handle set up with the same parameters (collective
 *   calls: a rank that does not take part leaves the others waiting). The
 *   n rows of the dataset are cut into chunks of 4096 rows; rank r of P
 *   reads the chunks [floor(C r / P), floor(C (r + 1) / P)) of the C chunks
 *   (a contiguous block of rows, one hyperslab, through MPI-IO), a split
 *   that depends only on n and P. Every reduction across chunks follows one
 *   fixed tree over the global chunk indices, so the centroids, labels,
 *   inertia and iteration count are bitwise those of strata_kmeans_fit_h5()
 *   in one process with the same parameters, for any number of ranks and
 *   threads. Per iteration the ranks exchange one all-reduce: at most
 *   2 (floor(log2 C) + 1) vectors of k d + 2k + 2 doubles (the partial sums
 *   of the fixed tree that a rank's chunks leave open) after a header with
 *   the status (docs/distributed.md, "What is communicated").
 *   A failure (bad input, a read error on any rank) is returned by every
 *   rank with the same status and message.
 *
 * Thread-safety: as strata.h's; MPI must be initialised (MPI_Init_thread
 *   with at least MPI_THREAD_FUNNELED; the library calls MPI from the
 *   calling thread only) and the communicator usable by the caller. */
#ifndef STRATA_MPI_H
#define STRATA_MPI_H

#include <mpi.h>

#include "strata.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fit k-means to the 2-D dataset `dataset` of the HDF5 file `path`, read
 *  in parallel by the ranks of comm (collective: every rank of comm calls
 *  it, with the same path, dataset and handle parameters). Afterwards every
 *  rank's handle holds the same fitted model: centroids, inertia, n_iter and
 *  the labels of all n rows (each rank computes its block's; they are then
 *  exchanged, 4 bytes a row on every rank), so the serial getters
 *  (strata_kmeans_centroids(), strata_kmeans_labels(), results) work on any
 *  rank.
 *  Runs Lloyd's algorithm (STRATA_ALGO_AUTO or STRATA_ALGO_LLOYD), Hamerly's
 *  or Yinyang's (each rank keeps its rows' bounds; the same exchanges as
 *  Lloyd's), seeded by k-means++ (greedy, as the serial fit: the candidates'
 *  potentials summed across ranks), random rows or given centroids, with any
 *  n_init. Not distributed yet, and refused with STRATA_E_UNSUPPORTED:
 *  k-means|| and AFK-MC^2 seeding, STRATA_ALGO_MINIBATCH,
 *  STRATA_KMEANS_MEMORY and STRATA_KMEANS_BLOCK_ROWS (each rank holds its
 *  block of rows in memory). A progress or step callback that cancels must
 *  cancel on every rank at the same call.
 *  Memory per rank: its block of rows, plus 4 bytes (float64 data with
 *  k-means++: 12; Hamerly and Yinyang add their bounds) per row of the
 *  whole dataset, of which the labels' pages outside its block are touched
 *  only when the labels are exchanged.
 *  @return STRATA_OK, or on every rank the same status as the serial fit
 *          would give (STRATA_E_NULL, STRATA_E_ARG, STRATA_E_IO_*,
 *          STRATA_E_NONFINITE, STRATA_E_TOO_FEW, ...), STRATA_E_UNSUPPORTED
 *          (above), or STRATA_E_IO when MPI itself fails. The handle's
 *          message says what (strata_kmeans_last_error()). */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_h5_mpi(strata_kmeans *km, MPI_Comm comm,
                                                         const char *path, const char *dataset);

/** Write the model of a strata_kmeans_fit_h5_mpi() fit to the HDF5 file
 *  `path`, as strata_kmeans_write_h5() does (the same datasets /labels and
 *  /centroids and the same root attributes, plus the attribute mpi_ranks),
 *  collectively: the file is created through MPI-IO under a temporary name,
 *  every rank writes its block of /labels (one hyperslab, a collective
 *  write), and rank 0 renames it into place once all succeeded; nothing
 *  reaches `path` otherwise. source and flags as strata_kmeans_write_h5()'s
 *  (STRATA_WRITE_FORCE). Collective over comm, the communicator of the fit.
 *  @return STRATA_OK, or on every rank the same status: STRATA_E_NULL,
 *          STRATA_E_STATE (no distributed fit on this handle),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_write_h5_mpi(strata_kmeans *km, MPI_Comm comm,
                                                           const char *path, const char *source,
                                                           int flags);

/** RFM of the transaction log at path (strata_rfm_fit_h5()'s arguments),
 *  distributed over the ranks of comm (collective: every rank calls it with
 *  the same arguments and handle parameters). Rank r of P reads rows
 *  [n r / P, n (r + 1) / P) of the log and cleans them; the kept rows are
 *  sent to the rank owning their customer (contiguous id ranges, one
 *  all-to-all, 24 bytes a row), aggregated there, and scored with quantile
 *  bins found by a distributed exact selection. The customers, scores,
 *  segments, edges, profiles and cleaning counts are bitwise those of
 *  strata_rfm_fit_h5() in one process with the same parameters, for any
 *  number of ranks (docs/distributed.md, "RFM over MPI"). Afterwards rank 0's handle holds
 *  every customer, as strata_rfm_fit_h5() would (gathered: about 55 bytes a
 *  customer on rank 0), and the other ranks' handles their own range of
 *  ids with the global counts, edges and profiles (a rank whose range holds
 *  no customer reads as not fitted). STRATA_RFM_MEMORY is not used (each
 *  rank holds its block of rows, its customers' rows and customers in
 *  memory) and no progress is reported. On failure every handle keeps its
 *  previous result.
 *  @return STRATA_OK, or on every rank the same status and message (that of
 *          the lowest failing rank): those of strata_rfm_fit_h5(), or
 *          STRATA_E_ARG when a count exceeds what MPI's int counts hold
 *          (a rank sending 2^31 rows, 2^31 customers gathered on rank 0). */
STRATA_API STRATA_NODISCARD int strata_rfm_fit_h5_mpi(strata_rfm *h, MPI_Comm comm,
                                                      const char *path, const char *table,
                                                      const char *customer, const char *time,
                                                      const char *amount);

/** Write the result of strata_rfm_fit_h5_mpi() to path as strata_rfm_write_h5()
 *  writes it (the same file: rank 0 writes it with the one-process writer
 *  from the customers it holds). Collective over comm.
 *  @return STRATA_OK, or on every rank the status and message of rank 0's
 *          strata_rfm_write_h5(). */
STRATA_API STRATA_NODISCARD int strata_rfm_write_h5_mpi(strata_rfm *h, MPI_Comm comm,
                                                        const char *path, const char *source,
                                                        int flags);

#ifdef __cplusplus
}
#endif

#endif
