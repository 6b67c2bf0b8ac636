// SPDX-License-Identifier: GPL-2.0
/* KUnit: the mapping table (#included by table.c). */

#include <kunit/test.h>
#include <linux/inet.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/kthread.h>

#ifndef KUNIT_EXPECT_ADDR_EQ
/* Compares a __be32 with a dotted quad, in host order for readable output. */
#define KUNIT_EXPECT_ADDR_EQ(test, addr, quad) \
	KUNIT_EXPECT_EQ(test, ntohl(addr), ntohl(in_aton(quad)))
#endif

/*
 * A module's suites run before its init function: the suites that need the
 * mapping cache make their own and remove it again before init runs.
 */
static int rnat_table_test_suite_init(struct kunit_suite *suite)
{
	return rnat_table_module_init();
}

static void rnat_table_test_suite_exit(struct kunit_suite *suite)
{
	rnat_table_module_exit();
}

static struct rnat_table *rnat_test_table(struct kunit *test)
{
	struct rnat_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	KUNIT_ASSERT_EQ(test, rnat_table_init(t), 0);
	return t;
}

static struct rnat_map *rnat_test_add(struct kunit *test, struct rnat_table *t,
				      u32 vpn, const char *real,
				      const char *nat, u8 plen)
{
	struct rnat_map *m;

	m = rnat_map_alloc(vpn, in_aton(real), in_aton(nat), plen);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	KUNIT_ASSERT_EQ(test, rnat_table_insert(t, m), 0);
	return m;
}

static void rnat_table_test_both_directions(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m;

	m = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.0.0", 32);
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.0")), m);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.0.0")), m);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.1")), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.0.1")), NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, t->count, 1U);
	rnat_table_destroy(t);
}

static void rnat_table_test_vpns_are_separate(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m1, *m2;

	m1 = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.0.0", 32);
	m2 = rnat_test_add(test, t, 2, "10.1.0.0", "10.162.0.1", 32);
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.0")), m1);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 2, in_aton("10.1.0.0")), m2);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 3, in_aton("10.1.0.0")), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.0.1")), m2);
	rcu_read_unlock();
	rnat_table_destroy(t);
}

static void rnat_table_test_duplicates_rejected(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m;

	rnat_test_add(test, t, 1, "10.1.0.0", "10.162.0.0", 32);
	m = rnat_map_alloc(1, in_aton("10.1.0.0"), in_aton("10.162.0.9"), 32);
	KUNIT_EXPECT_EQ(test, rnat_table_insert(t, m), -EEXIST);
	rnat_map_free(m);
	m = rnat_map_alloc(2, in_aton("10.1.0.9"), in_aton("10.162.0.0"), 32);
	KUNIT_EXPECT_EQ(test, rnat_table_insert(t, m), -EEXIST);
	rnat_map_free(m);
	/* A failed insert leaves nothing behind. */
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 2, in_aton("10.1.0.9")), NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, t->count, 1U);
	rnat_table_destroy(t);
}

static void rnat_table_test_prefix_offsets(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m;

	m = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.1.0", 24);
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.77")), m);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.1.255")), m);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.2.0")), NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_ADDR_EQ(test, rnat_map_to_nat(m, in_aton("10.1.0.77")),
			     "10.162.1.77");
	KUNIT_EXPECT_ADDR_EQ(test, rnat_map_to_real(m, in_aton("10.162.1.255")),
			     "10.1.0.255");
	rnat_table_destroy(t);
}

static void rnat_table_test_most_specific_wins(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *wide, *host;

	wide = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.1.0", 24);
	host = rnat_test_add(test, t, 1, "10.1.0.5", "10.162.9.9", 32);
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.5")), host);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.6")), wide);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.9.9")), host);
	rcu_read_unlock();
	rnat_table_destroy(t);
}

static void rnat_table_test_remove(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m;

	m = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.1.0", 24);
	KUNIT_EXPECT_NE(test, t->plens, 0UL);
	rnat_table_remove(t, m);
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1, in_aton("10.1.0.0")), NULL);
	KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_nat(t, in_aton("10.162.1.0")), NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, t->plens, 0UL);
	KUNIT_EXPECT_EQ(test, t->count, 0U);
	rnat_table_destroy(t);
}

/* Enough entries to make both tables resize several times. */
static void rnat_table_test_many(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	const u32 n = 20000;
	struct rnat_map *m;
	u32 i;

	for (i = 0; i < n; i++) {
		m = rnat_map_alloc(1 + i % 7, htonl(0x0a010000 + i),
				   htonl(0x0a990000 + i), 32);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
		KUNIT_ASSERT_EQ(test, rnat_table_insert(t, m), 0);
	}
	rcu_read_lock();
	for (i = 0; i < n; i++) {
		m = rnat_table_lookup_nat(t, htonl(0x0a990000 + i));
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
		KUNIT_EXPECT_EQ(test, ntohl(m->real.addr), 0x0a010000 + i);
		KUNIT_EXPECT_PTR_EQ(test, rnat_table_lookup_real(t, 1 + i % 7,
								 m->real.addr), m);
	}
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, t->count, n);
	rnat_table_destroy(t);
}

