/* HDF5 readers (whole datasets into memory, read in row blocks, or streamed
 * as a row source or, for transaction logs, a column source) and result
 * writers (internal). Only lib/io includes hdf5.h; every HDF5 error is
 * silenced and turned into a message naming the file and dataset, and every
 * call holds the library-wide HDF5 lock. */
#ifndef STRATA_IO_H5_H
#define STRATA_IO_H5_H

#include <stdint.h>

#include "core/colsrc.h"
#include "core/rowsrc.h"
#include "core/steps.h"
#include "io/files.h"

/* A dense row-major matrix owned by the library. */
typedef struct strata__matrix {
    int dtype;   /* STRATA_FLOAT32 or STRATA_FLOAT64 */
    void *data;  /* n * d elements, from strata__alloc */
    int64_t n, d;
} strata__matrix;

/* Shape of a 2-D numeric dataset. msg: STRATA__MSG_LEN bytes or NULL. */
int strata__h5_shape(const char *path, const char *dataset, int64_t *n, int64_t *d, char *msg);

/* Load a 2-D numeric dataset into memory in row blocks. want_dtype 0 keeps
 * float32 as float32 and turns float64 and integers into float64; otherwise the
 * data are converted to want_dtype. Zero rows is an error. */
int strata__h5_load(const char *path, const char *dataset, int want_dtype, strata__matrix *out,
                    char *msg);
/* strata__h5_load() reporting STRATA_STEP_READ to steps (may be NULL) before
 * the first block and after each: a cancel ends the read (STRATA_E_CANCELLED). */
int strata__h5_load_steps(const char *path, const char *dataset, int want_dtype,
                          strata__matrix *out, const strata__steps *steps, char *msg);

/* Read into a caller buffer of exactly n x d elements of dtype. */
int strata__h5_read_into(const char *path, const char *dataset, int dtype, void *buf, int64_t n,
                         int64_t d, char *msg);

void strata__matrix_free(strata__matrix *m);

/* ---- A 2-D dataset streamed as a row source (lib/core/rowsrc.h) ----------- */

/* An open dataset (every check of strata__h5_load done, the file kept open);
 * each read takes the library-wide HDF5 lock for its own duration, so a
 * source's reader thread may read while other threads use lib/io. */
typedef struct strata__h5_rows strata__h5_rows;
typedef struct strata__h5_rows_info {
    int dtype;          /* as strata__h5_load(want_dtype 0) would load it */
    int64_t n, d;
    int64_t chunk_rows; /* rows per dataset chunk, 0 if not chunked (columns: the
                           least common multiple of theirs, 0 if beyond n) */
    int64_t chunk_rows_max; /* columns: their longest chunk (0: none), the fallback */
    int64_t cache_bytes; /* the chunk cache the reads keep (compressed chunks), 0: HDF5's own */
    int64_t filtered_chunk_bytes; /* compressed chunks beyond HDF5's 1 MiB cache: the
                                     bytes of one decompressed (the largest of the
                                     columns'), which a read touching it decompresses
                                     whole unless the cache keeps it; 0: none */
    int64_t kept_bytes; /* deflated chunks beyond that cache inflated by the streamed reads
                           themselves (keepers, io/h5_chunks.h; io/h5_read.c, "Chunks
                           wider or longer than a block"): what they hold at most (columns:
                           each dataset's; a row of chunks inflated, and their scratch: one
                           chunk stored, one shuffled, the conversion buffers), allocated
                           at the first read; 0: none (cache_bytes is then 0) */
    int64_t unkept_filtered_bytes; /* columns with keepers: the largest compressed chunk
                                      (as filtered_chunk_bytes) of the datasets without
                                      one, which libhdf5 decompresses whole; 0: none */
} strata__h5_rows_info;
int strata__h5_rows_open(const char *path, const char *dataset, strata__h5_rows **out,
                           strata__h5_rows_info *info, char *msg);
