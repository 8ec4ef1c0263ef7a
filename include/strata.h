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
    STRATA_E_NONFINITE = -103,   /* NaN or Inf in the data; the message names the first bad row */
    STRATA_E_WEIGHTS = -104,     /* negative, non-finite or all-zero sample weights */
    STRATA_E_TOO_FEW = -105,     /* fewer distinct points (with weight > 0) than k */
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

/* ------------------------------------------------------------------------ */
/* Data types and SIMD kernels                                              */
/* ------------------------------------------------------------------------ */

typedef enum strata_dtype {
    STRATA_FLOAT32 = 1,
    STRATA_FLOAT64 = 2
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
    STRATA_INIT_KMEANSPP = 0,  /* greedy k-means++: 2 + floor(ln k) (at most 16) candidates per step,
                                  the one lowering the potential most is kept (as scikit-learn) */
    STRATA_INIT_RANDOM = 1,    /* k distinct rows drawn uniformly (weight > 0) */
    STRATA_INIT_CENTROIDS = 2  /* the centroids given by strata_kmeans_set_init_centroids() */
} strata_init;

/** Algorithms (value of STRATA_KMEANS_ALGORITHM). */
typedef enum strata_algorithm {
    STRATA_ALGO_AUTO = 0, /* currently LLOYD */
    STRATA_ALGO_LLOYD = 1 /* exact Lloyd iterations */
} strata_algorithm;

/** How distances are computed (value of STRATA_KMEANS_ASSIGN). */
typedef enum strata_assign {
    STRATA_ASSIGN_AUTO = 0,  /* chosen from k and d (see docs/performance.md) */
    STRATA_ASSIGN_FUSED = 1, /* register-blocked SIMD kernel fused with the argmin */
    STRATA_ASSIGN_GEMM = 2   /* blocked BLAS GEMM on centred data, then argmin */
} strata_assign;

/** Parameter keys (pinned). Integer keys use strata_kmeans_set_int(), double keys
 *  strata_kmeans_set_double(); using the wrong setter returns STRATA_E_PARAM.
 *  Values out of range return STRATA_E_PARAM and leave the parameter unchanged. */
typedef enum strata_param {
    /* int, >= 1, default 8. Must be <= the number of rows at fit time. */
    STRATA_KMEANS_K = 100,
    /* int, >= 1, default 300: maximum Lloyd iterations per run. */
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
     * STRATA_E_PARAM. k-means++ and random init never pick a row of weight 0;
     * k-means++ draws rows with probability proportional to weight x D^2. */
    STRATA_KMEANS_INIT = 103,
    /* int, any value >= 0, default 0: seed of the random number generator. */
    STRATA_KMEANS_SEED = 104,
    /* int, >= 1, default 1: runs, one after another, from different
     * initialisations; run r draws from the random stream (seed, r), so run 0
     * is the single run of n_init = 1. The lowest inertia is kept (the
     * earliest run on ties). */
    STRATA_KMEANS_N_INIT = 105,
    /* int, a strata_algorithm value, default AUTO. */
    STRATA_KMEANS_ALGORITHM = 106,
    /* int, a strata_assign value, default AUTO. */
    STRATA_KMEANS_ASSIGN = 107,
    /* int, >= 0, default 0 = the OpenMP default (omp_get_max_threads()).
     * 1 runs in the calling thread only. Results do not depend on it. */
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
    STRATA_RESULT_N_ITER = 3,    /* int: Lloyd iterations run by the kept run */
    STRATA_RESULT_CONVERGED = 4, /* int: 1 if the kept run stopped by a STRATA_KMEANS_TOL
                                    rule within max_iter iterations (also at exactly
                                    max_iter); not converging is not an error */
    STRATA_RESULT_INERTIA = 5,   /* double: sum of w_i * ||x_i - c_label(i)||^2 */
    STRATA_RESULT_KERNEL = 6,    /* int: the strata_kernel used (never AUTO) */
    STRATA_RESULT_ASSIGN = 7,    /* int: the strata_assign used (FUSED or GEMM, never AUTO) */
    STRATA_RESULT_SEED = 8,      /* int: the seed used */
    STRATA_RESULT_INIT = 9       /* int: the strata_init used */
} strata_result;

/** Progress callback, called on the thread that called fit, after each Lloyd
 *  iteration: `run` (0-based restart index), `iteration` (1-based) and the
 *  inertia of the labels just assigned, measured against the centroids they
 *  were assigned to (so it never increases within a run). Return 0 to go on, non-zero to stop:
 *  the fit then returns STRATA_E_CANCELLED, keeps the handle's previous model
 *  and parameters, and the handle stays usable. */
typedef int (*strata_progress_fn)(void *user, int64_t run, int64_t iteration, double inertia);

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

