/* The nine detections, run host by host inside one partition (see detect_int.h). Each
 * detection decides whether it fires and with which evidence; fill_totals() then counts
 * the flows, bytes and time window of exactly the flow set the finding's filter selects, so
 * the numbers a user reads are the numbers `query --where FILTER` gives back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "dm_alloc.h"
#include "dm_hash.h"
#include "banned.h"

#define US_PER_S 1000000.0
#define US_PER_H INT64_C(3600000000)

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double log2_ratio(double a, double b)
{
    if (a <= 0 || b <= 0)
        return 0;
    return log2(a / b);
}

static int scratch_d(struct dm__hunt_part *p, size_t n)
{
    if (n <= p->cap_dscratch)
        return 0;
    size_t nc = n < 1024 ? 1024 : n + n / 2;
    double *d = dm_reallocarray(p->dscratch, nc, sizeof(*d));
    if (!d)
        return -ENOMEM;
    p->dscratch = d;
    p->cap_dscratch = nc;
    return 0;
}

static int scratch_2(struct dm__hunt_part *p, size_t bytes)
{
    if (bytes <= p->cap_scratch2)
        return 0;
    size_t nc = bytes < 65536 ? 65536 : bytes + bytes / 2;
    void *d = dm_realloc(p->scratch2, nc);
    if (!d)
        return -ENOMEM;
    p->scratch2 = d;
    p->cap_scratch2 = nc;
    return 0;
}

static int emit(struct dm__hunt_part *p, const struct dm_hunt_finding *fd)
{
    if (p->nfindings == p->cap_findings) {
        size_t nc = p->cap_findings ? p->cap_findings * 2 : 64;
        struct dm_hunt_finding *v = dm_reallocarray(p->findings, nc, sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->findings = v;
        p->cap_findings = nc;
    }
    p->findings[p->nfindings++] = *fd;
    return 0;
}

static const struct dm__hunt_pair *pair_at(const struct dm__hunt_part *p,
                                           const struct dm__hunt_hostagg *h, uint32_t i)
{
    return &p->pairs[p->order[h->pair0 + i]];
}

/* Peers ranked by a per-pair value (desc, then peer id for determinism). */
struct ranked {
    uint32_t peer;
    uint64_t v;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->peer > y->peer) - (x->peer < y->peer);
}

static void set_peers(struct dm_hunt_finding *fd, struct ranked *rk, size_t n)
{
    qsort(rk, n, sizeof(*rk), cmp_ranked);
    fd->npeers = 0;
    for (size_t i = 0; i < n && fd->npeers < 8; i++)
        fd->peers[fd->npeers++] = rk[i].peer;
    fd->peers_total = (uint32_t)n;
}

static int flow_selected(const struct dm__hunt_ctx *x, const struct dm__hunt_part *p,
                         const struct dm_hunt_finding *fd, size_t q)
{
    const struct dm_hunt_flows *f = x->f;
    if (fd->outbound_only && !(p->g.fl[q] & DM__HUNT_G_INIT))
        return 0;
    if (fd->time_only && (p->g.ts[q] < fd->start || p->g.ts[q] > fd->end))
        return 0;
    if (fd->port_only && (!f->dport.width || p->g.port[q] != fd->port))
        return 0;
    if (fd->proto_only && (!f->proto.width || p->g.proto[q] != fd->proto))
        return 0;
    return 1;
}

/* Counts the flows the finding's filter selects: flows, bytes out/in, [start, end]. The
 * peers list is complete for listed findings (npeers == peers_total). */
static void fill_totals(const struct dm__hunt_ctx *x, const struct dm__hunt_part *p,
                        const struct dm__hunt_hostagg *h, struct dm_hunt_finding *fd)
{
    uint64_t flows = 0, out = 0, in = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (!fd->all_peers) {
            uint32_t k = 0;
            while (k < fd->npeers && fd->peers[k] != pr->peer)
                k++;
            if (k == fd->npeers)
                continue;
        }
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            if (!flow_selected(x, p, fd, q))
                continue;
            out += p->g.out[q];
            in += p->g.in[q];
            flows++;
            if (p->g.ts[q] < first)
                first = p->g.ts[q];
            if (p->g.ts[q] > last)
                last = p->g.ts[q];
        }
    }
    fd->flows = flows;
    fd->bytes_out = out;
    fd->bytes_in = in;
    if (flows && !fd->time_only) {
        fd->start = first;
        fd->end = last;
    }
}

static int finish(const struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                  const struct dm__hunt_hostagg *h, struct dm_hunt_finding *fd)
{
    fill_totals(x, p, h, fd);
    if (fd->flows == 0)
        return 0;
    fd->score = clampd(fd->score, 0, 100);
    return emit(p, fd);
}

static void finding_init(struct dm_hunt_finding *fd, int kind, uint32_t host)
{
    memset(fd, 0, sizeof(*fd));
    fd->kind = kind;
    fd->host = host;
}

/* ---- per-host time buckets: hours for volume bursts, days for PCR shifts ---- */
#define HOUR_US INT64_C(3600000000)
#define DAY_US INT64_C(86400000000)
#define BUCKET_EMPTY INT64_MIN
#define BURST_MIN_HOURS 24 /* active hours needed for a host's own hourly baseline */
#define SHIFT_MIN_DAYS 3   /* days with traffic needed for a host's own daily PCR baseline */

