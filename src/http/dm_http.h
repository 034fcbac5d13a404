/* The HTTP front end of `datamate serve`: a libmicrohttpd server with a thread pool, a
 * static route table of JSON API handlers over the engine, the embedded page assets, and
 * the security checks (Host header, access token, response headers, size bounds).
 *
 * Ownership: the server borrows the application context (table, config) for its whole
 * life; the caller keeps it alive until dm_http_server_stop() returns. Query parameters
 * are parsed into caller storage (struct dm_http_params) whose strings live in the
 * struct's own fixed buffer: nothing is heap-allocated by the parameter parser.
 * This module, with cli/, is allowed to print (the server's start-up messages go through
 * the CLI, not here: the library part still only returns codes). */
#ifndef DM_HTTP_H
#define DM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

/* Hard bounds on what a client may send or ask for. */
#define DM_HTTP_MAX_URI 16384       /* request target, bytes (longer: 414) */
#define DM_HTTP_MAX_PARAMS 32       /* query parameters per request */
#define DM_HTTP_MAX_EXPR 4096       /* filter expression `q`, bytes */
#define DM_HTTP_MAX_LIMIT 1000      /* rows per /api/flows page */
#define DM_HTTP_MAX_TOP 1000        /* entries per /api/top */
#define DM_HTTP_MAX_BINS 5000       /* buckets per /api/histogram */
#define DM_HTTP_MAX_GRAPH_IPS 64    /* IPs / CIDRs in /api/graph?ips= */
#define DM_HTTP_MAX_NODES 2000      /* node cap of /api/graph */
#define DM_HTTP_MAX_BODY (64u << 20) /* any JSON response body */

/* ---- query parameters ------------------------------------------------------------------ */

struct dm_http_kv {
    const char *key;
    const char *value; /* "" when the parameter had no '=' */
    size_t vlen;
};

/* Decoded query parameters. Keys and values point into `store`. */
struct dm_http_params {
    struct dm_http_kv kv[DM_HTTP_MAX_PARAMS];
    size_t n;
    size_t used;
    char store[DM_HTTP_MAX_URI + DM_HTTP_MAX_PARAMS * 2];
};

/* Parses a raw query string (the part after '?', percent-encoded, '+' = space) into p.
 * Returns 0, or -EINVAL (bad percent escape, NUL byte, empty key, key given twice),
 * DM_ETOOBIG (too many parameters or too long); err says which parameter. */
int dm_http_params_parse(struct dm_http_params *p, const char *query, size_t len,
                         struct dm_error *err);
/* Value of key, or NULL when absent. */
const char *dm_http_param(const struct dm_http_params *p, const char *key);
/* Fails with -EINVAL "unknown parameter 'x'" for any key not in allowed[] (NULL-terminated)
 * and not "token". */
int dm_http_params_check(const struct dm_http_params *p, const char *const *allowed,
                         struct dm_error *err);

/* An unsigned integer parameter in [min, max]: decimal digits with an optional fraction and
 * K/M/G/T (powers of 1000) or Ki/Mi/Gi/Ti (powers of 1024) suffix ("1.5M", "10Ki"); the
 * result must be integral. Absent → *out = def, returns 0. Returns 0 or -EINVAL. */
int dm_http_param_u64(const struct dm_http_params *p, const char *key, uint64_t min,
                      uint64_t max, uint64_t def, uint64_t *out, struct dm_error *err);
/* Parses a size text as above into *out; 0 or -EINVAL. */
int dm_http_parse_size(const char *s, size_t n, uint64_t *out);
/* Parses a time: ISO 8601 / RFC 3339 date or date-time ("2022-11-04", "2022-11-04T10:00",
 * "2022-11-04 10:00:00.5", zone Z or ±HH:MM, none = UTC) or epoch seconds/ms/µs (integer,
 * unit by magnitude). *out is µs since the epoch, UTC. *date_only is set when only a date
 * was given (callers treat an exclusive upper bound as the end of that day).
 * Returns 0 or -EINVAL. */
int dm_http_parse_time(const char *s, size_t n, int64_t *out, int *date_only);
/* One of the words in choices[] (NULL-terminated); *out = its index. Absent → def.
 * Returns 0 or -EINVAL naming the allowed values. */
int dm_http_param_enum(const struct dm_http_params *p, const char *key,
                       const char *const *choices, int def, int *out, struct dm_error *err);

/* The filter parameters common to every data endpoint. */
struct dm_http_filter {
    const char *q; /* expression, NULL when absent or blank */
    size_t qlen;
    int64_t from_us, to_us; /* [from, to) in µs UTC; INT64_MIN / INT64_MAX when absent */
    uint64_t sent_min, sent_max, recv_min, recv_max; /* 0 / UINT64_MAX when absent */
};

