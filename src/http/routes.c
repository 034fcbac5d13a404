/* The JSON API: a static {path, handler} table over the engine. Every data endpoint takes
 * the common filter parameters (docs/api.md); handlers build JSON into the request's capped
 * buffer with the engine's output writers. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_batch.h"
#include "dm_engine.h"
#include "dm_hunt.h"
#include "dm_parquet.h"
#include "http_int.h"
#include "banned.h"

#define FILTER_PARAMS "q", "from", "to", "sent_min", "sent_max", "recv_min", "recv_max"

unsigned dm__http_status_for(int code)
{
    switch (code) {
    case -EINVAL:
    case DM_EPARSE: return 400;
    case DM_ETOOBIG: return 413;
    case -ENOMEM: return 503;
    default: return 500;
    }
}

int dm__http_error_json(struct dm_buf *b, const char *msg, int64_t offset)
{
    dm_buf_reset(b);
    int rc = dm_buf_puts(b, "{\"error\": ");
    if (!rc)
        rc = dm_buf_json_str(b, msg, strlen(msg));
    if (!rc && offset >= 0)
        rc = dm_buf_printf(b, ", \"offset\": %" PRId64, offset);
    if (!rc)
        rc = dm_buf_puts(b, "}\n");
    return rc;
}

/* Compiles the request's filter: the `q` expression (checked on its own first, so error
 * positions refer to what the user typed) and the range parameters, ANDed. The caller
 * frees *out (NULL when the filter matches everything). */
static int compile_filter(struct dm__http_req *r, struct dm_filter **out)
{
    const struct dm_table *t = r->app->table;
    struct dm_http_filter hf;
    *out = NULL;
    int rc = dm_http_filter_parse(&r->params, &hf, &r->err);
    if (rc)
        return rc;
    if (dm_http_filter_is_empty(&hf))
        return 0;
    struct dm_filter *f = NULL;
    if (hf.q) {
        rc = dm_filter_compile(&f, t, hf.q, hf.qlen, &r->err);
        if (rc)
            return rc;
        dm_filter_free(f);
        f = NULL;
    }
    struct dm_buf e;
    dm_buf_init(&e, DM_HTTP_MAX_EXPR + 1024);
    rc = 0;
    if (hf.q)
        rc = dm_buf_printf(&e, "(%.*s)", (int)hf.qlen, hf.q);
    char tb[32];
    const char *and = hf.q ? " and " : "";
    if (!rc && hf.from_us != INT64_MIN) {
        dm_time_format(hf.from_us, tb);
        rc = dm_buf_printf(&e, "%sts >= %s", and, tb);
        and = " and ";
    }
    if (!rc && hf.to_us != INT64_MAX) {
        dm_time_format(hf.to_us, tb);
        rc = dm_buf_printf(&e, "%sts < %s", and, tb);
        and = " and ";
    }
    static const char *const names[4] = {"sent >= ", "sent <= ", "recv >= ", "recv <= "};
    const uint64_t vals[4] = {hf.sent_min, hf.sent_max, hf.recv_min, hf.recv_max};
    const uint64_t none[4] = {0, UINT64_MAX, 0, UINT64_MAX};
    for (int i = 0; i < 4 && !rc; i++) {
        if (vals[i] == none[i])
            continue;
        rc = dm_buf_printf(&e, "%s%s%" PRIu64, and, names[i], vals[i]);
        and = " and ";
    }
    if (rc) {
        dm_buf_release(&e);
        return dm_error_set(&r->err, rc, "filter too long");
    }
    rc = dm_filter_compile(&f, t, e.data, e.len, &r->err);
    dm_buf_release(&e);
    if (rc) {
        r->err.offset = -1; /* an offset in the combined text would mislead */
        return rc;
    }
    *out = f;
    return 0;
}

/* Resolves a column name for sort/columns: any name dm_table_column knows, or "bytes". */
static int column_of(const struct dm_table *t, const char *name, size_t n)
{
    if (n == 5 && !memcmp(name, "bytes", 5))
        return DM_COL_BYTES;
    return dm_table_column(t, name, n);
}

/* The `columns` parameter (comma-separated names) or the default column set. Returns the
 * count, or a negative code. cols has room for t->ncols. */
