/* Time histogram: flows, sent, recv and egress per bucket. */
#include <string.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

#define MIN_US 60000000LL

static const struct {
    const char *name;
    int64_t us;
} buckets[] = {{"1m", MIN_US},       {"5m", 5 * MIN_US},   {"15m", 15 * MIN_US},
               {"1h", 60 * MIN_US},  {"6h", 360 * MIN_US}, {"1d", 1440 * MIN_US}};

int dm_bucket_parse(const char *s, int64_t *us)
{
    if (!strcmp(s, "auto")) {
        *us = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
        if (!strcmp(s, buckets[i].name)) {
            *us = buckets[i].us;
            return 0;
        }
    return -EINVAL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct hist_ctx {
    const struct dm_table *t;
    int64_t bucket, first; /* first = index of bucket 0 */
    size_t nb;
    struct dm_hist_bucket **parts;
};

static void hist_fn(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct hist_ctx *c = p;
    const struct dm_table *t = c->t;
    const int64_t *ts = dm_table_ts(t);
    const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
    const uint8_t *fl = t->ips.flags;
    const struct dm_column *cs = &t->cols[DM_C_SENT], *cr = &t->cols[DM_C_RECV];
    struct dm_hist_bucket *b = c->parts[slot];
    /* rows are in ts order: the bucket index only grows within a morsel */
    size_t i = 0;
    if (cs->width == 4 && !cs->valid && cr->width == 4 && !cr->valid) {
        /* the common layout, without a width switch per value; egress branch-free */
        const uint32_t *vs = cs->v, *vr = cr->v;
        int contiguous = sel[n - 1] - sel[0] == n - 1; /* no filter: skip reading every ts */
        while (i < n) {
            int64_t bi = floor_div(ts[sel[i]], c->bucket) - c->first;
            int64_t end = (bi + c->first + 1) * c->bucket;
            uint64_t flows = 0, sent = 0, recv = 0, egress = 0;
            size_t stop = n;
            if (contiguous) { /* first row of the morsel at or past `end` */
                size_t lo = i, hi = n;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (ts[sel[0] + mid] < end)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                stop = lo;
            }
            if (contiguous) { /* rows sel[0] + [i, stop): no selection vector to read */
                size_t r0 = sel[0] + i, r1 = sel[0] + stop;
                flows = stop - i;
                for (size_t r = r0; r < r1; r++) {
                    uint64_t sv = vs[r], rv = vr[r];
                    unsigned si = fl[src[r]] & DM_IPF_INTERNAL, di = fl[dst[r]] & DM_IPF_INTERNAL;
                    sent += sv;
                    recv += rv;
                    egress += (si & ~di ? sv : 0) + (~si & di ? rv : 0);
                }
                i = stop;
            }
            for (; i < stop && (contiguous || ts[sel[i]] < end); i++) {
                size_t r = sel[i];
                uint64_t sv = vs[r], rv = vr[r];
                unsigned si = fl[src[r]] & DM_IPF_INTERNAL, di = fl[dst[r]] & DM_IPF_INTERNAL;
                flows++;
                sent += sv;
                recv += rv;
                egress += (si & ~di ? sv : 0) + (~si & di ? rv : 0);
            }
            b[bi].flows += flows;
            b[bi].sent += sent;
            b[bi].recv += recv;
            b[bi].egress += egress;
        }
        return;
    }
    while (i < n) {
        int64_t bi = floor_div(ts[sel[i]], c->bucket) - c->first;
        int64_t end = (bi + c->first + 1) * c->bucket;
        struct dm_hist_bucket *h = &b[bi];
        for (; i < n && ts[sel[i]] < end; i++) {
            size_t r = sel[i];
            uint64_t s = dm_col_present(cs, r) ? dm_col_u64(cs, r) : 0;
            uint64_t v = dm_col_present(cr, r) ? dm_col_u64(cr, r) : 0;
            int si = fl[src[r]] & DM_IPF_INTERNAL, di = fl[dst[r]] & DM_IPF_INTERNAL;
            h->flows++;
            h->sent += s;
            h->recv += v;
            if (si && !di)
                h->egress += s;
            else if (!si && di)
                h->egress += v;
        }
    }
}

/* First and last matching rows of [begin, end): morsels from each end until a match.
 * Returns 1 (found), 0 (no match) or -ENOMEM. */
static int match_bounds(const struct dm_filter *f, size_t begin, size_t end, size_t *first,
                        size_t *last)
{
    if (!f || dm_filter_is_range_only(f)) {
        *first = begin;
        *last = end - 1;
        return 1;
    }
    uint32_t *sel = dm_malloc(DM_MORSEL * sizeof(*sel));
    void *scratch = dm_malloc(dm_filter_scratch_size(f));
    int found = 0;
    if (!sel || !scratch) {
        dm_free(sel);
        dm_free(scratch);
        return -ENOMEM;
    }
    size_t nm = (end - begin + DM_MORSEL - 1) / DM_MORSEL;
    for (size_t m = 0; m < nm && !found; m++) {
        size_t b = begin + m * DM_MORSEL, n = end - b < DM_MORSEL ? end - b : DM_MORSEL;
        size_t k = dm_filter_eval(f, b, n, sel, scratch);
        if (k)
            *first = sel[0], found = 1;
    }
    for (size_t m = nm; m-- > 0 && found == 1;) {
        size_t b = begin + m * DM_MORSEL, n = end - b < DM_MORSEL ? end - b : DM_MORSEL;
        size_t k = dm_filter_eval(f, b, n, sel, scratch);
        if (k)
            *last = sel[k - 1], found = 2;
    }
    dm_free(sel);
    dm_free(scratch);
    return found ? 1 : 0;
}

int dm_hist(const struct dm_table *t, const struct dm_hist_req *q, struct dm_hist_res *r,
            struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    size_t begin = 0, end = t->nrows;
    if (q->filter)
        dm_filter_rows(q->filter, &begin, &end);
    int64_t bucket = q->bucket_us;
    if (bucket < 0)
        return dm_error_set(err, -EINVAL, "bad bucket size");
    if (end <= begin) {
        r->bucket_us = bucket ? bucket : buckets[0].us;
        return 0;
    }
    const int64_t *ts = dm_table_ts(t);
    size_t first_row = begin, last_row = end - 1;
    int rc = match_bounds(q->filter, begin, end, &first_row, &last_row);
    if (rc < 0)
        return dm_error_set(err, rc, "out of memory computing the histogram");
    if (!rc) {
        r->bucket_us = bucket ? bucket : buckets[0].us;
        return 0;
    }
    int64_t lo = ts[first_row], hi = ts[last_row];
    if (!bucket) {
        size_t nb = sizeof(buckets) / sizeof(buckets[0]);
        bucket = buckets[nb - 1].us;
        for (size_t i = 0; i < nb; i++)
            if (floor_div(hi, buckets[i].us) - floor_div(lo, buckets[i].us) + 1 <= 300) {
                bucket = buckets[i].us;
                break;
            }
    }
    r->bucket_us = bucket;
    int64_t first = floor_div(lo, bucket), last = floor_div(hi, bucket);
    if (last - first + 1 > DM_HIST_MAX_BUCKETS)
        return dm_error_set(err, DM_ETOOBIG,
                            "%lld buckets exceed the limit of %d: use a larger bucket or a "
                            "time filter",
                            (long long)(last - first + 1), DM_HIST_MAX_BUCKETS);
    size_t nb = (size_t)(last - first + 1);
    unsigned slots = dm_scan_slots(t);
    struct hist_ctx c = {t, bucket, first, nb, dm_calloc(slots, sizeof(*c.parts))};
    rc = c.parts ? 0 : -ENOMEM;
    for (unsigned s = 0; !rc && s < slots; s++)
        if (!(c.parts[s] = dm_calloc(nb, sizeof(struct dm_hist_bucket))))
            rc = -ENOMEM;
    if (!rc)
        rc = dm_scan(t, q->filter, hist_fn, &c);
    if (!rc) {
        struct dm_hist_bucket *a = c.parts[0];
        for (unsigned s = 1; s < slots; s++)
            for (size_t i = 0; i < nb; i++) {
                a[i].flows += c.parts[s][i].flows;
                a[i].sent += c.parts[s][i].sent;
                a[i].recv += c.parts[s][i].recv;
                a[i].egress += c.parts[s][i].egress;
            }
        size_t f = 0, l = nb;
        while (f < nb && !a[f].flows)
            f++;
        while (l > f && !a[l - 1].flows)
            l--;
        r->n = l - f;
        r->v = dm_malloc((r->n ? r->n : 1) * sizeof(*r->v));
        if (!r->v)
            rc = -ENOMEM;
        for (size_t i = 0; !rc && i < r->n; i++) {
            r->v[i] = a[f + i];
            r->v[i].ts = (first + (int64_t)(f + i)) * bucket;
        }
        if (rc)
            r->n = 0;
    }
    for (unsigned s = 0; c.parts && s < slots; s++)
        dm_free(c.parts[s]);
    dm_free(c.parts);
    return rc ? dm_error_set(err, rc, "out of memory computing the histogram") : 0;
}

void dm_hist_res_release(struct dm_hist_res *r)
{
    dm_free(r->v);
    memset(r, 0, sizeof(*r));
}
