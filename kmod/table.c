// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping table. Two rhashtables index the same entries: one by
 * (VPN, real prefix), one by NAT prefix. Prefix mappings cost one lookup per
 * distinct prefix length in use, most specific first; with only /32 mappings
 * that is a single lookup. NAT prefixes never overlap, so at most one mapping
 * holds a NAT address.
 */

#include <linux/bitops.h>
#include <linux/hash.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "table.h"

static struct kmem_cache *rnat_map_cache;

/* README "Memory": what a mapping costs, whatever the CPU count. */
static_assert(sizeof(struct rnat_map) == 80);

/*
 * Both tables hash and compare their keys inline: rhashtable's defaults
 * call memcmp() for every entry of a chain (a byte loop on x86).
 *
 * The hash is multiplicative (the golden ratio, as hash_64()): 4
 * instructions where jhash takes about 30. rhashtable takes a hash's low
 * bits, so it returns the product's high half, which mixes every bit of the
 * key. jhash's strength against chosen keys is not needed: the keys are the
 * operator's (a packet only chooses which chain it reads), and sequential
 * addresses spread evenly (at most 3 entries a chain for 10^6 of them at
 * rhashtable's load). A chain that grows too long still makes rhashtable
 * rehash with another seed.
 */
static inline u32 rnat_hash(u64 key, u32 seed)
{
	return ((key ^ seed) * GOLDEN_RATIO_64) >> 32;
}

static u32 rnat_real_hashfn(const void *data, u32 len, u32 seed)
{
	const struct rnat_real_key *k = data;

	return rnat_hash(((u64)k->vpn_id << 32 | (__force u32)k->addr) +
			 k->plen, seed);
}

static int rnat_real_cmpfn(struct rhashtable_compare_arg *arg,
			   const void *obj)
{
	const struct rnat_real_key *k = arg->key;
	const struct rnat_map *m = obj;

	return (__force u32)(k->addr ^ m->real.addr) |
	       (k->vpn_id ^ m->real.vpn_id) | (k->plen ^ m->real.plen);
}

static u32 rnat_nat_hashfn(const void *data, u32 len, u32 seed)
{
	return rnat_hash((__force u32)*(const __be32 *)data, seed);
}

static int rnat_nat_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct rnat_map *m = obj;

	return *(const __be32 *)arg->key != m->nat;
}

static const struct rhashtable_params rnat_real_params = {
	.head_offset = offsetof(struct rnat_map, real_node),
	.key_offset = offsetof(struct rnat_map, real),
	.key_len = sizeof(struct rnat_real_key),
	.hashfn = rnat_real_hashfn,
	.obj_cmpfn = rnat_real_cmpfn,
	.automatic_shrinking = true,
};

static const struct rhashtable_params rnat_nat_params = {
	.head_offset = offsetof(struct rnat_map, nat_node),
	.key_offset = offsetof(struct rnat_map, nat),
	.key_len = sizeof(__be32),
	.hashfn = rnat_nat_hashfn,
	.obj_cmpfn = rnat_nat_cmpfn,
	.automatic_shrinking = true,
};

int rnat_table_init(struct rnat_table *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = rhashtable_init(&t->by_real, &rnat_real_params);
	if (err)
		return err;
	err = rhashtable_init(&t->by_nat, &rnat_nat_params);
	if (err)
		rhashtable_destroy(&t->by_real);
	return err;
}

static void rnat_map_free_cb(void *ptr, void *arg)
{
	rnat_map_free(ptr);
}

void rnat_table_destroy(struct rnat_table *t)
{
	rhashtable_destroy(&t->by_nat);
	rhashtable_free_and_destroy(&t->by_real, rnat_map_free_cb, NULL);
}

struct rnat_map *rnat_map_alloc(u32 vpn_id, __be32 real, __be32 nat, u8 plen)
{
	struct rnat_map *m;

	m = kmem_cache_zalloc(rnat_map_cache, GFP_KERNEL_ACCOUNT);
	if (!m)
		return NULL;
	m->real.addr = real & rnat_plen_mask(plen);
	m->real.vpn_id = vpn_id;
	m->real.plen = plen;
	m->nat = nat & rnat_plen_mask(plen);
	return m;
}

