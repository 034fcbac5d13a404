/* Ingest: JSON scanner edge cases, coercion tables, delimited splitting, detection, and
 * conversions of the real fixtures in ../shared/testdata/real with exact record counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_ingest.h"
#include "ingest_int.h"
#include "dm_test.h"

#define REAL DM_SHARED_DIR "/testdata/real/"

static struct dm_ingest_map *zeek_map(void)
{
    struct dm_ingest_map *m = NULL;
    assert_int_equal(dm_ingest_map_preset(&m, "zeek", NULL), 0);
    return m;
}

static int extract(const struct dm_ingest_map *m, const char *s, struct dm__val *v)
{
    size_t ep;
    memset(v, 0, sizeof(struct dm__val) * DM_MAP_MAX_FIELDS);
    return dm__json_extract(s, strlen(s), &m->keys, v, &ep);
}

static void test_json_valid_and_invalid(void **state)
{
    (void)state;
    struct dm_ingest_map *m = zeek_map();
    struct dm__val v[DM_MAP_MAX_FIELDS];
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"{}", 0},
        {" {\"a\":1} \r", 0},
        {"{\"a\":[1,2,{\"b\":[true,false,null]}],\"c\":-0.5e-3}", 0},
        {"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}", 0},
        {"{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 0},
        {"", DM_REJ_JSON},
        {"[1]", DM_REJ_JSON},
        {"{\"a\":1", DM_REJ_JSON},
        {"{\"a\":1}x", DM_REJ_JSON},
        {"{\"a\":01}", DM_REJ_JSON},
        {"{\"a\":1.}", DM_REJ_JSON},
        {"{\"a\":NaN}", DM_REJ_JSON},
        {"{\"a\":Infinity}", DM_REJ_JSON},
        {"{\"a\":tru}", DM_REJ_JSON},
        {"{\"a\":1,}", DM_REJ_JSON},
        {"{a:1}", DM_REJ_JSON},
        {"{\"a\":\"x\\q\"}", DM_REJ_JSON},
        {"{\"a\":\"\\ud83d\"}", DM_REJ_JSON},        /* lone high surrogate */
        {"{\"a\":\"\\ude00\"}", DM_REJ_JSON},        /* lone low surrogate */
        {"{\"a\":\"\\ud83d\\u0041\"}", DM_REJ_JSON}, /* high + non-low */
        {"{\"a\":\"\\u12g4\"}", DM_REJ_JSON},
        {"{\"a\":\"tab\there\"}", DM_REJ_JSON}, /* raw control character */
        {"{\"a\":\"\xc0\x80\"}", DM_REJ_UTF8},  /* overlong */
        {"{\"a\":\"\xed\xa0\x80\"}", DM_REJ_UTF8}, /* encoded surrogate */
        {"{\"a\":\"\xf5\x80\x80\x80\"}", DM_REJ_UTF8},
        {"{\"a\":\"\xe2\x82\"}", DM_REJ_UTF8}, /* truncated sequence */
        {"{\"ts\":\"\xff\"}", DM_REJ_UTF8},    /* in a wanted field too */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = extract(m, cases[i].text, v);
        if (got != cases[i].want)
            fail_msg("case %zu '%s': got %d want %d", i, cases[i].text, got, cases[i].want);
    }
    dm_ingest_map_free(m);
}

