/* datamate query DATA [--where EXPR] (--rows | --top KEY | --histogram [B] | --graph IPS |
 * --summary) [--format F]: the engine's operations from the terminal. */
#include <ctype.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_cli.h"
#include "dm_engine.h"
#include "dm_pool.h"
#include "banned.h"

#define MAX_NAMES 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: datamate query DATA [--where EXPR] [--config FILE] OPERATION [--format FMT]\n"
            "\n"
            "Loads DATA (a Parquet file, a directory of Parquet files, or a glob) and runs one\n"
            "query. Operations:\n"
            "  --rows               matching flows (the default)\n"
            "      --sort COL[:desc]  sort by any column (default ts); nulls last\n"
            "      --offset N         skip N rows\n"
            "      --limit N          at most N rows (default 20; 0 = all, in time order)\n"
            "      --columns A,B,...  columns to print (default: config targeted_cols, else all)\n"
            "  --top KEY            top-N by src, dst, pair, dport, sport, proto, action or an\n"
            "                       extra column\n"
            "      --by METRIC        flows, sent, recv, bytes (default) or peers\n"
            "      --limit N          number of groups (default 10)\n"
            "  --histogram [BUCKET] flows / sent / recv / egress per 1m, 5m, 15m, 1h, 6h, 1d\n"
            "                       (default: automatic)\n"
            "  --graph IP[,IP...]   the communication graph around IPs / CIDRs\n"
            "      --hops N           1 (default) or 2\n"
            "      --max-nodes N      node cap (default 200): the top peers by bytes are kept\n"
            "  --summary            rows, time range, totals, max sent / recv, distinct IPs\n"
            "\n"
            "options:\n"
            "  -w, --where EXPR     filter expression (see docs/filter.md), e.g.\n"
            "                       \"src internal and dst external and sent > 10M\"\n"
            "  -c, --config FILE    config.json (known_servers, internal_networks, columns, ...)\n"
            "  -f, --format FMT     table (default), csv, json or jsonl\n"
            "  -t, --threads N      worker threads (default: all cores)\n"
            "  -q, --quiet          no progress bar\n"
            "  -h, --help           this help\n"
            "\n"
            "examples:\n"
            "  datamate query flows.parquet --where 'dport = 443' --sort sent:desc --limit 10\n"
            "  datamate query data/ --top src --by sent --where 'dst external'\n"
            "  datamate query flows.parquet --histogram 1h --format csv\n"
            "  datamate query flows.parquet --graph 10.0.0.5 --format json\n");
}

/* ---- progress bar (stderr is a terminal) ---- */

struct progress {
    pthread_mutex_t mu;
    double last;
    int drawn;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    pthread_mutex_lock(&p->mu);
    double t = now();
    if (t - p->last >= 0.1 || done == total) {
        p->last = t;
        int pct = total ? (int)(done * 100 / total) : 100;
        int bar = pct / 4;
        fprintf(stderr, "\rloading [%.*s%*s] %3d%% %llu/%llu rows", bar,
                "#########################", 25 - bar, "", pct, (unsigned long long)done,
                (unsigned long long)total);
        p->drawn = 1;
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- helpers ---- */

static int write_out(struct dm_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    dm_buf_reset(b);
    return 0;
}

/* Prints a filter error with the expression and a caret under the position. */
static void filter_error(const char *expr, const struct dm_error *err)
{
    fprintf(stderr, "datamate query: %s\n", err->msg);
    if (err->offset < 0 || strchr(expr, '\n') || strlen(expr) > 200)
        return;
    fputs("  ", stderr);
    for (const char *p = expr; *p; p++)
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, stderr);
    fprintf(stderr, "\n  %*s^\n", (int)err->offset, "");
}

/* Identifier-like words of an expression (possible extra column names to load). */
static size_t words_of(const char *s, char **out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s && !(isalpha((unsigned char)*s) || *s == '_'))
            s++;
        const char *b = s;
        while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '@'))
            s++;
        if (s > b && (out[n] = dm_strndup(b, (size_t)(s - b))))
            n++;
    }
    return n;
}

static size_t split_commas(const char *s, char **out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ',' || *s == ' ')
            s++;
        const char *b = s;
        while (*s && *s != ',')
            s++;
        const char *e = s;
        while (e > b && e[-1] == ' ')
            e--;
        if (e > b && (out[n] = dm_strndup(b, (size_t)(e - b))))
            n++;
    }
    return n;
}

