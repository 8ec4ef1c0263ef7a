"""ctypes declarations of the libstrata functions the binding uses.

Mirrors include/strata.h: every function used is listed once in FUNCTIONS with
its return type and argument types, so that ctypes converts and checks every
argument (sizes are ``c_int64``, never a bare ``int`` that could truncate) and
never guesses a return type. Pinned enum values are repeated here as plain
integer constants.
"""

import ctypes
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_uint64, c_void_p


class KMeansStruct(ctypes.Structure):
    """Opaque ``strata_kmeans``; only pointers to it are ever used."""


KMeansPtr = POINTER(KMeansStruct)


class RFMStruct(ctypes.Structure):
    """Opaque ``strata_rfm``; only pointers to it are ever used."""


RFMPtr = POINTER(RFMStruct)

class ModelStruct(ctypes.Structure):
    """Opaque ``strata_model``; only pointers to it are ever used."""


ModelPtr = POINTER(ModelStruct)

class CLVStruct(ctypes.Structure):
    """Opaque ``strata_clv``; only pointers to it are ever used."""


CLVPtr = POINTER(CLVStruct)

class FrameStruct(ctypes.Structure):
    """Opaque ``strata_frame``; only pointers to it are ever used."""


FramePtr = POINTER(FrameStruct)

#: ``int (*)(void *user, int64_t run, int64_t iteration, double inertia)``
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int64, c_int64, c_double)

_double_p = POINTER(c_double)
_int32_p = POINTER(c_int32)
_int64_p = POINTER(c_int64)

