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

/* ---- the reduction tree (parallel.h) ------------------------------------ */

int strata__tree_sum_init(strata__tree_sum *t, int64_t nchunks, int64_t len)
{
    memset(t, 0, sizeof *t);
    t->origin = -1;
    if (nchunks < 0 || nchunks >= ((int64_t)1 << 62) || len < 1)
        return STRATA_E_INTERNAL;
    t->nchunks = nchunks;
    t->len = len;
    t->stride = (len + 15) / 16 * 16; /* own cache lines per vector */
    int levels = 0;                   /* floor(log2 C) + 1 */
    while (levels < 63 && ((int64_t)1 << levels) <= nchunks)
        levels++;
    t->cap = 2 * levels;
    if (t->cap && !(t->vec = strata__alloc((size_t)t->cap * (size_t)t->stride, sizeof(double))))
        return STRATA_E_NOMEM;
    return 0;
}

void strata__tree_sum_free(strata__tree_sum *t)
{
    strata__free(t->vec);
    t->vec = NULL;
}

/* Is [start, start + 2^level) a node that may come next into t? */
static int next_node_ok(const strata__tree_sum *t, int64_t start, int level)
{
    if (level < 0 || level > 62 || start < 0 || start & (((int64_t)1 << level) - 1))
        return 0;
    if (start + ((int64_t)1 << level) > t->nchunks)
        return 0;
    return t->origin < 0 || start == t->end;
}

/* Is held node i the left sibling of [start, start + 2^level)? */
static int left_sibling(const strata__tree_sum *t, int i, int64_t start, int level)
{
    return t->level[i] == level && t->start[i] + ((int64_t)1 << level) == start &&
           !((t->start[i] >> level) & 1);
}

/* One step of the plan: dst += src (the left child's vector becomes the
 * parent's), or dst = src (a node moves from a batch slot to its held
 * position). */
typedef struct plan_op {
    int32_t dst, src; /* >= 0: held node; < 0: batch slot -1 - src */
    int32_t copy;     /* 1: dst = src, 0: dst += src */
} plan_op;

/* The binary counter's step, on positions only: push node [start,
 * start + 2^level) whose value is at `loc`, merging it with held left
 * siblings (one "left += right" op each; the parent keeps the left child's
 * loc). locs[i] is held node i's loc. Returns the position it ends at. */
static int push_node(strata__tree_sum *t, int64_t start, int level, int32_t loc, int32_t *locs,
                     plan_op *ops, int64_t *nops)
{
    if (t->origin < 0)
        t->origin = start;
    t->end = start + ((int64_t)1 << level);
    while (t->depth > 0 && left_sibling(t, t->depth - 1, start, level)) {
        int i = --t->depth;
        ops[(*nops)++] = (plan_op){locs[i], loc, 0};
        start = t->start[i];
        level++;
        loc = locs[i];
    }
    int i = t->depth++;
    t->start[i] = start;
    t->level[i] = (int8_t)level;
    locs[i] = loc;
    if (t->depth > t->peak)
        t->peak = t->depth;
    return i;
}

/* Plan the pushes of chunks b0 .. b1-1, whose partials lie in batch slots
 * 0 .. b1-b0-1, into t: the additions, then copies of the nodes left in
 * slots into their held positions. t's node list is updated now; the values
 * once apply_ops() has run. ops needs b1 - b0 + 2 t->cap entries. */
static int64_t plan_batch(strata__tree_sum *t, int64_t b0, int64_t b1, plan_op *ops)
{
    int32_t locs[STRATA__TREE_MAX_NODES];
    int64_t nops = 0;
    for (int i = 0; i < t->depth; i++)
        locs[i] = i;
    for (int64_t c = b0; c < b1; c++)
        push_node(t, c, 0, (int32_t)(-1 - (c - b0)), locs, ops, &nops);
    for (int i = 0; i < t->depth; i++)
        if (locs[i] < 0)
            ops[nops++] = (plan_op){i, locs[i], 1};
    return nops;
}

