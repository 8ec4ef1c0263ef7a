/* Public functions of profiles, lifecycle stages and migrations: argument
 * checks and messages in front of lib/profile, HDF5 through lib/io. Without
 * a handle, messages go to the thread's slot (strata_last_error()). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_profile.h"
#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/files.h"
#include "io/h5.h"
#include "profile/profile.h"

#define NAME_MAX_BYTES 255
#define MAX_TIERS 1000 /* the k x k matrix: 8 MB at most */

struct strata_profile {
    strata__profile p;
    char **names; /* d feature names */
    int64_t nnames; /* d, kept apart: a failed computation clears p */
};

struct strata_migration {
    strata__migration m;
    char **names; /* n_tiers tier names, or NULL */
    strata__file_id inputs[2]; /* the files of strata_migrate_h5(): never replaced */
    char *paths[2];            /* and their paths, for the output's provenance */
};

static char *copy_text(const char *s)
{
    char *c = strata__alloc(strlen(s) + 1, 1);
    return c ? memcpy(c, s, strlen(s) + 1) : NULL;
}

static const char *const STAT_NAMES[] = {"count", "weight", "share", "mean", "std", "min",
                                         "p10", "median", "p90", "max", "z"};
static const char *const STAGE_NAMES[] = {"new", "active", "dormant", "lost"};
static const char *const MOVE_NAMES[] = {"same", "up", "down", "new", "gone"};

static void free_names(char **names, int64_t n)
{
    for (int64_t i = 0; names && i < n; i++)
        strata__free(names[i]);
    strata__free(names);
}

/* Copies of n names (each non-NULL, 1..255 bytes), or generated ones
 * ("<prefix><i>") when names is NULL. */
static int copy_names(const char *fn, const char *what, const char *const *names, int64_t n,
                      const char *prefix, char ***out)
{
    for (int64_t i = 0; names && i < n; i++) {
        size_t len = names[i] ? strnlen(names[i], NAME_MAX_BYTES + 1) : 0;
        if (!names[i] || len == 0 || len > NAME_MAX_BYTES)
            return strata__fail(NULL, STRATA_E_ARG, "%s: %s name %lld is %s", fn, what,
                                (long long)i, !names[i] ? "NULL" : len == 0 ? "empty"
                                : "longer than 255 bytes");
    }
    char **c = strata__calloc((size_t)n, sizeof *c);
    int ok = c != NULL;
    for (int64_t i = 0; ok && i < n; i++) {
        char buf[32];
        if (!names)
            snprintf(buf, sizeof buf, "%s%lld", prefix, (long long)i);
        const char *s = names ? names[i] : buf;
        ok = (c[i] = strata__strndup(s, strlen(s))) != NULL;
    }
    if (!ok) {
        free_names(c, n);
        return strata__fail(NULL, STRATA_E_NOMEM, "%s: out of memory copying %s names", fn, what);
    }
    *out = c;
    return STRATA_OK;
}

/* ---- profiles ------------------------------------------------------------- */

