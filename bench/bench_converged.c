/*
 * bench_converged - time to a converged fit, Lloyd against Hamerly, from the
 * same initial centroids (public API only).
 *
 * For every case (data, n, d, k) both algorithms fit the same data from the
 * same start: k distinct rows drawn with --seed (k-means++ would cost the same
 * for both and is not what is compared), tol = 1e-4, max_iter = --max-iter.
 * Each fit is timed --repeats times (the minimum is kept; the machine may be
 * shared). The two results must agree bitwise (labels, centroids, inertia,
 * n_iter): the program exits 1 if they do not.
 *
 * Data (float32, like the features `strata rfm` writes):
 *   customers  customer-like features: a latent tier (4 tiers, shares 50/30/15/5%)
 *              sets the log-mean of d skewed (log-normal) features, which are
 *              log1p-transformed and standardised, as one prepares RFM data;
 *   blobs      Gaussian blobs, 32 centres ~ N(0, 2^2) per feature, unit noise.
 *
 * Mini-batch k-means (STRATA_ALGO_MINIBATCH, --batch-size rows, the same start
 * and tol, max_iter epochs) runs too, for its time and memory; it is
 * approximate, so its result is not compared (minibatch_inertia_ratio: its
 * inertia / Lloyd's). --no-minibatch skips it.
 *
 * Peak memory: every allocation libstrata makes goes through a tracking
 * allocator (strata_set_allocator, tests/support/memtrack.h), so for each fit
 * ALGO_peak_extra_bytes is the most the library held at once during the fit
 * beyond what it held before (the handle); the caller's data is not in it.
 * ALGO_peak_over_data = ALGO_peak_extra_bytes / data_bytes (n x d x 4). The
 * labels the model keeps (n x int32, labels_bytes, labels_over_data) are part
 * of every peak; ALGO_kept_bytes is what the handle still holds after the fit
 * (labels + centroids). Exact, unlike ru_maxrss (issue 10's memory goal:
 * peak <= data + 25%).
 *
 * One JSON line per case on stdout: data, n, d, k, threads, kernel, n_iter,
 * converged, lloyd_s, hamerly_s, speedup (lloyd_s / hamerly_s), same,
 * minibatch_s, minibatch_steps, minibatch_inertia_ratio, data_bytes,
 * labels_bytes, labels_over_data, and for ALGO in lloyd, hamerly, minibatch:
 * ALGO_peak_extra_bytes, ALGO_peak_over_data, ALGO_kept_bytes. --markdown adds
 * a table of the cases after the JSON lines (lines not starting with "{").
 *
 * Yinyang (STRATA_ALGO_YINYANG) runs too and must agree bitwise as well
 * (yinyang_s, speedup_yinyang = lloyd_s / yinyang_s, same_yinyang);
 * --no-yinyang and --no-hamerly skip them. Times are process CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: a shared machine's other jobs do not count;
 * at --threads > 1 it is the sum over threads), --clock wall for wall time.
 *
 * Usage: bench_converged [--data customers,blobs] [--n 1000000] [--d 6,8,16]
 *                        [--k 4,8,16,64,256] [--threads 1] [--kernel auto|scalar|avx2|avx512]
 *                        [--max-iter 300] [--repeats 2] [--seed 42] [--batch-size 1024]
 *                        [--no-minibatch] [--no-hamerly]
 *                        [--no-yinyang] [--clock cpu|wall] [--markdown]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtrack.h"
#include "strata.h"

#define MAXL 16

static int use_wall = 0; /* --clock wall; process CPU time by default */

