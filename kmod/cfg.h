/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A namespace's configuration: its pools, VPNs and mappings, and the rules
 * that keep them consistent. Writers hold the namespace's mutex; the packet
 * path reads VPNs and mappings under RCU.
 */

#ifndef _RNAT_CFG_H
#define _RNAT_CFG_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "block.h"
#include "pool.h"
#include "table.h"

struct netlink_ext_ack;

/* A fwmark test or rewrite: the bits @mask of a mark, to be @value. */
struct rnat_mark {
	u32 value;	/* no bits outside mask */
	u32 mask;	/* 0: none */
} __aligned(8);		/* read at once by the packet path */

/* How a VPN's traffic is told apart on ingress and steered on egress. */
struct rnat_vpn_link {
	int ifindex;		/* its device, 0: none (no traffic) */
	/*
	 * Ingress: only packets on the device that carry this mark are the
	 * VPN's; the device may then carry other VPNs (with marks of their
	 * own) and other traffic. Without a mark, the device is the VPN's.
	 */
	struct rnat_mark mark;
	struct rnat_mark out_mark;	/* egress: set after translation */
};

struct rnat_vpn {
	u32 id;
	struct rnat_vpn_link link;	/* the packet path reads it */
	struct rnat_pool *pool;
	unsigned int nmaps;
	struct list_head blocks;	/* its NAT blocks, by address */
	u32 held;			/* addresses in its blocks */
	/*
	 * Set before the VPN is unlinked: a packet that found it earlier and
	 * then finds a mapping of a new VPN with the same id must not use it.
	 */
	bool dead;
	/*
	 * The counters of its mappings that are gone (deleted, flushed,
	 * replaced), so that its totals never go back. Under rnat_net.lock.
	 */
	struct rnat_map_totals departed;
	struct hlist_node name_node;	/* in rnat_cfg.vpn_names */
	char name[RNAT_NAME_MAX];
	struct rcu_head rcu;
};

/*
 * Ifindexes of a namespace are allocated densely: an array finds a device's
 * entry in a load, where the xarray walks its levels. Above this, the walk.
 */
#define RNAT_DEV_TAB_MAX	65536

struct rnat_dev_tab {
	unsigned int len;		/* a power of two */
	struct rcu_head rcu;
	void *entry[];			/* as in vpn_by_dev, NULL: none */
};

struct rnat_cfg {
	struct rnat_table table;
	struct list_head pools;
	struct xarray vpns;		/* by id */
	DECLARE_HASHTABLE(vpn_names, 10);	/* by name */
	/*
	 * By ifindex: the VPN whose device it is, or xa_mk_value(n): n VPNs
	 * with ingress marks share it (0: they are gone, but packets with a
	 * mark under the mask are still dropped), or RNAT_DEV_FENCED: its VPN
	 * is gone and it forwards nothing. A device that carried a VPN keeps
	 * an entry until it is unregistered: it never passes untranslated.
	 */
	struct xarray vpn_by_dev;
	/*
	 * vpn_by_dev as the packet path reads it: an array by ifindex, as
	 * long as the largest ifindex below RNAT_DEV_TAB_MAX that ever had an
	 * entry; never shrinks. NULL until the first entry.
	 */
	struct rnat_dev_tab __rcu *dev_tab;
	struct xarray vpn_by_mark;	/* by ingress mark value */
	u32 mark_mask;			/* the one mask of all ingress marks */
	unsigned int nmarked;		/* VPNs with an ingress mark */
	struct maple_tree blocks;	/* VPN NAT blocks, by address range */
	unsigned int nvpns;
	struct rcu_work free_work;	/* rnat_cfg_free_later() */
};

/* The device entry of a VPN-less device that carried an unmarked VPN. */
#define RNAT_DEV_FENCE_VALUE	(LONG_MAX >> 1)
#define RNAT_DEV_FENCED		xa_mk_value(RNAT_DEV_FENCE_VALUE)
/* What rnat_cfg_vpn_in() returns for a packet that must be dropped. */
#define RNAT_VPN_FENCED		((struct rnat_vpn *)RNAT_DEV_FENCED)

struct rnat_cfg *rnat_cfg_alloc(void);
/* Frees everything at once: no reader may still see @cfg. */
void rnat_cfg_free(struct rnat_cfg *cfg);
/*
 * Frees @cfg, unpublished, once readers are done, without waiting for them:
 * a writer holding genl_mutex must not wait a grace period.
 */
