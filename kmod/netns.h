/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per network namespace state: the configuration the packet path reads, the
 * mutex its writers share, the netfilter hooks (registered only while the
 * namespace has a VPN or a device to fence), the names of departed VPN
 * devices and the packet counters.
 */

#ifndef _RNAT_NETNS_H
#define _RNAT_NETNS_H

#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "cfg.h"

/* In the order of enum rnat_stats_attr, from RNAT_STATS_A_IN_TRANSLATED. */
enum rnat_stat {
	RNAT_STAT_IN_TRANSLATED,	/* from a VPN, source made a NAT IP */
	RNAT_STAT_OUT_TRANSLATED,	/* into a VPN, NAT IP made real */
	RNAT_STAT_DROP_IN_UNMAPPED,	/* from a VPN, source not mapped in it */
	RNAT_STAT_DROP_OUT_UNMAPPED,	/* into a VPN, not one of its NAT IPs */
	RNAT_STAT_DROP_MALFORMED,	/* too short or odd to translate */
	RNAT_STAT_DROP_REDIRECT,	/* ICMP redirects never cross the edge */
	RNAT_STAT_DROP_NOMEM,		/* could not make the headers writable */
	RNAT_STAT_DROP_FENCED,		/* a VPN's device, not translatable */
	RNAT_STAT_ICMP_UNCOUNTED,	/* no memory for a mapping's counters */
	RNAT_STAT_MAX
};

struct rnat_stats {
	u64 count[RNAT_STAT_MAX];
};

/*
 * A VPN's device was unregistered: a device registered under its name (the
 * tunnel re-created) is fenced from the start, before it can come up.
 */
struct rnat_fence_name {
	struct list_head node;
	bool shared;			/* by marked VPNs: fence marks only */
	char name[IFNAMSIZ];
};

struct rnat_net {
	struct net *net;
	struct mutex lock;		/* serialises every writer */
	struct rnat_cfg __rcu *cfg;
	struct rnat_cfg *staging;	/* a restore being built, or NULL */
	u32 staging_portid;		/* the socket building it, 0: none */
	/*
	 * Changes to the live configuration so far (RNAT_A_GENERATION):
	 * dumps carry NLM_F_DUMP_INTR when it moved between their messages.
	 */
	u32 gen;
	struct nf_hook_ops hook_ops[2 + 2 * IS_ENABLED(CONFIG_IPV6)];
	bool hooked;
	struct list_head fence_names;	/* of struct rnat_fence_name */
	struct rnat_stats __percpu *stats;
};

extern unsigned int rnat_net_id;

static inline struct rnat_net *rnat_net(const struct net *net)
{
	return net_generic(net, rnat_net_id);
}

/* The configuration, for a writer holding rn->lock. */
static inline struct rnat_cfg *rnat_net_cfg(struct rnat_net *rn)
{
	return rcu_dereference_protected(rn->cfg, lockdep_is_held(&rn->lock));
}

/* A change of the live configuration, under rn->lock. */
static inline void rnat_net_changed(struct rnat_net *rn)
{
	lockdep_assert_held(&rn->lock);
	/* Never 0 once changed: a dump's sequence 0 means "none". */
	WRITE_ONCE(rn->gen, rn->gen + 1 ?: 1);
}

static inline void rnat_count(struct rnat_net *rn, enum rnat_stat stat)
{
	this_cpu_inc(rn->stats->count[stat]);
}

int rnat_netns_init(void);
void rnat_netns_exit(void);

#endif /* _RNAT_NETNS_H */
