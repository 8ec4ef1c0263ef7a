/* core/dist.h's hooks with MPI (docs/distributed.md, "What is exchanged").
 *
 * Every hook but tree_combine begins with the same agreement on the status
 * (agree(): an all-reduce of one int, and only after a failure a broadcast
 * of the first failing process's status and message), then exchanges its
 * data when no process failed. So a process that failed on its own may call
 * agree() where the others call any of those hooks: the collectives still
 * match. tree_combine, the one exchange of every pass, carries the status
 * and message in its buffer's header instead (one all-reduce a pass); its
 * buffer is reserved before the fit (strata__mpi_dist_reserve), and the
 * engine never fails alone right before a pass (core/dist.h's callers agree
 * on their own failures first). MPI errors themselves keep MPI's default
 * handler (the job is aborted, never left waiting). */
#include "mpi/mpi_dist.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/status.h"
#include "strata.h"

typedef struct impl {
    MPI_Comm comm;
    MPI_Op tree_op;
    char *buf; /* tree_combine's buffer, reserved */
    size_t buf_bytes;
} impl;

static MPI_Comm comm_of(const strata__dist *d)
{
    return ((const impl *)d->impl)->comm;
}

MPI_Comm strata__mpi_dist_comm(const strata__dist *d)
{
    return comm_of(d);
}

static int agree(const strata__dist *d, int rc, char *msg)
{
    MPI_Comm comm = comm_of(d);
    int first = rc ? d->rank : d->size;
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == d->size)
        return STRATA_OK;
    struct {
        int rc;
        char msg[STRATA__MSG_LEN];
    } m = {rc, ""};
    if (first == d->rank && msg)
        memcpy(m.msg, msg, STRATA__MSG_LEN);
    m.msg[STRATA__MSG_LEN - 1] = '\0';
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm);
    return strata__fail_copy(msg, m.rc, m.msg);
}

/* Pieces of at most 1 GiB: MPI counts are ints. */
#define PIECE ((int64_t)1 << 30)

static void bcast_bytes(MPI_Comm comm, void *buf, int64_t bytes, int root)
{
    for (int64_t o = 0; o < bytes; o += PIECE) {
        int64_t m = bytes - o < PIECE ? bytes - o : PIECE;
        MPI_Bcast((char *)buf + o, (int)m, MPI_BYTE, root, comm);
    }
}

static int bcast(const strata__dist *d, void *buf, int64_t bytes, int root, int rc, char *msg)
{
    if ((rc = agree(d, rc, msg)))
        return rc;
    bcast_bytes(comm_of(d), buf, bytes, root);
    return STRATA_OK;
}

static int allgather(const strata__dist *d, const void *mine, const int64_t *bytes, void *all,
                     int rc, char *msg)
{
    if ((rc = agree(d, rc, msg)))
        return rc;
    MPI_Comm comm = comm_of(d);
    int64_t total = 0;
    for (int r = 0; r < d->size; r++)
        total += bytes[r];
    int *counts = NULL, *displs = NULL;
    if (total <= INT_MAX) {
        counts = strata__alloc((size_t)d->size, sizeof(int));
        displs = strata__alloc((size_t)d->size, sizeof(int));
    }
    int64_t at = 0, my_at = 0;
    for (int r = 0; r < d->size; r++) {
        if (r == d->rank)
            my_at = at;
        if (counts) {
            counts[r] = (int)bytes[r];
            displs[r] = (int)at;
        }
        at += bytes[r];
    }
    /* the same choice on every process: it depends on bytes[] and on the
     * two small allocations, agreed first */
    int ok = counts && displs, all_ok = ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (all_ok) {
        memcpy((char *)all + my_at, mine, (size_t)bytes[d->rank]);
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, all, counts, displs, MPI_BYTE, comm);
    } else { /* over 2 GiB (or no room for the counts): one broadcast per process */
        memcpy((char *)all + my_at, mine, (size_t)bytes[d->rank]);
        at = 0;
        for (int r = 0; r < d->size; r++) {
            bcast_bytes(comm, (char *)all + at, bytes[r], r);
            at += bytes[r];
        }
    }
    strata__free(counts);
    strata__free(displs);
    return STRATA_OK;
}

static int reduce(const strata__dist *d, void *v, int64_t len, MPI_Datatype type, size_t es,
                  MPI_Op op, int rc, char *msg)
{
    if ((rc = agree(d, rc, msg)))
        return rc;
    for (int64_t o = 0; o < len; o += PIECE / 8) {
        int64_t m = len - o < PIECE / 8 ? len - o : PIECE / 8;
        MPI_Allreduce(MPI_IN_PLACE, (char *)v + (size_t)o * es, (int)m, type, op, comm_of(d));
    }
    return STRATA_OK;
}

