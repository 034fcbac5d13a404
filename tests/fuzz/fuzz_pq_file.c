/* libFuzzer target: a whole Parquet file. Opens it and reads every column chunk (bounded
 * number) in plain and in dictionary mode; the two readings must agree, else abort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_pq_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_value(const struct dm_col *a, size_t i, const struct dm_col *dict, uint32_t k)
{
    switch (a->type) {
    case DM_BOOL: return a->v.b[i] == dict->v.b[k];
    case DM_I32: return a->v.i32[i] == dict->v.i32[k];
    case DM_I64: return a->v.i64[i] == dict->v.i64[k];
    case DM_F64: return !memcmp(&a->v.f64[i], &dict->v.f64[k], sizeof(double));
    case DM_STR: {
        size_t n1, n2;
        const char *s1 = dm_col_str(a, i, &n1), *s2 = dm_col_str(dict, k, &n2);
        return n1 == n2 && (n1 == 0 || !memcmp(s1, s2, n1));
    }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dm_pq_reader *r;
    struct dm_error err;
    if (dm_pq_reader_open_mem(&r, data, size, "fuzz", &err))
        return 0;
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    for (size_t g = 0; g < m->nrow_groups && g < 8; g++)
        for (size_t c = 0; c < m->ncols && c < 32; c++) {
            struct dm_pq_chunk p, d;
            int rp = dm_pq_read_chunk(r, g, c, 0, &p, &err);
            int rd = dm_pq_read_chunk(r, g, c, DM_PQ_READ_DICT, &d, &err);
            if ((rp == 0) != (rd == 0))
                abort(); /* both modes must accept or refuse the same chunk */
            if (rp == 0) {
                if (p.nrows != d.nrows)
                    abort();
                for (size_t i = 0; i < p.nrows; i++) {
                    int pnull = dm_col_is_null(&p.values, i);
                    if (d.is_dict) {
                        int dnull = d.valid && !d.valid[i];
                        if (pnull != dnull || d.idx[i] >= (d.ndict ? d.ndict : 1))
                            abort();
                        if (!pnull && !same_value(&p.values, i, &d.dict, d.idx[i]))
                            abort();
                    } else if (pnull != dm_col_is_null(&d.values, i)) {
                        abort();
                    }
                }
            }
            dm_pq_chunk_release(&p);
            dm_pq_chunk_release(&d);
        }
    dm_pq_reader_free(r);
    return 0;
}
