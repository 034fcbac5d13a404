/* Named time zones: the TZif reader against the system's tzdata (known DST transitions,
 * computed independently with Python's zoneinfo), the footer rule far in the future, hostile
 * names and corrupt files, and business hours across a DST change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_engine.h"
#include "dm_hunt.h"
#include "dm_test.h"
#include "hunt_int.h"

static void load(struct dm_tz *tz, const char *name)
{
    struct dm_error err = {0};
    int rc = dm_tz_load(tz, DM_ZONEINFO_DIR, name, strlen(name), &err);
    if (rc)
        fail_msg("loading %s: %d %s", name, rc, err.msg);
    assert_string_equal(tz->name, name);
}

/* The offset changes from `before` to `after` exactly at t. */
static void change_at(const struct dm_tz *tz, int64_t t, int32_t before, int32_t after)
{
    if (dm_tz_offset(tz, t - 1) != before || dm_tz_offset(tz, t) != after)
        fail_msg("%s at %lld: %d / %d, want %d / %d", tz->name, (long long)t,
                 dm_tz_offset(tz, t - 1), dm_tz_offset(tz, t), before, after);
}

static void test_transitions(void **state)
{
    (void)state;
    struct dm_tz tz;
    load(&tz, "Europe/Berlin");
    change_at(&tz, 1774746000, 3600, 7200); /* 2026-03-29 01:00 UTC: CET -> CEST */
    change_at(&tz, 1792890000, 7200, 3600); /* 2026-10-25 01:00 UTC */
    change_at(&tz, 323830800, 3600, 7200);  /* 1980-04-06, from the table */
    change_at(&tz, 338950800, 7200, 3600);
    change_at(&tz, 5687802000, 3600, 7200); /* 2150: the footer rule, expanded */
    change_at(&tz, 5705946000, 7200, 3600);
    assert_int_equal(dm_tz_offset(&tz, 1780000000), 7200); /* summer 2026 */
    assert_int_equal(dm_tz_offset(&tz, INT64_C(99999999999)), 3600); /* beyond 2200: last */
    dm_tz_release(&tz);

    load(&tz, "America/New_York");
    change_at(&tz, 1772953200, -18000, -14400); /* 2026-03-08 07:00 UTC */
    change_at(&tz, 1793512800, -14400, -18000); /* 2026-11-01 06:00 UTC */
    change_at(&tz, 1143961200, -18000, -14400); /* 2006-04-02: the rule before 2007 */
    change_at(&tz, 1162101600, -14400, -18000);
    change_at(&tz, 162370800, -18000, -14400); /* 1975-02-23: the energy crisis year */
    dm_tz_release(&tz);

    load(&tz, "Australia/Sydney"); /* southern hemisphere: DST across new year */
    change_at(&tz, 1775318400, 39600, 36000); /* 2026-04-04 16:00 UTC */
    change_at(&tz, 1791043200, 36000, 39600); /* 2026-10-03 16:00 UTC */
    assert_int_equal(dm_tz_offset(&tz, 1767225600), 39600); /* 2026-01-01: summer */
    dm_tz_release(&tz);

    load(&tz, "Asia/Kolkata"); /* no DST today */
    assert_int_equal(dm_tz_offset(&tz, 1774746000), 19800);
    dm_tz_release(&tz);

    load(&tz, "UTC");
    assert_int_equal(dm_tz_offset(&tz, 1774746000), 0);
    dm_tz_release(&tz);

    dm_tz_init_fixed(&tz, -5 * 3600 - 1800);
    assert_string_equal(tz.name, "-05:30");
    assert_int_equal(dm_tz_offset(&tz, 0), -19800);
    dm_tz_release(&tz);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "../../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", ".hidden", "Europe//Berlin",
        "Europe/Berlin/", "Euro pe/Berlin", "Europe/Berlin\n", "Europe\\Berlin", "Europe/.x",
        "a..b", "", "%s%n", "Europe/Berlin;rm", "x/./y",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dm_tz tz;
        struct dm_error err = {0};
        if (dm_tz_load(&tz, DM_ZONEINFO_DIR, bad[i], strlen(bad[i]), &err) != -EINVAL)
            fail_msg("name '%s' was not refused", bad[i]);
        assert_non_null(strstr(err.msg, "is not a time zone name"));
    }
    assert_false(dm_tz_name_valid("Europe/Berlin\0x", 15)); /* an embedded NUL */
    assert_true(dm_tz_name_valid("America/Argentina/Buenos_Aires", 30));
    assert_true(dm_tz_name_valid("Etc/GMT+5", 9));
    struct dm_tz tz;
    struct dm_error err = {0};
    assert_int_equal(dm_tz_load(&tz, DM_ZONEINFO_DIR, "Europe/Atlantis", 15, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "unknown time zone 'Europe/Atlantis'"));
    assert_non_null(strstr(err.msg, "tzdata"));
    /* a directory is not a zone */
    assert_int_equal(dm_tz_load(&tz, DM_ZONEINFO_DIR, "Europe", 6, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'Europe'"));
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void test_corrupt(void **state)
{
    (void)state;
    size_t len;
    uint8_t *ok = slurp(DM_ZONEINFO_DIR "/America/New_York", &len);
    uint8_t *b = malloc(len);
    assert_non_null(b);
    struct dm_tz tz;
    struct dm_error err = {0};
    assert_int_equal(dm_tz_parse(&tz, ok, len, &err), 0);
    size_t n_ok = tz.n;
    dm_tz_release(&tz);
    /* every truncation fails cleanly (the heap copy makes ASan see any over-read) */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, ok, cut);
        int rc = dm_tz_parse(&tz, p, cut, &err);
        if (rc == 0)
            fail_msg("a TZif file cut at %zu of %zu bytes parsed", cut, len);
        free(p);
    }
    /* version 1 */
    memcpy(b, ok, len);
    b[4] = 0;
    assert_int_equal(dm_tz_parse(&tz, b, len, &err), DM_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "version 1"));
    /* huge counts in the v1 header */
    memcpy(b, ok, len);
    b[32] = 0x7f;
    assert_int_equal(dm_tz_parse(&tz, b, len, &err), DM_ECORRUPT);
    assert_non_null(strstr(err.msg, "transition count"));
    memcpy(b, ok, len);
    b[36] = 1; /* 256+ types */
    assert_int_equal(dm_tz_parse(&tz, b, len, &err), DM_ECORRUPT);
    /* every single-byte flip either parses or fails cleanly */
    for (size_t i = 0; i < len; i++) {
        memcpy(b, ok, len);
        b[i] ^= 0xa5;
        if (dm_tz_parse(&tz, b, len, &err) == 0) {
            assert_true(tz.n <= 65536 + 2 * 400);
            dm_tz_release(&tz);
        }
    }
    /* a bad footer rule */
    memcpy(b, ok, len);
    const char *foot = "\nEST5EDT,M3.2.0,M11.1.0\n";
    size_t fl = strlen(foot);
    assert_memory_equal(b + len - fl, foot, fl);
    b[len - fl + 10] = '9'; /* M9.2.0 is fine: still parses */
    assert_int_equal(dm_tz_parse(&tz, b, len, &err), 0);
    dm_tz_release(&tz);
    b[len - fl + 10] = 'x';
    assert_int_equal(dm_tz_parse(&tz, b, len, &err), DM_ECORRUPT);
    assert_non_null(strstr(err.msg, "TZ rule"));
    /* out-of-memory: a clean error, nothing leaked */
    for (unsigned k = 1; k < 20; k++) {
        dm_alloc_fail_at(k, 0);
        int rc = dm_tz_parse(&tz, ok, len, &err);
        dm_alloc_fail_at(0, 0);
        if (rc == 0) {
            assert_int_equal(tz.n, n_ok);
            dm_tz_release(&tz);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
    }
    free(b);
    free(ok);
}

