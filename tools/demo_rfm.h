/* The RFM part of `strata demo` (demo_rfm.c). */
#ifndef STRATA_TOOLS_DEMO_RFM_H
#define STRATA_TOOLS_DEMO_RFM_H

#include <stdint.h>

#include "cli.h"

/* Make the transaction log of the n synthetic customers x (synth.h layout),
 * score it, write the result to path (a new file) and print the cleaning
 * report and the segment table. Returns a CLI exit code. */
int demo_rfm(const float *x, int64_t n, int64_t seed, int64_t threads, const char *path);

#endif
