/* Chunks packed on the library's threads and stored by H5Dwrite_chunk
 * (io/h5_chunks.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/status.h"
#include "io/h5_chunks.h"
#include "io/h5_lock.h"

/* Filter mask of a chunk stored as it is: shuffle (bit 0) and deflate
 * (bit 1) skipped. */
#define MASK_RAW 3u

typedef struct chunk_job {
    hsize_t offset[2];
    const unsigned char *out; /* what is stored: the raw chunk or z */
    size_t out_len;
    unsigned mask;
} chunk_job;

/* A thread's buffers: pages are touched only as used (gather: edge chunks
 * only; z: up to the packed size). */
typedef struct slot {
    unsigned char *gather, *plane, *z; /* a chunk, a byte plane, a chunk */
    z_stream zs;
    int ready;    /* zs initialised */
    int strategy; /* zs's deflate strategy */
} slot;

typedef struct plan {
    int rank;
    const hsize_t *dims, *chunk;
    size_t elem, chunk_bytes;
    hsize_t across; /* chunks along the second dimension (1 for rank 1) */
    const unsigned char *buf;
    int level, strategy; /* of deflate */
} plan;

/* The bytes of chunk c: a view into buf where the chunk is whole rows lying
 * in one piece, else gathered into `gather` with zeros beyond the edges
 * (HDF5 stores edge chunks full size). */
static const unsigned char *chunk_bytes_of(const plan *p, hsize_t c, hsize_t *offset,
                                           unsigned char *gather)
{
    hsize_t cols = p->rank == 2 ? p->dims[1] : 1, ccols = p->rank == 2 ? p->chunk[1] : 1;
    hsize_t r0 = (c / p->across) * p->chunk[0], k0 = (c % p->across) * ccols;
    offset[0] = r0;
    offset[1] = k0;
    hsize_t rows = p->dims[0] - r0 < p->chunk[0] ? p->dims[0] - r0 : p->chunk[0];
    hsize_t width = cols - k0 < ccols ? cols - k0 : ccols;
    if (rows == p->chunk[0] && ccols == cols)
        return p->buf + (size_t)(r0 * cols) * p->elem;
    size_t row_out = (size_t)ccols * p->elem;
    for (hsize_t r = 0; r < rows; r++) {
        memcpy(gather + (size_t)r * row_out, p->buf + (size_t)((r0 + r) * cols + k0) * p->elem,
               (size_t)width * p->elem);
        memset(gather + (size_t)r * row_out + (size_t)width * p->elem, 0,
               (size_t)(ccols - width) * p->elem);
    }
    memset(gather + (size_t)rows * row_out, 0, (size_t)(p->chunk[0] - rows) * row_out);
    return gather;
}

/* The shuffled chunk (HDF5's shuffle filter: byte j of element i at
 * j n + i) deflated one byte plane at a time, so that only a plane is
 * copied out; *len: the packed size, 0 if it would not shrink. Z_OK or
 * zlib's error. */
static int deflate_shuffled(const plan *p, const unsigned char *raw, slot *s, size_t *len)
{
    size_t n = p->chunk_bytes / p->elem;
    z_stream *z = &s->zs;
    if (deflateReset(z) != Z_OK)
        return Z_STREAM_ERROR;
    z->next_out = s->z;
    z->avail_out = (uInt)(p->chunk_bytes - 1); /* shrink, or give up */
    int zrc = Z_OK;
    for (size_t j = 0; j < p->elem && zrc == Z_OK; j++) {
        const unsigned char *in = raw;
        if (p->elem > 1) {
            for (size_t i = 0; i < n; i++)
                s->plane[i] = raw[i * p->elem + j];
            in = s->plane;
        }
        z->next_in = (Bytef *)in;
        z->avail_in = (uInt)n;
        zrc = deflate(z, j + 1 == p->elem ? Z_FINISH : Z_NO_FLUSH);
        if (zrc == Z_OK && z->avail_in) /* the output is full: it does not shrink */
            zrc = Z_BUF_ERROR;
    }
    *len = zrc == Z_STREAM_END ? (size_t)z->total_out : 0;
    return zrc == Z_STREAM_END || zrc == Z_OK || zrc == Z_BUF_ERROR ? Z_OK : zrc;
}

/* Chunk c into job: packed when `pack` and it shrinks, else raw. Returns 0,
 * STRATA_E_NOMEM when zlib has no memory for its state, or STRATA_E_INTERNAL
 * (zlib refused a call). */