static int columns_param(struct dm__http_req *r, int *cols)
{
    const struct dm_table *t = r->app->table;
    const char *s = dm_http_param(&r->params, "columns");
    if (!s || !*s)
        return (int)dm_columns_default(t, cols);
    size_t n = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int c = len ? dm_table_column(t, s, len) : -1;
        if (c < 0)
            return dm_error_set(&r->err, -EINVAL, "parameter 'columns': unknown column '%.*s'",
                                (int)(len > 64 ? 64 : len), s);
        for (size_t i = 0; i < n; i++)
            if (cols[i] == c)
                return dm_error_set(&r->err, -EINVAL,
                                    "parameter 'columns': column '%.*s' listed twice",
                                    (int)(len > 64 ? 64 : len), s);
        if (n == t->ncols)
            return dm_error_set(&r->err, -EINVAL, "parameter 'columns': too many columns");
        cols[n++] = c;
        s = e ? e + 1 : s + len;
    }
    return (int)n;
}

static int put_col_names(struct dm_buf *b, const struct dm_table *t, const int *cols, size_t n)
{
    int rc = dm_buf_putc(b, '[');
    for (size_t i = 0; i < n && !rc; i++) {
        const char *name = t->cols[cols[i]].name;
        if (i)
            rc = dm_buf_puts(b, ", ");
        if (!rc)
            rc = dm_buf_json_str(b, name, strlen(name));
    }
    return rc ? rc : dm_buf_putc(b, ']');
}

static int body_error(struct dm__http_req *r, int rc)
{
    if (rc == DM_ETOOBIG)
        return dm_error_set(&r->err, rc, "result larger than %u MiB; narrow the filter",
                            DM_HTTP_MAX_BODY >> 20);
    return dm_error_set(&r->err, rc, "out of memory");
}

/* ---- /api/meta ---------------------------------------------------------------------------- */

static const char *kind_name(enum dm_ckind k)
{
    switch (k) {
    case DM_CK_UINT: return "uint";
    case DM_CK_INT: return "int";
    case DM_CK_F64: return "float";
    case DM_CK_DICT: return "string";
    case DM_CK_IP: return "ip";
    }
    return "unknown";
}

static int json_kv_str(struct dm_buf *b, const char *key, const char *val, int comma)
{
    int rc = dm_buf_printf(b, "%s\"%s\": ", comma ? ", " : "", key);
    if (rc)
        return rc;
    return val ? dm_buf_json_str(b, val, strlen(val)) : dm_buf_puts(b, "null");
}

