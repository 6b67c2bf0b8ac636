// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the VPN object: "rnatctl vpn add|set|del|show", how a VPN and its
 * marks are printed, and fetching a VPN's name for lookups.
 */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"

void vpn_usage(FILE *f)
{
	fprintf(f,
		"Usage: rnatctl vpn add ID pool POOL [dev DEV] [mark MARK] [out-mark MARK]\n"
		"                       [name NAME] [blocks PREFIX,...]\n"
		"       rnatctl vpn set ID [dev DEV|none] [mark MARK] [out-mark MARK] [name NAME]\n"
		"       rnatctl vpn del ID\n"
		"       rnatctl [-s] vpn show [ID]\n"
		"ID := 1 to %d; DEV is the VPN's network device; NAME defaults to vpnID;\n"
		"MARK := VALUE[/MASK] | none (fwmark bits; MASK defaults to 0xffffffff);\n"
		"mark: only packets on DEV carrying it are the VPN's (VPNs with marks may\n"
		"share a device); out-mark: set on the VPN's packets after translation;\n"
		"blocks reserves NAT blocks of the pool (as \"rnatctl save\" prints them);\n"
		"-s: each VPN's traffic and errors (its mappings' counters summed).\n",
		RNAT_VPN_ID_MAX);
}

static int parse_vpn_id(const char *word, uint32_t *id)
{
	return parse_u32(word, "VPN id", 1, RNAT_VPN_ID_MAX, id);
}

void mark_put(struct nlmsghdr *nlh, uint16_t attr, const struct mark *m)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, attr);

	mnl_attr_put_u32(nlh, RNAT_MARK_A_VALUE, m->value);
	mnl_attr_put_u32(nlh, RNAT_MARK_A_MASK, m->mask);
	mnl_attr_nest_end(nlh, nest);
}

static int mark_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type > RNAT_MARK_A_MAX)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Reads a mark attribute (may be NULL: none): 0 or -EPROTO. */
static int mark_get(const struct nlattr *attr, struct mark *m)
{
	const struct nlattr *tb[RNAT_MARK_A_MAX + 1] = {};

	m->value = m->mask = 0;
	if (!attr)
		return 0;
	if (mnl_attr_parse_nested(attr, mark_attr_cb, tb) != MNL_CB_OK ||
	    !tb[RNAT_MARK_A_VALUE] || !tb[RNAT_MARK_A_MASK])
		return nl_malformed("mark");
	m->value = mnl_attr_get_u32(tb[RNAT_MARK_A_VALUE]);
	m->mask = mnl_attr_get_u32(tb[RNAT_MARK_A_MASK]);
	return 0;
}

int vpn_marks_check(const struct nlattr **tb)
{
	struct mark m;

	return mark_get(tb[RNAT_A_VPN_MARK], &m) ?:
	       mark_get(tb[RNAT_A_VPN_OUT_MARK], &m);
}

/*
 * " KEY VALUE[/MASK]" as vpn add takes it, or {"value":,"mask":} in JSON;
 * nothing for no mark.
 */
static void mark_show(const char *key, const struct mark *m)
{
	if (!m->mask)
		return;
	if (out_json()) {
		json_obj_open(key);
		json_uint("value", m->value);
		json_uint("mask", m->mask);
		json_obj_close();
	} else if (m->mask == UINT32_MAX) {
		out_printf(" %s 0x%x", key, m->value);
	} else {
		out_printf(" %s 0x%x/0x%x", key, m->value, m->mask);
	}
}

static void mark_print(const struct nlattr *attr, const char *key, bool none)
{
	struct mark m;

	if (mark_get(attr, &m))
		return;
	if (!m.mask && none && !out_json())
		out_printf(" %s none", key);
	else
		mark_show(key, &m);
}

void vpn_marks_print(const struct nlattr **tb, bool none)
{
	mark_print(tb[RNAT_A_VPN_MARK], "mark", none);
	mark_print(tb[RNAT_A_VPN_OUT_MARK], "out-mark", none);
}

/* The VPN whose messages are being read, while it waits for more. */
static struct {
	bool open;
	uint32_t id;
	uint32_t next;		/* index of the block its next message starts at */
} parts;

/*
 * Parts that do not fit together: in a dump the state changed under, that
 * change cut them; otherwise the kernel sent them wrong.
 */
static int parts_broken(const char *what)
{
	parts.open = false;
	if (nl_dump_interrupted())
		return nl_dump_changed();
	return nl_malformed(what);
}

