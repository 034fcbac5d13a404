/* Exfiltration hunting: ranked, explained findings over a flow table.
 *
 * The detections (docs/hunt.md) run over a read-only column view of flows (struct
 * dm_hunt_flows: ts-sorted arrays plus a per-IP-id table saying internal/external, role and
 * text), so they do not depend on how the engine stores its table; dm_hunt_run() fills a
 * struct dm_hunt_result that the caller owns (dm_hunt_result_release()). Findings hold
 * numbers and IP ids only; output.c renders them (JSON contract, table, explanation
 * sentence, reproducing filter expression) into a dm_buf for the CLI and HTTP alike.
 *
 * Direction: only flows that cross the internal/external boundary count. The finding's
 * `host` is the internal end, `peers` the external ends; outbound bytes are bytes_sent when
 * the internal host is the source and bytes_recv when it is the destination.
 * Determinism: the same flows and config give the same findings in the same order whatever
 * the number of threads (ties broken by kind, then host and peer IP text). */
#ifndef DM_HUNT_H
#define DM_HUNT_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"
#include "dm_net.h"

struct dm_buf;
struct dm_pool;
struct dm_json;
struct dm_config;

enum dm_hunt_kind {
    DM_HUNT_VOLUME,
    DM_HUNT_PCR,
    DM_HUNT_OFF_HOURS,
    DM_HUNT_RARE_DESTINATION,
    DM_HUNT_BEACON,
    DM_HUNT_ROLE_VIOLATION,
    DM_HUNT_TUNNEL,
    DM_HUNT_ELEPHANT,
    DM_HUNT_STROBE,
    DM_HUNT_NKINDS
};

/* "volume", "pcr", ... (the JSON `kind`); NULL when out of range. */
const char *dm_hunt_kind_name(int kind);
/* Kind from its name, or -1. */
int dm_hunt_kind_from_name(const char *s, size_t n);

/* Role of an IP id, from the config's known_servers (name with "db" → DB, "mail" → MAIL,
 * any other name → OTHER) or its server_networks. */
enum dm_hunt_role { DM_HUNT_ROLE_NONE, DM_HUNT_ROLE_DB, DM_HUNT_ROLE_MAIL, DM_HUNT_ROLE_SERVER };

#define DM_HUNT_MAX_ALLOW_PORTS 256
#define DM_HUNT_MAX_EVIDENCE 14

/* Names of the evidence numbers of a kind, NULL-terminated. */
const char *const *dm_hunt_evidence_names(int kind);

/* ---- time zones ----
 * A time zone as the UTC offsets it uses over time: off0 before at[0], off[i] from at[i]
 * (seconds since the epoch, ascending) on. Named zones come from TZif files (RFC 8536,
 * version 2+: the 64-bit table, then the footer's POSIX TZ rule expanded up to the year
 * 2200); a fixed offset has n = 0. Caller storage; dm_tz_release() frees the arrays. */
#define DM_TZ_MAX_NAME 64
#define DM_ZONEINFO_DIR "/usr/share/zoneinfo"

struct dm_tz {
    char name[DM_TZ_MAX_NAME + 1]; /* "Europe/Berlin", "+02:00", "UTC" */
    int32_t off0;                  /* seconds east of UTC */
    size_t n;
    int64_t *at;
    int32_t *off;
};

/* A fixed offset (seconds east of UTC); no allocation. */
void dm_tz_init_fixed(struct dm_tz *tz, int32_t offset_s);
void dm_tz_release(struct dm_tz *tz);
/* UTC offset in seconds in effect at t (seconds since the epoch, UTC). */
int32_t dm_tz_offset(const struct dm_tz *tz, int64_t t);
/* Parses TZif bytes (untrusted: every count and length is checked). Returns 0,
 * DM_ECORRUPT, DM_EUNSUPPORTED (version 1) or -ENOMEM; err->offset is the byte offset. */
