/* The k-means handle: parameter storage and argument validation in front of
 * the engine (lib/kmeans) and the HDF5 layer (lib/io). */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5.h"
#include "api/kmeans_handle.h"
#include "kmeans/gaps.h"
#include "kmeans/kmeans.h"
#include "api/api_internal.h"
#include "api/params.h"

struct strata_kmeans {
    /* parameters */
    int64_t k, max_iter, n_init, seed, threads;
    int64_t batch_size, max_no_improvement; /* mini-batch */
    double tol, reassignment_ratio;
    int init, algorithm, assign, kernel, allow_too_few;
    int64_t chain_length;
    int64_t memory, block_rows; /* STRATA_KMEANS_MEMORY, STRATA_KMEANS_BLOCK_ROWS */
    double *init_centroids; /* k0 x d0 when given */
    char *init_from;        /* "FILE:/dataset" of strata_kmeans_set_init_centroids_h5(), or NULL */
    int64_t init_k, init_d;
    /* The files the handle read what it holds from, never replaced by
     * strata_kmeans_write_h5(): [0] the model's (fit_h5), [1] the initial
     * centroids' (set_init_centroids_h5). known = 0 when none. */
    strata__file_id inputs[2];
    strata_progress_fn progress;
    void *user;
    strata__steps steps;  /* strata_kmeans_set_step_progress() */
    int64_t iter_total;   /* ITERATE's total of the fit under way */
    /* fitted model (model.centroids == NULL when not fitted) */
    strata__kmeans_model model;
    int kernel_used;
    int64_t seed_used;
    int init_used;
    int64_t max_iter_used, n_init_used; /* the fit's, for the file's provenance */
    int64_t batch_size_used, chain_length_used, memory_used; /* 0: not used by the fit */
    double tol_used;
    /* what strata_kmeans_fit_frame() keeps with the model (NULL otherwise) */
    struct frame_info {
        char **names; /* model.d names */
        int64_t *key; /* model.n keys, or NULL */
        char *key_name;
    } frame;
    char msg[STRATA__MSG_LEN];
};

static void frame_info_free(struct frame_info *fi, int64_t d)
{
    for (int64_t j = 0; fi->names && j < d; j++)
        strata__free(fi->names[j]);
    strata__free(fi->names);
    strata__free(fi->key);
    strata__free(fi->key_name);
    *fi = (struct frame_info){0};
}

static const char *const NULL_HANDLE_MSG = "strata_kmeans handle is NULL";

#define CHECK_HANDLE(km)                                                   \
    do {                                                                   \
        if (!(km))                                                         \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
        (km)->msg[0] = '\0';                                               \
    } while (0)

/* The const calls (getters, predict, transform) write nothing into the
 * handle, so that many threads may use one fitted handle at once: their
 * messages go to the calling thread's slot only (strata_last_error()). */
#define CHECK_CONST(km)                                                    \
    do {                                                                   \
        if (!(km))                                                         \
            return strata__fail(NULL, STRATA_E_NULL, "%s", NULL_HANDLE_MSG); \
    } while (0)

int strata_kmeans_create(strata_kmeans **out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans_create: out is NULL");
    strata_kmeans *km = strata__calloc(1, sizeof *km);
    if (!km)
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory creating a k-means handle");
    km->k = 8;
    km->max_iter = 300;
    km->n_init = 1;
    km->tol = 1e-4;
    km->batch_size = 1024; /* scikit-learn's MiniBatchKMeans defaults */
    km->max_no_improvement = 10;
    km->reassignment_ratio = 0.01;
    km->init = STRATA_INIT_KMEANSPP;
    km->chain_length = 200;
    *out = km;
    return STRATA_OK;
}

void strata_kmeans_free(strata_kmeans *km)
{
    if (!km)
        return;
    frame_info_free(&km->frame, km->model.d);
    strata__kmeans_model_free(&km->model);
    strata__free(km->init_centroids);
    strata__free(km->init_from);
    strata__free(km);
}

const char *strata_kmeans_last_error(const strata_kmeans *km)
{
    return km ? km->msg : NULL_HANDLE_MSG;
}

int strata_kmeans_set_int(strata_kmeans *km, int param, int64_t v)
{
    CHECK_HANDLE(km);
    int rc = strata__param_check_int(km->msg, STRATA_HANDLE_KMEANS, param, v);
    if (rc)
        return rc;
    switch (param) {
    case STRATA_KMEANS_K: km->k = v; break;
    case STRATA_KMEANS_MAX_ITER: km->max_iter = v; break;
    case STRATA_KMEANS_INIT:
        if (v == STRATA_INIT_CENTROIDS && !km->init_centroids)
            return strata__fail(km->msg, STRATA_E_PARAM,
                                "init = centroids needs strata_kmeans_set_init_centroids() first");
        km->init = (int)v;
        break;
    case STRATA_KMEANS_SEED: km->seed = v; break;
    case STRATA_KMEANS_N_INIT: km->n_init = v; break;
    case STRATA_KMEANS_ALGORITHM: km->algorithm = (int)v; break;
    case STRATA_KMEANS_ASSIGN: km->assign = (int)v; break;
    case STRATA_KMEANS_ALLOW_TOO_FEW: km->allow_too_few = (int)v; break;
    case STRATA_KMEANS_BATCH_SIZE: km->batch_size = v; break;
    case STRATA_KMEANS_MAX_NO_IMPROVEMENT: km->max_no_improvement = v; break;
    case STRATA_KMEANS_CHAIN_LENGTH: km->chain_length = v; break;
    case STRATA_KMEANS_MEMORY: km->memory = v; break;
    case STRATA_KMEANS_BLOCK_ROWS: km->block_rows = v; break;
    case STRATA_THREADS: km->threads = v; break;
    case STRATA_KERNEL:
        if (!strata_kernel_available((int)v))
            return strata__fail(km->msg, STRATA_E_UNSUPPORTED,
                                "kernel '%s' cannot run on this CPU", strata_kernel_name((int)v));
        km->kernel = (int)v;
        break;
    default: /* a key of the table that this handle does not store: a bug */
        return strata__fail(km->msg, STRATA_E_INTERNAL, "parameter %d has no slot", param);
    }
    return STRATA_OK;
}

