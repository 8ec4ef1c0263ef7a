/* strata migrate: who moved between the tiers of two tiered-customer files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char HELP[] =
    "usage: strata migrate OLD.h5 NEW.h5 [-o OUT.h5] [--force]\n"
    "\n"
    "Compare two tierings of customers, matched by customer id. Each file holds\n"
    "/customer_id and /tier (1-D integer datasets of equal length; the layout\n"
    "`strata tiers` writes); the tier names come from the attribute \"names\" of\n"
    "/tier (best tier first), or tiers are numbered. Prints the migration matrix\n"
    "(rows: old tier, columns: new tier, customers in both files) and the count\n"
    "of each move: same, up (to a more valuable tier), down, new (only in\n"
    "NEW.h5), gone (only in OLD.h5).\n"
    "\n"
    "options:\n"
    "  -o OUT.h5   also write /migration/matrix (int64, old row, new column),\n"
    "              /migration/tier_names, /migration/counts (by move, attribute\n"
    "              \"names\"), and per customer (ids ascending) /customer_id,\n"
    "              /old_tier, /new_tier (-1 where absent) and /move (attribute\n"
    "              \"names\": same, up, down, new, gone)\n"
    "  --force     replace OUT.h5 if it exists (a regular file only, never an input)\n"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists (no --force)\n";

enum { OPT_FORCE = 256 };

int cmd_migrate(int argc, char **argv)
{
    static const struct option longs[] = {{"force", no_argument, NULL, OPT_FORCE},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *output = NULL;
    int force = 0, help = 0, c, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': help = 1; break;
        case OPT_FORCE: force = 1; break;
        default: rc = cli_bad_option("migrate", c, argv);
        }
    }
    if (rc)
        return rc;
    if (help) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    if (argc - optind != 2)
        return cli_error(CLI_USAGE, "strata migrate needs two files, OLD.h5 and NEW.h5 (got %d; "
                         "see 'strata migrate --help')", argc - optind);
    const cli_input inputs[] = {{argv[optind], "old tiering"}, {argv[optind + 1], "new tiering"}};
    if ((rc = cli_check_files(inputs, 2, output, force)))
        return rc;
    strata_migration *m = NULL;
    int st = strata_migrate_h5(&m, inputs[0].path, inputs[1].path);
    if (st)
        return cli_library_error(st, strata_last_error());
    int64_t len = strata_migration_format(m, NULL, 0);
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!text) {
        strata_migration_free(m);
        return cli_error(CLI_RUNTIME, "out of memory");
    }
    (void)strata_migration_format(m, text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
    if (output) {
        st = strata_migration_write_h5(m, output, force ? STRATA_WRITE_FORCE : 0);
        if (st)
            rc = cli_library_error(st, strata_last_error());
        else
            printf("wrote %s\n", output);
    }
    strata_migration_free(m);
    return rc;
}
