/* Value and level decoders: RLE / bit-packed hybrid, legacy BIT_PACKED, DELTA_BINARY_PACKED,
 * BYTE_STREAM_SPLIT. Every read is checked against the input length; outputs are written
 * only for the exact count requested. */
#include <string.h>

#include "dm_error.h"
#include "pq_read_int.h"
#include "banned.h"

static int uleb(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= n)
            return -1;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && (b & 0x7e))
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* bw bits (1..64) at bit offset bit of p[0..n), LSB first; caller guarantees the bits lie
 * inside n bytes. */
static inline uint64_t get_bits(const uint8_t *p, size_t n, uint64_t bit, int bw)
{
    size_t byte = (size_t)(bit >> 3);
    unsigned shift = (unsigned)(bit & 7);
    uint64_t mask = bw == 64 ? ~0ull : ((1ull << bw) - 1);
    if (byte + 8 <= n) {
        uint64_t v = load64(p + byte) >> shift;
        if (shift + (unsigned)bw > 64)
            v |= (uint64_t)p[byte + 8] << (64 - shift);
        return v & mask;
    }
    uint64_t v = 0;
    for (int k = 0; k < bw; k++) {
        uint64_t b = bit + (uint64_t)k;
        v |= (uint64_t)((p[b >> 3] >> (b & 7)) & 1u) << k;
    }
    (void)n;
    return v & mask;
}

int dm__pqr_rle_decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t count,
                       size_t *used)
{
    if (bw < 0 || bw > 32)
        return DM_ECORRUPT;
    size_t pos = 0, got = 0;
    size_t vbytes = (size_t)(bw + 7) / 8;
    while (got < count) {
        uint64_t h;
        if (uleb(p, n, &pos, &h) || h > UINT32_MAX)
            return DM_ECORRUPT;
        if (h & 1) {
            uint64_t groups = h >> 1;
            uint64_t nvals = groups * 8;
            uint64_t bytes = groups * (uint64_t)bw;
            size_t avail = n - pos;
            if (bytes < avail)
                avail = (size_t)bytes;
            size_t take = count - got;
            if (nvals < take)
                take = (size_t)nvals;
            if (take == 0)
                continue;
            if (bw == 0) {
                memset(out + got, 0, take * sizeof(*out));
            } else {
                /* every value must lie inside the available bytes */
                uint64_t need = ((uint64_t)take * (uint64_t)bw + 7) / 8;
                if (need > avail)
                    return DM_ECORRUPT;
                const uint8_t *q = p + pos;
                for (size_t i = 0; i < take; i++)
                    out[got + i] = (uint32_t)get_bits(q, avail, (uint64_t)i * (uint64_t)bw, bw);
            }
            got += take;
            pos += avail;
        } else {
            uint64_t run = h >> 1;
            if (n - pos < vbytes)
                return DM_ECORRUPT;
            uint32_t v = 0;
            for (size_t k = 0; k < vbytes; k++)
                v |= (uint32_t)p[pos + k] << (8 * k);
            pos += vbytes;
            size_t take = count - got;
            if (run < take)
                take = (size_t)run;
            for (size_t i = 0; i < take; i++)
                out[got + i] = v;
            got += take;
        }
    }
    if (used)
        *used = pos;
    return 0;
}

int dm__pqr_bitpacked_decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t count,
                             size_t *used)
{
    if (bw < 0 || bw > 32)
        return DM_ECORRUPT;
    uint64_t bits = (uint64_t)count * (uint64_t)bw;
    uint64_t bytes = (bits + 7) / 8;
    if (bytes > n)
        return DM_ECORRUPT;
    uint64_t bit = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t v = 0;
        for (int k = 0; k < bw; k++, bit++)
            v = (v << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1u);
        out[i] = v;
    }
    if (used)
        *used = (size_t)bytes;
    return 0;
}

struct delta_hdr {
    uint64_t block, minis, total, per_mini;
    int64_t first;
};

static int delta_header(const uint8_t *p, size_t n, size_t *pos, struct delta_hdr *h)
{
    uint64_t first;
    if (uleb(p, n, pos, &h->block) || uleb(p, n, pos, &h->minis) || uleb(p, n, pos, &h->total) ||
        uleb(p, n, pos, &first))
        return -1;
    h->first = (int64_t)(first >> 1) ^ -(int64_t)(first & 1);
    if (h->block == 0 || h->block % 128 || h->block > (1u << 20) || h->minis == 0 ||
        h->block % h->minis)
        return -1;
    h->per_mini = h->block / h->minis;
    if (h->per_mini % 32)
        return -1;
    if (h->total > ((uint64_t)1 << 40))
        return -1;
    return 0;
}

int dm__pqr_delta_count(const uint8_t *p, size_t n, uint64_t *count)
{
    size_t pos = 0;
    struct delta_hdr h;
    if (delta_header(p, n, &pos, &h))
        return -1;
    *count = h.total;
    return 0;
}

int dm__pqr_delta_decode(const uint8_t *p, size_t n, int64_t *out, size_t count, size_t *used)
{
    size_t pos = 0;
    struct delta_hdr h;
    if (delta_header(p, n, &pos, &h) || h.total < count)
        return DM_ECORRUPT;
    uint64_t total = h.total;
    uint64_t v = (uint64_t)h.first;
    size_t got = 0;
    if (total > 0 && count > 0)
        out[got++] = (int64_t)v;
    uint64_t remaining = total ? total - 1 : 0; /* deltas still in the stream */
    while (remaining > 0) {
        uint64_t md;
        if (uleb(p, n, &pos, &md))
            return DM_ECORRUPT;
        uint64_t min_delta = (uint64_t)((int64_t)(md >> 1) ^ -(int64_t)(md & 1));
        if (n - pos < h.minis)
            return DM_ECORRUPT;
        const uint8_t *widths = p + pos;
        pos += (size_t)h.minis;
        for (uint64_t m = 0; m < h.minis && remaining > 0; m++) {
            int bw = widths[m];
            if (bw > 64)
                return DM_ECORRUPT;
            uint64_t in_mini = remaining < h.per_mini ? remaining : h.per_mini;
            size_t mbytes = (size_t)(h.per_mini * (uint64_t)bw / 8);
            size_t avail = n - pos < mbytes ? n - pos : mbytes;
            if ((in_mini * (uint64_t)bw + 7) / 8 > avail)
                return DM_ECORRUPT;
            const uint8_t *q = p + pos;
            for (uint64_t i = 0; i < in_mini; i++) {
                uint64_t d = bw ? get_bits(q, avail, i * (uint64_t)bw, bw) : 0;
                v += min_delta + d;
                if (got < count)
                    out[got++] = (int64_t)v;
            }
            remaining -= in_mini;
            pos += avail;
        }
    }
    if (got < count)
        return DM_ECORRUPT;
    if (used)
        *used = pos;
    return 0;
}

int dm__pqr_bss_decode(const uint8_t *p, size_t n, size_t width, uint8_t *out, size_t count)
{
    if (width == 0 || (count && width > n / count) || width * count > n)
        return DM_ECORRUPT;
    for (size_t k = 0; k < width; k++) {
        const uint8_t *s = p + k * count;
        for (size_t i = 0; i < count; i++)
            out[i * width + k] = s[i];
    }
    return 0;
}
