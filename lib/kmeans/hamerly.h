/* Hamerly's algorithm (internal to lib/kmeans): one upper and one lower
 * bound per row let a pass skip the rows whose nearest centroid cannot have
 * changed, with the same labels, sums and inertia as Lloyd (kmeans/hamerly.c). */
#ifndef STRATA_KMEANS_HAMERLY_H
#define STRATA_KMEANS_HAMERLY_H

#include "kmeans/bounds.h"

typedef struct strata__hamerly {
    int64_t n, k, d, kp;
    int fresh;          /* no bounds yet: the next pass scores every row */
    void *upper;        /* n, element type: >= the distance of row i to its centroid */
    void *lower;        /* n, element type: <= its distance to every other centroid */
    double *c_prev;     /* k x d: the centroids of the previous pass */
    double *shift;      /* k: >= how far centroid j moved since then */
    double *shift_other;/* k: >= the largest move of the centroids other than j */
    double *half;       /* k: <= half the distance from centroid j to the nearest other */
    void *shift_t, *other_t, *half_t; /* k each: shift (up), shift_other (up), half (down)
                                         in the element type, for the row loop */
    strata__margin mg;  /* the kernel's score error: eps (|x'| + cmax)^2 + tiny */
    int64_t slice;      /* centroid columns per scores() call (FUSED) */
    void *ct_sliced;    /* FUSED with kp > slice: the table cut into slices */
    void *zero;         /* kp zeros of the element type (FUSED argmin bias) */
    int threads;
    void **scores;      /* per thread: STRATA__BLOCK_ROWS x kp scores */
    void **part;        /* per thread: STRATA__BLOCK_ROWS x slice scores (sliced) */
    int64_t **rows;     /* per thread: offsets of the rows to score */
    int32_t **lab2;     /* per thread: second-nearest labels */
    double **xnorm;     /* per thread: ||x'||^2 of the rows scored */
    unsigned char **fail; /* per thread: STRATA__BLOCK_ROWS flags of the row test */
    /* of the pass under way */
    const strata__tables *t;
    const strata__data *X;
    const int32_t *labels;
} strata__hamerly;

/* Bounds and scratch for n rows and the tables t (kept by the caller). */
int strata__hamerly_init(strata__hamerly *h, const strata__tables *t, int64_t n);
void strata__hamerly_free(strata__hamerly *h);
/* Forget the bounds (a new run). */
void strata__hamerly_reset(strata__hamerly *h);
/* strata__assign_pass() for the centroids last set in t (mode UPDATE or
 * UPDATE_INERTIA): the same labels and totals, bitwise. */
int strata__hamerly_pass(strata__hamerly *h, const strata__tables *t, const strata__data *X,
                         int32_t *labels, double *totals, int mode);
/* The same over a row source whose rows stay where the bounds were made
 * (a distributed source's in-memory rows, core/rowsrc.h: each rank keeps
 * the bounds of its rows; the pass's totals are combined as Lloyd's are).
 * Returns STRATA_OK or the pass's status (msg set). */
int strata__hamerly_pass_src(strata__hamerly *h, const strata__tables *t,
                             const strata__rowsrc *src, int32_t *labels, double *totals, int mode,
                             char *msg);

#endif
