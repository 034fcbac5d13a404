/* The simulated network, its traffic rhythm, the planted scenarios, chunked generation
 * and the truth / config documents.
 *
 * Row order: background row k (0 <= k < bg_rows) starts at T((k + j_k) / bg_rows), where
 * T is the inverse of the cumulative intensity (diurnal and weekly rhythm, per minute) and
 * j_k in [0, 1) is a hash of (seed, k); so background times are non-decreasing in k and
 * each is computable alone. Planted flows are sorted by time and each is given the output
 * row right after every background row that starts at or before it. Any chunk can then be
 * generated on its own: it knows which planted flows fall into it by binary search and
 * which background rows fill the rest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_pool.h"
#include "gen_int.h"
#include "banned.h"

#define US_MIN 60000000LL
#define US_HOUR 3600000000LL
#define US_DAY 86400000000LL

#define NWS 3000      /* workstations */
#define NEXT4 40000   /* external IPv4 destinations */
#define NEXT6 4000    /* external IPv6 destinations */
#define NCLI 20000    /* internet clients of the DMZ */
#define NSCAN 400     /* internet scanners */
#define NONE UINT32_MAX

static const char *const scenario_names[DM_GEN_NSCENARIOS] = {
    "night_upload", "db_exfil", "beacon", "dns_tunnel", "slow_leak", "backup", "os_update",
    "dmz_web"};

int dm_gen_schema_parse(const char *s, enum dm_gen_schema *out)
{
    static const char *const names[] = {"datamate", "ecs", "zeek", "suricata"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum dm_gen_schema)i;
            return 0;
        }
    return -EINVAL;
}

const char *dm_gen_schema_name(enum dm_gen_schema s)
{
    switch (s) {
    case DM_GEN_DATAMATE: return "datamate";
    case DM_GEN_ECS: return "ecs";
    case DM_GEN_ZEEK: return "zeek";
    case DM_GEN_SURICATA: return "suricata";
    }
    return "?";
}

/* ---- hosts ---- */

static uint32_t host_add_v4(struct dm_gen *g, uint32_t a, int internal)
{
    struct dm__gen_host *h = &g->hosts[g->nhosts];
    memset(h, 0, sizeof(*h));
    h->len = (uint8_t)snprintf(h->txt, sizeof(h->txt), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                               (a >> 8) & 255, a & 255);
    h->internal = (uint8_t)internal;
    return g->nhosts++;
}

/* IPv6 from 8 groups of which g[4..6] are zero and the others nonzero: the canonical
 * RFC 5952 text is then "a:b:c:d::h". */
static uint32_t host_add_v6(struct dm_gen *g, const uint16_t grp[8], int internal)
{
    struct dm__gen_host *h = &g->hosts[g->nhosts];
    memset(h, 0, sizeof(*h));
    memcpy(g->g6[g->nhosts], grp, sizeof(g->g6[0]));
    h->len = (uint8_t)snprintf(h->txt, sizeof(h->txt), "%x:%x:%x:%x::%x", grp[0], grp[1], grp[2],
                               grp[3], grp[7]);
    h->internal = (uint8_t)internal;
    h->v6 = 1;
    return g->nhosts++;
}

static uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

/* Public unicast IPv4 outside every special-purpose block we know of. */
static int v4_public(uint32_t a)
{
    unsigned o1 = a >> 24, o2 = (a >> 16) & 255, o3 = (a >> 8) & 255;
    if (o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224)
        return 0;
    if (o1 == 100 && o2 >= 64 && o2 < 128)
        return 0;
    if (o1 == 169 && o2 == 254)
        return 0;
    if (o1 == 172 && o2 >= 16 && o2 < 32)
        return 0;
    if (o1 == 192 && (o2 == 168 || (o2 == 0 && (o3 == 0 || o3 == 2)) || (o2 == 88 && o3 == 99)))
        return 0;
    if (o1 == 198 && (o2 == 18 || o2 == 19 || (o2 == 51 && o3 == 100)))
        return 0;
    if (o1 == 203 && o2 == 0 && o3 == 113)
        return 0;
    if ((a & 255) == 0 || (a & 255) == 255)
        return 0;
    return 1;
}

/* Set of IPv4 addresses already handed out, so no two hosts share one: open addressing,
 * capacity a power of two at least twice the number of hosts (reserved up front). */
struct used4 {
    uint32_t *v; /* 0 = empty slot (0.0.0.0 is never a host) */
    size_t mask;
};

static size_t used4_slot(const struct used4 *u, uint32_t a)
{
    size_t i = (size_t)dm_rng_mix(a) & u->mask;
    while (u->v[i] && u->v[i] != a)
        i = (i + 1) & u->mask;
    return i;
}

static int used4_has(const struct used4 *u, uint32_t a)
{
    return u->v[used4_slot(u, a)] == a;
}

static void used4_add(struct used4 *u, uint32_t a)
{
    u->v[used4_slot(u, a)] = a;
}

/* A random public IPv4 address: 3 % from 172.32.0.0-172.255.255.255 and 1 % from
 * 172.0-172.15 (either side of the private 172.16/12 block), the rest anywhere. */
static uint32_t random_public_v4(struct dm_rng *r)
{
    for (;;) {
        double u = dm_rng_uniform(r);
        uint32_t a = (uint32_t)dm_rng_next(r);
        if (u < 0.03)
            a = v4(172, 32 + (unsigned)dm_rng_below(r, 224), (a >> 8) & 255, a & 255);
        else if (u < 0.04)
            a = v4(172, (unsigned)dm_rng_below(r, 16), (a >> 8) & 255, a & 255);
        if (v4_public(a))
            return a;
    }
}

/* A fresh public IPv4 address no other host has. */
static uint32_t fresh_v4(struct dm_gen *g, struct used4 *u, struct dm_rng *r)
{
    for (;;) {
        uint32_t a = random_public_v4(r);
        if (!used4_has(u, a)) {
            used4_add(u, a);
            return host_add_v4(g, a, 0);
        }
    }
}

static const struct {
    uint32_t addr;
    const char *name;
} servers[] = {
    {0xAC10010A, "DNS resolver 1"},          /* 172.16.1.10 */
    {0xAC10010B, "DNS resolver 2"},          /* 172.16.1.11 */
    {0xAC100219, "MAIL server"},             /* 172.16.2.25 */
    {0xAC10030A, "DB server (orders)"},      /* 172.16.3.10 */
    {0xAC10030B, "DB server (HR)"},          /* 172.16.3.11 */
    {0xAC100414, "File server"},             /* 172.16.4.20 */
    {0xAC10051E, "App server 1"},            /* 172.16.5.30 */
    {0xAC10051F, "App server 2"},            /* 172.16.5.31 */
    {0xAC100605, "Backup server"},           /* 172.16.6.5 */
    {0xAC10070A, "Update server (WSUS)"},    /* 172.16.7.10 */
    {0xAC100802, "Domain controller"},       /* 172.16.8.2 */
    {0xAC100803, "Monitoring"},              /* 172.16.8.3 */
    {0xC0A8640A, "Public web server (DMZ)"}, /* 192.168.100.10 */
    {0xC0A8640C, "VPN gateway (DMZ)"},       /* 192.168.100.12 */
};
#define NSERVERS (sizeof(servers) / sizeof(servers[0]))

