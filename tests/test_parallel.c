/* The reduction tree of lib/core/parallel.c ("Reduction order" in
 * docs/design.md), white-box: this program is built from lib/core/parallel.c
 * and lib/core/mem.c themselves (the library exports neither).
 *
 * - strata__parallel_chunks() gives S(0, C) of the documented tree, checked
 *   against a straightforward recursive evaluation of its definition, bitwise,
 *   for C = 1..300 and 1..4 threads;
 * - any split of [0, C) into consecutive ranges gives the same bits: ranges
 *   pushed into one sum (a stream's blocks), and ranges summed apart (future
 *   MPI ranks) and then merged in any association order;
 * - a streamed sum holds O(log C) vectors;
 * - pairwise summation stays within a few ulps where a left fold drifts. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "strata.h"
#include "test.h"

#define LEN 5 /* doubles per partial: not a multiple of the vector stride */
#define CMAX 300

/* splitmix64: the partials and the splits */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Chunk c's partial element j: signs and magnitudes spread over 2^-20..2^20,
 * so that every change in the order of additions shows in the bits. */
static double value(int64_t c, int64_t j)
{
    uint64_t h = mix((uint64_t)c * 64 + (uint64_t)j + 1);
    double m = (double)(h >> 11) * 0x1p-53;
    int e = (int)((h >> 3) % 41) - 20;
    return ldexp(h & 1 ? -m : m, e);
}

typedef struct fill_ctx {
    int64_t chunk_rows, n;
    int bad; /* a chunk saw rows that are not its own */
} fill_ctx;

static void fill_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                       double *partial)
{
    fill_ctx *f = ctx;
    int64_t want_end = (chunk + 1) * f->chunk_rows < f->n ? (chunk + 1) * f->chunk_rows : f->n;
    if (begin != chunk * f->chunk_rows || end != want_end)
        f->bad = 1;
    for (int64_t j = 0; j < LEN; j++) {
        if (partial[j] != 0.0)
            f->bad = 1; /* partials start zeroed */
        partial[j] = value(chunk, j);
    }
}

/* The definition, evaluated recursively: S(lo, hi) = S(lo, m) + S(m, hi),
 * m = lo + the largest power of two strictly below hi - lo. */
static double ref_sum(int64_t lo, int64_t hi, int64_t j)
{
    if (hi - lo == 1)
        return value(lo, j);
    int64_t p = 1;
    while (2 * p < hi - lo)
        p *= 2;
    return ref_sum(lo, lo + p, j) + ref_sum(lo + p, hi, j);
}

static int same_bits(const double *a, const double *b, int64_t len)
{
    return memcmp(a, b, (size_t)len * sizeof(double)) == 0;
}

/* Random cut points: a split of [0, C) into consecutive ranges. */
static int64_t random_split(uint64_t *seed, int64_t C, int64_t *cuts)
{
    int64_t m = 0, c = 0;
    cuts[m++] = 0;
    uint64_t style = mix(++*seed) % 3; /* short, long, mixed ranges */
    while (c < C) {
        uint64_t r = mix(++*seed);
        int64_t step = style == 0 ? 1 + (int64_t)(r % 3)
                       : style == 1 ? 1 + (int64_t)(r % (uint64_t)(C > 1 ? C : 1))
                                    : 1 + (int64_t)(r % 17);
        c = c + step < C ? c + step : C;
        cuts[m++] = c;
    }
    return m; /* ranges [cuts[i], cuts[i + 1]) for i < m - 1 */
}

static void test_tree_equals_reference(void)
{
    for (int64_t C = 1; C <= CMAX; C++)
        for (int64_t rows = 1; rows <= 3; rows += 2) {
            double want[LEN];
            for (int64_t j = 0; j < LEN; j++)
                want[j] = ref_sum(0, C, j);
            for (int threads = 1; threads <= 4; threads++) {
                fill_ctx f = {rows, C * rows - (rows > 1), 0};
                double got[LEN] = {0};
                ASSERT_EQ_INT(
                    strata__parallel_chunks(f.n, rows, threads, LEN, got, fill_chunk, &f), 0);
                ASSERT_MSG(!f.bad, "C=%lld: a chunk saw the wrong rows or a dirty partial",
                           (long long)C);
                ASSERT_MSG(same_bits(got, want, LEN),
                           "C=%lld threads=%d: %.17g, reference %.17g", (long long)C, threads,
                           got[0], want[0]);
            }
        }
}

/* total is added to, not overwritten: total + S(0, C). */
static void test_total_is_added_to(void)
{
    fill_ctx f = {1, 37, 0};
    double got[LEN], want[LEN];
    for (int64_t j = 0; j < LEN; j++) {
        got[j] = 1000.0 + (double)j;
        want[j] = got[j] + ref_sum(0, 37, j);
    }
    ASSERT_EQ_INT(strata__parallel_chunks(37, 1, 2, LEN, got, fill_chunk, &f), 0);
    ASSERT_TRUE(same_bits(got, want, LEN));
}

/* Consecutive ranges into one sum (a stream's blocks, any thread count per
 * block) give the one-range bits. */