void rnat_map_free(struct rnat_map *m)
{
	kfree(m->icmp);
	kmem_cache_free(rnat_map_cache, m);
}

bool rnat_map_count_icmp(struct rnat_map *m, enum rnat_dir dir,
			 enum rnat_icmp_class class)
{
	struct rnat_map_icmp *c, *old;

	if (class >= RNAT_ICMP_CLASSES)
		return true;
	c = READ_ONCE(m->icmp);
	if (!c) {
		c = kzalloc(sizeof(*c), GFP_ATOMIC | __GFP_NOWARN);
		if (!c)
			return false;
		/* Published zeroed; another CPU may have been first. */
		old = cmpxchg(&m->icmp, NULL, c);
		if (old) {
			kfree(c);
			c = old;
		}
	}
	atomic_inc(&c->count[dir][class]);
	return true;
}

void rnat_map_totals(const struct rnat_map *m, struct rnat_map_totals *t)
{
	const struct rnat_map_icmp *c;
	int d, i;

	for (d = 0; d < RNAT_DIRS; d++) {
		t->packets[d] = atomic64_read(&m->packets[d]);
		t->bytes[d] = atomic64_read(&m->bytes[d]);
	}
	c = READ_ONCE(m->icmp);
	for (d = 0; d < RNAT_DIRS; d++)
		for (i = 0; i < RNAT_ICMP_CLASSES; i++)
			t->icmp[d][i] = c ? atomic_read(&c->count[d][i]) : 0;
	t->last_used = READ_ONCE(m->last_used);
}

void rnat_map_totals_add(struct rnat_map_totals *sum, const struct rnat_map *m)
{
	struct rnat_map_totals t;
	int d, i;

	rnat_map_totals(m, &t);
	for (d = 0; d < RNAT_DIRS; d++) {
		sum->packets[d] += t.packets[d];
		sum->bytes[d] += t.bytes[d];
		for (i = 0; i < RNAT_ICMP_CLASSES; i++)
			sum->icmp[d][i] += t.icmp[d][i];
	}
	if (t.last_used &&
	    (!sum->last_used || time_after(t.last_used, sum->last_used)))
		sum->last_used = t.last_used;
}

/*
 * Unlinked mappings wait for their grace period in page-sized batches of
 * pointers, one rcu_head each (as kfree_rcu() does without a head): the
 * mapping needs no rcu_head of its own. A batch leaves when it is full, or
 * from a work item that the first mapping of a batch schedules, so that a
 * lone deletion is not kept waiting.
 */
struct rnat_grave {
	struct rcu_head rcu;
	unsigned int n;
	struct rnat_map *maps[];
};

#define RNAT_GRAVE_MAPS							\
	((PAGE_SIZE - sizeof(struct rnat_grave)) / sizeof(struct rnat_map *))

static DEFINE_MUTEX(rnat_grave_lock);
static struct rnat_grave *rnat_grave;	/* filling, under rnat_grave_lock */

static void rnat_grave_free(struct rcu_head *head)
{
	struct rnat_grave *g = container_of(head, struct rnat_grave, rcu);
	unsigned int i;

	for (i = 0; i < g->n; i++)
		rnat_map_free(g->maps[i]);
	kfree(g);
}

static void rnat_grave_send(struct work_struct *work)
{
	struct rnat_grave *g;

	mutex_lock(&rnat_grave_lock);
	g = rnat_grave;
	rnat_grave = NULL;
	mutex_unlock(&rnat_grave_lock);
	if (g)
		call_rcu(&g->rcu, rnat_grave_free);
}

static DECLARE_WORK(rnat_grave_work, rnat_grave_send);

void rnat_map_release(struct rnat_map *m)
{
	struct rnat_grave *g;

	mutex_lock(&rnat_grave_lock);
	g = rnat_grave;
	if (!g) {
		g = kmalloc(PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN);
		if (!g) {
			mutex_unlock(&rnat_grave_lock);
			synchronize_rcu();
			rnat_map_free(m);
			return;
		}
		g->n = 0;
		rnat_grave = g;
		schedule_work(&rnat_grave_work);
	}
	g->maps[g->n++] = m;
	if (g->n == RNAT_GRAVE_MAPS) {
		rnat_grave = NULL;
		call_rcu(&g->rcu, rnat_grave_free);
	}
	mutex_unlock(&rnat_grave_lock);
}