static int pack_chunk(const plan *p, hsize_t c, int pack, slot *s, chunk_job *job)
{
    const unsigned char *raw = chunk_bytes_of(p, c, job->offset, s->gather);
    job->out = raw;
    job->out_len = p->chunk_bytes;
    job->mask = MASK_RAW;
    if (!pack)
        return 0;
    if (!s->ready) {
        int z = deflateInit2(&s->zs, p->level, Z_DEFLATED, 15, 8, p->strategy);
        if (z != Z_OK)
            return z == Z_MEM_ERROR ? STRATA_E_NOMEM : STRATA_E_INTERNAL;
        s->ready = 1;
        s->strategy = p->strategy;
    } else if (s->strategy != p->strategy) { /* reset first: no flush pending */
        if (deflateReset(&s->zs) != Z_OK || deflateParams(&s->zs, p->level, p->strategy) != Z_OK)
            return STRATA_E_INTERNAL;
        s->strategy = p->strategy;
    }
    size_t len;
    if (deflate_shuffled(p, raw, s, &len) != Z_OK)
        return STRATA_E_INTERNAL;
    if (len > 0) {
        job->out = s->z;
        job->out_len = len;
        job->mask = 0;
    }
    return 0;
}

static int store(hid_t dset, const chunk_job *job) /* 0, or -1 */
{
    return H5Dwrite_chunk(dset, H5P_DEFAULT, job->mask, job->offset, job->out_len, job->out) < 0
               ? -1 : 0;
}

struct strata__h5_packer {
    int nslots, level;
    unsigned char *mem; /* nslots x PER */
    chunk_job *jobs;
    slot *sl;
};

/* A slot's buffers: the largest chunk twice (gathered, packed) and its
 * largest byte plane (of 1-byte elements). */
#define PER ((size_t)3 * STRATA__PACK_CHUNK_MAX)

void strata__h5_packer_free(strata__h5_packer *pk)
{
    if (!pk)
        return;
    for (int b = 0; b < pk->nslots; b++)
        if (pk->sl[b].ready)
            deflateEnd(&pk->sl[b].zs);
    strata__free(pk->sl);
    strata__free(pk->jobs);
    strata__free(pk->mem);
    strata__free(pk);
}

/* *pk with at least `slots` slots for deflate level `level`. */
static int packer_for(strata__h5_packer **pk, int slots, int level)
{
    if (*pk && (*pk)->nslots >= slots && (*pk)->level == level)
        return STRATA_OK;
    strata__h5_packer_free(*pk);
    strata__h5_packer *n = strata__calloc(1, sizeof *n);
    *pk = n;
    if (!n)
        return STRATA_E_NOMEM;
    n->level = level;
    n->mem = strata__alloc((size_t)slots, PER);
    n->jobs = strata__alloc((size_t)slots, sizeof *n->jobs);
    n->sl = strata__calloc((size_t)slots, sizeof *n->sl);
    if (!n->mem || !n->jobs || !n->sl)
        return STRATA_E_NOMEM; /* freed by the caller's strata__h5_packer_free() */
    n->nslots = slots;
    for (int b = 0; b < slots; b++) {
        n->sl[b].gather = n->mem + (size_t)b * PER;
        n->sl[b].z = n->sl[b].gather + STRATA__PACK_CHUNK_MAX;
        n->sl[b].plane = n->sl[b].z + STRATA__PACK_CHUNK_MAX;
    }
    return STRATA_OK;
}

