/* dm_hunt_run: partition the boundary-crossing flows by internal host, aggregate pairs,
 * compute the population statistics, run the per-host detections in parallel, rank. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "detect_int.h"
#include "dm_alloc.h"
#include "dm_hash.h"
#include "dm_pool.h"
#include "banned.h"

static const char *const kind_names[DM_HUNT_NKINDS] = {
    "volume", "pcr", "off_hours", "rare_destination", "beacon",
    "role_violation", "tunnel", "elephant", "strobe",
};

const char *dm_hunt_kind_name(int kind)
{
    return kind >= 0 && kind < DM_HUNT_NKINDS ? kind_names[kind] : NULL;
}

int dm_hunt_kind_from_name(const char *s, size_t n)
{
    for (int i = 0; i < DM_HUNT_NKINDS; i++)
        if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0)
            return i;
    return -1;
}

void dm_hunt_result_release(struct dm_hunt_result *r)
{
    if (!r)
        return;
    dm_free(r->findings);
    dm_free(r->hosts);
    memset(r, 0, sizeof(*r));
}

/* ---- partition: pair map and flow lists ---- */

static void part_release(struct dm__hunt_part *p)
{
    dm_free(p->slots);
    dm_free(p->pairs);
    dm_free(p->rowpair);
    dm_free(p->g.ts);
    dm_free(p->g.out);
    dm_free(p->g.in);
    dm_free(p->g.dur);
    dm_free(p->g.port);
    dm_free(p->g.proto);
    dm_free(p->g.fl);
    dm_free(p->order);
    dm_free(p->hosts);
    dm_free(p->findings);
    dm_free(p->dscratch);
    dm_free(p->scratch2);
    memset(p, 0, sizeof(*p));
}

/* Large random-access tables go on transparent huge pages where the kernel allows it (a
 * hint; TLB misses dominate the pair aggregation otherwise, worse under virtualisation). */
static void huge_pages(void *p, size_t n)
{
    if (n < (4u << 20))
        return;
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static int map_grow(struct dm__hunt_part *p)
{
    size_t ns = p->nslots ? p->nslots * 2 : 4096;
    struct dm__hunt_slot *slots = dm_calloc(ns, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    huge_pages(slots, ns * sizeof(*slots));
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->slots[i].val)
            continue;
        size_t h = dm_hash_u64(p->slots[i].key) & (ns - 1);
        while (slots[h].val)
            h = (h + 1) & (ns - 1);
        slots[h] = p->slots[i];
    }
    dm_free(p->slots);
    p->slots = slots;
    p->nslots = ns;
    return 0;
}

/* Index of the pair (host, peer), inserted when new; -ENOMEM on failure. */
static int64_t pair_upsert(struct dm__hunt_part *p, uint32_t host, uint32_t peer)
{
    uint64_t key = (uint64_t)host << 32 | peer;
    if ((p->npairs + 1) * 2 > p->nslots && map_grow(p))
        return -ENOMEM;
    size_t mask = p->nslots - 1, h = dm_hash_u64(key) & mask;
    while (p->slots[h].val) {
        if (p->slots[h].key == key)
            return (int64_t)p->slots[h].val - 1;
        h = (h + 1) & mask;
    }
    if (p->npairs == p->cap_pairs) {
        size_t nc = p->cap_pairs ? p->cap_pairs * 2 : 4096;
        struct dm__hunt_pair *np = dm_reallocarray(p->pairs, nc, sizeof(*np));
        if (!np)
            return -ENOMEM;
        p->pairs = np;
        p->cap_pairs = nc;
        huge_pages(np, nc * sizeof(*np));
    }
    struct dm__hunt_pair *pr = &p->pairs[p->npairs];
    memset(pr, 0, sizeof(*pr));
    pr->host = host;
    pr->peer = peer;
    p->slots[h].key = key;
    p->slots[h].val = p->npairs + 1;
    return (int64_t)p->npairs++;
}

static uint32_t part_of(uint32_t host, size_t nparts)
{
    return (uint32_t)(dm_hash_u64(host) % nparts);
}

