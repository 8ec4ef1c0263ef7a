/* The options of a transaction log and its RFM scoring (tools/rfm_options.h). */
#include "rfm_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"


void rfm_options_init(rfm_options *o)
{
    *o = (rfm_options){.bins = 5, .negative = STRATA_RFM_DROP, .zero = STRATA_RFM_KEEP,
                       .duplicates = STRATA_RFM_KEEP};
}

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

#define CHOICE(option, out, count, ...) choose(option, arg, __VA_ARGS__, count, out)

int rfm_option(int c, const char *arg, rfm_options *o)
{
    int rc = CLI_OK;
    switch (c) {
        case RFM_OPT_CUSTOMER: o->customer = arg; break;
        case RFM_OPT_TIME: o->time = arg; break;
        case RFM_OPT_AMOUNT: o->amount = arg; break;
        case RFM_OPT_TABLE: o->table = arg; break;
        case RFM_OPT_BINS: rc = cli_parse_int("--bins", arg, 2, &o->bins); break;
        case RFM_OPT_TIES:
            rc = CHOICE("--ties", &o->ties, 3, (const char *const[]){"rank", "value", "edges"},
                        (const int64_t[]){STRATA_RFM_TIES_RANK, STRATA_RFM_TIES_VALUE,
                                          STRATA_RFM_TIES_EDGES});
            break;
        case RFM_OPT_REF:
            rc = cli_parse_day("--reference-day", arg, INT32_MIN, &o->reference_day);
            o->has_reference = 1;
            break;
        case RFM_OPT_UNIT:
            rc = CHOICE("--time-unit", &o->time_unit, 2, (const char *const[]){"days", "seconds"},
                        (const int64_t[]){STRATA_RFM_TIME_DAYS, STRATA_RFM_TIME_SECONDS});
            break;
        case RFM_OPT_FREQ:
            rc = CHOICE("--frequency", &o->frequency, 2, (const char *const[]){"rows", "days"},
                        (const int64_t[]){STRATA_RFM_COUNT_ROWS, STRATA_RFM_COUNT_DAYS});
            break;
        case RFM_OPT_MON:
            rc = CHOICE("--monetary", &o->monetary, 2, (const char *const[]){"sum", "mean"},
                        (const int64_t[]){STRATA_RFM_SUM, STRATA_RFM_MEAN});
            break;
        case RFM_OPT_NEG:
            rc = CHOICE("--negative", &o->negative, 2, (const char *const[]){"drop", "net"},
                        (const int64_t[]){STRATA_RFM_DROP, STRATA_RFM_NET});
            break;
        case RFM_OPT_ZERO:
            rc = CHOICE("--zero", &o->zero, 2, (const char *const[]){"keep", "drop"},
                        (const int64_t[]){STRATA_RFM_KEEP, STRATA_RFM_DROP});
            break;
        case RFM_OPT_DUP:
            rc = CHOICE("--duplicates", &o->duplicates, 2, (const char *const[]){"keep", "drop"},
                        (const int64_t[]){STRATA_RFM_KEEP, STRATA_RFM_DROP});
            break;
        case RFM_OPT_MIN_DAY:
            rc = cli_parse_day("--min-day", arg, INT64_MIN + 1, &o->min_day);
            o->has_min_day = 1;
            break;
        case RFM_OPT_MAX_DAY:
            rc = cli_parse_day("--max-day", arg, INT64_MIN + 1, &o->max_day);
            o->has_max_day = 1;
            break;
        case RFM_OPT_MIN_ID: rc = cli_parse_int("--min-id", arg, INT64_MIN + 1, &o->min_id); break;
        case RFM_OPT_REDGES: o->edges[STRATA_RFM_RECENCY] = arg; break;
        case RFM_OPT_FEDGES: o->edges[STRATA_RFM_FREQUENCY] = arg; break;
        case RFM_OPT_MEDGES: o->edges[STRATA_RFM_MONETARY] = arg; break;
        case RFM_OPT_SEGMENTS: o->segments = arg; break;
        case RFM_OPT_MEMORY: rc = cli_parse_size("--memory", arg, &o->memory); break;
        case RFM_OPT_TMPDIR: o->tmpdir = arg; break;
    default: return -1;
    }
    return rc;
}

int rfm_options_check(const rfm_options *o)
{
    if (!o->customer || !o->time || !o->amount)
        return cli_error(CLI_USAGE, "missing --%s (each of --customer, --time and --amount is "
                         "needed)", !o->customer ? "customer" : !o->time ? "time" : "amount");
    int any_edges = o->edges[0] || o->edges[1] || o->edges[2];
    if (any_edges != (o->ties == STRATA_RFM_TIES_EDGES))
        return cli_error(CLI_USAGE, any_edges ? "--*-edges need --ties edges"
                                              : "--ties edges needs --recency-edges, "
                                                "--frequency-edges and --monetary-edges");
    return CLI_OK;
}

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
    RFM_TRY(h, strata_rfm_set_edges(h, metric, cuts, n));
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

int rfm_configure(strata_rfm *h, const rfm_options *o)
{
    static const char *const EDGE_OPTION[3] = {"--recency-edges", "--frequency-edges",
                                               "--monetary-edges"};
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_BINS, o->bins));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_TIES, o->ties));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_TIME_UNIT, o->time_unit));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_FREQUENCY_MODE, o->frequency));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_MONETARY_MODE, o->monetary));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_NEGATIVE, o->negative));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_ZERO, o->zero));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_DUPLICATES, o->duplicates));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_MIN_ID, o->min_id));
    RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_MEMORY, o->memory));
    RFM_TRY(h, strata_rfm_set_tmpdir(h, o->tmpdir));
    if (o->has_reference)
        RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_REFERENCE_DAY, o->reference_day));
    if (o->has_min_day)
        RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_MIN_DAY, o->min_day));
    if (o->has_max_day)
        RFM_TRY(h, strata_rfm_set_int(h, STRATA_RFM_MAX_DAY, o->max_day));
    for (int k = 0; k < 3; k++) {
        int rc = o->edges[k] ? set_edges(h, k, EDGE_OPTION[k], o->edges[k]) : CLI_OK;
        if (rc)
            return rc;
    }
    return o->segments ? set_segments(h, o->segments) : CLI_OK;
}

char *rfm_source(const char *input, const rfm_options *o)
{
    size_t len = strlen(input) + strlen(o->customer) + strlen(o->time) + strlen(o->amount) +
                 (o->table ? strlen(o->table) : 0) + 16;
    char *source = malloc(len);
    if (!source)
        return NULL;
    if (o->table)
        snprintf(source, len, "%s:%s{%s,%s,%s}", input, o->table, o->customer, o->time,
                 o->amount);
    else
        snprintf(source, len, "%s:%s,%s,%s", input, o->customer, o->time, o->amount);
    return source;
}
