#include "core/scratch.h"

#include <string.h>

#include "core/mem.h"
#include "core/parallel.h"

void *strata__scratch_get(strata__scratch *s, size_t bytes, int *fresh)
{
    if (fresh)
        *fresh = 0;
    if (s->p && s->size >= bytes)
        return s->p;
    void *p = strata__alloc(bytes ? bytes : 1, 1);
    if (!p)
        return NULL;
    strata__free(s->p);
    s->p = p;
    s->size = bytes;
    if (fresh)
        *fresh = 1;
    return p;
}

void strata__scratch_free(strata__scratch *s)
{
    strata__free(s->p);
    s->p = NULL;
    s->size = 0;
}

static void prefault_chunk(void *ctx, int64_t chunk, int64_t begin, int64_t end, int tid,
                           double *partial)
{
    memset((char *)ctx + begin, 0, (size_t)(end - begin));
}

int strata__prefault(void *p, size_t bytes, int threads)
{
    return strata__parallel_chunks((int64_t)bytes, (int64_t)1 << 22, threads, 0, NULL,
                                   prefault_chunk, p);
}
