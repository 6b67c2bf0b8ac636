// SPDX-License-Identifier: GPL-2.0
/*
 * The "rnat" generic netlink family: request parsing and reply formatting.
 * The rules themselves live in cfg.c; every handler runs under the
 * namespace's mutex, so a request is applied completely or not at all.
 */

#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/rnat.h>

#include "compat.h"
#include "hooks.h"
#include "netlink.h"
#include "netns.h"

#ifdef RNAT_EXTACK_SLOTS
char *rnat_extack_slot(void)
{
	static char buf[RNAT_EXTACK_SLOTS][RNAT_EXTACK_LEN];
	static atomic_t next = ATOMIC_INIT(0);

	return buf[(unsigned int)atomic_inc_return(&next) % RNAT_EXTACK_SLOTS];
}
#endif

static struct genl_family rnat_genl_family;

enum rnat_mcgrp {
	RNAT_MCGRP_EVENTS,
};

static const struct genl_multicast_group rnat_mcgrps[] = {
	[RNAT_MCGRP_EVENTS] = { .name = RNAT_GENL_MCGRP_EVENTS },
};

static struct netlink_range_validation rnat_vpn_id_range __ro_after_init = {
	.min = 1,
	.max = RNAT_VPN_ID_MAX,
};

static const struct nla_policy rnat_prefix_policy[RNAT_PREFIX_A_MAX + 1] = {
	[RNAT_PREFIX_A_ADDR] = { .type = NLA_BE32 },
	[RNAT_PREFIX_A_LEN] = NLA_POLICY_RANGE(NLA_U8, RNAT_POOL_PLEN_MIN, 32),
};

static const struct nla_policy rnat_mark_policy[RNAT_MARK_A_MAX + 1] = {
	[RNAT_MARK_A_VALUE] = { .type = NLA_U32 },
	[RNAT_MARK_A_MASK] = { .type = NLA_U32 },
};

/*
 * One policy per command: an attribute a command does not take is left
 * NLA_UNSPEC, which strict validation rejects ("Unsupported attribute").
 */
#define RNAT_NAME_POLICY { .type = NLA_NUL_STRING, .len = RNAT_NAME_MAX - 1 }
#define RNAT_VPN_ID_POLICY NLA_POLICY_FULL_RANGE(NLA_U32, &rnat_vpn_id_range)
#define RNAT_PLEN_POLICY NLA_POLICY_RANGE(NLA_U8, RNAT_MAP_PLEN_MIN, 32)

static const struct nla_policy rnat_pool_new_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_POOL] = RNAT_NAME_POLICY,
	[RNAT_A_POOL_PREFIXES] = NLA_POLICY_NESTED_ARRAY(rnat_prefix_policy),
};

static const struct nla_policy rnat_pool_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_POOL] = RNAT_NAME_POLICY,
};

static const struct nla_policy rnat_vpn_new_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_VPN_NAME] = RNAT_NAME_POLICY,
	[RNAT_A_POOL] = RNAT_NAME_POLICY,
	[RNAT_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[RNAT_A_VPN_MARK] = NLA_POLICY_NESTED(rnat_mark_policy),
	[RNAT_A_VPN_OUT_MARK] = NLA_POLICY_NESTED(rnat_mark_policy),
	[RNAT_A_VPN_BLOCKS] = NLA_POLICY_NESTED_ARRAY(rnat_prefix_policy),
};

static const struct nla_policy rnat_vpn_set_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_VPN_NAME] = RNAT_NAME_POLICY,
	[RNAT_A_IFINDEX] = { .type = NLA_U32 },	/* 0: no device */
	[RNAT_A_VPN_MARK] = NLA_POLICY_NESTED(rnat_mark_policy),
	[RNAT_A_VPN_OUT_MARK] = NLA_POLICY_NESTED(rnat_mark_policy),
};

static const struct nla_policy rnat_vpn_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
};

static const struct nla_policy rnat_vpn_get_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_WANT_STATS] = { .type = NLA_FLAG },
};

static const struct nla_policy rnat_map_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_MAP_REAL] = { .type = NLA_BE32 },
	[RNAT_A_MAP_NAT] = { .type = NLA_BE32 },
	[RNAT_A_MAP_PLEN] = RNAT_PLEN_POLICY,
};

/* MAP_NEW's: a mapping's, and the block a new NAT IP may take. */
static const struct nla_policy rnat_map_new_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_MAP_REAL] = { .type = NLA_BE32 },
	[RNAT_A_MAP_NAT] = { .type = NLA_BE32 },
	[RNAT_A_MAP_PLEN] = RNAT_PLEN_POLICY,
	[RNAT_A_MAP_BLOCK] = NLA_POLICY_NESTED(rnat_prefix_policy),
};

/* MAP_GET's lookup and dump share one policy: the filters are the dump's. */
static const struct nla_policy rnat_map_get_policy[RNAT_A_MAX + 1] = {
	[RNAT_A_VPN_ID] = RNAT_VPN_ID_POLICY,
	[RNAT_A_MAP_REAL] = { .type = NLA_BE32 },
	[RNAT_A_MAP_NAT] = { .type = NLA_BE32 },
	[RNAT_A_POOL] = RNAT_NAME_POLICY,
	[RNAT_A_FILTER_NAT] = NLA_POLICY_NESTED(rnat_prefix_policy),
	[RNAT_A_FILTER_REAL] = NLA_POLICY_NESTED(rnat_prefix_policy),
	[RNAT_A_WANT_STATS] = { .type = NLA_FLAG },
};

static const struct nla_policy rnat_empty_policy[RNAT_A_MAX + 1] = {};

static bool rnat_require(struct genl_info *info, int attr, const char *what)
{
	if (info->attrs[attr])
		return true;
	NL_SET_ERR_ATTR_MISS(info->extack, NULL, attr);
	NL_SET_ERR_MSG_FMT(info->extack, "missing %s", what);
	return false;
}

/*
 * The configuration a change applies to: the restore this request's socket
 * is building, if any (see RNAT_CMD_RESTORE_BEGIN), else the live one.
 */
static struct rnat_cfg *rnat_req_cfg(struct rnat_net *rn,
				     struct genl_info *info)
{
	if (rn->staging && info->snd_portid == rn->staging_portid)
		return rn->staging;
	return rnat_net_cfg(rn);
}

static struct rnat_net *rnat_lock(struct genl_info *info)
{
	struct rnat_net *rn = rnat_net(genl_info_net(info));

	mutex_lock(&rn->lock);
	return rn;
}

/*
 * A reply being written. A command that changes state allocates its reply
 * before the change: a change once made is always answered, and a failed
 * allocation leaves the state as it was.
 */
struct rnat_reply {
	struct sk_buff *msg;
	void *hdr;
};

static int rnat_reply_prepare(struct rnat_reply *r, struct genl_info *info,
			      u8 cmd, size_t size)
{
	r->msg = genlmsg_new(size, GFP_KERNEL);
	if (!r->msg)
		return -ENOMEM;
	r->hdr = genlmsg_put_reply(r->msg, info, &rnat_genl_family, 0, cmd);
	if (!r->hdr) {
		nlmsg_free(r->msg);
		return -EMSGSIZE;
	}
	return 0;
}

/* Sends the prepared reply that @fill writes, or frees it if @err. */
static int rnat_reply_finish(struct rnat_reply *r, struct genl_info *info,
			     int err, int (*fill)(struct sk_buff *, const void *),
			     const void *obj)
{
	if (!err && fill(r->msg, obj))
		err = -EMSGSIZE;
	if (err) {
		nlmsg_free(r->msg);
		return err;
	}
	genlmsg_end(r->msg, r->hdr);
	return genlmsg_reply(r->msg, info);
}

/* Sends the one-object reply that @fill writes in @size bytes. */
static int rnat_reply_size(struct genl_info *info, u8 cmd, size_t size,
			   int (*fill)(struct sk_buff *, const void *),
			   const void *obj)
{
	struct rnat_reply r;
	int err;

	err = rnat_reply_prepare(&r, info, cmd, size);
	if (err)
		return err;
	return rnat_reply_finish(&r, info, 0, fill, obj);
}

