/* strata info: what an HDF5 file holds and which strata command reads it. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "cli.h"

static const char HELP[] =
    "usage: strata info FILE.h5 [--json]\n"
    "\n"
    "List every group and dataset of FILE.h5 - element type, shape, chunks,\n"
    "compression and other filters, attributes (short values) - and, for each\n"
    "one a strata command can read, that command:\n"
    "  a 2-D numeric dataset         strata kmeans FILE.h5:/ds -k K -o OUT.h5\n"
    "                                (strata sweep FILE.h5:/ds -k 2:10 to choose K)\n"
    "  a table of numeric columns    strata kmeans FILE.h5 --table T -k K -o OUT.h5\n"
    "  (group of 1-D datasets, compound dataset, pandas frame)\n"
    "  a transaction log (a table    strata rfm FILE.h5 --customer C --time T --amount A\n"
    "  with customer, time and       -o OUT.h5, or strata tiers with the same columns\n"
    "  amount columns)\n"
    "  a saved model (/model)        strata predict FILE.h5 IN.h5:/rows -o OUT.h5\n"
    "  a tiering (/customer_id and   strata migrate FILE.h5 NEWER.h5\n"
    "  /tier)\n"
    "Only metadata is read. A transaction log is recognised by its column names\n"
    "(customer_id, customer, id, ...; day, time, date, ..., or a pandas frame's\n"
    "one datetime64 column; amount, value, ...), a pandas index among them;\n"
    "one with a customer and a day, date or time column but no amount named so\n"
    "is offered to strata rfm with its one other column as the amount, or, with\n"
    "several, with none (the hint lists them: pick the amounts).\n"
    "\n"
    "options:\n"
    "  --json        one JSON object: {\"file\", \"objects\": [{\"path\", \"kind\", \"type\",\n"
    "                \"shape\", \"layout\", \"chunks\", \"filters\", \"attributes\", \"use\", \"columns\",\n"
    "                \"key\", \"dates\", \"index\", \"command\", \"hint\"}, ...]}:\n"
    "                command is a command line (K and OUT.h5 to fill in),\n"
    "                hint a note on it such as the sweep that chooses K;\n"
    "                dates are a pandas frame's datetime64 columns (a log's\n"
    "                times), index the name of its index\n"
    "  -h, --help    show this help\n"
    "\n"
    "exit status: 0 ok, 1 the file is missing, unreadable or not HDF5, 2 usage error\n";

enum { OPT_JSON = 256 };

/* Does name (any case) equal one of the words? */
static int named(const char *name, const char *const *words)
{
    for (; *words; words++)
        if (!strcasecmp(name, *words))
            return 1;
    return 0;
}

static const char *const CUSTOMER[] = {"customer_id", "customer", "customerid", "cust_id",
                                       "client_id", "client", "user_id", "id", "c", NULL};
static const char *const TIME[] = {"day", "days", "time", "date", "timestamp", "t",
                                   "invoice_date", "invoicedate", "order_date", "ts", NULL};
/* Times no customer table names a feature so ("t" is a CLV table's T, "days"
 * a tenure): where no amount column is named, only these (or pandas' dates)
 * make a table a log. */
static const char *const LOG_TIME[] = {"day", "time", "date", "timestamp", "invoice_date",
                                       "invoicedate", "order_date", "ts", NULL};
static const char *const AMOUNT[] = {"amount", "value", "spend", "price", "total", "sales",
                                     "revenue", "a", "monetary_value", NULL};

/* The column of `columns` (a catalog list, cli_next_name) or key named like one of words. */
static int pick(const char *columns, const char *key, const char *const *words, char *out,
                size_t cap)
{
    if (key && key[0] && named(key, words)) {
        snprintf(out, cap, "%s", key);
        return 1;
    }
    char name[256];
    long len;
    for (const char *p = columns; (len = cli_next_name(&p, name, sizeof name, NULL)) >= 0;)
        if ((size_t)len < sizeof name && named(name, words)) {
            snprintf(out, cap, "%s", name);
            return 1;
        }
    return 0;
}

/* Is there an object at path in the catalog? */
static int has(const strata_h5_catalog *c, const char *path)
{
    for (int64_t i = 0; i < strata_h5_catalog_count(c); i++)
        if (!strcmp(strata_h5_catalog_path(c, i), path))
            return 1;
    return 0;
}