static int h_meta(struct dm__http_req *r)
{
    static const char *const allowed[] = {NULL};
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    const struct dm_table *t = r->app->table;
    const struct dm_config *cfg = r->app->config;
    struct dm_summary_res s;
    if ((rc = dm_summary(t, NULL, &s, &r->err)))
        return rc;
    int *cols = dm_calloc(t->ncols ? t->ncols : 1, sizeof(int));
    if (!cols)
        return dm_error_set(&r->err, -ENOMEM, "out of memory");
    size_t ndef = dm_columns_default(t, cols);
    struct dm_buf *b = &r->body;
    char t0[32] = "", t1[32] = "";
    if (s.rows) {
        dm_time_format(s.ts_min, t0);
        dm_time_format(s.ts_max, t1);
    }
    rc = dm_buf_putc(b, '{');
    if (!rc)
        rc = json_kv_str(b, "version", r->app->version, 0);
    if (!rc)
        rc = json_kv_str(b, "data", r->app->data_name, 1);
    if (!rc)
        rc = dm_buf_printf(b, ", \"rows\": %" PRIu64 ", \"distinct_ips\": %" PRIu64, s.rows,
                           s.distinct_ips);
    if (!rc)
        rc = json_kv_str(b, "ts_min", s.rows ? t0 : NULL, 1);
    if (!rc)
        rc = json_kv_str(b, "ts_max", s.rows ? t1 : NULL, 1);
    if (!rc)
        rc = dm_buf_printf(b,
                           ", \"max_sent\": %" PRIu64 ", \"max_recv\": %" PRIu64
                           ", \"sent\": %" PRIu64 ", \"recv\": %" PRIu64,
                           s.max_sent, s.max_recv, s.sent, s.recv);
    if (!rc)
        rc = dm_buf_puts(b, ", \"columns\": [");
    for (size_t i = 0; i < t->ncols && !rc; i++) {
        const struct dm_column *c = &t->cols[i];
        if (!c->width)
            continue; /* not in the data */
        int shown = 0;
        for (size_t k = 0; k < ndef; k++)
            shown |= cols[k] == (int)i;
        rc = dm_buf_printf(b, "%s{\"name\": ", b->data[b->len - 1] == '[' ? "" : ", ");
        if (!rc)
            rc = dm_buf_json_str(b, c->name, strlen(c->name));
        if (!rc)
            rc = dm_buf_printf(b, ", \"kind\": \"%s\", \"canonical\": %s, \"shown\": %s}",
                               i == DM_C_TS ? "time" : kind_name(c->kind),
                               i < DM_C_NCANON ? "true" : "false", shown ? "true" : "false");
    }
    if (!rc)
        rc = dm_buf_puts(b, "], \"default_columns\": ");
    if (!rc)
        rc = put_col_names(b, t, cols, ndef);
    if (!rc)
        rc = dm_buf_puts(b, ", \"template\": {");
    if (!rc)
        rc = json_kv_str(b, "site", cfg->site, 0);
    if (!rc)
        rc = json_kv_str(b, "title", cfg->title, 1);
    if (!rc)
        rc = json_kv_str(b, "header_background", cfg->header_background, 1);
    if (!rc)
        rc = dm_buf_printf(b, ", \"theme_toggle\": %s}",
                           cfg->theme_toggle < 0 ? "null"
                           : cfg->theme_toggle  ? "true"
                                                : "false");
    if (!rc)
        rc = dm_buf_puts(
            b, ", \"legend\": ["
               "{\"kind\": \"external\", \"shape\": \"circle\", \"color\": \"blue\", "
               "\"label\": \"External unknown IP\"}, "
               "{\"kind\": \"internal\", \"shape\": \"circle\", \"color\": \"green\", "
               "\"label\": \"Internal unknown IP\"}, "
               "{\"kind\": \"external_filtered\", \"shape\": \"square\", \"color\": \"blue\", "
               "\"label\": \"External filtered IP\"}, "
               "{\"kind\": \"internal_filtered\", \"shape\": \"square\", \"color\": \"green\", "
               "\"label\": \"Internal filtered IP\"}, "
               "{\"kind\": \"mail\", \"shape\": \"diamond\", \"color\": \"green\", "
               "\"label\": \"Internal MAIL IP\"}, "
               "{\"kind\": \"db\", \"shape\": \"triangle\", \"color\": \"green\", "
               "\"label\": \"Internal DB IP\"}]");
    if (!rc)
        rc = dm_buf_printf(b,
                           ", \"limits\": {\"limit\": %d, \"top\": %d, \"bins\": %d, "
                           "\"graph_ips\": %d, \"nodes\": %d, \"expr\": %d}",
                           DM_HTTP_MAX_LIMIT, DM_HTTP_MAX_TOP, DM_HTTP_MAX_BINS,
                           DM_HTTP_MAX_GRAPH_IPS, DM_HTTP_MAX_NODES, DM_HTTP_MAX_EXPR);
    if (!rc)
        rc = dm_buf_printf(b, ", \"findings\": %s}\n",
                           dm__http_route_find("/api/findings") ? "true" : "false");
    dm_free(cols);
    return rc ? body_error(r, rc) : 0;
}

/* ---- /api/flows --------------------------------------------------------------------------- */

