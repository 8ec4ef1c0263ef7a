/* Row sources: where an engine reads its rows from (docs/design.md, "Row
 * sources").
 *
 * A source is either an in-memory matrix (strata__data) or a stream: ops that
 * read contiguous rows [r0, r0 + m) into a buffer, walked in fixed blocks of
 * block_rows rows (a multiple of STRATA__CHUNK_ROWS) with the next block read
 * on another thread while the current one is computed (double buffering:
 * core/blockwalk.h, the walk column sources, core/colsrc.h, share).
 * Engines run their passes through strata__rowsrc_pass(): chunk functions see
 * a strata__data view of the block (or, read by the computing thread, the
 * chunk) holding their rows and keep using GLOBAL row indices, and partial
 * sums are pushed into one reduction tree over the global chunk indices
 * (core/parallel.h), so a stream gives the bits of an in-memory pass
 * whatever the block size and thread count. The few random reads (seeding
 * draws) go through strata__rowsrc_rows();
 * rows drawn at random in bulk (mini-batches) through strata__rowsrc_gather(),
 * one ordered sweep for any number of them.
 * Weights, when a source has them, are always an in-memory array of n. */
#ifndef STRATA_CORE_ROWSRC_H
#define STRATA_CORE_ROWSRC_H

#include <stddef.h>
#include <stdint.h>

#include "core/parallel.h"
#include "core/steps.h"
#include "strata.h"

/* Rows per work chunk: fixed, so chunk boundaries (and therefore the order of
 * every reduction) never depend on the thread count, nor on a stream's blocks. */
#define STRATA__CHUNK_ROWS 4096

/* A borrowed matrix, or a view of one block of a stream: it holds rows
 * [row0, n), row i starting at x + (i - row0) * stride elements of dtype.
 * A whole matrix has row0 = 0. w (NULL = unit weights) is indexed by global
 * row (w[i]), in memory for all n rows. */
typedef struct strata__data {
    int dtype;
    const void *x;
    int64_t n, d, stride;
    const double *w;
    int64_t row0;
    /* A pass whose threads each read their own chunk's rows (chunk reads,
     * strata__rowsrc_pass): the view of thread tid's chunk is views[tid],
     * and x is NULL. NULL otherwise. Chunk functions take their view with
     * strata__chunk_view(). Only non-distributed streams read by chunk, so
     * Hamerly's and Yinyang's labellers (they stream distributed sources
     * only) keep using the pass's view. */
    const struct strata__data *views;
} strata__data;

static inline size_t strata__dtype_size(int dtype)
{
    return dtype == STRATA_FLOAT32 ? sizeof(float) : sizeof(double);
}

static inline const void *strata__row(const strata__data *X, int64_t i)
{
    return (const char *)X->x +
           (size_t)(i - X->row0) * (size_t)X->stride * strata__dtype_size(X->dtype);
}

/* The rows a chunk function running on thread tid sees: the pass's view,
 * or, where each thread reads its own chunks, that thread's. */
static inline const strata__data *strata__chunk_view(const strata__data *X, int tid)
{
    return X->views ? X->views + tid : X;
}

/* Row i, feature f, as double. */
static inline double strata__at(const strata__data *X, int64_t i, int64_t f)
{
    const void *r = strata__row(X, i);
    return X->dtype == STRATA_FLOAT32 ? (double)((const float *)r)[f] : ((const double *)r)[f];
}

/* A stream's reader. read: rows [r0, r0 + m) as `dtype` (STRATA_FLOAT32 or
 * FLOAT64; the source converts), m x d contiguous, into buf. Called from one
 * thread at a time (the walk's reader thread or the caller), never two at
 * once for one source. Returns STRATA_OK or a status with msg (STRATA__MSG_LEN)
 * set. */
