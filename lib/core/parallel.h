/* The one place where work is split across threads.
 *
 * Rows are cut into fixed chunks whose boundaries depend only on n and
 * chunk_rows, never on the thread count. Each chunk may produce a vector of
 * partial sums (doubles); the partials of the C chunks of a pass are summed
 * along one fixed binary tree whose shape depends only on C (the reduction
 * tree below; docs/design.md, "Reduction order"). Engines use this instead of
 * their own OpenMP reductions, which is what makes results bitwise identical
 * for any number of threads, any stream block size and (later) any split of
 * the chunks between processes. */
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

/* ---- The reduction tree ------------------------------------------------
 *
 * The partials p[0], ..., p[C-1] of a pass's C chunks (GLOBAL chunk indices)
 * are summed, element by element, as S(0, C) where
 *
 *     S(lo, hi) = p[lo]                          if hi - lo == 1
 *     S(lo, hi) = S(lo, m) + S(m, hi)            m = lo + the largest power
 *                                                of two strictly below hi - lo
 *
 * Equivalently: every aligned block [i 2^l, (i + 1) 2^l) inside [0, C) is a
 * node, the sum of its two halves (left + right); the root joins the aligned
 * blocks of C's binary digits, largest first, B0 + (B1 + (... + Bm)) (for
 * C = 6: (p0 + p1) + (p2 + p3) joined with p4 + p5). The shape depends on C
 * only, not on threads, stream blocks or who computes which chunk.
 *
 * A strata__tree_sum evaluates it as a binary counter: it holds the maximal
 * aligned blocks of the chunks [origin, end) pushed so far, in chunk order,
 * each with its value; pushing a node whose left sibling is the last held
 * node replaces both by their parent (left + right), repeatedly. A node's
 * value is the same bits wherever and whenever it is formed, so:
 *  - one sum fed chunks 0..C-1 in any consecutive ranges (threads' batches,
 *    stream blocks) gives the bits of one range, holding at most
 *    floor(log2 C) + 1 vectors;
 *  - a range owner of [c0, c1) (a future MPI rank) fills its own sum (origin
 *    c0): it holds at most 2 (floor(log2 C) + 1) vectors, block sizes rising
 *    then falling, the only pieces of its range that the tree joins with
 *    other ranges' chunks. Pushing the held nodes of consecutive owners in
 *    chunk order into one sum (strata__tree_sum_merge) and finishing it gives
 *    the bits of one owner of [0, C). Merging adjacent owners' sums is
 *    associative bitwise, so an MPI_Allreduce with a non-commutative user op
 *    over ranks owning consecutive ranges in rank order (or an all-gather of
 *    the pieces, pushed in rank order) gives every rank the single-process
 *    total. */

/* Held nodes: 2 (floor(log2 C) + 1) <= 126 for any C < 2^62. */
#define STRATA__TREE_MAX_NODES 128

typedef struct strata__tree_sum {
    int64_t nchunks; /* C: the tree's shape */
    int64_t len;     /* doubles per vector */
    int64_t stride;  /* doubles between held vectors (len rounded up to 16) */
    int64_t origin;  /* first chunk pushed (-1 while empty) */
    int64_t end;     /* one past the last chunk pushed */
    int depth;       /* nodes held */
    int cap;         /* nodes it can hold: 2 (floor(log2 C) + 1) */
    int peak;        /* most nodes held at once (tests check O(log C)) */
    int64_t start[STRATA__TREE_MAX_NODES]; /* node i: chunks [start, start + 2^level) */
    int8_t level[STRATA__TREE_MAX_NODES];
    double *vec; /* cap x stride: node i's value at vec + i * stride */
} strata__tree_sum;

/* An empty sum over the tree of nchunks chunks of len doubles (len >= 1).
 * Allocates cap vectors. Returns 0, STRATA_E_NOMEM, or STRATA_E_INTERNAL
 * (nchunks < 0 or >= 2^62, len < 1). Free with strata__tree_sum_free(). */
int strata__tree_sum_init(strata__tree_sum *t, int64_t nchunks, int64_t len);
void strata__tree_sum_free(strata__tree_sum *t);

/* Push the value v (len doubles, copied) of node [start, start + 2^level):
 * an aligned block inside [0, C) beginning at t->end (any start when t is
 * empty). Returns 0, or STRATA_E_INTERNAL when the node is not such a block. */
int strata__tree_sum_push(strata__tree_sum *t, int64_t start, int level, const double *v);

/* Push src's held nodes, in order, into dst (same C and len; src->origin ==
 * dst->end, or dst empty). src is unchanged. Returns as _push. */
int strata__tree_sum_merge(strata__tree_sum *dst, const strata__tree_sum *src);

/* total[j] += S(0, C)[j] for the len elements; t must hold chunks [0, C)
 * (nothing is added when C == 0). Returns 0 or STRATA_E_INTERNAL. */
int strata__tree_sum_finish(const strata__tree_sum *t, double *total);

/* ---- Chunk loops -------------------------------------------------------- */

/* Run fn over all chunks of n rows on up to `threads` threads (1 = the caller's
 * thread only, no OpenMP region). If partial_len > 0, `total` (partial_len
 * doubles, not cleared here) receives total + S(0, C) of the chunks'
 * partials. Returns 0, or STRATA_E_NOMEM if scratch could not be allocated. */
int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx);

/* strata__parallel_chunks() over chunks [c0, c1) only (global indices and
 * rows), their partials pushed into `sum` (NULL: fn writes no partials;
 * else sum->len doubles each, and c0 == sum->end unless sum is empty).
 * Consecutive ranges into one sum, then strata__tree_sum_finish(), give the
 * bits of strata__parallel_chunks(). Streamed passes run one range per block.
 * Returns 0, STRATA_E_NOMEM, or STRATA_E_INTERNAL (c0 is not sum->end). */
int strata__parallel_chunk_range(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                 int threads, strata__tree_sum *sum, strata__chunk_fn fn,
                                 void *ctx);

/* Work done beside a range's chunks by the same threads, with no thread of
 * its own: items 0..n-1, fn(ctx, item) each, taken from a dynamic loop
 * before the chunks (a streamed pass reads the next block so: on 2 cores a
 * reader thread of its own competed with the two computing ones). Items may
 * run in any order on any thread, all of them before the call returns. */
typedef struct strata__side_work {
    int64_t n;
    void (*fn)(void *ctx, int64_t item);
    void *ctx;
} strata__side_work;

/* strata__parallel_chunk_range() with side work (NULL: none). */
int strata__parallel_chunk_range_side(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                      int threads, strata__tree_sum *sum, strata__chunk_fn fn,
                                      void *ctx, const strata__side_work *side);

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
