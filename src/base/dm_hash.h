/* Hashing and an open-addressing hash map from byte strings to 64-bit values.
 *
 * struct dm_hmap copies keys into its own arena; values are caller-defined u64 (ids,
 * counters, indexes). Caller storage: dm_hmap_init(), dm_hmap_release(). Grows by doubling
 * (load <= 1/2); `max_entries` caps growth (DM_ETOOBIG past it). Not thread-safe; use one
 * map per thread and merge. Iteration order is insertion order (entries[] array). */
#ifndef DM_HASH_H
#define DM_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "dm_arena.h"

/* 64-bit hash of n bytes (fast, good avalanche; not for adversarial-DoS-proof use unless
 * seeded: seed with dm_hash_seed()). */
uint64_t dm_hash_bytes(const void *p, size_t n, uint64_t seed);
/* Mixes a 64-bit integer into a well-distributed hash. */
uint64_t dm_hash_u64(uint64_t x);
/* A per-process random seed (from getrandom), so attacker-chosen keys cannot target
 * collisions. */
uint64_t dm_hash_seed(void);

struct dm_hmap_entry {
    const char *key; /* NUL-terminated copy in the map's arena */
    uint32_t len;
    uint64_t hash;
    uint64_t value;
};

struct dm_hmap {
    uint32_t *slots; /* 0 = empty, else entry index + 1 */
    size_t nslots;   /* power of two */
    struct dm_hmap_entry *entries;
    size_t count;
    size_t cap;
    size_t max_entries;
    uint64_t seed;
    struct dm_arena keys;
};

void dm_hmap_init(struct dm_hmap *m, size_t max_entries);
void dm_hmap_release(struct dm_hmap *m);
/* Looks up key; returns the entry or NULL. */
struct dm_hmap_entry *dm_hmap_get(const struct dm_hmap *m, const void *key, size_t len);
/* Finds or inserts key (value 0 when new). *entry_out gets the entry (pointer valid until the
 * next insert); *is_new (nullable) tells whether it was inserted. Returns 0, -ENOMEM or
 * DM_ETOOBIG. The entry index (0-based insertion order) is entry_out - m->entries. */
int dm_hmap_upsert(struct dm_hmap *m, const void *key, size_t len, struct dm_hmap_entry **entry_out,
                   int *is_new);

#endif
