// SPDX-License-Identifier: GPL-2.0
/*
 * Owns printing rnat's objects as the rnatctl commands that make them:
 * "rnatctl monitor" prints every change as it happens ("map add vpn 1 real
 * 10.1.0.0 nat 10.153.0.0"), "rnatctl save" the whole state, so that either
 * output can be fed back to "rnatctl -b". With -j each line is a JSON
 * object {"event": "map add", "map": {...as map show prints it...}}.
 */

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

void monitor_usage(FILE *f)
{
	fputs("Usage: rnatctl monitor\n"
	      "       rnatctl save\n"
	      "       rnatctl restore FILE\n"
	      "monitor prints every change to rnat's state as the command that makes it;\n"
	      "save prints the whole state so; restore replaces the whole state with the\n"
	      "one FILE's commands build, at once, or changes nothing if a line fails.\n", f);
}

/* " dev NAME", or nothing for a VPN without a device. */
static void print_dev(const struct nlattr **tb)
{
	char ifname[IF_NAMESIZE];

	if (!tb[RNAT_A_IFINDEX])
		return;
	if (if_indextoname(mnl_attr_get_u32(tb[RNAT_A_IFINDEX]), ifname))
		out_printf(" dev %s", ifname);
	else
		out_printf(" ifindex %u", mnl_attr_get_u32(tb[RNAT_A_IFINDEX]));
}

static int print_pool(uint8_t cmd, const struct nlattr **tb)
{
	if (!tb[RNAT_A_POOL] || prefixes_check(tb[RNAT_A_POOL_PREFIXES]))
		return nl_malformed("pool event");
	if (out_json()) {
		json_obj_open(NULL);
		json_str("event", cmd == RNAT_CMD_POOL_NEW ? "pool add" : "pool del");
		if (cmd == RNAT_CMD_POOL_NEW) {
			json_key("pool");
			pool_print(tb, NULL);
		} else {
			json_str("pool", mnl_attr_get_str(tb[RNAT_A_POOL]));
		}
		json_obj_close();
		return 0;
	}
	out_printf("pool %s %s", cmd == RNAT_CMD_POOL_NEW ? "add" : "del",
		   mnl_attr_get_str(tb[RNAT_A_POOL]));
	if (cmd == RNAT_CMD_POOL_NEW && tb[RNAT_A_POOL_PREFIXES])
		prefixes_print(tb[RNAT_A_POOL_PREFIXES], NULL, " ");
	out_printf("\n");
	return 0;
}

static int print_vpn(uint8_t cmd, const struct nlattr **tb)
{
	const char *verb = cmd == RNAT_CMD_VPN_NEW ? "add" :
			   cmd == RNAT_CMD_VPN_SET ? "set" : "del";
	const struct nlattr *blocks = tb[RNAT_A_VPN_BLOCKS];
	uint32_t id;

	if (!tb[RNAT_A_VPN_ID] || prefixes_check(blocks) ||
	    vpn_marks_check(tb))
		return nl_malformed("VPN event");
	id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	if (out_json()) {
		json_obj_open(NULL);
		json_str("event", cmd == RNAT_CMD_VPN_NEW ? "vpn add" :
			 cmd == RNAT_CMD_VPN_SET ? "vpn set" : "vpn del");
		if (cmd == RNAT_CMD_VPN_DEL) {
			json_uint("vpn", id);
			if (tb[RNAT_A_VPN_MAPPINGS])
				json_uint("mappings",
					  mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
		} else {
			json_key("vpn");
			vpn_print(tb, NULL);
		}
		json_obj_close();
		return 0;
	}
	out_printf("vpn %s %u", verb, id);
	if (cmd == RNAT_CMD_VPN_DEL) {
		if (tb[RNAT_A_VPN_MAPPINGS])
			out_printf(" # and its %u mappings",
				   mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
		out_printf("\n");
		return 0;
	}
	if (cmd == RNAT_CMD_VPN_NEW && tb[RNAT_A_POOL])
		out_printf(" pool %s", mnl_attr_get_str(tb[RNAT_A_POOL]));
	print_dev(tb);
	vpn_marks_print(tb);
	if (tb[RNAT_A_VPN_NAME])
		out_printf(" name %s", mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
	if (cmd == RNAT_CMD_VPN_NEW && blocks &&
	    mnl_attr_get_payload_len(blocks)) {
		out_printf(" blocks");
		prefixes_print(blocks, NULL, ",");
	}
	out_printf("\n");
	return 0;
}

/* A replace's new mapping prints as "map replace": the same line again. */
static int print_map(uint8_t cmd, bool replace, const struct nlattr **tb)
{
	const char *verb = cmd == RNAT_CMD_MAP_DEL ? "del" :
			   replace ? "replace" : "add";
	char real[PREFIX_STRLEN], nat[PREFIX_STRLEN];
	uint8_t len;

	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping event");
	if (out_json()) {
		json_obj_open(NULL);
		json_str("event", cmd == RNAT_CMD_MAP_DEL ? "map del" :
			 replace ? "map replace" : "map add");
		json_key("map");
		map_print(tb, NULL);
		json_obj_close();
		return 0;
	}
	len = tb[RNAT_A_MAP_PLEN] ? mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32;
	format_prefix(real, mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]), len, false);
	format_prefix(nat, mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]), len, false);
	out_printf("map %s vpn %u real %s %snat %s\n", verb,
		   mnl_attr_get_u32(tb[RNAT_A_VPN_ID]), real,
		   cmd == RNAT_CMD_MAP_NEW ? "" : "# ", nat);
	return 0;
}

