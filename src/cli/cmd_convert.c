/* datamate convert: logs → canonical Parquet. Option parsing, signals, progress bar and the
 * end-of-run summary; the work is dm_convert() in src/ingest. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_cli.h"
#include "dm_ingest.h"
#include "dm_parquet.h"
#include "banned.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: datamate convert INPUT... -o OUT [options]\n"
            "       datamate convert --list-presets\n"
            "\n"
            "Converts flow / firewall logs to Parquet in the canonical flow schema.\n"
            "INPUT: files, directories (recursive), globs or '-' (stdin); plain, .gz or .zst.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT         output Parquet file (directory with --partition day)\n"
            "  -f, --format FMT         auto (default), jsonl, nfdump-json, csv, tsv, zeek,\n"
            "                           nfdump-csv, vpcflow\n"
            "  -p, --preset NAME        field map: datamate, ecs, zeek, suricata, nfdump, pmacct,\n"
            "                           argus, vpcflow (default: detected per input)\n"
            "  -m, --mapping FILE       mapping file (ours, or the old processing_config.json)\n"
            "      --partition day      write OUT/day=YYYY-MM-DD/part-NNNNN.parquet\n"
            "      --compression C      zstd (default), snappy, gzip, none\n"
            "  -t, --threads N          worker threads (default: all cores)\n"
            "      --rejects FILE       write every rejected record with its reason\n"
            "      --timezone TZ        zone of timestamps without one: UTC (default), +02:00,\n"
            "                           or a name like Europe/Paris\n"
            "      --max-line BYTES     longest accepted record (default 1M)\n"
            "  -k, --keep-going         skip inputs that cannot be read instead of failing\n"
            "  -q, --quiet              no progress bar and no summary\n"
            "      --list-presets       list the presets and their field maps\n"
            "  -h, --help               this help\n"
            "\n"
            "Exit status: 0 when records were written (rejects are reported, not fatal);\n"
            "1 when an input cannot be read or nothing could be written; 2 on usage errors.\n");
}

static int list_presets(void)
{
    size_t n;
    const struct dm_preset *p = dm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        printf("%s%s — %s\n", i ? "\n" : "", p[i].name, p[i].summary);
        for (const char *const *r = p[i].rules; *r; r++) {
            const char *eq = strchr(*r, '=');
            if (!strncmp(*r, "filter:", 7)) {
                int neg = eq[-1] == '!';
                printf("  %-12s %.*s %s %s\n", "filter", (int)(eq - *r - 7 - neg), *r + 7,
                       neg ? "not in" : "in", eq + 1);
            } else {
                printf("  %-12.*s %s\n", (int)(eq - *r), *r, eq + 1);
            }
        }
    }
    return 0;
}

static int parse_tz(const char *s, struct dm_convert_opts *o)
{
    if (!strcmp(s, "UTC") || !strcmp(s, "Z") || !strcmp(s, "utc")) {
        o->tz_fixed_s = 0;
        return 0;
    }
    if (s[0] == '+' || s[0] == '-') {
        int64_t us;
        char buf[48];
        snprintf(buf, sizeof(buf), "1970-01-02T00:00:00%s", s);
        if (dm_parse_ts(buf, strlen(buf), 0, &us))
            return -EINVAL;
        o->tz_fixed_s = 86400 - us / 1000000;
        return 0;
    }
    if (strstr(s, "..") || s[0] == '/' || strlen(s) > 64)
        return -EINVAL;
    char path[128];
    struct stat st;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -EINVAL;
    if (setenv("TZ", s, 1) != 0)
        return -EINVAL;
    tzset();
    o->tz_local = 1;
    return 0;
}

struct progress {
    struct timespec start;
    double last;
    int shown;
};

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void human(char *out, size_t cap, double v)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4)
        v /= 1000, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void on_progress(void *ctx, const struct dm_convert_stats *st)
{
    struct progress *p = ctx;
    double t = elapsed(&p->start);
    if (t < 1.0 || t - p->last < 0.1)
        return;
    p->last = t;
    p->shown = 1;
    char done[32], total[32];
    human(done, sizeof(done), (double)st->bytes_in);
    double rate = (double)st->read / t;
    if (st->bytes_total && st->bytes_in <= st->bytes_total) {
        human(total, sizeof(total), (double)st->bytes_total);
        double frac = (double)st->bytes_in / (double)st->bytes_total;
        double eta = frac > 0 ? t / frac - t : 0;
        int bar = (int)(frac * 30);
        char b[31];
        for (int i = 0; i < 30; i++)
            b[i] = i < bar ? '#' : '.';
        b[30] = '\0';
        fprintf(stderr, "\r[%s] %3.0f%% %s / %s  %.0fk records/s  ETA %d:%02d ", b, frac * 100,
                done, total, rate / 1000, (int)eta / 60, (int)eta % 60);
    } else {
        fprintf(stderr, "\r%s  %.0fk records/s ", done, rate / 1000);
    }
    fflush(stderr);
}

static void summary(const struct dm_convert_opts *o, const struct dm_convert_stats *st, double t)
{
    char in[32];
    human(in, sizeof(in), (double)st->bytes_in);
    fprintf(stderr,
            "convert: read %llu = written %llu + rejected %llu (%llu file%s, %s, %.2f s)",
            (unsigned long long)st->read, (unsigned long long)st->written,
            (unsigned long long)st->rejected, (unsigned long long)st->files,
            st->files == 1 ? "" : "s", in, t);
    if (st->written)
        fprintf(stderr, " -> %s", o->output);
    fputc('\n', stderr);
    if (st->files_failed)
        fprintf(stderr, "  %llu input%s skipped (unreadable)\n",
                (unsigned long long)st->files_failed, st->files_failed == 1 ? "" : "s");
    if (st->rejected) {
        fprintf(stderr, "rejected by reason:\n");
        for (int r = 0; r < DM_REJ__COUNT; r++)
            if (st->by_reason[r])
                fprintf(stderr, "  %10llu  %s\n", (unsigned long long)st->by_reason[r],
                        dm_reject_name((enum dm_reject)r));
    }
    if (st->nexamples) {
        fprintf(stderr, "first problems:\n");
        for (size_t i = 0; i < st->nexamples; i++) {
            const struct dm_convert_example *e = &st->examples[i];
            if (e->reason == DM_REJ__COUNT)
                fprintf(stderr, "  skipped: %s\n", e->detail);
            else
                fprintf(stderr, "  %s: %s%s%s\n", e->where, dm_reject_name(e->reason),
                        e->detail[0] ? ": " : "", e->detail);
        }
    }
}

int cmd_convert(int argc, char **argv)
{
    enum {
        OPT_PARTITION = 256,
        OPT_COMPRESSION,
        OPT_REJECTS,
        OPT_TIMEZONE,
        OPT_LIST,
        OPT_MAXLINE,
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"preset", required_argument, NULL, 'p'},
        {"mapping", required_argument, NULL, 'm'},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"threads", required_argument, NULL, 't'},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"timezone", required_argument, NULL, OPT_TIMEZONE},
        {"max-line", required_argument, NULL, OPT_MAXLINE},
        {"keep-going", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"list-presets", no_argument, NULL, OPT_LIST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dm_convert_opts o;
    memset(&o, 0, sizeof(o));
    o.codec = DM_PQ_ZSTD;
    o.version = DM_VERSION;
    const char *mapping = NULL;
    int quiet = 0, list = 0, ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":o:f:p:m:t:kqh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.output = optarg; break;
        case 'f':
            if (dm_ingest_format_parse(optarg, &o.format))
                return dm_cli_usage_error("convert", "unknown format '%s'", optarg);
            break;
        case 'p':
            if (!dm_preset_find(optarg))
                return dm_cli_usage_error("convert",
                                          "unknown preset '%s' (see --list-presets)", optarg);
            o.preset = optarg;
            break;
        case 'm': mapping = optarg; break;
        case OPT_PARTITION:
            if (strcmp(optarg, "day") && strcmp(optarg, "none"))
                return dm_cli_usage_error("convert", "--partition takes 'day'");
            o.partition = strcmp(optarg, "day") == 0 ? DM_PART_DAY : DM_PART_NONE;
            break;
        case OPT_COMPRESSION:
            if (!strcmp(optarg, "zstd"))
                o.codec = DM_PQ_ZSTD;
            else if (!strcmp(optarg, "snappy"))
                o.codec = DM_PQ_SNAPPY;
            else if (!strcmp(optarg, "gzip"))
                o.codec = DM_PQ_GZIP;
            else if (!strcmp(optarg, "none") || !strcmp(optarg, "uncompressed"))
                o.codec = DM_PQ_UNCOMPRESSED;
            else
                return dm_cli_usage_error("convert", "unknown compression '%s'", optarg);
            break;
        case 't':
            o.threads = dm_cli_threads(optarg);
            if (!o.threads)
                return dm_cli_usage_error("convert", "bad --threads '%s'", optarg);
            break;
        case OPT_REJECTS: o.rejects_path = optarg; break;
        case OPT_TIMEZONE:
            if (parse_tz(optarg, &o))
                return dm_cli_usage_error("convert", "unknown time zone '%s'", optarg);
            break;
        case OPT_MAXLINE: {
            unsigned long long v;
            if (dm_cli_parse_count(optarg, &v) || v < 64 || v > (256ull << 20))
                return dm_cli_usage_error("convert", "bad --max-line '%s' (64 .. 256M)", optarg);
            o.max_line = (size_t)v;
            break;
        }
        case 'k': o.keep_going = 1; break;
        case 'q': quiet = 1; break;
        case OPT_LIST: list = 1; break;
        case 'h': usage(stdout); return 0;
        case ':':
            return dm_cli_usage_error("convert", "option '%s' needs a value", argv[optind - 1]);
        default:
            return dm_cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (list)
        return list_presets();
    if (optind >= argc)
        return dm_cli_usage_error("convert", "no input given");
    if (!o.output)
        return dm_cli_usage_error("convert", "no output given (-o OUT)");
    if (mapping && o.preset)
        return dm_cli_usage_error("convert", "--mapping and --preset exclude each other");
    o.inputs = (const char *const *)argv + optind;
    o.ninputs = (size_t)(argc - optind);

    struct dm_error err;
    dm_error_clear(&err);
    struct dm_ingest_map *map = NULL;
    if (mapping) {
        enum dm_in_format mf;
        if (dm_ingest_map_load(&map, &mf, mapping, &err))
            return dm_cli_fail("convert: %s", err.msg);
        if (o.format == DM_IN_AUTO)
            o.format = mf;
        o.map = map;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_flag = 0;
    o.cancel = &stop_flag;

    struct progress pr;
    memset(&pr, 0, sizeof(pr));
    clock_gettime(CLOCK_MONOTONIC, &pr.start);
    if (!quiet && isatty(STDERR_FILENO)) {
        o.progress = on_progress;
        o.progress_ctx = &pr;
    }
    struct dm_convert_stats st;
    int rc = dm_convert(&o, &st, &err);
    if (pr.shown)
        fprintf(stderr, "\r%*s\r", 100, "");
    if (!quiet || rc)
        summary(&o, &st, elapsed(&pr.start));
    if (rc)
        dm_cli_fail("convert: %s", err.msg[0] ? err.msg : dm_strerror(rc));
    dm_convert_stats_release(&st);
    dm_ingest_map_free(map);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return rc ? 1 : 0;
}
