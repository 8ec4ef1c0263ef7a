/*
 * bench_lloyd - seconds per Lloyd iteration of libstrata (public API only).
 *
 * For every case (n, d, k, threads, dtype, assign, kernel) the same handle
 * fits the same data from the same initial centroids (the first k rows, or
 * --init), tol = 0, once with max_iter = 1 and once with max_iter = 1 + I.
 * Setup, validation, centring, allocation and the final labelling cost the
 * same in both fits, so
 *
 *     sec_per_iter = (min_r t(1 + I) - min_r t(1)) / I
 *
 * over r = 1..R repeats. If the 1+I fit stops early (no label changed), the
 * JSON line says so ("n_iter" < "max_iter", "early_stop": true) and I is
 * replaced by n_iter - 1.
 *
 * One JSON line per case goes to stdout (and is appended to --out):
 *   n, d, k, threads, dtype, assign, kernel, sec_per_iter, GB_per_s (bytes of
 *   X read per iteration / time), GFLOP_per_s (2 n k d / time), bound_sec
 *   (max(bytes / read bandwidth, 2 n k d / peak FMA rate) from bounds.json for
 *   the thread count used) and ratio_to_bound (sec_per_iter / bound_sec).
 *
 * Data: Gaussian blobs (32 centres ~ N(0, 2^2) per feature, unit noise),
 * generated from --seed, identical for any thread count; or --input FILE:/DSET
 * read with strata_h5_read_matrix().
 *
 * Usage: bench_lloyd [--n 1M,10M] [--d 8,16,32] [--k 8,64,256] [--threads 1,2]
 *                    [--iters 5] [--repeats 3] [--max-repeats 10] [--min-time 1]
 *                    [--dtype float32[,float64]] [--assign auto|fused|gemm[,...]]
 *                    [--kernel auto|scalar|avx2|avx512[,...]] [--seed 42]
 *                    [--input FILE.h5[:/X]] [--init FILE.h5:/DSET]
 *                    [--bounds bench/bounds.json] [--out FILE] [--result FILE.h5]
 *                    [--wait-idle S] [--busy-retry S]
 *
 * The machine may be shared: every line carries "others_cpu_pct", the CPU time
 * that OTHER processes used while the case ran (from /proc/stat minus our own
 * CPU time; 100 = all CPUs), and --wait-idle S waits up to S seconds before
 * each case until others use < 10% ("others_cpu_pct_before"). A repeat pair
 * is "clean" when others used < 10% during it ("clean_repeats"); --busy-retry
 * S adds pairs for up to S more seconds until --repeats of them are clean.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata.h"

#define MAXL 32

#ifndef STRATA_BENCH_BOUNDS_DEFAULT
#define STRATA_BENCH_BOUNDS_DEFAULT "bench/bounds.json"
#endif

/* ------------------------------------------------------------------ util */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* Busy and total jiffies of all CPUs from /proc/stat (0 if unreadable). */
static void cpu_jiffies(double *busy, double *total)
{
    unsigned long long v[10] = {0};
    *busy = *total = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return;
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                     &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (got < 8) return;
    for (int i = 0; i < 8; i++) *total += (double)v[i];
    *busy = *total - (double)v[3] - (double)v[4]; /* minus idle and iowait */
}

static double own_cpu_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time used by OTHER processes over a window, as a percentage of the
 * machine (100% = every CPU busy): total busy time minus our own. */
typedef struct { double busy, total, own, wall; } cpu_mark;

static cpu_mark cpu_mark_now(void)
{
    cpu_mark m;
    cpu_jiffies(&m.busy, &m.total);
    m.own = own_cpu_sec();
    m.wall = now();
    return m;
}

static double others_pct(cpu_mark a, cpu_mark b)
{
    double jt = b.total - a.total;
    if (jt <= 0) return -1;
    double hz = jt / ((b.wall - a.wall) * omp_get_num_procs()); /* jiffies per CPU-second */
    double others = (b.busy - a.busy) / hz - (b.own - a.own);
    double pct = 100.0 * others / ((b.wall - a.wall) * omp_get_num_procs());
    return pct < 0 ? 0 : pct;
}