static int build_hosts(struct dm_gen *g, struct dm_error *err)
{
    struct dm_rng r;
    dm_rng_seed(&r, g->opt.seed, 1);
    g->hosts_cap = NWS * 2 + NSERVERS + 8 + NEXT4 + NEXT6 + NCLI + NSCAN + 256 + 64;
    g->hosts = dm_calloc(g->hosts_cap, sizeof(*g->hosts));
    g->g6 = dm_calloc(g->hosts_cap, sizeof(*g->g6));
    g->ws_v6 = dm_calloc(NWS, sizeof(*g->ws_v6));
    size_t ucap = 1;
    while (ucap < 2 * (size_t)g->hosts_cap)
        ucap <<= 1;
    struct used4 u = {dm_calloc(ucap, sizeof(uint32_t)), ucap - 1};
    if (!g->hosts || !g->g6 || !g->ws_v6 || !u.v) {
        dm_free(u.v);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }

    /* Workstations: two office sites in 10/8 and a branch in 192.168/16; about a third
     * dual-stack in fd12:3456:789a::/48. */
    g->ws_first = g->nhosts;
    g->nws = NWS;
    for (uint32_t i = 0; i < NWS; i++) {
        uint32_t a;
        if (i < 2200)
            a = v4(10, 10, i / 200, 20 + i % 200);
        else if (i < 2800)
            a = v4(10, 20, (i - 2200) / 200, 20 + (i - 2200) % 200);
        else
            a = v4(192, 168, 10 + (i - 2800) / 100, 20 + (i - 2800) % 100);
        host_add_v4(g, a, 1);
    }
    for (uint32_t i = 0; i < NWS; i++) {
        g->ws_v6[i] = NONE;
        if (dm_rng_uniform(&r) < 0.35) {
            uint16_t grp[8] = {0xfd12, 0x3456, 0x789a, (uint16_t)(0x10 + i / 1000), 0, 0, 0,
                               (uint16_t)(0x100 + i)};
            g->ws_v6[i] = host_add_v6(g, grp, 1);
        }
    }
    uint32_t sid[NSERVERS];
    for (size_t i = 0; i < NSERVERS; i++)
        sid[i] = host_add_v4(g, servers[i].addr, 1);
    g->dns[0] = sid[0], g->dns[1] = sid[1], g->mail = sid[2], g->db[0] = sid[3];
    g->db[1] = sid[4], g->file = sid[5], g->app[0] = sid[6], g->app[1] = sid[7];
    g->backup = sid[8], g->wsus = sid[9], g->dc = sid[10], g->mon = sid[11];
    g->dmz_web = sid[12], g->vpn = sid[13];
    g->dmz_first = g->nhosts;
    for (unsigned i = 1; i < 255; i += 4)
        if (i != 9 && i != 13) /* .10 and .12 are the named DMZ servers */
            host_add_v4(g, v4(192, 168, 100, i), 1);
    g->ndmz = g->nhosts - g->dmz_first;

    /* Approved upstream resolvers and NTP servers. */
    static const uint32_t res4[] = {0x08080808, 0x01010101, 0x09090909};
    for (int i = 0; i < 3; i++) {
        used4_add(&u, res4[i]);
        g->resolvers[i] = host_add_v4(g, res4[i], 0);
    }
    static const uint16_t res6[8] = {0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888};
    /* 2001:4860:4860::8888 does not fit the a:b:c:d::h pattern; write it by hand. */
    g->resolvers[3] = g->nhosts;
    struct dm__gen_host *h6 = &g->hosts[g->nhosts++];
    memset(h6, 0, sizeof(*h6));
    memcpy(g->g6[g->resolvers[3]], res6, sizeof(res6));
    h6->len = (uint8_t)snprintf(h6->txt, sizeof(h6->txt), "2001:4860:4860::8888");
    h6->v6 = 1;
    g->nresolvers = 4;
    used4_add(&u, 0xA29FC801);
    used4_add(&u, 0xA29FC87B);
    g->ntp[0] = host_add_v4(g, 0xA29FC801, 0); /* 162.159.200.1 */
    g->ntp[1] = host_add_v4(g, 0xA29FC87B, 0); /* 162.159.200.123 */

    /* The Zipf-ranked internet: rank 1 is host ext4_first. */
    g->ext4_first = g->nhosts;
    g->next4 = NEXT4;
    for (uint32_t i = 0; i < NEXT4; i++)
        fresh_v4(g, &u, &r);
    g->ext6_first = g->nhosts;
    g->next6 = NEXT6;
    static const uint16_t pfx6[] = {0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2600, 0x2604, 0x2606,
                                    0x2607, 0x2620, 0x2400, 0x2403, 0x2001};
    for (uint32_t i = 0; i < NEXT6; i++) {
        uint16_t grp[8] = {pfx6[dm_rng_below(&r, sizeof(pfx6) / sizeof(pfx6[0]))], 0, 0, 0,
                           0, 0, 0, 0};
        for (int k = 1; k < 4; k++)
            grp[k] = (uint16_t)(1 + dm_rng_below(&r, 0xffff));
        grp[7] = (uint16_t)(1 + dm_rng_below(&r, 0xffff));
        if (grp[0] == 0x2001 && grp[1] < 0x0200)
            grp[1] = (uint16_t)(grp[1] + 0x4000); /* keep out of 2001:0000::/23 (IETF) */
        if (grp[0] == 0x2001 && grp[1] == 0x0db8)
            grp[1] = 0x4db8; /* not the documentation prefix */
        host_add_v6(g, grp, 0);
    }
    g->cli_first = g->nhosts;
    g->ncli = NCLI;
    for (uint32_t i = 0; i < NCLI; i++)
        fresh_v4(g, &u, &r);
    g->scan_first = g->nhosts;
    g->nscan = NSCAN;
    for (uint32_t i = 0; i < NSCAN; i++)
        fresh_v4(g, &u, &r);

    /* Scenario peers: addresses nobody else talks to. */
    struct dm_gen_scenario *s = g->scen;
    for (int k = 0; k < DM_GEN_NSCENARIOS; k++)
        s[k].peer = NONE;
    s[DM_GEN_NIGHT_UPLOAD].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_DB_EXFIL].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_BEACON].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_DNS_TUNNEL].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_SLOW_LEAK].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_BACKUP].peer = fresh_v4(g, &u, &r);
    s[DM_GEN_OS_UPDATE].peer = g->ext4_first + 1; /* a popular CDN address (rank 2) */

    /* Scenario hosts: distinct ordinary workstations of middling activity. */
    uint32_t picked[4];
    for (int i = 0; i < 4; i++) {
        for (;;) {
            uint32_t w = 200 + (uint32_t)dm_rng_below(&r, NWS - 400);
            int dup = 0;
            for (int j = 0; j < i; j++)
                dup |= picked[j] == w;
            if (!dup) {
                picked[i] = w;
                break;
            }
        }
    }
    s[DM_GEN_NIGHT_UPLOAD].host = g->ws_first + picked[0];
    s[DM_GEN_BEACON].host = g->ws_first + picked[1];
    s[DM_GEN_DNS_TUNNEL].host = g->ws_first + picked[2];
    s[DM_GEN_SLOW_LEAK].host = g->ws_first + picked[3];
    s[DM_GEN_DB_EXFIL].host = g->db[0];
    s[DM_GEN_BACKUP].host = g->backup;
    s[DM_GEN_OS_UPDATE].host = g->wsus;
    s[DM_GEN_DMZ_WEB].host = g->dmz_web;
    dm_free(u.v);

    if (dm_zipf_init(&g->z_ws, NWS, 0.6) || dm_zipf_init(&g->z_ext4, NEXT4, 1.05) ||
        dm_zipf_init(&g->z_ext6, NEXT6, 1.0) || dm_zipf_init(&g->z_cli, NCLI, 0.9) ||
        dm_zipf_init(&g->z_scan, NSCAN, 1.2))
        return dm_error_set(err, -EINVAL, "bad zipf parameters");
    return 0;
}

