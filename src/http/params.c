/* Query-string parsing with hard bounds, and the typed parameter readers. */
#include "dm_http.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "banned.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into p->store; returns the start of the NUL-terminated copy and
 * its length, or NULL on a bad escape / NUL byte. */
static const char *decode(struct dm_http_params *p, const char *s, size_t n, size_t *outlen)
{
    if (p->used + n + 1 > sizeof(p->store))
        return NULL;
    char *dst = p->store + p->used;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return NULL;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return NULL;
        dst[k++] = (char)c;
    }
    dst[k] = '\0';
    p->used += k + 1;
    *outlen = k;
    return dst;
}

int dm_http_params_parse(struct dm_http_params *p, const char *query, size_t len,
                         struct dm_error *err)
{
    p->n = 0;
    p->used = 0;
    if (len > DM_HTTP_MAX_URI)
        return dm_error_set(err, DM_ETOOBIG, "query string longer than %d bytes",
                            DM_HTTP_MAX_URI);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && query[end] != '&')
            end++;
        if (end == i) { /* "a=1&&b=2": skip empty pieces */
            i++;
            continue;
        }
        size_t eq = i;
        while (eq < end && query[eq] != '=')
            eq++;
        if (p->n == DM_HTTP_MAX_PARAMS)
            return dm_error_set(err, DM_ETOOBIG, "more than %d query parameters",
                                DM_HTTP_MAX_PARAMS);
        size_t klen, vlen = 0;
        const char *key = decode(p, query + i, eq - i, &klen);
        if (!key)
            return dm_error_set(err, -EINVAL, "bad percent-encoding in a parameter name");
        if (klen == 0)
            return dm_error_set(err, -EINVAL, "empty parameter name");
        const char *val = eq < end ? decode(p, query + eq + 1, end - eq - 1, &vlen)
                                   : decode(p, "", 0, &vlen);
        if (!val)
            return dm_error_set(err, -EINVAL, "bad percent-encoding in parameter '%.64s'", key);
        for (size_t j = 0; j < p->n; j++)
            if (!strcmp(p->kv[j].key, key))
                return dm_error_set(err, -EINVAL, "parameter '%.64s' given twice", key);
        p->kv[p->n].key = key;
        p->kv[p->n].value = val;
        p->kv[p->n].vlen = vlen;
        p->n++;
        i = end + 1;
    }
    return 0;
}

const char *dm_http_param(const struct dm_http_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->kv[i].key, key))
            return p->kv[i].value;
    return NULL;
}

static size_t param_len(const struct dm_http_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->kv[i].key, key))
            return p->kv[i].vlen;
    return 0;
}

int dm_http_params_check(const struct dm_http_params *p, const char *const *allowed,
                         struct dm_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        const char *k = p->kv[i].key;
        int ok = !strcmp(k, "token");
        for (size_t j = 0; !ok && allowed && allowed[j]; j++)
            ok = !strcmp(k, allowed[j]);
        if (!ok)
            return dm_error_set(err, -EINVAL, "unknown parameter '%.64s'", k);
    }
    return 0;
}

int dm_http_parse_size(const char *s, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t whole = 0;
    if (n == 0 || s[0] < '0' || s[0] > '9')
        return -EINVAL;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -EINVAL;
        whole = whole * 10 + d;
        i++;
    }
    /* Fraction: up to 18 digits kept as num / den. */
    uint64_t frac = 0, den = 1;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (den < 1000000000000000000ull) {
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                den *= 10;
            } else if (s[i] != '0') {
                return -EINVAL; /* more precision than any size needs */
            }
            i++;
        }
        if (i == start)
            return -EINVAL;
    }
    uint64_t mul = 1;
    if (i < n) {
        uint64_t base = 1000;
        int power = 0;
        switch (s[i] | 0x20) {
        case 'k': power = 1; break;
        case 'm': power = 2; break;
        case 'g': power = 3; break;
        case 't': power = 4; break;
        default: return -EINVAL;
        }
        i++;
        if (i < n && s[i] == 'i') {
            base = 1024;
            i++;
        }
        if (i < n && (s[i] == 'B' || s[i] == 'b'))
            i++;
        while (power--)
            mul *= base;
    }
    if (i != n)
        return -EINVAL;
    if (whole && mul > UINT64_MAX / whole)
        return -EINVAL;
    uint64_t v = whole * mul;
    if (frac) {
        /* frac * mul / den must be integral; mul <= 1024^4 < 2^41 and frac < 10^18 would
         * overflow, so reduce first. */
        uint64_t g = den, m = mul, a = frac;
        uint64_t x = a, y = g; /* gcd(frac, den) */
        while (y) {
            uint64_t t = x % y;
            x = y;
            y = t;
        }
        a /= x;
        g /= x;
        x = m;
        y = g; /* gcd(mul, den') */
        while (y) {
            uint64_t t = x % y;
            x = y;
            y = t;
        }
        m /= x;
        g /= x;
        if (g != 1)
            return -EINVAL; /* not an integral number of bytes */
        if (m && a > UINT64_MAX / m)
            return -EINVAL;
        uint64_t add = a * m;
        if (v > UINT64_MAX - add)
            return -EINVAL;
        v += add;
    }
    *out = v;
    return 0;
}

