/* IP addresses and CIDR sets.
 *
 * struct dm_ip holds IPv4 and IPv6 in one 16-byte form: IPv4 a.b.c.d is stored as the
 * IPv4-mapped address ::ffff:a.b.c.d, so one comparison, hash and CIDR test serve both.
 * Text forms: IPv4 dotted quad; IPv6 canonical per RFC 5952 (lowercase, longest zero run
 * compressed, mapped addresses printed as IPv4). All functions are pure; no allocation
 * except in dm_cidr_set. */
#ifndef DM_NET_H
#define DM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "dm_error.h"

#define DM_IP_STRLEN 46 /* longest text form + NUL */

struct dm_ip {
    uint8_t b[16];
};

struct dm_cidr {
    struct dm_ip addr; /* network address (host bits cleared) */
    uint8_t bits;      /* prefix length in the 128-bit space (IPv4 /n is 96 + n) */
};

/* Parses an IPv4 or IPv6 address from s[0..n) (no surrounding spaces; an IPv6 zone "%eth0"
 * is rejected; "::ffff:1.2.3.4" and "::1.2.3.4"-style embedded IPv4 are accepted).
 * Returns 0 or -EINVAL. */
int dm_ip_parse(const char *s, size_t n, struct dm_ip *out);
/* Writes the canonical text form (NUL-terminated) into out; returns its length. */
size_t dm_ip_format(const struct dm_ip *ip, char out[DM_IP_STRLEN]);
/* 1 for IPv4 (mapped) addresses. */
int dm_ip_is_v4(const struct dm_ip *ip);
/* IPv4 address as a host-order u32 (only meaningful when dm_ip_is_v4). */
uint32_t dm_ip_v4(const struct dm_ip *ip);
void dm_ip_from_v4(uint32_t v4, struct dm_ip *out);
/* memcmp order: all IPv4 (mapped) sort together, by numeric value. */
int dm_ip_cmp(const struct dm_ip *a, const struct dm_ip *b);

/* Parses "a.b.c.d/n", "v6/n", or a bare address (a /32 or /128). Host bits set in the
 * address are cleared. Returns 0 or -EINVAL. */
int dm_cidr_parse(const char *s, size_t n, struct dm_cidr *out);
int dm_cidr_contains(const struct dm_cidr *c, const struct dm_ip *ip);
/* Text form "addr/len" (IPv4 prefix printed as 0..32). */
size_t dm_cidr_format(const struct dm_cidr *c, char out[DM_IP_STRLEN + 4]);

/* A set of CIDRs (e.g. internal_networks). Caller storage: init / release. */
struct dm_cidr_set {
    struct dm_cidr *v;
    size_t n, cap;
};

void dm_cidr_set_init(struct dm_cidr_set *s);
void dm_cidr_set_release(struct dm_cidr_set *s);
/* Adds a parsed CIDR; 0 or -ENOMEM. */
int dm_cidr_set_add(struct dm_cidr_set *s, const struct dm_cidr *c);
/* Parses and adds one CIDR text; 0, -EINVAL (err says which text) or -ENOMEM. */
int dm_cidr_set_add_str(struct dm_cidr_set *s, const char *text, size_t n, struct dm_error *err);
/* 1 when some CIDR of the set contains ip. */
int dm_cidr_set_contains(const struct dm_cidr_set *s, const struct dm_ip *ip);
/* Adds the default internal networks: 10/8, 172.16/12, 192.168/16, 100.64/10, 127/8,
 * 169.254/16, fc00::/7, fe80::/10, ::1/128. */
int dm_cidr_set_add_defaults(struct dm_cidr_set *s);

#endif
