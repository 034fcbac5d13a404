/* datamate gen: synthetic firewall logs with planted exfiltration. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_cli.h"
#include "dm_gen.h"
#include "dm_pool.h"
#include "banned.h"

static void gen_usage(FILE *f)
{
    fprintf(f,
            "usage: datamate gen -o FILE [--rows N] [--seed S] [--schema NAME] [--days D]\n"
            "                    [--truth FILE] [--config FILE] [--threads N] [--quiet]\n"
            "\n"
            "Writes realistic synthetic firewall / flow logs as JSON lines: thousands of\n"
            "workstations, servers with roles, a DMZ and a Zipf-distributed internet, with\n"
            "diurnal and weekly rhythm, plus planted exfiltration scenarios and benign\n"
            "look-alikes. The same arguments always give the same bytes.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE   output file ('-' for standard output); written to a\n"
            "                      temporary name and renamed when complete\n"
            "  -n, --rows N        number of lines, exactly (default 1000000; K/M/G suffixes)\n"
            "  -s, --seed S        random seed (default 1)\n"
            "  -S, --schema NAME   datamate (default: the earlier tool's SIEM export),\n"
            "                      ecs (Elastic Common Schema), zeek (conn.log JSON),\n"
            "                      suricata (eve.json flow events)\n"
            "  -d, --days D        length of the time range in days, 1-%d (default 7),\n"
            "                      starting 2026-03-02T00:00:00Z (a Monday)\n"
            "  -t, --truth FILE    write the planted scenarios (ground truth) as JSON; also\n"
            "                      writes config.json next to it unless --config is given\n"
            "  -c, --config FILE   write a datamate config.json describing the network\n"
            "  -j, --threads N     worker threads (default: all cores); output is identical\n"
            "                      for every N\n"
            "  -q, --quiet         no progress or summary on standard error\n"
            "  -h, --help          show this help\n"
            "\n"
            "example:\n"
            "  datamate gen -o flows.jsonl --rows 1M --truth truth.json\n"
            "\n"
            "See docs/gen.md for the network, the scenarios and the field names.\n",
            DM_GEN_MAX_DAYS);
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct out {
    int fd;
    const char *name; /* user-visible name */
    int err;          /* errno of a failed write */
    int progress;     /* show a progress line */
    uint64_t rows;
    struct timespec t0, last;
};

static double secs_since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int sink(void *ctx, const char *p, size_t n, uint64_t rows_done)
{
    struct out *o = ctx;
    if (interrupted)
        return DM_ECANCELED;
    while (n > 0) {
        ssize_t w = write(o->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                if (interrupted)
                    return DM_ECANCELED;
                continue;
            }
            o->err = errno;
            return -EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    if (o->progress) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (secs_since(&o->t0, &now) > 1.0 && secs_since(&o->last, &now) > 0.25) {
            fprintf(stderr, "\rgen: %3.0f%% %llu / %llu rows", 100.0 * (double)rows_done / (double)o->rows,
                    (unsigned long long)rows_done, (unsigned long long)o->rows);
            o->last = now;
        }
    }
    return 0;
}

