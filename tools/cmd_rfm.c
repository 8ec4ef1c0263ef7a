/* strata rfm: RFM scores and segments from a transaction log in HDF5. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    "\n"
    "columns:\n"
    "  --customer DS      customer ids (integers; NaN in a float column = missing)\n"
    "  --time DS          purchase times: days (default) or Unix seconds\n"
    "  --amount DS        amounts\n"
    "  --table DS         read the three as fields of this compound dataset, or\n"
    "                     as columns of the pandas frame stored under key DS (/tx)\n"
    "  -o OUT.h5          output file (required); an existing file is kept unless --force\n"
    "scoring:\n"
    "  --bins Q           score bins, 2..100 (default 5)\n"
    "  --ties POLICY      rank (default: equal-count bins, ties by customer id, as\n"
    "                     pandas' qcut(rank(method=\"first\"))), value (equal values\n"
    "                     share a bin; maybe fewer bins), or edges (given below)\n"
    "  --recency-edges C1,C2,...   Q - 1 increasing cut points of each metric for\n"
    "  --frequency-edges ...       --ties edges (bins are right-closed: recency\n"
    "  --monetary-edges ...        <= C1 scores Q)\n"
    "  --segments FILE    your own segment rules instead of the 11-segment map, one\n"
    "                     per line, first match wins: 'NAME: r=4-5 f=3-5 m=4'\n"
    "                     (score or LO-HI for r, f, m and fm = (f + m + 1) / 2;\n"
    "                     a missing one matches any score; '#' starts a comment)\n"
    "aggregation:\n"
    "  --reference-day D  day recency is measured to (default: the day after the\n"
    "                     last purchase, so a purchase on the last day has recency 1)\n"
    "  --time-unit U      days (default) or seconds (day = floor(t / 86400))\n"
    "  --frequency F      rows (default: purchases) or days (distinct purchase days)\n"
    "  --monetary M       sum (default: total spend) or mean (per purchase)\n"
    "cleaning (every dropped row is counted and reported):\n"
    "  --negative P       drop (default) or net: negative amounts are returns that\n"
    "                     reduce the total spend\n"
    "  --zero P           keep (default: zero amounts are purchases) or drop\n"
    "  --duplicates P     keep (default) or drop exact duplicate rows\n"
    "  --min-day D, --max-day D   valid day range (default: any 32-bit day)\n"
    "  --min-id I         smallest valid customer id (default 0)\n"
    "other:\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  --force            replace OUT.h5 if it exists: a regular file only, never\n"
    "                     one of the inputs; it keeps its permissions and owner\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists (no --force)\n";

typedef struct options {
    const char *input, *output, *customer, *time, *amount, *table, *segments;
    const char *edges[3];
    int64_t bins, ties, reference_day, time_unit, frequency, monetary, negative, zero,
        duplicates, threads, min_id;
    int64_t min_day, max_day;
    int has_min_day, has_max_day, has_reference, force, help;
} options;

enum {
    OPT_CUSTOMER = 256, OPT_TIME, OPT_AMOUNT, OPT_TABLE, OPT_BINS, OPT_TIES, OPT_REF,
    OPT_UNIT, OPT_FREQ, OPT_MON, OPT_NEG, OPT_ZERO, OPT_DUP, OPT_MIN_DAY, OPT_MAX_DAY,
    OPT_MIN_ID, OPT_THREADS, OPT_FORCE, OPT_REDGES, OPT_FEDGES, OPT_MEDGES, OPT_SEGMENTS
};

/* A named choice: sets *out to the value of `text` among names, else a usage error. */
static int choose(const char *option, const char *text, const char *const *names,
                  const int64_t *values, int count, int64_t *out)
{
    char list[128] = "";
    for (int i = 0; i < count; i++) {
        if (!strcmp(text, names[i])) {
            *out = values[i];
            return CLI_OK;
        }
        strcat(list, i ? (i + 1 == count ? " or " : ", ") : "");
        strcat(list, names[i]);
    }
    return cli_error(CLI_USAGE, "%s must be %s, got '%s'", option, list, text);
}

