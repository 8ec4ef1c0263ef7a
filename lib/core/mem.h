/* Aligned allocation with overflow-checked sizes. */
#ifndef STRATA_CORE_MEM_H
#define STRATA_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

/* 64-byte aligned block of count * size bytes, or NULL on overflow or failure.
 * Free with strata__free(). */
void *strata__alloc(size_t count, size_t size);
/* As strata__alloc, zero-filled. */
void *strata__calloc(size_t count, size_t size);
void strata__free(void *p);

#endif
