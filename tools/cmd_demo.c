/* strata demo: the whole job on a synthetic customer base. Generate
 * customers around five hidden tiers, turn them into the transaction log
 * they imply, write it to HDF5, and run strata tiers on it: RFM aggregates,
 * scaled features, k-means, value tiers, lifecycle stages, profiles and a
 * saved model. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "gen.h"
#include "tiers.h"

static const char HELP[] =
    "usage: strata demo [-o DIR] [--n N] [--k K | --k KMIN:KMAX] [--seed S] [--threads T]\n"
    "                   [--progress MODE] [--quiet]\n"
    "\n"
    "Generate a synthetic customer base (recency, frequency, spend, basket,\n"
    "tenure, web and discount shares, drawn around five hidden tiers), turn it\n"
    "into the transaction log it implies (one row per order, with a few returns,\n"
    "lost amounts and double-logged orders), write DIR/transactions.h5\n"
    "(/tx/customer_id, /tx/day, /tx/amount), then run strata tiers on it:\n"
    "\n"
    "  strata tiers DIR/transactions.h5 --customer /tx/customer_id --time /tx/day\n"
    "      --amount /tx/amount --reference-day 20000 -k K -o DIR/tiers.h5\n"
    "\n"
    "which cleans and aggregates the log, scales recency, frequency and spend,\n"
    "clusters the customers, names the clusters high / mid / low value, gives\n"
    "each customer a lifecycle stage, prints the profiles and saves everything\n"
    "(the model included: strata predict DIR/tiers.h5 ...) in DIR/tiers.h5.\n"
    "\n"
    "options:\n"
    "  -o DIR         output folder, created if missing (default: a new folder\n"
    "                 under $TMPDIR or /tmp); existing files in it are kept\n"
    "  --n N          customers (default 1000000; a K, M or G suffix multiplies by\n"
    "                 10^3, 10^6, 10^9: --n 10M)\n"
    "  --k K          clusters (default 5), or KMIN:KMAX for the sweep to choose\n"
    "  --seed S       seed of the data and of k-means, >= 0 (default 42)\n"
    "  --threads T    worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    CLI_PROGRESS_HELP
    "  -h, --help     show this help\n"
    "\n"
    "Progress: writing the log (step \"write\", done of total customers, as strata\n"
    "gen transactions), then the steps of strata tiers.\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 an output file exists in DIR;\n"
    "on an error, or when Ctrl-C (SIGINT) or SIGTERM cancels, nothing the run wrote\n"
    "is left behind (the log included, and DIR if the run made it); a cancelled\n"
    "command ends by the signal (status 130 or 143 in a shell)\n";

typedef struct options {
    const char *dir, *k;
    int64_t n, k_min, k_max, seed, threads;
    int help;
} options;

enum { OPT_N = 256, OPT_K, OPT_SEED, OPT_THREADS };

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {{"n", required_argument, NULL, OPT_N},
                                          {"k", required_argument, NULL, OPT_K},
                                          {"seed", required_argument, NULL, OPT_SEED},
                                          {"threads", required_argument, NULL, OPT_THREADS},
                                          {"help", no_argument, NULL, 'h'},
                                          CLI_PROGRESS_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    *o = (options){.n = 1000000, .k_min = 5, .k_max = 5, .seed = 42};
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->dir = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_N: rc = cli_parse_count("--n", optarg, 1, &o->n); break;
        case OPT_K: rc = cli_parse_k("--k", optarg, 0, &o->k_min, &o->k_max); break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        default:
            if (!cli_progress_option(c, optarg, &rc))
                rc = cli_bad_option("demo", c, argv);
        }
    }
    if (!rc && !o->help && optind < argc)
        rc = cli_error(CLI_USAGE, "unexpected argument '%s' (see 'strata demo --help')",
                       argv[optind]);
    if (!rc && o->k_max > o->n)
        rc = cli_error(CLI_USAGE, "--k %lld is more than --n %lld customers",
                       (long long)o->k_max, (long long)o->n);
    return rc;
}

/* The output folder: -o DIR (created if missing) or a fresh temporary one;
 * *created says whether this run made it. */
