/* The hunt statistics, checked against values computed by hand (see the comments). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dm_hunt.h"
#include "dm_test.h"
#include "hunt_int.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)
#define NEAR3(a, b) assert_true(fabs((a) - (b)) < 1e-3)

static void test_median_mad(void **state)
{
    (void)state;
    double a[] = {5, 1, 3};
    NEAR(dm__hunt_median(a, 3), 3);
    double b[] = {4, 1, 3, 2};
    NEAR(dm__hunt_median(b, 4), 2.5);
    double c[] = {7};
    NEAR(dm__hunt_median(c, 1), 7);
    NEAR(dm__hunt_median(NULL, 0), 0);
    /* |{1,2,3,4,100} - 3| = {2,1,0,1,97}: median 1 */
    double d[] = {1, 2, 3, 4, 100};
    NEAR(dm__hunt_mad(d, 5, 3), 1);
    /* many duplicates and a reversed run */
    double e[200];
    for (int i = 0; i < 200; i++)
        e[i] = (double)(i % 2 ? 199 - i : 5);
    /* 100 fives and the even numbers 198..0: sorted, 0 2 4 come first, then the fives
     * fill positions 3..102, so positions 99 and 100 are 5 → median 5 */
    NEAR(dm__hunt_median(e, 200), 5);
}

static void test_robust_z(void **state)
{
    (void)state;
    /* (10 - 3) / (1.4826 * 1) */
    NEAR3(dm__hunt_robust_z(10, 3, 1, 5), 4.7214);
    /* MAD 0 → mean absolute deviation: (10 - 3) / (1.2533 * 2) */
    NEAR3(dm__hunt_robust_z(10, 3, 0, 2), 2.7926);
    NEAR(dm__hunt_robust_z(3, 3, 0, 0), 0);
    NEAR(dm__hunt_robust_z(4, 3, 0, 0), 99);
    NEAR(dm__hunt_robust_z(2, 3, 0, 0), -99);
}

static void test_quantile_bowley(void **state)
{
    (void)state;
    double s[] = {1, 2, 3, 4};
    NEAR(dm__hunt_quantile(s, 4, 0.25), 1.75);
    NEAR(dm__hunt_quantile(s, 4, 0.5), 2.5);
    NEAR(dm__hunt_quantile(s, 4, 0.75), 3.25);
    NEAR(dm__hunt_quantile(s, 4, 1), 4);
    /* Q1 = 10, Q2 = 15, Q3 = 40: (10 + 40 - 30) / 30 */
    double a[] = {0, 10, 15, 40, 100};
    NEAR(dm__hunt_bowley(a, 5), 20.0 / 30.0);
    /* symmetric */
    double b[] = {0, 10, 20, 30, 100};
    NEAR(dm__hunt_bowley(b, 5), 0);
    /* IQR < 10 → 0 */
    double c[] = {1, 2, 3, 4, 5};
    NEAR(dm__hunt_bowley(c, 5), 0);
    /* median equal to Q1 → 0 */
    double d[] = {10, 10, 10, 50, 90};
    NEAR(dm__hunt_bowley(d, 5), 0);
    /* left skew is negative: Q1 = 10, Q2 = 35, Q3 = 40 → (50 - 70) / 30 */
    double e[] = {0, 10, 35, 40, 41};
    NEAR(dm__hunt_bowley(e, 5), -20.0 / 30.0);
}

static void test_madm(void **state)
{
    (void)state;
    double scratch[8];
    double a[] = {10, 10, 10, 10};
    NEAR(dm__hunt_madm_score(a, 4, scratch), 1);
    /* median 6, deviations {4,2,0,2,94} → MAD 2 → (6 - 2) / 6 */
    double b[] = {2, 4, 6, 8, 100};
    NEAR(dm__hunt_madm_score(b, 5, scratch), 4.0 / 6.0);
    double c[] = {0, 0, 0.5};
    NEAR(dm__hunt_madm_score(c, 3, scratch), 1);
    /* median 2, deviations {2,1,0,98,198} → MAD 2 → 0, never negative */
    double d[] = {0, 1, 2, 100, 200};
    NEAR(dm__hunt_madm_score(d, 5, scratch), 0);
    double e[] = {1, 2, 10, 100, 200};
    /* median 10, deviations {9,8,0,90,190} → MAD 9 → 0.1 */
    NEAR(dm__hunt_madm_score(e, 5, scratch), 0.1);
}

