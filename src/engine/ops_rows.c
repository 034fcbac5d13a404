/* rows (filter, sort, page, total) and summary. */
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "engine_int.h"
#include "banned.h"

#define HEAP_MAX 65536 /* offset + limit above this: collect every match and sort */

/* A sort item: nulls last, then key (already direction-adjusted), then row (ts order). */
struct item {
    uint64_t key;
    uint32_t row;
    uint32_t null;
};

static inline int item_less(const struct item *a, const struct item *b)
{
    if (a->null != b->null)
        return a->null < b->null;
    if (a->key != b->key)
        return a->key < b->key;
    return a->row < b->row;
}

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    return item_less(x, y) ? -1 : item_less(y, x) ? 1 : 0;
}

struct sortkey {
    const struct dm_table *t;
    int col;
    int desc;
    uint32_t *dict_rank; /* DICT: rank of each id in string order */
};

static uint64_t f64_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

static inline void key_of(const struct sortkey *k, size_t row, struct item *it)
{
    const struct dm_table *t = k->t;
    uint64_t v = 0;
    int present = 1;
    if (k->col == DM_COL_BYTES) {
        const struct dm_column *s = &t->cols[DM_C_SENT], *r = &t->cols[DM_C_RECV];
        int ps = dm_col_present(s, row), pr = dm_col_present(r, row);
        present = ps | pr;
        v = (ps ? dm_col_u64(s, row) : 0) + (pr ? dm_col_u64(r, row) : 0);
    } else {
        const struct dm_column *c = &t->cols[k->col];
        present = dm_col_present(c, row);
        if (present) {
            switch (c->kind) {
            case DM_CK_UINT: v = dm_col_u64(c, row); break;
            case DM_CK_INT: v = (uint64_t)dm_col_i64(c, row) ^ ((uint64_t)1 << 63); break;
            case DM_CK_F64: v = f64_key(dm_col_f64(c, row)); break;
            case DM_CK_DICT: v = k->dict_rank[dm_col_u64(c, row)]; break;
            case DM_CK_IP: {
                uint32_t id = ((const uint32_t *)c->v)[row];
                present = id != 0;
                v = t->ips.rank[id];
                break;
            }
            }
        }
    }
    it->key = k->desc ? ~v : v;
    it->null = !present;
    it->row = (uint32_t)row;
}

static int dict_cmp(const void *a, const void *b, void *ctx)
{
    const struct dm_dict *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t n = d->len[x] < d->len[y] ? d->len[x] : d->len[y];
    int c = memcmp(d->s[x], d->s[y], n);
    if (c)
        return c;
    return d->len[x] < d->len[y] ? -1 : d->len[x] > d->len[y];
}

uint32_t *dm__dict_rank(const struct dm_dict *d)
{
    size_t n = d->n ? d->n : 1;
    uint32_t *ord = dm_malloc(n * sizeof(*ord));
    uint32_t *rank = dm_malloc(n * sizeof(*rank));
    if (!ord || !rank) {
        dm_free(ord);
        dm_free(rank);
        return NULL;
    }
    for (size_t i = 0; i < d->n; i++)
        ord[i] = (uint32_t)i;
    qsort_r(ord, d->n, sizeof(*ord), dict_cmp, (void *)d);
    for (size_t i = 0; i < d->n; i++)
        rank[ord[i]] = (uint32_t)i;
    dm_free(ord);
    return rank;
}

/* ---- max-heap of the K smallest items ---- */

struct heap {
    struct item *v;
    size_t n, k;
};

static void heap_push(struct heap *h, const struct item *it)
{
    if (h->n == h->k) {
        if (!item_less(it, &h->v[0]))
            return;
        /* replace the root and sift down */
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            const struct item *cur = m == i ? it : &h->v[m];
            if (l < h->n && item_less(cur, &h->v[l]))
                m = l, cur = &h->v[l];
            if (r < h->n && item_less(cur, &h->v[r]))
                m = r;
            if (m == i)
                break;
            h->v[i] = h->v[m];
            i = m;
        }
        h->v[i] = *it;
        return;
    }
    size_t i = h->n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!item_less(&h->v[p], it))
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = *it;
}

