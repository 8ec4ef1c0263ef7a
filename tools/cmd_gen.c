/* strata gen: synthetic customer data of any size, streamed to HDF5 (gen.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "cli_progress.h"
#include "gen.h"

static const char HELP[] =
    "usage: strata gen customers     -o OUT.h5 --n N\n"
    "                                [--layout matrix|columns|compound|pandas|pandas-table]\n"
    "                                [--dataset NAME] [--seed S] [--chunk-rows R] [--force]\n"
    "       strata gen blobs         -o OUT.h5 --n N [--d D] [--k K] [--kind gaussian|customer]\n"
    "                                [--dtype float32|float64] [--dataset NAME] [--seed S]\n"
    "                                [--chunk-rows R] [--force]\n"
    "       strata gen transactions  -o OUT.h5 --customers C [--n N]\n"
    "                                [--layout columns|compound|pandas|pandas-table]\n"
    "                                [--dataset NAME] [--seed S] [--chunk-rows R] [--force]\n"
    "\n"
    "Write synthetic data of any size to a new HDF5 file, streamed in blocks (memory\n"
    "stays small whatever N). The same seed gives the same data.\n"
    "\n"
    "  customers     N customers drawn around five hidden tiers (the data of strata\n"
    "                demo): customer_id, recency_days, frequency, monetary, avg_basket,\n"
    "                tenure_days (skewed), web_share, discount_share (float32), and\n"
    "                /tier (int32, the hidden tier; attribute names). Layouts:\n"
    "                  matrix    /NAME (N x 7 float32, attribute feature_names) and\n"
    "                            /customer_id (default NAME: features):\n"
    "                            strata kmeans OUT.h5:/features\n"
    "                  columns   /NAME/customer_id, /NAME/recency_days, ... (default\n"
    "                            NAME: customers): strata kmeans OUT.h5 --table /customers\n"
    "                  compound  /NAME, one record per customer (default NAME:\n"
    "                            customers): strata kmeans OUT.h5 --table /customers\n"
    "                  pandas    /NAME, a pandas frame (to_hdf format=\"fixed\") indexed\n"
    "                            by customer_id (default NAME: customers):\n"
    "                            pandas.read_hdf(\"OUT.h5\", \"customers\");\n"
    "                            strata kmeans OUT.h5 --table /customers\n"
    "                  pandas-table  the same frame as to_hdf(format=\"table\",\n"
    "                            data_columns=True) writes it: the table /NAME/table\n"
    "                            (the index a field \"index\"); read the same ways\n"
    "  blobs         an N x D matrix /NAME (default NAME: x) for k-means, and /group\n"
    "                (int32, each row's hidden group): K Gaussian blobs of unit\n"
    "                spread (--kind gaussian), or K customer-like groups, log-normally\n"
    "                skewed then standardised (--kind customer)\n"
    "  transactions  the transaction log of C customers (customer_id, day, amount;\n"
    "                with a few returns, lost amounts and double-logged orders), one\n"
    "                row per order, ending on day 20000 (root attribute reference_day):\n"
    "                N rows (default: as many as the customers' orders)\n"
    "                  columns   /NAME/customer_id, /NAME/day, /NAME/amount (default\n"
    "                            NAME: tx): strata rfm OUT.h5 --customer /tx/customer_id\n"
    "                            --time /tx/day --amount /tx/amount\n"
    "                  compound  /NAME records: strata rfm OUT.h5 --table /tx\n"
    "                            --customer customer_id --time day --amount amount\n"
    "                  pandas, pandas-table  /NAME, a pandas frame of the three columns\n"
    "                            and a row-number index, as to_hdf(format=\"fixed\") or\n"
    "                            (format=\"table\", data_columns=True) writes it:\n"
    "                            pandas.read_hdf(\"OUT.h5\", \"tx\"); strata rfm OUT.h5\n"
    "                            --table /tx --customer customer_id --time day\n"
    "                            --amount amount\n"
    "\n"
    "options:\n"
    "  -o OUT.h5      the new file (required)\n"
    "  --n N          rows, >= 1 (a K, M or G suffix multiplies by 10^3, 10^6, 10^9:\n"
    "                 --n 100M)\n"
    "  --customers C  transactions: customers, >= 1 (suffixes as --n)\n"
    "  --d D, --k K   blobs: columns (default 16) and groups (default 8)\n"
    "  --kind KIND    blobs: gaussian (default) or customer\n"
    "  --dtype T      blobs: float32 (default) or float64\n"
    "  --layout L     see above\n"
    "  --dataset NAME the dataset, table or group to write (a path of names, at\n"
    "                 most 200 characters)\n"
    "  --seed S       seed, >= 0 (default 42)\n"
    "  --chunk-rows R rows per HDF5 chunk of every per-row dataset (default: about\n"
    "                 1 MiB a chunk); the data do not depend on it\n"
    "  --force        replace OUT.h5 if it exists\n"
    CLI_PROGRESS_HELP
    "  -h, --help     show this help\n"
    "\n"
    "Progress: the step \"write\", done of total rows (transactions: customers\n"
    "written, of C; with --n, of 2 C: a first pass over the customers shares out\n"
    "the rows), reported before each block, then total of total once OUT.h5 is in\n"
    "place.\n"
    "Prints one line: rows, bytes, seconds (nothing with --quiet).\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists (no --force);\n"
    "Ctrl-C (SIGINT) or SIGTERM stops it at once: nothing is written, the command ends\n"
    "by the signal (status 130 or 143 in a shell); one that comes once OUT.h5 is\n"
    "renamed into place cancels nothing (status 0)\n";

enum { KIND_CUSTOMERS, KIND_BLOBS, KIND_TRANSACTIONS };

enum { OPT_N = 256, OPT_CUSTOMERS, OPT_D, OPT_K, OPT_KIND, OPT_DTYPE, OPT_LAYOUT, OPT_DATASET,
       OPT_SEED, OPT_FORCE, OPT_BLOCK, OPT_CHUNK };

static int parse_layout(int kind, const char *text, int *layout)
{
    static const char *const NAMES[] = {"matrix", "columns", "compound", "pandas",
                                        "pandas-table"};
    for (int l = 0; l < 5; l++)
        if (!strcmp(text, NAMES[l]) && !(kind == KIND_TRANSACTIONS && l == GEN_MATRIX)) {
            *layout = l;
            return CLI_OK;
        }
    return cli_error(CLI_USAGE, "--layout must be %s, got '%s'",
                     kind == KIND_TRANSACTIONS ? "columns, compound, pandas or pandas-table"
                                               : "matrix, columns, compound, pandas or "
                                                 "pandas-table", text);
}

/* --dataset: a path of names ("a/b"), none '.', '..' or empty, short enough
 * for every object written under it (and its pandas view), and none of the
 * names the file has anyway. */
