/* Parquet writer: Thrift compact encoder and RLE / bit-packing encoder against hand-computed
 * byte vectors, dictionaries, the footer's schema annotations, error handling, the
 * temporary-file protocol and allocation-failure injection. Round trips through the reader
 * live in test_parquet_roundtrip.c. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_batch.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "dm_test.h"
#include "pq_read_int.h"
#include "pq_write_int.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_bytes(const struct dm__wbuf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->err, 0);
    if (b->len != n || memcmp(b->p, want, n) != 0) {
        fprintf(stderr, "# got:");
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, " %02x", b->p[i]);
        fprintf(stderr, "\n# want:");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(b->len, n);
    assert_memory_equal(b->p, want, n);
}

/* ---------------------------------------------------------------- thrift */

static void test_thrift_scalars(void **state)
{
    (void)state;
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    struct dm__tw t;
    dm__tw_init(&t, &b);
    dm__tw_elem_struct_begin(&t);
    dm__tw_i32(&t, 1, 1);        /* 0x15, zigzag(1)=2 */
    dm__tw_i32(&t, 2, -1);       /* delta 1: 0x15, zigzag(-1)=1 */
    dm__tw_i64(&t, 3, 300);      /* 0x16, zigzag 600 = 0xd8 0x04 */
    dm__tw_bool(&t, 4, 1);       /* 0x11 */
    dm__tw_bool(&t, 5, 0);       /* 0x12 */
    dm__tw_string(&t, 6, "ab"); /* 0x18 0x02 'a' 'b' */
    dm__tw_i8(&t, 8, -2);        /* delta 2: 0x23 0xfe */
    dm__tw_i32(&t, 30, 5);       /* delta 22 > 15: long form 0x05, zigzag(30)=60=0x3c, 0x0a */
    dm__tw_i32(&t, 31, 0);       /* delta 1 again: 0x15 0x00 */
    dm__tw_struct_end(&t);       /* 0x00 */
    expect_bytes(&b, BYTES(0x15, 0x02, 0x15, 0x01, 0x16, 0xd8, 0x04, 0x11, 0x12, 0x18, 0x02, 'a',
                           'b', 0x23, 0xfe, 0x05, 0x3c, 0x0a, 0x15, 0x00, 0x00));
    assert_int_equal(t.depth, 0);
    dm__wbuf_release(&b);
}

static void test_thrift_nested_and_lists(void **state)
{
    (void)state;
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    struct dm__tw t;
    dm__tw_init(&t, &b);
    dm__tw_elem_struct_begin(&t);
    dm__tw_i32(&t, 2, 7);          /* 0x25 0x0e */
    dm__tw_struct_begin(&t, 5);    /* delta 3: 0x3c */
    dm__tw_i32(&t, 1, 3);          /* inner ids restart: 0x15 0x06 */
    dm__tw_struct_end(&t);         /* 0x00 */
    dm__tw_list(&t, 6, DM__T_I32, 3); /* delta 1: 0x19, 0x35 */
    dm__tw_elem_i32(&t, 0);
    dm__tw_elem_i32(&t, 3);
    dm__tw_elem_i32(&t, 8);        /* 0x00 0x06 0x10 */
    dm__tw_list(&t, 7, DM__T_BINARY, 15); /* 0x19, 0xf8, 0x0f */
    for (int i = 0; i < 15; i++)
        dm__tw_elem_binary(&t, "", 0);    /* 15 x 0x00 */
    dm__tw_list(&t, 8, DM__T_STRUCT, 1); /* 0x19 0x1c */
    dm__tw_elem_struct_begin(&t);
    dm__tw_i64(&t, 4, -3);              /* 0x46 0x05 */
    dm__tw_struct_end(&t);              /* 0x00 */
    dm__tw_i64(&t, 9, 1);               /* back in outer: delta 1 from 8: 0x16 0x02 */
    dm__tw_struct_end(&t);
    expect_bytes(&b, BYTES(0x25, 0x0e, 0x3c, 0x15, 0x06, 0x00, 0x19, 0x35, 0x00, 0x06, 0x10,
                           0x19, 0xf8, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           0x19, 0x1c, 0x46, 0x05, 0x00, 0x16, 0x02, 0x00));
    /* The reader's decoder agrees. */
    struct dm__thrift r;
    dm__thrift_init(&r, b.p, b.len);
    int16_t last = 0, id;
    int type, bval;
    assert_int_equal(dm__thrift_struct_begin(&r, &last), 0);
    assert_int_equal(dm__thrift_field(&r, &last, &id, &type, &bval), 1);
    assert_int_equal(id, 2);
    int32_t v;
    assert_int_equal(dm__thrift_i32(&r, &v), 0);
    assert_int_equal(v, 7);
    dm__wbuf_release(&b);
}

