/* strata rfm: RFM scores and segments from a transaction log in HDF5. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "rfm_options.h"
#ifdef STRATA_CLI_MPI
#include "strata_mpi.h"
#endif

static const char HELP[] =
    "usage: strata rfm IN.h5 --customer DS --time DS --amount DS -o OUT.h5 [options]\n"
    "\n"
    "Aggregate a transaction log into one row per customer - recency, frequency,\n"
    "monetary - score each in 1..Q by quantile bins (recency reversed: the most\n"
    "recent score Q), name the segments and profile them. The columns are 1-D\n"
    "numeric datasets of equal length (integer or float; times as integer days\n"
    "or Unix seconds), or, with --table, fields of a 1-D compound dataset (as\n"
    "h5py, PyTables or pandas' to_hdf(format=\"table\") write; pandas' columns\n"
    "packed in values_block_<i> fields are found by name too), or columns of a\n"
    "frame pandas' to_hdf() wrote in its default fixed format (--table KEY).\n"
    "\n"
    "OUT.h5 holds, sorted by customer id: /customer_id, /recency, /frequency,\n"
    "/monetary, /revenue, /first_day, /tenure, /r, /f, /m, /code, /score and\n"
    "/segment (attribute \"names\"); /profile/* (one row per segment); /edges/*\n"
    "(the Q + 1 bin edges of each metric); the cleaning counts and settings as\n"
    "root attributes. IN.h5 is only read. On any error nothing is left at OUT.h5.\n"
    "\n" RFM_OPTIONS_HELP
    "other:\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    CLI_PROGRESS_HELP
    "  --force            replace OUT.h5 if it exists: a regular file only, never\n"
    "                     one of the inputs; it keeps its permissions and owner\n"
    "  -h, --help         show this help\n"
    "\n"
    CLI_EXIT_HELP;

typedef struct options {
    const char *input, *output;
    rfm_options rfm;
    int64_t threads;
    int force, help;
} options;

enum { OPT_THREADS = RFM_OPT_END, OPT_FORCE };

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        RFM_LONG_OPTIONS,
        {"threads", required_argument, NULL, OPT_THREADS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        CLI_PROGRESS_OPTIONS,
        {NULL, 0, NULL, 0}};
    *o = (options){0};
    rfm_options_init(&o->rfm);
    o->rfm.memory = -1; /* until --memory sets it; then $STRATA_RFM_MEMORY is not read */
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_FORCE: o->force = 1; break;
        default:
            if (!cli_progress_option(c, optarg, &rc) && (rc = rfm_option(c, optarg, &o->rfm)) < 0)
                rc = cli_bad_option("rfm", c, argv);
        }
    }
    if (!rc && o->rfm.memory < 0) { /* the default, a junk value an error only then */
        o->rfm.memory = 0;
        rc = cli_size_from_env("STRATA_RFM_MEMORY", &o->rfm.memory);
    }
    if (rc || o->help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "IN.h5", "rfm", &o->input)))
        return rc;
    if ((rc = rfm_options_check(&o->rfm)))
        return rc;
    if (!o->output)
        return cli_error(CLI_USAGE, "missing -o OUT.h5 (output file)");
    return CLI_OK;
}

static int64_t result(strata_rfm *h, int key)
{
    int64_t v = 0;
    if (strata_rfm_result_int(h, key, &v) != STRATA_OK)
        v = -1;
    return v;
}

/* The cleaning report: one line per reason, "kept" or "dropped" as the policy says. */
void cli_rfm_print_report(strata_rfm *h)
{
    int64_t neg_policy = 0, zero_policy = 0, dup_policy = 0;
    (void)!strata_rfm_get_int(h, STRATA_RFM_NEGATIVE, &neg_policy);
    (void)!strata_rfm_get_int(h, STRATA_RFM_ZERO, &zero_policy);
    (void)!strata_rfm_get_int(h, STRATA_RFM_DUPLICATES, &dup_policy);
    printf("  rows %lld, used %lld, customers %lld\n", (long long)result(h, STRATA_RFM_RESULT_ROWS),
           (long long)result(h, STRATA_RFM_RESULT_ROWS_USED), (long long)result(h, STRATA_RFM_RESULT_CUSTOMERS));
    printf("  cleaning: %lld missing/invalid customer id (dropped), %lld day out of range "
           "(dropped), %lld NaN/infinite amount (dropped),\n"
           "            %lld negative amount (%s), %lld zero amount (%s), %lld exact duplicate "
           "(%s), %lld of customers with returns only (dropped)\n",
           (long long)result(h, STRATA_RFM_RESULT_BAD_ID), (long long)result(h, STRATA_RFM_RESULT_BAD_TIME),
           (long long)result(h, STRATA_RFM_RESULT_BAD_AMOUNT),
           (long long)result(h, STRATA_RFM_RESULT_NEGATIVE_ROWS),
           neg_policy == STRATA_RFM_NET ? "netted" : "dropped",
           (long long)result(h, STRATA_RFM_RESULT_ZERO_ROWS),
           zero_policy == STRATA_RFM_DROP ? "dropped" : "kept",
           (long long)result(h, STRATA_RFM_RESULT_DUPLICATE_ROWS),
           dup_policy == STRATA_RFM_DROP ? "dropped" : "kept",
           (long long)result(h, STRATA_RFM_RESULT_RETURN_ONLY_ROWS));
    /* Days in the millions are no calendar days in any epoch in use (the
     * year 10,000 is day 2,932,897 from 1970): Unix seconds read as days
     * give recencies in the millions, without an error. */
    int64_t unit = STRATA_RFM_TIME_DAYS;
    (void)!strata_rfm_get_int(h, STRATA_RFM_TIME_UNIT, &unit);
    const int64_t last = result(h, STRATA_RFM_RESULT_LAST_DAY);
    if (unit == STRATA_RFM_TIME_DAYS && (last > 3000000 || last < -3000000))
        fprintf(stderr, "strata: warning: the times were read as days, and the last purchase is "
                "on day %lld, beyond the year 10,000: if they are Unix seconds, give "
                "--time-unit seconds\n", (long long)last);
}

