/* Filter language: every operator and field kind on the fixture table, and error messages. */
#include "dm_test.h"

#include "engine_fixture.h"

static struct fx F;

/* Ids of the rows matching expr, ascending, comma-separated ("" for none); or "ERR: msg". */
static const char *match(const char *expr)
{
    static char out[512];
    struct dm_filter *f;
    struct dm_error err;
    dm_error_clear(&err);
    if (dm_filter_compile(&f, F.t, expr, strlen(expr), &err)) {
        snprintf(out, sizeof(out), "ERR: %s", err.msg);
        return out;
    }
    size_t b, e;
    dm_filter_rows(f, &b, &e);
    uint32_t sel[DM_MORSEL];
    void *scratch = dm_malloc(dm_filter_scratch_size(f));
    assert_non_null(scratch);
    int hit[FX_N] = {0};
    size_t n = e > b ? dm_filter_eval(f, b, e - b, sel, scratch) : 0;
    for (size_t i = 0; i < n; i++)
        hit[fx_id(&F, sel[i])] = 1;
    dm_free(scratch);
    dm_filter_free(f);
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < FX_N; i++)
        if (hit[i])
            k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%zu", k ? "," : "", i);
    return out;
}

static const struct {
    const char *expr, *want;
} cases[] = {
    {"", "0,1,2,3,4,5,6,7,8,9"},
    {"   ", "0,1,2,3,4,5,6,7,8,9"},
    /* IP fields: equality, CIDR, either side, lists, v6 */
    {"src = 10.0.0.1", "0,1,5"},
    {"src == 10.0.0.1", "0,1,5"},
    {"src 10.0.0.0/8", "0,1,2,5,7,8"},
    {"dst 10.0.0.0/8", "3,4,6"},
    {"ip = 8.8.8.8", "0,8"},
    {"ip != 8.8.8.8", "1,2,3,4,5,6,7,9"},
    {"src != 10.0.0.1", "2,3,4,6,7,8,9"},
    {"ip in [10.0.0.5, 2001:db8::/32]", "3,4,5"},
    {"src not in [10.0.0.0/8, 192.168.0.0/16]", "4,6,9"},
    {"dst ff02::/16", "9"},
    {"ip fe80::/10", "9"},
    {"src = 2001:DB8:0::1", "4"},
    {"dst = ::ffff:1.2.3.4", "1,2"},
    {"src = 10.9.9.9", ""},
    {"src_ip = 10.0.0.2", "2,7"},
    {"bytes_sent = 10", "6"},
    /* internal / external (172.32/12 is not RFC 1918; fe80::/10 is internal) */
    {"src internal", "0,1,2,3,5,7,8,9"},
    {"src external", "4,6"},
    {"dst external", "0,1,2,5,8,9"},
    {"src = internal", "0,1,2,3,5,7,8,9"},
    {"src internal and dst external", "0,1,2,5,8,9"},
    {"ip external", "0,1,2,4,5,6,8,9"},
    /* roles */
    {"dst role db", "3"},
    {"dst role mail", "4"},
    {"dst role DB", "3"},
    {"ip role any", "3,4"},
    {"dst role dbsrv1", "3"},
    {"src role db", ""},
    /* ports */
    {"dport = 443", "1,2"},
    {"dport != 443", "0,3,4,5,6,7,9"},
    {"not dport = 443", "0,3,4,5,6,7,8,9"},
    {"port = 80", "6,7"},
    {"port in [53, 547]", "0,9"},
    {"port != 80", "0,1,2,3,4,5,8,9"},
    {"dport < 100", "0,4,5,6,7"},
    {"dport <= 80", "0,4,5,6,7"},
    {"dport > 443", "3,9"},
    {"dport >= 443", "1,2,3,9"},
    {"dport <> 443", "0,3,4,5,6,7,9"},
    {"sport >= 50000 and sport <= 50002", "0,1,2"},
    /* protocols */
    {"proto = tcp", "1,2,3,4,5,6,7"},
    {"proto = UDP", "0,9"},
    {"proto in [icmp, udp]", "0,8,9"},
    {"proto = 6", "1,2,3,4,5,6,7"},
    /* sizes: K M G T powers of 1000, Ki Mi Gi Ti powers of 1024 */
    {"sent > 1M", "1,5"},
    {"sent >= 2Ki", "1,2,4,5"},
    {"sent > 2K", "1,2,4,5"},
    {"sent > 2Ki", "1,4,5"},
    {"sent > 1G", ""},
    {"sent >= 1G", "5"},
    {"sent >= 1GB", "5"},
    {"sent < 1Gi", "0,1,2,3,4,5,6,7,8,9"},
    {"sent >= 0.005G", "1,5"},
    {"sent >= 1_000_000", "1,5"},
    {"sent < 1T", "0,1,2,3,4,5,6,7,8,9"},
    {"sent >= 1Ti", ""},
    {"recv > 4K", "2,3,5"},
    {"recv = 0", "7"},
    {"bytes > 100K", "1,5"},
    {"bytes = 0", "7"},
    {"bytes = 150", "9"},
    {"packets >= 30", "1,3,5"},
    {"packets != 2", "1,2,3,4,5,6,9"},
    /* action: case-insensitive, nulls never equal */
    {"action = deny", "2,6"},
    {"action = DENY", "2,6"},
    {"action in [deny, drop]", "2,4,6"},
    {"action != allow", "2,4,6"},
    {"action = \"allow\"", "0,1,3,5,8,9"},
    {"action = nosuch", ""},
    /* duration: ms, or with s, m, h, d */
    {"duration > 1s", "1,5"},
    {"duration >= 500", "1,3,5"},
    {"duration >= 1m", "5"},
    /* time: ISO 8601, precision intervals, zones */
    {"ts >= 2024-03-01T11:00:00Z", "4,5,6,7,8,9"},
    {"ts < 2024-03-01T10:10", "0,1"},
    {"ts <= 2024-03-01T10:10", "0,1,2"},
    {"ts = 2024-03-01T12", "6,7"},
    {"ts = 2024-03-01", "0,1,2,3,4,5,6,7,8,9"},
    {"ts > 2024-03-01", ""},
    {"ts < 2024-03-01", ""},
    {"ts > 2024-03-01T23:59:59", ""},
    {"ts >= 2024-03-01T23:59:59.5", "9"},
    {"ts >= '2024-03-01 12:00:00+01:00'", "4,5,6,7,8,9"},
    {"ts >= 2024-03-01T12:00:00+01:00", "4,5,6,7,8,9"},
    {"ts >= 1709294400", "6,7,8,9"},
    {"ts != 2024-03-01T12", "0,1,2,3,4,5,8,9"},
    {"ts < 2024-03-01T10:10 or ts > 2024-03-01T13", "0,1,9"},
    {"ts >= 2024-03-01T10:05 and ts < 2024-03-01T11:00 and dport = 443", "1,2"},
    /* precedence and grouping */
    {"dport = 443 or dport = 80 and src = 10.0.0.2", "1,2,7"},
    {"(dport = 443 or dport = 80) and src = 10.0.0.2", "2,7"},
    {"not (src internal)", "4,6"},
    {"not src internal or dport = 22", "4,5,6"},
    {"not not dport = 22", "5"},
    {"NOT dport = 22 AND src = 10.0.0.1", "0,1"},
    {"dport = 443 && src = 10.0.0.2", "2"},
    {"src = 10.0.0.1 || src = 10.0.0.3", "0,1,5,8"},
    {"!(ip 10.0.0.0/8)", "9"},
    {"ip 10.0.0.0/8 and not ip 8.8.8.8", "1,2,3,4,5,6,7"},
    {"((((dport = 22))))", "5"},
    /* extra columns */
    {"user = alice", "0,1"},
    {"user != alice", "2"},
    {"user in [bob, carol]", "2"},
    {"user = ALICE", ""},
    {"id in [1, 3, 5]", "1,3,5"},
    {"id > 7", "8,9"},
    /* errors: position and suggestion */
    {"srcip = 1.2.3.4", "ERR: unknown field 'srcip' at 1:1 (did you mean 'src'?)"},
    {"dprot = 22", "ERR: unknown field 'dprot' at 1:1 (did you mean 'dport'?)"},
    {"packet > 1", "ERR: unknown field 'packet' at 1:1 (did you mean 'packets'?)"},
    {"dport = 22 and usr = bob", "ERR: unknown field 'usr' at 1:16 (did you mean 'user'?)"},
    {"zzzzzz = 1", "ERR: unknown field 'zzzzzz' at 1:1"},
    {"src = 1.2.3", "ERR: invalid IP address or CIDR '1.2.3' at 1:7"},
    {"dport = 70000", "ERR: value 70000 out of range for 'dport' (0..65535) at 1:9"},
    {"src < 10.0.0.1",
     "ERR: operator '<' does not apply to 'src' at 1:5 (use =, !=, in, a CIDR, internal, "
     "external or role)"},
    {"action > a", "ERR: operator '>' does not apply to 'action' at 1:8 (use =, != or in)"},
    {"(dport = 80", "ERR: unclosed '(' at 1:1"},
    {"dport = 80)", "ERR: unexpected ')' at 1:11 (unbalanced parentheses)"},
    {"dport = 80 dport = 443",
     "ERR: unexpected 'dport' at 1:12 (join conditions with 'and' / 'or')"},
    {"sent > 10X",
     "ERR: invalid value '10X' for 'sent' at 1:8 (a number, optionally with K, M, G, T or Ki, "
     "Mi, Gi, Ti)"},
    {"sent > 1.5", "ERR: invalid value '1.5' for 'sent' at 1:8 (a number, optionally with K, M, "
                   "G, T or Ki, Mi, Gi, Ti)"},
    {"ts > 2024-13-01",
     "ERR: invalid time '2024-13-01' at 1:6 (use ISO 8601 like 2024-03-01T10:00:00Z or epoch "
     "seconds)"},
    {"ts > 2023-02-29", "ERR: invalid time '2023-02-29' at 1:6 (use ISO 8601 like "
                        "2024-03-01T10:00:00Z or epoch seconds)"},
    {"dst role dbb", "ERR: unknown role 'dbb' at 1:10 (roles: db, mail, any or a known_servers name)"},
    {"dst role mailsrv2", "ERR: unknown role 'mailsrv2' at 1:10 (did you mean 'MAILSRV'?)"},
    {"dport in [80, 443", "ERR: expected ',' or ']' in the list, found end of expression at 1:18"},
    {"dport in 80", "ERR: expected '[' after 'in' at 1:10 (write lists as [a, b, c])"},
    {"dport = ", "ERR: expected a value after '=', found end of expression at 1:9"},
    {"dport", "ERR: expected an operator after 'dport', found end of expression at 1:6 (e.g. "
              "dport = 443, sent > 10M, dport in [80, 443])"},
    {"dport = 1 & dport = 2", "ERR: unexpected '&' at 1:11 (use 'and' / 'or')"},
    {"_SourceIP = 1.2.3.4", "ERR: unknown field '_SourceIP' at 1:1"},
    {"src = 'x", "ERR: unterminated string at 1:7"},
    {"and", "ERR: expected a field name, found 'and' at 1:1"},
    {"dport = 22 and\n  sprt = 1", "ERR: unknown field 'sprt' at 2:3 (did you mean 'sport'?)"},
    {"proto = tcpp", "ERR: invalid value 'tcpp' for 'proto' at 1:9 (a protocol number or tcp, "
                     "udp, icmp, ...)"},
    {"duration > 5x", "ERR: invalid value '5x' for 'duration' at 1:12 (a number of ms, or with s, "
                      "m, h, d)"},
};