int dm_http_param_u64(const struct dm_http_params *p, const char *key, uint64_t min,
                      uint64_t max, uint64_t def, uint64_t *out, struct dm_error *err)
{
    const char *s = dm_http_param(p, key);
    if (!s) {
        *out = def;
        return 0;
    }
    uint64_t v;
    if (dm_http_parse_size(s, param_len(p, key), &v))
        return dm_error_set(err, -EINVAL, "parameter '%s': '%.64s' is not a number", key, s);
    if (v < min || v > max)
        return dm_error_set(err, -EINVAL, "parameter '%s': %llu is out of range [%llu, %llu]",
                            key, (unsigned long long)v, (unsigned long long)min,
                            (unsigned long long)max);
    *out = v;
    return 0;
}

int dm_http_param_enum(const struct dm_http_params *p, const char *key,
                       const char *const *choices, int def, int *out, struct dm_error *err)
{
    const char *s = dm_http_param(p, key);
    if (!s) {
        *out = def;
        return 0;
    }
    for (int i = 0; choices[i]; i++)
        if (!strcmp(s, choices[i])) {
            *out = i;
            return 0;
        }
    char list[200];
    size_t k = 0;
    list[0] = '\0';
    for (int i = 0; choices[i] && k < sizeof(list) - 1; i++) {
        size_t l = strlen(choices[i]);
        if (k + l + 3 >= sizeof(list))
            break;
        if (i) {
            list[k++] = ',';
            list[k++] = ' ';
        }
        memcpy(list + k, choices[i], l);
        k += l;
        list[k] = '\0';
    }
    return dm_error_set(err, -EINVAL, "parameter '%s': '%.64s' is not one of: %s", key, s, list);
}

/* ---- time ------------------------------------------------------------------------------- */

static int digits(const char *s, size_t n, size_t *i, int count, int *out)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return 0;
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
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int dm_http_parse_time(const char *s, size_t n, int64_t *out, int *date_only)
{
    size_t i = 0;
    *date_only = 0;
    if (n == 0 || n > 64)
        return -EINVAL;
    /* Epoch number (non-negative integer, unit by magnitude). */
    int all_digits = 1;
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            all_digits = 0;
    if (all_digits) {
        if (n > 19)
            return -EINVAL;
        uint64_t v = 0;
        for (size_t k = 0; k < n; k++)
            v = v * 10 + (uint64_t)(s[k] - '0');
        if (v > (uint64_t)INT64_MAX)
            return -EINVAL;
        /* Unit by magnitude: < 1e11 seconds, < 1e14 ms, else µs. */
        if (v < 100000000000ull)
            *out = (int64_t)v * 1000000;
        else if (v < 100000000000000ull)
            *out = (int64_t)v * 1000;
        else
            *out = (int64_t)v;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &mo) ||
        i >= n || s[i++] != '-' || digits(s, n, &i, 2, &d))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -EINVAL;
    int64_t frac_us = 0;
    int64_t offset_s = 0;
    if (i == n) {
        *date_only = 1;
    } else {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return -EINVAL;
        i++;
        if (digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || digits(s, n, &i, 2, &mi))
            return -EINVAL;
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &sec))
                return -EINVAL;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                int64_t scale = 100000;
                size_t start = i;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    frac_us += (s[i] - '0') * scale;
                    scale /= 10;
                    i++;
                }
                if (i == start)
                    return -EINVAL;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -EINVAL;
        if (i < n) {
            if (s[i] == 'Z' || s[i] == 'z') {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
                i++;
                if (digits(s, n, &i, 2, &oh))
                    return -EINVAL;
                if (i < n && s[i] == ':')
                    i++;
                if (i < n && digits(s, n, &i, 2, &om))
                    return -EINVAL;
                if (oh > 23 || om > 59)
                    return -EINVAL;
                offset_s = sign * (oh * 3600 + om * 60);
            }
        }
        if (i != n)
            return -EINVAL;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *out = secs * 1000000 + frac_us;
    return 0;
}

