/* A columnar batch: the shape every input reader produces and the Parquet writer consumes
 * (and the Parquet reader hands out per column chunk).
 *
 * A batch is a struct of arrays with `nrows` rows and `ncols` columns, all owned by the
 * batch (dm_batch_release frees them). Readers fill it with dm_batch_append_* and reuse it
 * with dm_batch_clear (keeps capacity). Strings are (offsets, bytes): row i is
 * bytes[off[i] .. off[i+1]); off has nrows + 1 entries. `valid` is NULL while every row is
 * non-null, else one byte per row (1 = present); a null row still has a slot in the
 * value array (zero) and an empty string range. Booleans are one byte per row (0/1).
 * Sizes are capped (DM_BATCH_MAX_BYTES of string data per column) so that hostile input
 * cannot grow a batch without bound. */
#ifndef DM_BATCH_H
#define DM_BATCH_H

#include <stddef.h>
#include <stdint.h>

/* Physical value kinds (values match Parquet's physical Type enum). */
enum dm_vtype {
    DM_BOOL = 0,
    DM_I32 = 1,
    DM_I64 = 2,
    DM_F64 = 5,
    DM_STR = 6 /* BYTE_ARRAY */
};

#define DM_BATCH_MAX_BYTES ((size_t)1 << 31) /* string bytes per column per batch */

struct dm_col {
    enum dm_vtype type;
    uint8_t *valid; /* NULL = all rows valid */
    union {
        uint8_t *b;
        int32_t *i32;
        int64_t *i64;
        double *f64;
    } v;            /* unused for DM_STR */
    uint64_t *off;  /* DM_STR: nrows + 1 offsets into bytes */
    char *bytes;    /* DM_STR data */
    size_t nbytes;  /* DM_STR: bytes used */
    size_t bytes_cap;
    uint8_t pending; /* set while the row being built has a value in this column */
};

struct dm_batch {
    size_t nrows;
    size_t cap; /* rows allocated per column */
    size_t ncols;
    struct dm_col *cols;
};

/* Sets up ncols columns of the given types with room for cap rows; 0 or -ENOMEM. */
int dm_batch_init(struct dm_batch *b, const enum dm_vtype *types, size_t ncols, size_t cap);
void dm_batch_release(struct dm_batch *b);
/* Empties the batch, keeping its memory. */
void dm_batch_clear(struct dm_batch *b);
/* Ensures room for `rows` more rows; 0 or -ENOMEM. */
int dm_batch_reserve(struct dm_batch *b, size_t rows);

/* Row-at-a-time building: set every column of row `nrows`, then dm_batch_commit_row().
 * The setters write into row b->nrows (reserve first). Strings are copied. */
/* 0 or -ENOMEM (first null of a column allocates its validity array). */
int dm_batch_set_null(struct dm_batch *b, size_t col);
void dm_batch_set_i32(struct dm_batch *b, size_t col, int32_t v);
void dm_batch_set_i64(struct dm_batch *b, size_t col, int64_t v);
void dm_batch_set_f64(struct dm_batch *b, size_t col, double v);
void dm_batch_set_bool(struct dm_batch *b, size_t col, int v);
/* 0, -ENOMEM or DM_ETOOBIG. */
int dm_batch_set_str(struct dm_batch *b, size_t col, const char *s, size_t n);
/* Completes the row: columns not set become null. 0 or -ENOMEM (row not committed). */
int dm_batch_commit_row(struct dm_batch *b);
/* Drops a partly built row (all columns reset to the committed state). */
void dm_batch_abort_row(struct dm_batch *b);

/* Inline accessors. */
static inline int dm_col_is_null(const struct dm_col *c, size_t row)
{
    return c->valid && !c->valid[row];
}

static inline const char *dm_col_str(const struct dm_col *c, size_t row, size_t *len)
{
    *len = (size_t)(c->off[row + 1] - c->off[row]);
    return c->bytes ? c->bytes + c->off[row] : ""; /* no bytes yet: every string is empty */
}

#endif
