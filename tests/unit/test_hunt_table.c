/* Hunting over a real engine table: the config's hunt section, the findings JSON contract,
 * and — the point of the `filter` field — that compiling each finding's filter with the
 * engine and counting its flows and outbound bytes gives back the finding's numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_engine.h"
#include "dm_hunt.h"
#include "dm_json.h"
#include "dm_pool.h"
#include "dm_test.h"

#define US 1000000LL
#define T0 (1795392000LL * US) /* Mon 2026-11-23 00:00 UTC */
#define HOUR (3600LL * US)
#define DAY (86400LL * US)

static const char *const config_text =
    "{\"known_servers\": {\"10.0.0.20\": \"DB orders\", \"10.0.0.53\": \"DNS resolver\"},\n"
    " \"hunt\": {\"approved_resolvers\": [\"10.0.0.53\", \"8.8.8.8\"],\n"
    "          \"allow\": {\"destinations\": [\"77.7.7.7\"], \"ports\": [9999]},\n"
    "          \"business_hours\": {\"start\": \"08:00\", \"end\": \"19:00\",\n"
    "                              \"days\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]},\n"
    "          \"timezone\": \"UTC\", \"thresholds\": {\"z\": 3.5, \"beacon\": 0.7}}}";

struct ctx {
    struct dm_config cfg;
    struct dm_pool *pool;
    struct dm_table *t;
    uint64_t rng;
};

static uint32_t rnd(struct ctx *c, uint32_t below)
{
    c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((c->rng >> 33) % below);
}

static void add(struct ctx *c, int64_t ts, const char *s, const char *d, int64_t sent,
                int64_t recv, int port, int proto, const char *action)
{
    struct dm_flow f = {ts, s, d, 40000, port, proto, sent, recv, -1, -1, action, NULL};
    assert_int_equal(dm_table_append(c->t, &f), 0);
}

static void build(struct ctx *c, unsigned threads)
{
    memset(c, 0, sizeof(*c));
    c->rng = 7;
    assert_int_equal(dm_config_init(&c->cfg), 0);
    assert_int_equal(dm_config_parse(&c->cfg, config_text, strlen(config_text), NULL), 0);
    c->pool = threads ? dm_pool_new(threads) : NULL;
    assert_int_equal(dm_table_new(&c->t, &c->cfg, c->pool, ~0u), 0);
    char h[32], p[32];
    for (int i = 1; i <= 30; i++) {
        snprintf(h, sizeof(h), "10.0.0.%d", i);
        for (int d = 0; d < 5; d++)
            for (int hr = 8; hr < 19; hr++)
                for (int k = 0; k < 2; k++) {
                    snprintf(p, sizeof(p), "198.51.100.%u", 1 + rnd(c, 8));
                    add(c, T0 + d * DAY + hr * HOUR + rnd(c, 3600) * US, h, p,
                        2000 + rnd(c, 20000), 40000 + rnd(c, 300000), 443, 6, "allow");
                }
        /* DNS through the approved resolvers */
        add(c, T0 + 9 * HOUR + i * US, h, "10.0.0.53", 60, 200, 53, 17, "allow");
        add(c, T0 + 9 * HOUR + i * US, h, "8.8.8.8", 60, 200, 53, 17, "allow");
    }
    /* night upload */
    for (int i = 0; i < 25; i++)
        add(c, T0 + DAY + 70 * 60 * US + i * 6 * 60 * US, "10.0.0.7", "185.1.2.3",
            120000000 + rnd(c, 1000000), 30000, 443, 6, "allow");
    /* beacon */
    for (int64_t t = T0 + HOUR; t < T0 + 5 * DAY; t += 600 * US)
        add(c, t + ((int64_t)rnd(c, 5) - 2) * US, "10.0.0.9", "45.1.1.1", 1390 + rnd(c, 20), 380,
            443, 6, "allow");
    /* DNS tunnel to a resolver nobody approved */
    for (int i = 0; i < 400; i++)
        add(c, T0 + 2 * DAY + 10 * HOUR + i * 50 * US, "10.0.0.11", "9.9.9.9",
            11000 + rnd(c, 1000), 4500, 53, 17, "allow");
    /* the DB server sends 900 MB out, served in the evening */
    for (int i = 0; i < 15; i++)
        add(c, T0 + 3 * DAY + 20 * HOUR + i * 60 * US, "10.0.0.20", "91.2.2.2", 60000000, 40000,
            443, 6, "allow");
    /* strobe of denied connections */
    for (int i = 0; i < 5000; i++)
        add(c, T0 + 4 * DAY + 10 * HOUR + (int64_t)i * 500000, "10.0.0.25", "66.6.6.6", 0, 0,
            8443, 6, "deny");
    /* allowlisted backup and allowlisted port */
    for (int i = 0; i < 10; i++) {
        add(c, T0 + 2 * HOUR + i * 60 * US, "10.0.0.30", "77.7.7.7", 2000000000, 1000, 22, 6,
            "allow");
        add(c, T0 + 3 * HOUR + i * 60 * US, "10.0.0.29", "99.9.9.9", 2000000000, 1000, 9999, 6,
            "allow");
    }
    assert_int_equal(dm_table_finish(c->t, NULL), 0);
}

