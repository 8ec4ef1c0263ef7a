/* What an HDF5 file holds, for `strata info`: every group and dataset with
 * its type, shape, chunks, filters and attributes, and which reader of
 * libstrata takes it (the layouts of h5_read.c: a matrix, a table as the
 * frame reader plans it, a saved model, a tiering). Nothing but metadata is
 * read (attributes included); every HDF5 failure becomes a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "io/h5.h"
#include "io/h5_lock.h"

enum { MAX_DEPTH = 16, ATTR_TEXT = 96, TYPE_TEXT = 256, MAX_ATTRS = 256 };

/* Where an object lives in its file: equal for every hard link to it. */
#if H5_VERSION_GE(1, 12, 0)
typedef H5O_token_t object_id;
static int object_of(hid_t obj, object_id *id)
{
    H5O_info2_t oi;
    if (H5Oget_info3(obj, &oi, H5O_INFO_BASIC) < 0)
        return -1;
    *id = oi.token;
    return 0;
}
static int same_object(hid_t obj, const object_id *a, const object_id *b)
{
    int cmp = 1;
    return H5Otoken_cmp(obj, a, b, &cmp) >= 0 && cmp == 0;
}
#else
typedef haddr_t object_id;
static int object_of(hid_t obj, object_id *id)
{
    H5O_info_t oi;
    if (H5Oget_info2(obj, &oi, H5O_INFO_BASIC) < 0)
        return -1;
    *id = oi.addr;
    return 0;
}
static int same_object(hid_t obj, const object_id *a, const object_id *b)
{
    (void)obj;
    return *a == *b;
}
#endif

typedef struct walk {
    const char *path;
    strata__h5_catalog *c;
    char *msg;
    int rc;
    object_id groups[MAX_DEPTH + 1]; /* the groups being listed, root first */
} walk;

static char *dup_text(const char *s)
{
    return strata__strndup(s, strlen(s));
}

/* Append to buf (cap bytes) without overflowing; text cut where it does not fit. */
static void append(char *buf, size_t cap, const char *s)
{
    size_t len = strlen(buf);
    if (len + 1 < cap)
        snprintf(buf + len, cap - len, "%s", s);
}

/* "int64", "float32", "string", "compound{a:int64,b:float64}", ... */
static void type_name(hid_t t, char *buf, size_t cap, int depth)
{
    buf[0] = '\0';
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    switch (cls) {
    case H5T_INTEGER:
        snprintf(buf, cap, "%sint%zu%s", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", 8 * size,
                 size > 1 && H5Tget_order(t) == H5T_ORDER_BE ? " big-endian" : "");
        break;
    case H5T_FLOAT:
        snprintf(buf, cap, "float%zu%s", 8 * size,
                 H5Tget_order(t) == H5T_ORDER_BE ? " big-endian" : "");
        break;
    case H5T_STRING:
        if (H5Tis_variable_str(t) > 0)
            snprintf(buf, cap, "string");
        else
            snprintf(buf, cap, "string[%zu]", size);
        break;
    case H5T_ENUM: {
        hid_t base = H5Tget_super(t);
        char inner[64] = "";
        if (base >= 0) {
            type_name(base, inner, sizeof inner, depth + 1);
            H5Tclose(base);
        }
        snprintf(buf, cap, "enum(%s)", inner);
        break;
    }
    case H5T_COMPOUND: {
        int n = H5Tget_nmembers(t);
        snprintf(buf, cap, "compound{");
        for (int i = 0; i < n && depth < 4; i++) {
            char *name = H5Tget_member_name(t, (unsigned)i);
            hid_t mt = H5Tget_member_type(t, (unsigned)i);
            char inner[TYPE_TEXT] = "?";
            if (mt >= 0) {
                type_name(mt, inner, sizeof inner, depth + 1);
                H5Tclose(mt);
            }
            if (i)
                append(buf, cap, ",");
            append(buf, cap, name ? name : "?");
            append(buf, cap, ":");
            append(buf, cap, inner);
            H5free_memory(name);
        }
        append(buf, cap, "}");
        break;
    }
    case H5T_ARRAY: {
        hid_t base = H5Tget_super(t);
        char inner[64] = "";
        hsize_t dims[8];
        int r = H5Tget_array_ndims(t);
        if (base >= 0) {
            type_name(base, inner, sizeof inner, depth + 1);
            H5Tclose(base);
        }
        snprintf(buf, cap, "%s[", inner);
        if (r > 0 && r <= 8 && H5Tget_array_dims2(t, dims) == r)
            for (int i = 0; i < r; i++) {
                char d[32];
                snprintf(d, sizeof d, "%s%llu", i ? "x" : "", (unsigned long long)dims[i]);
                append(buf, cap, d);
            }
        append(buf, cap, "]");
        break;
    }
    case H5T_BITFIELD: snprintf(buf, cap, "bitfield%zu", 8 * size); break;
    case H5T_OPAQUE: snprintf(buf, cap, "opaque[%zu]", size); break;
    case H5T_REFERENCE: snprintf(buf, cap, "reference"); break;
    case H5T_VLEN: snprintf(buf, cap, "vlen"); break;
    default: snprintf(buf, cap, "unknown"); break;
    }
}

