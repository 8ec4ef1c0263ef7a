/*
 * memtrack.h - a tracking allocator for strata_set_allocator(): counts the
 * bytes libstrata has live now and the most it had at once since the last
 * reset, so a test or benchmark can read a fit's peak memory exactly (not the
 * process's ru_maxrss, which also holds the caller's data, HDF5 and the
 * OpenMP runtime).
 *
 *   memtrack_install();            // once, before the first libstrata call
 *   memtrack_reset_peak();         // peak := what is live now
 *   ... strata_kmeans_fit(...) ...
 *   size_t extra = memtrack_peak() - live_before;
 *
 * Counted are the sizes libstrata asks for (already rounded to a multiple of
 * the alignment by lib/core/mem.c), not this allocator's own headers. The free
 * callback is not given the size, so each block carries it in a header of
 * `alignment` bytes in front (at least 16), which keeps the block aligned as
 * asked. Thread-safe (atomics): the library may allocate from its threads.
 * Header-only (static functions): included by tests/ and bench/.
 */
#ifndef STRATA_TEST_MEMTRACK_H
#define STRATA_TEST_MEMTRACK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "strata.h"

static _Atomic size_t memtrack_cur_, memtrack_peak_;

static void *memtrack_alloc_(size_t size, size_t alignment, void *user)
{
    (void)user;
    size_t head = alignment < 16 ? 16 : alignment;
    if (size > SIZE_MAX - head)
        return NULL;
    char *base = aligned_alloc(head, head + size); /* head + size: a multiple of head */
    if (!base)
        return NULL;
    char *p = base + head;
    ((size_t *)p)[-1] = size;
    ((size_t *)p)[-2] = head;
    size_t now = atomic_fetch_add(&memtrack_cur_, size) + size;
    size_t peak = atomic_load(&memtrack_peak_);
    while (now > peak && !atomic_compare_exchange_weak(&memtrack_peak_, &peak, now))
        ;
    return p;
}

static void memtrack_free_(void *ptr, void *user)
{
    (void)user;
    char *p = ptr;
    size_t size = ((size_t *)p)[-1], head = ((size_t *)p)[-2];
    atomic_fetch_sub(&memtrack_cur_, size);
    free(p - head);
}

/** Route libstrata's allocations through the tracker; 0 on success. Call it
 *  before any handle exists (blocks of the C library's allocator have no header). */
static inline int memtrack_install(void)
{
    return strata_set_allocator(memtrack_alloc_, memtrack_free_, NULL) == STRATA_OK ? 0 : -1;
}

/** Bytes libstrata holds now. */
static inline size_t memtrack_current(void)
{
    return atomic_load(&memtrack_cur_);
}

/** Most bytes libstrata held at once since the last reset. */
static inline size_t memtrack_peak(void)
{
    return atomic_load(&memtrack_peak_);
}

/** Start a new peak from what is live now. */
static inline void memtrack_reset_peak(void)
{
    atomic_store(&memtrack_peak_, atomic_load(&memtrack_cur_));
}

#endif