struct bucket {
    int64_t key; /* floor(ts / width); BUCKET_EMPTY = free slot */
    uint64_t out, in;
};

static int64_t floor_div64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Outbound / inbound bytes of the host's flows (only those it opened when init_only) per
 * bucket of `width` µs, in an open-addressing table in p->scratch2 of *cap slots. Returns
 * the number of buckets, or -ENOMEM. */
static int64_t bucket_sums(struct dm__hunt_part *p, const struct dm__hunt_hostagg *h,
                           int64_t width, int init_only, size_t *cap_out)
{
    size_t cap = 16;
    while (cap < 2 * h->flows)
        cap *= 2;
    if (scratch_2(p, cap * sizeof(struct bucket)))
        return -ENOMEM;
    struct bucket *tab = p->scratch2;
    for (size_t i = 0; i < cap; i++)
        tab[i].key = BUCKET_EMPTY;
    int64_t nb = 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        struct bucket *cur = NULL; /* flows of a pair are in ts order: mostly the same bucket */
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            if (init_only && !(p->g.fl[q] & DM__HUNT_G_INIT))
                continue;
            int64_t key = floor_div64(p->g.ts[q], width);
            if (!cur || cur->key != key) {
                size_t k = dm_hash_u64((uint64_t)key) & (cap - 1);
                while (tab[k].key != BUCKET_EMPTY && tab[k].key != key)
                    k = (k + 1) & (cap - 1);
                if (tab[k].key == BUCKET_EMPTY) {
                    tab[k] = (struct bucket){key, 0, 0};
                    nb++;
                }
                cur = &tab[k];
            }
            cur->out += p->g.out[q];
            cur->in += p->g.in[q];
        }
    }
    *cap_out = cap;
    return nb;
}

/* The host's flows (opened by it when init_only) with ts in [a, b): bytes out per peer into
 * rk (returns how many peers), first and last ts. */
static size_t window_peers(const struct dm__hunt_part *p, const struct dm__hunt_hostagg *h,
                           int64_t a, int64_t b, int init_only, struct ranked *rk,
                           int64_t *first, int64_t *last)
{
    size_t n = 0;
    *first = INT64_MAX;
    *last = INT64_MIN;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        uint64_t sum = 0;
        int any = 0;
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            int64_t ts = p->g.ts[q];
            if (ts < a || ts >= b || (init_only && !(p->g.fl[q] & DM__HUNT_G_INIT)))
                continue;
            any = 1;
            sum += p->g.out[q];
            if (ts < *first)
                *first = ts;
            if (ts > *last)
                *last = ts;
        }
        if (any) {
            rk[n].peer = pr->peer;
            rk[n++].v = sum;
        }
    }
    return n;
}

/* Burst: the host's heaviest hour against its own hourly baseline (robust z of ln(1 + bytes)
 * over the hours it sent anything), for hosts the population comparison let pass. */
static int detect_burst(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                        const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    int server = x->ip_server[h->host] != 0;
    if ((server ? h->out_init : h->out) < c->min_bytes)
        return 0;
    size_t cap;
    int64_t nb = bucket_sums(p, h, HOUR_US, server, &cap);
    if (nb < 0)
        return (int)nb;
    if (nb < BURST_MIN_HOURS || scratch_d(p, (size_t)nb))
        return nb < BURST_MIN_HOURS ? 0 : -ENOMEM;
    const struct bucket *tab = p->scratch2, *top = NULL;
    size_t m = 0;
    for (size_t i = 0; i < cap; i++) {
        const struct bucket *b = &tab[i];
        if (b->key == BUCKET_EMPTY || !b->out)
            continue;
        p->dscratch[m++] = dm__hunt_logb(b->out);
        if (!top || b->out > top->out || (b->out == top->out && b->key < top->key))
            top = b;
    }
    if (m < BURST_MIN_HOURS || top->out < c->min_bytes)
        return 0;
    int64_t hour = top->key;
    uint64_t hour_out = top->out;
    double med = dm__hunt_median(p->dscratch, m);
    double meanad = 0;
    for (size_t i = 0; i < m; i++)
        meanad += fabs(p->dscratch[i] - med);
    meanad /= (double)m;
    double mad = dm__hunt_mad(p->dscratch, m, med);
    double z = dm__hunt_robust_z(dm__hunt_logb(hour_out), med, mad, meanad);
    if (z < c->z_threshold)
        return 0;
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_VOLUME, h->host);
    int64_t first, last;
    size_t n = window_peers(p, h, hour * HOUR_US, (hour + 1) * HOUR_US, server, rk, &first, &last);
    set_peers(&fd, rk, n);
    fd.all_peers = 1;
    fd.time_only = 1;
    fd.outbound_only = (uint8_t)server;
    fd.start = first;
    fd.end = last;
    fd.score = clampd(50 + 8 * (z - c->z_threshold) + 4 * log2_ratio((double)hour_out,
                                                                     (double)c->min_bytes),
                      0, 95);
    fd.ev[0] = z;
    fd.ev[3] = expm1(x->host_med);
    fd.ev[4] = expm1(x->pair_med);
    fd.ev[5] = (double)h->out_init;
    fd.ev[6] = (double)x->internal_hosts;
    fd.ev[7] = z;
    fd.ev[8] = (double)hour_out;
    fd.ev[9] = expm1(med);
    fd.ev[10] = (double)m;
    return finish(x, p, h, &fd);
}

