/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink conversation with the rnat module (libmnl): one
 * socket, opened on first use, the family id resolved with
 * CTRL_CMD_GETFAMILY, requests answered by replies (or a dump) and an ACK
 * whose extended ACK message becomes the error text.
 */
#ifndef RNATCTL_NL_H
#define RNATCTL_NL_H

#include <stdbool.h>

#include <libmnl/libmnl.h>
#include <linux/rnat.h>

/*
 * Called for each reply with its attributes indexed by type, each already
 * checked to have its documented type and size. Returns 0, or a negative
 * errno to stop (see nl_malformed()).
 */
typedef int (*nl_reply_cb)(const struct nlattr **tb, void *data);

/* Opens the socket in the current network namespace if it is not open yet;
 * 0, or EXIT_ERROR after printing why not.
 */
int nl_need(void);
bool nl_is_open(void);
void nl_close(void);

/* Starts a request in the send buffer; add attributes with mnl_attr_put*. */
struct nlmsghdr *nl_request(uint8_t cmd, uint16_t flags);
/* Sends it and hands every reply to @cb (may be NULL) until the ACK or the
 * end of the dump: 0 or a negative errno, with nl_strerror() explaining it.
 */
int nl_talk(struct nlmsghdr *nlh, nl_reply_cb cb, void *data);
/* nl_talk(), printing the error: 0 or EXIT_ERROR. */
int nl_exec(struct nlmsghdr *nlh, nl_reply_cb cb, void *data);
/* nl_exec() for a show: with -j, one JSON array around the replies (closed,
 * with anything open in it, even after a failure).
 */
int nl_show(struct nlmsghdr *nlh, nl_reply_cb cb);
/*
 * Streaming, for restore, which wants no reply's content: from
 * nl_stream_start() on, a request that changes rnat's state and that the
 * kernel answers with an ACK alone is not sent at once but queued, without
 * NLM_F_ACK and NLM_F_ECHO, its nlmsg_seq the current tag (the batch line);
 * nl_talk() returns 0 for it without calling back. The queue goes out in
 * one sendmsg() when full, before any other request, and at
 * nl_stream_end(). The kernel handles the requests inside sendmsg() and
 * answers only those that fail, so the socket is then read without
 * waiting; the first failure is kept, and every later nl_talk() returns it.
 */
void nl_stream_start(void);
/* The tag the requests queued from now on carry. */
void nl_stream_tag(uint32_t tag);
/* Sends what is queued and stops streaming: 0, or the first failure since
 * nl_stream_start() (nl_strerror() explains it) with its request's tag in
 * *@tag.
 */
int nl_stream_end(uint32_t *tag);
/* Has a request that changes rnat's state succeeded since the start? */
bool nl_changed(void);
/* Forgets those changes (a restore checked, then dropped): no route sync. */
void nl_forget_changes(void);
/*
 * Did a reply to the last request carry NLM_F_DUMP_INTR (the state changed
 * while it was dumped, see "Consistent dumps" in the uapi header)?
 */
bool nl_dump_interrupted(void);
/*
 * For a reply cut by that change (a VPN's block list whose parts no longer
 * fit together): -EAGAIN, saying so.
 */
int nl_dump_changed(void);
/* Between nl_stream_start() and nl_stream_end() (inside a restore). */
bool nl_streaming(void);
/*
 * Joins the "events" group and hands every event (the command that made a
 * change, its message flags such as NLM_F_REPLACE, and the object's
 * attributes) to @cb until an error: EXIT_ERROR.
 */
typedef int (*nl_event_cb)(uint8_t cmd, uint16_t flags,
			   const struct nlattr **tb);
int nl_listen(nl_event_cb cb);
/*
 * After nl_need(): the rnat family's id and its "events" group's (0 if the
 * module has none), for a socket of one's own (annotate's).
 */
uint16_t nl_family(void);
uint32_t nl_events_group(void);
/* The kernel's extended ACK message for the last error, else strerror. */
const char *nl_strerror(int err);
/* Sets the text nl_strerror() gives (the region's refusals). */
void nl_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For reply callbacks: records "malformed @what from the kernel". */
int nl_malformed(const char *what);

/* Checks and indexes a reply's attributes into @tb (RNAT_A_MAX + 1 long):
 * 0 or -EPROTO.
 */
int nl_parse_reply(const struct nlmsghdr *nlh, const struct nlattr **tb);

/* The error an NLMSG_ERROR (ACK) or NLMSG_DONE carries, 0 or -errno; its
 * extended ACK message, if any, becomes nl_strerror()'s text.
 */
int nl_error(const struct nlmsghdr *nlh);

#endif
