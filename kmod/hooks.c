// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path. The gateway lives in NAT space: real customer addresses
 * exist only between a VPN's device and these two hooks.
 *
 * Ingress, PREROUTING before everything else (defrag, raw, conntrack): a
 * packet arriving on a VPN's device (and carrying its ingress mark, if it
 * has one) has its source rewritten from the real address to its NAT IP;
 * an unmapped source is dropped (anti-spoofing).
 *
 * Egress, POSTROUTING after everything else but the conntrack confirmation:
 * a packet routed out of a VPN's device has its destination rewritten from
 * the NAT IP to the real address, and the VPN's egress mark set (for the
 * xfrm policy lookup of an xfrm interface, which comes after); a destination
 * that is not one of this VPN's NAT IPs is dropped, so one VPN never
 * receives another's traffic, and answered with ICMP host unreachable
 * (icmp_send() rate-limits it by peer and globally, per the net.ipv4.icmp_*
 * sysctls, and never answers an ICMP error or a later fragment).
 *
 * A device VPNs share (told apart by ingress marks) may carry other traffic
 * too: on ingress only packets with a VPN's mark are that VPN's, on egress
 * only those routed to a NAT IP of a VPN of the device; the rest passes,
 * but for a packet marked (under the VPN mask) with a mark no VPN of the
 * device has, or routed to another VPN's NAT IP: dropped.
 *
 * Fail closed: a device that carries or carried a VPN never passes what
 * rnat cannot translate. Its VPN deleted, moved or replaced by a restore,
 * the device stays fenced (every packet dropped, both ways) until it is
 * unregistered or a VPN takes it again; IPv6 on a VPN's device is dropped
 * (hooks of their own); and while a namespace has anything to guard, the
 * module cannot be unloaded (the hooks hold a reference to it).
 *
 * ICMP errors have their embedded header translated with the same mapping
 * rules, the other way round, and are counted by kind on the mapping of the
 * customer endpoint they are about (the embedded one).
 *
 * Every translated packet is counted on its mapping (packets and bytes in
 * atomics of the mapping, a last-used time written at most once a jiffy).
 */

#include <linux/module.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/icmp.h>

#include "hooks.h"
#include "netns.h"
#include "translate.h"

#define RNAT_PRI_INGRESS (NF_IP_PRI_RAW_BEFORE_DEFRAG - 1)
#define RNAT_PRI_EGRESS (NF_IP_PRI_CONNTRACK_CONFIRM - 1)

static unsigned int rnat_drop(struct rnat_net *rn, enum rnat_stat why)
{
	rnat_count(rn, why);
	return NF_DROP;
}

static unsigned int rnat_parse_error(struct rnat_net *rn, int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return rnat_drop(rn, RNAT_STAT_DROP_REDIRECT);
	case -ENOMEM:
		return rnat_drop(rn, RNAT_STAT_DROP_NOMEM);
	default:
		return rnat_drop(rn, RNAT_STAT_DROP_MALFORMED);
	}
}

/* An ICMP error about @inner's endpoint, by kind. */
static void rnat_count_icmp(struct rnat_net *rn, struct rnat_map *inner,
			    enum rnat_dir dir, const struct rnat_pkt *pkt)
{
	if (!rnat_map_count_icmp(inner, dir,
				 rnat_icmp_classify(pkt->icmp_type,
						    pkt->icmp_code)))
		rnat_count(rn, RNAT_STAT_ICMP_UNCOUNTED);
}

/*
 * @vpn, found before its mapping, was deleted meanwhile: the mapping may be
 * a new VPN's with the same id, on another device. The deletion marks the
 * VPN dead before the id can be reused, so reading the mark after the
 * mapping tells.
 */
static bool rnat_vpn_gone(const struct rnat_vpn *vpn)
{
	smp_rmb();	/* the mapping's lookup, then the mark */
	return READ_ONCE(vpn->dead);
}