static int rnat_reply(struct genl_info *info, u8 cmd,
		      int (*fill)(struct sk_buff *, const void *),
		      const void *obj)
{
	return rnat_reply_size(info, cmd, NLMSG_GOODSIZE, fill, obj);
}

/*
 * Every change is announced to the "events" group as a message of the
 * command that made it; with nobody listening it costs nothing. Called
 * under rn->lock, so events leave in the order the changes were made.
 *
 * Is anyone to hear of a change? Not while a restore is being built (it is
 * announced once, when committed), nor with nobody in the group. A change
 * of the live configuration moves its generation either way.
 */
static bool rnat_notify_wanted(struct rnat_net *rn, struct genl_info *info)
{
	if (info && rnat_req_cfg(rn, info) != rnat_net_cfg(rn))
		return false;
	rnat_net_changed(rn);
	return genl_has_listeners(&rnat_genl_family, rn->net,
				  RNAT_MCGRP_EVENTS);
}

/*
 * An event that cannot be sent is never lost in silence: every listener's
 * socket gets ENOBUFS, as when its buffer overflows, and knows to resync.
 */
static void rnat_notify_lost(struct rnat_net *rn)
{
	genl_set_err(&rnat_genl_family, rn->net, 0, RNAT_MCGRP_EVENTS,
		     ENOBUFS);
}

/* Sends one event message that @fill writes; false if it could not. */
static bool rnat_notify_send(struct rnat_net *rn, u8 cmd, u16 flags,
			     int (*fill)(struct sk_buff *, const void *),
			     const void *obj)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto lost;
	hdr = genlmsg_put(msg, 0, 0, &rnat_genl_family, flags, cmd);
	if (!hdr || fill(msg, obj)) {
		nlmsg_free(msg);
		goto lost;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&rnat_genl_family, rn->net, msg, 0,
				RNAT_MCGRP_EVENTS, GFP_KERNEL);
	return true;
lost:
	rnat_notify_lost(rn);
	return false;
}

static void rnat_notify_flags(struct rnat_net *rn, struct genl_info *info,
			      u8 cmd, u16 flags,
			      int (*fill)(struct sk_buff *, const void *),
			      const void *obj)
{
	if (rnat_notify_wanted(rn, info))
		rnat_notify_send(rn, cmd, flags, fill, obj);
}

static void rnat_notify(struct rnat_net *rn, struct genl_info *info, u8 cmd,
			int (*fill)(struct sk_buff *, const void *),
			const void *obj)
{
	rnat_notify_flags(rn, info, cmd, 0, fill, obj);
}

/*
 * Adds one object to a dump; -EMSGSIZE when @skb is full. Dumps set
 * cb->seq to the generation under rn->lock before adding anything.
 */
static int rnat_dump_put(struct sk_buff *skb, struct netlink_callback *cb,
			 u8 cmd, int (*fill)(struct sk_buff *, const void *),
			 const void *obj)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &rnat_genl_family, NLM_F_MULTI, cmd);
	if (!hdr)
		return -EMSGSIZE;
	/* NLM_F_DUMP_INTR if the generation moved since the last message. */
	genl_dump_check_consistent(cb, hdr);
	if (fill(skb, obj)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Entry @i (from 1) of a prefix list such as RNAT_A_POOL_PREFIXES. */
static int rnat_put_prefix(struct sk_buff *skb, int i,
			   const struct rnat_prefix *p)
{
	struct nlattr *entry = nla_nest_start(skb, i);

	if (!entry ||
	    nla_put_in_addr(skb, RNAT_PREFIX_A_ADDR, htonl(p->base)) ||
	    nla_put_u8(skb, RNAT_PREFIX_A_LEN, p->plen))
		return -EMSGSIZE;
	nla_nest_end(skb, entry);
	return 0;
}

/* Pools */

static int rnat_fill_pool(struct sk_buff *skb, const void *obj)
{
	const struct rnat_pool *pool = obj;
	struct nlattr *list;
	unsigned int i;

	if (nla_put_string(skb, RNAT_A_POOL, pool->name) ||
	    nla_put_u32(skb, RNAT_A_POOL_SIZE, pool->size) ||
	    nla_put_u32(skb, RNAT_A_POOL_USED, pool->count[RNAT_POOL_USED]) ||
	    nla_put_u32(skb, RNAT_A_POOL_OWNED, pool->count[RNAT_POOL_OWNED]))
		return -EMSGSIZE;
	list = nla_nest_start(skb, RNAT_A_POOL_PREFIXES);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < pool->nprefixes; i++)
		if (rnat_put_prefix(skb, i + 1, &pool->prefixes[i].pfx))
			return -EMSGSIZE;
	nla_nest_end(skb, list);
	return 0;
}

static int rnat_fill_name(struct sk_buff *skb, const void *obj)
{
	return nla_put_string(skb, RNAT_A_POOL, obj);
}

/* Reads one prefix nest (validated by rnat_prefix_policy) into @p. */
static int rnat_parse_prefix(const struct nlattr *nest, const char *what,
			     struct rnat_prefix *p,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[RNAT_PREFIX_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, RNAT_PREFIX_A_MAX, nest, rnat_prefix_policy,
			       extack);
	if (err)
		return err;
	if (!tb[RNAT_PREFIX_A_ADDR] || !tb[RNAT_PREFIX_A_LEN]) {
		NL_SET_BAD_ATTR(extack, nest);
		NL_SET_ERR_MSG_FMT(extack, "%s needs an address and a length",
				   what);
		return -EINVAL;
	}
	p->base = ntohl(nla_get_in_addr(tb[RNAT_PREFIX_A_ADDR]));
	p->plen = nla_get_u8(tb[RNAT_PREFIX_A_LEN]);
	return 0;
}

/*
 * Reads a prefix list attribute (RNAT_A_POOL_PREFIXES, RNAT_A_VPN_BLOCKS) of
 * at most @max entries into a new array *@out (kfree it) of *@n prefixes.
 */
static int rnat_parse_prefixes(struct genl_info *info, int attr,
			       unsigned int max, const char *what,
			       struct rnat_prefix **out, unsigned int *n)
{
	struct rnat_prefix *prefixes;
	struct nlattr *entry;
	unsigned int count = 0;
	int rem, err;

	nla_for_each_nested(entry, info->attrs[attr], rem)
		count++;
	if (count > max) {
		NL_SET_ERR_MSG_FMT(info->extack, "%u %ss given, at most %u allowed",
				   count, what, max);
		return -E2BIG;
	}
	prefixes = kcalloc(max_t(unsigned int, count, 1), sizeof(*prefixes),
			   GFP_KERNEL);
	if (!prefixes)
		return -ENOMEM;
	*n = 0;
	nla_for_each_nested(entry, info->attrs[attr], rem) {
		err = rnat_parse_prefix(entry, what, &prefixes[*n],
					info->extack);
		if (err) {
			kfree(prefixes);
			return err;
		}
		(*n)++;
	}
	*out = prefixes;
	return 0;
}

static int rnat_pool_new(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_prefix *prefixes;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	const char *name;
	unsigned int n;
	int err;

	if (!rnat_require(info, RNAT_A_POOL, "pool name") ||
	    !rnat_require(info, RNAT_A_POOL_PREFIXES, "pool prefixes"))
		return -EINVAL;
	err = rnat_parse_prefixes(info, RNAT_A_POOL_PREFIXES,
				  RNAT_POOL_PREFIXES_MAX, "pool prefix",
				  &prefixes, &n);
	if (err)
		return err;
	name = nla_data(info->attrs[RNAT_A_POOL]);
	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	err = rnat_cfg_pool_add(cfg, name, prefixes, n,
				info->extack);
	if (!err)
		rnat_notify(rn, info, RNAT_CMD_POOL_NEW, rnat_fill_pool,
			    rnat_cfg_pool(cfg, name));
	mutex_unlock(&rn->lock);
	kfree(prefixes);
	return err;
}

