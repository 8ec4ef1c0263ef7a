/* The double-buffered block walk under every streamed source (row sources,
 * core/rowsrc.h; column sources, core/colsrc.h): rows [0, n) in blocks of
 * block_rows, in order, block b read into buffer slot b & 1 by the source's
 * read function. As soon as block b is handed out, the read of block b + 1
 * starts on a reader thread (into the other slot), so it overlaps the
 * caller's work on block b; the caller is done with block b when it asks
 * for the next one. Without a thread to be had the read runs inline (only
 * the overlap is lost). The walk owns no buffers: the source wrapping it
 * does, and its read function fills slot `slot`. */
#ifndef STRATA_CORE_BLOCKWALK_H
#define STRATA_CORE_BLOCKWALK_H

#include <pthread.h>
#include <stdint.h>

#include "core/status.h"

/* Read rows [r0, r0 + m) into buffer slot `slot` (0 or 1). Runs on the reader
 * thread or the caller's, never on two at once for one walk. Returns
 * STRATA_OK or a status with msg (STRATA__MSG_LEN) set. */
typedef int (*strata__block_read_fn)(void *ctx, int slot, int64_t r0, int64_t m, char *msg);

typedef struct strata__blockwalk {
    strata__block_read_fn read; /* NULL: nothing to read (one block, in memory) */
    void *ctx;
    int64_t n, block_rows, nblocks, next; /* next: the next block to hand out */
    /* the read of block `next`, once started */
    int64_t r0, m;
    int slot, rc;
    char msg[STRATA__MSG_LEN];
    pthread_t th;
    int th_live; /* the read runs on th */
    int started; /* a read holds block `next` (running or done) */
} strata__blockwalk;

/* A walk over n rows in blocks of block_rows (>= 1). */
void strata__blockwalk_init(strata__blockwalk *w, int64_t n, int64_t block_rows,
                            strata__block_read_fn read, void *ctx);
/* The next block: its rows [*r0, *r0 + *m) in slot *slot, read; *more = 0 at
 * the end. Starts the read of the block after it. Returns STRATA_OK or the
 * read's status (msg set). */
int strata__blockwalk_next(strata__blockwalk *w, int64_t *r0, int64_t *m, int *slot, int *more,
                           char *msg);
/* Wait for a read still running (before the buffers are freed). */
void strata__blockwalk_end(strata__blockwalk *w);

#endif
