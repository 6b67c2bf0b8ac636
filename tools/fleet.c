// SPDX-License-Identifier: GPL-2.0
/*
 * Owns "rnatctl --store URL --region NAME fleet status": the region's
 * gateways as their rnatd agents publish themselves (under each agent's
 * lease, beside the region's keys: region_gateways()), with their lag.
 */

#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"

void fleet_usage(FILE *f)
{
	fputs("Usage: rnatctl --store URL --region NAME fleet status\n"
	      "prints each gateway's rnatd: the region revision it has applied, its lag\n"
	      "(revisions from it to the region's last change; 0: up to date), when it\n"
	      "last said so and its last error.\n", f);
}

static void fleet_print(const struct region_gw *g, int64_t changed)
{
	int64_t lag = changed > g->revision ? changed - g->revision : 0;

	if (out_json()) {
		json_obj_open(NULL);
		json_str("gateway", g->name);
		json_uint("revision", g->revision);
		json_uint("lag", lag);
		json_str("time", g->time);
		json_str("error", g->error);
		json_obj_close();
		return;
	}
	out_printf("gateway %s revision %lld lag %lld time %s", g->name,
		   (long long)g->revision, (long long)lag, g->time);
	if (*g->error) {
		out_printf(" error ");
		json_string(out_stream(), g->error);
	}
	out_printf("\n");
}

int do_fleet(int argc, char **argv)
{
	static const char *const cmds[] = { "status", "help", NULL };
	struct region_gw *g;
	int64_t changed;
	size_t i, n;
	int id, err;

	if (argc < 1) {
		fleet_usage(stderr);
		return EXIT_USAGE;
	}
	id = parse_keyword(argv[0], "command", cmds, NULL);
	if (id < 0)
		return EXIT_USAGE;
	if (id == 1) {
		fleet_usage(out_stream());
		return 0;
	}
	if (argc > 1)
		return usage_error("fleet status: unexpected \"%s\"", argv[1]);
	if (!region_on())
		return usage_error("fleet is a region's: give -store URL -region NAME");
	err = region_gateways(&g, &n, &changed);
	if (err) {
		pr_err("%s", nl_strerror(err));
		return EXIT_ERROR;
	}
	if (out_json())
		json_arr_open(NULL);
	for (i = 0; i < n; i++)
		fleet_print(&g[i], changed);
	if (out_json())
		json_arr_close();
	region_gateways_free(g, n);
	return 0;
}
