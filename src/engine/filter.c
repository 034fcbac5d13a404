/* Filter expressions: lexer, recursive-descent parser straight into a predicate tree,
 * time-bound extraction, and a column-wise evaluator over morsels (docs/filter.md). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

#define MAX_DEPTH 64
#define MAX_NODES 4096
#define MAX_LIST 65536

/* ---------------- lexer ---------------- */

enum tok {
    T_EOF,
    T_WORD,   /* bare word: field, keyword, number, address, time ... */
    T_STRING, /* quoted */
    T_LP,
    T_RP,
    T_LB,
    T_RB,
    T_COMMA,
    T_OP, /* = != < <= > >= */
    T_AND,
    T_OR,
    T_NOT
};

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">="};

struct token {
    enum tok type;
    enum op op;
    size_t pos, len; /* span in the text */
    const char *s;   /* value: word or unquoted string (into the text or the string arena) */
    size_t n;
};

/* ---------------- program ---------------- */

enum ntype {
    N_TRUE,
    N_FALSE,
    N_AND,
    N_OR,
    N_NOT,
    N_IP,   /* IP ids in a bitmap */
    N_UINT, /* unsigned column (or bytes) in intervals */
    N_INT,  /* int64 column in intervals */
    N_F64,  /* double column in intervals */
    N_DICT  /* dict ids in a bitmap */
};

struct ival {
    union {
        uint64_t u;
        int64_t i;
        double f;
    } lo, hi;
};

struct node {
    enum ntype type;
    int col, col2;  /* column index; col2 = second column for either-side fields, -1 */
    int neg;        /* match when the (present) value is not in the set */
    int either_neg; /* either-side negation: neither side matches */
    uint64_t *bits; /* N_IP / N_DICT bitmap */
    size_t nival;
    struct ival *iv;
    size_t nkids;
    struct node **kids;
};

struct dm_filter {
    const struct dm_table *t;
    struct node *root;
    size_t depth;
    int64_t tlo, thi; /* time bounds [tlo, thi) */
    size_t begin, end;
    struct dm_arena arena;
};

struct parser {
    const char *s;
    size_t n, pos;
    struct token tok; /* current */
    const struct dm_table *t;
    struct dm_arena *arena;
    struct dm_error *err;
    size_t depth, nodes;
};

static void line_col(const char *s, size_t pos, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n')
            l++, c = 1;
        else if (((unsigned char)s[i] & 0xc0) != 0x80)
            c++;
    }
    *line = l;
    *col = c;
}

/* "msg at L:C" plus an optional " (hint)". */
__attribute__((format(printf, 4, 5))) static int perr(struct parser *p, size_t pos,
                                                      const char *hint, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    unsigned l, c;
    line_col(p->s, pos, &l, &c);
    if (hint && *hint)
        return dm_error_set_at(p->err, DM_EPARSE, (int64_t)pos, l, "%s at %u:%u (%s)", msg, l, c,
                               hint);
    return dm_error_set_at(p->err, DM_EPARSE, (int64_t)pos, l, "%s at %u:%u", msg, l, c);
}

static int is_word_char(char c)
{
    return c && !isspace((unsigned char)c) && !strchr("()[],=!<>\"'&|", c);
}

static int word_is(const struct token *t, const char *kw)
{
    return t->type == T_WORD && strlen(kw) == t->n && !strncasecmp(t->s, kw, t->n);
}

/* Quoted text for messages, shortened and with control bytes replaced. */
static const char *show(const char *s, size_t n, char buf[64])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 60; i++)
        buf[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (n > 60 && k >= 3)
        buf[k - 1] = buf[k - 2] = buf[k - 3] = '.';
    buf[k] = 0;
    return buf;
}

static int next(struct parser *p)
{
    const char *s = p->s;
    while (p->pos < p->n && isspace((unsigned char)s[p->pos]))
        p->pos++;
    struct token *t = &p->tok;
    memset(t, 0, sizeof(*t));
    t->pos = p->pos;
    if (p->pos >= p->n) {
        t->type = T_EOF;
        return 0;
    }
    char c = s[p->pos];
    size_t i = p->pos;
    switch (c) {
    case '(': t->type = T_LP; i++; break;
    case ')': t->type = T_RP; i++; break;
    case '[': t->type = T_LB; i++; break;
    case ']': t->type = T_RB; i++; break;
    case ',': t->type = T_COMMA; i++; break;
    case '=':
        t->type = T_OP, t->op = OP_EQ, i++;
        if (i < p->n && s[i] == '=')
            i++;
        break;
    case '<':
        t->type = T_OP, t->op = OP_LT, i++;
        if (i < p->n && s[i] == '=')
            t->op = OP_LE, i++;
        else if (i < p->n && s[i] == '>')
            t->op = OP_NE, i++;
        break;
    case '>':
        t->type = T_OP, t->op = OP_GT, i++;
        if (i < p->n && s[i] == '=')
            t->op = OP_GE, i++;
        break;
    case '!':
        i++;
        if (i < p->n && s[i] == '=')
            t->type = T_OP, t->op = OP_NE, i++;
        else
            t->type = T_NOT;
        break;
    case '&':
    case '|':
        if (i + 1 < p->n && s[i + 1] == c) {
            t->type = c == '&' ? T_AND : T_OR;
            i += 2;
            break;
        }
        return perr(p, i, "use 'and' / 'or'", "unexpected '%c'", c);
    case '"':
    case '\'': {
        size_t j = i + 1;
        while (j < p->n && s[j] != c)
            j++;
        if (j >= p->n)
            return perr(p, i, NULL, "unterminated string");
        t->type = T_STRING;
        t->s = s + i + 1;
        t->n = j - i - 1;
        i = j + 1;
        break;
    }
    default:
        while (i < p->n && is_word_char(s[i]))
            i++;
        t->type = T_WORD;
        t->s = s + p->pos;
        t->n = i - p->pos;
        if (word_is(t, "and"))
            t->type = T_AND;
        else if (word_is(t, "or"))
            t->type = T_OR;
        else if (word_is(t, "not"))
            t->type = T_NOT;
        break;
    }
    t->len = i - p->pos;
    if (t->type != T_WORD && t->type != T_STRING) {
        t->s = s + p->pos;
        t->n = t->len;
    }
    p->pos = i;
    return 0;
}

