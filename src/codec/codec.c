/* Codec table and the compression direction (decompression lives in decompress.c).
 *
 * Every codec library allocates through dm_malloc where it lets us (zstd, zlib), so the
 * allocation-failure tests reach inside them too. */
#include "dm_codec.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <lz4.h>
#include <lz4hc.h>
#include <snappy-c.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "dm_alloc.h"
#include "banned.h"

static const char *const codec_names[] = {
    [DM_CODEC_NONE] = "none", [DM_CODEC_SNAPPY] = "snappy", [DM_CODEC_GZIP] = "gzip",
    [DM_CODEC_LZO] = "lzo",   [DM_CODEC_BROTLI] = "brotli", [DM_CODEC_LZ4] = "lz4",
    [DM_CODEC_ZSTD] = "zstd", [DM_CODEC_LZ4_RAW] = "lz4_raw",
};

#define NCODECS (sizeof(codec_names) / sizeof(codec_names[0]))

const char *dm_codec_name(enum dm_codec c)
{
    if ((unsigned)c < NCODECS && codec_names[c])
        return codec_names[c];
    return "unknown";
}

int dm_codec_from_name(const char *name, enum dm_codec *out)
{
    static const struct {
        const char *name;
        enum dm_codec c;
    } aliases[] = {
        {"uncompressed", DM_CODEC_NONE}, {"lz4raw", DM_CODEC_LZ4_RAW},
        {"zstandard", DM_CODEC_ZSTD},    {"gz", DM_CODEC_GZIP},
        {"zst", DM_CODEC_ZSTD},
    };
    if (!name)
        return -EINVAL;
    for (size_t i = 0; i < NCODECS; i++) {
        if (codec_names[i] && strcasecmp(name, codec_names[i]) == 0) {
            *out = (enum dm_codec)i;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(name, aliases[i].name) == 0) {
            *out = aliases[i].c;
            return 0;
        }
    }
    return -EINVAL;
}

int dm_codec_supported(enum dm_codec c)
{
    switch (c) {
    case DM_CODEC_NONE:
    case DM_CODEC_SNAPPY:
    case DM_CODEC_GZIP:
    case DM_CODEC_LZ4:
    case DM_CODEC_ZSTD:
    case DM_CODEC_LZ4_RAW: return 1;
    case DM_CODEC_LZO:
    case DM_CODEC_BROTLI: return 0;
    }
    return 0;
}

/* LZ4 block APIs take int sizes. */
#define LZ4_MAX_IN ((size_t)LZ4_MAX_INPUT_SIZE)

size_t dm_codec_bound(enum dm_codec c, size_t n)
{
    switch (c) {
    case DM_CODEC_NONE: return n;
    case DM_CODEC_SNAPPY: return snappy_max_compressed_length(n);
    case DM_CODEC_GZIP:
        /* deflateBound for default settings plus the gzip header/trailer (18 bytes) and
         * slack; computed without a stream. */
        return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 18 + 64;
    case DM_CODEC_ZSTD: return ZSTD_compressBound(n);
    case DM_CODEC_LZ4_RAW:
        return n <= LZ4_MAX_IN ? (size_t)LZ4_compressBound((int)n) : 0;
    case DM_CODEC_LZ4:
        return n <= LZ4_MAX_IN ? (size_t)LZ4_compressBound((int)n) + 8 : 0;
    case DM_CODEC_LZO:
    case DM_CODEC_BROTLI: return 0;
    }
    return 0;
}

struct dm_codec_cctx {
    ZSTD_CCtx *zstd;
    z_stream z;
    int z_ready; /* z initialised for gzip at z_level */
    int z_level;
};

static void *zstd_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return dm_malloc(n);
}

static void zstd_free(void *opaque, void *p)
{
    (void)opaque;
    dm_free(p);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return dm_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    dm_free(p);
}

