/* libFuzzer target: one JSON-lines record through the ingest scanner with the Suricata and
 * ECS key sets (nested paths), then through coercion into a batch row. Every extracted
 * slice must lie inside the input; strings are unescaped into a buffer of their own size
 * (the scanner's bound) and must come out valid UTF-8. Also exercises key discovery and
 * the configuration document parser on the same bytes, and checks that the key-order cache
 * gives the same results as a plain extraction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *p, size_t n, const char *preset)
{
    struct dm_ingest_map *m;
    if (dm_ingest_map_preset(&m, preset, NULL))
        return;
    struct dm__val v[DM_MAP_MAX_FIELDS];
    memset(v, 0, sizeof(v));
    size_t ep = 0;
    int rc = dm__json_extract(p, n, &m->keys, v, &ep);
    if (rc && ep > n)
        abort();
    /* The key-order cache must not change any result: primed by another record (the
     * second half of the input), then by this one (every key predicted). */
    static struct dm__keycache kc;
    memset(&kc, 0, sizeof(kc)); /* m is new: its key set may reuse a freed one's address */
    struct dm__val w[DM_MAP_MAX_FIELDS];
    size_t ep2 = 0;
    memset(w, 0, sizeof(w));
    (void)dm__json_extract_cached(p + n / 2, n - n / 2, &m->keys, w, &kc, &ep2);
    for (int pass = 0; pass < 2; pass++) {
        memset(w, 0, sizeof(w));
        ep2 = 0;
        int rc2 = dm__json_extract_cached(p, n, &m->keys, w, &kc, &ep2);
        if (rc2 != rc || (rc && ep2 != ep) || (!rc && memcmp(v, w, sizeof(v)) != 0))
            abort();
    }
    if (rc == 0) {
        for (size_t i = 0; i < m->nfields; i++) {
            if (v[i].kind == DM_V_NONE)
                continue;
            if (v[i].p < p || v[i].p + v[i].n > p + n)
                abort();
            if (v[i].kind == DM_V_STR) {
                char *out = malloc(v[i].n + 1);
                if (!out)
                    abort();
                size_t k = dm__json_unescape(v[i].p, v[i].n, out);
                if (k > v[i].n || !dm__utf8_valid(out, k))
                    abort();
                free(out);
            }
        }
        struct dm_batch b;
        enum dm_vtype t[DM_MAP_MAX_COLS];
        for (size_t i = 0; i < m->ncols; i++)
            t[i] = (i == DM_C_SRC_IP || i == DM_C_DST_IP || i == DM_C_ACTION) ? DM_STR
                   : (i == DM_C_SRC_PORT || i == DM_C_DST_PORT || i == DM_C_PROTO) ? DM_I32
                                                                                    : DM_I64;
        if (dm_batch_init(&b, t, m->ncols, 4) == 0) {
            struct dm__coerce c;
            memset(&c, 0, sizeof(c));
            c.map = m;
            c.scratch_cap = n + 64;
            c.scratch = dm_malloc(c.scratch_cap);
            if (c.scratch)
                (void)dm__coerce_row(&c, v, &b);
            dm_free(c.scratch);
            dm_batch_release(&b);
        }
    }
    dm_ingest_map_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    /* An exact-size heap copy so any over-read past the record is caught. */
    char *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    one(p, size, "suricata");
    one(p, size, "ecs");
    one(p, size, "zeek");
    struct dm_buf keys;
    dm_buf_init(&keys, 1 << 20);
    (void)dm__json_keys(p, size, &keys);
    dm_buf_release(&keys);
    struct dm__jnode *doc = dm__jdoc_parse(p, size, NULL);
    dm__jdoc_free(doc);
    enum dm_in_format f;
    const char *preset;
    (void)dm_ingest_detect(p, size, &f, &preset, NULL);
    free(p);
    return 0;
}
