/* Rendering findings: the JSON contract, the terminal table, the one-sentence explanation
 * and the filter expression (query --where language, docs/filter.md) that selects exactly
 * the flows a finding counts. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dm_buf.h"
#include "dm_hunt.h"
#include "banned.h"

static const char *const ev_names[DM_HUNT_NKINDS][DM_HUNT_MAX_EVIDENCE + 1] = {
    [DM_HUNT_VOLUME] = {"z", "host_z", "pair_z", "median_host_bytes_out",
                        "median_pair_bytes_out", "host_initiated_bytes_out", "internal_hosts",
                        "hour_z", "hour_bytes_out", "median_hour_bytes_out", "active_hours",
                        NULL},
    [DM_HUNT_PCR] = {"pcr", "initiated_bytes_out", "initiated_bytes_in", "threshold",
                     "baseline_pcr", "shift", "days", NULL},
    [DM_HUNT_OFF_HOURS] = {"off_hours_bytes_out", "period_hours", "in_hours_bytes_out",
                           "business_hours_in_data", "off_hours_bytes_per_hour",
                           "in_hours_bytes_per_hour", "ratio", NULL},
    [DM_HUNT_RARE_DESTINATION] = {"hosts_contacting", "internal_hosts", "prevalence",
                                  "rare_max_hosts", "first_seen_fraction", "rare_peers", NULL},
    [DM_HUNT_BEACON] = {"beacon_score", "ts_score", "ds_score", "hist_score", "dur_score",
                        "ts_skew", "ts_madm", "ds_skew", "ds_madm", "gap_median_s",
                        "bytes_median", "connections", "prevalence", NULL},
    [DM_HUNT_ROLE_VIOLATION] = {"role", "violating_bytes_out", "violating_flows",
                                "violating_initiated", "top_port", NULL},
    [DM_HUNT_TUNNEL] = {"port", "proto", "tunnel_bytes_out", "tunnel_bytes_in", "ratio",
                        "tunnel_flows", "bytes_out_per_flow", NULL},
    [DM_HUNT_ELEPHANT] = {"largest_flow_bytes", "largest_hour_bytes", "longest_duration_s",
                          "threshold_bytes", "long_connection_s", NULL},
    [DM_HUNT_STROBE] = {"connections", "per_day", "threshold_per_day", "failed_share",
                        "median_per_peer", "port", NULL},
};

const char *const *dm_hunt_evidence_names(int kind)
{
    return kind >= 0 && kind < DM_HUNT_NKINDS ? ev_names[kind] : NULL;
}

static const char *role_word(int role)
{
    switch (role) {
    case DM_HUNT_ROLE_DB: return "database";
    case DM_HUNT_ROLE_MAIL: return "mail";
    default: return "server";
    }
}

/* ISO 8601 UTC with seconds (µs dropped: findings' windows are shown to the second, filters
 * use exact bounds). */
static void iso(int64_t us, char out[96], int with_us)
{
    int64_t s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - s * 1000000;
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400), sod = s - days * 86400;
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
    if (with_us && frac)
        snprintf(out, 96, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", (long long)y,
                 (long long)m, (long long)d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
                 (long long)(sod % 60), (long long)frac);
    else
        snprintf(out, 96, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y,
                 (long long)m, (long long)d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
                 (long long)(sod % 60));
}

/* "2026-11-03 01:10" */
static void short_time(int64_t us, char out[96])
{
    char t[96];
    iso(us, t, 0);
    snprintf(out, 96, "%.10s %.5s", t, t + 11);
}

static void human_bytes(double b, char out[32])
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 1000 && u < 5)
        b /= 1000, u++;
    if (u == 0)
        snprintf(out, 32, "%.0f B", b);
    else
        snprintf(out, 32, "%.*f %s", b < 10 ? 2 : b < 100 ? 1 : 0, b, units[u]);
}

static void ip_text(const struct dm_hunt_output *o, uint32_t id, char out[DM_IP_STRLEN])
{
    dm_ip_format(&o->f->ips[id], out);
}

static int put_num(struct dm_buf *b, double v)
{
    if (!isfinite(v))
        return dm_buf_puts(b, "null");
    if (v == floor(v) && fabs(v) < 9e15)
        return dm_buf_printf(b, "%.0f", v);
    return dm_buf_printf(b, "%.6g", v);
}

