/* Result files assembled from parts (internal to lib/api): the public
 * strata_out handle, and the functions through which each component's
 * handle writes its part into one. */
#ifndef STRATA_API_OUT_H
#define STRATA_API_OUT_H

#include "core/status.h"
#include "io/h5.h"
#include "strata.h"

struct strata_out {
    strata__h5_out *h5;
    char *path;   /* a copy: the writer keeps a pointer to it */
    int failed; /* a part failed: commit discards and returns this code */
    char msg[STRATA__MSG_LEN];   /* the last failure */
    char first[STRATA__MSG_LEN]; /* the first failure: what commit reports */
};

/* The RFM result of h under group of o (lib/api/rfm_api.c); on failure the
 * message is in msg (STRATA__MSG_LEN bytes). */
int strata__rfm_write_into(strata_rfm *h, const strata_out *o, const char *group,
                           const char *source, char *msg);

/* A sweep's table (strata_kmeans_sweep()'s out) as /sweep/... of o: the
 * layout of strata_sweep_write_h5() (lib/api/metrics_api.c); the range and
 * values are checked first. Message in msg. */
int strata__sweep_put(strata__h5_out *o, int64_t k_min, int64_t k_max, const double *table,
                      int64_t suggested_k, int64_t sample_size, char *msg);

/* A part may be added to o: the handle exists and no part failed before
 * (else STRATA_E_STATE); name not NULL, empty or too long. On failure the
 * handle is marked failed (except for a NULL handle). */
int strata__out_ready(strata_out *o, const char *name);
/* Record rc: the first failure is what commit reports. Returns rc. */
int strata__out_done(strata_out *o, int rc);

#endif