/* "gzip(4),shuffle" from a dataset creation property list; 1 if one of
 * them cannot be decoded here (e.g. lzf, which h5py brings with it). */
static int filter_names(hid_t dcpl, char *buf, size_t cap)
{
    int undecodable = 0;
    buf[0] = '\0';
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64] = "", item[96];
        H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name,
                                        NULL);
        const int missing = f >= 0 && H5Zfilter_avail(f) <= 0;
        undecodable |= missing;
        if (f == H5Z_FILTER_DEFLATE)
            snprintf(item, sizeof item, "gzip(%u)", ncd > 0 ? cd[0] : 0);
        else if (f == H5Z_FILTER_SHUFFLE)
            snprintf(item, sizeof item, "shuffle");
        else if (f == H5Z_FILTER_FLETCHER32)
            snprintf(item, sizeof item, "fletcher32");
        else if (f == H5Z_FILTER_SZIP)
            snprintf(item, sizeof item, "szip");
        else if (f == H5Z_FILTER_NBIT)
            snprintf(item, sizeof item, "nbit");
        else if (f == H5Z_FILTER_SCALEOFFSET)
            snprintf(item, sizeof item, "scaleoffset");
        else
            snprintf(item, sizeof item, "filter%d%s%s%s", (int)f, name[0] ? "(" : "", name,
                     name[0] ? ")" : "");
        if (missing) /* its data cannot be read: no reader takes the dataset */
            append(item, sizeof item, " (not available to this HDF5 library)");
        if (i)
            append(buf, cap, ",");
        append(buf, cap, item);
    }
    return undecodable;
}

/* A short text of an attribute's value: numbers and strings, the first
 * few elements of an array ("..." after), else its type in <>. */
