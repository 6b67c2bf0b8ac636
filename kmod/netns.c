// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace lifetime: state is created with the namespace and
 * freed with it, hooks included; and what devices coming and going mean to
 * it (a VPN's device gone, one re-created under its name, fenced).
 */

#include <linux/netdevice.h>
#include <linux/netlink.h>

#include "hooks.h"
#include "netlink.h"
#include "netns.h"

unsigned int rnat_net_id __read_mostly;

static int __net_init rnat_net_init(struct net *net)
{
	struct rnat_net *rn = rnat_net(net);
	struct rnat_cfg *cfg;

	rn->net = net;
	mutex_init(&rn->lock);
	INIT_LIST_HEAD(&rn->fence_names);
	rnat_hooks_init(rn);
	rn->stats = alloc_percpu(struct rnat_stats);
	if (!rn->stats)
		return -ENOMEM;
	cfg = rnat_cfg_alloc();
	if (!cfg) {
		free_percpu(rn->stats);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(rn->cfg, cfg);
	return 0;
}

static void __net_exit rnat_net_exit(struct net *net)
{
	struct rnat_net *rn = rnat_net(net);
	struct rnat_fence_name *f, *tmp;

	if (rn->hooked) {
		rnat_hooks_set(rn, false);
		/* Packets still in a hook use rn and its configuration. */
		synchronize_net();
	}
	list_for_each_entry_safe(f, tmp, &rn->fence_names, node)
		kfree(f);
	rnat_cfg_free(rcu_dereference_protected(rn->cfg, true));
	if (rn->staging)
		rnat_cfg_free(rn->staging);
	free_percpu(rn->stats);
}

static struct pernet_operations rnat_net_ops = {
	.init = rnat_net_init,
	.exit = rnat_net_exit,
	.id = &rnat_net_id,
	.size = sizeof(struct rnat_net),
};

static void rnat_vpn_lost_dev(void *rn, struct rnat_vpn *vpn)
{
	rnat_netlink_vpn_changed(rn, vpn);
}

static struct rnat_fence_name *rnat_fence_name(struct rnat_net *rn,
					       const char *name)
{
	struct rnat_fence_name *f;

	list_for_each_entry(f, &rn->fence_names, node)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/*
 * A VPN's device leaves the namespace (deleted or moved): the VPN lets go of
 * it, so a later device that reuses the index is not taken for the VPN's,
 * and its name is kept, so that a device re-created under it is fenced.
 */
static void rnat_netdev_gone(struct rnat_net *rn, struct net_device *dev)
{
	struct rnat_fence_name *f;
	void *had;

	had = rnat_cfg_dev_gone(rnat_net_cfg(rn), dev->ifindex,
				rnat_vpn_lost_dev, rn);
	if (rn->staging)
		rnat_cfg_dev_gone(rn->staging, dev->ifindex, NULL, NULL);
	if (had && !rnat_fence_name(rn, dev->name)) {
		f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
		if (f) {
			strscpy(f->name, dev->name, sizeof(f->name));
			f->shared = rnat_dev_shared(had);
			list_add(&f->node, &rn->fence_names);
		} else {
			net_warn_ratelimited("rnat: no memory to remember device %s: a device re-created under its name is not fenced\n",
					     dev->name);
		}
	}
	rnat_hooks_sync(rn);	/* unregistering cannot fail */
}

/*
 * A device registers, or is renamed (only while down), under the name of a
 * departed VPN device: it is fenced before it can come up, or its
 * registration or renaming fails. One that carries a VPN, or is fenced
 * already, only takes the name off the list.
 */
static int rnat_netdev_new(struct rnat_net *rn, struct net_device *dev)
{
	struct rnat_cfg *cfg = rnat_net_cfg(rn);
	struct rnat_fence_name *f = rnat_fence_name(rn, dev->name);
	int err;

	if (!f)
		return 0;
	if (rnat_cfg_dev(cfg, dev->ifindex))
		goto forget;
	err = rnat_cfg_dev_store(cfg, dev->ifindex, f->shared ?
				 xa_mk_value(0) : RNAT_DEV_FENCED);
	if (!err)
		err = rnat_hooks_sync(rn);
	if (err) {
		rnat_cfg_dev_erase(cfg, dev->ifindex);
		return err;
	}
forget:
	list_del(&f->node);
	kfree(f);
	return 0;
}

/* Runs under RTNL; rn->lock nests inside it, never the other way round. */
static int rnat_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct rnat_net *rn;
	int err = 0;

	if (event != NETDEV_UNREGISTER && event != NETDEV_REGISTER &&
	    event != NETDEV_CHANGENAME)
		return NOTIFY_DONE;
	rn = rnat_net(dev_net(dev));
	/* The names change under RTNL only, which every event holds. */
	if (event != NETDEV_UNREGISTER && list_empty(&rn->fence_names))
		return NOTIFY_DONE;
	mutex_lock(&rn->lock);
	if (event == NETDEV_UNREGISTER)
		rnat_netdev_gone(rn, dev);
	else
		err = rnat_netdev_new(rn, dev);
	mutex_unlock(&rn->lock);
	return notifier_from_errno(err);
}

/* The socket building a restore is gone without committing it. */
static int rnat_netlink_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct rnat_net *rn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	rn = rnat_net(n->net);
	/* Every genl socket of the namespace comes here: most build nothing. */
	if (READ_ONCE(rn->staging_portid) != n->portid)
		return NOTIFY_DONE;
	mutex_lock(&rn->lock);
	if (rn->staging && rn->staging_portid == n->portid) {
		rnat_cfg_free(rn->staging);
		rn->staging = NULL;
		WRITE_ONCE(rn->staging_portid, 0);
	}
	mutex_unlock(&rn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block rnat_netlink_notifier = {
	.notifier_call = rnat_netlink_event,
};

static struct notifier_block rnat_netdev_notifier = {
	.notifier_call = rnat_netdev_event,
};

int rnat_netns_init(void)
{
	int err;

	err = register_pernet_subsys(&rnat_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&rnat_netdev_notifier);
	if (err)
		goto err_pernet;
	err = netlink_register_notifier(&rnat_netlink_notifier);
	if (err)
		goto err_netdev;
	return 0;
err_netdev:
	unregister_netdevice_notifier(&rnat_netdev_notifier);
err_pernet:
	unregister_pernet_subsys(&rnat_net_ops);
	return err;
}

void rnat_netns_exit(void)
{
	netlink_unregister_notifier(&rnat_netlink_notifier);
	unregister_netdevice_notifier(&rnat_netdev_notifier);
	unregister_pernet_subsys(&rnat_net_ops);
}