/* PCR shift: a day on which the host's producer/consumer ratio (connections it opened)
 * jumped towards +1 from its own daily median, with material volume that day. */
static int detect_pcr_shift(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                            const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    if (h->out_init < c->min_bytes)
        return 0;
    size_t cap;
    int64_t nb = bucket_sums(p, h, DAY_US, 1, &cap);
    if (nb < 0)
        return (int)nb;
    if (nb < SHIFT_MIN_DAYS || scratch_d(p, (size_t)nb))
        return nb < SHIFT_MIN_DAYS ? 0 : -ENOMEM;
    const struct bucket *tab = p->scratch2, *top = NULL;
    double top_pcr = -2;
    size_t m = 0;
    for (size_t i = 0; i < cap; i++) {
        const struct bucket *b = &tab[i];
        if (b->key == BUCKET_EMPTY || (!b->out && !b->in))
            continue;
        double v = dm__hunt_pcr(b->out, b->in);
        p->dscratch[m++] = v;
        if (b->out >= c->min_bytes &&
            (!top || v > top_pcr || (v == top_pcr && b->key < top->key))) {
            top = b;
            top_pcr = v;
        }
    }
    if (m < SHIFT_MIN_DAYS || !top || top_pcr < c->pcr_threshold)
        return 0;
    double base = dm__hunt_median(p->dscratch, m);
    if (top_pcr - base < c->pcr_shift)
        return 0;
    int64_t day = top->key;
    uint64_t day_out = top->out, day_in = top->in;
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_PCR, h->host);
    int64_t first, last;
    size_t n = window_peers(p, h, day * DAY_US, (day + 1) * DAY_US, 1, rk, &first, &last);
    set_peers(&fd, rk, n);
    fd.all_peers = 1;
    fd.outbound_only = 1;
    fd.time_only = 1;
    fd.start = first;
    fd.end = last;
    double span = c->pcr_threshold < 1 ? 1 - c->pcr_threshold : 1;
    fd.score = clampd(40 + 30 * (top_pcr - c->pcr_threshold) / span +
                          20 * (top_pcr - base - c->pcr_shift) +
                          3 * log2_ratio((double)day_out, (double)c->min_bytes),
                      0, 85);
    fd.ev[0] = top_pcr;
    fd.ev[1] = (double)day_out;
    fd.ev[2] = (double)day_in;
    fd.ev[3] = c->pcr_threshold;
    fd.ev[4] = base;
    fd.ev[5] = top_pcr - base;
    fd.ev[6] = (double)m;
    return finish(x, p, h, &fd);
}

static int port_in(uint16_t port, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == port)
            return 1;
    return 0;
}

static const uint16_t db_ports[] = {1433, 1521, 3306, 5432, 27017, 6379, 9042, 5984, 9200, 9300,
                                    11211, 50000};
static const uint16_t mail_in_ports[] = {25, 465, 587, 110, 995, 143, 993, 80, 443};
static const uint16_t mail_out_ports[] = {25, 465, 587};
static const uint16_t server_out_ports[] = {80, 443};

/* 1 when every connection the host opened to this peer is routine work: a known mail
 * server sending mail (SMTP: 25, 465, 587), or DNS / NTP (53, 123) to an approved resolver.
 * Such pairs are left out of volume, pcr, rarity and beaconing (a DNS forwarder queries its
 * upstream resolvers every few seconds, as regular as any beacon); role_violation and
 * elephant still judge them. */
static int routine_pair(const struct dm__hunt_ctx *x, const struct dm__hunt_part *p,
                        const struct dm__hunt_hostagg *h, const struct dm__hunt_pair *pr)
{
    int mail = x->ip_server[h->host] == DM_HUNT_ROLE_MAIL, resolver = x->ip_resolver[pr->peer];
    if ((!mail && !resolver) || !x->f->dport.width || !pr->flows_init)
        return 0;
    for (uint32_t j = 0; j < pr->flows; j++) {
        size_t q = pr->off + j;
        if (!(p->g.fl[q] & DM__HUNT_G_INIT))
            continue;
        uint16_t port = p->g.port[q];
        if (!(mail && port_in(port, mail_out_ports, sizeof(mail_out_ports) / 2)) &&
            !(resolver && (port == 53 || port == 123)))
            return 0;
    }
    return 1;
}

/* The bytes the host sent on connections it opened, without a mail server's mail. */
static uint64_t out_init_own(const struct dm__hunt_ctx *x, const struct dm__hunt_part *p,
                             const struct dm__hunt_hostagg *h)
{
    if (x->ip_server[h->host] != DM_HUNT_ROLE_MAIL)
        return h->out_init;
    uint64_t v = h->out_init;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (routine_pair(x, p, h, pr))
            v -= pr->out_init < v ? pr->out_init : v;
    }
    return v;
}

