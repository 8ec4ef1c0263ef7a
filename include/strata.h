/*
 * strata.h - the one public header of libstrata.
 *
 * libstrata splits customers into tiers: k-means over customer feature
 * vectors (float32 or float64), read from memory or HDF5, results back to
 * memory or HDF5.
 *
 * Contract
 *   - Anything not declared in this header is not part of the API.
 *   - The API and ABI are backward compatible within one major version (one
 *     SONAME, libstrata.so.MAJOR). Enum values below are pinned forever.
 *   - No struct layout and no global variable is part of the ABI: every object
 *     is an opaque handle created and freed by the library.
 *
 * Conventions (they hold for every function unless its comment says otherwise)
 *   - Functions return an int status: STRATA_OK (0) or a negative STRATA_E_*
 *     code. The handle, if any, then holds a message naming the problem,
 *     readable with strata_kmeans_last_error(); every failing call (with or
 *     without a handle) also stores its message in a per-thread slot readable
 *     with strata_last_error().
 *   - On error, caller-owned output buffers are left untouched and the handle
 *     keeps its previous fitted state (a failed or cancelled fit leaves the
 *     previous model in place).
 *   - Pointers named "out..." are written only on success. Destructors accept
 *     NULL. Sizes are int64_t so that ctypes and other FFIs never truncate them.
 *   - Thread-safety: distinct handles may be used from distinct threads at the
 *     same time. One handle must not be used by two threads at once. Functions
 *     without a handle are thread-safe.
 *
 * Object model
 *   strata_kmeans  holds k-means parameters (set by enum key, sticky) and,
 *                  after a successful fit, the fitted model: centroids,
 *                  labels of the training rows, inertia, iteration count.
 *
 * Typical use
 *   strata_kmeans *km;
 *   if (strata_kmeans_create(&km) != STRATA_OK) ...;
 *   strata_kmeans_set_int(km, STRATA_KMEANS_K, 8);
 *   strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 42);
 *   if (strata_kmeans_fit(km, STRATA_FLOAT32, x, n, d, 0, NULL) != STRATA_OK)
 *       fprintf(stderr, "%s\n", strata_kmeans_last_error(km));
 *   strata_kmeans_centroids(km, centroids, k, d);
 *   strata_kmeans_labels(km, labels, n);
 *   strata_kmeans_free(km);
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(STRATA_BUILDING_LIBRARY) && defined(__GNUC__)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

#if defined(__GNUC__)
#define STRATA_NODISCARD __attribute__((warn_unused_result))
#else
#define STRATA_NODISCARD
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH; compare with strata_version_number(). */
#define STRATA_VERSION_NUMBER \
    (STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 + STRATA_VERSION_PATCH)
#define STRATA_VERSION_STRING "0.1.0"

/** Run-time version of the loaded library, as STRATA_VERSION_NUMBER. Thread-safe. */
STRATA_API int strata_version_number(void);
/** Run-time version string, e.g. "0.1.0"; static storage. Thread-safe. */
STRATA_API const char *strata_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes (pinned). Categories: -1xx arguments and data, -2xx I/O,    */
/* -3xx resources, -4xx state, -5xx interruption, -9xx internal.           */
/* ------------------------------------------------------------------------ */

typedef enum strata_status {
    STRATA_OK = 0,
    STRATA_E_NULL = -100,        /* a required pointer argument is NULL */
    STRATA_E_ARG = -101,         /* an argument is out of range (n, d, k, stride, size) */
    STRATA_E_PARAM = -102,       /* unknown parameter key, wrong value type, or bad value */
    STRATA_E_NONFINITE = -103,   /* NaN or Inf in the data; the message names the first bad row.
                                    Also finite data too large for a result: sums (RFM totals,
                                    k-means inertia) or squared distances that would overflow
                                    double; the message names the customer, segment or column */
    STRATA_E_WEIGHTS = -104,     /* negative, non-finite or all-zero sample weights */
    STRATA_E_TOO_FEW = -105,     /* fewer distinct points (with weight > 0) than k
                                    (unless STRATA_KMEANS_ALLOW_TOO_FEW is set) */
    STRATA_E_UNSUPPORTED = -106, /* feature not available (e.g. a SIMD kernel on this CPU) */
    STRATA_E_IO = -200,          /* generic I/O failure */
    STRATA_E_IO_OPEN = -201,     /* file missing or unreadable */
    STRATA_E_IO_FORMAT = -202,   /* file is not HDF5 or is corrupt */
    STRATA_E_IO_DATASET = -203,  /* dataset missing */
    STRATA_E_IO_TYPE = -204,     /* dataset has the wrong rank, shape or element type */
    STRATA_E_IO_WRITE = -205,    /* output could not be written */
    STRATA_E_IO_EXISTS = -206,   /* output file exists and overwriting was not asked for */
    STRATA_E_NOMEM = -300,       /* out of memory or size overflow */
    STRATA_E_STATE = -400,       /* call not valid in this state (e.g. no fitted model) */
    STRATA_E_CANCELLED = -500,   /* the progress callback asked to stop */
    STRATA_E_INTERNAL = -900     /* a bug in libstrata: please report it */
} strata_status;

/** Static English description of a status code ("unknown status" if not one). Thread-safe. */
STRATA_API const char *strata_status_str(int status);

/** Message of the last failing libstrata call made by the calling thread ("" if none).
 *  The string is owned by the library and valid until the thread's next failing call. */
STRATA_API const char *strata_last_error(void);

/** The host's allocator: alloc returns a block of `size` bytes (a multiple
 *  of `alignment`) aligned to `alignment` (a power of two, 64 today), or NULL;
 *  release frees a block alloc returned. `user` is passed through. */
typedef void *(*strata_alloc_fn)(size_t size, size_t alignment, void *user);
typedef void (*strata_free_fn)(void *ptr, void *user);

/** Route every allocation libstrata makes itself (handles, models, results,
 *  scratch; not those of HDF5, OpenBLAS or the OpenMP runtime) through the
 *  host's functions, e.g. to account for memory or to test failure paths.
 *  Both NULL restores aligned_alloc()/free(). A failing alloc makes the call
 *  that needed it return STRATA_E_NOMEM and leave its handle as it was.
 *  Not thread-safe: call it while no other libstrata call runs, and before
 *  any handle exists unless the new functions can also free the blocks of
 *  the old ones (e.g. a wrapper around the same allocator).
 *  @return STRATA_OK, STRATA_E_NULL (only one of alloc and release given). */
STRATA_API STRATA_NODISCARD int strata_set_allocator(strata_alloc_fn alloc, strata_free_fn release,
                                                     void *user);

/* ------------------------------------------------------------------------ */
/* Data types and SIMD kernels                                              */
/* ------------------------------------------------------------------------ */

typedef enum strata_dtype {
    STRATA_FLOAT32 = 1,
    STRATA_FLOAT64 = 2,
    STRATA_INT32 = 3, /* the integer types: only the streamed writer (strata_writer) takes them */
    STRATA_INT64 = 4
} strata_dtype;

/** Distance kernels. AUTO picks the widest the CPU supports, at run time. */
typedef enum strata_kernel {
    STRATA_KERNEL_AUTO = 0,
    STRATA_KERNEL_SCALAR = 1, /* portable C, any x86-64 (or other) CPU */
    STRATA_KERNEL_AVX2 = 2,   /* AVX2 + FMA */
    STRATA_KERNEL_AVX512 = 3  /* AVX-512F */
} strata_kernel;

/** 1 if `kernel` can run on this CPU (AUTO and SCALAR always can), else 0. Thread-safe. */
STRATA_API int strata_kernel_available(int kernel);
/** Name of a kernel ("auto", "scalar", "avx2", "avx512"), or "unknown". Thread-safe. */
STRATA_API const char *strata_kernel_name(int kernel);

/* ------------------------------------------------------------------------ */
/* k-means                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct strata_kmeans strata_kmeans;

/** Initialisation methods (value of STRATA_KMEANS_INIT). */
typedef enum strata_init {
    STRATA_INIT_KMEANSPP = 0,  /* the default. Greedy k-means++: 2 + floor(ln k) (at most 16)
                                  candidates per step, the one lowering the potential most is
                                  kept (as scikit-learn); one pass over the data per step (k in
                                  all). For k >= 64 on large n, KMEANS_PARALLEL is ~10x faster
                                  for the same final inertia (docs/performance.md, "Seeding"). */
    STRATA_INIT_RANDOM = 1,    /* k distinct rows drawn uniformly (weight > 0) */
    STRATA_INIT_CENTROIDS = 2, /* the centroids given by strata_kmeans_set_init_centroids() */
    STRATA_INIT_KMEANS_PARALLEL = 3, /* k-means|| (Bahmani et al. 2012): a first row drawn by
                                  weight, then 5 rounds that each keep every row independently
                                  with probability min(1, 2k w D / sum w D) (D: squared distance
                                  to the nearest row kept so far; more rounds only while fewer
                                  than k distinct rows are kept); each kept row is weighted by
                                  the weight of the rows nearest to it, and greedy k-means++
                                  on these weighted rows picks k of them. About 6 passes over
                                  the data whatever k, against k for k-means++; the same
                                  centroids for any thread count (each chunk of rows draws from
                                  its own stream). */
    STRATA_INIT_AFKMC2 = 4      /* AFK-MC^2 (Bachem et al. 2016): a first row c_0 drawn by
                                  weight, then one pass over the data for the proposal
                                  q(x) = w (d(x, c_0)^2 / (2 sum w d(., c_0)^2) + 1 / (2 sum w));
                                  each further centre ends a Markov chain of
                                  STRATA_KMEANS_CHAIN_LENGTH draws from q with Metropolis-
                                  Hastings acceptance towards k-means++'s w D^2 (D: squared
                                  distance to the centres so far). 1 pass over the data plus
                                  O(chain_length k^2 d) work on the calling thread, whatever
                                  n: for large n and moderate k. The start approximates plain
                                  k-means++ sampling, not the greedy rule (final inertia after
                                  Lloyd within ~1% of greedy k-means++ on the tests' blob
                                  data). Rows of weight 0 are never picked; a chain whose
                                  every draw was already a centre (heavily duplicated data) is
                                  replaced by an exact w D^2 draw (one more pass). The same
                                  centroids for any thread count. */
} strata_init;

/** Algorithms (value of STRATA_KMEANS_ALGORITHM). Every one but MINIBATCH
 *  gives the same result from the same start: labels, centroids, inertia,
 *  n_iter and converged are bitwise those of LLOYD, for any thread count,
 *  kernel and assignment method (a distance tie goes to the lowest centroid
 *  index, as the kernels break it). They differ in time and memory only.
 *  MINIBATCH is approximate: it does NOT give Lloyd's result. */
typedef enum strata_algorithm {
    STRATA_ALGO_AUTO = 0,   /* currently always LLOYD: HAMERLY was not faster to
                               convergence at any case measured on AVX-512/AVX2
                               (n = 1M, d = 6/8/16, k = 8..256; docs/performance.md,
                               "Hamerly against Lloyd"), nor after its bookkeeping
                               was rewritten ("Hamerly, second pass") or its passes
                               stopped reading the rows it skips ("Narrow rows and
                               moved-rows-only passes"); nor was YINYANG, at any
                               case measured ("Yinyang (issue 10; 2026-12-03,
                               fourth session)": 0.16-0.63x Lloyd's speed on
                               customer-like data d = 6/8 and blobs d = 16,
                               k = 8..256, AVX-512 and AVX2). Never MINIBATCH. */
    STRATA_ALGO_LLOYD = 1,  /* exact Lloyd iterations: every row scored against
                               every centroid in every iteration */
    STRATA_ALGO_HAMERLY = 2, /* Hamerly's bounds (2010): a row is scored only when
                               its upper bound on the distance to its centroid and
                               lower bound on the distance to every other one no
                               longer prove its label (with a margin for the
                               kernel's rounding). Extra memory: two values of the
                               data's element type per row (8 bytes for float32,
                               16 for float64; float32 data fitted in double count
                               16) + O(k x d) and O(threads x 256 x k)
                               scratch. */
    STRATA_ALGO_MINIBATCH = 3, /* mini-batch k-means (Sculley 2010) with the rules
                               of scikit-learn 1.2's MiniBatchKMeans: an
                               approximate answer from random batches of
                               STRATA_KMEANS_BATCH_SIZE rows, not Lloyd's result
                               (typically a little higher inertia), much faster
                               on large n. AUTO never picks it. Guaranteed: the
                               same labels and centroids, bitwise, for a given
                               seed, data and kernel whatever STRATA_THREADS.
                               Run: n_init initialisations (STRATA_KMEANS_INIT)
                               each on its own random subset of init_size =
                               3 x batch_size rows (3 k if that is less than k;
                               at most n; drawn with replacement; weights kept),
                               the one of lowest inertia on one more such subset
                               kept (scikit-learn's rule: n_init only seeds);
                               then at most max_iter x n / batch_size steps (so
                               max_iter counts epochs); each step labels a batch
                               drawn with replacement and moves every centroid
                               to the weighted mean of all rows it has been given
                               so far (per-centre weight counts are the learning
                               rates); centres whose count is below
                               STRATA_KMEANS_REASSIGNMENT_RATIO x the largest move
                               to random rows of the batch (checked whenever a
                               centre is empty and after every 10 k rows).
                               Stops early, converged, when the squared
                               centroid change of a step is <= tol x the mean
                               feature variance (only if tol > 0; tol = 0 is
                               scikit-learn's MiniBatchKMeans default) or after
                               STRATA_KMEANS_MAX_NO_IMPROVEMENT steps without a
                               new minimum of the exponentially weighted average
                               of the batch inertia. Labels and inertia are then
                               those of one exact assignment of every row to the
                               final centroids. Batches of up to 4096 rows are
                               labelled on one thread; the seeding and the final
                               pass use STRATA_THREADS. Extra memory: 4 x
                               batch_size rows of the data's type (7 x with
                               n_init > 1) + O(k x d) + the seeding's. The
                               progress callback is called after every step
                               with run 0, iteration = step and the batch's
                               weighted inertia (before the update; it goes up
                               and down). */
    STRATA_ALGO_YINYANG = 4 /* Yinyang k-means (Ding et al. 2015): the centroids
                               in t groups of nearby ones (formed once per run
                               from the initial centroids); a row is scored only
                               when its upper bound and the lower bound on its
                               distance to all other centroids no longer prove
                               its label, and then only against the groups whose
                               own lower bound fails (with the same margin for
                               the kernel's rounding as HAMERLY): bitwise the
                               same result as LLOYD. Groups are t = ceil(k / w)
                               with w = 16 columns (float32, AVX-512 kernel) or
                               8 (otherwise), widened so that t <= 16. Extra
                               memory: (2 + t) values of the data's element type
                               per row (float32: 8 + 4 t bytes, at most 72;
                               float64 or float32 fitted in double: 16 + 8 t, at
                               most 144) + O(k x d) and O(threads x 256 x
                               (t + k)) scratch. */
} strata_algorithm;

/** How distances are computed (value of STRATA_KMEANS_ASSIGN). */
typedef enum strata_assign {
    STRATA_ASSIGN_AUTO = 0,  /* chosen from k and d (see docs/performance.md) */
    STRATA_ASSIGN_FUSED = 1, /* register-blocked SIMD kernel fused with the argmin */
    STRATA_ASSIGN_GEMM = 2   /* blocked BLAS GEMM on centred data, then argmin. OpenBLAS is
                                loaded on first use; where it cannot be (an address-space
                                limit too tight for its start-up, or missing), AUTO uses
                                FUSED and GEMM fails with STRATA_E_NOMEM or
                                STRATA_E_UNSUPPORTED */
} strata_assign;

/** Upper bounds of the work parameters: a value beyond them is a mistake (a
 *  run of days), not a request, and returns STRATA_E_PARAM. scikit-learn's
 *  defaults are 10 starts and 300 iterations. */
#define STRATA_KMEANS_N_INIT_LIMIT 1000
#define STRATA_KMEANS_MAX_ITER_LIMIT 1000000
#define STRATA_KMEANS_CHAIN_LENGTH_LIMIT 100000

/** Parameter keys (pinned). Integer keys use strata_kmeans_set_int(), double keys
 *  strata_kmeans_set_double(); using the wrong setter returns STRATA_E_PARAM.
 *  Values out of range return STRATA_E_PARAM and leave the parameter unchanged. */
