/* Parquet reader: footer and metadata decoding, statistics, pruning, page walk and column
 * chunk materialisation (plain or dictionary + indexes). See dm_pq_reader.h. */
#include "dm_pq_reader.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_arena.h"
#include "dm_codec.h"
#include "pq_read_int.h"
#include "banned.h"

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define MAX_RG_ROWS ((int64_t)1 << 20)
#define MAX_PAGE_BYTES ((int64_t)64 << 20)
#else
#define MAX_RG_ROWS ((int64_t)1 << 31)
#define MAX_PAGE_BYTES ((int64_t)INT32_MAX)
#endif
#define MAX_COLUMNS 100000
#define MAX_ROW_GROUPS 1000000

struct raw_stats {
    const uint8_t *min, *max, *min_value, *max_value;
    size_t min_n, max_n, min_value_n, max_value_n;
    int has_min, has_max, has_min_value, has_max_value;
    int64_t null_count, distinct;
    int has_null_count, has_distinct;
    int min_exact, max_exact;
};

struct dm_pq_reader {
    struct dm_pq_meta meta;
    const uint8_t *data;
    size_t size;
    void *map;
    size_t map_len;
    struct dm_arena arena;
    /* created_by facts for the statistics trust rules */
    int app_mr, app_cpp, ver_ok, ver[3];
};

/* ---------------------------------------------------------------- names */

const char *dm_pq_type_name(int type)
{
    static const char *const n[] = {"BOOLEAN", "INT32",      "INT64",      "INT96",
                                    "FLOAT",   "DOUBLE",     "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return type >= 0 && type < 8 ? n[type] : "unknown";
}

const char *dm_pq_encoding_name(int enc)
{
    static const char *const n[] = {"PLAIN",
                                    "GROUP_VAR_INT",
                                    "PLAIN_DICTIONARY",
                                    "RLE",
                                    "BIT_PACKED",
                                    "DELTA_BINARY_PACKED",
                                    "DELTA_LENGTH_BYTE_ARRAY",
                                    "DELTA_BYTE_ARRAY",
                                    "RLE_DICTIONARY",
                                    "BYTE_STREAM_SPLIT",
                                    "ALP"};
    return enc >= 0 && enc < 11 ? n[enc] : "unknown";
}

const char *dm_pq_codec_label(int codec)
{
    static const char *const n[] = {"none", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd",
                                    "lz4_raw"};
    return codec >= 0 && codec < 8 ? n[codec] : "unknown";
}

int64_t dm_pq_int96_to_ns(const uint8_t b[12])
{
    uint64_t nanos = 0;
    uint32_t day = 0;
    for (int i = 7; i >= 0; i--)
        nanos = nanos << 8 | b[i];
    for (int i = 11; i >= 8; i--)
        day = day << 8 | b[i];
    uint64_t days = (uint64_t)((int64_t)day - 2440588);
    return (int64_t)(days * 86400000000000ull + nanos);
}

/* ---------------------------------------------------------------- metadata */

struct raw_elem {
    int type, type_length, repetition, num_children, converted, scale, precision;
    int has_type, has_rep, has_children;
    int logical_id, ts_utc, ts_unit, int_bits, int_signed;
    const uint8_t *name;
    size_t name_n;
};

struct parse {
    struct dm_pq_reader *r;
    struct dm__thrift t;
    struct dm_error *err;
    struct raw_elem *elems;
    size_t nelems;
    int encrypted;
};

static int fail_corrupt(struct parse *ps, const char *what)
{
    return dm_error_set_at(ps->err, DM_ECORRUPT, (int64_t)dm__thrift_pos(&ps->t),
                           0, "%s: corrupt footer: %s", ps->r->meta.path, what);
}

/* Reads the integer field value of the given thrift type into *v with a range check. */
static int rd_int(struct parse *ps, int type, int64_t lo, int64_t hi, int64_t *v)
{
    if (dm__thrift_int(&ps->t, type, v))
        return -1;
    if (*v < lo || *v > hi)
        return dm__thrift_fail(&ps->t, "integer out of range");
    return 0;
}

static int rd_i32(struct parse *ps, int type, int *out)
{
    int64_t v;
    if (rd_int(ps, type, INT32_MIN, INT32_MAX, &v))
        return -1;
    *out = (int)v;
    return 0;
}

static int want(struct parse *ps, int type, int expect)
{
    if (type != expect)
        return dm__thrift_fail(&ps->t, "field has an unexpected type");
    return 0;
}

/* Iterates fields of a struct: for (;;) { r = next(...); ... } */
#define FIELDS_BEGIN(ps)                                                                       \
    do {                                                                                       \
        int16_t last_, id;                                                                     \
        int ty, bval;                                                                          \
        (void)bval;                                                                            \
        if (dm__thrift_struct_begin(&(ps)->t, &last_))                                         \
            return -1;                                                                         \
        for (;;) {                                                                             \
            int fr_ = dm__thrift_field(&(ps)->t, &last_, &id, &ty, &bval);                     \
            if (fr_ < 0)                                                                       \
                return -1;                                                                     \
            if (fr_ == 0)                                                                      \
                break;
#define FIELDS_END(ps)                                                                         \
    }                                                                                          \
    dm__thrift_struct_end(&(ps)->t);                                                           \
    }                                                                                          \
    while (0)

static int skip(struct parse *ps, int ty)
{
    return dm__thrift_skip(&ps->t, ty);
}

static int parse_time_unit(struct parse *ps, int *unit)
{
    FIELDS_BEGIN(ps)
    if (id >= 1 && id <= 3)
        *unit = id - 1;
    if (skip(ps, ty))
        return -1;
    FIELDS_END(ps);
    return 0;
}

static int parse_logical_member(struct parse *ps, struct raw_elem *e, int member)
{
    FIELDS_BEGIN(ps)
    if (member == 8 || member == 7) { /* TIMESTAMP / TIME */
        if (id == 1 && (ty == DM__TT_TRUE || ty == DM__TT_FALSE))
            e->ts_utc = bval;
        else if (id == 2 && ty == DM__TT_STRUCT) {
            if (parse_time_unit(ps, &e->ts_unit))
                return -1;
        } else if (skip(ps, ty))
            return -1;
    } else if (member == 10) { /* INTEGER */
        if (id == 1 && ty == DM__TT_I8) {
            int64_t v;
            if (rd_int(ps, ty, 0, 64, &v))
                return -1;
            e->int_bits = (int)v;
        } else if (id == 2 && (ty == DM__TT_TRUE || ty == DM__TT_FALSE))
            e->int_signed = bval;
        else if (skip(ps, ty))
            return -1;
    } else if (member == 5) { /* DECIMAL */
        if (id == 1 && ty == DM__TT_I32) {
            if (rd_i32(ps, ty, &e->scale))
                return -1;
        } else if (id == 2 && ty == DM__TT_I32) {
            if (rd_i32(ps, ty, &e->precision))
                return -1;
        } else if (skip(ps, ty))
            return -1;
    } else if (skip(ps, ty))
        return -1;
    FIELDS_END(ps);
    return 0;
}

static int parse_logical(struct parse *ps, struct raw_elem *e)
{
    FIELDS_BEGIN(ps)
    if (ty == DM__TT_STRUCT && id >= 1 && id <= 19 && id != 9) {
        e->logical_id = id;
        if (parse_logical_member(ps, e, id))
            return -1;
    } else if (skip(ps, ty)) { /* unknown member: fall back to the physical type */
        return -1;
    }
    FIELDS_END(ps);
    return 0;
}

static int parse_schema_elem(struct parse *ps, struct raw_elem *e)
{
    memset(e, 0, sizeof(*e));
    e->converted = -1;
    e->ts_unit = -1;
    e->int_signed = 1;
    int have_name = 0;
    FIELDS_BEGIN(ps)
    switch (id) {
    case 1:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->type))
            return -1;
        e->has_type = 1;
        break;
    case 2:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->type_length))
            return -1;
        break;
    case 3:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->repetition))
            return -1;
        e->has_rep = 1;
        break;
    case 4:
        if (want(ps, ty, DM__TT_BINARY) || dm__thrift_binary(&ps->t, &e->name, &e->name_n))
            return -1;
        have_name = 1;
        break;
    case 5:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->num_children))
            return -1;
        e->has_children = 1;
        break;
    case 6:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->converted))
            return -1;
        break;
    case 7:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->scale))
            return -1;
        break;
    case 8:
        if (want(ps, ty, DM__TT_I32) || rd_i32(ps, ty, &e->precision))
            return -1;
        break;
    case 10:
        if (want(ps, ty, DM__TT_STRUCT) || parse_logical(ps, e))
            return -1;
        break;
    default:
        if (skip(ps, ty))
            return -1;
    }
    FIELDS_END(ps);
    if (!have_name)
        return dm__thrift_fail(&ps->t, "schema element without a name");
    return 0;
}

