/* Thrift compact protocol decoding with bounded sizes and a depth limit. */
#include <string.h>

#include "pq_read_int.h"
#include "banned.h"

void dm__thrift_init(struct dm__thrift *t, const void *p, size_t n)
{
    t->start = t->p = p;
    t->end = t->p + n;
    t->depth = 0;
    t->bad = 0;
    t->why = NULL;
}

int dm__thrift_fail(struct dm__thrift *t, const char *why)
{
    if (!t->bad) {
        t->bad = 1;
        t->why = why;
    }
    return -1;
}

static int uvarint(struct dm__thrift *t, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (t->p >= t->end)
            return dm__thrift_fail(t, "truncated varint");
        uint8_t b = *t->p++;
        if (shift == 63 && (b & 0x7e))
            return dm__thrift_fail(t, "varint overflow");
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return dm__thrift_fail(t, "varint too long");
}

int dm__thrift_i64(struct dm__thrift *t, int64_t *v)
{
    uint64_t u;
    if (t->bad || uvarint(t, &u))
        return -1;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

int dm__thrift_i32(struct dm__thrift *t, int32_t *v)
{
    int64_t x;
    if (dm__thrift_i64(t, &x))
        return -1;
    if (x < INT32_MIN || x > INT32_MAX)
        return dm__thrift_fail(t, "i32 out of range");
    *v = (int32_t)x;
    return 0;
}

int dm__thrift_i8(struct dm__thrift *t, int8_t *v)
{
    if (t->bad)
        return -1;
    if (t->p >= t->end)
        return dm__thrift_fail(t, "truncated byte");
    *v = (int8_t)*t->p++;
    return 0;
}

int dm__thrift_int(struct dm__thrift *t, int type, int64_t *v)
{
    switch (type) {
    case DM__TT_I8: {
        int8_t b;
        if (dm__thrift_i8(t, &b))
            return -1;
        *v = b;
        return 0;
    }
    case DM__TT_I16:
    case DM__TT_I32:
    case DM__TT_I64: return dm__thrift_i64(t, v);
    default: return dm__thrift_fail(t, "integer field has a non-integer type");
    }
}

int dm__thrift_binary(struct dm__thrift *t, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (t->bad || uvarint(t, &len))
        return -1;
    if (len > DM__PQR_MAX_STRING)
        return dm__thrift_fail(t, "string too long");
    if (len > (uint64_t)(t->end - t->p))
        return dm__thrift_fail(t, "string past end of data");
    *p = t->p;
    *n = (size_t)len;
    t->p += len;
    return 0;
}

int dm__thrift_list(struct dm__thrift *t, int *etype, size_t *n)
{
    if (t->bad)
        return -1;
    if (t->p >= t->end)
        return dm__thrift_fail(t, "truncated list header");
    uint8_t h = *t->p++;
    uint64_t size = h >> 4;
    if (size == 15 && uvarint(t, &size))
        return -1;
    if (size > DM__PQR_MAX_LIST)
        return dm__thrift_fail(t, "list too long");
    /* Every element takes at least one byte except bools in a few writers' encodings and
     * empty structs; a list cannot hold more elements than bytes remain (plus slack). */
    int et = h & 0x0f;
    if (et != DM__TT_TRUE && et != DM__TT_FALSE && size > (uint64_t)(t->end - t->p))
        return dm__thrift_fail(t, "list longer than the data");
    *etype = et;
    *n = (size_t)size;
    return 0;
}

int dm__thrift_struct_begin(struct dm__thrift *t, int16_t *last_id)
{
    if (t->bad)
        return -1;
    if (++t->depth > DM__PQR_MAX_DEPTH)
        return dm__thrift_fail(t, "nesting too deep");
    *last_id = 0;
    return 0;
}

void dm__thrift_struct_end(struct dm__thrift *t)
{
    t->depth--;
}

int dm__thrift_field(struct dm__thrift *t, int16_t *last_id, int16_t *id, int *type, int *bval)
{
    if (t->bad)
        return -1;
    if (t->p >= t->end)
        return dm__thrift_fail(t, "truncated struct");
    uint8_t h = *t->p++;
    if (h == 0)
        return 0;
    int ty = h & 0x0f;
    int delta = h >> 4;
    if (delta) {
        int nid = *last_id + delta;
        if (nid > INT16_MAX)
            return dm__thrift_fail(t, "field id overflow");
        *id = (int16_t)nid;
    } else {
        int64_t v;
        if (dm__thrift_i64(t, &v))
            return -1;
        if (v < INT16_MIN || v > INT16_MAX)
            return dm__thrift_fail(t, "field id out of range");
        *id = (int16_t)v;
    }
    if (ty == DM__TT_STOP || ty > DM__TT_UUID)
        return dm__thrift_fail(t, "invalid field type");
    *last_id = *id;
    *type = ty;
    if (bval)
        *bval = ty == DM__TT_TRUE;
    return 1;
}

int dm__thrift_skip(struct dm__thrift *t, int type)
{
    if (t->bad)
        return -1;
    switch (type) {
    case DM__TT_TRUE:
    case DM__TT_FALSE: return 0; /* field bools carry the value in the type */
    case DM__TT_I8: {
        int8_t b;
        return dm__thrift_i8(t, &b);
    }
    case DM__TT_I16:
    case DM__TT_I32:
    case DM__TT_I64: {
        int64_t v;
        return dm__thrift_i64(t, &v);
    }
    case DM__TT_DOUBLE:
        if (t->end - t->p < 8)
            return dm__thrift_fail(t, "truncated double");
        t->p += 8;
        return 0;
    case DM__TT_UUID:
        if (t->end - t->p < 16)
            return dm__thrift_fail(t, "truncated uuid");
        t->p += 16;
        return 0;
    case DM__TT_BINARY: {
        const uint8_t *p;
        size_t n;
        return dm__thrift_binary(t, &p, &n);
    }
    case DM__TT_LIST:
    case DM__TT_SET: {
        int et;
        size_t n;
        if (dm__thrift_list(t, &et, &n))
            return -1;
        if (++t->depth > DM__PQR_MAX_DEPTH)
            return dm__thrift_fail(t, "nesting too deep");
        for (size_t i = 0; i < n; i++) {
            if (et == DM__TT_TRUE || et == DM__TT_FALSE) {
                /* list<bool>: one byte per element */
                if (t->p >= t->end)
                    return dm__thrift_fail(t, "truncated bool list");
                t->p++;
            } else if (dm__thrift_skip(t, et)) {
                return -1;
            }
        }
        t->depth--;
        return 0;
    }
    case DM__TT_MAP: {
        uint64_t n;
        if (uvarint(t, &n))
            return -1;
        if (n == 0)
            return 0;
        if (n > DM__PQR_MAX_LIST || n > (uint64_t)(t->end - t->p))
            return dm__thrift_fail(t, "map too long");
        if (t->p >= t->end)
            return dm__thrift_fail(t, "truncated map");
        uint8_t kv = *t->p++;
        if (++t->depth > DM__PQR_MAX_DEPTH)
            return dm__thrift_fail(t, "nesting too deep");
        for (uint64_t i = 0; i < n; i++) {
            int kt = kv >> 4, vt = kv & 0x0f;
            for (int k = 0; k < 2; k++) {
                int et = k ? vt : kt;
                if (et == DM__TT_TRUE || et == DM__TT_FALSE) {
                    if (t->p >= t->end)
                        return dm__thrift_fail(t, "truncated map");
                    t->p++;
                } else if (dm__thrift_skip(t, et)) {
                    return -1;
                }
            }
        }
        t->depth--;
        return 0;
    }
    case DM__TT_STRUCT: {
        int16_t last;
        if (dm__thrift_struct_begin(t, &last))
            return -1;
        for (;;) {
            int16_t id;
            int ty, r = dm__thrift_field(t, &last, &id, &ty, NULL);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            if (dm__thrift_skip(t, ty))
                return -1;
        }
        dm__thrift_struct_end(t);
        return 0;
    }
    default: return dm__thrift_fail(t, "invalid type");
    }
}
