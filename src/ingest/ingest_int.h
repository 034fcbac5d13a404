/* Internals shared by the ingest files: extracted field values, the compiled map, the JSON
 * scanner, the delimited-text splitter and coercion. Nothing here allocates per record:
 * field values are slices into the input chunk; scratch buffers belong to the caller. */
#ifndef DM_INGEST_INT_H
#define DM_INGEST_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dm_batch.h"
#include "dm_buf.h"
#include "dm_ingest.h"

/* Kinds of an extracted field value. */
enum {
    DM_V_NONE = 0, /* absent */
    DM_V_NULL,     /* JSON null, Zeek/VPC "-", empty CSV cell */
    DM_V_STR,      /* JSON string contents (esc = has backslash escapes) */
    DM_V_NUM,      /* JSON number text */
    DM_V_TRUE,
    DM_V_FALSE,
    DM_V_OBJ,      /* raw JSON text of an object */
    DM_V_ARR,      /* raw JSON text of an array */
    DM_V_RAW       /* text cell of a delimited format (esc = has doubled CSV quotes) */
};

struct dm__val {
    const char *p;
    uint32_t n;
    uint8_t kind;
    uint8_t esc;
};

#define DM_MAP_MAX_FIELDS 64
#define DM_MAP_MAX_ALTS 4
#define DM_MAP_MAX_COLS 64
#define DM_MAP_MAX_FILTERS 4
#define DM_MAP_MAX_FILTER_VALUES 8

/* Expression ops for one alternative of an output column. */
enum { DM_OP_FIELD = 0, DM_OP_SUM, DM_OP_DIFF };
/* Units of a duration source. */
enum { DM_UNIT_MS = 0, DM_UNIT_S, DM_UNIT_US, DM_UNIT_NS };
/* Types of extra columns. */
enum { DM_X_STRING = 0, DM_X_INT64, DM_X_DOUBLE, DM_X_BOOL };

struct dm__alt {
    uint8_t op, unit;
    int16_t a, b; /* field indexes (b for SUM / DIFF) */
};

struct dm__col {
    char *name;  /* output column name */
    char *expr;  /* source text, for metadata */
    int canon;   /* enum dm_canon, or -1 for an extra */
    int xtype;   /* DM_X_* for extras */
    uint8_t nalts;
    struct dm__alt alts[DM_MAP_MAX_ALTS];
};

struct dm__filter {
    int16_t field;
    uint8_t negate, nvalues;
    char *values[DM_MAP_MAX_FILTER_VALUES];
};

/* Wanted JSON paths: open addressing on dm__key_hash of the dotted path. */
#define DM_KEYSET_SLOTS 256
struct dm__key {
    uint64_t h;
    const char *path; /* NULL = empty slot */
    uint16_t len;
    int16_t field;    /* leaf field index, -1 = none */
    uint8_t prefix;   /* some wanted path continues below this one */
};

struct dm__keyset {
    struct dm__key k[DM_KEYSET_SLOTS];
    uint16_t maxlen;
};

struct dm_ingest_map {
    char *name;
    size_t nfields;
    char *fields[DM_MAP_MAX_FIELDS]; /* source field names (dotted paths) */
    size_t ncols;                    /* DM_C__COUNT canonical columns first, then extras */
    struct dm__col cols[DM_MAP_MAX_COLS];
    size_t nfilters;
    struct dm__filter filters[DM_MAP_MAX_FILTERS];
    struct dm__keyset keys;
};

/* Adds one rule ("col=expr", "+name:type=expr", "filter:f=a,b", "filter:f!=a") to m.
 * Returns 0, DM_EPARSE (err says why) or -ENOMEM. */
int dm__map_rule(struct dm_ingest_map *m, const char *rule, struct dm_error *err);
/* Allocates an empty map with the canonical columns unmapped; NULL on -ENOMEM. */
struct dm_ingest_map *dm__map_new(const char *name);
/* Finishes a map (builds the key set); 0 or DM_EPARSE (e.g. ts not mapped). */
int dm__map_finish(struct dm_ingest_map *m, struct dm_error *err);
/* Field index of a source name, -1 when not used by the map. */
int dm__map_field(const struct dm_ingest_map *m, const char *name, size_t n);

/* ---- JSON scanner (json.c) ---- */

#define DM_JSON_MAX_DEPTH 128

/* Validates one JSON object in p[0..n) (whitespace around allowed) and stores the values of
 * the wanted paths into vals (indexed by field; untouched for absent ones). Returns 0,
 * DM_REJ_JSON or DM_REJ_UTF8; *errpos receives the byte offset of the problem. */
int dm__json_extract(const char *p, size_t n, const struct dm__keyset *ks, struct dm__val *vals,
                     size_t *errpos);

/* The top-level keys of the previous record, in order: records of one producer repeat
 * their keys in the same order, so the k-th key is first compared with the k-th key seen
 * last time (one short compare instead of scanning and hashing it). Caller storage, one
 * per thread; zero-initialise it; it re-primes itself when given another key set (key
 * sets are told apart by address: zero it again before reusing it after freeing one). */
