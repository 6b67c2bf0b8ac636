// SPDX-License-Identifier: GPL-2.0
/* KUnit: the configuration rules (#included by cfg.c). */

#include <kunit/test.h>
#include <linux/inet.h>

#ifndef KUNIT_EXPECT_ADDR_EQ
/* Compares a __be32 with a dotted quad, in host order for readable output. */
#define KUNIT_EXPECT_ADDR_EQ(test, addr, quad) \
	KUNIT_EXPECT_EQ(test, ntohl(addr), ntohl(in_aton(quad)))
#endif

/* The suite runs before module init: it brings the mapping cache itself. */
static int rnat_cfg_test_suite_init(struct kunit_suite *suite)
{
	return rnat_table_module_init();
}

static void rnat_cfg_test_suite_exit(struct kunit_suite *suite)
{
	rnat_table_module_exit();
}

/* A VPN on device @ifindex, without marks. */
static int rnat_test_vpn_add(struct rnat_cfg *cfg, u32 id, const char *name,
			     const char *pool, int ifindex,
			     struct netlink_ext_ack *extack)
{
	struct rnat_vpn_link link = { .ifindex = ifindex };

	return rnat_cfg_vpn_add(cfg, id, name, pool, &link, extack);
}

/* Gives VPN @id device @ifindex and ingress mark @value/0xff. */
static int rnat_test_link(struct rnat_cfg *cfg, u32 id, int ifindex,
			  u32 value)
{
	struct rnat_vpn_link link = {
		.ifindex = ifindex,
		.mark = { .value = value, .mask = value ? 0xff : 0 },
	};

	return rnat_cfg_vpn_set_link(cfg, rnat_cfg_vpn(cfg, id), &link, NULL);
}

static struct rnat_cfg *rnat_test_cfg(struct kunit *test)
{
	const struct rnat_prefix east[] = {
		{ .base = ntohl(in_aton("10.153.0.0")), .plen = 16 },
		{ .base = ntohl(in_aton("10.157.0.0")), .plen = 16 },
		{ .base = ntohl(in_aton("10.162.0.0")), .plen = 16 },
		{ .base = ntohl(in_aton("10.155.0.0")), .plen = 16 },
	};
	const struct rnat_prefix can = {
		.base = ntohl(in_aton("10.160.0.0")), .plen = 16,
	};
	struct rnat_cfg *cfg = rnat_cfg_alloc();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cfg);
	KUNIT_ASSERT_EQ(test, rnat_cfg_pool_add(cfg, "AWS_USA_EAST_1", east,
						ARRAY_SIZE(east), NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_cfg_pool_add(cfg, "AWS_CAN_CENTRAL", &can, 1,
						NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 1, "acme", "AWS_USA_EAST_1",
						11, NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 2, NULL, "AWS_USA_EAST_1",
						12, NULL), 0);
	return cfg;
}

static u32 rnat_test_used(struct rnat_cfg *cfg)
{
	return rnat_cfg_pool(cfg, "AWS_USA_EAST_1")->count[RNAT_POOL_USED];
}

/* Maps real address 10.1.0.@i in @vpn automatically; returns the NAT IP. */
static u32 rnat_test_auto(struct kunit *test, struct rnat_cfg *cfg, u32 vpn,
			  u8 i)
{
	struct rnat_map *m;

	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, vpn, htonl(0x0a010000 + i),
					       32, NULL, &m, NULL), 0);
	return ntohl(m->nat) & 0xffff;
}

static unsigned int rnat_test_nblocks(struct rnat_vpn *vpn)
{
	return list_count_nodes(&vpn->blocks);
}

/* Two VPNs reuse 10.1.0.0 and get distinct NAT IPs. */
static void rnat_cfg_test_seed_example(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_map *m1, *m2;

	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.0"), 32,
					       NULL, &m1, NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       NULL, &m2, NULL), 0);
	KUNIT_EXPECT_ADDR_EQ(test, m1->nat, "10.153.0.0");
	KUNIT_EXPECT_ADDR_EQ(test, m2->nat, "10.153.0.1");
	KUNIT_EXPECT_STREQ(test, rnat_cfg_vpn(cfg, 2)->name, "vpn2");
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 2U);
	rnat_cfg_free(cfg);
}