static int port_allowed(const struct dm__hunt_ctx *x, const struct dm_hunt_flows *f, size_t r)
{
    if (!f->dport.width)
        return 0;
    uint16_t port = dm__hunt_port(f, r);
    return (x->port_allowed[port >> 6] >> (port & 63)) & 1;
}

static int aggregate(struct dm__hunt_ctx *x, struct dm__hunt_part *p, uint32_t pi)
{
    const struct dm_hunt_flows *f = x->f;
    p->rows = x->prows + x->part_start[pi];
    p->nrows = x->part_start[pi + 1] - x->part_start[pi];
    p->rowpair = dm_malloc((p->nrows ? p->nrows : 1) * sizeof(*p->rowpair));
    if (!p->rowpair)
        return -ENOMEM;
    for (size_t k = 0; k < p->nrows; k++) {
        size_t r = p->rows[k];
        uint32_t s = f->src[r], d = f->dst[r];
        uint8_t si = f->ip_class[s];
        uint32_t host = si ? s : d, peer = si ? d : s;
        int64_t idx = pair_upsert(p, host, peer);
        if (idx < 0)
            return (int)idx;
        struct dm__hunt_pair *pr = &p->pairs[idx];
        uint64_t sent = dm_hunt_col_u64(&f->sent, r);
        uint64_t recv = dm_hunt_col_u64(&f->recv, r);
        uint64_t out = si ? sent : recv, in = si ? recv : sent;
        pr->out += out;
        pr->in += in;
        pr->flows++;
        if (si) {
            pr->out_init += out;
            pr->in_init += in;
            pr->flows_init++;
        }
        p->rowpair[k] = (uint32_t)idx;
    }
    /* group the rows by pair, keeping ts order inside each pair, gathering the columns */
    size_t nr = p->nrows ? p->nrows : 1;
    p->g.ts = dm_malloc(nr * sizeof(*p->g.ts));
    p->g.out = dm_malloc(nr * sizeof(*p->g.out));
    p->g.in = dm_malloc(nr * sizeof(*p->g.in));
    p->g.dur = dm_malloc(nr * sizeof(*p->g.dur));
    p->g.port = dm_malloc(nr * sizeof(*p->g.port));
    p->g.proto = dm_malloc(nr);
    p->g.fl = dm_malloc(nr);
    if (!p->g.ts || !p->g.out || !p->g.in || !p->g.dur || !p->g.port || !p->g.proto || !p->g.fl)
        return -ENOMEM;
    uint32_t off = 0;
    for (size_t i = 0; i < p->npairs; i++) {
        p->pairs[i].off = off;
        off += p->pairs[i].flows;
    }
    for (size_t i = 0; i < p->nrows; i++) {
        struct dm__hunt_pair *pr = &p->pairs[p->rowpair[i]];
        size_t q = pr->off++, r = p->rows[i];
        int si = f->src[r] == pr->host;
        uint64_t s = dm_hunt_col_u64(&f->sent, r), v = dm_hunt_col_u64(&f->recv, r);
        p->g.ts[q] = f->ts[r];
        p->g.out[q] = si ? s : v;
        p->g.in[q] = si ? v : s;
        if (dm_hunt_col_present(&f->duration_ms, r)) {
            uint64_t d = dm_hunt_col_u64(&f->duration_ms, r);
            p->g.dur[q] = d >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)d;
        } else {
            p->g.dur[q] = UINT32_MAX;
        }
        p->g.port[q] = dm__hunt_port(f, r);
        p->g.proto[q] = (uint8_t)dm_hunt_col_u64(&f->proto, r);
        p->g.fl[q] = (uint8_t)((si ? DM__HUNT_G_INIT : 0) |
                               (dm__hunt_failed(f, r) ? DM__HUNT_G_FAILED : 0));
    }
    for (size_t i = 0; i < p->npairs; i++)
        p->pairs[i].off -= p->pairs[i].flows;
    dm_free(p->rowpair);
    p->rows = NULL;
    p->rowpair = NULL;
    dm_free(p->slots);
    p->slots = NULL;
    p->nslots = 0;
    return 0;
}