static int parse_stats(struct parse *ps, struct raw_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->min_exact = s->max_exact = 1;
    FIELDS_BEGIN(ps)
    switch (id) {
    case 1:
    case 2:
    case 5:
    case 6: {
        const uint8_t *p;
        size_t n;
        if (want(ps, ty, DM__TT_BINARY) || dm__thrift_binary(&ps->t, &p, &n))
            return -1;
        if (id == 1)
            s->max = p, s->max_n = n, s->has_max = 1;
        else if (id == 2)
            s->min = p, s->min_n = n, s->has_min = 1;
        else if (id == 5)
            s->max_value = p, s->max_value_n = n, s->has_max_value = 1;
        else
            s->min_value = p, s->min_value_n = n, s->has_min_value = 1;
        break;
    }
    case 3:
        if (rd_int(ps, ty, 0, INT64_MAX, &s->null_count))
            return -1;
        s->has_null_count = 1;
        break;
    case 4:
        if (rd_int(ps, ty, 0, INT64_MAX, &s->distinct))
            return -1;
        s->has_distinct = 1;
        break;
    case 7:
    case 8:
        if (ty != DM__TT_TRUE && ty != DM__TT_FALSE)
            return dm__thrift_fail(&ps->t, "exact flag is not a bool");
        if (id == 7)
            s->max_exact = bval;
        else
            s->min_exact = bval;
        break;
    default:
        if (skip(ps, ty))
            return -1;
    }
    FIELDS_END(ps);
    return 0;
}

static void decode_stats(const struct dm_pq_reader *r, const struct dm_pq_leaf *leaf,
                         const struct raw_stats *rs, struct dm_pq_stats *st);

static int parse_col_meta(struct parse *ps, size_t col, struct dm_pq_chunk_meta *cm)
{
    const struct dm_pq_leaf *leaf = &ps->r->meta.cols[col];
    struct raw_stats rs;
    int have_type = 0, have_codec = 0, have_dpo = 0;
    FIELDS_BEGIN(ps)
    switch (id) {
    case 1: {
        int v;
        if (rd_i32(ps, ty, &v))
            return -1;
        if (v != (int)leaf->type)
            return dm__thrift_fail(&ps->t, "column chunk type differs from the schema");
        have_type = 1;
        break;
    }
    case 2: {
        int et;
        size_t n;
        if (want(ps, ty, DM__TT_LIST) || dm__thrift_list(&ps->t, &et, &n))
            return -1;
        for (size_t i = 0; i < n; i++) {
            int64_t e;
            if (dm__thrift_int(&ps->t, et, &e))
                return -1;
            if (e >= 0 && e < 32)
                cm->encodings |= 1u << e;
        }
        break;
    }
    case 4: {
        int v;
        if (rd_i32(ps, ty, &v))
            return -1;
        cm->codec = (enum dm_pq_codec)v;
        have_codec = 1;
        break;
    }
    case 5:
        if (rd_int(ps, ty, 0, INT64_MAX, &cm->num_values))
            return -1;
        break;
    case 6:
        if (rd_int(ps, ty, 0, INT64_MAX, &cm->total_uncompressed_size))
            return -1;
        break;
    case 7:
        if (rd_int(ps, ty, 0, INT64_MAX, &cm->total_compressed_size))
            return -1;
        break;
    case 9:
        if (rd_int(ps, ty, 0, INT64_MAX, &cm->data_page_offset))
            return -1;
        have_dpo = 1;
        break;
    case 11:
        if (rd_int(ps, ty, INT64_MIN, INT64_MAX, &cm->dictionary_page_offset))
            return -1;
        if (cm->dictionary_page_offset < 0)
            cm->dictionary_page_offset = 0;
        break;
    case 12:
        if (want(ps, ty, DM__TT_STRUCT) || parse_stats(ps, &rs))
            return -1;
        cm->has_stats = 1;
        break;
    default:
        if (skip(ps, ty))
            return -1;
    }
    FIELDS_END(ps);
    if (!have_type || !have_codec || !have_dpo)
        return dm__thrift_fail(&ps->t, "column metadata misses a required field");
    if (cm->has_stats)
        decode_stats(ps->r, leaf, &rs, &cm->stats);
    return 0;
}

static int parse_col_chunk(struct parse *ps, size_t col, struct dm_pq_chunk_meta *cm)
{
    int have_meta = 0;
    FIELDS_BEGIN(ps)
    if (id == 1 && ty == DM__TT_BINARY) {
        const uint8_t *p;
        size_t n;
        if (dm__thrift_binary(&ps->t, &p, &n))
            return -1;
        if (n) {
            ps->encrypted = 2; /* external file: refused below */
        }
    } else if (id == 3 && ty == DM__TT_STRUCT) {
        if (parse_col_meta(ps, col, cm))
            return -1;
        have_meta = 1;
    } else if (id == 8 || id == 9) {
        ps->encrypted = 1;
        if (skip(ps, ty))
            return -1;
    } else if (skip(ps, ty)) {
        return -1;
    }
    FIELDS_END(ps);
    if (!have_meta && !ps->encrypted)
        return dm__thrift_fail(&ps->t, "column chunk without metadata");
    return 0;
}

static int parse_row_group(struct parse *ps, struct dm_pq_row_group *rg)
{
    struct dm_pq_reader *r = ps->r;
    int have_cols = 0, have_rows = 0;
    FIELDS_BEGIN(ps)
    if (id == 1 && ty == DM__TT_LIST) {
        int et;
        size_t n;
        if (dm__thrift_list(&ps->t, &et, &n))
            return -1;
        if (n != r->meta.ncols || et != DM__TT_STRUCT || have_cols)
            return dm__thrift_fail(&ps->t, "row group column count differs from the schema");
        for (size_t i = 0; i < n; i++)
            if (parse_col_chunk(ps, i, &rg->cols[i]))
                return -1;
        have_cols = 1;
    } else if (id == 2) {
        if (rd_int(ps, ty, INT64_MIN, INT64_MAX, &rg->total_byte_size))
            return -1;
    } else if (id == 3) {
        if (rd_int(ps, ty, 0, INT64_MAX, &rg->num_rows))
            return -1;
        have_rows = 1;
    } else if (skip(ps, ty)) {
        return -1;
    }
    FIELDS_END(ps);
    if (!have_rows || (!have_cols && r->meta.ncols))
        return dm__thrift_fail(&ps->t, "row group misses a required field");
    return 0;
}

static char *arena_str(struct dm_pq_reader *r, const uint8_t *p, size_t n)
{
    return dm_arena_strndup(&r->arena, (const char *)p, n);
}

static int parse_kv(struct parse *ps, struct dm_pq_kv_entry *kv)
{
    const uint8_t *k = NULL, *v = NULL;
    size_t kn = 0, vn = 0;
    int hk = 0, hv = 0;
    FIELDS_BEGIN(ps)
    if (id == 1 && ty == DM__TT_BINARY) {
        if (dm__thrift_binary(&ps->t, &k, &kn))
            return -1;
        hk = 1;
    } else if (id == 2 && ty == DM__TT_BINARY) {
        if (dm__thrift_binary(&ps->t, &v, &vn))
            return -1;
        hv = 1;
    } else if (skip(ps, ty)) {
        return -1;
    }
    FIELDS_END(ps);
    if (!hk)
        return dm__thrift_fail(&ps->t, "key-value entry without a key");
    kv->key = arena_str(ps->r, k, kn);
    kv->value = hv ? arena_str(ps->r, v, vn) : NULL;
    if (!kv->key || (hv && !kv->value))
        return dm__thrift_fail(&ps->t, "out of memory");
    return 0;
}

