/* dm_json: values, escapes, spans, limits and errors; the config file on top of it. */
#include "dm_test.h"

#include <string.h>

#include "dm_alloc.h"
#include "dm_engine.h"
#include "dm_json.h"

static int parse(struct dm_json_doc *d, const char *s, struct dm_error *err)
{
    return dm_json_parse(d, s, strlen(s), NULL, err);
}

static void test_values(void **state)
{
    (void)state;
    struct dm_json_doc d;
    const char *s = " {\"a\": [1, -2.5e1, true, false, null, \"x\\u00e9\\n\\ud83d\\ude00\"],"
                    " \"b\": {\"c\": 9007199254740993}, \"a\": 7} ";
    assert_int_equal(parse(&d, s, NULL), 0);
    const struct dm_json *r = d.root;
    assert_int_equal(r->type, DM_JSON_OBJ);
    assert_int_equal(r->len, 3);
    const struct dm_json *a = &r->items[0];
    assert_string_equal(a->key, "a");
    assert_int_equal(a->type, DM_JSON_ARR);
    assert_int_equal(a->items[0].i, 1);
    assert_true(a->items[0].is_int);
    assert_false(a->items[1].is_int);
    assert_true(a->items[1].num == -25.0);
    assert_int_equal(a->items[2].b, 1);
    assert_int_equal(a->items[3].type, DM_JSON_BOOL);
    assert_int_equal(a->items[4].type, DM_JSON_NULL);
    assert_string_equal(a->items[5].str, "x\xc3\xa9\n\xf0\x9f\x98\x80");
    assert_int_equal(a->items[5].len, 8);
    /* last duplicate wins */
    assert_int_equal(dm_json_get(r, "a")->i, 7);
    const struct dm_json *c = dm_json_get(dm_json_get(r, "b"), "c");
    assert_int_equal(c->i, 9007199254740993LL);
    /* spans quote the source */
    const struct dm_json *b = dm_json_get(r, "b");
    assert_int_equal(b->span, strlen("{\"c\": 9007199254740993}"));
    assert_memory_equal(s + b->offset, "{\"c\"", 4);
    assert_null(dm_json_get(r, "zz"));
    dm_json_doc_release(&d);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "expected a value at end of input"},
        {"{\"a\":1,}", "expected a member name at line 1, byte 8"},
        {"[1,2", "expected ',' or ']' at end of input"},
        {"{\"a\" 1}", "expected ':' at line 1, byte 6"},
        {"\"abc", "unterminated string at line 1, byte 1"},
        {"\"a\\qb\"", "bad escape in string at line 1, byte 3"},
        {"\"\\u00\"", "bad \\u escape at line 1, byte 2"},
        {"\"\\ud800x\"", "unpaired surrogate in \\u escape at line 1, byte 2"},
        {"\"\\u0000\"", "\\u0000 in string at line 1, byte 2"},
        {"\"a\x01\"", "control character in string at line 1, byte 3"},
        {"\"\xff\"", "invalid UTF-8 in string at line 1, byte 2"},
        {"01", "leading zero in number at line 1, byte 1"},
        {"1.", "invalid number at end of input"},
        {"tru", "invalid value at line 1, byte 1"},
        {"{}\n x", "unexpected text after the value at line 2, byte 5"},
        {"[1 2]", "expected ',' or ']' at line 1, byte 4"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dm_json_doc d;
        struct dm_error err;
        dm_error_clear(&err);
        int rc = parse(&d, bad[i].in, &err);
        if (rc != DM_EPARSE || strcmp(err.msg, bad[i].msg))
            print_error("input %zu: rc %d msg '%s'\n", i, rc, err.msg);
        assert_int_equal(rc, DM_EPARSE);
        assert_string_equal(err.msg, bad[i].msg);
        dm_json_doc_release(&d);
    }
}

static void test_limits(void **state)
{
    (void)state;
    char deep[300];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 99);
    deep[299] = 0;
    struct dm_json_doc d;
    struct dm_error err;
    assert_int_equal(parse(&d, deep, &err), DM_ETOOBIG);
    assert_string_equal(err.msg, "nesting too deep at line 1, byte 65");
    dm_json_doc_release(&d);
    struct dm_json_limits lim = {.max_nodes = 3};
    assert_int_equal(dm_json_parse(&d, "[1,2,3]", 7, &lim, &err), DM_ETOOBIG);
    dm_json_doc_release(&d);
    lim = (struct dm_json_limits){.max_bytes = 4};
    assert_int_equal(dm_json_parse(&d, "[1,2,3]", 7, &lim, &err), DM_ETOOBIG);
    dm_json_doc_release(&d);
    /* allocation failures: clean errors, no leaks */
    const char *s = "{\"a\": [1, 2, {\"b\": \"ccc\"}], \"d\": \"e\"}";
    for (uint64_t n = 1; n < 50; n++) {
        dm_alloc_fail_at(n, 1);
        int rc = parse(&d, s, NULL);
        dm_alloc_fail_at(0, 0);
        dm_json_doc_release(&d);
        if (!rc)
            break;
        assert_int_equal(rc, -ENOMEM);
    }
}

