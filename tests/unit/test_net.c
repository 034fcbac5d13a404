#include <string.h>

#include "dm_net.h"
#include "dm_test.h"

static void roundtrip(const char *in, const char *want)
{
    struct dm_ip ip;
    char out[DM_IP_STRLEN];
    int rc = dm_ip_parse(in, strlen(in), &ip);
    if (rc)
        fail_msg("parse failed for '%s'", in);
    dm_ip_format(&ip, out);
    if (strcmp(out, want))
        fail_msg("'%s' formatted as '%s', want '%s'", in, out, want);
}

static void test_ip_canonical(void **state)
{
    (void)state;
    roundtrip("1.2.3.4", "1.2.3.4");
    roundtrip("0.0.0.0", "0.0.0.0");
    roundtrip("255.255.255.255", "255.255.255.255");
    roundtrip("::", "::");
    roundtrip("::1", "::1");
    roundtrip("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
    roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"); /* first of equal runs */
    roundtrip("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329");
    roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* single zero not compressed */
    roundtrip("fe80::", "fe80::");
    roundtrip("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0");
    roundtrip("::ffff:10.1.2.3", "10.1.2.3");
    roundtrip("::FFFF:0a01:0203", "10.1.2.3");
    roundtrip("64:ff9b::192.0.2.33", "64:ff9b::c000:221");
    roundtrip("::1.2.3.4", "::102:304");
}

static void test_ip_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"",         "1.2.3",       "1.2.3.4.5",  "256.1.1.1",    "01.2.3.4",
                         "1.2.3.4 ", " 1.2.3.4",    "1..2.3",     "a.b.c.d",      ":::",
                         "1::2::3",  "12345::",     ":1::",       "1:2:3:4:5:6:7:8:9",
                         "1:2:3:4:5:6:7", "fe80::1%eth0", "1.2.3.-4", "::1.2.3",  "1:",
                         "1:2:3:4:5:6:7:8::", "[::1]", "0x1.2.3.4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dm_ip ip;
        if (dm_ip_parse(bad[i], strlen(bad[i]), &ip) == 0)
            fail_msg("'%s' should not parse", bad[i]);
    }
}

static void test_ip_v4_helpers(void **state)
{
    (void)state;
    struct dm_ip a, b;
    dm_ip_parse("10.0.0.1", 8, &a);
    assert_true(dm_ip_is_v4(&a));
    assert_int_equal(dm_ip_v4(&a), 0x0a000001);
    dm_ip_from_v4(0x0a000002, &b);
    assert_true(dm_ip_cmp(&a, &b) < 0);
    dm_ip_parse("::1", 3, &b);
    assert_false(dm_ip_is_v4(&b));
}

static int in(const char *cidr, const char *ip)
{
    struct dm_cidr c;
    struct dm_ip a;
    assert_int_equal(dm_cidr_parse(cidr, strlen(cidr), &c), 0);
    assert_int_equal(dm_ip_parse(ip, strlen(ip), &a), 0);
    return dm_cidr_contains(&c, &a);
}

static void test_cidr(void **state)
{
    (void)state;
    assert_true(in("10.0.0.0/8", "10.255.1.2"));
    assert_false(in("10.0.0.0/8", "11.0.0.1"));
    assert_true(in("172.16.0.0/12", "172.31.255.255"));
    assert_false(in("172.16.0.0/12", "172.32.0.1")); /* the old tool's bug */
    assert_true(in("192.168.1.5", "192.168.1.5"));
    assert_false(in("192.168.1.5", "192.168.1.6"));
    assert_true(in("0.0.0.0/0", "8.8.8.8"));
    assert_false(in("0.0.0.0/0", "2001:db8::1"));
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("fc00::/7", "fd12:3456::1"));
    assert_true(in("10.1.2.3/24", "10.1.2.200")); /* host bits cleared */
    assert_true(in("::/0", "1.2.3.4"));
    struct dm_cidr c;
    assert_int_equal(dm_cidr_parse("10.0.0.0/33", 11, &c), -EINVAL);
    assert_int_equal(dm_cidr_parse("::/129", 6, &c), -EINVAL);
    assert_int_equal(dm_cidr_parse("10.0.0.0/", 9, &c), -EINVAL);
    assert_int_equal(dm_cidr_parse("10.0.0.0/1a", 11, &c), -EINVAL);
    char out[DM_IP_STRLEN + 4];
    dm_cidr_parse("10.1.2.3/16", 11, &c);
    dm_cidr_format(&c, out);
    assert_string_equal(out, "10.1.0.0/16");
    dm_cidr_parse("2001:db8::5/64", 14, &c);
    dm_cidr_format(&c, out);
    assert_string_equal(out, "2001:db8::/64");
}

static void test_cidr_set_defaults(void **state)
{
    (void)state;
    struct dm_cidr_set s;
    dm_cidr_set_init(&s);
    assert_int_equal(dm_cidr_set_add_defaults(&s), 0);
    const char *internal[] = {"10.1.1.1", "172.20.0.1", "192.168.0.1", "100.64.0.1",
                              "127.0.0.1", "169.254.1.1", "fd00::1", "fe80::1", "::1"};
    const char *external[] = {"8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1",
                              "2001:db8::1", "::2", "1.1.1.1"};
    for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
        struct dm_ip ip;
        dm_ip_parse(internal[i], strlen(internal[i]), &ip);
        if (!dm_cidr_set_contains(&s, &ip))
            fail_msg("%s should be internal", internal[i]);
    }
    for (size_t i = 0; i < sizeof(external) / sizeof(external[0]); i++) {
        struct dm_ip ip;
        dm_ip_parse(external[i], strlen(external[i]), &ip);
        if (dm_cidr_set_contains(&s, &ip))
            fail_msg("%s should be external", external[i]);
    }
    struct dm_error err;
    assert_int_equal(dm_cidr_set_add_str(&s, "10.0.0/8", 8, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'10.0.0/8'"));
    dm_cidr_set_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_canonical),  cmocka_unit_test(test_ip_invalid),
        cmocka_unit_test(test_ip_v4_helpers), cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_cidr_set_defaults),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
