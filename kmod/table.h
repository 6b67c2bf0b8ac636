/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mapping table: (VPN, real prefix) <-> NAT prefix, looked up lock-free
 * in both directions on the packet path.
 */

#ifndef _RNAT_TABLE_H
#define _RNAT_TABLE_H

#include <linux/atomic.h>
#include <linux/icmp.h>
#include <linux/jiffies.h>
#include <linux/rhashtable-types.h>
#include <linux/skbuff.h>
#include <linux/types.h>

/* Mappings span at most 2^16 addresses: prefix lengths 16..32. */
#define RNAT_PLEN_SLOTS 17

struct rnat_real_key {
	__be32 addr;	/* masked to plen */
	u32 vpn_id;
	u32 plen;
};

/* A mapping's two directions: from its VPN, and into it. */
enum rnat_dir {
	RNAT_DIR_IN,
	RNAT_DIR_OUT,
	RNAT_DIRS
};

/* The ICMP errors counted per mapping, by what they mean to an operator. */
enum rnat_icmp_class {
	RNAT_ICMP_UNREACH,	/* destination unreachable, other codes */
	RNAT_ICMP_REFUSED,	/* port unreachable: ECONNREFUSED */
	RNAT_ICMP_FRAG_NEEDED,	/* PMTU discovery */
	RNAT_ICMP_TIME_EXCEEDED,
	RNAT_ICMP_CLASSES,
	RNAT_ICMP_OTHER = RNAT_ICMP_CLASSES	/* not counted */
};

struct rnat_map {
	struct rhash_head real_node;
	struct rhash_head nat_node;
	struct rnat_real_key real;
	__be32 nat;	/* masked to real.plen */
	/*
	 * Shared by every CPU, as conntrack's accounting: exact, 32 bytes
	 * whatever the CPU count, on the lines the lookup has just read. A
	 * mapping's traffic spread over several CPUs at once makes them
	 * bounce between those CPUs' caches.
	 */
	atomic64_t packets[RNAT_DIRS];
	atomic64_t bytes[RNAT_DIRS];
	/* jiffies (never 0) when it last translated a packet. */
	unsigned long last_used;
	/*
	 * ICMP errors are rare and most mappings never see one: their
	 * counters come with the first (rnat_map_count_icmp()).
	 */
	struct rnat_map_icmp *icmp;
	/*
	 * No rcu_head: an unlinked mapping waits for its grace period in a
	 * batch of pointers (rnat_map_release()).
	 */
};

struct rnat_map_icmp {
	atomic_t count[RNAT_DIRS][RNAT_ICMP_CLASSES];
};

/* A mapping's counters, as read at one moment. */
struct rnat_map_totals {
	u64 packets[RNAT_DIRS];
	u64 bytes[RNAT_DIRS];
	u32 icmp[RNAT_DIRS][RNAT_ICMP_CLASSES];
	unsigned long last_used;	/* jiffies, 0: never */
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

/* Writers hold the namespace's mutex. A new mapping's counters are 0. */
struct rnat_map *rnat_map_alloc(u32 vpn_id, __be32 real, __be32 nat, u8 plen);
void rnat_map_free(struct rnat_map *m);
/*
 * On failure @m may have been visible for a moment: the caller frees it with
 * rnat_map_release(), never at once.
 */
int rnat_table_insert(struct rnat_table *t, struct rnat_map *m);
/* Unlinks m and frees it after an RCU grace period. */
void rnat_table_remove(struct rnat_table *t, struct rnat_map *m);
/*
 * Links @m in the place of @old_real (its VPN and real prefix) and of
 * @old_nat (its NAT prefix), either of which may be NULL, and unlinks them
 * from their other index: a lookup meanwhile finds an old mapping or @m,
 * never none. The caller frees the old ones with rnat_map_release(), and
 * @m too if this fails.
 */
int rnat_table_replace(struct rnat_table *t, struct rnat_map *m,
		       struct rnat_map *old_real, struct rnat_map *old_nat);
/*
 * Frees an unlinked mapping after an RCU grace period. Process context:
 * should there be no memory for the batch, it waits for the grace period.
 */
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

/* Without a branch: a 64-bit shift by 32 is defined, a 32-bit one is not. */
static inline __be32 rnat_plen_mask(u8 plen)
{
	return htonl((u32)(~0ULL << (32 - plen)));
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

/*
 * Counts @skb, just translated by @m, in any context: forwarded packets come
 * in softirq context, locally generated ones in process context.
 */
static inline void rnat_map_count(struct rnat_map *m, enum rnat_dir dir,
				  const struct sk_buff *skb)
{
	unsigned long now = jiffies ?: 1;

	atomic64_add(skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1,
		     &m->packets[dir]);
	atomic64_add(skb->len, &m->bytes[dir]);
	/* At most once a jiffy: a hot mapping does not write it every time. */
	if (READ_ONCE(m->last_used) != now)
		WRITE_ONCE(m->last_used, now);
}

/*
 * Counts an ICMP error of @class about @m's endpoint. False if it could not
 * be counted: its mapping's first, and no memory for the counters.
 */
bool rnat_map_count_icmp(struct rnat_map *m, enum rnat_dir dir,
			 enum rnat_icmp_class class);

void rnat_map_totals(const struct rnat_map *m, struct rnat_map_totals *t);
/* Adds @m's counters to @sum (which keeps the later last use). */
void rnat_map_totals_add(struct rnat_map_totals *sum, const struct rnat_map *m);

static inline enum rnat_icmp_class rnat_icmp_classify(u8 type, u8 code)
{
	if (type == ICMP_TIME_EXCEEDED)
		return RNAT_ICMP_TIME_EXCEEDED;
	if (type != ICMP_DEST_UNREACH)
		return RNAT_ICMP_OTHER;
	if (code == ICMP_PORT_UNREACH)
		return RNAT_ICMP_REFUSED;
	if (code == ICMP_FRAG_NEEDED)
		return RNAT_ICMP_FRAG_NEEDED;
	return RNAT_ICMP_UNREACH;
}

int rnat_table_module_init(void);
void rnat_table_module_exit(void);

#endif /* _RNAT_TABLE_H */