int strata_kmeans_set_double(strata_kmeans *km, int param, double v)
{
    CHECK_HANDLE(km);
    int rc = strata__param_check_double(km->msg, STRATA_HANDLE_KMEANS, param, v);
    if (rc)
        return rc;
    if (param == STRATA_KMEANS_TOL)
        km->tol = v;
    else
        km->reassignment_ratio = v;
    return STRATA_OK;
}

int strata_kmeans_get_int(const strata_kmeans *km, int param, int64_t *out)
{
    CHECK_CONST(km);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans_get_int: out is NULL");
    int rc = strata__param_check_key(NULL, STRATA_HANDLE_KMEANS, param, STRATA_VALUE_INT, 1);
    if (rc)
        return rc;
    int64_t v;
    switch (param) {
    case STRATA_KMEANS_K: v = km->k; break;
    case STRATA_KMEANS_MAX_ITER: v = km->max_iter; break;
    case STRATA_KMEANS_INIT: v = km->init; break;
    case STRATA_KMEANS_SEED: v = km->seed; break;
    case STRATA_KMEANS_N_INIT: v = km->n_init; break;
    case STRATA_KMEANS_ALGORITHM: v = km->algorithm; break;
    case STRATA_KMEANS_ASSIGN: v = km->assign; break;
    case STRATA_KMEANS_ALLOW_TOO_FEW: v = km->allow_too_few; break;
    case STRATA_KMEANS_BATCH_SIZE: v = km->batch_size; break;
    case STRATA_KMEANS_MAX_NO_IMPROVEMENT: v = km->max_no_improvement; break;
    case STRATA_KMEANS_CHAIN_LENGTH: v = km->chain_length; break;
    case STRATA_KMEANS_MEMORY: v = km->memory; break;
    case STRATA_KMEANS_BLOCK_ROWS: v = km->block_rows; break;
    case STRATA_THREADS: v = km->threads; break;
    case STRATA_KERNEL: v = km->kernel; break;
    default: return strata__fail(NULL, STRATA_E_INTERNAL, "parameter %d has no slot", param);
    }
    *out = v;
    return STRATA_OK;
}

int strata_kmeans_get_double(const strata_kmeans *km, int param, double *out)
{
    CHECK_CONST(km);
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_kmeans_get_double: out is NULL");
    int rc = strata__param_check_key(NULL, STRATA_HANDLE_KMEANS, param, STRATA_VALUE_DOUBLE, 1);
    if (rc)
        return rc;
    *out = param == STRATA_KMEANS_TOL ? km->tol : km->reassignment_ratio;
    return STRATA_OK;
}

int strata_kmeans_set_init_centroids(strata_kmeans *km, const double *c, int64_t k, int64_t d)
{
    CHECK_HANDLE(km);
    if (!c)
        return strata__fail(km->msg, STRATA_E_NULL, "initial centroids pointer is NULL");
    if (k < 1 || d < 1 || k > INT32_MAX)
        return strata__fail(km->msg, STRATA_E_ARG, "initial centroids must be k x d with k, d >= 1; got %lld x %lld",
                            (long long)k, (long long)d);
    if ((uint64_t)k > SIZE_MAX / sizeof(double) / (uint64_t)d)
        return strata__fail(km->msg, STRATA_E_NOMEM, "initial centroids too large");
    for (int64_t i = 0; i < k * d; i++)
        if (!isfinite(c[i]))
            return strata__fail(km->msg, STRATA_E_NONFINITE,
                                "initial centroid %lld has a non-finite value in column %lld",
                                (long long)(i / d), (long long)(i % d));
    double *copy = strata__alloc((size_t)(k * d), sizeof(double));
    if (!copy)
        return strata__fail(km->msg, STRATA_E_NOMEM, "out of memory copying initial centroids");
    memcpy(copy, c, (size_t)(k * d) * sizeof(double));
    strata__free(km->init_centroids);
    km->init_centroids = copy;
    km->inputs[1].known = 0; /* set by strata_kmeans_set_init_centroids_h5() after this */
    strata__free(km->init_from);
    km->init_from = NULL;
    km->init_k = k;
    km->init_d = d;
    km->k = k;
    km->init = STRATA_INIT_CENTROIDS;
    return STRATA_OK;
}

int strata_kmeans_set_init_centroids_h5(strata_kmeans *km, const char *path, const char *dataset)
{
    CHECK_HANDLE(km);
    if (!path || !dataset)
        return strata__fail(km->msg, STRATA_E_NULL, "file path or dataset name is NULL");
    strata__matrix m;
    int rc = strata__h5_load(path, dataset, STRATA_FLOAT64, &m, km->msg);
    if (rc)
        return rc;
    rc = strata_kmeans_set_init_centroids(km, m.data, m.n, m.d);
    strata__matrix_free(&m);
    if (!rc)
        strata__file_id_of(path, "the file of the initial centroids", &km->inputs[1]);
    const size_t len = strlen(path) + strlen(dataset) + 2;
    if (!rc && (km->init_from = strata__alloc(len, 1)) != NULL) /* provenance only: none if no memory */
        snprintf(km->init_from, len, "%s:%s", path, dataset);
    return rc;
}

