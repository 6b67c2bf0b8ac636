// SPDX-License-Identifier: GPL-2.0
/* Owns rnatctl stats: the namespace's packet counters. */

#include <inttypes.h>
#include <stdio.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

/* Names in the order of enum rnat_stats_attr. */
static const char *const stat_names[RNAT_STATS_A_MAX + 1] = {
	[RNAT_STATS_A_IN_TRANSLATED] = "in_translated",
	[RNAT_STATS_A_OUT_TRANSLATED] = "out_translated",
	[RNAT_STATS_A_DROP_IN_UNMAPPED] = "drop_in_unmapped",
	[RNAT_STATS_A_DROP_OUT_UNMAPPED] = "drop_out_unmapped",
	[RNAT_STATS_A_DROP_MALFORMED] = "drop_malformed",
	[RNAT_STATS_A_DROP_REDIRECT] = "drop_redirect",
	[RNAT_STATS_A_DROP_NOMEM] = "drop_nomem",
	[RNAT_STATS_A_DROP_FENCED] = "drop_fenced",
	[RNAT_STATS_A_ICMP_UNCOUNTED] = "icmp_uncounted",
};

static int stats_print(const struct nlattr **tb, void *data)
{
	uint64_t val[RNAT_STATS_A_MAX + 1] = { 0 };
	const struct nlattr *a;
	int i, first = 1;

	(void)data;
	if (!tb[RNAT_A_STATS])
		return nl_malformed("stats reply");
	mnl_attr_for_each_nested(a, tb[RNAT_A_STATS]) {
		int type = mnl_attr_get_type(a);

		if (type > RNAT_STATS_A_PAD && type <= RNAT_STATS_A_MAX &&
		    !mnl_attr_validate(a, MNL_TYPE_U64))
			val[type] = mnl_attr_get_u64(a);
	}
	if (out_json())
		json_obj_open(NULL);
	for (i = RNAT_STATS_A_IN_TRANSLATED; i <= RNAT_STATS_A_MAX; i++) {
		if (out_json())
			json_uint(stat_names[i], val[i]);
		else
			out_printf("%s%s %" PRIu64, first ? "" : " ",
				   stat_names[i], val[i]);
		first = 0;
	}
	if (out_json())
		json_obj_close();
	else
		out_printf("\n");
	return 0;
}

int do_stats(int argc, char **argv)
{
	static const char *const cmds[] = { "show", "help", NULL };

	if (argc > 0) {
		switch (parse_keyword(argv[0], "stats command", cmds, NULL)) {
		case 0:
			break;
		case 1:
			out_printf("Usage: rnatctl stats [show]\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc > 1)
		return usage_error("stats: unexpected \"%s\"", argv[1]);
	if (nl_need())
		return EXIT_ERROR;
	return nl_exec(nl_request(RNAT_CMD_STATS_GET, 0), stats_print, NULL);
}
