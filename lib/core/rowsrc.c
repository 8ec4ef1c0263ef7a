/* Row sources: the pass driver, the walk over blocks (core/blockwalk.c does
 * the double buffering) and the in-memory stream (lib/core/rowsrc.h). */
#include "core/rowsrc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/blockwalk.h"
#include "core/dist.h"
#include "core/mem.h"
#include "core/status.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ---- the walk --------------------------------------------------------- */

/* The block walk and its prefetch are core/blockwalk.c's; a row source adds
 * its two buffers of rows, the in-memory case and the READ steps. A source
 * with zero-copy blocks (ops->map) has them mapped instead where it can: the
 * slot then records the mapped rows, released (ops->unmap) when the slot is
 * taken by the block after next, and the buffers are only allocated for
 * blocks that are read. */
struct strata__rowsrc_walk {
    const strata__rowsrc *src;
    void *buf[2];
    int mapped[2];          /* the slot's block is mapped (not in buf) */
    int64_t mr0[2], mm[2];  /* rows mapped in the slot, to release (mm 0: none) */
    void *seam;             /* one work chunk stitched from two mapped runs */
    int64_t part, part_end; /* walk_next: the rest of a mapped block of several runs */
    strata__blockwalk bw;
    strata__rowsrc_bufs *keep; /* the source's kept buffers, held by this walk */
    int64_t base;     /* the walk's row 0 is the source's row base (a process's lo) */
    int64_t buf_rows; /* rows a block buffer holds */
    int ended; /* the last READ (n of n) is reported */
};

/* A distributed source's rows [r0, r0 + m) (within [lo, hi)) from its
 * in-memory block, converted to the delivered dtype. */
static int local_read(const strata__rowsrc *src, int dtype, int64_t r0, int64_t m, void *buf)
{
    const int64_t d = src->mem.d;
    const size_t les = strata__dtype_size(src->local_dtype);
    const char *from = (const char *)src->local + (size_t)(r0 - src->lo) * (size_t)d * les;
    if (dtype == src->local_dtype)
        memcpy(buf, from, (size_t)m * (size_t)d * les);
    else if (dtype == STRATA_FLOAT64) /* float32 rows widened */
        for (int64_t j = 0; j < m * d; j++)
            ((double *)buf)[j] = (double)((const float *)from)[j];
    else
        for (int64_t j = 0; j < m * d; j++)
            ((float *)buf)[j] = (float)((const double *)from)[j];
    return STRATA_OK;
}

/* Rows [r0, r0 + m) of a stream, or of a distributed source (global rows). */
static int src_read(const strata__rowsrc *src, int dtype, int64_t r0, int64_t m, void *buf,
                    char *msg)
{
    if (src->dist && src->local)
        return local_read(src, dtype, r0, m, buf);
    return src->ops->read(src->impl, dtype, r0, m, buf, msg);
}

/* A distributed source whose rows are in memory in the delivered type:
 * views point into them, nothing is copied. */
static int local_view(const strata__rowsrc *src)
{
    return src->dist && src->local && src->local_dtype == src->mem.dtype;
}

static size_t row_bytes_of(const strata__rowsrc *src)
{
    return (size_t)src->mem.d * strata__dtype_size(src->mem.dtype);
}

/* A block buffer of the slot, allocated on first use. */
static int slot_buffer(strata__rowsrc_walk *w, int slot, char *msg)
{
    const strata__rowsrc *src = w->src;
    if (w->buf[slot])
        return STRATA_OK;
    const int64_t rows = w->buf_rows;
    if (!(w->buf[slot] = strata__alloc((size_t)rows, row_bytes_of(src))))
        return strata__fail(msg, STRATA_E_NOMEM,
                            "out of memory for two blocks of %lld rows x %lld features "
                            "(the streamed pass's buffers)",
                            (long long)rows, (long long)src->mem.d);
    return STRATA_OK;
}

void strata__rowsrc_bufs_free(strata__rowsrc_bufs *b)
{
    if (!b)
        return;
    strata__free(b->buf[0]);
    strata__free(b->buf[1]);
    *b = (strata__rowsrc_bufs){0};
}

/* Take the source's kept buffers if it has them and no walk holds them:
 * buffers of another size are dropped (the walk allocates them anew). */