/* ---- the common filter ------------------------------------------------------------------ */

static int time_param(const struct dm_http_params *p, const char *key, int upper, int64_t *out,
                      struct dm_error *err)
{
    const char *s = dm_http_param(p, key);
    if (!s || !*s)
        return 0;
    int date_only;
    if (dm_http_parse_time(s, param_len(p, key), out, &date_only))
        return dm_error_set(err, -EINVAL,
                            "parameter '%s': '%.64s' is not a time (use 2022-11-04, "
                            "2022-11-04T10:00:00Z or epoch seconds)",
                            key, s);
    if (upper && date_only)
        *out += 86400ll * 1000000; /* "to=2022-11-04" includes that whole day */
    return 0;
}

static int size_param(const struct dm_http_params *p, const char *key, uint64_t *out,
                      struct dm_error *err)
{
    const char *s = dm_http_param(p, key);
    if (!s || !*s)
        return 0;
    if (dm_http_parse_size(s, param_len(p, key), out))
        return dm_error_set(err, -EINVAL,
                            "parameter '%s': '%.64s' is not a byte count (use 1500, 10K, "
                            "1.5M, 2G)",
                            key, s);
    return 0;
}

int dm_http_filter_parse(const struct dm_http_params *p, struct dm_http_filter *f,
                         struct dm_error *err)
{
    memset(f, 0, sizeof(*f));
    f->from_us = INT64_MIN;
    f->to_us = INT64_MAX;
    f->sent_max = f->recv_max = UINT64_MAX;
    const char *q = dm_http_param(p, "q");
    if (q) {
        size_t n = param_len(p, "q");
        size_t a = 0;
        while (a < n && (q[a] == ' ' || q[a] == '\t' || q[a] == '\n' || q[a] == '\r'))
            a++;
        if (n > DM_HTTP_MAX_EXPR)
            return dm_error_set(err, -EINVAL, "parameter 'q': expression longer than %d bytes",
                                DM_HTTP_MAX_EXPR);
        if (a < n) {
            f->q = q;
            f->qlen = n;
        }
    }
    int rc;
    if ((rc = time_param(p, "from", 0, &f->from_us, err)) ||
        (rc = time_param(p, "to", 1, &f->to_us, err)) ||
        (rc = size_param(p, "sent_min", &f->sent_min, err)) ||
        (rc = size_param(p, "sent_max", &f->sent_max, err)) ||
        (rc = size_param(p, "recv_min", &f->recv_min, err)) ||
        (rc = size_param(p, "recv_max", &f->recv_max, err)))
        return rc;
    if (f->from_us != INT64_MIN && f->to_us != INT64_MAX && f->from_us >= f->to_us)
        return dm_error_set(err, -EINVAL, "'from' must be before 'to'");
    if (f->sent_min > f->sent_max)
        return dm_error_set(err, -EINVAL, "'sent_min' is greater than 'sent_max'");
    if (f->recv_min > f->recv_max)
        return dm_error_set(err, -EINVAL, "'recv_min' is greater than 'recv_max'");
    return 0;
}

int dm_http_filter_is_empty(const struct dm_http_filter *f)
{
    return !f->q && f->from_us == INT64_MIN && f->to_us == INT64_MAX && f->sent_min == 0 &&
           f->sent_max == UINT64_MAX && f->recv_min == 0 && f->recv_max == UINT64_MAX;
}
