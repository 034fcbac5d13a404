/* datamate inspect FILE [--json] [--rows N]: schema, row groups, encodings, statistics, and
 * optionally the first N rows (table, or one JSON object per row). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_cli.h"
#include "dm_pq_reader.h"
#include "banned.h"

/* Appends to the output buffers can fail (out of memory); the first failure is kept here and
 * returned by flush(), so a listing with a missing piece is never printed as if complete. */
static int out_err;

static int out_chk(int rc)
{
    if (rc && !out_err)
        out_err = rc;
    return rc;
}

#define dm_buf_append(b, p, n) out_chk(dm_buf_append(b, p, n))
#define dm_buf_putc(b, c) out_chk(dm_buf_putc(b, c))
#define dm_buf_puts(b, s) out_chk(dm_buf_puts(b, s))
#define dm_buf_printf(b, ...) out_chk(dm_buf_printf(b, __VA_ARGS__))
#define dm_buf_json_str(b, s, n) out_chk(dm_buf_json_str(b, s, n))

#define CELL_MAX 40 /* table cells are cut to this many bytes */

static void usage(FILE *f)
{
    fprintf(f, "usage: datamate inspect FILE.parquet [--json] [--rows N]\n"
               "\n"
               "Prints a Parquet file's schema (with logical types), row count, and per row\n"
               "group the codec, encodings, sizes and statistics of every column.\n"
               "\n"
               "options:\n"
               "  --json       metadata as one JSON object (num_rows, schema, row_groups, ...);\n"
               "               with --rows, one JSON object per row keyed by column name\n"
               "  --rows N     print the first N rows instead of the metadata (a table, or JSON\n"
               "               lines with --json: integers as numbers, timestamps ISO 8601 UTC)\n"
               "  -h, --help   show this help\n");
}

/* ------------------------------------------------------------------ value formatting */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int floordiv(int64_t a, int64_t b, int64_t *q)
{
    int64_t r = a % b;
    *q = a / b - (r < 0);
    return 0;
}

