/* dm_hunt_run on a small synthetic network built here as plain arrays: each planted
 * behaviour must come out with the right kind, the benign look-alikes must not, the
 * numbers of every finding must equal a brute-force count of the flows its filter
 * describes, and the result must not depend on the number of threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_hunt.h"
#include "dm_pool.h"
#include "dm_test.h"

#define MAXF 200000
#define MAXIP 1200
#define US 1000000LL
/* Mon 2026-11-23 00:00 UTC */
#define T0 (1795392000LL * US)
#define HOUR (3600LL * US)
#define DAY (86400LL * US)

struct net {
    size_t n, nips;
    int64_t ts[MAXF];
    uint32_t src[MAXF], dst[MAXF];
    uint64_t sent[MAXF], recv[MAXF];
    uint16_t dport[MAXF];
    uint8_t proto[MAXF];
    uint8_t action[MAXF];
    struct dm_ip ips[MAXIP];
    uint8_t cls[MAXIP], role[MAXIP];
    uint64_t rng;
};

static struct net *N;
static struct net *S; /* sorted copy */

static uint32_t rnd(struct net *n, uint32_t below)
{
    n->rng = n->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((n->rng >> 33) % below);
}

static uint32_t ip(struct net *n, const char *text, int internal, int role)
{
    struct dm_ip a;
    assert_int_equal(dm_ip_parse(text, strlen(text), &a), 0);
    for (uint32_t i = 0; i < n->nips; i++)
        if (!memcmp(&n->ips[i], &a, sizeof(a))) {
            if (role)
                n->role[i] = (uint8_t)role;
            return i;
        }
    assert_true(n->nips < MAXIP);
    n->ips[n->nips] = a;
    n->cls[n->nips] = internal ? DM_HUNT_IP_INTERNAL : DM_HUNT_IP_EXTERNAL;
    n->role[n->nips] = (uint8_t)role;
    return (uint32_t)n->nips++;
}

static void add(struct net *n, int64_t ts, uint32_t s, uint32_t d, uint64_t sent, uint64_t recv,
                uint16_t port, uint8_t proto, int failed)
{
    assert_true(n->n < MAXF);
    size_t i = n->n++;
    n->ts[i] = ts;
    n->src[i] = s;
    n->dst[i] = d;
    n->sent[i] = sent;
    n->recv[i] = recv;
    n->dport[i] = port;
    n->proto[i] = proto;
    n->action[i] = (uint8_t)failed;
}

static uint32_t H(struct net *n, int k)
{
    char t[32];
    snprintf(t, sizeof(t), "10.0.0.%d", k);
    return ip(n, t, 1, 0);
}

static uint32_t X(struct net *n, const char *t)
{
    return ip(n, t, 0, 0);
}

