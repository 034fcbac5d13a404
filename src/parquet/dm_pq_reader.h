/* Parquet reader for flat tables.
 *
 * dm_pq_reader_open() maps the file read-only, validates the footer (every offset and length
 * checked against the file, Thrift sizes capped) and decodes the metadata once. After open
 * the reader is immutable: reads of different column chunks (or the same one) may run on
 * several threads at once; each read allocates its own buffers.
 *
 * Refused with DM_EUNSUPPORTED and a message naming the file (and column): nested schemas
 * (groups, REPEATED leaves), encrypted files ("PARE" magic or encryption metadata), codecs
 * LZO / BROTLI, unknown encodings. Malformed input is DM_ECORRUPT, never a crash or an
 * over-read. Error messages name the file, row group, column and what is wrong.
 *
 * Values are converted to one representation per physical type (dm_pq_leaf.vtype):
 *   BOOLEAN → DM_BOOL, INT32 → DM_I32, INT64 → DM_I64, FLOAT / DOUBLE → DM_F64,
 *   BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY → DM_STR,
 *   INT96 → DM_I64 holding nanoseconds since 1970-01-01 UTC (Julian day − 2440588) × 86400e9
 *   + nanoseconds of day (wraps like Arrow for dates outside ±292 years).
 * Integers keep their physical bit pattern: an INT32 annotated UINT_32 holds the unsigned
 * value's bits (check leaf.int_signed); INT64 likewise.
 *
 * Ownership: the metadata (dm_pq_meta and every string in it) belongs to the reader and
 * lives until dm_pq_reader_free(). A dm_pq_chunk is caller storage filled by a read and
 * freed with dm_pq_chunk_release(). */
#ifndef DM_PQ_READER_H
#define DM_PQ_READER_H

#include <stddef.h>
#include <stdint.h>

#include "dm_batch.h"
#include "dm_error.h"
#include "dm_parquet.h"

/* Parquet Encoding enum values (bit positions in dm_pq_chunk_meta.encodings). */
enum dm_pq_encoding {
    DM_PQ_ENC_PLAIN = 0,
    DM_PQ_ENC_PLAIN_DICTIONARY = 2,
    DM_PQ_ENC_RLE = 3,
    DM_PQ_ENC_BIT_PACKED = 4,
    DM_PQ_ENC_DELTA_BINARY_PACKED = 5,
    DM_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    DM_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    DM_PQ_ENC_RLE_DICTIONARY = 8,
    DM_PQ_ENC_BYTE_STREAM_SPLIT = 9
};

/* One leaf column of the (flat) schema. */
struct dm_pq_leaf {
    const char *name;
    enum dm_pq_type type;    /* physical type */
    int optional;            /* 1 = OPTIONAL, 0 = REQUIRED */
    int type_length;         /* FIXED_LEN_BYTE_ARRAY width, else 0 */
    enum dm_pq_logical logical; /* from LogicalType, else from ConvertedType */
    enum dm_pq_time_unit ts_unit; /* TIMESTAMP */
    int ts_utc;                   /* TIMESTAMP: isAdjustedToUTC */
    int int_bits;                 /* INTEGER: 8, 16, 32, 64 */
    int int_signed;               /* INTEGER: 1 signed; non-INTEGER ints: 1 */
    int converted_type;           /* raw ConvertedType, -1 when absent */
    int logical_id;               /* raw LogicalType union member id, 0 when absent */
    int scale, precision;         /* DECIMAL, else 0 */
    enum dm_vtype vtype;          /* representation a read produces (see above) */
};

/* Column chunk statistics, decoded for the column's physical type. */
struct dm_pq_stats {
    int has_null_count;          /* absent null_count means unknown, not 0 */
    int64_t null_count;
    int has_distinct_count;
    int64_t distinct_count;
    int has_min_max;             /* min/max present and well formed */
    int min_max_trusted;         /* has_min_max and usable for pruning (parquet.md §4 rules) */
    int min_exact, max_exact;    /* is_{min,max}_value_exact (1 when absent) */
    /* Decoded per physical type: BOOLEAN/INT32/INT64 in i (INT32 sign- or zero-extended
     * according to the column's signedness; UINT_64 as the bit pattern), FLOAT/DOUBLE in f,
     * BYTE_ARRAY/FLBA in s/slen (points into reader-owned memory). INT96 stats are ignored. */
    int64_t min_i, max_i;
    double min_f, max_f;
    const uint8_t *min_s, *max_s;
    size_t min_slen, max_slen;
};

struct dm_pq_chunk_meta {
    enum dm_pq_codec codec;
    uint32_t encodings;          /* bit (1u << dm_pq_encoding) per listed encoding */
    int64_t num_values;          /* including nulls */
    int64_t total_compressed_size, total_uncompressed_size; /* page headers included */
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* 0 = absent */
    int has_stats;
    struct dm_pq_stats stats;
};

struct dm_pq_row_group {
    int64_t num_rows;
    int64_t total_byte_size;
    struct dm_pq_chunk_meta *cols; /* one per leaf, schema order */
};

