/* The generators of `strata gen` and `strata demo` (gen.h), written through
 * the streamed writer of include/strata.h in blocks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_progress.h"
#include "gen.h"
#include "synth.h"

/* A writer and its error handling: the first failure wins. */
typedef struct out {
    strata_writer *w;
    int rc;
} out;

static void put(out *o, int st)
{
    if (st && !o->rc) /* the handle's own message; the first failed call's */
        o->rc = cli_library_error(st, strata_writer_last_error(o->w));
}

static int open_out(out *o, const gen_options *g)
{
    *o = (out){0};
    int st = strata_writer_open(&o->w, g->output, g->force ? STRATA_WRITE_FORCE : 0);
    if (st)
        return o->rc = cli_library_error(st, strata_last_error());
    put(o, strata_writer_attr_string(o->w, NULL, "source", g->source));
    put(o, strata_writer_attr_int(o->w, NULL, "seed", g->seed));
    if (g->command)
        put(o, strata_writer_attr_string(o->w, NULL, "command", g->command));
    return o->rc;
}

/* Commit (or discard after a failure), then the last report (total of
 * total units: the file in place); *bytes gets the file's size. A signal
 * between the rename and that report finds the new file in place and
 * cancels nothing (cli.c, on_signal). */
static int close_out(out *o, const gen_options *g, int64_t total, int64_t *bytes)
{
    if (o->rc) {
        strata_writer_discard(o->w);
        return o->rc;
    }
    int st = strata_writer_commit(o->w);
    if (!st && g->progress)
        g->progress(total, total);
    if (st)
        return cli_library_error(st, strata_last_error());
    struct stat sb;
    *bytes = stat(g->output, &sb) == 0 ? (int64_t)sb.st_size : 0;
    return CLI_OK;
}

static char *path_of(char *buf, size_t cap, const char *group, const char *name)
{
    snprintf(buf, cap, "/%s%s%s", group, name ? "/" : "", name ? name : "");
    return buf;
}

/* Chunks of g->chunk_rows rows when given, else of about 1 MiB, but no
 * bigger than the data (small files stay small): depends on the size asked
 * for, never on the block size. */
static int64_t chunk_rows(const gen_options *g, int64_t n, int64_t row_bytes)
{
    int64_t rows = g->chunk_rows > 0 ? g->chunk_rows : ((int64_t)1 << 20) / row_bytes;
    rows = rows < n ? rows : n;
    return rows > 0 ? rows : 1;
}

void gen_show_write(int64_t done, int64_t total)
{
    (void)cli_progress_step(NULL, STRATA_STEP_WRITE, 0, done, total, NAN);
}

static void report(const gen_options *g, int64_t done, int64_t total)
{
    if (g->progress && done < total)
        g->progress(done, total);
}

static void *alloc_or_null(int64_t n, size_t size)
{
    return malloc((size_t)(n > 0 ? n : 1) * size);
}

/* ---- pandas layouts ---------------------------------------------------------- */

/* Columns of one dtype: a block of a pandas frame. */
typedef struct pd_block {
    const char *const *names;
    int n, dtype; /* STRATA_INT64, STRATA_FLOAT32 or STRATA_FLOAT64 */
} pd_block;

static const char *dtype_name(int dtype)
{
    return dtype == STRATA_INT64 ? "int64" : dtype == STRATA_FLOAT32 ? "float32" : "float64";
}

static int dtype_size(int dtype)
{
    return dtype == STRATA_FLOAT32 ? 4 : 8;
}

/* An attribute as PyTables writes a Python str (UTF-8; read back as str,
 * which pandas compares with its own, e.g. when appending to a table), and
 * one it writes as bytes: a pickle (protocol 0, ASCII). */
static void put_text(out *o, const char *object, const char *name, const char *value)
{
    put(o, strata_writer_attr_string(o->w, object, name, value));
}

static void put_pickle(out *o, const char *object, const char *name, const char *value)
{
    put(o, strata_writer_fixed_strings(o->w, object, name, &value, 1));
}

