/* The feature input every command that reads customer features shares
 * (strata kmeans today; sweep, predict and tiers later):
 *
 *   IN.h5:/dataset                           an n x d matrix (as before)
 *   IN.h5 --columns /a,/b,/c                 1-D datasets of equal length
 *   IN.h5 --table KEY [--features a,b,c]     a compound table, pandas frame
 *                                            or group of 1-D datasets
 *   --key DS                                 the row key ("none": no key;
 *                                            default: customer_id if present)
 *
 * Add CLI_INPUT_OPTIONS to the command's getopt_long() table, pass every
 * option getopt returns to cli_input_option() first, then call
 * cli_input_finish() with the positional argument. */
#ifndef STRATA_TOOLS_CLI_INPUT_H
#define STRATA_TOOLS_CLI_INPUT_H

#include "strata.h"

enum { CLI_OPT_COLUMNS = 1000, CLI_OPT_TABLE, CLI_OPT_FEATURES, CLI_OPT_KEY };

#define CLI_INPUT_OPTIONS                                       \
    {"columns", required_argument, NULL, CLI_OPT_COLUMNS},      \
    {"table", required_argument, NULL, CLI_OPT_TABLE},          \
    {"features", required_argument, NULL, CLI_OPT_FEATURES},    \
    {"key", required_argument, NULL, CLI_OPT_KEY}

/* The help lines describing the forms and options above. */
extern const char CLI_INPUT_HELP[];

typedef struct cli_features {
    const char *columns, *table, *features, *key; /* option values, NULL if not given */
    const char *input;    /* the positional argument */
    char *file;           /* the HDF5 file (malloc'ed) */
    const char *dataset;  /* matrix form: the dataset; NULL for the other forms */
    char **list;          /* --columns or --features split at ',' (malloc'ed) */
    int64_t nlist;
    char *source;         /* what to record as the input, e.g. "in.h5 --columns /a,/b" */
} cli_features;

/* 1 if opt is one of CLI_INPUT_OPTIONS (its value stored), else 0. */
int cli_input_option(cli_features *in, int opt, const char *arg);

/* Check the combination and split the input; prints a usage error and
 * returns CLI_USAGE (or CLI_RUNTIME when out of memory), else CLI_OK. */
int cli_input_finish(cli_features *in, const char *input);

/* Read the features of a --columns or --table input into *out; on failure
 * prints the library's message and returns the exit code. */
int cli_input_read(const cli_features *in, strata_frame **out);

/* Fit km to the features of a --columns or --table input
 * (strata_kmeans_fit_h5_columns() / _table(): loaded, or streamed under
 * km's memory budget). Returns the library's status (message in km). */
int cli_input_fit(const cli_features *in, strata_kmeans *km);

/* Assign the rows of a --columns or --table input to m's tiers and write
 * OUT.h5 (strata_model_predict_h5_table(): loaded, or streamed under the
 * model's k-means memory budget); counts gets the rows of each tier.
 * Returns the library's status (message in m and the thread's slot). */
int cli_input_predict(const cli_features *in, strata_model *m, const char *output, int flags,
                      int64_t *counts);

void cli_input_free(cli_features *in);

#endif
