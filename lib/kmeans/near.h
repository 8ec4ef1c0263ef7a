/* Lloyd's pass that first tests each row against its previous centroid
 * (internal to lib/kmeans): a row well inside half the distance from that
 * centroid to the next keeps its label unscored, with no state kept per row;
 * the others are scored as Lloyd scores them. The same labels and totals as
 * Lloyd's pass, bitwise (kmeans/near.c). Streamed Lloyd fits use it: their
 * rows cannot afford Hamerly's bounds, and most of a pass is the scoring. */
#ifndef STRATA_KMEANS_NEAR_H
#define STRATA_KMEANS_NEAR_H

#include "kmeans/bounds.h"

typedef struct strata__near {
    int64_t k, d;
    int fresh;       /* no labels yet (a run's first pass): every row is scored */
    int probe;       /* this pass tests only a sample of the blocks (near.c) */
    void *c;         /* k x d: the centroids in the element type, rounded to nearest */
    void *q;         /* k: a row of cluster j whose own_* value is below q[j] keeps j */
    double *half;    /* k: <= half the distance from centroid j to its nearest other */
    int threads;
    int64_t **rows;  /* per thread: offsets of the block's rows to score */
    int32_t **lab;   /* per thread: their labels */
    int64_t *count;  /* per thread, a cache line apart: rows tested, rows kept */
    int64_t tested, kept; /* of the last pass: rows tested, rows kept unscored */
    void **own;      /* per thread: the block's own_* values (element type) */
    /* of the pass under way */
    const strata__tables *t;
    const strata__data *X;
    const int32_t *labels;
} strata__near;

/* Tables and scratch for the tables t (kept by the caller): STRATA_OK or
 * STRATA_E_NOMEM. */
int strata__near_init(strata__near *s, const strata__tables *t);
void strata__near_free(strata__near *s);
/* A new run: the next pass scores every row. */
void strata__near_reset(strata__near *s);
/* strata__assign_pass_src() for the centroids last set in t (any mode but
 * STRATA__PASS_INERTIA) over a source that is not distributed: the same
 * labels and totals, bitwise. STRATA_OK or the pass's status (msg set). */
int strata__near_pass_src(strata__near *s, const strata__tables *t, const strata__rowsrc *src,
                          int32_t *labels, double *totals, int mode, char *msg);
/* Rows kept unscored by every pass of this process so far (tests). */
int64_t strata__near_kept_rows(void);

#endif
