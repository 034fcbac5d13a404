/* Unit tests for the HTTP layer: query parsing and bounds, typed parameters, the common
 * filter, Host / token / cookie checks, the embedded asset table and content negotiation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dm_alloc.h"
#include "dm_http.h"
#include "dm_test.h"

static struct dm_http_params *parse_ok(const char *q)
{
    static struct dm_http_params p;
    struct dm_error err;
    dm_error_clear(&err);
    int rc = dm_http_params_parse(&p, q, strlen(q), &err);
    if (rc)
        fail_msg("parse '%s': %s", q, err.msg);
    return &p;
}

static int parse_rc(const char *q, char *msg, size_t msgsz)
{
    static struct dm_http_params p;
    struct dm_error err;
    dm_error_clear(&err);
    int rc = dm_http_params_parse(&p, q, strlen(q), &err);
    if (msg)
        snprintf(msg, msgsz, "%s", err.msg);
    return rc;
}

static void test_params_decode(void **state)
{
    (void)state;
    struct dm_http_params *p = parse_ok("q=src+10.0.0.0%2F8&limit=20&flag&empty=&x=%3Cimg%3E");
    assert_int_equal(p->n, 5);
    assert_string_equal(dm_http_param(p, "q"), "src 10.0.0.0/8");
    assert_string_equal(dm_http_param(p, "limit"), "20");
    assert_string_equal(dm_http_param(p, "flag"), "");
    assert_string_equal(dm_http_param(p, "empty"), "");
    assert_string_equal(dm_http_param(p, "x"), "<img>");
    assert_null(dm_http_param(p, "missing"));
    p = parse_ok("");
    assert_int_equal(p->n, 0);
    p = parse_ok("&&a=1&&");
    assert_int_equal(p->n, 1);
    assert_string_equal(dm_http_param(p, "a"), "1");
}

static void test_params_reject(void **state)
{
    (void)state;
    char msg[256];
    assert_int_equal(parse_rc("a=%zz", msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "'a'"));
    assert_int_equal(parse_rc("a=%4", NULL, 0), -EINVAL);  /* truncated escape */
    assert_int_equal(parse_rc("a=%", NULL, 0), -EINVAL);
    assert_int_equal(parse_rc("a=%00", NULL, 0), -EINVAL); /* NUL byte */
    assert_int_equal(parse_rc("=1", NULL, 0), -EINVAL);
    assert_int_equal(parse_rc("a=1&a=2", msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "parameter 'a' given twice");
    /* Too many parameters. */
    char q[1024] = "";
    size_t k = 0;
    for (int i = 0; i <= DM_HTTP_MAX_PARAMS; i++)
        k += (size_t)snprintf(q + k, sizeof(q) - k, "p%d=1&", i);
    assert_int_equal(parse_rc(q, NULL, 0), DM_ETOOBIG);
    /* Too long. */
    char *big = dm_malloc(DM_HTTP_MAX_URI + 10);
    assert_non_null(big);
    memset(big, 'a', DM_HTTP_MAX_URI + 9);
    big[0] = 'q';
    big[1] = '=';
    big[DM_HTTP_MAX_URI + 9] = '\0';
    assert_int_equal(parse_rc(big, NULL, 0), DM_ETOOBIG);
    dm_free(big);
}