#define CHOICE(option, out, count, ...) choose(option, optarg, __VA_ARGS__, count, out)

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"time", required_argument, NULL, OPT_TIME},
        {"amount", required_argument, NULL, OPT_AMOUNT},
        {"table", required_argument, NULL, OPT_TABLE},
        {"bins", required_argument, NULL, OPT_BINS},
        {"ties", required_argument, NULL, OPT_TIES},
        {"reference-day", required_argument, NULL, OPT_REF},
        {"time-unit", required_argument, NULL, OPT_UNIT},
        {"frequency", required_argument, NULL, OPT_FREQ},
        {"monetary", required_argument, NULL, OPT_MON},
        {"negative", required_argument, NULL, OPT_NEG},
        {"zero", required_argument, NULL, OPT_ZERO},
        {"duplicates", required_argument, NULL, OPT_DUP},
        {"min-day", required_argument, NULL, OPT_MIN_DAY},
        {"max-day", required_argument, NULL, OPT_MAX_DAY},
        {"min-id", required_argument, NULL, OPT_MIN_ID},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"recency-edges", required_argument, NULL, OPT_REDGES},
        {"frequency-edges", required_argument, NULL, OPT_FEDGES},
        {"monetary-edges", required_argument, NULL, OPT_MEDGES},
        {"segments", required_argument, NULL, OPT_SEGMENTS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (options){.bins = 5, .negative = STRATA_RFM_DROP, .zero = STRATA_RFM_KEEP,
                   .duplicates = STRATA_RFM_KEEP};
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_CUSTOMER: o->customer = optarg; break;
        case OPT_TIME: o->time = optarg; break;
        case OPT_AMOUNT: o->amount = optarg; break;
        case OPT_TABLE: o->table = optarg; break;
        case OPT_BINS: rc = cli_parse_int("--bins", optarg, 2, &o->bins); break;
        case OPT_TIES:
            rc = CHOICE("--ties", &o->ties, 3, (const char *const[]){"rank", "value", "edges"},
                        (const int64_t[]){STRATA_RFM_TIES_RANK, STRATA_RFM_TIES_VALUE,
                                          STRATA_RFM_TIES_EDGES});
            break;
        case OPT_REF:
            rc = cli_parse_int("--reference-day", optarg, INT64_MIN + 1, &o->reference_day);
            o->has_reference = 1;
            break;
        case OPT_UNIT:
            rc = CHOICE("--time-unit", &o->time_unit, 2, (const char *const[]){"days", "seconds"},
                        (const int64_t[]){STRATA_RFM_TIME_DAYS, STRATA_RFM_TIME_SECONDS});
            break;
        case OPT_FREQ:
            rc = CHOICE("--frequency", &o->frequency, 2, (const char *const[]){"rows", "days"},
                        (const int64_t[]){STRATA_RFM_COUNT_ROWS, STRATA_RFM_COUNT_DAYS});
            break;
        case OPT_MON:
            rc = CHOICE("--monetary", &o->monetary, 2, (const char *const[]){"sum", "mean"},
                        (const int64_t[]){STRATA_RFM_SUM, STRATA_RFM_MEAN});
            break;
        case OPT_NEG:
            rc = CHOICE("--negative", &o->negative, 2, (const char *const[]){"drop", "net"},
                        (const int64_t[]){STRATA_RFM_DROP, STRATA_RFM_NET});
            break;
        case OPT_ZERO:
            rc = CHOICE("--zero", &o->zero, 2, (const char *const[]){"keep", "drop"},
                        (const int64_t[]){STRATA_RFM_KEEP, STRATA_RFM_DROP});
            break;
        case OPT_DUP:
            rc = CHOICE("--duplicates", &o->duplicates, 2, (const char *const[]){"keep", "drop"},
                        (const int64_t[]){STRATA_RFM_KEEP, STRATA_RFM_DROP});
            break;
        case OPT_MIN_DAY:
            rc = cli_parse_int("--min-day", optarg, INT64_MIN + 1, &o->min_day);
            o->has_min_day = 1;
            break;
        case OPT_MAX_DAY:
            rc = cli_parse_int("--max-day", optarg, INT64_MIN + 1, &o->max_day);
            o->has_max_day = 1;
            break;
        case OPT_MIN_ID: rc = cli_parse_int("--min-id", optarg, INT64_MIN + 1, &o->min_id); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_REDGES: o->edges[STRATA_RFM_RECENCY] = optarg; break;
        case OPT_FEDGES: o->edges[STRATA_RFM_FREQUENCY] = optarg; break;
        case OPT_MEDGES: o->edges[STRATA_RFM_MONETARY] = optarg; break;
        case OPT_SEGMENTS: o->segments = optarg; break;
        case OPT_FORCE: o->force = 1; break;
        default: rc = cli_bad_option("rfm", c, argv);
        }
    }
    if (rc || o->help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "IN.h5", "rfm", &o->input)))
        return rc;
    if (!o->customer || !o->time || !o->amount)
        return cli_error(CLI_USAGE, "missing --%s (each of --customer, --time and --amount is "
                         "needed)", !o->customer ? "customer" : !o->time ? "time" : "amount");
    if (!o->output)
        return cli_error(CLI_USAGE, "missing -o OUT.h5 (output file)");
    int any_edges = o->edges[0] || o->edges[1] || o->edges[2];
    if (any_edges != (o->ties == STRATA_RFM_TIES_EDGES))
        return cli_error(CLI_USAGE, any_edges ? "--*-edges need --ties edges"
                                              : "--ties edges needs --recency-edges, "
                                                "--frequency-edges and --monetary-edges");
    return CLI_OK;
}

