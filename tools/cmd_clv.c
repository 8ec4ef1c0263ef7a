/* strata clv: customer lifetime value (BG/NBD + Gamma-Gamma) from a
 * transaction log in HDF5. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"

static const char HELP[] =
    "usage: strata clv IN.h5 --customer DS --time DS --amount DS --calibration-end DAY\n"
    "                  -o OUT.h5 [options]\n"
    "\n"
    "Customer lifetime value: the calibration summary of every customer (x repeat\n"
    "purchase days, t_x the last one's time since the first purchase, T the age\n"
    "at the calibration end, zbar the mean spend per repeat purchase day), the\n"
    "BG/NBD model of purchases (Fader, Hardie and Lee 2005) and the Gamma-Gamma\n"
    "model of spend fitted by maximum likelihood, and per customer P(alive),\n"
    "expected purchases, expected spend and CLV; the days after the calibration\n"
    "end are the holdout: actual and predicted purchases per customer and per\n"
    "period (the tracking curve). The columns are those of 'strata rfm' (1-D\n"
    "datasets, or fields of --table; times in days or Unix seconds); rows on\n"
    "days <= DAY are the calibration period. Rows are cleaned as 'strata rfm'\n"
    "cleans them by default (bad ids, days, amounts and negative amounts dropped).\n"
    "\n"
    "OUT.h5 holds, sorted by customer id: /customer_id, /first_day, /x, /t_x, /T,\n"
    "/zbar, /p_alive, /expected_purchases, /expected_spend, /clv, /holdout_actual,\n"
    "/holdout_predicted; /tracking/{actual,expected,cumulative_actual,\n"
    "cumulative_expected} per period; the fitted parameters as root attributes\n"
    "bgnbd_r, bgnbd_alpha, bgnbd_a, bgnbd_b, bgnbd_loglik, gg_p, gg_q, gg_gamma,\n"
    "gg_loglik, freq_spend_corr and the settings. IN.h5 is only read.\n"
    "\n"
    "input:\n"
    "  --customer DS      customer id column (integers >= 0)\n"
    "  --time DS          purchase time column (days, or seconds: --time-unit)\n"
    "  --amount DS        amount column\n"
    "  --table NAME       the columns are fields of this compound dataset\n"
    "  --time-unit U      days (default) or seconds (Unix time; day = floor(t/86400))\n"
    "model:\n"
    "  --calibration-end DAY  last day of the calibration period (required)\n"
    "  --holdout-end DAY  last day of the holdout (default: the log's last day)\n"
    CLI_DAY_HELP
    "  --period P         weeks (default: x, t_x, T in days / 7) or days\n"
    "  --horizon H        periods ahead of /expected_purchases (default 52 weeks)\n"
    "  --clv-months M     CLV horizon in months (default 12)\n"
    "  --discount-rate D  monthly discount rate of the CLV (default 0.01)\n"
    "other:\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0);\n"
    "                     the results do not depend on it\n"
    CLI_PROGRESS_HELP
    "  --force            replace OUT.h5 if it exists (a regular file, never the input)\n"
    "  -h, --help         show this help\n"
    "\n"
    CLI_EXIT_HELP;

typedef struct options {
    const char *input, *output, *customer, *time, *amount, *table;
    int64_t cal_end, holdout_end, months, threads, period, time_unit;
    double horizon, discount;
    int has_cal, has_holdout, has_horizon, has_months, has_discount, force, help;
} options;

enum {
    OPT_CUSTOMER = 1200, OPT_TIME, OPT_AMOUNT, OPT_TABLE, OPT_TIME_UNIT, OPT_CAL, OPT_HOLDOUT,
    OPT_PERIOD, OPT_HORIZON, OPT_MONTHS, OPT_DISCOUNT, OPT_THREADS, OPT_FORCE
};

/* A day number (any integer, negative too) or a date YYYY-MM-DD. */
static int parse_day(const char *option, const char *text, int64_t *out)
{
    return cli_parse_day(option, text, INT64_MIN + 1, out);
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"time", required_argument, NULL, OPT_TIME},
        {"amount", required_argument, NULL, OPT_AMOUNT},
        {"table", required_argument, NULL, OPT_TABLE},
        {"time-unit", required_argument, NULL, OPT_TIME_UNIT},
        {"calibration-end", required_argument, NULL, OPT_CAL},
        {"holdout-end", required_argument, NULL, OPT_HOLDOUT},
        {"period", required_argument, NULL, OPT_PERIOD},
        {"horizon", required_argument, NULL, OPT_HORIZON},
        {"clv-months", required_argument, NULL, OPT_MONTHS},
        {"discount-rate", required_argument, NULL, OPT_DISCOUNT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        CLI_PROGRESS_OPTIONS,
        {NULL, 0, NULL, 0}};
    *o = (options){0};
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
        case OPT_TIME_UNIT:
            if (!strcmp(optarg, "days"))
                o->time_unit = STRATA_RFM_TIME_DAYS;
            else if (!strcmp(optarg, "seconds"))
                o->time_unit = STRATA_RFM_TIME_SECONDS;
            else
                rc = cli_error(CLI_USAGE, "--time-unit must be days or seconds, got '%s'",
                               optarg);
            break;
        case OPT_CAL:
            o->has_cal = 1;
            rc = parse_day("--calibration-end", optarg, &o->cal_end);
            break;
        case OPT_HOLDOUT:
            o->has_holdout = 1;
            rc = parse_day("--holdout-end", optarg, &o->holdout_end);
            break;
        case OPT_PERIOD:
            if (!strcmp(optarg, "weeks"))
                o->period = STRATA_CLV_WEEKS;
            else if (!strcmp(optarg, "days"))
                o->period = STRATA_CLV_DAYS;
            else
                rc = cli_error(CLI_USAGE, "--period must be weeks or days, got '%s'", optarg);
            break;
        case OPT_HORIZON:
            o->has_horizon = 1;
            rc = cli_parse_double("--horizon", optarg, 0.0, &o->horizon);
            break;
        case OPT_MONTHS:
            o->has_months = 1;
            rc = cli_parse_int("--clv-months", optarg, 1, &o->months);
            break;
        case OPT_DISCOUNT:
            o->has_discount = 1;
            rc = cli_parse_double("--discount-rate", optarg, 0.0, &o->discount);
            break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_FORCE: o->force = 1; break;
        default:
            if (!cli_progress_option(c, optarg, &rc))
                rc = cli_bad_option("clv", c, argv);
        }
    }
    if (rc || o->help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "IN.h5", "clv", &o->input)))
        return rc;
    if (!o->customer || !o->time || !o->amount)
        return cli_error(CLI_USAGE, "missing --customer, --time or --amount (the log's columns)");
    if (!o->has_cal)
        return cli_error(CLI_USAGE, "missing --calibration-end DAY (rows on days <= DAY are the "
                         "calibration period)");
    if (!o->output)
        return cli_error(CLI_USAGE, "missing -o OUT.h5 (output file)");
    return CLI_OK;
}