/* Reads q, from, to, sent_min, sent_max, recv_min, recv_max. Fails with -EINVAL (message
 * names the parameter) on a bad value, an empty range, or an expression longer than
 * DM_HTTP_MAX_EXPR. */
int dm_http_filter_parse(const struct dm_http_params *p, struct dm_http_filter *f,
                         struct dm_error *err);
/* 1 when f restricts nothing. */
int dm_http_filter_is_empty(const struct dm_http_filter *f);

/* ---- security --------------------------------------------------------------------------- */

/* 1 when host (the text before the port) names this machine's loopback interface:
 * "localhost", "*.localhost", 127.0.0.0/8, "::1". */
int dm_http_is_loopback_name(const char *host, size_t n);
/* Splits "host:port", "[v6]:port" or "host" into host (brackets removed) and port
 * (0 when absent). Returns 0 or -EINVAL. */
int dm_http_split_hostport(const char *s, size_t n, const char **host, size_t *hostlen,
                           unsigned *port);
/* Host header check against DNS rebinding. On a loopback bind the Host must be a loopback
 * name (and the port, when given, ours); on a non-loopback bind any host is accepted (the
 * token protects it) but the header must still be well-formed. Returns 1 if allowed. */
int dm_http_host_allowed(const char *host_header, int loopback_bind, unsigned port);
/* Constant-time comparison of a presented token with the expected one; 1 when equal. */
int dm_http_token_equal(const char *expected, const char *given, size_t given_len);
/* Finds the value of cookie `name` in a Cookie header; returns its length and sets *val,
 * or returns -1. */
long dm_http_cookie_get(const char *cookie_header, const char *name, const char **val);
/* Fills out[2*nbytes+1] with a random hex token (getrandom). 0 or -EIO. */
int dm_http_token_generate(char *out, size_t nbytes);

/* ---- embedded assets -------------------------------------------------------------------- */

struct dm_asset {
    const char *path; /* "/index.html", "/assets/app-HASH.js" */
    const char *mime;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip variant, NULL when not smaller */
    size_t gzlen;
    const char *etag;  /* quoted strong ETag */
    int immutable;     /* content-hashed name: cache forever */
};

/* The asset served for a URL path ("/" → "/index.html"), or NULL. Only exact table paths
 * match: nothing is read from disk. */
const struct dm_asset *dm_http_asset_find(const char *path);
/* Number of embedded assets and the i-th one (tests, listings). */
size_t dm_http_asset_count(void);
const struct dm_asset *dm_http_asset_at(size_t i);
/* 1 when an Accept-Encoding header value accepts gzip (q > 0). */
int dm_http_accepts_gzip(const char *accept_encoding);
/* 1 when an If-None-Match header value matches etag ("*", lists, W/ prefixes). */
int dm_http_etag_match(const char *if_none_match, const char *etag);

/* ---- server ----------------------------------------------------------------------------- */

struct dm_table;
struct dm_config;

/* What the handlers serve. All borrowed, read-only while the server runs. */
struct dm_http_app {
    const struct dm_table *table;
    const struct dm_config *config;
    const char *data_name; /* shown in /api/meta (the DATA argument) */
    const char *version;   /* datamate version, shown in /api/meta */
    struct dm_pool *pool;  /* engine worker pool (may be NULL) */
};

struct dm_http_server_opts {
    const char *host; /* bind address (IP literal or "localhost"); NULL = 127.0.0.1 */
    unsigned port;    /* 0 = any free port */
    const char *token; /* required on every request when non-NULL */
    unsigned threads;  /* MHD thread pool size; 0 = number of CPUs (min 2) */
    unsigned timeout_s; /* idle connection timeout; 0 = 30 */
    unsigned max_connections; /* 0 = 256 */
};

struct dm_http_server;

/* Starts serving in background threads. Returns 0, -EADDRINUSE, -EINVAL (bad host) or
 * -EIO; err says why. */
int dm_http_server_start(struct dm_http_server **out, const struct dm_http_app *app,
                         const struct dm_http_server_opts *opts, struct dm_error *err);
/* The port actually bound. */
unsigned dm_http_server_port(const struct dm_http_server *s);
/* 1 when the bind address is loopback. */
int dm_http_server_loopback(const struct dm_http_server *s);
/* Stops the threads, closes connections and frees s (NULL-safe). */
void dm_http_server_stop(struct dm_http_server *s);

#endif