/* pandas' to_hdf(format="fixed") frame as pandas 1.x writes it through
 * PyTables, in the parts pandas.read_hdf needs: a group with text
 * attributes (put_text), axis0 (the column names), axis1 (the index, its
 * attribute "name" index_name, or a pickled None: unnamed) and a block of
 * columns per dtype (blockB_items;
 * blockB_values stored "transposed", i.e. n x its columns). ids[0] gets
 * axis1, ids[1 + B] block B's values. `rows`: the rows expected (chunks). */
static void put_pandas_frame(out *o, const gen_options *g, int64_t rows, const char *index_name,
                             const pd_block *blocks, int nblocks, int *ids)
{
    char name[600], group[600], item[64];
    path_of(group, sizeof group, g->name, NULL);
    const char *columns[16];
    int ncols = 0;
    for (int b = 0; b < nblocks; b++)
        for (int j = 0; j < blocks[b].n && ncols < 16; j++)
            columns[ncols++] = blocks[b].names[j];
    put(o, strata_writer_fixed_strings(o->w, path_of(name, sizeof name, g->name, "axis0"), NULL,
                                       columns, ncols));
    put_text(o, name, "kind", "string");
    put(o, strata_writer_dataset(o->w, path_of(name, sizeof name, g->name, "axis1"), STRATA_INT64,
                                 0, chunk_rows(g, rows, 8), &ids[0]));
    put_text(o, name, "kind", "integer");
    if (index_name)
        put_text(o, name, "name", index_name);
    else
        put_pickle(o, name, "name", "N."); /* None */
    for (int b = 0; b < nblocks; b++) {
        snprintf(item, sizeof item, "block%d_items", b);
        put(o, strata_writer_fixed_strings(o->w, path_of(name, sizeof name, g->name, item), NULL,
                                           blocks[b].names, blocks[b].n));
        put_text(o, name, "kind", "string");
        snprintf(item, sizeof item, "block%d_values", b);
        put(o, strata_writer_dataset(o->w, path_of(name, sizeof name, g->name, item),
                                     blocks[b].dtype, blocks[b].n,
                                     chunk_rows(g, rows, blocks[b].n * dtype_size(blocks[b].dtype)),
                                     &ids[1 + b]));
        put(o, strata_writer_attr_int(o->w, name, "transposed", 1));
        snprintf(item, sizeof item, "block%d_items_variety", b);
        put_text(o, group, item, "regular");
    }
    static const char *const ATTRS[][2] = {
        {"pandas_type", "frame"}, {"pandas_version", "0.15.2"}, {"encoding", "UTF-8"},
        {"errors", "strict"}, {"axis0_variety", "regular"}, {"axis1_variety", "regular"}};
    for (size_t a = 0; a < sizeof ATTRS / sizeof ATTRS[0]; a++)
        put_text(o, group, ATTRS[a][0], ATTRS[a][1]);
    put(o, strata_writer_attr_int(o->w, group, "ndim", 2));
    put(o, strata_writer_attr_int(o->w, group, "nblocks", nblocks));
}

/* Text appended to a pickle under construction (a fixed buffer: names are
 * the generators' own, short and plain ASCII). */
typedef struct pickle {
    char s[2048];
    size_t len;
    int memo; /* pandas' (Python's) memo numbers: "p<memo>" after each object */
} pickle;