int dm_hunt_write_filter(struct dm_buf *b, const struct dm_hunt_output *o,
                         const struct dm_hunt_finding *fd)
{
    char h[DM_IP_STRLEN], p[DM_IP_STRLEN];
    const struct dm_hunt_config *c = o->c;
    int rc = 0;
    ip_text(o, fd->host, h);
    if (o->where && *o->where)
        rc = dm_buf_printf(b, "(%s) and ", o->where);
    /* the peer side */
    struct dm_buf peers;
    dm_buf_init(&peers, 4096);
    if (fd->all_peers) {
        rc = rc ? rc : dm_buf_puts(&peers, "external");
    } else if (fd->npeers == 1) {
        ip_text(o, fd->peers[0], p);
        rc = rc ? rc : dm_buf_printf(&peers, "= %s", p);
    } else {
        rc = rc ? rc : dm_buf_puts(&peers, "in [");
        for (uint32_t i = 0; !rc && i < fd->npeers; i++) {
            ip_text(o, fd->peers[i], p);
            rc = dm_buf_printf(&peers, "%s%s", i ? ", " : "", p);
        }
        rc = rc ? rc : dm_buf_putc(&peers, ']');
    }
    if (!rc) {
        if (fd->outbound_only)
            rc = dm_buf_printf(b, "src = %s and dst %s", h, peers.data);
        else
            rc = dm_buf_printf(b, "((src = %s and dst %s) or (src %s and dst = %s))", h,
                               peers.data, peers.data, h);
    }
    dm_buf_release(&peers);
    if (!rc && fd->port_only)
        rc = dm_buf_printf(b, " and dport = %u", fd->port);
    if (!rc && fd->proto_only)
        rc = dm_buf_printf(b, " and proto = %u", fd->proto);
    if (!rc && fd->time_only) {
        char a[96], z[96];
        iso(fd->start, a, 1);
        iso(fd->end + 1, z, 1);
        rc = dm_buf_printf(b, " and ts >= \"%s\" and ts < \"%s\"", a, z);
    }
    /* the allowlists hunt applied, when the peer side could include them */
    if (!rc && fd->all_peers && c && c->allow_cidrs.n) {
        rc = dm_buf_puts(b, " and ip not in [");
        for (size_t i = 0; !rc && i < c->allow_cidrs.n; i++) {
            char t[DM_IP_STRLEN + 4];
            dm_cidr_format(&c->allow_cidrs.v[i], t);
            rc = dm_buf_printf(b, "%s%s", i ? ", " : "", t);
        }
        rc = rc ? rc : dm_buf_putc(b, ']');
    }
    if (!rc && c && c->n_allow_ports && !fd->port_only) {
        rc = dm_buf_puts(b, " and dport not in [");
        for (size_t i = 0; !rc && i < c->n_allow_ports; i++)
            rc = dm_buf_printf(b, "%s%u", i ? ", " : "", c->allow_ports[i]);
        rc = rc ? rc : dm_buf_putc(b, ']');
    }
    return rc;
}

static int peers_phrase(struct dm_buf *b, const struct dm_hunt_output *o,
                        const struct dm_hunt_finding *fd)
{
    char p[DM_IP_STRLEN];
    if (!fd->npeers)
        return dm_buf_puts(b, "external addresses");
    ip_text(o, fd->peers[0], p);
    int rc = dm_buf_puts(b, p);
    uint32_t others = (fd->peers_total > fd->npeers ? fd->peers_total : fd->npeers) - 1;
    if (!rc && others)
        rc = dm_buf_printf(b, " and %u other address%s", others, others > 1 ? "es" : "");
    return rc;
}

