/* libFuzzer target: the parameter setters, edges and segment rules of both
 * handles driven by arbitrary bytes, then fits on a small fixed data set.
 * Whatever was accepted must give a fit that succeeds or fails with a
 * documented status and a message; a rejected value must leave the
 * parameter as it was. */
#include <math.h>

#include "fuzz_common.h"

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static uint64_t take(reader *r, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && r->left; i++, r->left--)
        v |= (uint64_t)*r->p++ << (8 * i);
    return v;
}

static int64_t take_int(reader *r)
{
    switch (take(r, 1) & 3) { /* small values are where the edges are */
    case 0: return (int64_t)(int8_t)take(r, 1);
    case 1: return (int64_t)(int16_t)take(r, 2);
    case 2: return (int64_t)(int32_t)take(r, 4);
    default: return (int64_t)take(r, 8);
    }
}

static double take_double(reader *r)
{
    uint64_t bits = take(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static const int kmeans_params[] = {STRATA_KMEANS_K, STRATA_KMEANS_MAX_ITER, STRATA_KMEANS_TOL,
                                    STRATA_KMEANS_INIT, STRATA_KMEANS_SEED, STRATA_KMEANS_N_INIT,
                                    STRATA_KMEANS_ALGORITHM, STRATA_KMEANS_ASSIGN, STRATA_THREADS,
                                    STRATA_KERNEL, STRATA_KMEANS_ALLOW_TOO_FEW, STRATA_KMEANS_BATCH_SIZE,
                                    STRATA_KMEANS_MAX_NO_IMPROVEMENT,
                                    STRATA_KMEANS_REASSIGNMENT_RATIO, 0, -1, 99, 113, 402};
static const int rfm_params[] = {STRATA_RFM_BINS, STRATA_RFM_TIES, STRATA_RFM_REFERENCE_DAY,
                                 STRATA_RFM_FREQUENCY_MODE, STRATA_RFM_MONETARY_MODE,
                                 STRATA_RFM_NEGATIVE, STRATA_RFM_ZERO, STRATA_RFM_DUPLICATES,
                                 STRATA_RFM_TIME_UNIT, STRATA_RFM_MIN_DAY, STRATA_RFM_MAX_DAY,
                                 STRATA_RFM_MIN_ID, STRATA_THREADS, STRATA_KERNEL, 199, 212};
#define COUNT(a) (sizeof(a) / sizeof(a)[0])

static void fuzz_kmeans(reader *r)
{
    strata_kmeans *km;
    if (strata_kmeans_create(&km) != STRATA_OK)
        return;
    for (int step = 0; step < 12 && r->left; step++) {
        int param = kmeans_params[take(r, 1) % COUNT(kmeans_params)];
        int64_t before_i = 0, after_i = 0;
        double before_d = 0, after_d = 0;
        int has_i = strata_kmeans_get_int(km, param, &before_i) == STRATA_OK;
        int has_d = strata_kmeans_get_double(km, param, &before_d) == STRATA_OK;
        int st = (take(r, 1) & 1) ? strata_kmeans_set_double(km, param, take_double(r))
                                  : strata_kmeans_set_int(km, param, take_int(r));
        fuzz_status_ok(st);
        if (st != STRATA_OK) { /* a rejected value changes nothing */
            if (has_i && (strata_kmeans_get_int(km, param, &after_i) != STRATA_OK ||
                          after_i != before_i))
                abort();
            if (has_d && (strata_kmeans_get_double(km, param, &after_d) != STRATA_OK ||
                          memcmp(&after_d, &before_d, sizeof after_d) != 0))
                abort();
        }
    }
    /* A fit on 200 rows, unless the accepted work bounds make it long. */
    int64_t n_init = 1, max_iter = 1;
    if (strata_kmeans_get_int(km, STRATA_KMEANS_N_INIT, &n_init) != STRATA_OK ||
        strata_kmeans_get_int(km, STRATA_KMEANS_MAX_ITER, &max_iter) != STRATA_OK)
        abort();
    if (n_init * max_iter <= 2000) {
        float x[200][3];
        for (int i = 0; i < 200; i++)
            for (int j = 0; j < 3; j++)
                x[i][j] = (float)((i * 37 + j * 11) % 23) + (float)(i % 4) * 100.0f;
        int st = strata_kmeans_fit(km, STRATA_FLOAT32, x, 200, 3, 0, NULL);
        fuzz_status_ok(st);
        if (st == STRATA_OK) {
            double inertia;
            if (strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia) != STRATA_OK ||
                !(inertia >= 0) || isinf(inertia))
                abort();
        }
    }
    strata_kmeans_free(km);
}

static void fuzz_rfm(reader *r)
{
    strata_rfm *h;
    if (strata_rfm_create(&h) != STRATA_OK)
        return;
    for (int step = 0; step < 12 && r->left; step++) {
        unsigned what = (unsigned)take(r, 1) % 8;
        if (what < 6) {
            int param = rfm_params[take(r, 1) % COUNT(rfm_params)];
            int64_t before = 0, after = 0;
            int has = strata_rfm_get_int(h, param, &before) == STRATA_OK;
            int st = strata_rfm_set_int(h, param, take_int(r));
            fuzz_status_ok(st);
            if (st != STRATA_OK && has &&
                (strata_rfm_get_int(h, param, &after) != STRATA_OK || after != before))
                abort();
        } else if (what == 6) {
            double cuts[8];
            int64_t nc = (int64_t)(take(r, 1) % 9);
            for (int64_t i = 0; i < nc; i++)
                cuts[i] = take_double(r);
            int metric = (int)(take(r, 1) % 4) - 0;
            fuzz_status_ok(strata_rfm_set_edges(h, metric, nc ? cuts : NULL, nc));
        } else {
            char names[4][16];
            const char *ptrs[4];
            int32_t bounds[4 * STRATA_RFM_RULE_NCOLS];
            int64_t nr = (int64_t)(take(r, 1) % 5);
            for (int64_t i = 0; i < nr; i++) {
                size_t len = (size_t)(take(r, 1) % 16);
                for (size_t c = 0; c < len; c++)
                    names[i][c] = (char)take(r, 1);
                names[i][len == 16 ? 15 : len] = '\0';
                ptrs[i] = names[i];
                for (int c = 0; c < STRATA_RFM_RULE_NCOLS; c++)
                    bounds[i * STRATA_RFM_RULE_NCOLS + c] = (int32_t)take_int(r);
            }
            fuzz_status_ok(strata_rfm_set_segments(h, nr, nr ? ptrs : NULL, nr ? bounds : NULL,
                                                   STRATA_RFM_RULE_NCOLS));
        }
    }
    int64_t id[300], t[300];
    double amount[300];
    for (int i = 0; i < 300; i++) {
        id[i] = (i * 7919) % 61;
        t[i] = 18000 + (i * 31) % 400;
        amount[i] = (double)((i * 53) % 200) / 4.0 - 5.0;
    }
    int st = strata_rfm_fit(h, id, t, amount, 300);
    fuzz_status_ok(st);
    if (st == STRATA_OK) {
        int64_t nc = 0;
        if (strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &nc) != STRATA_OK || nc < 1 || nc > 61)
            abort();
        double *m = malloc((size_t)nc * sizeof *m);
        if (m && strata_rfm_column_double(h, STRATA_RFM_COL_MONETARY, m, nc) == STRATA_OK)
            for (int64_t i = 0; i < nc; i++)
                if (!isfinite(m[i]))
                    abort();
        free(m);
    }
    strata_rfm_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    if (take(&r, 1) & 1)
        fuzz_rfm(&r);
    else
        fuzz_kmeans(&r);
    return 0;
}