/* The rows of object i: a dataset's first dimension; a group's (a table of
 * columns, a pandas frame): its index's or its first column's; -1 unknown. */
static int64_t rows_of(const strata_h5_catalog *c, int64_t i)
{
    int64_t dims[32];
    const char *path = strata_h5_catalog_path(c, i);
    if (strata_h5_catalog_kind(c, i) == STRATA_H5_DATASET)
        return strata_h5_catalog_shape(c, i, dims, 32) >= 1 ? dims[0] : -1;
    const char *g = strcmp(path, "/") ? path : "", *cols = strata_h5_catalog_columns(c, i);
    char want[3][1100]; /* a pandas index, a MultiIndex's codes, the first column */
    snprintf(want[0], sizeof want[0], "%s/axis1", g);
    snprintf(want[1], sizeof want[1], "%s/axis1_label0", g);
    snprintf(want[2], sizeof want[2], "%s/%.*s", g, (int)strcspn(cols, ","), cols);
    for (int w = 0; w < 3; w++)
        for (int64_t j = 0; j < strata_h5_catalog_count(c); j++)
            if (!strcmp(strata_h5_catalog_path(c, j), want[w]) &&
                strata_h5_catalog_shape(c, j, dims, 32) == 1)
                return dims[0];
    return -1;
}

/* The value (as text) of object i's attribute `name`, or NULL. */
static const char *attr_value(const strata_h5_catalog *c, int64_t i, const char *name)
{
    for (int64_t a = 0; a < strata_h5_catalog_attr_count(c, i); a++)
        if (!strcmp(strata_h5_catalog_attr_name(c, i, a), name))
            return strata_h5_catalog_attr_value(c, i, a);
    return NULL;
}

/* "choose K: strata sweep INPUT -k 2:KMAX" for a k range the rows allow
 * (KMAX below the rows, at most 10), or "" where no range has two k. A
 * table's sweep is told --transform none: it would scale the columns
 * (auto) where strata kmeans clusters the raw values, rating k in another
 * space. */
static void sweep_hint(char *out, size_t cap, const char *input, int table, int64_t rows)
{
    const int64_t kmax = rows < 0 || rows > 10 ? 10 : rows - 1;
    out[0] = '\0';
    if (kmax >= 3)
        snprintf(out, cap, "choose K: strata sweep %s%s -k 2:%lld", input,
                 table ? " --transform none" : "", (long long)kmax);
}

/* The rows of a strata output (its root has strata_version): the length
 * of its 1-D /customer_id, else of its /labels (a clustered matrix); -1 for
 * any other file. */
static int64_t strata_customers(const strata_h5_catalog *c)
{
    int64_t root = -1, ids = -1, labels = -1, dims[32];
    for (int64_t i = 0; i < strata_h5_catalog_count(c); i++) {
        const char *path = strata_h5_catalog_path(c, i);
        const int one_d = strata_h5_catalog_kind(c, i) == STRATA_H5_DATASET &&
                          strata_h5_catalog_shape(c, i, dims, 32) == 1;
        if (!strcmp(path, "/"))
            root = i;
        else if (one_d && !strcmp(path, "/customer_id"))
            ids = dims[0];
        else if (one_d && !strcmp(path, "/labels"))
            labels = dims[0];
    }
    return root >= 0 && attr_value(c, root, "strata_version") ? (ids >= 0 ? ids : labels) : -1;
}


/* Does the comma-separated list hold name (any case)? */
static int listed(const char *list, const char *name)
{
    const char *const words[] = {name, NULL};
    char found[256];
    return pick(list, NULL, words, found, sizeof found);
}

/* A shell word for a file name in a command: one starting with '-' as
 * ./NAME, which no option parser takes for an option. malloc'ed. */
static char *file_word(const char *file)
{
    if (file[0] != '-')
        return cli_shell_word(file);
    char *dotted = malloc(strlen(file) + 3), *w = NULL;
    if (dotted) {
        sprintf(dotted, "./%s", file);
        w = cli_shell_word(dotted);
    }
    free(dotted);
    return w;
}

