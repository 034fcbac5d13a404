/* Host header check (DNS rebinding), access token and cookie handling. */
#include "dm_http.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "dm_net.h"
#include "banned.h"

static int ieq(const char *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != b[i])
            return 0;
    }
    return 1;
}

int dm_http_is_loopback_name(const char *host, size_t n)
{
    if (n && host[n - 1] == '.') /* "localhost." */
        n--;
    if (ieq(host, n, "localhost"))
        return 1;
    if (n > 10 && ieq(host + n - 10, 10, ".localhost"))
        return 1;
    struct dm_ip ip;
    if (dm_ip_parse(host, n, &ip))
        return 0;
    if (dm_ip_is_v4(&ip))
        return (dm_ip_v4(&ip) >> 24) == 127;
    static const uint8_t v6_loopback[16] = {[15] = 1};
    return memcmp(ip.b, v6_loopback, 16) == 0;
}

int dm_http_split_hostport(const char *s, size_t n, const char **host, size_t *hostlen,
                           unsigned *port)
{
    size_t hend;
    const char *rest;
    *port = 0;
    if (n == 0)
        return -EINVAL;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -EINVAL;
        *host = s + 1;
        *hostlen = (size_t)(close - s - 1);
        rest = close + 1;
        hend = (size_t)(rest - s);
        if (hend < n && *rest != ':')
            return -EINVAL;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
            return -EINVAL; /* bare IPv6 without brackets is not a valid Host */
        hend = colon ? (size_t)(colon - s) : n;
        *host = s;
        *hostlen = hend;
        rest = s + hend;
    }
    if (*hostlen == 0)
        return -EINVAL;
    for (size_t i = 0; i < *hostlen; i++) {
        unsigned char c = (unsigned char)(*host)[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#')
            return -EINVAL;
    }
    if (hend < n) { /* ":port" */
        size_t i = hend + 1;
        unsigned v = 0;
        if (i == n)
            return -EINVAL;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -EINVAL;
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 65535)
                return -EINVAL;
        }
        if (v == 0)
            return -EINVAL;
        *port = v;
    }
    return 0;
}

int dm_http_host_allowed(const char *host_header, int loopback_bind, unsigned port)
{
    if (!host_header)
        return 0;
    const char *h;
    size_t hl;
    unsigned p;
    if (dm_http_split_hostport(host_header, strlen(host_header), &h, &hl, &p))
        return 0;
    if (!loopback_bind)
        return 1;
    if (!dm_http_is_loopback_name(h, hl))
        return 0;
    return p == 0 ? port == 80 : p == port;
}

int dm_http_token_equal(const char *expected, const char *given, size_t given_len)
{
    size_t n = strlen(expected);
    unsigned char diff = (unsigned char)(n != given_len);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(expected[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

long dm_http_cookie_get(const char *h, const char *name, const char **val)
{
    if (!h)
        return -1;
    size_t nl = strlen(name);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ';' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ';')
            p++;
        const char *eq = memchr(start, '=', (size_t)(p - start));
        if (eq && (size_t)(eq - start) == nl && !memcmp(start, name, nl)) {
            const char *v = eq + 1, *e = p;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e - v >= 2 && *v == '"' && e[-1] == '"') {
                v++;
                e--;
            }
            *val = v;
            return (long)(e - v);
        }
    }
    return -1;
}

int dm_http_token_generate(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof(raw))
        return -EINVAL;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = getrandom(raw + got, nbytes - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}
