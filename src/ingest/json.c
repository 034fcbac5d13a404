/* The JSON scanner: validating, allocation-free extraction of wanted fields from one object
 * per record, plus a small document parser for configuration files.
 *
 * Extraction walks the object once. Keys are matched as dotted paths ("flow.bytes_toserver"
 * for nested objects, and the same text for a literal dotted key such as Zeek's
 * "id.orig_h"), so presets need not know which form a producer used. Objects below a key
 * are descended only when some wanted path continues there; everything else is validated
 * and skipped. Strings are scanned eight bytes at a time while they hold plain ASCII. */
#include <string.h>

#include "dm_alloc.h"
#include "dm_utf8.h"
#include "ingest_int.h"
#include "banned.h"

static const uint8_t ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && ws_tab[(uint8_t)*p])
        p++;
    return p;
}

int dm__utf8_valid(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = dm_utf8_len(p, (size_t)(end - p));
        if (!k)
            return 0;
        p += k;
    }
    return 1;
}

static inline int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex4(const char *p, const char *end, uint32_t *out)
{
    if (end - p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((uint8_t)p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGH 0x8080808080808080ull

/* Bytes that need attention inside a string: '"', '\\', < 0x20, >= 0x80. */
static inline uint64_t special_bytes(uint64_t w)
{
    uint64_t q = w ^ (SWAR_ONES * '"');
    uint64_t b = w ^ (SWAR_ONES * '\\');
    uint64_t zq = (q - SWAR_ONES) & ~q;
    uint64_t zb = (b - SWAR_ONES) & ~b;
    uint64_t lt = (w - SWAR_ONES * 0x20) & ~w;
    return (zq | zb | lt | w) & SWAR_HIGH;
}

/* Index of the first (lowest-addressed) byte whose high bit is set in a special_bytes mask. */
static inline unsigned first_byte(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (unsigned)__builtin_clzll(m) >> 3;
#else
    return (unsigned)__builtin_ctzll(m) >> 3;
#endif
}

/* Scans a string body starting after the opening quote. Returns the position of the
 * closing quote, or NULL with *rej set. *esc is set when the body has escapes. */
static inline const char *scan_string(const char *p, const char *end, int *esc, int *rej)
{
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t sp = special_bytes(w);
            if (sp) {
                /* The lowest flagged byte is a real one (borrows only run upwards). */
                p += first_byte(sp);
                break;
            }
            p += 8;
        }
        if (p >= end) {
            *rej = DM_REJ_JSON;
            return NULL;
        }
        uint8_t c = (uint8_t)*p;
        if (c == '"')
            return p;
        if (c == '\\') {
            *esc = 1;
            if (end - p < 2) {
                *rej = DM_REJ_JSON;
                return NULL;
            }
            char e = p[1];
            if (e == 'u') {
                uint32_t u;
                if (hex4(p + 2, end, &u)) {
                    *rej = DM_REJ_JSON;
                    return NULL;
                }
                p += 6;
                if (u >= 0xdc00 && u <= 0xdfff) {
                    *rej = DM_REJ_JSON; /* lone low surrogate */
                    return NULL;
                }
                if (u >= 0xd800 && u <= 0xdbff) {
                    uint32_t lo;
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) ||
                        lo < 0xdc00 || lo > 0xdfff) {
                        *rej = DM_REJ_JSON; /* high surrogate without its low half */
                        return NULL;
                    }
                    p += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                *rej = DM_REJ_JSON;
                return NULL;
            }
            p += 2;
            continue;
        }
        if (c < 0x20) {
            *rej = DM_REJ_JSON;
            return NULL;
        }
        if (c >= 0x80) {
            size_t k = dm_utf8_len((const uint8_t *)p, (size_t)(end - p));
            if (!k) {
                *rej = DM_REJ_UTF8;
                return NULL;
            }
            p += k;
            continue;
        }
        p++;
    }
}

static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
        return NULL;
    return p + n;
}

