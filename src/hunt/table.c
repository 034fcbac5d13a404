/* Hunting over the engine's table: the column view (no copies of the flow columns), the
 * --where selection, and the one-call entry point shared by the CLI and the HTTP API. */
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_engine.h"
#include "dm_hunt.h"
#include "banned.h"

static struct dm_hunt_col col_of(const struct dm_table *t, int id)
{
    struct dm_hunt_col c = {0};
    if ((size_t)id < t->ncols && t->cols[id].width && t->cols[id].kind == DM_CK_UINT) {
        c.v = t->cols[id].v;
        c.width = t->cols[id].width;
        c.valid = t->cols[id].valid;
    }
    return c;
}

struct mark_ctx {
    uint8_t *mask;
};

static void mark(void *ctx, const uint32_t *sel, size_t n, unsigned slot)
{
    (void)slot;
    struct mark_ctx *m = ctx;
    for (size_t i = 0; i < n; i++)
        m->mask[sel[i]] = 1;
}

int dm_hunt_view_init(struct dm_hunt_view *v, const struct dm_table *t,
                      const struct dm_filter *where, struct dm_error *err)
{
    memset(v, 0, sizeof(*v));
    v->t = t;
    struct dm_hunt_flows *f = &v->f;
    const struct dm_column *src = &t->cols[DM_C_SRC], *dst = &t->cols[DM_C_DST];
    if (t->nrows && (src->width != 4 || dst->width != 4 || t->cols[DM_C_TS].width != 8))
        return dm_error_set(err, -EINVAL, "hunt needs the ts, src_ip and dst_ip columns");
    size_t ni = t->ips.n ? t->ips.n : 1;
    v->ip_class = dm_malloc(ni);
    v->ip_role = dm_calloc(ni, 1);
    const struct dm_column *act = &t->cols[DM_C_ACTION];
    size_t na = act->width && act->kind == DM_CK_DICT ? act->dict.n : 0;
    v->action_failed = dm_calloc(na ? na : 1, 1);
    if (!v->ip_class || !v->ip_role || !v->action_failed)
        goto oom;
    for (size_t i = 0; i < t->ips.n; i++) {
        v->ip_class[i] = i == 0 ? DM_HUNT_IP_NONE
                         : (t->ips.flags[i] & DM_IPF_INTERNAL) ? DM_HUNT_IP_INTERNAL
                                                                : DM_HUNT_IP_EXTERNAL;
        enum dm_role_kind k = DM_ROLE_NONE;
        if (i)
            dm_table_ip_role(t, (uint32_t)i, &k);
        v->ip_role[i] = k == DM_ROLE_DB     ? DM_HUNT_ROLE_DB
                        : k == DM_ROLE_MAIL ? DM_HUNT_ROLE_MAIL
                        : k == DM_ROLE_OTHER ? DM_HUNT_ROLE_SERVER
                                              : DM_HUNT_ROLE_NONE;
    }
    if (!t->ips.n)
        v->ip_class[0] = DM_HUNT_IP_NONE;
    for (size_t i = 0; i < na; i++)
        v->action_failed[i] = (uint8_t)dm_hunt_action_failed(act->dict.s[i], act->dict.len[i]);
    f->n = t->nrows;
    f->ts = dm_table_ts(t);
    f->src = dm_table_src(t);
    f->dst = dm_table_dst(t);
    f->sent = col_of(t, DM_C_SENT);
    f->recv = col_of(t, DM_C_RECV);
    f->dport = col_of(t, DM_C_DPORT);
    f->proto = col_of(t, DM_C_PROTO);
    f->duration_ms = col_of(t, DM_C_DURATION);
    if (na) {
        f->action.v = act->v;
        f->action.width = act->width;
        f->action.valid = act->valid;
        f->action_failed = v->action_failed;
        f->naction = na;
    }
    f->nips = t->ips.n;
    f->ip_class = v->ip_class;
    f->ip_role = v->ip_role;
    f->ips = t->ips.ip;
    if (where && t->nrows) {
        struct mark_ctx m = {dm_calloc(t->nrows, 1)};
        if (!m.mask)
            goto oom;
        int rc = dm_scan(t, where, mark, &m);
        size_t n = 0;
        for (size_t i = 0; !rc && i < t->nrows; i++)
            n += m.mask[i];
        v->sel = rc ? NULL : dm_malloc((n ? n : 1) * sizeof(*v->sel));
        if (!v->sel) {
            dm_free(m.mask);
            goto oom;
        }
        n = 0;
        for (size_t i = 0; i < t->nrows; i++)
            if (m.mask[i])
                v->sel[n++] = (uint32_t)i;
        dm_free(m.mask);
        f->sel = v->sel;
        f->nsel = n;
    }
    return 0;
oom:
    dm_hunt_view_release(v);
    return dm_error_set(err, -ENOMEM, "out of memory");
}

void dm_hunt_view_release(struct dm_hunt_view *v)
{
    dm_free(v->ip_class);
    dm_free(v->ip_role);
    dm_free(v->action_failed);
    dm_free(v->sel);
    memset(v, 0, sizeof(*v));
}

const char *dm_hunt_table_role_name(const void *table, uint32_t ip)
{
    enum dm_role_kind k;
    return dm_table_ip_role(table, ip, &k);
}

int dm_hunt_findings(struct dm_buf *out, const struct dm_table *t, const char *where,
                     size_t limit, enum dm_hunt_format fmt, struct dm_error *err)
{
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    struct dm_filter *flt = NULL;
    struct dm_hunt_view v;
    struct dm_hunt_result r;
    memset(&v, 0, sizeof(v));
    memset(&r, 0, sizeof(r));
    int rc = 0;
    if (t->config && t->config->hunt &&
        (rc = dm_hunt_config_parse(&c, t->config->hunt, t->config, err)))
        goto done;
    int has_where = where && where[strspn(where, " \t\r\n")];
    if (has_where && (rc = dm_filter_compile(&flt, t, where, strlen(where), err)))
        goto done;
    if ((rc = dm_hunt_view_init(&v, t, flt, err)))
        goto done;
    if ((rc = dm_hunt_run(&v.f, &c, t->pool, &r, err)))
        goto done;
    struct dm_hunt_output o = {&r, &v.f, &c, has_where ? where : NULL, limit,
                               dm_hunt_table_role_name, t};
    rc = fmt == DM_HUNT_FMT_JSON ? dm_hunt_write_json(out, &o) : dm_hunt_write_table(out, &o);
    if (rc)
        dm_error_set(err, rc, "findings too large for the output buffer");
done:
    dm_hunt_result_release(&r);
    dm_hunt_view_release(&v);
    dm_filter_free(flt);
    dm_hunt_config_release(&c);
    return rc;
}