/* ---- volume: robust z of ln(1 + bytes) against the population of hosts and pairs ---- */
static int detect_volume(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                         const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    uint64_t own = out_init_own(x, p, h);
    double hz = own ? dm__hunt_robust_z(dm__hunt_logb(own), x->host_med, x->host_mad,
                                        x->host_meanad)
                    : 0;
    size_t n = 0;
    double best_pz = 0;
    /* a known server's answers to its clients are its job (role_violation judges them):
     * only the connections it opened count for it */
    int server = x->ip_server[h->host] != 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        uint64_t out = server ? pr->out_init : pr->out;
        if (out < c->min_bytes || routine_pair(x, p, h, pr))
            continue;
        double pz = dm__hunt_robust_z(dm__hunt_logb(out), x->pair_med, x->pair_mad,
                                      x->pair_meanad);
        if (pz < c->z_threshold)
            continue;
        rk[n].peer = pr->peer;
        rk[n++].v = out;
        if (pz > best_pz)
            best_pz = pz;
    }
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_VOLUME, h->host);
    double z;
    uint64_t bytes;
    if (n) {
        set_peers(&fd, rk, n); /* the 8 largest when more */
        fd.outbound_only = (uint8_t)server;
        z = best_pz > hz ? best_pz : hz;
        bytes = 0;
        for (uint32_t i = 0; i < fd.npeers; i++)
            bytes += rk[i].v;
    } else if (hz >= c->z_threshold && own >= c->min_bytes) {
        size_t m = 0;
        for (uint32_t i = 0; i < h->npairs; i++) {
            const struct dm__hunt_pair *pr = pair_at(p, h, i);
            if (own != h->out_init && routine_pair(x, p, h, pr))
                continue;
            rk[m].peer = pr->peer;
            rk[m++].v = pr->out_init;
        }
        set_peers(&fd, rk, m);
        fd.all_peers = own == h->out_init;
        fd.outbound_only = 1;
        z = hz;
        bytes = own;
        if (!fd.all_peers) { /* the filter names the peers: count what it selects */
            bytes = 0;
            for (uint32_t i = 0; i < fd.npeers; i++)
                bytes += rk[i].v;
        }
    } else {
        return detect_burst(x, p, h, rk);
    }
    fd.score = clampd(50 + 8 * (z - c->z_threshold) + 4 * log2_ratio((double)bytes,
                                                                     (double)c->min_bytes),
                      0, 95);
    fd.ev[0] = z;
    fd.ev[1] = hz;
    fd.ev[2] = best_pz;
    fd.ev[3] = expm1(x->host_med);
    fd.ev[4] = expm1(x->pair_med);
    fd.ev[5] = (double)h->out_init;
    fd.ev[6] = (double)x->internal_hosts;
    return finish(x, p, h, &fd);
}

/* ---- pcr: producer/consumer ratio of the host's own connections ---- */
static int detect_pcr(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                      const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    if (h->out_init < c->min_bytes)
        return 0;
    uint64_t out = h->out_init, in = h->in_init;
    int mail = 0;
    if (x->ip_server[h->host] == DM_HUNT_ROLE_MAIL) { /* the ratio without the mail it sends */
        uint64_t own_out = 0, own_in = 0, routine_out = 0;
        for (uint32_t i = 0; i < h->npairs; i++) {
            const struct dm__hunt_pair *pr = pair_at(p, h, i);
            if (routine_pair(x, p, h, pr))
                routine_out += pr->out_init;
            else
                own_out += pr->out_init, own_in += pr->in_init;
        }
        mail = routine_out > 0;
        if (mail) {
            out = own_out, in = own_in;
            if (out < c->min_bytes)
                return 0;
        }
    }
    double pcr = dm__hunt_pcr(out, in);
    if (pcr < c->pcr_threshold)
        return mail ? 0 : detect_pcr_shift(x, p, h, rk);
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_PCR, h->host);
    size_t n = 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (pr->flows_init && !(mail && routine_pair(x, p, h, pr))) {
            rk[n].peer = pr->peer;
            rk[n++].v = pr->out_init;
        }
    }
    set_peers(&fd, rk, n);
    fd.all_peers = !mail;
    fd.outbound_only = 1;
    double span = c->pcr_threshold < 1 ? 1 - c->pcr_threshold : 1;
    fd.score = clampd(40 + 30 * (pcr - c->pcr_threshold) / span +
                          3 * log2_ratio((double)out, (double)c->min_bytes),
                      0, 80);
    fd.ev[0] = pcr;
    fd.ev[1] = (double)out;
    fd.ev[2] = (double)in;
    fd.ev[3] = c->pcr_threshold;
    return finish(x, p, h, &fd);
}

/* ---- off_hours: the heaviest off-hours period against the in-hours rate ---- */
/* Off-hours bytes per period, in an open-addressing table keyed by the period's start
 * (INT64_MAX = empty slot; a period start is never INT64_MAX). */
struct offslot {
    int64_t ps, pe;
    uint64_t out;
};

