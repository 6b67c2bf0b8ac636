// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only, never part of rnat: provokes, once, what tests/vm/run must
 * catch on the debug kernel, so that tests/vm/selftest can check it does.
 *
 *   insmod splat.ko what=leak-rnat   a leak whose backtrace names rnat_
 *   insmod splat.ko what=leak-other  a leak that does not
 *   insmod splat.ko what=lockdep     an AB-BA mutex order (no deadlock)
 *   insmod splat.ko what=odebug      an rcu_head queued twice
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *what = "";
module_param(what, charp, 0444);

/* Where a leaked pointer passes, so that the compiler keeps the kmalloc(). */
static void *splat_sink;

/* Named like rnat's functions: its leak is attributed to rnat. */
static noinline void rnat_splat_leak(void)
{
	WRITE_ONCE(splat_sink, kmalloc(128, GFP_KERNEL));
	WRITE_ONCE(splat_sink, NULL);
}

/*
 * Not the same body as rnat_splat_leak()'s (another size), or GCC folds the
 * two into one and the leak is attributed to rnat after all.
 */
static noinline void splat_leak(void)
{
	WRITE_ONCE(splat_sink, kmalloc(96, GFP_KERNEL));
	WRITE_ONCE(splat_sink, NULL);
}

static DEFINE_MUTEX(splat_a);
static DEFINE_MUTEX(splat_b);

static void splat_lockdep(void)
{
	mutex_lock(&splat_a);
	mutex_lock(&splat_b);
	mutex_unlock(&splat_b);
	mutex_unlock(&splat_a);
	mutex_lock(&splat_b);
	mutex_lock(&splat_a);
	mutex_unlock(&splat_a);
	mutex_unlock(&splat_b);
}

static struct rcu_head splat_head;

static void splat_rcu(struct rcu_head *head)
{
}

/*
 * Not __init: its text stays after loading, so the leaks' backtraces name
 * it. Freed, it would be a bare address, which tests/vm/run counts as a
 * module unloaded since, so as rnat's.
 */
static int splat_init(void)
{
	if (!strcmp(what, "leak-rnat")) {
		rnat_splat_leak();
	} else if (!strcmp(what, "leak-other")) {
		splat_leak();
	} else if (!strcmp(what, "lockdep")) {
		splat_lockdep();
	} else if (!strcmp(what, "odebug")) {
		/* The second call_rcu() is refused and its callback leaked. */
		call_rcu(&splat_head, splat_rcu);
		call_rcu(&splat_head, splat_rcu);
	} else {
		return -EINVAL;
	}
	return 0;
}

static void __exit splat_exit(void)
{
	rcu_barrier();
}

module_init(splat_init);
module_exit(splat_exit);
MODULE_DESCRIPTION("rnat test-only: provokes kernel reports for tests/vm/selftest");
MODULE_LICENSE("GPL");