struct rows_ctx {
    struct sortkey key;
    struct heap *heaps; /* per slot */
    _Atomic uint64_t total;
    /* collect-all mode */
    struct item **all;
    size_t *nall, *capall;
    int oom;
};

static void rows_count(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    (void)sel;
    (void)slot;
    struct rows_ctx *c = p;
    c->total += n;
}

static void rows_heap(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct rows_ctx *c = p;
    struct heap *h = &c->heaps[slot];
    c->total += n;
    for (size_t i = 0; i < n; i++) {
        struct item it;
        key_of(&c->key, sel[i], &it);
        heap_push(h, &it);
    }
}

static void rows_all(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct rows_ctx *c = p;
    c->total += n;
    if (c->nall[slot] + n > c->capall[slot]) {
        size_t nc = (c->nall[slot] + n) * 2;
        struct item *v = dm_reallocarray(c->all[slot], nc, sizeof(*v));
        if (!v) {
            c->oom = 1;
            return;
        }
        c->all[slot] = v;
        c->capall[slot] = nc;
    }
    for (size_t i = 0; i < n; i++)
        key_of(&c->key, sel[i], &c->all[slot][c->nall[slot]++]);
}

/* Page of a ts-ordered result: walk morsels from the start (or the end) until offset + limit
 * rows are found. */
static int rows_by_ts(const struct dm_table *t, const struct dm_rows_req *q, uint64_t limit,
                      struct dm_rows_res *r)
{
    size_t begin = 0, end = t->nrows;
    if (q->filter)
        dm_filter_rows(q->filter, &begin, &end);
    size_t want = q->offset + limit;
    uint32_t *sel = dm_malloc(DM_MORSEL * sizeof(*sel));
    void *scratch = dm_malloc(dm_filter_scratch_size(q->filter));
    r->rows = dm_malloc((limit ? limit : 1) * sizeof(*r->rows));
    if (!sel || !scratch || !r->rows) {
        dm_free(sel);
        dm_free(scratch);
        return -ENOMEM;
    }
    uint64_t seen = 0;
    size_t nm = (end - begin + DM_MORSEL - 1) / DM_MORSEL;
    for (size_t m = 0; m < nm && seen < want; m++) {
        size_t mi = q->desc ? nm - 1 - m : m;
        size_t b = begin + mi * DM_MORSEL;
        size_t n = end - b < DM_MORSEL ? end - b : DM_MORSEL;
        size_t k = dm_filter_eval(q->filter, b, n, sel, scratch);
        for (size_t i = 0; i < k && seen < want; i++, seen++) {
            uint32_t row = q->desc ? sel[k - 1 - i] : sel[i];
            if (seen >= q->offset)
                r->rows[r->n++] = row;
        }
    }
    dm_free(sel);
    dm_free(scratch);
    return 0;
}

