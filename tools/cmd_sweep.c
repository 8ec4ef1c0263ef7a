/* strata sweep: fit k-means for a range of k, print the quality of each fit
 * and the suggested k, optionally write the table to HDF5. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Default rows of the sampled Euclidean silhouette (O(s^2 d) per k). */
#define DEFAULT_SAMPLE 10000

static const char HELP[] =
    "usage: strata sweep IN.h5:/path/to/dataset -k KMIN:KMAX [options]\n"
    "\n"
    "Fit k-means to the rows of a 2-D numeric dataset for every k in KMIN..KMAX\n"
    "and print, per k: inertia, Calinski-Harabasz (higher is better), Davies-\n"
    "Bouldin (lower is better), the exact silhouette with squared Euclidean\n"
    "distances and the Euclidean silhouette on a sample of rows (higher is\n"
    "better), then the suggested k: the knee of inertia against k (Kneedle; with\n"
    "fewer than 3 k or no knee, the best squared-Euclidean silhouette). See\n"
    "docs/tiers.md, \"Choosing k\".\n"
    "\n"
    "options:\n"
    "  -k KMIN:KMAX       the range of k (2 <= KMIN <= KMAX < rows; required)\n"
    "  -o OUT.h5          also write /sweep/k, /sweep/inertia, /sweep/calinski_harabasz,\n"
    "                     /sweep/davies_bouldin, /sweep/silhouette_sqeuclidean,\n"
    "                     /sweep/silhouette and the attributes suggested_k and\n"
    "                     sample_size of /sweep; an existing file is kept unless --force\n"
    "  --sample N         rows of the Euclidean silhouette, a uniform sample drawn\n"
    "                     with --seed, the same for every k (default 10000; 0 = every\n"
    "                     row, O(rows^2) work)\n"
    "  --seed S           random seed of the fits and the sample, >= 0 (default 0)\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  --n-init N         runs from different starts per k, the best is kept (default 1)\n"
    "  --force            replace OUT.h5 if it exists (a regular file, never the input)\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists (no --force)\n";

typedef struct options {
    const char *input, *output;
    char *in_file;
    const char *in_dataset;
    int64_t k_min, k_max, sample, seed, threads, n_init;
    int force, help;
} options;

enum { OPT_SAMPLE = 256, OPT_SEED, OPT_THREADS, OPT_N_INIT, OPT_FORCE };

static int parse_range(const char *text, int64_t *lo, int64_t *hi)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        return cli_error(CLI_USAGE, "-k must be a range KMIN:KMAX, got '%s'", text);
    char first[32];
    size_t len = (size_t)(colon - text);
    if (len == 0 || len >= sizeof first)
        return cli_error(CLI_USAGE, "-k must be a range KMIN:KMAX, got '%s'", text);
    memcpy(first, text, len);
    first[len] = '\0';
    int rc = cli_parse_int("-k (KMIN)", first, 2, lo);
    if (!rc)
        rc = cli_parse_int("-k (KMAX)", colon + 1, 2, hi);
    if (!rc && *hi < *lo)
        rc = cli_error(CLI_USAGE, "-k %s: KMAX is below KMIN", text);
    return rc;
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"n-init", required_argument, NULL, OPT_N_INIT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (options){.k_min = -1, .sample = DEFAULT_SAMPLE, .n_init = 1};
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":k:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'k': rc = parse_range(optarg, &o->k_min, &o->k_max); break;
        case 'o': o->output = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_SAMPLE: rc = cli_parse_int("--sample", optarg, 0, &o->sample); break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_N_INIT: rc = cli_parse_int("--n-init", optarg, 1, &o->n_init); break;
        case OPT_FORCE: o->force = 1; break;
        default: rc = cli_bad_option("sweep", c, argv);
        }
    }
    if (rc || o->help)
        return rc;
    if ((rc = cli_one_input(argc, argv, optind, "IN.h5:/dataset", "sweep", &o->input)))
        return rc;
    if (o->k_min < 0)
        return cli_error(CLI_USAGE, "missing -k KMIN:KMAX (the range of k)");
    if (o->sample == 1)
        return cli_error(CLI_USAGE, "--sample must be 0 (every row) or >= 2, got 1");
    rc = cli_split_target(o->input, &o->in_file, &o->in_dataset);
    if (rc == CLI_USAGE)
        return cli_error(rc, "input must look like IN.h5:/path/to/dataset, got '%s'", o->input);
    return rc;
}