/* The segment table: size, shares, means and medians, rule order. */
int cli_rfm_print_segments(strata_rfm *h)
{
    int64_t nseg = result(h, STRATA_RFM_RESULT_SEGMENTS);
    double *p = malloc((size_t)(nseg > 0 ? nseg : 1) * 10 * sizeof *p);
    if (!p)
        return cli_error(CLI_RUNTIME, "out of memory");
    for (int s = 0; s < 10; s++)
        if (strata_rfm_profile(h, s, p + s * nseg, nseg) != STRATA_OK) {
            free(p);
            return cli_library_error(STRATA_E_INTERNAL, strata_last_error());
        }
    printf("  %-20s %10s %7s %8s %9s %7s %9s %7s %11s %11s\n", "segment", "customers", "share",
           "revenue", "recency", "(med)", "frequency", "(med)", "monetary", "(med)");
    for (int64_t s = 0; s < nseg; s++) {
        double *c = p + s;
#define STAT(k) c[(k) * nseg]
        printf("  %-20s %10lld %6.1f%% %7.1f%% %9.1f %7.1f %9.2f %7.1f %11.2f %11.2f\n",
               strata_rfm_segment_name(h, s), (long long)STAT(STRATA_RFM_STAT_COUNT),
               100 * STAT(STRATA_RFM_STAT_CUSTOMER_SHARE), 100 * STAT(STRATA_RFM_STAT_REVENUE_SHARE),
               STAT(STRATA_RFM_STAT_MEAN_RECENCY), STAT(STRATA_RFM_STAT_MEDIAN_RECENCY),
               STAT(STRATA_RFM_STAT_MEAN_FREQUENCY), STAT(STRATA_RFM_STAT_MEDIAN_FREQUENCY),
               STAT(STRATA_RFM_STAT_MEAN_MONETARY), STAT(STRATA_RFM_STAT_MEDIAN_MONETARY));
#undef STAT
    }
    int64_t unmatched = result(h, STRATA_RFM_RESULT_UNMATCHED);
    if (unmatched > 0)
        printf("  %lld customers matched no segment rule\n", (long long)unmatched);
    free(p);
    return CLI_OK;
}

static int run(strata_rfm *h, const options *o)
{
    const rfm_options *r = &o->rfm;
    int rc = rfm_configure(h, r);
    if (rc)
        return rc;
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_THREADS, o->threads));
    RFM_TRY(h, strata_rfm_set_progress(h, cli_progress_step, NULL));
    cli_progress_begin("rfm");
    double t0 = cli_now();
#ifdef STRATA_CLI_MPI
    /* strata-mpi: distributed over MPI_COMM_WORLD; rank 0 holds every
     * customer afterwards and writes the file (docs/distributed.md) */
    RFM_TRY(h, strata_rfm_fit_h5_mpi(h, MPI_COMM_WORLD, o->input, r->table, r->customer, r->time,
                                     r->amount));
#else
    RFM_TRY(h, strata_rfm_fit_h5(h, o->input, r->table, r->customer, r->time, r->amount));
#endif
    double seconds = cli_now() - t0;
    char *source = rfm_source(o->input, r);
    if (!source)
        return cli_error(CLI_RUNTIME, "out of memory");
#ifdef STRATA_CLI_MPI
    int st = strata_rfm_write_h5_mpi(h, MPI_COMM_WORLD, o->output, source,
                                     o->force ? STRATA_WRITE_FORCE : 0);
#else
    int st = strata_rfm_write_h5(h, o->output, source, o->force ? STRATA_WRITE_FORCE : 0);
#endif
    free(source);
    if (st != STRATA_OK)
        return cli_library_error(st, strata_rfm_last_error(h));
    cli_progress_end();
    printf("strata rfm: %s -> %s\n", o->input, o->output);
    cli_rfm_print_report(h);
    char first[CLI_DAY_TEXT], last[CLI_DAY_TEXT], ref[CLI_DAY_TEXT];
    printf("  days %s..%s, reference day %s; %lld bins, ties %s (bins produced: R %lld, "
           "F %lld, M %lld); %.2f s (read + aggregate + score)\n",
           cli_day_text(result(h, STRATA_RFM_RESULT_FIRST_DAY), first),
           cli_day_text(result(h, STRATA_RFM_RESULT_LAST_DAY), last),
           cli_day_text(result(h, STRATA_RFM_RESULT_REFERENCE_DAY_USED), ref), (long long)r->bins,
           r->ties == STRATA_RFM_TIES_VALUE ? "value" : r->ties == STRATA_RFM_TIES_EDGES ? "edges"
                                                                                     : "rank",
           (long long)result(h, STRATA_RFM_RESULT_BINS_R), (long long)result(h, STRATA_RFM_RESULT_BINS_F),
           (long long)result(h, STRATA_RFM_RESULT_BINS_M), seconds);
    return cli_rfm_print_segments(h);
}

int cmd_rfm(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help)
            fputs(HELP, stdout);
        return rc;
    }
    const cli_input inputs[] = {{o.input, "input file"}, {o.rfm.segments, "--segments file"}};
    if ((rc = cli_check_files(inputs, 2, o.output, o.force)))
        return rc;
    strata_rfm *h = NULL;
    int st = strata_rfm_create(&h);
    rc = st ? cli_library_error(st, strata_last_error()) : run(h, &o);
    strata_rfm_free(h);
    return rc;
}