static void test_json_depth_and_long(void **state)
{
    (void)state;
    struct dm_ingest_map *m = zeek_map();
    struct dm__val v[DM_MAP_MAX_FIELDS];
    char *s = dm_malloc(20000);
    assert_non_null(s);
    /* 100 levels inside the object: accepted; 1000: rejected, no stack overflow. */
    for (int depth = 100; depth <= 1000; depth += 900) {
        size_t o = 0;
        o += (size_t)snprintf(s + o, 100, "{\"x\":");
        for (int i = 0; i < depth; i++)
            s[o++] = '[';
        for (int i = 0; i < depth; i++)
            s[o++] = ']';
        s[o++] = '}';
        s[o] = '\0';
        assert_int_equal(extract(m, s, v), depth == 100 ? 0 : DM_REJ_JSON);
    }
    /* A long string value is scanned (SWAR path) and its end found exactly. */
    memset(s, 'a', 19000);
    memcpy(s, "{\"uid\":\"", 8);
    memcpy(s + 18990, "\",\"ts\":5}", 10);
    assert_int_equal(extract(m, s, v), 0);
    int f = dm__map_field(m, "ts", 2);
    assert_int_equal(v[f].kind, DM_V_NUM);
    assert_int_equal(v[f].n, 1);
    dm_free(s);
    dm_ingest_map_free(m);
}

static void test_json_paths(void **state)
{
    (void)state;
    struct dm_ingest_map *m = NULL;
    assert_int_equal(dm_ingest_map_preset(&m, "suricata", NULL), 0);
    struct dm__val v[DM_MAP_MAX_FIELDS];
    /* Nested object and literal dotted key give the same path. */
    const char *a = "{\"flow\":{\"x\":{\"deep\":[1]},\"bytes_toserver\":42},\"src_ip\":\"1.2.3.4\"}";
    const char *b = "{\"flow.bytes_toserver\":42,\"src_ip\":\"1.2.3.4\"}";
    int f = dm__map_field(m, "flow.bytes_toserver", 19);
    assert_true(f >= 0);
    assert_int_equal(extract(m, a, v), 0);
    assert_int_equal(v[f].kind, DM_V_NUM);
    assert_memory_equal(v[f].p, "42", 2);
    assert_int_equal(extract(m, b, v), 0);
    assert_int_equal(v[f].kind, DM_V_NUM);
    /* An escaped key still matches. */
    assert_int_equal(extract(m, "{\"src\\u005fip\":\"1.2.3.4\"}", v), 0);
    f = dm__map_field(m, "src_ip", 6);
    assert_int_equal(v[f].kind, DM_V_STR);
    /* A wanted prefix holding a non-object is skipped, not descended. */
    assert_int_equal(extract(m, "{\"flow\":[1,2],\"src_ip\":null}", v), 0);
    assert_int_equal(v[f].kind, DM_V_NULL);
    dm_ingest_map_free(m);
}

static void test_json_unescape(void **state)
{
    (void)state;
    char out[64];
    const char *in = "a\\u00e9\\ud83d\\ude00\\n\\\"";
    size_t n = dm__json_unescape(in, strlen(in), out);
    assert_int_equal(n, 1 + 2 + 4 + 1 + 1);
    assert_memory_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\n\"", n);
}

