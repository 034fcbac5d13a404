/* The flow engine: an in-memory, column-oriented flow table, the filter language, the
 * query operations (rows, top-N, histogram, graph, summary) and the output writers shared by
 * `datamate query`, the HTTP API and hunt.
 *
 * Table. Rows are flows kept in ascending ts order (stable), so a time range is a binary
 * search. Every column is a struct dm_column: canonical columns first (enum dm_colid, fixed
 * positions, `width == 0` when the data did not have the column), then extra columns by name.
 * IPs (v4 and v6 together) are interned once in the table's IP table; a row stores a 32-bit
 * id. Id 0 is "no address" (null or unparseable). Each id knows whether it is internal (config
 * internal_networks) and its known-server role. action and string extras are dictionary ids.
 * Unsigned counters are stored narrow (u8/u16/u32/u64, chosen from the largest value). Nulls
 * are a bit per row (NULL bitmap = no nulls). Values are read with the inline accessors below.
 * A table is read-only after load / dm_table_finish(): any number of threads may query it at
 * once without locks.
 *
 * Queries. A filter expression (docs/filter.md) is compiled against a table into a
 * struct dm_filter (immutable, shareable between threads). Each operation takes a request
 * struct (filled by the CLI options or the HTTP parameters) and fills a result struct that it
 * owns until dm_<op>_res_release(). Operations run morsels in parallel on the table's pool.
 * Results reference table rows / IP ids, so a result must not outlive its table.
 *
 * Output. dm_write_<op>() renders a result as table / csv / json / jsonl into a dm_buf; the
 * JSON shapes are a contract (docs/filter.md, README "query").
 *
 * Errors: int return codes (0 or negative) plus an optional struct dm_error. */
#ifndef DM_ENGINE_H
#define DM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"
#include "dm_json.h"
#include "dm_net.h"

struct dm_buf;
struct dm_pool;

/* ------------------------------------------------------------------------------------ */
/* Config (docs/config.md)                                                               */

enum dm_role_kind {
    DM_ROLE_NONE = 0, /* not a known server */
    DM_ROLE_OTHER,    /* a known server whose name has neither "db" nor "mail" */
    DM_ROLE_DB,       /* name contains "db" (any case) */
    DM_ROLE_MAIL      /* name contains "mail" (any case) */
};

struct dm_known_server {
    struct dm_cidr net; /* an address is a /32 or /128 */
    char *name;         /* the Role shown for the node */
    enum dm_role_kind kind;
};

struct dm_column_map {
    char *canonical; /* e.g. "src_ip" */
    char *source;    /* the column name in the Parquet file */
};

/* The parsed config file. Caller storage: dm_config_init() (defaults), then optionally
 * dm_config_parse()/dm_config_load(); dm_config_release() frees everything. */
struct dm_config {
    /* template: the page header */
    char *site, *title, *header_background; /* NULL when absent */
    int theme_toggle;                       /* -1 when absent, else 0/1 */
    /* targeted_cols: columns loaded and shown (source or canonical names), NULL = all */
    char **targeted_cols;
    size_t ntargeted;
    /* known_servers, most specific prefix wins on overlap */
    struct dm_known_server *servers;
    size_t nservers;
    /* internal_networks (defaults when absent) */
    struct dm_cidr_set internal;
    /* columns: canonical <- source name */
    struct dm_column_map *columns;
    size_t ncolumns;
    /* hunt: the raw subtree (NULL when absent), owned by `doc` */
    const struct dm_json *hunt;
    struct dm_json_doc doc;
    /* unknown keys, e.g. "unknown key 'foo' ignored" (the CLI prints them) */
    char **warnings;
    size_t nwarnings;
};

/* Sets c to the defaults (default internal networks, no servers). 0 or -ENOMEM. */
int dm_config_init(struct dm_config *c);
/* Parses config text (JSON) over the defaults already in c. Wrong types are -EINVAL naming
 * the key ("'known_servers' must be an object"); unknown keys are warnings. err->offset is
 * the byte offset of a JSON syntax error. */
int dm_config_parse(struct dm_config *c, const char *text, size_t len, struct dm_error *err);
/* Reads and parses a file (at most 16 MiB); err names the file. */
int dm_config_load(struct dm_config *c, const char *path, struct dm_error *err);
void dm_config_release(struct dm_config *c);
/* The known server whose CIDR contains ip (longest prefix), or NULL. */
const struct dm_known_server *dm_config_server(const struct dm_config *c, const struct dm_ip *ip);
/* Role kind of a server name: "db" / "mail" substring, any case; OTHER otherwise. */
enum dm_role_kind dm_role_kind_of(const char *name);

