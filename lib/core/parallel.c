#define _GNU_SOURCE /* clock_gettime clocks */
#include "core/parallel.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "strata.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Upper bound on the memory held by in-flight partial vectors. */
#define PARTIAL_BUDGET_BYTES ((int64_t)32 << 20)

/* The oversubscription guard. Every region ends in a barrier, so a thread
 * that shares its core with another busy process holds the others up each
 * time, late to start or descheduled mid-chunk (measured: a 0.16 s fit took
 * 0.7-6.7 s with a busy loop on one of two cores). A region whose threads
 * were busy less than half of threads x its wall time was starved; the
 * regions of the next GUARD_NS then use one thread fewer, and a full region
 * tries again after that. Results do not depend on the thread count, so this
 * changes only the speed. Process-wide: it describes the machine, not a
 * handle. */
#define GUARD_NS ((int64_t)500000000)
#define STARVED_MIN_WALL_NS ((int64_t)500000) /* shorter regions say nothing */
static _Atomic int64_t guard_until_ns;
static _Atomic int guard_threads;

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Threads for a region that asks for `threads`: fewer while guarded. */
static int guarded_threads(int threads)
{
    if (clock_ns(CLOCK_MONOTONIC) < atomic_load_explicit(&guard_until_ns, memory_order_relaxed)) {
        int g = atomic_load_explicit(&guard_threads, memory_order_relaxed);
        if (g >= 1 && g < threads)
            return g;
    }
    return threads;
}

static void guard_starved(int used)
{
    atomic_store_explicit(&guard_threads, used > 1 ? used - 1 : 1, memory_order_relaxed);
    atomic_store_explicit(&guard_until_ns, clock_ns(CLOCK_MONOTONIC) + GUARD_NS,
                          memory_order_relaxed);
}

int64_t strata__chunk_count(int64_t n, int64_t chunk_rows)
{
    return n <= 0 ? 0 : (n + chunk_rows - 1) / chunk_rows;
}

int strata__resolve_threads(int64_t requested)
{
    if (requested > 0)
        return requested > 1024 ? 1024 : (int)requested;
#ifdef _OPENMP
    int t = omp_get_max_threads();
    return t > 0 ? t : 1;
#else
    return 1;
#endif
}

static void run_chunk(int64_t n, int64_t chunk_rows, int64_t c, int tid, double *partial,
                      int64_t partial_len, strata__chunk_fn fn, void *ctx)
{
    int64_t begin = c * chunk_rows;
    int64_t end = begin + chunk_rows < n ? begin + chunk_rows : n;
    if (partial)
        memset(partial, 0, (size_t)partial_len * sizeof(double));
    fn(ctx, c, begin, end, tid, partial);
}

int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx)
{
    int64_t nchunks = strata__chunk_count(n, chunk_rows);
    if (nchunks == 0)
        return 0;
    if (threads < 1)
        threads = 1;
    if (threads > nchunks)
        threads = (int)nchunks;

    /* Chunks are processed in batches; a batch's partials are reduced in
     * chunk order before the next batch starts. The batch size changes only
     * memory use and scheduling, never the order of additions. */
    /* Each chunk's partial starts on its own 128-byte pair of cache lines, so
     * threads adding into neighbouring chunks never share a line. */
    const int64_t slot_len = (partial_len + 15) / 16 * 16;
    int64_t batch = nchunks;
    if (partial_len > 0) {
        /* As many chunks per batch as the budget allows: every batch ends in
         * a barrier, and few barriers keep both threads busy. */
        int64_t cap = PARTIAL_BUDGET_BYTES / (slot_len * (int64_t)sizeof(double));
        if (batch > cap)
            batch = cap > threads ? cap : threads;
    }
    double *slots = NULL;
    if (partial_len > 0) {
        slots = strata__alloc((size_t)batch * (size_t)slot_len, sizeof(double));
        if (!slots)
            return STRATA_E_NOMEM;
    }

#ifdef _OPENMP
    if (threads > 1)
        threads = guarded_threads(threads);
#endif
    if (threads == 1) {
#ifdef _OPENMP
        /* A one-thread region whose task-local ICV makes OpenBLAS (and any
         * nested OpenMP) called from a chunk use one thread too. */
#pragma omp parallel num_threads(1)
#endif
        {
#ifdef _OPENMP
            omp_set_num_threads(1);
#endif
            for (int64_t c = 0; c < nchunks; c++) {
                run_chunk(n, chunk_rows, c, 0, slots, partial_len, fn, ctx);
                if (slots)
                    for (int64_t j = 0; j < partial_len; j++)
                        total[j] += slots[j];
            }
        }
    } else {
#ifdef _OPENMP
        int64_t busy = 0; /* CPU time the threads spent on chunks */
        const int64_t start = clock_ns(CLOCK_MONOTONIC);
#pragma omp parallel num_threads(threads) reduction(+ : busy)
        {
            int tid = omp_get_thread_num();
            omp_set_num_threads(1); /* BLAS inside a chunk stays single-threaded */
            const int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            for (int64_t b0 = 0; b0 < nchunks; b0 += batch) {
                int64_t b1 = b0 + batch < nchunks ? b0 + batch : nchunks;
#pragma omp for schedule(dynamic, 1) nowait
                for (int64_t c = b0; c < b1; c++) {
                    double *p = slots ? slots + (c - b0) * slot_len : NULL;
                    run_chunk(n, chunk_rows, c, tid, p, partial_len, fn, ctx);
                }
                if (b1 == nchunks) /* the dynamic loop has no barrier: chunk work only */
                    busy = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
                if (partial_len > 0) {
#pragma omp barrier
                    /* Each total[j] is summed by one thread, in chunk order. */
#pragma omp for schedule(static)
                    for (int64_t j = 0; j < partial_len; j++) {
                        double s = total[j];
                        for (int64_t c = b0; c < b1; c++)
                            s += slots[(c - b0) * slot_len + j];
                        total[j] = s;
                    }
                }
            }
        }
        const int64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
        if (wall > STARVED_MIN_WALL_NS && 2 * busy < (int64_t)threads * wall)
            guard_starved(threads);
#else
        for (int64_t c = 0; c < nchunks; c++) {
            run_chunk(n, chunk_rows, c, 0, slots, partial_len, fn, ctx);
            if (slots)
                for (int64_t j = 0; j < partial_len; j++)
                    total[j] += slots[j];
        }
#endif
    }
    strata__free(slots);
    return 0;
}
