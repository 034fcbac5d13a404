/* libFuzzer target: Parquet writer -> reader round trip. The input describes a schema (up to
 * 6 columns: type, REQUIRED/OPTIONAL), writer options (codec, dictionary on/off, tiny page
 * and row-group sizes so pages and row groups split) and the values (taken from the input
 * bytes, nulls included). The file is written, read back chunk by chunk in plain and in
 * dictionary mode, and every value must come back identical; any mismatch aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm_batch.h"
#include "dm_parquet.h"
#include "dm_pq_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cur {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct cur *c)
{
    if (!c->n)
        return 0;
    c->n--;
    return *c->p++;
}

static uint64_t take64(struct cur *c, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = v << 8 | take8(c);
    return v;
}

static const enum dm_pq_codec codecs[] = {DM_PQ_UNCOMPRESSED, DM_PQ_SNAPPY, DM_PQ_GZIP,
                                          DM_PQ_ZSTD, DM_PQ_LZ4_RAW};
static const enum dm_vtype vtypes[] = {DM_BOOL, DM_I32, DM_I64, DM_F64, DM_STR};
static const enum dm_pq_type ptypes[] = {DM_PQ_BOOLEAN, DM_PQ_INT32, DM_PQ_INT64, DM_PQ_DOUBLE,
                                         DM_PQ_BYTE_ARRAY};

static int equal(const struct dm_col *a, size_t i, const struct dm_col *b, size_t j)
{
    if (dm_col_is_null(a, i) != dm_col_is_null(b, j))
        return 0;
    if (dm_col_is_null(a, i))
        return 1;
    switch (a->type) {
    case DM_BOOL: return !a->v.b[i] == !b->v.b[j];
    case DM_I32: return a->v.i32[i] == b->v.i32[j];
    case DM_I64: return a->v.i64[i] == b->v.i64[j];
    case DM_F64: return !memcmp(&a->v.f64[i], &b->v.f64[j], sizeof(double));
    case DM_STR: {
        size_t n1, n2;
        const char *s1 = dm_col_str(a, i, &n1), *s2 = dm_col_str(b, j, &n2);
        return n1 == n2 && (n1 == 0 || !memcmp(s1, s2, n1));
    }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cur c = {data, size};
    size_t ncols = 1 + take8(&c) % 6;
    struct dm_pq_column_spec spec[6];
    enum dm_vtype types[6];
    char names[6][8];
    for (size_t k = 0; k < ncols; k++) {
        uint8_t t = take8(&c);
        snprintf(names[k], sizeof(names[k]), "c%zu", k);
        types[k] = vtypes[t % 5];
        spec[k] = (struct dm_pq_column_spec){.name = names[k], .type = ptypes[t % 5],
                                             .optional = (t >> 3) & 1};
        if (types[k] == DM_STR && (t & 0x10))
            spec[k].logical = DM_PQ_LOG_STRING;
        if (types[k] == DM_I64 && (t & 0x10)) {
            spec[k].logical = DM_PQ_LOG_TIMESTAMP;
            spec[k].ts_unit = DM_PQ_MICROS;
            spec[k].ts_utc = 1;
        }
    }
    uint8_t o = take8(&c);
    struct dm_pq_writer_opts wo;
    dm_pq_writer_opts_default(&wo);
    wo.codec = codecs[o % 5];
    wo.dictionary = (o >> 3) & 1;
    wo.row_group_rows = 1 + take8(&c) % 64;
    wo.page_bytes = 16 + take8(&c) * 4;
    wo.dict_max_bytes = 16 + take8(&c) * 8;

    struct dm_batch b;
    if (dm_batch_init(&b, types, ncols, 64))
        return 0;
    size_t nrows = c.n ? take8(&c) % 200 : 0;
    for (size_t r = 0; r < nrows; r++) {
        if (dm_batch_reserve(&b, 1))
            abort();
        for (size_t k = 0; k < ncols; k++) {
            uint8_t h = take8(&c);
            if (spec[k].optional && (h & 3) == 0) {
                if (dm_batch_set_null(&b, k))
                    abort();
                continue;
            }
            /* few distinct values half the time so dictionaries fill */
            unsigned w = (h & 4) ? 1 : 8;
            switch (types[k]) {
            case DM_BOOL: dm_batch_set_bool(&b, k, h >> 7); break;
            case DM_I32: dm_batch_set_i32(&b, k, (int32_t)take64(&c, w > 4 ? 4 : w)); break;
            case DM_I64: dm_batch_set_i64(&b, k, (int64_t)take64(&c, w)); break;
            case DM_F64: {
                uint64_t bits = take64(&c, w);
                double d;
                memcpy(&d, &bits, sizeof(d));
                dm_batch_set_f64(&b, k, d);
                break;
            }
            case DM_STR: {
                size_t len = (h >> 3) % 24;
                if (len > c.n)
                    len = c.n;
                if (dm_batch_set_str(&b, k, (const char *)c.p, len))
                    abort();
                c.p += len;
                c.n -= len;
                break;
            }
            }
        }
        if (dm_batch_commit_row(&b))
            abort();
    }

    char path[64];
    /* tmpfs when there is one: the writer fsyncs, which is slow on a disk */
    snprintf(path, sizeof(path), "%s/dm-fuzz-rt-%ld.parquet",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    struct dm_pq_writer *w;
    struct dm_error err;
    if (dm_pq_writer_open(&w, path, spec, ncols, &wo, &err))
        abort();
    if (dm_pq_writer_write(w, &b, &err))
        abort();
    if (dm_pq_writer_close(w, &err))
        abort();

    struct dm_pq_reader *rd;
    if (dm_pq_reader_open(&rd, path, &err))
        abort();
    const struct dm_pq_meta *m = dm_pq_reader_meta(rd);
    if (m->num_rows != (int64_t)nrows || m->ncols != ncols)
        abort();
    for (unsigned mode = 0; mode < 2; mode++)
        for (size_t k = 0; k < ncols; k++) {
            size_t row = 0;
            for (size_t g = 0; g < m->nrow_groups; g++) {
                struct dm_pq_chunk ch;
                if (dm_pq_read_chunk(rd, g, k, mode ? DM_PQ_READ_DICT : 0, &ch, &err))
                    abort();
                if (row + ch.nrows > nrows)
                    abort();
                for (size_t i = 0; i < ch.nrows; i++, row++) {
                    if (ch.is_dict) {
                        int dnull = ch.valid && !ch.valid[i];
                        if (dnull != dm_col_is_null(&b.cols[k], row))
                            abort();
                        if (!dnull && (ch.idx[i] >= ch.ndict ||
                                       !equal(&b.cols[k], row, &ch.dict, ch.idx[i])))
                            abort();
                    } else if (!equal(&b.cols[k], row, &ch.values, i)) {
                        abort();
                    }
                }
                dm_pq_chunk_release(&ch);
            }
            if (row != nrows)
                abort();
        }
    dm_pq_reader_free(rd);
    unlink(path);
    dm_batch_release(&b);
    return 0;
}