/* Business hours 08:00-19:00 Mon-Fri in Berlin, across the 2026-03-29 change. */
static void test_business_hours_dst(void **state)
{
    (void)state;
    struct dm_tz tz;
    load(&tz, "Europe/Berlin");
    struct dm__hunt_bh bh = {8 * 60, 19 * 60, 0x3e, 0, &tz};
#define S(x) ((int64_t)(x) * 1000000)
    int64_t mon23 = 1774224000; /* Mon 2026-03-23 00:00 UTC (CET, +1) */
    int64_t mon30 = 1774828800; /* Mon 2026-03-30 00:00 UTC (CEST, +2) */
    assert_false(dm__hunt_bh_inside(&bh, S(mon23 + 6 * 3600 + 1800))); /* 07:30 local */
    assert_true(dm__hunt_bh_inside(&bh, S(mon23 + 7 * 3600)));          /* 08:00 */
    assert_true(dm__hunt_bh_inside(&bh, S(mon30 + 6 * 3600 + 1800)));  /* 08:30 CEST */
    assert_false(dm__hunt_bh_inside(&bh, S(mon30 + 5 * 3600 + 1800))); /* 07:30 CEST */
    assert_true(dm__hunt_bh_inside(&bh, S(mon30 + 16 * 3600 + 1800)));  /* 18:30 CEST */
    assert_false(dm__hunt_bh_inside(&bh, S(mon30 + 17 * 3600)));        /* 19:00 CEST */
    /* the off-hours period of Sunday 29 (the change): Fri 27 19:00 CET -> Mon 30 08:00 CEST */
    int64_t a, b;
    dm__hunt_bh_period(&bh, S(1774746000 + 3600), &a, &b);
    assert_true(a == S(mon23 + 4 * 86400 + 18 * 3600));
    assert_true(b == S(mon30 + 6 * 3600));
    /* a week on each side: 5 x 11 h either way, the change falls on a Sunday */
    assert_true(dm__hunt_bh_hours(&bh, S(mon23), S(mon23 + 7 * 86400)) == 55.0);
    assert_true(dm__hunt_bh_hours(&bh, S(mon30), S(mon30 + 7 * 86400)) == 55.0);
    /* Monday 30 from 00:00 UTC to 12:00 UTC: 08:00-14:00 CEST = 6 h */
    assert_true(dm__hunt_bh_hours(&bh, S(mon30), S(mon30 + 12 * 3600)) == 6.0);
    dm_tz_release(&tz);
}