static int h_flows(struct dm__http_req *r)
{
    static const char *const allowed[] = {FILTER_PARAMS, "sort", "order", "offset", "limit",
                                          "columns", NULL};
    static const char *const orders[] = {"asc", "desc", NULL};
    const struct dm_table *t = r->app->table;
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    struct dm_rows_req q = {0};
    q.sort_col = DM_C_TS;
    const char *sort = dm_http_param(&r->params, "sort");
    if (sort && *sort) {
        q.sort_col = column_of(t, sort, strlen(sort));
        if (q.sort_col == -1)
            return dm_error_set(&r->err, -EINVAL, "parameter 'sort': unknown column '%.64s'",
                                sort);
    }
    int order;
    uint64_t limit;
    if ((rc = dm_http_param_enum(&r->params, "order", orders, 0, &order, &r->err)) ||
        (rc = dm_http_param_u64(&r->params, "offset", 0, (uint64_t)1 << 48, 0, &q.offset,
                                &r->err)) ||
        (rc = dm_http_param_u64(&r->params, "limit", 1, DM_HTTP_MAX_LIMIT, 50, &limit,
                                &r->err)))
        return rc;
    q.desc = order == 1;
    q.limit = limit;
    int *cols = dm_calloc(t->ncols ? t->ncols : 1, sizeof(int));
    if (!cols)
        return dm_error_set(&r->err, -ENOMEM, "out of memory");
    int ncols = columns_param(r, cols);
    if (ncols < 0) {
        dm_free(cols);
        return ncols;
    }
    struct dm_filter *f = NULL;
    if ((rc = compile_filter(r, &f))) {
        dm_free(cols);
        return rc;
    }
    q.filter = f;
    struct dm_rows_res res = {0};
    rc = dm_rows(t, &q, &res, &r->err);
    if (!rc) {
        struct dm_buf *b = &r->body;
        int w = dm_buf_printf(b, "{\"total\": %" PRIu64 ", \"offset\": %" PRIu64
                                 ", \"limit\": %" PRIu64 ", \"columns\": ",
                              res.total, q.offset, limit);
        if (!w)
            w = put_col_names(b, t, cols, (size_t)ncols);
        if (!w)
            w = dm_buf_puts(b, ", \"rows\": ");
        if (!w)
            w = dm_write_rows(b, t, &res, cols, (size_t)ncols, DM_FMT_JSON);
        if (!w)
            w = dm_buf_puts(b, "}\n");
        if (w)
            rc = body_error(r, w);
    }
    dm_rows_res_release(&res);
    dm_filter_free(f);
    dm_free(cols);
    return rc;
}

/* ---- /api/top ----------------------------------------------------------------------------- */

static int h_top(struct dm__http_req *r)
{
    static const char *const allowed[] = {FILTER_PARAMS, "key", "by", "limit", NULL};
    const struct dm_table *t = r->app->table;
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    struct dm_top_req q = {0};
    const char *key = dm_http_param(&r->params, "key");
    if (!key || !*key)
        key = "src";
    if ((rc = dm_top_key_parse(t, key, &q.key, &q.extra_col, &r->err)))
        return rc == DM_EPARSE ? -EINVAL : rc;
    const char *by = dm_http_param(&r->params, "by");
    q.by = DM_M_BYTES;
    if (by && *by && dm_metric_parse(by, &q.by))
        return dm_error_set(&r->err, -EINVAL,
                            "parameter 'by': '%.64s' is not one of: flows, sent, recv, bytes, "
                            "peers",
                            by);
    uint64_t limit;
    if ((rc = dm_http_param_u64(&r->params, "limit", 1, DM_HTTP_MAX_TOP, 10, &limit, &r->err)))
        return rc;
    q.limit = (size_t)limit;
    struct dm_filter *f = NULL;
    if ((rc = compile_filter(r, &f)))
        return rc;
    q.filter = f;
    struct dm_top_res res = {0};
    rc = dm_top(t, &q, &res, &r->err);
    if (!rc) {
        struct dm_buf *b = &r->body;
        int w = dm_buf_puts(b, "{\"key\": ");
        if (!w)
            w = dm_buf_json_str(b, key, strlen(key));
        if (!w)
            w = dm_buf_printf(b, ", \"by\": \"%s\", \"groups\": %" PRIu64 ", \"rows\": ",
                              dm_metric_name(q.by), res.groups);
        if (!w)
            w = dm_write_top(b, t, &res, DM_FMT_JSON);
        if (!w)
            w = dm_buf_puts(b, "}\n");
        if (w)
            rc = body_error(r, w);
    }
    dm_top_res_release(&res);
    dm_filter_free(f);
    return rc;
}

