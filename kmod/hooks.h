/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path: a PREROUTING hook for packets arriving from a VPN and a
 * POSTROUTING hook for packets leaving into one.
 */

#ifndef _RNAT_HOOKS_H
#define _RNAT_HOOKS_H

struct rnat_net;

void rnat_hooks_init(struct rnat_net *rn);
/* Registers the hooks while the namespace has a VPN, removes them after. */
int rnat_hooks_sync(struct rnat_net *rn);
/* Registers (@want) or unregisters the hooks; only registering can fail. */
int rnat_hooks_set(struct rnat_net *rn, bool want);

#endif /* _RNAT_HOOKS_H */
