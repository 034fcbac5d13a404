/* top-N: group by a key (src, dst, pair, ports, proto, action, extra), sum flows / sent /
 * recv, count distinct peers, rank by a metric. Small key domains use dense per-thread
 * arrays; pairs and wide extras a per-thread hash map. Partials are merged at the end. */
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

#define DENSE_MAX ((size_t)1 << 22)

static const char *const metric_names[] = {"flows", "sent", "recv", "bytes", "peers"};

int dm_metric_parse(const char *s, enum dm_metric *m)
{
    for (int i = 0; i < DM_M_NMETRICS; i++)
        if (!strcmp(s, metric_names[i])) {
            *m = (enum dm_metric)i;
            return 0;
        }
    return -EINVAL;
}

const char *dm_metric_name(enum dm_metric m)
{
    return (unsigned)m < DM_M_NMETRICS ? metric_names[m] : "?";
}

int dm_top_key_parse(const struct dm_table *t, const char *s, enum dm_top_key *key,
                     int *extra_col, struct dm_error *err)
{
    static const char *const names[] = {"src", "dst", "pair", "dport", "sport", "proto",
                                        "action"};
    *extra_col = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(s, names[i])) {
            *key = (enum dm_top_key)i;
            return 0;
        }
    for (size_t i = DM_C_NCANON; i < t->ncols; i++)
        if (!strcmp(s, t->cols[i].name)) {
            if (t->cols[i].kind == DM_CK_F64)
                return dm_error_set(err, -EINVAL, "cannot group by the float column '%s'", s);
            *key = DM_TOP_EXTRA;
            *extra_col = (int)i;
            return 0;
        }
    const char *best = NULL;
    unsigned bd = 3;
    for (int i = 0; i < 7; i++) {
        unsigned d = dm__edit_distance(s, strlen(s), names[i], strlen(names[i]));
        if (d < bd)
            bd = d, best = names[i];
    }
    if (best)
        return dm_error_set(err, -EINVAL, "unknown top key '%s' (did you mean '%s'?)", s, best);
    return dm_error_set(err, -EINVAL,
                        "unknown top key '%s' (use src, dst, pair, dport, sport, proto, action "
                        "or an extra column)",
                        s);
}

/* ---- radix-partitioned aggregation ----
 * Phase 1 (the scan): each thread appends (key, sent, recv) of every matching row to one of
 * `npart` partitions chosen by the high bits of the key's hash (up to MAX_PART, about
 * PART_ROWS rows each). Phase 2: each partition is aggregated on its own into a small
 * open-addressing table that stays in cache, and keeps only its best `limit` groups (a
 * heap). Sums that do not fit 32 bits go to a per-thread map folded into their partition in
 * phase 2. */

#define MAX_PART 1024
#define PART_ROWS 16384

struct pent {
    uint64_t key;
    uint32_t s, r;
};

/* A thread's entries: blocks of BLK entries carved from the thread's arena (no copies as it
 * grows), each block belonging to one partition (bpart), all full but a partition's last.
 * The write position of each partition lives apart (top_ctx.cur) so the hot state of the
 * scatter is 8 bytes per partition; blocks are BLK-entry aligned regions holding BLK - 1
 * entries after one unused slot, so an aligned position (or NULL) means "take a new block".
 * The arena has room for every row of the scanned range plus a partial block per partition,
 * so it never runs out; it is reserved virtually and only the used part is touched. */
#define BLK 1024
#define BLK_BYTES (BLK * sizeof(struct pent))

struct arena {
    void *raw;        /* allocation */
    struct pent *v;   /* BLK_BYTES-aligned start */
    size_t used, cap; /* entries */
    uint32_t *bpart;  /* [cap / BLK] partition of each block */
};

/* Partition of a hash: its high 32 bits scaled to [0, np). */
static inline size_t part_of(uint64_t h, size_t np)
{
    return (size_t)(((h >> 32) * (uint64_t)np) >> 32);
}

