/* Pieces of lib/api/profile_api.c other public functions build on (a tiered
 * customer file holds a profile under /profile). Internal to lib/api. */
#ifndef STRATA_API_PROFILE_H
#define STRATA_API_PROFILE_H

#include "io/h5.h"
#include "strata.h"

/* Write p into the open file o under `group` (e.g. "/profile"): the layout of
 * strata_profile_write_h5(). Returns a status; the message is o's. */
int strata__profile_put(strata__h5_out *o, const char *group, const strata_profile *p);

/* Lifecycle thresholds (NULL: the defaults) checked into thr; msg as
 * strata__fail(). */
int strata__lifecycle_thresholds(const int64_t thresholds[3], int64_t thr[3], char *msg);

#endif
