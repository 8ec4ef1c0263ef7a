/* The one place where work is split across threads.
 *
 * Rows are cut into fixed chunks whose boundaries depend only on n and
 * chunk_rows, never on the thread count. Each chunk may produce a vector of
 * partial sums (doubles) that is added into the total strictly in chunk
 * order. Engines use this instead of their own OpenMP reductions, which is
 * what makes results bitwise identical for any number of threads. */
#ifndef STRATA_CORE_PARALLEL_H
#define STRATA_CORE_PARALLEL_H

#include <stdint.h>

/* Work on rows [begin, end) of chunk `chunk`, on thread `tid` (0..threads-1,
 * for per-thread scratch). `partial` is NULL when partial_len == 0, else a
 * zeroed vector of partial_len doubles owned by this chunk. */
typedef void (*strata__chunk_fn)(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                                 double *partial);

/* Number of chunks that strata__parallel_chunks() will use. */
int64_t strata__chunk_count(int64_t n, int64_t chunk_rows);

/* Run fn over all chunks of n rows on up to `threads` threads (1 = the caller's
 * thread only, no OpenMP region). If partial_len > 0, `total` (partial_len
 * doubles, not cleared here) receives the sum of the chunks' partials added in
 * chunk order. Returns 0, or STRATA_E_NOMEM if scratch could not be allocated. */
int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx);

/* strata__parallel_chunks() over chunks [c0, c1) only (global indices and
 * rows, added into total in chunk order): consecutive ranges give the bits
 * of one call over all chunks. Streamed passes run one range per block. */
int strata__parallel_chunk_range(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                 int threads, int64_t partial_len, double *total,
                                 strata__chunk_fn fn, void *ctx);

/* Least common multiple of two positive counts (block and chunk sizes, a
 * row width and a vector's lanes). */
static inline int64_t strata__lcm64(int64_t a, int64_t b)
{
    int64_t x = a, y = b;
    while (y) {
        int64_t t = x % y;
        x = y;
        y = t;
    }
    return a / x * b;
}

/* Threads to use for a requested count (0 = OpenMP default), at least 1. */
int strata__resolve_threads(int64_t requested);

#endif