/* "use" name and the command reading object i into cmd ("" none), every
 * file, dataset and column name a shell word (quoted where it needs it), and
 * into hint (hcap bytes, "" none) a note on it, such as the sweep that
 * chooses its K; customers: strata_customers(c), worked out once for the
 * whole listing. */
static const char *suggest(const strata_h5_catalog *c, int64_t i, const char *file,
                           int64_t customers, char *cmd, size_t cap, char *hint, size_t hcap)
{
    const char *path = strata_h5_catalog_path(c, i);
    cmd[0] = hint[0] = '\0';
    if (strstr(path, "/_i_")) /* PyTables' index of a table: not data */
        return "none";
    const int use = strata_h5_catalog_use(c, i);
    const char *name = use == STRATA_H5_USE_MATRIX ? "matrix" : use == STRATA_H5_USE_TABLE ? "table"
                       : use == STRATA_H5_USE_MODEL ? "model" : use == STRATA_H5_USE_TIERING ? "tiering"
                                                                                              : "none";
    if (use == STRATA_H5_USE_NONE || (use == STRATA_H5_USE_MODEL && strcmp(path, "/model")))
        return name;
    /* In strata's own outputs, the tables of another length than the
     * customers are summaries (profiles, edges, the sweep, the tracking
     * curve): no input to cluster */
    if ((use == STRATA_H5_USE_MATRIX || use == STRATA_H5_USE_TABLE) && customers >= 0 &&
        rows_of(c, i) != customers)
        return name;
    /* nor is their root: result codes (labels, tiers, a migration's moves)
     * beside the customer ids, not features; nor a CLV table with customers
     * the model does not hold (NaN rows, which kmeans refuses) */
    const char *missing = attr_value(c, i, "missing");
    const int rfm_root = use == STRATA_H5_USE_TABLE && customers >= 0 && !strcmp(path, "/") &&
                         listed(strata_h5_catalog_columns(c, i), "recency") &&
                         listed(strata_h5_catalog_columns(c, i), "frequency") &&
                         listed(strata_h5_catalog_columns(c, i), "monetary");
    if (use == STRATA_H5_USE_TABLE && customers >= 0 && !rfm_root &&
        (!strcmp(path, "/") || (missing && atoll(missing) > 0)))
        return name;
    char target[2200], w[3][1100];
    snprintf(target, sizeof target, "%s%s:%s", file[0] == '-' ? "./" : "", file, path);
    char *qf = file_word(file), *qp = cli_shell_word(path), *qt = cli_shell_word(target);
    char *q[3] = {NULL, NULL, NULL};
    if (!qf || !qp || !qt)
        goto done; /* out of memory: no command */
    switch (use) {
    case STRATA_H5_USE_MATRIX:
        sweep_hint(hint, hcap, qt, 0, rows_of(c, i));
        snprintf(cmd, cap, "strata kmeans %s -k K -o OUT.h5", qt);
        break;
    case STRATA_H5_USE_TABLE: {
        const char *cols = strata_h5_catalog_columns(c, i), *key = strata_h5_catalog_key(c, i),
                   *dates = strata_h5_catalog_dates(c, i), *index = strata_h5_catalog_index(c, i);
        /* a group of datasets: the columns by path; a compound or pandas table:
         * by name */
        const char *g = strcmp(path, "/") ? path : "";
        char block[1100];
        snprintf(block, sizeof block, "%s/block0_items", g);
        const int by_path = strata_h5_catalog_kind(c, i) == STRATA_H5_GROUP && !has(c, block);
        char cu[256], ti[256], am[256];
        /* the time: a column named as one, else pandas' one column of dates */
        const char *rest = dates;
        const int timed = pick(cols, NULL, TIME, ti, sizeof ti) ||
                          pick(dates, NULL, TIME, ti, sizeof ti) ||
                          ((size_t)cli_next_name(&rest, ti, sizeof ti, NULL) < sizeof ti && !*rest);
        /* the customer: a column, the key, or pandas' index (strata rfm reads it by name) */
        const int log = (pick(cols, key, CUSTOMER, cu, sizeof cu) ||
                         pick(index, NULL, CUSTOMER, cu, sizeof cu)) && timed;
        int amount = log && pick(cols, NULL, AMOUNT, am, sizeof am);
        char others[1024] = "";
        /* (not in strata's own outputs: their tables are per customer) */
        const char *const ti_word[] = {ti, NULL};
        if (log && !amount && customers < 0 &&
            (named(ti, LOG_TIME) || pick(dates, NULL, ti_word, w[0], sizeof w[0]))) {
            /* a log whose amount column has a name not recognised: no
             * kmeans (its key repeats, which kmeans refuses); its one other
             * column is the amount, else the user picks one of them */
            const size_t len = strlen(cols) + 1;
            char *item = malloc(len);
            int64_t count = 0;
            const char *p = cols;
            while (item && cli_next_name(&p, item, len, NULL) >= 0) {
                if (!strcmp(item, cu) || !strcmp(item, ti))
                    continue;
                if (count++ == 0)
                    snprintf(am, sizeof am, "%s", item);
                const size_t used = strlen(others);
                snprintf(others + used, sizeof others - used, "%s%s", used ? ", " : "", item);
            }
            free(item);
            amount = count == 1 && strlen(am) < sizeof am - 1;
            if (!amount) {
                name = "transactions";
                snprintf(hint, hcap, "a transaction log (customer %s, time %s) without a column "
                         "named as its amounts: strata rfm with --amount %s", cu, ti,
                         count ? "one of its other columns: " : "(it has no other column)");
                if (count) {
                    const size_t used = strlen(hint);
                    snprintf(hint + used, hcap - used, "%s", others);
                }
                break;
            }
        }
        if (amount) {
            const char *col[3] = {cu, ti, am};
            for (int k = 0; k < 3; k++) {
                snprintf(w[k], sizeof w[k], "%s%s%s", by_path ? g : "", by_path ? "/" : "", col[k]);
                if (!(q[k] = cli_shell_word(w[k])))
                    goto done;
            }
            snprintf(cmd, cap, "strata rfm %s%s%s --customer %s --time %s --amount %s -o OUT.h5",
                     qf, by_path ? "" : " --table ", by_path ? "" : qp, q[0], q[1], q[2]);
            snprintf(hint, hcap, "or strata tiers with the same columns%s%s%s",
                     others[0] ? "; " : "", others, others[0] ? " read as the amounts" : "");
            name = "transactions";
            break;
        }
        /* an RFM output's root: its three values are the features (its
         * other columns are scores and codes of them) */
        snprintf(target, sizeof target, "%s --table %s%s", qf, qp,
                 rfm_root ? " --features recency,frequency,monetary" : "");
        sweep_hint(hint, hcap, target, 1, rows_of(c, i));
        snprintf(cmd, cap, "strata kmeans %s -k K -o OUT.h5", target);
        break;
    }
    case STRATA_H5_USE_MODEL:
        snprintf(cmd, cap, "strata predict %s IN.h5:/rows -o OUT.h5", qf);
        break;
    case STRATA_H5_USE_TIERING:
        snprintf(cmd, cap, "strata migrate %s NEWER.h5", qf);
        break;
    }
done:
    free(qf);
    free(qp);
    free(qt);
    for (int k = 0; k < 3; k++)
        free(q[k]);
    return name;
}