static void test_params_check(void **state)
{
    (void)state;
    static const char *const allowed[] = {"q", "limit", NULL};
    struct dm_error err;
    dm_error_clear(&err);
    struct dm_http_params *p = parse_ok("q=1&limit=2&token=abc");
    assert_int_equal(dm_http_params_check(p, allowed, &err), 0);
    p = parse_ok("q=1&srot=ts");
    assert_int_equal(dm_http_params_check(p, allowed, &err), -EINVAL);
    assert_string_equal(err.msg, "unknown parameter 'srot'");
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(dm_http_parse_size("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(dm_http_parse_size("1500", 4, &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(dm_http_parse_size("10K", 3, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(dm_http_parse_size("1.5M", 4, &v), 0);
    assert_int_equal(v, 1500000);
    assert_int_equal(dm_http_parse_size("2g", 2, &v), 0);
    assert_int_equal(v, 2000000000ull);
    assert_int_equal(dm_http_parse_size("10Ki", 4, &v), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(dm_http_parse_size("1.5Ki", 5, &v), 0);
    assert_int_equal(v, 1536);
    assert_int_equal(dm_http_parse_size("3TB", 3, &v), 0);
    assert_int_equal(v, 3000000000000ull);
    assert_int_equal(dm_http_parse_size("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(dm_http_parse_size("18446744073709551616", 20, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("99999999999T", 12, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("1.0001K", 7, &v), -EINVAL); /* not integral */
    assert_int_equal(dm_http_parse_size("1.5", 3, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("-1", 2, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("1e3", 3, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("", 0, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size(".5K", 3, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("5.K", 3, &v), -EINVAL);
    assert_int_equal(dm_http_parse_size("5X", 2, &v), -EINVAL);
}

static void test_param_u64_and_enum(void **state)
{
    (void)state;
    struct dm_error err;
    dm_error_clear(&err);
    struct dm_http_params *p = parse_ok("limit=1001&offset=5&order=up");
    uint64_t v;
    assert_int_equal(dm_http_param_u64(p, "limit", 1, 1000, 50, &v, &err), -EINVAL);
    assert_string_equal(err.msg, "parameter 'limit': 1001 is out of range [1, 1000]");
    assert_int_equal(dm_http_param_u64(p, "offset", 0, 100, 0, &v, &err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(dm_http_param_u64(p, "absent", 0, 100, 42, &v, &err), 0);
    assert_int_equal(v, 42);
    static const char *const orders[] = {"asc", "desc", NULL};
    int o;
    assert_int_equal(dm_http_param_enum(p, "order", orders, 0, &o, &err), -EINVAL);
    assert_string_equal(err.msg, "parameter 'order': 'up' is not one of: asc, desc");
    p = parse_ok("order=desc&limit=abc");
    assert_int_equal(dm_http_param_enum(p, "order", orders, 0, &o, &err), 0);
    assert_int_equal(o, 1);
    assert_int_equal(dm_http_param_u64(p, "limit", 1, 1000, 50, &v, &err), -EINVAL);
    assert_string_equal(err.msg, "parameter 'limit': 'abc' is not a number");
}

static void test_parse_time(void **state)
{
    (void)state;
    int64_t us;
    int d;
    assert_int_equal(dm_http_parse_time("2022-11-04", 10, &us, &d), 0);
    assert_int_equal(us, 1667520000ll * 1000000);
    assert_int_equal(d, 1);
    assert_int_equal(dm_http_parse_time("2022-11-04T10:00:00Z", 20, &us, &d), 0);
    assert_int_equal(us, (1667520000ll + 36000) * 1000000);
    assert_int_equal(d, 0);
    assert_int_equal(dm_http_parse_time("2022-11-04 10:00", 16, &us, &d), 0);
    assert_int_equal(us, (1667520000ll + 36000) * 1000000);
    assert_int_equal(dm_http_parse_time("2022-11-04T12:00:00.25+02:00", 28, &us, &d), 0);
    assert_int_equal(us, (1667520000ll + 36000) * 1000000 + 250000);
    assert_int_equal(dm_http_parse_time("1667520000", 10, &us, &d), 0);
    assert_int_equal(us, 1667520000ll * 1000000);
    assert_int_equal(dm_http_parse_time("1667520000000", 13, &us, &d), 0); /* ms */
    assert_int_equal(us, 1667520000ll * 1000000);
    assert_int_equal(dm_http_parse_time("1667520000000000", 16, &us, &d), 0); /* µs */
    assert_int_equal(us, 1667520000ll * 1000000);
    assert_int_equal(dm_http_parse_time("2024-02-29", 10, &us, &d), 0);
    assert_int_equal(dm_http_parse_time("2023-02-29", 10, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("2022-13-01", 10, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("2022-11-04T25:00", 16, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("2022-11-04X", 11, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("yesterday", 9, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("", 0, &us, &d), -EINVAL);
    assert_int_equal(dm_http_parse_time("99999999999999999999", 20, &us, &d), -EINVAL);
}

static void test_filter_parse(void **state)
{
    (void)state;
    struct dm_error err;
    struct dm_http_filter f;
    dm_error_clear(&err);
    struct dm_http_params *p = parse_ok("");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), 0);
    assert_true(dm_http_filter_is_empty(&f));
    p = parse_ok("q=+++&from=&to=");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), 0);
    assert_true(dm_http_filter_is_empty(&f)); /* blank expression = none */
    p = parse_ok("q=dst+external&from=2022-11-04&to=2022-11-04&sent_min=1K&sent_max=2M&recv_max=0");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), 0);
    assert_false(dm_http_filter_is_empty(&f));
    assert_int_equal(f.qlen, 12);
    assert_memory_equal(f.q, "dst external", 12);
    assert_int_equal(f.from_us, 1667520000ll * 1000000);
    assert_int_equal(f.to_us, (1667520000ll + 86400) * 1000000); /* whole day included */
    assert_int_equal(f.sent_min, 1000);
    assert_int_equal(f.sent_max, 2000000);
    assert_int_equal(f.recv_min, 0);
    assert_int_equal(f.recv_max, 0);
    p = parse_ok("from=2022-11-05&to=2022-11-04");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), -EINVAL);
    assert_string_equal(err.msg, "'from' must be before 'to'");
    p = parse_ok("sent_min=10&sent_max=5");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), -EINVAL);
    p = parse_ok("recv_min=lots");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'recv_min'"));
    p = parse_ok("from=soon");
    assert_int_equal(dm_http_filter_parse(p, &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'from'"));
    /* Expression length bound. */
    char *q = dm_malloc(DM_HTTP_MAX_EXPR + 8);
    assert_non_null(q);
    memcpy(q, "q=", 2);
    memset(q + 2, 'a', DM_HTTP_MAX_EXPR + 1);
    q[DM_HTTP_MAX_EXPR + 3] = '\0';
    p = parse_ok(q);
    assert_int_equal(dm_http_filter_parse(p, &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));
    q[DM_HTTP_MAX_EXPR + 2] = '\0'; /* exactly the limit is fine */
    p = parse_ok(q);
    assert_int_equal(dm_http_filter_parse(p, &f, &err), 0);
    dm_free(q);
}

static void test_host_check(void **state)
{
    (void)state;
    assert_true(dm_http_host_allowed("127.0.0.1:8050", 1, 8050));
    assert_true(dm_http_host_allowed("localhost:8050", 1, 8050));
    assert_true(dm_http_host_allowed("LOCALHOST:8050", 1, 8050));
    assert_true(dm_http_host_allowed("app.localhost:8050", 1, 8050));
    assert_true(dm_http_host_allowed("[::1]:8050", 1, 8050));
    assert_true(dm_http_host_allowed("127.1.2.3:8050", 1, 8050));
    assert_true(dm_http_host_allowed("localhost", 1, 80));
    /* DNS rebinding: a foreign name resolving to 127.0.0.1. */
    assert_false(dm_http_host_allowed("evil.example:8050", 1, 8050));
    assert_false(dm_http_host_allowed("localhost.evil.example:8050", 1, 8050));
    assert_false(dm_http_host_allowed("127.0.0.1.nip.io:8050", 1, 8050));
    assert_false(dm_http_host_allowed("localhost:8051", 1, 8050)); /* other port */
    assert_false(dm_http_host_allowed("localhost", 1, 8050));
    assert_false(dm_http_host_allowed(NULL, 1, 8050));
    assert_false(dm_http_host_allowed("", 1, 8050));
    assert_false(dm_http_host_allowed("::1:8050", 1, 8050)); /* unbracketed IPv6 */
    assert_false(dm_http_host_allowed("local host:8050", 1, 8050));
    assert_false(dm_http_host_allowed("localhost:", 1, 8050));
    assert_false(dm_http_host_allowed("localhost:99999", 1, 8050));
    assert_false(dm_http_host_allowed("[::1", 1, 8050));
    assert_false(dm_http_host_allowed("user@localhost:8050", 1, 8050));
    /* Non-loopback binds (token required) accept any well-formed host. */
    assert_true(dm_http_host_allowed("analyst-laptop.corp:8050", 0, 8050));
    assert_true(dm_http_host_allowed("192.168.1.5:8050", 0, 8050));
    assert_false(dm_http_host_allowed("bad host", 0, 8050));
}

static void test_split_hostport(void **state)
{
    (void)state;
    const char *h;
    size_t n;
    unsigned port;
    assert_int_equal(dm_http_split_hostport("[2001:db8::1]:443", 17, &h, &n, &port), 0);
    assert_int_equal(n, 11);
    assert_memory_equal(h, "2001:db8::1", 11);
    assert_int_equal(port, 443);
    assert_int_equal(dm_http_split_hostport("example", 7, &h, &n, &port), 0);
    assert_int_equal(port, 0);
    assert_int_equal(dm_http_split_hostport("example:0", 9, &h, &n, &port), -EINVAL);
    assert_int_equal(dm_http_split_hostport(":80", 3, &h, &n, &port), -EINVAL);
    assert_int_equal(dm_http_split_hostport("[]:80", 5, &h, &n, &port), -EINVAL);
    assert_int_equal(dm_http_split_hostport("[::1]x", 6, &h, &n, &port), -EINVAL);
}

static void test_token_and_cookie(void **state)
{
    (void)state;
    assert_true(dm_http_token_equal("abc123", "abc123", 6));
    assert_false(dm_http_token_equal("abc123", "abc124", 6));
    assert_false(dm_http_token_equal("abc123", "abc12", 5));
    assert_false(dm_http_token_equal("abc123", "abc1234", 7));
    assert_false(dm_http_token_equal("abc123", "", 0));
    const char *v;
    long n = dm_http_cookie_get("a=1; datamate_token=xyz; b=2", "datamate_token", &v);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "xyz", 3);
    n = dm_http_cookie_get("datamate_token=\"q\"", "datamate_token", &v);
    assert_int_equal(n, 1);
    assert_memory_equal(v, "q", 1);
    assert_int_equal(dm_http_cookie_get("xdatamate_token=1", "datamate_token", &v), -1);
    assert_int_equal(dm_http_cookie_get("", "datamate_token", &v), -1);
    assert_int_equal(dm_http_cookie_get(NULL, "datamate_token", &v), -1);
    n = dm_http_cookie_get("datamate_token=", "datamate_token", &v);
    assert_int_equal(n, 0);
    char t1[65], t2[65];
    assert_int_equal(dm_http_token_generate(t1, 32), 0);
    assert_int_equal(dm_http_token_generate(t2, 32), 0);
    assert_int_equal(strlen(t1), 64);
    assert_int_not_equal(strcmp(t1, t2), 0);
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", t1[i]));
}

static void test_loopback_names(void **state)
{
    (void)state;
    assert_true(dm_http_is_loopback_name("127.0.0.1", 9));
    assert_true(dm_http_is_loopback_name("::1", 3));
    assert_true(dm_http_is_loopback_name("localhost.", 10));
    assert_false(dm_http_is_loopback_name("0.0.0.0", 7));
    assert_false(dm_http_is_loopback_name("10.0.0.1", 8));
    assert_false(dm_http_is_loopback_name("::", 2));
    assert_false(dm_http_is_loopback_name("128.0.0.1", 9));
}

static void test_accept_gzip(void **state)
{
    (void)state;
    assert_true(dm_http_accepts_gzip("gzip, deflate, br"));
    assert_true(dm_http_accepts_gzip("deflate, GZIP;q=0.5"));
    assert_true(dm_http_accepts_gzip("*"));
    assert_true(dm_http_accepts_gzip("x-gzip"));
    assert_false(dm_http_accepts_gzip("gzip;q=0"));
    assert_false(dm_http_accepts_gzip("gzip; q=0.000"));
    assert_false(dm_http_accepts_gzip("*;q=0"));
    assert_false(dm_http_accepts_gzip("gzip;q=0, *"));
    assert_false(dm_http_accepts_gzip("deflate, br"));
    assert_false(dm_http_accepts_gzip("gzipx"));
    assert_false(dm_http_accepts_gzip(""));
    assert_false(dm_http_accepts_gzip(NULL));
    assert_false(dm_http_accepts_gzip("identity"));
}

static void test_etag_match(void **state)
{
    (void)state;
    const char *e = "\"abc\"";
    assert_true(dm_http_etag_match("\"abc\"", e));
    assert_true(dm_http_etag_match("W/\"abc\"", e));
    assert_true(dm_http_etag_match("\"x\", \"abc\"", e));
    assert_true(dm_http_etag_match("*", e));
    assert_false(dm_http_etag_match("\"abcd\"", e));
    assert_false(dm_http_etag_match("abc", e));
    assert_false(dm_http_etag_match("", e));
    assert_false(dm_http_etag_match(NULL, e));
}

static void test_assets_table(void **state)
{
    (void)state;
    size_t n = dm_http_asset_count();
    assert_true(n >= 4);
    const struct dm_asset *idx = dm_http_asset_find("/");
    assert_non_null(idx);
    assert_string_equal(idx->path, "/index.html");
    assert_string_equal(idx->mime, "text/html; charset=utf-8");
    assert_int_equal(idx->immutable, 0);
    assert_ptr_equal(dm_http_asset_find("/index.html"), idx);
    /* The page names its bundle, which is in the table, hashed and immutable; no inline
     * script in the page (CSP script-src 'self'). */
    const char *html = (const char *)idx->data;
    assert_null(strstr(html, "<script>"));
    const char *js = strstr(html, "src=\"/assets/app-");
    assert_non_null(js);
    js += 5;
    char path[128];
    size_t k = 0;
    while (js[k] && js[k] != '"' && k < sizeof(path) - 1) {
        path[k] = js[k];
        k++;
    }
    path[k] = '\0';
    const struct dm_asset *a = dm_http_asset_find(path);
    assert_non_null(a);
    assert_int_equal(a->immutable, 1);
    assert_string_equal(a->mime, "text/javascript; charset=utf-8");
    /* Nothing outside the table: no traversal, no disk. */
    assert_null(dm_http_asset_find("/../index.html"));
    assert_null(dm_http_asset_find("/etc/passwd"));
    assert_null(dm_http_asset_find("/assets/"));
    assert_null(dm_http_asset_find("index.html"));
    assert_null(dm_http_asset_find(NULL));
    assert_null(dm_http_asset_at(n));
    /* Every asset: an ETag, a MIME type, and a gzip variant that inflates to the data. */
    for (size_t i = 0; i < n; i++) {
        const struct dm_asset *x = dm_http_asset_at(i);
        assert_non_null(x->mime);
        assert_true(strlen(x->etag) > 2 && x->etag[0] == '"');
        assert_ptr_equal(dm_http_asset_find(x->path), x);
        if (!x->gz)
            continue;
        assert_true(x->gzlen < x->len);
        unsigned char *out = dm_malloc(x->len + 1);
        assert_non_null(out);
        z_stream z;
        memset(&z, 0, sizeof(z));
        assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
        z.next_in = (unsigned char *)(uintptr_t)x->gz;
        z.avail_in = (uInt)x->gzlen;
        z.next_out = out;
        z.avail_out = (uInt)(x->len + 1);
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.total_out, x->len);
        assert_memory_equal(out, x->data, x->len);
        inflateEnd(&z);
        dm_free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_decode),
        cmocka_unit_test(test_params_reject),
        cmocka_unit_test(test_params_check),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_param_u64_and_enum),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_filter_parse),
        cmocka_unit_test(test_host_check),
        cmocka_unit_test(test_split_hostport),
        cmocka_unit_test(test_token_and_cookie),
        cmocka_unit_test(test_loopback_names),
        cmocka_unit_test(test_accept_gzip),
        cmocka_unit_test(test_etag_match),
        cmocka_unit_test(test_assets_table),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