int strata_kmeans_set_progress(strata_kmeans *km, strata_progress_fn fn, void *user)
{
    CHECK_HANDLE(km);
    km->progress = fn;
    km->user = user;
    return STRATA_OK;
}

int strata_kmeans_set_step_progress(strata_kmeans *km, strata_step_fn fn, void *user)
{
    CHECK_HANDLE(km);
    km->steps = (strata__steps){fn, user};
    return STRATA_OK;
}

/* The engine's per-iteration call, passed on to the progress callback, then
 * (if it goes on) to the step callback as STRATA_STEP_ITERATE. */
static int report_iteration(void *user, int64_t run, int64_t iteration, double inertia)
{
    strata_kmeans *km = user;
    if (km->progress && km->progress(km->user, run, iteration, inertia))
        return 1;
    return km->steps.fn(km->steps.user, STRATA_STEP_ITERATE, run, iteration, km->iter_total,
                        inertia);
}

/* Validate a matrix argument into X. */
static int make_data(char *msg, int dtype, const void *x, int64_t n, int64_t d,
                     int64_t stride, const double *w, strata__data *X)
{
    if (!x)
        return strata__fail(msg, STRATA_E_NULL, "data pointer is NULL");
    if (dtype != STRATA_FLOAT32 && dtype != STRATA_FLOAT64)
        return strata__fail(msg, STRATA_E_PARAM,
                            "dtype must be STRATA_FLOAT32 (1) or STRATA_FLOAT64 (2), got %d", dtype);
    if (n < 1)
        return strata__fail(msg, STRATA_E_ARG, "n (rows) must be >= 1, got %lld", (long long)n);
    if (d < 1)
        return strata__fail(msg, STRATA_E_ARG, "d (features) must be >= 1, got %lld",
                            (long long)d);
    if (stride == 0)
        stride = d;
    if (stride < d)
        return strata__fail(msg, STRATA_E_ARG, "row_stride %lld is smaller than d = %lld",
                            (long long)stride, (long long)d);
    if ((uint64_t)n > (uint64_t)INT64_MAX / (uint64_t)stride / 8)
        return strata__fail(msg, STRATA_E_ARG, "%lld rows of stride %lld overflow",
                            (long long)n, (long long)stride);
    *X = (strata__data){dtype, x, n, d, stride, w, 0, NULL};
    return STRATA_OK;
}

static int make_cfg(strata_kmeans *km, strata__kmeans_cfg *cfg)
{
    const strata__kernels *kern = strata__kernels_get(km->kernel);
    if (!kern)
        return strata__fail(km->msg, STRATA_E_UNSUPPORTED, "kernel '%s' cannot run on this CPU",
                            strata_kernel_name(km->kernel));
    *cfg = (strata__kmeans_cfg){
        .k = km->k, .max_iter = km->max_iter, .n_init = km->n_init, .seed = km->seed,
        .tol = km->tol, .init = km->init, .assign = km->assign, .algorithm = km->algorithm,
        .threads = strata__resolve_threads(km->threads), .kern = kern,
        .init_centroids = km->init_centroids, .allow_too_few = km->allow_too_few,
        .progress = km->progress, .user = km->user, .batch_size = km->batch_size,
        .max_no_improvement = km->max_no_improvement,
        .reassignment_ratio = km->reassignment_ratio,
        .chain_length = km->chain_length, .steps = km->steps,
        /* a stream without a budget keeps Hamerly's gaps (the plan may not) */
        .stream_gaps = 1,
        /* a memory stream's mini-batch window: a block's rows (fit_stream sizes a file's) */
        .window_rows = (km->block_rows + STRATA__CHUNK_ROWS - 1) / STRATA__CHUNK_ROWS *
                       STRATA__CHUNK_ROWS};
    if (km->steps.fn) {
        cfg->progress = report_iteration;
        cfg->user = km;
    }
    return STRATA_OK;
}

/* k and given centroids against the data's shape; ITERATE's total for the
 * step callback (mini-batch counts steps, not passes). */
static int check_fit_shape(strata_kmeans *km, int64_t n, int64_t d)
{
    if (km->k > n)
        return strata__fail(km->msg, STRATA_E_ARG, "k = %lld is larger than the number of rows n = %lld",
                            (long long)km->k, (long long)n);
    if (km->init == STRATA_INIT_CENTROIDS && (km->init_k != km->k || km->init_d != d))
        return strata__fail(km->msg, STRATA_E_ARG,
                            "initial centroids are %lld x %lld but the fit needs k = %lld x d = %lld",
                            (long long)km->init_k, (long long)km->init_d, (long long)km->k,
                            (long long)d);
    km->iter_total = strata__kmeans_iter_total(km->algorithm, km->max_iter, km->batch_size, n);
    return STRATA_OK;
}

int64_t strata__kmeans_iter_total(int algorithm, int64_t max_iter, int64_t batch_size, int64_t n)
{
    /* mini-batch: at most max_iter x n / batch_size steps (include/strata.h) */
    if (algorithm != STRATA_ALGO_MINIBATCH)
        return max_iter;
    return max_iter * n / batch_size > 1 ? max_iter * n / batch_size : 1;
}