static void test_config(void **state)
{
    (void)state;
    static const char *const cfgs[] = {
        "{\"hunt\": {\"timezone\": \"America/New_York\"}}",
        "{\"hunt\": {\"timezone\": \"America/Nowhere\"}}",
        "{\"hunt\": {\"timezone\": \"../../../etc/passwd\"}}",
        "{\"hunt\": {\"timezone\": \"+05:30\"}}",
    };
    for (size_t i = 0; i < 4; i++) {
        struct dm_config cfg;
        assert_int_equal(dm_config_init(&cfg), 0);
        assert_int_equal(dm_config_parse(&cfg, cfgs[i], strlen(cfgs[i]), NULL), 0);
        struct dm_hunt_config hc;
        struct dm_error err = {0};
        dm_hunt_config_init(&hc);
        int rc = dm_hunt_config_parse(&hc, cfg.hunt, &cfg, &err);
        if (i == 0) {
            assert_int_equal(rc, 0);
            assert_string_equal(hc.tz.name, "America/New_York");
            assert_int_equal(dm_tz_offset(&hc.tz, 1780000000), -14400);
        } else if (i == 1) {
            assert_int_equal(rc, -EINVAL);
            assert_non_null(strstr(err.msg, "'hunt.timezone': unknown time zone 'America/Nowhere'"));
        } else if (i == 2) {
            assert_int_equal(rc, -EINVAL);
            assert_non_null(strstr(err.msg, "is not a time zone name"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(hc.tz_offset_min, 330);
            assert_int_equal(hc.tz.n, 0);
            assert_int_equal(dm_tz_offset(&hc.tz, 0), 19800);
        }
        dm_hunt_config_release(&hc);
        dm_config_release(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_business_hours_dst),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