static void test_parse_int(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        {"443", 0, 443},         {" 443 ", 0, 443},     {"443.0", 0, 443},
        {"1.5e3", 0, 1500},      {"1500e-2", 0, 15},     {"0x0008", 0, 8},
        {"0X1bb", 0, 443},       {"-7", 0, -7},         {"+7", 0, 7},
        {"0", 0, 0},             {"0.000", 0, 0},       {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"9223372036854775808", DM_REJ_RANGE, 0},   {"1e19", DM_REJ_RANGE, 0},
        {"1e400", DM_REJ_RANGE, 0},                  {"1.5", DM_REJ_NUMBER, 0},
        {"443.01", DM_REJ_NUMBER, 0},                {"", DM_REJ_NUMBER, 0},
        {"abc", DM_REJ_NUMBER, 0},                   {"12abc", DM_REJ_NUMBER, 0},
        {"NaN", DM_REJ_NUMBER, 0},                   {"0x", DM_REJ_NUMBER, 0},
        {"0x1g", DM_REJ_NUMBER, 0},                  {"1e", DM_REJ_NUMBER, 0},
        {"0x10000000000000000", DM_REJ_RANGE, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 12345;
        int rc = dm__parse_int(cases[i].s, strlen(cases[i].s), &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc %d v %lld", cases[i].s, rc, (long long)v);
    }
}

static void test_parse_ts(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t off;
        int rc;
        int64_t us;
    } cases[] = {
        {"2021-06-09T20:55:13.160328Z", 0, 0, 1623272113160328},
        {"2021-06-09T20:55:13.160328", 0, 0, 1623272113160328},
        {"2021-06-09 20:55:13", 0, 0, 1623272113000000},
        {"2021-06-09T22:55:13.160328+02:00", 0, 0, 1623272113160328},
        {"2018-07-05T15:07:20.910626-0400", 0, 0, 1530817640910626},
        {"2019/04/04 16:23:00.325010", 0, 0, 1554394980325010},
        {"2018-01-12T15:37:30.942", 0, 0, 1515771450942000},
        {"2021-06-09", 0, 0, 1623196800000000},
        {"2021-06-09 20:55:13", 3600, 0, 1623268513000000}, /* --timezone +01:00 */
        {"2021-06-09T20:55:13Z", 3600, 0, 1623272113000000}, /* zone given: wins */
        {"1547188415.857497", 0, 0, 1547188415857497},
        {"1547188415", 0, 0, 1547188415000000},
        {"1547188415857", 0, 0, 1547188415857000},
        {"1547188415857497", 0, 0, 1547188415857497},
        {"1547188415857497123", 0, 0, 1547188415857497},
        {"1.547188415e9", 0, 0, 1547188415000000},
        {"3.5", 0, 0, 3500000},
        {"2021-02-29T00:00:00Z", 0, DM_REJ_BAD_TS, 0},
        {"2021-13-01", 0, DM_REJ_BAD_TS, 0},
        {"2021-06-09T25:00:00", 0, DM_REJ_BAD_TS, 0},
        {"2021-06-09T20:55:13+2", 0, DM_REJ_BAD_TS, 0},
        {"2021-06-09T20:55:13 PST", 0, DM_REJ_BAD_TS, 0},
        {"yesterday", 0, DM_REJ_BAD_TS, 0},
        {"", 0, DM_REJ_BAD_TS, 0},
        {"99999999999999999999", 0, DM_REJ_BAD_TS, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t us = 0;
        int rc = dm_parse_ts(cases[i].s, strlen(cases[i].s), cases[i].off, &us);
        if (rc != cases[i].rc || (rc == 0 && us != cases[i].us))
            fail_msg("'%s': rc %d us %lld want %lld", cases[i].s, rc, (long long)us,
                     (long long)cases[i].us);
    }
}

static void test_parse_proto(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        {"tcp", 0, 6},   {"TCP", 0, 6},         {"udp", 0, 17},  {"icmp", 0, 1},
        {"ipv6-icmp", 0, 58}, {"ICMPv6", 0, 58}, {"gre", 0, 47}, {"esp", 0, 50},
        {"sctp", 0, 132}, {"6", 0, 6},          {"17.0", 0, 17}, {"256", DM_REJ_RANGE, 0},
        {"arp", DM_REJ_PROTO, 0}, {"", DM_REJ_PROTO, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = -1;
        int rc = dm__parse_proto(cases[i].s, strlen(cases[i].s), &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc %d v %lld", cases[i].s, rc, (long long)v);
    }
}

static void test_csv_split(void **state)
{
    (void)state;
    struct dm__val c[8];
    const char *s = "a,\"b,\"\"c\"\"\",,d";
    assert_int_equal(dm__csv_split(s, strlen(s), ',', 1, c, 8), 4);
    assert_int_equal(c[1].n, 7);
    assert_int_equal(c[1].esc, 1);
    char out[16];
    size_t n = dm__csv_unquote(c[1].p, c[1].n, out);
    assert_memory_equal(out, "b,\"c\"", n);
    assert_int_equal(c[2].n, 0);
    assert_int_equal(dm__csv_split("\"open", 5, ',', 1, c, 8), -1);
    const char *rec = "a,\"x\ny\"\nb\n";
    const char *e = dm__csv_record_end(rec, rec + strlen(rec), 1);
    assert_int_equal(e - rec, 8);
    assert_int_equal(dm__csv_split("2 a  b", 6, ' ', 0, c, 8), 3);
}

static void test_detect(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum dm_in_format f;
        const char *preset;
    } cases[] = {
        {"{\"ts\":1.5,\"id.orig_h\":\"1.2.3.4\",\"id.resp_h\":\"1.2.3.5\"}\n", DM_IN_JSONL, "zeek"},
        {"{\"timestamp\":\"x\",\"event_type\":\"flow\",\"src_ip\":\"a\",\"dest_ip\":\"b\"}",
         DM_IN_JSONL, "suricata"},
        {"{\"@timestamp\":\"x\",\"source\":{\"ip\":\"a\"},\"destination\":{\"ip\":\"b\"}}",
         DM_IN_JSONL, "ecs"},
        {"{\"_@timestamp\":\"x\",\"_SourceIP\":\"a\",\"_DestinationIP\":\"b\"}", DM_IN_JSONL,
         "datamate"},
        {"[\n{\n\t\"first\" : \"x\",\n\t\"src4_addr\" : \"a\",\n\t\"dst4_addr\" : \"b\"\n}",
         DM_IN_JSON_ARRAY, "nfdump"},
        {"#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n", DM_IN_ZEEK, "zeek"},
        {"StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport\n", DM_IN_CSV, "argus"},
        {"StartTime\tDur\tProto\tSrcAddr\tSport\tDir\tDstAddr\tDport\n", DM_IN_TSV, "argus"},
        {"ts,te,td,sa,da,sp,dp,pr\n", DM_IN_NFDUMP_CSV, "nfdump"},
        {"2 123456789010 eni-1 1.2.3.4 1.2.3.5 1 2 6 1 2 3 4 ACCEPT OK\n", DM_IN_VPC, "vpcflow"},
        {"version account-id interface-id srcaddr dstaddr\n", DM_IN_VPC, "vpcflow"},
        {"{\"a\":1}\n", DM_IN_JSONL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum dm_in_format f;
        const char *p;
        int rc = dm_ingest_detect(cases[i].text, strlen(cases[i].text), &f, &p, NULL);
        assert_int_equal(rc, 0);
        if (f != cases[i].f || (p == NULL) != (cases[i].preset == NULL) ||
            (p && strcmp(p, cases[i].preset)))
            fail_msg("case %zu: format %d preset %s", i, f, p ? p : "(none)");
    }
    enum dm_in_format f;
    const char *p;
    assert_int_equal(dm_ingest_detect("hello world\n", 12, &f, &p, NULL), DM_EPARSE);
}

/* ---- whole conversions ---- */

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dm-test-ingest-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int run(const char *in, const char *preset, struct dm_convert_stats *st, const char *out)
{
    const char *inputs[1] = {in};
    struct dm_convert_opts o;
    memset(&o, 0, sizeof(o));
    o.inputs = inputs;
    o.ninputs = 1;
    o.output = out;
    o.preset = preset;
    o.codec = 6; /* zstd */
    o.threads = 2;
    o.chunk_bytes = 64 << 10; /* many chunks even for small fixtures */
    o.max_line = 16 << 10;
    struct dm_error err;
    dm_error_clear(&err);
    int rc = dm_convert(&o, st, &err);
    if (rc && rc != -ENOMEM)
        print_message("# %s: %s\n", in, err.msg);
    return rc;
}

static void test_real_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        uint64_t read, written;
        int reason; /* expected single reject reason, 0 = none */
    } cases[] = {
        {"elastic-integrations/zeek/test-conn.log", 18, 18, 0},
        {"elastic-integrations/suricata/test-eve-small.log", 12, 1, DM_REJ_NOT_FLOW},
        {"slips/test6-malicious.suricata.json", 5000, 3512, DM_REJ_NOT_FLOW},
        {"slips/test9-mixed-zeek-dir/conn.log", 576, 576, 0},
        {"slips/test10-mixed-zeek-dir/conn.log", 141, 141, 0},
        {"slips/test14-malicious-zeek-dir/conn.log", 5, 5, 0},
        {"slips/test15-malicious-zeek-dir/conn.log", 2, 2, 0},
        {"slips/port-scans/vertical/conn.log", 50, 50, 0},
        {"slips/port-scans/horizontal/conn.log", 41, 41, 0},
        {"slips/test2-malicious.binetflow", 6751, 6751, 0},
        {"slips/test11-portscan.binetflow", 66, 66, 0},
        {"slips/derived/test1-malicious.nfdump.csv", 4593, 4593, 0},
        {"slips/derived/test1-malicious.nfdump.json", 4593, 4593, 0},
        {"pmacct/100-IPFIXv10-CISCO/output-flow-00.json", 12, 12, 0},
        {"pmacct/101-NFv9-CISCO-cust_primitives/output-flow-00.json", 51, 51, 0},
        {"pmacct/101-NFv9-CISCO-cust_primitives/derived/traffic-00.pcap.nfcapd.json", 51, 51, 0},
        {"pmacct/101-NFv9-CISCO-cust_primitives/derived/traffic-00.pcap.nfcapd.csv", 51, 51, 0},
        {"rita/json_with_all_fields/conn.log", 29, 29, 0},
        {"rita/open_conns/open/open_conn.log", 59, 59, 0},
        {"rita/proxy/conn.log", 463, 463, 0},
        {"rita/truncated/conn.log", 59, 58, DM_REJ_FIELDS},
        {"elastic-integrations/aws-vpcflow/test-extra-samples.log", 7, 5, DM_REJ_NOT_FLOW},
    };
    char out[128];
    snprintf(out, sizeof(out), "%s/out.parquet", tmpdir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[256];
        snprintf(in, sizeof(in), REAL "%s", cases[i].path);
        struct dm_convert_stats st;
        int rc = run(in, NULL, &st, out);
        if (rc || st.read != cases[i].read || st.written != cases[i].written ||
            st.read != st.written + st.rejected ||
            (cases[i].reason && st.by_reason[cases[i].reason] != st.rejected))
            fail_msg("%s: rc %d read %llu written %llu rejected %llu", cases[i].path, rc,
                     (unsigned long long)st.read, (unsigned long long)st.written,
                     (unsigned long long)st.rejected);
        dm_convert_stats_release(&st);
        assert_int_equal(access(out, F_OK), 0);
        unlink(out);
    }
}

