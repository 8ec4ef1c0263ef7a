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
 * One JSON line per case on stdout: data, n, d, k, threads, kernel, n_iter,
 * converged, lloyd_s, hamerly_s, speedup (lloyd_s / hamerly_s).
 *
 * Usage: bench_converged [--data customers,blobs] [--n 1000000] [--d 6,8,16]
 *                        [--k 4,8,16,64,256] [--threads 1] [--kernel auto|scalar|avx2|avx512]
 *                        [--max-iter 300] [--repeats 2] [--seed 42]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata.h"

#define MAXL 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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
                int64_t threads, int kernel, int64_t max_iter, int repeats, res *r)
{
    r->sec = INFINITY;
    for (int rep = 0; rep < repeats; rep++) {
        strata_kmeans *km;
        CHECK(strata_kmeans_create(&km));
        CHECK(strata_kmeans_set_init_centroids(km, init, k, d));
        CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_ALGORITHM, algo));
        CHECK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
        CHECK(strata_kmeans_set_int(km, STRATA_KERNEL, kernel));
        CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter));
        CHECK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 1e-4));
        double t0 = now();
        CHECK(strata_kmeans_fit(km, STRATA_FLOAT32, x, n, d, 0, NULL));
        double t = now() - t0;
        if (t < r->sec)
            r->sec = t;
        if (rep == 0) {
            r->labels = malloc(sizeof(int32_t) * (size_t)n);
            r->c = malloc(sizeof(double) * (size_t)(k * d));
            CHECK(strata_kmeans_labels(km, r->labels, n));
            CHECK(strata_kmeans_centroids(km, r->c, k, d));
            CHECK(strata_kmeans_result_double(km, STRATA_RESULT_INERTIA, &r->inertia));
            CHECK(strata_kmeans_result_int(km, STRATA_RESULT_N_ITER, &r->n_iter));
            CHECK(strata_kmeans_result_int(km, STRATA_RESULT_CONVERGED, &r->converged));
        }
        strata_kmeans_free(km);
    }
}

int main(int argc, char **argv)
{
    const char *datas = "customers,blobs", *kname = "auto";
    int64_t ns[MAXL] = {1000000}, ds[MAXL] = {6, 8, 16}, ks[MAXL] = {4, 8, 16, 64, 256};
    int nn = 1, nd = 3, nk = 5, repeats = 2;
    int64_t threads = 1, max_iter = 300, seed = 42;
    for (int a = 1; a + 1 < argc; a += 2) {
        const char *o = argv[a], *v = argv[a + 1];
        if (!strcmp(o, "--data")) datas = v;
        else if (!strcmp(o, "--n")) nn = parse_list(v, ns);
        else if (!strcmp(o, "--d")) nd = parse_list(v, ds);
        else if (!strcmp(o, "--k")) nk = parse_list(v, ks);
        else if (!strcmp(o, "--threads")) threads = atoll(v);
        else if (!strcmp(o, "--kernel")) kname = v;
        else if (!strcmp(o, "--max-iter")) max_iter = atoll(v);
        else if (!strcmp(o, "--repeats")) repeats = atoi(v);
        else if (!strcmp(o, "--seed")) seed = atoll(v);
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
                    res l = {0}, h = {0};
                    run(x, n, d, k, init, STRATA_ALGO_LLOYD, threads, kernel, max_iter, repeats, &l);
                    run(x, n, d, k, init, STRATA_ALGO_HAMERLY, threads, kernel, max_iter, repeats, &h);
                    int same = l.n_iter == h.n_iter && l.inertia == h.inertia &&
                               !memcmp(l.labels, h.labels, sizeof(int32_t) * (size_t)n) &&
                               !memcmp(l.c, h.c, sizeof(double) * (size_t)(k * d));
                    printf("{\"data\": \"%s\", \"n\": %lld, \"d\": %lld, \"k\": %lld, \"threads\": %lld, "
                           "\"kernel\": \"%s\", \"n_iter\": %lld, \"converged\": %lld, "
                           "\"lloyd_s\": %.3f, \"hamerly_s\": %.3f, \"speedup\": %.2f, \"same\": %s}\n",
                           kind, (long long)n, (long long)d, (long long)k, (long long)threads, kname,
                           (long long)l.n_iter, (long long)l.converged, l.sec, h.sec, l.sec / h.sec,
                           same ? "true" : "false");
                    fflush(stdout);
                    free(l.labels);
                    free(l.c);
                    free(h.labels);
                    free(h.c);
                    free(init);
                    if (!same) {
                        fprintf(stderr, "Lloyd and Hamerly differ\n");
                        return 1;
                    }
                }
                free(x);
            }
    return 0;
}
