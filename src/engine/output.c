/* Output writers: every result is a list of records with typed fields, rendered once per
 * format (aligned table, CSV, JSON array, JSON lines). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "engine_int.h"
#include "banned.h"

enum vt { V_NULL, V_U64, V_I64, V_F64, V_STR, V_BOOL };

struct fv {
    enum vt t;
    uint64_t u;
    int64_t i;
    double f;
    const char *s;
    size_t n;
    char tmp[48];
};

typedef void (*rec_fn)(const void *ctx, size_t rec, struct fv *out);

int dm_format_parse(const char *s, enum dm_format *f)
{
    static const char *const names[] = {"table", "csv", "json", "jsonl"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *f = (enum dm_format)i;
            return 0;
        }
    return -EINVAL;
}

static void fv_str(struct fv *v, const char *s, size_t n)
{
    v->t = V_STR;
    v->s = s;
    v->n = n;
}

static void fv_time(struct fv *v, int64_t us)
{
    size_t n = dm_time_format(us, v->tmp);
    fv_str(v, v->tmp, n);
}

static void fv_ip(struct fv *v, const struct dm_table *t, uint32_t id)
{
    if (!id) {
        v->t = V_NULL;
        return;
    }
    size_t n = dm_table_ip_text(t, id, v->tmp);
    fv_str(v, v->tmp, n);
}

/* Text of a value for table / csv (empty for null). */
static int put_text(struct dm_buf *b, const struct fv *v)
{
    switch (v->t) {
    case V_NULL: return 0;
    case V_U64: return dm_buf_printf(b, "%llu", (unsigned long long)v->u);
    case V_I64: return dm_buf_printf(b, "%lld", (long long)v->i);
    case V_F64: return dm_buf_printf(b, "%.17g", v->f);
    case V_BOOL: return dm_buf_puts(b, v->u ? "true" : "false");
    case V_STR: return dm_buf_append(b, v->s, v->n);
    }
    return 0;
}

static int put_json(struct dm_buf *b, const struct fv *v)
{
    switch (v->t) {
    case V_NULL: return dm_buf_puts(b, "null");
    case V_F64:
        if (!isfinite(v->f))
            return dm_buf_puts(b, "null");
        return dm_buf_printf(b, "%.17g", v->f);
    case V_STR: return dm_buf_json_str(b, v->s, v->n);
    default: return put_text(b, v);
    }
}

/* Display width of UTF-8 text: code points (control bytes count as one). */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* Table cells: control characters shown as '?' so a log string cannot move the terminal. */
static int put_cell_safe(struct dm_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc = dm_buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
        if (rc)
            return rc;
    }
    return 0;
}

static int csv_cell(struct dm_buf *b, const struct fv *v)
{
    if (v->t != V_STR)
        return put_text(b, v);
    int quote = 0, inj = v->n && strchr("=+-@\t\r", v->s[0]) != NULL;
    for (size_t i = 0; i < v->n; i++)
        if (v->s[i] == ',' || v->s[i] == '"' || v->s[i] == '\n' || v->s[i] == '\r')
            quote = 1;
    int rc = 0;
    if (quote)
        rc = dm_buf_putc(b, '"');
    if (!rc && inj)
        rc = dm_buf_putc(b, '\'');
    for (size_t i = 0; !rc && i < v->n; i++)
        rc = v->s[i] == '"' ? dm_buf_puts(b, "\"\"") : dm_buf_putc(b, v->s[i]);
    if (!rc && quote)
        rc = dm_buf_putc(b, '"');
    return rc;
}

#define MAX_FIELDS 256

