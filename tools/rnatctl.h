/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objects' commands (pool.c, vpn.c, map.c) as main and the unit tests
 * see them. Each do_* takes the words after the object and returns an exit
 * status (0, EXIT_ERROR or EXIT_USAGE) having printed what went wrong; it
 * sends nothing to the kernel unless every word parsed.
 */
#ifndef RNATCTL_H
#define RNATCTL_H

#include <stdint.h>
#include <stdio.h>

#include "nl.h"

int do_pool(int argc, char **argv);
int do_vpn(int argc, char **argv);
int do_map(int argc, char **argv);
int do_lookup(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_route(int argc, char **argv);
int do_monitor(int argc, char **argv);
int do_save(int argc, char **argv);
int do_metrics(int argc, char **argv);
int do_fleet(int argc, char **argv);

/* Blocks "vpn add ... blocks" takes: what fits the request buffer. */
#define VPN_BLOCKS_MAX 2048

void pool_usage(FILE *f);
void vpn_usage(FILE *f);
void map_usage(FILE *f);
void lookup_usage(FILE *f);
void route_usage(FILE *f);
void monitor_usage(FILE *f);
void metrics_usage(FILE *f);
void fleet_usage(FILE *f);

/* Reply printers, one object per call (text line or JSON object). */
int pool_print(const struct nlattr **tb, void *data);
int vpn_print(const struct nlattr **tb, void *data);
int map_print(const struct nlattr **tb, void *data);

/* Reads one entry of a prefix list (pool prefixes, VPN blocks): 0 or -EPROTO. */
struct prefix;
int prefix_entry(const struct nlattr *entry, struct prefix *p);
/* Adds one prefix as a nest of type @attr to a request. */
void prefix_put(struct nlmsghdr *nlh, uint16_t attr, const struct prefix *p);
/* Adds a prefix list attribute (pool prefixes, VPN blocks) to a request. */
void prefixes_put(struct nlmsghdr *nlh, uint16_t attr, const struct prefix *p,
		  int n);
/* Checks every entry of a prefix list (may be NULL): 0 or -EPROTO. */
int prefixes_check(const struct nlattr *list);
/*
 * Prints a checked prefix list: " P1", then @sep before each next one, in
 * text; an array @key in JSON.
 */
void prefixes_print(const struct nlattr *list, const char *key,
		    const char *sep);

/*
 * Makes the routes of protocol RNAT_RTPROT match the module's VPN blocks
 * and pools (see routes.c): 0 or EXIT_ERROR.
 */
int routes_sync(void);
/*
 * One command's routes (routes_vpn.c). main arms it before a command line
 * (not a batch); a command that changes one VPN calls routes_vpn_touch()
 * (or routes_vpn_touch_nat() with a NAT address of the VPN's) after
 * nl_need() and before its nl_request(). After the command,
 * routes_vpn_sync() syncs that VPN's routes, or all with routes_sync() if
 * the command touched no VPN or several, or @cmd_err says it failed: 0 or
 * EXIT_ERROR. routes_vpn_end() releases what a touch held.
 */
void routes_vpn_arm(void);
void routes_vpn_touch(uint32_t vpn);
void routes_vpn_touch_nat(uint32_t nat);
int routes_vpn_sync(int cmd_err);
void routes_vpn_end(void);

/* Checks a VPN's mark attributes: 0 or -EPROTO. */
int vpn_marks_check(const struct nlattr **tb);
/*
 * Prints a checked VPN's marks: " mark M out-mark M" (as vpn add takes them);
 * with @none, a mark the VPN lacks as " mark none" in text (as vpn set
 * takes it).
 */
void vpn_marks_print(const struct nlattr **tb, bool none);

/*
 * A VPN with more blocks than a message holds comes as several messages,
 * each with a slice of its blocks ("Long block lists" in the uapi header).
 * vpn_part() places a checked VPN message among them: *@first if it starts
 * a VPN, *@last if it ends one; -EPROTO if it continues no VPN (or another
 * one) or leaves one unfinished, -EAGAIN (nl_dump_changed()) if a change
 * during the dump did that. vpn_parts_open() tells whether a VPN is still
 * waiting for its last message; vpn_parts_reset() forgets it.
 */
int vpn_part(const struct nlattr **tb, bool *first, bool *last);
bool vpn_parts_open(void);
void vpn_parts_reset(void);
/* After a dump of VPNs: 0, or the error of one that ended unfinished. */
int vpn_parts_end(void);
/* Prints the entries of a prefix list: @lead before the first, @sep before
 * each next one in text; strings in JSON (inside an open array).
 */
void prefix_entries_print(const struct nlattr *list, const char *lead,
			  const char *sep);

/*
 * A mapping's counters (RNAT_A_MAP_STATS), as -s shows them, or their sum
 * over a VPN's mappings (the least idle time of them).
 */
struct map_stats {
	bool present;
	uint64_t packets[2], bytes[2];	/* [0] in (from the VPN), [1] out */
	uint64_t icmp[2][4];		/* unreach, refused, frag-needed, time */
	bool used;
	uint64_t idle_ms;
};

/* Reads a RNAT_A_MAP_STATS nest (may be NULL: none): 0 or -EPROTO. */
int map_stats_get(const struct nlattr *nest, struct map_stats *s);
/* Adds @s to @sum. */
void map_stats_add(struct map_stats *sum, const struct map_stats *s);
/* Under a mapping's or VPN's line (text), or inside its object (JSON). */
void map_stats_print(const struct map_stats *s);

/*
 * Sums the counters of every VPN's mappings (only @vpn's unless 0), for
 * vpn_totals(): 0 or EXIT_ERROR (said why).
 */
int vpn_totals_read(uint32_t vpn);
/* A VPN's totals as last read, NULL if it was not there. */
const struct map_stats *vpn_totals(uint32_t vpn);

/* Adds a mark as a nest of type @attr. */
struct mark;
void mark_put(struct nlmsghdr *nlh, uint16_t attr, const struct mark *m);
/*
 * The name of the device @ifindex into @name (IF_NAMESIZE bytes): of this
 * host's namespace, or with --store of the region's VPNs. false if none.
 */
bool dev_name(uint32_t ifindex, char *name);

/* Fetches a VPN's name into @name (RNAT_NAME_MAX bytes): 0 or -errno. */
int vpn_name(uint32_t id, char *name);

/* A command beyond add, del and show ("set", "flush"...). */
struct object_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

#define OBJECT_MORE_MAX 4

/* An object with add, del and show commands (pool, vpn, map). */
struct object {
	const char *name;
	int (*add)(int argc, char **argv);
	int (*del)(int argc, char **argv);
	int (*show)(int argc, char **argv);
	void (*usage)(FILE *f);
	const struct object_cmd *more;	/* NULL-terminated, or NULL */
};

/* Runs the command @argv[0] names (show without one; also del/delete,
 * show/list, help): an exit status.
 */
int do_object(const struct object *o, int argc, char **argv);

#endif
