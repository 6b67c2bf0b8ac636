// SPDX-License-Identifier: GPL-2.0
/*
 * VPN NAT blocks: which aligned ranges of a pool belong to which VPN. The
 * namespace keeps them in a maple tree of address ranges, so the block
 * holding an address is one lookup; each VPN keeps its own in address
 * order, which is the order its NAT IPs are handed out in.
 */

#include <linux/log2.h>
#include <linux/maple_tree.h>
#include <linux/slab.h>

#include "block.h"
#include "cfg.h"

struct rnat_block *rnat_block_of(struct rnat_cfg *cfg, u32 addr)
{
	return mtree_load(&cfg->blocks, addr);
}

static void rnat_block_link(struct rnat_vpn *vpn, struct rnat_block *b)
{
	struct rnat_block *pos;

	list_for_each_entry(pos, &vpn->blocks, node) {
		if (pos->pfx.base > b->pfx.base) {
			list_add_tail(&b->node, &pos->node);
			return;
		}
	}
	list_add_tail(&b->node, &vpn->blocks);
}

struct rnat_block *rnat_block_merge(struct rnat_cfg *cfg, struct rnat_block *b)
{
	while (b->pfx.plen > RNAT_POOL_PLEN_MIN) {
		u32 size = rnat_prefix_size(&b->pfx);
		struct rnat_prefix parent = {
			.base = b->pfx.base & ~size,
			.plen = b->pfx.plen - 1,
		};
		struct rnat_block *buddy, *low, *high;

		buddy = mtree_load(&cfg->blocks, b->pfx.base ^ size);
		if (!buddy || buddy->vpn != b->vpn ||
		    buddy->pfx.base != (b->pfx.base ^ size) ||
		    buddy->pfx.plen != b->pfx.plen ||
		    !rnat_pool_find(b->vpn->pool, &parent))
			break;
		low = b->pfx.base < buddy->pfx.base ? b : buddy;
		high = low == b ? buddy : b;
		/* One range for both halves; without memory they stay two. */
		if (mtree_store_range(&cfg->blocks, parent.base,
				      rnat_prefix_last(&parent), low,
				      GFP_KERNEL_ACCOUNT))
			break;
		list_del(&high->node);
		low->pfx = parent;
		low->used += high->used;
		kfree(high);
		b = low;
	}
	return b;
}

struct rnat_block *rnat_block_add(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				  const struct rnat_prefix *p)
{
	struct rnat_block *b;
	int err;

	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->pfx = *p;
	b->vpn = vpn;
	err = mtree_insert_range(&cfg->blocks, p->base, rnat_prefix_last(p), b,
				 GFP_KERNEL_ACCOUNT);
	if (err) {
		kfree(b);
		return ERR_PTR(err);
	}
	rnat_block_link(vpn, b);
	vpn->held += rnat_prefix_size(p);
	return b;
}

struct rnat_block *rnat_block_grow(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				   u8 plen)
{
	struct rnat_pool *pool = vpn->pool;
	struct rnat_block *b;
	struct rnat_prefix p;
	int bplen;

	/* As large as everything the VPN holds, within the bounds. */
	bplen = 32 - ilog2(max(vpn->held, 1U));
	bplen = clamp(bplen, RNAT_BLOCK_PLEN_MIN, 32);
	bplen = min_t(int, bplen, plen);
	/* A fragmented pool may still have room for something smaller. */
	for (; bplen <= plen; bplen++)
		if (!rnat_pool_alloc(pool, RNAT_POOL_OWNED, NULL, bplen, &p))
			break;
	if (bplen > plen)
		return ERR_PTR(-ENOSPC);
	b = rnat_block_add(cfg, vpn, &p);
	if (IS_ERR(b))
		rnat_pool_release(pool, RNAT_POOL_OWNED, &p);
	return b;
}

void rnat_block_del(struct rnat_cfg *cfg, struct rnat_block *b)
{
	rnat_pool_release(b->vpn->pool, RNAT_POOL_OWNED, &b->pfx);
	b->vpn->held -= rnat_prefix_size(&b->pfx);
	mtree_erase(&cfg->blocks, b->pfx.base);
	list_del(&b->node);
	kfree(b);
}

void rnat_block_put(struct rnat_cfg *cfg, struct rnat_block *b, u32 nr)
{
	b->used -= nr;
	if (!b->used)
		rnat_block_del(cfg, b);
}

void rnat_block_flush(struct rnat_cfg *cfg, struct rnat_vpn *vpn)
{
	struct rnat_block *b, *tmp;

	list_for_each_entry_safe(b, tmp, &vpn->blocks, node)
		rnat_block_del(cfg, b);
}