enum op { OP_ROWS, OP_TOP, OP_HIST, OP_GRAPH, OP_SUMMARY };

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"where", required_argument, NULL, 'w'},   {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},  {"threads", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"rows", no_argument, NULL, 'R'},          {"sort", required_argument, NULL, 'S'},
        {"offset", required_argument, NULL, 'O'},  {"limit", required_argument, NULL, 'L'},
        {"columns", required_argument, NULL, 'C'}, {"top", required_argument, NULL, 'T'},
        {"by", required_argument, NULL, 'B'},      {"histogram", optional_argument, NULL, 'H'},
        {"graph", required_argument, NULL, 'G'},   {"hops", required_argument, NULL, 'P'},
        {"max-nodes", required_argument, NULL, 'M'}, {"summary", no_argument, NULL, 'U'},
        {NULL, 0, NULL, 0}};
    const char *where = "", *config = NULL, *sort = NULL, *columns = NULL, *topkey = NULL;
    const char *by = NULL, *bucket = NULL, *graph = NULL, *threads = NULL;
    enum dm_format fmt = DM_FMT_TABLE;
    int quiet = 0, nops = 0, have_limit = 0;
    enum op op = OP_ROWS;
    unsigned long long offset = 0, limit = 0, hops = 1, max_nodes = 200;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":w:c:f:t:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': where = optarg; break;
        case 'c': config = optarg; break;
        case 'f':
            if (dm_format_parse(optarg, &fmt))
                return dm_cli_usage_error("query", "unknown format '%s' (table, csv, json, jsonl)",
                                          optarg);
            break;
        case 't': threads = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case 'R': op = OP_ROWS, nops++; break;
        case 'S': sort = optarg; break;
        case 'C': columns = optarg; break;
        case 'O':
            if (dm_cli_parse_count(optarg, &offset))
                return dm_cli_usage_error("query", "bad --offset '%s'", optarg);
            break;
        case 'L':
            if (dm_cli_parse_count(optarg, &limit))
                return dm_cli_usage_error("query", "bad --limit '%s'", optarg);
            have_limit = 1;
            break;
        case 'T': op = OP_TOP, nops++, topkey = optarg; break;
        case 'B': by = optarg; break;
        case 'H':
            op = OP_HIST, nops++;
            bucket = optarg;
            break;
        case 'G': op = OP_GRAPH, nops++, graph = optarg; break;
        case 'P':
            if (dm_cli_parse_count(optarg, &hops) || hops < 1 || hops > 2)
                return dm_cli_usage_error("query", "--hops must be 1 or 2");
            break;
        case 'M':
            if (dm_cli_parse_count(optarg, &max_nodes) || max_nodes < 1 || max_nodes > 100000)
                return dm_cli_usage_error("query", "bad --max-nodes '%s' (1..100000)", optarg);
            break;
        case 'U': op = OP_SUMMARY, nops++; break;
        case ':': return dm_cli_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
        default: return dm_cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
        }
    }
    /* "--histogram 1h": the bucket is the next word, which getopt left among the operands */
    int64_t bucket_us = 0;
    if (op == OP_HIST && !bucket && argc - optind == 2) {
        for (int i = optind; i < argc; i++)
            if (dm_bucket_parse(argv[i], &bucket_us) == 0) {
                bucket = argv[i];
                argv[i] = argv[optind];
                argv[optind++] = (char *)bucket;
                break;
            }
    }
    if (bucket && dm_bucket_parse(bucket, &bucket_us))
        return dm_cli_usage_error("query", "unknown bucket '%s' (1m, 5m, 15m, 1h, 6h, 1d or auto)",
                                  bucket);
    if (nops > 1)
        return dm_cli_usage_error("query",
                                  "choose one of --rows, --top, --histogram, --graph, --summary");
    if (optind >= argc)
        return dm_cli_usage_error("query", "missing DATA (a Parquet file, directory or glob)");
    if (optind + 1 < argc)
        return dm_cli_usage_error("query", "unexpected argument '%s'", argv[optind + 1]);
    const char *data = argv[optind];
    enum dm_metric metric = DM_M_BYTES;
    if (by && dm_metric_parse(by, &metric))
        return dm_cli_usage_error("query", "unknown metric '%s' (flows, sent, recv, bytes, peers)",
                                  by);
    if (strlen(where) > DM_FILTER_MAX_LEN)
        return dm_cli_usage_error("query", "--where expression longer than %d bytes",
                                  DM_FILTER_MAX_LEN);
    if (threads && !dm_cli_threads(threads) && strcmp(threads, "0"))
        return dm_cli_usage_error("query", "bad --threads '%s'", threads);

    int status = 1;
    struct dm_config cfg;
    struct dm_error err;
    dm_error_clear(&err);
    struct dm_pool *pool = NULL;
    struct dm_table *t = NULL;
    struct dm_filter *f = NULL;
    struct dm_buf out;
    dm_buf_init(&out, DM_BUF_UNLIMITED);
    char *names[MAX_NAMES * 3];
    size_t nnames = 0;
    struct dm_cidr *seeds = NULL;
    size_t nseeds = 0;
    if (dm_config_init(&cfg)) {
        dm_cli_fail("out of memory");
        goto done;
    }
    if (config && dm_config_load(&cfg, config, &err)) {
        dm_cli_fail("%s", err.msg);
        status = 1;
        goto done;
    }
    for (size_t i = 0; i < cfg.nwarnings; i++)
        fprintf(stderr, "datamate: %s: %s\n", config, cfg.warnings[i]);
    if (op == OP_GRAPH && dm_graph_seeds_parse(graph, strlen(graph), &seeds, &nseeds, &err)) {
        status = dm_cli_usage_error("query", "--graph: %s", err.msg);
        goto done;
    }
    pool = dm_pool_new(threads ? dm_cli_threads(threads) : 0);
    if (!pool) {
        dm_cli_fail("cannot start worker threads");
        goto done;
    }
    /* extra columns: --columns, the top key, words of the expression, config targeted_cols */
    if (columns)
        nnames += split_commas(columns, names + nnames, MAX_NAMES);
    if (topkey && nnames < MAX_NAMES * 3)
        nnames += (names[nnames] = dm_strdup(topkey)) != NULL;
    nnames += words_of(where, names + nnames, MAX_NAMES);
    for (size_t i = 0; i < cfg.ntargeted && nnames < MAX_NAMES * 3; i++)
        nnames += (names[nnames] = dm_strdup(cfg.targeted_cols[i])) != NULL;
    struct progress prog = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    struct dm_load_opts lo = {&cfg, pool, (const char *const *)names, nnames, NULL, NULL};
    if (!quiet && isatty(2)) {
        lo.progress = progress_cb;
        lo.progress_ctx = &prog;
    }
    int rc = dm_table_load(&t, data, &lo, &err);
    if (prog.drawn)
        fprintf(stderr, "\r%60s\r", "");
    if (rc) {
        dm_cli_fail("%s", err.msg);
        goto done;
    }
    if (t->rows_dropped || t->bad_ips || t->bad_values)
        fprintf(stderr,
                "datamate: %llu rows without a valid timestamp dropped, %llu values not IP "
                "addresses, %llu bad numbers read as null\n",
                (unsigned long long)t->rows_dropped, (unsigned long long)t->bad_ips,
                (unsigned long long)t->bad_values);
    int frc = dm_filter_compile(&f, t, where, strlen(where), &err);
    if (frc) {
        filter_error(where, &err);
        status = frc == DM_EPARSE ? 2 : 1; /* a bad expression is a usage error, OOM is not */
        goto done;
    }
    rc = 0;
    switch (op) {
    case OP_ROWS: {
        int cols[256 + DM_C_NCANON];
        size_t nc = 0;
        if (columns) {
            char *cn[MAX_NAMES];
            size_t k = split_commas(columns, cn, MAX_NAMES);
            for (size_t i = 0; i < k; i++) {
                int c = dm_table_column(t, cn[i], strlen(cn[i]));
                if (c < 0 && status == 1)
                    status = dm_cli_usage_error("query", "unknown column '%s'", cn[i]), rc = -1;
                else if (c >= 0)
                    cols[nc++] = c;
            }
            for (size_t i = 0; i < k; i++)
                dm_free(cn[i]);
            if (rc)
                goto done;
        } else {
            nc = dm_columns_default(t, cols);
        }
        struct dm_rows_req q = {f, DM_C_TS, 0, offset, have_limit ? limit : 20};
        if (sort) {
            const char *colon = strchr(sort, ':');
            size_t n = colon ? (size_t)(colon - sort) : strlen(sort);
            if (colon && strcmp(colon, ":desc") && strcmp(colon, ":asc")) {
                status = dm_cli_usage_error("query", "bad --sort '%s' (COL or COL:desc)", sort);
                goto done;
            }
            q.desc = colon && !strcmp(colon, ":desc");
            q.sort_col = n == 5 && !strncmp(sort, "bytes", 5) ? DM_COL_BYTES
                                                              : dm_table_column(t, sort, n);
            if (q.sort_col == -1) {
                status = dm_cli_usage_error("query", "unknown sort column '%.*s'", (int)n, sort);
                goto done;
            }
        }
        if (have_limit && !limit && q.sort_col == DM_C_TS) {
            /* every matching row, streamed page by page in time order */
            q.limit = 100000;
            for (uint64_t first = 1;; first = 0) {
                struct dm_rows_res r;
                if ((rc = dm_rows(t, &q, &r, &err)))
                    break;
                if (first && fmt == DM_FMT_JSON)
                    rc = dm_buf_putc(&out, '[');
                struct dm_buf page;
                dm_buf_init(&page, DM_BUF_UNLIMITED);
                enum dm_format pf = fmt == DM_FMT_JSON ? DM_FMT_JSONL : fmt;
                if (!rc)
                    rc = dm_write_rows(&page, t, &r, cols, nc, pf);
                /* csv / table: header once (the table format re-aligns per page) */
                char *body = page.data ? page.data : (char *)"";
                size_t blen = page.len;
                if (!first && (fmt == DM_FMT_CSV || fmt == DM_FMT_TABLE)) {
                    char *nl = memchr(body, '\n', blen);
                    if (nl) {
                        blen -= (size_t)(nl + 1 - body);
                        body = nl + 1;
                    }
                }
                if (fmt == DM_FMT_JSON) {
                    for (size_t i = 0; !rc && i < blen; i++) {
                        if (body[i] == '\n')
                            rc = (i + 1 < blen || q.offset + r.n < r.total) ? dm_buf_putc(&out, ',') : 0;
                        else
                            rc = dm_buf_putc(&out, body[i]);
                    }
                } else if (!rc) {
                    rc = dm_buf_append(&out, body, blen);
                }
                dm_buf_release(&page);
                int last = q.offset + r.n >= r.total || !r.n;
                q.offset += r.n;
                dm_rows_res_release(&r);
                if (!rc && last && fmt == DM_FMT_JSON)
                    rc = dm_buf_puts(&out, "]\n");
                if (rc || write_out(&out))
                    break;
                if (last)
                    break;
            }
            break;
        }
        struct dm_rows_res r;
        if ((rc = dm_rows(t, &q, &r, &err)))
            break;
        rc = dm_write_rows(&out, t, &r, cols, nc, fmt);
        if (!rc && fmt == DM_FMT_TABLE && r.total > q.offset + r.n)
            fprintf(stderr, "(%llu of %llu matching rows shown; --offset / --limit to page)\n",
                    (unsigned long long)r.n, (unsigned long long)r.total);
        dm_rows_res_release(&r);
        break;
    }
    case OP_TOP: {
        struct dm_top_req q = {f, DM_TOP_SRC, -1, metric, have_limit ? (size_t)limit : 10};
        if (have_limit && !limit)
            q.limit = DM_TOP_MAX;
        if (dm_top_key_parse(t, topkey, &q.key, &q.extra_col, &err)) {
            status = dm_cli_usage_error("query", "%s", err.msg);
            goto done;
        }
        struct dm_top_res r;
        if ((rc = dm_top(t, &q, &r, &err)))
            break;
        rc = dm_write_top(&out, t, &r, fmt);
        dm_top_res_release(&r);
        break;
    }
    case OP_HIST: {
        struct dm_hist_req q = {f, bucket_us};
        struct dm_hist_res r;
        if ((rc = dm_hist(t, &q, &r, &err)))
            break;
        rc = dm_write_hist(&out, &r, fmt);
        dm_hist_res_release(&r);
        break;
    }
    case OP_GRAPH: {
        struct dm_graph_req q = {f, seeds, nseeds, (int)hops, (size_t)max_nodes};
        struct dm_graph_res r;
        if ((rc = dm_graph(t, &q, &r, &err)))
            break;
        rc = dm_write_graph(&out, t, &r, fmt);
        dm_graph_res_release(&r);
        break;
    }
    case OP_SUMMARY: {
        struct dm_summary_res r;
        if ((rc = dm_summary(t, f, &r, &err)))
            break;
        rc = dm_write_summary(&out, &r, fmt);
        break;
    }
    }
    if (rc) {
        dm_cli_fail("%s", err.code ? err.msg : dm_strerror(rc));
        goto done;
    }
    if (write_out(&out) || fflush(stdout)) {
        dm_cli_fail("cannot write the output");
        goto done;
    }
    status = 0;
done:
    for (size_t i = 0; i < nnames; i++)
        dm_free(names[i]);
    dm_free(seeds);
    dm_buf_release(&out);
    dm_filter_free(f);
    dm_table_free(t);
    dm_pool_free(pool);
    dm_config_release(&cfg);
    return status;
}