int vpn_part(const struct nlattr **tb, bool *first, bool *last)
{
	const struct nlattr *list = tb[RNAT_A_VPN_BLOCKS], *e;
	uint32_t id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]), from = 0, n = 0,
		 total;

	if (list)
		mnl_attr_for_each_nested(e, list)
			n++;
	if (tb[RNAT_A_VPN_BLOCKS_FIRST])
		from = mnl_attr_get_u32(tb[RNAT_A_VPN_BLOCKS_FIRST]);
	/* A module that does not page block lists sends them whole. */
	total = tb[RNAT_A_VPN_NBLOCKS] ?
		mnl_attr_get_u32(tb[RNAT_A_VPN_NBLOCKS]) : from + n;
	if (from ? !parts.open || parts.id != id || parts.next != from :
		   parts.open)
		return parts_broken("VPN block list (a part is missing)");
	if (from + n > total || (!n && from + n < total))
		return parts_broken("VPN block list (more blocks than it has)");
	*first = !from;
	*last = from + n == total;
	parts.open = !*last;
	parts.id = id;
	parts.next = from + n;
	return 0;
}

bool vpn_parts_open(void)
{
	return parts.open;
}

void vpn_parts_reset(void)
{
	parts.open = false;
}

int vpn_parts_end(void)
{
	if (!parts.open)
		return 0;
	return parts_broken("VPN dump (it ended inside a VPN's blocks)");
}

/* vpn show -s: each VPN's totals (vpn_totals()) follow it. */
static bool show_totals;

