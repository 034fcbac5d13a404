#include <stdio.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_arena.h"
#include "dm_batch.h"
#include "dm_buf.h"
#include "dm_error.h"
#include "dm_hash.h"
#include "dm_pool.h"
#include "dm_test.h"

static void test_error_set_returns_code(void **state)
{
    (void)state;
    struct dm_error err;
    dm_error_clear(&err);
    assert_int_equal(dm_error_set(&err, DM_EPARSE, "bad '%s'", "x"), DM_EPARSE);
    assert_string_equal(err.msg, "bad 'x'");
    assert_int_equal(dm_error_prefix(&err, "file.json"), DM_EPARSE);
    assert_string_equal(err.msg, "file.json: bad 'x'");
    assert_int_equal(dm_error_set(NULL, -EINVAL, "ignored"), -EINVAL);
    dm_error_set_at(&err, DM_ECORRUPT, 17, 3, "x");
    assert_int_equal(err.offset, 17);
    assert_int_equal(err.line, 3);
}

static void test_error_prefix_truncates(void **state)
{
    (void)state;
    struct dm_error err;
    char longs[600];
    memset(longs, 'a', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    dm_error_set(&err, DM_EPARSE, "%s", longs);
    dm_error_prefix(&err, "p");
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
    assert_memory_equal(err.msg, "p: aaa", 6);
}

static void test_buf_append_and_cap(void **state)
{
    (void)state;
    struct dm_buf b;
    dm_buf_init(&b, 10);
    assert_int_equal(dm_buf_puts(&b, "hello"), 0);
    assert_int_equal(dm_buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(b.data, "hello1234");
    assert_int_equal(dm_buf_puts(&b, "xy"), DM_ETOOBIG);
    assert_string_equal(b.data, "hello1234");
    assert_int_equal(dm_buf_putc(&b, '!'), 0);
    assert_int_equal(b.len, 10);
    dm_buf_release(&b);
}

static void test_buf_printf_long(void **state)
{
    (void)state;
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    char big[1000];
    memset(big, 'z', 999);
    big[999] = 0;
    assert_int_equal(dm_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[1000], '>');
    size_t n;
    char *d = dm_buf_detach(&b, &n);
    assert_int_equal(n, 1001);
    assert_null(b.data);
    dm_free(d);
}

static void test_buf_json_escape(void **state)
{
    (void)state;
    struct dm_buf b;
    dm_buf_init(&b, 1000);
    const char in[] = "a\"b\\c\n<img src=x onerror=alert(1)>\x01\xc3\xa9\xff";
    assert_int_equal(dm_buf_json_str(&b, in, sizeof(in) - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u003cimg src=x onerror=alert(1)\\u003e\\u0001"
                                "\xc3\xa9\\ufffd\"");
    dm_buf_release(&b);
}

static void test_arena(void **state)
{
    (void)state;
    struct dm_arena a;
    dm_arena_init(&a, 128, 4096);
    char *s = dm_arena_strndup(&a, "hello", 5);
    assert_string_equal(s, "hello");
    for (int i = 0; i < 20; i++) {
        void *p = dm_arena_alloc(&a, 100);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
    }
    assert_null(dm_arena_alloc(&a, 8192)); /* over the cap */
    dm_arena_reset(&a);
    assert_non_null(dm_arena_alloc(&a, 64));
    assert_non_null(dm_arena_calloc(&a, 10, 10));
    dm_arena_release(&a);
}

static void test_hmap(void **state)
{
    (void)state;
    struct dm_hmap m;
    dm_hmap_init(&m, 0);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
        struct dm_hmap_entry *e;
        int is_new;
        assert_int_equal(dm_hmap_upsert(&m, key, (size_t)n, &e, &is_new), 0);
        assert_true(is_new);
        e->value = (uint64_t)i;
    }
    assert_int_equal(m.count, 10000);
    for (int i = 0; i < 10000; i += 37) {
        int n = snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
        struct dm_hmap_entry *e = dm_hmap_get(&m, key, (size_t)n);
        assert_non_null(e);
        assert_int_equal(e->value, i);
        assert_int_equal(e - m.entries, i);
    }
    assert_null(dm_hmap_get(&m, "nope", 4));
    struct dm_hmap_entry *e;
    int is_new;
    assert_int_equal(dm_hmap_upsert(&m, "10.0.0.5", 8, &e, &is_new), 0);
    assert_false(is_new);
    assert_int_equal(e->value, 5);
    dm_hmap_release(&m);

    dm_hmap_init(&m, 2);
    assert_int_equal(dm_hmap_upsert(&m, "a", 1, &e, NULL), 0);
    assert_int_equal(dm_hmap_upsert(&m, "b", 1, &e, NULL), 0);
    assert_int_equal(dm_hmap_upsert(&m, "c", 1, &e, NULL), DM_ETOOBIG);
    dm_hmap_release(&m);
}

static void test_hash_stable(void **state)
{
    (void)state;
    assert_int_equal(dm_hash_bytes("abc", 3, 1), dm_hash_bytes("abc", 3, 1));
    assert_int_not_equal(dm_hash_bytes("abc", 3, 1), dm_hash_bytes("abd", 3, 1));
    assert_int_not_equal(dm_hash_bytes("abc", 3, 1), dm_hash_bytes("abc", 3, 2));
    assert_int_not_equal(dm_hash_u64(1), dm_hash_u64(2));
}

static void test_alloc_fail_injection(void **state)
{
    (void)state;
    dm_alloc_fail_at(2, 0);
    void *a = dm_malloc(10);
    void *b = dm_malloc(10);
    void *c = dm_malloc(10);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    dm_free(a);
    dm_free(c);
    dm_alloc_fail_at(1, 1);
    assert_null(dm_malloc(1));
    assert_null(dm_calloc(1, 1));
    dm_alloc_fail_at(0, 0);
    a = dm_calloc(4, 4);
    assert_non_null(a);
    dm_free(a);
    assert_null(dm_calloc(SIZE_MAX / 2, 4));
}

/* Every allocation of a hash-map workload fails in turn: clean error, no leak (ASan). */
static void test_hmap_every_alloc_failure(void **state)
{
    (void)state;
    for (uint64_t n = 1; n < 200; n++) {
        struct dm_hmap m;
        dm_hmap_init(&m, 0);
        dm_alloc_fail_at(n, 0);
        int rc = 0;
        for (int i = 0; i < 300 && !rc; i++) {
            char key[16];
            int len = snprintf(key, sizeof(key), "k%d", i);
            struct dm_hmap_entry *e;
            rc = dm_hmap_upsert(&m, key, (size_t)len, &e, NULL);
        }
        dm_alloc_fail_at(0, 0);
        assert_true(rc == 0 || rc == -ENOMEM);
        dm_hmap_release(&m);
    }
}

struct sum_ctx {
    _Atomic long long sum;
    struct dm_pool *pool;
};

static void add_task(void *ctx, size_t task, unsigned worker)
{
    (void)worker;
    struct sum_ctx *s = ctx;
    atomic_fetch_add(&s->sum, (long long)task);
}

static void nested_task(void *ctx, size_t task, unsigned worker)
{
    (void)task;
    (void)worker;
    struct sum_ctx *s = ctx;
    dm_pool_for(s->pool, 100, add_task, s);
}

static void test_pool(void **state)
{
    (void)state;
    struct dm_pool *pool = dm_pool_new(3);
    assert_non_null(pool);
    assert_int_equal(dm_pool_size(pool), 3);
    for (int round = 0; round < 50; round++) {
        struct sum_ctx s = {.pool = pool};
        dm_pool_for(pool, 1000, add_task, &s);
        assert_int_equal(atomic_load(&s.sum), 999 * 1000 / 2);
    }
    struct sum_ctx s = {.pool = pool};
    dm_pool_for(pool, 20, nested_task, &s);
    assert_int_equal(atomic_load(&s.sum), 20 * (99 * 100 / 2));
    struct dm_pool_job job;
    struct sum_ctx s2 = {.pool = pool};
    dm_pool_submit(pool, &job, 10, add_task, &s2);
    dm_pool_wait(pool, &job);
    assert_int_equal(atomic_load(&s2.sum), 45);
    dm_pool_free(pool);

    struct sum_ctx s3 = {.pool = NULL};
    dm_pool_for(NULL, 10, add_task, &s3);
    assert_int_equal(atomic_load(&s3.sum), 45);
}

static void test_batch_rows(void **state)
{
    (void)state;
    struct dm_batch b;
    const enum dm_vtype types[] = {DM_I64, DM_STR, DM_I32, DM_BOOL, DM_F64};
    assert_int_equal(dm_batch_init(&b, types, 5, 4), 0);
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(dm_batch_reserve(&b, 1), 0);
        dm_batch_set_i64(&b, 0, i);
        if (i % 3) {
            char s[16];
            int n = snprintf(s, sizeof(s), "s%d", i);
            assert_int_equal(dm_batch_set_str(&b, 1, s, (size_t)n), 0);
        }
        if (i % 5 == 0)
            assert_int_equal(dm_batch_set_null(&b, 2), 0);
        else
            dm_batch_set_i32(&b, 2, -i);
        dm_batch_set_bool(&b, 3, i & 1);
        if (i == 7) {
            assert_int_equal(dm_batch_set_str(&b, 1, "dropped", 7), 0);
            dm_batch_abort_row(&b);
            continue;
        }
        assert_int_equal(dm_batch_commit_row(&b), 0);
    }
    assert_int_equal(b.nrows, 2999);
    size_t len;
    const char *s = dm_col_str(&b.cols[1], 1, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "s1", 2);
    assert_true(dm_col_is_null(&b.cols[1], 0));
    assert_true(dm_col_is_null(&b.cols[2], 0));
    assert_false(dm_col_is_null(&b.cols[2], 1));
    assert_int_equal(b.cols[2].v.i32[1], -1);
    assert_true(dm_col_is_null(&b.cols[4], 5)); /* never set */
    /* row 7 was aborted: row index 7 now holds input 8 */
    assert_int_equal(b.cols[0].v.i64[7], 8);
    s = dm_col_str(&b.cols[1], 7, &len);
    assert_memory_equal(s, "s8", 2);
    dm_batch_clear(&b);
    assert_int_equal(b.nrows, 0);
    assert_null(b.cols[1].valid);
    dm_batch_release(&b);
}

/* A string column holding only empty strings never allocates bytes; reading it must not do
 * pointer arithmetic on NULL (UBSan; found by fuzz_pq_roundtrip). */
static void test_batch_empty_strings(void **state)
{
    (void)state;
    struct dm_batch b;
    const enum dm_vtype types[] = {DM_STR};
    assert_int_equal(dm_batch_init(&b, types, 1, 4), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dm_batch_reserve(&b, 1), 0);
        assert_int_equal(dm_batch_set_str(&b, 0, "", 0), 0);
        assert_int_equal(dm_batch_commit_row(&b), 0);
    }
    for (size_t r = 0; r < 3; r++) {
        size_t len = 99;
        const char *s = dm_col_str(&b.cols[0], r, &len);
        assert_non_null(s);
        assert_int_equal(len, 0);
        assert_false(dm_col_is_null(&b.cols[0], r));
    }
    dm_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_set_returns_code),
        cmocka_unit_test(test_error_prefix_truncates),
        cmocka_unit_test(test_buf_append_and_cap),
        cmocka_unit_test(test_buf_printf_long),
        cmocka_unit_test(test_buf_json_escape),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_hmap),
        cmocka_unit_test(test_hash_stable),
        cmocka_unit_test(test_alloc_fail_injection),
        cmocka_unit_test(test_hmap_every_alloc_failure),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_batch_rows),
        cmocka_unit_test(test_batch_empty_strings),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
