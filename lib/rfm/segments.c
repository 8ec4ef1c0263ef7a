/* Segment rule tables: the default 11-segment map and caller-supplied ones.
 * A customer gets the first rule whose inclusive ranges hold its R, F, M and
 * combined FM = (F + M + 1) / 2 scores, or -1. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "rfm/rfm.h"

#define SEG_CHUNK ((int64_t)1 << 16)

/* The default map on the 1..5 scale, over R and the combined FM score: every
 * (R, FM) cell belongs to one segment (Can't Lose Them is listed before At
 * Risk, which takes the rest of R 1-2, FM 3-5). See docs/rfm.md. */
static const struct {
    const char *name;
    int32_t r_lo, r_hi, fm_lo, fm_hi;
} DEFAULT_MAP[] = {
    {"Champions", 4, 5, 4, 5},
    {"Loyal Customers", 3, 3, 4, 5},
    {"Potential Loyalist", 4, 5, 2, 3},
    {"New Customers", 5, 5, 1, 1},
    {"Promising", 3, 4, 1, 1},
    {"Need Attention", 3, 3, 3, 3},
    {"About To Sleep", 3, 3, 2, 2},
    {"Can't Lose Them", 1, 1, 4, 5},
    {"At Risk", 1, 2, 3, 5},
    {"Hibernating", 2, 2, 1, 2},
    {"Lost", 1, 1, 1, 2},
};
#define DEFAULT_COUNT ((int64_t)(sizeof DEFAULT_MAP / sizeof DEFAULT_MAP[0]))

void strata__rfm_rules_free(strata__rfm_rules *r)
{
    if (!r)
        return;
    if (r->names)
        for (int64_t i = 0; i < r->n; i++)
            strata__free(r->names[i]);
    strata__free(r->names);
    strata__free(r->bounds);
    memset(r, 0, sizeof *r);
}

/* Allocate an empty table of n rules. */
static int rules_alloc(int64_t n, strata__rfm_rules *out)
{
    *out = (strata__rfm_rules){.n = n};
    out->names = strata__calloc((size_t)n, sizeof *out->names);
    out->bounds = strata__alloc((size_t)n * STRATA__RFM_RULE_COLUMNS, sizeof *out->bounds);
    if (!out->names || !out->bounds) {
        strata__rfm_rules_free(out);
        return STRATA_E_NOMEM;
    }
    return STRATA_OK;
}

static int rules_fill(strata__rfm_rules *out, const char *const *names, const int32_t *bounds)
{
    for (int64_t i = 0; i < out->n; i++)
        if (!(out->names[i] = strata__strndup(names[i], SIZE_MAX))) {
            strata__rfm_rules_free(out);
            return STRATA_E_NOMEM;
        }
    memcpy(out->bounds, bounds, (size_t)out->n * STRATA__RFM_RULE_COLUMNS * sizeof *bounds);
    return STRATA_OK;
}

int strata__rfm_rules_default(strata__rfm_rules *out)
{
    const char *names[DEFAULT_COUNT];
    int32_t bounds[DEFAULT_COUNT * STRATA__RFM_RULE_COLUMNS];
    for (int64_t i = 0; i < DEFAULT_COUNT; i++) {
        int32_t *b = bounds + i * STRATA__RFM_RULE_COLUMNS;
        names[i] = DEFAULT_MAP[i].name;
        b[STRATA_RFM_RULE_R_LO] = DEFAULT_MAP[i].r_lo;
        b[STRATA_RFM_RULE_R_HI] = DEFAULT_MAP[i].r_hi;
        b[STRATA_RFM_RULE_F_LO] = b[STRATA_RFM_RULE_M_LO] = 1;
        b[STRATA_RFM_RULE_F_HI] = b[STRATA_RFM_RULE_M_HI] = 5;
        b[STRATA_RFM_RULE_FM_LO] = DEFAULT_MAP[i].fm_lo;
        b[STRATA_RFM_RULE_FM_HI] = DEFAULT_MAP[i].fm_hi;
    }
    int rc = rules_alloc(DEFAULT_COUNT, out);
    if (!rc)
        rc = rules_fill(out, names, bounds);
    if (!rc)
        out->is_default = 1;
    return rc;
}