typedef enum strata_param {
    /* int, >= 1, default 8. Must be <= the number of rows at fit time. */
    STRATA_KMEANS_K = 100,
    /* int, in [1, STRATA_KMEANS_MAX_ITER_LIMIT], default 300: maximum Lloyd
     * iterations per run; for STRATA_ALGO_MINIBATCH, epochs (passes' worth of
     * rows drawn; scikit-learn's MiniBatchKMeans default is 100). */
    STRATA_KMEANS_MAX_ITER = 101,
    /* double, >= 0, default 1e-4. After each iteration (assignment, then
     * centroid update) a run stops
     *   1. if no label changed (strict convergence), else
     *   2. if the sum over centroids of the squared Euclidean shift made by the
     *      update is <= tol * V, where V is the mean over features of the
     *      (unweighted, population) variance of the data,
     * exactly as scikit-learn's Lloyd does. With tol = 0 a run therefore goes
     * on until no label changes or no centroid moves at all (or max_iter).
     * A run that stops by rule 2 or max_iter is followed by one more
     * assignment so that labels and inertia describe the final centroids. */
    STRATA_KMEANS_TOL = 102,
    /* int, a strata_init value, default STRATA_INIT_KMEANSPP. Setting
     * STRATA_INIT_CENTROIDS before strata_kmeans_set_init_centroids() returns
     * STRATA_E_PARAM. No init picks a row of weight 0; k-means++ (and
     * AFK-MC^2's target) draws rows with probability proportional to weight x D^2. */
    STRATA_KMEANS_INIT = 103,
    /* int, any value >= 0, default 0: seed of the random number generator. */
    STRATA_KMEANS_SEED = 104,
    /* int, in [1, STRATA_KMEANS_N_INIT_LIMIT], default 1: runs, one after another, from different
     * initialisations; run r draws from the random stream (seed, r), so run 0
     * is the single run of n_init = 1. The lowest inertia is kept (the
     * earliest run on ties). */
    STRATA_KMEANS_N_INIT = 105,
    /* int, a strata_algorithm value, default AUTO. */
    STRATA_KMEANS_ALGORITHM = 106,
    /* int, a strata_assign value, default AUTO. */
    STRATA_KMEANS_ASSIGN = 107,
    /* int, 0 or 1, default 0: what a fit does when the rows of weight > 0
     * hold fewer than k distinct points (k <= n is still required).
     * 0: the fit fails with STRATA_E_TOO_FEW.
     * 1: it fits anyway, as scikit-learn does. k-means++ repeats the first
     *    centroid once every distinct point is a centroid; random init
     *    repeats it once every row of weight > 0 is taken (it still draws
     *    distinct rows while it can, and they may hold equal points). Rows
     *    go to the lowest-index of equal centroids, so some clusters end
     *    empty, keeping their centroid, and fewer than k distinct labels
     *    result: count them (strata_kmeans_labels()) to warn, as
     *    scikit-learn does. A fit that succeeds with 0 gives the same
     *    result with 1. */
    STRATA_KMEANS_ALLOW_TOO_FEW = 108,
    /* int, >= 1, default 1024 (scikit-learn's): rows per mini-batch step
     * (STRATA_ALGO_MINIBATCH only; values above n use n). */
    STRATA_KMEANS_BATCH_SIZE = 109,
    /* int, >= 0, default 10: STRATA_ALGO_MINIBATCH stops after this many
     * consecutive steps without a new minimum of the smoothed batch inertia;
     * 0 turns the rule off (scikit-learn's None). */
    STRATA_KMEANS_MAX_NO_IMPROVEMENT = 111,
    /* double, finite and >= 0, default 0.01: STRATA_ALGO_MINIBATCH moves a
     * centre whose weight count is below this fraction of the largest count
     * to a random row of the batch (at most batch_size / 2 centres at once,
     * and never all of them); 0 turns reassignment off. */
    STRATA_KMEANS_REASSIGNMENT_RATIO = 112,
    /* int, in [1, STRATA_KMEANS_CHAIN_LENGTH_LIMIT], default 200 (the paper's m):
     * draws per Markov chain of STRATA_INIT_AFKMC2 (ignored by the other
     * inits). Longer chains come closer to k-means++ sampling at
     * O(chain_length k^2 d) cost. */
    STRATA_KMEANS_CHAIN_LENGTH = 110,
    /* int, >= 0, default 0 = no limit: the memory budget, in bytes, of
     * strata_kmeans_fit_h5(). When the dataset plus the fit's per-row state
     * (strata_kmeans_fit's "Allocates") exceed it, the fit streams the file
     * instead of loading it: every pass (validation, each k-means++ centre,
     * each Lloyd iteration) reads the dataset in blocks aligned to its chunks,
     * the next block read on another thread while one is computed, in two
     * block buffers of at most 64 MiB, each a quarter of what the per-row
     * state and a fixed 24 MiB leave of the budget. A streamed fit
     * keeps in memory only the labels (4 bytes a row; 8 with n_init > 1),
     * k-means++'s distances for float64 data (8 bytes a row; k-means|| 9,
     * AFK-MC^2 8), the centroids and O(k d threads) scratch. Every seeding
     * streams, and the fit gives bitwise the in-memory fit's labels,
     * centroids and inertia. k-means++ then costs one pass over the file per
     * centre, k-means|| one per round (6; more while it has fewer than k
     * distinct candidates) plus one read per 4096-row chunk holding some of
     * the about 2k rows a round keeps, AFK-MC^2 one pass plus k x
     * chain_length one-row reads. A streamed fit runs Lloyd: under AUTO, and also when Hamerly or
     * Yinyang is asked for (their result is Lloyd's, bitwise; their bounds
     * would compete with the blocks for the budget, and they read rows at
     * random), so STRATA_RESULT_ALGORITHM then reports STRATA_ALGO_LLOYD
     * (and a fit that loads runs the algorithm asked). Mini-batch fails with
     * STRATA_E_UNSUPPORTED when the fit must stream: its random batches
     * would be random reads all over the file at every step. A budget below
     * even the streamed fit's state fails with STRATA_E_NOMEM naming the
     * minimum. strata_kmeans_fit() (data already in memory) ignores it. CLI: strata kmeans --memory 1G. */
    STRATA_KMEANS_MEMORY = 113,
    /* int, >= 0, default 0 = automatic: rows per streamed block, rounded up to
     * a multiple of 4096. Non-zero makes every fit stream in blocks of this
     * size whatever the budget (strata_kmeans_fit() then streams its
     * in-memory rows through the same block copies): for tests and
     * measurements. Results do not depend on it. */
    STRATA_KMEANS_BLOCK_ROWS = 114,
    /* int, >= 0, default 0 = the OpenMP default (omp_get_max_threads()).
     * 1 runs in the calling thread only. Results do not depend on it. It is
     * the most threads used: while another process keeps a core busy (a
     * parallel region's threads got less than half their cores), the
     * regions of the next half second use one thread fewer, then try again
     * (docs/threading.md). */
    STRATA_THREADS = 400,
    /* int, a strata_kernel value, default AUTO. Setting a kernel this CPU
     * cannot run returns STRATA_E_UNSUPPORTED. Results may differ in the last
     * bits between kernels. */
    STRATA_KERNEL = 401
} strata_param;

/** Result keys for strata_kmeans_result_int() / strata_kmeans_result_double(). */
typedef enum strata_result {
    STRATA_RESULT_N = 0,         /* int: rows of the fitted data */
    STRATA_RESULT_D = 1,         /* int: features */
    STRATA_RESULT_K = 2,         /* int: clusters */
    STRATA_RESULT_N_ITER = 3,    /* int: Lloyd iterations run by the kept run; for
                                    STRATA_ALGO_MINIBATCH the mini-batch steps run
                                    (scikit-learn's n_steps_; its n_iter_, in epochs,
                                    is ceil(steps x min(batch_size, n) / n)) */
    STRATA_RESULT_CONVERGED = 4, /* int: 1 if the kept run stopped by a STRATA_KMEANS_TOL
                                    rule within max_iter iterations (also at exactly
                                    max_iter); for MINIBATCH, 1 if it stopped early by
                                    tol or max_no_improvement; not converging is not
                                    an error */
    STRATA_RESULT_INERTIA = 5,   /* double: sum of w_i * ||x_i - c_label(i)||^2 */
    STRATA_RESULT_KERNEL = 6,    /* int: the strata_kernel used (never AUTO) */
    STRATA_RESULT_ASSIGN = 7,    /* int: the strata_assign used (FUSED or GEMM, never AUTO) */
    STRATA_RESULT_SEED = 8,      /* int: the seed used */
    STRATA_RESULT_INIT = 9,      /* int: the strata_init used */
    STRATA_RESULT_ALGORITHM = 10, /* int: the strata_algorithm run (never AUTO); LLOYD
                                    for a model set by strata_kmeans_set_model(), and
                                    for a fit that streamed (STRATA_KMEANS_MEMORY)
                                    with HAMERLY or YINYANG asked */
    STRATA_RESULT_STREAMED = 11  /* int: 1 if the fit streamed its rows in blocks
                                    (STRATA_KMEANS_MEMORY, STRATA_KMEANS_BLOCK_ROWS) */
} strata_result;

/** Progress callback, called on the thread that called fit, after each Lloyd
 *  iteration: `run` (0-based restart index), `iteration` (1-based) and the
 *  inertia of the labels just assigned, measured against the centroids they
 *  were assigned to (so, up to rounding, it never increases within a run; after the first
 *  iteration it may be computed from the cluster sums, accurate to 1e-9
 *  relative, while STRATA_RESULT_INERTIA is always summed row by row). Return
 *  0 to go on, non-zero to stop:
 *  the fit then returns STRATA_E_CANCELLED, keeps the handle's previous model
 *  and parameters, and the handle stays usable. */
typedef int (*strata_progress_fn)(void *user, int64_t run, int64_t iteration, double inertia);

/** The steps of a run reported to a strata_step_fn (pinned values). */
typedef enum strata_step {
    STRATA_STEP_READ = 1,      /* reading the input: done of total rows read, after
                                  each block of rows (column inputs: done and total
                                  count the values of all columns read so far) */
    STRATA_STEP_SEED = 2,      /* seeding run `run`: done 0 of 1 before, 1 of 1 after */
    STRATA_STEP_ITERATE = 3,   /* after each iteration of run `run`: done = iteration
                                  (1-based), total = the most it may take (max_iter;
                                  mini-batch: its step limit), value = the inertia the
                                  strata_progress_fn gets */
    STRATA_STEP_AGGREGATE = 4, /* RFM: transactions to customers: 0 of n rows before,
                                  n of n after */
    STRATA_STEP_SCORE = 5,     /* RFM: scores and segments: 0 of c customers before,
                                  c of c after */
    STRATA_STEP_WRITE = 6      /* writing a result file: 0 of 1 before anything is
                                  written, 1 of 1 once the file is in place */
} strata_step;

/** Step callback: every step of a fit, read or write (strata_step), called on
 *  the calling thread; `run` is the restart index for SEED and ITERATE, else 0;
 *  `total` may be -1 where unknown; `value` is NaN except for ITERATE. Return
 *  0 to go on, non-zero to stop: the call then returns STRATA_E_CANCELLED
 *  (message naming the step), writes nothing (no output, no temporary file
 *  left) and the handle keeps its previous result. Exception: the return of
 *  the last WRITE call (1 of 1) is ignored, the file being in place. The
 *  callback must not call libstrata on the same handle. */
typedef int (*strata_step_fn)(void *user, int step, int64_t run, int64_t done, int64_t total,
                              double value);

/** The name of a strata_step in lower case ("read", "seed", "iterate",
 *  "aggregate", "score", "write"; "unknown" otherwise). Static. Thread-safe. */
STRATA_API const char *strata_step_name(int step);

/** Create a k-means handle with default parameters.
 *  @param out  receives the handle; free it with strata_kmeans_free().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_create(strata_kmeans **out);

/** Free a handle and everything it owns. NULL is a no-op. */
STRATA_API void strata_kmeans_free(strata_kmeans *km);

/** Message describing the last failing call on this handle ("" if none). Owned by
 *  the handle, valid until the next call on it. km == NULL returns a static message. */
STRATA_API const char *strata_kmeans_last_error(const strata_kmeans *km);

/** Set an integer parameter (see strata_param). Sticky until changed.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM, STRATA_E_UNSUPPORTED. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_int(strata_kmeans *km, int param, int64_t value);
/** Set a floating-point parameter. @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_double(strata_kmeans *km, int param, double value);
/* Getters take a const handle: they change nothing but the handle's message
 * buffer (strata_kmeans_last_error), which they set on failure. */

/** Read an integer parameter into *out. @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_get_int(const strata_kmeans *km, int param, int64_t *out);
/** Read a floating-point parameter into *out. @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_get_double(const strata_kmeans *km, int param, double *out);

/** Give the starting centroids (k x d, row-major, copied) and set
 *  STRATA_KMEANS_INIT = STRATA_INIT_CENTROIDS and STRATA_KMEANS_K = k.
 *  With given centroids every restart starts from them, so n_init > 1 adds nothing.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (k or d < 1),
 *          STRATA_E_NONFINITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_init_centroids(strata_kmeans *km, const double *centroids,
                                                 int64_t k, int64_t d);

/** Set (or with fn == NULL remove) the progress callback. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_progress(strata_kmeans *km, strata_progress_fn fn, void *user);

/** Set (or with fn == NULL remove) the step callback (strata_step_fn): READ in
 *  strata_kmeans_fit_h5(), SEED and ITERATE in every fit, WRITE in
 *  strata_kmeans_write_h5(). Independent of the progress callback, which
 *  keeps its calls; after each iteration the progress callback is called
 *  first, and the step callback only if it returned 0.
 *  @return STRATA_OK, STRATA_E_NULL. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_step_progress(strata_kmeans *km, strata_step_fn fn,
                                                               void *user);

/** Fit k-means to n rows of d features.
 *  @param dtype       STRATA_FLOAT32 or STRATA_FLOAT64: the element type of x.
 *  @param x           row i starts at x + i * row_stride elements; borrowed, not
 *                     copied, not modified, only read during the call.
 *  @param row_stride  elements between row starts; 0 means d; else must be >= d.
 *  @param weights     NULL (all 1) or n finite non-negative weights, not all zero,
 *                     whose sum is finite.
 *  Distances are computed in the element type of x; sums, centroids and inertia
 *  are accumulated in double. Overflow is never a result: float32 data whose
 *  squared distances could exceed FLT_MAX (about 1e19 or more from the mean;
 *  given centroids count too) are fitted in double, on a temporary n x d
 *  float64 copy; data whose squared distances, or whose total squared
 *  deviation from the mean, would overflow double (about 1e154 from the
 *  mean) fail with STRATA_E_NONFINITE naming the column, as does a fit whose
 *  inertia or centroids overflow through huge sample weights. A cluster left empty by an assignment is given
 *  the row (weight > 0) farthest from its own centroid (the m farthest rows
 *  for m empty clusters, in cluster order; ties to the lower row), and that
 *  row's values leave its old cluster's sums, as in scikit-learn. Labels and centroids are bitwise identical for
 *  any STRATA_THREADS value given the same data, parameters and kernel.
 *  Allocates: the model (k x d doubles, n int32 labels) owned by the handle,
 *  replacing the previous one on success, plus O(k*d*threads) scratch, plus
 *  while seeding, per row: k-means++ nothing for float32 data (it borrows
 *  the labels) and 8 bytes otherwise; k-means|| 8 bytes and a bit; AFK-MC^2
 *  8 bytes (docs/performance.md, "Peak memory of a fit").
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 1, d < 1, k > n, bad
 *          stride, init centroids of another shape), STRATA_E_PARAM (bad dtype),
 *          STRATA_E_NONFINITE (first bad row named), STRATA_E_WEIGHTS,
 *          STRATA_E_TOO_FEW (see STRATA_KMEANS_ALLOW_TOO_FEW), STRATA_E_NOMEM,
 *          STRATA_E_CANCELLED. */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                  int64_t d, int64_t row_stride, const double *weights);

/** Fit to a 2-D numeric dataset (n x d) of an HDF5 file, read in row blocks
 *  into memory (float32 stays float32; float64 and integer types become
 *  float64), or, when it does not fit STRATA_KMEANS_MEMORY (or with
 *  STRATA_KMEANS_BLOCK_ROWS), streamed from the file in blocks with the same
 *  result, bitwise (see STRATA_KMEANS_MEMORY). The file is opened read-only; one that is not a regular file
 *  (a FIFO, a device) is refused with STRATA_E_IO_OPEN. The handle remembers
 *  the file with the model: strata_kmeans_write_h5() will not replace it.
 *  Same results and codes as strata_kmeans_fit(), plus the STRATA_E_IO_*
 *  codes, whose message names the file and dataset. */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_h5(strata_kmeans *km, const char *path, const char *dataset);