static unsigned int rnat_plen_slot(u8 plen)
{
	return 32 - plen;
}

/* Keeps the count of mappings per prefix length the lookups walk. */
static void rnat_table_count(struct rnat_table *t, const struct rnat_map *m,
			     int delta)
{
	unsigned int slot = rnat_plen_slot(m->real.plen);

	if (delta > 0 && !t->plen_count[slot]++)
		WRITE_ONCE(t->plens, t->plens | BIT(slot));
	if (delta < 0 && !--t->plen_count[slot])
		WRITE_ONCE(t->plens, t->plens & ~BIT(slot));
	t->count += delta;
}

int rnat_table_insert(struct rnat_table *t, struct rnat_map *m)
{
	int err;

	if (WARN_ON_ONCE(rnat_plen_slot(m->real.plen) >= RNAT_PLEN_SLOTS))
		return -EINVAL;
	/* Before it can be found, so the lookups try its length. */
	rnat_table_count(t, m, 1);
	err = rhashtable_lookup_insert_fast(&t->by_real, &m->real_node,
					    rnat_real_params);
	if (err)
		goto err_count;
	err = rhashtable_lookup_insert_fast(&t->by_nat, &m->nat_node,
					    rnat_nat_params);
	if (err) {
		rhashtable_remove_fast(&t->by_real, &m->real_node,
				       rnat_real_params);
		goto err_count;
	}
	return 0;

err_count:
	/* A packet may have found it in by_real: rnat_map_release() frees it. */
	rnat_table_count(t, m, -1);
	return err;
}

void rnat_table_remove(struct rnat_table *t, struct rnat_map *m)
{
	rhashtable_remove_fast(&t->by_real, &m->real_node, rnat_real_params);
	rhashtable_remove_fast(&t->by_nat, &m->nat_node, rnat_nat_params);
	rnat_table_count(t, m, -1);
	rnat_map_release(m);
}

int rnat_table_replace(struct rnat_table *t, struct rnat_map *m,
		       struct rnat_map *old_real, struct rnat_map *old_nat)
{
	int err;

	if (WARN_ON_ONCE(old_real && old_real == old_nat))
		return -EINVAL;
	/*
	 * Insertions can fail: they go first, while nothing has changed.
	 * Counted first: were an old mapping of the same length uncounted
	 * first, the length's bit would clear and lookups miss meanwhile.
	 */
	rnat_table_count(t, m, 1);
	if (!old_nat) {
		err = rhashtable_lookup_insert_fast(&t->by_nat, &m->nat_node,
						    rnat_nat_params);
		if (err)
			goto err_count;
	}
	if (!old_real) {
		err = rhashtable_lookup_insert_fast(&t->by_real, &m->real_node,
						    rnat_real_params);
		if (err) {
			if (!old_nat)
				rhashtable_remove_fast(&t->by_nat, &m->nat_node,
						       rnat_nat_params);
			goto err_count;
		}
	}
	/* Same keys: a bucket's pointer swaps, readers see one or the other. */
	if (old_nat) {
		WARN_ON_ONCE(rhashtable_replace_fast(&t->by_nat,
						     &old_nat->nat_node,
						     &m->nat_node,
						     rnat_nat_params));
		rhashtable_remove_fast(&t->by_real, &old_nat->real_node,
				       rnat_real_params);
		rnat_table_count(t, old_nat, -1);
	}
	if (old_real) {
		WARN_ON_ONCE(rhashtable_replace_fast(&t->by_real,
						     &old_real->real_node,
						     &m->real_node,
						     rnat_real_params));
		rhashtable_remove_fast(&t->by_nat, &old_real->nat_node,
				       rnat_nat_params);
		rnat_table_count(t, old_real, -1);
	}
	return 0;

err_count:
	/* As in rnat_table_insert(): freed by rnat_map_release(). */
	rnat_table_count(t, m, -1);
	return err;
}

