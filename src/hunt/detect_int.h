/* The aggregation shared by the detections (detect.c) and the per-host detections
 * (detect_host.c). Flows crossing the internal/external boundary are partitioned by their
 * internal host (hash mod nparts), so every host, with all its pairs and flows, lives in one
 * partition and the partitions are processed in parallel without locks. */
#ifndef DM_HUNT_DETECT_INT_H
#define DM_HUNT_DETECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dm_hunt.h"
#include "hunt_int.h"

struct dm__hunt_pair {
    uint32_t host, peer;
    uint64_t out, in;           /* all boundary flows of the pair */
    uint64_t out_init, in_init; /* flows the internal host initiated */
    uint32_t flows, flows_init;
    uint32_t off;               /* first flow in the partition.s gathered arrays (g) */
};

struct dm__hunt_hostagg {
    uint32_t host;
    uint32_t pair0, npairs; /* range in the partition's pair order[] */
    uint64_t out, in, out_init, in_init;
    uint64_t flows;
};

enum { DM__HUNT_G_INIT = 1, DM__HUNT_G_FAILED = 2 };

struct dm__hunt_slot {
    uint64_t key;
    uint64_t val;
};

struct dm__hunt_part {
    /* pair map: open addressing on (host << 32 | peer) → pair index + 1 (0 = empty) */
    struct dm__hunt_slot *slots;
    size_t nslots;
    struct dm__hunt_pair *pairs;
    size_t npairs, cap_pairs;
    /* flows of the partition in ts order: row indexes (a slice of ctx.prows, borrowed) and
     * their pair index, until gathered */
    const uint32_t *rows;
    uint32_t *rowpair;
    size_t nrows;
    /* the partition's flows grouped by pair (pair.off), in ts order inside a pair, with the
     * columns the detections read gathered once (sequential reads afterwards) */
    struct {
        int64_t *ts;
        uint64_t *out, *in; /* outbound / inbound bytes from the internal host's side */
        uint32_t *dur;      /* duration ms, UINT32_MAX = unknown */
        uint16_t *port;     /* dst port, 0 when null */
        uint8_t *proto;     /* 0 when null */
        uint8_t *fl;        /* DM__HUNT_G_* */
    } g;
    uint32_t *order; /* pair indexes sorted by host, then first appearance */
    struct dm__hunt_hostagg *hosts;
    size_t nhosts;
    /* findings */
    struct dm_hunt_finding *findings;
    size_t nfindings, cap_findings;
    /* scratch */
    double *dscratch;
    size_t cap_dscratch;
    void *scratch2;
    size_t cap_scratch2;
    int rc;
};

/* Everything the detections read, built once. */
struct dm__hunt_ctx {
    const struct dm_hunt_flows *f;
    const struct dm_hunt_config *c;
    struct dm__hunt_bh bh;
    struct dm__hunt_part *parts;
    size_t nparts;
    uint8_t *rowpart; /* partition of each selected row, 255 = not used */
    size_t nchunks;   /* tasks computing rowpart */
    uint32_t *chunk_counts; /* [nchunks][nparts] rows of each partition in each chunk, then
                             * where the chunk's rows of that partition start in prows */
    uint32_t *prows;        /* selected rows grouped by partition, ts order inside each */
    size_t *part_start;     /* [nparts + 1] partition i = prows[part_start[i], [i + 1]) */
    uint8_t *ip_allowed;     /* [nips] external peer on the allowlist */
    uint8_t *ip_resolver;    /* [nips] approved resolver */
    uint8_t *ip_server;      /* [nips] role (config role or server network) */
    uint64_t port_allowed[1024]; /* bitmap of 65536 ports */
    uint32_t *peer_hosts;    /* [nips] internal hosts contacting the peer */
    int64_t *peer_first;     /* [nips] first flow with the peer */
    uint64_t internal_hosts;
    uint64_t rare_max;
    int64_t data_start, data_end;
    double in_hours_total; /* business hours (h) within the data span */
    /* population statistics on ln(1 + bytes) */
    double host_med, host_mad, host_meanad; /* initiated outbound per host */
    double pair_med, pair_mad, pair_meanad; /* outbound per pair */
};

/* Runs every per-host detection for partition p (detect_host.c). Sets part->rc. */
void dm__hunt_detect_part(struct dm__hunt_ctx *x, struct dm__hunt_part *p);

static inline uint16_t dm__hunt_port(const struct dm_hunt_flows *f, size_t r)
{
    return (uint16_t)dm_hunt_col_u64(&f->dport, r);
}

/* 1 when row r's action says the connection failed or was blocked. */
static inline int dm__hunt_failed(const struct dm_hunt_flows *f, size_t r)
{
    if (!f->action_failed || !dm_hunt_col_present(&f->action, r))
        return 0;
    uint64_t id = dm_hunt_col_u64(&f->action, r);
    return id < f->naction && f->action_failed[id];
}

#endif
