/* include/strata_mpi.h from C, under mpirun -np 3 (tests/mpi/CMakeLists.txt):
 * the world is split into two communicators ({0, 1} and {2}) that fit the
 * same file at the same time; on every rank the distributed fit's
 * centroids, labels (through the serial getters), inertia and n_iter must be
 * bitwise those of strata_kmeans_fit_h5() in the same process (libstrata_mpi
 * exports the serial API: the one-process reference). Then a collective write
 * on each communicator, a bad call (k > n) that fails on every rank of a
 * communicator with one message, and a write to an existing file.
 * Usage: test_api_mpi FILE.h5 (written here by rank 0 with libstrata's own
 * writer: 10000 x 3 float64, not a multiple of 4096 rows). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strata_mpi.h"

static int failures;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            failures++;                                                                     \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", wrank, __FILE__, __LINE__);            \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fputc('\n', stderr);                                                            \
        }                                                                                   \
    } while (0)

static int wrank;

static strata_kmeans *handle(int64_t k, int algorithm)
{
    strata_kmeans *km;
    if (strata_kmeans_create(&km) || strata_kmeans_set_int(km, STRATA_KMEANS_K, k) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 5) ||
        strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, algorithm) ||
        strata_kmeans_set_int(km, STRATA_THREADS, 2)) {
        fprintf(stderr, "cannot set up a handle\n");
        exit(2);
    }
    return km;
}

int main(int argc, char **argv)
{
    int provided, wsize;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    if (argc < 2 || wsize != 3) {
        if (wrank == 0)
            fprintf(stderr, "usage: mpirun -np 3 test_api_mpi FILE.h5\n");
        MPI_Finalize();
        return 2;
    }
    const char *path = argv[1];
    enum { N = 10000, D = 3, K = 6 };
    if (wrank == 0) { /* the data: blobs around 6 centres, from a fixed LCG */
        double *x = malloc(sizeof(double) * N * D);
        uint64_t s = 12345;
        for (int i = 0; i < N; i++)
            for (int f = 0; f < D; f++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                double u = (double)(s >> 11) / 9007199254740992.0;
                x[i * D + f] = (double)((i * 7) % 6) * 4.0 * (f + 1) + u;
            }
        if (strata_h5_write_matrix(path, "/x", STRATA_FLOAT64, x, N, D, STRATA_WRITE_FORCE)) {
            fprintf(stderr, "cannot write %s: %s\n", path, strata_last_error());
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        free(x);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Comm comm;
    const int color = wrank < 2 ? 0 : 1;
    MPI_Comm_split(MPI_COMM_WORLD, color, wrank, &comm);
    int crank, csize;
    MPI_Comm_rank(comm, &crank);
    MPI_Comm_size(comm, &csize);

    const int algos[] = {STRATA_ALGO_LLOYD, STRATA_ALGO_HAMERLY};
    for (int a = 0; a < 2; a++) {
        strata_kmeans *ref = handle(K, algos[a]), *dist = handle(K, algos[a]);
        int rc = strata_kmeans_fit_h5(ref, path, "/x");
        CHECK(rc == STRATA_OK, "serial fit: %s", strata_kmeans_last_error(ref));
        rc = strata_kmeans_fit_h5_mpi(dist, comm, path, "/x");
        CHECK(rc == STRATA_OK, "distributed fit: %s", strata_kmeans_last_error(dist));
        double c1[K * D], c2[K * D], i1, i2;
        int64_t it1, it2;
        int32_t *l1 = malloc(sizeof(int32_t) * N), *l2 = malloc(sizeof(int32_t) * N);
        CHECK(!strata_kmeans_centroids(ref, c1, K, D) && !strata_kmeans_centroids(dist, c2, K, D),
              "centroids");
        CHECK(!memcmp(c1, c2, sizeof c1), "centroids differ (algorithm %d, comm %d of %d)",
              algos[a], crank, csize);
        CHECK(!strata_kmeans_labels(ref, l1, N) && !strata_kmeans_labels(dist, l2, N), "labels");
        CHECK(!memcmp(l1, l2, sizeof(int32_t) * N), "labels differ (all n on every rank)");
        CHECK(!strata_kmeans_result_double(ref, STRATA_KMEANS_RESULT_INERTIA, &i1) &&
                  !strata_kmeans_result_double(dist, STRATA_KMEANS_RESULT_INERTIA, &i2) &&
                  !memcmp(&i1, &i2, sizeof i1),
              "inertia %.17g != %.17g", i2, i1);
        CHECK(!strata_kmeans_result_int(ref, STRATA_KMEANS_RESULT_N_ITER, &it1) &&
                  !strata_kmeans_result_int(dist, STRATA_KMEANS_RESULT_N_ITER, &it2) && it1 == it2,
              "n_iter %lld != %lld", (long long)it2, (long long)it1);
        /* the collective write, one file per communicator */
        char out[4096];
        snprintf(out, sizeof out, "%s.out%d.h5", path, color);
        rc = strata_kmeans_write_h5_mpi(dist, comm, out, path, STRATA_WRITE_FORCE);
        CHECK(rc == STRATA_OK, "write: %s", strata_kmeans_last_error(dist));
        MPI_Barrier(comm);
        if (!rc) { /* read back with the serial reader (/labels: the CLI tests) */
            double cb[K * D];
            CHECK(!strata_h5_read_matrix(out, "/centroids", STRATA_FLOAT64, cb, K, D) &&
                      !memcmp(cb, c1, sizeof cb),
                  "/centroids read back differ");
        }
        /* an existing output without FORCE: the same refusal on every rank */
        rc = strata_kmeans_write_h5_mpi(dist, comm, out, path, 0);
        CHECK(rc == STRATA_E_IO_EXISTS, "existing output: %d (%s)", rc,
              strata_kmeans_last_error(dist));
        free(l1);
        free(l2);
        strata_kmeans_free(ref);
        strata_kmeans_free(dist);
    }
    /* k > n on one communicator: every rank fails with the same message */
    strata_kmeans *bad = handle(N + 1, STRATA_ALGO_LLOYD);
    int rc = strata_kmeans_fit_h5_mpi(bad, comm, path, "/x");
    char mine[512], first[512];
    snprintf(mine, sizeof mine, "%s", strata_kmeans_last_error(bad));
    memcpy(first, mine, sizeof first);
    MPI_Bcast(first, sizeof first, MPI_CHAR, 0, comm);
    CHECK(rc == STRATA_E_ARG && !strcmp(mine, first) && strstr(mine, "larger than"),
          "k > n: %d '%s' (rank 0 of the communicator: '%s')", rc, mine, first);
    strata_kmeans_free(bad);
    MPI_Comm_free(&comm);
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (wrank == 0) {
        printf("%s (%d failures)\n", all ? "FAILED" : "all passed", all);
        char out[4096];
        for (int c = 0; c < 2; c++) {
            snprintf(out, sizeof out, "%s.out%d.h5", path, c);
            unlink(out);
        }
        unlink(path);
    }
    MPI_Finalize();
    return all ? 1 : 0;
}