/* ------------------------------------------------------------------------------------ */
/* Table                                                                                 */

/* Canonical columns, in this order at the start of dm_table.cols. */
enum dm_colid {
    DM_C_TS = 0,   /* INT, µs since the epoch, UTC; never null */
    DM_C_SRC,      /* IP id */
    DM_C_DST,      /* IP id */
    DM_C_SPORT,    /* UINT (u16) */
    DM_C_DPORT,    /* UINT (u16) */
    DM_C_PROTO,    /* UINT (u8) */
    DM_C_SENT,     /* UINT, bytes src -> dst */
    DM_C_RECV,     /* UINT, bytes dst -> src */
    DM_C_PACKETS,  /* UINT */
    DM_C_ACTION,   /* DICT (u16 ids), lower-case text as in the data */
    DM_C_DURATION, /* UINT, milliseconds */
    DM_C_NCANON
};

enum dm_ckind {
    DM_CK_UINT = 0, /* unsigned integer, v is u8/u16/u32/u64 by width */
    DM_CK_INT,      /* int64 (ts, signed extras) */
    DM_CK_F64,      /* double (float extras) */
    DM_CK_DICT,     /* ids into dict (width 2 or 4) */
    DM_CK_IP        /* u32 ids into the table's IP table */
};

/* An interned string dictionary (action, string extras). */
struct dm_dict {
    size_t n;          /* entries, ids 0..n-1 */
    const char **s;    /* NUL-terminated, owned by the table */
    const uint32_t *len;
};

/* Values of a UINT column too wide for its width: the column holds the width's maximum
 * (e.g. 65535) for those rows and the real value is here, rows ascending. Used for packets
 * (a few huge flows must not double the width of every row); readers of raw column arrays
 * must check `ovf` (dm_col_u64 does). */
struct dm_ovf {
    size_t n;
    const uint32_t *row;
    const uint64_t *v;
};

struct dm_column {
    const char *name;   /* canonical name (ts, src_ip, ...) or the extra's source name */
    enum dm_ckind kind;
    uint8_t width;      /* bytes per value: 1, 2, 4, 8; 0 = not in the data (all null) */
    void *v;            /* nrows values */
    uint64_t *valid;    /* bit i set = row i present; NULL = no nulls */
    uint64_t max;       /* UINT: largest value present */
    struct dm_dict dict; /* DICT */
    const struct dm_ovf *ovf; /* UINT: wide values, NULL = none (every value fits) */
};

/* The IP table: ids 1..n-1 are distinct addresses; id 0 is "no address". */
struct dm_iptab {
    size_t n;
    struct dm_ip *ip;      /* [n] */
    uint8_t *flags;        /* [n] DM_IPF_* */
    uint32_t *server;      /* [n] index + 1 into config->servers, 0 = not a known server */
    uint32_t *rank;        /* [n] position of the id in address order (id 0 is 0) */
};

enum { DM_IPF_INTERNAL = 1, DM_IPF_V4 = 2 };

struct dm_table {
    size_t nrows;
    size_t ncols;             /* DM_C_NCANON + extras */
    struct dm_column *cols;   /* [ncols] */
    struct dm_iptab ips;
    const struct dm_config *config; /* borrowed; must outlive the table */
    struct dm_pool *pool;           /* borrowed; NULL = single-threaded */
    /* load report */
    uint64_t rows_read;       /* rows in the input */
    uint64_t rows_dropped;    /* dropped: no / unparseable timestamp */
    uint64_t bad_ips;         /* values that were not IP addresses (stored as id 0) */
    uint64_t bad_values;      /* negative or non-integral counters / ports (stored as null) */
    size_t nfiles;
    struct dm__table_int *in; /* private */
};

/* Value accessors (hot: inline). */
static inline int dm_col_present(const struct dm_column *c, size_t row)
{
    return c->width && (!c->valid || ((c->valid[row >> 6] >> (row & 63)) & 1));
}

/* The real value of an overflowed row (stored = the width's maximum): c->ovf lookup. */
uint64_t dm_col_ovf(const struct dm_column *c, size_t row, uint64_t stored);

