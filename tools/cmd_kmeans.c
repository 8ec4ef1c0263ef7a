/* strata kmeans: fit k-means to an HDF5 dataset, write the model, print a summary. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cli_progress.h"

#ifdef STRATA_CLI_MPI
#include "strata_mpi.h"
#endif

static const char HELP_HEAD[] =
    "usage: strata kmeans IN.h5:/path/to/dataset -k K -o OUT.h5 [options]\n"
    "       strata kmeans IN.h5 --columns /a,/b,... -k K -o OUT.h5 [options]\n"
    "       strata kmeans IN.h5 --table KEY [--features a,b,...] -k K -o OUT.h5 [options]\n"
    "\n"
    "Cluster the rows of a 2-D numeric dataset (rows = customers, columns =\n"
    "features; any float or integer type) and write OUT.h5 with /labels (int32),\n"
    "/centroids (float64, K x d) and the attributes k, inertia, n_iter, converged,\n"
    "seed, algorithm, strata_version and source. With --columns or --table the\n"
    "features are read as float64 columns and OUT.h5 also holds /feature_names\n"
    "and, when the input has a row key (e.g. the customer_id of a `strata rfm`\n"
    "output), /customer_id in row order.\n"
    "\n";

static const char HELP[] =
    "options:\n"
    "  -k K               number of clusters (required, >= 1)\n"
    "  -o OUT.h5          output file (required); an existing file is kept unless --force\n"
    "  --seed S           random seed, >= 0 (default 0)\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  --init METHOD      k-means++ (default), k-means|| (parallel seeding, for large\n"
    "                     n and k), afk-mc2 (one pass then Markov chains, for large\n"
    "                     n and moderate k), random, or FILE.h5:/dataset holding\n"
    "                     K x d starting centroids\n"
    "  --chain-length M   draws per Markov chain of afk-mc2 (default 200)\n"
    "  --n-init N         runs from different starts, the best is kept (default 1)\n"
    "  --max-iter N       maximum iterations per run (default 300)\n"
    "  --tol X            convergence tolerance on the centroid shift (default 1e-4)\n"
    "  --algorithm A      auto (default), lloyd, hamerly or yinyang: the same result,\n"
    "                     bitwise; hamerly skips the rows whose cluster cannot\n"
    "                     change (two bounds a row: 8 bytes for float32 data, 16\n"
    "                     for float64), yinyang also the groups of centroids that\n"
    "                     cannot hold a nearer one ((2 + t) bounds a row, t <= 16\n"
    "                     groups of 8 or 16 centroids: 8 + 4t bytes for float32);\n"
    "                     both slower than lloyd on the data measured so far\n"
    "                     (docs/performance.md), so auto runs lloyd; or minibatch: mini-batch k-means, an\n"
    "                     approximate answer (not lloyd's) from random batches, as\n"
    "                     scikit-learn's MiniBatchKMeans: --max-iter counts epochs,\n"
    "                     n_iter is the batches run, --n-init runs only seed (give\n"
    "                     --max-iter 100 --tol 0 --n-init 3 for its defaults); the\n"
    "                     same result for a seed whatever --threads; OUT.h5\n"
    "                     records the one run\n"
    "  --batch-size N     rows per mini-batch (minibatch only; default 1024)\n"
    "  --memory SIZE      memory budget (1G, 1.5G, 512M, 100K or bytes; default:\n"
    "                     $STRATA_KMEANS_MEMORY if set, else 0: no limit); 24 MiB\n"
    "                     of it go to the program itself (so its peak stays under\n"
    "                     SIZE).\n"
    "                     Data that do not fit it with the fit's state are\n"
    "                     streamed from IN.h5 in blocks at every pass instead of\n"
    "                     loaded: the same result, bitwise; labels stay in memory\n"
    "                     (4 bytes a row), k-means++ reads the file once per\n"
    "                     centre; every --init; hamerly keeps one gap a row (2\n"
    "                     bytes) where the budget holds it beside 8 MiB blocks,\n"
    "                     else runs as lloyd, and yinyang runs as lloyd\n"
    "                     (the same result; OUT.h5 says which ran); minibatch\n"
    "                     streams\n"
    "                     too, with the same result, reading the rows of many\n"
    "                     steps in one sweep of the file (the larger the budget,\n"
    "                     the fewer sweeps). --columns and --table inputs stream\n"
    "                     the same way (row keys stay in memory, 8 bytes a row;\n"
    "                     a NaN stops the fit when its block is read, naming the\n"
    "                     row)\n"
    "  --force            replace OUT.h5 if it exists: a regular file only, never\n"
    "                     one of the inputs; it keeps its permissions and owner\n"
    CLI_PROGRESS_HELP
    "  -h, --help         show this help\n"
    "\n"
    CLI_EXIT_HELP;

typedef struct options {
    const char *input, *output, *init;
    int algorithm;
    cli_features in;  /* the input: its file, and its dataset in the matrix form */
    char *init_file; /* the file of --init FILE:/dataset */
    const char *init_dataset;
    int64_t k, seed, threads, n_init, max_iter, batch_size, chain_length, memory;
    double tol;
    int force, help;
} options;

