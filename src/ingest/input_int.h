/* Input files and byte readers (input.c). A reader hands out decompressed bytes of one
 * input; it owns its descriptor (except stdin) and its decoder state. */
#ifndef DM_INPUT_INT_H
#define DM_INPUT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

struct dm__file {
    char *path; /* "-" = stdin */
    uint64_t size; /* bytes on disk, 0 when unknown */
};

struct dm__files {
    struct dm__file *v;
    size_t n, cap;
    size_t failed; /* inputs skipped under keep_going */
};

/* Expands inputs (files, directories recursively in name order, globs, "-") into f.
 * Missing inputs fail (-ENOENT / -EIO with err) unless keep_going, which counts them in
 * f->failed. */
int dm__files_expand(struct dm__files *f, const char *const *inputs, size_t n, int keep_going,
                     struct dm_error *err);
void dm__files_release(struct dm__files *f);

struct z_stream_s;
struct ZSTD_DCtx_s;

struct dm__reader {
    int fd, is_stdin, started, kind; /* kind: 0 plain, 1 gzip, 2 zstd */
    int raw_eof, in_frame;
    char *raw;
    size_t rpos, rlen;
    uint64_t bytes_in; /* raw bytes read so far */
    struct z_stream_s *zs;
    struct ZSTD_DCtx_s *zd;
};

/* Opens path ("-" = stdin); 0 or -ENOENT / -EIO / -ENOMEM with err. */
int dm__reader_open(struct dm__reader *r, const char *path, struct dm_error *err);
/* Reads up to cap decompressed bytes; returns the count (0 at the end) or a negative code
 * (DM_ECORRUPT for a damaged gzip / zstd stream, -EIO, -EINTR when a signal interrupted the
 * read: nothing was lost, call again). */
long dm__reader_read(struct dm__reader *r, char *buf, size_t cap, struct dm_error *err);
void dm__reader_close(struct dm__reader *r);

#endif
