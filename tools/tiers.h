/* The whole way from a transaction log to named tiers (strata tiers, and
 * strata demo on its synthetic log): RFM aggregates, scaled features,
 * k-means (k chosen by a sweep when a range is given), value tiers,
 * lifecycle stages, profiles and the saved model, all into one file. */
#ifndef STRATA_TOOLS_TIERS_H
#define STRATA_TOOLS_TIERS_H

#include <stdint.h>

#include "rfm_options.h"

typedef struct tiers_options {
    const char *input, *output;
    rfm_options rfm;
    int64_t k_min, k_max;  /* equal: one k */
    const char *tiers;     /* "high,mid,low"; NULL = the model's default */
    const char *features;  /* "recency,frequency,monetary" (default); tenure and clv also known */
    const char *transform; /* "auto" (default), "zscore", "robust", "minmax", "none",
                              "log1p", "log1p+zscore", ... */
    const char *init;      /* NULL: k-means++; or a method name, or FILE.h5:/dataset */
    int64_t seed, n_init, max_iter, sample, threads;
    int64_t days[3];       /* lifecycle: new, active, lost days */
    int force;
    /* the CLV step (--clv; implied by the feature clv and by --value clv) */
    int clv, has_clv_end;
    int64_t clv_end;       /* --calibration-end DAY; default: the run's reference day */
    int64_t clv_period;    /* STRATA_CLV_WEEKS (default) or STRATA_CLV_DAYS */
    int64_t clv_months;    /* --clv-months (default 12) */
    double discount_rate;  /* --discount-rate, monthly (default 0.01) */
    const char *value;     /* --value: "rfm" (default: the model's weights by feature
                              name) or "clv" (clusters ranked by their CLV) */
} tiers_options;

/* The defaults of strata tiers (k 2..10 chosen by the sweep, 3 runs each). */
void tiers_options_init(tiers_options *o);

/* Run the pipeline and print its summary; the CLI exit code. */
int tiers_run(const tiers_options *o);

#endif