/* Wait (up to max_wait s) until other processes use < 10% of the machine. */
static double wait_idle(double max_wait)
{
    double t0 = now(), pct = -1;
    do {
        cpu_mark a = cpu_mark_now();
        struct timespec d = {0, 500000000L};
        nanosleep(&d, NULL);
        pct = others_pct(a, cpu_mark_now());
        if (pct >= 0 && pct < 10) break;
    } while (now() - t0 < max_wait);
    return pct;
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "bench_lloyd: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

/* "1M,10M,250000" -> values (K = 1e3, M = 1e6, G = 1e9). */
static int parse_i64_list(const char *s, int64_t *out, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || n >= max) return -1;
        if (*end == 'k' || *end == 'K') v *= 1e3, end++;
        else if (*end == 'm' || *end == 'M') v *= 1e6, end++;
        else if (*end == 'g' || *end == 'G') v *= 1e9, end++;
        if (v < 1 || v > 9e18 || v != floor(v)) return -1;
        out[n++] = (int64_t)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

/* "a,b,c" matched against names[0..nn) -> indices. */
static int parse_name_list(const char *s, const char *const *names, int nn, int *out, int max)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < nn; i++)
            if (!strcmp(tok, names[i])) found = i;
        if (found < 0 || n >= max) return -1;
        out[n++] = found;
    }
    return n;
}

/* "file.h5:/dset" -> path (malloc'd) and dataset (points into the copy). */
static void split_h5(const char *spec, const char *def_dset, char **path, const char **dset)
{
    char *p = strdup(spec);
    if (!p) die("out of memory", NULL);
    char *c = strrchr(p, ':');
    if (c && c[1] == '/') {
        *c = 0;
        *dset = c + 1;
    } else {
        *dset = def_dset;
    }
    *path = p;
}

/* ------------------------------------------------------------- bounds.json */

static char *g_bounds_text;

static int bounds_value(const char *key, double *out)
{
    if (!g_bounds_text) return 0;
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(g_bounds_text, pat);
    if (!p) return 0;
    char *end;
    double v = strtod(p + strlen(pat), &end);
    if (end == p + strlen(pat) || !(v > 0)) return 0;
    *out = v;
    return 1;
}

/* Bandwidth (GB/s) and peak (GFLOP/s) for `threads` (or the largest measured
 * thread count below it); returns the thread count used, 0 if none. */
static int bounds_for(int threads, int dtype, double *bw, double *peak)
{
    for (int t = threads; t >= 1; t--) {
        char k1[64], k2[64];
        snprintf(k1, sizeof k1, "read_GBps_t%d", t);
        snprintf(k2, sizeof k2, "peak_GFLOPs_%s_t%d", dtype == STRATA_FLOAT64 ? "f64" : "f32", t);
        if (bounds_value(k1, bw) && bounds_value(k2, peak)) return t;
    }
    return 0;
}

static void load_bounds(const char *path, int explicit_path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (explicit_path) die("cannot read bounds file", path);
        fprintf(stderr, "bench_lloyd: no bounds file %s (run `bounds` first); bound_sec = null\n", path);
        return;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    g_bounds_text = calloc((size_t)len + 1, 1);
    if (!g_bounds_text || fread(g_bounds_text, 1, (size_t)len, f) != (size_t)len)
        die("cannot read bounds file", path);
    fclose(f);
}