#define CLV_TRY(h, call)                                                \
    do {                                                                \
        int st_ = (call);                                               \
        if (st_ != STRATA_OK)                                           \
            return cli_library_error(st_, strata_clv_last_error(h));    \
    } while (0)

static double res(strata_clv *h, int key)
{
    double v = NAN;
    if (strata_clv_result_double(h, key, &v) != STRATA_OK)
        v = NAN;
    return v;
}

static int run(strata_clv *h, const options *o)
{
    CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_CALIBRATION_END, o->cal_end));
    if (o->has_holdout)
        CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_HOLDOUT_END, o->holdout_end));
    CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_PERIOD, o->period));
    CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_TIME_UNIT, o->time_unit));
    if (o->has_horizon)
        CLV_TRY(h, strata_clv_set_double(h, STRATA_CLV_HORIZON, o->horizon));
    if (o->has_months)
        CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_CLV_MONTHS, o->months));
    if (o->has_discount)
        CLV_TRY(h, strata_clv_set_double(h, STRATA_CLV_DISCOUNT_RATE, o->discount));
    CLV_TRY(h, strata_clv_set_int(h, STRATA_CLV_THREADS, o->threads));
    CLV_TRY(h, strata_clv_set_progress(h, cli_progress_step, CLI_PROGRESS_LOGLIK));
    cli_progress_begin("clv");
    double t0 = cli_now();
    CLV_TRY(h, strata_clv_fit_h5(h, o->input, o->table, o->customer, o->time, o->amount));
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
    int st = strata_clv_write_h5(h, o->output, source, o->force ? STRATA_WRITE_FORCE : 0);
    free(source);
    if (st != STRATA_OK)
        return cli_library_error(st, strata_clv_last_error(h));
    cli_progress_end();
    const char *unit = o->period == STRATA_CLV_DAYS ? "days" : "weeks";
    printf("strata clv: %s -> %s\n", o->input, o->output);
    char day[2][CLI_DAY_TEXT];
    printf("  customers %.0f (repeat %.0f, first purchase after the calibration end: %.0f "
           "excluded); calibration end day %s, holdout %.0f days; periods: %s\n",
           res(h, STRATA_CLV_RESULT_CUSTOMERS), res(h, STRATA_CLV_RESULT_REPEAT_CUSTOMERS),
           res(h, STRATA_CLV_RESULT_EXCLUDED), cli_day_text(o->cal_end, day[0]),
           res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS), unit);
    printf("  BG/NBD       r = %.4f  alpha = %.4f  a = %.4f  b = %.4f  log-likelihood %.4f%s\n",
           res(h, STRATA_CLV_RESULT_BGNBD_R), res(h, STRATA_CLV_RESULT_BGNBD_ALPHA),
           res(h, STRATA_CLV_RESULT_BGNBD_A), res(h, STRATA_CLV_RESULT_BGNBD_B),
           res(h, STRATA_CLV_RESULT_BGNBD_LOGLIK),
           res(h, STRATA_CLV_RESULT_BGNBD_CONVERGED) == 1 ? "" : "  (NOT CONVERGED)");
    printf("  Gamma-Gamma  p = %.4f  q = %.4f  gamma = %.4f  log-likelihood %.4f%s "
           "(%.0f customers)\n",
           res(h, STRATA_CLV_RESULT_GG_P), res(h, STRATA_CLV_RESULT_GG_Q),
           res(h, STRATA_CLV_RESULT_GG_GAMMA), res(h, STRATA_CLV_RESULT_GG_LOGLIK),
           res(h, STRATA_CLV_RESULT_GG_CONVERGED) == 1 ? "" : "  (NOT CONVERGED)",
           res(h, STRATA_CLV_RESULT_GG_CUSTOMERS));
    double corr = res(h, STRATA_CLV_RESULT_FREQ_SPEND_CORR);
    printf("  check: correlation of frequency and spend per purchase (repeat customers) "
           "%.4f%s\n", corr,
           fabs(corr) > 0.3 ? "  (WARNING: large; Gamma-Gamma assumes independence)" : "");
    /* a holdout end past the log: the days between count as days without
     * purchases (documented), which biases the holdout comparison */
    const double last = res(h, STRATA_CLV_RESULT_LAST_DAY);
    if (o->has_holdout && o->holdout_end > o->cal_end && last < (double)o->holdout_end)
        fprintf(stderr, "strata: warning: --holdout-end %s is after the log's last "
                "day %s: the %.0f day(s) between count as days without purchases "
                "(predicted purchases cover them, actual ones cannot), which biases the "
                "holdout comparison; --holdout-end %.0f ends it with the log\n",
                cli_day_text(o->holdout_end, day[0]), cli_day_text((int64_t)last, day[1]),
                (double)o->holdout_end - last, last);
    if (res(h, STRATA_CLV_RESULT_HOLDOUT_DAYS) > 0)
        printf("  holdout: %.0f repeat purchases, %.1f predicted\n",
               res(h, STRATA_CLV_RESULT_HOLDOUT_ACTUAL),
               res(h, STRATA_CLV_RESULT_HOLDOUT_PREDICTED));
    printf("  %.2f s (read + summarise + fit + score)\n", seconds);
    return CLI_OK;
}

int cmd_clv(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help)
            fputs(HELP, stdout);
        return rc;
    }
    const cli_input inputs[] = {{o.input, "input file"}};
    if ((rc = cli_check_files(inputs, 1, o.output, o.force)))
        return rc;
    char day[2][CLI_DAY_TEXT];
    if (o.has_holdout && o.holdout_end <= o.cal_end) /* valid (no holdout), likely a slip */
        fprintf(stderr, "strata: warning: --holdout-end %s is not after --calibration-end "
                "%s: there is no holdout period (it is the days after the calibration end)\n",
                cli_day_text(o.holdout_end, day[0]), cli_day_text(o.cal_end, day[1]));
    strata_clv *h = NULL;
    int st = strata_clv_create(&h);
    rc = st ? cli_library_error(st, strata_last_error()) : run(h, &o);
    strata_clv_free(h);
    return rc;
}