enum { OPT_SEED = 256, OPT_THREADS, OPT_INIT, OPT_N_INIT, OPT_MAX_ITER, OPT_TOL, OPT_FORCE,
       OPT_ALGORITHM, OPT_BATCH_SIZE, OPT_CHAIN_LENGTH, OPT_MEMORY };

static int parse_algorithm(const char *v, int *out)
{
    static const struct {
        const char *name;
        int value;
    } names[] = {{"auto", STRATA_ALGO_AUTO}, {"lloyd", STRATA_ALGO_LLOYD},
                 {"hamerly", STRATA_ALGO_HAMERLY}, {"yinyang", STRATA_ALGO_YINYANG},
                 {"minibatch", STRATA_ALGO_MINIBATCH}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(v, names[i].name)) {
            *out = names[i].value;
            return CLI_OK;
        }
    return cli_error(CLI_USAGE, "--algorithm must be auto, lloyd, hamerly, yinyang or minibatch, got '%s'",
                     v);
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"init", required_argument, NULL, OPT_INIT},
        {"n-init", required_argument, NULL, OPT_N_INIT},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"tol", required_argument, NULL, OPT_TOL},
        {"force", no_argument, NULL, OPT_FORCE},
        {"algorithm", required_argument, NULL, OPT_ALGORITHM},
        {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
        {"chain-length", required_argument, NULL, OPT_CHAIN_LENGTH},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {"help", no_argument, NULL, 'h'},
        CLI_INPUT_OPTIONS,
        CLI_PROGRESS_OPTIONS,
        {NULL, 0, NULL, 0}};
    *o = (options){.k = -1, .n_init = 1, .max_iter = 300, .tol = 1e-4, .batch_size = 1024,
                   .chain_length = 200};
    o->memory = -1; /* until --memory sets it; then $STRATA_KMEANS_MEMORY is not read */
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":k:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'k': rc = cli_parse_int("-k", optarg, 1, &o->k); break;
        case 'o': o->output = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_INIT: o->init = optarg; break;
        case OPT_N_INIT: rc = cli_parse_int("--n-init", optarg, 1, &o->n_init); break;
        case OPT_MAX_ITER: rc = cli_parse_int("--max-iter", optarg, 1, &o->max_iter); break;
        case OPT_TOL: rc = cli_parse_double("--tol", optarg, 0.0, &o->tol); break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_ALGORITHM: rc = parse_algorithm(optarg, &o->algorithm); break;
        case OPT_BATCH_SIZE: rc = cli_parse_int("--batch-size", optarg, 1, &o->batch_size); break;
        case OPT_CHAIN_LENGTH: rc = cli_parse_int("--chain-length", optarg, 1, &o->chain_length); break;
        case OPT_MEMORY: rc = cli_parse_size("--memory", optarg, &o->memory); break;
        default:
            if (!cli_input_option(&o->in, c, optarg) && !cli_progress_option(c, optarg, &rc))
                rc = cli_bad_option("kmeans", c, argv);
        }
    }
    if (!rc && o->memory < 0) { /* the default, a junk value an error only then */
        o->memory = 0;
        rc = cli_size_from_env("STRATA_KMEANS_MEMORY", &o->memory);
    }
    if (rc || o->help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "IN.h5:/dataset", "kmeans", &o->input)))
        return rc;
    if (o->k < 0)
        return cli_error(CLI_USAGE, "missing -k K (number of clusters)");
    if (!o->output)
        return cli_error(CLI_USAGE, "missing -o OUT.h5 (output file)");
    return CLI_OK;
}