/* -------------------------------------------------------------- data */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct { uint64_t s[4]; } xo256;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xo_next(xo256 *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static void xo_seed(xo256 *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static double xo_unif(xo256 *r) { return (double)(xo_next(r) >> 11) * 0x1.0p-53; } /* [0,1) */

static void xo_normal2(xo256 *r, double *a, double *b)
{
    double u = 1.0 - xo_unif(r), v = xo_unif(r); /* u in (0,1] */
    double rad = sqrt(-2.0 * log(u));
    *a = rad * cos(6.283185307179586476925 * v);
    *b = rad * sin(6.283185307179586476925 * v);
}

#define N_BLOBS 32
#define BLOB_SPREAD 2.0
#define CHUNK_ROWS 16384

/* n x d Gaussian blobs of `dtype`, identical for any thread count. */
static void *make_blobs(int64_t n, int64_t d, int dtype, uint64_t seed)
{
    size_t esz = dtype == STRATA_FLOAT64 ? 8 : 4;
    size_t bytes = (size_t)n * (size_t)d * esz;
    bytes = (bytes + 63) / 64 * 64;
    void *x = aligned_alloc(64, bytes);
    double *centres = malloc(sizeof(double) * N_BLOBS * (size_t)d);
    if (!x || !centres) die("out of memory generating data", NULL);
    xo256 r;
    xo_seed(&r, seed);
    for (int64_t i = 0; i < N_BLOBS * d; i += 2) {
        double a, b;
        xo_normal2(&r, &a, &b);
        centres[i] = BLOB_SPREAD * a;
        if (i + 1 < N_BLOBS * d) centres[i + 1] = BLOB_SPREAD * b;
    }
    int64_t nchunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nchunks; c++) {
        xo256 rc;
        xo_seed(&rc, seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)(c + 1)));
        int64_t lo = c * CHUNK_ROWS, hi = lo + CHUNK_ROWS < n ? lo + CHUNK_ROWS : n;
        for (int64_t i = lo; i < hi; i++) {
            const double *ctr = centres + (int64_t)(xo_next(&rc) % N_BLOBS) * d;
            for (int64_t j = 0; j < d; j += 2) {
                double a, b;
                xo_normal2(&rc, &a, &b);
                if (dtype == STRATA_FLOAT64) {
                    double *row = (double *)x + i * d;
                    row[j] = ctr[j] + a;
                    if (j + 1 < d) row[j + 1] = ctr[j + 1] + b;
                } else {
                    float *row = (float *)x + i * d;
                    row[j] = (float)(ctr[j] + a);
                    if (j + 1 < d) row[j + 1] = (float)(ctr[j + 1] + b);
                }
            }
        }
    }
    free(centres);
    return x;
}

/* First k rows as double (the initial centroids). */
static double *first_rows(const void *x, int dtype, int64_t k, int64_t d)
{
    double *c = malloc(sizeof(double) * (size_t)(k * d));
    if (!c) die("out of memory", NULL);
    for (int64_t i = 0; i < k * d; i++)
        c[i] = dtype == STRATA_FLOAT64 ? ((const double *)x)[i] : (double)((const float *)x)[i];
    return c;
}

/* ------------------------------------------------------------- timing */

static int g_fail_status;

static int timed_fit(strata_kmeans *km, int64_t max_iter, int dtype, const void *x, int64_t n,
                     int64_t d, double *sec, int64_t *n_iter)
{
    int st = strata_kmeans_set_int(km, STRATA_KMEANS_MAX_ITER, max_iter);
    if (st != STRATA_OK) return st;
    double t0 = now();
    st = strata_kmeans_fit(km, dtype, x, n, d, 0, NULL);
    double t1 = now();
    if (st != STRATA_OK) return st;
    *sec = t1 - t0;
    return strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_N_ITER, n_iter);
}

static const char *const DTYPES[] = {"float32", "float64"};
static const int DTYPE_VAL[] = {STRATA_FLOAT32, STRATA_FLOAT64};
static const char *const ASSIGNS[] = {"auto", "fused", "gemm"};
static const int ASSIGN_VAL[] = {STRATA_ASSIGN_AUTO, STRATA_ASSIGN_FUSED, STRATA_ASSIGN_GEMM};
static const char *const KERNELS[] = {"auto", "scalar", "avx2", "avx512"};
static const int KERNEL_VAL[] = {STRATA_KERNEL_AUTO, STRATA_KERNEL_SCALAR, STRATA_KERNEL_AVX2,
                                 STRATA_KERNEL_AVX512};

typedef struct {
    int iters, repeats, max_repeats;
    double min_time, wait_idle, busy_retry;
    FILE *out;
    const char *result_path;
    const char *init_spec; /* NULL: first k rows */
    const char *input_spec;
} opts;