/** Read starting centroids (k x d) from an HDF5 dataset and use them as
 *  strata_kmeans_set_init_centroids() does. While the handle holds them,
 *  strata_kmeans_write_h5() will not replace that file.
 *  @return as that function, plus STRATA_E_IO_*. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_init_centroids_h5(strata_kmeans *km, const char *path,
                                                    const char *dataset);

/** Make the handle hold a model with the given centroids (k x d, copied) and
 *  no training rows, as if fitted: predict, transform, centroids and
 *  write_h5 work; STRATA_RESULT_N is 0, N_ITER 0, INERTIA NaN. Used to restore
 *  a saved model (e.g. by the Python binding's unpickling).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG, STRATA_E_NONFINITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_set_model(strata_kmeans *km, const double *centroids,
                                        int64_t k, int64_t d);

/** Copy the fitted centroids (k x d row-major doubles) into out.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (not fitted),
 *          STRATA_E_ARG (k, d differ from the model's). */
STRATA_API STRATA_NODISCARD int strata_kmeans_centroids(const strata_kmeans *km, double *out, int64_t k, int64_t d);

/** Copy the labels (0..k-1) of the fitted rows into out (n int32).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG (n differs). */
STRATA_API STRATA_NODISCARD int strata_kmeans_labels(const strata_kmeans *km, int32_t *out, int64_t n);

/** The number of fitted rows in each cluster into out (k int64), without a
 *  copy of the n labels (a summary of a fit too large for a second copy).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG (k differs). */
STRATA_API STRATA_NODISCARD int strata_kmeans_cluster_sizes(const strata_kmeans *km, int64_t *out,
                                                            int64_t k);

/** Read an integer result (see strata_result) of the fitted model.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_result_int(const strata_kmeans *km, int key, int64_t *out);
/** Read a floating-point result (STRATA_RESULT_INERTIA). Codes as above. */
STRATA_API STRATA_NODISCARD int strata_kmeans_result_double(const strata_kmeans *km, int key, double *out);

/** Label new rows with the nearest fitted centroid (ties go to the lowest index).
 *  Arguments as strata_kmeans_fit(); d must equal the model's. labels: n int32.
 *  A row's label depends only on that row and the model, never on the other
 *  rows of the call (bitwise: predicting rows one by one, in any batches or
 *  orders, gives the same labels): distances are computed by the fused
 *  kernel of STRATA_KERNEL (STRATA_KMEANS_ASSIGN is not used here) in the
 *  expanded form centred on a fixed reference of the model (per feature the
 *  mean of the centroids, rounded to 2^-10 of their spread, so data on a
 *  coarse grid keep exact ties exact), in the rows' type, except that a
 *  float32 row too far from the centroids for float32 squares is scored in
 *  double (a copy of those rows only). On the training rows, labels may
 *  therefore differ from the fit's (strata_kmeans_labels()) on exact or
 *  last-bit distance ties only. Squares beyond double: STRATA_E_NONFINITE.
 *  Uses STRATA_THREADS. @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG,
 *  STRATA_E_PARAM, STRATA_E_NONFINITE, STRATA_E_STATE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_predict(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                      int64_t d, int64_t row_stride, int32_t *labels);

/** Euclidean distances (not squared) of n rows to every fitted centroid, computed
 *  in double: out is n x k row-major doubles (never Inf: squares beyond double
 *  give STRATA_E_NONFINITE). Codes as strata_kmeans_predict(). */
STRATA_API STRATA_NODISCARD int strata_kmeans_transform(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                        int64_t d, int64_t row_stride, double *out);

/** Flags of strata_kmeans_write_h5(), strata_rfm_write_h5() and strata_h5_write_matrix(). */
typedef enum strata_write_flags {
    STRATA_WRITE_DEFAULT = 0,
    STRATA_WRITE_FORCE = 1 /* replace an existing output file (a regular one only) */
} strata_write_flags;

/* How every libstrata write works (strata_kmeans_write_h5(), strata_rfm_write_h5(),
 * strata_h5_write_matrix()):
 *  - HDF5 builds the file in memory (so a write needs about the output's size in
 *    memory, compressed); it is then written as "<path>.tmp.<pid>.<n>" in the
 *    destination folder, flushed to disk (fsync), renamed to path, and the
 *    folder is flushed: after a crash path holds the old file or the complete new
 *    one, never a mix.
 *  - On any failure (STRATA_E_IO_WRITE naming path and the system's error, e.g.
 *    "No space left on device") path is left as it was and the temporary is
 *    removed. One exception: if only the final flush of the folder fails, the new
 *    file is already in place; the error says it may not survive a crash. File
 *    systems that cannot flush (fsync gives EINVAL or EROFS) are not an error.
 *  - An existing path is replaced only with STRATA_WRITE_FORCE, and only if it is a
 *    regular file: a directory, symbolic link, device, FIFO or socket is refused
 *    with STRATA_E_IO_WRITE whatever the flags. The new file keeps the replaced
 *    file's permission bits and, where the system allows it, its owner and group.
 *  - A handle never replaces a file it read: strata_kmeans_write_h5() refuses
 *    (STRATA_E_IO_WRITE) the file of the held model's strata_kmeans_fit_h5() and
 *    of the strata_kmeans_set_init_centroids_h5() centroids, strata_rfm_write_h5()
 *    the file of the held result's strata_rfm_fit_h5(); the same file under any
 *    name (hard or symbolic link) counts.
 *  - A write first removes, in the destination folder, the temporaries of the same
 *    path that a process which no longer exists left (killed during a write):
 *    files of the calling user named "<path>.tmp.<pid>.<n>" exactly, where no
 *    process <pid> exists and no process holds a lock on the file (the writer
 *    locks its temporary, so a writer on another host or in another PID
 *    namespace sharing the folder keeps its file).
 *  - The library installs no signal handlers. A program that ends on a signal
 *    can call strata_discard_temp_file() from its handler.
 *  - Provenance: every file gets the root attributes strata_version (this
 *    library's version) and created (the time of the write, ISO-8601 UTC,
 *    e.g. "2026-12-03T19:05:00Z") unless its writer set them.
 *  - Integer datasets of more than 16 KiB (per-row labels, tiers, ids, scores)
 *    are chunked and gzip-compressed (with shuffle); floating-point ones are
 *    stored contiguous and uncompressed (measured values shrink by ~10% at 20x
 *    the write time). */

/** Remove the temporary files of the HDF5 writes now in progress in this
 *  process, if any (a write holds one from its start to its end; a result
 *  file assembled with strata_out holds one from strata_out_open() to its
 *  commit or discard; at most 16 at once), and the temporary directories of
 *  out-of-core RFM fits in progress (STRATA_RFM_MEMORY; at most 16), so that
 *  a program ended by a signal leaves nothing behind. Async-signal-safe: meant to be called from a
 *  SIGINT/SIGTERM handler, which then ends the process (the `strata` program
 *  does so). If the process goes on instead, the interrupted write fails with
 *  STRATA_E_IO_WRITE and the output path is left as it was. Allocates nothing;
 *  preserves errno. @return 1 if a temporary file was removed, else 0. */
STRATA_API int strata_discard_temp_file(void);

/* ------------------------------------------------------------------------ */
/* Result files assembled from parts                                        */
/* ------------------------------------------------------------------------ */
/*
 * One HDF5 file holding several results (e.g. `strata tiers`: the RFM
 * aggregates, the model, the profiles and per-customer columns), with the
 * guarantees of every libstrata write (above): nothing appears at the path
 * until strata_out_commit() succeeds, and then the whole file does. Parts
 * are added in any order; names are absolute ("/rfm", "/tier"), and
 * intermediate groups are created. Integer datasets larger than 16 KiB are
 * stored chunked and gzip-compressed; floating-point ones uncompressed
 * (measured values shrink by ~10% at 20x the cost). After a part fails (bad arguments
 * included), further parts are refused (STRATA_E_STATE) and commit discards
 * the file, returning that part's status.
 * The file is built in memory (about its compressed size).
 * Thread-safety: one handle must not be used by two threads at once;
 * separate handles are independent, and other libstrata calls may come
 * between the calls on a handle.
 */
typedef struct strata_out strata_out;
struct strata_rfm;     /* the handles of the parts, declared below */
struct strata_model;
struct strata_profile;

/** Start a new result file at path (see strata_write_flags). inputs: ninputs
 *  paths (may be NULL when ninputs is 0; at most 8) of files this result was
 *  computed from: the commit will not replace any of them (by any name).
 *  Allocates the handle (free it with strata_out_commit() or
 *  strata_out_discard()). On failure *out is NULL and strata_last_error()
 *  explains. @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (ninputs),
 *  STRATA_E_PARAM (flags), STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE,
 *  STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_out_open(strata_out **out, const char *path,
                                                const char *const *inputs, int ninputs, int flags);
/** The message of the handle's last failure ("" if none); valid until the
 *  next call on the handle. */
STRATA_API const char *strata_out_last_error(const strata_out *o);
/** A 1-D dataset of n values (n may be 0), copied into the file image.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG, STRATA_E_IO_WRITE,
 *  STRATA_E_STATE (an earlier part failed). */
STRATA_API STRATA_NODISCARD int strata_out_column_int32(strata_out *o, const char *name,
                                                        const int32_t *values, int64_t n);
STRATA_API STRATA_NODISCARD int strata_out_column_int64(strata_out *o, const char *name,
                                                        const int64_t *values, int64_t n);
STRATA_API STRATA_NODISCARD int strata_out_column_double(strata_out *o, const char *name,
                                                         const double *values, int64_t n);
/** A 2-D n x d dataset (row-major). Codes as the columns. */
STRATA_API STRATA_NODISCARD int strata_out_matrix_double(strata_out *o, const char *name,
                                                         const double *values, int64_t n, int64_t d);
STRATA_API STRATA_NODISCARD int strata_out_matrix_int64(strata_out *o, const char *name,
                                                        const int64_t *values, int64_t n, int64_t d);
/** n UTF-8 strings: the 1-D dataset `object` (attr NULL), or the attribute
 *  attr of the existing dataset or group `object`. Codes as the columns. */
STRATA_API STRATA_NODISCARD int strata_out_strings(strata_out *o, const char *object, const char *attr,
                                                   const char *const *strings, int64_t n);
/** Scalar attributes of the existing object (NULL or "/" = the root group). */
STRATA_API STRATA_NODISCARD int strata_out_attr_int(strata_out *o, const char *object, const char *name,
                                                    int64_t value);
STRATA_API STRATA_NODISCARD int strata_out_attr_double(strata_out *o, const char *object,
                                                       const char *name, double value);
STRATA_API STRATA_NODISCARD int strata_out_attr_string(strata_out *o, const char *object,
                                                       const char *name, const char *value);
/** The fitted RFM result of h (the layout of strata_rfm_write_h5()) under
 *  group (e.g. "/rfm"; "/" = the root): its datasets below the group, its
 *  attributes on the group. source as in strata_rfm_write_h5(). The file h
 *  was fitted from (strata_rfm_fit_h5()) must not be this output's path.
 *  @return codes of strata_rfm_write_h5() and STRATA_E_STATE. */
STRATA_API STRATA_NODISCARD int strata_out_rfm(strata_out *o, struct strata_rfm *h, const char *group,
                                               const char *source);
/** The fitted tier model m under group (e.g. "/model"): the layout of
 *  strata_model_write_h5() (docs/tiers.md, "Models"), so strata_model_read_h5()
 *  and `strata predict` read it back from this file.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (not fitted, or an
 *          earlier part failed), STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_out_model(strata_out *o, const struct strata_model *m,
                                                 const char *group);
/** The profile p under group (e.g. "/profile"): the layout of
 *  strata_profile_write_h5(). Codes as strata_out_model(). */
STRATA_API STRATA_NODISCARD int strata_out_profile(strata_out *o, const struct strata_profile *p,
                                                   const char *group);
/** A k sweep's table (strata_kmeans_sweep()'s out for k_min..k_max, its
 *  suggested k and the silhouette's sample size) as /sweep/...: the layout of
 *  strata_sweep_write_h5(). @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG
 *  (k range, suggestion outside it, sample_size < 1), STRATA_E_STATE,
 *  STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_out_sweep(strata_out *o, int64_t k_min, int64_t k_max,
                                                 const double *table, int64_t suggested_k,
                                                 int64_t sample_size);
/** Write the file and move it into place; frees the handle (also on
 *  failure, when path is left as it was and the message is in
 *  strata_last_error()). NULL: STRATA_E_NULL. */
STRATA_API STRATA_NODISCARD int strata_out_commit(strata_out *o);
/** Drop the file under construction and free the handle (NULL is a no-op). */
STRATA_API void strata_out_discard(strata_out *o);

/* ------------------------------------------------------------------------ */
/* Files written as a stream                                                */
/* ------------------------------------------------------------------------ */
/*
 * A new HDF5 file of any size, written as it grows: datasets are declared
 * empty and rows appended in blocks, so memory holds one block and each
 * dataset's chunk cache (two chunks, about 1 MiB each by default) whatever
 * the file's final size (strata_out, above, builds the whole file in
 * memory instead). It is written under the temporary name
 * "<path>.tmp.<pid>.<n>" next to path, with the rules of every libstrata
 * write ("How every libstrata write works": STRATA_WRITE_FORCE, regular
 * files only, stale temporaries swept, strata_discard_temp_file()), and
 * strata_writer_commit() flushes, syncs and renames it: nothing reaches path
 * unless every step worked. Before each block the disk space it needs is
 * reserved (fallocate), so a full disk, a quota or the file size limit
 * (ulimit -f) fails the append with STRATA_E_IO_WRITE and a message naming
 * the cause, never a damaged file (file systems that cannot reserve space
 * write unreserved).
 * Datasets: 1-D or n x cols of STRATA_INT32, STRATA_INT64, STRATA_FLOAT32 or
 * STRATA_FLOAT64, stored chunked (chunk_rows rows a chunk; 0 = about 1 MiB),
 * integers shuffled and gzip-compressed, floats uncompressed; or a 1-D
 * compound "table" of named fields (h5py: a structured array; the readers'
 * --table layout). Names are absolute ("/x", "/tx/day"); intermediate
 * groups are created. Attributes and string datasets as in strata_out.
 * After any call fails (bad arguments included), further calls are refused
 * (STRATA_E_STATE) and commit discards the file, returning the first
 * failure's status. Thread-safety: one handle must not be used by two
 * threads at once; separate handles are independent (calls take the
 * library's HDF5 lock for their own duration).
 */
typedef struct strata_writer strata_writer;

/** Start a new file at path (flags: STRATA_WRITE_FORCE or 0). The
 *  temporary file is created at once (a missing folder or no permission
 *  fails here). Allocates the handle (end it with strata_writer_commit() or
 *  strata_writer_discard()). On failure *out is NULL and strata_last_error()
 *  explains. @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (flags),
 *  STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_writer_open(strata_writer **out, const char *path, int flags);
/** The message of the handle's last failure ("" if none); valid until the
 *  next call on the handle. */
STRATA_API const char *strata_writer_last_error(const strata_writer *w);
/** Declare the empty dataset `name` of dtype elements: 1-D when cols is 0,
 *  else n x cols; *id gets its number for strata_writer_append().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (dtype, cols < 0, chunk
 *  too big: 64 MiB at most, a name declared twice or too long),
 *  STRATA_E_STATE, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_writer_dataset(strata_writer *w, const char *name, int dtype,
                                                      int64_t cols, int64_t chunk_rows, int *id);
/** Declare the empty 1-D compound dataset `name` of nfields (1..256)
 *  fields, named fields[f] (distinct, not empty) of dtypes[f], packed in
 *  that order. Codes as strata_writer_dataset(). */
STRATA_API STRATA_NODISCARD int strata_writer_table(strata_writer *w, const char *name, int nfields,
                                                    const char *const *fields, const int *dtypes,
                                                    int64_t chunk_rows, int *id);
/** Append n rows (n >= 0) to dataset id: values holds n x max(cols, 1)
 *  elements of dtype, row-major; dtype and cols must be the declared ones
 *  (so a block of the wrong type or width is refused, STRATA_E_ARG).
 *  Blocks of any size append the same bytes. @return STRATA_OK,
 *  STRATA_E_NULL, STRATA_E_ARG, STRATA_E_STATE, STRATA_E_IO_WRITE (disk full,
 *  file size limit...), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_writer_append(strata_writer *w, int id, int dtype,
                                                     const void *values, int64_t n, int64_t cols);
/** Append n rows to table id: columns[f] holds the n values of field f, of
 *  its declared dtype; nfields must be the declared count. Packs the rows
 *  in a temporary buffer of n records. Codes as strata_writer_append(). */
