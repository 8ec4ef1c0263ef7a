/* strata_rfm_fit_h5_mpi() against strata_rfm_fit_h5() in the same process,
 * bitwise, through the public getters: under mpirun -np N, every rank fits
 * the log LOG (argv[1], columns /tx/customer_id, /tx/day, /tx/amount as
 * `strata gen transactions` writes them) both ways for every ties mode and
 * several cleaning policies, each rank with its own thread count. Rank 0's
 * distributed handle must hold every customer with the serial columns; every
 * rank's, the serial counts, edges and profiles. A failing distributed fit
 * (a missing file) must fail on every rank with the same status and message
 * and keep the previous result. Exit 0 when all agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata_mpi.h"

static int me, failures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            failures++;                                                   \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", me, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

static int same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

static void setup(strata_rfm *h, int bins, int ties, int negative, int dup, int freq, int mon,
                  int threads)
{
    static const double cuts[3][3] = {{30, 100, 400}, {1, 2, 4}, {20, 60, 200}};
    int rc = strata_rfm_set_int(h, STRATA_RFM_BINS, bins) |
             strata_rfm_set_int(h, STRATA_RFM_TIES, ties) |
             strata_rfm_set_int(h, STRATA_RFM_NEGATIVE, negative) |
             strata_rfm_set_int(h, STRATA_RFM_DUPLICATES, dup) |
             strata_rfm_set_int(h, STRATA_RFM_FREQUENCY_MODE, freq) |
             strata_rfm_set_int(h, STRATA_RFM_MONETARY_MODE, mon) |
             strata_rfm_set_int(h, STRATA_THREADS, threads);
    for (int k = 0; ties == STRATA_RFM_TIES_EDGES && k < 3; k++)
        rc |= strata_rfm_set_edges(h, k, cuts[k], bins - 1);
    CHECK(rc == 0, "parameters: %s", strata_rfm_last_error(h));
}

static void compare(strata_rfm *d, strata_rfm *s, const char *what)
{
    static const int KEYS[] = {STRATA_RFM_RESULT_ROWS, STRATA_RFM_RESULT_ROWS_USED,
                               STRATA_RFM_RESULT_BAD_ID, STRATA_RFM_RESULT_BAD_TIME,
                               STRATA_RFM_RESULT_BAD_AMOUNT, STRATA_RFM_RESULT_NEGATIVE_ROWS,
                               STRATA_RFM_RESULT_ZERO_ROWS, STRATA_RFM_RESULT_DUPLICATE_ROWS,
                               STRATA_RFM_RESULT_RETURN_ONLY_ROWS, STRATA_RFM_RESULT_FIRST_DAY,
                               STRATA_RFM_RESULT_LAST_DAY,
                               STRATA_RFM_RESULT_REFERENCE_DAY_USED, STRATA_RFM_RESULT_BINS_R,
                               STRATA_RFM_RESULT_BINS_F, STRATA_RFM_RESULT_BINS_M,
                               STRATA_RFM_RESULT_UNMATCHED, STRATA_RFM_RESULT_SEGMENTS};
    for (size_t i = 0; i < sizeof KEYS / sizeof *KEYS; i++) {
        int64_t a = -1, b = -2;
        int ra = strata_rfm_result_int(d, KEYS[i], &a), rb = strata_rfm_result_int(s, KEYS[i], &b);
        CHECK(ra == 0 && rb == 0 && a == b, "%s: result %d: %lld != %lld", what, KEYS[i],
              (long long)a, (long long)b);
    }
    int64_t bins = 0, nseg = 0, n = 0, nd = -1;
    (void)!strata_rfm_get_int(s, STRATA_RFM_BINS, &bins);
    (void)!strata_rfm_result_int(s, STRATA_RFM_RESULT_SEGMENTS, &nseg);
    (void)!strata_rfm_result_int(s, STRATA_RFM_RESULT_CUSTOMERS, &n);
    (void)!strata_rfm_result_int(d, STRATA_RFM_RESULT_CUSTOMERS, &nd);
    double ea[101], eb[101];
    for (int k = 0; k < 3; k++) {
        int ra = strata_rfm_edges(d, k, ea, bins + 1), rb = strata_rfm_edges(s, k, eb, bins + 1);
        CHECK(ra == 0 && rb == 0 && same_bits(ea, eb, (size_t)(bins + 1) * sizeof *ea),
              "%s: edges of metric %d differ", what, k);
    }
    double *pa = malloc((size_t)nseg * sizeof *pa), *pb = malloc((size_t)nseg * sizeof *pb);
    for (int st = 0; st < 10; st++) {
        int ra = strata_rfm_profile(d, st, pa, nseg), rb = strata_rfm_profile(s, st, pb, nseg);
        CHECK(ra == 0 && rb == 0 && same_bits(pa, pb, (size_t)nseg * sizeof *pa),
              "%s: profile statistic %d differs", what, st);
    }
    free(pa);
    free(pb);
    if (me != 0)
        return;
    CHECK(nd == n, "%s: rank 0 holds %lld customers, the serial fit %lld", what, (long long)nd,
          (long long)n);
    if (nd != n)
        return;
    int64_t *ia = malloc((size_t)n * 8), *ib = malloc((size_t)n * 8);
    for (int col = 0; col < 16; col++) {
        int ra = strata_rfm_column_int64(d, col, ia, n), rb = strata_rfm_column_int64(s, col, ib, n);
        if (rb != 0) { /* not an integer column */
            ra = strata_rfm_column_double(d, col, (double *)ia, n);
            rb = strata_rfm_column_double(s, col, (double *)ib, n);
        }
        if (rb != 0)
            continue; /* no such column */
        CHECK(ra == 0 && same_bits(ia, ib, (size_t)n * 8), "%s: column %d differs", what, col);
    }
    free(ia);
    free(ib);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    if (argc < 2) {
        fprintf(stderr, "usage: test_rfm_mpi LOG.h5\n");
        MPI_Finalize();
        return 2;
    }
    const char *log = argv[1];
    static const int CASES[][6] = {
        /* bins, ties, negative, duplicates, frequency, monetary */
        {5, STRATA_RFM_TIES_RANK, STRATA_RFM_DROP, STRATA_RFM_KEEP, 0, 0},
        {5, STRATA_RFM_TIES_VALUE, STRATA_RFM_DROP, STRATA_RFM_KEEP, 0, 0},
        {4, STRATA_RFM_TIES_EDGES, STRATA_RFM_DROP, STRATA_RFM_KEEP, 0, 0},
        {10, STRATA_RFM_TIES_RANK, STRATA_RFM_NET, STRATA_RFM_DROP, STRATA_RFM_COUNT_DAYS,
         STRATA_RFM_MEAN},
        {3, STRATA_RFM_TIES_VALUE, STRATA_RFM_NET, STRATA_RFM_DROP, 0, STRATA_RFM_MEAN},
    };
    strata_rfm *d = NULL, *s = NULL;
    if (strata_rfm_create(&d) || strata_rfm_create(&s)) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int ncases = (int)(sizeof CASES / sizeof *CASES);
    for (int c = 0; c < ncases; c++) {
        const int *k = CASES[c];
        char what[64];
        snprintf(what, sizeof what, "case %d (bins %d, ties %d)", c, k[0], k[1]);
        setup(d, k[0], k[1], k[2], k[3], k[4], k[5], 1 + me % 3);
        setup(s, k[0], k[1], k[2], k[3], k[4], k[5], 2);
        int rd = strata_rfm_fit_h5_mpi(d, MPI_COMM_WORLD, log, NULL, "/tx/customer_id",
                                       "/tx/day", "/tx/amount");
        CHECK(rd == 0, "%s: distributed fit: %s", what, strata_rfm_last_error(d));
        int rs = strata_rfm_fit_h5(s, log, NULL, "/tx/customer_id", "/tx/day", "/tx/amount");
        CHECK(rs == 0, "%s: serial fit: %s", what, strata_rfm_last_error(s));
        if (rd == 0 && rs == 0)
            compare(d, s, what);
    }
    /* a failure on every rank, the same message, the previous result kept */
    int64_t before = -1, after = -2;
    (void)!strata_rfm_result_int(d, STRATA_RFM_RESULT_ROWS, &before);
    int rc = strata_rfm_fit_h5_mpi(d, MPI_COMM_WORLD, "/nonexistent/log.h5", NULL,
                                   "/tx/customer_id", "/tx/day", "/tx/amount");
    char msg[512], msg0[512];
    snprintf(msg, sizeof msg, "%s", strata_rfm_last_error(d));
    memcpy(msg0, msg, sizeof msg);
    MPI_Bcast(msg0, (int)sizeof msg0, MPI_CHAR, 0, MPI_COMM_WORLD);
    int rc0 = rc;
    MPI_Bcast(&rc0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CHECK(rc == STRATA_E_IO_OPEN && rc == rc0 && strcmp(msg, msg0) == 0 &&
              strstr(msg, "/nonexistent/log.h5"),
          "missing file: status %d, message '%s' (rank 0: %d, '%s')", rc, msg, rc0, msg0);
    (void)!strata_rfm_result_int(d, STRATA_RFM_RESULT_ROWS, &after);
    CHECK(before == after && before > 0, "the previous result was not kept (%lld, %lld)",
          (long long)before, (long long)after);
    strata_rfm_free(d);
    strata_rfm_free(s);
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("%s: %d failures over all ranks\n", total ? "FAIL" : "PASS", total);
    MPI_Finalize();
    return total ? 1 : 0;
}
