/* Every allocation of the library goes through here: aligned blocks with
 * overflow-checked sizes, from the allocator the host set with
 * strata_set_allocator() (default: aligned_alloc / free). That single path
 * is what lets tests fail the Nth allocation (tests/test_nomem.c). */
#ifndef STRATA_CORE_MEM_H
#define STRATA_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

/* 64-byte aligned block of count * size bytes, or NULL on overflow or failure.
 * Free with strata__free(). */
void *strata__alloc(size_t count, size_t size);
/* As strata__alloc, zero-filled. */
void *strata__calloc(size_t count, size_t size);
/* A block of new_count elements holding the first old_count of p (which it
 * frees), or NULL on failure with p untouched. */
void *strata__grow(void *p, size_t old_count, size_t new_count, size_t size);
/* A copy of the first n bytes of s (at most) as a string, or NULL. */
char *strata__strndup(const char *s, size_t n);
void strata__free(void *p);

#endif