static int render(struct dm_buf *out, const char *const *names, size_t nf, size_t nrec,
                  rec_fn fn, const void *ctx, enum dm_format fmt)
{
    struct fv *v = dm_calloc(nf ? nf : 1, sizeof(*v));
    size_t *w = dm_calloc(nf ? nf : 1, sizeof(*w));
    uint8_t *num = dm_calloc(nf ? nf : 1, 1);
    int rc = 0;
    if (!v || !w || !num) {
        rc = -ENOMEM;
        goto out;
    }
    switch (fmt) {
    case DM_FMT_JSON:
    case DM_FMT_JSONL:
        if (fmt == DM_FMT_JSON)
            rc = dm_buf_putc(out, '[');
        for (size_t r = 0; !rc && r < nrec; r++) {
            for (size_t k = 0; k < nf; k++)
                fn(ctx, r * nf + k, &v[k]);
            if (fmt == DM_FMT_JSON && r)
                rc = dm_buf_putc(out, ',');
            if (!rc)
                rc = dm_buf_putc(out, '{');
            for (size_t k = 0; !rc && k < nf; k++) {
                if (k)
                    rc = dm_buf_putc(out, ',');
                if (!rc)
                    rc = dm_buf_json_str(out, names[k], strlen(names[k]));
                if (!rc)
                    rc = dm_buf_putc(out, ':');
                if (!rc)
                    rc = put_json(out, &v[k]);
            }
            if (!rc)
                rc = dm_buf_putc(out, '}');
            if (!rc && fmt == DM_FMT_JSONL)
                rc = dm_buf_putc(out, '\n');
        }
        if (!rc && fmt == DM_FMT_JSON)
            rc = dm_buf_puts(out, "]\n");
        break;
    case DM_FMT_CSV:
        for (size_t k = 0; !rc && k < nf; k++) {
            struct fv h = {0};
            fv_str(&h, names[k], strlen(names[k]));
            if (k)
                rc = dm_buf_putc(out, ',');
            if (!rc)
                rc = csv_cell(out, &h);
        }
        if (!rc)
            rc = dm_buf_putc(out, '\n');
        for (size_t r = 0; !rc && r < nrec; r++) {
            for (size_t k = 0; !rc && k < nf; k++) {
                fn(ctx, r * nf + k, &v[k]);
                if (k)
                    rc = dm_buf_putc(out, ',');
                if (!rc)
                    rc = csv_cell(out, &v[k]);
            }
            if (!rc)
                rc = dm_buf_putc(out, '\n');
        }
        break;
    case DM_FMT_TABLE: {
        struct dm_buf cell;
        dm_buf_init(&cell, 1 << 20);
        for (size_t k = 0; k < nf; k++)
            w[k] = strlen(names[k]);
        for (size_t r = 0; !rc && r < nrec; r++)
            for (size_t k = 0; !rc && k < nf; k++) {
                fn(ctx, r * nf + k, &v[k]);
                dm_buf_reset(&cell);
                rc = put_text(&cell, &v[k]);
                size_t cw = text_width(cell.data ? cell.data : "", cell.len);
                if (cw > w[k])
                    w[k] = cw;
                if (v[k].t == V_U64 || v[k].t == V_I64 || v[k].t == V_F64)
                    num[k] = 1;
            }
        for (size_t k = 0; !rc && k < nf; k++) {
            size_t pad = w[k] - strlen(names[k]);
            if (k)
                rc = dm_buf_puts(out, "  ");
            if (!rc && num[k])
                rc = dm_buf_printf(out, "%*s", (int)pad, "");
            if (!rc)
                rc = dm_buf_puts(out, names[k]);
            if (!rc && !num[k] && k + 1 < nf)
                rc = dm_buf_printf(out, "%*s", (int)pad, "");
        }
        if (!rc)
            rc = dm_buf_putc(out, '\n');
        for (size_t r = 0; !rc && r < nrec; r++) {
            for (size_t k = 0; !rc && k < nf; k++) {
                fn(ctx, r * nf + k, &v[k]);
                dm_buf_reset(&cell);
                rc = put_text(&cell, &v[k]);
                if (rc)
                    break;
                size_t cw = text_width(cell.data ? cell.data : "", cell.len);
                size_t pad = w[k] - cw;
                if (k)
                    rc = dm_buf_puts(out, "  ");
                if (!rc && num[k])
                    rc = dm_buf_printf(out, "%*s", (int)pad, "");
                if (!rc)
                    rc = put_cell_safe(out, cell.data ? cell.data : "", cell.len);
                if (!rc && !num[k] && k + 1 < nf)
                    rc = dm_buf_printf(out, "%*s", (int)pad, "");
            }
            if (!rc)
                rc = dm_buf_putc(out, '\n');
        }
        dm_buf_release(&cell);
        break;
    }
    }
out:
    dm_free(v);
    dm_free(w);
    dm_free(num);
    return rc;
}