struct dm_pq_kv_entry {
    const char *key;
    const char *value; /* NULL when the entry has no value */
};

struct dm_pq_meta {
    int version;
    int64_t num_rows;
    size_t ncols;
    struct dm_pq_leaf *cols;
    size_t nrow_groups;
    struct dm_pq_row_group *row_groups;
    size_t nkv;
    struct dm_pq_kv_entry *kv;
    const char *created_by; /* "" when absent */
    const char *path;       /* the name given at open */
};

struct dm_pq_reader;

/* Opens and validates path. Returns 0, -errno (open/stat/mmap), DM_ECORRUPT,
 * DM_EUNSUPPORTED, DM_ETOOBIG or -ENOMEM; err names the file. *out is freed with
 * dm_pq_reader_free(). */
int dm_pq_reader_open(struct dm_pq_reader **out, const char *path, struct dm_error *err);

/* Same over bytes in memory (borrowed: they must outlive the reader); name is used in
 * messages. For tests and fuzzing. */
int dm_pq_reader_open_mem(struct dm_pq_reader **out, const void *data, size_t len,
                          const char *name, struct dm_error *err);

/* Unmaps and frees (NULL-safe). No read may be running. */
void dm_pq_reader_free(struct dm_pq_reader *r);

/* The decoded metadata, owned by r. */
const struct dm_pq_meta *dm_pq_reader_meta(const struct dm_pq_reader *r);

/* Index of the leaf named name, or -1. */
int dm_pq_reader_column(const struct dm_pq_reader *r, const char *name);

/* Resolves n column names to leaf indexes (idx[n]). Returns 0 or -ENOENT with err naming
 * the file and the missing column. */
int dm_pq_reader_project(const struct dm_pq_reader *r, const char *const *names, size_t n,
                         size_t *idx, struct dm_error *err);

/* Row-group pruning on trusted min/max statistics. Each returns 1 when row group rg may
 * contain a value of column col in [lo, hi] (inclusive), 0 when the statistics prove it
 * does not. Without trusted statistics (or for a type that does not match) the answer is 1.
 * _i64: BOOLEAN/INT32/INT64 columns, compared signed, or unsigned for UINT columns (lo/hi
 * then carry unsigned bit patterns). _f64: FLOAT/DOUBLE. _str: BYTE_ARRAY/FLBA, byte-wise
 * unsigned order. A row group whose values are all null (null_count == num_rows) never
 * contains a value. */
int dm_pq_rg_may_contain_i64(const struct dm_pq_reader *r, size_t rg, size_t col, int64_t lo,
                             int64_t hi);
int dm_pq_rg_may_contain_f64(const struct dm_pq_reader *r, size_t rg, size_t col, double lo,
                             double hi);
int dm_pq_rg_may_contain_str(const struct dm_pq_reader *r, size_t rg, size_t col,
                             const void *lo, size_t lo_len, const void *hi, size_t hi_len);

/* A column chunk read into memory.
 * Plain mode (is_dict == 0): `values` holds nrows values (values.valid NULL = no nulls).
 * Dictionary mode (is_dict == 1, only with DM_PQ_READ_DICT and when every data page of the
 * chunk is dictionary-encoded): `dict` holds ndict distinct entries (no nulls, dict.valid
 * NULL), idx[i] < ndict is row i's entry (0 for a null row), `valid` is NULL when every row
 * is present, else one byte per row (1 = present). `values` is then empty. */
struct dm_pq_chunk {
    size_t nrows;
    int is_dict;
    struct dm_col values;
    struct dm_col dict;
    size_t ndict;
    uint32_t *idx;
    uint8_t *valid;
};

enum {
    DM_PQ_READ_DICT = 1 /* hand out the dictionary and indexes when possible */
};

/* Reads column chunk (rg, col) into out (caller storage, overwritten; release it with
 * dm_pq_chunk_release even on failure). flags: 0 or DM_PQ_READ_DICT. Returns 0,
 * DM_ECORRUPT, DM_EUNSUPPORTED, DM_ETOOBIG or -ENOMEM; err names the file, row group,
 * column and the problem. Thread-safe on one reader. */
int dm_pq_read_chunk(const struct dm_pq_reader *r, size_t rg, size_t col, unsigned flags,
                     struct dm_pq_chunk *out, struct dm_error *err);

/* Frees what a read put in c and zeroes it (NULL-safe). */
void dm_pq_chunk_release(struct dm_pq_chunk *c);

/* Frees the arrays of a standalone dm_col (not the struct) and zeroes it. */
void dm_pq_col_release(struct dm_col *c);

/* Names for printing: "BOOLEAN", "INT32", ... / "PLAIN", "RLE_DICTIONARY", ... /
 * "none", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"; "unknown" otherwise. */
const char *dm_pq_type_name(int type);
const char *dm_pq_encoding_name(int enc);
const char *dm_pq_codec_label(int codec);

/* Converts an INT96 timestamp (12 bytes: LE nanos of day, LE Julian day) to nanoseconds
 * since the Unix epoch. */
int64_t dm_pq_int96_to_ns(const uint8_t b[12]);

#endif