int dm_tz_parse(struct dm_tz *tz, const uint8_t *data, size_t len, struct dm_error *err);
/* 1 when name may name a zone file: letters, digits, "/_-+." only, no "..", no leading
 * "/" or ".", no empty component, at most DM_TZ_MAX_NAME bytes. */
int dm_tz_name_valid(const char *name, size_t n);
/* Reads DIR/NAME (DM_ZONEINFO_DIR for the system's tzdata). Returns 0, -EINVAL (bad name),
 * -ENOENT (no such zone), -EIO, or dm_tz_parse()'s codes; the message names the zone. */
int dm_tz_load(struct dm_tz *tz, const char *dir, const char *name, size_t n,
               struct dm_error *err);

/* Thresholds and allowlists; dm_hunt_config_init() sets the documented defaults, and
 * dm_hunt_config_parse() overrides them from the config file's "hunt" object. */
struct dm_hunt_config {
    double z_threshold;        /* robust z on log bytes (volume), default 3.5 */
    uint64_t min_bytes;        /* "material" outbound volume, default 50 MB */
    double pcr_threshold;      /* producer/consumer ratio, default 0.8 */
    double pcr_shift;          /* a day's PCR above the host's daily median, default 0.5 */
    double prevalence;         /* rare: share of internal hosts, default 0.02 */
    double beacon_min_score;   /* report beacons scoring at least this, default 0.7 */
    uint32_t beacon_min_flows; /* default 4 */
    int bh_start_min;          /* business hours start, minutes after local midnight (480) */
    int bh_end_min;            /* end (1140 = 19:00) */
    uint8_t bh_days;           /* bit d set = weekday d (0 = Sunday) is a business day */
    int tz_offset_min;         /* fixed offset: local time = UTC + offset, default 0 */
    struct dm_tz tz;           /* "timezone": a fixed offset or a named zone (DST), default UTC */
    double off_hours_ratio;    /* off-hours window vs average in-hours day, default 3 */
    uint64_t elephant_bytes;   /* per flow / per (pair, hour), default 1 GiB */
    int64_t long_conn_ms;      /* long connection, default 1 h */
    double strobe_per_day;     /* connections a day to one (peer, port), default 86400 */
    uint32_t strobe_min_flows; /* default 1000 */
    uint64_t tunnel_min_bytes; /* outbound on DNS/NTP/ICMP to one peer, default 1 MB */
    double tunnel_ratio;       /* sent/received on those, default 2 */
    uint64_t role_min_bytes;   /* server initiating egress, default 1 MB */
    struct dm_cidr_set approved_resolvers;
    struct dm_cidr_set allow_cidrs;     /* flows with these external peers are ignored */
    struct dm_cidr_set server_networks; /* hosts treated as servers (role_violation) */
    uint16_t allow_ports[DM_HUNT_MAX_ALLOW_PORTS];
    size_t n_allow_ports;
};

/* Sets the defaults (no allowlists). Caller storage; dm_hunt_config_release() frees the
 * CIDR sets. */
void dm_hunt_config_init(struct dm_hunt_config *c);
void dm_hunt_config_release(struct dm_hunt_config *c);
/* Applies the "hunt" object of a config file (docs/hunt.md). Unknown keys and wrong types
 * are errors naming the key (a typo must not silently disable a detection). `cfg`
 * (nullable) resolves allow.destinations entries that are known_servers names rather than
 * addresses. Returns 0, -EINVAL or -ENOMEM. */
int dm_hunt_config_parse(struct dm_hunt_config *c, const struct dm_json *hunt,
                         const struct dm_config *cfg, struct dm_error *err);
/* Parses a timezone text: "UTC", "Z", "+02:00", "-0530", "UTC+2", "UTC-03:30".
 * Returns 0 or -EINVAL. */
int dm_hunt_parse_tz(const char *s, size_t n, int *offset_min);

/* A borrowed column of unsigned values stored narrow (the engine's layout): width 1, 2, 4
 * or 8 bytes per value, 0 = absent; valid = null bitmap (bit set = present), NULL = no nulls. */