static int rnat_pool_del(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	int err;

	if (!rnat_require(info, RNAT_A_POOL, "pool name"))
		return -EINVAL;
	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	err = rnat_cfg_pool_del(cfg,
				nla_data(info->attrs[RNAT_A_POOL]),
				info->extack);
	if (!err)
		rnat_notify(rn, info, RNAT_CMD_POOL_DEL, rnat_fill_name,
			    nla_data(info->attrs[RNAT_A_POOL]));
	mutex_unlock(&rn->lock);
	return err;
}

static int rnat_pool_get(struct sk_buff *skb, struct genl_info *info)
{
	const char *name;
	struct rnat_pool *pool;
	struct rnat_net *rn;
	int err;

	if (!rnat_require(info, RNAT_A_POOL, "pool name"))
		return -EINVAL;
	name = nla_data(info->attrs[RNAT_A_POOL]);
	rn = rnat_lock(info);
	pool = rnat_cfg_pool(rnat_net_cfg(rn), name);
	if (pool) {
		err = rnat_reply(info, RNAT_CMD_POOL_GET, rnat_fill_pool, pool);
	} else {
		NL_SET_ERR_MSG_FMT(info->extack, "no pool %s", name);
		err = -ENOENT;
	}
	mutex_unlock(&rn->lock);
	return err;
}

/*
 * A dump message that cannot hold even one object: ends the dump with an
 * error rather than as if it were complete.
 */
static int rnat_dump_end(struct sk_buff *skb, int err)
{
	if (err && !skb->len)
		return err;
	return skb->len;
}

/* Pool dump state: the name of the last pool sent, "" before the first. */
struct rnat_pool_dump_ctx {
	char last[RNAT_NAME_MAX];
};

/* The pool whose name follows @after in name order, or NULL. */
static struct rnat_pool *rnat_pool_after(struct rnat_cfg *cfg,
					 const char *after)
{
	struct rnat_pool *pool, *best = NULL;

	list_for_each_entry(pool, &cfg->pools, list)
		if (strcmp(pool->name, after) > 0 &&
		    (!best || strcmp(pool->name, best->name) < 0))
			best = pool;
	return best;
}

/*
 * Pools are dumped in name order and a dump resumes after the last name
 * sent, so pools that exist for the whole dump appear exactly once.
 */
static int rnat_pool_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rnat_pool_dump_ctx *ctx = (void *)cb->ctx;
	struct rnat_net *rn = rnat_net(sock_net(skb->sk));
	struct rnat_pool *pool;
	int err = 0;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	mutex_lock(&rn->lock);
	cb->seq = rn->gen;
	while ((pool = rnat_pool_after(rnat_net_cfg(rn), ctx->last))) {
		err = rnat_dump_put(skb, cb, RNAT_CMD_POOL_GET, rnat_fill_pool,
				    pool);
		if (err)
			break;
		strscpy(ctx->last, pool->name, sizeof(ctx->last));
	}
	mutex_unlock(&rn->lock);
	return rnat_dump_end(skb, err);
}

/* VPNs */

static int rnat_put_mark(struct sk_buff *skb, int attr,
			 const struct rnat_mark *m)
{
	struct nlattr *nest;

	if (!m->mask)
		return 0;
	nest = nla_nest_start(skb, attr);
	if (!nest || nla_put_u32(skb, RNAT_MARK_A_VALUE, m->value) ||
	    nla_put_u32(skb, RNAT_MARK_A_MASK, m->mask))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Reads a mark attribute, if given, into *@m. */
static int rnat_parse_mark(struct genl_info *info, int attr,
			   struct rnat_mark *m)
{
	struct nlattr *tb[RNAT_MARK_A_MAX + 1];
	int err;

	if (!info->attrs[attr])
		return 0;
	err = nla_parse_nested(tb, RNAT_MARK_A_MAX, info->attrs[attr],
			       rnat_mark_policy, info->extack);
	if (err)
		return err;
	if (!tb[RNAT_MARK_A_VALUE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[attr],
				    "a mark needs a value");
		return -EINVAL;
	}
	m->value = nla_get_u32(tb[RNAT_MARK_A_VALUE]);
	m->mask = tb[RNAT_MARK_A_MASK] ? nla_get_u32(tb[RNAT_MARK_A_MASK]) :
					 U32_MAX;
	if (m->value & ~m->mask) {
		NL_SET_ERR_MSG_FMT(info->extack, "%s 0x%x has bits outside its mask 0x%x",
				   attr == RNAT_A_VPN_MARK ? "mark" : "egress mark",
				   m->value, m->mask);
		NL_SET_BAD_ATTR(info->extack, info->attrs[attr]);
		return -EINVAL;
	}
	return 0;
}

/* One entry of RNAT_A_VPN_BLOCKS. */
#define RNAT_BLOCK_ENTRY_SIZE \
	nla_total_size(nla_total_size(sizeof(__be32)) + nla_total_size(sizeof(u8)))

static unsigned int rnat_vpn_nblocks(const struct rnat_vpn *vpn)
{
	const struct rnat_block *b;
	unsigned int n = 0;

	list_for_each_entry(b, &vpn->blocks, node)
		n++;
	return n;
}

/* Counters (a mapping's, or a VPN's departed ones) as a nest of type @attr. */
static int rnat_put_totals(struct sk_buff *skb, int attr,
			   const struct rnat_map_totals *t)
{
	static const int pad = RNAT_MAP_STATS_A_PAD;
	struct nlattr *nest;
	int d, i;

	BUILD_BUG_ON(RNAT_MAP_STATS_A_IN_UNREACH + RNAT_ICMP_CLASSES !=
		     RNAT_MAP_STATS_A_OUT_UNREACH);
	nest = nla_nest_start(skb, attr);
	if (!nest ||
	    nla_put_u64_64bit(skb, RNAT_MAP_STATS_A_IN_PACKETS,
			      t->packets[RNAT_DIR_IN], pad) ||
	    nla_put_u64_64bit(skb, RNAT_MAP_STATS_A_IN_BYTES,
			      t->bytes[RNAT_DIR_IN], pad) ||
	    nla_put_u64_64bit(skb, RNAT_MAP_STATS_A_OUT_PACKETS,
			      t->packets[RNAT_DIR_OUT], pad) ||
	    nla_put_u64_64bit(skb, RNAT_MAP_STATS_A_OUT_BYTES,
			      t->bytes[RNAT_DIR_OUT], pad) ||
	    (t->last_used &&
	     nla_put_u64_64bit(skb, RNAT_MAP_STATS_A_IDLE_MS,
			       jiffies64_to_msecs(jiffies - t->last_used), pad)))
		return -EMSGSIZE;
	for (d = 0; d < RNAT_DIRS; d++)
		for (i = 0; i < RNAT_ICMP_CLASSES; i++)
			if (nla_put_u32(skb, RNAT_MAP_STATS_A_IN_UNREACH +
					d * RNAT_ICMP_CLASSES + i,
					t->icmp[d][i]))
				return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* The most rnat_put_totals() writes. */
#define RNAT_TOTALS_SIZE \
	(nla_total_size(0) + 5 * nla_total_size_64bit(sizeof(u64)) + \
	 2 * RNAT_ICMP_CLASSES * nla_total_size(sizeof(u32)))

/*
 * A VPN reply or event, with its blocks from the @first on (see "Long
 * block lists" in the uapi header): as many as fit; *@next is then the
 * first block not sent. -EMSGSIZE if not even one of them fits.
 */
struct rnat_vpn_part {
	const struct rnat_vpn *vpn;
	unsigned int first;
	unsigned int *next;
	bool stats;		/* with RNAT_A_VPN_DEPARTED */
};

static int rnat_fill_vpn_part(struct sk_buff *skb, const void *obj)
{
	const struct rnat_vpn_part *part = obj;
	const struct rnat_vpn *vpn = part->vpn;
	unsigned int i = 0, total = rnat_vpn_nblocks(vpn);
	const struct rnat_block *b;
	struct nlattr *list;
	unsigned char *mark;

	if (nla_put_u32(skb, RNAT_A_VPN_ID, vpn->id) ||
	    nla_put_string(skb, RNAT_A_VPN_NAME, vpn->name) ||
	    nla_put_string(skb, RNAT_A_POOL, vpn->pool->name) ||
	    (vpn->link.ifindex &&
	     nla_put_u32(skb, RNAT_A_IFINDEX, vpn->link.ifindex)) ||
	    rnat_put_mark(skb, RNAT_A_VPN_MARK, &vpn->link.mark) ||
	    rnat_put_mark(skb, RNAT_A_VPN_OUT_MARK, &vpn->link.out_mark) ||
	    nla_put_u32(skb, RNAT_A_VPN_MAPPINGS, vpn->nmaps) ||
	    nla_put_u32(skb, RNAT_A_VPN_NBLOCKS, total) ||
	    nla_put_u32(skb, RNAT_A_VPN_BLOCKS_FIRST, part->first) ||
	    (part->stats &&
	     rnat_put_totals(skb, RNAT_A_VPN_DEPARTED, &vpn->departed)))
		return -EMSGSIZE;
	list = nla_nest_start(skb, RNAT_A_VPN_BLOCKS);
	if (!list)
		return -EMSGSIZE;
	list_for_each_entry(b, &vpn->blocks, node) {
		if (i < part->first) {
			i++;
			continue;
		}
		mark = skb_tail_pointer(skb);
		if (rnat_put_prefix(skb, i + 1, &b->pfx)) {
			nlmsg_trim(skb, mark);
			break;
		}
		i++;
	}
	/* Room for none of the blocks left: try a message of its own. */
	if (i == part->first && i < total)
		return -EMSGSIZE;
	nla_nest_end(skb, list);
	*part->next = i;
	return 0;
}

/* The whole VPN in one message (a reply sized for it). */
static int rnat_fill_vpn_whole(struct sk_buff *skb, const void *obj)
{
	struct rnat_vpn_part part = *(const struct rnat_vpn_part *)obj;
	unsigned int next;
	int err;

	part.next = &next;
	err = rnat_fill_vpn_part(skb, &part);
	if (!err && WARN_ON_ONCE(next != rnat_vpn_nblocks(part.vpn)))
		err = -EMSGSIZE;
	return err;
}

static int rnat_fill_vpn(struct sk_buff *skb, const void *obj)
{
	struct rnat_vpn_part part = { .vpn = obj };

	return rnat_fill_vpn_whole(skb, &part);
}

/* What rnat_fill_vpn() writes for @vpn, at most. */
static size_t rnat_vpn_size(const struct rnat_vpn *vpn)
{
	return 5 * nla_total_size(sizeof(u32)) +	/* id, ifindex, ... */
	       2 * nla_total_size(RNAT_NAME_MAX) +	/* name, pool */
	       2 * nla_total_size(2 * nla_total_size(sizeof(u32))) + /* marks */
	       nla_total_size(0) +			/* blocks */
	       rnat_vpn_nblocks(vpn) * RNAT_BLOCK_ENTRY_SIZE +
	       RNAT_TOTALS_SIZE;			/* departed */
}

/*
 * Announces a change of @vpn: as many messages as its blocks need, each
 * a whole VPN with the blocks that follow those of the one before.
 */
static void rnat_notify_vpn(struct rnat_net *rn, struct genl_info *info,
			    u8 cmd, const struct rnat_vpn *vpn)
{
	unsigned int next = 0, total = rnat_vpn_nblocks(vpn);
	struct rnat_vpn_part part = { .vpn = vpn, .next = &next };

	if (!rnat_notify_wanted(rn, info))
		return;
	do {
		part.first = next;
		if (!rnat_notify_send(rn, cmd, 0, rnat_fill_vpn_part, &part))
			return;
	} while (next < total);
}

/*
 * RNAT_A_IFINDEX names a device of this namespace. Checked under rn->lock:
 * a device unregistered after this is detached by rnat_netdev_event().
 */
static int rnat_dev_check(struct genl_info *info)
{
	int ifindex = nla_get_u32(info->attrs[RNAT_A_IFINDEX]);
	struct net_device *dev;

	rcu_read_lock();
	dev = dev_get_by_index_rcu(genl_info_net(info), ifindex);
	rcu_read_unlock();
	if (dev)
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RNAT_A_IFINDEX],
			    "no such device in this namespace");
	return -ENODEV;
}