typedef struct strata__rowsrc_ops {
    int (*read)(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg);
    /* Zero-copy blocks (optional: map NULL means every block is read). A
     * source that holds its rows addressable in place (a file mapped into
     * memory) lets the walk point views straight at them:
     * - map: on the thread that would read the block (the reader thread,
     *   ahead of its use), make rows [r0, r0 + m) of `dtype` ready to be
     *   pointed at (checks, page-ins) and set *mapped = 1, or *mapped = 0
     *   when they cannot be (then they are read). Returns STRATA_OK or a
     *   status with msg set (the source is damaged or changed: no read is
     *   tried).
     * - at: rows [r, r + *got) (1 <= *got <= m) that lie contiguously as
     *   row-major dtype rows of d elements, from row r of a mapped block
     *   [r, r + m) within it: where they start. Pure (any thread).
     * - check: on the walking thread, right before a mapped block is handed
     *   out: STRATA_OK, or a status with msg set (the source changed).
     * - unmap: the caller is done with mapped rows [r0, r0 + m) (on the
     *   thread that maps; releases their pages). */
    int (*map)(void *impl, int dtype, int64_t r0, int64_t m, int *mapped, char *msg);
    const void *(*at)(void *impl, int64_t r, int64_t m, int64_t *got);
    int (*check)(void *impl, char *msg);
    void (*unmap)(void *impl, int64_t r0, int64_t m);
    /* read may run on several threads at once (rows of different chunks or
     * pieces into different places): a pass then has each computing thread
     * read its own chunks just before it computes them (chunk reads), or,
     * where a block buffer cannot hold a chunk for every thread, reads the
     * next block in pieces on the threads computing the current one, as
     * side work of its chunk loop (core/parallel.h; side reads), instead of
     * on a reader thread of its own (strata__rowsrc_pass). */
    int concurrent_read;
} strata__rowsrc_ops;

/* A stream's two block buffers kept from one walk to the next (a fit's
 * passes): a walk that allocated its own touched every page of them afresh
 * each pass, which costs more than the copy into them where the first touch
 * of a page traps to a hypervisor (docs/performance.md, "Direct reads").
 * Zeroed by its owner, freed with strata__rowsrc_bufs_free(); one walk at a
 * time uses it (a walk opened while another holds it allocates its own). */
typedef struct strata__rowsrc_bufs {
    void *buf[2];
    size_t bytes; /* of each buffer */
    int busy;
} strata__rowsrc_bufs;

void strata__rowsrc_bufs_free(strata__rowsrc_bufs *b);

typedef struct strata__rowsrc {
    /* The data's description: dtype (rows are delivered in it), n, d, w.
     * x is the matrix for an in-memory source, NULL for a stream. */
    strata__data mem;
    const strata__rowsrc_ops *ops; /* NULL: in memory */
    void *impl;
    int64_t block_rows; /* streams: rows per block, a multiple of STRATA__CHUNK_ROWS */
    /* Streams: STRATA_STEP_READ reported by every pass and walk (NULL: none),
     * from the thread that walks (the caller's), never the reader thread. */
    const strata__steps *steps;
    /* A distributed run (core/dist.h; NULL: every row is here). This
     * process holds rows [lo, hi) (its chunks, strata__dist_chunks()) of
     * the n rows: in memory at `local` (hi - lo rows of d elements of
     * local_dtype, contiguous; delivered as mem.dtype, converted when that
     * differs), or, when local is NULL, read through ops in blocks. mem.x
     * is NULL and mem.n the whole run's n; rows keep their global indices.
     * Passes and walks visit this process's rows only; a pass's partial
     * sums are combined across processes (dist->tree_combine) before they
     * are finished, so every process gets the one-process total; random
     * reads (strata__rowsrc_rows) must stay within [lo, hi), except
     * strata__rowsrc_copy_row(), which is collective (the owner's row to
     * all). Engines treat it as a stream. */
    const struct strata__dist *dist;
    int64_t lo, hi;
    const void *local;
    int local_dtype;
    /* Streams: block buffers kept between walks (NULL: each walk allocates
     * and frees its own). */
    strata__rowsrc_bufs *bufs;
} strata__rowsrc;

/* The in-memory source of X (borrowed). */
static inline strata__rowsrc strata__rowsrc_of(const strata__data *X)
{
    strata__rowsrc s = {.mem = *X};
    s.mem.row0 = 0;
    return s;
}

static inline int strata__rowsrc_streamed(const strata__rowsrc *s)
{
    return s->ops != NULL || s->dist != NULL;
}

/* Passes served so far by chunk reads and by side reads (tests). */
int64_t strata__rowsrc_chunk_read_passes(void);
int64_t strata__rowsrc_side_read_passes(void);