static void test_varint_limits(void **state)
{
    (void)state;
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    dm__tw_varint_signed(&b, INT64_MIN); /* zigzag = 2^64-1: ten bytes */
    expect_bytes(&b, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
    b.len = 0;
    dm__tw_varint_signed(&b, INT64_MAX);
    expect_bytes(&b, BYTES(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
    b.len = 0;
    dm__wbuf_uleb(&b, 127);
    dm__wbuf_uleb(&b, 128);
    expect_bytes(&b, BYTES(0x7f, 0x80, 0x01));
    dm__wbuf_release(&b);
}

/* ---------------------------------------------------------------- RLE / bit packing */

static void test_rle_vectors(void **state)
{
    (void)state;
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    /* Encodings.md example: 0..7 at width 3 bit-packed = 0x88 0xc6 0xfa. */
    uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    dm__rle_encode_u32(&b, seq, 8, 3);
    expect_bytes(&b, BYTES(0x03, 0x88, 0xc6, 0xfa));
    /* Eight equal values: one RLE run, value in one byte. */
    uint32_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    b.len = 0;
    dm__rle_encode_u32(&b, ones, 8, 1);
    expect_bytes(&b, BYTES(0x10, 0x01));
    /* Width 0 (one-entry dictionary): a run header, no value bytes. */
    uint32_t zeros[5] = {0};
    b.len = 0;
    dm__rle_encode_u32(&b, zeros, 5, 0);
    expect_bytes(&b, BYTES(0x0a));
    /* Width 9: the RLE value takes two bytes, little-endian. */
    uint32_t big[10] = {300, 300, 300, 300, 300, 300, 300, 300, 300, 300};
    b.len = 0;
    dm__rle_encode_u32(&b, big, 10, 9);
    expect_bytes(&b, BYTES(0x14, 0x2c, 0x01));
    /* A short stretch borrows from the following run to fill its group of 8:
     * [5,6,7] + 20 x 9 at width 4 -> packed (5,6,7,9,9,9,9,9), then RLE 15 x 9. */
    uint32_t mix[23] = {5, 6, 7};
    for (int i = 3; i < 23; i++)
        mix[i] = 9;
    b.len = 0;
    dm__rle_encode_u32(&b, mix, 23, 4);
    expect_bytes(&b, BYTES(0x03, 0x65, 0x97, 0x99, 0x99, 0x1e, 0x09));
    /* A run too short after borrowing stays packed: [5,6,7] + 10 x 9 -> 2 groups, the last
     * zero-padded: (9,9,9,9,9,0,0,0). */
    b.len = 0;
    dm__rle_encode_u32(&b, mix, 13, 4);
    expect_bytes(&b, BYTES(0x05, 0x65, 0x97, 0x99, 0x99, 0x99, 0x99, 0x09, 0x00));
    /* Levels: alternating -> one bit-packed group 0x55; then 16 ones -> RLE. */
    uint8_t lv[24] = {1, 0, 1, 0, 1, 0, 1, 0};
    memset(lv + 8, 1, 16);
    b.len = 0;
    dm__rle_encode_levels(&b, lv, 24);
    expect_bytes(&b, BYTES(0x03, 0x55, 0x20, 0x01));
    /* Levels: 3 values, all one: one short RLE run. */
    b.len = 0;
    dm__rle_encode_levels(&b, lv + 8, 3);
    expect_bytes(&b, BYTES(0x06, 0x01));
    /* Levels: 1,0,0 -> packed 1 group: 0b001. */
    uint8_t lv2[3] = {1, 0, 0};
    b.len = 0;
    dm__rle_encode_levels(&b, lv2, 3);
    expect_bytes(&b, BYTES(0x03, 0x01));
    dm__wbuf_release(&b);
}

static uint64_t rs = 88172645463325252ull;
static uint64_t xr(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Reference packer: bit by bit, LSB first. */
static void ref_pack(uint8_t *out, const uint32_t *v, size_t n, int w)
{
    memset(out, 0, ((size_t)w * n + 7) / 8);
    size_t bit = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < w; k++, bit++)
            if (v[i] >> k & 1)
                out[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void test_bitpack_all_widths(void **state)
{
    (void)state;
    uint32_t v[64];
    uint8_t got[32 * 8 + 8], want[32 * 8];
    for (int w = 0; w <= 32; w++) {
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 64; i++)
                v[i] = w == 32 ? (uint32_t)xr() : (uint32_t)(xr() & ((1ull << w) - 1));
            if (round == 0)
                for (int i = 0; i < 64; i++)
                    v[i] = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
            dm__bitpack_u32(got, v, 8, w);
            ref_pack(want, v, 64, w);
            assert_memory_equal(got, want, (size_t)w * 8);
        }
    }
}

/* Random streams with runs of every length, decoded by the reader's hybrid decoder. */
static void test_rle_roundtrip_random(void **state)
{
    (void)state;
    size_t cap = 5000;
    uint32_t *v = malloc(cap * sizeof(*v)), *back = malloc(cap * sizeof(*back));
    uint8_t *lv = malloc(cap);
    uint8_t *lvback = malloc(cap);
    struct dm__wbuf b;
    dm__wbuf_init(&b);
    for (int round = 0; round < 400; round++) {
        int w = round % 33;
        size_t n = 1 + xr() % (round < 100 ? 40 : cap - 1);
        uint64_t mask = w == 32 ? UINT32_MAX : (1ull << w) - 1;
        for (size_t i = 0; i < n;) {
            size_t run = 1 + (xr() % 4 == 0 ? xr() % 50 : xr() % 3);
            uint32_t x = (uint32_t)(xr() & mask);
            for (size_t k = 0; k < run && i < n; k++, i++)
                v[i] = x;
        }
        b.len = 0;
        dm__rle_encode_u32(&b, v, n, w);
        assert_int_equal(b.err, 0);
        size_t used = 0;
        assert_int_equal(dm__pqr_rle_decode(b.p, b.len, w, back, n, &used), 0);
        assert_memory_equal(back, v, n * sizeof(*v));
        assert_int_equal(used, b.len);
        /* Levels (width 1) through the byte path. */
        for (size_t i = 0; i < n; i++)
            lv[i] = (uint8_t)(v[i] & 1);
        b.len = 0;
        dm__rle_encode_levels(&b, lv, n);
        assert_int_equal(dm__pqr_rle_decode(b.p, b.len, 1, back, n, &used), 0);
        for (size_t i = 0; i < n; i++)
            lvback[i] = (uint8_t)back[i];
        assert_memory_equal(lvback, lv, n);
        assert_int_equal(used, b.len);
    }
    dm__wbuf_release(&b);
    free(v);
    free(back);
    free(lv);
    free(lvback);
}

/* ---------------------------------------------------------------- dictionaries */

static void test_dict_fixed(void **state)
{
    (void)state;
    size_t n = 100000;
    int64_t *v = malloc(n * sizeof(*v));
    uint32_t *idx = malloc(n * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        v[i] = (int64_t)(xr() % 3000) * -7919;
    struct dm__dict_fixed d;
    dm__dict_fixed_init(&d);
    assert_int_equal(dm__dict_fixed_build(&d, v, n, 8, idx, 1 << 20), 0);
    assert_int_equal(d.n, 3000 > n ? n : d.n);
    assert_true(d.n <= 3000 && d.n > 2900);
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        memcpy(&x, d.vals + (size_t)idx[i] * 8, 8);
        assert_true(x == v[i]);
    }
    /* Insertion order: the first value gets index 0. */
    assert_int_equal(idx[0], 0);
    /* Limit reached: 1 (the builder is reused: tables kept from the previous build). */
    assert_int_equal(dm__dict_fixed_build(&d, v, n, 8, idx, 100), 1);
    assert_true(d.n <= 100);
    /* 4-byte values, including -0.0f-like bit patterns that differ only in sign. */
    int32_t w4[6] = {0, INT32_MIN, 0, -1, INT32_MIN, 7};
    assert_int_equal(dm__dict_fixed_build(&d, w4, 6, 4, idx, 100), 0);
    assert_int_equal(d.n, 4);
    assert_int_equal(idx[2], 0);
    assert_int_equal(idx[4], 1);
    dm__dict_fixed_release(&d);
    free(v);
    free(idx);
}

static void test_dict_bytes(void **state)
{
    (void)state;
    const char *words[] = {"allow", "", "deny", "allow", "drop", "", "deny", "allow"};
    char bytes[64];
    uint64_t off[9] = {0};
    size_t at = 0;
    for (int i = 0; i < 8; i++) {
        size_t l = strlen(words[i]);
        memcpy(bytes + at, words[i], l);
        at += l;
        off[i + 1] = at;
    }
    uint32_t idx[8];
    struct dm__dict_bytes d;
    dm__dict_bytes_init(&d);
    assert_int_equal(dm__dict_bytes_build(&d, bytes, off, 8, idx, 1 << 20), 0);
    assert_int_equal(d.n, 4);
    const uint32_t want[8] = {0, 1, 2, 0, 3, 1, 2, 0};
    assert_memory_equal(idx, want, sizeof(want));
    /* PLAIN body: u32 length + bytes per entry in insertion order. */
    const uint8_t plain[] = {5, 0, 0, 0, 'a', 'l', 'l', 'o', 'w', 0, 0, 0, 0,
                             4, 0, 0, 0, 'd', 'e', 'n', 'y', 4, 0, 0, 0, 'd', 'r', 'o', 'p'};
    assert_int_equal(d.plain.len, sizeof(plain));
    assert_memory_equal(d.plain.p, plain, sizeof(plain));
    /* The byte limit: "allow" + "" fit in 13 bytes, "deny" does not. */
    assert_int_equal(dm__dict_bytes_build(&d, bytes, off, 8, idx, 13), 1);
    assert_int_equal(d.n, 2);
    /* Many distinct keys force rehashing. */
    size_t n = 50000;
    char *big = malloc(n * 12);
    uint64_t *o = malloc((n + 1) * sizeof(*o));
    uint32_t *ix = malloc(n * sizeof(*ix));
    o[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int l = snprintf(big + o[i], 12, "k%zu", i % 20000);
        o[i + 1] = o[i] + (uint64_t)l;
    }
    assert_int_equal(dm__dict_bytes_build(&d, big, o, n, ix, 1 << 30), 0);
    assert_int_equal(d.n, 20000);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ix[i], i % 20000);
    dm__dict_bytes_release(&d);
    free(big);
    free(o);
    free(ix);
}

/* ---------------------------------------------------------------- writer */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "build/test-pqwrite-%ld", (long)getpid());
    mkdir("build", 0755);
    return mkdir(tmpdir, 0755);
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(tmpdir);
}