int strata_kmeans_fit(strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                      int64_t row_stride, const double *weights)
{
    CHECK_HANDLE(km);
    strata__data X;
    strata__kmeans_cfg cfg;
    int rc = make_data(km->msg, dtype, x, n, d, row_stride, weights, &X);
    if (rc || (rc = make_cfg(km, &cfg)))
        return rc;
    if ((rc = check_fit_shape(km, n, d)))
        return rc;
    strata__kmeans_model m = {0};
    strata__rowsrc src = strata__rowsrc_of(&X);
    if (km->block_rows > 0) { /* the stream's block copies over memory (tests, measurements) */
        strata__rowsrc_memory_stream(&X, km->block_rows, &src);
        src.steps = &km->steps;
    }
    rc = strata__kmeans_fit_src(&src, &cfg, &m, km->msg);
    if (rc)
        return rc;
    strata__kmeans_adopt(km, &m, &cfg);
    return STRATA_OK;
}

/* ---- For the other files of lib/api (api/kmeans_handle.h) ---------------- */

char *strata__kmeans_msg(strata_kmeans *km)
{
    return km->msg;
}

int strata__kmeans_prepare(strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                           int64_t row_stride, const double *weights, strata__data *X,
                           strata__kmeans_cfg *cfg)
{
    int rc = make_data(km->msg, dtype, x, n, d, row_stride, weights, X);
    return rc ? rc : make_cfg(km, cfg);
}

void strata__kmeans_adopt(strata_kmeans *km, strata__kmeans_model *m, const strata__kmeans_cfg *cfg)
{
    frame_info_free(&km->frame, km->model.d); /* set by strata_kmeans_fit_frame() after this */
    strata__kmeans_model_free(&km->model);
    km->model = *m;
    *m = (strata__kmeans_model){0};
    km->inputs[0].known = 0; /* set by strata_kmeans_fit_h5() after this */
    km->kernel_used = cfg->kern->id;
    km->seed_used = km->seed;
    km->init_used = km->init;
    km->max_iter_used = cfg->max_iter;
    km->n_init_used = cfg->n_init;
    km->tol_used = cfg->tol;
    km->batch_size_used = cfg->algorithm == STRATA_ALGO_MINIBATCH ? cfg->batch_size : 0;
    km->chain_length_used = km->init == STRATA_INIT_AFKMC2 ? cfg->chain_length : 0;
    km->memory_used = 0; /* set by strata_kmeans_fit_h5() after this */
}

/* Largest streamed block buffer (two are kept). */
#define STREAM_BLOCK_BYTES ((int64_t)64 << 20)
/* The smallest blocks a streamed fit accepts to keep Hamerly's gaps. */
#define GAPS_MIN_BLOCK ((int64_t)8 << 20)

static int64_t fixed_bytes(const strata_kmeans *km, int64_t d)
{
    return STRATA__FIT_FIXED_BYTES + 8 * km->k * d * 8;
}

/* Blocks of a streamed fit: sized to what the budget leaves beside the
 * fit's per-row state, extra_row_bytes a row the caller keeps and the fixed
 * allowance; STRATA_KMEANS_BLOCK_ROWS when set. Mini-batch also gets a window
 * of gathered rows (cfg->window_rows). */