/* Run the plan on elements [j0, j1) of every vector. */
static void apply_ops(const plan_op *ops, int64_t nops, double *held, double *slots,
                      int64_t stride, int64_t j0, int64_t j1)
{
    for (int64_t o = 0; o < nops; o++) {
        const plan_op op = ops[o];
        double *dst = op.dst >= 0 ? held + op.dst * stride : slots + (-1 - op.dst) * stride;
        const double *src = op.src >= 0 ? held + op.src * stride : slots + (-1 - op.src) * stride;
        if (op.copy)
            memcpy(dst + j0, src + j0, (size_t)(j1 - j0) * sizeof(double));
        else
            for (int64_t j = j0; j < j1; j++)
                dst[j] += src[j];
    }
}

int strata__tree_sum_push(strata__tree_sum *t, int64_t start, int level, const double *v)
{
    if (!next_node_ok(t, start, level))
        return STRATA_E_INTERNAL;
    /* v plays slot 0 of a one-slot batch: only read (every merge adds
     * into a held node), copied to its held position if no merge */
    int32_t locs[STRATA__TREE_MAX_NODES];
    plan_op ops[STRATA__TREE_MAX_NODES + 1];
    int64_t nops = 0;
    for (int i = 0; i < t->depth; i++)
        locs[i] = i;
    int i = push_node(t, start, level, -1, locs, ops, &nops);
    if (t->depth > t->cap)
        return STRATA_E_INTERNAL;
    if (locs[i] < 0)
        ops[nops++] = (plan_op){i, -1, 1};
    apply_ops(ops, nops, t->vec, (double *)v, t->stride, 0, t->len);
    return 0;
}

int strata__tree_sum_merge(strata__tree_sum *dst, const strata__tree_sum *src)
{
    if (dst->nchunks != src->nchunks || dst->len != src->len)
        return STRATA_E_INTERNAL;
    for (int i = 0; i < src->depth; i++) {
        int rc = strata__tree_sum_push(dst, src->start[i], src->level[i],
                                       src->vec + i * src->stride);
        if (rc)
            return rc;
    }
    return 0;
}

int strata__tree_sum_finish(const strata__tree_sum *t, double *total)
{
    if (t->nchunks == 0)
        return 0;
    if (t->origin != 0 || t->end != t->nchunks || t->depth < 1)
        return STRATA_E_INTERNAL;
    /* The held nodes are C's binary digits, largest first: B0 + (B1 + ...). */
    for (int64_t j = 0; j < t->len; j++) {
        double r = t->vec[(t->depth - 1) * t->stride + j];
        for (int i = t->depth - 2; i >= 0; i--)
            r = t->vec[i * t->stride + j] + r;
        total[j] += r;
    }
    return 0;
}

/* ---- chunk loops ---------------------------------------------------------- */

int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx)
{
    const int64_t nchunks = strata__chunk_count(n, chunk_rows);
    if (partial_len <= 0)
        return strata__parallel_chunk_range(n, chunk_rows, 0, nchunks, threads, NULL, fn, ctx);
    strata__tree_sum sum;
    int rc = strata__tree_sum_init(&sum, nchunks, partial_len);
    if (!rc)
        rc = strata__parallel_chunk_range(n, chunk_rows, 0, nchunks, threads, &sum, fn, ctx);
    if (!rc)
        rc = strata__tree_sum_finish(&sum, total);
    strata__tree_sum_free(&sum);
    return rc;
}

int strata__parallel_chunk_range(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                 int threads, strata__tree_sum *sum, strata__chunk_fn fn,
                                 void *ctx)
{
    return strata__parallel_chunk_range_side(n, chunk_rows, c0, c1, threads, sum, fn, ctx, NULL);
}