static const char *tok_desc(const struct token *t, char buf[64])
{
    if (t->type == T_EOF)
        return "end of expression";
    char tmp[64];
    snprintf(buf, 64, "'%s'", show(t->s, t->type == T_STRING ? t->n : t->len, tmp));
    return buf;
}

/* ---------------- fields ---------------- */

enum fkind { F_IP, F_UINT, F_INT, F_F64, F_DICT, F_BYTES };

struct field {
    const char *name;
    int col, col2; /* col2 >= 0: either side */
};

static const struct field fields[] = {
    {"ts", DM_C_TS, -1},           {"src", DM_C_SRC, -1},         {"dst", DM_C_DST, -1},
    {"ip", DM_C_SRC, DM_C_DST},    {"sport", DM_C_SPORT, -1},     {"dport", DM_C_DPORT, -1},
    {"port", DM_C_SPORT, DM_C_DPORT}, {"proto", DM_C_PROTO, -1},  {"sent", DM_C_SENT, -1},
    {"recv", DM_C_RECV, -1},       {"bytes", DM_COL_BYTES, -1},   {"packets", DM_C_PACKETS, -1},
    {"action", DM_C_ACTION, -1},   {"duration", DM_C_DURATION, -1},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* A suggestion is close enough when at most 2 edits and at most half the candidate. */
static int close_enough(unsigned d, const char *cand)
{
    return d <= 2 && 2 * d <= strlen(cand);
}

static const char *suggest(const struct dm_table *t, const char *s, size_t n)
{
    const char *best = NULL;
    unsigned bd = 3;
    for (size_t i = 0; i < NFIELDS; i++) {
        unsigned d = dm__edit_distance(s, n, fields[i].name, strlen(fields[i].name));
        if (d < bd && close_enough(d, fields[i].name))
            bd = d, best = fields[i].name;
    }
    for (size_t i = DM_C_NCANON; i < t->ncols; i++) {
        unsigned d = dm__edit_distance(s, n, t->cols[i].name, strlen(t->cols[i].name));
        if (d < bd && close_enough(d, t->cols[i].name))
            bd = d, best = t->cols[i].name;
    }
    /* a prefix like "srcip" / "dstaddr" */
    if (!best)
        for (size_t i = 0; i < NFIELDS; i++) {
            size_t fl = strlen(fields[i].name);
            if (fl >= 2 && n > fl && !strncasecmp(s, fields[i].name, fl))
                return fields[i].name;
        }
    return best;
}

static int resolve_field(struct parser *p, const struct token *tk, struct field *f,
                         enum fkind *kind)
{
    const struct dm_table *t = p->t;
    int found = 0;
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(fields[i].name) == tk->n && !strncasecmp(fields[i].name, tk->s, tk->n)) {
            *f = fields[i];
            found = 1;
            break;
        }
    if (!found) {
        int c = -1; /* canonical column names and extras; not the Parquet-side aliases */
        for (size_t i = 0; i < t->ncols && c < 0; i++)
            if (strlen(t->cols[i].name) == tk->n && !memcmp(t->cols[i].name, tk->s, tk->n))
                c = (int)i;
        if (c >= 0) {
            f->name = t->cols[c].name;
            f->col = c;
            f->col2 = -1;
            found = 1;
        }
    }
    char tmp[64];
    if (!found) {
        const char *sg = suggest(t, tk->s, tk->n);
        char hint[96] = "";
        if (sg)
            snprintf(hint, sizeof(hint), "did you mean '%s'?", sg);
        return perr(p, tk->pos, hint, "unknown field '%s'", show(tk->s, tk->n, tmp));
    }
    if (f->col == DM_COL_BYTES) {
        if (!t->cols[DM_C_SENT].width && !t->cols[DM_C_RECV].width)
            return perr(p, tk->pos, NULL, "field 'bytes' is not in the data");
        *kind = F_BYTES;
        return 0;
    }
    const struct dm_column *c = &t->cols[f->col];
    if (!c->width && (f->col2 < 0 || !t->cols[f->col2].width))
        return perr(p, tk->pos, NULL, "field '%s' is not in the data", show(tk->s, tk->n, tmp));
    switch (c->kind) {
    case DM_CK_IP: *kind = F_IP; break;
    case DM_CK_UINT: *kind = F_UINT; break;
    case DM_CK_INT: *kind = F_INT; break;
    case DM_CK_F64: *kind = F_F64; break;
    case DM_CK_DICT: *kind = F_DICT; break;
    }
    return 0;
}

/* ---------------- nodes ---------------- */

static struct node *new_node(struct parser *p, enum ntype type)
{
    if (++p->nodes > MAX_NODES)
        return NULL;
    struct node *n = dm_arena_calloc(p->arena, 1, sizeof(*n));
    if (n) {
        n->type = type;
        n->col2 = -1;
    }
    return n;
}

static int oom_or_big(struct parser *p)
{
    if (p->nodes > MAX_NODES)
        return perr(p, p->tok.pos, NULL, "expression too large");
    return dm_error_set(p->err, -ENOMEM, "out of memory compiling the filter");
}

/* ---------------- values ---------------- */

struct vtok {
    const char *s;
    size_t n, pos;
};

