/* The transaction log of `strata demo`: turn the synthetic customers into the
 * transaction log they imply (orders spread between their first and last
 * order days, amounts around their basket size), with a few rows a real log
 * has too (returns, duplicates, amounts lost in transit). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo_log.h"
#include "synth.h"

/* The day the demo's data end on: the customers' recency counts back from it. */
#define DEMO_TODAY 20000

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return ((double)(mix(s) >> 11) + 0.5) * 0x1.0p-53;
}

typedef struct txlog {
    int64_t n, *id, *day;
    double *amount;
} txlog;

/* One row per order of each customer, in time order within a customer. */
static int make_log(const float *x, int64_t customers, uint64_t seed, txlog *t)
{
    int64_t n = 0;
    for (int64_t i = 0; i < customers; i++)
        n += (int64_t)x[i * SYNTH_FEATURES + 1];
    n += n / 200 + 1; /* room for the duplicated rows */
    t->id = malloc((size_t)n * sizeof *t->id);
    t->day = malloc((size_t)n * sizeof *t->day);
    t->amount = malloc((size_t)n * sizeof *t->amount);
    if (!t->id || !t->day || !t->amount)
        return -1;
    int64_t k = 0;
    for (int64_t i = 0; i < customers; i++) {
        const float *c = x + i * SYNTH_FEATURES;
        int64_t orders = (int64_t)c[1], last = DEMO_TODAY - (int64_t)c[0];
        int64_t first = DEMO_TODAY - (int64_t)c[4];
        double basket = c[3];
        for (int64_t o = 0; o < orders; o++) {
            int64_t day = o == 0 ? first : o == orders - 1 ? last
                                                          : first + (int64_t)(unit(&seed) *
                                                                              (double)(last - first));
            double amount = round(100.0 * basket * exp(0.3 * (unit(&seed) - 0.5))) / 100.0;
            double u = unit(&seed);
            if (u < 0.004) /* a return */
                amount = -amount;
            else if (u < 0.005) /* an amount lost on the way */
                amount = NAN;
            t->id[k] = i + 1;
            t->day[k] = day;
            t->amount[k] = amount;
            k++;
            if (u > 0.997 && k < n) { /* the same order logged twice */
                t->id[k] = t->id[k - 1];
                t->day[k] = t->day[k - 1];
                t->amount[k] = t->amount[k - 1];
                k++;
            }
        }
    }
    t->n = k;
    return 0;
}

/* Write the log as /tx/customer_id, /tx/day, /tx/amount of a new file. */
int demo_write_log(const float *x, int64_t customers, int64_t seed, const char *path,
                   int64_t *rows, int64_t *today)
{
    txlog t = {0};
    strata_out *o = NULL;
    int rc = CLI_OK, st = STRATA_OK;
    if (make_log(x, customers, (uint64_t)seed, &t))
        rc = cli_error(CLI_RUNTIME, "out of memory for the demo's transactions");
    if (!rc && (st = strata_out_open(&o, path, NULL, 0, 0)) != STRATA_OK)
        rc = cli_library_error(st, strata_last_error());
    if (!rc) {
        st = strata_out_column_int64(o, "/tx/customer_id", t.id, t.n);
        if (!st)
            st = strata_out_column_int64(o, "/tx/day", t.day, t.n);
        if (!st)
            st = strata_out_column_double(o, "/tx/amount", t.amount, t.n);
        if (!st)
            st = strata_out_attr_string(o, NULL, "source", "strata demo: synthetic transactions");
        if (st) {
            rc = cli_library_error(st, strata_out_last_error(o));
            strata_out_discard(o);
        } else if ((st = strata_out_commit(o)) != STRATA_OK) {
            rc = cli_library_error(st, strata_last_error());
        }
    }
    *rows = t.n;
    *today = DEMO_TODAY;
    free(t.id);
    free(t.day);
    free(t.amount);
    return rc;
}
