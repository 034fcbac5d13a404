/* Parquet files for flat tables: writer (and, in the same header, the reader).
 *
 * Writer: dm_pq_writer_open() creates "<path>.tmp-<pid>-<n>" next to the output; each
 * dm_pq_writer_write() appends a dm_batch (columns in schema order, types matching the
 * schema's physical types); row groups are cut every `row_group_rows` rows and their column
 * chunks encoded in parallel on the pool; dm_pq_writer_close() writes the footer, fsyncs and
 * renames into place. On any error, or dm_pq_writer_abort(), the temporary file is removed
 * and nothing is left under the output name. The writer copies what it needs from each
 * batch; the caller keeps ownership of batches and schema strings (copied at open). */
#ifndef DM_PARQUET_H
#define DM_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "dm_batch.h"
#include "dm_error.h"

struct dm_pool;

/* Parquet physical types (Type enum values). */
enum dm_pq_type {
    DM_PQ_BOOLEAN = 0,
    DM_PQ_INT32 = 1,
    DM_PQ_INT64 = 2,
    DM_PQ_INT96 = 3,
    DM_PQ_FLOAT = 4,
    DM_PQ_DOUBLE = 5,
    DM_PQ_BYTE_ARRAY = 6,
    DM_PQ_FIXED_LEN_BYTE_ARRAY = 7
};

/* Logical annotations we write (and read). */
enum dm_pq_logical {
    DM_PQ_LOG_NONE = 0,
    DM_PQ_LOG_STRING,
    DM_PQ_LOG_TIMESTAMP, /* with ts_unit and ts_utc */
    DM_PQ_LOG_INTEGER,   /* with int_bits and int_signed */
    DM_PQ_LOG_OTHER      /* reader only: an annotation we do not interpret */
};

enum dm_pq_time_unit { DM_PQ_MILLIS = 0, DM_PQ_MICROS = 1, DM_PQ_NANOS = 2 };

enum dm_pq_codec {
    DM_PQ_UNCOMPRESSED = 0,
    DM_PQ_SNAPPY = 1,
    DM_PQ_GZIP = 2,
    DM_PQ_LZO = 3,
    DM_PQ_BROTLI = 4,
    DM_PQ_LZ4 = 5,
    DM_PQ_ZSTD = 6,
    DM_PQ_LZ4_RAW = 7
};

struct dm_pq_column_spec {
    const char *name;
    enum dm_pq_type type; /* BOOLEAN, INT32, INT64, DOUBLE or BYTE_ARRAY for the writer */
    int optional;         /* 1 = OPTIONAL, 0 = REQUIRED */
    enum dm_pq_logical logical;
    enum dm_pq_time_unit ts_unit; /* TIMESTAMP */
    int ts_utc;                   /* TIMESTAMP: isAdjustedToUTC */
    int int_bits;                 /* INTEGER: 8, 16, 32, 64 */
    int int_signed;               /* INTEGER */
};

struct dm_pq_kv {
    const char *key;
    const char *value;
};

struct dm_pq_writer_opts {
    enum dm_pq_codec codec; /* default ZSTD (when the struct is zeroed: UNCOMPRESSED; use
                               dm_pq_writer_opts_default) */
    int level;              /* codec level, 0 = codec default */
    size_t row_group_rows;  /* default 1,048,576 */
    size_t page_bytes;      /* target uncompressed data page size, default 1 MiB */
    size_t dict_max_bytes;  /* dictionary page limit per chunk before falling back to PLAIN,
                               default 1 MiB */
    int dictionary;         /* 1 = try dictionary encoding (default) */
    struct dm_pool *pool;   /* encode column chunks in parallel; NULL = calling thread */
    const struct dm_pq_kv *kv; /* key-value metadata, copied */
    size_t nkv;
};

struct dm_pq_writer;

/* Fills o with the defaults described above (ZSTD level 3, dictionary on). */
void dm_pq_writer_opts_default(struct dm_pq_writer_opts *o);

/* Opens a writer for path with ncols columns. Returns 0 or a negative code (err names the
 * file and the problem). On success *out must be closed or aborted. */
int dm_pq_writer_open(struct dm_pq_writer **out, const char *path,
                      const struct dm_pq_column_spec *cols, size_t ncols,
                      const struct dm_pq_writer_opts *opts, struct dm_error *err);

/* Appends the rows of b (its column i matches schema column i: DM_BOOL↔BOOLEAN,
 * DM_I32↔INT32, DM_I64↔INT64, DM_F64↔DOUBLE, DM_STR↔BYTE_ARRAY). A null in a REQUIRED
 * column is an error (-EINVAL). */
int dm_pq_writer_write(struct dm_pq_writer *w, const struct dm_batch *b, struct dm_error *err);

/* Adds or replaces a key-value metadata entry before close (copied). */
int dm_pq_writer_set_kv(struct dm_pq_writer *w, const char *key, const char *value);

/* Flushes the last row group, writes the footer, fsyncs, renames into place and frees w.
 * On failure the temporary file is removed and w is freed too. */
int dm_pq_writer_close(struct dm_pq_writer *w, struct dm_error *err);

/* Discards everything written (removes the temporary file) and frees w. NULL-safe. */
void dm_pq_writer_abort(struct dm_pq_writer *w);

/* Rows written so far. */
uint64_t dm_pq_writer_rows(const struct dm_pq_writer *w);

#endif
