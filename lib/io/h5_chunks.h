/* Chunked, shuffled and gzipped datasets written chunk by chunk (internal to
 * lib/io): the chunks are packed (HDF5's shuffle, then zlib's deflate) on the
 * library's threads, and HDF5 only stores them (H5Dwrite_chunk). HDF5 itself
 * packs the chunks of an H5Dwrite on the calling thread, one at a time. */
#ifndef STRATA_IO_H5_CHUNKS_H
#define STRATA_IO_H5_CHUNKS_H

#include <stddef.h>

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

#endif
