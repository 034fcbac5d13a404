/* The in-memory flow table: building, IP / string interning, finishing (ts order, narrow
 * counters, IP classification), lookups and time literals. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

static const char *const canon_names[DM_C_NCANON] = {
    "ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
    "bytes_sent", "bytes_recv", "packets", "action", "duration_ms"};

static const enum dm_ckind canon_kinds[DM_C_NCANON] = {
    DM_CK_INT, DM_CK_IP, DM_CK_IP, DM_CK_UINT, DM_CK_UINT, DM_CK_UINT,
    DM_CK_UINT, DM_CK_UINT, DM_CK_UINT, DM_CK_DICT, DM_CK_UINT};

/* Names mapped to canonical columns: filter field names, the convert presets' source names
 * and the earlier tool's columns. Matched case-sensitively first, then ignoring case. */
static const struct {
    const char *name;
    int col;
} aliases[] = {
    {"ts", DM_C_TS}, {"timestamp", DM_C_TS}, {"_@timestamp", DM_C_TS}, {"@timestamp", DM_C_TS},
    {"time", DM_C_TS}, {"start_time", DM_C_TS}, {"starttime", DM_C_TS}, {"stime", DM_C_TS},
    {"first_seen", DM_C_TS}, {"flow_start", DM_C_TS}, {"event.start", DM_C_TS},
    {"src", DM_C_SRC}, {"src_ip", DM_C_SRC}, {"srcip", DM_C_SRC}, {"_SourceIP", DM_C_SRC},
    {"source.ip", DM_C_SRC}, {"id.orig_h", DM_C_SRC}, {"src_addr", DM_C_SRC},
    {"srcaddr", DM_C_SRC}, {"sa", DM_C_SRC}, {"ip_src", DM_C_SRC},
    {"dst", DM_C_DST}, {"dst_ip", DM_C_DST}, {"dstip", DM_C_DST},
    {"_DestinationIP", DM_C_DST}, {"destination.ip", DM_C_DST}, {"id.resp_h", DM_C_DST},
    {"dst_addr", DM_C_DST}, {"dstaddr", DM_C_DST}, {"da", DM_C_DST}, {"ip_dst", DM_C_DST},
    {"sport", DM_C_SPORT}, {"src_port", DM_C_SPORT}, {"srcport", DM_C_SPORT},
    {"_SourcePort", DM_C_SPORT}, {"source.port", DM_C_SPORT}, {"id.orig_p", DM_C_SPORT},
    {"sp", DM_C_SPORT}, {"port_src", DM_C_SPORT},
    {"dport", DM_C_DPORT}, {"dst_port", DM_C_DPORT}, {"dstport", DM_C_DPORT},
    {"_DestinationPort", DM_C_DPORT}, {"destination.port", DM_C_DPORT},
    {"id.resp_p", DM_C_DPORT}, {"dp", DM_C_DPORT}, {"port_dst", DM_C_DPORT},
    {"proto", DM_C_PROTO}, {"protocol", DM_C_PROTO}, {"_Protocol", DM_C_PROTO},
    {"network.iana_number", DM_C_PROTO}, {"ip_proto", DM_C_PROTO},
    {"sent", DM_C_SENT}, {"bytes_sent", DM_C_SENT}, {"_BytesSent", DM_C_SENT},
    {"source.bytes", DM_C_SENT}, {"orig_bytes", DM_C_SENT}, {"bytes_out", DM_C_SENT},
    {"ibyt", DM_C_SENT}, {"src_bytes", DM_C_SENT},
    {"recv", DM_C_RECV}, {"bytes_recv", DM_C_RECV}, {"_BytesReceived", DM_C_RECV},
    {"destination.bytes", DM_C_RECV}, {"resp_bytes", DM_C_RECV}, {"bytes_in", DM_C_RECV},
    {"obyt", DM_C_RECV}, {"dst_bytes", DM_C_RECV}, {"bytes_received", DM_C_RECV},
    {"packets", DM_C_PACKETS}, {"pkts", DM_C_PACKETS}, {"_Packets", DM_C_PACKETS},
    {"network.packets", DM_C_PACKETS},
    {"action", DM_C_ACTION}, {"_Action", DM_C_ACTION}, {"event.action", DM_C_ACTION},
    {"duration", DM_C_DURATION}, {"duration_ms", DM_C_DURATION},
};

const char *dm_colid_name(enum dm_colid id)
{
    return (unsigned)id < DM_C_NCANON ? canon_names[id] : "?";
}

int dm__canonical_alias(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strlen(aliases[i].name) == len && !memcmp(aliases[i].name, name, len))
            return aliases[i].col;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strlen(aliases[i].name) == len && !strncasecmp(aliases[i].name, name, len))
            return aliases[i].col;
    return -1;
}

int dm_table_column(const struct dm_table *t, const char *name, size_t len)
{
    for (size_t i = DM_C_NCANON; i < t->ncols; i++)
        if (strlen(t->cols[i].name) == len && !memcmp(t->cols[i].name, name, len))
            return (int)i;
    return dm__canonical_alias(name, len);
}

