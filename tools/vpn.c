// SPDX-License-Identifier: GPL-2.0
/* rnatctl vpn: add, del, show. */

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

static void vpn_usage(FILE *f)
{
	fputs("Usage: rnatctl vpn add ID pool POOL dev DEV [name NAME]\n"
	      "       rnatctl vpn del ID\n"
	      "       rnatctl vpn show [ID]\n"
	      "ID is 1 to 2147483647; DEV is the VPN's network device.\n", f);
}

static int parse_vpn_id(const char *word, uint32_t *id)
{
	return parse_u32(word, "VPN id", 1, RNAT_VPN_ID_MAX, id);
}

static int vpn_print(const struct nlattr **tb, void *data)
{
	char ifname[IF_NAMESIZE];

	(void)data;
	if (!tb[RNAT_A_VPN_ID])
		return 0;
	out_obj_begin();
	out_uint("vpn", mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	if (tb[RNAT_A_VPN_NAME])
		out_str("name", mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
	if (tb[RNAT_A_POOL])
		out_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
	if (tb[RNAT_A_IFINDEX]) {
		uint32_t ifindex = mnl_attr_get_u32(tb[RNAT_A_IFINDEX]);

		if (if_indextoname(ifindex, ifname))
			out_str("dev", ifname);
		else
			out_uint("ifindex", ifindex);
	}
	if (tb[RNAT_A_VPN_MAPPINGS])
		out_uint("mappings", mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
	out_obj_end();
	return 0;
}

static int vpn_add(int argc, char **argv)
{
	static const char *const keys[] = { "pool", "dev", "name", NULL };
	const char *pool = NULL, *name = NULL;
	unsigned int ifindex = 0;
	struct nlmsghdr *nlh;
	uint32_t id;
	int i;

	if (argc < 1)
		return usage_error("vpn add needs an ID");
	if (parse_vpn_id(argv[0], &id))
		return EXIT_USAGE;
	for (i = 1; i < argc; i += 2) {
		int k = keyword(argv[i], keys, NULL);

		if (k < 0)
			return usage_error("unknown vpn add keyword \"%s\" (pool, dev, name)",
					   argv[i]);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", keys[k]);
		if (k == 0) {
			pool = argv[i + 1];
			if (parse_name(pool, "pool name"))
				return EXIT_USAGE;
		} else if (k == 1) {
			ifindex = if_nametoindex(argv[i + 1]);
			if (!ifindex) {
				fprintf(stderr, "Error: no device \"%s\"\n", argv[i + 1]);
				return EXIT_ERROR;
			}
		} else {
			name = argv[i + 1];
			if (parse_name(name, "VPN name"))
				return EXIT_USAGE;
		}
	}
	if (!pool || !ifindex)
		return usage_error("vpn add needs pool POOL and dev DEV");
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_VPN_NEW, NLM_F_CREATE | NLM_F_EXCL);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, pool);
	mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, ifindex);
	if (name)
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, name);
	return nl_talk(nlh, NULL, NULL) ? EXIT_ERROR : 0;
}

static int vpn_deleted(const struct nlattr **tb, void *data)
{
	(void)data;
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_VPN_MAPPINGS])
		return 0;
	out_obj_begin();
	out_str("deleted", "vpn");
	out_uint("vpn", mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	out_uint("mappings", mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
	out_obj_end();
	return 0;
}

static int vpn_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	uint32_t id;

	if (argc != 1)
		return usage_error("vpn del needs exactly one ID");
	if (parse_vpn_id(argv[0], &id))
		return EXIT_USAGE;
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_VPN_DEL, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	return nl_talk(nlh, vpn_deleted, NULL) ? EXIT_ERROR : 0;
}

static int vpn_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	uint32_t id;
	int err;

	if (argc > 1)
		return usage_error("vpn show takes at most one ID");
	if (argc && parse_vpn_id(argv[0], &id))
		return EXIT_USAGE;
	if (need_netlink())
		return EXIT_ERROR;
	if (argc) {
		nlh = nl_request(RNAT_CMD_VPN_GET, 0);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
		return nl_talk(nlh, vpn_print, NULL) ? EXIT_ERROR : 0;
	}
	nlh = nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP);
	out_list_begin();
	err = nl_talk(nlh, vpn_print, NULL);
	out_list_end();
	return err ? EXIT_ERROR : 0;
}

struct name_buf {
	char *name;
	size_t size;
};

static int vpn_name_cb(const struct nlattr **tb, void *data)
{
	struct name_buf *b = data;

	if (tb[RNAT_A_VPN_NAME])
		snprintf(b->name, b->size, "%s",
			 mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
	return 0;
}

int vpn_name(uint32_t id, char *name, size_t size)
{
	struct name_buf b = { name, size };
	struct nlmsghdr *nlh;

	*name = '\0';
	nlh = nl_request(RNAT_CMD_VPN_GET, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	return nl_talk(nlh, vpn_name_cb, &b);
}

int do_vpn(int argc, char **argv)
{
	static const char *const cmds[] = { "add", "del", "delete", "show", "list", "help", NULL };
	static const int ids[] = { 0, 1, 1, 2, 2, 3 };

	if (argc < 1)
		return vpn_show(0, NULL);
	switch (command("vpn", argv[0], cmds, ids)) {
	case 0:
		return vpn_add(argc - 1, argv + 1);
	case 1:
		return vpn_del(argc - 1, argv + 1);
	case 2:
		return vpn_show(argc - 1, argv + 1);
	case 3:
		vpn_usage(stdout);
		return 0;
	default:
		vpn_usage(stderr);
		return EXIT_USAGE;
	}
}