static void take_kept(strata__rowsrc_walk *w)
{
    strata__rowsrc_bufs *b = w->src->bufs;
    if (!b || b->busy)
        return;
    const size_t bytes = (size_t)w->buf_rows * row_bytes_of(w->src);
    if (b->bytes != bytes) {
        strata__rowsrc_bufs_free(b);
        b->bytes = bytes;
    }
    b->busy = 1;
    w->keep = b;
    w->buf[0] = b->buf[0];
    w->buf[1] = b->buf[1];
}

/* The walk's buffers back to the source for the next walk, or freed. */
static void give_back(strata__rowsrc_walk *w)
{
    if (w->keep) {
        w->keep->buf[0] = w->buf[0];
        w->keep->buf[1] = w->buf[1];
        w->keep->busy = 0;
    } else {
        strata__free(w->buf[0]);
        strata__free(w->buf[1]);
    }
}

static void slot_release(strata__rowsrc_walk *w, int slot)
{
    if (w->mm[slot])
        w->src->ops->unmap(w->src->impl, w->mr0[slot], w->mm[slot]);
    w->mm[slot] = 0;
    w->mapped[slot] = 0;
}

static int read_block(void *ctx, int slot, int64_t r0, int64_t m, char *msg)
{
    strata__rowsrc_walk *w = ctx;
    const strata__rowsrc *src = w->src;
    slot_release(w, slot); /* the caller is done with the block the slot held */
    if (src->ops && src->ops->map && !src->dist) {
        int mapped = 0;
        int rc = src->ops->map(src->impl, src->mem.dtype, r0, m, &mapped, msg);
        if (rc)
            return rc;
        if (mapped) {
            w->mapped[slot] = 1;
            w->mr0[slot] = r0;
            w->mm[slot] = m;
            return STRATA_OK;
        }
    }
    int rc = slot_buffer(w, slot, msg);
    return rc ? rc : src_read(src, src->mem.dtype, w->base + r0, m, w->buf[slot], msg);
}

int strata__rowsrc_walk_open(strata__rowsrc_walk **out, const strata__rowsrc *src, char *msg)
{
    strata__rowsrc_walk *w = strata__calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass over the rows");
    w->src = src;
    if (local_view(src)) { /* one block: this process's rows, nothing to read */
        w->base = src->lo;
        strata__blockwalk_init(&w->bw, src->hi - src->lo, src->hi - src->lo, NULL, NULL);
    } else if (src->dist || src->ops) {
        const int64_t walk_n = src->dist ? src->hi - src->lo : src->mem.n;
        const int64_t block = src->block_rows > 0 ? src->block_rows : STRATA__CHUNK_ROWS;
        w->buf_rows = min64(block, walk_n);
        take_kept(w);
        w->base = src->dist ? src->lo : 0;
        strata__blockwalk_init(&w->bw, walk_n, block, read_block, w);
        if (src->dist || !src->ops->map) /* every block is read: both buffers now */
            for (int i = 0; i < 2 && i < w->bw.nblocks; i++) {
                int rc = slot_buffer(w, i, msg);
                if (rc) {
                    strata__rowsrc_walk_close(w);
                    return rc;
                }
            }
    } else { /* one block: the matrix, nothing to read */
        strata__blockwalk_init(&w->bw, src->mem.n, src->mem.n, NULL, NULL);
    }
    *out = w;
    return STRATA_OK;
}

/* The next block: rows [*r0, *r0 + *m) in *slot, read or mapped; the READ
 * steps. */
static int walk_block(strata__rowsrc_walk *w, int64_t *r0, int64_t *m, int *slot, int *more,
                      char *msg)
{
    const strata__rowsrc *src = w->src;
    *more = 0;
    if (src->ops && !src->dist) { /* READ: the caller is done with the rows before the next block */
        if (w->bw.next >= w->bw.nblocks) {
            if (w->ended)
                return STRATA_OK;
            w->ended = 1;
            return strata__step(src->steps, STRATA_STEP_READ, 0, src->mem.n, src->mem.n, NAN,
                                msg);
        }
        int rc = strata__step(src->steps, STRATA_STEP_READ, 0, w->bw.next * src->block_rows,
                              src->mem.n, NAN, msg);
        if (rc)
            return rc;
    }
    int rc = strata__blockwalk_next(&w->bw, r0, m, slot, more, msg);
    if (!rc && *more)
        *r0 += w->base; /* global rows */
    if (!rc && *more && src->ops && w->mapped[*slot] && src->ops->check)
        rc = src->ops->check(src->impl, msg); /* the file as it was when mapped */
    if (rc)
        *more = 0;
    return rc;
}

