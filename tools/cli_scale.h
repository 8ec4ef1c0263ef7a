/* Feature scaling for the commands that take --transform (strata sweep,
 * strata kmeans, strata tiers), on the tier model's transforms
 * (strata_model_set_transform), and the parts of their output files that
 * describe it: the transform (/transform/...) and the sweep (/sweep/...). */
#ifndef STRATA_TOOLS_CLI_SCALE_H
#define STRATA_TOOLS_CLI_SCALE_H

#include "strata.h"

/* The --transform values, for help texts. */
#define CLI_TRANSFORM_VALUES \
    "auto, zscore, robust, minmax, none, log1p or log1p+zscore (+robust, +minmax)"

/* "auto", "zscore", "log1p+robust", ... into a strata_transform code; a
 * usage error naming --transform otherwise. text must not be NULL. */
int cli_parse_transform(const char *text, int *out);

/* The name of a resolved transform code ("log1p+zscore", "none", ...). */
const char *cli_transform_name(int code);

/* A fitted scaling: per feature the resolved transform, center and scale,
 * and the scaled rows (n x d). Every pointer malloc'ed. */
typedef struct cli_scaling {
    int64_t d;
    int *transform;
    double *center, *scale;
    double *x;
} cli_scaling;

/* Fit transform (a strata_transform code) on the n x d rows x (float64,
 * contiguous; names: d feature names or NULL) and scale them into s->x.
 * The fit is the tier model's (strata_model_fit with k = 1: the transform
 * parameters do not depend on k). Prints the library's message and returns
 * the exit code on failure (s then holds nothing). */
int cli_scale(int transform, const double *x, int64_t n, int64_t d, const char *const *names,
              cli_scaling *s);

void cli_scaling_free(cli_scaling *s);

/* /transform/center, /transform/scale (float64, d), /transform/log1p
 * (int32, d: 1 where log1p came first), /transform/method (d strings:
 * "log1p+zscore", ...) and the attribute "transform" of /transform (the
 * requested text, e.g. "auto"). @return a strata status. */
int cli_out_transform(strata_out *w, const cli_scaling *s, const char *requested);

#endif
