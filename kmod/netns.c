// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace lifetime: state is created with the namespace and
 * freed with it, hooks included.
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

	if (rn->hooked) {
		nf_unregister_net_hooks(net, rn->hook_ops,
					ARRAY_SIZE(rn->hook_ops));
		/* Packets still in a hook use rn and its configuration. */
		synchronize_net();
	}
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

/*
 * A VPN's device leaves the namespace (deleted or moved): the VPN lets go of
 * it, so a later device that reuses the index is not taken for the VPN's.
 * Runs under RTNL; rn->lock nests inside it, never the other way round.
 */
static int rnat_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct rnat_net *rn;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	rn = rnat_net(dev_net(dev));
	mutex_lock(&rn->lock);
	rnat_cfg_dev_gone(rnat_net_cfg(rn), dev->ifindex, rnat_vpn_lost_dev,
			  rn);
	if (rn->staging)
		rnat_cfg_dev_gone(rn->staging, dev->ifindex, NULL, NULL);
	mutex_unlock(&rn->lock);
	return NOTIFY_DONE;
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
	mutex_lock(&rn->lock);
	if (rn->staging && rn->staging_portid == n->portid) {
		rnat_cfg_free(rn->staging);
		rn->staging = NULL;
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
