/* Benchmark driver for bench/parquet.bench.
 *
 *   pq_bench gen OUT ROWS          writes the synthetic flow table (canonical schema,
 *                                  uncompressed) for DuckDB to load — same rows as below
 *   pq_bench write OUT ROWS THREADS CODEC
 *                                  generates the same rows in memory (not timed), then times
 *                                  writing them with the datamate writer on THREADS threads
 *   pq_bench read FILE THREADS     times reading every column chunk of FILE (decoded into
 *                                  memory, dictionaries expanded) on THREADS threads
 *
 * Prints "result<TAB>name<TAB>tool<TAB>value<TAB>unit" lines (bench/run.sh collects them)
 * and human-readable details on stderr. The data: one week of flows from ~2,000 internal
 * hosts to ~50,000 external peers with skewed popularity, realistic ports / protocols /
 * actions, heavy-tailed byte counts, some nulls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm_batch.h"
#include "dm_codec.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "dm_pq_reader.h"

#define BATCH_ROWS 65536

static const struct dm_pq_column_spec flow_schema[] = {
    {.name = "ts", .type = DM_PQ_INT64, .logical = DM_PQ_LOG_TIMESTAMP, .ts_unit = DM_PQ_MICROS,
     .ts_utc = 1},
    {.name = "src_ip", .type = DM_PQ_BYTE_ARRAY, .logical = DM_PQ_LOG_STRING},
    {.name = "dst_ip", .type = DM_PQ_BYTE_ARRAY, .logical = DM_PQ_LOG_STRING},
    {.name = "src_port", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
     .int_bits = 16},
    {.name = "dst_port", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
     .int_bits = 16},
    {.name = "proto", .type = DM_PQ_INT32, .optional = 1, .logical = DM_PQ_LOG_INTEGER,
     .int_bits = 8},
    {.name = "bytes_sent", .type = DM_PQ_INT64, .optional = 1},
    {.name = "bytes_recv", .type = DM_PQ_INT64, .optional = 1},
    {.name = "packets", .type = DM_PQ_INT64, .optional = 1},
    {.name = "action", .type = DM_PQ_BYTE_ARRAY, .optional = 1, .logical = DM_PQ_LOG_STRING},
    {.name = "duration_ms", .type = DM_PQ_INT64, .optional = 1},
};
#define NCOLS (sizeof(flow_schema) / sizeof(flow_schema[0]))

static uint64_t rng = 0x5eed;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(void)
{
    double u = unif(), v = unif();
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Skewed pick in [0, n): small indexes are much more popular (Zipf-like). */
static uint64_t skewed(uint64_t n)
{
    double x = pow(unif(), 3.0);
    return (uint64_t)(x * (double)n) % n;
}