int dm_rows(const struct dm_table *t, const struct dm_rows_req *q, struct dm_rows_res *r,
            struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    uint64_t limit = q->limit && q->limit < DM_ROWS_MAX ? q->limit : DM_ROWS_MAX;
    int col = q->sort_col;
    if (col != DM_COL_BYTES && (col < 0 || (size_t)col >= t->ncols))
        return dm_error_set(err, -EINVAL, "bad sort column %d", col);
    struct rows_ctx c;
    memset(&c, 0, sizeof(c));
    c.key.t = t;
    c.key.col = col;
    c.key.desc = q->desc;
    int rc;
    if (col == DM_C_TS) {
        /* total: the range length when the filter is only a time range */
        if (!q->filter || dm_filter_is_range_only(q->filter)) {
            size_t b = 0, e = t->nrows;
            if (q->filter)
                dm_filter_rows(q->filter, &b, &e);
            c.total = e - b;
        } else if ((rc = dm_scan(t, q->filter, rows_count, &c))) {
            return dm_error_set(err, rc, "out of memory");
        }
        r->total = c.total;
        if (q->offset >= r->total)
            return 0;
        if ((rc = rows_by_ts(t, q, limit, r))) {
            dm_rows_res_release(r);
            return dm_error_set(err, rc, "out of memory");
        }
        return 0;
    }
    if (col >= 0 && t->cols[col].kind == DM_CK_DICT && !(c.key.dict_rank = dm__dict_rank(&t->cols[col].dict)))
        return dm_error_set(err, -ENOMEM, "out of memory");
    unsigned slots = dm_scan_slots(t);
    uint64_t k = q->offset + limit;
    struct item *merged = NULL;
    size_t nmerged = 0;
    rc = 0;
    if (k <= HEAP_MAX) {
        c.heaps = dm_calloc(slots, sizeof(*c.heaps));
        if (!c.heaps)
            rc = -ENOMEM;
        for (unsigned s = 0; !rc && s < slots; s++) {
            c.heaps[s].k = k;
            if (!(c.heaps[s].v = dm_malloc(k * sizeof(struct item))))
                rc = -ENOMEM;
        }
        if (!rc)
            rc = dm_scan(t, q->filter, rows_heap, &c);
        size_t tot = 0;
        for (unsigned s = 0; !rc && s < slots; s++)
            tot += c.heaps[s].n;
        if (!rc && !(merged = dm_malloc((tot ? tot : 1) * sizeof(*merged))))
            rc = -ENOMEM;
        for (unsigned s = 0; !rc && s < slots; s++) {
            memcpy(merged + nmerged, c.heaps[s].v, c.heaps[s].n * sizeof(*merged));
            nmerged += c.heaps[s].n;
        }
        for (unsigned s = 0; c.heaps && s < slots; s++)
            dm_free(c.heaps[s].v);
        dm_free(c.heaps);
    } else {
        c.all = dm_calloc(slots, sizeof(*c.all));
        c.nall = dm_calloc(slots, sizeof(*c.nall));
        c.capall = dm_calloc(slots, sizeof(*c.capall));
        if (!c.all || !c.nall || !c.capall)
            rc = -ENOMEM;
        if (!rc)
            rc = dm_scan(t, q->filter, rows_all, &c);
        if (!rc && c.oom)
            rc = -ENOMEM;
        size_t tot = 0;
        for (unsigned s = 0; !rc && s < slots; s++)
            tot += c.nall[s];
        if (!rc && !(merged = dm_malloc((tot ? tot : 1) * sizeof(*merged))))
            rc = -ENOMEM;
        for (unsigned s = 0; !rc && s < slots; s++) {
            if (c.nall[s])
                memcpy(merged + nmerged, c.all[s], c.nall[s] * sizeof(*merged));
            nmerged += c.nall[s];
        }
        for (unsigned s = 0; c.all && s < slots; s++)
            dm_free(c.all[s]);
        dm_free(c.all);
        dm_free(c.nall);
        dm_free(c.capall);
    }
    dm_free(c.key.dict_rank);
    if (rc) {
        dm_free(merged);
        return dm_error_set(err, rc, "out of memory sorting rows");
    }
    qsort(merged, nmerged, sizeof(*merged), item_cmp);
    r->total = c.total;
    size_t from = q->offset < nmerged ? (size_t)q->offset : nmerged;
    size_t n = nmerged - from < limit ? nmerged - from : (size_t)limit;
    r->rows = dm_malloc((n ? n : 1) * sizeof(*r->rows));
    if (!r->rows) {
        dm_free(merged);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        r->rows[i] = merged[from + i].row;
    r->n = n;
    dm_free(merged);
    return 0;
}

void dm_rows_res_release(struct dm_rows_res *r)
{
    dm_free(r->rows);
    memset(r, 0, sizeof(*r));
}

/* ---- summary ---- */

struct sum_part {
    uint64_t rows, sent, recv, max_sent, max_recv;
    int64_t ts_min, ts_max;
    uint64_t *seen; /* bitmap over IP ids */
};

struct sum_ctx {
    const struct dm_table *t;
    struct sum_part *parts;
};

static void sum_fn(void *p, const uint32_t *sel, size_t n, unsigned slot)
{
    struct sum_ctx *c = p;
    const struct dm_table *t = c->t;
    struct sum_part *sp = &c->parts[slot];
    const int64_t *ts = dm_table_ts(t);
    const uint32_t *src = dm_table_src(t), *dst = dm_table_dst(t);
    const struct dm_column *cs = &t->cols[DM_C_SENT], *cr = &t->cols[DM_C_RECV];
    sp->rows += n;
    if (ts[sel[0]] < sp->ts_min)
        sp->ts_min = ts[sel[0]];
    if (ts[sel[n - 1]] > sp->ts_max)
        sp->ts_max = ts[sel[n - 1]];
    for (size_t i = 0; i < n; i++) {
        size_t r = sel[i];
        dm__bit_set(sp->seen, src[r]);
        dm__bit_set(sp->seen, dst[r]);
        if (dm_col_present(cs, r)) {
            uint64_t v = dm_col_u64(cs, r);
            sp->sent += v;
            if (v > sp->max_sent)
                sp->max_sent = v;
        }
        if (dm_col_present(cr, r)) {
            uint64_t v = dm_col_u64(cr, r);
            sp->recv += v;
            if (v > sp->max_recv)
                sp->max_recv = v;
        }
    }
}

int dm_summary(const struct dm_table *t, const struct dm_filter *f, struct dm_summary_res *r,
               struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    unsigned slots = dm_scan_slots(t);
    size_t words = (t->ips.n + 63) / 64;
    struct sum_ctx c = {t, dm_calloc(slots, sizeof(struct sum_part))};
    int rc = c.parts ? 0 : -ENOMEM;
    for (unsigned s = 0; !rc && s < slots; s++) {
        c.parts[s].ts_min = INT64_MAX;
        c.parts[s].ts_max = INT64_MIN;
        if (!(c.parts[s].seen = dm_calloc(words ? words : 1, 8)))
            rc = -ENOMEM;
    }
    if (!rc)
        rc = dm_scan(t, f, sum_fn, &c);
    if (!rc) {
        r->ts_min = INT64_MAX;
        r->ts_max = INT64_MIN;
        for (unsigned s = 0; s < slots; s++) {
            struct sum_part *sp = &c.parts[s];
            r->rows += sp->rows;
            r->sent += sp->sent;
            r->recv += sp->recv;
            if (sp->max_sent > r->max_sent)
                r->max_sent = sp->max_sent;
            if (sp->max_recv > r->max_recv)
                r->max_recv = sp->max_recv;
            if (sp->ts_min < r->ts_min)
                r->ts_min = sp->ts_min;
            if (sp->ts_max > r->ts_max)
                r->ts_max = sp->ts_max;
            if (s)
                for (size_t w = 0; w < words; w++)
                    c.parts[0].seen[w] |= sp->seen[w];
        }
        if (words)
            c.parts[0].seen[0] &= ~(uint64_t)1; /* id 0: no address */
        for (size_t w = 0; w < words; w++)
            r->distinct_ips += (uint64_t)__builtin_popcountll(c.parts[0].seen[w]);
        if (!r->rows)
            r->ts_min = r->ts_max = 0;
    }
    for (unsigned s = 0; c.parts && s < slots; s++)
        dm_free(c.parts[s].seen);
    dm_free(c.parts);
    return rc ? dm_error_set(err, rc, "out of memory") : 0;
}