static int configure(strata_kmeans *km, const options *o)
{
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_THREADS, o->threads));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init));
    return CLI_OK;
}

static void print_table(const options *o, const double *table, int64_t n, int64_t d,
                        int64_t used, int64_t suggested, double seconds)
{
    printf("strata sweep: %s, n = %lld rows, d = %lld features, k = %lld..%lld\n", o->input,
           (long long)n, (long long)d, (long long)o->k_min, (long long)o->k_max);
    printf("  silhouette on %lld %s (seed %lld); %.2f s\n", (long long)used,
           used == n ? "rows (all)" : "sampled rows", (long long)o->seed, seconds);
    printf("  %4s  %14s  %14s  %14s  %14s  %14s\n", "k", "inertia", "calinski_h.", "davies_b.",
           "silhouette_sq", "silhouette");
    for (int64_t k = o->k_min; k <= o->k_max; k++) {
        const double *r = table + (k - o->k_min) * STRATA_METRIC_COUNT;
        printf("  %4lld  %14.6g  %14.6g  %14.6g  %14.6f  %14.6f%s\n", (long long)k,
               r[STRATA_METRIC_INERTIA], r[STRATA_METRIC_CALINSKI_HARABASZ],
               r[STRATA_METRIC_DAVIES_BOULDIN], r[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN],
               r[STRATA_METRIC_SILHOUETTE], k == suggested ? "  <- suggested" : "");
    }
    printf("suggested k = %lld\n", (long long)suggested);
}

static int run(strata_kmeans *km, const options *o)
{
    int rc = configure(km, o);
    if (rc)
        return rc;
    int64_t n, d;
    int st = strata_h5_shape(o->in_file, o->in_dataset, &n, &d);
    if (st)
        return cli_library_error(st, strata_last_error());
    if (n < 1)
        return cli_error(CLI_RUNTIME, "%s has no rows", o->input);
    if (o->k_max > n - 1)
        return cli_error(CLI_USAGE, "-k %lld:%lld: KMAX must be below the %lld rows of %s",
                         (long long)o->k_min, (long long)o->k_max, (long long)n, o->input);
    const int64_t nk = o->k_max - o->k_min + 1;
    double *x = malloc((size_t)n * (size_t)d * sizeof *x);
    double *table = malloc((size_t)nk * STRATA_METRIC_COUNT * sizeof *table);
    if (!x || !table) {
        free(x);
        free(table);
        return cli_error(CLI_RUNTIME, "out of memory for %lld x %lld values", (long long)n,
                         (long long)d);
    }
    double t0 = cli_now();
    int64_t suggested = 0;
    st = strata_h5_read_matrix(o->in_file, o->in_dataset, STRATA_FLOAT64, x, n, d);
    if (st)
        rc = cli_library_error(st, strata_last_error());
    else if ((st = strata_kmeans_sweep(km, STRATA_FLOAT64, x, n, d, 0, NULL, o->k_min, o->k_max,
                                       o->sample, table, &suggested)))
        rc = cli_library_error(st, strata_kmeans_last_error(km));
    const int64_t used = o->sample == 0 || o->sample >= n ? n : o->sample;
    if (!rc && o->output &&
        (st = strata_sweep_write_h5(o->output, o->k_min, o->k_max, table, suggested, used,
                                    o->input, o->force ? STRATA_WRITE_FORCE : 0)))
        rc = cli_library_error(st, strata_last_error());
    if (!rc)
        print_table(o, table, n, d, used, suggested, cli_now() - t0);
    free(x);
    free(table);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help)
            fputs(HELP, stdout);
        free(o.in_file);
        return rc;
    }
    const cli_input inputs[] = {{o.in_file, "input file"}};
    if (o.output)
        rc = cli_check_files(inputs, 1, o.output, o.force);
    strata_kmeans *km = NULL;
    if (!rc) {
        int st = strata_kmeans_create(&km);
        rc = st ? cli_library_error(st, strata_last_error()) : run(km, &o);
    }
    strata_kmeans_free(km);
    free(o.in_file);
    return rc;
}
