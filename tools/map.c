// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the mapping object: "rnatctl map add|replace|del|flush|show", how a
 * mapping is printed, and "rnatctl lookup" (which mapping translates an
 * address).
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

void map_usage(FILE *f)
{
	fprintf(f,
		"Usage: rnatctl map add vpn ID real ADDR[/LEN] [nat ADDR [block PREFIX]]\n"
		"       rnatctl map replace vpn ID real ADDR[/LEN] [nat ADDR]\n"
		"       rnatctl map del vpn ID real ADDR[/LEN]\n"
		"       rnatctl map del nat ADDR[/LEN]\n"
		"       rnatctl map flush vpn ID\n"
		"       rnatctl map show [vpn ID] [pool NAME] [nat PREFIX] [real PREFIX]\n"
		"LEN := %d to 32 (default 32); the NAT prefix is as long as the real one.\n"
		"Without nat, the lowest free address of the VPN's blocks is taken.\n"
		"replace makes real map to nat, replacing the VPN's mappings of either;\n"
		"without nat it keeps an existing mapping or adds one.\n"
		"block: the VPN's new block for a nat in none (what rnatd gives).\n"
		"show lists the mappings matching every filter: a nat or real PREFIX\n"
		"(/%d to /32) holds the mapping's whole prefix.\n",
		RNAT_MAP_PLEN_MIN, RNAT_POOL_PLEN_MIN);
}

void lookup_usage(FILE *f)
{
	fputs("Usage: rnatctl lookup NAT_ADDR\n"
	      "       rnatctl lookup REAL_ADDR vpn ID\n", f);
}

enum { VPN, REAL, NAT, POOL, BLOCK = POOL };
static const char *const map_keys[] = { "vpn", "real", "nat", NULL };
/* map add's words: the fourth is a block (show's is a pool). */
static const char *const add_keys[] = { "vpn", "real", "nat", "block", NULL };
/* "map show" filters: the same words, and a pool. */
static const char *const show_keys[] = { "vpn", "real", "nat", "pool", NULL };

/* A mapping as a reply carries it. */
struct mapping {
	uint32_t vpn;
	uint32_t real, nat;	/* network byte order */
	uint8_t len;
	const char *pool;
	struct map_stats stats;
};

static int map_stats_attr(const struct nlattr *a, void *data)
{
	struct map_stats *s = data;
	uint16_t type = mnl_attr_get_type(a);
	uint64_t *u64;
	unsigned int i;

	switch (type) {
	case RNAT_MAP_STATS_A_IN_PACKETS:
		u64 = &s->packets[0];
		break;
	case RNAT_MAP_STATS_A_IN_BYTES:
		u64 = &s->bytes[0];
		break;
	case RNAT_MAP_STATS_A_OUT_PACKETS:
		u64 = &s->packets[1];
		break;
	case RNAT_MAP_STATS_A_OUT_BYTES:
		u64 = &s->bytes[1];
		break;
	case RNAT_MAP_STATS_A_IDLE_MS:
		s->used = true;
		u64 = &s->idle_ms;
		break;
	case RNAT_MAP_STATS_A_IN_UNREACH ... RNAT_MAP_STATS_A_OUT_TIME_EXCEEDED:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		i = type - RNAT_MAP_STATS_A_IN_UNREACH;
		s->icmp[i / 4][i % 4] = mnl_attr_get_u32(a);
		return MNL_CB_OK;
	default:
		return MNL_CB_OK;	/* pad, or from a newer module */
	}
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return MNL_CB_ERROR;
	*u64 = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

int map_stats_get(const struct nlattr *nest, struct map_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!nest)
		return 0;
	s->present = true;
	if (mnl_attr_parse_nested(nest, map_stats_attr, s) < 0)
		return nl_malformed("mapping counters");
	return 0;
}

