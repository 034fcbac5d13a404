/* Unit tests of the gen module: PRNG and samplers, the network model, planted scenarios,
 * row order and count, the four schemas (every line valid JSON), determinism across
 * thread counts, truth / config documents and allocation failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_gen.h"
#include "dm_pool.h"
#include "dm_test.h"

/* ---- a small strict JSON validator (RFC 8259) ---- */

struct jp {
    const char *p, *end;
    int depth;
};

static void jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int jp_value(struct jp *j);

static int jp_string(struct jp *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (j->p >= j->end)
                return 0;
            char e = *j->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++, j->p++)
                    if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                        return 0;
            } else if (!strchr("\"\\/bfnrt", e) || !e) {
                return 0;
            }
        } else if (c >= 0x80) {
            int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
            if (n < 0 || c > 0xf4)
                return 0;
            for (int i = 0; i < n; i++, j->p++)
                if (j->p >= j->end || ((unsigned char)*j->p & 0xc0) != 0x80)
                    return 0;
        }
    }
    return 0;
}

static int jp_number(struct jp *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return 0;
    if (*j->p == '0')
        j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    else
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        const char *d = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == d)
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        const char *d = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == d)
            return 0;
    }
    return j->p > s;
}

static int jp_lit(struct jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
        return 0;
    j->p += n;
    return 1;
}

static int jp_value(struct jp *j)
{
    jp_ws(j);
    if (j->p >= j->end || ++j->depth > 64)
        return 0;
    int ok;
    char c = *j->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        jp_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            ok = 1;
        } else {
            for (;;) {
                if (c == '{') {
                    jp_ws(j);
                    if (!jp_string(j))
                        return 0;
                    jp_ws(j);
                    if (j->p >= j->end || *j->p++ != ':')
                        return 0;
                }
                if (!jp_value(j))
                    return 0;
                jp_ws(j);
                if (j->p >= j->end)
                    return 0;
                if (*j->p == ',') {
                    j->p++;
                    continue;
                }
                if (*j->p++ != close)
                    return 0;
                break;
            }
            ok = 1;
        }
    } else if (c == '"') {
        ok = jp_string(j);
    } else if (c == 't') {
        ok = jp_lit(j, "true");
    } else if (c == 'f') {
        ok = jp_lit(j, "false");
    } else if (c == 'n') {
        ok = jp_lit(j, "null");
    } else {
        ok = jp_number(j);
    }
    j->depth--;
    return ok;
}

/* 1 when s[0..n) is exactly one JSON value (surrounding whitespace allowed). */
static int json_valid(const char *s, size_t n)
{
    struct jp j = {s, s + n, 0};
    if (!jp_value(&j))
        return 0;
    jp_ws(&j);
    return j.p == j.end;
}

static void test_json_validator(void **state)
{
    (void)state;
    const char *good[] = {"{}", "[]", "{\"a\":[1,2.5,-3e4,true,false,null,\"x\\u00e9\\n\"]}",
                          "\"\xc3\xa9\"", " 0 "};
    const char *bad[] = {"{", "{\"a\":}", "[1,]", "01", "\"\x01\"", "\"\\x\"", "{\"a\" 1}",
                         "1.", "tru", "\"\xc3\"", "{} {}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_true(json_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(json_valid(bad[i], strlen(bad[i])));
}

/* ---- PRNG and samplers ---- */

static void test_rng_deterministic(void **state)
{
    (void)state;
    struct dm_rng a, b, c;
    dm_rng_seed(&a, 42, 7);
    dm_rng_seed(&b, 42, 7);
    dm_rng_seed(&c, 42, 8);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dm_rng_next(&a);
        assert_int_equal(x, dm_rng_next(&b));
        differ += x != dm_rng_next(&c);
    }
    assert_true(differ > 990);
    /* splitmix64 finalizer is a bijection with no fixed point at 0 */
    assert_int_not_equal(dm_rng_mix(0), 0);
    assert_int_not_equal(dm_rng_mix(1), dm_rng_mix(2));
}

