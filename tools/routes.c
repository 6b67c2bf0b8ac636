// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the routes rnatctl keeps for rnat (protocol RNAT_RTPROT, main table):
 * one route per VPN NAT block to the VPN's device, and an "unreachable"
 * route per pool prefix so that a pool address outside every block is
 * answered with ICMP host unreachable instead of following the default
 * route. After a command that changed rnat's state, routes_sync() reads the
 * blocks and pools from the module and the routes from the kernel and adds
 * or deletes the difference, so it also repairs routes someone removed.
 *
 * Only routes of protocol RNAT_RTPROT are rnat's: they alone are ever
 * deleted, and a route is added with NLM_F_EXCL, so one of anyone else's at
 * the same destination and metric (an operator's static route, a routing
 * daemon's) is never replaced; it is left as it is, with a warning naming
 * its owner. Syncs in one network namespace run one at a time, each reading
 * the state afresh under a lock (flock(2) on the namespace itself), so two
 * rnatctl runs cannot interleave a read of the state with the other's
 * change and leave a route the state no longer asks for.
 *
 * A command that names one VPN syncs only that VPN's routes (routes_vpn.c,
 * with what this file shares in routes.h); pools, batches, restores,
 * "route sync" and rnatd sync everything here.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/file.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <linux/rtnetlink.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"
#include "routes.h"

/*
 * Below any block's route if a VPN's block ever spans a whole pool prefix
 * (same destination, so the metric tells them apart).
 */
#define UNREACHABLE_METRIC 0x7fffffff

int routes_add(struct routes *rs, uint32_t addr, uint8_t len,
		      uint8_t type, uint32_t oif, uint32_t metric)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct route *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct route){ addr, len, type, oif, metric, 0, 0 };
	return 0;
}

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	uint32_t xa = ntohl(x->addr), ya = ntohl(y->addr);

	if (xa != ya)
		return xa < ya ? -1 : 1;
	if (x->len != y->len)
		return x->len - y->len;
	if (x->type != y->type)
		return x->type - y->type;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return x->oif < y->oif ? -1 : x->oif > y->oif;
}

void routes_sort(struct routes *rs)
{
	if (rs->n)
		qsort(rs->r, rs->n, sizeof(*rs->r), route_cmp);
}

/* What rnat's state asks for: from the VPN and pool dumps. */
static int want_prefixes(struct routes *rs, const struct nlattr *list,
			 uint8_t type, uint32_t oif)
{
	const struct nlattr *entry;
	struct prefix p;
	int err;

	if (!list)
		return 0;
	mnl_attr_for_each_nested(entry, list) {
		err = prefix_entry(entry, &p);
		if (!err)
			err = routes_add(rs, p.addr, p.len, type, oif,
					 type == RTN_UNICAST ? 0 :
					 UNREACHABLE_METRIC);
		if (err)
			return err;
	}
	return 0;
}

int routes_want_vpn(const struct nlattr **tb, void *data)
{
	if (!tb[RNAT_A_IFINDEX])
		return 0;
	return want_prefixes(data, tb[RNAT_A_VPN_BLOCKS], RTN_UNICAST,
			     mnl_attr_get_u32(tb[RNAT_A_IFINDEX]));
}

static int want_pool(const struct nlattr **tb, void *data)
{
	return want_prefixes(data, tb[RNAT_A_POOL_PREFIXES], RTN_UNREACHABLE, 0);
}

/*
 * The first route of the sorted @rs to @addr/@len with @metric: the place a
 * route takes in the kernel's table (IPv4 refuses a second one there with
 * NLM_F_EXCL, whatever its type or nexthop), or NULL.
 */