/* ---- rhythm ---- */

/* Relative workstation activity by UTC hour on a weekday (business hours 08-19). */
static const double user_hour[24] = {0.04, 0.03, 0.03, 0.03, 0.03, 0.05, 0.12, 0.35,
                                     0.75, 0.95, 1.00, 0.95, 0.70, 0.85, 0.98, 0.95,
                                     0.85, 0.60, 0.35, 0.20, 0.14, 0.10, 0.07, 0.05};

static int build_rhythm(struct dm_gen *g, struct dm_error *err)
{
    g->minutes = (uint64_t)g->opt.days * 1440;
    g->cum = dm_malloc((g->minutes + 1) * sizeof(*g->cum));
    g->p_user = dm_malloc(g->minutes * sizeof(*g->p_user));
    if (!g->cum || !g->p_user)
        return dm_error_set(err, -ENOMEM, "out of memory");
    double total = 0;
    g->cum[0] = 0;
    for (uint64_t m = 0; m < g->minutes; m++) {
        unsigned wday = (unsigned)(m / 1440 % 7); /* day 0 is a Monday */
        double x = (double)(m % 1440) / 60.0;     /* hour of day */
        /* Linear interpolation between hour centres. */
        double hx = x - 0.5;
        int h0 = (int)floor(hx);
        double f = hx - h0;
        double u = user_hour[(h0 + 24) % 24] * (1 - f) + user_hour[(h0 + 25) % 24] * f;
        if (wday >= 5)
            u = 0.1 * u + 0.02;
        double srv = 0.30 * (1.0 + 0.2 * cos(6.283185307179586 * (x - 15.0) / 24.0));
        g->p_user[m] = (float)(u / (u + srv));
        total += u + srv;
        g->cum[m + 1] = total;
    }
    for (uint64_t m = 1; m <= g->minutes; m++)
        g->cum[m] /= total;
    g->cum[g->minutes] = 1.0;
    return 0;
}

/* Largest minute m with cum[m] <= q (q in [0, 1)). */
static uint64_t minute_of(const struct dm_gen *g, double q)
{
    uint64_t lo = 0, hi = g->minutes; /* cum[lo] <= q < cum[hi] */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->cum[mid] <= q)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static double row_q(const struct dm_gen *g, uint64_t k)
{
    double j = (double)(dm_rng_mix(g->seed_mix ^ k) >> 11) * 0x1.0p-53;
    return ((double)k + j) / (double)g->bg_rows;
}

static int64_t time_at(const struct dm_gen *g, uint64_t m, double q)
{
    double w = g->cum[m + 1] - g->cum[m];
    double f = w > 0 ? (q - g->cum[m]) / w : 0;
    if (f < 0)
        f = 0;
    if (f >= 1)
        f = 0.999999;
    return g->start_us + (int64_t)(((double)m + f) * (double)US_MIN);
}

/* Start time of background row k. */
static int64_t bg_time(const struct dm_gen *g, uint64_t k)
{
    double q = row_q(g, k);
    return time_at(g, minute_of(g, q), q);
}

/* Number of background rows that start at or before t. */
static uint64_t bg_count_upto(const struct dm_gen *g, int64_t t)
{
    if (t < g->start_us)
        return 0;
    double pos = (double)(t - g->start_us) / (double)US_MIN;
    uint64_t m = (uint64_t)pos;
    if (m >= g->minutes)
        return g->bg_rows;
    double lam = g->cum[m] + (pos - (double)m) * (g->cum[m + 1] - g->cum[m]);
    uint64_t k = (uint64_t)(lam * (double)g->bg_rows);
    if (k > g->bg_rows)
        k = g->bg_rows;
    while (k < g->bg_rows && bg_time(g, k) <= t)
        k++;
    while (k > 0 && bg_time(g, k - 1) > t)
        k--;
    return k;
}

/* ---- flows ---- */

static uint64_t lnb(struct dm_rng *r, double median, double sigma)
{
    double v = dm_rng_lognormal(r, log(median), sigma);
    if (v > 4e12)
        v = 4e12;
    return (uint64_t)(v + 0.5);
}

/* Packets for a payload: full-size segments plus handshake / ack overhead. */
static uint32_t pkts_for(uint64_t bytes, int proto)
{
    uint64_t p = bytes / 1380 + 1 + (proto == 6 ? 2 : 0);
    return p > 0xffffffffu ? 0xffffffffu : (uint32_t)p;
}

static uint16_t eph_port(struct dm_rng *r)
{
    return (uint16_t)(32768 + dm_rng_below(r, 32768));
}

static void finish(struct dm_gen_flow *f)
{
    if (f->action != DM_GEN_ALLOW) {
        f->bytes_sent = f->bytes_recv = 0;
        f->pkts_sent = 1;
        f->pkts_recv = f->action == DM_GEN_DENY && f->proto == 6 ? 1 : 0;
        f->dur_us = 0;
        return;
    }
    f->pkts_sent = pkts_for(f->bytes_sent, f->proto);
    f->pkts_recv = pkts_for(f->bytes_recv, f->proto);
}

static uint32_t pick_ws(const struct dm_gen *g, struct dm_rng *r)
{
    /* Spread the busy ranks over every subnet (7919 is prime, so a bijection). */
    uint64_t rank = dm_zipf_sample(&g->z_ws, r) - 1;
    return g->ws_first + (uint32_t)(rank * 7919 % g->nws);
}

