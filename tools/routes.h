/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the full route sync (routes.c) shares with the sync of one VPN's
 * routes after a command that named it (routes_vpn.c): rnat's routes as
 * lists, the route socket and the lock that serialises syncs, and the
 * route requests with their ownership rules (protocol RNAT_RTPROT alone is
 * rnat's; adds never replace anyone's route).
 */
#ifndef RNATCTL_ROUTES_H
#define RNATCTL_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct route {
	uint32_t addr;		/* network byte order */
	uint8_t len;
	uint8_t type;		/* RTN_UNICAST or RTN_UNREACHABLE */
	uint32_t oif;
	uint32_t metric;
	/* Someone else's route (struct routes' foreign): its nexthop, owner. */
	uint32_t gateway;
	uint8_t protocol;
};

struct routes {
	struct route *r;
	size_t n, cap;
};

int routes_add(struct routes *rs, uint32_t addr, uint8_t len, uint8_t type,
	       uint32_t oif, uint32_t metric);
/* Sorts @rs for routes_have(). */
void routes_sort(struct routes *rs);
/* Is @r (destination, length, type, metric, device) in the sorted @rs? */
bool routes_have(const struct routes *rs, const struct route *r);
/*
 * A VPN reply (nl_reply_cb, @data a struct routes): the routes its blocks
 * ask for, none if it has no device.
 */
int routes_want_vpn(const struct nlattr **tb, void *data);

/*
 * The block routes @vpn asks for now (sorted into @rs), none if it has no
 * device or is gone: 0 or -errno.
 */
int routes_vpn_read(uint32_t vpn, struct routes *rs);
/*
 * Takes @vpn's routes from @before (routes_vpn_read() before a change, the
 * lock held since) to what it asks for now; whatever is unsure, or a read
 * that fails, syncs everything (routes_sync()): 0 or EXIT_ERROR.
 */
int routes_vpn_follow(uint32_t vpn, const struct routes *before);

/*
 * Opens the route socket and takes the lock that serialises syncs in this
 * namespace (see routes_lock()), unless already held: calls nest, each
 * routes_hold() that returned 0 ending with routes_release(). 0, or
 * EXIT_ERROR after saying why.
 */
int routes_hold(void);
void routes_release(void);

/*
 * One route request for @r (held): 0 or the kernel's -errno as it is.
 * RTM_NEWROUTE without flags changes nothing: -EEXIST if exactly @r (same
 * protocol, device, type, metric) is there, -ENOENT if not.
 */
int route_talk(uint16_t type, uint16_t flags, const struct route *r);
/*
 * route_talk() with its failures handled by route_failed(): 0 or -errno.
 * route_failed() takes @err, a route_talk() answer: a route already gone is
 * deleted, one for a device that is down waits for "route sync" (a
 * warning), one that cannot go in beside someone else's is left out (a
 * warning); otherwise an error is printed and @err returned.
 */
int route_change(uint16_t type, uint16_t flags, const struct route *r);
int route_failed(uint16_t type, const struct route *r, int err);

#endif