/*
 * Counters: packets (a GSO packet as its segments) and bytes each way;
 * ICMP errors by class; the last-used time.
 */
static void rnat_table_test_counters(struct kunit *test)
{
	struct rnat_table *table = rnat_test_table(test);
	struct sk_buff *skb = alloc_skb(1600, GFP_KERNEL);
	struct rnat_map_totals t;
	struct rnat_map *m;

	m = rnat_test_add(test, table, 1, "10.1.0.0", "10.162.0.0", 32);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, skb);
	rnat_map_totals(m, &t);
	KUNIT_EXPECT_EQ(test, t.last_used, 0UL);
	KUNIT_EXPECT_EQ(test, t.packets[RNAT_DIR_IN] + t.bytes[RNAT_DIR_OUT], 0ULL);

	skb_put(skb, 100);
	local_bh_disable();
	rnat_map_count(m, RNAT_DIR_IN, skb);
	rnat_map_count(m, RNAT_DIR_IN, skb);
	rnat_map_count(m, RNAT_DIR_OUT, skb);
	skb_put(skb, 1400);
	skb_shinfo(skb)->gso_size = 500;
	skb_shinfo(skb)->gso_segs = 3;
	rnat_map_count(m, RNAT_DIR_OUT, skb);
	local_bh_enable();
	rnat_map_count_icmp(m, RNAT_DIR_IN,
			    rnat_icmp_classify(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH));
	rnat_map_count_icmp(m, RNAT_DIR_OUT,
			    rnat_icmp_classify(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED));
	rnat_map_count_icmp(m, RNAT_DIR_OUT,
			    rnat_icmp_classify(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH));
	rnat_map_count_icmp(m, RNAT_DIR_OUT,
			    rnat_icmp_classify(ICMP_TIME_EXCEEDED, 0));
	rnat_map_count_icmp(m, RNAT_DIR_OUT,
			    rnat_icmp_classify(ICMP_PARAMETERPROB, 0));

	rnat_map_totals(m, &t);
	KUNIT_EXPECT_EQ(test, t.packets[RNAT_DIR_IN], 2ULL);
	KUNIT_EXPECT_EQ(test, t.bytes[RNAT_DIR_IN], 200ULL);
	KUNIT_EXPECT_EQ(test, t.packets[RNAT_DIR_OUT], 4ULL);
	KUNIT_EXPECT_EQ(test, t.bytes[RNAT_DIR_OUT], 1600ULL);
	KUNIT_EXPECT_NE(test, t.last_used, 0UL);
	KUNIT_EXPECT_EQ(test, t.icmp[RNAT_DIR_IN][RNAT_ICMP_REFUSED], 1U);
	KUNIT_EXPECT_EQ(test, t.icmp[RNAT_DIR_IN][RNAT_ICMP_UNREACH], 0U);
	KUNIT_EXPECT_EQ(test, t.icmp[RNAT_DIR_OUT][RNAT_ICMP_FRAG_NEEDED], 1U);
	KUNIT_EXPECT_EQ(test, t.icmp[RNAT_DIR_OUT][RNAT_ICMP_UNREACH], 1U);
	KUNIT_EXPECT_EQ(test, t.icmp[RNAT_DIR_OUT][RNAT_ICMP_TIME_EXCEEDED], 1U);
	kfree_skb(skb);
	rnat_table_destroy(table);
}

struct rnat_test_counter {
	struct rnat_map *m;
	struct sk_buff *skb;
	struct completion done;
};

static int rnat_test_counter_fn(void *arg)
{
	struct rnat_test_counter *c = arg;
	int i;

	for (i = 0; i < 100000; i++) {
		local_bh_disable();
		rnat_map_count(c->m, RNAT_DIR_IN, c->skb);
		local_bh_enable();
		/* And from process context, as locally generated packets. */
		rnat_map_count(c->m, RNAT_DIR_OUT, c->skb);
		if (!(i % 1024))
			cond_resched();
	}
	complete(&c->done);
	return 0;
}

/*
 * The counters are exact when every CPU counts on the same mapping at once:
 * one thread per online CPU, bound to it, 100,000 packets each way each.
 */