const char *dm__json_skip(const char *p, const char *end, int *rej)
{
    /* Iterative so that deep nesting costs no stack: a bit per open container. */
    uint8_t stack[DM_JSON_MAX_DEPTH];
    size_t depth = 0;
    *rej = DM_REJ_JSON;
    p = skip_ws(p, end);
value:
    if (p >= end)
        return NULL;
    switch (*p) {
    case '{':
    case '[':
        if (depth == DM_JSON_MAX_DEPTH)
            return NULL;
        stack[depth++] = (uint8_t)*p;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    case '"': {
        int esc = 0;
        p = scan_string(p + 1, end, &esc, rej);
        if (!p)
            return NULL;
        p++;
        break;
    }
    case 't': p = scan_literal(p, end, "true", 4); break;
    case 'f': p = scan_literal(p, end, "false", 5); break;
    case 'n': p = scan_literal(p, end, "null", 4); break;
    default: p = scan_number(p, end); break;
    }
    if (!p)
        return NULL;
after:
    if (depth == 0)
        return p;
    p = skip_ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    }
    if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
        depth--;
        p++;
        goto after;
    }
    return NULL;
key:
    if (p >= end || *p != '"')
        return NULL;
    {
        int esc = 0;
        p = scan_string(p + 1, end, &esc, rej);
        if (!p)
            return NULL;
        *rej = DM_REJ_JSON;
    }
    p = skip_ws(p + 1, end);
    if (p >= end || *p != ':')
        return NULL;
    p = skip_ws(p + 1, end);
    goto value;
}