static void build(struct net *n, int with_backup)
{
    memset(n, 0, sizeof(*n));
    n->rng = 42;
    ip(n, "0.0.0.0", 0, 0);
    n->cls[0] = DM_HUNT_IP_NONE;
    uint32_t cdn[10];
    for (int i = 0; i < 10; i++) {
        char t[32];
        snprintf(t, sizeof(t), "198.51.100.%d", i + 1);
        cdn[i] = X(n, t);
    }
    /* 40 workstations browse during business hours, Mon-Fri; each also has a few
     * personal destinations */
    for (int h = 1; h <= 40; h++) {
        uint32_t host = H(n, h);
        char t[32];
        snprintf(t, sizeof(t), "203.0.113.%d", h);
        uint32_t own = X(n, t);
        for (int d = 0; d < 5; d++)
            for (int hr = 8; hr < 19; hr++)
                for (int k = 0; k < 3; k++) {
                    int64_t ts = T0 + d * DAY + hr * HOUR + rnd(n, 3600) * US;
                    /* the host's own destination now and then, in bursts */
                    uint32_t peer = k == 2 && rnd(n, 4) == 0 ? own : cdn[rnd(n, 10)];
                    add(n, ts, host, peer, 2000 + rnd(n, 30000), 50000 + rnd(n, 400000), 443, 6,
                        0);
                }
    }
    /* night exfiltration: 10.0.0.7 → 185.1.2.3, Tue 01:10-03:40, 30 x 100 MB */
    for (int i = 0; i < 30; i++)
        add(n, T0 + DAY + 70 * 60 * US + i * 5 * 60 * US, H(n, 7), X(n, "185.1.2.3"),
            100000000 + rnd(n, 1000000), 20000, 443, 6, 0);
    /* beacon: 10.0.0.9 → 45.1.1.1 every 300 s (+- 2 s) for five days, ~1400 bytes up */
    for (int64_t t = T0 + HOUR; t < T0 + 5 * DAY; t += 300 * US)
        add(n, t + ((int64_t)rnd(n, 5) - 2) * US, H(n, 9), X(n, "45.1.1.1"), 1390 + rnd(n, 20), 380, 443,
            6, 0);
    /* DNS tunnel: 10.0.0.11 → 9.9.9.9:53, Wed 09:30-15:30, 500 sessions */
    for (int i = 0; i < 500; i++)
        add(n, T0 + 2 * DAY + 9 * HOUR + 30 * 60 * US + (int64_t)i * 43 * US,
            H(n, 11), X(n, "9.9.9.9"), 11000 + rnd(n, 1000), 4500, 53, 17, 0);
    /* ordinary DNS through the approved resolver 10.0.0.53 is internal: nothing */
    /* DB server 10.0.0.20 sends 1 GB over HTTPS, Thu 20:05 */
    uint32_t db = ip(n, "10.0.0.20", 1, DM_HUNT_ROLE_DB);
    for (int i = 0; i < 20; i++)
        add(n, T0 + 3 * DAY + 20 * HOUR + 5 * 60 * US + i * 60 * US, db, X(n, "91.2.2.2"),
            50000000, 40000, 443, 6, 0);
    /* strobe: 10.0.0.25 hammers 66.6.6.6:8443, Fri 10:00-11:00, 5000 denied attempts */
    for (int i = 0; i < 5000; i++)
        add(n, T0 + 4 * DAY + 10 * HOUR + (int64_t)i * 720000, H(n, 25), X(n, "66.6.6.6"), 0, 0,
            8443, 6, 1);
    /* benign: nightly backup 10.0.0.30 → 77.7.7.7:22, 20 GB a night */
    if (with_backup)
        for (int d = 0; d < 5; d++)
            for (int i = 0; i < 10; i++)
                add(n, T0 + d * DAY + HOUR + i * 10 * 60 * US, H(n, 30), X(n, "77.7.7.7"),
                    2000000000, 2000000, 22, 6, 0);
    /* benign: OS updates, 10.0.0.35 downloads 100 x 120 MB from a popular CDN */
    for (int i = 0; i < 100; i++)
        add(n, T0 + 19 * HOUR + (int64_t)rnd(n, 3 * 3600) * US, H(n, 35), cdn[0],
            20000 + rnd(n, 10000), 120000000, 443, 6, 0);
    /* benign: the DMZ web server 10.0.0.40 (role server) answers 600 clients around the
     * clock; outbound = bytes_recv */
    uint32_t web = ip(n, "10.0.0.40", 1, DM_HUNT_ROLE_SERVER);
    for (int i = 0; i < 6000; i++) {
        char t[32];
        int c = (int)rnd(n, 600);
        snprintf(t, sizeof(t), "100.%d.%d.%d", 70 + c / 250, (c / 5) % 250, c % 5 + 1);
        /* 100.64/10 would be internal by default; the test's own classes decide here */
        uint32_t cli = X(n, t);
        add(n, T0 + (int64_t)rnd(n, 5 * 86400) * US, cli, web, 900, 200000 + rnd(n, 200000), 443,
            6, 0);
    }
}

static int64_t *sort_ts;

