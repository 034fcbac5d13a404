/* libFuzzer target: the input is a Parquet footer (FileMetaData, compact Thrift). It is
 * wrapped as "PAR1" + input + length + "PAR1" and opened; every decoded field is then
 * touched (names, statistics, pruning helpers) so sanitizers see any bad pointer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_pq_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    uint8_t *buf = malloc(size + 12);
    if (!buf)
        return 0;
    memcpy(buf, "PAR1", 4);
    if (size)
        memcpy(buf + 4, data, size);
    uint32_t n = (uint32_t)size;
    for (int i = 0; i < 4; i++)
        buf[4 + size + (size_t)i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + size + 8, "PAR1", 4);
    struct dm_pq_reader *r;
    struct dm_error err;
    if (dm_pq_reader_open_mem(&r, buf, size + 12, "fuzz", &err) == 0) {
        const struct dm_pq_meta *m = dm_pq_reader_meta(r);
        size_t sink = strlen(m->created_by);
        for (size_t c = 0; c < m->ncols; c++)
            sink += strlen(m->cols[c].name) + (size_t)dm_pq_reader_column(r, m->cols[c].name);
        for (size_t k = 0; k < m->nkv; k++)
            sink += strlen(m->kv[k].key) + (m->kv[k].value ? strlen(m->kv[k].value) : 0);
        for (size_t g = 0; g < m->nrow_groups && g < 64; g++)
            for (size_t c = 0; c < m->ncols && c < 64; c++) {
                const struct dm_pq_stats *s = &m->row_groups[g].cols[c].stats;
                if (s->has_min_max && s->min_s)
                    sink += s->min_s[0] + (s->min_slen ? s->min_s[s->min_slen - 1] : 0);
                if (s->has_min_max && s->max_s && s->max_slen)
                    sink += s->max_s[s->max_slen - 1];
                sink += (size_t)dm_pq_rg_may_contain_i64(r, g, c, 0, 100);
                sink += (size_t)dm_pq_rg_may_contain_f64(r, g, c, -1.0, 1.0);
                sink += (size_t)dm_pq_rg_may_contain_str(r, g, c, "a", 1, "b", 1);
            }
        if (sink == 0x5a5a5a5a)
            abort(); /* keeps the loads alive */
        dm_pq_reader_free(r);
    }
    free(buf);
    return 0;
}