static int parse_u64_sized(const char *s, size_t n, int duration, uint64_t *out)
{
    char tmp[64];
    if (!n || n >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    size_t i = 0;
    while (i < n && ((tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == '.' || tmp[i] == '_'))
        i++;
    if (!i || !(tmp[0] >= '0' && tmp[0] <= '9'))
        return -EINVAL;
    char num[64];
    size_t k = 0;
    for (size_t j = 0; j < i; j++)
        if (tmp[j] != '_')
            num[k++] = tmp[j];
    num[k] = 0;
    const char *u = tmp + i;
    double mul = 1;
    if (duration) {
        if (!*u || !strcmp(u, "ms"))
            mul = 1;
        else if (!strcmp(u, "s"))
            mul = 1e3;
        else if (!strcmp(u, "m") || !strcmp(u, "min"))
            mul = 60e3;
        else if (!strcmp(u, "h"))
            mul = 3600e3;
        else if (!strcmp(u, "d"))
            mul = 86400e3;
        else
            return -EINVAL;
    } else if (*u) {
        static const char units[] = "KMGTP";
        const char *q = strchr(units, toupper((unsigned char)u[0]));
        if (!q)
            return -EINVAL;
        int e = (int)(q - units) + 1;
        u++;
        int bin = 0;
        if (*u == 'i')
            bin = 1, u++;
        if (*u == 'B' || *u == 'b')
            u++;
        if (*u)
            return -EINVAL;
        mul = bin ? pow(1024, e) : pow(1000, e);
    }
    int has_dot = strchr(num, '.') != NULL;
    if (!has_dot && mul == 1) {
        char *e;
        errno = 0;
        unsigned long long v = strtoull(num, &e, 10);
        if (errno || *e)
            return -EINVAL;
        *out = v;
        return 0;
    }
    char *e;
    double v = strtod(num, &e);
    if (*e)
        return -EINVAL;
    double r = v * mul;
    if (r >= 18446744073709551615.0 || r != floor(r))
        return -EINVAL;
    *out = (uint64_t)r;
    return 0;
}

static int proto_number(const char *s, size_t n, uint64_t *out)
{
    static const struct {
        const char *name;
        unsigned v;
    } names[] = {{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
                 {"ah", 51}, {"icmpv6", 58}, {"ipv6-icmp", 58}, {"icmp6", 58}, {"ospf", 89},
                 {"sctp", 132}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == n && !strncasecmp(names[i].name, s, n)) {
            *out = names[i].v;
            return 0;
        }
    return -EINVAL;
}

/* Adds [lo, hi] intervals for value v under op to node n (numeric kinds). */
static int add_ival(struct parser *p, struct node *n, struct ival iv)
{
    struct ival *a = dm_arena_alloc(p->arena, (n->nival + 1) * sizeof(*a));
    if (!a)
        return -ENOMEM;
    if (n->nival)
        memcpy(a, n->iv, n->nival * sizeof(*a));
    a[n->nival++] = iv;
    n->iv = a;
    return 0;
}

/* Interval for one comparison of a UINT / bytes value: [v0, v1] is the literal's own range
 * (a single value, or a time literal's precision interval for INT). */
static int cmp_ival_u(enum op op, uint64_t v, struct ival *iv)
{
    iv->lo.u = 0;
    iv->hi.u = UINT64_MAX;
    switch (op) {
    case OP_EQ:
    case OP_NE: iv->lo.u = iv->hi.u = v; break;
    case OP_LT:
        if (!v)
            return 1; /* empty */
        iv->hi.u = v - 1;
        break;
    case OP_LE: iv->hi.u = v; break;
    case OP_GT:
        if (v == UINT64_MAX)
            return 1;
        iv->lo.u = v + 1;
        break;
    case OP_GE: iv->lo.u = v; break;
    }
    return 0;
}

static int cmp_ival_i(enum op op, int64_t v0, int64_t v1, struct ival *iv)
{
    iv->lo.i = INT64_MIN;
    iv->hi.i = INT64_MAX;
    switch (op) {
    case OP_EQ:
    case OP_NE: iv->lo.i = v0, iv->hi.i = v1; break;
    case OP_LT:
        if (v0 == INT64_MIN)
            return 1;
        iv->hi.i = v0 - 1;
        break;
    case OP_LE: iv->hi.i = v1; break;
    case OP_GT:
        if (v1 == INT64_MAX)
            return 1;
        iv->lo.i = v1 + 1;
        break;
    case OP_GE: iv->lo.i = v0; break;
    }
    return 0;
}

static int cmp_ival_f(enum op op, double v, struct ival *iv)
{
    iv->lo.f = -INFINITY;
    iv->hi.f = INFINITY;
    switch (op) {
    case OP_EQ:
    case OP_NE: iv->lo.f = iv->hi.f = v; break;
    case OP_LT: iv->hi.f = nextafter(v, -INFINITY); break;
    case OP_LE: iv->hi.f = v; break;
    case OP_GT: iv->lo.f = nextafter(v, INFINITY); break;
    case OP_GE: iv->lo.f = v; break;
    }
    return 0;
}

static uint64_t *bitmap(struct parser *p, size_t nbits)
{
    return dm_arena_calloc(p->arena, (nbits + 63) / 64 ? (nbits + 63) / 64 : 1, 8);
}

/* Adds one value (an address or CIDR) to an IP node's bitmap. */
static int ip_value(struct parser *p, struct node *n, const struct vtok *v)
{
    char tmp[64];
    struct dm_cidr c;
    if (dm_cidr_parse(v->s, v->n, &c))
        return perr(p, v->pos, NULL, "invalid IP address or CIDR '%s'", show(v->s, v->n, tmp));
    const struct dm_iptab *ipt = &p->t->ips;
    if (c.bits == 128) {
        uint32_t id = dm_table_ip_find(p->t, &c.addr);
        if (id)
            dm__bit_set(n->bits, id);
        return 0;
    }
    for (size_t id = 1; id < ipt->n; id++)
        if (dm_cidr_contains(&c, &ipt->ip[id]))
            dm__bit_set(n->bits, id);
    return 0;
}

static int dict_value(struct parser *p, struct node *n, const struct vtok *v)
{
    const struct dm_column *c = &p->t->cols[n->col];
    int ci = n->col == DM_C_ACTION; /* action: case-insensitive */
    for (size_t i = 0; i < c->dict.n; i++)
        if (c->dict.len[i] == v->n &&
            (ci ? !strncasecmp(c->dict.s[i], v->s, v->n) : !memcmp(c->dict.s[i], v->s, v->n)))
            dm__bit_set(n->bits, i);
    return 0;
}

static const char *field_label(const struct field *f)
{
    return f->name;
}

/* One literal for a numeric node under op. */
static int num_value(struct parser *p, struct node *n, enum fkind kind, const struct field *f,
                     enum op op, const struct vtok *v)
{
    char tmp[64];
    struct ival iv;
    int empty = 0;
    if (kind == F_INT && f->col == DM_C_TS) {
        int64_t a, b;
        if (dm_time_parse(v->s, v->n, &a, &b))
            return perr(p, v->pos, "use ISO 8601 like 2024-03-01T10:00:00Z or epoch seconds",
                        "invalid time '%s'", show(v->s, v->n, tmp));
        empty = cmp_ival_i(op, a, b - 1, &iv);
    } else if (kind == F_INT) {
        char num[64];
        if (!v->n || v->n >= sizeof(num))
            return perr(p, v->pos, NULL, "invalid number '%s'", show(v->s, v->n, tmp));
        memcpy(num, v->s, v->n);
        num[v->n] = 0;
        char *e;
        errno = 0;
        long long x = strtoll(num, &e, 10);
        if (errno || *e) {
            uint64_t u;
            if (num[0] == '-' || parse_u64_sized(v->s, v->n, 0, &u) || u > INT64_MAX)
                return perr(p, v->pos, NULL, "invalid number '%s' for '%s'",
                            show(v->s, v->n, tmp), field_label(f));
            x = (long long)u;
        }
        empty = cmp_ival_i(op, x, x, &iv);
    } else if (kind == F_F64) {
        char num[64];
        if (!v->n || v->n >= sizeof(num))
            return perr(p, v->pos, NULL, "invalid number '%s'", show(v->s, v->n, tmp));
        memcpy(num, v->s, v->n);
        num[v->n] = 0;
        char *e;
        double x = strtod(num, &e);
        if (*e || x != x) {
            uint64_t u;
            if (parse_u64_sized(v->s, v->n, 0, &u))
                return perr(p, v->pos, NULL, "invalid number '%s' for '%s'",
                            show(v->s, v->n, tmp), field_label(f));
            x = (double)u;
        }
        empty = cmp_ival_f(op, x, &iv);
    } else {
        uint64_t u;
        int col = f->col;
        if (col == DM_C_PROTO && !proto_number(v->s, v->n, &u))
            ;
        else if (parse_u64_sized(v->s, v->n, col == DM_C_DURATION, &u))
            return perr(p, v->pos,
                        col == DM_C_DURATION ? "a number of ms, or with s, m, h, d"
                        : col == DM_C_PROTO  ? "a protocol number or tcp, udp, icmp, ..."
                                             : "a number, optionally with K, M, G, T or Ki, Mi, Gi, Ti",
                        "invalid value '%s' for '%s'", show(v->s, v->n, tmp), field_label(f));
        uint64_t lim = col == DM_C_SPORT || col == DM_C_DPORT ? 65535 : col == DM_C_PROTO ? 255 : UINT64_MAX;
        if (u > lim)
            return perr(p, v->pos, NULL, "value %llu out of range for '%s' (0..%llu)",
                        (unsigned long long)u, field_label(f), (unsigned long long)lim);
        empty = cmp_ival_u(op, u, &iv);
    }
    if (empty)
        return 0;
    return add_ival(p, n, iv) ? oom_or_big(p) : 0;
}

static int read_value(struct parser *p, struct vtok *v, const char *what)
{
    char buf[64];
    if (p->tok.type != T_WORD && p->tok.type != T_STRING)
        return perr(p, p->tok.pos, NULL, "expected %s, found %s", what, tok_desc(&p->tok, buf));
    v->s = p->tok.s;
    v->n = p->tok.n;
    v->pos = p->tok.pos;
    return next(p);
}

static int role_value(struct parser *p, struct node *n, const struct vtok *v)
{
    const struct dm_config *cfg = p->t->config;
    enum dm_role_kind want = DM_ROLE_NONE;
    int any = 0;
    if (v->n == 2 && !strncasecmp(v->s, "db", 2))
        want = DM_ROLE_DB;
    else if (v->n == 4 && !strncasecmp(v->s, "mail", 4))
        want = DM_ROLE_MAIL;
    else if ((v->n == 3 && !strncasecmp(v->s, "any", 3)) ||
             (v->n == 5 && !strncasecmp(v->s, "known", 5)))
        any = 1;
    int named = 0;
    for (size_t s = 0; s < cfg->nservers; s++)
        if (strlen(cfg->servers[s].name) == v->n && !strncasecmp(cfg->servers[s].name, v->s, v->n))
            named = 1;
    if (want == DM_ROLE_NONE && !any && !named) {
        char tmp[64], hint[128] = "roles: db, mail, any or a known_servers name";
        const char *best = NULL;
        unsigned bd = 3;
        for (size_t s = 0; s < cfg->nservers; s++) {
            unsigned d = dm__edit_distance(v->s, v->n, cfg->servers[s].name,
                                           strlen(cfg->servers[s].name));
            if (d < bd && close_enough(d, cfg->servers[s].name))
                bd = d, best = cfg->servers[s].name;
        }
        if (best)
            snprintf(hint, sizeof(hint), "did you mean '%s'?", best);
        return perr(p, v->pos, hint, "unknown role '%s'", show(v->s, v->n, tmp));
    }
    const struct dm_iptab *ipt = &p->t->ips;
    for (size_t id = 1; id < ipt->n; id++) {
        uint32_t s = ipt->server[id];
        if (!s)
            continue;
        const struct dm_known_server *ks = &cfg->servers[s - 1];
        if (any || ks->kind == want ||
            (strlen(ks->name) == v->n && !strncasecmp(ks->name, v->s, v->n)))
            dm__bit_set(n->bits, id);
    }
    return 0;
}

static void set_internal(struct parser *p, struct node *n, int ext)
{
    const struct dm_iptab *ipt = &p->t->ips;
    for (size_t id = 1; id < ipt->n; id++)
        if (!!(ipt->flags[id] & DM_IPF_INTERNAL) != ext)
            dm__bit_set(n->bits, id);
}

/* field [not] in [..] | field op value | ipfield (cidr | internal | external | role R) */
static int parse_pred(struct parser *p, struct node **out)
{
    char buf[64], tmp[64];
    struct token ftok = p->tok;
    if (ftok.type != T_WORD)
        return perr(p, ftok.pos, NULL, "expected a field name, found %s", tok_desc(&ftok, buf));
    struct field f;
    enum fkind kind = F_UINT;
    int rc = resolve_field(p, &ftok, &f, &kind);
    if (rc)
        return rc;
    if ((rc = next(p)))
        return rc;
    static const enum ntype ntypes[] = {N_IP, N_UINT, N_INT, N_F64, N_DICT, N_UINT};
    struct node *n = new_node(p, ntypes[kind]);
    if (!n)
        return oom_or_big(p);
    n->col = f.col;
    n->col2 = f.col2;
    if (kind == F_IP || kind == F_DICT) {
        size_t nb = kind == F_IP ? p->t->ips.n : p->t->cols[f.col].dict.n;
        if (!(n->bits = bitmap(p, nb)))
            return oom_or_big(p);
    }
    int negate = 0;
    if (p->tok.type == T_NOT) { /* field not in [...] */
        if ((rc = next(p)))
            return rc;
        if (!word_is(&p->tok, "in"))
            return perr(p, p->tok.pos, NULL, "expected 'in' after 'not', found %s",
                        tok_desc(&p->tok, buf));
        negate = 1;
    }
    if (word_is(&p->tok, "in")) {
        if ((rc = next(p)))
            return rc;
        if (p->tok.type != T_LB)
            return perr(p, p->tok.pos, "write lists as [a, b, c]", "expected '[' after 'in'");
        if ((rc = next(p)))
            return rc;
        size_t count = 0;
        for (;;) {
            struct vtok v;
            if ((rc = read_value(p, &v, "a list value")))
                return rc;
            if (++count > MAX_LIST)
                return perr(p, v.pos, NULL, "list too long");
            if (kind == F_IP)
                rc = ip_value(p, n, &v);
            else if (kind == F_DICT)
                rc = dict_value(p, n, &v);
            else
                rc = num_value(p, n, kind, &f, OP_EQ, &v);
            if (rc)
                return rc;
            if (p->tok.type == T_COMMA) {
                if ((rc = next(p)))
                    return rc;
                continue;
            }
            if (p->tok.type == T_RB)
                break;
            return perr(p, p->tok.pos, NULL, "expected ',' or ']' in the list, found %s",
                        tok_desc(&p->tok, buf));
        }
        if ((rc = next(p)))
            return rc;
    } else if (p->tok.type == T_OP) {
        enum op op = p->tok.op;
        size_t opos = p->tok.pos;
        if ((rc = next(p)))
            return rc;
        if ((kind == F_IP || kind == F_DICT) && op != OP_EQ && op != OP_NE)
            return perr(p, opos,
                        kind == F_IP ? "use =, !=, in, a CIDR, internal, external or role"
                                     : "use =, != or in",
                        "operator '%s' does not apply to '%s'", op_names[op], f.name);
        struct vtok v;
        char what[80];
        snprintf(what, sizeof(what), "a value after '%s'", op_names[op]);
        if ((rc = read_value(p, &v, what)))
            return rc;
        struct token vt = {.type = T_WORD, .s = v.s, .n = v.n};
        if (kind == F_IP && (word_is(&vt, "internal") || word_is(&vt, "external")))
            set_internal(p, n, word_is(&vt, "external"));
        else if (kind == F_IP)
            rc = ip_value(p, n, &v);
        else if (kind == F_DICT)
            rc = dict_value(p, n, &v);
        else
            rc = num_value(p, n, kind, &f, op, &v);
        if (rc)
            return rc;
        negate = op == OP_NE;
    } else if (kind == F_IP && (word_is(&p->tok, "internal") || word_is(&p->tok, "external"))) {
        set_internal(p, n, word_is(&p->tok, "external"));
        if ((rc = next(p)))
            return rc;
    } else if (kind == F_IP && word_is(&p->tok, "role")) {
        if ((rc = next(p)))
            return rc;
        struct vtok v;
        if ((rc = read_value(p, &v, "a role (db, mail, any or a server name)")) ||
            (rc = role_value(p, n, &v)))
            return rc;
    } else if (kind == F_IP && (p->tok.type == T_WORD || p->tok.type == T_STRING)) {
        struct vtok v;
        if ((rc = read_value(p, &v, "an address")) || (rc = ip_value(p, n, &v)))
            return rc;
    } else {
        const char *hint = kind == F_IP ? "e.g. src = 10.0.0.1, src 10.0.0.0/8, src internal"
                                        : "e.g. dport = 443, sent > 10M, dport in [80, 443]";
        return perr(p, p->tok.pos, hint, "expected an operator after '%s', found %s",
                    show(ftok.s, ftok.n, tmp), tok_desc(&p->tok, buf));
    }
    if (negate) {
        if (n->col2 >= 0)
            n->either_neg = 1;
        else
            n->neg = 1;
    }
    *out = n;
    return 0;
}

static int parse_or(struct parser *p, struct node **out);

static int parse_unary(struct parser *p, struct node **out)
{
    int rc;
    if (++p->depth > MAX_DEPTH)
        return perr(p, p->tok.pos, NULL, "expression nested too deeply");
    if (p->tok.type == T_NOT) {
        if ((rc = next(p)))
            return rc;
        struct node *k, *n = new_node(p, N_NOT);
        if (!n)
            return oom_or_big(p);
        if ((rc = parse_unary(p, &k)))
            return rc;
        n->kids = dm_arena_alloc(p->arena, sizeof(*n->kids));
        if (!n->kids)
            return oom_or_big(p);
        n->kids[0] = k;
        n->nkids = 1;
        *out = n;
    } else if (p->tok.type == T_LP) {
        size_t open = p->tok.pos;
        if ((rc = next(p)) || (rc = parse_or(p, out)))
            return rc;
        if (p->tok.type != T_RP)
            return perr(p, open, NULL, "unclosed '('");
        if ((rc = next(p)))
            return rc;
    } else {
        if ((rc = parse_pred(p, out)))
            return rc;
    }
    p->depth--;
    return 0;
}

static int parse_chain(struct parser *p, struct node **out, enum tok sep, enum ntype type)
{
    int rc;
    struct node *first, **kids = NULL;
    size_t nk = 0, cap = 0;
    if ((rc = sep == T_OR ? parse_chain(p, &first, T_AND, N_AND) : parse_unary(p, &first)))
        return rc;
    while (p->tok.type == sep) {
        if ((rc = next(p)))
            return rc;
        if (nk + 1 >= cap) { /* kids live in the arena: grow by copying */
            size_t nc = cap ? cap * 2 : 8;
            struct node **k = dm_arena_alloc(p->arena, nc * sizeof(*k));
            if (!k)
                return oom_or_big(p);
            if (nk)
                memcpy(k, kids, nk * sizeof(*k));
            else
                k[nk++] = first;
            kids = k;
            cap = nc;
        }
        if ((rc = sep == T_OR ? parse_chain(p, &kids[nk], T_AND, N_AND)
                              : parse_unary(p, &kids[nk])))
            return rc;
        nk++;
    }
    if (!nk) {
        *out = first;
        return 0;
    }
    struct node *n = new_node(p, type);
    if (!n)
        return oom_or_big(p);
    n->kids = kids;
    n->nkids = nk;
    *out = n;
    return 0;
}

static int parse_or(struct parser *p, struct node **out)
{
    return parse_chain(p, out, T_OR, N_OR);
}

/* ---------------- time bounds ---------------- */

/* A ts node with one interval, not negated: its bounds can move into the binary search. */
static int is_time_bound(const struct node *n)
{
    return n->type == N_INT && n->col == DM_C_TS && n->nival == 1 && !n->neg;
}

static void take_bounds(struct dm_filter *f, struct node *n)
{
    int64_t lo = n->iv[0].lo.i, hi = n->iv[0].hi.i;
    if (lo > f->tlo)
        f->tlo = lo;
    int64_t end = hi == INT64_MAX ? INT64_MAX : hi + 1;
    if (end < f->thi)
        f->thi = end;
    n->type = N_TRUE;
}

static size_t depth_of(const struct node *n)
{
    size_t d = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        size_t k = depth_of(n->kids[i]);
        if (k > d)
            d = k;
    }
    return d + 1;
}

int dm_filter_compile(struct dm_filter **out, const struct dm_table *t, const char *expr,
                      size_t len, struct dm_error *err)
{
    *out = NULL;
    if (len > DM_FILTER_MAX_LEN)
        return dm_error_set(err, DM_ETOOBIG, "filter expression longer than %d bytes",
                            DM_FILTER_MAX_LEN);
    struct dm_filter *f = dm_calloc(1, sizeof(*f));
    if (!f)
        return dm_error_set(err, -ENOMEM, "out of memory compiling the filter");
    dm_arena_init(&f->arena, 4096, (size_t)256 << 20);
    f->t = t;
    f->tlo = INT64_MIN;
    f->thi = INT64_MAX;
    struct parser p = {.s = expr ? expr : "", .n = expr ? len : 0, .t = t, .arena = &f->arena,
                       .err = err};
    int rc = next(&p);
    if (!rc && p.tok.type == T_EOF) {
        f->root = new_node(&p, N_TRUE);
        if (!f->root)
            rc = oom_or_big(&p);
    } else if (!rc) {
        rc = parse_or(&p, &f->root);
        if (!rc && p.tok.type != T_EOF) {
            char buf[64];
            rc = perr(&p, p.tok.pos,
                      p.tok.type == T_RP ? "unbalanced parentheses" : "join conditions with 'and' / 'or'",
                      "unexpected %s", tok_desc(&p.tok, buf));
        }
    }
    if (rc) {
        dm_filter_free(f);
        return rc;
    }
    /* time bounds from the top-level conjunction */
    struct node *r = f->root;
    if (is_time_bound(r))
        take_bounds(f, r);
    else if (r->type == N_AND)
        for (size_t i = 0; i < r->nkids; i++)
            if (is_time_bound(r->kids[i]))
                take_bounds(f, r->kids[i]);
    if (f->tlo >= f->thi)
        f->begin = f->end = 0;
    else
        dm_table_time_range(t, f->tlo, f->thi, &f->begin, &f->end);
    f->depth = depth_of(f->root);
    *out = f;
    return 0;
}

void dm_filter_free(struct dm_filter *f)
{
    if (!f)
        return;
    dm_arena_release(&f->arena);
    dm_free(f);
}

void dm_filter_rows(const struct dm_filter *f, size_t *begin, size_t *end)
{
    *begin = f->begin;
    *end = f->end;
}

static int all_true(const struct node *n)
{
    if (n->type == N_TRUE)
        return 1;
    if (n->type != N_AND)
        return 0;
    for (size_t i = 0; i < n->nkids; i++)
        if (!all_true(n->kids[i]))
            return 0;
    return 1;
}

int dm_filter_is_range_only(const struct dm_filter *f)
{
    return all_true(f->root);
}

size_t dm_filter_scratch_size(const struct dm_filter *f)
{
    return (f ? f->depth + 1 : 1) * DM_MORSEL;
}

/* ---------------- evaluation ---------------- */

static inline int bit(const uint64_t *b, size_t i)
{
    return (int)((b[i >> 6] >> (i & 63)) & 1);
}

/* m[i] &= present(c, begin + i) */
static void and_valid(const struct dm_column *c, size_t begin, size_t n, uint8_t *m)
{
    if (!c->width) {
        memset(m, 0, n);
        return;
    }
    if (!c->valid)
        return;
    for (size_t i = 0; i < n; i++)
        m[i] &= (uint8_t)bit(c->valid, begin + i);
}

#define UINT_LOOP(T)                                                                     \
    do {                                                                                 \
        const T *v = (const T *)c->v + begin;                                            \
        if (nv == 1) {                                                                   \
            uint64_t lo = iv[0].lo.u, hi = iv[0].hi.u;                                   \
            for (size_t i = 0; i < n; i++)                                               \
                m[i] = (uint8_t)((uint64_t)v[i] - lo <= hi - lo);                        \
        } else {                                                                         \
            for (size_t i = 0; i < n; i++) {                                             \
                uint8_t r = 0;                                                           \
                for (size_t k = 0; k < nv; k++)                                          \
                    r |= (uint8_t)((uint64_t)v[i] - iv[k].lo.u <= iv[k].hi.u - iv[k].lo.u); \
                m[i] = r;                                                                \
            }                                                                            \
        }                                                                                \
    } while (0)

static void eval_uint_col(const struct dm_column *c, const struct ival *iv, size_t nv,
                          size_t begin, size_t n, uint8_t *m)
{
    if (!nv || !c->width) {
        memset(m, 0, n);
        return;
    }
    switch (c->width) {
    case 1: UINT_LOOP(uint8_t); break;
    case 2: UINT_LOOP(uint16_t); break;
    case 4: UINT_LOOP(uint32_t); break;
    default: UINT_LOOP(uint64_t); break;
    }
    if (c->ovf) { /* rows holding the width's maximum may have a wider value */
        const struct dm_ovf *o = c->ovf;
        size_t a = 0, b = o->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (o->row[mid] < begin)
                a = mid + 1;
            else
                b = mid;
        }
        for (; a < o->n && o->row[a] < begin + n; a++) {
            uint8_t r = 0;
            for (size_t k = 0; k < nv; k++)
                r |= (uint8_t)(o->v[a] - iv[k].lo.u <= iv[k].hi.u - iv[k].lo.u);
            m[o->row[a] - begin] = r;
        }
    }
    and_valid(c, begin, n, m);
}

static void eval_bytes(const struct dm_table *t, const struct ival *iv, size_t nv, size_t begin,
                       size_t n, uint8_t *m)
{
    const struct dm_column *s = &t->cols[DM_C_SENT], *r = &t->cols[DM_C_RECV];
    for (size_t i = 0; i < n; i++) {
        size_t row = begin + i;
        int ps = dm_col_present(s, row), pr = dm_col_present(r, row);
        uint64_t v = (ps ? dm_col_u64(s, row) : 0) + (pr ? dm_col_u64(r, row) : 0);
        uint8_t x = 0;
        for (size_t k = 0; k < nv; k++)
            x |= (uint8_t)(v - iv[k].lo.u <= iv[k].hi.u - iv[k].lo.u);
        m[i] = (uint8_t)(x & (ps | pr));
    }
}

static void eval_int_col(const struct dm_column *c, const struct ival *iv, size_t nv,
                         size_t begin, size_t n, uint8_t *m)
{
    const int64_t *v = (const int64_t *)c->v + begin;
    for (size_t i = 0; i < n; i++) {
        uint8_t r = 0;
        for (size_t k = 0; k < nv; k++)
            r |= (uint8_t)(v[i] >= iv[k].lo.i && v[i] <= iv[k].hi.i);
        m[i] = r;
    }
    and_valid(c, begin, n, m);
}

static void eval_f64_col(const struct dm_column *c, const struct ival *iv, size_t nv,
                         size_t begin, size_t n, uint8_t *m)
{
    const double *v = (const double *)c->v + begin;
    for (size_t i = 0; i < n; i++) {
        uint8_t r = 0;
        for (size_t k = 0; k < nv; k++)
            r |= (uint8_t)(v[i] >= iv[k].lo.f && v[i] <= iv[k].hi.f);
        m[i] = r;
    }
    and_valid(c, begin, n, m);
}

static void eval_dict_col(const struct dm_column *c, const uint64_t *bits, size_t begin,
                          size_t n, uint8_t *m)
{
    if (c->width == 1) {
        const uint8_t *v = (const uint8_t *)c->v + begin;
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)bit(bits, v[i]);
    } else if (c->width == 2) {
        const uint16_t *v = (const uint16_t *)c->v + begin;
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)bit(bits, v[i]);
    } else {
        const uint32_t *v = (const uint32_t *)c->v + begin;
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)bit(bits, v[i]);
    }
    and_valid(c, begin, n, m);
}

