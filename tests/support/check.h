/* Shared checks of a libstrata fit against the reference (support/ref.h).
 * Header-only, on top of test.h's assertions. */
#ifndef STRATA_TEST_CHECK_H
#define STRATA_TEST_CHECK_H

#include "ref.h"
#include "test.h"

/* ---- progress log ----------------------------------------------------- */

#define LOG_CAP 4096

typedef struct prog_log {
    int64_t calls;
    int64_t run[LOG_CAP], iteration[LOG_CAP];
    double inertia[LOG_CAP];
} prog_log;

static inline int log_progress(void *user, int64_t run, int64_t iteration, double inertia)
{
    prog_log *log = user;
    if (log->calls < LOG_CAP) {
        log->run[log->calls] = run;
        log->iteration[log->calls] = iteration;
        log->inertia[log->calls] = inertia;
    }
    log->calls++;
    return 0;
}

static inline int64_t result_int(strata_kmeans *km, int key)
{
    int64_t v = -12345;
    ASSERT_OK(strata_kmeans_result_int(km, key, &v));
    return v;
}

static inline double result_inertia(strata_kmeans *km)
{
    double v = -1.0;
    ASSERT_OK(strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &v));
    return v;
}

/* Relative tolerance on inertia: sums are in double, but distances may be
 * computed in the element type. */
static inline double inertia_rtol(int dtype)
{
    return dtype == STRATA_FLOAT32 ? 1e-5 : 1e-9;
}

typedef struct ref_tols {
    double inertia_rtol;  /* on the final and per-iteration inertia */
    double centroid_rtol; /* max |c - c_ref| <= centroid_rtol * max(1, max |c_ref|) */
} ref_tols;

/* The default: identical labels make the centroids the same double sums in
 * another order, so they agree to far better than 1e-9. */
static inline ref_tols default_tols(int dtype)
{
    ref_tols t = {inertia_rtol(dtype), 1e-9};
    return t;
}

/* Labels identical, centroids equal up to summation order, inertia, n_iter
 * and convergence as the reference's; the progress log (if any) has one call
 * per iteration with that pass's inertia, never increasing. */
static inline void check_against_ref(strata_kmeans *km, const gen_data *g, const ref_fit *ref,
                                     const prog_log *log, ref_tols tol, const char *what)
{
    const int64_t n = g->n, d = g->d, k = ref->k;
    int32_t *lab = test_alloc((size_t)n, sizeof(int32_t));
    double *c = test_alloc((size_t)(k * d), sizeof(double));
    ASSERT_OK(strata_kmeans_labels(km, lab, n));
    ASSERT_OK(strata_kmeans_centroids(km, c, k, d));
    int64_t diff = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        if (lab[i] != ref->labels[i]) {
            if (first < 0)
                first = i;
            diff++;
        }
    ASSERT_MSG(diff == 0, "%s: %lld labels differ from the reference, first row %lld (%d vs %d)",
               what, (long long)diff, (long long)first, first >= 0 ? lab[first] : 0,
               first >= 0 ? ref->labels[first] : 0);
    double scale = 1.0, worst = 0.0;
    for (int64_t j = 0; j < k * d; j++)
        scale = fmax(scale, fabs(ref->centroids[j]));
    for (int64_t j = 0; j < k * d; j++)
        worst = fmax(worst, fabs(c[j] - ref->centroids[j]));
    ASSERT_MSG(worst <= tol.centroid_rtol * scale, "%s: centroids differ by %.3g (scale %.3g)",
               what, worst, scale);
    double in = result_inertia(km);
    ASSERT_MSG(fabs(in - ref->inertia) <= tol.inertia_rtol * ref->inertia,
               "%s: inertia %.17g, reference %.17g", what, in, ref->inertia);
    ASSERT_MSG(result_int(km, STRATA_KMEANS_RESULT_N_ITER) == ref->n_iter,
               "%s: n_iter %lld, reference %lld", what,
               (long long)result_int(km, STRATA_KMEANS_RESULT_N_ITER), (long long)ref->n_iter);
    ASSERT_MSG(result_int(km, STRATA_KMEANS_RESULT_CONVERGED) == ref->converged,
               "%s: converged %lld, reference %d", what,
               (long long)result_int(km, STRATA_KMEANS_RESULT_CONVERGED), ref->converged);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_N), n);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_D), d);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_K), k);
    ASSERT_EQ_INT(result_int(km, STRATA_KMEANS_RESULT_INIT), STRATA_INIT_CENTROIDS);
    if (log) {
        ASSERT_EQ_INT(log->calls, ref->n_iter);
        for (int64_t t = 0; t < log->calls && t < LOG_CAP; t++) {
            ASSERT_EQ_INT(log->run[t], 0);
            ASSERT_EQ_INT(log->iteration[t], t + 1);
            ASSERT_MSG(fabs(log->inertia[t] - ref->iter_inertia[t]) <=
                           tol.inertia_rtol * ref->iter_inertia[t],
                       "%s: iteration %lld inertia %.17g, reference %.17g", what,
                       (long long)t + 1, log->inertia[t], ref->iter_inertia[t]);
            if (t > 0)
                ASSERT_MSG(log->inertia[t] <= log->inertia[t - 1] * (1 + tol.inertia_rtol),
                           "%s: inertia rose from %.17g to %.17g at iteration %lld", what,
                           log->inertia[t - 1], log->inertia[t], (long long)t + 1);
        }
    }
    free(lab);
    free(c);
}

#endif
