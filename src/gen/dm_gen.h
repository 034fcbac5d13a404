/* Synthetic firewall / flow logs with planted exfiltration (`datamate gen`).
 *
 * A struct dm_gen is a simulated network (workstations, servers with roles, a DMZ, a
 * Zipf-distributed population of external destinations) plus a list of planted scenarios
 * with ground truth, all derived from (seed, rows, days). dm_gen_write() streams exactly
 * `rows` JSON lines in one of four schemas, in non-decreasing flow-start order, generated
 * in fixed-size chunks each seeded from (seed, chunk index): the bytes do not depend on the
 * number of threads. Memory is bounded by the number of chunks in flight.
 *
 * Ownership: dm_gen_new() returns a heap object freed with dm_gen_free(); JSON documents
 * are appended to caller-owned struct dm_buf. Nothing here prints or touches files.
 *
 * The PRNG and samplers (xoshiro256**, normal, log-normal, Zipf by rejection-inversion)
 * are public so tests and benchmarks can use the same streams. */
#ifndef DM_GEN_H
#define DM_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

struct dm_buf;
struct dm_pool;

/* ---- random numbers ---- */

/* xoshiro256** state; seeded through splitmix64 so any (seed, stream) pair is usable. */
struct dm_rng {
    uint64_t s[4];
    double spare; /* second normal deviate of the last Box-Muller pair */
    int has_spare;
};