static void test_rng_distributions(void **state)
{
    (void)state;
    struct dm_rng r;
    dm_rng_seed(&r, 1, 1);
    enum { N = 200000 };
    double sum = 0, sum2 = 0;
    uint64_t below[10] = {0};
    for (int i = 0; i < N; i++) {
        double u = dm_rng_uniform(&r);
        assert_true(u >= 0 && u < 1);
        sum += u;
        below[dm_rng_below(&r, 10)]++;
    }
    assert_true(fabs(sum / N - 0.5) < 0.01);
    for (int i = 0; i < 10; i++)
        assert_true(below[i] > N / 10 * 0.95 && below[i] < N / 10 * 1.05);
    sum = 0;
    for (int i = 0; i < N; i++) {
        double z = dm_rng_normal(&r);
        sum += z;
        sum2 += z * z;
    }
    assert_true(fabs(sum / N) < 0.02);
    assert_true(fabs(sum2 / N - 1.0) < 0.03);
    /* log-normal: median exp(mu), 84th percentile exp(mu + sigma) */
    static double v[N];
    for (int i = 0; i < N; i++)
        v[i] = dm_rng_lognormal(&r, log(1000.0), 1.0);
    size_t lt_med = 0, lt_p84 = 0;
    for (int i = 0; i < N; i++) {
        lt_med += v[i] < 1000.0;
        lt_p84 += v[i] < 1000.0 * exp(1.0);
    }
    assert_true(fabs((double)lt_med / N - 0.5) < 0.01);
    assert_true(fabs((double)lt_p84 / N - 0.8413) < 0.01);
}

static void check_zipf(uint64_t n, double s)
{
    struct dm_zipf z;
    assert_int_equal(dm_zipf_init(&z, n, s), 0);
    double hn = 0;
    for (uint64_t k = 1; k <= n; k++)
        hn += pow((double)k, -s);
    struct dm_rng r;
    dm_rng_seed(&r, 9, 9);
    enum { N = 300000 };
    uint64_t c1 = 0, c2 = 0, c10 = 0;
    for (int i = 0; i < N; i++) {
        uint64_t k = dm_zipf_sample(&z, &r);
        assert_true(k >= 1 && k <= n);
        c1 += k == 1;
        c2 += k == 2;
        c10 += k == 10;
    }
    double p1 = 1.0 / hn, p2 = n >= 2 ? pow(2, -s) / hn : 0, p10 = n >= 10 ? pow(10, -s) / hn : 0;
    assert_true(fabs((double)c1 / N - p1) < 0.05 * p1 + 0.002);
    assert_true(fabs((double)c2 / N - p2) < 0.05 * p2 + 0.002);
    assert_true(fabs((double)c10 / N - p10) < 0.08 * p10 + 0.002);
}

static void test_zipf(void **state)
{
    (void)state;
    check_zipf(1000, 1.0);
    check_zipf(40000, 1.05);
    check_zipf(3000, 0.6);
    check_zipf(400, 1.2);
    check_zipf(1, 1.0);
    struct dm_zipf z;
    assert_int_equal(dm_zipf_init(&z, 0, 1.0), -EINVAL);
    assert_int_equal(dm_zipf_init(&z, 10, 0.0), -EINVAL);
    assert_int_equal(dm_zipf_init(&z, 10, NAN), -EINVAL);
}

/* ---- the model ---- */

static struct dm_gen *make(uint64_t rows, unsigned days, enum dm_gen_schema schema)
{
    struct dm_gen_options o = {rows, 7, days, schema};
    struct dm_gen *g = NULL;
    struct dm_error err;
    assert_int_equal(dm_gen_new(&g, &o, &err), 0);
    return g;
}

