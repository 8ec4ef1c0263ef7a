/* libFuzzer target: a (corrupted) HDF5 file read as a transaction log in
 * each layout strata rfm reads: three 1-D columns, a compound table, and
 * pandas' to_hdf() frames (format "table" and "fixed"). */
#include "fuzz_common.h"

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
        if (strata_rfm_result_int(h, STRATA_RFM_CUSTOMERS, &customers) != STRATA_OK ||
            customers < 1)
            abort(); /* a fit that succeeds has at least one customer */
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
