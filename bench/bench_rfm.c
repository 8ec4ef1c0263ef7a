/* bench_rfm: seconds for RFM aggregation and scoring of a transaction log,
 * one JSON line per (threads) case. Public API only.
 *
 *   bench_rfm [--n 50M] [--customers 10M] [--days 730] [--threads 1,2]
 *             [--bins 5] [--ties rank|value] [--repeats 3] [--seed 1]
 *             [--input DIR] [--out FILE.jsonl]
 *
 * The log is generated (ids uniform over --customers, days in time order over
 * --days, amounts log-normal in cents: the layout of a real log), or read from
 * DIR/customer_id.i8, DIR/day.i8, DIR/amount.f8 (raw little-endian int64,
 * int64, float64; bench/compare_pandas_rfm.py writes them).
 *
 * Times: fit = strata_rfm_fit (cleaning + aggregation + scoring + segments +
 * profiles); score = strata_rfm_score on the held customers (scoring +
 * segments + profiles); aggregate = fit - score. Minimum over the repeats,
 * which reuse one handle and so its memory (see docs/rfm.md); first_fit_s is
 * the first fit on a new handle, which pays for fresh pages.
 * peak_rss_mb: the process's maximum resident size so far (input included). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "strata.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t parse_count(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'M')
        v *= 1e6;
    else if (*end == 'k' || *end == 'K')
        v *= 1e3;
    return (int64_t)v;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void generate(int64_t n, int64_t customers, int64_t days, uint64_t seed, int64_t *id,
                     int64_t *day, double *amount)
{
    for (int64_t i = 0; i < n; i++) {
        uint64_t a = splitmix(&seed), b = splitmix(&seed);
        id[i] = (int64_t)(a % (uint64_t)customers);
        day[i] = i * days / n;
        /* log-normal spend around 30 (Box-Muller on 2 x 26 bits), in cents */
        double u1 = ((double)(b >> 38) + 0.5) / 67108864.0;
        double u2 = (double)((b >> 12) & 0x3ffffff) / 67108864.0;
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        amount[i] = round(100.0 * exp(log(30.0) + 0.8 * z)) / 100.0;
    }
}

static int read_raw(const char *dir, const char *name, void *buf, size_t elem, int64_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_rfm: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    int64_t count = (int64_t)size / (int64_t)elem;
    if (*n >= 0 && count != *n) {
        fprintf(stderr, "bench_rfm: %s has %lld values, expected %lld\n", path, (long long)count,
                (long long)*n);
        fclose(f);
        return -1;
    }
    *n = count;
    if (buf && fread(buf, elem, (size_t)count, f) != (size_t)count) {
        fprintf(stderr, "bench_rfm: cannot read %s\n", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

#define CHECK(call)                                                                     \
    do {                                                                                \
        int st_ = (call);                                                               \
        if (st_ != STRATA_OK) {                                                         \
            fprintf(stderr, "bench_rfm: %s: %s\n", #call, strata_rfm_last_error(h));    \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

int main(int argc, char **argv)
{
    int64_t n = 50000000, customers = 10000000, days = 730, bins = 5, repeats = 3, seed = 1;
    const char *threads_list = "1,2", *input = NULL, *out = NULL;
    int ties = STRATA_RFM_TIES_RANK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_rfm: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--n")) n = parse_count(v);
        else if (!strcmp(a, "--customers")) customers = parse_count(v);
        else if (!strcmp(a, "--days")) days = parse_count(v);
        else if (!strcmp(a, "--threads")) threads_list = v;
        else if (!strcmp(a, "--bins")) bins = parse_count(v);
        else if (!strcmp(a, "--ties")) ties = !strcmp(v, "value") ? STRATA_RFM_TIES_VALUE : STRATA_RFM_TIES_RANK;
        else if (!strcmp(a, "--repeats")) repeats = parse_count(v);
        else if (!strcmp(a, "--seed")) seed = parse_count(v);
        else if (!strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "--out")) out = v;
        else {
            fprintf(stderr, "bench_rfm: unknown option %s\n", a);
            return 2;
        }
    }
    if (input) {
        n = -1;
        if (read_raw(input, "customer_id.i8", NULL, 8, &n))
            return 1;
    }
    int64_t *id = malloc((size_t)n * 8), *day = malloc((size_t)n * 8);
    double *amount = malloc((size_t)n * 8);
    if (!id || !day || !amount) {
        fprintf(stderr, "bench_rfm: out of memory for %lld transactions\n", (long long)n);
        return 1;
    }
    double t0 = now();
    if (input) {
        if (read_raw(input, "customer_id.i8", id, 8, &n) || read_raw(input, "day.i8", day, 8, &n) ||
            read_raw(input, "amount.f8", amount, 8, &n))
            return 1;
    } else {
        generate(n, customers, days, (uint64_t)seed, id, day, amount);
    }
    fprintf(stderr, "bench_rfm: %lld transactions %s in %.1f s\n", (long long)n,
            input ? "read" : "generated", now() - t0);
    FILE *fo = out ? fopen(out, "a") : NULL;
    char *list = strdup(threads_list);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int64_t threads = parse_count(tok);
        strata_rfm *h;
        if (strata_rfm_create(&h) != STRATA_OK)
            return 1;
        CHECK(strata_rfm_set_int(h, STRATA_THREADS, threads));
        CHECK(strata_rfm_set_int(h, STRATA_RFM_BINS, bins));
        CHECK(strata_rfm_set_int(h, STRATA_RFM_TIES, ties));
        double best_fit = INFINITY, best_score = INFINITY, first_fit = 0;
        for (int64_t r = 0; r < repeats; r++) {
            double a = now();
            CHECK(strata_rfm_fit(h, id, day, amount, n));
            double b = now();
            CHECK(strata_rfm_score(h));
            double c = now();
            if (r == 0)
                first_fit = b - a;
            best_fit = fmin(best_fit, b - a);
            best_score = fmin(best_score, c - b);
        }
        int64_t nc, used;
        CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &nc));
        CHECK(strata_rfm_result_int(h, STRATA_RFM_RESULT_ROWS_USED, &used));
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        char line[640];
        snprintf(line, sizeof line,
                 "{\"bench\": \"rfm\", \"transactions\": %lld, \"customers\": %lld, "
                 "\"rows_used\": %lld, \"threads\": %lld, \"bins\": %lld, \"ties\": \"%s\", "
                 "\"fit_s\": %.4f, \"score_s\": %.4f, \"aggregate_s\": %.4f, \"first_fit_s\": %.4f, "
                 "\"repeats\": %lld, "
                 "\"peak_rss_mb\": %.0f}",
                 (long long)n, (long long)nc, (long long)used, (long long)threads,
                 (long long)bins, ties == STRATA_RFM_TIES_VALUE ? "value" : "rank", best_fit,
                 best_score, best_fit - best_score, first_fit, (long long)repeats,
                 (double)ru.ru_maxrss / 1024);
        puts(line);
        fflush(stdout);
        if (fo)
            fprintf(fo, "%s\n", line);
        strata_rfm_free(h);
    }
    free(list);
    if (fo)
        fclose(fo);
    free(id);
    free(day);
    free(amount);
    return 0;
}
