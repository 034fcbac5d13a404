#include <string.h>

#include "dm_alloc.h"
#include "dm_net.h"
#include "banned.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int dm_ip_is_v4(const struct dm_ip *ip)
{
    return memcmp(ip->b, v4_prefix, 12) == 0;
}

uint32_t dm_ip_v4(const struct dm_ip *ip)
{
    return (uint32_t)ip->b[12] << 24 | (uint32_t)ip->b[13] << 16 | (uint32_t)ip->b[14] << 8 |
           ip->b[15];
}

void dm_ip_from_v4(uint32_t v4, struct dm_ip *out)
{
    memcpy(out->b, v4_prefix, 12);
    out->b[12] = (uint8_t)(v4 >> 24);
    out->b[13] = (uint8_t)(v4 >> 16);
    out->b[14] = (uint8_t)(v4 >> 8);
    out->b[15] = (uint8_t)v4;
}

int dm_ip_cmp(const struct dm_ip *a, const struct dm_ip *b)
{
    return memcmp(a->b, b->b, 16);
}

/* Parses a dotted quad in s[0..n) into *v4: four decimal parts 0..255, no leading zeros
 * beyond a single "0" (leading zeros are ambiguous: octal in inet_aton). */
static int parse_v4(const char *s, size_t n, uint32_t *v4)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return -EINVAL;
            i++;
        }
        size_t start = i;
        unsigned x = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            x = x * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || x > 255 || (digits > 1 && s[start] == '0'))
            return -EINVAL;
        v = v << 8 | x;
    }
    if (i != n)
        return -EINVAL;
    *v4 = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_v6(const char *s, size_t n, struct dm_ip *out)
{
    uint16_t words[8];
    int nw = 0;
    int gap = -1; /* index in words where "::" was */
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (n == 2)
            goto done;
    } else if (n >= 1 && s[0] == ':') {
        return -EINVAL;
    }
    for (;;) {
        /* One group: hex digits, or an embedded IPv4 at the end. */
        size_t start = i;
        unsigned x = 0;
        while (i < n && hexval(s[i]) >= 0 && i - start < 4) {
            x = x * 16 + (unsigned)hexval(s[i]);
            i++;
        }
        if (i < n && s[i] == '.') {
            /* Embedded IPv4: the rest of the string. */
            uint32_t v4;
            if (nw > 6 || parse_v4(s + start, n - start, &v4))
                return -EINVAL;
            words[nw++] = (uint16_t)(v4 >> 16);
            words[nw++] = (uint16_t)v4;
            i = n;
            break;
        }
        if (i == start || nw >= 8)
            return -EINVAL;
        words[nw++] = (uint16_t)x;
        if (i == n)
            break;
        if (s[i] != ':')
            return -EINVAL;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return -EINVAL;
            gap = nw;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return -EINVAL; /* trailing single ':' */
        }
    }
done:
    if (gap < 0 && nw != 8)
        return -EINVAL;
    if (gap >= 0 && nw > 7)
        return -EINVAL;
    uint16_t full[8] = {0};
    if (gap < 0) {
        memcpy(full, words, sizeof(full));
    } else {
        int tail = nw - gap;
        memcpy(full, words, (size_t)gap * 2);
        memcpy(full + 8 - tail, words + gap, (size_t)tail * 2);
    }
    for (int k = 0; k < 8; k++) {
        out->b[2 * k] = (uint8_t)(full[k] >> 8);
        out->b[2 * k + 1] = (uint8_t)full[k];
    }
    return 0;
}

int dm_ip_parse(const char *s, size_t n, struct dm_ip *out)
{
    if (n == 0 || n > 45)
        return -EINVAL;
    if (memchr(s, ':', n))
        return parse_v6(s, n, out);
    uint32_t v4;
    if (parse_v4(s, n, &v4))
        return -EINVAL;
    dm_ip_from_v4(v4, out);
    return 0;
}

static size_t fmt_v4(uint32_t v, char *out)
{
    size_t n = 0;
    for (int part = 3; part >= 0; part--) {
        unsigned x = (v >> (part * 8)) & 0xff;
        if (x >= 100)
            out[n++] = (char)('0' + x / 100);
        if (x >= 10)
            out[n++] = (char)('0' + x / 10 % 10);
        out[n++] = (char)('0' + x % 10);
        if (part)
            out[n++] = '.';
    }
    out[n] = '\0';
    return n;
}