unsigned dm__edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned row[33];
    if (an > 32 || bn > 32)
        return 8;
    for (size_t j = 0; j <= bn; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= an; i++) {
        unsigned prev = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= bn; j++) {
            unsigned cur = row[j];
            unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            unsigned v = prev + cost;
            if (row[j] + 1 < v)
                v = row[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            prev = cur;
        }
    }
    return row[bn] > 8 ? 8 : row[bn];
}

/* ---- allocation ---- */

static size_t bits_words(size_t n)
{
    return (n + 63) / 64;
}

static int col_alloc(struct dm_column *c, size_t cap, int with_valid)
{
    size_t w = c->kind == DM_CK_IP || c->kind == DM_CK_DICT ? 4 : 8;
    c->v = dm__calloc_huge(cap ? cap : 1, w);
    if (!c->v)
        return -ENOMEM;
    c->width = (uint8_t)w;
    if (with_valid && !(c->valid = dm_calloc(bits_words(cap) ? bits_words(cap) : 1, 8)))
        return -ENOMEM;
    return 0;
}

int dm__table_alloc(struct dm_table **out, const struct dm_config *cfg, struct dm_pool *pool,
                    const enum dm_ckind *extra_kinds, const char *const *extra_names,
                    size_t nextra, unsigned present, size_t cap)
{
    *out = NULL;
    struct dm_table *t = dm_calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->config = cfg;
    t->pool = pool;
    t->in = dm_calloc(1, sizeof(*t->in));
    t->ncols = DM_C_NCANON + nextra;
    t->cols = dm_calloc(t->ncols, sizeof(*t->cols));
    if (!t->in || !t->cols)
        goto oom;
    pthread_mutex_init(&t->in->lock, NULL);
    dm_hmap_init(&t->in->ipmap, DM__MAX_IPS);
    t->in->cap = cap;
    t->in->dicts = dm_calloc(t->ncols, sizeof(*t->in->dicts));
    t->in->names = dm_calloc(t->ncols, sizeof(*t->in->names));
    t->in->ovf = dm_calloc(t->ncols, sizeof(*t->in->ovf));
    if (!t->in->dicts || !t->in->names || !t->in->ovf)
        goto oom;
    for (size_t i = 0; i < t->ncols; i++)
        dm_hmap_init(&t->in->dicts[i], DM__MAX_DICT);
    present |= 1u << DM_C_TS | 1u << DM_C_SRC | 1u << DM_C_DST;
    for (size_t i = 0; i < t->ncols; i++) {
        struct dm_column *c = &t->cols[i];
        if (i < DM_C_NCANON) {
            c->name = canon_names[i];
            c->kind = canon_kinds[i];
            if (!(present & (1u << i)))
                continue;
        } else {
            if (!(t->in->names[i] = dm_strdup(extra_names[i - DM_C_NCANON])))
                goto oom;
            c->name = t->in->names[i];
            c->kind = extra_kinds[i - DM_C_NCANON];
        }
        if (col_alloc(c, cap, c->kind != DM_CK_IP))
            goto oom;
    }
    *out = t;
    return 0;
oom:
    dm_table_free(t);
    return -ENOMEM;
}

int dm__table_stage_width(struct dm_table *t, size_t col, unsigned w)
{
    struct dm_column *c = &t->cols[col];
    if (!c->width || c->kind != DM_CK_UINT || c->width == w)
        return 0;
    void *v = dm__calloc_huge(t->in->cap ? t->in->cap : 1, w);
    if (!v)
        return -ENOMEM;
    dm_free(c->v);
    c->v = v;
    c->width = (uint8_t)w;
    return 0;
}

int dm_table_new(struct dm_table **out, const struct dm_config *cfg, struct dm_pool *pool,
                 unsigned present)
{
    return dm__table_alloc(out, cfg, pool, NULL, NULL, 0, present, 1024);
}

int dm_table_add_extra(struct dm_table *t, const char *name, enum dm_ckind kind)
{
    if (t->nrows || t->in->finished || kind == DM_CK_IP)
        return -EINVAL;
    if (dm_table_column(t, name, strlen(name)) >= 0)
        return -EEXIST;
    size_t n = t->ncols + 1;
    struct dm_column *cols = dm_reallocarray(t->cols, n, sizeof(*cols));
    if (!cols)
        return -ENOMEM;
    t->cols = cols;
    struct dm_hmap *d = dm_reallocarray(t->in->dicts, n, sizeof(*d));
    if (!d)
        return -ENOMEM;
    t->in->dicts = d;
    char **names = dm_reallocarray(t->in->names, n, sizeof(*names));
    if (!names)
        return -ENOMEM;
    t->in->names = names;
    struct dm_ovf *ovf = dm_reallocarray(t->in->ovf, n, sizeof(*ovf));
    if (!ovf)
        return -ENOMEM;
    t->in->ovf = ovf;
    memset(&ovf[n - 1], 0, sizeof(*ovf));
    dm_hmap_init(&d[n - 1], DM__MAX_DICT);
    names[n - 1] = NULL;
    struct dm_column *c = &cols[n - 1];
    memset(c, 0, sizeof(*c));
    t->ncols = n;
    if (!(names[n - 1] = dm_strdup(name)))
        return -ENOMEM;
    c->name = names[n - 1];
    c->kind = kind;
    return col_alloc(c, t->in->cap, kind != DM_CK_IP);
}

/* ---- interning ---- */