/* Opens a temporary file next to path; fills tmp (caller buffer). Returns fd or -1. */
static int open_tmp(const char *path, char *tmp, size_t cap)
{
    if ((size_t)snprintf(tmp, cap, "%s.tmp-XXXXXX", path) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        mode_t mask = umask(0); /* read the umask: mkstemp always creates 0600 */
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    return fd;
}

/* An output file being written under a temporary name next to its final path. A path
 * that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is written in
 * place: renaming over it would replace the device or pipe with a file. */
struct pending {
    const char *path;
    char tmp[4096]; /* "" when writing in place */
    int fd;         /* -1 when not open */
};

/* Creates the temporary file (or opens the special file); 0 or 1 (message printed). */
static int pending_open(struct pending *f, const char *path)
{
    struct stat st;
    f->path = path;
    f->tmp[0] = '\0';
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return dm_cli_fail("cannot write '%s': %s", path, strerror(EISDIR));
        if ((f->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
            return dm_cli_fail("cannot open '%s': %s", path, strerror(errno));
        return 0;
    }
    if ((f->fd = open_tmp(path, f->tmp, sizeof(f->tmp))) < 0)
        return dm_cli_fail("cannot create '%s': %s", path, strerror(errno));
    return 0;
}

/* Writes all of data; 0 or 1 (message printed). */
static int pending_write(struct pending *f, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(f->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return dm_cli_fail("cannot write '%s': %s", f->path, strerror(errno));
        off += (size_t)w;
    }
    return 0;
}

/* Closes and, when ok, renames to the final name; otherwise removes the temporary file.
 * Returns 0 or 1 (message printed). */
static int pending_finish(struct pending *f, int ok)
{
    if (f->fd < 0)
        return 0;
    int rc = close(f->fd);
    f->fd = -1;
    if (!f->tmp[0])
        return ok && rc != 0 ? dm_cli_fail("cannot write '%s': %s", f->path, strerror(errno)) : 0;
    if (ok && (rc != 0 || rename(f->tmp, f->path) != 0)) {
        int e = errno;
        unlink(f->tmp);
        return dm_cli_fail("cannot write '%s': %s", f->path, strerror(e));
    }
    if (!ok)
        unlink(f->tmp);
    return 0;
}

/* "dir/config.json" for a truth path "dir/x.json" (or "config.json" without a dir). */
static void sibling_config(const char *truth, char *out, size_t cap)
{
    const char *slash = strrchr(truth, '/');
    if (!slash)
        snprintf(out, cap, "config.json");
    else
        snprintf(out, cap, "%.*s/config.json", (int)(slash - truth), truth);
}

int cmd_gen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"rows", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},   {"schema", required_argument, NULL, 'S'},
        {"days", required_argument, NULL, 'd'},   {"truth", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'}, {"threads", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct dm_gen_options opt = {1000000, 1, 7, DM_GEN_DATAMATE};
    const char *output = NULL, *truth = NULL, *config = NULL;
    unsigned threads = 0;
    int quiet = 0, c;
    unsigned long long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:n:s:S:d:t:c:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'n':
            if (dm_cli_parse_count(optarg, &v) || v == 0)
                return dm_cli_usage_error("gen", "--rows wants a positive count, not '%s'", optarg);
            opt.rows = v;
            break;
        case 's': {
            char *end;
            errno = 0;
            v = strtoull(optarg, &end, 0);
            if (errno || !*optarg || *end || *optarg == '-')
                return dm_cli_usage_error("gen", "--seed wants a non-negative integer, not '%s'",
                                          optarg);
            opt.seed = v;
            break;
        }
        case 'S':
            if (dm_gen_schema_parse(optarg, &opt.schema))
                return dm_cli_usage_error("gen",
                                          "unknown schema '%s' (datamate, ecs, zeek, suricata)",
                                          optarg);
            break;
        case 'd':
            if (dm_cli_parse_count(optarg, &v) || v < 1 || v > DM_GEN_MAX_DAYS)
                return dm_cli_usage_error("gen", "--days wants 1 to %d, not '%s'",
                                          DM_GEN_MAX_DAYS, optarg);
            opt.days = (unsigned)v;
            break;
        case 't': truth = optarg; break;
        case 'c': config = optarg; break;
        case 'j':
            if (!(threads = dm_cli_threads(optarg)))
                return dm_cli_usage_error("gen", "--threads wants 1 to 1024, not '%s'", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': gen_usage(stdout); return 0;
        case ':': return dm_cli_usage_error("gen", "option '%s' needs a value", argv[optind - 1]);
        default:
            return dm_cli_usage_error("gen", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return dm_cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
    if (!output)
        return dm_cli_usage_error("gen", "missing -o FILE (use '-o -' for standard output)");
    if (opt.rows < dm_gen_min_rows(opt.days))
        return dm_cli_usage_error("gen",
                                  "--rows %llu is too small: the planted scenarios need at "
                                  "least %llu rows for %u days",
                                  (unsigned long long)opt.rows,
                                  (unsigned long long)dm_gen_min_rows(opt.days), opt.days);
    int to_stdout = !strcmp(output, "-");
    char cfgbuf[4096];
    struct stat tst;
    if (!config && truth && (stat(truth, &tst) != 0 || S_ISREG(tst.st_mode))) {
        /* config.json goes next to a truth file, not next to /dev/null or a pipe */
        sibling_config(truth, cfgbuf, sizeof(cfgbuf));
        config = cfgbuf;
    }

    struct dm_error err;
    dm_error_clear(&err);
    struct dm_gen *g = NULL;
    int rc = dm_gen_new(&g, &opt, &err);
    if (rc)
        return rc == -EINVAL ? dm_cli_usage_error("gen", "%s", err.msg)
                             : dm_cli_fail("gen: %s", err.msg);

    unsigned nthreads = threads ? threads : dm_cpu_count();
    struct dm_pool *pool = NULL;
    if (nthreads > 1 && !(pool = dm_pool_new(nthreads))) {
        dm_gen_free(g);
        return dm_cli_fail("gen: cannot start %u threads", nthreads);
    }

    /* Every output file is created (under a temporary name) before any work, and all are
     * renamed only when everything succeeded. */
    struct pending files[3] = {{.fd = -1}, {.fd = -1}, {.fd = -1}}; /* data, truth, config */
    int status = 0;
    if (!to_stdout)
        status = pending_open(&files[0], output);
    if (!status && truth)
        status = pending_open(&files[1], truth);
    if (!status && config)
        status = pending_open(&files[2], config);
    if (status) {
        for (int i = 0; i < 3; i++)
            pending_finish(&files[i], 0);
        dm_pool_free(pool);
        dm_gen_free(g);
        return status;
    }
    struct out o = {.fd = to_stdout ? 1 : files[0].fd,
                    .name = to_stdout ? "standard output" : output,
                    .rows = opt.rows,
                    .progress = !quiet && isatty(2)};
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    clock_gettime(CLOCK_MONOTONIC, &o.t0);
    o.last = o.t0;

    rc = dm_gen_write(g, pool, sink, &o, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    dm_pool_free(pool);
    if (o.progress)
        fputs("\r\033[K", stderr);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = secs_since(&o.t0, &t1);

    if (rc == DM_ECANCELED)
        status = dm_cli_fail("gen: interrupted; '%s' not written", o.name);
    else if (rc == -EIO)
        status = dm_cli_fail("cannot write '%s': %s", o.name, strerror(o.err ? o.err : EIO));
    else if (rc)
        status = dm_cli_fail("gen: %s", err.msg);

    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    if (!status && truth)
        status = dm_gen_truth_json(g, &b) ? dm_cli_fail("gen: out of memory")
                                          : pending_write(&files[1], b.data, b.len);
    if (!status && config) {
        dm_buf_reset(&b);
        status = dm_gen_config_json(g, &b) ? dm_cli_fail("gen: out of memory")
                                           : pending_write(&files[2], b.data, b.len);
    }
    dm_buf_release(&b);
    for (int i = 0; i < 3; i++)
        if (pending_finish(&files[i], !status))
            status = 1;
    if (!status && !quiet) {
        fprintf(stderr, "gen: wrote %llu rows (%s schema, %u days, seed %llu) to %s in %.2f s",
                (unsigned long long)opt.rows, dm_gen_schema_name(opt.schema), opt.days,
                (unsigned long long)opt.seed, o.name, secs);
        if (secs > 0)
            fprintf(stderr, " (%.2f M rows/s)", (double)opt.rows / secs / 1e6);
        fputc('\n', stderr);
        if (truth)
            fprintf(stderr, "gen: ground truth in %s\n", truth);
        if (config)
            fprintf(stderr, "gen: network config in %s\n", config);
    }
    dm_gen_free(g);
    return status;
}