static inline int bytes_eq(const char *a, const char *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8, b += 8, n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

/* The wanted-path entry for the dotted path k[0..len), or NULL. */
static inline const struct dm__key *key_find(const struct dm__keyset *ks, const char *k,
                                             size_t len)
{
    uint64_t h = dm__key_hash(k, len);
    for (size_t i = h & (DM_KEYSET_SLOTS - 1);; i = (i + 1) & (DM_KEYSET_SLOTS - 1)) {
        const struct dm__key *e = &ks->k[i];
        if (!e->path)
            return NULL;
        if (e->h == h && e->len == len && bytes_eq(e->path, k, len))
            return e;
    }
}

/* Skips one value at p (not whitespace): scalars inline, containers by dm__json_skip. */
static inline const char *skip_value(const char *p, const char *end, int *rej)
{
    int esc = 0;
    switch (*p) {
    case '"':
        p = scan_string(p + 1, end, &esc, rej);
        return p ? p + 1 : NULL;
    case '{':
    case '[': return dm__json_skip(p, end, rej);
    case 't': p = scan_literal(p, end, "true", 4); break;
    case 'f': p = scan_literal(p, end, "false", 5); break;
    case 'n': p = scan_literal(p, end, "null", 4); break;
    default: p = scan_number(p, end); break;
    }
    if (!p)
        *rej = DM_REJ_JSON;
    return p;
}

struct xstate {
    const char *start, *end;
    const struct dm__keyset *ks;
    struct dm__keycache *kc;
    struct dm__val *vals;
    int rej;
    const char *errp;
};

/* Walks the object whose '{' is at p; path is its dotted prefix (plen 0 at the top). */
static const char *walk_object(struct xstate *x, const char *p, const char *path, size_t plen,
                               int depth)
{
    const char *end = x->end;
    char kbuf[256];
    char full[DM_MAP_MAX_NAME + 1];
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    struct dm__keycache *kc = plen == 0 ? x->kc : NULL;
    for (size_t ki = 0;; ki++) {
        if (p >= end || *p != '"')
            goto bad;
        const struct dm__key *e = NULL;
        const char *ks = p + 1;
        if (kc && ki < DM_KEYCACHE_KEYS) {
            /* Predicted key: the cached text holds no quote, backslash or control byte and
             * is valid UTF-8, so equal bytes followed by '"' are exactly that key. */
            size_t cl = kc->k[ki].len;
            if (cl && (size_t)(end - ks) > cl && ks[cl] == '"' && bytes_eq(ks, kc->k[ki].text, cl)) {
                e = kc->k[ki].e;
                p = skip_ws(ks + cl + 1, end);
                if (p >= end || *p != ':')
                    goto bad;
                p = skip_ws(p + 1, end);
                if (p >= end)
                    goto bad;
                goto have_key;
            }
        }
        int esc = 0;
        const char *ke = scan_string(ks, end, &esc, &x->rej);
        if (!ke) {
            x->errp = p;
            return NULL;
        }
        const char *k = ks;
        size_t klen = (size_t)(ke - ks);
        if (esc) {
            if (klen <= sizeof(kbuf)) {
                klen = dm__json_unescape(ks, klen, kbuf);
                k = kbuf;
            } else {
                klen = (size_t)-1;
            }
        }
        p = skip_ws(ke + 1, end);
        if (p >= end || *p != ':')
            goto bad;
        p = skip_ws(p + 1, end);
        if (p >= end)
            goto bad;
        size_t flen = plen ? plen + 1 + klen : klen;
        if (klen != (size_t)-1 && flen <= x->ks->maxlen) {
            if (plen) {
                /* Nested: look up the whole dotted path (maxlen <= DM_MAP_MAX_NAME). */
                memcpy(full, path, plen);
                full[plen] = '.';
                memcpy(full + plen + 1, k, klen);
                e = key_find(x->ks, full, flen);
            } else {
                e = key_find(x->ks, k, klen);
            }
        }
        if (kc && ki < DM_KEYCACHE_KEYS) {
            if (!esc && klen > 0 && klen <= DM_KEYCACHE_LEN) {
                memcpy(kc->k[ki].text, k, klen);
                kc->k[ki].len = (uint8_t)klen;
                kc->k[ki].e = e;
            } else {
                kc->k[ki].len = 0;
            }
        }
    have_key:;
        const char *vs = p;
        if (e && e->prefix && *p == '{' && depth < 16) {
            /* Descend: the path of this object is e->path. */
            p = walk_object(x, p, e->path, e->len, depth + 1);
            if (!p)
                return NULL;
            if (e->field >= 0) {
                struct dm__val *v = &x->vals[e->field];
                v->p = vs, v->n = (uint32_t)(p - vs), v->kind = DM_V_OBJ, v->esc = 0;
            }
        } else if (e && e->field >= 0) {
            struct dm__val *v = &x->vals[e->field];
            v->esc = 0;
            switch (*p) {
            case '"': {
                int vesc = 0;
                const char *se = scan_string(p + 1, end, &vesc, &x->rej);
                if (!se) {
                    x->errp = p;
                    return NULL;
                }
                v->p = p + 1, v->n = (uint32_t)(se - p - 1), v->kind = DM_V_STR;
                v->esc = (uint8_t)vesc;
                p = se + 1;
                break;
            }
            case 't':
                p = scan_literal(p, end, "true", 4);
                v->kind = DM_V_TRUE, v->p = vs, v->n = 4;
                break;
            case 'f':
                p = scan_literal(p, end, "false", 5);
                v->kind = DM_V_FALSE, v->p = vs, v->n = 5;
                break;
            case 'n':
                p = scan_literal(p, end, "null", 4);
                v->kind = DM_V_NULL, v->p = vs, v->n = 4;
                break;
            case '{':
            case '[':
                p = dm__json_skip(p, end, &x->rej);
                if (!p) {
                    x->errp = vs;
                    return NULL;
                }
                v->kind = *vs == '{' ? DM_V_OBJ : DM_V_ARR, v->p = vs, v->n = (uint32_t)(p - vs);
                break;
            default:
                p = scan_number(p, end);
                v->kind = DM_V_NUM, v->p = vs, v->n = p ? (uint32_t)(p - vs) : 0;
                break;
            }
            if (!p) {
                x->rej = DM_REJ_JSON;
                x->errp = vs;
                return NULL;
            }
        } else {
            p = skip_value(p, end, &x->rej);
            if (!p) {
                x->errp = vs;
                return NULL;
            }
        }
        p = skip_ws(p, end);
        if (p >= end)
            goto bad;
        if (*p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (*p == '}')
            return p + 1;
        goto bad;
    }
bad:
    x->rej = DM_REJ_JSON;
    x->errp = p;
    return NULL;
}

int dm__json_extract(const char *p, size_t n, const struct dm__keyset *ks, struct dm__val *vals,
                     size_t *errpos)
{
    return dm__json_extract_cached(p, n, ks, vals, NULL, errpos);
}

int dm__json_extract_cached(const char *p, size_t n, const struct dm__keyset *ks,
                            struct dm__val *vals, struct dm__keycache *kc, size_t *errpos)
{
    if (kc && kc->ks != ks) {
        memset(kc, 0, sizeof(*kc));
        kc->ks = ks;
    }
    struct xstate x = {p, p + n, ks, kc, vals, 0, p};
    const char *q = skip_ws(p, p + n);
    if (q >= x.end || *q != '{') {
        *errpos = (size_t)(q - p);
        return DM_REJ_JSON;
    }
    q = walk_object(&x, q, "", 0, 0);
    if (!q) {
        *errpos = (size_t)(x.errp - p);
        return x.rej ? x.rej : DM_REJ_JSON;
    }
    q = skip_ws(q, x.end);
    if (q != x.end) {
        *errpos = (size_t)(q - p);
        return DM_REJ_JSON;
    }
    return 0;
}

size_t dm__json_unescape(const char *p, size_t n, char *out)
{
    /* Every escape is at least as long as what it decodes to (\uXXXX -> <= 3 bytes,
     * surrogate pair 12 -> 4), so out never needs more than n bytes. */
    const char *end = p + n;
    char *o = out;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (end - p < 2)
            break;
        char e = p[1];
        p += 2;
        switch (e) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t u = 0, lo = 0;
            if (hex4(p, end, &u))
                return (size_t)(o - out);
            p += 4;
            if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                !hex4(p + 2, end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (u >= 0xd800 && u <= 0xdfff) {
                u = 0xfffd; /* not reachable for validated input */
            }
            o += dm_utf8_put(o, u);
            break;
        }
        default: *o++ = e; break;
        }
    }
    return (size_t)(o - out);
}

