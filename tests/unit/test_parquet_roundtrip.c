/* Writer -> reader round trips: every physical/logical type x {required, optional with
 * nulls, optional all null} x {low cardinality (dictionary), high cardinality (dictionary
 * fallback)} in one schema, written with every codec and with the dictionary on, off and
 * with a tiny dictionary limit; several row groups and many pages. Every value, the
 * dictionary view, the schema annotations and the statistics are checked against the
 * generator. Edge files: empty, one row, long strings, one-value dictionaries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_batch.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "dm_pq_reader.h"
#include "dm_test.h"

enum nullmode { NM_REQ, NM_OPT, NM_ALLNULL };

struct tcol {
    struct dm_pq_column_spec spec;
    enum nullmode nm;
    int high; /* high cardinality */
    char name[48];
};

#define MAXC 80
static struct tcol cols[MAXC];
static size_t ncols;

static const struct {
    const char *tag;
    struct dm_pq_column_spec spec;
} kinds[] = {
    {"bool", {.type = DM_PQ_BOOLEAN}},
    {"i32", {.type = DM_PQ_INT32}},
    {"i64", {.type = DM_PQ_INT64}},
    {"f64", {.type = DM_PQ_DOUBLE}},
    {"bin", {.type = DM_PQ_BYTE_ARRAY}},
    {"str", {.type = DM_PQ_BYTE_ARRAY, .logical = DM_PQ_LOG_STRING}},
    {"ts_us", {.type = DM_PQ_INT64, .logical = DM_PQ_LOG_TIMESTAMP, .ts_unit = DM_PQ_MICROS,
               .ts_utc = 1}},
    {"ts_ms_local", {.type = DM_PQ_INT64, .logical = DM_PQ_LOG_TIMESTAMP,
                     .ts_unit = DM_PQ_MILLIS}},
    {"i8", {.type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 8, .int_signed = 1}},
    {"u8", {.type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 8}},
    {"i16", {.type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 16, .int_signed = 1}},
    {"u16", {.type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 16}},
    {"u32", {.type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 32}},
    {"u64", {.type = DM_PQ_INT64, .logical = DM_PQ_LOG_INTEGER, .int_bits = 64}},
    {"i64_ann", {.type = DM_PQ_INT64, .logical = DM_PQ_LOG_INTEGER, .int_bits = 64,
                 .int_signed = 1}},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void build_schema(void)
{
    static const char *const nmn[] = {"req", "opt", "null"};
    ncols = 0;
    for (size_t k = 0; k < NKINDS; k++)
        for (int nm = 0; nm < 3; nm++)
            for (int high = 0; high < 2; high++) {
                if (nm == NM_ALLNULL && high)
                    continue;
                struct tcol *c = &cols[ncols++];
                c->spec = kinds[k].spec;
                c->nm = (enum nullmode)nm;
                c->high = high;
                c->spec.optional = nm != NM_REQ;
                snprintf(c->name, sizeof(c->name), "%s_%s_%s", kinds[k].tag, nmn[nm],
                         high ? "hi" : "lo");
                c->spec.name = c->name;
            }
    assert_true(ncols <= MAXC);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

struct val {
    int null;
    int64_t i;
    double f;
    char s[64];
    size_t n;
};

/* The value of column c at row r (deterministic). */
static void value(size_t ci, uint64_t r, struct val *v)
{
    const struct tcol *c = &cols[ci];
    uint64_t h = mix(r * 1000003 + ci * 7919 + 17);
    memset(v, 0, sizeof(*v));
    if (c->nm == NM_ALLNULL || (c->nm == NM_OPT && h % 10 < 3)) {
        v->null = 1;
        return;
    }
    uint64_t x = c->high ? mix(h) : mix(h) % 5;
    const struct dm_pq_column_spec *s = &c->spec;
    switch (s->type) {
    case DM_PQ_BOOLEAN: v->i = (int64_t)(x & 1); break;
    case DM_PQ_INT32:
        if (s->logical == DM_PQ_LOG_INTEGER && s->int_bits == 8)
            v->i = s->int_signed ? (int8_t)x : (uint8_t)x;
        else if (s->logical == DM_PQ_LOG_INTEGER && s->int_bits == 16)
            v->i = s->int_signed ? (int16_t)x : (uint16_t)x;
        else
            v->i = (int32_t)(uint32_t)(c->high ? x : x * 1000000007ull); /* wraps: sign bit */
        break;
    case DM_PQ_INT64: v->i = (int64_t)(c->high ? x : x * 0x9e3779b97f4a7c15ull); break;
    case DM_PQ_DOUBLE:
        v->f = c->high ? ldexp((double)(int64_t)x, -(int)(x % 70)) : (double)x - 2.0;
        if (!c->high && x == 2)
            v->f = -0.0;
        break;
    default:
        if (c->high)
            v->n = (size_t)snprintf(v->s, sizeof(v->s), "v%llx", (unsigned long long)x);
        else
            v->n = (size_t)snprintf(v->s, sizeof(v->s), "%.*s", (int)x, "\xc3\xa9\xff" "abc");
        break;
    }
}

static int set(struct dm_batch *b, size_t ci, const struct val *v)
{
    if (v->null)
        return dm_batch_set_null(b, ci);
    switch (cols[ci].spec.type) {
    case DM_PQ_BOOLEAN: dm_batch_set_bool(b, ci, (int)v->i); return 0;
    case DM_PQ_INT32: dm_batch_set_i32(b, ci, (int32_t)v->i); return 0;
    case DM_PQ_INT64: dm_batch_set_i64(b, ci, v->i); return 0;
    case DM_PQ_DOUBLE: dm_batch_set_f64(b, ci, v->f); return 0;
    default: return dm_batch_set_str(b, ci, v->s, v->n);
    }
}

static char dir[256];

static int setup(void **state)
{
    (void)state;
    build_schema();
    snprintf(dir, sizeof(dir), "build/test-pqrt-%ld", (long)getpid());
    return mkdir(dir, 0755);
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

/* Writes rows [0, nrows) of the schema (first ncol columns) to path. */
static void write_file(const char *path, size_t ncol, uint64_t nrows,
                       const struct dm_pq_writer_opts *o)
{
    struct dm_pq_column_spec specs[MAXC];
    enum dm_vtype types[MAXC];
    for (size_t i = 0; i < ncol; i++) {
        specs[i] = cols[i].spec;
        types[i] = (enum dm_vtype)specs[i].type;
    }
    struct dm_pq_writer *w;
    struct dm_error err;
    int rc = dm_pq_writer_open(&w, path, specs, ncol, o, &err);
    if (rc)
        fprintf(stderr, "# open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, types, ncol, 777), 0);
    for (uint64_t r = 0; r < nrows; r++) {
        for (size_t i = 0; i < ncol; i++) {
            struct val v;
            value(i, r, &v);
            assert_int_equal(set(&b, i, &v), 0);
        }
        assert_int_equal(dm_batch_commit_row(&b), 0);
        if (b.nrows == 777 || r + 1 == nrows) {
            rc = dm_pq_writer_write(w, &b, &err);
            if (rc)
                fprintf(stderr, "# write: %s\n", err.msg);
            assert_int_equal(rc, 0);
            dm_batch_clear(&b);
        }
    }
    dm_batch_release(&b);
    rc = dm_pq_writer_close(w, &err);
    if (rc)
        fprintf(stderr, "# close: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static int cmp_u(const struct dm_pq_column_spec *s, int64_t a, int64_t b)
{
    int uns = s->logical == DM_PQ_LOG_INTEGER && !s->int_signed;
    if (uns && s->type == DM_PQ_INT32) {
        uint32_t x = (uint32_t)a, y = (uint32_t)b;
        return (x > y) - (x < y);
    }
    if (uns) {
        uint64_t x = (uint64_t)a, y = (uint64_t)b;
        return (x > y) - (x < y);
    }
    return (a > b) - (a < b);
}

static int cmp_s(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Checks column chunk (rg, ci) read from r against the generator; row0 is its first row. */
static void check_chunk(const struct dm_pq_reader *r, size_t rg, size_t ci, uint64_t row0,
                        unsigned flags, int expect_dict)
{
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    size_t n = (size_t)m->row_groups[rg].num_rows;
    struct dm_pq_chunk ch;
    memset(&ch, 0, sizeof(ch));
    struct dm_error err;
    int rc = dm_pq_read_chunk(r, rg, ci, flags, &ch, &err);
    if (rc)
        fprintf(stderr, "# read %s rg %zu: %s\n", cols[ci].name, rg, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(ch.nrows, n);
    if (flags & DM_PQ_READ_DICT) {
        if (expect_dict >= 0 && ch.is_dict != expect_dict)
            fprintf(stderr, "# %s rg %zu: is_dict %d, expected %d\n", cols[ci].name, rg,
                    ch.is_dict, expect_dict);
        if (expect_dict >= 0)
            assert_int_equal(ch.is_dict, expect_dict);
    }
    const struct dm_pq_column_spec *s = &cols[ci].spec;
    /* Statistics from the footer. */
    const struct dm_pq_chunk_meta *cm = &m->row_groups[rg].cols[ci];
    int64_t nulls = 0;
    int have = 0;
    struct val mn, mx;
    for (size_t i = 0; i < n; i++) {
        struct val v;
        value(ci, row0 + i, &v);
        const struct dm_col *col = ch.is_dict ? &ch.dict : &ch.values;
        size_t at = ch.is_dict ? ch.idx[i] : i;
        int isnull = ch.is_dict ? (ch.valid && !ch.valid[i]) : dm_col_is_null(&ch.values, i);
        if (v.null != isnull)
            fprintf(stderr, "# %s row %llu: null %d, expected %d\n", cols[ci].name,
                    (unsigned long long)(row0 + i), isnull, v.null);
        assert_int_equal(isnull, v.null);
        if (v.null) {
            nulls++;
            continue;
        }
        if (ch.is_dict)
            assert_true(at < ch.ndict);
        switch (s->type) {
        case DM_PQ_BOOLEAN: assert_int_equal(col->v.b[at], v.i); break;
        case DM_PQ_INT32: assert_int_equal(col->v.i32[at], (int32_t)v.i); break;
        case DM_PQ_INT64: assert_true(col->v.i64[at] == v.i); break;
        case DM_PQ_DOUBLE:
            assert_memory_equal(&col->v.f64[at], &v.f, 8); /* bit-exact, -0.0 kept */
            break;
        default: {
            size_t len;
            const char *p = dm_col_str(col, at, &len);
            assert_int_equal(len, v.n);
            assert_memory_equal(p, v.s, len);
        }
        }
        /* Track min/max in the column's order. */
        if (!have) {
            mn = mx = v;
            have = 1;
        } else if (s->type == DM_PQ_DOUBLE) {
            if (v.f < mn.f)
                mn = v;
            if (v.f > mx.f)
                mx = v;
        } else if (s->type == DM_PQ_BYTE_ARRAY) {
            if (cmp_s(v.s, v.n, mn.s, mn.n) < 0)
                mn = v;
            if (cmp_s(v.s, v.n, mx.s, mx.n) > 0)
                mx = v;
        } else {
            if (cmp_u(s, v.i, mn.i) < 0)
                mn = v;
            if (cmp_u(s, v.i, mx.i) > 0)
                mx = v;
        }
    }
    assert_true(cm->has_stats);
    assert_true(cm->stats.has_null_count);
    assert_int_equal(cm->stats.null_count, nulls);
    assert_int_equal(cm->num_values, n);
    assert_int_equal(cm->stats.has_min_max, have);
    if (have) {
        assert_true(cm->stats.min_max_trusted);
        switch (s->type) {
        case DM_PQ_DOUBLE:
            if (mn.f == 0)
                mn.f = -0.0;
            if (mx.f == 0)
                mx.f = 0.0;
            assert_memory_equal(&cm->stats.min_f, &mn.f, 8);
            assert_memory_equal(&cm->stats.max_f, &mx.f, 8);
            break;
        case DM_PQ_BYTE_ARRAY:
            assert_int_equal(cm->stats.min_slen, mn.n);
            assert_memory_equal(cm->stats.min_s, mn.s, mn.n);
            assert_int_equal(cm->stats.max_slen, mx.n);
            assert_memory_equal(cm->stats.max_s, mx.s, mx.n);
            break;
        case DM_PQ_INT32: {
            int uns = s->logical == DM_PQ_LOG_INTEGER && !s->int_signed;
            int64_t wmn = uns ? (int64_t)(uint32_t)mn.i : (int32_t)mn.i;
            int64_t wmx = uns ? (int64_t)(uint32_t)mx.i : (int32_t)mx.i;
            assert_true(cm->stats.min_i == wmn);
            assert_true(cm->stats.max_i == wmx);
            /* Pruning on the statistics agrees with the data. */
            assert_int_equal(dm_pq_rg_may_contain_i64(r, rg, ci, wmn, wmn), 1);
            if (wmx < INT64_MAX && (!uns || wmx < (int64_t)UINT32_MAX))
                assert_int_equal(dm_pq_rg_may_contain_i64(r, rg, ci, wmx + 1, wmx + 1), 0);
            break;
        }
        default:
            assert_true(cm->stats.min_i == mn.i);
            assert_true(cm->stats.max_i == mx.i);
            break;
        }
    }
    dm_pq_chunk_release(&ch);
}

static void check_file(const char *path, size_t ncol, uint64_t nrows, size_t rg_rows,
                       enum dm_pq_codec codec, int dict_mode)
{
    struct dm_pq_reader *r;
    struct dm_error err;
    int rc = dm_pq_reader_open(&r, path, &err);
    if (rc)
        fprintf(stderr, "# reader: %s\n", err.msg);
    assert_int_equal(rc, 0);
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    assert_int_equal(m->num_rows, nrows);
    assert_int_equal(m->ncols, ncol);
    assert_int_equal(m->nrow_groups, (nrows + rg_rows - 1) / rg_rows);
    assert_true(strncmp(m->created_by, "datamate version ", 17) == 0);
    for (size_t i = 0; i < ncol; i++) {
        const struct dm_pq_leaf *l = &m->cols[i];
        const struct dm_pq_column_spec *s = &cols[i].spec;
        assert_string_equal(l->name, s->name);
        assert_int_equal(l->type, s->type);
        assert_int_equal(l->optional, s->optional);
        assert_int_equal(l->logical, s->logical);
        if (s->logical == DM_PQ_LOG_TIMESTAMP) {
            assert_int_equal(l->ts_unit, s->ts_unit);
            assert_int_equal(l->ts_utc, s->ts_utc);
        }
        if (s->logical == DM_PQ_LOG_INTEGER) {
            assert_int_equal(l->int_bits, s->int_bits);
            assert_int_equal(l->int_signed, s->int_signed);
        }
    }
    uint64_t row0 = 0;
    for (size_t g = 0; g < m->nrow_groups; g++) {
        for (size_t i = 0; i < ncol; i++) {
            const struct dm_pq_chunk_meta *cm = &m->row_groups[g].cols[i];
            assert_int_equal(cm->codec, codec);
            /* Dictionary expected: dictionary on, not boolean, some value, low cardinality
             * (dict_mode 1) — with the tiny limit (2) only for the tiniest dictionaries. */
            int expect = -1;
            if (dict_mode == 0 || cols[i].spec.type == DM_PQ_BOOLEAN || cols[i].nm == NM_ALLNULL)
                expect = 0;
            else if (dict_mode == 1)
                expect = cols[i].spec.int_bits == 8 && cols[i].high ? -1 : !cols[i].high;
            else if (cols[i].high && cols[i].spec.int_bits != 8)
                expect = 0; /* 8-bit "high cardinality" has only 256 values */
            int has_dict = (cm->encodings >> DM_PQ_ENC_RLE_DICTIONARY) & 1;
            if (expect >= 0)
                assert_int_equal(has_dict, expect);
            assert_int_equal(cm->dictionary_page_offset != 0, has_dict);
            check_chunk(r, g, i, row0, 0, -1);
            check_chunk(r, g, i, row0, DM_PQ_READ_DICT, has_dict);
        }
        row0 += (uint64_t)m->row_groups[g].num_rows;
    }
    assert_int_equal(row0, nrows);
    dm_pq_reader_free(r);
}

static void test_matrix(void **state)
{
    (void)state;
    static const enum dm_pq_codec codecs[] = {DM_PQ_UNCOMPRESSED, DM_PQ_SNAPPY, DM_PQ_GZIP,
                                              DM_PQ_ZSTD,         DM_PQ_LZ4_RAW, DM_PQ_LZ4};
    struct dm_pool *pool = dm_pool_new(2);
    char path[400];
    for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
        for (int dict_mode = 0; dict_mode < 3; dict_mode++) {
            struct dm_pq_writer_opts o;
            dm_pq_writer_opts_default(&o);
            o.codec = codecs[k];
            o.row_group_rows = 1000;
            o.page_bytes = 1024; /* many pages per chunk */
            o.dictionary = dict_mode != 0;
            if (dict_mode == 2)
                o.dict_max_bytes = 40; /* only the smallest dictionaries fit */
            o.pool = k % 2 ? pool : NULL;
            snprintf(path, sizeof(path), "%s/m-%d-%d.parquet", dir, (int)codecs[k], dict_mode);
            write_file(path, ncols, 2500, &o);
            check_file(path, ncols, 2500, 1000, codecs[k], dict_mode);
            unlink(path);
        }
    }
    dm_pool_free(pool);
}

static void test_edges(void **state)
{
    (void)state;
    char path[400];
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    /* Empty file: schema, no row groups. */
    snprintf(path, sizeof(path), "%s/empty.parquet", dir);
    write_file(path, ncols, 0, &o);
    check_file(path, ncols, 0, 1, DM_PQ_ZSTD, 1);
    unlink(path);
    /* One row. */
    snprintf(path, sizeof(path), "%s/one.parquet", dir);
    write_file(path, ncols, 1, &o);
    check_file(path, ncols, 1, 1, DM_PQ_ZSTD, -1);
    unlink(path);
    /* Exactly one row group boundary, default pages. */
    o.row_group_rows = 500;
    o.codec = DM_PQ_SNAPPY;
    snprintf(path, sizeof(path), "%s/exact.parquet", dir);
    write_file(path, ncols, 1000, &o);
    check_file(path, ncols, 1000, 500, DM_PQ_SNAPPY, 1);
    unlink(path);
}

/* Long strings: values far larger than a page, statistics left out past 4 KiB. */
static void test_long_strings(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof(path), "%s/long.parquet", dir);
    struct dm_pq_column_spec c[2] = {
        {.name = "s", .type = DM_PQ_BYTE_ARRAY, .logical = DM_PQ_LOG_STRING},
        {.name = "o", .type = DM_PQ_BYTE_ARRAY, .optional = 1},
    };
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.page_bytes = 10000;
    o.row_group_rows = 7;
    struct dm_pq_writer *w;
    assert_int_equal(dm_pq_writer_open(&w, path, c, 2, &o, NULL), 0);
    enum dm_vtype t[2] = {DM_STR, DM_STR};
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, t, 2, 16), 0);
    size_t big = 300000;
    char *s = malloc(big);
    for (int r = 0; r < 20; r++) {
        size_t len = (size_t)(r * 15013) % big;
        for (size_t i = 0; i < len; i++)
            s[i] = (char)('a' + (i * 31 + (size_t)r) % 26);
        assert_int_equal(dm_batch_set_str(&b, 0, s, len), 0);
        if (r % 3 == 0)
            assert_int_equal(dm_batch_set_null(&b, 1), 0);
        else
            assert_int_equal(dm_batch_set_str(&b, 1, s, len / 2), 0);
        assert_int_equal(dm_batch_commit_row(&b), 0);
    }
    assert_int_equal(dm_pq_writer_write(w, &b, NULL), 0);
    assert_int_equal(dm_pq_writer_close(w, NULL), 0);
    dm_batch_release(&b);

    struct dm_pq_reader *r;
    assert_int_equal(dm_pq_reader_open(&r, path, NULL), 0);
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    assert_int_equal(m->nrow_groups, 3);
    int row = 0;
    for (size_t g = 0; g < m->nrow_groups; g++) {
        struct dm_pq_chunk c0, c1;
        memset(&c0, 0, sizeof(c0));
        memset(&c1, 0, sizeof(c1));
        assert_int_equal(dm_pq_read_chunk(r, g, 0, 0, &c0, NULL), 0);
        assert_int_equal(dm_pq_read_chunk(r, g, 1, 0, &c1, NULL), 0);
        /* Every chunk here has a value over 4 KiB: no min/max, but null counts. */
        assert_false(m->row_groups[g].cols[0].stats.has_min_max);
        assert_true(m->row_groups[g].cols[1].stats.has_null_count);
        for (size_t i = 0; i < c0.nrows; i++, row++) {
            size_t len = (size_t)(row * 15013) % big, n;
            for (size_t k = 0; k < len; k++)
                s[k] = (char)('a' + (k * 31 + (size_t)row) % 26);
            const char *p = dm_col_str(&c0.values, i, &n);
            assert_int_equal(n, len);
            assert_memory_equal(p, s, n);
            assert_int_equal(dm_col_is_null(&c1.values, i), row % 3 == 0);
            if (row % 3) {
                p = dm_col_str(&c1.values, i, &n);
                assert_int_equal(n, len / 2);
                assert_memory_equal(p, s, n);
            }
        }
        dm_pq_chunk_release(&c0);
        dm_pq_chunk_release(&c1);
    }
    assert_int_equal(row, 20);
    dm_pq_reader_free(r);
    free(s);
    unlink(path);
}

/* Statistics edge cases: NaN excluded (all-NaN: no min/max), unsigned order. */
static void test_stats_edges(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof(path), "%s/nan.parquet", dir);
    struct dm_pq_column_spec c[3] = {
        {.name = "d", .type = DM_PQ_DOUBLE},
        {.name = "allnan", .type = DM_PQ_DOUBLE},
        {.name = "u64", .type = DM_PQ_INT64, .logical = DM_PQ_LOG_INTEGER, .int_bits = 64},
    };
    struct dm_pq_writer *w;
    assert_int_equal(dm_pq_writer_open(&w, path, c, 3, NULL, NULL), 0);
    enum dm_vtype t[3] = {DM_F64, DM_F64, DM_I64};
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, t, 3, 8), 0);
    const double d[4] = {NAN, 2.5, -1.0, NAN};
    const int64_t u[4] = {5, -1 /* 2^64-1 */, INT64_MIN /* 2^63 */, 0};
    for (int i = 0; i < 4; i++) {
        dm_batch_set_f64(&b, 0, d[i]);
        dm_batch_set_f64(&b, 1, NAN);
        dm_batch_set_i64(&b, 2, u[i]);
        assert_int_equal(dm_batch_commit_row(&b), 0);
    }
    assert_int_equal(dm_pq_writer_write(w, &b, NULL), 0);
    assert_int_equal(dm_pq_writer_close(w, NULL), 0);
    dm_batch_release(&b);
    struct dm_pq_reader *r;
    assert_int_equal(dm_pq_reader_open(&r, path, NULL), 0);
    const struct dm_pq_chunk_meta *cm = dm_pq_reader_meta(r)->row_groups[0].cols;
    assert_true(cm[0].stats.has_min_max);
    assert_true(cm[0].stats.min_f == -1.0 && cm[0].stats.max_f == 2.5);
    assert_false(cm[1].stats.has_min_max);
    assert_true(cm[2].stats.has_min_max);
    assert_true(cm[2].stats.min_i == 0);
    assert_true(cm[2].stats.max_i == -1); /* bit pattern of 2^64-1 */
    struct dm_pq_chunk ch;
    memset(&ch, 0, sizeof(ch));
    assert_int_equal(dm_pq_read_chunk(r, 0, 1, 0, &ch, NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_true(isnan(ch.values.v.f64[i]));
    dm_pq_chunk_release(&ch);
    dm_pq_reader_free(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_stats_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
