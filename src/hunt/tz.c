/* Named time zones: our own reader of TZif files (RFC 8536, version 2 and later) and of the
 * POSIX TZ rule in their footer, turned into one sorted list of offset changes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_hunt.h"
#include "banned.h"

#define TZIF_HEADER 44
#define TZIF_MAX_FILE (1 << 20)  /* real files are < 10 KB */
#define TZIF_MAX_TIMES 65536     /* real files have < 2000 transitions */
#define TZIF_MAX_TYPES 256       /* a type index is one byte */
#define TZIF_MAX_CHARS 1024      /* designation bytes */
#define TZIF_MAX_LEAPS 1024
#define TZ_MAX_OFFSET (25 * 3600 - 1) /* RFC 8536: -2^31 excluded; real zones are within ±15 h */
#define RULE_LAST_YEAR 2200           /* the footer rule is expanded up to this year */
#define SEC_PER_DAY INT64_C(86400)

void dm_tz_init_fixed(struct dm_tz *tz, int32_t offset_s)
{
    memset(tz, 0, sizeof(*tz));
    tz->off0 = offset_s;
    int m = offset_s / 60;
    if (m == 0)
        snprintf(tz->name, sizeof(tz->name), "UTC");
    else
        snprintf(tz->name, sizeof(tz->name), "%c%02d:%02d", m < 0 ? '-' : '+',
                 (m < 0 ? -m : m) / 60, (m < 0 ? -m : m) % 60);
}

void dm_tz_release(struct dm_tz *tz)
{
    if (!tz)
        return;
    dm_free(tz->at);
    dm_free(tz->off);
    tz->at = NULL;
    tz->off = NULL;
    tz->n = 0;
}