static void emit(const opts *o, const char *line)
{
    fputs(line, stdout);
    fflush(stdout);
    if (o->out) {
        fputs(line, o->out);
        fflush(o->out);
    }
}

static void emit_error(const opts *o, int64_t n, int64_t d, int64_t k, int threads, const char *dt,
                       const char *as, const char *ke, int st, const char *msg)
{
    char line[2048];
    char clean[1024];
    size_t j = 0;
    for (size_t i = 0; msg && msg[i] && j + 1 < sizeof clean; i++)
        clean[j++] = (msg[i] == '"' || msg[i] == '\\' || msg[i] == '\n') ? ' ' : msg[i];
    clean[j] = 0;
    snprintf(line, sizeof line,
             "{\"n\": %" PRId64 ", \"d\": %" PRId64 ", \"k\": %" PRId64
             ", \"threads\": %d, \"dtype\": \"%s\", \"assign\": \"%s\", \"kernel\": \"%s\", "
             "\"error\": \"%s: %s\"}\n",
             n, d, k, threads, dt, as, ke, strata_status_str(st), clean);
    emit(o, line);
    g_fail_status = 1;
}

static void run_case(const opts *o, const void *x, int64_t n, int64_t d, int64_t k, const double *init,
                     int threads, int dti, int asi, int kei)
{
    int dtype = DTYPE_VAL[dti];
    strata_kmeans *km = NULL;
    int st = strata_kmeans_create(&km);
#define CHECK(call)                                                                                 \
    do {                                                                                            \
        st = (call);                                                                                \
        if (st != STRATA_OK) {                                                                      \
            emit_error(o, n, d, k, threads, DTYPES[dti], ASSIGNS[asi], KERNELS[kei], st,            \
                       km ? strata_kmeans_last_error(km) : strata_last_error());                   \
            strata_kmeans_free(km);                                                                 \
            return;                                                                                 \
        }                                                                                           \
    } while (0)
    CHECK(st);
    CHECK(strata_kmeans_set_int(km, STRATA_THREADS, threads));
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_ASSIGN, ASSIGN_VAL[asi]));
    CHECK(strata_kmeans_set_int(km, STRATA_KERNEL, KERNEL_VAL[kei]));
    CHECK(strata_kmeans_set_double(km, STRATA_KMEANS_TOL, 0.0));
    CHECK(strata_kmeans_set_int(km, STRATA_KMEANS_N_INIT, 1));
    if (o->init_spec) {
        char *path;
        const char *dset;
        split_h5(o->init_spec, "/init", &path, &dset);
        st = strata_kmeans_set_init_centroids_h5(km, path, dset);
        free(path);
        CHECK(st);
    } else {
        CHECK(strata_kmeans_set_init_centroids(km, init, k, d));
    }

    const int64_t m1 = 1, mN = 1 + o->iters;
    double t, best1 = 1e300, bestN = 1e300;
    int64_t it1 = 0, itN = 0;
    double idle_pct = o->wait_idle > 0 ? wait_idle(o->wait_idle) : -1;
    double l0 = load1();
    double start = now();
    cpu_mark m0 = cpu_mark_now();
    /* warm-up: threads, page faults, caches */
    CHECK(timed_fit(km, m1, dtype, x, n, d, &t, &it1));
    /* Repeat pairs (t(1), t(1+I)); a pair is "clean" when other processes
     * used < 10% of the CPUs meanwhile. Mins are taken over all pairs (load
     * from others only adds time); with --busy-retry S, pairs go on (waiting
     * for an idle moment in between) for up to S more seconds until
     * --repeats of them were clean. */
    int reps = 0, clean = 0;
    double extra_start = -1;
    for (;;) {
        cpu_mark pa = cpu_mark_now();
        CHECK(timed_fit(km, m1, dtype, x, n, d, &t, &it1));
        if (t < best1) best1 = t;
        CHECK(timed_fit(km, mN, dtype, x, n, d, &t, &itN));
        if (t < bestN) bestN = t;
        double po = others_pct(pa, cpu_mark_now());
        if (po >= 0 && po < 10) clean++;
        reps++;
        int enough = reps >= o->max_repeats || (reps >= o->repeats && now() - start >= o->min_time);
        if (!enough) continue;
        if (clean >= o->repeats || o->busy_retry <= 0) break;
        if (extra_start < 0) extra_start = now();
        if (now() - extra_start >= o->busy_retry) break;
        wait_idle(5.0);
    }

    double others = others_pct(m0, cpu_mark_now());
    int64_t used_kernel = -1, used_assign = -1, conv = -1;
    double inertia = NAN;
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_KERNEL, &used_kernel));
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_ASSIGN, &used_assign));
    CHECK(strata_kmeans_result_int(km, STRATA_KMEANS_RESULT_CONVERGED, &conv));
    CHECK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia));
    if (o->result_path) CHECK(strata_kmeans_write_h5(km, o->result_path, o->input_spec, STRATA_WRITE_FORCE));

    int early = itN != mN;
    int64_t iters_used = early ? itN - it1 : o->iters;
    double spi = iters_used > 0 ? (bestN - best1) / (double)iters_used : NAN;
    if (early)
        fprintf(stderr,
                "bench_lloyd: WARNING n=%" PRId64 " d=%" PRId64 " k=%" PRId64
                " threads=%d: fit stopped after %" PRId64 " of %" PRId64 " iterations (converged)\n",
                n, d, k, threads, itN, mN);

    size_t esz = dtype == STRATA_FLOAT64 ? 8 : 4;
    double bytes = (double)n * (double)d * (double)esz;
    double flops = 2.0 * (double)n * (double)k * (double)d;
    double bw = 0, peak = 0;
    int bt = bounds_for(threads, dtype, &bw, &peak);
    double bound = bt ? fmax(bytes / (bw * 1e9), flops / (peak * 1e9)) : NAN;

    const char *as_name = used_assign == STRATA_ASSIGN_FUSED ? "fused"
                          : used_assign == STRATA_ASSIGN_GEMM ? "gemm"
                                                              : "?";
    char num[6][48];