static int detect_off_hours(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                            const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    if (h->out < c->min_bytes)
        return 0;
    uint64_t in_out = 0;
    size_t cap = 16;
    while (cap < 2 * h->flows)
        cap *= 2;
    if (scratch_2(p, cap * sizeof(struct offslot)))
        return -ENOMEM;
    struct offslot *tab = p->scratch2;
    for (size_t i = 0; i < cap; i++)
        tab[i].ps = INT64_MAX;
    size_t nper = 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        struct offslot *cur = NULL; /* the period of the previous flow (flows are in ts order) */
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            uint64_t out = p->g.out[q];
            if (!out)
                continue;
            int64_t ts = p->g.ts[q];
            if (cur && ts >= cur->ps && ts < cur->pe) {
                cur->out += out;
                continue;
            }
            if (dm__hunt_bh_inside(&x->bh, ts)) {
                in_out += out;
                continue;
            }
            int64_t ps, pe;
            dm__hunt_bh_period(&x->bh, ts, &ps, &pe);
            size_t k = dm_hash_u64((uint64_t)ps) & (cap - 1);
            while (tab[k].ps != INT64_MAX && tab[k].ps != ps)
                k = (k + 1) & (cap - 1);
            if (tab[k].ps == INT64_MAX) {
                tab[k] = (struct offslot){ps, pe, 0};
                nper++;
            }
            cur = &tab[k];
            cur->out += out;
        }
    }
    if (!nper)
        return 0;
    /* the heaviest period; ties go to the earliest */
    const struct offslot *bp = NULL;
    for (size_t i = 0; i < cap; i++)
        if (tab[i].ps != INT64_MAX &&
            (!bp || tab[i].out > bp->out || (tab[i].out == bp->out && tab[i].ps < bp->ps)))
            bp = &tab[i];
    uint64_t best_out = bp->out;
    if (best_out < c->min_bytes)
        return 0;
    int64_t ps = bp->ps, pe = bp->pe;
    int64_t a = ps > x->data_start ? ps : x->data_start;
    int64_t b = pe < x->data_end ? pe : x->data_end;
    double hours = (double)(b - a) / 3.6e9;
    if (hours < 1)
        hours = 1;
    double rate_off = (double)best_out / hours;
    double rate_in = x->in_hours_total > 0 ? (double)in_out / x->in_hours_total : 0;
    double ratio = rate_in > 0 ? rate_off / rate_in : 1000;
    if (ratio > 1000)
        ratio = 1000;
    if (ratio < c->off_hours_ratio)
        return 0;
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_OFF_HOURS, h->host);
    /* the period's bytes per peer, and its first and last flow */
    size_t n = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        uint64_t sum = 0;
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            int64_t ts = p->g.ts[q];
            if (!p->g.out[q] || ts < ps || ts >= pe)
                continue;
            if (ts < first)
                first = ts;
            if (ts > last)
                last = ts;
            sum += p->g.out[q];
        }
        if (sum) {
            rk[n].peer = pr->peer;
            rk[n++].v = sum;
        }
    }
    set_peers(&fd, rk, n);
    fd.all_peers = 1;
    fd.time_only = 1;
    fd.start = first;
    fd.end = last;
    fd.score = clampd(50 + 8 * log2_ratio(ratio, c->off_hours_ratio) +
                          4 * log2_ratio((double)best_out, (double)c->min_bytes),
                      0, 97);
    fd.ev[0] = (double)best_out;
    fd.ev[1] = hours;
    fd.ev[2] = (double)in_out;
    fd.ev[3] = x->in_hours_total;
    fd.ev[4] = rate_off;
    fd.ev[5] = rate_in;
    fd.ev[6] = ratio;
    return finish(x, p, h, &fd);
}

/* ---- rare_destination: destinations few internal hosts talk to, receiving material
 * volume on connections the host opened ---- */
static int detect_rare(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                       const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    if (x->internal_hosts < 5 || h->out_init < c->min_bytes)
        return 0;
    size_t n = 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (pr->out_init < c->min_bytes || x->peer_hosts[pr->peer] > x->rare_max ||
            routine_pair(x, p, h, pr))
            continue;
        rk[n].peer = pr->peer;
        rk[n++].v = pr->out_init;
    }
    if (!n)
        return 0;
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_RARE_DESTINATION, h->host);
    uint32_t total = (uint32_t)n;
    set_peers(&fd, rk, n);
    fd.outbound_only = 1; /* destinations the host contacted, not clients it served */
    uint32_t top = fd.peers[0];
    double span = (double)(x->data_end - x->data_start);
    double late = span > 0 ? (double)(x->peer_first[top] - x->data_start) / span : 0;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < fd.npeers; i++)
        bytes += rk[i].v;
    fd.score = clampd(45 + 4 * log2_ratio((double)bytes, (double)c->min_bytes) + 10 * late, 0,
                      90);
    fd.ev[0] = x->peer_hosts[top];
    fd.ev[1] = (double)x->internal_hosts;
    fd.ev[2] = dm__hunt_prevalence(x->peer_hosts[top], x->internal_hosts);
    fd.ev[3] = (double)x->rare_max;
    fd.ev[4] = late;
    fd.ev[5] = total;
    return finish(x, p, h, &fd);
}

