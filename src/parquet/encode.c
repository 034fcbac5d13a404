/* Writer-side encodings: the RLE / bit-packed hybrid and dictionary building. */
#include <errno.h>

#include "dm_alloc.h"
#include "dm_error.h"
#include "dm_hash.h"
#include "pq_write_int.h"
#include "banned.h"

/* ---- bit packing ---- */

/* ORs the low `width` bits of v at bit offset `bit` of out; out must have 8 bytes of
 * zeroed room past the byte holding the bit. No branch per value. */
static inline void put_bits(uint8_t *out, size_t bit, uint64_t v)
{
    uint64_t x;
    memcpy(&x, out + (bit >> 3), 8);
    x |= v << (bit & 7);
    memcpy(out + (bit >> 3), &x, 8);
}

/* The width is a compile-time constant inside each instance, so the loop unrolls. */
#define PACK_CASE(W)                                                                          \
    case W:                                                                                   \
        for (size_t g = 0; g < ngroups; g++, out += W, vals += 8)                             \
            for (int j = 0; j < 8; j++)                                                       \
                put_bits(out, (size_t)(j * W), vals[j]);                                      \
        break;

void dm__bitpack_u32(uint8_t *out, const uint32_t *vals, size_t ngroups, int width)
{
    /* Callers guarantee width*ngroups + 8 bytes at out; zero them, then OR values in. */
    memset(out, 0, (size_t)width * ngroups + 8);
    switch (width) {
    case 0: break;
    PACK_CASE(1) PACK_CASE(2) PACK_CASE(3) PACK_CASE(4) PACK_CASE(5) PACK_CASE(6)
    PACK_CASE(7) PACK_CASE(8) PACK_CASE(9) PACK_CASE(10) PACK_CASE(11) PACK_CASE(12)
    PACK_CASE(13) PACK_CASE(14) PACK_CASE(15) PACK_CASE(16) PACK_CASE(17) PACK_CASE(18)
    PACK_CASE(19) PACK_CASE(20) PACK_CASE(21) PACK_CASE(22) PACK_CASE(23) PACK_CASE(24)
    default:
        for (size_t g = 0; g < ngroups; g++, out += width, vals += 8)
            for (int j = 0; j < 8; j++)
                put_bits(out, (size_t)j * (size_t)width, vals[j]);
        break;
    }
}

/* Appends a bit-packed run of count values (last group zero-padded). */
static void emit_packed_u32(struct dm__wbuf *out, const uint32_t *vals, size_t count, int width)
{
    size_t ngroups = (count + 7) / 8;
    dm__wbuf_uleb(out, ((uint64_t)ngroups << 1) | 1);
    if (dm__wbuf_reserve(out, (size_t)width * ngroups + 8))
        return;
    size_t full = count / 8;
    dm__bitpack_u32(out->p + out->len, vals, full, width);
    out->len += (size_t)width * full;
    if (count % 8) {
        uint32_t tail[8] = {0};
        memcpy(tail, vals + full * 8, (count % 8) * sizeof(*tail));
        dm__bitpack_u32(out->p + out->len, tail, 1, width);
        out->len += (size_t)width;
    }
}

static void emit_rle(struct dm__wbuf *out, uint32_t v, size_t count, int width)
{
    dm__wbuf_uleb(out, (uint64_t)count << 1);
    for (int b = 0; b < (width + 7) / 8; b++)
        dm__wbuf_byte(out, (uint8_t)(v >> (8 * b)));
}

/* The run-splitting loop shared by both element types. A run of >= 8 equal values becomes
 * an RLE run; shorter runs join the pending bit-packed stretch. Before an RLE run, the
 * pending stretch borrows values from the run to fill its last group of 8 (when the run
 * stays >= 8). A final stretch that is one run is written as RLE (covers width 0). */
#define RLE_ENCODE_BODY(VALS, EMIT_PACKED)                                                    \
    size_t i = 0, bp = 0;                                                                     \
    while (i < n) {                                                                           \
        size_t j = i + 1;                                                                     \
        while (j < n && VALS[j] == VALS[i])                                                   \
            j++;                                                                              \
        size_t run = j - i;                                                                   \
        if (run >= 8 || (i == bp && j == n)) {                                                \
            size_t pad = (8 - (i - bp) % 8) % 8;                                              \
            if (i > bp && run >= pad + 8) {                                                   \
                EMIT_PACKED(bp, i + pad - bp);                                                \
                i += pad;                                                                     \
                bp = i;                                                                       \
            }                                                                                 \
            if (i == bp) {                                                                    \
                emit_rle(out, (uint32_t)VALS[i], j - i, width);                               \
                bp = j;                                                                       \
            }                                                                                 \
        }                                                                                     \
        i = j;                                                                                \
    }                                                                                         \
    if (bp < n)                                                                               \
        EMIT_PACKED(bp, n - bp);