static const char *kind_name(int kind)
{
    return kind == STRATA_H5_GROUP ? "group" : kind == STRATA_H5_DATASET ? "dataset" : "other";
}

static void print_dims(const int64_t *dims, int rank, const char *sep)
{
    for (int k = 0; k < rank; k++)
        printf("%s%lld", k ? sep : "", (long long)dims[k]);
}

/* A JSON string: names in a file may hold any bytes (cli_json_string). */
static void json_string(const char *s)
{
    cli_json_string(stdout, s);
}

static void json_dims(const int64_t *dims, int rank)
{
    if (rank < 0) {
        fputs("null", stdout);
        return;
    }
    putchar('[');
    print_dims(dims, rank, ",");
    putchar(']');
}

/* A catalog list (cli_next_name) as a JSON array of strings. */
static void json_list(const char *list)
{
    putchar('[');
    const size_t cap = list ? strlen(list) + 1 : 1;
    char *item = malloc(cap);
    const char *p = list;
    for (int first = 1; item && cli_next_name(&p, item, cap, NULL) >= 0; first = 0) {
        if (!first)
            putchar(',');
        json_string(item);
    }
    free(item);
    putchar(']');
}

static void print_json(const strata_h5_catalog *c, const char *file)
{
    const int64_t customers = strata_customers(c);
    fputs("{\"file\":", stdout);
    json_string(file);
    fputs(",\"objects\":[", stdout);
    for (int64_t i = 0; i < strata_h5_catalog_count(c); i++) {
        int64_t dims[32], chunks[32];
        int rank = strata_h5_catalog_shape(c, i, dims, 32);
        int crank = strata_h5_catalog_chunks(c, i, chunks, 32);
        char cmd[8192], hint[4096];
        const char *use = suggest(c, i, file, customers, cmd, sizeof cmd, hint, sizeof hint);
        fputs(i ? ",\n{" : "\n{", stdout);
        fputs("\"path\":", stdout);
        json_string(strata_h5_catalog_path(c, i));
        printf(",\"kind\":\"%s\",\"type\":", kind_name(strata_h5_catalog_kind(c, i)));
        json_string(strata_h5_catalog_type(c, i));
        fputs(",\"shape\":", stdout);
        json_dims(dims, rank);
        fputs(",\"layout\":", stdout);
        const char *layout = strata_h5_catalog_layout(c, i);
        if (layout)
            json_string(layout);
        else
            fputs("null", stdout);
        fputs(",\"chunks\":", stdout);
        json_dims(chunks, crank > 0 ? crank : -1);
        fputs(",\"filters\":", stdout);
        json_list(strata_h5_catalog_filters(c, i));
        int64_t values, stored = strata_h5_catalog_stored(c, i, &values);
        printf(",\"stored_bytes\":%lld,\"value_bytes\":%lld", (long long)stored,
               (long long)values);
        fputs(",\"attributes\":{", stdout);
        for (int64_t j = 0; j < strata_h5_catalog_attr_count(c, i); j++) {
            if (j)
                putchar(',');
            json_string(strata_h5_catalog_attr_name(c, i, j));
            putchar(':');
            json_string(strata_h5_catalog_attr_value(c, i, j));
        }
        printf("},\"use\":\"%s\",\"columns\":", use);
        json_list(strata_h5_catalog_columns(c, i));
        fputs(",\"key\":", stdout);
        json_string(strata_h5_catalog_key(c, i));
        fputs(",\"dates\":", stdout);
        json_list(strata_h5_catalog_dates(c, i));
        fputs(",\"index\":", stdout);
        json_string(strata_h5_catalog_index(c, i));
        fputs(",\"command\":", stdout);
        json_string(cmd);
        fputs(",\"hint\":", stdout);
        json_string(hint);
        putchar('}');
    }
    fputs("]}\n", stdout);
}

