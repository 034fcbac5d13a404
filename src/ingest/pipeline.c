/* The convert pipeline.
 *
 * The calling thread only reads each input (decompressing .gz / .zst), cuts it into chunks
 * that end on a record boundary, and queues each chunk as a pool job. Workers parse their
 * chunk into their own batch and reject list, then the chunks are consumed strictly in
 * submission order — so rows keep input order within a file — by whichever worker finished
 * the next chunk in line (one consumer at a time, see try_consume): rejects go to the stats
 * and the --rejects file, batches to the Parquet writer(s), whose row-group encoding runs on
 * the pool too. So reading, parsing and writing overlap and no single thread is the
 * bottleneck. The calling thread reuses a chunk once it has been consumed; at most
 * 3 * threads + 2 chunks of 2 MiB exist at once, which bounds memory whatever the input.
 *
 * Line numbers: workers count lines relative to their chunk; the consumer, which sees the
 * chunks of a file in order, turns them into file line numbers.
 *
 * A line longer than the chunk buffer is not parsed: its bytes travel in "long" chunks
 * (first, middle, last piece) that the consumer streams verbatim into the --rejects file.
 *
 * Output goes to temporary names (the writer's "<path>.tmp-*" files; for --partition day a
 * "<OUT>.tmp-<pid>" directory) renamed into place only after everything succeeded. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_parquet.h"
#include "dm_pool.h"
#include "ingest_int.h"
#include "input_int.h"
#include "banned.h"

#define MAX_CELLS 512
#define PAD 64
#define MAX_OPEN_PARTS 8
#define ROW_GROUP_ROWS (128 * 1024)
/* Chunks are small so that a chunk is still in the cache when a worker parses it (the
 * reader stays at most READ_AHEAD(threads) chunks ahead of the parsers) and so that little
 * memory is touched at all (first-touch page faults are costly, in VMs especially); a few
 * more than the readers and workers need, so that parsed chunks can pile up while the
 * consumer encodes a row group. */
#define CHUNK_BYTES ((size_t)2 << 20)
#define RING_CHUNKS(threads) (3 * (size_t)(threads) + 2)
#define READ_AHEAD(threads) (2 * (size_t)(threads))

struct fileinfo {
    const char *path;
    enum dm_in_format fmt;
    const struct dm_ingest_map *map;
    char sep;
    int quoted;
    size_t ncells;  /* expected cells per record (0 = no check) */
    int min_cells;  /* VPC without header: at least this many */
    int16_t colmap[MAX_CELLS];
    char unset[16], empty[16];
    size_t nunset, nempty;
    size_t refs; /* chunks in flight */
    /* Format or preset not recognised: every line is a record rejected with this reason,
     * so that read = written + rejected still holds. */
    int unmapped;
    char why[160];
};

struct rej {
    uint64_t line; /* relative to the chunk until consumed */
    uint32_t off, len;
    uint16_t reason;
    uint32_t det_off;
    uint16_t det_len;
};

/* Chunk states (under conv.mu). */
enum { CH_FREE = 0, CH_QUEUED, CH_PARSED, CH_CONSUMED };
/* Pieces of a line longer than the buffer (LONG_FIRST carries the reject). */
enum { PIECE_NONE = 0, PIECE_FIRST, PIECE_MID, PIECE_LAST };

struct chunk {
    struct dm_pool_job job;
    struct conv *cv;
    struct fileinfo *fi;
    char *buf;
    size_t len, cap;
    uint64_t line0;    /* file_first: line number of the first byte */
    uint64_t pre_lines; /* lines removed from the front (a Zeek header block) */
    uint64_t nlines;   /* lines in the chunk, counted by the parser (with pre_lines) */
    int first;      /* first chunk of its file (JSON array: before '['; BOM) */
    int file_first; /* the consumer starts counting lines at line0 */
    int piece;      /* PIECE_*: part of an over-long line, not parsed */
    int state;      /* CH_* */
    int cons_rc;    /* what consuming it returned */
    struct dm_batch batch;
    struct rej *rej;
    size_t nrej, rejcap;
    struct dm_buf det;
    uint64_t records;
    int err;
    struct dm__coerce co;
    struct dm__keycache kc;
    struct dm__val vals[DM_MAP_MAX_FIELDS];
    struct dm__val cells[MAX_CELLS];
};

/* The chunks, reused in ring order: [head, head + count) are in flight. */
struct ring {
    struct chunk **v;
    size_t n, head, count;
};

struct part {
    int64_t day;
    unsigned seq;
    struct dm_pq_writer *w;
    uint64_t last_use;
};

struct conv {
    const struct dm_convert_opts *o;
    struct dm_convert_stats *st;
    struct dm_error *err;
    struct dm_pool *pool;
    size_t max_line, chunk_bytes, read_ahead;
    struct dm_ingest_map *maps[16];
    size_t nmaps;
    const struct dm_ingest_map *schema_map; /* decides extra columns */
    struct dm_pq_column_spec *specs;
    enum dm_vtype *types;
    size_t ncols;
    /* output */
    struct dm_pq_writer *w;
    struct part parts[MAX_OPEN_PARTS];
    size_t nparts;
    unsigned *day_seq; /* parts started per day, indexed by day - day_base */
    int64_t day_base;
    size_t nday_seq;
    char *tmpdir;
    uint64_t use_clock;
    struct dm_batch sub;
    int sub_ok;
    /* Consumption (see try_consume). */
    pthread_mutex_t mu;
    pthread_cond_t consumed;
    struct ring *ring;
    size_t cons_idx;   /* ring slot of the next chunk to consume */
    int consuming;     /* a thread is consuming */
    size_t unparsed;   /* chunks queued and not yet parsed */
    int cons_failed;   /* consumption stopped: later chunks are dropped */
    uint64_t cons_line; /* file line number of the next chunk's first line */
    struct dm_error cons_err;
    FILE *rejects;
    char *mapping_json;
    struct dm_buf mapdesc;
    uint64_t bytes_done;
    int fatal; /* an output-side error: never skipped by keep_going */
};

/* ---- workers ---- */

static int add_reject(struct chunk *c, uint64_t line, const char *rec, size_t len, int reason,
                      const char *detail)
{
    if (c->nrej == c->rejcap) {
        size_t cap = c->rejcap ? c->rejcap * 2 : 64;
        struct rej *r = dm_reallocarray(c->rej, cap, sizeof(*r));
        if (!r)
            return -ENOMEM;
        c->rej = r;
        c->rejcap = cap;
    }
    struct rej *r = &c->rej[c->nrej];
    r->line = line;
    r->off = (uint32_t)(rec - c->buf);
    r->len = (uint32_t)len;
    r->reason = (uint16_t)reason;
    r->det_off = (uint32_t)c->det.len;
    size_t dl = detail ? strlen(detail) : 0;
    if (dl > 200)
        dl = 200;
    if (dl && dm_buf_append(&c->det, detail, dl))
        return -ENOMEM;
    r->det_len = (uint16_t)dl;
    c->nrej++;
    return 0;
}

