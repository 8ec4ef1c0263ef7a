/* Value tiers: clusters ranked by a weighted score of their scaled
 * centroids, the ranking cut into named tiers, best first. */
#include <ctype.h>
#include <string.h>

#include "tiers/tiers.h"
#include "core/mem.h"

void strata__tier_model_free(strata__tier_model *tm)
{
    if (!tm)
        return;
    for (int64_t j = 0; tm->names && j < tm->d; j++)
        strata__free(tm->names[j]);
    for (int64_t t = 0; tm->tier_names && t < tm->ntiers; t++)
        strata__free(tm->tier_names[t]);
    void *arrays[] = {tm->names, tm->tier_names, tm->transform, tm->center, tm->scale,
                      tm->weights, tm->centroids, tm->centroids_orig, tm->score,
                      tm->cluster_tier, tm->labels, tm->tiers, tm->source};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        strata__free(arrays[i]);
    memset(tm, 0, sizeof *tm);
}

static int contains_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == word[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

double strata__default_value_weight(const char *name)
{
    return contains_nocase(name, "recency") || contains_nocase(name, "days_since") ||
                   contains_nocase(name, "inactive")
               ? -1.0 : 1.0;
}

void strata__tiers_rank(const double *c, int64_t k, int64_t d, const double *w, int64_t ntiers,
                        double *score, int32_t *cluster_tier)
{
    for (int64_t j = 0; j < k; j++) {
        double s = 0.0;
        for (int64_t f = 0; f < d; f++)
            s += w[f] * c[j * d + f];
        score[j] = s;
    }
    /* rank r of cluster j: clusters with a higher score, or an equal one and
     * a lower index, come before it (k is small: O(k^2) is fine) */
    const int64_t base = k / ntiers, extra = k % ntiers;
    for (int64_t j = 0; j < k; j++) {
        int64_t r = 0;
        for (int64_t i = 0; i < k; i++)
            r += score[i] > score[j] || (score[i] == score[j] && i < j);
        /* tiers 0 .. ntiers-extra-1 take base clusters, the rest base + 1 */
        int64_t t, first_big = (ntiers - extra) * base;
        if (r < first_big)
            t = r / base;
        else
            t = (ntiers - extra) + (r - first_big) / (base + 1);
        cluster_tier[j] = (int32_t)t;
    }
}