/* Number of entries in tmpdir (files left behind). */
static int dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static const struct dm_pq_column_spec flow_cols[] = {
    {.name = "ts", .type = DM_PQ_INT64, .logical = DM_PQ_LOG_TIMESTAMP, .ts_unit = DM_PQ_MICROS,
     .ts_utc = 1},
    {.name = "src_ip", .type = DM_PQ_BYTE_ARRAY, .logical = DM_PQ_LOG_STRING},
    {.name = "dst_port", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
     .int_bits = 16, .int_signed = 0},
    {.name = "bytes", .type = DM_PQ_INT64, .optional = 1},
    {.name = "score", .type = DM_PQ_DOUBLE, .optional = 1},
    {.name = "ok", .type = DM_PQ_BOOLEAN, .optional = 1},
};
#define NFLOW 6

static void fill_flows(struct dm_batch *b, size_t rows, size_t base)
{
    enum dm_vtype t[NFLOW] = {DM_I64, DM_STR, DM_I32, DM_I64, DM_F64, DM_BOOL};
    assert_int_equal(dm_batch_init(b, t, NFLOW, rows), 0);
    char ip[32];
    for (size_t r = 0; r < rows; r++) {
        size_t i = base + r;
        dm_batch_set_i64(b, 0, 1700000000000000ll + (int64_t)i * 1000);
        int n = snprintf(ip, sizeof(ip), "10.0.%zu.%zu", (i / 256) % 4, i % 256);
        assert_int_equal(dm_batch_set_str(b, 1, ip, (size_t)n), 0);
        if (i % 5 == 0)
            assert_int_equal(dm_batch_set_null(b, 2), 0);
        else
            dm_batch_set_i32(b, 2, (int32_t)(i % 7 == 0 ? 65535 : 443));
        dm_batch_set_i64(b, 3, (int64_t)(i * 37));
        if (i % 3)
            dm_batch_set_f64(b, 4, (double)i / 8);
        dm_batch_set_bool(b, 5, (int)(i & 1));
        assert_int_equal(dm_batch_commit_row(b), 0);
    }
}

