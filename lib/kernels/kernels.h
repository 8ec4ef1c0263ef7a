/* Distance / assignment kernels, one implementation per instruction set,
 * chosen once at run time (never -march=native).
 *
 * The assignment uses the expanded form on centred data: for a centred row
 * x' = x - m and centred centroids c' = c - m,
 *     ||x - c_j||^2 = ||x'||^2 + bias_j + sum_f x'_f * ct[f][j]
 * with bias_j = ||c'_j||^2 and ct[f][j] = -2 c'_jf. ||x'||^2 is common to all
 * j, so the argmin needs only bias + x' . ct. Centring keeps the expanded form
 * accurate when features carry large offsets (spend, timestamps).
 * Centroid tables are padded to kp (a multiple of the kernel's lane count)
 * with bias = +inf so padded lanes never win. Ties go to the lowest index. */
#ifndef STRATA_KERNELS_H
#define STRATA_KERNELS_H

#include <stdint.h>

#include "core/rank_keys.h"

/* Most centroid vectors scores() handles (16 x lanes columns). */
#define STRATA__SCORES_MAX_V 16

/* The row check of RFM aggregation (check_rows): rows with a customer id of
 * INT64_MIN or below min_id, then a day (the time itself, or floor(time /
 * 86400) with seconds) outside [min_day, max_day], then a non-finite amount,
 * are dropped under that first problem; the rest are negative, zero or kept
 * purchases, negatives and zeros kept as the flags say. */
typedef struct strata__row_check {
    int64_t min_id, min_day, max_day;
    int keep_negative, keep_zero, seconds;
} strata__row_check;

/* Reasons counted by check_rows, in the order rows are checked. */
enum {
    STRATA__ROW_KEPT,
    STRATA__ROW_BAD_ID,
    STRATA__ROW_BAD_TIME,
    STRATA__ROW_BAD_AMOUNT,
    STRATA__ROW_NEGATIVE,
    STRATA__ROW_ZERO,
    STRATA__ROW_REASONS
};

/* What check_rows finds in a run of rows: rows per reason (ROW_KEPT: rows
 * with no problem), the kept rows (purchases, and negatives or zeros kept),
 * their id and time ranges, and whether every kept amount is whole cents
 * (amount == cents / 100.0 exactly, |cents| <= 2^52), with the cent range
 * of those that are. */
typedef struct strata__row_stats {
    int64_t count[STRATA__ROW_REASONS];
    int64_t kept, min_id, max_id, min_time, max_time, min_cents, max_cents;
    int all_cents;
} strata__row_stats;

