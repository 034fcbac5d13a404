/* libFuzzer target: filter expressions (docs/filter.md) compiled against a small fixed
 * table and, when they compile, evaluated over every row; each match must be a row of the
 * filter's time range, in increasing order. A compile failure must carry an error offset
 * inside the expression. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_engine.h"
#include "../unit/engine_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fx fx;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (fx_open(&fx, 0))
            abort();
        ready = 1;
    }
    if (size > 8192)
        return 0;
    struct dm_filter *f = NULL;
    struct dm_error err;
    memset(&err, 0, sizeof(err));
    int rc = dm_filter_compile(&f, fx.t, (const char *)data, size, &err);
    if (rc) {
        if (f)
            abort();
        if (rc == DM_EPARSE && (err.offset < 0 || (size_t)err.offset > size))
            abort();
        return 0;
    }
    size_t begin, end;
    dm_filter_rows(f, &begin, &end);
    if (begin > end || end > fx.t->nrows)
        abort();
    uint8_t *scratch = dm_malloc(dm_filter_scratch_size(f) + 1);
    static uint32_t sel[DM_MORSEL];
    if (!scratch)
        abort();
    for (size_t at = begin; at < end; at += DM_MORSEL) {
        size_t n = end - at < DM_MORSEL ? end - at : DM_MORSEL;
        size_t k = dm_filter_eval(f, at, n, sel, scratch);
        if (k > n)
            abort();
        for (size_t i = 0; i < k; i++)
            if (sel[i] < at || sel[i] >= at + n || (i && sel[i] <= sel[i - 1]))
                abort();
        if (dm_filter_is_range_only(f) && k != n)
            abort();
    }
    dm_free(scratch);
    dm_filter_free(f);
    return 0;
}
