// SPDX-License-Identifier: GPL-2.0
/* KUnit: NAT address pools (#included by pool.c). */

#include <kunit/test.h>
#include <linux/inet.h>

static struct rnat_prefix rnat_test_prefix(const char *addr, u8 plen)
{
	return (struct rnat_prefix){ .base = ntohl(in_aton(addr)), .plen = plen };
}

static struct rnat_pool *rnat_test_pool(struct kunit *test,
					const struct rnat_prefix *p,
					unsigned int n)
{
	struct rnat_pool *pool = rnat_pool_create("test", p, n, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	return pool;
}

/* The seed's example: the first prefix given is used first. */
static void rnat_pool_test_lowest_in_given_order(struct kunit *test)
{
	const struct rnat_prefix p[] = {
		rnat_test_prefix("10.162.0.0", 16),
		rnat_test_prefix("10.153.0.0", 16),
	};
	struct rnat_pool *pool = rnat_test_pool(test, p, ARRAY_SIZE(p));
	struct rnat_prefix got;

	KUNIT_EXPECT_EQ(test, pool->size, 131072U);
	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.162.0.0")));
	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.162.0.1")));
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 2U);
	rnat_pool_destroy(pool);
}

static void rnat_pool_test_aligned_blocks(struct kunit *test)
{
	const struct rnat_prefix p = rnat_test_prefix("10.160.0.0", 16);
	struct rnat_pool *pool = rnat_test_pool(test, &p, 1);
	struct rnat_prefix got;

	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 24, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.160.1.0")));
	KUNIT_EXPECT_EQ(test, got.plen, 24);
	/* Singles fill the hole below the block first. */
	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.160.0.1")));
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 258U);
	rnat_pool_destroy(pool);
}

static void rnat_pool_test_claim_release(struct kunit *test)
{
	const struct rnat_prefix p = rnat_test_prefix("10.160.0.0", 16);
	struct rnat_pool *pool = rnat_test_pool(test, &p, 1);
	struct rnat_prefix want = rnat_test_prefix("10.160.0.0", 32);
	struct rnat_prefix block = rnat_test_prefix("10.160.0.0", 30);
	struct rnat_prefix outside = rnat_test_prefix("10.161.0.0", 32);
	struct rnat_prefix got;

	KUNIT_EXPECT_EQ(test, rnat_pool_claim(pool, RNAT_POOL_USED, &want), 0);
	KUNIT_EXPECT_EQ(test, rnat_pool_claim(pool, RNAT_POOL_USED, &want), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_pool_claim(pool, RNAT_POOL_USED, &block), -EEXIST);
	KUNIT_EXPECT_EQ(test, rnat_pool_claim(pool, RNAT_POOL_USED, &outside), -EINVAL);
	rnat_pool_release(pool, RNAT_POOL_USED, &want);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 0U);
	KUNIT_EXPECT_EQ(test, rnat_pool_claim(pool, RNAT_POOL_USED, &block), 0);
	KUNIT_ASSERT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.160.0.4")));
	rnat_pool_destroy(pool);
}

static void rnat_pool_test_exhaustion(struct kunit *test)
{
	const struct rnat_prefix p = rnat_test_prefix("10.160.0.0", 30);
	struct rnat_pool *pool = rnat_test_pool(test, &p, 1);
	struct rnat_prefix got;
	int i;

	KUNIT_EXPECT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 31, &got), 0);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), 0);
	KUNIT_EXPECT_EQ(test, got.base, ntohl(in_aton("10.160.0.3")));
	KUNIT_EXPECT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 32, &got), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rnat_pool_alloc(pool, RNAT_POOL_USED, NULL, 31, &got), -ENOSPC);
	KUNIT_EXPECT_EQ(test, pool->count[RNAT_POOL_USED], 4U);
	rnat_pool_destroy(pool);
}

static void rnat_pool_test_bad_prefixes(struct kunit *test)
{
	const struct rnat_prefix host_bits = rnat_test_prefix("10.160.0.1", 16);
	const struct rnat_prefix overlap[] = {
		rnat_test_prefix("10.160.0.0", 16),
		rnat_test_prefix("10.160.128.0", 17),
	};
	const struct rnat_prefix too_wide = rnat_test_prefix("10.0.0.0", 7);

	KUNIT_EXPECT_TRUE(test, IS_ERR(rnat_pool_create("x", &host_bits, 1, NULL)));
	KUNIT_EXPECT_TRUE(test, IS_ERR(rnat_pool_create("x", overlap, 2, NULL)));
	KUNIT_EXPECT_TRUE(test, IS_ERR(rnat_pool_create("x", &too_wide, 1, NULL)));
	KUNIT_EXPECT_TRUE(test, IS_ERR(rnat_pool_create("x", overlap, 0, NULL)));
}

static struct kunit_case rnat_pool_test_cases[] = {
	KUNIT_CASE(rnat_pool_test_lowest_in_given_order),
	KUNIT_CASE(rnat_pool_test_aligned_blocks),
	KUNIT_CASE(rnat_pool_test_claim_release),
	KUNIT_CASE(rnat_pool_test_exhaustion),
	KUNIT_CASE(rnat_pool_test_bad_prefixes),
	{}
};

static struct kunit_suite rnat_pool_test_suite = {
	.name = "rnat_pool",
	.test_cases = rnat_pool_test_cases,
};

kunit_test_suite(rnat_pool_test_suite);