int strata__rfm_rules_make(int64_t n, const char *const *names, const int32_t *bounds,
                           strata__rfm_rules *out, char *msg)
{
    static const char *const COLUMN[] = {"R", "F", "M", "FM"};
    for (int64_t i = 0; i < n; i++) {
        if (!names[i])
            return strata__fail(msg, STRATA_E_NULL, "segment rule %lld has a NULL name",
                                (long long)i);
        size_t len = strlen(names[i]);
        if (len == 0 || len > STRATA__RFM_NAME_MAX)
            return strata__fail(msg, STRATA_E_ARG,
                                "segment rule %lld: a name must have 1 to %d bytes, got %zu",
                                (long long)i, STRATA__RFM_NAME_MAX, len);
        for (int64_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                return strata__fail(msg, STRATA_E_ARG,
                                    "segment rules %lld and %lld have the same name '%s'",
                                    (long long)j, (long long)i, names[i]);
        const int32_t *b = bounds + i * STRATA__RFM_RULE_COLUMNS;
        for (int c = 0; c < 4; c++)
            if (b[2 * c] > b[2 * c + 1])
                return strata__fail(msg, STRATA_E_ARG,
                                    "segment rule %lld ('%s'): the %s range %d..%d is empty",
                                    (long long)i, names[i], COLUMN[c], (int)b[2 * c],
                                    (int)b[2 * c + 1]);
    }
    int rc = rules_alloc(n, out);
    if (!rc)
        rc = rules_fill(out, names, bounds);
    if (rc)
        return strata__fail(msg, rc, "out of memory for %lld segment rules", (long long)n);
    return STRATA_OK;
}

int strata__rfm_rules_copy(const strata__rfm_rules *src, strata__rfm_rules *out)
{
    int rc = rules_alloc(src->n, out);
    if (!rc)
        rc = rules_fill(out, (const char *const *)src->names, src->bounds);
    if (!rc)
        out->is_default = src->is_default;
    return rc;
}

typedef struct seg_ctx {
    const strata__rfm_rules *rules;
    int q;
    const uint8_t *r, *f, *m;
    const int32_t *table; /* q^3 segments by (r, f, m), or NULL */
    int32_t *segment;
} seg_ctx;

static inline int in(int32_t v, const int32_t *b)
{
    return b[0] <= v && v <= b[1];
}

/* First rule matching the scores r, f, m (1..q), or -1. */
static int32_t match(const strata__rfm_rules *rules, int q, int32_t r, int32_t f, int32_t m)
{
    if (rules->is_default && q != 5) { /* ceil(5 s / q): the 1..5 scale of the default map */
        r = (5 * r + q - 1) / q;
        f = (5 * f + q - 1) / q;
        m = (5 * m + q - 1) / q;
    }
    int32_t fm = (f + m + 1) / 2;
    for (int64_t k = 0; k < rules->n; k++) {
        const int32_t *b = rules->bounds + k * STRATA__RFM_RULE_COLUMNS;
        if (in(r, b + STRATA_RFM_RULE_R_LO) && in(f, b + STRATA_RFM_RULE_F_LO) &&
            in(m, b + STRATA_RFM_RULE_M_LO) && in(fm, b + STRATA_RFM_RULE_FM_LO))
            return (int32_t)k;
    }
    return -1;
}

static void seg_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                      double *partial)
{
    const seg_ctx *s = ctx;
    int64_t q = s->q, missed = 0;
    for (int64_t i = begin; i < end; i++) {
        int32_t seg = s->table ? s->table[((s->r[i] - 1) * q + s->f[i] - 1) * q + s->m[i] - 1]
                               : match(s->rules, s->q, s->r[i], s->f[i], s->m[i]);
        s->segment[i] = seg;
        missed += seg < 0;
    }
    partial[0] = (double)missed;
}

int strata__rfm_assign_segments(const strata__rfm_rules *rules, int q, const uint8_t *r,
                                const uint8_t *f, const uint8_t *m, int64_t n, int threads,
                                int32_t *segment, int64_t *unmatched)
{
    /* A table of every (r, f, m) when it is cheap to fill (q = 5: 125 cells). */
    int64_t cells = (int64_t)q * q * q;
    int32_t *table = NULL;
    if (cells * rules->n <= ((int64_t)1 << 24) && cells <= n &&
        (table = strata__alloc((size_t)cells, sizeof *table)))
        for (int32_t a = 1; a <= q; a++)
            for (int32_t b = 1; b <= q; b++)
                for (int32_t c = 1; c <= q; c++)
                    table[((a - 1) * q + b - 1) * q + c - 1] = match(rules, q, a, b, c);
    seg_ctx s = {rules, q, r, f, m, table, segment};
    double missed = 0.0;
    int rc = strata__parallel_chunks(n, SEG_CHUNK, threads, 1, &missed, seg_chunk, &s);
    strata__free(table);
    *unmatched = (int64_t)missed;
    return rc;
}