static void test_truncated_json(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof(out), "%s/trunc.parquet", tmpdir);
    struct dm_convert_stats st;
    assert_int_equal(run(REAL "rita/truncated/conn_json.log", NULL, &st, out), 0);
    assert_int_equal(st.read, 4);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.by_reason[DM_REJ_RANGE], 1); /* port 93145 */
    assert_int_equal(st.by_reason[DM_REJ_JSON], 1);  /* last line cut off */
    assert_int_equal(st.nexamples, 2);
    assert_string_equal(st.examples[0].where, REAL "rita/truncated/conn_json.log:3");
    assert_string_equal(st.examples[1].where, REAL "rita/truncated/conn_json.log:4");
    dm_convert_stats_release(&st);
    unlink(out);
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

static void test_malformed_corpus(void **state)
{
    (void)state;
    char in[128], out[128];
    snprintf(in, sizeof(in), "%s/bad.jsonl", tmpdir);
    snprintf(out, sizeof(out), "%s/bad.parquet", tmpdir);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    const char *lines[] = {
        "\xef\xbb\xbf{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\"}\r\n", /* BOM, CRLF */
        "\n",
        "   \n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_bytes\":\"1.5e3\",\"id.resp_p\":443.0}\n",
        "not json\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_bytes\":1e40}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_bytes\":-5}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_bytes\":true}\n",
        "{\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\"}\n",
        "{\"ts\":\"tomorrow\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\"}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.300\",\"id.resp_h\":\"10.0.0.2\"}\n",
        "{\"ts\":1600000000,\"id.resp_h\":\"10.0.0.2\"}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"proto\":\"bogus\"}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"\xff\",\"id.resp_h\":\"10.0.0.2\"}\n",
        "{\"ts\":1600000000,\"id.orig_h\":\"2001:DB8:0:0:0:0:0:1\",\"id.resp_h\":\"10.0.0.2\",\"conn_state\":\"SF\"}",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (i == 4) {
            /* A 20 KiB line (max_line is 16 KiB in run()). */
            assert_int_equal(dm_buf_putc(&b, '{'), 0);
            for (int k = 0; k < 20000; k++)
                assert_int_equal(dm_buf_putc(&b, ' '), 0);
            assert_int_equal(dm_buf_puts(&b, "}\n"), 0);
        }
        assert_int_equal(dm_buf_puts(&b, lines[i]), 0);
    }
    write_file(in, b.data, b.len);
    dm_buf_release(&b);
    struct dm_convert_stats st;
    assert_int_equal(run(in, "zeek", &st, out), 0);
    assert_int_equal(st.written, 3);
    assert_int_equal(st.read, 14);
    assert_int_equal(st.by_reason[DM_REJ_TOO_LONG], 1);
    assert_int_equal(st.by_reason[DM_REJ_JSON], 1);
    assert_int_equal(st.by_reason[DM_REJ_RANGE], 2);
    assert_int_equal(st.by_reason[DM_REJ_NUMBER], 1);
    assert_int_equal(st.by_reason[DM_REJ_NO_TS], 1);
    assert_int_equal(st.by_reason[DM_REJ_BAD_TS], 1);
    assert_int_equal(st.by_reason[DM_REJ_BAD_IP], 1);
    assert_int_equal(st.by_reason[DM_REJ_NO_IP], 1);
    assert_int_equal(st.by_reason[DM_REJ_PROTO], 1);
    assert_int_equal(st.by_reason[DM_REJ_UTF8], 1);
    dm_convert_stats_release(&st);

    /* Nothing valid at all: an error and no output file. */
    unlink(out);
    write_file(in, "not json\n{}\n", 12);
    assert_int_equal(run(in, "zeek", &st, out), DM_EPARSE);
    assert_int_equal(st.read, 2);
    assert_int_equal(access(out, F_OK), -1);
    dm_convert_stats_release(&st);
}

