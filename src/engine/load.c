/* Loading Parquet into a table: file discovery (file, directory, glob), column mapping by
 * name (canonical, aliases, config "columns"), row groups read in parallel, dictionaries
 * mapped to ids once per column chunk, value coercion (timestamps, float counters, strings). */
#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "dm_pq_reader.h"
#include "engine_int.h"
#include "banned.h"

#define MAX_FILES 100000
#define MAX_DEPTH 16
#define MAX_EXTRAS 64

/* ---------------- file discovery ---------------- */

struct files {
    char **v;
    size_t n, cap;
};

static int files_add(struct files *f, const char *path, struct dm_error *err)
{
    if (f->n == MAX_FILES)
        return dm_error_set(err, DM_ETOOBIG, "more than %d Parquet files", MAX_FILES);
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        char **v = dm_reallocarray(f->v, nc, sizeof(*v));
        if (!v)
            return dm_error_set(err, -ENOMEM, "out of memory");
        f->v = v;
        f->cap = nc;
    }
    if (!(f->v[f->n] = dm_strdup(path)))
        return dm_error_set(err, -ENOMEM, "out of memory");
    f->n++;
    return 0;
}

static void files_release(struct files *f)
{
    for (size_t i = 0; i < f->n; i++)
        dm_free(f->v[i]);
    dm_free(f->v);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* Directory walk: *.parquet (and *.parq) files, skipping hidden and "_" names (_SUCCESS,
 * _delta_log, .crc) like Spark and Hive readers do. */
static int walk(struct files *f, const char *dir, int depth, struct dm_error *err)
{
    if (depth > MAX_DEPTH)
        return dm_error_set(err, DM_ETOOBIG, "'%s': directories nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d) {
        int e = -errno;
        return dm_error_set(err, e, "cannot open directory '%s': %s", dir, dm_strerror(e));
    }
    struct files local = {0};
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *name = de->d_name;
        if (name[0] == '.' || name[0] == '_')
            continue;
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            rc = dm_error_set(err, DM_ETOOBIG, "path too long under '%s'", dir);
            break;
        }
        struct stat st;
        if (stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && (ends_with(name, ".parquet") ||
                                                            ends_with(name, ".parq"))))
            rc = files_add(&local, path, err);
    }
    closedir(d);
    if (!rc)
        qsort(local.v, local.n, sizeof(*local.v), str_cmp);
    for (size_t i = 0; !rc && i < local.n; i++) {
        struct stat st;
        if (stat(local.v[i], &st))
            continue;
        rc = S_ISDIR(st.st_mode) ? walk(f, local.v[i], depth + 1, err) : files_add(f, local.v[i], err);
    }
    files_release(&local);
    return rc;
}