void map_stats_print(const struct map_stats *s)
{
	static const char *const dirs[] = { "in", "out" };
	static const char *const icmp[] = {
		"unreach", "refused", "frag-needed", "time-exceeded"
	};
	static const char *const icmp_json[] = {
		"unreach", "refused", "frag_needed", "time_exceeded"
	};
	int d, i;

	if (!s->present)
		return;
	if (out_json()) {
		json_obj_open("stats");
		for (d = 0; d < 2; d++) {
			json_obj_open(dirs[d]);
			json_uint("packets", s->packets[d]);
			json_uint("bytes", s->bytes[d]);
			for (i = 0; i < 4; i++)
				json_uint(icmp_json[i], s->icmp[d][i]);
			json_obj_close();
		}
		if (s->used)
			json_uint("idle_ms", s->idle_ms);
		else
			json_null("idle_ms");
		json_obj_close();
		return;
	}
	for (d = 0; d < 2; d++) {
		out_printf("    %-3s packets %llu bytes %llu icmp", dirs[d],
			   (unsigned long long)s->packets[d],
			   (unsigned long long)s->bytes[d]);
		for (i = 0; i < 4; i++)
			out_printf(" %s %llu", icmp[i],
				   (unsigned long long)s->icmp[d][i]);
		out_printf("\n");
	}
	if (s->used)
		out_printf("    idle %llu.%03llu s\n",
			   (unsigned long long)s->idle_ms / 1000,
			   (unsigned long long)s->idle_ms % 1000);
	else
		out_printf("    never used\n");
}

void map_stats_add(struct map_stats *sum, const struct map_stats *s)
{
	int d, i;

	if (!s->present)
		return;
	sum->present = true;
	for (d = 0; d < 2; d++) {
		sum->packets[d] += s->packets[d];
		sum->bytes[d] += s->bytes[d];
		for (i = 0; i < 4; i++)
			sum->icmp[d][i] += s->icmp[d][i];
	}
	if (s->used && (!sum->used || s->idle_ms < sum->idle_ms)) {
		sum->used = true;
		sum->idle_ms = s->idle_ms;
	}
}

static int mapping_get(const struct nlattr **tb, struct mapping *m)
{
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping");
	m->vpn = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	m->real = mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]);
	m->nat = mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]);
	m->len = tb[RNAT_A_MAP_PLEN] ? mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32;
	m->pool = tb[RNAT_A_POOL] ? mnl_attr_get_str(tb[RNAT_A_POOL]) : NULL;
	if (m->len > 32)
		return nl_malformed("mapping");
	return map_stats_get(tb[RNAT_A_MAP_STATS], &m->stats);
}

int map_print(const struct nlattr **tb, void *data)
{
	char real[PREFIX_STRLEN], nat[PREFIX_STRLEN];
	struct mapping m;
	int err = mapping_get(tb, &m);

	(void)data;
	if (err)
		return err;
	if (out_json()) {
		json_obj_open(NULL);
		json_uint("vpn", m.vpn);
		json_str("real", format_prefix(real, m.real, 32, false));
		json_str("nat", format_prefix(nat, m.nat, 32, false));
		json_uint("plen", m.len);
		if (m.pool)
			json_str("pool", m.pool);
		map_stats_print(&m.stats);
		json_obj_close();
		return 0;
	}
	out_printf("vpn %u real %s nat %s", m.vpn,
		   format_prefix(real, m.real, m.len, false),
		   format_prefix(nat, m.nat, m.len, false));
	if (m.pool)
		out_printf(" pool %s", m.pool);
	out_printf("\n");
	map_stats_print(&m.stats);
	return 0;
}

/* The words of a map command, parsed. */
struct map_args {
	const char *val[4];
	uint32_t vpn;
	struct prefix real, nat, block;
};

static int map_args(int argc, char **argv, const char *cmd,
		    const char *const *keys, struct map_args *a)
{
	bool show = keys == show_keys;
	/* A filter prefix may be as short as a pool's. */
	uint8_t min = show ? RNAT_POOL_PLEN_MIN : RNAT_MAP_PLEN_MIN;
	const char *nat;
	unsigned int len;

	memset(a, 0, sizeof(*a));
	if (parse_pairs(argc, argv, cmd, keys, a->val))
		return -1;
	if (a->val[VPN] &&
	    parse_u32(a->val[VPN], "VPN id", 1, RNAT_VPN_ID_MAX, &a->vpn))
		return -1;
	if (show && a->val[POOL] && parse_name(a->val[POOL], "pool"))
		return -1;
	if (!show && a->val[BLOCK] &&
	    parse_prefix(a->val[BLOCK], RNAT_POOL_PLEN_MIN, &a->block))
		return -1;
	if (a->val[REAL] && parse_prefix(a->val[REAL], min, &a->real))
		return -1;
	nat = a->val[NAT];
	if (nat && parse_prefix(nat, min, &a->nat))
		return -1;
	if (show)
		return 0;
	/* With a real prefix, a bare NAT address starts one as long. */
	if (nat && a->val[REAL] && !strchr(nat, '/')) {
		len = a->real.len;
		if (a->nat.addr & ~prefix_mask(len)) {
			pr_err("%s/%u has host bits set (nat is as long as real %s)",
			       nat, len, a->val[REAL]);
			return -1;
		}
		a->nat.len = len;
	}
	if (nat && a->val[REAL] && a->nat.len != a->real.len) {
		pr_err("nat %s and real %s differ in length", nat,
		       a->val[REAL]);
		return -1;
	}
	return 0;
}