int strata_profile_compute(strata_profile **out, const double *x, int64_t n, int64_t d,
                           int64_t row_stride, const char *const *names, const int32_t *labels,
                           int64_t k, const double *weights, int threads)
{
    static const char FN[] = "strata_profile_compute";
    if (!out || !x || !labels)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN,
                            !out ? "out" : !x ? "x" : "labels");
    if (n < 1 || d < 1 || k < 1)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n, d and k must be >= 1, got n = %lld, "
                            "d = %lld, k = %lld", FN, (long long)n, (long long)d, (long long)k);
    if (k > INT32_MAX || (uint64_t)(k + 1) > (uint64_t)INT64_MAX / 16 / (uint64_t)d)
        return strata__fail(NULL, STRATA_E_ARG, "%s: k = %lld x d = %lld is too large", FN,
                            (long long)k, (long long)d);
    if (row_stride == 0)
        row_stride = d;
    if (row_stride < d || (uint64_t)n > (uint64_t)INT64_MAX / (uint64_t)row_stride)
        return strata__fail(NULL, STRATA_E_ARG, "%s: row_stride %lld is less than d = %lld or "
                            "too large", FN, (long long)row_stride, (long long)d);
    if (threads < 0)
        return strata__fail(NULL, STRATA_E_ARG, "%s: threads must be >= 0, got %d", FN, threads);
    strata_profile *p = strata__calloc(1, sizeof *p);
    if (!p)
        return strata__fail(NULL, STRATA_E_NOMEM, "%s: out of memory", FN);
    int rc = copy_names(FN, "feature", names, d, "x", &p->names);
    p->nnames = rc ? 0 : d;
    if (!rc) {
        char msg[STRATA__MSG_LEN];
        rc = strata__profile_compute(&p->p, x, n, d, row_stride, labels, k, weights,
                                     strata__resolve_threads(threads), msg);
        if (rc)
            strata__fail(NULL, rc, "%s: %s", FN, msg);
    }
    if (rc) {
        strata_profile_free(p);
        return rc;
    }
    *out = p;
    return STRATA_OK;
}

void strata_profile_free(strata_profile *p)
{
    if (!p)
        return;
    free_names(p->names, p->nnames);
    strata__profile_release(&p->p);
    strata__free(p);
}

int strata_profile_shape(const strata_profile *p, int64_t *k, int64_t *d)
{
    if (!p)
        return strata__fail(NULL, STRATA_E_NULL, "strata_profile_shape: profile is NULL");
    if (k)
        *k = p->p.k;
    if (d)
        *d = p->p.d;
    return STRATA_OK;
}

/* The values of a statistic (k + 1 rows) and the values per row. */
static const double *stat_values(const strata__profile *p, int stat, int64_t *per_row)
{
    *per_row = 1;
    switch (stat) {
    case STRATA_PROFILE_COUNT: return p->count;
    case STRATA_PROFILE_WEIGHT: return p->weight;
    case STRATA_PROFILE_SHARE: return p->share;
    default:
        *per_row = p->d;
        return p->stat[stat - STRATA_PROFILE_MEAN];
    }
}

int strata_profile_get(const strata_profile *p, int stat, double *out, int64_t len)
{
    static const char FN[] = "strata_profile_get";
    if (!p || !out)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN, !p ? "profile" : "out");
    if (stat < STRATA_PROFILE_COUNT || stat > STRATA_PROFILE_Z)
        return strata__fail(NULL, STRATA_E_PARAM, "%s: unknown statistic %d", FN, stat);
    int64_t per;
    const double *v = stat_values(&p->p, stat, &per);
    int64_t k = p->p.k;
    if (len != k * per && len != (k + 1) * per)
        return strata__fail(NULL, STRATA_E_ARG, "%s: len %lld for '%s'; expected %lld (the "
                            "clusters) or %lld (and all rows)", FN, (long long)len,
                            STAT_NAMES[stat], (long long)(k * per), (long long)((k + 1) * per));
    memcpy(out, v, (size_t)len * sizeof *out);
    return STRATA_OK;
}

const char *strata_profile_feature_name(const strata_profile *p, int64_t index)
{
    return p && index >= 0 && index < p->p.d ? p->names[index] : NULL;
}

const char *strata_profile_stat_name(int stat)
{
    return stat >= 0 && stat <= STRATA_PROFILE_Z ? STAT_NAMES[stat] : NULL;
}

/* snprintf-like text building: len counts the whole text, what fits is written. */
typedef struct text {
    char *buf;
    size_t size;
    int64_t len;
} text;

static void put(text *t, const char *fmt, ...) STRATA__PRINTF(2, 3);
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t at = (size_t)t->len;
    int r = at < t->size ? vsnprintf(t->buf + at, t->size - at, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (r > 0)
        t->len += r;
}