struct dm_hunt_col {
    const void *v;
    uint8_t width;
    const uint64_t *valid;
};

/* Value of row r, 0 when absent or null. */
static inline uint64_t dm_hunt_col_u64(const struct dm_hunt_col *c, size_t r)
{
    if (!c->width || (c->valid && !((c->valid[r >> 6] >> (r & 63)) & 1)))
        return 0;
    switch (c->width) {
    case 1: return ((const uint8_t *)c->v)[r];
    case 2: return ((const uint16_t *)c->v)[r];
    case 4: return ((const uint32_t *)c->v)[r];
    default: return ((const uint64_t *)c->v)[r];
    }
}

static inline int dm_hunt_col_present(const struct dm_hunt_col *c, size_t r)
{
    return c->width && (!c->valid || ((c->valid[r >> 6] >> (r & 63)) & 1));
}

/* IP classes in dm_hunt_flows.ip_class. */
enum { DM_HUNT_IP_EXTERNAL = 0, DM_HUNT_IP_INTERNAL = 1, DM_HUNT_IP_NONE = 2 };

/* The flows hunt reads: n rows sorted by ts, borrowed from the caller (the engine's table
 * columns, or plain arrays in tests). Optional columns may be absent (width 0). `sel`, when
 * non-NULL, lists the nsel row indexes to use (ascending), e.g. from a --where filter. */
struct dm_hunt_flows {
    size_t n;
    const int64_t *ts;         /* µs since the epoch, UTC, ascending */
    const uint32_t *src, *dst; /* IP ids < nips */
    struct dm_hunt_col sent, recv, dport, proto, duration_ms, action;
    const uint8_t *action_failed; /* [action dictionary size]: 1 = denied / rejected /
                                   * unanswered (deny, drop, reject, REJ, S0, ...); nullable */
    size_t naction;
    const uint32_t *sel;
    size_t nsel;
    /* The IP table. */
    size_t nips;
    const uint8_t *ip_class;   /* [nips] DM_HUNT_IP_*; NONE rows (no address) are skipped */
    const uint8_t *ip_role;    /* [nips] enum dm_hunt_role, nullable */
    const struct dm_ip *ips;   /* [nips] the addresses (for text, allowlists, ties) */
};

/* 1 when an action text (any case) means the connection failed or was blocked: deny,
 * denied, drop, dropped, reject, rejected, block, blocked, refused, timeout, and the Zeek
 * states rej, s0, rsto0, rstos0, rstrh, sh, shr, oth. */
int dm_hunt_action_failed(const char *s, size_t n);

struct dm_hunt_finding {
    int kind;
    double score; /* 0..100 */
    uint32_t host;
    uint32_t peers[8]; /* external peers, by outbound bytes descending */
    uint32_t npeers;
    uint32_t peers_total; /* peers involved (npeers shows at most 8) */
    int64_t start, end;   /* µs, window of the evidence flows [start, end] */
    uint64_t bytes_out;
    uint64_t bytes_in;
    uint64_t flows;
    /* What the reproducing filter selects (and the totals above count): flows between host
     * and the listed peers (any external peer when all_peers), only those the host
     * initiated when outbound_only, within [start, end] when time_only, with dst_port ==
     * port when port_only, with proto == proto when proto_only. */
    uint8_t all_peers, outbound_only, time_only, port_only, proto_only;
    uint8_t proto;
    uint16_t port;
    /* Evidence numbers, meaning per kind (dm_hunt_evidence_names()). */
    double ev[DM_HUNT_MAX_EVIDENCE];
    /* Other detections that fired on the same host and main peer, folded into this one
     * (bit per kind) with their scores: one event, one finding. */
    uint32_t also;
    double also_score[DM_HUNT_NKINDS];
};

struct dm_hunt_host {
    uint32_t host;
    double score;
    uint32_t kinds; /* bit per enum dm_hunt_kind */
    uint64_t bytes_out;
    uint32_t nfindings;
};