/* map add and map replace: @flags says which. */
static int map_new(int argc, char **argv, const char *cmd, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct map_args a;

	if (map_args(argc, argv, cmd, flags & NLM_F_REPLACE ? map_keys : add_keys,
		     &a))
		return EXIT_USAGE;
	if (!a.val[VPN])
		return usage_error("%s: missing \"vpn ID\"", cmd);
	if (!a.val[REAL])
		return usage_error("%s: missing \"real ADDR[/LEN]\"", cmd);
	if (a.val[BLOCK] && !a.val[NAT])
		return usage_error("%s: \"block\" needs \"nat ADDR\"", cmd);
	if (nl_need())
		return EXIT_ERROR;
	routes_vpn_touch(a.vpn);
	nlh = nl_request(RNAT_CMD_MAP_NEW, NLM_F_CREATE | NLM_F_ECHO | flags);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, a.vpn);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, a.real.addr);
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, a.real.len);
	if (a.val[NAT])
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, a.nat.addr);
	if (a.val[BLOCK])
		prefix_put(nlh, RNAT_A_MAP_BLOCK, &a.block);
	return nl_exec(nlh, map_print, NULL);
}

static int map_add(int argc, char **argv)
{
	return map_new(argc, argv, "map add", NLM_F_EXCL);
}

static int map_replace(int argc, char **argv)
{
	return map_new(argc, argv, "map replace", NLM_F_REPLACE);
}

static int map_flushed(const struct nlattr **tb, void *data)
{
	if (!tb[RNAT_A_VPN_MAPPINGS])
		return nl_malformed("flush reply");
	*(uint32_t *)data = mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]);
	return 0;
}

static int map_flush(int argc, char **argv)
{
	static const char *const keys[] = { "vpn", NULL };
	struct nlmsghdr *nlh;
	const char *val[1];
	uint32_t id, n = 0;

	if (parse_pairs(argc, argv, "map flush", keys, val))
		return EXIT_USAGE;
	if (!val[0])
		return usage_error("map flush: missing \"vpn ID\"");
	if (parse_u32(val[0], "VPN id", 1, RNAT_VPN_ID_MAX, &id))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	routes_vpn_touch(id);
	nlh = nl_request(RNAT_CMD_MAP_FLUSH, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	if (nl_exec(nlh, map_flushed, &n))
		return EXIT_ERROR;
	if (out_json()) {
		json_obj_open(NULL);
		json_uint("vpn", id);
		json_uint("flushed", n);
		json_obj_close();
	} else {
		out_printf("flushed %u mapping%s of vpn %u\n", n,
			   n == 1 ? "" : "s", id);
	}
	return 0;
}

static int map_del(int argc, char **argv)
{
	char buf[PREFIX_STRLEN];
	struct nlmsghdr *nlh;
	struct map_args a;

	if (map_args(argc, argv, "map del", map_keys, &a))
		return EXIT_USAGE;
	if (a.val[NAT] && (a.val[VPN] || a.val[REAL]))
		return usage_error("map del: name the mapping by \"vpn ID real ADDR[/LEN]\" "
				   "or by \"nat ADDR[/LEN]\", not both");
	if (!a.val[NAT] && !a.val[VPN] && !a.val[REAL])
		return usage_error("map del: missing \"vpn ID real ADDR[/LEN]\" or \"nat ADDR[/LEN]\"");
	if (!a.val[NAT] && !a.val[VPN])
		return usage_error("map del: missing \"vpn ID\"");
	if (!a.val[NAT] && !a.val[REAL])
		return usage_error("map del: missing \"real ADDR[/LEN]\"");
	if (nl_need())
		return EXIT_ERROR;
	if (a.val[NAT])
		routes_vpn_touch_nat(a.nat.addr);
	else
		routes_vpn_touch(a.vpn);
	nlh = nl_request(RNAT_CMD_MAP_DEL, 0);
	if (a.val[NAT]) {
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, a.nat.addr);
		mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, a.nat.len);
	} else {
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, a.vpn);
		mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, a.real.addr);
		mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, a.real.len);
	}
	if (nl_exec(nlh, NULL, NULL))
		return EXIT_ERROR;
	if (out_json()) {
		json_obj_open(NULL);
		if (a.val[NAT]) {
			json_str("nat", format_prefix(buf, a.nat.addr, 32, false));
			json_uint("plen", a.nat.len);
		} else {
			json_uint("vpn", a.vpn);
			json_str("real", format_prefix(buf, a.real.addr, 32, false));
			json_uint("plen", a.real.len);
		}
		json_bool("deleted", true);
		json_obj_close();
	}
	return 0;
}