static void test_pcr_prevalence(void **state)
{
    (void)state;
    NEAR(dm__hunt_pcr(300, 100), 0.5);
    NEAR(dm__hunt_pcr(0, 0), 0);
    NEAR(dm__hunt_pcr(0, 5), -1);
    NEAR(dm__hunt_pcr(5, 0), 1);
    NEAR(dm__hunt_prevalence(1, 2400), 1.0 / 2400);
    NEAR(dm__hunt_prevalence(3, 0), 0);
    assert_int_equal(dm__hunt_rare_max(0.02, 2400), 48);
    assert_int_equal(dm__hunt_rare_max(0.02, 10), 1);
    assert_int_equal(dm__hunt_rare_max(0.02, 100), 2);
    /* 3600 connections in one hour → 86400 a day; shorter windows count as an hour */
    NEAR(dm__hunt_rate_per_day(3600, 0, INT64_C(3600000000)), 86400);
    NEAR(dm__hunt_rate_per_day(100, 0, INT64_C(10000000)), 2400);
    NEAR(dm__hunt_rate_per_day(200, 0, INT64_C(7200000000)), 2400);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* dm__hunt_sort_d against qsort on random, sorted, reversed, constant, few-distinct and
 * organ-pipe inputs of many sizes. */
static void test_sort(void **state)
{
    (void)state;
    enum { MAX = 3000 };
    static double a[MAX], b[MAX];
    uint64_t r = 12345;
    for (size_t n = 0; n < MAX; n = n < 64 ? n + 1 : n * 3 / 2) {
        for (int shape = 0; shape < 6; shape++) {
            for (size_t i = 0; i < n; i++) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                double x = (double)(r >> 40);
                a[i] = shape == 0 ? x : shape == 1 ? (double)i : shape == 2 ? (double)(n - i) :
                       shape == 3 ? 7.0 : shape == 4 ? (double)((r >> 33) % 3) :
                       (double)(i < n / 2 ? i : n - i);
            }
            memcpy(b, a, n * sizeof(*a));
            dm__hunt_sort_d(a, n);
            qsort(b, n, sizeof(*b), cmp_d);
            if (n && memcmp(a, b, n * sizeof(*a)))
                fail_msg("sort differs from qsort: n %zu shape %d", n, shape);
        }
    }
}

#define S(x) ((int64_t)(x) * 1000000)

