/* strata demo: the whole job on a synthetic customer base. Generate customers
 * and write them to HDF5, read them back, standardise (log1p on heavy-tailed
 * features, then z-scores), segment with k-means, write the segments, and
 * print each segment's profile in the original units. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "demo_rfm.h"
#include "synth.h"

#define DATASET "/customers/features"

static const char HELP[] =
    "usage: strata demo [-o DIR] [--n N] [--k K] [--seed S] [--threads T]\n"
    "\n"
    "Generate a synthetic customer base (recency, frequency, spend, basket,\n"
    "tenure, web and discount shares, drawn around five hidden tiers), write it\n"
    "to DIR/customers.h5:" DATASET " (float32), segment it with k-means on\n"
    "standardised features (log1p of the heavy-tailed ones, then z-scores),\n"
    "write DIR/segments.h5 and print each segment's size and mean features.\n"
    "Then turn the same customers into the transaction log they imply, score it\n"
    "by RFM (strata rfm's defaults), write DIR/rfm.h5 and print the segment table.\n"
    "\n"
    "options:\n"
    "  -o DIR         output folder, created if missing (default: a new folder\n"
    "                 under $TMPDIR or /tmp); existing files in it are kept\n"
    "  --n N          customers (default 1000000)\n"
    "  --k K          segments (default 5)\n"
    "  --seed S       seed of the data and of k-means, >= 0 (default 42)\n"
    "  --threads T    worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  -h, --help     show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 an output file exists in DIR\n";

typedef struct options {
    const char *dir;
    int64_t n, k, seed, threads;
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
                                          {NULL, 0, NULL, 0}};
    *o = (options){.n = 1000000, .k = 5, .seed = 42};
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->dir = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_N: rc = cli_parse_int("--n", optarg, 1, &o->n); break;
        case OPT_K: rc = cli_parse_int("--k", optarg, 1, &o->k); break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        default: rc = cli_bad_option("demo", c, argv);
        }
    }
    if (!rc && !o->help && optind < argc)
        rc = cli_error(CLI_USAGE, "unexpected argument '%s' (see 'strata demo --help')",
                       argv[optind]);
    if (!rc && o->k > o->n)
        rc = cli_error(CLI_USAGE, "--k %lld is more than --n %lld customers", (long long)o->k,
                       (long long)o->n);
    return rc;
}

/* The output folder: -o DIR (created if missing) or a fresh temporary one. */
static int make_dir(const options *o, char **dir)
{
    if (o->dir) {
        struct stat st;
        if (mkdir(o->dir, 0777) != 0 && (errno != EEXIST || stat(o->dir, &st) != 0 ||
                                         !S_ISDIR(st.st_mode)))
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
        *dir = strdup(pattern);
    }
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

/* Generate the customers and write them; keep their hidden tiers. */
static int write_customers(const options *o, const char *path, uint8_t *tier, double *seconds)
{
    double t0 = cli_now();
    float *x = malloc((size_t)o->n * SYNTH_FEATURES * sizeof *x);
    if (!x)
        return cli_error(CLI_RUNTIME, "out of memory for %lld customers", (long long)o->n);
    synth_customers(o->n, (uint64_t)o->seed, x, tier);
    int st = strata_h5_write_matrix(path, DATASET, STRATA_FLOAT32, x, o->n, SYNTH_FEATURES, 0);
    free(x);
    *seconds = cli_now() - t0;
    return st ? cli_library_error(st, strata_last_error()) : CLI_OK;
}

/* Read the customers back, as any later job would. */
static int read_customers(const char *path, float **x, int64_t *n)
{
    int64_t d;
    int st = strata_h5_shape(path, DATASET, n, &d);
    if (st)
        return cli_library_error(st, strata_last_error());
    if (d != SYNTH_FEATURES)
        return cli_error(CLI_RUNTIME, "'%s:%s' has %lld columns, expected %d", path, DATASET,
                         (long long)d, SYNTH_FEATURES);
    *x = malloc((size_t)*n * SYNTH_FEATURES * sizeof **x);
    if (!*x)
        return cli_error(CLI_RUNTIME, "out of memory for %lld customers", (long long)*n);
    st = strata_h5_read_matrix(path, DATASET, STRATA_FLOAT32, *x, *n, SYNTH_FEATURES);
    return st ? cli_library_error(st, strata_last_error()) : CLI_OK;
}

/* z[i][f] = (t(x[i][f]) - mean_f) / sd_f with t = log1p on skewed features. */
static void standardise(const float *x, int64_t n, float *z)
{
    double sum[SYNTH_FEATURES] = {0}, sq[SYNTH_FEATURES] = {0};
    for (int64_t i = 0; i < n * SYNTH_FEATURES; i++) {
        int f = (int)(i % SYNTH_FEATURES);
        double v = synth_feature_skewed[f] ? log1p(x[i]) : x[i];
        z[i] = (float)v;
        sum[f] += v;
        sq[f] += v * v;
    }
    double mean[SYNTH_FEATURES], inv_sd[SYNTH_FEATURES];
    for (int f = 0; f < SYNTH_FEATURES; f++) {
        mean[f] = sum[f] / (double)n;
        double var = sq[f] / (double)n - mean[f] * mean[f];
        inv_sd[f] = var > 0 ? 1.0 / sqrt(var) : 1.0;
    }
    for (int64_t i = 0; i < n * SYNTH_FEATURES; i++) {
        int f = (int)(i % SYNTH_FEATURES);
        z[i] = (float)(((double)z[i] - mean[f]) * inv_sd[f]);
    }
}

/* Cluster the standardised rows and write the model. */
static int segment(strata_kmeans *km, const options *o, const float *z, int64_t n,
                   const char *source, const char *path, double *seconds)
{
    double t0 = cli_now();
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_K, o->k));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 3));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_THREADS, o->threads));
    CLI_TRY(km, strata_kmeans_fit(km, STRATA_FLOAT32, z, n, SYNTH_FEATURES, 0, NULL));
    *seconds = cli_now() - t0;
    CLI_TRY(km, strata_kmeans_write_h5(km, path, source, 0));
    return CLI_OK;
}

