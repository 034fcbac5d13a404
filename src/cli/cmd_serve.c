/* datamate serve: load DATA into the engine and serve the web UI and JSON API. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_cli.h"
#include "dm_engine.h"
#include "dm_http.h"
#include "dm_net.h"
#include "dm_pool.h"
#include "banned.h"

extern char **environ;

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8050
#define PORT_TRIES 20 /* with the default port, try the next ones when busy */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: datamate serve DATA [--config FILE] [--listen HOST:PORT] [--no-open]\n"
            "                      [--token TOKEN] [--threads N] [--quiet]\n"
            "       datamate serve --config config.json --datafile FILE   (the earlier tool's form)\n"
            "\n"
            "Loads DATA (a Parquet file, a directory of Parquet files or a glob) and serves the\n"
            "web UI and its JSON API (docs/api.md), then opens the browser.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE      config.json: template, targeted_cols, known_servers,\n"
            "                         internal_networks (docs/config.md)\n"
            "      --datafile FILE    DATA given as an option (earlier tool's command line)\n"
            "  -l, --listen HOST:PORT address to listen on (default " DEFAULT_HOST ":%d; port 0 =\n"
            "                         any free port). A non-loopback address requires a token\n"
            "      --token TOKEN      access token; generated and printed when listening on a\n"
            "                         non-loopback address without one\n"
            "      --no-open          do not open the browser\n"
            "  -t, --threads N        worker threads (default: all cores)\n"
            "  -q, --quiet            no progress or status messages on stderr\n"
            "  -h, --help             this help\n"
            "\n"
            "Prints the page's URL on stdout; stops on Ctrl-C (SIGINT) or SIGTERM.\n",
            DEFAULT_PORT);
}

/* Splits "HOST:PORT", "[V6]:PORT", "HOST" or ":PORT" / "PORT". */
static int parse_listen(const char *s, char *host, size_t hostsz, unsigned *port, int *port_given)
{
    const char *h;
    size_t hl;
    unsigned p;
    *port_given = 0;
    if (s[0] == ':' || (s[0] >= '0' && s[0] <= '9' && !strchr(s, '.') && !strchr(s, ':'))) {
        char *end;
        unsigned long v = strtoul(s[0] == ':' ? s + 1 : s, &end, 10);
        if (*end || v > 65535 || end == (s[0] == ':' ? s + 1 : s))
            return -EINVAL;
        snprintf(host, hostsz, "%s", DEFAULT_HOST);
        *port = (unsigned)v;
        *port_given = 1;
        return 0;
    }
    size_t n = strlen(s);
    /* ":0" is valid for us (any port) but not in a Host header: accept it here. */
    int zero = n >= 2 && !strcmp(s + n - 2, ":0");
    if (dm_http_split_hostport(s, zero ? n - 2 : n, &h, &hl, &p) || hl >= hostsz)
        return -EINVAL;
    struct dm_ip ip;
    if (!(hl == 9 && !memcmp(h, "localhost", 9)) && dm_ip_parse(h, hl, &ip))
        return -EINVAL; /* an IP address to bind, or localhost */
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = zero ? 0 : p ? p : DEFAULT_PORT;
    *port_given = zero || p;
    return 0;
}

/* Progress on stderr while loading (called from worker threads). */
struct progress {
    pthread_mutex_t mu;
    int last;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    int pct = total ? (int)(done * 100 / total) : 100;
    pthread_mutex_lock(&p->mu);
    if (pct != p->last) {
        p->last = pct;
        fprintf(stderr, "\rloading: %3d%% (%llu / %llu rows)", pct, (unsigned long long)done,
                (unsigned long long)total);
    }
    pthread_mutex_unlock(&p->mu);
}

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    ssize_t r = write(stop_pipe[1], &c, 1);
    (void)r;
}