static void attr_value(hid_t a, char *buf, size_t cap)
{
    buf[0] = '\0';
    hid_t t = H5Aget_type(a), space = H5Aget_space(a);
    H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    enum { MAX_SHOWN = 8 };
    hsize_t shown = n > MAX_SHOWN ? MAX_SHOWN : n > 0 ? (hsize_t)n : 0;
    if (n < 0 || rank < 0) {
        snprintf(buf, cap, "<unreadable>");
    } else if (n == 0) {
        snprintf(buf, cap, "<empty>");
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM) {
        /* the whole attribute is read (bounded: at most 4096 elements) */
        int is_int = cls != H5T_FLOAT;
        /* unsigned 64-bit values above INT64_MAX read as unsigned (as signed
         * HDF5 would clip them) */
        int is_unsigned = is_int && H5Tget_sign(t) == H5T_SGN_NONE;
        void *v = n <= 4096 ? malloc((size_t)n * 8) : NULL;
        hid_t mt = !is_int ? H5T_NATIVE_DOUBLE : is_unsigned ? H5T_NATIVE_ULLONG : H5T_NATIVE_LLONG;
        if (v && H5Aread(a, mt, v) >= 0) {
            if (rank > 0)
                append(buf, cap, "[");
            for (hsize_t i = 0; i < shown; i++) {
                char item[40];
                const char *sep = i ? ", " : "";
                if (is_unsigned)
                    snprintf(item, sizeof item, "%s%llu", sep, ((unsigned long long *)v)[i]);
                else if (is_int)
                    snprintf(item, sizeof item, "%s%lld", sep, ((long long *)v)[i]);
                else { /* the shortest of 15 or 17 digits that reads back the same */
                    double x = ((double *)v)[i];
                    snprintf(item, sizeof item, "%s%.15g", sep, x);
                    if (strtod(item + strlen(sep), NULL) != x && x == x)
                        snprintf(item, sizeof item, "%s%.17g", sep, x);
                }
                append(buf, cap, item);
            }
            if ((hssize_t)shown < n)
                append(buf, cap, ", ...");
            if (rank > 0)
                append(buf, cap, "]");
        } else {
            snprintf(buf, cap, "<%lld numbers>", (long long)n);
        }
        free(v);
    } else if (cls == H5T_STRING && n <= 4096) {
        int vlen = H5Tis_variable_str(t) > 0;
        size_t size = H5Tget_size(t);
        hid_t mt = H5Tcopy(t);
        void *v = vlen ? calloc((size_t)n, sizeof(char *)) : calloc((size_t)n, size + 1);
        if (rank > 0)
            append(buf, cap, "[");
        if (mt >= 0 && v && H5Aread(a, mt, v) >= 0) {
            for (hsize_t i = 0; i < shown; i++) {
                char item[ATTR_TEXT];
                const char *s = vlen ? ((char **)v)[i] : (char *)v + i * size;
                int len = vlen ? (int)(s ? strlen(s) : 0) : (int)strnlen(s, size);
                snprintf(item, sizeof item, "%s%.*s", i ? ", " : "", len, s ? s : "");
                append(buf, cap, item);
            }
            if ((hssize_t)shown < n)
                append(buf, cap, ", ...");
            if (vlen) {
                hid_t sp = H5Screate_simple(1, (hsize_t[]){(hsize_t)n}, NULL);
                if (sp >= 0) {
                    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
                    H5Sclose(sp);
                }
            }
        } else {
            append(buf, cap, "<unreadable string>");
        }
        if (rank > 0)
            append(buf, cap, "]");
        free(v);
        if (mt >= 0)
            H5Tclose(mt);
    } else {
        char tn[TYPE_TEXT] = "?", count[48];
        if (t >= 0)
            type_name(t, tn, sizeof tn, 0);
        append(buf, cap, "<");
        append(buf, cap, tn);
        snprintf(count, sizeof count, ", %lld values>", (long long)n);
        append(buf, cap, count);
    }
    if (strlen(buf) + 1 >= cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
    if (t >= 0)
        H5Tclose(t);
    if (space >= 0)
        H5Sclose(space);
}

typedef struct attrs {
    strata__h5_object *o;
    int failed;
} attrs;

static herr_t one_attr(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    attrs *st = data;
    strata__h5_object *o = st->o;
    if (o->nattrs >= MAX_ATTRS)
        return 1; /* enough: stop */
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    char value[ATTR_TEXT] = "<unreadable>";
    if (a >= 0) {
        attr_value(a, value, sizeof value);
        H5Aclose(a);
    }
    char *n = dup_text(name), *v = dup_text(value);
    if (!n || !v) {
        strata__free(n);
        strata__free(v);
        st->failed = 1;
        return -1;
    }
    o->attr_names[o->nattrs] = n;
    o->attr_values[o->nattrs++] = v;
    return 0;
}

static int add_attrs(hid_t obj, strata__h5_object *o)
{
    o->attr_names = strata__calloc(MAX_ATTRS, sizeof *o->attr_names);
    o->attr_values = strata__calloc(MAX_ATTRS, sizeof *o->attr_values);
    if (!o->attr_names || !o->attr_values)
        return -1;
    attrs st = {o, 0};
    hsize_t at = 0;
    /* by name: creation order is not tracked by most writers */
    (void)H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &at, one_attr, &st);
    return st.failed ? -1 : 0;
}

