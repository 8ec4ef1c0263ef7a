/* The options of a transaction log and its RFM scoring, shared by the
 * commands that start from one (strata rfm, strata tiers): their help text,
 * parsing, checks and the configuration of a strata_rfm handle. */
#ifndef STRATA_TOOLS_RFM_OPTIONS_H
#define STRATA_TOOLS_RFM_OPTIONS_H

#include <stdint.h>

#include "cli.h"
#include "strata.h"

typedef struct rfm_options {
    const char *customer, *time, *amount, *table, *segments;
    const char *edges[3];
    int64_t bins, ties, reference_day, time_unit, frequency, monetary, negative, zero,
        duplicates, min_id, min_day, max_day, memory;
    const char *tmpdir;
    int has_min_day, has_max_day, has_reference;
} rfm_options;

/* getopt_long codes of the RFM options (a command's own codes start at
 * RFM_OPT_END). */
enum {
    RFM_OPT_CUSTOMER = 256, RFM_OPT_TIME, RFM_OPT_AMOUNT, RFM_OPT_TABLE, RFM_OPT_BINS,
    RFM_OPT_TIES, RFM_OPT_REF, RFM_OPT_UNIT, RFM_OPT_FREQ, RFM_OPT_MON, RFM_OPT_NEG,
    RFM_OPT_ZERO, RFM_OPT_DUP, RFM_OPT_MIN_DAY, RFM_OPT_MAX_DAY, RFM_OPT_MIN_ID, RFM_OPT_REDGES,
    RFM_OPT_FEDGES, RFM_OPT_MEDGES, RFM_OPT_SEGMENTS, RFM_OPT_MEMORY, RFM_OPT_TMPDIR, RFM_OPT_END
};

/* The struct option entries of the RFM options, for a command's table. */
#define RFM_LONG_OPTIONS                                                                   \
    {"customer", required_argument, NULL, RFM_OPT_CUSTOMER},                               \
        {"time", required_argument, NULL, RFM_OPT_TIME},                                   \
        {"amount", required_argument, NULL, RFM_OPT_AMOUNT},                               \
        {"table", required_argument, NULL, RFM_OPT_TABLE},                                 \
        {"bins", required_argument, NULL, RFM_OPT_BINS},                                   \
        {"ties", required_argument, NULL, RFM_OPT_TIES},                                   \
        {"reference-day", required_argument, NULL, RFM_OPT_REF},                           \
        {"time-unit", required_argument, NULL, RFM_OPT_UNIT},                              \
        {"frequency", required_argument, NULL, RFM_OPT_FREQ},                              \
        {"monetary", required_argument, NULL, RFM_OPT_MON},                                \
        {"negative", required_argument, NULL, RFM_OPT_NEG},                                \
        {"zero", required_argument, NULL, RFM_OPT_ZERO},                                   \
        {"duplicates", required_argument, NULL, RFM_OPT_DUP},                              \
        {"min-day", required_argument, NULL, RFM_OPT_MIN_DAY},                             \
        {"max-day", required_argument, NULL, RFM_OPT_MAX_DAY},                             \
        {"min-id", required_argument, NULL, RFM_OPT_MIN_ID},                               \
        {"recency-edges", required_argument, NULL, RFM_OPT_REDGES},                        \
        {"frequency-edges", required_argument, NULL, RFM_OPT_FEDGES},                      \
        {"monetary-edges", required_argument, NULL, RFM_OPT_MEDGES},                       \
        {"segments", required_argument, NULL, RFM_OPT_SEGMENTS},                           \
        {"memory", required_argument, NULL, RFM_OPT_MEMORY},                               \
        {"tmpdir", required_argument, NULL, RFM_OPT_TMPDIR}

/* The help text of those options (sections columns, scoring, aggregation,
 * cleaning). */