static int check_name(int kind, gen_options *g)
{
    while (g->name[0] == '/')
        g->name++;
    const size_t len = strlen(g->name);
    if (!len || g->name[len - 1] == '/' || len > 200)
        return cli_error(CLI_USAGE, "--dataset must name a dataset or group (at most 200 "
                         "characters, not ending in '/')");
    const int pandas = g->layout == GEN_PANDAS || g->layout == GEN_PANDAS_TABLE;
    for (const char *p = g->name; *p;) {
        const size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
            return cli_error(CLI_USAGE, "--dataset '%s': each part of the path must be a name "
                             "(not empty, '.' or '..')", g->name);
        if (pandas && n >= 3 && !strncmp(p, "_i_", 3))
            return cli_error(CLI_USAGE, "--dataset '%s': PyTables (pandas) reserves names that "
                             "begin with '_i_' for its indexes", g->name);
        p += n + (p[n] == '/');
    }
    /* the first name against what the file holds besides it */
    const size_t first = strcspn(g->name, "/");
    const char *taken = kind == KIND_BLOBS ? "group" : kind == KIND_CUSTOMERS ? "tier" : NULL;
    const char *also = kind == KIND_CUSTOMERS && g->layout == GEN_MATRIX ? "customer_id" : NULL;
    const char *clash = taken && first == strlen(taken) && !strncmp(g->name, taken, first) ? taken
                        : also && first == strlen(also) && !strncmp(g->name, also, first) ? also
                                                                                           : NULL;
    if (clash)
        return cli_error(CLI_USAGE, "--dataset '%s': the file holds /%s besides it; choose "
                         "another name", g->name, clash);
    return CLI_OK;
}