static int filters_pass(struct chunk *c, const struct dm_ingest_map *m, char *detail, size_t cap)
{
    for (size_t i = 0; i < m->nfilters; i++) {
        const struct dm__filter *f = &m->filters[i];
        const struct dm__val *v = &c->vals[f->field];
        if (v->kind == DM_V_NONE || v->kind == DM_V_NULL)
            continue;
        const char *t = v->p;
        size_t n = v->n;
        if (v->esc && n <= c->co.scratch_cap) {
            n = v->kind == DM_V_STR ? dm__json_unescape(t, n, c->co.scratch)
                                    : dm__csv_unquote(t, n, c->co.scratch);
            t = c->co.scratch;
        }
        while (n && (*t == ' '))
            t++, n--;
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\r'))
            n--;
        int match = 0;
        for (size_t k = 0; k < f->nvalues && !match; k++)
            match = strlen(f->values[k]) == n && strncasecmp(f->values[k], t, n) == 0;
        if (match == f->negate) {
            char q[48];
            size_t o = 0;
            for (size_t k = 0; k < n && o + 1 < sizeof(q); k++)
                q[o++] = (t[k] >= 0x20 && t[k] < 0x7f) ? t[k] : '?';
            q[o] = '\0';
            snprintf(detail, cap, "%s '%s'", m->fields[f->field], q);
            return 0;
        }
    }
    return 1;
}

/* Runs one record through filters and coercion. */
static int do_record(struct chunk *c, uint64_t line, const char *rec, size_t len)
{
    const struct dm_ingest_map *m = c->fi->map;
    char detail[160];
    if (!filters_pass(c, m, detail, sizeof(detail)))
        return add_reject(c, line, rec, len, DM_REJ_NOT_FLOW, detail);
    int rc = dm__coerce_row(&c->co, c->vals, &c->batch);
    if (rc > 0)
        return add_reject(c, line, rec, len, rc - 1, c->co.detail);
    return rc;
}

static int json_record(struct chunk *c, uint64_t line, const char *rec, size_t len)
{
    const struct dm_ingest_map *m = c->fi->map;
    memset(c->vals, 0, m->nfields * sizeof(c->vals[0]));
    size_t errpos = 0;
    int rj = dm__json_extract_cached(rec, len, &m->keys, c->vals, &c->kc, &errpos);
    if (rj) {
        char d[64];
        snprintf(d, sizeof(d), "at byte %zu", errpos + 1);
        return add_reject(c, line, rec, len, rj, d);
    }
    return do_record(c, line, rec, len);
}

static int delim_record(struct chunk *c, uint64_t line, const char *rec, size_t len)
{
    const struct fileinfo *fi = c->fi;
    const struct dm_ingest_map *m = fi->map;
    long nc = dm__csv_split(rec, len, fi->sep, fi->quoted, c->cells, MAX_CELLS);
    if (nc < 0)
        return add_reject(c, line, rec, len, DM_REJ_FIELDS, "unterminated quote");
    if ((fi->ncells && (size_t)nc != fi->ncells) || (fi->min_cells && nc < fi->min_cells)) {
        char d[96];
        snprintf(d, sizeof(d), "%ld fields, expected %s%zu", nc, fi->min_cells ? "at least " : "",
                 fi->min_cells ? (size_t)fi->min_cells : fi->ncells);
        return add_reject(c, line, rec, len, DM_REJ_FIELDS, d);
    }
    memset(c->vals, 0, m->nfields * sizeof(c->vals[0]));
    for (long i = 0; i < nc && i < MAX_CELLS; i++) {
        int f = fi->colmap[i];
        if (f < 0)
            continue;
        struct dm__val v = c->cells[i];
        if (v.n == 0 || (fi->nunset && v.n == fi->nunset && !memcmp(v.p, fi->unset, v.n)) ||
            (fi->nempty && v.n == fi->nempty && !memcmp(v.p, fi->empty, v.n)))
            v.kind = DM_V_NULL;
        c->vals[f] = v;
    }
    return do_record(c, line, rec, len);
}

static size_t count_nl(const char *p, const char *end)
{
    size_t n = 0;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        n++;
        p++;
    }
    return n;
}

static int parse_array_chunk(struct chunk *c)
{
    const char *p = c->buf, *end = c->buf + c->len;
    uint64_t line = c->pre_lines;
    int rc = 0;
    while (p < end && !rc) {
        char ch = *p;
        if (ch == '\n') {
            line++;
            p++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == ',' || ch == ']' ||
            (ch == '[' && c->first))
            { p++; continue; }
        int rej = 0;
        const char *e = dm__json_skip(p, end, &rej);
        c->records++;
        if (!e) {
            /* Cannot resynchronise inside a broken array: the rest is one bad record. */
            rc = add_reject(c, line, p, (size_t)(end - p), rej, "in the JSON array");
            break;
        }
        if ((size_t)(e - p) > c->cv->max_line)
            rc = add_reject(c, line, p, (size_t)(e - p), DM_REJ_TOO_LONG, NULL);
        else
            rc = json_record(c, line, p, (size_t)(e - p));
        line += count_nl(p, e);
        p = e;
    }
    c->nlines = line + count_nl(p, end);
    return rc;
}

static void try_consume(struct conv *cv, struct chunk *done);

/* The record of an over-long line: the first piece is its reject (the consumer writes the
 * pieces through to --rejects); the last piece ends its line. */
static int parse_piece(struct chunk *c)
{
    c->nlines = c->piece == PIECE_LAST;
    if (c->piece != PIECE_FIRST)
        return 0;
    char d[64];
    snprintf(d, sizeof(d), "more than %zu bytes", c->cv->max_line);
    c->records = 1;
    return add_reject(c, 0, c->buf, c->len, DM_REJ_TOO_LONG, d);
}

static int parse_records(struct chunk *c);

static void parse_chunk(void *ctx, size_t task, unsigned worker)
{
    (void)task;
    (void)worker;
    struct chunk *c = ctx;
    if (c->piece)
        c->err = parse_piece(c);
    else if (c->fi->fmt == DM_IN_JSON_ARRAY)
        c->err = parse_array_chunk(c);
    else
        c->err = parse_records(c);
    try_consume(c->cv, c);
}