/* ---- cells of the table ---- */

static void cell(const struct dm_table *t, int col, size_t row, struct fv *v)
{
    memset(v, 0, offsetof(struct fv, tmp));
    const struct dm_column *c = &t->cols[col];
    if (!dm_col_present(c, row)) {
        v->t = V_NULL;
        return;
    }
    if (col == DM_C_TS) {
        fv_time(v, dm_col_i64(c, row));
        return;
    }
    switch (c->kind) {
    case DM_CK_IP: fv_ip(v, t, ((const uint32_t *)c->v)[row]); break;
    case DM_CK_UINT:
        v->t = V_U64;
        v->u = dm_col_u64(c, row);
        break;
    case DM_CK_INT:
        v->t = V_I64;
        v->i = dm_col_i64(c, row);
        break;
    case DM_CK_F64:
        v->t = V_F64;
        v->f = dm_col_f64(c, row);
        break;
    case DM_CK_DICT: {
        uint64_t id = dm_col_u64(c, row);
        if (id < c->dict.n)
            fv_str(v, c->dict.s[id], c->dict.len[id]);
        else
            v->t = V_NULL;
        break;
    }
    }
}

int dm_write_cell_json(struct dm_buf *out, const struct dm_table *t, int col, size_t row)
{
    struct fv v;
    cell(t, col, row, &v);
    return put_json(out, &v);
}

int dm_write_cell_text(struct dm_buf *out, const struct dm_table *t, int col, size_t row)
{
    struct fv v;
    cell(t, col, row, &v);
    return put_text(out, &v);
}

size_t dm_columns_default(const struct dm_table *t, int *cols)
{
    size_t n = 0;
    const struct dm_config *cfg = t->config;
    if (cfg && cfg->ntargeted) {
        for (size_t i = 0; i < cfg->ntargeted; i++) {
            int c = dm_table_column(t, cfg->targeted_cols[i], strlen(cfg->targeted_cols[i]));
            if (c < 0 || !t->cols[c].width)
                continue;
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                dup |= cols[k] == c;
            if (!dup)
                cols[n++] = c;
        }
        if (n)
            return n;
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].width)
            cols[n++] = (int)i;
    return n;
}

struct rows_ctx {
    const struct dm_table *t;
    const struct dm_rows_res *r;
    const int *cols;
    size_t ncols;
};

static void rows_rec(const void *p, size_t i, struct fv *v)
{
    const struct rows_ctx *c = p;
    cell(c->t, c->cols[i % c->ncols], c->r->rows[i / c->ncols], v);
}

int dm_write_rows(struct dm_buf *out, const struct dm_table *t, const struct dm_rows_res *r,
                  const int *cols, size_t ncols, enum dm_format fmt)
{
    const char *names[MAX_FIELDS];
    if (ncols > MAX_FIELDS)
        ncols = MAX_FIELDS;
    for (size_t k = 0; k < ncols; k++)
        names[k] = t->cols[cols[k]].name;
    struct rows_ctx c = {t, r, cols, ncols};
    return render(out, names, ncols, r->n, rows_rec, &c, fmt);
}

/* ---- top ---- */

struct top_ctx {
    const struct dm_table *t;
    const struct dm_top_res *r;
    size_t nkey;
};

