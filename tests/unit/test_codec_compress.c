/* Compression side of src/codec: names, bounds, and every codec's output checked with the
 * codec library's own decoder (independent of decompress.c) and with dm_codec_decompress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "dm_alloc.h"
#include "dm_codec.h"
#include "dm_test.h"

static const enum dm_codec writable[] = {DM_CODEC_NONE, DM_CODEC_SNAPPY, DM_CODEC_GZIP,
                                         DM_CODEC_ZSTD, DM_CODEC_LZ4_RAW, DM_CODEC_LZ4};
#define NWRITABLE (sizeof(writable) / sizeof(writable[0]))

static void test_names(void **state)
{
    (void)state;
    enum dm_codec c;
    for (size_t i = 0; i < NWRITABLE; i++) {
        assert_int_equal(dm_codec_from_name(dm_codec_name(writable[i]), &c), 0);
        assert_int_equal(c, writable[i]);
    }
    assert_string_equal(dm_codec_name(DM_CODEC_ZSTD), "zstd");
    assert_string_equal(dm_codec_name(DM_CODEC_LZ4_RAW), "lz4_raw");
    assert_string_equal(dm_codec_name((enum dm_codec)99), "unknown");
    assert_int_equal(dm_codec_from_name("UNCOMPRESSED", &c), 0);
    assert_int_equal(c, DM_CODEC_NONE);
    assert_int_equal(dm_codec_from_name("Snappy", &c), 0);
    assert_int_equal(c, DM_CODEC_SNAPPY);
    assert_int_equal(dm_codec_from_name("zst", &c), 0);
    assert_int_equal(c, DM_CODEC_ZSTD);
    assert_int_equal(dm_codec_from_name("", &c), -EINVAL);
    assert_int_equal(dm_codec_from_name("zstdx", &c), -EINVAL);
    assert_int_equal(dm_codec_from_name(NULL, &c), -EINVAL);
}

static void test_supported(void **state)
{
    (void)state;
    for (size_t i = 0; i < NWRITABLE; i++)
        assert_true(dm_codec_supported(writable[i]));
    assert_false(dm_codec_supported(DM_CODEC_LZO));
    assert_false(dm_codec_supported(DM_CODEC_BROTLI));
    assert_false(dm_codec_supported((enum dm_codec)42));
    assert_int_equal(dm_codec_bound(DM_CODEC_LZO, 100), 0);
    char out[64];
    size_t n;
    struct dm_error err;
    assert_int_equal(dm_codec_compress(DM_CODEC_BROTLI, 0, "x", 1, out, sizeof(out), &n, &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "brotli"));
}

/* Decodes with the codec library directly; returns the decoded size or -1. */
static long ref_decode(enum dm_codec c, const unsigned char *src, size_t n, unsigned char *dst,
                       size_t cap)
{
    switch (c) {
    case DM_CODEC_NONE:
        if (n > cap)
            return -1;
        memcpy(dst, src, n);
        return (long)n;
    case DM_CODEC_SNAPPY: {
        size_t len = cap;
        return snappy_uncompress((const char *)src, n, (char *)dst, &len) == SNAPPY_OK
                   ? (long)len
                   : -1;
    }
    case DM_CODEC_GZIP: {
        if (n < 10 || src[0] != 0x1f || src[1] != 0x8b)
            return -1; /* must carry a gzip header, not zlib / raw deflate */
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 15 + 16) != Z_OK)
            return -1;
        z.next_in = (Bytef *)(uintptr_t)src;
        z.avail_in = (uInt)n;
        z.next_out = dst;
        z.avail_out = (uInt)cap;
        int r = inflate(&z, Z_FINISH);
        long out = r == Z_STREAM_END && z.avail_in == 0 ? (long)z.total_out : -1;
        inflateEnd(&z);
        return out;
    }
    case DM_CODEC_ZSTD: {
        size_t r = ZSTD_decompress(dst, cap, src, n);
        return ZSTD_isError(r) ? -1 : (long)r;
    }
    case DM_CODEC_LZ4_RAW:
        return LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)cap);
    case DM_CODEC_LZ4: {
        if (n < 8)
            return -1;
        uint32_t u = (uint32_t)src[0] << 24 | (uint32_t)src[1] << 16 | (uint32_t)src[2] << 8 | src[3];
        uint32_t cl = (uint32_t)src[4] << 24 | (uint32_t)src[5] << 16 | (uint32_t)src[6] << 8 | src[7];
        if (cl != n - 8)
            return -1;
        int r = LZ4_decompress_safe((const char *)src + 8, (char *)dst, (int)cl, (int)cap);
        return r == (int)u ? r : -1;
    }
    default: return -1;
    }
}

static void fill(unsigned char *p, size_t n, int kind)
{
    uint64_t s = 0x1234567;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = kind == 0 ? (unsigned char)(s >> 56)                       /* random */
               : kind == 1 ? (unsigned char)("flow,allow,10.0.0.1;"[i % 20]) /* repetitive */
                           : (unsigned char)((i / 1000) & 0xff);            /* long runs */
    }
}