static inline uint64_t mix(uint64_t x, uint64_t seed)
{
    x ^= seed;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* A new block for partition p; *cur is its write position. 0 or -ENOMEM. */
static int blk_new(struct arena *a, size_t p, struct pent **cur)
{
    if (a->cap - a->used < BLK)
        return -ENOMEM;
    a->bpart[a->used / BLK] = (uint32_t)p;
    /* the block's first entry stays unused: a fresh position is never aligned, a full
     * block's end always is */
    *cur = a->v + a->used + 1;
    a->used += BLK;
    return 0;
}

static inline int at_block_end(const struct pent *cur)
{
    return ((uintptr_t)cur & (BLK_BYTES - 1)) == 0;
}

/* ---- key extraction ---- */

struct top_ctx {
    const struct dm_table *t;
    enum dm_top_key key;
    int col;           /* key column (ports, proto, action, extra) */
    int dense;         /* dense arrays indexed by key (domain entries, last = null) */
    size_t domain;     /* dense: number of key values + 1 (null) */
    uint64_t **keys;   /* per slot: scratch keys of a morsel */
    struct dm__agg **dense_agg; /* per slot [domain] */
    struct dm__umap *maps;      /* per slot (hashed) */
    /* peers */
    struct dm__umap *peer_sets;  /* per slot: (group index << 32 | peer) */
    const uint64_t *winner;      /* bitmap over dense keys, or NULL = all groups */
    const struct dm__umap *winner_map; /* hashed: key -> winner index + 1 */
    uint64_t **peer_bits;        /* per slot: [group][peer words] bitmaps, or NULL = sets */
    size_t peer_words;           /* words per group bitmap */
    uint32_t *dense_group;       /* dense key -> group index (peers pass) */
    /* radix-partitioned aggregation (pairs, wide extras) */
    int partitioned;
    size_t npart;
    struct pent ***cur;          /* [slot][npart] write positions (NULL = no block yet) */
    struct arena *arenas;        /* per slot */
    struct dm__umap *wide;       /* per slot: rows with sent / recv >= 2^32 - 1 */
    struct dm__agg *nullagg;     /* per slot: rows whose key is null */
    uint64_t **gs, **gr;         /* per slot: gathered sent / recv of a batch */
    uint64_t seed;
    int oom;
};

#define NULL_KEY UINT64_MAX

/* Keys of the selected rows into k[] (NULL_KEY for a null key in hashed mode, domain - 1 in
 * dense mode). */
static void extract_keys(const struct top_ctx *c, const uint32_t *sel, size_t n, uint64_t *k)
{
    const struct dm_table *t = c->t;
    const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
    uint64_t nullk = c->dense ? c->domain - 1 : NULL_KEY;
    switch (c->key) {
    case DM_TOP_SRC:
        for (size_t i = 0; i < n; i++)
            k[i] = src[sel[i]];
        return;
    case DM_TOP_DST:
        for (size_t i = 0; i < n; i++)
            k[i] = dst[sel[i]];
        return;
    case DM_TOP_PAIR:
        for (size_t i = 0; i < n; i++)
            k[i] = (uint64_t)src[sel[i]] << 32 | dst[sel[i]];
        return;
    default: break;
    }
    const struct dm_column *col = &t->cols[c->col];
    if (col->kind == DM_CK_INT) {
        for (size_t i = 0; i < n; i++)
            k[i] = dm_col_present(col, sel[i]) ? (uint64_t)dm_col_i64(col, sel[i]) : nullk;
        return;
    }
    if (!col->valid) {
        switch (col->width) {
        case 1:
            for (size_t i = 0; i < n; i++)
                k[i] = ((const uint8_t *)col->v)[sel[i]];
            return;
        case 2:
            for (size_t i = 0; i < n; i++)
                k[i] = ((const uint16_t *)col->v)[sel[i]];
            return;
        case 4:
            for (size_t i = 0; i < n; i++)
                k[i] = ((const uint32_t *)col->v)[sel[i]];
            return;
        case 8:
            for (size_t i = 0; i < n; i++)
                k[i] = ((const uint64_t *)col->v)[sel[i]];
            return;
        default:
            for (size_t i = 0; i < n; i++)
                k[i] = nullk;
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        k[i] = dm_col_present(col, sel[i]) ? dm_col_u64(col, sel[i]) : nullk;
}

static void part_fn(struct top_ctx *c, const uint32_t *sel, size_t n, unsigned slot,
                    const uint64_t *k)
{
    const struct dm_table *t = c->t;
    uint64_t *vs = c->gs[slot], *vr = c->gr[slot];
    dm__gather_u64(&t->cols[DM_C_SENT], sel, n, vs);
    dm__gather_u64(&t->cols[DM_C_RECV], sel, n, vr);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = k[i];
        if (key == NULL_KEY) {
            struct dm__agg *g = &c->nullagg[slot];
            g->flows++;
            g->sent += vs[i];
            g->recv += vr[i];
            continue;
        }
        if (vs[i] >= UINT32_MAX || vr[i] >= UINT32_MAX) {
            struct dm__agg *g = dm__umap_upsert(&c->wide[slot], key);
            if (!g) {
                c->oom = 1;
                return;
            }
            g->flows++;
            g->sent += vs[i];
            g->recv += vr[i];
            continue;
        }
        size_t p = part_of(mix(key, c->seed), c->npart);
        struct pent **cur = &c->cur[slot][p];
        if (at_block_end(*cur) && blk_new(&c->arenas[slot], p, cur)) {
            c->oom = 1;
            return;
        }
        *(*cur)++ = (struct pent){key, (uint32_t)vs[i], (uint32_t)vr[i]};
    }
}

static void top_fn(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct top_ctx *c = p;
    const struct dm_table *t = c->t;
    uint64_t *k = c->keys[slot];
    if (c->oom)
        return;
    const struct dm_column *ps = &t->cols[DM_C_SENT], *pr = &t->cols[DM_C_RECV];
    if (c->partitioned && c->key == DM_TOP_PAIR && ps->width == 4 && !ps->valid &&
        pr->width == 4 && !pr->valid) {
        /* the common case in one pass: no intermediate arrays */
        const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
        const uint32_t *vs = ps->v, *vr = pr->v;
        struct pent **curs = c->cur[slot];
        struct arena *a = &c->arenas[slot];
        size_t np = c->npart;
        for (size_t i = 0; i < n; i++) {
            size_t r = sel[i];
            uint64_t key = (uint64_t)src[r] << 32 | dst[r];
            size_t pi = part_of(mix(key, c->seed), np);
            if (at_block_end(curs[pi]) && blk_new(a, pi, &curs[pi])) {
                c->oom = 1;
                return;
            }
            *curs[pi]++ = (struct pent){key, vs[r], vr[r]};
        }
        return;
    }
    extract_keys(c, sel, n, k);
    if (c->partitioned) {
        part_fn(c, sel, n, slot, k);
        return;
    }
    const struct dm_column *cs = &t->cols[DM_C_SENT], *cr = &t->cols[DM_C_RECV];
    int simple = cs->width && !cs->valid && cr->width && !cr->valid;
    if (c->dense) {
        struct dm__agg *a = c->dense_agg[slot];
        if (simple && cs->width == 4 && cr->width == 4) {
            const uint32_t *vs = cs->v, *vr = cr->v;
            for (size_t i = 0; i < n; i++) {
                struct dm__agg *g = &a[k[i]];
                g->flows++;
                g->sent += vs[sel[i]];
                g->recv += vr[sel[i]];
            }
            return;
        }
        for (size_t i = 0; i < n; i++) {
            struct dm__agg *g = &a[k[i]];
            size_t r = sel[i];
            g->flows++;
            g->sent += dm_col_present(cs, r) ? dm_col_u64(cs, r) : 0;
            g->recv += dm_col_present(cr, r) ? dm_col_u64(cr, r) : 0;
        }
        return;
    }
    struct dm__umap *m = &c->maps[slot];
    for (size_t i = 0; i < n; i++) {
        struct dm__agg *g = dm__umap_upsert(m, k[i]);
        if (!g) {
            c->oom = 1;
            return;
        }
        size_t r = sel[i];
        g->flows++;
        g->sent += dm_col_present(cs, r) ? dm_col_u64(cs, r) : 0;
        g->recv += dm_col_present(cr, r) ? dm_col_u64(cr, r) : 0;
    }
}

/* peers pass: (group, peer) pairs of the rows whose key is a tracked group */
static void peers_fn(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct top_ctx *c = p;
    const struct dm_table *t = c->t;
    const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
    uint64_t *k = c->keys[slot];
    extract_keys(c, sel, n, k);
    struct dm__umap *m = &c->peer_sets[slot];
    for (size_t i = 0; i < n; i++) {
        uint64_t g;
        if (c->dense) {
            if (c->winner && !((c->winner[k[i] >> 6] >> (k[i] & 63)) & 1))
                continue;
            g = c->dense_group[k[i]];
        } else {
            size_t w = dm__umap_find(c->winner_map, k[i]);
            if (!w)
                continue;
            g = w - 1;
        }
        uint32_t peer = c->key == DM_TOP_SRC ? dst[sel[i]] : src[sel[i]];
        if (c->peer_bits) {
            c->peer_bits[slot][g * c->peer_words + (peer >> 6)] |= (uint64_t)1 << (peer & 63);
            continue;
        }
        if (!dm__umap_upsert(m, g << 32 | peer)) {
            c->oom = 1;
            return;
        }
    }
}

struct group {
    uint64_t key;
    uint64_t m[DM_M_NMETRICS];
    uint64_t order; /* tie-break: key order (IP rank, dict rank, value) */
    int null;
};

static int group_cmp(const void *a, const void *b, void *ctx)
{
    const enum dm_metric by = *(const enum dm_metric *)ctx;
    const struct group *x = a, *y = b;
    if (x->m[by] != y->m[by])
        return x->m[by] > y->m[by] ? -1 : 1;
    if (x->null != y->null)
        return x->null - y->null;
    return x->order < y->order ? -1 : x->order > y->order;
}

static uint64_t key_order(const struct top_ctx *c, const uint32_t *dict_rank, uint64_t key)
{
    const struct dm_table *t = c->t;
    switch (c->key) {
    case DM_TOP_SRC:
    case DM_TOP_DST: return t->ips.rank[key];
    case DM_TOP_PAIR:
        return (uint64_t)t->ips.rank[key >> 32] << 32 | t->ips.rank[key & 0xffffffffu];
    default: break;
    }
    if (dict_rank)
        return dict_rank[key];
    if (t->cols[c->col].kind == DM_CK_INT)
        return key ^ ((uint64_t)1 << 63);
    return key;
}

static void free_slots(struct top_ctx *c, unsigned slots)
{
    for (unsigned s = 0; s < slots; s++) {
        if (c->keys)
            dm_free(c->keys[s]);
        if (c->dense_agg)
            dm_free(c->dense_agg[s]);
        if (c->maps)
            dm__umap_release(&c->maps[s]);
        if (c->peer_sets)
            dm__umap_release(&c->peer_sets[s]);
        if (c->wide)
            dm__umap_release(&c->wide[s]);
        if (c->gs)
            dm_free(c->gs[s]);
        if (c->gr)
            dm_free(c->gr[s]);
    }
    for (unsigned s = 0; c->arenas && s < slots; s++) {
        dm_free(c->arenas[s].raw);
        dm_free(c->arenas[s].bpart);
    }
    for (unsigned s = 0; c->cur && s < slots; s++)
        dm_free(c->cur[s]);
    dm_free(c->cur);
    dm_free(c->arenas);
    dm_free(c->wide);
    dm_free(c->nullagg);
    dm_free(c->gs);
    dm_free(c->gr);
    dm_free(c->keys);
    dm_free(c->dense_agg);
    dm_free(c->maps);
    dm_free(c->peer_sets);
}

/* Counts distinct peers of the groups g[0..n) (all groups when all != 0). */
static int count_peers(struct top_ctx *c, const struct dm_filter *f, struct group *g, size_t n,
                       unsigned slots)
{
    if (c->key == DM_TOP_PAIR) {
        for (size_t i = 0; i < n; i++)
            g[i].m[DM_M_PEERS] = 1;
        return 0;
    }
    int rc = 0;
    uint64_t *winner = NULL;
    struct dm__umap wmap;
    memset(&wmap, 0, sizeof(wmap));
    c->peer_sets = dm_calloc(slots, sizeof(*c->peer_sets));
    if (!c->peer_sets)
        return -ENOMEM;
    if (c->dense) {
        winner = dm_calloc((c->domain + 63) / 64, 8);
        c->dense_group = dm_malloc(c->domain * sizeof(uint32_t));
        if (!winner || !c->dense_group) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = g[i].null ? c->domain - 1 : g[i].key;
            dm__bit_set(winner, k);
            c->dense_group[k] = (uint32_t)i;
        }
        c->winner = winner;
        /* a bitmap over the IP ids per group and thread when that is small */
        size_t words = (c->t->ips.n + 63) / 64;
        if (n && words && n <= ((size_t)8 << 20) / words / slots) {
            c->peer_words = words;
            c->peer_bits = dm_calloc(slots, sizeof(*c->peer_bits));
            if (!c->peer_bits) {
                rc = -ENOMEM;
                goto out;
            }
            for (unsigned s = 0; s < slots; s++)
                if (!(c->peer_bits[s] = dm_calloc(n * words, sizeof(uint64_t)))) {
                    rc = -ENOMEM;
                    goto out;
                }
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!dm__umap_upsert(&wmap, g[i].null ? NULL_KEY : g[i].key)) {
                rc = -ENOMEM;
                goto out;
            }
        }
        c->winner_map = &wmap;
    }
    if ((rc = dm_scan(c->t, f, peers_fn, c)))
        goto out;
    if (c->oom) {
        rc = -ENOMEM;
        goto out;
    }
    if (c->peer_bits) {
        for (size_t i = 0; i < n; i++) {
            uint64_t cnt = 0;
            for (size_t w = 0; w < c->peer_words; w++) {
                uint64_t x = 0;
                for (unsigned s = 0; s < slots; s++)
                    x |= c->peer_bits[s][i * c->peer_words + w];
                if (w == 0)
                    x &= ~(uint64_t)1; /* a null address (id 0) is no peer */
                cnt += (uint64_t)__builtin_popcountll(x);
            }
            g[i].m[DM_M_PEERS] = cnt;
        }
        goto out;
    }
    /* union of the per-slot sets */
    struct dm__umap *all = &c->peer_sets[0];
    for (unsigned s = 1; s < slots; s++)
        for (size_t i = 0; i < c->peer_sets[s].n; i++)
            if (!dm__umap_upsert(all, c->peer_sets[s].keys[i])) {
                rc = -ENOMEM;
                goto out;
            }
    for (size_t i = 0; i < all->n; i++) {
        uint64_t gi = all->keys[i] >> 32;
        uint32_t peer = (uint32_t)all->keys[i];
        if (peer) /* a null address is no peer */
            g[gi].m[DM_M_PEERS]++;
    }
out:
    for (unsigned s = 0; c->peer_bits && s < slots; s++)
        dm_free(c->peer_bits[s]);
    dm_free(c->peer_bits);
    c->peer_bits = NULL;
    dm_free(winner);
    dm_free(c->dense_group);
    c->dense_group = NULL;
    dm__umap_release(&wmap);
    return rc;
}