/* ---- /api/histogram ----------------------------------------------------------------------- */

static int h_histogram(struct dm__http_req *r)
{
    static const char *const allowed[] = {FILTER_PARAMS, "bucket", NULL};
    const struct dm_table *t = r->app->table;
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    struct dm_hist_req q = {0};
    const char *bucket = dm_http_param(&r->params, "bucket");
    if (bucket && *bucket && dm_bucket_parse(bucket, &q.bucket_us))
        return dm_error_set(&r->err, -EINVAL,
                            "parameter 'bucket': '%.64s' is not one of: auto, 1m, 5m, 15m, 1h, "
                            "6h, 1d",
                            bucket);
    struct dm_filter *f = NULL;
    if ((rc = compile_filter(r, &f)))
        return rc;
    q.filter = f;
    struct dm_hist_res res = {0};
    rc = dm_hist(t, &q, &res, &r->err);
    if (!rc && res.n > DM_HTTP_MAX_BINS)
        rc = dm_error_set(&r->err, -EINVAL,
                          "%zu buckets is more than %d: choose a larger 'bucket' or a shorter "
                          "time range",
                          res.n, DM_HTTP_MAX_BINS);
    if (!rc) {
        struct dm_buf *b = &r->body;
        int w = dm_buf_printf(b, "{\"bucket_us\": %" PRId64 ", \"rows\": ", res.bucket_us);
        if (!w)
            w = dm_write_hist(b, &res, DM_FMT_JSON);
        if (!w)
            w = dm_buf_puts(b, "}\n");
        if (w)
            rc = body_error(r, w);
    }
    dm_hist_res_release(&res);
    dm_filter_free(f);
    return rc;
}

/* ---- /api/graph --------------------------------------------------------------------------- */

static int h_graph(struct dm__http_req *r)
{
    static const char *const allowed[] = {FILTER_PARAMS, "ips", "hops", "max_nodes", NULL};
    const struct dm_table *t = r->app->table;
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    const char *ips = dm_http_param(&r->params, "ips");
    if (!ips || !*ips)
        return dm_error_set(&r->err, -EINVAL,
                            "parameter 'ips' is required (IP addresses or CIDRs, comma "
                            "separated)");
    uint64_t hops, max_nodes;
    if ((rc = dm_http_param_u64(&r->params, "hops", 1, 2, 1, &hops, &r->err)) ||
        (rc = dm_http_param_u64(&r->params, "max_nodes", 1, DM_HTTP_MAX_NODES, 200, &max_nodes,
                                &r->err)))
        return rc;
    struct dm_graph_req q = {0};
    struct dm_cidr *seeds = NULL;
    size_t nseeds = 0;
    if ((rc = dm_graph_seeds_parse(ips, strlen(ips), &seeds, &nseeds, &r->err)))
        return rc == DM_EPARSE ? -EINVAL : rc;
    if (nseeds > DM_HTTP_MAX_GRAPH_IPS) {
        dm_free(seeds);
        return dm_error_set(&r->err, -EINVAL, "parameter 'ips': more than %d addresses",
                            DM_HTTP_MAX_GRAPH_IPS);
    }
    struct dm_filter *f = NULL;
    if ((rc = compile_filter(r, &f))) {
        dm_free(seeds);
        return rc;
    }
    q.filter = f;
    q.seeds = seeds;
    q.nseeds = nseeds;
    q.hops = (int)hops;
    q.max_nodes = (size_t)max_nodes;
    struct dm_graph_res res = {0};
    rc = dm_graph(t, &q, &res, &r->err);
    if (!rc) {
        int w = dm_write_graph(&r->body, t, &res, DM_FMT_JSON);
        if (w)
            rc = body_error(r, w);
    }
    dm_graph_res_release(&res);
    dm_filter_free(f);
    dm_free(seeds);
    return rc;
}

/* ---- /api/findings ------------------------------------------------------------------------ */

/* hunt's ranked findings over the flows selected by `q` (the query --where language), as the
 * JSON contract of docs/hunt.md: {"findings": [...], "hosts": [...]}. */