/* ---- beacon: RITA's score on the host's successful connections to one peer ---- */
static int detect_beacon(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                         const struct dm__hunt_hostagg *h)
{
    const struct dm_hunt_config *c = x->c;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (pr->flows_init < c->beacon_min_flows || pr->flows_init < 4 ||
            routine_pair(x, p, h, pr))
            continue;
        if (scratch_d(p, 4 * (size_t)pr->flows_init))
            return -ENOMEM;
        double *ts = p->dscratch, *by = ts + pr->flows_init, *scr = by + pr->flows_init;
        size_t n = 0;
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            if ((p->g.fl[q] & (DM__HUNT_G_INIT | DM__HUNT_G_FAILED)) != DM__HUNT_G_INIT)
                continue;
            uint64_t s = p->g.out[q], v = p->g.in[q];
            if (s + v == 0)
                continue;
            ts[n] = (double)p->g.ts[q] / US_PER_S;
            by[n++] = (double)s;
        }
        if (n < c->beacon_min_flows || n < 4)
            continue;
        struct dm__hunt_beacon b;
        dm__hunt_beacon_score(ts, by, n, (double)x->data_start / US_PER_S,
                              (double)x->data_end / US_PER_S, scr, &b);
        double prev = dm__hunt_prevalence(x->peer_hosts[pr->peer], x->internal_hosts);
        double s = b.score;
        if (x->peer_hosts[pr->peer] <= x->rare_max && x->internal_hosts >= 5)
            s += 0.15;
        else if (prev >= 0.5 && x->internal_hosts >= 5)
            s -= 0.15;
        s = clampd(s, 0, 1);
        /* regular timing is what makes a beacon: irregular gaps are never reported,
         * whatever the size, histogram and duration subscores say */
        if (s < c->beacon_min_score || b.ts_score < DM_HUNT_BEACON_MIN_TS)
            continue;
        struct dm_hunt_finding fd;
        finding_init(&fd, DM_HUNT_BEACON, h->host);
        fd.peers[0] = pr->peer;
        fd.npeers = fd.peers_total = 1;
        fd.outbound_only = 1;
        fd.score = 100 * s;
        fd.ev[0] = b.score;
        fd.ev[1] = b.ts_score;
        fd.ev[2] = b.ds_score;
        fd.ev[3] = b.hist_score;
        fd.ev[4] = b.dur_score;
        fd.ev[5] = b.ts_skew;
        fd.ev[6] = b.ts_madm;
        fd.ev[7] = b.ds_skew;
        fd.ev[8] = b.ds_madm;
        fd.ev[9] = b.gap_median;
        fd.ev[10] = b.bytes_median;
        fd.ev[11] = (double)n;
        fd.ev[12] = prev;
        int rc = finish(x, p, h, &fd);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- role_violation: servers sending data out, or on ports foreign to their role ---- */


/* 1 when a flow of a host with this role violates it. */
static int role_violates(const struct dm__hunt_ctx *x, int role, int initiated, uint16_t port,
                         uint32_t peer)
{
    const struct dm_hunt_flows *f = x->f;
    if (!f->dport.width)
        return role == DM_HUNT_ROLE_DB && initiated;
    if (initiated) {
        if ((port == 53 || port == 123) && x->ip_resolver[peer])
            return 0;
        switch (role) {
        case DM_HUNT_ROLE_DB: return 1;
        case DM_HUNT_ROLE_MAIL: return !port_in(port, mail_out_ports, 3);
        default: return !port_in(port, server_out_ports, 2) && port != 53 && port != 123;
        }
    }
    switch (role) {
    case DM_HUNT_ROLE_DB: return !port_in(port, db_ports, sizeof(db_ports) / 2);
    case DM_HUNT_ROLE_MAIL: return !port_in(port, mail_in_ports, sizeof(mail_in_ports) / 2);
    default: return 0;
    }
}

static int detect_role(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                       const struct dm__hunt_hostagg *h, struct ranked *rk)
{
    const struct dm_hunt_config *c = x->c;
    const struct dm_hunt_flows *f = x->f;
    int role = x->ip_server[h->host];
    if (!role || h->out < c->role_min_bytes)
        return 0;
    size_t n = 0;
    uint64_t vbytes = 0, vflows = 0, vinit = 0;
    uint32_t port_hist_port = 0;
    uint64_t port_hist_bytes = 0;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        uint64_t v = 0;
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            int si = p->g.fl[q] & DM__HUNT_G_INIT;
            if (!role_violates(x, role, si, p->g.port[q], pr->peer))
                continue;
            uint64_t out = p->g.out[q];
            v += out;
            vflows++;
            vinit += si;
            if (f->dport.width && out > port_hist_bytes) {
                port_hist_bytes = out;
                port_hist_port = p->g.port[q];
            }
        }
        if (v) {
            rk[n].peer = pr->peer;
            rk[n++].v = v;
            vbytes += v;
        }
    }
    if (vbytes < c->role_min_bytes)
        return 0;
    struct dm_hunt_finding fd;
    finding_init(&fd, DM_HUNT_ROLE_VIOLATION, h->host);
    set_peers(&fd, rk, n);
    if (n > 8)
        fd.all_peers = 1;
    fd.score = clampd(60 + 5 * log2_ratio((double)vbytes, (double)c->role_min_bytes) +
                          (role == DM_HUNT_ROLE_DB ? 10 : 0),
                      0, 98);
    fd.ev[0] = role;
    fd.ev[1] = (double)vbytes;
    fd.ev[2] = (double)vflows;
    fd.ev[3] = (double)vinit;
    fd.ev[4] = port_hist_port;
    return finish(x, p, h, &fd);
}