static void user_flow(const struct dm_gen *g, struct dm_rng *r, struct dm_gen_flow *f)
{
    uint32_t ws = pick_ws(g, r);
    double u = dm_rng_uniform(r);
    f->src = ws;
    f->sport = eph_port(r);
    f->proto = 6;
    f->action = DM_GEN_ALLOW;
    if (u < 0.60) {
        uint32_t six = g->ws_v6[ws - g->ws_first];
        if (six != NONE && dm_rng_uniform(r) < 0.3) {
            f->src = six;
            f->dst = g->ext6_first + (uint32_t)dm_zipf_sample(&g->z_ext6, r) - 1;
        } else {
            f->dst = g->ext4_first + (uint32_t)dm_zipf_sample(&g->z_ext4, r) - 1;
        }
        f->dport = dm_rng_uniform(r) < 0.88 ? 443 : 80;
        f->kind = DM__K_WEB;
        f->bytes_sent = lnb(r, 1100, 0.9);
        if (dm_rng_uniform(r) < 0.05)
            f->bytes_sent += lnb(r, 40000, 1.5); /* a form post, an attachment */
        f->bytes_recv = lnb(r, 14000, 1.9);
        f->dur_us = (int64_t)lnb(r, 1.5e6, 1.3);
        if (dm_rng_uniform(r) < 0.015) {
            f->kind = DM__K_WEB_DENY;
            f->action = DM_GEN_DENY;
        }
    } else if (u < 0.75) {
        f->dst = g->dns[dm_rng_below(r, 2)];
        f->proto = 17;
        f->dport = 53;
        f->kind = DM__K_DNS_INT;
        f->bytes_sent = lnb(r, 68, 0.15);
        f->bytes_recv = lnb(r, 140, 0.45);
        f->dur_us = (int64_t)lnb(r, 20000, 0.8);
    } else if (u < 0.80) {
        f->dst = g->mail;
        f->kind = DM__K_MAIL_CLIENT;
        if (dm_rng_uniform(r) < 0.7) {
            f->dport = 993;
            f->bytes_sent = lnb(r, 2000, 1.0);
            f->bytes_recv = lnb(r, 30000, 2.0);
        } else {
            f->dport = 587;
            f->bytes_sent = lnb(r, 25000, 1.6);
            f->bytes_recv = lnb(r, 1500, 0.5);
        }
        f->dur_us = (int64_t)lnb(r, 3e6, 1.2);
    } else if (u < 0.87) {
        f->dst = g->file;
        f->dport = 445;
        f->kind = DM__K_FILE;
        f->bytes_sent = lnb(r, 20000, 2.2);
        f->bytes_recv = lnb(r, 150000, 2.2);
        f->dur_us = (int64_t)lnb(r, 8e6, 1.5);
    } else if (u < 0.94) {
        f->dst = g->app[dm_rng_below(r, 2)];
        f->dport = dm_rng_uniform(r) < 0.7 ? 443 : 8443;
        f->kind = DM__K_APP;
        f->bytes_sent = lnb(r, 3000, 1.2);
        f->bytes_recv = lnb(r, 40000, 1.5);
        f->dur_us = (int64_t)lnb(r, 2e6, 1.2);
    } else if (u < 0.97) {
        f->dst = g->dc;
        f->kind = DM__K_DC;
        if (dm_rng_uniform(r) < 0.5) {
            f->dport = 88;
            f->proto = dm_rng_uniform(r) < 0.5 ? 17 : 6;
        } else {
            f->dport = 389;
        }
        f->bytes_sent = lnb(r, 1500, 0.6);
        f->bytes_recv = lnb(r, 2500, 0.8);
        f->dur_us = (int64_t)lnb(r, 50000, 1.0);
    } else {
        /* Software updates: big downloads from the top-ranked (CDN) addresses. */
        f->dst = g->ext4_first + (uint32_t)dm_rng_below(r, 8);
        f->dport = 443;
        f->kind = DM__K_CDN;
        f->bytes_sent = lnb(r, 4000, 0.5);
        f->bytes_recv = lnb(r, 2.5e6, 1.6);
        f->dur_us = (int64_t)lnb(r, 20e6, 1.0);
    }
}

static const uint16_t scan_ports[] = {22, 23, 445, 3389, 1433, 3306, 5900, 8080, 80, 443,
                                      25, 21, 6379, 9200, 5060, 8443, 2323, 139};

struct chunk_stats {
    uint64_t dmz_flows, dmz_out, dmz_in;
};

static void server_flow(const struct dm_gen *g, struct dm_rng *r, struct dm_gen_flow *f,
                        struct chunk_stats *st)
{
    double u = dm_rng_uniform(r);
    f->sport = eph_port(r);
    f->proto = 6;
    f->action = DM_GEN_ALLOW;
    if (u < 0.38) {
        f->src = g->cli_first + (uint32_t)dm_zipf_sample(&g->z_cli, r) - 1;
        int web = dm_rng_uniform(r) < 0.9;
        f->dst = web ? g->dmz_web : g->vpn;
        f->dport = web && dm_rng_uniform(r) < 0.08 ? 80 : 443;
        f->kind = DM__K_DMZ_WEB;
        f->bytes_sent = lnb(r, 900, 0.8);
        f->bytes_recv = lnb(r, web ? 45000 : 20000, 1.8);
        f->dur_us = (int64_t)lnb(r, 1e6, 1.3);
        if (web) {
            st->dmz_flows++;
            st->dmz_out += f->bytes_recv;
            st->dmz_in += f->bytes_sent;
        }
    } else if (u < 0.58) {
        f->src = g->scan_first + (uint32_t)dm_zipf_sample(&g->z_scan, r) - 1;
        double v = dm_rng_uniform(r);
        f->dst = v < 0.3 ? g->dmz_web : v < 0.45 ? g->vpn : g->dmz_first + (uint32_t)dm_rng_below(r, g->ndmz);
        f->dport = dm_rng_uniform(r) < 0.8
                       ? scan_ports[dm_rng_below(r, sizeof(scan_ports) / sizeof(scan_ports[0]))]
                       : (uint16_t)(1 + dm_rng_below(r, 65535));
        f->proto = dm_rng_uniform(r) < 0.9 ? 6 : 17;
        f->kind = DM__K_SCAN;
        f->action = dm_rng_uniform(r) < 0.7 ? DM_GEN_DENY : DM_GEN_DROP;
        if (f->dst == g->dmz_web && (f->dport == 443 || f->dport == 80))
            f->dport = 8080; /* the web ports are open; scans hit the rest */
    } else if (u < 0.73) {
        f->src = g->dns[dm_rng_below(r, 2)];
        f->dst = g->resolvers[dm_rng_below(r, 3)];
        f->proto = 17;
        f->dport = 53;
        f->kind = DM__K_DNS_FWD;
        f->bytes_sent = lnb(r, 75, 0.2);
        f->bytes_recv = lnb(r, 190, 0.5);
        f->dur_us = (int64_t)lnb(r, 25000, 0.7);
    } else if (u < 0.78) {
        f->src = g->mail;
        f->dst = g->ext4_first + (uint32_t)dm_zipf_sample(&g->z_ext4, r) - 1;
        f->dport = 25;
        f->kind = DM__K_MAIL_OUT;
        f->bytes_sent = lnb(r, 25000, 1.6);
        f->bytes_recv = lnb(r, 1800, 0.4);
        f->dur_us = (int64_t)lnb(r, 2e6, 1.0);
    } else if (u < 0.83) {
        f->src = g->ext4_first + (uint32_t)dm_zipf_sample(&g->z_ext4, r) - 1;
        f->dst = g->mail;
        f->dport = 25;
        f->kind = DM__K_MAIL_IN;
        f->bytes_sent = lnb(r, 30000, 1.6);
        f->bytes_recv = lnb(r, 1500, 0.4);
        f->dur_us = (int64_t)lnb(r, 2e6, 1.0);
    } else if (u < 0.95) {
        int d = (int)dm_rng_below(r, 2);
        f->src = g->app[dm_rng_below(r, 2)];
        f->dst = g->db[d];
        f->dport = d ? 1433 : 5432;
        f->kind = DM__K_DB_APP;
        f->bytes_sent = lnb(r, 900, 0.8);
        f->bytes_recv = lnb(r, 30000, 2.0);
        f->dur_us = (int64_t)lnb(r, 300000, 1.5);
    } else if (u < 0.97) {
        f->src = g->dns[dm_rng_below(r, 2)];
        f->dst = g->ntp[dm_rng_below(r, 2)];
        f->proto = 17;
        f->sport = 123;
        f->dport = 123;
        f->kind = DM__K_NTP;
        f->bytes_sent = 48;
        f->bytes_recv = 48;
        f->dur_us = (int64_t)lnb(r, 30000, 0.5);
    } else {
        f->src = g->mon;
        f->dst = pick_ws(g, r);
        f->proto = 1;
        f->sport = 8; /* ICMP echo request, code 0 */
        f->dport = 0;
        f->kind = DM__K_PING;
        f->bytes_sent = 64;
        f->bytes_recv = 64;
        f->dur_us = (int64_t)lnb(r, 800, 0.5);
    }
}

static void bg_flow(const struct dm_gen *g, struct dm_rng *r, int64_t ts, double p_user,
                    struct dm_gen_flow *f, struct chunk_stats *st)
{
    memset(f, 0, sizeof(*f));
    f->ts_us = ts;
    f->scenario = -1;
    if (dm_rng_uniform(r) < p_user)
        user_flow(g, r, f);
    else
        server_flow(g, r, f, st);
    finish(f);
}