/* Restores the heap g[0..k) below j: a parent is "worse" (greater in group_cmp) than its
 * children. */
static void sift_down(struct group *g, size_t k, size_t j, enum dm_metric *by)
{
    for (;;) {
        size_t l = 2 * j + 1, r = l + 1, w = j;
        if (l < k && group_cmp(&g[l], &g[w], by) > 0)
            w = l;
        if (r < k && group_cmp(&g[r], &g[w], by) > 0)
            w = r;
        if (w == j)
            return;
        struct group tmp = g[j];
        g[j] = g[w];
        g[w] = tmp;
        j = w;
    }
}

/* Moves the `k` best groups (group_cmp order) to g[0..k), sorted, in O(n log k): a heap of
 * the k best so far whose root is the worst of them. Ties are fully ordered by group_cmp,
 * so the result equals that of sorting everything. */
static void select_top(struct group *g, size_t n, size_t k, enum dm_metric *by)
{
    if (k == 0 || n <= k) {
        qsort_r(g, n, sizeof(*g), group_cmp, by);
        return;
    }
    /* heap in g[0..k): parent is "worse" (greater in group_cmp) than its children */
    for (size_t i = k / 2; i-- > 0;)
        sift_down(g, k, i, by);
    for (size_t i = k; i < n; i++) {
        if (group_cmp(&g[i], &g[0], by) >= 0)
            continue;
        g[0] = g[i];
        sift_down(g, k, 0, by);
    }
    qsort_r(g, k, sizeof(*g), group_cmp, by);
}