/* A new object at the end of the catalog (NULL: out of memory or full). */
static strata__h5_object *new_object(walk *w, const char *path, int kind)
{
    strata__h5_catalog *c = w->c;
    if (c->n >= STRATA__H5_CATALOG_MAX) {
        c->truncated = 1;
        return NULL;
    }
    if (c->n == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 64;
        strata__h5_object *o = strata__alloc((size_t)cap, sizeof *o);
        if (!o) {
            w->rc = strata__fail(w->msg, STRATA_E_NOMEM, "out of memory listing '%s'", w->path);
            return NULL;
        }
        if (c->n)
            memcpy(o, c->obj, (size_t)c->n * sizeof *o);
        strata__free(c->obj);
        c->obj = o;
        c->cap = cap;
    }
    strata__h5_object *o = &c->obj[c->n];
    *o = (strata__h5_object){.kind = kind, .rank = -1};
    o->path = dup_text(path);
    o->type = dup_text("");
    o->filters = dup_text("");
    o->stored = o->values = -1;
    o->columns = dup_text("");
    o->key = dup_text("");
    o->dates = dup_text("");
    o->index = dup_text("");
    c->n++;
    if (!o->path || !o->type || !o->filters || !o->columns || !o->key || !o->dates || !o->index) {
        w->rc = strata__fail(w->msg, STRATA_E_NOMEM, "out of memory listing '%s'", w->path);
        return NULL;
    }
    return o;
}

static int set_text(char **field, const char *text)
{
    char *t = dup_text(text);
    if (!t)
        return -1;
    strata__free(*field);
    *field = t;
    return 0;
}

static void describe_dataset(hid_t d, strata__h5_object *o, walk *w)
{
    char buf[TYPE_TEXT];
    hid_t t = H5Dget_type(d), space = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    if (t >= 0) {
        type_name(t, buf, sizeof buf, 0);
        if (space >= 0 && H5Sget_simple_extent_type(space) == H5S_NULL &&
            strlen(buf) + 32 < sizeof buf)
            strcat(buf, " (null dataspace: no values)");
        if (set_text(&o->type, buf))
            w->rc = STRATA_E_NOMEM;
    }
    if (space >= 0 && H5Sget_simple_extent_type(space) != H5S_NULL) {
        int r = H5Sget_simple_extent_ndims(space);
        hsize_t dims[32];
        if (r >= 0 && r <= 32 && H5Sget_simple_extent_dims(space, dims, NULL) == r) {
            o->rank = r;
            for (int i = 0; i < r; i++)
                o->dims[i] = (int64_t)dims[i];
        }
    }
    if (dcpl >= 0) {
        const H5D_layout_t layout = H5Pget_layout(dcpl);
        o->layout = layout == H5D_CHUNKED   ? "chunked"
                    : layout == H5D_COMPACT ? "compact"
                    : layout == H5D_VIRTUAL ? "virtual"
                    : H5Pget_external_count(dcpl) > 0 ? "external"
                                                      : "contiguous";
        if (layout == H5D_CHUNKED) {
            hsize_t ch[32];
            int r = H5Pget_chunk(dcpl, 32, ch);
            for (int i = 0; r > 0 && r <= 32 && i < r; i++)
                o->chunk[i] = (int64_t)ch[i];
            o->chunk_rank = r > 0 && r <= 32 ? r : 0;
        }
        /* the readers refuse virtual datasets (io/h5_read.c, check_storage) */
        o->undecodable = filter_names(dcpl, buf, sizeof buf) || layout == H5D_VIRTUAL;
        if (set_text(&o->filters, buf))
            w->rc = STRATA_E_NOMEM;
    }
    o->stored = (int64_t)H5Dget_storage_size(d); /* 0 also when HDF5 cannot tell */
    hssize_t points = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    size_t size = t < 0 ? 0 : H5Tget_size(t);
    o->values = points >= 0 && size > 0 && (uint64_t)points <= (uint64_t)INT64_MAX / size
                    ? (int64_t)points * (int64_t)size : -1;
    H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    /* no rows, or a filter the reader would refuse: nothing reads it */
    const int readable = o->rank >= 1 && o->dims[0] > 0 && !o->undecodable;
    /* numbers of numpy's sizes: the reader refuses others (a 24-bit integer) */
    const int number = (cls == H5T_INTEGER || cls == H5T_FLOAT) &&
                       (size == 1 || size == 2 || size == 4 || size == 8 ||
                        (cls == H5T_FLOAT && size == 16));
    if (readable && o->rank == 2 && o->dims[1] > 0 && number)
        o->use = STRATA_H5_USE_MATRIX;
    if (readable && o->rank == 1 && cls == H5T_COMPOUND)
        o->use = STRATA_H5_USE_TABLE; /* confirmed (or not) by the frame reader's plan */
    if (t >= 0)
        H5Tclose(t);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
}

