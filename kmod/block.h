/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VPN's NAT blocks: aligned ranges of its pool reserved for it, so that one
 * route per block (not one per NAT IP) steers core traffic into its tunnel.
 * A VPN's first block is one address; each new block is as large as all its
 * blocks so far (up to RNAT_BLOCK_PLEN_MIN), so a VPN with n NAT IPs has
 * about log2(n) blocks. Adjacent halves of one VPN merge. A block is given
 * back to the pool when its last mapping goes. Control plane only: the
 * packet path never looks at blocks.
 */

#ifndef _RNAT_BLOCK_H
#define _RNAT_BLOCK_H

#include <linux/list.h>

#include "pool.h"

struct rnat_cfg;
struct rnat_vpn;

struct rnat_block {
	struct list_head node;	/* in its VPN's list, by address */
	struct rnat_prefix pfx;
	struct rnat_vpn *vpn;
	u32 used;		/* addresses held by the VPN's mappings */
};

/* The block holding @addr (host byte order), or NULL. */
struct rnat_block *rnat_block_of(struct rnat_cfg *cfg, u32 addr);

/*
 * Gives @vpn the block @p, whose addresses the caller has already set in the
 * pool's owned bitmap. Returns the new block, or an ERR_PTR. It stays apart
 * from its neighbours until rnat_block_merge(), so that a change that fails
 * later can take it back with rnat_block_del().
 */
struct rnat_block *rnat_block_add(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				  const struct rnat_prefix *p);

/*
 * Folds @b and its buddy into their parent while both belong to the same VPN
 * and the parent lies inside one pool prefix: fewer blocks, fewer routes.
 * Returns the block now holding @b's addresses.
 */
struct rnat_block *rnat_block_merge(struct rnat_cfg *cfg, struct rnat_block *b);

/*
 * Takes a new block for @vpn that can hold a /@plen: size by the growth rule.
 * Not merged yet, as rnat_block_add().
 */
struct rnat_block *rnat_block_grow(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				   u8 plen);

/* Gives block @b back to the pool, whatever it holds. */
void rnat_block_del(struct rnat_cfg *cfg, struct rnat_block *b);

/* @nr addresses of @b were unmapped; frees @b when none is left. */
void rnat_block_put(struct rnat_cfg *cfg, struct rnat_block *b, u32 nr);

/* Frees every block of @vpn. */
void rnat_block_flush(struct rnat_cfg *cfg, struct rnat_vpn *vpn);

#endif /* _RNAT_BLOCK_H */