/* A stream over the in-memory matrix X (borrowed; must outlive the source)
 * in blocks of block_rows (rounded up to a multiple of STRATA__CHUNK_ROWS):
 * the same walks, passes and copies as a file read directly (its reads are
 * concurrent). Tests use it to check streamed and in-memory fits agree
 * bitwise; STRATA_KMEANS_BLOCK_ROWS selects it. */
void strata__rowsrc_memory_stream(const strata__data *X, int64_t block_rows, strata__rowsrc *out);

/* Run fn over every chunk of src's rows, as strata__parallel_chunks(n,
 * STRATA__CHUNK_ROWS, ...) does, with the same chunk indices, row ranges and
 * reduction tree: total receives the same bits. fn's ctx reaches the rows
 * through `view`, and fn takes the view of its chunk with
 * strata__chunk_view(view, tid): in memory the whole matrix; streamed, the
 * block holding the chunk, or, where the source reads concurrently
 * (ops->concurrent_read, not distributed) and one block buffer holds a chunk
 * for every thread, the chunk itself, read by the thread that computes it
 * into a buffer of its own (chunk reads; else the next block is read as
 * side work of the current one: side reads). A chunk function reads only
 * its chunk's rows. Returns STRATA_OK, or a status with msg set (out of
 * memory, or the stream's read error: the first failing chunk's). */
int strata__rowsrc_pass(const strata__rowsrc *src, int threads, int64_t partial_len,
                        double *total, strata__chunk_fn fn, void *ctx, strata__data *view,
                        char *msg);

/* Sequential walk over a source's blocks (a pass that is not a chunk loop:
 * a serial scan that may stop early). A stream with steps reports READ
 * (run 0, done of n rows, total n) before each block (0 before the first:
 * the rows the caller is done with) and n after the last, so every pass
 * starts again at 0; a report that cancels ends the walk with
 * STRATA_E_CANCELLED (msg set). */
typedef struct strata__rowsrc_walk strata__rowsrc_walk;
int strata__rowsrc_walk_open(strata__rowsrc_walk **w, const strata__rowsrc *src, char *msg);
/* The next rows into *view (rows [view->row0, view->n)): a block, or for a
 * block of a source's mapping that lies in several runs (ops->map), one run
 * of it at a time; consecutive rows in order either way. *more = 0 at the
 * end. Returns STRATA_OK or the read's status (msg set). */
int strata__rowsrc_walk_next(strata__rowsrc_walk *w, strata__data *view, int *more, char *msg);
void strata__rowsrc_walk_close(strata__rowsrc_walk *w);

/* Random access: rows [r0, r0 + m) into *view (in memory: the matrix itself;
 * streamed: read into *buf, grown with strata__realloc as needed, which the
 * caller frees with strata__free). */
int strata__rowsrc_rows(const strata__rowsrc *src, int64_t r0, int64_t m, strata__data *view,
                        void **buf, size_t *cap, char *msg);

/* Gather: rows idx[0..m) (global indices in [0, n), any order, repeats
 * allowed) copied in that order into out (m x d contiguous, src's dtype), and
 * their weights into w_out when src has weights and w_out is not NULL. In
 * memory: row copies. Streamed: ONE ordered sweep over the source, whatever
 * the order of idx: the wanted rows are bucketed by chunk of
 * STRATA__CHUNK_ROWS rows (a counting sort), and only the span [first
 * wanted, last wanted] of each chunk holding any is read, the spans of
 * adjacent such chunks in one read of at most block_rows rows; a chunk
 * holding none is not read. Memory besides out: none in memory; streamed,
 * 8 bytes a wanted row, 8 a chunk of the source and one buffer of
 * min(block_rows, n) rows, freed before it returns. Returns
 * STRATA_OK, or a status with msg set (out of memory, an index out of range,
 * the stream's read error; out is then partly written). For engines that
 * draw random rows (mini-batch k-means) and can draw them ahead. */
int strata__rowsrc_gather(const strata__rowsrc *src, const int64_t *idx, int64_t m, void *out,
                          double *w_out, char *msg);

/* Row i as d doubles into out (a random read). Distributed: collective
 * (every process asks for the same i; its owner reads it and sends it). */
int strata__rowsrc_copy_row(const strata__rowsrc *src, int64_t i, double *out, void **buf,
                            size_t *cap, char *msg);

#endif