static void visit(hid_t file, const char *path, int depth, walk *w);

typedef struct child {
    walk *w;
    hid_t file;
    const char *parent;
    int depth;
} child;

static herr_t one_link(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    child *ch = data;
    walk *w = ch->w;
    char path[1100];
    if (snprintf(path, sizeof path, "%s%s%s", ch->parent, strcmp(ch->parent, "/") ? "/" : "",
                 name) >= (int)sizeof path)
        return 0; /* a name too long to follow: skipped */
    if (info->type != H5L_TYPE_HARD) {
        strata__h5_object *o = new_object(w, path, STRATA_H5_OTHER);
        /* where it points (not followed: it may dangle, or leave the file);
         * a target of any length up to 64 KiB (HDF5 paths have no limit) */
        const size_t vs = info->u.val_size;
        char *val = vs > 0 && vs <= 65536 ? strata__alloc(1, vs + 1) : NULL;
        char *text = strata__alloc(1, vs + 64);
        if (!text || (vs > 0 && vs <= 65536 && !val)) {
            strata__free(val);
            strata__free(text);
            w->rc = STRATA_E_NOMEM;
            return 1;
        }
        const char *ext_file = NULL, *ext_path = NULL;
        unsigned flags;
        const int got = val && H5Lget_val(group, name, val, vs, H5P_DEFAULT) >= 0;
        if (got)
            val[vs] = '\0';
        if (info->type == H5L_TYPE_SOFT)
            snprintf(text, vs + 64, got ? "soft link to %s" : "soft link", val);
        else if (info->type == H5L_TYPE_EXTERNAL && got &&
                 H5Lunpack_elink_val(val, vs, &flags, &ext_file, &ext_path) >= 0)
            snprintf(text, vs + 64, "external link to %s:%s", ext_file, ext_path);
        else
            snprintf(text, vs + 64, "%s link",
                     info->type == H5L_TYPE_EXTERNAL ? "external" : "user-defined");
        strata__free(val);
        if (o && set_text(&o->type, text))
            w->rc = STRATA_E_NOMEM;
        strata__free(text);
        return w->rc || w->c->truncated ? 1 : 0;
    }
    visit(ch->file, path, ch->depth + 1, w);
    return w->rc || w->c->truncated ? 1 : 0;
}

/* A pandas view libstrata writes beside a per-row dataset D (io/h5_write.c,
 * "pandas views"): the group /pandas<D> whose "values" is D itself. Listed
 * as one line, not as a second copy of D and its customer_id. */
static int pandas_view(hid_t file, const char *path)
{
    char values[1100];
    if (strncmp(path, "/pandas/", 8) != 0 ||
        snprintf(values, sizeof values, "%s/values", path) >= (int)sizeof values ||
        H5Lexists(file, values, H5P_DEFAULT) <= 0 || H5Lexists(file, path + 7, H5P_DEFAULT) <= 0)
        return 0;
    hid_t a = H5Oopen(file, values, H5P_DEFAULT), b = H5Oopen(file, path + 7, H5P_DEFAULT);
    object_id ia, ib;
    int same = a >= 0 && b >= 0 && object_of(a, &ia) == 0 && object_of(b, &ib) == 0 &&
               same_object(a, &ia, &ib);
    if (a >= 0)
        H5Oclose(a);
    if (b >= 0)
        H5Oclose(b);
    return same;
}

