/* datamate: find data exfiltration in firewall / NetFlow logs. The command table. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_alloc.h"
#include "dm_cli.h"
#include "banned.h"

static const struct dm_cmd commands[] = {
    {"convert", cmd_convert, "convert flow / firewall logs to Parquet"},
    {"demo", cmd_demo, "generate, convert, hunt and serve demo data: the first thing to run"},
    {"gen", cmd_gen, "write synthetic firewall logs with planted exfiltration"},
    {"hunt", cmd_hunt, "rank hosts that sent data out, with the evidence"},
    {"inspect", cmd_inspect, "show a Parquet file's schema, row groups, statistics and rows"},
    {"query", cmd_query, "filter, sort, top-N, histogram and graph queries over flows"},
    {"serve", cmd_serve, "serve the web UI and JSON API over the data"},
    {"version", cmd_version, "print the version"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: datamate COMMAND [OPTIONS]\n"
               "\n"
               "Find data exfiltration in large firewall / NetFlow logs.\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "Run 'datamate COMMAND --help' for a command's options.\n"
               "'datamate --version' prints the version.\n");
}

int dm_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("datamate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int dm_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "datamate %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'datamate %s --help'\n", cmd);
    va_end(ap);
    return 2;
}

int dm_cli_parse_count(const char *s, unsigned long long *out)
{
    if (!s || !*s || *s == '-')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000ull, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1000000ull, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1000000000ull, end++;
    if (*end || (v && mul > ~0ull / v))
        return -EINVAL;
    *out = v * mul;
    return 0;
}

unsigned dm_cli_threads(const char *s)
{
    unsigned long long n = 0;
    if (!s || dm_cli_parse_count(s, &n) || n > 1024)
        return 0;
    return (unsigned)n;
}

static void report_alloc_count(void)
{
    fprintf(stderr, "datamate: %llu allocations\n", (unsigned long long)dm_alloc_count());
}

/* DM_ALLOC_FAIL=N[:sticky] makes the Nth allocation fail (fault-injection tests);
 * DM_ALLOC_COUNT=1 prints the number of allocations made at exit (their upper bound N). */
static void setup_fault_injection(void)
{
    const char *c = getenv("DM_ALLOC_COUNT");
    if (c && *c == '1')
        atexit(report_alloc_count);
    const char *s = getenv("DM_ALLOC_FAIL");
    if (!s || !*s)
        return;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    dm_alloc_fail_at(n, *end == ':');
}

int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: datamate version\n\nPrints the program version.\n");
        return 0;
    }
    if (argc > 1)
        return dm_cli_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("datamate %s\n", DM_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    setup_fault_injection();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (!strcmp(commands[i].name, argv[2])) {
                    char help[] = "--help";
                    char *av[] = {argv[2], help, NULL};
                    return commands[i].fn(2, av);
                }
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
        printf("datamate %s\n", DM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "datamate: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
