/* Distribution helpers over the hooks of core/dist.h. */
#include "core/dist.h"

#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "strata.h"

int strata__dist_gather_chunks(const strata__dist *d, int64_t nchunks, double *v, int64_t stride,
                               int rc, char *msg)
{
    int64_t *bytes = strata__alloc((size_t)d->size, sizeof(int64_t));
    double *all = strata__alloc((size_t)(nchunks > 0 ? nchunks : 1), (size_t)stride * sizeof(double));
    if ((!bytes || !all) && !rc)
        rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory gathering %lld chunks' values",
                          (long long)nchunks);
    int64_t c0 = 0;
    if (bytes)
        for (int r = 0; r < d->size; r++) {
            int64_t a, b;
            strata__dist_chunks(nchunks, d->size, r, &a, &b);
            bytes[r] = (b - a) * stride * (int64_t)sizeof(double);
            if (r == d->rank)
                c0 = a;
        }
    /* a process that failed takes part all the same (the hook only agrees) */
    rc = d->allgather(d, v + c0 * stride, bytes, all, rc, msg);
    if (!rc)
        memcpy(v, all, (size_t)(nchunks * stride) * sizeof(double));
    strata__free(bytes);
    strata__free(all);
    return rc;
}