int dm__ip_text(const char *s, size_t n, struct dm_ip *ip)
{
    while (n && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return dm_ip_parse(s, n, ip);
}

int dm__intern_ips(struct dm_table *t, const struct dm_ip *ips, const uint8_t *ok, size_t n,
                   uint32_t *ids)
{
    int rc = 0;
    pthread_mutex_lock(&t->in->lock);
    for (size_t i = 0; i < n; i++) {
        if (ok && !ok[i]) {
            ids[i] = 0;
            continue;
        }
        struct dm_hmap_entry *e;
        if ((rc = dm_hmap_upsert(&t->in->ipmap, ips[i].b, 16, &e, NULL)))
            break;
        ids[i] = (uint32_t)(e - t->in->ipmap.entries) + 1;
    }
    pthread_mutex_unlock(&t->in->lock);
    return rc;
}

int dm__intern_strs(struct dm_table *t, int col, const char *const *s, const size_t *len,
                    size_t n, uint32_t *ids)
{
    int rc = 0;
    struct dm_hmap *m = &t->in->dicts[col];
    pthread_mutex_lock(&t->in->lock);
    for (size_t i = 0; i < n; i++) {
        struct dm_hmap_entry *e;
        if ((rc = dm_hmap_upsert(m, s[i], len[i], &e, NULL)))
            break;
        ids[i] = (uint32_t)(e - m->entries);
    }
    pthread_mutex_unlock(&t->in->lock);
    return rc;
}

/* ---- programmatic building ---- */

static int grow(struct dm_table *t)
{
    size_t nc = t->in->cap * 2;
    for (size_t i = 0; i < t->ncols; i++) {
        struct dm_column *c = &t->cols[i];
        if (!c->width)
            continue;
        void *v = dm_reallocarray(c->v, nc, c->width);
        if (!v)
            return -ENOMEM;
        /* rows never written (nulls) must read 0, like the loader's calloc'ed arrays */
        memset((char *)v + t->in->cap * c->width, 0, (nc - t->in->cap) * c->width);
        c->v = v;
        if (c->valid) {
            uint64_t *b = dm_reallocarray(c->valid, bits_words(nc), 8);
            if (!b)
                return -ENOMEM;
            memset(b + bits_words(t->in->cap), 0,
                   (bits_words(nc) - bits_words(t->in->cap)) * 8);
            c->valid = b;
        }
    }
    t->in->cap = nc;
    return 0;
}

static void put_u64(struct dm_table *t, int col, size_t row, int64_t v)
{
    struct dm_column *c = &t->cols[col];
    if (!c->width || v < 0)
        return;
    ((uint64_t *)c->v)[row] = (uint64_t)v;
    dm__bit_set(c->valid, row);
}

static int put_str(struct dm_table *t, int col, size_t row, const char *s)
{
    struct dm_column *c = &t->cols[col];
    if (!c->width || !s)
        return 0;
    size_t len = strlen(s);
    uint32_t id;
    int rc = dm__intern_strs(t, col, &s, &len, 1, &id);
    if (rc)
        return rc;
    ((uint32_t *)c->v)[row] = id;
    dm__bit_set(c->valid, row);
    return 0;
}

static int put_ip(struct dm_table *t, int col, size_t row, const char *s)
{
    uint32_t id = 0;
    struct dm_ip ip;
    if (s && dm__ip_text(s, strlen(s), &ip) == 0) {
        int rc = dm__intern_ips(t, &ip, NULL, 1, &id);
        if (rc)
            return rc;
    } else if (s) {
        t->in->bad_ips++;
    }
    ((uint32_t *)t->cols[col].v)[row] = id;
    return 0;
}

int dm_table_append(struct dm_table *t, const struct dm_flow *f)
{
    if (t->in->finished)
        return -EINVAL;
    if (t->nrows == t->in->cap && grow(t))
        return -ENOMEM;
    size_t r = t->nrows;
    int rc;
    ((int64_t *)t->cols[DM_C_TS].v)[r] = f->ts;
    dm__bit_set(t->cols[DM_C_TS].valid, r);
    if ((rc = put_ip(t, DM_C_SRC, r, f->src)) || (rc = put_ip(t, DM_C_DST, r, f->dst)))
        return rc;
    put_u64(t, DM_C_SPORT, r, f->sport > 65535 ? -1 : f->sport);
    put_u64(t, DM_C_DPORT, r, f->dport > 65535 ? -1 : f->dport);
    put_u64(t, DM_C_PROTO, r, f->proto > 255 ? -1 : f->proto);
    put_u64(t, DM_C_SENT, r, f->sent);
    put_u64(t, DM_C_RECV, r, f->recv);
    put_u64(t, DM_C_PACKETS, r, f->packets);
    put_u64(t, DM_C_DURATION, r, f->duration_ms);
    if ((rc = put_str(t, DM_C_ACTION, r, f->action)))
        return rc;
    for (size_t i = DM_C_NCANON; f->extra && i < t->ncols; i++) {
        const struct dm_value *x = &f->extra[i - DM_C_NCANON];
        struct dm_column *c = &t->cols[i];
        if (x->null)
            continue;
        switch (c->kind) {
        case DM_CK_UINT: put_u64(t, (int)i, r, x->i); break;
        case DM_CK_INT:
            ((int64_t *)c->v)[r] = x->i;
            dm__bit_set(c->valid, r);
            break;
        case DM_CK_F64:
            ((double *)c->v)[r] = x->f;
            dm__bit_set(c->valid, r);
            break;
        case DM_CK_DICT:
            if ((rc = put_str(t, (int)i, r, x->s)))
                return rc;
            break;
        case DM_CK_IP: break;
        }
    }
    t->nrows++;
    return 0;
}

/* ---- finishing ---- */

/* Stable LSD radix sort of rows by ts (keys relative to the minimum), 11-bit digits; rows
 * with a null ts are left out. Returns the permutation (perm[i] = old row of new row i) and
 * its length, or NULL perm when the table is already in order without nulls. */
static int ts_order(const struct dm_table *t, uint32_t **perm_out, size_t *n_out)
{
    const int64_t *ts = t->cols[DM_C_TS].v;
    const uint64_t *valid = t->cols[DM_C_TS].valid;
    size_t n = t->nrows, m = 0;
    int sorted = 1;
    int64_t lo = INT64_MAX, hi = INT64_MIN, prev = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (!((valid[i >> 6] >> (i & 63)) & 1)) {
            sorted = 0;
            continue;
        }
        m++;
        if (ts[i] < prev)
            sorted = 0;
        prev = ts[i];
        if (ts[i] < lo)
            lo = ts[i];
        if (ts[i] > hi)
            hi = ts[i];
    }
    *perm_out = NULL;
    *n_out = m;
    if (sorted)
        return 0;
    uint32_t *a = dm__malloc_huge((m ? m : 1) * sizeof(*a));
    uint32_t *b = dm__malloc_huge((m ? m : 1) * sizeof(*b));
    uint64_t *ka = dm__malloc_huge((m ? m : 1) * sizeof(*ka));
    uint64_t *kb = dm__malloc_huge((m ? m : 1) * sizeof(*kb));
    size_t *cnt = dm_malloc(2048 * sizeof(*cnt));
    if (!a || !b || !ka || !kb || !cnt) {
        dm_free(a);
        dm_free(b);
        dm_free(ka);
        dm_free(kb);
        dm_free(cnt);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((valid[i >> 6] >> (i & 63)) & 1) {
            a[k] = (uint32_t)i;
            ka[k++] = (uint64_t)ts[i] - (uint64_t)lo;
        }
    uint64_t range = m ? (uint64_t)hi - (uint64_t)lo : 0;
    for (unsigned shift = 0; shift < 64 && (range >> shift); shift += 11) {
        memset(cnt, 0, 2048 * sizeof(*cnt));
        for (size_t i = 0; i < m; i++)
            cnt[(ka[i] >> shift) & 2047]++;
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) {
            size_t d = (ka[i] >> shift) & 2047;
            size_t p = cnt[d]++;
            b[p] = a[i];
            kb[p] = ka[i];
        }
        uint32_t *tp = a;
        a = b;
        b = tp;
        uint64_t *tk = ka;
        ka = kb;
        kb = tk;
    }
    dm_free(b);
    dm_free(ka);
    dm_free(kb);
    dm_free(cnt);
    *perm_out = a;
    return 0;
}

