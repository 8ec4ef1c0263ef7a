/* Scoring the held customers: R, F, M by quantile bins (binning.c), the
 * segment of each customer (segments.c) and the segment profiles
 * (profile.c). */
#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "rfm/rfm.h"

#define SCORE_CHUNK ((int64_t)1 << 16)

void strata__rfm_scores_retire(strata__rfm_scores *s, strata__scratch *spare)
{
    if (!s)
        return;
    if (s->block && spare && s->block_size > spare->size) {
        strata__free(spare->p);
        spare->p = s->block;
        spare->size = s->block_size;
    } else {
        strata__free(s->block);
    }
    strata__free(s->profile);
    memset(s, 0, sizeof *s);
}

typedef struct to_double {
    const int64_t *in;
    double *out;
} to_double;

static void to_double_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                            double *partial)
{
    const to_double *t = ctx;
    for (int64_t i = begin; i < end; i++)
        t->out[i] = (double)t->in[i];
}

int strata__rfm_score(const strata__rfm_customers *c, int q, int ties,
                      const double *const cuts[3], const strata__rfm_rules *rules, int threads,
                      const strata__kernels *kern, strata__scratch *scratch,
                      strata__scratch *spare, strata__rfm_scores *out, char *msg)
{
    int64_t n = c->n;
    strata__rfm_scores s = {.q = q, .ties = ties};
    size_t col = ((size_t)n + 63) & ~(size_t)63, need = 7 * col; /* r, f, m, 4-byte segment */
    if (spare && spare->p && spare->size >= need) {
        s.block = spare->p;
        s.block_size = spare->size;
        spare->p = NULL;
        spare->size = 0;
    } else {
        s.block = strata__alloc(need, 1);
        s.block_size = need;
        if (s.block && strata__prefault(s.block, need, threads)) { /* core/scratch.h */
            strata__free(s.block);
            s.block = NULL;
        }
    }
    if (s.block) {
        s.r = s.block;
        s.f = s.r + col;
        s.m = s.f + col;
        s.segment = (int32_t *)(s.m + col);
    }
    s.profile = strata__alloc((size_t)(rules->n * STRATA__RFM_STATS), sizeof *s.profile);
    double *v = strata__scratch_get(scratch, (size_t)n * sizeof *v, NULL); /* recency, then
                                                                              frequency */
    int rc = !s.block || !s.profile || !v ? STRATA_E_NOMEM : 0;
    uint8_t *score[3] = {s.r, s.f, s.m};
    const int64_t *ints[2] = {c->recency, c->frequency};
    for (int k = 0; k < 3 && !rc; k++) {
        const double *x = c->monetary;
        if (k < 2) {
            to_double t = {ints[k], v};
            rc = strata__parallel_chunks(n, SCORE_CHUNK, threads, 0, NULL, to_double_chunk, &t);
            x = v;
        }
        if (!rc)
            rc = strata__rfm_bin(x, n, q, ties, cuts[k], k == STRATA_RFM_RECENCY, threads, kern,
                                 score[k], s.edges[k], &s.nbins[k]);
    }
    if (!rc)
        rc = strata__rfm_assign_segments(rules, q, s.r, s.f, s.m, n, threads, s.segment,
                                         &s.unmatched);
    if (!rc)
        rc = strata__rfm_profile(c, s.segment, rules, threads, kern, s.profile, msg);
    if (rc) {
        strata__rfm_scores_retire(&s, spare);
        return rc;
    }
    *out = s;
    return 0;
}