static int host_is(const struct dm_gen *g, uint32_t h, const char *ip)
{
    size_t n;
    const char *t = dm_gen_host_text(g, h, &n);
    return n == strlen(ip) && !memcmp(t, ip, n);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_model_rows_order_scenarios(void **state)
{
    (void)state;
    enum { ROWS = 100000 };
    struct dm_gen *g = make(ROWS, 7, DM_GEN_DATAMATE);
    const struct dm_gen_scenario *sc = dm_gen_scenarios(g);
    struct dm_gen_flow *f = dm_calloc(DM_GEN_CHUNK_ROWS, sizeof(*f));
    uint64_t *web_sent = dm_calloc(ROWS, sizeof(uint64_t));
    uint64_t *web_recv = dm_calloc(ROWS, sizeof(uint64_t));
    assert_non_null(f);
    assert_non_null(web_sent);
    assert_non_null(web_recv);
    uint64_t total = 0, nweb = 0, per_scen[DM_GEN_NSCENARIOS] = {0};
    uint64_t out_int_ext = 0, in_ext_int = 0, int_int = 0, deny = 0, day_rows = 0, night_rows = 0;
    int64_t last = INT64_MIN, start = DM_GEN_START_US, end = start + 7 * 86400000000LL;
    for (uint64_t c = 0; c < dm_gen_nchunks(g); c++) {
        size_t n = dm_gen_chunk_flows(g, c, f);
        assert_true(n > 0 && n <= DM_GEN_CHUNK_ROWS);
        for (size_t i = 0; i < n; i++) {
            const struct dm_gen_flow *x = &f[i];
            assert_true(x->ts_us >= last); /* non-decreasing start times */
            assert_true(x->ts_us >= start && x->ts_us < end);
            last = x->ts_us;
            int si = dm_gen_host_internal(g, x->src), di = dm_gen_host_internal(g, x->dst);
            out_int_ext += si && !di;
            in_ext_int += !si && di;
            int_int += si && di;
            assert_false(!si && !di); /* a perimeter firewall never logs external↔external */
            deny += x->action != DM_GEN_ALLOW;
            if (x->action != DM_GEN_ALLOW)
                assert_int_equal(x->bytes_sent + x->bytes_recv, 0);
            int64_t hour = (x->ts_us - start) / 3600000000LL % 24;
            int64_t day = (x->ts_us - start) / 86400000000LL;
            if (day < 5 && hour >= 9 && hour < 17)
                day_rows++;
            if (day < 5 && hour >= 1 && hour < 5)
                night_rows++;
            if (x->scenario >= 0) {
                assert_true(x->scenario < DM_GEN_NSCENARIOS);
                const struct dm_gen_scenario *s = &sc[x->scenario];
                per_scen[x->scenario]++;
                assert_true(x->ts_us >= s->start_us && x->ts_us <= s->end_us);
                if (s->kind == DM_GEN_DMZ_WEB) {
                    assert_int_equal(x->dst, s->host);
                } else {
                    assert_int_equal(x->src, s->host);
                    assert_int_equal(x->dst, s->peer);
                }
            } else if (x->proto == 6 && x->dport == 443 && si && !di && x->action == DM_GEN_ALLOW &&
                       nweb < ROWS) {
                web_sent[nweb] = x->bytes_sent;
                web_recv[nweb++] = x->bytes_recv;
            }
        }
        total += n;
    }
    assert_int_equal(total, ROWS);
    /* every scenario planted, counts match the truth */
    for (int s = 0; s < DM_GEN_NSCENARIOS; s++) {
        assert_int_equal(sc[s].kind, s);
        assert_true(per_scen[s] > 0);
        assert_int_equal(per_scen[s], sc[s].flows);
        assert_int_equal(sc[s].malicious, s < DM_GEN_BACKUP);
        assert_true(dm_gen_host_internal(g, sc[s].host));
        if (s != DM_GEN_DMZ_WEB)
            assert_false(dm_gen_host_internal(g, sc[s].peer));
    }
    assert_true(sc[DM_GEN_NIGHT_UPLOAD].bytes_out > 2000000000ull);
    assert_true(sc[DM_GEN_DB_EXFIL].bytes_out > 500000000ull);
    assert_true(sc[DM_GEN_OS_UPDATE].bytes_in > 50 * sc[DM_GEN_OS_UPDATE].bytes_out);
    assert_true(sc[DM_GEN_DNS_TUNNEL].bytes_out > 2 * sc[DM_GEN_DNS_TUNNEL].bytes_in);
    assert_true(sc[DM_GEN_BEACON].flows >= 24);
    assert_true(host_is(g, sc[DM_GEN_DB_EXFIL].host, "172.16.3.10"));
    assert_true(host_is(g, sc[DM_GEN_DMZ_WEB].host, "192.168.100.10"));
    /* traffic mix: all three directions present in sane proportions */
    assert_true(out_int_ext > ROWS / 4 && out_int_ext < ROWS * 3 / 5);
    assert_true(in_ext_int > ROWS / 8 && in_ext_int < ROWS / 2);
    assert_true(int_int > ROWS / 8 && int_int < ROWS / 2);
    assert_true(deny > ROWS / 50 && deny < ROWS / 4);
    /* diurnal rhythm: weekday business hours far busier than the small hours */
    assert_true(day_rows > 2.5 * night_rows);
    /* heavy-tailed byte counts for web flows: median near 1.1 KB up / 14 KB down, and a
     * 99th percentile many times the median */
    assert_true(nweb > 10000);
    qsort(web_sent, nweb, sizeof(uint64_t), cmp_u64);
    qsort(web_recv, nweb, sizeof(uint64_t), cmp_u64);
    uint64_t ms = web_sent[nweb / 2], mr = web_recv[nweb / 2];
    assert_true(ms > 700 && ms < 2000);
    assert_true(mr > 8000 && mr < 25000);
    assert_true(web_recv[nweb * 99 / 100] > 20 * mr);
    dm_free(f);
    dm_free(web_sent);
    dm_free(web_recv);
    dm_gen_free(g);
}

static void test_scenarios_present_small_rows(void **state)
{
    (void)state;
    uint64_t rows = dm_gen_min_rows(7);
    struct dm_gen *g = make(rows, 7, DM_GEN_DATAMATE);
    const struct dm_gen_scenario *sc = dm_gen_scenarios(g);
    struct dm_gen_flow *f = dm_calloc(DM_GEN_CHUNK_ROWS, sizeof(*f));
    assert_non_null(f);
    size_t n = dm_gen_chunk_flows(g, 0, f);
    assert_int_equal(n, rows);
    uint64_t seen[DM_GEN_NSCENARIOS] = {0};
    for (size_t i = 0; i < n; i++)
        if (f[i].scenario >= 0)
            seen[f[i].scenario]++;
    for (int s = 0; s < DM_GEN_NSCENARIOS; s++)
        assert_int_equal(seen[s], sc[s].flows);
    assert_true(sc[DM_GEN_BEACON].flows >= 4);
    dm_free(f);
    dm_gen_free(g);

    struct dm_gen_options o = {rows - 1, 1, 7, DM_GEN_DATAMATE};
    struct dm_error err;
    assert_int_equal(dm_gen_new(&g, &o, &err), -EINVAL);
    assert_null(g);
    assert_non_null(strstr(err.msg, "too small"));
    o.rows = 1000000;
    o.days = 0;
    assert_int_equal(dm_gen_new(&g, &o, &err), -EINVAL);
    o.days = DM_GEN_MAX_DAYS + 1;
    assert_int_equal(dm_gen_new(&g, &o, &err), -EINVAL);
    o.days = 1;
    o.rows = dm_gen_min_rows(1);
    assert_int_equal(dm_gen_new(&g, &o, &err), 0);
    dm_gen_free(g);
}

/* ---- output ---- */

struct collect {
    struct dm_buf buf;
    uint64_t last_rows;
    int calls;
};

static int collect_sink(void *ctx, const char *p, size_t n, uint64_t rows_done)
{
    struct collect *c = ctx;
    assert_true(rows_done >= c->last_rows);
    c->last_rows = rows_done;
    c->calls++;
    return dm_buf_append(&c->buf, p, n);
}

static void generate(struct dm_gen *g, struct dm_pool *pool, struct collect *c)
{
    dm_buf_init(&c->buf, DM_BUF_UNLIMITED);
    c->last_rows = 0;
    c->calls = 0;
    struct dm_error err;
    assert_int_equal(dm_gen_write(g, pool, collect_sink, c, &err), 0);
}

static size_t count_lines_valid(const char *s, size_t n)
{
    size_t lines = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        if (!json_valid(p, (size_t)(nl - p))) {
            fprintf(stderr, "invalid JSON line: %.*s\n", (int)(nl - p), p);
            fail();
        }
        lines++;
        p = nl + 1;
    }
    return lines;
}

