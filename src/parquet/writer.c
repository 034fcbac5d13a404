/* The Parquet writer: batches are copied into per-column row-group buffers (non-null values
 * packed, one definition byte per row for OPTIONAL columns); when a row group is full its
 * column chunks are encoded in parallel on the pool (statistics, dictionary or PLAIN, data
 * pages v1, compression) and written in schema order; close writes the footer.
 *
 * Memory: the row-group buffers (reused) plus the encoded chunks of one row group. */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_codec.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "pq_write_int.h"
#include "dm_build_id.h"
#include "banned.h"

#define DEFAULT_RG_ROWS ((size_t)1 << 20)
#define DEFAULT_PAGE_BYTES ((size_t)1 << 20)
#define DEFAULT_DICT_BYTES ((size_t)1 << 20)
/* A row group is also cut when its buffered values pass this many bytes (long strings). */
#define RG_MAX_BYTES ((size_t)256 << 20)
/* min/max statistics longer than this are left out (as parquet-mr does). */
#define STATS_MAX_BYTES 4096
/* Hard caps. */
#define MAX_COLUMNS 32768
#define MAX_PAGE_BYTES ((size_t)1 << 30)

/* Parquet enum values used here. */
enum {
    ENC_PLAIN = 0,
    ENC_RLE = 3,
    ENC_RLE_DICTIONARY = 8,
    PAGE_DATA = 0,
    PAGE_DICTIONARY = 2,
    CT_UTF8 = 0,
    CT_TIMESTAMP_MILLIS = 9,
    CT_TIMESTAMP_MICROS = 10,
    CT_UINT_8 = 11,
    CT_INT_8 = 15,
};

struct stats {
    int has_minmax;
    int legacy; /* also write the deprecated signed min/max */
    uint8_t fmin[8], fmax[8];
    uint8_t *bmin, *bmax; /* BYTE_ARRAY: owned copies */
    size_t min_len, max_len;
    int64_t null_count;
};

/* Footer information of one column chunk. */
struct chunk_meta {
    int64_t num_values;
    int64_t uncompressed; /* including page headers */
    int64_t compressed;
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1 = no dictionary */
    int32_t ndata_pages;
    int data_encoding; /* ENC_PLAIN or ENC_RLE_DICTIONARY */
    struct stats st;
};

struct rg_meta {
    int64_t num_rows;
    int64_t file_offset;
    int64_t total_uncompressed;
    int64_t total_compressed;
    struct chunk_meta *cols;
};

/* A column: its spec and the current row group's values. */
struct wcol {
    struct dm_pq_column_spec spec; /* name owned */
    size_t width;                  /* bytes per fixed-width value; 0 for BYTE_ARRAY */
    int unsigned_order;            /* min/max compared unsigned */
    uint8_t *def;                  /* OPTIONAL: one 0/1 byte per row */
    size_t def_cap;
    uint8_t *vals; /* non-null fixed-width values, packed */
    size_t vals_cap; /* in values */
    uint64_t *off;   /* BYTE_ARRAY: nv + 1 offsets into bytes */
    size_t off_cap;
    char *bytes;
    size_t bytes_len, bytes_cap;
    size_t nv; /* non-null values in the row group */
    /* Encoding scratch, kept across row groups (one set per column so that chunks encode
     * in parallel without sharing). */
    uint32_t *idx; /* dictionary index per value */
    size_t idx_cap;
    struct dm__dict_fixed df;
    struct dm__dict_bytes db;
    struct dm__wbuf body, cbuf, hdr; /* page body, compressed body, page header */
    struct dm_codec_cctx *cctx;
    /* Row groups since the dictionary last overflowed its limit (0 = never did). After an
     * overflow the next row groups skip the attempt (hashing ~limit values for nothing),
     * retrying every DICT_RETRY row groups in case the data changed. */
    unsigned dict_overflow_age;
};

#define DICT_RETRY 8
#define DICT_SAMPLE 8192

/* Result of encoding one column chunk. */
struct enc_result {
    struct dm__wbuf data;
    struct chunk_meta meta; /* offsets relative to data */
    struct dm_error err;
    int rc;
};

struct dm_pq_writer {
    int fd;
    char *path, *tmp;
    struct wcol *cols;
    size_t ncols;
    struct dm_pq_writer_opts opts;
    struct dm_pq_kv *kv; /* owned strings */
    size_t nkv;
    size_t rg_rows;  /* rows buffered */
    size_t rg_bytes; /* value bytes buffered */
    uint64_t rows;   /* rows written, including buffered */
    int64_t pos;     /* file position */
    struct rg_meta *rgs;
    size_t nrgs, rgs_cap;
    struct enc_result *results;
    size_t *order; /* encode order of the columns (largest first) */
    int failed; /* sticky error code */
};

void dm_pq_writer_opts_default(struct dm_pq_writer_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->codec = DM_PQ_ZSTD;
    o->level = 3;
    o->row_group_rows = DEFAULT_RG_ROWS;
    o->page_bytes = DEFAULT_PAGE_BYTES;
    o->dict_max_bytes = DEFAULT_DICT_BYTES;
    o->dictionary = 1;
}

uint64_t dm_pq_writer_rows(const struct dm_pq_writer *w)
{
    return w ? w->rows : 0;
}

/* ---------------------------------------------------------------- file I/O */

static int write_all(struct dm_pq_writer *w, const void *p, size_t n, struct dm_error *err)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t r = write(w->fd, b, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            return dm_error_set(err, -e, "'%s': write failed: %s", w->tmp, dm_strerror(-e));
        }
        b += r;
        n -= (size_t)r;
        w->pos += r;
    }
    return 0;
}

/* ---------------------------------------------------------------- column validation */

static int is_unsigned_order(const struct dm_pq_column_spec *c)
{
    return c->type == DM_PQ_BOOLEAN || c->type == DM_PQ_BYTE_ARRAY ||
           (c->logical == DM_PQ_LOG_INTEGER && !c->int_signed);
}