static int parse_records(struct chunk *c)
{
    const struct fileinfo *fi = c->fi;
    int rc = 0;
    const char *p = c->buf, *end = c->buf + c->len;
    uint64_t line = c->pre_lines;
    int quoted = fi->quoted;
    if (fi->unmapped) {
        while (p < end && !rc) {
            const char *re = dm__csv_record_end(p, end, 0), *q = re;
            if (q > p && q[-1] == '\n')
                q--;
            if (q > p && q[-1] == '\r')
                q--;
            uint64_t here = line++;
            const char *rec = p;
            p = re;
            const char *s = rec;
            while (s < q && (*s == ' ' || *s == '\t'))
                s++;
            if (s == q)
                continue;
            c->records++;
            rc = add_reject(c, here, rec, (size_t)(q - rec), DM_REJ_FORMAT, fi->why);
        }
        c->nlines = line;
        return rc;
    }
    if (c->first && end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (p < end && !rc) {
        const char *re = dm__csv_record_end(p, end, quoted);
        const char *q = re;
        size_t lines = quoted ? count_nl(p, re) : 1;
        if (q > p && q[-1] == '\n')
            q--;
        if (q > p && q[-1] == '\r')
            q--;
        const char *s = p;
        while (s < q && (*s == ' ' || *s == '\t'))
            s++;
        uint64_t here = line;
        line += lines ? lines : 1;
        const char *rec = p;
        size_t len = (size_t)(q - p);
        p = re;
        if (s == q)
            continue; /* empty line: not a record */
        if (fi->fmt == DM_IN_ZEEK && *rec == '#')
            continue;
        if (fi->fmt == DM_IN_VPC && len > 8 && !memcmp(rec, "version ", 8))
            continue; /* repeated header */
        if (fi->fmt == DM_IN_NFDUMP_CSV && len == 7 && !memcmp(rec, "Summary", 7)) {
            line += count_nl(p, end); /* trailer: "Summary", its header and the totals */
            break;
        }
        c->records++;
        if (len > c->cv->max_line) {
            char d[64];
            snprintf(d, sizeof(d), "more than %zu bytes", c->cv->max_line);
            rc = add_reject(c, here, rec, len, DM_REJ_TOO_LONG, d); /* verbatim */
            continue;
        }
        if (fi->fmt == DM_IN_JSONL)
            rc = json_record(c, here, rec, len);
        else
            rc = delim_record(c, here, rec, len);
    }
    c->nlines = line;
    return rc;
}

/* ---- chunk lifecycle ---- */

static void chunk_free(struct chunk *c)
{
    if (!c)
        return;
    dm_free(c->buf);
    dm_batch_release(&c->batch);
    dm_free(c->rej);
    dm_buf_release(&c->det);
    dm_free(c->co.scratch);
    dm_free(c);
}

static struct chunk *chunk_new(struct conv *cv)
{
    struct chunk *c = dm_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cv = cv;
    c->cap = cv->chunk_bytes;
    c->buf = dm_malloc(c->cap + PAD);
    c->co.scratch_cap = cv->max_line + PAD;
    c->co.scratch = dm_malloc(c->co.scratch_cap);
    dm_buf_init(&c->det, 1 << 24);
    if (!c->buf || !c->co.scratch ||
        dm_batch_init(&c->batch, cv->types, cv->ncols, 4096)) {
        chunk_free(c);
        return NULL;
    }
    return c;
}

static void chunk_reset(struct chunk *c)
{
    dm_batch_clear(&c->batch);
    c->nrej = 0;
    dm_buf_reset(&c->det);
    c->records = 0;
    c->err = 0;
    c->len = 0;
    c->first = 0;
    c->file_first = 0;
    c->line0 = 0;
    c->pre_lines = 0;
    c->nlines = 0;
    c->piece = PIECE_NONE;
    c->cons_rc = 0;
    c->co.tz_cache_hour = INT64_MIN;
}

/* ---- output ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int open_writer(struct conv *cv, const char *path, struct dm_pq_writer **w,
                       struct dm_error *err)
{
    struct dm_pq_writer_opts wo;
    dm_pq_writer_opts_default(&wo);
    wo.codec = (enum dm_pq_codec)cv->o->codec;
    wo.pool = cv->pool;
    /* 128 K-row groups (DuckDB writes 122,880): a row group's buffers stay in cache while
     * they are encoded, dictionaries are tried on fewer values, and readers get more units
     * to spread over threads. Files are within a few percent of 1 M-row groups. */
    wo.row_group_rows = ROW_GROUP_ROWS;
    /* zstd level 2: ~10% less CPU for the whole convert than level 3, files ~1% larger
     * (still smaller than DuckDB's level-3 files of the same columns). */
    if (wo.codec == DM_PQ_ZSTD)
        wo.level = 2;
    struct dm_pq_kv kv[1] = {{"datamate.version", cv->o->version ? cv->o->version : "?"}};
    wo.kv = kv;
    wo.nkv = 1;
    return dm_pq_writer_open(w, path, cv->specs, cv->ncols, &wo, err);
}

static int finish_writer(struct conv *cv, struct dm_pq_writer *w, struct dm_error *err)
{
    pthread_mutex_lock(&cv->mu); /* formats grows as files are set up */
    int rc = dm_pq_writer_set_kv(w, "datamate.source_format", cv->st->formats);
    pthread_mutex_unlock(&cv->mu);
    if (!rc && cv->mapdesc.data)
        rc = dm_pq_writer_set_kv(w, "datamate.mapping", cv->mapdesc.data);
    if (rc) {
        dm_pq_writer_abort(w);
        return dm_error_set(err, rc, "out of memory");
    }
    rc = dm_pq_writer_close(w, err);
    if (!rc)
        cv->st->parts++;
    return rc;
}

static int part_close(struct conv *cv, size_t i, struct dm_error *err)
{
    struct part *p = &cv->parts[i];
    int rc = finish_writer(cv, p->w, err);
    cv->parts[i] = cv->parts[--cv->nparts];
    return rc;
}

static int part_for(struct conv *cv, int64_t day, struct dm_pq_writer **out,
                    struct dm_error *err)
{
    for (size_t i = 0; i < cv->nparts; i++)
        if (cv->parts[i].day == day) {
            cv->parts[i].last_use = ++cv->use_clock;
            *out = cv->parts[i].w;
            return 0;
        }
    int rc;
    if (cv->nparts == MAX_OPEN_PARTS) {
        size_t lru = 0;
        for (size_t i = 1; i < cv->nparts; i++)
            if (cv->parts[i].last_use < cv->parts[lru].last_use)
                lru = i;
        if ((rc = part_close(cv, lru, err)))
            return rc;
    }
    /* Sequence numbers per day: a day whose writer was closed gets part-00001 next. */
    if (!cv->day_seq) {
        cv->day_base = day - 4096;
        cv->nday_seq = 8192;
        cv->day_seq = dm_calloc(cv->nday_seq, sizeof(*cv->day_seq));
        if (!cv->day_seq)
            return dm_error_set(err, -ENOMEM, "out of memory");
    }
    unsigned seq = 0;
    if (day >= cv->day_base && day - cv->day_base < (int64_t)cv->nday_seq)
        seq = cv->day_seq[day - cv->day_base]++;
    else
        seq = (unsigned)(cv->use_clock % 100000); /* far outside ±11 years: still unique */
    int64_t y, m, d;
    {
        /* civil from days */
        int64_t z = day + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        y = yoe + era * 400 + (m <= 2);
    }
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/day=%04lld-%02lld-%02lld", cv->tmpdir, (long long)y,
             (long long)m, (long long)d);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dm_error_set(err, -EIO, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/part-%05u.parquet", dir, seq);
    struct dm_pq_writer *w;
    if ((rc = open_writer(cv, path, &w, err)))
        return rc;
    struct part *p = &cv->parts[cv->nparts++];
    p->day = day;
    p->seq = seq;
    p->w = w;
    p->last_use = ++cv->use_clock;
    *out = w;
    return 0;
}

static int copy_row(struct dm_batch *dst, const struct dm_batch *src, size_t r)
{
    int rc = dm_batch_reserve(dst, 1);
    if (rc)
        return rc;
    for (size_t i = 0; i < src->ncols; i++) {
        const struct dm_col *c = &src->cols[i];
        if (dm_col_is_null(c, r)) {
            if ((rc = dm_batch_set_null(dst, i)))
                return rc;
            continue;
        }
        switch (c->type) {
        case DM_BOOL: dm_batch_set_bool(dst, i, c->v.b[r]); break;
        case DM_I32: dm_batch_set_i32(dst, i, c->v.i32[r]); break;
        case DM_I64: dm_batch_set_i64(dst, i, c->v.i64[r]); break;
        case DM_F64: dm_batch_set_f64(dst, i, c->v.f64[r]); break;
        case DM_STR: {
            size_t n;
            const char *s = dm_col_str(c, r, &n);
            if ((rc = dm_batch_set_str(dst, i, s, n)))
                return rc;
            break;
        }
        }
    }
    return dm_batch_commit_row(dst);
}

