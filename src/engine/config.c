/* The config file: the earlier tool's keys (template, targeted_cols, known_servers) plus
 * internal_networks, columns and hunt. See docs/config.md. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_engine.h"
#include "banned.h"

#define CONFIG_MAX_BYTES ((size_t)16 << 20)

int dm_config_init(struct dm_config *c)
{
    memset(c, 0, sizeof(*c));
    c->theme_toggle = -1;
    dm_cidr_set_init(&c->internal);
    return dm_cidr_set_add_defaults(&c->internal);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dm_free(v[i]);
    dm_free(v);
}

void dm_config_release(struct dm_config *c)
{
    dm_free(c->site);
    dm_free(c->title);
    dm_free(c->header_background);
    free_strv(c->targeted_cols, c->ntargeted);
    for (size_t i = 0; i < c->nservers; i++)
        dm_free(c->servers[i].name);
    dm_free(c->servers);
    dm_cidr_set_release(&c->internal);
    for (size_t i = 0; i < c->ncolumns; i++) {
        dm_free(c->columns[i].canonical);
        dm_free(c->columns[i].source);
    }
    dm_free(c->columns);
    dm_json_doc_release(&c->doc);
    free_strv(c->warnings, c->nwarnings);
    memset(c, 0, sizeof(*c));
    c->theme_toggle = -1;
}

enum dm_role_kind dm_role_kind_of(const char *name)
{
    int db = 0, mail = 0;
    for (const char *p = name; *p; p++) {
        if (tolower((unsigned char)p[0]) == 'd' && tolower((unsigned char)p[1]) == 'b')
            db = 1;
        if (strncasecmp(p, "mail", 4) == 0)
            mail = 1;
    }
    /* the old tool tested "db" first */
    return db ? DM_ROLE_DB : mail ? DM_ROLE_MAIL : DM_ROLE_OTHER;
}

const struct dm_known_server *dm_config_server(const struct dm_config *c, const struct dm_ip *ip)
{
    const struct dm_known_server *best = NULL;
    for (size_t i = 0; i < c->nservers; i++)
        if (dm_cidr_contains(&c->servers[i].net, ip) &&
            (!best || c->servers[i].net.bits > best->net.bits))
            best = &c->servers[i];
    return best;
}

static int type_error(struct dm_error *err, const char *key, const struct dm_json *v,
                      const char *want)
{
    return dm_error_set_at(err, -EINVAL, (int64_t)v->offset, 0, "'%s' must be %s, not %s", key,
                           want, dm_json_type_name(v->type));
}

static int warn(struct dm_config *c, const char *prefix, const char *key)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "unknown key '%s%s' ignored", prefix, key);
    char **w = dm_reallocarray(c->warnings, c->nwarnings + 1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    c->warnings = w;
    if (!(w[c->nwarnings] = dm_strdup(msg)))
        return -ENOMEM;
    c->nwarnings++;
    return 0;
}

static int set_str(char **dst, const struct dm_json *v, const char *key, struct dm_error *err)
{
    if (v->type == DM_JSON_NULL)
        return 0;
    if (v->type != DM_JSON_STR)
        return type_error(err, key, v, "a string");
    char *s = dm_strndup(v->str, v->len);
    if (!s)
        return -ENOMEM;
    dm_free(*dst);
    *dst = s;
    return 0;
}

