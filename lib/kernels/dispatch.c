#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

#include "kernels/kernels.h"
#include "strata.h"

/* __builtin_cpu_supports also checks that the OS saves the wide registers. */
static int cpu_has(int kernel)
{
    switch (kernel) {
    case STRATA_KERNEL_SCALAR: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case STRATA_KERNEL_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case STRATA_KERNEL_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

/* STRATA_KERNEL in the environment (scalar, avx2, avx512; any case) names
 * the kernel AUTO picks, where this CPU runs it: so a program that never sets
 * the parameter can be measured with each kernel. 0 if unset, unknown or not
 * runnable here (AUTO then picks the widest). */
static int kernel_from_env(void)
{
    const char *e = getenv("STRATA_KERNEL");
    if (!e)
        return 0;
    int k = !strcasecmp(e, "scalar") ? STRATA_KERNEL_SCALAR
            : !strcasecmp(e, "avx2")  ? STRATA_KERNEL_AVX2
            : !strcasecmp(e, "avx512") ? STRATA_KERNEL_AVX512 : 0;
    return k && cpu_has(k) ? k : 0;
}

const strata__kernels *strata__kernels_get(int kernel)
{
    if (kernel == STRATA_KERNEL_AUTO)
        kernel = kernel_from_env();
    if (kernel == STRATA_KERNEL_AUTO) {
        if (cpu_has(STRATA_KERNEL_AVX512))
            return &strata__kernels_avx512;
        if (cpu_has(STRATA_KERNEL_AVX2))
            return &strata__kernels_avx2;
        return &strata__kernels_scalar;
    }
    if (!cpu_has(kernel))
        return NULL;
    switch (kernel) {
    case STRATA_KERNEL_SCALAR: return &strata__kernels_scalar;
    case STRATA_KERNEL_AVX2: return &strata__kernels_avx2;
    case STRATA_KERNEL_AVX512: return &strata__kernels_avx512;
    default: return NULL;
    }
}

int strata_kernel_available(int kernel)
{
    return kernel == STRATA_KERNEL_AUTO || strata__kernels_get(kernel) != NULL;
}

const char *strata_kernel_name(int kernel)
{
    switch (kernel) {
    case STRATA_KERNEL_AUTO: return "auto";
    case STRATA_KERNEL_SCALAR: return "scalar";
    case STRATA_KERNEL_AVX2: return "avx2";
    case STRATA_KERNEL_AVX512: return "avx512";
    default: return "unknown";
    }
}
