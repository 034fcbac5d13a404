/* Writes the e2e test dataset: a canonical-schema Parquet file with known content, for
 * the tests in tests/e2e (the served API and the page). Deterministic (fixed seed). Also writes
 * OUT.expect.json with the numbers the tests check against, computed here from the rows as
 * they are generated (not read back from the file).
 *
 * Content: 3,000 background flows over two days between internal hosts (10/8, 172.16/12,
 * 192.168/16) and external ones (203.0.113/24, 198.51.100/24, 172.32.0.9, 2001:db8::/32),
 * plus planted rows:
 *   - the largest upload: 10.2.1.21 -> 203.0.113.66, 987654321 bytes sent;
 *   - 40 flows 10.2.1.21 -> 198.51.100.7 (the hub of the graph test);
 *   - a DB server 172.16.5.5 and a MAIL server 10.0.0.25 (config known_servers) talking to
 *     10.2.1.21;
 *   - one flow whose action and message are HTML/script injection strings.
 * Usage: e2e_mkdata OUT.parquet */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_batch.h"
#include "dm_buf.h"
#include "dm_parquet.h"
#include "banned.h"

#define XSS_ACTION "<img src=x onerror=alert(1)>"
#define XSS_MESSAGE "<script>alert(2)</script>&amp;\"quoted\""

enum { C_TS, C_SRC, C_DST, C_SPORT, C_DPORT, C_PROTO, C_SENT, C_RECV, C_PACKETS, C_ACTION,
       C_DURATION, C_MESSAGE, NCOLS };

static const struct dm_pq_column_spec cols[NCOLS] = {
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
    {.name = "message", .type = DM_PQ_BYTE_ARRAY, .optional = 1, .logical = DM_PQ_LOG_STRING},
};

static uint64_t rng = 42;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct row {
    int64_t ts;
    char src[48], dst[48];
    int sport, dport, proto;
    int64_t sent, recv, packets, duration;
    const char *action, *message;
};

#define T0 1667520000000000ll /* 2022-11-04T00:00:00Z */
#define NBG 3000
#define NHUB 40
#define NROWS (NBG + 1 + NHUB + 6 + 1)

static struct row rows[NROWS];

static void internal_ip(char *out)
{
    switch (rnd() % 3) {
    case 0: snprintf(out, 48, "10.0.%u.%u", (unsigned)(rnd() % 4), (unsigned)(1 + rnd() % 30)); break;
    case 1: snprintf(out, 48, "192.168.1.%u", (unsigned)(1 + rnd() % 40)); break;
    default: snprintf(out, 48, "172.16.%u.%u", (unsigned)(rnd() % 3), (unsigned)(1 + rnd() % 20));
    }
}

static void external_ip(char *out)
{
    switch (rnd() % 4) {
    case 0: snprintf(out, 48, "203.0.113.%u", (unsigned)(1 + rnd() % 60)); break;
    case 1: snprintf(out, 48, "198.51.100.%u", (unsigned)(10 + rnd() % 90)); break;
    case 2: snprintf(out, 48, "172.32.0.9"); break;
    default: snprintf(out, 48, "2001:db8::%x", (unsigned)(1 + rnd() % 16));
    }
}

