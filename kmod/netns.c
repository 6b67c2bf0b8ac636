// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace lifetime: state is created with the namespace and
 * freed with it, hooks included.
 */

#include "hooks.h"
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
	free_percpu(rn->stats);
}

static struct pernet_operations rnat_net_ops = {
	.init = rnat_net_init,
	.exit = rnat_net_exit,
	.id = &rnat_net_id,
	.size = sizeof(struct rnat_net),
};

int rnat_netns_init(void)
{
	return register_pernet_subsys(&rnat_net_ops);
}

void rnat_netns_exit(void)
{
	unregister_pernet_subsys(&rnat_net_ops);
}
