// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the pool object: "rnatctl pool add|del|show" and how a pool is
 * printed.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

void pool_usage(FILE *f)
{
	fprintf(f,
		"Usage: rnatctl pool add NAME PREFIX [PREFIX...]\n"
		"       rnatctl pool del NAME\n"
		"       rnatctl pool show [NAME]\n"
		"PREFIX := ADDR/LEN, LEN from %d to 32; at most %d per pool.\n",
		RNAT_POOL_PLEN_MIN, RNAT_POOL_PREFIXES_MAX);
}

int prefix_entry(const struct nlattr *entry, struct prefix *p)
{
	const struct nlattr *a;
	bool has_addr = false, has_len = false;

	if (mnl_attr_validate(entry, MNL_TYPE_NESTED) < 0)
		return nl_malformed("pool prefix");
	mnl_attr_for_each_nested(a, entry) {
		switch (mnl_attr_get_type(a)) {
		case RNAT_PREFIX_A_ADDR:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return nl_malformed("pool prefix");
			p->addr = mnl_attr_get_u32(a);
			has_addr = true;
			break;
		case RNAT_PREFIX_A_LEN:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0 ||
			    mnl_attr_get_u8(a) > 32)
				return nl_malformed("pool prefix");
			p->len = mnl_attr_get_u8(a);
			has_len = true;
			break;
		}
	}
	return has_addr && has_len ? 0 : nl_malformed("pool prefix");
}

void prefix_put(struct nlmsghdr *nlh, uint16_t attr, const struct prefix *p)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, attr);

	mnl_attr_put_u32(nlh, RNAT_PREFIX_A_ADDR, p->addr);
	mnl_attr_put_u8(nlh, RNAT_PREFIX_A_LEN, p->len);
	mnl_attr_nest_end(nlh, nest);
}

void prefixes_put(struct nlmsghdr *nlh, uint16_t attr, const struct prefix *p,
		  int n)
{
	struct nlattr *list = mnl_attr_nest_start(nlh, attr);
	int i;

	for (i = 0; i < n; i++)
		prefix_put(nlh, i + 1, &p[i]);
	mnl_attr_nest_end(nlh, list);
}

int prefixes_check(const struct nlattr *list)
{
	const struct nlattr *entry;
	struct prefix p;
	int err;

	if (list) {
		mnl_attr_for_each_nested(entry, list) {
			err = prefix_entry(entry, &p);
			if (err)
				return err;
		}
	}
	return 0;
}

void prefixes_print(const struct nlattr *list, const char *key,
		    const char *sep)
{
	const struct nlattr *entry;
	char buf[PREFIX_STRLEN];
	struct prefix p;
	int i = 0;

	if (out_json())
		json_arr_open(key);
	if (list) {
		mnl_attr_for_each_nested(entry, list) {
			prefix_entry(entry, &p);
			format_prefix(buf, p.addr, p.len, true);
			if (out_json())
				json_str(NULL, buf);
			else
				out_printf("%s%s", i++ ? sep : " ", buf);
		}
	}
	if (out_json())
		json_arr_close();
}

void prefix_entries_print(const struct nlattr *list, const char *lead,
			  const char *sep)
{
	const struct nlattr *entry;
	char buf[PREFIX_STRLEN];
	struct prefix p;
	int i = 0;

	if (!list)
		return;
	mnl_attr_for_each_nested(entry, list) {
		prefix_entry(entry, &p);
		format_prefix(buf, p.addr, p.len, true);
		if (out_json())
			json_str(NULL, buf);
		else
			out_printf("%s%s", i++ ? sep : lead, buf);
	}
}