static int cmp_row(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_ts[i] != sort_ts[j])
        return sort_ts[i] < sort_ts[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* Copies n into S sorted by ts. */
static void sort_net(const struct net *n)
{
    size_t *o = dm_malloc(n->n * sizeof(*o));
    assert_non_null(o);
    for (size_t i = 0; i < n->n; i++)
        o[i] = i;
    sort_ts = (int64_t *)n->ts;
    qsort(o, n->n, sizeof(*o), cmp_row);
    memcpy(S, n, sizeof(*S));
    for (size_t k = 0; k < n->n; k++) {
        size_t i = o[k];
        S->ts[k] = n->ts[i];
        S->src[k] = n->src[i];
        S->dst[k] = n->dst[i];
        S->sent[k] = n->sent[i];
        S->recv[k] = n->recv[i];
        S->dport[k] = n->dport[i];
        S->proto[k] = n->proto[i];
        S->action[k] = n->action[i];
    }
    dm_free(o);
}

static const uint8_t failed_by_id[2] = {0, 1};

static void view(const struct net *n, struct dm_hunt_flows *f)
{
    memset(f, 0, sizeof(*f));
    f->n = n->n;
    f->ts = n->ts;
    f->src = n->src;
    f->dst = n->dst;
    f->sent = (struct dm_hunt_col){n->sent, 8, NULL};
    f->recv = (struct dm_hunt_col){n->recv, 8, NULL};
    f->dport = (struct dm_hunt_col){n->dport, 2, NULL};
    f->proto = (struct dm_hunt_col){n->proto, 1, NULL};
    f->action = (struct dm_hunt_col){n->action, 1, NULL};
    f->action_failed = failed_by_id;
    f->naction = 2;
    f->nips = n->nips;
    f->ip_class = n->cls;
    f->ip_role = n->role;
    f->ips = n->ips;
}

static int find(const struct net *n, const struct dm_hunt_result *r, size_t top, const char *host,
                const char *peer, int kind)
{
    struct dm_ip h, p;
    dm_ip_parse(host, strlen(host), &h);
    dm_ip_parse(peer, strlen(peer), &p);
    for (size_t i = 0; i < r->nfindings && i < top; i++) {
        const struct dm_hunt_finding *fd = &r->findings[i];
        if (memcmp(&n->ips[fd->host], &h, sizeof(h)))
            continue;
        for (uint32_t k = 0; k < fd->npeers; k++)
            if (!memcmp(&n->ips[fd->peers[k]], &p, sizeof(p)) && (kind < 0 || fd->kind == kind))
                return 1;
    }
    return 0;
}

static int host_in_top(const struct net *n, const struct dm_hunt_result *r, size_t top,
                       const char *host)
{
    struct dm_ip h;
    dm_ip_parse(host, strlen(host), &h);
    for (size_t i = 0; i < r->nfindings && i < top; i++)
        if (!memcmp(&n->ips[r->findings[i].host], &h, sizeof(h)))
            return 1;
    return 0;
}

/* The flows a finding's filter selects, counted straight from the rows. */
static void brute(const struct net *n, const struct dm_hunt_config *c,
                  const struct dm_hunt_finding *fd, uint64_t *flows, uint64_t *out)
{
    *flows = *out = 0;
    for (size_t r = 0; r < n->n; r++) {
        uint32_t s = n->src[r], d = n->dst[r];
        int fwd = s == fd->host, rev = d == fd->host;
        if (!fwd && !rev)
            continue;
        uint32_t peer = fwd ? d : s;
        if (n->cls[peer] != DM_HUNT_IP_EXTERNAL)
            continue;
        if (dm_cidr_set_contains(&c->allow_cidrs, &n->ips[peer]))
            continue;
        if (fd->outbound_only && !fwd)
            continue;
        if (!fd->all_peers) {
            int hit = 0;
            for (uint32_t k = 0; k < fd->npeers; k++)
                hit |= fd->peers[k] == peer;
            if (!hit)
                continue;
        }
        if (fd->time_only && (n->ts[r] < fd->start || n->ts[r] > fd->end))
            continue;
        if (fd->port_only && n->dport[r] != fd->port)
            continue;
        if (fd->proto_only && n->proto[r] != fd->proto)
            continue;
        (*flows)++;
        *out += fwd ? n->sent[r] : n->recv[r];
    }
}

static void dump(struct dm_hunt_result *r, const struct dm_hunt_config *c)
{
    if (!getenv("HUNT_DEBUG"))
        return;
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    struct dm_hunt_output o = {r, &f, c, NULL, 30, NULL, NULL};
    dm_hunt_write_json(&b, &o);
    fprintf(stderr, "%s\n", b.data);
    dm_buf_release(&b);
}

static void check_planted(struct dm_hunt_result *r)
{
    assert_true(find(S, r, 10, "10.0.0.7", "185.1.2.3", DM_HUNT_OFF_HOURS));
    assert_true(find(S, r, 10, "10.0.0.9", "45.1.1.1", DM_HUNT_BEACON));
    assert_true(find(S, r, 10, "10.0.0.11", "9.9.9.9", DM_HUNT_TUNNEL));
    assert_true(find(S, r, 10, "10.0.0.20", "91.2.2.2", DM_HUNT_ROLE_VIOLATION));
    assert_true(find(S, r, 10, "10.0.0.25", "66.6.6.6", DM_HUNT_STROBE));
    assert_false(host_in_top(S, r, 10, "10.0.0.35"));
    assert_false(host_in_top(S, r, 10, "10.0.0.40"));
}

static void test_planted_and_benign(void **state)
{
    (void)state;
    build(N, 1);
    sort_net(N);
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    assert_int_equal(dm_cidr_set_add_str(&c.allow_cidrs, "77.7.7.7", 8, NULL), 0);
    struct dm_hunt_result r;
    struct dm_error err;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), 0);
    dump(&r, &c);
    check_planted(&r);
    assert_false(host_in_top(S, &r, r.nfindings, "10.0.0.30"));
    /* every number is what the filter selects */
    for (size_t i = 0; i < r.nfindings; i++) {
        uint64_t flows, out;
        brute(S, &c, &r.findings[i], &flows, &out);
        assert_int_equal(flows, r.findings[i].flows);
        assert_int_equal(out, r.findings[i].bytes_out);
    }
    /* the host roll-up ranks the planted hosts and never the benign ones */
    assert_true(r.nhosts >= 5);
    for (size_t i = 0; i < r.nhosts; i++) {
        char t[DM_IP_STRLEN];
        dm_ip_format(&S->ips[r.hosts[i].host], t);
        assert_true(strcmp(t, "10.0.0.35") && strcmp(t, "10.0.0.40"));
        if (i)
            assert_true(r.hosts[i - 1].score >= r.hosts[i].score);
    }
    /* the JSON renders and names the kinds */
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    struct dm_hunt_output o = {&r, &f, &c, "dport != 7", 10, NULL, NULL};
    assert_int_equal(dm_hunt_write_json(&b, &o), 0);
    assert_non_null(strstr(b.data, "\"kind\": \"beacon\""));
    assert_non_null(strstr(b.data, "\"filter\": \"(dport != 7) and src = 10.0.0.9 and dst = 45.1.1.1\""));
    assert_non_null(strstr(b.data, "\"hosts\": ["));
    dm_buf_reset(&b);
    assert_int_equal(dm_hunt_write_table(&b, &o), 0);
    assert_non_null(strstr(b.data, "outside business hours"));
    dm_buf_release(&b);
    dm_hunt_result_release(&r);

    /* without the allowlist the nightly backup is an off-hours finding */
    dm_hunt_config_release(&c);
    dm_hunt_config_init(&c);
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), 0);
    assert_true(find(S, &r, r.nfindings, "10.0.0.30", "77.7.7.7", -1));
    dm_hunt_result_release(&r);
    dm_hunt_config_release(&c);
}


