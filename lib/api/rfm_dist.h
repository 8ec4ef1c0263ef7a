/* What a distributed RFM fit (lib/mpi/rfm_mpi.c) needs of a handle: its
 * parameters, checked as a fit checks them, and a way to hold a result
 * computed elsewhere. No MPI here: the MPI layer calls these. */
#ifndef STRATA_API_RFM_DIST_H
#define STRATA_API_RFM_DIST_H

#include "core/scratch.h"
#include "rfm/rfm.h"
#include "strata.h"

struct strata__kernels;

typedef struct strata__rfm_dist {
    strata__rfm_agg_cfg cfg; /* the aggregation settings (not partial) */
    int q, ties, threads;
    const double *cuts[3];           /* q - 1 each with TIES_EDGES */
    const strata__rfm_rules *rules;  /* the handle's rule table */
    const struct strata__kernels *kern;
    strata__scratch *scratch;        /* the handle's temporaries */
    char *msg;                       /* the handle's message */
} strata__rfm_dist;

/* Clears h's message, checks the parameters as strata_rfm_fit() does and
 * fills *d (pointers into h, valid while h's parameters do not change).
 * Returns 0 or a status with d->msg / h's message set. h not NULL. */
int strata__rfm_dist_begin(strata_rfm *h, strata__rfm_dist *d);

/* Make c, scored by s (scores of c's customers; rules: a copy of the
 * handle's rule table is taken) with the cleaning counts rep, h's held
 * result, computed from the file at path; c and s now belong to h.
 * Returns 0 or STRATA_E_NOMEM (c and s released). */
int strata__rfm_dist_hold(strata_rfm *h, strata__rfm_customers *c, const strata__rfm_report *rep,
                          strata__rfm_scores *s, const char *path);

#endif
