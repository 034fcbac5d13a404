/* Coercion: extracted text → canonical typed values, or a reject reason.
 *
 * Timestamps: ISO 8601 / RFC 3339 with or without zone, "YYYY-MM-DD HH:MM:SS[.f]",
 * "YYYY/MM/DD HH:MM:SS.ffffff", epoch s / ms / µs / ns as numbers or strings (unit chosen by
 * magnitude). Integers: 443, "443", 443.0, 1.5e3, 0x01bb; non-integral values are rejected,
 * never rounded. IPs are validated and printed canonically by dm_net. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm_alloc.h"
#include "dm_net.h"
#include "ingest_int.h"
#include "banned.h"

static const char *const reject_names[DM_REJ__COUNT] = {
    [DM_REJ_JSON] = "invalid JSON",
    [DM_REJ_UTF8] = "invalid UTF-8",
    [DM_REJ_TOO_LONG] = "line too long",
    [DM_REJ_FIELDS] = "wrong number of fields",
    [DM_REJ_NOT_FLOW] = "not a flow record",
    [DM_REJ_NO_TS] = "missing timestamp",
    [DM_REJ_BAD_TS] = "bad timestamp",
    [DM_REJ_NO_IP] = "missing IP address",
    [DM_REJ_BAD_IP] = "bad IP address",
    [DM_REJ_NUMBER] = "bad number",
    [DM_REJ_RANGE] = "value out of range",
    [DM_REJ_PROTO] = "unknown protocol",
    [DM_REJ_VALUE] = "bad value",
    [DM_REJ_FORMAT] = "unrecognised format",
};

const char *dm_reject_name(enum dm_reject r)
{
    return (unsigned)r < DM_REJ__COUNT && reject_names[r] ? reject_names[r] : "unknown reason";
}

static const char *const canon_names[DM_C__COUNT] = {
    "ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
    "bytes_sent", "bytes_recv", "packets", "action", "duration_ms",
};

const char *dm_canon_name(enum dm_canon c)
{
    return (unsigned)c < DM_C__COUNT ? canon_names[c] : "?";
}

static inline int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **p, size_t *n)
{
    while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t' || (*p)[0] == '\r'))
        (*p)++, (*n)--;
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
        (*n)--;
}

/* The common shapes "443" and "443.0" (at most 18 digits: no overflow); 1 when handled. */
static inline int fast_uint(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return 0;
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && is_digit(p[i]); i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    if (i == 0)
        return 0;
    if (i < n) {
        if (p[i] != '.' || i + 1 == n)
            return 0;
        for (size_t j = i + 1; j < n; j++)
            if (p[j] != '0')
                return 0;
    }
    *out = (int64_t)v;
    return 1;
}