/* The host's own baselines: 30 workstations send k x 20 KB every hour for a week (downloading
 * ten times more); 10.0.0.31 looks like them but sends 200 MB in one hour (Thu 14:00) spread
 * over the usual CDN peers, so nothing stands out against the population: only its own
 * hourly baseline catches it. 10.0.0.32 browses too, but on Fri uploads 1 GB: its PCR that
 * day is far above its daily median while its PCR over the week stays low. */
static void build_baseline(struct net *n)
{
    memset(n, 0, sizeof(*n));
    n->rng = 7;
    ip(n, "0.0.0.0", 0, 0);
    n->cls[0] = DM_HUNT_IP_NONE;
    uint32_t cdn[10];
    for (int i = 0; i < 10; i++) {
        char t[32];
        snprintf(t, sizeof(t), "198.51.100.%d", i + 1);
        cdn[i] = X(n, t);
    }
    for (int h = 1; h <= 32; h++) {
        uint32_t host = H(n, h);
        uint64_t per = (uint64_t)(h <= 30 ? h : 15) * 20000;
        for (int hr = 0; hr < 7 * 24; hr++) {
            uint64_t sent = per / 2 + rnd(n, (uint32_t)per);
            add(n, T0 + hr * HOUR + rnd(n, 3600) * US, host, cdn[rnd(n, 10)], sent, 10 * sent,
                443, 6, 0);
        }
    }
    for (int i = 0; i < 10; i++)
        add(n, T0 + 3 * DAY + 14 * HOUR + i * 60 * US, H(n, 31), cdn[i], 20000000 + rnd(n, 1000),
            5000, 443, 6, 0);
    for (int i = 0; i < 100; i++)
        add(n, T0 + 4 * DAY + 9 * HOUR + i * 90 * US, H(n, 32), cdn[i % 10],
            10000000 + rnd(n, 1000), 3000, 443, 6, 0);
}