/* Reads a VPN's device and marks, where given, over what *@link holds. */
static int rnat_parse_link(struct genl_info *info, struct rnat_vpn_link *link)
{
	int err = 0;

	if (info->attrs[RNAT_A_IFINDEX]) {
		link->ifindex = nla_get_u32(info->attrs[RNAT_A_IFINDEX]);
		/* 0 (VPN_SET only): no device. */
		if (link->ifindex)
			err = rnat_dev_check(info);
	}
	return err ?: rnat_parse_mark(info, RNAT_A_VPN_MARK, &link->mark) ?:
		      rnat_parse_mark(info, RNAT_A_VPN_OUT_MARK,
				      &link->out_mark);
}

static int rnat_vpn_new(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_vpn_link link = {};
	struct rnat_prefix *blocks = NULL;
	unsigned int i, n = 0;
	const char *name = NULL;
	struct rnat_cfg *cfg;
	int err = 0;
	struct rnat_net *rn;
	u32 id;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id") ||
	    !rnat_require(info, RNAT_A_POOL, "pool name"))
		return -EINVAL;
	id = nla_get_u32(info->attrs[RNAT_A_VPN_ID]);
	if (info->attrs[RNAT_A_VPN_NAME])
		name = nla_data(info->attrs[RNAT_A_VPN_NAME]);
	if (info->attrs[RNAT_A_VPN_BLOCKS]) {
		err = rnat_parse_prefixes(info, RNAT_A_VPN_BLOCKS, U16_MAX,
					  "block", &blocks, &n);
		if (err)
			return err;
	}

	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	err = rnat_parse_link(info, &link);
	if (err)
		goto out;
	/*
	 * The device comes last: a VPN undone before it has one leaves no
	 * fence behind (a failed command changes nothing).
	 */
	err = rnat_cfg_vpn_add(cfg, id, name,
			       nla_data(info->attrs[RNAT_A_POOL]),
			       &(struct rnat_vpn_link){}, info->extack);
	if (err)
		goto out;
	for (i = 0; !err && i < n; i++)
		err = rnat_cfg_vpn_block_add(cfg, rnat_cfg_vpn(cfg, id),
					     &blocks[i], info->extack);
	if (!err) {
		err = rnat_hooks_sync(rn);
		if (err)
			NL_SET_ERR_MSG(info->extack,
				       "cannot register netfilter hooks");
	}
	if (!err)
		err = rnat_cfg_vpn_set_link(cfg, rnat_cfg_vpn(cfg, id), &link,
					    info->extack);
	if (err) {
		rnat_cfg_vpn_del(cfg, id, NULL);
		rnat_hooks_sync(rn);	/* unregistering cannot fail */
		goto out;
	}
	rnat_notify_vpn(rn, info, RNAT_CMD_VPN_NEW, rnat_cfg_vpn(cfg, id));
out:
	mutex_unlock(&rn->lock);
	kfree(blocks);
	return err;
}