/* Per-segment statistics in the original units. */
typedef struct profile {
    int64_t count;
    double mean[SYNTH_FEATURES];
    int64_t tiers[SYNTH_TIERS];
} profile;

static void build_profiles(const float *x, const uint8_t *tier, const int32_t *labels, int64_t n,
                           int64_t k, profile *p)
{
    for (int64_t i = 0; i < n; i++) {
        profile *q = &p[labels[i]];
        q->count++;
        q->tiers[tier[i]]++;
        for (int f = 0; f < SYNTH_FEATURES; f++)
            q->mean[f] += x[i * SYNTH_FEATURES + f];
    }
    for (int64_t c = 0; c < k; c++)
        for (int f = 0; f < SYNTH_FEATURES; f++)
            p[c].mean[f] /= p[c].count > 0 ? (double)p[c].count : 1.0;
}

/* Segments are shown by decreasing mean spend. */
static const profile *sort_base;
static int by_spend(const void *a, const void *b)
{
    double ma = sort_base[*(const int64_t *)a].mean[2], mb = sort_base[*(const int64_t *)b].mean[2];
    return (ma < mb) - (ma > mb);
}

static void print_profiles(const profile *p, int64_t n, int64_t k, int64_t *order)
{
    printf("\nsegments by decreasing spend, mean features in original units:\n");
    printf("%7s %10s %6s", "segment", "customers", "share");
    for (int f = 0; f < SYNTH_FEATURES; f++)
        printf(" %14s", synth_feature_names[f]);
    printf("  %s\n", "mostly (hidden tier)");
    for (int64_t c = 0; c < k; c++)
        order[c] = c;
    sort_base = p;
    qsort(order, (size_t)k, sizeof *order, by_spend);
    for (int64_t r = 0; r < k; r++) {
        const profile *q = &p[order[r]];
        int best = 0;
        for (int t = 1; t < SYNTH_TIERS; t++)
            if (q->tiers[t] > q->tiers[best])
                best = t;
        printf("%7lld %10lld %5.1f%%", (long long)order[r], (long long)q->count,
               100.0 * (double)q->count / (double)n);
        for (int f = 0; f < SYNTH_FEATURES; f++)
            printf(" %14.*f", synth_feature_skewed[f] ? 1 : 3, q->mean[f]);
        printf("  %s (%.0f%%)\n", synth_tier_names[best],
               q->count ? 100.0 * (double)q->tiers[best] / (double)q->count : 0.0);
    }
}