void dm__rle_encode_u32(struct dm__wbuf *out, const uint32_t *vals, size_t n, int width)
{
#define EMIT_U32(start, count) emit_packed_u32(out, vals + (start), (count), width)
    RLE_ENCODE_BODY(vals, EMIT_U32)
#undef EMIT_U32
}

/* Packs count 0/1 bytes (last group zero-padded) as a bit-packed run of width 1. */
static void emit_packed_levels(struct dm__wbuf *out, const uint8_t *lv, size_t count)
{
    size_t ngroups = (count + 7) / 8;
    dm__wbuf_uleb(out, ((uint64_t)ngroups << 1) | 1);
    if (dm__wbuf_reserve(out, ngroups))
        return;
    uint8_t *o = out->p + out->len;
    size_t full = count / 8;
    for (size_t g = 0; g < full; g++, lv += 8)
        o[g] = (uint8_t)(lv[0] | lv[1] << 1 | lv[2] << 2 | lv[3] << 3 | lv[4] << 4 | lv[5] << 5 |
                         lv[6] << 6 | lv[7] << 7);
    if (count % 8) {
        uint8_t b = 0;
        for (size_t k = 0; k < count % 8; k++)
            b |= (uint8_t)(lv[k] << k);
        o[full] = b;
    }
    out->len += ngroups;
}

void dm__rle_encode_levels(struct dm__wbuf *out, const uint8_t *levels, size_t n)
{
    const int width = 1;
#define EMIT_LV(start, count) emit_packed_levels(out, levels + (start), (count))
    RLE_ENCODE_BODY(levels, EMIT_LV)
#undef EMIT_LV
}

/* ---- dictionaries ---- */

#define DICT_MAX_ENTRIES ((size_t)1 << 30)
#define DICT_MIN_SLOTS ((size_t)1024)

struct dm__fixed_slot {
    uint64_t key;
    uint32_t idx; /* 0 = empty, else entry index + 1 */
};

/* Makes *p hold at least n elements of size sz (contents not kept); 0 or -ENOMEM. */
static int ensure(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    void *q = dm_reallocarray(NULL, n, sz);
    if (!q)
        return -ENOMEM;
    dm_free(*p);
    *p = q;
    *cap = n;
    return 0;
}

/* Makes *p hold at least n elements, keeping its contents (doubling); 0 or -ENOMEM. */
static int ensure_keep(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < n)
        c *= 2;
    void *q = dm_reallocarray(*p, c, sz);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static inline size_t fixed_hash(uint64_t k, uint64_t seed, int shift)
{
    return (size_t)(((k ^ seed) * 0x9e3779b97f4a7c15ull) >> shift);
}

void dm__dict_fixed_init(struct dm__dict_fixed *d)
{
    memset(d, 0, sizeof(*d));
}

int dm__dict_fixed_build(struct dm__dict_fixed *d, const void *vals, size_t nv, size_t width,
                         uint32_t *idx, size_t max_entries)
{
    d->width = width;
    d->n = 0;
    if (!d->seed)
        d->seed = dm_hash_seed();
    if (max_entries > DICT_MAX_ENTRIES)
        max_entries = DICT_MAX_ENTRIES;
    size_t nslots = DICT_MIN_SLOTS;
    int shift = 64 - 10;
    if (ensure(&d->slots, &d->slots_cap, nslots, sizeof(struct dm__fixed_slot)))
        return -ENOMEM;
    struct dm__fixed_slot *slots = d->slots;
    memset(slots, 0, nslots * sizeof(*slots));
    if (ensure_keep((void **)&d->vals, &d->cap, 256 * width, 1))
        return -ENOMEM;
    size_t n = 0;
    const uint8_t *src = vals;
    for (size_t i = 0; i < nv; i++) {
        uint64_t k = 0;
        memcpy(&k, src + i * width, width);
        size_t mask = nslots - 1;
        size_t h = fixed_hash(k, d->seed, shift);
        while (slots[h].idx && slots[h].key != k)
            h = (h + 1) & mask;
        if (slots[h].idx) {
            idx[i] = slots[h].idx - 1;
            continue;
        }
        if (n >= max_entries)
            return d->n = n, 1;
        if (ensure_keep((void **)&d->vals, &d->cap, (n + 1) * width, 1))
            return d->n = n, -ENOMEM;
        memcpy(d->vals + n * width, &k, width);
        slots[h].key = k;
        slots[h].idx = (uint32_t)++n;
        idx[i] = (uint32_t)(n - 1);
        if (n * 2 > nslots) { /* grow: rehash into the spare table, then swap */
            size_t ns = nslots * 2;
            if (ensure(&d->spare, &d->spare_cap, ns, sizeof(struct dm__fixed_slot)))
                return d->n = n, -ENOMEM;
            struct dm__fixed_slot *s2 = d->spare;
            memset(s2, 0, ns * sizeof(*s2));
            shift--;
            for (size_t s = 0; s < nslots; s++) {
                if (!slots[s].idx)
                    continue;
                size_t h2 = fixed_hash(slots[s].key, d->seed, shift);
                while (s2[h2].idx)
                    h2 = (h2 + 1) & (ns - 1);
                s2[h2] = slots[s];
            }
            void *t = d->slots;
            size_t tc = d->slots_cap;
            d->slots = d->spare, d->slots_cap = d->spare_cap;
            d->spare = t, d->spare_cap = tc;
            slots = s2;
            nslots = ns;
        }
    }
    d->n = n;
    return 0;
}

