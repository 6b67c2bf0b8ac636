// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the netlink socket: opening it, resolving the "rnat" family id,
 * sending requests, reading replies, dumps and ACKs, and turning a NACK
 * into its extended ACK message. See nl.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "output.h"
#include "region.h"

static struct mnl_socket *sock;
static uint16_t family;
static uint32_t events_group;	/* RNAT_GENL_MCGRP_EVENTS's id, 0 if none */
static uint32_t seq;
static char errmsg[256];
static bool changed;
static bool dump_intr;	/* NLM_F_DUMP_INTR seen in the last request's replies */
/* A full pool is about 1.3 KiB, a VPN with VPN_BLOCKS_MAX blocks 40 KiB. */
static char sendbuf[65536];
/* The kernel fills dump messages up to 32 KiB. */
static char recvbuf[65536];

/* Requests queued for one sendmsg() while streaming (see nl.h). */
static struct {
	bool on;
	uint32_t tag;		/* of the requests queued now */
	uint32_t first;		/* of the first request in the queue */
	int err;		/* the first failure, 0 if none yet */
	uint32_t err_tag;
	size_t len;
	char buf[sizeof(sendbuf)];	/* any one request fits */
} stream;

/* The type and minimum size of every attribute in a reply. */
static const enum mnl_attr_data_type rnat_attr_type[RNAT_A_MAX + 1] = {
	[RNAT_A_POOL] = MNL_TYPE_NUL_STRING,
	[RNAT_A_POOL_PREFIXES] = MNL_TYPE_NESTED,
	[RNAT_A_POOL_SIZE] = MNL_TYPE_U32,
	[RNAT_A_POOL_USED] = MNL_TYPE_U32,
	[RNAT_A_VPN_ID] = MNL_TYPE_U32,
	[RNAT_A_VPN_NAME] = MNL_TYPE_NUL_STRING,
	[RNAT_A_VPN_MAPPINGS] = MNL_TYPE_U32,
	[RNAT_A_IFINDEX] = MNL_TYPE_U32,
	[RNAT_A_MAP_REAL] = MNL_TYPE_U32,
	[RNAT_A_MAP_NAT] = MNL_TYPE_U32,
	[RNAT_A_MAP_PLEN] = MNL_TYPE_U8,
	[RNAT_A_STATS] = MNL_TYPE_NESTED,
	[RNAT_A_POOL_OWNED] = MNL_TYPE_U32,
	[RNAT_A_VPN_BLOCKS] = MNL_TYPE_NESTED,
	[RNAT_A_VPN_MARK] = MNL_TYPE_NESTED,
	[RNAT_A_VPN_OUT_MARK] = MNL_TYPE_NESTED,
	[RNAT_A_VPN_NBLOCKS] = MNL_TYPE_U32,
	[RNAT_A_VPN_BLOCKS_FIRST] = MNL_TYPE_U32,
	[RNAT_A_GENERATION] = MNL_TYPE_U32,
};

const char *nl_strerror(int err)
{
	return errmsg[0] ? errmsg : strerror(-err);
}

void nl_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
}

int nl_malformed(const char *what)
{
	snprintf(errmsg, sizeof(errmsg), "malformed %s from the kernel", what);
	return -EPROTO;
}

int nl_dump_changed(void)
{
	snprintf(errmsg, sizeof(errmsg),
		 "the state changed while it was read; try again");
	return -EAGAIN;
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	(void)data;
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
		snprintf(errmsg, sizeof(errmsg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

int nl_error(const struct nlmsghdr *nlh)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	unsigned int off;
	int err;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (len < sizeof(*e))
			return nl_malformed("ACK");
		err = e->error;
		off = sizeof(*e);
		/* Without NETLINK_CAP_ACK, the request follows. */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
	} else {
		if (len < sizeof(int))
			return 0;	/* old kernels: an empty DONE */
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		off = sizeof(int);
	}
	if (err > 0)
		err = -err;
	errmsg[0] = '\0';
	if (err && (nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off <= len)
		mnl_attr_parse(nlh, off, extack_attr_cb, NULL);
	return err;
}

/*
 * Sends @req and reads until its ACK or end of dump, handing messages of
 * @type to @cb, which returns 0 or a negative errno. A dump is read to
 * its end even after @cb failed: the kernel starts no other dump on this
 * socket while one is still running.
 */
static int talk(struct nlmsghdr *req, uint16_t type,
		int (*cb)(const struct nlmsghdr *, void *), void *data)
{
	uint32_t want = req->nlmsg_seq, portid = mnl_socket_get_portid(sock);
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	const struct nlmsghdr *nlh;
	int len, err, cb_err = 0;
	ssize_t n;

	errmsg[0] = '\0';
	dump_intr = false;
	if (mnl_socket_sendto(sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(sock, recvbuf, sizeof(recvbuf));
		if (n < 0)
			return -errno;
		len = n;
		for (nlh = (const struct nlmsghdr *)recvbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			/* Leftovers of an earlier request, or not for us. */
			if (nlh->nlmsg_seq != want || nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				dump_intr = true;
			switch (nlh->nlmsg_type) {
			case NLMSG_ERROR:
			case NLMSG_DONE:
				/* @cb's error, with its message, comes first. */
				return cb_err ? cb_err : nl_error(nlh);
			case NLMSG_OVERRUN:
				return -ENOBUFS;
			}
			if (nlh->nlmsg_type != type || !cb || cb_err)
				continue;
			err = cb(nlh, data);
			if (err && !dump)
				return err;
			cb_err = err;
		}
	}
}

/* One entry of CTRL_ATTR_MCAST_GROUPS: remembers the events group's id. */
static void mcast_group(const struct nlattr *grp)
{
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	if (mnl_attr_validate(grp, MNL_TYPE_NESTED) < 0)
		return;
	mnl_attr_for_each_nested(a, grp) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			name = mnl_attr_get_str(a);
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			id = mnl_attr_get_u32(a);
	}
	if (name && !strcmp(name, RNAT_GENL_MCGRP_EVENTS))
		events_group = id;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *grp;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    !mnl_attr_validate(attr, MNL_TYPE_U16))
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GROUPS &&
	    !mnl_attr_validate(attr, MNL_TYPE_NESTED))
		mnl_attr_for_each_nested(grp, attr)
			mcast_group(grp);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, data);
	return 0;
}