static void put_date(struct dm_buf *b, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    dm_buf_printf(b, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* ISO 8601 timestamp of v units since the epoch (per_sec units per second). */
static void put_ts(struct dm_buf *b, int64_t v, int64_t per_sec, int digits, int utc)
{
    int64_t secs, days;
    floordiv(v, per_sec, &secs);
    int64_t frac = v - secs * per_sec;
    floordiv(secs, 86400, &days);
    int64_t sod = secs - days * 86400;
    put_date(b, days);
    dm_buf_printf(b, "T%02d:%02d:%02d", (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (digits)
        dm_buf_printf(b, ".%0*" PRId64, digits, frac);
    if (utc)
        dm_buf_putc(b, 'Z');
}

static int is_date(const struct dm_pq_leaf *l)
{
    return l->logical_id == 6 || (!l->logical_id && l->converted_type == 6);
}

static int is_decimal(const struct dm_pq_leaf *l)
{
    return l->logical_id == 5 || (!l->logical_id && l->converted_type == 5);
}

/* Unsigned magnitude with a decimal point inserted scale digits from the right. */
static void put_scaled(struct dm_buf *b, int neg, unsigned __int128 mag, int scale)
{
    char digits[64];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag && n < 60);
    while (n <= scale && n < 60)
        digits[n++] = '0';
    if (neg)
        dm_buf_putc(b, '-');
    for (int i = n - 1; i >= 0; i--) {
        dm_buf_putc(b, digits[i]);
        if (i == scale && scale > 0)
            dm_buf_putc(b, '.');
    }
}

static void put_decimal(struct dm_buf *b, __int128 v, int scale)
{
    unsigned __int128 mag = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v
                                  : (unsigned __int128)v;
    put_scaled(b, v < 0, mag, scale < 0 ? 0 : scale > 38 ? 38 : scale);
}

static void put_i64(struct dm_buf *b, const struct dm_pq_leaf *l, int64_t v)
{
    if (l->type == DM_PQ_INT96) {
        put_ts(b, v, 1000000000, 9, 1);
    } else if (l->logical == DM_PQ_LOG_TIMESTAMP) {
        static const int64_t per[] = {1000, 1000000, 1000000000};
        static const int dig[] = {3, 6, 9};
        int u = (int)l->ts_unit;
        if (u < 0 || u > 2)
            u = 1;
        put_ts(b, v, per[u], dig[u], l->ts_utc);
    } else if (is_date(l)) {
        put_date(b, v);
    } else if (is_decimal(l)) {
        put_decimal(b, v, l->scale);
    } else if (l->logical == DM_PQ_LOG_INTEGER && !l->int_signed) {
        uint64_t u = l->type == DM_PQ_INT32 ? (uint32_t)v : (uint64_t)v;
        dm_buf_printf(b, "%" PRIu64, u);
    } else {
        dm_buf_printf(b, "%" PRId64, v);
    }
}

/* Shortest text that reads back as the same value (as a float when single is set). */
static void put_f64(struct dm_buf *b, double v, int json, int single)
{
    if (isnan(v)) {
        dm_buf_puts(b, json ? "\"NaN\"" : "NaN");
        return;
    }
    if (isinf(v)) {
        dm_buf_puts(b, v > 0 ? (json ? "\"Infinity\"" : "Infinity")
                             : (json ? "\"-Infinity\"" : "-Infinity"));
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        double back = strtod(tmp, NULL);
        if (single ? (float)back == (float)v : back == v)
            break;
    }
    dm_buf_puts(b, tmp);
}

static double half_to_double(unsigned h)
{
    unsigned e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, (int)e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Terminal-safe text: printable ASCII and UTF-8 as is, other bytes as \xNN. */
static void put_text(struct dm_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c >= 0x20 && c < 0x7f) || c >= 0x80)
            dm_buf_putc(b, (char)c);
        else
            dm_buf_printf(b, "\\x%02x", c);
    }
}

static void put_bytes(struct dm_buf *b, const struct dm_pq_leaf *l, const uint8_t *p, size_t n,
                      int json)
{
    if (is_decimal(l) && n > 0 && n <= 16) {
        __int128 v = (p[0] & 0x80) ? -1 : 0;
        for (size_t i = 0; i < n; i++)
            v = (__int128)((unsigned __int128)v << 8 | p[i]);
        put_decimal(b, v, l->scale);
    } else if (l->logical_id == 15 && n == 2) { /* FLOAT16 */
        put_f64(b, half_to_double((unsigned)p[0] | (unsigned)p[1] << 8), json, 1);
    } else if (l->logical_id == 14 && n == 16) { /* UUID */
        if (json)
            dm_buf_putc(b, '"');
        for (size_t i = 0; i < 16; i++)
            dm_buf_printf(b, "%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "", p[i]);
        if (json)
            dm_buf_putc(b, '"');
    } else if (json) {
        dm_buf_json_str(b, (const char *)p, n);
    } else {
        put_text(b, p, n);
    }
}

/* A value of column c at row; json selects JSON syntax (strings quoted). */
static void put_value(struct dm_buf *b, const struct dm_pq_leaf *l, const struct dm_col *c,
                      size_t row, int json)
{
    if (dm_col_is_null(c, row)) {
        dm_buf_puts(b, json ? "null" : "NULL");
        return;
    }
    size_t start = b->len;
    int quote = json && (l->type == DM_PQ_INT96 || l->logical == DM_PQ_LOG_TIMESTAMP ||
                         is_date(l));
    if (quote)
        dm_buf_putc(b, '"');
    switch (c->type) {
    case DM_BOOL: dm_buf_puts(b, c->v.b[row] ? "true" : "false"); break;
    case DM_I32: put_i64(b, l, c->v.i32[row]); break;
    case DM_I64: put_i64(b, l, c->v.i64[row]); break;
    case DM_F64: put_f64(b, c->v.f64[row], json, l->type == DM_PQ_FLOAT); break;
    case DM_STR: {
        size_t n;
        const char *s = dm_col_str(c, row, &n);
        put_bytes(b, l, (const uint8_t *)s, n, json);
        break;
    }
    }
    if (quote)
        dm_buf_putc(b, '"');
    (void)start;
}

/* ------------------------------------------------------------------ metadata */

static const char *repetition(const struct dm_pq_leaf *l)
{
    return l->optional ? "optional" : "required";
}

static void put_logical(struct dm_buf *b, const struct dm_pq_leaf *l)
{
    static const char *const unit[] = {"MILLIS", "MICROS", "NANOS"};
    static const char *const lnames[] = {"",     "STRING", "MAP",     "LIST",   "ENUM",
                                         "DECIMAL", "DATE", "TIME",   "TIMESTAMP", "",
                                         "INTEGER", "UNKNOWN", "JSON", "BSON",   "UUID",
                                         "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY", "FILE"};
    static const char *const cnames[] = {
        "UTF8",        "MAP",         "MAP_KEY_VALUE",    "LIST",           "ENUM",
        "DECIMAL",     "DATE",        "TIME_MILLIS",      "TIME_MICROS",    "TIMESTAMP_MILLIS",
        "TIMESTAMP_MICROS", "UINT_8", "UINT_16",          "UINT_32",        "UINT_64",
        "INT_8",       "INT_16",      "INT_32",           "INT_64",         "JSON",
        "BSON",        "INTERVAL"};
    switch (l->logical) {
    case DM_PQ_LOG_NONE: return;
    case DM_PQ_LOG_STRING:
        dm_buf_puts(b, l->logical_id == 4 ? "ENUM" : l->logical_id == 12 ? "JSON" : "STRING");
        return;
    case DM_PQ_LOG_TIMESTAMP:
        dm_buf_printf(b, "TIMESTAMP(%s,%s)", unit[(int)l->ts_unit % 3],
                      l->ts_utc ? "UTC" : "local");
        return;
    case DM_PQ_LOG_INTEGER:
        dm_buf_printf(b, "INTEGER(%d,%s)", l->int_bits, l->int_signed ? "signed" : "unsigned");
        return;
    case DM_PQ_LOG_OTHER:
        if (is_decimal(l))
            dm_buf_printf(b, "DECIMAL(%d,%d)", l->precision, l->scale);
        else if (l->logical_id > 0 && l->logical_id < 20 && lnames[l->logical_id][0])
            dm_buf_puts(b, lnames[l->logical_id]);
        else if (l->converted_type >= 0 && l->converted_type < 22)
            dm_buf_puts(b, cnames[l->converted_type]);
        else
            dm_buf_puts(b, "OTHER");
        return;
    }
}

static void put_encodings(struct dm_buf *b, uint32_t enc, int json)
{
    int first = 1;
    for (int e = 0; e < 32; e++) {
        if (!(enc & (1u << e)))
            continue;
        if (json)
            dm_buf_printf(b, "%s\"%s\"", first ? "" : ",", dm_pq_encoding_name(e));
        else
            dm_buf_printf(b, "%s%s", first ? "" : ",", dm_pq_encoding_name(e));
        first = 0;
    }
    if (first && !json)
        dm_buf_putc(b, '-');
}

static void put_stat_bound(struct dm_buf *b, const struct dm_pq_leaf *l,
                           const struct dm_pq_stats *s, int max, int json)
{
    int quote = json && (l->type == DM_PQ_INT96 || l->logical == DM_PQ_LOG_TIMESTAMP ||
                         is_date(l));
    if (quote)
        dm_buf_putc(b, '"');
    switch (l->type) {
    case DM_PQ_BOOLEAN: dm_buf_puts(b, (max ? s->max_i : s->min_i) ? "true" : "false"); break;
    case DM_PQ_INT32:
    case DM_PQ_INT64:
    case DM_PQ_INT96: put_i64(b, l, max ? s->max_i : s->min_i); break;
    case DM_PQ_FLOAT:
    case DM_PQ_DOUBLE:
        put_f64(b, max ? s->max_f : s->min_f, json, l->type == DM_PQ_FLOAT);
        break;
    case DM_PQ_BYTE_ARRAY:
    case DM_PQ_FIXED_LEN_BYTE_ARRAY:
        put_bytes(b, l, max ? s->max_s : s->min_s, max ? s->max_slen : s->min_slen, json);
        break;
    }
    if (quote)
        dm_buf_putc(b, '"');
}

static void meta_json(struct dm_buf *b, const struct dm_pq_meta *m)
{
    dm_buf_puts(b, "{\"file\":");
    dm_buf_json_str(b, m->path, strlen(m->path));
    dm_buf_printf(b, ",\"num_rows\":%" PRId64 ",\"version\":%d,\"created_by\":", m->num_rows,
                  m->version);
    dm_buf_json_str(b, m->created_by, strlen(m->created_by));
    dm_buf_puts(b, ",\"schema\":[");
    for (size_t i = 0; i < m->ncols; i++) {
        const struct dm_pq_leaf *l = &m->cols[i];
        dm_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        dm_buf_json_str(b, l->name, strlen(l->name));
        dm_buf_printf(b, ",\"physical_type\":\"%s\",\"repetition\":\"%s\"",
                      dm_pq_type_name((int)l->type), repetition(l));
        if (l->type_length)
            dm_buf_printf(b, ",\"type_length\":%d", l->type_length);
        size_t before = b->len;
        dm_buf_puts(b, ",\"logical_type\":\"");
        size_t mark = b->len;
        put_logical(b, l);
        if (b->len == mark) {
            b->len = before;
            b->data[b->len] = 0;
            dm_buf_puts(b, ",\"logical_type\":null");
        } else {
            dm_buf_putc(b, '"');
        }
        dm_buf_putc(b, '}');
    }
    dm_buf_puts(b, "],\"key_value_metadata\":{");
    for (size_t i = 0; i < m->nkv; i++) {
        if (i)
            dm_buf_putc(b, ',');
        dm_buf_json_str(b, m->kv[i].key, strlen(m->kv[i].key));
        dm_buf_putc(b, ':');
        if (m->kv[i].value)
            dm_buf_json_str(b, m->kv[i].value, strlen(m->kv[i].value));
        else
            dm_buf_puts(b, "null");
    }
    dm_buf_puts(b, "},\"row_groups\":[");
    for (size_t g = 0; g < m->nrow_groups; g++) {
        const struct dm_pq_row_group *rg = &m->row_groups[g];
        dm_buf_printf(b, "%s{\"num_rows\":%" PRId64 ",\"total_byte_size\":%" PRId64
                         ",\"columns\":[",
                      g ? "," : "", rg->num_rows, rg->total_byte_size);
        for (size_t c = 0; c < m->ncols; c++) {
            const struct dm_pq_leaf *l = &m->cols[c];
            const struct dm_pq_chunk_meta *cm = &rg->cols[c];
            dm_buf_puts(b, c ? ",{\"name\":" : "{\"name\":");
            dm_buf_json_str(b, l->name, strlen(l->name));
            dm_buf_printf(b, ",\"codec\":\"%s\",\"encodings\":[", dm_pq_codec_label((int)cm->codec));
            put_encodings(b, cm->encodings, 1);
            dm_buf_printf(b, "],\"num_values\":%" PRId64 ",\"compressed_size\":%" PRId64
                             ",\"uncompressed_size\":%" PRId64 ",\"statistics\":",
                          cm->num_values, cm->total_compressed_size, cm->total_uncompressed_size);
            if (!cm->has_stats) {
                dm_buf_puts(b, "null}");
                continue;
            }
            const struct dm_pq_stats *s = &cm->stats;
            dm_buf_puts(b, "{\"null_count\":");
            if (s->has_null_count)
                dm_buf_printf(b, "%" PRId64, s->null_count);
            else
                dm_buf_puts(b, "null");
            if (s->has_distinct_count)
                dm_buf_printf(b, ",\"distinct_count\":%" PRId64, s->distinct_count);
            if (s->has_min_max) {
                dm_buf_puts(b, ",\"min\":");
                put_stat_bound(b, l, s, 0, 1);
                dm_buf_puts(b, ",\"max\":");
                put_stat_bound(b, l, s, 1, 1);
                dm_buf_printf(b, ",\"min_max_trusted\":%s", s->min_max_trusted ? "true" : "false");
            }
            dm_buf_puts(b, "}}");
        }
        dm_buf_puts(b, "]}");
    }
    dm_buf_puts(b, "]}\n");
}

/* A column name padded to width w (terminal-safe). */
static void pad_name(struct dm_buf *b, const char *name, int w)
{
    size_t start = b->len;
    put_text(b, (const uint8_t *)name, strlen(name));
    for (size_t k = b->len - start; (int)k < w; k++)
        dm_buf_putc(b, ' ');
}

static void meta_text(struct dm_buf *b, const struct dm_pq_meta *m)
{
    dm_buf_puts(b, "file:        ");
    put_text(b, (const uint8_t *)m->path, strlen(m->path));
    dm_buf_printf(b, "\nrows:        %" PRId64 "\nrow groups:  %zu\ncreated by:  ", m->num_rows,
                  m->nrow_groups);
    put_text(b, (const uint8_t *)m->created_by, strlen(m->created_by));
    dm_buf_printf(b, "\n\nschema (%zu columns):\n", m->ncols);
    int nw = 4;
    for (size_t i = 0; i < m->ncols; i++) {
        size_t n = strlen(m->cols[i].name);
        if ((int)n > nw)
            nw = n > 32 ? 32 : (int)n;
    }
    for (size_t i = 0; i < m->ncols; i++) {
        const struct dm_pq_leaf *l = &m->cols[i];
        dm_buf_puts(b, "  ");
        pad_name(b, l->name, nw);
        dm_buf_printf(b, "  %s  %s", repetition(l), dm_pq_type_name((int)l->type));
        if (l->type_length)
            dm_buf_printf(b, "(%d)", l->type_length);
        size_t mark = b->len;
        dm_buf_puts(b, " ");
        size_t mark2 = b->len;
        put_logical(b, l);
        if (b->len == mark2) {
            b->len = mark;
            b->data[b->len] = 0;
        }
        dm_buf_putc(b, '\n');
    }
    if (m->nkv) {
        dm_buf_puts(b, "\nkey-value metadata:\n");
        for (size_t i = 0; i < m->nkv; i++) {
            dm_buf_puts(b, "  ");
            put_text(b, (const uint8_t *)m->kv[i].key, strlen(m->kv[i].key));
            dm_buf_puts(b, " = ");
            const char *v = m->kv[i].value ? m->kv[i].value : "";
            size_t n = strlen(v);
            put_text(b, (const uint8_t *)v, n > 200 ? 200 : n);
            dm_buf_puts(b, n > 200 ? "...\n" : "\n");
        }
    }
    for (size_t g = 0; g < m->nrow_groups; g++) {
        const struct dm_pq_row_group *rg = &m->row_groups[g];
        dm_buf_printf(b, "\nrow group %zu: %" PRId64 " rows, %" PRId64 " bytes\n", g, rg->num_rows,
                      rg->total_byte_size);
        for (size_t c = 0; c < m->ncols; c++) {
            const struct dm_pq_leaf *l = &m->cols[c];
            const struct dm_pq_chunk_meta *cm = &rg->cols[c];
            dm_buf_puts(b, "  ");
            pad_name(b, l->name, nw);
            dm_buf_printf(b, "  %-7s ", dm_pq_codec_label((int)cm->codec));
            put_encodings(b, cm->encodings, 0);
            dm_buf_printf(b, "  %" PRId64 " -> %" PRId64 " bytes", cm->total_uncompressed_size,
                          cm->total_compressed_size);
            if (cm->has_stats) {
                const struct dm_pq_stats *s = &cm->stats;
                if (s->has_null_count)
                    dm_buf_printf(b, "  nulls %" PRId64, s->null_count);
                if (s->has_distinct_count)
                    dm_buf_printf(b, "  distinct %" PRId64, s->distinct_count);
                if (s->has_min_max) {
                    struct dm_buf v;
                    dm_buf_init(&v, 4096);
                    put_stat_bound(&v, l, s, 0, 0);
                    dm_buf_puts(&v, " .. ");
                    put_stat_bound(&v, l, s, 1, 0);
                    dm_buf_printf(b, "  [%.*s]%s", (int)(v.len > 120 ? 120 : v.len),
                                  v.data ? v.data : "", s->min_max_trusted ? "" : " (untrusted)");
                    dm_buf_release(&v);
                }
            }
            dm_buf_putc(b, '\n');
        }
    }
}

/* ------------------------------------------------------------------ rows */

static int flush(struct dm_buf *b)
{
    if (out_err) { /* sticky: every later flush fails too */
        dm_buf_reset(b);
        return out_err;
    }
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -EIO;
    dm_buf_reset(b);
    return 0;
}

static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static int print_rows(const struct dm_pq_reader *r, uint64_t limit, int json)
{
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    struct dm_buf out, cell;
    dm_buf_init(&out, DM_BUF_UNLIMITED);
    dm_buf_init(&cell, DM_BUF_UNLIMITED);
    struct dm_pq_chunk *ch = dm_calloc(m->ncols ? m->ncols : 1, sizeof(*ch));
    /* table: buffered cells for width computation */
    char **cells = NULL;
    size_t ncells = 0;
    int rc = 0, frc;
    if (!ch) {
        rc = dm_cli_fail("out of memory");
        goto done;
    }
    uint64_t printed = 0;
    for (size_t g = 0; g < m->nrow_groups && printed < limit; g++) {
        struct dm_error err;
        dm_error_clear(&err);
        for (size_t c = 0; c < m->ncols; c++) {
            int e = dm_pq_read_chunk(r, g, c, 0, &ch[c], &err);
            if (e) {
                for (size_t k = 0; k <= c; k++)
                    dm_pq_chunk_release(&ch[k]);
                rc = dm_cli_fail("%s", err.msg);
                goto done;
            }
        }
        size_t nrows = ch[0].nrows;
        if (m->ncols == 0)
            nrows = 0;
        for (size_t i = 0; i < nrows && printed < limit; i++, printed++) {
            if (json) {
                dm_buf_putc(&out, '{');
                for (size_t c = 0; c < m->ncols; c++) {
                    if (c)
                        dm_buf_putc(&out, ',');
                    dm_buf_json_str(&out, m->cols[c].name, strlen(m->cols[c].name));
                    dm_buf_putc(&out, ':');
                    put_value(&out, &m->cols[c], &ch[c].values, i, 1);
                }
                dm_buf_puts(&out, "}\n");
                if (out.len > (1 << 16) && flush(&out))
                    break;
            } else {
                char **nc = dm_reallocarray(cells, ncells + m->ncols, sizeof(*cells));
                if (!nc) {
                    rc = dm_cli_fail("out of memory");
                    break;
                }
                cells = nc;
                for (size_t c = 0; c < m->ncols; c++) {
                    dm_buf_reset(&cell);
                    put_value(&cell, &m->cols[c], &ch[c].values, i, 0);
                    size_t n = utf8_cut(cell.data ? cell.data : "", cell.len, CELL_MAX);
                    cells[ncells + c] = dm_strndup(cell.data ? cell.data : "", n);
                    if (!cells[ncells + c]) {
                        rc = dm_cli_fail("out of memory");
                        ncells += c;
                        goto rows_done;
                    }
                }
                ncells += m->ncols;
            }
        }
    rows_done:
        for (size_t c = 0; c < m->ncols; c++)
            dm_pq_chunk_release(&ch[c]);
        if (rc)
            goto done;
    }
    if (!json && m->ncols) {
        size_t *w = dm_calloc(m->ncols, sizeof(*w));
        if (!w) {
            rc = dm_cli_fail("out of memory");
            goto done;
        }
        for (size_t c = 0; c < m->ncols; c++) {
            size_t n = strlen(m->cols[c].name);
            w[c] = n > CELL_MAX ? CELL_MAX : n;
        }
        for (size_t k = 0; k < ncells; k++) {
            size_t n = strlen(cells[k]);
            if (n > w[k % m->ncols])
                w[k % m->ncols] = n;
        }
        for (size_t c = 0; c < m->ncols; c++) {
            dm_buf_reset(&cell);
            put_text(&cell, (const uint8_t *)m->cols[c].name, strlen(m->cols[c].name));
            size_t n = utf8_cut(cell.data, cell.len, CELL_MAX);
            dm_buf_printf(&out, "%s%-*.*s", c ? "  " : "", (int)w[c], (int)n, cell.data);
        }
        while (out.len && out.data[out.len - 1] == ' ')
            out.len--;
        dm_buf_putc(&out, '\n');
        for (size_t k = 0; k < ncells; k++) {
            size_t c = k % m->ncols;
            int right = m->cols[c].vtype != DM_STR && m->cols[c].vtype != DM_BOOL &&
                        m->cols[c].logical != DM_PQ_LOG_TIMESTAMP;
            dm_buf_printf(&out, right ? "%s%*s" : "%s%-*s", c ? "  " : "", (int)w[c], cells[k]);
            if (c == m->ncols - 1) {
                /* trim trailing spaces */
                while (out.len && out.data[out.len - 1] == ' ')
                    out.len--;
                dm_buf_putc(&out, '\n');
            }
        }
        dm_free(w);
    }
    if ((frc = flush(&out)))
        rc = dm_cli_fail("%s", frc == -EIO ? "write error on stdout" : dm_strerror(frc));
done:
    for (size_t k = 0; k < ncells; k++)
        dm_free(cells[k]);
    dm_free(cells);
    dm_free(ch);
    dm_buf_release(&out);
    dm_buf_release(&cell);
    return rc;
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"rows", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int json = 0, want_rows = 0;
    unsigned long long rows = 0;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+hjn:", opts, NULL)) != -1) {
        switch (ch) {
        case 'h': usage(stdout); return 0;
        case 'j': json = 1; break;
        case 'n':
            if (dm_cli_parse_count(optarg, &rows))
                return dm_cli_usage_error("inspect", "invalid --rows '%s'", optarg);
            want_rows = 1;
            break;
        default:
            return dm_cli_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return dm_cli_usage_error("inspect", optind >= argc ? "missing FILE" : "too many arguments");
    const char *path = argv[optind];
    struct dm_error err;
    dm_error_clear(&err);
    struct dm_pq_reader *r;
    if (dm_pq_reader_open(&r, path, &err))
        return dm_cli_fail("%s", err.msg);
    int rc = 0;
    if (want_rows) {
        rc = print_rows(r, rows, json);
    } else {
        struct dm_buf b;
        dm_buf_init(&b, DM_BUF_UNLIMITED);
        if (json)
            meta_json(&b, dm_pq_reader_meta(r));
        else
            meta_text(&b, dm_pq_reader_meta(r));
        int frc = flush(&b);
        if (frc)
            rc = dm_cli_fail("%s", frc == -EIO ? "write error on stdout" : dm_strerror(frc));
        dm_buf_release(&b);
    }
    dm_pq_reader_free(r);
    if (!rc && fflush(stdout))
        rc = dm_cli_fail("write error on stdout");
    return rc;
}
