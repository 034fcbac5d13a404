/* datamate hunt DATA [--config FILE] [--where EXPR] [--limit N] [--format table|json]
 * [--threads N]: ranked exfiltration findings with evidence (docs/hunt.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dm_buf.h"
#include "dm_cli.h"
#include "dm_engine.h"
#include "dm_hunt.h"
#include "dm_pool.h"
#include "banned.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: datamate hunt DATA [--config FILE] [--where EXPR] [--limit N]\n"
            "                     [--format table|json] [--threads N]\n"
            "\n"
            "Ranks the internal hosts that sent data out of the network, with the evidence:\n"
            "volume, pcr, off_hours, rare_destination, beacon, role_violation, tunnel,\n"
            "elephant and strobe findings (docs/hunt.md). Each finding names a filter\n"
            "expression; 'datamate query DATA --where FILTER' shows its flows.\n"
            "\n"
            "DATA is a Parquet file, a directory of Parquet files or a glob.\n"
            "\n"
            "options:\n"
            "  --config FILE   config.json: internal_networks, known_servers and the \"hunt\"\n"
            "                  section (thresholds, business_hours, timezone,\n"
            "                  approved_resolvers, server_networks, allow)\n"
            "  --where EXPR    hunt only in the flows matching EXPR (query --where language)\n"
            "  --limit N       findings to show (default 20; 0 = all)\n"
            "  --format F      table (default) or json: {\"findings\": [...], \"hosts\": [...]}\n"
            "  --threads N     worker threads (default: all cores)\n"
            "  -h, --help      show this help\n");
}

int cmd_hunt(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"where", required_argument, NULL, 'w'},
        {"limit", required_argument, NULL, 'n'},  {"format", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *where = NULL, *threads = NULL;
    unsigned long long limit = 20;
    enum dm_hunt_format fmt = DM_HUNT_FMT_TABLE;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'w': where = optarg; break;
        case 'n':
            if (dm_cli_parse_count(optarg, &limit))
                return dm_cli_usage_error("hunt", "invalid --limit '%s'", optarg);
            break;
        case 'f':
            if (!strcmp(optarg, "table"))
                fmt = DM_HUNT_FMT_TABLE;
            else if (!strcmp(optarg, "json"))
                fmt = DM_HUNT_FMT_JSON;
            else
                return dm_cli_usage_error("hunt", "invalid --format '%s' (table or json)", optarg);
            break;
        case 't': threads = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': return dm_cli_usage_error("hunt", "option '%s' needs a value", argv[optind - 1]);
        default: return dm_cli_usage_error("hunt", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return dm_cli_usage_error("hunt", optind >= argc ? "missing DATA" : "too many arguments");
    const char *data = argv[optind];

    struct dm_error err;
    dm_error_clear(&err);
    struct dm_config cfg;
    if (dm_config_init(&cfg))
        return dm_cli_fail("out of memory");
    int status = 1;
    struct dm_pool *pool = NULL;
    struct dm_table *t = NULL;
    struct dm_buf out;
    dm_buf_init(&out, DM_BUF_UNLIMITED);
    if (config && dm_config_load(&cfg, config, &err)) {
        dm_cli_fail("%s", err.msg);
        goto done;
    }
    for (size_t i = 0; i < cfg.nwarnings; i++)
        fprintf(stderr, "datamate: %s: %s\n", config, cfg.warnings[i]);
    pool = dm_pool_new(dm_cli_threads(threads));
    if (!pool) {
        dm_cli_fail("cannot start worker threads");
        goto done;
    }
    struct dm_load_opts lo = {.config = &cfg, .pool = pool};
    if (dm_table_load(&t, data, &lo, &err)) {
        dm_cli_fail("%s", err.msg);
        goto done;
    }
    int rc = dm_hunt_findings(&out, t, where, (size_t)limit, fmt, &err);
    if (rc == DM_EPARSE) {
        status = dm_cli_usage_error("hunt", "--where: %s", err.msg);
        goto done;
    }
    if (rc) {
        dm_cli_fail("%s%s", config && rc == -EINVAL ? "config: " : "", err.msg);
        goto done;
    }
    fwrite(out.data, 1, out.len, stdout);
    status = fflush(stdout) ? dm_cli_fail("cannot write the output") : 0;
done:
    dm_buf_release(&out);
    dm_table_free(t);
    dm_pool_free(pool);
    dm_config_release(&cfg);
    return status;
}
