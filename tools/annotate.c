// SPDX-License-Identifier: GPL-2.0
/*
 * Owns "rnatctl annotate": joins the kernel's "events" group, reads every
 * VPN's name and every mapping (two dumps), then copies standard input to
 * standard output line by line, following each NAT address it knows with
 * " [NAME REAL]". See annotate.h. The events that arrive meanwhile (those
 * during the dumps included) update the table before every batch of lines
 * is annotated; a restore, or events lost to a full socket buffer, make it
 * read everything again. Input is read with read(2) rather than stdio so
 * the output can be flushed exactly when no complete line is left to
 * write: live in a pipe, without a write(2) per line when a file goes
 * through.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "annotate.h"
#include "nl.h"
#include "output.h"
#include "parse.h"

void annotate_usage(FILE *f)
{
	fputs("Usage: rnatctl annotate\n"
	      "Copies standard input to standard output, following every mapped NAT\n"
	      "address with \" [NAME REAL]\": its VPN's name and real address.\n", f);
}

/* Grows the array *@v of *@cap elements of @size to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*v, want, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

int annot_add_vpn(struct annot_table *t, uint32_t id, const char *name)
{
	struct annot_vpn *v;

	if (grow((void **)&t->vpns, &t->vpns_cap, t->nvpns, sizeof(*v)))
		return -ENOMEM;
	v = &t->vpns[t->nvpns++];
	v->id = id;
	snprintf(v->name, sizeof(v->name), "%s", name);
	return 0;
}

int annot_add_map(struct annot_table *t, uint32_t vpn, uint32_t real,
		  uint32_t nat, uint8_t len)
{
	struct annot_map *m;

	if (len > 32 || (nat & ~prefix_mask(len)) ||
	    (real & ~prefix_mask(len)))
		return -EINVAL;
	if (grow((void **)&t->maps, &t->maps_cap, t->nmaps, sizeof(*m)))
		return -ENOMEM;
	m = &t->maps[t->nmaps++];
	m->nat = ntohl(nat);
	m->real = ntohl(real);
	m->len = len;
	m->gone = false;
	m->vpn = vpn;
	return 0;
}

static int vpn_cmp(const void *a, const void *b)
{
	const struct annot_vpn *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static bool vpn_below(const void *a, const void *b)
{
	return vpn_cmp(a, b) < 0;
}

/* By NAT address, then length (only a replayed event makes two alike). */
static int map_cmp(const void *a, const void *b)
{
	const struct annot_map *x = a, *y = b;

	if (x->nat != y->nat)
		return (x->nat > y->nat) - (x->nat < y->nat);
	return x->len - y->len;
}

/* maps[].nat into keys[] (maps[] sorted): 0 or -ENOMEM. */
static int annot_keys(struct annot_table *t)
{
	size_t i;

	free(t->keys);
	t->keys = malloc((t->nmaps ? t->nmaps : 1) * sizeof(*t->keys));
	if (!t->keys)
		return -ENOMEM;
	for (i = 0; i < t->nmaps; i++)
		t->keys[i] = t->maps[i].nat;
	return 0;
}

int annot_finish(struct annot_table *t)
{
	if (t->nvpns)
		qsort(t->vpns, t->nvpns, sizeof(*t->vpns), vpn_cmp);
	if (t->nmaps)
		qsort(t->maps, t->nmaps, sizeof(*t->maps), map_cmp);
	return annot_keys(t);
}

void annot_free(struct annot_table *t)
{
	free(t->vpns);
	free(t->maps);
	free(t->keys);
	free(t->added);
	memset(t, 0, sizeof(*t));
}

/* The number of @n entries of @v (of @size, sorted) that @below says are
 * below @key: where @key is or would go.
 */
