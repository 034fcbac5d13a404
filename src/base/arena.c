#include "dm_arena.h"

#include <stdint.h>
#include <string.h>

#include "dm_alloc.h"
#include "banned.h"

struct dm_arena_block {
    struct dm_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void dm_arena_init(struct dm_arena *a, size_t block_size, size_t max)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->total = 0;
    a->max = max ? max : (size_t)-1;
}

void dm_arena_release(struct dm_arena *a)
{
    struct dm_arena_block *b = a->head;
    while (b) {
        struct dm_arena_block *next = b->next;
        dm_free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void dm_arena_reset(struct dm_arena *a)
{
    if (!a->head)
        return;
    struct dm_arena_block *last = a->head;
    struct dm_arena_block *b = a->head->next;
    /* Keep the oldest block (the tail), which has the default size. */
    while (b) {
        struct dm_arena_block *next = b->next;
        dm_free(last == a->head ? NULL : last);
        last = b;
        b = next;
    }
    if (last != a->head)
        dm_free(a->head);
    a->head = last;
    a->head->next = NULL;
    a->head->used = 0;
    a->total = a->head->size;
}

void *dm_arena_alloc(struct dm_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    struct dm_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > a->block_size ? need : a->block_size;
        if (size > a->max || a->total > a->max - size)
            return NULL;
        b = dm_malloc(sizeof(*b) + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->total += size;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void *dm_arena_calloc(struct dm_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = dm_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *dm_arena_strndup(struct dm_arena *a, const char *s, size_t len)
{
    char *d = dm_arena_alloc(a, len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}