int dm_hunt_write_explanation(struct dm_buf *b, const struct dm_hunt_output *o,
                              const struct dm_hunt_finding *fd)
{
    char h[DM_IP_STRLEN], by[32], by2[32], t0[96], t1[96];
    ip_text(o, fd->host, h);
    human_bytes((double)fd->bytes_out, by);
    short_time(fd->start, t0);
    short_time(fd->end, t1);
    const double *e = fd->ev;
    int rc = 0;
    switch (fd->kind) {
    case DM_HUNT_VOLUME:
        if (e[10] > 0) { /* a burst against the host's own hours */
            human_bytes(e[9], by2);
            rc = dm_buf_printf(b, "%s sent %s to ", h, by);
            rc = rc ? rc : peers_phrase(b, o, fd);
            rc = rc ? rc
                    : dm_buf_printf(b,
                                    " between %s and %s UTC, an hour %.1f robust standard "
                                    "deviations above its own typical hour of %s (%.0f active "
                                    "hours)",
                                    t0, t1 + 11, e[7], by2, e[10]);
            break;
        }
        rc = dm_buf_printf(b, "%s sent %s to ", h, by);
        rc = rc ? rc : peers_phrase(b, o, fd);
        human_bytes(e[2] > 0 ? e[4] : e[3], by2);
        rc = rc ? rc
                : dm_buf_printf(b,
                                " between %s and %s UTC, %.1f robust standard deviations above "
                                "the typical %s of %s",
                                t0, t1, e[0], e[2] > 0 ? "host-to-peer volume" : "host volume",
                                by2);
        break;
    case DM_HUNT_PCR:
        human_bytes(e[2], by2);
        if (e[6] > 0) { /* a shift against the host's own days */
            rc = dm_buf_printf(b,
                               "%s's producer/consumer ratio rose to %+.2f on %.10s from its "
                               "daily median of %+.2f over %.0f days: it uploaded %s and "
                               "downloaded only %s on the connections it opened, mostly to ",
                               h, e[0], t0, e[4], e[6], by, by2);
            rc = rc ? rc : peers_phrase(b, o, fd);
            break;
        }
        rc = dm_buf_printf(b,
                           "%s uploaded %s and downloaded only %s on the connections it opened "
                           "(producer/consumer ratio %+.2f), mostly to ",
                           h, by, by2, e[0]);
        rc = rc ? rc : peers_phrase(b, o, fd);
        break;
    case DM_HUNT_OFF_HOURS:
        rc = dm_buf_printf(b, "%s sent %s to ", h, by);
        rc = rc ? rc : peers_phrase(b, o, fd);
        rc = rc ? rc
                : dm_buf_printf(b,
                                " between %s and %s UTC, outside business hours, at %.0f times "
                                "its in-hours rate",
                                t0, t1 + 11, e[6]);
        break;
    case DM_HUNT_RARE_DESTINATION:
        rc = dm_buf_printf(b, "%s sent %s to ", h, by);
        rc = rc ? rc : peers_phrase(b, o, fd);
        rc = rc ? rc
                : dm_buf_printf(b,
                                " (contacted by %.0f of %.0f internal hosts) between %s and %s "
                                "UTC",
                                e[0], e[1], t0, t1);
        break;
    case DM_HUNT_BEACON: {
        human_bytes(e[10], by2);
        rc = dm_buf_printf(b, "%s connected to ", h);
        rc = rc ? rc : peers_phrase(b, o, fd);
        double gap = e[9];
        const char *unit = "s";
        if (gap >= 3600)
            gap /= 3600, unit = " h";
        else if (gap >= 120)
            gap /= 60, unit = " min";
        rc = rc ? rc
                : dm_buf_printf(b,
                                " %.0f times between %s and %s UTC, every %.1f%s with about %s "
                                "each (beacon score %.2f)",
                                e[11], t0, t1, gap, unit, by2, fd->score / 100);
        break;
    }
    case DM_HUNT_ROLE_VIOLATION: {
        const char *name = o->role_name ? o->role_name(o->role_ctx, fd->host) : NULL;
        human_bytes(e[1], by2);
        if (name)
            rc = dm_buf_printf(b, "%s (%s, a %s server) sent %s to ", h, name,
                               role_word((int)e[0]), by2);
        else
            rc = dm_buf_printf(b, "%s (a %s server) sent %s to ", h, role_word((int)e[0]), by2);
        rc = rc ? rc : peers_phrase(b, o, fd);
        rc = rc ? rc
                : dm_buf_printf(b, " on port %.0f between %s and %s UTC, traffic a %s server "
                                   "should not send",
                                e[4], t0, t1, role_word((int)e[0]));
        break;
    }
    case DM_HUNT_TUNNEL: {
        human_bytes(e[3], by2);
        char what[32];
        if (e[0] == 53)
            snprintf(what, sizeof(what), "DNS (port 53)");
        else if (e[0] == 123)
            snprintf(what, sizeof(what), "NTP (port 123)");
        else
            snprintf(what, sizeof(what), "ICMP");
        rc = dm_buf_printf(b, "%s sent %s over %s to ", h, by, what);
        rc = rc ? rc : peers_phrase(b, o, fd);
        rc = rc ? rc
                : dm_buf_printf(b,
                                ", not an approved resolver, and received %s (%.1f times less) "
                                "between %s and %s UTC",
                                by2, e[4], t0, t1);
        break;
    }
    case DM_HUNT_ELEPHANT:
        if (e[1] >= e[3]) {
            rc = dm_buf_printf(b, "%s sent %s to ", h, by);
            rc = rc ? rc : peers_phrase(b, o, fd);
            rc = rc ? rc
                    : dm_buf_printf(b, " %s between %s and %s UTC",
                                    fd->start == fd->end ? "in a single flow" : "within one hour",
                                    t0, t1);
        } else {
            rc = dm_buf_printf(b, "%s kept a connection to ", h);
            rc = rc ? rc : peers_phrase(b, o, fd);
            rc = rc ? rc
                    : dm_buf_printf(b, " open for %.1f hours from %s UTC and sent %s", e[2] / 3600,
                                    t0, by);
        }
        break;
    case DM_HUNT_STROBE:
        rc = dm_buf_printf(b, "%s opened %.0f connections to ", h, e[0]);
        rc = rc ? rc : peers_phrase(b, o, fd);
        rc = rc ? rc
                : dm_buf_printf(b,
                                " port %.0f between %s and %s UTC (%.0f a day, %.0f%% failed) "
                                "against a median of %.0f per peer",
                                e[5], t0, t1, e[1], 100 * e[3], e[4]);
        break;
    default:
        rc = -EINVAL;
    }
    return rc;
}

