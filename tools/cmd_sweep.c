/* strata sweep: fit k-means for a range of k, print the quality of each fit
 * and the suggested k, optionally write the table to HDF5. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "cli_input.h"
#include "cli_scale.h"

/* Default rows of the sampled Euclidean silhouette (O(s^2 d) per k). */
#define DEFAULT_SAMPLE 10000

static const char HELP_HEAD[] =
    "usage: strata sweep IN.h5:/path/to/dataset -k KMIN:KMAX [options]\n"
    "       strata sweep IN.h5 --columns /a,/b,... -k KMIN:KMAX [options]\n"
    "       strata sweep IN.h5 --table KEY [--features a,b,...] -k KMIN:KMAX [options]\n"
    "\n"
    "Fit k-means to the rows of a 2-D numeric dataset (or of named columns or a\n"
    "table) for every k in KMIN..KMAX, after the --transform of each feature,\n"
    "and print, per k: inertia, Calinski-Harabasz (higher is better), Davies-\n"
    "Bouldin (lower is better), the exact silhouette with squared Euclidean\n"
    "distances and the Euclidean silhouette on a sample of rows (higher is\n"
    "better), then the suggested k: the knee of inertia against k (Kneedle; with\n"
    "fewer than 3 k or no knee, the best squared-Euclidean silhouette). See\n"
    "docs/tiers.md, \"Choosing k\".\n"
    "\n";

static const char HELP[] =
    "\n"
    "options:\n"
    "  -k KMIN:KMAX       the range of k (2 <= KMIN <= KMAX < rows; required)\n"
    "  --transform T      scale each feature first, one of:\n"
    "                     " CLI_TRANSFORM_VALUES "\n"
    "                     (docs/tiers.md, \"Scaling\"; auto = log1p then z-score for\n"
    "                     a non-negative feature with skewness > 1, z-score for the\n"
    "                     others). Default: none for IN.h5:/dataset (the raw\n"
    "                     values, as before), auto for --columns and --table\n"
    "                     (customer features such as spend are heavy-tailed and in\n"
    "                     different units). strata kmeans clusters the raw values:\n"
    "                     rate k for it with --transform none; strata tiers takes\n"
    "                     the same --transform (default auto)\n"
    "  -o OUT.h5          also write /sweep/k, /sweep/inertia, /sweep/calinski_harabasz,\n"
    "                     /sweep/davies_bouldin, /sweep/silhouette_sqeuclidean,\n"
    "                     /sweep/silhouette and the attributes suggested_k and\n"
    "                     sample_size of /sweep, the root attributes source,\n"
    "                     strata_version, created, seed, n_init, k_min, k_max,\n"
    "                     sample and transform (the --transform used),\n"
    "                     /feature_names (--columns, --table) and, unless the\n"
    "                     transform is none, the fitted /transform/center,\n"
    "                     /transform/scale, /transform/log1p (1 = log1p first) and\n"
    "                     /transform/method; an existing file is kept unless --force\n"
    "  --sample N         rows of the Euclidean silhouette, a uniform sample drawn\n"
    "                     with --seed, the same for every k (default 10000; 0 = every\n"
    "                     row, O(rows^2) work)\n"
    "  --seed S           random seed of the fits and the sample, >= 0 (default 0)\n"
    "  --threads T        worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  --n-init N         runs from different starts per k, the best is kept (default 1)\n"
    CLI_PROGRESS_HELP
    "  --force            replace OUT.h5 if it exists (a regular file, never the input)\n"
    "  -h, --help         show this help\n"
    "\n"
    CLI_EXIT_HELP;

typedef struct options {
    const char *input, *output;
    cli_features in;       /* the input: its file, and its dataset in the matrix form */
    const char *transform; /* the --transform text, default resolved */
    int transform_code;
    int64_t k_min, k_max, sample, seed, threads, n_init;
    int force, help;
} options;

enum { OPT_SAMPLE = 256, OPT_SEED, OPT_THREADS, OPT_N_INIT, OPT_FORCE, OPT_TRANSFORM };

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"n-init", required_argument, NULL, OPT_N_INIT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"transform", required_argument, NULL, OPT_TRANSFORM},
        {"help", no_argument, NULL, 'h'},
        CLI_INPUT_OPTIONS,
        CLI_PROGRESS_OPTIONS,
        {NULL, 0, NULL, 0}};
    *o = (options){.k_min = -1, .sample = DEFAULT_SAMPLE, .n_init = 1};
    int c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":k:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'k': rc = cli_parse_k("-k", optarg, 1, &o->k_min, &o->k_max); break;
        case 'o': o->output = optarg; break;
        case 'h': o->help = 1; break;
        case OPT_SAMPLE: rc = cli_parse_int("--sample", optarg, 0, &o->sample); break;
        case OPT_SEED: rc = cli_parse_int("--seed", optarg, 0, &o->seed); break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &o->threads); break;
        case OPT_N_INIT: rc = cli_parse_int("--n-init", optarg, 1, &o->n_init); break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_TRANSFORM: o->transform = optarg; break;
        default:
            if (!cli_input_option(&o->in, c, optarg) && !cli_progress_option(c, optarg, &rc))
                rc = cli_bad_option("sweep", c, argv);
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
    if ((rc = cli_input_finish(&o->in, o->input)))
        return rc;
    if (!o->transform) /* the matrix form keeps its raw values, as before */
        o->transform = o->in.dataset ? "none" : "auto";
    return cli_parse_transform(o->transform, &o->transform_code);
}