int32_t dm_tz_offset(const struct dm_tz *tz, int64_t t)
{
    if (tz->n == 0 || t < tz->at[0])
        return tz->off0;
    size_t lo = 0, hi = tz->n; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of(int64_t t)
{
    /* TZif times may be anything (files use -2^59 as "the beginning"): clamp to about
     * ±34,000 years so the day arithmetic cannot overflow */
    const int64_t lim = INT64_C(1) << 40;
    t = t < -lim ? -lim : t > lim ? lim : t;
    int64_t z = (t >= 0 ? t : t - (SEC_PER_DAY - 1)) / SEC_PER_DAY + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    return yoe + era * 400 + (m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- POSIX TZ rule: std offset [dst [offset] [,start[/time],end[/time]]] ---- */

struct tz_date {
    char type; /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
    int a, b, c;
    int32_t time; /* seconds after local midnight, may be negative or > 24 h */
};

struct tz_rule {
    int32_t std_off, dst_off; /* UTC offsets, seconds east */
    int has_dst;
    struct tz_date start, end;
};

struct cursor {
    const char *s;
    size_t n, i;
};

static int peek(const struct cursor *c)
{
    return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

static int isdig(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int isalph(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int number(struct cursor *c, int max, int *v)
{
    int x = 0, k = 0;
    while (isdig(peek(c))) {
        x = x * 10 + (c->s[c->i++] - '0');
        if (++k > 3 || x > max)
            return -1;
    }
    if (!k)
        return -1;
    *v = x;
    return 0;
}

static int zone_name(struct cursor *c)
{
    size_t k = 0;
    if (peek(c) == '<') {
        c->i++;
        while (peek(c) != '>') {
            int ch = peek(c);
            if (ch < 0 || !(isalph(ch) || isdig(ch) || ch == '+' || ch == '-'))
                return -1;
            c->i++;
            k++;
        }
        c->i++;
    } else {
        while (isalph(peek(c))) {
            c->i++;
            k++;
        }
    }
    return k >= 3 && k <= 32 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] → seconds; hours up to max_h. */
static int hms(struct cursor *c, int max_h, int32_t *v)
{
    int sign = 1, h, m = 0, s = 0;
    if (peek(c) == '+' || peek(c) == '-')
        sign = c->s[c->i++] == '-' ? -1 : 1;
    if (number(c, max_h, &h))
        return -1;
    if (peek(c) == ':') {
        c->i++;
        if (number(c, 59, &m))
            return -1;
        if (peek(c) == ':') {
            c->i++;
            if (number(c, 59, &s))
                return -1;
        }
    }
    *v = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int rule_date(struct cursor *c, struct tz_date *d)
{
    if (peek(c) == 'J') {
        c->i++;
        d->type = 'J';
        if (number(c, 365, &d->a) || d->a < 1)
            return -1;
    } else if (peek(c) == 'M') {
        c->i++;
        d->type = 'M';
        if (number(c, 12, &d->a) || d->a < 1 || peek(c) != '.')
            return -1;
        c->i++;
        if (number(c, 5, &d->b) || d->b < 1 || peek(c) != '.')
            return -1;
        c->i++;
        if (number(c, 6, &d->c))
            return -1;
    } else {
        d->type = 'D';
        if (number(c, 365, &d->a))
            return -1;
    }
    d->time = 2 * 3600;
    if (peek(c) == '/') {
        c->i++;
        if (hms(c, 167, &d->time)) /* RFC 8536 extension: -167..167 hours */
            return -1;
    }
    return 0;
}

static int parse_rule(const char *s, size_t n, struct tz_rule *r)
{
    struct cursor c = {s, n, 0};
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (zone_name(&c) || hms(&c, 24, &off))
        return -1;
    r->std_off = -off; /* POSIX offsets are positive west of Greenwich */
    if (c.i == n)
        return 0;
    if (zone_name(&c))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (peek(&c) != ',' && c.i < n) {
        if (hms(&c, 24, &off))
            return -1;
        r->dst_off = -off;
    }
    if (c.i == n) { /* no rule: the US rule, as the reference implementation does */
        r->start = (struct tz_date){'M', 3, 2, 0, 7200};
        r->end = (struct tz_date){'M', 11, 1, 0, 7200};
        return 0;
    }
    if (peek(&c) != ',')
        return -1;
    c.i++;
    if (rule_date(&c, &r->start) || peek(&c) != ',')
        return -1;
    c.i++;
    if (rule_date(&c, &r->end) || c.i != n)
        return -1;
    return 0;
}

/* Local seconds since the epoch at which date d falls in year y (before adding d->time). */
static int64_t date_day(const struct tz_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (d->type == 'J') /* February 29 is never counted */
        return jan1 + d->a - 1 + (is_leap(y) && d->a >= 60);
    if (d->type == 'D')
        return jan1 + d->a;
    int64_t first = days_from_civil(y, d->a, 1);
    int wd1 = (int)(((first % 7) + 7 + 4) % 7); /* weekday of the 1st; 1970-01-01 = Thursday */
    int64_t day = first + ((d->c - wd1 + 7) % 7) + 7 * (d->b - 1);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t len = mdays[d->a - 1] + (d->a == 2 && is_leap(y));
    while (day >= first + len) /* week 5 = the last such weekday */
        day -= 7;
    return day;
}

/* ---- building the list of offset changes ---- */

struct list {
    int64_t *at;
    int32_t *off;
    size_t n, cap;
};

static int push(struct list *l, int64_t at, int32_t off)
{
    if (l->n && off == l->off[l->n - 1])
        return 0; /* no change of offset (e.g. only the abbreviation changed) */
    if (l->n && at < l->at[l->n - 1])
        return -EINVAL;
    if (l->n && at == l->at[l->n - 1]) { /* two changes at once (all-year DST): the last wins */
        l->off[l->n - 1] = off;
        if (l->n >= 2 && l->off[l->n - 2] == off)
            l->n--;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        int64_t *a = dm_realloc(l->at, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        l->at = a;
        int32_t *o = dm_realloc(l->off, cap * sizeof(*o));
        if (!o)
            return -ENOMEM;
        l->off = o;
        l->cap = cap;
    }
    l->at[l->n] = at;
    l->off[l->n++] = off;
    return 0;
}

/* Appends the rule's changes after `after` (exclusive) up to RULE_LAST_YEAR. */
static int expand_rule(struct list *l, const struct tz_rule *r, int64_t after)
{
    if (!r->has_dst)
        return 0;
    int64_t y0 = after == INT64_MIN ? 1970 : year_of(after) - 1;
    if (y0 < 1900)
        y0 = 1900;
    for (int64_t y = y0; y <= RULE_LAST_YEAR; y++) {
        /* start is given in standard time, end in daylight time */
        int64_t s = date_day(&r->start, y) * SEC_PER_DAY + r->start.time - r->std_off;
        int64_t e = date_day(&r->end, y) * SEC_PER_DAY + r->end.time - r->dst_off;
        int64_t first = s < e ? s : e, second = s < e ? e : s;
        int32_t off1 = s < e ? r->dst_off : r->std_off, off2 = s < e ? r->std_off : r->dst_off;
        int rc;
        if (first > after && (rc = push(l, first, off1)))
            return rc;
        if (second > after && (rc = push(l, second, off2)))
            return rc;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static int header(const uint8_t *p, size_t len, size_t at, struct counts *k, struct dm_error *err)
{
    if (len - at < TZIF_HEADER)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at, 0, "truncated TZif header");
    if (memcmp(p + at, "TZif", 4))
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at, 0, "not a TZif file (no magic)");
    const uint8_t *c = p + at + 20;
    *k = (struct counts){be32(c), be32(c + 4), be32(c + 8), be32(c + 12), be32(c + 16),
                         be32(c + 20)};
    if (k->type == 0 || k->type > TZIF_MAX_TYPES)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 36, 0,
                               "TZif type count %u out of range", k->type);
    if (k->chars == 0 || k->chars > TZIF_MAX_CHARS)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 40, 0,
                               "TZif designation count %u out of range", k->chars);
    if ((k->isut && k->isut != k->type) || (k->isstd && k->isstd != k->type))
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 20, 0,
                               "TZif indicator counts do not match the type count");
    if (k->time > TZIF_MAX_TIMES)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 32, 0,
                               "TZif transition count %u out of range", k->time);
    if (k->leap > TZIF_MAX_LEAPS)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 28, 0,
                               "TZif leap second count %u out of range", k->leap);
    return 0;
}

/* Size of a data block with `tsize`-byte times (4 in version 1, 8 after). */
static size_t block_size(const struct counts *k, size_t tsize)
{
    return (size_t)k->time * tsize + k->time + (size_t)k->type * 6 + k->chars +
           (size_t)k->leap * (tsize + 4) + k->isstd + k->isut;
}

int dm_tz_parse(struct dm_tz *tz, const uint8_t *p, size_t len, struct dm_error *err)
{
    struct counts k;
    memset(tz, 0, sizeof(*tz));
    int rc = header(p, len, 0, &k, err);
    if (rc)
        return rc;
    if (p[4] < '2')
        return dm_error_set_at(err, DM_EUNSUPPORTED, 4, 0,
                               "TZif version 1 file (version 2 or later needed)");
    size_t v1 = block_size(&k, 4);
    if (v1 > len - TZIF_HEADER)
        return dm_error_set_at(err, DM_ECORRUPT, TZIF_HEADER, 0, "truncated TZif version 1 data");
    size_t at = TZIF_HEADER + v1;
    if ((rc = header(p, len, at, &k, err)))
        return rc;
    at += TZIF_HEADER;
    size_t v2 = block_size(&k, 8);
    if (v2 > len - at)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at, 0, "truncated TZif data");
    const uint8_t *times = p + at, *idx = times + (size_t)k.time * 8, *types = idx + k.time;
    const uint8_t *chars = types + (size_t)k.type * 6;
    /* types */
    int32_t offs[TZIF_MAX_TYPES];
    for (uint32_t i = 0; i < k.type; i++) {
        int32_t o = (int32_t)be32(types + 6 * i);
        if (o < -TZ_MAX_OFFSET || o > TZ_MAX_OFFSET)
            return dm_error_set_at(err, DM_ECORRUPT, (int64_t)(types + 6 * i - p), 0,
                                   "TZif UTC offset %d out of range", o);
        if (types[6 * i + 4] > 1 || types[6 * i + 5] >= k.chars)
            return dm_error_set_at(err, DM_ECORRUPT, (int64_t)(types + 6 * i + 4 - p), 0,
                                   "bad TZif local time type %u", i);
        offs[i] = o;
    }
    if (chars[k.chars - 1] != 0)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)(chars - p), 0,
                               "TZif designations are not NUL-terminated");
    /* footer: "\n" TZ string "\n" */
    at += v2;
    if (len - at < 2 || p[at] != '\n')
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at, 0, "missing TZif footer");
    const uint8_t *nl = memchr(p + at + 1, '\n', len - at - 1);
    if (!nl)
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at, 0, "unterminated TZif footer");
    size_t flen = (size_t)(nl - (p + at + 1));
    struct tz_rule rule;
    int has_rule = flen > 0;
    if (has_rule && (flen > 128 || memchr(p + at + 1, 0, flen) ||
                     parse_rule((const char *)p + at + 1, flen, &rule)))
        return dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 1, 0,
                               "bad TZ rule in the TZif footer");
    /* transitions */
    struct list l = {0};
    tz->off0 = offs[0];
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < k.time && !rc; i++) {
        int64_t t = be64(times + 8 * i);
        if (idx[i] >= k.type || (i && t <= prev)) {
            rc = dm_error_set_at(err, DM_ECORRUPT, (int64_t)(times + 8 * i - p), 0,
                                 "TZif transition %u is out of order or has a bad type", i);
            break;
        }
        prev = t;
        if (!l.n && offs[idx[i]] == tz->off0)
            continue;
        rc = push(&l, t, offs[idx[i]]);
    }
    if (!rc && has_rule) {
        /* the footer governs after the last transition (before: the table) */
        int64_t last = k.time ? prev : INT64_MIN;
        if (!k.time)
            tz->off0 = rule.std_off;
        else if (!rule.has_dst && rule.std_off != (l.n ? l.off[l.n - 1] : tz->off0))
            rc = push(&l, last + 1, rule.std_off);
        if (!rc)
            rc = expand_rule(&l, &rule, last);
        if (rc == -EINVAL)
            rc = dm_error_set_at(err, DM_ECORRUPT, (int64_t)at + 1, 0,
                                 "TZ rule in the TZif footer goes back in time");
    }
    if (rc) {
        if (rc == -ENOMEM)
            dm_error_set(err, rc, "out of memory");
        dm_free(l.at);
        dm_free(l.off);
        return rc;
    }
    tz->at = l.at;
    tz->off = l.off;
    tz->n = l.n;
    return 0;
}