static int check_spec(const struct dm_pq_column_spec *c, size_t i, struct dm_error *err)
{
    if (!c->name || !c->name[0])
        return dm_error_set(err, -EINVAL, "column %zu has no name", i);
    switch (c->type) {
    case DM_PQ_BOOLEAN:
    case DM_PQ_INT32:
    case DM_PQ_INT64:
    case DM_PQ_DOUBLE:
    case DM_PQ_BYTE_ARRAY: break;
    default:
        return dm_error_set(err, -EINVAL, "column '%s': physical type %d cannot be written",
                            c->name, (int)c->type);
    }
    switch (c->logical) {
    case DM_PQ_LOG_NONE: break;
    case DM_PQ_LOG_STRING:
        if (c->type != DM_PQ_BYTE_ARRAY)
            return dm_error_set(err, -EINVAL, "column '%s': STRING needs BYTE_ARRAY", c->name);
        break;
    case DM_PQ_LOG_TIMESTAMP:
        if (c->type != DM_PQ_INT64)
            return dm_error_set(err, -EINVAL, "column '%s': TIMESTAMP needs INT64", c->name);
        if (c->ts_unit != DM_PQ_MILLIS && c->ts_unit != DM_PQ_MICROS && c->ts_unit != DM_PQ_NANOS)
            return dm_error_set(err, -EINVAL, "column '%s': bad timestamp unit", c->name);
        break;
    case DM_PQ_LOG_INTEGER:
        if (c->int_bits != 8 && c->int_bits != 16 && c->int_bits != 32 && c->int_bits != 64)
            return dm_error_set(err, -EINVAL, "column '%s': INTEGER bit width %d not 8/16/32/64",
                                c->name, c->int_bits);
        if ((c->int_bits == 64) != (c->type == DM_PQ_INT64) ||
            (c->type != DM_PQ_INT32 && c->type != DM_PQ_INT64))
            return dm_error_set(err, -EINVAL, "column '%s': INTEGER(%d) needs %s", c->name,
                                c->int_bits, c->int_bits == 64 ? "INT64" : "INT32");
        break;
    default:
        return dm_error_set(err, -EINVAL, "column '%s': logical type %d cannot be written",
                            c->name, (int)c->logical);
    }
    return 0;
}

/* ---------------------------------------------------------------- open */

static void writer_free(struct dm_pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *c = &w->cols[i];
        dm_free((char *)c->spec.name);
        dm_free(c->def);
        dm_free(c->vals);
        dm_free(c->off);
        dm_free(c->bytes);
        dm_free(c->idx);
        dm__dict_fixed_release(&c->df);
        dm__dict_bytes_release(&c->db);
        dm__wbuf_release(&c->body);
        dm__wbuf_release(&c->cbuf);
        dm__wbuf_release(&c->hdr);
        dm_codec_cctx_free(c->cctx);
    }
    dm_free(w->cols);
    for (size_t i = 0; i < w->nkv; i++) {
        dm_free((char *)w->kv[i].key);
        dm_free((char *)w->kv[i].value);
    }
    dm_free(w->kv);
    for (size_t r = 0; r < w->nrgs; r++) {
        for (size_t i = 0; i < w->ncols; i++) {
            dm_free(w->rgs[r].cols[i].st.bmin);
            dm_free(w->rgs[r].cols[i].st.bmax);
        }
        dm_free(w->rgs[r].cols);
    }
    dm_free(w->rgs);
    if (w->results) {
        for (size_t i = 0; i < w->ncols; i++) {
            dm__wbuf_release(&w->results[i].data);
            dm_free(w->results[i].meta.st.bmin);
            dm_free(w->results[i].meta.st.bmax);
        }
        dm_free(w->results);
    }
    dm_free(w->order);
    dm_free(w->path);
    dm_free(w->tmp);
    dm_free(w);
}

void dm_pq_writer_abort(struct dm_pq_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    writer_free(w);
}

int dm_pq_writer_set_kv(struct dm_pq_writer *w, const char *key, const char *value)
{
    if (!w || !key)
        return -EINVAL;
    char *v = value ? dm_strdup(value) : NULL;
    if (value && !v)
        return -ENOMEM;
    for (size_t i = 0; i < w->nkv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            dm_free((char *)w->kv[i].value);
            w->kv[i].value = v;
            return 0;
        }
    }
    char *k = dm_strdup(key);
    struct dm_pq_kv *kv = k ? dm_reallocarray(w->kv, w->nkv + 1, sizeof(*kv)) : NULL;
    if (!kv) {
        dm_free(k);
        dm_free(v);
        return -ENOMEM;
    }
    w->kv = kv;
    kv[w->nkv].key = k;
    kv[w->nkv].value = v;
    w->nkv++;
    return 0;
}

int dm_pq_writer_open(struct dm_pq_writer **out, const char *path,
                      const struct dm_pq_column_spec *cols, size_t ncols,
                      const struct dm_pq_writer_opts *opts, struct dm_error *err)
{
    static atomic_uint counter;
    *out = NULL;
    if (!path || !path[0])
        return dm_error_set(err, -EINVAL, "no output path");
    if (ncols == 0 || ncols > MAX_COLUMNS)
        return dm_error_set(err, -EINVAL, "'%s': %zu columns (need 1..%d)", path, ncols,
                            MAX_COLUMNS);
    for (size_t i = 0; i < ncols; i++) {
        int rc = check_spec(&cols[i], i, err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[i].name, cols[j].name) == 0)
                return dm_error_set(err, -EINVAL, "duplicate column name '%s'", cols[i].name);
    }
    struct dm_pq_writer_opts o;
    if (opts)
        o = *opts;
    else
        dm_pq_writer_opts_default(&o);
    if (!dm_codec_supported((enum dm_codec)o.codec))
        return dm_error_set(err, -EINVAL, "codec '%s' is not supported",
                            dm_codec_name((enum dm_codec)o.codec));
    if (!o.row_group_rows)
        o.row_group_rows = DEFAULT_RG_ROWS;
    if (o.row_group_rows > (size_t)INT32_MAX)
        o.row_group_rows = (size_t)INT32_MAX;
    if (!o.page_bytes)
        o.page_bytes = DEFAULT_PAGE_BYTES;
    if (o.page_bytes > MAX_PAGE_BYTES)
        o.page_bytes = MAX_PAGE_BYTES;
    if (!o.dict_max_bytes)
        o.dict_max_bytes = DEFAULT_DICT_BYTES;
    if (o.dict_max_bytes > MAX_PAGE_BYTES)
        o.dict_max_bytes = MAX_PAGE_BYTES;

    struct dm_pq_writer *w = dm_calloc(1, sizeof(*w));
    if (!w)
        return dm_error_set(err, -ENOMEM, "'%s': out of memory", path);
    w->fd = -1;
    w->opts = o;
    w->opts.kv = NULL;
    w->opts.nkv = 0;
    w->cols = dm_calloc(ncols, sizeof(*w->cols));
    w->results = dm_calloc(ncols, sizeof(*w->results));
    w->order = dm_calloc(ncols, sizeof(*w->order));
    w->path = dm_strdup(path);
    size_t tlen = strlen(path) + 64;
    w->tmp = dm_malloc(tlen);
    if (!w->cols || !w->results || !w->order || !w->path || !w->tmp)
        goto nomem;
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        struct wcol *c = &w->cols[i];
        c->spec = cols[i];
        c->spec.name = dm_strdup(cols[i].name);
        if (!c->spec.name)
            goto nomem;
        c->width = cols[i].type == DM_PQ_BOOLEAN ? 1
                   : cols[i].type == DM_PQ_INT32 ? 4
                   : cols[i].type == DM_PQ_BYTE_ARRAY ? 0
                                                      : 8;
        c->unsigned_order = is_unsigned_order(&cols[i]);
        dm__dict_fixed_init(&c->df);
        dm__dict_bytes_init(&c->db);
    }
    for (size_t i = 0; i < (opts ? opts->nkv : 0); i++)
        if (opts->kv[i].key && dm_pq_writer_set_kv(w, opts->kv[i].key, opts->kv[i].value))
            goto nomem;
    snprintf(w->tmp, tlen, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        dm_error_set(err, -e, "'%s': cannot create: %s", w->tmp, dm_strerror(-e));
        writer_free(w);
        return -e;
    }
    int rc = write_all(w, "PAR1", 4, err);
    if (rc) {
        dm_pq_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
nomem:
    writer_free(w);
    return dm_error_set(err, -ENOMEM, "'%s': out of memory", path);
}