static int make_dir(const options *o, char **dir, int *created)
{
    *created = 0;
    if (o->dir) {
        struct stat st;
        *created = mkdir(o->dir, 0777) == 0;
        if (!*created && (errno != EEXIST || stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)))
            return cli_error(CLI_RUNTIME, "cannot create folder '%s': %s", o->dir,
                             strerror(errno == EEXIST ? ENOTDIR : errno));
        *dir = strdup(o->dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        char pattern[4096];
        snprintf(pattern, sizeof pattern, "%s/strata-demo-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(pattern))
            return cli_error(CLI_RUNTIME, "cannot create a folder under '%s': %s",
                             tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
        *created = 1;
        *dir = strdup(pattern);
        if (!*dir)
            (void)rmdir(pattern);
    }
    if (!*dir && *created && o->dir)
        (void)rmdir(o->dir);
    return *dir ? CLI_OK : cli_error(CLI_RUNTIME, "out of memory");
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* *log_made: the log was written (the run's own file, removed if it fails). */
static int run(const options *o, const char *dir, const char *log_path, const char *tiers_path,
               int *log_made)
{
    double t0 = cli_now();
    /* the log of strata gen transactions --customers N, in the demo's layout */
    gen_options g = {.output = log_path, .n = -1, .customers = o->n, .seed = o->seed,
                     .layout = GEN_COLUMNS, .name = "tx", .block_rows = 65536,
                     .source = "strata demo: synthetic transactions"};
    int64_t rows = 0, bytes = 0, today = GEN_TODAY;
    /* the log's write does not poll: a signal ends the program at once, its
     * temporary file removed (cli.c); strata tiers polls again */
    cli_progress_begin("demo");
    cli_writing(1);
    g.progress = gen_show_write;
    int rc = gen_transactions(&g, &rows, &bytes);
    cli_progress_end();
    if (rc)
        return rc;
    *log_made = 1;
    cli_remove_file_on_signal(log_path); /* the log is the demo's own: gone on Ctrl-C */
    printf("strata demo: %lld synthetic customers (seed %lld), %lld transactions made and "
           "written in %.2f s -> %s\n\n",
           (long long)o->n, (long long)o->seed, (long long)rows, cli_now() - t0, log_path);
    tiers_options t;
    tiers_options_init(&t);
    t.input = log_path;
    t.output = tiers_path;
    t.rfm.customer = "/tx/customer_id";
    t.rfm.time = "/tx/day";
    t.rfm.amount = "/tx/amount";
    t.rfm.reference_day = today;
    t.rfm.has_reference = 1;
    t.k_min = o->k_min;
    t.k_max = o->k_max;
    t.seed = o->seed;
    t.threads = o->threads;
    if ((rc = tiers_run(&t)))
        return rc;
    printf("\nwrote %s/\n  transactions.h5  the synthetic log: /tx/customer_id, /tx/day, "
           "/tx/amount\n  tiers.h5         strata tiers' output: per customer /tier, /stage, "
           "/labels;\n                   /rfm, /model, /profile, /tier_profile, /tier_stage\n"
           "next: strata predict %s/tiers.h5 ... assigns new customers to these tiers\n",
           dir, dir);
    return CLI_OK;
}

int cmd_demo(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help)
            fputs(HELP, stdout);
        return rc;
    }
    char *dir = NULL;
    int created, log_made = 0;
    if ((rc = make_dir(&o, &dir, &created)))
        return rc;
    /* a folder this run made is removed again if the run leaves it empty
     * (a failure, Ctrl-C) */
    if (created)
        cli_remove_dir_on_signal(dir);
    char *log_path = join(dir, "transactions.h5"), *tiers_path = join(dir, "tiers.h5");
    if (!log_path || !tiers_path)
        rc = cli_error(CLI_RUNTIME, "out of memory");
    else if (cli_exists(log_path) || cli_exists(tiers_path))
        rc = cli_error(CLI_EXISTS, "'%s' already holds transactions.h5 or tiers.h5; choose "
                       "another -o DIR", dir);
    else
        rc = run(&o, dir, log_path, tiers_path, &log_made);
    if (rc && log_made)
        (void)unlink(log_path); /* a failed run leaves nothing it wrote */
    if (rc && created)
        (void)rmdir(dir); /* only if empty */
    cli_remove_file_on_signal(NULL);
    cli_remove_dir_on_signal(NULL);
    free(log_path);
    free(tiers_path);
    free(dir);
    return rc;
}