static unsigned width_for(uint64_t max)
{
    return max <= UINT8_MAX ? 1 : max <= UINT16_MAX ? 2 : max <= UINT32_MAX ? 4 : 8;
}

struct finish_ctx {
    struct dm_table *t;
    const uint32_t *perm;
    size_t n;
    int rc;
};

static uint64_t width_max(unsigned w)
{
    return w >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * w)) - 1;
}

/* Width for a counter that may keep its few too-wide values in an overflow table (12 bytes
 * each): the smallest total size, at most `full` (the width holding every value). *novf =
 * the number of values above the chosen width's maximum. v: the u64 build array. */
static unsigned ovf_width(const void *v, unsigned vw, const uint32_t *perm, size_t n,
                          unsigned full, size_t *novf)
{
    size_t over[4] = {0, 0, 0, 0}; /* values above the max of width 1, 2, 4 */
    for (size_t k = 0; k < n; k++) {
        uint64_t x = dm__stage_get(v, vw, perm ? perm[k] : k);
        over[0] += x > UINT8_MAX;
        over[1] += x > UINT16_MAX;
        over[2] += x > UINT32_MAX;
    }
    unsigned best = full;
    size_t best_cost = n * full;
    *novf = 0;
    for (unsigned j = 0, w = 1; w < full; j++, w *= 2) {
        if (over[j] > UINT32_MAX || over[j] > n / 64) /* rare values only */
            continue;
        size_t cost = n * w + over[j] * (sizeof(uint32_t) + sizeof(uint64_t));
        if (cost < best_cost)
            best = w, best_cost = cost, *novf = over[j];
    }
    return best;
}