static void pk(pickle *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pk(pickle *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = p->len < sizeof p->s ? vsnprintf(p->s + p->len, sizeof p->s - p->len, fmt, ap) : 0;
    va_end(ap);
    p->len += k > 0 ? (size_t)k : 0;
}

/* The items of a list of strings: "Vname\np<memo>\n", "aVname\n..." after the first. */
static void pk_names(pickle *p, const char *const *names, int n)
{
    for (int j = 0; j < n; j++)
        pk(p, "%sV%s\np%d\n", j ? "a" : "", names[j], p->memo++);
}

/* ['a', 'b']: "(lp0\nVa\np1\naVb\np2\na." */
static const char *pk_list(pickle *p, const char *const *names, int n)
{
    *p = (pickle){.memo = 1};
    pk(p, "(lp0\n");
    pk_names(p, names, n);
    pk(p, "a.");
    return p->s;
}

/* pandas' to_hdf(format="table", data_columns=True) frame: the table
 * /NAME/table of the fields "index" (int64: index_name's values, or row
 * numbers when index_name is NULL) and one per column, with the attributes
 * pandas reads (pickled as pandas 1.x writes them; PyTables' own attributes
 * are not needed). *id gets the table. */
static void put_pandas_table(out *o, const gen_options *g, int64_t rows, const char *index_name,
                             const char *const *names, const int *dtypes, int n, int *id)
{
    char group[600], table[600], attr[96];
    path_of(group, sizeof group, g->name, NULL);
    path_of(table, sizeof table, g->name, "table");
    const char *fields[16] = {"index"};
    int types[16] = {STRATA_INT64}, width = 8;
    for (int j = 0; j < n && j < 15; j++) {
        fields[1 + j] = names[j];
        types[1 + j] = dtypes[j];
        width += dtype_size(dtypes[j]);
    }
    put(o, strata_writer_table(o->w, table, n + 1, fields, types, chunk_rows(g, rows, width), id));
    pickle p;
    put_text(o, table, "index_kind", "integer");
    for (int j = 0; j < n; j++) {
        snprintf(attr, sizeof attr, "%s_dtype", names[j]);
        put_text(o, table, attr, dtype_name(dtypes[j]));
        snprintf(attr, sizeof attr, "%s_kind", names[j]);
        put_pickle(o, table, attr, pk_list(&p, &names[j], 1));
        snprintf(attr, sizeof attr, "%s_meta", names[j]);
        put_pickle(o, table, attr, "N."); /* None */
    }
    static const char *const ATTRS[][2] = {
        {"pandas_type", "frame_table"}, {"pandas_version", "0.15.2"},
        {"table_type", "appendable_frame"}, {"encoding", "UTF-8"}, {"errors", "strict"},
        {"nan_rep", "nan"}};
    for (size_t a = 0; a < sizeof ATTRS / sizeof ATTRS[0]; a++)
        put_text(o, group, ATTRS[a][0], ATTRS[a][1]);
    put_pickle(o, group, "index_cols", "(lp0\n(I0\nVindex\np1\ntp2\na.");
    put(o, strata_writer_attr_int(o->w, group, "levels", 1));
    put_pickle(o, group, "data_columns", pk_list(&p, names, n));
    put_pickle(o, group, "values_cols", p.s);
    /* [(1, [names])] */
    p = (pickle){.memo = 2};
    pk(&p, "(lp0\n(I1\n(lp1\n");
    pk_names(&p, names, n);
    pk(&p, "atp%d\na.", p.memo);
    put_pickle(o, group, "non_index_axes", p.s);
    /* {1: {'names': [None], 'type': 'Index'}, 'index': {['index_name': NAME]}, COL: {}, ...} */
    p = (pickle){.memo = 8};
    pk(&p, "(dp0\nI1\n(dp1\nVnames\np2\n(lp3\nNasVtype\np4\nVIndex\np5\nssVindex\np6\n(dp7\n");
    if (index_name) {
        pk(&p, "Vindex_name\np%d\n", p.memo++);
        pk(&p, "V%s\np%d\ns", index_name, p.memo++);
    }
    pk(&p, "s");
    for (int j = 0; j < n; j++) {
        pk(&p, "V%s\np%d\n", names[j], p.memo);
        pk(&p, "(dp%d\ns", p.memo + 1);
        p.memo += 2;
    }
    pk(&p, ".");
    put_pickle(o, group, "info", p.s);
}

/* ---- customers -------------------------------------------------------------- */

int gen_customers(const gen_options *g, int64_t *bytes)
{
    int64_t b = g->block_rows;
    float *x = alloc_or_null(b * SYNTH_FEATURES, sizeof *x);
    float *col = alloc_or_null(b * SYNTH_FEATURES, sizeof *col); /* column-major copy */
    uint8_t *tier8 = alloc_or_null(b, 1);
    int32_t *tier = alloc_or_null(b, sizeof *tier);
    int64_t *id = alloc_or_null(b, sizeof *id);
    if (!x || !col || !tier8 || !tier || !id) {
        free(x), free(col), free(tier8), free(tier), free(id);
        return cli_error(CLI_RUNTIME, "out of memory for a block of %lld rows", (long long)b);
    }
    out o;
    char name[600];
    int ids[SYNTH_FEATURES + 2], id_tier = -1;
    if (!open_out(&o, g)) {
        if (g->layout == GEN_MATRIX) {
            put(&o, strata_writer_dataset(o.w, path_of(name, sizeof name, g->name, NULL),
                                          STRATA_FLOAT32, SYNTH_FEATURES,
                                          chunk_rows(g, g->n, 4 * SYNTH_FEATURES), &ids[0]));
            put(&o, strata_writer_strings(o.w, name, "feature_names", synth_feature_names,
                                          SYNTH_FEATURES));
            put(&o, strata_writer_dataset(o.w, "/customer_id", STRATA_INT64, 0, chunk_rows(g, g->n, 8),
                                          &ids[1]));
        } else if (g->layout == GEN_COLUMNS) {
            put(&o, strata_writer_dataset(o.w, path_of(name, sizeof name, g->name, "customer_id"),
                                          STRATA_INT64, 0, chunk_rows(g, g->n, 8), &ids[0]));
            for (int j = 0; j < SYNTH_FEATURES; j++)
                put(&o, strata_writer_dataset(o.w, path_of(name, sizeof name, g->name,
                                                           synth_feature_names[j]),
                                              STRATA_FLOAT32, 0, chunk_rows(g, g->n, 4),
                                              &ids[1 + j]));
        } else if (g->layout == GEN_PANDAS) {
            const pd_block features = {synth_feature_names, SYNTH_FEATURES, STRATA_FLOAT32};
            put_pandas_frame(&o, g, g->n, "customer_id", &features, 1, ids);
        } else if (g->layout == GEN_PANDAS_TABLE) {
            int types[SYNTH_FEATURES];
            for (int j = 0; j < SYNTH_FEATURES; j++)
                types[j] = STRATA_FLOAT32;
            put_pandas_table(&o, g, g->n, "customer_id", synth_feature_names, types,
                             SYNTH_FEATURES, &ids[0]);
        } else {
            const char *fields[SYNTH_FEATURES + 1] = {"customer_id"};
            int types[SYNTH_FEATURES + 1] = {STRATA_INT64};
            for (int j = 0; j < SYNTH_FEATURES; j++) {
                fields[1 + j] = synth_feature_names[j];
                types[1 + j] = STRATA_FLOAT32;
            }
            put(&o, strata_writer_table(o.w, path_of(name, sizeof name, g->name, NULL),
                                        SYNTH_FEATURES + 1, fields, types,
                                        chunk_rows(g, g->n, 8 + 4 * SYNTH_FEATURES), &ids[0]));
        }
        put(&o, strata_writer_dataset(o.w, "/tier", STRATA_INT32, 0, chunk_rows(g, g->n, 4), &id_tier));
        put(&o, strata_writer_strings(o.w, "/tier", "names", synth_tier_names, SYNTH_TIERS));
    }
    synth_rng r;
    synth_seed(&r, (uint64_t)g->seed);
    for (int64_t done = 0; !o.rc && done < g->n; done += b) {
        int64_t m = g->n - done < b ? g->n - done : b;
        report(g, done, g->n);
        synth_next(&r, m, x, tier8);
        for (int64_t i = 0; i < m; i++) {
            id[i] = done + i + 1;
            tier[i] = tier8[i];
            for (int j = 0; j < SYNTH_FEATURES; j++)
                col[j * m + i] = x[i * SYNTH_FEATURES + j];
        }
        if (g->layout == GEN_MATRIX) {
            put(&o, strata_writer_append(o.w, ids[0], STRATA_FLOAT32, x, m, SYNTH_FEATURES));
            put(&o, strata_writer_append(o.w, ids[1], STRATA_INT64, id, m, 0));
        } else if (g->layout == GEN_COLUMNS) {
            put(&o, strata_writer_append(o.w, ids[0], STRATA_INT64, id, m, 0));
            for (int j = 0; j < SYNTH_FEATURES; j++)
                put(&o, strata_writer_append(o.w, ids[1 + j], STRATA_FLOAT32, col + j * m, m, 0));
        } else if (g->layout == GEN_PANDAS) {
            put(&o, strata_writer_append(o.w, ids[0], STRATA_INT64, id, m, 0));
            put(&o, strata_writer_append(o.w, ids[1], STRATA_FLOAT32, x, m, SYNTH_FEATURES));
        } else { /* a table: compound, or pandas' (its index field: the id) */
            const void *cols[SYNTH_FEATURES + 1] = {id};
            for (int j = 0; j < SYNTH_FEATURES; j++)
                cols[1 + j] = col + j * m;
            put(&o, strata_writer_append_table(o.w, ids[0], SYNTH_FEATURES + 1, cols, m));
        }
        put(&o, strata_writer_append(o.w, id_tier, STRATA_INT32, tier, m, 0));
    }
    free(x), free(col), free(tier8), free(tier), free(id);
    return close_out(&o, g, g->n, bytes);
}

/* ---- blobs ------------------------------------------------------------------ */

/* Groups and their laws, drawn first from the stream. */
typedef struct blobs {
    int64_t k, d;
    double *cum;          /* k cumulative weights */
    double *center;       /* k x d: Gaussian centres, or log-scale means */
    double *sigma;        /* d log-scale spreads (customer kind) */
    double *mean, *sd;    /* d: the mixture's mean and sd, to standardise */
} blobs;

static int blobs_init(blobs *bl, synth_rng *r, const gen_options *g)
{
    int64_t k = g->k, d = g->d;
    *bl = (blobs){.k = k, .d = d, .cum = malloc((size_t)k * sizeof(double)),
                  .center = malloc((size_t)(k * d) * sizeof(double)),
                  .sigma = malloc((size_t)d * sizeof(double)),
                  .mean = calloc((size_t)d, sizeof(double)), .sd = calloc((size_t)d, sizeof(double))};
    if (!bl->cum || !bl->center || !bl->sigma || !bl->mean || !bl->sd)
        return -1;
    double total = 0;
    for (int64_t c = 0; c < k; c++) /* unequal groups: weights in [0.5, 1.5) */
        total = bl->cum[c] = total + 0.5 + synth_uniform(r);
    for (int64_t c = 0; c < k; c++)
        bl->cum[c] /= total;
    for (int64_t i = 0; i < k * d; i++)
        bl->center[i] = g->customer_kind ? 2.0 * synth_uniform(r) : 20.0 * synth_uniform(r) - 10.0;
    for (int64_t j = 0; j < d; j++)
        bl->sigma[j] = 0.4 + 0.6 * synth_uniform(r);
    if (g->customer_kind) { /* moments of the log-normal mixture, per feature */
        for (int64_t j = 0; j < d; j++) {
            double m1 = 0, m2 = 0, s2 = bl->sigma[j] * bl->sigma[j];
            for (int64_t c = 0; c < k; c++) {
                double w = bl->cum[c] - (c ? bl->cum[c - 1] : 0), mu = bl->center[c * d + j];
                m1 += w * exp(mu + s2 / 2);
                m2 += w * exp(2 * mu + 2 * s2);
            }
            bl->mean[j] = m1;
            bl->sd[j] = sqrt(m2 - m1 * m1 > 0 ? m2 - m1 * m1 : 1.0);
        }
    }
    return 0;
}

static void blobs_free(blobs *bl)
{
    free(bl->cum), free(bl->center), free(bl->sigma), free(bl->mean), free(bl->sd);
}

static void blobs_rows(const blobs *bl, synth_rng *r, int customer_kind, int64_t m, double *x,
                       int32_t *group)
{
    for (int64_t i = 0; i < m; i++) {
        double u = synth_uniform(r);
        int64_t c = 0;
        while (c < bl->k - 1 && u >= bl->cum[c])
            c++;
        group[i] = (int32_t)c;
        const double *ctr = bl->center + c * bl->d;
        double *row = x + i * bl->d;
        for (int64_t j = 0; j < bl->d; j += 2) { /* Box-Muller, both of the pair */
            double rad = sqrt(-2.0 * log(synth_uniform(r))), ang = 2.0 * M_PI * synth_uniform(r);
            double z[2] = {rad * cos(ang), rad * sin(ang)};
            for (int64_t h = j; h < j + 2 && h < bl->d; h++)
                row[h] = customer_kind
                             ? (exp(ctr[h] + bl->sigma[h] * z[h - j]) - bl->mean[h]) / bl->sd[h]
                             : ctr[h] + z[h - j];
        }
    }
}

int gen_blobs(const gen_options *g, int64_t *bytes)
{
    /* wide rows: blocks of at most ~8 MB (a block never changes the values) */
    int64_t b = g->block_rows, most = ((int64_t)8 << 20) / (g->d * 8);
    b = b < most ? b : most > 0 ? most : 1;
    synth_rng r;
    synth_seed(&r, (uint64_t)g->seed);
    blobs bl;
    double *x = alloc_or_null(b * g->d, sizeof *x);
    float *xf = g->dtype == STRATA_FLOAT32 ? alloc_or_null(b * g->d, sizeof *xf) : NULL;
    int32_t *group = alloc_or_null(b, sizeof *group);
    int bad = blobs_init(&bl, &r, g);
    if (bad || !x || !group || (g->dtype == STRATA_FLOAT32 && !xf)) {
        blobs_free(&bl);
        free(x), free(xf), free(group);
        return cli_error(CLI_RUNTIME, "out of memory for a block of %lld rows", (long long)b);
    }
    out o;
    char name[600];
    int id_x = -1, id_group = -1;
    if (!open_out(&o, g)) {
        put(&o, strata_writer_dataset(o.w, path_of(name, sizeof name, g->name, NULL), g->dtype,
                                      g->d, chunk_rows(g, g->n, g->d * (g->dtype == STRATA_FLOAT32 ? 4 : 8)),
                                      &id_x));
        put(&o, strata_writer_dataset(o.w, "/group", STRATA_INT32, 0, chunk_rows(g, g->n, 4),
                                      &id_group));
        put(&o, strata_writer_attr_string(o.w, name, "kind",
                                          g->customer_kind ? "customer" : "gaussian"));
    }
    for (int64_t done = 0; !o.rc && done < g->n; done += b) {
        int64_t m = g->n - done < b ? g->n - done : b;
        report(g, done, g->n);
        blobs_rows(&bl, &r, g->customer_kind, m, x, group);
        if (xf)
            for (int64_t i = 0; i < m * g->d; i++)
                xf[i] = (float)x[i];
        put(&o, strata_writer_append(o.w, id_x, g->dtype, xf ? (void *)xf : (void *)x, m, g->d));
        put(&o, strata_writer_append(o.w, id_group, STRATA_INT32, group, m, 0));
    }
    blobs_free(&bl);
    free(x), free(xf), free(group);
    return close_out(&o, g, g->n, bytes);
}

/* ---- transactions ----------------------------------------------------------- */

/* splitmix64 as a stream of uniforms: the log's own randomness. */
static double unit(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1.0p-53;
}

/* The log as a resumable stream: one row per order of each customer, in
 * time order within a customer, with a few rows a real log has too
 * (returns, duplicates, amounts lost in transit). */
typedef struct txgen {
    synth_rng crng;          /* the customers (synth.h) */
    uint64_t lseed;          /* the log's own draws */
    int64_t customers, next; /* customers in all, drawn so far */
    int64_t rows;            /* rows wanted, or -1: as many as the customers' orders */
    unsigned __int128 wtot, wcum; /* orders of all customers, of those drawn */
    float c[SYNTH_FEATURES];
    int64_t id, orders, o, first, last;
    int have, dup;
    int64_t last_day;
    double last_amount;
} txgen;

int64_t gen_transaction_units(const gen_options *g)
{
    return g->n >= 0 ? 2 * g->customers : g->customers;
}

static void tx_init(txgen *t, const gen_options *g)
{
    *t = (txgen){.lseed = (uint64_t)g->seed, .customers = g->customers, .rows = g->n};
    synth_seed(&t->crng, (uint64_t)g->seed);
    if (t->rows < 0)
        return;
    /* n rows shared out in proportion to each customer's orders: a first
     * pass over the customers counts them */
    synth_rng r = t->crng;
    uint8_t tier;
    for (int64_t i = 0; i < t->customers; i++) {
        if (i % 65536 == 0)
            report(g, i, gen_transaction_units(g));
        synth_next(&r, 1, t->c, &tier);
        t->wtot += (unsigned __int128)(int64_t)t->c[1];
    }
}

static int64_t tx_fill(txgen *t, int64_t max, int64_t *id, int64_t *day, double *amount)
{
    int64_t k = 0;
    while (k < max) {
        if (t->dup) { /* the same order logged twice */
            id[k] = t->id;
            day[k] = t->last_day;
            amount[k++] = t->last_amount;
            t->dup = 0;
            continue;
        }
        if (!t->have || t->o == t->orders) {
            t->have = 0;
            if (t->next == t->customers)
                break;
            uint8_t tier;
            synth_next(&t->crng, 1, t->c, &tier);
            t->id = ++t->next;
            int64_t freq = (int64_t)t->c[1];
            if (t->rows < 0) {
                t->orders = freq;
            } else {
                unsigned __int128 n = (unsigned __int128)t->rows, before = n * t->wcum / t->wtot;
                t->wcum += (unsigned __int128)freq;
                t->orders = (int64_t)(n * t->wcum / t->wtot - before);
            }
            t->last = GEN_TODAY - (int64_t)t->c[0];
            t->first = GEN_TODAY - (int64_t)t->c[4];
            t->o = 0;
            t->have = 1;
            continue;
        }
        int64_t o = t->o, d = o == 0 ? t->first
                                     : o == t->orders - 1
                                           ? t->last
                                           : t->first + (int64_t)(unit(&t->lseed) *
                                                                  (double)(t->last - t->first));
        double a = round(100.0 * t->c[3] * exp(0.3 * (unit(&t->lseed) - 0.5))) / 100.0;
        double u = unit(&t->lseed);
        if (u < 0.004) /* a return */
            a = -a;
        else if (u < 0.005) /* an amount lost on the way */
            a = NAN;
        id[k] = t->id;
        day[k] = t->last_day = d;
        amount[k++] = t->last_amount = a;
        t->o++;
        if (u > 0.997 && (t->rows < 0 || t->o < t->orders)) {
            t->dup = 1;
            if (t->rows >= 0) /* an order's worth of the customer's share */
                t->o++;
        }
    }
    return k;
}

int gen_transactions(const gen_options *g, int64_t *rows, int64_t *bytes)
{
    int64_t b = g->block_rows;
    int64_t *id = alloc_or_null(b, sizeof *id), *day = alloc_or_null(b, sizeof *day);
    double *amount = alloc_or_null(b, sizeof *amount);
    /* pandas' layouts: the index (row numbers) and the int64 block (id, day) */
    const int pandas = g->layout == GEN_PANDAS || g->layout == GEN_PANDAS_TABLE;
    int64_t *row = pandas ? alloc_or_null(b, sizeof *row) : NULL;
    int64_t *pair = g->layout == GEN_PANDAS ? alloc_or_null(2 * b, sizeof *pair) : NULL;
    if (!id || !day || !amount || (pandas && !row) || (g->layout == GEN_PANDAS && !pair)) {
        free(id), free(day), free(amount), free(row), free(pair);
        return cli_error(CLI_RUNTIME, "out of memory for a block of %lld rows", (long long)b);
    }
    txgen t;
    tx_init(&t, g);
    out o;
    char name[600];
    static const char *const FIELDS[3] = {"customer_id", "day", "amount"};
    static const int TYPES[3] = {STRATA_INT64, STRATA_INT64, STRATA_FLOAT64};
    int ids[3];
    /* the rows implied by C customers: about 6 each */
    int64_t expect = g->n >= 0 ? g->n : g->customers * 8;
    if (!open_out(&o, g)) {
        if (g->layout == GEN_COMPOUND) {
            put(&o, strata_writer_table(o.w, path_of(name, sizeof name, g->name, NULL), 3, FIELDS,
                                        TYPES, chunk_rows(g, expect, 24), &ids[0]));
        } else if (g->layout == GEN_PANDAS) {
            const pd_block blocks[2] = {{FIELDS, 2, STRATA_INT64}, {FIELDS + 2, 1, STRATA_FLOAT64}};
            put_pandas_frame(&o, g, expect, NULL, blocks, 2, ids);
        } else if (g->layout == GEN_PANDAS_TABLE) {
            put_pandas_table(&o, g, expect, NULL, FIELDS, TYPES, 3, &ids[0]);
        } else
            for (int f = 0; f < 3; f++)
                put(&o, strata_writer_dataset(o.w, path_of(name, sizeof name, g->name, FIELDS[f]),
                                              TYPES[f], 0, chunk_rows(g, expect, 8), &ids[f]));
        put(&o, strata_writer_attr_int(o.w, NULL, "reference_day", GEN_TODAY));
    }
    *rows = 0;
    while (!o.rc) {
        /* the customers done (the one being written is not) */
        report(g, (g->n >= 0 ? t.customers : 0) + t.next - t.have, gen_transaction_units(g));
        const int64_t m = tx_fill(&t, b, id, day, amount);
        if (m <= 0)
            break;
        for (int64_t i = 0; pandas && i < m; i++)
            row[i] = *rows + i;
        if (g->layout == GEN_COMPOUND) {
            const void *cols[3] = {id, day, amount};
            put(&o, strata_writer_append_table(o.w, ids[0], 3, cols, m));
        } else if (g->layout == GEN_PANDAS_TABLE) {
            const void *cols[4] = {row, id, day, amount};
            put(&o, strata_writer_append_table(o.w, ids[0], 4, cols, m));
        } else if (g->layout == GEN_PANDAS) {
            for (int64_t i = 0; i < m; i++) {
                pair[2 * i] = id[i];
                pair[2 * i + 1] = day[i];
            }
            put(&o, strata_writer_append(o.w, ids[0], STRATA_INT64, row, m, 0));
            put(&o, strata_writer_append(o.w, ids[1], STRATA_INT64, pair, m, 2));
            put(&o, strata_writer_append(o.w, ids[2], STRATA_FLOAT64, amount, m, 1));
        } else {
            put(&o, strata_writer_append(o.w, ids[0], STRATA_INT64, id, m, 0));
            put(&o, strata_writer_append(o.w, ids[1], STRATA_INT64, day, m, 0));
            put(&o, strata_writer_append(o.w, ids[2], STRATA_FLOAT64, amount, m, 0));
        }
        *rows += m;
    }
    free(id), free(day), free(amount), free(row), free(pair);
    return close_out(&o, g, gen_transaction_units(g), bytes);
}
