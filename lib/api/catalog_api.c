/* Public catalog of an HDF5 file (strata_h5_catalog_*): the objects listed
 * by lib/io, behind getters that check the index. */
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"

struct strata_h5_catalog {
    strata__h5_catalog c;
};

int strata_h5_catalog_open(strata_h5_catalog **out, const char *path)
{
    if (!out || !path)
        return strata__fail(NULL, STRATA_E_NULL, "strata_h5_catalog_open: NULL argument");
    *out = NULL;
    strata_h5_catalog *cat = strata__calloc(1, sizeof *cat);
    if (!cat)
        return strata__fail(NULL, STRATA_E_NOMEM, "out of memory for a catalog of '%s'", path);
    char msg[STRATA__MSG_LEN] = "";
    int rc = strata__h5_catalog_read(path, &cat->c, msg);
    if (rc) {
        strata__free(cat);
        return strata__fail_copy(NULL, rc, msg[0] ? msg : strata_status_str(rc));
    }
    *out = cat;
    return STRATA_OK;
}

void strata_h5_catalog_free(strata_h5_catalog *c)
{
    if (!c)
        return;
    strata__h5_catalog_free(&c->c);
    strata__free(c);
}

int64_t strata_h5_catalog_count(const strata_h5_catalog *c)
{
    return c ? c->c.n : 0;
}

static const strata__h5_object *object(const strata_h5_catalog *c, int64_t i)
{
    return c && i >= 0 && i < c->c.n ? &c->c.obj[i] : NULL;
}

const char *strata_h5_catalog_path(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->path : NULL;
}

int strata_h5_catalog_kind(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->kind : 0;
}

const char *strata_h5_catalog_type(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->type : NULL;
}

/* Copy the first min(rank, max) of dims; the rank. */
static int copy_dims(int rank, const int64_t *from, int64_t *dims, int max)
{
    for (int k = 0; dims && k < rank && k < max; k++)
        dims[k] = from[k];
    return rank;
}

int strata_h5_catalog_shape(const strata_h5_catalog *c, int64_t i, int64_t *dims, int max)
{
    const strata__h5_object *o = object(c, i);
    return o ? copy_dims(o->rank, o->dims, dims, max) : -1;
}

int strata_h5_catalog_chunks(const strata_h5_catalog *c, int64_t i, int64_t *dims, int max)
{
    const strata__h5_object *o = object(c, i);
    return o ? copy_dims(o->chunk_rank, o->chunk, dims, max) : -1;
}

const char *strata_h5_catalog_filters(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->filters : NULL;
}

const char *strata_h5_catalog_layout(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o && o->kind == STRATA_H5_DATASET ? (o->layout ? o->layout : "") : NULL;
}

int64_t strata_h5_catalog_stored(const strata_h5_catalog *c, int64_t i, int64_t *values)
{
    const strata__h5_object *o = object(c, i);
    const int dataset = o && o->kind == STRATA_H5_DATASET;
    if (values)
        *values = dataset ? o->values : -1;
    return dataset ? o->stored : -1;
}

int strata_h5_catalog_use(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->use : 0;
}

const char *strata_h5_catalog_columns(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->columns : NULL;
}

const char *strata_h5_catalog_key(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->key : NULL;
}

const char *strata_h5_catalog_dates(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->dates : NULL;
}

const char *strata_h5_catalog_index(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->index : NULL;
}

int64_t strata_h5_catalog_attr_count(const strata_h5_catalog *c, int64_t i)
{
    const strata__h5_object *o = object(c, i);
    return o ? o->nattrs : -1;
}

const char *strata_h5_catalog_attr_name(const strata_h5_catalog *c, int64_t i, int64_t j)
{
    const strata__h5_object *o = object(c, i);
    return o && j >= 0 && j < o->nattrs ? o->attr_names[j] : NULL;
}

const char *strata_h5_catalog_attr_value(const strata_h5_catalog *c, int64_t i, int64_t j)
{
    const strata__h5_object *o = object(c, i);
    return o && j >= 0 && j < o->nattrs ? o->attr_values[j] : NULL;
}