/* Saturates the narrowed column nv (new row order) and records the wide values. */
static int fill_ovf(struct dm_table *t, size_t col, unsigned oldw, void *nv, unsigned w,
                    const uint32_t *perm, size_t n, size_t novf)
{
    struct dm_column *c = &t->cols[col];
    struct dm_ovf *o = &t->in->ovf[col];
    uint32_t *row = dm_malloc(novf * sizeof(*row));
    uint64_t *val = dm_malloc(novf * sizeof(*val));
    if (!row || !val) {
        dm_free(row);
        dm_free(val);
        return -ENOMEM;
    }
    uint64_t max = width_max(w);
    size_t k = 0;
    for (size_t r = 0; r < n && k < novf; r++) {
        uint64_t x = dm__stage_get(c->v, oldw, perm ? perm[r] : r);
        if (x <= max)
            continue;
        row[k] = (uint32_t)r;
        val[k++] = x;
        switch (w) {
        case 1: ((uint8_t *)nv)[r] = UINT8_MAX; break;
        case 2: ((uint16_t *)nv)[r] = UINT16_MAX; break;
        default: ((uint32_t *)nv)[r] = UINT32_MAX; break;
        }
    }
    o->n = k;
    o->row = row;
    o->v = val;
    c->ovf = o;
    return 0;
}

uint64_t dm_col_ovf(const struct dm_column *c, size_t row, uint64_t stored)
{
    const struct dm_ovf *o = c->ovf;
    size_t a = 0, b = o->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (o->row[mid] < row)
            a = mid + 1;
        else
            b = mid;
    }
    return a < o->n && o->row[a] == row ? o->v[a] : stored;
}

/* Rewrites column i: permuted, narrowed, bitmap dropped when every row is present. */
static void finish_col(void *p, size_t i, unsigned worker)
{
    (void)worker;
    struct finish_ctx *fc = p;
    struct dm_table *t = fc->t;
    struct dm_column *c = &t->cols[i];
    const uint32_t *perm = fc->perm;
    size_t n = fc->n;
    if (!c->width)
        return;
    unsigned oldw = c->width, neww = oldw;
    uint64_t max = 0;
    int all_valid = 1;
    const uint64_t *valid = c->valid;
    size_t nr = t->nrows;
    if (valid) {
        for (size_t w = 0; w < nr / 64 && all_valid; w++)
            all_valid = valid[w] == UINT64_MAX;
        if (all_valid && nr % 64) {
            uint64_t tail = ((uint64_t)1 << (nr % 64)) - 1;
            all_valid = (valid[nr / 64] & tail) == tail;
        }
    }
    if (c->kind == DM_CK_UINT) { /* null rows hold 0 (never written), so no bitmap test */
#define MAX_LOOP(T)                                                                      \
    for (size_t r = 0; r < nr; r++)                                                      \
        max = ((const T *)c->v)[r] > max ? ((const T *)c->v)[r] : max;
        switch (oldw) {
        case 1: MAX_LOOP(uint8_t); break;
        case 2: MAX_LOOP(uint16_t); break;
        case 4: MAX_LOOP(uint32_t); break;
        default: MAX_LOOP(uint64_t); break;
        }
#undef MAX_LOOP
    }
    if (perm && valid) { /* a dropped row makes all_valid meaningless: recompute below */
        all_valid = 1;
        for (size_t k = 0; k < n; k++) {
            size_t r = perm[k];
            if (!((c->valid[r >> 6] >> (r & 63)) & 1)) {
                all_valid = 0;
                break;
            }
        }
    }
    size_t novf = 0;
    if (c->kind == DM_CK_UINT) {
        c->max = max;
        neww = i == DM_C_SPORT || i == DM_C_DPORT ? 2 : i == DM_C_PROTO ? 1 : width_for(max);
        if (i == DM_C_PACKETS && neww > 1)
            neww = ovf_width(c->v, oldw, perm, n, neww, &novf);
    } else if (c->kind == DM_CK_DICT) {
        neww = t->in->dicts[i].count <= 256 ? 1 : t->in->dicts[i].count <= 65536 ? 2 : 4;
    }
    void *nv = c->v;
    if (perm || neww != oldw) {
        nv = dm__malloc_huge((n ? n : 1) * neww);
        if (!nv) {
            fc->rc = -ENOMEM;
            return;
        }
        const uint8_t *src = c->v;
#define GATHER(TO, FROM)                                                                 \
    for (size_t k = 0; k < n; k++) {                                                     \
        size_t r = perm ? perm[k] : k;                                                   \
        ((TO *)nv)[k] = (TO)((const FROM *)src)[r];                                      \
    }
#define GATHER_TO(FROM)                                                                  \
    switch (neww) {                                                                      \
    case 1: GATHER(uint8_t, FROM); break;                                                \
    case 2: GATHER(uint16_t, FROM); break;                                               \
    case 4: GATHER(uint32_t, FROM); break;                                               \
    default: GATHER(uint64_t, FROM); break;                                              \
    }
        switch (oldw) {
        case 1: GATHER_TO(uint8_t); break;
        case 2: GATHER_TO(uint16_t); break;
        case 4: GATHER_TO(uint32_t); break;
        default: GATHER_TO(uint64_t); break;
        }
#undef GATHER_TO
#undef GATHER
    }
    if (novf && fill_ovf(t, i, oldw, nv, neww, perm, n, novf)) {
        if (nv != c->v)
            dm_free(nv);
        fc->rc = -ENOMEM;
        return;
    }
    uint64_t *nb = NULL;
    if (!all_valid) {
        nb = c->valid;
        if (perm) {
            nb = dm_calloc(bits_words(n) ? bits_words(n) : 1, 8);
            if (!nb) {
                if (nv != c->v)
                    dm_free(nv);
                fc->rc = -ENOMEM;
                return;
            }
            for (size_t k = 0; k < n; k++) {
                size_t r = perm[k];
                if ((c->valid[r >> 6] >> (r & 63)) & 1)
                    dm__bit_set(nb, k);
            }
        }
    }
    if (nv != c->v)
        dm_free(c->v);
    if (nb != c->valid)
        dm_free(c->valid);
    c->v = nv;
    c->valid = nb;
    c->width = (uint8_t)neww;
}

