/* The double-buffered block walk (core/blockwalk.h). */
#include "core/blockwalk.h"

static void *run_read(void *p)
{
    strata__blockwalk *w = p;
    w->msg[0] = '\0';
    w->rc = w->read(w->ctx, w->slot, w->r0, w->m, w->msg);
    return NULL;
}

/* Start reading block b into its slot: on a thread, else inline. */
static void start_read(strata__blockwalk *w, int64_t b)
{
    const int64_t B = w->block_rows;
    w->r0 = b * B;
    w->m = w->n - w->r0 < B ? w->n - w->r0 : B;
    w->slot = (int)(b & 1);
    w->started = 1;
    w->th_live = pthread_create(&w->th, NULL, run_read, w) == 0;
    if (!w->th_live) /* no thread to be had: read now, only the overlap is lost */
        run_read(w);
}

static int finish_read(strata__blockwalk *w, char *msg)
{
    strata__blockwalk_end(w);
    w->started = 0;
    if (w->rc)
        return strata__fail_copy(msg, w->rc, w->msg);
    return STRATA_OK;
}

void strata__blockwalk_init(strata__blockwalk *w, int64_t n, int64_t block_rows,
                            strata__block_read_fn read, void *ctx)
{
    if (block_rows < 1)
        block_rows = 1;
    *w = (strata__blockwalk){.read = read, .ctx = ctx, .n = n, .block_rows = block_rows,
                             .nblocks = n > 0 ? (n + block_rows - 1) / block_rows : 0};
}

int strata__blockwalk_next(strata__blockwalk *w, int64_t *r0, int64_t *m, int *slot, int *more,
                           char *msg)
{
    *more = 0;
    if (w->next >= w->nblocks)
        return STRATA_OK;
    const int64_t b = w->next++;
    if (w->read) {
        if (!w->started)
            start_read(w, b);
        int rc = finish_read(w, msg);
        if (rc)
            return rc;
        /* The caller is done with block b - 1, whose slot block b + 1 takes. */
        if (b + 1 < w->nblocks)
            start_read(w, b + 1);
    }
    *r0 = b * w->block_rows;
    *m = w->n - *r0 < w->block_rows ? w->n - *r0 : w->block_rows;
    *slot = (int)(b & 1);
    *more = 1;
    return STRATA_OK;
}

void strata__blockwalk_end(strata__blockwalk *w)
{
    if (w->th_live) {
        pthread_join(w->th, NULL);
        w->th_live = 0;
    }
}