static inline uint64_t dm_col_u64(const struct dm_column *c, size_t row)
{
    uint64_t v, max;
    switch (c->width) {
    case 1: v = ((const uint8_t *)c->v)[row], max = UINT8_MAX; break;
    case 2: v = ((const uint16_t *)c->v)[row], max = UINT16_MAX; break;
    case 4: v = ((const uint32_t *)c->v)[row], max = UINT32_MAX; break;
    case 8: return ((const uint64_t *)c->v)[row];
    default: return 0;
    }
    return v == max && c->ovf ? dm_col_ovf(c, row, v) : v;
}

static inline int64_t dm_col_i64(const struct dm_column *c, size_t row)
{
    return c->width == 8 ? ((const int64_t *)c->v)[row] : 0;
}

static inline double dm_col_f64(const struct dm_column *c, size_t row)
{
    return c->width == 8 ? ((const double *)c->v)[row] : 0.0;
}

static inline const int64_t *dm_table_ts(const struct dm_table *t)
{
    return (const int64_t *)t->cols[DM_C_TS].v;
}

static inline const uint32_t *dm_table_src(const struct dm_table *t)
{
    return (const uint32_t *)t->cols[DM_C_SRC].v;
}

static inline const uint32_t *dm_table_dst(const struct dm_table *t)
{
    return (const uint32_t *)t->cols[DM_C_DST].v;
}

static inline int dm_ip_internal(const struct dm_table *t, uint32_t id)
{
    return (t->ips.flags[id] & DM_IPF_INTERNAL) != 0;
}

/* Canonical name of a column id ("ts", "src_ip", ..., "duration_ms"). */
const char *dm_colid_name(enum dm_colid id);
/* Column index for a name: canonical names, filter field names (src, dport, sent, ...),
 * built-in aliases (the convert presets' and the old tool's: _SourceIP, _BytesSent, ...),
 * then extras by exact name. -1 when unknown. */
int dm_table_column(const struct dm_table *t, const char *name, size_t len);
/* Writes the text form of IP id (empty string for id 0); returns its length. */
size_t dm_table_ip_text(const struct dm_table *t, uint32_t id, char out[DM_IP_STRLEN]);
/* The id of an address, or 0 when the table does not contain it. */
uint32_t dm_table_ip_find(const struct dm_table *t, const struct dm_ip *ip);
/* Known-server role of an IP id: the server's name and kind (NULL / NONE when unknown). */
const char *dm_table_ip_role(const struct dm_table *t, uint32_t id, enum dm_role_kind *kind);
/* Rows [*begin, *end) whose ts is in [lo, hi) (binary search). */
void dm_table_time_range(const struct dm_table *t, int64_t lo, int64_t hi, size_t *begin,
                         size_t *end);
/* Bytes of memory held by the table (columns, IP table, dictionaries). */
size_t dm_table_bytes(const struct dm_table *t);
/* Bytes per flow of the canonical columns (values, null bitmaps, overflow tables) plus the
 * per-flow share of the IP table (addresses, flags, roles, ranks and the address -> id
 * map) and of the action dictionary: everything a flow costs without extra columns (0 for
 * an empty table). */
double dm_table_canonical_bytes_per_flow(const struct dm_table *t);
void dm_table_free(struct dm_table *t);

/* --- building a table programmatically (tests, generators) --- */

/* A value of an extra column for dm_table_append. */
struct dm_value {
    int null;
    int64_t i;     /* UINT / INT */
    double f;      /* F64 */
    const char *s; /* DICT (NUL-terminated) */
};

/* One flow for dm_table_append. Negative numbers mean null (ports, proto, counters);
 * NULL strings mean null. */
struct dm_flow {
    int64_t ts; /* µs since the epoch */
    const char *src, *dst;
    int32_t sport, dport, proto;
    int64_t sent, recv, packets, duration_ms;
    const char *action;
    const struct dm_value *extra; /* [number of extras added], or NULL = all null */
};

/* An empty table to fill with dm_table_append then dm_table_finish. cfg and pool are borrowed
 * (cfg may not be NULL). Canonical columns listed in `present` (bit 1 << dm_colid) exist;
 * ts/src/dst always do. 0 or -ENOMEM. */
int dm_table_new(struct dm_table **out, const struct dm_config *cfg, struct dm_pool *pool,
                 unsigned present);