static double now(void)
{
    struct timespec ts;
    clock_gettime(use_wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform(void)
{
    return (double)(rng_next() >> 11) * 0x1p-53;
}
static double normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static int parse_list(const char *s, int64_t *out)
{
    int m = 0;
    while (*s && m < MAXL) {
        char *end;
        double v = strtod(s, &end);
        if (end == s)
            break;
        if (*end == 'M') {
            v *= 1e6;
            end++;
        }
        out[m++] = (int64_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return m;
}

static void gen(const char *kind, int64_t n, int64_t d, uint64_t seed, float *x)
{
    rng_state = seed;
    if (!strcmp(kind, "blobs")) {
        double *cen = malloc(sizeof(double) * 32 * (size_t)d);
        for (int64_t i = 0; i < 32 * d; i++)
            cen[i] = 2.0 * normal();
        for (int64_t i = 0; i < n; i++) {
            int64_t b = (int64_t)(rng_next() % 32);
            for (int64_t f = 0; f < d; f++)
                x[i * d + f] = (float)(cen[b * d + f] + normal());
        }
        free(cen);
        return;
    }
    /* customers: tier-dependent log-normal features, log1p, standardised */
    double *lm = malloc(sizeof(double) * 4 * (size_t)d);
    for (int64_t t = 0; t < 4; t++)
        for (int64_t f = 0; f < d; f++)
            lm[t * d + f] = 1.0 + 0.8 * (double)t * (0.5 + uniform()) + 0.3 * normal();
    double *mean = calloc((size_t)d, sizeof(double)), *sq = calloc((size_t)d, sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        double u = uniform();
        int64_t t = u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
        for (int64_t f = 0; f < d; f++) {
            double v = log1p(exp(lm[t * d + f] + (0.6 + 0.1 * (double)(f % 3)) * normal()));
            x[i * d + f] = (float)v;
            mean[f] += v;
            sq[f] += v * v;
        }
    }
    for (int64_t f = 0; f < d; f++) {
        mean[f] /= (double)n;
        sq[f] = sqrt(fmax(sq[f] / (double)n - mean[f] * mean[f], 1e-12));
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < d; f++)
            x[i * d + f] = (float)(((double)x[i * d + f] - mean[f]) / sq[f]);
    free(lm);
    free(mean);
    free(sq);
}

typedef struct res {
    double sec, inertia;
    int64_t n_iter, converged;
    size_t peak_extra, kept; /* bytes: most held during the fit beyond before it; held after */
    int32_t *labels;
    double *c;
} res;

#define CHECK(call)                                                                \
    do {                                                                           \
        int st_ = (call);                                                          \
        if (st_) {                                                                 \
            fprintf(stderr, "%s: %s\n", #call, strata_last_error());               \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static void run(const float *x, int64_t n, int64_t d, int64_t k, const double *init, int algo,
                int64_t threads, int kernel, int64_t max_iter, int64_t batch, int repeats, res *r)
{
    r->sec = INFINITY;
    r->peak_extra = 0;
    for (int rep = 0; rep < repeats; rep++) {
        strata_kmeans *km;
        CHECK(strata_kmeans_create(&km));
        CHECK(strata_kmeans_set_init_centroids(km, init, k, d));
        CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, algo));
        CHECK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
        CHECK(strata_kmeans_set_int(km, STRATA_KERNEL, kernel));
        CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter));
        CHECK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 1e-4));
        if (algo == STRATA_ALGO_MINIBATCH)
            CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_BATCH_SIZE, batch));
        size_t before = memtrack_current();
        memtrack_reset_peak();
        double t0 = now();
        CHECK(strata_kmeans_fit(km, STRATA_FLOAT32, x, n, d, 0, NULL));
        double t = now() - t0;
        if (t < r->sec)
            r->sec = t;
        if (memtrack_peak() - before > r->peak_extra) /* the same every repeat; kept the largest */
            r->peak_extra = memtrack_peak() - before;
        r->kept = memtrack_current() - before;
        if (rep == 0) {
            r->labels = malloc(sizeof(int32_t) * (size_t)n);
            r->c = malloc(sizeof(double) * (size_t)(k * d));
            CHECK(strata_kmeans_labels(km, r->labels, n));
            CHECK(strata_kmeans_centroids(km, r->c, k, d));
            CHECK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &r->inertia));
            CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, &r->n_iter));
            CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &r->converged));
        }
        strata_kmeans_free(km);
    }
}

/* One row of the --markdown table. */
typedef struct summary {
    char data[16];
    int64_t n, d, k, n_iter, mb_steps;
    double lloyd_s, hamerly_s, mb_s, yy_s;
    size_t data_bytes, lloyd_peak, hamerly_peak, mb_peak;
} summary;

static void cell(size_t peak, size_t data_bytes, int64_t n, int run)
{
    if (!run)
        printf(" - |");
    else
        printf(" %.1f (%.3f, %.1f B/row) |", (double)peak / 1048576.0, (double)peak / (double)data_bytes,
               (double)peak / (double)n);
}