/* Rows [r0, r0 + m) converted to dtype into buf (m x d). */
int strata__h5_rows_read(strata__h5_rows *st, int dtype, int64_t r0, int64_t m, void *buf,
                           char *msg);
void strata__h5_rows_close(strata__h5_rows *st);
/* Keep two compressed chunks decompressed (info->cache_bytes of memory) so
 * that blocks straddling chunks decompress each once; for a plan whose
 * budget holds them. No effect where info->cache_bytes is 0. */
void strata__h5_rows_keep_chunks(strata__h5_rows *st);
/* Rows per block for at most block_bytes of dtype rows (at least
 * STRATA__CHUNK_ROWS): a multiple of STRATA__CHUNK_ROWS and, where such a
 * block fits, of the dataset's chunk rows, so no chunk is read twice (else,
 * where it fits, of chunk_rows_max: the longest chunks are read once). */
int64_t strata__h5_rows_block_rows(const strata__h5_rows_info *info, int dtype,
                                     int64_t block_bytes);
/* The row source reading st (which must outlive it) as dtype in blocks of
 * block_rows (a multiple of STRATA__CHUNK_ROWS); no weights. Where the
 * dataset is stored as plain dtype rows (unfiltered little-endian IEEE floats
 * of dtype's width, contiguous or chunked in whole rows) blocks are read with
 * pread() straight from the file, or, with STRATA_STREAM_READ=mmap, are
 * views of a mapping of the file (h5_read.c, "Plain rows"); else, and with
 * STRATA_STREAM_READ=hdf5, every block is read through HDF5. Results are the
 * same bits every way. */
void strata__h5_rows_rowsrc(strata__h5_rows *st, int dtype, int64_t block_rows,
                              strata__rowsrc *out);
/* Blocks served from a mapping since the process started (all sources; a
 * debug count for tests and benchmarks). */
int64_t strata__h5_rows_mapped_blocks(void);
/* Reads (blocks, random reads) served by the direct path since the process
 * started (all sources; a debug count for tests). */
int64_t strata__h5_rows_direct_reads(void);

/* Write a matrix as a chunked gzip dataset of a new file (temporary name, then rename). */
int strata__h5_write_matrix(const char *path, const char *dataset, int dtype, const void *buf,
                            int64_t n, int64_t d, int flags, char *msg);

/* What strata_kmeans_write_h5() stores. */
typedef struct strata__kmeans_output {
    const int32_t *labels;
    int64_t n;
    const double *centroids;
    int64_t k, d;
    double inertia;
    int64_t n_iter;
    int converged;
    int64_t seed;
    const char *algorithm; /* e.g. "lloyd" */
    const char *source;    /* e.g. "in.h5:/features"; NULL means "" */
    const strata__file_id *inputs; /* ninputs files the write must not replace */
    int ninputs;
    const char *const *feature_names; /* d names, or NULL: no /feature_names */
    const int64_t *customer_id;       /* n row keys, or NULL: no /customer_id */
    const char *key_name;             /* the key's own name (attribute "name") */
    /* the fit's other parameters, as root attributes (provenance) */
    int64_t max_iter, n_init;
    double tol;
    const char *init; /* e.g. "k-means++" */
    int streamed;     /* 1: the rows were streamed from the file (STRATA_KMEANS_MEMORY) */
    /* attributes only where the fit used them (> 0): mini-batch's batch_size,
     * AFK-MC2's chain_length, a file fit's memory budget */
    int64_t batch_size, chain_length, memory;
    const char *init_from; /* given centroids read from "FILE:/dataset" (NULL: none) */
    int threads; /* that pack the chunks of the write (0: the OpenMP default) */
} strata__kmeans_output;

/* Write /labels, /centroids, the root attributes (and /feature_names,
 * /customer_id when given) to a new file (temporary
 * name in the same folder, then rename; replaces only a regular file, only
 * with STRATA_WRITE_FORCE, and never one of out->inputs). */
int strata__h5_write_kmeans(const char *path, const strata__kmeans_output *out, int flags, char *msg);

