// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration model: pools, VPNs and mappings, and the rules between
 * them. Every function here either succeeds completely or leaves the
 * configuration as it found it, with an extack message saying why.
 */

#include <linux/netlink.h>
#include <linux/stringhash.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cfg.h"
#include "compat.h"

static struct workqueue_struct *rnat_cfg_wq;

int rnat_cfg_module_init(void)
{
	rnat_cfg_wq = alloc_workqueue("rnat_cfg", 0, 0);
	return rnat_cfg_wq ? 0 : -ENOMEM;
}

void rnat_cfg_module_exit(void)
{
	rcu_barrier();		/* queue_rcu_work() waits through call_rcu() */
	destroy_workqueue(rnat_cfg_wq);	/* drains it */
}

struct rnat_cfg *rnat_cfg_alloc(void)
{
	struct rnat_cfg *cfg;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return NULL;
	if (rnat_table_init(&cfg->table)) {
		kfree(cfg);
		return NULL;
	}
	INIT_LIST_HEAD(&cfg->pools);
	xa_init(&cfg->vpns);
	xa_init(&cfg->vpn_by_dev);
	xa_init(&cfg->vpn_by_mark);
	hash_init(cfg->vpn_names);
	mt_init(&cfg->blocks);
	return cfg;
}

void rnat_cfg_free(struct rnat_cfg *cfg)
{
	struct rnat_pool *pool, *tmp;
	struct rnat_block *b;
	struct rnat_vpn *vpn;
	unsigned long id;

	rnat_table_destroy(&cfg->table);
	id = 0;
	mt_for_each(&cfg->blocks, b, id, ULONG_MAX)
		kfree(b);
	mtree_destroy(&cfg->blocks);
	xa_for_each(&cfg->vpns, id, vpn)
		kfree(vpn);
	xa_destroy(&cfg->vpns);
	xa_destroy(&cfg->vpn_by_dev);
	kvfree(rcu_dereference_protected(cfg->dev_tab, true));
	xa_destroy(&cfg->vpn_by_mark);
	list_for_each_entry_safe(pool, tmp, &cfg->pools, list)
		rnat_pool_destroy(pool);
	kfree(cfg);
}

static void rnat_cfg_free_work(struct work_struct *work)
{
	rnat_cfg_free(container_of(to_rcu_work(work), struct rnat_cfg,
				   free_work));
}

void rnat_cfg_free_later(struct rnat_cfg *cfg)
{
	INIT_RCU_WORK(&cfg->free_work, rnat_cfg_free_work);
	queue_rcu_work(rnat_cfg_wq, &cfg->free_work);
}

/*
 * Names appear in text output, as one word of a command that can be read
 * back: no spaces, quotes or control characters, and no leading '#' (which
 * starts a comment there).
 */
static bool rnat_name_valid(const char *name, const char *what,
			    struct netlink_ext_ack *extack)
{
	const char *c;

	if (!*name) {
		NL_SET_ERR_MSG_FMT(extack, "%s name is empty", what);
		return false;
	}
	if (*name == '#') {
		NL_SET_ERR_MSG_FMT(extack, "%s name cannot begin with '#'", what);
		return false;
	}
	for (c = name; *c; c++) {
		if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\') {
			NL_SET_ERR_MSG_FMT(extack, "%s name has a character names cannot use",
					   what);
			return false;
		}
	}
	return true;
}

struct rnat_pool *rnat_cfg_pool(struct rnat_cfg *cfg, const char *name)
{
	struct rnat_pool *pool;

	list_for_each_entry(pool, &cfg->pools, list)
		if (!strcmp(pool->name, name))
			return pool;
	return NULL;
}

struct rnat_pool *rnat_cfg_pool_of(struct rnat_cfg *cfg, u32 addr)
{
	struct rnat_prefix p = { .base = addr, .plen = 32 };
	struct rnat_pool *pool;

	list_for_each_entry(pool, &cfg->pools, list)
		if (rnat_pool_find(pool, &p))
			return pool;
	return NULL;
}

int rnat_cfg_pool_add(struct rnat_cfg *cfg, const char *name,
		      const struct rnat_prefix *prefixes, unsigned int n,
		      struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool, *other;
	unsigned int i, j;

	if (!rnat_name_valid(name, "pool", extack))
		return -EINVAL;
	if (rnat_cfg_pool(cfg, name)) {
		NL_SET_ERR_MSG_FMT(extack, "pool %s already exists", name);
		return -EEXIST;
	}
	pool = rnat_pool_create(name, prefixes, n, extack);
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	list_for_each_entry(other, &cfg->pools, list) {
		for (i = 0; i < other->nprefixes; i++) {
			const struct rnat_prefix *o = &other->prefixes[i].pfx;

			for (j = 0; j < n; j++) {
				if (!rnat_prefix_overlap(o, &prefixes[j]))
					continue;
				NL_SET_ERR_MSG_FMT(extack,
						   "%pI4h/%u overlaps %pI4h/%u of pool %s",
						   &prefixes[j].base, prefixes[j].plen,
						   &o->base, o->plen, other->name);
				rnat_pool_destroy(pool);
				return -EEXIST;
			}
		}
	}
	list_add_tail(&pool->list, &cfg->pools);
	return 0;
}