/*
 * Each hook is split in three: the part every packet runs (is the device a
 * VPN's?); the usual packet of a VPN, a mapped TCP or UDP one, translated
 * without a struct rnat_pkt; and the full path for everything else, which
 * also decides every drop. The first two stay small, without the frame and
 * stack the full path needs. The fast part returns false having changed
 * nothing, and the full path then looks at the packet afresh.
 */
static noinline unsigned int rnat_ingress_full(struct rnat_net *rn,
					       struct rnat_cfg *cfg,
					       struct rnat_vpn *vpn,
					       struct sk_buff *skb)
{
	struct rnat_map *m, *inner = NULL;
	__be32 to, inner_to = 0;
	struct rnat_pkt pkt;
	int err;

	if (unlikely(vpn == RNAT_VPN_FENCED))
		return rnat_drop(rn, RNAT_STAT_DROP_FENCED);
	err = rnat_pkt_parse(skb, &pkt);
	if (unlikely(err))
		return rnat_parse_error(rn, err);

	m = rnat_table_lookup_real(&cfg->table, vpn->id, pkt.saddr);
	if (unlikely(pkt.icmp_error)) {
		/* The embedded packet went into this VPN: its destination. */
		inner = rnat_table_lookup_real(&cfg->table, vpn->id,
					       pkt.inner_daddr);
		if (!inner)
			return rnat_drop(rn, RNAT_STAT_DROP_IN_UNMAPPED);
		inner_to = rnat_map_to_nat(inner, pkt.inner_daddr);
	}
	if (likely(m))
		to = rnat_map_to_nat(m, pkt.saddr);
	else if (inner)
		/* An unmapped router reporting on a mapped host speaks for it. */
		to = inner_to;
	else
		return rnat_drop(rn, RNAT_STAT_DROP_IN_UNMAPPED);
	if (unlikely(rnat_vpn_gone(vpn)))
		return rnat_drop(rn, RNAT_STAT_DROP_FENCED);

	if (unlikely(rnat_rewrite(skb, &pkt, RNAT_SADDR, to, inner_to)))
		return rnat_drop(rn, RNAT_STAT_DROP_NOMEM);
	rnat_count(rn, RNAT_STAT_IN_TRANSLATED);
	rnat_map_count(m ?: inner, RNAT_DIR_IN, skb);
	if (unlikely(inner))
		rnat_count_icmp(rn, inner, RNAT_DIR_IN, &pkt);
	return NF_ACCEPT;
}

static noinline unsigned int rnat_ingress_vpn(struct rnat_net *rn,
					      struct rnat_cfg *cfg,
					      struct sk_buff *skb, int ifindex)
{
	struct iphdr *iph = ip_hdr(skb);
	unsigned int check_off;
	struct rnat_vpn *vpn;
	struct rnat_map *m;
	__be32 to;

	vpn = rnat_cfg_vpn_in(cfg, ifindex, skb->mark);
	if (!vpn)
		return NF_ACCEPT;
	if (unlikely(vpn == RNAT_VPN_FENCED))
		goto full;
	check_off = rnat_fast_check(skb, iph);
	if (unlikely(!check_off))
		goto full;
	m = rnat_table_lookup_real(&cfg->table, vpn->id, iph->saddr);
	if (unlikely(!m || rnat_vpn_gone(vpn)))
		goto full;
	iph = rnat_fast_writable(skb, check_off);
	if (unlikely(!iph))
		goto full;
	to = rnat_map_to_nat(m, iph->saddr);
	rnat_rewrite_fast(skb, iph, &iph->saddr, check_off, to);
	rnat_count(rn, RNAT_STAT_IN_TRANSLATED);
	rnat_map_count(m, RNAT_DIR_IN, skb);
	return NF_ACCEPT;
full:
	return rnat_ingress_full(rn, cfg, vpn, skb);
}

static unsigned int rnat_ingress(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct rnat_net *rn = priv;
	struct rnat_cfg *cfg = rcu_dereference(rn->cfg);
	void *dev;

	/* Most packets: a device no VPN ever had, told without a call. */
	if (likely(rnat_cfg_dev_peek(cfg, state->in->ifindex, &dev) && !dev))
		return NF_ACCEPT;
	return rnat_ingress_vpn(rn, cfg, skb, state->in->ifindex);
}