static int stream_block_rows(strata_kmeans *km, const strata__h5_rows_info *info,
                             strata__kmeans_cfg *cfg, int64_t extra_row_bytes, int64_t *out,
                             int *keep_chunks)
{
    *keep_chunks = info->cache_bytes > 0; /* unless the budget cannot hold them */
    const int64_t n = info->n, d = info->d, row_bytes = d * (int64_t)strata__dtype_size(info->dtype);
    int64_t rows = km->block_rows > 0
                       ? (km->block_rows + STRATA__CHUNK_ROWS - 1) / STRATA__CHUNK_ROWS *
                             STRATA__CHUNK_ROWS
                       : 0;
    if (!rows) {
        int64_t block = STREAM_BLOCK_BYTES;
        if (km->memory > 0) {
            /* Mini-batch: a window of gathered rows (each with its index, weight and
             * the gather's position) of at least one batch, and the validation
             * subset besides it. */
            const int mb = cfg->algorithm == STRATA_ALGO_MINIBATCH;
            const int64_t bs = cfg->batch_size < n ? cfg->batch_size : n;
            const int64_t init_size = 3 * bs < km->k ? 3 * km->k : 3 * bs;
            const int64_t win_row = row_bytes + 24;
            cfg->stream_gaps = 0; /* the least state a row: without the gaps (decided below) */
            const int64_t per_row = strata__kmeans_bytes_per_row(cfg, info->dtype, n, d, 1) +
                                    extra_row_bytes;
            int64_t state = n * per_row + fixed_bytes(km, d) +
                            (mb ? (init_size < n ? init_size : n) * win_row : 0);
            const int64_t min_block = STRATA__CHUNK_ROWS * row_bytes;
            const int64_t min_rest = mb && bs * win_row > min_block ? bs * win_row : min_block;
            /* a compressed chunk kept decompressed where the budget holds it
             * (else each is decompressed by every block it straddles): the
             * cache, HDF5's buffers around it and what the allocator keeps of
             * them, ten times the cache in all (measured: a 4 MB cache counted
             * six times still took a 60M fit to 75 MB, 27 MB above the fit
             * without it) */
            const int64_t cache = 10 * info->cache_bytes;
            /* without it, each read decompresses the chunks it touches
             * whole, one at a time (STRATA__CHUNKS_DECOMPRESSING); deflated ones are
             * inflated by the reads themselves, into buffers allocated once
             * that keep the row of chunks a block is in (info->kept_bytes) */
            const int64_t transient = strata__streamed_chunk_bytes(info);
            char kept_text[24] = "";
            if (info->kept_bytes)
                snprintf(kept_text, sizeof kept_text, "%lld", (long long)info->kept_bytes);
            *keep_chunks = *keep_chunks && km->memory - state - cache >= 4 * min_rest;
            state += *keep_chunks ? cache : transient;
            if (km->memory - state < 4 * min_rest)
                return strata__fail(km->msg, STRATA_E_NOMEM,
                                    "a memory budget of %lld bytes is too small for a fit of %lld "
                                    "x %lld rows (k = %lld) from a file: it needs at least %lld "
                                    "bytes (%lld bytes a row of labels%s and seeding state, twice "
                                    "two blocks of %d rows%s, %lld bytes set aside for the program "
                                    "itself and the centroids%s%s%s%s%s)",
                                    (long long)km->memory, (long long)n, (long long)d,
                                    (long long)km->k, (long long)(state + 4 * min_rest),
                                    (long long)per_row, extra_row_bytes ? ", row keys" : "",
                                    STRATA__CHUNK_ROWS, mb ? " or of one mini-batch" : "",
                                    (long long)fixed_bytes(km, d),
                                    mb ? " and the mini-batch init subsets" : "",
                                    !transient ? ""
                                    : info->kept_bytes
                                        ? ", and the file's compressed chunks, decompressed "
                                          "whole as they are read: the row of chunks a block "
                                          "is in, one chunk as stored and one shuffled ("
                                        : ", and three times the file's compressed chunks, "
                                          "decompressed whole as they are read",
                                    kept_text,
                                    info->kept_bytes ? " bytes)" : "",
                                    transient ? ": store it in smaller chunks (e.g. h5repack -l "
                                                "CHUNK=4096xD for a matrix, CHUNK=4096 for 1-D "
                                                "columns and tables) to need less" : "");
            /* Hamerly's gaps (2 bytes a row, kmeans/gaps.h), where HAMERLY
             * would keep them, if the budget holds them with blocks of 8 MiB
             * (or the smallest) left */
            const int64_t gaps_left = km->memory - state - STRATA__GAP_BYTES * n;
            const int64_t gaps_block = min_rest > GAPS_MIN_BLOCK ? min_rest : GAPS_MIN_BLOCK;
            cfg->stream_gaps = cfg->algorithm == STRATA_ALGO_HAMERLY && gaps_left / 4 >= gaps_block;
            const int64_t left = cfg->stream_gaps ? gaps_left : km->memory - state;
            /* a quarter each: the allocator's and HDF5's slack stays in the budget */
            if (block > left / 4)
                block = left / 4;
            /* Mini-batch: its window and one block (the gather's) take the half
             * a walk's two blocks take: the fewer sweeps the better. */
            if (mb)
                cfg->window_rows = ((km->memory - state) / 2 - block) / win_row;
        }
        rows = strata__h5_rows_block_rows(info, info->dtype, block);
    }
    *out = rows;
    return STRATA_OK;
}

int strata__kmeans_plan(strata_kmeans *km, const strata__h5_rows_info *info, int64_t extra_loaded,
                        int64_t extra_streamed, int64_t *block_rows, int64_t *window_rows,
                        int *gaps, int *keep_chunks)
{
    *keep_chunks = 0;
    strata__kmeans_cfg cfg;
    int rc = make_cfg(km, &cfg);
    if (rc)
        return rc;
    /* Load when the rows and the fit's state fit the budget (as before the
     * budget existed); else stream. The choice depends on the budget only,
     * and both give the same bits. */
    const int64_t data_bytes = info->n * info->d * (int64_t)strata__dtype_size(info->dtype);
    /* (loading decompresses every compressed chunk whole too: see below) */
    const int64_t in_memory = data_bytes + fixed_bytes(km, info->d) +
                              STRATA__CHUNKS_DECOMPRESSING * info->filtered_chunk_bytes +
                              info->n * (strata__kmeans_bytes_per_row(&cfg, info->dtype, info->n,
                                                                      info->d, 0) +
                                         extra_loaded);
    *block_rows = 0;
    if (km->block_rows > 0 || (km->memory > 0 && in_memory > km->memory))
        if (!(rc = check_fit_shape(km, info->n, info->d)))
            rc = stream_block_rows(km, info, &cfg, extra_streamed, block_rows, keep_chunks);
    *window_rows = cfg.window_rows;
    *gaps = cfg.stream_gaps;
    return rc;
}

int strata__kmeans_fit_rows(strata_kmeans *km, const strata__rowsrc *src, int64_t window_rows,
                            int gaps)
{
    strata__kmeans_cfg cfg;
    int rc = make_cfg(km, &cfg);
    if (rc || (rc = check_fit_shape(km, src->mem.n, src->mem.d)))
        return rc;
    cfg.window_rows = window_rows;
    cfg.stream_gaps = gaps;
    strata__rowsrc with_steps = *src;
    with_steps.steps = &km->steps; /* READ per block of every pass */
    strata__kmeans_model m = {0};
    if ((rc = strata__kmeans_fit_src(&with_steps, &cfg, &m, km->msg)))
        return rc;
    strata__kmeans_adopt(km, &m, &cfg);
    return STRATA_OK;
}