#define RFM_OPTIONS_HELP \
    "columns:\n" \
    "  --customer DS      customer ids (integers; NaN in a float column = missing)\n" \
    "  --time DS          purchase times: days (default) or Unix seconds\n" \
    "  --amount DS        amounts\n" \
    "  --table DS         read the three as fields of this compound dataset, or\n" \
    "                     as columns of the pandas frame stored under key DS (/tx)\n" \
    "  -o OUT.h5          output file (required); an existing file is kept unless --force\n" \
    "scoring:\n" \
    "  --bins Q           score bins, 2..100 (default 5)\n" \
    "  --ties POLICY      rank (default: equal-count bins, ties by customer id, as\n" \
    "                     pandas' qcut(rank(method=\"first\"))), value (equal values\n" \
    "                     share a bin; maybe fewer bins), or edges (given below)\n" \
    "  --recency-edges C1,C2,...   Q - 1 increasing cut points of each metric for\n" \
    "  --frequency-edges ...       --ties edges (bins are right-closed: recency\n" \
    "  --monetary-edges ...        <= C1 scores Q)\n" \
    "  --segments FILE    your own segment rules instead of the 11-segment map, one\n" \
    "                     per line, first match wins: 'NAME: r=4-5 f=3-5 m=4'\n" \
    "                     (score or LO-HI for r, f, m and fm = (f + m + 1) / 2;\n" \
    "                     a missing one matches any score; '#' starts a comment)\n" \
    "aggregation:\n" \
    "  --reference-day DAY  day recency is measured to (default: the day after the\n" \
    "                     last purchase, so a purchase on the last day has recency 1)\n" \
    CLI_DAY_HELP \
    "  --time-unit U      days (default) or seconds (day = floor(t / 86400))\n" \
    "  --frequency F      rows (default: purchases) or days (distinct purchase days)\n" \
    "  --monetary M       sum (default: total spend) or mean (per purchase)\n" \
    "cleaning (every dropped row is counted and reported):\n" \
    "  --negative P       drop (default) or net: negative amounts are returns that\n" \
    "                     reduce the total spend\n" \
    "  --zero P           keep (default: zero amounts are purchases) or drop\n" \
    "  --duplicates P     keep (default) or drop exact duplicate rows\n" \
    "  --min-day DAY, --max-day DAY   valid day range (default: any 32-bit day;\n" \
    "                     DAY as for --reference-day)\n" \
    "  --min-id I         smallest valid customer id (default 0)\n" \
    "memory:\n" \
    "  --memory SIZE      memory budget for reading the log: 2G, 1.5G, 512M, 100K or\n" \
    "                     bytes (default: $STRATA_RFM_MEMORY if set, else 0: no\n" \
    "                     limit). A log larger than SIZE / 100 rows is\n" \
    "                     aggregated out of core through temporary files, with the\n" \
    "                     same result; 24 MiB of SIZE go to the program itself,\n" \
    "                     and about 128 bytes per customer must fit beside them\n" \
    "  --tmpdir DIR       folder for those temporary files (default: $TMPDIR, else\n" \
    "                     /tmp); they are removed before the command ends\n"

/* Run a call on RFM handle h; on failure report h's message and return the
 * matching exit code from the enclosing function. */
#define RFM_TRY(h, call)                                                           \
    do {                                                                           \
        int st_ = (call);                                                          \
        if (st_ != STRATA_OK)                                                      \
            return cli_library_error(st_, strata_rfm_last_error(h));               \
    } while (0)

/* The defaults (5 bins, rank ties, negative amounts dropped, ...). */
void rfm_options_init(rfm_options *o);
/* Take option c (a getopt_long code) with its value arg: CLI_OK or
 * CLI_USAGE (printed); -1 when c is not an RFM option. */
int rfm_option(int c, const char *arg, rfm_options *o);
/* After parsing: the three columns given, edges only with --ties edges. */
int rfm_options_check(const rfm_options *o);
/* Set the handle's parameters from the options (not STRATA_THREADS). */
int rfm_configure(strata_rfm *h, const rfm_options *o);
/* "IN.h5:DS,DS,DS" or "IN.h5:TABLE{DS,DS,DS}" (malloc'ed; NULL when out of memory). */
char *rfm_source(const char *input, const rfm_options *o);

#endif
