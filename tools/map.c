// SPDX-License-Identifier: GPL-2.0
/* rnatctl map (add, del, show) and lookup. */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

static void map_usage(FILE *f)
{
	fputs("Usage: rnatctl map add vpn ID real ADDR[/LEN] [nat ADDR]\n"
	      "       rnatctl map del vpn ID real ADDR[/LEN]\n"
	      "       rnatctl map del nat ADDR[/LEN]\n"
	      "       rnatctl map show [vpn ID]\n"
	      "       rnatctl lookup ADDR [vpn ID]\n"
	      "Without nat, the NAT prefix is the lowest free one of the VPN's pool.\n"
	      "LEN is 16 to 32; the NAT prefix has the same length as the real one.\n",
	      f);
}

/* What a map command names: any of vpn ID, real PREFIX, nat ADDR[/LEN]. */
struct map_args {
	uint32_t vpn;
	struct prefix real;
	struct prefix nat;
	bool has_vpn, has_real, has_nat;
};

static int map_parse(int argc, char **argv, struct map_args *a, bool allow_nat)
{
	static const char *const keys[] = { "vpn", "real", "nat", NULL };
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i += 2) {
		int k = keyword(argv[i], keys, NULL);

		if (k < 0 || (k == 2 && !allow_nat))
			return usage_error("unknown map keyword \"%s\"", argv[i]);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", keys[k]);
		if (k == 0) {
			if (parse_u32(argv[i + 1], "VPN id", 1, RNAT_VPN_ID_MAX, &a->vpn))
				return EXIT_USAGE;
			a->has_vpn = true;
		} else if (k == 1) {
			if (parse_prefix(argv[i + 1], &a->real, RNAT_MAP_PLEN_MIN))
				return EXIT_USAGE;
			a->has_real = true;
		} else {
			if (parse_prefix(argv[i + 1], &a->nat, RNAT_MAP_PLEN_MIN))
				return EXIT_USAGE;
			a->has_nat = true;
		}
	}
	return 0;
}

static void put_mapping_args(struct nlmsghdr *nlh, const struct map_args *a)
{
	if (a->has_vpn)
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, a->vpn);
	if (a->has_real)
		mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, a->real.addr);
	if (a->has_nat)
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, a->nat.addr);
	if (a->has_real || a->has_nat)
		mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN,
				a->has_real ? a->real.len : a->nat.len);
}

static int map_print(const struct nlattr **tb, void *data)
{
	char buf[32];
	uint8_t len;

	(void)data;
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return 0;
	len = tb[RNAT_A_MAP_PLEN] ? mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32;
	out_obj_begin();
	out_uint("vpn", mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	out_str("real", format_prefix(mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]), len,
				      buf, sizeof(buf)));
	out_str("nat", format_prefix(mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]), len,
				     buf, sizeof(buf)));
	if (tb[RNAT_A_POOL])
		out_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
	out_obj_end();
	return 0;
}

static int map_add(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct map_args a;
	int err = map_parse(argc, argv, &a, true);

	if (err)
		return err;
	if (!a.has_vpn || !a.has_real)
		return usage_error("map add needs vpn ID and real ADDR[/LEN]");
	if (a.has_nat && a.nat.len != 32 && a.nat.len != a.real.len)
		return usage_error("the NAT prefix must be as long as the real one");
	a.nat.len = a.real.len;
	if (a.has_nat && (a.nat.addr & ~prefix_mask(a.nat.len))) {
		char buf[32];

		return usage_error("NAT %s has host bits set for /%u",
				   format_prefix(a.nat.addr, 32, buf, sizeof(buf)),
				   a.nat.len);
	}
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_NEW, NLM_F_CREATE | NLM_F_EXCL);
	put_mapping_args(nlh, &a);
	return nl_talk(nlh, map_print, NULL) ? EXIT_ERROR : 0;
}