static const struct dm_hunt_finding *find_kind(const struct net *n, const struct dm_hunt_result *r,
                                                const char *host, int kind)
{
    struct dm_ip h;
    dm_ip_parse(host, strlen(host), &h);
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].kind == kind && !memcmp(&n->ips[r->findings[i].host], &h, sizeof(h)))
            return &r->findings[i];
    return NULL;
}

static void test_own_baselines(void **state)
{
    (void)state;
    build_baseline(N);
    sort_net(N);
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    struct dm_hunt_result r;
    struct dm_error err;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), 0);
    dump(&r, &c);
    /* the burst: a volume finding on the hour, against the host's 168 active hours */
    const struct dm_hunt_finding *b = find_kind(S, &r, "10.0.0.31", DM_HUNT_VOLUME);
    assert_non_null(b);
    assert_true(b->ev[10] == 168 && b->ev[7] >= c.z_threshold);
    assert_true(b->ev[1] < c.z_threshold && b->ev[2] == 0); /* the population saw nothing */
    assert_true(b->start >= T0 + 3 * DAY + 14 * HOUR && b->end < T0 + 3 * DAY + 15 * HOUR);
    assert_true(b->bytes_out >= 200000000 && b->peers_total == 10);
    /* no host of the steady population has a volume or pcr finding (random hourly
     * connections to a few peers can look periodic to RITA's beacon score: not judged here) */
    for (size_t i = 0; i < r.nfindings; i++) {
        char t[DM_IP_STRLEN];
        dm_ip_format(&S->ips[r.findings[i].host], t);
        if (r.findings[i].kind != DM_HUNT_VOLUME && r.findings[i].kind != DM_HUNT_PCR)
            continue;
        if (strcmp(t, "10.0.0.31") && strcmp(t, "10.0.0.32"))
            fail_msg("steady host %s flagged (kind %d)", t, r.findings[i].kind);
    }
    for (size_t i = 0; i < r.nfindings; i++) {
        uint64_t flows, out;
        brute(S, &c, &r.findings[i], &flows, &out);
        assert_int_equal(flows, r.findings[i].flows);
        assert_int_equal(out, r.findings[i].bytes_out);
    }
    struct dm_buf jb;
    dm_buf_init(&jb, DM_BUF_UNLIMITED);
    struct dm_hunt_output o = {&r, &f, &c, NULL, 10, NULL, NULL};
    assert_int_equal(dm_hunt_write_json(&jb, &o), 0);
    assert_non_null(strstr(jb.data, "above its own typical hour"));
    assert_non_null(strstr(jb.data, "\"active_hours\": 168"));
    dm_buf_release(&jb);
    dm_hunt_result_release(&r);

    /* the PCR shift, with the population volume test out of the way */
    c.z_threshold = 100;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), 0);
    dump(&r, &c);
    const struct dm_hunt_finding *p = find_kind(S, &r, "10.0.0.32", DM_HUNT_PCR);
    assert_non_null(p);
    /* that day: ~1 GB + 24 x 300 KB out, 24 x 3 MB + 300 KB in; the other six days ~ -0.82 */
    assert_true(p->ev[0] > 0.8 && p->ev[4] < -0.7 && p->ev[5] >= c.pcr_shift && p->ev[6] == 7);
    assert_true(p->start >= T0 + 4 * DAY && p->end < T0 + 5 * DAY);
    uint64_t flows, out;
    brute(S, &c, p, &flows, &out);
    assert_int_equal(flows, p->flows);
    assert_int_equal(out, p->bytes_out);
    assert_true(out > 1000000000);
    dm_buf_init(&jb, DM_BUF_UNLIMITED);
    assert_int_equal(dm_hunt_write_json(&jb, &o), 0);
    assert_non_null(strstr(jb.data, "producer/consumer ratio rose to"));
    dm_buf_release(&jb);
    dm_hunt_result_release(&r);
    /* a larger required shift silences it */
    c.pcr_shift = 1.9;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), 0);
    assert_null(find_kind(S, &r, "10.0.0.32", DM_HUNT_PCR));
    dm_hunt_result_release(&r);
    dm_hunt_config_release(&c);
}