static int h_findings(struct dm__http_req *r)
{
    static const char *const allowed[] = {"q", "limit", NULL};
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    uint64_t limit;
    if ((rc = dm_http_param_u64(&r->params, "limit", 1, 1000, 100, &limit, &r->err)))
        return rc;
    const char *q = dm_http_param(&r->params, "q");
    rc = dm_hunt_findings(&r->body, r->app->table, q && *q ? q : NULL, (size_t)limit,
                          DM_HUNT_FMT_JSON, &r->err);
    if (rc == DM_EPARSE)
        return -EINVAL;
    if (rc == DM_ETOOBIG)
        return body_error(r, rc);
    return rc;
}

/* ---- /api/export -------------------------------------------------------------------------- */

/* Streams the filtered rows in ts order, one morsel at a time, so memory stays bounded
 * whatever the number of rows. */
struct export {
    const struct dm_table *t;
    struct dm_filter *f;
    enum dm_format fmt;
    int *cols;
    size_t ncols;
    size_t next, end; /* rows still to scan */
    uint32_t *sel;
    void *scratch;
    struct dm_buf out;  /* rendered, not yet sent: out.data[pos..len) */
    size_t pos;
    size_t header_len; /* bytes the writer emits for zero rows (csv: the header line); it
                          repeats them on every call, so they are sent once */
};

static void export_free(void *ctx)
{
    struct export *x = ctx;
    dm_filter_free(x->f);
    dm_free(x->cols);
    dm_free(x->sel);
    dm_free(x->scratch);
    dm_buf_release(&x->out);
    dm_free(x);
}

/* Renders the next morsel with matches into x->out; 0 when done, 1 when data, <0 error. */
static int export_next(struct export *x)
{
    dm_buf_reset(&x->out);
    x->pos = 0;
    while (x->next < x->end) {
        size_t n = x->end - x->next < DM_MORSEL ? x->end - x->next : DM_MORSEL;
        size_t k = dm_filter_eval(x->f, x->next, n, x->sel, x->scratch);
        x->next += n;
        if (!k)
            continue;
        struct dm_rows_res res = {.total = k, .n = k, .rows = x->sel};
        int rc = dm_write_rows(&x->out, x->t, &res, x->cols, x->ncols, x->fmt);
        if (rc)
            return rc;
        x->pos = x->header_len;
        return 1;
    }
    return 0;
}

static ssize_t export_fill(void *ctx, char *buf, size_t max)
{
    struct export *x = ctx;
    while (x->pos == x->out.len) {
        int rc = export_next(x);
        if (rc <= 0)
            return rc;
    }
    size_t n = x->out.len - x->pos;
    if (n > max)
        n = max;
    memcpy(buf, x->out.data + x->pos, n);
    x->pos += n;
    return (ssize_t)n;
}

/* Parquet export: the matching rows are written to a private temporary file with the
 * Parquet writer (canonical types: ts TIMESTAMP(MICROS, UTC), IPs and dictionary columns
 * STRING, ports INTEGER(16, unsigned), proto INTEGER(8, unsigned), counters INT64), which is
 * unlinked at once and streamed from its descriptor. */
struct pq_export {
    int fd;
};

static ssize_t pq_fill(void *ctx, char *buf, size_t max)
{
    struct pq_export *x = ctx;
    for (;;) {
        ssize_t n = read(x->fd, buf, max);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -EIO : n;
    }
}

static void pq_free(void *ctx)
{
    struct pq_export *x = ctx;
    close(x->fd);
    dm_free(x);
}

static void pq_spec(const struct dm_table *t, int col, struct dm_pq_column_spec *s,
                    enum dm_vtype *vt)
{
    const struct dm_column *c = &t->cols[col];
    memset(s, 0, sizeof(*s));
    s->name = c->name;
    s->optional = col != DM_C_TS;
    if (col == DM_C_TS) {
        s->type = DM_PQ_INT64;
        s->logical = DM_PQ_LOG_TIMESTAMP;
        s->ts_unit = DM_PQ_MICROS;
        s->ts_utc = 1;
        *vt = DM_I64;
    } else if (col == DM_C_SPORT || col == DM_C_DPORT || col == DM_C_PROTO) {
        s->type = DM_PQ_INT32;
        s->logical = DM_PQ_LOG_INTEGER;
        s->int_bits = col == DM_C_PROTO ? 8 : 16;
        *vt = DM_I32;
    } else if (c->kind == DM_CK_IP || c->kind == DM_CK_DICT) {
        s->type = DM_PQ_BYTE_ARRAY;
        s->logical = DM_PQ_LOG_STRING;
        *vt = DM_STR;
    } else if (c->kind == DM_CK_F64) {
        s->type = DM_PQ_DOUBLE;
        *vt = DM_F64;
    } else {
        s->type = DM_PQ_INT64;
        if (c->kind == DM_CK_UINT) {
            s->logical = DM_PQ_LOG_INTEGER;
            s->int_bits = 64;
        }
        *vt = DM_I64;
    }
}