/* Split the input and a --init FILE:/dataset into o's file and dataset parts. */
static int split_targets(options *o)
{
    int rc = cli_input_finish(&o->in, o->input);
    if (rc || !o->init || cli_init_method(o->init) >= 0)
        return rc;
    rc = cli_split_target(o->init, &o->init_file, &o->init_dataset);
    if (rc == CLI_USAGE)
        return cli_error(rc, "--init must be k-means++, k-means||, afk-mc2, random or "
                         "FILE.h5:/dataset, got '%s'",
                         o->init);
    return rc;
}

static int configure(strata_kmeans *km, const options *o)
{
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_K, o->k));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_THREADS, o->threads));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, o->max_iter));
    CLI_TRY(km, strata_kmeans_set_double(km, STRATA_KMEANS_TOL, o->tol));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, o->algorithm));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, o->batch_size));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_CHAIN_LENGTH, o->chain_length));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_MEMORY, o->memory));
    if (cli_init_method(o->init) >= 0)
        CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_INIT, cli_init_method(o->init)));
    if (!o->init_file)
        return CLI_OK;
    int64_t k;
    CLI_TRY(km, strata_kmeans_set_init_centroids_h5(km, o->init_file, o->init_dataset));
    CLI_TRY(km, strata_kmeans_get_int(km, STRATA_KMEANS_K, &k));
    if (k != o->k)
        return cli_error(CLI_USAGE, "--init %s holds %lld centroids but -k is %lld", o->init,
                         (long long)k, (long long)o->k);
    return CLI_OK;
}

/* One line per cluster: size, share and (up to MAX_SHOWN of) its centroid. */
static void print_clusters(const double *centroids, const int64_t *counts, int64_t n, int64_t k,
                           int64_t d)
{
    enum { MAX_SHOWN = 8 };
    printf("  cluster        size   share  centroid\n");
    for (int64_t c = 0; c < k; c++) {
        printf("  %7lld  %10lld  %5.1f%% ", (long long)c, (long long)counts[c],
               100.0 * (double)counts[c] / (double)n);
        for (int64_t f = 0; f < d && f < MAX_SHOWN; f++)
            printf(" %.5g", centroids[c * d + f]);
        if (d > MAX_SHOWN)
            printf(" ... (%lld values)", (long long)d);
        putchar('\n');
    }
}

static int summarise(strata_kmeans *km, const options *o, double seconds)
{
    int64_t n, d, k, n_iter, converged, kernel, algorithm, streamed;
    double inertia;
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N, &n));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_D, &d));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_K, &k));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &n_iter));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &converged));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_KERNEL, &kernel));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ALGORITHM, &algorithm));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_STREAMED, &streamed));
    CLI_TRY(km, strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia));
    /* cluster sizes, not a copy of the labels: n x 4 bytes a --memory
     * budget may not have room for twice */
    double *centroids = malloc((size_t)(k * d) * sizeof *centroids);
    int64_t *counts = calloc((size_t)k, sizeof *counts);
    int rc = centroids && counts ? CLI_OK : cli_error(CLI_RUNTIME, "out of memory");
    int st = STRATA_OK;
    if (!rc && ((st = strata_kmeans_cluster_sizes(km, counts, k)) ||
                (st = strata_kmeans_centroids(km, centroids, k, d))))
        rc = cli_library_error(st, strata_last_error());
    if (!rc) {
        printf("strata kmeans: %s -> %s\n", o->in.source ? o->in.source : o->input, o->output);
        printf("  k = %lld, n = %lld rows, d = %lld features\n", (long long)k, (long long)n,
               (long long)d);
        const int mb = algorithm == STRATA_ALGO_MINIBATCH;
        printf("  inertia %.6g, %lld %s, %s, %.2f s (read + fit), kernel %s\n", inertia,
               (long long)n_iter, mb ? "mini-batch steps" : "iterations",
               converged ? (mb ? "stopped early" : "converged")
                         : "not converged (max-iter reached)",
               seconds, strata_kernel_name((int)kernel));
        if (streamed)
            printf("  streamed from the file in blocks (the data exceed --memory)\n");
        print_clusters(centroids, counts, n, k, d);
    }
    free(centroids);
    free(counts);
    return rc;
}

