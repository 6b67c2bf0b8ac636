// SPDX-License-Identifier: GPL-2.0
/*
 * The routes after one command that names one VPN (vpn add|set|del, map
 * add|replace|del|flush), at the cost of that VPN's blocks rather than of
 * every VPN and route: the command reads the VPN's blocks and device
 * (one RNAT_CMD_VPN_GET) before it sends its change; afterwards they are
 * read again and only those prefixes' routes are touched. A block the VPN
 * no longer routes there loses rnat's route (deleted by destination,
 * protocol and device, as routes.c deletes); every block it routes now is
 * checked with RTM_NEWROUTE without NLM_F_CREATE, which changes nothing and
 * answers EEXIST only if exactly rnat's route is there, and is added
 * (NLM_F_EXCL) if missing. The kernel looks each prefix up in the FIB trie;
 * no table is walked.
 *
 * The lock of routes_hold() is taken before the first read and kept until
 * the routes are done, so no other rnatctl run changes rnat's state and syncs
 * in between; a writer that does not take it (a batch, a pool command,
 * rnatd) changes state and then syncs everything under it, after this one.
 * Whatever is unsure falls back to the full sync (routes_sync()), under
 * the same lock: a command that touched no VPN, several or one that failed,
 * a read that failed, a block's place taken by a route that is not exactly
 * rnat's (someone else's, which stays with routes.c's warning naming it, or
 * rnat's to another device).
 *
 * rnatd does the same per watch response that makes or frees blocks and
 * nothing else (routes_vpn_read() of each such VPN before, then
 * routes_vpn_follow()), so its cost per new block does not grow with the
 * gateway either.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "nl.h"
#include "output.h"
#include "rnatctl.h"
#include "routes.h"

static struct {
	bool armed;	/* main: one command, routes to sync after it */
	bool held;	/* routes_hold() since the first touch */
	enum { NONE, ONE, ALL } scope;
	uint32_t vpn;
	struct routes before;	/* its block routes before the command */
} s;

void routes_vpn_arm(void)
{
	s.armed = true;
}

int routes_vpn_read(uint32_t vpn, struct routes *rs)
{
	struct nlmsghdr *nlh = nl_request(RNAT_CMD_VPN_GET, 0);
	int err;

	rs->n = 0;
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
	err = nl_talk(nlh, routes_want_vpn, rs);
	if (err == -ENOENT)
		err = 0;
	rs->n = err ? 0 : rs->n;
	routes_sort(rs);
	return err;
}

static bool hold(void)
{
	if (!s.held && !routes_hold())
		s.held = true;
	return s.held;
}

void routes_vpn_touch(uint32_t vpn)
{
	if (!s.armed || (s.scope == ONE && s.vpn == vpn))
		return;
	/* Inside a restore, or a second VPN: everything. */
	if (s.scope != NONE || nl_streaming() || !hold() ||
	    routes_vpn_read(vpn, &s.before)) {
		s.scope = ALL;
		return;
	}
	s.scope = ONE;
	s.vpn = vpn;
}

static int map_vpn(const struct nlattr **tb, void *data)
{
	if (tb[RNAT_A_VPN_ID])
		*(uint32_t *)data = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	return 0;
}

void routes_vpn_touch_nat(uint32_t nat)
{
	struct nlmsghdr *nlh;
	uint32_t vpn = 0;

	if (!s.armed || !hold())
		return;
	/* The VPN of the mapping holding @nat; none: a change syncs all. */
	nlh = nl_request(RNAT_CMD_MAP_GET, 0);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, nat);
	if (!nl_talk(nlh, map_vpn, &vpn) && vpn)
		routes_vpn_touch(vpn);
}

/* Unsure what stands in a route's place: the full sync decides. */
#define UNSURE 1

/* Is exactly @r there? 1 yes, 0 no, or -errno. */
static int route_there(const struct route *r)
{
	int err = route_talk(RTM_NEWROUTE, 0, r);

	return err == -EEXIST ? 1 : err == -ENOENT ? 0 : err;
}

/* Adds @r where nothing stands: 1 added, 0 something there, or -errno. */
static int route_put(const struct route *r)
{
	int err = route_talk(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);

	return !err ? 1 : err == -EEXIST ? 0 : err;
}

/*
 * Makes sure @r is there; @had: the VPN routed that block before, so it is
 * likely there already (checked first) rather than missing (added first).
 */
static int route_ensure(const struct route *r, bool had)
{
	int there = had ? route_there(r) : 0, put = 0;

	if (!there)
		put = route_put(r);
	if (!had && !put)
		there = route_there(r);
	if (there > 0 || put > 0)
		return 0;
	if (there < 0 || put < 0)	/* a device down: a warning */
		return route_failed(RTM_NEWROUTE, r, there < 0 ? there : put);
	return UNSURE;
}

/* From @before to @after (sorted): 0, UNSURE or -errno (said why). */
static int routes_vpn_apply(const struct routes *before,
			    const struct routes *after)
{
	size_t i;
	int err = 0;

	for (i = 0; i < before->n && !err; i++)
		if (!routes_have(after, &before->r[i]))
			err = route_change(RTM_DELROUTE, 0, &before->r[i]);
	for (i = 0; i < after->n && !err; i++)
		err = route_ensure(&after->r[i],
				   routes_have(before, &after->r[i]));
	return err;
}

int routes_vpn_follow(uint32_t vpn, const struct routes *before)
{
	struct routes after = {};
	int err = routes_vpn_read(vpn, &after) ? UNSURE :
		  routes_vpn_apply(before, &after);

	free(after.r);
	if (err == UNSURE)
		return routes_sync();
	return err ? EXIT_ERROR : 0;
}

int routes_vpn_sync(int cmd_err)
{
	if (s.armed && s.scope == ONE && !cmd_err && s.held)
		return routes_vpn_follow(s.vpn, &s.before);
	return routes_sync();
}

void routes_vpn_end(void)
{
	if (s.held)
		routes_release();
	free(s.before.r);
	memset(&s, 0, sizeof(s));
}