static int write_batch(struct conv *cv, const struct dm_batch *b, struct dm_error *err)
{
    int rc;
    if (b->nrows == 0)
        return 0;
    if (cv->o->partition != DM_PART_DAY) {
        if (!cv->w && (rc = open_writer(cv, cv->o->output, &cv->w, err)))
            return rc;
        return dm_pq_writer_write(cv->w, b, err);
    }
    const int64_t *ts = b->cols[DM_C_TS].v.i64;
    const int64_t dayus = 86400LL * 1000000;
    int64_t d0 = floor_div(ts[0], dayus);
    size_t i = 1;
    while (i < b->nrows && floor_div(ts[i], dayus) == d0)
        i++;
    struct dm_pq_writer *w;
    if (i == b->nrows) {
        if ((rc = part_for(cv, d0, &w, err)))
            return rc;
        return dm_pq_writer_write(w, b, err);
    }
    /* Rows of several days: one sub-batch per distinct day, in row order. */
    if (!cv->sub_ok) {
        if (dm_batch_init(&cv->sub, cv->types, cv->ncols, 4096))
            return dm_error_set(err, -ENOMEM, "out of memory");
        cv->sub_ok = 1;
    }
    uint8_t *done = dm_calloc(b->nrows, 1);
    if (!done)
        return dm_error_set(err, -ENOMEM, "out of memory");
    rc = 0;
    for (size_t s = 0; s < b->nrows && !rc; s++) {
        if (done[s])
            continue;
        int64_t day = floor_div(ts[s], dayus);
        dm_batch_clear(&cv->sub);
        for (size_t r = s; r < b->nrows && !rc; r++)
            if (!done[r] && floor_div(ts[r], dayus) == day) {
                done[r] = 1;
                if (copy_row(&cv->sub, b, r))
                    rc = dm_error_set(err, -ENOMEM, "out of memory");
            }
        if (!rc && !(rc = part_for(cv, day, &w, err)))
            rc = dm_pq_writer_write(w, &cv->sub, err);
    }
    dm_free(done);
    return rc;
}

/* ---- consuming finished chunks ---- */

static void add_format(struct conv *cv, const char *name)
{
    char *f = cv->st->formats;
    size_t n = strlen(name);
    pthread_mutex_lock(&cv->mu);
    size_t have = strlen(f);
    for (const char *p = f; (p = strstr(p, name)); p += n)
        if ((p == f || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
            pthread_mutex_unlock(&cv->mu);
            return;
        }
    if (have + n + 2 < sizeof(cv->st->formats))
        snprintf(f + have, sizeof(cv->st->formats) - have, "%s%s", have ? "," : "", name);
    pthread_mutex_unlock(&cv->mu);
}

static int rejects_failed(struct conv *cv)
{
    return dm_error_set(&cv->cons_err, -EIO, "cannot write '%s': %s", cv->o->rejects_path,
                        strerror(errno));
}

/* Consumes chunk c: stats, reject examples and --rejects lines, then the batch. Runs on one
 * thread at a time (try_consume), chunks in order; counters are updated under cv->mu so
 * that the progress callback sees them whole. Errors go to cv->cons_err. */
static int consume(struct conv *cv, struct chunk *c)
{
    struct dm_convert_stats *st = cv->st;
    if (c->err)
        return dm_error_set(&cv->cons_err, c->err, "out of memory");
    if (c->file_first)
        cv->cons_line = c->line0;
    uint64_t base = cv->cons_line;
    cv->cons_line += c->nlines;
    if (cv->rejects && (c->piece == PIECE_MID || c->piece == PIECE_LAST)) {
        /* The rest of an over-long line whose reject the first piece wrote. */
        fwrite(c->buf, 1, c->len, cv->rejects);
        if (c->piece == PIECE_LAST)
            fputc('\n', cv->rejects);
        if (ferror(cv->rejects))
            return rejects_failed(cv);
    }
    pthread_mutex_lock(&cv->mu);
    st->read += c->records;
    st->written += c->batch.nrows;
    st->rejected += c->nrej;
    int rc = 0;
    for (size_t i = 0; i < c->nrej; i++) {
        const struct rej *r = &c->rej[i];
        st->by_reason[r->reason]++;
        if (st->nexamples < DM_EXAMPLES_MAX) {
            struct dm_convert_example *e = &st->examples[st->nexamples];
            size_t len = strlen(c->fi->path) + 24;
            e->where = dm_malloc(len);
            if (!e->where) {
                rc = dm_error_set(&cv->cons_err, -ENOMEM, "out of memory");
                break;
            }
            snprintf(e->where, len, "%s:%llu", c->fi->path, (unsigned long long)(base + r->line));
            e->reason = (enum dm_reject)r->reason;
            snprintf(e->detail, sizeof(e->detail), "%.*s", (int)r->det_len,
                     c->det.data ? c->det.data + r->det_off : "");
            st->nexamples++;
        }
    }
    pthread_mutex_unlock(&cv->mu);
    if (rc)
        return rc;
    for (size_t i = 0; cv->rejects && i < c->nrej; i++) {
        const struct rej *r = &c->rej[i];
        fprintf(cv->rejects, "%s:%llu\t%s%s%.*s\t", c->fi->path,
                (unsigned long long)(base + r->line), dm_reject_name((enum dm_reject)r->reason),
                r->det_len ? ": " : "", (int)r->det_len, c->det.data ? c->det.data + r->det_off : "");
        fwrite(c->buf + r->off, 1, r->len, cv->rejects);
        if (c->piece != PIECE_FIRST)
            fputc('\n', cv->rejects); /* a first piece's line goes on in the next chunks */
        if (ferror(cv->rejects))
            return rejects_failed(cv);
    }
    return write_batch(cv, &c->batch, &cv->cons_err);
}

/* Called by the thread that finished parsing chunk done: unless another thread is already
 * consuming, consume every parsed chunk at the head of the line, in order. A chunk parsed
 * while another thread consumes is picked up by that thread's loop. After a failure the
 * remaining chunks are marked consumed without being written. */
static void try_consume(struct conv *cv, struct chunk *done)
{
    pthread_mutex_lock(&cv->mu);
    done->state = CH_PARSED;
    cv->unparsed--;
    if (cv->consuming) {
        pthread_mutex_unlock(&cv->mu);
        return;
    }
    cv->consuming = 1;
    for (;;) {
        struct chunk *c = cv->ring->v[cv->cons_idx];
        if (c->state != CH_PARSED)
            break;
        int failed = cv->cons_failed;
        pthread_mutex_unlock(&cv->mu);
        int rc = failed ? DM_ECANCELED : consume(cv, c);
        pthread_mutex_lock(&cv->mu);
        c->cons_rc = rc;
        if (rc)
            cv->cons_failed = 1;
        c->state = CH_CONSUMED;
        cv->cons_idx = (cv->cons_idx + 1) % cv->ring->n;
        pthread_cond_broadcast(&cv->consumed);
    }
    cv->consuming = 0;
    pthread_mutex_unlock(&cv->mu);
}

/* ---- reading and cutting ---- */

static int file_setup(struct conv *cv, struct fileinfo *fi, struct chunk *c);
static int canceled(const struct conv *cv);


struct fstate {
    struct dm__reader rd;
    char *carry;
    size_t ncarry;
    int eof, long_line, first;
    struct fileinfo *fi; /* current layout (one reference held) */
};

/* End of the last complete record in buf[0..len) (0 when none). */
static size_t cut_point(const struct fileinfo *fi, const char *buf, size_t len, int first)
{
    if (fi->fmt == DM_IN_JSON_ARRAY) {
        int depth = first ? 0 : 1, instr = 0;
        size_t cut = 0;
        for (size_t i = 0; i < len; i++) {
            char ch = buf[i];
            if (instr) {
                if (ch == '\\')
                    i++;
                else if (ch == '"')
                    instr = 0;
                continue;
            }
            if (ch == '"')
                instr = 1;
            else if (ch == '{' || ch == '[')
                depth++;
            else if (ch == '}' || ch == ']') {
                depth--;
                if (depth <= 1)
                    cut = i + 1;
            }
        }
        return cut;
    }
    if (fi->quoted) {
        int inq = 0;
        size_t cut = 0;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] == '"')
                inq = !inq;
            else if (buf[i] == '\n' && !inq)
                cut = i + 1;
        }
        return cut;
    }
    const char *nl = memrchr(buf, '\n', len);
    if (!nl)
        return 0;
    size_t cut = (size_t)(nl - buf) + 1;
    if (fi->fmt == DM_IN_NFDUMP_CSV) {
        /* Never split the Summary trailer from its header: cut before "Summary". */
        const char *s = memmem(buf, len, "\nSummary\n", 9);
        if (s && (size_t)(s - buf) + 1 < cut)
            cut = (size_t)(s - buf) + 1;
    }
    return cut;
}