static void eval_ip_col(const struct dm_column *c, const uint64_t *bits, size_t begin, size_t n,
                        uint8_t *m)
{
    const uint32_t *v = (const uint32_t *)c->v + begin;
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)bit(bits, v[i]);
}

/* Positive match of one column of a leaf. */
static void eval_leaf_col(const struct dm_filter *f, const struct node *nd, int col, size_t begin,
                          size_t n, uint8_t *m)
{
    const struct dm_table *t = f->t;
    if (col == DM_COL_BYTES) {
        eval_bytes(t, nd->iv, nd->nival, begin, n, m);
        return;
    }
    const struct dm_column *c = &t->cols[col];
    if (!c->width) {
        memset(m, 0, n);
        return;
    }
    switch (nd->type) {
    case N_IP: eval_ip_col(c, nd->bits, begin, n, m); break;
    case N_UINT: eval_uint_col(c, nd->iv, nd->nival, begin, n, m); break;
    case N_INT: eval_int_col(c, nd->iv, nd->nival, begin, n, m); break;
    case N_F64: eval_f64_col(c, nd->iv, nd->nival, begin, n, m); break;
    case N_DICT: eval_dict_col(c, nd->bits, begin, n, m); break;
    default: memset(m, 0, n); break;
    }
}

/* present(col) for negated single-column leaves */
static void present_mask(const struct dm_table *t, int col, size_t begin, size_t n, uint8_t *m)
{
    if (col == DM_COL_BYTES) {
        const struct dm_column *s = &t->cols[DM_C_SENT], *r = &t->cols[DM_C_RECV];
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)(dm_col_present(s, begin + i) | dm_col_present(r, begin + i));
        return;
    }
    const struct dm_column *c = &t->cols[col];
    memset(m, 1, n);
    if (c->kind == DM_CK_IP) {
        const uint32_t *v = (const uint32_t *)c->v + begin;
        for (size_t i = 0; i < n; i++)
            m[i] = v[i] != 0;
        return;
    }
    and_valid(c, begin, n, m);
}

