// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the routes rnatctl keeps for rnat (protocol RNAT_RTPROT, main table):
 * one route per VPN NAT block to the VPN's device, and an "unreachable"
 * route per pool prefix so that a pool address outside every block is
 * answered with ICMP host unreachable instead of following the default
 * route. After a command that changed rnat's state, routes_sync() reads the
 * blocks and pools from the module and the routes from the kernel and adds
 * or deletes the difference, so it also repairs routes someone removed.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <linux/rtnetlink.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

struct route {
	uint32_t addr;		/* network byte order */
	uint8_t len;
	uint8_t type;		/* RTN_UNICAST or RTN_UNREACHABLE */
	uint32_t oif;
	uint32_t metric;
};

/*
 * Below any block's route if a VPN's block ever spans a whole pool prefix
 * (same destination, so the metric tells them apart).
 */
#define UNREACHABLE_METRIC 0x7fffffff

struct routes {
	struct route *r;
	size_t n, cap;
};

static int routes_add(struct routes *rs, uint32_t addr, uint8_t len,
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
	rs->r[rs->n++] = (struct route){ addr, len, type, oif, metric };
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

static int want_vpn(const struct nlattr **tb, void *data)
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

/* The kernel's side: routes of protocol RNAT_RTPROT in the main table. */
struct have_ctx {
	struct routes *rs;
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
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    rtm->rtm_family != AF_INET || rtm->rtm_protocol != RNAT_RTPROT)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), have_attr, tb);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) :
		rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	ctx->err = routes_add(ctx->rs,
			      tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0,
			      rtm->rtm_dst_len, rtm->rtm_type,
			      tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0,
			      tb[RTA_PRIORITY] ?
			      mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0);
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

static int route_change(uint16_t type, uint16_t flags, const struct route *r)
{
	char buf[256], pfx[PREFIX_STRLEN], dev[IF_NAMESIZE];
	int err;

	err = rtnl_talk(rtnl_request(type, flags | NLM_F_ACK, r, buf), NULL,
			NULL);
	/* Someone removed it first: the goal is reached. */
	if (err == -ESRCH && type == RTM_DELROUTE)
		return 0;
	/*
	 * IPv4 takes a device's routes away while it is down and refuses new
	 * ones: "rnatctl route sync" once it is up (see rnatctl.8).
	 */
	if (err == -ENETDOWN && type == RTM_NEWROUTE) {
		if (!if_indextoname(r->oif, dev))
			snprintf(dev, sizeof(dev), "%u", r->oif);
		pr_warn("device %s is down: route %s waits for \"rnatctl route sync\"",
			dev, format_prefix(pfx, r->addr, r->len, true));
		return 0;
	}
	if (err)
		pr_err("cannot %s route %s: %s",
		       type == RTM_NEWROUTE ? "add" : "delete",
		       format_prefix(pfx, r->addr, r->len, true),
		       strerror(-err));
	return err;
}

static int routes_read(struct routes *want, struct routes *have)
{
	struct have_ctx ctx = { have, 0 };
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP);
	err = nl_talk(nlh, want_vpn, want);
	if (!err) {
		nlh = nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP);
		err = nl_talk(nlh, want_pool, want);
	}
	if (err) {
		pr_err("routes: cannot read rnat's blocks: %s",
		       nl_strerror(err));
		return err;
	}
	nlh = rtnl_request(RTM_GETROUTE, NLM_F_DUMP, NULL, rtbuf);
	err = rtnl_talk(nlh, have_route, &ctx);
	if (err || ctx.err) {
		pr_err("routes: cannot read the routing table: %s",
		       strerror(-(err ? err : ctx.err)));
		return err ? err : ctx.err;
	}
	qsort(want->r, want->n, sizeof(*want->r), route_cmp);
	qsort(have->r, have->n, sizeof(*have->r), route_cmp);
	return 0;
}

static bool routes_have(const struct routes *rs, const struct route *r)
{
	return rs->n && bsearch(r, rs->r, rs->n, sizeof(*r), route_cmp);
}

/* Deletes what is no longer wanted, then adds what is missing. */
static int routes_apply(const struct routes *want, const struct routes *have)
{
	size_t i;
	int err = 0;

	for (i = 0; i < have->n && !err; i++)
		if (!routes_have(want, &have->r[i]))
			err = route_change(RTM_DELROUTE, 0, &have->r[i]);
	for (i = 0; i < want->n && !err; i++)
		if (!routes_have(have, &want->r[i]))
			err = route_change(RTM_NEWROUTE,
					   NLM_F_CREATE | NLM_F_REPLACE,
					   &want->r[i]);
	return err;
}

int routes_sync(void)
{
	struct routes want = {}, have = {};
	int err;

	if (nl_need())
		return EXIT_ERROR;
	rtnl = mnl_socket_open(NETLINK_ROUTE);
	if (!rtnl || mnl_socket_bind(rtnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		pr_err("routes: cannot open a route netlink socket: %s",
		       strerror(errno));
		if (rtnl)
			mnl_socket_close(rtnl);
		return EXIT_ERROR;
	}
	rtseq = time(NULL);
	err = routes_read(&want, &have);
	if (!err)
		err = routes_apply(&want, &have);
	mnl_socket_close(rtnl);
	free(want.r);
	free(have.r);
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
