/* A growable byte buffer with a hard cap.
 *
 * Caller storage: dm_buf_init() then appends, dm_buf_release() frees the contents.
 * data is always NUL-terminated when non-NULL (the NUL is not counted in len).
 * Every append fails with DM_ETOOBIG instead of growing past `max` bytes, and with -ENOMEM
 * when allocation fails; on failure the buffer keeps its previous contents. */
#ifndef DM_BUF_H
#define DM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct dm_buf {
    char *data;
    size_t len;
    size_t cap; /* allocated bytes, including room for the NUL */
    size_t max; /* hard cap on len */
};

#define DM_BUF_UNLIMITED ((size_t)-1 / 2)

void dm_buf_init(struct dm_buf *b, size_t max);
void dm_buf_release(struct dm_buf *b);
/* Sets len to 0, keeps the memory. */
void dm_buf_reset(struct dm_buf *b);
/* Makes room for n more bytes; returns 0, -ENOMEM or DM_ETOOBIG. */
int dm_buf_reserve(struct dm_buf *b, size_t n);
int dm_buf_append(struct dm_buf *b, const void *p, size_t n);
int dm_buf_putc(struct dm_buf *b, char c);
int dm_buf_puts(struct dm_buf *b, const char *s);
int dm_buf_printf(struct dm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dm_buf_vprintf(struct dm_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal with quotes, escaping control characters, quotes,
 * backslashes, and '<', '>', '&' (safe inside HTML); invalid UTF-8 bytes become U+FFFD. */
int dm_buf_json_str(struct dm_buf *b, const char *s, size_t n);
/* Hands the data to the caller (who dm_free()s it) and resets b to empty. */
char *dm_buf_detach(struct dm_buf *b, size_t *len);

#endif