static void rnat_cfg_test_conflicts(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	__be32 nat = in_aton("10.162.0.1");
	__be32 can = in_aton("10.160.0.1");
	__be32 foreign = in_aton("192.168.0.1");

	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.0"), 32,
					       &nat, NULL, NULL), 0);
	/* The same real address twice in a VPN. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.0"), 32,
					       NULL, NULL, NULL), -EEXIST);
	/* A NAT IP already taken by another VPN. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       &nat, NULL, NULL), -EEXIST);
	/* NAT IPs outside the VPN's pool. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       &can, NULL, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       &foreign, NULL, NULL), -EINVAL);
	/* Host bits past the prefix length. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.1"), 24,
					       NULL, NULL, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 9, in_aton("10.1.0.1"), 32,
					       NULL, NULL, NULL), -ENOENT);
	/* None of the failures took an address. */
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 1U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 2)->nmaps, 0U);
	rnat_cfg_free(cfg);
}

static void rnat_cfg_test_pool_rules(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	const struct rnat_prefix inside = {
		.base = ntohl(in_aton("10.162.128.0")), .plen = 17,
	};

	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_add(cfg, "OTHER", &inside, 1, NULL),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_add(cfg, "AWS_CAN_CENTRAL", &inside,
						1, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_add(cfg, "a b", &inside, 1, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_add(cfg, "", &inside, 1, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 7, "x\ty", "AWS_CAN_CENTRAL",
						17, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_del(cfg, "AWS_USA_EAST_1", NULL),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_del(cfg, "AWS_CAN_CENTRAL", NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool_del(cfg, "AWS_CAN_CENTRAL", NULL),
			-ENOENT);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_pool_of(cfg, ntohl(in_aton("10.155.3.4"))),
			    rnat_cfg_pool(cfg, "AWS_USA_EAST_1"));
	rnat_cfg_free(cfg);
}

static void rnat_cfg_test_vpn_rules(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);

	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 1, "x", "AWS_CAN_CENTRAL",
						13, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 3, "acme", "AWS_CAN_CENTRAL",
						13, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 3, "y", "AWS_CAN_CENTRAL",
						11, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 3, "y", "NOPE", 13, NULL),
			-ENOENT);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 12),
			    rnat_cfg_vpn(cfg, 2));
	KUNIT_EXPECT_EQ(test, cfg->nvpns, 2U);
	/* Names are unique across renames and deletions. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_rename(cfg, rnat_cfg_vpn(cfg, 1),
						  "zeta", NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 3, "acme", "AWS_CAN_CENTRAL",
						13, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_rename(cfg, rnat_cfg_vpn(cfg, 2),
						  "zeta", NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_rename(cfg, rnat_cfg_vpn(cfg, 2),
						  "vpn2", NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 4, "zeta", "AWS_CAN_CENTRAL",
						14, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 5, "acme", "AWS_CAN_CENTRAL",
						15, NULL), -EEXIST);
	rnat_cfg_free(cfg);
}

#define RNAT_TEST_DROP U32_MAX

/*
 * Which VPN a packet arriving on @ifindex with @mark belongs to: 0 none,
 * RNAT_TEST_DROP if it must be dropped (fenced).
 */
static u32 rnat_test_in(struct rnat_cfg *cfg, int ifindex, u32 mark)
{
	struct rnat_vpn *vpn;

	rcu_read_lock();
	vpn = rnat_cfg_vpn_in(cfg, ifindex, mark);
	rcu_read_unlock();
	if (vpn == RNAT_VPN_FENCED)
		return RNAT_TEST_DROP;
	return vpn ? vpn->id : 0;
}

/*
 * VPNs 1 and 2 share device 20, told apart by marks 0x10 and 0x20 under
 * mask 0xff; the device carries other traffic too. VPN 3 keeps device 13.
 */