static void test_open_rejects_bad_schemas(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/bad.parquet", tmpdir);
    struct dm_pq_writer *w = (struct dm_pq_writer *)1;
    struct dm_error err;
    struct dm_pq_column_spec c[2] = {{.name = "a", .type = DM_PQ_INT32,
                                      .logical = DM_PQ_LOG_STRING}};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    assert_null(w);
    assert_non_null(strstr(err.msg, "'a'"));
    c[0] = (struct dm_pq_column_spec){.name = "a", .type = DM_PQ_INT64,
                                      .logical = DM_PQ_LOG_INTEGER, .int_bits = 16};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    c[0] = (struct dm_pq_column_spec){.name = "a", .type = DM_PQ_INT32,
                                      .logical = DM_PQ_LOG_INTEGER, .int_bits = 12};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    c[0] = (struct dm_pq_column_spec){.name = "a", .type = DM_PQ_INT32,
                                      .logical = DM_PQ_LOG_TIMESTAMP};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    c[0] = (struct dm_pq_column_spec){.name = "a", .type = DM_PQ_INT96};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    c[0] = (struct dm_pq_column_spec){.name = "", .type = DM_PQ_INT32};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, NULL, &err), -EINVAL);
    c[0] = (struct dm_pq_column_spec){.name = "x", .type = DM_PQ_INT32};
    c[1] = (struct dm_pq_column_spec){.name = "x", .type = DM_PQ_INT64};
    assert_int_equal(dm_pq_writer_open(&w, path, c, 2, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_int_equal(dm_pq_writer_open(&w, path, c, 0, NULL, &err), -EINVAL);
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.codec = DM_PQ_BROTLI;
    assert_int_equal(dm_pq_writer_open(&w, path, c, 1, &o, &err), -EINVAL);
    char nodir[300];
    snprintf(nodir, sizeof(nodir), "%s/missing/x.parquet", tmpdir);
    assert_int_equal(dm_pq_writer_open(&w, nodir, c, 1, NULL, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(dir_entries(), 0);
}

static void read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)n);
    assert_int_equal(fread(*data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
}

/* Walks the footer's schema with the reader's thrift cursor and checks the annotations. */
struct leaf_seen {
    int32_t type, rep, conv;
    char name[32];
    int16_t logical;    /* union member id */
    int8_t bits;
    int is_signed, utc, unit;
};

static void parse_schema(const uint8_t *f, size_t n, struct leaf_seen *leaves, size_t *nleaves,
                         int64_t *num_rows, char *created_by, size_t cb_cap)
{
    uint32_t flen;
    memcpy(&flen, f + n - 8, 4);
    assert_memory_equal(f + n - 4, "PAR1", 4);
    assert_memory_equal(f, "PAR1", 4);
    assert_true(flen + 12 <= n);
    struct dm__thrift t;
    dm__thrift_init(&t, f + n - 8 - flen, flen);
    int16_t last = 0, id;
    int type, bval;
    assert_int_equal(dm__thrift_struct_begin(&t, &last), 0);
    *nleaves = 0;
    while (dm__thrift_field(&t, &last, &id, &type, &bval) == 1) {
        if (id == 2) {
            int et;
            size_t cnt;
            assert_int_equal(dm__thrift_list(&t, &et, &cnt), 0);
            for (size_t e = 0; e < cnt; e++) {
                struct leaf_seen s = {.type = -1, .rep = -1, .conv = -1};
                int16_t l2 = 0, id2;
                int ty2, b2;
                assert_int_equal(dm__thrift_struct_begin(&t, &l2), 0);
                while (dm__thrift_field(&t, &l2, &id2, &ty2, &b2) == 1) {
                    int64_t v;
                    const uint8_t *p;
                    size_t pl;
                    if (id2 == 1 || id2 == 3 || id2 == 6) {
                        assert_int_equal(dm__thrift_int(&t, ty2, &v), 0);
                        *(id2 == 1 ? &s.type : id2 == 3 ? &s.rep : &s.conv) = (int32_t)v;
                    } else if (id2 == 4) {
                        assert_int_equal(dm__thrift_binary(&t, &p, &pl), 0);
                        snprintf(s.name, sizeof(s.name), "%.*s", (int)pl, (const char *)p);
                    } else if (id2 == 10) {
                        int16_t l3 = 0, id3;
                        int ty3, b3;
                        assert_int_equal(dm__thrift_struct_begin(&t, &l3), 0);
                        assert_int_equal(dm__thrift_field(&t, &l3, &id3, &ty3, &b3), 1);
                        s.logical = id3;
                        int16_t l4 = 0, id4;
                        int ty4, b4;
                        assert_int_equal(dm__thrift_struct_begin(&t, &l4), 0);
                        while (dm__thrift_field(&t, &l4, &id4, &ty4, &b4) == 1) {
                            if (id3 == 10 && id4 == 1) {
                                assert_int_equal(dm__thrift_i8(&t, &s.bits), 0);
                            } else if (id3 == 10 && id4 == 2) {
                                s.is_signed = b4;
                            } else if (id3 == 8 && id4 == 1) {
                                s.utc = b4;
                            } else if (id3 == 8 && id4 == 2) {
                                int16_t l5 = 0, id5;
                                int ty5, b5;
                                assert_int_equal(dm__thrift_struct_begin(&t, &l5), 0);
                                assert_int_equal(dm__thrift_field(&t, &l5, &id5, &ty5, &b5), 1);
                                s.unit = id5;
                                assert_int_equal(dm__thrift_skip(&t, ty5), 0);
                                assert_int_equal(dm__thrift_field(&t, &l5, &id5, &ty5, &b5), 0);
                                dm__thrift_struct_end(&t);
                            } else {
                                assert_int_equal(dm__thrift_skip(&t, ty4), 0);
                            }
                        }
                        dm__thrift_struct_end(&t);
                        assert_int_equal(dm__thrift_field(&t, &l3, &id3, &ty3, &b3), 0);
                        dm__thrift_struct_end(&t);
                    } else {
                        assert_int_equal(dm__thrift_skip(&t, ty2), 0);
                    }
                }
                dm__thrift_struct_end(&t);
                if (e > 0)
                    leaves[(*nleaves)++] = s;
            }
        } else if (id == 3) {
            assert_int_equal(dm__thrift_int(&t, type, num_rows), 0);
        } else if (id == 6) {
            const uint8_t *p;
            size_t pl;
            assert_int_equal(dm__thrift_binary(&t, &p, &pl), 0);
            snprintf(created_by, cb_cap, "%.*s", (int)pl, (const char *)p);
        } else {
            assert_int_equal(dm__thrift_skip(&t, type), 0);
        }
    }
    assert_false(t.bad);
}

static void test_write_and_footer(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/flows.parquet", tmpdir);
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    assert_int_equal(o.codec, DM_PQ_ZSTD);
    assert_int_equal(o.dictionary, 1);
    o.row_group_rows = 1000;
    struct dm_pq_writer *w;
    struct dm_error err;
    assert_int_equal(dm_pq_writer_open(&w, path, flow_cols, NFLOW, &o, &err), 0);
    assert_int_equal(dir_entries(), 1); /* the temporary file only */
    struct dm_batch b;
    fill_flows(&b, 2500, 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), 0);
    assert_int_equal(dm_pq_writer_rows(w), 2500);
    assert_int_equal(dm_pq_writer_set_kv(w, "k", "v1"), 0);
    assert_int_equal(dm_pq_writer_set_kv(w, "k", "v2"), 0);
    assert_int_equal(dm_pq_writer_close(w, &err), 0);
    dm_batch_release(&b);
    assert_int_equal(dir_entries(), 1);

    uint8_t *f;
    size_t n;
    read_file(path, &f, &n);
    struct leaf_seen leaves[8];
    size_t nl;
    int64_t rows = -1;
    char cb[128] = "";
    parse_schema(f, n, leaves, &nl, &rows, cb, sizeof(cb));
    assert_int_equal(nl, NFLOW);
    assert_int_equal(rows, 2500);
    assert_true(strncmp(cb, "datamate version ", 17) == 0);
    assert_non_null(strstr(cb, "(build "));
    /* ts: INT64 REQUIRED TIMESTAMP_MICROS, TIMESTAMP(utc, MICROS) */
    assert_string_equal(leaves[0].name, "ts");
    assert_int_equal(leaves[0].type, 2);
    assert_int_equal(leaves[0].rep, 0);
    assert_int_equal(leaves[0].conv, 10);
    assert_int_equal(leaves[0].logical, 8);
    assert_int_equal(leaves[0].utc, 1);
    assert_int_equal(leaves[0].unit, 2);
    /* src_ip: BYTE_ARRAY UTF8 STRING */
    assert_int_equal(leaves[1].type, 6);
    assert_int_equal(leaves[1].conv, 0);
    assert_int_equal(leaves[1].logical, 1);
    /* dst_port: INT32 OPTIONAL UINT_16 INTEGER(16, unsigned) */
    assert_int_equal(leaves[2].type, 1);
    assert_int_equal(leaves[2].rep, 1);
    assert_int_equal(leaves[2].conv, 12);
    assert_int_equal(leaves[2].logical, 10);
    assert_int_equal(leaves[2].bits, 16);
    assert_int_equal(leaves[2].is_signed, 0);
    /* plain columns: no annotations */
    assert_int_equal(leaves[3].conv, -1);
    assert_int_equal(leaves[3].logical, 0);
    assert_int_equal(leaves[4].type, 5);
    assert_int_equal(leaves[5].type, 0);
    free(f);
    unlink(path);
}

static void test_write_rejects_bad_batches(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/rej.parquet", tmpdir);
    struct dm_pq_writer *w;
    struct dm_error err;
    struct dm_pq_column_spec c[2] = {
        {.name = "req", .type = DM_PQ_INT32},
        {.name = "u16", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
         .int_bits = 16},
    };
    assert_int_equal(dm_pq_writer_open(&w, path, c, 2, NULL, &err), 0);
    enum dm_vtype t[2] = {DM_I32, DM_I32};
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, t, 2, 4), 0);
    assert_int_equal(dm_batch_set_null(&b, 0), 0);
    dm_batch_set_i32(&b, 1, 5);
    assert_int_equal(dm_batch_commit_row(&b), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "required column 'req'"));
    dm_batch_clear(&b);
    dm_batch_set_i32(&b, 0, 1);
    dm_batch_set_i32(&b, 1, 65536);
    assert_int_equal(dm_batch_commit_row(&b), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "65536"));
    dm_batch_clear(&b);
    dm_batch_set_i32(&b, 0, 1);
    dm_batch_set_i32(&b, 1, -1);
    assert_int_equal(dm_batch_commit_row(&b), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), -EINVAL);
    /* Rejected batches left the writer usable. */
    dm_batch_clear(&b);
    dm_batch_set_i32(&b, 0, 1);
    dm_batch_set_i32(&b, 1, 65535);
    assert_int_equal(dm_batch_commit_row(&b), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), 0);
    assert_int_equal(dm_pq_writer_rows(w), 1);
    dm_batch_release(&b);
    /* Wrong column count / types. */
    enum dm_vtype t1[1] = {DM_I64};
    assert_int_equal(dm_batch_init(&b, t1, 1, 4), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), -EINVAL);
    dm_batch_release(&b);
    enum dm_vtype t2[2] = {DM_I64, DM_I32};
    assert_int_equal(dm_batch_init(&b, t2, 2, 4), 0);
    assert_int_equal(dm_pq_writer_write(w, &b, &err), -EINVAL);
    dm_batch_release(&b);
    dm_pq_writer_abort(w);
    assert_int_equal(dir_entries(), 0);
    dm_pq_writer_abort(NULL);
}