static void test_cases(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = match(cases[i].expr);
        if (strcmp(got, cases[i].want)) {
            print_error("filter \"%s\":\n  want %s\n  got  %s\n", cases[i].expr, cases[i].want,
                        got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_error_offset(void **state)
{
    (void)state;
    struct dm_filter *f = NULL;
    struct dm_error err;
    const char *e = "dport = 22 and srcip = 1.2.3.4";
    assert_int_equal(dm_filter_compile(&f, F.t, e, strlen(e), &err), DM_EPARSE);
    assert_null(f);
    assert_int_equal(err.offset, 15);
}

static void test_time_bounds_pushdown(void **state)
{
    (void)state;
    struct dm_filter *f;
    const char *e = "ts >= 2024-03-01T11:00 and ts < 2024-03-01T13:00 and dport = 80";
    assert_int_equal(dm_filter_compile(&f, F.t, e, strlen(e), NULL), 0);
    size_t b, end;
    dm_filter_rows(f, &b, &end);
    /* rows 4, 5, 6, 7 are 11:00..12:00: table positions 4..7 */
    assert_int_equal(b, 4);
    assert_int_equal(end, 8);
    assert_false(dm_filter_is_range_only(f));
    dm_filter_free(f);
    e = "ts >= 2024-03-01T11:00";
    assert_int_equal(dm_filter_compile(&f, F.t, e, strlen(e), NULL), 0);
    assert_true(dm_filter_is_range_only(f));
    dm_filter_free(f);
}

static void test_limits(void **state)
{
    (void)state;
    /* deep nesting is refused, not a stack overflow */
    char deep[400];
    size_t k = 0;
    for (int i = 0; i < 150; i++)
        deep[k++] = '(';
    memcpy(deep + k, "dport = 1", 9);
    k += 9;
    for (int i = 0; i < 150; i++)
        deep[k++] = ')';
    deep[k] = 0;
    assert_string_equal(match(deep), "ERR: expression nested too deeply at 1:65");
    /* control bytes in an echoed token are replaced */
    assert_string_equal(match("src\x01x = 1"), "ERR: unknown field 'src?x' at 1:1 (did you mean 'src'?)");
    struct dm_filter *f;
    assert_int_equal(dm_filter_compile(&f, F.t, "x", DM_FILTER_MAX_LEN + 1, NULL), DM_ETOOBIG);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *e = "src internal and (dport in [80, 443] or sent > 1M) and user = alice";
    for (uint64_t n = 1; n < 200; n++) {
        struct dm_filter *f = NULL;
        dm_alloc_fail_at(n, 1);
        int rc = dm_filter_compile(&f, F.t, e, strlen(e), NULL);
        dm_alloc_fail_at(0, 0);
        if (rc == 0) {
            dm_filter_free(f);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(f);
    }
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t us, end;
    assert_int_equal(dm_time_parse("2024-03-01", 10, &us, &end), 0);
    assert_int_equal(us, T0 - 10 * 3600000000LL);
    assert_int_equal(end - us, 86400000000LL);
    assert_int_equal(dm_time_parse("2024-03-01T10:00:00.25Z", 23, &us, &end), 0);
    assert_int_equal(us, T0 + 250000);
    assert_int_equal(end - us, 10000);
    assert_int_equal(dm_time_parse("2024-03-01T05:00:00-05:00", 25, &us, NULL), 0);
    assert_int_equal(us, T0);
    assert_int_equal(dm_time_parse("1709287200", 10, &us, NULL), 0);
    assert_int_equal(us, T0);
    assert_int_equal(dm_time_parse("1709287200000", 13, &us, NULL), 0);
    assert_int_equal(us, T0);
    assert_int_equal(dm_time_parse("1709287200000000", 16, &us, NULL), 0);
    assert_int_equal(us, T0);
    assert_int_equal(dm_time_parse("1709287200000000000", 19, &us, NULL), 0);
    assert_int_equal(us, T0);
    assert_int_equal(dm_time_parse("1969-12-31T23:59:59Z", 20, &us, NULL), 0);
    assert_int_equal(us, -1000000);
    assert_int_equal(dm_time_parse("2024-02-30", 10, &us, NULL), -EINVAL);
    assert_int_equal(dm_time_parse("2024-03-01T25:00", 16, &us, NULL), -EINVAL);
    assert_int_equal(dm_time_parse("2024-03-01T10:00Zjunk", 21, &us, NULL), -EINVAL);
    char buf[32];
    dm_time_format(T0, buf);
    assert_string_equal(buf, "2024-03-01T10:00:00Z");
    dm_time_format(T0 + 1500, buf);
    assert_string_equal(buf, "2024-03-01T10:00:00.001500Z");
    dm_time_format(T0 + 250000, buf);
    assert_string_equal(buf, "2024-03-01T10:00:00.250Z");
    dm_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
}

static int setup(void **state)
{
    (void)state;
    return fx_open(&F, 2);
}

static int teardown(void **state)
{
    (void)state;
    fx_close(&F);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_error_offset),
        cmocka_unit_test(test_time_bounds_pushdown),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