#define TRY(h, call)                                                              \
    do {                                                                          \
        int st_ = (call);                                                         \
        if (st_ != STRATA_OK)                                                     \
            return cli_library_error(st_, strata_rfm_last_error(h));              \
    } while (0)

/* "30,90,180" into the metric's cut points. */
static int set_edges(strata_rfm *h, int metric, const char *option, const char *text)
{
    double cuts[100];
    int64_t n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        if (n == 100)
            return cli_error(CLI_USAGE, "%s: at most 99 cut points", option);
        cuts[n] = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(cuts[n]))
            return cli_error(CLI_USAGE, "%s must be numbers separated by commas, got '%s'",
                             option, text);
        n++;
        p = *end ? end + 1 : end;
    }
    TRY(h, strata_rfm_set_edges(h, metric, cuts, n));
    return CLI_OK;
}

/* Read a --segments file (the rule format of strata_rfm_set_segments_text)
 * and set its rules; messages name the file and line as "PATH:LINE: ...". */
static int set_segments(strata_rfm *h, const char *path)
{
    enum { MAX_BYTES = 1 << 20 };
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error(CLI_RUNTIME, "cannot read --segments file '%s': %s", path,
                         strerror(errno));
    char *text = malloc(MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, MAX_BYTES + 1, f) : 0;
    int failed = !text || ferror(f);
    fclose(f);
    int rc = CLI_OK;
    if (failed)
        rc = cli_error(CLI_RUNTIME, "cannot read --segments file '%s'", path);
    else if (len > MAX_BYTES)
        rc = cli_error(CLI_USAGE, "--segments file '%s' is larger than 1 MiB", path);
    else if (memchr(text, '\0', len))
        rc = cli_error(CLI_USAGE, "--segments file '%s' holds a NUL byte: not a text file", path);
    if (!rc) {
        text[len] = '\0';
        int st = strata_rfm_set_segments_text(h, text);
        const char *m = strata_rfm_last_error(h);
        long long line;
        int at = 0;
        if (st == STRATA_OK)
            rc = CLI_OK;
        else if (st == STRATA_E_NOMEM)
            rc = cli_error(CLI_RUNTIME, "--segments '%s': %s", path, m);
        else if (sscanf(m, "line %lld: %n", &line, &at) == 1 && at > 0)
            rc = cli_error(CLI_USAGE, "%s:%lld: %s", path, line, m + at);
        else if (strstr(m, "no segment rules"))
            rc = cli_error(CLI_USAGE, "--segments file '%s' holds no rules", path);
        else
            rc = cli_error(CLI_USAGE, "--segments '%s': %s", path, m);
    }
    free(text);
    return rc;
}

static int configure(strata_rfm *h, const options *o)
{
    static const char *const EDGE_OPTION[3] = {"--recency-edges", "--frequency-edges",
                                               "--monetary-edges"};
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_BINS, o->bins));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_TIES, o->ties));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_TIME_UNIT, o->time_unit));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_FREQUENCY_MODE, o->frequency));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_MONETARY_MODE, o->monetary));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_NEGATIVE, o->negative));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_ZERO, o->zero));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_DUPLICATES, o->duplicates));
    TRY(h, strata_rfm_set_int(h, STRATA_RFM_MIN_ID, o->min_id));
    TRY(h, strata_rfm_set_int(h, STRATA_THREADS, o->threads));
    if (o->has_reference)
        TRY(h, strata_rfm_set_int(h, STRATA_RFM_REFERENCE_DAY, o->reference_day));
    if (o->has_min_day)
        TRY(h, strata_rfm_set_int(h, STRATA_RFM_MIN_DAY, o->min_day));
    if (o->has_max_day)
        TRY(h, strata_rfm_set_int(h, STRATA_RFM_MAX_DAY, o->max_day));
    for (int k = 0; k < 3; k++) {
        int rc = o->edges[k] ? set_edges(h, k, EDGE_OPTION[k], o->edges[k]) : CLI_OK;
        if (rc)
            return rc;
    }
    return o->segments ? set_segments(h, o->segments) : CLI_OK;
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
    printf("  rows %lld, used %lld, customers %lld\n", (long long)result(h, STRATA_RFM_ROWS),
           (long long)result(h, STRATA_RFM_ROWS_USED), (long long)result(h, STRATA_RFM_CUSTOMERS));
    printf("  cleaning: %lld missing/invalid customer id (dropped), %lld day out of range "
           "(dropped), %lld NaN/infinite amount (dropped),\n"
           "            %lld negative amount (%s), %lld zero amount (%s), %lld exact duplicate "
           "(%s), %lld of customers with returns only (dropped)\n",
           (long long)result(h, STRATA_RFM_BAD_ID), (long long)result(h, STRATA_RFM_BAD_TIME),
           (long long)result(h, STRATA_RFM_BAD_AMOUNT),
           (long long)result(h, STRATA_RFM_NEGATIVE_ROWS),
           neg_policy == STRATA_RFM_NET ? "netted" : "dropped",
           (long long)result(h, STRATA_RFM_ZERO_ROWS),
           zero_policy == STRATA_RFM_DROP ? "dropped" : "kept",
           (long long)result(h, STRATA_RFM_DUPLICATE_ROWS),
           dup_policy == STRATA_RFM_DROP ? "dropped" : "kept",
           (long long)result(h, STRATA_RFM_RETURN_ONLY_ROWS));
}

