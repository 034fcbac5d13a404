/* Log ingestion: input readers (JSON lines, JSON array, CSV/TSV, Zeek TSV, nfdump CSV,
 * AWS VPC flow logs), field mapping (presets, mapping files), type coercion and the convert
 * pipeline that turns inputs into the canonical flow schema in Parquet.
 *
 * Ownership: a struct dm_ingest_map is heap-owned (dm_ingest_map_free). dm_convert() only
 * borrows its options; the stats struct is caller storage filled by dm_convert and freed
 * with dm_convert_stats_release. Every input record ends up either written or rejected
 * with a reason (enum dm_reject). Library code never prints: progress goes through a
 * callback, the summary through the stats struct. */
#ifndef DM_INGEST_H
#define DM_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

/* Input formats. */
enum dm_in_format {
    DM_IN_AUTO = 0,
    DM_IN_JSONL,       /* one JSON object per line */
    DM_IN_JSON_ARRAY,  /* one JSON array of objects (nfdump -o json) */
    DM_IN_CSV,         /* RFC 4180 with a header line */
    DM_IN_TSV,         /* tab separated with a header line */
    DM_IN_ZEEK,        /* Zeek TSV with #separator / #fields header lines */
    DM_IN_NFDUMP_CSV,  /* nfdump -o csv: CSV plus a "Summary" trailer */
    DM_IN_VPC,         /* AWS VPC flow logs, space separated */
    DM_IN__COUNT
};

/* Command-line name of a format ("jsonl", "nfdump-json", ...). */
const char *dm_ingest_format_name(enum dm_in_format f);
/* Parses a format name (the names above plus "json" for jsonl); 0 or -EINVAL. */
int dm_ingest_format_parse(const char *name, enum dm_in_format *out);

/* Why a record was rejected. */
enum dm_reject {
    DM_REJ_JSON = 1,   /* invalid JSON (codes start at 1: 0 means "accepted") */
    DM_REJ_UTF8,       /* invalid UTF-8 */
    DM_REJ_TOO_LONG,   /* line longer than the maximum */
    DM_REJ_FIELDS,     /* wrong number of fields (CSV, TSV, Zeek, VPC) */
    DM_REJ_NOT_FLOW,   /* not a flow record (filtered by the preset, e.g. Suricata alerts) */
    DM_REJ_NO_TS,      /* missing timestamp */
    DM_REJ_BAD_TS,     /* timestamp does not parse */
    DM_REJ_NO_IP,      /* missing source or destination IP */
    DM_REJ_BAD_IP,     /* IP address does not parse */
    DM_REJ_NUMBER,     /* number does not parse or is not integral */
    DM_REJ_RANGE,      /* value out of range (port > 65535, negative bytes, ...) */
    DM_REJ_PROTO,      /* unknown protocol name */
    DM_REJ_VALUE,      /* an extra column's value does not fit its type */
    DM_REJ_FORMAT,     /* the file's format or preset could not be recognised */
    DM_REJ__COUNT
};

/* Short lowercase description of a reject reason. */
const char *dm_reject_name(enum dm_reject r);

/* Canonical columns, in output order (product.md "Canonical flow schema"). */
enum dm_canon {
    DM_C_TS = 0,
    DM_C_SRC_IP,
    DM_C_DST_IP,
    DM_C_SRC_PORT,
    DM_C_DST_PORT,
    DM_C_PROTO,
    DM_C_BYTES_SENT,
    DM_C_BYTES_RECV,
    DM_C_PACKETS,
    DM_C_ACTION,
    DM_C_DURATION,
    DM_C__COUNT
};

/* Name of a canonical column ("ts", "src_ip", ...). */
const char *dm_canon_name(enum dm_canon c);

/* A preset: a named field map. `rules` is a NULL-terminated list of "column=expr" and
 * "filter:field=v1,v2" / "filter:field!=v1" rules (syntax in docs/convert.md). */
struct dm_preset {
    const char *name;
    const char *summary;
    const char *const *rules;
};

/* The built-in presets; *n receives their number. */
const struct dm_preset *dm_presets(size_t *n);
/* The preset called name, or NULL. */
const struct dm_preset *dm_preset_find(const char *name);

/* A compiled field mapping (opaque). */
struct dm_ingest_map;

