/* The one allocation seam. All heap memory in datamate goes through these calls so tests
 * can make the Nth allocation fail (dm_alloc_fail_at) and check for a clean error and no
 * leak. Semantics match malloc/calloc/realloc/free; dm_free(NULL) is a no-op.
 * Failure injection is process-wide and thread-safe (atomic counter). */
#ifndef DM_ALLOC_H
#define DM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *dm_malloc(size_t n);
void *dm_calloc(size_t count, size_t size); /* overflow-checked */
void *dm_realloc(void *p, size_t n);
/* Resizes an array of count elements of size bytes (overflow-checked); NULL on failure,
 * the old block stays valid. */
void *dm_reallocarray(void *p, size_t count, size_t size);
void dm_free(void *p);
/* Copies s (len bytes) and NUL-terminates; NULL on failure. */
char *dm_strndup(const char *s, size_t len);
char *dm_strdup(const char *s);

/* Makes the nth allocation from now on fail (1 = the next one), and every one after it when
 * sticky is nonzero. n = 0 disables injection. Also settable with the environment variable
 * DM_ALLOC_FAIL=N[:sticky], read by the CLI at start. */
void dm_alloc_fail_at(uint64_t n, int sticky);
/* Number of allocations made since start (or since the last dm_alloc_fail_at call). */
uint64_t dm_alloc_count(void);

#endif
