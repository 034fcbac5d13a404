/* RITA-style beacon scoring (activecm/rita analysis, described in
 * docs/hunt.md): four subscores in [0,1] — timestamp gaps, bytes per flow, a 24-bin
 * histogram of connection times, and how long the pair kept it up — averaged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hunt_int.h"
#include "banned.h"


double dm__hunt_beacon_hist(const uint32_t c[DM_HUNT_BEACON_BINS], double *cv_out,
                            double *bimodal_out)
{
    const int nb = DM_HUNT_BEACON_BINS;
    double sum = 0, maxc = 0;
    int nonzero = 0;
    for (int i = 0; i < nb; i++) {
        sum += c[i];
        if (c[i] > maxc)
            maxc = c[i];
        nonzero += c[i] > 0;
    }
    double mean = sum / nb, var = 0;
    for (int i = 0; i < nb; i++)
        var += (c[i] - mean) * (c[i] - mean);
    double cv = mean > 0 ? sqrt(var / nb) / mean : 1e9;
    double cv_score = cv > 1 ? 0 : 1 - cv;
    double bimodal = 0;
    if (nonzero >= 11) {
        /* bucket the bin heights with width ceil(5 % of the max height); the share of bins
         * in the two most common buckets, one outlier bin forgiven */
        uint32_t width = (uint32_t)ceil(0.05 * maxc);
        if (width < 1)
            width = 1;
        uint32_t bucket_count[DM_HUNT_BEACON_BINS + 1] = {0};
        uint32_t keys[DM_HUNT_BEACON_BINS + 1];
        int nkeys = 0;
        for (int i = 0; i < nb; i++) {
            uint32_t k = c[i] / width;
            int j = 0;
            while (j < nkeys && keys[j] != k)
                j++;
            if (j == nkeys)
                keys[nkeys++] = k;
            bucket_count[j]++;
        }
        uint32_t top1 = 0, top2 = 0;
        for (int j = 0; j < nkeys; j++) {
            if (bucket_count[j] > top1) {
                top2 = top1;
                top1 = bucket_count[j];
            } else if (bucket_count[j] > top2) {
                top2 = bucket_count[j];
            }
        }
        bimodal = (double)(top1 + top2) / (double)(nb - 1);
        if (bimodal > 1)
            bimodal = 1;
    }
    *cv_out = cv > 1e8 ? 0 : cv;
    *bimodal_out = bimodal;
    return cv_score > bimodal ? cv_score : bimodal;
}

double dm__hunt_beacon_duration(const uint32_t c[DM_HUNT_BEACON_BINS], double coverage,
                                double *run_part)
{
    const int nb = DM_HUNT_BEACON_BINS;
    int nonzero = 0;
    for (int i = 0; i < nb; i++)
        nonzero += c[i] > 0;
    *run_part = 0;
    if (nonzero < 6)
        return 0;
    int best = 0;
    if (nonzero == nb) {
        best = nb;
    } else {
        /* walk twice around the circle so runs that wrap are counted whole */
        int run = 0;
        for (int i = 0; i < 2 * nb; i++) {
            if (c[i % nb]) {
                run++;
                if (run > best)
                    best = run;
            } else {
                run = 0;
            }
        }
        if (best > nb)
            best = nb;
    }
    double rp = best / 12.0;
    if (rp > 1)
        rp = 1;
    *run_part = rp;
    double cov = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage;
    return cov > rp ? cov : rp;
}

void dm__hunt_beacon_score(const double *ts_s, const double *bytes, size_t n, double span_start,
                           double span_end, double *scratch, struct dm__hunt_beacon *o)
{
    memset(o, 0, sizeof(*o));
    double *a = scratch, *b = scratch + n;
    /* timestamps: the n-1 gaps */
    size_t ng = n - 1;
    for (size_t i = 0; i < ng; i++)
        a[i] = ts_s[i + 1] - ts_s[i];
    dm__hunt_sort_d(a, ng);
    o->gap_median = dm__hunt_quantile(a, ng, 0.5);
    o->ts_skew = dm__hunt_bowley(a, ng);
    o->ts_madm = dm__hunt_madm_score(a, ng, b);
    o->ts_score = ((1 - fabs(o->ts_skew)) + o->ts_madm) / 2;
    /* data size */
    memcpy(a, bytes, n * sizeof(*a));
    dm__hunt_sort_d(a, n);
    o->bytes_median = dm__hunt_quantile(a, n, 0.5);
    o->ds_skew = dm__hunt_bowley(a, n);
    o->ds_madm = dm__hunt_madm_score(a, n, b);
    o->ds_score = ((1 - fabs(o->ds_skew)) + o->ds_madm) / 2;
    /* histogram over the data set's span */
    uint32_t counts[DM_HUNT_BEACON_BINS] = {0};
    double span = span_end - span_start;
    for (size_t i = 0; i < n; i++) {
        int bin = 0;
        if (span > 0) {
            double x = (ts_s[i] - span_start) * DM_HUNT_BEACON_BINS / span;
            bin = x < 0 ? 0 : x >= DM_HUNT_BEACON_BINS ? DM_HUNT_BEACON_BINS - 1 : (int)x;
        }
        counts[bin]++;
    }
    o->hist_score = dm__hunt_beacon_hist(counts, &o->hist_cv, &o->hist_bimodal);
    o->dur_coverage = span > 0 ? (ts_s[n - 1] - ts_s[0]) / span : 0;
    o->dur_score = dm__hunt_beacon_duration(counts, o->dur_coverage, &o->dur_run);
    o->score = (o->ts_score + o->ds_score + o->hist_score + o->dur_score) / 4;
}