static void rnat_cfg_test_marks_share_device(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_vpn_link link = { .ifindex = 20 };
	struct rnat_vpn *vpn3;

	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 3, NULL, "AWS_CAN_CENTRAL",
						13, NULL), 0);
	vpn3 = rnat_cfg_vpn(cfg, 3);
	KUNIT_ASSERT_EQ(test, rnat_test_link(cfg, 1, 20, 0x10), 0);
	KUNIT_ASSERT_EQ(test, rnat_test_link(cfg, 2, 20, 0x20), 0);
	KUNIT_EXPECT_TRUE(test, rnat_dev_shared(rnat_cfg_dev(cfg, 20)));
	/* Their old devices are fenced. */
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 11), RNAT_DEV_FENCED);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 12), RNAT_DEV_FENCED);
	KUNIT_EXPECT_EQ(test, cfg->mark_mask, 0xffU);

	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x10), 1U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0xabc20), 2U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0), 0U);
	/* A mark under the mask that no VPN of the device has: dropped. */
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x30), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x100), 0U);
	/* A mark counts only on its VPN's device... */
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 21, 0x10), 0U);
	/* ...and a device that is one VPN's is its, whatever the mark. */
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 13, 0x10), 3U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 13, 0), 3U);

	/* Rules: one mask, one VPN per mark, shared or own device. */
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 3, 20, 0x10), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 3, 20, 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 1, 13, 0x10), -EEXIST);
	link.mark = (struct rnat_mark){ .value = 0x300, .mask = 0xf00 };
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_set_link(cfg, vpn3, &link, NULL),
			-EINVAL);
	link.mark = (struct rnat_mark){ .value = 0x130, .mask = 0xff };
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_set_link(cfg, vpn3, &link, NULL),
			-EINVAL);
	/* Nothing of the refused changes stuck. */
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 13, 0x10), 3U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x10), 1U);
	KUNIT_EXPECT_EQ(test, cfg->nmarked, 2U);
	KUNIT_EXPECT_EQ(test, xa_to_value(rnat_cfg_dev(cfg, 20)), 2UL);

	/* VPN 3 joins device 20 with a mark; its own device is fenced. */
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 3, 20, 0x30), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x30), 3U);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 13), RNAT_DEV_FENCED);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 13, 0), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, xa_to_value(rnat_cfg_dev(cfg, 20)), 3UL);
	/* VPN 2 changes its mark, then leaves for a device of its own. */
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 2, 20, 0x40), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x20), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x40), 2U);
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 2, 12, 0), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x40), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 12, 0x40), 2U);
	KUNIT_EXPECT_EQ(test, cfg->nmarked, 2U);

	/* The device goes: both its VPNs lose it, the others stay. */
	rnat_cfg_dev_gone(cfg, 20, NULL, NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 20), NULL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 1)->link.ifindex, 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 3)->link.ifindex, 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 1)->link.mark.value, 0x10U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 12, 0), 2U);
	/* A VPN alone on a device may drop its mark; then the device is its. */
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 1, 20, 0x10), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_link(cfg, 1, 20, 0), 0);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 20), rnat_cfg_vpn(cfg, 1));
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x10), 1U);
	/* The last marked VPN sets the mask; deleting VPNs frees the rest. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 3, NULL), 0);
	KUNIT_EXPECT_EQ(test, cfg->nmarked, 0U);
	KUNIT_EXPECT_TRUE(test, xa_empty(&cfg->vpn_by_mark));
	rnat_cfg_free(cfg);
}

static void rnat_cfg_test_vpn_del_takes_mappings(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_map *m;
	int i;

	for (i = 0; i < 10; i++)
		KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1 + i % 2,
						       htonl(0x0a010000 + i), 32,
						       NULL, NULL, NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.2.0.0"), 24,
					       NULL, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 1, NULL), 6);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_vpn(cfg, 1), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(cfg, 11), RNAT_DEV_FENCED);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 5U);
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 5U);
	rcu_read_lock();
	m = rnat_table_lookup_real(&cfg->table, 2, htonl(0x0a010001));
	rcu_read_unlock();
	KUNIT_EXPECT_PTR_NE(test, m, NULL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 1, NULL), -ENOENT);
	rnat_cfg_free(cfg);
}

/*
 * Interleaved VPNs: each new block is as large as the VPN's blocks so far,
 * and a VPN fills its own blocks before it takes another.
 */
static void rnat_cfg_test_blocks_grow(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	const u32 want1[] = { 0, 2, 4, 5, 8, 9, 10, 11, 16 };
	const u32 want2[] = { 1, 3 };
	struct rnat_block *b;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 1, i), want1[i]);
		KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 2, i), want2[i]);
	}
	for (; i < ARRAY_SIZE(want1); i++)
		KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 1, i), want1[i]);
	/* .0/32 .2/32 .4/31 .8/30 .16/29: one route per block. */
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(rnat_cfg_vpn(cfg, 1)), 5U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 1)->held, 16U);
	b = list_last_entry(&rnat_cfg_vpn(cfg, 1)->blocks, struct rnat_block,
			    node);
	KUNIT_EXPECT_EQ(test, b->pfx.base, ntohl(in_aton("10.153.0.16")));
	KUNIT_EXPECT_EQ(test, b->pfx.plen, 29);
	KUNIT_EXPECT_EQ(test, b->used, 1U);
	rnat_cfg_free(cfg);
}