STRATA_API STRATA_NODISCARD int strata_writer_append_table(strata_writer *w, int id, int nfields,
                                                           const void *const *columns, int64_t n);
/** The rows appended to dataset id so far, or -1 (unknown id, NULL). */
STRATA_API int64_t strata_writer_rows(const strata_writer *w, int id);
/** n UTF-8 strings: the 1-D dataset `object` (attr NULL) or the attribute
 *  attr of the existing dataset or group `object` (declared ones included).
 *  Codes as strata_writer_dataset(). */
STRATA_API STRATA_NODISCARD int strata_writer_strings(strata_writer *w, const char *object,
                                                      const char *attr, const char *const *strings,
                                                      int64_t n);
/** Strings as fixed-length byte strings (each NUL-padded to the longest
 *  one's length), the form PyTables and pandas' format="fixed" frames use:
 *  the 1-D dataset `object` of n strings (attr NULL), or, with attr, the
 *  scalar attribute attr of the existing object (NULL or "/" = the root
 *  group) holding strings[0] (n must be 1). Codes as strata_writer_strings(). */
STRATA_API STRATA_NODISCARD int strata_writer_fixed_strings(strata_writer *w, const char *object,
                                                            const char *attr,
                                                            const char *const *strings, int64_t n);
/** Scalar attributes of the existing object (NULL or "/" = the root group). */
STRATA_API STRATA_NODISCARD int strata_writer_attr_int(strata_writer *w, const char *object,
                                                       const char *name, int64_t value);
STRATA_API STRATA_NODISCARD int strata_writer_attr_double(strata_writer *w, const char *object,
                                                          const char *name, double value);
STRATA_API STRATA_NODISCARD int strata_writer_attr_string(strata_writer *w, const char *object,
                                                          const char *name, const char *value);
/** Close the file, sync it and move it into place; frees the handle (also
 *  on failure, when path is left as it was, the temporary is removed and
 *  the message is in strata_last_error()). NULL: STRATA_E_NULL. */
STRATA_API STRATA_NODISCARD int strata_writer_commit(strata_writer *w);
/** Drop the file under construction (its temporary is removed; path is left
 *  as it was) and free the handle. NULL is a no-op. */
STRATA_API void strata_writer_discard(strata_writer *w);

/** Write the fitted model to a NEW HDF5 file:
 *    /labels     int32, n          /centroids  float64, k x d
 *    root attributes: k, inertia, n_iter, converged, seed, algorithm,
 *                     strata_version, source (the `source` argument, e.g.
 *                     "in.h5:/features"; NULL writes "": only text, the
 *                     protected input files are those the handle read),
 *                     max_iter, n_init, tol, init ("k-means++", "random",
 *                     "k-means||", "afk-mc2", "centroids"; for a model set by
 *                     strata_kmeans_set_model() init "centroids", max_iter
 *                     and n_init 0), streamed (int32: 1 when the rows were
 *                     streamed from the file under STRATA_KMEANS_MEMORY),
 *                     created (see below).
 *    after strata_kmeans_fit_frame(), fit_h5_columns() or fit_h5_table()
 *    also: /feature_names (d strings) and, when the input had a key,
 *    /customer_id (int64, n; attribute "name").
 *  The file is written under a temporary name in the same folder and renamed
 *  into place, so an existing file is never left damaged; it is replaced only
 *  with STRATA_WRITE_FORCE, only if it is a regular file, and never if the
 *  model was fitted from it (strata_kmeans_fit_h5()) or the handle's initial
 *  centroids were read from it (see "How every libstrata write works" above).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE (also: path is not a regular
 *          file, or is an input of the handle), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_write_h5(strata_kmeans *km, const char *path, const char *source,
                                       int flags);

/* ------------------------------------------------------------------------ */
/* Cluster quality and choosing k (no handle for the metrics: the message   */
/* goes to strata_last_error(); docs/tiers.md, "Choosing k")                */
/* ------------------------------------------------------------------------ */

/** Metrics of strata_cluster_metrics() and strata_kmeans_sweep(): indices
 *  into their out arrays (pinned). With the non-empty clusters C (N_C rows,
 *  mean m_C) of n rows x of overall mean m, L of them:
 *  unweighted, as scikit-learn's functions of the same names. */
typedef enum strata_cluster_metric {
    STRATA_METRIC_INERTIA = 0,           /* W = sum over rows of ||x - m_C(x)||^2 (lower is
                                            tighter; in a sweep: the fit's inertia, to its
                                            centroids, with its weights) */
    STRATA_METRIC_CALINSKI_HARABASZ = 1, /* (B / (L - 1)) / (W / (n - L)), B = sum_C N_C
                                            ||m_C - m||^2; 1 when W = 0 (higher is better) */
    STRATA_METRIC_DAVIES_BOULDIN = 2,    /* mean over C of max over C' != C of (s_C + s_C') /
                                            ||m_C - m_C'||, s_C the mean Euclidean distance of
                                            C's rows to m_C (a pair of equal centroids counts
                                            0); 0 when every s_C or every centroid distance
                                            is 0 (lower is better) */
    STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN = 3, /* mean over rows of (b - a) / max(a, b)
                                            with squared Euclidean distances, exact over all
                                            rows in O(n k d): a = the mean distance to the
                                            other rows of its cluster, b = the lowest mean
                                            distance to another cluster's rows; 0 for a row
                                            alone in its cluster (scikit-learn's
                                            silhouette_score(metric="sqeuclidean")) */
    STRATA_METRIC_SILHOUETTE = 4,        /* the same with Euclidean distances (scikit-learn's
                                            silhouette_score), on a sample of rows: see
                                            strata_cluster_metrics() */
    STRATA_METRIC_COUNT = 5
} strata_cluster_metric;

/** Quality of a labelling of n rows of d features (higher silhouette and
 *  Calinski-Harabasz, lower Davies-Bouldin and inertia are better).
 *  @param dtype, x, n, d, row_stride  the rows, as strata_kmeans_fit() takes
 *         them (borrowed, only read; sums and distances in double).
 *  @param labels  n values in 0..k-1 (clusters may be empty: they do not count).
 *  @param sample_size  rows the Euclidean silhouette (an O(s^2 d) computation)
 *         is taken on: 0 or >= n: every row (exact, as scikit-learn's
 *         silhouette_score(X, labels)); else a uniform sample of
 *         sample_size rows without replacement, drawn from `seed` alone
 *         (the rows strata_silhouette_sample() returns), and the silhouette
 *         of those rows among themselves (as scikit-learn's sample_size=):
 *         the sample size used is min(sample_size, n), n for 0. NaN when the
 *         sample holds fewer than 2 clusters or only singletons.
 *  @param threads  0 = the OpenMP default; results are bitwise the same for any.
 *  @param out  receives STRATA_METRIC_COUNT values, indexed by strata_cluster_metric.
 *  Allocates O((k d + sample_size d) x threads) scratch, freed before return.
 *  Thread-safe.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (dtype), STRATA_E_ARG (n < 2,
 *          d < 1, bad stride, k < 2, sample_size < 0 or 1, a label outside 0..k-1
 *          (the row is named), fewer than 2 or more than n - 1 non-empty
 *          clusters), STRATA_E_NONFINITE (NaN or Inf, the row named; sums that
 *          overflow double), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_cluster_metrics(int dtype, const void *x, int64_t n, int64_t d,
                                       int64_t row_stride, const int32_t *labels, int64_t k,
                                       int64_t sample_size, uint64_t seed, int threads,
                                       double out[STRATA_METRIC_COUNT]);

/** The rows (ascending) of the sample strata_cluster_metrics() and
 *  strata_kmeans_sweep() take the Euclidean silhouette on: s = sample_size
 *  (1 <= s <= n) distinct rows of 0..n-1, uniform, from seed alone.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG. Thread-safe. */
STRATA_API STRATA_NODISCARD int strata_silhouette_sample(int64_t n, int64_t sample_size, uint64_t seed,
                                         int64_t *out_rows);

/** Fit k-means for every k in k_min..k_max and rate each fit.
 *  Every fit uses km's parameters (seed, init, n_init, max_iter, tol,
 *  algorithm, assign, kernel, allow_too_few, ...) with STRATA_KMEANS_K = k,
 *  and is the fit strata_kmeans_fit() would give (bitwise). The data are
 *  borrowed as strata_kmeans_fit() takes them.
 *  @param sample_size  rows of the Euclidean silhouette, as for
 *         strata_cluster_metrics(), drawn once (seed: STRATA_KMEANS_SEED) and
 *         the same rows for every k; each distance between them is computed
 *         once for all k.
 *  @param out  (k_max - k_min + 1) x STRATA_METRIC_COUNT doubles, the row of
 *         k first at (k - k_min) x STRATA_METRIC_COUNT: the fit's inertia
 *         (weighted, to its centroids), then the metrics of its labels as
 *         strata_cluster_metrics() computes them (unweighted, bitwise those
 *         values).
 *  @param suggested_k  receives the suggestion: the knee of inertia against
 *         k by Kneedle (Satopaa et al. 2011): k and inertia are scaled to
 *         [0, 1] and the k whose point lies farthest below the straight line
 *         from the first point to the last is chosen (ties: the lower k).
 *         With fewer than 3 k, or no point below that line, the k of the
 *         highest squared-Euclidean silhouette (ties: the lower k).
 *  When n is small (fewer than 16384 rows a thread) the k run in parallel,
 *  each fit on one thread; else one after another, each on STRATA_THREADS
 *  threads: the results are the same. The progress callback is not called;
 *  the step callback gets the SEED reports of the fits made one after another
 *  (on the calling thread), none from the fits made in parallel.
 *  On success km holds the fit of suggested_k (its labels, centroids and
 *  results, as strata_kmeans_fit() leaves them; refitted at the end when the
 *  labels of every k would take more than 64 MiB); its parameters, K
 *  included, are unchanged. On error km keeps its previous model.
 *  Allocates: the labels and centroids of every k while it runs (or of one
 *  k at a time, see above), sample_size x d doubles and sample_size int32
 *  per k, plus each fit's own scratch.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (k_min < 2, k_max < k_min,
 *          k_max > n - 1, more than 1000 k, sample_size < 0 or 1), STRATA_E_PARAM
 *          (init = STRATA_INIT_CENTROIDS: given centroids fix one k), and
 *          every code of strata_kmeans_fit() and strata_cluster_metrics(),
 *          the message naming the k. */
STRATA_API STRATA_NODISCARD int strata_kmeans_sweep(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                    int64_t d, int64_t row_stride, const double *weights,
                                    int64_t k_min, int64_t k_max, int64_t sample_size,
                                    double *out, int64_t *suggested_k);

/** Write a sweep's table to a NEW HDF5 file (see "How every libstrata write
 *  works"; no input is known here: check the path against yours):
 *    /sweep/k  int64, /sweep/inertia, /sweep/calinski_harabasz,
 *    /sweep/davies_bouldin, /sweep/silhouette_sqeuclidean, /sweep/silhouette
 *    float64, one value per k (k_min..k_max); attributes of /sweep:
 *    suggested_k, sample_size (the rows used), and of the root:
 *    strata_version, source (NULL: "").
 *  @param table  as strata_kmeans_sweep()'s out.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (k range, suggested_k
 *          outside it, sample_size < 1), STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. Thread-safe. */
STRATA_API STRATA_NODISCARD int strata_sweep_write_h5(const char *path, int64_t k_min, int64_t k_max,
                                      const double *table, int64_t suggested_k,
                                      int64_t sample_size, const char *source, int flags);

/* ------------------------------------------------------------------------ */
/* HDF5 matrices (no handle: the message goes to strata_last_error())        */
/* ------------------------------------------------------------------------ */

/** Shape of a 2-D numeric dataset (0 rows is reported as n = 0 here; reading or
 *  fitting such a dataset fails). @return STRATA_OK, STRATA_E_NULL, STRATA_E_IO_*. */
STRATA_API STRATA_NODISCARD int strata_h5_shape(const char *path, const char *dataset, int64_t *out_n,
                                int64_t *out_d);

/** Read a 2-D numeric dataset (any integer or float type), converted to `dtype`,
 *  into buf (n x d row-major, exactly the dataset's shape). Reads in row blocks
 *  straight into buf, so after an STRATA_E_IO_* error during the read its
 *  contents are unspecified (an exception to the general rule above).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (shape differs),
 *          STRATA_E_PARAM (dtype), STRATA_E_IO_*. */
STRATA_API STRATA_NODISCARD int strata_h5_read_matrix(const char *path, const char *dataset, int dtype,
                                      void *buf, int64_t n, int64_t d);

/** Write an n x d matrix of `dtype` as a chunked, gzip-compressed dataset of a NEW
 *  file (a regular file is replaced only with STRATA_WRITE_FORCE; written under a
 *  temporary name then renamed, see "How every libstrata write works" above).
 *  Intermediate groups of `dataset` are created.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG, STRATA_E_PARAM,
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE. */
STRATA_API STRATA_NODISCARD int strata_h5_write_matrix(const char *path, const char *dataset, int dtype,
                                       const void *buf, int64_t n, int64_t d, int flags);

/* ------------------------------------------------------------------------ */
/* What an HDF5 file holds (`strata info`)                                  */
/* ------------------------------------------------------------------------ */
/*
 * A catalog lists every group, dataset and link of a file with its type,
 * shape, chunking, filters and attributes (metadata only: no dataset is
 * read), and says which reader of libstrata takes each object. Objects come
 * depth first, by name, the root ("/") first; groups deeper than 16 levels
 * are not entered and at most 100,000 objects are listed. A corrupt part of
 * a file shows as an object of kind STRATA_H5_OTHER whose type names the
 * problem. Thread-safety: a catalog is immutable once open; open and free
 * are thread-safe.
 */
typedef struct strata_h5_catalog strata_h5_catalog;

/** The kind of a catalog object (pinned). */
typedef enum strata_h5_kind {
    STRATA_H5_GROUP = 1,
    STRATA_H5_DATASET = 2,
    STRATA_H5_OTHER = 3 /* a soft or external link (not followed), a named datatype,
                           or an entry that cannot be read */
} strata_h5_kind;

/** Which reader takes an object (pinned). */
typedef enum strata_h5_use {
    STRATA_H5_USE_NONE = 0,
    STRATA_H5_USE_MATRIX = 1,  /* a 2-D numeric dataset: strata_kmeans_fit_h5(),
                                  strata_h5_read_matrix() (`strata kmeans FILE:/ds`) */
    STRATA_H5_USE_TABLE = 2,   /* a table strata_frame_read_table() reads (a group of two or
                                  more 1-D numeric columns of one length, a 1-D compound
                                  dataset, a pandas frame): its numeric columns in
                                  strata_h5_catalog_columns(), its key in _key() */
    STRATA_H5_USE_MODEL = 3,   /* a saved tier model group: strata_model_read_h5() */
    STRATA_H5_USE_TIERING = 4  /* the root of a file with /customer_id and /tier of one
                                  length: a tiering `strata migrate` compares */
} strata_h5_use;

/** List the objects of the HDF5 file at path. Allocates *out (free it with
 *  strata_h5_catalog_free()); on failure *out is NULL and strata_last_error()
 *  names the problem. @return STRATA_OK, STRATA_E_NULL, STRATA_E_IO_OPEN
 *  (missing, unreadable, not a regular file), STRATA_E_IO_FORMAT (not HDF5,
 *  or its root unreadable), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_h5_catalog_open(strata_h5_catalog **out, const char *path);
/** Free a catalog (NULL is a no-op). */
STRATA_API void strata_h5_catalog_free(strata_h5_catalog *c);
/** The number of objects (>= 1: the root); 0 for NULL. */
STRATA_API int64_t strata_h5_catalog_count(const strata_h5_catalog *c);
/** The getters of object i (0 <= i < count): strings are owned by the catalog;
 *  an i out of range (or c NULL) gives NULL, 0 or -1. */
STRATA_API const char *strata_h5_catalog_path(const strata_h5_catalog *c, int64_t i);
/** A strata_h5_kind. */
STRATA_API int strata_h5_catalog_kind(const strata_h5_catalog *c, int64_t i);
/** Element type: "int8".."int64", "uint8".."uint64", "float16".."float64",
 *  "string" (variable length), "string[N]", "enum(int8)", "float64[3]"
 *  (an array type), "compound{name:type,...}", ...; "" for groups. */