/* ---- tunnel: DNS / NTP / ICMP to a non-approved peer carrying data out ---- */
static int tunnel_class(const struct dm_hunt_flows *f, uint8_t pr, uint16_t port)
{
    if (pr == 1 || pr == 58)
        return pr == 1 ? 1 : 2; /* icmp, icmp6 */
    if (f->dport.width && (pr == 0 || pr == 6 || pr == 17)) {
        if (port == 53)
            return 3;
        if (port == 123)
            return 4;
    }
    return 0;
}

static int detect_tunnel(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                         const struct dm__hunt_hostagg *h)
{
    const struct dm_hunt_config *c = x->c;
    const struct dm_hunt_flows *f = x->f;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (x->ip_resolver[pr->peer] || pr->out_init < c->tunnel_min_bytes)
            continue;
        uint64_t out[5] = {0}, in[5] = {0}, fl[5] = {0};
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            if (!(p->g.fl[q] & DM__HUNT_G_INIT))
                continue;
            int k = tunnel_class(f, p->g.proto[q], p->g.port[q]);
            if (!k)
                continue;
            out[k] += p->g.out[q];
            in[k] += p->g.in[q];
            fl[k]++;
        }
        int k = 1;
        for (int j = 2; j < 5; j++)
            if (out[j] > out[k])
                k = j;
        if (out[k] < c->tunnel_min_bytes)
            continue;
        double ratio = (double)out[k] / (double)(in[k] ? in[k] : 1);
        if (ratio < c->tunnel_ratio && out[k] < 10 * c->tunnel_min_bytes)
            continue;
        struct dm_hunt_finding fd;
        finding_init(&fd, DM_HUNT_TUNNEL, h->host);
        fd.peers[0] = pr->peer;
        fd.npeers = fd.peers_total = 1;
        fd.outbound_only = 1;
        if (k <= 2) {
            fd.proto_only = 1;
            fd.proto = k == 1 ? 1 : 58;
        } else {
            fd.port_only = 1;
            fd.port = k == 3 ? 53 : 123;
        }
        fd.score = clampd(55 + 8 * log2_ratio((double)out[k], (double)c->tunnel_min_bytes) +
                              (ratio >= c->tunnel_ratio ? 10 : 0),
                          0, 97);
        fd.ev[0] = k <= 2 ? 0 : fd.port;
        fd.ev[1] = k <= 2 ? fd.proto : (f->proto.width ? 17 : 0);
        fd.ev[2] = (double)out[k];
        fd.ev[3] = (double)in[k];
        fd.ev[4] = ratio;
        fd.ev[5] = (double)fl[k];
        fd.ev[6] = fl[k] ? (double)out[k] / (double)fl[k] : 0;
        int rc = finish(x, p, h, &fd);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- elephant: huge single flows, huge (pair, hour) bursts, long connections ---- */
