/* dm_codec_decompress: every codec, exact size checks, concatenated gzip members, Hadoop LZ4
 * framing and its raw-block fallback, and hostile inputs that must fail without writing past
 * the destination (ASan checks the bounds: destinations are exact-size heap blocks). */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include "dm_alloc.h"
#include "dm_codec.h"
#include "dm_test.h"

#define N 5000

static unsigned char *sample(size_t n)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        p[i] = (unsigned char)("abcdefgh"[(x >> 16) & 7] + (i % 97 == 0));
    }
    return p;
}

/* Compresses with the project's compressor (codec.c); returns a malloc'd block. */
static unsigned char *pack(enum dm_codec c, const unsigned char *src, size_t n, size_t *out)
{
    size_t cap = dm_codec_bound(c, n);
    unsigned char *dst = malloc(cap ? cap : 1);
    assert_non_null(dst);
    assert_int_equal(dm_codec_compress(c, 0, src, n, dst, cap, out, NULL), 0);
    return dst;
}

static void roundtrip(enum dm_codec c)
{
    unsigned char *src = sample(N);
    size_t clen;
    unsigned char *comp = pack(c, src, N, &clen);
    unsigned char *dst = malloc(N);
    struct dm_error err;
    dm_error_clear(&err);
    assert_int_equal(dm_codec_decompress(c, comp, clen, dst, N, &err), 0);
    assert_memory_equal(dst, src, N);
    /* a destination one byte short or long is an exact-size error, not an overflow */
    unsigned char *small = malloc(N - 1);
    assert_int_equal(dm_codec_decompress(c, comp, clen, small, N - 1, &err), DM_ECORRUPT);
    unsigned char *big = malloc(N + 1);
    assert_int_equal(dm_codec_decompress(c, comp, clen, big, N + 1, &err), DM_ECORRUPT);
    assert_true(err.msg[0] != 0);
    /* truncated input */
    if (c != DM_CODEC_NONE)
        assert_int_not_equal(dm_codec_decompress(c, comp, clen / 2, dst, N, NULL), 0);
    free(small);
    free(big);
    free(dst);
    free(comp);
    free(src);
}

static void test_none(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_NONE);
    char d[1];
    assert_int_equal(dm_codec_decompress(DM_CODEC_NONE, "", 0, d, 0, NULL), 0);
}

static void test_snappy(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_SNAPPY);
}

static void test_zstd(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_ZSTD);
    /* two frames back to back decode as one stream */
    unsigned char *src = sample(N);
    size_t cap = ZSTD_compressBound(N);
    unsigned char *two = malloc(2 * cap);
    size_t a = ZSTD_compress(two, cap, src, N / 2, 1);
    size_t b = ZSTD_compress(two + a, cap, src + N / 2, N - N / 2, 1);
    assert_false(ZSTD_isError(a) || ZSTD_isError(b));
    unsigned char *dst = malloc(N);
    assert_int_equal(dm_codec_decompress(DM_CODEC_ZSTD, two, a + b, dst, N, NULL), 0);
    assert_memory_equal(dst, src, N);
    /* an empty frame decompresses to 0 bytes (page_v2_empty_compressed) */
    size_t e = ZSTD_compress(two, cap, "", 0, 1);
    assert_int_equal(dm_codec_decompress(DM_CODEC_ZSTD, two, e, dst, 0, NULL), 0);
    free(dst);
    free(two);
    free(src);
}