void dm_codec_cctx_free(struct dm_codec_cctx *ctx)
{
    if (!ctx)
        return;
    ZSTD_freeCCtx(ctx->zstd);
    if (ctx->z_ready)
        deflateEnd(&ctx->z);
    dm_free(ctx);
}

static int compress_zstd(struct dm_codec_cctx *ctx, int level, const void *src, size_t n,
                         void *dst, size_t cap, size_t *out_len, struct dm_error *err)
{
    if (!ctx->zstd) {
        ZSTD_customMem mem = {zstd_alloc, zstd_free, NULL};
        ctx->zstd = ZSTD_createCCtx_advanced(mem);
        if (!ctx->zstd)
            return dm_error_set(err, -ENOMEM, "zstd: out of memory");
    }
    if (level == 0)
        level = ZSTD_CLEVEL_DEFAULT;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return dm_error_set(err, -EINVAL, "zstd: level %d out of range %d..%d", level,
                            ZSTD_minCLevel(), ZSTD_maxCLevel());
    size_t r = ZSTD_compressCCtx(ctx->zstd, dst, cap, src, n, level);
    if (ZSTD_isError(r)) {
        int code = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EINVAL;
        /* A failed allocation inside the context leaves it unusable: start over next time. */
        ZSTD_freeCCtx(ctx->zstd);
        ctx->zstd = NULL;
        return dm_error_set(err, code, "zstd: %s", ZSTD_getErrorName(r));
    }
    *out_len = r;
    return 0;
}