int rnat_cfg_pool_del(struct rnat_cfg *cfg, const char *name,
		      struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool = rnat_cfg_pool(cfg, name);

	if (!pool) {
		NL_SET_ERR_MSG_FMT(extack, "no pool %s", name);
		return -ENOENT;
	}
	if (pool->nvpns) {
		NL_SET_ERR_MSG_FMT(extack, "pool %s is used by %u VPNs (%u addresses mapped)",
				   name, pool->nvpns, pool->count[RNAT_POOL_USED]);
		return -EBUSY;
	}
	list_del(&pool->list);
	rnat_pool_destroy(pool);
	return 0;
}

static u32 rnat_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static bool rnat_cfg_vpn_name_used(struct rnat_cfg *cfg, const char *name)
{
	struct rnat_vpn *vpn;

	hash_for_each_possible(cfg->vpn_names, vpn, name_node,
			       rnat_name_hash(name))
		if (!strcmp(vpn->name, name))
			return true;
	return false;
}

static bool rnat_mark_valid(const struct rnat_mark *m, const char *what,
			    struct netlink_ext_ack *extack)
{
	if (m->value & ~m->mask) {
		NL_SET_ERR_MSG_FMT(extack, "%s 0x%x has bits outside its mask 0x%x",
				   what, m->value, m->mask);
		return false;
	}
	return true;
}

/* Whether @vpn may take @link's ingress mark and device; says why not. */
static int rnat_cfg_link_check(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			       const struct rnat_vpn_link *link,
			       struct netlink_ext_ack *extack)
{
	bool marked = link->mark.mask;
	struct rnat_vpn *other;
	void *dev;

	if (!rnat_mark_valid(&link->mark, "mark", extack) ||
	    !rnat_mark_valid(&link->out_mark, "egress mark", extack))
		return -EINVAL;
	if (marked && !link->mark.value) {
		NL_SET_ERR_MSG(extack, "mark 0 would match unmarked packets: use a non-zero mark");
		return -EINVAL;
	}
	if (marked && cfg->nmarked > !!vpn->link.mark.mask &&
	    link->mark.mask != cfg->mark_mask) {
		NL_SET_ERR_MSG_FMT(extack, "VPN marks are told apart under mask 0x%x, not 0x%x",
				   cfg->mark_mask, link->mark.mask);
		return -EINVAL;
	}
	other = marked ? xa_load(&cfg->vpn_by_mark, link->mark.value) : NULL;
	if (other && other != vpn) {
		NL_SET_ERR_MSG_FMT(extack, "mark 0x%x/0x%x already belongs to VPN %u",
				   link->mark.value, link->mark.mask, other->id);
		return -EEXIST;
	}
	dev = link->ifindex ? rnat_cfg_dev(cfg, link->ifindex) : NULL;
	if (!dev || dev == vpn || dev == RNAT_DEV_FENCED)
		return 0;
	if (!rnat_dev_shared(dev)) {
		other = dev;
		NL_SET_ERR_MSG_FMT(extack, "device %d already belongs to VPN %u%s",
				   link->ifindex, other->id,
				   marked ? ", which has no mark" : "");
		return -EEXIST;
	}
	/* Shared: fine for a marked VPN, or if @vpn is its only user. */
	if (!marked && xa_to_value(dev) &&
	    !(vpn->link.ifindex == link->ifindex && xa_to_value(dev) == 1)) {
		NL_SET_ERR_MSG_FMT(extack,
				   "device %d is shared by VPNs with marks: VPN %u needs one",
				   link->ifindex, vpn->id);
		return -EEXIST;
	}
	return 0;
}

/*
 * The device entry @ifindex holds for its users after @vpn starts (@delta 1,
 * with or without a mark) or stops (-1) using it. A device a VPN leaves is
 * fenced, never free: only its unregistration ends the entry.
 */
static void *rnat_dev_entry(void *dev, struct rnat_vpn *vpn, bool marked,
			    int delta)
{
	unsigned long n = rnat_dev_shared(dev) ? xa_to_value(dev) : 0;

	if (!marked)
		return delta > 0 ? vpn : RNAT_DEV_FENCED;
	return xa_mk_value(n + delta);
}

void *rnat_cfg_dev_walk(struct rnat_cfg *cfg, int ifindex)
{
	XA_STATE(xas, &cfg->vpn_by_dev, ifindex);
	void *entry;

	do {
		entry = xas_load(&xas);
		if (xa_is_zero(entry))
			entry = NULL;
	} while (xas_retry(&xas, entry));
	return entry;
}

