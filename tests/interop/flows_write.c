/* Writes a deterministic synthetic flow table as Parquet with the library's writer, for the
 * engine's interop tests, CLI fixtures and the query benchmark.
 *
 *   flows_write OUT ROWS [--seed N] [--old] [--rg ROWS] [--shuffle]
 *
 * Canonical schema by default (ts TIMESTAMP(MICROS), src_ip/dst_ip strings, ports UINT16,
 * proto UINT8, bytes_sent/bytes_recv/packets/duration_ms INT64, action string, plus an extra
 * string column "user"); --old writes the earlier tool's columns (_@timestamp string,
 * _SourceIP, _DestinationIP, float64 _BytesSent/_BytesReceived/_DestinationPort, _Action).
 * Rows are in time order unless --shuffle. Some values are null on purpose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_batch.h"
#include "dm_engine.h"
#include "dm_parquet.h"
#include "dm_pool.h"

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* heavy-tailed byte count */
static int64_t bytes(uint64_t *s)
{
    double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
    double v = 200.0 / (u * u * u + 0.0002);
    if (rnd(s) % 20000 == 0)
        v *= 5000; /* a few very large transfers */
    return (int64_t)v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: flows_write OUT ROWS [--seed N] [--old] [--rg ROWS] [--shuffle]\n");
        return 2;
    }
    const char *out = argv[1];
    uint64_t rows = strtoull(argv[2], NULL, 10), seed = 1;
    int old = 0, shuffle = 0;
    size_t rg = 1 << 20;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--old"))
            old = 1;
        else if (!strcmp(argv[i], "--rg") && i + 1 < argc)
            rg = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--shuffle"))
            shuffle = 1;
    }
    struct dm_pq_column_spec canon[] = {
        {"ts", DM_PQ_INT64, 0, DM_PQ_LOG_TIMESTAMP, DM_PQ_MICROS, 1, 0, 0},
        {"src_ip", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"dst_ip", DM_PQ_BYTE_ARRAY, 0, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"src_port", DM_PQ_INT32, 1, DM_PQ_LOG_INTEGER, 0, 0, 16, 0},
        {"dst_port", DM_PQ_INT32, 1, DM_PQ_LOG_INTEGER, 0, 0, 16, 0},
        {"proto", DM_PQ_INT32, 1, DM_PQ_LOG_INTEGER, 0, 0, 8, 0},
        {"bytes_sent", DM_PQ_INT64, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"bytes_recv", DM_PQ_INT64, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"packets", DM_PQ_INT64, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"action", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"duration_ms", DM_PQ_INT64, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"user", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
    };
    struct dm_pq_column_spec olds[] = {
        {"_@timestamp", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_SourceIP", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_DestinationIP", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_BytesReceived", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"_BytesSent", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
        {"_Action", DM_PQ_BYTE_ARRAY, 1, DM_PQ_LOG_STRING, 0, 0, 0, 0},
        {"_DestinationPort", DM_PQ_DOUBLE, 1, DM_PQ_LOG_NONE, 0, 0, 0, 0},
    };
    const struct dm_pq_column_spec *spec = old ? olds : canon;
    size_t ncols = old ? 7 : 12;
    enum dm_vtype types[12];
    for (size_t i = 0; i < ncols; i++)
        types[i] = (enum dm_vtype)(spec[i].type == DM_PQ_BYTE_ARRAY ? DM_STR : (int)spec[i].type);
    struct dm_pool *pool = dm_pool_new(0);
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.pool = pool;
    o.row_group_rows = rg;
    struct dm_pq_writer *w;
    struct dm_error err;
    if (dm_pq_writer_open(&w, out, spec, ncols, &o, &err)) {
        fprintf(stderr, "flows_write: %s\n", err.msg);
        return 1;
    }
    struct dm_batch b;
    if (dm_batch_init(&b, types, ncols, 65536))
        return 1;
    static const char *const actions[] = {"allow", "allow", "allow", "allow", "deny", "drop",
                                          "allow", "allow"};
    static const int ports[] = {443, 443, 443, 80, 53, 22, 25, 3389, 8080, 445, 123, 5432};
    static const char *const users[] = {"alice", "bob", "carol", "dave"};
    const int64_t t0 = 1709251200000000LL; /* 2024-03-01T00:00:00Z */
    const uint64_t span = 86400ull * 1000000; /* one day */
    uint64_t s = seed;
    for (uint64_t i = 0; i < rows; i++) {
        if (b.nrows == 65536) {
            if (dm_pq_writer_write(w, &b, &err)) {
                fprintf(stderr, "flows_write: %s\n", err.msg);
                return 1;
            }
            dm_batch_clear(&b);
        }
        uint64_t r = rnd(&s);
        int64_t ts = t0 + (int64_t)(shuffle ? rnd(&s) % span : i * span / (rows ? rows : 1));
        char src[48], dst[48];
        int internal_src = r % 10 < 8;
        unsigned h = (unsigned)(rnd(&s) % 2000);
        unsigned e = (unsigned)(rnd(&s) % 60000);
        if (internal_src)
            snprintf(src, sizeof(src), "10.%u.%u.%u", h % 4, h / 250, h % 250 + 1);
        else if (h % 7 == 0)
            snprintf(src, sizeof(src), "2001:db8::%x", e % 5000 + 1);
        else
            snprintf(src, sizeof(src), "%u.%u.%u.%u", 11 + e % 180, (e / 7) % 256, e % 199,
                     e % 251 + 1);
        if (r % 10 == 9)
            snprintf(dst, sizeof(dst), "192.168.%u.%u", h % 16, h % 200 + 1);
        else if (e % 11 == 0)
            snprintf(dst, sizeof(dst), "2001:db8:1::%x", e % 3000 + 1);
        else
            snprintf(dst, sizeof(dst), "%u.%u.%u.%u", 20 + e % 150, (e / 3) % 256, e % 97,
                     e % 241 + 1);
        int dport = ports[(r >> 8) % 12];
        int64_t sent = bytes(&s), recv = bytes(&s);
        const char *action = actions[(r >> 16) % 8];
        if (old) {
            char tsbuf[40];
            dm_time_format(ts, tsbuf);
            tsbuf[10] = ' ';          /* "2024-03-01 10:00:00.123" */
            tsbuf[strlen(tsbuf) - 1] = 0;
            dm_batch_set_str(&b, 0, tsbuf, strlen(tsbuf));
            dm_batch_set_str(&b, 1, src, strlen(src));
            dm_batch_set_str(&b, 2, dst, strlen(dst));
            dm_batch_set_f64(&b, 3, (double)recv);
            dm_batch_set_f64(&b, 4, (double)sent);
            dm_batch_set_str(&b, 5, action, strlen(action));
            dm_batch_set_f64(&b, 6, (double)dport);
        } else {
            dm_batch_set_i64(&b, 0, ts);
            dm_batch_set_str(&b, 1, src, strlen(src));
            dm_batch_set_str(&b, 2, dst, strlen(dst));
            dm_batch_set_i32(&b, 3, (int32_t)(1024 + rnd(&s) % 64000));
            if ((r >> 24) % 50 == 0)
                dm_batch_set_null(&b, 4);
            else
                dm_batch_set_i32(&b, 4, dport);
            dm_batch_set_i32(&b, 5, dport == 53 || dport == 123 ? 17 : 6);
            dm_batch_set_i64(&b, 6, sent);
            if ((r >> 32) % 100 == 0)
                dm_batch_set_null(&b, 7);
            else
                dm_batch_set_i64(&b, 7, recv);
            dm_batch_set_i64(&b, 8, (sent + recv) / 1000 + 1);
            dm_batch_set_str(&b, 9, action, strlen(action));
            dm_batch_set_i64(&b, 10, (int64_t)((r >> 40) % 600000));
            if ((r >> 48) % 3 == 0)
                dm_batch_set_null(&b, 11);
            else
                dm_batch_set_str(&b, 11, users[(r >> 50) % 4], strlen(users[(r >> 50) % 4]));
        }
        if (dm_batch_commit_row(&b))
            return 1;
    }
    if (b.nrows && dm_pq_writer_write(w, &b, &err)) {
        fprintf(stderr, "flows_write: %s\n", err.msg);
        return 1;
    }
    if (dm_pq_writer_close(w, &err)) {
        fprintf(stderr, "flows_write: %s\n", err.msg);
        return 1;
    }
    dm_batch_release(&b);
    dm_pool_free(pool);
    return 0;
}
