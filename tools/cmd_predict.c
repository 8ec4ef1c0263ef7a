/* strata predict: assign new rows to the tiers of a saved model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "cli_input.h"

static const char HELP[] =
    "usage: strata predict MODEL.h5 IN.h5:/dataset -o OUT.h5 [--force] [--threads T]\n"
    "                      [--memory SIZE]\n"
    "       strata predict MODEL.h5 IN.h5 --columns /a,/b,... | --table KEY [--features ...]\n"
    "                      [--key DS|none] -o OUT.h5 [--force] [--threads T]\n"
    "                      [--memory SIZE]\n"
    "\n"
    "Assign customers (rows in the original units the model was fitted in) to\n"
    "the clusters and value tiers of a saved model: the model's transform, then\n"
    "the nearest centroid (a row's tier does not depend on the other rows).\n"
    "MODEL.h5 is a file written by the library's strata_model_write_h5() or any\n"
    "file holding a /model group (the output of strata tiers or strata predict).\n"
    "A matrix input is taken column by column in the model's feature order; a\n"
    "--columns or --table input is matched to the model's features by name (a\n"
    "table may hold other columns too: the output of strata rfm is a valid\n"
    "input with --table /). Writes OUT.h5: /labels, /tier (attribute \"names\":\n"
    "the tier names, best first), /customer_id when the input has a row key,\n"
    "and the model under /model.\n"
    "\n"
    "options:\n"
    "  -o OUT.h5      output file (required; never one of the inputs)\n"
    "  --force        replace OUT.h5 if it exists\n"
    "  --threads T    worker threads, 0 = all cores / OMP_NUM_THREADS (default 0)\n"
    "  --memory SIZE  memory budget (1G, 1.5G, 512M, 100K or bytes; default:\n"
    "                 $STRATA_KMEANS_MEMORY if set, else 0: no limit), as strata\n"
    "                 kmeans': 24 MiB of it go to the program itself. An input\n"
    "                 whose rows and results do not fit it is streamed: read\n"
    "                 in blocks sized to the budget, each assigned and\n"
    "                 appended to OUT.h5 (written as a temporary, renamed at\n"
    "                 the end), so neither the rows nor the output are ever in\n"
    "                 memory whole; OUT.h5 holds the same values and\n"
    "                 attributes as when loaded. A --columns or --table\n"
    "                 input's row keys are held whole (16 bytes a row while\n"
    "                 they are checked distinct). A budget too small for one\n"
    "                 block fails naming the least\n"
    "  -h, --help     show this help\n"
    "\n";
static const char HELP_END[] =
    CLI_PROGRESS_HELP
    "\n"
    CLI_EXIT_HELP;

enum { OPT_FORCE = 256, OPT_THREADS, OPT_MEMORY };

int cmd_predict(int argc, char **argv)
{
    static const struct option longs[] = {CLI_INPUT_OPTIONS,
                                          {"force", no_argument, NULL, OPT_FORCE},
                                          {"threads", required_argument, NULL, OPT_THREADS},
                                          {"memory", required_argument, NULL, OPT_MEMORY},
                                          {"help", no_argument, NULL, 'h'},
                                          CLI_PROGRESS_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    const char *output = NULL;
    int force = 0, help = 0, c, rc = CLI_OK;
    int64_t threads = 0, memory = -1; /* -1 until --memory: then the environment is not read */
    cli_features in = {0};
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        if (cli_input_option(&in, c, optarg) || cli_progress_option(c, optarg, &rc))
            continue;
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': help = 1; break;
        case OPT_FORCE: force = 1; break;
        case OPT_THREADS: rc = cli_parse_int("--threads", optarg, 0, &threads); break;
        case OPT_MEMORY: rc = cli_parse_size("--memory", optarg, &memory); break;
        default: rc = cli_bad_option("predict", c, argv);
        }
    }
    if (!rc && !help && memory < 0) { /* the default, a junk value an error only then */
        memory = 0;
        rc = cli_size_from_env("STRATA_KMEANS_MEMORY", &memory);
    }
    if (rc)
        return rc;
    if (help) {
        fputs(HELP, stdout);
        fputs(CLI_INPUT_HELP, stdout);
        fputs(HELP_END, stdout);
        return CLI_OK;
    }
    if (argc - optind != 2)
        return cli_error(CLI_USAGE, "expected MODEL.h5 and the input (see 'strata predict "
                         "--help')");
    if (!output)
        return cli_error(CLI_USAGE, "-o OUT.h5 is required (see 'strata predict --help')");
    const char *model_path = argv[optind];
    if ((rc = cli_input_finish(&in, argv[optind + 1])))
        return rc;
    cli_input inputs[2] = {{model_path, "model file"}, {in.file, "input file"}};
    strata_model *m = NULL;
    int64_t *count = NULL;
    int64_t n = 0, d = 0, k = 0, md = 0;
    if ((rc = cli_check_files(inputs, 2, output, force)))
        goto done;
    cli_progress_begin("predict");
    int st = strata_model_read_h5(&m, model_path, NULL);
    if (st) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if ((st = strata_kmeans_set_int(strata_model_kmeans(m), STRATA_THREADS, threads)) ||
        (st = strata_kmeans_set_int(strata_model_kmeans(m), STRATA_KMEANS_MEMORY, memory)) ||
        (st = strata_kmeans_set_step_progress(strata_model_kmeans(m), cli_progress_step, NULL)) ||
        (st = strata_model_shape(m, &k, &md))) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if (in.dataset) { /* a matrix: its columns in the model's order */
        if ((st = strata_h5_shape(in.file, in.dataset, &n, &d))) {
            rc = cli_library_error(st, strata_last_error());
            goto done;
        }
        if (n == 0) {
            rc = cli_error(CLI_RUNTIME, "'%s' has 0 rows (shape 0 x %lld): nothing to assign",
                           in.input, (long long)d);
            goto done;
        }
        if (d != md) {
            rc = cli_error(CLI_RUNTIME, "'%s' has %lld columns, the model %lld features (%s, ...)",
                           in.input, (long long)d, (long long)md, strata_model_feature_name(m, 0));
            goto done;
        }
    }
    /* loaded or streamed under the budget: the library plans it */
    count = calloc((size_t)strata_model_tier_count(m), sizeof *count);
    if (!count) {
        rc = cli_error(CLI_RUNTIME, "out of memory");
        goto done;
    }
    st = in.dataset ? strata_model_predict_h5(m, in.file, in.dataset, output,
                                              in.source ? in.source : in.input,
                                              force ? STRATA_WRITE_FORCE : 0, count)
                    : cli_input_predict(&in, m, output, force ? STRATA_WRITE_FORCE : 0, count);
    if (st) {
        rc = cli_library_error(st, strata_last_error());
        goto done;
    }
    if (!in.dataset) /* the rows read: every one has a tier */
        for (int64_t t = 0; t < strata_model_tier_count(m); t++)
            n += count[t];
    cli_progress_end();
    int64_t nt = strata_model_tier_count(m);
    printf("%lld rows -> %s\n", (long long)n, output);
    for (int64_t t = 0; count && t < nt; t++)
        printf("  %-12s %12lld\n", strata_model_tier_name(m, t), (long long)count[t]);
done:
    free(count);
    strata_model_free(m);
    cli_input_free(&in);
    return rc;
}