/* A VPN alone in its pool ends with one block, however many IPs it has. */
static void rnat_cfg_test_blocks_merge(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_vpn *vpn;
	struct rnat_block *b;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 3, NULL, "AWS_CAN_CENTRAL",
						13, NULL), 0);
	vpn = rnat_cfg_vpn(cfg, 3);
	for (i = 0; i < 200; i++)
		KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 3, i), i);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(vpn), 1U);
	b = list_first_entry(&vpn->blocks, struct rnat_block, node);
	KUNIT_EXPECT_EQ(test, b->pfx.base, ntohl(in_aton("10.160.0.0")));
	KUNIT_EXPECT_EQ(test, b->pfx.plen, 24);
	KUNIT_EXPECT_EQ(test, b->used, 200U);
	rnat_cfg_free(cfg);
}

/*
 * An explicit NAT IP inside another VPN's block is refused; a free one
 * becomes a block of its own; a block goes back to the pool with its last
 * mapping.
 */
static void rnat_cfg_test_blocks_explicit(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_pool *pool = rnat_cfg_pool(cfg, "AWS_USA_EAST_1");
	__be32 nat = in_aton("10.153.0.1");
	__be32 far = in_aton("10.162.0.1");
	struct rnat_map *m;
	unsigned int i;

	for (i = 0; i < 2; i++)
		rnat_test_auto(test, cfg, 1, i);
	/* VPN 1 holds 10.153.0.0/31, 10.153.0.1 free but not VPN 2's. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       &nat, NULL, NULL), -EEXIST);
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 32,
					       &far, &m, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(rnat_cfg_vpn(cfg, 2)), 1U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 3U);
	/* Its block is full: the next one is the pool's lowest free address. */
	KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 2, 1), 2U);
	rnat_cfg_map_del(cfg, m);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(rnat_cfg_vpn(cfg, 2)), 1U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 3U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 1, NULL), 2);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 1U);
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 1U);
	rnat_cfg_free(cfg);
}

/* Maps 10.1.0.@i in VPN 1 to NAT @nat in new block @block/@plen. */
static int rnat_test_in_block(struct rnat_cfg *cfg, u8 i, const char *nat,
			      const char *block, u8 plen)
{
	struct rnat_prefix b = { .base = ntohl(in_aton(block)), .plen = plen };
	__be32 addr = in_aton(nat);

	return rnat_cfg_map_add_in(cfg, 1, htonl(0x0a010000 + i), 32, &addr,
				   &b, NULL, NULL);
}

/*
 * A NAT IP given with its new block (as rnatd replays a region's choices):
 * the whole block is the VPN's, the next automatic NAT IP comes from it, it
 * merges with its buddy; a block that does not hold the NAT IP or overlaps
 * a taken one, or a NAT IP already in a block of the VPN, is refused and
 * changes nothing.
 */
static void rnat_cfg_test_blocks_given(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_pool *pool = rnat_cfg_pool(cfg, "AWS_USA_EAST_1");
	struct rnat_vpn *vpn = rnat_cfg_vpn(cfg, 1);
	struct rnat_block *b;

	KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 2, 0), 0U);
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 0, "10.153.0.8",
						 "10.153.0.8", 30), 0);
	KUNIT_EXPECT_EQ(test, vpn->held, 4U);
	KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 1, 1), 9U);
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 2, "10.153.0.20",
						 "10.153.0.16", 31), -EINVAL);
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 2, "10.153.0.4",
						 "10.153.0.0", 29), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 2, "10.153.0.10",
						 "10.153.0.8", 30), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 2, "10.153.1.0",
						 "10.153.1.0", 7), -EINVAL);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 5U);
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 3U);
	KUNIT_EXPECT_EQ(test, vpn->nmaps, 2U);
	/* .8/30 and .12/30 are buddies: one /29. */
	KUNIT_EXPECT_EQ(test, rnat_test_in_block(cfg, 2, "10.153.0.12",
						 "10.153.0.12", 30), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(vpn), 1U);
	b = list_first_entry(&vpn->blocks, struct rnat_block, node);
	KUNIT_EXPECT_EQ(test, b->pfx.base, ntohl(in_aton("10.153.0.8")));
	KUNIT_EXPECT_EQ(test, b->pfx.plen, 29);
	KUNIT_EXPECT_EQ(test, b->used, 3U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 9U);
	rnat_cfg_free(cfg);
}

