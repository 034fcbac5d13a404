/* libFuzzer target: delimited text. The input is split into records (quote-aware and not)
 * and every record into cells with ',' (RFC 4180 quotes), '\t' and ' '; every cell must lie
 * inside its record, unquoting must not grow a cell, and records must tile the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    const char *end = buf + size;
    static const char seps[] = {',', '\t', ' '};
    struct dm__val cells[64];
    char out[4096];
    for (int quoted = 0; quoted <= 1; quoted++) {
        const char *p = buf;
        while (p < end) {
            const char *re = dm__csv_record_end(p, end, quoted);
            if (re <= p || re > end)
                abort();
            size_t n = (size_t)(re - p);
            if (n && p[n - 1] == '\n')
                n--;
            for (size_t s = 0; s < sizeof(seps); s++) {
                long nc = dm__csv_split(p, n, seps[s], quoted && seps[s] == ',', cells, 64);
                for (long i = 0; i < nc && i < 64; i++) {
                    if (cells[i].p < p || cells[i].p + cells[i].n > p + n)
                        abort();
                    if (cells[i].n <= sizeof(out) &&
                        dm__csv_unquote(cells[i].p, cells[i].n, out) > cells[i].n)
                        abort();
                }
            }
            p = re;
        }
    }
    int64_t v;
    double d;
    (void)dm__parse_int(buf, size, &v);
    (void)dm__parse_double(buf, size, &d);
    (void)dm__parse_proto(buf, size, &v);
    (void)dm_parse_ts(buf, size, 0, &v);
    free(buf);
    return 0;
}
