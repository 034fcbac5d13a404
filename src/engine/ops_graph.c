/* The communication graph around seed IPs / CIDRs: 1 hop (optionally 2), directed edges
 * aggregated per (src, dst), a node cap keeping the peers that exchanged the most bytes. */
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

#define MAX_SEEDS 4096

int dm_graph_seeds_parse(const char *s, size_t len, struct dm_cidr **seeds, size_t *n,
                         struct dm_error *err)
{
    *seeds = NULL;
    *n = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
            i++;
        size_t b = i;
        while (i < len && s[i] != ',' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
            i++;
        if (i == b)
            break;
        if (*n == MAX_SEEDS) {
            dm_free(*seeds);
            *seeds = NULL;
            *n = 0;
            return dm_error_set(err, DM_ETOOBIG, "more than %d graph seeds", MAX_SEEDS);
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct dm_cidr *v = dm_reallocarray(*seeds, cap, sizeof(*v));
            if (!v) {
                dm_free(*seeds);
                *seeds = NULL;
                *n = 0;
                return dm_error_set(err, -ENOMEM, "out of memory");
            }
            *seeds = v;
        }
        if (dm_cidr_parse(s + b, i - b, &(*seeds)[*n])) {
            char tmp[64];
            size_t l = i - b < 60 ? i - b : 60;
            memcpy(tmp, s + b, l);
            tmp[l] = 0;
            for (size_t k = 0; k < l; k++)
                if ((unsigned char)tmp[k] < 0x20)
                    tmp[k] = '?';
            dm_free(*seeds);
            *seeds = NULL;
            *n = 0;
            return dm_error_set(err, -EINVAL, "invalid IP address or CIDR '%s'", tmp);
        }
        (*n)++;
    }
    if (!*n)
        return dm_error_set(err, -EINVAL, "no IP address given for the graph");
    return 0;
}

struct graph_ctx {
    const struct dm_table *t;
    const uint64_t *touch; /* rows touching these ids are collected */
    const uint64_t *skip;  /* rows touching these ids are skipped (already collected) */
    struct dm__umap *maps; /* per slot: (src << 32 | dst) -> flows, sent, recv */
    int oom;
};

static inline int bit(const uint64_t *b, size_t i)
{
    return (int)((b[i >> 6] >> (i & 63)) & 1);
}

static void graph_fn(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct graph_ctx *c = p;
    const struct dm_table *t = c->t;
    const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
    const struct dm_column *cs = &t->cols[DM_C_SENT], *cr = &t->cols[DM_C_RECV];
    struct dm__umap *m = &c->maps[slot];
    for (size_t i = 0; i < n; i++) {
        size_t r = sel[i];
        uint32_t a = src[r], b = dst[r];
        if (!bit(c->touch, a) && !bit(c->touch, b))
            continue;
        if (c->skip && (bit(c->skip, a) || bit(c->skip, b)))
            continue;
        struct dm__agg *g = dm__umap_upsert(m, (uint64_t)a << 32 | b);
        if (!g) {
            c->oom = 1;
            return;
        }
        g->flows++;
        g->sent += dm_col_present(cs, r) ? dm_col_u64(cs, r) : 0;
        g->recv += dm_col_present(cr, r) ? dm_col_u64(cr, r) : 0;
    }
}

/* Collects edges touching `touch` (and not `skip`) into out (merged over slots). */
static int collect(const struct dm_table *t, const struct dm_filter *f, const uint64_t *touch,
                   const uint64_t *skip, struct dm__umap *out)
{
    unsigned slots = dm_scan_slots(t);
    struct graph_ctx c = {t, touch, skip, dm_calloc(slots, sizeof(struct dm__umap)), 0};
    if (!c.maps)
        return -ENOMEM;
    int rc = dm_scan(t, f, graph_fn, &c);
    if (!rc && c.oom)
        rc = -ENOMEM;
    for (unsigned s = 0; !rc && s < slots; s++)
        for (size_t i = 0; i < c.maps[s].n; i++) {
            struct dm__agg *g = dm__umap_upsert(out, c.maps[s].keys[i]);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            g->flows += c.maps[s].vals[i].flows;
            g->sent += c.maps[s].vals[i].sent;
            g->recv += c.maps[s].vals[i].recv;
        }
    for (unsigned s = 0; s < slots; s++)
        dm__umap_release(&c.maps[s]);
    dm_free(c.maps);
    return rc;
}