/* A number in a column of width w: 6 significant digits, "-" for NaN. */
static void put_num(text *t, int w, double v)
{
    if (isnan(v))
        put(t, " %*s", w - 1, "-");
    else
        put(t, " %*.6g", w - 1, v);
}

int64_t strata_profile_format(const strata_profile *p, const char *const *cluster_names,
                              char *buf, size_t size)
{
    if (!p || (!buf && size > 0))
        return strata__fail(NULL, STRATA_E_NULL, "strata_profile_format: %s is NULL",
                            !p ? "profile" : "buf");
    const strata__profile *q = &p->p;
    const int64_t k = q->k, d = q->d;
    text t = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';
    int w = 12, label = 8;
    for (int64_t c = 0; cluster_names && c < k; c++) {
        size_t len = cluster_names[c] ? strlen(cluster_names[c]) : 1;
        w = len + 2 > (size_t)w ? (int)(len < 60 ? len + 2 : 62) : w;
    }
    for (int64_t f = 0; f < d; f++) {
        size_t len = strlen(p->names[f]);
        label = len > (size_t)label ? (int)(len < 40 ? len : 40) : label;
    }
    put(&t, "%-*s", label, "");
    for (int64_t c = 0; c <= k; c++) {
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)c);
        const char *name = c == k ? "all"
                           : cluster_names && cluster_names[c] ? cluster_names[c] : num;
        put(&t, " %*.*s", w - 1, w - 2, name);
    }
    put(&t, "\n%-*s", label, "count");
    for (int64_t c = 0; c <= k; c++)
        put(&t, " %*.0f", w - 1, q->count[c]);
    if (q->weighted) {
        put(&t, "\n%-*s", label, "weight");
        for (int64_t c = 0; c <= k; c++)
            put_num(&t, w, q->weight[c]);
    }
    put(&t, "\n%-*s", label, "share");
    for (int64_t c = 0; c <= k; c++)
        put(&t, " %*.1f%%", w - 2, 100.0 * q->share[c]);
    put(&t, "\n");
    for (int64_t f = 0; f < d; f++) {
        put(&t, "%.*s\n", label, p->names[f]);
        for (int s = 0; s < STRATA__PF_STATS; s++) {
            put(&t, "  %-*s", label - 2, STAT_NAMES[STRATA_PROFILE_MEAN + s]);
            for (int64_t c = 0; c <= k; c++)
                put_num(&t, w, q->stat[s][c * d + f]);
            put(&t, "\n");
        }
    }
    return t.len;
}

int strata__profile_put(strata__h5_out *o, const char *group, const strata_profile *p)
{
    const strata__profile *q = &p->p;
    const int64_t k = q->k, d = q->d;
    char name[640], all[560];
    if (strlen(group) > 500)
        return strata__fail(NULL, STRATA_E_INTERNAL, "profile group name too long");
    int rc = strata__h5_out_group(o, group);
    int32_t weighted = q->weighted;
    if (!rc)
        rc = strata__h5_out_attr(o, group, "weighted", STRATA__H5_I32, &weighted);
    snprintf(all, sizeof all, "%s/overall", group);
    for (int s = 0; s <= STRATA_PROFILE_Z && !rc; s++) {
        int64_t per;
        const double *v = stat_values(q, s, &per);
        int64_t dims[2] = {k, d};
        snprintf(name, sizeof name, "%s/%s", group, STAT_NAMES[s]);
        rc = strata__h5_out_dataset(o, name, STRATA__H5_F64, per == 1 ? 1 : 2, dims, v);
        snprintf(name, sizeof name, "%s/%s", all, STAT_NAMES[s]);
        if (!rc)
            rc = strata__h5_out_dataset(o, name, STRATA__H5_F64, 1, &per, v + k * per);
    }
    snprintf(name, sizeof name, "%s/feature_names", group);
    if (!rc)
        rc = strata__h5_out_strings(o, name, NULL, (const char *const *)p->names, d);
    return rc;
}