static void roundtrip(enum dm_codec c, int level, size_t n, int kind)
{
    unsigned char *src = malloc(n ? n : 1);
    fill(src, n, kind);
    size_t bound = dm_codec_bound(c, n);
    assert_true(bound >= (c == DM_CODEC_NONE ? n : 1));
    unsigned char *dst = malloc(bound);
    size_t clen = 0;
    struct dm_error err;
    dm_error_clear(&err);
    int rc = dm_codec_compress(c, level, src, n, dst, bound, &clen, &err);
    if (rc)
        fprintf(stderr, "# %s: %s\n", dm_codec_name(c), err.msg);
    assert_int_equal(rc, 0);
    assert_true(clen <= bound);
    if (kind == 1 && n >= 4096 && c != DM_CODEC_NONE)
        assert_true(clen < n / 4); /* really compressed */
    unsigned char *back = malloc(n + 16);
    long dn = ref_decode(c, dst, clen, back, n + 16);
    assert_int_equal(dn, (long)n);
    assert_memory_equal(back, src, n ? n : 0);
    /* And through our own decoder. */
    memset(back, 0xAA, n + 16);
    rc = dm_codec_decompress(c, dst, clen, back, n, &err);
    if (rc)
        fprintf(stderr, "# %s decompress: %s\n", dm_codec_name(c), err.msg);
    assert_int_equal(rc, 0);
    if (n)
        assert_memory_equal(back, src, n);
    free(src);
    free(dst);
    free(back);
}

static void test_roundtrip_all(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 7, 100, 4096, 65537, 1 << 20};
    for (size_t i = 0; i < NWRITABLE; i++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
            for (int kind = 0; kind < 3; kind++)
                roundtrip(writable[i], 0, sizes[s], kind);
}

static void test_levels(void **state)
{
    (void)state;
    roundtrip(DM_CODEC_ZSTD, 1, 100000, 1);
    roundtrip(DM_CODEC_ZSTD, 19, 100000, 1);
    roundtrip(DM_CODEC_ZSTD, -5, 100000, 1);
    roundtrip(DM_CODEC_GZIP, 1, 100000, 1);
    roundtrip(DM_CODEC_GZIP, 9, 100000, 1);
    roundtrip(DM_CODEC_LZ4_RAW, 9, 100000, 1); /* HC */
    roundtrip(DM_CODEC_LZ4, 12, 100000, 2);
    char src[100] = {0}, dst[1024];
    size_t n;
    assert_int_equal(dm_codec_compress(DM_CODEC_ZSTD, 1000, src, sizeof(src), dst, sizeof(dst),
                                       &n, NULL),
                     -EINVAL);
    assert_int_equal(dm_codec_compress(DM_CODEC_GZIP, 10, src, sizeof(src), dst, sizeof(dst),
                                       &n, NULL),
                     -EINVAL);
}

static void test_capacity_below_bound(void **state)
{
    (void)state;
    char src[1000] = {0}, dst[1000];
    size_t n;
    struct dm_error err;
    for (size_t i = 1; i < NWRITABLE; i++) {
        size_t b = dm_codec_bound(writable[i], sizeof(src));
        assert_true(b > sizeof(dst));
        assert_int_equal(dm_codec_compress(writable[i], 0, src, sizeof(src), dst, sizeof(dst),
                                           &n, &err),
                         -EINVAL);
        assert_non_null(strstr(err.msg, "bound"));
    }
}

static void test_ctx_reuse(void **state)
{
    (void)state;
    struct dm_codec_cctx *ctx = NULL;
    unsigned char src[50000], dst[60000], back[50000];
    for (int round = 0; round < 6; round++) {
        enum dm_codec c = round % 2 ? DM_CODEC_GZIP : DM_CODEC_ZSTD;
        fill(src, sizeof(src), round % 3);
        size_t n;
        assert_int_equal(dm_codec_compress_ctx(&ctx, c, round == 4 ? 5 : 0, src, sizeof(src), dst,
                                               sizeof(dst), &n, NULL),
                         0);
        assert_non_null(ctx);
        assert_int_equal(ref_decode(c, dst, n, back, sizeof(back)), (long)sizeof(src));
        assert_memory_equal(back, src, sizeof(src));
    }
    dm_codec_cctx_free(ctx);
    dm_codec_cctx_free(NULL);
}

/* The Nth allocation fails inside zstd / zlib: -ENOMEM, no leak (LSan), context reusable. */
static void test_alloc_failure(void **state)
{
    (void)state;
    static const enum dm_codec cs[] = {DM_CODEC_ZSTD, DM_CODEC_GZIP};
    unsigned char src[20000], dst[30000], back[20000];
    fill(src, sizeof(src), 1);
    for (size_t k = 0; k < 2; k++) {
        dm_alloc_fail_at(0, 0);
        size_t n;
        assert_int_equal(dm_codec_compress(cs[k], 0, src, sizeof(src), dst, sizeof(dst), &n, NULL), 0);
        uint64_t total = dm_alloc_count();
        assert_true(total >= 2);
        for (uint64_t f = 1; f <= total; f++) {
            dm_alloc_fail_at(f, 1);
            int rc = dm_codec_compress(cs[k], 0, src, sizeof(src), dst, sizeof(dst), &n, NULL);
            dm_alloc_fail_at(0, 0);
            assert_int_equal(rc, -ENOMEM);
        }
        /* A context that failed once works again afterwards. */
        struct dm_codec_cctx *ctx = NULL;
        dm_alloc_fail_at(2, 0);
        int rc = dm_codec_compress_ctx(&ctx, cs[k], 0, src, sizeof(src), dst, sizeof(dst), &n, NULL);
        dm_alloc_fail_at(0, 0);
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(dm_codec_compress_ctx(&ctx, cs[k], 0, src, sizeof(src), dst, sizeof(dst),
                                               &n, NULL),
                         0);
        assert_int_equal(ref_decode(cs[k], dst, n, back, sizeof(back)), (long)sizeof(src));
        dm_codec_cctx_free(ctx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_supported),
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_capacity_below_bound),
        cmocka_unit_test(test_ctx_reuse),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