typedef struct strata__kernels {
    int id;        /* strata_kernel value */
    int lanes_f32; /* kp must be a multiple of this for f32 tables */
    int lanes_f64;

    /* out (rows x d, contiguous) = x (rows with `stride`) - mean */
    void (*center_f32)(const float *x, int64_t rows, int64_t stride, int64_t d, const float *mean,
                       float *out);
    void (*center_f64)(const double *x, int64_t rows, int64_t stride, int64_t d, const double *mean,
                       double *out);
    /* labels[r] = argmin_j bias[j] + x'[r] . ct[:, j], row r at x + r * stride;
     * x' = x - mean computed on the way in where mean is not NULL (the bits
     * of center_* then assign_* on its copy), else x' = x. */
    void (*assign_f32)(const float *x, int64_t rows, int64_t stride, int64_t d, const float *mean,
                       const float *ct, const float *bias, int64_t kp, int32_t *labels);
    void (*assign_f64)(const double *x, int64_t rows, int64_t stride, int64_t d,
                       const double *mean, const double *ct, const double *bias, int64_t kp,
                       int32_t *labels);
    /* assign_*'s labels, and of each row its label's score s1[r] and the
     * lowest score of the other columns s2[r] (equal to s1[r] where a column
     * ties the label's, +inf where k = 1): the bits assign_* compares. The
     * streamed bounds (kmeans/gaps.c) keep the gap between the two. */
    void (*assign2_f32)(const float *x, int64_t rows, int64_t stride, int64_t d,
                        const float *mean, const float *ct, const float *bias, int64_t kp,
                        int32_t *labels, float *s1, float *s2);
    void (*assign2_f64)(const double *x, int64_t rows, int64_t stride, int64_t d,
                        const double *mean, const double *ct, const double *bias, int64_t kp,
                        int32_t *labels, double *s1, double *s2);
    /* out[r] = sum_f x'[r][f]^2, x' = x - mean as assign_* centres (x where
     * mean is NULL), row r at x + r * stride, summed in the element type in
     * some order: within (2d + 8) u of the exact sum of x'^2 (u the type's
     * unit roundoff: d products, at most d - 1 additions of non-zeros). */
    void (*norms_f32)(const float *x, int64_t rows, int64_t stride, int64_t d, const float *mean,
                      float *out);
    void (*norms_f64)(const double *x, int64_t rows, int64_t stride, int64_t d,
                      const double *mean, double *out);
    /* out[r] = ||x[r]||^2 of `rows` contiguous float32 rows of d (k-means++'s
     * centred rows) in double: the square of feature f added to running sum
     * f mod 4 in feature order, the features past the last whole four to sum
     * 0, then (s0 + s1) + (s2 + s3). A float's square is exact in double, so
     * every kernel gives these bits, fused or not. */
    void (*norms64_f32)(const float *x, int64_t rows, int64_t d, double *out);
    /* out[r] = sum_f (x[r][f] - c[lab[r] * d + f])^2, row r at x + r * stride,
     * c a k x d row-major table in the element type and every lab[r] a row
     * of it, computed in the element type in some order: at least (1 - (2d +
     * 8) u) times the exact sum of the squared differences (d subtractions
     * and products, at most d + 3 additions of non-negative terms; +inf or
     * more where it overflows). A Lloyd pass tests with it whether a row's
     * previous label still holds (kmeans/near.c). */
    void (*own_f32)(const float *x, int64_t rows, int64_t stride, int64_t d, const int32_t *lab,
                    const float *c, float *out);
    void (*own_f64)(const double *x, int64_t rows, int64_t stride, int64_t d, const int32_t *lab,
                    const double *c, double *out);
    /* Whether assign_* with a mean (centring on the way in) was measured
     * faster than center_* and assign_* on the copy, at kp columns. */
    int (*centre_in_f32)(int64_t kp);
    int (*centre_in_f64)(int64_t kp);
    /* labels[r] = argmin_j bias[j] + scores[r*kp + j] (after a GEMM) */
    void (*argmin_f32)(const float *scores, int64_t rows, const float *bias, int64_t kp,
                       int32_t *labels);
    void (*argmin_f64)(const double *scores, int64_t rows, const double *bias, int64_t kp,
                       int32_t *labels);
    /* out[r*kp + j] = bias[j] + xc[r] . ct[:, j] for all kp columns; kp/lanes
     * must be at most STRATA__SCORES_MAX_V. A contract Hamerly relies on:
     * each score is the same bits as the one assign / assign_few compare
     * (bias first, one FMA per feature in feature order), so argmin of these
     * scores is their label. */
    void (*scores_f32)(const float *xc, int64_t rows, int64_t d, const float *ct,
                       const float *bias, int64_t kp, float *out);
    void (*scores_f64)(const double *xc, int64_t rows, int64_t d, const double *ct,
                       const double *bias, int64_t kp, double *out);
    /* For each row r with label l = labels[r] and weight w (1 if w == NULL):
     * sums[l*d + f] += w * x[r][f]; wsum[l] += w; *inertia += w * ||x[r] - c[l]||^2,
     * all in double, rows in order. With inertia == NULL, sums and weights
     * only (c is not read). */
    void (*accumulate_f32)(const float *x, int64_t rows, int64_t stride, int64_t d,
                           const int32_t *labels, const double *w, const double *c, double *sums,
                           double *wsum, double *inertia);
    void (*accumulate_f64)(const double *x, int64_t rows, int64_t stride, int64_t d,
                           const int32_t *labels, const double *w, const double *c, double *sums,
                           double *wsum, double *inertia);
    /* Optional (NULL where absent): the same labels as assign_f32 / assign_f64,
     * with rows in vector lanes; only the first k of the kp columns are read.
     * Used (lib/kmeans/assign.c) where few_f32(k, d) / few_f64(k, d) say so:
     * the shapes where each was measured faster than assign_*. */
    void (*assign_few_f32)(const float *xc, int64_t rows, int64_t d, const float *ct,
                           const float *bias, int64_t k, int64_t kp, int32_t *labels);
    void (*assign_few_f64)(const double *xc, int64_t rows, int64_t d, const double *ct,
                           const double *bias, int64_t k, int64_t kp, int32_t *labels);
    int (*few_f32)(int64_t k, int64_t d);
    int (*few_f64)(int64_t k, int64_t d);
    /* Rank keys (RFM bins, selection splits): core/rank_keys.h. */
    strata__rank_keys_fn *rank_keys;
    /* The RFM row check of rows [0, n): bit i of kept_bits (n / 64 words,
     * rounded up) set for each kept row; *st the counts and ranges. */
    void (*check_rows)(const int64_t *id, const int64_t *time, const double *amount, int64_t n,
                       const strata__row_check *chk, uint64_t *kept_bits,
                       strata__row_stats *st);
} strata__kernels;

/* The table for a strata_kernel value (AUTO = the best this CPU runs), or NULL
 * if this CPU cannot run it. */
const strata__kernels *strata__kernels_get(int kernel);

extern const strata__kernels strata__kernels_scalar;
extern const strata__kernels strata__kernels_avx2;
extern const strata__kernels strata__kernels_avx512;

#endif