/* ---------------------------------------------------------------- buffering batches */

/* Grows *p to hold need elements. The first growth jumps to `hint` elements (a row group's
 * worth, capped) so a row group is not built through a chain of reallocs and copies. */
static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t hint)
{
    if (need <= *cap)
        return 0;
    if (hint > ((size_t)1 << 21))
        hint = (size_t)1 << 21;
    size_t c = *cap ? *cap : hint > 1024 ? hint : 1024;
    while (c < need)
        c *= 2;
    void *q = dm_reallocarray(*p, c, elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* Checks rows [start, start+n) of batch column bc against column c: no nulls in REQUIRED
 * columns, values in range of narrow INTEGER annotations. */
static int check_values(const struct wcol *c, const struct dm_col *bc, size_t start, size_t n,
                        struct dm_error *err)
{
    if (!c->spec.optional && bc->valid) {
        for (size_t i = 0; i < n; i++)
            if (!bc->valid[start + i])
                return dm_error_set(err, -EINVAL, "null in required column '%s'", c->spec.name);
    }
    if (c->spec.logical == DM_PQ_LOG_INTEGER && c->spec.int_bits < 32) {
        int64_t lo = c->spec.int_signed ? -((int64_t)1 << (c->spec.int_bits - 1)) : 0;
        int64_t hi = c->spec.int_signed ? ((int64_t)1 << (c->spec.int_bits - 1)) - 1
                                        : ((int64_t)1 << c->spec.int_bits) - 1;
        const int32_t *v = bc->v.i32 + start;
        int32_t mn = INT32_MAX, mx = INT32_MIN;
        for (size_t i = 0; i < n; i++) {
            int32_t x = (bc->valid && !bc->valid[start + i]) ? (int32_t)lo : v[i];
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        if (n && (mn < lo || mx > hi))
            return dm_error_set(err, -EINVAL, "column '%s': value %d out of range %lld..%lld",
                                c->spec.name, mn < lo ? mn : mx, (long long)lo, (long long)hi);
    }
    return 0;
}

/* Appends rows [start, start+n) of bc to c (w->rg_rows rows already there). */
static int append_col(struct dm_pq_writer *w, struct wcol *c, const struct dm_col *bc,
                      size_t start, size_t n)
{
    size_t row0 = w->rg_rows;
    size_t hint = w->opts.row_group_rows;
    const uint8_t *valid = bc->valid ? bc->valid + start : NULL;
    if (c->spec.optional) {
        if (grow((void **)&c->def, &c->def_cap, row0 + n, 1, hint))
            return -ENOMEM;
        uint8_t *d = c->def + row0;
        if (valid)
            for (size_t i = 0; i < n; i++)
                d[i] = valid[i] != 0;
        else
            memset(d, 1, n);
    }
    if (c->width) {
        if (grow((void **)&c->vals, &c->vals_cap, c->nv + n, c->width, hint))
            return -ENOMEM;
        const uint8_t *src = c->spec.type == DM_PQ_BOOLEAN ? bc->v.b + start
                                                           : bc->v.b + start * c->width;
        uint8_t *dst = c->vals + c->nv * c->width;
        size_t k = 0;
        if (!valid) {
            memcpy(dst, src, n * c->width);
            k = n;
        } else if (c->width == 8) {
            uint64_t *d8 = (uint64_t *)(void *)dst;
            for (size_t i = 0; i < n; i++) {
                memcpy(&d8[k], src + i * 8, 8);
                k += valid[i] != 0;
            }
        } else if (c->width == 4) {
            uint32_t *d4 = (uint32_t *)(void *)dst;
            for (size_t i = 0; i < n; i++) {
                memcpy(&d4[k], src + i * 4, 4);
                k += valid[i] != 0;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                dst[k] = src[i];
                k += valid[i] != 0;
            }
        }
        if (c->spec.type == DM_PQ_BOOLEAN)
            for (size_t i = 0; i < k; i++)
                dst[i] = dst[i] != 0;
        c->nv += k;
        w->rg_bytes += k * c->width;
        return 0;
    }
    /* BYTE_ARRAY */
    if (grow((void **)&c->off, &c->off_cap, c->nv + n + 1, sizeof(*c->off), hint + 1))
        return -ENOMEM;
    if (c->nv == 0)
        c->off[0] = 0;
    const uint64_t *off = bc->off + start;
    if (off[n] < off[0] || off[n] > bc->nbytes)
        return -EINVAL;
    size_t span = (size_t)(off[n] - off[0]);
    if (grow((void **)&c->bytes, &c->bytes_cap, c->bytes_len + span + 1, 1, 16 * hint))
        return -ENOMEM;
    uint64_t *o = c->off + c->nv;
    size_t k = 0;
    if (!valid) {
        if (span)
            memcpy(c->bytes + c->bytes_len, bc->bytes + off[0], span);
        uint64_t base = o[0] - off[0];
        for (size_t i = 0; i < n; i++) {
            if (off[i + 1] < off[i])
                return -EINVAL;
            o[i + 1] = off[i + 1] + base;
        }
        k = n;
        c->bytes_len += span;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!valid[i])
                continue;
            if (off[i + 1] < off[i])
                return -EINVAL;
            size_t len = (size_t)(off[i + 1] - off[i]);
            if (len)
                memcpy(c->bytes + c->bytes_len, bc->bytes + off[i], len);
            c->bytes_len += len;
            o[++k] = c->bytes_len;
        }
    }
    c->nv += k;
    w->rg_bytes += span + 4 * k;
    return 0;
}

static int flush_row_group(struct dm_pq_writer *w, struct dm_error *err);

int dm_pq_writer_write(struct dm_pq_writer *w, const struct dm_batch *b, struct dm_error *err)
{
    if (!w || !b)
        return dm_error_set(err, -EINVAL, "no writer or batch");
    if (w->failed)
        return dm_error_set(err, w->failed, "'%s': writer failed earlier", w->path);
    if (b->ncols != w->ncols)
        return dm_error_set(err, -EINVAL, "'%s': batch has %zu columns, schema %zu", w->path,
                            b->ncols, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        const struct dm_col *bc = &b->cols[i];
        if ((int)bc->type != (int)w->cols[i].spec.type)
            return dm_error_set(err, -EINVAL, "column '%s': batch type %d, schema type %d",
                                w->cols[i].spec.name, (int)bc->type, (int)w->cols[i].spec.type);
        if (b->nrows && bc->type == DM_STR &&
            (bc->off[b->nrows] < bc->off[0] || bc->off[b->nrows] > bc->nbytes))
            return dm_error_set(err, -EINVAL, "column '%s': bad string offsets",
                                w->cols[i].spec.name);
        int rc = check_values(&w->cols[i], bc, 0, b->nrows, err);
        if (rc)
            return rc;
    }
    size_t done = 0;
    while (done < b->nrows) {
        size_t n = b->nrows - done;
        size_t room = w->opts.row_group_rows - w->rg_rows;
        if (n > room)
            n = room;
        /* Cut long-string row groups early: at most 64 Ki rows per step. */
        if (n > 65536)
            n = 65536;
        for (size_t i = 0; i < w->ncols; i++) {
            int rc = append_col(w, &w->cols[i], &b->cols[i], done, n);
            if (rc) {
                w->failed = rc;
                return dm_error_set(err, rc, "'%s': %s", w->path,
                                    rc == -ENOMEM ? "out of memory" : "bad string offsets");
            }
        }
        w->rg_rows += n;
        w->rows += n;
        done += n;
        if (w->rg_rows >= w->opts.row_group_rows || w->rg_bytes >= RG_MAX_BYTES) {
            int rc = flush_row_group(w, err);
            if (rc) {
                w->failed = rc;
                return rc;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- statistics */

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Min/max of n fixed-width values (width 1, 4 or 8) in the column's sort order. */
static void stats_fixed(const struct wcol *c, const uint8_t *vals, size_t n, struct stats *st)
{
    if (n == 0)
        return;
    switch (c->spec.type) {
    case DM_PQ_BOOLEAN: {
        uint8_t mn = 1, mx = 0;
        for (size_t i = 0; i < n; i++) {
            mn &= vals[i];
            mx |= vals[i];
        }
        st->fmin[0] = mn;
        st->fmax[0] = mx;
        st->min_len = st->max_len = 1;
        st->has_minmax = 1;
        return;
    }
    case DM_PQ_INT32: {
        const int32_t *v = (const int32_t *)(const void *)vals;
        if (c->unsigned_order) {
            uint32_t mn = UINT32_MAX, mx = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t x = (uint32_t)v[i];
                mn = x < mn ? x : mn;
                mx = x > mx ? x : mx;
            }
            memcpy(st->fmin, &mn, 4);
            memcpy(st->fmax, &mx, 4);
        } else {
            int32_t mn = INT32_MAX, mx = INT32_MIN;
            for (size_t i = 0; i < n; i++) {
                mn = v[i] < mn ? v[i] : mn;
                mx = v[i] > mx ? v[i] : mx;
            }
            memcpy(st->fmin, &mn, 4);
            memcpy(st->fmax, &mx, 4);
        }
        st->min_len = st->max_len = 4;
        st->has_minmax = 1;
        return;
    }
    case DM_PQ_INT64: {
        const int64_t *v = (const int64_t *)(const void *)vals;
        if (c->unsigned_order) {
            uint64_t mn = UINT64_MAX, mx = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t x = (uint64_t)v[i];
                mn = x < mn ? x : mn;
                mx = x > mx ? x : mx;
            }
            memcpy(st->fmin, &mn, 8);
            memcpy(st->fmax, &mx, 8);
        } else {
            int64_t mn = INT64_MAX, mx = INT64_MIN;
            for (size_t i = 0; i < n; i++) {
                mn = v[i] < mn ? v[i] : mn;
                mx = v[i] > mx ? v[i] : mx;
            }
            memcpy(st->fmin, &mn, 8);
            memcpy(st->fmax, &mx, 8);
        }
        st->min_len = st->max_len = 8;
        st->has_minmax = 1;
        return;
    }
    case DM_PQ_DOUBLE: {
        const double *v = (const double *)(const void *)vals;
        double mn = INFINITY, mx = -INFINITY;
        size_t nan = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(v[i])) {
                nan++;
                continue;
            }
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (nan == n)
            return; /* all NaN: no bounds */
        if (mn == 0)
            mn = -0.0;
        if (mx == 0)
            mx = 0.0;
        memcpy(st->fmin, &mn, 8);
        memcpy(st->fmax, &mx, 8);
        st->min_len = st->max_len = 8;
        st->has_minmax = 1;
        return;
    }
    default: return;
    }
}

/* Min/max of byte strings given as (ptr, len) through an accessor loop. */
static int stats_set_bytes(struct stats *st, const uint8_t *mn, size_t mnl, const uint8_t *mx,
                           size_t mxl)
{
    if (mnl > STATS_MAX_BYTES || mxl > STATS_MAX_BYTES)
        return 0; /* too long to be useful in the footer: leave out */
    st->bmin = dm_malloc(mnl ? mnl : 1);
    st->bmax = dm_malloc(mxl ? mxl : 1);
    if (!st->bmin || !st->bmax) {
        dm_free(st->bmin);
        dm_free(st->bmax);
        st->bmin = st->bmax = NULL;
        return -ENOMEM;
    }
    if (mnl)
        memcpy(st->bmin, mn, mnl);
    if (mxl)
        memcpy(st->bmax, mx, mxl);
    st->min_len = mnl;
    st->max_len = mxl;
    st->has_minmax = 1;
    return 0;
}

static int stats_strings(const char *bytes, const uint64_t *off, size_t n, struct stats *st)
{
    if (n == 0)
        return 0;
    const uint8_t *b = (const uint8_t *)bytes;
    const uint8_t *mn = b + off[0], *mx = b + off[0];
    size_t mnl = (size_t)(off[1] - off[0]), mxl = mnl;
    for (size_t i = 1; i < n; i++) {
        const uint8_t *p = b + off[i];
        size_t l = (size_t)(off[i + 1] - off[i]);
        if (cmp_bytes(p, l, mn, mnl) < 0)
            mn = p, mnl = l;
        else if (cmp_bytes(p, l, mx, mxl) > 0)
            mx = p, mxl = l;
    }
    return stats_set_bytes(st, mn, mnl, mx, mxl);
}

/* Same over a PLAIN dictionary (u32 length + bytes per entry). */
static int stats_plain_dict(const uint8_t *plain, const uint64_t *offs, size_t n, struct stats *st)
{
    if (n == 0)
        return 0;
    uint32_t l;
    memcpy(&l, plain + offs[0], 4);
    const uint8_t *mn = plain + offs[0] + 4, *mx = mn;
    size_t mnl = l, mxl = l;
    for (size_t i = 1; i < n; i++) {
        memcpy(&l, plain + offs[i], 4);
        const uint8_t *p = plain + offs[i] + 4;
        if (cmp_bytes(p, l, mn, mnl) < 0)
            mn = p, mnl = l;
        else if (cmp_bytes(p, l, mx, mxl) > 0)
            mx = p, mxl = l;
    }
    return stats_set_bytes(st, mn, mnl, mx, mxl);
}

/* ---------------------------------------------------------------- page writing */

struct enc {
    const struct dm_pq_writer *w;
    struct wcol *c;
    size_t nrows;
    struct enc_result *res;
    struct dm__wbuf *body; /* uncompressed page body (c's scratch) */
};

/* Compresses e->body and appends header + body to the chunk. */
static int emit_page(struct enc *e, int page_type, int32_t num_values, int encoding)
{
    struct enc_result *r = e->res;
    const struct dm_pq_writer_opts *o = &e->w->opts;
    if (e->body->err)
        return e->body->err;
    if (e->body->len > (size_t)INT32_MAX)
        return dm_error_set(&r->err, DM_ETOOBIG, "column '%s': page of %zu bytes",
                            e->c->spec.name, e->body->len);
    const uint8_t *payload = e->body->p;
    size_t plen = e->body->len;
    if (o->codec != DM_PQ_UNCOMPRESSED) {
        size_t bound = dm_codec_bound((enum dm_codec)o->codec, e->body->len);
        e->c->cbuf.len = 0;
        if (dm__wbuf_reserve(&e->c->cbuf, bound))
            return e->c->cbuf.err;
        int rc = dm_codec_compress_ctx(&e->c->cctx, (enum dm_codec)o->codec, o->level,
                                       e->body->p ? e->body->p : (const uint8_t *)"", e->body->len,
                                       e->c->cbuf.p, e->c->cbuf.cap, &plen, &r->err);
        if (rc)
            return rc;
        if (plen > (size_t)INT32_MAX)
            return dm_error_set(&r->err, DM_ETOOBIG, "column '%s': page too large",
                                e->c->spec.name);
        payload = e->c->cbuf.p;
    }
    e->c->hdr.len = 0;
    struct dm__tw t;
    dm__tw_init(&t, &e->c->hdr);
    dm__tw_elem_struct_begin(&t);
    dm__tw_i32(&t, 1, page_type);
    dm__tw_i32(&t, 2, (int32_t)e->body->len);
    dm__tw_i32(&t, 3, (int32_t)plen);
    if (page_type == PAGE_DATA) {
        dm__tw_struct_begin(&t, 5);
        dm__tw_i32(&t, 1, num_values);
        dm__tw_i32(&t, 2, encoding);
        dm__tw_i32(&t, 3, ENC_RLE);
        dm__tw_i32(&t, 4, ENC_RLE);
        dm__tw_struct_end(&t);
    } else {
        dm__tw_struct_begin(&t, 7);
        dm__tw_i32(&t, 1, num_values);
        dm__tw_i32(&t, 2, ENC_PLAIN);
        dm__tw_struct_end(&t);
    }
    dm__tw_struct_end(&t);
    if (e->c->hdr.err)
        return e->c->hdr.err;
    dm__wbuf_append(&r->data, e->c->hdr.p, e->c->hdr.len);
    dm__wbuf_append(&r->data, payload, plen);
    if (r->data.err)
        return r->data.err;
    r->meta.uncompressed += (int64_t)(e->c->hdr.len + e->body->len);
    r->meta.compressed += (int64_t)(e->c->hdr.len + plen);
    if (page_type == PAGE_DATA)
        r->meta.ndata_pages++;
    return 0;
}

/* Starts a data page body for rows [r0, r1): the definition levels of OPTIONAL columns. */
static void begin_data_page(struct enc *e, size_t r0, size_t r1)
{
    e->body->len = 0;
    if (!e->c->spec.optional)
        return;
    size_t at = e->body->len;
    uint32_t z = 0;
    dm__wbuf_append(e->body, &z, 4);
    dm__rle_encode_levels(e->body, e->c->def + r0, r1 - r0);
    if (e->body->err)
        return;
    uint32_t len = (uint32_t)(e->body->len - at - 4);
    memcpy(e->body->p + at, &len, 4);
}

/* Rows of the next page starting at row r (value v): stops when the page's values reach
 * max_values (fixed-size values) — so a page holds about page_bytes. */
static size_t page_rows_fixed(const struct enc *e, size_t r, size_t max_values, size_t *nvals)
{
    size_t left = e->nrows - r;
    if (!e->c->spec.optional) {
        size_t k = left < max_values ? left : max_values;
        *nvals = k;
        return k;
    }
    const uint8_t *d = e->c->def + r;
    size_t k = 0, i = 0;
    while (i < left && k < max_values)
        k += d[i++];
    /* Include trailing nulls up to the next value so pages do not end with tiny tails. */
    *nvals = k;
    return i;
}

static int write_data_pages_fixed(struct enc *e, const uint8_t *vals, size_t width,
                                  const uint32_t *idx, int bitw)
{
    const struct dm_pq_writer_opts *o = &e->w->opts;
    size_t per_page;
    if (idx)
        per_page = o->page_bytes * 8 / (size_t)(bitw ? bitw : 1);
    else if (e->c->spec.type == DM_PQ_BOOLEAN)
        per_page = o->page_bytes * 8;
    else
        per_page = o->page_bytes / width;
    if (per_page == 0)
        per_page = 1;
    if (per_page > (size_t)INT32_MAX / 2)
        per_page = (size_t)INT32_MAX / 2;
    size_t r = 0, v = 0;
    do {
        size_t nv;
        size_t nr = page_rows_fixed(e, r, per_page, &nv);
        begin_data_page(e, r, r + nr);
        int enc = ENC_PLAIN;
        if (idx) {
            enc = ENC_RLE_DICTIONARY;
            dm__wbuf_byte(e->body, (uint8_t)bitw);
            dm__rle_encode_u32(e->body, idx + v, nv, bitw);
        } else if (e->c->spec.type == DM_PQ_BOOLEAN) {
            size_t nb = (nv + 7) / 8;
            if (dm__wbuf_reserve(e->body, nb) == 0) {
                uint8_t *out = e->body->p + e->body->len;
                const uint8_t *b = vals + v;
                size_t full = nv / 8;
                for (size_t g = 0; g < full; g++, b += 8)
                    out[g] = (uint8_t)(b[0] | b[1] << 1 | b[2] << 2 | b[3] << 3 | b[4] << 4 |
                                       b[5] << 5 | b[6] << 6 | b[7] << 7);
                if (nv % 8) {
                    uint8_t x = 0;
                    for (size_t k = 0; k < nv % 8; k++)
                        x |= (uint8_t)(b[k] << k);
                    out[full] = x;
                }
                e->body->len += nb;
            }
        } else {
            dm__wbuf_append(e->body, vals + v * width, nv * width);
        }
        int rc = emit_page(e, PAGE_DATA, (int32_t)nr, enc);
        if (rc)
            return rc;
        r += nr;
        v += nv;
    } while (r < e->nrows);
    return 0;
}

static int write_data_pages_bytes(struct enc *e)
{
    const struct wcol *c = e->c;
    const struct dm_pq_writer_opts *o = &e->w->opts;
    size_t r = 0, v = 0;
    do {
        /* Rows until the PLAIN values reach page_bytes. */
        size_t bytes = 0, nr = 0, nv = 0;
        size_t left = e->nrows - r;
        while (nr < left && bytes < o->page_bytes && nr < (size_t)INT32_MAX / 2) {
            if (!c->spec.optional || c->def[r + nr]) {
                bytes += 4 + (size_t)(c->off[v + nv + 1] - c->off[v + nv]);
                nv++;
            }
            nr++;
        }
        begin_data_page(e, r, r + nr);
        size_t span = (size_t)(c->off[v + nv] - c->off[v]);
        if (dm__wbuf_reserve(e->body, span + 4 * nv) == 0) {
            uint8_t *out = e->body->p + e->body->len;
            for (size_t i = v; i < v + nv; i++) {
                uint32_t l = (uint32_t)(c->off[i + 1] - c->off[i]);
                memcpy(out, &l, 4);
                if (l)
                    memcpy(out + 4, c->bytes + c->off[i], l);
                out += 4 + l;
            }
            e->body->len += span + 4 * nv;
        }
        int rc = emit_page(e, PAGE_DATA, (int32_t)nr, ENC_PLAIN);
        if (rc)
            return rc;
        r += nr;
        v += nv;
    } while (r < e->nrows);
    return 0;
}

/* Writes the dictionary page whose PLAIN body is (p, n) with ndict entries. */
static int write_dict_page(struct enc *e, const uint8_t *p, size_t n, size_t ndict)
{
    e->body->len = 0;
    dm__wbuf_append(e->body, p, n);
    e->res->meta.dict_page_offset = (int64_t)e->res->data.len;
    return emit_page(e, PAGE_DICTIONARY, (int32_t)ndict, ENC_PLAIN);
}

/* Most dictionary entries with which a dictionary of nv fixed-width values can still be
 * smaller than PLAIN (the estimate used below): building stops there, and the overflow
 * makes the next row groups skip the attempt, instead of hashing every value of a column
 * of distinct values (timestamps, byte counts) in every row group for nothing. */
static size_t dict_useful_entries(size_t nv, size_t width)
{
    size_t best = 0, plain = nv * width;
    for (int bw = 0; bw <= 32; bw++) {
        size_t lo = bw == 0 ? 1 : ((size_t)1 << (bw - 1)) + 1, hi = (size_t)1 << bw;
        size_t fixed = (nv * (size_t)bw + 7) / 8 + 16;
        if (fixed >= plain)
            break;
        size_t k = (plain - fixed - 1) / width; /* k * width + fixed < plain */
        if (k >= lo)
            best = k < hi ? k : hi;
    }
    return best;
}

/* Encodes one column chunk into e->res. */
static int encode_chunk(struct enc *e)
{
    struct wcol *c = e->c;
    const struct dm_pq_writer_opts *o = &e->w->opts;
    struct enc_result *r = e->res;
    struct chunk_meta *m = &r->meta;
    size_t nv = c->nv;
    m->num_values = (int64_t)e->nrows;
    m->dict_page_offset = -1;
    m->data_encoding = ENC_PLAIN;
    m->st.null_count = (int64_t)(e->nrows - nv);
    m->st.legacy = !c->unsigned_order;

    /* Dictionary attempt: all-or-nothing for the chunk. */
    int use_dict = 0, bw = 0, rc;
    int try_dict = o->dictionary && c->spec.type != DM_PQ_BOOLEAN && nv > 0 && nv <= UINT32_MAX;
    if (c->dict_overflow_age) {
        if (c->dict_overflow_age++ % DICT_RETRY != 0)
            try_dict = 0;
    }
    if (try_dict) {
        if (nv > c->idx_cap) {
            uint32_t *p = dm_reallocarray(c->idx, nv, sizeof(*p));
            if (!p)
                return -ENOMEM;
            c->idx = p;
            c->idx_cap = nv;
        }
        size_t plain_size, ndict, dict_bytes;
        if (c->width) {
            size_t lim = o->dict_max_bytes / c->width, useful = dict_useful_entries(nv, c->width);
            /* When most of the first DICT_SAMPLE values are distinct the column is of high
             * cardinality (timestamps, counters, ephemeral ports): PLAIN compresses as well
             * or better, so the rest is not hashed (and later row groups skip the attempt). */
            rc = 0;
            if (nv >= 4 * DICT_SAMPLE)
                rc = dm__dict_fixed_build(&c->df, c->vals, DICT_SAMPLE, c->width, c->idx,
                                          DICT_SAMPLE / 4 * 3);
            if (rc == 0)
                rc = dm__dict_fixed_build(&c->df, c->vals, nv, c->width, c->idx,
                                          useful < lim ? useful : lim);
            ndict = c->df.n;
            dict_bytes = c->df.n * c->width;
            plain_size = nv * c->width;
        } else {
            /* A dictionary larger than the PLAIN values cannot win: stop building there. */
            size_t plain = c->bytes_len + 4 * nv;
            rc = dm__dict_bytes_build(&c->db, c->bytes, c->off, nv, c->idx,
                                      plain < o->dict_max_bytes ? plain : o->dict_max_bytes);
            ndict = c->db.n;
            dict_bytes = c->db.plain.len;
            plain_size = c->bytes_len + 4 * nv;
        }
        if (rc < 0)
            return rc;
        c->dict_overflow_age = rc == 1; /* 1 starts the count, success resets it */
        if (rc == 0) {
            bw = dm__bit_width(ndict - 1);
            /* Keep the dictionary only when it makes the chunk smaller. */
            size_t est = dict_bytes + (nv * (size_t)bw + 7) / 8 + 16;
            use_dict = est < plain_size;
        }
    }
    if (use_dict) {
        if (c->width) {
            stats_fixed(c, c->df.vals, c->df.n, &m->st);
            rc = write_dict_page(e, c->df.vals, c->df.n * c->width, c->df.n);
        } else {
            rc = stats_plain_dict(c->db.plain.p, c->db.offs, c->db.n, &m->st);
            if (!rc)
                rc = write_dict_page(e, c->db.plain.p, c->db.plain.len, c->db.n);
        }
        if (rc)
            return rc;
        m->data_encoding = ENC_RLE_DICTIONARY;
        m->data_page_offset = (int64_t)r->data.len;
        return write_data_pages_fixed(e, NULL, 0, c->idx, bw);
    }
    m->data_page_offset = (int64_t)r->data.len;
    if (c->width) {
        stats_fixed(c, c->vals, nv, &m->st);
        return write_data_pages_fixed(e, c->vals, c->width, NULL, 0);
    }
    rc = stats_strings(c->bytes, c->off, nv, &m->st);
    return rc ? rc : write_data_pages_bytes(e);
}

static void encode_task(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct dm_pq_writer *w = ctx;
    size_t col = w->order[task];
    struct enc e;
    e.w = w;
    e.c = &w->cols[col];
    e.nrows = w->rg_rows;
    e.res = &w->results[col];
    e.body = &e.c->body;
    /* Scratch buffers keep their memory; clear lengths and any earlier sticky error. */
    e.body->len = e.body->err = 0;
    e.c->cbuf.len = e.c->cbuf.err = 0;
    e.c->hdr.len = e.c->hdr.err = 0;
    struct dm__wbuf data = e.res->data;
    memset(e.res, 0, sizeof(*e.res));
    e.res->data = data;
    e.res->data.len = e.res->data.err = 0;
    int rc = encode_chunk(&e);
    if (!rc && e.res->data.err)
        rc = e.res->data.err;
    if (rc && !e.res->err.code)
        dm_error_set(&e.res->err, rc, "column '%s': %s", e.c->spec.name, dm_strerror(rc));
    e.res->rc = rc;
}

static void reset_columns(struct dm_pq_writer *w)
{
    for (size_t i = 0; i < w->ncols; i++) {
        w->cols[i].nv = 0;
        w->cols[i].bytes_len = 0;
    }
    w->rg_rows = 0;
    w->rg_bytes = 0;
}

/* Rough encoding cost of a column's buffered values (bytes to hash / copy / compress). */
static size_t chunk_cost(const struct wcol *c)
{
    return c->width ? c->nv * c->width : c->bytes_len + 8 * c->nv;
}

static int flush_row_group(struct dm_pq_writer *w, struct dm_error *err)
{
    if (w->rg_rows == 0)
        return 0;
    if (w->nrgs == w->rgs_cap) {
        size_t cap = w->rgs_cap ? w->rgs_cap * 2 : 8;
        struct rg_meta *p = dm_reallocarray(w->rgs, cap, sizeof(*p));
        if (!p)
            return dm_error_set(err, -ENOMEM, "'%s': out of memory", w->path);
        w->rgs = p;
        w->rgs_cap = cap;
    }
    struct rg_meta *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof(*rg));
    rg->cols = dm_calloc(w->ncols, sizeof(*rg->cols));
    if (!rg->cols)
        return dm_error_set(err, -ENOMEM, "'%s': out of memory", w->path);
    w->nrgs++; /* owned from here on (freed with the writer) */
    rg->num_rows = (int64_t)w->rg_rows;
    rg->file_offset = w->pos;

    /* Largest chunks first, so that the last task to finish is a short one. */
    for (size_t i = 0; i < w->ncols; i++) {
        size_t j = i, k = i;
        size_t sz = chunk_cost(&w->cols[i]);
        while (j > 0 && chunk_cost(&w->cols[w->order[j - 1]]) < sz)
            j--;
        for (; k > j; k--)
            w->order[k] = w->order[k - 1];
        w->order[j] = i;
    }
    dm_pool_for(w->opts.pool, w->ncols, encode_task, w);

    int rc = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        struct enc_result *r = &w->results[i];
        if (!rc && r->rc) {
            rc = r->rc;
            if (err)
                *err = r->err;
            dm_error_prefix(err, w->path);
        }
        if (!rc) {
            struct chunk_meta *m = &rg->cols[i];
            *m = r->meta;
            memset(&r->meta.st, 0, sizeof(r->meta.st)); /* ownership moved */
            int64_t base = w->pos;
            m->data_page_offset += base;
            if (m->dict_page_offset >= 0)
                m->dict_page_offset += base;
            rc = write_all(w, r->data.p, r->data.len, err);
            rg->total_uncompressed += m->uncompressed;
            rg->total_compressed += m->compressed;
        }
        r->data.len = 0; /* memory kept for the next row group */
        dm_free(r->meta.st.bmin);
        dm_free(r->meta.st.bmax);
        memset(&r->meta.st, 0, sizeof(r->meta.st));
    }
    reset_columns(w);
    return rc;
}