/* Offers x to the heap h[0..*n) of the k best groups (root = the worst of them). */
static void heap_offer(struct group *h, size_t *n, size_t k, const struct group *x,
                       enum dm_metric *by)
{
    if (*n < k) {
        size_t i = (*n)++;
        h[i] = *x;
        while (i > 0) {
            size_t up = (i - 1) / 2;
            if (group_cmp(&h[i], &h[up], by) <= 0)
                break;
            struct group tmp = h[i];
            h[i] = h[up];
            h[up] = tmp;
            i = up;
        }
        return;
    }
    if (!k || group_cmp(x, &h[0], by) >= 0)
        return;
    h[0] = *x;
    sift_down(h, k, 0, by);
}

/* A thread's phase-2 table: keys apart from the sums so that probing touches 8 bytes a
 * slot; EMPTY (never a partitioned key: null keys are kept aside) marks a free slot. */
#define EMPTY UINT64_MAX

struct ptab {
    uint64_t *k;
    struct dm__agg *v; /* flows, sent, recv */
    size_t nslots, n;
};

/* A worker's candidates: the best groups of the partitions it aggregated. */
struct cands {
    struct group *v;
    size_t n, cap;
    uint64_t groups; /* distinct keys of those partitions */
};

struct p2_ctx {
    struct top_ctx *c;
    unsigned slots;
    size_t limit;
    enum dm_metric by;
    const size_t *boff;   /* [npart + 1] a partition's blocks: blist[boff[p] .. boff[p+1]) */
    const uint64_t *blist; /* slot << 32 | block index */
    struct cands *cand;   /* per worker */
    struct ptab *tab;     /* per worker */
    _Atomic int oom;
};