static int print_flush(const struct nlattr **tb)
{
	uint32_t id, n;

	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_VPN_MAPPINGS])
		return nl_malformed("flush event");
	id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	n = mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]);
	if (out_json()) {
		json_obj_open(NULL);
		json_str("event", "map flush");
		json_uint("vpn", id);
		json_uint("mappings", n);
		json_obj_close();
	} else {
		out_printf("map flush vpn %u # %u mappings\n", id, n);
	}
	return 0;
}

static int print_event(uint8_t cmd, uint16_t flags, const struct nlattr **tb)
{
	int err;

	switch (cmd) {
	case RNAT_CMD_POOL_NEW:
	case RNAT_CMD_POOL_DEL:
		err = print_pool(cmd, tb);
		break;
	case RNAT_CMD_VPN_NEW:
	case RNAT_CMD_VPN_SET:
	case RNAT_CMD_VPN_DEL:
		err = print_vpn(cmd, tb);
		break;
	case RNAT_CMD_MAP_NEW:
	case RNAT_CMD_MAP_DEL:
		err = print_map(cmd, flags & NLM_F_REPLACE, tb);
		break;
	case RNAT_CMD_MAP_FLUSH:
		err = print_flush(tb);
		break;
	case RNAT_CMD_RESTORE_COMMIT:
		if (out_json()) {
			json_obj_open(NULL);
			json_str("event", "restore");
			json_obj_close();
		} else {
			out_printf("# restore: the whole state was replaced\n");
		}
		err = 0;
		break;
	default:
		return 0;	/* from a newer module */
	}
	fflush(out_stream());
	return err;
}

int do_monitor(int argc, char **argv)
{
	if (argc > 0 && keyword(argv[0], (const char *const[]){ "help", NULL },
				NULL) == 0) {
		monitor_usage(out_stream());
		return 0;
	}
	if (argc > 0)
		return usage_error("monitor: unexpected \"%s\"", argv[0]);
	if (nl_need())
		return EXIT_ERROR;
	return nl_listen(print_event);
}

static int save_pool(const struct nlattr **tb, void *data)
{
	(void)data;
	return print_event(RNAT_CMD_POOL_NEW, 0, tb);
}

static int save_vpn(const struct nlattr **tb, void *data)
{
	(void)data;
	return print_event(RNAT_CMD_VPN_NEW, 0, tb);
}

static int save_map(const struct nlattr **tb, void *data)
{
	(void)data;
	return print_event(RNAT_CMD_MAP_NEW, 0, tb);
}

/* Pools, then VPNs with their blocks, then mappings in NAT order. */
int do_save(int argc, char **argv)
{
	if (argc > 0)
		return usage_error("save: unexpected \"%s\"", argv[0]);
	if (nl_need())
		return EXIT_ERROR;
	if (out_json())
		json_arr_open(NULL);
	if (nl_exec(nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP), save_pool, NULL) ||
	    nl_exec(nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP), save_vpn, NULL) ||
	    nl_exec(nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP), save_map, NULL))
		return EXIT_ERROR;
	if (out_json())
		json_arr_close();
	return 0;
}