static int max_f64(const strata__dist *d, double *v, int64_t len, int rc, char *msg)
{
    return reduce(d, v, len, MPI_DOUBLE, sizeof(double), MPI_MAX, rc, msg);
}

static int min_i64(const strata__dist *d, int64_t *v, int64_t len, int rc, char *msg)
{
    return reduce(d, v, len, MPI_INT64_T, sizeof(int64_t), MPI_MIN, rc, msg);
}

/* ---- the tree sum across processes ---------------------------------------
 *
 * A tree sum travels as a fixed-size buffer: this header, then its held
 * vectors, len doubles each (cap of them: 2 (floor(log2 C) + 1), the most a
 * range of chunks can hold). The user operation merges two such buffers,
 * the left (lower ranks) first: MPI applies a non-commutative operation in
 * rank order, and merging adjacent ranges is associative bitwise
 * (core/parallel.h), so every process receives the bits of one process's
 * tree whatever the reduction's shape. */
typedef struct packed_head {
    int64_t nchunks, len, origin, end;
    int32_t depth, cap, rc, pad;
    int64_t start[STRATA__TREE_MAX_NODES];
    int8_t level[STRATA__TREE_MAX_NODES];
    char msg[STRATA__MSG_LEN]; /* rc's message: the first failing process's */
} packed_head;

/* Held vectors of a tree over nchunks chunks: 2 (floor(log2 C) + 1). */
static int64_t tree_cap(int64_t nchunks)
{
    int levels = 0;
    while (levels < 63 && ((int64_t)1 << levels) <= nchunks)
        levels++;
    return 2 * levels;
}

static size_t packed_bytes(int64_t nchunks, int64_t len)
{
    return sizeof(packed_head) + (size_t)tree_cap(nchunks) * (size_t)len * sizeof(double);
}

/* A tree sum over the buffer p (stride = len, no allocation). */
static void view_of(void *p, strata__tree_sum *t)
{
    const packed_head *h = p;
    memset(t, 0, sizeof *t);
    t->nchunks = h->nchunks;
    t->len = t->stride = h->len;
    t->origin = h->origin;
    t->end = h->end;
    t->depth = h->depth;
    t->cap = h->cap;
    memcpy(t->start, h->start, sizeof t->start);
    memcpy(t->level, h->level, sizeof t->level);
    t->vec = (double *)((char *)p + sizeof(packed_head));
}

static void store_head(const strata__tree_sum *t, void *p)
{
    packed_head *h = p;
    h->origin = t->origin;
    h->end = t->end;
    h->depth = t->depth;
    memcpy(h->start, t->start, sizeof h->start);
    memcpy(h->level, t->level, sizeof h->level);
}

/* inout = in (left, lower ranks) merged with inout (right). */
static void tree_op(void *in, void *inout, int *count, MPI_Datatype *type)
{
    MPI_Aint lb, extent;
    MPI_Type_get_extent(*type, &lb, &extent);
    for (int e = 0; e < *count; e++) {
        char *a = (char *)in + e * extent, *b = (char *)inout + e * extent;
        packed_head *ha = (packed_head *)a, *hb = (packed_head *)b;
        if (ha->rc || hb->rc) { /* the lower rank's failure first */
            if (ha->rc) {
                hb->rc = ha->rc;
                memcpy(hb->msg, ha->msg, sizeof hb->msg);
            }
            continue;
        }
        void *tmp = strata__alloc((size_t)extent, 1);
        if (!tmp) {
            hb->rc = STRATA_E_NOMEM;
            snprintf(hb->msg, sizeof hb->msg, "out of memory merging the partial sums");
            continue;
        }
        memcpy(tmp, a, (size_t)extent); /* in is only read */
        strata__tree_sum left, right;
        view_of(tmp, &left);
        view_of(b, &right);
        if (strata__tree_sum_merge(&left, &right)) {
            hb->rc = STRATA_E_INTERNAL;
            snprintf(hb->msg, sizeof hb->msg, "the partial sums of adjacent processes do not "
                     "join (chunks %lld-%lld and %lld-%lld)", (long long)left.origin,
                     (long long)left.end, (long long)right.origin, (long long)right.end);
        } else {
            store_head(&left, tmp);
            memcpy(b, tmp, (size_t)extent);
        }
        strata__free(tmp);
    }
}

/* The reserved buffer, grown when a pass needs more. A process that cannot
 * grow it cannot take part in the all-reduce the others are in: it ends the
 * job (MPI_Abort) with a message rather than leave them waiting. */