int strata__h5_write_chunks(strata__h5_packer **packer, hid_t dset, int rank, const hsize_t *dims,
                            const hsize_t *chunk, size_t elem, const void *buf, int level,
                            int threads, char *cause, size_t cause_len)
{
    plan p = {.rank = rank, .dims = dims, .chunk = chunk, .elem = elem, .buf = buf,
              .level = level};
    p.chunk_bytes = (size_t)chunk[0] * (rank == 2 ? (size_t)chunk[1] : 1) * elem;
    p.across = rank == 2 ? (dims[1] + chunk[1] - 1) / chunk[1] : 1;
    hsize_t nchunks = (dims[0] + chunk[0] - 1) / chunk[0] * p.across;
    if (nchunks == 0)
        return STRATA_OK;
    if (p.chunk_bytes > STRATA__PACK_CHUNK_MAX) {
        snprintf(cause, cause_len, "a chunk of %zu bytes (at most %zu)", p.chunk_bytes,
                 STRATA__PACK_CHUNK_MAX);
        return STRATA_E_INTERNAL;
    }
    /* one chunk per thread a round: the buffers stay a few MiB */
    int t = strata__resolve_threads(threads);
    int rc = packer_for(packer, t, level);
    if (rc) {
        snprintf(cause, cause_len, "out of memory");
        return rc;
    }
    slot *sl = (*packer)->sl;
    chunk_job *jobs = (*packer)->jobs;
    /* The first chunk decides how to pack, and whether packing pays.
     * Run-length matches only (Z_RLE): on shuffled planes (runs of equal
     * high bytes, noisy low ones) as small as level 1's hashed matches or
     * smaller, and 1.1-2.1x as fast; but ids that step by small amounts
     * repeat whole sequences, which only the hashed matches find (/customer_id
     * of 10M customers: 13% against 3.5%): those keep the default strategy
     * (docs/performance.md, "Session 20"). */
    size_t len[2] = {p.chunk_bytes, p.chunk_bytes};
    static const int STRATEGY[2] = {Z_RLE, Z_DEFAULT_STRATEGY};
    for (int s = 0; s < 2 && !rc; s++) {
        p.strategy = STRATEGY[s];
        rc = pack_chunk(&p, 0, 1, &sl[0], &jobs[0]);
        len[s] = jobs[0].out_len;
    }
    const int hashed = len[1] * 5 <= len[0] * 4; /* a fifth smaller at least */
    p.strategy = STRATEGY[hashed];
    int pack = !rc && len[hashed] * STRATA__PACK_KEEP_DEN <= p.chunk_bytes * STRATA__PACK_KEEP_NUM;
    if (!rc && (!hashed || !pack)) /* chunk 0 again, as it will be stored */
        rc = pack_chunk(&p, 0, pack, &sl[0], &jobs[0]);
    if (!rc && store(dset, &jobs[0]))
        rc = STRATA_E_IO_WRITE;
    for (hsize_t b0 = 1; b0 < nchunks && !rc; b0 += (hsize_t)t) {
        int64_t m = (int64_t)(b0 + (hsize_t)t < nchunks ? (hsize_t)t : nchunks - b0);
        int failed = 0; /* the lowest status: STRATA_E_INTERNAL before STRATA_E_NOMEM */
#pragma omp parallel for num_threads(t) schedule(static, 1) reduction(min : failed) if (m > 1)
        for (int64_t i = 0; i < m; i++) {
            int st = pack_chunk(&p, b0 + (hsize_t)i, pack, &sl[i], &jobs[i]);
            failed = st < failed ? st : failed;
        }
        rc = failed;
        for (int64_t i = 0; i < m && !rc; i++)
            if (store(dset, &jobs[i]))
                rc = STRATA_E_IO_WRITE;
    }
    if (rc == STRATA_E_IO_WRITE)
        strata__h5_cause(cause, cause_len);
    else if (rc == STRATA_E_NOMEM)
        snprintf(cause, cause_len, "out of memory");
    else if (rc)
        snprintf(cause, cause_len, "zlib refused to compress a chunk");
    return rc;
}

/* ---- Deflated chunks read stored and inflated here (io/h5_chunks.h) ---- */

int strata__h5_kept_plan(strata__h5_kept *k, hid_t dset, int64_t d, strata__h5_zbuf *z)
{
    hid_t dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
    hsize_t chunk[2] = {0, 1};
    const size_t elem = type >= 0 ? H5Tget_size(type) : 0;
    const int rank = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED
                         ? H5Pget_chunk(dcpl, 2, chunk) : -1;
    int ok = elem > 0 && (rank == 1 || rank == 2) && chunk[0] >= 1 && chunk[1] >= 1 &&
             H5Pget_external_count(dcpl) == 0 && d >= 1;
    const int nf = ok ? H5Pget_nfilters(dcpl) : -1;
    const double bytes = (double)chunk[0] * (double)chunk[1] * (double)elem;
    const int64_t across = ok ? (d + (int64_t)chunk[1] - 1) / (int64_t)chunk[1] : 0;
    ok = ok && bytes > (double)(1 << 20) && bytes * (double)(across + 2) < 0x1p52;
    int mode = 0, shuffle = 0;
    if (ok && nf == 0) {
        mode = 2;
    } else if (ok && (nf == 1 || nf == 2)) {
        H5Z_filter_t f[2];
        unsigned cd[2][4] = {{0}};
        size_t ncd[2] = {4, 4};
        for (int i = 0; i < nf; i++) {
            unsigned flags, config;
            f[i] = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd[i], cd[i], 0, NULL, &config);
        }
        if (nf == 1 && f[0] == H5Z_FILTER_DEFLATE)
            mode = 1;
        else if (nf == 2 && f[0] == H5Z_FILTER_SHUFFLE && f[1] == H5Z_FILTER_DEFLATE &&
                 (ncd[0] < 1 || cd[0][0] == elem))
            mode = 1, shuffle = 1;
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (!mode) {
        if (type >= 0)
            H5Tclose(type);
        return 0;
    }
    *k = (strata__h5_kept){.dset = dset, .ftype = mode == 1 ? type : -1, .shuffle = shuffle,
                           .d = d, .zrows = (int64_t)chunk[0], .zcols = (int64_t)chunk[1],
                           .across = across, .elem = elem, .zbytes = (size_t)bytes, .cur = -1,
                           .z = mode == 1 ? z : NULL};
    if (mode != 1) {
        H5Tclose(type);
        return mode;
    }
    const size_t in_cap = (size_t)compressBound((uLong)k->zbytes) + 64;
    z->in_cap = in_cap > z->in_cap ? in_cap : z->in_cap;
    if (shuffle && k->zbytes > z->shuf_cap)
        z->shuf_cap = k->zbytes;
    if (z->conv_cap < STRATA__KEPT_CONV_BYTES)
        z->conv_cap = STRATA__KEPT_CONV_BYTES;
    return 1;
}