/* ---- Any result file: a new file built from datasets and attributes ------- */

/* Element types of strata__h5_out_dataset() and strata__h5_out_attr(). */
enum { STRATA__H5_I32 = 1, STRATA__H5_I64, STRATA__H5_F32, STRATA__H5_F64, STRATA__H5_U8 };

/* A new HDF5 file under construction, with the guarantees of every libstrata
 * write (include/strata.h, "How every libstrata write works"): built in
 * memory, written under a temporary name, synced and renamed into place by
 * strata__h5_out_finish(); nothing reaches `path` unless every step worked.
 * Each call takes the library-wide HDF5 lock for its own duration, so other
 * lib/io calls may come between; calls on one handle must not overlap. The
 * messages go to the msg given to open (it must outlive the handle). */
typedef struct strata__h5_out strata__h5_out;
#define STRATA__H5_OUT_MAX_INPUTS 8
/* Longest object name (group + dataset) a writer builds. */
#define STRATA__H5_NAME_MAX 512

/* Start a new file at path (replaced only with STRATA_WRITE_FORCE, only if a
 * regular file, never one of the ninputs files, which are copied: at most
 * STRATA__H5_OUT_MAX_INPUTS). With STRATA_WRITE_ON_DISK in flags, HDF5
 * writes the file onto its temporary file, each call reserving the disk
 * space of what it adds first (no image in memory). On failure *out is NULL. */
int strata__h5_out_open(strata__h5_out **out, const char *path, const strata__file_id *inputs,
                        int ninputs, int flags, char *msg);
/* Threads that pack the chunks of o's datasets (io/h5_chunks.h); 0 (the
 * default) = the OpenMP default. */
void strata__h5_out_threads(strata__h5_out *o, int threads);
/* Dataset `name` (intermediate groups created) of rank 1 or 2, dims[rank]
 * (a dimension may be 0), from data of `type` (STRATA__H5_*); chunked, with
 * shuffle + gzip (each chunk stored packed where that pays: io/h5_chunks.h),
 * unless a dimension is 0. */
int strata__h5_out_dataset(strata__h5_out *o, const char *name, int type, int rank,
                           const int64_t *dims, const void *data);
/* n UTF-8 strings (variable length; h5py reads str): the 1-D dataset `object`
 * when attr is NULL, else the attribute attr of the existing object. */
int strata__h5_out_strings(strata__h5_out *o, const char *object, const char *attr,
                           const char *const *strs, int64_t n);
/* A scalar attribute of object (NULL or "/": the root group; else an existing
 * group or dataset); value points to one element of `type`. */
int strata__h5_out_attr(strata__h5_out *o, const char *object, const char *name, int type,
                        const void *value);
/* A scalar string attribute (NULL value is written as ""). */
int strata__h5_out_attr_string(strata__h5_out *o, const char *object, const char *name,
                               const char *value);
/* An empty group (intermediate groups created); no error if it exists. */
int strata__h5_out_group(strata__h5_out *o, const char *name);
/* rc == STRATA_OK: write the file and move it into place; else discard it.
 * Frees o (NULL is allowed: returns rc). Returns the final status. */
int strata__h5_out_finish(strata__h5_out *o, int rc);

/* ---- Small groups of a result file read back (saved models) ------------- */

/* A file opened read-only (every check of the matrix reader on each dataset
 * read); holds the library-wide HDF5 lock from open to close: open, read,
 * close on the same thread, without other lib/io calls between. Messages
 * name the file and the object and go to msg (kept by pointer). */
typedef struct strata__h5_in strata__h5_in;
int strata__h5_in_open(strata__h5_in **out, const char *path, char *msg);
void strata__h5_in_close(strata__h5_in *in);
/* 1 if the object exists (*is_group, if not NULL: whether a group), else 0. */
int strata__h5_in_exists(strata__h5_in *in, const char *name, int *is_group);
/* A numeric dataset of `rank` (1 or 2) dimensions into a new array *data
 * (strata__alloc) of type STRATA__H5_I32 or STRATA__H5_F64 (converted by
 * HDF5; out-of-range integers fail); its shape into dims. */