static int parse(int argc, char **argv, int kind, gen_options *g, int *help)
{
    static const struct option longs[] = {
        {"n", required_argument, NULL, OPT_N}, {"customers", required_argument, NULL, OPT_CUSTOMERS},
        {"d", required_argument, NULL, OPT_D}, {"k", required_argument, NULL, OPT_K},
        {"kind", required_argument, NULL, OPT_KIND}, {"dtype", required_argument, NULL, OPT_DTYPE},
        {"layout", required_argument, NULL, OPT_LAYOUT},
        {"dataset", required_argument, NULL, OPT_DATASET},
        {"seed", required_argument, NULL, OPT_SEED}, {"force", no_argument, NULL, OPT_FORCE},
        {"block-rows", required_argument, NULL, OPT_BLOCK},
        {"chunk-rows", required_argument, NULL, OPT_CHUNK}, {"help", no_argument, NULL, 'h'},
        CLI_PROGRESS_OPTIONS, {NULL, 0, NULL, 0}};
    const char *layout = NULL, *kind_text = NULL, *dtype = NULL;
    int c, rc = CLI_OK, has_n = 0;
    opterr = 0;
    optind = 2; /* after "gen <what>" */
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': g->output = optarg; break;
        case 'h': *help = 1; break;
        case OPT_N: rc = cli_parse_count("--n", optarg, 1, &g->n); has_n = 1; break;
        case OPT_CUSTOMERS: rc = cli_parse_count("--customers", optarg, 1, &g->customers); break;
        case OPT_D: rc = cli_parse_int("--d", optarg, 1, &g->d); break;
        case OPT_K: rc = cli_parse_int("--k", optarg, 1, &g->k); break;
        case OPT_KIND: kind_text = optarg; break;
        case OPT_DTYPE: dtype = optarg; break;
        case OPT_LAYOUT: layout = optarg; break;
        case OPT_DATASET: g->name = optarg; break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &g->seed); break;
        case OPT_FORCE: g->force = 1; break;
        case OPT_BLOCK: rc = cli_parse_int("--block-rows", optarg, 1, &g->block_rows); break;
        case OPT_CHUNK: rc = cli_parse_int("--chunk-rows", optarg, 1, &g->chunk_rows); break;
        default:
            if (!cli_progress_option(c, optarg, &rc))
                rc = cli_bad_option("gen", c, argv);
        }
    }
    if (rc || *help)
        return rc;
    if (g->block_rows > 10000000)
        return cli_error(CLI_USAGE, "--block-rows must be at most 10000000");
    if (g->chunk_rows > 10000000) /* HDF5 chunks stay under 4 GiB */
        return cli_error(CLI_USAGE, "--chunk-rows must be at most 10000000");
    if (optind < argc)
        return cli_error(CLI_USAGE, "unexpected argument '%s' (see 'strata gen --help')",
                         argv[optind]);
    if (!g->output)
        return cli_error(CLI_USAGE, "-o OUT.h5 is required (see 'strata gen --help')");
    if (kind == KIND_TRANSACTIONS && !g->customers)
        return cli_error(CLI_USAGE, "--customers C is required for transactions");
    if (kind != KIND_TRANSACTIONS && !has_n)
        return cli_error(CLI_USAGE, "--n N is required");
    if (kind != KIND_TRANSACTIONS && g->customers)
        return cli_error(CLI_USAGE, "--customers is for transactions only");
    if (kind != KIND_BLOBS && (g->d || g->k || kind_text || dtype))
        return cli_error(CLI_USAGE, "--d, --k, --kind and --dtype are for blobs only");
    if (kind == KIND_BLOBS && layout)
        return cli_error(CLI_USAGE, "blobs are written as one matrix: no --layout");
    if (layout && (rc = parse_layout(kind, layout, &g->layout)))
        return rc;
    if (kind_text && strcmp(kind_text, "gaussian") && strcmp(kind_text, "customer"))
        return cli_error(CLI_USAGE, "--kind must be gaussian or customer, got '%s'", kind_text);
    g->customer_kind = kind_text && !strcmp(kind_text, "customer");
    if (dtype && strcmp(dtype, "float32") && strcmp(dtype, "float64"))
        return cli_error(CLI_USAGE, "--dtype must be float32 or float64, got '%s'", dtype);
    g->dtype = dtype && !strcmp(dtype, "float64") ? STRATA_FLOAT64 : STRATA_FLOAT32;
    if (kind == KIND_BLOBS) {
        g->d = g->d ? g->d : 16;
        g->k = g->k ? g->k : 8;
        if (g->d > 100000 || g->k > 100000 || g->d * g->k > 10000000)
            return cli_error(CLI_USAGE, "--d %lld x --k %lld: at most 100000 each and 10^7 "
                             "together", (long long)g->d, (long long)g->k);
        if (g->k > g->n) /* more groups than rows: a slip (groups are drawn a row at a time) */
            return cli_error(CLI_USAGE, "--k %lld groups need at least %lld rows, --n is %lld",
                             (long long)g->k, (long long)g->k, (long long)g->n);
    }
    return g->name ? check_name(kind, g) : CLI_OK;
}