void rnat_cfg_free_later(struct rnat_cfg *cfg);
int rnat_cfg_module_init(void);
/* Waits for every rnat_cfg_free_later(). */
void rnat_cfg_module_exit(void);
/*
 * Before @new replaces @old: every device @old fences or gives a VPN, and
 * @new does not, is fenced in @new. All or nothing (-ENOMEM).
 */
int rnat_cfg_fence_carry(struct rnat_cfg *new, struct rnat_cfg *old);

struct rnat_pool *rnat_cfg_pool(struct rnat_cfg *cfg, const char *name);
/* The pool whose prefixes hold @addr (host byte order), or NULL. */
struct rnat_pool *rnat_cfg_pool_of(struct rnat_cfg *cfg, u32 addr);
int rnat_cfg_pool_add(struct rnat_cfg *cfg, const char *name,
		      const struct rnat_prefix *prefixes, unsigned int n,
		      struct netlink_ext_ack *extack);
int rnat_cfg_pool_del(struct rnat_cfg *cfg, const char *name,
		      struct netlink_ext_ack *extack);

static inline struct rnat_vpn *rnat_cfg_vpn(struct rnat_cfg *cfg, u32 id)
{
	return xa_load(&cfg->vpns, id);
}

/*
 * The packet path's first question about a device: NULL if no VPN uses it
 * or ever did, else its VPN, or (rnat_dev_shared()) a mark of VPNs sharing
 * it, or RNAT_DEV_FENCED.
 */
static inline void *rnat_cfg_dev(struct rnat_cfg *cfg, int ifindex)
{
	return xa_load(&cfg->vpn_by_dev, ifindex);
}

/* vpn_by_dev's entry for @ifindex, in an RCU read-side section already. */
void *rnat_cfg_dev_walk(struct rnat_cfg *cfg, int ifindex);

/*
 * rnat_cfg_dev() for the packet path, in an RCU read-side section already:
 * one load for a device in the array, whose entries are published after
 * what they point to. rnat_cfg_dev_peek() is that load alone, without a
 * call, for the hooks' first look: false if the array cannot tell (an
 * ifindex of 65,536 or more), and rnat_cfg_dev_rcu() must walk.
 */
static __always_inline bool rnat_cfg_dev_peek(struct rnat_cfg *cfg,
					      int ifindex, void **dev)
{
	struct rnat_dev_tab *tab = rcu_dereference(cfg->dev_tab);

	if (likely(tab && (unsigned int)ifindex < tab->len)) {
		*dev = READ_ONCE(tab->entry[ifindex]);
		return true;
	}
	*dev = NULL;	/* never had an entry: the array would hold it */
	return ifindex < RNAT_DEV_TAB_MAX;
}

static inline void *rnat_cfg_dev_rcu(struct rnat_cfg *cfg, int ifindex)
{
	void *dev;

	if (likely(rnat_cfg_dev_peek(cfg, ifindex, &dev)))
		return dev;
	return rnat_cfg_dev_walk(cfg, ifindex);
}

/*
 * vpn_by_dev's writers, which keep dev_tab with it. Storing at an ifindex
 * that had an entry before allocates nothing and cannot fail, nor can a
 * store after rnat_cfg_dev_reserve() covered the ifindex.
 */
int rnat_cfg_dev_reserve(struct rnat_cfg *cfg, int ifindex);
int rnat_cfg_dev_store(struct rnat_cfg *cfg, int ifindex, void *entry);
void rnat_cfg_dev_erase(struct rnat_cfg *cfg, int ifindex);

static inline bool rnat_dev_shared(const void *dev)
{
	return xa_is_value(dev) && dev != RNAT_DEV_FENCED;
}

/*
 * rnat_cfg_vpn_in() on a shared device. Out of line: every packet's hook
 * then needs no frame of its own.
 */
struct rnat_vpn *rnat_cfg_vpn_by_mark(struct rnat_cfg *cfg, int ifindex,
				      u32 mark);

/*
 * The VPN a packet arriving on @ifindex with fwmark @mark comes from, NULL
 * if it is none's, or RNAT_VPN_FENCED if it must be dropped: its device's
 * VPN is gone, or on a shared device it has a mark (under the mask, which
 * belongs to rnat) that no VPN of the device has. Under RCU.
 */
