/* Delimited text: record boundaries and cell splitting for CSV (RFC 4180 quoting), TSV,
 * Zeek TSV and space-separated AWS VPC flow logs. Cells are slices into the record; quoted
 * cells point inside the quotes and carry esc = 1 when they hold doubled quotes. */
#include <string.h>

#include "ingest_int.h"
#include "banned.h"

const char *dm__csv_record_end(const char *p, const char *end, int quoted)
{
    if (!quoted) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        return nl ? nl + 1 : end;
    }
    int inq = 0;
    while (p < end) {
        const char *q = inq ? memchr(p, '"', (size_t)(end - p)) : NULL;
        if (inq) {
            if (!q)
                return end;
            inq = 0;
            p = q + 1;
            continue;
        }
        /* Outside quotes: the next newline or quote, whichever comes first. */
        const char *s = p;
        while (s < end && *s != '\n' && *s != '"')
            s++;
        if (s >= end)
            return end;
        if (*s == '\n')
            return s + 1;
        inq = 1;
        p = s + 1;
    }
    return end;
}

long dm__csv_split(const char *p, size_t n, char sep, int quoted, struct dm__val *cells,
                   size_t max)
{
    const char *end = p + n;
    long count = 0;
    for (;;) {
        struct dm__val v = {p, 0, DM_V_RAW, 0};
        const char *q = p;
        if (quoted) {
            /* Leading spaces before a quote are tolerated. */
            while (q < end && *q == ' ')
                q++;
        }
        if (quoted && q < end && *q == '"') {
            q++;
            v.p = q;
            for (;;) {
                const char *c = memchr(q, '"', (size_t)(end - q));
                if (!c)
                    return -1;
                if (c + 1 < end && c[1] == '"') {
                    v.esc = 1;
                    q = c + 2;
                    continue;
                }
                v.n = (uint32_t)(c - v.p);
                q = c + 1;
                break;
            }
            while (q < end && *q != sep)
                q++; /* junk after the closing quote is ignored */
        } else {
            q = p;
            const char *s = memchr(q, sep, (size_t)(end - q));
            q = s ? s : end;
            v.n = (uint32_t)(q - p);
        }
        if ((size_t)count < max)
            cells[count] = v;
        count++;
        if (q >= end)
            return count;
        p = q + 1;
        if (sep == ' ') {
            while (p < end && *p == ' ')
                p++; /* runs of spaces separate one field */
        }
    }
}

size_t dm__csv_unquote(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = p[i];
        if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
            i++;
    }
    return o;
}