static noinline unsigned int rnat_egress_full(struct rnat_net *rn,
					      struct rnat_cfg *cfg,
					      struct rnat_vpn *vpn,
					      struct sk_buff *skb, int ifindex)
{
	struct rnat_map *m = NULL, *inner = NULL;
	struct rnat_pkt pkt;
	__be32 inner_to = 0;
	int err;

	if (unlikely(xa_is_value(vpn))) {
		if (vpn == RNAT_VPN_FENCED)
			return rnat_drop(rn, RNAT_STAT_DROP_FENCED);
		/* Only what is routed to a NAT IP of a VPN of the device. */
		m = rnat_table_lookup_nat(&cfg->table, ip_hdr(skb)->daddr);
		if (!m)
			return NF_ACCEPT;
		/* Another VPN's NAT IP never leaves untranslated. */
		vpn = rnat_cfg_vpn(cfg, m->real.vpn_id);
		if (!vpn || READ_ONCE(vpn->link.ifindex) != ifindex)
			return rnat_drop(rn, RNAT_STAT_DROP_OUT_UNMAPPED);
	}
	err = rnat_pkt_parse(skb, &pkt);
	if (unlikely(err))
		return rnat_parse_error(rn, err);

	if (likely(!m))
		m = rnat_table_lookup_nat(&cfg->table, pkt.daddr);
	if (unlikely(!m || m->real.vpn_id != vpn->id)) {
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
		return rnat_drop(rn, RNAT_STAT_DROP_OUT_UNMAPPED);
	}
	if (unlikely(rnat_vpn_gone(vpn)))
		return rnat_drop(rn, RNAT_STAT_DROP_FENCED);
	if (unlikely(pkt.icmp_error)) {
		/* The embedded packet came from this VPN: its source. */
		inner = rnat_table_lookup_nat(&cfg->table, pkt.inner_saddr);
		if (!inner || inner->real.vpn_id != vpn->id)
			return rnat_drop(rn, RNAT_STAT_DROP_OUT_UNMAPPED);
		inner_to = rnat_map_to_real(inner, pkt.inner_saddr);
	}

	if (unlikely(rnat_rewrite(skb, &pkt, RNAT_DADDR,
				  rnat_map_to_real(m, pkt.daddr), inner_to)))
		return rnat_drop(rn, RNAT_STAT_DROP_NOMEM);
	rnat_mark_apply(&vpn->link.out_mark, skb);
	rnat_count(rn, RNAT_STAT_OUT_TRANSLATED);
	rnat_map_count(m, RNAT_DIR_OUT, skb);
	if (unlikely(inner))
		rnat_count_icmp(rn, inner, RNAT_DIR_OUT, &pkt);
	return NF_ACCEPT;
}

static noinline unsigned int rnat_egress_vpn(struct rnat_net *rn,
					     struct rnat_cfg *cfg,
					     struct sk_buff *skb, int ifindex)
{
	struct iphdr *iph = ip_hdr(skb);
	unsigned int check_off;
	struct rnat_vpn *vpn;
	struct rnat_map *m;
	__be32 to;

	vpn = rnat_cfg_dev_rcu(cfg, ifindex);
	if (!vpn)
		return NF_ACCEPT;

	/* Fenced, or shared: what a shared device carries is sorted out. */
	if (unlikely(xa_is_value(vpn)))
		goto full;
	check_off = rnat_fast_check(skb, iph);
	if (unlikely(!check_off))
		goto full;
	m = rnat_table_lookup_nat(&cfg->table, iph->daddr);
	if (unlikely(!m || m->real.vpn_id != vpn->id || rnat_vpn_gone(vpn)))
		goto full;
	iph = rnat_fast_writable(skb, check_off);
	if (unlikely(!iph))
		goto full;
	to = rnat_map_to_real(m, iph->daddr);
	rnat_rewrite_fast(skb, iph, &iph->daddr, check_off, to);
	rnat_mark_apply(&vpn->link.out_mark, skb);
	rnat_count(rn, RNAT_STAT_OUT_TRANSLATED);
	rnat_map_count(m, RNAT_DIR_OUT, skb);
	return NF_ACCEPT;
full:
	return rnat_egress_full(rn, cfg, vpn, skb, ifindex);
}