/* ---- planted scenarios ---- */

struct ev_list {
    struct dm_gen_flow *v;
    uint64_t *seq;
    uint64_t n, cap;
};

static uint64_t clampu(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Planted flow counts per scenario for a number of rows and days (background dmz_web
 * flows come on top). */
static void scenario_counts(uint64_t rows, unsigned days, uint64_t n[DM_GEN_NSCENARIOS],
                            uint64_t *per_night)
{
    uint64_t span_s = (uint64_t)days * 86400;
    n[DM_GEN_NIGHT_UPLOAD] = clampu(rows / 50000, 6, 120);
    n[DM_GEN_DB_EXFIL] = clampu(rows / 100000, 4, 60);
    n[DM_GEN_BEACON] = clampu(rows / 500, 12, span_s / 300);
    n[DM_GEN_DNS_TUNNEL] = clampu(rows / 400, 10, 8000);
    n[DM_GEN_SLOW_LEAK] = clampu(rows / 4000, 8, 600);
    *per_night = clampu(rows / 250000, 1, 16);
    n[DM_GEN_BACKUP] = *per_night * days;
    n[DM_GEN_OS_UPDATE] = clampu(rows / 20000, 4, 300);
    n[DM_GEN_DMZ_WEB] = clampu(rows / 1000, 5, 1000);
}

uint64_t dm_gen_min_rows(unsigned days)
{
    uint64_t n[DM_GEN_NSCENARIOS], pn, s = 0;
    scenario_counts(0, days ? days : 1, n, &pn);
    for (int i = 0; i < DM_GEN_NSCENARIOS; i++)
        s += n[i];
    return 2 * s;
}

static struct dm_gen_flow *ev_add(struct ev_list *l, const struct dm_gen *g, int scen,
                                  int64_t ts, uint32_t src, uint32_t dst)
{
    struct dm_gen_flow *f = &l->v[l->n];
    memset(f, 0, sizeof(*f));
    l->seq[l->n] = l->n;
    l->n++;
    if (ts < g->start_us)
        ts = g->start_us;
    if (ts >= g->end_us)
        ts = g->end_us - 1;
    f->ts_us = ts;
    f->src = src;
    f->dst = dst;
    f->proto = 6;
    f->action = DM_GEN_ALLOW;
    f->scenario = (int8_t)scen;
    return f;
}

/* n weights ~ LN(0, sigma) scaled to sum to total. */
static void split_total(struct dm_rng *r, uint64_t *out, uint64_t n, double total, double sigma)
{
    double sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        double w = dm_rng_lognormal(r, 0, sigma);
        out[i] = (uint64_t)(w * 1e6);
        sum += (double)out[i];
    }
    for (uint64_t i = 0; i < n; i++)
        out[i] = (uint64_t)((double)out[i] / sum * total);
}

static int64_t day_at(const struct dm_gen *g, unsigned day, double hours)
{
    unsigned d = day < g->opt.days ? day : g->opt.days - 1;
    return g->start_us + (int64_t)d * US_DAY + (int64_t)(hours * (double)US_HOUR);
}

static int ev_cmp(const void *a, const void *b, void *ctx)
{
    const struct ev_list *l = ctx;
    uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
    if (l->v[i].ts_us != l->v[j].ts_us)
        return l->v[i].ts_us < l->v[j].ts_us ? -1 : 1;
    return i < j ? -1 : i > j;
}