/* Builds the leaf list from the raw schema; flat schemas only. */
static int build_schema(struct parse *ps)
{
    struct dm_pq_reader *r = ps->r;
    struct dm_error *err = ps->err;
    const char *path = r->meta.path;
    if (ps->nelems == 0)
        return dm_error_set(err, DM_ECORRUPT, "%s: corrupt footer: empty schema", path);
    const struct raw_elem *root = &ps->elems[0];
    size_t n = ps->nelems - 1;
    for (size_t i = 1; i < ps->nelems; i++) {
        const struct raw_elem *e = &ps->elems[i];
        if ((e->has_children && e->num_children > 0) || !e->has_type ||
            (e->has_rep && e->repetition == 2))
            return dm_error_set(err, DM_EUNSUPPORTED,
                                "%s: column '%.*s' is nested or repeated; only flat schemas are "
                                "supported",
                                path, (int)(e->name_n > 200 ? 200 : e->name_n),
                                (const char *)e->name);
    }
    if (!root->has_children || root->num_children < 0 || (size_t)root->num_children != n)
        return dm_error_set(err, DM_ECORRUPT,
                            "%s: corrupt footer: schema root has %d children, %zu elements follow",
                            path, root->num_children, n);
    if (n > MAX_COLUMNS)
        return dm_error_set(err, DM_ETOOBIG, "%s: too many columns (%zu)", path, n);
    r->meta.ncols = n;
    r->meta.cols = dm_arena_calloc(&r->arena, n ? n : 1, sizeof(*r->meta.cols));
    if (!r->meta.cols)
        return dm_error_set(err, -ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const struct raw_elem *e = &ps->elems[i + 1];
        struct dm_pq_leaf *l = &r->meta.cols[i];
        l->name = arena_str(r, e->name, e->name_n);
        if (!l->name)
            return dm_error_set(err, -ENOMEM, "%s: out of memory", path);
        if (e->type < 0 || e->type > 7)
            return dm_error_set(err, DM_ECORRUPT,
                                "%s: column '%s': invalid physical type %d", path, l->name,
                                e->type);
        l->type = (enum dm_pq_type)e->type;
        l->optional = !e->has_rep || e->repetition != 0;
        if (e->has_rep && (e->repetition < 0 || e->repetition > 2))
            return dm_error_set(err, DM_ECORRUPT, "%s: column '%s': invalid repetition %d",
                                path, l->name, e->repetition);
        l->type_length = e->type == DM_PQ_FIXED_LEN_BYTE_ARRAY ? e->type_length : 0;
        if (e->type == DM_PQ_FIXED_LEN_BYTE_ARRAY &&
            (e->type_length <= 0 || e->type_length > (1 << 20)))
            return dm_error_set(err, DM_ECORRUPT,
                                "%s: column '%s': invalid fixed length %d", path, l->name,
                                e->type_length);
        l->converted_type = e->converted;
        l->logical_id = e->logical_id;
        l->scale = e->scale;
        l->precision = e->precision;
        l->int_signed = 1;
        l->logical = DM_PQ_LOG_NONE;
        int lid = e->logical_id;
        if (lid == 1 || lid == 4 || lid == 12) {
            l->logical = DM_PQ_LOG_STRING;
        } else if (lid == 8) {
            l->logical = DM_PQ_LOG_TIMESTAMP;
            l->ts_utc = e->ts_utc;
            l->ts_unit = e->ts_unit >= 0 ? (enum dm_pq_time_unit)e->ts_unit : DM_PQ_MICROS;
        } else if (lid == 10) {
            l->logical = DM_PQ_LOG_INTEGER;
            l->int_bits = e->int_bits;
            l->int_signed = e->int_signed;
        } else if (lid) {
            l->logical = DM_PQ_LOG_OTHER;
        } else {
            int c = e->converted;
            if (c == 0 || c == 4 || c == 19) {
                l->logical = DM_PQ_LOG_STRING;
            } else if (c == 9 || c == 10) {
                l->logical = DM_PQ_LOG_TIMESTAMP;
                l->ts_utc = 1;
                l->ts_unit = c == 9 ? DM_PQ_MILLIS : DM_PQ_MICROS;
            } else if (c >= 11 && c <= 18) {
                l->logical = DM_PQ_LOG_INTEGER;
                l->int_bits = 8 << ((c - 11) % 4);
                l->int_signed = c >= 15;
            } else if (c >= 0) {
                l->logical = DM_PQ_LOG_OTHER;
            }
        }
        switch (l->type) {
        case DM_PQ_BOOLEAN: l->vtype = DM_BOOL; break;
        case DM_PQ_INT32: l->vtype = DM_I32; break;
        case DM_PQ_INT64:
        case DM_PQ_INT96: l->vtype = DM_I64; break;
        case DM_PQ_FLOAT:
        case DM_PQ_DOUBLE: l->vtype = DM_F64; break;
        case DM_PQ_BYTE_ARRAY:
        case DM_PQ_FIXED_LEN_BYTE_ARRAY: l->vtype = DM_STR; break;
        }
    }
    return 0;
}

static int parse_created_by(struct dm_pq_reader *r)
{
    const char *s = r->meta.created_by;
    r->app_mr = !strncmp(s, "parquet-mr", 10);
    r->app_cpp = !strncmp(s, "parquet-cpp", 11) && strncmp(s, "parquet-cpp-arrow", 17);
    const char *v = strstr(s, " version ");
    r->ver_ok = 0;
    if (!v)
        return 0;
    v += 9;
    int k = 0;
    while (k < 3) {
        if (*v < '0' || *v > '9')
            break;
        long x = 0;
        while (*v >= '0' && *v <= '9' && x < 100000)
            x = x * 10 + (*v++ - '0');
        r->ver[k++] = (int)x;
        if (*v != '.')
            break;
        v++;
    }
    r->ver_ok = k >= 2;
    return 0;
}

static int ver_lt(const struct dm_pq_reader *r, int a, int b, int c)
{
    if (!r->ver_ok)
        return 1;
    if (r->ver[0] != a)
        return r->ver[0] < a;
    if (r->ver[1] != b)
        return r->ver[1] < b;
    return r->ver[2] < c;
}

static int parse_footer(struct parse *ps)
{
    struct dm_pq_reader *r = ps->r;
    int have_schema = 0, have_rows = 0, have_rgs = 0;
    const uint8_t *rg_start = NULL;
    size_t nrg = 0;
    FIELDS_BEGIN(ps)
    switch (id) {
    case 1:
        if (rd_i32(ps, ty, &r->meta.version))
            return -1;
        break;
    case 2: {
        int et;
        size_t n;
        if (want(ps, ty, DM__TT_LIST) || dm__thrift_list(&ps->t, &et, &n) ||
            want(ps, et, DM__TT_STRUCT))
            return -1;
        if (have_schema)
            return dm__thrift_fail(&ps->t, "duplicate schema");
        ps->elems = dm_calloc(n ? n : 1, sizeof(*ps->elems));
        if (!ps->elems)
            return dm__thrift_fail(&ps->t, "out of memory");
        ps->nelems = n;
        for (size_t i = 0; i < n; i++)
            if (parse_schema_elem(ps, &ps->elems[i]))
                return -1;
        have_schema = 1;
        break;
    }
    case 3:
        if (rd_int(ps, ty, 0, INT64_MAX, &r->meta.num_rows))
            return -1;
        have_rows = 1;
        break;
    case 4: {
        /* Row groups need the schema; remember where they are and parse them after. */
        int et;
        if (want(ps, ty, DM__TT_LIST))
            return -1;
        rg_start = ps->t.p;
        if (dm__thrift_list(&ps->t, &et, &nrg) || want(ps, et, DM__TT_STRUCT))
            return -1;
        for (size_t i = 0; i < nrg; i++)
            if (skip(ps, DM__TT_STRUCT))
                return -1;
        have_rgs = 1;
        break;
    }
    case 5: {
        int et;
        size_t n;
        if (want(ps, ty, DM__TT_LIST) || dm__thrift_list(&ps->t, &et, &n) ||
            want(ps, et, DM__TT_STRUCT))
            return -1;
        r->meta.kv = dm_arena_calloc(&r->arena, n ? n : 1, sizeof(*r->meta.kv));
        if (!r->meta.kv)
            return dm__thrift_fail(&ps->t, "out of memory");
        r->meta.nkv = n;
        for (size_t i = 0; i < n; i++)
            if (parse_kv(ps, &r->meta.kv[i]))
                return -1;
        break;
    }
    case 6: {
        const uint8_t *p;
        size_t n;
        if (want(ps, ty, DM__TT_BINARY) || dm__thrift_binary(&ps->t, &p, &n))
            return -1;
        r->meta.created_by = arena_str(r, p, n);
        if (!r->meta.created_by)
            return dm__thrift_fail(&ps->t, "out of memory");
        break;
    }
    case 8:
    case 9:
        ps->encrypted = 1;
        if (skip(ps, ty))
            return -1;
        break;
    default:
        if (skip(ps, ty))
            return -1;
    }
    FIELDS_END(ps);
    if (!have_schema || !have_rows || !have_rgs)
        return dm__thrift_fail(&ps->t, "file metadata misses a required field");
    if (ps->encrypted)
        return 0;
    parse_created_by(r);
    int rc = build_schema(ps);
    if (rc)
        return rc;
    if (nrg > MAX_ROW_GROUPS)
        return dm__thrift_fail(&ps->t, "too many row groups");
    r->meta.nrow_groups = nrg;
    r->meta.row_groups = dm_arena_calloc(&r->arena, nrg ? nrg : 1, sizeof(*r->meta.row_groups));
    if (!r->meta.row_groups)
        return dm__thrift_fail(&ps->t, "out of memory");
    /* second pass over the row groups */
    const uint8_t *save = ps->t.p;
    ps->t.p = rg_start;
    int et;
    size_t n2;
    if (dm__thrift_list(&ps->t, &et, &n2))
        return -1;
    for (size_t i = 0; i < nrg; i++) {
        struct dm_pq_row_group *rg = &r->meta.row_groups[i];
        rg->cols = dm_arena_calloc(&r->arena, r->meta.ncols ? r->meta.ncols : 1,
                                   sizeof(*rg->cols));
        if (!rg->cols)
            return dm__thrift_fail(&ps->t, "out of memory");
        if (parse_row_group(ps, rg))
            return -1;
    }
    ps->t.p = save;
    return 0;
}

static int open_bytes(struct dm_pq_reader *r, struct dm_error *err)
{
    const char *path = r->meta.path;
    if (r->size < 12)
        return dm_error_set(err, DM_ECORRUPT, "%s: not a parquet file (%zu bytes)", path,
                            r->size);
    const uint8_t *d = r->data;
    const uint8_t *tail = d + r->size - 4;
    if (!memcmp(tail, "PARE", 4))
        return dm_error_set(err, DM_EUNSUPPORTED, "%s: encrypted parquet files are not supported",
                            path);
    if (memcmp(d, "PAR1", 4) || memcmp(tail, "PAR1", 4))
        return dm_error_set(err, DM_ECORRUPT, "%s: not a parquet file (bad magic)", path);
    uint32_t flen = (uint32_t)tail[-4] | (uint32_t)tail[-3] << 8 | (uint32_t)tail[-2] << 16 |
                    (uint32_t)tail[-1] << 24;
    if ((uint64_t)flen > r->size - 12)
        return dm_error_set(err, DM_ECORRUPT,
                            "%s: footer length %u exceeds the file size %zu", path, flen,
                            r->size);
    struct parse ps;
    memset(&ps, 0, sizeof(ps));
    ps.r = r;
    ps.err = err;
    dm__thrift_init(&ps.t, d + r->size - 8 - flen, flen);
    r->meta.created_by = "";
    int rc = parse_footer(&ps);
    if (rc == -1 || ps.t.bad) {
        if (ps.t.why && !strcmp(ps.t.why, "out of memory"))
            rc = dm_error_set(err, -ENOMEM, "%s: out of memory", path);
        else
            rc = fail_corrupt(&ps, ps.t.why ? ps.t.why : "invalid thrift");
    } else if (!rc && ps.encrypted == 1) {
        rc = dm_error_set(err, DM_EUNSUPPORTED, "%s: encrypted parquet files are not supported",
                          path);
    } else if (!rc && ps.encrypted == 2) {
        rc = dm_error_set(err, DM_EUNSUPPORTED,
                          "%s: column chunks in external files are not supported", path);
    }
    dm_free(ps.elems);
    return rc;
}

