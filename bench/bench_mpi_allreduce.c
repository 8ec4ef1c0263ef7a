/*
 * bench_mpi_allreduce - seconds per MPI_Allreduce of the message a
 * distributed Lloyd iteration of libstrata_mpi exchanges (docs/distributed.md).
 * MPI only (built with -DSTRATA_MPI=ON); run under mpirun:
 *
 *   mpirun -np 2 build-mpi/bench/bench_mpi_allreduce [--n 1M,100M] [--kd 8x16,64x16]
 *          [--reps 200]
 *
 * Per pass, libstrata_mpi (lib/mpi/dist_mpi.c) makes one all-reduce of one
 * buffer of B = 1712 + 8 cap len bytes, the serialised tree sum (a header
 * with the status and its message, then cap = 2 (floor(log2 C) + 1)
 * vectors of len = k d + 2k + 2 doubles, C = ceil(n / 4096) chunks) with a
 * non-commutative user operation that copies its left operand, adds the
 * vectors it merges and copies the result back; the other exchanges begin
 * with an all-reduce of one int (the status), timed here too ("status").
 * This program times both with the same sizes and an operation of the
 * same work (two copies of B bytes and cap / 2 vector additions; the
 * library's merge adds at most that many), min and median over --reps
 * after 20 warm-up calls, and prints one JSON line per case from rank 0.
 */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD 1712 /* sizeof(packed_head) in lib/mpi/dist_mpi.c */

static int64_t g_len, g_cap;

static void merge_op(void *in, void *inout, int *count, MPI_Datatype *type)
{
    MPI_Aint lb, extent;
    MPI_Type_get_extent(*type, &lb, &extent);
    char *tmp = malloc((size_t)extent);
    if (!tmp)
        return;
    memcpy(tmp, in, (size_t)extent);
    double *a = (double *)(tmp + HEAD);
    const double *b = (const double *)((char *)inout + HEAD);
    for (int64_t v = 0; v < g_cap / 2; v++)
        for (int64_t j = 0; j < g_len; j++)
            a[v * g_len + j] += b[v * g_len + j];
    memcpy(inout, tmp, (size_t)extent);
    free(tmp);
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int64_t parse_count(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'K' || *end == 'k')
        v *= 1e3;
    else if (*end == 'M' || *end == 'm')
        v *= 1e6;
    else if (*end == 'G' || *end == 'g')
        v *= 1e9;
    return (int64_t)v;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *ns = "1M,100M", *kds = "8x16,64x16,256x32";
    int reps = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n"))
            ns = argv[i + 1];
        else if (!strcmp(argv[i], "--kd"))
            kds = argv[i + 1];
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
    }
    MPI_Op op;
    MPI_Op_create(merge_op, 0, &op);
    double *t = malloc((size_t)reps * sizeof(double));
    /* the status all-reduce: 4 bytes */
    {
        int v = rank;
        for (int r = 0; r < 20; r++)
            MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
            t[r] = MPI_Wtime() - t0;
        }
        MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        qsort(t, (size_t)reps, sizeof *t, cmp);
        if (rank == 0)
            printf("{\"what\": \"status\", \"ranks\": %d, \"bytes\": 4, \"min_us\": %.2f, "
                   "\"median_us\": %.2f}\n", size, t[0] * 1e6, t[reps / 2] * 1e6);
    }
    char nbuf[256], kbuf[256];
    snprintf(nbuf, sizeof nbuf, "%s", ns);
    for (char *np = nbuf; np && *np;) {
        char *ncomma = strchr(np, ',');
        if (ncomma)
            *ncomma = '\0';
        const int64_t n = parse_count(np), C = (n + 4095) / 4096;
        np = ncomma ? ncomma + 1 : NULL;
        int levels = 0;
        while (levels < 63 && ((int64_t)1 << levels) <= C)
            levels++;
        snprintf(kbuf, sizeof kbuf, "%s", kds);
        for (char *kp = kbuf; kp && *kp;) {
            char *comma = strchr(kp, ',');
            if (comma)
                *comma = '\0';
            int64_t k = atoll(kp), d = atoll(strchr(kp, 'x') ? strchr(kp, 'x') + 1 : "1");
            g_len = k * d + 2 * k + 2;
            g_cap = 2 * levels;
            const int64_t bytes = HEAD + 8 * g_cap * g_len;
            char *buf = calloc((size_t)bytes, 1);
            MPI_Datatype type;
            MPI_Type_contiguous((int)bytes, MPI_BYTE, &type);
            MPI_Type_commit(&type);
            for (int r = 0; r < 20; r++)
                MPI_Allreduce(MPI_IN_PLACE, buf, 1, type, op, MPI_COMM_WORLD);
            for (int r = 0; r < reps; r++) {
                MPI_Barrier(MPI_COMM_WORLD);
                double t0 = MPI_Wtime();
                MPI_Allreduce(MPI_IN_PLACE, buf, 1, type, op, MPI_COMM_WORLD);
                t[r] = MPI_Wtime() - t0;
            }
            MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            qsort(t, (size_t)reps, sizeof *t, cmp);
            if (rank == 0)
                printf("{\"what\": \"tree\", \"ranks\": %d, \"n\": %lld, \"chunks\": %lld, "
                       "\"k\": %lld, \"d\": %lld, \"cap\": %lld, \"len\": %lld, \"bytes\": %lld, "
                       "\"min_us\": %.2f, \"median_us\": %.2f}\n",
                       size, (long long)n, (long long)C, (long long)k, (long long)d,
                       (long long)g_cap, (long long)g_len, (long long)bytes, t[0] * 1e6,
                       t[reps / 2] * 1e6);
            MPI_Type_free(&type);
            free(buf);
            kp = comma ? comma + 1 : NULL;
        }
    }
    free(t);
    MPI_Op_free(&op);
    MPI_Finalize();
    return 0;
}