static int ip_id_cmp(const void *a, const void *b, void *base)
{
    const struct dm_ip *ip = base;
    return dm_ip_cmp(&ip[*(const uint32_t *)a], &ip[*(const uint32_t *)b]);
}

/* rank[id] = position of the address in sorted order. */
static int rank_ips(struct dm_table *t)
{
    size_t n = t->ips.n;
    uint32_t *ord = dm_malloc(n * sizeof(*ord));
    if (!ord)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        ord[i] = (uint32_t)i;
    if (n > 1)
        qsort_r(ord + 1, n - 1, sizeof(*ord), ip_id_cmp, t->ips.ip);
    for (size_t i = 0; i < n; i++)
        t->in->iprank[ord[i]] = (uint32_t)i;
    dm_free(ord);
    return 0;
}

static void classify_ips(struct dm_table *t)
{
    struct dm_iptab *ipt = &t->ips;
    for (size_t id = 1; id < ipt->n; id++) {
        const struct dm_ip *ip = &ipt->ip[id];
        uint8_t f = dm_ip_is_v4(ip) ? DM_IPF_V4 : 0;
        if (dm_cidr_set_contains(&t->config->internal, ip))
            f |= DM_IPF_INTERNAL;
        ipt->flags[id] = f;
        const struct dm_known_server *s = dm_config_server(t->config, ip);
        ipt->server[id] = s ? (uint32_t)(s - t->config->servers) + 1 : 0;
    }
}

int dm_table_finish(struct dm_table *t, struct dm_error *err)
{
    if (t->in->finished)
        return 0;
    uint32_t *perm;
    size_t n;
    int rc = ts_order(t, &perm, &n);
    if (rc)
        return dm_error_set(err, rc, "out of memory sorting %zu rows by time", t->nrows);
    struct finish_ctx fc = {t, perm, n, 0};
    dm_pool_for(t->pool, t->ncols, finish_col, &fc);
    dm_free(perm);
    if (fc.rc)
        return dm_error_set(err, fc.rc, "out of memory finishing the table");
    t->rows_dropped += t->nrows - n;
    t->nrows = n;
    t->bad_ips += atomic_load(&t->in->bad_ips);
    t->bad_values += atomic_load(&t->in->bad_values);
    /* IP table */
    struct dm_hmap *m = &t->in->ipmap;
    size_t nip = m->count + 1;
    t->in->ipv = dm_calloc(nip, sizeof(struct dm_ip));
    t->in->ipflags = dm_calloc(nip, 1);
    t->in->ipserver = dm_calloc(nip, sizeof(uint32_t));
    t->in->iprank = dm_calloc(nip, sizeof(uint32_t));
    if (!t->in->ipv || !t->in->ipflags || !t->in->ipserver || !t->in->iprank)
        return dm_error_set(err, -ENOMEM, "out of memory building the IP table");
    for (size_t i = 0; i < m->count; i++)
        memcpy(t->in->ipv[i + 1].b, m->entries[i].key, 16);
    t->ips.n = nip;
    t->ips.ip = t->in->ipv;
    t->ips.flags = t->in->ipflags;
    t->ips.server = t->in->ipserver;
    t->ips.rank = t->in->iprank;
    classify_ips(t);
    if (rank_ips(t))
        return dm_error_set(err, -ENOMEM, "out of memory sorting the IP table");
    /* the lookup map is kept for dm_table_ip_find; slots stay valid */
    /* dictionaries */
    t->in->dict_s = dm_calloc(t->ncols, sizeof(*t->in->dict_s));
    t->in->dict_len = dm_calloc(t->ncols, sizeof(*t->in->dict_len));
    if (!t->in->dict_s || !t->in->dict_len)
        return dm_error_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < t->ncols; i++) {
        struct dm_column *c = &t->cols[i];
        if (c->kind != DM_CK_DICT)
            continue;
        struct dm_hmap *d = &t->in->dicts[i];
        size_t k = d->count;
        t->in->dict_s[i] = dm_calloc(k ? k : 1, sizeof(char *));
        t->in->dict_len[i] = dm_calloc(k ? k : 1, sizeof(uint32_t));
        if (!t->in->dict_s[i] || !t->in->dict_len[i])
            return dm_error_set(err, -ENOMEM, "out of memory");
        for (size_t j = 0; j < k; j++) {
            t->in->dict_s[i][j] = d->entries[j].key;
            t->in->dict_len[i][j] = d->entries[j].len;
        }
        c->dict.n = k;
        c->dict.s = t->in->dict_s[i];
        c->dict.len = t->in->dict_len[i];
    }
    t->in->finished = 1;
    return 0;
}