/* ---------------------------------------------------------------- footer */

static void write_schema_leaf(struct dm__tw *t, const struct dm_pq_column_spec *c)
{
    dm__tw_elem_struct_begin(t);
    dm__tw_i32(t, 1, (int32_t)c->type);
    dm__tw_i32(t, 3, c->optional ? 1 : 0);
    dm__tw_string(t, 4, c->name);
    int conv = -1;
    switch (c->logical) {
    case DM_PQ_LOG_STRING: conv = CT_UTF8; break;
    case DM_PQ_LOG_TIMESTAMP:
        conv = c->ts_unit == DM_PQ_MILLIS   ? CT_TIMESTAMP_MILLIS
               : c->ts_unit == DM_PQ_MICROS ? CT_TIMESTAMP_MICROS
                                            : -1;
        break;
    case DM_PQ_LOG_INTEGER: {
        int k = c->int_bits == 8 ? 0 : c->int_bits == 16 ? 1 : c->int_bits == 32 ? 2 : 3;
        conv = (c->int_signed ? CT_INT_8 : CT_UINT_8) + k;
        break;
    }
    default: break;
    }
    if (conv >= 0)
        dm__tw_i32(t, 6, conv);
    if (c->logical != DM_PQ_LOG_NONE) {
        dm__tw_struct_begin(t, 10);
        switch (c->logical) {
        case DM_PQ_LOG_STRING:
            dm__tw_struct_begin(t, 1);
            dm__tw_struct_end(t);
            break;
        case DM_PQ_LOG_TIMESTAMP:
            dm__tw_struct_begin(t, 8);
            dm__tw_bool(t, 1, c->ts_utc);
            dm__tw_struct_begin(t, 2);
            dm__tw_struct_begin(t, (int16_t)(c->ts_unit + 1));
            dm__tw_struct_end(t);
            dm__tw_struct_end(t);
            dm__tw_struct_end(t);
            break;
        case DM_PQ_LOG_INTEGER:
            dm__tw_struct_begin(t, 10);
            dm__tw_i8(t, 1, (int8_t)c->int_bits);
            dm__tw_bool(t, 2, c->int_signed);
            dm__tw_struct_end(t);
            break;
        default: break;
        }
        dm__tw_struct_end(t);
    }
    dm__tw_struct_end(t);
}