static int compress_gzip(struct dm_codec_cctx *ctx, int level, const void *src, size_t n,
                         void *dst, size_t cap, size_t *out_len, struct dm_error *err)
{
    if (level == 0)
        level = Z_DEFAULT_COMPRESSION;
    if (level != Z_DEFAULT_COMPRESSION && (level < 1 || level > 9))
        return dm_error_set(err, -EINVAL, "gzip: level %d out of range 1..9", level);
    if (ctx->z_ready && ctx->z_level != level) {
        deflateEnd(&ctx->z);
        ctx->z_ready = 0;
    }
    if (!ctx->z_ready) {
        memset(&ctx->z, 0, sizeof(ctx->z));
        ctx->z.zalloc = z_alloc;
        ctx->z.zfree = z_free;
        int zr = deflateInit2(&ctx->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        if (zr != Z_OK)
            return dm_error_set(err, zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL,
                                "gzip: cannot initialise (%d)", zr);
        ctx->z_ready = 1;
        ctx->z_level = level;
    } else if (deflateReset(&ctx->z) != Z_OK) {
        return dm_error_set(err, -EINVAL, "gzip: cannot reset stream");
    }
    /* zlib counts in uInt: feed and drain in slices so any size works. */
    const unsigned char *in = src;
    unsigned char *out = dst;
    size_t in_left = n, out_left = cap;
    int zr;
    do {
        uInt in_now = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt out_now = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        ctx->z.next_in = (Bytef *)(uintptr_t)in;
        ctx->z.avail_in = in_now;
        ctx->z.next_out = out;
        ctx->z.avail_out = out_now;
        zr = deflate(&ctx->z, in_now == in_left ? Z_FINISH : Z_NO_FLUSH);
        size_t used_in = in_now - ctx->z.avail_in, used_out = out_now - ctx->z.avail_out;
        in += used_in;
        in_left -= used_in;
        out += used_out;
        out_left -= used_out;
        if (zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
            deflateEnd(&ctx->z);
            ctx->z_ready = 0;
            return dm_error_set(err, zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL, "gzip: deflate failed");
        }
        if (zr == Z_BUF_ERROR && out_left == 0)
            return dm_error_set(err, -EINVAL, "gzip: output buffer too small");
    } while (zr != Z_STREAM_END);
    *out_len = cap - out_left;
    return 0;
}

static int compress_lz4(int hadoop, int level, const void *src, size_t n, void *dst,
                        size_t cap, size_t *out_len, struct dm_error *err)
{
    size_t hdr = hadoop ? 8 : 0;
    if (n > LZ4_MAX_IN || cap < hdr)
        return dm_error_set(err, -EINVAL, "lz4: input of %zu bytes too large", n);
    size_t room = cap - hdr;
    int dcap = room > (size_t)INT_MAX ? INT_MAX : (int)room;
    char *d = (char *)dst + hdr;
    int r = level >= LZ4HC_CLEVEL_MIN
                ? LZ4_compress_HC(src, d, (int)n, dcap, level > LZ4HC_CLEVEL_MAX ? LZ4HC_CLEVEL_MAX : level)
                : LZ4_compress_default(src, d, (int)n, dcap);
    if (r <= 0 && n > 0)
        return dm_error_set(err, -EINVAL, "lz4: output buffer too small");
    if (hadoop) {
        /* Hadoop framing: big-endian uncompressed size, big-endian compressed size, block. */
        unsigned char *h = dst;
        uint32_t u = (uint32_t)n, c = (uint32_t)r;
        h[0] = (unsigned char)(u >> 24), h[1] = (unsigned char)(u >> 16);
        h[2] = (unsigned char)(u >> 8), h[3] = (unsigned char)u;
        h[4] = (unsigned char)(c >> 24), h[5] = (unsigned char)(c >> 16);
        h[6] = (unsigned char)(c >> 8), h[7] = (unsigned char)c;
    }
    *out_len = hdr + (size_t)r;
    return 0;
}

int dm_codec_compress_ctx(struct dm_codec_cctx **pctx, enum dm_codec c, int level,
                          const void *src, size_t src_len, void *dst, size_t dst_cap,
                          size_t *out_len, struct dm_error *err)
{
    if (!dm_codec_supported(c))
        return dm_error_set(err, -EINVAL, "codec '%s' is not supported for writing",
                            dm_codec_name(c));
    if (dst_cap < dm_codec_bound(c, src_len))
        return dm_error_set(err, -EINVAL, "%s: output capacity %zu below bound %zu",
                            dm_codec_name(c), dst_cap, dm_codec_bound(c, src_len));
    switch (c) {
    case DM_CODEC_NONE:
        if (src_len)
            memcpy(dst, src, src_len);
        *out_len = src_len;
        return 0;
    case DM_CODEC_SNAPPY: {
        size_t len = dst_cap;
        if (snappy_compress(src, src_len, dst, &len) != SNAPPY_OK)
            return dm_error_set(err, -EINVAL, "snappy: compression failed");
        *out_len = len;
        return 0;
    }
    case DM_CODEC_LZ4_RAW:
    case DM_CODEC_LZ4:
        return compress_lz4(c == DM_CODEC_LZ4, level, src, src_len, dst, dst_cap, out_len, err);
    case DM_CODEC_ZSTD:
    case DM_CODEC_GZIP:
        if (!*pctx) {
            *pctx = dm_calloc(1, sizeof(**pctx));
            if (!*pctx)
                return dm_error_set(err, -ENOMEM, "%s: out of memory", dm_codec_name(c));
        }
        return c == DM_CODEC_ZSTD
                   ? compress_zstd(*pctx, level, src, src_len, dst, dst_cap, out_len, err)
                   : compress_gzip(*pctx, level, src, src_len, dst, dst_cap, out_len, err);
    case DM_CODEC_LZO:
    case DM_CODEC_BROTLI: break;
    }
    return dm_error_set(err, -EINVAL, "codec %d is not supported", (int)c);
}

int dm_codec_compress(enum dm_codec c, int level, const void *src, size_t src_len, void *dst,
                      size_t dst_cap, size_t *out_len, struct dm_error *err)
{
    struct dm_codec_cctx *ctx = NULL;
    int rc = dm_codec_compress_ctx(&ctx, c, level, src, src_len, dst, dst_cap, out_len, err);
    dm_codec_cctx_free(ctx);
    return rc;
}
