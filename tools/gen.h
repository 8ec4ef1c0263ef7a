/* Synthetic data written as a stream (`strata gen`, `strata demo`): every
 * generator draws one random stream in order and writes through
 * strata_writer in blocks of block_rows rows, so memory stays at one block
 * whatever the size, and the same seed gives the same data whatever the
 * block size. Each writer returns a CLI exit code (errors printed). */
#ifndef STRATA_TOOLS_GEN_H
#define STRATA_TOOLS_GEN_H

#include <stdint.h>

#include "cli.h"

/* GEN_PANDAS: a frame of pandas' to_hdf(format="fixed"); GEN_PANDAS_TABLE:
 * of to_hdf(format="table", data_columns=True). */
enum { GEN_MATRIX, GEN_COLUMNS, GEN_COMPOUND, GEN_PANDAS, GEN_PANDAS_TABLE };

/* The day the generated logs end on: the customers' recency counts back from it. */
#define GEN_TODAY 20000

typedef struct gen_options {
    const char *output;
    int force;
    int64_t n;          /* rows (customers, blobs, transactions); -1: transactions implied */
    int64_t customers;  /* transactions: customers */
    int64_t d, k;       /* blobs */
    int64_t seed;
    int layout;         /* GEN_* */
    const char *name;   /* the dataset, table or group (no leading '/') */
    int dtype;          /* blobs: STRATA_FLOAT32 or STRATA_FLOAT64 */
    int customer_kind;  /* blobs: 1 skewed customer-like groups, 0 Gaussian blobs */
    int64_t block_rows;
    int64_t chunk_rows; /* rows per HDF5 chunk of the row datasets; 0: about 1 MiB */
    const char *source; /* the root attribute "source" */
    const char *command; /* the root attribute "command": the command line, shell-quoted */
    /* Called before each block with done of total units (customers, blobs:
     * rows of n; transactions: customers written of C, or with o->n >= 0 of
     * 2 C, its first pass over the customers sharing out the rows, reported
     * too: gen_transaction_units), and with total of total once the file is
     * in place; may be NULL. */
    void (*progress)(int64_t done, int64_t total);
} gen_options;

/* A gen_options.progress for the commands: the progress display's step
 * WRITE (cli_progress.h). */
void gen_show_write(int64_t done, int64_t total);
/* The total of those reports for transactions (customers, blobs: o->n). */
int64_t gen_transaction_units(const gen_options *o);

/* n customers of synth.h: customer_id 1..n, the 7 features (float32) and
 * /tier (int32, the latent tier; attribute "names"). */
int gen_customers(const gen_options *o, int64_t *bytes);
/* An n x d matrix of o->dtype and /group (int32, the latent group). */
int gen_blobs(const gen_options *o, int64_t *bytes);
/* The transaction log of o->customers customers (customer_id, day, amount):
 * o->n rows exactly, or the rows the customers imply (o->n = -1; *rows gets
 * the count). */
int gen_transactions(const gen_options *o, int64_t *rows, int64_t *bytes);

#endif