static void test_stream_splits(void)
{
    uint64_t seed = 1;
    int64_t cuts[CMAX + 2];
    for (int64_t C = 1; C <= CMAX; C++) {
        double want[LEN];
        for (int64_t j = 0; j < LEN; j++)
            want[j] = ref_sum(0, C, j);
        for (int rep = 0; rep < 12; rep++) {
            int64_t m = random_split(&seed, C, cuts);
            fill_ctx f = {1, C, 0};
            strata__tree_sum sum;
            ASSERT_EQ_INT(strata__tree_sum_init(&sum, C, LEN), 0);
            for (int64_t i = 0; i + 1 < m; i++)
                ASSERT_EQ_INT(strata__parallel_chunk_range(C, 1, cuts[i], cuts[i + 1],
                                                           1 + (int)(mix(++seed) % 3), &sum,
                                                           fill_chunk, &f),
                              0);
            double got[LEN] = {0};
            ASSERT_EQ_INT(strata__tree_sum_finish(&sum, got), 0);
            strata__tree_sum_free(&sum);
            ASSERT_TRUE(!f.bad);
            ASSERT_MSG(same_bits(got, want, LEN), "C=%lld, %lld ranges: %.17g vs %.17g",
                       (long long)C, (long long)(m - 1), got[0], want[0]);
        }
    }
}

/* Ranges summed apart (each its own sum from its first chunk, as an MPI rank
 * would), then merged, adjacent pairs in random order (the association an
 * all-reduce may choose), give the one-range bits. */
static void test_owner_splits(void)
{
    uint64_t seed = 99;
    int64_t cuts[CMAX + 2];
    static strata__tree_sum part[CMAX + 1];
    int bound_ok = 1;
    for (int64_t C = 1; C <= CMAX; C++) {
        double want[LEN];
        for (int64_t j = 0; j < LEN; j++)
            want[j] = ref_sum(0, C, j);
        int levels = 0;
        while (((int64_t)1 << levels) <= C)
            levels++;
        for (int rep = 0; rep < 8; rep++) {
            int64_t m = random_split(&seed, C, cuts) - 1; /* ranges */
            fill_ctx f = {1, C, 0};
            for (int64_t i = 0; i < m; i++) {
                ASSERT_EQ_INT(strata__tree_sum_init(&part[i], C, LEN), 0);
                ASSERT_EQ_INT(strata__parallel_chunk_range(C, 1, cuts[i], cuts[i + 1],
                                                           1 + (int)(mix(++seed) % 2), &part[i],
                                                           fill_chunk, &f),
                              0);
                bound_ok &= part[i].peak <= 2 * levels;
            }
            /* merge a random adjacent pair until one is left */
            for (int64_t left = m; left > 1; left--) {
                int64_t i = (int64_t)(mix(++seed) % (uint64_t)(left - 1));
                ASSERT_EQ_INT(strata__tree_sum_merge(&part[i], &part[i + 1]), 0);
                strata__tree_sum_free(&part[i + 1]);
                memmove(&part[i + 1], &part[i + 2], (size_t)(left - i - 2) * sizeof part[0]);
            }
            double got[LEN] = {0};
            ASSERT_EQ_INT(strata__tree_sum_finish(&part[0], got), 0);
            strata__tree_sum_free(&part[0]);
            ASSERT_TRUE(!f.bad);
            ASSERT_MSG(same_bits(got, want, LEN), "C=%lld, %lld owners: %.17g vs %.17g",
                       (long long)C, (long long)m, got[0], want[0]);
        }
    }
    ASSERT_MSG(bound_ok, "a range owner held more than 2 (floor(log2 C) + 1) vectors");
}

/* Misuse is a status, not a wrong sum: a gap, an unaligned node, a node past
 * C, and finishing before all chunks are in. */
static void test_misuse(void)
{
    strata__tree_sum sum;
    double v[LEN] = {1, 2, 3, 4, 5}, total[LEN] = {0};
    ASSERT_EQ_INT(strata__tree_sum_init(&sum, 10, LEN), 0);
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 2, 1, v), 0);   /* [2, 4) */
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 5, 0, v), STRATA_E_INTERNAL); /* gap */
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 4, 2, v), 0);   /* [4, 8) */
    ASSERT_EQ_INT(strata__tree_sum_finish(&sum, total), STRATA_E_INTERNAL); /* not from 0 */
    strata__tree_sum_free(&sum);
    ASSERT_EQ_INT(strata__tree_sum_init(&sum, 10, LEN), 0);
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 1, 1, v), STRATA_E_INTERNAL); /* unaligned */
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 8, 2, v), STRATA_E_INTERNAL); /* past C */
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 0, 3, v), 0);                 /* [0, 8) */
    ASSERT_EQ_INT(strata__tree_sum_finish(&sum, total), STRATA_E_INTERNAL); /* 8 of 10 */
    ASSERT_EQ_INT(strata__tree_sum_push(&sum, 8, 1, v), 0);                 /* [8, 10) */
    ASSERT_EQ_INT(strata__tree_sum_finish(&sum, total), 0);
    ASSERT_TRUE(total[0] == 2.0 && total[4] == 10.0);
    ASSERT_EQ_INT(strata__parallel_chunk_range(10, 1, 3, 5, 1, &sum, fill_chunk, NULL),
                  STRATA_E_INTERNAL); /* the sum already holds [0, 10) */
    strata__tree_sum_free(&sum);
}

