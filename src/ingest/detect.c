/* --format auto: recognise the format from the first bytes and the preset from the field
 * names of the first record (JSON keys, CSV/TSV header, Zeek #fields). A preset fits when
 * its ts, src_ip and dst_ip fields are all present; among those, the one that finds most
 * of its fields wins. */
#include <string.h>

#include "dm_alloc.h"
#include "ingest_int.h"
#include "banned.h"

/* 1 when "\nname\n" occurs in keys (which starts and ends with '\n'). */
static int has_key(const struct dm_buf *keys, const char *name)
{
    size_t n = strlen(name);
    const char *p = keys->data, *end = keys->data + keys->len;
    while (p && p + n + 2 <= end) {
        const char *q = memmem(p, (size_t)(end - p), name, n);
        if (!q)
            return 0;
        if (q > keys->data && q[-1] == '\n' && q + n < end && q[n] == '\n')
            return 1;
        p = q + 1;
    }
    return 0;
}

static int alt_fields_present(const struct dm_ingest_map *m, const struct dm__alt *a,
                              const struct dm_buf *keys)
{
    if (!has_key(keys, m->fields[a->a]))
        return 0;
    return a->op == DM_OP_FIELD || has_key(keys, m->fields[a->b]);
}

static int pick_preset(const struct dm_buf *keys, const char **preset)
{
    size_t np;
    const struct dm_preset *ps = dm_presets(&np);
    int best = -1;
    size_t best_score = 0;
    for (size_t i = 0; i < np; i++) {
        struct dm_ingest_map *m;
        int rc = dm_ingest_map_preset(&m, ps[i].name, NULL);
        if (rc)
            return rc;
        int ok = 1;
        for (int c = 0; c < 3 && ok; c++) {
            const struct dm__col *col = &m->cols[c];
            int any = 0;
            for (size_t k = 0; k < col->nalts && !any; k++)
                any = alt_fields_present(m, &col->alts[k], keys);
            ok = any;
        }
        size_t score = 0;
        for (size_t f = 0; f < m->nfields; f++)
            score += (size_t)has_key(keys, m->fields[f]);
        dm_ingest_map_free(m);
        if (ok && score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    *preset = best >= 0 ? ps[best].name : NULL;
    return 0;
}

/* Header cells of a delimited line into keys. */
static int header_keys(const char *p, size_t n, char sep, struct dm_buf *keys)
{
    struct dm__val cells[256];
    long nc = dm__csv_split(p, n, sep, sep == ',', cells, 256);
    if (nc < 0)
        return DM_EPARSE;
    for (long i = 0; i < nc && i < 256; i++) {
        const char *c = cells[i].p;
        size_t cn = cells[i].n;
        while (cn && (*c == ' ' || *c == '#'))
            c++, cn--;
        while (cn && (c[cn - 1] == ' ' || c[cn - 1] == '\r'))
            cn--;
        int rc = dm_buf_append(keys, c, cn);
        rc = rc ? rc : dm_buf_putc(keys, '\n');
        if (rc)
            return rc;
    }
    return 0;
}

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static int is_vpc_v2_line(const char *p, size_t n)
{
    /* "2 123456789010 eni-... srcaddr dstaddr ..." : version digit, account id or '-'. */
    if (n < 20 || p[0] < '2' || p[0] > '9' || p[1] != ' ')
        return 0;
    size_t i = 2, digits = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, digits++;
    if (!((digits >= 1 && digits <= 12) || (digits == 0 && p[i] == '-')))
        return 0;
    size_t spaces = 0;
    for (size_t k = 0; k < n; k++)
        spaces += p[k] == ' ';
    return spaces >= 13;
}

int dm_ingest_detect(const char *p, size_t n, enum dm_in_format *format, const char **preset,
                     struct dm_error *err)
{
    const char *end = p + n;
    *preset = NULL;
    *format = DM_IN_AUTO;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= end)
        return dm_error_set(err, DM_EPARSE, "empty input");
    struct dm_buf keys;
    dm_buf_init(&keys, 1 << 20);
    int rc = dm_buf_putc(&keys, '\n');
    const char *le = line_end(p, end);
    if (rc) {
        /* nothing */
    } else if (*p == '[') {
        *format = DM_IN_JSON_ARRAY;
        const char *o = memchr(p, '{', (size_t)(end - p));
        if (o && dm__json_keys(o, (size_t)(end - o), &keys) == -ENOMEM)
            rc = -ENOMEM;
    } else if (*p == '{') {
        *format = DM_IN_JSONL;
        /* Keys of the first few lines (some producers start with odd records). */
        for (int i = 0; i < 8 && p < end && !rc; i++) {
            le = line_end(p, end);
            if (dm__json_keys(p, (size_t)(le - p), &keys) == -ENOMEM)
                rc = -ENOMEM;
            p = le + (le < end);
        }
    } else if (*p == '#') {
        *format = DM_IN_ZEEK;
        while (p < end && *p == '#') {
            le = line_end(p, end);
            if ((size_t)(le - p) > 8 && memcmp(p, "#fields", 7) == 0 && !rc)
                rc = header_keys(p + 8, (size_t)(le - p - 8), '\t', &keys);
            p = le + (le < end);
        }
    } else if ((le - p > 8 && memcmp(p, "version ", 8) == 0 && memmem(p, (size_t)(le - p), "srcaddr", 7)) ||
               is_vpc_v2_line(p, (size_t)(le - p))) {
        *format = DM_IN_VPC;
        *preset = "vpcflow";
    } else {
        /* A JSON-lines file whose first records are damaged. */
        const char *q = p;
        for (int i = 0; i < 8 && q < end; i++) {
            const char *qe = line_end(q, end);
            while (q < qe && (*q == ' ' || *q == '\t'))
                q++;
            if (q < qe && *q == '{') {
                dm_buf_release(&keys);
                return dm_ingest_detect(q, (size_t)(end - q), format, preset, err);
            }
            q = qe + (qe < end);
        }
        size_t tabs = 0, commas = 0;
        for (const char *t = p; t < le; t++)
            tabs += *t == '\t', commas += *t == ',';
        if (tabs == 0 && commas == 0) {
            dm_buf_release(&keys);
            return dm_error_set(err, DM_EPARSE, "unrecognised input format (first line has no "
                                                "JSON, tabs or commas)");
        }
        char sep = tabs >= commas && tabs > 0 ? '\t' : ',';
        *format = sep == '\t' ? DM_IN_TSV : DM_IN_CSV;
        if (sep == ',' && le - p >= 14 && memcmp(p, "ts,te,td,sa,da", 14) == 0)
            *format = DM_IN_NFDUMP_CSV;
        rc = header_keys(p, (size_t)(le - p), sep, &keys);
    }
    if (!rc && !*preset && keys.len > 1)
        rc = pick_preset(&keys, preset);
    dm_buf_release(&keys);
    if (rc == -ENOMEM)
        return dm_error_set(err, rc, "out of memory");
    if (rc)
        return dm_error_set(err, DM_EPARSE, "unrecognised header");
    return 0;
}