/* Adds an extra column (before the first append): kind UINT, INT, F64 or DICT. */
int dm_table_add_extra(struct dm_table *t, const char *name, enum dm_ckind kind);
/* Appends a row. 0, -ENOMEM, -EINVAL (bad IP text is not an error: id 0, counted). */
int dm_table_append(struct dm_table *t, const struct dm_flow *f);
/* Sorts by ts (stable), narrows counters, classifies IPs. After this the table is read-only.
 * 0 or -ENOMEM. */
int dm_table_finish(struct dm_table *t, struct dm_error *err);

/* --- loading Parquet --- */

struct dm_load_opts {
    const struct dm_config *config; /* required; columns, targeted_cols, servers, networks */
    struct dm_pool *pool;           /* row groups in parallel; NULL = calling thread */
    /* extra columns to load (source names) besides the canonical ones; NULL = config
     * targeted_cols that are not canonical */
    const char *const *extras;
    size_t nextras;
    /* called from worker threads (serialise inside if needed) as row groups finish */
    void (*progress)(void *ctx, uint64_t rows_done, uint64_t rows_total);
    void *progress_ctx;
};

/* Loads DATA: a Parquet file, a directory (recursive, Hive `day=` partitions), or a glob.
 * Columns are matched by name (canonical, aliases, config `columns`); ts may be a TIMESTAMP,
 * an integer (s/ms/µs/ns by magnitude) or an ISO 8601 string; counters may be integers or
 * doubles. Returns 0 or a negative code; err names the file and the problem. */
int dm_table_load(struct dm_table **out, const char *data, const struct dm_load_opts *o,
                  struct dm_error *err);

/* ------------------------------------------------------------------------------------ */
/* Filter expressions (docs/filter.md)                                                   */

struct dm_filter;

#define DM_FILTER_MAX_LEN 65536 /* bytes of expression text */

/* Compiles expr[0..len) for table t (which it borrows: the filter must not outlive it).
 * An empty / all-blank expression matches every row. On error returns DM_EPARSE (or -ENOMEM)
 * with err->msg like "unknown field 'srcip' at 1:1 (did you mean 'src'?)" and err->offset the
 * 0-based byte offset. */
int dm_filter_compile(struct dm_filter **out, const struct dm_table *t, const char *expr,
                      size_t len, struct dm_error *err);
void dm_filter_free(struct dm_filter *f);
/* The row range the filter's time bounds allow (binary search): [*begin, *end). */
void dm_filter_rows(const struct dm_filter *f, size_t *begin, size_t *end);
/* 1 when the filter matches every row of its range (no predicate besides time bounds). */
int dm_filter_is_range_only(const struct dm_filter *f);

#define DM_MORSEL 16384 /* rows per morsel */

/* Evaluates the filter on rows [begin, begin + n) (n <= DM_MORSEL): writes the matching row
 * indexes (absolute) into sel[] and returns their number. scratch is caller memory of
 * dm_filter_scratch_size() bytes (one per thread). A NULL filter selects all rows. */
size_t dm_filter_eval(const struct dm_filter *f, size_t begin, size_t n, uint32_t *sel,
                      void *scratch);
size_t dm_filter_scratch_size(const struct dm_filter *f);

/* Runs fn over every matching row of t in parallel morsels on t->pool: fn(ctx, sel, n, slot)
 * gets the indexes of the matching rows of one morsel; slot in [0, dm_scan_slots(t)) is the
 * same for calls that never run concurrently (index per-thread partials with it). Returns 0
 * or -ENOMEM. */
typedef void (*dm_scan_fn)(void *ctx, const uint32_t *sel, size_t n, unsigned slot);
int dm_scan(const struct dm_table *t, const struct dm_filter *f, dm_scan_fn fn, void *ctx);
unsigned dm_scan_slots(const struct dm_table *t);

/* Parses a time literal (ISO 8601 date, date-time with optional fraction and zone, or an
 * epoch number in s/ms/µs/ns by magnitude) into µs since the epoch; *end (nullable) receives
 * the end of the literal's precision interval (a date: the next midnight). 0 or -EINVAL. */
int dm_time_parse(const char *s, size_t n, int64_t *us, int64_t *end);
/* Formats µs since the epoch as ISO 8601 UTC ("2024-03-01T10:00:00Z", with .mmm or .uuuuuu
 * when not whole). Returns the length; out needs 32 bytes. */
