/* Bounded recursive-descent JSON parser into an arena DOM (see dm_json.h). */
#include "dm_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_utf8.h"
#include "banned.h"

struct jp {
    const char *s;
    size_t n, pos;
    size_t depth, max_depth;
    size_t nodes, max_nodes;
    struct dm_arena *arena;
    struct dm_error *err;
};

static int64_t line_of(const char *s, size_t pos)
{
    int64_t line = 1;
    for (size_t i = 0; i < pos; i++)
        if (s[i] == '\n')
            line++;
    return line;
}

static int fail(struct jp *p, int code, const char *what)
{
    if (p->pos >= p->n)
        return dm_error_set_at(p->err, code, (int64_t)p->pos, line_of(p->s, p->pos),
                               "%s at end of input", what);
    return dm_error_set_at(p->err, code, (int64_t)p->pos, line_of(p->s, p->pos),
                           "%s at line %lld, byte %zu", what,
                           (long long)line_of(p->s, p->pos), p->pos + 1);
}

static void skip_ws(struct jp *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string at p->pos (the opening quote); *out NUL-terminated in the arena. */
static int parse_string(struct jp *p, const char **out, size_t *out_len)
{
    size_t start = ++p->pos;
    size_t end = start;
    while (end < p->n && p->s[end] != '"') {
        if (p->s[end] == '\\') {
            end++;
        }
        end++;
    }
    if (end >= p->n) {
        p->pos = start - 1;
        return fail(p, DM_EPARSE, "unterminated string");
    }
    /* unescaped output is never longer than the source */
    char *o = dm_arena_alloc(p->arena, end - start + 1);
    if (!o)
        return -ENOMEM;
    size_t k = 0;
    size_t i = start;
    while (i < end) {
        unsigned char c = (unsigned char)p->s[i];
        if (c < 0x20) {
            p->pos = i;
            return fail(p, DM_EPARSE, "control character in string");
        }
        if (c != '\\') {
            size_t l = dm_utf8_len((const unsigned char *)p->s + i, end - i);
            if (!l) {
                p->pos = i;
                return fail(p, DM_EPARSE, "invalid UTF-8 in string");
            }
            memcpy(o + k, p->s + i, l);
            k += l;
            i += l;
            continue;
        }
        char e = p->s[i + 1];
        i += 2;
        switch (e) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (i + 4 > end || hex4(p->s + i, &cp)) {
                p->pos = i - 2;
                return fail(p, DM_EPARSE, "bad \\u escape");
            }
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (i + 6 > end || p->s[i] != '\\' || p->s[i + 1] != 'u' ||
                    hex4(p->s + i + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                    p->pos = i - 6;
                    return fail(p, DM_EPARSE, "unpaired surrogate in \\u escape");
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                p->pos = i - 6;
                return fail(p, DM_EPARSE, "unpaired surrogate in \\u escape");
            } else if (cp == 0) {
                p->pos = i - 6;
                return fail(p, DM_EPARSE, "\\u0000 in string");
            }
            k += dm_utf8_put(o + k, cp);
            break;
        }
        default:
            p->pos = i - 2;
            return fail(p, DM_EPARSE, "bad escape in string");
        }
    }
    o[k] = 0;
    p->pos = end + 1;
    *out = o;
    *out_len = k;
    return 0;
}

static int parse_number(struct jp *p, struct dm_json *v)
{
    size_t i = p->pos;
    int integral = 1;
    if (i < p->n && p->s[i] == '-')
        i++;
    if (i >= p->n || p->s[i] < '0' || p->s[i] > '9')
        return fail(p, DM_EPARSE, "invalid number");
    if (p->s[i] == '0' && i + 1 < p->n && p->s[i + 1] >= '0' && p->s[i + 1] <= '9')
        return fail(p, DM_EPARSE, "leading zero in number");
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    if (i < p->n && p->s[i] == '.') {
        integral = 0;
        i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') {
            p->pos = i;
            return fail(p, DM_EPARSE, "invalid number");
        }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        integral = 0;
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') {
            p->pos = i;
            return fail(p, DM_EPARSE, "invalid number");
        }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    char tmp[64];
    size_t len = i - p->pos;
    if (len >= sizeof(tmp))
        return fail(p, DM_EPARSE, "number too long");
    memcpy(tmp, p->s + p->pos, len);
    tmp[len] = 0;
    v->type = DM_JSON_NUM;
    v->num = strtod(tmp, NULL);
    if (integral) {
        errno = 0;
        long long ll = strtoll(tmp, NULL, 10);
        if (!errno) {
            v->is_int = 1;
            v->i = ll;
        }
    }
    p->pos = i;
    return 0;
}

static int parse_value(struct jp *p, struct dm_json *v);

static int lit(struct jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->n - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, DM_EPARSE, "invalid value");
    p->pos += n;
    return 0;
}

