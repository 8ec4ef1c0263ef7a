/* Parallel HDF5 (lib/mpi/h5_mpi.h): MPI-IO reads of a process's rows and
 * the collective write of a k-means result. */
#include "mpi/h5_mpi.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/h5_lock.h"
#include "io/h5_tmp.h"
#include "mpi/mpi_dist.h"
#include "strata.h"

/* The file access properties of a file every process of dist opens. */
static hid_t mpio_fapl(const strata__dist *dist)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, strata__mpi_dist_comm(dist), MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        fapl = -1;
    }
    return fapl;
}

/* Rows per independent read: at most 256 MiB (MPI-IO counts are ints). */
static int64_t piece_rows(int64_t d, size_t es)
{
    int64_t rows = ((int64_t)256 << 20) / (d * (int64_t)es);
    return rows > 0 ? rows : 1;
}

int strata__mpi_h5_read_rows(const strata__dist *dist, const char *path, const char *dataset,
                             int dtype, int64_t lo, int64_t hi, int64_t d, void *buf, char *msg)
{
    char cause[256] = "";
    const size_t es = dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
    const hid_t mem_type = dtype == STRATA_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    strata__h5_guard g;
    strata__h5_enter(&g);
    hid_t fapl = mpio_fapl(dist);
    hid_t file = fapl < 0 ? -1 : H5Fopen(path, H5F_ACC_RDONLY, fapl); /* collective */
    hid_t dset = file < 0 ? -1 : H5Dopen2(file, dataset, H5P_DEFAULT);
    hid_t fspace = dset < 0 ? -1 : H5Dget_space(dset);
    herr_t err = fspace < 0 ? -1 : 0;
    const int64_t step = piece_rows(d, es);
    for (int64_t r0 = lo; err >= 0 && r0 < hi; r0 += step) {
        hsize_t start[2] = {(hsize_t)r0, 0},
                count[2] = {(hsize_t)(hi - r0 < step ? hi - r0 : step), (hsize_t)d};
        hid_t mspace = H5Screate_simple(2, count, NULL);
        err = mspace < 0 ? -1
              : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        if (err >= 0) /* independent transfer (the default): no matching needed */
            err = H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT,
                          (char *)buf + (size_t)(r0 - lo) * (size_t)d * es);
        if (mspace >= 0)
            H5Sclose(mspace);
    }
    if (err < 0)
        strata__h5_cause(cause, sizeof cause);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (dset >= 0)
        H5Dclose(dset);
    if (file >= 0 && H5Fclose(file) < 0 && err >= 0) { /* collective */
        err = -1;
        strata__h5_cause(cause, sizeof cause);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    strata__h5_leave(&g);
    int rc = STRATA_OK;
    if (err < 0)
        rc = strata__fail(msg, STRATA_E_IO_FORMAT,
                          "cannot read rows %lld-%lld of '%s' in '%s' through MPI-IO (process "
                          "%d of %d): %s", (long long)lo, (long long)hi - 1, dataset, path,
                          dist->rank, dist->size, cause);
    return dist->agree(dist, rc, msg);
}

int strata__mpi_h5_write_kmeans(const strata__dist *dist, const char *path,
                                const strata__kmeans_output *o, int64_t lo, int64_t hi, int flags,
                                char *msg)
{
    /* The temporary file: process 0 checks the target and creates it, as
     * the serial write does; its name and the time go to all. */
    strata__h5_tmp w = {.fd = -1, .dirfd = -1, .file = -1, .slot = -1};
    struct {
        char tmp[4096];
        char created[32];
    } names = {"", "unknown"};
    strata__h5_guard g;
    int rc = STRATA_OK;
    if (dist->rank == 0) {
        strata__h5_enter(&g);
        rc = strata__h5_tmp_open(&w, path, o->inputs, o->ninputs, flags, 0, msg);
        strata__h5_leave(&g);
        if (!rc && strlen(w.tmp) >= sizeof names.tmp)
            rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot write '%s': its path is too long",
                              path);
        if (!rc) {
            snprintf(names.tmp, sizeof names.tmp, "%s", w.tmp);
            time_t t = time(NULL);
            struct tm tm;
            if (gmtime_r(&t, &tm))
                strftime(names.created, sizeof names.created, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
    }
    rc = dist->bcast(dist, &names, (int64_t)sizeof names, 0, rc, msg);
    if (rc) {
        if (dist->rank == 0) {
            strata__h5_enter(&g);
            strata__h5_tmp_finish(&w, rc);
            strata__h5_leave(&g);
        }
        return rc;
    }
    /* All processes fill it through MPI-IO; /labels by hyperslabs, written
     * collectively. */
    char cause[256] = "";
    strata__h5_enter(&g);
    hid_t fapl = mpio_fapl(dist);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    hid_t file = -1;
    if (fapl >= 0 && dxpl >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0)
        file = H5Fcreate(names.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl); /* collective */
    if (file < 0)
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot create HDF5 file '%s' through MPI-IO "
                          "(process %d of %d): %s", path, dist->rank, dist->size,
                          strata__h5_cause(cause, sizeof cause));
    strata__h5_leave(&g);
    rc = dist->agree(dist, rc, msg); /* H5Fcreate is collective: all or none */
    strata__h5_enter(&g);
    /* Every process makes the same calls (HDF5's metadata is collective);
     * a failure of one shows in the status agreed below. */
    if (!rc)
        rc = strata__h5_kmeans_into(file, path, o, lo, hi, dxpl, names.created, dist->size, msg);
    if (file >= 0 && H5Fclose(file) < 0 && !rc) /* collective */
        rc = strata__fail(msg, STRATA_E_IO_WRITE, "cannot write '%s' (process %d of %d): %s",
                          path, dist->rank, dist->size, strata__h5_cause(cause, sizeof cause));
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    strata__h5_leave(&g);
    rc = dist->agree(dist, rc, msg);
    /* Process 0 commits (sync, rename into place) or removes it. */
    int rc0 = STRATA_OK;
    if (dist->rank == 0) {
        strata__h5_enter(&g);
        rc0 = strata__h5_tmp_finish(&w, rc);
        strata__h5_leave(&g);
    }
    if (rc)
        return rc;
    return dist->agree(dist, rc0, msg);
}