/* Owned by the caller; dm_hunt_result_release() frees the arrays. */
struct dm_hunt_result {
    struct dm_hunt_finding *findings; /* ranked: score desc, kind, host text, peer text */
    size_t nfindings;
    struct dm_hunt_host *hosts; /* ranked: score desc, host text */
    size_t nhosts;
    /* Context for the output. */
    uint64_t internal_hosts; /* internal hosts with boundary-crossing flows */
    uint64_t flows_used;     /* boundary-crossing flows considered */
    int64_t data_start, data_end;
};

void dm_hunt_result_release(struct dm_hunt_result *r);

/* Runs every detection over the flows. pool may be NULL (single thread). Returns 0,
 * -ENOMEM or -EINVAL (bad column view). */
int dm_hunt_run(const struct dm_hunt_flows *f, const struct dm_hunt_config *c,
                struct dm_pool *pool, struct dm_hunt_result *r, struct dm_error *err);

/* Output. `where` (nullable) is the filter the flows were selected with; it is ANDed into
 * every finding's reproducing filter. limit 0 = all findings. */
struct dm_hunt_output {
    const struct dm_hunt_result *r;
    const struct dm_hunt_flows *f;
    const struct dm_hunt_config *c;
    const char *where;
    size_t limit;
    /* Known-server name of an internal IP id (nullable callback), for explanations. */
    const char *(*role_name)(const void *ctx, uint32_t ip);
    const void *role_ctx;
};

/* The JSON contract {"findings": [...], "hosts": [...]} (docs/hunt.md). 0 or a dm_buf
 * error. */
int dm_hunt_write_json(struct dm_buf *b, const struct dm_hunt_output *o);
/* A fixed-width text table for terminals, one finding a line plus its explanation. */
int dm_hunt_write_table(struct dm_buf *b, const struct dm_hunt_output *o);
/* The one-sentence explanation of a finding. */
int dm_hunt_write_explanation(struct dm_buf *b, const struct dm_hunt_output *o,
                              const struct dm_hunt_finding *fd);
/* The filter expression (query --where language) that selects the evidence flows. */
int dm_hunt_write_filter(struct dm_buf *b, const struct dm_hunt_output *o,
                         const struct dm_hunt_finding *fd);

/* ---- over the engine's table (table.c): what the CLI and /api/findings call ---- */

struct dm_table;
struct dm_filter;

/* A dm_hunt_flows view of an engine table, plus the arrays it owns (IP classes and roles,
 * failed actions, the --where selection). Caller storage; borrows t, which must outlive it. */
struct dm_hunt_view {
    struct dm_hunt_flows f;
    const struct dm_table *t;
    uint8_t *ip_class, *ip_role, *action_failed;
    uint32_t *sel;
};

/* Builds the view; where (nullable) selects rows. 0, -ENOMEM, -EINVAL (a table without
 * src/dst). */
int dm_hunt_view_init(struct dm_hunt_view *v, const struct dm_table *t,
                      const struct dm_filter *where, struct dm_error *err);
void dm_hunt_view_release(struct dm_hunt_view *v);
/* role_name callback for struct dm_hunt_output over a table (ctx = the table). */
const char *dm_hunt_table_role_name(const void *table, uint32_t ip);

enum dm_hunt_format { DM_HUNT_FMT_TABLE = 0, DM_HUNT_FMT_JSON };

/* One call for front ends: reads the config's hunt section (t->config), compiles `where`
 * (nullable, the query --where language), runs every detection on t->pool, and appends the
 * findings (at most `limit`, 0 = all) to out as JSON (the contract) or a text table.
 * Returns 0 or a negative code: DM_EPARSE for a bad expression, -EINVAL for a bad hunt
 * config section (err says which), -ENOMEM, or a dm_buf error. */
int dm_hunt_findings(struct dm_buf *out, const struct dm_table *t, const char *where,
                     size_t limit, enum dm_hunt_format fmt, struct dm_error *err);

#endif