/** Fit k-means to n rows of d features.
 *  @param dtype       STRATA_FLOAT32 or STRATA_FLOAT64: the element type of x.
 *  @param x           row i starts at x + i * row_stride elements; borrowed, not
 *                     copied, not modified, only read during the call.
 *  @param row_stride  elements between row starts; 0 means d; else must be >= d.
 *  @param weights     NULL (all 1) or n finite non-negative weights, not all zero.
 *  Distances are computed in the element type of x; sums, centroids and inertia
 *  are accumulated in double. A cluster left empty by an assignment is given
 *  the row (weight > 0) farthest from its own centroid (the m farthest rows
 *  for m empty clusters, in cluster order; ties to the lower row), and that
 *  row's values leave its old cluster's sums, as in scikit-learn. Labels and centroids are bitwise identical for
 *  any STRATA_THREADS value given the same data, parameters and kernel.
 *  Allocates: the model (k x d doubles, n int32 labels) owned by the handle,
 *  replacing the previous one on success, plus O(k*d*threads) scratch.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG (n < 1, d < 1, k > n, bad
 *          stride, init centroids of another shape), STRATA_E_PARAM (bad dtype),
 *          STRATA_E_NONFINITE (first bad row named), STRATA_E_WEIGHTS,
 *          STRATA_E_TOO_FEW, STRATA_E_NOMEM, STRATA_E_CANCELLED. */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                  int64_t d, int64_t row_stride, const double *weights);

/** Fit to a 2-D numeric dataset (n x d) of an HDF5 file, read in row blocks
 *  into memory (float32 stays float32; float64 and integer types become
 *  float64). The file is opened read-only. Same results and codes as
 *  strata_kmeans_fit(), plus the STRATA_E_IO_* codes, whose message names the
 *  file and dataset. */
STRATA_API STRATA_NODISCARD int strata_kmeans_fit_h5(strata_kmeans *km, const char *path, const char *dataset);

/** Read starting centroids (k x d) from an HDF5 dataset and use them as
 *  strata_kmeans_set_init_centroids() does. @return as that function, plus STRATA_E_IO_*. */
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

/** Read an integer result (see strata_result) of the fitted model.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_PARAM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_result_int(const strata_kmeans *km, int key, int64_t *out);
/** Read a floating-point result (STRATA_RESULT_INERTIA). Codes as above. */
STRATA_API STRATA_NODISCARD int strata_kmeans_result_double(const strata_kmeans *km, int key, double *out);

/** Label new rows with the nearest fitted centroid (ties go to the lowest index).
 *  Arguments as strata_kmeans_fit(); d must equal the model's. labels: n int32.
 *  Uses STRATA_THREADS. @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG,
 *  STRATA_E_PARAM, STRATA_E_NONFINITE, STRATA_E_STATE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_predict(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                      int64_t d, int64_t row_stride, int32_t *labels);

/** Euclidean distances (not squared) of n rows to every fitted centroid, computed
 *  in double: out is n x k row-major doubles. Codes as strata_kmeans_predict(). */
STRATA_API STRATA_NODISCARD int strata_kmeans_transform(strata_kmeans *km, int dtype, const void *x, int64_t n,
                                        int64_t d, int64_t row_stride, double *out);

/** Flags of strata_kmeans_write_h5() and strata_h5_write_matrix(). */
typedef enum strata_write_flags {
    STRATA_WRITE_DEFAULT = 0,
    STRATA_WRITE_FORCE = 1 /* replace an existing output file */
} strata_write_flags;

/** Write the fitted model to a NEW HDF5 file:
 *    /labels     int32, n          /centroids  float64, k x d
 *    root attributes: k, inertia, n_iter, converged, seed, algorithm,
 *                     strata_version, source (the `source` argument, e.g.
 *                     "in.h5:/features"; NULL writes "").
 *  The file is written under a temporary name in the same folder and renamed
 *  into place, so an existing file is never left damaged; it is replaced only
 *  with STRATA_WRITE_FORCE.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_STATE, STRATA_E_IO_EXISTS,
 *          STRATA_E_IO_WRITE, STRATA_E_NOMEM. */
STRATA_API STRATA_NODISCARD int strata_kmeans_write_h5(strata_kmeans *km, const char *path, const char *source,
                                       int flags);

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
 *  file (replaced only with STRATA_WRITE_FORCE; written under a temporary name then
 *  renamed). Intermediate groups of `dataset` are created.
 *  @return STRATA_OK, STRATA_E_NULL, STRATA_E_ARG, STRATA_E_PARAM,
 *          STRATA_E_IO_EXISTS, STRATA_E_IO_WRITE. */
STRATA_API STRATA_NODISCARD int strata_h5_write_matrix(const char *path, const char *dataset, int dtype,
                                       const void *buf, int64_t n, int64_t d, int flags);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
