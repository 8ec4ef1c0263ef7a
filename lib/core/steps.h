/* Step reports (strata_step_fn) made by the API, the engines and the readers:
 * one helper so that every cancellation has the same status and message. */
#ifndef STRATA_CORE_STEPS_H
#define STRATA_CORE_STEPS_H

#include <stdint.h>

#include "strata.h"

/* A step callback and its user pointer; fn NULL: nothing is reported. */
typedef struct strata__steps {
    strata_step_fn fn;
    void *user;
} strata__steps;

/* Report a step to s (NULL or without fn: nothing). When the callback asks
 * to stop: STRATA_E_CANCELLED with a message naming the step into msg. */
int strata__step(const strata__steps *s, int step, int64_t run, int64_t done, int64_t total,
                 double value, char *msg);

#endif