static void top_key(const struct dm_table *t, const struct dm_top_res *r,
                    const struct dm_top_row *row, size_t k, struct fv *v)
{
    memset(v, 0, offsetof(struct fv, tmp));
    if (row->null) {
        v->t = V_NULL;
        return;
    }
    switch (r->key) {
    case DM_TOP_SRC:
    case DM_TOP_DST:
    case DM_TOP_PAIR: fv_ip(v, t, (uint32_t)row->key[k]); return;
    case DM_TOP_DPORT:
    case DM_TOP_SPORT:
    case DM_TOP_PROTO:
        v->t = V_U64;
        v->u = row->key[0];
        return;
    case DM_TOP_ACTION:
    case DM_TOP_EXTRA: {
        const struct dm_column *c = &t->cols[r->key == DM_TOP_ACTION ? DM_C_ACTION : r->extra_col];
        if (c->kind == DM_CK_DICT) {
            if (row->key[0] < c->dict.n)
                fv_str(v, c->dict.s[row->key[0]], c->dict.len[row->key[0]]);
            else
                v->t = V_NULL;
        } else if (c->kind == DM_CK_INT) {
            v->t = V_I64;
            v->i = (int64_t)row->key[0];
        } else {
            v->t = V_U64;
            v->u = row->key[0];
        }
        return;
    }
    }
}

static void top_rec(const void *p, size_t i, struct fv *v)
{
    const struct top_ctx *c = p;
    size_t nf = c->nkey + 5;
    const struct dm_top_row *row = &c->r->v[i / nf];
    size_t k = i % nf;
    if (k < c->nkey) {
        top_key(c->t, c->r, row, k, v);
        return;
    }
    memset(v, 0, offsetof(struct fv, tmp));
    v->t = V_U64;
    const uint64_t m[5] = {row->flows, row->sent, row->recv, row->bytes, row->peers};
    v->u = m[k - c->nkey];
}

int dm_write_top(struct dm_buf *out, const struct dm_table *t, const struct dm_top_res *r,
                 enum dm_format fmt)
{
    static const char *const keyname[] = {"src", "dst", "src", "dport", "sport", "proto",
                                          "action"};
    const char *names[7];
    size_t nk = 1;
    names[0] = r->key == DM_TOP_EXTRA ? t->cols[r->extra_col].name : keyname[r->key];
    if (r->key == DM_TOP_PAIR) {
        names[1] = "dst";
        nk = 2;
    }
    for (int m = 0; m < 5; m++)
        names[nk + (size_t)m] = dm_metric_name((enum dm_metric)m);
    struct top_ctx c = {t, r, nk};
    return render(out, names, nk + 5, r->n, top_rec, &c, fmt);
}

/* ---- histogram ---- */

static void hist_rec(const void *p, size_t i, struct fv *v)
{
    const struct dm_hist_res *r = p;
    const struct dm_hist_bucket *b = &r->v[i / 5];
    memset(v, 0, offsetof(struct fv, tmp));
    switch (i % 5) {
    case 0: fv_time(v, b->ts); return;
    case 1: v->u = b->flows; break;
    case 2: v->u = b->sent; break;
    case 3: v->u = b->recv; break;
    default: v->u = b->egress; break;
    }
    v->t = V_U64;
}

int dm_write_hist(struct dm_buf *out, const struct dm_hist_res *r, enum dm_format fmt)
{
    static const char *const names[] = {"ts", "flows", "sent", "recv", "egress"};
    return render(out, names, 5, r->n, hist_rec, r, fmt);
}

/* ---- graph ---- */

struct graph_ctx {
    const struct dm_table *t;
    const struct dm_graph_res *r;
};

static void node_rec(const void *p, size_t i, struct fv *v)
{
    const struct graph_ctx *c = p;
    const struct dm_graph_node *n = &c->r->nodes[i / 7];
    memset(v, 0, offsetof(struct fv, tmp));
    switch (i % 7) {
    case 0: fv_ip(v, c->t, n->ip); return;
    case 1: v->t = V_BOOL, v->u = (uint64_t)n->internal; return;
    case 2:
        if (n->role)
            fv_str(v, n->role, strlen(n->role));
        else
            v->t = V_NULL;
        return;
    case 3: v->t = V_BOOL, v->u = (uint64_t)n->filtered; return;
    case 4: v->u = n->connections; break;
    case 5: v->u = n->sent; break;
    default: v->u = n->recv; break;
    }
    v->t = V_U64;
}