int strata__h5_in_dataset(strata__h5_in *in, const char *name, int type, int rank, int64_t *dims,
                          void **data);
/* A 1-D dataset of strings (variable or fixed length) into *strs (n copies,
 * free with strata__h5_in_strings_free). */
int strata__h5_in_strings(strata__h5_in *in, const char *name, char ***strs, int64_t *n);
void strata__h5_in_strings_free(char **strs, int64_t n);
/* A numeric attribute (one value) as STRATA__H5_I64 or STRATA__H5_F64. */
int strata__h5_in_attr(strata__h5_in *in, const char *object, const char *name, int type,
                       void *value);
/* A string attribute into buf (cut to cap - 1 bytes). */
int strata__h5_in_attr_string(strata__h5_in *in, const char *object, const char *name,
                              char *buf, size_t cap);
/* ---- Feature frames: named numeric columns and a row key ---------------- */

/* Features read from HDF5 (every array from strata__alloc). */
typedef struct strata__h5_frame {
    int64_t n, d;
    double *x;      /* n x d row-major, original units */
    char **names;   /* d feature names */
    int64_t *key;   /* n row keys or NULL; INT64_MIN marks a missing one (NaN,
                       non-integral float, uint64 >= 2^63) */
    char *key_name; /* NULL when key is */
} strata__h5_frame;

/* Read d >= 1 feature columns and a key of equal length (include/strata.h,
 * strata_frame_read_columns() and strata_frame_read_table(), tells the
 * layouts and the key rules). table NULL: columns are 1-D dataset paths;
 * else the compound dataset, pandas frame (table or fixed format) or group
 * of 1-D datasets `table`, whose columns are named (d = 0 / columns NULL:
 * every numeric column but the key). key NULL: "customer_id" if there is
 * one; "": none. Values are converted to double by HDF5 (integers beyond
 * 2^53 rounded to the nearest double); no value is checked here. */
int strata__h5_read_frame(const char *path, const char *table, const char *const *columns,
                          int64_t d, const char *key, strata__h5_frame *out, char *msg);
/* An n x d numeric dataset as a frame: names from its string attribute
 * "feature_names" (or "columns"), else x0..x{d-1}; no key. */
int strata__h5_read_matrix_frame(const char *path, const char *dataset, strata__h5_frame *out,
                                 char *msg);
void strata__h5_frame_free(strata__h5_frame *f);
/* The d column names of the n x d dataset, as strata__h5_read_matrix_frame()
 * finds them, into *out (d malloc'ed strings in a malloc'ed array), without
 * reading its rows; STRATA_OK, or an error (no such names, d other than the
 * dataset's, no memory: *out NULL, no message). For provenance only. */
int strata__h5_matrix_names(const char *path, const char *dataset, int64_t d, char ***out);

/* ---- Feature columns (a frame's layouts) streamed as a row source -------- */

/* The columns strata__h5_read_frame() would read (the same arguments, plan,
 * checks and messages), kept open to read float64 rows in blocks. Each read
 * takes the library-wide HDF5 lock for its own duration and first checks
 * the file was not changed in place since the open (as strata__h5_rows). */
typedef struct strata__h5_cols strata__h5_cols;
/* Open: *head gets n, d, the names, the keys (read whole: 8 bytes a row)
 * and the key's name, x NULL (free with strata__h5_frame_free); *info the
 * shape, dtype STRATA_FLOAT64 and the columns' chunking. No value is
 * checked here (the frame checks are lib/api's). */
int strata__h5_cols_open(const char *path, const char *table, const char *const *columns,
                         int64_t d, const char *key, strata__h5_cols **out,
                         strata__h5_frame *head, strata__h5_rows_info *info, char *msg);