static void write_chunk_meta(struct dm__tw *t, const struct wcol *c, const struct chunk_meta *m,
                             int codec)
{
    dm__tw_elem_struct_begin(t); /* ColumnChunk */
    dm__tw_i64(t, 2, 0);
    dm__tw_struct_begin(t, 3); /* ColumnMetaData */
    dm__tw_i32(t, 1, (int32_t)c->spec.type);
    int dict = m->dict_page_offset >= 0;
    dm__tw_list(t, 2, DM__T_I32, dict ? 3 : 2);
    dm__tw_elem_i32(t, ENC_PLAIN);
    dm__tw_elem_i32(t, ENC_RLE);
    if (dict)
        dm__tw_elem_i32(t, ENC_RLE_DICTIONARY);
    dm__tw_list(t, 3, DM__T_BINARY, 1);
    dm__tw_elem_binary(t, c->spec.name, strlen(c->spec.name));
    dm__tw_i32(t, 4, codec);
    dm__tw_i64(t, 5, m->num_values);
    dm__tw_i64(t, 6, m->uncompressed);
    dm__tw_i64(t, 7, m->compressed);
    dm__tw_i64(t, 9, m->data_page_offset);
    if (dict)
        dm__tw_i64(t, 11, m->dict_page_offset);
    /* Statistics */
    dm__tw_struct_begin(t, 12);
    const uint8_t *mn = m->st.bmin ? m->st.bmin : m->st.fmin;
    const uint8_t *mx = m->st.bmax ? m->st.bmax : m->st.fmax;
    if (m->st.has_minmax && m->st.legacy) {
        dm__tw_binary(t, 1, mx, m->st.max_len);
        dm__tw_binary(t, 2, mn, m->st.min_len);
    }
    dm__tw_i64(t, 3, m->st.null_count);
    if (m->st.has_minmax) {
        dm__tw_binary(t, 5, mx, m->st.max_len);
        dm__tw_binary(t, 6, mn, m->st.min_len);
    }
    dm__tw_struct_end(t);
    /* encoding_stats */
    dm__tw_list(t, 13, DM__T_STRUCT, dict ? 2 : 1);
    if (dict) {
        dm__tw_elem_struct_begin(t);
        dm__tw_i32(t, 1, PAGE_DICTIONARY);
        dm__tw_i32(t, 2, ENC_PLAIN);
        dm__tw_i32(t, 3, 1);
        dm__tw_struct_end(t);
    }
    dm__tw_elem_struct_begin(t);
    dm__tw_i32(t, 1, PAGE_DATA);
    dm__tw_i32(t, 2, m->data_encoding);
    dm__tw_i32(t, 3, m->ndata_pages);
    dm__tw_struct_end(t);
    dm__tw_struct_end(t); /* ColumnMetaData */
    dm__tw_struct_end(t); /* ColumnChunk */
}