static int parse_template(struct dm_config *c, const struct dm_json *t, struct dm_error *err)
{
    if (t->type != DM_JSON_OBJ)
        return type_error(err, "template", t, "an object");
    for (size_t i = 0; i < t->len; i++) {
        const struct dm_json *v = &t->items[i];
        int rc = 0;
        if (!strcmp(v->key, "site"))
            rc = set_str(&c->site, v, "template.site", err);
        else if (!strcmp(v->key, "title"))
            rc = set_str(&c->title, v, "template.title", err);
        else if (!strcmp(v->key, "header_background"))
            rc = set_str(&c->header_background, v, "template.header_background", err);
        else if (!strcmp(v->key, "theme_toggle")) {
            if (v->type == DM_JSON_BOOL)
                c->theme_toggle = v->b;
            else if (v->type == DM_JSON_NUM && v->is_int && (v->i == 0 || v->i == 1))
                c->theme_toggle = (int)v->i;
            else if (v->type != DM_JSON_NULL)
                rc = type_error(err, "template.theme_toggle", v, "a boolean");
        } else
            rc = warn(c, "template.", v->key);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_targeted(struct dm_config *c, const struct dm_json *a, struct dm_error *err)
{
    if (a->type != DM_JSON_ARR)
        return type_error(err, "targeted_cols", a, "an array of column names");
    char **v = dm_calloc(a->len ? a->len : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < a->len; i++) {
        if (a->items[i].type != DM_JSON_STR || !a->items[i].len) {
            free_strv(v, i);
            return type_error(err, "targeted_cols", &a->items[i], "an array of column names");
        }
        if (!(v[i] = dm_strndup(a->items[i].str, a->items[i].len))) {
            free_strv(v, i);
            return -ENOMEM;
        }
    }
    free_strv(c->targeted_cols, c->ntargeted);
    c->targeted_cols = v;
    c->ntargeted = a->len;
    return 0;
}

static int parse_servers(struct dm_config *c, const struct dm_json *o, struct dm_error *err)
{
    if (o->type != DM_JSON_OBJ)
        return type_error(err, "known_servers", o, "an object {\"ip or cidr\": \"name\"}");
    struct dm_known_server *v = dm_reallocarray(c->servers, c->nservers + o->len + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    c->servers = v;
    for (size_t i = 0; i < o->len; i++) {
        const struct dm_json *m = &o->items[i];
        struct dm_known_server s;
        if (dm_cidr_parse(m->key, m->key_len, &s.net))
            return dm_error_set_at(err, -EINVAL, (int64_t)m->offset, 0,
                                   "'known_servers': '%s' is not an IP address or CIDR", m->key);
        if (m->type != DM_JSON_STR)
            return dm_error_set_at(err, -EINVAL, (int64_t)m->offset, 0,
                                   "'known_servers.%s' must be a string, not %s", m->key,
                                   dm_json_type_name(m->type));
        if (!(s.name = dm_strndup(m->str, m->len)))
            return -ENOMEM;
        s.kind = dm_role_kind_of(s.name);
        c->servers[c->nservers++] = s;
    }
    return 0;
}

static int parse_networks(struct dm_config *c, const struct dm_json *a, struct dm_error *err)
{
    if (a->type != DM_JSON_ARR)
        return type_error(err, "internal_networks", a, "an array of CIDRs");
    struct dm_cidr_set set;
    dm_cidr_set_init(&set);
    for (size_t i = 0; i < a->len; i++) {
        const struct dm_json *v = &a->items[i];
        int rc;
        if (v->type != DM_JSON_STR)
            rc = type_error(err, "internal_networks", v, "an array of CIDRs");
        else if ((rc = dm_cidr_set_add_str(&set, v->str, v->len, err)) == -EINVAL)
            rc = dm_error_set_at(err, -EINVAL, (int64_t)v->offset, 0,
                                 "'internal_networks': '%s' is not a CIDR", v->str);
        if (rc) {
            dm_cidr_set_release(&set);
            return rc;
        }
    }
    dm_cidr_set_release(&c->internal);
    c->internal = set;
    return 0;
}

static int parse_columns(struct dm_config *c, const struct dm_json *o, struct dm_error *err)
{
    if (o->type != DM_JSON_OBJ)
        return type_error(err, "columns", o, "an object {\"canonical\": \"source column\"}");
    struct dm_column_map *v = dm_reallocarray(c->columns, c->ncolumns + o->len + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    c->columns = v;
    for (size_t i = 0; i < o->len; i++) {
        const struct dm_json *m = &o->items[i];
        if (m->type != DM_JSON_STR || !m->len)
            return dm_error_set_at(err, -EINVAL, (int64_t)m->offset, 0,
                                   "'columns.%s' must be a source column name", m->key);
        struct dm_column_map e = {dm_strndup(m->key, m->key_len), dm_strndup(m->str, m->len)};
        if (!e.canonical || !e.source) {
            dm_free(e.canonical);
            dm_free(e.source);
            return -ENOMEM;
        }
        c->columns[c->ncolumns++] = e;
    }
    return 0;
}

int dm_config_parse(struct dm_config *c, const char *text, size_t len, struct dm_error *err)
{
    dm_json_doc_release(&c->doc);
    c->hunt = NULL;
    int rc = dm_json_parse(&c->doc, text, len, NULL, err);
    if (rc)
        return rc;
    const struct dm_json *root = c->doc.root;
    if (root->type != DM_JSON_OBJ)
        return dm_error_set_at(err, -EINVAL, 0, 0, "the config must be a JSON object, not %s",
                               dm_json_type_name(root->type));
    /* the text is not kept: hunt reads its subtree through the DOM, spans are cleared */
    for (size_t i = 0; i < root->len; i++) {
        const struct dm_json *v = &root->items[i];
        const char *k = v->key;
        if (!strcmp(k, "template"))
            rc = parse_template(c, v, err);
        else if (!strcmp(k, "targeted_cols"))
            rc = parse_targeted(c, v, err);
        else if (!strcmp(k, "known_servers"))
            rc = parse_servers(c, v, err);
        else if (!strcmp(k, "internal_networks"))
            rc = parse_networks(c, v, err);
        else if (!strcmp(k, "columns"))
            rc = parse_columns(c, v, err);
        else if (!strcmp(k, "hunt")) {
            if (v->type != DM_JSON_OBJ)
                rc = type_error(err, "hunt", v, "an object");
            else
                c->hunt = v;
        } else
            rc = warn(c, "", k);
        if (rc)
            return rc;
    }
    c->doc.text = NULL;
    c->doc.text_len = 0;
    return 0;
}

int dm_config_load(struct dm_config *c, const char *path, struct dm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = -errno;
        dm_error_set(err, e, "cannot open '%s': %s", path, dm_strerror(e));
        return e;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return dm_error_set(err, -EINVAL, "'%s' is not a regular file", path);
    }
    if ((size_t)st.st_size > CONFIG_MAX_BYTES) {
        close(fd);
        return dm_error_set(err, DM_ETOOBIG, "'%s' is larger than 16 MiB", path);
    }
    size_t n = (size_t)st.st_size;
    char *buf = dm_malloc(n + 1);
    if (!buf) {
        close(fd);
        return dm_error_set(err, -ENOMEM, "out of memory reading '%s'", path);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? -errno : -EIO;
            dm_free(buf);
            close(fd);
            return dm_error_set(err, e, "cannot read '%s': %s", path, dm_strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    int rc = dm_config_parse(c, buf, n, err);
    dm_free(buf);
    if (rc && err) {
        char pre[512];
        snprintf(pre, sizeof(pre), "%s", path);
        dm_error_prefix(err, pre);
    }
    return rc;
}
