/* libFuzzer target: a (corrupted) HDF5 file read as a transaction log in
 * each layout strata rfm reads: three 1-D columns, a compound table, and
 * pandas' to_hdf() frames (format "table" and "fixed"). A log that fits is
 * fitted again out of core (STRATA_RFM_MEMORY just below what it needs): the
 * same customers and columns, or the budget-too-small error, and nothing
 * left in the temporary folder. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static char spill_dir[64];

static void remove_spill_dir(void)
{
    rmdir(spill_dir);
}

/* The out-of-core fit of a log the in-memory fit h took: same result. */
static void fit_out_of_core(strata_rfm *h, const char *path, const char *table, const char *c,
                            const char *t, const char *a)
{
    int64_t rows = 0, n = 0;
    if (strata_rfm_result_int(h, STRATA_RFM_RESULT_ROWS, &rows) != STRATA_OK ||
        strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &n) != STRATA_OK || rows > 100000)
        return;
    if (!spill_dir[0]) {
        strcpy(spill_dir, "/tmp/fuzz_rfm_spill.XXXXXX");
        if (!mkdtemp(spill_dir))
            abort();
        atexit(remove_spill_dir);
    }
    strata_rfm *o;
    if (strata_rfm_create(&o) != STRATA_OK)
        return;
    if (strata_rfm_set_int(o, STRATA_THREADS, 1) != STRATA_OK ||
        strata_rfm_set_int(o, STRATA_RFM_MEMORY, ((int64_t)24 << 20) + (rows > 0 ? rows * 100 - 1 : 0)) ||
        strata_rfm_set_tmpdir(o, spill_dir) != STRATA_OK)
        abort();
    int st = strata_rfm_fit_h5(o, path, table, c, t, a);
    if (st == STRATA_OK) {
        int64_t m = -1;
        if (strata_rfm_result_int(o, STRATA_RFM_RESULT_CUSTOMERS, &m) != STRATA_OK || m != n)
            abort();
        int64_t *x = malloc((size_t)n * 2 * sizeof *x);
        double *y = malloc((size_t)n * 2 * sizeof *y);
        if (x && y) {
            for (int col = STRATA_RFM_COL_CUSTOMER_ID; col <= STRATA_RFM_COL_SEGMENT; col++)
                if (col != STRATA_RFM_COL_MONETARY &&
                    (strata_rfm_column_int64(h, col, x, n) != STRATA_OK ||
                     strata_rfm_column_int64(o, col, x + n, n) != STRATA_OK ||
                     memcmp(x, x + n, (size_t)n * sizeof *x) != 0))
                    abort();
            if (strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, y, n) != STRATA_OK ||
                strata_rfm_column_double(o, STRATA_RFM_COL_MONETARY, y + n, n) != STRATA_OK ||
                memcmp(y, y + n, (size_t)n * sizeof *y) != 0)
                abort();
        }
        free(x);
        free(y);
    } else if (st != STRATA_E_NOMEM) { /* only the budget can be too small */
        abort();
    }
    strata_rfm_free(o);
    if (rmdir(spill_dir) != 0 || mkdir(spill_dir, 0700) != 0) /* it must be empty */
        abort();
}

static void fit(const char *path, const char *table, const char *c, const char *t, const char *a)
{
    strata_rfm *h;
    if (strata_rfm_create(&h) != STRATA_OK)
        return;
    if (strata_rfm_set_int(h, STRATA_THREADS, 1) != STRATA_OK)
        abort();
    int st = strata_rfm_fit_h5(h, path, table, c, t, a);
    fuzz_status_ok(st);
    if (st == STRATA_OK) {
        int64_t customers = -1;
        if (strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &customers) != STRATA_OK ||
            customers < 1)
            abort(); /* a fit that succeeds has at least one customer */
        fit_out_of_core(h, path, table, c, t, a);
    }
    strata_rfm_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    fit(path, NULL, "/customer", "/day", "/amount");
    fit(path, "/tx", "customer", "day", "amount");
    fit(path, "/pdt", "customer", "day", "amount");
    fit(path, "/pdf", "customer", "day", "amount");
    return 0;
}