/* order[] = pairs sorted by host id then insertion; hosts[] = runs of one host. */
static int group_hosts(struct dm__hunt_part *p)
{
    size_t np = p->npairs;
    p->order = dm_malloc((np ? np : 1) * sizeof(*p->order));
    if (!p->order)
        return -ENOMEM;
    for (size_t i = 0; i < np; i++)
        p->order[i] = (uint32_t)i;
    /* stable bottom-up merge sort on (host << 32 | index) keys */
    uint64_t *k = dm_malloc((np ? np : 1) * sizeof(*k));
    uint64_t *tmp = dm_malloc((np ? np : 1) * sizeof(*tmp));
    if (!k || !tmp) {
        dm_free(k);
        dm_free(tmp);
        return -ENOMEM;
    }
    for (size_t i = 0; i < np; i++)
        k[i] = (uint64_t)p->pairs[i].host << 32 | i;
    /* bottom-up merge sort (stable, no recursion) */
    for (size_t w = 1; w < np; w *= 2) {
        for (size_t lo = 0; lo < np; lo += 2 * w) {
            size_t mid = lo + w < np ? lo + w : np, hi = lo + 2 * w < np ? lo + 2 * w : np;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = k[a] <= k[b] ? k[a++] : k[b++];
            while (a < mid)
                tmp[o++] = k[a++];
            while (b < hi)
                tmp[o++] = k[b++];
        }
        uint64_t *t = k;
        k = tmp;
        tmp = t;
    }
    size_t nh = 0;
    for (size_t i = 0; i < np; i++) {
        p->order[i] = (uint32_t)k[i];
        if (i == 0 || (k[i] >> 32) != (k[i - 1] >> 32))
            nh++;
    }
    dm_free(k);
    dm_free(tmp);
    p->hosts = dm_calloc(nh ? nh : 1, sizeof(*p->hosts));
    if (!p->hosts)
        return -ENOMEM;
    size_t h = (size_t)-1;
    for (size_t i = 0; i < np; i++) {
        const struct dm__hunt_pair *pr = &p->pairs[p->order[i]];
        if (i == 0 || pr->host != p->hosts[h].host) {
            h++;
            p->hosts[h].host = pr->host;
            p->hosts[h].pair0 = (uint32_t)i;
        }
        struct dm__hunt_hostagg *ha = &p->hosts[h];
        ha->npairs++;
        ha->out += pr->out;
        ha->in += pr->in;
        ha->out_init += pr->out_init;
        ha->in_init += pr->in_init;
        ha->flows += pr->flows;
    }
    p->nhosts = nh;
    return 0;
}

/* Partition of every selected row (255: not crossing the boundary, or allowlisted). */
static void task_rowpart(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct dm__hunt_ctx *x = ctx;
    const struct dm_hunt_flows *f = x->f;
    size_t n = f->sel ? f->nsel : f->n, per = (n + x->nchunks - 1) / x->nchunks;
    size_t a = task * per, b = a + per < n ? a + per : n;
    uint8_t *rp = x->rowpart;
    uint32_t *cnt = x->chunk_counts + task * x->nparts;
    for (size_t k = a; k < b; k++) {
        size_t r = f->sel ? f->sel[k] : k;
        uint32_t s = f->src[r], d = f->dst[r];
        uint8_t si = f->ip_class[s], di = f->ip_class[d];
        rp[k] = 255;
        if (si == di || si == DM_HUNT_IP_NONE || di == DM_HUNT_IP_NONE)
            continue;
        uint32_t host = si ? s : d, peer = si ? d : s;
        if (x->ip_allowed[peer] || port_allowed(x, f, r))
            continue;
        uint8_t pi = (uint8_t)part_of(host, x->nparts);
        rp[k] = pi;
        cnt[pi]++;
    }
}

/* Scatters the chunk's rows to their partition's run of prows (a stable radix pass, so
 * every partition lists its rows in ts order). */
static void task_scatter(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct dm__hunt_ctx *x = ctx;
    const struct dm_hunt_flows *f = x->f;
    size_t n = f->sel ? f->nsel : f->n, per = (n + x->nchunks - 1) / x->nchunks;
    size_t a = task * per, b = a + per < n ? a + per : n;
    const uint8_t *rp = x->rowpart;
    uint32_t *pos = x->chunk_counts + task * x->nparts; /* start offsets by now */
    for (size_t k = a; k < b; k++) {
        if (rp[k] == 255)
            continue;
        x->prows[pos[rp[k]]++] = (uint32_t)(f->sel ? f->sel[k] : k);
    }
}

