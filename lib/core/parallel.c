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

/* The ordered reduction holds the partial sums of one batch of chunks at a
 * time, never one slot per chunk: memory that grows with n would break the
 * "peak <= data + 25%" goal (4 B/row at k = 256, d = 6). A batch takes as many
 * slots as fit in SLOT_BUDGET_BYTES, at least MIN_CHUNKS_PER_THREAD per thread
 * so the dynamic schedule stays balanced. The byte budget also fixes a batch's
 * work: a chunk's work grows with its partial (k d distances a row for k d +
 * 2 k sums), so a batch is ~32K doubles x 4096 rows of work whatever k is,
 * milliseconds against the microseconds of its barriers. */
#define SLOT_BUDGET_BYTES ((int64_t)256 << 10)
#define MIN_CHUNKS_PER_THREAD 4

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

/* s + the first `count` slots' values at `first`, one slot of slot_len apart,
 * added in slot (= chunk) order. */
static double add_slots(double s, const double *first, int64_t slot_len, int64_t count)
{
    for (int64_t c = 0; c < count; c++)
        s += first[c * slot_len];
    return s;
}

int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx)
{
    return strata__parallel_chunk_range(n, chunk_rows, 0, strata__chunk_count(n, chunk_rows),
                                        threads, partial_len, total, fn, ctx);
}

int strata__parallel_chunk_range(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                 int threads, int64_t partial_len, double *total,
                                 strata__chunk_fn fn, void *ctx)
{
    /* Chunks c0 .. c1-1 are run as chunks 0 .. nchunks-1 shifted by c0. */
    int64_t nchunks = c1 - c0;
    if (nchunks <= 0)
        return 0;
    if (threads < 1)
        threads = 1;
    if (threads > nchunks)
        threads = (int)nchunks;
#ifdef _OPENMP
    if (threads > 1)
        threads = guarded_threads(threads);
#else
    threads = 1;
#endif

    /* Chunks are processed in batches; a batch's partials are added into the
     * total in chunk order before the next batch starts. The batch size
     * changes only memory use and scheduling, never the order of additions.
     * Each chunk's partial starts on its own 128-byte pair of cache lines, so
     * threads adding into neighbouring chunks never share a line. One thread
     * reduces each chunk as soon as it is done: one slot. */
    const int64_t slot_len = (partial_len + 15) / 16 * 16;
    int64_t batch = 1;
    if (threads > 1) {
        batch = nchunks;
        if (partial_len > 0) {
            int64_t fit = SLOT_BUDGET_BYTES / (slot_len * (int64_t)sizeof(double));
            fit -= fit % threads; /* whole rounds of the threads */
            if (fit < (int64_t)MIN_CHUNKS_PER_THREAD * threads)
                fit = (int64_t)MIN_CHUNKS_PER_THREAD * threads;
            if (batch > fit)
                batch = fit;
        }
    }
    double *slots = NULL;
    if (partial_len > 0) {
        slots = strata__alloc((size_t)batch * (size_t)slot_len, sizeof(double));
        if (!slots)
            return STRATA_E_NOMEM;
    }

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
                run_chunk(n, chunk_rows, c0 + c, 0, slots, partial_len, fn, ctx);
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
            for (int64_t b0 = 0; b0 < nchunks; b0 += batch) {
                int64_t b1 = b0 + batch < nchunks ? b0 + batch : nchunks;
                /* Chunk work only: not the waits at the barriers, nor the
                 * reduction (the dynamic loop has no barrier). */
                const int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
#pragma omp for schedule(dynamic, 1) nowait
                for (int64_t c = b0; c < b1; c++) {
                    double *p = slots ? slots + (c - b0) * slot_len : NULL;
                    run_chunk(n, chunk_rows, c0 + c, tid, p, partial_len, fn, ctx);
                }
                busy += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
                if (partial_len > 0) {
#pragma omp barrier
                    /* Each total[j] is summed by one thread, in chunk order.
                     * The loop's own barrier keeps the slots from being
                     * refilled while read; the last batch has the region's. */
                    if (b1 < nchunks) {
#pragma omp for schedule(static)
                        for (int64_t j = 0; j < partial_len; j++)
                            total[j] = add_slots(total[j], slots + j, slot_len, b1 - b0);
                    } else {
#pragma omp for schedule(static) nowait
                        for (int64_t j = 0; j < partial_len; j++)
                            total[j] = add_slots(total[j], slots + j, slot_len, b1 - b0);
                    }
                }
            }
        }
        const int64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
        if (wall > STARVED_MIN_WALL_NS && 2 * busy < (int64_t)threads * wall)
            guard_starved(threads);
#endif
    }
    strata__free(slots);
    return 0;
}