static void eval_node(const struct dm_filter *f, const struct node *nd, size_t begin, size_t n,
                      uint8_t *m, uint8_t *scratch)
{
    switch (nd->type) {
    case N_TRUE: memset(m, 1, n); return;
    case N_FALSE: memset(m, 0, n); return;
    case N_AND:
    case N_OR: {
        int is_and = nd->type == N_AND;
        eval_node(f, nd->kids[0], begin, n, m, scratch);
        for (size_t k = 1; k < nd->nkids; k++) {
            size_t any = 0;
            for (size_t i = 0; i < n; i++)
                any += is_and ? m[i] : !m[i];
            if (!any)
                return; /* all false (and) / all true (or) */
            eval_node(f, nd->kids[k], begin, n, scratch, scratch + DM_MORSEL);
            if (is_and)
                for (size_t i = 0; i < n; i++)
                    m[i] &= scratch[i];
            else
                for (size_t i = 0; i < n; i++)
                    m[i] |= scratch[i];
        }
        return;
    }
    case N_NOT:
        eval_node(f, nd->kids[0], begin, n, m, scratch);
        for (size_t i = 0; i < n; i++)
            m[i] ^= 1;
        return;
    default: break;
    }
    eval_leaf_col(f, nd, nd->col, begin, n, m);
    if (nd->col2 >= 0) {
        eval_leaf_col(f, nd, nd->col2, begin, n, scratch);
        for (size_t i = 0; i < n; i++)
            m[i] |= scratch[i];
        if (nd->either_neg)
            for (size_t i = 0; i < n; i++)
                m[i] ^= 1;
    } else if (nd->neg) {
        present_mask(f->t, nd->col, begin, n, scratch);
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)(scratch[i] & !m[i]);
    }
}