static void edge_rec(const void *p, size_t i, struct fv *v)
{
    const struct graph_ctx *c = p;
    const struct dm_graph_edge *e = &c->r->edges[i / 4];
    memset(v, 0, offsetof(struct fv, tmp));
    switch (i % 4) {
    case 0: fv_ip(v, c->t, c->r->nodes[e->src].ip); return;
    case 1: fv_ip(v, c->t, c->r->nodes[e->dst].ip); return;
    case 2: v->u = e->flows; break;
    default: v->u = e->bytes; break;
    }
    v->t = V_U64;
}

int dm_write_graph(struct dm_buf *out, const struct dm_table *t, const struct dm_graph_res *r,
                   enum dm_format fmt)
{
    static const char *const nnames[] = {"ip", "internal", "role", "filtered", "connections",
                                         "sent", "recv"};
    static const char *const enames[] = {"src", "dst", "flows", "bytes"};
    struct graph_ctx c = {t, r};
    int rc;
    if (fmt == DM_FMT_JSON) {
        struct dm_buf tmp;
        dm_buf_init(&tmp, out->max);
        rc = dm_buf_puts(out, "{\"nodes\": ");
        if (!rc && !(rc = render(&tmp, nnames, 7, r->nnodes, node_rec, &c, DM_FMT_JSON))) {
            tmp.len--; /* drop the newline */
            rc = dm_buf_append(out, tmp.data, tmp.len);
        }
        dm_buf_reset(&tmp);
        if (!rc)
            rc = dm_buf_puts(out, ", \"edges\": ");
        if (!rc && !(rc = render(&tmp, enames, 4, r->nedges, edge_rec, &c, DM_FMT_JSON))) {
            tmp.len--;
            rc = dm_buf_append(out, tmp.data, tmp.len);
        }
        dm_buf_release(&tmp);
        if (!rc)
            rc = dm_buf_printf(out, ", \"cut\": %zu}\n", r->cut);
        return rc;
    }
    if (fmt == DM_FMT_TABLE)
        rc = dm_buf_printf(out, "nodes (%zu shown, %zu cut)\n", r->nnodes, r->cut);
    else
        rc = 0;
    if (!rc)
        rc = render(out, nnames, 7, r->nnodes, node_rec, &c, fmt);
    if (!rc && fmt != DM_FMT_JSONL)
        rc = dm_buf_puts(out, fmt == DM_FMT_TABLE ? "\nedges\n" : "\n");
    if (!rc)
        rc = render(out, enames, 4, r->nedges, edge_rec, &c, fmt);
    return rc;
}

/* ---- summary ---- */

static void summary_rec(const void *p, size_t i, struct fv *v)
{
    const struct dm_summary_res *r = p;
    memset(v, 0, offsetof(struct fv, tmp));
    v->t = V_U64;
    switch (i) {
    case 0: v->u = r->rows; break;
    case 1:
    case 2:
        if (!r->rows)
            v->t = V_NULL;
        else
            fv_time(v, i == 1 ? r->ts_min : r->ts_max);
        break;
    case 3: v->u = r->sent; break;
    case 4: v->u = r->recv; break;
    case 5: v->u = r->max_sent; break;
    case 6: v->u = r->max_recv; break;
    default: v->u = r->distinct_ips; break;
    }
}

int dm_write_summary(struct dm_buf *out, const struct dm_summary_res *r, enum dm_format fmt)
{
    static const char *const names[] = {"rows", "first", "last", "sent", "recv", "max_sent",
                                        "max_recv", "distinct_ips"};
    if (fmt == DM_FMT_JSON) {
        int rc = render(out, names, 8, 1, summary_rec, r, DM_FMT_JSONL);
        return rc;
    }
    if (fmt != DM_FMT_TABLE)
        return render(out, names, 8, 1, summary_rec, r, fmt);
    int rc = 0;
    for (size_t i = 0; !rc && i < 8; i++) {
        struct fv v;
        summary_rec(r, i, &v);
        rc = dm_buf_printf(out, "%-13s", names[i]);
        if (!rc)
            rc = v.t == V_NULL ? dm_buf_putc(out, '-') : put_text(out, &v);
        if (!rc)
            rc = dm_buf_putc(out, '\n');
    }
    return rc;
}