static int write_footer(struct dm_pq_writer *w, struct dm_error *err)
{
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    struct dm__tw t;
    dm__tw_init(&t, &b);
    dm__tw_elem_struct_begin(&t);
    dm__tw_i32(&t, 1, 1);
    dm__tw_list(&t, 2, DM__T_STRUCT, w->ncols + 1);
    dm__tw_elem_struct_begin(&t);
    dm__tw_string(&t, 4, "schema");
    dm__tw_i32(&t, 5, (int32_t)w->ncols);
    dm__tw_struct_end(&t);
    for (size_t i = 0; i < w->ncols; i++)
        write_schema_leaf(&t, &w->cols[i].spec);
    dm__tw_i64(&t, 3, (int64_t)w->rows);
    dm__tw_list(&t, 4, DM__T_STRUCT, w->nrgs);
    for (size_t r = 0; r < w->nrgs; r++) {
        const struct rg_meta *rg = &w->rgs[r];
        dm__tw_elem_struct_begin(&t);
        dm__tw_list(&t, 1, DM__T_STRUCT, w->ncols);
        for (size_t i = 0; i < w->ncols; i++)
            write_chunk_meta(&t, &w->cols[i], &rg->cols[i], (int)w->opts.codec);
        dm__tw_i64(&t, 2, rg->total_uncompressed);
        dm__tw_i64(&t, 3, rg->num_rows);
        dm__tw_i64(&t, 5, rg->file_offset);
        dm__tw_i64(&t, 6, rg->total_compressed);
        if (r <= INT16_MAX) {
            dm__tw_field(&t, 7, DM__T_I16);
            dm__tw_varint_signed(t.out, (int64_t)r);
        }
        dm__tw_struct_end(&t);
    }
    if (w->nkv) {
        dm__tw_list(&t, 5, DM__T_STRUCT, w->nkv);
        for (size_t i = 0; i < w->nkv; i++) {
            dm__tw_elem_struct_begin(&t);
            dm__tw_string(&t, 1, w->kv[i].key);
            if (w->kv[i].value)
                dm__tw_string(&t, 2, w->kv[i].value);
            dm__tw_struct_end(&t);
        }
    }
    dm__tw_string(&t, 6, "datamate version " DM_PQ_VERSION " (build " DM_BUILD_ID ")");
    dm__tw_list(&t, 7, DM__T_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        dm__tw_elem_struct_begin(&t); /* ColumnOrder union */
        dm__tw_struct_begin(&t, 1);   /* TYPE_ORDER */
        dm__tw_struct_end(&t);
        dm__tw_struct_end(&t);
    }
    dm__tw_struct_end(&t);
    if (b.err) {
        int rc = b.err;
        dm__wbuf_release(&b);
        return dm_error_set(err, rc, "'%s': footer: %s", w->path, dm_strerror(rc));
    }
    if (b.len > UINT32_MAX) {
        dm__wbuf_release(&b);
        return dm_error_set(err, DM_ETOOBIG, "'%s': footer too large", w->path);
    }
    uint32_t flen = (uint32_t)b.len;
    dm__wbuf_append(&b, &flen, 4);
    dm__wbuf_append(&b, "PAR1", 4);
    int rc = b.err ? dm_error_set(err, b.err, "'%s': out of memory", w->path)
                   : write_all(w, b.p, b.len, err);
    dm__wbuf_release(&b);
    return rc;
}