int pool_print(const struct nlattr **tb, void *data)
{
	const struct nlattr *size = tb[RNAT_A_POOL_SIZE];
	const struct nlattr *used = tb[RNAT_A_POOL_USED];
	const struct nlattr *owned = tb[RNAT_A_POOL_OWNED];
	int err;

	(void)data;
	if (!tb[RNAT_A_POOL])
		return nl_malformed("pool");
	/* Check everything before printing anything. */
	err = prefixes_check(tb[RNAT_A_POOL_PREFIXES]);
	if (err)
		return err;
	if (out_json()) {
		json_obj_open(NULL);
		json_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
	} else {
		out_printf("%s", mnl_attr_get_str(tb[RNAT_A_POOL]));
	}
	prefixes_print(tb[RNAT_A_POOL_PREFIXES], "prefixes", " ");
	if (out_json()) {
		if (size)
			json_uint("size", mnl_attr_get_u32(size));
		if (used)
			json_uint("used", mnl_attr_get_u32(used));
		if (owned)
			json_uint("in_blocks", mnl_attr_get_u32(owned));
		json_obj_close();
		return 0;
	}
	if (used && size)
		out_printf(" used %u of %u", mnl_attr_get_u32(used),
			   mnl_attr_get_u32(size));
	if (owned)
		out_printf(" in blocks %u", mnl_attr_get_u32(owned));
	out_printf("\n");
	return 0;
}

static bool overlap(const struct prefix *a, const struct prefix *b)
{
	uint32_t mask = prefix_mask(a->len < b->len ? a->len : b->len);

	return (a->addr & mask) == (b->addr & mask);
}

static int pool_add(int argc, char **argv)
{
	struct prefix p[RNAT_POOL_PREFIXES_MAX];
	char buf[PREFIX_STRLEN];
	unsigned long long size = 0;
	struct nlmsghdr *nlh;
	int i, j, n = argc - 1;

	if (argc < 1)
		return usage_error("pool add: missing NAME");
	if (parse_new_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (n < 1)
		return usage_error("pool add: missing PREFIX");
	if (n > RNAT_POOL_PREFIXES_MAX)
		return usage_error("pool add: %d prefixes given, at most %d allowed",
				   n, RNAT_POOL_PREFIXES_MAX);
	for (i = 0; i < n; i++) {
		if (parse_prefix(argv[i + 1], RNAT_POOL_PLEN_MIN, &p[i]))
			return EXIT_USAGE;
		for (j = 0; j < i; j++)
			if (overlap(&p[i], &p[j]))
				return usage_error("pool add: %s overlaps %s",
						   argv[i + 1], argv[j + 1]);
		size += 1ULL << (32 - p[i].len);
	}
	if (nl_need())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_POOL_NEW, NLM_F_CREATE | NLM_F_EXCL);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
	prefixes_put(nlh, RNAT_A_POOL_PREFIXES, p, n);
	if (nl_exec(nlh, NULL, NULL))
		return EXIT_ERROR;
	if (out_json()) {
		json_obj_open(NULL);
		json_str("pool", argv[0]);
		json_arr_open("prefixes");
		for (i = 0; i < n; i++)
			json_str(NULL, format_prefix(buf, p[i].addr, p[i].len,
						     true));
		json_arr_close();
		json_uint("size", size);
		json_uint("used", 0);
		json_obj_close();
	}
	return 0;
}

static int pool_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;

	if (argc < 1)
		return usage_error("pool del: missing NAME");
	if (argc > 1)
		return usage_error("pool del: unexpected \"%s\" after NAME",
				   argv[1]);
	if (parse_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	nlh = nl_request(RNAT_CMD_POOL_DEL, 0);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
	if (nl_exec(nlh, NULL, NULL))
		return EXIT_ERROR;
	if (out_json()) {
		json_obj_open(NULL);
		json_str("pool", argv[0]);
		json_bool("deleted", true);
		json_obj_close();
	}
	return 0;
}

static int pool_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;

	if (argc > 1)
		return usage_error("pool show: unexpected \"%s\" after NAME",
				   argv[1]);
	if (argc && parse_name(argv[0], "pool name"))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	if (argc) {
		nlh = nl_request(RNAT_CMD_POOL_GET, 0);
		mnl_attr_put_strz(nlh, RNAT_A_POOL, argv[0]);
	} else {
		nlh = nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP);
	}
	return nl_show(nlh, pool_print);
}

int do_pool(int argc, char **argv)
{
	static const struct object pool = {
		"pool", pool_add, pool_del, pool_show, pool_usage, NULL
	};

	return do_object(&pool, argc, argv);
}
