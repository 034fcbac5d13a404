/* A small hand-built flow table shared by the engine unit tests. Column "id" holds the row's
 * number in the list below (rows are appended out of time order on purpose, so the table's
 * stable ts sort is exercised); column "user" is a string extra. */
#ifndef ENGINE_FIXTURE_H
#define ENGINE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_engine.h"
#include "dm_pool.h"

#define T0 1709287200000000LL /* 2024-03-01T10:00:00Z */
#define MIN 60000000LL

struct fx {
    struct dm_config cfg;
    struct dm_pool *pool;
    struct dm_table *t;
    int id_col, user_col;
};

static const char *const fx_config =
    "{\"known_servers\": {\"10.0.0.5\": \"DBSRV1\", \"10.0.0.6\": \"MAILSRV\", "
    "\"192.168.9.0/24\": \"lab\"}}";

struct fx_row {
    int64_t ts;
    const char *src, *dst;
    int sport, dport, proto;
    int64_t sent, recv, packets;
    const char *action;
    int64_t dur;
    const char *user;
};

/* id: ts offset, src, dst, sport, dport, proto, sent, recv, packets, action, duration, user */
static const struct fx_row fx_rows[] = {
    {0, "10.0.0.1", "8.8.8.8", 50000, 53, 17, 100, 200, 2, "allow", 10, "alice"},
    {5 * MIN, "10.0.0.1", "1.2.3.4", 50001, 443, 6, 5000000, 1000, 50, "allow", 2000, "alice"},
    {10 * MIN, "10.0.0.2", "1.2.3.4", 50002, 443, 6, 2048, 4096, 10, "deny", 0, "bob"},
    {15 * MIN, "192.168.1.7", "10.0.0.5", 40000, 5432, 6, 700, 90000, 30, "allow", 500, NULL},
    {60 * MIN, "2001:db8::1", "10.0.0.6", 40001, 25, 6, 3000, 100, 8, "drop", 100, NULL},
    {90 * MIN, "10.0.0.1", "2001:db8::1", 50003, 22, 6, 1000000000, 5000, 1000, "allow", 60000,
     NULL},
    {120 * MIN, "172.32.0.1", "10.0.0.2", 12345, 80, 6, 10, 20, 1, "deny", 1, NULL},
    {120 * MIN, "10.0.0.2", "172.16.5.5", 33333, 80, 6, 0, 0, -1, NULL, -1, NULL},
    {180 * MIN, "10.0.0.3", "8.8.8.8", -1, -1, 1, 64, 64, 2, "allow", -1, NULL},
    {839 * MIN + 59500000LL, "fe80::1", "ff02::1", 546, 547, 17, 150, -1, 1, "allow", 0, NULL},
};
#define FX_N (sizeof(fx_rows) / sizeof(fx_rows[0]))

/* Appends in the order 9, 8, ..., 0 except that rows 6 and 7 (same ts) stay in order. */
static inline int fx_open(struct fx *f, unsigned threads)
{
    memset(f, 0, sizeof(*f));
    if (dm_config_init(&f->cfg) || dm_config_parse(&f->cfg, fx_config, strlen(fx_config), NULL))
        return -1;
    f->pool = threads ? dm_pool_new(threads) : NULL;
    if (dm_table_new(&f->t, &f->cfg, f->pool, ~0u))
        return -1;
    if (dm_table_add_extra(f->t, "id", DM_CK_UINT) || dm_table_add_extra(f->t, "user", DM_CK_DICT))
        return -1;
    static const int order[] = {9, 8, 6, 7, 5, 4, 3, 2, 1, 0};
    for (size_t k = 0; k < FX_N; k++) {
        const struct fx_row *r = &fx_rows[order[k]];
        struct dm_value x[2] = {{.i = order[k]}, {.null = r->user == NULL, .s = r->user}};
        struct dm_flow fl = {T0 + r->ts, r->src, r->dst, r->sport, r->dport, r->proto, r->sent,
                             r->recv, r->packets, r->dur, r->action, x};
        if (dm_table_append(f->t, &fl))
            return -1;
    }
    if (dm_table_finish(f->t, NULL))
        return -1;
    f->id_col = dm_table_column(f->t, "id", 2);
    f->user_col = dm_table_column(f->t, "user", 4);
    return 0;
}

static inline void fx_close(struct fx *f)
{
    dm_table_free(f->t);
    dm_pool_free(f->pool);
    dm_config_release(&f->cfg);
}

/* The "id" of table row `row`. */
static inline unsigned fx_id(const struct fx *f, size_t row)
{
    return (unsigned)dm_col_u64(&f->t->cols[f->id_col], row);
}

#endif