STRATA_API const char *strata_h5_catalog_type(const strata_h5_catalog *c, int64_t i);
/** The rank of a dataset (0 for a scalar; -1 for groups, links and null
 *  dataspaces); its first min(rank, max) dimensions into dims (may be NULL). */
STRATA_API int strata_h5_catalog_shape(const strata_h5_catalog *c, int64_t i, int64_t *dims,
                                       int max);
/** The chunk rank of a dataset (0: not chunked), its chunk dimensions as above. */
STRATA_API int strata_h5_catalog_chunks(const strata_h5_catalog *c, int64_t i, int64_t *dims,
                                        int max);
/** The filters of a dataset in order, comma-separated: "gzip(LEVEL)", "shuffle",
 *  "fletcher32", "szip", "nbit", "scaleoffset" or "filterID(name)"; "" none. */
STRATA_API const char *strata_h5_catalog_filters(const strata_h5_catalog *c, int64_t i);
/** A strata_h5_use. */
STRATA_API int strata_h5_catalog_use(const strata_h5_catalog *c, int64_t i);
/** For STRATA_H5_USE_TABLE: the numeric columns the frame reader would read
 *  (comma-separated names, the key left out) and the key's name ("" none);
 *  "" otherwise. */
STRATA_API const char *strata_h5_catalog_columns(const strata_h5_catalog *c, int64_t i);
STRATA_API const char *strata_h5_catalog_key(const strata_h5_catalog *c, int64_t i);
/** The attributes of object i (by name, at most 256): count, name and a short
 *  text of the value (numbers, strings, "[a, b, ...]" for arrays, at most 95
 *  bytes, "..." where cut; "<type, N values>" for other types). */
STRATA_API int64_t strata_h5_catalog_attr_count(const strata_h5_catalog *c, int64_t i);
STRATA_API const char *strata_h5_catalog_attr_name(const strata_h5_catalog *c, int64_t i,
                                                   int64_t j);
STRATA_API const char *strata_h5_catalog_attr_value(const strata_h5_catalog *c, int64_t i,
                                                    int64_t j);

/* ------------------------------------------------------------------------ */
/* Feature frames: customer tables in, named features                       */
/* (no handle: messages go to strata_last_error())                           */
/* ------------------------------------------------------------------------ */
/*
 * strata_frame  n rows (customers) x d features, float64, row-major, in the
 *               units of the file; d feature names (UTF-8); optionally an
 *               int64 row key (the customer id) with its name. Immutable once
 *               made; free it with strata_frame_free(). A frame may be read
 *               from several threads at once.
 *
 * Layouts read (docs/tiers.md, "Customer tables in"):
 *   - d 1-D numeric datasets of equal length (strata_frame_read_columns);
 *   - a table (strata_frame_read_table): a 1-D compound dataset (h5py,
 *     PyTables), a pandas frame written by DataFrame.to_hdf(path, key=table)
 *     in "table" format (with or without data_columns: columns packed in
 *     values_block_<i> fields are found by name) or in the default "fixed"
 *     format, or a group of 1-D datasets (e.g. "/" of a `strata rfm` output);
 *   - an n x d numeric dataset (strata_frame_read_matrix).
 * Values: any integer or float type, converted to float64 (integers beyond
 * 2^53 in magnitude are rounded to the nearest double, as numpy's
 * astype(float64) does).
 *
 * Feature names: a dataset's base name ("/customers/recency" -> "recency"),
 * a table's column names, or a matrix's "feature_names" attribute. Names
 * must be distinct and non-empty.
 *
 * Row key. `key` NULL: a column (or dataset beside the first column, or in
 * the group) named "customer_id" of the same length, if there is one; for a
 * pandas frame also its index when the index is named customer_id. `key` ""
 * : no key. Else the key's dataset path (a name without '/' is looked up in
 * the group of the first column) or the table's column (or pandas index) of
 * that name, which must exist. Integer or integral float values; every key
 * present and distinct. INT64_MIN is reserved (it marks a missing key).
 * The key column is never a feature of a table read with columns NULL.
 *
 * Checks (every reader and strata_frame_from_arrays()): STRATA_E_IO_* for a
 * missing file, dataset or column (the message lists the table's columns),
 * unequal lengths, non-numeric columns, 0 rows; STRATA_E_ARG for duplicate
 * or empty feature names, a repeated key (both rows named) and bad sizes;
 * STRATA_E_NONFINITE for NaN or Inf in a feature (column name and row
 * named) and for a missing key (NaN, a fraction or beyond int64 in a float
 * or uint64 key column; row named); STRATA_E_NOMEM (memory, or n x d
 * beyond the machine's memory). On failure *out is left untouched.
 * Allocates n x d doubles, n keys and the names, owned by the frame.
 */
typedef struct strata_frame strata_frame;

/** Read d 1-D numeric datasets of equal length (dataset paths) as the
 *  features, named by their base names. key: see "Row key" above.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (d < 1), the checks above. */
STRATA_API STRATA_NODISCARD int strata_frame_read_columns(strata_frame **out, const char *path,
                                                          const char *const *datasets, int64_t d,
                                                          const char *key);

/** Read columns of the table `table`: a 1-D compound dataset, a pandas frame
 *  (its to_hdf key, e.g. "/customers", or its "table" dataset) or a group of
 *  1-D datasets. columns: d column names (for a group: dataset names in it,
 *  or paths); NULL with d = 0: every numeric column except the key, in the
 *  table's order (pandas' column order; a group's datasets by name, or in
 *  creation order when the file tracks it). key: see "Row key" above.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (columns NULL and d != 0,
 *          or d < 1 with columns), the checks above (STRATA_E_IO_TYPE: no
 *          numeric column). */
STRATA_API STRATA_NODISCARD int strata_frame_read_table(strata_frame **out, const char *path,
                                                        const char *table,
                                                        const char *const *columns, int64_t d,
                                                        const char *key);

/** Read an n x d numeric dataset; names from its string attribute
 *  "feature_names" (or "columns"; it must then hold d strings), else
 *  "x0".."x{d-1}". No key.
 *  @return STRATA_OK, STRATA_E_NULL, the checks above. */
STRATA_API STRATA_NODISCARD int strata_frame_read_matrix(strata_frame **out, const char *path,
                                                         const char *dataset);

/** A frame copied from memory: row i of x starts at x + i * row_stride
 *  (0 means d; else >= d). names: d strings or NULL for "x0".."x{d-1}";
 *  key: n values or NULL (no key); key_name: the key's name (NULL means
 *  "customer_id"). Nothing is borrowed after the call.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n, d < 1, bad stride,
 *          n x d overflow), the checks above. */
STRATA_API STRATA_NODISCARD int strata_frame_from_arrays(strata_frame **out, const double *x,
                                                         int64_t n, int64_t d, int64_t row_stride,
                                                         const char *const *names,
                                                         const int64_t *key,
                                                         const char *key_name);

/** Rows and features of f. @return STRATA_OK, STRATA_E_NULL. */
STRATA_API STRATA_NODISCARD int strata_frame_shape(const strata_frame *f, int64_t *out_n,
                                                   int64_t *out_d);
/** The n x d row-major features, owned by f (valid until strata_frame_free); NULL if f is. */
STRATA_API const double *strata_frame_data(const strata_frame *f);
/** Name of feature j (0 <= j < d), owned by f; NULL if f is NULL or j out of range. */
STRATA_API const char *strata_frame_name(const strata_frame *f, int64_t j);
/** The n row keys, owned by f; NULL when f has no key (or f is NULL). */
STRATA_API const int64_t *strata_frame_key(const strata_frame *f);
/** The key's name (e.g. "customer_id"), owned by f; NULL when f has no key. */
STRATA_API const char *strata_frame_key_name(const strata_frame *f);
/** Free a frame. NULL is a no-op. */
STRATA_API void strata_frame_free(strata_frame *f);

/** Fit k-means to a frame's features (float64; see strata_kmeans_fit(): the
 *  same results and codes; weights NULL or n values) and keep its feature
 *  names and row key with the model: strata_kmeans_write_h5() then also
 *  writes /feature_names (d strings) and, when the frame has a key,
 *  /customer_id (int64, n, in row order, attribute "name" = the key's
 *  name). The frame is only read; it may be freed after the call. A later
 *  strata_kmeans_fit(), fit_h5() or set_model() drops the names and keys.
 *  Allocates: as strata_kmeans_fit(), plus copies of the names and keys.
 *  @return as strata_kmeans_fit(); STRATA_E_NULL for a NULL frame. */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_frame(strata_kmeans *km, const strata_frame *f,
                                                        const double *weights);

/** Fit k-means to the features of d 1-D column datasets of a file, read as
 *  strata_frame_read_columns() reads them (the same arguments, layouts,
 *  conversion to float64, key rules, checks and messages), under the
 *  handle's STRATA_KMEANS_MEMORY as strata_kmeans_fit_h5() fits a dataset:
 *  when the features (n x d x 8 bytes), the keys and the fit's state fit the
 *  budget (or there is none) the columns are read into a frame and fitted
 *  as strata_kmeans_fit_frame() does; else, and whenever
 *  STRATA_KMEANS_BLOCK_ROWS is set, every pass streams them from the file in
 *  blocks of whole chunks of every column (their least common multiple where
 *  a block holds it, else of the longest chunks), prefetched on another
 *  thread. Both give the same labels, centroids and inertia, bitwise, for
 *  any block size and thread count; the algorithms stream as under
 *  strata_kmeans_fit_h5() (hamerly and yinyang run as lloyd; minibatch is
 *  refused, STRATA_E_UNSUPPORTED). Streamed, the names and keys are checked
 *  before the fit and the values as each block is read: a NaN or Inf stops
 *  the fit with STRATA_E_NONFINITE and the frame reader's message (feature
 *  and row named); a file written in place during the fit stops it with
 *  STRATA_E_IO. The model keeps the names and the key as after
 *  strata_kmeans_fit_frame() (strata_kmeans_write_h5() writes
 *  /feature_names and /customer_id) and the file as its input (never
 *  replaced by strata_kmeans_write_h5()). No weights.
 *  Allocates: as strata_kmeans_fit_h5(); the keys (8 bytes a row) stay in
 *  memory either way. Not thread-safe on one handle.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (d < 1, k > n, ...), the
 *          frame checks ("Feature frames" above), STRATA_E_NOMEM (also: a
 *          budget too small to stream), the codes of strata_kmeans_fit(). */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_h5_columns(strata_kmeans *km, const char *path,
                                                             const char *const *datasets,
                                                             int64_t d, const char *key);

/** strata_kmeans_fit_h5_columns() for the columns of a table, read as
 *  strata_frame_read_table() reads them: a 1-D compound dataset, a pandas
 *  frame (table or fixed format) or a group of 1-D datasets; columns NULL
 *  with d = 0: every numeric column except the key. The same budget rule,
 *  results, model and codes (STRATA_E_ARG: columns NULL and d != 0, or
 *  d < 1 with columns). */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_h5_table(strata_kmeans *km, const char *path,
                                                           const char *table,
                                                           const char *const *columns, int64_t d,
                                                           const char *key);

/** Name of feature j of the model fitted by strata_kmeans_fit_frame(),
 *  fit_h5_columns() or fit_h5_table(), owned by the handle (valid until its
 *  next fit); NULL for any other model, j out of range or a NULL handle. */
STRATA_API const char *strata_kmeans_feature_name(const strata_kmeans *km, int64_t j);
/** The row key's name of such a model (e.g. "customer_id"), owned by the
 *  handle; NULL when it has no key. */
STRATA_API const char *strata_kmeans_key_name(const strata_kmeans *km);

/* ------------------------------------------------------------------------ */
/* RFM: recency, frequency, monetary scores from transaction logs           */
/* ------------------------------------------------------------------------ */
/*
 * strata_rfm  holds RFM parameters (set by enum key, sticky), optional
 *             caller-supplied bin edges and segment rules, and, after a
 *             successful fit, one row per customer sorted by customer id:
 *             the aggregates (recency, frequency, monetary, first purchase,
 *             tenure), the scores (R, F, M in 1..q, the RFM code, the score
 *             sum), the segment index, the bin edges, the segment profiles
 *             and the cleaning report. docs/rfm.md tells the whole story.
 *
 * Typical use
 *   strata_rfm *h;
 *   if (strata_rfm_create(&h) != STRATA_OK) ...;
 *   strata_rfm_set_int(h, STRATA_RFM_BINS, 5);
 *   if (strata_rfm_fit(h, customer_id, day, amount, n) != STRATA_OK)
 *       fprintf(stderr, "%s\n", strata_rfm_last_error(h));
 *   strata_rfm_result_int(h, STRATA_RFM_CUSTOMERS, &nc);
 *   strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, nc);
 *   strata_rfm_free(h);
 *
 * Days. Every time is turned into a day number: with STRATA_RFM_TIME_DAYS
 * (default) the time is the day; with STRATA_RFM_TIME_SECONDS it is Unix
 * seconds and the day is floor(time / 86400) (UTC days since 1970-01-01).
 * Recency = reference day - last purchase day, so with the default reference
 * day (the day after the last kept transaction) a purchase on the last day
 * has recency 1.
 *
 * Cleaning. Each row is checked in this order and, at its first problem,
 * counted under that reason (see strata_rfm_result):
 *   1. missing or invalid customer id (id == INT64_MIN, the readers' mark
 *      for NaN or non-integral ids, or id < STRATA_RFM_MIN_ID): dropped;
 *   2. day outside [STRATA_RFM_MIN_DAY, STRATA_RFM_MAX_DAY]: dropped;
 *   3. NaN or infinite amount: dropped;
 *   4. negative amount: dropped (default) or netted (STRATA_RFM_NET);
 *   5. zero amount: kept as a purchase (default) or dropped;
 *   6. exact duplicate (same id, time and amount as another kept row):
 *      counted, and kept (default) or dropped (one copy stays).
 * Nothing is dropped silently: every reason has a count.
 *
 * Overflow. Amounts are any finite doubles, but every number a fit gives is
 * finite (except the NaN documented for empty segments and a zero total):
 * a customer whose amounts sum beyond the double range (about 1.8e308) at
 * any step of the canonical order (by day, time, amount), or a profile sum
 * (a segment's revenue or monetary values, all customers' revenue) that
 * overflows, fails the fit or scoring with STRATA_E_NONFINITE naming the
 * customer id or the segment; the previous result stays. Such amounts are
 * not money: the fit refuses them rather than dropping rows. Quantile edges
 * and medians between values near the range are computed without overflow.
 */

typedef struct strata_rfm strata_rfm;

/** Tie policies (value of STRATA_RFM_TIES). */
typedef enum strata_rfm_ties {
    /* Equal-count bins on ranks: customers are ranked by value, ties broken
     * by ascending customer id, and the ranks are cut like pandas'
     * qcut(rank(method="first"), q): quantile edges of the ranks 1..n with
     * linear interpolation, right-closed bins. Always q bins when n >= q. */
    STRATA_RFM_TIES_RANK = 0,
    /* Quantile edges of the values (linear interpolation, as numpy.quantile),
     * right-closed bins, duplicate edges dropped (pandas' qcut with
     * duplicates="drop"): equal values always share a bin, and there may be
     * fewer than q bins (see STRATA_RFM_BINS_R/F/M). */
    STRATA_RFM_TIES_VALUE = 1,
    /* The q - 1 cut points given by strata_rfm_set_edges() for each metric:
     * value v is in bin b = number of cut points < v (right-closed). */
    STRATA_RFM_TIES_EDGES = 2
} strata_rfm_ties;

/** Row policies: values of STRATA_RFM_NEGATIVE, STRATA_RFM_ZERO and
 *  STRATA_RFM_DUPLICATES (each lists the ones it accepts). */
typedef enum strata_rfm_policy {
    STRATA_RFM_KEEP = 0, /* keep the row (as a purchase) */
    STRATA_RFM_DROP = 1, /* drop the row */
    STRATA_RFM_NET = 2   /* negative amounts only: subtract them from the monetary total
                            (a return); they are not purchases (no frequency, recency,
                            first purchase); customers left with no purchase are dropped */
} strata_rfm_policy;

/** Frequency modes (value of STRATA_RFM_FREQUENCY_MODE). */
typedef enum strata_rfm_frequency {
    STRATA_RFM_COUNT_ROWS = 0, /* number of purchases (kept purchase rows) */
    STRATA_RFM_COUNT_DAYS = 1  /* number of distinct purchase days */
} strata_rfm_frequency;

/** Monetary modes (value of STRATA_RFM_MONETARY_MODE). */
typedef enum strata_rfm_monetary {
    STRATA_RFM_SUM = 0, /* total spend (net of returns with STRATA_RFM_NET) */
    STRATA_RFM_MEAN = 1 /* total spend / frequency (per purchase, or per purchase day) */
} strata_rfm_monetary;

