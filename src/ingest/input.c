/* Inputs: expanding files, directories (recursive, sorted), globs and "-" into a file list,
 * and reading each one as plain bytes whether it is plain, gzip or zstd (by magic number,
 * so compressed stdin works too). Concatenated gzip members and zstd frames are read
 * through. */
#include <dirent.h>
#include <stdio.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "dm_alloc.h"
#include "input_int.h"
#include "banned.h"

#define RAW_BUF (1 << 20)
#define MAX_FILES 1000000
#define MAX_DEPTH 32

void dm__files_release(struct dm__files *f)
{
    for (size_t i = 0; i < f->n; i++)
        dm_free(f->v[i].path);
    dm_free(f->v);
    memset(f, 0, sizeof(*f));
}

static int files_add(struct dm__files *f, const char *path, uint64_t size, struct dm_error *err)
{
    if (f->n == MAX_FILES)
        return dm_error_set(err, DM_ETOOBIG, "more than %d input files", MAX_FILES);
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct dm__file *v = dm_reallocarray(f->v, cap, sizeof(*v));
        if (!v)
            return dm_error_set(err, -ENOMEM, "out of memory");
        f->v = v;
        f->cap = cap;
    }
    char *p = dm_strdup(path);
    if (!p)
        return dm_error_set(err, -ENOMEM, "out of memory");
    f->v[f->n].path = p;
    f->v[f->n].size = size;
    f->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct dm__files *f, const char *path, int depth, int keep_going,
                    struct dm_error *err);

static int add_dir(struct dm__files *f, const char *path, int depth, int keep_going,
                   struct dm_error *err)
{
    if (depth > MAX_DEPTH)
        return dm_error_set(err, DM_ETOOBIG, "'%s': directories nested too deep", path);
    DIR *d = opendir(path);
    if (!d)
        return dm_error_set(err, -EIO, "cannot open directory '%s': %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ., .., hidden files */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = dm_reallocarray(names, nc, sizeof(*nn));
            if (!nn) {
                rc = dm_error_set(err, -ENOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = dm_malloc(len);
        if (!names[n]) {
            rc = dm_error_set(err, -ENOMEM, "out of memory");
            break;
        }
        snprintf(names[n], len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                 e->d_name);
        n++;
    }
    closedir(d);
    if (!rc) {
        qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n && !rc; i++)
            rc = add_path(f, names[i], depth + 1, keep_going, err);
    }
    for (size_t i = 0; i < n; i++)
        dm_free(names[i]);
    dm_free(names);
    return rc;
}

static int add_path(struct dm__files *f, const char *path, int depth, int keep_going,
                    struct dm_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (keep_going) {
            f->failed++;
            return 0;
        }
        return dm_error_set(err, e == ENOENT ? -ENOENT : -EIO, "cannot read '%s': %s", path,
                            strerror(e));
    }
    if (S_ISDIR(st.st_mode))
        return add_dir(f, path, depth, keep_going, err);
    if (depth > 0 && !S_ISREG(st.st_mode))
        return 0; /* sockets, fifos found inside directories */
    return files_add(f, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, err);
}

int dm__files_expand(struct dm__files *f, const char *const *inputs, size_t n, int keep_going,
                     struct dm_error *err)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        const char *in = inputs[i];
        int rc;
        if (strcmp(in, "-") == 0) {
            rc = files_add(f, "-", 0, err);
        } else if (strpbrk(in, "*?[")) {
            struct stat st;
            if (stat(in, &st) == 0) {
                rc = add_path(f, in, 0, keep_going, err); /* a real name with '*' in it */
            } else {
                glob_t g;
                int gr = glob(in, 0, NULL, &g);
                if (gr == GLOB_NOMATCH) {
                    globfree(&g);
                    if (keep_going) {
                        f->failed++;
                        continue;
                    }
                    rc = dm_error_set(err, -ENOENT, "'%s' matches no file", in);
                } else if (gr != 0) {
                    globfree(&g);
                    rc = dm_error_set(err, -ENOMEM, "glob '%s' failed", in);
                } else {
                    rc = 0;
                    for (size_t k = 0; k < g.gl_pathc && !rc; k++)
                        rc = add_path(f, g.gl_pathv[k], 0, keep_going, err);
                    globfree(&g);
                }
            }
        } else {
            rc = add_path(f, in, 0, keep_going, err);
        }
        if (rc) {
            dm__files_release(f);
            return rc;
        }
    }
    return 0;
}

/* ---- reading ---- */

int dm__reader_open(struct dm__reader *r, const char *path, struct dm_error *err)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
        r->is_stdin = 1;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
            return dm_error_set(err, errno == ENOENT ? -ENOENT : -EIO, "cannot open '%s': %s",
                                path, strerror(errno));
    }
    r->raw = dm_malloc(RAW_BUF);
    if (!r->raw) {
        dm__reader_close(r);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    return 0;
}

