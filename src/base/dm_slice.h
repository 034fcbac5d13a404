/* (ptr, len) views of bytes owned by someone else: never freed through the slice. */
#ifndef DM_SLICE_H
#define DM_SLICE_H

#include <stddef.h>
#include <string.h>

struct dm_slice {
    const char *p;
    size_t n;
};

static inline struct dm_slice dm_slice_of(const char *p, size_t n)
{
    struct dm_slice s = {p, n};
    return s;
}

static inline struct dm_slice dm_slice_cstr(const char *s)
{
    return dm_slice_of(s, strlen(s));
}

/* 1 when the slice equals the NUL-terminated string s. */
static inline int dm_slice_eq(struct dm_slice a, const char *s)
{
    size_t n = strlen(s);
    return a.n == n && memcmp(a.p, s, n) == 0;
}

#endif