const strata__steps *strata__kmeans_steps(const strata_kmeans *km)
{
    return &km->steps;
}

const char *strata_kmeans_feature_name(const strata_kmeans *km, int64_t j)
{
    return km && km->frame.names && j >= 0 && j < km->model.d ? km->frame.names[j] : NULL;
}

const char *strata_kmeans_key_name(const strata_kmeans *km)
{
    return km && km->frame.key ? km->frame.key_name : NULL;
}

void strata__kmeans_set_inputs(strata_kmeans *km, const char *path, char **names, int64_t *key,
                               char *key_name)
{
    frame_info_free(&km->frame, km->model.d);
    km->frame = (struct frame_info){names, key, key_name};
    strata__file_id_of(path, "the file the model was fitted from", &km->inputs[0]);
    km->memory_used = km->memory;
}

void strata__kmeans_budget_used(strata_kmeans *km)
{
    km->memory_used = km->memory;
}

int strata_kmeans_fit_h5(strata_kmeans *km, const char *path, const char *dataset)
{
    CHECK_HANDLE(km);
    if (!path || !dataset)
        return strata__fail(km->msg, STRATA_E_NULL, "file path or dataset name is NULL");
    strata__h5_rows *st;
    strata__h5_rows_info info;
    int64_t rows, window;
    int gaps, keep_chunks;
    int rc = make_cfg(km, &(strata__kmeans_cfg){0});
    if (rc || (rc = strata__h5_rows_open(path, dataset, &st, &info, km->msg)))
        return rc;
    if ((rc = strata__kmeans_plan(km, &info, 0, 0, &rows, &window, &gaps, &keep_chunks))) {
    } else if (!rows) {
        strata__h5_rows_close(st);
        st = NULL;
        strata__matrix mx;
        if ((rc = strata__h5_load_steps(path, dataset, 0, &mx, &km->steps, km->msg)))
            return rc;
        rc = strata_kmeans_fit(km, mx.dtype, mx.data, mx.n, mx.d, 0, NULL);
        strata__matrix_free(&mx);
    } else {
        strata__rowsrc src;
        if (keep_chunks)
            strata__h5_rows_keep_chunks(st);
        strata__h5_rows_rowsrc(st, info.dtype, rows, &src);
        rc = strata__kmeans_fit_rows(km, &src, window, gaps);
    }
    strata__h5_rows_close(st);
    if (!rc) { /* the dataset's column names, if it has them, go with the model */
        char **names = NULL;
        (void)strata__h5_matrix_names(path, dataset, km->model.d, &names);
        strata__kmeans_set_inputs(km, path, names, NULL, NULL);
    }
    return rc;
}

int strata_kmeans_fit_frame(strata_kmeans *km, const strata_frame *f, const double *weights)
{
    CHECK_HANDLE(km);
    int64_t n, d;
    if (!f || strata_frame_shape(f, &n, &d) != STRATA_OK)
        return strata__fail(km->msg, STRATA_E_NULL, "frame is NULL");
    /* copies first: a fit that succeeds must not then fail */
    const int64_t *key = strata_frame_key(f);
    const char *key_name = strata_frame_key_name(f);
    struct frame_info fi = {0};
    fi.names = strata__calloc((size_t)d, sizeof *fi.names);
    fi.key = key ? strata__alloc((size_t)n, sizeof *fi.key) : NULL;
    fi.key_name = key ? strata__strndup(key_name, strlen(key_name)) : NULL;
    int ok = fi.names && (!key || (fi.key && fi.key_name));
    for (int64_t j = 0; ok && j < d; j++) {
        const char *name = strata_frame_name(f, j);
        ok = (fi.names[j] = strata__strndup(name, strlen(name))) != NULL;
    }
    if (!ok) {
        frame_info_free(&fi, d);
        return strata__fail(km->msg, STRATA_E_NOMEM, "out of memory copying the frame's names "
                            "and keys");
    }
    if (key)
        memcpy(fi.key, key, (size_t)n * sizeof *fi.key);
    int rc = strata_kmeans_fit(km, STRATA_FLOAT64, strata_frame_data(f), n, d, 0, weights);
    if (rc) {
        frame_info_free(&fi, d);
        return rc;
    }
    km->frame = fi;
    return STRATA_OK;
}

int strata_kmeans_set_model(strata_kmeans *km, const double *c, int64_t k, int64_t d)
{
    CHECK_HANDLE(km);
    if (!c)
        return strata__fail(km->msg, STRATA_E_NULL, "centroids pointer is NULL");
    if (k < 1 || d < 1 || k > INT32_MAX || (uint64_t)k > SIZE_MAX / sizeof(double) / (uint64_t)d)
        return strata__fail(km->msg, STRATA_E_ARG, "a model needs k, d >= 1; got %lld x %lld",
                            (long long)k, (long long)d);
    for (int64_t i = 0; i < k * d; i++)
        if (!isfinite(c[i]))
            return strata__fail(km->msg, STRATA_E_NONFINITE,
                                "centroid %lld has a non-finite value in column %lld",
                                (long long)(i / d), (long long)(i % d));
    strata__kmeans_model m = {.k = k, .d = d, .inertia = NAN, .algorithm = STRATA_ALGO_LLOYD};
    m.centroids = strata__alloc((size_t)(k * d), sizeof(double));
    m.labels = strata__alloc(1, sizeof(int32_t));
    if (!m.centroids || !m.labels) {
        strata__kmeans_model_free(&m);
        return strata__fail(km->msg, STRATA_E_NOMEM, "out of memory for a %lld x %lld model",
                            (long long)k, (long long)d);
    }
    memcpy(m.centroids, c, (size_t)(k * d) * sizeof(double));
    const strata__kernels *kern = strata__kernels_get(km->kernel);
    m.assign = strata__assign_choose(kern ? kern->id : STRATA_KERNEL_SCALAR, k, d);
    frame_info_free(&km->frame, km->model.d);
    strata__kmeans_model_free(&km->model);
    km->model = m;
    km->inputs[0].known = 0;
    km->kernel_used = kern ? kern->id : STRATA_KERNEL_SCALAR;
    km->seed_used = km->seed;
    km->init_used = STRATA_INIT_CENTROIDS;
    km->max_iter_used = km->n_init_used = 0; /* no iterations: a model given, not fitted */
    km->tol_used = 0.0;
    return STRATA_OK;
}