/* Refuse a file that cannot fit the free space of its file system before
 * writing any of it (the writer's reservations would stop it only once the
 * disk is full, for everyone). `least`: bytes it takes at the very least
 * (its uncompressed floating-point columns). */
static int check_space(const char *output, double least)
{
    char dir[4096];
    const char *slash = strrchr(output, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - output + (slash == output)) : 1,
             slash ? output : ".");
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0 || fs.f_blocks == 0)
        return CLI_OK; /* the write itself will name the problem (a pseudo file system: none) */
    double free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
    if (least > free_bytes)
        return cli_error(CLI_RUNTIME, "'%s' would take at least %.3g GB (its floating-point "
                         "columns alone), more than the %.3g GB free on the file system of '%s'; "
                         "nothing written", output, least / 1e9, free_bytes / 1e9, dir);
    return CLI_OK;
}

static int gen_command(int argc, char **argv, const char *command)
{
    static const char *const KINDS[] = {"customers", "blobs", "transactions"};
    int kind = -1, help = 0;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    for (int k = 0; argc >= 2 && k < 3; k++)
        if (!strcmp(argv[1], KINDS[k]))
            kind = k;
    if (kind < 0)
        return cli_error(CLI_USAGE, argc < 2 ? "what to generate? customers, blobs or "
                         "transactions (see 'strata gen --help')%s" : "unknown data '%s': "
                         "customers, blobs or transactions (see 'strata gen --help')",
                         argc < 2 ? "" : argv[1]);
    gen_options g = {.n = kind == KIND_TRANSACTIONS ? -1 : 0, .seed = 42,
                     .layout = kind == KIND_TRANSACTIONS ? GEN_COLUMNS : GEN_MATRIX,
                     .block_rows = 65536};
    int rc = parse(argc, argv, kind, &g, &help);
    if (rc || help) {
        if (help)
            fputs(HELP, stdout);
        return rc;
    }
    if (!g.name)
        g.name = kind == KIND_BLOBS ? "x" : kind == KIND_TRANSACTIONS ? "tx"
                 : g.layout == GEN_MATRIX ? "features" : "customers";
    char source[128];
    snprintf(source, sizeof source, "strata gen %s (seed %lld)", KINDS[kind], (long long)g.seed);
    g.source = source;
    g.command = command;
    if ((rc = cli_check_files(NULL, 0, g.output, g.force)))
        return rc;
    /* at least: 7 float32 features a customer, d values a blob row, the
     * float64 amount of every transaction (a customer has one or more, 6.1
     * on average: over 10^5 customers at least 5 each, surely) */
    const double orders = g.customers >= 100000 ? 5.0 : 1.0;
    const double least = kind == KIND_CUSTOMERS ? 28.0 * (double)g.n
                         : kind == KIND_BLOBS
                             ? (double)g.n * (double)g.d * (g.dtype == STRATA_FLOAT64 ? 8 : 4)
                             : 8.0 * (g.n >= 0 ? (double)g.n : orders * (double)g.customers);
    if ((rc = check_space(g.output, least)))
        return rc;
    /* The generators do not poll: a signal ends the program at once, its
     * temporary file removed (cli.c), as in any write. */
    cli_progress_begin("gen");
    cli_writing(1);
    g.progress = gen_show_write;
    double t0 = cli_now();
    int64_t rows = g.n, bytes = 0;
    rc = kind == KIND_CUSTOMERS ? gen_customers(&g, &bytes)
         : kind == KIND_BLOBS   ? gen_blobs(&g, &bytes)
                                : gen_transactions(&g, &rows, &bytes);
    cli_progress_end();
    if (rc)
        return rc;
    double s = cli_now() - t0;
    printf("strata gen %s: %lld rows, %lld bytes, %.2f s (%.3g rows/s, %.1f MB/s) -> %s\n",
           KINDS[kind], (long long)rows, (long long)bytes, s, s > 0 ? (double)rows / s : 0.0,
           s > 0 ? (double)bytes / s / 1e6 : 0.0, g.output);
    return CLI_OK;
}

int cmd_gen(int argc, char **argv)
{
    char *command = cli_shell_join("strata", argc, argv); /* before getopt reorders argv */
    if (!command)
        return cli_error(CLI_RUNTIME, "out of memory");
    int rc = gen_command(argc, argv, command);
    free(command);
    return rc;
}
