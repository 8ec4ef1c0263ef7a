/* Lifecycle stages and tier migrations: what changes in customers over time. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "profile/profile.h"

int strata__lifecycle(const int64_t *first_day, const int64_t *last_day, const int64_t *purchases,
                      int64_t n, int64_t reference_day, const int64_t thr[3], int32_t *stage,
                      char *msg)
{
    for (int64_t i = 0; i < n; i++) { /* check every row before writing any */
        if (first_day[i] > last_day[i])
            return strata__fail(msg, STRATA_E_ARG, "row %lld: first purchase day %lld is after "
                                "the last purchase day %lld", (long long)i,
                                (long long)first_day[i], (long long)last_day[i]);
        if (last_day[i] > reference_day)
            return strata__fail(msg, STRATA_E_ARG, "row %lld: last purchase day %lld is after "
                                "the reference day %lld", (long long)i, (long long)last_day[i],
                                (long long)reference_day);
        if (purchases && purchases[i] < 1)
            return strata__fail(msg, STRATA_E_ARG, "row %lld: %lld purchases (at least 1 "
                                "expected)", (long long)i, (long long)purchases[i]);
    }
    for (int64_t i = 0; i < n; i++) {
        /* first <= last <= reference: the differences fit in uint64 */
        uint64_t tenure = (uint64_t)reference_day - (uint64_t)first_day[i];
        uint64_t recency = (uint64_t)reference_day - (uint64_t)last_day[i];
        stage[i] = tenure < (uint64_t)thr[0]     ? STRATA_STAGE_NEW
                   : recency <= (uint64_t)thr[1] ? STRATA_STAGE_ACTIVE
                   : recency <= (uint64_t)thr[2] ? STRATA_STAGE_DORMANT
                                                 : STRATA_STAGE_LOST;
    }
    return STRATA_OK;
}

/* ---- migrations ----------------------------------------------------------- */

typedef struct idpos {
    int64_t id, pos;
} idpos;

static int idpos_cmp(const void *a, const void *b)
{
    const idpos *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id ? 1 : (x->pos > y->pos) - (x->pos < y->pos);
}

/* ids sorted with their positions; a repeated id is an error naming it. */
static int sort_ids(const int64_t *id, int64_t n, const char *which, idpos **out, char *msg)
{
    idpos *a = strata__alloc((size_t)(n > 0 ? n : 1), sizeof *a);
    if (!a)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory sorting %lld customer ids",
                            (long long)n);
    for (int64_t i = 0; i < n; i++)
        a[i] = (idpos){id[i], i};
    qsort(a, (size_t)n, sizeof *a, idpos_cmp);
    for (int64_t i = 1; i < n; i++)
        if (a[i].id == a[i - 1].id) {
            int rc = strata__fail(msg, STRATA_E_ARG, "customer id %lld appears twice in the %s "
                                  "tiering (rows %lld and %lld)", (long long)a[i].id, which,
                                  (long long)a[i - 1].pos, (long long)a[i].pos);
            strata__free(a);
            return rc;
        }
    *out = a;
    return STRATA_OK;
}

static int check_tiers(const int64_t *id, const int32_t *tier, int64_t n, int64_t n_tiers,
                       const char *which, char *msg)
{
    for (int64_t i = 0; i < n; i++)
        if (tier[i] < 0 || tier[i] >= n_tiers)
            return strata__fail(msg, STRATA_E_ARG, "customer %lld (row %lld) of the %s tiering "
                                "has tier %d, outside 0..%lld", (long long)id[i], (long long)i,
                                which, (int)tier[i], (long long)(n_tiers - 1));
    return STRATA_OK;
}

void strata__migration_release(strata__migration *m)
{
    strata__free(m->id);
    strata__free(m->old_tier);
    strata__free(m->new_tier);
    strata__free(m->move);
    strata__free(m->matrix);
    memset(m, 0, sizeof *m);
}

int strata__migrate(strata__migration *m, const int64_t *old_id, const int32_t *old_tier,
                    int64_t n_old, const int64_t *new_id, const int32_t *new_tier, int64_t n_new,
                    int64_t n_tiers, char *msg)
{
    memset(m, 0, sizeof *m);
    int rc = check_tiers(old_id, old_tier, n_old, n_tiers, "old", msg);
    if (!rc)
        rc = check_tiers(new_id, new_tier, n_new, n_tiers, "new", msg);
    idpos *a = NULL, *b = NULL;
    if (!rc)
        rc = sort_ids(old_id, n_old, "old", &a, msg);
    if (!rc)
        rc = sort_ids(new_id, n_new, "new", &b, msg);
    int64_t total = n_old + n_new; /* at most; the union is counted below */
    if (!rc) {
        m->n_tiers = n_tiers;
        m->id = strata__alloc((size_t)(total > 0 ? total : 1), sizeof *m->id);
        m->old_tier = strata__alloc((size_t)(total > 0 ? total : 1), sizeof *m->old_tier);
        m->new_tier = strata__alloc((size_t)(total > 0 ? total : 1), sizeof *m->new_tier);
        m->move = strata__alloc((size_t)(total > 0 ? total : 1), sizeof *m->move);
        m->matrix = strata__calloc((size_t)(n_tiers * n_tiers), sizeof *m->matrix);
        if (!m->id || !m->old_tier || !m->new_tier || !m->move || !m->matrix)
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for a migration of %lld "
                              "customers", (long long)total);
    }
    int64_t i = 0, j = 0, u = 0;
    while (!rc && (i < n_old || j < n_new)) {
        int32_t o = -1, t = -1;
        int64_t id;
        if (j >= n_new || (i < n_old && a[i].id < b[j].id)) {
            id = a[i].id, o = old_tier[a[i++].pos];
        } else if (i >= n_old || b[j].id < a[i].id) {
            id = b[j].id, t = new_tier[b[j++].pos];
        } else {
            id = a[i].id, o = old_tier[a[i++].pos], t = new_tier[b[j++].pos];
        }
        int32_t mv = o < 0 ? STRATA_MOVE_NEW : t < 0 ? STRATA_MOVE_GONE
                     : t < o ? STRATA_MOVE_UP : t > o ? STRATA_MOVE_DOWN : STRATA_MOVE_SAME;
        if (o >= 0 && t >= 0)
            m->matrix[o * n_tiers + t]++;
        m->counts[mv]++;
        m->id[u] = id, m->old_tier[u] = o, m->new_tier[u] = t, m->move[u] = mv;
        u++;
    }
    m->n = u;
    strata__free(a);
    strata__free(b);
    if (rc)
        strata__migration_release(m);
    return rc;
}
