/* Field maps: compiling preset rules and mapping files (ours and the earlier tool's
 * processing_config.json) into a struct dm_ingest_map. */
#include <stdio.h>
#include <string.h>

#include "dm_alloc.h"
#include "ingest_int.h"
#include "banned.h"

static const char *const format_names[DM_IN__COUNT] = {
    "auto", "jsonl", "nfdump-json", "csv", "tsv", "zeek", "nfdump-csv", "vpcflow",
};

const char *dm_ingest_format_name(enum dm_in_format f)
{
    return (unsigned)f < DM_IN__COUNT ? format_names[f] : "?";
}

int dm_ingest_format_parse(const char *name, enum dm_in_format *out)
{
    for (int i = 0; i < DM_IN__COUNT; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum dm_in_format)i;
            return 0;
        }
    if (!strcmp(name, "json") || !strcmp(name, "ndjson")) {
        *out = DM_IN_JSONL;
        return 0;
    }
    if (!strcmp(name, "json-array")) {
        *out = DM_IN_JSON_ARRAY;
        return 0;
    }
    return -EINVAL;
}

struct dm_ingest_map *dm__map_new(const char *name)
{
    struct dm_ingest_map *m = dm_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->name = dm_strdup(name);
    if (!m->name) {
        dm_free(m);
        return NULL;
    }
    m->ncols = DM_C__COUNT;
    for (int i = 0; i < DM_C__COUNT; i++) {
        m->cols[i].canon = i;
        m->cols[i].name = (char *)dm_canon_name((enum dm_canon)i); /* static: not freed */
    }
    return m;
}

void dm_ingest_map_free(struct dm_ingest_map *m)
{
    if (!m)
        return;
    dm_free(m->name);
    for (size_t i = 0; i < m->nfields; i++)
        dm_free(m->fields[i]);
    for (size_t i = 0; i < m->ncols; i++) {
        if (i >= DM_C__COUNT)
            dm_free(m->cols[i].name);
        dm_free(m->cols[i].expr);
    }
    for (size_t i = 0; i < m->nfilters; i++)
        for (size_t k = 0; k < m->filters[i].nvalues; k++)
            dm_free(m->filters[i].values[k]);
    dm_free(m);
}

const char *dm_ingest_map_name(const struct dm_ingest_map *m)
{
    return m->name;
}

int dm__map_field(const struct dm_ingest_map *m, const char *name, size_t n)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (strlen(m->fields[i]) == n && memcmp(m->fields[i], name, n) == 0)
            return (int)i;
    return -1;
}

/* Index of field name[0..n), added when new; -1 on full / -ENOMEM as -2. */
static int field_add(struct dm_ingest_map *m, const char *name, size_t n, struct dm_error *err)
{
    while (n && name[0] == ' ')
        name++, n--;
    while (n && name[n - 1] == ' ')
        n--;
    if (n == 0 || n > DM_MAP_MAX_NAME)
        return dm_error_set(err, DM_EPARSE, "empty or overlong field name");
    int i = dm__map_field(m, name, n);
    if (i >= 0)
        return i;
    if (m->nfields == DM_MAP_MAX_FIELDS)
        return dm_error_set(err, DM_EPARSE, "too many source fields (max %d)", DM_MAP_MAX_FIELDS);
    char *s = dm_strndup(name, n);
    if (!s)
        return dm_error_set(err, -ENOMEM, "out of memory");
    m->fields[m->nfields] = s;
    return (int)m->nfields++;
}

static const char *find_op(const char *p, const char *end, char *op)
{
    for (const char *q = p; q + 2 < end; q++)
        if (q[0] == ' ' && (q[1] == '+' || q[1] == '-') && q[2] == ' ') {
            *op = q[1];
            return q;
        }
    return NULL;
}