static size_t lower_bound(const void *v, size_t n, size_t size,
			  const void *key,
			  bool (*below)(const void *, const void *))
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (below((const char *)v + mid * size, key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool map_below(const void *a, const void *b)
{
	return map_cmp(a, b) < 0;
}

/* Starts at or below the address *@b. */
static bool map_starts_at_or_below(const void *a, const void *b)
{
	return ((const struct annot_map *)a)->nat <= *(const uint32_t *)b;
}

static bool key_at_or_below(const void *a, const void *b)
{
	return *(const uint32_t *)a <= *(const uint32_t *)b;
}

static bool holds(const struct annot_map *m, uint32_t addr)
{
	return (addr & ntohl(prefix_mask(m->len))) == m->nat;
}

const struct annot_map *annot_find(const struct annot_table *t,
				   uint32_t addr)
{
	const struct annot_map *m;
	size_t i;

	/*
	 * The last mapping starting at or below @addr: NAT prefixes never
	 * overlap, so only it can hold @addr. First among those the events
	 * added; in maps[], one still there (never changed since it was read)
	 * overlaps no other entry, gone or not, so the same holds.
	 */
	i = lower_bound(t->added, t->nadded, sizeof(*t->added), &addr,
			map_starts_at_or_below);
	if (i && holds(&t->added[i - 1], addr))
		return &t->added[i - 1];
	i = lower_bound(t->keys, t->nmaps, sizeof(*t->keys), &addr,
			key_at_or_below);
	if (!i)
		return NULL;
	m = &t->maps[i - 1];
	return !m->gone && holds(m, addr) ? m : NULL;
}

const char *annot_vpn_name(const struct annot_table *t, uint32_t id)
{
	struct annot_vpn key = { .id = id }, *v;

	v = t->nvpns ? bsearch(&key, t->vpns, t->nvpns, sizeof(*t->vpns),
			       vpn_cmp) : NULL;
	return v ? v->name : NULL;
}

/* --- Events ------------------------------------------------------------ */

/* Merges added[] into maps[], leaving out what is gone: 0 or -ENOMEM. */
static int annot_merge(struct annot_table *t)
{
	size_t n = t->nmaps - t->ngone + t->nadded, i = 0, j = 0, k = 0;
	struct annot_map *maps = malloc((n ? n : 1) * sizeof(*maps));

	if (!maps)
		return -ENOMEM;
	while (i < t->nmaps || j < t->nadded) {
		if (i < t->nmaps && t->maps[i].gone) {
			i++;
		} else if (j == t->nadded ||
			   (i < t->nmaps &&
			    map_cmp(&t->maps[i], &t->added[j]) <= 0)) {
			maps[k++] = t->maps[i++];
		} else {
			maps[k++] = t->added[j++];
		}
	}
	free(t->maps);
	t->maps = maps;
	t->nmaps = k;
	t->maps_cap = n ? n : 1;
	t->ngone = 0;
	t->nadded = 0;
	return annot_keys(t);
}

/* Marks the mapping @key (NAT and length) of maps[] gone, and drops it
 * from added[].
 */
static void annot_map_gone(struct annot_table *t, const struct annot_map *key)
{
	size_t i;

	i = lower_bound(t->keys, t->nmaps, sizeof(*t->keys), &key->nat,
			key_at_or_below);
	/* A dump may have met a mapping twice (a table resizing under it). */
	for (; i > 0 && t->maps[i - 1].nat == key->nat; i--) {
		if (t->maps[i - 1].len == key->len && !t->maps[i - 1].gone) {
			t->maps[i - 1].gone = true;
			t->ngone++;
		}
	}
	i = lower_bound(t->added, t->nadded, sizeof(*t->added), key, map_below);
	if (i < t->nadded && !map_cmp(&t->added[i], key)) {
		memmove(&t->added[i], &t->added[i + 1],
			(t->nadded - i - 1) * sizeof(*t->added));
		t->nadded--;
	}
}

static int annot_map_new(struct annot_table *t, const struct annot_map *m)
{
	size_t i;
	int err;

	annot_map_gone(t, m);
	if (t->nadded == ANNOT_ADDED_MAX) {
		err = annot_merge(t);
		if (err)
			return err;
	}
	if (grow((void **)&t->added, &t->added_cap, t->nadded,
		 sizeof(*t->added)))
		return -ENOMEM;
	i = lower_bound(t->added, t->nadded, sizeof(*t->added), m, map_below);
	memmove(&t->added[i + 1], &t->added[i],
		(t->nadded - i) * sizeof(*t->added));
	t->added[i] = *m;
	t->nadded++;
	return 0;
}

/* Every mapping of VPN @id is gone (flushed, or the VPN deleted). */
static void annot_vpn_flush(struct annot_table *t, uint32_t id)
{
	size_t i, k = 0;

	for (i = 0; i < t->nmaps; i++) {
		if (t->maps[i].vpn == id && !t->maps[i].gone) {
			t->maps[i].gone = true;
			t->ngone++;
		}
	}
	for (i = 0; i < t->nadded; i++)
		if (t->added[i].vpn != id)
			t->added[k++] = t->added[i];
	t->nadded = k;
}

/* VPN @id is named @name now, or has no name (NULL) or is gone. */
static int annot_vpn_rename(struct annot_table *t, uint32_t id,
			    const char *name)
{
	struct annot_vpn key = { .id = id };
	size_t i;

	i = lower_bound(t->vpns, t->nvpns, sizeof(*t->vpns), &key, vpn_below);
	if (i < t->nvpns && t->vpns[i].id == id) {
		if (name) {
			snprintf(t->vpns[i].name, sizeof(t->vpns[i].name),
				 "%s", name);
			return 0;
		}
		memmove(&t->vpns[i], &t->vpns[i + 1],
			(t->nvpns - i - 1) * sizeof(*t->vpns));
		t->nvpns--;
		return 0;
	}
	if (!name)
		return 0;
	if (grow((void **)&t->vpns, &t->vpns_cap, t->nvpns, sizeof(*t->vpns)))
		return -ENOMEM;
	memmove(&t->vpns[i + 1], &t->vpns[i],
		(t->nvpns - i) * sizeof(*t->vpns));
	t->vpns[i].id = id;
	snprintf(t->vpns[i].name, sizeof(t->vpns[i].name), "%s", name);
	t->nvpns++;
	return 0;
}

int annot_event(struct annot_table *t, uint8_t cmd, uint16_t flags,
		const struct nlattr **tb)
{
	const struct nlattr *plen = tb[RNAT_A_MAP_PLEN];
	struct annot_map m = { 0 };
	uint32_t id;

	(void)flags;	/* a replace's old mappings come as MAP_DEL first */
	switch (cmd) {
	case RNAT_CMD_RESTORE_COMMIT:
		return ANNOT_RELOAD;
	case RNAT_CMD_MAP_NEW:
	case RNAT_CMD_MAP_DEL:
	case RNAT_CMD_MAP_FLUSH:
	case RNAT_CMD_VPN_NEW:
	case RNAT_CMD_VPN_SET:
	case RNAT_CMD_VPN_DEL:
		break;
	default:
		return 0;	/* pools, and what a newer module may add */
	}
	if (!tb[RNAT_A_VPN_ID])
		return nl_malformed("event");
	id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	switch (cmd) {
	case RNAT_CMD_MAP_FLUSH:
		annot_vpn_flush(t, id);
		return 0;
	case RNAT_CMD_VPN_DEL:
		annot_vpn_flush(t, id);
		return annot_vpn_rename(t, id, NULL);
	case RNAT_CMD_VPN_NEW:
	case RNAT_CMD_VPN_SET:
		return annot_vpn_rename(t, id, tb[RNAT_A_VPN_NAME] ?
					mnl_attr_get_str(tb[RNAT_A_VPN_NAME]) :
					NULL);
	}
	if (!tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping event");
	m.vpn = id;
	m.len = plen ? mnl_attr_get_u8(plen) : 32;
	m.nat = mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]);
	m.real = mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]);
	if (m.len > 32 || (m.nat & ~prefix_mask(m.len)) ||
	    (m.real & ~prefix_mask(m.len)))
		return nl_malformed("mapping event");
	m.nat = ntohl(m.nat);
	m.real = ntohl(m.real);
	if (cmd == RNAT_CMD_MAP_DEL) {
		annot_map_gone(t, &m);
		return 0;
	}
	return annot_map_new(t, &m);
}