struct rnat_vpn *rnat_cfg_vpn_by_mark(struct rnat_cfg *cfg, int ifindex,
				      u32 mark)
{
	struct rnat_vpn *vpn;

	mark &= READ_ONCE(cfg->mark_mask);
	vpn = xa_load(&cfg->vpn_by_mark, mark);
	if (vpn && READ_ONCE(vpn->link.ifindex) == ifindex)
		return vpn;
	return mark ? RNAT_VPN_FENCED : NULL;
}

int rnat_cfg_dev_reserve(struct rnat_cfg *cfg, int ifindex)
{
	struct rnat_dev_tab *old, *tab;
	unsigned int len;

	/* Writers hold the namespace's mutex, or build an unpublished cfg. */
	old = rcu_dereference_protected(cfg->dev_tab, true);
	if (ifindex >= RNAT_DEV_TAB_MAX || (old && ifindex < old->len))
		return 0;
	len = max_t(unsigned int, roundup_pow_of_two(ifindex + 1), 64);
	tab = kvzalloc(struct_size(tab, entry, len), GFP_KERNEL_ACCOUNT);
	if (!tab)
		return -ENOMEM;
	tab->len = len;
	if (old)
		memcpy(tab->entry, old->entry, old->len * sizeof(void *));
	rcu_assign_pointer(cfg->dev_tab, tab);
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

static void rnat_cfg_dev_tab_set(struct rnat_cfg *cfg, int ifindex,
				 void *entry)
{
	struct rnat_dev_tab *tab = rcu_dereference_protected(cfg->dev_tab,
							     true);

	if (tab && ifindex < tab->len)
		/* After what it points to, as rcu_assign_pointer(). */
		smp_store_release(&tab->entry[ifindex], entry);
}

int rnat_cfg_dev_store(struct rnat_cfg *cfg, int ifindex, void *entry)
{
	int err;

	err = rnat_cfg_dev_reserve(cfg, ifindex);
	if (!err)
		err = xa_err(xa_store(&cfg->vpn_by_dev, ifindex, entry,
				      GFP_KERNEL_ACCOUNT));
	if (!err)
		rnat_cfg_dev_tab_set(cfg, ifindex, entry);
	return err;
}

void rnat_cfg_dev_erase(struct rnat_cfg *cfg, int ifindex)
{
	xa_erase(&cfg->vpn_by_dev, ifindex);
	rnat_cfg_dev_tab_set(cfg, ifindex, NULL);
}

int rnat_cfg_vpn_set_link(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			  const struct rnat_vpn_link *link,
			  struct netlink_ext_ack *extack)
{
	bool was_marked = vpn->link.mark.mask, marked = link->mark.mask;
	bool new_mark = marked && (!was_marked ||
				   link->mark.value != vpn->link.mark.value);
	u32 old_mask = cfg->mark_mask;
	int old = vpn->link.ifindex, err;
	void *dev;

	err = rnat_cfg_link_check(cfg, vpn, link, extack);
	if (err)
		return err;
	/* Its mask is the namespace's if no other VPN has a mark. */
	if (marked && cfg->nmarked == was_marked)
		WRITE_ONCE(cfg->mark_mask, link->mark.mask);
	/* First what may fail (allocations), then what cannot. */
	if (new_mark) {
		err = xa_insert(&cfg->vpn_by_mark, link->mark.value, vpn,
				GFP_KERNEL_ACCOUNT);
		if (err)
			goto undo_mask;
	}
	if (link->ifindex && link->ifindex != old) {
		dev = rnat_cfg_dev(cfg, link->ifindex);
		err = rnat_cfg_dev_store(cfg, link->ifindex,
					 rnat_dev_entry(dev, vpn, marked, 1));
		if (err)
			goto undo_mark;
	} else if (link->ifindex && marked != was_marked) {
		/* Its own device, now shared with nobody yet, or no more. */
		rnat_cfg_dev_store(cfg, old, marked ? xa_mk_value(1) : vpn);
	}
	if (old && old != link->ifindex) {
		/* Overwrites an entry: allocates nothing. */
		dev = rnat_cfg_dev(cfg, old);
		rnat_cfg_dev_store(cfg, old,
				   rnat_dev_entry(dev, vpn, was_marked, -1));
	}
	if (was_marked && (!marked || new_mark))
		xa_erase(&cfg->vpn_by_mark, vpn->link.mark.value);
	cfg->nmarked += (int)marked - (int)was_marked;
	WRITE_ONCE(vpn->link.ifindex, link->ifindex);
	vpn->link.mark = link->mark;
	WRITE_ONCE(vpn->link.out_mark, link->out_mark);
	return 0;

undo_mark:
	if (new_mark)
		xa_erase(&cfg->vpn_by_mark, link->mark.value);
undo_mask:
	WRITE_ONCE(cfg->mark_mask, old_mask);
	return err;
}

void *rnat_cfg_dev_gone(struct rnat_cfg *cfg, int ifindex,
			void (*changed)(void *arg, struct rnat_vpn *vpn),
			void *arg)
{
	struct rnat_vpn_link link;
	struct rnat_vpn *vpn;
	unsigned long id;
	void *dev;

	dev = rnat_cfg_dev(cfg, ifindex);
	if (!dev)
		return NULL;
	xa_for_each(&cfg->vpns, id, vpn) {
		if (vpn->link.ifindex != ifindex)
			continue;
		link = vpn->link;
		link.ifindex = 0;
		/* Letting go of a device allocates nothing: cannot fail. */
		WARN_ON_ONCE(rnat_cfg_vpn_set_link(cfg, vpn, &link, NULL));
		if (changed)
			changed(arg, vpn);
		if (!rnat_dev_shared(dev))
			break;
	}
	/* No packet can use the index any more: the fence goes too. */
	rnat_cfg_dev_erase(cfg, ifindex);
	return dev;
}

int rnat_cfg_fence_carry(struct rnat_cfg *new, struct rnat_cfg *old)
{
	unsigned long ifindex;
	void *dev;
	int err;

	/* Room first, so that nothing is half done when memory runs out. */
	xa_for_each(&old->vpn_by_dev, ifindex, dev) {
		if (rnat_cfg_dev(new, ifindex))
			continue;
		err = rnat_cfg_dev_reserve(new, ifindex);
		if (!err)
			err = xa_reserve(&new->vpn_by_dev, ifindex,
					 GFP_KERNEL_ACCOUNT);
		if (err) {
			/* Releases only what is still a bare reservation. */
			xa_for_each(&old->vpn_by_dev, ifindex, dev)
				xa_release(&new->vpn_by_dev, ifindex);
			return err;
		}
	}
	xa_for_each(&old->vpn_by_dev, ifindex, dev) {
		if (rnat_cfg_dev(new, ifindex))
			continue;
		rnat_cfg_dev_store(new, ifindex, rnat_dev_shared(dev) ?
				   xa_mk_value(0) : RNAT_DEV_FENCED);
	}
	/* A shared device's fence drops the marks under the old mask. */
	if (!new->nmarked)
		new->mark_mask = old->mark_mask;
	return 0;
}

int rnat_cfg_vpn_rename(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			const char *name, struct netlink_ext_ack *extack)
{
	if (!rnat_name_valid(name, "VPN", extack))
		return -EINVAL;
	if (strcmp(vpn->name, name) && rnat_cfg_vpn_name_used(cfg, name)) {
		NL_SET_ERR_MSG_FMT(extack, "VPN name %s is already used", name);
		return -EEXIST;
	}
	hash_del(&vpn->name_node);
	strscpy(vpn->name, name, sizeof(vpn->name));
	hash_add(cfg->vpn_names, &vpn->name_node, rnat_name_hash(vpn->name));
	return 0;
}

int rnat_cfg_vpn_add(struct rnat_cfg *cfg, u32 id, const char *name,
		     const char *pool_name, const struct rnat_vpn_link *link,
		     struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool;
	struct rnat_vpn *vpn;
	int err;

	if (name && !rnat_name_valid(name, "VPN", extack))
		return -EINVAL;
	if (rnat_cfg_vpn(cfg, id)) {
		NL_SET_ERR_MSG_FMT(extack, "VPN %u already exists", id);
		return -EEXIST;
	}
	pool = rnat_cfg_pool(cfg, pool_name);
	if (!pool) {
		NL_SET_ERR_MSG_FMT(extack, "no pool %s", pool_name);
		return -ENOENT;
	}
	vpn = kzalloc(sizeof(*vpn), GFP_KERNEL_ACCOUNT);
	if (!vpn)
		return -ENOMEM;
	vpn->id = id;
	vpn->pool = pool;
	INIT_LIST_HEAD(&vpn->blocks);
	if (name)
		strscpy(vpn->name, name, sizeof(vpn->name));
	else
		snprintf(vpn->name, sizeof(vpn->name), "vpn%u", id);
	if (rnat_cfg_vpn_name_used(cfg, vpn->name)) {
		NL_SET_ERR_MSG_FMT(extack, "VPN name %s is already used",
				   vpn->name);
		kfree(vpn);
		return -EEXIST;
	}

	err = xa_insert(&cfg->vpns, id, vpn, GFP_KERNEL_ACCOUNT);
	if (err) {
		kfree(vpn);
		return err;
	}
	err = rnat_cfg_vpn_set_link(cfg, vpn, link, extack);
	if (err) {
		xa_erase(&cfg->vpns, id);
		/* The packet path may have found it by id meanwhile. */
		kfree_rcu(vpn, rcu);
		return err;
	}
	hash_add(cfg->vpn_names, &vpn->name_node, rnat_name_hash(vpn->name));
	pool->nvpns++;
	cfg->nvpns++;
	return 0;
}

/* Whether @p may become a new block of a VPN of @pool: free, in the pool. */
static int rnat_cfg_block_check(struct rnat_cfg *cfg, struct rnat_pool *pool,
				const struct rnat_prefix *p,
				struct netlink_ext_ack *extack)
{
	struct rnat_block *b;
	s64 owned;

	if (!rnat_prefix_valid(p) || !rnat_pool_find(pool, p)) {
		NL_SET_ERR_MSG_FMT(extack, "block %pI4h/%u is not a prefix of pool %s",
				   &p->base, p->plen, pool->name);
		return -EINVAL;
	}
	owned = rnat_pool_first_set(pool, RNAT_POOL_OWNED, p);
	if (owned >= 0) {
		b = rnat_block_of(cfg, owned);
		NL_SET_ERR_MSG_FMT(extack, "block %pI4h/%u overlaps block %pI4h/%u of VPN %u",
				   &p->base, p->plen, &b->pfx.base, b->pfx.plen,
				   b->vpn->id);
		return -EEXIST;
	}
	return 0;
}

int rnat_cfg_vpn_block_add(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
			   const struct rnat_prefix *p,
			   struct netlink_ext_ack *extack)
{
	struct rnat_block *b;
	int err;

	err = rnat_cfg_block_check(cfg, vpn->pool, p, extack);
	if (err)
		return err;
	err = rnat_pool_claim(vpn->pool, RNAT_POOL_OWNED, p);
	if (err)
		return err;
	b = rnat_block_add(cfg, vpn, p);
	if (IS_ERR(b)) {
		rnat_pool_release(vpn->pool, RNAT_POOL_OWNED, p);
		return PTR_ERR(b);
	}
	rnat_block_merge(cfg, b);
	return 0;
}

/*
 * Every mapping of @vpn lies in its blocks, and every address of a block
 * that is used in the pool is one of its mappings'. Blocks may be empty
 * (reserved by a restore): each is searched.
 */
unsigned int rnat_cfg_map_flush(struct rnat_cfg *cfg, struct rnat_vpn *vpn)
{
	struct rnat_block *b, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(b, tmp, &vpn->blocks, node) {
		struct rnat_prefix pfx = b->pfx;
		u32 used = b->used;	/* b goes with its last mapping */

		while (used) {
			s64 addr = rnat_pool_first_set(vpn->pool,
						       RNAT_POOL_USED, &pfx);
			struct rnat_map *m = NULL;

			if (addr >= 0) {
				rcu_read_lock();
				m = rnat_table_lookup_nat(&cfg->table,
							  htonl(addr));
				rcu_read_unlock();
			}
			if (WARN_ON_ONCE(!m || m->real.vpn_id != vpn->id))
				break;
			used -= rnat_prefix_size(&(struct rnat_prefix){
				.plen = rnat_map_plen(m) });
			rnat_cfg_map_del(cfg, m);
			n++;
		}
	}
	WARN_ON_ONCE(vpn->nmaps);
	rnat_block_flush(cfg, vpn);
	return n;
}

int rnat_cfg_vpn_del(struct rnat_cfg *cfg, u32 id,
		     struct netlink_ext_ack *extack)
{
	struct rnat_vpn *vpn = rnat_cfg_vpn(cfg, id);
	unsigned int n;

	if (!vpn) {
		NL_SET_ERR_MSG_FMT(extack, "no VPN %u", id);
		return -ENOENT;
	}
	WRITE_ONCE(vpn->dead, true);
	n = rnat_cfg_map_flush(cfg, vpn);
	/* Its device stays fenced: see rnat_dev_entry(). */
	rnat_cfg_vpn_set_link(cfg, vpn, &(struct rnat_vpn_link){}, NULL);
	xa_erase(&cfg->vpns, id);
	hash_del(&vpn->name_node);
	vpn->pool->nvpns--;
	cfg->nvpns--;
	kfree_rcu(vpn, rcu);
	return n;
}

/* Names the mapping that already holds part of @p, for error messages. */
static void rnat_cfg_nat_owner(struct rnat_cfg *cfg, struct rnat_pool *pool,
			       const struct rnat_prefix *p,
			       struct netlink_ext_ack *extack)
{
	__be32 nat = htonl(rnat_pool_first_set(pool, RNAT_POOL_USED, p));
	struct rnat_map *m;

	rcu_read_lock();
	m = rnat_table_lookup_nat(&cfg->table, nat);
	rcu_read_unlock();
	if (m)
		NL_SET_ERR_MSG_FMT(extack, "NAT %pI4 is already mapped to %pI4 in VPN %u",
				   &nat, &m->real.addr, m->real.vpn_id);
	else
		NL_SET_ERR_MSG_FMT(extack, "NAT %pI4 is already in use", &nat);
}

/*
 * Takes @p, given by the operator, for @vpn: inside one of its blocks, or
 * free (*@created: a new block, not merged with its neighbours yet): @p
 * alone, or @block (if not NULL), a free prefix of the pool that holds it.
 */
static struct rnat_block *rnat_cfg_nat_claim(struct rnat_cfg *cfg,
					     struct rnat_vpn *vpn,
					     const struct rnat_prefix *p,
					     const struct rnat_prefix *block,
					     bool *created,
					     struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool = vpn->pool, *other;
	struct rnat_block *b;
	s64 owned;
	int err;

	if (!rnat_pool_find(pool, p)) {
		other = rnat_cfg_pool_of(cfg, p->base);
		NL_SET_ERR_MSG_FMT(extack, "NAT %pI4h/%u is not in pool %s%s%s",
				   &p->base, p->plen, pool->name,
				   other ? " but in " : "",
				   other ? other->name : "");
		return ERR_PTR(-EINVAL);
	}
	owned = rnat_pool_first_set(pool, RNAT_POOL_OWNED, p);
	if (owned < 0) {
		/* Nobody's yet: it becomes a block of its own, or @block. */
		if (block) {
			if (!rnat_prefix_contains(block, p)) {
				NL_SET_ERR_MSG_FMT(extack, "block %pI4h/%u does not hold %pI4h/%u",
						   &block->base, block->plen,
						   &p->base, p->plen);
				return ERR_PTR(-EINVAL);
			}
			err = rnat_cfg_block_check(cfg, pool, block, extack);
			if (err)
				return ERR_PTR(err);
			p = block;
		}
		err = rnat_pool_claim(pool, RNAT_POOL_OWNED, p);
		if (err)
			return ERR_PTR(err);
		b = rnat_block_add(cfg, vpn, p);
		if (IS_ERR(b))
			rnat_pool_release(pool, RNAT_POOL_OWNED, p);
		*created = !IS_ERR(b);
		return b;
	}
	b = rnat_block_of(cfg, owned);
	if (WARN_ON_ONCE(!b))
		return ERR_PTR(-EEXIST);
	if (block && b->vpn == vpn) {
		NL_SET_ERR_MSG_FMT(extack, "NAT %pI4h is already in block %pI4h/%u of VPN %u",
				   &p->base, &b->pfx.base, b->pfx.plen,
				   vpn->id);
		return ERR_PTR(-EEXIST);
	}
	if (b->vpn != vpn) {
		if (rnat_pool_first_set(pool, RNAT_POOL_USED, p) >= 0)
			rnat_cfg_nat_owner(cfg, pool, p, extack);
		else
			NL_SET_ERR_MSG_FMT(extack, "NAT %pI4h is in block %pI4h/%u of VPN %u",
					   &p->base, &b->pfx.base, b->pfx.plen,
					   b->vpn->id);
		return ERR_PTR(-EEXIST);
	}
	if (!rnat_prefix_contains(&b->pfx, p)) {
		NL_SET_ERR_MSG_FMT(extack, "NAT %pI4h/%u straddles the edge of block %pI4h/%u",
				   &p->base, p->plen, &b->pfx.base, b->pfx.plen);
		return ERR_PTR(-EEXIST);
	}
	return b;
}

/*
 * The lowest free /@plen in @vpn's blocks, growing them if they are full
 * (*@created: a new block, not merged with its neighbours yet).
 */
static struct rnat_block *rnat_cfg_nat_alloc(struct rnat_cfg *cfg,
					     struct rnat_vpn *vpn, u8 plen,
					     struct rnat_prefix *p,
					     bool *created,
					     struct netlink_ext_ack *extack)
{
	struct rnat_pool *pool = vpn->pool;
	struct rnat_prefix want = { .plen = plen };
	u32 nr = rnat_prefix_size(&want);
	struct rnat_block *b;

	list_for_each_entry(b, &vpn->blocks, node) {
		if (rnat_prefix_size(&b->pfx) - b->used < nr)
			continue;
		if (!rnat_pool_alloc(pool, RNAT_POOL_USED, &b->pfx, plen, p))
			return b;
	}
	b = rnat_block_grow(cfg, vpn, plen);
	if (IS_ERR(b)) {
		if (PTR_ERR(b) == -ENOSPC)
			NL_SET_ERR_MSG_FMT(extack, "pool %s has no free /%u left",
					   pool->name, plen);
		return b;
	}
	if (WARN_ON_ONCE(rnat_pool_alloc(pool, RNAT_POOL_USED, &b->pfx, plen, p))) {
		rnat_block_del(cfg, b);
		return ERR_PTR(-ENOSPC);
	}
	*created = true;
	return b;
}

/*
 * A mapping of @vpn_id whose real prefix overlaps @real/@plen with another
 * length, or NULL: a VPN's real prefixes never overlap, or an address would
 * have two NAT IPs. One lookup per shorter length in use, and one per
 * sub-prefix of each longer one (at most 2^16: mappings are /16 or longer);
 * a gateway of /32 mappings only does none.
 */
static struct rnat_map *rnat_cfg_real_overlap(struct rnat_cfg *cfg,
					      u32 vpn_id, __be32 real,
					      u8 plen)
{
	unsigned long plens = cfg->table.plens;
	struct rnat_map *m;
	unsigned int slot;
	u32 i;

	for_each_set_bit(slot, &plens, RNAT_PLEN_SLOTS) {
		u8 other = 32 - slot;

		if (other == plen)
			continue;
		if (other < plen) {
			m = rnat_table_find_real(&cfg->table, vpn_id, real,
						 other);
			if (m)
				return m;
			continue;
		}
		for (i = 0; i < BIT(other - plen); i++) {
			m = rnat_table_find_real(&cfg->table, vpn_id,
						 real | htonl(i << (32 - other)),
						 other);
			if (m)
				return m;
			if (!(i % 1024))
				cond_resched();
		}
	}
	return NULL;
}

/* The VPN a MAP_NEW names, once its prefixes are known to be well formed. */
static struct rnat_vpn *rnat_cfg_map_check(struct rnat_cfg *cfg, u32 vpn_id,
					   __be32 real, u8 plen,
					   const __be32 *nat,
					   struct netlink_ext_ack *extack)
{
	struct rnat_vpn *vpn = rnat_cfg_vpn(cfg, vpn_id);
	struct rnat_map *m;

	if (!vpn) {
		NL_SET_ERR_MSG_FMT(extack, "no VPN %u", vpn_id);
		return ERR_PTR(-ENOENT);
	}
	if (real & ~rnat_plen_mask(plen)) {
		NL_SET_ERR_MSG_FMT(extack, "real prefix %pI4/%u has host bits set",
				   &real, plen);
		return ERR_PTR(-EINVAL);
	}
	if (nat && (*nat & ~rnat_plen_mask(plen))) {
		NL_SET_ERR_MSG_FMT(extack, "NAT prefix %pI4/%u has host bits set",
				   nat, plen);
		return ERR_PTR(-EINVAL);
	}
	m = rnat_cfg_real_overlap(cfg, vpn_id, real, plen);
	if (m) {
		NL_SET_ERR_MSG_FMT(extack, "%pI4/%u overlaps %pI4/%u, mapped in VPN %u to %pI4",
				   &real, plen, &m->real.addr, rnat_map_plen(m),
				   vpn_id, &m->nat);
		return ERR_PTR(-EEXIST);
	}
	return vpn;
}

/*
 * Gives back NAT prefix @p, taken for a mapping that could not be made, as
 * if it had never been taken: a reserved empty block stays, a new one goes.
 */
static void rnat_cfg_nat_untake(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				struct rnat_block *b,
				const struct rnat_prefix *p, bool created)
{
	rnat_pool_release(vpn->pool, RNAT_POOL_USED, p);
	b->used -= rnat_prefix_size(p);
	if (created)
		rnat_block_del(cfg, b);
}

/*
 * Takes the NAT prefix @p, named by the operator, for a mapping of @vpn (in
 * new block @block if not NULL: see rnat_cfg_nat_claim()).
 */
static struct rnat_block *rnat_cfg_nat_take(struct rnat_cfg *cfg,
					    struct rnat_vpn *vpn,
					    const struct rnat_prefix *p,
					    const struct rnat_prefix *block,
					    bool *created,
					    struct netlink_ext_ack *extack)
{
	struct rnat_block *b;
	int err;

	b = rnat_cfg_nat_claim(cfg, vpn, p, block, created, extack);
	if (IS_ERR(b))
		return b;
	err = rnat_pool_claim(vpn->pool, RNAT_POOL_USED, p);
	if (err) {
		rnat_cfg_nat_owner(cfg, vpn->pool, p, extack);
		if (*created)
			rnat_block_del(cfg, b);
		return ERR_PTR(err);
	}
	b->used += rnat_prefix_size(p);
	return b;
}

/* Gives back what a mapping of @vpn held in its pool and blocks. */
/*
 * @m leaves @vpn: its counters stay in the VPN's. A packet a reader is
 * still translating with it may be counted after this, and is lost.
 */
static void rnat_cfg_map_retire(struct rnat_vpn *vpn, const struct rnat_map *m)
{
	rnat_map_totals_add(&vpn->departed, m);
	vpn->nmaps--;
}

static void rnat_cfg_map_unaccount(struct rnat_cfg *cfg, struct rnat_vpn *vpn,
				   const struct rnat_map *m)
{
	struct rnat_prefix p = {
		.base = ntohl(m->nat),
		.plen = rnat_map_plen(m),
	};
	struct rnat_block *b = rnat_block_of(cfg, p.base);

	rnat_pool_release(vpn->pool, RNAT_POOL_USED, &p);
	if (!WARN_ON_ONCE(!b))
		rnat_block_put(cfg, b, rnat_prefix_size(&p));
	rnat_cfg_map_retire(vpn, m);
}

int rnat_cfg_map_add_in(struct rnat_cfg *cfg, u32 vpn_id, __be32 real,
			u8 plen, const __be32 *nat,
			const struct rnat_prefix *block, struct rnat_map **out,
			struct netlink_ext_ack *extack)
{
	struct rnat_prefix p = { .plen = plen };
	bool created = false;
	struct rnat_block *b;
	struct rnat_vpn *vpn;
	struct rnat_map *m;
	int err;

	vpn = rnat_cfg_map_check(cfg, vpn_id, real, plen, nat, extack);
	if (IS_ERR(vpn))
		return PTR_ERR(vpn);
	m = rnat_table_find_real(&cfg->table, vpn_id, real, plen);
	if (m) {
		NL_SET_ERR_MSG_FMT(extack, "%pI4/%u is already mapped in VPN %u to %pI4",
				   &real, plen, vpn_id, &m->nat);
		return -EEXIST;
	}

	if (nat) {
		p.base = ntohl(*nat);
		b = rnat_cfg_nat_take(cfg, vpn, &p, block, &created, extack);
		if (IS_ERR(b))
			return PTR_ERR(b);
	} else {
		b = rnat_cfg_nat_alloc(cfg, vpn, plen, &p, &created, extack);
		if (IS_ERR(b))
			return PTR_ERR(b);
		b->used += rnat_prefix_size(&p);
	}

	m = rnat_map_alloc(vpn_id, real, htonl(p.base), plen);
	if (!m) {
		err = -ENOMEM;
		goto release;
	}
	err = rnat_table_insert(&cfg->table, m);
	if (err) {
		/* It may have been in one index for a moment: readers first. */
		rnat_map_release(m);
		goto release;
	}
	vpn->nmaps++;
	/* Only now that nothing can fail: merging cannot be undone. */
	if (created)
		rnat_block_merge(cfg, b);
	if (out)
		*out = m;
	return 0;
release:
	rnat_cfg_nat_untake(cfg, vpn, b, &p, created);
	return err;
}

int rnat_cfg_map_replace(struct rnat_cfg *cfg, u32 vpn_id, __be32 real,
			 u8 plen, const __be32 *nat, struct rnat_map **out,
			 struct rnat_map *gone[2],
			 struct netlink_ext_ack *extack)
{
	struct rnat_prefix p = { .base = nat ? ntohl(*nat) : 0, .plen = plen };
	struct rnat_map *old_real, *old_nat = NULL, *m;
	struct rnat_block *b = NULL;
	bool created = false;
	struct rnat_vpn *vpn;
	int err;

	gone[0] = NULL;
	gone[1] = NULL;
	vpn = rnat_cfg_map_check(cfg, vpn_id, real, plen, nat, extack);
	if (IS_ERR(vpn))
		return PTR_ERR(vpn);
	old_real = rnat_table_find_real(&cfg->table, vpn_id, real, plen);
	if (nat)
		old_nat = rnat_table_find_nat(&cfg->table, *nat, plen);
	if (old_real && (!nat || old_nat == old_real)) {
		*out = old_real;
		return 0;
	}
	/* Another VPN's NAT prefix is not replaced: taking it fails below. */
	if (old_nat && old_nat->real.vpn_id != vpn_id)
		old_nat = NULL;
	if (!old_real && !old_nat) {
		err = rnat_cfg_map_add(cfg, vpn_id, real, plen, nat, out, extack);
		return err ?: 1;
	}
	/* A NAT prefix that stays mapped keeps its bits and its block. */
	if (!old_nat) {
		b = rnat_cfg_nat_take(cfg, vpn, &p, NULL, &created, extack);
		if (IS_ERR(b))
			return PTR_ERR(b);
	}
	m = rnat_map_alloc(vpn_id, real, *nat, plen);
	err = m ? rnat_table_replace(&cfg->table, m, old_real, old_nat) :
		  -ENOMEM;
	if (err) {
		/* It may have been in one index for a moment: readers first. */
		if (m)
			rnat_map_release(m);
		if (b)
			rnat_cfg_nat_untake(cfg, vpn, b, &p, created);
		return err;
	}
	vpn->nmaps++;
	if (created)
		rnat_block_merge(cfg, b);
	if (old_real)
		rnat_cfg_map_unaccount(cfg, vpn, old_real);
	if (old_nat)
		rnat_cfg_map_retire(vpn, old_nat);
	gone[0] = old_real;
	gone[1] = old_nat;
	*out = m;
	return 1;
}

void rnat_cfg_map_del(struct rnat_cfg *cfg, struct rnat_map *m)
{
	rnat_cfg_map_unaccount(cfg, rnat_cfg_vpn(cfg, m->real.vpn_id), m);
	rnat_table_remove(&cfg->table, m);
}

#ifdef RNAT_KUNIT
#include "tests/cfg_test.c"
#endif