/* Rows [r0, r1) of a mapped block copied into buf, run by run. */
static void stitch(const strata__rowsrc *src, int64_t r0, int64_t r1, void *buf)
{
    const size_t rb = row_bytes_of(src);
    for (int64_t r = r0, got; r < r1; r += got) {
        const void *p = src->ops->at(src->impl, r, r1 - r, &got);
        memcpy((char *)buf + (size_t)(r - r0) * rb, p, (size_t)got * rb);
    }
}

int strata__rowsrc_walk_next(strata__rowsrc_walk *w, strata__data *view, int *more, char *msg)
{
    const strata__rowsrc *src = w->src;
    int64_t r0, m, got;
    if (w->part < w->part_end) { /* the next run of a mapped block */
        const void *x = src->ops->at(src->impl, w->part, w->part_end - w->part, &got);
        *view = (strata__data){src->mem.dtype, x, w->part + got, src->mem.d, src->mem.d,
                               src->mem.w, w->part, NULL};
        w->part += got;
        *more = 1;
        return STRATA_OK;
    }
    int slot;
    int rc = walk_block(w, &r0, &m, &slot, more, msg);
    if (rc || !*more)
        return rc;
    if (local_view(src)) {
        *view = (strata__data){src->mem.dtype, src->local, src->hi, src->mem.d, src->mem.d,
                               src->mem.w, src->lo, NULL};
        return STRATA_OK;
    }
    if (!src->ops && !src->dist) {
        *view = src->mem;
        view->row0 = 0;
        return STRATA_OK;
    }
    const void *x = w->buf[slot];
    if (w->mapped[slot]) { /* its first run; the others on the next calls */
        x = src->ops->at(src->impl, r0, m, &got);
        w->part = r0 + got;
        w->part_end = r0 + m;
        m = got;
    }
    *view = (strata__data){src->mem.dtype, x, r0 + m, src->mem.d, src->mem.d, src->mem.w, r0, NULL};
    return STRATA_OK;
}

void strata__rowsrc_walk_close(strata__rowsrc_walk *w)
{
    if (!w)
        return;
    strata__blockwalk_end(&w->bw);
    if (w->src->ops)
        for (int i = 0; i < 2; i++)
            slot_release(w, i);
    give_back(w);
    strata__free(w->seam);
    strata__free(w);
}

/* ---- the pass driver ---------------------------------------------------- */

/* The chunks of a mapped block [r0, r0 + m): each run of the mapping in
 * turn, its whole work chunks as one view of the mapping; a work chunk split
 * between two runs (dataset chunks of rows not a multiple of
 * STRATA__CHUNK_ROWS, not adjacent in the file) stitched into w->seam. Chunk
 * indices and rows are those of a read block: the same bits. */
static int pass_mapped(strata__rowsrc_walk *w, int64_t r0, int64_t m, int threads,
                       strata__tree_sum *sp, strata__chunk_fn fn, void *ctx, strata__data *view,
                       char *msg)
{
    const strata__rowsrc *src = w->src;
    const int64_t U = STRATA__CHUNK_ROWS, n = src->mem.n, end = r0 + m;
    for (int64_t r = r0; r < end;) { /* r: a multiple of U */
        int64_t got;
        const void *p = src->ops->at(src->impl, r, end - r, &got);
        int64_t stop = r + got == end ? end : (r + got) / U * U;
        if (stop == r) { /* the chunk at r spans runs */
            if (!w->seam && !(w->seam = strata__alloc((size_t)U, row_bytes_of(src))))
                return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's rows");
            stop = min64(r + U, end);
            stitch(src, r, stop, w->seam);
            p = w->seam;
        }
        *view = (strata__data){src->mem.dtype, p, stop, src->mem.d, src->mem.d, src->mem.w,
                               r, NULL};
        if (strata__parallel_chunk_range(n, U, r / U, strata__chunk_count(stop, U), threads, sp,
                                         fn, ctx))
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's partial sums");
        r = stop;
    }
    return STRATA_OK;
}