/* ASCII only: the locale must not change what an address looks like. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

size_t annot_scan_addr(const char *s, size_t len, size_t i, uint32_t *addr)
{
	size_t p = i, start;
	uint32_t a = 0;
	unsigned int v;
	int k;

	/* Not the tail of a word, a number or a longer dotted string. */
	if (i > 0 && (is_word(s[i - 1]) ||
		      (s[i - 1] == '.' && i > 1 && is_word(s[i - 2]))))
		return 0;
	for (k = 0; k < 4; k++) {
		if (k) {
			if (p >= len || s[p] != '.')
				return 0;
			p++;
		}
		start = p;
		v = 0;
		while (p < len && is_digit(s[p]) && p - start < 3)
			v = v * 10 + (s[p++] - '0');
		if (p == start || v > 255 || (p - start > 1 && s[start] == '0'))
			return 0;
		a = a << 8 | v;
	}
	/* Not the head of a longer number, word or dotted string either
	 * (a sentence's full stop is fine).
	 */
	if (p < len && (is_word(s[p]) ||
			(s[p] == '.' && p + 1 < len && is_word(s[p + 1]))))
		return 0;
	*addr = a;
	return p - i;
}

/*
 * The length of a ":PORT" or "/LEN" at @s[@p] that belongs with the address
 * before it, else 0: the annotation goes after it, keeping it attached.
 */
