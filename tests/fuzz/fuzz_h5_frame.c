/* libFuzzer target: a (corrupted) HDF5 file read as a feature frame by every
 * frame reader: 1-D columns (key found by name, and none), a table (compound
 * "/tx", pandas "table" "/pdt" and "fixed" "/pdf", the group "/cust"; every
 * numeric column, and columns named with a key named) and an n x d matrix
 * "/x" with its feature_names attribute. */
#include "fuzz_common.h"

/* What every frame a reader returns holds (strata.h, "Feature frames"). */
static void check_frame(int st, strata_frame *f)
{
    fuzz_status_ok(st);
    if (st != STRATA_OK) {
        if (f)
            abort(); /* on failure *out is left untouched */
        return;
    }
    int64_t n = -1, d = -1;
    if (strata_frame_shape(f, &n, &d) != STRATA_OK || n < 1 || d < 1)
        abort();
    const double *x = strata_frame_data(f);
    if (!x)
        abort();
    for (int64_t i = 0; i < n * d; i++)
        if (!(x[i] - x[i] == 0.0)) /* finite */
            abort();
    for (int64_t j = 0; j < d; j++) {
        const char *nm = strata_frame_name(f, j);
        if (!nm || !nm[0])
            abort();
        for (int64_t i = 0; i < j; i++)
            if (!strcmp(nm, strata_frame_name(f, i)))
                abort(); /* names are distinct */
    }
    const int64_t *key = strata_frame_key(f);
    if (key) {
        const char *kn = strata_frame_key_name(f);
        if (!kn || !kn[0])
            abort();
        /* keys present and distinct: brute force on small frames */
        for (int64_t i = 0; i < n && n <= 2048; i++) {
            if (key[i] == INT64_MIN)
                abort();
            for (int64_t j = 0; j < i; j++)
                if (key[i] == key[j])
                    abort();
        }
    }
    strata_frame_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    strata_frame *f;
    static const char *const cols[] = {"/cust/recency", "/cust/frequency", "/cust/monetary"};
    f = NULL;
    check_frame(strata_frame_read_columns(&f, path, cols, 3, NULL), f);
    f = NULL;
    check_frame(strata_frame_read_columns(&f, path, cols + 1, 2, ""), f);
    static const char *const tables[] = {"/tx", "/pdt", "/pdf", "/cust"};
    static const char *const named[] = {"monetary", "recency"};
    for (int t = 0; t < 4; t++) {
        f = NULL;
        check_frame(strata_frame_read_table(&f, path, tables[t], NULL, 0, NULL), f);
        f = NULL;
        check_frame(strata_frame_read_table(&f, path, tables[t], named, 2, "customer_id"), f);
    }
    f = NULL;
    check_frame(strata_frame_read_matrix(&f, path, "/x"), f);
    return 0;
}