static void rnat_table_test_counters_exact(struct kunit *test)
{
	struct rnat_table *table = rnat_test_table(test);
	struct sk_buff *skb = alloc_skb(128, GFP_KERNEL);
	struct rnat_test_counter *c;
	struct task_struct *task;
	struct rnat_map_totals t;
	unsigned int n = 0, cpu;
	struct rnat_map *m;

	m = rnat_test_add(test, table, 1, "10.1.0.0", "10.162.0.0", 32);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, skb);
	skb_put(skb, 60);
	c = kunit_kcalloc(test, nr_cpu_ids, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		c[cpu].m = m;
		c[cpu].skb = skb;
		init_completion(&c[cpu].done);
		task = kthread_create_on_cpu(rnat_test_counter_fn, &c[cpu], cpu,
					     "rnat_test_count/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		wake_up_process(task);
		n++;
	}
	cpus_read_unlock();
	for_each_online_cpu(cpu)
		if (c[cpu].skb)
			wait_for_completion(&c[cpu].done);
	rnat_map_totals(m, &t);
	kunit_info(test, "%u CPUs counting at once\n", n);
	KUNIT_EXPECT_EQ(test, t.packets[RNAT_DIR_IN], 100000ULL * n);
	KUNIT_EXPECT_EQ(test, t.packets[RNAT_DIR_OUT], 100000ULL * n);
	KUNIT_EXPECT_EQ(test, t.bytes[RNAT_DIR_IN], 6000000ULL * n);
	KUNIT_EXPECT_EQ(test, t.bytes[RNAT_DIR_OUT], 6000000ULL * n);
	kfree_skb(skb);
	rnat_table_destroy(table);
}

/*
 * The table goes while a mapping waits for its grace period: the mapping
 * is freed after it all the same (kmemleak would tell).
 */
static void rnat_table_test_release_outlives_table(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_map *m1, *m2;

	m1 = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.0.0", 32);
	m2 = rnat_test_add(test, t, 1, "10.1.0.1", "10.162.0.1", 32);
	rnat_table_remove(t, m1);
	rnat_table_destroy(t);
	rcu_barrier();
	KUNIT_EXPECT_PTR_NE(test, m1, m2);
}

struct rnat_test_reader {
	struct rnat_table *t;
	__be32 nat;
	unsigned long lookups;
	unsigned long misses;
};

static int rnat_test_reader_fn(void *arg)
{
	struct rnat_test_reader *r = arg;

	while (!kthread_should_stop()) {
		rcu_read_lock();
		if (!rnat_table_lookup_nat(r->t, r->nat))
			r->misses++;
		rcu_read_unlock();
		if (!(++r->lookups % 256))
			cond_resched();
	}
	return 0;
}

/*
 * A lookup running beside replacements of the only mapping of its length
 * always finds the old mapping or the new one. The new one used to be
 * counted after the old one was uncounted: for a moment no mapping of the
 * length was in use and lookups skipped it.
 */
static void rnat_table_test_replace_never_misses(struct kunit *test)
{
	struct rnat_table *t = rnat_test_table(test);
	struct rnat_test_reader r = { .t = t, .nat = in_aton("10.162.0.0") };
	struct task_struct *reader;
	struct rnat_map *cur, *m;
	int i;

	cur = rnat_test_add(test, t, 1, "10.1.0.0", "10.162.0.0", 32);
	reader = kthread_run(rnat_test_reader_fn, &r, "rnat_test_reader");
	KUNIT_ASSERT_FALSE(test, IS_ERR(reader));
	for (i = 1; i <= 20000; i++) {
		m = rnat_map_alloc(1, htonl(0x0a010000 + i % 2), r.nat, 32);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
		KUNIT_ASSERT_EQ(test, rnat_table_replace(t, m, NULL, cur), 0);
		rnat_map_release(cur);
		cur = m;
		if (!(i % 64))
			cond_resched();
	}
	kthread_stop(reader);
	kunit_info(test, "%lu lookups beside 20000 replacements, %lu missed\n",
		   r.lookups, r.misses);
	KUNIT_EXPECT_EQ(test, r.misses, 0UL);
	KUNIT_EXPECT_EQ(test, t->count, 1U);
	rcu_barrier();
	rnat_table_destroy(t);
}

static struct kunit_case rnat_table_test_cases[] = {
	KUNIT_CASE(rnat_table_test_both_directions),
	KUNIT_CASE(rnat_table_test_vpns_are_separate),
	KUNIT_CASE(rnat_table_test_duplicates_rejected),
	KUNIT_CASE(rnat_table_test_prefix_offsets),
	KUNIT_CASE(rnat_table_test_most_specific_wins),
	KUNIT_CASE(rnat_table_test_remove),
	KUNIT_CASE(rnat_table_test_replace_never_misses),
	KUNIT_CASE(rnat_table_test_many),
	KUNIT_CASE(rnat_table_test_counters),
	KUNIT_CASE(rnat_table_test_counters_exact),
	KUNIT_CASE(rnat_table_test_release_outlives_table),
	{}
};

static struct kunit_suite rnat_table_test_suite = {
	.name = "rnat_table",
	.suite_init = rnat_table_test_suite_init,
	.suite_exit = rnat_table_test_suite_exit,
	.test_cases = rnat_table_test_cases,
};

kunit_test_suite(rnat_table_test_suite);