static size_t suffix_len(const char *s, size_t len, size_t p)
{
	unsigned long v = 0, max;
	size_t q;

	if (p >= len || (s[p] != ':' && s[p] != '/'))
		return 0;
	max = s[p] == ':' ? 65535 : 32;
	for (q = p + 1; q < len && is_digit(s[q]) && v <= max; q++)
		v = v * 10 + (s[q] - '0');
	if (q == p + 1 || v > max || (q < len && is_word(s[q])))
		return 0;
	return q - p;
}

static int annotate_map(const struct annot_table *t,
			const struct annot_map *m, uint32_t addr, FILE *out)
{
	uint32_t real = m->real | (addr & ~ntohl(prefix_mask(m->len)));
	const char *name = annot_vpn_name(t, m->vpn);
	char buf[PREFIX_STRLEN];

	format_prefix(buf, htonl(real), 32, false);
	if (name)
		return fprintf(out, " [%s %s]", name, buf) < 0 ? -1 : 0;
	return fprintf(out, " [vpn %u %s]", m->vpn, buf) < 0 ? -1 : 0;
}

int annot_line(const struct annot_table *t, const char *line, size_t len,
	       FILE *out)
{
	const struct annot_map *m;
	size_t i = 0, done = 0, n;
	uint32_t addr;

	while (i < len) {
		if (!is_digit(line[i])) {
			i++;
			continue;
		}
		n = annot_scan_addr(line, len, i, &addr);
		if (!n) {
			/* Skip the whole run: no address starts inside it. */
			while (i < len && is_digit(line[i]))
				i++;
			continue;
		}
		i += n;
		m = annot_find(t, addr);
		if (!m)
			continue;
		i += suffix_len(line, len, i);
		if (fwrite(line + done, 1, i - done, out) != i - done ||
		    annotate_map(t, m, addr, out))
			return -1;
		done = i;
	}
	if (fwrite(line + done, 1, len - done, out) != len - done)
		return -1;
	return 0;
}

/*
 * Waits until @fd has input (or its end), bringing @t up to date whenever
 * @src's descriptor is readable meanwhile: 0, 1 (poll failed) or 3.
 */
static int annot_wait(struct annot_table *t, int fd,
		      const struct annot_source *src)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = src->fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[1].revents && src->update(t, src->arg))
			return 3;
		if (p[0].revents)
			return 0;
	}
}

int annot_stream(struct annot_table *t, int fd, FILE *out,
		 const struct annot_source *src)
{
	size_t cap = 65536, len = 0, scanned = 0, start;
	char *buf = malloc(cap), *nl, *p;
	ssize_t n;
	int err = 0;

	if (!buf)
		return 1;
	for (;;) {
		if (len == cap) {
			/* A line longer than the buffer: make room for more. */
			p = realloc(buf, cap * 2);
			if (!p) {
				err = 1;
				break;
			}
			buf = p;
			cap *= 2;
		}
		if (src) {
			err = annot_wait(t, fd, src);
			if (err)
				break;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = 1;
			break;
		}
		/* Every change announced so far, before a line is annotated. */
		if (src && src->update(t, src->arg)) {
			err = 3;
			break;
		}
		if (!n) {
			/* The last line may lack its newline. */
			if (annot_line(t, buf, len, out) || fflush(out))
				err = 2;
			break;
		}
		len += n;
		/* Every complete line, its newline kept after the annotations. */
		start = 0;
		while ((nl = memchr(buf + scanned, '\n', len - scanned))) {
			scanned = nl - buf + 1;
			if (annot_line(t, buf + start, scanned - start, out)) {
				err = 2;
				goto out;
			}
			start = scanned;
		}
		scanned = len - start;
		memmove(buf, buf + start, scanned);
		len = scanned;
		/* Before waiting for more input: nothing read stays behind. */
		if (fflush(out)) {
			err = 2;
			break;
		}
	}
out:
	free(buf);
	return err;
}

int annot_vpn_reply(const struct nlattr **tb, void *data)
{
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_VPN_NAME])
		return 0;	/* shown as "vpn ID" */
	return annot_add_vpn(data, mnl_attr_get_u32(tb[RNAT_A_VPN_ID]),
			     mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
}