int64_t strata__h5_kept_bytes(const strata__h5_kept *k)
{
    return k->z ? (int64_t)k->zbytes * k->across : 0;
}

int64_t strata__h5_zbuf_bytes(const strata__h5_zbuf *z)
{
    return (int64_t)(z->in_cap + z->shuf_cap + 2 * z->conv_cap);
}

void strata__h5_kept_free(strata__h5_kept *k)
{
    strata__free(k->row);
    k->row = NULL;
    k->cur = -1;
    if (k->ftype > 0)
        H5Tclose(k->ftype);
    k->ftype = -1;
}

void strata__h5_zbuf_free(strata__h5_zbuf *z)
{
    strata__free(z->in);
    strata__free(z->shuf);
    strata__free(z->conv);
    strata__free(z->bkg);
    z->in = z->shuf = z->conv = z->bkg = NULL;
}

/* HDF5's shuffle undone: byte j of element i was at j n + i. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t bytes, size_t elem)
{
    const size_t n = bytes / elem, tile = 2048; /* a tile of out stays in the L1 cache */
    for (size_t i0 = 0; i0 < n; i0 += tile) {
        const size_t i1 = n - i0 < tile ? n : i0 + tile;
        for (size_t j = 0; j < elem; j++) {
            const unsigned char *plane = in + j * n;
            for (size_t i = i0; i < i1; i++)
                out[i * elem + j] = plane[i];
        }
    }
    memcpy(out + n * elem, in + n * elem, bytes - n * elem);
}

/* Chunk row cr into k->row: 0; 1 where a chunk is not as expected; 2
 * where its deflate stream ends before the chunk is full (corrupt: libhdf5
 * would read past its buffer: sent to it, the rows would be garbage). */
static int chunk_row_load(strata__h5_kept *k, int64_t cr, int locked)
{
    strata__h5_zbuf *z = k->z;
    for (int64_t c = 0; c < k->across; c++) {
        hsize_t off[2] = {(hsize_t)(cr * k->zrows), (hsize_t)(c * k->zcols)}, stored = 0;
        uint32_t mask = 0;
        strata__h5_guard g;
        if (!locked)
            strata__h5_enter(&g);
        herr_t err = H5Dget_chunk_storage_size(k->dset, off, &stored);
        if (err >= 0 && stored > 0 && stored <= z->in_cap)
            err = H5Dread_chunk(k->dset, H5P_DEFAULT, off, &mask, z->in);
        if (!locked)
            strata__h5_leave(&g);
        if (err < 0 || stored == 0 || stored > z->in_cap)
            return 1;
        const unsigned deflate_bit = k->shuffle ? 2u : 1u;
        const int shuffled = k->shuffle && !(mask & 1u);
        unsigned char *dst = k->row + (size_t)c * k->zbytes;
        unsigned char *to = shuffled ? z->shuf : dst;
        if (mask & ~(k->shuffle ? 3u : 1u))
            return 1;
        if (!(mask & deflate_bit)) {
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            if (inflateInit(&zs) != Z_OK)
                return 1;
            zs.next_in = z->in;
            zs.avail_in = (uInt)stored;
            zs.next_out = to;
            zs.avail_out = (uInt)k->zbytes;
            const int zr = inflate(&zs, Z_FINISH);
            const uLong out = zs.total_out;
            inflateEnd(&zs);
            if (zr == Z_STREAM_END && out < (uLong)k->zbytes)
                return 2;
            if (zr != Z_STREAM_END || out != (uLong)k->zbytes)
                return 1;
        } else if (stored != k->zbytes) {
            return 1;
        } else {
            memcpy(to, z->in, k->zbytes);
        }
        if (shuffled)
            unshuffle(z->shuf, dst, k->zbytes, k->elem);
    }
    return 0;
}