size_t dm_filter_eval(const struct dm_filter *f, size_t begin, size_t n, uint32_t *sel,
                      void *scratch)
{
    if (!f || f->root->type == N_TRUE) {
        for (size_t i = 0; i < n; i++)
            sel[i] = (uint32_t)(begin + i);
        return n;
    }
    uint8_t *m = scratch;
    eval_node(f, f->root, begin, n, m, m + DM_MORSEL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        sel[k] = (uint32_t)(begin + i);
        k += m[i];
    }
    return k;
}

/* ---------------- parallel scan ---------------- */

struct scan_ctx {
    const struct dm_table *t;
    const struct dm_filter *f;
    size_t begin, end;
    dm_scan_fn fn;
    void *ctx;
    uint8_t **scratch; /* per slot */
    uint32_t **sel;
};

static void scan_task(void *p, size_t task, unsigned worker)
{
    struct scan_ctx *s = p;
    size_t b = s->begin + task * DM_MORSEL;
    size_t n = s->end - b < DM_MORSEL ? s->end - b : DM_MORSEL;
    size_t k = dm_filter_eval(s->f, b, n, s->sel[worker], s->scratch[worker]);
    if (k)
        s->fn(s->ctx, s->sel[worker], k, worker);
}

unsigned dm_scan_slots(const struct dm_table *t)
{
    return dm_pool_size(t->pool) + 1;
}