static int map_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct map_args a;
	int err = map_parse(argc, argv, &a, true);

	if (err)
		return err;
	if (a.has_nat == (a.has_vpn || a.has_real) ||
	    (!a.has_nat && !(a.has_vpn && a.has_real)))
		return usage_error("map del needs vpn ID real ADDR[/LEN], or nat ADDR[/LEN]");
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_DEL, 0);
	put_mapping_args(nlh, &a);
	return nl_talk(nlh, NULL, NULL) ? EXIT_ERROR : 0;
}

static int map_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct map_args a;
	int err = map_parse(argc, argv, &a, false);

	if (err)
		return err;
	if (a.has_real)
		return usage_error("map show filters by vpn ID only (use lookup)");
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP);
	if (a.has_vpn)
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, a.vpn);
	out_list_begin();
	err = nl_talk(nlh, map_print, NULL);
	out_list_end();
	return err ? EXIT_ERROR : 0;
}

struct lookup {
	uint32_t addr;
	bool by_nat;
	bool found;
	uint32_t vpn, real, nat;
	uint8_t len;
};

static int lookup_cb(const struct nlattr **tb, void *data)
{
	struct lookup *l = data;

	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return 0;
	l->found = true;
	l->vpn = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	l->real = mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]);
	l->nat = mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]);
	l->len = tb[RNAT_A_MAP_PLEN] ? mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32;
	return 0;
}

int do_lookup(int argc, char **argv)
{
	struct lookup l = { 0 };
	char name[RNAT_NAME_MAX], a1[32], a2[32];
	struct nlmsghdr *nlh;
	uint32_t host, vpn = 0;

	if (argc == 1 && matches(argv[0], "help")) {
		map_usage(stdout);
		return 0;
	}
	if (argc != 1 && argc != 3)
		return usage_error("lookup needs ADDR [vpn ID]");
	if (parse_addr(argv[0], &l.addr))
		return EXIT_USAGE;
	if (argc == 3) {
		if (!matches(argv[1], "vpn"))
			return usage_error("unknown lookup keyword \"%s\"", argv[1]);
		if (parse_u32(argv[2], "VPN id", 1, RNAT_VPN_ID_MAX, &vpn))
			return EXIT_USAGE;
	}
	l.by_nat = !vpn;
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_MAP_GET, 0);
	if (vpn) {
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
		mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, l.addr);
	} else {
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, l.addr);
	}
	if (nl_talk(nlh, lookup_cb, &l) || !l.found)
		return EXIT_ERROR;
	/* Inside a prefix mapping, addresses keep their offset. */
	host = l.addr & ~prefix_mask(l.len);
	if (vpn_name(l.vpn, name, sizeof(name)))
		return EXIT_ERROR;
	out_obj_begin();
	if (l.by_nat) {
		out_str("nat", format_prefix(l.addr, 32, a1, sizeof(a1)));
		out_uint("vpn", l.vpn);
		out_str("name", name);
		out_str("real", format_prefix(l.real | host, 32, a2, sizeof(a2)));
	} else {
		out_str("real", format_prefix(l.addr, 32, a1, sizeof(a1)));
		out_uint("vpn", l.vpn);
		out_str("name", name);
		out_str("nat", format_prefix(l.nat | host, 32, a2, sizeof(a2)));
	}
	if (l.len < 32)
		out_str("mapping", format_prefix(l.real, l.len, a1, sizeof(a1)));
	out_obj_end();
	return 0;
}

int do_map(int argc, char **argv)
{
	static const char *const cmds[] = { "add", "del", "delete", "show", "list", "help", NULL };
	static const int ids[] = { 0, 1, 1, 2, 2, 3 };

	if (argc < 1)
		return map_show(0, NULL);
	switch (command("map", argv[0], cmds, ids)) {
	case 0:
		return map_add(argc - 1, argv + 1);
	case 1:
		return map_del(argc - 1, argv + 1);
	case 2:
		return map_show(argc - 1, argv + 1);
	case 3:
		map_usage(stdout);
		return 0;
	default:
		map_usage(stderr);
		return EXIT_USAGE;
	}
}
