/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A namespace's configuration: its pools, VPNs and mappings, and the rules
 * that keep them consistent. Writers hold the namespace's mutex; the packet
 * path reads VPNs and mappings under RCU.
 */

#ifndef _RNAT_CFG_H
#define _RNAT_CFG_H

#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/xarray.h>

#include "block.h"
#include "pool.h"
#include "table.h"

struct netlink_ext_ack;

struct rnat_vpn {
	u32 id;
	int ifindex;
	struct rnat_pool *pool;
	unsigned int nmaps;
	struct list_head blocks;	/* its NAT blocks, by address */
	u32 held;			/* addresses in its blocks */
	char name[RNAT_NAME_MAX];
	struct rcu_head rcu;
};

struct rnat_cfg {
	struct rnat_table table;
	struct list_head pools;
	struct xarray vpns;		/* by id */
	struct xarray vpn_by_dev;	/* by ifindex */
	struct maple_tree blocks;	/* VPN NAT blocks, by address range */
	unsigned int nvpns;
};

struct rnat_cfg *rnat_cfg_alloc(void);
/* Frees everything at once: no reader may still see @cfg. */
void rnat_cfg_free(struct rnat_cfg *cfg);

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

/* The packet path's question: which VPN, if any, owns this device? */
static inline struct rnat_vpn *rnat_cfg_vpn_by_dev(struct rnat_cfg *cfg,
						   int ifindex)
{
	return xa_load(&cfg->vpn_by_dev, ifindex);
}

int rnat_cfg_vpn_add(struct rnat_cfg *cfg, u32 id, const char *name,
		     const char *pool, int ifindex,
		     struct netlink_ext_ack *extack);
/*
 * Moves @vpn to device @ifindex (0: none; its traffic then stops, its
 * mappings stay). Fails only if another VPN has that device.
 */
int rnat_cfg_vpn_set_dev(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			 int ifindex, struct netlink_ext_ack *extack);
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
 */
int rnat_cfg_map_add(struct rnat_cfg *cfg, u32 vpn_id, __be32 real, u8 plen,
		     const __be32 *nat, struct rnat_map **out,
		     struct netlink_ext_ack *extack);
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
