#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void *strata__alloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    if (count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    bytes = (bytes + 63) & ~(size_t)63; /* aligned_alloc needs a multiple of the alignment */
    if (bytes == 0)
        return NULL;
    return aligned_alloc(64, bytes);
}

void *strata__calloc(size_t count, size_t size)
{
    void *p = strata__alloc(count, size);
    if (p && count > 0 && size > 0)
        memset(p, 0, count * size);
    return p;
}

void strata__free(void *p)
{
    free(p);
}