static void test_threads_same_result(void **state)
{
    (void)state;
    build(N, 0);
    sort_net(N);
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    struct dm_hunt_result r1, r2, r3;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r1, NULL), 0);
    struct dm_pool *pool = dm_pool_new(3);
    assert_non_null(pool);
    assert_int_equal(dm_hunt_run(&f, &c, pool, &r2, NULL), 0);
    assert_int_equal(dm_hunt_run(&f, &c, pool, &r3, NULL), 0);
    dm_pool_free(pool);
    assert_true(r1.nfindings >= 5);
    assert_int_equal(r1.nfindings, r2.nfindings);
    assert_int_equal(r2.nfindings, r3.nfindings);
    assert_memory_equal(r1.findings, r2.findings, r1.nfindings * sizeof(*r1.findings));
    assert_memory_equal(r2.findings, r3.findings, r1.nfindings * sizeof(*r1.findings));
    assert_int_equal(r1.nhosts, r2.nhosts);
    assert_memory_equal(r1.hosts, r2.hosts, r1.nhosts * sizeof(*r1.hosts));
    dm_hunt_result_release(&r1);
    dm_hunt_result_release(&r2);
    dm_hunt_result_release(&r3);
    dm_hunt_config_release(&c);
}

static void test_selection_and_errors(void **state)
{
    (void)state;
    build(N, 0);
    sort_net(N);
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    /* select only the beacon host's rows: only its finding remains */
    uint32_t *sel = dm_malloc(S->n * sizeof(*sel));
    assert_non_null(sel);
    size_t ns = 0;
    struct dm_ip b;
    dm_ip_parse("10.0.0.9", 8, &b);
    for (size_t i = 0; i < S->n; i++)
        if (!memcmp(&S->ips[S->src[i]], &b, sizeof(b)))
            sel[ns++] = (uint32_t)i;
    f.sel = sel;
    f.nsel = ns;
    struct dm_hunt_result r;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, NULL), 0);
    assert_true(r.nfindings >= 1);
    assert_int_equal(r.findings[0].kind, DM_HUNT_BEACON);
    dm_hunt_result_release(&r);
    /* out-of-order selection is refused */
    uint32_t bad[2] = {5, 1};
    f.sel = bad;
    f.nsel = 2;
    struct dm_error err;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "sorted"));
    /* a row pointing past the IP table is refused */
    f.sel = NULL;
    f.nips = 3;
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, &err), -EINVAL);
    dm_free(sel);
    /* an empty table gives no findings */
    memset(&f, 0, sizeof(f));
    assert_int_equal(dm_hunt_run(&f, &c, NULL, &r, NULL), 0);
    assert_int_equal(r.nfindings, 0);
    dm_hunt_result_release(&r);
    dm_hunt_config_release(&c);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    build(N, 0);
    sort_net(N);
    struct dm_hunt_flows f;
    view(S, &f);
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    int ok = 0;
    for (uint64_t k = 1; k < 400 && !ok; k += 7) {
        struct dm_hunt_result r;
        dm_alloc_fail_at(k, 0);
        int rc = dm_hunt_run(&f, &c, NULL, &r, NULL);
        dm_alloc_fail_at(0, 0);
        assert_true(rc == 0 || rc == -ENOMEM);
        ok = rc == 0 && dm_alloc_count() > 0 && k > 300;
        dm_hunt_result_release(&r);
    }
    dm_hunt_config_release(&c);
}

static int setup(void **state)
{
    (void)state;
    N = dm_malloc(sizeof(*N));
    S = dm_malloc(sizeof(*S));
    return N && S ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dm_free(N);
    dm_free(S);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_and_benign),
        cmocka_unit_test(test_own_baselines),
        cmocka_unit_test(test_threads_same_result),
        cmocka_unit_test(test_selection_and_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
