/* Compression behind one table: the Parquet codecs (none, snappy, gzip, zstd, lz4_raw, lz4
 * with Hadoop framing) and the input-file codecs (.gz, .zst) share these calls.
 *
 * Bound-then-fill: dm_codec_bound() gives the worst-case compressed size; callers allocate
 * and call dm_codec_compress(). Decoders take the destination capacity and never write
 * past it: dm_codec_decompress() must produce exactly `dst_len` bytes (Parquet knows the
 * uncompressed size), anything else is DM_ECORRUPT with a message in err. */
#ifndef DM_CODEC_H
#define DM_CODEC_H

#include <stddef.h>

#include "dm_error.h"

/* Values match Parquet's CompressionCodec enum. */
enum dm_codec {
    DM_CODEC_NONE = 0,
    DM_CODEC_SNAPPY = 1,
    DM_CODEC_GZIP = 2,
    DM_CODEC_LZO = 3,
    DM_CODEC_BROTLI = 4,
    DM_CODEC_LZ4 = 5, /* Hadoop framing, raw block fallback when decoding */
    DM_CODEC_ZSTD = 6,
    DM_CODEC_LZ4_RAW = 7
};

/* Name ("zstd", "snappy", "gzip", "none", "lz4", "lz4_raw", ...) of a codec. */
const char *dm_codec_name(enum dm_codec c);
/* Parses a codec name (case-insensitive; "uncompressed" = "none"); 0 or -EINVAL. */
int dm_codec_from_name(const char *name, enum dm_codec *out);
/* 1 when this build can compress / decompress with c. */
int dm_codec_supported(enum dm_codec c);

/* Worst-case compressed size of n bytes (0 when c is unsupported). */
size_t dm_codec_bound(enum dm_codec c, size_t n);
/* Compresses src into dst (capacity dst_cap >= dm_codec_bound). level 0 = default.
 * *out_len receives the compressed size. Returns 0, -EINVAL (unsupported), -ENOMEM. */
int dm_codec_compress(enum dm_codec c, int level, const void *src, size_t src_len, void *dst,
                      size_t dst_cap, size_t *out_len, struct dm_error *err);
/* Reusable compression state (zstd / gzip contexts kept between calls): a caller that
 * compresses many pages on one thread keeps one. Start with NULL; the first call creates it.
 * Not thread-safe: one per thread. */
struct dm_codec_cctx;
/* Like dm_codec_compress, reusing (creating on first use) *ctx. */
int dm_codec_compress_ctx(struct dm_codec_cctx **ctx, enum dm_codec c, int level,
                          const void *src, size_t src_len, void *dst, size_t dst_cap,
                          size_t *out_len, struct dm_error *err);
/* Frees a context (NULL-safe). */
void dm_codec_cctx_free(struct dm_codec_cctx *ctx);

/* Decompresses src into exactly dst_len bytes at dst. GZIP accepts concatenated members.
 * Returns 0, DM_ECORRUPT (bad data or wrong size), DM_EUNSUPPORTED, -ENOMEM. */
int dm_codec_decompress(enum dm_codec c, const void *src, size_t src_len, void *dst,
                        size_t dst_len, struct dm_error *err);

#endif