static int zeek_new_header(struct conv *cv, struct fstate *fs, struct chunk *c, size_t *cut);

/* Zeek logs concatenated after rotation ("#close", then a new "#separator ... #fields"
 * block): cuts buf[0..cut) before the first header block that does not start the chunk —
 * or before a trailing run of '#' lines, which may be the head of one — so that every
 * header block starts a chunk (zeek_new_header then applies it). */
static size_t zeek_cut(const char *buf, size_t cut)
{
    const char *f = cut > 8 ? memmem(buf, cut, "\n#fields", 8) : NULL;
    size_t at = f ? (size_t)(f - buf) + 1 : cut;
    while (at > 0) { /* back over the '#' lines before it */
        const char *ls = at >= 2 ? memrchr(buf, '\n', at - 1) : NULL;
        ls = ls ? ls + 1 : buf;
        if (*ls != '#')
            break;
        at = (size_t)(ls - buf);
    }
    return at > 0 ? at : cut;
}

/* Fills c with the next records of the file (or the next piece of an over-long line).
 * Returns 0 (c->len may be 0 at the end) or an error from the reader. */
static int fill_chunk(struct conv *cv, struct fstate *fs, struct chunk *c)
{
    c->len = 0;
    c->first = fs->first;
    c->fi = fs->fi;
    if (fs->ncarry) {
        memcpy(c->buf, fs->carry, fs->ncarry);
        c->len = fs->ncarry;
        fs->ncarry = 0;
    }
    for (;;) {
        while (c->len < c->cap && !fs->eof) {
            long k = dm__reader_read(&fs->rd, c->buf + c->len, c->cap - c->len, cv->err);
            if (k == -EINTR) {
                if (canceled(cv))
                    return dm_error_set(cv->err, DM_ECANCELED, "interrupted");
                continue;
            }
            if (k < 0)
                return (int)k;
            if (k == 0) {
                fs->eof = 1;
                break;
            }
            c->len += (size_t)k;
        }
        if (fs->long_line) {
            /* The rest of an over-long line, up to its newline. */
            char *nl = memchr(c->buf, '\n', c->len);
            c->piece = nl || fs->eof ? PIECE_LAST : PIECE_MID;
            if (nl) {
                size_t k = (size_t)(nl - c->buf);
                fs->ncarry = c->len - k - 1;
                memcpy(fs->carry, nl + 1, fs->ncarry);
                c->len = k > 0 && c->buf[k - 1] == '\r' ? k - 1 : k;
            }
            if (c->piece == PIECE_LAST)
                fs->long_line = 0;
            fs->first = 0;
            return 0;
        }
        if (!c->fi->map && !c->fi->unmapped) {
            if (c->len == 0)
                return 0; /* empty input */
            int rc = file_setup(cv, c->fi, c);
            if (rc == DM_EPARSE) {
                /* Not recognised: its lines are counted and rejected, not lost. */
                struct fileinfo *fi = c->fi;
                fi->unmapped = 1;
                fi->fmt = DM_IN_JSONL; /* cut at newlines */
                fi->quoted = 0;
                const char *m = cv->err && cv->err->msg[0] ? cv->err->msg : "unrecognised";
                size_t pl = strlen(fi->path);
                if (!strncmp(m, fi->path, pl) && !strncmp(m + pl, ": ", 2))
                    m += pl + 2; /* the reject names the file already */
                else if (m[0] == '\'' && !strncmp(m + 1, fi->path, pl) && !strncmp(m + pl + 1, "': ", 3))
                    m += pl + 4;
                snprintf(fi->why, sizeof(fi->why), "%.150s", m);
                dm_error_clear(cv->err);
            } else if (rc) {
                return rc;
            }
            fs->first = c->first;
        }
        size_t cut = fs->eof ? c->len : cut_point(c->fi, c->buf, c->len, c->first);
        if (c->fi->fmt == DM_IN_ZEEK && cut > 0) {
            int rc = c->buf[0] == '#' ? zeek_new_header(cv, fs, c, &cut) : 0;
            if (rc)
                return rc;
            cut = zeek_cut(c->buf, cut);
        }
        if (cut == 0 && c->len == c->cap && c->fi->fmt != DM_IN_JSON_ARRAY) {
            /* One line fills the whole buffer: its first piece. */
            c->piece = PIECE_FIRST;
            fs->long_line = 1;
            fs->first = 0;
            return 0;
        }
        if (cut == 0 && c->len == c->cap)
            return dm_error_set(cv->err, DM_ETOOBIG, "a JSON array element is larger than %zu bytes",
                                c->cap);
        if (cut == 0 && !fs->eof)
            continue;
        fs->ncarry = c->len - cut;
        memcpy(fs->carry, c->buf + cut, fs->ncarry);
        c->len = cut;
        fs->first = 0;
        return 0;
    }
}

/* ---- per-file setup ---- */

static const struct dm_ingest_map *map_for(struct conv *cv, const char *preset)
{
    for (size_t i = 0; i < cv->nmaps; i++)
        if (strcmp(dm_ingest_map_name(cv->maps[i]), preset) == 0)
            return cv->maps[i];
    if (cv->nmaps == sizeof(cv->maps) / sizeof(cv->maps[0]))
        return NULL;
    struct dm_ingest_map *m;
    if (dm_ingest_map_preset(&m, preset, cv->err))
        return NULL;
    cv->maps[cv->nmaps++] = m;
    return m;
}

static const char *const vpc_v2[] = {"version", "account-id", "interface-id", "srcaddr",
                                     "dstaddr", "srcport", "dstport", "protocol", "packets",
                                     "bytes", "start", "end", "action", "log-status"};

static void set_layout(struct fileinfo *fi, const struct dm__val *cells, long nc)
{
    for (size_t i = 0; i < MAX_CELLS; i++)
        fi->colmap[i] = -1;
    fi->ncells = (size_t)nc;
    for (long i = 0; i < nc && i < MAX_CELLS; i++) {
        const char *p = cells[i].p;
        size_t n = cells[i].n;
        while (n && *p == ' ')
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\r'))
            n--;
        fi->colmap[i] = (int16_t)dm__map_field(fi->map, p, n);
    }
}

/* Reads the header of a delimited file from the start of its first chunk; *skip receives
 * the bytes consumed (header lines). */
