/* A bump allocator for per-request / per-query lifetimes: many small allocations, freed all
 * at once. Caller storage: dm_arena_init(), dm_arena_release(). Memory from the arena is
 * 16-byte aligned and valid until dm_arena_reset() or dm_arena_release(). A cap bounds the
 * total bytes (allocation past it returns NULL). Not thread-safe. */
#ifndef DM_ARENA_H
#define DM_ARENA_H

#include <stddef.h>

struct dm_arena_block;

struct dm_arena {
    struct dm_arena_block *head;
    size_t block_size; /* default size of new blocks */
    size_t total;      /* bytes allocated in blocks */
    size_t max;        /* cap on total */
};

void dm_arena_init(struct dm_arena *a, size_t block_size, size_t max);
void dm_arena_release(struct dm_arena *a);
/* Frees all blocks but the first, and makes the first empty. */
void dm_arena_reset(struct dm_arena *a);
/* Returns n bytes (uninitialised) or NULL when out of memory or over the cap. */
void *dm_arena_alloc(struct dm_arena *a, size_t n);
void *dm_arena_calloc(struct dm_arena *a, size_t count, size_t size);
/* NUL-terminated copy of s[0..len). */
char *dm_arena_strndup(struct dm_arena *a, const char *s, size_t len);

#endif
