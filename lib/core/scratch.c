#include "core/scratch.h"

#include "core/mem.h"

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