/* Rows [r0, r0 + m) as m x d doubles, converted as the frame reader does. */
int strata__h5_cols_read(strata__h5_cols *c, int64_t r0, int64_t m, double *buf, char *msg);
void strata__h5_cols_close(strata__h5_cols *c);

/* ---- RFM: transaction logs in, per-customer results out ------------------ */

/* A transaction log read from HDF5 (arrays from strata__alloc). */
typedef struct strata__h5_transactions {
    int64_t n;
    int64_t *customer_id, *time; /* INT64_MIN marks a NaN or non-integral float id, a NaN time */
    double *amount;
} strata__h5_transactions;

/* Read three columns of equal length: 1-D numeric datasets names[0..2]
 * (customer id, time, amount), or, when table is not NULL, the fields of
 * those names of the 1-D compound dataset `table`. Integer ids and times are
 * read as int64 (uint64 values >= 2^63 become INT64_MIN, never clipped);
 * float ids become INT64_MIN unless integral, float times are floored (NaN
 * or beyond int64: INT64_MIN); amounts become double. A time column pandas
 * stored as datetime64 (int64 nanoseconds since 1970-01-01 UTC) is floored
 * to the log's time_unit (STRATA_RFM_TIME_DAYS: UTC days since 1970-01-01;
 * STRATA_RFM_TIME_SECONDS: Unix seconds); NaT stays INT64_MIN (a bad time).
 * Every dataset's type,
 * extent and storage are checked against the file before libhdf5 reads it.
 * The log source below (strata__h5_log_open()) read as one block, a column
 * at a time, each read under the HDF5 lock. */
int strata__h5_read_transactions(const char *path, const char *table, const char *const names[3],
                                 int time_unit, strata__h5_transactions *out, char *msg);
/* The same, reporting STRATA_STEP_READ to steps (may be NULL) per column. */
int strata__h5_read_transactions_steps(const char *path, const char *table,
                                       const char *const names[3], int time_unit,
                                       strata__h5_transactions *out, const strata__steps *steps,
                                       char *msg);
void strata__h5_transactions_free(strata__h5_transactions *t);

/* The same log streamed as a column source (core/colsrc.h; out-of-core
 * RFM walks it, the next block read on the walk's reader thread while the
 * current one is cleaned and spilled). open checks every column as
 * strata__h5_read_transactions() does (the same messages) and gives the row
 * count, the rows of the longest filtered (compressed) chunks of the three
 * columns that libhdf5 decompresses (0: none; such a chunk is decompressed
 * whole for every read touching it), and, where kept_bytes is not NULL
 * (readers that walk the log in parts), keeps deflated chunks beyond
 * libhdf5's cache inflated (io/h5_chunks.h: read in parts, each chunk
 * inflated once a pass) and gives what those keepers hold (0: none),
 * allocated at the first read; NULL: libhdf5 reads every chunk. The source's columns are 0 customer id (int64), 1 time
 * (int64), 2 amount (float64), converted as the whole-file reader converts
 * them; each read takes the library-wide HDF5 lock for its own duration
 * (other threads may use lib/io between), and fails with a message when the
 * file at path changed (size or modification time) since open. */
typedef struct strata__h5_log strata__h5_log;
int strata__h5_log_open(strata__h5_log **out, const char *path, const char *table,
                        const char *const names[3], int time_unit, int64_t *n,
                        int64_t *filtered_rows, int64_t *kept_bytes, char *msg);
/* The column source reading t (which must outlive it) in blocks of about
 * block_rows rows, at most n: rounded up to whole chunks of the datasets (no
 * chunk decompressed twice) where a chunk is no longer than block_rows, or
 * where filtered chunks libhdf5 decompresses (*filtered_rows of
 * strata__h5_log_open, the longest) are longer; else parts of unfiltered
 * chunks, read from the file, or of kept ones. */
void strata__h5_log_colsrc(strata__h5_log *t, int64_t block_rows, strata__colsrc *out);
void strata__h5_log_close(strata__h5_log *t);