/* Zeek log rotation: header blocks with alternating layouts (the second one has an extra
 * column, so a stale layout would reject its rows) at many offsets against the 64 KiB
 * chunks of run(), so that blocks start chunks, straddle cuts and sit mid-chunk. */
static void test_zeek_header_blocks(void **state)
{
    (void)state;
    char in[128], out[128];
    snprintf(in, sizeof(in), "%s/rot.log", tmpdir);
    snprintf(out, sizeof(out), "%s/rot.parquet", tmpdir);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    uint64_t rows = 0;
    for (int blk = 0; blk < 12; blk++) {
        int alt = blk % 2;
        assert_int_equal(dm_buf_printf(&b, "#separator \\x09\n#set_separator\t,\n"
                                           "#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
                                           "#fields\tts\tuid\tid.orig_h\tid.orig_p\t%s"
                                           "id.resp_h\tid.resp_p\tproto\torig_bytes\tconn_state\n"
                                           "#types\ttime\tstring\taddr\tport\t%saddr\tport\t"
                                           "enum\tcount\tstring\n",
                                       alt ? "service\t" : "", alt ? "string\t" : ""),
                         0);
        int nrows = 300 + blk * 97;
        for (int i = 0; i < nrows; i++, rows++)
            assert_int_equal(dm_buf_printf(&b, "%d.5\tC%d\t10.0.%d.%d\t%d\t%s8.8.8.8\t53\tudp\t%d\tSF\n",
                                           1600000000 + (int)rows, i, blk, i % 250 + 1, 1024 + i,
                                           alt ? "dns\t" : "", i),
                             0);
        assert_int_equal(dm_buf_puts(&b, "#close\t2024-01-01-00-00-00\n"), 0);
    }
    write_file(in, b.data, b.len);
    dm_buf_release(&b);
    struct dm_convert_stats st;
    assert_int_equal(run(in, NULL, &st, out), 0);
    assert_int_equal(st.read, rows);
    assert_int_equal(st.written, rows);
    assert_int_equal(st.rejected, 0);
    dm_convert_stats_release(&st);
    unlink(out);
}