/* The VPN's totals under its line or inside its object, if they were read. */
static void totals_print(const struct nlattr **tb)
{
	const struct map_stats *s;

	if (!show_totals)
		return;
	s = vpn_totals(mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	if (s)
		map_stats_print(s);
}

/*
 * One VPN message: a whole VPN, or the first of its messages (everything
 * but the rest of its blocks), or one that continues its blocks.
 */
int vpn_print(const struct nlattr **tb, void *data)
{
	char ifname[IF_NAMESIZE];
	uint32_t ifindex = 0;
	bool dev = false, first, last;
	int err;

	(void)data;
	if (!tb[RNAT_A_VPN_ID])
		return nl_malformed("VPN");
	if (prefixes_check(tb[RNAT_A_VPN_BLOCKS]) || vpn_marks_check(tb))
		return -EPROTO;
	err = vpn_part(tb, &first, &last);
	if (err)
		return err;
	if (!first) {
		prefix_entries_print(tb[RNAT_A_VPN_BLOCKS], " ", " ");
		goto end;
	}
	if (tb[RNAT_A_IFINDEX]) {
		ifindex = mnl_attr_get_u32(tb[RNAT_A_IFINDEX]);
		dev = dev_name(ifindex, ifname);
	}
	if (out_json()) {
		json_obj_open(NULL);
		json_uint("vpn", mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
		if (tb[RNAT_A_VPN_NAME])
			json_str("name", mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
		if (tb[RNAT_A_POOL])
			json_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
		if (dev)
			json_str("dev", ifname);
		else
			json_null("dev");
		/* A region's device is a name: its index is a gateway's. */
		if (tb[RNAT_A_IFINDEX] && !region_on())
			json_uint("ifindex", ifindex);
		vpn_marks_print(tb, false);
		if (tb[RNAT_A_VPN_MAPPINGS])
			json_uint("mappings",
				  mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
		if (tb[RNAT_A_VPN_BLOCKS]) {
			json_arr_open("blocks");
			prefix_entries_print(tb[RNAT_A_VPN_BLOCKS], NULL, NULL);
		}
		goto end;
	}
	out_printf("vpn %u", mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	if (tb[RNAT_A_VPN_NAME])
		out_printf(" name %s", mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
	if (tb[RNAT_A_POOL])
		out_printf(" pool %s", mnl_attr_get_str(tb[RNAT_A_POOL]));
	if (dev)
		out_printf(" dev %s", ifname);
	else if (tb[RNAT_A_IFINDEX])
		out_printf(" ifindex %u", ifindex);
	vpn_marks_print(tb, false);
	if (tb[RNAT_A_VPN_MAPPINGS])
		out_printf(" mappings %u",
			   mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
	if (tb[RNAT_A_VPN_BLOCKS] &&
	    mnl_attr_get_payload_len(tb[RNAT_A_VPN_BLOCKS])) {
		out_printf(" blocks");
		prefix_entries_print(tb[RNAT_A_VPN_BLOCKS], " ", " ");
	}
end:
	if (!last)
		return 0;
	if (!out_json()) {
		out_printf("\n");
		totals_print(tb);
		return 0;
	}
	if (tb[RNAT_A_VPN_BLOCKS])
		json_arr_close();
	totals_print(tb);
	json_obj_close();
	return 0;
}

bool dev_name(uint32_t ifindex, char *name)
{
	const char *dev = region_on() ? region_dev_name(ifindex) : NULL;

	if (!region_on())
		return if_indextoname(ifindex, name);
	if (dev)
		snprintf(name, IF_NAMESIZE, "%s", dev);
	return dev;
}

/*
 * In the target namespace: main entered it first. 0 or -1 (said why). A
 * region's VPN names a device of its gateways, not of this host.
 */
static int dev_index(const char *name, unsigned int *ifindex)
{
	if (region_on()) {
		if (strlen(name) >= IF_NAMESIZE) {
			pr_err("device name \"%s\" is longer than %d bytes",
			       name, IF_NAMESIZE - 1);
			return -1;
		}
		*ifindex = region_dev_index(name);
		return 0;
	}
	*ifindex = if_nametoindex(name);
	if (*ifindex)
		return 0;
	pr_err("no device \"%s\"", name);
	return -1;
}

static int vpn_add(int argc, char **argv)
{
	static const char *const keys[] = {
		"pool", "dev", "name", "blocks", "mark", "out-mark", NULL
	};
	enum { POOL, DEV, NAME, BLOCKS, MARK, OUT_MARK };
	const char *val[6];
	struct mark mark = {}, out_mark = {};
	char name[RNAT_NAME_MAX];
	struct prefix blocks[VPN_BLOCKS_MAX];
	struct nlmsghdr *nlh;
	unsigned int ifindex = 0;
	int nblocks = 0;
	uint32_t id;

	if (argc < 1)
		return usage_error("vpn add: missing ID");
	if (parse_vpn_id(argv[0], &id) ||
	    parse_pairs(argc - 1, argv + 1, "vpn add", keys, val))
		return EXIT_USAGE;
	if (!val[POOL])
		return usage_error("vpn add: missing \"pool POOL\"");
	if (parse_name(val[POOL], "pool name") ||
	    (val[NAME] && parse_new_name(val[NAME], "VPN name")) ||
	    (val[MARK] && parse_mark(val[MARK], "mark", &mark)) ||
	    (val[OUT_MARK] && parse_mark(val[OUT_MARK], "out-mark", &out_mark)))
		return EXIT_USAGE;
	if (val[BLOCKS]) {
		nblocks = parse_prefix_list(val[BLOCKS], RNAT_POOL_PLEN_MIN,
					    blocks, VPN_BLOCKS_MAX);
		if (nblocks < 0)
			return EXIT_USAGE;
	}
	if (val[DEV] && dev_index(val[DEV], &ifindex))
		return EXIT_ERROR;
	if (nl_need())
		return EXIT_ERROR;
	routes_vpn_touch(id);
	nlh = nl_request(RNAT_CMD_VPN_NEW, NLM_F_CREATE | NLM_F_EXCL);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, val[POOL]);
	if (ifindex)
		mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, ifindex);
	if (mark.mask)
		mark_put(nlh, RNAT_A_VPN_MARK, &mark);
	if (out_mark.mask)
		mark_put(nlh, RNAT_A_VPN_OUT_MARK, &out_mark);
	if (val[NAME])
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, val[NAME]);
	if (nblocks)
		prefixes_put(nlh, RNAT_A_VPN_BLOCKS, blocks, nblocks);
	if (nl_exec(nlh, NULL, NULL))
		return EXIT_ERROR;
	if (out_json()) {
		/* The documented default name. */
		snprintf(name, sizeof(name), "vpn%u", id);
		json_obj_open(NULL);
		json_uint("vpn", id);
		json_str("name", val[NAME] ? val[NAME] : name);
		json_str("pool", val[POOL]);
		if (val[DEV]) {
			json_str("dev", val[DEV]);
			if (!region_on())
				json_uint("ifindex", ifindex);
		} else {
			json_null("dev");
		}
		mark_show("mark", &mark);
		mark_show("out-mark", &out_mark);
		json_uint("mappings", 0);
		json_obj_close();
	}
	return 0;
}

static int vpn_set(int argc, char **argv)
{
	static const char *const keys[] = {
		"dev", "name", "mark", "out-mark", NULL
	};
	enum { DEV, NAME, MARK, OUT_MARK };
	const char *val[4];
	struct mark mark, out_mark;
	struct nlmsghdr *nlh;
	unsigned int ifindex = 0;
	uint32_t id;

	if (argc < 1)
		return usage_error("vpn set: missing ID");
	if (parse_vpn_id(argv[0], &id) ||
	    parse_pairs(argc - 1, argv + 1, "vpn set", keys, val))
		return EXIT_USAGE;
	if (!val[DEV] && !val[NAME] && !val[MARK] && !val[OUT_MARK])
		return usage_error("vpn set: nothing to set (dev DEV, mark MARK, out-mark MARK, name NAME)");
	if ((val[NAME] && parse_new_name(val[NAME], "VPN name")) ||
	    (val[MARK] && parse_mark(val[MARK], "mark", &mark)) ||
	    (val[OUT_MARK] && parse_mark(val[OUT_MARK], "out-mark", &out_mark)))
		return EXIT_USAGE;
	/* "dev none" takes the device away (ifindex 0). */
	if (val[DEV] && strcmp(val[DEV], "none") &&
	    dev_index(val[DEV], &ifindex))
		return EXIT_ERROR;
	if (nl_need())
		return EXIT_ERROR;
	/*
	 * Answered with the VPN as it is now, in the reply to the change
	 * (not a second request, which could fail once the change is made);
	 * inside a restore nothing is printed.
	 */
	vpn_parts_reset();
	routes_vpn_touch(id);
	nlh = nl_request(RNAT_CMD_VPN_SET, NLM_F_ECHO);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	if (val[DEV])
		mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, ifindex);
	if (val[MARK])
		mark_put(nlh, RNAT_A_VPN_MARK, &mark);
	if (val[OUT_MARK])
		mark_put(nlh, RNAT_A_VPN_OUT_MARK, &out_mark);
	if (val[NAME])
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, val[NAME]);
	return nl_exec(nlh, vpn_print, NULL) ? EXIT_ERROR : 0;
}

static int vpn_deleted(const struct nlattr **tb, void *data)
{
	uint32_t n;

	if (!tb[RNAT_A_VPN_MAPPINGS])
		return nl_malformed("VPN deletion reply");
	n = mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]);
	*(uint32_t *)data = n;
	return 0;
}