/* What strata_rfm_write_h5() stores (see include/strata.h). */
typedef struct strata__rfm_output {
    int64_t n; /* customers */
    const int64_t *customer_id, *recency, *frequency, *first_day, *tenure;
    const double *monetary, *revenue;
    const int32_t *r, *f, *m, *code, *score, *segment;
    int64_t nseg;
    const char *const *names; /* nseg segment names */
    const int32_t *rules;     /* nseg x 8 */
    const double *profile;    /* nstats x nseg: statistic-major */
    const char *const *stat_names;
    int64_t nstats;
    int64_t q;
    const double *edges[3]; /* q + 1 each: recency, frequency, monetary */
    int64_t nattr_int;      /* root attributes */
    const char *const *attr_int_names;
    const int64_t *attr_int_values;
    int64_t nattr_str;
    const char *const *attr_str_names;
    const char *const *attr_str_values;
    const strata__file_id *inputs; /* ninputs files the write must not replace */
    int ninputs;
    int threads; /* that pack the chunks of the write (0: the OpenMP default) */
    /* strata__h5_write_rfm(): 0 builds the file in memory (the image, and its
     * copy when written: up to twice the file's size, about 80 bytes a
     * customer when the columns do not compress); 1 lets HDF5 write it onto
     * the temporary file (memory: a chunk or two, for fits under a budget;
     * the disk space of the file is reserved first) */
    int on_disk;
} strata__rfm_output;

/* Write the RFM result to a new file (temporary name, then rename; the
 * rules of strata__h5_write_kmeans()). */
int strata__h5_write_rfm(const char *path, const strata__rfm_output *o, int flags, char *msg);
/* The same content into an open file, under group ("/" or "" = the root;
 * else created): datasets group/..., attributes on the group. */
int strata__h5_out_rfm(strata__h5_out *o, const char *group, const strata__rfm_output *ro);

/* ---- Tiered-customer files (read by strata_migrate_h5()) ------------------ */

/* /customer_id and /tier (1-D numeric datasets of equal length, read as
 * int64: integer values as they are, integral floats converted, anything
 * else INT64_MIN) and the "names" attribute of /tier (strings; names NULL
 * and nnames 0 when absent). Arrays from strata__alloc. */
typedef struct strata__h5_tiering {
    int64_t n;
    int64_t *customer_id, *tier;
    char **names;
    int64_t nnames;
} strata__h5_tiering;

int strata__h5_read_tiering(const char *path, strata__h5_tiering *out, char *msg);
void strata__h5_tiering_free(strata__h5_tiering *t);

/* ---- Streamed files: datasets that grow by appended blocks (h5_stream.c) -- */

/* A new file written as it grows, with the guarantees of every write (the
 * temporary name, STRATA_WRITE_FORCE, sync and rename at the end); memory
 * holds one block and the chunk caches (two chunks a dataset). Calls take
 * the HDF5 lock each; calls on one handle must not overlap. */
typedef struct strata__h5_stream strata__h5_stream;
int strata__h5_stream_open(strata__h5_stream **s, const char *path, int flags, char *msg);
/* The file as a strata__h5_out, for attributes, strings and groups. */
strata__h5_out *strata__h5_stream_out(strata__h5_stream *s);
/* A dataset of STRATA__H5_I32/I64/F32/F64 elements, 1-D (cols 0) or n x
 * cols, empty; chunks of chunk_rows rows (0: about 1 MiB), integers
 * shuffled and gzipped. *id numbers it for append. */
int strata__h5_stream_dataset(strata__h5_stream *s, const char *name, int type, int64_t cols,
                              int64_t chunk_rows, int *id);
/* A 1-D compound dataset of nfields packed fields (types as above). */
int strata__h5_stream_table(strata__h5_stream *s, const char *name, int nfields,
                            const char *const *fields, const int *types, int64_t chunk_rows,
                            int *id);