/** Time units (value of STRATA_RFM_TIME_UNIT). */
typedef enum strata_rfm_time_unit {
    STRATA_RFM_TIME_DAYS = 0,   /* integer day numbers (any epoch) */
    STRATA_RFM_TIME_SECONDS = 1 /* Unix seconds; day = floor(t / 86400) */
} strata_rfm_time_unit;

/** STRATA_RFM_REFERENCE_DAY value meaning "the day after the last kept transaction". */
#define STRATA_RFM_REFERENCE_AUTO INT64_MIN

/** Parameter keys (pinned), all integers: strata_rfm_set_int(), strata_rfm_get_int().
 *  Values out of range return STRATA_E_PARAM and leave the parameter unchanged.
 *  Aggregation parameters take effect at the next fit; scoring parameters
 *  (BINS, TIES, edges, segment rules) also at strata_rfm_score(). */
typedef enum strata_rfm_param {
    /* int, 2..100, default 5: number of score bins q (scoring). */
    STRATA_RFM_BINS = 200,
    /* int, a strata_rfm_ties value, default RANK (scoring). */
    STRATA_RFM_TIES = 201,
    /* int, a day number in [-2^31, 2^31], or STRATA_RFM_REFERENCE_AUTO
     * (default): the day recency is measured to. Must be >= the last kept
     * purchase day (a fit fails otherwise: drop later rows with MAX_DAY). */
    STRATA_RFM_REFERENCE_DAY = 202,
    /* int, a strata_rfm_frequency value, default COUNT_ROWS. */
    STRATA_RFM_FREQUENCY_MODE = 203,
    /* int, a strata_rfm_monetary value, default SUM. */
    STRATA_RFM_MONETARY_MODE = 204,
    /* int, DROP (default) or NET: rows with a negative amount. */
    STRATA_RFM_NEGATIVE = 205,
    /* int, KEEP (default) or DROP: rows with a zero amount. */
    STRATA_RFM_ZERO = 206,
    /* int, KEEP (default) or DROP: exact duplicate rows. */
    STRATA_RFM_DUPLICATES = 207,
    /* int, a strata_rfm_time_unit value, default DAYS. */
    STRATA_RFM_TIME_UNIT = 208,
    /* int, days in [-2^31, 2^31 - 1], defaults -2^31 and 2^31 - 1: rows whose
     * day lies outside [MIN_DAY, MAX_DAY] are dropped as bad timestamps. */
    STRATA_RFM_MIN_DAY = 209,
    STRATA_RFM_MAX_DAY = 210,
    /* int, > INT64_MIN, default 0: customer ids below it are invalid
     * (negative ids, often a "missing" mark, are dropped by default). */
    STRATA_RFM_MIN_ID = 211,
    /* int, bytes >= 0, default 0 (no limit): the memory budget of
     * strata_rfm_fit_h5() (the other fits take arrays already in memory).
     * A log whose rows x 100 bytes exceed it is aggregated out of core: read
     * in blocks (whole chunks of the datasets), cleaned, its kept rows
     * spilled by customer-id range into part files of a private temporary
     * directory (strata_rfm_set_tmpdir()), each part aggregated in memory;
     * the directory is removed before the fit returns, on success or
     * failure. The result (customers, aggregates, scores, segments,
     * cleaning counts, edges) is bitwise that of the in-memory fit. What
     * must fit: about 128 bytes per customer (the per-customer table, its
     * scores and the writer's columns) - a smaller budget fails with
     * STRATA_E_NOMEM naming the minimum - and one part (100 bytes a row;
     * one customer's rows are never split, so a single huge customer may
     * exceed the budget). Disk space: 24 bytes per kept row plus 48 per
     * customer. A budget is a target for the big arrays, not a hard cap:
     * HDF5's chunk cache and the program's own memory come on top. */
    STRATA_RFM_MEMORY = 212
    /* STRATA_THREADS (400) applies too: 0 = the OpenMP default. Results do
     * not depend on it. So does STRATA_KERNEL (401, default AUTO): the SIMD
     * kernel that checks the rows and counts values against bin edges;
     * every kernel gives the same results. */
} strata_rfm_param;

/** Metrics (argument of strata_rfm_set_edges() and strata_rfm_edges()). */
typedef enum strata_rfm_metric {
    STRATA_RFM_RECENCY = 0,
    STRATA_RFM_FREQUENCY = 1,
    STRATA_RFM_MONETARY = 2
} strata_rfm_metric;

/** Per-customer columns (strata_rfm_column_int64 / _double). Integer columns
 *  can be read with both functions, double columns only as double. */
typedef enum strata_rfm_column {
    STRATA_RFM_COL_CUSTOMER_ID = 0, /* int: ascending */
    STRATA_RFM_COL_RECENCY = 1,     /* int: reference day - last purchase day */
    STRATA_RFM_COL_FREQUENCY = 2,   /* int: purchases, or distinct purchase days */
    STRATA_RFM_COL_MONETARY = 3,    /* double: total spend, or mean per purchase (MONETARY_MODE) */
    STRATA_RFM_COL_FIRST_DAY = 4,   /* int: day of the first purchase */
    STRATA_RFM_COL_TENURE = 5,      /* int: reference day - first purchase day */
    STRATA_RFM_COL_R = 6,           /* int: recency score 1..q (most recent = q) */
    STRATA_RFM_COL_F = 7,           /* int: frequency score 1..q */
    STRATA_RFM_COL_M = 8,           /* int: monetary score 1..q */
    STRATA_RFM_COL_CODE = 9,        /* int: (R*B + F)*B + M, B = 10 for q <= 9, 100 for
                                       q <= 99, 1000 for q = 100 (e.g. 545) */
    STRATA_RFM_COL_SCORE = 10,      /* int: R + F + M */
    STRATA_RFM_COL_SEGMENT = 11,    /* int: index of the first matching segment rule, -1 if none */
    STRATA_RFM_COL_REVENUE = 12     /* double: total spend (net of returns with NET) */
} strata_rfm_column;

/** Result keys of strata_rfm_result_int(). Row counts follow the cleaning
 *  order in the comment at the top of this section. */
typedef enum strata_rfm_result {
    STRATA_RFM_ROWS = 250,           /* rows given */
    STRATA_RFM_ROWS_USED = 251,      /* rows that went into the aggregates */
    STRATA_RFM_BAD_ID = 252,         /* dropped: missing or invalid customer id */
    STRATA_RFM_BAD_TIME = 253,       /* dropped: day outside [MIN_DAY, MAX_DAY] */
    STRATA_RFM_BAD_AMOUNT = 254,     /* dropped: NaN or infinite amount */
    STRATA_RFM_NEGATIVE_ROWS = 255,  /* negative amounts: dropped (DROP) or netted (NET) */
    STRATA_RFM_ZERO_ROWS = 256,      /* zero amounts: kept (KEEP) or dropped (DROP) */
    STRATA_RFM_DUPLICATE_ROWS = 257, /* rows equal to another kept row: kept or dropped */
    STRATA_RFM_RETURN_ONLY_ROWS = 258, /* NET: rows of customers without any purchase: dropped */
    STRATA_RFM_CUSTOMERS = 259,      /* customers (rows of every column) */
    STRATA_RFM_FIRST_DAY = 260,      /* first kept purchase day */
    STRATA_RFM_LAST_DAY = 261,       /* last kept purchase day */
    STRATA_RFM_REFERENCE_DAY_USED = 262, /* the reference day recency is measured to */
    STRATA_RFM_BINS_USED = 263,      /* q, the number of bins asked for */
    STRATA_RFM_BINS_R = 264,         /* distinct recency bins produced (< q is possible
                                        with TIES_VALUE, or with fewer customers than q) */
    STRATA_RFM_BINS_F = 265,         /* distinct frequency bins produced */
    STRATA_RFM_BINS_M = 266,         /* distinct monetary bins produced */
    STRATA_RFM_SEGMENTS = 267,       /* segment rules (11 for the default map) */
    STRATA_RFM_UNMATCHED = 268       /* customers that matched no rule (segment -1) */
} strata_rfm_result;

/** Segment profile statistics (strata_rfm_profile()); one value per segment.
 *  Means and medians of an empty segment are NaN. Medians of an even count
 *  are the mean of the two middle values (as pandas' median). */
typedef enum strata_rfm_stat {
    STRATA_RFM_STAT_COUNT = 0,          /* customers */
    STRATA_RFM_STAT_CUSTOMER_SHARE = 1, /* customers / all customers */
    STRATA_RFM_STAT_REVENUE = 2,        /* sum of the customers' revenue (total spend) */
    STRATA_RFM_STAT_REVENUE_SHARE = 3,  /* revenue / total revenue (NaN if that is 0) */
    STRATA_RFM_STAT_MEAN_RECENCY = 4,
    STRATA_RFM_STAT_MEDIAN_RECENCY = 5,
    STRATA_RFM_STAT_MEAN_FREQUENCY = 6,
    STRATA_RFM_STAT_MEDIAN_FREQUENCY = 7,
    STRATA_RFM_STAT_MEAN_MONETARY = 8,
    STRATA_RFM_STAT_MEDIAN_MONETARY = 9
} strata_rfm_stat;

/** Columns of a segment rule (strata_rfm_set_segments()): inclusive score
 *  ranges; FM is the combined score (F + M + 1) / 2 in integer division
 *  (the mean of F and M, halves rounded up). */
typedef enum strata_rfm_rule_column {
    STRATA_RFM_RULE_R_LO = 0, STRATA_RFM_RULE_R_HI = 1,
    STRATA_RFM_RULE_F_LO = 2, STRATA_RFM_RULE_F_HI = 3,
    STRATA_RFM_RULE_M_LO = 4, STRATA_RFM_RULE_M_HI = 5,
    STRATA_RFM_RULE_FM_LO = 6, STRATA_RFM_RULE_FM_HI = 7,
    STRATA_RFM_RULE_COLUMNS = 8
} strata_rfm_rule_column;

/** Create an RFM handle with default parameters and the default 11-segment map.
 *  @param out  receives the handle; free it with strata_rfm_free().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_create(strata_rfm **out);

/** Free a handle and everything it owns. NULL is a no-op. */
STRATA_API void strata_rfm_free(strata_rfm *h);

/** Message of the last failing call on this handle ("" if none). Owned by the
 *  handle, valid until the next call on it. h == NULL returns a static message. */
STRATA_API const char *strata_rfm_last_error(const strata_rfm *h);

/** Set (or with fn == NULL remove) the step callback (strata_step_fn):
 *  READ in strata_rfm_fit_h5(), AGGREGATE and SCORE in strata_rfm_fit() and
 *  strata_rfm_fit_h5() (SCORE also in strata_rfm_score()), WRITE in
 *  strata_rfm_write_h5(). A cancelled fit keeps the previous result.
 *  @return STRATA_OK, STRATA_E_NULL. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_progress(strata_rfm *h, strata_step_fn fn, void *user);

/** Set an integer parameter (see strata_rfm_param; STRATA_THREADS too). Sticky.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_int(strata_rfm *h, int param, int64_t value);
/** Read an integer parameter into *out. @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_rfm_get_int(const strata_rfm *h, int param, int64_t *out);

/** Give the q - 1 interior cut points of one metric for STRATA_RFM_TIES_EDGES
 *  (copied; strictly increasing, finite). Recency cut points are in days:
 *  recency <= cuts[0] is the most recent bin, scored q. n_cuts == 0 (cuts
 *  may then be NULL) forgets the metric's cut points. A scoring run with
 *  TIES_EDGES fails with STRATA_E_PARAM unless every metric has BINS - 1.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (metric, n_cuts > 99),
 *          STRATA_E_PARAM (not increasing), STRATA_E_NONFINITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_edges(strata_rfm *h, int metric, const double *cuts,
                                     int64_t n_cuts);

/** Replace the segment rules (copied). Rule i is named names[i] (non-empty,
 *  at most 127 bytes, distinct) and matches a customer when every score lies
 *  in its inclusive ranges bounds[i*8 + STRATA_RFM_RULE_*] (use 1..100 for
 *  "any"). Each customer gets the first rule it matches, or -1. Scores are
 *  compared as they are (1..q). n_rules == 0 (names and bounds may be NULL)
 *  restores the default map, whose bounds are on a 1..5 scale: with q != 5
 *  each score s is first mapped to ceil(5 s / q). The default map is
 *  documented in docs/rfm.md. Takes effect at the next fit or strata_rfm_score().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n_rules outside 0..1000,
 *          a bad name, lo > hi), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_segments(strata_rfm *h, int64_t n_rules,
                                        const char *const *names, const int32_t *bounds);

/** Aggregate a transaction log and score it: one row per customer.
 *  @param customer_id, time, amount  n values each; borrowed, only read during
 *         the call. time is in days or Unix seconds (STRATA_RFM_TIME_UNIT).
 *  Rows are cleaned as described at the top of this section; the result does
 *  not depend on the order of the rows nor on STRATA_THREADS (bitwise).
 *  Monetary totals are compensated sums taken in a canonical order (by day,
 *  time, amount within each customer).
 *  Allocates: 8 bytes per kept row of scratch when every kept amount is a
 *  whole number of cents (16, at worst 24, otherwise) and about 55
 *  bytes per customer for the result. The handle keeps the scratch and, once
 *  replaced, the previous result's memory, and reuses them in later calls
 *  (freed by strata_rfm_free).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 1; no row left after
 *          cleaning: the message gives the counts; reference day before the
 *          last purchase), STRATA_E_PARAM (TIES_EDGES without cut points),
 *          STRATA_E_NONFINITE (a total overflows double, see "Overflow"
 *          above), STRATA_E_NOMEM. On error the previous result stays. */
STRATA_API STRATA_NODISCARD int strata_rfm_fit(strata_rfm *h, const int64_t *customer_id,
                               const int64_t *time, const double *amount, int64_t n);

/** The folder under which an out-of-core strata_rfm_fit_h5() (see
 *  STRATA_RFM_MEMORY) creates its private temporary directory
 *  ("strata-<pid>-XXXXXX", mode 0700, removed before the fit returns; one
 *  a killed process left there is removed by the next such fit). path NULL
 *  or "": $TMPDIR when set and not empty, else /tmp (the default). The
 *  path is copied; it is checked at the fit: a folder that does not exist
 *  or cannot be written, or a disk that fills up, fails the fit with
 *  STRATA_E_IO_WRITE naming the folder, leaving no file behind.
 *  @return STRATA_OK, STRATA_E_NULL (h), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_tmpdir(strata_rfm *h, const char *path);

/** strata_rfm_fit() on columns of an HDF5 file (opened read-only, never
 *  changed). With table == NULL or "", customer, time and amount are 1-D
 *  datasets of equal length; otherwise table is a 1-D compound dataset (a
 *  table written by h5py, PyTables, or pandas with data_columns) and the
 *  three are names of its fields. Integer and float types are accepted:
 *  float ids that are NaN or not integers become missing ids, NaN times
 *  become bad timestamps, float times are floored. A path that is not a
 *  regular file (a FIFO, a device) is refused with STRATA_E_IO_OPEN. The
 *  handle remembers the file with the result: strata_rfm_write_h5() will not
 *  replace it.
 *  With a memory budget (STRATA_RFM_MEMORY) a log of more than budget / 100
 *  rows is aggregated out of core through temporary files
 *  (strata_rfm_set_tmpdir()), with the same result; docs/rfm.md.
 *  @return as strata_rfm_fit(), plus STRATA_E_IO_* (missing file or dataset,
 *          wrong rank or type, columns of different lengths, 0 rows); the
 *          message names the file and dataset. Out of core also:
 *          STRATA_E_IO_WRITE (temporary folder unusable, disk full),
 *          STRATA_E_NOMEM (budget below about 128 bytes per customer: the
 *          message names the minimum). */
STRATA_API STRATA_NODISCARD int strata_rfm_fit_h5(strata_rfm *h, const char *path, const char *table,
                                  const char *customer, const char *time, const char *amount);

/** Score customers aggregated elsewhere: n distinct customer ids (any order),
 *  recency (days, >= 0), frequency (>= 1) and monetary (finite) values. The
 *  handle then holds them sorted by id with first day, tenure and reference
 *  day unknown (first day and tenure read as -1, the day results as 0), and
 *  revenue equal to monetary. No cleaning: a bad value is an error.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 1, duplicate id, bad
 *          value: the first one is named), STRATA_E_NONFINITE (a non-finite
 *          monetary value, or a profile sum that overflows), STRATA_E_PARAM,
 *          STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_fit_aggregates(strata_rfm *h, const int64_t *customer_id,
                                          const int64_t *recency, const int64_t *frequency,
                                          const double *monetary, int64_t n);

/** Score the customers held again with the current scoring parameters
 *  (BINS, TIES, cut points, segment rules), keeping the aggregates.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (nothing fitted),
 *          STRATA_E_PARAM, STRATA_E_NONFINITE (a profile sum overflows),
 *          STRATA_E_NOMEM. On error the previous scores stay. */
