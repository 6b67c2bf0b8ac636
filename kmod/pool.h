/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT address pools: named sets of prefixes with two bits per address: is it
 * in a VPN's block (owned), and does a mapping hold it (used)? Every used
 * address is owned. Allocation is deterministic: the lowest free aligned
 * range, in the order the pool's prefixes were given.
 */

#ifndef _RNAT_POOL_H
#define _RNAT_POOL_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/rnat.h>

struct netlink_ext_ack;

struct rnat_prefix {
	u32 base;	/* host byte order, no bits past plen */
	u8 plen;
};

/* Which of a pool's bitmaps an operation works on. */
enum rnat_pool_bits {
	RNAT_POOL_USED,		/* held by a mapping */
	RNAT_POOL_OWNED,	/* inside some VPN's block */
	RNAT_POOL_NBITS
};

struct rnat_pool_prefix {
	struct rnat_prefix pfx;
	unsigned long *bits[RNAT_POOL_NBITS];
};

struct rnat_pool {
	struct list_head list;
	char name[RNAT_NAME_MAX];
	unsigned int nvpns;	/* VPNs drawing from this pool */
	u32 size;
	u32 count[RNAT_POOL_NBITS];	/* addresses set in each bitmap */
	unsigned int nprefixes;
	struct rnat_pool_prefix prefixes[];
};

static inline u32 rnat_prefix_size(const struct rnat_prefix *p)
{
	return p->plen ? 1U << (32 - p->plen) : 0;
}

static inline u32 rnat_prefix_last(const struct rnat_prefix *p)
{
	return p->base + (rnat_prefix_size(p) - 1);
}

static inline bool rnat_prefix_contains(const struct rnat_prefix *outer,
					const struct rnat_prefix *inner)
{
	return inner->plen >= outer->plen && inner->base >= outer->base &&
	       rnat_prefix_last(inner) <= rnat_prefix_last(outer);
}

static inline bool rnat_prefix_overlap(const struct rnat_prefix *a,
				       const struct rnat_prefix *b)
{
	return a->base <= rnat_prefix_last(b) && b->base <= rnat_prefix_last(a);
}

static inline bool rnat_prefix_valid(const struct rnat_prefix *p)
{
	u32 mask = p->plen ? ~0U << (32 - p->plen) : 0;

	return p->plen <= 32 && !(p->base & ~mask);
}

struct rnat_pool *rnat_pool_create(const char *name,
				   const struct rnat_prefix *prefixes,
				   unsigned int n, struct netlink_ext_ack *extack);
void rnat_pool_destroy(struct rnat_pool *pool);

/* The pool prefix that holds all of @p, or NULL. */
struct rnat_pool_prefix *rnat_pool_find(struct rnat_pool *pool,
					const struct rnat_prefix *p);

/*
 * Sets the lowest aligned range of 2^(32 - plen) addresses that is clear in
 * bitmap @bits, searching only inside @within (a prefix of the pool) or, if
 * @within is NULL, the whole pool.
 */
int rnat_pool_alloc(struct rnat_pool *pool, enum rnat_pool_bits bits,
		    const struct rnat_prefix *within, u8 plen,
		    struct rnat_prefix *out);
/* Sets @p if it lies in the pool and is entirely clear in @bits. */
int rnat_pool_claim(struct rnat_pool *pool, enum rnat_pool_bits bits,
		    const struct rnat_prefix *p);
void rnat_pool_release(struct rnat_pool *pool, enum rnat_pool_bits bits,
		       const struct rnat_prefix *p);
/* The first address of @p (inside the pool) set in @bits, or -ENOENT. */
s64 rnat_pool_first_set(struct rnat_pool *pool, enum rnat_pool_bits bits,
			const struct rnat_prefix *p);

#endif /* _RNAT_POOL_H */
