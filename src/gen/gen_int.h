/* Internals of the gen module shared by gen.c (model, scenarios, chunks) and format.c
 * (the four output schemas). */
#ifndef DM_GEN_INT_H
#define DM_GEN_INT_H

#include <stdint.h>

#include "dm_gen.h"

/* Traffic classes: each selects the firewall device, rule and message of a row. */
enum dm__gen_kind {
    DM__K_WEB,         /* workstation browsing */
    DM__K_WEB_DENY,    /* blocked category */
    DM__K_DNS_INT,     /* workstation → internal resolver */
    DM__K_MAIL_CLIENT, /* workstation → mail server */
    DM__K_FILE,        /* workstation → file server */
    DM__K_APP,         /* workstation → intranet app */
    DM__K_DC,          /* workstation → domain controller */
    DM__K_CDN,         /* workstation downloads from a CDN */
    DM__K_DNS_FWD,     /* internal resolver → approved upstream resolver */
    DM__K_MAIL_OUT,    /* mail server → internet (SMTP) */
    DM__K_MAIL_IN,     /* internet → mail server */
    DM__K_DB_APP,      /* app server → DB server */
    DM__K_DMZ_WEB,     /* internet client → DMZ web server */
    DM__K_SCAN,        /* internet scanner → DMZ, denied */
    DM__K_NTP,         /* resolver → NTP server */
    DM__K_PING,        /* monitoring ping */
    DM__K_ANY_OUT,     /* legacy any-any rule (the DB exfiltration rides it) */
    DM__K_DNS_DIRECT,  /* DNS straight to the internet (tunnel) */
    DM__K_BACKUP,      /* off-site backup */
    DM__K_UPDATE,      /* update server sync */
    DM__NKINDS
};

struct dm__gen_host {
    char txt[40]; /* canonical text, NUL-terminated */
    uint8_t len;
    uint8_t internal;
    uint8_t v6;
};

struct dm_gen {
    struct dm_gen_options opt;
    int64_t start_us, end_us;
    uint64_t minutes;     /* length of the range in minutes */
    double *cum;          /* [minutes + 1] cumulative row intensity, cum[minutes] = 1 */
    float *p_user;        /* [minutes] share of workstation traffic in that minute */
    uint64_t seed_mix;    /* dm_rng_mix(seed), hashes row numbers */
    uint64_t bg_rows;     /* rows not planted */

    struct dm__gen_host *hosts;
    uint16_t (*g6)[8]; /* [hosts_cap] IPv6 groups (Suricata's expanded form), 0 for IPv4 */
    uint32_t nhosts, hosts_cap;

    /* Host id ranges. */
    uint32_t ws_first, nws;
    uint32_t *ws_v6;       /* [nws] IPv6 twin of a workstation or UINT32_MAX */
    uint32_t ext4_first, next4, ext6_first, next6;
    uint32_t cli_first, ncli, scan_first, nscan;
    uint32_t dmz_first, ndmz; /* 192.168.100.0/24 addresses (scan targets) */
    uint32_t dns[2], mail, db[2], file, app[2], backup, wsus, dc, dmz_web, vpn, mon;
    uint32_t resolvers[4], nresolvers, ntp[2];
    struct dm_zipf z_ws, z_ext4, z_ext6, z_cli, z_scan;

    /* Planted flows sorted by (ts, creation order) and their output row numbers. */
    struct dm_gen_flow *ev;
    uint64_t *ev_row;
    uint64_t nev;

    struct dm_gen_scenario scen[DM_GEN_NSCENARIOS];
    uint64_t bg_dmz_flows, bg_dmz_out, bg_dmz_in; /* filled by dm_gen_write */
};

#endif