/* Add the object at path, and below it when it is a group. */
static void visit(hid_t file, const char *path, int depth, walk *w)
{
    char cause[256];
    hid_t obj = H5Oopen(file, path, H5P_DEFAULT);
    if (obj < 0) {
        strata__h5_object *o = new_object(w, path, STRATA_H5_OTHER);
        if (o && set_text(&o->type, strata__h5_cause(cause, sizeof cause)))
            w->rc = STRATA_E_NOMEM;
        return;
    }
    H5I_type_t kind = H5Iget_type(obj);
    strata__h5_object *o =
        new_object(w, path, kind == H5I_GROUP     ? STRATA_H5_GROUP
                            : kind == H5I_DATASET ? STRATA_H5_DATASET
                                                  : STRATA_H5_OTHER);
    const int64_t at = w->c->n - 1;
    if (o && kind == H5I_DATASET)
        describe_dataset(obj, o, w);
    if (o && kind == H5I_DATATYPE && set_text(&o->type, "named datatype"))
        w->rc = STRATA_E_NOMEM;
    if (o && kind == H5I_GROUP && pandas_view(file, path)) {
        char text[1200];
        snprintf(text, sizeof text, "pandas view of %s: pd.read_hdf(FILE, \"%s\")", path + 7,
                 path);
        o->kind = STRATA_H5_OTHER;
        if (set_text(&o->type, text))
            w->rc = STRATA_E_NOMEM;
        H5Oclose(obj);
        return;
    }
    if (o && add_attrs(obj, o))
        w->rc = strata__fail(w->msg, STRATA_E_NOMEM, "out of memory listing '%s'", w->path);
    /* a hard link back to an enclosing group would list it forever */
    object_id self;
    memset(&self, 0, sizeof self);
    int cycle = kind == H5I_GROUP && object_of(obj, &self) < 0;
    for (int d = 0; !cycle && kind == H5I_GROUP && d < depth; d++)
        cycle = same_object(obj, &w->groups[d], &self);
    if (o && cycle && set_text(&o->type, "a link to an enclosing group (not followed)"))
        w->rc = STRATA_E_NOMEM;
    if (o && cycle)
        o->kind = STRATA_H5_OTHER;
    H5G_info_t below_limit;
    if (o && !w->rc && !cycle && kind == H5I_GROUP && depth >= MAX_DEPTH &&
        H5Gget_info(obj, &below_limit) >= 0 && below_limit.nlinks > 0 &&
        set_text(&o->type, "its contents are not listed: deeper than 16 levels"))
        w->rc = STRATA_E_NOMEM;
    if (o && !w->rc && !cycle && kind == H5I_GROUP && depth < MAX_DEPTH) {
        w->groups[depth] = self;
        /* the group's table read first (as h5_read.c's link_exists: libhdf5
         * 1.10 crashes iterating a symbol table whose heap is corrupt) */
        H5G_info_t info;
        if (H5Gget_info(obj, &info) >= 0) {
            child ch = {w, file, path, depth};
            hsize_t idx = 0;
            if (H5Literate(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, one_link, &ch) < 0 && !w->rc &&
                !w->c->truncated) {
                strata__h5_object *bad = new_object(w, path, STRATA_H5_OTHER);
                if (bad && set_text(&bad->type, "unreadable group entries"))
                    w->rc = STRATA_E_NOMEM;
            }
        }
    }
    (void)at;
    H5Oclose(obj);
}

/* Is path below group g ("/" holds everything)? */
static int below(const char *path, const char *g)
{
    size_t len = strlen(g);
    return !strcmp(g, "/") ? path[0] == '/' && path[1] != '\0'
                           : !strncmp(path, g, len) && path[len] == '/';
}

/* The object at path among c->obj[from..to) (NULL if none). */
static strata__h5_object *find(strata__h5_catalog *c, int64_t from, int64_t to, const char *path)
{
    for (int64_t i = from; i < to; i++)
        if (!strcmp(c->obj[i].path, path))
            return &c->obj[i];
    return NULL;
}

/* A 1-D numeric dataset directly under g; its length. */
static int numeric_child(const char *g, const strata__h5_object *o, int64_t *n)
{
    if (!below(o->path, g))
        return 0;
    const char *rest = o->path + (strcmp(g, "/") ? strlen(g) + 1 : 1);
    if (strchr(rest, '/') || o->kind != STRATA_H5_DATASET || o->rank != 1)
        return 0;
    /* numbers of numpy's sizes ("int32", "float64 big-endian"; not "int24"),
     * or numpy's bools as pandas and h5py store them (features of 0 and 1;
     * the frame reader's plan tells an enum of int8 that is one) */
    if (!strcmp(o->type, "bitfield8") || !strcmp(o->type, "enum(int8)")) {
        *n = o->dims[0];
        return !o->undecodable;
    }
    const int fl = !strncmp(o->type, "float", 5);
    const char *bits = fl ? o->type + 5 : !strncmp(o->type, "int", 3) ? o->type + 3
                                         : !strncmp(o->type, "uint", 4) ? o->type + 4 : NULL;
    const long b = bits ? strtol(bits, NULL, 10) : 0;
    if (!(b == 8 || b == 16 || b == 32 || b == 64 || (fl && b == 128)) || (fl && b == 8))
        return 0;
    *n = o->dims[0];
    return !o->undecodable;
}