static void task_aggregate(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct dm__hunt_ctx *x = ctx;
    struct dm__hunt_part *p = &x->parts[task];
    p->rc = aggregate(x, p, (uint32_t)task);
    if (!p->rc)
        p->rc = group_hosts(p);
}

static void task_detect(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct dm__hunt_ctx *x = ctx;
    dm__hunt_detect_part(x, &x->parts[task]);
}

/* Median, MAD and mean absolute deviation of v[0..n) (reordered). */
static void robust_stats(double *v, size_t n, double *med, double *mad, double *meanad)
{
    *med = dm__hunt_median(v, n);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs(v[i] - *med);
    *meanad = n ? s / (double)n : 0;
    *mad = dm__hunt_mad(v, n, *med);
}

/* IP text comparison for deterministic ties. */
static int cmp_ip_text(const struct dm_hunt_flows *f, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    char ta[DM_IP_STRLEN], tb[DM_IP_STRLEN];
    dm_ip_format(&f->ips[a], ta);
    dm_ip_format(&f->ips[b], tb);
    return strcmp(ta, tb);
}

/* A finding with the text of its host and main peer, for ranking. */
struct rank_key {
    const struct dm_hunt_finding *f;
    char host[DM_IP_STRLEN], peer[DM_IP_STRLEN];
};

static int cmp_finding(const struct dm_hunt_flows *fl, const struct rank_key *ka,
                       const struct rank_key *kb)
{
    const struct dm_hunt_finding *a = ka->f, *b = kb->f;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int c = strcmp(ka->host, kb->host);
    if (c)
        return c;
    if ((c = strcmp(ka->peer, kb->peer)))
        return c;
    for (uint32_t i = 1; i < a->npeers && i < b->npeers; i++)
        if ((c = cmp_ip_text(fl, a->peers[i], b->peers[i])))
            return c;
    if (a->npeers != b->npeers)
        return a->npeers < b->npeers ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return (a->port > b->port) - (a->port < b->port);
}

