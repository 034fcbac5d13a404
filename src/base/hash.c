#include "dm_hash.h"

#include <string.h>
#include <sys/random.h>

#include "dm_alloc.h"
#include "dm_error.h"
#include "banned.h"

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t dm_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull;
    uint64_t h = seed ^ mix(seed ^ k0, k1) ^ n;
    while (n >= 16) {
        h = mix(rd64(p) ^ k1, rd64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = rd64(p);
        b = rd64(p + n - 8);
    } else if (n > 0) {
        unsigned char tmp[8] = {0};
        memcpy(tmp, p, n);
        a = rd64(tmp);
        b = n;
    }
    return mix(a ^ k2 ^ h, b ^ k1) ^ h;
}

uint64_t dm_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

uint64_t dm_hash_seed(void)
{
    static uint64_t seed;
    static int have;
    if (!have) {
        uint64_t s = 0;
        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
            s = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
        seed = s | 1;
        have = 1;
    }
    return seed;
}

void dm_hmap_init(struct dm_hmap *m, size_t max_entries)
{
    memset(m, 0, sizeof(*m));
    m->max_entries = max_entries ? max_entries : UINT32_MAX - 1;
    m->seed = dm_hash_seed();
    dm_arena_init(&m->keys, 64 * 1024, 0);
}

void dm_hmap_release(struct dm_hmap *m)
{
    dm_free(m->slots);
    dm_free(m->entries);
    dm_arena_release(&m->keys);
    m->slots = NULL;
    m->entries = NULL;
    m->count = m->cap = m->nslots = 0;
}

struct dm_hmap_entry *dm_hmap_get(const struct dm_hmap *m, const void *key, size_t len)
{
    if (!m->nslots)
        return NULL;
    uint64_t h = dm_hash_bytes(key, len, m->seed);
    size_t mask = m->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (!s)
            return NULL;
        struct dm_hmap_entry *e = &m->entries[s - 1];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

static int hmap_grow(struct dm_hmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 64;
    uint32_t *slots = dm_calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t k = 0; k < m->count; k++) {
        size_t i = m->entries[k].hash & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    dm_free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return 0;
}

int dm_hmap_upsert(struct dm_hmap *m, const void *key, size_t len, struct dm_hmap_entry **out,
                   int *is_new)
{
    if (len > UINT32_MAX)
        return DM_ETOOBIG;
    if ((m->count + 1) * 2 > m->nslots) {
        int rc = hmap_grow(m);
        if (rc)
            return rc;
    }
    uint64_t h = dm_hash_bytes(key, len, m->seed);
    size_t mask = m->nslots - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (!s)
            break;
        struct dm_hmap_entry *e = &m->entries[s - 1];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
            *out = e;
            if (is_new)
                *is_new = 0;
            return 0;
        }
    }
    if (m->count >= m->max_entries)
        return DM_ETOOBIG;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        struct dm_hmap_entry *e = dm_reallocarray(m->entries, cap, sizeof(*e));
        if (!e)
            return -ENOMEM;
        m->entries = e;
        m->cap = cap;
    }
    char *k = dm_arena_strndup(&m->keys, key, len);
    if (!k)
        return -ENOMEM;
    struct dm_hmap_entry *e = &m->entries[m->count];
    e->key = k;
    e->len = (uint32_t)len;
    e->hash = h;
    e->value = 0;
    m->slots[i] = (uint32_t)(++m->count);
    *out = e;
    if (is_new)
        *is_new = 1;
    return 0;
}