/* Passes served by chunk reads and by side reads (tests). */
static _Atomic int64_t chunk_read_passes, side_read_passes;

int64_t strata__rowsrc_chunk_read_passes(void)
{
    return atomic_load(&chunk_read_passes);
}

int64_t strata__rowsrc_side_read_passes(void)
{
    return atomic_load(&side_read_passes);
}

/* The first failure of a pass's concurrent reads, by piece or chunk index:
 * the status and message the pass returns. */
typedef struct read_failure {
    pthread_mutex_t lock;
    _Atomic int failed; /* set once any read failed */
    int rc;
    int64_t at;
    char msg[STRATA__MSG_LEN];
} read_failure;

static void note_failure(read_failure *f, int64_t at, int rc, const char *msg)
{
    pthread_mutex_lock(&f->lock);
    if (!f->rc || at < f->at) {
        f->rc = rc;
        f->at = at;
        memcpy(f->msg, msg, sizeof f->msg);
    }
    atomic_store(&f->failed, 1);
    pthread_mutex_unlock(&f->lock);
}

/* A block's region done: its status (the region's own, out of memory for
 * the partials, or the first failed read's). */
static int region_status(int region_rc, const read_failure *f, char *msg)
{
    if (region_rc)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's partial sums");
    return f->rc ? strata__fail_copy(msg, f->rc, f->msg) : STRATA_OK;
}

/* Rows a streamed pass takes at a time: the source's block (at most n). */
static int64_t pass_block_rows(const strata__rowsrc *src)
{
    return min64(src->block_rows > 0 ? src->block_rows : STRATA__CHUNK_ROWS, src->mem.n);
}

/* ---- side reads (ops->concurrent_read) ----------------------------------
 * Block b + 1 is read into the other buffer in pieces, as side work of
 * block b's chunk loop: the threads computing take the pieces first, then
 * the chunks, so reading and computing share the cores without a third
 * thread (which on 2 vCPUs cost up to a third of a pass: the threads' guard,
 * core/parallel.c, then ran the chunks on one). Chunks, rows and the
 * reduction tree are the walk's: the same bits. */
#define PIECE_BYTES ((int64_t)4 << 20)

typedef struct side_reads {
    const strata__rowsrc *src;
    char *buf;           /* the block being read */
    int64_t r0, m, rows; /* its rows [r0, r0 + m), in pieces of `rows` */
    size_t rb;
    read_failure fail; /* by piece */
} side_reads;

static void read_piece(void *vctx, int64_t item)
{
    side_reads *c = vctx;
    const int64_t r = c->r0 + item * c->rows, m = min64(c->rows, c->r0 + c->m - r);
    char msg[STRATA__MSG_LEN];
    int rc = c->src->ops->read(c->src->impl, c->src->mem.dtype, r, m,
                               c->buf + (size_t)(r - c->r0) * c->rb, msg);
    if (rc)
        note_failure(&c->fail, item, rc, msg);
}

