// SPDX-License-Identifier: GPL-2.0
/* Generic netlink plumbing on libmnl; see nl.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"

static struct mnl_socket *sock;
static uint16_t family;
static uint32_t seq;
/* Large enough for any dump batch the kernel sends (it uses 32 KiB at most). */
static char buf[65536];

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    !mnl_attr_validate(attr, MNL_TYPE_U16))
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int resolve_family(void)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	int n;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, RNAT_GENL_NAME);
	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, n, seq, 0, family_cb, &family) < 0 ||
	    !family) {
		fprintf(stderr, "Error: rnat module not loaded (generic netlink family \"%s\" not found)\n",
			RNAT_GENL_NAME);
		return -1;
	}
	return 0;
}

int nl_open(void)
{
	int one = 1;

	sock = mnl_socket_open(NETLINK_GENERIC);
	if (!sock || mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "Error: netlink socket: %s\n", strerror(errno));
		return -1;
	}
	mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
	return resolve_family();
}

void nl_close(void)
{
	if (sock)
		mnl_socket_close(sock);
	sock = NULL;
}

struct nlmsghdr *nl_request(uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = RNAT_GENL_VERSION;
	return nlh;
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* Prints the error an NLMSG_ERROR or NLMSG_DONE carries. */
static void report_error(const struct nlmsghdr *nlh, int err)
{
	const char *msg = NULL;
	unsigned int off;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			off = sizeof(*e);
			if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
				off += e->msg.nlmsg_len - sizeof(e->msg);
		} else {
			off = sizeof(int);
		}
		mnl_attr_parse(nlh, off, extack_attr_cb, &msg);
	}
	fprintf(stderr, "Error: %s\n", msg && *msg ? msg : strerror(-err));
}

struct reply_ctx {
	nl_reply_cb cb;
	void *data;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= RNAT_A_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

int nl_talk(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	uint32_t want = nlh->nlmsg_seq;
	unsigned int portid = mnl_socket_get_portid(sock);
	int n;

	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "Error: netlink send: %s\n", strerror(errno));
		return -1;
	}
	for (;;) {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "Error: netlink receive: %s\n", strerror(errno));
			return -1;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_seq != want || nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (!e->error)
					return 0;
				report_error(nlh, e->error);
				return -1;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = *(int *)mnl_nlmsg_get_payload(nlh);

				/* The end of a dump (no ACK follows it). */
				if (!err)
					return 0;
				report_error(nlh, err);
				return -1;
			}
			if (nlh->nlmsg_type == family && cb) {
				const struct nlattr *tb[RNAT_A_MAX + 1] = {};

				mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
					       attr_cb, tb);
				if (cb(tb, data))
					return -1;
			}
		}
	}
}