static void release(struct ctx *c)
{
    dm_table_free(c->t);
    dm_pool_free(c->pool);
    dm_config_release(&c->cfg);
}

/* Flows and outbound bytes of host h among the rows matching expr. */
static void count(const struct dm_table *t, const char *expr, const char *h, uint64_t *flows,
                  uint64_t *out)
{
    struct dm_filter *f;
    struct dm_summary_res s;
    struct dm_error err;
    char buf[8192];
    if (dm_filter_compile(&f, t, expr, strlen(expr), &err))
        fail_msg("filter '%s': %s", expr, err.msg);
    assert_int_equal(dm_summary(t, f, &s, NULL), 0);
    *flows = s.rows;
    dm_filter_free(f);
    snprintf(buf, sizeof(buf), "(%s) and src = %s", expr, h);
    assert_int_equal(dm_filter_compile(&f, t, buf, strlen(buf), NULL), 0);
    assert_int_equal(dm_summary(t, f, &s, NULL), 0);
    *out = s.sent;
    dm_filter_free(f);
    snprintf(buf, sizeof(buf), "(%s) and dst = %s", expr, h);
    assert_int_equal(dm_filter_compile(&f, t, buf, strlen(buf), NULL), 0);
    assert_int_equal(dm_summary(t, f, &s, NULL), 0);
    *out += s.recv;
    dm_filter_free(f);
}

static const struct dm_json *has(const struct dm_json *findings, size_t top, const char *host,
                                 const char *peer, const char *kind)
{
    for (size_t i = 0; i < findings->len && i < top; i++) {
        const struct dm_json *f = &findings->items[i];
        if (strcmp(dm_json_get(f, "host")->str, host) || strcmp(dm_json_get(f, "kind")->str, kind))
            continue;
        const struct dm_json *p = dm_json_get(f, "peers");
        for (size_t k = 0; k < p->len; k++)
            if (!strcmp(p->items[k].str, peer))
                return f;
    }
    return NULL;
}

