/* k-means fitted from a frame's layouts in a file (1-D column datasets, a
 * table): loaded as a frame when the data fit the handle's memory budget,
 * else streamed in blocks through a row source that checks every block as
 * the frame reader checks a whole frame (docs/design.md, "Row sources"). */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kmeans_handle.h"
#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"

/* The stream's reader: the columns' rows, then the frame's finiteness check,
 * so a NaN stops the fit with strata_frame_read_table()'s message. */
typedef struct table_stream {
    strata__h5_cols *cols;
    const strata__h5_frame *head; /* names */
    const char *path;
} table_stream;

static int table_read(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg)
{
    table_stream *t = impl;
    if (dtype != STRATA_FLOAT64) /* the source's own dtype: the engine asks no other */
        return strata__fail(msg, STRATA_E_INTERNAL, "feature columns are read as float64 only");
    int rc = strata__h5_cols_read(t->cols, r0, m, buf, msg);
    return rc ? rc : strata__frame_check_rows(buf, r0, m, t->head->d, t->head->names, t->path, msg);
}

static const strata__rowsrc_ops table_ops = {.read = table_read};

/* In memory: the frame path itself (strata_frame_read_*, fit_frame). */
static int fit_loaded(strata_kmeans *km, const char *path, const char *table,
                      const char *const *columns, int64_t d, const char *key,
                      const strata__steps *steps)
{
    char *msg = strata__kmeans_msg(km);
    strata_frame *f = NULL;
    int rc = strata__step(steps, STRATA_STEP_READ, 0, 0, 1, NAN, msg);
    if (!rc) {
        rc = table ? strata_frame_read_table(&f, path, table, columns, d, key)
                   : strata_frame_read_columns(&f, path, columns, d, key);
        if (rc) { /* the reader's message is in the thread's slot */
            snprintf(msg, STRATA__MSG_LEN, "%s", strata_last_error());
            return rc;
        }
    }
    if (!rc)
        rc = strata__step(steps, STRATA_STEP_READ, 0, 1, 1, NAN, msg);
    if (!rc)
        rc = strata_kmeans_fit_frame(km, f, NULL);
    strata_frame_free(f);
    return rc;
}

static int fit_table(strata_kmeans *km, const char *path, const char *table,
                     const char *const *columns, int64_t d, const char *key,
                     const strata__steps *steps)
{
    char *msg = strata__kmeans_msg(km);
    strata__h5_cols *cols;
    strata__h5_frame head;
    strata__h5_rows_info info;
    int64_t rows, window, memory = 0, block_rows = 0;
    int gaps, keep_chunks; /* no chunk cache for columns (their cache_bytes is 0) */
    /* no budget, no forced blocks: always loaded; skip the columns' open */
    if (strata_kmeans_get_int(km, STRATA_KMEANS_MEMORY, &memory) == STRATA_OK &&
        strata_kmeans_get_int(km, STRATA_KMEANS_BLOCK_ROWS, &block_rows) == STRATA_OK &&
        memory == 0 && block_rows == 0)
        return fit_loaded(km, path, table, columns, d, key, steps);
    int rc = strata__h5_cols_open(path, table, columns, d, key, &cols, &head, &info, msg);
    if (rc)
        return rc;
    /* keys: 8 bytes a row in the frame and 8 in the handle's copy when
     * loaded; 8 streamed (taken over) */
    const int64_t key_bytes = head.key ? 8 : 0;
    rc = strata__frame_check_head(&head, path, msg);
    if (!rc)
        rc = strata__kmeans_plan(km, &info, 2 * key_bytes, key_bytes, &rows, &window, &gaps,
                                 &keep_chunks);
    if (!rc && !rows) {
        strata__h5_cols_close(cols);
        strata__h5_frame_free(&head);
        rc = fit_loaded(km, path, table, columns, d, key, steps);
        if (!rc) /* as strata_kmeans_fit_h5() records a budget that held the data */
            strata__kmeans_budget_used(km);
        return rc;
    }
    if (!rc) {
        table_stream t = {cols, &head, path};
        strata__rowsrc src = {.mem = {STRATA_FLOAT64, NULL, info.n, info.d, info.d, NULL, 0},
                              .ops = &table_ops, .impl = &t, .block_rows = rows};
        rc = strata__kmeans_fit_rows(km, &src, window, gaps);
    }
    strata__h5_cols_close(cols);
    if (!rc) {
        strata__kmeans_set_inputs(km, path, head.names, head.key, head.key_name);
        head.names = NULL;
        head.key = NULL;
        head.key_name = NULL;
    }
    strata__h5_frame_free(&head);
    return rc;
}

int strata_kmeans_fit_h5_columns(strata_kmeans *km, const char *path, const char *const *datasets,
                                 int64_t d, const char *key)
{
    if (!km)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans handle is NULL");
    char *msg = strata__kmeans_msg(km);
    msg[0] = '\0';
    int rc = strata__frame_args("strata_kmeans_fit_h5_columns", path, NULL, datasets, d, msg);
    return rc ? rc : fit_table(km, path, NULL, datasets, d, key, strata__kmeans_steps(km));
}

int strata_kmeans_fit_h5_table(strata_kmeans *km, const char *path, const char *table,
                               const char *const *columns, int64_t d, const char *key)
{
    if (!km)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans handle is NULL");
    char *msg = strata__kmeans_msg(km);
    msg[0] = '\0';
    int rc = strata__frame_args("strata_kmeans_fit_h5_table", path, table, columns, d, msg);
    return rc ? rc : fit_table(km, path, table, columns, d, key, strata__kmeans_steps(km));
}