int strata_profile_write_h5(const strata_profile *p, const char *path, int flags)
{
    if (!p || !path)
        return strata__fail(NULL, STRATA_E_NULL, "strata_profile_write_h5: %s is NULL",
                            !p ? "profile" : "path");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(NULL, STRATA_E_PARAM, "strata_profile_write_h5: unknown write flags "
                            "%d", flags);
    char msg[STRATA__MSG_LEN];
    strata__h5_out *o;
    int rc = strata__h5_out_open(&o, path, NULL, 0, flags, msg);
    if (rc)
        return rc;
    rc = strata__profile_put(o, "/profile", p);
    if (!rc)
        rc = strata__h5_out_attr_string(o, NULL, "strata_version", strata_version_string());
    return strata__h5_out_finish(o, rc);
}

/* ---- lifecycle stages and crosstabs --------------------------------------- */

const char *strata_stage_name(int stage)
{
    return stage >= 0 && stage <= STRATA_STAGE_LOST ? STAGE_NAMES[stage] : NULL;
}

int strata__lifecycle_thresholds(const int64_t thresholds[3], int64_t thr[3], char *msg)
{
    thr[0] = STRATA_LIFECYCLE_NEW_DAYS;
    thr[1] = STRATA_LIFECYCLE_ACTIVE_DAYS;
    thr[2] = STRATA_LIFECYCLE_LOST_DAYS;
    if (thresholds)
        memcpy(thr, thresholds, 3 * sizeof *thr);
    if (thr[0] < 0 || thr[0] > thr[1] || thr[1] > thr[2])
        return strata__fail(msg, STRATA_E_ARG, "lifecycle thresholds {new %lld, active %lld, "
                            "lost %lld} must satisfy 0 <= new <= active <= lost",
                            (long long)thr[0], (long long)thr[1], (long long)thr[2]);
    return STRATA_OK;
}

int strata_lifecycle(const int64_t *first_day, const int64_t *last_day, const int64_t *purchases,
                     int64_t n, int64_t reference_day, const int64_t thresholds[3],
                     int32_t *stage)
{
    if (!first_day || !last_day || !stage)
        return strata__fail(NULL, STRATA_E_NULL, "strata_lifecycle: %s is NULL",
                            !first_day ? "first_day" : !last_day ? "last_day" : "stage");
    if (n < 0)
        return strata__fail(NULL, STRATA_E_ARG, "strata_lifecycle: n = %lld < 0", (long long)n);
    int64_t thr[3];
    int rc = strata__lifecycle_thresholds(thresholds, thr, NULL);
    if (!rc)
        rc = strata__lifecycle(first_day, last_day, purchases, n, reference_day, thr, stage,
                               NULL);
    return rc;
}

int strata_crosstab(const int32_t *a, int64_t na, const int32_t *b, int64_t nb, int64_t n,
                    int64_t *out)
{
    static const char FN[] = "strata_crosstab";
    if (!a || !b || !out)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN,
                            !a ? "a" : !b ? "b" : "out");
    if (n < 0 || na < 1 || nb < 1 || na > INT32_MAX || nb > INT32_MAX ||
        (uint64_t)na > (uint64_t)INT64_MAX / 8 / (uint64_t)nb)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n = %lld must be >= 0, na = %lld and "
                            "nb = %lld in 1..2^31 - 1", FN, (long long)n, (long long)na,
                            (long long)nb);
    for (int64_t i = 0; i < n; i++)
        if (a[i] < 0 || a[i] >= na || b[i] < 0 || b[i] >= nb)
            return strata__fail(NULL, STRATA_E_ARG, "%s: row %lld has codes (%d, %d), outside "
                                "0..%lld x 0..%lld", FN, (long long)i, (int)a[i], (int)b[i],
                                (long long)(na - 1), (long long)(nb - 1));
    memset(out, 0, (size_t)(na * nb) * sizeof *out);
    for (int64_t i = 0; i < n; i++)
        out[(int64_t)a[i] * nb + b[i]]++;
    return STRATA_OK;
}

/* ---- migrations ----------------------------------------------------------- */