/* Parses expr into col (replacing its alternatives). */
static int parse_expr(struct dm_ingest_map *m, struct dm__col *col, const char *expr,
                      struct dm_error *err)
{
    col->nalts = 0;
    const char *p = expr;
    for (;;) {
        const char *bar = strchr(p, '|');
        const char *end = bar ? bar : p + strlen(p);
        if (col->nalts == DM_MAP_MAX_ALTS)
            return dm_error_set(err, DM_EPARSE, "'%s': too many alternatives (max %d)", expr,
                                DM_MAP_MAX_ALTS);
        struct dm__alt a = {DM_OP_FIELD, DM_UNIT_MS, 0, 0};
        const char *colon = NULL;
        for (const char *q = end; q > p; q--)
            if (q[-1] == ':') {
                colon = q - 1;
                break;
            }
        if (colon) {
            size_t un = (size_t)(end - colon - 1);
            const char *u = colon + 1;
            if (un == 1 && u[0] == 's')
                a.unit = DM_UNIT_S;
            else if (un == 2 && !memcmp(u, "ms", 2))
                a.unit = DM_UNIT_MS;
            else if (un == 2 && !memcmp(u, "us", 2))
                a.unit = DM_UNIT_US;
            else if (un == 2 && !memcmp(u, "ns", 2))
                a.unit = DM_UNIT_NS;
            else
                colon = NULL; /* part of the field name */
            if (colon && col->canon != DM_C_DURATION)
                return dm_error_set(err, DM_EPARSE, "'%s': a unit only applies to duration_ms",
                                    expr);
            if (colon)
                end = colon;
        }
        char op;
        const char *o = find_op(p, end, &op);
        int rc = field_add(m, p, (size_t)((o ? o : end) - p), err);
        if (rc < 0)
            return rc;
        a.a = (int16_t)rc;
        if (o) {
            rc = field_add(m, o + 3, (size_t)(end - o - 3), err);
            if (rc < 0)
                return rc;
            a.b = (int16_t)rc;
            a.op = op == '+' ? DM_OP_SUM : DM_OP_DIFF;
            if (col->canon == DM_C_ACTION || col->canon == DM_C_TS || col->canon == DM_C_SRC_IP ||
                col->canon == DM_C_DST_IP || (col->canon < 0 && col->xtype != DM_X_INT64))
                return dm_error_set(err, DM_EPARSE, "'%s': '%c' only applies to integer columns",
                                    expr, op);
            if (col->canon == DM_C_DURATION && op == '+')
                return dm_error_set(err, DM_EPARSE, "'%s': duration_ms takes 'end - start'", expr);
        }
        col->alts[col->nalts++] = a;
        if (!bar)
            break;
        p = bar + 1;
    }
    char *e = dm_strdup(expr);
    if (!e)
        return dm_error_set(err, -ENOMEM, "out of memory");
    dm_free(col->expr);
    col->expr = e;
    return 0;
}

static int xtype_parse(const char *s, int *out)
{
    static const struct {
        const char *name;
        int t;
    } names[] = {
        {"string", DM_X_STRING}, {"str", DM_X_STRING},    {"object", DM_X_STRING},
        {"category", DM_X_STRING}, {"int64", DM_X_INT64}, {"int", DM_X_INT64},
        {"integer", DM_X_INT64}, {"int32", DM_X_INT64},   {"Int64", DM_X_INT64},
        {"float", DM_X_DOUBLE},  {"float64", DM_X_DOUBLE}, {"double", DM_X_DOUBLE},
        {"float32", DM_X_DOUBLE}, {"bool", DM_X_BOOL},    {"boolean", DM_X_BOOL},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].t;
            return 0;
        }
    return -EINVAL;
}

static int add_extra(struct dm_ingest_map *m, const char *name, const char *type,
                     const char *expr, struct dm_error *err)
{
    int xt;
    if (xtype_parse(type, &xt))
        return dm_error_set(err, DM_EPARSE, "extra column '%s': unknown type '%s'", name, type);
    if (!*name || strlen(name) > 200)
        return dm_error_set(err, DM_EPARSE, "bad extra column name");
    for (size_t i = 0; i < m->ncols; i++)
        if (strcmp(m->cols[i].name, name) == 0)
            return dm_error_set(err, DM_EPARSE, "column '%s' defined twice", name);
    if (m->ncols == DM_MAP_MAX_COLS)
        return dm_error_set(err, DM_EPARSE, "too many columns (max %d)", DM_MAP_MAX_COLS);
    struct dm__col *c = &m->cols[m->ncols];
    memset(c, 0, sizeof(*c));
    c->canon = -1;
    c->xtype = xt;
    c->name = dm_strdup(name);
    if (!c->name)
        return dm_error_set(err, -ENOMEM, "out of memory");
    m->ncols++;
    return parse_expr(m, c, expr, err);
}