static void test_schemas_valid_json(void **state)
{
    (void)state;
    static const char *const must[4][6] = {
        {"{\"_@timestamp\":\"2026-03-0", "\"_SourceIP\":\"", "\"_DestinationPort\":",
         ".0,\"_Protocol\":", "\"_BytesReceived\":", "\"_SessionID\":\""},
        {"{\"@timestamp\":\"2026-03-0", "\"source\":{\"ip\":\"", "\"destination\":{\"ip\":\"",
         "\"network\":{\"transport\":\"", "\"event\":{\"kind\":\"event\"", "\"bytes\":"},
        {"{\"ts\":177", "\"uid\":\"C", "\"id.orig_h\":\"", "\"id.resp_p\":", "\"conn_state\":\"",
         "\"orig_pkts\":"},
        {"{\"timestamp\":\"2026-03-0", "\"event_type\":\"flow\"", "\"src_ip\":\"",
         "\"flow\":{\"pkts_toserver\":", "\"bytes_toclient\":", "\"start\":\"2026-03-0"}};
    for (int s = 0; s < 4; s++) {
        struct dm_gen *g = make(30000, 3, (enum dm_gen_schema)s);
        struct collect c;
        generate(g, NULL, &c);
        assert_int_equal(count_lines_valid(c.buf.data, c.buf.len), 30000);
        /* every line carries the schema's key fields */
        const char *p = c.buf.data;
        for (int line = 0; line < 30000; line++) {
            const char *nl = strchr(p, '\n');
            for (int k = 0; k < 6; k++) {
                const char *hit = memmem(p, (size_t)(nl - p), must[s][k], strlen(must[s][k]));
                if (!hit && !(s == 2 && k >= 5) && !(s == 1 && k == 5)) {
                    fprintf(stderr, "missing %s in %.*s\n", must[s][k], (int)(nl - p), p);
                    fail();
                }
            }
            p = nl + 1;
        }
        if (s == DM_GEN_DATAMATE) {
            /* attacker-style strings are present and escaped */
            assert_non_null(strstr(c.buf.data, "<img src=x onerror=alert(1)>"));
            assert_non_null(strstr(c.buf.data, "\\u2028"));
            assert_non_null(strstr(c.buf.data, "\\\"admin\\\""));
            assert_null(strstr(c.buf.data, "\"_BytesSent\":0,"));
        }
        if (s == DM_GEN_SURICATA)
            assert_non_null(strstr(c.buf.data, "\"src_ip\":\"fd12:3456:789a:00"));
        if (s == DM_GEN_ZEEK) {
            assert_non_null(strstr(c.buf.data, "\"conn_state\":\"S0\""));
            assert_non_null(strstr(c.buf.data, "\"id.orig_h\":\"fd12:3456:789a:"));
        }
        dm_buf_release(&c.buf);
        dm_gen_free(g);
    }
}