static int fmt_ip(char *buf, uint32_t a)
{
    return snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* An external address for peer k (stable, spread over public space). */
static uint32_t external_ip(uint64_t k)
{
    uint64_t h = (k + 1) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    uint32_t a = (uint32_t)h;
    uint32_t first = 11 + (uint32_t)((h >> 40) % 180); /* avoid 10/8, 127/8, 172.16/12, ... */
    if (first == 127 || first == 100 || first == 169 || first == 172 || first == 192)
        first++;
    return (first << 24) | (a & 0x00ffffff);
}

static uint32_t internal_ip(uint64_t k)
{
    return (10u << 24) | (uint32_t)((k / 250) << 8) | (uint32_t)(1 + k % 250);
}

/* Appends n rows starting at global row `row` of `total`. */
static int gen_rows(struct dm_batch *b, uint64_t row, size_t n, uint64_t total)
{
    static const int ports[] = {443, 443, 443, 443, 443, 80, 80, 53, 53, 22,
                                25,  3389, 8080, 123, 993, 445};
    static const char *const actions[] = {"allow", "deny", "drop", "reset"};
    const int64_t start = 1709251200000000ll; /* 2024-03-01T00:00:00Z */
    const double span = 7.0 * 86400e6;
    char ip[16];
    if (dm_batch_reserve(b, n))
        return -1;
    for (size_t i = 0; i < n; i++, row++) {
        int64_t ts = start + (int64_t)((double)row * span / (double)total) + (int64_t)(rnd() % 2000000);
        dm_batch_set_i64(b, 0, ts);
        int outbound = rnd() % 100 < 85;
        uint32_t host = internal_ip(skewed(2000));
        uint32_t peer = rnd() % 100 < 20 ? internal_ip(skewed(2000)) : external_ip(skewed(50000));
        uint32_t s = outbound ? host : peer, d = outbound ? peer : host;
        if (dm_batch_set_str(b, 1, ip, (size_t)fmt_ip(ip, s)) ||
            dm_batch_set_str(b, 2, ip, (size_t)fmt_ip(ip, d)))
            return -1;
        int proto_r = (int)(rnd() % 100);
        int proto = proto_r < 80 ? 6 : proto_r < 98 ? 17 : 1;
        if (proto == 1) {
            if (dm_batch_set_null(b, 3) || dm_batch_set_null(b, 4))
                return -1;
        } else {
            dm_batch_set_i32(b, 3, 32768 + (int32_t)(rnd() % 28232));
            dm_batch_set_i32(b, 4, rnd() % 10 == 0 ? (int32_t)(1 + rnd() % 65535)
                                                   : ports[rnd() % 16]);
        }
        dm_batch_set_i32(b, 5, proto);
        double sent = exp(7 + 2 * normal()), recv = exp(8 + 2.5 * normal());
        if (sent > 1e12)
            sent = 1e12;
        if (recv > 1e12)
            recv = 1e12;
        dm_batch_set_i64(b, 6, (int64_t)sent);
        if (rnd() % 100 < 3) {
            if (dm_batch_set_null(b, 7))
                return -1;
        } else {
            dm_batch_set_i64(b, 7, (int64_t)recv);
        }
        dm_batch_set_i64(b, 8, (int64_t)((sent + recv) / 700) + 1);
        int ar = (int)(rnd() % 1000);
        if (ar < 5) {
            if (dm_batch_set_null(b, 9))
                return -1;
        } else {
            const char *a = actions[ar < 850 ? 0 : ar < 950 ? 1 : ar < 995 ? 2 : 3];
            if (dm_batch_set_str(b, 9, a, strlen(a)))
                return -1;
        }
        if (rnd() % 100 < 20) {
            if (dm_batch_set_null(b, 10))
                return -1;
        } else {
            dm_batch_set_i64(b, 10, (int64_t)exp(5 + 2 * normal()));
        }
        if (dm_batch_commit_row(b))
            return -1;
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int usage(void)
{
    fprintf(stderr, "usage: pq_bench gen OUT ROWS | write OUT ROWS THREADS CODEC | "
                    "read FILE THREADS\n");
    return 2;
}

struct read_ctx {
    const struct dm_pq_reader *r;
    size_t ncols;
    _Atomic int failed;
    _Atomic unsigned long long values;
};

static void read_task(void *p, size_t task, unsigned worker)
{
    (void)worker;
    struct read_ctx *c = p;
    struct dm_pq_chunk ch;
    memset(&ch, 0, sizeof(ch));
    struct dm_error err;
    if (dm_pq_read_chunk(c->r, task / c->ncols, task % c->ncols, 0, &ch, &err)) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        c->failed = 1;
    } else {
        c->values += ch.nrows;
    }
    dm_pq_chunk_release(&ch);
}

static int bench_read(const char *path, unsigned threads)
{
    struct dm_pool *pool = threads > 1 ? dm_pool_new(threads) : NULL;
    double t0 = now(), c0 = cpu_now();
    struct dm_pq_reader *r;
    struct dm_error err;
    if (dm_pq_reader_open(&r, path, &err)) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
    }
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    struct read_ctx c = {.r = r, .ncols = m->ncols};
    dm_pool_for(pool, m->nrow_groups * m->ncols, read_task, &c);
    double tr = now() - t0, cr = cpu_now() - c0;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    fprintf(stderr, "pq_bench: read %s: %lld rows, %zu columns in %.3f s (cpu %.3f s), %u threads\n",
            name, (long long)m->num_rows, m->ncols, tr, cr, threads);
    if (!c.failed)
        printf("result\tparquet read %.*s\tdatamate\t%.2f\tMrows/s\n",
               (int)(strlen(name) - strlen(".parquet")), name, (double)m->num_rows / tr / 1e6);
    dm_pq_reader_free(r);
    dm_pool_free(pool);
    return c.failed;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return bench_read(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
    if (argc < 4)
        return usage();
    int gen = strcmp(argv[1], "gen") == 0;
    if (!gen && (strcmp(argv[1], "write") != 0 || argc != 6))
        return usage();
    const char *out = argv[2];
    uint64_t rows = strtoull(argv[3], NULL, 10);
    unsigned threads = gen ? 0 : (unsigned)strtoul(argv[4], NULL, 10);
    enum dm_codec codec = DM_CODEC_NONE;
    if (!gen && dm_codec_from_name(argv[5], &codec))
        return usage();
    enum dm_vtype types[NCOLS];
    for (size_t i = 0; i < NCOLS; i++)
        types[i] = (enum dm_vtype)flow_schema[i].type;

    /* Generate every batch first so that only the writer is timed. */
    size_t nb = (size_t)((rows + BATCH_ROWS - 1) / BATCH_ROWS);
    struct dm_batch *batches = calloc(nb ? nb : 1, sizeof(*batches));
    double t0 = now();
    for (size_t k = 0; k < nb; k++) {
        size_t n = (size_t)(rows - (uint64_t)k * BATCH_ROWS < BATCH_ROWS ? rows - (uint64_t)k * BATCH_ROWS
                                                                          : BATCH_ROWS);
        if (dm_batch_init(&batches[k], types, NCOLS, n) ||
            gen_rows(&batches[k], (uint64_t)k * BATCH_ROWS, n, rows)) {
            fprintf(stderr, "pq_bench: out of memory generating rows\n");
            return 1;
        }
    }
    double tgen = now() - t0;
    size_t raw = 0;
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < NCOLS; i++)
            raw += batches[k].cols[i].type == DM_STR
                       ? batches[k].cols[i].nbytes + 4 * batches[k].nrows
                       : batches[k].nrows * (batches[k].cols[i].type == DM_I32 ? 4 : 8);

    struct dm_pool *pool = threads > 1 ? dm_pool_new(threads) : NULL;
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.codec = (enum dm_pq_codec)codec;
    o.pool = pool;
    struct dm_pq_kv kv[] = {{"datamate.source", "bench"}};
    o.kv = kv;
    o.nkv = 1;
    struct dm_pq_writer *w;
    struct dm_error err;
    dm_error_clear(&err);
    t0 = now();
    double c0 = cpu_now();
    int rc = dm_pq_writer_open(&w, out, flow_schema, NCOLS, &o, &err);
    for (size_t k = 0; k < nb && !rc; k++)
        rc = dm_pq_writer_write(w, &batches[k], &err);
    if (!rc)
        rc = dm_pq_writer_close(w, &err);
    else
        dm_pq_writer_abort(w);
    double tw = now() - t0, cw = cpu_now() - c0;
    if (rc) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(out, "rb");
    long size = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    fprintf(stderr, "pq_bench: %s %llu rows (generated in %.2f s, %.0f MB raw) written in %.3f s "
                    "(cpu %.3f s) -> %.1f MB file, %s, %u threads\n",
            gen ? "gen" : "write", (unsigned long long)rows, tgen, (double)raw / 1e6, tw, cw,
            (double)size / 1e6, dm_codec_name(codec), threads);
    if (!gen)
        printf("result\tparquet write %s\tdatamate\t%.2f\tMrows/s\n", dm_codec_name(codec),
               (double)rows / tw / 1e6);
    for (size_t k = 0; k < nb; k++)
        dm_batch_release(&batches[k]);
    free(batches);
    dm_pool_free(pool);
    return 0;
}