struct cand {
    uint32_t id;
    uint64_t bytes;
    uint32_t rank;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Picks new nodes among the endpoints of edges that touch `kept` and are not kept yet,
 * ranked by bytes exchanged with kept nodes; marks up to budget of them in kept. Returns the
 * number left out, or -ENOMEM. */
static long pick(const struct dm_table *t, const struct dm__umap *edges, uint64_t *kept,
                 size_t budget, size_t *nkept)
{
    uint64_t *score = dm_calloc(t->ips.n, sizeof(uint64_t));
    if (!score)
        return -ENOMEM;
    size_t ncand = 0;
    for (size_t i = 0; i < edges->n; i++) {
        uint32_t a = (uint32_t)(edges->keys[i] >> 32), b = (uint32_t)edges->keys[i];
        uint64_t bytes = edges->vals[i].sent + edges->vals[i].recv;
        int ka = bit(kept, a), kb = bit(kept, b);
        if (ka && !kb && b) {
            ncand += !score[b];
            score[b] += bytes + 1; /* + 1: a zero-byte peer is still a candidate */
        }
        if (kb && !ka && a) {
            ncand += !score[a];
            score[a] += bytes + 1;
        }
    }
    struct cand *c = dm_malloc((ncand ? ncand : 1) * sizeof(*c));
    if (!c) {
        dm_free(score);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t id = 1; id < t->ips.n; id++)
        if (score[id])
            c[k++] = (struct cand){(uint32_t)id, score[id], t->ips.rank[id]};
    qsort(c, k, sizeof(*c), cand_cmp);
    size_t take = k < budget ? k : budget;
    for (size_t i = 0; i < take; i++)
        dm__bit_set(kept, c[i].id);
    *nkept += take;
    dm_free(c);
    dm_free(score);
    return (long)(k - take);
}

static int node_cmp(const void *a, const void *b, void *ctx)
{
    const struct dm_table *t = ctx;
    const struct dm_graph_node *x = a, *y = b;
    if (x->filtered != y->filtered)
        return y->filtered - x->filtered;
    uint64_t bx = x->sent + x->recv, by = y->sent + y->recv;
    if (bx != by)
        return bx > by ? -1 : 1;
    uint32_t rx = t->ips.rank[x->ip], ry = t->ips.rank[y->ip];
    return rx < ry ? -1 : rx > ry;
}

static int edge_cmp(const void *a, const void *b, void *ctx)
{
    const struct dm_graph_res *r = ctx;
    const struct dm_graph_edge *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    (void)r;
    return x->dst < y->dst ? -1 : x->dst > y->dst;
}

int dm_graph(const struct dm_table *t, const struct dm_graph_req *q, struct dm_graph_res *r,
             struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    size_t nip = t->ips.n;
    size_t words = (nip + 63) / 64 ? (nip + 63) / 64 : 1;
    size_t max_nodes = q->max_nodes ? q->max_nodes : 200;
    int hops = q->hops == 2 ? 2 : 1;
    uint64_t *seed = dm_calloc(words, 8), *kept = dm_calloc(words, 8);
    uint32_t *index = NULL;
    struct dm__umap edges;
    memset(&edges, 0, sizeof(edges));
    int rc = 0;
    if (!seed || !kept) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t s = 0; s < q->nseeds; s++) {
        if (q->seeds[s].bits == 128) {
            uint32_t id = dm_table_ip_find(t, &q->seeds[s].addr);
            if (id)
                dm__bit_set(seed, id);
            continue;
        }
        for (size_t id = 1; id < nip; id++)
            if (dm_cidr_contains(&q->seeds[s], &t->ips.ip[id]))
                dm__bit_set(seed, id);
    }
    if ((rc = collect(t, q->filter, seed, NULL, &edges)))
        goto out;
    /* seeds that have flows are always shown */
    size_t nkept = 0;
    for (size_t i = 0; i < edges.n; i++) {
        uint32_t a = (uint32_t)(edges.keys[i] >> 32), b = (uint32_t)edges.keys[i];
        if (bit(seed, a) && !bit(kept, a))
            dm__bit_set(kept, a), nkept++;
        if (bit(seed, b) && !bit(kept, b))
            dm__bit_set(kept, b), nkept++;
    }
    long cut = pick(t, &edges, kept, max_nodes > nkept ? max_nodes - nkept : 0, &nkept);
    if (cut < 0) {
        rc = (int)cut;
        goto out;
    }
    r->cut = (size_t)cut;
    if (hops == 2) {
        if ((rc = collect(t, q->filter, kept, seed, &edges)))
            goto out;
        cut = pick(t, &edges, kept, max_nodes > nkept ? max_nodes - nkept : 0, &nkept);
        if (cut < 0) {
            rc = (int)cut;
            goto out;
        }
        r->cut += (size_t)cut;
    }
    /* nodes */
    index = dm_malloc(nip * sizeof(*index));
    r->nodes = dm_calloc(nkept ? nkept : 1, sizeof(*r->nodes));
    if (!index || !r->nodes) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t id = 1; id < nip; id++) {
        if (!bit(kept, id))
            continue;
        struct dm_graph_node *nd = &r->nodes[r->nnodes];
        index[id] = (uint32_t)r->nnodes++;
        nd->ip = (uint32_t)id;
        nd->internal = dm_ip_internal(t, (uint32_t)id);
        nd->filtered = bit(seed, id);
        nd->role = dm_table_ip_role(t, (uint32_t)id, &nd->role_kind);
    }
    size_t ne = 0;
    for (size_t i = 0; i < edges.n; i++) {
        uint32_t a = (uint32_t)(edges.keys[i] >> 32), b = (uint32_t)edges.keys[i];
        ne += bit(kept, a) && bit(kept, b);
    }
    r->edges = dm_calloc(ne ? ne : 1, sizeof(*r->edges));
    if (!r->edges) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < edges.n; i++) {
        uint32_t a = (uint32_t)(edges.keys[i] >> 32), b = (uint32_t)edges.keys[i];
        if (!bit(kept, a) || !bit(kept, b))
            continue;
        const struct dm__agg *g = &edges.vals[i];
        struct dm_graph_node *na = &r->nodes[index[a]], *nb = &r->nodes[index[b]];
        na->connections += g->flows;
        na->sent += g->sent;
        na->recv += g->recv;
        if (a != b) {
            nb->connections += g->flows;
            nb->sent += g->recv;
            nb->recv += g->sent;
        }
        /* edge endpoints as IP ids for now; remapped after the node sort */
        r->edges[r->nedges++] = (struct dm_graph_edge){a, b, g->flows, g->sent + g->recv};
    }
    qsort_r(r->nodes, r->nnodes, sizeof(*r->nodes), node_cmp, (void *)t);
    for (size_t i = 0; i < r->nnodes; i++)
        index[r->nodes[i].ip] = (uint32_t)i;
    for (size_t i = 0; i < r->nedges; i++) {
        r->edges[i].src = index[r->edges[i].src];
        r->edges[i].dst = index[r->edges[i].dst];
    }
    qsort_r(r->edges, r->nedges, sizeof(*r->edges), edge_cmp, r);
out:
    dm_free(seed);
    dm_free(kept);
    dm_free(index);
    dm__umap_release(&edges);
    if (rc) {
        dm_graph_res_release(r);
        return dm_error_set(err, rc, "out of memory computing the graph");
    }
    return 0;
}

void dm_graph_res_release(struct dm_graph_res *r)
{
    dm_free(r->nodes);
    dm_free(r->edges);
    memset(r, 0, sizeof(*r));
}