/* s with control characters escaped (attribute values may hold pickles). */
static void print_escaped(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            printf("\\x%02x", *p);
        else
            putchar(*p);
}

static void print_text(const strata_h5_catalog *c, const char *file)
{
    const int64_t customers = strata_customers(c);
    print_escaped(file);
    putchar('\n');
    for (int64_t i = 0; i < strata_h5_catalog_count(c); i++) {
        const char *path = strata_h5_catalog_path(c, i);
        int depth = 0;
        for (const char *p = path + 1; *p; p++)
            depth += *p == '/';
        depth += strcmp(path, "/") != 0;
        const int kind = strata_h5_catalog_kind(c, i);
        const char *name = strcmp(path, "/") ? strrchr(path, '/') + 1 : "/";
        printf("%*s", 2 * depth, ""); /* a name's control characters escaped, as values' */
        print_escaped(name);
        fputs(kind == STRATA_H5_GROUP && strcmp(path, "/") ? "/" : "", stdout);
        if (kind == STRATA_H5_DATASET) {
            int64_t dims[32], chunks[32];
            int rank = strata_h5_catalog_shape(c, i, dims, 32);
            int crank = strata_h5_catalog_chunks(c, i, chunks, 32);
            printf("  %s", strata_h5_catalog_type(c, i));
            if (rank == 0)
                fputs(" scalar", stdout);
            else if (rank > 0) {
                fputs(" [", stdout);
                print_dims(dims, rank, " x ");
                putchar(']');
            }
            if (crank > 0) {
                fputs(", chunks [", stdout);
                print_dims(chunks, crank, " x ");
                putchar(']');
            } else {
                const char *layout = strata_h5_catalog_layout(c, i);
                if (!strcmp(layout, "virtual"))
                    fputs(", virtual (a map of other datasets; strata reads no virtual dataset: "
                          "copy its values into a plain one)", stdout);
                else if (!strcmp(layout, "external"))
                    fputs(", contiguous in external files", stdout);
                else
                    printf(", %s", layout[0] ? layout : "contiguous");
            }
            const char *f = strata_h5_catalog_filters(c, i);
            printf(", %s", f[0] ? f : "no compression");
            int64_t values, stored = strata_h5_catalog_stored(c, i, &values);
            if (f[0] && stored >= 0 && values > 0) /* what the filters saved */
                printf(", stored %.0f%%", 100.0 * (double)stored / (double)values);
        } else if (kind == STRATA_H5_GROUP && strata_h5_catalog_type(c, i)[0]) {
            printf("  (%s)", strata_h5_catalog_type(c, i)); /* a note */
        } else if (kind == STRATA_H5_OTHER) { /* a link's target is a name too */
            fputs("  (", stdout);
            print_escaped(strata_h5_catalog_type(c, i));
            putchar(')');
        }
        putchar('\n');
        for (int64_t j = 0; j < strata_h5_catalog_attr_count(c, i); j++) {
            printf("%*s@", 2 * depth + 4, "");
            print_escaped(strata_h5_catalog_attr_name(c, i, j));
            fputs(" = ", stdout);
            print_escaped(strata_h5_catalog_attr_value(c, i, j));
            putchar('\n');
        }
        char cmd[8192], hint[4096];
        const char *use = suggest(c, i, file, customers, cmd, sizeof cmd, hint, sizeof hint);
        if (!cmd[0] && hint[0]) /* no command that would run, but what it is */
            printf("%*s-> %s: %s\n", 2 * depth + 4, "", use, hint);
        if (cmd[0]) {
            printf("%*s-> %s: %s%s%s%s\n", 2 * depth + 4, "", use, cmd, hint[0] ? "  (" : "",
                   hint, hint[0] ? ")" : "");
            if (!strcmp(use, "table") || !strcmp(use, "transactions"))
                printf("%*s   columns: %s%s%s%s%s\n", 2 * depth + 4, "",
                       strata_h5_catalog_columns(c, i),
                       strata_h5_catalog_key(c, i)[0] ? "; row key: " : "",
                       strata_h5_catalog_key(c, i),
                       strata_h5_catalog_dates(c, i)[0] ? "; dates: " : "",
                       strata_h5_catalog_dates(c, i));
        }
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option longs[] = {{"json", no_argument, NULL, OPT_JSON},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c, json = 0, help = 0, rc = CLI_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case 'h': help = 1; break;
        default: rc = cli_bad_option("info", c, argv);
        }
    }
    if (rc)
        return rc;
    if (help) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    const char *file;
    if ((rc = cli_one_input(argc, argv, optind, "FILE.h5", "info", &file)))
        return rc;
    strata_h5_catalog *cat = NULL;
    int st = strata_h5_catalog_open(&cat, file);
    if (st) {
        /* FILE.h5:/dataset, as the other commands take it: info lists files */
        const char *colon = strrchr(file, ':');
        struct stat sb;
        char whole[4096];
        if (st == STRATA_E_IO_OPEN && colon && stat(file, &sb) != 0 &&
            (size_t)(colon - file) < sizeof whole) {
            snprintf(whole, sizeof whole, "%.*s", (int)(colon - file), file);
            char *q = stat(whole, &sb) == 0 ? file_word(whole) : NULL;
            if (q) {
                rc = cli_error(CLI_RUNTIME, "%s (strata info lists a whole file: strata info %s)",
                               strata_last_error(), q);
                free(q);
                return rc;
            }
        }
        return cli_error(CLI_RUNTIME, "%s", strata_last_error());
    }
    if (json)
        print_json(cat, file);
    else
        print_text(cat, file);
    strata_h5_catalog_free(cat);
    return CLI_OK;
}
