// SPDX-License-Identifier: GPL-2.0
/*
 * rnat: per-VPN stateless NAT for VPN gateways. Module entry points only;
 * see hooks.c for the packet path and netlink.c for the control plane.
 */

#include <linux/module.h>
#include <net/genetlink.h>

#include "netlink.h"
#include "netns.h"
#include "table.h"

static int __init rnat_init(void)
{
	int err;

	err = rnat_table_module_init();
	if (err)
		return err;
	err = rnat_cfg_module_init();
	if (err)
		goto err_table;
	err = rnat_netns_init();
	if (err)
		goto err_cfg;
	err = rnat_genl_init();
	if (err)
		goto err_netns;
	return 0;

err_netns:
	rnat_netns_exit();
err_cfg:
	rnat_cfg_module_exit();
err_table:
	rnat_table_module_exit();
	return err;
}

static void __exit rnat_exit(void)
{
	rnat_genl_exit();
	rnat_netns_exit();
	rnat_cfg_module_exit();
	rnat_table_module_exit();
}

module_init(rnat_init);
module_exit(rnat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-VPN stateless NAT for VPN gateways");
MODULE_ALIAS_GENL_FAMILY(RNAT_GENL_NAME);
