/* Distribution hooks: what an engine needs from the other processes of a
 * distributed run (docs/distributed.md), without knowing how they talk.
 *
 * The serial library never makes one (a row source's dist is NULL and every
 * engine runs as before). lib/mpi fills one with MPI calls. The n rows of a
 * run are cut into the C = ceil(n / STRATA__CHUNK_ROWS) chunks of
 * core/parallel.h; process r of P owns the chunks strata__dist_chunks()
 * gives, a split that depends on n and P only, and reads only their rows.
 *
 * Every hook is COLLECTIVE: all processes call it, in the same order, with
 * the same sizes. Each takes the caller's status (rc, with its message in
 * msg) and returns the run's: the status of the lowest-ranked process that
 * failed, with its message copied into msg, or STRATA_OK when none did, so
 * that a failure on one process (a read error) ends the run on all of them
 * with one message instead of leaving the others waiting. A process that
 * failed still calls the hook (its data arguments may then be NULL: the
 * hooks other than tree_combine first agree on the status, and exchange
 * data only when no process failed). A process that fails on its own may
 * call agree() alone where the others' next exchange is any hook but
 * tree_combine (which carries the status with the sums: one collective a
 * pass); before a pass, callers agree on their own failures first. On a
 * failure the data arguments are left unspecified. */
#ifndef STRATA_CORE_DIST_H
#define STRATA_CORE_DIST_H

#include <stdint.h>

#include "core/parallel.h"

typedef struct strata__dist strata__dist;
struct strata__dist {
    int rank, size;
    void *impl;
    /* The run's status (see above), nothing else exchanged. */
    int (*agree)(const strata__dist *d, int rc, char *msg);
    /* t holds this process's pushes (its own chunks, or nothing); on return
     * every process's t holds the nodes of all of them merged in rank order
     * (strata__tree_sum_merge), so strata__tree_sum_finish() gives the bits
     * of one process's pass. The status travels with the sums (one
     * collective); t->nchunks and t->len must be set even when rc != 0 or
     * t->vec is NULL (strata__tree_sum_init() sets them before it
     * allocates; a NULL vec is reported as out of memory). */
    int (*tree_combine)(const strata__dist *d, strata__tree_sum *t, int rc, char *msg);
    /* Every process's `bytes[rank]` bytes of `mine`, concatenated in rank
     * order, into all (sum of bytes bytes; bytes[] is the same array on
     * every process). */
    int (*allgather)(const strata__dist *d, const void *mine, const int64_t *bytes, void *all,
                     int rc, char *msg);
    /* Process root's `bytes` bytes of buf to every process's buf. */
    int (*bcast)(const strata__dist *d, void *buf, int64_t bytes, int root, int rc, char *msg);
    /* v[j] = the largest v[j] of all processes (exact: a max). */
    int (*max_f64)(const strata__dist *d, double *v, int64_t len, int rc, char *msg);
    /* v[j] = the smallest v[j] of all processes. */
    int (*min_i64)(const strata__dist *d, int64_t *v, int64_t len, int rc, char *msg);
};

/* Process `rank` of `size` owns chunks [*c0, *c1) of nchunks: floor(C r / P)
 * to floor(C (r + 1) / P) (possibly none when C < P). */
static inline void strata__dist_chunks(int64_t nchunks, int size, int rank, int64_t *c0,
                                       int64_t *c1)
{
    /* C r / P without overflow for C < 2^62, P < 2^31 */
    *c0 = nchunks / size * rank + nchunks % size * rank / size;
    *c1 = nchunks / size * (rank + 1) + nchunks % size * (rank + 1) / size;
}

/* The process owning chunk ch. */
static inline int strata__dist_owner(int64_t nchunks, int size, int64_t ch)
{
    int lo = 0, hi = size - 1; /* the last rank r with c0(r) <= ch */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        int64_t c0, c1;
        strata__dist_chunks(nchunks, size, mid, &c0, &c1);
        if (c0 <= ch)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Per-chunk values: chunk ch's `stride` doubles at v + ch * stride, filled
 * by its owner; afterwards every process holds all nchunks x stride. */
int strata__dist_gather_chunks(const strata__dist *d, int64_t nchunks, double *v, int64_t stride,
                               int rc, char *msg);

#endif