/* Ranks findings: a stable merge sort over keys holding the IP texts. */
static int sort_findings(const struct dm_hunt_flows *f, struct dm_hunt_finding *v, size_t n)
{
    if (n < 2)
        return 0;
    struct rank_key *k = dm_malloc(n * sizeof(*k)), *tmp = dm_malloc(n * sizeof(*tmp));
    struct dm_hunt_finding *out = dm_malloc(n * sizeof(*out));
    if (!k || !tmp || !out) {
        dm_free(k);
        dm_free(tmp);
        dm_free(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        k[i].f = &v[i];
        dm_ip_format(&f->ips[v[i].host], k[i].host);
        if (v[i].npeers)
            dm_ip_format(&f->ips[v[i].peers[0]], k[i].peer);
        else
            k[i].peer[0] = 0;
    }
    struct rank_key *src = k, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = cmp_finding(f, &src[a], &src[b]) <= 0 ? src[a++] : src[b++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        struct rank_key *t = src;
        src = dst;
        dst = t;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = *src[i].f;
    memcpy(v, out, n * sizeof(*v));
    dm_free(k);
    dm_free(tmp);
    dm_free(out);
    return 0;
}

struct host_key {
    struct dm_hunt_host h;
    char text[DM_IP_STRLEN];
};

static int cmp_host(const void *pa, const void *pb)
{
    const struct host_key *a = pa, *b = pb;
    if (a->h.score != b->h.score)
        return a->h.score > b->h.score ? -1 : 1;
    return strcmp(a->text, b->text);
}

/* Host roll-up: findings grouped by host, combined score = 100 (1 - Π (1 - s/100)) over the
 * best finding of each kind. */
static int rollup(struct dm__hunt_ctx *x, struct dm_hunt_result *r)
{
    const struct dm_hunt_flows *f = x->f;
    size_t nf = r->nfindings;
    if (nf == 0)
        return 0;
    /* sort finding indexes by host id to group them */
    uint64_t *k = dm_malloc(nf * sizeof(*k));
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < nf; i++)
        k[i] = (uint64_t)r->findings[i].host << 32 | i;
    for (size_t w = 1; w < nf; w *= 2) {
        uint64_t *tmp = dm_malloc(nf * sizeof(*tmp));
        if (!tmp) {
            dm_free(k);
            return -ENOMEM;
        }
        for (size_t lo = 0; lo < nf; lo += 2 * w) {
            size_t mid = lo + w < nf ? lo + w : nf, hi = lo + 2 * w < nf ? lo + 2 * w : nf;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = k[a] <= k[b] ? k[a++] : k[b++];
            while (a < mid)
                tmp[o++] = k[a++];
            while (b < hi)
                tmp[o++] = k[b++];
        }
        dm_free(k);
        k = tmp;
    }
    size_t nh = 0;
    for (size_t i = 0; i < nf; i++)
        if (i == 0 || (k[i] >> 32) != (k[i - 1] >> 32))
            nh++;
    r->hosts = dm_calloc(nh, sizeof(*r->hosts));
    if (!r->hosts) {
        dm_free(k);
        return -ENOMEM;
    }
    size_t h = 0;
    for (size_t i = 0; i < nf;) {
        uint32_t host = (uint32_t)(k[i] >> 32);
        double best[DM_HUNT_NKINDS] = {0};
        struct dm_hunt_host *hh = &r->hosts[h++];
        hh->host = host;
        for (; i < nf && (uint32_t)(k[i] >> 32) == host; i++) {
            const struct dm_hunt_finding *fd = &r->findings[(uint32_t)k[i]];
            if (fd->score > best[fd->kind])
                best[fd->kind] = fd->score;
            hh->kinds |= 1u << fd->kind;
            hh->nfindings++;
        }
        double keep = 1;
        for (int kd = 0; kd < DM_HUNT_NKINDS; kd++)
            keep *= 1 - best[kd] / 100;
        hh->score = 100 * (1 - keep);
        /* the host's outbound bytes across all its pairs */
        struct dm__hunt_part *p = &x->parts[part_of(host, x->nparts)];
        for (size_t j = 0; j < p->nhosts; j++)
            if (p->hosts[j].host == host) {
                hh->bytes_out = p->hosts[j].out;
                break;
            }
    }
    dm_free(k);
    r->nhosts = nh;
    /* rank hosts by score, then IP text */
    struct host_key *hk = dm_malloc(nh * sizeof(*hk));
    if (!hk)
        return -ENOMEM;
    for (size_t i = 0; i < nh; i++) {
        hk[i].h = r->hosts[i];
        dm_ip_format(&f->ips[hk[i].h.host], hk[i].text);
    }
    qsort(hk, nh, sizeof(*hk), cmp_host);
    for (size_t i = 0; i < nh; i++)
        r->hosts[i] = hk[i].h;
    dm_free(hk);
    return 0;
}

/* Most specific first: the kind that names a folded finding. */
static const uint8_t specificity[DM_HUNT_NKINDS] = {
    [DM_HUNT_ROLE_VIOLATION] = 0, [DM_HUNT_TUNNEL] = 1, [DM_HUNT_BEACON] = 2,
    [DM_HUNT_STROBE] = 3,         [DM_HUNT_OFF_HOURS] = 4, [DM_HUNT_RARE_DESTINATION] = 5,
    [DM_HUNT_ELEPHANT] = 6,       [DM_HUNT_VOLUME] = 7, [DM_HUNT_PCR] = 8,
};

/* Folds findings that describe the same event — same host, same main peer — into one:
 * the most specific kind names it and keeps its filter and evidence, the others are
 * listed in `also`, and the score is the highest of the group. Beacons and strobes are
 * never folded into each other's peers' findings (they are per pair already). */
static uint64_t group_key(const struct dm_hunt_finding *f)
{
    return (uint64_t)f->host << 32 | (f->npeers ? f->peers[0] : 0);
}

static int fold(struct dm_hunt_result *r)
{
    size_t nf = r->nfindings;
    if (nf < 2)
        return 0;
    uint64_t *k = dm_malloc(nf * sizeof(*k));
    uint8_t *dead = dm_calloc(nf, 1);
    if (!k || !dead) {
        dm_free(k);
        dm_free(dead);
        return -ENOMEM;
    }
    /* group key: (host, main peer), then specificity, then index: the indexes sorted by a
     * stable merge sort on the packed (host, peer) key after a stable pass on specificity */
    uint64_t *tmp = dm_malloc(nf * sizeof(*tmp));
    if (!tmp) {
        dm_free(k);
        dm_free(dead);
        return -ENOMEM;
    }
    size_t nk = 0;
    for (int sp = 0; sp < DM_HUNT_NKINDS; sp++)
        for (size_t i = 0; i < nf; i++)
            if (specificity[r->findings[i].kind] == sp)
                k[nk++] = i;
    for (size_t w = 1; w < nf; w *= 2) {
        for (size_t lo = 0; lo < nf; lo += 2 * w) {
            size_t mid = lo + w < nf ? lo + w : nf, hi = lo + 2 * w < nf ? lo + 2 * w : nf;
            size_t a = lo, b = mid, d = lo;
            while (a < mid && b < hi)
                tmp[d++] = group_key(&r->findings[k[a]]) <= group_key(&r->findings[k[b]])
                               ? k[a++]
                               : k[b++];
            while (a < mid)
                tmp[d++] = k[a++];
            while (b < hi)
                tmp[d++] = k[b++];
        }
        uint64_t *t = k;
        k = tmp;
        tmp = t;
    }
    dm_free(tmp);
    for (size_t i = 0; i < nf;) {
        struct dm_hunt_finding *head = &r->findings[k[i]];
        uint64_t key = (uint64_t)head->host << 32 | (head->npeers ? head->peers[0] : 0);
        size_t j = i + 1;
        for (; j < nf; j++) {
            struct dm_hunt_finding *o = &r->findings[k[j]];
            uint64_t ko = (uint64_t)o->host << 32 | (o->npeers ? o->peers[0] : 0);
            if (ko != key)
                break;
            if (o->kind == head->kind)
                continue; /* two beacons / tunnels of one pair cannot happen; keep both */
            head->also |= 1u << o->kind;
            if (o->score > head->also_score[o->kind])
                head->also_score[o->kind] = o->score;
            if (o->score > head->score)
                head->score = o->score;
            dead[k[j]] = 1;
        }
        i = j;
    }
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        if (!dead[i])
            r->findings[n++] = r->findings[i];
    r->nfindings = n;
    dm_free(k);
    dm_free(dead);
    return 0;
}

static int prepare(struct dm__hunt_ctx *x)
{
    const struct dm_hunt_flows *f = x->f;
    const struct dm_hunt_config *c = x->c;
    size_t ni = f->nips ? f->nips : 1;
    x->ip_allowed = dm_calloc(ni, 1);
    x->ip_resolver = dm_calloc(ni, 1);
    x->ip_server = dm_calloc(ni, 1);
    x->peer_hosts = dm_calloc(ni, sizeof(*x->peer_hosts));
    x->peer_first = dm_malloc(ni * sizeof(*x->peer_first));
    if (!x->ip_allowed || !x->ip_resolver || !x->ip_server || !x->peer_hosts || !x->peer_first)
        return -ENOMEM;
    for (size_t i = 0; i < f->nips; i++) {
        x->peer_first[i] = INT64_MAX;
        const struct dm_ip *ip = &f->ips[i];
        if (c->allow_cidrs.n && dm_cidr_set_contains(&c->allow_cidrs, ip))
            x->ip_allowed[i] = 1;
        if (c->approved_resolvers.n && dm_cidr_set_contains(&c->approved_resolvers, ip))
            x->ip_resolver[i] = 1;
        uint8_t role = f->ip_role ? f->ip_role[i] : 0;
        if (role == 0 && f->ip_class[i] == DM_HUNT_IP_INTERNAL && c->server_networks.n &&
            dm_cidr_set_contains(&c->server_networks, ip))
            role = DM_HUNT_ROLE_SERVER;
        x->ip_server[i] = f->ip_class[i] == DM_HUNT_IP_INTERNAL ? role : 0;
    }
    memset(x->port_allowed, 0, sizeof(x->port_allowed));
    for (size_t i = 0; i < c->n_allow_ports; i++)
        x->port_allowed[c->allow_ports[i] >> 6] |= 1ull << (c->allow_ports[i] & 63);
    x->bh.start_min = c->bh_start_min;
    x->bh.end_min = c->bh_end_min;
    x->bh.days = c->bh_days;
    x->bh.tz = c->tz.n ? &c->tz : NULL;
    x->bh.tz_min = c->tz.n ? 0 : c->tz.off0 ? c->tz.off0 / 60 : c->tz_offset_min;
    return 0;
}

static int check_flows(const struct dm_hunt_flows *f, struct dm_error *err)
{
    if (f->n && (!f->ts || !f->src || !f->dst))
        return dm_error_set(err, -EINVAL, "hunt needs the ts, src_ip and dst_ip columns");
    if (f->nips && (!f->ip_class || !f->ips))
        return dm_error_set(err, -EINVAL, "hunt needs the ip table");
    if (f->n > UINT32_MAX)
        return dm_error_set(err, DM_ETOOBIG, "hunt handles at most 2^32 flows");
    size_t n = f->sel ? f->nsel : f->n;
    for (size_t k = 0; k < n; k++) {
        size_t r = f->sel ? f->sel[k] : k;
        if (r >= f->n || f->src[r] >= f->nips || f->dst[r] >= f->nips)
            return dm_error_set(err, -EINVAL, "flow %zu refers to a missing ip or row", r);
        if (k && f->ts[r] < f->ts[f->sel ? f->sel[k - 1] : k - 1])
            return dm_error_set(err, -EINVAL, "flows are not sorted by time");
    }
    return 0;
}

int dm_hunt_run(const struct dm_hunt_flows *f, const struct dm_hunt_config *c,
                struct dm_pool *pool, struct dm_hunt_result *r, struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    int rc = check_flows(f, err);
    if (rc)
        return rc;
    struct dm__hunt_ctx x;
    memset(&x, 0, sizeof(x));
    x.f = f;
    x.c = c;
    size_t n = f->sel ? f->nsel : f->n;
    /* partitions of about 100k flows, so that a partition's pair table and gathered columns
     * stay in the cache while they are built (at least 4 per thread, at most 255) */
    x.nparts = n / 100000;
    if (x.nparts < (size_t)dm_pool_size(pool) * 4)
        x.nparts = (size_t)dm_pool_size(pool) * 4;
    if (x.nparts > 255)
        x.nparts = 255;
    double *vals = NULL;
    x.parts = dm_calloc(x.nparts, sizeof(*x.parts));
    if (!x.parts) {
        rc = -ENOMEM;
        goto oom;
    }
    if ((rc = prepare(&x)))
        goto oom;
    if (n) {
        x.data_start = f->ts[f->sel ? f->sel[0] : 0];
        x.data_end = f->ts[f->sel ? f->sel[n - 1] : n - 1];
    }
    x.in_hours_total = dm__hunt_bh_hours(&x.bh, x.data_start, x.data_end);

    x.rowpart = dm_malloc(n ? n : 1);
    if (!x.rowpart) {
        rc = -ENOMEM;
        goto oom;
    }
    x.nchunks = (n + 65535) / 65536;
    x.chunk_counts = dm_calloc((x.nchunks ? x.nchunks : 1) * x.nparts, sizeof(*x.chunk_counts));
    x.part_start = dm_calloc(x.nparts + 1, sizeof(*x.part_start));
    if (!x.chunk_counts || !x.part_start) {
        rc = -ENOMEM;
        goto oom;
    }
    if (x.nchunks)
        dm_pool_for(pool, x.nchunks, task_rowpart, &x);
    /* prefix sums: partition-major, chunk order inside a partition */
    size_t used = 0;
    for (size_t pi = 0; pi < x.nparts; pi++) {
        x.part_start[pi] = used;
        for (size_t ch = 0; ch < x.nchunks; ch++) {
            uint32_t k = x.chunk_counts[ch * x.nparts + pi];
            x.chunk_counts[ch * x.nparts + pi] = (uint32_t)used;
            used += k;
        }
    }
    x.part_start[x.nparts] = used;
    x.prows = dm_malloc((used ? used : 1) * sizeof(*x.prows));
    if (!x.prows) {
        rc = -ENOMEM;
        goto oom;
    }
    if (x.nchunks)
        dm_pool_for(pool, x.nchunks, task_scatter, &x);
    dm_free(x.rowpart);
    x.rowpart = NULL;
    dm_free(x.chunk_counts);
    x.chunk_counts = NULL;
    dm_pool_for(pool, x.nparts, task_aggregate, &x);
    dm_free(x.prows);
    x.prows = NULL;
    size_t nhosts = 0, npairs = 0;
    for (size_t i = 0; i < x.nparts; i++) {
        if (x.parts[i].rc) {
            rc = x.parts[i].rc;
            goto oom;
        }
        nhosts += x.parts[i].nhosts;
        npairs += x.parts[i].npairs;
        for (size_t j = 0; j < x.parts[i].nhosts; j++)
            r->flows_used += x.parts[i].hosts[j].flows;
    }
    x.internal_hosts = nhosts;
    x.rare_max = dm__hunt_rare_max(c->prevalence, nhosts);
    /* peer prevalence and first sight; population statistics */
    vals = dm_malloc((npairs > nhosts ? npairs : nhosts) * sizeof(*vals) + sizeof(*vals));
    if (!vals) {
        rc = -ENOMEM;
        goto oom;
    }
    size_t nv = 0;
    for (size_t i = 0; i < x.nparts; i++) {
        const struct dm__hunt_part *p = &x.parts[i];
        for (size_t j = 0; j < p->npairs; j++) {
            const struct dm__hunt_pair *pr = &p->pairs[j];
            x.peer_hosts[pr->peer]++;
            int64_t first = p->g.ts[pr->off];
            if (first < x.peer_first[pr->peer])
                x.peer_first[pr->peer] = first;
            if (pr->out > 0)
                vals[nv++] = dm__hunt_logb(pr->out);
        }
    }
    robust_stats(vals, nv, &x.pair_med, &x.pair_mad, &x.pair_meanad);
    nv = 0;
    for (size_t i = 0; i < x.nparts; i++)
        for (size_t j = 0; j < x.parts[i].nhosts; j++)
            if (x.parts[i].hosts[j].out_init > 0)
                vals[nv++] = dm__hunt_logb(x.parts[i].hosts[j].out_init);
    robust_stats(vals, nv, &x.host_med, &x.host_mad, &x.host_meanad);
    dm_free(vals);
    vals = NULL;

    dm_pool_for(pool, x.nparts, task_detect, &x);
    size_t nf = 0;
    for (size_t i = 0; i < x.nparts; i++) {
        if (x.parts[i].rc) {
            rc = x.parts[i].rc;
            goto oom;
        }
        nf += x.parts[i].nfindings;
    }
    r->findings = dm_malloc((nf ? nf : 1) * sizeof(*r->findings));
    if (!r->findings) {
        rc = -ENOMEM;
        goto oom;
    }
    for (size_t i = 0; i < x.nparts; i++) {
        if (!x.parts[i].nfindings)
            continue;
        memcpy(r->findings + r->nfindings, x.parts[i].findings,
               x.parts[i].nfindings * sizeof(*r->findings));
        r->nfindings += x.parts[i].nfindings;
    }
    if ((rc = rollup(&x, r)) || (rc = fold(r)) || (rc = sort_findings(f, r->findings, r->nfindings)))
        goto oom;
    r->internal_hosts = nhosts;
    r->data_start = x.data_start;
    r->data_end = x.data_end;
    rc = 0;
oom:
    for (size_t i = 0; x.parts && i < x.nparts; i++)
        part_release(&x.parts[i]);
    dm_free(x.parts);
    dm_free(x.ip_allowed);
    dm_free(x.ip_resolver);
    dm_free(x.ip_server);
    dm_free(x.peer_hosts);
    dm_free(x.peer_first);
    dm_free(x.rowpart);
    dm_free(x.chunk_counts);
    dm_free(x.prows);
    dm_free(x.part_start);
    dm_free(vals);
    if (rc) {
        dm_hunt_result_release(r);
        if (rc == -ENOMEM)
            dm_error_set(err, rc, "out of memory while hunting");
    }
    return rc;
}
