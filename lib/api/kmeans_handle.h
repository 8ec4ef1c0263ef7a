/* What the other files of lib/api need of a k-means handle (kmeans_api.c
 * owns its layout): its message buffer, its parameters as an engine
 * configuration, and installing a model fitted outside strata_kmeans_fit(). */
#ifndef STRATA_API_KMEANS_HANDLE_H
#define STRATA_API_KMEANS_HANDLE_H

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

/* The name of a strata_algorithm that HDF5 outputs record (and the CLI's
 * --algorithm takes): "lloyd", "hamerly", "minibatch", "yinyang". */
const char *strata__algorithm_name(int algorithm);

#endif