static void test_business_hours(void **state)
{
    (void)state;
    struct dm__hunt_bh bh = {8 * 60, 19 * 60, 0x3e, 0, NULL};
    /* Fri 2026-11-27 10:00 UTC = 1795773600 */
    assert_true(dm__hunt_bh_inside(&bh, S(1795773600)));
    /* Sat 10:00 */
    assert_false(dm__hunt_bh_inside(&bh, S(1795860000)));
    /* Fri 19:00 (end is exclusive) and 07:59 */
    assert_false(dm__hunt_bh_inside(&bh, S(1795773600 + 9 * 3600)));
    assert_false(dm__hunt_bh_inside(&bh, S(1795773600 - 2 * 3600 - 60)));
    assert_true(dm__hunt_bh_inside(&bh, S(1795773600 - 2 * 3600)));
    /* UTC+2: Fri 07:00 UTC is 09:00 local (inside), Fri 17:30 UTC is 19:30 local (outside) */
    struct dm__hunt_bh bh2 = {8 * 60, 19 * 60, 0x3e, 120, NULL};
    assert_true(dm__hunt_bh_inside(&bh2, S(1795773600 - 3 * 3600)));
    assert_false(dm__hunt_bh_inside(&bh2, S(1795773600 + 7 * 3600 + 1800)));
    /* UTC-5: Sat 02:00 UTC is Fri 21:00 local → outside; Mon 13:00 UTC = 08:00 local */
    struct dm__hunt_bh bh3 = {8 * 60, 19 * 60, 0x3e, -300, NULL};
    assert_false(dm__hunt_bh_inside(&bh3, S(1795860000 - 8 * 3600)));
    int64_t mon_13 = 1795860000 + 2 * 86400 + 3 * 3600;
    assert_true(dm__hunt_bh_inside(&bh3, S(mon_13)));
    assert_false(dm__hunt_bh_inside(&bh3, S(mon_13 - 1)));

    /* Tue 2026-11-24 02:00 UTC (1795485600): the period runs Mon 19:00 → Tue 08:00 */
    int64_t a, b;
    dm__hunt_bh_period(&bh, S(1795485600), &a, &b);
    assert_true(a == S(1795485600 - 7 * 3600));
    assert_true(b == S(1795485600 + 6 * 3600));
    /* Sat 10:00: Fri 19:00 → Mon 08:00 */
    dm__hunt_bh_period(&bh, S(1795860000), &a, &b);
    assert_true(a == S(1795773600 + 9 * 3600));
    assert_true(b == S(1795860000 + 2 * 86400 - 2 * 3600));
    /* Fri 20:00 belongs to the same weekend period */
    int64_t a2, b2;
    dm__hunt_bh_period(&bh, S(1795773600 + 10 * 3600), &a2, &b2);
    assert_true(a2 == a && b2 == b);
    /* no business day at all: one endless period */
    struct dm__hunt_bh none = {8 * 60, 19 * 60, 0, 0, NULL};
    dm__hunt_bh_period(&none, S(1795860000), &a, &b);
    assert_true(a == INT64_MIN && b == INT64_MAX);
}

static void test_beacon_hist_duration(void **state)
{
    (void)state;
    uint32_t c[DM_HUNT_BEACON_BINS];
    double cv, bi, run;
    for (int i = 0; i < 24; i++)
        c[i] = 12;
    NEAR(dm__hunt_beacon_hist(c, &cv, &bi), 1);
    NEAR(cv, 0);
    /* 12 bins of 10, 12 empty: CV = 1 → 0; bimodal: buckets {10: 12, 0: 12} → 24 / 23 → 1 */
    for (int i = 0; i < 24; i++)
        c[i] = i < 12 ? 10 : 0;
    NEAR(dm__hunt_beacon_hist(c, &cv, &bi), 1);
    NEAR(cv, 1);
    NEAR(bi, 1);
    /* 1..24: CV = sqrt((24^2 - 1) / 12) / 12.5 → 1 - CV = 0.446225; bimodal: width
     * ceil(1.2) = 2, the two largest buckets hold 2 bins each → 4 / 23 */
    for (int i = 0; i < 24; i++)
        c[i] = (uint32_t)i + 1;
    NEAR3(dm__hunt_beacon_hist(c, &cv, &bi), 0.446225);
    NEAR3(bi, 4.0 / 23.0);
    /* 10 non-empty bins: no bimodal part */
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 10; i++)
        c[i] = 5;
    dm__hunt_beacon_hist(c, &cv, &bi);
    NEAR(bi, 0);

    /* duration: 6 consecutive bins → run 6 / 12 = 0.5 beats coverage 0.1 */
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 6; i++)
        c[i] = 1;
    NEAR(dm__hunt_beacon_duration(c, 0.1, &run), 0.5);
    /* the run wraps around: bins 22, 23, 0..3 */
    memset(c, 0, sizeof(c));
    c[22] = c[23] = c[0] = c[1] = c[2] = c[3] = 1;
    NEAR(dm__hunt_beacon_duration(c, 0.2, &run), 0.5);
    /* coverage wins */
    NEAR(dm__hunt_beacon_duration(c, 0.9, &run), 0.9);
    /* 5 bins: 0 */
    c[3] = 0;
    NEAR(dm__hunt_beacon_duration(c, 0.9, &run), 0);
    /* all 24 bins: run capped at 1 */
    for (int i = 0; i < 24; i++)
        c[i] = 1;
    NEAR(dm__hunt_beacon_duration(c, 0.5, &run), 1);
}