static int detect_elephant(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                           const struct dm__hunt_hostagg *h)
{
    const struct dm_hunt_config *c = x->c;
    const struct dm_hunt_flows *f = x->f;
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (pr->out < c->elephant_bytes && !f->duration_ms.width)
            continue;
        uint64_t max_flow = 0, max_hour = 0, hour_sum = 0;
        int64_t mf_ts = 0, mh_first = 0, mh_last = 0, hour = INT64_MIN, h_first = 0, h_last = 0;
        int64_t max_dur = -1, md_ts = 0;
        uint64_t md_out = 0;
        for (uint32_t j = 0; j <= pr->flows; j++) {
            size_t q = pr->off + j;
            int64_t hb = j < pr->flows ? p->g.ts[q] / US_PER_H : INT64_MAX;
            if (hb != hour) {
                if (hour_sum > max_hour) {
                    max_hour = hour_sum;
                    mh_first = h_first;
                    mh_last = h_last;
                }
                hour = hb;
                hour_sum = 0;
                h_first = j < pr->flows ? p->g.ts[q] : 0;
            }
            if (j == pr->flows)
                break;
            uint64_t out = p->g.out[q];
            hour_sum += out;
            h_last = p->g.ts[q];
            if (out > max_flow) {
                max_flow = out;
                mf_ts = p->g.ts[q];
            }
            if (p->g.dur[q] != UINT32_MAX && (int64_t)p->g.dur[q] > max_dur) {
                max_dur = p->g.dur[q];
                md_ts = p->g.ts[q];
                md_out = out;
            }
        }
        struct dm_hunt_finding fd;
        finding_init(&fd, DM_HUNT_ELEPHANT, h->host);
        fd.peers[0] = pr->peer;
        fd.npeers = fd.peers_total = 1;
        fd.time_only = 1;
        if (max_hour >= c->elephant_bytes) {
            int single = max_flow >= c->elephant_bytes && max_flow * 10 >= max_hour * 9;
            fd.start = single ? mf_ts : mh_first;
            fd.end = single ? mf_ts : mh_last;
            fd.score = 55 + 10 * log2_ratio((double)max_hour, (double)c->elephant_bytes);
        } else if (max_dur >= c->long_conn_ms && c->long_conn_ms > 0 &&
                   md_out >= c->role_min_bytes) {
            double hrs = (double)max_dur / 3.6e6;
            fd.start = fd.end = md_ts;
            fd.score = hrs >= 12 ? 75 : hrs >= 8 ? 65 : hrs >= 4 ? 55 : 45;
        } else {
            continue;
        }
        fd.score = clampd(fd.score, 0, 95);
        fd.ev[0] = (double)max_flow;
        fd.ev[1] = (double)max_hour;
        fd.ev[2] = max_dur >= 0 ? (double)max_dur / 1000 : -1;
        fd.ev[3] = (double)c->elephant_bytes;
        fd.ev[4] = (double)c->long_conn_ms / 1000;
        int rc = finish(x, p, h, &fd);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- strobe: a storm of connections to one (peer, port) ---- */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int detect_strobe(struct dm__hunt_ctx *x, struct dm__hunt_part *p,
                         const struct dm__hunt_hostagg *h)
{
    const struct dm_hunt_config *c = x->c;
    const struct dm_hunt_flows *f = x->f;
    uint32_t maxinit = 0;
    for (uint32_t i = 0; i < h->npairs; i++)
        if (pair_at(p, h, i)->flows_init > maxinit)
            maxinit = pair_at(p, h, i)->flows_init;
    if (maxinit < c->strobe_min_flows)
        return 0;
    /* the host's typical connection count per peer */
    if (scratch_d(p, h->npairs))
        return -ENOMEM;
    size_t nother = 0;
    for (uint32_t i = 0; i < h->npairs; i++)
        if (pair_at(p, h, i)->flows_init)
            p->dscratch[nother++] = pair_at(p, h, i)->flows_init;
    double med = dm__hunt_median(p->dscratch, nother);
    for (uint32_t i = 0; i < h->npairs; i++) {
        const struct dm__hunt_pair *pr = pair_at(p, h, i);
        if (pr->flows_init < c->strobe_min_flows)
            continue;
        /* (port << 32 | flow ordinal) sorted: runs of one port in ts order */
        if (scratch_2(p, pr->flows_init * sizeof(uint64_t)))
            return -ENOMEM;
        uint64_t *k = p->scratch2;
        size_t n = 0;
        for (uint32_t j = 0; j < pr->flows; j++) {
            size_t q = pr->off + j;
            if (!(p->g.fl[q] & DM__HUNT_G_INIT))
                continue;
            uint64_t port = p->g.port[q];
            k[n++] = port << 32 | j;
        }
        qsort(k, n, sizeof(*k), cmp_u64);
        for (size_t a = 0; a < n;) {
            size_t b = a;
            uint64_t nfail = 0;
            while (b < n && (k[b] >> 32) == (k[a] >> 32)) {
                size_t q = pr->off + (uint32_t)k[b];
                nfail += (p->g.fl[q] & DM__HUNT_G_FAILED) || p->g.out[q] + p->g.in[q] == 0;
                b++;
            }
            uint64_t cnt = b - a;
            int64_t first = p->g.ts[pr->off + (uint32_t)k[a]];
            int64_t last = p->g.ts[pr->off + (uint32_t)k[b - 1]];
            uint16_t port = (uint16_t)(k[a] >> 32);
            a = b;
            double rate = dm__hunt_rate_per_day(cnt, first, last);
            /* compare with the host's other peers (median over all its peers; a host with
             * one peer has nothing to compare with) */
            if (cnt < c->strobe_min_flows || rate < c->strobe_per_day ||
                (nother > 1 && (double)cnt < 10 * med))
                continue;
            struct dm_hunt_finding fd;
            finding_init(&fd, DM_HUNT_STROBE, h->host);
            fd.peers[0] = pr->peer;
            fd.npeers = fd.peers_total = 1;
            fd.outbound_only = 1;
            if (f->dport.width) {
                fd.port_only = 1;
                fd.port = port;
            }
            double fail_share = (double)nfail / (double)cnt;
            fd.score = clampd(50 + 10 * log2_ratio(rate, c->strobe_per_day) + 15 * fail_share,
                              0, 95);
            fd.ev[0] = (double)cnt;
            fd.ev[1] = rate;
            fd.ev[2] = c->strobe_per_day;
            fd.ev[3] = fail_share;
            fd.ev[4] = med;
            fd.ev[5] = port;
            int rc = finish(x, p, h, &fd);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void dm__hunt_detect_part(struct dm__hunt_ctx *x, struct dm__hunt_part *p)
{
    uint32_t maxpairs = 1;
    for (size_t i = 0; i < p->nhosts; i++)
        if (p->hosts[i].npairs > maxpairs)
            maxpairs = p->hosts[i].npairs;
    struct ranked *rk = dm_malloc(maxpairs * sizeof(*rk));
    if (!rk) {
        p->rc = -ENOMEM;
        return;
    }
    int rc = 0;
    for (size_t i = 0; i < p->nhosts && !rc; i++) {
        const struct dm__hunt_hostagg *h = &p->hosts[i];
        if ((rc = detect_volume(x, p, h, rk)) || (rc = detect_pcr(x, p, h, rk)) ||
            (rc = detect_off_hours(x, p, h, rk)) || (rc = detect_rare(x, p, h, rk)) ||
            (rc = detect_beacon(x, p, h)) || (rc = detect_role(x, p, h, rk)) ||
            (rc = detect_tunnel(x, p, h)) || (rc = detect_elephant(x, p, h)) ||
            (rc = detect_strobe(x, p, h)))
            break;
    }
    dm_free(rk);
    p->rc = rc;
}