static int ptab_alloc(struct ptab *t, size_t nslots)
{
    uint64_t *k = dm_malloc(nslots * sizeof(*k));
    struct dm__agg *v = dm_malloc(nslots * sizeof(*v));
    if (!k || !v) {
        dm_free(k);
        dm_free(v);
        return -ENOMEM;
    }
    dm_free(t->k);
    dm_free(t->v);
    t->k = k;
    t->v = v;
    t->nslots = nslots;
    return 0;
}

static inline struct dm__agg *ptab_get(struct ptab *t, uint64_t key, uint64_t h)
{
    size_t mask = t->nslots - 1, i = h & mask;
    while (t->k[i] != key && t->k[i] != EMPTY)
        i = (i + 1) & mask;
    if (t->k[i] == EMPTY) {
        t->k[i] = key;
        memset(&t->v[i], 0, sizeof(t->v[i]));
        t->n++;
    }
    return &t->v[i];
}

/* Doubles the table; 0 or -ENOMEM. */
static int ptab_grow(struct ptab *t, uint64_t seed)
{
    struct ptab nt = {NULL, NULL, 0, 0};
    if (ptab_alloc(&nt, t->nslots * 2))
        return -ENOMEM;
    memset(nt.k, 0xff, nt.nslots * sizeof(*nt.k));
    for (size_t i = 0; i < t->nslots; i++)
        if (t->k[i] != EMPTY)
            *ptab_get(&nt, t->k[i], mix(t->k[i], seed)) = t->v[i];
    dm_free(t->k);
    dm_free(t->v);
    *t = nt;
    return 0;
}