/* Changes a VPN's device, marks and name, as many as given, all or none. */
static int rnat_vpn_set(struct sk_buff *skb, struct genl_info *info)
{
	bool echo = info->nlhdr->nlmsg_flags & NLM_F_ECHO;
	struct nlattr *name = info->attrs[RNAT_A_VPN_NAME];
	char old[RNAT_NAME_MAX];
	struct rnat_vpn_link link;
	struct rnat_reply reply;
	struct rnat_vpn *vpn;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	int err = 0;
	u32 id;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id"))
		return -EINVAL;
	if (!name && !info->attrs[RNAT_A_IFINDEX] &&
	    !info->attrs[RNAT_A_VPN_MARK] && !info->attrs[RNAT_A_VPN_OUT_MARK]) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: give a device, a mark or a name");
		return -EINVAL;
	}
	id = nla_get_u32(info->attrs[RNAT_A_VPN_ID]);
	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	vpn = rnat_cfg_vpn(cfg, id);
	if (!vpn) {
		NL_SET_ERR_MSG_FMT(info->extack, "no VPN %u", id);
		err = -ENOENT;
		goto out;
	}
	link = vpn->link;
	err = rnat_parse_link(info, &link);
	if (err)
		goto out;
	/* Its blocks do not change: the size holds after the change. */
	if (echo) {
		err = rnat_reply_prepare(&reply, info, RNAT_CMD_VPN_SET,
					 rnat_vpn_size(vpn));
		if (err)
			goto out;
	}
	strscpy(old, vpn->name, sizeof(old));
	if (name)
		err = rnat_cfg_vpn_rename(cfg, vpn, nla_data(name),
					  info->extack);
	if (!err)
		err = rnat_cfg_vpn_set_link(cfg, vpn, &link, info->extack);
	if (err && name)
		rnat_cfg_vpn_rename(cfg, vpn, old, NULL);
	if (!err)
		rnat_notify_vpn(rn, info, RNAT_CMD_VPN_SET, vpn);
	/* A change made stands: a reply lost in delivery undoes nothing. */
	if (echo)
		rnat_reply_finish(&reply, info, err, rnat_fill_vpn, vpn);
out:
	mutex_unlock(&rn->lock);
	return err;
}

/* A VPN id and a number of mappings: what VPN_DEL and MAP_FLUSH took. */
static int rnat_fill_vpn_count(struct sk_buff *skb, const void *obj)
{
	const u32 *v = obj;

	if (nla_put_u32(skb, RNAT_A_VPN_ID, v[0]) ||
	    nla_put_u32(skb, RNAT_A_VPN_MAPPINGS, v[1]))
		return -EMSGSIZE;
	return 0;
}

static int rnat_vpn_del(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_reply reply;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	u32 deleted[2];
	int n;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id"))
		return -EINVAL;
	deleted[0] = nla_get_u32(info->attrs[RNAT_A_VPN_ID]);
	n = rnat_reply_prepare(&reply, info, RNAT_CMD_VPN_DEL, NLMSG_GOODSIZE);
	if (n)
		return n;
	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	n = rnat_cfg_vpn_del(cfg, deleted[0], info->extack);
	if (n >= 0) {
		rnat_hooks_sync(rn);	/* unregistering cannot fail */
		deleted[1] = n;
		rnat_notify(rn, info, RNAT_CMD_VPN_DEL, rnat_fill_vpn_count,
			    deleted);
	}
	mutex_unlock(&rn->lock);
	/* A change made stands: a reply lost in delivery undoes nothing. */
	rnat_reply_finish(&reply, info, min(n, 0), rnat_fill_vpn_count,
			  deleted);
	return min(n, 0);
}

static int rnat_vpn_get(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_vpn *vpn;
	struct rnat_net *rn;
	int err;
	u32 id;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id"))
		return -EINVAL;
	id = nla_get_u32(info->attrs[RNAT_A_VPN_ID]);
	rn = rnat_lock(info);
	vpn = rnat_cfg_vpn(rnat_net_cfg(rn), id);
	if (vpn) {
		struct rnat_vpn_part part = {
			.vpn = vpn,
			.stats = nla_get_flag(info->attrs[RNAT_A_WANT_STATS]),
		};

		err = rnat_reply_size(info, RNAT_CMD_VPN_GET,
				      rnat_vpn_size(vpn), rnat_fill_vpn_whole,
				      &part);
	} else {
		NL_SET_ERR_MSG_FMT(info->extack, "no VPN %u", id);
		err = -ENOENT;
	}
	mutex_unlock(&rn->lock);
	return err;
}

/*
 * All VPNs in id order, or the one RNAT_A_VPN_ID names. Dump state:
 * args[0] is the next VPN id to send, args[1] its first block to send
 * (a VPN whose blocks fill more than a message continues in the next).
 */
static int rnat_vpn_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rnat_net *rn = rnat_net(sock_net(skb->sk));
	unsigned long id = cb->args[0], last = RNAT_VPN_ID_MAX;
	struct nlattr *tb[RNAT_A_MAX + 1];
	struct rnat_vpn_part part;
	struct rnat_vpn *vpn;
	unsigned int next;
	int err;

	err = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, RNAT_A_MAX,
			  rnat_vpn_get_policy, cb->extack);
	if (err)
		return err;
	part.stats = nla_get_flag(tb[RNAT_A_WANT_STATS]);
	if (tb[RNAT_A_VPN_ID]) {
		id = max_t(unsigned long, id, nla_get_u32(tb[RNAT_A_VPN_ID]));
		last = nla_get_u32(tb[RNAT_A_VPN_ID]);
	}
	part.next = &next;
	mutex_lock(&rn->lock);
	cb->seq = rn->gen;
	xa_for_each_range(&rnat_net_cfg(rn)->vpns, id, vpn, id, last) {
		/* Where the last message stopped, if that VPN is still there. */
		next = id == cb->args[0] ? cb->args[1] : 0;
		if (next && next >= rnat_vpn_nblocks(vpn))
			next = 0;
		do {
			part.vpn = vpn;
			part.first = next;
			err = rnat_dump_put(skb, cb, RNAT_CMD_VPN_GET,
					    rnat_fill_vpn_part, &part);
			if (err) {
				cb->args[0] = id;
				cb->args[1] = part.first;
				goto out;
			}
		} while (next < rnat_vpn_nblocks(vpn));
		cb->args[0] = id + 1;
		cb->args[1] = 0;
	}
out:
	mutex_unlock(&rn->lock);
	return rnat_dump_end(skb, err);
}

/* Mappings */

struct rnat_map_reply {
	const struct rnat_map *map;
	const struct rnat_pool *pool;
	bool stats;		/* with its counters */
};

static int rnat_fill_map_stats(struct sk_buff *skb, const struct rnat_map *m)
{
	struct rnat_map_totals t;

	rnat_map_totals(m, &t);
	return rnat_put_totals(skb, RNAT_A_MAP_STATS, &t);
}

static int rnat_fill_map(struct sk_buff *skb, const void *obj)
{
	const struct rnat_map_reply *r = obj;
	const struct rnat_map *m = r->map;

	if (nla_put_u32(skb, RNAT_A_VPN_ID, m->real.vpn_id) ||
	    nla_put_in_addr(skb, RNAT_A_MAP_REAL, m->real.addr) ||
	    nla_put_in_addr(skb, RNAT_A_MAP_NAT, m->nat) ||
	    nla_put_u8(skb, RNAT_A_MAP_PLEN, rnat_map_plen(m)) ||
	    nla_put_string(skb, RNAT_A_POOL, r->pool->name) ||
	    (r->stats && rnat_fill_map_stats(skb, m)))
		return -EMSGSIZE;
	return 0;
}

/* Sends a prepared reply describing @m, or @m's error. */
static int rnat_map_reply(struct rnat_reply *reply, struct genl_info *info,
			  struct rnat_cfg *cfg, const struct rnat_map *m)
{
	struct rnat_map_reply r = {};

	if (!IS_ERR(m)) {
		r.map = m;
		r.pool = rnat_cfg_vpn(cfg, m->real.vpn_id)->pool;
		r.stats = nla_get_flag(info->attrs[RNAT_A_WANT_STATS]);
	}
	return rnat_reply_finish(reply, info, PTR_ERR_OR_ZERO(m),
				 rnat_fill_map, &r);
}

static u8 rnat_map_plen_attr(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[RNAT_A_MAP_PLEN];

	return attr ? nla_get_u8(attr) : 32;
}

static void rnat_map_notify(struct rnat_net *rn, struct genl_info *info,
			    u8 cmd, u16 flags, struct rnat_cfg *cfg,
			    const struct rnat_map *m)
{
	struct rnat_map_reply r = { .map = m };

	/* Finding the pool costs more than knowing nobody listens. */
	if (!rnat_notify_wanted(rn, info))
		return;
	r.pool = rnat_cfg_pool_of(cfg, ntohl(m->nat));
	rnat_notify_send(rn, cmd, flags, rnat_fill_map, &r);
}