static __always_inline struct rnat_map *
__rnat_find_real(const struct rnat_table *t, u32 vpn_id, __be32 addr, u8 plen)
{
	struct rnat_real_key key = {
		.addr = addr & rnat_plen_mask(plen),
		.vpn_id = vpn_id,
		.plen = plen,
	};

	return rhashtable_lookup((struct rhashtable *)&t->by_real, &key,
				 rnat_real_params);
}

static __always_inline struct rnat_map *
__rnat_find_nat(const struct rnat_table *t, __be32 addr, u8 plen)
{
	__be32 key = addr & rnat_plen_mask(plen);
	struct rnat_map *m;

	m = rhashtable_lookup((struct rhashtable *)&t->by_nat, &key,
			      rnat_nat_params);
	return m && m->real.plen == plen ? m : NULL;
}

/*
 * The control plane's lookups: the mutex keeps the result alive, the RCU
 * read lock only satisfies rhashtable's lockdep checks.
 */
struct rnat_map *rnat_table_find_real(const struct rnat_table *t, u32 vpn_id,
				      __be32 addr, u8 plen)
{
	struct rnat_map *m;

	rcu_read_lock();
	m = __rnat_find_real(t, vpn_id, addr, plen);
	rcu_read_unlock();
	return m;
}

struct rnat_map *rnat_table_find_nat(const struct rnat_table *t, __be32 addr,
				     u8 plen)
{
	struct rnat_map *m;

	rcu_read_lock();
	m = __rnat_find_nat(t, addr, plen);
	rcu_read_unlock();
	return m;
}

/*
 * With prefix mappings: the most specific first. Out of line, so that the
 * usual case keeps a small frame.
 */
static noinline struct rnat_map *
rnat_table_lookup_real_plens(const struct rnat_table *t, u32 vpn_id,
			     __be32 addr, unsigned long plens)
{
	struct rnat_map *m;
	unsigned int slot;

	for_each_set_bit(slot, &plens, RNAT_PLEN_SLOTS) {
		m = __rnat_find_real(t, vpn_id, addr, 32 - slot);
		if (m)
			return m;
	}
	return NULL;
}

static noinline struct rnat_map *
rnat_table_lookup_nat_plens(const struct rnat_table *t, __be32 addr,
			    unsigned long plens)
{
	struct rnat_map *m;
	unsigned int slot;

	for_each_set_bit(slot, &plens, RNAT_PLEN_SLOTS) {
		m = __rnat_find_nat(t, addr, 32 - slot);
		if (m)
			return m;
	}
	return NULL;
}

/*
 * Only /32 mappings (bit 0 alone), the usual case: one lookup, no loop.
 * Flattened: rhashtable's inline lookup, left to itself, becomes one shared
 * copy calling the hash and compare functions indirectly.
 */
__flatten struct rnat_map *
rnat_table_lookup_real(const struct rnat_table *t, u32 vpn_id, __be32 addr)
{
	unsigned long plens = READ_ONCE(t->plens);

	if (likely(plens == BIT(0)))
		return __rnat_find_real(t, vpn_id, addr, 32);
	return rnat_table_lookup_real_plens(t, vpn_id, addr, plens);
}

__flatten struct rnat_map *
rnat_table_lookup_nat(const struct rnat_table *t, __be32 addr)
{
	unsigned long plens = READ_ONCE(t->plens);

	if (likely(plens == BIT(0)))
		return __rnat_find_nat(t, addr, 32);
	return rnat_table_lookup_nat_plens(t, addr, plens);
}

int rnat_table_module_init(void)
{
	rnat_map_cache = KMEM_CACHE(rnat_map, 0);
	return rnat_map_cache ? 0 : -ENOMEM;
}

void rnat_table_module_exit(void)
{
	/* Mappings still waiting for their grace period use the cache. */
	flush_work(&rnat_grave_work);
	rnat_grave_send(NULL);
	rcu_barrier();
	kmem_cache_destroy(rnat_map_cache);
	rnat_map_cache = NULL;
}

#ifdef RNAT_KUNIT
#include "tests/table_test.c"
#endif
