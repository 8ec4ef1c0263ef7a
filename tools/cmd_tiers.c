/* strata tiers: a transaction log to named customer tiers in one run. */
#include "tiers.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"

static const char HELP[] =
    "usage: strata tiers TX.h5 --customer DS --time DS --amount DS -o OUT.h5\n"
    "                    [-k K | -k KMIN:KMAX] [--tiers high,mid,low] [options]\n"
    "\n"
    "The whole way from a transaction log to tiers a CRM team can act on:\n"
    "  1. clean and aggregate the log per customer (as strata rfm: recency,\n"
    "     frequency, monetary, first purchase, R/F/M scores and segments);\n"
    "  2. scale the features (--features; default recency, frequency and\n"
    "     monetary; --transform auto: log1p where a feature is heavy-tailed,\n"
    "     then z-scores);\n"
    "  3. k-means on the scaled features; with a range -k KMIN:KMAX every k is\n"
    "     fitted and rated (inertia, Calinski-Harabasz, Davies-Bouldin,\n"
    "     silhouettes) and the knee of the inertia curve is taken;\n"
    "  4. rank the clusters by value (recent, frequent, high-spend is valuable)\n"
    "     and name them from --tiers, best first: every customer gets a tier;\n"
    "  with --clv (or the feature clv, or --value clv): customer lifetime value\n"
    "     as strata clv computes it (BG/NBD + Gamma-Gamma on the same log, the\n"
    "     calibration ending on the reference day), usable as a feature and as\n"
    "     the value that ranks the tiers; its columns are written under /clv;\n"
    "  5. lifecycle stage per customer from the first and last purchase days:\n"
    "     new, active, dormant, lost (--new-days, --active-days, --lost-days);\n"
    "  6. profiles of every cluster and tier in the original units, counts per\n"
    "     tier and stage, and the model, saved for strata predict.\n"
    "\n"
    "OUT.h5 holds, one row per customer sorted by id: /customer_id, /labels\n"
    "(cluster), /tier and /stage (attribute \"names\"), /scaled (the k-means\n"
    "input, attribute feature_names); /rfm/... (the strata rfm output), /model/...\n"
    "(the saved model: strata predict OUT.h5 ...), /profile/... (per cluster),\n"
    "/tier_profile/... (per tier), /tier_stage (tiers x stages counts), and\n"
    "/sweep/... when a range of k was given, /clv/... with the CLV step (x, t_x,\n"
    "T, zbar, p_alive, expected_purchases, expected_spend, clv per customer; the\n"
    "fitted parameters as attributes). IN.h5 is only read; on any error\n"
    "nothing is left at OUT.h5.\n"
    "\n"
    "tiers:\n"
    "  -k K, -k KMIN:KMAX clusters, or the range the sweep chooses from (default 2:10)\n"
    "  --tiers NAMES      tier names, best first, comma-separated (default\n"
    "                     high,mid,low; high,low for k = 2); at most k names (a\n"
    "                     range of k then starts at the number of names)\n"
    "  --features LIST    features from the aggregates: recency, frequency,\n"
    "                     monetary, tenure, clv (default recency,frequency,monetary)\n"
    "  --value V          what ranks the clusters into tiers: rfm (default: the\n"
    "                     features, recency counting against) or clv (the\n"
    "                     clusters' CLV; adds clv to the features if missing)\n"
    "  --transform T      auto (default), zscore, robust, minmax, none, or\n"
    "                     log1p+zscore (log1p+robust, ...) for every feature\n"
    "  --seed S           k-means seed, >= 0 (default 0)\n"
    "  --n-init N         k-means runs per k, the best kept (default 3)\n"
    "  --max-iter N       iterations per run (default 300)\n"
    "  --init METHOD      k-means++ (default), k-means||, afk-mc2, random, or\n"
    "                     FILE.h5:/dataset holding K x d starting centroids in the\n"
    "                     scaled space (one k only)\n"
    "  --sample N         rows of the Euclidean silhouette in a sweep (default 10000)\n"
    "  --new-days D       new: first purchase less than D days before the\n"
    "                     reference day (default 30)\n"
    "  --active-days D    active: last purchase at most D days before (default 90)\n"
    "  --lost-days D      dormant up to D days, lost beyond (default 365)\n"
    "\n"
    "customer lifetime value (docs/clv.md):\n"
    "  --clv              add the CLV step (also implied by the feature clv, by\n"
    "                     --value clv and by the options below)\n"
    "  --calibration-end DAY  last day of the CLV calibration period (default:\n"
    "                     the reference day of the run); DAY as for\n"
    "                     --reference-day below\n"
    "  --clv-period P     weeks (default, as the papers) or days\n"
    "  --clv-months M     CLV horizon in months (default 12)\n"
    "  --discount-rate D  monthly discount rate of the CLV (default 0.01)\n"
    "\n" RFM_OPTIONS_HELP
    "                     (the budget is the RFM step's, the log's reading and\n"
    "                     aggregation: the customers' scaling, sweep, k-means,\n"
    "                     profiles and the output, written onto the disk as it\n"
    "                     is assembled, come on top, about 50 bytes a customer\n"
    "                     more with the 3 default features; with one k the\n"
    "                     whole run peaks within 20 MB + 180 bytes a customer:\n"
    "                     1.56M customers at the least budget, 225 MB, peaked\n"
    "                     at 283 MB. A k range adds about 4 bytes a customer\n"
    "                     for each k (the sweep keeps every k's labels, up to\n"
    "                     64 MiB); --clv reads the whole log into memory, about\n"
    "                     50 bytes a transaction: CLV has no out-of-core mode)\n"
    "other:\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    CLI_PROGRESS_HELP
    "  --force            replace OUT.h5 if it exists: a regular file only, never\n"
    "                     one of the inputs; it keeps its permissions and owner\n"
    "  -h, --help         show this help\n"
    "\n"
    CLI_EXIT_HELP;