int dm_tz_name_valid(const char *name, size_t n)
{
    if (n == 0 || n > DM_TZ_MAX_NAME || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!(isalph((unsigned char)ch) || isdig((unsigned char)ch) || ch == '/' || ch == '_' ||
              ch == '-' || ch == '+' || ch == '.'))
            return 0;
        if (ch == '.' && (i == 0 || name[i - 1] == '/' || name[i - 1] == '.'))
            return 0; /* no "..", no hidden files, no "./" */
        if (ch == '/' && name[i - 1] == '/')
            return 0;
    }
    return 1;
}

int dm_tz_load(struct dm_tz *tz, const char *dir, const char *name, size_t n,
               struct dm_error *err)
{
    memset(tz, 0, sizeof(*tz));
    if (!dm_tz_name_valid(name, n))
        return dm_error_set(err, -EINVAL,
                            "'%.*s' is not a time zone name (like \"Europe/Berlin\")",
                            (int)(n > 64 ? 64 : n), name);
    char path[512];
    if (snprintf(path, sizeof(path), "%s/%.*s", dir, (int)n, name) >= (int)sizeof(path))
        return dm_error_set(err, -EINVAL, "time zone path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP) /* tzdata links some names (e.g. "UTC"); follow them */
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return dm_error_set(err, e == ENOENT ? -ENOENT : -EIO,
                            "unknown time zone '%.*s' (%s: %s; the Debian package tzdata "
                            "provides them)",
                            (int)n, name, path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > TZIF_MAX_FILE)
        rc = dm_error_set(err, -EINVAL, "time zone '%.*s': %s is not a TZif file", (int)n,
                          name, path);
    else if (!(buf = dm_malloc((size_t)st.st_size)))
        rc = dm_error_set(err, -ENOMEM, "out of memory");
    size_t got = 0;
    while (!rc && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = dm_error_set(err, -EIO, "time zone '%.*s': cannot read %s", (int)n, name,
                              path);
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (!rc && (rc = dm_tz_parse(tz, buf, got, err)) && err) {
        char pre[DM_TZ_MAX_NAME + 32];
        snprintf(pre, sizeof(pre), "time zone '%.*s'", (int)n, name);
        dm_error_prefix(err, pre);
    }
    dm_free(buf);
    if (!rc)
        snprintf(tz->name, sizeof(tz->name), "%.*s", (int)n, name);
    return rc;
}