static int pass_side_reads(const strata__rowsrc *src, int threads, strata__tree_sum *sp,
                           strata__chunk_fn fn, void *ctx, strata__data *view, char *msg)
{
    const int64_t n = src->mem.n, U = STRATA__CHUNK_ROWS;
    const int64_t B = pass_block_rows(src);
    const int64_t nblocks = (n + B - 1) / B;
    side_reads c = {.src = src, .rb = row_bytes_of(src)};
    c.rows = PIECE_BYTES / (int64_t)c.rb / U * U;
    if (c.rows < U)
        c.rows = U;
    /* the buffers: the walk's, kept by the source where it has them */
    strata__rowsrc_walk w = {.src = src, .buf_rows = B};
    take_kept(&w);
    int rc = STRATA_OK;
    for (int i = 0; i < 2 && i < nblocks && !rc; i++)
        rc = slot_buffer(&w, i, msg);
    pthread_mutex_init(&c.fail.lock, NULL);
    if (!rc && !(rc = strata__step(src->steps, STRATA_STEP_READ, 0, 0, n, NAN, msg)))
        rc = src->ops->read(src->impl, src->mem.dtype, 0, B, w.buf[0], msg); /* block 0 */
    for (int64_t b = 0; b < nblocks && !rc; b++) {
        const int64_t r0 = b * B, m = min64(B, n - r0);
        if (b > 0 && (rc = strata__step(src->steps, STRATA_STEP_READ, 0, r0, n, NAN, msg)))
            break;
        strata__side_work side = {0, read_piece, &c};
        if (b + 1 < nblocks) { /* block b + 1 into the other buffer */
            c.buf = w.buf[(b + 1) & 1];
            c.r0 = r0 + m;
            c.m = min64(B, n - c.r0);
            side.n = (c.m + c.rows - 1) / c.rows;
        }
        *view = (strata__data){src->mem.dtype, w.buf[b & 1], r0 + m, src->mem.d, src->mem.d,
                               src->mem.w, r0, NULL};
        rc = region_status(strata__parallel_chunk_range_side(n, U, r0 / U,
                                                             strata__chunk_count(r0 + m, U),
                                                             threads, sp, fn, ctx, &side),
                           &c.fail, msg);
    }
    if (!rc)
        rc = strata__step(src->steps, STRATA_STEP_READ, 0, n, n, NAN, msg);
    atomic_fetch_add(&side_read_passes, 1);
    pthread_mutex_destroy(&c.fail.lock);
    give_back(&w);
    return rc;
}

/* ---- chunk reads (ops->concurrent_read) -----------------------------------
 * Each thread reads the rows of the chunk it is about to compute into a
 * buffer of its own, one chunk long, that it reuses: the rows arrive in that
 * core's cache and are computed there. Copied into a block buffer instead,
 * they went out to memory and came back a block later: three crossings of
 * the memory bus a row instead of one (docs/design.md, "Chunk reads";
 * docs/performance.md). Chunks, rows and the reduction tree are an
 * in-memory pass's: the same bits. */
typedef struct chunk_reads {
    const strata__rowsrc *src;
    strata__chunk_fn fn;
    void *ctx;
    strata__data *views; /* per thread: the chunk it computes */
    char *buf;           /* per thread: chunk_bytes at buf + tid * chunk_bytes */
    size_t chunk_bytes;
    read_failure fail; /* by chunk */
} chunk_reads;

static void read_then_compute(void *vctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                              double *partial)
{
    chunk_reads *c = vctx;
    const strata__rowsrc *src = c->src;
    if (atomic_load_explicit(&c->fail.failed, memory_order_relaxed))
        return; /* the pass fails: no more reads */
    char msg[STRATA__MSG_LEN];
    char *buf = c->buf + (size_t)tid * c->chunk_bytes;
    int rc = src->ops->read(src->impl, src->mem.dtype, begin, end - begin, buf, msg);
    if (rc) {
        note_failure(&c->fail, chunk, rc, msg);
        return;
    }
    c->views[tid] = (strata__data){src->mem.dtype, buf, end, src->mem.d, src->mem.d, src->mem.w,
                                   begin, NULL};
    c->fn(c->ctx, chunk, begin, end, tid, partial);
}

/* Whether a pass of `threads` reads chunk by chunk: each thread's chunk
 * buffer is carved from the first block buffer, which must hold them all. */
static int chunk_reads_fit(const strata__rowsrc *src, int threads)
{
    return (int64_t)(threads < 1 ? 1 : threads) * STRATA__CHUNK_ROWS <= pass_block_rows(src);
}

