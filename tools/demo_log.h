/* The transaction log of `strata demo` (demo_log.c). */
#ifndef STRATA_TOOLS_DEMO_LOG_H
#define STRATA_TOOLS_DEMO_LOG_H

#include <stdint.h>

#include "cli.h"

/* Make the transaction log of the n synthetic customers x (synth.h layout:
 * one row per order, with a few returns, lost amounts and double-logged
 * orders) and write it to path (a new file) as /tx/customer_id, /tx/day and
 * /tx/amount; *rows gets its length and *today the day the data end on.
 * Returns a CLI exit code. */
int demo_write_log(const float *x, int64_t customers, int64_t seed, const char *path,
                   int64_t *rows, int64_t *today);

#endif