static void open_browser(const char *url, int quiet)
{
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!w || !*w)) {
        if (!quiet)
            fprintf(stderr, "no display: open the URL above in a browser\n");
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char prog[] = "xdg-open";
    char *argv[] = {prog, (char *)(uintptr_t)url, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, prog, &fa, NULL, argv, environ) != 0 && !quiet)
        fprintf(stderr, "cannot run xdg-open: open the URL above in a browser\n");
    posix_spawn_file_actions_destroy(&fa);
    /* xdg-open exits quickly; SIGCHLD is ignored below so it does not linger as a zombie. */
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"datafile", required_argument, NULL, 'D'},
        {"listen", required_argument, NULL, 'l'}, {"token", required_argument, NULL, 'T'},
        {"no-open", no_argument, NULL, 'N'},      {"threads", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *datafile = NULL, *listen = NULL, *token = NULL;
    const char *threads_s = NULL;
    int no_open = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:l:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'D': datafile = optarg; break;
        case 'l': listen = optarg; break;
        case 'T': token = optarg; break;
        case 'N': no_open = 1; break;
        case 't': threads_s = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *data = datafile;
    if (optind < argc) {
        if (datafile)
            return dm_cli_usage_error("serve", "give DATA or --datafile, not both");
        data = argv[optind++];
    }
    if (optind < argc)
        return dm_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!data)
        return dm_cli_usage_error("serve", "missing DATA (a Parquet file, directory or glob)");
    unsigned nthreads = 0;
    if (threads_s && !(nthreads = dm_cli_threads(threads_s)))
        return dm_cli_usage_error("serve", "bad --threads '%s'", threads_s);
    char host[256];
    unsigned port = DEFAULT_PORT;
    int port_given = 0;
    snprintf(host, sizeof(host), "%s", DEFAULT_HOST);
    if (listen && parse_listen(listen, host, sizeof(host), &port, &port_given))
        return dm_cli_usage_error("serve", "bad --listen '%s' (use IP:PORT, e.g. 127.0.0.1:8050)",
                                  listen);
    if (token) {
        if (strlen(token) < 8 || strlen(token) > 128)
            return dm_cli_usage_error("serve", "--token must be 8 to 128 characters");
        for (const char *p = token; *p; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_' || *p == '.'))
                return dm_cli_usage_error("serve", "--token may only use letters, digits, '-', '_' and '.'");
    }
    int loopback = !strcmp(host, "localhost") || dm_http_is_loopback_name(host, strlen(host));
    char gen_token[65];
    if (!loopback && !token) {
        if (dm_http_token_generate(gen_token, 24))
            return dm_cli_fail("cannot generate an access token");
        token = gen_token;
    }

    int rc = 1;
    struct dm_config cfg;
    struct dm_error err;
    struct dm_pool *pool = NULL;
    struct dm_table *table = NULL;
    struct dm_http_server *srv = NULL;
    dm_error_clear(&err);
    if (dm_config_init(&cfg))
        return dm_cli_fail("out of memory");
    if (config_path && dm_config_load(&cfg, config_path, &err)) {
        dm_cli_fail("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < cfg.nwarnings && !quiet; i++)
        fprintf(stderr, "datamate: %s: %s\n", config_path, cfg.warnings[i]);
    pool = dm_pool_new(nthreads);
    if (!pool) {
        dm_cli_fail("cannot start worker threads");
        goto out;
    }
    struct progress prog = {.last = -1};
    pthread_mutex_init(&prog.mu, NULL);
    struct dm_load_opts lo = {.config = &cfg, .pool = pool};
    if (!quiet && isatty(2)) {
        lo.progress = on_progress;
        lo.progress_ctx = &prog;
    }
    int lrc = dm_table_load(&table, data, &lo, &err);
    if (lo.progress && prog.last >= 0)
        fputc('\n', stderr);
    pthread_mutex_destroy(&prog.mu);
    if (lrc) {
        dm_cli_fail("%s", err.msg[0] ? err.msg : dm_strerror(lrc));
        goto out;
    }

    struct dm_http_app app = {
        .table = table, .config = &cfg, .data_name = data, .version = DM_VERSION, .pool = pool};
    struct dm_http_server_opts so = {.host = host, .port = port, .token = token};
    int tries = port_given ? 1 : PORT_TRIES;
    for (int i = 0; i < tries; i++) {
        so.port = port + (unsigned)i;
        dm_error_clear(&err);
        int src = dm_http_server_start(&srv, &app, &so, &err);
        if (!src)
            break;
        if (src != -EADDRINUSE || i == tries - 1) {
            dm_cli_fail("%s", err.msg);
            goto out;
        }
    }

    char url[512];
    const char *shown = host;
    char hn[256];
    if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::")) {
        if (!gethostname(hn, sizeof(hn)))
            shown = hn;
    }
    int v6 = strchr(shown, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%u/%s%s", v6 ? "[" : "", shown, v6 ? "]" : "",
             dm_http_server_port(srv), token ? "?token=" : "", token ? token : "");
    if (!quiet)
        fprintf(stderr, "datamate: serving %llu flows from %s (Ctrl-C to stop)\n",
                (unsigned long long)table->nrows, data);
    printf("%s\n", url);
    fflush(stdout);

    if (pipe(stop_pipe)) {
        dm_cli_fail("cannot create a pipe");
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (!no_open)
        open_browser(url, quiet);
    for (;;) {
        struct pollfd pfd = {.fd = stop_pipe[0], .events = POLLIN};
        if (poll(&pfd, 1, -1) > 0)
            break;
    }
    if (!quiet)
        fprintf(stderr, "datamate: stopping\n");
    rc = 0;
out:
    dm_http_server_stop(srv);
    dm_table_free(table);
    dm_pool_free(pool);
    dm_config_release(&cfg);
    if (stop_pipe[0] >= 0) {
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        stop_pipe[0] = stop_pipe[1] = -1;
    }
    return rc;
}
