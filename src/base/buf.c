#include "dm_buf.h"

#include <stdio.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_error.h"
#include "dm_utf8.h"
#include "banned.h"

void dm_buf_init(struct dm_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void dm_buf_release(struct dm_buf *b)
{
    dm_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void dm_buf_reset(struct dm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int dm_buf_reserve(struct dm_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return DM_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 4 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = dm_realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int dm_buf_append(struct dm_buf *b, const void *p, size_t n)
{
    int rc = dm_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int dm_buf_putc(struct dm_buf *b, char c)
{
    return dm_buf_append(b, &c, 1);
}

int dm_buf_puts(struct dm_buf *b, const char *s)
{
    return dm_buf_append(b, s, strlen(s));
}

int dm_buf_vprintf(struct dm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return dm_buf_append(b, small, (size_t)n);
    int rc = dm_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int dm_buf_printf(struct dm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = dm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int dm_buf_json_str(struct dm_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    int rc = dm_buf_reserve(b, n + 2);
    if (rc)
        return rc;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\' &&
               s[run] != '<' && s[run] != '>' && s[run] != '&')
            run++;
        if (run > i) {
            if ((rc = dm_buf_append(b, s + i, run - i)))
                return rc;
            i = run;
            continue;
        }
        unsigned char c = s[i];
        char esc[8];
        size_t elen = 2;
        esc[0] = '\\';
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
        } else if (c == '\n') {
            esc[1] = 'n';
        } else if (c == '\r') {
            esc[1] = 'r';
        } else if (c == '\t') {
            esc[1] = 't';
        } else if (c < 0x80) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        } else {
            size_t l = dm_utf8_len(s + i, n - i);
            if (l) {
                if ((rc = dm_buf_append(b, s + i, l)))
                    return rc;
                i += l;
                continue;
            }
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
        }
        if ((rc = dm_buf_append(b, esc, elen)))
            return rc;
        i++;
    }
    return dm_buf_putc(b, '"');
}

char *dm_buf_detach(struct dm_buf *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
