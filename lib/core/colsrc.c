/* Column sources (core/colsrc.h): buffers and the in-memory case around the
 * block walk of core/blockwalk.c. */
#include "core/colsrc.h"

#include "core/blockwalk.h"
#include "core/mem.h"
#include "core/status.h"

struct strata__colsrc_walk {
    const strata__colsrc *src;
    unsigned want;
    void *buf[2][STRATA__COLS_MAX]; /* per slot, per wanted column */
    strata__blockwalk bw;
};

static int read_block(void *ctx, int slot, int64_t r0, int64_t m, char *msg)
{
    const strata__colsrc_walk *w = ctx;
    return w->src->ops->read(w->src->impl, r0, m, w->buf[slot], msg);
}

void strata__colsrc_memory(int ncols, const int *type, const void *const *cols, int64_t n,
                           strata__colsrc *out)
{
    *out = (strata__colsrc){.ncols = ncols, .n = n};
    for (int k = 0; k < ncols && k < STRATA__COLS_MAX; k++) {
        out->type[k] = type[k];
        out->col[k] = cols[k];
    }
}

static int wanted(const strata__colsrc *src, unsigned want)
{
    int c = 0;
    for (int k = 0; k < src->ncols; k++)
        c += (want >> k) & 1;
    return c;
}

static int64_t block_of(const strata__colsrc *src)
{
    return src->block_rows < src->n ? src->block_rows : src->n;
}

int64_t strata__colsrc_buffer_bytes(const strata__colsrc *src, unsigned want)
{
    if (!src->ops)
        return 0;
    return 2 * block_of(src) * wanted(src, want) * 8;
}

int strata__colsrc_walk_open(strata__colsrc_walk **out, const strata__colsrc *src, unsigned want,
                             char *msg)
{
    strata__colsrc_walk *w = strata__calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for a pass over the columns");
    w->src = src;
    w->want = want;
    if (src->ops) {
        const int64_t rows = block_of(src);
        strata__blockwalk_init(&w->bw, src->n, src->block_rows, read_block, w);
        for (int i = 0; i < 2 && i < w->bw.nblocks; i++)
            for (int k = 0; k < src->ncols; k++)
                if (((want >> k) & 1) && !(w->buf[i][k] = strata__alloc((size_t)rows, 8))) {
                    strata__colsrc_walk_close(w);
                    return strata__fail(msg, STRATA_E_NOMEM,
                                        "out of memory for two blocks of %lld rows x %d columns "
                                        "(the streamed pass's buffers)",
                                        (long long)rows, wanted(src, want));
                }
    } else { /* one block: the arrays, nothing to read */
        strata__blockwalk_init(&w->bw, src->n, src->n, NULL, NULL);
    }
    *out = w;
    return STRATA_OK;
}

int strata__colsrc_walk_next(strata__colsrc_walk *w, int64_t *r0, int64_t *m,
                             const void **cols, int *more, char *msg)
{
    int slot;
    int rc = strata__blockwalk_next(&w->bw, r0, m, &slot, more, msg);
    if (rc || !*more)
        return rc;
    for (int k = 0; k < w->src->ncols; k++)
        cols[k] = !((w->want >> k) & 1) ? NULL : w->src->ops ? w->buf[slot][k] : w->src->col[k];
    return STRATA_OK;
}

void strata__colsrc_walk_close(strata__colsrc_walk *w)
{
    if (!w)
        return;
    strata__blockwalk_end(&w->bw);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < STRATA__COLS_MAX; k++)
            strata__free(w->buf[i][k]);
    strata__free(w);
}