static int map_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct map_args a;

	if (map_args(argc, argv, "map show", show_keys, &a))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP);
	if (a.val[VPN])
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, a.vpn);
	if (a.val[POOL])
		mnl_attr_put_strz(nlh, RNAT_A_POOL, a.val[POOL]);
	if (a.val[NAT])
		prefix_put(nlh, RNAT_A_FILTER_NAT, &a.nat);
	if (a.val[REAL])
		prefix_put(nlh, RNAT_A_FILTER_REAL, &a.real);
	if (out_stats())
		mnl_attr_put(nlh, RNAT_A_WANT_STATS, 0, NULL);
	return nl_show(nlh, map_print);
}

int do_map(int argc, char **argv)
{
	static const struct object_cmd more[] = {
		{ "replace", map_replace },
		{ "flush", map_flush },
		{ NULL, NULL }
	};
	static const struct object map = {
		"map", map_add, map_del, map_show, map_usage, more
	};

	return do_object(&map, argc, argv);
}

struct lookup {
	bool found;
	struct mapping m;
	char pool[RNAT_NAME_MAX];
};

static int lookup_cb(const struct nlattr **tb, void *data)
{
	struct lookup *l = data;
	int err = mapping_get(tb, &l->m);

	if (err)
		return err;
	/* The attribute lives in the receive buffer: keep a copy. */
	snprintf(l->pool, sizeof(l->pool), "%s", l->m.pool ? l->m.pool : "");
	l->m.pool = NULL;
	l->found = true;
	return 0;
}

int do_lookup(int argc, char **argv)
{
	static const char *const keys[] = { "vpn", NULL };
	static const char *const help[] = { "help", NULL };
	char name[RNAT_NAME_MAX], real[PREFIX_STRLEN], nat[PREFIX_STRLEN];
	struct lookup l = { 0 };
	const char *val[1];
	struct nlmsghdr *nlh;
	uint32_t addr, host, vpn = 0;

	if (argc < 1)
		return usage_error("lookup: missing ADDR");
	if (keyword(argv[0], help, NULL) == 0) {
		lookup_usage(out_stream());
		return 0;
	}
	if (parse_addr(argv[0], &addr) ||
	    parse_pairs(argc - 1, argv + 1, "lookup", keys, val) ||
	    (val[0] && parse_u32(val[0], "VPN id", 1, RNAT_VPN_ID_MAX, &vpn)))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_GET, 0);
	if (vpn) {
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
		mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, addr);
	} else {
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, addr);
	}
	if (out_stats())
		mnl_attr_put(nlh, RNAT_A_WANT_STATS, 0, NULL);
	if (nl_exec(nlh, lookup_cb, &l))
		return EXIT_ERROR;
	if (!l.found) {
		pr_err("no mapping for %s", argv[0]);
		return EXIT_ERROR;
	}
	/* Inside a prefix mapping an address keeps its offset. */
	host = addr & ~prefix_mask(l.m.len);
	format_prefix(real, vpn ? addr : (l.m.real | host), 32, false);
	format_prefix(nat, vpn ? (l.m.nat | host) : addr, 32, false);
	/* Best effort: the VPN may go away in between. */
	if (vpn_name(l.m.vpn, name))
		name[0] = '\0';
	if (out_json()) {
		json_obj_open(NULL);
		json_uint("vpn", l.m.vpn);
		if (name[0])
			json_str("name", name);
		json_str("real", real);
		json_str("nat", nat);
		json_uint("plen", l.m.len);
		if (l.pool[0])
			json_str("pool", l.pool);
		map_stats_print(&l.m.stats);
		json_obj_close();
		return 0;
	}
	if (vpn)
		out_printf("%s in vpn %u is %s\n", real, l.m.vpn, nat);
	else if (name[0])
		out_printf("%s is vpn %u (%s) real %s\n", nat, l.m.vpn, name,
			   real);
	else
		out_printf("%s is vpn %u real %s\n", nat, l.m.vpn, real);
	map_stats_print(&l.m.stats);
	return 0;
}