const char *strata_move_name(int move)
{
    return move >= 0 && move <= STRATA_MOVE_GONE ? MOVE_NAMES[move] : NULL;
}

static int check_tiers_count(const char *fn, int64_t n_tiers)
{
    if (n_tiers < 1 || n_tiers > MAX_TIERS)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n_tiers = %lld, expected 1..%d", fn,
                            (long long)n_tiers, MAX_TIERS);
    return STRATA_OK;
}

int strata_migrate(strata_migration **out, const int64_t *old_id, const int32_t *old_tier,
                   int64_t n_old, const int64_t *new_id, const int32_t *new_tier, int64_t n_new,
                   int64_t n_tiers)
{
    static const char FN[] = "strata_migrate";
    if (!out || !old_id || !old_tier || !new_id || !new_tier)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN,
                            !out ? "out" : !old_id ? "old_id" : !old_tier ? "old_tier"
                            : !new_id ? "new_id" : "new_tier");
    if (n_old < 0 || n_new < 0 || n_old > INT64_MAX / 64 || n_new > INT64_MAX / 64)
        return strata__fail(NULL, STRATA_E_ARG, "%s: n_old = %lld and n_new = %lld must be >= 0",
                            FN, (long long)n_old, (long long)n_new);
    int rc = check_tiers_count(FN, n_tiers);
    if (rc)
        return rc;
    strata_migration *m = strata__calloc(1, sizeof *m);
    if (!m)
        return strata__fail(NULL, STRATA_E_NOMEM, "%s: out of memory", FN);
    char msg[STRATA__MSG_LEN];
    rc = strata__migrate(&m->m, old_id, old_tier, n_old, new_id, new_tier, n_new, n_tiers, msg);
    if (rc) {
        strata__free(m);
        return strata__fail(NULL, rc, "%s: %s", FN, msg);
    }
    *out = m;
    return STRATA_OK;
}

/* Tiers of a file as int32 (checked: integral, in 0..MAX_TIERS - 1) and its ids (integral). */
static int tiering_check(const char *path, const strata__h5_tiering *t, int32_t **tier)
{
    for (int64_t i = 0; i < t->n; i++) {
        if (t->customer_id[i] == INT64_MIN)
            return strata__fail(NULL, STRATA_E_IO_TYPE, "'/customer_id' in '%s': row %lld is not "
                                "an integer id", path, (long long)i);
        if (t->tier[i] == INT64_MIN) /* the reader's mark of a value no integer holds */
            return strata__fail(NULL, STRATA_E_IO_TYPE, "'/tier' in '%s': customer %lld (row "
                                "%lld) has a tier that is not a whole number (a fraction, NaN "
                                "or Inf); tiers are integers in 0..%d", path,
                                (long long)t->customer_id[i], (long long)i, MAX_TIERS - 1);
        if (t->tier[i] < 0 || t->tier[i] >= MAX_TIERS)
            return strata__fail(NULL, STRATA_E_IO_TYPE, "'/tier' in '%s': customer %lld (row "
                                "%lld) has tier %lld; tiers are integers in 0..%d", path,
                                (long long)t->customer_id[i], (long long)i,
                                (long long)t->tier[i], MAX_TIERS - 1);
    }
    *tier = strata__alloc((size_t)(t->n > 0 ? t->n : 1), sizeof **tier);
    if (!*tier)
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory reading '%s'", path);
    for (int64_t i = 0; i < t->n; i++)
        (*tier)[i] = (int32_t)t->tier[i];
    return STRATA_OK;
}