/* ---- key discovery (format detection) ---- */

static int keys_walk(const char *p, const char *end, const char **after, char *path, size_t plen,
                     struct dm_buf *out, int depth)
{
    int rej = 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        *after = p + 1;
        return 0;
    }
    for (;;) {
        if (p >= end || *p != '"')
            return DM_REJ_JSON;
        int esc = 0;
        const char *ke = scan_string(p + 1, end, &esc, &rej);
        if (!ke)
            return DM_REJ_JSON;
        size_t klen = (size_t)(ke - p - 1);
        size_t nlen = plen + (plen ? 1 : 0) + klen;
        int fits = nlen < 240 && !esc;
        if (fits) {
            if (plen)
                path[plen] = '.';
            memcpy(path + plen + (plen ? 1 : 0), p + 1, klen);
            path[nlen] = '\0';
            if (dm_buf_append(out, path, nlen) || dm_buf_putc(out, '\n'))
                return -ENOMEM;
        }
        p = skip_ws(ke + 1, end);
        if (p >= end || *p != ':')
            return DM_REJ_JSON;
        p = skip_ws(p + 1, end);
        if (p < end && *p == '{' && fits && depth < 8) {
            int rc = keys_walk(p, end, &p, path, nlen, out, depth + 1);
            if (rc)
                return rc;
        } else {
            p = dm__json_skip(p, end, &rej);
            if (!p)
                return DM_REJ_JSON;
        }
        path[plen] = '\0';
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            *after = p + 1;
            return 0;
        }
        return DM_REJ_JSON;
    }
}

int dm__json_keys(const char *p, size_t n, struct dm_buf *out)
{
    const char *end = p + n;
    char path[256];
    path[0] = '\0';
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return DM_REJ_JSON;
    const char *after;
    return keys_walk(p, end, &after, path, 0, out, 0);
}

/* ---- document model for configuration files ---- */

struct jparse {
    const char *start, *p, *end;
    struct dm_error *err;
    int depth;
};

static struct dm__jnode *jerr(struct jparse *j, const char *msg)
{
    int64_t line = 1;
    for (const char *q = j->start; q < j->p && q < j->end; q++)
        line += *q == '\n';
    if (!j->err || !j->err->code)
        dm_error_set_at(j->err, DM_EPARSE, j->p - j->start, line, "%s at line %lld", msg,
                        (long long)line);
    return NULL;
}