static inline struct rnat_vpn *rnat_cfg_vpn_in(struct rnat_cfg *cfg,
					       int ifindex, u32 mark)
{
	struct rnat_vpn *vpn = rnat_cfg_dev_rcu(cfg, ifindex);

	if (likely(!xa_is_value(vpn)) || vpn == RNAT_VPN_FENCED)
		return vpn;
	return rnat_cfg_vpn_by_mark(cfg, ifindex, mark);
}

/* Sets the bits of @mark in @skb's fwmark. */
static inline void rnat_mark_apply(const struct rnat_mark *mark,
				   struct sk_buff *skb)
{
	struct rnat_mark m = READ_ONCE(*mark);

	skb->mark = (skb->mark & ~m.mask) | m.value;
}

int rnat_cfg_vpn_add(struct rnat_cfg *cfg, u32 id, const char *name,
		     const char *pool, const struct rnat_vpn_link *link,
		     struct netlink_ext_ack *extack);
/*
 * Gives @vpn a new device (0: none; its traffic then stops, its mappings
 * stay) and marks, all or nothing. Fails if another VPN has the device,
 * shares it without the marks that tell VPNs apart, or has the ingress mark.
 */
int rnat_cfg_vpn_set_link(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			  const struct rnat_vpn_link *link,
			  struct netlink_ext_ack *extack);
/*
 * Every VPN using device @ifindex loses it (the device is going away), and
 * its entry goes. Returns the entry it had (NULL: it never carried a VPN).
 */
void *rnat_cfg_dev_gone(struct rnat_cfg *cfg, int ifindex,
			void (*changed)(void *arg, struct rnat_vpn *vpn),
			void *arg);
int rnat_cfg_vpn_rename(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			const char *name, struct netlink_ext_ack *extack);
/*
 * Reserves block @p of its pool for @vpn (save/restore keeps blocks as
 * they were): it must be free. Stays until the VPN's mappings in it go.
 */
int rnat_cfg_vpn_block_add(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			   const struct rnat_prefix *p,
			   struct netlink_ext_ack *extack);
/* Deletes the VPN and its mappings; returns how many mappings went. */
int rnat_cfg_vpn_del(struct rnat_cfg *cfg, u32 id,
		     struct netlink_ext_ack *extack);

/*
 * Maps @real/@plen in VPN @vpn_id to @nat/@plen, or, when @nat is NULL, to
 * the lowest free range of the VPN's blocks, growing them when they are full.
 * A @nat that is nobody's becomes a block of its own, or takes @block (not
 * NULL: a free prefix of the pool that holds it) as the VPN's new block.
 */
int rnat_cfg_map_add_in(struct rnat_cfg *cfg, u32 vpn_id, __be32 real,
			u8 plen, const __be32 *nat,
			const struct rnat_prefix *block, struct rnat_map **out,
			struct netlink_ext_ack *extack);

static inline int rnat_cfg_map_add(struct rnat_cfg *cfg, u32 vpn_id,
				   __be32 real, u8 plen, const __be32 *nat,
				   struct rnat_map **out,
				   struct netlink_ext_ack *extack)
{
	return rnat_cfg_map_add_in(cfg, vpn_id, real, plen, nat, NULL, out,
				   extack);
}

/*
 * Makes @real/@plen in VPN @vpn_id map to @nat/@plen, replacing the VPN's
 * mappings of either in one step; without @nat, keeps the mapping of @real
 * or adds one. Returns 0 if it already mapped so (*@out is that mapping),
 * 1 if *@out is new: @gone then holds the mappings it replaced (or NULL),
 * unlinked, for the caller to announce and rnat_map_release().
 */
int rnat_cfg_map_replace(struct rnat_cfg *cfg, u32 vpn_id, __be32 real,
			 u8 plen, const __be32 *nat, struct rnat_map **out,
			 struct rnat_map *gone[2],
			 struct netlink_ext_ack *extack);
void rnat_cfg_map_del(struct rnat_cfg *cfg, struct rnat_map *m);
/* Deletes every mapping of @vpn and frees its blocks; returns how many. */
unsigned int rnat_cfg_map_flush(struct rnat_cfg *cfg, struct rnat_vpn *vpn);

#endif /* _RNAT_CFG_H */