static void test_findings_reproduce(void **state)
{
    (void)state;
    struct ctx c;
    build(&c, 2);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    struct dm_error err;
    assert_int_equal(dm_hunt_findings(&b, c.t, NULL, 0, DM_HUNT_FMT_JSON, &err), 0);
    struct dm_json_doc doc;
    assert_int_equal(dm_json_parse(&doc, b.data, b.len, NULL, &err), 0);
    const struct dm_json *fs = dm_json_get(doc.root, "findings");
    assert_non_null(fs);
    assert_non_null(dm_json_get(doc.root, "hosts"));
    assert_non_null(has(fs, 10, "10.0.0.7", "185.1.2.3", "off_hours"));
    assert_non_null(has(fs, 10, "10.0.0.9", "45.1.1.1", "beacon"));
    assert_non_null(has(fs, 10, "10.0.0.11", "9.9.9.9", "tunnel"));
    assert_non_null(has(fs, 10, "10.0.0.20", "91.2.2.2", "role_violation"));
    assert_non_null(has(fs, 10, "10.0.0.25", "66.6.6.6", "strobe"));
    for (size_t i = 0; i < fs->len; i++) {
        const struct dm_json *f = &fs->items[i];
        const char *h = dm_json_get(f, "host")->str;
        /* the allowlists hold */
        assert_true(strcmp(h, "10.0.0.30") && strcmp(h, "10.0.0.29"));
        uint64_t flows, out;
        count(c.t, dm_json_get(f, "filter")->str, h, &flows, &out);
        assert_int_equal(flows, dm_json_get(f, "flows")->i);
        assert_int_equal(out, dm_json_get(f, "bytes_out")->i);
        /* the explanation is one sentence with the host in it */
        const char *ex = dm_json_get(f, "explanation")->str;
        assert_non_null(strstr(ex, h));
        assert_null(strchr(ex, '\n'));
        double score = dm_json_get(f, "score")->num;
        assert_true(score >= 0 && score <= 100);
        if (i)
            assert_true(dm_json_get(&fs->items[i - 1], "score")->num >= score);
    }
    /* the DB server's name is in its explanation */
    const struct dm_json *db = has(fs, 10, "10.0.0.20", "91.2.2.2", "role_violation");
    assert_non_null(strstr(dm_json_get(db, "explanation")->str, "DB orders"));
    dm_json_doc_release(&doc);

    /* same data, one thread: byte-identical output */
    struct ctx c1;
    build(&c1, 0);
    struct dm_buf b1;
    dm_buf_init(&b1, DM_BUF_UNLIMITED);
    assert_int_equal(dm_hunt_findings(&b1, c1.t, NULL, 0, DM_HUNT_FMT_JSON, &err), 0);
    assert_int_equal(b.len, b1.len);
    assert_memory_equal(b.data, b1.data, b.len);
    dm_buf_release(&b1);
    release(&c1);

    /* --where: the filters carry it and still reproduce the numbers */
    dm_buf_reset(&b);
    const char *where = "ts >= 2026-11-25";
    assert_int_equal(dm_hunt_findings(&b, c.t, where, 0, DM_HUNT_FMT_JSON, &err), 0);
    assert_int_equal(dm_json_parse(&doc, b.data, b.len, NULL, &err), 0);
    fs = dm_json_get(doc.root, "findings");
    assert_null(has(fs, fs->len, "10.0.0.7", "185.1.2.3", "off_hours"));
    assert_non_null(has(fs, fs->len, "10.0.0.11", "9.9.9.9", "tunnel"));
    for (size_t i = 0; i < fs->len; i++) {
        const struct dm_json *f = &fs->items[i];
        const char *flt = dm_json_get(f, "filter")->str;
        assert_memory_equal(flt, "(ts >= 2026-11-25) and ", 23);
        uint64_t flows, out;
        count(c.t, flt, dm_json_get(f, "host")->str, &flows, &out);
        assert_int_equal(flows, dm_json_get(f, "flows")->i);
        assert_int_equal(out, dm_json_get(f, "bytes_out")->i);
    }
    dm_json_doc_release(&doc);

    /* the table format and --limit */
    dm_buf_reset(&b);
    assert_int_equal(dm_hunt_findings(&b, c.t, NULL, 2, DM_HUNT_FMT_TABLE, &err), 0);
    assert_non_null(strstr(b.data, "score"));
    assert_non_null(strstr(b.data, "more findings"));
    /* a bad expression is a parse error */
    dm_buf_reset(&b);
    assert_int_equal(dm_hunt_findings(&b, c.t, "srcc = 1", 0, DM_HUNT_FMT_JSON, &err), DM_EPARSE);
    dm_buf_release(&b);
    release(&c);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"hunt\": {\"tresholds\": {}}}",
        "{\"hunt\": {\"thresholds\": {\"z\": \"high\"}}}",
        "{\"hunt\": {\"thresholds\": {\"pcr\": 3}}}",
        "{\"hunt\": {\"business_hours\": {\"start\": \"19:00\", \"end\": \"08:00\"}}}",
        "{\"hunt\": {\"business_hours\": {\"days\": [\"someday\"]}}}",
        "{\"hunt\": {\"timezone\": \"Mars/Olympus\"}}",
        "{\"hunt\": {\"approved_resolvers\": [\"not an ip\"]}}",
        "{\"hunt\": {\"allow\": {\"ports\": [70000]}}}",
        "{\"hunt\": {\"allow\": {\"hosts\": []}}}",
        "{\"hunt\": []}",
    };
    static const char *const why[] = {
        "tresholds", "hunt.thresholds.z", "hunt.thresholds.pcr", "start before",
        "day names", "timezone", "not an ip", "ports", "hunt.allow.hosts", "object",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dm_config cfg;
        assert_int_equal(dm_config_init(&cfg), 0);
        struct dm_error err;
        dm_error_clear(&err);
        if (dm_config_parse(&cfg, bad[i], strlen(bad[i]), &err)) {
            /* the engine refused it already (a hunt section that is not an object) */
            assert_non_null(strstr(err.msg, "hunt"));
            dm_config_release(&cfg);
            continue;
        }
        struct dm_hunt_config hc;
        dm_hunt_config_init(&hc);
        assert_int_equal(dm_hunt_config_parse(&hc, cfg.hunt, &cfg, &err), -EINVAL);
        if (!strstr(err.msg, why[i]))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, why[i]);
        dm_hunt_config_release(&hc);
        dm_config_release(&cfg);
    }
    /* a good one, with a known_servers name in the allowlist and a time zone */
    const char *good = "{\"known_servers\": {\"203.0.113.9\": \"Offsite backup\"}, \"hunt\": "
                       "{\"allow\": {\"destinations\": [\"offsite backup\", \"10.9.0.0/16\"], "
                       "\"ports\": [22]}, \"timezone\": \"+01:00\", \"server_networks\": "
                       "[\"192.168.100.0/24\"], \"thresholds\": {\"min_bytes\": 1000, "
                       "\"long_connection_s\": 7200}}}";
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    assert_int_equal(dm_config_parse(&cfg, good, strlen(good), NULL), 0);
    struct dm_hunt_config hc;
    dm_hunt_config_init(&hc);
    assert_int_equal(dm_hunt_config_parse(&hc, cfg.hunt, &cfg, NULL), 0);
    assert_int_equal(hc.allow_cidrs.n, 2);
    struct dm_ip ip;
    dm_ip_parse("203.0.113.9", 11, &ip);
    assert_true(dm_cidr_set_contains(&hc.allow_cidrs, &ip));
    assert_int_equal(hc.n_allow_ports, 1);
    assert_int_equal(hc.tz_offset_min, 60);
    assert_int_equal(hc.server_networks.n, 1);
    assert_int_equal(hc.min_bytes, 1000);
    assert_int_equal(hc.long_conn_ms, 7200000);
    dm_hunt_config_release(&hc);
    dm_config_release(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings_reproduce),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
