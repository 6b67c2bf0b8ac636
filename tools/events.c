// SPDX-License-Identifier: GPL-2.0
/*
 * Owns printing rnat's objects as the rnatctl commands that make them:
 * "rnatctl monitor" prints every change as it happens ("map add vpn 1 real
 * 10.1.0.0 nat 10.153.0.0"), "rnatctl save" the whole state, so that either
 * output can be fed back to "rnatctl -b". With -j each line is a JSON
 * object {"event": "map add", "map": {...as map show prints it...}}.
 */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

void monitor_usage(FILE *f)
{
	fputs("Usage: rnatctl monitor\n"
	      "       rnatctl save\n"
	      "       rnatctl restore [--check] FILE\n"
	      "monitor prints every change to rnat's state as the command that makes it;\n"
	      "save prints the whole state so; restore replaces the whole state with the\n"
	      "one FILE's commands build, at once, or changes nothing if a line fails;\n"
	      "--check only checks that it would succeed now.\n", f);
}

/*
 * " dev NAME"; for a VPN without a device nothing, or with @none
 * " dev none" (what vpn set takes to remove it).
 */
static void print_dev(const struct nlattr **tb, bool none)
{
	char ifname[IF_NAMESIZE];

	if (!tb[RNAT_A_IFINDEX]) {
		if (none)
			out_printf(" dev none");
		return;
	}
	if (dev_name(mnl_attr_get_u32(tb[RNAT_A_IFINDEX]), ifname))
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

static int print_vpn_del(const struct nlattr **tb)
{
	uint32_t id;

	if (!tb[RNAT_A_VPN_ID])
		return nl_malformed("VPN event");
	id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
	if (out_json()) {
		json_obj_open(NULL);
		json_str("event", "vpn del");
		json_uint("vpn", id);
		if (tb[RNAT_A_VPN_MAPPINGS])
			json_uint("mappings",
				  mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
		json_obj_close();
		return 0;
	}
	out_printf("vpn del %u", id);
	if (tb[RNAT_A_VPN_MAPPINGS])
		out_printf(" # and its %u mappings",
			   mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]));
	out_printf("\n");
	return 0;
}

/*
 * A VPN comes as one message or, with many blocks, several (vpn_part()):
 * its line or object starts with the first and ends with the last. A
 * "vpn set" line says everything the VPN is, "none" included, so that
 * replaying it makes the VPN so (its device gone, a mark removed).
 */
static int print_vpn(uint8_t cmd, const struct nlattr **tb)
{
	const struct nlattr *blocks = tb[RNAT_A_VPN_BLOCKS];
	bool add = cmd == RNAT_CMD_VPN_NEW, first, last;
	int err;

	if (cmd == RNAT_CMD_VPN_DEL)
		return print_vpn_del(tb);
	if (!tb[RNAT_A_VPN_ID] || prefixes_check(blocks) ||
	    vpn_marks_check(tb))
		return nl_malformed("VPN event");
	if (out_json()) {
		first = !vpn_parts_open();
		if (first) {
			json_obj_open(NULL);
			json_str("event", add ? "vpn add" : "vpn set");
			json_key("vpn");
		}
		err = vpn_print(tb, NULL);
		if (!err && !vpn_parts_open())
			json_obj_close();
		return err;
	}
	err = vpn_part(tb, &first, &last);
	if (err)
		return err;
	if (first) {
		out_printf("vpn %s %u", add ? "add" : "set",
			   mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
		if (add && tb[RNAT_A_POOL])
			out_printf(" pool %s", mnl_attr_get_str(tb[RNAT_A_POOL]));
		print_dev(tb, !add);
		vpn_marks_print(tb, !add);
		if (tb[RNAT_A_VPN_NAME])
			out_printf(" name %s",
				   mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
		if (add && blocks && mnl_attr_get_payload_len(blocks))
			out_printf(" blocks");
	}
	if (add)
		prefix_entries_print(blocks, first ? " " : ",", ",");
	if (last)
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

static int save_gen_cb(const struct nlattr **tb, void *data)
{
	if (tb[RNAT_A_GENERATION])
		*(uint32_t *)data = mnl_attr_get_u32(tb[RNAT_A_GENERATION]);
	return 0;
}

/* The namespace's generation (0 from a module without one): 0 or -errno. */
static int save_gen(uint32_t *gen)
{
	*gen = 0;
	return nl_talk(nl_request(RNAT_CMD_STATS_GET, 0), save_gen_cb, gen);
}

/* One dump of a save; *@intr is set if the state changed during it. */
static int save_dump(uint8_t cmd, nl_reply_cb cb, bool *intr)
{
	int err = nl_talk(nl_request(cmd, NLM_F_DUMP), cb, NULL);

	*intr |= nl_dump_interrupted();
	return err;
}

/*
 * Pools, then VPNs with their blocks, then mappings in NAT order, into
 * @f: 0, 1 if the state changed meanwhile (generation or NLM_F_DUMP_INTR),
 * or -errno.
 */
static int save_once(FILE *f)
{
	FILE *prev = out_swap(f);
	uint32_t gen, gen_after;
	bool intr = false;
	int err;

	out_init(out_json());	/* nothing of an earlier try stays open */
	vpn_parts_reset();
	err = save_gen(&gen);
	if (!err && out_json())
		json_arr_open(NULL);
	if (!err)
		err = save_dump(RNAT_CMD_POOL_GET, save_pool, &intr);
	if (!err)
		err = save_dump(RNAT_CMD_VPN_GET, save_vpn, &intr);
	if (!err)
		err = vpn_parts_end();
	if (!err)
		err = save_dump(RNAT_CMD_MAP_GET, save_map, &intr);
	if (!err && out_json())
		json_arr_close();
	if (!err)
		err = save_gen(&gen_after);
	out_swap(prev);
	/* A VPN's parts cut by a change: read again, as for any change. */
	if (err == -EAGAIN && intr)
		return 1;
	if (err)
		return err;
	return intr || gen != gen_after;
}

#define SAVE_TRIES 8

/*
 * A save is one state that existed: its dumps are read again, whole, while
 * something changes the state under them. Nothing is printed unless a try
 * succeeds, so the output is always whole (one valid JSON document with -j).
 */
int do_save(int argc, char **argv)
{
	char *text = NULL;
	size_t len = 0;
	int i, ret;
	FILE *f;

	if (argc > 0)
		return usage_error("save: unexpected \"%s\"", argv[0]);
	if (nl_need())
		return EXIT_ERROR;
	for (i = 0; i < SAVE_TRIES; i++) {
		f = open_memstream(&text, &len);
		if (!f) {
			pr_err("save: cannot open a memory stream: %s",
			       strerror(errno));
			return EXIT_ERROR;
		}
		ret = save_once(f);
		if (fclose(f) && !ret)
			ret = -ENOMEM;
		if (!ret) {
			fwrite(text, 1, len, out_stream());
			free(text);
			return 0;
		}
		free(text);
		text = NULL;
		if (ret < 0) {
			pr_err("%s", nl_strerror(ret));
			return EXIT_ERROR;
		}
		/* Let the change that interrupted this try finish. */
		usleep(1000 << i);
	}
	pr_err("save: the state changed during each of %d tries; nothing was saved",
	       SAVE_TRIES);
	return EXIT_ERROR;
}
