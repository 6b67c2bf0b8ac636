/* SPDX-License-Identifier: GPL-2.0 */
/* The "rnat" generic netlink family: see uapi/linux/rnat.h. */

#ifndef _RNAT_NETLINK_H
#define _RNAT_NETLINK_H

struct rnat_net;
struct rnat_vpn;

int rnat_genl_init(void);
/* Announces a VPN changed outside a request (its device went away). */
void rnat_netlink_vpn_changed(struct rnat_net *rn, const struct rnat_vpn *vpn);
void rnat_genl_exit(void);

#endif /* _RNAT_NETLINK_H */