enum {
    OPT_TIERS = RFM_OPT_END, OPT_FEATURES, OPT_TRANSFORM, OPT_SEED, OPT_N_INIT, OPT_MAX_ITER,
    OPT_INIT, OPT_SAMPLE, OPT_NEW, OPT_ACTIVE, OPT_LOST, OPT_THREADS, OPT_FORCE, OPT_CLV,
    OPT_CLV_END, OPT_CLV_PERIOD, OPT_CLV_MONTHS, OPT_DISCOUNT, OPT_VALUE
};

static int parse(int argc, char **argv, tiers_options *o, int *help)
{
    static const struct option longs[] = {
        RFM_LONG_OPTIONS,
        {"tiers", required_argument, NULL, OPT_TIERS},
        {"features", required_argument, NULL, OPT_FEATURES},
        {"transform", required_argument, NULL, OPT_TRANSFORM},
        {"seed", required_argument, NULL, OPT_SEED},
        {"n-init", required_argument, NULL, OPT_N_INIT},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"init", required_argument, NULL, OPT_INIT},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"new-days", required_argument, NULL, OPT_NEW},
        {"active-days", required_argument, NULL, OPT_ACTIVE},
        {"lost-days", required_argument, NULL, OPT_LOST},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"force", no_argument, NULL, OPT_FORCE},
        {"clv", no_argument, NULL, OPT_CLV},
        {"calibration-end", required_argument, NULL, OPT_CLV_END},
        {"clv-period", required_argument, NULL, OPT_CLV_PERIOD},
        {"clv-months", required_argument, NULL, OPT_CLV_MONTHS},
        {"discount-rate", required_argument, NULL, OPT_DISCOUNT},
        {"value", required_argument, NULL, OPT_VALUE},
        {"help", no_argument, NULL, 'h'},
        CLI_PROGRESS_OPTIONS,
        {NULL, 0, NULL, 0}};
    tiers_options_init(o);
    *help = 0;
    o->rfm.memory = -1; /* until --memory sets it; then $STRATA_RFM_MEMORY is not read */
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:k:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'k': rc = cli_parse_k("-k", optarg, 0, &o->k_min, &o->k_max); break;
        case 'h': *help = 1; break;
        case OPT_TIERS: o->tiers = optarg; break;
        case OPT_FEATURES: o->features = optarg; break;
        case OPT_TRANSFORM: o->transform = optarg; break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_N_INIT: rc = cli_parse_int("--n-init", optarg, 1, &o->n_init); break;
        case OPT_MAX_ITER: rc = cli_parse_int("--max-iter", optarg, 1, &o->max_iter); break;
        case OPT_INIT: o->init = optarg; break;
        case OPT_SAMPLE: rc = cli_parse_int("--sample", optarg, 2, &o->sample); break;
        case OPT_NEW: rc = cli_parse_int("--new-days", optarg, 0, &o->days[0]); break;
        case OPT_ACTIVE: rc = cli_parse_int("--active-days", optarg, 0, &o->days[1]); break;
        case OPT_LOST: rc = cli_parse_int("--lost-days", optarg, 0, &o->days[2]); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_CLV: o->clv = 1; break;
        case OPT_CLV_END:
            rc = cli_parse_day("--calibration-end", optarg, INT64_MIN + 1, &o->clv_end);
            o->has_clv_end = o->clv = 1;
            break;
        case OPT_CLV_PERIOD:
            o->clv = 1;
            if (!strcmp(optarg, "weeks"))
                o->clv_period = STRATA_CLV_WEEKS;
            else if (!strcmp(optarg, "days"))
                o->clv_period = STRATA_CLV_DAYS;
            else
                rc = cli_error(CLI_USAGE, "--clv-period must be weeks or days, got '%s'", optarg);
            break;
        case OPT_CLV_MONTHS:
            o->clv = 1;
            rc = cli_parse_int("--clv-months", optarg, 1, &o->clv_months);
            break;
        case OPT_DISCOUNT:
            o->clv = 1;
            rc = cli_parse_double("--discount-rate", optarg, 0.0, &o->discount_rate);
            break;
        case OPT_VALUE: o->value = optarg; break;
        default:
            if (!cli_progress_option(c, optarg, &rc) && (rc = rfm_option(c, optarg, &o->rfm)) < 0)
                rc = cli_bad_option("tiers", c, argv);
        }
    }
    if (!rc && o->rfm.memory < 0) { /* the default, a junk value an error only then */
        o->rfm.memory = 0;
        rc = cli_size_from_env("STRATA_RFM_MEMORY", &o->rfm.memory);
    }
    if (rc || *help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "TX.h5", "tiers", &o->input)))
        return rc;
    if ((rc = rfm_options_check(&o->rfm)))
        return rc;
    if (!o->output)
        return cli_error(CLI_USAGE, "missing -o OUT.h5 (output file)");
    return CLI_OK;
}

int cmd_tiers(int argc, char **argv)
{
    tiers_options o;
    int help;
    int rc = parse(argc, argv, &o, &help);
    if (rc || help) {
        if (help)
            fputs(HELP, stdout);
        return rc;
    }
    return tiers_run(&o);
}