static int cmp_ts(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: e2e_mkdata OUT.parquet\n");
        return 2;
    }
    static const char *const actions[] = {"allow", "allow", "allow", "deny", "drop"};
    size_t n = 0;
    for (int i = 0; i < NBG; i++) {
        struct row *r = &rows[n++];
        r->ts = T0 + (int64_t)(rnd() % (2 * 86400ull)) * 1000000 + (int64_t)(rnd() % 1000000);
        int out = rnd() % 3 != 0;
        internal_ip(r->src);
        if (out)
            external_ip(r->dst);
        else
            internal_ip(r->dst);
        r->sport = 1024 + (int)(rnd() % 60000);
        static const int ports[] = {443, 80, 53, 22, 25, 3306, 8080, 123};
        r->dport = ports[rnd() % 8];
        r->proto = r->dport == 53 || r->dport == 123 ? 17 : 6;
        r->sent = (int64_t)(40 + rnd() % 20000);
        r->recv = (int64_t)(rnd() % 200000);
        r->packets = 1 + (int64_t)(rnd() % 500);
        r->duration = (int64_t)(rnd() % 60000);
        r->action = actions[rnd() % 5];
        r->message = rnd() % 10 == 0 ? NULL : "policy match";
    }
    /* The largest upload. */
    struct row *r = &rows[n++];
    *r = (struct row){.ts = T0 + 86400ll * 1000000 + 3 * 3600ll * 1000000, .sport = 50000,
                      .dport = 443, .proto = 6, .sent = 987654321, .recv = 5400, .packets = 700000,
                      .duration = 1800000, .action = "allow", .message = "bulk upload"};
    snprintf(r->src, 48, "10.2.1.21");
    snprintf(r->dst, 48, "203.0.113.66");
    /* The graph hub: 40 flows 10.2.1.21 -> 198.51.100.7. */
    for (int i = 0; i < NHUB; i++) {
        r = &rows[n++];
        *r = (struct row){.ts = T0 + (int64_t)i * 3600ll * 1000000, .sport = 40000 + i,
                          .dport = 8443, .proto = 6, .sent = 1000 + i, .recv = 200, .packets = 10,
                          .duration = 100, .action = "allow", .message = "beacon"};
        snprintf(r->src, 48, "10.2.1.21");
        snprintf(r->dst, 48, "198.51.100.7");
    }
    /* Known servers talking to 10.2.1.21: DB (3 flows) and MAIL (3 flows). */
    for (int i = 0; i < 6; i++) {
        r = &rows[n++];
        *r = (struct row){.ts = T0 + 7200ll * 1000000 + i * 60ll * 1000000, .sport = 33000 + i,
                          .dport = i < 3 ? 5432 : 25, .proto = 6, .sent = 3000, .recv = 90000,
                          .packets = 50, .duration = 10, .action = "allow", .message = NULL};
        snprintf(r->src, 48, "10.2.1.21");
        snprintf(r->dst, 48, "%s", i < 3 ? "172.16.5.5" : "10.0.0.25");
    }
    /* Attacker-controlled strings. */
    r = &rows[n++];
    *r = (struct row){.ts = T0 + 12 * 3600ll * 1000000, .sport = 6666, .dport = 80, .proto = 6,
                      .sent = 666, .recv = 666, .packets = 6, .duration = 6, .action = XSS_ACTION,
                      .message = XSS_MESSAGE};
    snprintf(r->src, 48, "192.168.1.66");
    snprintf(r->dst, 48, "203.0.113.99");
    qsort(rows, n, sizeof(rows[0]), cmp_ts);

    static const enum dm_vtype types[NCOLS] = {DM_I64, DM_STR, DM_STR, DM_I32, DM_I32, DM_I32,
                                               DM_I64, DM_I64, DM_I64, DM_STR, DM_I64, DM_STR};
    struct dm_batch b;
    struct dm_error err;
    if (dm_batch_init(&b, types, NCOLS, n))
        return 1;
    if (dm_batch_reserve(&b, n))
        return 1;
    for (size_t i = 0; i < n; i++) {
        r = &rows[i];
        dm_batch_set_i64(&b, C_TS, r->ts);
        dm_batch_set_str(&b, C_SRC, r->src, strlen(r->src));
        dm_batch_set_str(&b, C_DST, r->dst, strlen(r->dst));
        dm_batch_set_i32(&b, C_SPORT, r->sport);
        dm_batch_set_i32(&b, C_DPORT, r->dport);
        dm_batch_set_i32(&b, C_PROTO, r->proto);
        dm_batch_set_i64(&b, C_SENT, r->sent);
        dm_batch_set_i64(&b, C_RECV, r->recv);
        dm_batch_set_i64(&b, C_PACKETS, r->packets);
        dm_batch_set_str(&b, C_ACTION, r->action, strlen(r->action));
        dm_batch_set_i64(&b, C_DURATION, r->duration);
        if (r->message)
            dm_batch_set_str(&b, C_MESSAGE, r->message, strlen(r->message));
        else if (dm_batch_set_null(&b, C_MESSAGE))
            return 1;
        if (dm_batch_commit_row(&b))
            return 1;
    }
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    o.row_group_rows = 1000; /* several row groups */
    struct dm_pq_writer *w;
    if (dm_pq_writer_open(&w, argv[1], cols, NCOLS, &o, &err) ||
        dm_pq_writer_write(w, &b, &err) || dm_pq_writer_close(w, &err)) {
        fprintf(stderr, "e2e_mkdata: %s\n", err.msg);
        return 1;
    }
    dm_batch_release(&b);

    /* Expectations. */
    uint64_t max_sent = 0, max_recv = 0, hub = 0, internal_out = 0;
    for (size_t i = 0; i < n; i++) {
        if ((uint64_t)rows[i].sent > max_sent)
            max_sent = (uint64_t)rows[i].sent;
        if ((uint64_t)rows[i].recv > max_recv)
            max_recv = (uint64_t)rows[i].recv;
        if (!strcmp(rows[i].src, "10.2.1.21") || !strcmp(rows[i].dst, "10.2.1.21"))
            hub++;
        if (rows[i].dport == 443)
            internal_out++;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s.expect.json", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f,
            "{\"rows\": %zu, \"max_sent\": %" PRIu64 ", \"max_recv\": %" PRIu64
            ", \"flows_10_2_1_21\": %" PRIu64 ", \"dport_443\": %" PRIu64
            ", \"ts_min_us\": %" PRId64 ", \"ts_max_us\": %" PRId64
            ", \"xss_action\": \"%s\", \"hub\": \"10.2.1.21\", \"hub_peer\": \"198.51.100.7\", "
            "\"hub_peer_flows\": %d}\n",
            n, max_sent, max_recv, hub, internal_out, rows[0].ts, rows[n - 1].ts, XSS_ACTION,
            NHUB);
    fclose(f);
    return 0;
}
