/* Hamerly's bounds for a streamed fit (internal to lib/kmeans): one gap per
 * row in two bytes, so that they fit a memory budget next to the labels, and
 * a pass scores only the rows whose gap no longer proves their label, with
 * Lloyd's labels, sums and inertia bitwise (kmeans/gaps.c). */
#ifndef STRATA_KMEANS_GAPS_H
#define STRATA_KMEANS_GAPS_H

#include "kmeans/bounds.h"

/* Bytes a row of the gaps. */
#define STRATA__GAP_BYTES 2

typedef struct strata__gaps {
    int64_t k, d, kp;
    int fresh;          /* no gaps yet: the next pass scores every row */
    uint16_t *gap;      /* n: bfloat16 of S_i (gaps.c), rounded down */
    double *c_prev;     /* k x d: the centroids of the previous pass */
    double *shift;      /* k: >= how far centroid j moved since then */
    double *other;      /* k: >= the largest move of the centroids other than j */
    float *dec;         /* k: >= how much the gap of a row of cluster j shrank since */
    float thr;          /* the pass's threshold on S (gaps.c), rounded up */
    double root;        /* >= sqrt(2 eps) (set once: eps depends on d and the type) */
    double xup;         /* 1 + 4 u: sqrt(||x'||^2) x xup >= ||x - m|| */
    double xrel;        /* (2d + 8) u: the relative error of ||x'||^2 summed in the
                           element type (d products and sums of positive terms) */
    strata__margin mg;  /* the kernel's score error: eps (|x - m| + cmax)^2 + tiny */
    int threads;
    int64_t **rows;     /* per thread: offsets of the rows to score */
    int32_t **lab;      /* per thread: their labels */
    void **xn;          /* per thread: their ||x'||^2 (element type) */
    void **s1, **s2;    /* per thread: their two lowest scores (element type) */
    float **gf;         /* per thread: their new S */
    /* of the pass under way */
    const strata__tables *t;
    const strata__data *X;
    const int32_t *labels;
} strata__gaps;

/* Gaps and scratch for n rows and the tables t (kept by the caller):
 * STRATA_OK or STRATA_E_NOMEM. */
int strata__gaps_init(strata__gaps *g, const strata__tables *t, int64_t n);
void strata__gaps_free(strata__gaps *g);
/* Forget the gaps (a new run). */
void strata__gaps_reset(strata__gaps *g);
/* strata__assign_pass_src() for the centroids last set in t (any mode but
 * STRATA__PASS_INERTIA and STRATA__PASS_LABEL) over a source that is not
 * distributed: the same labels and totals, bitwise. STRATA_OK or the pass's
 * status (msg set). */
int strata__gaps_pass_src(strata__gaps *g, const strata__tables *t, const strata__rowsrc *src,
                          int32_t *labels, double *totals, int mode, char *msg);

#endif