int strata_migrate_h5(strata_migration **out, const char *old_path, const char *new_path)
{
    static const char FN[] = "strata_migrate_h5";
    if (!out || !old_path || !new_path)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN,
                            !out ? "out" : !old_path ? "old_path" : "new_path");
    strata__h5_tiering t[2] = {{0}};
    int32_t *tier[2] = {NULL, NULL};
    const char *path[2] = {old_path, new_path};
    int rc = STRATA_OK;
    for (int f = 0; f < 2 && !rc; f++) {
        rc = strata__h5_read_tiering(path[f], &t[f], NULL);
        if (!rc)
            rc = tiering_check(path[f], &t[f], &tier[f]);
    }
    /* tier names: both files alike, or the one that has them */
    const strata__h5_tiering *named = t[0].nnames ? &t[0] : t[1].nnames ? &t[1] : NULL;
    if (!rc && t[0].nnames && t[1].nnames) {
        int same = t[0].nnames == t[1].nnames;
        for (int64_t i = 0; same && i < t[0].nnames; i++)
            same = !strcmp(t[0].names[i], t[1].names[i]);
        if (!same)
            rc = strata__fail(NULL, STRATA_E_ARG, "%s: the tiers of '%s' and '%s' have "
                              "different names (%lld: '%s'...; %lld: '%s'...): not the same "
                              "tiers", FN, old_path, new_path, (long long)t[0].nnames,
                              t[0].names[0], (long long)t[1].nnames, t[1].names[0]);
    }
    int64_t n_tiers = named ? named->nnames : 0;
    if (!named)
        for (int f = 0; f < 2 && !rc; f++)
            for (int64_t i = 0; i < t[f].n; i++)
                n_tiers = tier[f][i] + 1 > n_tiers ? tier[f][i] + 1 : n_tiers;
    if (!rc && n_tiers < 1)
        rc = strata__fail(NULL, STRATA_E_IO_TYPE, "%s: '%s' and '%s' hold no customers", FN,
                          old_path, new_path);
    strata_migration *m = NULL;
    if (!rc) {
        char msg[STRATA__MSG_LEN];
        m = strata__calloc(1, sizeof *m);
        rc = m ? strata__migrate(&m->m, t[0].customer_id, tier[0], t[0].n, t[1].customer_id,
                                 tier[1], t[1].n, n_tiers, msg)
               : strata__fail(msg, STRATA_E_NOMEM, "out of memory");
        if (rc) {
            strata__free(m);
            m = NULL;
            /* the engine names the tiering "old" or "new": add the files */
            strata__fail(NULL, rc, "%s (old: '%s', new: '%s')", msg, old_path, new_path);
        }
    }
    if (!rc && named) {
        rc = strata_migration_set_tier_names(m, (const char *const *)named->names);
        if (rc) {
            strata_migration_free(m);
            m = NULL;
        }
    }
    if (!rc) {
        strata__file_id_of(old_path, "the old tiering", &m->inputs[0]);
        strata__file_id_of(new_path, "the new tiering", &m->inputs[1]);
        m->paths[0] = copy_text(old_path);
        m->paths[1] = copy_text(new_path);
        if (!m->paths[0] || !m->paths[1]) {
            strata_migration_free(m);
            rc = strata__fail(NULL, STRATA_E_NOMEM, "%s: out of memory", FN);
        }
    }
    if (!rc)
        *out = m;
    for (int f = 0; f < 2; f++) {
        strata__h5_tiering_free(&t[f]);
        strata__free(tier[f]);
    }
    return rc;
}

void strata_migration_free(strata_migration *m)
{
    if (!m)
        return;
    free_names(m->names, m->m.n_tiers);
    strata__migration_release(&m->m);
    strata__free(m->paths[0]);
    strata__free(m->paths[1]);
    strata__free(m);
}

int strata_migration_shape(const strata_migration *m, int64_t *n_tiers, int64_t *n_customers)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_migration_shape: migration is NULL");
    if (n_tiers)
        *n_tiers = m->m.n_tiers;
    if (n_customers)
        *n_customers = m->m.n;
    return STRATA_OK;
}