/* One "r=4-5" item of a rule line into b[2k], b[2k + 1]; -1 if malformed. */
static int parse_range(const char *item, size_t len, int32_t *b)
{
    static const char *const KEYS[4] = {"r", "f", "m", "fm"};
    const char *eq = memchr(item, '=', len);
    if (!eq)
        return -1;
    for (int k = 0; k < 4; k++) {
        if ((size_t)(eq - item) != strlen(KEYS[k]) || strncmp(item, KEYS[k], (size_t)(eq - item)))
            continue;
        const char *p = eq + 1, *end = item + len;
        long v[2] = {0, 0};
        int parts = 0;
        while (parts < 2) { /* digits only: no sign, no spaces, no overflow past 1000 */
            const char *start = p;
            while (p < end && *p >= '0' && *p <= '9' && v[parts] <= 1000)
                v[parts] = 10 * v[parts] + (*p++ - '0');
            if (p == start || (p < end && *p >= '0' && *p <= '9'))
                return -1;
            parts++;
            if (p == end)
                break;
            if (*p++ != '-' || parts == 2)
                return -1;
        }
        long lo = v[0], hi = parts == 2 ? v[1] : v[0];
        if (lo < 1 || hi > 100 || lo > hi)
            return -1;
        b[2 * k] = (int32_t)lo;
        b[2 * k + 1] = (int32_t)hi;
        return 0;
    }
    return -1;
}

int strata__rfm_rules_parse(const char *text, strata__rfm_rules *out, char *msg)
{
    enum { NAME_CAP = STRATA__RFM_NAME_MAX + 1 };
    char(*names)[NAME_CAP] = NULL;
    const char **ptrs = NULL;
    int32_t *bounds = NULL;
    int64_t n = 0, cap = 0, lineno = 0;
    int rc = STRATA_OK;
    for (const char *line = text; !rc && *line;) {
        const char *eol = line + strcspn(line, "\n");
        const char *next = *eol ? eol + 1 : eol;
        lineno++;
        while (eol > line && eol[-1] == '\r')
            eol--;
        const char *p = line + strspn(line, " \t");
        if (p > eol)
            p = eol;
        line = next;
        if (p == eol || *p == '#')
            continue;
        const char *colon = NULL; /* the last ':' of the line */
        for (const char *q = p; q < eol; q++)
            if (*q == ':')
                colon = q;
        const char *name_end = colon;
        while (name_end && name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
            name_end--;
        if (!colon || name_end == p || name_end - p > STRATA__RFM_NAME_MAX) {
            rc = strata__fail(msg, STRATA_E_ARG, "line %lld: expected 'NAME: r=LO-HI f=LO-HI "
                              "m=LO-HI' (a name of 1 to %d bytes before the last ':')",
                              (long long)lineno, STRATA__RFM_NAME_MAX);
            break;
        }
        if (n == STRATA__RFM_MAX_RULES) {
            rc = strata__fail(msg, STRATA_E_ARG, "line %lld: more than %d rules",
                              (long long)lineno, STRATA__RFM_MAX_RULES);
            break;
        }
        if (n == cap) {
            int64_t c2 = cap ? 2 * cap : 16;
            void *nn = strata__grow(names, (size_t)cap, (size_t)c2, sizeof *names);
            if (nn)
                names = nn;
            void *nb = strata__grow(bounds, (size_t)(cap * STRATA__RFM_RULE_COLUMNS),
                                    (size_t)(c2 * STRATA__RFM_RULE_COLUMNS), sizeof *bounds);
            if (nb)
                bounds = nb;
            if (!nn || !nb) {
                rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld segment rules",
                                  (long long)c2);
                break;
            }
            cap = c2;
        }
        memcpy(names[n], p, (size_t)(name_end - p));
        names[n][name_end - p] = '\0';
        int32_t *b = bounds + n * STRATA__RFM_RULE_COLUMNS;
        for (int k = 0; k < STRATA__RFM_RULE_COLUMNS; k++)
            b[k] = k % 2 ? 100 : 1; /* any score */
        for (const char *item = colon + 1; !rc && item < eol;) {
            item += strspn(item, " \t");
            if (item >= eol)
                break;
            size_t len = strcspn(item, " \t\r\n");
            if (item + len > eol)
                len = (size_t)(eol - item);
            if (parse_range(item, len, b))
                rc = strata__fail(msg, STRATA_E_ARG, "line %lld: bad range '%.*s' (expected r, "
                                  "f, m or fm = a score or LO-HI, within 1..100)",
                                  (long long)lineno, (int)(len > 40 ? 40 : len), item);
            item += len;
        }
        n++;
    }
    if (!rc && n == 0)
        rc = strata__fail(msg, STRATA_E_ARG, "no segment rules (one 'NAME: r=LO-HI ...' per line)");
    if (!rc && !(ptrs = strata__alloc((size_t)n, sizeof *ptrs)))
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for %lld segment rules", (long long)n);
    for (int64_t i = 0; !rc && i < n; i++)
        ptrs[i] = names[i];
    if (!rc)
        rc = strata__rfm_rules_make(n, ptrs, bounds, out, msg);
    strata__free(ptrs);
    strata__free(names);
    strata__free(bounds);
    return rc;
}