void dm_table_free(struct dm_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->cols && i < t->ncols; i++) {
        dm_free(t->cols[i].v);
        dm_free(t->cols[i].valid);
    }
    if (t->in) {
        dm_hmap_release(&t->in->ipmap);
        for (size_t i = 0; i < t->ncols; i++) {
            if (t->in->dicts)
                dm_hmap_release(&t->in->dicts[i]);
            if (t->in->names)
                dm_free(t->in->names[i]);
            if (t->in->dict_s)
                dm_free((void *)t->in->dict_s[i]);
            if (t->in->dict_len)
                dm_free(t->in->dict_len[i]);
            if (t->in->ovf) {
                dm_free((void *)t->in->ovf[i].row);
                dm_free((void *)t->in->ovf[i].v);
            }
        }
        dm_free(t->in->ovf);
        dm_free(t->in->dicts);
        dm_free(t->in->names);
        dm_free(t->in->dict_s);
        dm_free(t->in->dict_len);
        dm_free(t->in->ipv);
        dm_free(t->in->ipflags);
        dm_free(t->in->ipserver);
        dm_free(t->in->iprank);
        pthread_mutex_destroy(&t->in->lock);
        dm_free(t->in);
    }
    dm_free(t->cols);
    dm_free(t);
}

/* ---- large buffers ---- */

#define HUGE_MIN ((size_t)4 << 20)