/* The fit's feature names and key (--columns, --table), under the summary. */
static void print_features(const strata_kmeans *km)
{
    int64_t d;
    if (!strata_kmeans_feature_name(km, 0) ||
        strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_D, &d) != STRATA_OK)
        return;
    printf("  features:");
    for (int64_t j = 0; j < d; j++)
        printf("%s %s", j ? "," : "", strata_kmeans_feature_name(km, j));
    if (strata_kmeans_key_name(km))
        printf("; row key: %s", strata_kmeans_key_name(km));
    putchar('\n');
}

static int run(strata_kmeans *km, const options *o)
{
    int rc = configure(km, o);
    if (rc)
        return rc;
    CLI_TRY(km, strata_kmeans_set_step_progress(km, cli_progress_step, NULL));
    cli_progress_begin("kmeans");
    double t0 = cli_now();
#ifdef STRATA_CLI_MPI
    /* strata-mpi: a dataset is fitted and written by all ranks together */
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!o->in.dataset && size > 1)
        return cli_error(CLI_USAGE, "strata-mpi kmeans under mpirun reads one 2-D dataset "
                         "(IN.h5:/dataset), not --columns or --table");
    if (o->in.dataset) {
        int st = strata_kmeans_fit_h5_mpi(km, MPI_COMM_WORLD, o->in.file, o->in.dataset);
        double seconds = cli_now() - t0;
        if (!st)
            st = strata_kmeans_write_h5_mpi(km, MPI_COMM_WORLD, o->output,
                                            o->in.source ? o->in.source : o->input,
                                            o->force ? STRATA_WRITE_FORCE : 0);
        cli_progress_end();
        if (st)
            return cli_library_error(st, strata_kmeans_last_error(km));
        return summarise(km, o, seconds);
    }
#endif
    int st = o->in.dataset ? strata_kmeans_fit_h5(km, o->in.file, o->in.dataset)
                           : cli_input_fit(&o->in, km);
    double seconds = cli_now() - t0;
    if (!rc && !st)
        st = strata_kmeans_write_h5(km, o->output, o->in.source ? o->in.source : o->input,
                                    o->force ? STRATA_WRITE_FORCE : 0);
    cli_progress_end();
    if (!rc && st)
        rc = cli_library_error(st, strata_kmeans_last_error(km));
    if (!rc)
        rc = summarise(km, o, seconds);
    if (!rc)
        print_features(km);
    return rc;
}

int cmd_kmeans(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help) {
            fputs(HELP_HEAD, stdout);
            fputs(CLI_INPUT_HELP, stdout);
            fputs(HELP, stdout);
        }
        return rc;
    }
    strata_kmeans *km = NULL;
    if (!(rc = split_targets(&o))) {
        const cli_input inputs[] = {{o.in.file, "input file"}, {o.init_file, "--init file"}};
        rc = cli_check_files(inputs, 2, o.output, o.force);
    }
    if (!rc) {
        int st = strata_kmeans_create(&km);
        rc = st ? cli_library_error(st, strata_last_error()) : run(km, &o);
    }
    strata_kmeans_free(km);
    cli_input_free(&o.in);
    free(o.init_file);
    return rc;
}
