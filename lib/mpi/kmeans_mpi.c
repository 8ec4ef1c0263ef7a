/* include/strata_mpi.h: distributed k-means fits and their output
 * (docs/distributed.md). Built only into libstrata_mpi (-DSTRATA_MPI=ON).
 *
 * A fit: every process validates the file as the serial fit does (the same
 * messages), reads its chunks' rows (mpi/h5_mpi.c) and runs the engine on a
 * distributed row source (core/rowsrc.h) whose hooks are MPI's
 * (mpi/dist_mpi.c); the engine's reductions then give every process the
 * one-process bits. The labels of all rows are exchanged at the end. */
#include <limits.h>
#include <mpi.h>
#include <string.h>

#include "api/kmeans_handle.h"
#include "core/mem.h"
#include "core/status.h"
#include "mpi/h5_mpi.h"
#include "mpi/mpi_dist.h"
#include "strata_mpi.h"

/* This process's rows of n: its chunks' (core/dist.h). */
static void rows_of(const strata__dist *d, int64_t n, int rank, int64_t *lo, int64_t *hi)
{
    int64_t c0, c1;
    strata__dist_chunks(strata__chunk_count(n, STRATA__CHUNK_ROWS), d->size, rank, &c0, &c1);
    *lo = c0 * STRATA__CHUNK_ROWS;
    *hi = c1 * STRATA__CHUNK_ROWS < n ? c1 * STRATA__CHUNK_ROWS : n;
}

/* Every process's labels to all: each holds its own rows' (in place). */
static void exchange_labels(const strata__dist *d, int32_t *labels, int64_t n)
{
    MPI_Comm comm = strata__mpi_dist_comm(d);
    int *counts = n <= INT_MAX ? strata__alloc((size_t)d->size, sizeof(int)) : NULL;
    int *displs = n <= INT_MAX ? strata__alloc((size_t)d->size, sizeof(int)) : NULL;
    int ok = counts && displs, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    for (int r = 0; r < d->size; r++) {
        int64_t lo, hi;
        rows_of(d, n, r, &lo, &hi);
        if (all_ok) {
            counts[r] = (int)(hi - lo);
            displs[r] = (int)lo;
        } else { /* over 2^31 rows: one broadcast per process, in pieces */
            for (int64_t o = lo; o < hi; o += (int64_t)1 << 28) {
                int64_t m = hi - o < ((int64_t)1 << 28) ? hi - o : (int64_t)1 << 28;
                MPI_Bcast(labels + o, (int)m, MPI_INT32_T, r, comm);
            }
        }
    }
    if (all_ok)
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_INT32_T, labels, counts, displs, MPI_INT32_T, comm);
    strata__free(counts);
    strata__free(displs);
}

/* Checks every process makes alike (the same arguments and parameters on
 * all), before any exchange. */
static int check_args(strata_kmeans *km, MPI_Comm comm, const char *path, const char *dataset,
                      char *msg)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin)
        return strata__fail(msg, STRATA_E_STATE, "MPI is not initialised (call MPI_Init first)");
    if (comm == MPI_COMM_NULL)
        return strata__fail(msg, STRATA_E_ARG, "the communicator is MPI_COMM_NULL");
    if (!path || !dataset)
        return strata__fail(msg, STRATA_E_NULL, "file path or dataset name is NULL");
    int64_t memory = 0, block_rows = 0;
    if (strata_kmeans_get_int(km, STRATA_KMEANS_MEMORY, &memory) ||
        strata_kmeans_get_int(km, STRATA_KMEANS_BLOCK_ROWS, &block_rows))
        return strata__fail(msg, STRATA_E_INTERNAL, "cannot read the handle's parameters");
    if (memory > 0 || block_rows > 0)
        return strata__fail(msg, STRATA_E_UNSUPPORTED,
                            "a distributed fit keeps each process's rows in memory: "
                            "STRATA_KMEANS_MEMORY and STRATA_KMEANS_BLOCK_ROWS (--memory) are not "
                            "distributed yet");
    return STRATA_OK;
}