/* MAP_NEW with NLM_F_REPLACE: see RNAT_CMD_MAP_NEW in the uapi header. */
static int rnat_map_replace(struct rnat_net *rn, struct genl_info *info,
			    struct rnat_cfg *cfg, const __be32 *nat,
			    struct rnat_map **m)
{
	struct rnat_map *gone[2];
	int err, i;

	err = rnat_cfg_map_replace(cfg,
				   nla_get_u32(info->attrs[RNAT_A_VPN_ID]),
				   nla_get_in_addr(info->attrs[RNAT_A_MAP_REAL]),
				   rnat_map_plen_attr(info), nat, m, gone,
				   info->extack);
	if (err <= 0)
		return err;
	for (i = 0; i < ARRAY_SIZE(gone); i++) {
		if (!gone[i])
			continue;
		rnat_map_notify(rn, info, RNAT_CMD_MAP_DEL, 0, cfg, gone[i]);
		rnat_map_release(gone[i]);
	}
	rnat_map_notify(rn, info, RNAT_CMD_MAP_NEW,
			gone[0] || gone[1] ? NLM_F_REPLACE : 0, cfg, *m);
	return 0;
}

/*
 * RNAT_A_MAP_BLOCK into @block: 0, or 1 if the request has none, or an
 * error (it takes RNAT_A_MAP_NAT, and a map add, not a replace).
 */
static int rnat_map_block_attr(struct genl_info *info,
			       struct rnat_prefix *block)
{
	struct nlattr *attr = info->attrs[RNAT_A_MAP_BLOCK];

	if (!attr)
		return 1;
	if (!info->attrs[RNAT_A_MAP_NAT] ||
	    (info->nlhdr->nlmsg_flags & NLM_F_REPLACE)) {
		NL_SET_BAD_ATTR(info->extack, attr);
		NL_SET_ERR_MSG(info->extack,
			       "a block is given with a NAT address, to a map add only");
		return -EINVAL;
	}
	return rnat_parse_prefix(attr, "block", block, info->extack);
}

static int rnat_map_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nat_attr = info->attrs[RNAT_A_MAP_NAT];
	u16 flags = info->nlhdr->nlmsg_flags;
	bool echo = flags & NLM_F_ECHO;
	struct rnat_map *m = NULL;
	struct rnat_prefix block;
	struct rnat_reply reply;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	int err, noblock;
	__be32 nat;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id") ||
	    !rnat_require(info, RNAT_A_MAP_REAL, "real address"))
		return -EINVAL;
	noblock = rnat_map_block_attr(info, &block);
	if (noblock < 0)
		return noblock;
	if (nat_attr)
		nat = nla_get_in_addr(nat_attr);
	/* Echoed only on request, so a restore can stream its requests. */
	if (echo) {
		err = rnat_reply_prepare(&reply, info, RNAT_CMD_MAP_NEW,
					 NLMSG_GOODSIZE);
		if (err)
			return err;
	}

	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	if (flags & NLM_F_REPLACE) {
		err = rnat_map_replace(rn, info, cfg, nat_attr ? &nat : NULL,
				       &m);
	} else {
		err = rnat_cfg_map_add_in(cfg,
					  nla_get_u32(info->attrs[RNAT_A_VPN_ID]),
					  nla_get_in_addr(info->attrs[RNAT_A_MAP_REAL]),
					  rnat_map_plen_attr(info),
					  nat_attr ? &nat : NULL,
					  noblock ? NULL : &block, &m,
					  info->extack);
		if (!err)
			rnat_map_notify(rn, info, RNAT_CMD_MAP_NEW, 0, cfg, m);
	}
	/* A change made stands: a reply lost in delivery undoes nothing. */
	if (echo)
		rnat_map_reply(&reply, info, cfg, err ? ERR_PTR(err) : m);
	mutex_unlock(&rn->lock);
	return err;
}

/* Finds the mapping a MAP_DEL or MAP_GET request names. */
static struct rnat_map *rnat_map_named(struct rnat_cfg *cfg,
				       struct genl_info *info, bool exact)
{
	struct nlattr *vpn = info->attrs[RNAT_A_VPN_ID];
	struct nlattr *real = info->attrs[RNAT_A_MAP_REAL];
	struct nlattr *nat = info->attrs[RNAT_A_MAP_NAT];
	u8 plen = rnat_map_plen_attr(info);
	struct rnat_map *m = NULL;
	__be32 addr;

	if (!!nat == !!(vpn && real)) {
		NL_SET_ERR_MSG(info->extack,
			       "name a mapping by VPN id and real address, or by NAT address");
		return ERR_PTR(-EINVAL);
	}
	if (nat) {
		addr = nla_get_in_addr(nat);
		if (exact) {
			m = rnat_table_find_nat(&cfg->table, addr, plen);
		} else {
			rcu_read_lock();
			m = rnat_table_lookup_nat(&cfg->table, addr);
			rcu_read_unlock();
		}
		if (!m)
			NL_SET_ERR_MSG_FMT(info->extack, "no mapping for NAT %pI4",
					   &addr);
	} else {
		u32 id = nla_get_u32(vpn);

		addr = nla_get_in_addr(real);
		if (exact) {
			m = rnat_table_find_real(&cfg->table, id, addr, plen);
		} else {
			rcu_read_lock();
			m = rnat_table_lookup_real(&cfg->table, id, addr);
			rcu_read_unlock();
		}
		if (!m)
			NL_SET_ERR_MSG_FMT(info->extack, "no mapping for %pI4 in VPN %u",
					   &addr, id);
	}
	return m ?: ERR_PTR(-ENOENT);
}

static int rnat_map_del(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	struct rnat_map *m;

	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	m = rnat_map_named(cfg, info, true);
	if (!IS_ERR(m)) {
		rnat_map_notify(rn, info, RNAT_CMD_MAP_DEL, 0, cfg, m);
		rnat_cfg_map_del(cfg, m);
	}
	mutex_unlock(&rn->lock);
	return PTR_ERR_OR_ZERO(m);
}

static int rnat_map_get(struct sk_buff *skb, struct genl_info *info)
{
	static const int filters[] = {
		RNAT_A_POOL, RNAT_A_FILTER_NAT, RNAT_A_FILTER_REAL,
	};
	struct rnat_reply reply;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	struct rnat_map *m;
	int err, i;

	for (i = 0; i < ARRAY_SIZE(filters); i++) {
		if (info->attrs[filters[i]]) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[filters[i]],
					    "filters apply to dumps only");
			return -EINVAL;
		}
	}
	err = rnat_reply_prepare(&reply, info, RNAT_CMD_MAP_GET,
				 NLMSG_GOODSIZE);
	if (err)
		return err;
	rn = rnat_lock(info);
	cfg = rnat_net_cfg(rn);
	m = rnat_map_named(cfg, info, false);
	err = rnat_map_reply(&reply, info, cfg, m);
	mutex_unlock(&rn->lock);
	return err;
}

static int rnat_map_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_reply reply;
	struct rnat_vpn *vpn;
	struct rnat_cfg *cfg;
	struct rnat_net *rn;
	u32 flushed[2];
	int err;

	if (!rnat_require(info, RNAT_A_VPN_ID, "VPN id"))
		return -EINVAL;
	flushed[0] = nla_get_u32(info->attrs[RNAT_A_VPN_ID]);
	err = rnat_reply_prepare(&reply, info, RNAT_CMD_MAP_FLUSH,
				 NLMSG_GOODSIZE);
	if (err)
		return err;
	rn = rnat_lock(info);
	cfg = rnat_req_cfg(rn, info);
	vpn = rnat_cfg_vpn(cfg, flushed[0]);
	if (vpn) {
		flushed[1] = rnat_cfg_map_flush(cfg, vpn);
		rnat_notify(rn, info, RNAT_CMD_MAP_FLUSH, rnat_fill_vpn_count,
			    flushed);
	} else {
		NL_SET_ERR_MSG_FMT(info->extack, "no VPN %u", flushed[0]);
		err = -ENOENT;
	}
	mutex_unlock(&rn->lock);
	rnat_reply_finish(&reply, info, err, rnat_fill_vpn_count, flushed);
	return err;
}