int dm_scan(const struct dm_table *t, const struct dm_filter *f, dm_scan_fn fn, void *ctx)
{
    struct scan_ctx s = {t, f, 0, t->nrows, fn, ctx, NULL, NULL};
    if (f)
        dm_filter_rows(f, &s.begin, &s.end);
    if (s.end <= s.begin)
        return 0;
    unsigned slots = dm_scan_slots(t);
    size_t ss = dm_filter_scratch_size(f);
    s.scratch = dm_calloc(slots, sizeof(*s.scratch));
    s.sel = dm_calloc(slots, sizeof(*s.sel));
    int rc = 0;
    if (!s.scratch || !s.sel)
        rc = -ENOMEM;
    for (unsigned i = 0; !rc && i < slots; i++) {
        s.scratch[i] = dm_malloc(ss);
        s.sel[i] = dm_malloc(DM_MORSEL * sizeof(uint32_t));
        if (!s.scratch[i] || !s.sel[i])
            rc = -ENOMEM;
    }
    if (!rc) {
        size_t ntasks = (s.end - s.begin + DM_MORSEL - 1) / DM_MORSEL;
        dm_pool_for(ntasks > 1 ? t->pool : NULL, ntasks, scan_task, &s);
    }
    for (unsigned i = 0; i < slots; i++) {
        if (s.scratch)
            dm_free(s.scratch[i]);
        if (s.sel)
            dm_free(s.sel[i]);
    }
    dm_free(s.scratch);
    dm_free(s.sel);
    return rc;
}
