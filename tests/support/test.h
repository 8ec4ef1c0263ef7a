/* Minimal test harness for the libstrata C tests: assertion macros and a
 * runner. Each test is a `static void test_x(void)`; a failed ASSERT_* prints
 * file:line and the values, then abandons the current test (longjmp back to
 * the runner) and the runner goes on with the next one. Each program ends
 * with `return test_summary();`, which prints "N passed, M failed".
 *
 * Only the public header is used: these tests see libstrata as a user does. */
#ifndef STRATA_TEST_H
#define STRATA_TEST_H

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata.h"

/* Exit code ctest treats as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt). */
#define TEST_SKIP_CODE 77

static int test__passed, test__failed;
static const char *test__name = "";
static jmp_buf test__jmp;

static inline void test__fail_here(const char *file, int line)
{
    fprintf(stderr, "  FAILED %s at %s:%d\n", test__name, file, line);
    fflush(stderr);
    longjmp(test__jmp, 1);
}

#define TEST_FAIL(...)                                                    \
    do {                                                                  \
        fprintf(stderr, "  ");                                            \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        test__fail_here(__FILE__, __LINE__);                              \
    } while (0)

#define ASSERT_TRUE(cond)                                                 \
    do {                                                                  \
        if (!(cond))                                                      \
            TEST_FAIL("assertion failed: %s", #cond);                     \
    } while (0)

#define ASSERT_MSG(cond, ...)                                             \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "  assertion failed: %s\n", #cond);           \
            TEST_FAIL(__VA_ARGS__);                                       \
        }                                                                 \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                               \
    do {                                                                  \
        int64_t test__a = (int64_t)(a), test__b = (int64_t)(b);           \
        if (test__a != test__b)                                           \
            TEST_FAIL("%s == %s: %" PRId64 " != %" PRId64, #a, #b, test__a, test__b); \
    } while (0)

/* |a - b| <= tol (absolute). NaN never passes. */
#define ASSERT_NEAR(a, b, tol)                                            \
    do {                                                                  \
        double test__a = (double)(a), test__b = (double)(b), test__t = (double)(tol); \
        if (!(fabs(test__a - test__b) <= test__t))                        \
            TEST_FAIL("%s ~= %s: %.17g vs %.17g (|diff| %.3g > %.3g)", #a, #b, test__a, \
                      test__b, fabs(test__a - test__b), test__t);         \
    } while (0)

/* |a - b| <= rtol * max(|a|, |b|). NaN never passes. */
#define ASSERT_REL(a, b, rtol)                                            \
    do {                                                                  \
        double test__a = (double)(a), test__b = (double)(b), test__t = (double)(rtol); \
        double test__m = fmax(fabs(test__a), fabs(test__b));              \
        if (!(fabs(test__a - test__b) <= test__t * test__m))              \
            TEST_FAIL("%s ~= %s (rel %.3g): %.17g vs %.17g (rel diff %.3g)", #a, #b, \
                      test__t, test__a, test__b,                          \
                      test__m > 0 ? fabs(test__a - test__b) / test__m : 0.0); \
    } while (0)

/* A libstrata call must return STRATA_OK; else print the code and the
 * thread's last error message. */
#define ASSERT_OK(call)                                                   \
    do {                                                                  \
        int test__st = (call);                                            \
        if (test__st != STRATA_OK)                                        \
            TEST_FAIL("%s returned %d (%s): %s", #call, test__st,         \
                      strata_status_str(test__st), strata_last_error());  \
    } while (0)

/* A libstrata call must return exactly `expected`. */
#define ASSERT_STATUS(call, expected)                                     \
    do {                                                                  \
        int test__st = (call), test__ex = (expected);                     \
        if (test__st != test__ex)                                         \
            TEST_FAIL("%s returned %d (%s), expected %d (%s); last error: %s", #call, \
                      test__st, strata_status_str(test__st), test__ex,    \
                      strata_status_str(test__ex), strata_last_error());  \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                               \
    do {                                                                  \
        const char *test__a = (a), *test__b = (b);                        \
        if (!test__a || !test__b || strcmp(test__a, test__b) != 0)        \
            TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, test__a ? test__a : "(null)", \
                      test__b ? test__b : "(null)");                      \
    } while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                  \
    do {                                                                  \
        const char *test__h = (hay), *test__n = (needle);                 \
        if (!test__h || !strstr(test__h, test__n))                        \
            TEST_FAIL("\"%s\" does not contain \"%s\"", test__h ? test__h : "(null)", test__n); \
    } while (0)

#define ASSERT_NONEMPTY(s)                                                \
    do {                                                                  \
        const char *test__s = (s);                                        \
        if (!test__s || !test__s[0])                                      \
            TEST_FAIL("%s is %s", #s, test__s ? "empty" : "NULL");        \
    } while (0)

/* Allocation that cannot fail silently. */
static inline void *test_alloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "test_alloc: out of memory (%zu x %zu)\n", count, size);
        abort();
    }
    return p;
}

static inline strata_kmeans *test_new_kmeans(void)
{
    strata_kmeans *km = NULL;
    int st = strata_kmeans_create(&km);
    if (st != STRATA_OK || !km)
        TEST_FAIL("strata_kmeans_create returned %d: %s", st, strata_last_error());
    return km;
}

static inline double test__now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void test__run(const char *name, void (*fn)(void))
{
    static double t0; /* static: keeps its value across longjmp */
    test__name = name;
    fprintf(stderr, "RUN  %s\n", name);
    fflush(stderr);
    t0 = test__now();
    if (setjmp(test__jmp) == 0) {
        fn();
        test__passed++;
        fprintf(stderr, "ok   %s (%.2f s)\n", name, test__now() - t0);
    } else {
        test__failed++;
        fprintf(stderr, "FAIL %s (%.2f s)\n", name, test__now() - t0);
    }
    fflush(stderr);
}

#define RUN_TEST(fn) test__run(#fn, fn)

/* Print the summary line and give the process exit code. */
static inline int test_summary(void)
{
    fflush(stderr);
    printf("%d passed, %d failed\n", test__passed, test__failed);
    fflush(stdout);
    return test__failed ? 1 : 0;
}

#endif /* STRATA_TEST_H */