#: name -> (restype, argtypes)
FUNCTIONS = {
    "strata_model_create": (c_int, [POINTER(ModelPtr)]),
    "strata_model_free": (None, [ModelPtr]),
    "strata_model_last_error": (c_char_p, [ModelPtr]),
    "strata_model_kmeans": (KMeansPtr, [ModelPtr]),
    "strata_model_set_transform": (c_int, [ModelPtr, c_int64, c_int]),
    "strata_model_set_value_weights": (c_int, [ModelPtr, POINTER(c_double), c_int64]),
    "strata_model_set_tier_names": (c_int, [ModelPtr, c_char_p]),
    "strata_model_set_source": (c_int, [ModelPtr, c_char_p]),
    "strata_model_fit": (c_int, [ModelPtr, c_void_p, c_int64, c_int64, c_int64, c_void_p,
                                 POINTER(c_double)]),
    "strata_model_scale": (c_int, [ModelPtr, c_void_p, c_int64, c_int64, c_int64, c_void_p]),
    "strata_model_predict": (c_int, [ModelPtr, c_void_p, c_int64, c_int64, c_int64,
                                     POINTER(c_int32), POINTER(c_int32)]),
    "strata_model_labels": (c_int, [ModelPtr, POINTER(c_int32), c_int64]),
    "strata_model_tiers": (c_int, [ModelPtr, POINTER(c_int32), c_int64]),
    "strata_model_centroids": (c_int, [ModelPtr, c_int, POINTER(c_double), c_int64, c_int64]),
    "strata_model_cluster_tier": (c_int, [ModelPtr, POINTER(c_int32), c_int64]),
    "strata_model_value_score": (c_int, [ModelPtr, POINTER(c_double), c_int64]),
    "strata_model_value_weights": (c_int, [ModelPtr, POINTER(c_double), c_int64]),
    "strata_model_transform_params": (c_int, [ModelPtr, c_void_p, POINTER(c_double),
                                              POINTER(c_double)]),
    "strata_model_shape": (c_int, [ModelPtr, POINTER(c_int64), POINTER(c_int64)]),
    "strata_model_result_int": (c_int, [ModelPtr, c_int, POINTER(c_int64)]),
    "strata_model_tier_count": (c_int64, [ModelPtr]),
    "strata_model_tier_name": (c_char_p, [ModelPtr, c_int64]),
    "strata_model_feature_name": (c_char_p, [ModelPtr, c_int64]),
    "strata_model_write_h5": (c_int, [ModelPtr, c_char_p, c_int]),
    "strata_model_read_h5": (c_int, [POINTER(ModelPtr), c_char_p, c_char_p]),
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
    # cluster metrics and the k sweep (issue 11)
    "strata_cluster_metrics": (c_int, [c_int, c_void_p, c_int64, c_int64, c_int64, _int32_p, c_int64,
                                       c_int64, c_uint64, c_int, _double_p]),
    "strata_silhouette_sample": (c_int, [c_int64, c_int64, c_uint64, _int64_p]),
    "strata_kmeans_sweep": (c_int, [KMeansPtr, c_int, c_void_p, c_int64, c_int64, c_int64, _double_p,
                                    c_int64, c_int64, c_int64, _double_p, _int64_p]),
    "strata_sweep_write_h5": (c_int, [c_char_p, c_int64, c_int64, _double_p, c_int64, c_int64,
                                      c_char_p, c_int]),
    # feature frames (issue 11)
    "strata_frame_read_columns": (c_int, [POINTER(FramePtr), c_char_p, POINTER(c_char_p), c_int64,
                                          c_char_p]),
    "strata_frame_read_table": (c_int, [POINTER(FramePtr), c_char_p, c_char_p, POINTER(c_char_p),
                                        c_int64, c_char_p]),
    "strata_frame_read_matrix": (c_int, [POINTER(FramePtr), c_char_p, c_char_p]),
    "strata_frame_from_arrays": (c_int, [POINTER(FramePtr), _double_p, c_int64, c_int64, c_int64,
                                         POINTER(c_char_p), _int64_p, c_char_p]),
    "strata_frame_shape": (c_int, [FramePtr, _int64_p, _int64_p]),
    "strata_frame_data": (_double_p, [FramePtr]),
    "strata_frame_name": (c_char_p, [FramePtr, c_int64]),
    "strata_frame_key": (_int64_p, [FramePtr]),
    "strata_frame_key_name": (c_char_p, [FramePtr]),
    "strata_frame_free": (None, [FramePtr]),
    "strata_kmeans_fit_frame": (c_int, [KMeansPtr, FramePtr, _double_p]),
    # k-means from a frame's layouts in a file, streamed under a budget (issue 13)
    "strata_kmeans_fit_h5_columns": (c_int, [KMeansPtr, c_char_p, POINTER(c_char_p), c_int64,
                                             c_char_p]),
    "strata_kmeans_fit_h5_table": (c_int, [KMeansPtr, c_char_p, c_char_p, POINTER(c_char_p),
                                           c_int64, c_char_p]),
    "strata_kmeans_feature_name": (c_char_p, [KMeansPtr, c_int64]),
    "strata_kmeans_key_name": (c_char_p, [KMeansPtr]),
    # RFM (issue 4)
    "strata_rfm_create": (c_int, [POINTER(RFMPtr)]),
    "strata_rfm_free": (None, [RFMPtr]),
    "strata_rfm_last_error": (c_char_p, [RFMPtr]),
    "strata_rfm_set_int": (c_int, [RFMPtr, c_int, c_int64]),
    "strata_rfm_get_int": (c_int, [RFMPtr, c_int, _int64_p]),
    "strata_rfm_set_edges": (c_int, [RFMPtr, c_int, _double_p, c_int64]),
    "strata_rfm_set_segments": (c_int, [RFMPtr, c_int64, POINTER(c_char_p), _int32_p, c_int64]),
    "strata_rfm_set_segments_text": (c_int, [RFMPtr, c_char_p]),
    "strata_rfm_fit": (c_int, [RFMPtr, _int64_p, _int64_p, _double_p, c_int64]),
    "strata_rfm_fit_h5": (c_int, [RFMPtr, c_char_p, c_char_p, c_char_p, c_char_p, c_char_p]),
    "strata_rfm_set_tmpdir": (c_int, [RFMPtr, c_char_p]),
    "strata_rfm_fit_aggregates": (c_int, [RFMPtr, _int64_p, _int64_p, _int64_p, _double_p, c_int64]),
    "strata_rfm_result_int": (c_int, [RFMPtr, c_int, _int64_p]),
    "strata_rfm_column_int64": (c_int, [RFMPtr, c_int, _int64_p, c_int64]),
    "strata_rfm_column_double": (c_int, [RFMPtr, c_int, _double_p, c_int64]),
    "strata_rfm_edges": (c_int, [RFMPtr, c_int, _double_p, c_int64]),
    "strata_rfm_profile": (c_int, [RFMPtr, c_int, _double_p, c_int64]),
    "strata_rfm_segment_name": (c_char_p, [RFMPtr, c_int64]),
    "strata_rfm_segment_rules": (c_int, [RFMPtr, _int32_p, c_int64, c_int64]),
    "strata_rfm_rule_columns": (c_int, []),
    "strata_key_count": (c_int64, []),
    "strata_key_at": (c_int, [c_int64]),
    "strata_key_name": (c_char_p, [c_int]),
    "strata_key_kind": (c_int, [c_int]),
    "strata_key_type": (c_int, [c_int]),
    "strata_key_handles": (c_int, [c_int]),
    "strata_param_int_bounds": (c_int, [c_int, _int64_p, _int64_p]),
    "strata_param_double_bounds": (c_int, [c_int, _double_p, _double_p]),
    "strata_param_default_int": (c_int, [c_int, _int64_p]),
    "strata_param_default_double": (c_int, [c_int, _double_p]),
    # Profiles, lifecycle stages, migrations (issue 11)
    "strata_profile_compute": (c_int, [POINTER(c_void_p), _double_p, c_int64, c_int64, c_int64,
                                       POINTER(c_char_p), _int32_p, c_int64, _double_p, c_int]),
    "strata_profile_free": (None, [c_void_p]),
    "strata_profile_get": (c_int, [c_void_p, c_int, _double_p, c_int64]),
    "strata_profile_format": (c_int64, [c_void_p, POINTER(c_char_p), ctypes.c_char_p, ctypes.c_size_t]),
    "strata_lifecycle": (c_int, [_int64_p, _int64_p, _int64_p, c_int64, c_int64, _int64_p, _int32_p]),
    "strata_crosstab": (c_int, [_int32_p, c_int64, _int32_p, c_int64, c_int64, _int64_p]),
    "strata_migrate": (c_int, [POINTER(c_void_p), _int64_p, _int32_p, c_int64, _int64_p, _int32_p,
                               c_int64, c_int64]),
    "strata_migration_free": (None, [c_void_p]),
    "strata_migration_shape": (c_int, [c_void_p, _int64_p, _int64_p]),
    "strata_migration_matrix": (c_int, [c_void_p, _int64_p, c_int64]),
    "strata_migration_customers": (c_int, [c_void_p, _int64_p, _int32_p, _int32_p, _int32_p, c_int64]),
    "strata_profile_write_h5": (c_int, [c_void_p, c_char_p, c_int]),
    "strata_migrate_h5": (c_int, [POINTER(c_void_p), c_char_p, c_char_p]),
    "strata_migration_tier_name": (c_char_p, [c_void_p, c_int64]),
    "strata_migration_write_h5": (c_int, [c_void_p, c_char_p, c_int]),
    "strata_rfm_lifecycle": (c_int, [RFMPtr, _int64_p, _int32_p, c_int64]),
    "strata_stage_name": (c_char_p, [c_int]),
    # result files assembled from parts (strata tiers' layout)
    "strata_out_open": (c_int, [POINTER(c_void_p), c_char_p, POINTER(c_char_p), c_int, c_int]),
    "strata_out_last_error": (c_char_p, [c_void_p]),
    "strata_out_set_int": (c_int, [c_void_p, c_int, c_int64]),
    "strata_out_column_int32": (c_int, [c_void_p, c_char_p, _int32_p, c_int64]),
    "strata_out_column_int64": (c_int, [c_void_p, c_char_p, _int64_p, c_int64]),
    "strata_out_column_double": (c_int, [c_void_p, c_char_p, _double_p, c_int64]),
    "strata_out_matrix_double": (c_int, [c_void_p, c_char_p, _double_p, c_int64, c_int64]),
    "strata_out_matrix_int64": (c_int, [c_void_p, c_char_p, _int64_p, c_int64, c_int64]),
    "strata_out_strings": (c_int, [c_void_p, c_char_p, c_char_p, POINTER(c_char_p), c_int64]),
    "strata_out_attr_int": (c_int, [c_void_p, c_char_p, c_char_p, c_int64]),
    "strata_out_attr_double": (c_int, [c_void_p, c_char_p, c_char_p, c_double]),
    "strata_out_attr_string": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "strata_out_sweep": (c_int, [c_void_p, c_int64, c_int64, POINTER(c_double), c_int64,
                                 c_int64]),
    "strata_out_rfm": (c_int, [c_void_p, RFMPtr, c_char_p, c_char_p]),
    "strata_clv_create": (c_int, [POINTER(CLVPtr)]),
    "strata_clv_free": (None, [CLVPtr]),
    "strata_clv_last_error": (c_char_p, [CLVPtr]),
    "strata_clv_set_int": (c_int, [CLVPtr, c_int, c_int64]),
    "strata_clv_set_double": (c_int, [CLVPtr, c_int, c_double]),
    "strata_clv_get_int": (c_int, [CLVPtr, c_int, _int64_p]),
    "strata_clv_get_double": (c_int, [CLVPtr, c_int, _double_p]),
    "strata_clv_fit": (c_int, [CLVPtr, _int64_p, _int64_p, _double_p, c_int64]),
    "strata_clv_fit_h5": (c_int, [CLVPtr, c_char_p, c_char_p, c_char_p, c_char_p, c_char_p]),
    "strata_clv_fit_summary": (c_int, [CLVPtr, _int64_p, _double_p, _double_p, _double_p,
                                       _double_p, c_int64]),
    "strata_clv_result_double": (c_int, [CLVPtr, c_int, _double_p]),
    "strata_clv_column_int64": (c_int, [CLVPtr, c_int, _int64_p, c_int64]),
    "strata_clv_column_double": (c_int, [CLVPtr, c_int, _double_p, c_int64]),
    "strata_clv_tracking": (c_int, [CLVPtr, _double_p, _double_p, c_int64]),
    "strata_clv_write_h5": (c_int, [CLVPtr, c_char_p, c_char_p, c_int]),
    "strata_out_model": (c_int, [c_void_p, ModelPtr, c_char_p]),
    "strata_out_profile": (c_int, [c_void_p, c_void_p, c_char_p]),
    "strata_out_commit": (c_int, [c_void_p]),
    "strata_out_discard": (None, [c_void_p]),
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


# strata_cluster_metric: columns of strata_cluster_metrics() and a sweep's table
METRICS = ["inertia", "calinski_harabasz", "davies_bouldin", "silhouette_sqeuclidean", "silhouette"]
METRIC_COUNT = 5

# strata_status
OK = 0
E_CANCELLED = -500

# strata_dtype
FLOAT32 = 1
FLOAT64 = 2

# strata_init
INIT_KMEANSPP = 0
INIT_RANDOM = 1
INIT_KMEANS_PARALLEL = 3
INIT_AFKMC2 = 4

# strata_algorithm
ALGO_AUTO = 0
ALGO_LLOYD = 1
ALGO_HAMERLY = 2
ALGO_MINIBATCH = 3
ALGO_YINYANG = 4

# strata_param
KMEANS_K = 100
KMEANS_MAX_ITER = 101
KMEANS_TOL = 102
KMEANS_INIT = 103
KMEANS_SEED = 104
KMEANS_N_INIT = 105
KMEANS_ALGORITHM = 106
KMEANS_ALLOW_TOO_FEW = 108
KMEANS_BATCH_SIZE = 109
KMEANS_MAX_NO_IMPROVEMENT = 111
KMEANS_REASSIGNMENT_RATIO = 112
KMEANS_CHAIN_LENGTH = 110
KMEANS_MEMORY = 113
KMEANS_BLOCK_ROWS = 114
THREADS = 400

# strata_key_kinds, strata_value_type, strata_handle_kind (the key catalogue)
KEY_PARAM = 1
KEY_RESULT = 2
VALUE_INT = 1
VALUE_DOUBLE = 2
HANDLE_KMEANS = 1
HANDLE_RFM = 2
HANDLE_MODEL = 4
HANDLE_CLV = 8

# strata_kmeans_result (results: keys >= 1000; parameters: keys < 1000)
KMEANS_RESULT_N = 1000
KMEANS_RESULT_D = 1001
KMEANS_RESULT_K = 1002
KMEANS_RESULT_N_ITER = 1003
KMEANS_RESULT_CONVERGED = 1004
KMEANS_RESULT_INERTIA = 1005
KMEANS_RESULT_ALGORITHM = 1010
KMEANS_RESULT_STREAMED = 1011

# strata_write_flags
WRITE_FORCE = 1

# RFM (strata_rfm_param, values, results, columns, statistics)
RFM_BINS = 200
RFM_TIES = 201
RFM_REFERENCE_DAY = 202
RFM_FREQUENCY_MODE = 203
RFM_MONETARY_MODE = 204
RFM_NEGATIVE = 205
RFM_ZERO = 206
RFM_DUPLICATES = 207
RFM_TIME_UNIT = 208
RFM_MIN_DAY = 209
RFM_MAX_DAY = 210
RFM_MIN_ID = 211
RFM_MEMORY = 212
RFM_REFERENCE_AUTO = -2**63
RFM_TIES_VALUES = {"rank": 0, "value": 1, "edges": 2}
RFM_POLICY = {"keep": 0, "drop": 1, "net": 2}
RFM_FREQUENCY_VALUES = {"rows": 0, "days": 1}
RFM_MONETARY_VALUES = {"sum": 0, "mean": 1}
RFM_TIME_UNITS = {"days": 0, "seconds": 1}
RFM_METRICS = {"recency": 0, "frequency": 1, "monetary": 2}
#: result keys, by the names the binding reports them under
RFM_RESULTS = {"rows": 2000, "rows_used": 2001, "bad_id": 2002, "bad_time": 2003,
               "bad_amount": 2004, "negative": 2005, "zero": 2006, "duplicates": 2007, "return_only": 2008,
               "customers": 2009, "first_day": 2010, "last_day": 2011, "reference_day": 2012,
               "bins": 2013, "bins_r": 2014, "bins_f": 2015, "bins_m": 2016, "segments": 2017,
               "unmatched": 2018}
#: integer columns (strata_rfm_column_int64), then the double ones
RFM_INT_COLUMNS = {"customer_id": 0, "recency": 1, "frequency": 2, "first_day": 4, "tenure": 5,
                   "r": 6, "f": 7, "m": 8, "code": 9, "score": 10, "segment": 11}
RFM_DOUBLE_COLUMNS = {"monetary": 3, "revenue": 12}
RFM_STATS = ["count", "customer_share", "revenue", "revenue_share", "mean_recency",
             "median_recency", "mean_frequency", "median_frequency", "mean_monetary",
             "median_monetary"]
#: the rule columns the binding fills (STRATA_RFM_RULE_NCOLS of the header it follows),
#: passed as ncols: a library that knows more columns makes the others "any"
RFM_RULE_COLUMNS = 8

# CLV (strata_clv_param, strata_clv_period, results, columns)
CLV_CALIBRATION_END = 300
CLV_PERIOD = 301
CLV_TIME_UNIT = 302
CLV_HOLDOUT_END = 303
CLV_HORIZON = 304
CLV_CLV_MONTHS = 305
CLV_DISCOUNT_RATE = 306
CLV_STARTS = 307
CLV_THREADS = 308
CLV_DAY_UNSET = -2**63
CLV_PERIODS = {"weeks": 0, "days": 1}
#: result keys (all read with strata_clv_result_double), by the names the binding reports
CLV_RESULTS = {"customers": 4000, "repeat_customers": 4001, "excluded": 4002, "bgnbd_r": 4003,
               "bgnbd_alpha": 4004, "bgnbd_a": 4005, "bgnbd_b": 4006, "bgnbd_loglik": 4007,
               "gg_p": 4008, "gg_q": 4009, "gg_gamma": 4010, "gg_loglik": 4011,
               "freq_spend_corr": 4012, "holdout_actual": 4013, "holdout_predicted": 4014,
               "holdout_days": 4015, "calibration_end": 4016, "bgnbd_converged": 4017,
               "tracking_periods": 4018, "gg_converged": 4019, "gg_customers": 4020,
               "last_day": 4021}
#: the results that are counts or days (reported as int)
CLV_INT_RESULTS = ("customers", "repeat_customers", "excluded", "holdout_days", "calibration_end",
                   "tracking_periods", "gg_customers", "last_day")
#: per-customer columns (customer_id and first_day int64, the others double)
CLV_COLUMNS = {"customer_id": 0, "first_day": 1, "x": 2, "t_x": 3, "T": 4, "zbar": 5,
               "p_alive": 6, "expected_purchases": 7, "expected_spend": 8, "clv": 9,
               "holdout_actual": 10, "holdout_predicted": 11}

# Profiles (strata_profile_stat), stages, moves
PROFILE_STATS = ["count", "weight", "share", "mean", "std", "min", "p10", "median", "p90", "max",
                 "z"]
STAGE_NAMES = ("new", "active", "dormant", "lost")
MOVE_NAMES = ("same", "up", "down", "new", "gone")