static unsigned int rnat_egress(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct rnat_net *rn = priv;
	struct rnat_cfg *cfg = rcu_dereference(rn->cfg);
	void *dev;

	if (likely(rnat_cfg_dev_peek(cfg, state->out->ifindex, &dev) && !dev))
		return NF_ACCEPT;
	return rnat_egress_vpn(rn, cfg, skb, state->out->ifindex);
}

#if IS_ENABLED(CONFIG_IPV6)
/*
 * rnat translates IPv4 only: IPv6 on a VPN's device (or marked as a VPN's
 * on a shared one) is dropped both ways, never forwarded untranslated.
 */
static unsigned int rnat_ingress6(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	struct rnat_net *rn = priv;
	struct rnat_cfg *cfg = rcu_dereference(rn->cfg);
	int ifindex = state->in->ifindex;

	if (!rnat_cfg_vpn_in(cfg, ifindex, skb->mark))
		return NF_ACCEPT;
	return rnat_drop(rn, RNAT_STAT_DROP_FENCED);
}

static unsigned int rnat_egress6(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct rnat_net *rn = priv;
	struct rnat_cfg *cfg = rcu_dereference(rn->cfg);
	int ifindex = state->out->ifindex;
	void *dev;

	dev = rnat_cfg_dev_rcu(cfg, ifindex);
	/* A shared device carries other traffic: IPv6 is never a VPN's. */
	if (!dev || rnat_dev_shared(dev))
		return NF_ACCEPT;
	return rnat_drop(rn, RNAT_STAT_DROP_FENCED);
}
#endif

void rnat_hooks_init(struct rnat_net *rn)
{
	rn->hook_ops[0] = (struct nf_hook_ops) {
		.hook = rnat_ingress,
		.priv = rn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = RNAT_PRI_INGRESS,
	};
	rn->hook_ops[1] = (struct nf_hook_ops) {
		.hook = rnat_egress,
		.priv = rn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = RNAT_PRI_EGRESS,
	};
#if IS_ENABLED(CONFIG_IPV6)
	rn->hook_ops[2] = (struct nf_hook_ops) {
		.hook = rnat_ingress6,
		.priv = rn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP6_PRI_RAW_BEFORE_DEFRAG - 1,
	};
	rn->hook_ops[3] = (struct nf_hook_ops) {
		.hook = rnat_egress6,
		.priv = rn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_LAST - 1,
	};
#endif
}

/*
 * Whether the namespace has a VPN or a fenced device. A departed device's
 * name alone needs no hook: fencing a device registered under it makes
 * an entry, and rnat_hooks_sync() then registers them. So once the VPNs and
 * their devices are gone, the module may be unloaded (README: fail closed).
 */
static bool rnat_hooks_wanted(struct rnat_net *rn)
{
	struct rnat_cfg *cfg = rnat_net_cfg(rn);

	return cfg->nvpns || !xa_empty(&cfg->vpn_by_dev);
}

int rnat_hooks_sync(struct rnat_net *rn)
{
	return rnat_hooks_set(rn, rnat_hooks_wanted(rn));
}

int rnat_hooks_set(struct rnat_net *rn, bool want)
{
	int err;

	if (want == rn->hooked)
		return 0;
	if (want) {
		/* Unloading now would leave what the hooks guard open. */
		if (!try_module_get(THIS_MODULE))
			return -ENODEV;
		err = nf_register_net_hooks(rn->net, rn->hook_ops,
					    ARRAY_SIZE(rn->hook_ops));
		if (err) {
			module_put(THIS_MODULE);
			return err;
		}
	} else {
		nf_unregister_net_hooks(rn->net, rn->hook_ops,
					ARRAY_SIZE(rn->hook_ops));
		module_put(THIS_MODULE);
	}
	rn->hooked = want;
	return 0;
}
