/*
 * bounds - measure this machine's bounds for one Lloyd iteration, once:
 *
 *   read bandwidth   STREAM-like: sum of a large float array (default 1.5 GB,
 *                    far beyond the caches), split over T OpenMP threads;
 *                    best of --reps passes, GB/s = 1e9 bytes/s.
 *   peak FMA rate    float32 and float64 vector FMA loops with many
 *                    independent accumulators (AVX-512F if the CPU has it,
 *                    else AVX2+FMA), on T threads; best of --reps (short
 *                    passes, so that one idle moment suffices); GFLOP/s
 *                    counts an FMA as 2 flops.
 *
 * and write them as one flat JSON object (bench/bounds.json by default), read
 * by bench_lloyd --bounds:
 *
 *   {"cpu": "...", "isa": "avx512", "threads": [1, 2],
 *    "read_GBps_t1": ..., "read_GBps_t2": ...,
 *    "peak_GFLOPs_f32_t1": ..., "peak_GFLOPs_f64_t1": ..., ...}
 *
 * Usage: bounds [--out PATH] [--mb MB] [--threads 1,2] [--reps R]
 *               [--fma-iters N] [--isa auto|avx512|avx2] [--merge]
 *
 * --merge keeps, for every figure, the larger of the new value and the one
 * already in the output file ("merged_runs" counts the runs): on a VM whose
 * memory bandwidth depends on where the host places the vCPUs at the moment,
 * the bound is the best seen over several runs spread in time.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds_simd.h"

#define MAX_T 64

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

static void cpu_name(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t') p++;
                size_t l = strlen(p);
                while (l && (p[l - 1] == '\n' || p[l - 1] == ' ')) p[--l] = 0;
                /* keep JSON simple: drop quotes and backslashes */
                size_t j = 0;
                for (size_t i = 0; p[i] && j + 1 < len; i++)
                    if (p[i] != '"' && p[i] != '\\') buf[j++] = p[i];
                buf[j] = 0;
            }
            break;
        }
    }
    fclose(f);
}

static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > MAX_T) return -1;
        out[n++] = (int)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

/* Value of "key": in text (0 if absent). */
static double json_value(const char *text, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = text ? strstr(text, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : 0;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1 << 16, 1);
    if (buf) {
        size_t got = fread(buf, 1, (1 << 16) - 1, f);
        buf[got] = 0;
    }
    fclose(f);
    return buf;
}

typedef double (*sum_fn)(const float *, size_t);
typedef double (*fma32_fn)(long, float, float);
typedef double (*fma64_fn)(long, double, double);

static volatile double g_sink;

static double measure_read(const float *a, size_t n, int threads, int reps, sum_fn sum)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double total = 0;
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t lo = n / (size_t)nt * (size_t)t;
            size_t hi = t == nt - 1 ? n : n / (size_t)nt * (size_t)(t + 1);
            lo &= ~(size_t)63;
            if (t != nt - 1) hi &= ~(size_t)63;
            total += sum(a + lo, hi - lo);
        }
        double dt = now() - t0;
        g_sink += total;
        if (dt < best) best = dt;
    }
    return (double)n * sizeof(float) / best / 1e9;
}

static double measure_fma32(int threads, int reps, long iters, fma32_fn f, int flops_per_iter)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double total = 0;
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
        total += f(iters, 0.999999f, 1e-6f);
        double dt = now() - t0;
        g_sink += total;
        if (dt < best) best = dt;
    }
    return (double)threads * (double)iters * flops_per_iter / best / 1e9;
}

static double measure_fma64(int threads, int reps, long iters, fma64_fn f, int flops_per_iter)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double total = 0;
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
        total += f(iters, 0.999999999, 1e-9);
        double dt = now() - t0;
        g_sink += total;
        if (dt < best) best = dt;
    }
    return (double)threads * (double)iters * flops_per_iter / best / 1e9;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bounds [--out PATH] [--mb MB] [--threads 1,2] [--reps R]\n"
            "              [--fma-iters N] [--isa auto|avx512|avx2] [--merge]\n"
            "default --out: %s\n",
            STRATA_BENCH_BOUNDS_DEFAULT);
}