static int write_finding_json(struct dm_buf *b, const struct dm_hunt_output *o,
                              const struct dm_hunt_finding *fd)
{
    char h[DM_IP_STRLEN], p[DM_IP_STRLEN], t0[96], t1[96];
    ip_text(o, fd->host, h);
    iso(fd->start, t0, 1);
    iso(fd->end, t1, 1);
    int rc = dm_buf_printf(b, "{\"kind\": \"%s\", \"score\": %.1f, \"host\": \"%s\", \"peers\": [",
                           dm_hunt_kind_name(fd->kind), fd->score, h);
    for (uint32_t i = 0; !rc && i < fd->npeers; i++) {
        ip_text(o, fd->peers[i], p);
        rc = dm_buf_printf(b, "%s\"%s\"", i ? ", " : "", p);
    }
    rc = rc ? rc
            : dm_buf_printf(b,
                            "], \"start\": \"%s\", \"end\": \"%s\", \"bytes_out\": %" PRIu64
                            ", \"flows\": %" PRIu64 ", \"evidence\": {\"bytes_in\": %" PRIu64
                            ", \"peers_total\": %u",
                            t0, t1, fd->bytes_out, fd->flows, fd->bytes_in,
                            fd->peers_total ? fd->peers_total : fd->npeers);
    const char *const *names = dm_hunt_evidence_names(fd->kind);
    for (int i = 0; !rc && names[i]; i++) {
        rc = dm_buf_printf(b, ", \"%s\": ", names[i]);
        if (!rc && fd->kind == DM_HUNT_ROLE_VIOLATION && i == 0)
            rc = dm_buf_printf(b, "\"%s\"", role_word((int)fd->ev[0]));
        else if (!rc)
            rc = put_num(b, fd->ev[i]);
    }
    if (!rc && fd->also) {
        rc = dm_buf_puts(b, ", \"also\": {");
        int first = 1;
        for (int k = 0; !rc && k < DM_HUNT_NKINDS; k++)
            if (fd->also & (1u << k)) {
                rc = dm_buf_printf(b, "%s\"%s\": %.1f", first ? "" : ", ", dm_hunt_kind_name(k),
                                   fd->also_score[k]);
                first = 0;
            }
        rc = rc ? rc : dm_buf_putc(b, '}');
    }
    rc = rc ? rc : dm_buf_puts(b, "}, \"explanation\": ");
    struct dm_buf t;
    dm_buf_init(&t, 1 << 20);
    if (!rc && !(rc = dm_hunt_write_explanation(&t, o, fd)))
        rc = dm_buf_json_str(b, t.data, t.len);
    dm_buf_reset(&t);
    rc = rc ? rc : dm_buf_puts(b, ", \"filter\": ");
    if (!rc && !(rc = dm_hunt_write_filter(&t, o, fd)))
        rc = dm_buf_json_str(b, t.data, t.len);
    dm_buf_release(&t);
    return rc ? rc : dm_buf_putc(b, '}');
}

