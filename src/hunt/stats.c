/* Pure statistics for the detections: medians, MAD, robust z, quartiles, Bowley skew,
 * RITA's dispersion score, producer/consumer ratio, business-hours arithmetic. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hunt_int.h"
#include "banned.h"

/* Hoare-style quickselect: puts the k-th smallest value at v[k]. */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as pivot */
        size_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

static void sift_down(double *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && v[c + 1] > v[c])
            c++;
        if (!(v[c] > v[i]))
            return;
        double t = v[i];
        v[i] = v[c];
        v[c] = t;
        i = c;
    }
}

static void heap_sort(double *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t e = n; e-- > 1;) {
        double t = v[0];
        v[0] = v[e];
        v[e] = t;
        sift_down(v, 0, e);
    }
}

/* Introsort: quicksort (median of three, Hoare partition: runs of equal values split
 * evenly), insertion sort below 24 values, heap sort when the recursion gets too deep. */
static void intro_sort(double *v, size_t n, int depth)
{
    while (n > 24) {
        if (depth-- == 0) {
            heap_sort(v, n);
            return;
        }
        double a = v[0], b = v[n / 2], c = v[n - 1];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            double t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        /* [0, j] <= pivot <= [j + 1, n); recurse on the smaller side */
        size_t left = j + 1;
        if (left < n - left) {
            intro_sort(v, left, depth);
            v += left;
            n -= left;
        } else {
            intro_sort(v + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

void dm__hunt_sort_d(double *v, size_t n)
{
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    intro_sort(v, n, depth);
}

double dm__hunt_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    size_t k = n / 2;
    double hi = select_kth(v, n, k);
    if (n % 2)
        return hi;
    /* the largest of v[0..k) is the lower middle: select_kth left them all <= v[k] */
    double lo = v[0];
    for (size_t i = 1; i < k; i++)
        if (v[i] > lo)
            lo = v[i];
    return lo + (hi - lo) / 2;
}

double dm__hunt_mad(double *v, size_t n, double med)
{
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - med);
    return dm__hunt_median(v, n);
}

double dm__hunt_robust_z(double x, double med, double mad, double meanad)
{
    if (mad > 0)
        return (x - med) / (1.4826 * mad);
    if (meanad > 0)
        return (x - med) / (1.2533 * meanad);
    if (x == med)
        return 0;
    return x > med ? 99 : -99;
}

double dm__hunt_quantile(const double *s, size_t n, double q)
{
    if (n == 0)
        return 0;
    double h = (double)(n - 1) * q;
    size_t i = (size_t)h;
    if (i + 1 >= n)
        return s[n - 1];
    return s[i] + (h - (double)i) * (s[i + 1] - s[i]);
}

double dm__hunt_bowley(const double *s, size_t n)
{
    double q1 = dm__hunt_quantile(s, n, 0.25);
    double q2 = dm__hunt_quantile(s, n, 0.5);
    double q3 = dm__hunt_quantile(s, n, 0.75);
    if (q3 - q1 < 10 || q2 == q1 || q2 == q3)
        return 0;
    return (q1 + q3 - 2 * q2) / (q3 - q1);
}

double dm__hunt_madm_score(const double *s, size_t n, double *scratch)
{
    double med = dm__hunt_quantile(s, n, 0.5);
    if (med < 1)
        return 1;
    memcpy(scratch, s, n * sizeof(*s));
    double mad = dm__hunt_mad(scratch, n, med);
    double r = (med - mad) / med;
    return r < 0 ? 0 : r;
}

double dm__hunt_pcr(uint64_t out, uint64_t in)
{
    if (out == 0 && in == 0)
        return 0;
    double o = (double)out, i = (double)in;
    return (o - i) / (o + i);
}

double dm__hunt_logb(uint64_t x)
{
    return log1p((double)x);
}

#define US_PER_MIN INT64_C(60000000)
#define MIN_PER_DAY 1440

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Local minutes since the epoch. */
static int64_t local_minutes(const struct dm__hunt_bh *bh, int64_t ts_us)
{
    if (!bh->tz)
        return floor_div(ts_us, US_PER_MIN) + bh->tz_min;
    int64_t off = dm_tz_offset(bh->tz, floor_div(ts_us, 1000000));
    return floor_div(ts_us + off * 1000000, US_PER_MIN);
}

static int is_bday(const struct dm__hunt_bh *bh, int64_t day)
{
    /* 1970-01-01 was a Thursday (4) */
    int64_t wd = ((day % 7) + 7 + 4) % 7;
    return (bh->days >> wd) & 1;
}

int dm__hunt_bh_inside(const struct dm__hunt_bh *bh, int64_t ts_us)
{
    int64_t lm = local_minutes(bh, ts_us);
    int64_t day = floor_div(lm, MIN_PER_DAY);
    int64_t m = lm - day * MIN_PER_DAY;
    return is_bday(bh, day) && m >= bh->start_min && m < bh->end_min;
}

/* Local minute → UTC µs. Across a DST change the offset of the result is used: a local time
 * in the spring gap maps to the moment after the change, one repeated in autumn to its
 * first occurrence's offset guess (either is a business-hours boundary within an hour). */
static int64_t to_utc_us(const struct dm__hunt_bh *bh, int64_t local_min)
{
    if (!bh->tz)
        return (local_min - bh->tz_min) * US_PER_MIN;
    int64_t l = local_min * 60;
    int64_t t1 = l - dm_tz_offset(bh->tz, l);
    int64_t t2 = l - dm_tz_offset(bh->tz, t1);
    return t2 * 1000000;
}

double dm__hunt_bh_hours(const struct dm__hunt_bh *bh, int64_t a, int64_t b)
{
    if (b <= a)
        return 0;
    int64_t d0 = floor_div(local_minutes(bh, a), MIN_PER_DAY);
    int64_t d1 = floor_div(local_minutes(bh, b), MIN_PER_DAY);
    if (d1 - d0 > 366 * 50) /* absurd spans: cap the walk */
        d1 = d0 + 366 * 50;
    double total = 0;
    for (int64_t d = d0; d <= d1; d++) {
        if (!is_bday(bh, d))
            continue;
        int64_t s = to_utc_us(bh, d * MIN_PER_DAY + bh->start_min);
        int64_t e = to_utc_us(bh, d * MIN_PER_DAY + bh->end_min);
        if (s < a)
            s = a;
        if (e > b)
            e = b;
        if (e > s)
            total += (double)(e - s) / 3.6e9;
    }
    return total;
}

void dm__hunt_bh_period(const struct dm__hunt_bh *bh, int64_t ts_us, int64_t *start,
                        int64_t *end)
{
    int64_t lm = local_minutes(bh, ts_us);
    int64_t day = floor_div(lm, MIN_PER_DAY);
    int64_t m = lm - day * MIN_PER_DAY;
    *start = INT64_MIN;
    *end = INT64_MAX;
    /* start: the last business-day end at or before lm */
    if (is_bday(bh, day) && m >= bh->end_min) {
        *start = to_utc_us(bh, day * MIN_PER_DAY + bh->end_min);
    } else {
        for (int k = 1; k <= 8; k++)
            if (is_bday(bh, day - k)) {
                *start = to_utc_us(bh, (day - k) * MIN_PER_DAY + bh->end_min);
                break;
            }
    }
    /* end: the next business-day start after lm */
    if (is_bday(bh, day) && m < bh->start_min) {
        *end = to_utc_us(bh, day * MIN_PER_DAY + bh->start_min);
    } else {
        for (int k = 1; k <= 8; k++)
            if (is_bday(bh, day + k)) {
                *end = to_utc_us(bh, (day + k) * MIN_PER_DAY + bh->start_min);
                break;
            }
    }
}

double dm__hunt_rate_per_day(uint64_t n, int64_t first_us, int64_t last_us)
{
    double w = (double)(last_us - first_us) / 1e6;
    if (w < 3600)
        w = 3600;
    return (double)n * 86400.0 / w;
}

double dm__hunt_prevalence(uint64_t hosts_contacting, uint64_t internal_hosts)
{
    if (internal_hosts == 0)
        return 0;
    return (double)hosts_contacting / (double)internal_hosts;
}

uint64_t dm__hunt_rare_max(double share, uint64_t internal_hosts)
{
    double m = floor(share * (double)internal_hosts + 1e-9);
    return m < 1 ? 1 : (uint64_t)m;
}