static char *jstring(struct jparse *j)
{
    int esc = 0, rej = 0;
    const char *e = scan_string(j->p + 1, j->end, &esc, &rej);
    if (!e) {
        jerr(j, rej == DM_REJ_UTF8 ? "invalid UTF-8" : "bad string");
        return NULL;
    }
    size_t n = (size_t)(e - j->p - 1);
    char *s = dm_malloc(n + 1);
    if (!s) {
        dm_error_set(j->err, -ENOMEM, "out of memory");
        return NULL;
    }
    n = dm__json_unescape(j->p + 1, n, s);
    s[n] = '\0';
    j->p = e + 1;
    return s;
}

static struct dm__jnode *jvalue(struct jparse *j)
{
    j->p = skip_ws(j->p, j->end);
    if (j->p >= j->end)
        return jerr(j, "unexpected end of document");
    if (j->depth > 64)
        return jerr(j, "nesting too deep");
    struct dm__jnode *n = dm_calloc(1, sizeof(*n));
    if (!n) {
        dm_error_set(j->err, -ENOMEM, "out of memory");
        return NULL;
    }
    char c = *j->p;
    if (c == '{' || c == '[') {
        n->type = c == '{' ? DM_J_OBJ : DM_J_ARR;
        char close = c == '{' ? '}' : ']';
        j->p = skip_ws(j->p + 1, j->end);
        struct dm__jnode **tail = &n->child;
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return n;
        }
        j->depth++;
        for (;;) {
            char *key = NULL;
            j->p = skip_ws(j->p, j->end);
            if (n->type == DM_J_OBJ) {
                if (j->p >= j->end || *j->p != '"')
                    goto fail_msg;
                key = jstring(j);
                if (!key)
                    goto fail;
                j->p = skip_ws(j->p, j->end);
                if (j->p >= j->end || *j->p != ':') {
                    dm_free(key);
                    goto fail_msg;
                }
                j->p++;
            }
            struct dm__jnode *v = jvalue(j);
            if (!v) {
                dm_free(key);
                goto fail;
            }
            v->key = key;
            *tail = v;
            tail = &v->next;
            j->p = skip_ws(j->p, j->end);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                break;
            }
            goto fail_msg;
        }
        j->depth--;
        return n;
    fail_msg:
        jerr(j, n->type == DM_J_OBJ ? "expected '\"', ',' or '}'" : "expected ',' or ']'");
    fail:
        dm__jdoc_free(n);
        return NULL;
    }
    if (c == '"') {
        n->type = DM_J_STR;
        n->str = jstring(j);
        if (!n->str) {
            dm_free(n);
            return NULL;
        }
        return n;
    }
    const char *q;
    if ((q = scan_literal(j->p, j->end, "true", 4)) || (q = scan_literal(j->p, j->end, "false", 5))) {
        n->type = DM_J_BOOL;
        n->b = *j->p == 't';
        j->p = q;
        return n;
    }
    if ((q = scan_literal(j->p, j->end, "null", 4))) {
        n->type = DM_J_NULL;
        j->p = q;
        return n;
    }
    q = scan_number(j->p, j->end);
    if (!q) {
        dm_free(n);
        return jerr(j, "unexpected character");
    }
    n->type = DM_J_NUM;
    n->str = dm_strndup(j->p, (size_t)(q - j->p));
    if (!n->str) {
        dm_free(n);
        dm_error_set(j->err, -ENOMEM, "out of memory");
        return NULL;
    }
    j->p = q;
    return n;
}

struct dm__jnode *dm__jdoc_parse(const char *p, size_t n, struct dm_error *err)
{
    struct jparse j = {p, p, p + n, err, 0};
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        j.p += 3;
    struct dm__jnode *root = jvalue(&j);
    if (!root)
        return NULL;
    j.p = skip_ws(j.p, j.end);
    if (j.p != j.end) {
        dm__jdoc_free(root);
        return jerr(&j, "trailing characters after the document");
    }
    return root;
}

void dm__jdoc_free(struct dm__jnode *n)
{
    while (n) {
        struct dm__jnode *next = n->next;
        dm__jdoc_free(n->child);
        dm_free(n->key);
        dm_free(n->str);
        dm_free(n);
        n = next;
    }
}

struct dm__jnode *dm__jdoc_get(const struct dm__jnode *obj, const char *key)
{
    if (!obj || obj->type != DM_J_OBJ)
        return NULL;
    for (struct dm__jnode *c = obj->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}
