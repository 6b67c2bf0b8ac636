/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink conversation with the rnat module: one socket, the
 * family id resolved once, requests answered by replies and an ACK whose
 * extended error message is printed as "Error: ...".
 */
#ifndef RNATCTL_NL_H
#define RNATCTL_NL_H

#include <libmnl/libmnl.h>
#include <linux/rnat.h>

/* Called for each reply with its attributes indexed by type. */
typedef int (*nl_reply_cb)(const struct nlattr **tb, void *data);

/* Opens the socket in the current network namespace; 0 or -1 (printed). */
int nl_open(void);
void nl_close(void);

/* Starts a request in the shared buffer; add attributes with mnl_attr_put*. */
struct nlmsghdr *nl_request(uint8_t cmd, uint16_t flags);
/* Sends it and reads every reply; 0, or -1 after printing the error. */
int nl_talk(struct nlmsghdr *nlh, nl_reply_cb cb, void *data);

#endif
