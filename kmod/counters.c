// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings' per-CPU counters. A percpu allocation costs thousands of
 * instructions and the memory cgroup's bookkeeping on top: mappings share
 * chunks of RNAT_COUNTERS_SLOTS slots instead, each table its own, so the
 * memory is charged to whoever builds the table, as it was per mapping.
 *
 * A slot finds its chunk without help from the mapping: the chunk's percpu
 * area is aligned to its size, so the slot's address gives its index, and the
 * area ends with a pointer to the chunk. A slot given back is zeroed on every
 * CPU then, so a fresh and a reused slot look the same. A chunk left empty
 * is freed unless it is the pool's only empty one (kept, so that a table at
 * a chunk's edge does not allocate and free one for every mapping).
 */

#include <linux/bitops.h>
#include <linux/slab.h>

#include "counters.h"

static_assert(sizeof(struct rnat_counters_block) <= RNAT_COUNTERS_BLOCK);
static_assert(RNAT_COUNTERS_SLOTS > 1);

struct rnat_counters *rnat_counters_create(void)
{
	struct rnat_counters *pool;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return NULL;
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->avail);
	return pool;
}

static struct rnat_counters_chunk *
rnat_counters_chunk_alloc(struct rnat_counters *pool)
{
	struct rnat_counters_chunk *chunk;
	int cpu, i;

	chunk = kzalloc(sizeof(*chunk), GFP_KERNEL_ACCOUNT);
	if (!chunk)
		return NULL;
	chunk->block = __alloc_percpu_gfp(sizeof(struct rnat_counters_block),
					  RNAT_COUNTERS_BLOCK,
					  GFP_KERNEL_ACCOUNT);
	if (!chunk->block) {
		kfree(chunk);
		return NULL;
	}
	for_each_possible_cpu(cpu) {
		struct rnat_counters_block *b = per_cpu_ptr(chunk->block, cpu);

		for (i = 0; i < RNAT_COUNTERS_SLOTS; i++)
			u64_stats_init(&b->slot[i].syncp);
		b->chunk = chunk;
	}
	chunk->pool = pool;
	return chunk;
}

static void rnat_counters_chunk_free(struct rnat_counters_chunk *chunk)
{
	free_percpu(chunk->block);
	kfree(chunk);
}

struct rnat_map_pcpu __percpu *rnat_counters_get(struct rnat_counters *pool)
{
	struct rnat_counters_chunk *chunk;
	unsigned int i;

	spin_lock_bh(&pool->lock);
	if (list_empty(&pool->avail)) {
		spin_unlock_bh(&pool->lock);
		chunk = rnat_counters_chunk_alloc(pool);
		if (!chunk)
			return NULL;
		spin_lock_bh(&pool->lock);
		list_add_tail(&chunk->node, &pool->avail);
		pool->chunks++;
		pool->empty++;
	}
	/* Partly used chunks come first: the table stays dense. */
	chunk = list_first_entry(&pool->avail, struct rnat_counters_chunk, node);
	i = find_first_zero_bit(chunk->busy, RNAT_COUNTERS_SLOTS);
	__set_bit(i, chunk->busy);
	if (!chunk->used++)
		pool->empty--;
	if (chunk->used == RNAT_COUNTERS_SLOTS)
		list_del(&chunk->node);
	spin_unlock_bh(&pool->lock);
	return &chunk->block->slot[i];
}

void rnat_counters_put(struct rnat_map_pcpu __percpu *slot)
{
	unsigned long off = (unsigned long)raw_cpu_ptr(slot) &
			    (RNAT_COUNTERS_BLOCK - 1);
	unsigned int i = off / sizeof(struct rnat_map_pcpu);
	struct rnat_counters_block __percpu *block;
	struct rnat_counters_chunk *chunk;
	struct rnat_counters *pool;
	bool free_chunk = false, free_pool = false;
	int cpu;

	/* slot[] is the block's first member. */
	block = (struct rnat_counters_block __percpu *)(slot - i);
	chunk = raw_cpu_ptr(block)->chunk;
	pool = chunk->pool;

	for_each_possible_cpu(cpu) {
		struct rnat_map_pcpu *c = per_cpu_ptr(slot, cpu);

		memset(c, 0, sizeof(*c));
		u64_stats_init(&c->syncp);
	}

	spin_lock_bh(&pool->lock);
	__clear_bit(i, chunk->busy);
	if (chunk->used-- == RNAT_COUNTERS_SLOTS)
		list_add(&chunk->node, &pool->avail);
	if (!chunk->used) {
		if (pool->empty || pool->orphan) {
			list_del(&chunk->node);
			free_chunk = true;
			free_pool = !--pool->chunks && pool->orphan;
		} else {
			pool->empty++;
			list_move_tail(&chunk->node, &pool->avail);
		}
	}
	spin_unlock_bh(&pool->lock);
	if (free_chunk)
		rnat_counters_chunk_free(chunk);
	if (free_pool)
		kfree(pool);
}

void rnat_counters_destroy(struct rnat_counters *pool)
{
	struct rnat_counters_chunk *chunk, *tmp;
	LIST_HEAD(empty);
	bool free_pool;

	spin_lock_bh(&pool->lock);
	pool->orphan = true;
	list_for_each_entry_safe(chunk, tmp, &pool->avail, node) {
		if (chunk->used)
			continue;
		list_move(&chunk->node, &empty);
		pool->chunks--;
		pool->empty--;
	}
	free_pool = !pool->chunks;
	spin_unlock_bh(&pool->lock);
	list_for_each_entry_safe(chunk, tmp, &empty, node)
		rnat_counters_chunk_free(chunk);
	if (free_pool)
		kfree(pool);
}
