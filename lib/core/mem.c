#include "core/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

#define ALIGNMENT 64

/* The host's allocator (both NULL: the C library's). Read with relaxed
 * atomics: strata_set_allocator() may not race with other calls anyway, the
 * atomics only keep that rule from being undefined behaviour. */
static _Atomic(strata_alloc_fn) host_alloc;
static _Atomic(strata_free_fn) host_free;
static _Atomic(void *) host_user;

int strata_set_allocator(strata_alloc_fn alloc, strata_free_fn release, void *user)
{
    if (!alloc != !release)
        return STRATA_E_NULL;
    atomic_store_explicit(&host_alloc, alloc, memory_order_relaxed);
    atomic_store_explicit(&host_free, release, memory_order_relaxed);
    atomic_store_explicit(&host_user, user, memory_order_relaxed);
    return STRATA_OK;
}

void *strata__alloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    if (count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    bytes = (bytes + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1); /* aligned_alloc needs a multiple */
    if (bytes == 0)
        return NULL;
    strata_alloc_fn alloc = atomic_load_explicit(&host_alloc, memory_order_relaxed);
    if (alloc)
        return alloc(bytes, ALIGNMENT, atomic_load_explicit(&host_user, memory_order_relaxed));
    return aligned_alloc(ALIGNMENT, bytes);
}

void *strata__calloc(size_t count, size_t size)
{
    void *p = strata__alloc(count, size);
    if (p && count > 0 && size > 0)
        memset(p, 0, count * size);
    return p;
}

void *strata__grow(void *p, size_t old_count, size_t new_count, size_t size)
{
    void *q = strata__alloc(new_count, size);
    if (!q)
        return NULL;
    if (p && old_count)
        memcpy(q, p, (old_count < new_count ? old_count : new_count) * size);
    strata__free(p);
    return q;
}

char *strata__strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *c = strata__alloc(len + 1, 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

void strata__free(void *p)
{
    if (!p)
        return;
    strata_free_fn release = atomic_load_explicit(&host_free, memory_order_relaxed);
    if (release)
        release(p, atomic_load_explicit(&host_user, memory_order_relaxed));
    else
        free(p);
}