int main(int argc, char **argv)
{
    const char *out = STRATA_BENCH_BOUNDS_DEFAULT;
    long mb = 1536;
    int reps = 20;
    long fma_iters = 20000000L;
    const char *isa_req = "auto";
    int merge = 0;
    int threads[MAX_T], nthreads = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (!strcmp(a, "--merge")) {
            merge = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--mb")) mb = atol(v);
        else if (!strcmp(a, "--reps")) reps = atoi(v);
        else if (!strcmp(a, "--fma-iters")) fma_iters = atol(v);
        else if (!strcmp(a, "--isa")) isa_req = v;
        else if (!strcmp(a, "--threads")) {
            nthreads = parse_list(v, threads, MAX_T);
            if (nthreads < 1) {
                fprintf(stderr, "bounds: bad --threads '%s'\n", v);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
        i++;
    }
    if (mb < 16 || reps < 1 || fma_iters < 1000) {
        fprintf(stderr, "bounds: --mb >= 16, --reps >= 1, --fma-iters >= 1000\n");
        return 2;
    }
    if (nthreads == 0) {
        int p = omp_get_num_procs();
        if (p > MAX_T) p = MAX_T;
        for (int t = 1; t <= p; t++) threads[nthreads++] = t;
    }

    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char *isa;
    if (!strcmp(isa_req, "avx512") || (!strcmp(isa_req, "auto") && has512)) {
        if (!has512) {
            fprintf(stderr, "bounds: this CPU has no AVX-512F\n");
            return 1;
        }
        isa = "avx512";
    } else if (!strcmp(isa_req, "avx2") || !strcmp(isa_req, "auto")) {
        if (!has2) {
            fprintf(stderr, "bounds: this CPU has no AVX2+FMA (needed for the peak loops)\n");
            return 1;
        }
        isa = "avx2";
    } else {
        usage();
        return 2;
    }
    int wide = !strcmp(isa, "avx512");
    sum_fn sum = wide ? bounds_sum_f32_avx512 : bounds_sum_f32_avx2;
    fma32_fn f32 = wide ? bounds_fma_f32_avx512 : bounds_fma_f32_avx2;
    fma64_fn f64 = wide ? bounds_fma_f64_avx512 : bounds_fma_f64_avx2;
    int fl32 = wide ? BOUNDS_AVX512_CHAINS * 16 * 2 : BOUNDS_AVX2_CHAINS * 8 * 2;
    int fl64 = wide ? BOUNDS_AVX512_CHAINS * 8 * 2 : BOUNDS_AVX2_CHAINS * 4 * 2;

    double l_before = load1();
    char cpu[256];
    cpu_name(cpu, sizeof cpu);

    size_t n = (size_t)mb * 1000000 / sizeof(float);
    float *a = NULL;
    if (posix_memalign((void **)&a, 4096, n * sizeof(float)) != 0) {
        fprintf(stderr, "bounds: cannot allocate %ld MB\n", mb);
        return 1;
    }
    int tmax = 1;
    for (int i = 0; i < nthreads; i++)
        if (threads[i] > tmax) tmax = threads[i];
#pragma omp parallel for schedule(static) num_threads(tmax)
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 1023) * (1.0f / 1024);

    double bw[MAX_T], p32[MAX_T], p64[MAX_T];
    for (int i = 0; i < nthreads; i++) {
        int t = threads[i];
        bw[i] = measure_read(a, n, t, reps, sum);
        p32[i] = measure_fma32(t, reps, fma_iters, f32, fl32);
        p64[i] = measure_fma64(t, reps, fma_iters, f64, fl64);
        fprintf(stderr, "bounds: %d thread(s): read %.1f GB/s, f32 FMA %.1f GFLOP/s, f64 %.1f GFLOP/s\n",
                t, bw[i], p32[i], p64[i]);
    }
    free(a);
    double l_after = load1();

    int runs = 1;
    char *old = merge && strcmp(out, "-") ? read_file(out) : NULL;
    if (old && strstr(old, "\"isa\": \"") && strstr(old, isa)) {
        runs += (int)(json_value(old, "merged_runs") > 0 ? json_value(old, "merged_runs") : 1);
        for (int i = 0; i < nthreads; i++) {
            char key[64];
            snprintf(key, sizeof key, "read_GBps_t%d", threads[i]);
            bw[i] = fmax(bw[i], json_value(old, key));
            snprintf(key, sizeof key, "peak_GFLOPs_f32_t%d", threads[i]);
            p32[i] = fmax(p32[i], json_value(old, key));
            snprintf(key, sizeof key, "peak_GFLOPs_f64_t%d", threads[i]);
            p64[i] = fmax(p64[i], json_value(old, key));
        }
        fprintf(stderr, "bounds: merged with %s (best of %d runs)\n", out, runs);
    }
    free(old);

    char date[64];
    time_t tt = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));

    FILE *f = strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    fprintf(f, "{\"cpu\": \"%s\", \"procs\": %d, \"isa\": \"%s\", \"date\": \"%s\",\n", cpu,
            omp_get_num_procs(), isa, date);
    fprintf(f, " \"array_MB\": %ld, \"reps\": %d, \"merged_runs\": %d, \"load1_before\": %.2f, "
            "\"load1_after\": %.2f,\n", mb, reps, runs, l_before, l_after);
    fprintf(f, " \"threads\": [");
    for (int i = 0; i < nthreads; i++) fprintf(f, "%s%d", i ? ", " : "", threads[i]);
    fprintf(f, "]");
    for (int i = 0; i < nthreads; i++)
        fprintf(f, ",\n \"read_GBps_t%d\": %.2f, \"peak_GFLOPs_f32_t%d\": %.1f, \"peak_GFLOPs_f64_t%d\": %.1f",
                threads[i], bw[i], threads[i], p32[i], threads[i], p64[i]);
    fprintf(f, "}\n");
    if (f != stdout && fclose(f) != 0) {
        perror(out);
        return 1;
    }
    if (f != stdout) fprintf(stderr, "bounds: wrote %s\n", out);
    return 0;
}