static int setup_layout(struct conv *cv, struct fileinfo *fi, const char *p, size_t n, size_t *skip,
                        uint64_t *lines)
{
    const char *end = p + n, *s = p;
    struct dm__val cells[MAX_CELLS];
    *skip = 0;
    *lines = 0;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        s += 3;
    if (fi->fmt == DM_IN_ZEEK) {
        fi->sep = '\t';
        memcpy(fi->unset, "-", 2);
        fi->nunset = 1;
        memcpy(fi->empty, "(empty)", 8);
        fi->nempty = 7;
        int have = 0;
        for (;;) {
            const char *t = s;
            while (t < end && (*t == ' ' || *t == '\t'))
                t++; /* some producers indent the first header line */
            if (t >= end || *t != '#')
                break;
            s = t;
            const char *le = memchr(s, '\n', (size_t)(end - s));
            if (!le)
                le = end;
            size_t ln = (size_t)(le - s);
            if (ln > 1 && s[ln - 1] == '\r')
                ln--;
            if (ln > 11 && !memcmp(s, "#separator ", 11)) {
                const char *v = s + 11;
                if (ln - 11 == 4 && v[0] == '\\' && v[1] == 'x') {
                    int hi = v[2], lo = v[3];
                    hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
                    lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
                    fi->sep = (char)(hi * 16 + lo);
                } else if (ln - 11 == 1) {
                    fi->sep = *v;
                }
            } else if (ln > 7 && (!memcmp(s, "#fields", 7) || !memcmp(s, "#unset_field", 12) ||
                                  !memcmp(s, "#empty_field", 12))) {
                const char *v = memchr(s, fi->sep, ln);
                if (v) {
                    v++;
                    size_t vn = (size_t)(s + ln - v);
                    if (!memcmp(s, "#fields", 7)) {
                        long nc = dm__csv_split(v, vn, fi->sep, 0, cells, MAX_CELLS);
                        if (nc > MAX_CELLS)
                            return dm_error_set(cv->err, DM_EPARSE, "'%s': more than %d fields",
                                                fi->path, MAX_CELLS);
                        set_layout(fi, cells, nc);
                        have = 1;
                    } else if (vn < sizeof(fi->unset)) {
                        if (s[1] == 'u')
                            memcpy(fi->unset, v, vn), fi->unset[vn] = '\0', fi->nunset = vn;
                        else
                            memcpy(fi->empty, v, vn), fi->empty[vn] = '\0', fi->nempty = vn;
                    }
                }
            }
            s = le + (le < end);
            (*lines)++;
        }
        if (!have)
            return dm_error_set(cv->err, DM_EPARSE, "'%s': Zeek log without a #fields line",
                                fi->path);
        *skip = (size_t)(s - p);
        return 0;
    }
    const char *le = memchr(s, '\n', (size_t)(end - s));
    if (!le)
        le = end;
    size_t ln = (size_t)(le - s);
    if (ln && s[ln - 1] == '\r')
        ln--;
    if (fi->fmt == DM_IN_VPC) {
        fi->sep = ' ';
        memcpy(fi->unset, "-", 2);
        fi->nunset = 1;
        if (ln > 8 && !memcmp(s, "version ", 8)) {
            long nc = dm__csv_split(s, ln, ' ', 0, cells, MAX_CELLS);
            if (nc > MAX_CELLS)
                return dm_error_set(cv->err, DM_EPARSE, "'%s': header too wide", fi->path);
            set_layout(fi, cells, nc);
            *skip = (size_t)(le + (le < end) - p);
            *lines = 1;
        } else {
            for (size_t i = 0; i < MAX_CELLS; i++)
                fi->colmap[i] = -1;
            for (int i = 0; i < 14; i++)
                fi->colmap[i] = (int16_t)dm__map_field(fi->map, vpc_v2[i], strlen(vpc_v2[i]));
            fi->ncells = 0;
            fi->min_cells = 14;
        }
        return 0;
    }
    fi->sep = fi->fmt == DM_IN_TSV ? '\t' : ',';
    fi->quoted = fi->sep == ',';
    long nc = dm__csv_split(s, ln, fi->sep, fi->quoted, cells, MAX_CELLS);
    if (nc < 0 || nc > MAX_CELLS)
        return dm_error_set(cv->err, DM_EPARSE, "'%s': bad header line", fi->path);
    set_layout(fi, cells, nc);
    *skip = (size_t)(le + (le < end) - p);
    *lines = 1;
    return 0;
}

/* Detects format and preset of a file from its first bytes (c->buf) and reads its header
 * lines (which are removed from the chunk). */
static int file_setup(struct conv *cv, struct fileinfo *fi, struct chunk *c)
{
    int rc;
    const char *path = fi->path;
    const char *preset = cv->o->preset;
    if (fi->fmt == DM_IN_AUTO || (!preset && !cv->o->map)) {
        enum dm_in_format f;
        const char *dp;
        struct dm_error derr;
        dm_error_clear(&derr);
        if ((rc = dm_ingest_detect(c->buf, c->len < 65536 ? c->len : 65536, &f, &dp, &derr)))
            return rc == -ENOMEM ? dm_error_set(cv->err, rc, "out of memory")
                                 : dm_error_set(cv->err, DM_EPARSE, "%s: %s (use --format)",
                                                path, derr.msg);
        if (fi->fmt == DM_IN_AUTO)
            fi->fmt = f;
        if (!preset)
            preset = dp;
    }
    if (cv->o->map) {
        fi->map = cv->o->map;
    } else if (!preset) {
        return dm_error_set(cv->err, DM_EPARSE,
                            "%s: cannot tell which preset fits its fields (use --preset or "
                            "--mapping)", path);
    } else if (!(fi->map = map_for(cv, preset))) {
        return cv->err && cv->err->code ? cv->err->code : -ENOMEM;
    }
    add_format(cv, dm_ingest_format_name(fi->fmt));
    if (fi->fmt != DM_IN_JSONL && fi->fmt != DM_IN_JSON_ARRAY) {
        size_t skip;
        uint64_t lines;
        if ((rc = setup_layout(cv, fi, c->buf, c->len, &skip, &lines)))
            return rc;
        memmove(c->buf, c->buf + skip, c->len - skip);
        c->len -= skip;
        c->line0 += lines;
        c->first = 0;
    }
    return 0;
}

/* A chunk of a Zeek log that starts with '#' lines: when they hold a "#fields" line they are
 * a new header (log rotation), which takes effect from here on: a new layout replaces
 * fs->fi (chunks in flight keep theirs) and the header lines leave the chunk. Only the
 * complete lines in c->buf[0..*cut) are looked at. */
static int zeek_new_header(struct conv *cv, struct fstate *fs, struct chunk *c, size_t *cut)
{
    size_t end = 0;
    int fields = 0;
    while (end < *cut && c->buf[end] == '#') {
        const char *nl = memchr(c->buf + end, '\n', *cut - end);
        size_t le = nl ? (size_t)(nl - c->buf) + 1 : *cut;
        if (le - end > 7 && !memcmp(c->buf + end, "#fields", 7))
            fields = 1;
        end = le;
    }
    if (!fields)
        return 0; /* "#close" and other comments: the parser skips them */
    struct fileinfo *nfi = dm_calloc(1, sizeof(*nfi));
    if (!nfi)
        return dm_error_set(cv->err, -ENOMEM, "out of memory");
    nfi->path = fs->fi->path;
    nfi->fmt = fs->fi->fmt;
    nfi->map = fs->fi->map;
    nfi->refs = 1;
    size_t skip;
    uint64_t lines;
    int rc = setup_layout(cv, nfi, c->buf, end, &skip, &lines);
    if (rc) {
        dm_free(nfi);
        return rc;
    }
    if (--fs->fi->refs == 0)
        dm_free(fs->fi);
    fs->fi = c->fi = nfi;
    memmove(c->buf, c->buf + skip, c->len - skip);
    c->len -= skip;
    *cut -= skip;
    c->pre_lines = lines;
    return 0;
}

/* ---- the driver ---- */

/* Waits until the oldest chunk in flight has been consumed (parsing it here when no worker
 * has started it) and frees its slot. Returns what consuming it returned. */
