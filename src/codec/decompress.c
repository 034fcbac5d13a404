/* Decompression side of the codec table: every decoder takes the destination capacity,
 * never writes past it and must produce exactly dst_len bytes (Parquet always knows the
 * uncompressed size). */
#include "dm_codec.h"

#include <limits.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "banned.h"

static int size_mismatch(struct dm_error *err, const char *codec, size_t got, size_t want)
{
    return dm_error_set(err, DM_ECORRUPT, "%s data decompresses to %zu bytes, expected %zu",
                        codec, got, want);
}

static int dec_none(const void *src, size_t src_len, void *dst, size_t dst_len,
                    struct dm_error *err)
{
    if (src_len != dst_len)
        return size_mismatch(err, "uncompressed", src_len, dst_len);
    if (dst_len)
        memcpy(dst, src, dst_len);
    return 0;
}

static int dec_snappy(const void *src, size_t src_len, void *dst, size_t dst_len,
                      struct dm_error *err)
{
    size_t n = 0;
    if (snappy_uncompressed_length(src, src_len, &n) != SNAPPY_OK)
        return dm_error_set(err, DM_ECORRUPT, "invalid snappy header");
    if (n != dst_len)
        return size_mismatch(err, "snappy", n, dst_len);
    size_t out = dst_len;
    if (snappy_uncompress(src, src_len, dst, &out) != SNAPPY_OK || out != dst_len)
        return dm_error_set(err, DM_ECORRUPT, "invalid snappy data");
    return 0;
}

/* gzip (or zlib) members, one after another, until the input is used up. Trailing zero
 * padding after the last member is tolerated. */
static int dec_gzip(const void *src, size_t src_len, void *dst, size_t dst_len,
                    struct dm_error *err)
{
    const unsigned char *in = src;
    size_t in_pos = 0, out_pos = 0;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return dm_error_set(err, -ENOMEM, "cannot initialise zlib");
    int rc = 0;
    int members = 0;
    while (in_pos < src_len) {
        if (members > 0) {
            /* Another member only if it looks like one; zero padding ends the stream. */
            size_t k = in_pos;
            while (k < src_len && in[k] == 0)
                k++;
            if (k == src_len)
                break;
            if (inflateReset(&z) != Z_OK) {
                rc = dm_error_set(err, DM_ECORRUPT, "gzip reset failed");
                break;
            }
        }
        int zr;
        do {
            size_t in_chunk = src_len - in_pos;
            size_t out_chunk = dst_len - out_pos;
            if (in_chunk > UINT_MAX)
                in_chunk = UINT_MAX;
            if (out_chunk > UINT_MAX)
                out_chunk = UINT_MAX;
            z.next_in = (unsigned char *)(uintptr_t)(in + in_pos);
            z.avail_in = (unsigned)in_chunk;
            z.next_out = (unsigned char *)dst + out_pos;
            z.avail_out = (unsigned)out_chunk;
            zr = inflate(&z, Z_NO_FLUSH);
            in_pos += in_chunk - z.avail_in;
            out_pos += out_chunk - z.avail_out;
            if (zr == Z_BUF_ERROR && out_pos == dst_len && in_pos < src_len) {
                rc = dm_error_set(err, DM_ECORRUPT,
                                  "gzip data decompresses to more than %zu bytes", dst_len);
                goto done;
            }
            if (zr != Z_OK && zr != Z_STREAM_END) {
                rc = dm_error_set(err, DM_ECORRUPT, "invalid gzip data%s%s",
                                  z.msg ? ": " : "", z.msg ? z.msg : "");
                goto done;
            }
        } while (zr != Z_STREAM_END);
        members++;
    }
    if (!members && src_len)
        rc = dm_error_set(err, DM_ECORRUPT, "invalid gzip data");
    else if (out_pos != dst_len)
        rc = size_mismatch(err, "gzip", out_pos, dst_len);
done:
    inflateEnd(&z);
    return rc;
}

static int dec_zstd(const void *src, size_t src_len, void *dst, size_t dst_len,
                    struct dm_error *err)
{
    size_t n = ZSTD_decompress(dst, dst_len, src, src_len);
    if (ZSTD_isError(n))
        return dm_error_set(err, DM_ECORRUPT, "invalid zstd data: %s", ZSTD_getErrorName(n));
    if (n != dst_len)
        return size_mismatch(err, "zstd", n, dst_len);
    return 0;
}

static int dec_lz4_raw(const void *src, size_t src_len, void *dst, size_t dst_len,
                       struct dm_error *err)
{
    if (src_len > INT_MAX || dst_len > INT_MAX)
        return dm_error_set(err, DM_ETOOBIG, "lz4 block larger than 2 GiB");
    int n = LZ4_decompress_safe(src, dst, (int)src_len, (int)dst_len);
    if (n < 0)
        return dm_error_set(err, DM_ECORRUPT, "invalid lz4 data");
    if ((size_t)n != dst_len)
        return size_mismatch(err, "lz4", (size_t)n, dst_len);
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hadoop's LZ4 framing: blocks of [u32 BE uncompressed][u32 BE compressed][lz4 block].
 * Returns 0 when the whole input parses that way and fills exactly dst_len bytes. */
static int dec_lz4_hadoop(const unsigned char *in, size_t src_len, unsigned char *dst,
                          size_t dst_len)
{
    size_t ip = 0, op = 0;
    while (ip < src_len) {
        if (src_len - ip < 8)
            return -1;
        uint32_t ulen = be32(in + ip), clen = be32(in + ip + 4);
        ip += 8;
        if (clen > src_len - ip || ulen > dst_len - op || clen > INT_MAX)
            return -1;
        int n = LZ4_decompress_safe((const char *)in + ip, (char *)dst + op, (int)clen,
                                    (int)ulen);
        if (n < 0 || (uint32_t)n != ulen)
            return -1;
        ip += clen;
        op += ulen;
    }
    return op == dst_len && src_len > 0 ? 0 : -1;
}

int dm_codec_decompress(enum dm_codec c, const void *src, size_t src_len, void *dst,
                        size_t dst_len, struct dm_error *err)
{
    if (!src && src_len)
        return dm_error_set(err, -EINVAL, "null source");
    switch (c) {
    case DM_CODEC_NONE: return dec_none(src, src_len, dst, dst_len, err);
    case DM_CODEC_SNAPPY: return dec_snappy(src, src_len, dst, dst_len, err);
    case DM_CODEC_GZIP: return dec_gzip(src, src_len, dst, dst_len, err);
    case DM_CODEC_ZSTD: return dec_zstd(src, src_len, dst, dst_len, err);
    case DM_CODEC_LZ4_RAW: return dec_lz4_raw(src, src_len, dst, dst_len, err);
    case DM_CODEC_LZ4:
        if (dec_lz4_hadoop(src, src_len, dst, dst_len) == 0)
            return 0;
        return dec_lz4_raw(src, src_len, dst, dst_len, err);
    case DM_CODEC_LZO:
    case DM_CODEC_BROTLI: break;
    }
    return dm_error_set(err, DM_EUNSUPPORTED, "compression codec %d not supported", (int)c);
}
