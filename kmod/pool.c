// SPDX-License-Identifier: GPL-2.0
/*
 * NAT address pools. Each prefix of a pool has two bitmaps with one bit per
 * address each (a /16 costs 16 KiB): owned by a VPN's block, and used by a
 * mapping. Allocation is a bitmap search and never consults the tables.
 */

#include <linux/bitmap.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "pool.h"

struct rnat_pool *rnat_pool_create(const char *name,
				   const struct rnat_prefix *prefixes,
				   unsigned int n, struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool;
	unsigned int i, j;

	if (!n || n > RNAT_POOL_PREFIXES_MAX) {
		NL_SET_ERR_MSG(extack, "a pool needs 1 to 64 prefixes");
		return ERR_PTR(-EINVAL);
	}
	for (i = 0; i < n; i++) {
		if (prefixes[i].plen < RNAT_POOL_PLEN_MIN ||
		    !rnat_prefix_valid(&prefixes[i])) {
			NL_SET_ERR_MSG_FMT(extack,
					   "pool prefix %pI4h/%u has host bits set or is shorter than /%u",
					   &prefixes[i].base, prefixes[i].plen,
					   RNAT_POOL_PLEN_MIN);
			return ERR_PTR(-EINVAL);
		}
		for (j = 0; j < i; j++) {
			if (rnat_prefix_overlap(&prefixes[i], &prefixes[j])) {
				NL_SET_ERR_MSG_FMT(extack,
						   "pool prefixes %pI4h/%u and %pI4h/%u overlap",
						   &prefixes[j].base, prefixes[j].plen,
						   &prefixes[i].base, prefixes[i].plen);
				return ERR_PTR(-EINVAL);
			}
		}
	}

	pool = kzalloc(struct_size(pool, prefixes, n), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	strscpy(pool->name, name, sizeof(pool->name));
	INIT_LIST_HEAD(&pool->list);
	for (i = 0; i < n; i++) {
		struct rnat_pool_prefix *pp = &pool->prefixes[i];
		u32 size = rnat_prefix_size(&prefixes[i]);

		pp->pfx = prefixes[i];
		pool->nprefixes = i + 1;
		for (j = 0; j < RNAT_POOL_NBITS; j++) {
			pp->bits[j] = kvcalloc(BITS_TO_LONGS(size),
					       sizeof(unsigned long),
					       GFP_KERNEL_ACCOUNT);
			if (!pp->bits[j]) {
				rnat_pool_destroy(pool);
				return ERR_PTR(-ENOMEM);
			}
		}
		pool->size += size;
	}
	return pool;
}

void rnat_pool_destroy(struct rnat_pool *pool)
{
	unsigned int i, j;

	for (i = 0; i < pool->nprefixes; i++)
		for (j = 0; j < RNAT_POOL_NBITS; j++)
			kvfree(pool->prefixes[i].bits[j]);
	kfree(pool);
}

struct rnat_pool_prefix *rnat_pool_find(struct rnat_pool *pool,
					const struct rnat_prefix *p)
{
	unsigned int i;

	for (i = 0; i < pool->nprefixes; i++)
		if (rnat_prefix_contains(&pool->prefixes[i].pfx, p))
			return &pool->prefixes[i];
	return NULL;
}

int rnat_pool_alloc(struct rnat_pool *pool, enum rnat_pool_bits bits,
		    const struct rnat_prefix *within, u8 plen,
		    struct rnat_prefix *out)
{
	struct rnat_prefix want = { .plen = plen };
	u32 nr = rnat_prefix_size(&want);
	unsigned int i;

	for (i = 0; i < pool->nprefixes; i++) {
		struct rnat_pool_prefix *pp = &pool->prefixes[i];
		unsigned long start = 0, end = rnat_prefix_size(&pp->pfx), bit;

		if (within) {
			if (!rnat_prefix_contains(&pp->pfx, within))
				continue;
			start = within->base - pp->pfx.base;
			end = start + rnat_prefix_size(within);
		}
		if (nr > end - start)
			continue;
		bit = bitmap_find_next_zero_area(pp->bits[bits], end, start,
						 nr, nr - 1);
		if (bit >= end)
			continue;
		bitmap_set(pp->bits[bits], bit, nr);
		pool->count[bits] += nr;
		out->base = pp->pfx.base + bit;
		out->plen = plen;
		return 0;
	}
	return -ENOSPC;
}

s64 rnat_pool_first_set(struct rnat_pool *pool, enum rnat_pool_bits bits,
			const struct rnat_prefix *p)
{
	struct rnat_pool_prefix *pp = rnat_pool_find(pool, p);
	unsigned long first, end;

	if (!pp)
		return -ENOENT;
	first = p->base - pp->pfx.base;
	end = first + rnat_prefix_size(p);
	first = find_next_bit(pp->bits[bits], end, first);
	return first < end ? pp->pfx.base + first : -ENOENT;
}

int rnat_pool_claim(struct rnat_pool *pool, enum rnat_pool_bits bits,
		    const struct rnat_prefix *p)
{
	struct rnat_pool_prefix *pp = rnat_pool_find(pool, p);

	if (!pp)
		return -EINVAL;
	if (rnat_pool_first_set(pool, bits, p) >= 0)
		return -EEXIST;
	bitmap_set(pp->bits[bits], p->base - pp->pfx.base, rnat_prefix_size(p));
	pool->count[bits] += rnat_prefix_size(p);
	return 0;
}

void rnat_pool_release(struct rnat_pool *pool, enum rnat_pool_bits bits,
		       const struct rnat_prefix *p)
{
	struct rnat_pool_prefix *pp = rnat_pool_find(pool, p);
	u32 nr = rnat_prefix_size(p);

	if (WARN_ON_ONCE(!pp))
		return;
	bitmap_clear(pp->bits[bits], p->base - pp->pfx.base, nr);
	pool->count[bits] -= nr;
}

#ifdef RNAT_KUNIT
#include "tests/pool_test.c"
#endif
