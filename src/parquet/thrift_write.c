/* Thrift compact-protocol encoder and the writer's growable byte buffer. */
#include <assert.h>
#include <errno.h>

#include "dm_alloc.h"
#include "dm_error.h"
#include "pq_write_int.h"
#include "banned.h"

/* Hard cap for one buffer (a column chunk or the footer). */
#define WBUF_MAX ((size_t)1 << 40)

void dm__wbuf_init(struct dm__wbuf *b)
{
    memset(b, 0, sizeof(*b));
}

void dm__wbuf_release(struct dm__wbuf *b)
{
    dm_free(b->p);
    memset(b, 0, sizeof(*b));
}

int dm__wbuf_reserve(struct dm__wbuf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > WBUF_MAX - b->len)
        return b->err = DM_ETOOBIG;
    if (b->len + n + 8 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 8)
        cap *= 2;
    uint8_t *p = dm_realloc(b->p, cap);
    if (!p)
        return b->err = -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

void dm__wbuf_append(struct dm__wbuf *b, const void *p, size_t n)
{
    if (n == 0 || dm__wbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void dm__wbuf_uleb(struct dm__wbuf *b, uint64_t v)
{
    if (dm__wbuf_reserve(b, 10))
        return;
    uint8_t *p = b->p + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->p);
}

void dm__tw_varint_signed(struct dm__wbuf *b, int64_t v)
{
    dm__wbuf_uleb(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void dm__tw_init(struct dm__tw *t, struct dm__wbuf *out)
{
    t->out = out;
    t->depth = 0;
    t->last[0] = 0;
}

void dm__tw_field(struct dm__tw *t, int16_t id, int type)
{
    int16_t delta = (int16_t)(id - t->last[t->depth]);
    if (delta > 0 && delta <= 15) {
        dm__wbuf_byte(t->out, (uint8_t)((delta << 4) | type));
    } else {
        dm__wbuf_byte(t->out, (uint8_t)type);
        dm__tw_varint_signed(t->out, id);
    }
    t->last[t->depth] = id;
}

void dm__tw_i32(struct dm__tw *t, int16_t id, int32_t v)
{
    dm__tw_field(t, id, DM__T_I32);
    dm__tw_varint_signed(t->out, v);
}

void dm__tw_i64(struct dm__tw *t, int16_t id, int64_t v)
{
    dm__tw_field(t, id, DM__T_I64);
    dm__tw_varint_signed(t->out, v);
}

void dm__tw_i8(struct dm__tw *t, int16_t id, int8_t v)
{
    dm__tw_field(t, id, DM__T_I8);
    dm__wbuf_byte(t->out, (uint8_t)v);
}

void dm__tw_bool(struct dm__tw *t, int16_t id, int v)
{
    dm__tw_field(t, id, v ? DM__T_TRUE : DM__T_FALSE);
}

void dm__tw_binary(struct dm__tw *t, int16_t id, const void *p, size_t n)
{
    dm__tw_field(t, id, DM__T_BINARY);
    dm__tw_elem_binary(t, p, n);
}

void dm__tw_string(struct dm__tw *t, int16_t id, const char *s)
{
    dm__tw_binary(t, id, s, strlen(s));
}

void dm__tw_struct_begin(struct dm__tw *t, int16_t id)
{
    dm__tw_field(t, id, DM__T_STRUCT);
    dm__tw_elem_struct_begin(t);
}

void dm__tw_elem_struct_begin(struct dm__tw *t)
{
    assert(t->depth + 1 < DM__TW_MAX_DEPTH);
    t->last[++t->depth] = 0;
}

void dm__tw_struct_end(struct dm__tw *t)
{
    dm__wbuf_byte(t->out, 0);
    assert(t->depth > 0);
    t->depth--;
}

void dm__tw_list(struct dm__tw *t, int16_t id, int elem, size_t n)
{
    dm__tw_field(t, id, DM__T_LIST);
    if (n < 15) {
        dm__wbuf_byte(t->out, (uint8_t)((n << 4) | (size_t)elem));
    } else {
        dm__wbuf_byte(t->out, (uint8_t)(0xf0 | elem));
        dm__wbuf_uleb(t->out, n);
    }
}

void dm__tw_elem_i32(struct dm__tw *t, int32_t v)
{
    dm__tw_varint_signed(t->out, v);
}

void dm__tw_elem_binary(struct dm__tw *t, const void *p, size_t n)
{
    dm__wbuf_uleb(t->out, n);
    dm__wbuf_append(t->out, p, n);
}
