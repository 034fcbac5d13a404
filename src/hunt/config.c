/* The hunt section of the config file: defaults, parsing, time zones, failed actions. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dm_engine.h"
#include "dm_hunt.h"
#include "dm_json.h"
#include "banned.h"

void dm_hunt_config_init(struct dm_hunt_config *c)
{
    memset(c, 0, sizeof(*c));
    c->z_threshold = 3.5;
    c->min_bytes = 50000000;
    c->pcr_threshold = 0.8;
    c->pcr_shift = 0.5;
    c->prevalence = 0.02;
    c->beacon_min_score = 0.7;
    c->beacon_min_flows = 4;
    c->bh_start_min = 8 * 60;
    c->bh_end_min = 19 * 60;
    c->bh_days = 0x3e; /* Monday..Friday */
    c->tz_offset_min = 0;
    dm_tz_init_fixed(&c->tz, 0);
    c->off_hours_ratio = 3;
    c->elephant_bytes = UINT64_C(1) << 30;
    c->long_conn_ms = 3600 * 1000;
    c->strobe_per_day = 86400;
    c->strobe_min_flows = 1000;
    c->tunnel_min_bytes = 1000000;
    c->tunnel_ratio = 2;
    c->role_min_bytes = 1000000;
    dm_cidr_set_init(&c->approved_resolvers);
    dm_cidr_set_init(&c->allow_cidrs);
    dm_cidr_set_init(&c->server_networks);
}

void dm_hunt_config_release(struct dm_hunt_config *c)
{
    dm_cidr_set_release(&c->approved_resolvers);
    dm_cidr_set_release(&c->allow_cidrs);
    dm_cidr_set_release(&c->server_networks);
    dm_tz_release(&c->tz);
}

static int digits(const char *s, size_t n, int *v)
{
    if (n == 0 || n > 2)
        return -EINVAL;
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* "HH", "HH:MM", "HHMM" (after the sign) → minutes. */
static int parse_hhmm(const char *s, size_t n, int *min)
{
    int h = 0, m = 0;
    const char *colon = memchr(s, ':', n);
    if (colon) {
        if (digits(s, (size_t)(colon - s), &h) || digits(colon + 1, n - (size_t)(colon - s) - 1, &m))
            return -EINVAL;
    } else if (n == 4) {
        if (digits(s, 2, &h) || digits(s + 2, 2, &m))
            return -EINVAL;
    } else if (digits(s, n, &h)) {
        return -EINVAL;
    }
    if (h > 24 || m > 59 || (h == 24 && m))
        return -EINVAL;
    *min = h * 60 + m;
    return 0;
}

int dm_hunt_parse_tz(const char *s, size_t n, int *offset_min)
{
    if ((n == 3 && !strncasecmp(s, "utc", 3)) || (n == 3 && !strncasecmp(s, "gmt", 3)) ||
        (n == 1 && (s[0] == 'Z' || s[0] == 'z'))) {
        *offset_min = 0;
        return 0;
    }
    if (n > 3 && (!strncasecmp(s, "utc", 3) || !strncasecmp(s, "gmt", 3)))
        s += 3, n -= 3;
    if (n < 2 || (s[0] != '+' && s[0] != '-'))
        return -EINVAL;
    int m;
    if (parse_hhmm(s + 1, n - 1, &m) || m > 14 * 60)
        return -EINVAL;
    *offset_min = s[0] == '-' ? -m : m;
    return 0;
}

int dm_hunt_action_failed(const char *s, size_t n)
{
    static const char *const failed[] = {
        "deny", "denied", "drop", "dropped", "reject", "rejected", "block", "blocked",
        "refused", "timeout", "failure", "failed", "rej", "s0", "rsto0", "rstos0", "rstrh",
        "sh", "shr", "oth",
    };
    for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
        if (strlen(failed[i]) == n && !strncasecmp(failed[i], s, n))
            return 1;
    return 0;
}

static int want(const struct dm_json *v, enum dm_json_type t, const char *key,
                struct dm_error *err)
{
    static const char *const what[] = {"null", "a boolean", "a number", "a string",
                                       "an array", "an object"};
    if (v->type != t)
        return dm_error_set(err, -EINVAL, "'hunt.%s' must be %s", key, what[t]);
    return 0;
}

static int num(const struct dm_json *v, const char *key, double lo, double hi, double *out,
               struct dm_error *err)
{
    int rc = want(v, DM_JSON_NUM, key, err);
    if (rc)
        return rc;
    if (!(v->num >= lo && v->num <= hi))
        return dm_error_set(err, -EINVAL, "'hunt.%s' must be between %g and %g", key, lo, hi);
    *out = v->num;
    return 0;
}

static int cidr_list(const struct dm_json *v, const char *key, struct dm_cidr_set *set,
                     const struct dm_config *cfg, struct dm_error *err)
{
    int rc = want(v, DM_JSON_ARR, key, err);
    for (size_t i = 0; !rc && i < v->len; i++) {
        const struct dm_json *e = &v->items[i];
        if (e->type != DM_JSON_STR)
            return dm_error_set(err, -EINVAL, "'hunt.%s' must list strings", key);
        struct dm_cidr cidr;
        if (!dm_cidr_parse(e->str, e->len, &cidr)) {
            rc = dm_cidr_set_add(set, &cidr);
            continue;
        }
        /* a known_servers name */
        int found = 0;
        for (size_t j = 0; cfg && j < cfg->nservers && !rc; j++)
            if (cfg->servers[j].name && !strcasecmp(cfg->servers[j].name, e->str)) {
                rc = dm_cidr_set_add(set, &cfg->servers[j].net);
                found = 1;
            }
        if (!found && !rc)
            return dm_error_set(err, -EINVAL,
                                "'hunt.%s': '%s' is neither an address, a CIDR nor a "
                                "known_servers name",
                                key, e->str);
    }
    return rc;
}

static int parse_allow(struct dm_hunt_config *c, const struct dm_json *v,
                       const struct dm_config *cfg, struct dm_error *err)
{
    int rc = want(v, DM_JSON_OBJ, "allow", err);
    for (size_t i = 0; !rc && i < v->len; i++) {
        const struct dm_json *e = &v->items[i];
        if (!strcmp(e->key, "cidrs"))
            rc = cidr_list(e, "allow.cidrs", &c->allow_cidrs, cfg, err);
        else if (!strcmp(e->key, "destinations"))
            rc = cidr_list(e, "allow.destinations", &c->allow_cidrs, cfg, err);
        else if (!strcmp(e->key, "ports")) {
            if ((rc = want(e, DM_JSON_ARR, "allow.ports", err)))
                break;
            for (size_t j = 0; j < e->len; j++) {
                const struct dm_json *p = &e->items[j];
                if (p->type != DM_JSON_NUM || !p->is_int || p->i < 0 || p->i > 65535)
                    return dm_error_set(err, -EINVAL, "'hunt.allow.ports' must list ports 0-65535");
                if (c->n_allow_ports == DM_HUNT_MAX_ALLOW_PORTS)
                    return dm_error_set(err, -EINVAL, "'hunt.allow.ports' lists more than %d ports",
                                        DM_HUNT_MAX_ALLOW_PORTS);
                c->allow_ports[c->n_allow_ports++] = (uint16_t)p->i;
            }
        } else
            return dm_error_set(err, -EINVAL,
                                "unknown key 'hunt.allow.%s' (expected cidrs, destinations, ports)",
                                e->key);
    }
    return rc;
}

static int day_bit(const char *s, size_t n)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    if (n < 3)
        return -1;
    for (int i = 0; i < 7; i++)
        if (!strncasecmp(s, days[i], 3))
            return i;
    return -1;
}

