/* Functions shared between the handles of lib/api (internal). */
#ifndef STRATA_API_INTERNAL_H
#define STRATA_API_INTERNAL_H

#include <stdint.h>

#include "io/h5.h"
#include "strata.h"

/* Memory budgets (STRATA_KMEANS_MEMORY): what a fit_h5 needs besides the
 * rows (the per-row state), a fixed allowance for the centroids, the tables,
 * per-chunk sums, the library's own code and HDF5's caches (a streamed
 * 10M x 16 fit measured 21 MiB beyond its labels and blocks, with the
 * Python interpreter's baseline taken off); strata_model_predict_h5() keeps
 * the same allowance. */
#define STRATA__FIT_FIXED_BYTES ((int64_t)24 << 20)
/* Compressed chunks (beyond libhdf5's cache) a read holds while it
 * decompresses one whole: its buffers for the chunk and its compressed
 * bytes, and what the allocator keeps of them, in chunks (measured: chunks
 * of 12 MB took a 30M fit to 46 MB) */
#define STRATA__CHUNKS_DECOMPRESSING 3

/* What a streamed read of the file of `info` holds of its compressed chunks
 * at most: the chunk rows its own inflating reads keep (kept_bytes) and
 * libhdf5's decompressing of the other datasets' (columns), else libhdf5's
 * decompressing (STRATA__CHUNKS_DECOMPRESSING of the largest). */
static inline int64_t strata__streamed_chunk_bytes(const strata__h5_rows_info *info)
{
    return info->kept_bytes
               ? info->kept_bytes + STRATA__CHUNKS_DECOMPRESSING * info->unkept_filtered_bytes
               : STRATA__CHUNKS_DECOMPRESSING * info->filtered_chunk_bytes;
}

/* strata_kmeans_predict() of float64 rows against the k x d centroids c
 * instead of the handle's model, with the handle's KERNEL and THREADS;
 * messages into msg (may be NULL: the thread's slot only). Writes nothing
 * into the handle (safe from many threads at once). */
int strata__kmeans_predict_with(const strata_kmeans *km, const double *c, int64_t k,
                                const double *x, int64_t n, int64_t d, int32_t *labels, char *msg);

/* The handle's STRATA_THREADS, resolved (>= 1). */
int strata__kmeans_threads(const strata_kmeans *km);

/* Write the fitted model m under `group` (e.g. "/model") of an open output
 * file (the layout of docs/tiers.md, "Models"); strata_model_write_h5()
 * and the larger result files that hold a model use it. */
int strata__model_write_group(const strata_model *m, strata__h5_out *o, const char *group);

/* For model_io.c (strata_model is defined in model_api.c): the fitted model
 * (NULL if none); taking one loaded from path:group over (f is left empty;
 * STRATA_E_NOMEM possible); where it was loaded from ("path:group", NULL
 * for a model fitted here); the message buffer of the handle. */
struct strata__tier_model;
const struct strata__tier_model *strata__model_fitted(const strata_model *m);
int strata__model_adopt(strata_model *m, struct strata__tier_model *f, const char *path,
                        const char *group);
const char *strata__model_read_from(const strata_model *m);
/* The file a loaded model was read from (known 0 for a model fitted here):
 * every write through the handle refuses to replace it. */
const strata__file_id *strata__model_file(const strata_model *m);
/* strata_model_predict() of rows that are a block of larger data, starting
 * at its row r0: the messages number the rows from r0. */
int strata__model_predict_rows(const strata_model *m, const double *x, int64_t r0, int64_t n,
                               int64_t d, int64_t row_stride, int32_t *labels, int32_t *tiers);
char *strata__model_msg(strata_model *m);

/* The argument checks of the readers of column datasets (table NULL) and
 * of tables (columns NULL: every numeric column, d 0), named after fn, with
 * the message into msg (NULL: the thread's slot only). */
int strata__frame_args(const char *fn, const char *path, const char *table,
                       const char *const *columns, int64_t d, char *msg);

/* The checks every frame passes (frame_api.c), for readers that stream a
 * frame's rows instead of holding them: names (non-empty, distinct) and keys
 * (present, distinct) of f (x may be NULL); every value of the m x d rows x,
 * rows r0.. of the frame, finite. Messages start with `where` and go to msg
 * (NULL: the thread's slot only), as strata_frame_read_table()'s do. */
int strata__frame_check_head(const strata__h5_frame *f, const char *where, char *msg);
int strata__frame_check_rows(const double *x, int64_t r0, int64_t m, int64_t d,
                             char *const *names, const char *where, char *msg);

#endif