/* What a MAP_GET dump asks for: the mappings matching every filter. */
struct rnat_map_filter {
	struct rnat_vpn *vpn;		/* NULL: any VPN */
	struct rnat_pool *pool;		/* NULL: any pool */
	struct rnat_prefix nat;		/* 0.0.0.0/0: anywhere */
	struct rnat_prefix real;
	bool stats;			/* not a filter: replies carry counters */
};

/*
 * Reads a dump request's filters and finds the VPN and pool they name:
 * -ENOENT if either does not exist (the dump is then empty).
 */
static int rnat_map_filter_parse(const struct nlmsghdr *nlh,
				 struct rnat_cfg *cfg,
				 struct rnat_map_filter *f,
				 struct netlink_ext_ack *extack)
{
	static const char *const what[] = {
		[RNAT_A_FILTER_NAT] = "NAT filter",
		[RNAT_A_FILTER_REAL] = "real filter",
	};
	struct nlattr *tb[RNAT_A_MAX + 1];
	struct rnat_prefix *p;
	int err, a;

	memset(f, 0, sizeof(*f));
	err = nlmsg_parse(nlh, GENL_HDRLEN, tb, RNAT_A_MAX,
			  rnat_map_get_policy, extack);
	if (err)
		return err;
	for (a = RNAT_A_FILTER_NAT; a <= RNAT_A_FILTER_REAL; a++) {
		p = a == RNAT_A_FILTER_NAT ? &f->nat : &f->real;
		if (!tb[a])
			continue;
		err = rnat_parse_prefix(tb[a], what[a], p, extack);
		if (err)
			return err;
		if (!rnat_prefix_valid(p)) {
			NL_SET_BAD_ATTR(extack, tb[a]);
			NL_SET_ERR_MSG_FMT(extack, "%s %pI4h/%u has host bits set",
					   what[a], &p->base, p->plen);
			return -EINVAL;
		}
	}
	f->stats = nla_get_flag(tb[RNAT_A_WANT_STATS]);
	if (tb[RNAT_A_VPN_ID]) {
		f->vpn = rnat_cfg_vpn(cfg, nla_get_u32(tb[RNAT_A_VPN_ID]));
		if (!f->vpn)
			return -ENOENT;
	}
	if (tb[RNAT_A_POOL]) {
		f->pool = rnat_cfg_pool(cfg, nla_data(tb[RNAT_A_POOL]));
		if (!f->pool)
			return -ENOENT;
	}
	return 0;
}

static bool rnat_map_filter_match(const struct rnat_map_filter *f,
				  const struct rnat_map *m)
{
	struct rnat_prefix nat = {
		.base = ntohl(m->nat), .plen = rnat_map_plen(m),
	};
	struct rnat_prefix real = {
		.base = ntohl(m->real.addr), .plen = rnat_map_plen(m),
	};

	return (!f->vpn || f->vpn->id == m->real.vpn_id) &&
	       rnat_prefix_contains(&f->nat, &nat) &&
	       rnat_prefix_contains(&f->real, &real);
}

/* The prefix of @only (or of any pool) holding the lowest NAT address >= @next. */
static struct rnat_pool_prefix *rnat_next_prefix(struct rnat_cfg *cfg,
						 struct rnat_pool *only,
						 u64 next,
						 struct rnat_pool **owner)
{
	struct rnat_pool_prefix *best = NULL;
	struct rnat_pool *pool;
	unsigned int i;

	list_for_each_entry(pool, &cfg->pools, list) {
		if (only && pool != only)
			continue;
		for (i = 0; i < pool->nprefixes; i++) {
			struct rnat_pool_prefix *pp = &pool->prefixes[i];

			if (rnat_prefix_last(&pp->pfx) < next)
				continue;
			if (!best || pp->pfx.base < best->pfx.base) {
				best = pp;
				*owner = pool;
			}
		}
	}
	return best;
}

/* Where a dump is: what it sends, and the next NAT address to look at. */
struct rnat_map_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct rnat_cfg *cfg;
	struct rnat_map_filter f;
	u64 next;
};

/*
 * Sends the mappings of @pool matching the filters whose NAT prefix starts
 * in pool prefix @pp between d->next and @last, and moves d->next past
 * @last. Returns -EMSGSIZE when the message is full: d->next is then the
 * first mapping not sent.
 */
static int rnat_dump_range(struct rnat_map_dump *d, struct rnat_pool *pool,
			   struct rnat_pool_prefix *pp, u32 last)
{
	struct rnat_map_reply r = { .pool = pool, .stats = d->f.stats };
	unsigned long end = last - pp->pfx.base + 1;
	unsigned long bit;

	d->next = max_t(u64, d->next, pp->pfx.base);
	bit = d->next - pp->pfx.base;
	while ((bit = find_next_bit(pp->bits[RNAT_POOL_USED], end, bit)) < end) {
		__be32 nat = htonl(pp->pfx.base + bit);

		rcu_read_lock();
		r.map = rnat_table_lookup_nat(&d->cfg->table, nat);
		rcu_read_unlock();
		if (WARN_ON_ONCE(!r.map))
			return -EIO;
		if (rnat_map_filter_match(&d->f, r.map) &&
		    rnat_dump_put(d->skb, d->cb, RNAT_CMD_MAP_GET,
				  rnat_fill_map, &r)) {
			d->next = pp->pfx.base + bit;
			return -EMSGSIZE;
		}
		bit = ntohl(r.map->nat) - pp->pfx.base +
		      (1UL << (32 - rnat_map_plen(r.map)));
	}
	d->next = (u64)last + 1;
	return 0;
}

/* One VPN's mappings lie in its blocks: only they are read. */
static int rnat_dump_vpn(struct rnat_map_dump *d, u32 last)
{
	struct rnat_vpn *vpn = d->f.vpn;
	struct rnat_pool_prefix *pp;
	struct rnat_block *b;
	int err;

	if (d->f.pool && d->f.pool != vpn->pool)
		return 0;
	list_for_each_entry(b, &vpn->blocks, node) {
		if (rnat_prefix_last(&b->pfx) < d->next)
			continue;
		if (b->pfx.base > last)
			break;
		pp = rnat_pool_find(vpn->pool, &b->pfx);
		if (WARN_ON_ONCE(!pp))
			return -EIO;
		d->next = max_t(u64, d->next, b->pfx.base);
		err = rnat_dump_range(d, vpn->pool, pp,
				      min(rnat_prefix_last(&b->pfx), last));
		if (err)
			return err;
	}
	return 0;
}

