/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A region's state in etcd (rnatctl --store URL --region NAME): region.c
 * answers rnatctl's generic netlink requests as the module would, from and
 * into the store, so every command parses and prints as it does against
 * the kernel. The key layout and the allocation rules are in region.c's
 * top comment and README "Fleet".
 */
#ifndef RNATCTL_REGION_H
#define RNATCTL_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

/* From main: 0, or -EINVAL with nl_strerror() saying what is wrong. */
int region_open(const char *url, const char *name);
bool region_on(void);
void region_close(void);
/* rnatd, which talks to both, turns the region off for the kernel's turn. */
void region_set_on(bool on);
/*
 * Placement (--gateway): with a gateway NAME, reads see NAME's view (the
 * VPNs placed on NAME or on "*", with NAME's device and marks, and their
 * mappings; others are "no VPN N" as on that gateway), vpn add and set
 * write placement.NAME, and vpn del removes it (the VPN stays in the
 * region). "*" is the placement every gateway without its own uses. NULL:
 * the region's view (every VPN, with its "*" placement). 0 or -EINVAL
 * (nl_strerror() says why).
 */
int region_set_gateway(const char *name);
const char *region_gateway(void);
/*
 * A vpns/ID value as the view sees it: 1 with what a gateway installs of
 * it in @out, as "pool P name N dev D mark M out-mark M" (D, M: "none" if
 * it has none), 0 if the VPN is not in the view, or a negative errno if it
 * is malformed.
 */
struct store_kv;
int region_vpn_view(const struct store_kv *kv, char *out, size_t size);
/* A pools/NAME value as "NAME PREFIX..." (pool add's words): 0 or -errno. */
int region_pool_line(const struct store_kv *kv, char *out, size_t size);
/* The revision the last save read (its first STATS_GET pinned). */
int64_t region_save_revision(void);
/*
 * The gateways' agents (their region_gateway_key()s) into *@out, and the
 * revision of the region's last change ("changed"'s): 0 or a negative errno.
 */
struct region_gw {
	char *name, *error, *time;
	int64_t revision;
};
int region_gateways(struct region_gw **out, size_t *n, int64_t *changed);
void region_gateways_free(struct region_gw *g, size_t n);
/* The key /rnat/v1/REGION/@rest, into @buf. */
const char *region_key(char *buf, size_t size, const char *rest);
/* Gateway @gateway's report, /rnat/v1-gateways/REGION/@gateway, into @buf. */
const char *region_gateway_key(char *buf, size_t size, const char *gateway);

/* nl_talk() for the region: 0 or a negative errno (nl_strerror() says). */
int region_talk(struct nlmsghdr *req, nl_reply_cb cb, void *data);

/*
 * Devices live on gateways, not where rnatctl runs: a VPN's device name is
 * kept as a name, and stands in requests and replies as an index of
 * region_dev_index()'s making, which region_dev_name() turns back.
 */
uint32_t region_dev_index(const char *name);
const char *region_dev_name(uint32_t ifindex);

#endif