static size_t gzip_member(const unsigned char *src, size_t n, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)src;
    z.avail_in = (unsigned)n;
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static void test_gzip(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_GZIP);
    unsigned char *src = sample(N);
    size_t cap = 2 * N + 256;
    unsigned char *gz = malloc(cap);
    size_t a = gzip_member(src, 1000, gz, cap);
    size_t b = gzip_member(src + 1000, N - 1000, gz + a, cap - a);
    unsigned char *dst = malloc(N);
    struct dm_error err;
    assert_int_equal(dm_codec_decompress(DM_CODEC_GZIP, gz, a + b, dst, N, &err), 0);
    assert_memory_equal(dst, src, N);
    /* zero padding after the last member is tolerated */
    memset(gz + a + b, 0, 8);
    assert_int_equal(dm_codec_decompress(DM_CODEC_GZIP, gz, a + b + 8, dst, N, &err), 0);
    /* garbage after the last member is not */
    memcpy(gz + a + b, "garbage!", 8);
    assert_int_equal(dm_codec_decompress(DM_CODEC_GZIP, gz, a + b + 8, dst, N, &err),
                     DM_ECORRUPT);
    /* only the first member: too few bytes */
    assert_int_equal(dm_codec_decompress(DM_CODEC_GZIP, gz, a, dst, N, &err), DM_ECORRUPT);
    assert_non_null(strstr(err.msg, "expected"));
    /* corrupt deflate data */
    gz[20] ^= 0xff;
    gz[21] ^= 0xff;
    assert_int_equal(dm_codec_decompress(DM_CODEC_GZIP, gz, a + b, dst, N, &err), DM_ECORRUPT);
    free(dst);
    free(gz);
    free(src);
}

static void test_lz4_raw(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_LZ4_RAW);
    char junk[16];
    memset(junk, 0xff, sizeof(junk));
    char dst[64];
    assert_int_equal(dm_codec_decompress(DM_CODEC_LZ4_RAW, junk, sizeof(junk), dst, 64, NULL),
                     DM_ECORRUPT);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void test_lz4_hadoop(void **s)
{
    (void)s;
    roundtrip(DM_CODEC_LZ4);
    unsigned char *src = sample(N);
    size_t cap = 2 * (size_t)LZ4_compressBound(N) + 64;
    unsigned char *h = malloc(cap);
    /* two Hadoop blocks */
    size_t pos = 0;
    size_t parts[2] = {3000, N - 3000};
    size_t off = 0;
    for (int k = 0; k < 2; k++) {
        int c = LZ4_compress_default((const char *)src + off, (char *)h + pos + 8,
                                     (int)parts[k], (int)(cap - pos - 8));
        assert_true(c > 0);
        put_be32(h + pos, (uint32_t)parts[k]);
        put_be32(h + pos + 4, (uint32_t)c);
        pos += 8 + (size_t)c;
        off += parts[k];
    }
    unsigned char *dst = malloc(N);
    assert_int_equal(dm_codec_decompress(DM_CODEC_LZ4, h, pos, dst, N, NULL), 0);
    assert_memory_equal(dst, src, N);
    /* a raw block (no framing) falls back */
    int c = LZ4_compress_default((const char *)src, (char *)h, N, (int)cap);
    assert_int_equal(dm_codec_decompress(DM_CODEC_LZ4, h, (size_t)c, dst, N, NULL), 0);
    assert_memory_equal(dst, src, N);
    /* framing that lies about sizes, then not a valid raw block either */
    memset(h, 0, 16);
    put_be32(h, 100000);
    put_be32(h + 4, 4);
    assert_int_equal(dm_codec_decompress(DM_CODEC_LZ4, h, 12, dst, N, NULL), DM_ECORRUPT);
    free(dst);
    free(h);
    free(src);
}

static void test_unsupported(void **s)
{
    (void)s;
    char d[4];
    struct dm_error err;
    assert_int_equal(dm_codec_decompress(DM_CODEC_BROTLI, "abcd", 4, d, 4, &err),
                     DM_EUNSUPPORTED);
    assert_int_equal(dm_codec_decompress(DM_CODEC_LZO, "abcd", 4, d, 4, &err), DM_EUNSUPPORTED);
    assert_int_equal(dm_codec_decompress((enum dm_codec)77, "abcd", 4, d, 4, &err),
                     DM_EUNSUPPORTED);
    assert_int_equal(dm_codec_decompress(DM_CODEC_SNAPPY, "\xff\xff\xff\xff\xff", 5, d, 4, &err),
                     DM_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),      cmocka_unit_test(test_snappy),
        cmocka_unit_test(test_zstd),      cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_lz4_raw),   cmocka_unit_test(test_lz4_hadoop),
        cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
