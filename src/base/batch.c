#include "dm_batch.h"

#include <string.h>

#include "dm_alloc.h"
#include "dm_error.h"
#include "banned.h"

static size_t vsize(enum dm_vtype t)
{
    switch (t) {
    case DM_BOOL: return 1;
    case DM_I32: return 4;
    case DM_I64: return 8;
    case DM_F64: return 8;
    case DM_STR: return 0;
    }
    return 0;
}

int dm_batch_init(struct dm_batch *b, const enum dm_vtype *types, size_t ncols, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cols = dm_calloc(ncols ? ncols : 1, sizeof(*b->cols));
    if (!b->cols)
        return -ENOMEM;
    b->ncols = ncols;
    for (size_t i = 0; i < ncols; i++)
        b->cols[i].type = types[i];
    int rc = dm_batch_reserve(b, cap ? cap : 1024);
    if (rc)
        dm_batch_release(b);
    return rc;
}

void dm_batch_release(struct dm_batch *b)
{
    for (size_t i = 0; i < b->ncols; i++) {
        struct dm_col *c = &b->cols[i];
        dm_free(c->valid);
        dm_free(c->v.b);
        dm_free(c->off);
        dm_free(c->bytes);
    }
    dm_free(b->cols);
    memset(b, 0, sizeof(*b));
}

void dm_batch_clear(struct dm_batch *b)
{
    b->nrows = 0;
    for (size_t i = 0; i < b->ncols; i++) {
        struct dm_col *c = &b->cols[i];
        dm_free(c->valid);
        c->valid = NULL;
        c->nbytes = 0;
        c->pending = 0;
        if (c->off)
            c->off[0] = 0;
    }
}

int dm_batch_reserve(struct dm_batch *b, size_t rows)
{
    if (rows > ((size_t)1 << 40) || b->nrows + rows <= b->cap)
        return rows > ((size_t)1 << 40) ? DM_ETOOBIG : 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->nrows + rows)
        cap *= 2;
    for (size_t i = 0; i < b->ncols; i++) {
        struct dm_col *c = &b->cols[i];
        if (c->type == DM_STR) {
            uint64_t *off = dm_reallocarray(c->off, cap + 1, sizeof(*off));
            if (!off)
                return -ENOMEM;
            if (!c->off)
                off[0] = 0;
            c->off = off;
        } else {
            void *v = dm_reallocarray(c->v.b, cap, vsize(c->type));
            if (!v)
                return -ENOMEM;
            c->v.b = v;
        }
        if (c->valid) {
            uint8_t *valid = dm_realloc(c->valid, cap);
            if (!valid)
                return -ENOMEM;
            c->valid = valid;
        }
    }
    b->cap = cap;
    return 0;
}

/* Marks row `row` of c null, creating the validity array on first use. */
static int col_set_valid(struct dm_col *c, size_t row, size_t cap, int valid)
{
    if (!c->valid) {
        if (valid)
            return 0;
        c->valid = dm_malloc(cap);
        if (!c->valid)
            return -ENOMEM;
        memset(c->valid, 1, cap);
    }
    c->valid[row] = (uint8_t)valid;
    return 0;
}

int dm_batch_set_null(struct dm_batch *b, size_t col)
{
    struct dm_col *c = &b->cols[col];
    size_t r = b->nrows;
    if (col_set_valid(c, r, b->cap, 0))
        return -ENOMEM;
    switch (c->type) {
    case DM_BOOL: c->v.b[r] = 0; break;
    case DM_I32: c->v.i32[r] = 0; break;
    case DM_I64: c->v.i64[r] = 0; break;
    case DM_F64: c->v.f64[r] = 0; break;
    case DM_STR: c->off[r + 1] = c->off[r]; c->nbytes = (size_t)c->off[r]; break;
    }
    c->pending = 1;
    return 0;
}

#define SETTER(name, ctype, field)                                                                \
    void dm_batch_set_##name(struct dm_batch *b, size_t col, ctype v)                           \
    {                                                                                            \
        struct dm_col *c = &b->cols[col];                                                        \
        c->v.field[b->nrows] = v;                                                                \
        if (c->valid)                                                                            \
            c->valid[b->nrows] = 1;                                                              \
        c->pending = 1;                                                                          \
    }
SETTER(i32, int32_t, i32)
SETTER(i64, int64_t, i64)
SETTER(f64, double, f64)

void dm_batch_set_bool(struct dm_batch *b, size_t col, int v)
{
    struct dm_col *c = &b->cols[col];
    c->v.b[b->nrows] = v ? 1 : 0;
    if (c->valid)
        c->valid[b->nrows] = 1;
    c->pending = 1;
}

int dm_batch_set_str(struct dm_batch *b, size_t col, const char *s, size_t n)
{
    struct dm_col *c = &b->cols[col];
    size_t r = b->nrows;
    size_t start = (size_t)c->off[r];
    if (n > DM_BATCH_MAX_BYTES - start)
        return DM_ETOOBIG;
    if (start + n > c->bytes_cap) {
        size_t cap = c->bytes_cap ? c->bytes_cap : 4096;
        while (cap < start + n)
            cap *= 2;
        char *p = dm_realloc(c->bytes, cap);
        if (!p)
            return -ENOMEM;
        c->bytes = p;
        c->bytes_cap = cap;
    }
    if (n)
        memcpy(c->bytes + start, s, n);
    c->nbytes = start + n;
    c->off[r + 1] = c->nbytes;
    if (c->valid)
        c->valid[r] = 1;
    c->pending = 1;
    return 0;
}

int dm_batch_commit_row(struct dm_batch *b)
{
    for (size_t i = 0; i < b->ncols; i++) {
        if (!b->cols[i].pending && dm_batch_set_null(b, i)) {
            dm_batch_abort_row(b);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < b->ncols; i++)
        b->cols[i].pending = 0;
    b->nrows++;
    return 0;
}

void dm_batch_abort_row(struct dm_batch *b)
{
    for (size_t i = 0; i < b->ncols; i++) {
        struct dm_col *c = &b->cols[i];
        c->pending = 0;
        if (c->type == DM_STR) {
            c->nbytes = (size_t)c->off[b->nrows];
            c->off[b->nrows + 1] = c->nbytes;
        }
        if (c->valid)
            c->valid[b->nrows] = 1;
    }
}
