/* Feature scaling shared by strata sweep, kmeans and tiers (cli_scale.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_scale.h"

static const struct {
    const char *name;
    int code;
} BASE[] = {{"none", STRATA_TRANSFORM_NONE}, {"zscore", STRATA_TRANSFORM_ZSCORE},
            {"robust", STRATA_TRANSFORM_ROBUST}, {"minmax", STRATA_TRANSFORM_MINMAX},
            {"auto", STRATA_TRANSFORM_AUTO}};

int cli_parse_transform(const char *text, int *out)
{
    const char *p = text;
    int log = 0;
    if (!strcmp(p, "log1p")) {
        *out = STRATA_TRANSFORM_NONE | STRATA_TRANSFORM_LOG1P;
        return CLI_OK;
    }
    if (!strncmp(p, "log1p+", 6)) { /* "log1p+" alone is not a transform */
        log = STRATA_TRANSFORM_LOG1P;
        p += 6;
    }
    for (size_t i = 0; i < sizeof BASE / sizeof BASE[0]; i++)
        if (!strcmp(p, BASE[i].name) && !(log && BASE[i].code == STRATA_TRANSFORM_AUTO)) {
            *out = BASE[i].code | log;
            return CLI_OK;
        }
    return cli_error(CLI_USAGE, "--transform must be " CLI_TRANSFORM_VALUES ", got '%s'", text);
}

const char *cli_transform_name(int code)
{
    static const char *const LOG[] = {"log1p", "log1p+zscore", "log1p+robust", "log1p+minmax"};
    int base = code & ~STRATA_TRANSFORM_LOG1P;
    if (base < 0 || base > STRATA_TRANSFORM_AUTO)
        return "?";
    if ((code & STRATA_TRANSFORM_LOG1P) && base < STRATA_TRANSFORM_AUTO)
        return LOG[base];
    return BASE[base].name;
}

void cli_scaling_free(cli_scaling *s)
{
    free(s->transform);
    free(s->center);
    free(s->scale);
    free(s->x);
    *s = (cli_scaling){0};
}

int cli_scale(int transform, const double *x, int64_t n, int64_t d, const char *const *names,
              cli_scaling *s)
{
    *s = (cli_scaling){.d = d};
    strata_model *m = NULL;
    int st = strata_model_create(&m);
    if (st)
        return cli_library_error(st, strata_last_error());
    strata_kmeans *km = strata_model_kmeans(m);
    int rc = CLI_OK;
    s->transform = malloc((size_t)d * sizeof *s->transform);
    s->center = malloc((size_t)d * sizeof *s->center);
    s->scale = malloc((size_t)d * sizeof *s->scale);
    s->x = malloc((size_t)n * (size_t)d * sizeof *s->x);
    if (!s->transform || !s->center || !s->scale || !s->x)
        rc = cli_error(CLI_RUNTIME, "out of memory for %lld scaled rows", (long long)n);
    /* k = 1: the cheapest fit that leaves the transform fitted */
    else if ((st = strata_kmeans_set_int(km, STRATA_KMEANS_K, 1)))
        rc = cli_library_error(st, strata_kmeans_last_error(km));
    else if ((st = strata_model_set_transform(m, -1, transform)) ||
             (st = strata_model_fit(m, x, n, d, 0, names, NULL)) ||
             (st = strata_model_scale(m, x, n, d, 0, s->x)) ||
             (st = strata_model_transform_params(m, s->transform, s->center, s->scale)))
        rc = cli_library_error(st, strata_last_error()); /* scale, transform_params: const calls */
    strata_model_free(m);
    if (rc)
        cli_scaling_free(s);
    return rc;
}

int cli_out_transform(strata_out *w, const cli_scaling *s, const char *requested)
{
    int64_t d = s->d;
    int32_t *log = malloc((size_t)d * sizeof *log);
    const char **method = malloc((size_t)d * sizeof *method);
    int st = log && method ? STRATA_OK : STRATA_E_NOMEM;
    for (int64_t j = 0; j < d && !st; j++) {
        log[j] = (s->transform[j] & STRATA_TRANSFORM_LOG1P) != 0;
        method[j] = cli_transform_name(s->transform[j]);
    }
    if (!st)
        st = strata_out_column_double(w, "/transform/center", s->center, d);
    if (!st)
        st = strata_out_column_double(w, "/transform/scale", s->scale, d);
    if (!st)
        st = strata_out_column_int32(w, "/transform/log1p", log, d);
    if (!st)
        st = strata_out_strings(w, "/transform/method", NULL, method, d);
    if (!st)
        st = strata_out_attr_string(w, "/transform", "transform", requested);
    free(log);
    free(method);
    return st;
}