static void test_beacon_score(void **state)
{
    (void)state;
    enum { N = 288 };
    static double ts[N], by[N], scratch[2 * N];
    for (int i = 0; i < N; i++) {
        ts[i] = 300.0 * i;
        by[i] = 1400;
    }
    struct dm__hunt_beacon b;
    dm__hunt_beacon_score(ts, by, N, 0, 86400, scratch, &b);
    NEAR(b.ts_score, 1);
    NEAR(b.ds_score, 1);
    NEAR(b.hist_score, 1);
    NEAR(b.dur_score, 1);
    NEAR(b.score, 1);
    NEAR(b.gap_median, 300);
    NEAR(b.bytes_median, 1400);
    /* gaps 10, 20, 30, 40 (sorted), bytes 100 x 5, all in one bin of a 1-day span:
     * gaps: Q1 17.5, Q2 25, Q3 32.5 → skew 0 → 1; MAD of {10,20,30,40} around 25 is 10 →
     * (25 - 10) / 25 = 0.6 → ts 0.8. bytes: 1. hist: one bin of 5 → CV = sqrt(23) > 1 → 0.
     * duration: 1 non-empty bin → 0. score = (0.8 + 1 + 0 + 0) / 4 = 0.45 */
    double t2[] = {0, 10, 30, 60, 100}, b2[] = {100, 100, 100, 100, 100};
    dm__hunt_beacon_score(t2, b2, 5, 0, 86400, scratch, &b);
    NEAR(b.ts_score, 0.8);
    NEAR(b.ds_score, 1);
    NEAR(b.hist_score, 0);
    NEAR(b.dur_score, 0);
    NEAR(b.score, 0.45);
}

static void test_tz_and_actions(void **state)
{
    (void)state;
    int off = 1;
    assert_int_equal(dm_hunt_parse_tz("UTC", 3, &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(dm_hunt_parse_tz("+02:00", 6, &off), 0);
    assert_int_equal(off, 120);
    assert_int_equal(dm_hunt_parse_tz("-0530", 5, &off), 0);
    assert_int_equal(off, -330);
    assert_int_equal(dm_hunt_parse_tz("UTC+2", 5, &off), 0);
    assert_int_equal(off, 120);
    assert_int_equal(dm_hunt_parse_tz("Europe/Paris", 12, &off), -EINVAL);
    assert_int_equal(dm_hunt_parse_tz("+25:00", 6, &off), -EINVAL);
    assert_int_equal(dm_hunt_parse_tz("+02:61", 6, &off), -EINVAL);
    assert_int_equal(dm_hunt_parse_tz("", 0, &off), -EINVAL);
    assert_true(dm_hunt_action_failed("DENY", 4));
    assert_true(dm_hunt_action_failed("rej", 3));
    assert_true(dm_hunt_action_failed("S0", 2));
    assert_false(dm_hunt_action_failed("allow", 5));
    assert_false(dm_hunt_action_failed("sf", 2));
    assert_int_equal(dm_hunt_kind_from_name("beacon", 6), DM_HUNT_BEACON);
    assert_int_equal(dm_hunt_kind_from_name("nope", 4), -1);
    assert_string_equal(dm_hunt_kind_name(DM_HUNT_RARE_DESTINATION), "rare_destination");
    assert_null(dm_hunt_kind_name(DM_HUNT_NKINDS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_mad),
        cmocka_unit_test(test_robust_z),
        cmocka_unit_test(test_quantile_bowley),
        cmocka_unit_test(test_madm),
        cmocka_unit_test(test_pcr_prevalence),
        cmocka_unit_test(test_business_hours),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_beacon_hist_duration),
        cmocka_unit_test(test_beacon_score),
        cmocka_unit_test(test_tz_and_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