static int add_path(struct files *f, const char *path, struct dm_error *err)
{
    struct stat st;
    if (stat(path, &st)) {
        int e = -errno;
        return dm_error_set(err, e, "cannot open '%s': %s", path, dm_strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        size_t before = f->n;
        int rc = walk(f, path, 0, err);
        if (!rc && f->n == before)
            return dm_error_set(err, -ENOENT, "no Parquet files under '%s'", path);
        return rc;
    }
    return files_add(f, path, err);
}

static int find_files(struct files *f, const char *data, struct dm_error *err)
{
    if (!strpbrk(data, "*?[")) {
        return add_path(f, data, err);
    }
    glob_t g;
    int grc = glob(data, 0, NULL, &g);
    if (grc == GLOB_NOMATCH)
        return dm_error_set(err, -ENOENT, "no files match '%s'", data);
    if (grc)
        return dm_error_set(err, -EIO, "cannot expand '%s'", data);
    int rc = 0;
    for (size_t i = 0; !rc && i < g.gl_pathc; i++)
        rc = add_path(f, g.gl_pathv[i], err);
    globfree(&g);
    return rc;
}

/* ---------------- column mapping ---------------- */

struct fmap {
    struct dm_pq_reader *r;
    const struct dm_pq_meta *m;
    int leaf[DM_C_NCANON + MAX_EXTRAS]; /* table column -> leaf index, -1 = absent */
    uint64_t row0;                      /* first table row of this file */
};

static int find_canonical(const struct dm_pq_meta *m, const struct dm_config *cfg, int col)
{
    const char *cname = dm_colid_name((enum dm_colid)col);
    for (size_t i = 0; cfg && i < cfg->ncolumns; i++)
        if (!strcmp(cfg->columns[i].canonical, cname) ||
            dm__canonical_alias(cfg->columns[i].canonical, strlen(cfg->columns[i].canonical)) == col)
            for (size_t k = 0; k < m->ncols; k++)
                if (!strcmp(m->cols[k].name, cfg->columns[i].source))
                    return (int)k;
    for (size_t k = 0; k < m->ncols; k++)
        if (!strcmp(m->cols[k].name, cname))
            return (int)k;
    for (size_t k = 0; k < m->ncols; k++)
        if (dm__canonical_alias(m->cols[k].name, strlen(m->cols[k].name)) == col)
            return (int)k;
    return -1;
}

static enum dm_ckind extra_kind(const struct dm_pq_leaf *l)
{
    switch (l->vtype) {
    case DM_STR: return DM_CK_DICT;
    case DM_F64: return DM_CK_F64;
    case DM_BOOL: return DM_CK_UINT;
    default: return DM_CK_INT;
    }
}

/* ---------------- per row-group conversion ---------------- */

struct load_ctx {
    struct dm_table *t;
    struct fmap *files;
    size_t nfiles;
    size_t *task_file, *task_rg;
    uint64_t *task_row;
    _Atomic uint64_t done;
    uint64_t total;
    const struct dm_load_opts *o;
    pthread_mutex_t err_lock;
    _Atomic int restage; /* a value exceeded its column's statistics-based width */
    int rc;
    struct dm_error err;
};

static void fail_task(struct load_ctx *c, int rc, const struct dm_error *e)
{
    pthread_mutex_lock(&c->err_lock);
    if (!c->rc) {
        c->rc = rc;
        if (e)
            c->err = *e;
        else
            dm_error_set(&c->err, rc, "%s", dm_strerror(rc));
    }
    pthread_mutex_unlock(&c->err_lock);
}

static inline int present_at(const struct dm_pq_chunk *ch, size_t i)
{
    const uint8_t *valid = ch->is_dict ? ch->valid : ch->values.valid;
    return !valid || valid[i];
}

/* Epoch number in s / ms / µs / ns by magnitude → µs. */
static int64_t epoch_us(int64_t v)
{
    int64_t a = v < 0 ? -v : v;
    if (a < 100000000000LL) /* < 1e11: seconds */
        return v * 1000000;
    if (a < 100000000000000LL) /* ms */
        return v * 1000;
    if (a < 100000000000000000LL) /* µs */
        return v;
    return v / 1000; /* ns */
}

static int64_t ts_from_int(const struct dm_pq_leaf *l, int64_t v)
{
    if (l->type == DM_PQ_INT96)
        return v / 1000;
    if (l->logical == DM_PQ_LOG_TIMESTAMP) {
        switch (l->ts_unit) {
        case DM_PQ_MILLIS: return v * 1000;
        case DM_PQ_MICROS: return v;
        case DM_PQ_NANOS: return v / 1000;
        }
    }
    return epoch_us(v);
}

/* Strings of a chunk's dictionary, or of its plain values: (s, len) of entry i. */
static inline const char *col_str(const struct dm_col *c, size_t i, size_t *len)
{
    return dm_col_str(c, i, len);
}

/* Sets validity bits of rows in increasing order, one atomic OR per 64-bit word (row
 * groups that share a word are loaded by different threads). vb_done() flushes. */
struct vbits {
    uint64_t *valid; /* NULL: the column has no bitmap */
    size_t word;
    uint64_t w;
};

static inline struct vbits vb_init(struct dm_column *c)
{
    struct vbits b = {c->valid, 0, 0};
    return b;
}

static inline void vb_done(struct vbits *b)
{
    if (b->w)
        __atomic_fetch_or(&b->valid[b->word], b->w, __ATOMIC_RELAXED);
    b->w = 0;
}

static inline void set_valid(struct vbits *b, uint64_t row)
{
    if (!b->valid)
        return;
    size_t wi = (size_t)(row >> 6);
    if (wi != b->word) {
        vb_done(b);
        b->word = wi;
    }
    b->w |= (uint64_t)1 << (row & 63);
}

/* Timestamps. */
static int load_ts(struct load_ctx *c, const struct dm_pq_leaf *l, const struct dm_pq_chunk *ch,
                   uint64_t row0)
{
    struct dm_column *col = &c->t->cols[DM_C_TS];
    int64_t *out = (int64_t *)col->v + row0;
    size_t n = ch->nrows;
    struct vbits vb = vb_init(col);
    if (ch->is_dict) {
        int64_t *dv = dm_malloc((ch->ndict ? ch->ndict : 1) * sizeof(*dv));
        uint8_t *dok = dm_malloc(ch->ndict ? ch->ndict : 1);
        if (!dv || !dok) {
            dm_free(dv);
            dm_free(dok);
            return -ENOMEM;
        }
        for (size_t k = 0; k < ch->ndict; k++) {
            dok[k] = 1;
            if (ch->dict.type == DM_STR) {
                size_t len;
                const char *s = col_str(&ch->dict, k, &len);
                dok[k] = dm_time_parse(s, len, &dv[k], NULL) == 0;
            } else if (ch->dict.type == DM_I64) {
                dv[k] = ts_from_int(l, ch->dict.v.i64[k]);
            } else if (ch->dict.type == DM_I32) {
                dv[k] = ts_from_int(l, ch->dict.v.i32[k]);
            } else if (ch->dict.type == DM_F64) {
                double d = ch->dict.v.f64[k];
                dok[k] = isfinite(d) && fabs(d) < 9e12;
                dv[k] = dok[k] ? (int64_t)llround(d * 1e6) : 0;
            } else {
                dok[k] = 0;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (!present_at(ch, i) || !dok[ch->idx[i]])
                continue;
            out[i] = dv[ch->idx[i]];
            set_valid(&vb, row0 + i);
        }
        vb_done(&vb);
        dm_free(dv);
        dm_free(dok);
        return 0;
    }
    const struct dm_col *v = &ch->values;
    for (size_t i = 0; i < n; i++) {
        if (!present_at(ch, i))
            continue;
        int64_t x;
        switch (v->type) {
        case DM_I64: x = ts_from_int(l, v->v.i64[i]); break;
        case DM_I32: x = ts_from_int(l, v->v.i32[i]); break;
        case DM_F64: {
            double d = v->v.f64[i];
            if (!isfinite(d) || fabs(d) >= 9e12)
                continue;
            x = (int64_t)llround(d * 1e6);
            break;
        }
        case DM_STR: {
            size_t len;
            const char *s = col_str(v, i, &len);
            if (dm_time_parse(s, len, &x, NULL))
                continue;
            break;
        }
        default: continue;
        }
        out[i] = x;
        set_valid(&vb, row0 + i);
    }
    vb_done(&vb);
    return 0;
}

/* Distinct strings of a plain chunk → (index of first occurrence per row). */
struct uniq {
    struct dm_hmap map;
    uint32_t *row_entry; /* [n] entry index per row (UINT32_MAX = null) */
};

static int uniq_build(struct uniq *u, const struct dm_pq_chunk *ch)
{
    dm_hmap_init(&u->map, 0);
    u->row_entry = dm_malloc((ch->nrows ? ch->nrows : 1) * sizeof(uint32_t));
    if (!u->row_entry)
        return -ENOMEM;
    for (size_t i = 0; i < ch->nrows; i++) {
        if (!present_at(ch, i)) {
            u->row_entry[i] = UINT32_MAX;
            continue;
        }
        size_t len;
        const char *s = col_str(&ch->values, i, &len);
        struct dm_hmap_entry *e;
        int rc = dm_hmap_upsert(&u->map, s, len, &e, NULL);
        if (rc)
            return rc;
        u->row_entry[i] = (uint32_t)(e - u->map.entries);
    }
    return 0;
}

static void uniq_release(struct uniq *u)
{
    dm_hmap_release(&u->map);
    dm_free(u->row_entry);
}

/* IP columns: intern each distinct text once. */
static int load_ip(struct load_ctx *c, int colid, const struct dm_pq_chunk *ch, uint64_t row0)
{
    struct dm_table *t = c->t;
    struct dm_column *col = &t->cols[colid];
    uint32_t *out = (uint32_t *)col->v + row0;
    size_t n = ch->nrows;
    struct uniq u = {0};
    size_t nd;
    const struct dm_col *dict;
    int rc = 0;
    if (ch->is_dict) {
        dict = &ch->dict;
        nd = ch->ndict;
    } else if (ch->values.type == DM_STR) {
        if ((rc = uniq_build(&u, ch))) {
            uniq_release(&u);
            return rc;
        }
        nd = u.map.count;
        dict = NULL;
    } else {
        return DM_EUNSUPPORTED;
    }
    struct dm_ip *ips = dm_malloc((nd ? nd : 1) * sizeof(*ips));
    uint8_t *ok = dm_malloc(nd ? nd : 1);
    uint32_t *ids = dm_malloc((nd ? nd : 1) * sizeof(*ids));
    if (!ips || !ok || !ids) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t bad = 0;
    for (size_t k = 0; k < nd; k++) {
        size_t len;
        const char *s;
        if (dict)
            s = col_str(dict, k, &len);
        else
            s = u.map.entries[k].key, len = u.map.entries[k].len;
        ok[k] = dm__ip_text(s, len, &ips[k]) == 0;
    }
    if ((rc = dm__intern_ips(t, ips, ok, nd, ids)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint32_t e = ch->is_dict ? (present_at(ch, i) ? ch->idx[i] : UINT32_MAX) : u.row_entry[i];
        if (e == UINT32_MAX) {
            out[i] = 0;
            continue;
        }
        out[i] = ids[e];
        bad += !ok[e];
    }
    t->in->bad_ips += bad;
out:
    dm_free(ips);
    dm_free(ok);
    dm_free(ids);
    uniq_release(&u);
    return rc;
}

static int proto_name(const char *s, size_t n, uint64_t *v)
{
    static const struct {
        const char *name;
        unsigned v;
    } names[] = {{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
                 {"ah", 51}, {"icmpv6", 58}, {"ipv6-icmp", 58}, {"icmp6", 58}, {"ospf", 89},
                 {"sctp", 132}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == n && !strncasecmp(names[i].name, s, n)) {
            *v = names[i].v;
            return 0;
        }
    return -1;
}

/* A text number: integral (also "443.0"), non-negative. */
static int text_u64(const char *s, size_t n, uint64_t *v)
{
    char tmp[40];
    if (!n || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *e;
    errno = 0;
    unsigned long long x = strtoull(tmp, &e, 10);
    if (!errno && !*e && tmp[0] != '-') {
        *v = x;
        return 0;
    }
    double d = strtod(tmp, &e);
    if (*e || !(d >= 0) || d != floor(d) || d >= 18446744073709551615.0)
        return -1;
    *v = (uint64_t)d;
    return 0;
}

/* Unsigned counters / ports / proto with a range limit; scale multiplies doubles (duration in
 * seconds → ms). Returns 0 or -ENOMEM; bad values become nulls (counted). */
static int load_uint(struct load_ctx *c, int colid, const struct dm_pq_leaf *l,
                     const struct dm_pq_chunk *ch, uint64_t row0, uint64_t limit, double scale)
{
    struct dm_table *t = c->t;
    struct dm_column *col = &t->cols[colid];
    void *out = col->v; /* at the staging width the statistics promised */
    unsigned w = col->width;
    uint64_t wmax = w >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * w)) - 1;
    int wider = 0;
    size_t n = ch->nrows;
    uint64_t bad = 0;
    struct vbits vb = vb_init(col);
    const struct dm_col *src = ch->is_dict ? &ch->dict : &ch->values;
    size_t nv = ch->is_dict ? ch->ndict : n;
    /* convert each (dictionary or plain) value once */
    uint64_t *val = ch->is_dict ? dm_malloc((nv ? nv : 1) * sizeof(*val)) : NULL;
    uint8_t *okv = ch->is_dict ? dm_malloc(nv ? nv : 1) : NULL;
    if (ch->is_dict && (!val || !okv)) {
        dm_free(val);
        dm_free(okv);
        return -ENOMEM;
    }
    for (size_t k = 0; k < (ch->is_dict ? nv : 0); k++)
        okv[k] = 0;
    size_t count = ch->is_dict ? nv : n;
    if (!ch->is_dict && (src->type == DM_I64 || src->type == DM_I32)) {
        /* plain integers, the common case: one loop per (type, width) without a switch per
         * value; same rules as below (negative = bad unless unsigned, above limit = bad) */
        const uint8_t *valid = ch->values.valid;
        int i64_neg_bad = l->int_signed || l->logical != DM_PQ_LOG_INTEGER;
        int i32_unsigned = l->logical == DM_PQ_LOG_INTEGER && !l->int_signed;
#define PLAIN(T, GET)                                                                    \
    do {                                                                                 \
        T *o = (T *)out + row0;                                                          \
        for (size_t k = 0; k < n; k++) {                                                 \
            if (valid && !valid[k])                                                      \
                continue;                                                                \
            uint64_t v;                                                                  \
            int ok;                                                                      \
            GET;                                                                         \
            if (!ok || v > limit) {                                                      \
                bad++;                                                                   \
                continue;                                                                \
            }                                                                            \
            wider |= v > wmax;                                                           \
            o[k] = (T)v;                                                                 \
            set_valid(&vb, row0 + k);                                                    \
        }                                                                                \
    } while (0)
#define GET64 int64_t x = src->v.i64[k]; ok = !i64_neg_bad || x >= 0; v = (uint64_t)x
#define GET32                                                                            \
    int32_t x = src->v.i32[k];                                                           \
    ok = i32_unsigned || x >= 0;                                                         \
    v = i32_unsigned ? (uint64_t)(uint32_t)x : (uint64_t)(int64_t)x
#define BY_WIDTH(GET)                                                                    \
    switch (w) {                                                                         \
    case 1: PLAIN(uint8_t, GET); break;                                                  \
    case 2: PLAIN(uint16_t, GET); break;                                                 \
    case 4: PLAIN(uint32_t, GET); break;                                                 \
    default: PLAIN(uint64_t, GET); break;                                                \
    }
        if (src->type == DM_I64)
            BY_WIDTH(GET64)
        else
            BY_WIDTH(GET32)
#undef BY_WIDTH
#undef GET32
#undef GET64
#undef PLAIN
        count = 0; /* done */
    }
    for (size_t k = 0; k < count; k++) {
        if (!ch->is_dict && !present_at(ch, k))
            continue;
        uint64_t v = 0;
        int ok = 1;
        switch (src->type) {
        case DM_I64: {
            int64_t x = src->v.i64[k];
            if (l->int_signed || l->logical != DM_PQ_LOG_INTEGER)
                ok = x >= 0;
            v = (uint64_t)x;
            break;
        }
        case DM_I32: {
            int32_t x = src->v.i32[k];
            if (l->logical == DM_PQ_LOG_INTEGER && !l->int_signed)
                v = (uint32_t)x;
            else
                ok = x >= 0, v = (uint64_t)(int64_t)x;
            break;
        }
        case DM_F64: {
            double d = src->v.f64[k] * scale;
            if (scale != 1.0)
                d = floor(d + 0.5);
            ok = d >= 0 && d == floor(d) && d < 18446744073709551615.0;
            v = ok ? (uint64_t)d : 0;
            break;
        }
        case DM_BOOL: v = src->v.b[k]; break;
        case DM_STR: {
            size_t len;
            const char *s = col_str(src, k, &len);
            ok = (colid == DM_C_PROTO && proto_name(s, len, &v) == 0) || text_u64(s, len, &v) == 0;
            break;
        }
        }
        if (ok && v > limit)
            ok = 0;
        if (ch->is_dict) {
            val[k] = v;
            okv[k] = (uint8_t)ok;
            continue;
        }
        if (!ok) {
            bad++;
            continue;
        }
        wider |= v > wmax;
        dm__stage_put(out, w, row0 + k, v);
        set_valid(&vb, row0 + k);
    }
    if (ch->is_dict) {
        for (size_t i = 0; i < n; i++) {
            if (!present_at(ch, i))
                continue;
            uint32_t e = ch->idx[i];
            if (!okv[e]) {
                bad++;
                continue;
            }
            wider |= val[e] > wmax;
            dm__stage_put(out, w, row0 + i, val[e]);
            set_valid(&vb, row0 + i);
        }
        dm_free(val);
        dm_free(okv);
    }
    vb_done(&vb);
    t->in->bad_values += bad;
    if (wider) /* the statistics lied: load again at full width */
        c->restage = 1;
    return 0;
}

/* Strings into a table dictionary (action lower-cased); numbers rendered as text. */
static int load_dict(struct load_ctx *c, int colid, const struct dm_pq_chunk *ch, uint64_t row0)
{
    struct dm_table *t = c->t;
    struct dm_column *col = &t->cols[colid];
    uint32_t *out = (uint32_t *)col->v + row0;
    size_t n = ch->nrows;
    int lower = colid == DM_C_ACTION;
    struct uniq u = {0};
    const struct dm_col *dict = NULL;
    size_t nd;
    int rc = 0;
    char **tmp = NULL; /* rendered / lower-cased copies */
    size_t *lens = NULL;
    const char **ptrs = NULL;
    uint32_t *ids = NULL;
    if (ch->is_dict) {
        dict = &ch->dict;
        nd = ch->ndict;
    } else if (ch->values.type == DM_STR) {
        if ((rc = uniq_build(&u, ch)))
            goto out;
        nd = u.map.count;
    } else {
        nd = n; /* numbers: one text per row, deduplicated by the table dictionary */
    }
    tmp = dm_calloc(nd ? nd : 1, sizeof(*tmp));
    lens = dm_malloc((nd ? nd : 1) * sizeof(*lens));
    ptrs = dm_malloc((nd ? nd : 1) * sizeof(*ptrs));
    ids = dm_malloc((nd ? nd : 1) * sizeof(*ids));
    if (!tmp || !lens || !ptrs || !ids) {
        rc = -ENOMEM;
        goto out;
    }
    const struct dm_col *vals = dict ? dict : &ch->values;
    for (size_t k = 0; k < nd; k++) {
        const char *s;
        size_t len;
        char num[32];
        if (dict || vals->type == DM_STR) {
            if (dict)
                s = col_str(dict, k, &len);
            else
                s = u.map.entries[k].key, len = u.map.entries[k].len;
        } else {
            int m = 0;
            switch (vals->type) {
            case DM_I64: m = snprintf(num, sizeof(num), "%lld", (long long)vals->v.i64[k]); break;
            case DM_I32: m = snprintf(num, sizeof(num), "%d", vals->v.i32[k]); break;
            case DM_F64: m = snprintf(num, sizeof(num), "%.17g", vals->v.f64[k]); break;
            case DM_BOOL: m = snprintf(num, sizeof(num), "%s", vals->v.b[k] ? "true" : "false"); break;
            default: break;
            }
            s = num;
            len = m > 0 ? (size_t)m : 0;
        }
        int needs_copy = s == num;
        for (size_t i = 0; lower && !needs_copy && i < len; i++)
            needs_copy = isupper((unsigned char)s[i]) != 0;
        if (needs_copy) {
            if (!(tmp[k] = dm_strndup(s, len))) {
                rc = -ENOMEM;
                goto out;
            }
            for (size_t i = 0; lower && i < len; i++)
                tmp[k][i] = (char)tolower((unsigned char)tmp[k][i]);
            s = tmp[k];
        }
        ptrs[k] = s;
        lens[k] = len;
    }
    if ((rc = dm__intern_strs(t, colid, ptrs, lens, nd, ids)))
        goto out;
    struct vbits vb = vb_init(col);
    for (size_t i = 0; i < n; i++) {
        if (!present_at(ch, i))
            continue;
        uint32_t e = dict ? ch->idx[i] : vals->type == DM_STR ? u.row_entry[i] : (uint32_t)i;
        out[i] = ids[e];
        set_valid(&vb, row0 + i);
    }
    vb_done(&vb);
out:
    for (size_t k = 0; tmp && k < nd; k++)
        dm_free(tmp[k]);
    dm_free(tmp);
    dm_free(lens);
    dm_free(ptrs);
    dm_free(ids);
    uniq_release(&u);
    return rc;
}

static int load_signed(struct load_ctx *c, int colid, const struct dm_pq_chunk *ch, uint64_t row0)
{
    struct dm_column *col = &c->t->cols[colid];
    const struct dm_col *v = ch->is_dict ? &ch->dict : &ch->values;
    struct vbits vb = vb_init(col);
    for (size_t i = 0; i < ch->nrows; i++) {
        if (!present_at(ch, i))
            continue;
        size_t k = ch->is_dict ? ch->idx[i] : i;
        if (col->kind == DM_CK_F64) {
            double d = v->type == DM_F64 ? v->v.f64[k] : v->type == DM_I64 ? (double)v->v.i64[k]
                       : v->type == DM_I32 ? v->v.i32[k] : 0;
            ((double *)col->v)[row0 + i] = d;
        } else {
            int64_t x = v->type == DM_I64 ? v->v.i64[k] : v->type == DM_I32 ? v->v.i32[k]
                        : v->type == DM_F64 ? (int64_t)v->v.f64[k] : 0;
            ((int64_t *)col->v)[row0 + i] = x;
        }
        set_valid(&vb, row0 + i);
    }
    vb_done(&vb);
    return 0;
}

static void load_task(void *p, size_t task, unsigned worker)
{
    (void)worker;
    struct load_ctx *c = p;
    if (c->rc)
        return;
    struct fmap *fm = &c->files[c->task_file[task]];
    size_t rg = c->task_rg[task];
    uint64_t row0 = c->task_row[task];
    struct dm_table *t = c->t;
    uint64_t nrows = (uint64_t)fm->m->row_groups[rg].num_rows;
    for (size_t col = 0; col < t->ncols; col++) {
        int leaf = fm->leaf[col];
        if (leaf < 0 || !t->cols[col].width)
            continue;
        const struct dm_pq_leaf *l = &fm->m->cols[leaf];
        struct dm_pq_chunk ch;
        struct dm_error err;
        dm_error_clear(&err);
        int rc = dm_pq_read_chunk(fm->r, rg, (size_t)leaf, DM_PQ_READ_DICT, &ch, &err);
        if (!rc && ch.nrows != nrows)
            rc = dm_error_set(&err, DM_ECORRUPT, "'%s': row group %zu column '%s' has %zu rows, "
                              "expected %llu", fm->m->path, rg, l->name, ch.nrows,
                              (unsigned long long)nrows);
        if (!rc) {
            switch (col) {
            case DM_C_TS: rc = load_ts(c, l, &ch, row0); break;
            case DM_C_SRC:
            case DM_C_DST:
                rc = load_ip(c, (int)col, &ch, row0);
                if (rc == DM_EUNSUPPORTED)
                    rc = dm_error_set(&err, rc, "'%s': column '%s' holds %s, not IP address text",
                                      fm->m->path, l->name, dm_pq_type_name(l->type));
                break;
            case DM_C_SPORT:
            case DM_C_DPORT: rc = load_uint(c, (int)col, l, &ch, row0, 65535, 1.0); break;
            case DM_C_PROTO: rc = load_uint(c, (int)col, l, &ch, row0, 255, 1.0); break;
            case DM_C_DURATION:
                rc = load_uint(c, (int)col, l, &ch, row0, UINT64_MAX,
                               l->vtype == DM_F64 && strcmp(l->name, "duration_ms") ? 1000.0 : 1.0);
                break;
            case DM_C_ACTION: rc = load_dict(c, (int)col, &ch, row0); break;
            default:
                switch (t->cols[col].kind) {
                case DM_CK_UINT: rc = load_uint(c, (int)col, l, &ch, row0, UINT64_MAX, 1.0); break;
                case DM_CK_DICT: rc = load_dict(c, (int)col, &ch, row0); break;
                default: rc = load_signed(c, (int)col, &ch, row0); break;
                }
            }
        }
        dm_pq_chunk_release(&ch);
        if (rc) {
            if (rc == -ENOMEM && !err.code)
                dm_error_set(&err, rc, "out of memory loading '%s'", fm->m->path);
            fail_task(c, rc, err.code ? &err : NULL);
            return;
        }
    }
    uint64_t done = atomic_fetch_add(&c->done, nrows) + nrows;
    if (c->o->progress)
        c->o->progress(c->o->progress_ctx, done, c->total);
}

/* Build width of unsigned column col: ports 2 and proto 1 (larger values are rejected as
 * bad), booleans 1; integers the width of the largest maximum in the row groups'
 * statistics; 8 when a row group has none or the column holds floats or text. */
static unsigned stage_width(const struct fmap *fm, size_t nfiles, int col)
{
    if (col == DM_C_SPORT || col == DM_C_DPORT)
        return 2;
    if (col == DM_C_PROTO)
        return 1;
    uint64_t bound = 0;
    for (size_t i = 0; i < nfiles; i++) {
        int leaf = fm[i].leaf[col];
        if (leaf < 0)
            continue;
        const struct dm_pq_leaf *l = &fm[i].m->cols[leaf];
        if (l->vtype == DM_BOOL)
            continue;
        if (l->vtype != DM_I64 && l->vtype != DM_I32)
            return 8;
        for (size_t rg = 0; rg < fm[i].m->nrow_groups; rg++) {
            const struct dm_pq_chunk_meta *cm = &fm[i].m->row_groups[rg].cols[leaf];
            const struct dm_pq_stats *st = &cm->stats;
            if (!cm->has_stats || !st->has_min_max || !st->max_exact)
                return 8;
            if (st->max_i < 0) { /* all negative (nulls), or an unsigned 64-bit >= 2^63 */
                if (l->logical == DM_PQ_LOG_INTEGER && !l->int_signed)
                    return 8;
                continue;
            }
            if ((uint64_t)st->max_i > bound)
                bound = (uint64_t)st->max_i;
        }
    }
    return bound <= UINT8_MAX ? 1 : bound <= UINT16_MAX ? 2 : bound <= UINT32_MAX ? 4 : 8;
}

/* ---------------- entry point ---------------- */

static const char *const required_hint[] = {
    "ts, timestamp, _@timestamp, @timestamp, time, start_time",
    "src_ip, src, srcip, _SourceIP, source.ip, id.orig_h, src_addr",
    "dst_ip, dst, dstip, _DestinationIP, destination.ip, id.resp_h, dst_addr"};

int dm_table_load(struct dm_table **out, const char *data, const struct dm_load_opts *o,
                  struct dm_error *err)
{
    *out = NULL;
    const struct dm_config *cfg = o->config;
    struct files files = {0};
    struct fmap *fm = NULL;
    struct dm_table *t = NULL;
    struct load_ctx c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.err_lock, NULL);
    int rc = find_files(&files, data, err);
    if (rc)
        goto out;
    fm = dm_calloc(files.n, sizeof(*fm));
    if (!fm) {
        rc = dm_error_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    /* extras wanted: explicit list, else targeted_cols that are not canonical */
    const char *extras[MAX_EXTRAS];
    size_t nextras = 0;
    const char *const *want = o->extras;
    size_t nwant = o->nextras;
    if (!want && cfg) {
        want = (const char *const *)cfg->targeted_cols;
        nwant = cfg->ntargeted;
    }
    for (size_t i = 0; i < nwant && nextras < MAX_EXTRAS; i++) {
        if (dm__canonical_alias(want[i], strlen(want[i])) >= 0)
            continue;
        int mapped = 0;
        for (size_t k = 0; cfg && k < cfg->ncolumns; k++)
            mapped |= !strcmp(cfg->columns[k].source, want[i]);
        int dup = 0;
        for (size_t k = 0; k < nextras; k++)
            dup |= !strcmp(extras[k], want[i]);
        if (!mapped && !dup)
            extras[nextras++] = want[i];
    }
    enum dm_ckind ekinds[MAX_EXTRAS];
    int efound[MAX_EXTRAS] = {0};
    unsigned present = 0;
    uint64_t total = 0;
    size_t ntasks = 0;
    for (size_t i = 0; i < files.n; i++) {
        if ((rc = dm_pq_reader_open(&fm[i].r, files.v[i], err)))
            goto out;
        const struct dm_pq_meta *m = fm[i].m = dm_pq_reader_meta(fm[i].r);
        for (int col = 0; col < DM_C_NCANON; col++) {
            fm[i].leaf[col] = find_canonical(m, cfg, col);
            if (fm[i].leaf[col] >= 0)
                present |= 1u << col;
            else if (col <= DM_C_DST) {
                rc = dm_error_set(err, -ENOENT,
                                  "'%s': no %s column (looked for %s; map one with the config "
                                  "\"columns\")",
                                  files.v[i], col == DM_C_TS ? "timestamp" : col == DM_C_SRC ? "source IP" : "destination IP",
                                  required_hint[col]);
                goto out;
            }
        }
        for (size_t x = 0; x < nextras; x++) {
            int leaf = dm_pq_reader_column(fm[i].r, extras[x]);
            fm[i].leaf[DM_C_NCANON + x] = leaf;
            if (leaf >= 0 && !efound[x]) {
                efound[x] = 1;
                ekinds[x] = extra_kind(&m->cols[leaf]);
            }
        }
        fm[i].row0 = total;
        if (m->num_rows < 0 || (uint64_t)m->num_rows > (uint64_t)UINT32_MAX - 1 - total) {
            rc = dm_error_set(err, DM_ETOOBIG, "more than %u rows", UINT32_MAX - 1);
            goto out;
        }
        total += (uint64_t)m->num_rows;
        ntasks += m->nrow_groups;
    }
    /* extras found in no file are dropped */
    const char *enames[MAX_EXTRAS];
    enum dm_ckind ek[MAX_EXTRAS];
    size_t ne = 0;
    int emap[MAX_EXTRAS];
    for (size_t x = 0; x < nextras; x++) {
        emap[x] = -1;
        if (!efound[x])
            continue;
        emap[x] = (int)ne;
        enames[ne] = extras[x];
        ek[ne++] = ekinds[x];
    }
    for (size_t i = 0; i < files.n; i++) {
        int leaf[MAX_EXTRAS];
        for (size_t x = 0; x < nextras; x++)
            leaf[x] = fm[i].leaf[DM_C_NCANON + x];
        for (size_t x = 0; x < MAX_EXTRAS; x++)
            fm[i].leaf[DM_C_NCANON + x] = -1;
        for (size_t x = 0; x < nextras; x++)
            if (emap[x] >= 0)
                fm[i].leaf[DM_C_NCANON + emap[x]] = leaf[x];
    }
    c.files = fm;
    c.nfiles = files.n;
    c.total = total;
    c.o = o;
    c.task_file = dm_malloc((ntasks ? ntasks : 1) * sizeof(size_t));
    c.task_rg = dm_malloc((ntasks ? ntasks : 1) * sizeof(size_t));
    c.task_row = dm_malloc((ntasks ? ntasks : 1) * sizeof(uint64_t));
    if (!c.task_file || !c.task_rg || !c.task_row) {
        rc = dm_error_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < files.n; i++) {
        uint64_t row = fm[i].row0;
        for (size_t rg = 0; rg < fm[i].m->nrow_groups; rg++) {
            int64_t nr = fm[i].m->row_groups[rg].num_rows;
            if (nr < 0 || (uint64_t)nr > fm[i].row0 + (uint64_t)fm[i].m->num_rows - row) {
                rc = dm_error_set(err, DM_ECORRUPT,
                                  "'%s': row group %zu row count does not add up to the file's",
                                  files.v[i], rg);
                goto out;
            }
            c.task_file[k] = i;
            c.task_rg[k] = rg;
            c.task_row[k++] = row;
            row += (uint64_t)nr;
        }
    }
    /* Unsigned columns are built at the width the row groups' statistics promise (ports and
     * proto at theirs), which saves memory and page faults; a value beyond it (lying
     * statistics) makes a second pass at full width. */
    for (int full = 0; full < 2; full++) {
        dm_table_free(t);
        t = NULL;
        if ((rc = dm__table_alloc(&t, cfg, o->pool, ek, enames, ne, present, total))) {
            rc = dm_error_set(err, rc, "out of memory for %llu rows", (unsigned long long)total);
            goto out;
        }
        t->nfiles = files.n;
        for (size_t col = 0; col < t->ncols && !full; col++) {
            if (t->cols[col].kind != DM_CK_UINT || !t->cols[col].width)
                continue;
            if ((rc = dm__table_stage_width(t, col, stage_width(fm, files.n, (int)col)))) {
                rc = dm_error_set(err, rc, "out of memory for %llu rows",
                                  (unsigned long long)total);
                goto out;
            }
        }
        c.t = t;
        c.restage = 0;
        c.done = 0;
        dm_pool_for(o->pool, ntasks, load_task, &c);
        if (c.rc || !c.restage)
            break;
    }
    if (c.rc) {
        rc = c.rc;
        if (err)
            *err = c.err;
        goto out;
    }
    /* rows of a file whose row groups sum to less than num_rows stay null → dropped */
    t->nrows = total;
    t->rows_read = total;
    if ((rc = dm_table_finish(t, err)))
        goto out;
    *out = t;
    t = NULL;
out:
    dm_table_free(t);
    for (size_t i = 0; fm && i < files.n; i++)
        dm_pq_reader_free(fm[i].r);
    dm_free(fm);
    dm_free(c.task_file);
    dm_free(c.task_rg);
    dm_free(c.task_row);
    pthread_mutex_destroy(&c.err_lock);
    files_release(&files);
    return rc;
}
