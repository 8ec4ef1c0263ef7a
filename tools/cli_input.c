/* The shared feature input of the strata commands (cli_input.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cli_progress.h"

const char CLI_INPUT_HELP[] =
    "input (IN.h5:/dataset, or IN.h5 with --columns or --table):\n"
    "  IN.h5:/dataset     an n x d numeric matrix (rows = customers); feature names\n"
    "                     are not read in this form\n"
    "  --columns A,B,...  1-D numeric datasets of equal length, one per feature\n"
    "                     (e.g. /customers/recency,/customers/frequency); named by\n"
    "                     their last part\n"
    "  --table T          a table: a 1-D compound dataset, a pandas frame written by\n"
    "                     to_hdf(key=T) (table or fixed format) or a group of 1-D\n"
    "                     datasets (/ of a `strata rfm` output); every numeric\n"
    "                     column but the key unless --features is given (pandas\n"
    "                     dates, durations and categories are no features;\n"
    "                     bools are features of 0 and 1)\n"
    "  --features A,B,... the table's columns to use (with --table)\n"
    "                     (--columns, --features: a ',' or '\\' within a name is\n"
    "                     written '\\,' or '\\\\', as strata info lists names)\n"
    "  --key K            the row key (customer id): a dataset (--columns; a name\n"
    "                     without / is looked up beside the first column) or a\n"
    "                     column or pandas index (--table); none for no key.\n"
    "                     Default: customer_id if there is one of integers (keys\n"
    "                     are integers: string ids are no key, and OUT.h5 then\n"
    "                     has the labels in the input's row order only)\n";

int cli_input_option(cli_features *in, int opt, const char *arg)
{
    switch (opt) {
    case CLI_OPT_COLUMNS: in->columns = arg; return 1;
    case CLI_OPT_TABLE: in->table = arg; return 1;
    case CLI_OPT_FEATURES: in->features = arg; return 1;
    case CLI_OPT_KEY: in->key = arg; return 1;
    default: return 0;
    }
}

/* Split text into in->list at its commas, "\\," and "\\\\" in a name
 * standing for ',' and '\\' (cli_next_name, as strata info lists columns);
 * empty items are a usage error. */
static int split_list(cli_features *in, const char *option, const char *text)
{
    int64_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ','; /* at least the names */
    const size_t cap = strlen(text) + 1;
    in->list = calloc((size_t)count, sizeof *in->list);
    char *name = malloc(cap);
    if (!in->list || !name) {
        free(name);
        return cli_error(CLI_RUNTIME, "out of memory");
    }
    const char *p = text;
    int sep = 1, rc = CLI_OK;
    for (long len; !rc && sep;) {
        len = cli_next_name(&p, name, cap, &sep);
        if (len <= 0)
            rc = cli_error(CLI_USAGE, "%s: empty name in '%s'", option, text);
        else if (!(in->list[in->nlist++] = strdup(name)))
            rc = cli_error(CLI_RUNTIME, "out of memory");
    }
    free(name);
    return rc;
}

int cli_input_finish(cli_features *in, const char *input)
{
    in->input = input;
    if (in->columns && in->table)
        return cli_error(CLI_USAGE, "give --columns or --table, not both");
    if (in->features && !in->table)
        return cli_error(CLI_USAGE, "--features picks columns of a --table");
    if (!in->columns && !in->table) {
        if (in->key)
            return cli_error(CLI_USAGE, "--key needs --columns or --table (a matrix "
                             "IN.h5:/dataset has no key)");
        int rc = cli_split_target(input, &in->file, &in->dataset);
        if (rc == CLI_USAGE)
            return cli_error(rc, "input must look like IN.h5:/path/to/dataset, or IN.h5 with "
                             "--columns or --table, got '%s'", input);
        return rc;
    }
    if (!(in->file = strdup(input)))
        return cli_error(CLI_RUNTIME, "out of memory");
    const char *list = in->columns ? in->columns : in->features;
    int rc = list ? split_list(in, in->columns ? "--columns" : "--features", list) : CLI_OK;
    if (rc)
        return rc;
    size_t len = strlen(input) + strlen(in->columns ? in->columns : in->table) +
                 (in->features ? strlen(in->features) : 0) + (in->key ? strlen(in->key) : 0) + 64;
    if (!(in->source = malloc(len)))
        return cli_error(CLI_RUNTIME, "out of memory");
    snprintf(in->source, len, "%s %s %s%s%s%s%s", input, in->columns ? "--columns" : "--table",
             in->columns ? in->columns : in->table, in->features ? " --features " : "",
             in->features ? in->features : "", in->key ? " --key " : "", in->key ? in->key : "");
    return CLI_OK;
}

/* --key as the library takes it: NULL (default), "" (none) or the name. */
static const char *key_arg(const cli_features *in)
{
    return !in->key ? NULL : !strcmp(in->key, "none") ? "" : in->key;
}

int cli_input_read(const cli_features *in, strata_frame **out)
{
    const char *key = key_arg(in);
    const char *const *list = (const char *const *)in->list;
    cli_progress_note(STRATA_STEP_READ, 0, 1);
    int st = in->columns
                 ? strata_frame_read_columns(out, in->file, list, in->nlist, key)
                 : strata_frame_read_table(out, in->file, in->table, in->features ? list : NULL,
                                           in->features ? in->nlist : 0, key);
    if (!st)
        cli_progress_note(STRATA_STEP_READ, 1, 1);
    return st ? cli_library_error(st, strata_last_error()) : CLI_OK;
}

int cli_input_fit(const cli_features *in, strata_kmeans *km)
{
    const char *key = key_arg(in);
    const char *const *list = (const char *const *)in->list;
    return in->columns ? strata_kmeans_fit_h5_columns(km, in->file, list, in->nlist, key)
                       : strata_kmeans_fit_h5_table(km, in->file, in->table,
                                                    in->features ? list : NULL,
                                                    in->features ? in->nlist : 0, key);
}

int cli_input_predict(const cli_features *in, strata_model *m, const char *output, int flags,
                      int64_t *counts)
{
    const char *key = key_arg(in);
    const char *const *list = (const char *const *)in->list;
    return strata_model_predict_h5_table(m, in->file, in->columns ? NULL : in->table,
                                         in->columns || in->features ? list : NULL,
                                         in->columns || in->features ? in->nlist : 0, key,
                                         output, in->source ? in->source : in->input, flags,
                                         counts);
}

void cli_input_free(cli_features *in)
{
    for (int64_t i = 0; in->list && i < in->nlist; i++)
        free(in->list[i]);
    free(in->list);
    free(in->file);
    free(in->source);
    in->list = NULL;
    in->file = in->source = NULL;
}
