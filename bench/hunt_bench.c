/* hunt benchmark driver: builds an N-flow network in memory (the engine's narrow column
 * layout: u32 IP ids, u32/u64 byte counters, u16 ports, u8 proto/action), then times
 * dm_hunt_run plus the JSON rendering on a pool of T threads, and reports the peak RSS.
 * usage: hunt_bench ROWS THREADS
 * Output: details, then "result<TAB>name<TAB>datamate<TAB>value<TAB>unit" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dm_alloc.h"
#include "dm_buf.h"
#include "dm_hunt.h"
#include "dm_pool.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hunt_bench ROWS THREADS\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[1], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[2], NULL, 10);
    enum { NINT = 4000, NEXT = 200000, NIPS = NINT + NEXT + 1 };
    int64_t *ts = dm_malloc(n * sizeof(*ts));
    uint32_t *src = dm_malloc(n * sizeof(*src)), *dst = dm_malloc(n * sizeof(*dst));
    uint32_t *sent = dm_malloc(n * sizeof(*sent)), *recv = dm_malloc(n * sizeof(*recv));
    uint16_t *dport = dm_malloc(n * sizeof(*dport));
    uint8_t *proto = dm_malloc(n), *action = dm_malloc(n);
    struct dm_ip *ips = dm_malloc(NIPS * sizeof(*ips));
    uint8_t *cls = dm_malloc(NIPS), *role = dm_calloc(NIPS, 1);
    if (!ts || !src || !dst || !sent || !recv || !dport || !proto || !action || !ips || !cls ||
        !role) {
        fprintf(stderr, "hunt_bench: out of memory\n");
        return 1;
    }
    cls[0] = DM_HUNT_IP_NONE;
    memset(&ips[0], 0, sizeof(ips[0]));
    for (uint32_t i = 1; i <= NINT; i++) {
        dm_ip_from_v4(0x0a000000u + i, &ips[i]);
        cls[i] = DM_HUNT_IP_INTERNAL;
    }
    for (uint32_t i = NINT + 1; i < NIPS; i++) {
        dm_ip_from_v4(0x17000000u + i * 7, &ips[i]);
        cls[i] = DM_HUNT_IP_EXTERNAL;
    }
    for (uint32_t i = 1; i <= 20; i++)
        role[i] = i <= 5 ? DM_HUNT_ROLE_DB : DM_HUNT_ROLE_SERVER;
    /* 7 days starting Monday 2026-11-23, busier in business hours */
    int64_t t = 1795392000LL * 1000000, step = 7LL * 86400 * 1000000 / (int64_t)n;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next();
        t += (int64_t)(r % (uint64_t)(2 * step + 1));
        ts[i] = t;
        uint32_t host = 1 + (uint32_t)((r >> 16) % NINT);
        uint64_t q = next();
        /* 70 % to the host's ~60 usual peers (skewed), 25 % to 100 popular services,
         * 5 % to a long tail of 200,000 addresses */
        uint32_t pick = (uint32_t)(q & 0xff), peer;
        if (pick < 179) {
            uint32_t j = (uint32_t)((q >> 8) % 60);
            j = j * j / 60;
            peer = NINT + 1 + (uint32_t)((host * 2654435761u + j * 40503u) % NEXT);
        } else if (pick < 243) {
            peer = NINT + 1 + (uint32_t)((q >> 8) % 100);
        } else {
            peer = NINT + 1 + (uint32_t)((q >> 8) % NEXT);
        }
        int inbound = (q >> 40) % 100 < 4;
        src[i] = inbound ? peer : host;
        dst[i] = inbound ? host : peer;
        uint64_t z = next();
        sent[i] = (uint32_t)(200 + (z % 20000) * ((z >> 20) % 8 == 0 ? 40 : 1));
        recv[i] = (uint32_t)(500 + ((z >> 24) % 200000));
        dport[i] = (z >> 44) % 10 == 0 ? 53 : 443;
        proto[i] = dport[i] == 53 ? 17 : 6;
        action[i] = (z >> 52) % 50 == 0;
    }
    fprintf(stderr, "generated %zu flows in %.2f s\n", n, now() - t0);
    static const uint8_t failed[2] = {0, 1};
    struct dm_hunt_flows f = {
        .n = n, .ts = ts, .src = src, .dst = dst,
        .sent = {sent, 4, NULL}, .recv = {recv, 4, NULL}, .dport = {dport, 2, NULL},
        .proto = {proto, 1, NULL}, .action = {action, 1, NULL},
        .action_failed = failed, .naction = 2,
        .nips = NIPS, .ip_class = cls, .ip_role = role, .ips = ips,
    };
    struct dm_hunt_config c;
    dm_hunt_config_init(&c);
    struct dm_pool *pool = dm_pool_new(threads);
    long before = peak_mb();
    double a = now(), ca = cpu();
    struct dm_hunt_result r;
    struct dm_error err;
    if (dm_hunt_run(&f, &c, pool, &r, &err)) {
        fprintf(stderr, "hunt_bench: %s\n", err.msg);
        return 1;
    }
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    struct dm_hunt_output o = {&r, &f, &c, NULL, 100, NULL, NULL};
    if (dm_hunt_write_json(&b, &o))
        return 1;
    double secs = now() - a, csecs = cpu() - ca;
    long peak = peak_mb();
    printf("hunt: %zu flows, %u threads: %.2f s wall, %.2f s CPU, %zu findings, %zu hosts; "
           "peak RSS %ld MB (%ld MB for the flow columns before hunting)\n",
           n, dm_pool_size(pool), secs, csecs, r.nfindings, r.nhosts, peak, before);
    printf("result\thunt %zuM flows (s)\tdatamate\t%.2f\ts\n", n / 1000000, secs);
    printf("result\thunt %zuM flows CPU (s)\tdatamate\t%.2f\ts\n", n / 1000000, csecs);
    printf("result\thunt %zuM flows peak (MB)\tdatamate\t%ld\tMB\n", n / 1000000, peak);
    printf("result\thunt %zuM flows extra (MB)\tdatamate\t%ld\tMB\n", n / 1000000, peak - before);
    dm_buf_release(&b);
    dm_hunt_result_release(&r);
    dm_hunt_config_release(&c);
    dm_pool_free(pool);
    return 0;
}