size_t dm_time_format(int64_t us, char out[32]);

/* ------------------------------------------------------------------------------------ */
/* Operations                                                                            */

/* Sort / column reference: a column index into t->cols, or DM_COL_BYTES (sent + recv). */
#define DM_COL_BYTES (-2)

/* rows: filter, sort, page. */
struct dm_rows_req {
    const struct dm_filter *filter; /* NULL = all rows */
    int sort_col;                   /* column index or DM_COL_BYTES; default DM_C_TS */
    int desc;                       /* 1 = descending */
    uint64_t offset, limit;         /* limit 0 = none (capped at DM_ROWS_MAX) */
};

#define DM_ROWS_MAX 1000000 /* rows one request returns at most */

struct dm_rows_res {
    uint64_t total; /* matching rows */
    size_t n;       /* rows returned */
    uint32_t *rows; /* [n] row indexes in output order */
};

/* Nulls sort last in both directions; ties keep ts order. */
int dm_rows(const struct dm_table *t, const struct dm_rows_req *q, struct dm_rows_res *r,
            struct dm_error *err);
void dm_rows_res_release(struct dm_rows_res *r);

/* top-N. */
enum dm_top_key {
    DM_TOP_SRC = 0,
    DM_TOP_DST,
    DM_TOP_PAIR,
    DM_TOP_DPORT,
    DM_TOP_SPORT,
    DM_TOP_PROTO,
    DM_TOP_ACTION,
    DM_TOP_EXTRA /* an extra column (DICT or UINT/INT) */
};

enum dm_metric { DM_M_FLOWS = 0, DM_M_SENT, DM_M_RECV, DM_M_BYTES, DM_M_PEERS, DM_M_NMETRICS };

struct dm_top_req {
    const struct dm_filter *filter;
    enum dm_top_key key;
    int extra_col;    /* DM_TOP_EXTRA: column index */
    enum dm_metric by; /* default DM_M_BYTES */
    size_t limit;     /* default 10, at most DM_TOP_MAX */
};

#define DM_TOP_MAX 100000

/* peers: for src the distinct dst, for dst the distinct src, for pair 1, otherwise the
 * distinct src. A null key (port/proto/action/extra missing) is a group of its own. */
struct dm_top_row {
    uint64_t key[2]; /* IP ids (src, dst for pair), port, proto, dict id or extra value */
    int null;        /* the key is null */
    uint64_t flows, sent, recv, bytes, peers;
};

struct dm_top_res {
    enum dm_top_key key;
    int extra_col;
    uint64_t groups; /* distinct keys among matching rows */
    size_t n;
    struct dm_top_row *v; /* [n], by the metric descending, ties by key ascending */
};

int dm_top(const struct dm_table *t, const struct dm_top_req *q, struct dm_top_res *r,
           struct dm_error *err);
void dm_top_res_release(struct dm_top_res *r);
/* Parse "src", "dst", "pair", "dport", "sport", "proto", "action" or an extra column name;
 * -EINVAL (err: unknown key, with a suggestion) otherwise. */
int dm_top_key_parse(const struct dm_table *t, const char *s, enum dm_top_key *key,
                     int *extra_col, struct dm_error *err);
int dm_metric_parse(const char *s, enum dm_metric *m);
const char *dm_metric_name(enum dm_metric m);

/* histogram. */
struct dm_hist_req {
    const struct dm_filter *filter;
    int64_t bucket_us; /* 0 = auto: the smallest of 1m 5m 15m 1h 6h 1d giving <= 300 buckets */
};

#define DM_HIST_MAX_BUCKETS 200000

/* egress: bytes that left the internal network: sent of internal -> external flows plus
 * recv of external -> internal flows. */
struct dm_hist_bucket {
    int64_t ts; /* bucket start, µs (aligned to the bucket size from the epoch) */
    uint64_t flows, sent, recv, egress;
};

struct dm_hist_res {
    int64_t bucket_us;
    size_t n;                  /* every bucket from the first to the last matching row */
    struct dm_hist_bucket *v;
};

int dm_hist(const struct dm_table *t, const struct dm_hist_req *q, struct dm_hist_res *r,
            struct dm_error *err);
