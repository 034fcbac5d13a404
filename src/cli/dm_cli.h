/* The command table and helpers shared by the cmd_<name>.c files. Only cli/ and http/
 * print to the user, read the environment or exit. Each command: int cmd_<name>(argc, argv)
 * returning the process exit code (0 ok, 1 runtime failure, 2 usage error); `-h/--help`
 * prints its usage to stdout and returns 0; misuse prints a short usage to stderr, 2. */
#ifndef DM_CLI_H
#define DM_CLI_H

#include <stdio.h>

#include "dm_error.h"

#define DM_VERSION "0.1.0"

struct dm_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* Prints "datamate: <fmt>\n" to stderr; returns 1 (runtime failure exit code). */
int dm_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "datamate CMD: <msg>" plus "try 'datamate CMD --help'" to stderr; returns 2. */
int dm_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value with optional K/M/G suffix (powers of 1000);
 * returns 0 or -EINVAL. */
int dm_cli_parse_count(const char *s, unsigned long long *out);
/* Number of worker threads from --threads (0 = all cores). */
unsigned dm_cli_threads(const char *s);

int cmd_inspect(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