static int vpn_del(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	uint32_t id, n = UINT32_MAX;

	if (argc < 1)
		return usage_error("vpn del: missing ID");
	if (argc > 1)
		return usage_error("vpn del: unexpected \"%s\" after ID",
				   argv[1]);
	if (parse_vpn_id(argv[0], &id))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	routes_vpn_touch(id);
	nlh = nl_request(RNAT_CMD_VPN_DEL, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	if (nl_exec(nlh, vpn_deleted, &n))
		return EXIT_ERROR;
	if (region_on() && region_gateway()) {
		/* Only the gateway's placement went (region.h). */
		if (out_json()) {
			json_obj_open(NULL);
			json_uint("vpn", id);
			json_str("gateway", region_gateway());
			json_bool("deleted", true);
			json_obj_close();
		} else {
			out_printf("deleted vpn %u from gateway %s\n", id,
				   region_gateway());
		}
	} else if (out_json()) {
		json_obj_open(NULL);
		json_uint("vpn", id);
		json_bool("deleted", true);
		if (n != UINT32_MAX)
			json_uint("mappings", n);
		json_obj_close();
	} else if (n == UINT32_MAX) {
		out_printf("deleted vpn %u\n", id);
	} else {
		out_printf("deleted vpn %u and its %u mapping%s\n", id, n,
			   n == 1 ? "" : "s");
	}
	return 0;
}

static int vpn_show(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	uint32_t id;
	int err;

	if (argc > 1)
		return usage_error("vpn show: unexpected \"%s\" after ID",
				   argv[1]);
	if (argc && parse_vpn_id(argv[0], &id))
		return EXIT_USAGE;
	if (nl_need())
		return EXIT_ERROR;
	/* Read first: the VPNs are printed as their messages come. */
	show_totals = out_stats();
	if (show_totals && vpn_totals_read(argc ? id : 0))
		return EXIT_ERROR;
	if (argc) {
		nlh = nl_request(RNAT_CMD_VPN_GET, 0);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	} else {
		nlh = nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP);
	}
	vpn_parts_reset();
	err = nl_show(nlh, vpn_print);
	show_totals = false;
	if (err)
		return EXIT_ERROR;
	err = vpn_parts_end();
	if (err) {
		pr_err("%s", nl_strerror(err));
		return EXIT_ERROR;
	}
	return 0;
}

static int vpn_name_cb(const struct nlattr **tb, void *data)
{
	if (tb[RNAT_A_VPN_NAME])
		snprintf(data, RNAT_NAME_MAX, "%s",
			 mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
	return 0;
}

int vpn_name(uint32_t id, char *name)
{
	struct nlmsghdr *nlh;

	name[0] = '\0';
	nlh = nl_request(RNAT_CMD_VPN_GET, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	return nl_talk(nlh, vpn_name_cb, name);
}

int do_vpn(int argc, char **argv)
{
	static const struct object_cmd more[] = {
		{ "set", vpn_set },
		{}
	};
	static const struct object vpn = {
		"vpn", vpn_add, vpn_del, vpn_show, vpn_usage, more
	};

	return do_object(&vpn, argc, argv);
}
