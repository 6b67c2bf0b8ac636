/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mappings' per-CPU packet counters, handed out as slots of shared per-CPU
 * chunks: one percpu allocation serves many mappings.
 */

#ifndef _RNAT_COUNTERS_H
#define _RNAT_COUNTERS_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>

struct rnat_counters;
struct rnat_counters_chunk;

/* A mapping's two directions: from its VPN, and into it. */
enum rnat_dir {
	RNAT_DIR_IN,
	RNAT_DIR_OUT,
	RNAT_DIRS
};

/* Per CPU, so that no packet writes a cache line another CPU uses. */
struct rnat_map_pcpu {
	u64_stats_t packets[RNAT_DIRS];
	u64_stats_t bytes[RNAT_DIRS];
	struct u64_stats_sync syncp;
};

/*
 * A chunk's percpu area is this many bytes per CPU, and aligned to it: the
 * slot's offset in it, on any CPU, says which slot it is.
 */
#define RNAT_COUNTERS_BLOCK	2048
#define RNAT_COUNTERS_SLOTS \
	((RNAT_COUNTERS_BLOCK - sizeof(void *)) / sizeof(struct rnat_map_pcpu))

/* One CPU's part of a chunk: the slots, then the way back to the chunk. */
struct rnat_counters_block {
	struct rnat_map_pcpu slot[RNAT_COUNTERS_SLOTS];
	struct rnat_counters_chunk *chunk;	/* the same on every CPU */
};

struct rnat_counters_chunk {
	struct list_head node;		/* in pool->avail while a slot is free */
	struct rnat_counters *pool;
	struct rnat_counters_block __percpu *block;
	unsigned int used;
	DECLARE_BITMAP(busy, RNAT_COUNTERS_SLOTS);
};

/*
 * The slots of one mapping table. Slots are taken in process context and
 * given back from RCU callbacks too: the lock is a BH one. The pool outlives
 * its table while slots are out (mappings waiting for a grace period), and
 * is freed with its last chunk.
 */
struct rnat_counters {
	spinlock_t lock;		/* BH: slots come back from RCU callbacks */
	struct list_head avail;		/* chunks with a free slot, empty last */
	unsigned int chunks;
	unsigned int empty;		/* chunks kept with no slot in use */
	bool orphan;			/* the table is gone */
};

struct rnat_counters *rnat_counters_create(void);
/* The table lets go: the pool goes with the last slot given back. */
void rnat_counters_destroy(struct rnat_counters *pool);
/* Zeroed counters on every CPU, or NULL. */
struct rnat_map_pcpu __percpu *rnat_counters_get(struct rnat_counters *pool);
/* Readers of the counters are done (an RCU grace period has passed). */
void rnat_counters_put(struct rnat_map_pcpu __percpu *slot);

#endif /* _RNAT_COUNTERS_H */
