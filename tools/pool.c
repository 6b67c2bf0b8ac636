// SPDX-License-Identifier: GPL-2.0
/* rnatctl pool: add, del, show. */

#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

static void pool_usage(FILE *f)
{
	fputs("Usage: rnatctl pool add NAME PREFIX [PREFIX...]\n"
	      "       rnatctl pool del NAME\n"
	      "       rnatctl pool show [NAME]\n"
	      "PREFIX is ADDR/LEN with LEN from 8 to 32.\n", f);
}

static int pool_print(const struct nlattr **tb, void *data)
{
	const struct nlattr *list = tb[RNAT_A_POOL_PREFIXES], *entry, *a;
	char buf[32];

	(void)data;
	if (!tb[RNAT_A_POOL])
		return 0;
	out_obj_begin();
	out_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
	out_strs_begin("prefixes");
	if (list) {
		mnl_attr_for_each_nested(entry, list) {
			uint32_t addr = 0;
			uint8_t len = 0;

			mnl_attr_for_each_nested(a, entry) {
				if (mnl_attr_get_type(a) == RNAT_PREFIX_A_ADDR)
					addr = mnl_attr_get_u32(a);
				else if (mnl_attr_get_type(a) == RNAT_PREFIX_A_LEN)
					len = mnl_attr_get_u8(a);
			}
			format_prefix(addr, 32, buf, sizeof(buf));
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "/%u", len);
			out_strs_add(buf);
		}
	}
	out_strs_end();
	if (tb[RNAT_A_POOL_SIZE])
		out_uint("size", mnl_attr_get_u32(tb[RNAT_A_POOL_SIZE]));
	if (tb[RNAT_A_POOL_USED])
		out_uint("used", mnl_attr_get_u32(tb[RNAT_A_POOL_USED]));
	out_obj_end();
	return 0;
}

static int pool_add(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct nlattr *list, *entry;
	struct prefix p;
	int i;

	if (argc < 2)
		return usage_error("pool add needs a NAME and at least one PREFIX");
	if (parse_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (argc - 1 > RNAT_POOL_PREFIXES_MAX)
		return usage_error("a pool has at most %d prefixes",
				   RNAT_POOL_PREFIXES_MAX);
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_POOL_NEW, NLM_F_CREATE | NLM_F_EXCL);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
	list = mnl_attr_nest_start(nlh, RNAT_A_POOL_PREFIXES);
	for (i = 1; i < argc; i++) {
		if (parse_prefix(argv[i], &p, RNAT_POOL_PLEN_MIN))
			return EXIT_USAGE;
		entry = mnl_attr_nest_start(nlh, i);
		mnl_attr_put_u32(nlh, RNAT_PREFIX_A_ADDR, p.addr);
		mnl_attr_put_u8(nlh, RNAT_PREFIX_A_LEN, p.len);
		mnl_attr_nest_end(nlh, entry);
	}
	mnl_attr_nest_end(nlh, list);
	return nl_talk(nlh, NULL, NULL) ? EXIT_ERROR : 0;
}

static int pool_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;

	if (argc != 1)
		return usage_error("pool del needs exactly one NAME");
	if (parse_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (need_netlink())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_POOL_DEL, 0);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
	return nl_talk(nlh, NULL, NULL) ? EXIT_ERROR : 0;
}

static int pool_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	int err;

	if (argc > 1)
		return usage_error("pool show takes at most one NAME");
	if (argc && parse_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (need_netlink())
		return EXIT_ERROR;
	if (argc) {
		nlh = nl_request(RNAT_CMD_POOL_GET, 0);
		mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
		return nl_talk(nlh, pool_print, NULL) ? EXIT_ERROR : 0;
	}
	nlh = nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP);
	out_list_begin();
	err = nl_talk(nlh, pool_print, NULL);
	out_list_end();
	return err ? EXIT_ERROR : 0;
}

int do_pool(int argc, char **argv)
{
	static const char *const cmds[] = { "add", "del", "delete", "show", "list", "help", NULL };
	static const int ids[] = { 0, 1, 1, 2, 2, 3 };

	if (argc < 1)
		return pool_show(0, NULL);
	switch (command("pool", argv[0], cmds, ids)) {
	case 0:
		return pool_add(argc - 1, argv + 1);
	case 1:
		return pool_del(argc - 1, argv + 1);
	case 2:
		return pool_show(argc - 1, argv + 1);
	case 3:
		pool_usage(stdout);
		return 0;
	default:
		pool_usage(stderr);
		return EXIT_USAGE;
	}
}