/* What dataset id holds: type (0 for a table), cols, nfields and their
 * types, rows so far. -1 for an unknown id. */
int strata__h5_stream_info(const strata__h5_stream *s, int id, int *type, int64_t *cols,
                           int *nfields, const int **ftypes, int64_t *rows);
/* n rows: data[0] holds n x max(cols, 1) elements of a dataset, data[f] the
 * n values of field f of a table. id must be valid. */
int strata__h5_stream_append(strata__h5_stream *s, int id, const void *const *data, int64_t n);
/* n fixed-length byte strings (the longest one's length, NUL-padded): the
 * 1-D dataset `object` (attr NULL), or (n = 1) the scalar attribute attr of
 * object (NULL or "/": the root). */
int strata__h5_stream_fixed_strings(strata__h5_stream *s, const char *object, const char *attr,
                                    const char *const *strs, int64_t n);
/* Reserve disk space for `bytes` more written by a strata__h5_out_* call
 * on the stream's file (strings, attributes). */
int strata__h5_stream_reserve(strata__h5_stream *s, int64_t bytes);
/* rc == STRATA_OK: close, sync and rename into place; else discard. Frees s
 * (NULL allowed). Returns the final status. */
int strata__h5_stream_finish(strata__h5_stream *s, int rc);

/* ---- What a file holds (strata info) ------------------------------------ */

/* The table `table` (a group of 1-D columns, a compound dataset or a pandas
 * frame) as the frame reader would read it with every numeric column (the
 * same plan; no data read): the feature names comma-separated into *columns
 * and pandas' datetime64 columns (no features; a log's times; the index too,
 * where named) into *dates (both strata__alloc), the layout into *layout (1
 * group, 2 compound, 3 pandas fixed format), the key's name into key and a
 * pandas frame's index name into index (cap bytes each; "" none). An error
 * where the reader would refuse the table, its key included. Call with the
 * HDF5 lock held (io/h5_lock.h). */
int strata__h5_table_plan(const char *path, const char *table, char **columns, char **dates,
                          int *layout, char *key, char *index, size_t cap, char *msg);

/* One object of a file (strata_h5_catalog_*, include/strata.h). */
typedef struct strata__h5_object {
    char *path;     /* "/" for the root */
    int kind;       /* strata_h5_kind */
    char *type;     /* element type ("float64", "compound{a:int64,b:float64}"); "" for groups */
    int rank;       /* -1: no simple dataspace (groups; null dataspaces) */
    int64_t dims[32];
    int chunk_rank; /* 0: not chunked */
    int64_t chunk[32];
    char *filters;  /* "gzip(4),shuffle"; "" none */
    int undecodable; /* a filter this HDF5 library cannot decode (H5Zfilter_avail), or a
                        virtual dataset (which the readers refuse) */
    const char *layout; /* strata_h5_catalog_layout(): a static string */
    int64_t stored;  /* bytes of the file holding its values (H5Dget_storage_size); -1 groups */
    int64_t values;  /* bytes of its values (points x element size); -1 groups */
    int use;        /* strata_h5_use */
    char *columns;  /* TABLE: the numeric columns, comma-separated; else "" */
    char *key;      /* TABLE: the row key's name, "" none */
    char *dates;    /* TABLE: pandas' datetime64 columns, comma-separated; else "" */
    char *index;    /* TABLE: a pandas frame's index name; else "" */
    int64_t nattrs;
    char **attr_names, **attr_values;
} strata__h5_object;

typedef struct strata__h5_catalog {
    int64_t n, cap;
    strata__h5_object *obj;
    int truncated; /* more objects than STRATA__H5_CATALOG_MAX (then not all listed) */
} strata__h5_catalog;

#define STRATA__H5_CATALOG_MAX 100000

/* List every object of the file at path (depth first, by name) into *out. */
int strata__h5_catalog_read(const char *path, strata__h5_catalog *out, char *msg);
void strata__h5_catalog_free(strata__h5_catalog *c);

#endif