/* Over-long lines (max_line 16 KiB, chunks 64 KiB in run()): counted once each, rejected
 * with the line they start on, and the records after them keep their line numbers. */
static void test_long_lines(void **state)
{
    (void)state;
    char in[128], out[128];
    snprintf(in, sizeof(in), "%s/long.jsonl", tmpdir);
    snprintf(out, sizeof(out), "%s/long.parquet", tmpdir);
    const char *good = "{\"ts\":1600000000,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\"}\n";
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    size_t lens[] = {20000, 65536 - 10, 65536, 200000, 65536 * 3 + 1};
    assert_int_equal(dm_buf_puts(&b, good), 0);
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (size_t i = 0; i < lens[k]; i++)
            assert_int_equal(dm_buf_putc(&b, 'x'), 0);
        assert_int_equal(dm_buf_puts(&b, "\n"), 0);
        assert_int_equal(dm_buf_puts(&b, good), 0);
    }
    assert_int_equal(dm_buf_puts(&b, "oops\n"), 0);
    write_file(in, b.data, b.len);
    dm_buf_release(&b);
    struct dm_convert_stats st;
    assert_int_equal(run(in, "zeek", &st, out), 0);
    assert_int_equal(st.read, 12);
    assert_int_equal(st.written, 6);
    assert_int_equal(st.by_reason[DM_REJ_TOO_LONG], 5);
    assert_int_equal(st.by_reason[DM_REJ_JSON], 1);
    assert_int_equal(st.nexamples, 6);
    for (size_t k = 0; k < 5; k++) {
        char want[256];
        snprintf(want, sizeof(want), "%s:%zu", in, 2 + 2 * k);
        assert_string_equal(st.examples[k].where, want);
    }
    char want[256];
    snprintf(want, sizeof(want), "%s:12", in);
    assert_string_equal(st.examples[5].where, want);
    dm_convert_stats_release(&st);
    unlink(out);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof(out), "%s/oom.parquet", tmpdir);
    const char *in = REAL "elastic-integrations/zeek/test-conn.log";
    struct dm_convert_stats st;
    dm_alloc_fail_at(0, 0);
    assert_int_equal(run(in, NULL, &st, out), 0);
    dm_convert_stats_release(&st);
    uint64_t total = dm_alloc_count();
    unlink(out);
    assert_true(total > 10);
    for (uint64_t n = 1; n <= total; n++) {
        dm_alloc_fail_at(n, 0);
        int rc = run(in, NULL, &st, out);
        dm_alloc_fail_at(0, 0);
        dm_convert_stats_release(&st);
        if (rc) {
            if (rc != -ENOMEM)
                fail_msg("allocation %llu: rc %d", (unsigned long long)n, rc);
            if (access(out, F_OK) == 0)
                fail_msg("allocation %llu: output left behind", (unsigned long long)n);
        }
        unlink(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_valid_and_invalid),
        cmocka_unit_test(test_json_depth_and_long),
        cmocka_unit_test(test_json_paths),
        cmocka_unit_test(test_json_unescape),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_ts),
        cmocka_unit_test(test_parse_proto),
        cmocka_unit_test(test_csv_split),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_real_fixtures),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_malformed_corpus),
        cmocka_unit_test(test_zeek_header_blocks),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
