/* libFuzzer target: two (corrupted) tiered-customer files compared by
 * strata_migrate_h5. Input: a 4-byte little-endian length L, then L bytes of
 * the old file and the rest the new file (a shorter input is one file, used
 * as both). The file against itself must show every customer staying. */
#include "fuzz_common.h"

static void migrate(const char *a, const char *b, int same)
{
    strata_migration *m = NULL;
    int st = strata_migrate_h5(&m, a, b);
    fuzz_status_ok(st);
    if (st != STRATA_OK) {
        if (m)
            abort();
        return;
    }
    int64_t t = -1, n = -1, counts[5], total = 0;
    if (strata_migration_shape(m, &t, &n) != STRATA_OK || t < 1 || n < 0 ||
        strata_migration_counts(m, counts, 5) != STRATA_OK)
        abort();
    for (int i = 0; i < 5; i++)
        total += counts[i];
    if (total != n || (same && counts[STRATA_MOVE_SAME] != n))
        abort();
    if (t <= 64) { /* customers in both tiers are the matrix's sum */
        int64_t mat[64 * 64], sum = 0;
        if (strata_migration_matrix(m, mat, t * t) != STRATA_OK)
            abort();
        for (int64_t i = 0; i < t * t; i++)
            sum += mat[i];
        if (sum != counts[STRATA_MOVE_SAME] + counts[STRATA_MOVE_UP] + counts[STRATA_MOVE_DOWN])
            abort();
    }
    strata_migration_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t len = 0;
    if (size >= 4)
        len = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
              (uint32_t)data[3] << 24;
    if (size < 4 || len > size - 4) {
        const char *one = fuzz_file(data, size);
        migrate(one, one, 1);
        return 0;
    }
    const char *a = fuzz_file(data + 4, len);
    const char *b = fuzz_file_n(1, data + 4 + len, size - 4 - len);
    migrate(a, b, 0);
    migrate(a, a, 1);
    return 0;
}