#define FMT(i, v, f) (isfinite(v) ? snprintf(num[i], sizeof num[i], f, v) : snprintf(num[i], sizeof num[i], "null"))
    FMT(0, spi, "%.6g");
    FMT(1, bytes / spi / 1e9, "%.4g");
    FMT(2, flops / spi / 1e9, "%.4g");
    FMT(3, bound, "%.6g");
    FMT(4, spi / bound, "%.4g");
    FMT(5, inertia, "%.17g");
#undef FMT
    char line[2048];
    snprintf(line, sizeof line,
             "{\"n\": %" PRId64 ", \"d\": %" PRId64 ", \"k\": %" PRId64
             ", \"threads\": %d, \"dtype\": \"%s\", \"assign\": \"%s\", \"assign_requested\": \"%s\", "
             "\"kernel\": \"%s\", \"kernel_requested\": \"%s\", \"sec_per_iter\": %s, "
             "\"GB_per_s\": %s, \"GFLOP_per_s\": %s, \"bound_sec\": %s, \"ratio_to_bound\": %s, "
             "\"bound_threads\": %d, \"iters\": %d, \"max_iter\": %" PRId64 ", \"n_iter\": %" PRId64
             ", \"n_iter_1\": %" PRId64 ", \"early_stop\": %s, \"converged\": %" PRId64
             ", \"t_fit_1\": %.6g, \"t_fit_n\": %.6g, \"repeats\": %d, \"clean_repeats\": %d, \"inertia\": %s, \"load1\": %.2f, "
             "\"others_cpu_pct_before\": %.1f, \"others_cpu_pct\": %.1f}\n",
             n, d, k, threads, DTYPES[dti], as_name, ASSIGNS[asi], strata_kernel_name((int)used_kernel),
             KERNELS[kei], num[0], num[1], num[2], num[3], num[4], bt, o->iters, mN, itN, it1,
             early ? "true" : "false", conv, best1, bestN, reps, clean, num[5], l0, idle_pct, others);
    emit(o, line);
    fprintf(stderr,
            "  n=%-9" PRId64 " d=%-3" PRId64 " k=%-4" PRId64 " T=%d %s %s/%s: %.4f s/iter  %.1f GB/s  %.1f GFLOP/s"
            "  x%.2f of bound  (others %.0f%%, %d/%d clean)\n",
            n, d, k, threads, DTYPES[dti], as_name, strata_kernel_name((int)used_kernel), spi,
            bytes / spi / 1e9, flops / spi / 1e9, spi / bound, others, clean, reps);
    strata_kmeans_free(km);
