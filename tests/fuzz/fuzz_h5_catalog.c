/* libFuzzer target: the catalog of a (corrupted) HDF5 file (strata info).
 * The input is one file. A catalog that opens lists the root first, and
 * every getter answers within bounds; a refusal is a status with a message. */
#include "fuzz_common.h"

static void check_object(const strata_h5_catalog *c, int64_t i)
{
    int64_t dims[32], chunks[32];
    const char *path = strata_h5_catalog_path(c, i);
    int kind = strata_h5_catalog_kind(c, i);
    int rank = strata_h5_catalog_shape(c, i, dims, 32);
    int crank = strata_h5_catalog_chunks(c, i, chunks, 32);
    int use = strata_h5_catalog_use(c, i);
    if (!path || path[0] != '/' || kind < STRATA_H5_GROUP || kind > STRATA_H5_OTHER ||
        rank < -1 || rank > 32 || crank < 0 || crank > 32 || use < STRATA_H5_USE_NONE ||
        use > STRATA_H5_USE_TIERING || !strata_h5_catalog_type(c, i) ||
        !strata_h5_catalog_filters(c, i) || !strata_h5_catalog_columns(c, i) ||
        !strata_h5_catalog_key(c, i))
        abort();
    if (use == STRATA_H5_USE_MATRIX && rank != 2)
        abort();
    if (use == STRATA_H5_USE_TABLE && !strata_h5_catalog_columns(c, i)[0])
        abort();
    int64_t na = strata_h5_catalog_attr_count(c, i);
    if (na < 0 || na > 256)
        abort();
    for (int64_t j = 0; j < na; j++)
        if (!strata_h5_catalog_attr_name(c, i, j) || !strata_h5_catalog_attr_value(c, i, j) ||
            strlen(strata_h5_catalog_attr_value(c, i, j)) > 95)
            abort();
    if (strata_h5_catalog_attr_name(c, i, na) || strata_h5_catalog_attr_value(c, i, -1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    strata_h5_catalog *c = NULL;
    int st = strata_h5_catalog_open(&c, path);
    fuzz_status_ok(st);
    if (st != STRATA_OK) {
        if (c)
            abort();
        return 0;
    }
    int64_t n = strata_h5_catalog_count(c);
    if (n < 1 || strcmp(strata_h5_catalog_path(c, 0), "/") != 0 ||
        strata_h5_catalog_kind(c, 0) != STRATA_H5_GROUP)
        abort();
    for (int64_t i = 0; i < n; i++)
        check_object(c, i);
    if (strata_h5_catalog_path(c, n) || strata_h5_catalog_kind(c, -1) ||
        strata_h5_catalog_shape(c, n, NULL, 0) != -1)
        abort();
    strata_h5_catalog_free(c);
    return 0;
}
