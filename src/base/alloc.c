#include "dm_alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static atomic_uint_fast64_t alloc_count;
static atomic_uint_fast64_t alloc_fail_n; /* 0 = off */
static atomic_int alloc_sticky;

void dm_alloc_fail_at(uint64_t n, int sticky)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&alloc_sticky, sticky);
    atomic_store(&alloc_fail_n, n);
}

uint64_t dm_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

/* Returns nonzero when this allocation must fail. */
static int alloc_should_fail(void)
{
    uint64_t n = atomic_fetch_add(&alloc_count, 1) + 1;
    uint64_t f = atomic_load(&alloc_fail_n);
    if (f == 0)
        return 0;
    return n == f || (n > f && atomic_load(&alloc_sticky));
}

void *dm_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *dm_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    if (alloc_should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *dm_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *dm_reallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return dm_realloc(p, count * size);
}

void dm_free(void *p)
{
    free(p);
}

char *dm_strndup(const char *s, size_t len)
{
    char *d = dm_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *dm_strdup(const char *s)
{
    return dm_strndup(s, strlen(s));
}
