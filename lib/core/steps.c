#include "core/steps.h"

#include "core/status.h"

const char *strata_step_name(int step)
{
    switch (step) {
    case STRATA_STEP_READ: return "read";
    case STRATA_STEP_SEED: return "seed";
    case STRATA_STEP_ITERATE: return "iterate";
    case STRATA_STEP_AGGREGATE: return "aggregate";
    case STRATA_STEP_SCORE: return "score";
    case STRATA_STEP_WRITE: return "write";
    case STRATA_STEP_SILHOUETTE: return "silhouette";
    default: return "unknown";
    }
}

int strata__step(const strata__steps *s, int step, int64_t run, int64_t done, int64_t total,
                 double value, char *msg)
{
    if (!s || !s->fn || !s->fn(s->user, step, run, done, total, value))
        return STRATA_OK;
    return strata__fail(msg, STRATA_E_CANCELLED, "cancelled by the step callback at step '%s' "
                        "(%lld of %lld)", strata_step_name(step), (long long)done,
                        (long long)total);
}
