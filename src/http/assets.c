/* Lookup in the generated asset table, and the content-negotiation helpers. */
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "banned.h"

const struct dm_asset *dm_http_asset_find(const char *path)
{
    if (!path)
        return NULL;
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (size_t i = 0; i < dm__http_nassets; i++)
        if (!strcmp(dm__http_assets[i].path, path))
            return &dm__http_assets[i];
    return NULL;
}

size_t dm_http_asset_count(void)
{
    return dm__http_nassets;
}

const struct dm_asset *dm_http_asset_at(size_t i)
{
    return i < dm__http_nassets ? &dm__http_assets[i] : NULL;
}

/* Iterates the comma-separated elements of a header value: sets *tok, *toklen to the
 * element without surrounding spaces and returns the position after it, or NULL at end. */
static const char *next_elem(const char *p, const char **tok, size_t *toklen)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    if (!*p)
        return NULL;
    const char *s = p;
    int quoted = 0;
    while (*p && (quoted || *p != ',')) {
        if (*p == '"')
            quoted = !quoted;
        p++;
    }
    const char *e = p;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *tok = s;
    *toklen = (size_t)(e - s);
    return p;
}

/* q value of an Accept-Encoding element's parameters (1.0 when absent), in thousandths. */
static int qvalue(const char *params, size_t n)
{
    const char *p = params, *end = params + n;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p += 2;
            int v = 0, scale = 1000;
            if (p < end && *p >= '0' && *p <= '1') {
                v = (*p - '0') * 1000;
                p++;
            }
            if (p < end && *p == '.') {
                p++;
                while (p < end && *p >= '0' && *p <= '9') {
                    scale /= 10;
                    v += (*p - '0') * scale;
                    p++;
                }
            }
            return v > 1000 ? 1000 : v;
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1000;
}

int dm_http_accepts_gzip(const char *h)
{
    if (!h)
        return 0;
    const char *tok;
    size_t n;
    int gzip = -1, star = -1;
    while ((h = next_elem(h, &tok, &n))) {
        size_t name = 0;
        while (name < n && tok[name] != ';' && tok[name] != ' ')
            name++;
        int q = qvalue(tok + name, n - name);
        if ((name == 4 && !strncasecmp(tok, "gzip", 4)) ||
            (name == 6 && !strncasecmp(tok, "x-gzip", 6)))
            gzip = q;
        else if (name == 1 && tok[0] == '*')
            star = q;
    }
    if (gzip >= 0)
        return gzip > 0;
    return star > 0;
}

int dm_http_etag_match(const char *h, const char *etag)
{
    if (!h || !etag)
        return 0;
    size_t elen = strlen(etag);
    const char *tok;
    size_t n;
    while ((h = next_elem(h, &tok, &n))) {
        if (n == 1 && tok[0] == '*')
            return 1;
        if (n > 2 && tok[0] == 'W' && tok[1] == '/') { /* weak comparison for GET */
            tok += 2;
            n -= 2;
        }
        if (n == elen && !memcmp(tok, etag, n))
            return 1;
    }
    return 0;
}
