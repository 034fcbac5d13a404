/* Loading Parquet: canonical files, the earlier tool's schema (string timestamps, float
 * counters), config column mapping, directories with Hive partitions, globs, unsorted input,
 * missing columns and corrupt files. Files are written with the library's own writer. */
#include "dm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_batch.h"
#include "dm_buf.h"
#include "dm_engine.h"
#include "dm_parquet.h"
#include "dm_pool.h"

static char dir[256];

static void write_file(const char *path, const struct dm_pq_column_spec *spec, size_t ncols,
                       const struct dm_batch *b, size_t rg_rows)
{
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    if (rg_rows)
        o.row_group_rows = rg_rows;
    struct dm_pq_writer *w;
    struct dm_error err;
    assert_int_equal(dm_pq_writer_open(&w, path, spec, ncols, &o, &err), 0);
    assert_int_equal(dm_pq_writer_write(w, b, &err), 0);
    assert_int_equal(dm_pq_writer_close(w, &err), 0);
}

static const struct dm_pq_column_spec canon[] = {
    {"ts", DM_PQ_INT64, 0, DM_PQ_LOG_TIMESTAMP, DM_PQ_MICROS, 1, 0, 0},
    {"src_ip", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
    {"dst_ip", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
    {"dst_port", DM_PQ_INT32, 1, DM_PQ_LOG_INTEGER, 0, 0, 16, 0},
    {"bytes_sent", DM_PQ_INT64, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
    {"action", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
    {"user", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
};

/* n rows: ts = base + i seconds (reversed when rev), src 10.0.0.(i%5), dst 203.0.113.i */
static void canon_batch(struct dm_batch *b, size_t n, int64_t base, int rev)
{
    enum dm_vtype types[] = {DM_I64, DM_STR, DM_STR, DM_I32, DM_I64, DM_STR, DM_STR};
    assert_int_equal(dm_batch_init(b, types, 7, n), 0);
    for (size_t k = 0; k < n; k++) {
        size_t i = rev ? n - 1 - k : k;
        char s[32], d[32];
        snprintf(s, sizeof(s), "10.0.0.%zu", i % 5);
        snprintf(d, sizeof(d), "203.0.113.%zu", i % 250);
        dm_batch_set_i64(b, 0, base + (int64_t)i * 1000000);
        dm_batch_set_str(b, 1, s, strlen(s));
        dm_batch_set_str(b, 2, d, strlen(d));
        if (i % 10 == 3)
            dm_batch_set_null(b, 3);
        else
            dm_batch_set_i32(b, 3, i % 2 ? 443 : 80);
        dm_batch_set_i64(b, 4, (int64_t)i * 100);
        dm_batch_set_str(b, 5, i % 3 ? "allow" : "DENY", i % 3 ? 5 : 4);
        if (i % 4)
            dm_batch_set_str(b, 6, "u1", 2);
        else
            dm_batch_set_null(b, 6);
        assert_int_equal(dm_batch_commit_row(b), 0);
    }
}

static struct dm_table *load(const char *data, struct dm_config *cfg, struct dm_pool *pool,
                             struct dm_error *err)
{
    struct dm_load_opts o = {cfg, pool, NULL, 0, NULL, NULL};
    struct dm_table *t = NULL;
    int rc = dm_table_load(&t, data, &o, err);
    if (rc)
        return NULL;
    return t;
}

static uint64_t count(struct dm_table *t, const char *expr)
{
    struct dm_filter *f;
    assert_int_equal(dm_filter_compile(&f, t, expr, strlen(expr), NULL), 0);
    struct dm_summary_res s;
    assert_int_equal(dm_summary(t, f, &s, NULL), 0);
    dm_filter_free(f);
    return s.rows;
}

static void test_canonical_unsorted_multi_rowgroup(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/canon.parquet", dir);
    struct dm_batch b;
    canon_batch(&b, 1000, 1709287200000000LL, 1);
    write_file(path, canon, 7, &b, 128);
    dm_batch_release(&b);
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    const char *c = "{\"targeted_cols\": [\"ts\", \"src_ip\", \"user\"]}";
    assert_int_equal(dm_config_parse(&cfg, c, strlen(c), NULL), 0);
    struct dm_pool *pool = dm_pool_new(2);
    struct dm_error err;
    struct dm_table *t = load(path, &cfg, pool, &err);
    assert_non_null(t);
    assert_int_equal(t->nrows, 1000);
    const int64_t *ts = dm_table_ts(t);
    for (size_t i = 0; i < t->nrows; i++)
        assert_int_equal(ts[i], 1709287200000000LL + (int64_t)i * 1000000);
    assert_int_equal(count(t, "src = 10.0.0.3"), 200);
    assert_int_equal(count(t, "dport = 443"), 500 - 100); /* i % 10 == 3 is odd and null */
    assert_int_equal(count(t, "action = deny"), 334);
    assert_int_equal(count(t, "user = u1"), 750);
    assert_int_equal(count(t, "sent >= 50000"), 500);
    assert_int_equal(t->cols[DM_C_SENT].width, 4);
    assert_int_equal(t->cols[DM_C_PACKETS].width, 0); /* not in the file */
    /* action lower-cased at load */
    assert_int_equal(t->cols[DM_C_ACTION].dict.n, 2);
    int cols[16];
    size_t nc = dm_columns_default(t, cols);
    assert_int_equal(nc, 3);
    assert_string_equal(t->cols[cols[2]].name, "user");
    /* 1000 rows: the IP map's fixed size dominates the per-flow share; the canonical
     * figure is part of the whole table's */
    assert_true(dm_table_canonical_bytes_per_flow(t) * (double)t->nrows <= (double)dm_table_bytes(t));
    dm_table_free(t);
    dm_config_release(&cfg);
    dm_pool_free(pool);
}

/* Unsigned columns are built at the width the row-group statistics promise; a file whose
 * statistics understate a maximum (here bytes_sent's 99900 patched to 200 in the footer)
 * must still load every value exactly (a second pass at full width). */
static void test_lying_statistics(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/lying.parquet", dir);
    struct dm_batch b;
    canon_batch(&b, 1000, 1709287200000000LL, 0);
    write_file(path, canon, 7, &b, 0);
    dm_batch_release(&b);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(len > 12 && len < sizeof(buf));
    size_t flen = (size_t)buf[len - 8] | (size_t)buf[len - 7] << 8 | (size_t)buf[len - 6] << 16 |
                  (size_t)buf[len - 5] << 24;
    assert_true(flen + 12 <= len);
    const uint8_t want[8] = {0x3c, 0x86, 0x01, 0, 0, 0, 0, 0}; /* 99900, int64 LE */
    size_t patched = 0;
    for (size_t i = len - 8 - flen; i + 8 <= len - 8; i++)
        if (!memcmp(buf + i, want, 8)) {
            buf[i] = 200, buf[i + 1] = 0, buf[i + 2] = 0;
            patched++;
        }
    assert_true(patched >= 1);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    struct dm_config cfg;
    dm_config_init(&cfg);
    struct dm_pool *pool = dm_pool_new(2);
    struct dm_error err;
    struct dm_table *t = load(path, &cfg, pool, &err);
    assert_non_null(t);
    assert_int_equal(t->nrows, 1000);
    assert_int_equal(t->cols[DM_C_SENT].max, 99900);
    assert_int_equal(t->cols[DM_C_SENT].width, 4);
    assert_int_equal(count(t, "sent >= 50000"), 500);
    assert_int_equal(count(t, "sent = 25600"), 1);
    dm_table_free(t);
    dm_config_release(&cfg);
    dm_pool_free(pool);
}

static void test_old_tool_schema(void **state)
{
    (void)state;
    static const struct dm_pq_column_spec olds[] = {
        {"_@timestamp", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_SourceIP", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_DestinationIP", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_BytesReceived", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"_BytesSent", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"_Action", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_DestinationPort", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
    };
    enum dm_vtype types[] = {DM_STR, DM_STR, DM_STR, DM_F64, DM_F64, DM_STR, DM_F64};
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, types, 7, 8), 0);
    static const char *const tss[] = {"2023-02-24 09:03:50.123", "2023-02-24T09:03:49Z",
                                      "not a time", "2023-02-24 11:03:50+02:00"};
    static const char *const srcs[] = {"10.250.10.15", " 192.168.1.2 ", "10.0.0.1", "bogus"};
    for (int i = 0; i < 4; i++) {
        dm_batch_set_str(&b, 0, tss[i], strlen(tss[i]));
        dm_batch_set_str(&b, 1, srcs[i], strlen(srcs[i]));
        dm_batch_set_str(&b, 2, "8.8.8.8", 7);
        dm_batch_set_f64(&b, 3, 1.0e3 * (i + 1));
        dm_batch_set_f64(&b, 4, i == 1 ? 2.5 : 5.0e9); /* 2.5 is not a byte count */
        dm_batch_set_str(&b, 5, "Accept", 6);
        dm_batch_set_f64(&b, 6, 443.0);
        assert_int_equal(dm_batch_commit_row(&b), 0);
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/old.parquet", dir);
    write_file(path, olds, 7, &b, 0);
    dm_batch_release(&b);
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_error err;
    struct dm_table *t = load(path, &cfg, NULL, &err);
    assert_non_null(t);
    assert_int_equal(t->rows_read, 4);
    assert_int_equal(t->rows_dropped, 1);
    assert_int_equal(t->nrows, 3);
    assert_int_equal(t->bad_ips, 1);
    assert_int_equal(t->bad_values, 1);
    const int64_t *ts = dm_table_ts(t);
    assert_int_equal(ts[0], 1677229429000000LL);
    assert_int_equal(ts[1], 1677229430000000LL);
    assert_int_equal(ts[2], 1677229430123000LL);
    assert_int_equal(count(t, "dport = 443"), 3);
    assert_int_equal(count(t, "sent = 5G"), 2);
    assert_int_equal(count(t, "recv = 4K"), 1);
    assert_int_equal(count(t, "action = accept"), 3);
    assert_int_equal(count(t, "src = 192.168.1.2"), 1);
    assert_int_equal(t->cols[DM_C_SENT].width, 8); /* 5e9 needs 64 bits */
    dm_table_free(t);
    dm_config_release(&cfg);
}

static void test_directory_glob_mapping_errors(void **state)
{
    (void)state;
    char sub[512], path[600];
    snprintf(sub, sizeof(sub), "%s/ds", dir);
    mkdir(sub, 0700);
    for (int d = 1; d <= 2; d++) {
        snprintf(path, sizeof(path), "%s/day=2024-03-0%d", sub, d);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/day=2024-03-0%d/part-0.parquet", sub, d);
        struct dm_batch b;
        canon_batch(&b, 50, 1709251200000000LL + (int64_t)(d - 1) * 86400000000LL, 0);
        write_file(path, canon, 7, &b, 0);
        dm_batch_release(&b);
    }
    snprintf(path, sizeof(path), "%s/_SUCCESS", sub);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_error err;
    struct dm_table *t = load(sub, &cfg, NULL, &err);
    assert_non_null(t);
    assert_int_equal(t->nrows, 100);
    assert_int_equal(t->nfiles, 2);
    assert_int_equal(count(t, "ts >= 2024-03-02"), 50);
    dm_table_free(t);
    snprintf(path, sizeof(path), "%s/ds/day=*/*.parquet", dir);
    t = load(path, &cfg, NULL, &err);
    assert_non_null(t);
    assert_int_equal(t->nrows, 100);
    dm_table_free(t);
    snprintf(path, sizeof(path), "%s/nothing-*.parquet", dir);
    assert_null(load(path, &cfg, NULL, &err));
    assert_int_equal(err.code, -ENOENT);

    /* foreign names through the config "columns" map */
    static const struct dm_pq_column_spec foreign[] = {
        {"when", DM_PQ_INT64, 0, DM_PQ_LOG_TIMESTAMP, DM_PQ_MILLIS, 1, 0, 0},
        {"a", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"b", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
    };
    enum dm_vtype types[] = {DM_I64, DM_STR, DM_STR};
    struct dm_batch b;
    assert_int_equal(dm_batch_init(&b, types, 3, 2), 0);
    dm_batch_set_i64(&b, 0, 1709287200000LL);
    dm_batch_set_str(&b, 1, "2001:db8::1", 11);
    dm_batch_set_str(&b, 2, "10.1.1.1", 8);
    assert_int_equal(dm_batch_commit_row(&b), 0);
    snprintf(path, sizeof(path), "%s/foreign.parquet", dir);
    write_file(path, foreign, 3, &b, 0);
    dm_batch_release(&b);
    t = load(path, &cfg, NULL, &err);
    assert_null(t);
    assert_int_equal(err.code, -ENOENT);
    assert_non_null(strstr(err.msg, "no timestamp column"));
    const char *c = "{\"columns\": {\"ts\": \"when\", \"src_ip\": \"a\", \"dst\": \"b\"}}";
    assert_int_equal(dm_config_parse(&cfg, c, strlen(c), NULL), 0);
    t = load(path, &cfg, NULL, &err);
    assert_non_null(t);
    assert_int_equal(dm_table_ts(t)[0], 1709287200000000LL);
    assert_int_equal(count(t, "src = 2001:db8::1 and dst internal"), 1);
    dm_table_free(t);

    /* corrupt file: an error naming it, no crash */
    snprintf(path, sizeof(path), "%s/bad.parquet", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("PAR1 this is not parquet PAR1", fp);
    fclose(fp);
    assert_null(load(path, &cfg, NULL, &err));
    assert_non_null(strstr(err.msg, "bad.parquet"));
    dm_config_release(&cfg);
}

static void test_parquet_testing_files(void **state)
{
    (void)state;
    /* a foreign file without flow columns is refused with a clear message */
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_error err;
    assert_null(load(DM_SHARED_DIR "/testdata/parquet-testing/data/alltypes_plain.parquet", &cfg,
                     NULL, &err));
    assert_non_null(strstr(err.msg, "no timestamp column"));
    /* mapped onto flow columns, it loads (INT96 timestamps, int ids as text) */
    const char *c = "{\"columns\": {\"ts\": \"timestamp_col\", \"src_ip\": \"string_col\", "
                    "\"dst_ip\": \"date_string_col\", \"dst_port\": \"int_col\"}}";
    assert_int_equal(dm_config_parse(&cfg, c, strlen(c), NULL), 0);
    struct dm_table *t =
        load(DM_SHARED_DIR "/testdata/parquet-testing/data/alltypes_plain.parquet", &cfg, NULL, &err);
    assert_non_null(t);
    assert_int_equal(t->nrows, 8);
    assert_int_equal(t->bad_ips, 16); /* "0" and "03/01/09" are not addresses */
    assert_int_equal(dm_table_ts(t)[0], 1230768000000000LL); /* 2009-01-01 */
    assert_int_equal(count(t, "dport = 1"), 4);
    dm_table_free(t);
    dm_config_release(&cfg);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dm-test-load-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_unsorted_multi_rowgroup),
        cmocka_unit_test(test_lying_statistics),
        cmocka_unit_test(test_old_tool_schema),
        cmocka_unit_test(test_directory_glob_mapping_errors),
        cmocka_unit_test(test_parquet_testing_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