static int build_scenarios(struct dm_gen *g, struct dm_error *err)
{
    uint64_t n[DM_GEN_NSCENARIOS], per_night, total = 0;
    scenario_counts(g->opt.rows, g->opt.days, n, &per_night);
    for (int i = 0; i < DM_GEN_NSCENARIOS; i++)
        total += n[i];
    if (total > g->opt.rows / 2)
        return dm_error_set(err, -EINVAL,
                            "--rows %llu is too small: at least %llu rows are needed for %u days",
                            (unsigned long long)g->opt.rows,
                            (unsigned long long)dm_gen_min_rows(g->opt.days), g->opt.days);
    struct ev_list l = {dm_calloc(total, sizeof(*l.v)), dm_calloc(total, sizeof(*l.seq)), 0,
                        total};
    uint64_t *share = dm_calloc(total, sizeof(*share));
    uint64_t *order = dm_calloc(total, sizeof(*order));
    if (!l.v || !l.seq || !share || !order) {
        dm_free(l.v), dm_free(l.seq), dm_free(share), dm_free(order);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    struct dm_rng r;
    dm_rng_seed(&r, g->opt.seed, 2);
    struct dm_gen_scenario *sc = g->scen;
    struct dm_gen_flow *f;

    /* night_upload: ~3.5 GB to a never-seen address over HTTPS, 01:10-03:40 on day 2. */
    {
        int64_t t0 = day_at(g, 2, 1.15 + dm_rng_uniform(&r) * 0.3);
        int64_t w = 150 * US_MIN;
        uint64_t k = n[DM_GEN_NIGHT_UPLOAD];
        split_total(&r, share, k, 3.5e9 * (0.8 + 0.4 * dm_rng_uniform(&r)), 0.4);
        for (uint64_t i = 0; i < k; i++) {
            int64_t ts = t0 + (int64_t)((double)w * ((double)i + dm_rng_uniform(&r)) / (double)k);
            f = ev_add(&l, g, DM_GEN_NIGHT_UPLOAD, ts, sc[DM_GEN_NIGHT_UPLOAD].host,
                       sc[DM_GEN_NIGHT_UPLOAD].peer);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_WEB;
            f->bytes_sent = share[i];
            f->bytes_recv = share[i] / 250 + lnb(&r, 4000, 0.3);
            f->dur_us = (int64_t)((double)share[i] / (4e6 + 8e6 * dm_rng_uniform(&r)) * 1e6);
            finish(f);
        }
    }
    /* db_exfil: the orders DB sends ~1.2 GB over HTTPS to the internet, evening of day 4. */
    {
        int64_t t0 = day_at(g, 4, 20.08 + dm_rng_uniform(&r) * 0.15);
        int64_t w = 90 * US_MIN;
        uint64_t k = n[DM_GEN_DB_EXFIL];
        split_total(&r, share, k, 1.2e9 * (0.8 + 0.4 * dm_rng_uniform(&r)), 0.3);
        for (uint64_t i = 0; i < k; i++) {
            int64_t ts = t0 + (int64_t)((double)w * ((double)i + dm_rng_uniform(&r)) / (double)k);
            f = ev_add(&l, g, DM_GEN_DB_EXFIL, ts, sc[DM_GEN_DB_EXFIL].host,
                       sc[DM_GEN_DB_EXFIL].peer);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_ANY_OUT;
            f->bytes_sent = share[i];
            f->bytes_recv = share[i] / 400 + lnb(&r, 3000, 0.3);
            f->dur_us = (int64_t)((double)share[i] / (6e6 + 6e6 * dm_rng_uniform(&r)) * 1e6);
            finish(f);
        }
    }
    /* beacon: every span/n seconds (5 min at 1M rows) with 1.5 % jitter, ~1.4 KB up. */
    {
        int64_t t0 = g->start_us + 2 * US_HOUR + (int64_t)(dm_rng_uniform(&r) * 30 * US_MIN);
        int64_t t1 = g->end_us - US_HOUR;
        uint64_t k = n[DM_GEN_BEACON];
        double iv = (double)(t1 - t0) / (double)k;
        for (uint64_t i = 0; i < k; i++) {
            double j = dm_rng_normal(&r) * 0.015 * iv;
            if (j > 0.3 * iv)
                j = 0.3 * iv;
            if (j < -0.3 * iv)
                j = -0.3 * iv;
            int64_t ts = t0 + (int64_t)(iv * (double)i + j);
            f = ev_add(&l, g, DM_GEN_BEACON, ts, sc[DM_GEN_BEACON].host, sc[DM_GEN_BEACON].peer);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_WEB;
            f->bytes_sent = 1400 + (uint64_t)(dm_rng_normal(&r) * 12 + 40);
            f->bytes_recv = 380 + dm_rng_below(&r, 24);
            f->dur_us = (int64_t)lnb(&r, 250000, 0.2);
            finish(f);
        }
    }
    /* dns_tunnel: DNS sessions straight to a non-approved resolver, day 1 09:30-15:30,
     * each 20-80 queries of ~220 bytes with ~90-byte answers. */
    {
        int64_t t0 = day_at(g, 1, 9.5 + dm_rng_uniform(&r) * 0.5);
        int64_t w = 6 * US_HOUR;
        uint64_t k = n[DM_GEN_DNS_TUNNEL];
        for (uint64_t i = 0; i < k; i++) {
            int64_t ts = t0 + (int64_t)((double)w * ((double)i + dm_rng_uniform(&r)) / (double)k);
            f = ev_add(&l, g, DM_GEN_DNS_TUNNEL, ts, sc[DM_GEN_DNS_TUNNEL].host,
                       sc[DM_GEN_DNS_TUNNEL].peer);
            f->proto = 17;
            f->sport = eph_port(&r);
            f->dport = 53;
            f->kind = DM__K_DNS_DIRECT;
            uint64_t q = 20 + dm_rng_below(&r, 61);
            f->bytes_sent = q * (200 + dm_rng_below(&r, 40));
            f->bytes_recv = q * (80 + dm_rng_below(&r, 20));
            f->dur_us = (int64_t)(q * (40000 + dm_rng_below(&r, 60000)));
            finish(f);
            f->pkts_sent = (uint32_t)q;
            f->pkts_recv = (uint32_t)q;
        }
    }
    /* slow_leak: ~300 MB in small HTTPS uploads during business hours on weekdays. */
    {
        uint64_t k = n[DM_GEN_SLOW_LEAK];
        split_total(&r, share, k, 3e8 * (0.8 + 0.4 * dm_rng_uniform(&r)), 0.3);
        unsigned wd[DM_GEN_MAX_DAYS], nwd = 0;
        for (unsigned d = 0; d < g->opt.days; d++)
            if (d % 7 < 5)
                wd[nwd++] = d;
        for (uint64_t i = 0; i < k; i++) {
            unsigned d = wd[dm_rng_below(&r, nwd)];
            int64_t ts = day_at(g, d, 9.0 + 8.0 * dm_rng_uniform(&r));
            f = ev_add(&l, g, DM_GEN_SLOW_LEAK, ts, sc[DM_GEN_SLOW_LEAK].host,
                       sc[DM_GEN_SLOW_LEAK].peer);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_WEB;
            f->bytes_sent = share[i];
            f->bytes_recv = lnb(&r, 6000, 0.4);
            f->dur_us = (int64_t)((double)share[i] / 1.5e6 * 1e6);
            finish(f);
        }
    }
    /* backup (benign): every night from ~01:00, ~25 GB over SSH to the off-site address. */
    {
        for (unsigned d = 0; d < g->opt.days; d++) {
            int64_t t = day_at(g, d, 1.0 + dm_rng_uniform(&r) / 6);
            split_total(&r, share, per_night, 25e9 * dm_rng_lognormal(&r, 0, 0.15), 0.2);
            int64_t slot = (int64_t)(2.5 * (double)US_HOUR) / (int64_t)per_night;
            for (uint64_t i = 0; i < per_night; i++) {
                f = ev_add(&l, g, DM_GEN_BACKUP, t + (int64_t)i * slot, sc[DM_GEN_BACKUP].host,
                           sc[DM_GEN_BACKUP].peer);
                f->sport = eph_port(&r);
                f->dport = 22;
                f->kind = DM__K_BACKUP;
                f->bytes_sent = share[i];
                f->bytes_recv = share[i] / 1000 + lnb(&r, 20000, 0.3);
                f->dur_us = slot - (int64_t)(dm_rng_uniform(&r) * 60e6);
                finish(f);
            }
        }
    }
    /* os_update (benign): the update server pulls ~120 MB packages from a CDN, day 1
     * 19:00-22:30: big downloads, small requests. */
    {
        int64_t t0 = day_at(g, 1, 19.0 + dm_rng_uniform(&r) * 0.25);
        int64_t w = 210 * US_MIN;
        uint64_t k = n[DM_GEN_OS_UPDATE];
        for (uint64_t i = 0; i < k; i++) {
            int64_t ts = t0 + (int64_t)((double)w * ((double)i + dm_rng_uniform(&r)) / (double)k);
            f = ev_add(&l, g, DM_GEN_OS_UPDATE, ts, sc[DM_GEN_OS_UPDATE].host,
                       sc[DM_GEN_OS_UPDATE].peer);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_UPDATE;
            f->bytes_sent = lnb(&r, 25000, 0.5);
            f->bytes_recv = lnb(&r, 120e6, 0.9);
            f->dur_us = (int64_t)((double)f->bytes_recv / 20e6 * 1e6);
            finish(f);
        }
    }
    /* dmz_web (benign): internet clients fetching pages from the DMZ web server. */
    {
        uint64_t k = n[DM_GEN_DMZ_WEB];
        int64_t span = g->end_us - g->start_us;
        for (uint64_t i = 0; i < k; i++) {
            int64_t ts = g->start_us + (int64_t)((double)span * dm_rng_uniform(&r));
            uint32_t cli = g->cli_first + (uint32_t)dm_zipf_sample(&g->z_cli, &r) - 1;
            f = ev_add(&l, g, DM_GEN_DMZ_WEB, ts, cli, g->dmz_web);
            f->sport = eph_port(&r);
            f->dport = 443;
            f->kind = DM__K_DMZ_WEB;
            f->bytes_sent = lnb(&r, 900, 0.8);
            f->bytes_recv = lnb(&r, 45000, 1.8);
            f->dur_us = (int64_t)lnb(&r, 1e6, 1.3);
            finish(f);
        }
    }

    /* Truth per scenario. */
    for (int s = 0; s < DM_GEN_NSCENARIOS; s++) {
        sc[s].kind = (enum dm_gen_scenario_kind)s;
        sc[s].malicious = s < DM_GEN_BACKUP;
        sc[s].start_us = INT64_MAX;
        sc[s].end_us = INT64_MIN;
    }
    for (uint64_t i = 0; i < l.n; i++) {
        const struct dm_gen_flow *e = &l.v[i];
        struct dm_gen_scenario *s = &sc[e->scenario];
        int inbound = !g->hosts[e->src].internal;
        s->flows++;
        s->bytes_out += inbound ? e->bytes_recv : e->bytes_sent;
        s->bytes_in += inbound ? e->bytes_sent : e->bytes_recv;
        if (e->ts_us < s->start_us)
            s->start_us = e->ts_us;
        if (e->ts_us + e->dur_us > s->end_us)
            s->end_us = e->ts_us + e->dur_us;
    }

    /* Sort by time and assign output rows. */
    for (uint64_t i = 0; i < l.n; i++)
        order[i] = i;
    qsort_r(order, l.n, sizeof(*order), ev_cmp, &l);
    g->ev = dm_calloc(l.n, sizeof(*g->ev));
    g->ev_row = dm_calloc(l.n, sizeof(*g->ev_row));
    if (!g->ev || !g->ev_row) {
        dm_free(l.v), dm_free(l.seq), dm_free(share), dm_free(order);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    g->nev = l.n;
    g->bg_rows = g->opt.rows - l.n;
    for (uint64_t i = 0; i < l.n; i++) {
        g->ev[i] = l.v[order[i]];
        g->ev_row[i] = i + bg_count_upto(g, g->ev[i].ts_us);
    }
    dm_free(l.v), dm_free(l.seq), dm_free(share), dm_free(order);
    return 0;
}

/* ---- lifecycle ---- */

int dm_gen_new(struct dm_gen **out, const struct dm_gen_options *opt, struct dm_error *err)
{
    *out = NULL;
    if (opt->days < 1 || opt->days > DM_GEN_MAX_DAYS)
        return dm_error_set(err, -EINVAL, "--days must be between 1 and %d", DM_GEN_MAX_DAYS);
    if ((unsigned)opt->schema > DM_GEN_SURICATA)
        return dm_error_set(err, -EINVAL, "unknown schema");
    struct dm_gen *g = dm_calloc(1, sizeof(*g));
    if (!g)
        return dm_error_set(err, -ENOMEM, "out of memory");
    g->opt = *opt;
    g->start_us = DM_GEN_START_US;
    g->end_us = g->start_us + (int64_t)opt->days * US_DAY;
    g->seed_mix = dm_rng_mix(opt->seed ^ 0x5eedfacecafef00dull);
    int rc = build_rhythm(g, err);
    if (!rc)
        rc = build_hosts(g, err);
    if (!rc)
        rc = build_scenarios(g, err);
    if (rc) {
        dm_gen_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void dm_gen_free(struct dm_gen *g)
{
    if (!g)
        return;
    dm_free(g->cum);
    dm_free(g->p_user);
    dm_free(g->hosts);
    dm_free(g->g6);
    dm_free(g->ws_v6);
    dm_free(g->ev);
    dm_free(g->ev_row);
    dm_free(g);
}

uint64_t dm_gen_nchunks(const struct dm_gen *g)
{
    return (g->opt.rows + DM_GEN_CHUNK_ROWS - 1) / DM_GEN_CHUNK_ROWS;
}

const char *dm_gen_host_text(const struct dm_gen *g, uint32_t h, size_t *len)
{
    if (h >= g->nhosts) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = g->hosts[h].len;
    return g->hosts[h].txt;
}

int dm_gen_host_internal(const struct dm_gen *g, uint32_t h)
{
    return h < g->nhosts && g->hosts[h].internal;
}

const struct dm_gen_scenario *dm_gen_scenarios(const struct dm_gen *g)
{
    return g->scen;
}

/* ---- chunks ---- */

static size_t chunk_flows(const struct dm_gen *g, uint64_t c, struct dm_gen_flow *out,
                          struct chunk_stats *st)
{
    uint64_t r0 = c * DM_GEN_CHUNK_ROWS;
    if (r0 >= g->opt.rows)
        return 0;
    uint64_t r1 = r0 + DM_GEN_CHUNK_ROWS < g->opt.rows ? r0 + DM_GEN_CHUNK_ROWS : g->opt.rows;
    /* First planted flow at or after row r0. */
    uint64_t lo = 0, hi = g->nev;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->ev_row[mid] < r0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t j = lo, k = r0 - lo;
    struct dm_rng r;
    dm_rng_seed(&r, g->opt.seed, 1000 + c);
    uint64_t m = k < g->bg_rows ? minute_of(g, row_q(g, k)) : 0;
    size_t n = 0;
    for (uint64_t row = r0; row < r1; row++, n++) {
        if (j < g->nev && g->ev_row[j] == row) {
            out[n] = g->ev[j++];
            continue;
        }
        double q = row_q(g, k++);
        while (m + 1 < g->minutes && g->cum[m + 1] <= q)
            m++;
        bg_flow(g, &r, time_at(g, m, q), g->p_user[m], &out[n], st);
    }
    return n;
}

size_t dm_gen_chunk_flows(const struct dm_gen *g, uint64_t c, struct dm_gen_flow *out)
{
    struct chunk_stats st = {0, 0, 0};
    return chunk_flows(g, c, out, &st);
}

/* ---- parallel writing ---- */

struct slot {
    struct dm_buf buf;
    struct dm_gen_flow *flows;
    struct chunk_stats st;
    size_t nrows;
    int rc;
};

struct batch {
    const struct dm_gen *g;
    struct slot *slots;
    uint64_t first; /* chunk index of slots[0] */
    size_t n;
};

static void gen_task(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct batch *b = ctx;
    struct slot *s = &b->slots[task];
    uint64_t c = b->first + task;
    memset(&s->st, 0, sizeof(s->st));
    dm_buf_reset(&s->buf);
    s->nrows = chunk_flows(b->g, c, s->flows, &s->st);
    s->rc = dm_buf_reserve(&s->buf, s->nrows * 512);
    if (s->rc)
        return;
    uint64_t row = c * DM_GEN_CHUNK_ROWS;
    for (size_t i = 0; i < s->nrows; i++) {
        if (s->buf.cap - s->buf.len < DM_GEN_MAX_LINE + 1 &&
            (s->rc = dm_buf_reserve(&s->buf, DM_GEN_MAX_LINE + (s->nrows - i) * 512)))
            return;
        s->buf.len += dm_gen_format(b->g, &s->flows[i], row + i, s->buf.data + s->buf.len);
    }
    s->buf.data[s->buf.len] = '\0';
}

int dm_gen_write(struct dm_gen *g, struct dm_pool *pool, dm_gen_sink sink, void *ctx,
                 struct dm_error *err)
{
    uint64_t nchunks = dm_gen_nchunks(g);
    size_t per = pool ? 2 * (size_t)dm_pool_size(pool) + 1 : 1;
    if (per > nchunks)
        per = nchunks ? (size_t)nchunks : 1;
    struct slot *slots = dm_calloc(2 * per, sizeof(*slots));
    if (!slots)
        return dm_error_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < 2 * per; i++) {
        dm_buf_init(&slots[i].buf, DM_BUF_UNLIMITED);
        slots[i].flows = dm_calloc(DM_GEN_CHUNK_ROWS, sizeof(*slots[i].flows));
        if (!slots[i].flows)
            rc = dm_error_set(err, -ENOMEM, "out of memory");
    }
    g->bg_dmz_flows = g->bg_dmz_out = g->bg_dmz_in = 0;
    struct batch b[2];
    struct dm_pool_job job[2];
    uint64_t nbatches = (nchunks + per - 1) / per, rows_done = 0;
    int cur = 0;
    if (!rc && nbatches) {
        b[0] = (struct batch){g, slots, 0, (size_t)(per < nchunks ? per : nchunks)};
        dm_pool_submit(pool, &job[0], b[0].n, gen_task, &b[0]);
    }
    for (uint64_t bi = 0; !rc && bi < nbatches; bi++) {
        dm_pool_wait(pool, &job[cur]);
        int nxt = cur ^ 1;
        if (bi + 1 < nbatches) {
            uint64_t first = (bi + 1) * per;
            size_t cnt = (size_t)(nchunks - first < per ? nchunks - first : per);
            b[nxt] = (struct batch){g, slots + (size_t)nxt * per, first, cnt};
            dm_pool_submit(pool, &job[nxt], cnt, gen_task, &b[nxt]);
        }
        for (size_t i = 0; i < b[cur].n && !rc; i++) {
            struct slot *s = &b[cur].slots[i];
            if (s->rc) {
                rc = dm_error_set(err, s->rc, "out of memory");
                break;
            }
            g->bg_dmz_flows += s->st.dmz_flows;
            g->bg_dmz_out += s->st.dmz_out;
            g->bg_dmz_in += s->st.dmz_in;
            rows_done += s->nrows;
            if ((rc = sink(ctx, s->buf.data, s->buf.len, rows_done)))
                dm_error_set(err, rc, "output failed");
        }
        if (rc && bi + 1 < nbatches)
            dm_pool_wait(pool, &job[nxt]); /* never leave a job running on our slots */
        cur = nxt;
    }
    for (size_t i = 0; i < 2 * per; i++) {
        dm_buf_release(&slots[i].buf);
        dm_free(slots[i].flows);
    }
    dm_free(slots);
    return rc;
}

/* ---- truth and config ---- */

static void iso(int64_t us, char out[48])
{
    int64_t s = us / 1000000;
    int64_t days = s / 86400, sod = s % 86400;
    /* civil from days (proleptic Gregorian) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)(us / 1000 % 1000));
}

static const char *const descriptions[DM_GEN_NSCENARIOS] = {
    "workstation uploads gigabytes over HTTPS at night to a destination no other host uses",
    "the orders DB server sends a large volume over HTTPS to an internet address",
    "workstation beacons to one address at a fixed period with small, near-constant uploads",
    "workstation sends DNS directly to a non-approved resolver, uploads far exceed answers",
    "workstation leaks a few MB per flow to one rare address during business hours, for days",
    "benign: nightly off-site backup over SSH to the known address in hunt.allow",
    "benign: the update server downloads large packages from a popular CDN",
    "benign: the DMZ web server answers many internet clients (outbound = bytes_recv)",
};

static int put_host(struct dm_buf *b, const struct dm_gen *g, uint32_t h)
{
    if (h == NONE)
        return dm_buf_puts(b, "null");
    return dm_buf_printf(b, "\"%s\"", g->hosts[h].txt);
}

int dm_gen_truth_json(const struct dm_gen *g, struct dm_buf *out)
{
    char a[48], z[48];
    iso(g->start_us, a);
    iso(g->end_us, z);
    int rc = dm_buf_printf(out,
                           "{\n  \"seed\": %llu,\n  \"rows\": %llu,\n  \"schema\": \"%s\",\n"
                           "  \"start\": \"%s\",\n  \"end\": \"%s\",\n"
                           "  \"internal_networks\": [\"10.0.0.0/8\", \"172.16.0.0/12\", "
                           "\"192.168.0.0/16\", \"fd12:3456:789a::/48\"],\n"
                           "  \"known_servers\": {",
                           (unsigned long long)g->opt.seed, (unsigned long long)g->opt.rows,
                           dm_gen_schema_name(g->opt.schema), a, z);
    for (size_t i = 0; !rc && i < NSERVERS; i++)
        rc = dm_buf_printf(out, "%s\n    \"%u.%u.%u.%u\": \"%s\"", i ? "," : "",
                           servers[i].addr >> 24, (servers[i].addr >> 16) & 255,
                           (servers[i].addr >> 8) & 255, servers[i].addr & 255, servers[i].name);
    if (!rc)
        rc = dm_buf_puts(out, "\n  },\n  \"approved_resolvers\": [");
    for (uint32_t i = 0; !rc && i < g->nresolvers; i++)
        rc = dm_buf_printf(out, "%s\"%s\"", i ? ", " : "", g->hosts[g->resolvers[i]].txt);
    if (!rc)
        rc = dm_buf_puts(out, "],\n  \"scenarios\": [");
    for (int s = 0; !rc && s < DM_GEN_NSCENARIOS; s++) {
        struct dm_gen_scenario sc = g->scen[s];
        if (s == DM_GEN_DMZ_WEB) {
            sc.flows += g->bg_dmz_flows;
            sc.bytes_out += g->bg_dmz_out;
            sc.bytes_in += g->bg_dmz_in;
            sc.start_us = g->start_us;
            sc.end_us = g->end_us;
        }
        iso(sc.start_us, a);
        iso(sc.end_us, z);
        rc = dm_buf_printf(out, "%s\n    {\"kind\": \"%s\", \"malicious\": %s, \"host\": ",
                           s ? "," : "", scenario_names[s], sc.malicious ? "true" : "false");
        if (!rc)
            rc = put_host(out, g, sc.host);
        if (!rc)
            rc = dm_buf_puts(out, ", \"peer\": ");
        if (!rc)
            rc = put_host(out, g, sc.peer);
        if (!rc)
            rc = dm_buf_printf(out,
                               ", \"start\": \"%s\", \"end\": \"%s\", \"flows\": %llu, "
                               "\"bytes_out\": %llu, \"bytes_in\": %llu,\n     \"description\": "
                               "\"%s\"}",
                               a, z, (unsigned long long)sc.flows,
                               (unsigned long long)sc.bytes_out, (unsigned long long)sc.bytes_in,
                               descriptions[s]);
    }
    if (!rc)
        rc = dm_buf_puts(out, "\n  ]\n}\n");
    return rc;
}

int dm_gen_config_json(const struct dm_gen *g, struct dm_buf *out)
{
    static const char *const cols[4] =
        {"\"_@timestamp\", \"_SourceIP\", \"_DestinationIP\", \"_BytesReceived\", "
         "\"_BytesSent\", \"_Action\", \"_DestinationPort\"",
         "\"@timestamp\", \"source.ip\", \"destination.ip\", \"destination.bytes\", "
         "\"source.bytes\", \"event.action\", \"destination.port\"",
         /* zeek and suricata: the canonical names `convert` writes them under */
         "\"ts\", \"src_ip\", \"dst_ip\", \"bytes_recv\", \"bytes_sent\", \"action\", "
         "\"dst_port\"",
         "\"ts\", \"src_ip\", \"dst_ip\", \"bytes_recv\", \"bytes_sent\", \"action\", "
         "\"dst_port\""};
    int rc = dm_buf_printf(out,
                           "{\n  \"template\": {\"site\": \"datamate demo\", \"title\": "
                           "\"Simulated network (seed %llu)\", \"theme_toggle\": true, "
                           "\"header_background\": \"#1f3a5f\"},\n"
                           "  \"targeted_cols\": [%s],\n  \"known_servers\": {",
                           (unsigned long long)g->opt.seed, cols[g->opt.schema]);
    for (size_t i = 0; !rc && i < NSERVERS; i++)
        rc = dm_buf_printf(out, "%s\n    \"%u.%u.%u.%u\": \"%s\"", i ? "," : "",
                           servers[i].addr >> 24, (servers[i].addr >> 16) & 255,
                           (servers[i].addr >> 8) & 255, servers[i].addr & 255, servers[i].name);
    if (!rc)
        rc = dm_buf_puts(out, "\n  },\n  \"internal_networks\": [\"10.0.0.0/8\", "
                              "\"172.16.0.0/12\", \"192.168.0.0/16\", \"fd12:3456:789a::/48\"],\n"
                              "  \"hunt\": {\n    \"approved_resolvers\": [");
    for (uint32_t i = 0; !rc && i < g->nresolvers; i++)
        rc = dm_buf_printf(out, "%s\"%s\"", i ? ", " : "", g->hosts[g->resolvers[i]].txt);
    if (!rc)
        rc = dm_buf_printf(out, "],\n    \"allow\": {\"destinations\": [\"%s\"]}\n  }\n}\n",
                           g->hosts[g->scen[DM_GEN_BACKUP].peer].txt);
    return rc;
}