#undef CHECK
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_lloyd [--n 1M,10M] [--d 8,16,32] [--k 8,64,256] [--threads 1,2]\n"
            "  [--iters 5] [--repeats 3] [--max-repeats 10] [--min-time 1.0]\n"
            "  [--dtype float32|float64[,..]] [--assign auto|fused|gemm[,..]]\n"
            "  [--kernel auto|scalar|avx2|avx512[,..]] [--seed 42]\n"
            "  [--input FILE.h5[:/X]] [--init FILE.h5:/DSET] [--bounds PATH] [--out FILE]\n"
            "  [--result FILE.h5] [--wait-idle SECONDS] [--busy-retry SECONDS]\n"
            "default --bounds: %s\n",
            STRATA_BENCH_BOUNDS_DEFAULT);
}

int main(int argc, char **argv)
{
    int64_t ns[MAXL] = {1000000, 10000000}, ds[MAXL] = {8, 16, 32}, ks[MAXL] = {8, 64, 256};
    int64_t ts[MAXL] = {1, 2};
    int nn = 2, nd = 3, nk = 3, nt = 2;
    int dts[MAXL] = {0}, ass[MAXL] = {0}, kes[MAXL] = {0};
    int ndt = 1, nas = 1, nke = 1;
    uint64_t seed = 42;
    const char *bounds_path = STRATA_BENCH_BOUNDS_DEFAULT, *out_path = NULL;
    int bounds_explicit = 0;
    opts o = {.iters = 5, .repeats = 3, .max_repeats = 10, .min_time = 1.0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--n")) {
            if ((nn = parse_i64_list(v, ns, MAXL)) < 1) die("bad --n", v);
        } else if (!strcmp(a, "--d")) {
            if ((nd = parse_i64_list(v, ds, MAXL)) < 1) die("bad --d", v);
        } else if (!strcmp(a, "--k")) {
            if ((nk = parse_i64_list(v, ks, MAXL)) < 1) die("bad --k", v);
        } else if (!strcmp(a, "--threads")) {
            if ((nt = parse_i64_list(v, ts, MAXL)) < 1) die("bad --threads", v);
        } else if (!strcmp(a, "--dtype")) {
            if ((ndt = parse_name_list(v, DTYPES, 2, dts, MAXL)) < 1) die("bad --dtype", v);
        } else if (!strcmp(a, "--assign")) {
            if ((nas = parse_name_list(v, ASSIGNS, 3, ass, MAXL)) < 1) die("bad --assign", v);
        } else if (!strcmp(a, "--kernel")) {
            if ((nke = parse_name_list(v, KERNELS, 4, kes, MAXL)) < 1) die("bad --kernel", v);
        } else if (!strcmp(a, "--iters")) {
            o.iters = atoi(v);
            if (o.iters < 1) die("bad --iters", v);
        } else if (!strcmp(a, "--repeats")) {
            o.repeats = atoi(v);
            if (o.repeats < 1) die("bad --repeats", v);
        } else if (!strcmp(a, "--max-repeats")) {
            o.max_repeats = atoi(v);
            if (o.max_repeats < 1) die("bad --max-repeats", v);
        } else if (!strcmp(a, "--min-time")) {
            o.min_time = atof(v);
        } else if (!strcmp(a, "--busy-retry")) {
            o.busy_retry = atof(v);
        } else if (!strcmp(a, "--wait-idle")) {
            o.wait_idle = atof(v);
        } else if (!strcmp(a, "--seed")) {
            seed = strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--bounds")) {
            bounds_path = v;
            bounds_explicit = 1;
        } else if (!strcmp(a, "--out")) {
            out_path = v;
        } else if (!strcmp(a, "--result")) {
            o.result_path = v;
        } else if (!strcmp(a, "--input")) {
            o.input_spec = v;
        } else if (!strcmp(a, "--init")) {
            o.init_spec = v;
        } else {
            usage();
            return 2;
        }
    }
    if (o.max_repeats < o.repeats) o.max_repeats = o.repeats;
    load_bounds(bounds_path, bounds_explicit);
    if (out_path) {
        o.out = fopen(out_path, "a");
        if (!o.out) die("cannot open --out", out_path);
    }
    fprintf(stderr, "bench_lloyd: libstrata %s, %d procs, load %.2f, bounds %s\n", strata_version_string(),
            omp_get_num_procs(), load1(), g_bounds_text ? bounds_path : "(none)");

    if (o.input_spec) {
        /* One data set from HDF5 (read once per dtype). */
        char *path;
        const char *dset;
        split_h5(o.input_spec, "/X", &path, &dset);
        int64_t n, d;
        if (strata_h5_shape(path, dset, &n, &d) != STRATA_OK) die("cannot read input shape", strata_last_error());
        if (o.init_spec) {
            char *ipath;
            const char *idset;
            int64_t ki, di;
            split_h5(o.init_spec, "/init", &ipath, &idset);
            if (strata_h5_shape(ipath, idset, &ki, &di) != STRATA_OK)
                die("cannot read init shape", strata_last_error());
            if (di != d) die("init and input have different d", o.init_spec);
            ks[0] = ki;
            nk = 1;
            free(ipath);
        }
        for (int a = 0; a < ndt; a++) {
            size_t esz = DTYPE_VAL[dts[a]] == STRATA_FLOAT64 ? 8 : 4;
            size_t bytes = ((size_t)n * (size_t)d * esz + 63) / 64 * 64;
            void *x = aligned_alloc(64, bytes);
            if (!x) die("out of memory", NULL);
            if (strata_h5_read_matrix(path, dset, DTYPE_VAL[dts[a]], x, n, d) != STRATA_OK)
                die("cannot read input", strata_last_error());
            for (int c = 0; c < nk; c++) {
                if (ks[c] > n) continue;
                double *init = o.init_spec ? NULL : first_rows(x, DTYPE_VAL[dts[a]], ks[c], d);
                for (int t = 0; t < nt; t++)
                    for (int s = 0; s < nas; s++)
                        for (int e = 0; e < nke; e++)
                            run_case(&o, x, n, d, ks[c], init, (int)ts[t], dts[a], ass[s], kes[e]);
                free(init);
            }
            free(x);
        }
        free(path);
    } else {
        if (o.init_spec) die("--init needs --input (the init must match the data)", NULL);
        for (int a = 0; a < ndt; a++)
            for (int i = 0; i < nn; i++)
                for (int j = 0; j < nd; j++) {
                    double tg = now();
                    void *x = make_blobs(ns[i], ds[j], DTYPE_VAL[dts[a]], seed);
                    fprintf(stderr, "bench_lloyd: generated %" PRId64 " x %" PRId64 " %s in %.1f s\n", ns[i],
                            ds[j], DTYPES[dts[a]], now() - tg);
                    for (int c = 0; c < nk; c++) {
                        if (ks[c] > ns[i]) continue;
                        double *init = first_rows(x, DTYPE_VAL[dts[a]], ks[c], ds[j]);
                        for (int t = 0; t < nt; t++)
                            for (int s = 0; s < nas; s++)
                                for (int e = 0; e < nke; e++)
                                    run_case(&o, x, ns[i], ds[j], ks[c], init, (int)ts[t], dts[a], ass[s],
                                             kes[e]);
                        free(init);
                    }
                    free(x);
                }
    }
    if (o.out) fclose(o.out);
    return g_fail_status;
}