STRATA_API STRATA_NODISCARD int strata_rfm_score(strata_rfm *h);

/** Read an integer result (see strata_rfm_result).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (nothing fitted), STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_rfm_result_int(const strata_rfm *h, int key, int64_t *out);

/** Copy a per-customer column (see strata_rfm_column) into out (n values,
 *  n = STRATA_RFM_CUSTOMERS). @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE,
 *  STRATA_E_PARAM (unknown column, or a double column asked as int64),
 *  STRATA_E_ARG (n differs). */
STRATA_API STRATA_NODISCARD int strata_rfm_column_int64(const strata_rfm *h, int column, int64_t *out,
                                        int64_t n);
STRATA_API STRATA_NODISCARD int strata_rfm_column_double(const strata_rfm *h, int column, double *out,
                                         int64_t n);

/** Copy the q + 1 bin edges used for a metric into out (n_edges = q + 1):
 *  out[0] is the smallest value and out[q] the largest. TIES_VALUE: the
 *  quantile edges of the values (duplicates included); TIES_RANK: out[b] is
 *  the value of the last customer of bin b - 1 (customers of equal value may
 *  sit on either side); TIES_EDGES: the cut points given. Bins are
 *  right-closed and count upwards in value (recency bin b scores q - b).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG. */
STRATA_API STRATA_NODISCARD int strata_rfm_edges(const strata_rfm *h, int metric, double *out,
                                 int64_t n_edges);

/** Copy one statistic of every segment (see strata_rfm_stat) into out
 *  (n_segments = STRATA_RFM_SEGMENTS values, in rule order).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM, STRATA_E_ARG. */
STRATA_API STRATA_NODISCARD int strata_rfm_profile(const strata_rfm *h, int stat, double *out,
                                   int64_t n_segments);

/** Name of segment `index` (0-based) of the rule table that named the held
 *  result (the last fit or score; before any, the table the next fit will
 *  use), or NULL if out of range (or h is NULL). Owned by the handle, valid
 *  until its next fit, score or free. */
STRATA_API const char *strata_rfm_segment_name(const strata_rfm *h, int64_t index);

/** Replace the segment rules with rules written as text, one per line:
 *      NAME: r=LO-HI f=LO-HI m=LO-HI fm=LO-HI
 *  NAME is everything before the last ':' (1 to 127 bytes, trailing blanks
 *  dropped); each range is a score or LO-HI within 1..100, fm being
 *  (f + m + 1) / 2; a range left out matches any score. Blank lines and lines
 *  starting with '#' are skipped; lines end with \n or \r\n. The format of
 *  `strata rfm --segments FILE` (docs/rfm.md). Then as strata_rfm_set_segments().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (the message names the
 *          line: a malformed line or range, no rule, more than 1000, a
 *          repeated name), STRATA_E_NOMEM. On error the rules stay. */
STRATA_API STRATA_NODISCARD int strata_rfm_set_segments_text(strata_rfm *h, const char *text);

/** Copy the bounds (n_rules x 8 int32, as given to strata_rfm_set_segments())
 *  of the same rule table as strata_rfm_segment_name().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG. */
STRATA_API STRATA_NODISCARD int strata_rfm_segment_rules(const strata_rfm *h, int32_t *out,
                                         int64_t n_rules);

/** Write the result to a NEW HDF5 file (temporary name, then rename; an
 *  existing file is replaced only with STRATA_WRITE_FORCE, only if it is a
 *  regular file, and never if the held result was read from it by
 *  strata_rfm_fit_h5(): see "How every libstrata write works"), one row per
 *  customer sorted by id:
 *    /customer_id, /recency, /frequency, /first_day, /tenure  int64
 *    /monetary, /revenue                                      float64
 *    /r, /f, /m, /code, /score, /segment                      int32
 *      (/segment has the attribute "names": the segment names)
 *    /profile/name (strings), /profile/rules (int32 n x 8), /profile/<stat>
 *      for count, customer_share, revenue, revenue_share, mean_/median_
 *      recency, frequency, monetary (one row per segment)
 *    /edges/recency, /edges/frequency, /edges/monetary       float64, q + 1
 *    root attributes: the cleaning counts (rows, rows_used, bad_id, bad_time,
 *      bad_amount, negative, zero, duplicates, return_only), customers,
 *      first_day, last_day, reference_day, bins, bins_r/f/m, ties,
 *      time_unit, frequency_mode, monetary_mode, negative_policy,
 *      zero_policy, duplicates_policy, strata_version, source.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE (also: path is not a regular
 *          file, or is the input of the result), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_rfm_write_h5(strata_rfm *h, const char *path, const char *source,
                                    int flags);

/* ------------------------------------------------------------------------ */
/* Profiles, lifecycle stages, migrations: what labels say about customers   */
/* ------------------------------------------------------------------------ */
/*
 * strata_profile    per-cluster statistics of features in original units
 *                   (computed once, then read; immutable, so one profile may
 *                   be read from several threads at once).
 * strata_lifecycle  a stage per customer (new, active, dormant, lost) from
 *                   first and last purchase days.
 * strata_migration  who moved between the tiers of two tierings of the same
 *                   customers (matched by customer id).
 * docs/tiers.md tells the whole story.
 */

typedef struct strata_profile strata_profile;

/** Statistics of a profile (strata_profile_get()). COUNT, WEIGHT and SHARE
 *  have one value per cluster; the others one per cluster and feature
 *  (row-major: cluster, then feature). With weights, a row of weight 0 counts
 *  in COUNT only and is no part of any other statistic (min and max
 *  included). A cluster without rows of weight > 0 (an empty cluster) has
 *  COUNT 0 (or its rows of weight 0), WEIGHT 0, SHARE 0 and NaN for every
 *  per-feature statistic. */
typedef enum strata_profile_stat {
    STRATA_PROFILE_COUNT = 0,  /* rows with this label */
    STRATA_PROFILE_WEIGHT = 1, /* sum of their weights (COUNT without weights) */
    STRATA_PROFILE_SHARE = 2,  /* WEIGHT / the weight of all rows */
    STRATA_PROFILE_MEAN = 3,   /* weighted mean */
    STRATA_PROFILE_STD = 4,    /* weighted population standard deviation (ddof 0):
                                  sqrt(sum w (x - mean)^2 / sum w), numpy.std's default */
    STRATA_PROFILE_MIN = 5,
    STRATA_PROFILE_P10 = 6,    /* quantiles, exact (see strata_profile_compute()) */
    STRATA_PROFILE_MEDIAN = 7,
    STRATA_PROFILE_P90 = 8,
    STRATA_PROFILE_MAX = 9,
    STRATA_PROFILE_Z = 10      /* (cluster mean - overall mean) / overall STD: how many
                                  overall standard deviations the cluster's mean sits
                                  from the mean of all rows; 0 when the overall STD is
                                  0; 0 for the all-rows row */
} strata_profile_stat;

/** Profile the clusters of n labelled rows.
 *  @param out        receives the profile; free it with strata_profile_free().
 *  @param x          row i at x + i * row_stride, d features in original
 *                    units, all finite; borrowed, only read during the call.
 *  @param row_stride elements between row starts; 0 means d; else >= d.
 *  @param names      NULL (features named "x0", "x1", ...) or d non-NULL
 *                    UTF-8 names (copied; at most 255 bytes each).
 *  @param labels     n cluster indices in [0, k).
 *  @param k          clusters, >= 1 (clusters without rows are allowed).
 *  @param weights    NULL (all 1) or n finite weights >= 0, not all 0.
 *  @param threads    0 = the OpenMP default; results do not depend on it.
 *  Moments come from one pass over the rows (per-chunk Welford updates
 *  merged in a fixed order: no loss of precision from large offsets).
 *  Quantiles are exact order statistics (selection, no sort). Without
 *  weights they follow numpy.percentile's default (linear interpolation
 *  between the two closest ranks): P10 = percentile(x, 10). With weights
 *  they use the inverted-CDF rule: the q-quantile is the smallest value x_j
 *  (values ascending) whose cumulative weight reaches q x (sum of weights),
 *  i.e. numpy.percentile(numpy.repeat(x, w), 100 q, method="inverted_cdf")
 *  for integer weights; MIN and MAX are the extreme values of weight > 0.
 *  (So weights of all 1 give the inverted-CDF quantiles, not the linear
 *  ones.) Weighted quantiles are exact up to the rounding of the weight
 *  sums (exact for integer weights).
 *  The profile also holds an extra row, index k: all rows together (COUNT
 *  n, SHARE 1, overall statistics, Z 0), read by asking for k + 1 values.
 *  Allocates: the profile (about 8 (k + 1)(8 d + 3) bytes), 8 bytes per row
 *  while grouping rows by cluster, and 8 (16 with weights) bytes per row of
 *  the clusters whose quantiles are being selected (each selection also
 *  takes a copy of its values as (value, row) keys).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 1, d < 1, k < 1, bad
 *          stride, a label outside [0, k) (the row is named), a bad name),
 *          STRATA_E_NONFINITE (a NaN or infinite value: the row and feature
 *          are named; or a mean or deviation beyond double),
 *          STRATA_E_WEIGHTS, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_profile_compute(strata_profile **out, const double *x,
                                                       int64_t n, int64_t d, int64_t row_stride,
                                                       const char *const *names,
                                                       const int32_t *labels, int64_t k,
                                                       const double *weights, int threads);

/** Free a profile. NULL is a no-op. */
STRATA_API void strata_profile_free(strata_profile *p);

/** Clusters k and features d of a profile (either pointer may be NULL).
 *  @return STRATA_OK, STRATA_E_NULL (p). */
STRATA_API STRATA_NODISCARD int strata_profile_shape(const strata_profile *p, int64_t *k,
                                                     int64_t *d);

/** Copy one statistic (strata_profile_stat) into out. len selects the rows:
 *  k (COUNT, WEIGHT, SHARE) or k x d values (the others) for the clusters;
 *  k + 1 or (k + 1) x d to get the all-rows row last as well.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (stat), STRATA_E_ARG (len). */
STRATA_API STRATA_NODISCARD int strata_profile_get(const strata_profile *p, int stat, double *out,
                                                   int64_t len);

/** Name of feature `index` (owned by the profile), or NULL if out of range. */
STRATA_API const char *strata_profile_feature_name(const strata_profile *p, int64_t index);

/** Name of a statistic ("count", "weight", "share", "mean", "std", "min",
 *  "p10", "median", "p90", "max", "z"), or NULL. Static storage. */
STRATA_API const char *strata_profile_stat_name(int stat);

/** Write the profile as a text table (clusters as columns, then "all";
 *  rows: count, share, then mean, std, min, p10, median, p90, max and z of
 *  each feature) into buf, snprintf-like: at most size bytes including the
 *  terminating NUL (buf may be NULL when size is 0).
 *  @param cluster_names  NULL (columns "0", "1", ...) or k names.
 *  @return the length of the whole table (without the NUL; the output was
 *          cut when >= size), or a negative status: STRATA_E_NULL. */
STRATA_API int64_t strata_profile_format(const strata_profile *p,
                                         const char *const *cluster_names, char *buf,
                                         size_t size);

/** Write the profile to a NEW HDF5 file (see "How every libstrata write
 *  works"): /profile/count, /profile/weight, /profile/share (k values),
 *  /profile/mean, std, min, p10, median, p90, max, z (k x d float64),
 *  /profile/feature_names (d strings), /profile/overall/<stat> (the all-rows
 *  row: count, weight and share scalars as 1-element datasets, the others d
 *  values); attribute "weighted" (0 or 1) on /profile.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_profile_write_h5(const strata_profile *p, const char *path,
                                                        int flags);

/** Lifecycle stages (strata_lifecycle()); names "new", "active", "dormant", "lost". */
typedef enum strata_stage {
    STRATA_STAGE_NEW = 0,
    STRATA_STAGE_ACTIVE = 1,
    STRATA_STAGE_DORMANT = 2,
    STRATA_STAGE_LOST = 3
} strata_stage;

/** Default thresholds of strata_lifecycle(), in days. */
#define STRATA_LIFECYCLE_NEW_DAYS 30
#define STRATA_LIFECYCLE_ACTIVE_DAYS 90
#define STRATA_LIFECYCLE_LOST_DAYS 365

/** Name of a stage, or NULL. Static storage. */
STRATA_API const char *strata_stage_name(int stage);

/** Lifecycle stage of n customers from their first and last purchase days
 *  (any day numbering, e.g. that of strata_rfm) seen from reference_day.
 *  With tenure = reference_day - first_day and recency = reference_day -
 *  last_day, and thresholds {new_days, active_days, lost_days} (NULL: 30,
 *  90, 365), the first rule that holds gives the stage:
 *    new      tenure < new_days   (first purchase in the last new_days days)
 *    active   recency <= active_days
 *    dormant  recency <= lost_days
 *    lost     otherwise.
 *  Thresholds must satisfy 0 <= new_days <= active_days <= lost_days
 *  (new_days 0: nobody is new; active_days == lost_days: nobody is dormant).
 *  Each row needs first_day <= last_day <= reference_day (a purchase on the
 *  reference day itself is recency 0) and purchases >= 1; purchases is only
 *  checked (NULL: not checked).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 0, thresholds, a bad
 *          row: the first one is named; stage is then untouched). */
STRATA_API STRATA_NODISCARD int strata_lifecycle(const int64_t *first_day, const int64_t *last_day,
                                                 const int64_t *purchases, int64_t n,
                                                 int64_t reference_day,
                                                 const int64_t thresholds[3], int32_t *stage);

/** strata_lifecycle() of the customers an RFM handle holds (in its order,
 *  ascending id): first_day = STRATA_RFM_COL_FIRST_DAY, last_day = the
 *  reference day used - STRATA_RFM_COL_RECENCY, purchases =
 *  STRATA_RFM_COL_FREQUENCY. n must be STRATA_RFM_CUSTOMERS.
 *  @return as strata_lifecycle(), plus STRATA_E_STATE (nothing fitted, or
 *          a result of strata_rfm_fit_aggregates(), which has no days),
 *          STRATA_E_NOMEM. The message goes to the handle too. */
STRATA_API STRATA_NODISCARD int strata_rfm_lifecycle(strata_rfm *h, const int64_t thresholds[3],
                                                     int32_t *stage, int64_t n);

/** Counts per combination of two codes: out[a[i] * nb + b[i]] += 1 over n
 *  rows (out, na x nb, is overwritten), e.g. tier x lifecycle stage.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 0, na or nb < 1, a
 *          code out of range: the row is named; out is then untouched). */
STRATA_API STRATA_NODISCARD int strata_crosstab(const int32_t *a, int64_t na, const int32_t *b,
                                                int64_t nb, int64_t n, int64_t *out);

/** Moves between two tierings (tier 0 is the most valuable). */
typedef enum strata_move {
    STRATA_MOVE_SAME = 0, /* same tier */
    STRATA_MOVE_UP = 1,   /* to a more valuable tier (a lower index) */
    STRATA_MOVE_DOWN = 2, /* to a less valuable tier */
    STRATA_MOVE_NEW = 3,  /* only in the new tiering */
    STRATA_MOVE_GONE = 4  /* only in the old tiering */
} strata_move;

/** Name of a move ("same", "up", "down", "new", "gone"), or NULL. Static storage. */
STRATA_API const char *strata_move_name(int move);

typedef struct strata_migration strata_migration;

/** Compare two tierings of customers, matched by id. Ids need not be
 *  sorted; an id twice in one tiering is an error naming it. Tiers are in
 *  [0, n_tiers). The result holds one row per customer of the union of the
 *  ids, ascending: old tier (-1 if new), new tier (-1 if gone), move; the
 *  n_tiers x n_tiers matrix of customers in both (old tier row, new tier
 *  column) and the count of each move.
 *  Allocates: 16 bytes per id while sorting, 20 per customer of the result.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n_old or n_new < 0,
 *          n_tiers < 1 or > 1000, a tier out of range, a repeated id),
 *          STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_migrate(strata_migration **out, const int64_t *old_id,
                                               const int32_t *old_tier, int64_t n_old,
                                               const int64_t *new_id, const int32_t *new_tier,
                                               int64_t n_new, int64_t n_tiers);

/** strata_migrate() on two tiered-customer files (the layout `strata tiers`
 *  writes): the 1-D datasets /customer_id (integers) and /tier (integers),
 *  of equal length, in each. The tier names come from the "names" attribute
 *  of /tier (strings) when present; files that both name their tiers must
 *  name them alike. n_tiers is the number of names, or 1 + the largest tier
 *  when neither file names them.
 *  @return as strata_migrate(), plus STRATA_E_IO_* (missing file or
 *          dataset, wrong rank or type, lengths differ, non-integral
 *          values), STRATA_E_ARG (tier names differ). */