/* An empty array as PyTables (pandas' to_hdf) stores it: one placeholder
 * value, its real shape and type in the attributes "shape" and "value_type". */
static int pytables_empty(const strata__h5_object *o)
{
    int shape = 0, value_type = 0;
    for (int64_t j = 0; j < o->nattrs; j++) {
        shape |= !strcmp(o->attr_names[j], "shape");
        value_type |= !strcmp(o->attr_names[j], "value_type");
    }
    return shape && value_type;
}

/* pandas' categories of a categorical column X of the frame P (to_hdf
 * format="table"): the Series P/meta/X/meta, whose table is no customer
 * table (its rows are the categories). c->obj[0..i) holds P. */
static int pandas_categories(strata__h5_catalog *c, int64_t i)
{
    static const char SUFFIX[] = "/meta/table";
    char frame[1100];
    const char *path = c->obj[i].path;
    const size_t len = strlen(path), sl = sizeof SUFFIX - 1;
    if (len <= sl || len >= sizeof frame || strcmp(path + len - sl, SUFFIX) != 0)
        return 0;
    memcpy(frame, path, len - sl);
    frame[len - sl] = '\0'; /* P/meta/X */
    char *slash = strrchr(frame, '/');
    if (!slash || slash - frame < 5 || strncmp(slash - 5, "/meta", 5) != 0)
        return 0;
    slash[-5] = '\0'; /* P */
    const strata__h5_object *p = find(c, 0, i, frame[0] ? frame : "/");
    for (int64_t j = 0; p && j < p->nattrs; j++)
        if (!strcmp(p->attr_names[j], "pandas_type"))
            return 1;
    return 0;
}

/* Tables planned at most (each plan opens the file again). */
enum { MAX_PLANS = 1000 };

/* Which reader takes each object (after the walk: groups need their
 * children). The walk is depth first, so a group's objects follow it:
 * c->obj[i + 1 .. end). STRATA_OK, or STRATA_E_NOMEM (message in msg). */