static int rnat_dump_pools(struct rnat_map_dump *d, u32 last)
{
	struct rnat_pool_prefix *pp;
	struct rnat_pool *pool;
	int err;

	while (d->next <= last &&
	       (pp = rnat_next_prefix(d->cfg, d->f.pool, d->next, &pool)) &&
	       pp->pfx.base <= last) {
		err = rnat_dump_range(d, pool, pp,
				      min(rnat_prefix_last(&pp->pfx), last));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Mappings are dumped in NAT address order by walking the pools' bitmaps
 * (or only the blocks of the VPN asked for). args[0] holds the next NAT
 * address to send, plus one (0: start), so a resumed dump continues
 * exactly where the last message ended; args[1] is set once everything
 * was sent. Bad filters end the dump with an error in NLMSG_DONE and its
 * extack (a dump's start callback has no extack on 6.1).
 */
static int rnat_map_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rnat_net *rn = rnat_net(sock_net(skb->sk));
	struct rnat_map_dump d = { .skb = skb, .cb = cb };
	int err;
	u32 last;

	if (cb->args[1])
		return 0;
	mutex_lock(&rn->lock);
	cb->seq = rn->gen;
	d.cfg = rnat_net_cfg(rn);
	err = rnat_map_filter_parse(cb->nlh, d.cfg, &d.f, cb->extack);
	if (err && err != -ENOENT) {
		mutex_unlock(&rn->lock);
		return err;
	}
	if (!err) {
		d.next = max_t(u64, cb->args[0] ? cb->args[0] - 1 : 0,
			       d.f.nat.base);
		last = rnat_prefix_last(&d.f.nat);
		err = d.f.vpn ? rnat_dump_vpn(&d, last) :
				rnat_dump_pools(&d, last);
	}
	mutex_unlock(&rn->lock);
	if (err == -EIO)
		return err;
	if (err == -EMSGSIZE) {
		cb->args[0] = d.next + 1;
		return rnat_dump_end(skb, err);
	}
	cb->args[1] = 1;
	return skb->len;
}

/* Restore: a whole new configuration, built aside and swapped in at once */

static int rnat_fill_nothing(struct sk_buff *skb, const void *obj)
{
	return 0;
}

static int rnat_restore_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_net *rn = rnat_lock(info);
	int err = 0;

	if (rn->staging) {
		NL_SET_ERR_MSG_FMT(info->extack,
				   "a restore is already being built (netlink port %u)",
				   rn->staging_portid);
		err = -EBUSY;
	} else {
		rn->staging = rnat_cfg_alloc();
		if (rn->staging)
			WRITE_ONCE(rn->staging_portid, info->snd_portid);
		else
			err = -ENOMEM;
	}
	mutex_unlock(&rn->lock);
	return err;
}

/* The restore this request's socket is building, or NULL with a message. */
static struct rnat_cfg *rnat_restore_own(struct rnat_net *rn,
					 struct genl_info *info)
{
	if (rn->staging && rn->staging_portid == info->snd_portid)
		return rn->staging;
	NL_SET_ERR_MSG(info->extack, "this socket is not building a restore");
	return NULL;
}

/*
 * The packet path reads rn->cfg once per packet, so it sees the old
 * configuration or the new one, never a mix. Counters live in rn and carry
 * on. Devices the old one guards and the new one does not stay fenced. The
 * old configuration is freed once no packet can be using it, without
 * waiting for that here.
 */
static int rnat_restore_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_net *rn = rnat_lock(info);
	struct rnat_cfg *new = rnat_restore_own(rn, info), *old;
	int err = -EINVAL;

	if (!new)
		goto out;
	old = rnat_net_cfg(rn);
	err = rnat_cfg_fence_carry(new, old);
	if (err) {
		NL_SET_ERR_MSG(info->extack, "no memory to keep the old VPN devices fenced");
		goto out;
	}
	/* Hooks first: the new VPNs must not pass untranslated. */
	err = new->nvpns || !xa_empty(&new->vpn_by_dev) ?
	      rnat_hooks_set(rn, true) : 0;
	if (err) {
		NL_SET_ERR_MSG(info->extack, "cannot register netfilter hooks");
		goto out;
	}
	rcu_assign_pointer(rn->cfg, new);
	rn->staging = NULL;
	WRITE_ONCE(rn->staging_portid, 0);
	rnat_hooks_sync(rn);
	rnat_cfg_free_later(old);
	rnat_notify(rn, NULL, RNAT_CMD_RESTORE_COMMIT, rnat_fill_nothing, NULL);
out:
	mutex_unlock(&rn->lock);
	return err;
}

static int rnat_restore_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_net *rn = rnat_lock(info);
	struct rnat_cfg *staged = rnat_restore_own(rn, info);

	if (staged) {
		rnat_cfg_free(staged);
		rn->staging = NULL;
		WRITE_ONCE(rn->staging_portid, 0);
	}
	mutex_unlock(&rn->lock);
	return staged ? 0 : -EINVAL;
}

/* Counters */

/* The namespace's counters, then its generation. */
struct rnat_stats_reply {
	u64 sum[RNAT_STAT_MAX];
	u32 gen;
};

static int rnat_fill_stats(struct sk_buff *skb, const void *obj)
{
	const struct rnat_stats_reply *r = obj;
	const u64 *sum = r->sum;
	struct nlattr *nest;
	int i;

	if (nla_put_u32(skb, RNAT_A_GENERATION, r->gen))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, RNAT_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < RNAT_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, RNAT_STATS_A_IN_TRANSLATED + i,
				      sum[i], RNAT_STATS_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int rnat_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct rnat_net *rn = rnat_net(genl_info_net(info));
	struct rnat_stats_reply r = { .gen = READ_ONCE(rn->gen) };
	u64 *sum = r.sum;
	int cpu, i;

	BUILD_BUG_ON(RNAT_STATS_A_IN_TRANSLATED + RNAT_STAT_MAX - 1 !=
		     RNAT_STATS_A_MAX);
	for_each_possible_cpu(cpu) {
		const struct rnat_stats *s = per_cpu_ptr(rn->stats, cpu);

		for (i = 0; i < RNAT_STAT_MAX; i++)
			sum[i] += READ_ONCE(s->count[i]);
	}
	return rnat_reply(info, RNAT_CMD_STATS_GET, rnat_fill_stats, &r);
}

static const struct genl_ops rnat_genl_ops[] = {
	{
		.cmd = RNAT_CMD_POOL_NEW,
		.doit = rnat_pool_new,
		.policy = rnat_pool_new_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_POOL_DEL,
		.doit = rnat_pool_del,
		.policy = rnat_pool_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_POOL_GET,
		.doit = rnat_pool_get,
		.dumpit = rnat_pool_dump,
		.policy = rnat_pool_policy,
		.maxattr = RNAT_A_MAX,
	}, {
		.cmd = RNAT_CMD_VPN_NEW,
		.doit = rnat_vpn_new,
		.policy = rnat_vpn_new_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_VPN_DEL,
		.doit = rnat_vpn_del,
		.policy = rnat_vpn_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_VPN_GET,
		.doit = rnat_vpn_get,
		.dumpit = rnat_vpn_dump,
		.policy = rnat_vpn_get_policy,
		.maxattr = RNAT_A_MAX,
	}, {
		.cmd = RNAT_CMD_MAP_NEW,
		.doit = rnat_map_new,
		.policy = rnat_map_new_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_MAP_DEL,
		.doit = rnat_map_del,
		.policy = rnat_map_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_MAP_GET,
		.doit = rnat_map_get,
		.dumpit = rnat_map_dump,
		.policy = rnat_map_get_policy,
		.maxattr = RNAT_A_MAX,
	}, {
		.cmd = RNAT_CMD_STATS_GET,
		.doit = rnat_stats_get,
		.policy = rnat_empty_policy,
		.maxattr = RNAT_A_MAX,
	}, {
		.cmd = RNAT_CMD_VPN_SET,
		.doit = rnat_vpn_set,
		.policy = rnat_vpn_set_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_RESTORE_BEGIN,
		.doit = rnat_restore_begin,
		.policy = rnat_empty_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_RESTORE_COMMIT,
		.doit = rnat_restore_commit,
		.policy = rnat_empty_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_RESTORE_ABORT,
		.doit = rnat_restore_abort,
		.policy = rnat_empty_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = RNAT_CMD_MAP_FLUSH,
		.doit = rnat_map_flush,
		.policy = rnat_vpn_policy,
		.maxattr = RNAT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family rnat_genl_family __ro_after_init = {
	.name = RNAT_GENL_NAME,
	.version = RNAT_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = rnat_genl_ops,
	.n_ops = ARRAY_SIZE(rnat_genl_ops),
	.mcgrps = rnat_mcgrps,
	.n_mcgrps = ARRAY_SIZE(rnat_mcgrps),
	.resv_start_op = RNAT_CMD_MAX + 1,
};

void rnat_netlink_vpn_changed(struct rnat_net *rn, const struct rnat_vpn *vpn)
{
	rnat_notify_vpn(rn, NULL, RNAT_CMD_VPN_SET, vpn);
}

int __init rnat_genl_init(void)
{
	return genl_register_family(&rnat_genl_family);
}

void rnat_genl_exit(void)
{
	genl_unregister_family(&rnat_genl_family);
}