static int pass_chunk_reads(const strata__rowsrc *src, int threads, strata__tree_sum *sp,
                            strata__chunk_fn fn, void *ctx, strata__data *view, char *msg)
{
    const int64_t n = src->mem.n, U = STRATA__CHUNK_ROWS;
    const int64_t B = pass_block_rows(src);
    const int64_t nblocks = (n + B - 1) / B;
    if (threads < 1)
        threads = 1;
    chunk_reads c = {.src = src, .fn = fn, .ctx = ctx,
                     .chunk_bytes = (size_t)U * row_bytes_of(src)};
    strata__rowsrc_walk w = {.src = src, .buf_rows = B};
    take_kept(&w);
    int rc = slot_buffer(&w, 0, msg);
    if (!rc && !(c.views = strata__calloc((size_t)threads, sizeof *c.views)))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass over the rows");
    c.buf = w.buf[0];
    pthread_mutex_init(&c.fail.lock, NULL);
    *view = (strata__data){src->mem.dtype, NULL, n, src->mem.d, src->mem.d, src->mem.w, 0,
                           c.views};
    /* blocks of the budget's size: the READ steps (and a cancel) between them */
    for (int64_t b = 0; b < nblocks && !rc; b++) {
        const int64_t r0 = b * B, m = min64(B, n - r0);
        if ((rc = strata__step(src->steps, STRATA_STEP_READ, 0, r0, n, NAN, msg)))
            break;
        rc = region_status(strata__parallel_chunk_range(n, U, r0 / U,
                                                        strata__chunk_count(r0 + m, U), threads,
                                                        sp, read_then_compute, &c),
                           &c.fail, msg);
    }
    if (!rc)
        rc = strata__step(src->steps, STRATA_STEP_READ, 0, n, n, NAN, msg);
    atomic_fetch_add(&chunk_read_passes, 1);
    pthread_mutex_destroy(&c.fail.lock);
    strata__free(c.views);
    give_back(&w);
    return rc;
}

int strata__rowsrc_pass(const strata__rowsrc *src, int threads, int64_t partial_len,
                        double *total, strata__chunk_fn fn, void *ctx, strata__data *view,
                        char *msg)
{
    const int64_t n = src->mem.n;
    if (!src->ops && !src->dist) { /* exactly the in-memory loop of before */
        *view = src->mem;
        view->row0 = 0;
        if (strata__parallel_chunks(n, STRATA__CHUNK_ROWS, threads, partial_len, total, fn, ctx))
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's partial sums");
        return STRATA_OK;
    }
    /* One reduction tree over all the pass's chunks: each block pushes its
     * chunks' partials, so the total has the in-memory pass's bits. */
    strata__tree_sum sum, *sp = NULL;
    int rc = STRATA_OK, more = 1;
    strata__rowsrc_walk *w = NULL;
    if (partial_len > 0) {
        if (strata__tree_sum_init(&sum, strata__chunk_count(n, STRATA__CHUNK_ROWS), partial_len)) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's partial sums");
            if (!src->dist) /* distributed: the others wait for this one's status */
                return rc;
        }
        sp = &sum;
    }
    if (!rc && src->ops && src->ops->concurrent_read && !src->dist) {
        rc = chunk_reads_fit(src, threads)
                 ? pass_chunk_reads(src, threads, sp, fn, ctx, view, msg)
                 : pass_side_reads(src, threads, sp, fn, ctx, view, msg);
        more = 0;
    } else if (!rc) {
        rc = strata__rowsrc_walk_open(&w, src, msg);
    }
    while (!rc && more) {
        int64_t r0, m;
        int slot;
        if ((rc = walk_block(w, &r0, &m, &slot, &more, msg)) || !more)
            break;
        if (w->mapped[slot]) {
            rc = pass_mapped(w, r0, m, threads, sp, fn, ctx, view, msg);
            continue;
        }
        *view = (strata__data){src->mem.dtype, local_view(src) ? src->local : w->buf[slot],
                               r0 + m, src->mem.d, src->mem.d, src->mem.w, r0, NULL};
        const int64_t c0 = r0 / STRATA__CHUNK_ROWS;
        const int64_t c1 = strata__chunk_count(r0 + m, STRATA__CHUNK_ROWS);
        if (strata__parallel_chunk_range(n, STRATA__CHUNK_ROWS, c0, c1, threads, sp, fn, ctx))
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass's partial sums");
    }
    strata__rowsrc_walk_close(w);
    /* Distributed: every process's pushes merged in rank order (the bits of
     * one process's tree), or, without partials, the run's status. */
    if (src->dist)
        rc = sp ? src->dist->tree_combine(src->dist, sp, rc, msg)
                : src->dist->agree(src->dist, rc, msg);
    if (!rc && sp && strata__tree_sum_finish(sp, total))
        rc = strata__fail(msg, STRATA_E_INTERNAL, "a pass's reduction missed chunks");
    if (sp)
        strata__tree_sum_free(sp);
    return rc;
}

/* ---- random reads -------------------------------------------------------- */