/* Looks up NAT address @quad as the packet path does. */
static struct rnat_map *rnat_test_by_nat(struct rnat_cfg *cfg,
					 const char *quad)
{
	struct rnat_map *m;

	rcu_read_lock();
	m = rnat_table_lookup_nat(&cfg->table, in_aton(quad));
	rcu_read_unlock();
	return m;
}

/* Replacing gives a mapped real address another NAT IP, in its own block. */
static void rnat_cfg_test_replace_moves_nat(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_pool *pool = rnat_cfg_pool(cfg, "AWS_USA_EAST_1");
	__be32 nat = in_aton("10.162.0.5");
	struct rnat_map *m, *gone[2];

	rnat_test_auto(test, cfg, 1, 0);
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.0"),
						   32, &nat, &m, gone, NULL), 1);
	KUNIT_EXPECT_ADDR_EQ(test, m->nat, "10.162.0.5");
	KUNIT_ASSERT_NOT_NULL(test, gone[0]);
	KUNIT_EXPECT_ADDR_EQ(test, gone[0]->nat, "10.153.0.0");
	KUNIT_EXPECT_PTR_EQ(test, gone[1], NULL);
	rnat_map_release(gone[0]);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.153.0.0"), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.162.0.5"), m);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 1U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 1)->nmaps, 1U);
	/* The old block went back to the pool, the new one is the VPN's. */
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 1U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 1U);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(rnat_cfg_vpn(cfg, 1)), 1U);
	rnat_cfg_free(cfg);
}

/*
 * A NAT IP can be given to another real address of its VPN: both old
 * mappings go in one step (the renumbered host keeps its NAT IP).
 */
static void rnat_cfg_test_replace_takes_nat(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	__be32 nat = in_aton("10.153.0.0");
	struct rnat_map *m, *gone[2], *r;

	rnat_test_auto(test, cfg, 1, 0);	/* 10.1.0.0 -> .0 */
	rnat_test_auto(test, cfg, 1, 5);	/* 10.1.0.5 -> .1 */
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.5"),
						   32, &nat, &m, gone, NULL), 1);
	KUNIT_ASSERT_NOT_NULL(test, gone[0]);
	KUNIT_ASSERT_NOT_NULL(test, gone[1]);
	KUNIT_EXPECT_ADDR_EQ(test, gone[0]->real.addr, "10.1.0.5");
	KUNIT_EXPECT_ADDR_EQ(test, gone[1]->real.addr, "10.1.0.0");
	rnat_map_release(gone[0]);
	rnat_map_release(gone[1]);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.153.0.0"), m);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.153.0.1"), NULL);
	rcu_read_lock();
	r = rnat_table_lookup_real(&cfg->table, 1, in_aton("10.1.0.0"));
	rcu_read_unlock();
	KUNIT_EXPECT_PTR_EQ(test, r, NULL);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 1U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 1)->nmaps, 1U);
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 1U);
	rnat_cfg_free(cfg);
}

/* A replace that changes nothing says so; one that cannot changes nothing. */
static void rnat_cfg_test_replace_noop_and_refused(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	__be32 nat = in_aton("10.153.0.0"), other = in_aton("10.153.0.1");
	struct rnat_map *m, *out, *gone[2];

	rnat_test_auto(test, cfg, 1, 0);	/* 10.1.0.0 -> .0 */
	rnat_test_auto(test, cfg, 2, 0);	/* 10.1.0.0 -> .1 */
	m = rnat_test_by_nat(cfg, "10.153.0.0");
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.0"),
						   32, &nat, &out, gone, NULL), 0);
	KUNIT_EXPECT_PTR_EQ(test, out, m);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.0"),
						   32, NULL, &out, gone, NULL), 0);
	KUNIT_EXPECT_PTR_EQ(test, out, m);
	/* Without a NAT IP a new real address is simply added. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.9"),
						   32, NULL, &out, gone, NULL), 1);
	KUNIT_EXPECT_PTR_EQ(test, gone[0], NULL);
	KUNIT_EXPECT_PTR_EQ(test, gone[1], NULL);
	/* VPN 2's NAT IP is not VPN 1's to take. */
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.0"),
						   32, &other, &out, gone, NULL),
			-EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.153.0.0"), m);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 3U);
	KUNIT_EXPECT_EQ(test, rnat_test_used(cfg), 3U);
	rnat_cfg_free(cfg);
}