int strata_migration_matrix(const strata_migration *m, int64_t *out, int64_t len)
{
    if (!m || !out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_migration_matrix: %s is NULL",
                            !m ? "migration" : "out");
    int64_t want = m->m.n_tiers * m->m.n_tiers;
    if (len != want)
        return strata__fail(NULL, STRATA_E_ARG, "strata_migration_matrix: len %lld, expected "
                            "%lld (n_tiers^2)", (long long)len, (long long)want);
    memcpy(out, m->m.matrix, (size_t)want * sizeof *out);
    return STRATA_OK;
}

int strata_migration_counts(const strata_migration *m, int64_t *out, int64_t len)
{
    if (!m || !out)
        return strata__fail(NULL, STRATA_E_NULL, "strata_migration_counts: %s is NULL",
                            !m ? "migration" : "out");
    if (len != 5)
        return strata__fail(NULL, STRATA_E_ARG, "strata_migration_counts: len %lld, expected 5",
                            (long long)len);
    memcpy(out, m->m.counts, sizeof m->m.counts);
    return STRATA_OK;
}

int strata_migration_customers(const strata_migration *m, int64_t *id, int32_t *old_tier,
                               int32_t *new_tier, int32_t *move, int64_t n)
{
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "strata_migration_customers: migration is NULL");
    if (n != m->m.n)
        return strata__fail(NULL, STRATA_E_ARG, "strata_migration_customers: n = %lld, the "
                            "migration has %lld customers", (long long)n, (long long)m->m.n);
    if (id)
        memcpy(id, m->m.id, (size_t)n * sizeof *id);
    if (old_tier)
        memcpy(old_tier, m->m.old_tier, (size_t)n * sizeof *old_tier);
    if (new_tier)
        memcpy(new_tier, m->m.new_tier, (size_t)n * sizeof *new_tier);
    if (move)
        memcpy(move, m->m.move, (size_t)n * sizeof *move);
    return STRATA_OK;
}

int strata_migration_set_tier_names(strata_migration *m, const char *const *names)
{
    static const char FN[] = "strata_migration_set_tier_names";
    if (!m)
        return strata__fail(NULL, STRATA_E_NULL, "%s: migration is NULL", FN);
    char **c = NULL;
    if (names) {
        int rc = copy_names(FN, "tier", names, m->m.n_tiers, "", &c);
        if (rc)
            return rc;
    }
    free_names(m->names, m->m.n_tiers);
    m->names = c;
    return STRATA_OK;
}

const char *strata_migration_tier_name(const strata_migration *m, int64_t index)
{
    return m && m->names && index >= 0 && index < m->m.n_tiers ? m->names[index] : NULL;
}

int64_t strata_migration_format(const strata_migration *m, char *buf, size_t size)
{
    if (!m || (!buf && size > 0))
        return strata__fail(NULL, STRATA_E_NULL, "strata_migration_format: %s is NULL",
                            !m ? "migration" : "buf");
    const int64_t nt = m->m.n_tiers;
    text t = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';
    int w = 10, label = 10;
    for (int64_t i = 0; m->names && i < nt; i++) {
        size_t len = strlen(m->names[i]);
        w = len + 2 > (size_t)w ? (int)(len < 40 ? len + 2 : 42) : w;
        label = len + 4 > (size_t)label ? (int)(len < 40 ? len + 4 : 44) : label;
    }
    char name[64];
#define TIER_NAME(i) (m->names ? m->names[i] : (snprintf(name, sizeof name, "%lld", (long long)(i)), name))
    put(&t, "old \\ new\n%-*s", label, "");
    for (int64_t j = 0; j < nt; j++)
        put(&t, " %*.*s", w - 1, w - 2, TIER_NAME(j));
    put(&t, " %*s\n", w - 1, "total");
    int64_t col_total[MAX_TIERS + 1];
    memset(col_total, 0, (size_t)(nt + 1) * sizeof *col_total);
    for (int64_t i = 0; i < nt; i++) {
        put(&t, "%-*.*s", label, label, TIER_NAME(i));
        int64_t row = 0;
        for (int64_t j = 0; j < nt; j++) {
            int64_t v = m->m.matrix[i * nt + j];
            put(&t, " %*lld", w - 1, (long long)v);
            row += v;
            col_total[j] += v;
        }
        col_total[nt] += row;
        put(&t, " %*lld\n", w - 1, (long long)row);
    }
    put(&t, "%-*s", label, "total");
    for (int64_t j = 0; j <= nt; j++)
        put(&t, " %*lld", w - 1, (long long)col_total[j]);
#undef TIER_NAME
    put(&t, "\n\nmoves:");
    for (int k = 0; k <= STRATA_MOVE_GONE; k++)
        put(&t, " %s %lld%s", MOVE_NAMES[k], (long long)m->m.counts[k],
            k < STRATA_MOVE_GONE ? "," : "\n");
    return t.len;
}

