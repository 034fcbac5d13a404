/* Internals of the Parquet writer: a Thrift compact-protocol encoder, the RLE/bit-packed
 * hybrid encoder and the PLAIN / dictionary column encoders. Shared by writer.c and the
 * unit tests; not part of the public API.
 *
 * struct dm__wbuf is a growable byte buffer with a sticky error: appends after a failed
 * allocation do nothing and `err` stays set, so encoders check once at the end. */
#ifndef DM_PQ_WRITE_INT_H
#define DM_PQ_WRITE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet writer assumes a little-endian machine"
#endif

struct dm__wbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    int err; /* 0 or -ENOMEM / DM_ETOOBIG, sticky */
};

void dm__wbuf_init(struct dm__wbuf *b);
void dm__wbuf_release(struct dm__wbuf *b);
/* Ensures room for n more bytes (plus 8 bytes of zeroable slack); 0 or the sticky error. */
int dm__wbuf_reserve(struct dm__wbuf *b, size_t n);
void dm__wbuf_append(struct dm__wbuf *b, const void *p, size_t n);

static inline void dm__wbuf_byte(struct dm__wbuf *b, uint8_t c)
{
    if (b->len < b->cap || dm__wbuf_reserve(b, 1) == 0)
        b->p[b->len++] = c;
}

void dm__wbuf_uleb(struct dm__wbuf *b, uint64_t v);

/* ---- Thrift compact protocol ---- */

enum {
    DM__T_TRUE = 1,
    DM__T_FALSE = 2,
    DM__T_I8 = 3,
    DM__T_I16 = 4,
    DM__T_I32 = 5,
    DM__T_I64 = 6,
    DM__T_DOUBLE = 7,
    DM__T_BINARY = 8,
    DM__T_LIST = 9,
    DM__T_STRUCT = 12
};

#define DM__TW_MAX_DEPTH 16

/* Writes into out; tracks the last field id per open struct. */
struct dm__tw {
    struct dm__wbuf *out;
    int depth;
    int16_t last[DM__TW_MAX_DEPTH];
};

void dm__tw_init(struct dm__tw *t, struct dm__wbuf *out);
/* Field header for field `id` of thrift type `type` (ids ascending within a struct). */
void dm__tw_field(struct dm__tw *t, int16_t id, int type);
void dm__tw_i32(struct dm__tw *t, int16_t id, int32_t v);
void dm__tw_i64(struct dm__tw *t, int16_t id, int64_t v);
void dm__tw_i8(struct dm__tw *t, int16_t id, int8_t v);
void dm__tw_bool(struct dm__tw *t, int16_t id, int v);
void dm__tw_binary(struct dm__tw *t, int16_t id, const void *p, size_t n);
void dm__tw_string(struct dm__tw *t, int16_t id, const char *s);
/* Opens a struct-valued field; close it with dm__tw_struct_end. */
void dm__tw_struct_begin(struct dm__tw *t, int16_t id);
/* Opens a struct that is a list element (no field header) or the top-level struct. */
void dm__tw_elem_struct_begin(struct dm__tw *t);
void dm__tw_struct_end(struct dm__tw *t);
/* List field header: n elements of thrift type elem. Elements follow without headers. */
void dm__tw_list(struct dm__tw *t, int16_t id, int elem, size_t n);
/* List element values. */
void dm__tw_elem_i32(struct dm__tw *t, int32_t v);
void dm__tw_elem_binary(struct dm__tw *t, const void *p, size_t n);
/* zigzag varint */
void dm__tw_varint_signed(struct dm__wbuf *b, int64_t v);

/* ---- RLE / bit-packed hybrid ---- */

/* Bits needed to represent v (0 for 0). */
static inline int dm__bit_width(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Appends the hybrid encoding of vals[0..n) at bit width `width` (0..32) to out (no length
 * prefix, no width byte). Runs of >= 8 equal values become RLE runs; the rest is bit-packed
 * in groups of 8 (the last group zero-padded). */
void dm__rle_encode_u32(struct dm__wbuf *out, const uint32_t *vals, size_t n, int width);
/* Same for 0/1 bytes (definition levels of a flat OPTIONAL column, width 1). */
void dm__rle_encode_levels(struct dm__wbuf *out, const uint8_t *levels, size_t n);
/* Packs 8*ngroups values LSB-first at `width` bits into out (width*ngroups bytes). */
void dm__bitpack_u32(uint8_t *out, const uint32_t *vals, size_t ngroups, int width);

/* ---- dictionary building ----
 * Builders keep their tables between builds (one per column, reused every row group):
 * _init once, _build any number of times, _release at the end. */

/* A dictionary of fixed-width values (4 or 8 bytes): keys are stored in insertion order in
 * `vals` (the PLAIN dictionary page body). */
struct dm__dict_fixed {
    uint8_t *vals; /* n * width bytes */
    size_t n, cap; /* cap in bytes */
    size_t width;
    void *slots, *spare; /* open-addressing tables (current, next size) */
    size_t slots_cap, spare_cap;
    uint64_t seed;
};

void dm__dict_fixed_init(struct dm__dict_fixed *d);
/* Builds indexes for vals[0..nv) (width 4 or 8 bytes each) into idx; returns 1 (stopping
 * early) when the dictionary would pass max_entries, 0 on success, -ENOMEM. */
int dm__dict_fixed_build(struct dm__dict_fixed *d, const void *vals, size_t nv, size_t width,
                         uint32_t *idx, size_t max_entries);
void dm__dict_fixed_release(struct dm__dict_fixed *d);

/* A dictionary of byte strings; `plain` holds the PLAIN dictionary page body (u32 length +
 * bytes per entry), `offs[i]` the offset of entry i's length prefix in it. */
struct dm__dict_bytes {
    uint64_t *offs;
    size_t n, cap;
    struct dm__wbuf plain;
    void *slots, *spare, *hashes, *spare_h;
    size_t slots_cap, spare_cap, hashes_cap, spare_h_cap;
    uint64_t seed;
};

void dm__dict_bytes_init(struct dm__dict_bytes *d);
/* Builds indexes for the strings bytes[off[i]..off[i+1]) (i < nv) into idx; returns 1 when
 * the PLAIN dictionary would pass max_bytes, 0 on success, -ENOMEM. */
int dm__dict_bytes_build(struct dm__dict_bytes *d, const char *bytes, const uint64_t *off,
                         size_t nv, uint32_t *idx, size_t max_bytes);
void dm__dict_bytes_release(struct dm__dict_bytes *d);

#endif