static void p2_task(void *p, size_t part, unsigned worker)
{
    struct p2_ctx *x = p;
    struct top_ctx *c = x->c;
    if (x->oom)
        return;
    struct ptab *tab = &x->tab[worker]; /* reused, at the size an earlier partition grew it */
    if (!tab->nslots && ptab_alloc(tab, 1024)) {
        x->oom = 1;
        return;
    }
    memset(tab->k, 0xff, tab->nslots * sizeof(*tab->k));
    tab->n = 0;
    for (size_t bi = x->boff[part]; bi < x->boff[part + 1]; bi++) {
        unsigned s = (unsigned)(x->blist[bi] >> 32);
        const struct pent *v = c->arenas[s].v + (size_t)(uint32_t)x->blist[bi] * BLK + 1;
        const struct pent *ve = v + (BLK - 1), *cur = c->cur[s][part];
        if (cur >= v && cur < ve) /* the partition's last block of this thread */
            ve = cur;
        for (; v < ve; v++) {
            if ((tab->n + 1) * 2 > tab->nslots && ptab_grow(tab, c->seed)) {
                x->oom = 1;
                return;
            }
            struct dm__agg *g = ptab_get(tab, v->key, mix(v->key, c->seed));
            g->flows++;
            g->sent += v->s;
            g->recv += v->r;
        }
    }
    for (unsigned s = 0; s < x->slots; s++) {
        const struct dm__umap *wm = &c->wide[s];
        for (size_t i = 0; i < wm->n; i++) {
            uint64_t h = mix(wm->keys[i], c->seed);
            if (part_of(h, c->npart) != part)
                continue;
            if ((tab->n + 1) * 2 > tab->nslots && ptab_grow(tab, c->seed)) {
                x->oom = 1;
                return;
            }
            struct dm__agg *g = ptab_get(tab, wm->keys[i], h);
            g->flows += wm->vals[i].flows;
            g->sent += wm->vals[i].sent;
            g->recv += wm->vals[i].recv;
        }
    }
    size_t n = tab->n;
    struct cands *cd = &x->cand[worker];
    cd->groups += n;
    size_t k = n < x->limit ? n : x->limit, nh = 0;
    if (cd->cap - cd->n < k) {
        size_t nc = cd->n + k > 2 * cd->cap ? cd->n + k : 2 * cd->cap;
        struct group *v = dm_reallocarray(cd->v, nc, sizeof(*v));
        if (!v) {
            x->oom = 1;
            return;
        }
        cd->v = v;
        cd->cap = nc;
    }
    struct group *h = cd->v + cd->n; /* this partition's heap, kept in place */
    for (size_t i = 0; i < tab->nslots; i++) {
        if (tab->k[i] == EMPTY)
            continue;
        struct group g;
        memset(&g, 0, sizeof(g));
        g.key = tab->k[i];
        g.m[DM_M_FLOWS] = tab->v[i].flows;
        g.m[DM_M_SENT] = tab->v[i].sent;
        g.m[DM_M_RECV] = tab->v[i].recv;
        g.m[DM_M_BYTES] = tab->v[i].sent + tab->v[i].recv;
        g.m[DM_M_PEERS] = c->key == DM_TOP_PAIR;
        if (nh == k && g.m[x->by] < h[0].m[x->by])
            continue; /* worse than the worst kept, whatever the tie-break */
        g.order = key_order(c, NULL, g.key);
        heap_offer(h, &nh, k, &g, &x->by);
    }
    cd->n += nh;
}

/* Phase 2 of the partitioned aggregation: the candidates (each partition's best `limit`
 * groups plus the null group) into *out, the number of distinct keys into *groups. */
static int part_collect(struct top_ctx *c, unsigned slots, size_t limit, enum dm_metric by,
                        struct group **out, size_t *nout, uint64_t *groups)
{
    size_t np = c->npart;
    struct p2_ctx x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.slots = slots;
    x.limit = limit;
    x.by = by;
    /* the blocks of each partition, by a counting sort of all threads' blocks */
    size_t nblk = 0;
    for (unsigned s = 0; s < slots; s++)
        nblk += c->arenas[s].used / BLK;
    size_t *boff = dm_calloc(np + 1, sizeof(*boff));
    uint64_t *blist = dm_malloc((nblk ? nblk : 1) * sizeof(*blist));
    x.cand = dm_calloc(slots, sizeof(*x.cand));
    x.tab = dm_calloc(slots, sizeof(*x.tab));
    int rc = 0;
    struct group *g = NULL;
    if (!boff || !blist || !x.cand || !x.tab)
        rc = -ENOMEM;
    if (!rc) {
        for (unsigned s = 0; s < slots; s++)
            for (size_t b = 0; b < c->arenas[s].used / BLK; b++)
                boff[c->arenas[s].bpart[b] + 1]++;
        for (size_t p = 0; p < np; p++)
            boff[p + 1] += boff[p];
        size_t *fill = dm_malloc((np ? np : 1) * sizeof(*fill));
        if (!fill) {
            rc = -ENOMEM;
        } else {
            memcpy(fill, boff, np * sizeof(*fill));
            for (unsigned s = 0; s < slots; s++)
                for (size_t b = 0; b < c->arenas[s].used / BLK; b++)
                    blist[fill[c->arenas[s].bpart[b]]++] = (uint64_t)s << 32 | b;
            dm_free(fill);
        }
        x.boff = boff;
        x.blist = blist;
    }
    if (!rc)
        dm_pool_for(np > 1 ? c->t->pool : NULL, np, p2_task, &x);
    if (!rc && x.oom)
        rc = -ENOMEM;
    struct dm__agg na = {0, 0, 0, 0};
    for (unsigned s = 0; !rc && s < slots; s++) {
        na.flows += c->nullagg[s].flows;
        na.sent += c->nullagg[s].sent;
        na.recv += c->nullagg[s].recv;
    }
    size_t total = na.flows != 0;
    uint64_t ng = na.flows != 0;
    for (unsigned w = 0; !rc && w < slots; w++)
        total += x.cand[w].n, ng += x.cand[w].groups;
    if (!rc && !(g = dm_calloc(total ? total : 1, sizeof(*g))))
        rc = -ENOMEM;
    size_t k = 0;
    for (unsigned w = 0; !rc && w < slots; w++) {
        if (x.cand[w].n)
            memcpy(&g[k], x.cand[w].v, x.cand[w].n * sizeof(*g));
        k += x.cand[w].n;
    }
    if (!rc && na.flows) {
        g[k].key = NULL_KEY;
        g[k].null = 1;
        g[k].m[DM_M_FLOWS] = na.flows;
        g[k].m[DM_M_SENT] = na.sent;
        g[k].m[DM_M_RECV] = na.recv;
        k++;
    }
    for (unsigned w = 0; w < slots; w++) {
        if (x.cand)
            dm_free(x.cand[w].v);
        if (x.tab) {
            dm_free(x.tab[w].k);
            dm_free(x.tab[w].v);
        }
    }
    dm_free(x.cand);
    dm_free(x.tab);
    dm_free(boff);
    dm_free(blist);
    if (rc) {
        dm_free(g);
        return rc;
    }
    *out = g;
    *nout = k;
    *groups = ng;
    return 0;
}