int dm__parse_int(const char *p, size_t n, int64_t *out)
{
    if (fast_uint(p, n, out))
        return 0;
    trim(&p, &n);
    const char *end = p + n;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p >= end)
        return DM_REJ_NUMBER;
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        uint64_t v = 0;
        p += 2;
        if (end - p > 16)
            return DM_REJ_RANGE;
        for (; p < end; p++) {
            int c = (uint8_t)*p, h;
            if (is_digit(c))
                h = c - '0';
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                h = (c | 0x20) - 'a' + 10;
            else
                return DM_REJ_NUMBER;
            v = (v << 4) | (uint64_t)h;
        }
        if (v > (uint64_t)INT64_MAX)
            return DM_REJ_RANGE;
        *out = neg ? -(int64_t)v : (int64_t)v;
        return 0;
    }
    /* Significant digits (leading zeros dropped) and a decimal exponent. */
    char d[24];
    size_t nd = 0, over = 0;
    long e = 0;
    int any = 0;
    for (; p < end && is_digit(*p); p++) {
        any = 1;
        if (nd == 0 && *p == '0')
            continue;
        if (nd < sizeof(d))
            d[nd++] = *p;
        else
            over++, e++;
    }
    if (p < end && *p == '.') {
        p++;
        for (; p < end && is_digit(*p); p++) {
            any = 1;
            if (nd == 0 && *p == '0') {
                e--;
                continue;
            }
            if (nd < sizeof(d))
                d[nd++] = *p, e--;
            else if (*p != '0')
                return DM_REJ_NUMBER; /* a nonzero digit far right of the point */
        }
    }
    if (!any)
        return DM_REJ_NUMBER;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        if (p >= end)
            return DM_REJ_NUMBER;
        long x = 0;
        for (; p < end && is_digit(*p); p++)
            if (x < 100000)
                x = x * 10 + (*p - '0');
        e += eneg ? -x : x;
    }
    if (p != end)
        return DM_REJ_NUMBER;
    (void)over;
    while (nd && d[nd - 1] == '0')
        nd--, e++;
    if (nd == 0) {
        *out = 0;
        return 0;
    }
    if (e < 0)
        return DM_REJ_NUMBER; /* not integral */
    if ((long)nd + e > 19)
        return DM_REJ_RANGE;
    uint64_t v = 0;
    for (size_t i = 0; i < nd; i++)
        v = v * 10 + (uint64_t)(d[i] - '0');
    for (long i = 0; i < e; i++) {
        if (v > UINT64_MAX / 10)
            return DM_REJ_RANGE;
        v *= 10;
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return DM_REJ_RANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int dm__parse_double(const char *p, size_t n, double *out)
{
    trim(&p, &n);
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return DM_REJ_NUMBER;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!is_digit(c) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E')
            return DM_REJ_NUMBER; /* no hex floats, inf, nan */
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + n || !isfinite(v))
        return DM_REJ_NUMBER;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    uint8_t num;
} protos[] = {
    {"hopopt", 0}, {"icmp", 1},     {"igmp", 2},       {"ggp", 3},      {"ipv4", 4},
    {"ipip", 4},   {"st", 5},       {"tcp", 6},        {"egp", 8},      {"igp", 9},
    {"pup", 12},   {"udp", 17},     {"hmp", 20},       {"xns-idp", 22}, {"rdp", 27},
    {"ipv6", 41},  {"ipv6-route", 43}, {"ipv6-frag", 44}, {"idrp", 45}, {"rsvp", 46},
    {"gre", 47},   {"esp", 50},     {"ah", 51},        {"ipv6-icmp", 58}, {"icmp6", 58},
    {"icmpv6", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"eigrp", 88}, {"ospf", 89},
    {"ospfigp", 89}, {"etherip", 97}, {"encap", 98},   {"pim", 103},    {"ipcomp", 108},
    {"vrrp", 112}, {"l2tp", 115},   {"isis", 124},     {"sctp", 132},   {"fc", 133},
    {"udplite", 136}, {"mpls-in-ip", 137}, {"hip", 139}, {"shim6", 140}, {"wesp", 141},
    {"rohc", 142}, {"ethernet", 143},
};

