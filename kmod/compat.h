/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels rnat builds against (6.1 to 6.12), kept in
 * one place so the rest of the code reads like current kernel code.
 */

#ifndef _RNAT_COMPAT_H
#define _RNAT_COMPAT_H

#include <linux/netlink.h>
#include <net/genetlink.h>

/*
 * Formatted extack messages arrived in 6.3. Before that the message is a
 * pointer that must stay valid until the ACK is built, after the handler
 * returned and dropped genl_lock. A ring of buffers, one per message, keeps
 * each valid until many later errors have been reported.
 */
#ifndef NL_SET_ERR_MSG_FMT
#define RNAT_EXTACK_LEN 80
#define RNAT_EXTACK_SLOTS 32
char *rnat_extack_slot(void);
#define NL_SET_ERR_MSG_FMT(extack, fmt, args...) do {			\
	struct netlink_ext_ack *__extack = (extack);			\
									\
	if (__extack) {							\
		char *__buf = rnat_extack_slot();			\
									\
		snprintf(__buf, RNAT_EXTACK_LEN, fmt, ##args);		\
		__extack->_msg = __buf;					\
	}								\
} while (0)
#endif

#endif /* _RNAT_COMPAT_H */