static size_t shown(const struct dm_hunt_output *o)
{
    size_t n = o->r->nfindings;
    return o->limit && o->limit < n ? o->limit : n;
}

int dm_hunt_write_json(struct dm_buf *b, const struct dm_hunt_output *o)
{
    const struct dm_hunt_result *r = o->r;
    int rc = dm_buf_puts(b, "{\"findings\": [");
    size_t n = shown(o);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = dm_buf_puts(b, i ? ",\n  " : "\n  ");
        rc = rc ? rc : write_finding_json(b, o, &r->findings[i]);
    }
    rc = rc ? rc : dm_buf_puts(b, n ? "\n], \"hosts\": [" : "], \"hosts\": [");
    for (size_t i = 0; !rc && i < r->nhosts; i++) {
        const struct dm_hunt_host *hh = &r->hosts[i];
        char h[DM_IP_STRLEN];
        ip_text(o, hh->host, h);
        rc = dm_buf_printf(b, "%s{\"host\": \"%s\", \"score\": %.1f, \"kinds\": [",
                           i ? ",\n  " : "\n  ", h, hh->score);
        int first = 1;
        for (int k = 0; !rc && k < DM_HUNT_NKINDS; k++)
            if (hh->kinds & (1u << k)) {
                rc = dm_buf_printf(b, "%s\"%s\"", first ? "" : ", ", dm_hunt_kind_name(k));
                first = 0;
            }
        rc = rc ? rc : dm_buf_printf(b, "], \"bytes_out\": %" PRIu64 "}", hh->bytes_out);
    }
    return rc ? rc : dm_buf_puts(b, r->nhosts ? "\n]}\n" : "]}\n");
}

int dm_hunt_write_table(struct dm_buf *b, const struct dm_hunt_output *o)
{
    const struct dm_hunt_result *r = o->r;
    size_t n = shown(o);
    int rc = dm_buf_printf(b, "%-4s %5s  %-16s %-39s %-39s %10s %8s\n", "#", "score", "kind",
                           "host", "peer", "bytes_out", "flows");
    for (size_t i = 0; !rc && i < n; i++) {
        const struct dm_hunt_finding *fd = &r->findings[i];
        char h[DM_IP_STRLEN], p[DM_IP_STRLEN + 16] = "-", by[32];
        ip_text(o, fd->host, h);
        if (fd->npeers) {
            char t[DM_IP_STRLEN];
            ip_text(o, fd->peers[0], t);
            uint32_t others = (fd->peers_total > fd->npeers ? fd->peers_total : fd->npeers) - 1;
            if (others)
                snprintf(p, sizeof(p), "%s +%u", t, others);
            else
                snprintf(p, sizeof(p), "%s", t);
        }
        human_bytes((double)fd->bytes_out, by);
        rc = dm_buf_printf(b, "%-4zu %5.1f  %-16s %-39s %-39s %10s %8" PRIu64 "\n", i + 1,
                           fd->score, dm_hunt_kind_name(fd->kind), h, p, by, fd->flows);
        rc = rc ? rc : dm_buf_puts(b, "     ");
        rc = rc ? rc : dm_hunt_write_explanation(b, o, fd);
        rc = rc ? rc : dm_buf_puts(b, "\n     filter: ");
        rc = rc ? rc : dm_hunt_write_filter(b, o, fd);
        rc = rc ? rc : dm_buf_putc(b, '\n');
    }
    if (!rc && n == 0)
        rc = dm_buf_puts(b, "no findings\n");
    if (!rc && r->nfindings > n)
        rc = dm_buf_printf(b, "(%zu more findings: use --limit 0 to see all)\n",
                           r->nfindings - n);
    return rc;
}