void dm_hist_res_release(struct dm_hist_res *r);
/* Parses "1m", "5m", "15m", "1h", "6h", "1d" (also "auto" = 0); -EINVAL otherwise. */
int dm_bucket_parse(const char *s, int64_t *us);

/* graph: the neighbourhood of seed IPs / CIDRs among the filtered flows. */
struct dm_graph_req {
    const struct dm_filter *filter;
    const struct dm_cidr *seeds; /* addresses are /32 or /128 */
    size_t nseeds;
    int hops;         /* 1 (default) or 2 */
    size_t max_nodes; /* default 200; seeds always kept, other nodes by bytes exchanged */
};

struct dm_graph_node {
    uint32_t ip;        /* IP id */
    int internal;
    int filtered;       /* matched a seed */
    enum dm_role_kind role_kind;
    const char *role;   /* known server name or NULL */
    uint64_t connections; /* flows of the shown graph touching the node */
    uint64_t sent, recv;  /* bytes the node sent / received in those flows */
};

struct dm_graph_edge {
    uint32_t src, dst; /* indexes into nodes[] */
    uint64_t flows, bytes; /* bytes = sent + recv */
};

struct dm_graph_res {
    size_t nnodes, nedges;
    struct dm_graph_node *nodes; /* seeds first, then by bytes descending */
    struct dm_graph_edge *edges; /* by bytes descending */
    size_t cut;                  /* nodes left out by max_nodes */
};

int dm_graph(const struct dm_table *t, const struct dm_graph_req *q, struct dm_graph_res *r,
             struct dm_error *err);
void dm_graph_res_release(struct dm_graph_res *r);
/* Parses "ip,cidr,..." into an array (*seeds freed with dm_free). */
int dm_graph_seeds_parse(const char *s, size_t len, struct dm_cidr **seeds, size_t *n,
                         struct dm_error *err);

/* summary. */
struct dm_summary_res {
    uint64_t rows;
    int64_t ts_min, ts_max; /* meaningful when rows > 0 */
    uint64_t sent, recv;    /* totals */
    uint64_t max_sent, max_recv;
    uint64_t distinct_ips;  /* addresses appearing as src or dst */
};

int dm_summary(const struct dm_table *t, const struct dm_filter *f, struct dm_summary_res *r,
               struct dm_error *err);

/* ------------------------------------------------------------------------------------ */
/* Output writers                                                                        */

enum dm_format { DM_FMT_TABLE = 0, DM_FMT_CSV, DM_FMT_JSON, DM_FMT_JSONL };

/* "table", "csv", "json", "jsonl"; -EINVAL otherwise. */
int dm_format_parse(const char *s, enum dm_format *f);

/* Column set for dm_write_rows: indexes into t->cols. dm_columns_default() picks the config
 * targeted_cols that exist, else every present column; returns the count (cols has room for
 * t->ncols). */
size_t dm_columns_default(const struct dm_table *t, int *cols);

/* Each writer appends to out and returns 0, -ENOMEM or DM_ETOOBIG (out's cap).
 * json: an array of objects; jsonl: one object per line; csv: a header line then rows (RFC
 * 4180 quoting, cells starting with = + - @ prefixed with ' against formula injection);
 * table: aligned columns with a header. Keys: column names (rows); the key column(s) then
 * flows sent recv bytes peers (top); ts flows sent recv egress (histogram). Graph json is one
 * object {"nodes": [...], "edges": [...], "cut": N}; summary json one object. */
int dm_write_rows(struct dm_buf *out, const struct dm_table *t, const struct dm_rows_res *r,
                  const int *cols, size_t ncols, enum dm_format fmt);
int dm_write_top(struct dm_buf *out, const struct dm_table *t, const struct dm_top_res *r,
                 enum dm_format fmt);
int dm_write_hist(struct dm_buf *out, const struct dm_hist_res *r, enum dm_format fmt);
int dm_write_graph(struct dm_buf *out, const struct dm_table *t, const struct dm_graph_res *r,
                   enum dm_format fmt);
int dm_write_summary(struct dm_buf *out, const struct dm_summary_res *r, enum dm_format fmt);
/* One cell as JSON (number, string or null) / as text (empty for null). */
int dm_write_cell_json(struct dm_buf *out, const struct dm_table *t, int col, size_t row);
int dm_write_cell_text(struct dm_buf *out, const struct dm_table *t, int col, size_t row);

#endif
