/* datamate demo: the first thing a new user runs. Zero arguments: generate a week of
 * synthetic firewall logs with planted exfiltration (gen), convert them to Parquet
 * (convert), rank the leaking hosts (hunt) and open the web UI on them (serve). Each step is
 * the real command, run in-process with the arguments a user would type; the steps are
 * printed so the user can repeat them by hand. Data already made is reused. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dm_cli.h"
#include "dm_pq_reader.h"
#include "banned.h"

#define DEMO_ARGS_MAX 24

/* Rows in the demo's Parquet file, or -1 when it cannot be read (then it is made again). */
static long long parquet_rows(const char *path)
{
    struct dm_pq_reader *r;
    struct dm_error err;
    dm_error_clear(&err);
    if (dm_pq_reader_open(&r, path, &err)) {
        fprintf(stderr, "demo: %s: making the data again\n", err.msg);
        return -1;
    }
    long long n = (long long)dm_pq_reader_meta(r)->num_rows;
    dm_pq_reader_free(r);
    return n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: datamate demo [--dir DIR] [--rows N] [--listen HOST:PORT] [--no-open]\n"
               "                     [--regen] [--no-serve]\n"
               "\n"
               "Generates a week of synthetic firewall logs with planted exfiltration, converts\n"
               "them to Parquet, lists what the hunt finds and opens the web UI on them. The\n"
               "commands it runs are printed; data already in DIR is reused.\n"
               "\n"
               "options:\n"
               "  -d, --dir DIR          where the demo data goes (default ./demo)\n"
               "  -n, --rows N           flows to generate (default 1M; K/M suffixes)\n"
               "  -l, --listen HOST:PORT address of the web UI (default 127.0.0.1:8050)\n"
               "      --no-open          do not open the browser\n"
               "      --regen            generate and convert again even if DIR has the data\n"
               "      --no-serve         stop after the hunt (no web server)\n"
               "  -h, --help             this help\n");
}

/* Runs one command in-process after echoing it; returns its exit code. */
static int demo_run(int (*fn)(int, char **), char **argv)
{
    int argc = 0;
    fputs("\n$ datamate", stderr);
    for (; argv[argc]; argc++)
        fprintf(stderr, " %s", argv[argc]);
    fputc('\n', stderr);
    fflush(stderr);
    return fn(argc, argv);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},  {"rows", required_argument, NULL, 'n'},
        {"listen", required_argument, NULL, 'l'}, {"no-open", no_argument, NULL, 'O'},
        {"regen", no_argument, NULL, 'R'},      {"no-serve", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *dir = "demo", *rows = "1000000", *listen = NULL;
    int no_open = 0, regen = 0, no_serve = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":d:n:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'n': rows = optarg; break;
        case 'l': listen = optarg; break;
        case 'O': no_open = 1; break;
        case 'R': regen = 1; break;
        case 'S': no_serve = 1; break;
        case 'h': usage(stdout); return 0;
        case ':': return dm_cli_usage_error("demo", "option '%s' needs a value", argv[optind - 1]);
        default: return dm_cli_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return dm_cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    unsigned long long nrows;
    if (dm_cli_parse_count(rows, &nrows) || nrows == 0)
        return dm_cli_usage_error("demo", "--rows needs a positive count, not '%s'", rows);
    if (strlen(dir) > 3000)
        return dm_cli_usage_error("demo", "--dir is too long");

    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dm_cli_fail("demo: cannot create directory '%s': %s", dir, strerror(errno));
    char jsonl[4096], parquet[4096], truth[4096], config[4096];
    snprintf(jsonl, sizeof(jsonl), "%s/flows.jsonl", dir);
    snprintf(parquet, sizeof(parquet), "%s/flows.parquet", dir);
    snprintf(truth, sizeof(truth), "%s/truth.json", dir);
    snprintf(config, sizeof(config), "%s/config.json", dir);

    char s_gen[] = "gen", s_o[] = "-o", s_rows[] = "--rows", s_seed[] = "--seed", s_1[] = "1",
         s_truth[] = "--truth", s_config[] = "--config", s_convert[] = "convert",
         s_hunt[] = "hunt", s_limit[] = "--limit", s_10[] = "10", s_serve[] = "serve",
         s_listen[] = "--listen", s_noopen[] = "--no-open";
    int rc;
    long long have = file_exists(parquet) ? parquet_rows(parquet) : -1;
    if (!regen && have >= 0 && file_exists(config) && (unsigned long long)have != nrows) {
        fprintf(stderr, "demo: %s has %lld rows, not %llu: making the data again\n", parquet,
                have, nrows);
        regen = 1;
    }
    if (regen || have < 0 || !file_exists(config)) {
        char *gen_argv[] = {s_gen,   s_o,     jsonl,   s_rows,   (char *)rows, s_seed, s_1,
                            s_truth, truth,   s_config, config,  NULL};
        if ((rc = demo_run(cmd_gen, gen_argv)))
            return rc;
        char *conv_argv[] = {s_convert, jsonl, s_o, parquet, NULL};
        if ((rc = demo_run(cmd_convert, conv_argv)))
            return rc;
    } else {
        fprintf(stderr, "demo: reusing %s and %s (--regen makes them again)\n", parquet, config);
    }
    char *hunt_argv[] = {s_hunt, parquet, s_config, config, s_limit, s_10, NULL};
    if ((rc = demo_run(cmd_hunt, hunt_argv)))
        return rc;
    fflush(stdout);
    if (no_serve)
        return 0;
    char *serve_argv[DEMO_ARGS_MAX];
    int n = 0;
    serve_argv[n++] = s_serve;
    serve_argv[n++] = parquet;
    serve_argv[n++] = s_config;
    serve_argv[n++] = config;
    if (listen) {
        serve_argv[n++] = s_listen;
        serve_argv[n++] = (char *)listen;
    }
    if (no_open)
        serve_argv[n++] = s_noopen;
    serve_argv[n] = NULL;
    return demo_run(cmd_serve, serve_argv);
}