/* Children are collected into a growing scratch array, then copied into the arena. */
static int parse_container(struct jp *p, struct dm_json *v, int obj)
{
    char close = obj ? '}' : ']';
    if (++p->depth > p->max_depth)
        return fail(p, DM_ETOOBIG, "nesting too deep");
    p->pos++;
    struct dm_json *tmp = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct dm_json *t = dm_reallocarray(tmp, nc, sizeof(*t));
            if (!t) {
                rc = -ENOMEM;
                goto out;
            }
            tmp = t;
            cap = nc;
        }
        struct dm_json *c = &tmp[n];
        memset(c, 0, sizeof(*c));
        skip_ws(p);
        if (obj) {
            if (p->pos >= p->n || p->s[p->pos] != '"') {
                rc = fail(p, DM_EPARSE, "expected a member name");
                goto out;
            }
            if ((rc = parse_string(p, &c->key, &c->key_len)))
                goto out;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                rc = fail(p, DM_EPARSE, "expected ':'");
                goto out;
            }
            p->pos++;
            skip_ws(p);
        }
        if ((rc = parse_value(p, c)))
            goto out;
        n++;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        rc = fail(p, DM_EPARSE, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto out;
    }
done:
    v->type = obj ? DM_JSON_OBJ : DM_JSON_ARR;
    v->len = n;
    if (n) {
        v->items = dm_arena_alloc(p->arena, n * sizeof(*tmp));
        if (!v->items) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(v->items, tmp, n * sizeof(*tmp));
    }
out:
    dm_free(tmp);
    p->depth--;
    return rc;
}

static int parse_value(struct jp *p, struct dm_json *v)
{
    skip_ws(p);
    if (p->pos >= p->n)
        return fail(p, DM_EPARSE, "expected a value");
    if (++p->nodes > p->max_nodes)
        return fail(p, DM_ETOOBIG, "too many values");
    v->offset = p->pos;
    int rc;
    switch (p->s[p->pos]) {
    case '{': rc = parse_container(p, v, 1); break;
    case '[': rc = parse_container(p, v, 0); break;
    case '"':
        v->type = DM_JSON_STR;
        rc = parse_string(p, &v->str, &v->len);
        break;
    case 't':
        v->type = DM_JSON_BOOL;
        v->b = 1;
        rc = lit(p, "true");
        break;
    case 'f':
        v->type = DM_JSON_BOOL;
        rc = lit(p, "false");
        break;
    case 'n':
        v->type = DM_JSON_NULL;
        rc = lit(p, "null");
        break;
    default: rc = parse_number(p, v); break;
    }
    v->span = p->pos - v->offset;
    return rc;
}

int dm_json_parse(struct dm_json_doc *doc, const char *text, size_t len,
                  const struct dm_json_limits *lim, struct dm_error *err)
{
    memset(doc, 0, sizeof(*doc));
    dm_arena_init(&doc->arena, 16 * 1024, 0);
    doc->text = text;
    doc->text_len = len;
    struct jp p = {.s = text, .n = len, .arena = &doc->arena, .err = err};
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (size_t)16 << 20;
    p.max_depth = lim && lim->max_depth ? lim->max_depth : 64;
    p.max_nodes = lim && lim->max_nodes ? lim->max_nodes : 1000000;
    if (len > max_bytes)
        return dm_error_set(err, DM_ETOOBIG, "json input of %zu bytes exceeds the limit of %zu",
                            len, max_bytes);
    struct dm_json *root = dm_arena_calloc(&doc->arena, 1, sizeof(*root));
    if (!root)
        return -ENOMEM;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p.pos = 3; /* UTF-8 byte order mark */
    int rc = parse_value(&p, root);
    if (rc)
        return rc;
    skip_ws(&p);
    if (p.pos != p.n)
        return fail(&p, DM_EPARSE, "unexpected text after the value");
    doc->root = root;
    return 0;
}

void dm_json_doc_release(struct dm_json_doc *doc)
{
    dm_arena_release(&doc->arena);
    doc->root = NULL;
}

const struct dm_json *dm_json_get(const struct dm_json *obj, const char *key)
{
    if (!obj || obj->type != DM_JSON_OBJ)
        return NULL;
    size_t kl = strlen(key);
    const struct dm_json *found = NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (obj->items[i].key_len == kl && memcmp(obj->items[i].key, key, kl) == 0)
            found = &obj->items[i];
    return found;
}

const char *dm_json_type_name(enum dm_json_type t)
{
    switch (t) {
    case DM_JSON_NULL: return "null";
    case DM_JSON_BOOL: return "boolean";
    case DM_JSON_NUM: return "number";
    case DM_JSON_STR: return "string";
    case DM_JSON_ARR: return "array";
    case DM_JSON_OBJ: return "object";
    }
    return "unknown";
}
