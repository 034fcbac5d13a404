/* Engine internals shared by table.c, load.c, filter.c and the operations. */
#ifndef DM_ENGINE_INT_H
#define DM_ENGINE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "dm_engine.h"
#include "dm_hash.h"

#define DM__MAX_IPS ((size_t)1 << 30)
#define DM__MAX_DICT ((size_t)1 << 28)

/* While a table is being built, UINT columns are u64 (width 8), DICT columns u32 ids,
 * validity bitmaps always allocated (bits set by writers, atomically in the loader).
 * dm_table_finish() sorts, narrows and drops all-valid bitmaps. */
struct dm__table_int {
    pthread_mutex_t lock; /* guards ipmap and dicts while loading in parallel */
    struct dm_hmap ipmap; /* 16-byte address -> id (entry index + 1) */
    struct dm_hmap *dicts; /* [ncols], used for DICT columns */
    size_t cap;           /* rows allocated */
    int finished;
    struct dm_ip *ipv;    /* finished IP table arrays (owned) */
    uint8_t *ipflags;
    uint32_t *ipserver;
    uint32_t *iprank;
    /* dictionary views built at finish: per column */
    const char ***dict_s;
    uint32_t **dict_len;
    char **names; /* owned column names for extras */
    struct dm_ovf *ovf; /* [ncols] overflow tables (owned arrays) */
    _Atomic uint64_t bad_ips, bad_values;
};

static inline void dm__bit_set(uint64_t *bits, size_t i)
{
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void dm__bit_set_atomic(uint64_t *bits, size_t i)
{
    __atomic_fetch_or(&bits[i >> 6], (uint64_t)1 << (i & 63), __ATOMIC_RELAXED);
}

/* dm_malloc / dm_calloc for large buffers: asks for transparent huge pages, so that a fresh
 * multi-MB buffer takes a few page faults instead of one per 4 KiB (faults are costly,
 * especially in VMs). Freed with dm_free. */
void *dm__malloc_huge(size_t n);
void *dm__calloc_huge(size_t count, size_t size);

/* Values of rows sel[0..n) of a UINT column as u64 into out[] (null or absent: 0). */
void dm__gather_u64(const struct dm_column *c, const uint32_t *sel, size_t n, uint64_t *out);

/* Aggregate kept per group (top-N, graph edges). */
struct dm__agg {
    uint64_t flows, sent, recv, x;
};

/* Open-addressing map u64 key -> dense index (insertion order) with an aggregate per entry.
 * Caller storage, zero-initialised; dm__umap_release frees it. */
struct dm__umap {
    uint32_t *slots; /* 0 = empty, else index + 1 */
    size_t nslots;
    uint64_t *keys;
    struct dm__agg *vals;
    size_t n, cap;
};

/* Finds or inserts key; returns the entry's aggregate (zeroed when new) or NULL on OOM. */
struct dm__agg *dm__umap_upsert(struct dm__umap *m, uint64_t key);
/* Index + 1 of key, 0 when absent. */
size_t dm__umap_find(const struct dm__umap *m, uint64_t key);
void dm__umap_release(struct dm__umap *m);

/* Allocates a table with ncols columns (canonical kinds set) and room for cap rows (all
 * arrays zeroed; validity bitmaps allocated for every column but ts). */
int dm__table_alloc(struct dm_table **out, const struct dm_config *cfg, struct dm_pool *pool,
                    const enum dm_ckind *extra_kinds, const char *const *extra_names,
                    size_t nextra, unsigned present, size_t cap);
/* Staging value of a UINT column being built (width 1, 2, 4 or 8). */
static inline uint64_t dm__stage_get(const void *v, unsigned w, size_t i)
{
    switch (w) {
    case 1: return ((const uint8_t *)v)[i];
    case 2: return ((const uint16_t *)v)[i];
    case 4: return ((const uint32_t *)v)[i];
    default: return ((const uint64_t *)v)[i];
    }
}

static inline void dm__stage_put(void *v, unsigned w, size_t i, uint64_t x)
{
    switch (w) {
    case 1: ((uint8_t *)v)[i] = (uint8_t)x; break;
    case 2: ((uint16_t *)v)[i] = (uint16_t)x; break;
    case 4: ((uint32_t *)v)[i] = (uint32_t)x; break;
    default: ((uint64_t *)v)[i] = x; break;
    }
}

/* Sets the build width of UINT column col (before any value is written; the loader picks it
 * from the Parquet statistics): reallocates its zeroed array. 0 or -ENOMEM. */
int dm__table_stage_width(struct dm_table *t, size_t col, unsigned w);
/* Interns n addresses (NULL entry = invalid: id 0) under the table lock; ids[] out. */
int dm__intern_ips(struct dm_table *t, const struct dm_ip *ips, const uint8_t *ok, size_t n,
                   uint32_t *ids);
/* Interns n strings for DICT column col under the lock; ids[] out. */
int dm__intern_strs(struct dm_table *t, int col, const char *const *s, const size_t *len,
                    size_t n, uint32_t *ids);
/* Parses an IP text; 0 or -EINVAL. Accepts surrounding spaces. */
int dm__ip_text(const char *s, size_t n, struct dm_ip *ip);
/* rank[id] = position of dictionary entry id in byte order; dm_free the result. */
uint32_t *dm__dict_rank(const struct dm_dict *d);
/* Levenshtein distance, capped at 8. */
unsigned dm__edit_distance(const char *a, size_t an, const char *b, size_t bn);
/* Canonical column for a source/alias name, -1 if none. */
int dm__canonical_alias(const char *name, size_t len);
/* Days since 1970-01-01 of a civil date. */
int64_t dm__days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