int annot_map_reply(const struct nlattr **tb, void *data)
{
	int err;

	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping");
	err = annot_add_map(data, mnl_attr_get_u32(tb[RNAT_A_VPN_ID]),
			    mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]),
			    mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]),
			    tb[RNAT_A_MAP_PLEN] ?
			    mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32);
	return err == -EINVAL ? nl_malformed("mapping") : err;
}

/* Both dumps into @t: 0 or EXIT_ERROR after printing why not. */
static int annot_load(struct annot_table *t)
{
	if (nl_need() ||
	    nl_exec(nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP), annot_vpn_reply, t) ||
	    nl_exec(nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP), annot_map_reply, t))
		return EXIT_ERROR;
	if (annot_finish(t)) {
		pr_err("%s", strerror(ENOMEM));
		return EXIT_ERROR;
	}
	return 0;
}

/*
 * A socket of its own in the "events" group, joined before the tables are
 * read so that no change falls between; with a large buffer (best effort),
 * as a burst of changes while the input is quiet must wait in it.
 */
static struct mnl_socket *annot_events_open(void)
{
	uint32_t group = nl_events_group();
	int size = 8 << 20;
	struct mnl_socket *s;
	int fd;

	if (!group) {
		pr_err("the rnat module has no \"%s\" group: annotate cannot follow changes",
		       RNAT_GENL_MCGRP_EVENTS);
		return NULL;
	}
	s = mnl_socket_open(NETLINK_GENERIC);
	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		pr_err("cannot join the events group: %s", strerror(errno));
		if (s)
			mnl_socket_close(s);
		return NULL;
	}
	fd = mnl_socket_get_fd(s);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return s;
}

/*
 * The annot_source update: applies every event queued on the socket @arg,
 * without waiting. After a restore, or when events were lost (the buffer
 * overflowed), the table is read again once the queue is empty: what was
 * queued before is in the new dumps, what comes during them is applied
 * after. 0, or -1 having printed why.
 */
static int annot_update(struct annot_table *t, void *arg)
{
	static char buf[65536];
	const struct nlattr *tb[RNAT_A_MAX + 1];
	const struct genlmsghdr *g;
	const struct nlmsghdr *nlh;
	struct mnl_socket *s = arg;
	bool reload = false;
	ssize_t n;
	int len, err;

	for (;;) {
		n = recv(mnl_socket_get_fd(s), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			reload = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!reload)
				return 0;
			reload = false;
			annot_free(t);
			if (annot_load(t))
				return -1;
			continue;
		}
		if (n < 0) {
			pr_err("cannot read events: %s", strerror(errno));
			return -1;
		}
		len = n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			/* Only to be read again: the table's changes are void. */
			if (nlh->nlmsg_type != nl_family() || reload)
				continue;
			err = nl_parse_reply(nlh, tb);
			g = mnl_nlmsg_get_payload(nlh);
			if (!err)
				err = annot_event(t, g->cmd, nlh->nlmsg_flags, tb);
			if (err == ANNOT_RELOAD) {
				reload = true;
			} else if (err) {
				pr_err("%s", err == -ENOMEM ? strerror(ENOMEM) :
				       nl_strerror(err));
				return -1;
			}
		}
	}
}

int do_annotate(int argc, char **argv)
{
	static const char *const help[] = { "help", NULL };
	struct annot_source src = { .update = annot_update };
	struct annot_table t = { 0 };
	struct mnl_socket *events;
	int err;

	if (argc && keyword(argv[0], help, NULL) == 0) {
		annotate_usage(out_stream());
		return 0;
	}
	if (argc)
		return usage_error("annotate: unexpected \"%s\"", argv[0]);
	if (out_json())
		return usage_error("annotate: copies text, there is no JSON output");
	if (nl_need())
		return EXIT_ERROR;
	events = annot_events_open();
	if (!events)
		return EXIT_ERROR;
	src.fd = mnl_socket_get_fd(events);
	src.arg = events;
	err = annot_load(&t);
	if (!err) {
		err = annot_stream(&t, STDIN_FILENO, out_stream(), &src);
		if (err == 1)
			pr_err("cannot read the input: %s", strerror(errno));
		else if (err == 2)
			pr_err("cannot write the output: %s", strerror(errno));
		err = err ? EXIT_ERROR : 0;
	}
	annot_free(&t);
	mnl_socket_close(events);
	return err;
}