/* A flush empties one VPN, blocks included, and leaves the VPN. */
static void rnat_cfg_test_map_flush(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_pool *pool = rnat_cfg_pool(cfg, "AWS_USA_EAST_1");
	struct rnat_vpn *vpn = rnat_cfg_vpn(cfg, 1);
	int i;

	for (i = 0; i < 10; i++)
		rnat_test_auto(test, cfg, 1 + i % 2, i);
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.2.0.0"), 24,
					       NULL, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_flush(cfg, vpn), 6U);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_vpn(cfg, 1), vpn);
	KUNIT_EXPECT_EQ(test, vpn->nmaps, 0U);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(vpn), 0U);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 5U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 5U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED],
			rnat_cfg_vpn(cfg, 2)->held);
	/* The VPN starts again from the pool's lowest free address. */
	KUNIT_EXPECT_EQ(test, rnat_test_auto(test, cfg, 1, 0), 0U);
	rnat_cfg_free(cfg);
}

/* Counts @packets of 100 bytes each way, and an ICMP error, on @m. */
static void rnat_test_traffic(struct kunit *test, struct rnat_map *m,
			      u64 packets)
{
	int d;

	for (d = 0; d < RNAT_DIRS; d++) {
		atomic64_add(packets, &m->packets[d]);
		atomic64_add(100 * packets, &m->bytes[d]);
		KUNIT_ASSERT_TRUE(test, rnat_map_count_icmp(m, d,
							    RNAT_ICMP_REFUSED));
	}
	WRITE_ONCE(m->last_used, jiffies ?: 1);
}

/*
 * A VPN's totals never go back: what a deleted, replaced or flushed mapping
 * counted stays in the VPN's departed counters; another VPN's stay apart.
 */
static void rnat_cfg_test_departed(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_vpn *vpn = rnat_cfg_vpn(cfg, 1);
	__be32 nat = in_aton("10.153.0.0");
	struct rnat_map *m, *gone[2];

	rnat_test_auto(test, cfg, 1, 0);	/* 10.1.0.0 -> .0 */
	rnat_test_auto(test, cfg, 1, 5);	/* 10.1.0.5 -> .1 */
	rnat_test_auto(test, cfg, 2, 0);	/* VPN 2's: -> .2 */
	rnat_test_traffic(test, rnat_test_by_nat(cfg, "10.153.0.0"), 1);
	rnat_test_traffic(test, rnat_test_by_nat(cfg, "10.153.0.1"), 10);
	rnat_test_traffic(test, rnat_test_by_nat(cfg, "10.153.0.2"), 1000);
	KUNIT_EXPECT_EQ(test, vpn->departed.packets[RNAT_DIR_IN], 0ULL);
	KUNIT_EXPECT_EQ(test, vpn->departed.last_used, 0UL);

	/* 10.1.0.5 takes .0: both old mappings go in one step. */
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_replace(cfg, 1, in_aton("10.1.0.5"),
						   32, &nat, &m, gone, NULL), 1);
	rnat_map_release(gone[0]);
	rnat_map_release(gone[1]);
	KUNIT_EXPECT_EQ(test, vpn->departed.packets[RNAT_DIR_IN], 11ULL);
	KUNIT_EXPECT_EQ(test, vpn->departed.bytes[RNAT_DIR_OUT], 1100ULL);
	KUNIT_EXPECT_EQ(test, vpn->departed.icmp[RNAT_DIR_IN][RNAT_ICMP_REFUSED],
			2U);
	KUNIT_EXPECT_NE(test, vpn->departed.last_used, 0UL);

	rnat_test_traffic(test, m, 100);
	rnat_cfg_map_del(cfg, m);
	KUNIT_EXPECT_EQ(test, vpn->departed.packets[RNAT_DIR_OUT], 111ULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.153.0.0"), NULL);

	rnat_test_traffic(test, rnat_test_by_nat(cfg, "10.153.0.2"), 1);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_flush(cfg, rnat_cfg_vpn(cfg, 2)), 1U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn(cfg, 2)->departed.packets[RNAT_DIR_IN],
			1001ULL);
	KUNIT_EXPECT_EQ(test, vpn->departed.packets[RNAT_DIR_IN], 111ULL);
	rnat_cfg_free(cfg);
}