/* splitmix64 finalizer: a bijective 64-bit mix (also used to hash row numbers). */
uint64_t dm_rng_mix(uint64_t x);
/* Seeds r for independent stream `stream` of `seed`. */
void dm_rng_seed(struct dm_rng *r, uint64_t seed, uint64_t stream);
uint64_t dm_rng_next(struct dm_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double dm_rng_uniform(struct dm_rng *r);
/* Uniform integer in [0, n) (n > 0), without modulo bias worth mentioning (multiply-shift). */
uint64_t dm_rng_below(struct dm_rng *r, uint64_t n);
/* Standard normal deviate (Box-Muller, pairs cached). */
double dm_rng_normal(struct dm_rng *r);
/* exp(N(mu, sigma)): log-normal with median exp(mu). */
double dm_rng_lognormal(struct dm_rng *r, double mu, double sigma);

/* Zipf over ranks 1..n with exponent s > 0: P(k) proportional to k^-s. Sampled in O(1)
 * expected time by rejection-inversion (Hörmann & Derflinger 1996); no tables. */
struct dm_zipf {
    uint64_t n;
    double s;
    double h_x1, h_n, shift;
};

/* Prepares a sampler; returns 0 or -EINVAL (n == 0, s <= 0 or not finite). */
int dm_zipf_init(struct dm_zipf *z, uint64_t n, double s);
/* Rank in [1, n]. */
uint64_t dm_zipf_sample(const struct dm_zipf *z, struct dm_rng *r);

/* ---- the generator ---- */

enum dm_gen_schema {
    DM_GEN_DATAMATE, /* the earlier tool's SIEM export: _@timestamp, _SourceIP, ... */
    DM_GEN_ECS,      /* Elastic Common Schema, nested objects */
    DM_GEN_ZEEK,     /* Zeek conn.log as JSON */
    DM_GEN_SURICATA  /* Suricata eve.json "flow" events */
};

/* Parses "datamate", "ecs", "zeek", "suricata"; 0 or -EINVAL. */
int dm_gen_schema_parse(const char *s, enum dm_gen_schema *out);
const char *dm_gen_schema_name(enum dm_gen_schema s);

#define DM_GEN_MAX_DAYS 366
#define DM_GEN_CHUNK_ROWS 8192
/* Start of the simulated time range: 2026-03-02T00:00:00Z (a Monday), in µs since epoch. */
#define DM_GEN_START_US 1772409600000000LL

struct dm_gen_options {
    uint64_t rows; /* exact number of lines */
    uint64_t seed;
    unsigned days; /* 1..DM_GEN_MAX_DAYS */
    enum dm_gen_schema schema;
};

/* One flow record before formatting. Host fields index the generator's address table. */
struct dm_gen_flow {
    int64_t ts_us;  /* flow start, µs since epoch */
    int64_t dur_us; /* duration */
    uint64_t bytes_sent, bytes_recv; /* src→dst, dst→src */
    uint32_t pkts_sent, pkts_recv;
    uint32_t src, dst; /* host ids */
    uint16_t sport, dport;
    uint8_t proto;  /* 6, 17, 1 (ICMP: sport = type, dport = code) */
    uint8_t action; /* enum dm_gen_action */
    uint8_t kind;   /* enum dm_gen_kind: traffic class, selects rule and message */
    int8_t scenario; /* index into the scenario list, or -1 for background */
};

enum dm_gen_action { DM_GEN_ALLOW, DM_GEN_DENY, DM_GEN_DROP };

/* The planted scenario kinds, in truth-file order. */
enum dm_gen_scenario_kind {
    DM_GEN_NIGHT_UPLOAD,
    DM_GEN_DB_EXFIL,
    DM_GEN_BEACON,
    DM_GEN_DNS_TUNNEL,
    DM_GEN_SLOW_LEAK,
    DM_GEN_BACKUP,
    DM_GEN_OS_UPDATE,
    DM_GEN_DMZ_WEB,
    DM_GEN_NSCENARIOS
};

/* Ground truth of one planted scenario (filled by dm_gen_new; flows / bytes of dmz_web
 * also count background DMZ traffic once dm_gen_write has run). */
struct dm_gen_scenario {
    enum dm_gen_scenario_kind kind;
    int malicious;
    uint32_t host, peer; /* host ids; peer is UINT32_MAX when there are many peers */
    int64_t start_us, end_us;
    uint64_t flows;
    uint64_t bytes_out; /* bytes leaving the internal networks */
    uint64_t bytes_in;  /* bytes entering them */
};

struct dm_gen;

/* Builds the network model and the planted scenarios. Returns 0, -EINVAL (err says which
 * option is out of range, e.g. too few rows for the scenarios) or -ENOMEM. */
int dm_gen_new(struct dm_gen **out, const struct dm_gen_options *opt, struct dm_error *err);
void dm_gen_free(struct dm_gen *g);

/* Smallest --rows that holds every planted scenario for `days` days. */
uint64_t dm_gen_min_rows(unsigned days);

/* Number of fixed-size chunks the output is cut into. */
uint64_t dm_gen_nchunks(const struct dm_gen *g);
/* Fills out[0..n) with the flows of chunk c (n = rows in that chunk, at most
 * DM_GEN_CHUNK_ROWS); pure function of (options, c). Returns n. */
size_t dm_gen_chunk_flows(const struct dm_gen *g, uint64_t c, struct dm_gen_flow *out);
/* Text form of host id h (canonical IPv4 / RFC 5952 IPv6); *len receives its length. */
const char *dm_gen_host_text(const struct dm_gen *g, uint32_t h, size_t *len);
/* 1 when host h is inside the simulated internal networks. */
int dm_gen_host_internal(const struct dm_gen *g, uint32_t h);
/* The planted scenarios (DM_GEN_NSCENARIOS entries, in enum order). */
const struct dm_gen_scenario *dm_gen_scenarios(const struct dm_gen *g);

/* Receives output in order: n bytes holding whole lines, and the rows written so far.
 * A nonzero return stops the run and is returned by dm_gen_write. */
typedef int (*dm_gen_sink)(void *ctx, const char *p, size_t n, uint64_t rows_done);

/* Generates every row with the pool's threads (NULL pool: the calling thread) and hands
 * the bytes to sink in order. Returns 0, -ENOMEM or the sink's code. */
int dm_gen_write(struct dm_gen *g, struct dm_pool *pool, dm_gen_sink sink, void *ctx,
                 struct dm_error *err);

/* Appends the ground-truth JSON document (see docs/gen.md) to out. Call after
 * dm_gen_write for complete dmz_web counts. Returns 0 or a dm_buf error. */
int dm_gen_truth_json(const struct dm_gen *g, struct dm_buf *out);
/* Appends a datamate config.json describing the simulated network (template,
 * targeted_cols for the schema, known_servers, internal_networks, hunt allowlist). */
int dm_gen_config_json(const struct dm_gen *g, struct dm_buf *out);

/* Formats one flow as a JSON line (with '\n') of the generator's schema into out, which
 * must hold DM_GEN_MAX_LINE bytes; returns the length. `row` is the 0-based line number
 * (session ids derive from it). */
#define DM_GEN_MAX_LINE 1536
size_t dm_gen_format(const struct dm_gen *g, const struct dm_gen_flow *f, uint64_t row,
                     char *out);

#endif