/* Appends rows sel[0..n) to b. 0 or a negative code. */
static int pq_rows(struct dm_batch *b, const struct dm_table *t, const int *cols, size_t ncols,
                   const uint32_t *sel, size_t n)
{
    int rc = dm_batch_reserve(b, n);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t row = sel[i];
        for (size_t k = 0; k < ncols && !rc; k++) {
            const struct dm_column *c = &t->cols[cols[k]];
            if (!dm_col_present(c, row)) {
                rc = dm_batch_set_null(b, k);
                continue;
            }
            uint64_t v = c->kind == DM_CK_INT || c->kind == DM_CK_F64 ? 0 : dm_col_u64(c, row);
            switch (b->cols[k].type) {
            case DM_STR:
                if (c->kind == DM_CK_IP) {
                    char ip[DM_IP_STRLEN];
                    size_t len = dm_table_ip_text(t, (uint32_t)v, ip);
                    rc = len ? dm_batch_set_str(b, k, ip, len) : dm_batch_set_null(b, k);
                } else if (v < c->dict.n) {
                    rc = dm_batch_set_str(b, k, c->dict.s[v], c->dict.len[v]);
                } else {
                    rc = dm_batch_set_null(b, k);
                }
                break;
            case DM_I32: dm_batch_set_i32(b, k, (int32_t)v); break;
            case DM_F64: dm_batch_set_f64(b, k, dm_col_f64(c, row)); break;
            default:
                dm_batch_set_i64(b, k, c->kind == DM_CK_INT ? dm_col_i64(c, row) : (int64_t)v);
                break;
            }
        }
        if (!rc)
            rc = dm_batch_commit_row(b);
    }
    return rc;
}

static int export_parquet(struct dm__http_req *r, struct export *x)
{
    const struct dm_table *t = x->t;
    int rc = 0;
    char dir[] = "/tmp/datamate-export-XXXXXX";
    if (!mkdtemp(dir))
        return dm_error_set(&r->err, -EIO, "cannot create a temporary directory: %s",
                            strerror(errno));
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/flows.parquet", dir);
    struct dm_pq_column_spec *specs = dm_calloc(x->ncols, sizeof(*specs));
    enum dm_vtype *types = dm_calloc(x->ncols, sizeof(*types));
    struct dm_batch b = {0};
    struct dm_pq_writer *w = NULL;
    int fd = -1;
    if (!specs || !types) {
        rc = dm_error_set(&r->err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < x->ncols; k++)
        pq_spec(t, x->cols[k], &specs[k], &types[k]);
    struct dm_pq_writer_opts o;
    dm_pq_writer_opts_default(&o);
    if ((rc = dm_batch_init(&b, types, x->ncols, DM_MORSEL)) ||
        (rc = dm_pq_writer_open(&w, path, specs, x->ncols, &o, &r->err)))
        goto out;
    while (x->next < x->end) {
        size_t n = x->end - x->next < DM_MORSEL ? x->end - x->next : DM_MORSEL;
        size_t k = dm_filter_eval(x->f, x->next, n, x->sel, x->scratch);
        x->next += n;
        if (!k)
            continue;
        dm_batch_clear(&b);
        if ((rc = pq_rows(&b, t, x->cols, x->ncols, x->sel, k)) ||
            (rc = dm_pq_writer_write(w, &b, &r->err)))
            goto out;
    }
    rc = dm_pq_writer_close(w, &r->err);
    w = NULL;
    if (rc)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = dm_error_set(&r->err, -EIO, "cannot reopen the export: %s", strerror(errno));
        goto out;
    }
    struct pq_export *px = dm_malloc(sizeof(*px));
    if (!px) {
        close(fd);
        rc = dm_error_set(&r->err, -ENOMEM, "out of memory");
        goto out;
    }
    px->fd = fd;
    r->stream.fill = pq_fill;
    r->stream.free = pq_free;
    r->stream.ctx = px;
out:
    if (rc && !r->err.msg[0])
        dm_error_set(&r->err, rc, "parquet export failed: %s", dm_strerror(rc));
    dm_pq_writer_abort(w);
    dm_batch_release(&b);
    dm_free(specs);
    dm_free(types);
    unlink(path); /* the open descriptor keeps the data until the download ends */
    rmdir(dir);
    return rc;
}