/* Compiles a preset; 0, -EINVAL (unknown preset) or -ENOMEM. */
int dm_ingest_map_preset(struct dm_ingest_map **out, const char *preset, struct dm_error *err);
/* Loads a mapping file: either our mapping JSON or the earlier tool's processing_config.json
 * (targeted_columns + columns_dtypes). *format receives the file's "format" (or AUTO).
 * Returns 0, -EIO (unreadable), DM_EPARSE (bad file; err says where) or -ENOMEM. */
int dm_ingest_map_load(struct dm_ingest_map **out, enum dm_in_format *format, const char *path,
                       struct dm_error *err);
void dm_ingest_map_free(struct dm_ingest_map *m);
/* The mapping as JSON text ({"ts":"expr",...,"extras":{...}}), for file metadata. Caller
 * dm_free()s the result; NULL on allocation failure. */
char *dm_ingest_map_describe(const struct dm_ingest_map *m);
/* Name of the preset the map came from ("mapping" for a mapping file). */
const char *dm_ingest_map_name(const struct dm_ingest_map *m);

/* Detects format and preset from the first bytes of an input. *preset receives a preset
 * name (static) or NULL when none fits. Returns 0 or DM_EPARSE (nothing recognisable). */
int dm_ingest_detect(const char *p, size_t n, enum dm_in_format *format, const char **preset,
                     struct dm_error *err);

/* Parses a timestamp (product.md shapes) into microseconds since the epoch, UTC. A time
 * without a zone is taken to be at UTC offset tz_off_s (seconds east). Returns 0 or
 * DM_REJ_BAD_TS. */
int dm_parse_ts(const char *p, size_t n, int64_t tz_off_s, int64_t *us);

/* Output partitioning. */
enum dm_partition { DM_PART_NONE = 0, DM_PART_DAY };

#define DM_EXAMPLES_MAX 10

struct dm_convert_example {
    char *where; /* "file:line" (heap) */
    enum dm_reject reason;
    char detail[160];
};

struct dm_convert_stats {
    uint64_t read, written, rejected;
    uint64_t by_reason[DM_REJ__COUNT];
    uint64_t files, files_failed;
    uint64_t bytes_in;    /* input bytes consumed (compressed size for .gz/.zst) */
    uint64_t bytes_total; /* sum of input file sizes, 0 when unknown (stdin) */
    uint64_t parts;       /* Parquet files written */
    struct dm_convert_example examples[DM_EXAMPLES_MAX];
    size_t nexamples;
    char formats[128]; /* formats seen, comma separated */
};

void dm_convert_stats_release(struct dm_convert_stats *st);

typedef void (*dm_progress_fn)(void *ctx, const struct dm_convert_stats *st);

struct dm_convert_opts {
    const char *const *inputs; /* files, directories, globs or "-" */
    size_t ninputs;
    const char *output;
    enum dm_in_format format;           /* AUTO = detect per file */
    const char *preset;              /* NULL = detect (or from the mapping) */
    const char *version;             /* datamate version for the file metadata */
    const struct dm_ingest_map *map; /* mapping file, overrides preset */
    enum dm_partition partition;
    int codec;       /* enum dm_pq_codec */
    unsigned threads; /* 0 = all cores */
    const char *rejects_path; /* NULL = none */
    int tz_local;       /* zone-less times are in the process's local zone (TZ) */
    int64_t tz_fixed_s; /* else: their fixed UTC offset in seconds */
    int keep_going;     /* an unreadable input is reported and skipped */
    size_t max_line;    /* 0 = 1 MiB */
    size_t chunk_bytes; /* 0 = 2 MiB (at least 2 * max_line + 2) */
    const volatile sig_atomic_t *cancel; /* set by a signal handler to stop */
    dm_progress_fn progress;
    void *progress_ctx;
};

/* Converts the inputs into opts->output. Returns 0 when something was written (rejects
 * are in st, not errors), DM_EPARSE when nothing could be written, -EIO / -ENOENT when an
 * input cannot be read (unless keep_going), DM_ECANCELED on cancel, -ENOMEM. On any
 * failure nothing is left under the output name. */
int dm_convert(const struct dm_convert_opts *opts, struct dm_convert_stats *st,
               struct dm_error *err);

#endif