static int drain_one(struct conv *cv, struct ring *r)
{
    struct chunk *c = r->v[r->head];
    dm_pool_wait(cv->pool, &c->job);
    pthread_mutex_lock(&cv->mu);
    while (c->state != CH_CONSUMED)
        pthread_cond_wait(&cv->consumed, &cv->mu);
    c->state = CH_FREE;
    int rc = c->cons_rc;
    if (cv->o->progress) {
        cv->st->bytes_in = cv->bytes_done;
        cv->o->progress(cv->o->progress_ctx, cv->st);
    }
    pthread_mutex_unlock(&cv->mu);
    if (rc) {
        cv->fatal = 1;
        if (cv->err && rc != DM_ECANCELED)
            *cv->err = cv->cons_err;
        else
            dm_error_set(cv->err, rc, "output failed earlier");
    }
    r->head = (r->head + 1) % r->n;
    r->count--;
    if (--c->fi->refs == 0)
        dm_free(c->fi);
    c->fi = NULL;
    return rc;
}

/* Keeps the reader at most READ_AHEAD chunks ahead of the parsers: waits for (or runs here)
 * the oldest chunk not parsed yet. */
static void wait_read_ahead(struct conv *cv, struct ring *r)
{
    for (;;) {
        struct chunk *oldest = NULL;
        pthread_mutex_lock(&cv->mu);
        if (cv->unparsed >= cv->read_ahead)
            for (size_t i = 0; i < r->count && !oldest; i++) {
                struct chunk *c = r->v[(r->head + i) % r->n];
                if (c->state == CH_QUEUED)
                    oldest = c;
            }
        pthread_mutex_unlock(&cv->mu);
        if (!oldest)
            return;
        dm_pool_wait(cv->pool, &oldest->job);
    }
}

static int canceled(const struct conv *cv)
{
    return cv->o->cancel && *cv->o->cancel;
}

static int convert_file(struct conv *cv, struct ring *r, const char *path, struct fstate *fs)
{
    int rc = dm__reader_open(&fs->rd, path, cv->err);
    if (rc)
        return rc;
    fs->ncarry = 0;
    fs->eof = fs->long_line = 0;
    fs->first = 1;
    struct fileinfo *fi = dm_calloc(1, sizeof(*fi));
    if (!fi) {
        dm__reader_close(&fs->rd);
        return dm_error_set(cv->err, -ENOMEM, "out of memory");
    }
    fi->path = path;
    fi->refs = 1; /* fs's until the end of this function */
    fi->fmt = cv->o->format;
    fs->fi = fi;
    int file_first = 1;
    uint64_t consumed_before = cv->bytes_done;
    for (;;) {
        if (canceled(cv)) {
            rc = dm_error_set(cv->err, DM_ECANCELED, "interrupted");
            break;
        }
        struct chunk *c;
        wait_read_ahead(cv, r);
        if (r->count == r->n && (rc = drain_one(cv, r)))
            break;
        size_t slot = (r->head + r->count) % r->n;
        c = r->v[slot];
        chunk_reset(c);
        c->line0 = 1;
        if ((rc = fill_chunk(cv, fs, c))) {
            c->fi = NULL;
            if (rc != DM_EPARSE && rc != DM_ECANCELED)
                dm_error_prefix(cv->err, path);
            break;
        }
        cv->bytes_done = consumed_before + fs->rd.bytes_in;
        if (c->len == 0 && fs->eof && !c->piece) {
            c->fi = NULL;
            break;
        }
        c->file_first = file_first;
        file_first = 0;
        c->co.map = c->fi->map;
        c->co.tz_local = cv->o->tz_local;
        c->co.tz_fixed_s = cv->o->tz_fixed_s;
        c->fi->refs++;
        r->count++;
        pthread_mutex_lock(&cv->mu);
        c->state = CH_QUEUED;
        cv->unparsed++;
        pthread_mutex_unlock(&cv->mu);
        dm_pool_submit(cv->pool, &c->job, 1, parse_chunk, c);
        if (fs->eof && fs->ncarry == 0 && !fs->long_line)
            break;
    }
    cv->bytes_done = consumed_before + fs->rd.bytes_in;
    dm__reader_close(&fs->rd);
    if (--fs->fi->refs == 0)
        dm_free(fs->fi);
    fs->fi = NULL;
    return rc;
}

static int rm_tree(const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode) && depth < 3) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                rm_tree(sub, depth + 1);
            }
            closedir(d);
        }
        return rmdir(path);
    }
    return unlink(path);
}

/* {"preset": {column: expr, ...}, ...} for every map used, into cv->mapdesc. */
static int build_mapdesc(struct conv *cv)
{
    const struct dm_ingest_map *const *maps = (const struct dm_ingest_map *const *)cv->maps;
    size_t n = cv->nmaps;
    if (cv->o->map) {
        maps = &cv->o->map;
        n = 1;
    }
    int rc = dm_buf_putc(&cv->mapdesc, '{');
    for (size_t i = 0; i < n && !rc; i++) {
        char *d = dm_ingest_map_describe(maps[i]);
        const char *name = dm_ingest_map_name(maps[i]);
        if (!d)
            return dm_error_set(cv->err, -ENOMEM, "out of memory");
        rc = i ? dm_buf_putc(&cv->mapdesc, ',') : 0;
        rc = rc ? rc : dm_buf_json_str(&cv->mapdesc, name, strlen(name));
        rc = rc ? rc : dm_buf_printf(&cv->mapdesc, ":%s", d);
        dm_free(d);
    }
    rc = rc ? rc : dm_buf_putc(&cv->mapdesc, '}');
    return rc ? dm_error_set(cv->err, -ENOMEM, "out of memory") : 0;
}

static int setup_schema(struct conv *cv)
{
    const struct dm_ingest_map *m = cv->o->map;
    size_t n = m ? m->ncols : DM_C__COUNT;
    cv->ncols = n;
    cv->specs = dm_calloc(n, sizeof(*cv->specs));
    cv->types = dm_calloc(n, sizeof(*cv->types));
    if (!cv->specs || !cv->types)
        return dm_error_set(cv->err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct dm_pq_column_spec *s = &cv->specs[i];
        s->optional = 1;
        if (i < DM_C__COUNT) {
            s->name = dm_canon_name((enum dm_canon)i);
            switch (i) {
            case DM_C_TS:
                s->type = DM_PQ_INT64, s->optional = 0, s->logical = DM_PQ_LOG_TIMESTAMP;
                s->ts_unit = DM_PQ_MICROS, s->ts_utc = 1;
                break;
            case DM_C_SRC_IP:
            case DM_C_DST_IP:
                s->type = DM_PQ_BYTE_ARRAY, s->optional = 0, s->logical = DM_PQ_LOG_STRING;
                break;
            case DM_C_SRC_PORT:
            case DM_C_DST_PORT:
                s->type = DM_PQ_INT32, s->logical = DM_PQ_LOG_INTEGER, s->int_bits = 16;
                break;
            case DM_C_PROTO:
                s->type = DM_PQ_INT32, s->logical = DM_PQ_LOG_INTEGER, s->int_bits = 8;
                break;
            case DM_C_ACTION:
                s->type = DM_PQ_BYTE_ARRAY, s->logical = DM_PQ_LOG_STRING;
                break;
            default:
                s->type = DM_PQ_INT64;
                break;
            }
        } else {
            const struct dm__col *c = &m->cols[i];
            s->name = c->name;
            switch (c->xtype) {
            case DM_X_INT64: s->type = DM_PQ_INT64; break;
            case DM_X_DOUBLE: s->type = DM_PQ_DOUBLE; break;
            case DM_X_BOOL: s->type = DM_PQ_BOOLEAN; break;
            default: s->type = DM_PQ_BYTE_ARRAY, s->logical = DM_PQ_LOG_STRING; break;
            }
        }
        cv->types[i] = (enum dm_vtype)s->type;
    }
    return 0;
}