static int check_fitted(const strata_kmeans *km, char *msg)
{
    if (!km->model.centroids)
        return strata__fail(msg, STRATA_E_STATE, "the model is not fitted: call strata_kmeans_fit first");
    return STRATA_OK;
}

/* Preamble of the calls that copy something of the model into `out`. */
static int check_model_out(const strata_kmeans *km, const void *out)
{
    int rc = check_fitted(km, NULL);
    if (!rc && !out)
        rc = strata__fail(NULL, STRATA_E_NULL, "output pointer is NULL");
    return rc;
}

int strata_kmeans_centroids(const strata_kmeans *km, double *out, int64_t k, int64_t d)
{
    CHECK_CONST(km);
    int rc = check_model_out(km, out);
    if (rc)
        return rc;
    if (k != km->model.k || d != km->model.d)
        return strata__fail(NULL, STRATA_E_ARG, "model centroids are %lld x %lld, asked for %lld x %lld",
                            (long long)km->model.k, (long long)km->model.d, (long long)k, (long long)d);
    memcpy(out, km->model.centroids, (size_t)(k * d) * sizeof(double));
    return STRATA_OK;
}

int strata_kmeans_labels(const strata_kmeans *km, int32_t *out, int64_t n)
{
    CHECK_CONST(km);
    int rc = check_model_out(km, out);
    if (rc)
        return rc;
    if (n != km->model.n)
        return strata__fail(NULL, STRATA_E_ARG, "model has %lld labels, asked for %lld",
                            (long long)km->model.n, (long long)n);
    memcpy(out, km->model.labels, (size_t)n * sizeof(int32_t));
    return STRATA_OK;
}

int strata_kmeans_cluster_sizes(const strata_kmeans *km, int64_t *out, int64_t k)
{
    CHECK_CONST(km);
    int rc = check_model_out(km, out);
    if (rc)
        return rc;
    if (k != km->model.k)
        return strata__fail(NULL, STRATA_E_ARG, "model has %lld clusters, asked for %lld",
                            (long long)km->model.k, (long long)k);
    memset(out, 0, (size_t)k * sizeof(int64_t));
    for (int64_t i = 0; i < km->model.n; i++)
        out[km->model.labels[i]]++;
    return STRATA_OK;
}

int strata_kmeans_result_int(const strata_kmeans *km, int key, int64_t *out)
{
    CHECK_CONST(km);
    /* the key first: a parameter key is STRATA_E_PARAM, fitted or not */
    int rc = strata__result_check_key(NULL, STRATA_HANDLE_KMEANS, key, STRATA_VALUE_INT);
    if (rc || (rc = check_model_out(km, out)))
        return rc;
    switch (key) {
    case STRATA_KMEANS_RESULT_N: *out = km->model.n; break;
    case STRATA_KMEANS_RESULT_D: *out = km->model.d; break;
    case STRATA_KMEANS_RESULT_K: *out = km->model.k; break;
    case STRATA_KMEANS_RESULT_N_ITER: *out = km->model.n_iter; break;
    case STRATA_KMEANS_RESULT_CONVERGED: *out = km->model.converged; break;
    case STRATA_KMEANS_RESULT_KERNEL: *out = km->kernel_used; break;
    case STRATA_KMEANS_RESULT_ASSIGN: *out = km->model.assign; break;
    case STRATA_KMEANS_RESULT_SEED: *out = km->seed_used; break;
    case STRATA_KMEANS_RESULT_INIT: *out = km->init_used; break;
    case STRATA_KMEANS_RESULT_ALGORITHM: *out = km->model.algorithm; break;
    case STRATA_KMEANS_RESULT_STREAMED: *out = km->model.streamed; break;
    default: return strata__fail(NULL, STRATA_E_INTERNAL, "result %d has no slot", key);
    }
    return STRATA_OK;
}

int strata_kmeans_result_double(const strata_kmeans *km, int key, double *out)
{
    CHECK_CONST(km);
    /* the key first: a parameter key is STRATA_E_PARAM, fitted or not */
    int rc = strata__result_check_key(NULL, STRATA_HANDLE_KMEANS, key, STRATA_VALUE_DOUBLE);
    if (rc || (rc = check_model_out(km, out)))
        return rc;
    *out = km->model.inertia;
    return STRATA_OK;
}

/* The engine configuration of predict and transform: the handle's KERNEL and
 * THREADS only, read, never written. */
