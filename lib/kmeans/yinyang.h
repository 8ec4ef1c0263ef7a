/* Yinyang k-means (internal to lib/kmeans): an upper bound per row and a
 * lower bound per (row, group of centroids) skip the rows, and within a row
 * the groups, whose nearest centroid cannot have changed; the same labels,
 * sums and inertia as Lloyd, bitwise (kmeans/yinyang.c). */
#ifndef STRATA_KMEANS_YINYANG_H
#define STRATA_KMEANS_YINYANG_H

#include "kmeans/bounds.h"

/* At most this many groups: the bounds take (2 + groups) values of the
 * element type a row (72 bytes for float32). */
#define STRATA__YY_MAX_GROUPS 16

typedef struct strata__yinyang {
    int64_t n, k, d, kp;
    int64_t groups;     /* t */
    int64_t width;      /* columns per group (a multiple of the kernel's lanes) */
    int64_t call;       /* columns per scores() call (at most STRATA__SCORES_MAX_V vectors) */
    int fresh;          /* no bounds yet: the next pass scores every row, and groups */
    int fused;          /* FUSED: failing groups scored alone; GEMM: whole rows */
    /* Bounds, n (x groups), element type, each kept in the frame of the
     * cumulative moves below so that a row the global test passes is only
     * read, never written: */
    void *upper;        /* n: >= (distance to its centroid a) - cum[a] */
    void *glb;          /* n: <= (distance to every other centroid) + cum_max */
    void *lower;        /* n x groups: <= (distance to the group's centroids but a) + cum_g[g] */
    int32_t *perm;      /* groups x width: the centroid in each slot, -1 for padding */
    int32_t *group;     /* k: the group of each centroid */
    double *c_prev;     /* k x d: the centroids of the previous pass */
    double *move;       /* k: >= how far centroid j moved since then */
    double *cum, *cum_g, cum_max; /* >= the sums of the moves of each centroid, of each
                                     group's largest, of the largest, since the start */
    void *cum_t, *cum_g_t;        /* the same in the element type, rounded up */
    double cum_max_t;
    double *half;       /* k: <= half the distance from centroid j to the nearest other */
    void *half_t;       /* k: the same in the element type */
    strata__margin mg;
    void *ct_perm, *bias_perm; /* FUSED: the table's columns in group order, cut in calls */
    void *zero;         /* FUSED: `call` zeros of the element type (argmin bias) */
    int threads;
    int64_t **rows;     /* per thread: offsets of the rows to score */
    unsigned char **fail, **need; /* per thread: row test; groups to score (rows x groups) */
    double **lcur;      /* per thread: rows x groups current lower bounds */
    double **m1, **m2;  /* per thread: rows x groups lowest and second-lowest score */
    int32_t **i1;       /* per thread: rows x groups the lowest score's centroid */
    double **xnorm;     /* per thread: ||x'||^2 of the rows scored; a group's lowest scores */
    int32_t **l1;       /* per thread: a group's lowest and second-lowest slots */
    int32_t **list;     /* per thread: the rows a group is scored for */
    void **xg, **sc;    /* per thread: gathered centred rows; scores of one call */
    /* of the pass under way */
    const strata__tables *t;
    const strata__data *X;
    const int32_t *labels;
} strata__yinyang;

/* Groups for k centroids with tables t: the number, and the bytes of bounds
 * a row (for messages and the memory rule of strata__algorithm_choose). */
int64_t strata__yinyang_groups(int64_t k, int kernel_lanes, int64_t *width);
/* Bounds and scratch for n rows and the tables t (kept by the caller). */
int strata__yinyang_init(strata__yinyang *y, const strata__tables *t, int64_t n);
void strata__yinyang_free(strata__yinyang *y);
/* Forget the bounds and groups (a new run). */
void strata__yinyang_reset(strata__yinyang *y);
/* strata__assign_pass() for the centroids last set in t (mode UPDATE,
 * UPDATE_INERTIA or DELTA): the same labels and totals, bitwise. */
int strata__yinyang_pass(strata__yinyang *y, const strata__tables *t, const strata__data *X,
                         int32_t *labels, double *totals, int mode);
/* The same over a row source whose rows stay where the bounds were made
 * (a distributed source's in-memory rows: as strata__hamerly_pass_src()). */
int strata__yinyang_pass_src(strata__yinyang *y, const strata__tables *t,
                             const strata__rowsrc *src, int32_t *labels, double *totals, int mode,
                             char *msg);

#endif