static int configure(strata_kmeans *km, const options *o)
{
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_SEED, o->seed));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_THREADS, o->threads));
    CLI_TRY(km, strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, o->n_init));
    return CLI_OK;
}

/* The rows to sweep, as read: n x d float64, feature names when the input has them. */
typedef struct rows {
    strata_frame *frame;
    double *own;           /* the matrix form's rows (else the frame's) */
    const double *x;
    const char **names;    /* d names or NULL */
    int64_t n, d;
} rows;

static void rows_free(rows *r)
{
    strata_frame_free(r->frame);
    free(r->own);
    free(r->names);
}

static int read_rows(const options *o, rows *r)
{
    const char *in = o->in.source ? o->in.source : o->input;
    int st;
    if (o->in.dataset) {
        if ((st = strata_h5_shape(o->in.file, o->in.dataset, &r->n, &r->d)))
            return cli_library_error(st, strata_last_error());
    } else {
        int rc = cli_input_read(&o->in, &r->frame);
        if (rc)
            return rc;
        if ((st = strata_frame_shape(r->frame, &r->n, &r->d)))
            return cli_library_error(st, strata_last_error());
    }
    if (r->n < 1)
        return cli_error(CLI_RUNTIME, "%s has no rows", in);
    if (o->k_max > r->n - 1)
        return cli_error(CLI_USAGE, "-k %lld:%lld: KMAX must be below the %lld rows of %s",
                         (long long)o->k_min, (long long)o->k_max, (long long)r->n, in);
    if (r->frame) {
        r->x = strata_frame_data(r->frame);
        if (!(r->names = malloc((size_t)r->d * sizeof *r->names)))
            return cli_error(CLI_RUNTIME, "out of memory");
        for (int64_t j = 0; j < r->d; j++)
            r->names[j] = strata_frame_name(r->frame, j);
        return CLI_OK;
    }
    if (!(r->own = malloc((size_t)r->n * (size_t)r->d * sizeof *r->own)))
        return cli_error(CLI_RUNTIME, "out of memory for %lld x %lld values", (long long)r->n,
                         (long long)r->d);
    r->x = r->own;
    cli_progress_note(STRATA_STEP_READ, 0, r->n);
    if ((st = strata_h5_read_matrix(o->in.file, o->in.dataset, STRATA_FLOAT64, r->own, r->n, r->d)))
        return cli_library_error(st, strata_last_error());
    cli_progress_note(STRATA_STEP_READ, r->n, r->n);
    return CLI_OK;
}

/* OUT.h5: the /sweep group (as strata_sweep_write_h5() writes it), the
 * transform and the feature names; all or nothing. */
static int write_output(const options *o, const rows *r, const cli_scaling *s,
                        const double *table, int64_t suggested, int64_t used)
{
    strata_out *w = NULL;
    const char *inputs[1] = {o->in.file};
    int st = strata_out_open(&w, o->output, inputs, 1, o->force ? STRATA_WRITE_FORCE : 0);
    if (st)
        return cli_library_error(st, strata_last_error());
    st = strata_out_set_int(w, STRATA_THREADS, o->threads);
    if (!st)
        st = strata_out_sweep(w, o->k_min, o->k_max, table, suggested, used);
    if (!st && r->names)
        st = strata_out_strings(w, "/feature_names", NULL, r->names, r->d);
    if (!st && s->x)
        st = cli_out_transform(w, s, o->transform);
    if (!st)
        st = strata_out_attr_string(w, NULL, "transform", o->transform);
    if (!st)
        st = strata_out_attr_string(w, NULL, "strata_version", strata_version_string());
    if (!st) /* provenance: the fits' random seed and starts */
        st = strata_out_attr_int(w, NULL, "seed", o->seed);
    if (!st)
        st = strata_out_attr_int(w, NULL, "n_init", o->n_init);
    if (!st)
        st = strata_out_attr_int(w, NULL, "k_min", o->k_min);
    if (!st)
        st = strata_out_attr_int(w, NULL, "k_max", o->k_max);
    if (!st) /* --sample as given (0: every row); /sweep's sample_size is what was used */
        st = strata_out_attr_int(w, NULL, "sample", o->sample);
    if (!st)
        st = strata_out_attr_string(w, NULL, "source", o->in.source ? o->in.source : o->input);
    if (st) {
        int rc = st == STRATA_E_NOMEM
                     ? cli_error(CLI_RUNTIME, "out of memory writing '%s'", o->output)
                     : cli_library_error(st, strata_out_last_error(w));
        strata_out_discard(w);
        return rc;
    }
    return (st = strata_out_commit(w)) ? cli_library_error(st, strata_last_error()) : CLI_OK;
}