static void test_deterministic_across_threads(void **state)
{
    (void)state;
    enum { ROWS = 3 * DM_GEN_CHUNK_ROWS * 5 + 123 };
    struct dm_gen *g = make(ROWS, 7, DM_GEN_ZEEK);
    struct collect a, b, c;
    generate(g, NULL, &a);
    struct dm_pool *p2 = dm_pool_new(2), *p3 = dm_pool_new(3);
    assert_non_null(p2);
    assert_non_null(p3);
    generate(g, p2, &b);
    generate(g, p3, &c);
    assert_int_equal(a.last_rows, ROWS);
    assert_int_equal(a.buf.len, b.buf.len);
    assert_int_equal(a.buf.len, c.buf.len);
    assert_memory_equal(a.buf.data, b.buf.data, a.buf.len);
    assert_memory_equal(a.buf.data, c.buf.data, a.buf.len);
    assert_int_equal(count_lines_valid(a.buf.data, a.buf.len), ROWS);
    /* a second generator from the same options gives the same bytes */
    struct dm_gen *g2 = make(ROWS, 7, DM_GEN_ZEEK);
    struct collect d;
    generate(g2, p2, &d);
    assert_int_equal(a.buf.len, d.buf.len);
    assert_memory_equal(a.buf.data, d.buf.data, a.buf.len);
    /* and another seed does not */
    struct dm_gen_options o = {ROWS, 8, 7, DM_GEN_ZEEK};
    struct dm_gen *g3;
    assert_int_equal(dm_gen_new(&g3, &o, NULL), 0);
    struct collect e;
    generate(g3, p2, &e);
    assert_true(e.buf.len != a.buf.len || memcmp(e.buf.data, a.buf.data, a.buf.len));
    dm_buf_release(&a.buf), dm_buf_release(&b.buf), dm_buf_release(&c.buf);
    dm_buf_release(&d.buf), dm_buf_release(&e.buf);
    dm_pool_free(p2);
    dm_pool_free(p3);
    dm_gen_free(g), dm_gen_free(g2), dm_gen_free(g3);
}