static int parse_bh(struct dm_hunt_config *c, const struct dm_json *v, struct dm_error *err)
{
    int rc = want(v, DM_JSON_OBJ, "business_hours", err);
    int start = c->bh_start_min, end = c->bh_end_min;
    for (size_t i = 0; !rc && i < v->len; i++) {
        const struct dm_json *e = &v->items[i];
        if (!strcmp(e->key, "start") || !strcmp(e->key, "end")) {
            if (e->type != DM_JSON_STR || parse_hhmm(e->str, e->len, !strcmp(e->key, "start") ? &start : &end))
                return dm_error_set(err, -EINVAL, "'hunt.business_hours.%s' must be a time like \"08:00\"",
                                    e->key);
        } else if (!strcmp(e->key, "days")) {
            if ((rc = want(e, DM_JSON_ARR, "business_hours.days", err)))
                break;
            uint8_t mask = 0;
            for (size_t j = 0; j < e->len; j++) {
                const struct dm_json *d = &e->items[j];
                int b = d->type == DM_JSON_STR ? day_bit(d->str, d->len) : -1;
                if (b < 0)
                    return dm_error_set(err, -EINVAL,
                                        "'hunt.business_hours.days' must list day names like \"mon\"");
                mask |= (uint8_t)(1u << b);
            }
            c->bh_days = mask;
        } else {
            return dm_error_set(err, -EINVAL,
                                "unknown key 'hunt.business_hours.%s' (expected start, end, days)",
                                e->key);
        }
    }
    if (!rc && start >= end)
        return dm_error_set(err, -EINVAL, "'hunt.business_hours' must start before it ends");
    c->bh_start_min = start;
    c->bh_end_min = end;
    return rc;
}