/*
 * Fail closed: a device whose VPN is deleted, moved or replaced by a restore
 * stays fenced (every packet dropped) until it is unregistered or a VPN
 * takes it; a shared device keeps dropping the marks under the mask.
 */
static void rnat_cfg_test_fences(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test), *new;

	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 3, NULL, "AWS_CAN_CENTRAL",
						20, NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_test_link(cfg, 3, 20, 0x10), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 11, 0), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 3, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0), 0U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x10), RNAT_TEST_DROP);
	/* Re-created on the same device: it is the VPN's again. */
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 1, NULL, "AWS_CAN_CENTRAL",
						11, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 11, 0), 1U);
	/* A VPN without a mark may take a shared device nobody uses. */
	KUNIT_EXPECT_EQ(test, rnat_test_vpn_add(cfg, 4, NULL, "AWS_CAN_CENTRAL",
						20, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0), 4U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 4, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(cfg, 20, 0x100), RNAT_TEST_DROP);
	/* VPN 6 shares device 22 alone, and goes. */
	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 6, NULL, "AWS_CAN_CENTRAL",
						0, NULL), 0);
	KUNIT_ASSERT_EQ(test, rnat_test_link(cfg, 6, 22, 0x20), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 6, NULL), 0);

	/* A restore without them keeps the devices of the old state fenced. */
	new = rnat_test_cfg(test);
	KUNIT_EXPECT_EQ(test, rnat_test_link(new, 2, 13, 0), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_fence_carry(new, cfg), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 11, 0), 1U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 12, 0), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 13, 0), 2U);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 20, 0x100), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 22, 0x20), RNAT_TEST_DROP);
	KUNIT_EXPECT_EQ(test, rnat_test_in(new, 22, 0x100), 0U);

	/* Unregistered: the entry goes, a new device of the index is free. */
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev_gone(new, 12, NULL, NULL),
			    RNAT_DEV_FENCED);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev(new, 12), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_cfg_dev_gone(new, 12, NULL, NULL),
			    NULL);
	rnat_cfg_free(new);
	rnat_cfg_free(cfg);
}

/*
 * VPN 5 of pool AWS_CAN_CENTRAL with two reserved, empty blocks, as a
 * restore makes them: 10.160.0.0/24 and @second/24.
 */
static struct rnat_vpn *rnat_test_vpn5(struct kunit *test,
				       struct rnat_cfg *cfg, const char *second)
{
	struct rnat_prefix blocks[] = {
		{ .base = ntohl(in_aton("10.160.0.0")), .plen = 24 },
		{ .base = ntohl(in_aton(second)), .plen = 24 },
	};
	struct rnat_vpn *vpn;
	int i;

	KUNIT_ASSERT_EQ(test, rnat_test_vpn_add(cfg, 5, NULL, "AWS_CAN_CENTRAL",
						15, NULL), 0);
	vpn = rnat_cfg_vpn(cfg, 5);
	for (i = 0; i < ARRAY_SIZE(blocks); i++)
		KUNIT_ASSERT_EQ(test, rnat_cfg_vpn_block_add(cfg, vpn, &blocks[i],
							     NULL), 0);
	return vpn;
}

/*
 * A VPN whose first block is empty (reserved by a restore) and a mapping in
 * its second: deleting the VPN takes the mapping too. It used to stay in
 * the tables under the deleted VPN.
 */
static void rnat_cfg_test_flush_empty_first_block(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	__be32 nat = in_aton("10.160.2.7");

	rnat_test_vpn5(test, cfg, "10.160.2.0");
	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 5, in_aton("10.9.0.1"), 32,
					       &nat, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_vpn_del(cfg, 5, NULL), 1);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 0U);
	KUNIT_EXPECT_PTR_EQ(test, rnat_test_by_nat(cfg, "10.160.2.7"), NULL);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool(cfg, "AWS_CAN_CENTRAL")->count[RNAT_POOL_USED],
			0U);
	KUNIT_EXPECT_EQ(test, rnat_cfg_pool(cfg, "AWS_CAN_CENTRAL")->count[RNAT_POOL_OWNED],
			0U);
	rnat_cfg_free(cfg);
}