static void print_table(const options *o, const rows *r, const cli_scaling *s,
                        const double *table, int64_t used, int64_t suggested, double seconds)
{
    int64_t n = r->n, d = r->d;
    printf("strata sweep: %s, n = %lld rows, d = %lld features, k = %lld..%lld\n",
           o->in.source ? o->in.source : o->input, (long long)n, (long long)d,
           (long long)o->k_min, (long long)o->k_max);
    if (r->names || s->x) {
        printf("  transform %s:", o->transform);
        for (int64_t j = 0; j < d; j++) {
            printf("%s ", j ? "," : "");
            if (r->names)
                printf("%s ", r->names[j]);
            printf(s->x ? "%s" : "(%s)", cli_transform_name(s->x ? s->transform[j]
                                                                  : STRATA_TRANSFORM_NONE));
        }
        putchar('\n');
    }
    printf("  silhouette on %lld %s (seed %lld); %.2f s\n", (long long)used,
           used == n ? "rows (all)" : "sampled rows", (long long)o->seed, seconds);
    printf("  %4s  %14s  %14s  %14s  %14s  %14s\n", "k", "inertia", "calinski_h.", "davies_b.",
           "silhouette_sq", "silhouette");
    for (int64_t k = o->k_min; k <= o->k_max; k++) {
        const double *m = table + (k - o->k_min) * STRATA_METRIC_COUNT;
        printf("  %4lld  %14.6g  %14.6g  %14.6g  %14.6f  %14.6f%s\n", (long long)k,
               m[STRATA_METRIC_INERTIA], m[STRATA_METRIC_CALINSKI_HARABASZ],
               m[STRATA_METRIC_DAVIES_BOULDIN], m[STRATA_METRIC_SILHOUETTE_SQEUCLIDEAN],
               m[STRATA_METRIC_SILHOUETTE], k == suggested ? "  <- suggested" : "");
    }
    printf("suggested k = %lld\n", (long long)suggested);
}

static int run(strata_kmeans *km, const options *o)
{
    int rc = configure(km, o);
    if (rc)
        return rc;
    CLI_TRY(km, strata_kmeans_set_step_progress(km, cli_progress_step, NULL));
    cli_progress_begin("sweep");
    double t0 = cli_now();
    rows r = {0};
    cli_scaling s = {0};
    double *table = NULL;
    int64_t suggested = 0;
    if ((rc = read_rows(o, &r)))
        goto done;
    if (o->transform_code != STRATA_TRANSFORM_NONE &&
        (rc = cli_scale(o->transform_code, r.x, r.n, r.d, r.names, &s)))
        goto done;
    const int64_t nk = o->k_max - o->k_min + 1;
    if (!(table = malloc((size_t)nk * STRATA_METRIC_COUNT * sizeof *table))) {
        rc = cli_error(CLI_RUNTIME, "out of memory");
        goto done;
    }
    cli_progress_sweep(o->k_min, o->k_max);
    int st = strata_kmeans_sweep(km, STRATA_FLOAT64, s.x ? s.x : r.x, r.n, r.d, 0, NULL,
                                 o->k_min, o->k_max, o->sample, table, &suggested);
    cli_progress_sweep(0, -1);
    if (st) {
        rc = cli_library_error(st, strata_kmeans_last_error(km));
        goto done;
    }
    const int64_t used = o->sample == 0 || o->sample >= r.n ? r.n : o->sample;
    if (o->output) {
        cli_progress_note(STRATA_STEP_WRITE, 0, 1);
        if ((rc = write_output(o, &r, &s, table, suggested, used)))
            goto done;
        cli_progress_note(STRATA_STEP_WRITE, 1, 1);
    }
    cli_progress_end();
    print_table(o, &r, &s, table, used, suggested, cli_now() - t0);
done:
    free(table);
    cli_scaling_free(&s);
    rows_free(&r);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help) {
            fputs(HELP_HEAD, stdout);
            fputs(CLI_INPUT_HELP, stdout);
            fputs(HELP, stdout);
        }
        cli_input_free(&o.in);
        return rc;
    }
    const cli_input inputs[] = {{o.in.file, "input file"}};
    if (o.output)
        rc = cli_check_files(inputs, 1, o.output, o.force);
    strata_kmeans *km = NULL;
    if (!rc) {
        int st = strata_kmeans_create(&km);
        rc = st ? cli_library_error(st, strata_last_error()) : run(km, &o);
    }
    strata_kmeans_free(km);
    cli_input_free(&o.in);
    return rc;
}
