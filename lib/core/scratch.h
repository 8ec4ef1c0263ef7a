/* A block of scratch memory kept between calls by an engine's handle.
 *
 * Large temporaries cost more in page faults than in use: on a virtual
 * machine the first touch of memory that the host has taken back costs about
 * 3 s/GB, ten times the work done on it. A handle reuses its block from one
 * phase to the next and from one call to the next instead of asking for
 * fresh pages. The block only grows; it is freed with the handle. */
#ifndef STRATA_CORE_SCRATCH_H
#define STRATA_CORE_SCRATCH_H

#include <stddef.h>

typedef struct strata__scratch {
    void *p;
    size_t size;
} strata__scratch;

/* At least `bytes` bytes, 64-byte aligned, contents undefined; NULL when out
 * of memory (the block then stays as it was). *fresh (if not NULL) is set
 * to 1 when the memory was just allocated (never touched), else 0. */
void *strata__scratch_get(strata__scratch *s, size_t bytes, int *fresh);

void strata__scratch_free(strata__scratch *s);

/* Touch bytes [0, bytes) of a fresh block, in order and on up to `threads`
 * threads, before a pass writes it in several streams at once: the page
 * faults are then taken in parallel, in address order, outside the pass.
 * Returns 0 or STRATA_E_NOMEM. */
int strata__prefault(void *p, size_t bytes, int threads);

#endif