/* Profile table and model summary. */
static int report(strata_kmeans *km, const float *x, const uint8_t *tier, int64_t n, int64_t k,
                  double fit_seconds)
{
    int64_t n_iter, converged, kernel;
    double inertia;
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_RESULT_N_ITER, &n_iter));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_RESULT_CONVERGED, &converged));
    CLI_TRY(km, strata_kmeans_result_int(km, STRATA_RESULT_KERNEL, &kernel));
    CLI_TRY(km, strata_kmeans_result_double(km, STRATA_RESULT_INERTIA, &inertia));
    printf("k-means: k = %lld in %.2f s (best of 3 starts: %lld iterations, %s, inertia %.6g, "
           "kernel %s)\n", (long long)k, fit_seconds, (long long)n_iter,
           converged ? "converged" : "not converged", inertia, strata_kernel_name((int)kernel));
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    profile *p = calloc((size_t)k, sizeof *p);
    int64_t *order = malloc((size_t)k * sizeof *order);
    int rc = labels && p && order ? CLI_OK : cli_error(CLI_RUNTIME, "out of memory");
    int st = rc ? STRATA_OK : strata_kmeans_labels(km, labels, n);
    if (st)
        rc = cli_library_error(st, strata_kmeans_last_error(km));
    if (!rc) {
        build_profiles(x, tier, labels, n, k, p);
        print_profiles(p, n, k, order);
    }
    free(labels);
    free(p);
    free(order);
    return rc;
}

static void print_files(const char *dir, int64_t n)
{
    printf("\nwrote %s/\n  customers.h5  %s, %lld x %d float32, columns:", dir, DATASET,
           (long long)n, SYNTH_FEATURES);
    for (int f = 0; f < SYNTH_FEATURES; f++)
        printf(" %s", synth_feature_names[f]);
    printf("\n  segments.h5   /labels, /centroids (standardised units), run attributes\n");
    printf("  rfm.h5        RFM scores and segments of the customers' transactions\n");
}

static int run(const options *o, const char *dir, const char *customers, const char *segments,
               const char *rfm)
{
    double gen_s = 0, fit_s = 0;
    int64_t n = 0;
    float *x = NULL, *z = NULL;
    char *source = NULL;
    strata_kmeans *km = NULL;
    uint8_t *tier = malloc((size_t)o->n);
    int rc = tier ? CLI_OK : cli_error(CLI_RUNTIME, "out of memory");
    if (!rc && !(rc = write_customers(o, customers, tier, &gen_s))) {
        printf("strata demo: %lld synthetic customers (seed %lld) made and written in %.2f s "
               "-> %s:%s\n",
               (long long)o->n, (long long)o->seed, gen_s, customers, DATASET);
        rc = read_customers(customers, &x, &n);
    }
    size_t len = strlen(customers) + sizeof DATASET + 64;
    if (!rc) {
        z = malloc((size_t)n * SYNTH_FEATURES * sizeof *z);
        source = malloc(len);
        if (!z || !source)
            rc = cli_error(CLI_RUNTIME, "out of memory for %lld customers", (long long)n);
    }
    if (!rc) {
        standardise(x, n, z);
        snprintf(source, len, "%s:%s (log1p of skewed features, z-scored)", customers, DATASET);
        int st = strata_kmeans_create(&km);
        if (st)
            rc = cli_library_error(st, strata_last_error());
    }
    if (!rc && !(rc = segment(km, o, z, n, source, segments, &fit_s)))
        rc = report(km, x, tier, n, o->k, fit_s);
    if (!rc)
        rc = demo_rfm(x, n, o->seed, o->threads, rfm);
    if (!rc)
        print_files(dir, n);
    strata_kmeans_free(km);
    free(source);
    free(z);
    free(x);
    free(tier);
    return rc;
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
    if ((rc = make_dir(&o, &dir)))
        return rc;
    char *customers = join(dir, "customers.h5"), *segments = join(dir, "segments.h5");
    char *rfm = join(dir, "rfm.h5");
    if (!customers || !segments || !rfm)
        rc = cli_error(CLI_RUNTIME, "out of memory");
    else if (cli_exists(customers) || cli_exists(segments) || cli_exists(rfm))
        rc = cli_error(CLI_EXISTS, "'%s' already holds customers.h5, segments.h5 or rfm.h5; "
                       "choose another -o DIR", dir);
    else
        rc = run(&o, dir, customers, segments, rfm);
    free(customers);
    free(segments);
    free(rfm);
    free(dir);
    return rc;
}