static int apply_cfg(const strata_kmeans *km, int64_t k, strata__kmeans_cfg *cfg, char *msg)
{
    const strata__kernels *kern = strata__kernels_get(km->kernel);
    if (!kern)
        return strata__fail(msg, STRATA_E_UNSUPPORTED, "kernel '%s' cannot run on this CPU",
                            strata_kernel_name(km->kernel));
    *cfg = (strata__kmeans_cfg){.k = k, .threads = strata__resolve_threads(km->threads),
                                .kern = kern};
    return STRATA_OK;
}

/* Common checks of predict and transform (const calls: messages to the
 * thread's slot only). */
static int prepare_apply(const strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                         int64_t stride, const void *out, strata__data *X, strata__kmeans_cfg *cfg)
{
    int rc = check_model_out(km, out);
    if (rc)
        return rc;
    if ((rc = make_data(NULL, dtype, x, n, d, stride, NULL, X)))
        return rc;
    if (d != km->model.d)
        return strata__fail(NULL, STRATA_E_ARG, "rows have %lld features, the model was fitted on %lld",
                            (long long)d, (long long)km->model.d);
    return apply_cfg(km, km->model.k, cfg, NULL);
}

int strata_kmeans_predict(const strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                          int64_t row_stride, int32_t *labels)
{
    CHECK_CONST(km);
    strata__data X;
    strata__kmeans_cfg cfg;
    int rc = prepare_apply(km, dtype, x, n, d, row_stride, labels, &X, &cfg);
    if (rc)
        return rc;
    return strata__kmeans_predict(&X, km->model.centroids, km->model.k, &cfg, labels, NULL);
}

int strata_kmeans_transform(const strata_kmeans *km, int dtype, const void *x, int64_t n, int64_t d,
                            int64_t row_stride, double *out)
{
    CHECK_CONST(km);
    strata__data X;
    strata__kmeans_cfg cfg;
    int rc = prepare_apply(km, dtype, x, n, d, row_stride, out, &X, &cfg);
    if (rc)
        return rc;
    if ((uint64_t)n > SIZE_MAX / sizeof(double) / (uint64_t)km->model.k)
        return strata__fail(NULL, STRATA_E_ARG, "n x k output too large");
    return strata__kmeans_transform(&X, km->model.centroids, km->model.k, cfg.threads, out, NULL);
}

/* The name of a strata_init, as the CLI's --init spells it. */
static const char *init_name(int init)
{
    switch (init) {
    case STRATA_INIT_RANDOM: return "random";
    case STRATA_INIT_KMEANS_PARALLEL: return "k-means||";
    case STRATA_INIT_AFKMC2: return "afk-mc2";
    case STRATA_INIT_CENTROIDS: return "centroids";
    default: return "k-means++";
    }
}

const char *strata__algorithm_name(int algorithm)
{
    switch (algorithm) {
    case STRATA_ALGO_HAMERLY: return "hamerly";
    case STRATA_ALGO_MINIBATCH: return "minibatch";
    case STRATA_ALGO_YINYANG: return "yinyang";
    default: return "lloyd";
    }
}

int strata__kmeans_output_of(strata_kmeans *km, const char *source, strata__kmeans_output *o)
{
    int rc = check_fitted(km, km->msg);
    if (rc)
        return rc;
    *o = (strata__kmeans_output){km->model.labels, km->model.n, km->model.centroids, km->model.k,
                                 km->model.d, km->model.inertia, km->model.n_iter,
                                 km->model.converged, km->seed_used,
                                 strata__algorithm_name(km->model.algorithm), source,
                                 km->inputs, 2,
                                 (const char *const *)km->frame.names, km->frame.key,
                                 km->frame.key_name, km->max_iter_used, km->n_init_used,
                                 km->tol_used, init_name(km->init_used), km->model.streamed,
                                 km->batch_size_used, km->chain_length_used, km->memory_used,
                                 km->init_used == STRATA_INIT_CENTROIDS ? km->init_from : NULL,
                                 strata__resolve_threads(km->threads)};
    return STRATA_OK;
}

int strata_kmeans_write_h5(strata_kmeans *km, const char *path, const char *source, int flags)
{
    CHECK_HANDLE(km);
    if (!path)
        return strata__fail(km->msg, STRATA_E_NULL, "output path is NULL");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(km->msg, STRATA_E_PARAM, "unknown write flags %d", flags);
    strata__kmeans_output o;
    int rc = strata__kmeans_output_of(km, source, &o);
    if (rc)
        return rc;
    if ((rc = strata__step(&km->steps, STRATA_STEP_WRITE, 0, 0, 1, NAN, km->msg)) ||
        (rc = strata__h5_write_kmeans(path, &o, flags, km->msg)))
        return rc;
    if (km->steps.fn) /* the file is in place: this call cannot cancel */
        (void)km->steps.fn(km->steps.user, STRATA_STEP_WRITE, 0, 1, 1, NAN);
    return STRATA_OK;
}

int strata__kmeans_threads(const strata_kmeans *km)
{
    return strata__resolve_threads(km->threads);
}

int strata__kmeans_predict_with(const strata_kmeans *km, const double *c, int64_t k,
                                const double *x, int64_t n, int64_t d, int32_t *labels, char *msg)
{
    strata__data X = {STRATA_FLOAT64, x, n, d, d, NULL, 0, NULL};
    strata__kmeans_cfg cfg;
    int rc = apply_cfg(km, k, &cfg, msg);
    return rc ? rc : strata__kmeans_predict(&X, c, k, &cfg, labels, msg);
}