/* The segment table: size, shares, means and medians, rule order. */
int cli_rfm_print_segments(strata_rfm *h)
{
    int64_t nseg = result(h, STRATA_RFM_SEGMENTS);
    double *p = malloc((size_t)(nseg > 0 ? nseg : 1) * 10 * sizeof *p);
    if (!p)
        return cli_error(CLI_RUNTIME, "out of memory");
    for (int s = 0; s < 10; s++)
        if (strata_rfm_profile(h, s, p + s * nseg, nseg) != STRATA_OK) {
            free(p);
            return cli_library_error(STRATA_E_INTERNAL, strata_rfm_last_error(h));
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
    int64_t unmatched = result(h, STRATA_RFM_UNMATCHED);
    if (unmatched > 0)
        printf("  %lld customers matched no segment rule\n", (long long)unmatched);
    free(p);
    return CLI_OK;
}

static int run(strata_rfm *h, const options *o)
{
    int rc = configure(h, o);
    if (rc)
        return rc;
    double t0 = cli_now();
    TRY(h, strata_rfm_fit_h5(h, o->input, o->table, o->customer, o->time, o->amount));
    double seconds = cli_now() - t0;
    size_t len = strlen(o->input) + strlen(o->customer) + strlen(o->time) + strlen(o->amount) +
                 (o->table ? strlen(o->table) : 0) + 16;
    char *source = malloc(len);
    if (!source)
        return cli_error(CLI_RUNTIME, "out of memory");
    if (o->table)
        snprintf(source, len, "%s:%s{%s,%s,%s}", o->input, o->table, o->customer, o->time,
                 o->amount);
    else
        snprintf(source, len, "%s:%s,%s,%s", o->input, o->customer, o->time, o->amount);
    int st = strata_rfm_write_h5(h, o->output, source, o->force ? STRATA_WRITE_FORCE : 0);
    free(source);
    if (st != STRATA_OK)
        return cli_library_error(st, strata_rfm_last_error(h));
    printf("strata rfm: %s -> %s\n", o->input, o->output);
    cli_rfm_print_report(h);
    printf("  days %lld..%lld, reference day %lld; %lld bins, ties %s (bins produced: R %lld, "
           "F %lld, M %lld); %.2f s (read + aggregate + score)\n",
           (long long)result(h, STRATA_RFM_FIRST_DAY), (long long)result(h, STRATA_RFM_LAST_DAY),
           (long long)result(h, STRATA_RFM_REFERENCE_DAY_USED), (long long)o->bins,
           o->ties == STRATA_RFM_TIES_VALUE ? "value" : o->ties == STRATA_RFM_TIES_EDGES ? "edges"
                                                                                     : "rank",
           (long long)result(h, STRATA_RFM_BINS_R), (long long)result(h, STRATA_RFM_BINS_F),
           (long long)result(h, STRATA_RFM_BINS_M), seconds);
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
    const cli_input inputs[] = {{o.input, "input file"}, {o.segments, "--segments file"}};
    if ((rc = cli_check_files(inputs, 2, o.output, o.force)))
        return rc;
    strata_rfm *h = NULL;
    int st = strata_rfm_create(&h);
    rc = st ? cli_library_error(st, strata_last_error()) : run(h, &o);
    strata_rfm_free(h);
    return rc;
}