int strata_migration_write_h5(const strata_migration *m, const char *path, int flags)
{
    static const char FN[] = "strata_migration_write_h5";
    if (!m || !path)
        return strata__fail(NULL, STRATA_E_NULL, "%s: %s is NULL", FN, !m ? "migration" : "path");
    if (flags & ~STRATA_WRITE_FORCE)
        return strata__fail(NULL, STRATA_E_PARAM, "%s: unknown write flags %d", FN, flags);
    const int64_t nt = m->m.n_tiers, n = m->m.n;
    char **names = m->names;
    int rc = names ? STRATA_OK : copy_names(FN, "tier", NULL, nt, "", &names);
    if (rc)
        return rc;
    char msg[STRATA__MSG_LEN];
    strata__h5_out *o;
    rc = strata__h5_out_open(&o, path, m->inputs, 2, flags, msg);
    if (!rc) {
        int64_t dims[2] = {nt, nt}, five = 5;
        rc = strata__h5_out_dataset(o, "/migration/matrix", STRATA__H5_I64, 2, dims, m->m.matrix);
        if (!rc)
            rc = strata__h5_out_strings(o, "/migration/tier_names", NULL,
                                        (const char *const *)names, nt);
        if (!rc)
            rc = strata__h5_out_dataset(o, "/migration/counts", STRATA__H5_I64, 1, &five,
                                        m->m.counts);
        if (!rc)
            rc = strata__h5_out_strings(o, "/migration/counts", "names", MOVE_NAMES, 5);
        if (!rc)
            rc = strata__h5_out_dataset(o, "/customer_id", STRATA__H5_I64, 1, &n, m->m.id);
        if (!rc)
            rc = strata__h5_out_dataset(o, "/old_tier", STRATA__H5_I32, 1, &n, m->m.old_tier);
        if (!rc)
            rc = strata__h5_out_dataset(o, "/new_tier", STRATA__H5_I32, 1, &n, m->m.new_tier);
        if (!rc)
            rc = strata__h5_out_dataset(o, "/move", STRATA__H5_I32, 1, &n, m->m.move);
        if (!rc)
            rc = strata__h5_out_strings(o, "/move", "names", MOVE_NAMES, 5);
        if (!rc)
            rc = strata__h5_out_attr_string(o, NULL, "strata_version", strata_version_string());
        /* provenance of a migration of two files: both, as given */
        for (int f = 0; f < 2 && !rc && m->paths[f]; f++)
            rc = strata__h5_out_attr_string(o, NULL, f ? "new_tiering" : "old_tiering",
                                            m->paths[f]);
        if (!rc && m->paths[0] && m->paths[1]) {
            const size_t len = strlen(m->paths[0]) + strlen(m->paths[1]) + 8;
            char *src = strata__alloc(len, 1);
            if (!src)
                rc = strata__fail(msg, STRATA_E_NOMEM, "%s: out of memory", FN);
            else {
                snprintf(src, len, "%s -> %s", m->paths[0], m->paths[1]);
                rc = strata__h5_out_attr_string(o, NULL, "source", src);
                strata__free(src);
            }
        }
        rc = strata__h5_out_finish(o, rc);
    }
    if (names != m->names)
        free_names(names, nt);
    return rc;
}
