/* libFuzzer target: an HTTP query string (the part after '?') through the server's parameter
 * parser and every typed accessor the API handlers use: the common filter parameters
 * (q, from, to, min_bytes, ...), integer and enum parameters, sizes and times. Checks: parsed
 * keys and values are NUL-terminated inside the parser's fixed store, no key twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dm_http_params p;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dm_error err;
    memset(&err, 0, sizeof(err));
    if (dm_http_params_parse(&p, (const char *)data, size, &err) == 0) {
        if (p.n > DM_HTTP_MAX_PARAMS || p.used > sizeof(p.store))
            abort();
        const char *lo = p.store, *hi = p.store + sizeof(p.store);
        for (size_t i = 0; i < p.n; i++) {
            const struct dm_http_kv *kv = &p.kv[i];
            if (kv->key < lo || kv->key >= hi || kv->value < lo || kv->value >= hi ||
                kv->value + kv->vlen >= hi || kv->value[kv->vlen] != '\0' || !kv->key[0])
                abort();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(p.kv[j].key, kv->key))
                    abort();
        }
        static const char *const allowed[] = {"q", "from", "to", "limit", "by", "bins", NULL};
        (void)dm_http_params_check(&p, allowed, &err);
        uint64_t u;
        (void)dm_http_param_u64(&p, "limit", 1, DM_HTTP_MAX_LIMIT, 100, &u, &err);
        static const char *const by[] = {"src", "dst", "dport", NULL};
        int e;
        (void)dm_http_param_enum(&p, "by", by, 0, &e, &err);
        struct dm_http_filter f;
        if (dm_http_filter_parse(&p, &f, &err) == 0) {
            if (f.q && (f.q < lo || f.q >= hi))
                abort();
            (void)dm_http_filter_is_empty(&f);
        }
    }
    /* the raw bytes as a size and as a time as well */
    uint64_t v;
    (void)dm_http_parse_size((const char *)data, size, &v);
    int64_t t;
    int date_only;
    (void)dm_http_parse_time((const char *)data, size, &t, &date_only);
    /* and as the header values the server inspects (NUL-terminated, as libmicrohttpd gives) */
    if (size < 4096) {
        char h[4096];
        memcpy(h, data, size);
        h[size] = '\0';
        (void)dm_http_host_allowed(h, 1, 8080);
        (void)dm_http_host_allowed(h, 0, 8080);
        const char *val;
        long n = dm_http_cookie_get(h, "dm_token", &val);
        if (n >= 0 && (val < h || val + n > h + size))
            abort();
        (void)dm_http_accepts_gzip(h);
        (void)dm_http_etag_match(h, "\"abc123\"");
        (void)dm_http_token_equal("0123456789abcdef", h, size);
    }
    return 0;
}
