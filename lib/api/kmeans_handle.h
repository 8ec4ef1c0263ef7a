/* What the other files of lib/api need of a k-means handle (kmeans_api.c
 * owns its layout): its message buffer, its parameters as an engine
 * configuration, and installing a model fitted outside strata_kmeans_fit(). */
#ifndef STRATA_API_KMEANS_HANDLE_H
#define STRATA_API_KMEANS_HANDLE_H

#include "io/h5.h"
#include "kmeans/kmeans.h"
#include "strata.h"

/* The handle's message buffer (STRATA__MSG_LEN bytes). */
char *strata__kmeans_msg(strata_kmeans *km);

/* Check a matrix argument as strata_kmeans_fit() does into *X, and the
 * handle's parameters into *cfg (cfg->k is the handle's K). */
int strata__kmeans_prepare(strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                           int64_t row_stride, const double *weights, strata__data *X,
                           strata__kmeans_cfg *cfg);

/* Make *m (fitted with cfg) the handle's model, as a successful
 * strata_kmeans_fit() does; *m is emptied (the handle owns its arrays). */
void strata__kmeans_adopt(strata_kmeans *km, strata__kmeans_model *m, const strata__kmeans_cfg *cfg);

/* How a fit of info's rows runs under the handle's STRATA_KMEANS_MEMORY
 * and BLOCK_ROWS (the rule of strata_kmeans_fit_h5()): *block_rows 0 loads
 * them, else they stream in blocks of that many rows (k and given centroids
 * already checked against the shape then). extra_loaded, extra_streamed:
 * bytes a row the caller holds besides the rows and the fit's state (row
 * keys), in either case. *window_rows: a streamed mini-batch fit's window of
 * gathered rows (0: one block's rows), and *gaps whether a streamed fit may
 * keep Hamerly's gaps (2 bytes a row, kmeans/gaps.h) within the budget, to
 * pass to strata__kmeans_fit_rows(); *keep_chunks whether the budget holds
 * info->cache_bytes of compressed chunks (strata__h5_rows_keep_chunks()). */
int strata__kmeans_plan(strata_kmeans *km, const strata__h5_rows_info *info, int64_t extra_loaded,
                        int64_t extra_streamed, int64_t *block_rows, int64_t *window_rows,
                        int *gaps, int *keep_chunks);

/* Fit the rows of src with the handle's parameters (k and given centroids
 * checked against its shape) and make the result the model; window_rows and
 * gaps: the plan's. */
int strata__kmeans_fit_rows(strata_kmeans *km, const strata__rowsrc *src, int64_t window_rows,
                            int gaps);

/* The handle's step callback (strata_kmeans_set_step_progress()). */
const strata__steps *strata__kmeans_steps(const strata_kmeans *km);

/* After a fit: the file it read (strata_kmeans_write_h5() never replaces
 * it), and, taken over (each may be NULL), the model.d feature names, the
 * model.n row keys and the key's name the output records, as
 * strata_kmeans_fit_frame() keeps a frame's. */
void strata__kmeans_set_inputs(strata_kmeans *km, const char *path, char **names, int64_t *key,
                               char *key_name);
/* A fit loaded from a file under a budget (the budget held the data): the
 * budget is recorded as used, as where the fit streamed (its output's
 * "memory" attribute). */
void strata__kmeans_budget_used(strata_kmeans *km);

/* STRATA_STEP_ITERATE's total for a fit of n rows: max_iter, or for
 * mini-batch its step limit, max_iter x n / batch_size (at least 1). */
int64_t strata__kmeans_iter_total(int algorithm, int64_t max_iter, int64_t batch_size, int64_t n);

/* What strata_kmeans_write_h5() writes of the fitted model (borrowed from
 * the handle; source as its argument), or STRATA_E_STATE (not fitted; the
 * handle's message set). */
int strata__kmeans_output_of(strata_kmeans *km, const char *source, strata__kmeans_output *o);

/* The name of a strata_algorithm that HDF5 outputs record (and the CLI's
 * --algorithm takes): "lloyd", "hamerly", "minibatch", "yinyang". */
const char *strata__algorithm_name(int algorithm);

#endif
