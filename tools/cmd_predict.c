/* strata predict: assign new rows to the tiers of a saved model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char HELP[] =
    "usage: strata predict MODEL.h5 IN.h5:/dataset -o OUT.h5 [--force] [--threads T]\n"
    "\n"
    "Assign the rows of IN.h5:/dataset (n x d, in the original units the model\n"
    "was fitted in) to the clusters and value tiers of a saved model: the\n"
    "model's transform, then the nearest centroid (a row's tier does not depend\n"
    "on the other rows). MODEL.h5 is a file written by the library's\n"
    "strata_model_write_h5() or any file holding a /model group (the output of\n"
    "strata tiers or strata predict). Writes OUT.h5: /labels, /tier (attribute\n"
    "\"names\": the tier names, best first) and the model under /model.\n"
    "\n"
    "options:\n"
    "  -o OUT.h5      output file (required; never one of the inputs)\n"
    "  --force        replace OUT.h5 if it exists\n"
    "  --threads T    worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  -h, --help     show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists\n";

enum { OPT_FORCE = 256, OPT_THREADS };

int cmd_predict(int argc, char **argv)
{
    static const struct option longs[] = {{"force", no_argument, NULL, OPT_FORCE},
                                          {"threads", required_argument, NULL, OPT_THREADS},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *output = NULL;
    int force = 0, help = 0, c, rc = CLI_OK;
    int64_t threads = 0;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': help = 1; break;
        case OPT_FORCE: force = 1; break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &threads); break;
        default: rc = cli_bad_option("predict", c, argv);
        }
    }
    if (rc)
        return rc;
    if (help) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    if (argc - optind != 2)
        return cli_error(CLI_USAGE, "expected MODEL.h5 and IN.h5:/dataset (see 'strata predict "
                         "--help')");
    if (!output)
        return cli_error(CLI_USAGE, "-o OUT.h5 is required (see 'strata predict --help')");
    const char *model_path = argv[optind], *target = argv[optind + 1], *dataset;
    char *in_file = NULL;
    if ((rc = cli_split_target(target, &in_file, &dataset)))
        return rc == CLI_USAGE ? cli_error(CLI_USAGE, "'%s' is not FILE.h5:/dataset", target) : rc;
    cli_input inputs[2] = {{model_path, "model file"}, {in_file, "input file"}};
    strata_model *m = NULL;
    double *x = NULL;
    int32_t *labels = NULL, *tiers = NULL;
    int64_t n = 0, d = 0, k = 0, md = 0;
    if ((rc = cli_check_files(inputs, 2, output, force)))
        goto done;
    int st = strata_model_read_h5(&m, model_path, NULL);
    if (st) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if ((st = strata_kmeans_set_int(strata_model_kmeans(m), STRATA_THREADS, threads)) ||
        (st = strata_model_shape(m, &k, &md)) || (st = strata_h5_shape(in_file, dataset, &n, &d))) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if (d != md) {
        rc = cli_error(CLI_RUNTIME, "'%s' has %lld columns, the model %lld features (%s, ...)",
                       target, (long long)d, (long long)md, strata_model_feature_name(m, 0));
        goto done;
    }
    x = malloc((size_t)n * (size_t)d * sizeof *x);
    labels = malloc((size_t)n * sizeof *labels);
    tiers = malloc((size_t)n * sizeof *tiers);
    if (!x || !labels || !tiers) {
        rc = cli_error(CLI_RUNTIME, "out of memory for %lld rows", (long long)n);
        goto done;
    }
    if ((st = strata_h5_read_matrix(in_file, dataset, STRATA_FLOAT64, x, n, d))) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if ((st = strata_model_predict(m, x, n, d, 0, labels, tiers)) ||
        (st = strata_model_write_tiers_h5(m, output, NULL, labels, tiers, n, target,
                                          force ? STRATA_WRITE_FORCE : 0))) {
        rc = cli_library_error(st, strata_model_last_error(m));
        goto done;
    }
    int64_t nt = strata_model_tier_count(m);
    int64_t *count = calloc((size_t)nt, sizeof *count);
    for (int64_t i = 0; count && i < n; i++)
        count[tiers[i]]++;
    printf("%lld rows -> %s\n", (long long)n, output);
    for (int64_t t = 0; count && t < nt; t++)
        printf("  %-12s %12lld\n", strata_model_tier_name(m, t), (long long)count[t]);
    free(count);
done:
    strata_model_free(m);
    free(x);
    free(labels);
    free(tiers);
    free(in_file);
    return rc;
}