static int add_filter(struct dm_ingest_map *m, const char *field, int negate, const char *vals,
                      struct dm_error *err)
{
    if (m->nfilters == DM_MAP_MAX_FILTERS)
        return dm_error_set(err, DM_EPARSE, "too many filters (max %d)", DM_MAP_MAX_FILTERS);
    int fi = field_add(m, field, strlen(field), err);
    if (fi < 0)
        return fi;
    struct dm__filter *f = &m->filters[m->nfilters++];
    memset(f, 0, sizeof(*f));
    f->field = (int16_t)fi;
    f->negate = (uint8_t)negate;
    for (const char *p = vals;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (f->nvalues == DM_MAP_MAX_FILTER_VALUES)
            return dm_error_set(err, DM_EPARSE, "filter on '%s': too many values", field);
        f->values[f->nvalues] = dm_strndup(p, n);
        if (!f->values[f->nvalues])
            return dm_error_set(err, -ENOMEM, "out of memory");
        f->nvalues++;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

static int canon_find(const char *name, size_t n)
{
    for (int i = 0; i < DM_C__COUNT; i++) {
        const char *c = dm_canon_name((enum dm_canon)i);
        if (strlen(c) == n && memcmp(c, name, n) == 0)
            return i;
    }
    return -1;
}

int dm__map_rule(struct dm_ingest_map *m, const char *rule, struct dm_error *err)
{
    const char *eq = strchr(rule, '=');
    if (!eq)
        return dm_error_set(err, DM_EPARSE, "rule '%s': expected 'column=expr'", rule);
    char name[256];
    size_t n = (size_t)(eq - rule);
    if (!strncmp(rule, "filter:", 7)) {
        int neg = n > 7 && rule[n - 1] == '!';
        size_t fn = n - 7 - (size_t)neg;
        if (fn == 0 || fn >= sizeof(name))
            return dm_error_set(err, DM_EPARSE, "rule '%s': bad filter", rule);
        memcpy(name, rule + 7, fn);
        name[fn] = '\0';
        return add_filter(m, name, neg, eq + 1, err);
    }
    if (rule[0] == '+') {
        const char *colon = memchr(rule, ':', n);
        if (!colon || colon == rule + 1 || (size_t)(colon - rule - 1) >= sizeof(name))
            return dm_error_set(err, DM_EPARSE, "rule '%s': expected '+name:type=expr'", rule);
        memcpy(name, rule + 1, (size_t)(colon - rule - 1));
        name[colon - rule - 1] = '\0';
        char type[32];
        size_t tn = (size_t)(eq - colon - 1);
        if (tn == 0 || tn >= sizeof(type))
            return dm_error_set(err, DM_EPARSE, "rule '%s': bad type", rule);
        memcpy(type, colon + 1, tn);
        type[tn] = '\0';
        return add_extra(m, name, type, eq + 1, err);
    }
    int c = canon_find(rule, n);
    if (c < 0)
        return dm_error_set(err, DM_EPARSE, "rule '%s': unknown column '%.*s'", rule, (int)n, rule);
    return parse_expr(m, &m->cols[c], eq + 1, err);
}

int dm__map_finish(struct dm_ingest_map *m, struct dm_error *err)
{
    static const int required[] = {DM_C_TS, DM_C_SRC_IP, DM_C_DST_IP};
    for (size_t i = 0; i < 3; i++)
        if (m->cols[required[i]].nalts == 0)
            return dm_error_set(err, DM_EPARSE, "the mapping does not say where '%s' comes from",
                                dm_canon_name((enum dm_canon)required[i]));
    memset(&m->keys, 0, sizeof(m->keys));
    for (size_t f = 0; f < m->nfields; f++) {
        const char *path = m->fields[f];
        size_t len = strlen(path);
        /* Every dotted prefix becomes a "descend" entry; the whole path a leaf. */
        for (size_t k = 1; k <= len; k++) {
            if (k < len && path[k] != '.')
                continue;
            uint64_t h = dm__key_hash(path, k);
            size_t i = h & (DM_KEYSET_SLOTS - 1);
            struct dm__key *e;
            for (;; i = (i + 1) & (DM_KEYSET_SLOTS - 1)) {
                e = &m->keys.k[i];
                if (!e->path || (e->h == h && e->len == k && !memcmp(e->path, path, k)))
                    break;
            }
            if (!e->path) {
                e->path = path;
                e->len = (uint16_t)k;
                e->h = h;
                e->field = -1;
            }
            if (k == len)
                e->field = (int16_t)f;
            else
                e->prefix = 1;
            if (k > m->keys.maxlen)
                m->keys.maxlen = (uint16_t)k;
        }
    }
    return 0;
}

int dm_ingest_map_preset(struct dm_ingest_map **out, const char *name, struct dm_error *err)
{
    *out = NULL;
    const struct dm_preset *p = dm_preset_find(name);
    if (!p)
        return dm_error_set(err, -EINVAL, "unknown preset '%s'", name);
    struct dm_ingest_map *m = dm__map_new(name);
    if (!m)
        return dm_error_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    for (const char *const *r = p->rules; *r && !rc; r++)
        rc = dm__map_rule(m, *r, err);
    if (!rc)
        rc = dm__map_finish(m, err);
    if (rc) {
        dm_ingest_map_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* The earlier tool's processing_config.json: its column names map through the datamate
 * preset; any other targeted column is kept as an extra with its dtype. */
static int load_old_config(struct dm_ingest_map *m, const struct dm__jnode *root,
                           struct dm_error *err)
{
    const struct dm__jnode *cols = dm__jdoc_get(root, "targeted_columns");
    const struct dm__jnode *types = dm__jdoc_get(root, "columns_dtypes");
    if (!cols || cols->type != DM_J_ARR)
        return dm_error_set(err, DM_EPARSE, "'targeted_columns' must be an array of names");
    const struct dm_preset *p = dm_preset_find("datamate");
    for (const struct dm__jnode *c = cols->child; c; c = c->next) {
        if (c->type != DM_J_STR)
            return dm_error_set(err, DM_EPARSE, "'targeted_columns' must hold strings");
        int done = 0;
        for (const char *const *r = p->rules; *r && !done; r++) {
            const char *eq = strchr(*r, '=');
            /* Does this preset rule name the column as one of its fields? */
            size_t cn = strlen(c->str);
            for (const char *q = eq + 1; *q;) {
                const char *bar = strchr(q, '|');
                size_t n = bar ? (size_t)(bar - q) : strlen(q);
                const char *colon = memchr(q, ':', n);
                size_t fn = colon ? (size_t)(colon - q) : n;
                if (fn == cn && !memcmp(q, c->str, cn) && !find_op(q, q + n, &(char){0})) {
                    char rule[300];
                    snprintf(rule, sizeof(rule), "%.*s=%.*s", (int)(eq - *r), *r, (int)n, q);
                    int canon = canon_find(*r, (size_t)(eq - *r));
                    if (canon >= 0 && m->cols[canon].nalts == 0) {
                        int rc = dm__map_rule(m, rule, err);
                        if (rc)
                            return rc;
                    }
                    done = 1;
                    break;
                }
                if (!bar)
                    break;
                q = bar + 1;
            }
        }
        if (done)
            continue;
        const struct dm__jnode *t = dm__jdoc_get(types, c->str);
        const char *ty = t && t->type == DM_J_STR ? t->str : "string";
        int xt;
        if (xtype_parse(ty, &xt))
            ty = "string"; /* datetime64 and other pandas dtypes: keep the text */
        int rc = add_extra(m, c->str, ty, c->str, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_ours(struct dm_ingest_map *m, const struct dm__jnode *root, enum dm_in_format *format,
                     struct dm_error *err)
{
    int rc;
    const struct dm__jnode *f = dm__jdoc_get(root, "format");
    if (f) {
        if (f->type != DM_J_STR || dm_ingest_format_parse(f->str, format))
            return dm_error_set(err, DM_EPARSE, "unknown format '%s'",
                                f->type == DM_J_STR ? f->str : "?");
    }
    const struct dm__jnode *pre = dm__jdoc_get(root, "preset");
    if (pre) {
        const struct dm_preset *p = pre->type == DM_J_STR ? dm_preset_find(pre->str) : NULL;
        if (!p)
            return dm_error_set(err, DM_EPARSE, "unknown preset '%s'",
                                pre->type == DM_J_STR ? pre->str : "?");
        for (const char *const *r = p->rules; *r; r++)
            if ((rc = dm__map_rule(m, *r, err)))
                return rc;
    }
    const struct dm__jnode *cols = dm__jdoc_get(root, "columns");
    if (cols && cols->type != DM_J_OBJ)
        return dm_error_set(err, DM_EPARSE, "'columns' must be an object");
    for (const struct dm__jnode *c = cols ? cols->child : NULL; c; c = c->next) {
        int ci = canon_find(c->key, strlen(c->key));
        if (ci < 0)
            return dm_error_set(err, DM_EPARSE,
                                "'columns': unknown column '%s' (extra columns go in 'extras')",
                                c->key);
        if (c->type != DM_J_STR)
            return dm_error_set(err, DM_EPARSE, "'columns.%s' must be a string", c->key);
        if ((rc = parse_expr(m, &m->cols[ci], c->str, err)))
            return rc;
    }
    const struct dm__jnode *ex = dm__jdoc_get(root, "extras");
    if (ex && ex->type != DM_J_OBJ)
        return dm_error_set(err, DM_EPARSE, "'extras' must be an object");
    for (const struct dm__jnode *c = ex ? ex->child : NULL; c; c = c->next) {
        const char *from = c->key, *type = "string";
        if (c->type == DM_J_STR) {
            type = c->str;
        } else if (c->type == DM_J_OBJ) {
            const struct dm__jnode *fr = dm__jdoc_get(c, "from"), *ty = dm__jdoc_get(c, "type");
            if ((fr && fr->type != DM_J_STR) || (ty && ty->type != DM_J_STR))
                return dm_error_set(err, DM_EPARSE, "'extras.%s': 'from' and 'type' are strings",
                                    c->key);
            if (fr)
                from = fr->str;
            if (ty)
                type = ty->str;
        } else {
            return dm_error_set(err, DM_EPARSE, "'extras.%s' must be a type or an object", c->key);
        }
        if ((rc = add_extra(m, c->key, type, from, err)))
            return rc;
    }
    const struct dm__jnode *fl = dm__jdoc_get(root, "filter");
    if (fl && fl->type != DM_J_OBJ)
        return dm_error_set(err, DM_EPARSE, "'filter' must be an object");
    for (const struct dm__jnode *c = fl ? fl->child : NULL; c; c = c->next) {
        const struct dm__jnode *list = c;
        int neg = 0;
        if (c->type == DM_J_OBJ && (list = dm__jdoc_get(c, "not")))
            neg = 1;
        if (!list || list->type != DM_J_ARR || !list->child)
            return dm_error_set(err, DM_EPARSE,
                                "'filter.%s' must be a list of values or {\"not\": [...]}", c->key);
        char vals[512];
        size_t o = 0;
        for (const struct dm__jnode *v = list->child; v; v = v->next) {
            if (v->type != DM_J_STR && v->type != DM_J_NUM)
                return dm_error_set(err, DM_EPARSE, "'filter.%s': values are strings", c->key);
            int k = snprintf(vals + o, sizeof(vals) - o, "%s%s", o ? "," : "", v->str);
            if (k < 0 || (size_t)k >= sizeof(vals) - o)
                return dm_error_set(err, DM_EPARSE, "'filter.%s': too long", c->key);
            o += (size_t)k;
        }
        if ((rc = add_filter(m, c->key, neg, vals, err)))
            return rc;
    }
    return 0;
}

#define DM_MAPPING_MAX_BYTES (1 << 20)

int dm_ingest_map_load(struct dm_ingest_map **out, enum dm_in_format *format, const char *path,
                       struct dm_error *err)
{
    *out = NULL;
    *format = DM_IN_AUTO;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dm_error_set(err, -EIO, "cannot open mapping '%s': %s", path, strerror(errno));
    char *text = dm_malloc(DM_MAPPING_MAX_BYTES + 1);
    if (!text) {
        fclose(f);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    size_t n = fread(text, 1, DM_MAPPING_MAX_BYTES + 1, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || n > DM_MAPPING_MAX_BYTES) {
        dm_free(text);
        return dm_error_set(err, ioerr ? -EIO : DM_ETOOBIG, "mapping '%s': %s", path,
                            ioerr ? "read error" : "larger than 1 MiB");
    }
    struct dm__jnode *root = dm__jdoc_parse(text, n, err);
    dm_free(text);
    if (!root)
        return dm_error_prefix(err, path);
    int rc = 0;
    struct dm_ingest_map *m = NULL;
    if (root->type != DM_J_OBJ) {
        rc = dm_error_set(err, DM_EPARSE, "a mapping file is a JSON object");
    } else if (!(m = dm__map_new(dm__jdoc_get(root, "targeted_columns") ? "processing_config"
                                                                         : "mapping"))) {
        rc = dm_error_set(err, -ENOMEM, "out of memory");
    } else if (dm__jdoc_get(root, "targeted_columns")) {
        rc = load_old_config(m, root, err);
    } else {
        rc = load_ours(m, root, format, err);
    }
    if (!rc)
        rc = dm__map_finish(m, err);
    dm__jdoc_free(root);
    if (rc) {
        dm_ingest_map_free(m);
        dm_error_prefix(err, path);
        return rc;
    }
    *out = m;
    return 0;
}

char *dm_ingest_map_describe(const struct dm_ingest_map *m)
{
    struct dm_buf b;
    dm_buf_init(&b, 1 << 20);
    int rc = dm_buf_puts(&b, "{");
    for (size_t i = 0; i < m->ncols && !rc; i++) {
        const struct dm__col *c = &m->cols[i];
        if (!c->nalts)
            continue;
        rc = dm_buf_puts(&b, b.len > 1 ? "," : "");
        rc = rc ? rc : dm_buf_json_str(&b, c->name, strlen(c->name));
        rc = rc ? rc : dm_buf_putc(&b, ':');
        rc = rc ? rc : dm_buf_json_str(&b, c->expr, strlen(c->expr));
    }
    for (size_t i = 0; i < m->nfilters && !rc; i++) {
        const struct dm__filter *f = &m->filters[i];
        char key[300], vals[600];
        size_t o = 0;
        snprintf(key, sizeof(key), "filter:%s%s", m->fields[f->field], f->negate ? "!" : "");
        vals[0] = '\0';
        for (size_t k = 0; k < f->nvalues && o < sizeof(vals); k++) {
            int w = snprintf(vals + o, sizeof(vals) - o, "%s%s", k ? "," : "", f->values[k]);
            o += w > 0 ? (size_t)w : 0;
        }
        rc = dm_buf_putc(&b, ',');
        rc = rc ? rc : dm_buf_json_str(&b, key, strlen(key));
        rc = rc ? rc : dm_buf_putc(&b, ':');
        rc = rc ? rc : dm_buf_json_str(&b, vals, strnlen(vals, sizeof(vals)));
    }
    rc = rc ? rc : dm_buf_putc(&b, '}');
    if (rc) {
        dm_buf_release(&b);
        return NULL;
    }
    return dm_buf_detach(&b, NULL);
}
