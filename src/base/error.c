#include "dm_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

void dm_error_clear(struct dm_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->offset = -1;
    err->line = 0;
    err->msg[0] = '\0';
}

__attribute__((format(printf, 5, 0))) static void error_vset(struct dm_error *err, int code, int64_t offset, int64_t line,
                       const char *fmt, va_list ap)
{
    err->code = code;
    err->offset = offset;
    err->line = line;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int dm_error_set(struct dm_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, -1, 0, fmt, ap);
    va_end(ap);
    return code;
}

int dm_error_set_at(struct dm_error *err, int code, int64_t offset, int64_t line, const char *fmt,
                    ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, offset, line, fmt, ap);
    va_end(ap);
    return code;
}

int dm_error_prefix(struct dm_error *err, const char *prefix)
{
    if (!err)
        return 0;
    /* Intentional truncation: compose by hand, prefix first. */
    char tmp[sizeof(err->msg)];
    size_t cap = sizeof(tmp) - 1;
    size_t plen = strnlen(prefix, cap);
    size_t n = 0;
    memcpy(tmp, prefix, plen);
    n = plen;
    if (n + 2 <= cap) {
        tmp[n++] = ':';
        tmp[n++] = ' ';
    }
    size_t mlen = strnlen(err->msg, sizeof(err->msg));
    if (mlen > cap - n)
        mlen = cap - n;
    memcpy(tmp + n, err->msg, mlen);
    tmp[n + mlen] = '\0';
    memcpy(err->msg, tmp, sizeof(tmp));
    return err->code;
}

const char *dm_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case DM_ECORRUPT: return "corrupt input";
    case DM_EPARSE: return "parse error";
    case DM_ETOOBIG: return "size limit exceeded";
    case DM_EUNSUPPORTED: return "unsupported input";
    case DM_ECANCELED: return "canceled";
    case -ENOMEM: return "out of memory";
    case -EINVAL: return "invalid argument";
    case -EIO: return "input/output error";
    case -ENOENT: return "no such file or directory";
    case -EACCES: return "permission denied";
    case -ENOSPC: return "no space left on device";
    case -EFBIG: return "file too large";
    default: return code < 0 && code > -200 ? strerror(-code) : "unknown error";
    }
}