size_t dm_ip_format(const struct dm_ip *ip, char out[DM_IP_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    if (dm_ip_is_v4(ip))
        return fmt_v4(dm_ip_v4(ip), out);
    uint16_t w[8];
    for (int k = 0; k < 8; k++)
        w[k] = (uint16_t)(ip->b[2 * k] << 8 | ip->b[2 * k + 1]);
    /* RFC 5952: compress the longest run (>= 2) of zero words, the first one on ties. */
    int best = -1, best_len = 0;
    for (int k = 0; k < 8;) {
        if (w[k] != 0) {
            k++;
            continue;
        }
        int j = k;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - k > best_len && j - k >= 2) {
            best = k;
            best_len = j - k;
        }
        k = j;
    }
    size_t n = 0;
    for (int k = 0; k < 8; k++) {
        if (k == best) {
            out[n++] = ':';
            if (k == 0)
                out[n++] = ':';
            k += best_len - 1;
            continue;
        }
        int started = 0;
        for (int sh = 12; sh >= 0; sh -= 4) {
            unsigned d = (w[k] >> sh) & 0xf;
            if (d || started || sh == 0) {
                out[n++] = hex[d];
                started = 1;
            }
        }
        if (k < 7)
            out[n++] = ':';
    }
    out[n] = '\0';
    return n;
}

/* Clears host bits beyond `bits` in a. */
static void mask_bits(struct dm_ip *a, unsigned bits)
{
    for (unsigned k = 0; k < 16; k++) {
        unsigned lo = k * 8;
        if (bits >= lo + 8)
            continue;
        if (bits <= lo)
            a->b[k] = 0;
        else
            a->b[k] &= (uint8_t)(0xff << (8 - (bits - lo)));
    }
}

int dm_cidr_parse(const char *s, size_t n, struct dm_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (dm_ip_parse(s, alen, &out->addr))
        return -EINVAL;
    int v4 = dm_ip_is_v4(&out->addr) && !memchr(s, ':', alen);
    unsigned maxlen = v4 ? 32 : 128;
    unsigned len = maxlen;
    if (slash) {
        size_t i = alen + 1;
        if (i >= n || n - i > 3)
            return -EINVAL;
        len = 0;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -EINVAL;
            len = len * 10 + (unsigned)(s[i] - '0');
        }
        if (len > maxlen)
            return -EINVAL;
    }
    out->bits = (uint8_t)(v4 ? 96 + len : len);
    mask_bits(&out->addr, out->bits);
    return 0;
}

int dm_cidr_contains(const struct dm_cidr *c, const struct dm_ip *ip)
{
    unsigned bits = c->bits;
    unsigned full = bits / 8;
    if (memcmp(c->addr.b, ip->b, full) != 0)
        return 0;
    unsigned rem = bits % 8;
    if (!rem)
        return 1;
    uint8_t m = (uint8_t)(0xff << (8 - rem));
    return (ip->b[full] & m) == c->addr.b[full];
}

size_t dm_cidr_format(const struct dm_cidr *c, char out[DM_IP_STRLEN + 4])
{
    size_t n = dm_ip_format(&c->addr, out);
    unsigned len = c->bits;
    if (dm_ip_is_v4(&c->addr) && len >= 96)
        len -= 96;
    out[n++] = '/';
    if (len >= 100)
        out[n++] = (char)('0' + len / 100);
    if (len >= 10)
        out[n++] = (char)('0' + len / 10 % 10);
    out[n++] = (char)('0' + len % 10);
    out[n] = '\0';
    return n;
}

void dm_cidr_set_init(struct dm_cidr_set *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
}

void dm_cidr_set_release(struct dm_cidr_set *s)
{
    dm_free(s->v);
    dm_cidr_set_init(s);
}

int dm_cidr_set_add(struct dm_cidr_set *s, const struct dm_cidr *c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct dm_cidr *v = dm_reallocarray(s->v, cap, sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *c;
    return 0;
}

int dm_cidr_set_add_str(struct dm_cidr_set *s, const char *text, size_t n, struct dm_error *err)
{
    struct dm_cidr c;
    if (dm_cidr_parse(text, n, &c))
        return dm_error_set(err, -EINVAL, "invalid network '%.*s' (expected an address or CIDR)",
                            (int)(n > 64 ? 64 : n), text);
    return dm_cidr_set_add(s, &c);
}

int dm_cidr_set_contains(const struct dm_cidr_set *s, const struct dm_ip *ip)
{
    for (size_t i = 0; i < s->n; i++)
        if (dm_cidr_contains(&s->v[i], ip))
            return 1;
    return 0;
}

int dm_cidr_set_add_defaults(struct dm_cidr_set *s)
{
    static const char *const nets[] = {"10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10",  "127.0.0.0/8",   "169.254.0.0/16",
                                       "fc00::/7",       "fe80::/10",     "::1/128"};
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        int rc = dm_cidr_set_add_str(s, nets[i], strlen(nets[i]), NULL);
        if (rc)
            return rc;
    }
    return 0;
}