#define DM_KEYCACHE_KEYS 32
#define DM_KEYCACHE_LEN 48
struct dm__keycache {
    const struct dm__keyset *ks;
    struct {
        const struct dm__key *e; /* NULL: a key that is not wanted */
        uint8_t len;             /* 0 = empty slot */
        char text[DM_KEYCACHE_LEN];
    } k[DM_KEYCACHE_KEYS];
};

/* dm__json_extract with a key-order cache (kc may be NULL); same results. */
int dm__json_extract_cached(const char *p, size_t n, const struct dm__keyset *ks,
                            struct dm__val *vals, struct dm__keycache *kc, size_t *errpos);
/* Skips one JSON value starting at p (after whitespace); returns the position after it, or
 * NULL with *rej set on invalid input. */
const char *dm__json_skip(const char *p, const char *end, int *rej);
/* Decodes the escapes of a validated JSON string body into out (capacity >= n); returns the
 * decoded length. */
size_t dm__json_unescape(const char *p, size_t n, char *out);
/* 1 when p[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int dm__utf8_valid(const char *p, size_t n);
/* Hash of a key path (the whole dotted text): a few word loads and multiplies, whatever
 * the length, so that looking up each key of each record stays cheap. */
static inline uint64_t dm__key_hash(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    while (n > 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        w = (uint64_t)lo | (uint64_t)hi << 32;
    } else {
        w = n ? (uint64_t)(uint8_t)p[0] | (uint64_t)(uint8_t)p[n / 2] << 8 |
                    (uint64_t)(uint8_t)p[n - 1] << 16
              : 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}
/* Longest source field name (mapping.c enforces it), so a dotted path fits a stack buffer. */
#define DM_MAP_MAX_NAME 200

/* Collects the dotted key paths of the first JSON object in p[0..n) (objects descended,
 * arrays skipped) into out as "\n"-separated text. Returns 0 or DM_REJ_JSON. */
int dm__json_keys(const char *p, size_t n, struct dm_buf *out);

/* A tiny JSON document model for configuration files (mapping files). Arena-free: nodes
 * and strings in one heap block per document. */
enum { DM_J_NULL, DM_J_BOOL, DM_J_NUM, DM_J_STR, DM_J_ARR, DM_J_OBJ };
struct dm__jnode {
    int type;
    char *key;  /* member name inside an object */
    char *str;  /* DM_J_STR (decoded) or DM_J_NUM (text) */
    int b;
    struct dm__jnode *child, *next;
};
/* Parses a whole document; NULL with err on failure (DM_EPARSE / -ENOMEM). */
struct dm__jnode *dm__jdoc_parse(const char *p, size_t n, struct dm_error *err);
void dm__jdoc_free(struct dm__jnode *root);
struct dm__jnode *dm__jdoc_get(const struct dm__jnode *obj, const char *key);

/* ---- delimited text (csv.c) ---- */

/* End of the record that starts at p: the byte after its newline (or end). With quote
 * handling (CSV) newlines inside quotes belong to the record. */
const char *dm__csv_record_end(const char *p, const char *end, int quoted);
/* Splits one record (without its line terminator) into cells. sep is ',' '\t' or ' '.
 * quoted: RFC 4180 quotes. Returns the cell count (may exceed max; only max stored), or -1
 * on an unterminated quote. */
long dm__csv_split(const char *p, size_t n, char sep, int quoted, struct dm__val *cells,
                   size_t max);
/* Removes doubled quotes of a quoted CSV cell into out (capacity n); returns length. */
size_t dm__csv_unquote(const char *p, size_t n, char *out);

/* ---- coercion (coerce.c) ---- */

/* Parses an integer given as 443, "443", 443.0, 1.5e3, "0x1bb", " 443 ". Returns 0,
 * DM_REJ_NUMBER (not a number, not integral) or DM_REJ_RANGE (does not fit int64). */
int dm__parse_int(const char *p, size_t n, int64_t *out);
/* Parses a decimal number as double (finite only); 0 or DM_REJ_NUMBER. */
int dm__parse_double(const char *p, size_t n, double *out);
/* IANA protocol number of a name ("tcp", "UDP", "ipv6-icmp"...) or numeric text; 0 or
 * DM_REJ_PROTO / DM_REJ_RANGE. */
int dm__parse_proto(const char *p, size_t n, int64_t *out);

/* Per-worker state for turning extracted values into one batch row. */
struct dm__coerce {
    const struct dm_ingest_map *map;
    int tz_local;
    int64_t tz_fixed_s;
    int64_t tz_cache_hour, tz_cache_off; /* local-zone offset cache */
    char ts_date[10];                    /* last "YYYY-MM-DD" parsed, and its day number */
    int ts_date_ok;
    int64_t ts_days;
    char *scratch;                       /* unescape space, >= max record length */
    size_t scratch_cap;
    char detail[160]; /* detail of the last reject */
};

/* Builds row b->nrows from vals; returns 0 (row committed), a DM_REJ_* code + 1 (as a
 * positive number: the record is rejected, c->detail says why), or -ENOMEM. */
int dm__coerce_row(struct dm__coerce *c, const struct dm__val *vals, struct dm_batch *b);

#endif
