/* Reader internals shared by thrift_read.c, decode.c and reader.c (not public API).
 *
 * Thrift compact protocol cursor: every read checks the bytes that remain; strings and
 * lists are capped; nesting is limited. Decoders take (ptr, len) input and an exact value
 * count, write only into caller arrays sized for that count, and return 0 or DM_ECORRUPT. */
#ifndef DM_PQ_READ_INT_H
#define DM_PQ_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

#define DM__PQR_MAX_DEPTH 32
#define DM__PQR_MAX_STRING ((size_t)100 << 20) /* Arrow's default thrift string cap */
#define DM__PQR_MAX_LIST ((size_t)1 << 20)      /* list elements */

/* Compact-protocol type ids. */
enum {
    DM__TT_STOP = 0,
    DM__TT_TRUE = 1,
    DM__TT_FALSE = 2,
    DM__TT_I8 = 3,
    DM__TT_I16 = 4,
    DM__TT_I32 = 5,
    DM__TT_I64 = 6,
    DM__TT_DOUBLE = 7,
    DM__TT_BINARY = 8,
    DM__TT_LIST = 9,
    DM__TT_SET = 10,
    DM__TT_MAP = 11,
    DM__TT_STRUCT = 12,
    DM__TT_UUID = 13
};

struct dm__thrift {
    const uint8_t *p, *start, *end;
    int depth;
    int bad; /* set on the first error; every later read fails too */
    const char *why; /* static description of the first error */
};

void dm__thrift_init(struct dm__thrift *t, const void *p, size_t n);
/* Struct bracketing: begin pushes a field-id context (depth-limited), end pops it. */
int dm__thrift_struct_begin(struct dm__thrift *t, int16_t *last_id);
void dm__thrift_struct_end(struct dm__thrift *t);
/* Next field header of the current struct: 1 with id and type set, 0 at the stop byte, -1 on
 * error. last_id carries the previous id of this struct (starts at 0). For bool fields
 * bval receives the value. */
int dm__thrift_field(struct dm__thrift *t, int16_t *last_id, int16_t *id, int *type, int *bval);
int dm__thrift_i64(struct dm__thrift *t, int64_t *v); /* zigzag varint */
int dm__thrift_i32(struct dm__thrift *t, int32_t *v); /* zigzag varint, range-checked */
int dm__thrift_i8(struct dm__thrift *t, int8_t *v);
int dm__thrift_binary(struct dm__thrift *t, const uint8_t **p, size_t *n);
/* List/set header: element type and count (capped). */
int dm__thrift_list(struct dm__thrift *t, int *etype, size_t *n);
/* Reads an integer field of any integer type (i8/i16/i32/i64) into *v. */
int dm__thrift_int(struct dm__thrift *t, int type, int64_t *v);
/* Skips one value of the given type (recursively, depth-limited). */
int dm__thrift_skip(struct dm__thrift *t, int type);
/* Marks an error; returns -1. */
int dm__thrift_fail(struct dm__thrift *t, const char *why);
static inline size_t dm__thrift_pos(const struct dm__thrift *t)
{
    return (size_t)(t->p - t->start);
}

/* RLE / bit-packed hybrid: decodes exactly count values of bit_width (0..32) from p[0..n)
 * into out. Bit-packed runs past count are ignored; a stream that ends before count values
 * is DM_ECORRUPT. *used receives the bytes consumed (may be NULL). */
int dm__pqr_rle_decode(const uint8_t *p, size_t n, int bit_width, uint32_t *out, size_t count,
                       size_t *used);
/* Deprecated BIT_PACKED level encoding (MSB first): count values of bit_width. */
int dm__pqr_bitpacked_decode(const uint8_t *p, size_t n, int bit_width, uint32_t *out,
                             size_t count, size_t *used);
/* DELTA_BINARY_PACKED into int64 (INT32 columns: values wrap to 32 bits by the caller).
 * Decodes exactly count values; *used receives the bytes consumed. */
int dm__pqr_delta_decode(const uint8_t *p, size_t n, int64_t *out, size_t count,
                         size_t *used);
/* Number of values a DELTA_BINARY_PACKED stream declares in its header (0 or corrupt
 * returns -1). */
int dm__pqr_delta_count(const uint8_t *p, size_t n, uint64_t *count);
/* BYTE_STREAM_SPLIT: count values of width bytes, stream k at p + k * count. */
int dm__pqr_bss_decode(const uint8_t *p, size_t n, size_t width, uint8_t *out, size_t count);

/* Bits needed to store max (0 for 0). */
static inline int dm__pqr_bit_width(uint32_t max)
{
    int w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

#endif
