"""ctypes declarations of the libstrata functions the binding uses.

Mirrors include/strata.h: every function used is listed once in FUNCTIONS with
its return type and argument types, so that ctypes converts and checks every
argument (sizes are ``c_int64``, never a bare ``int`` that could truncate) and
never guesses a return type. Pinned enum values are repeated here as plain
integer constants.
"""

import ctypes
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_void_p


class KMeansStruct(ctypes.Structure):
    """Opaque ``strata_kmeans``; only pointers to it are ever used."""


KMeansPtr = POINTER(KMeansStruct)

#: ``int (*)(void *user, int64_t run, int64_t iteration, double inertia)``
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int64, c_int64, c_double)

_double_p = POINTER(c_double)
_int32_p = POINTER(c_int32)
_int64_p = POINTER(c_int64)

#: name -> (restype, argtypes)
FUNCTIONS = {
    "strata_version_number": (c_int, []),
    "strata_version_string": (c_char_p, []),
    "strata_status_str": (c_char_p, [c_int]),
    "strata_last_error": (c_char_p, []),
    "strata_kmeans_create": (c_int, [POINTER(KMeansPtr)]),
    "strata_kmeans_free": (None, [KMeansPtr]),
    "strata_kmeans_last_error": (c_char_p, [KMeansPtr]),
    "strata_kmeans_set_int": (c_int, [KMeansPtr, c_int, c_int64]),
    "strata_kmeans_set_double": (c_int, [KMeansPtr, c_int, c_double]),
    "strata_kmeans_set_init_centroids": (c_int, [KMeansPtr, _double_p, c_int64, c_int64]),
    "strata_kmeans_set_progress": (c_int, [KMeansPtr, PROGRESS_FN, c_void_p]),
    "strata_kmeans_fit": (c_int, [KMeansPtr, c_int, c_void_p, c_int64, c_int64, c_int64, _double_p]),
    "strata_kmeans_fit_h5": (c_int, [KMeansPtr, c_char_p, c_char_p]),
    "strata_kmeans_set_model": (c_int, [KMeansPtr, _double_p, c_int64, c_int64]),
    "strata_kmeans_centroids": (c_int, [KMeansPtr, _double_p, c_int64, c_int64]),
    "strata_kmeans_labels": (c_int, [KMeansPtr, _int32_p, c_int64]),
    "strata_kmeans_result_int": (c_int, [KMeansPtr, c_int, _int64_p]),
    "strata_kmeans_result_double": (c_int, [KMeansPtr, c_int, _double_p]),
    "strata_kmeans_predict": (c_int, [KMeansPtr, c_int, c_void_p, c_int64, c_int64, c_int64, _int32_p]),
    "strata_kmeans_transform": (c_int, [KMeansPtr, c_int, c_void_p, c_int64, c_int64, c_int64, _double_p]),
    "strata_kmeans_write_h5": (c_int, [KMeansPtr, c_char_p, c_char_p, c_int]),
}


def declare(cdll):
    """Set restype/argtypes of every function in FUNCTIONS on a loaded library.

    Raises AttributeError if the library lacks one of them.
    """
    for name, (restype, argtypes) in FUNCTIONS.items():
        func = getattr(cdll, name)
        func.restype = restype
        func.argtypes = argtypes
    return cdll


# strata_status
OK = 0
E_CANCELLED = -500

# strata_dtype
FLOAT32 = 1
FLOAT64 = 2

# strata_init
INIT_KMEANSPP = 0
INIT_RANDOM = 1

# strata_algorithm
ALGO_AUTO = 0
ALGO_LLOYD = 1

# strata_param
KMEANS_K = 100
KMEANS_MAX_ITER = 101
KMEANS_TOL = 102
KMEANS_INIT = 103
KMEANS_SEED = 104
KMEANS_N_INIT = 105
KMEANS_ALGORITHM = 106
THREADS = 400

# strata_result
RESULT_N = 0
RESULT_D = 1
RESULT_K = 2
RESULT_N_ITER = 3
RESULT_CONVERGED = 4
RESULT_INERTIA = 5

# strata_write_flags
WRITE_FORCE = 1