static void test_config(void **state)
{
    (void)state;
    /* the earlier tool's config.json, unchanged */
    const char *old = "{\n  \"template\": {\"site\": \"DM8\", \"title\": \"Datamate\", "
                      "\"theme_toggle\": true, \"header_background\": \"#1f2937\"},\n"
                      "  \"targeted_cols\": [\"_@timestamp\", \"_SourceIP\", \"_DestinationIP\", "
                      "\"_BytesSent\"],\n"
                      "  \"known_servers\": {\"10.250.10.15\": \"MAILSRV\", \"10.250.18.22\": "
                      "\"DBSRV2\", \"10.250.10.50\": \"DBSRV1\", \"10.1.0.0/16\": \"dmz\"},\n"
                      "  \"internal_networks\": [\"10.0.0.0/8\", \"2001:db8::/32\"],\n"
                      "  \"columns\": {\"src_ip\": \"SrcAddr\"},\n"
                      "  \"hunt\": {\"min_bytes\": 1000},\n"
                      "  \"colour\": 1\n}";
    struct dm_config c;
    assert_int_equal(dm_config_init(&c), 0);
    struct dm_error err;
    assert_int_equal(dm_config_parse(&c, old, strlen(old), &err), 0);
    assert_string_equal(c.site, "DM8");
    assert_string_equal(c.title, "Datamate");
    assert_string_equal(c.header_background, "#1f2937");
    assert_int_equal(c.theme_toggle, 1);
    assert_int_equal(c.ntargeted, 4);
    assert_string_equal(c.targeted_cols[1], "_SourceIP");
    assert_int_equal(c.nservers, 4);
    assert_int_equal(c.servers[0].kind, DM_ROLE_MAIL);
    assert_int_equal(c.servers[1].kind, DM_ROLE_DB);
    assert_int_equal(c.servers[3].kind, DM_ROLE_OTHER);
    struct dm_ip ip;
    dm_ip_parse("10.1.2.3", 8, &ip);
    assert_string_equal(dm_config_server(&c, &ip)->name, "dmz");
    dm_ip_parse("10.250.18.22", 12, &ip);
    assert_string_equal(dm_config_server(&c, &ip)->name, "DBSRV2");
    assert_true(dm_cidr_set_contains(&c.internal, &ip));
    dm_ip_parse("192.168.1.1", 11, &ip);
    assert_false(dm_cidr_set_contains(&c.internal, &ip)); /* replaced the defaults */
    assert_int_equal(c.ncolumns, 1);
    assert_string_equal(c.columns[0].source, "SrcAddr");
    assert_non_null(c.hunt);
    assert_int_equal(dm_json_get(c.hunt, "min_bytes")->i, 1000);
    assert_int_equal(c.nwarnings, 1);
    assert_string_equal(c.warnings[0], "unknown key 'colour' ignored");
    dm_config_release(&c);

    assert_int_equal(dm_role_kind_of("OracleDb"), DM_ROLE_DB);
    assert_int_equal(dm_role_kind_of("Exchange-MAIL"), DM_ROLE_MAIL);
    assert_int_equal(dm_role_kind_of("web"), DM_ROLE_OTHER);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"[]", "the config must be a JSON object, not array"},
        {"{\"known_servers\": []}",
         "'known_servers' must be an object {\"ip or cidr\": \"name\"}, not array"},
        {"{\"known_servers\": {\"db1\": \"x\"}}",
         "'known_servers': 'db1' is not an IP address or CIDR"},
        {"{\"known_servers\": {\"10.0.0.1\": 5}}", "'known_servers.10.0.0.1' must be a string, not number"},
        {"{\"targeted_cols\": \"ts\"}", "'targeted_cols' must be an array of column names, not string"},
        {"{\"internal_networks\": [\"10.0.0.0/33\"]}", "'internal_networks': '10.0.0.0/33' is not a CIDR"},
        {"{\"template\": {\"title\": 3}}", "'template.title' must be a string, not number"},
        {"{\"template\": {\"theme_toggle\": \"yes\"}}", "'template.theme_toggle' must be a boolean, not string"},
        {"{\"hunt\": 1}", "'hunt' must be an object, not number"},
        {"{\"columns\": {\"src_ip\": 1}}", "'columns.src_ip' must be a source column name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(dm_config_init(&c), 0);
        dm_error_clear(&err);
        int rc = dm_config_parse(&c, bad[i].in, strlen(bad[i].in), &err);
        if (rc != -EINVAL || strcmp(err.msg, bad[i].msg))
            print_error("config %zu: rc %d msg '%s'\n", i, rc, err.msg);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(err.msg, bad[i].msg);
        dm_config_release(&c);
    }
    assert_int_equal(dm_config_init(&c), 0);
    assert_int_equal(dm_config_load(&c, "/nonexistent/config.json", &err), -ENOENT);
    assert_string_equal(err.msg, "cannot open '/nonexistent/config.json': no such file or directory");
    dm_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
