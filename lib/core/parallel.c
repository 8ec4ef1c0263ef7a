#include "core/parallel.h"

#include <string.h>

#include "core/mem.h"
#include "strata.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Upper bound on the memory held by in-flight partial vectors. */
#define PARTIAL_BUDGET_BYTES ((int64_t)32 << 20)

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

int strata__parallel_chunks(int64_t n, int64_t chunk_rows, int threads, int64_t partial_len,
                            double *total, strata__chunk_fn fn, void *ctx)
{
    int64_t nchunks = strata__chunk_count(n, chunk_rows);
    if (nchunks == 0)
        return 0;
    if (threads < 1)
        threads = 1;
    if (threads > nchunks)
        threads = (int)nchunks;

    /* Chunks are processed in batches; a batch's partials are reduced in
     * chunk order before the next batch starts. The batch size changes only
     * memory use and scheduling, never the order of additions. */
    /* Each chunk's partial starts on its own 128-byte pair of cache lines, so
     * threads adding into neighbouring chunks never share a line. */
    const int64_t slot_len = (partial_len + 15) / 16 * 16;
    int64_t batch = nchunks;
    if (partial_len > 0) {
        /* As many chunks per batch as the budget allows: every batch ends in
         * a barrier, and few barriers keep both threads busy. */
        int64_t cap = PARTIAL_BUDGET_BYTES / (slot_len * (int64_t)sizeof(double));
        if (batch > cap)
            batch = cap > threads ? cap : threads;
    }
    double *slots = NULL;
    if (partial_len > 0) {
        slots = strata__alloc((size_t)batch * (size_t)slot_len, sizeof(double));
        if (!slots)
            return STRATA_E_NOMEM;
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
            for (int64_t c = 0; c < nchunks; c++) {
                run_chunk(n, chunk_rows, c, 0, slots, partial_len, fn, ctx);
                if (slots)
                    for (int64_t j = 0; j < partial_len; j++)
                        total[j] += slots[j];
            }
        }
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
        {
            int tid = omp_get_thread_num();
            omp_set_num_threads(1); /* BLAS inside a chunk stays single-threaded */
            for (int64_t b0 = 0; b0 < nchunks; b0 += batch) {
                int64_t b1 = b0 + batch < nchunks ? b0 + batch : nchunks;
#pragma omp for schedule(dynamic, 1)
                for (int64_t c = b0; c < b1; c++) {
                    double *p = slots ? slots + (c - b0) * slot_len : NULL;
                    run_chunk(n, chunk_rows, c, tid, p, partial_len, fn, ctx);
                }
                if (partial_len > 0) {
                    /* Each total[j] is summed by one thread, in chunk order. */
#pragma omp for schedule(static)
                    for (int64_t j = 0; j < partial_len; j++) {
                        double s = total[j];
                        for (int64_t c = b0; c < b1; c++)
                            s += slots[(c - b0) * slot_len + j];
                        total[j] = s;
                    }
                }
            }
        }
#else
        for (int64_t c = 0; c < nchunks; c++) {
            run_chunk(n, chunk_rows, c, 0, slots, partial_len, fn, ctx);
            if (slots)
                for (int64_t j = 0; j < partial_len; j++)
                    total[j] += slots[j];
        }
#endif
    }
    strata__free(slots);
    return 0;
}