static void test_close_replaces_existing(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/exists.parquet", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("old contents", f);
    fclose(f);
    struct dm_pq_writer *w;
    assert_int_equal(dm_pq_writer_open(&w, path, flow_cols, NFLOW, NULL, NULL), 0);
    struct dm_batch b;
    fill_flows(&b, 10, 0);
    assert_int_equal(dm_pq_writer_write(w, &b, NULL), 0);
    dm_batch_release(&b);
    /* Until close the old file is untouched. */
    uint8_t *data;
    size_t n;
    read_file(path, &data, &n);
    assert_int_equal(n, 12);
    free(data);
    assert_int_equal(dm_pq_writer_close(w, NULL), 0);
    read_file(path, &data, &n);
    assert_memory_equal(data, "PAR1", 4);
    free(data);
    assert_int_equal(dir_entries(), 1);
    unlink(path);
    /* Abort keeps the old file and removes the temporary one. */
    f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    assert_int_equal(dm_pq_writer_open(&w, path, flow_cols, NFLOW, NULL, NULL), 0);
    assert_int_equal(dir_entries(), 2);
    dm_pq_writer_abort(w);
    assert_int_equal(dir_entries(), 1);
    unlink(path);
}

/* The batch the fault tests write, built before injection starts. */
static struct dm_batch *fault_batch;