int strata__rowsrc_rows(const strata__rowsrc *src, int64_t r0, int64_t m, strata__data *view,
                        void **buf, size_t *cap, char *msg)
{
    if (src->dist && (r0 < src->lo || r0 + m > src->hi))
        return strata__fail(msg, STRATA_E_INTERNAL, "rows %lld-%lld read by process %d, which "
                            "holds rows %lld-%lld", (long long)r0, (long long)(r0 + m - 1),
                            src->dist->rank, (long long)src->lo, (long long)(src->hi - 1));
    if (local_view(src)) {
        *view = (strata__data){src->mem.dtype, src->local, src->hi, src->mem.d, src->mem.d,
                               src->mem.w, src->lo, NULL};
        return STRATA_OK;
    }
    if (!src->ops && !src->dist) {
        *view = src->mem;
        view->row0 = 0;
        return STRATA_OK;
    }
    const size_t need = (size_t)m * (size_t)src->mem.d * strata__dtype_size(src->mem.dtype);
    if (need > *cap) {
        strata__free(*buf);
        *cap = 0;
        if (!(*buf = strata__alloc(need, 1)))
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory reading %lld rows",
                                (long long)m);
        *cap = need;
    }
    int rc = src_read(src, src->mem.dtype, r0, m, *buf, msg);
    if (rc)
        return rc;
    *view = (strata__data){src->mem.dtype, *buf, r0 + m, src->mem.d, src->mem.d, src->mem.w,
                           r0, NULL};
    return STRATA_OK;
}

int strata__rowsrc_copy_row(const strata__rowsrc *src, int64_t i, double *out, void **buf,
                            size_t *cap, char *msg)
{
    strata__data v;
    const strata__dist *dist = src->dist;
    int rc = STRATA_OK;
    if (dist && (i < 0 || i >= src->mem.n))
        return strata__fail(msg, STRATA_E_INTERNAL, "row %lld asked for of %lld", (long long)i,
                            (long long)src->mem.n);
    if (!dist || (i >= src->lo && i < src->hi)) {
        if (!(rc = strata__rowsrc_rows(src, i, 1, &v, buf, cap, msg)))
            for (int64_t f = 0; f < v.d; f++)
                out[f] = strata__at(&v, i, f);
    }
    if (!dist)
        return rc;
    const int64_t nchunks = strata__chunk_count(src->mem.n, STRATA__CHUNK_ROWS);
    const int owner = strata__dist_owner(nchunks, dist->size, i / STRATA__CHUNK_ROWS);
    return dist->bcast(dist, out, src->mem.d * (int64_t)sizeof(double), owner, rc, msg);
}

/* ---- gathering drawn rows ------------------------------------------------ */

/* Read rows [r0, r1) into buf, then copy out the wanted rows of chunks
 * [u0, u1), whose positions in idx are pos[end[u - 1] .. end[u]). */
static int gather_span(const strata__rowsrc *src, const int64_t *idx, const int64_t *pos,
                       const int64_t *end, int64_t u0, int64_t u1, int64_t r0, int64_t r1,
                       void *buf, void *out, char *msg)
{
    const size_t rb = (size_t)src->mem.d * strata__dtype_size(src->mem.dtype);
    int rc = src->ops->read(src->impl, src->mem.dtype, r0, r1 - r0, buf, msg);
    if (rc)
        return rc;
    for (int64_t p = u0 ? end[u0 - 1] : 0; p < end[u1 - 1]; p++) {
        const int64_t j = pos[p];
        memcpy((char *)out + (size_t)j * rb, (const char *)buf + (size_t)(idx[j] - r0) * rb, rb);
    }
    return STRATA_OK;
}