int dm_top(const struct dm_table *t, const struct dm_top_req *q, struct dm_top_res *r,
           struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    r->key = q->key;
    r->extra_col = q->extra_col;
    size_t limit = q->limit ? q->limit : 10;
    if (limit > DM_TOP_MAX)
        limit = DM_TOP_MAX;
    if ((unsigned)q->by >= DM_M_NMETRICS)
        return dm_error_set(err, -EINVAL, "bad metric");
    struct top_ctx c;
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.key = q->key;
    switch (q->key) {
    case DM_TOP_SRC:
    case DM_TOP_DST: c.dense = 1, c.domain = t->ips.n + 1; break;
    case DM_TOP_PAIR: break;
    case DM_TOP_DPORT: c.col = DM_C_DPORT; break;
    case DM_TOP_SPORT: c.col = DM_C_SPORT; break;
    case DM_TOP_PROTO: c.col = DM_C_PROTO; break;
    case DM_TOP_ACTION: c.col = DM_C_ACTION; break;
    case DM_TOP_EXTRA:
        if (q->extra_col < DM_C_NCANON || (size_t)q->extra_col >= t->ncols ||
            t->cols[q->extra_col].kind == DM_CK_F64)
            return dm_error_set(err, -EINVAL, "bad top key column");
        c.col = q->extra_col;
        break;
    }
    if (q->key >= DM_TOP_DPORT) {
        const struct dm_column *col = &t->cols[c.col];
        if (col->kind == DM_CK_DICT)
            c.dense = 1, c.domain = col->dict.n + 1;
        else if (col->kind == DM_CK_UINT && col->max < DENSE_MAX)
            c.dense = 1, c.domain = (size_t)col->max + 2;
        if (!col->width)
            c.dense = 1, c.domain = 1;
    }
    unsigned slots = dm_scan_slots(t);
    int rc = 0;
    struct group *g = NULL;
    uint32_t *dict_rank = NULL;
    /* hashed keys are aggregated by partitions, except distinct peers of every group (by
     * peers on an extra column), which the per-thread maps below handle */
    c.partitioned = !c.dense && (q->key == DM_TOP_PAIR || q->by != DM_M_PEERS);
    c.seed = dm_hash_seed();
    c.keys = dm_calloc(slots, sizeof(*c.keys));
    if (c.dense)
        c.dense_agg = dm_calloc(slots, sizeof(*c.dense_agg));
    else if (!c.partitioned)
        c.maps = dm_calloc(slots, sizeof(*c.maps));
    if (c.partitioned) {
        c.wide = dm_calloc(slots, sizeof(*c.wide));
        c.nullagg = dm_calloc(slots, sizeof(*c.nullagg));
        c.gs = dm_calloc(slots, sizeof(*c.gs));
        c.gr = dm_calloc(slots, sizeof(*c.gr));
        c.arenas = dm_calloc(slots, sizeof(*c.arenas));
        c.cur = dm_calloc(slots, sizeof(*c.cur));
        if (!c.wide || !c.nullagg || !c.gs || !c.gr || !c.arenas || !c.cur)
            rc = -ENOMEM;
    }
    size_t rbegin = 0, rend = t->nrows;
    if (q->filter)
        dm_filter_rows(q->filter, &rbegin, &rend);
    size_t arows = rend > rbegin ? rend - rbegin : 0;
    c.npart = 1;
    while (c.npart < MAX_PART && c.npart * PART_ROWS < arows)
        c.npart *= 2;
    size_t acap = arows + arows / (BLK - 1) + (c.npart + 1) * BLK;
    if (!c.keys || (c.dense ? !c.dense_agg : !c.partitioned && !c.maps))
        rc = -ENOMEM;
    for (unsigned s = 0; !rc && s < slots; s++) {
        if (!(c.keys[s] = dm_malloc(DM_MORSEL * sizeof(uint64_t))))
            rc = -ENOMEM;
        if (c.dense && !(c.dense_agg[s] = dm__calloc_huge(c.domain, sizeof(struct dm__agg))))
            rc = -ENOMEM;
        if (c.partitioned &&
            (!(c.gs[s] = dm_malloc(DM_MORSEL * sizeof(uint64_t))) ||
             !(c.gr[s] = dm_malloc(DM_MORSEL * sizeof(uint64_t))) ||
             !(c.cur[s] = dm_calloc(c.npart, sizeof(struct pent *))) ||
             !(c.arenas[s].bpart = dm_malloc((acap / BLK) * sizeof(uint32_t))) ||
             !(c.arenas[s].raw = dm__malloc_huge((acap + BLK) * sizeof(struct pent)))))
            rc = -ENOMEM;
        if (c.partitioned && !rc) {
            uintptr_t base = (uintptr_t)c.arenas[s].raw;
            base = (base + BLK_BYTES - 1) & ~(uintptr_t)(BLK_BYTES - 1);
            c.arenas[s].v = (struct pent *)base;
            c.arenas[s].cap = acap;
        }
    }
    if (!rc)
        rc = dm_scan(t, q->filter, top_fn, &c);
    if (!rc && c.oom)
        rc = -ENOMEM;
    if (rc)
        goto out;
    /* merge into groups */
    size_t ng = 0, capg = 0;
    if (c.partitioned) {
        uint64_t groups;
        if ((rc = part_collect(&c, slots, limit, q->by, &g, &ng, &groups)))
            goto out;
        r->groups = groups;
    } else if (c.dense) {
        struct dm__agg *a = c.dense_agg[0];
        for (unsigned s = 1; s < slots; s++)
            for (size_t i = 0; i < c.domain; i++) {
                a[i].flows += c.dense_agg[s][i].flows;
                a[i].sent += c.dense_agg[s][i].sent;
                a[i].recv += c.dense_agg[s][i].recv;
            }
        for (size_t i = 0; i < c.domain; i++)
            ng += a[i].flows != 0;
        capg = ng;
        g = dm_calloc(ng ? ng : 1, sizeof(*g));
        if (!g) {
            rc = -ENOMEM;
            goto out;
        }
        size_t k = 0;
        for (size_t i = 0; i < c.domain; i++) {
            if (!a[i].flows)
                continue;
            g[k].key = i;
            g[k].null = i == c.domain - 1 && q->key >= DM_TOP_DPORT;
            if ((q->key == DM_TOP_SRC || q->key == DM_TOP_DST) && i == 0)
                g[k].null = 1;
            g[k].m[DM_M_FLOWS] = a[i].flows;
            g[k].m[DM_M_SENT] = a[i].sent;
            g[k].m[DM_M_RECV] = a[i].recv;
            k++;
        }
    } else {
        struct dm__umap *m = &c.maps[0];
        for (unsigned s = 1; s < slots; s++)
            for (size_t i = 0; i < c.maps[s].n; i++) {
                struct dm__agg *x = dm__umap_upsert(m, c.maps[s].keys[i]);
                if (!x) {
                    rc = -ENOMEM;
                    goto out;
                }
                x->flows += c.maps[s].vals[i].flows;
                x->sent += c.maps[s].vals[i].sent;
                x->recv += c.maps[s].vals[i].recv;
            }
        ng = capg = m->n;
        g = dm_calloc(ng ? ng : 1, sizeof(*g));
        if (!g) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < ng; i++) {
            g[i].key = m->keys[i];
            g[i].null = m->keys[i] == NULL_KEY && q->key != DM_TOP_PAIR;
            g[i].m[DM_M_FLOWS] = m->vals[i].flows;
            g[i].m[DM_M_SENT] = m->vals[i].sent;
            g[i].m[DM_M_RECV] = m->vals[i].recv;
        }
    }
    (void)capg;
    if (q->key >= DM_TOP_DPORT && t->cols[c.col].kind == DM_CK_DICT &&
        !(dict_rank = dm__dict_rank(&t->cols[c.col].dict))) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ng; i++) {
        g[i].m[DM_M_BYTES] = g[i].m[DM_M_SENT] + g[i].m[DM_M_RECV];
        g[i].order = g[i].null ? UINT64_MAX : key_order(&c, dict_rank, g[i].key);
    }
    if (!c.partitioned)
        r->groups = ng;
    enum dm_metric by = q->by;
    if (by == DM_M_PEERS) {
        if ((rc = count_peers(&c, q->filter, g, ng, slots)))
            goto out;
        qsort_r(g, ng, sizeof(*g), group_cmp, &by);
    } else {
        size_t n = ng < limit ? ng : limit;
        select_top(g, ng, n, &by);
        if ((rc = count_peers(&c, q->filter, g, n, slots)))
            goto out;
    }
    r->n = ng < limit ? ng : limit;
    r->v = dm_calloc(r->n ? r->n : 1, sizeof(*r->v));
    if (!r->v) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->n; i++) {
        struct dm_top_row *o = &r->v[i];
        o->null = g[i].null;
        if (q->key == DM_TOP_PAIR) {
            o->key[0] = g[i].key >> 32;
            o->key[1] = g[i].key & 0xffffffffu;
        } else {
            o->key[0] = g[i].null ? 0 : g[i].key;
        }
        o->flows = g[i].m[DM_M_FLOWS];
        o->sent = g[i].m[DM_M_SENT];
        o->recv = g[i].m[DM_M_RECV];
        o->bytes = g[i].m[DM_M_BYTES];
        o->peers = g[i].m[DM_M_PEERS];
    }
out:
    free_slots(&c, slots);
    dm_free(g);
    dm_free(dict_rank);
    if (rc) {
        dm_top_res_release(r);
        return dm_error_set(err, rc, "out of memory computing top-N");
    }
    return 0;
}

void dm_top_res_release(struct dm_top_res *r)
{
    dm_free(r->v);
    memset(r, 0, sizeof(*r));
}
