/* SPDX-License-Identifier: GPL-2.0 */
/* The "rnat" generic netlink family: see uapi/linux/rnat.h. */

#ifndef _RNAT_NETLINK_H
#define _RNAT_NETLINK_H

int rnat_genl_init(void);
void rnat_genl_exit(void);

#endif /* _RNAT_NETLINK_H */