/* Puts a mapping in the table behind the configuration's back. */
static void rnat_test_plant(struct kunit *test, struct rnat_cfg *cfg,
			    const char *nat, u8 plen)
{
	struct rnat_map *m;

	m = rnat_map_alloc(99, in_aton("10.99.0.0"), in_aton(nat), plen);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	KUNIT_ASSERT_EQ(test, rnat_table_insert(&cfg->table, m), 0);
}

/*
 * A map add that fails at its last step (the table refuses the insertion)
 * leaves the blocks as they were: a reserved empty block stays, and a new
 * block neither stays nor has grown into its reserved neighbour.
 */
static void rnat_cfg_test_failed_add_undone(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);
	struct rnat_pool *pool = rnat_cfg_pool(cfg, "AWS_CAN_CENTRAL");
	__be32 nat = in_aton("10.160.0.9"), nat24 = in_aton("10.160.2.0");
	struct rnat_vpn *vpn = rnat_test_vpn5(test, cfg, "10.160.3.0");

	rnat_test_plant(test, cfg, "10.160.0.9", 32);
	rnat_test_plant(test, cfg, "10.160.2.0", 24);

	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 5, in_aton("10.9.0.1"), 32,
					       &nat, NULL, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 5, in_aton("10.9.1.0"), 24,
					       &nat24, NULL, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_test_nblocks(vpn), 2U);
	KUNIT_EXPECT_EQ(test, vpn->held, 512U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_OWNED], 512U);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 0U);
	KUNIT_EXPECT_EQ(test, vpn->nmaps, 0U);
	KUNIT_EXPECT_PTR_EQ(test, rnat_block_of(cfg, ntohl(in_aton("10.160.2.0"))),
			    NULL);
	rnat_cfg_free(cfg);
}

/* A VPN's real prefixes do not overlap: an address has one NAT IP. */
static void rnat_cfg_test_real_overlap(struct kunit *test)
{
	struct rnat_cfg *cfg = rnat_test_cfg(test);

	KUNIT_ASSERT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.0"), 24,
					       NULL, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.5"), 32,
					       NULL, NULL, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.0.0"), 16,
					       NULL, NULL, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.5"), 32,
					       NULL, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 2, in_aton("10.1.0.0"), 24,
					       NULL, NULL, NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_cfg_map_add(cfg, 1, in_aton("10.1.1.0"), 24,
					       NULL, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, cfg->table.count, 3U);
	rnat_cfg_free(cfg);
}

static struct kunit_case rnat_cfg_test_cases[] = {
	KUNIT_CASE(rnat_cfg_test_seed_example),
	KUNIT_CASE(rnat_cfg_test_conflicts),
	KUNIT_CASE(rnat_cfg_test_pool_rules),
	KUNIT_CASE(rnat_cfg_test_vpn_rules),
	KUNIT_CASE(rnat_cfg_test_marks_share_device),
	KUNIT_CASE(rnat_cfg_test_vpn_del_takes_mappings),
	KUNIT_CASE(rnat_cfg_test_blocks_grow),
	KUNIT_CASE(rnat_cfg_test_blocks_merge),
	KUNIT_CASE(rnat_cfg_test_blocks_explicit),
	KUNIT_CASE(rnat_cfg_test_blocks_given),
	KUNIT_CASE(rnat_cfg_test_replace_moves_nat),
	KUNIT_CASE(rnat_cfg_test_replace_takes_nat),
	KUNIT_CASE(rnat_cfg_test_replace_noop_and_refused),
	KUNIT_CASE(rnat_cfg_test_map_flush),
	KUNIT_CASE(rnat_cfg_test_departed),
	KUNIT_CASE(rnat_cfg_test_fences),
	KUNIT_CASE(rnat_cfg_test_flush_empty_first_block),
	KUNIT_CASE(rnat_cfg_test_failed_add_undone),
	KUNIT_CASE(rnat_cfg_test_real_overlap),
	{}
};

static struct kunit_suite rnat_cfg_test_suite = {
	.name = "rnat_cfg",
	.suite_init = rnat_cfg_test_suite_init,
	.suite_exit = rnat_cfg_test_suite_exit,
	.test_cases = rnat_cfg_test_cases,
};

kunit_test_suite(rnat_cfg_test_suite);