void dm_convert_stats_release(struct dm_convert_stats *st)
{
    for (size_t i = 0; i < st->nexamples; i++)
        dm_free(st->examples[i].where);
    st->nexamples = 0;
}

int dm_convert(const struct dm_convert_opts *o, struct dm_convert_stats *st, struct dm_error *err)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    memset(st, 0, sizeof(*st));
    cv.o = o;
    cv.st = st;
    cv.err = err;
    cv.max_line = o->max_line ? o->max_line : (1 << 20);
    cv.chunk_bytes = o->chunk_bytes ? o->chunk_bytes : CHUNK_BYTES;
    if (cv.chunk_bytes < 2 * cv.max_line + 2)
        cv.chunk_bytes = 2 * cv.max_line + 2;
    dm_buf_init(&cv.mapdesc, 1 << 20);
    struct dm__files files;
    struct ring r = {0};
    struct fstate fs;
    memset(&fs, 0, sizeof(fs));
    fs.rd.fd = -1;
    int rc = dm__files_expand(&files, o->inputs, o->ninputs, o->keep_going, err);
    if (rc)
        return rc;
    pthread_mutex_init(&cv.mu, NULL);
    pthread_cond_init(&cv.consumed, NULL);
    cv.ring = &r;
    st->files_failed = files.failed;
    for (size_t i = 0; i < files.n; i++)
        st->bytes_total += files.v[i].size;
    unsigned threads = o->threads ? o->threads : dm_cpu_count();
    if ((rc = setup_schema(&cv)))
        goto out;
    /* Workers must not take SIGINT / SIGTERM: the reading thread has to see EINTR. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (threads > 1)
        cv.pool = dm_pool_new(threads);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (threads > 1 && !cv.pool) {
        rc = dm_error_set(err, -ENOMEM, "cannot start %u threads", threads);
        goto out;
    }
    r.n = RING_CHUNKS(threads);
    cv.read_ahead = READ_AHEAD(threads);
    r.v = dm_calloc(r.n, sizeof(*r.v));
    fs.carry = dm_malloc(cv.chunk_bytes + PAD);
    if (!r.v || !fs.carry) {
        rc = dm_error_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r.n; i++)
        if (!(r.v[i] = chunk_new(&cv))) {
            rc = dm_error_set(err, -ENOMEM, "out of memory");
            goto out;
        }
    if (o->partition == DM_PART_DAY) {
        struct stat sst;
        if (stat(o->output, &sst) == 0) {
            rc = dm_error_set(err, -EEXIST, "output '%s' already exists", o->output);
            goto out;
        }
        size_t len = strlen(o->output) + 32;
        cv.tmpdir = dm_malloc(len);
        if (!cv.tmpdir) {
            rc = dm_error_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        snprintf(cv.tmpdir, len, "%s.tmp-%ld", o->output, (long)getpid());
        if (mkdir(cv.tmpdir, 0777) != 0) {
            rc = dm_error_set(err, -EIO, "cannot create '%s': %s", cv.tmpdir, strerror(errno));
            dm_free(cv.tmpdir);
            cv.tmpdir = NULL;
            goto out;
        }
    }
    if (o->rejects_path && !(cv.rejects = fopen(o->rejects_path, "w"))) {
        rc = dm_error_set(err, -EIO, "cannot create '%s': %s", o->rejects_path, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < files.n && !rc; i++) {
        st->files++;
        struct dm_error ferr;
        dm_error_clear(&ferr);
        cv.err = &ferr;
        rc = convert_file(&cv, &r, files.v[i].path, &fs);
        cv.err = err;
        if (rc) {
            /* Output, memory and cancel errors stop the run; input problems may be skipped. */
            int input_problem = !cv.fatal && rc != -ENOMEM && rc != DM_ECANCELED;
            if (input_problem && o->keep_going) {
                st->files_failed++;
                if (st->nexamples < DM_EXAMPLES_MAX) {
                    struct dm_convert_example *e = &st->examples[st->nexamples];
                    e->where = dm_strdup(files.v[i].path);
                    if (e->where) {
                        e->reason = DM_REJ__COUNT;
                        snprintf(e->detail, sizeof(e->detail), "%.150s", ferr.msg);
                        st->nexamples++;
                    }
                }
                rc = 0;
                continue;
            }
            if (err) {
                *err = ferr;
            }
        }
    }
    while (!rc && r.count)
        rc = drain_one(&cv, &r);
    if (!rc && canceled(&cv))
        rc = dm_error_set(err, DM_ECANCELED, "interrupted");
    if (!rc && st->written == 0)
        rc = dm_error_set(err, DM_EPARSE, "nothing to write: %llu records read, all rejected",
                          (unsigned long long)st->read);
    if (cv.rejects) {
        if (fclose(cv.rejects) != 0 && !rc)
            rc = dm_error_set(err, -EIO, "cannot write '%s'", o->rejects_path);
        cv.rejects = NULL;
    }
    if (!rc)
        rc = build_mapdesc(&cv);
    if (!rc && cv.w) {
        rc = finish_writer(&cv, cv.w, err);
        cv.w = NULL;
    }
    while (!rc && cv.nparts)
        rc = part_close(&cv, cv.nparts - 1, err);
    if (!rc && cv.tmpdir && rename(cv.tmpdir, o->output) != 0)
        rc = dm_error_set(err, -EIO, "cannot rename '%s' to '%s': %s", cv.tmpdir, o->output,
                          strerror(errno));
    else if (!rc && cv.tmpdir) {
        dm_free(cv.tmpdir);
        cv.tmpdir = NULL;
    }
out:
    if (r.count) {
        pthread_mutex_lock(&cv.mu);
        cv.cons_failed = 1; /* the chunks still in flight are dropped */
        pthread_mutex_unlock(&cv.mu);
    }
    while (r.count) {
        struct chunk *c = r.v[r.head];
        dm_pool_wait(cv.pool, &c->job);
        pthread_mutex_lock(&cv.mu);
        while (c->state != CH_CONSUMED)
            pthread_cond_wait(&cv.consumed, &cv.mu);
        c->state = CH_FREE;
        pthread_mutex_unlock(&cv.mu);
        if (--c->fi->refs == 0)
            dm_free(c->fi);
        r.head = (r.head + 1) % r.n;
        r.count--;
    }
    if (cv.rejects)
        fclose(cv.rejects);
    dm_pq_writer_abort(cv.w);
    for (size_t i = 0; i < cv.nparts; i++)
        dm_pq_writer_abort(cv.parts[i].w);
    if (cv.tmpdir) {
        rm_tree(cv.tmpdir, 0);
        dm_free(cv.tmpdir);
    }
    for (size_t i = 0; r.v && i < r.n; i++)
        chunk_free(r.v[i]);
    dm_free(r.v);
    dm_free(fs.carry);
    dm_pool_free(cv.pool);
    for (size_t i = 0; i < cv.nmaps; i++)
        dm_ingest_map_free(cv.maps[i]);
    if (cv.sub_ok)
        dm_batch_release(&cv.sub);
    dm_free(cv.day_seq);
    dm_free(cv.specs);
    dm_free(cv.types);
    dm_buf_release(&cv.mapdesc);
    dm__files_release(&files);
    pthread_mutex_destroy(&cv.mu);
    pthread_cond_destroy(&cv.consumed);
    st->bytes_in = cv.bytes_done;
    return rc;
}