static char *combine_buffer(const strata__dist *d, size_t bytes)
{
    impl *m = d->impl;
    if (bytes > m->buf_bytes) {
        char *b = strata__alloc(bytes, 1);
        if (!b) {
            fprintf(stderr, "libstrata_mpi: process %d of %d: out of memory for the %zu-byte "
                    "exchange of a pass's sums; ending the job\n", d->rank, d->size, bytes);
            MPI_Abort(m->comm, 1);
        }
        strata__free(m->buf);
        m->buf = b;
        m->buf_bytes = bytes;
    }
    memset(m->buf, 0, sizeof(packed_head));
    return m->buf;
}

static int tree_combine(const strata__dist *d, strata__tree_sum *t, int rc, char *msg)
{
    const size_t bytes = packed_bytes(t->nchunks, t->len);
    char *buf = combine_buffer(d, bytes);
    packed_head *h = (packed_head *)buf;
    double *v = (double *)(buf + sizeof(packed_head));
    h->nchunks = t->nchunks;
    h->len = t->len;
    h->cap = (int32_t)tree_cap(t->nchunks);
    h->origin = -1;
    if (rc || !t->vec) { /* the status alone (t->vec NULL: its allocation failed) */
        h->rc = rc ? rc : STRATA_E_NOMEM;
        snprintf(h->msg, sizeof h->msg, "%s", rc && msg ? msg : "out of memory for a pass's sums");
    } else {
        store_head(t, buf);
        for (int i = 0; i < t->depth; i++)
            memcpy(v + i * t->len, t->vec + i * t->stride, (size_t)t->len * sizeof(double));
    }
    MPI_Datatype type;
    MPI_Type_contiguous((int)bytes, MPI_BYTE, &type);
    MPI_Type_commit(&type);
    MPI_Allreduce(MPI_IN_PLACE, buf, 1, type, ((const impl *)d->impl)->tree_op, comm_of(d));
    MPI_Type_free(&type);
    if (h->rc) {
        h->msg[sizeof h->msg - 1] = '\0';
        return strata__fail_copy(msg, h->rc, h->msg);
    }
    strata__tree_sum merged;
    view_of(buf, &merged);
    t->origin = merged.origin;
    t->end = merged.end;
    t->depth = merged.depth;
    memcpy(t->start, merged.start, sizeof t->start);
    memcpy(t->level, merged.level, sizeof t->level);
    for (int i = 0; i < t->depth; i++)
        memcpy(t->vec + i * t->stride, v + i * t->len, (size_t)t->len * sizeof(double));
    return STRATA_OK;
}

int strata__mpi_dist_reserve(const strata__dist *d, int64_t nchunks, int64_t max_len, char *msg)
{
    impl *m = d->impl;
    const size_t bytes = packed_bytes(nchunks, max_len);
    int rc = STRATA_OK;
    if (bytes > m->buf_bytes) {
        char *b = strata__alloc(bytes, 1);
        if (!b) {
            rc = strata__fail(msg, STRATA_E_NOMEM, "out of memory for the %zu-byte exchange "
                              "of a pass's sums (process %d of %d)", bytes, d->rank, d->size);
        } else {
            strata__free(m->buf);
            m->buf = b;
            m->buf_bytes = bytes;
        }
    }
    return agree(d, rc, msg);
}

int strata__mpi_dist_begin(strata__dist *d, MPI_Comm comm, char *msg)
{
    memset(d, 0, sizeof *d);
    impl *m = strata__calloc(1, sizeof *m);
    int ok = m != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok) {
        strata__free(m);
        return strata__fail(msg, STRATA_E_NOMEM, "out of memory for the MPI exchange");
    }
    MPI_Comm_dup(comm, &m->comm);
    MPI_Op_create(tree_op, 0 /* not commutative: rank order */, &m->tree_op);
    MPI_Comm_rank(m->comm, &d->rank);
    MPI_Comm_size(m->comm, &d->size);
    d->impl = m;
    d->agree = agree;
    d->tree_combine = tree_combine;
    d->allgather = allgather;
    d->bcast = bcast;
    d->max_f64 = max_f64;
    d->min_i64 = min_i64;
    return STRATA_OK;
}

void strata__mpi_dist_end(strata__dist *d)
{
    impl *m = d->impl;
    if (!m)
        return;
    MPI_Op_free(&m->tree_op);
    MPI_Comm_free(&m->comm);
    strata__free(m->buf);
    strata__free(m);
    d->impl = NULL;
}
