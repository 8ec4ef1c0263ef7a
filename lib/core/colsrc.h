/* Column sources: where an engine whose input is a table of typed columns
 * (RFM's transaction log: customer id int64, exact beyond 2^53; day int64;
 * amount float64) reads it from (docs/design.md, "Row sources"). The
 * sibling of core/rowsrc.h for data that are not a float matrix, walked by
 * the same double-buffered block walk (core/blockwalk.h): in memory, the
 * arrays themselves as one block; a stream, ops that read rows [r0, r0 + m)
 * of the columns asked for, in blocks of block_rows, the next block read on
 * another thread while the current one is worked on. The engine never
 * learns which it has. */
#ifndef STRATA_CORE_COLSRC_H
#define STRATA_CORE_COLSRC_H

#include <stdint.h>

/* Columns a source may have, and their element types (8 bytes each). */
#define STRATA__COLS_MAX 8
enum { STRATA__COL_INT64 = 1, STRATA__COL_FLOAT64 = 2 };

/* A stream's reader: rows [r0, r0 + m) of every column k whose bufs[k] is
 * not NULL into bufs[k] (m elements of the column's type). Called from one
 * thread at a time (the walk's reader thread or the caller), never two at
 * once for one source. Returns STRATA_OK or a status with msg
 * (STRATA__MSG_LEN) set. */
typedef struct strata__colsrc_ops {
    int (*read)(void *impl, int64_t r0, int64_t m, void *const *bufs, char *msg);
} strata__colsrc_ops;

typedef struct strata__colsrc {
    int ncols;
    int type[STRATA__COLS_MAX]; /* STRATA__COL_* */
    int64_t n;                  /* rows */
    const void *col[STRATA__COLS_MAX]; /* in memory: the columns (borrowed); a stream: NULL */
    const strata__colsrc_ops *ops;     /* NULL: in memory */
    void *impl;
    int64_t block_rows; /* streams: rows per block (>= 1) */
} strata__colsrc;

/* The in-memory source of ncols (<= STRATA__COLS_MAX) columns of n rows. */
void strata__colsrc_memory(int ncols, const int *type, const void *const *cols, int64_t n,
                           strata__colsrc *out);

/* Bytes of the block buffers a walk of the columns in `want` (bit k: column
 * k) allocates (0 in memory). */
int64_t strata__colsrc_buffer_bytes(const strata__colsrc *src, unsigned want);

/* Sequential walk over src's blocks, reading the columns in `want` (bit k:
 * column k); the others are NULL in each block. In memory: one block, the
 * arrays themselves. Streamed: two buffers of block_rows rows a column,
 * block b + 1 read on another thread while the caller works on block b. */
typedef struct strata__colsrc_walk strata__colsrc_walk;
int strata__colsrc_walk_open(strata__colsrc_walk **w, const strata__colsrc *src, unsigned want,
                             char *msg);
/* The next block: rows [*r0, *r0 + *m), column k's values at cols[k]
 * (valid until the next call); *more = 0 at the end. The caller is done with
 * the block before when it calls. Returns STRATA_OK or the read's status
 * (msg set). */
int strata__colsrc_walk_next(strata__colsrc_walk *w, int64_t *r0, int64_t *m,
                             const void **cols, int *more, char *msg);
void strata__colsrc_walk_close(strata__colsrc_walk *w);

#endif