void dm__reader_close(struct dm__reader *r)
{
    if (r->fd >= 0 && !r->is_stdin)
        close(r->fd);
    r->fd = -1;
    if (r->zs) {
        inflateEnd(r->zs);
        dm_free(r->zs);
    }
    ZSTD_freeDStream(r->zd);
    dm_free(r->raw);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

/* One read(2) of up to cap bytes into dst; the count (0 at the end of input), -EINTR or -EIO. */
static long read_some(struct dm__reader *r, char *dst, size_t cap, struct dm_error *err)
{
    /* Wait at most 250 ms so that a cancel request (a signal that arrived just before a
     * blocking read) is noticed by the caller: a timeout reports -EINTR too. */
    struct pollfd pfd = {r->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, 250);
    if (pr == 0 || (pr < 0 && errno == EINTR))
        return -EINTR;
    ssize_t k = read(r->fd, dst, cap > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap);
    if (k < 0 && errno == EINTR)
        return -EINTR; /* the caller checks for cancellation, then reads again */
    if (k < 0)
        return dm_error_set(err, -EIO, "read error: %s", strerror(errno));
    if (k == 0)
        r->raw_eof = 1;
    r->bytes_in += (uint64_t)k;
    return (long)k;
}

static int fill_raw(struct dm__reader *r, struct dm_error *err)
{
    if (r->rpos < r->rlen)
        return 0;
    r->rpos = r->rlen = 0;
    if (r->raw_eof)
        return 0;
    long k = read_some(r, r->raw, RAW_BUF, err);
    if (k < 0)
        return (int)k;
    r->rlen = (size_t)k;
    return 0;
}

static void *zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return dm_calloc(items, size);
}

static void zfree(void *opaque, void *p)
{
    (void)opaque;
    dm_free(p);
}

static int setup(struct dm__reader *r, struct dm_error *err)
{
    r->started = 1;
    int rc = fill_raw(r, err);
    if (rc)
        return rc;
    const uint8_t *b = (const uint8_t *)r->raw;
    if (r->rlen >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        r->zs = dm_calloc(1, sizeof(*r->zs));
        if (!r->zs)
            return dm_error_set(err, -ENOMEM, "out of memory");
        r->zs->zalloc = zalloc;
        r->zs->zfree = zfree;
        if (inflateInit2(r->zs, 15 + 16) != Z_OK) {
            dm_free(r->zs);
            r->zs = NULL;
            return dm_error_set(err, -ENOMEM, "cannot start gzip decoder");
        }
        r->kind = 1;
    } else if (r->rlen >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
        r->zd = ZSTD_createDStream();
        if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd)))
            return dm_error_set(err, -ENOMEM, "cannot start zstd decoder");
        /* Bound the window so a hostile frame cannot make us allocate gigabytes. */
        ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, 27);
        r->kind = 2;
    }
    return 0;
}

long dm__reader_read(struct dm__reader *r, char *buf, size_t cap, struct dm_error *err)
{
    int rc;
    if (!r->started && (rc = setup(r, err)))
        return rc;
    if (r->kind == 0) {
        /* Plain input: large reads go straight into the caller's buffer (no copy). */
        if (r->rpos == r->rlen && cap >= RAW_BUF) {
            if (r->raw_eof)
                return 0;
            return read_some(r, buf, cap, err);
        }
        if ((rc = fill_raw(r, err)))
            return rc;
        size_t k = r->rlen - r->rpos < cap ? r->rlen - r->rpos : cap;
        memcpy(buf, r->raw + r->rpos, k);
        r->rpos += k;
        return (long)k;
    }
    size_t produced = 0;
    while (produced == 0) {
        if ((rc = fill_raw(r, err)))
            return rc;
        if (r->rpos == r->rlen && r->raw_eof) {
            if (r->in_frame)
                return dm_error_set(err, DM_ECORRUPT, "truncated %s stream",
                                    r->kind == 1 ? "gzip" : "zstd");
            return 0;
        }
        if (r->kind == 1) {
            r->zs->next_in = (Bytef *)r->raw + r->rpos;
            r->zs->avail_in = (uInt)(r->rlen - r->rpos);
            r->zs->next_out = (Bytef *)buf;
            r->zs->avail_out = (uInt)(cap > (1u << 30) ? (1u << 30) : cap);
            uInt out0 = r->zs->avail_out;
            int zr = inflate(r->zs, Z_NO_FLUSH);
            r->rpos = r->rlen - r->zs->avail_in;
            produced = out0 - r->zs->avail_out;
            r->in_frame = 1;
            if (zr == Z_STREAM_END) {
                r->in_frame = 0;
                if (inflateReset(r->zs) != Z_OK)
                    return dm_error_set(err, DM_ECORRUPT, "gzip reset failed");
            } else if (zr == Z_BUF_ERROR && produced == 0 && r->rpos < r->rlen) {
                return dm_error_set(err, DM_ECORRUPT, "corrupt gzip stream");
            } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
                return dm_error_set(err, zr == Z_MEM_ERROR ? -ENOMEM : DM_ECORRUPT,
                                    "corrupt gzip stream (%s)", r->zs->msg ? r->zs->msg : "?");
            }
        } else {
            ZSTD_inBuffer in = {r->raw, r->rlen, r->rpos};
            ZSTD_outBuffer out = {buf, cap, 0};
            size_t zr = ZSTD_decompressStream(r->zd, &out, &in);
            if (ZSTD_isError(zr))
                return dm_error_set(err, DM_ECORRUPT, "corrupt zstd stream (%s)",
                                    ZSTD_getErrorName(zr));
            r->rpos = in.pos;
            produced = out.pos;
            r->in_frame = zr != 0;
        }
    }
    return (long)produced;
}