STRATA_API STRATA_NODISCARD int strata_migrate_h5(strata_migration **out, const char *old_path,
                                                  const char *new_path);

/** Free a migration. NULL is a no-op. */
STRATA_API void strata_migration_free(strata_migration *m);

/** Tiers and customers (rows of the union) of a migration (either pointer
 *  may be NULL). @return STRATA_OK, STRATA_E_NULL (m). */
STRATA_API STRATA_NODISCARD int strata_migration_shape(const strata_migration *m,
                                                       int64_t *n_tiers, int64_t *n_customers);

/** Copy the n_tiers x n_tiers matrix (old row, new column) into out
 *  (len = n_tiers^2). @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (len). */
STRATA_API STRATA_NODISCARD int strata_migration_matrix(const strata_migration *m, int64_t *out,
                                                        int64_t len);

/** Copy the count of each move (indexed by strata_move, len = 5).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (len). */
STRATA_API STRATA_NODISCARD int strata_migration_counts(const strata_migration *m, int64_t *out,
                                                        int64_t len);

/** Copy the per-customer rows (n = n_customers; any output pointer may be
 *  NULL): ids ascending, old tier, new tier, move.
 *  @return STRATA_OK, STRATA_E_NULL (m), STRATA_E_ARG (n). */
STRATA_API STRATA_NODISCARD int strata_migration_customers(const strata_migration *m, int64_t *id,
                                                           int32_t *old_tier, int32_t *new_tier,
                                                           int32_t *move, int64_t n);

/** Give the tiers names (n_tiers UTF-8 strings, copied, at most 255 bytes
 *  each; NULL forgets them). @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG,
 *  STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_migration_set_tier_names(strata_migration *m,
                                                                const char *const *names);

/** Name of tier `index` (owned by the migration), or NULL when out of
 *  range or the tiers have no names. */
STRATA_API const char *strata_migration_tier_name(const strata_migration *m, int64_t index);

/** The matrix (rows: old tier, columns: new tier, with totals) and the move
 *  counts as a text table, snprintf-like as strata_profile_format().
 *  @return the length of the whole text, or STRATA_E_NULL. */
STRATA_API int64_t strata_migration_format(const strata_migration *m, char *buf, size_t size);

/** Write the migration to a NEW HDF5 file (see "How every libstrata write
 *  works"): /migration/matrix (int64 n_tiers x n_tiers, old row, new
 *  column), /migration/tier_names (strings; "0", "1", ... without names),
 *  /migration/counts (int64, 5, by strata_move) with attribute "names",
 *  /customer_id (int64, ascending), /old_tier, /new_tier (int32, -1 where
 *  absent), /move (int32, with attribute "names": the move names). A
 *  migration from strata_migrate_h5() never replaces either of its files.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_migration_write_h5(const strata_migration *m,
                                                          const char *path, int flags);

/* ------------------------------------------------------------------------ */
/* Tier models: scaling, k-means on scaled features, named value tiers      */
/* ------------------------------------------------------------------------ */
/*
 * A strata_model turns customer features in their original units (float64,
 * row-major n x d, named) into value tiers: each feature is transformed and
 * scaled (strata_transform), k-means runs on the scaled rows through a
 * strata_kmeans handle the model owns and lends (strata_model_kmeans()),
 * clusters are ranked by a value score and the ranking is cut into named
 * tiers, best first (tier 0 = the most valuable, e.g. "high"). The fitted
 * model (transform parameters, centroids, names, mapping) is saved to and
 * loaded from HDF5 and assigns new rows (strata_model_predict()).
 * docs/tiers.md ("Scaling", "Value tiers", "Models") has the details.
 *
 * Thread-safety: like strata_kmeans, a model is used by one thread at a time
 * (every call may write its message, and fit and predict use its k-means
 * handle); separate models are independent. Each call allocates only what
 * its comment says, owned by the model until it is refitted or freed.
 */

typedef struct strata_model strata_model;

/** Per-feature transforms (strata_model_set_transform()). Every transform is
 *  z = (t(x) - center) / scale with t = log1p when STRATA_TRANSFORM_LOG1P is
 *  set, else the identity; center and scale are fitted on the training rows
 *  (unweighted: sample weights go to k-means only) and stored with the model.
 *  A scale that would be 0 (a constant feature, or a zero IQR / range) is 1
 *  instead: the feature is then only shifted, never divided by 0. */
typedef enum strata_transform {
    STRATA_TRANSFORM_NONE = 0,   /* center 0, scale 1 (with LOG1P: log1p only) */
    STRATA_TRANSFORM_ZSCORE = 1, /* center = mean, scale = population standard
                                    deviation (ddof 0, as scikit-learn's StandardScaler) */
    STRATA_TRANSFORM_ROBUST = 2, /* center = median, scale = IQR = p75 - p25 (percentiles
                                    with linear interpolation, as numpy.percentile) */
    STRATA_TRANSFORM_MINMAX = 3, /* center = min, scale = max - min: values in [0, 1] */
    STRATA_TRANSFORM_AUTO = 4,   /* the default: LOG1P | ZSCORE for a feature whose
                                    values are all >= 0 and whose skewness
                                    m3 / m2^1.5 (scipy.stats.skew) is > 1 (heavy-tailed
                                    spend, counts, days), ZSCORE for the others. The
                                    choice made is what strata_model_transform_params()
                                    reports and the model stores. */
    STRATA_TRANSFORM_LOG1P = 16  /* flag, combined with NONE..MINMAX: log1p(x) first.
                                    Every value of the feature must be > -1 (fit and
                                    predict fail otherwise, naming the feature). */
} strata_transform;

/** Which centroids strata_model_centroids() copies. */
typedef enum strata_model_space {
    STRATA_MODEL_SCALED = 0,  /* in the scaled space k-means ran in */
    STRATA_MODEL_ORIGINAL = 1 /* the inverse transform of the scaled centroids */
} strata_model_space;

/** Integer results of a fitted model (strata_model_result_int()). */
typedef enum strata_model_result {
    STRATA_MODEL_K = 550,       /* clusters */
    STRATA_MODEL_D = 551,       /* features */
    STRATA_MODEL_N = 552,       /* rows fitted (0 for a loaded model) */
    STRATA_MODEL_TIERS = 553,   /* tier count T */
    STRATA_MODEL_N_TRAIN = 554, /* rows the model was trained on (kept by save/load) */
    STRATA_MODEL_SEED = 555,    /* k-means seed */
    STRATA_MODEL_N_ITER = 556   /* k-means iterations of the kept run */
} strata_model_result;

/** Create an empty model: AUTO transform for every feature, default value
 *  weights and tier names (see below), a k-means handle with its defaults.
 *  @param out  receives the model; free it with strata_model_free().
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_create(strata_model **out);

/** Free a model, its k-means handle and everything it owns. NULL is a no-op. */
STRATA_API void strata_model_free(strata_model *m);

/** Message of the last failing call on this model ("" if none); owned by the
 *  model, valid until the next call on it. NULL returns a static message. */
STRATA_API const char *strata_model_last_error(const strata_model *m);

/** The model's k-means handle (borrowed: owned and freed by the model, valid
 *  as long as it). Set its parameters (K, SEED, N_INIT, INIT, THREADS,
 *  KERNEL, ...) before strata_model_fit(); the fit runs on it and leaves its
 *  k-means result there too. Initial centroids, if given, are in the scaled
 *  space. Predicting with the model uses the model's own centroids and the
 *  handle's KERNEL and THREADS. NULL if m is NULL. */
STRATA_API strata_kmeans *strata_model_kmeans(strata_model *m);

/** Transform of feature `feature` (0-based), or of every feature when -1
 *  (which also forgets the per-feature choices made before). transform: one
 *  of NONE..AUTO, NONE..MINMAX possibly | LOG1P. Sticky; takes effect at the
 *  next fit, where a feature >= d is an error.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (unknown transform,
 *          feature < -1 or > 2^31), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_set_transform(strata_model *m, int64_t feature,
                                                           int transform);

/** Value weights (d values, copied, finite, not all 0): a cluster's value
 *  score is sum_f w[f] * (scaled centroid)_f. w == NULL (d ignored) restores
 *  the default: -1 for a feature whose name contains "recency", "days_since"
 *  or "inactive" (any case; a long time since the last purchase is bad), +1
 *  for every other (frequent and high spend are good); features named x0..
 *  all weigh +1. A d that differs from the data's fails the next fit.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (d < 1), STRATA_E_PARAM
 *          (non-finite or all zero), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_set_value_weights(strata_model *m, const double *w,
                                                               int64_t d);

/** Tier names, best first, as comma-separated text ("high,mid,low"; blanks
 *  around names dropped; each 1..127 bytes, distinct; at most 64 tiers).
 *  NULL restores the default: "high,mid,low" for k >= 3, "high,low" for
 *  k = 2, "all" for k = 1. More tiers than clusters fails the next fit.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_PARAM (the message names the
 *          bad name), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_set_tier_names(strata_model *m, const char *text);

/** The provenance text saved with the model (attribute "source"; copied;
 *  NULL = ""). @return STRATA_OK, STRATA_E_NULL, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_set_source(strata_model *m, const char *source);

/** Fit the model on n rows of d features in original units.
 *  x: row i at x + i * row_stride (0 = d), float64, finite; borrowed.
 *  names: d feature names (UTF-8, 1..127 bytes, distinct; copied) or NULL
 *  for x0, x1, ...; weights: n sample weights for k-means, or NULL.
 *  Steps: fit each feature's transform (AUTO resolved), scale the rows (a
 *  copy of n x d doubles), run k-means on them with the model's k-means
 *  handle, score each cluster (sum_f w_f * scaled centroid_f), rank the
 *  clusters by score (descending; equal scores by cluster index) and cut the
 *  ranking into T contiguous groups, tier t taking floor(k / T) clusters plus
 *  one more for the last k mod T tiers (extra clusters go to the lower
 *  tiers: the top tier stays the most selective). On error the previous fit
 *  stays.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n, d, stride, names,
 *          weights' length, a transform's feature >= d, T > k, a LOG1P
 *          feature with a value <= -1: the message names the feature and
 *          row), STRATA_E_NONFINITE (a NaN or Inf, or a scaled value that
 *          overflows), any code of strata_kmeans_fit(), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_fit(strata_model *m, const double *x, int64_t n,
                                                 int64_t d, int64_t row_stride,
                                                 const char *const *names,
                                                 const double *weights);

/** Apply the fitted transform to n rows (original units, as in fit) into out
 *  (n x d doubles, contiguous): the rows k-means saw, for fitted rows.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (not fitted),
 *          STRATA_E_ARG (d differs, LOG1P domain), STRATA_E_NONFINITE. */
STRATA_API STRATA_NODISCARD int strata_model_scale(strata_model *m, const double *x, int64_t n,
                                                   int64_t d, int64_t row_stride, double *out);

/** Assign n new rows (original units): the stored transform, then the
 *  nearest centroid (strata_kmeans_predict()'s rules: a row's label does not
 *  depend on the other rows of the call), then the cluster's tier. labels
 *  or tiers (n int32 each) may be NULL when not wanted, not both.
 *  A loaded model predicts bitwise as the model it was saved from (same
 *  kernel). Uses the k-means handle's KERNEL and THREADS.
 *  @return as strata_model_scale(). */
STRATA_API STRATA_NODISCARD int strata_model_predict(strata_model *m, const double *x, int64_t n,
                                                     int64_t d, int64_t row_stride,
                                                     int32_t *labels, int32_t *tiers);

/** Cluster (0..k-1) or tier (0..T-1) of each fitted row (n = rows fitted).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE (not fitted, or a loaded
 *          model: it holds no rows), STRATA_E_ARG (n differs). */
STRATA_API STRATA_NODISCARD int strata_model_labels(const strata_model *m, int32_t *out, int64_t n);
STRATA_API STRATA_NODISCARD int strata_model_tiers(const strata_model *m, int32_t *out, int64_t n);

/** Centroids (k x d doubles) in the scaled space or in original units
 *  (STRATA_MODEL_ORIGINAL: the inverse transform of each scaled centroid,
 *  t^-1(z * scale + center). With log1p this is NOT the mean of the
 *  cluster's rows in original units (a geometric-type mean instead): the
 *  cluster profile gives those).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG (space, k, d). */
STRATA_API STRATA_NODISCARD int strata_model_centroids(const strata_model *m, int space,
                                                       double *out, int64_t k, int64_t d);

/** Tier of each cluster (k int32), value score of each cluster (k doubles).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG (k differs). */
STRATA_API STRATA_NODISCARD int strata_model_cluster_tier(const strata_model *m, int32_t *out,
                                                          int64_t k);
STRATA_API STRATA_NODISCARD int strata_model_value_score(const strata_model *m, double *out,
                                                         int64_t k);

/** The d value weights used by the fit (defaults resolved).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG. */
STRATA_API STRATA_NODISCARD int strata_model_value_weights(const strata_model *m, double *out,
                                                           int64_t d);

/** The fitted transform of every feature: transform[j] (d ints, AUTO
 *  resolved: NONE..MINMAX, possibly | LOG1P), center and scale (d doubles
 *  each). Any of the three may be NULL.
 *  @return STRATA_OK, STRATA_E_NULL (all three NULL), STRATA_E_STATE. */
STRATA_API STRATA_NODISCARD int strata_model_transform_params(const strata_model *m,
                                                              int *transform, double *center,
                                                              double *scale);

/** Shape of the fitted model into *k and *d (either may be NULL).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE. */
STRATA_API STRATA_NODISCARD int strata_model_shape(const strata_model *m, int64_t *k, int64_t *d);

/** Read an integer result (strata_model_result).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_model_result_int(const strata_model *m, int key,
                                                        int64_t *out);

/** Number of tiers of the fitted model (0 if m is NULL or not fitted). */
STRATA_API int64_t strata_model_tier_count(const strata_model *m);

/** Name of tier t (best first) / of feature j of the fitted model, or NULL
 *  (out of range, not fitted). Owned by the model, valid until its next fit,
 *  read or free. */
STRATA_API const char *strata_model_tier_name(const strata_model *m, int64_t t);
STRATA_API const char *strata_model_feature_name(const strata_model *m, int64_t j);

/** Save the fitted model to a NEW HDF5 file, under the group /model (layout
 *  in docs/tiers.md, "Models"), with the rules of every libstrata write
 *  (STRATA_WRITE_FORCE replaces a regular file).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_write_h5(strata_model *m, const char *path, int flags);

/** Load a model saved by strata_model_write_h5() (or any file holding such a
 *  group) into a new model *out (free it with strata_model_free()).
 *  group: the model's group, NULL = "/model". Every piece is checked: a
 *  missing dataset or attribute, a wrong shape, a NaN, an unknown transform
 *  or tier code, a scale <= 0, inconsistent centroids, a group that is not a
 *  model, each give a message naming the file and the piece. The loaded
 *  model predicts; it holds no training rows (labels/tiers: STRATA_E_STATE).
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_IO_OPEN, STRATA_E_IO_FORMAT
 *          (not HDF5, or a bad value), STRATA_E_IO_DATASET (missing piece),
 *          STRATA_E_IO_TYPE (wrong shape or type), STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_read_h5(strata_model **out, const char *path,
                                                     const char *group);

/** Write tiered rows to a NEW HDF5 file (the rules of strata_model_write_h5()):
 *  /labels int32 n (cluster), /tier int32 n with the attribute "names" (the
 *  tier names, best first), /customer_id int64 n when customer_id is not
 *  NULL, and the model under /model; root attributes strata_version and
 *  source (NULL = ""). labels and tiers: n values each, e.g. from
 *  strata_model_predict(); every value is checked against the model.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_ARG (n < 0, a
 *          label or tier out of range), STRATA_E_PARAM (flags),
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_model_write_tiers_h5(strata_model *m, const char *path,
                                                            const int64_t *customer_id,
                                                            const int32_t *labels,
                                                            const int32_t *tiers, int64_t n,
                                                            const char *source, int flags);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
