/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path: a PREROUTING hook for packets arriving from a VPN and a
 * POSTROUTING hook for packets leaving into one; for IPv6, two that drop
 * what would cross a VPN's device.
 */

#ifndef _RNAT_HOOKS_H
#define _RNAT_HOOKS_H

struct rnat_net;

void rnat_hooks_init(struct rnat_net *rn);
/*
 * Registers the hooks while the namespace has a VPN or a device to fence,
 * removes them after. Registered hooks hold a reference to the module.
 */
int rnat_hooks_sync(struct rnat_net *rn);
/* Registers (@want) or unregisters the hooks; only registering can fail. */
int rnat_hooks_set(struct rnat_net *rn, bool want);

#endif /* _RNAT_HOOKS_H */