static int h_export(struct dm__http_req *r)
{
    static const char *const allowed[] = {FILTER_PARAMS, "format", "columns", NULL};
    static const char *const formats[] = {"csv", "jsonl", "parquet", NULL};
    const struct dm_table *t = r->app->table;
    int rc = dm_http_params_check(&r->params, allowed, &r->err);
    if (rc)
        return rc;
    int fmt;
    if ((rc = dm_http_param_enum(&r->params, "format", formats, 0, &fmt, &r->err)))
        return rc;
    struct export *x = dm_calloc(1, sizeof(*x));
    if (!x)
        return dm_error_set(&r->err, -ENOMEM, "out of memory");
    x->t = t;
    x->fmt = fmt == 0 ? DM_FMT_CSV : DM_FMT_JSONL;
    dm_buf_init(&x->out, DM_HTTP_MAX_BODY);
    x->cols = dm_calloc(t->ncols ? t->ncols : 1, sizeof(int));
    x->sel = dm_calloc(DM_MORSEL, sizeof(uint32_t));
    if (!x->cols || !x->sel) {
        export_free(x);
        return dm_error_set(&r->err, -ENOMEM, "out of memory");
    }
    int ncols = columns_param(r, x->cols);
    if (ncols < 0) {
        export_free(x);
        return ncols;
    }
    x->ncols = (size_t)ncols;
    if ((rc = compile_filter(r, &x->f))) {
        export_free(x);
        return rc;
    }
    size_t ss = dm_filter_scratch_size(x->f);
    x->scratch = dm_malloc(ss ? ss : 1);
    if (!x->scratch) {
        export_free(x);
        return dm_error_set(&r->err, -ENOMEM, "out of memory");
    }
    if (x->f)
        dm_filter_rows(x->f, &x->next, &x->end);
    else
        x->end = t->nrows;
    /* The header alone (zero rows): csv repeats it at the start of every call. */
    struct dm_rows_res none = {0};
    rc = dm_write_rows(&x->out, t, &none, x->cols, x->ncols, x->fmt);
    if (rc) {
        export_free(x);
        return body_error(r, rc);
    }
    x->header_len = x->out.len; /* sent first, even when nothing matches */
    x->pos = 0;
    if (fmt == 2) {
        rc = export_parquet(r, x);
        export_free(x);
        if (rc)
            return rc;
        r->content_type = "application/vnd.apache.parquet";
        snprintf(r->disposition, sizeof(r->disposition),
                 "attachment; filename=\"flows.parquet\"");
        return 0;
    }
    r->content_type = x->fmt == DM_FMT_CSV ? "text/csv; charset=utf-8"
                                           : "application/x-ndjson; charset=utf-8";
    snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"flows.%s\"",
             x->fmt == DM_FMT_CSV ? "csv" : "jsonl");
    r->stream.fill = export_fill;
    r->stream.free = export_free;
    r->stream.ctx = x;
    return 0;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const struct dm__http_route routes[] = {
    {"/api/meta", h_meta},
    {"/api/flows", h_flows},
    {"/api/top", h_top},
    {"/api/histogram", h_histogram},
    {"/api/graph", h_graph},
    {"/api/findings", h_findings},
    {"/api/export", h_export},
};

const struct dm__http_route *dm__http_route_find(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (!strcmp(routes[i].path, path))
            return &routes[i];
    return NULL;
}