static const struct route *routes_slot(const struct routes *rs, uint32_t addr,
				       uint8_t len, uint32_t metric)
{
	size_t lo = 0, hi = rs->n, mid;
	const struct route *r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = &rs->r[mid];
		if (ntohl(r->addr) < ntohl(addr) ||
		    (r->addr == addr && r->len < len))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < rs->n && rs->r[lo].addr == addr && rs->r[lo].len == len;
	     lo++)
		if (rs->r[lo].metric == metric)
			return &rs->r[lo];
	return NULL;
}

/*
 * The kernel's side: routes of protocol RNAT_RTPROT in the main table, and
 * anyone else's there that stand where rnat wants one of its own.
 */
struct have_ctx {
	struct routes *rs;
	const struct routes *want;
	struct routes *foreign;
	int err;
};

static int have_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= RTA_MAX && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int have_route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct have_ctx *ctx = data;
	uint32_t table, addr, oif, metric;
	struct routes *rs = ctx->rs;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    rtm->rtm_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), have_attr, tb);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) :
		rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	addr = tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0;
	oif = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	if (rtm->rtm_protocol != RNAT_RTPROT) {
		/* Only a route in the place of one of ours matters. */
		if (rtm->rtm_tos ||
		    !routes_slot(ctx->want, addr, rtm->rtm_dst_len, metric))
			return MNL_CB_OK;
		rs = ctx->foreign;
	}
	ctx->err = routes_add(rs, addr, rtm->rtm_dst_len, rtm->rtm_type, oif,
			      metric);
	if (!ctx->err && rs == ctx->foreign) {
		rs->r[rs->n - 1].protocol = rtm->rtm_protocol;
		if (tb[RTA_GATEWAY])
			rs->r[rs->n - 1].gateway =
				mnl_attr_get_u32(tb[RTA_GATEWAY]);
	}
	return ctx->err ? MNL_CB_ERROR : MNL_CB_OK;
}

static struct mnl_socket *rtnl;
static char rtbuf[32768];
static uint32_t rtseq;