int strata__rowsrc_gather(const strata__rowsrc *src, const int64_t *idx, int64_t m, void *out,
                          double *w_out, char *msg)
{
    const int64_t n = src->mem.n;
    if (src->dist)
        return strata__fail(msg, STRATA_E_UNSUPPORTED, "gathering drawn rows is not distributed");
    for (int64_t j = 0; j < m; j++)
        if (idx[j] < 0 || idx[j] >= n)
            return strata__fail(msg, STRATA_E_ARG, "row %lld to gather is outside [0, %lld)",
                                (long long)idx[j], (long long)n);
    if (w_out && src->mem.w)
        for (int64_t j = 0; j < m; j++)
            w_out[j] = src->mem.w[idx[j]];
    const size_t rb = (size_t)src->mem.d * strata__dtype_size(src->mem.dtype);
    if (!src->ops) {
        for (int64_t j = 0; j < m; j++)
            memcpy((char *)out + (size_t)j * rb, strata__row(&src->mem, idx[j]), rb);
        return STRATA_OK;
    }
    const int64_t U = STRATA__CHUNK_ROWS, nu = strata__chunk_count(n, U);
    const int64_t cap = min64(src->block_rows, n);
    int64_t *end = strata__calloc((size_t)nu + 1, sizeof(int64_t));
    int64_t *pos = strata__alloc((size_t)(m > 0 ? m : 1), sizeof(int64_t));
    void *buf = strata__alloc((size_t)cap, rb);
    int rc = STRATA_OK;
    if (!end || !pos || !buf) {
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory gathering %lld rows (a buffer of "
                          "%lld rows)", (long long)m, (long long)cap);
        goto done;
    }
    /* Counting sort of the positions by chunk: chunk u's are then
     * pos[end[u - 1] .. end[u]). */
    for (int64_t j = 0; j < m; j++)
        end[idx[j] / U + 1]++;
    for (int64_t u = 0; u < nu; u++)
        end[u + 1] += end[u];
    for (int64_t j = 0; j < m; j++)
        pos[end[idx[j] / U]++] = j;
    /* The sweep: runs of adjacent chunks holding wanted rows, one read each
     * (at most cap rows; a chunk's span is at most U <= cap rows). */
    int64_t u0 = -1, ulast = -1, r0 = 0, r1 = 0;
    for (int64_t u = 0; u < nu && !rc; u++) {
        const int64_t p0 = u ? end[u - 1] : 0;
        if (p0 == end[u])
            continue;
        int64_t lo = idx[pos[p0]], hi = lo;
        for (int64_t p = p0 + 1; p < end[u]; p++) {
            lo = idx[pos[p]] < lo ? idx[pos[p]] : lo;
            hi = idx[pos[p]] > hi ? idx[pos[p]] : hi;
        }
        if (u0 >= 0 && u == ulast + 1 && hi + 1 - r0 <= cap) {
            r1 = hi + 1;
            ulast = u;
            continue;
        }
        if (u0 >= 0)
            rc = gather_span(src, idx, pos, end, u0, ulast + 1, r0, r1, buf, out, msg);
        u0 = ulast = u;
        r0 = lo;
        r1 = hi + 1;
    }
    if (!rc && u0 >= 0)
        rc = gather_span(src, idx, pos, end, u0, ulast + 1, r0, r1, buf, out, msg);
done:
    strata__free(end);
    strata__free(pos);
    strata__free(buf);
    return rc;
}

/* ---- a stream over memory -------------------------------------------------- */

static int memory_read(void *impl, int dtype, int64_t r0, int64_t m, void *buf, char *msg)
{
    const strata__data *X = impl;
    const int64_t d = X->d;
    for (int64_t r = 0; r < m; r++) {
        const void *row = strata__row(X, r0 + r);
        if (dtype == X->dtype)
            memcpy((char *)buf + (size_t)(r * d) * strata__dtype_size(dtype), row,
                   (size_t)d * strata__dtype_size(dtype));
        else /* float32 rows widened to float64 */
            for (int64_t f = 0; f < d; f++)
                ((double *)buf)[r * d + f] = (double)((const float *)row)[f];
    }
    return STRATA_OK;
}

/* concurrent reads: copies of rows from memory, safe on any thread */
static const strata__rowsrc_ops memory_ops = {.read = memory_read, .concurrent_read = 1};

void strata__rowsrc_memory_stream(const strata__data *X, int64_t block_rows, strata__rowsrc *out)
{
    if (block_rows < 1)
        block_rows = 1;
    block_rows = (block_rows + STRATA__CHUNK_ROWS - 1) / STRATA__CHUNK_ROWS * STRATA__CHUNK_ROWS;
    *out = (strata__rowsrc){.mem = *X, .ops = &memory_ops, .impl = (void *)X,
                            .block_rows = block_rows};
    out->mem.x = NULL;
    out->mem.row0 = 0;
}