static int resolve_family(void)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sendbuf);
	struct genlmsghdr *g;
	int err;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, RNAT_GENL_NAME);
	family = 0;
	err = talk(nlh, GENL_ID_CTRL, family_cb, &family);
	if (err == -ENOENT || (!err && !family)) {
		pr_err("rnat module not loaded (generic netlink family \"%s\" not found)",
		       RNAT_GENL_NAME);
		return -1;
	}
	if (err) {
		pr_err("cannot look up generic netlink family \"%s\": %s",
		       RNAT_GENL_NAME, nl_strerror(err));
		return -1;
	}
	return 0;
}

bool nl_is_open(void)
{
	return sock;
}

void nl_close(void)
{
	if (sock)
		mnl_socket_close(sock);
	sock = NULL;
}

int nl_need(void)
{
	int one = 1;

	if (sock || region_on())
		return 0;
	sock = mnl_socket_open(NETLINK_GENERIC);
	if (!sock) {
		pr_err("cannot open a generic netlink socket: %s",
		       strerror(errno));
		return EXIT_ERROR;
	}
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		pr_err("cannot bind the netlink socket: %s", strerror(errno));
		nl_close();
		return EXIT_ERROR;
	}
	/* Best effort: kernels before 4.12 lack them and still work. */
	mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (resolve_family()) {
		nl_close();
		return EXIT_ERROR;
	}
	return 0;
}

struct nlmsghdr *nl_request(uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sendbuf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	/*
	 * A dump ends with NLMSG_DONE; one that cannot start is NACKed. Only
	 * both bits make a dump: NLM_F_EXCL shares its value with NLM_F_MATCH.
	 */
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	if ((flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = RNAT_GENL_VERSION;
	return nlh;
}

static int reply_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Attributes a newer module may add are ignored. */
	if (type == RNAT_A_UNSPEC || type > RNAT_A_MAX)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, rnat_attr_type[type]) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

int nl_parse_reply(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, (RNAT_A_MAX + 1) * sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN ||
	    mnl_attr_parse(nlh, GENL_HDRLEN, reply_attr_cb, tb) < 0)
		return nl_malformed("reply");
	return 0;
}

struct reply_ctx {
	nl_reply_cb cb;
	void *data;
};

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];
	struct reply_ctx *ctx = data;
	int err = nl_parse_reply(nlh, tb);

	return err ? err : ctx->cb(tb, ctx->data);
}

static bool is_change(uint8_t cmd)
{
	switch (cmd) {
	case RNAT_CMD_POOL_GET:
	case RNAT_CMD_VPN_GET:
	case RNAT_CMD_MAP_GET:
	case RNAT_CMD_STATS_GET:
		return false;
	}
	return true;
}

/* Changes the kernel answers with an ACK alone when NLM_F_ECHO is clear. */
static bool ack_only(uint8_t cmd)
{
	switch (cmd) {
	case RNAT_CMD_POOL_NEW:
	case RNAT_CMD_POOL_DEL:
	case RNAT_CMD_VPN_NEW:
	case RNAT_CMD_VPN_SET:
	case RNAT_CMD_MAP_NEW:
	case RNAT_CMD_MAP_DEL:
		return true;
	}
	return false;	/* VPN_DEL replies with its mapping count */
}

/* Keeps the first failure of the stream and the tag of its request. */
static void stream_fail(int err, uint32_t tag)
{
	if (!stream.err) {
		stream.err = err;
		stream.err_tag = tag;
	}
}

/*
 * Reads, without waiting, what the kernel answered to the requests just
 * sent: NLMSG_ERRORs of those that failed, in order.
 */
