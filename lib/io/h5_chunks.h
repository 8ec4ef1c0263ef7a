/* Chunked, shuffled and gzipped datasets written chunk by chunk (internal to
 * lib/io): the chunks are packed (HDF5's shuffle, then zlib's deflate) on the
 * library's threads, and HDF5 only stores them (H5Dwrite_chunk). HDF5 itself
 * packs the chunks of an H5Dwrite on the calling thread, one at a time. */
#ifndef STRATA_IO_H5_CHUNKS_H
#define STRATA_IO_H5_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* A packed chunk is kept when it is at most this fraction of the chunk:
 * integer columns (ids, labels, days, counts) pack to 1/5..1/15, doubles of
 * measured values to ~0.9, at a sixth of the speed. The dataset's first chunk
 * decides for all (below). */
#define STRATA__PACK_KEEP_NUM 3
#define STRATA__PACK_KEEP_DEN 4

/* The buffers and zlib states of the threads that pack (about 3 MiB a
 * thread, pages touched only as needed), kept from one dataset to the next
 * of a file: freeing such blocks after each dataset would make glibc raise
 * its mmap threshold and keep the freed memory, growing the peak RSS. */
typedef struct strata__h5_packer strata__h5_packer;
void strata__h5_packer_free(strata__h5_packer *p); /* NULL: nothing */

/* The largest chunk accepted, in bytes. */
#define STRATA__PACK_CHUNK_MAX ((size_t)1 << 20)

/* Write buf into dset: a dataset of rank 1 or 2 and shape dims, created with
 * chunks `chunk` (at most STRATA__PACK_CHUNK_MAX bytes) and the filters
 * shuffle then deflate (H5Pset_shuffle, H5Pset_deflate(level)) and nothing
 * else; buf holds dims[0] x dims[1] (rank 1: dims[0]) elements of `elem`
 * bytes, row-major, already in the file's representation (its type's byte
 * order).
 *
 * The first chunk is packed first, twice: with run-length matches only
 * (Z_RLE, fast) and with deflate's default strategy, which is kept where it
 * packs a fifth smaller (ids that step by small amounts). When it packs to
 * at most KEEP of its bytes every chunk is packed (on `threads` threads, 0 =
 * the OpenMP default) and stored packed unless it did not shrink, else
 * every chunk is stored as it is, its filter mask saying that both filters were skipped (as HDF5 stores
 * a chunk that its optional deflate filter could not shrink; such a dataset
 * is as plain as an unfiltered one to the direct reads of io/h5_read.c).
 * Readers (libhdf5, h5py, pandas) read either. The stored bytes depend only
 * on the data, never on the threads.
 *
 * *packer: NULL at first, then reused; the caller frees it. Returns
 * STRATA_OK, STRATA_E_NOMEM, or STRATA_E_IO_WRITE with HDF5's message in
 * cause (STRATA_E_INTERNAL: a larger chunk, or zlib refused a call). Called
 * under the HDF5 lock; HDF5 is called from the calling thread only. */
int strata__h5_write_chunks(strata__h5_packer **packer, hid_t dset, int rank, const hsize_t *dims,
                            const hsize_t *chunk, size_t elem, const void *buf, int level,
                            int threads, char *cause, size_t cause_len);

/* ---- Deflated chunks read stored and inflated here (the streamed readers) ----
 * libhdf5 inflates a deflated chunk beyond its chunk cache (1 MiB) whole for
 * every read that touches it: blocks of 4096 rows over a column whose chunk
 * holds 1M rows inflated that chunk ~250 times a pass, and libhdf5's
 * buffers for each were left with the allocator beyond what a budget
 * counted. A keeper reads such a dataset's chunks as stored (H5Dread_chunk),
 * inflates and unshuffles them here into buffers allocated once, and keeps
 * the row of chunks (all `across` chunks of chunk row `cur`) the last rows
 * asked for are in: rows read in order inflate every chunk once a pass,
 * whatever the block size. Used by the row source of a 2-D dataset and by
 * the column readers (1-D columns, compound tables, pandas blocks), each
 * keeper a dataset; keepers may share one strata__h5_zbuf (one chunk is
 * inflated at a time). Anything unexpected in a chunk (not allocated, other
 * filters applied, a size or an inflated length that does not match, a
 * conversion libhdf5 refuses) makes a read answer 1: read those rows
 * through libhdf5 instead (the same rows, or its error). */

/* The scratch of the keepers sharing it: one chunk as stored, one inflated
 * still shuffled, and the conversion buffers (STRATA__KEPT_CONV_BYTES each,
 * or a row where one is larger). */
typedef struct strata__h5_zbuf {
    unsigned char *in, *shuf, *conv, *bkg;
    size_t in_cap, shuf_cap, conv_cap; /* needed (alloc'd: the buffers non-NULL) */
} strata__h5_zbuf;
#define STRATA__KEPT_CONV_BYTES ((size_t)256 << 10)

typedef struct strata__h5_kept {
    hid_t dset;            /* borrowed */
    hid_t ftype;           /* the dataset's type (owned) */
    int shuffle;           /* the pipeline is shuffle, deflate */
    int64_t d;             /* elements a row (1 for rank 1) */
    int64_t zrows, zcols;  /* the chunk shape (zcols 1 for rank 1) */
    int64_t across;        /* chunks along a row */
    size_t elem, zbytes;   /* bytes of an element (a record for rank 1), of a chunk */
    unsigned char *row;    /* the `across` chunks of chunk row cur, inflated */
    int64_t cur;           /* -1: none */
    strata__h5_zbuf *z;    /* borrowed */
} strata__h5_kept;

/* How dset (rank 1 or 2, d elements a row) is chunked where its chunks are
 * beyond libhdf5's cache (> 1 MiB): 1 deflated (deflate, or shuffle then
 * deflate) and k set up (buffers not yet allocated; z's needs raised), 2
 * unfiltered (k's shape fields set, nothing to free), 0 neither (k
 * untouched). Under the HDF5 lock. */
int strata__h5_kept_plan(strata__h5_kept *k, hid_t dset, int64_t d, strata__h5_zbuf *z);
/* What k's chunk row holds (0 unless planned 1), and what z holds. */
int64_t strata__h5_kept_bytes(const strata__h5_kept *k);
int64_t strata__h5_zbuf_bytes(const strata__h5_zbuf *z);
/* Elements [c0, c0 + w) of rows [r0, r0 + m) of k's dataset converted to
 * mem (row-major, m x w elements of H5Tget_size(mem) bytes) into out:
 * 0, 1 (read them through libhdf5), STRATA__KEPT_CORRUPT (a chunk's deflate
 * stream ends before the chunk is full: libhdf5 would read past its buffer,
 * so the read fails), or -1 out of memory for the buffers
 * (allocated at the first read). locked: the caller holds the HDF5 lock
 * (else each libhdf5 call takes it; inflating runs without). One read at a
 * time of the keepers sharing a zbuf. */
#define STRATA__KEPT_CORRUPT 2
int strata__h5_kept_read(strata__h5_kept *k, hid_t mem, int64_t r0, int64_t m, int64_t c0,
                         int64_t w, void *out, int locked);
/* Free k's buffers and type (k planned 1, or zeroed), z's buffers. */
void strata__h5_kept_free(strata__h5_kept *k);
void strata__h5_zbuf_free(strata__h5_zbuf *z);

#endif
