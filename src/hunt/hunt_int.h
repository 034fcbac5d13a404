/* Internals of the hunt module shared between its files and the unit tests: the pure
 * statistics (stats.c, beacon.c) and the aggregation shapes (detect.c). Nothing here
 * allocates except where stated; arrays are caller-owned. */
#ifndef DM_HUNT_INT_H
#define DM_HUNT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dm_hunt.h"

/* ---- stats.c ---- */

/* Median of v[0..n) (mean of the two middle values when n is even); reorders v.
 * 0 when n == 0. */
double dm__hunt_median(double *v, size_t n);
/* Median absolute deviation of v around med; overwrites v with |v - med|. */
double dm__hunt_mad(double *v, size_t n, double med);
/* Robust z = (x - med) / (1.4826 * mad); with mad == 0 falls back to the mean absolute
 * deviation (x - med) / (1.2533 * meanad); 0 when both are 0 and x == med, else ±99. */
double dm__hunt_robust_z(double x, double med, double mad, double meanad);
/* Quantile q in [0,1] of sorted v (linear interpolation between order statistics,
 * Hyndman & Fan type 7). */
double dm__hunt_quantile(const double *sorted, size_t n, double q);
/* Bowley skewness (Q1 + Q3 - 2 Q2) / (Q3 - Q1) of sorted v; 0 when Q3 - Q1 < 10 or the
 * median equals a quartile (RITA's rule). */
double dm__hunt_bowley(const double *sorted, size_t n);
/* RITA's dispersion score (median - MAD) / median clamped to [0,1]; 1 when median < 1.
 * scratch has room for n doubles. */
double dm__hunt_madm_score(const double *sorted, size_t n, double *scratch);
/* Producer/consumer ratio (out - in) / (out + in) in [-1, 1]; 0 when both are 0. */
double dm__hunt_pcr(uint64_t out, uint64_t in);
/* Sorts v ascending (finite values; no allocation, O(n log n) worst case). */
void dm__hunt_sort_d(double *v, size_t n);
/* ln(1 + x). */
double dm__hunt_logb(uint64_t x);

/* Business hours. A time is in business hours when its local weekday is in days and its
 * local minute of day is in [start_min, end_min). Local = UTC + tz_min, or, when tz is set,
 * UTC + the zone's offset at that time (daylight saving time). */
struct dm__hunt_bh {
    int start_min, end_min;
    uint8_t days; /* bit 0 = Sunday */
    int tz_min;
    const struct dm_tz *tz; /* borrowed, nullable */
};
/* Business hours (in hours) within [a, b] µs UTC. */
double dm__hunt_bh_hours(const struct dm__hunt_bh *bh, int64_t a, int64_t b);
/* 1 when ts (µs UTC) is inside business hours. */
int dm__hunt_bh_inside(const struct dm__hunt_bh *bh, int64_t ts_us);
/* The off-hours period containing ts (which must be outside business hours): its start and
 * end in µs UTC (the end of the previous business day and the start of the next one;
 * INT64_MIN / INT64_MAX when there is none within 8 days). The start identifies the period. */
void dm__hunt_bh_period(const struct dm__hunt_bh *bh, int64_t ts_us, int64_t *start,
                        int64_t *end);

/* Strobe rate: connections per day over the window [first, last] µs, taken as at least one
 * hour long. */
double dm__hunt_rate_per_day(uint64_t n, int64_t first_us, int64_t last_us);
/* Share of internal hosts that contacted a peer; 0 when there are no hosts. */
double dm__hunt_prevalence(uint64_t hosts_contacting, uint64_t internal_hosts);
/* Largest integer count of hosts that still counts as rare: floor(share * hosts), at least 1. */
uint64_t dm__hunt_rare_max(double share, uint64_t internal_hosts);

/* ---- beacon.c ---- */

struct dm__hunt_beacon {
    double ts_skew, ts_madm, ts_score;     /* timestamp gaps */
    double ds_skew, ds_madm, ds_score;     /* bytes per flow */
    double hist_cv, hist_bimodal, hist_score;
    double dur_coverage, dur_run, dur_score;
    double score;     /* mean of the four subscores */
    double gap_median; /* seconds */
    double bytes_median;
};

#define DM_HUNT_BEACON_BINS 24
/* Least timestamp subscore of a reported beacon. */
#define DM_HUNT_BEACON_MIN_TS 0.6

/* RITA's beacon score of one pair: ts_s[0..n) start times in seconds (ascending), bytes
 * per flow bytes[0..n), the data set's span [span_start, span_end] seconds. scratch has
 * room for 2 n doubles. n must be >= 2. The prevalence modifier is not applied here. */
void dm__hunt_beacon_score(const double *ts_s, const double *bytes, size_t n,
                           double span_start, double span_end, double *scratch,
                           struct dm__hunt_beacon *out);
/* Histogram subscore of 24 bin counts: max(1 - CV (0 when CV > 1), bimodality when at
 * least 11 bins are non-empty). cv and bimodal receive the parts. */
double dm__hunt_beacon_hist(const uint32_t counts[DM_HUNT_BEACON_BINS], double *cv,
                            double *bimodal);
/* Duration subscore: with at least 6 non-empty bins, max(coverage, longest circular run of
 * non-empty bins / 12) capped at 1; else 0. */
double dm__hunt_beacon_duration(const uint32_t counts[DM_HUNT_BEACON_BINS], double coverage,
                                double *run_part);

#endif
