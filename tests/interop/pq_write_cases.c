/* Writes the Parquet writer's interop cases into a directory, for tests/interop/pq_write.t
 * (DuckDB reads them back). For every case NAME it writes:
 *   NAME.parquet      the file under test
 *   NAME.jsonl        the values that were written, one JSON array per row, produced from the
 *                     generator (not from the file): integers and timestamps as decimal
 *                     strings (unsigned types unsigned), doubles as numbers, blobs as hex
 *   NAME.json         {"rows": N, "rg_rows": R, "columns": [{"name", "kind", "duck"}],
 *                      "dict": {"col": true|false}}  (expected DuckDB types, dictionary use)
 * Usage: pq_write_cases OUTDIR */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_batch.h"
#include "dm_buf.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "banned.h"

enum kind { K_BOOL, K_INT, K_UINT, K_DOUBLE, K_STRING, K_TS_US, K_TS_MS, K_BLOB };

struct ccol {
    struct dm_pq_column_spec spec;
    enum kind kind;
    const char *duck;
    int dict; /* -1 = do not check, else expected dictionary use */
};

struct value {
    int null;
    int64_t i;
    double d;
    const char *s;
    size_t n;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char sbuf[1 << 20];

static const char *const words[] = {"allow", "deny", "drop", "", "ünïcödé ✓", "reset",
                                    "a \"quoted\" \\ value", "tab\there"};

/* The "types" schema: every type and annotation, required and optional. */
#define SPEC(n, t, o, l) {.name = n, .type = t, .optional = o, .logical = l}
static struct ccol types_cols[] = {
    {SPEC("b_req", DM_PQ_BOOLEAN, 0, DM_PQ_LOG_NONE), K_BOOL, "BOOLEAN", -1},
    {SPEC("b_opt", DM_PQ_BOOLEAN, 1, DM_PQ_LOG_NONE), K_BOOL, "BOOLEAN", -1},
    {SPEC("i32", DM_PQ_INT32, 0, DM_PQ_LOG_NONE), K_INT, "INTEGER", -1},
    {SPEC("i32_opt", DM_PQ_INT32, 1, DM_PQ_LOG_NONE), K_INT, "INTEGER", -1},
    {SPEC("i64", DM_PQ_INT64, 0, DM_PQ_LOG_NONE), K_INT, "BIGINT", -1},
    {SPEC("i64_opt", DM_PQ_INT64, 1, DM_PQ_LOG_NONE), K_INT, "BIGINT", -1},
    {SPEC("f64", DM_PQ_DOUBLE, 0, DM_PQ_LOG_NONE), K_DOUBLE, "DOUBLE", -1},
    {SPEC("f64_opt", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE), K_DOUBLE, "DOUBLE", -1},
    {SPEC("s", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", -1},
    {SPEC("s_opt", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", -1},
    {{.name = "ts_us", .type = DM_PQ_INT64, .logical = DM_PQ_LOG_TIMESTAMP,
      .ts_unit = DM_PQ_MICROS, .ts_utc = 1},
     K_TS_US, "TIMESTAMP WITH TIME ZONE", -1},
    {{.name = "ts_ms", .type = DM_PQ_INT64, .optional = 1, .logical = DM_PQ_LOG_TIMESTAMP,
      .ts_unit = DM_PQ_MILLIS, .ts_utc = 0},
     K_TS_MS, "TIMESTAMP", -1},
    {{.name = "i8", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 8, .int_signed = 1},
     K_INT, "TINYINT", -1},
    {{.name = "u8", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 8, .int_signed = 0},
     K_UINT, "UTINYINT", -1},
    {{.name = "i16", .type = DM_PQ_INT32, .logical = DM_PQ_LOG_INTEGER, .int_bits = 16,
      .int_signed = 1},
     K_INT, "SMALLINT", -1},
    {{.name = "u16", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 16, .int_signed = 0},
     K_UINT, "USMALLINT", -1},
    {{.name = "u32", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 32, .int_signed = 0},
     K_UINT, "UINTEGER", -1},
    {{.name = "i32_ann", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 32, .int_signed = 1},
     K_INT, "INTEGER", -1},
    {{.name = "u64", .type = DM_PQ_INT64, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
      .int_bits = 64, .int_signed = 0},
     K_UINT, "UBIGINT", -1},
    {{.name = "i64_ann", .type = DM_PQ_INT64, .logical = DM_PQ_LOG_INTEGER, .int_bits = 64,
      .int_signed = 1},
     K_INT, "BIGINT", -1},
    {SPEC("bin", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_NONE), K_BLOB, "BLOB", -1},
};
#define NTYPES (sizeof(types_cols) / sizeof(types_cols[0]))

enum gen_mode { G_RANDOM, G_ALL_NULL, G_ONE_VALUE, G_LONG, G_FALLBACK };

/* Value of column c at row r; `mode` varies the distributions. */
static void gen(const struct ccol *c, size_t col, size_t r, enum gen_mode mode, struct value *v)
{
    memset(v, 0, sizeof(*v));
    uint64_t x = rnd();
    if (c->spec.optional && (mode == G_ALL_NULL || (mode != G_ONE_VALUE && x % 7 == 0))) {
        v->null = 1;
        return;
    }
    if (mode == G_ONE_VALUE)
        x = 42 + col;
    int small = (col % 2) == 1; /* optional columns get low cardinality: dictionaries */
    switch (c->kind) {
    case K_BOOL: v->i = (int64_t)((x >> 7) & 1); break;
    case K_INT:
        switch (c->spec.int_bits) {
        case 8: v->i = (int8_t)(x >> 3); break;
        case 16: v->i = (int16_t)(x >> 3); break;
        default:
            if (c->spec.type == DM_PQ_INT32)
                v->i = small ? (int32_t)(x % 50) - 25 : (int32_t)(x >> 5);
            else
                v->i = small ? (int64_t)(x % 100) * 1000000007ll : (int64_t)x;
        }
        break;
    case K_UINT:
        switch (c->spec.int_bits) {
        case 8: v->i = (uint8_t)(x >> 3); break;
        case 16: v->i = (uint16_t)(x >> 3); break;
        case 32: v->i = (int64_t)(uint32_t)(x >> 9); break;
        default: v->i = (int64_t)x; break;
        }
        break;
    case K_DOUBLE:
        if (mode == G_ONE_VALUE)
            v->d = 2.5;
        else if (small)
            v->d = (x % 5 == 0) ? -0.0 : (double)(x % 9) * 0.25 - 1;
        else
            v->d = ldexp((double)(int64_t)x, -(int)(x % 80));
        break;
    case K_STRING:
    case K_BLOB: {
        if (mode == G_LONG) {
            size_t len = (size_t)(x % 300000);
            for (size_t i = 0; i < len; i++)
                sbuf[i] = (char)('a' + (i * 7 + r) % 26);
            v->s = sbuf;
            v->n = len;
        } else if (mode == G_FALLBACK && col == 0) {
            int n = snprintf(sbuf, sizeof(sbuf), "unique-value-%zu-%016" PRIx64, r, x);
            v->s = sbuf;
            v->n = (size_t)n;
        } else if (mode == G_ONE_VALUE) {
            v->s = "same";
            v->n = 4;
        } else if (c->kind == K_BLOB) {
            size_t len = (size_t)(x % 9);
            for (size_t i = 0; i < len; i++)
                sbuf[i] = (char)(rnd() & 0xff);
            v->s = sbuf;
            v->n = len;
        } else if (!c->spec.optional || mode == G_FALLBACK) {
            v->s = words[x % (sizeof(words) / sizeof(words[0]))];
            v->n = strlen(v->s);
        } else {
            int n = snprintf(sbuf, sizeof(sbuf), "host-%" PRIu64 ".example", x % 100000);
            v->s = sbuf;
            v->n = (size_t)n;
        }
        break;
    }
    case K_TS_US: v->i = 1700000000000000ll + (int64_t)r * 1000003 + (int64_t)(x % 1000); break;
    case K_TS_MS: v->i = mode == G_ONE_VALUE ? 1700000000000ll : (int64_t)(x % 4000000000000ull); break;
    }
}

static int emit_value(struct dm_buf *out, const struct ccol *c, const struct value *v)
{
    if (v->null)
        return dm_buf_puts(out, "null");
    switch (c->kind) {
    case K_BOOL: return dm_buf_puts(out, v->i ? "true" : "false");
    case K_INT:
    case K_TS_US:
    case K_TS_MS: return dm_buf_printf(out, "\"%" PRId64 "\"", v->i);
    case K_UINT:
        return dm_buf_printf(out, "\"%" PRIu64 "\"",
                             c->spec.int_bits == 32 ? (uint64_t)(uint32_t)v->i : (uint64_t)v->i);
    case K_DOUBLE: return dm_buf_printf(out, "%.17g", v->d);
    case K_STRING: return dm_buf_json_str(out, v->s, v->n);
    case K_BLOB: {
        int rc = dm_buf_putc(out, '"');
        for (size_t i = 0; i < v->n && !rc; i++)
            rc = dm_buf_printf(out, "%02X", (unsigned char)v->s[i]);
        return rc ? rc : dm_buf_putc(out, '"');
    }
    }
    return -EINVAL;
}

static int set_value(struct dm_batch *b, size_t col, const struct ccol *c, const struct value *v)
{
    if (v->null)
        return dm_batch_set_null(b, col);
    switch (c->spec.type) {
    case DM_PQ_BOOLEAN: dm_batch_set_bool(b, col, (int)v->i); return 0;
    case DM_PQ_INT32: dm_batch_set_i32(b, col, (int32_t)(uint32_t)v->i); return 0;
    case DM_PQ_INT64: dm_batch_set_i64(b, col, v->i); return 0;
    case DM_PQ_DOUBLE: dm_batch_set_f64(b, col, v->d); return 0;
    default: return dm_batch_set_str(b, col, v->s, v->n);
    }
}

static int write_text(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(s, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

struct wcase {
    const char *name;
    struct ccol *cols;
    size_t ncols;
    size_t rows;
    enum gen_mode mode;
    enum dm_pq_codec codec;
    size_t rg_rows, page_bytes, dict_max;
    int nodict;
};

static int run_case(const char *dir, const struct wcase *k, struct dm_pool *pool)
{
    char path[4096];
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.codec = k->codec;
    o.pool = pool;
    if (k->rg_rows)
        o.row_group_rows = k->rg_rows;
    if (k->page_bytes)
        o.page_bytes = k->page_bytes;
    if (k->dict_max)
        o.dict_max_bytes = k->dict_max;
    if (k->nodict)
        o.dictionary = 0;
    struct dm_pq_kv kv[] = {{"datamate.case", k->name}};
    o.kv = kv;
    o.nkv = 1;
    struct dm_pq_column_spec specs[64];
    enum dm_vtype types[64];
    for (size_t i = 0; i < k->ncols; i++) {
        specs[i] = k->cols[i].spec;
        types[i] = (enum dm_vtype)specs[i].type;
    }
    snprintf(path, sizeof(path), "%s/%s.parquet", dir, k->name);
    struct dm_error err;
    dm_error_clear(&err);
    struct dm_pq_writer *w;
    if (dm_pq_writer_open(&w, path, specs, k->ncols, &o, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    struct dm_batch b;
    if (dm_batch_init(&b, types, k->ncols, 4096))
        return 1;
    struct dm_buf out;
    dm_buf_init(&out, DM_BUF_UNLIMITED);
    rng_state = 12345;
    int rc = 0;
    for (size_t r = 0; r < k->rows && !rc; r++) {
        rc = dm_buf_putc(&out, '[');
        for (size_t i = 0; i < k->ncols && !rc; i++) {
            struct value v;
            gen(&k->cols[i], i, r, k->mode, &v);
            if (i)
                rc = dm_buf_putc(&out, ',');
            if (!rc)
                rc = emit_value(&out, &k->cols[i], &v);
            if (!rc)
                rc = set_value(&b, i, &k->cols[i], &v);
        }
        if (!rc)
            rc = dm_buf_puts(&out, "]\n");
        if (!rc)
            rc = dm_batch_commit_row(&b);
        if (!rc && b.nrows == 4096) {
            rc = dm_pq_writer_write(w, &b, &err);
            dm_batch_clear(&b);
        }
        if (!rc && b.nrows == b.cap)
            rc = dm_batch_reserve(&b, 1);
    }
    if (!rc && b.nrows)
        rc = dm_pq_writer_write(w, &b, &err);
    dm_batch_release(&b);
    if (rc) {
        fprintf(stderr, "%s: %s\n", k->name, err.msg);
        dm_pq_writer_abort(w);
        dm_buf_release(&out);
        return 1;
    }
    if (dm_pq_writer_close(w, &err)) {
        fprintf(stderr, "%s: close: %s\n", k->name, err.msg);
        dm_buf_release(&out);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, k->name);
    rc = write_text(path, out.data ? out.data : "", out.len);
    dm_buf_reset(&out);
    dm_buf_printf(&out, "{\"rows\": %zu, \"rg_rows\": %zu, \"codec\": \"%d\", \"columns\": [",
                  k->rows, o.row_group_rows, (int)k->codec);
    for (size_t i = 0; i < k->ncols; i++) {
        static const char *const kinds[] = {"bool", "int", "uint", "double", "string",
                                            "ts_us", "ts_ms", "blob"};
        dm_buf_printf(&out, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"duck\": \"%s\", \"dict\": %d}",
                      i ? ", " : "", k->cols[i].spec.name, kinds[k->cols[i].kind],
                      k->cols[i].duck, k->cols[i].dict);
    }
    dm_buf_puts(&out, "]}\n");
    snprintf(path, sizeof(path), "%s/%s.json", dir, k->name);
    rc |= write_text(path, out.data, out.len);
    dm_buf_release(&out);
    return rc ? 1 : 0;
}

static struct ccol long_cols[] = {
    {SPEC("s", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", 0},
    {SPEC("s_opt", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", 0},
};

static struct ccol fallback_cols[] = {
    {SPEC("s_unique", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", 0},
    {SPEC("s_small", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING), K_STRING, "VARCHAR", 1},
    {SPEC("i64_unique", DM_PQ_INT64, 0, DM_PQ_LOG_NONE), K_INT, "BIGINT", 0},
    {SPEC("i32_small", DM_PQ_INT32, 1, DM_PQ_LOG_NONE), K_INT, "INTEGER", 1},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pq_write_cases OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    struct dm_pool *pool = dm_pool_new(2);
    static const struct {
        const char *name;
        enum dm_pq_codec codec;
    } codecs[] = {{"none", DM_PQ_UNCOMPRESSED}, {"snappy", DM_PQ_SNAPPY}, {"gzip", DM_PQ_GZIP},
                  {"zstd", DM_PQ_ZSTD},         {"lz4_raw", DM_PQ_LZ4_RAW}};
    int fails = 0;
    char names[8][64];
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        snprintf(names[i], sizeof(names[i]), "types_%s", codecs[i].name);
        struct wcase k = {names[i], types_cols, NTYPES, 3000, G_RANDOM, codecs[i].codec,
                          1024, 0, 0, 0};
        fails += run_case(dir, &k, pool);
    }
    const struct wcase cases[] = {
        {"types_nodict", types_cols, NTYPES, 3000, G_RANDOM, DM_PQ_ZSTD, 1000, 0, 0, 1},
        {"empty", types_cols, NTYPES, 0, G_RANDOM, DM_PQ_ZSTD, 0, 0, 0, 0},
        {"one_row", types_cols, NTYPES, 1, G_RANDOM, DM_PQ_SNAPPY, 0, 0, 0, 0},
        {"all_null", types_cols, NTYPES, 2000, G_ALL_NULL, DM_PQ_ZSTD, 0, 0, 0, 0},
        {"one_value", types_cols, NTYPES, 2000, G_ONE_VALUE, DM_PQ_GZIP, 0, 0, 0, 0},
        {"one_value_7", types_cols, NTYPES, 7, G_ONE_VALUE, DM_PQ_UNCOMPRESSED, 0, 0, 0, 0},
        {"many_rg", types_cols, NTYPES, 5000, G_RANDOM, DM_PQ_ZSTD, 97, 512, 0, 0},
        {"long_strings", long_cols, 2, 40, G_LONG, DM_PQ_ZSTD, 16, 65536, 0, 0},
        {"dict_fallback", fallback_cols, 4, 5000, G_FALLBACK, DM_PQ_SNAPPY, 0, 0, 4096, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fails += run_case(dir, &cases[i], pool);
    dm_pool_free(pool);
    return fails ? 1 : 0;
}
