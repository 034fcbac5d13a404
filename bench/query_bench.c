/* The engine side of bench/query.bench: loads a flow Parquet file and times the UI queries
 * (best of several runs each), printing `result` lines for bench/run.sh.
 *   query_bench FILE THREADS SEED_IP [CIDR16] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm_alloc.h"
#include "dm_engine.h"
#include "dm_pool.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dm_table *T;

static struct dm_filter *F(const char *e)
{
    struct dm_filter *f;
    struct dm_error err;
    if (dm_filter_compile(&f, T, e, strlen(e), &err)) {
        fprintf(stderr, "query_bench: %s\n", err.msg);
        exit(1);
    }
    return f;
}

/* Each query includes compiling its filter, as an HTTP request would. Returns a checksum. */
static uint64_t run(int q, const char *seed, const char *cidr)
{
    uint64_t sum = 0;
    struct dm_filter *f = NULL;
    switch (q) {
    case 0: { /* filtered page by time, with the total */
        f = F("dport = 443");
        struct dm_rows_req r = {f, DM_C_TS, 0, 0, 50};
        struct dm_rows_res res;
        dm_rows(T, &r, &res, NULL);
        sum = res.total + res.n;
        dm_rows_res_release(&res);
        break;
    }
    case 1: { /* filtered page by bytes sent, with the total */
        f = F("src internal");
        struct dm_rows_req r = {f, DM_C_SENT, 1, 0, 50};
        struct dm_rows_res res;
        dm_rows(T, &r, &res, NULL);
        sum = res.total + res.n;
        dm_rows_res_release(&res);
        break;
    }
    case 2: { /* count */
        f = F("src internal and dst external and sent > 10K");
        struct dm_rows_req r = {f, DM_C_TS, 0, 0, 1};
        struct dm_rows_res res;
        dm_rows(T, &r, &res, NULL);
        sum = res.total;
        dm_rows_res_release(&res);
        break;
    }
    case 3:   /* top sources */
    case 4:   /* top pairs */
    case 7: { /* CIDR-filtered top destinations */
        char e[64];
        snprintf(e, sizeof(e), "src %s", cidr);
        f = q == 7 ? F(e) : NULL;
        struct dm_top_req r = {f, q == 3 ? DM_TOP_SRC : q == 4 ? DM_TOP_PAIR : DM_TOP_DST, -1,
                               DM_M_BYTES, 10};
        struct dm_top_res res;
        dm_top(T, &r, &res, NULL);
        for (size_t i = 0; i < res.n; i++)
            sum += res.v[i].bytes;
        dm_top_res_release(&res);
        break;
    }
    case 5: { /* hourly histogram */
        struct dm_hist_req r = {NULL, 3600000000LL};
        struct dm_hist_res res;
        dm_hist(T, &r, &res, NULL);
        for (size_t i = 0; i < res.n; i++)
            sum += res.v[i].egress;
        dm_hist_res_release(&res);
        break;
    }
    case 6: { /* graph around an IP */
        struct dm_cidr *s;
        size_t ns;
        dm_graph_seeds_parse(seed, strlen(seed), &s, &ns, NULL);
        struct dm_graph_req r = {NULL, s, ns, 1, 200};
        struct dm_graph_res res;
        dm_graph(T, &r, &res, NULL);
        sum = res.nnodes + res.nedges + res.cut;
        dm_graph_res_release(&res);
        dm_free(s);
        break;
    }
    }
    dm_filter_free(f);
    return sum;
}

static const char *const names[] = {"page by time (dport=443)", "page by bytes (src internal)",
                                    "count (3 predicates)", "top sources", "top pairs",
                                    "hourly histogram", "graph around an IP",
                                    "CIDR top destinations"};

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    unsigned threads = (unsigned)atoi(argv[2]);
    struct dm_config cfg;
    dm_config_init(&cfg);
    struct dm_pool *pool = dm_pool_new(threads);
    struct dm_load_opts o = {&cfg, pool, NULL, 0, NULL, NULL};
    struct dm_error err;
    double best = 1e9;
    /* DM_BENCH_LOADS: loads to take the best of (default 3); DM_BENCH_ONLY: query numbers to
     * run, e.g. "47" (default all), DM_BENCH_REPS: runs of each — for profiling */
    const char *loads_env = getenv("DM_BENCH_LOADS"), *only = getenv("DM_BENCH_ONLY");
    int loads = loads_env && atoi(loads_env) > 0 ? atoi(loads_env) : 3;
    const char *reps_env = getenv("DM_BENCH_REPS"); /* runs per query, best kept (default 5) */
    int reps = reps_env && atoi(reps_env) > 0 ? atoi(reps_env) : 5;
    double best_cpu = 1e9;
    for (int k = 0; k < loads; k++) {
        if (T)
            dm_table_free(T);
        double t0 = now(), c0 = cpu();
        if (dm_table_load(&T, argv[1], &o, &err)) {
            fprintf(stderr, "query_bench: %s\n", err.msg);
            return 1;
        }
        double t = now() - t0, c = cpu() - c0;
        if (t < best)
            best = t;
        if (c < best_cpu)
            best_cpu = c;
    }
    printf("datamate: %zu rows loaded in %.3f s (best of %d; cpu %.3f s); %.1f bytes/flow "
           "canonical, %.1f bytes/flow total\n",
           T->nrows, best, loads, best_cpu, dm_table_canonical_bytes_per_flow(T),
           (double)dm_table_bytes(T) / (double)T->nrows);
    printf("result\tload %zu flows\tdatamate\t%.2f\tM rows/s\n", T->nrows, T->nrows / best / 1e6);
    printf("result\tmemory per flow (canonical)\tdatamate\t%.1f\tbytes\n",
           dm_table_canonical_bytes_per_flow(T));
    for (int q = 0; q < 8; q++) {
        if (only && !strchr(only, '0' + q))
            continue;
        double b = 1e9, bc = 1e9;
        uint64_t sum = 0;
        for (int k = 0; k < reps; k++) {
            double t0 = now(), c0 = cpu();
            sum = run(q, argv[3], argc > 4 ? argv[4] : "10.1.0.0/16");
            double t = now() - t0, c = cpu() - c0;
            if (t < b)
                b = t;
            if (c < bc)
                bc = c;
        }
        printf("datamate: %-32s %8.1f ms  (cpu %.1f ms; check %llu)\n", names[q], b * 1e3,
               bc * 1e3, (unsigned long long)sum);
        printf("result\tq: %s\tdatamate\t%.1f\tq/s\n", names[q], 1.0 / b);
    }
    dm_table_free(T);
    dm_pool_free(pool);
    dm_config_release(&cfg);
    return 0;
}
