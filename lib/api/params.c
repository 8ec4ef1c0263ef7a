/* The key catalogue: one table of every parameter (type, bounds, default,
 * the handles that take it) and every result key. The setters check values
 * against it, so the bounds strata_param_int_bounds() reports are the ones
 * enforced; tests/test_params.c checks both ends of every range. */
#include <float.h>
#include <math.h>

#include "api/params.h"
#include "core/status.h"

#define KM STRATA_HANDLE_KMEANS
#define RFM STRATA_HANDLE_RFM
#define MODEL STRATA_HANDLE_MODEL
#define CLV STRATA_HANDLE_CLV
#define I STRATA_VALUE_INT
#define D STRATA_VALUE_DOUBLE
#define DAY_MIN (-((int64_t)1 << 31))
#define DAY_MAX (((int64_t)1 << 31) - 1)

typedef struct key_info {
    int key;
    const char *name;  /* as include/strata.h spells it */
    const char *label; /* in messages ("k must be in ...") */
    int type, handles;
    int64_t lo, hi, def;       /* integer parameters */
    double dlo, dhi, ddef;     /* double parameters */
    const char *allowed;       /* an enum's values in words, for messages; or NULL */
} key_info;

#define P_INT(key, label, h, lo, hi, def, allowed) \
    {key, #key, label, I, h, lo, hi, def, 0.0, 0.0, 0.0, allowed}
#define P_DBL(key, label, h, lo, hi, def) {key, #key, label, D, h, 0, 0, 0, lo, hi, def, NULL}
#define R(key, type, h) {key, #key, #key, type, h, 0, 0, 0, 0.0, 0.0, 0.0, NULL}

/* Parameters first, then results, each in ascending key order (strata_key_at). */
static const key_info KEYS[] = {
    P_INT(STRATA_KMEANS_K, "k", KM, 1, INT32_MAX, 8, NULL),
    P_INT(STRATA_KMEANS_MAX_ITER, "max_iter", KM, 1, STRATA_KMEANS_MAX_ITER_LIMIT, 300, NULL),
    P_DBL(STRATA_KMEANS_TOL, "tol", KM, 0.0, DBL_MAX, 1e-4),
    P_INT(STRATA_KMEANS_INIT, "init", KM, STRATA_INIT_KMEANSPP, STRATA_INIT_AFKMC2,
          STRATA_INIT_KMEANSPP,
          "KMEANSPP (0), RANDOM (1), CENTROIDS (2), KMEANS_PARALLEL (3) or AFKMC2 (4)"),
    P_INT(STRATA_KMEANS_SEED, "seed", KM, 0, INT64_MAX, 0, NULL),
    P_INT(STRATA_KMEANS_N_INIT, "n_init", KM, 1, STRATA_KMEANS_N_INIT_LIMIT, 1, NULL),
    P_INT(STRATA_KMEANS_ALGORITHM, "algorithm", KM, STRATA_ALGO_AUTO, STRATA_ALGO_YINYANG,
          STRATA_ALGO_AUTO, "AUTO (0), LLOYD (1), HAMERLY (2), MINIBATCH (3) or YINYANG (4)"),
    P_INT(STRATA_KMEANS_ASSIGN, "assign", KM, STRATA_ASSIGN_AUTO, STRATA_ASSIGN_GEMM,
          STRATA_ASSIGN_AUTO, "AUTO (0), FUSED (1) or GEMM (2)"),
    P_INT(STRATA_KMEANS_ALLOW_TOO_FEW, "allow_too_few", KM, 0, 1, 0, "0 or 1"),
    P_INT(STRATA_KMEANS_BATCH_SIZE, "batch_size", KM, 1, INT64_MAX, 1024, NULL),
    P_INT(STRATA_KMEANS_CHAIN_LENGTH, "chain_length", KM, 1, STRATA_KMEANS_CHAIN_LENGTH_LIMIT, 200,
          NULL),
    P_INT(STRATA_KMEANS_MAX_NO_IMPROVEMENT, "max_no_improvement", KM, 0, INT64_MAX, 10, NULL),
    P_DBL(STRATA_KMEANS_REASSIGNMENT_RATIO, "reassignment_ratio", KM, 0.0, DBL_MAX, 0.01),
    P_INT(STRATA_KMEANS_MEMORY, "memory budget (bytes, 0 = no limit)", KM, 0, INT64_MAX, 0, NULL),
    P_INT(STRATA_KMEANS_BLOCK_ROWS, "block_rows (0 = automatic)", KM, 0, (int64_t)1 << 40, 0,
          NULL),
    P_INT(STRATA_RFM_BINS, "bins", RFM, 2, 100, 5, NULL),
    P_INT(STRATA_RFM_TIES, "ties", RFM, STRATA_RFM_TIES_RANK, STRATA_RFM_TIES_EDGES,
          STRATA_RFM_TIES_RANK, "RANK (0), VALUE (1) or EDGES (2)"),
    P_INT(STRATA_RFM_REFERENCE_DAY, "reference day", RFM, DAY_MIN, DAY_MAX + 1,
          STRATA_RFM_REFERENCE_AUTO, NULL),
    P_INT(STRATA_RFM_FREQUENCY_MODE, "frequency mode", RFM, STRATA_RFM_COUNT_ROWS,
          STRATA_RFM_COUNT_DAYS, STRATA_RFM_COUNT_ROWS, "COUNT_ROWS (0) or COUNT_DAYS (1)"),
    P_INT(STRATA_RFM_MONETARY_MODE, "monetary mode", RFM, STRATA_RFM_SUM, STRATA_RFM_MEAN,
          STRATA_RFM_SUM, "SUM (0) or MEAN (1)"),
    P_INT(STRATA_RFM_NEGATIVE, "negative amount policy", RFM, STRATA_RFM_DROP, STRATA_RFM_NET,
          STRATA_RFM_DROP, "DROP (1) or NET (2)"),
    P_INT(STRATA_RFM_ZERO, "zero amount policy", RFM, STRATA_RFM_KEEP, STRATA_RFM_DROP,
          STRATA_RFM_KEEP, "KEEP (0) or DROP (1)"),
    P_INT(STRATA_RFM_DUPLICATES, "duplicate row policy", RFM, STRATA_RFM_KEEP, STRATA_RFM_DROP,
          STRATA_RFM_KEEP, "KEEP (0) or DROP (1)"),
    P_INT(STRATA_RFM_TIME_UNIT, "time unit", RFM, STRATA_RFM_TIME_DAYS, STRATA_RFM_TIME_SECONDS,
          STRATA_RFM_TIME_DAYS, "TIME_DAYS (0) or TIME_SECONDS (1)"),
    P_INT(STRATA_RFM_MIN_DAY, "minimum day", RFM, DAY_MIN, DAY_MAX, DAY_MIN, NULL),
    P_INT(STRATA_RFM_MAX_DAY, "maximum day", RFM, DAY_MIN, DAY_MAX, DAY_MAX, NULL),
    P_INT(STRATA_RFM_MIN_ID, "minimum customer id", RFM, INT64_MIN + 1, INT64_MAX, 0, NULL),
    P_INT(STRATA_RFM_MEMORY, "memory budget (bytes, 0 = no limit)", RFM, 0, INT64_MAX, 0, NULL),
    P_INT(STRATA_CLV_CALIBRATION_END, "calibration end day", CLV, DAY_MIN, DAY_MAX,
          STRATA_CLV_DAY_UNSET, NULL),
    P_INT(STRATA_CLV_PERIOD, "period", CLV, STRATA_CLV_WEEKS, STRATA_CLV_DAYS, STRATA_CLV_WEEKS,
          "WEEKS (0) or DAYS (1)"),
    P_INT(STRATA_CLV_TIME_UNIT, "time unit", CLV, STRATA_RFM_TIME_DAYS, STRATA_RFM_TIME_SECONDS,
          STRATA_RFM_TIME_DAYS, "TIME_DAYS (0) or TIME_SECONDS (1)"),
    P_INT(STRATA_CLV_HOLDOUT_END, "holdout end day", CLV, DAY_MIN, DAY_MAX, STRATA_CLV_DAY_UNSET,
          NULL),
    P_DBL(STRATA_CLV_HORIZON, "horizon (periods; 0 = 52 weeks)", CLV, 0.0, 1e6, 0.0),
    P_INT(STRATA_CLV_CLV_MONTHS, "CLV months", CLV, 1, 1200, 12, NULL),
    P_DBL(STRATA_CLV_DISCOUNT_RATE, "monthly discount rate", CLV, 0.0, 10.0, 0.01),
    P_INT(STRATA_CLV_STARTS, "optimiser starts", CLV, 1, 64, 8, NULL),
    P_INT(STRATA_CLV_THREADS, "threads", CLV, 0, 1024, 0, NULL),
    P_INT(STRATA_THREADS, "threads", KM | RFM, 0, 1024, 0, NULL),
    P_INT(STRATA_KERNEL, "kernel", KM | RFM, STRATA_KERNEL_AUTO, STRATA_KERNEL_AVX512,
          STRATA_KERNEL_AUTO, "AUTO (0), SCALAR (1), AVX2 (2) or AVX512 (3)"),
    R(STRATA_KMEANS_RESULT_N, I, KM),
    R(STRATA_KMEANS_RESULT_D, I, KM),
    R(STRATA_KMEANS_RESULT_K, I, KM),
    R(STRATA_KMEANS_RESULT_N_ITER, I, KM),
    R(STRATA_KMEANS_RESULT_CONVERGED, I, KM),
    R(STRATA_KMEANS_RESULT_INERTIA, D, KM),
    R(STRATA_KMEANS_RESULT_KERNEL, I, KM),
    R(STRATA_KMEANS_RESULT_ASSIGN, I, KM),
    R(STRATA_KMEANS_RESULT_SEED, I, KM),
    R(STRATA_KMEANS_RESULT_INIT, I, KM),
    R(STRATA_KMEANS_RESULT_ALGORITHM, I, KM),
    R(STRATA_KMEANS_RESULT_STREAMED, I, KM),
    R(STRATA_RFM_RESULT_ROWS, I, RFM),
    R(STRATA_RFM_RESULT_ROWS_USED, I, RFM),
    R(STRATA_RFM_RESULT_BAD_ID, I, RFM),
    R(STRATA_RFM_RESULT_BAD_TIME, I, RFM),
    R(STRATA_RFM_RESULT_BAD_AMOUNT, I, RFM),
    R(STRATA_RFM_RESULT_NEGATIVE_ROWS, I, RFM),
    R(STRATA_RFM_RESULT_ZERO_ROWS, I, RFM),
    R(STRATA_RFM_RESULT_DUPLICATE_ROWS, I, RFM),
    R(STRATA_RFM_RESULT_RETURN_ONLY_ROWS, I, RFM),
    R(STRATA_RFM_RESULT_CUSTOMERS, I, RFM),
    R(STRATA_RFM_RESULT_FIRST_DAY, I, RFM),
    R(STRATA_RFM_RESULT_LAST_DAY, I, RFM),
    R(STRATA_RFM_RESULT_REFERENCE_DAY_USED, I, RFM),
    R(STRATA_RFM_RESULT_BINS_USED, I, RFM),
    R(STRATA_RFM_RESULT_BINS_R, I, RFM),
    R(STRATA_RFM_RESULT_BINS_F, I, RFM),
    R(STRATA_RFM_RESULT_BINS_M, I, RFM),
    R(STRATA_RFM_RESULT_SEGMENTS, I, RFM),
    R(STRATA_RFM_RESULT_UNMATCHED, I, RFM),
    R(STRATA_MODEL_RESULT_K, I, MODEL),
    R(STRATA_MODEL_RESULT_D, I, MODEL),
    R(STRATA_MODEL_RESULT_N, I, MODEL),
    R(STRATA_MODEL_RESULT_TIERS, I, MODEL),
    R(STRATA_MODEL_RESULT_N_TRAIN, I, MODEL),
    R(STRATA_MODEL_RESULT_SEED, I, MODEL),
    R(STRATA_MODEL_RESULT_N_ITER, I, MODEL),
    R(STRATA_CLV_RESULT_CUSTOMERS, D, CLV),
    R(STRATA_CLV_RESULT_REPEAT_CUSTOMERS, D, CLV),
    R(STRATA_CLV_RESULT_EXCLUDED, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_R, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_ALPHA, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_A, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_B, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_LOGLIK, D, CLV),
    R(STRATA_CLV_RESULT_GG_P, D, CLV),
    R(STRATA_CLV_RESULT_GG_Q, D, CLV),
    R(STRATA_CLV_RESULT_GG_GAMMA, D, CLV),
    R(STRATA_CLV_RESULT_GG_LOGLIK, D, CLV),
    R(STRATA_CLV_RESULT_FREQ_SPEND_CORR, D, CLV),
    R(STRATA_CLV_RESULT_HOLDOUT_ACTUAL, D, CLV),
    R(STRATA_CLV_RESULT_HOLDOUT_PREDICTED, D, CLV),
    R(STRATA_CLV_RESULT_HOLDOUT_DAYS, D, CLV),
    R(STRATA_CLV_RESULT_CALIBRATION_END, D, CLV),
    R(STRATA_CLV_RESULT_BGNBD_CONVERGED, D, CLV),
    R(STRATA_CLV_RESULT_TRACKING_PERIODS, D, CLV),
    R(STRATA_CLV_RESULT_GG_CONVERGED, D, CLV),
    R(STRATA_CLV_RESULT_GG_CUSTOMERS, D, CLV),
    R(STRATA_CLV_RESULT_LAST_DAY, D, CLV),
};
#define NKEYS ((int64_t)(sizeof KEYS / sizeof KEYS[0]))

static const key_info *find(int key)
{
    for (int64_t i = 0; i < NKEYS; i++)
        if (KEYS[i].key == key)
            return &KEYS[i];
    return NULL;
}

static int kind_of(const key_info *k)
{
    return k->key >= STRATA_RESULT_KEY_MIN ? STRATA_KEY_RESULT : STRATA_KEY_PARAM;
}

/* ---- the public catalogue ---------------------------------------------- */

int64_t strata_key_count(void)
{
    return NKEYS;
}

int strata_key_at(int64_t index)
{
    return index >= 0 && index < NKEYS ? KEYS[index].key : 0;
}

const char *strata_key_name(int key)
{
    const key_info *k = find(key);
    return k ? k->name : NULL;
}

int strata_key_kind(int key)
{
    const key_info *k = find(key);
    return k ? kind_of(k) : 0;
}

int strata_key_type(int key)
{
    const key_info *k = find(key);
    return k ? k->type : 0;
}

int strata_key_handles(int key)
{
    const key_info *k = find(key);
    return k ? k->handles : 0;
}

/* The parameter `key` of value type `type`, or NULL with a message. */
static const key_info *param_of(int key, int type, const char *fn)
{
    const key_info *k = find(key);
    if (!k)
        strata__fail(NULL, STRATA_E_PARAM, "%s: unknown key %d", fn, key);
    else if (kind_of(k) != STRATA_KEY_PARAM)
        strata__fail(NULL, STRATA_E_PARAM, "%s: %s is a result key, not a parameter", fn, k->name);
    else if (k->type != type)
        strata__fail(NULL, STRATA_E_PARAM, "%s: %s is %s parameter", fn, k->name,
                     k->type == I ? "an integer" : "a double");
    else
        return k;
    return NULL;
}

int strata_param_int_bounds(int key, int64_t *lo, int64_t *hi)
{
    const key_info *k = param_of(key, I, "strata_param_int_bounds");
    if (!k)
        return STRATA_E_PARAM;
    if (lo)
        *lo = k->lo;
    if (hi)
        *hi = k->hi;
    return STRATA_OK;
}

int strata_param_double_bounds(int key, double *lo, double *hi)
{
    const key_info *k = param_of(key, D, "strata_param_double_bounds");
    if (!k)
        return STRATA_E_PARAM;
    if (lo)
        *lo = k->dlo;
    if (hi)
        *hi = k->dhi;
    return STRATA_OK;
}

int strata_param_default_int(int key, int64_t *out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_param_default_int: out is NULL");
    const key_info *k = param_of(key, I, "strata_param_default_int");
    if (!k)
        return STRATA_E_PARAM;
    *out = k->def;
    return STRATA_OK;
}

int strata_param_default_double(int key, double *out)
{
    if (!out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_param_default_double: out is NULL");
    const key_info *k = param_of(key, D, "strata_param_default_double");
    if (!k)
        return STRATA_E_PARAM;
    *out = k->ddef;
    return STRATA_OK;
}

/* ---- the handles' checks ----------------------------------------------- */

static const char *handle_prefix(int handle)
{
    return handle == KM ? "strata_kmeans" : handle == RFM ? "strata_rfm"
           : handle == CLV ? "strata_clv" : "strata_model";
}

static const char *handle_words(int handles)
{
    return handles & KM ? "a k-means" : handles & RFM ? "an RFM" : handles & CLV ? "a CLV"
                                                                  : "a tier model";
}

static const char *type_suffix(int type)
{
    return type == I ? "int" : "double";
}

/* The first handle of a key's set, for "use <prefix>_..." advice. */
static int first_handle(int handles)
{
    return handles & KM ? KM : handles & RFM ? RFM : handles & CLV ? CLV : MODEL;
}

int strata__param_check_key(char *msg, int handle, int key, int type, int get)
{
    const key_info *k = find(key);
    const char *call = get ? "get" : "set";
    if (!k)
        return strata__fail(msg, STRATA_E_PARAM, "unknown parameter key %d (%s_%s_%s)", key,
                            handle_prefix(handle), call, type_suffix(type));
    if (kind_of(k) != STRATA_KEY_PARAM)
        return strata__fail(msg, STRATA_E_PARAM, "%s is a result key: read it with %s_result_%s",
                            k->name, handle_prefix(first_handle(k->handles)),
                            type_suffix(k->type));
    if (!(k->handles & handle))
        return strata__fail(msg, STRATA_E_PARAM, "%s is %s parameter: %s it with %s_%s_%s",
                            k->name, handle_words(k->handles), call,
                            handle_prefix(first_handle(k->handles)), call, type_suffix(k->type));
    if (k->type != type)
        return strata__fail(msg, STRATA_E_PARAM, "%s (%s) is %s parameter: use %s_%s_%s",
                            k->name, k->label, k->type == I ? "an integer" : "a double",
                            handle_prefix(handle), call, type_suffix(k->type));
    return STRATA_OK;
}

int strata__param_check_int(char *msg, int handle, int key, int64_t v)
{
    int rc = strata__param_check_key(msg, handle, key, I, 0);
    if (rc)
        return rc;
    const key_info *k = find(key);
    if (key == STRATA_RFM_REFERENCE_DAY && v == STRATA_RFM_REFERENCE_AUTO)
        return STRATA_OK;
    if ((key == STRATA_CLV_CALIBRATION_END || key == STRATA_CLV_HOLDOUT_END) &&
        v == STRATA_CLV_DAY_UNSET)
        return STRATA_OK;
    if (v >= k->lo && v <= k->hi)
        return STRATA_OK;
    if (k->allowed)
        return strata__fail(msg, STRATA_E_PARAM, "%s must be %s, got %lld", k->label, k->allowed,
                            (long long)v);
    if (k->hi == INT64_MAX)
        return strata__fail(msg, STRATA_E_PARAM, "%s must be >= %lld, got %lld", k->label,
                            (long long)k->lo, (long long)v);
    return strata__fail(msg, STRATA_E_PARAM, "%s must be in [%lld, %lld], got %lld", k->label,
                        (long long)k->lo, (long long)k->hi, (long long)v);
}

int strata__param_check_double(char *msg, int handle, int key, double v)
{
    int rc = strata__param_check_key(msg, handle, key, D, 0);
    if (rc)
        return rc;
    const key_info *k = find(key);
    if (isfinite(v) && v >= k->dlo && v <= k->dhi)
        return STRATA_OK;
    if (k->dhi == DBL_MAX)
        return strata__fail(msg, STRATA_E_PARAM, "%s must be finite and >= %g, got %g", k->label,
                            k->dlo, v);
    return strata__fail(msg, STRATA_E_PARAM, "%s must be finite and in [%g, %g], got %g",
                        k->label, k->dlo, k->dhi, v);
}

int strata__result_check_key(char *msg, int handle, int key, int type)
{
    const key_info *k = find(key);
    if (!k)
        return strata__fail(msg, STRATA_E_PARAM, "unknown result key %d (%s_result_%s)", key,
                            handle_prefix(handle), type_suffix(type));
    if (kind_of(k) != STRATA_KEY_RESULT)
        return strata__fail(msg, STRATA_E_PARAM, "%s is a parameter key: read it with %s_get_%s",
                            k->name, handle_prefix(k->handles & handle ? handle
                                                                       : first_handle(k->handles)),
                            type_suffix(k->type));
    if (!(k->handles & handle))
        return strata__fail(msg, STRATA_E_PARAM, "%s is %s result: read it with %s_result_%s",
                            k->name, handle_words(k->handles),
                            handle_prefix(first_handle(k->handles)), type_suffix(k->type));
    if (k->type != type)
        return strata__fail(msg, STRATA_E_PARAM, "%s is %s result: read it with %s_result_%s",
                            k->name, k->type == I ? "an integer" : "a double",
                            handle_prefix(handle), type_suffix(k->type));
    return STRATA_OK;
}