static void stream_read(void)
{
	uint32_t portid = mnl_socket_get_portid(sock);
	const struct nlmsghdr *nlh;
	bool lost = false;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(mnl_socket_get_fd(sock), recvbuf, sizeof(recvbuf),
			 MSG_DONTWAIT);
		/*
		 * The socket's queue was empty before the send and a request
		 * that succeeds adds nothing to it, so an overrun can only
		 * have dropped failures after the first, which is queued:
		 * read on.
		 */
		if (n < 0 && (errno == EINTR || errno == ENOBUFS)) {
			lost |= errno == ENOBUFS;
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				stream_fail(-errno, stream.first);
			break;
		}
		len = n;
		for (nlh = (const struct nlmsghdr *)recvbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_pid == portid &&
			    nlh->nlmsg_type == NLMSG_ERROR && !stream.err)
				stream_fail(nl_error(nlh), nlh->nlmsg_seq);
	}
	/* Lost answers with none kept: something failed, but what? */
	if (lost)
		stream_fail(-ENOBUFS, stream.first);
}

/* Sends the queue: 0, or the first failure so far. */
static int stream_send(void)
{
	if (stream.len && !stream.err) {
		errmsg[0] = '\0';
		if (mnl_socket_sendto(sock, stream.buf, stream.len) < 0)
			stream_fail(-errno, stream.first);
		else
			stream_read();
	}
	stream.len = 0;
	return stream.err;
}

static int stream_queue(const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh;

	if (stream.len + NLMSG_ALIGN(req->nlmsg_len) > sizeof(stream.buf))
		stream_send();
	if (stream.err)
		return stream.err;
	if (!stream.len)
		stream.first = stream.tag;
	nlh = (struct nlmsghdr *)(stream.buf + stream.len);
	memcpy(nlh, req, req->nlmsg_len);
	nlh->nlmsg_flags &= ~(NLM_F_ACK | NLM_F_ECHO);
	nlh->nlmsg_seq = stream.tag;
	stream.len += NLMSG_ALIGN(req->nlmsg_len);
	return 0;
}

void nl_stream_start(void)
{
	stream.on = true;
	stream.err = 0;
	stream.len = 0;
}

void nl_stream_tag(uint32_t tag)
{
	stream.tag = tag;
}

int nl_stream_end(uint32_t *tag)
{
	int err = stream_send();

	*tag = stream.err_tag;
	stream.on = false;
	return err;
}

int nl_talk(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct reply_ctx ctx = { cb, data };
	int err;

	/*
	 * A region answers in the store, at one revision; nothing here
	 * changes (no routes), and no kernel dump's flag stays.
	 */
	if (region_on()) {
		dump_intr = false;
		return region_talk(nlh, cb, data);
	}
	if (stream.on && ack_only(g->cmd))
		err = stream_queue(nlh);
	else if (stream.on && stream_send())
		err = stream.err;
	else
		err = talk(nlh, family, cb ? reply_cb : NULL, &ctx);
	if (!err && is_change(g->cmd))
		changed = true;
	return err;
}

bool nl_changed(void)
{
	return changed;
}

void nl_forget_changes(void)
{
	changed = false;
}

bool nl_dump_interrupted(void)
{
	return dump_intr;
}

bool nl_streaming(void)
{
	return stream.on;
}

int nl_listen(nl_event_cb cb)
{
	const struct genlmsghdr *g;
	const struct nlattr *tb[RNAT_A_MAX + 1];
	const struct nlmsghdr *nlh;
	ssize_t n;
	int len, err;

	dump_intr = false;	/* events are no dump */
	if (!events_group) {
		pr_err("the rnat module has no \"%s\" group", RNAT_GENL_MCGRP_EVENTS);
		return EXIT_ERROR;
	}
	if (mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP, &events_group,
				  sizeof(events_group)) < 0) {
		pr_err("cannot join the events group: %s", strerror(errno));
		return EXIT_ERROR;
	}
	for (;;) {
		n = mnl_socket_recvfrom(sock, recvbuf, sizeof(recvbuf));
		if (n < 0) {
			pr_err("%s", errno == ENOBUFS ?
			       "events were lost (the socket's buffer overflowed)" :
			       strerror(errno));
			return EXIT_ERROR;
		}
		len = n;
		for (nlh = (const struct nlmsghdr *)recvbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != family)
				continue;
			err = nl_parse_reply(nlh, tb);
			g = mnl_nlmsg_get_payload(nlh);
			if (!err)
				err = cb(g->cmd, nlh->nlmsg_flags, tb);
			if (err) {
				pr_err("%s", nl_strerror(err));
				return EXIT_ERROR;
			}
		}
	}
}

uint16_t nl_family(void)
{
	return family;
}

uint32_t nl_events_group(void)
{
	return events_group;
}

int nl_show(struct nlmsghdr *nlh, nl_reply_cb cb)
{
	int level = json_level(), err;

	if (out_json())
		json_arr_open(NULL);
	err = nl_exec(nlh, cb, NULL);
	if (out_json())
		json_close_to(level);
	return err;
}

int nl_exec(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	int err = nl_talk(nlh, cb, data);

	if (err) {
		pr_err("%s", nl_strerror(err));
		return EXIT_ERROR;
	}
	return 0;
}