static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t align = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + align - 1) & ~(align - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(align - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}

void *dm__malloc_huge(size_t n)
{
    void *p = dm_malloc(n);
    if (p && n >= HUGE_MIN)
        advise_huge(p, n);
    return p;
}

void *dm__calloc_huge(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    /* a fresh large calloc is untouched mmap'ed memory: advising it before first use is
     * enough (no memset that would fault every page in now) */
    void *p = dm_calloc(count, size);
    if (p && count * size >= HUGE_MIN)
        advise_huge(p, count * size);
    return p;
}

/* ---- batch access ---- */

void dm__gather_u64(const struct dm_column *c, const uint32_t *sel, size_t n, uint64_t *out)
{
    switch (c->width) {
    case 1:
        for (size_t i = 0; i < n; i++)
            out[i] = ((const uint8_t *)c->v)[sel[i]];
        break;
    case 2:
        for (size_t i = 0; i < n; i++)
            out[i] = ((const uint16_t *)c->v)[sel[i]];
        break;
    case 4:
        for (size_t i = 0; i < n; i++)
            out[i] = ((const uint32_t *)c->v)[sel[i]];
        break;
    case 8:
        for (size_t i = 0; i < n; i++)
            out[i] = ((const uint64_t *)c->v)[sel[i]];
        break;
    default:
        memset(out, 0, n * sizeof(*out));
        return;
    }
    if (c->ovf) {
        uint64_t max = width_max(c->width);
        for (size_t i = 0; i < n; i++)
            if (out[i] == max)
                out[i] = dm_col_ovf(c, sel[i], max);
    }
    if (c->valid)
        for (size_t i = 0; i < n; i++)
            if (!((c->valid[sel[i] >> 6] >> (sel[i] & 63)) & 1))
                out[i] = 0;
}

/* ---- lookups ---- */

size_t dm_table_ip_text(const struct dm_table *t, uint32_t id, char out[DM_IP_STRLEN])
{
    if (!id || id >= t->ips.n) {
        out[0] = 0;
        return 0;
    }
    return dm_ip_format(&t->ips.ip[id], out);
}

uint32_t dm_table_ip_find(const struct dm_table *t, const struct dm_ip *ip)
{
    const struct dm_hmap_entry *e = dm_hmap_get(&t->in->ipmap, ip->b, 16);
    return e ? (uint32_t)(e - t->in->ipmap.entries) + 1 : 0;
}

const char *dm_table_ip_role(const struct dm_table *t, uint32_t id, enum dm_role_kind *kind)
{
    uint32_t s = id < t->ips.n ? t->ips.server[id] : 0;
    if (!s) {
        if (kind)
            *kind = DM_ROLE_NONE;
        return NULL;
    }
    const struct dm_known_server *ks = &t->config->servers[s - 1];
    if (kind)
        *kind = ks->kind;
    return ks->name;
}

void dm_table_time_range(const struct dm_table *t, int64_t lo, int64_t hi, size_t *begin,
                         size_t *end)
{
    const int64_t *ts = dm_table_ts(t);
    size_t a = 0, b = t->nrows;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (ts[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    *begin = a;
    b = t->nrows;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (ts[mid] < hi)
            a = mid + 1;
        else
            b = mid;
    }
    *end = a;
}

static size_t col_bytes(const struct dm_table *t, const struct dm_column *c)
{
    if (!c->width)
        return 0;
    size_t b = t->nrows * c->width;
    if (c->valid)
        b += bits_words(t->nrows) * 8;
    if (c->ovf)
        b += c->ovf->n * (sizeof(uint32_t) + sizeof(uint64_t));
    return b;
}

static size_t hmap_bytes(const struct dm_hmap *m)
{
    return m->nslots * 4 + m->cap * sizeof(struct dm_hmap_entry) + m->keys.total;
}

/* The IP table and its lookup map. */
static size_t ip_bytes(const struct dm_table *t)
{
    return hmap_bytes(&t->in->ipmap) + t->ips.n * (sizeof(struct dm_ip) + 1 + 4 + 4);
}

size_t dm_table_bytes(const struct dm_table *t)
{
    size_t b = sizeof(*t) + t->ncols * sizeof(struct dm_column);
    for (size_t i = 0; i < t->ncols; i++) {
        b += col_bytes(t, &t->cols[i]);
        if (t->cols[i].kind == DM_CK_DICT)
            b += hmap_bytes(&t->in->dicts[i]) + t->cols[i].dict.n * (sizeof(char *) + 4);
    }
    return b + ip_bytes(t);
}

double dm_table_canonical_bytes_per_flow(const struct dm_table *t)
{
    if (!t->nrows)
        return 0;
    size_t b = ip_bytes(t);
    for (size_t i = 0; i < DM_C_NCANON; i++)
        b += col_bytes(t, &t->cols[i]);
    const struct dm_column *a = &t->cols[DM_C_ACTION];
    if (a->width)
        b += hmap_bytes(&t->in->dicts[DM_C_ACTION]) + a->dict.n * (sizeof(char *) + 4);
    return (double)b / (double)t->nrows;
}

/* ---- time ---- */

int64_t dm__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
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

static int digits(const char *s, size_t n, size_t *i, unsigned count, unsigned *out)
{
    unsigned v = 0;
    for (unsigned k = 0; k < count; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

int dm_time_parse(const char *s, size_t n, int64_t *us, int64_t *end)
{
    while (n && isspace((unsigned char)s[0]))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (!n)
        return -EINVAL;
    size_t i = 0;
    /* epoch number: all digits (optional sign, optional fraction) */
    int is_num = 1;
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= '0' && s[k] <= '9') || (k == 0 && s[k] == '-') || s[k] == '.'))
            is_num = 0;
    if (is_num && (n < 5 || s[4] != '-')) {
        char tmp[40];
        if (n >= sizeof(tmp))
            return -EINVAL;
        memcpy(tmp, s, n);
        tmp[n] = 0;
        char *e;
        double v = strtod(tmp, &e);
        if (*e || v != v)
            return -EINVAL;
        double a = v < 0 ? -v : v;
        double mul = a < 1e11 ? 1e6 : a < 1e14 ? 1e3 : a < 1e17 ? 1 : 1e-3;
        double r = v * mul;
        if (r > 9.2e18 || r < -9.2e18)
            return -EINVAL;
        *us = (int64_t)r;
        if (end)
            *end = *us + (int64_t)(mul >= 1 ? mul : 1);
        return 0;
    }
    unsigned Y, M, D, h = 0, mi = 0, sec = 0;
    int64_t step = 86400000000LL;
    if (digits(s, n, &i, 4, &Y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &M) ||
        i >= n || s[i++] != '-' || digits(s, n, &i, 2, &D))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31)
        return -EINVAL;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
        return -EINVAL;
    int64_t frac = 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (digits(s, n, &i, 2, &h) || h > 23)
            return -EINVAL;
        step = 3600000000LL;
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &mi) || mi > 59)
                return -EINVAL;
            step = 60000000LL;
            if (i < n && s[i] == ':') {
                i++;
                if (digits(s, n, &i, 2, &sec) || sec > 60)
                    return -EINVAL;
                if (sec == 60)
                    sec = 59; /* leap second */
                step = 1000000LL;
                if (i < n && (s[i] == '.' || s[i] == ',')) {
                    i++;
                    int64_t scale = 100000;
                    size_t nd = 0;
                    while (i < n && s[i] >= '0' && s[i] <= '9') {
                        if (scale) {
                            frac += (s[i] - '0') * scale;
                            scale /= 10;
                        }
                        i++;
                        nd++;
                    }
                    if (!nd)
                        return -EINVAL;
                    step = nd >= 6 ? 1 : 1;
                    for (size_t k = nd; k < 6; k++)
                        step *= 10;
                }
            }
        }
    }
    int64_t off = 0;
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int neg = s[i] == '-';
            i++;
            unsigned oh, om = 0;
            if (digits(s, n, &i, 2, &oh) || oh > 23)
                return -EINVAL;
            if (i < n && s[i] == ':')
                i++;
            if (i < n && digits(s, n, &i, 2, &om))
                return -EINVAL;
            if (om > 59)
                return -EINVAL;
            off = ((int64_t)oh * 3600 + om * 60) * 1000000LL;
            if (neg)
                off = -off;
        } else if (!strncasecmp(s + i, " UTC", 4) && i + 4 == n) {
            i += 4;
        }
    }
    if (i != n)
        return -EINVAL;
    int64_t days = dm__days_from_civil(Y, M, D);
    int64_t v = ((days * 24 + h) * 60 + mi) * 60 + sec;
    *us = v * 1000000LL + frac - off;
    if (end)
        *end = *us + step;
    return 0;
}

size_t dm_time_format(int64_t us, char out[32])
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, 32, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
                     (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
    if (n < 0 || n > 23)
        n = n < 0 ? 0 : 23;
    if (frac && frac % 1000 == 0)
        n += snprintf(out + n, (size_t)(32 - n), ".%03lld", (long long)(frac / 1000));
    else if (frac)
        n += snprintf(out + n, (size_t)(32 - n), ".%06lld", (long long)frac);
    out[n++] = 'Z';
    out[n] = 0;
    return (size_t)n;
}