/* Elements [c0, c0 + w) of rows [r0, r0 + m) as stored into out (m x w
 * elements of k->elem bytes): 0, or chunk_row_load()'s 1 or 2. */
static int kept_copy(strata__h5_kept *k, int64_t r0, int64_t m, int64_t c0, int64_t w,
                     unsigned char *out, int locked)
{
    const size_t e = k->elem, crow = (size_t)k->zcols * e, orow = (size_t)w * e;
    for (int64_t r = r0; r < r0 + m;) {
        const int64_t cr = r / k->zrows;
        const int64_t end = (cr + 1) * k->zrows < r0 + m ? (cr + 1) * k->zrows : r0 + m;
        if (cr != k->cur) {
            k->cur = -1;
            const int bad = chunk_row_load(k, cr, locked);
            if (bad)
                return bad;
            k->cur = cr;
        }
        const size_t in_row = (size_t)(r - cr * k->zrows);
        unsigned char *o = out + (size_t)(r - r0) * orow;
        if (k->across == 1 && c0 == 0 && w == k->zcols) { /* whole chunk rows */
            memcpy(o, k->row + in_row * crow, (size_t)(end - r) * crow);
        } else {
            for (int64_t c = c0 / k->zcols; c * k->zcols < c0 + w; c++) {
                const int64_t a = c * k->zcols > c0 ? c * k->zcols : c0;
                const int64_t b = (c + 1) * k->zcols < c0 + w ? (c + 1) * k->zcols : c0 + w;
                const unsigned char *from = k->row + (size_t)c * k->zbytes + in_row * crow +
                                            (size_t)(a - c * k->zcols) * e;
                unsigned char *to = o + (size_t)(a - c0) * e;
                for (int64_t i = 0; i < end - r; i++)
                    memcpy(to + (size_t)i * orow, from + (size_t)i * crow, (size_t)(b - a) * e);
            }
        }
        r = end;
    }
    return 0;
}

int strata__h5_kept_read(strata__h5_kept *k, hid_t mem, int64_t r0, int64_t m, int64_t c0,
                         int64_t w, void *out, int locked)
{
    strata__h5_zbuf *z = k->z;
    if (!z || c0 < 0 || w < 1 || c0 + w > k->d)
        return 1;
    const size_t dsize = H5Tget_size(mem), big = dsize > k->elem ? dsize : k->elem;
    if (!dsize)
        return 1;
    if (z->conv_cap < (size_t)w * big) /* a row larger than the conversion buffers */
        strata__h5_zbuf_free(z), z->conv_cap = (size_t)w * big;
    if (!k->row && !(k->row = strata__alloc((size_t)k->across, k->zbytes)))
        return -1;
    if (!z->in) {
        z->in = strata__alloc(1, z->in_cap);
        z->shuf = z->shuf_cap ? strata__alloc(1, z->shuf_cap) : NULL;
        z->conv = strata__alloc(1, z->conv_cap);
        z->bkg = strata__calloc(1, z->conv_cap);
        if (!z->in || (z->shuf_cap && !z->shuf) || !z->conv || !z->bkg) {
            strata__h5_zbuf_free(z);
            return -1;
        }
    }
    strata__h5_guard g;
    if (!locked)
        strata__h5_enter(&g);
    const htri_t same = H5Tequal(k->ftype, mem);
    if (!locked)
        strata__h5_leave(&g);
    if (same < 0)
        return 1;
    if (same) /* as stored: no conversion */
        return kept_copy(k, r0, m, c0, w, out, locked);
    int bad;
    /* converted by libhdf5 (H5Tconvert: what H5Dread does) a piece at a time */
    const int64_t piece = (int64_t)(z->conv_cap / ((size_t)w * big));
    for (int64_t r = r0; r < r0 + m; r += piece) {
        const int64_t p = piece < r0 + m - r ? piece : r0 + m - r;
        if ((bad = kept_copy(k, r, p, c0, w, z->conv, locked)))
            return bad;
        if (!locked)
            strata__h5_enter(&g);
        const herr_t err = H5Tconvert(k->ftype, mem, (size_t)(p * w), z->conv, z->bkg,
                                      H5P_DEFAULT);
        if (!locked)
            strata__h5_leave(&g);
        if (err < 0)
            return 1;
        memcpy((unsigned char *)out + (size_t)(r - r0) * (size_t)w * dsize, z->conv,
               (size_t)(p * w) * dsize);
    }
    return 0;
}
