/* u64 -> aggregate hash map for group-by (see engine_int.h). */
#include <string.h>

#include "dm_alloc.h"
#include "engine_int.h"
#include "banned.h"

static int umap_grow(struct dm__umap *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1024;
    uint32_t *slots = dm_calloc(ns, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = dm_hash_u64(m->keys[k]) & (ns - 1);
        while (slots[i])
            i = (i + 1) & (ns - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    dm_free(m->slots);
    m->slots = slots;
    m->nslots = ns;
    return 0;
}

struct dm__agg *dm__umap_upsert(struct dm__umap *m, uint64_t key)
{
    if ((m->n + 1) * 2 > m->nslots && umap_grow(m))
        return NULL;
    size_t mask = m->nslots - 1;
    size_t i = dm_hash_u64(key) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (!s)
            break;
        if (m->keys[s - 1] == key)
            return &m->vals[s - 1];
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 512;
        if (nc > UINT32_MAX - 1)
            return NULL;
        uint64_t *k = dm_reallocarray(m->keys, nc, sizeof(*k));
        if (!k)
            return NULL;
        m->keys = k;
        struct dm__agg *v = dm_reallocarray(m->vals, nc, sizeof(*v));
        if (!v)
            return NULL;
        m->vals = v;
        m->cap = nc;
    }
    m->keys[m->n] = key;
    memset(&m->vals[m->n], 0, sizeof(m->vals[0]));
    m->slots[i] = (uint32_t)(++m->n);
    return &m->vals[m->n - 1];
}

size_t dm__umap_find(const struct dm__umap *m, uint64_t key)
{
    if (!m->nslots)
        return 0;
    size_t mask = m->nslots - 1;
    for (size_t i = dm_hash_u64(key) & mask;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (!s)
            return 0;
        if (m->keys[s - 1] == key)
            return s;
    }
}

void dm__umap_release(struct dm__umap *m)
{
    dm_free(m->slots);
    dm_free(m->keys);
    dm_free(m->vals);
    memset(m, 0, sizeof(*m));
}