int dm__parse_proto(const char *p, size_t n, int64_t *out)
{
    trim(&p, &n);
    if (n && (is_digit(p[0]) || p[0] == '-' || p[0] == '+')) {
        int rc = dm__parse_int(p, n, out);
        if (rc)
            return rc;
        return *out < 0 || *out > 255 ? DM_REJ_RANGE : 0;
    }
    if (n == 0 || n > 15)
        return DM_REJ_PROTO;
    char low[16];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    if (n == 3 && (!memcmp(low, "tcp", 3) || !memcmp(low, "udp", 3))) {
        *out = low[0] == 't' ? 6 : 17;
        return 0;
    }
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (strlen(protos[i].name) == n && memcmp(protos[i].name, low, n) == 0) {
            *out = protos[i].num;
            return 0;
        }
    return DM_REJ_PROTO;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int num(const char *p, size_t k, int *out)
{
    int v = 0;
    for (size_t i = 0; i < k; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* Epoch number text → µs, unit by magnitude of the integer part. */
static int parse_epoch(const char *p, size_t n, int64_t *us)
{
    const char *end = p + n;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    for (const char *q = p; q < end; q++)
        if (*q == 'e' || *q == 'E') {
            double v;
            if (dm__parse_double(p, (size_t)(end - p), &v) || v >= 9.2e18)
                return DM_REJ_BAD_TS;
            char buf[32];
            int k = snprintf(buf, sizeof(buf), "%.6f", v);
            if (k <= 0 || (size_t)k >= sizeof(buf) || memchr(buf, 'e', (size_t)k))
                return DM_REJ_BAD_TS;
            int rc = parse_epoch(buf, (size_t)k, us);
            if (!rc && neg)
                *us = -*us;
            return rc;
        }
    uint64_t ip = 0;
    size_t nd = 0;
    for (; p < end && is_digit(*p); p++, nd++) {
        if (nd >= 19)
            return DM_REJ_BAD_TS;
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    uint64_t frac = 0; /* fraction in units of 1e-9 */
    if (p < end && *p == '.') {
        p++;
        uint64_t scale = 100000000;
        const char *fs = p;
        for (; p < end && is_digit(*p); p++) {
            frac += (uint64_t)(*p - '0') * scale;
            scale /= 10;
        }
        if (p == fs && nd == 0)
            return DM_REJ_BAD_TS;
    }
    if (p != end || (nd == 0 && frac == 0 && n == 0))
        return DM_REJ_BAD_TS;
    int64_t v;
    if (ip < 100000000000ull) /* < 1e11: seconds (until year 5138) */
        v = (int64_t)ip * 1000000 + (int64_t)(frac / 1000);
    else if (ip < 100000000000000ull) /* ms */
        v = (int64_t)ip * 1000 + (int64_t)(frac / 1000000);
    else if (ip < 100000000000000000ull) /* µs */
        v = (int64_t)ip;
    else /* ns */
        v = (int64_t)(ip / 1000);
    *us = neg ? -v : v;
    return 0;
}

/* Local-zone offset (seconds east of UTC) for a zone-less local time. */
static int64_t local_offset(struct dm__coerce *c, int64_t local_s)
{
    int64_t hour = local_s / 3600;
    if (c && hour == c->tz_cache_hour)
        return c->tz_cache_off;
    struct tm tm;
    time_t t = (time_t)local_s;
    if (!localtime_r(&t, &tm))
        return 0;
    time_t guess = (time_t)(local_s - tm.tm_gmtoff);
    if (!localtime_r(&guess, &tm))
        return 0;
    int64_t off = tm.tm_gmtoff;
    if (c) {
        c->tz_cache_hour = hour;
        c->tz_cache_off = off;
    }
    return off;
}

static int parse_ts(struct dm__coerce *c, const char *p, size_t n, int64_t fixed_off, int64_t *us)
{
    trim(&p, &n);
    if (n == 0)
        return DM_REJ_BAD_TS;
    /* Numeric: epoch. A date starts with 4 digits then '-' or '/'. */
    if (!(n >= 10 && is_digit(p[0]) && (p[4] == '-' || p[4] == '/')))
        return parse_epoch(p, n, us);
    int h = 0, mi = 0, s = 0;
    int64_t days;
    if (c && c->ts_date_ok && memcmp(p, c->ts_date, 10) == 0) {
        days = c->ts_days; /* same date as the previous record: validated then */
    } else {
        int y, mo, d;
        char dsep = p[4];
        if (num(p, 4, &y) || p[7] != dsep || num(p + 5, 2, &mo) || num(p + 8, 2, &d))
            return DM_REJ_BAD_TS;
        if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
            return DM_REJ_BAD_TS;
        days = days_from_civil(y, mo, d);
        if (c) {
            memcpy(c->ts_date, p, 10);
            c->ts_days = days;
            c->ts_date_ok = 1;
        }
    }
    size_t i = 10;
    int64_t frac_us = 0;
    if (i < n && (p[i] == 'T' || p[i] == 't' || p[i] == ' ')) {
        i++;
        while (i < n && p[i] == ' ')
            i++;
        if (i + 5 > n || num(p + i, 2, &h) || p[i + 2] != ':' || num(p + i + 3, 2, &mi))
            return DM_REJ_BAD_TS;
        i += 5;
        if (i < n && p[i] == ':') {
            if (i + 3 > n || num(p + i + 1, 2, &s))
                return DM_REJ_BAD_TS;
            i += 3;
            if (i < n && (p[i] == '.' || p[i] == ',')) {
                i++;
                size_t fs = i;
                int64_t scale = 100000;
                for (; i < n && is_digit(p[i]); i++) {
                    frac_us += (p[i] - '0') * scale;
                    scale /= 10;
                }
                if (i == fs)
                    return DM_REJ_BAD_TS;
            }
        }
        if (h > 24 || mi > 59 || s > 60 || (h == 24 && (mi || s || frac_us)))
            return DM_REJ_BAD_TS;
    }
    while (i < n && p[i] == ' ')
        i++;
    int has_zone = 0;
    int64_t off = 0;
    if (i < n) {
        has_zone = 1;
        if ((p[i] == 'Z' || p[i] == 'z') && i + 1 == n) {
            off = 0;
        } else if (n - i == 3 && memcmp(p + i, "UTC", 3) == 0) {
            off = 0;
        } else if (p[i] == '+' || p[i] == '-') {
            int sign = p[i] == '-' ? -1 : 1, oh, om = 0;
            size_t r = n - i - 1;
            const char *z = p + i + 1;
            if (r == 2 && !num(z, 2, &oh))
                ;
            else if (r == 4 && !num(z, 2, &oh) && !num(z + 2, 2, &om))
                ;
            else if (r == 5 && z[2] == ':' && !num(z, 2, &oh) && !num(z + 3, 2, &om))
                ;
            else
                return DM_REJ_BAD_TS;
            if (oh > 23 || om > 59)
                return DM_REJ_BAD_TS;
            off = sign * (oh * 3600 + om * 60);
        } else {
            return DM_REJ_BAD_TS;
        }
    }
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s;
    if (!has_zone)
        off = c && c->tz_local ? local_offset(c, secs) : fixed_off;
    *us = (secs - off) * 1000000 + frac_us;
    return 0;
}

int dm_parse_ts(const char *p, size_t n, int64_t tz_off_s, int64_t *us)
{
    return parse_ts(NULL, p, n, tz_off_s, us);
}

/* ---- rows ---- */

/* Text of a value (decoded into scratch when it has escapes). */
static const char *val_text(struct dm__coerce *c, const struct dm__val *v, size_t *n)
{
    if (v->esc && v->n <= c->scratch_cap) {
        *n = v->kind == DM_V_STR ? dm__json_unescape(v->p, v->n, c->scratch)
                                 : dm__csv_unquote(v->p, v->n, c->scratch);
        return c->scratch;
    }
    *n = v->n;
    return v->p;
}

static inline int present(const struct dm__val *v)
{
    return v->kind != DM_V_NONE && v->kind != DM_V_NULL;
}

/* Copies printable text for a detail message. */
static void quote_into(char *out, size_t cap, const char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    if (n && o + 4 >= cap && o >= 3)
        memcpy(out + o - 3, "...", 3);
    out[o] = '\0';
}

static int reject(struct dm__coerce *c, int code, const struct dm__col *col,
                  const struct dm__val *v, const char *what)
{
    char q[64] = "";
    if (v) {
        size_t n;
        const char *t = val_text(c, v, &n);
        quote_into(q, sizeof(q), t, n);
    }
    if (v)
        snprintf(c->detail, sizeof(c->detail), "%s '%s'%s%s", col->name, q, what ? " " : "",
                 what ? what : "");
    else
        snprintf(c->detail, sizeof(c->detail), "%s%s%s", col->name, what ? " " : "",
                 what ? what : "");
    return code + 1;
}

static int val_int(struct dm__coerce *c, const struct dm__val *v, int proto, int64_t *out)
{
    if (v->kind == DM_V_TRUE || v->kind == DM_V_FALSE || v->kind == DM_V_OBJ ||
        v->kind == DM_V_ARR)
        return DM_REJ_NUMBER;
    size_t n;
    const char *t = val_text(c, v, &n);
    return proto ? dm__parse_proto(t, n, out) : dm__parse_int(t, n, out);
}

static int val_ts(struct dm__coerce *c, const struct dm__val *v, int64_t *us)
{
    if (v->kind != DM_V_NUM && v->kind != DM_V_STR && v->kind != DM_V_RAW)
        return DM_REJ_BAD_TS;
    size_t n;
    const char *t = val_text(c, v, &n);
    return parse_ts(c, t, n, c->tz_fixed_s, us);
}

/* Evaluates an integer column alternative; 0, or a DM_REJ_* code with *bad the value. */
static int eval_int(struct dm__coerce *c, const struct dm__alt *a, const struct dm__val *vals,
                    int proto, int64_t *out, const struct dm__val **bad)
{
    const struct dm__val *va = &vals[a->a];
    int64_t x = 0, y = 0;
    int rc;
    if (a->op == DM_OP_FIELD) {
        *bad = va;
        return val_int(c, va, proto, out);
    }
    const struct dm__val *vb = &vals[a->b];
    if (present(va) && (rc = val_int(c, va, 0, &x))) {
        *bad = va;
        return rc;
    }
    if (present(vb) && (rc = val_int(c, vb, 0, &y))) {
        *bad = vb;
        return rc;
    }
    *bad = va;
    if (a->op == DM_OP_SUM) {
        if (__builtin_add_overflow(x, y, out))
            return DM_REJ_RANGE;
    } else if (__builtin_sub_overflow(x, y, out)) {
        return DM_REJ_RANGE;
    }
    return 0;
}

static int alt_present(const struct dm__alt *a, const struct dm__val *vals)
{
    if (a->op == DM_OP_FIELD)
        return present(&vals[a->a]);
    if (a->op == DM_OP_SUM)
        return present(&vals[a->a]) || present(&vals[a->b]);
    return present(&vals[a->a]) && present(&vals[a->b]);
}

/* 1 when p[0..n) is a dotted-quad IPv4 address in canonical form (what dm_ip_format would
 * print: four parts 0..255 without leading zeros), so it can be stored as it is. */
static inline int v4_canonical(const char *p, size_t n)
{
    if (n < 7 || n > 15)
        return 0;
    const char *end = p + n;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (p >= end || *p != '.')
                return 0;
            p++;
        }
        const char *s = p;
        unsigned x = 0;
        while (p < end && p - s < 3 && is_digit(*p))
            x = x * 10 + (unsigned)(*p++ - '0');
        if (p == s || x > 255 || (p - s > 1 && *s == '0'))
            return 0;
    }
    return p == end;
}

static int set_text(struct dm_batch *b, size_t col, const char *t, size_t n)
{
    int rc = dm_batch_set_str(b, col, t, n);
    return rc == DM_ETOOBIG ? -ENOMEM : rc;
}

static int coerce_col(struct dm__coerce *c, const struct dm__col *col, size_t ci,
                      const struct dm__val *vals, struct dm_batch *b)
{
    const struct dm__alt *a = NULL;
    for (size_t k = 0; k < col->nalts; k++)
        if (alt_present(&col->alts[k], vals)) {
            a = &col->alts[k];
            break;
        }
    if (!a) {
        if (col->canon == DM_C_TS)
            return reject(c, DM_REJ_NO_TS, col, NULL, "missing");
        if (col->canon == DM_C_SRC_IP || col->canon == DM_C_DST_IP)
            return reject(c, DM_REJ_NO_IP, col, NULL, "missing");
        return dm_batch_set_null(b, ci);
    }
    const struct dm__val *v = &vals[a->a], *bad = v;
    int64_t x;
    int rc;
    size_t n;
    const char *t;
    switch (col->canon) {
    case DM_C_TS:
        if ((rc = val_ts(c, v, &x)))
            return reject(c, rc, col, v, NULL);
        dm_batch_set_i64(b, ci, x);
        return 0;
    case DM_C_SRC_IP:
    case DM_C_DST_IP: {
        struct dm_ip ip;
        char txt[DM_IP_STRLEN];
        if ((v->kind == DM_V_STR || v->kind == DM_V_RAW) && !v->esc && v4_canonical(v->p, v->n))
            return set_text(b, ci, v->p, v->n); /* already in canonical form */
        t = val_text(c, v, &n);
        const char *tp = t;
        while (n && (*tp == ' ' || *tp == '\t'))
            tp++, n--;
        while (n && (tp[n - 1] == ' ' || tp[n - 1] == '\t' || tp[n - 1] == '\r'))
            n--;
        if ((v->kind != DM_V_STR && v->kind != DM_V_RAW) || dm_ip_parse(tp, n, &ip))
            return reject(c, DM_REJ_BAD_IP, col, v, NULL);
        n = dm_ip_format(&ip, txt);
        return set_text(b, ci, txt, n);
    }
    case DM_C_SRC_PORT:
    case DM_C_DST_PORT:
    case DM_C_PROTO:
        if ((rc = eval_int(c, a, vals, col->canon == DM_C_PROTO, &x, &bad)))
            return reject(c, rc, col, bad, NULL);
        if (x < 0 || x > (col->canon == DM_C_PROTO ? 255 : 65535))
            return reject(c, DM_REJ_RANGE, col, bad, "out of range");
        dm_batch_set_i32(b, ci, (int32_t)x);
        return 0;
    case DM_C_BYTES_SENT:
    case DM_C_BYTES_RECV:
    case DM_C_PACKETS:
        if ((rc = eval_int(c, a, vals, 0, &x, &bad)))
            return reject(c, rc, col, bad, NULL);
        if (x < 0)
            return reject(c, DM_REJ_RANGE, col, bad, "is negative");
        dm_batch_set_i64(b, ci, x);
        return 0;
    case DM_C_ACTION: {
        t = val_text(c, v, &n);
        if (v->kind == DM_V_OBJ || v->kind == DM_V_ARR)
            return reject(c, DM_REJ_VALUE, col, v, "is not a scalar");
        if (t != c->scratch && n <= c->scratch_cap) {
            memcpy(c->scratch, t, n);
            t = c->scratch;
        }
        char *w = (char *)t; /* scratch */
        if (t == c->scratch)
            for (size_t i = 0; i < n; i++)
                if (w[i] >= 'A' && w[i] <= 'Z')
                    w[i] = (char)(w[i] + 32);
        const char *tp = t;
        while (n && *tp == ' ')
            tp++, n--;
        while (n && (tp[n - 1] == ' ' || tp[n - 1] == '\r'))
            n--;
        if (n == 0)
            return dm_batch_set_null(b, ci);
        return set_text(b, ci, tp, n);
    }
    case DM_C_DURATION: {
        double d;
        if (a->op == DM_OP_DIFF) {
            int64_t t1, t0;
            if ((rc = val_ts(c, v, &t1)))
                return reject(c, rc, col, v, NULL);
            if ((rc = val_ts(c, &vals[a->b], &t0)))
                return reject(c, rc, col, &vals[a->b], NULL);
            if (t1 < t0)
                return reject(c, DM_REJ_RANGE, col, v, "ends before it starts");
            dm_batch_set_i64(b, ci, (t1 - t0) / 1000);
            return 0;
        }
        if (v->kind != DM_V_NUM && v->kind != DM_V_STR && v->kind != DM_V_RAW)
            return reject(c, DM_REJ_NUMBER, col, v, NULL);
        t = val_text(c, v, &n);
        if (dm__parse_double(t, n, &d))
            return reject(c, DM_REJ_NUMBER, col, v, NULL);
        /* Multiply or divide by exact powers of ten so 1500000 ns is exactly 1.5 ms. */
        static const double mul[] = {1.0, 1000.0, 1.0, 1.0}, div[] = {1.0, 1.0, 1e3, 1e6};
        d = d * mul[a->unit] / div[a->unit];
        if (d < 0 || d > 9.0e15)
            return reject(c, DM_REJ_RANGE, col, v, "out of range");
        dm_batch_set_i64(b, ci, llround(d));
        return 0;
    }
    default:
        break;
    }
    /* Extras. */
    switch (col->xtype) {
    case DM_X_INT64:
        if ((rc = eval_int(c, a, vals, 0, &x, &bad)))
            return reject(c, DM_REJ_VALUE, col, bad, "is not an integer");
        dm_batch_set_i64(b, ci, x);
        return 0;
    case DM_X_DOUBLE: {
        double d;
        t = val_text(c, v, &n);
        if ((v->kind != DM_V_NUM && v->kind != DM_V_STR && v->kind != DM_V_RAW) ||
            dm__parse_double(t, n, &d))
            return reject(c, DM_REJ_VALUE, col, v, "is not a number");
        dm_batch_set_f64(b, ci, d);
        return 0;
    }
    case DM_X_BOOL:
        if (v->kind == DM_V_TRUE || v->kind == DM_V_FALSE) {
            dm_batch_set_bool(b, ci, v->kind == DM_V_TRUE);
            return 0;
        }
        t = val_text(c, v, &n);
        if ((n == 1 && (*t == 'T' || *t == '1')) || (n == 4 && !strncasecmp(t, "true", 4)))
            dm_batch_set_bool(b, ci, 1);
        else if ((n == 1 && (*t == 'F' || *t == '0')) || (n == 5 && !strncasecmp(t, "false", 5)))
            dm_batch_set_bool(b, ci, 0);
        else
            return reject(c, DM_REJ_VALUE, col, v, "is not a boolean");
        return 0;
    default:
        t = val_text(c, v, &n);
        if (v->kind == DM_V_RAW || v->kind == DM_V_STR) {
            if (!dm__utf8_valid(t, n))
                return reject(c, DM_REJ_UTF8, col, NULL, "is not valid UTF-8");
        }
        return set_text(b, ci, t, n);
    }
}

int dm__coerce_row(struct dm__coerce *c, const struct dm__val *vals, struct dm_batch *b)
{
    const struct dm_ingest_map *m = c->map;
    int rc = dm_batch_reserve(b, 1);
    if (rc)
        return rc == DM_ETOOBIG ? -ENOMEM : rc;
    for (size_t i = 0; i < m->ncols; i++) {
        rc = coerce_col(c, &m->cols[i], i, vals, b);
        if (rc) {
            dm_batch_abort_row(b);
            return rc;
        }
    }
    rc = dm_batch_commit_row(b);
    if (rc)
        dm_batch_abort_row(b);
    return rc;
}