static int reader_new(struct dm_pq_reader **out, const char *name)
{
    struct dm_pq_reader *r = dm_calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    dm_arena_init(&r->arena, 64 << 10, (size_t)1 << 32);
    r->meta.path = dm_arena_strndup(&r->arena, name, strlen(name));
    if (!r->meta.path) {
        dm_arena_release(&r->arena);
        dm_free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

int dm_pq_reader_open_mem(struct dm_pq_reader **out, const void *data, size_t len,
                          const char *name, struct dm_error *err)
{
    *out = NULL;
    struct dm_pq_reader *r;
    if (reader_new(&r, name ? name : "<memory>"))
        return dm_error_set(err, -ENOMEM, "out of memory");
    r->data = data;
    r->size = len;
    int rc = open_bytes(r, err);
    if (rc) {
        dm_pq_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int dm_pq_reader_open(struct dm_pq_reader **out, const char *path, struct dm_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return dm_error_set(err, -e, "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return dm_error_set(err, -e, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dm_error_set(err, -EINVAL, "%s: not a regular file", path);
    }
    struct dm_pq_reader *r;
    if (reader_new(&r, path)) {
        close(fd);
        return dm_error_set(err, -ENOMEM, "%s: out of memory", path);
    }
    r->size = (size_t)st.st_size;
    if (r->size >= 12) {
        void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            dm_pq_reader_free(r);
            return dm_error_set(err, -e, "%s: mmap: %s", path, strerror(e));
        }
        r->map = m;
        r->map_len = r->size;
        r->data = m;
    }
    close(fd);
    int rc = open_bytes(r, err);
    if (rc) {
        dm_pq_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void dm_pq_reader_free(struct dm_pq_reader *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->map_len);
    dm_arena_release(&r->arena);
    dm_free(r);
}

const struct dm_pq_meta *dm_pq_reader_meta(const struct dm_pq_reader *r)
{
    return &r->meta;
}

int dm_pq_reader_column(const struct dm_pq_reader *r, const char *name)
{
    for (size_t i = 0; i < r->meta.ncols && i < (size_t)INT32_MAX; i++)
        if (!strcmp(r->meta.cols[i].name, name))
            return (int)i;
    return -1;
}

int dm_pq_reader_project(const struct dm_pq_reader *r, const char *const *names, size_t n,
                         size_t *idx, struct dm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int c = dm_pq_reader_column(r, names[i]);
        if (c < 0)
            return dm_error_set(err, -ENOENT, "%s: no column '%s'", r->meta.path, names[i]);
        idx[i] = (size_t)c;
    }
    return 0;
}

/* ---------------------------------------------------------------- statistics */

static int unsigned_order(const struct dm_pq_leaf *l)
{
    return l->type == DM_PQ_BYTE_ARRAY || l->type == DM_PQ_FIXED_LEN_BYTE_ARRAY ||
           (l->logical == DM_PQ_LOG_INTEGER && !l->int_signed);
}

static int decode_bound(const struct dm_pq_leaf *l, const uint8_t *p, size_t n, int64_t *iv,
                        double *fv, const uint8_t **sv, size_t *sn)
{
    switch (l->type) {
    case DM_PQ_BOOLEAN:
        if (n != 1)
            return -1;
        *iv = p[0] != 0;
        return 0;
    case DM_PQ_INT32: {
        if (n != 4)
            return -1;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        *iv = unsigned_order(l) ? (int64_t)u : (int64_t)(int32_t)u;
        return 0;
    }
    case DM_PQ_INT64: {
        if (n != 8)
            return -1;
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | p[i];
        *iv = (int64_t)u;
        return 0;
    }
    case DM_PQ_FLOAT: {
        if (n != 4)
            return -1;
        float f;
        memcpy(&f, p, 4);
        *fv = f;
        return isnan(*fv) ? -1 : 0;
    }
    case DM_PQ_DOUBLE:
        if (n != 8)
            return -1;
        memcpy(fv, p, 8);
        return isnan(*fv) ? -1 : 0;
    case DM_PQ_BYTE_ARRAY:
    case DM_PQ_FIXED_LEN_BYTE_ARRAY:
        *sv = p;
        *sn = n;
        return 0;
    case DM_PQ_INT96: return -1;
    }
    return -1;
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static void decode_stats(const struct dm_pq_reader *r, const struct dm_pq_leaf *l,
                         const struct raw_stats *rs, struct dm_pq_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->has_null_count = rs->has_null_count;
    st->null_count = rs->null_count;
    st->has_distinct_count = rs->has_distinct;
    st->distinct_count = rs->distinct;
    st->min_exact = rs->min_exact;
    st->max_exact = rs->max_exact;
    const uint8_t *mn, *mx;
    size_t mnn, mxn;
    int legacy;
    if (rs->has_min_value && rs->has_max_value) {
        mn = rs->min_value, mnn = rs->min_value_n, mx = rs->max_value, mxn = rs->max_value_n;
        legacy = 0;
    } else if (rs->has_min && rs->has_max) {
        mn = rs->min, mnn = rs->min_n, mx = rs->max, mxn = rs->max_n;
        legacy = 1;
    } else {
        return;
    }
    if (decode_bound(l, mn, mnn, &st->min_i, &st->min_f, &st->min_s, &st->min_slen) ||
        decode_bound(l, mx, mxn, &st->max_i, &st->max_f, &st->max_s, &st->max_slen))
        return;
    st->has_min_max = 1;
    int binary = l->type == DM_PQ_BYTE_ARRAY || l->type == DM_PQ_FIXED_LEN_BYTE_ARRAY;
    int same = mnn == mxn && (mnn == 0 || !memcmp(mn, mx, mnn));
    int trusted = 1;
    if (binary && r->app_mr && ver_lt(r, 1, 8, 0))
        trusted = 0; /* PARQUET-251 */
    if (unsigned_order(l) && !same) {
        if (legacy)
            trusted = 0; /* deprecated min/max use signed order */
        if ((r->app_mr && ver_lt(r, 1, 10, 0)) || (r->app_cpp && ver_lt(r, 1, 3, 0)))
            trusted = 0;
    }
    if (binary && legacy && !r->ver_ok)
        trusted = 0;
    /* sanity: min <= max in the column's order */
    if (trusted) {
        if (binary)
            trusted = bytes_cmp(st->min_s, st->min_slen, st->max_s, st->max_slen) <= 0;
        else if (l->type == DM_PQ_FLOAT || l->type == DM_PQ_DOUBLE)
            trusted = st->min_f <= st->max_f;
        else if (l->type == DM_PQ_INT64 && unsigned_order(l))
            trusted = (uint64_t)st->min_i <= (uint64_t)st->max_i;
        else
            trusted = st->min_i <= st->max_i;
    }
    st->min_max_trusted = trusted;
}

static const struct dm_pq_chunk_meta *prune_meta(const struct dm_pq_reader *r, size_t rg,
                                                 size_t col, int *all_null)
{
    *all_null = 0;
    if (rg >= r->meta.nrow_groups || col >= r->meta.ncols)
        return NULL;
    const struct dm_pq_row_group *g = &r->meta.row_groups[rg];
    const struct dm_pq_chunk_meta *cm = &g->cols[col];
    if (!cm->has_stats)
        return NULL;
    if (cm->stats.has_null_count && cm->stats.null_count >= g->num_rows)
        *all_null = 1;
    return cm;
}

int dm_pq_rg_may_contain_i64(const struct dm_pq_reader *r, size_t rg, size_t col, int64_t lo,
                             int64_t hi)
{
    int all_null;
    const struct dm_pq_chunk_meta *cm = prune_meta(r, rg, col, &all_null);
    if (!cm)
        return 1;
    if (all_null)
        return 0;
    const struct dm_pq_leaf *l = &r->meta.cols[col];
    if (!cm->stats.min_max_trusted ||
        (l->type != DM_PQ_INT32 && l->type != DM_PQ_INT64 && l->type != DM_PQ_BOOLEAN))
        return 1;
    if (l->type == DM_PQ_INT64 && unsigned_order(l))
        return !((uint64_t)cm->stats.max_i < (uint64_t)lo ||
                 (uint64_t)cm->stats.min_i > (uint64_t)hi);
    return !(cm->stats.max_i < lo || cm->stats.min_i > hi);
}

int dm_pq_rg_may_contain_f64(const struct dm_pq_reader *r, size_t rg, size_t col, double lo,
                             double hi)
{
    int all_null;
    const struct dm_pq_chunk_meta *cm = prune_meta(r, rg, col, &all_null);
    if (!cm)
        return 1;
    if (all_null)
        return 0;
    const struct dm_pq_leaf *l = &r->meta.cols[col];
    if (!cm->stats.min_max_trusted || (l->type != DM_PQ_FLOAT && l->type != DM_PQ_DOUBLE))
        return 1;
    return !(cm->stats.max_f < lo || cm->stats.min_f > hi);
}

int dm_pq_rg_may_contain_str(const struct dm_pq_reader *r, size_t rg, size_t col,
                             const void *lo, size_t lo_len, const void *hi, size_t hi_len)
{
    int all_null;
    const struct dm_pq_chunk_meta *cm = prune_meta(r, rg, col, &all_null);
    if (!cm)
        return 1;
    if (all_null)
        return 0;
    const struct dm_pq_leaf *l = &r->meta.cols[col];
    if (!cm->stats.min_max_trusted ||
        (l->type != DM_PQ_BYTE_ARRAY && l->type != DM_PQ_FIXED_LEN_BYTE_ARRAY))
        return 1;
    return !(bytes_cmp(cm->stats.max_s, cm->stats.max_slen, lo, lo_len) < 0 ||
             bytes_cmp(cm->stats.min_s, cm->stats.min_slen, hi, hi_len) > 0);
}

/* ---------------------------------------------------------------- reading */

void dm_pq_col_release(struct dm_col *c)
{
    if (!c)
        return;
    dm_free(c->valid);
    dm_free(c->v.b);
    dm_free(c->off);
    dm_free(c->bytes);
    memset(c, 0, sizeof(*c));
}

void dm_pq_chunk_release(struct dm_pq_chunk *c)
{
    if (!c)
        return;
    dm_pq_col_release(&c->values);
    dm_pq_col_release(&c->dict);
    dm_free(c->idx);
    dm_free(c->valid);
    memset(c, 0, sizeof(*c));
}

struct rd {
    const struct dm_pq_reader *r;
    const struct dm_pq_leaf *leaf;
    size_t rg, col;
    struct dm_error *err;
    struct dm_pq_chunk *out;
    size_t nrows, done;
    int idx_mode;
    int have_dict;
    uint8_t *valid; /* nrows, NULL while no null seen */
    /* scratch, reused across pages */
    uint8_t *page;
    size_t page_cap;
    uint32_t *lv;
    size_t lv_cap;
    uint32_t *ix;
    size_t ix_cap;
    int64_t *i64;
    size_t i64_cap;
    int64_t *i64b;
    size_t i64b_cap;
    int64_t page_off; /* file offset of the current page, for messages */
};

__attribute__((format(printf, 3, 4))) static int rd_fail(struct rd *d, int code,
                                                         const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (code == -ENOMEM)
        return dm_error_set(d->err, code, "%s: row group %zu, column '%s': out of memory",
                            d->r->meta.path, d->rg, d->leaf->name);
    return dm_error_set_at(d->err, code, d->page_off, 0,
                           "%s: row group %zu, column '%s': %s (page at offset %lld)",
                           d->r->meta.path, d->rg, d->leaf->name, what,
                           (long long)d->page_off);
}

static int grow(void **p, size_t *cap, size_t n, size_t esz)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < n)
        c *= 2;
    void *q = dm_reallocarray(*p, c, esz);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* Allocates a column of n value slots (and n + 1 offsets for strings). */
static int col_alloc(struct dm_col *c, enum dm_vtype t, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->type = t;
    size_t esz = t == DM_BOOL ? 1 : t == DM_I32 ? 4 : 8;
    /* Not zeroed: every row is written by the page decoders (nulls included, by spread). */
    if (t == DM_STR) {
        c->off = dm_reallocarray(NULL, n + 1, sizeof(*c->off));
        if (!c->off)
            return -ENOMEM;
        c->off[0] = 0;
        return 0;
    }
    c->v.b = dm_reallocarray(NULL, n ? n : 1, esz);
    return c->v.b ? 0 : -ENOMEM;
}

static int str_reserve(struct dm_col *c, size_t extra)
{
    if (extra > DM_BATCH_MAX_BYTES - c->nbytes)
        return DM_ETOOBIG;
    size_t need = c->nbytes + extra;
    if (need <= c->bytes_cap && c->bytes)
        return 0;
    size_t cap = c->bytes_cap ? c->bytes_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *b = dm_realloc(c->bytes, cap);
    if (!b)
        return -ENOMEM;
    c->bytes = b;
    c->bytes_cap = cap;
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* PLAIN: count values from p[0..n) into column c at rows base.. (dense). */
static int plain_decode(struct rd *d, const uint8_t *p, size_t n, struct dm_col *c, size_t base,
                        size_t count)
{
    const struct dm_pq_leaf *l = d->leaf;
    switch (l->type) {
    case DM_PQ_BOOLEAN:
        if ((count + 7) / 8 > n)
            return rd_fail(d, DM_ECORRUPT, "boolean values past the end of the page");
        for (size_t i = 0; i < count; i++)
            c->v.b[base + i] = (p[i >> 3] >> (i & 7)) & 1;
        return 0;
    case DM_PQ_INT32:
        if (count > n / 4)
            return rd_fail(d, DM_ECORRUPT, "int32 values past the end of the page");
        memcpy(c->v.i32 + base, p, count * 4);
        return 0;
    case DM_PQ_INT64:
        if (count > n / 8)
            return rd_fail(d, DM_ECORRUPT, "int64 values past the end of the page");
        memcpy(c->v.i64 + base, p, count * 8);
        return 0;
    case DM_PQ_INT96:
        if (count > n / 12)
            return rd_fail(d, DM_ECORRUPT, "int96 values past the end of the page");
        for (size_t i = 0; i < count; i++)
            c->v.i64[base + i] = dm_pq_int96_to_ns(p + 12 * i);
        return 0;
    case DM_PQ_FLOAT:
        if (count > n / 4)
            return rd_fail(d, DM_ECORRUPT, "float values past the end of the page");
        for (size_t i = 0; i < count; i++) {
            float f;
            memcpy(&f, p + 4 * i, 4);
            c->v.f64[base + i] = f;
        }
        return 0;
    case DM_PQ_DOUBLE:
        if (count > n / 8)
            return rd_fail(d, DM_ECORRUPT, "double values past the end of the page");
        memcpy(c->v.f64 + base, p, count * 8);
        return 0;
    case DM_PQ_BYTE_ARRAY: {
        /* the strings of a page take at most n bytes: reserve once, copy in a tight loop */
        int rc = str_reserve(c, n + 16); /* + slack for the 16-byte short-string copies */
        if (rc)
            return rd_fail(d, rc, "string data too large");
        size_t pos = 0;
        char *dst = c->bytes + c->nbytes;
        size_t used = 0;
        uint64_t *off = c->off + base + 1;
        uint64_t start = c->nbytes;
        for (size_t i = 0; i < count; i++) {
            if (n - pos < 4)
                return rd_fail(d, DM_ECORRUPT, "byte array length past the end of the page");
            uint32_t len = le32(p + pos);
            pos += 4;
            if (len > n - pos)
                return rd_fail(d, DM_ECORRUPT, "byte array of %u bytes past the end of the page",
                               len);
            if (len <= 16 && n - pos >= 16)
                memcpy(dst + used, p + pos, 16); /* fixed size: no libc call */
            else
                memcpy(dst + used, p + pos, len);
            used += len;
            off[i] = start + used;
            pos += len;
        }
        c->nbytes += used;
        return 0;
    }
    case DM_PQ_FIXED_LEN_BYTE_ARRAY: {
        size_t w = (size_t)l->type_length;
        if (count > n / w)
            return rd_fail(d, DM_ECORRUPT, "fixed-length values past the end of the page");
        int rc = str_reserve(c, count * w);
        if (rc)
            return rd_fail(d, rc, "string data too large");
        memcpy(c->bytes + c->nbytes, p, count * w);
        for (size_t i = 0; i < count; i++)
            c->off[base + i + 1] = c->nbytes + (i + 1) * w;
        c->nbytes += count * w;
        return 0;
    }
    }
    return rd_fail(d, DM_ECORRUPT, "invalid type");
}

/* Copies dictionary entries ix[0..count) into c at rows base.. (dense). */
static int dict_gather(struct rd *d, const uint32_t *ix, struct dm_col *c, size_t base,
                       size_t count)
{
    const struct dm_col *dc = &d->out->dict;
    switch (c->type) {
    case DM_BOOL:
        for (size_t i = 0; i < count; i++)
            c->v.b[base + i] = dc->v.b[ix[i]];
        return 0;
    case DM_I32:
        for (size_t i = 0; i < count; i++)
            c->v.i32[base + i] = dc->v.i32[ix[i]];
        return 0;
    case DM_I64:
        for (size_t i = 0; i < count; i++)
            c->v.i64[base + i] = dc->v.i64[ix[i]];
        return 0;
    case DM_F64:
        for (size_t i = 0; i < count; i++)
            c->v.f64[base + i] = dc->v.f64[ix[i]];
        return 0;
    case DM_STR: {
        size_t total = 0;
        for (size_t i = 0; i < count; i++)
            total += (size_t)(dc->off[ix[i] + 1] - dc->off[ix[i]]);
        int rc = str_reserve(c, total);
        if (rc)
            return rd_fail(d, rc, "string data too large");
        for (size_t i = 0; i < count; i++) {
            size_t a = (size_t)dc->off[ix[i]], len = (size_t)(dc->off[ix[i] + 1] - a);
            memcpy(c->bytes + c->nbytes, dc->bytes + a, len);
            c->nbytes += len;
            c->off[base + i + 1] = c->nbytes;
        }
        return 0;
    }
    }
    return 0;
}

/* Spreads nn dense values at rows base.. over n rows following valid[base..base+n). */
static void spread(struct dm_col *c, const uint8_t *valid, size_t base, size_t n, size_t nn)
{
    if (nn == n)
        return;
    size_t j = nn;
    switch (c->type) {
    case DM_STR: {
        uint64_t *o = c->off + base;
        o[n] = o[nn];
        for (size_t i = n; i-- > 0;) {
            if (valid[base + i]) {
                j--;
                o[i] = o[j];
            } else {
                o[i] = o[i + 1];
            }
        }
        return;
    }
    case DM_BOOL: {
        uint8_t *v = c->v.b + base;
        for (size_t i = n; i-- > 0;)
            v[i] = valid[base + i] ? v[--j] : 0;
        return;
    }
    case DM_I32: {
        int32_t *v = c->v.i32 + base;
        for (size_t i = n; i-- > 0;)
            v[i] = valid[base + i] ? v[--j] : 0;
        return;
    }
    case DM_I64: {
        int64_t *v = c->v.i64 + base;
        for (size_t i = n; i-- > 0;)
            v[i] = valid[base + i] ? v[--j] : 0;
        return;
    }
    case DM_F64: {
        double *v = c->v.f64 + base;
        for (size_t i = n; i-- > 0;)
            v[i] = valid[base + i] ? v[--j] : 0.0;
        return;
    }
    }
}

static void spread_idx(uint32_t *ix, const uint8_t *valid, size_t base, size_t n, size_t nn)
{
    if (nn == n)
        return;
    size_t j = nn;
    uint32_t *v = ix + base;
    for (size_t i = n; i-- > 0;)
        v[i] = valid[base + i] ? v[--j] : 0;
}

static int ensure_values(struct rd *d)
{
    if (d->out->values.off || d->out->values.v.b)
        return 0;
    return col_alloc(&d->out->values, d->leaf->vtype, d->nrows);
}

/* Leaves dictionary-index mode: writes the values of rows [0, done) from the dictionary. */
static int leave_idx_mode(struct rd *d)
{
    d->idx_mode = 0;
    if (ensure_values(d))
        return rd_fail(d, -ENOMEM, "oom");
    struct dm_col *c = &d->out->values;
    for (size_t i = 0; i < d->done; i++) {
        if (d->valid && !d->valid[i]) {
            if (c->type == DM_STR)
                c->off[i + 1] = c->off[i];
            continue;
        }
        int rc = dict_gather(d, d->out->idx + i, c, i, 1);
        if (rc)
            return rc;
    }
    dm_free(d->out->idx);
    d->out->idx = NULL;
    return 0;
}

static int read_dict_page(struct rd *d, const uint8_t *p, size_t n, int64_t num_values,
                          int enc)
{
    if (d->have_dict)
        return rd_fail(d, DM_ECORRUPT, "second dictionary page");
    if (num_values < 0 || num_values > INT32_MAX)
        return rd_fail(d, DM_ECORRUPT, "invalid dictionary size %lld", (long long)num_values);
    if (enc != DM_PQ_ENC_PLAIN && enc != DM_PQ_ENC_PLAIN_DICTIONARY)
        return rd_fail(d, DM_EUNSUPPORTED, "dictionary page encoding %s",
                       dm_pq_encoding_name(enc));
    /* every entry takes at least one bit (booleans) of the page */
    if ((uint64_t)num_values > (uint64_t)n * 8 + 8 && d->leaf->type != DM_PQ_FIXED_LEN_BYTE_ARRAY)
        return rd_fail(d, DM_ECORRUPT, "dictionary of %lld entries in %zu bytes",
                       (long long)num_values, n);
    size_t nd = (size_t)num_values;
    if (col_alloc(&d->out->dict, d->leaf->vtype, nd))
        return rd_fail(d, -ENOMEM, "oom");
    int rc = plain_decode(d, p, n, &d->out->dict, 0, nd);
    if (rc)
        return rc;
    d->out->ndict = nd;
    d->have_dict = 1;
    return 0;
}

static int need(struct rd *d, void **p, size_t *cap, size_t n, size_t esz)
{
    if (grow(p, cap, n, esz))
        return rd_fail(d, -ENOMEM, "oom");
    return 0;
}

/* Decodes the definition levels of a page: fills valid[done..done+nv), returns non-null
 * count in *nn. lv points at level data; *used receives the bytes taken. */
static int mark_valid(struct rd *d, const uint32_t *lv, size_t nv, size_t *nn)
{
    size_t cnt = 0;
    for (size_t i = 0; i < nv; i++) {
        if (lv[i] > 1)
            return rd_fail(d, DM_ECORRUPT, "definition level %u above the maximum 1", lv[i]);
        cnt += lv[i];
    }
    if (cnt != nv && !d->valid) {
        d->valid = dm_malloc(d->nrows ? d->nrows : 1);
        if (!d->valid)
            return rd_fail(d, -ENOMEM, "oom");
        memset(d->valid, 1, d->done);
    }
    if (d->valid)
        for (size_t i = 0; i < nv; i++)
            d->valid[d->done + i] = (uint8_t)lv[i];
    *nn = cnt;
    return 0;
}

static int decode_values(struct rd *d, int enc, const uint8_t *p, size_t n, size_t nn)
{
    const struct dm_pq_leaf *l = d->leaf;
    size_t base = d->done;
    if (enc == DM_PQ_ENC_PLAIN_DICTIONARY || enc == DM_PQ_ENC_RLE_DICTIONARY) {
        if (!d->have_dict)
            return rd_fail(d, DM_ECORRUPT, "dictionary-encoded page without a dictionary");
        if (nn == 0)
            return 0;
        if (n < 1)
            return rd_fail(d, DM_ECORRUPT, "missing dictionary index bit width");
        int bw = p[0];
        if (bw > 32)
            return rd_fail(d, DM_ECORRUPT, "dictionary index bit width %d", bw);
        uint32_t *ix;
        if (d->idx_mode) {
            ix = d->out->idx + base;
        } else {
            if (need(d, (void **)&d->ix, &d->ix_cap, nn, sizeof(uint32_t)))
                return -ENOMEM;
            ix = d->ix;
        }
        if (dm__pqr_rle_decode(p + 1, n - 1, bw, ix, nn, NULL))
            return rd_fail(d, DM_ECORRUPT, "truncated dictionary indexes");
        for (size_t i = 0; i < nn; i++)
            if (ix[i] >= d->out->ndict)
                return rd_fail(d, DM_ECORRUPT, "dictionary index %u out of range (%zu entries)",
                               ix[i], d->out->ndict);
        if (d->idx_mode)
            return 0;
        return dict_gather(d, ix, &d->out->values, base, nn);
    }
    struct dm_col *c = &d->out->values;
    switch (enc) {
    case DM_PQ_ENC_PLAIN: return plain_decode(d, p, n, c, base, nn);
    case DM_PQ_ENC_RLE: {
        if (l->type != DM_PQ_BOOLEAN)
            return rd_fail(d, DM_EUNSUPPORTED, "RLE encoding for %s", dm_pq_type_name(l->type));
        if (nn == 0)
            return 0;
        if (n < 4 || le32(p) > n - 4)
            return rd_fail(d, DM_ECORRUPT, "bad RLE boolean length");
        if (need(d, (void **)&d->ix, &d->ix_cap, nn, sizeof(uint32_t)))
            return -ENOMEM;
        if (dm__pqr_rle_decode(p + 4, le32(p), 1, d->ix, nn, NULL))
            return rd_fail(d, DM_ECORRUPT, "truncated RLE booleans");
        for (size_t i = 0; i < nn; i++)
            c->v.b[base + i] = (uint8_t)d->ix[i];
        return 0;
    }
    case DM_PQ_ENC_DELTA_BINARY_PACKED: {
        if (l->type != DM_PQ_INT32 && l->type != DM_PQ_INT64)
            return rd_fail(d, DM_EUNSUPPORTED, "DELTA_BINARY_PACKED for %s",
                           dm_pq_type_name(l->type));
        if (nn == 0)
            return 0;
        int64_t *dst;
        if (l->type == DM_PQ_INT64) {
            dst = c->v.i64 + base;
        } else {
            if (need(d, (void **)&d->i64, &d->i64_cap, nn, sizeof(int64_t)))
                return -ENOMEM;
            dst = d->i64;
        }
        if (dm__pqr_delta_decode(p, n, dst, nn, NULL))
            return rd_fail(d, DM_ECORRUPT, "bad DELTA_BINARY_PACKED data");
        if (l->type == DM_PQ_INT32)
            for (size_t i = 0; i < nn; i++)
                c->v.i32[base + i] = (int32_t)(uint32_t)(uint64_t)dst[i];
        return 0;
    }
    case DM_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case DM_PQ_ENC_DELTA_BYTE_ARRAY: {
        if (l->type != DM_PQ_BYTE_ARRAY &&
            !(enc == DM_PQ_ENC_DELTA_BYTE_ARRAY && l->type == DM_PQ_FIXED_LEN_BYTE_ARRAY))
            return rd_fail(d, DM_EUNSUPPORTED, "%s for %s", dm_pq_encoding_name(enc),
                           dm_pq_type_name(l->type));
        if (nn == 0)
            return 0;
        size_t pos = 0, used;
        int64_t *pre = NULL;
        if (enc == DM_PQ_ENC_DELTA_BYTE_ARRAY) {
            if (need(d, (void **)&d->i64b, &d->i64b_cap, nn, sizeof(int64_t)))
                return -ENOMEM;
            pre = d->i64b;
            if (dm__pqr_delta_decode(p, n, pre, nn, &used))
                return rd_fail(d, DM_ECORRUPT, "bad DELTA_BYTE_ARRAY prefix lengths");
            pos = used;
        }
        if (need(d, (void **)&d->i64, &d->i64_cap, nn, sizeof(int64_t)))
            return -ENOMEM;
        if (dm__pqr_delta_decode(p + pos, n - pos, d->i64, nn, &used))
            return rd_fail(d, DM_ECORRUPT, "bad %s lengths", dm_pq_encoding_name(enc));
        pos += used;
        size_t prev_len = 0, prev_off = 0;
        for (size_t i = 0; i < nn; i++) {
            int64_t len = d->i64[i];
            int64_t pl = pre ? pre[i] : 0;
            if (len < 0 || (uint64_t)len > n - pos)
                return rd_fail(d, DM_ECORRUPT, "byte array length %lld out of range",
                               (long long)len);
            if (pl < 0 || (uint64_t)pl > prev_len)
                return rd_fail(d, DM_ECORRUPT, "prefix length %lld longer than the previous "
                               "value", (long long)pl);
            size_t total = (size_t)pl + (size_t)len;
            if (l->type == DM_PQ_FIXED_LEN_BYTE_ARRAY && total != (size_t)l->type_length)
                return rd_fail(d, DM_ECORRUPT, "value of %zu bytes in a fixed-length column",
                               total);
            int rc = str_reserve(c, total);
            if (rc)
                return rd_fail(d, rc, "string data too large");
            size_t start = c->nbytes;
            if (pl)
                memmove(c->bytes + start, c->bytes + prev_off, (size_t)pl);
            if (len)
                memcpy(c->bytes + start + pl, p + pos, (size_t)len);
            c->nbytes += total;
            c->off[base + i + 1] = c->nbytes;
            pos += (size_t)len;
            prev_off = start;
            prev_len = total;
        }
        return 0;
    }
    case DM_PQ_ENC_BYTE_STREAM_SPLIT: {
        if (nn == 0)
            return 0;
        switch (l->type) {
        case DM_PQ_INT32:
            if (dm__pqr_bss_decode(p, n, 4, (uint8_t *)(c->v.i32 + base), nn))
                break;
            return 0;
        case DM_PQ_INT64:
            if (dm__pqr_bss_decode(p, n, 8, (uint8_t *)(c->v.i64 + base), nn))
                break;
            return 0;
        case DM_PQ_DOUBLE:
            if (dm__pqr_bss_decode(p, n, 8, (uint8_t *)(c->v.f64 + base), nn))
                break;
            return 0;
        case DM_PQ_FLOAT: {
            if (need(d, (void **)&d->ix, &d->ix_cap, nn, sizeof(uint32_t)))
                return -ENOMEM;
            if (dm__pqr_bss_decode(p, n, 4, (uint8_t *)d->ix, nn))
                break;
            for (size_t i = 0; i < nn; i++) {
                float f;
                memcpy(&f, d->ix + i, 4);
                c->v.f64[base + i] = f;
            }
            return 0;
        }
        case DM_PQ_FIXED_LEN_BYTE_ARRAY: {
            size_t w = (size_t)l->type_length;
            if (nn > n / w)
                break;
            int rc = str_reserve(c, nn * w);
            if (rc)
                return rd_fail(d, rc, "string data too large");
            if (dm__pqr_bss_decode(p, n, w, (uint8_t *)c->bytes + c->nbytes, nn))
                break;
            for (size_t i = 0; i < nn; i++)
                c->off[base + i + 1] = c->nbytes + (i + 1) * w;
            c->nbytes += nn * w;
            return 0;
        }
        default:
            return rd_fail(d, DM_EUNSUPPORTED, "BYTE_STREAM_SPLIT for %s",
                           dm_pq_type_name(l->type));
        }
        return rd_fail(d, DM_ECORRUPT, "BYTE_STREAM_SPLIT data shorter than %zu values", nn);
    }
    default:
        return rd_fail(d, DM_EUNSUPPORTED, "value encoding %s (%d)", dm_pq_encoding_name(enc),
                       enc);
    }
}

/* One data page (v1 or v2) whose level + value bytes are lv_p[0..lv_n) (levels, v2) and
 * vp[0..vn) (values; for v1 everything is in vp). */
static int data_page(struct rd *d, int v2, int64_t num_values, int enc, int def_enc,
                     const uint8_t *levels, size_t levels_n, const uint8_t *vp, size_t vn)
{
    if (num_values < 0 || (uint64_t)num_values > d->nrows - d->done)
        return rd_fail(d, DM_ECORRUPT, "page holds %lld values, %zu rows remain",
                       (long long)num_values, d->nrows - d->done);
    size_t nv = (size_t)num_values, nn = nv;
    int is_dict = enc == DM_PQ_ENC_PLAIN_DICTIONARY || enc == DM_PQ_ENC_RLE_DICTIONARY;
    if (d->idx_mode && !is_dict) {
        int rc = leave_idx_mode(d);
        if (rc)
            return rc;
    }
    if (!d->idx_mode && ensure_values(d))
        return rd_fail(d, -ENOMEM, "oom");
    if (d->leaf->optional) {
        if (need(d, (void **)&d->lv, &d->lv_cap, nv ? nv : 1, sizeof(uint32_t)))
            return -ENOMEM;
        size_t used = 0;
        if (v2) {
            if (dm__pqr_rle_decode(levels, levels_n, 1, d->lv, nv, NULL))
                return rd_fail(d, DM_ECORRUPT, "truncated definition levels");
        } else if (def_enc == DM_PQ_ENC_BIT_PACKED) {
            if (dm__pqr_bitpacked_decode(vp, vn, 1, d->lv, nv, &used))
                return rd_fail(d, DM_ECORRUPT, "truncated definition levels");
            vp += used, vn -= used;
        } else if (def_enc == DM_PQ_ENC_RLE) {
            if (vn < 4 || le32(vp) > vn - 4)
                return rd_fail(d, DM_ECORRUPT, "definition level length past the page");
            size_t ln = le32(vp);
            if (dm__pqr_rle_decode(vp + 4, ln, 1, d->lv, nv, NULL))
                return rd_fail(d, DM_ECORRUPT, "truncated definition levels");
            vp += 4 + ln, vn -= 4 + ln;
        } else {
            return rd_fail(d, DM_EUNSUPPORTED, "definition level encoding %s",
                           dm_pq_encoding_name(def_enc));
        }
        int rc = mark_valid(d, d->lv, nv, &nn);
        if (rc)
            return rc;
    } else if (d->valid) {
        memset(d->valid + d->done, 1, nv);
    }
    int rc = decode_values(d, enc, vp, vn, nn);
    if (rc)
        return rc;
    if (nn != nv) {
        if (d->idx_mode)
            spread_idx(d->out->idx, d->valid, d->done, nv, nn);
        else
            spread(&d->out->values, d->valid, d->done, nv, nn);
    }
    d->done += nv;
    return 0;
}

struct page_hdr {
    int type;
    int64_t usize, csize;
    int has_dp, has_dict, has_v2;
    int64_t num_values, num_nulls, num_rows;
    int enc, def_enc, rep_enc;
    int64_t def_len, rep_len;
    int is_compressed;
};

static int parse_dp(struct parse *ps, struct page_hdr *h, int v2)
{
    int req = 0;
    FIELDS_BEGIN(ps)
    int64_t v;
    if (!v2 && id >= 1 && id <= 4) {
        if (rd_int(ps, ty, INT32_MIN, INT32_MAX, &v))
            return -1;
        if (id == 1)
            h->num_values = v;
        else if (id == 2)
            h->enc = (int)v;
        else if (id == 3)
            h->def_enc = (int)v;
        else
            h->rep_enc = (int)v;
        req |= 1 << id;
    } else if (v2 && id >= 1 && id <= 6) {
        if (rd_int(ps, ty, INT32_MIN, INT32_MAX, &v))
            return -1;
        switch (id) {
        case 1: h->num_values = v; break;
        case 2: h->num_nulls = v; break;
        case 3: h->num_rows = v; break;
        case 4: h->enc = (int)v; break;
        case 5: h->def_len = v; break;
        case 6: h->rep_len = v; break;
        }
        req |= 1 << id;
    } else if (v2 && id == 7 && (ty == DM__TT_TRUE || ty == DM__TT_FALSE)) {
        h->is_compressed = bval;
    } else if (skip(ps, ty)) {
        return -1;
    }
    FIELDS_END(ps);
    if (!v2 && (req & 0x06) != 0x06) /* num_values, encoding */
        return dm__thrift_fail(&ps->t, "data page header misses a required field");
    if (v2 && (req & 0x7e) != 0x7e)
        return dm__thrift_fail(&ps->t, "data page v2 header misses a required field");
    return 0;
}

static int parse_dict_hdr(struct parse *ps, struct page_hdr *h)
{
    int sub_req = 0;
    FIELDS_BEGIN(ps)
    int64_t x;
    if ((id == 1 || id == 2) && ty != DM__TT_TRUE && ty != DM__TT_FALSE) {
        if (rd_int(ps, ty, INT32_MIN, INT32_MAX, &x))
            return -1;
        if (id == 1)
            h->num_values = x;
        else
            h->enc = (int)x;
        sub_req |= 1 << id;
    } else if (skip(ps, ty)) {
        return -1;
    }
    FIELDS_END(ps);
    if (sub_req != 0x6)
        return dm__thrift_fail(&ps->t, "dictionary page header misses a required field");
    return 0;
}

static int parse_page_header(struct parse *ps, struct page_hdr *h)
{
    memset(h, 0, sizeof(*h));
    h->type = -1;
    h->is_compressed = 1;
    h->def_enc = DM_PQ_ENC_RLE;
    int req = 0;
    FIELDS_BEGIN(ps)
    int64_t v;
    switch (id) {
    case 1:
    case 2:
    case 3:
        if (rd_int(ps, ty, INT32_MIN, INT32_MAX, &v))
            return -1;
        if (id == 1)
            h->type = (int)v;
        else if (id == 2)
            h->usize = v;
        else
            h->csize = v;
        req |= 1 << id;
        break;
    case 5:
    case 8:
        if (want(ps, ty, DM__TT_STRUCT) || parse_dp(ps, h, id == 8))
            return -1;
        if (id == 5)
            h->has_dp = 1;
        else
            h->has_v2 = 1;
        break;
    case 7:
        if (want(ps, ty, DM__TT_STRUCT) || parse_dict_hdr(ps, h))
            return -1;
        h->has_dict = 1;
        break;
    default:
        if (skip(ps, ty))
            return -1;
    }
    FIELDS_END(ps);
    if (req != 0xe)
        return dm__thrift_fail(&ps->t, "page header misses a required field");
    return 0;
}

static int read_pages(struct rd *d, const struct dm_pq_chunk_meta *cm)
{
    const struct dm_pq_reader *r = d->r;
    int64_t start = cm->data_page_offset;
    if (cm->dictionary_page_offset > 0 && cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    int64_t len = cm->total_compressed_size;
    d->page_off = start;
    if (start < 4 || (uint64_t)start >= r->size || len <= 0 ||
        (uint64_t)len > r->size - (uint64_t)start)
        return rd_fail(d, DM_ECORRUPT, "column chunk [%lld, +%lld) outside the file of %zu bytes",
                       (long long)start, (long long)len, r->size);
    const uint8_t *p = r->data + start, *end = p + len;
    while (d->done < d->nrows) {
        d->page_off = (int64_t)(p - r->data);
        if (p >= end)
            return rd_fail(d, DM_ECORRUPT, "column chunk ends after %zu of %zu rows", d->done,
                           d->nrows);
        struct parse ps;
        memset(&ps, 0, sizeof(ps));
        ps.r = (struct dm_pq_reader *)r;
        dm__thrift_init(&ps.t, p, (size_t)(end - p));
        struct page_hdr h;
        if (parse_page_header(&ps, &h) || ps.t.bad)
            return rd_fail(d, DM_ECORRUPT, "bad page header: %s",
                           ps.t.why ? ps.t.why : "invalid thrift");
        p += dm__thrift_pos(&ps.t);
        if (h.csize < 0 || h.usize < 0 || h.csize > end - p)
            return rd_fail(d, DM_ECORRUPT, "page of %lld bytes past the end of the column chunk",
                           (long long)h.csize);
        if (h.usize > MAX_PAGE_BYTES)
            return rd_fail(d, DM_ETOOBIG, "page of %lld uncompressed bytes", (long long)h.usize);
        const uint8_t *body = p;
        size_t clen = (size_t)h.csize, ulen = (size_t)h.usize;
        p += clen;
        int rc;
        if (h.type == 2) { /* DICTIONARY_PAGE */
            if (!h.has_dict)
                return rd_fail(d, DM_ECORRUPT, "dictionary page without its header");
            const uint8_t *vals = body;
            if ((int)cm->codec != DM_PQ_UNCOMPRESSED) {
                if (need(d, (void **)&d->page, &d->page_cap, ulen + 1, 1))
                    return -ENOMEM;
                struct dm_error e2;
                dm_error_clear(&e2);
                rc = dm_codec_decompress((enum dm_codec)cm->codec, body, clen, d->page, ulen,
                                         &e2);
                if (rc)
                    return rd_fail(d, rc, "dictionary page: %s", e2.msg);
                vals = d->page;
            } else {
                ulen = clen;
            }
            rc = read_dict_page(d, vals, ulen, h.num_values, h.enc);
            if (rc)
                return rc;
        } else if (h.type == 0 || h.type == 3) {
            int v2 = h.type == 3;
            if ((!v2 && !h.has_dp) || (v2 && !h.has_v2))
                return rd_fail(d, DM_ECORRUPT, "data page without its header");
            const uint8_t *levels = NULL;
            size_t levels_n = 0;
            const uint8_t *vals = body;
            size_t vn = clen;
            size_t vu = ulen;
            if (v2) {
                if (h.rep_len < 0 || h.def_len < 0 || h.rep_len + h.def_len > h.csize ||
                    h.rep_len + h.def_len > h.usize)
                    return rd_fail(d, DM_ECORRUPT, "level lengths exceed the page");
                /* a flat column's repetition levels are all 0 (bit width 0): skip them */
                size_t lvl = (size_t)(h.rep_len + h.def_len);
                levels = body + h.rep_len;
                levels_n = (size_t)h.def_len;
                vals = body + lvl;
                vn = clen - lvl;
                vu = ulen - lvl;
            }
            int compressed = (int)cm->codec != DM_PQ_UNCOMPRESSED && (!v2 || h.is_compressed);
            if (compressed && vn == 0 && vu == 0) {
                compressed = 0; /* empty value section: never call the decompressor */
            }
            if (compressed) {
                if (need(d, (void **)&d->page, &d->page_cap, vu + 1, 1))
                    return -ENOMEM;
                struct dm_error e2;
                dm_error_clear(&e2);
                rc = dm_codec_decompress((enum dm_codec)cm->codec, vals, vn, d->page, vu, &e2);
                if (rc)
                    return rd_fail(d, rc, "%s", e2.msg);
                vals = d->page;
                vn = vu;
            }
            rc = data_page(d, v2, h.num_values, h.enc, h.def_enc, levels, levels_n, vals, vn);
            if (rc)
                return rc;
        }
        /* INDEX_PAGE and unknown page types are skipped */
    }
    return 0;
}

int dm_pq_read_chunk(const struct dm_pq_reader *r, size_t rg, size_t col, unsigned flags,
                     struct dm_pq_chunk *out, struct dm_error *err)
{
    memset(out, 0, sizeof(*out));
    if (rg >= r->meta.nrow_groups || col >= r->meta.ncols)
        return dm_error_set(err, -EINVAL, "%s: no row group %zu / column %zu", r->meta.path, rg,
                            col);
    const struct dm_pq_row_group *g = &r->meta.row_groups[rg];
    const struct dm_pq_chunk_meta *cm = &g->cols[col];
    struct rd d;
    memset(&d, 0, sizeof(d));
    d.r = r;
    d.leaf = &r->meta.cols[col];
    d.rg = rg;
    d.col = col;
    d.err = err;
    d.out = out;
    d.page_off = -1;
    if (g->num_rows > MAX_RG_ROWS)
        return rd_fail(&d, DM_ETOOBIG, "row group of %lld rows", (long long)g->num_rows);
    d.nrows = (size_t)g->num_rows;
    out->nrows = d.nrows;
    if (cm->num_values != g->num_rows && !(g->num_rows == 0))
        return rd_fail(&d, DM_ECORRUPT, "column chunk has %lld values for %lld rows",
                       (long long)cm->num_values, (long long)g->num_rows);
    if (cm->codec == DM_PQ_LZO || cm->codec == DM_PQ_BROTLI || (int)cm->codec < 0 ||
        (int)cm->codec > 7)
        return rd_fail(&d, DM_EUNSUPPORTED, "compression codec %s (%d)",
                       dm_pq_codec_label((int)cm->codec), (int)cm->codec);
    d.idx_mode = (flags & DM_PQ_READ_DICT) != 0;
    int rc = 0;
    if (d.idx_mode) {
        out->idx = dm_reallocarray(NULL, d.nrows ? d.nrows : 1, sizeof(uint32_t));
        if (!out->idx)
            rc = rd_fail(&d, -ENOMEM, "oom");
    }
    if (!rc && d.nrows > 0) /* 0-row groups: never walk pages (Arrow 17 writes offset 0) */
        rc = read_pages(&d, cm);
    if (!rc && d.idx_mode && !d.have_dict) {
        /* no dictionary at all (no rows, or a chunk without pages): plain mode */
        d.idx_mode = 0;
        dm_free(out->idx);
        out->idx = NULL;
    }
    if (!rc && !d.idx_mode && ensure_values(&d))
        rc = rd_fail(&d, -ENOMEM, "oom");
    if (!rc) {
        out->is_dict = d.idx_mode;
        if (d.idx_mode) {
            out->valid = d.valid;
        } else {
            out->values.valid = d.valid;
            out->values.type = d.leaf->vtype;
            dm_pq_col_release(&out->dict);
            out->ndict = 0;
        }
        d.valid = NULL;
    }
    dm_free(d.valid);
    dm_free(d.page);
    dm_free(d.lv);
    dm_free(d.ix);
    dm_free(d.i64);
    dm_free(d.i64b);
    return rc;
}
