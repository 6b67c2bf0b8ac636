/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "rnatctl annotate": a text filter that follows every NAT address it
 * knows with " [NAME REAL]", its VPN's name and the real address it stands
 * for. The mapping table is read at start, and kept current by the kernel's
 * events (annot_event()), so an address deleted or handed to another VPN
 * never keeps its old owner; the scanner below works on that in-memory
 * table and is what the unit tests exercise.
 */
#ifndef RNATCTL_ANNOTATE_H
#define RNATCTL_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/rnat.h>

int do_annotate(int argc, char **argv);
void annotate_usage(FILE *f);

/* A VPN's name as the VPN dump gave it. */
struct annot_vpn {
	uint32_t id;
	char name[RNAT_NAME_MAX];
};

/* One mapping; addresses in host byte order so they sort as numbers. */
struct annot_map {
	uint32_t nat, real;
	uint8_t len;
	bool gone;		/* in maps[]: deleted since (an event said so) */
	uint32_t vpn;
};

/*
 * Mappings the events added since the last merge, at most this many: then
 * they and maps[] merge into a new maps[] (one pass), so an event costs
 * little more than a memmove of this many entries.
 */
#define ANNOT_ADDED_MAX 4096

struct annot_table {
	struct annot_vpn *vpns;		/* sorted by id after annot_finish() */
	size_t nvpns, vpns_cap;
	struct annot_map *maps;		/* sorted by NAT after annot_finish() */
	size_t nmaps, maps_cap;
	/* maps[i].nat after annot_finish(): a compact array to search, 4 MiB
	 * for 10^6 mappings, so lookups miss the cache less.
	 */
	uint32_t *keys;
	size_t ngone;			/* maps[] marked gone */
	/* Added by events, sorted by NAT and length; a mapping of maps[]
	 * that an event changed is marked gone there and lives here.
	 */
	struct annot_map *added;
	size_t nadded, added_cap;
};

/* Adds a VPN, or a mapping (addresses in network byte order, as netlink
 * carries them): 0 or -ENOMEM / -EINVAL (length over 32, host bits set).
 */
int annot_add_vpn(struct annot_table *t, uint32_t id, const char *name);
int annot_add_map(struct annot_table *t, uint32_t vpn, uint32_t real,
		  uint32_t nat, uint8_t len);
/* nl_reply_cb()s adding a VPN_GET or MAP_GET dump's reply to the
 * struct annot_table @data.
 */
struct nlattr;
int annot_vpn_reply(const struct nlattr **tb, void *data);
int annot_map_reply(const struct nlattr **tb, void *data);
/* Sorts both arrays and gives each mapping its VPN's name; call after the
 * last add and before any lookup: 0 or -ENOMEM.
 */
int annot_finish(struct annot_table *t);
void annot_free(struct annot_table *t);

/* The mapping holding NAT address @addr (host byte order), or NULL. */
const struct annot_map *annot_find(const struct annot_table *t,
				   uint32_t addr);
/* VPN @id's name, or NULL if it has none or is unknown. */
const char *annot_vpn_name(const struct annot_table *t, uint32_t id);

/*
 * Applies one of the kernel's events (as nl_listen() hands them) to a
 * finished table: MAP_NEW (a replace's old mappings come as MAP_DEL first),
 * MAP_DEL, MAP_FLUSH, VPN_NEW, VPN_SET, VPN_DEL; others change nothing
 * annotate shows. Returns 0, -ENOMEM, -EPROTO for a malformed event, or
 * ANNOT_RELOAD when the table must be read again (a restore replaced the
 * whole state). Replaying an event whose change the table already holds
 * changes nothing, so the events that arrive while the table is read
 * (having joined the group before) bring it up to date.
 */
#define ANNOT_RELOAD 1
int annot_event(struct annot_table *t, uint8_t cmd, uint16_t flags,
		const struct nlattr **tb);

/*
 * Reads the dotted quad starting at @s[@i] (of @len bytes) if it stands on
 * its own: no leading zeros, not glued to a word character or to another
 * ".digits" on either side. Returns its length with *@addr in host byte
 * order, or 0.
 */
size_t annot_scan_addr(const char *s, size_t len, size_t i, uint32_t *addr);

/* Writes @len bytes of @line to @out, annotated: 0 or -1 (write error). */
int annot_line(const struct annot_table *t, const char *line, size_t len,
	       FILE *out);
/*
 * What keeps the table current while annot_stream() runs: @fd (the events
 * socket) is polled beside the input, and @update(@t, @arg) is called when
 * it is readable and before every batch of lines is annotated; it returns
 * 0, or non-zero (having printed why) to end the stream.
 */
struct annot_source {
	int fd;
	int (*update)(struct annot_table *t, void *arg);
	void *arg;
};

/*
 * Copies the file descriptor @fd to @out line by line (of any length),
 * annotated. @out is flushed whenever every complete line read so far is
 * written, before waiting for more input: a line is never held back in a
 * pipe. @src may be NULL (a table that does not change). Returns 0 at end
 * of input, or 1 for a read error or lack of memory, 2 for a write error,
 * with errno set, 3 when @src->update failed.
 */
int annot_stream(struct annot_table *t, int fd, FILE *out,
		 const struct annot_source *src);

#endif
