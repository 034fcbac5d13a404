/* libFuzzer target: TZif bytes through dm_tz_parse (the reader behind hunt's named time
 * zones). A parsed zone must be self-consistent: offset changes strictly ascending, every
 * offset within ±25 h, dm_tz_offset() agreeing with the list at and just before each change;
 * an error must point inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_hunt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 262144)
        return 0;
    struct dm_tz tz;
    struct dm_error err;
    memset(&err, 0, sizeof(err));
    int rc = dm_tz_parse(&tz, data, size, &err);
    if (rc) {
        if (err.offset > (int64_t)size)
            abort();
        return 0;
    }
    if (tz.off0 < -90000 || tz.off0 > 90000)
        abort();
    for (size_t i = 0; i < tz.n; i++) {
        if (i && tz.at[i] <= tz.at[i - 1])
            abort();
        if (tz.off[i] < -90000 || tz.off[i] > 90000)
            abort();
        if (dm_tz_offset(&tz, tz.at[i]) != tz.off[i])
            abort();
        if (tz.at[i] > INT64_MIN && dm_tz_offset(&tz, tz.at[i] - 1) != (i ? tz.off[i - 1] : tz.off0))
            abort();
    }
    dm_tz_release(&tz);
    return 0;
}