int strata__parallel_chunk_range_side(int64_t n, int64_t chunk_rows, int64_t c0, int64_t c1,
                                      int threads, strata__tree_sum *sum, strata__chunk_fn fn,
                                      void *ctx, const strata__side_work *side)
{
    const int64_t nside = side ? side->n : 0;
    /* Chunks c0 .. c1-1 are run as chunks 0 .. nchunks-1 shifted by c0. */
    int64_t nchunks = c1 - c0;
    if (nchunks <= 0) {
        for (int64_t i = 0; i < nside; i++)
            side->fn(side->ctx, i);
        return 0;
    }
    if (sum && ((sum->origin >= 0 && c0 != sum->end) || c1 > sum->nchunks || c0 < 0))
        return STRATA_E_INTERNAL;
    const int64_t partial_len = sum ? sum->len : 0;
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

    /* Chunks are processed in batches; a batch's partials are pushed into
     * the tree (plan_batch: an order fixed by the chunk indices alone) before
     * the next batch starts. The batch size changes only memory use and
     * scheduling, never the additions. Each chunk's partial starts on its
     * own 128-byte pair of cache lines, so threads adding into neighbouring
     * chunks never share a line. One thread pushes each chunk as soon as it
     * is done: one slot. */
    const int64_t slot_len = sum ? sum->stride : 0;
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
    plan_op *ops = NULL;
    if (partial_len > 0) {
        slots = strata__alloc((size_t)batch * (size_t)slot_len, sizeof(double));
        ops = strata__alloc((size_t)(batch + 2 * sum->cap), sizeof *ops);
        if (!slots || !ops) {
            strata__free(slots);
            strata__free(ops);
            return STRATA_E_NOMEM;
        }
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
            for (int64_t i = 0; i < nside; i++)
                side->fn(side->ctx, i);
            for (int64_t c = 0; c < nchunks; c++) {
                run_chunk(n, chunk_rows, c0 + c, 0, slots, partial_len, fn, ctx);
                if (slots) {
                    int64_t nops = plan_batch(sum, c0 + c, c0 + c + 1, ops);
                    apply_ops(ops, nops, sum->vec, slots, slot_len, 0, partial_len);
                }
            }
        }
    } else {
#ifdef _OPENMP
        int64_t busy = 0; /* CPU time the threads spent on chunks */
        int64_t nops = 0;
        const int64_t start = clock_ns(CLOCK_MONOTONIC);
#pragma omp parallel num_threads(threads) reduction(+ : busy)
        {
            int tid = omp_get_thread_num();
            omp_set_num_threads(1); /* BLAS inside a chunk stays single-threaded */
            /* Each thread pushes its own columns of every partial. */
            const int64_t j0 = partial_len * tid / threads;
            const int64_t j1 = partial_len * (tid + 1) / threads;
            for (int64_t b0 = 0; b0 < nchunks; b0 += batch) {
                int64_t b1 = b0 + batch < nchunks ? b0 + batch : nchunks;
                /* The plan needs only chunk indices: one thread makes it
                 * while the others start on the chunks. */
                if (partial_len > 0) {
#pragma omp single nowait
                    nops = plan_batch(sum, c0 + b0, c0 + b1, ops);
                }
                /* Chunk work only: not the waits at the barriers, nor the
                 * reduction (the dynamic loop has no barrier). */
                const int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
                if (b0 == 0 && nside > 0) {
#pragma omp for schedule(dynamic, 1) nowait
                    for (int64_t i = 0; i < nside; i++)
                        side->fn(side->ctx, i);
                }
#pragma omp for schedule(dynamic, 1) nowait
                for (int64_t c = b0; c < b1; c++) {
                    double *p = slots ? slots + (c - b0) * slot_len : NULL;
                    run_chunk(n, chunk_rows, c0 + c, tid, p, partial_len, fn, ctx);
                }
                busy += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
                if (partial_len > 0) {
                    /* The plan and every slot are ready; after the pushes,
                     * the slots are refilled only past the next barrier
                     * (the last batch has the region's). */
#pragma omp barrier
                    apply_ops(ops, nops, sum->vec, slots, slot_len, j0, j1);
                    if (b1 < nchunks) {
#pragma omp barrier
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
    strata__free(ops);
    return 0;
}