static int classify(const char *path, strata__h5_catalog *c, char *msg)
{
    int plans = 0;
    for (int64_t i = 0; i < c->n; i++) {
        strata__h5_object *o = &c->obj[i];
        if (pytables_empty(o))
            o->use = STRATA_H5_USE_NONE;
        if (o->kind == STRATA_H5_GROUP) {
            int64_t end = i + 1;
            while (end < c->n && below(c->obj[end].path, o->path))
                end++;
            const char *g = strcmp(o->path, "/") ? o->path : "";
            char sub[1100];
            /* a saved model: its centroids in two units (docs/tiers.md, "Models") */
            snprintf(sub, sizeof sub, "%s/centroids", g);
            const strata__h5_object *cen = find(c, i + 1, end, sub);
            snprintf(sub, sizeof sub, "%s/centroids_original", g);
            if (cen && find(c, i + 1, end, sub)) {
                o->use = STRATA_H5_USE_MODEL;
                continue;
            }
            /* pandas' fixed format frame: read as a table; its blocks (the
             * columns of one dtype each, ids and days among them) and axes
             * are no inputs of their own */
            snprintf(sub, sizeof sub, "%s/block0_items", g);
            int pandas_fixed = find(c, i + 1, end, sub) != NULL;
            for (int64_t j = i + 1; pandas_fixed && j < end; j++)
                if (c->obj[j].use == STRATA_H5_USE_MATRIX)
                    c->obj[j].use = STRATA_H5_USE_NONE;
            snprintf(sub, sizeof sub, "%s/axis1", g); /* its index: one value a row */
            const strata__h5_object *index = find(c, i + 1, end, sub);
            if (!index) { /* a MultiIndex: a level's codes, one a row */
                snprintf(sub, sizeof sub, "%s/axis1_label0", g);
                index = find(c, i + 1, end, sub);
            }
            if (pandas_fixed && !(index && index->rank == 1 && index->dims[0] > 0 &&
                                  !pytables_empty(index)))
                pandas_fixed = 0; /* an empty frame (its blocks: placeholders) */
            /* 2 or more 1-D numeric columns of one length */
            int64_t n0 = -1, count = 0, n;
            int equal = 1;
            for (int64_t j = i + 1; j < end; j++)
                if (numeric_child(o->path, &c->obj[j], &n)) {
                    equal = equal && (n0 < 0 || n == n0);
                    n0 = n;
                    count++;
                }
            if (pandas_fixed || (count >= 2 && equal && n0 > 0))
                o->use = STRATA_H5_USE_TABLE;
            /* a tiering (strata migrate): /customer_id and /tier of one length */
            if (!strcmp(o->path, "/")) {
                const strata__h5_object *id = find(c, i + 1, end, "/customer_id"),
                                        *tier = find(c, i + 1, end, "/tier");
                int64_t a, b;
                if (id && tier && numeric_child("/", id, &a) && numeric_child("/", tier, &b) &&
                    a == b)
                    o->use = STRATA_H5_USE_TIERING;
            }
        }
        if (o->use == STRATA_H5_USE_TABLE && pandas_categories(c, i))
            o->use = STRATA_H5_USE_NONE;
        if (o->use != STRATA_H5_USE_TABLE)
            continue;
        if (++plans > MAX_PLANS) {
            o->use = STRATA_H5_USE_NONE;
            continue;
        }
        char *columns = NULL, *dates = NULL, key[256], index[256];
        int layout;
        char why[STRATA__MSG_LEN];
        /* a group needs two features besides its key (else it is a result
         * file's root, such as /labels beside /customer_id); a pandas
         * fixed-format frame or Series (layout 3) is a table of any width */
        const int st =
            strata__h5_table_plan(path, o->path, &columns, &dates, &layout, key, index, sizeof key,
                                  why);
        if (st == STRATA_E_NOMEM) /* not a table the reader refuses: no listing */
            return strata__fail(msg, STRATA_E_NOMEM, "out of memory listing '%s'", path);
        if (st == STRATA_OK && columns[0] &&
            (o->kind != STRATA_H5_GROUP || layout == 3 || strchr(columns, ','))) {
            strata__free(o->columns);
            strata__free(o->dates);
            o->columns = columns;
            o->dates = dates;
            if (set_text(&o->key, key) || set_text(&o->index, index))
                return strata__fail(msg, STRATA_E_NOMEM, "out of memory listing '%s'", path);
        } else {
            strata__free(columns);
            strata__free(dates);
            o->use = STRATA_H5_USE_NONE; /* the frame reader would refuse it */
        }
    }
    return STRATA_OK;
}

void strata__h5_catalog_free(strata__h5_catalog *c)
{
    for (int64_t i = 0; c && i < c->n; i++) {
        strata__h5_object *o = &c->obj[i];
        strata__free(o->path);
        strata__free(o->type);
        strata__free(o->filters);
        strata__free(o->columns);
        strata__free(o->key);
        strata__free(o->dates);
        strata__free(o->index);
        for (int64_t j = 0; j < o->nattrs; j++) {
            strata__free(o->attr_names[j]);
            strata__free(o->attr_values[j]);
        }
        strata__free(o->attr_names);
        strata__free(o->attr_values);
    }
    if (c) {
        strata__free(c->obj);
        *c = (strata__h5_catalog){0};
    }
}

int strata__h5_catalog_read(const char *path, strata__h5_catalog *out, char *msg)
{
    strata__h5_in *in = NULL;
    int rc = strata__h5_in_open(&in, path, msg); /* the file checks; holds the lock */
    if (rc)
        return rc;
    strata__h5_catalog c = {0};
    walk w = {.path = path, .c = &c, .msg = msg, .rc = STRATA_OK};
    visit(strata__h5_in_file(in), "/", 0, &w);
    rc = w.rc == STRATA_E_NOMEM && !msg[0]
             ? strata__fail(msg, STRATA_E_NOMEM, "out of memory listing '%s'", path)
             : w.rc;
    if (!rc && (c.n == 0 || c.obj[0].kind != STRATA_H5_GROUP))
        rc = strata__fail(msg, STRATA_E_IO_FORMAT, "cannot read the root group of '%s'%s%s",
                          path, c.n ? ": " : "", c.n ? c.obj[0].type : "");
    if (!rc)
        rc = classify(path, &c, msg);
    strata__h5_in_close(in);
    if (rc)
        strata__h5_catalog_free(&c);
    else
        *out = c;
    return rc;
}