void dm__dict_fixed_release(struct dm__dict_fixed *d)
{
    dm_free(d->slots);
    dm_free(d->spare);
    dm_free(d->vals);
    memset(d, 0, sizeof(*d));
}

void dm__dict_bytes_init(struct dm__dict_bytes *d)
{
    memset(d, 0, sizeof(*d));
    dm__wbuf_init(&d->plain);
}

int dm__dict_bytes_build(struct dm__dict_bytes *d, const char *bytes, const uint64_t *off,
                         size_t nv, uint32_t *idx, size_t max_bytes)
{
    d->n = 0;
    d->plain.len = 0;
    d->plain.err = 0;
    if (!d->seed)
        d->seed = dm_hash_seed();
    size_t nslots = DICT_MIN_SLOTS, mask = nslots - 1;
    if (ensure(&d->slots, &d->slots_cap, nslots, sizeof(uint32_t)) ||
        ensure(&d->hashes, &d->hashes_cap, nslots, sizeof(uint64_t)) ||
        ensure_keep((void **)&d->offs, &d->cap, 256, sizeof(*d->offs)))
        return -ENOMEM;
    uint32_t *slots = d->slots;
    uint64_t *hashes = d->hashes;
    memset(slots, 0, nslots * sizeof(*slots));
    size_t n = 0;
    for (size_t i = 0; i < nv; i++) {
        const char *s = bytes + off[i];
        size_t len = (size_t)(off[i + 1] - off[i]);
        uint64_t hv = dm_hash_bytes(s, len, d->seed);
        size_t h = (size_t)(hv >> 32) & mask;
        int found = 0;
        while (slots[h]) {
            if (hashes[h] == hv) {
                const uint8_t *e = d->plain.p + d->offs[slots[h] - 1];
                uint32_t elen;
                memcpy(&elen, e, 4);
                if (elen == len && memcmp(e + 4, s, len) == 0) {
                    found = 1;
                    break;
                }
            }
            h = (h + 1) & mask;
        }
        if (found) {
            idx[i] = slots[h] - 1;
            continue;
        }
        if (len > UINT32_MAX || d->plain.len + 4 + len > max_bytes || n >= DICT_MAX_ENTRIES)
            return d->n = n, 1;
        if (ensure_keep((void **)&d->offs, &d->cap, n + 1, sizeof(*d->offs)) ||
            dm__wbuf_reserve(&d->plain, 4 + len))
            return d->n = n, -ENOMEM;
        d->offs[n] = d->plain.len;
        uint32_t l32 = (uint32_t)len;
        memcpy(d->plain.p + d->plain.len, &l32, 4);
        if (len)
            memcpy(d->plain.p + d->plain.len + 4, s, len);
        d->plain.len += 4 + len;
        slots[h] = (uint32_t)++n;
        hashes[h] = hv;
        idx[i] = (uint32_t)(n - 1);
        if (n * 2 > nslots) {
            size_t ns = nslots * 2, m2 = ns - 1;
            if (ensure(&d->spare, &d->spare_cap, ns, sizeof(uint32_t)) ||
                ensure(&d->spare_h, &d->spare_h_cap, ns, sizeof(uint64_t)))
                return d->n = n, -ENOMEM;
            uint32_t *s2 = d->spare;
            uint64_t *h2 = d->spare_h;
            memset(s2, 0, ns * sizeof(*s2));
            for (size_t k = 0; k < nslots; k++) {
                if (!slots[k])
                    continue;
                size_t p = (size_t)(hashes[k] >> 32) & m2;
                while (s2[p])
                    p = (p + 1) & m2;
                s2[p] = slots[k];
                h2[p] = hashes[k];
            }
            void *t = d->slots;
            size_t tc = d->slots_cap;
            d->slots = d->spare, d->slots_cap = d->spare_cap;
            d->spare = t, d->spare_cap = tc;
            t = d->hashes, tc = d->hashes_cap;
            d->hashes = d->spare_h, d->hashes_cap = d->spare_h_cap;
            d->spare_h = t, d->spare_h_cap = tc;
            slots = s2;
            hashes = h2;
            nslots = ns;
            mask = m2;
        }
    }
    d->n = n;
    return 0;
}

void dm__dict_bytes_release(struct dm__dict_bytes *d)
{
    dm_free(d->slots);
    dm_free(d->spare);
    dm_free(d->hashes);
    dm_free(d->spare_h);
    dm_free(d->offs);
    dm__wbuf_release(&d->plain);
    memset(d, 0, sizeof(*d));
}