/* Writes fault_batch (3 row groups, small pages) through the given pool. */
static int write_with_failure(const char *path, enum dm_pq_codec codec, struct dm_pool *pool)
{
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.codec = codec;
    o.row_group_rows = 600;
    o.page_bytes = 2048;
    o.pool = pool;
    struct dm_pq_kv kv = {"source", "test"};
    o.kv = &kv;
    o.nkv = 1;
    struct dm_pq_writer *w;
    struct dm_error err;
    int rc = dm_pq_writer_open(&w, path, flow_cols, NFLOW, &o, &err);
    if (rc)
        return rc;
    rc = dm_pq_writer_write(w, fault_batch, &err);
    if (!rc)
        rc = dm_pq_writer_set_kv(w, "extra", "1");
    if (rc) {
        dm_pq_writer_abort(w);
        return rc;
    }
    return dm_pq_writer_close(w, &err);
}

static void fault_loop(enum dm_pq_codec codec, struct dm_pool *pool)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/fault.parquet", tmpdir);
    struct dm_batch b;
    fill_flows(&b, 1300, 0);
    fault_batch = &b;
    dm_alloc_fail_at(0, 0);
    assert_int_equal(write_with_failure(path, codec, pool), 0);
    uint64_t total = dm_alloc_count();
    assert_true(total > 20);
    unlink(path);
    for (uint64_t nth = 1; nth <= total; nth++) {
        dm_alloc_fail_at(nth, nth % 2); /* alternate single and sticky failures */
        int rc = write_with_failure(path, codec, pool);
        dm_alloc_fail_at(0, 0);
        if (rc == 0) {
            /* A single failure can only be absorbed where nothing depends on it. */
            fprintf(stderr, "# allocation %llu of %llu failed yet the write succeeded\n",
                    (unsigned long long)nth, (unsigned long long)total);
        }
        assert_int_not_equal(rc, 0);
        assert_int_equal(dir_entries(), 0);
    }
    dm_batch_release(&b);
    fault_batch = NULL;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    fault_loop(DM_PQ_ZSTD, NULL);
    fault_loop(DM_PQ_GZIP, NULL);
    fault_loop(DM_PQ_UNCOMPRESSED, NULL);
}