static void markdown(const summary *sm, int rows, int with_mb)
{
    printf("\n| data | n | d | k | iter | Lloyd s | Hamerly s | Yinyang s | mini-batch s (steps) | data MiB | labels MiB "
           "| Lloyd peak MiB (/data, B/row) | Hamerly peak MiB (/data, B/row) | mini-batch peak MiB (/data, B/row) |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < rows; i++) {
        const summary *r = &sm[i];
        printf("| %s | %lld | %lld | %lld | %lld | %.3f | %.3f | %.3f |", r->data, (long long)r->n,
               (long long)r->d, (long long)r->k, (long long)r->n_iter, r->lloyd_s, r->hamerly_s,
               r->yy_s);
        if (with_mb)
            printf(" %.3f (%lld) |", r->mb_s, (long long)r->mb_steps);
        else
            printf(" - |");
        printf(" %.1f | %.1f |", (double)r->data_bytes / 1048576.0, (double)r->n * 4.0 / 1048576.0);
        cell(r->lloyd_peak, r->data_bytes, r->n, 1);
        cell(r->hamerly_peak, r->data_bytes, r->n, 1);
        cell(r->mb_peak, r->data_bytes, r->n, with_mb);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    const char *datas = "customers,blobs", *kname = "auto";
    int64_t ns[MAXL] = {1000000}, ds[MAXL] = {6, 8, 16}, ks[MAXL] = {4, 8, 16, 64, 256};
    int nn = 1, nd = 3, nk = 5, repeats = 2, with_mb = 1, want_md = 0, with_yy = 1, with_h = 1;
    int64_t threads = 1, max_iter = 300, seed = 42, batch = 1024;
    /* Before any other libstrata call: the tracker frees only its own blocks. */
    if (memtrack_install()) {
        fprintf(stderr, "strata_set_allocator failed\n");
        return 1;
    }
    for (int a = 1; a < argc; a++) {
        const char *o = argv[a];
        if (!strcmp(o, "--no-yinyang")) {
            with_yy = 0;
            continue;
        }
        if (!strcmp(o, "--no-hamerly")) {
            with_h = 0;
            continue;
        }
        if (!strcmp(o, "--no-minibatch")) {
            with_mb = 0;
            continue;
        }
        if (!strcmp(o, "--markdown")) {
            want_md = 1;
            continue;
        }
        if (a + 1 >= argc) {
            fprintf(stderr, "%s needs a value (see the comment at the top of bench_converged.c)\n", o);
            return 2;
        }
        const char *v = argv[++a];
        if (!strcmp(o, "--data")) datas = v;
        else if (!strcmp(o, "--n")) nn = parse_list(v, ns);
        else if (!strcmp(o, "--d")) nd = parse_list(v, ds);
        else if (!strcmp(o, "--k")) nk = parse_list(v, ks);
        else if (!strcmp(o, "--threads")) threads = atoll(v);
        else if (!strcmp(o, "--kernel")) kname = v;
        else if (!strcmp(o, "--max-iter")) max_iter = atoll(v);
        else if (!strcmp(o, "--repeats")) repeats = atoi(v);
        else if (!strcmp(o, "--seed")) seed = atoll(v);
        else if (!strcmp(o, "--batch-size")) batch = atoll(v);
        else if (!strcmp(o, "--clock")) use_wall = !strcmp(v, "wall");
        else {
            fprintf(stderr, "unknown option %s (see the comment at the top of bench_converged.c)\n", o);
            return 2;
        }
    }
    int kernel = !strcmp(kname, "scalar") ? STRATA_KERNEL_SCALAR
                 : !strcmp(kname, "avx2") ? STRATA_KERNEL_AVX2
                 : !strcmp(kname, "avx512") ? STRATA_KERNEL_AVX512 : STRATA_KERNEL_AUTO;
    char dl[256];
    snprintf(dl, sizeof dl, "%s", datas);
    summary sm[256];
    int rows = 0;
    for (char *kind = strtok(dl, ","); kind; kind = strtok(NULL, ","))
        for (int in = 0; in < nn; in++)
            for (int id = 0; id < nd; id++) {
                int64_t n = ns[in], d = ds[id];
                float *x = malloc(sizeof(float) * (size_t)(n * d));
                gen(kind, n, d, (uint64_t)seed, x);
                for (int ik = 0; ik < nk; ik++) {
                    int64_t k = ks[ik];
                    double *init = malloc(sizeof(double) * (size_t)(k * d));
                    rng_state = (uint64_t)seed * 7919u + (uint64_t)k;
                    for (int64_t j = 0; j < k; j++) { /* k rows, distinct by index */
                        int64_t i = (int64_t)(rng_next() % (uint64_t)n);
                        for (int64_t f = 0; f < d; f++)
                            init[j * d + f] = x[i * d + f];
                    }
                    res l = {0}, h = {0}, mb = {0}, yy = {0};
                    run(x, n, d, k, init, STRATA_ALGO_LLOYD, threads, kernel, max_iter, batch, repeats, &l);
                    if (with_h)
                        run(x, n, d, k, init, STRATA_ALGO_HAMERLY, threads, kernel, max_iter, batch,
                            repeats, &h);
                    else
                        h = (res){NAN, l.inertia, l.n_iter, l.converged, 0, 0, NULL, NULL};
                    if (with_yy)
                        run(x, n, d, k, init, STRATA_ALGO_YINYANG, threads, kernel, max_iter, batch,
                            repeats, &yy);
                    if (with_mb)
                        run(x, n, d, k, init, STRATA_ALGO_MINIBATCH, threads, kernel, max_iter, batch,
                            repeats, &mb);
                    int same = !with_h || (l.n_iter == h.n_iter && l.inertia == h.inertia &&
                               !memcmp(l.labels, h.labels, sizeof(int32_t) * (size_t)n) &&
                               !memcmp(l.c, h.c, sizeof(double) * (size_t)(k * d)));
                    int same_yy = !with_yy || (l.n_iter == yy.n_iter && l.inertia == yy.inertia &&
                                  !memcmp(l.labels, yy.labels, sizeof(int32_t) * (size_t)n) &&
                                  !memcmp(l.c, yy.c, sizeof(double) * (size_t)(k * d)));
                    const size_t data_bytes = sizeof(float) * (size_t)(n * d);
                    const size_t label_bytes = sizeof(int32_t) * (size_t)n;
                    printf("{\"data\": \"%s\", \"n\": %lld, \"d\": %lld, \"k\": %lld, \"threads\": %lld, "
                           "\"kernel\": \"%s\", \"n_iter\": %lld, \"converged\": %lld, "
                           "\"lloyd_s\": %.3f, \"hamerly_s\": %.3f, \"speedup\": %.2f, \"same\": %s",
                           kind, (long long)n, (long long)d, (long long)k, (long long)threads, kname,
                           (long long)l.n_iter, (long long)l.converged, l.sec, h.sec, l.sec / h.sec,
                           same ? "true" : "false");
                    if (with_yy)
                        printf(", \"yinyang_s\": %.3f, \"speedup_yinyang\": %.2f, \"same_yinyang\": %s",
                               yy.sec, l.sec / yy.sec, same_yy ? "true" : "false");
                    if (with_mb)
                        printf(", \"minibatch_s\": %.3f, \"minibatch_steps\": %lld, "
                               "\"minibatch_inertia_ratio\": %.6f", mb.sec, (long long)mb.n_iter,
                               mb.inertia / l.inertia);
                    printf(", \"data_bytes\": %zu, \"labels_bytes\": %zu, \"labels_over_data\": %.4f",
                           data_bytes, label_bytes, (double)label_bytes / (double)data_bytes);
                    const char *names[4] = {"lloyd", "hamerly", "minibatch", "yinyang"};
                    const res *rs[4] = {&l, &h, &mb, &yy};
                    for (int a = 0; a < 4; a++)
                        if ((a != 1 || with_h) && (a != 2 || with_mb) && (a != 3 || with_yy))
                            printf(", \"%s_peak_extra_bytes\": %zu, \"%s_peak_over_data\": %.4f, "
                                   "\"%s_kept_bytes\": %zu", names[a], rs[a]->peak_extra, names[a],
                                   (double)rs[a]->peak_extra / (double)data_bytes, names[a],
                                   rs[a]->kept);
                    printf("}\n");
                    if (rows < (int)(sizeof sm / sizeof sm[0])) {
                        summary *r = &sm[rows++];
                        snprintf(r->data, sizeof r->data, "%s", kind);
                        r->n = n, r->d = d, r->k = k, r->n_iter = l.n_iter, r->mb_steps = mb.n_iter;
                        r->lloyd_s = l.sec, r->hamerly_s = h.sec, r->mb_s = mb.sec;
                        r->yy_s = with_yy ? yy.sec : NAN;
                        r->data_bytes = data_bytes, r->lloyd_peak = l.peak_extra;
                        r->hamerly_peak = h.peak_extra, r->mb_peak = mb.peak_extra;
                    }
                    fflush(stdout);
                    free(l.labels);
                    free(l.c);
                    free(h.labels);
                    free(h.c);
                    free(mb.labels);
                    free(yy.labels);
                    free(yy.c);
                    free(mb.c);
                    free(init);
                    if (!same || !same_yy) {
                        fprintf(stderr, "Lloyd and %s differ\n", same ? "Yinyang" : "Hamerly");
                        return 1;
                    }
                }
                free(x);
            }
    if (want_md)
        markdown(sm, rows, with_mb);
    return 0;
}