/* Sends @nlh on the route socket; for a dump, @cb sees every message. */
static int rtnl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t portid = mnl_socket_get_portid(rtnl);
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(rtnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(rtnl, rtbuf, sizeof(rtbuf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(rtbuf, n, nlh->nlmsg_seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *rtnl_request(uint16_t type, uint16_t flags,
				     const struct route *r, char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++rtseq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (!r)
		return nlh;
	rtm->rtm_dst_len = r->len;
	rtm->rtm_protocol = RNAT_RTPROT;
	rtm->rtm_type = r->type;
	rtm->rtm_scope = r->type == RTN_UNICAST ? RT_SCOPE_LINK :
			 RT_SCOPE_UNIVERSE;
	mnl_attr_put_u32(nlh, RTA_DST, r->addr);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return nlh;
}

/* Who put a route there, as iproute2's rt_protos names them. */
static const char *proto_name(uint8_t proto, char *buf, size_t size)
{
	static const char *const names[] = {
		[RTPROT_REDIRECT] = "redirect", [RTPROT_KERNEL] = "kernel",
		[RTPROT_BOOT] = "boot", [RTPROT_STATIC] = "static",
		[RTPROT_RA] = "ra", [RTPROT_ZEBRA] = "zebra",
		[RTPROT_BIRD] = "bird", [RTPROT_DHCP] = "dhcp",
		[RTPROT_BABEL] = "babel", [RTPROT_BGP] = "bgp",
		[RTPROT_ISIS] = "isis", [RTPROT_OSPF] = "ospf",
		[RTPROT_RIP] = "rip", [RTPROT_EIGRP] = "eigrp",
	};

	if (proto < sizeof(names) / sizeof(names[0]) && names[proto])
		return names[proto];
	snprintf(buf, size, "%u", proto);
	return buf;
}

/* A device's name, or its index if it is gone since. */
static const char *if_name(uint32_t oif, char *buf)
{
	if (!if_indextoname(oif, buf))
		snprintf(buf, IF_NAMESIZE, "%u", oif);
	return buf;
}

/*
 * Someone else's route stands where rnat wants @r (at @foreign if the dump
 * saw it): it stays, and rnat's does not go in. A warning, not an error:
 * rnat's own state is as asked, only the routing is the owner's.
 */
static void route_foreign(const struct route *r, const struct route *foreign)
{
	char pfx[PREFIX_STRLEN], gw[PREFIX_STRLEN], proto[4];
	char what[IF_NAMESIZE + 16], odev[IF_NAMESIZE + 8];
	char name[IF_NAMESIZE];
	const char *type = "";

	format_prefix(pfx, r->addr, r->len, true);
	if (r->type == RTN_UNICAST)
		snprintf(what, sizeof(what), "route to %s",
			 if_name(r->oif, name));
	else
		snprintf(what, sizeof(what), "unreachable route");
	if (!foreign) {
		pr_warn("route %s: a route not rnat's appeared there meanwhile: left as it is, rnat's %s not added",
			pfx, what);
		return;
	}
	if (foreign->oif)
		snprintf(odev, sizeof(odev), " dev %s",
			 if_name(foreign->oif, name));
	switch (foreign->type) {
	case RTN_UNICAST:
		break;
	case RTN_BLACKHOLE:
		type = " blackhole";
		break;
	case RTN_UNREACHABLE:
		type = " unreachable";
		break;
	case RTN_PROHIBIT:
		type = " prohibit";
		break;
	default:
		type = " (not unicast)";
		break;
	}
	pr_warn("route %s is not rnat's (proto %s%s%s%s%s): left as it is, rnat's %s not added",
		pfx, proto_name(foreign->protocol, proto, sizeof(proto)), type,
		foreign->gateway ? " via " : "",
		foreign->gateway ?
		format_prefix(gw, foreign->gateway, 32, false) : "",
		foreign->oif ? odev : "", what);
}

int route_talk(uint16_t type, uint16_t flags, const struct route *r)
{
	char buf[256];

	return rtnl_talk(rtnl_request(type, flags | NLM_F_ACK, r, buf), NULL,
			 NULL);
}

int route_change(uint16_t type, uint16_t flags, const struct route *r)
{
	return route_failed(type, r, route_talk(type, flags, r));
}

int route_failed(uint16_t type, const struct route *r, int err)
{
	char pfx[PREFIX_STRLEN], dev[IF_NAMESIZE];

	/* Someone removed it first: the goal is reached. */
	if (err == -ESRCH && type == RTM_DELROUTE)
		return 0;
	/*
	 * IPv4 takes a device's routes away while it is down and refuses new
	 * ones: "rnatctl route sync" once it is up (see rnatctl.8).
	 */
	if (err == -ENETDOWN && type == RTM_NEWROUTE) {
		pr_warn("device %s is down: route %s waits for \"rnatctl route sync\"",
			if_name(r->oif, dev),
			format_prefix(pfx, r->addr, r->len, true));
		return 0;
	}
	/* Added with NLM_F_EXCL: never in the place of anyone else's. */
	if (err == -EEXIST && type == RTM_NEWROUTE) {
		route_foreign(r, NULL);
		return 0;
	}
	if (err)
		pr_err("cannot %s route %s: %s",
		       type == RTM_NEWROUTE ? "add" : "delete",
		       format_prefix(pfx, r->addr, r->len, true),
		       strerror(-err));
	return err;
}

static int routes_read(struct routes *want, struct routes *have,
		       struct routes *foreign)
{
	struct have_ctx ctx = { have, want, foreign, 0 };
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP);
	err = nl_talk(nlh, routes_want_vpn, want);
	if (!err) {
		nlh = nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP);
		err = nl_talk(nlh, want_pool, want);
	}
	if (err) {
		pr_err("routes: cannot read rnat's blocks: %s",
		       nl_strerror(err));
		return err;
	}
	routes_sort(want);
	nlh = rtnl_request(RTM_GETROUTE, NLM_F_DUMP, NULL, rtbuf);
	err = rtnl_talk(nlh, have_route, &ctx);
	if (err || ctx.err) {
		pr_err("routes: cannot read the routing table: %s",
		       strerror(-(err ? err : ctx.err)));
		return err ? err : ctx.err;
	}
	routes_sort(have);
	routes_sort(foreign);
	return 0;
}

bool routes_have(const struct routes *rs, const struct route *r)
{
	return rs->n && bsearch(r, rs->r, rs->n, sizeof(*r), route_cmp);
}

/*
 * Deletes what is no longer wanted, then adds what is missing where no one
 * else's route stands.
 */
static int routes_apply(const struct routes *want, const struct routes *have,
			const struct routes *foreign)
{
	const struct route *r, *f;
	size_t i;
	int err = 0;

	for (i = 0; i < have->n && !err; i++)
		if (!routes_have(want, &have->r[i]))
			err = route_change(RTM_DELROUTE, 0, &have->r[i]);
	for (i = 0; i < want->n && !err; i++) {
		r = &want->r[i];
		if (routes_have(have, r))
			continue;
		f = routes_slot(foreign, r->addr, r->len, r->metric);
		if (f)
			route_foreign(r, f);
		else
			err = route_change(RTM_NEWROUTE,
					   NLM_F_CREATE | NLM_F_EXCL, r);
	}
	return err;
}

/*
 * Waits until no other rnatctl syncs routes in this network namespace: an
 * flock(2) on the namespace's own inode, which every process in it opens
 * as /proc/self/ns/net, however it entered it (-n, ip netns exec). The
 * lock goes with the descriptor. -1 if it cannot be had (then the sync
 * runs unserialised, with a warning).
 */
static int routes_lock(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !flock(fd, LOCK_EX))
		return fd;
	pr_warn("routes: cannot lock /proc/self/ns/net (%s): syncing without serialising with other rnatctl runs",
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int hold_depth;
static int lock_fd = -1;

int routes_hold(void)
{
	if (hold_depth++)
		return 0;
	rtnl = mnl_socket_open(NETLINK_ROUTE);
	if (!rtnl || mnl_socket_bind(rtnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		pr_err("routes: cannot open a route netlink socket: %s",
		       strerror(errno));
		if (rtnl)
			mnl_socket_close(rtnl);
		rtnl = NULL;
		hold_depth = 0;
		return EXIT_ERROR;
	}
	rtseq = time(NULL);
	lock_fd = routes_lock();
	return 0;
}

void routes_release(void)
{
	if (!hold_depth || --hold_depth)
		return;
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
	mnl_socket_close(rtnl);
	rtnl = NULL;
}

int routes_sync(void)
{
	struct routes want = {}, have = {}, foreign = {};
	int err;

	if (nl_need() || routes_hold())
		return EXIT_ERROR;
	/* Read under the lock: what the state asks for when nobody else adds. */
	err = routes_read(&want, &have, &foreign);
	if (!err)
		err = routes_apply(&want, &have, &foreign);
	routes_release();
	free(want.r);
	free(have.r);
	free(foreign.r);
	return err ? EXIT_ERROR : 0;
}

void route_usage(FILE *f)
{
	fputs("Usage: rnatctl route sync\n"
	      "Makes the routes of protocol rnat (82) match the VPNs' NAT blocks and the\n"
	      "pools; every command that changes rnat's state does it too, unless -R.\n",
	      f);
}

int do_route(int argc, char **argv)
{
	static const char *const cmds[] = { "sync", "help", NULL };

	if (argc < 1) {
		route_usage(stderr);
		return EXIT_USAGE;
	}
	switch (parse_keyword(argv[0], "route command", cmds, NULL)) {
	case 0:
		if (argc > 1)
			return usage_error("route sync: unexpected \"%s\"",
					   argv[1]);
		return routes_sync();
	case 1:
		route_usage(out_stream());
		return 0;
	default:
		return EXIT_USAGE;
	}
}