static int parse_thresholds(struct dm_hunt_config *c, const struct dm_json *v,
                            struct dm_error *err)
{
    int rc = want(v, DM_JSON_OBJ, "thresholds", err);
    for (size_t i = 0; !rc && i < v->len; i++) {
        const struct dm_json *e = &v->items[i];
        const char *k = e->key;
        double x = 0;
        char key[96];
        snprintf(key, sizeof(key), "thresholds.%s", k);
        if (!strcmp(k, "z"))
            rc = num(e, key, 0.5, 100, &c->z_threshold, err);
        else if (!strcmp(k, "min_bytes") && !(rc = num(e, key, 0, 1e18, &x, err)))
            c->min_bytes = (uint64_t)x;
        else if (!strcmp(k, "pcr"))
            rc = num(e, key, -1, 1, &c->pcr_threshold, err);
        else if (!strcmp(k, "pcr_shift"))
            rc = num(e, key, 0, 2, &c->pcr_shift, err);
        else if (!strcmp(k, "prevalence"))
            rc = num(e, key, 0, 1, &c->prevalence, err);
        else if (!strcmp(k, "beacon"))
            rc = num(e, key, 0, 1, &c->beacon_min_score, err);
        else if (!strcmp(k, "beacon_min_flows") && !(rc = num(e, key, 4, 1e9, &x, err)))
            c->beacon_min_flows = (uint32_t)x;
        else if (!strcmp(k, "off_hours_ratio"))
            rc = num(e, key, 1, 1e6, &c->off_hours_ratio, err);
        else if (!strcmp(k, "elephant_bytes") && !(rc = num(e, key, 1, 1e18, &x, err)))
            c->elephant_bytes = (uint64_t)x;
        else if (!strcmp(k, "long_connection_s") && !(rc = num(e, key, 0, 1e9, &x, err)))
            c->long_conn_ms = (int64_t)(x * 1000);
        else if (!strcmp(k, "strobe_per_day"))
            rc = num(e, key, 1, 1e12, &c->strobe_per_day, err);
        else if (!strcmp(k, "strobe_min_flows") && !(rc = num(e, key, 1, 1e9, &x, err)))
            c->strobe_min_flows = (uint32_t)x;
        else if (!strcmp(k, "tunnel_min_bytes") && !(rc = num(e, key, 1, 1e18, &x, err)))
            c->tunnel_min_bytes = (uint64_t)x;
        else if (!strcmp(k, "tunnel_ratio"))
            rc = num(e, key, 0, 1e9, &c->tunnel_ratio, err);
        else if (!strcmp(k, "role_min_bytes") && !(rc = num(e, key, 0, 1e18, &x, err)))
            c->role_min_bytes = (uint64_t)x;
        else if (!rc)
            return dm_error_set(err, -EINVAL, "unknown key 'hunt.%s'", key);
    }
    return rc;
}

/* "UTC", a fixed offset ("+02:00") or a zone name ("Europe/Berlin", from tzdata). */
static int parse_timezone(struct dm_hunt_config *c, const struct dm_json *e,
                          struct dm_error *err)
{
    if (e->type != DM_JSON_STR)
        return dm_error_set(err, -EINVAL,
                            "'hunt.timezone' must be a string: \"UTC\", an offset like "
                            "\"+02:00\" or a zone name like \"Europe/Berlin\"");
    int off;
    if (!dm_hunt_parse_tz(e->str, e->len, &off)) {
        dm_tz_release(&c->tz);
        c->tz_offset_min = off;
        dm_tz_init_fixed(&c->tz, off * 60);
        return 0;
    }
    struct dm_tz tz;
    int rc = dm_tz_load(&tz, DM_ZONEINFO_DIR, e->str, e->len, err);
    if (rc) {
        if (rc != -ENOMEM)
            rc = -EINVAL;
        dm_error_prefix(err, "'hunt.timezone'");
        if (err)
            err->code = rc;
        return rc;
    }
    dm_tz_release(&c->tz);
    c->tz = tz;
    c->tz_offset_min = 0;
    return 0;
}

int dm_hunt_config_parse(struct dm_hunt_config *c, const struct dm_json *hunt,
                         const struct dm_config *cfg, struct dm_error *err)
{
    if (!hunt)
        return 0;
    if (hunt->type != DM_JSON_OBJ)
        return dm_error_set(err, -EINVAL, "'hunt' must be an object");
    int rc = 0;
    for (size_t i = 0; !rc && i < hunt->len; i++) {
        const struct dm_json *e = &hunt->items[i];
        if (!strcmp(e->key, "thresholds"))
            rc = parse_thresholds(c, e, err);
        else if (!strcmp(e->key, "business_hours"))
            rc = parse_bh(c, e, err);
        else if (!strcmp(e->key, "timezone"))
            rc = parse_timezone(c, e, err);
        else if (!strcmp(e->key, "approved_resolvers"))
            rc = cidr_list(e, "approved_resolvers", &c->approved_resolvers, cfg, err);
        else if (!strcmp(e->key, "server_networks"))
            rc = cidr_list(e, "server_networks", &c->server_networks, cfg, err);
        else if (!strcmp(e->key, "allow"))
            rc = parse_allow(c, e, cfg, err);
        else
            return dm_error_set(err, -EINVAL,
                                "unknown key 'hunt.%s' (expected thresholds, business_hours, "
                                "timezone, approved_resolvers, server_networks, allow)",
                                e->key);
    }
    if (rc == -ENOMEM)
        dm_error_set(err, rc, "out of memory");
    return rc;
}