static void test_alloc_failures_pool(void **state)
{
    (void)state;
    struct dm_pool *pool = dm_pool_new(2);
    assert_non_null(pool);
    char path[300];
    snprintf(path, sizeof(path), "%s/faultp.parquet", tmpdir);
    struct dm_batch b;
    fill_flows(&b, 1300, 0);
    fault_batch = &b;
    /* Allocation counts vary with scheduling: inject sticky failures at a spread of points. */
    dm_alloc_fail_at(0, 0);
    assert_int_equal(write_with_failure(path, DM_PQ_ZSTD, pool), 0);
    uint64_t total = dm_alloc_count();
    unlink(path);
    for (uint64_t nth = 1; nth <= total; nth += 1 + total / 97) {
        dm_alloc_fail_at(nth, 1);
        int rc = write_with_failure(path, DM_PQ_ZSTD, pool);
        dm_alloc_fail_at(0, 0);
        assert_int_not_equal(rc, 0);
        assert_int_equal(dir_entries(), 0);
    }
    dm_batch_release(&b);
    fault_batch = NULL;
    dm_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_scalars),
        cmocka_unit_test(test_thrift_nested_and_lists),
        cmocka_unit_test(test_varint_limits),
        cmocka_unit_test(test_rle_vectors),
        cmocka_unit_test(test_bitpack_all_widths),
        cmocka_unit_test(test_rle_roundtrip_random),
        cmocka_unit_test(test_dict_fixed),
        cmocka_unit_test(test_dict_bytes),
        cmocka_unit_test(test_open_rejects_bad_schemas),
        cmocka_unit_test(test_write_and_footer),
        cmocka_unit_test(test_write_rejects_bad_batches),
        cmocka_unit_test(test_close_replaces_existing),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_alloc_failures_pool),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
