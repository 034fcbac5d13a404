/* Error codes and the optional error detail struct.
 *
 * Fallible functions return int: 0 on success or a negative code (-ENOMEM, -EINVAL, -EIO,
 * or one of the DM_E* codes below). Details go into an optional last parameter
 * `struct dm_error *err` (may be NULL). The struct is caller-owned; no allocation. */
#ifndef DM_ERROR_H
#define DM_ERROR_H

#include <errno.h>
#include <stdint.h>

enum {
    DM_ECORRUPT = -1001, /* input bytes are malformed (Parquet, gzip, ...) */
    DM_EPARSE = -1002,   /* text input does not parse */
    DM_ETOOBIG = -1003,  /* a hard size cap was hit */
    DM_EUNSUPPORTED = -1004, /* valid input we do not handle (nested Parquet, encryption) */
    DM_ECANCELED = -1005 /* stopped on request (signal) */
};

struct dm_error {
    int code;       /* last code set, 0 if none */
    int64_t offset; /* byte offset in the input, -1 if unknown */
    int64_t line;   /* 1-based line in the input, 0 if unknown */
    char msg[256];  /* lowercase message without final period */
};

/* Resets err (NULL-safe). */
void dm_error_clear(struct dm_error *err);

/* Sets code and a printf-style message on err (NULL-safe); returns code so that
 * failing is one statement: `return dm_error_set(err, -EINVAL, "bad '%s'", s);` */
int dm_error_set(struct dm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like dm_error_set, also records a byte offset and line (either may be -1 / 0). */
int dm_error_set_at(struct dm_error *err, int code, int64_t offset, int64_t line, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* Prefixes err->msg with "prefix: " (e.g. a file name); returns err->code. */
int dm_error_prefix(struct dm_error *err, const char *prefix);

/* Static description of a code (negative errno or DM_E*). */
const char *dm_strerror(int code);

#endif