static int failing_sink(void *ctx, const char *p, size_t n, uint64_t rows_done)
{
    (void)p, (void)n, (void)rows_done;
    int *calls = ctx;
    return ++*calls == 2 ? -EIO : 0;
}

static void test_sink_error_stops(void **state)
{
    (void)state;
    struct dm_gen *g = make(10 * DM_GEN_CHUNK_ROWS, 7, DM_GEN_DATAMATE);
    struct dm_pool *pool = dm_pool_new(2);
    int calls = 0;
    struct dm_error err;
    assert_int_equal(dm_gen_write(g, pool, failing_sink, &calls, &err), -EIO);
    assert_int_equal(calls, 2);
    dm_pool_free(pool);
    dm_gen_free(g);
}

static void test_truth_and_config_json(void **state)
{
    (void)state;
    struct dm_gen *g = make(50000, 7, DM_GEN_ECS);
    struct collect c;
    generate(g, NULL, &c);
    struct dm_buf t, k;
    dm_buf_init(&t, DM_BUF_UNLIMITED);
    dm_buf_init(&k, DM_BUF_UNLIMITED);
    assert_int_equal(dm_gen_truth_json(g, &t), 0);
    assert_int_equal(dm_gen_config_json(g, &k), 0);
    assert_true(json_valid(t.data, t.len));
    assert_true(json_valid(k.data, k.len));
    static const char *const kinds[] = {"night_upload", "db_exfil", "beacon", "dns_tunnel",
                                        "slow_leak", "backup", "os_update", "dmz_web"};
    for (int i = 0; i < 8; i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"kind\": \"%s\"", kinds[i]);
        assert_non_null(strstr(t.data, want));
    }
    assert_non_null(strstr(t.data, "\"rows\": 50000"));
    assert_non_null(strstr(t.data, "\"start\": \"2026-03-02T00:00:00.000Z\""));
    assert_non_null(strstr(t.data, "\"end\": \"2026-03-09T00:00:00.000Z\""));
    assert_non_null(strstr(t.data, "\"172.16.3.10\": \"DB server (orders)\""));
    assert_non_null(strstr(t.data, "\"approved_resolvers\": [\"8.8.8.8\""));
    /* the config allowlists exactly the backup peer, and names the ECS columns */
    size_t n;
    const char *bk = dm_gen_host_text(g, dm_gen_scenarios(g)[DM_GEN_BACKUP].peer, &n);
    char want[128];
    snprintf(want, sizeof(want), "\"allow\": {\"destinations\": [\"%.*s\"]}", (int)n, bk);
    assert_non_null(strstr(k.data, want));
    assert_non_null(strstr(k.data, "\"source.bytes\""));
    assert_non_null(strstr(k.data, "\"template\": {\"site\""));
    assert_non_null(strstr(k.data, "\"internal_networks\": [\"10.0.0.0/8\""));
    /* the dmz_web truth counts background DMZ flows too: compare with the output */
    uint64_t dmz = 0;
    struct dm_gen_flow *f = dm_calloc(DM_GEN_CHUNK_ROWS, sizeof(*f));
    assert_non_null(f);
    uint32_t web = dm_gen_scenarios(g)[DM_GEN_DMZ_WEB].host;
    for (uint64_t ch = 0; ch < dm_gen_nchunks(g); ch++) {
        size_t rows = dm_gen_chunk_flows(g, ch, f);
        for (size_t i = 0; i < rows; i++)
            dmz += f[i].dst == web && f[i].action == DM_GEN_ALLOW;
    }
    dm_free(f);
    char flows[64];
    snprintf(flows, sizeof(flows), "\"flows\": %llu,", (unsigned long long)dmz);
    const char *d = strstr(t.data, "\"kind\": \"dmz_web\"");
    assert_non_null(d);
    assert_non_null(strstr(d, flows));
    dm_buf_release(&t);
    dm_buf_release(&k);
    dm_buf_release(&c.buf);
    dm_gen_free(g);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct dm_gen_options o = {5000, 3, 2, DM_GEN_SURICATA};
    int succeeded = 0;
    for (uint64_t n = 1; n < 200 && !succeeded; n++) {
        struct dm_gen *g = NULL;
        struct dm_error err;
        dm_alloc_fail_at(n, 0);
        int rc = dm_gen_new(&g, &o, &err);
        if (rc == 0) {
            struct collect c;
            dm_buf_init(&c.buf, DM_BUF_UNLIMITED);
            c.last_rows = 0;
            rc = dm_gen_write(g, NULL, collect_sink, &c, &err);
            dm_alloc_fail_at(0, 0);
            if (rc == 0)
                succeeded = 1;
            else
                assert_int_equal(rc, -ENOMEM);
            dm_buf_release(&c.buf);
            dm_gen_free(g);
        } else {
            dm_alloc_fail_at(0, 0);
            assert_int_equal(rc, -ENOMEM);
            assert_null(g);
        }
    }
    dm_alloc_fail_at(0, 0);
    assert_true(succeeded);
}

static void test_schema_names(void **state)
{
    (void)state;
    enum dm_gen_schema s;
    const char *names[] = {"datamate", "ecs", "zeek", "suricata"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dm_gen_schema_parse(names[i], &s), 0);
        assert_int_equal(s, i);
        assert_string_equal(dm_gen_schema_name(s), names[i]);
    }
    assert_int_equal(dm_gen_schema_parse("csv", &s), -EINVAL);
    assert_int_equal(dm_gen_schema_parse("", &s), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_validator),
        cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_rng_distributions),
        cmocka_unit_test(test_zipf),
        cmocka_unit_test(test_model_rows_order_scenarios),
        cmocka_unit_test(test_scenarios_present_small_rows),
        cmocka_unit_test(test_schemas_valid_json),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_sink_error_stops),
        cmocka_unit_test(test_truth_and_config_json),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_schema_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