/* fsyncs the directory holding path so the rename is durable (best effort). */
static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = '.', dir[1] = '\0';
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1;
        if (n >= sizeof(dir))
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int dm_pq_writer_close(struct dm_pq_writer *w, struct dm_error *err)
{
    if (!w)
        return dm_error_set(err, -EINVAL, "no writer");
    int rc = w->failed;
    if (rc) {
        dm_error_set(err, rc, "'%s': writer failed earlier", w->path);
    } else {
        rc = flush_row_group(w, err);
        if (!rc)
            rc = write_footer(w, err);
        if (!rc && fsync(w->fd) != 0) {
            int e = errno;
            rc = dm_error_set(err, -e, "'%s': fsync failed: %s", w->tmp, dm_strerror(-e));
        }
    }
    if (!rc) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            int e = errno;
            rc = dm_error_set(err, -e, "'%s': close failed: %s", w->tmp, dm_strerror(-e));
        } else if (rename(w->tmp, w->path) != 0) {
            int e = errno;
            rc = dm_error_set(err, -e, "'%s': cannot rename into place: %s", w->path,
                              dm_strerror(-e));
        }
        if (rc)
            unlink(w->tmp);
        else
            sync_dir(w->path);
        writer_free(w);
        return rc;
    }
    dm_pq_writer_abort(w);
    return rc;
}