int strata_kmeans_fit_h5_mpi(strata_kmeans *km, MPI_Comm comm, const char *path,
                             const char *dataset)
{
    if (!km)
        return strata__fail(NULL, STRATA_E_NULL, "handle is NULL");
    char *msg = strata__kmeans_msg(km);
    msg[0] = '\0';
    int rc = check_args(km, comm, path, dataset, msg);
    if (rc)
        return rc;
    strata__dist dist;
    if ((rc = strata__mpi_dist_begin(&dist, comm, msg)))
        return rc;
    /* The file checked by every process as the serial fit checks it (its
     * messages), then its shape and type. */
    strata__h5_rows *st = NULL;
    strata__h5_rows_info info = {0};
    void *local = NULL;
    rc = strata__h5_rows_open(path, dataset, &st, &info, msg);
    strata__h5_rows_close(st);
    if ((rc = dist.agree(&dist, rc, msg)))
        goto done;
    int64_t lo, hi;
    rows_of(&dist, info.n, dist.rank, &lo, &hi);
    const size_t es = info.dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
    if (hi > lo && !(local = strata__alloc((size_t)(hi - lo), (size_t)info.d * es)))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for rows %lld-%lld (%lld x %lld) "
                          "of '%s' on process %d of %d", (long long)lo, (long long)hi - 1,
                          (long long)(hi - lo), (long long)info.d, path, dist.rank, dist.size);
    /* the largest pass's vectors: Lloyd's (k d sums, k weights, inertia,
     * changes, k moved weights), the input check's (d + 1), k-means++'s
     * trials (at most 16) */
    int64_t k = 1;
    if (!rc && strata_kmeans_get_int(km, STRATA_KMEANS_K, &k))
        rc = strata__fail(msg, STRATA_E_INTERNAL, "cannot read k");
    int64_t max_len = k * info.d + 2 * k + 2;
    max_len = max_len > info.d + 1 ? max_len : info.d + 1;
    max_len = max_len > 16 ? max_len : 16;
    if ((rc = dist.agree(&dist, rc, msg)) ||
        (rc = strata__mpi_dist_reserve(&dist, strata__chunk_count(info.n, STRATA__CHUNK_ROWS),
                                       max_len, msg)) ||
        (rc = strata__mpi_h5_read_rows(&dist, path, dataset, info.dtype, lo, hi, info.d, local,
                                       msg)))
        goto done;
    strata__rowsrc src = {.mem = {info.dtype, NULL, info.n, info.d, info.d, NULL, 0},
                          .block_rows = STRATA__CHUNK_ROWS, .dist = &dist, .lo = lo, .hi = hi,
                          .local = local, .local_dtype = info.dtype};
    /* The handle's checks (k against n, ...) are the same on every process;
     * the fit's exchanges agree on every other failure. */
    if ((rc = strata__kmeans_fit_rows(km, &src, 0, 0)))
        goto done;
    strata__kmeans_output out; /* the model's labels: this rank's rows filled */
    if ((rc = strata__kmeans_output_of(km, NULL, &out)))
        goto done;
    exchange_labels(&dist, (int32_t *)out.labels, info.n);
    strata__kmeans_set_inputs(km, path, NULL, NULL, NULL);
done:
    strata__free(local);
    strata__mpi_dist_end(&dist);
    return rc;
}

int strata_kmeans_write_h5_mpi(strata_kmeans *km, MPI_Comm comm, const char *path,
                               const char *source, int flags)
{
    if (!km)
        return strata__fail(NULL, STRATA_E_NULL, "handle is NULL");
    char *msg = strata__kmeans_msg(km);
    msg[0] = '\0';
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin)
        return strata__fail(msg, STRATA_E_STATE, "MPI is not initialised (call MPI_Init first)");
    if (comm == MPI_COMM_NULL)
        return strata__fail(msg, STRATA_E_ARG, "the communicator is MPI_COMM_NULL");
    if (!path)
        return strata__fail(msg, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    strata__kmeans_output o;
    int rc = strata__kmeans_output_of(km, source, &o);
    if (rc)
        return rc;
    if (o.customer_id || o.feature_names)
        return strata__fail(msg, STRATA_E_UNSUPPORTED, "the model has feature names or row "
                            "keys (a frame fit, or a dataset with feature_names): write it with "
                            "strata_kmeans_write_h5()");
    strata__dist dist;
    if ((rc = strata__mpi_dist_begin(&dist, comm, msg)))
        return rc;
    int64_t lo, hi;
    rows_of(&dist, o.n, dist.rank, &lo, &hi);
    rc = strata__mpi_h5_write_kmeans(&dist, path, &o, lo, hi, flags, msg);
    strata__mpi_dist_end(&dist);
    return rc;
}
