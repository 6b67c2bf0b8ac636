/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mapping table: (VPN, real prefix) <-> NAT prefix, looked up lock-free
 * in both directions on the packet path.
 */

#ifndef _RNAT_TABLE_H
#define _RNAT_TABLE_H

#include <linux/rhashtable-types.h>
#include <linux/types.h>

/* Mappings span at most 2^16 addresses: prefix lengths 16..32. */
#define RNAT_PLEN_SLOTS 17

struct rnat_real_key {
	__be32 addr;	/* masked to plen */
	u32 vpn_id;
	u32 plen;
};

struct rnat_map {
	struct rhash_head real_node;
	struct rhash_head nat_node;
	struct rnat_real_key real;
	__be32 nat;	/* masked to real.plen */
	struct rcu_head rcu;
};

struct rnat_table {
	struct rhashtable by_real;
	struct rhashtable by_nat;
	/* Bit (32 - plen) is set while a mapping of that length exists. */
	unsigned long plens;
	unsigned int plen_count[RNAT_PLEN_SLOTS];
	unsigned int count;
};

int rnat_table_init(struct rnat_table *t);
/* Frees every mapping at once; the caller has waited for readers. */
void rnat_table_destroy(struct rnat_table *t);

/* Writers hold the namespace's mutex. */
struct rnat_map *rnat_map_alloc(u32 vpn_id, __be32 real, __be32 nat, u8 plen);
void rnat_map_free(struct rnat_map *m);
int rnat_table_insert(struct rnat_table *t, struct rnat_map *m);
/* Unlinks m and frees it after an RCU grace period. */
void rnat_table_remove(struct rnat_table *t, struct rnat_map *m);
/*
 * Links @m in the place of @old_real (its VPN and real prefix) and of
 * @old_nat (its NAT prefix), either of which may be NULL, and unlinks them
 * from their other index: a lookup meanwhile finds an old mapping or @m,
 * never none. The caller frees the old ones with rnat_map_release().
 */
int rnat_table_replace(struct rnat_table *t, struct rnat_map *m,
		       struct rnat_map *old_real, struct rnat_map *old_nat);
/* Frees an unlinked mapping after an RCU grace period. */
void rnat_map_release(struct rnat_map *m);

/* Readers hold rcu_read_lock(); the most specific mapping wins. */
struct rnat_map *rnat_table_lookup_real(const struct rnat_table *t,
					u32 vpn_id, __be32 addr);
struct rnat_map *rnat_table_lookup_nat(const struct rnat_table *t,
				       __be32 addr);
/* Exact-prefix lookups for the control plane. */
struct rnat_map *rnat_table_find_real(const struct rnat_table *t, u32 vpn_id,
				      __be32 addr, u8 plen);
struct rnat_map *rnat_table_find_nat(const struct rnat_table *t, __be32 addr,
				     u8 plen);

static inline __be32 rnat_plen_mask(u8 plen)
{
	return plen ? htonl(~0U << (32 - plen)) : 0;
}

static inline u8 rnat_map_plen(const struct rnat_map *m)
{
	return m->real.plen;
}

/* Translates an address inside the mapping by keeping its offset. */
static inline __be32 rnat_map_to_nat(const struct rnat_map *m, __be32 real)
{
	return m->nat | (real & ~rnat_plen_mask(m->real.plen));
}

static inline __be32 rnat_map_to_real(const struct rnat_map *m, __be32 nat)
{
	return m->real.addr | (nat & ~rnat_plen_mask(m->real.plen));
}

int rnat_table_module_init(void);
void rnat_table_module_exit(void);

#endif /* _RNAT_TABLE_H */