/* A streamed sum holds at most floor(log2 C) + 1 vectors, whatever the
 * blocks: memory O(log C), not O(C). */
typedef struct one_ctx {
    double v;
} one_ctx;

static void one_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    partial[0] = ((one_ctx *)ctx)->v;
}

/* Chunk c's value in [0, 1). */
static double uniform(int64_t c)
{
    return (double)(mix((uint64_t)c ^ 0x5555u) >> 11) * 0x1p-53;
}

static void uniform_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                          double *partial)
{
    partial[0] = uniform(chunk);
}

static void test_stream_memory(void)
{
    const int64_t C = 1000003;
    for (int64_t block = 1; block <= 65536; block *= 16) {
        strata__tree_sum sum;
        one_ctx o = {1.0};
        ASSERT_EQ_INT(strata__tree_sum_init(&sum, C, 1), 0);
        ASSERT_EQ_INT(sum.cap, 2 * 20); /* floor(log2 1000003) = 19 */
        for (int64_t c = 0; c < C; c += block)
            ASSERT_EQ_INT(strata__parallel_chunk_range(C, 1, c, c + block < C ? c + block : C,
                                                       block > 1 ? 2 : 1, &sum, one_chunk, &o),
                          0);
        ASSERT_MSG(sum.peak <= 20, "block %lld: %d vectors held at once", (long long)block,
                   sum.peak);
        ASSERT_EQ_INT(sum.depth, __builtin_popcountll((unsigned long long)C)); /* its digits */
        double total = 0.0;
        ASSERT_EQ_INT(strata__tree_sum_finish(&sum, &total), 0);
        ASSERT_TRUE(total == (double)C); /* small integers: exact in any order */
        strata__tree_sum_free(&sum);
    }
}

/* Pairwise summation of n equal values: within a few ulps of the exact sum,
 * where a left fold (the order used before) drifts by thousands. */
static void test_accuracy(void)
{
    const int64_t C = 1000000;
    one_ctx o = {0.1};
    double tree = 0.0;
    ASSERT_EQ_INT(strata__parallel_chunks(C, 1, 2, 1, &tree, one_chunk, &o), 0);
    double fold = 0.0;
    for (int64_t c = 0; c < C; c++)
        fold += o.v;
    /* exact = hi + lo: C * 0.1 rounded, and fma's exact remainder */
    double hi = o.v * (double)C, lo = fma(o.v, (double)C, -hi);
    double ulp = nextafter(hi, INFINITY) - hi;
    double err_tree = fabs((tree - hi) - lo) / ulp, err_fold = fabs((fold - hi) - lo) / ulp;
    fprintf(stderr, "  sum of 1e6 x 0.1: tree %.17g (%.2f ulp), left fold %.17g (%.0f ulp)\n",
            tree, err_tree, fold, err_fold);
    ASSERT_MSG(err_tree <= 4.0, "tree is %.2f ulp off", err_tree);
    ASSERT_MSG(err_fold >= 1000.0, "the left fold is only %.2f ulp off: the test shows nothing",
               err_fold);

    /* random values in [0, 1): the exact sum, by compensated long double
     * summation, is far more accurate than a double ulp */
    double rtree = 0.0, rfold = 0.0;
    ASSERT_EQ_INT(strata__parallel_chunks(C, 1, 1, 1, &rtree, uniform_chunk, NULL), 0);
    long double s = 0.0L, comp = 0.0L;
    for (int64_t c = 0; c < C; c++) {
        double u = uniform(c);
        rfold += u;
        long double t = s + u;
        comp += fabsl(s) >= fabsl((long double)u) ? (s - t) + u : ((long double)u - t) + s;
        s = t;
    }
    long double exact = s + comp;
    double rulp = nextafter((double)exact, INFINITY) - (double)exact;
    double e_tree = (double)fabsl(rtree - exact) / rulp;
    double e_fold = (double)fabsl(rfold - exact) / rulp;
    fprintf(stderr, "  sum of 1e6 uniform: tree %.2f ulp, left fold %.2f ulp\n", e_tree, e_fold);
    ASSERT_MSG(e_tree <= 4.0, "tree is %.2f ulp off", e_tree);
    ASSERT_MSG(e_fold > 10.0 * e_tree, "left fold %.2f ulp, tree %.2f ulp", e_fold, e_tree);
}

int main(void)
{
    RUN_TEST(test_tree_equals_reference);
    RUN_TEST(test_total_is_added_to);
    RUN_TEST(test_stream_splits);
    RUN_TEST(test_owner_splits);
    RUN_TEST(test_misuse);
    RUN_TEST(test_stream_memory);
    RUN_TEST(test_accuracy);
    return test_summary();
}
