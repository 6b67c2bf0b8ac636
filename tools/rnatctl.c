// SPDX-License-Identifier: GPL-2.0
/*
 * rnatctl: configures rnat's pools, VPNs and mappings over generic netlink.
 * This file owns main: the options and their checks; running the command
 * lines (dispatch, batch mode, restore, the help) is cmd.c's.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nl.h"
#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "statistics", no_argument, NULL, 's' },
		{ "netns", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "routes-off", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "Version", no_argument, NULL, 'V' },
		{ "version", no_argument, NULL, 'V' },
		{ "store", required_argument, NULL, 'S' },
		{ "region", required_argument, NULL, 'G' },
		{ "gateway", required_argument, NULL, 'g' },
		{}
	};
	const char *netns = NULL, *file = NULL, *store = NULL, *region = NULL,
		   *gateway = NULL;
	bool json = false, routes = true;
	int c, err;

	opterr = 0;
	/* '+': options only before the object; '-json' works like '--json'. */
	while ((c = getopt_long_only(argc, argv, "+:jsn:b:RhV", opts,
				     NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			out_set_stats(true);
			break;
		case 'n':
			netns = optarg;
			break;
		case 'b':
			file = optarg;
			break;
		case 'R':
			routes = false;
			break;
		case 'h':
			cmd_usage(out_stream());
			return 0;
		case 'V':
			printf("rnatctl for rnat generic netlink version %d\n",
			       RNAT_GENL_VERSION);
			return 0;
		case 'S':
			store = optarg;
			break;
		case 'G':
			region = optarg;
			break;
		case 'g':
			gateway = optarg;
			break;
		case ':':
			return usage_error("option \"%s\" needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option \"%s\"",
					   argv[optind - 1]);
		}
	}
	out_init(json);
	if (file && optind != argc)
		return usage_error("unexpected \"%s\": -b takes its commands from the file",
				   argv[optind]);
	if (!store != !region)
		return usage_error("-store URL and -region NAME go together");
	if (store && netns)
		return usage_error("-netns is for a gateway's kernel, not a region (-store)");
	if (gateway && !store)
		return usage_error("-gateway NAME is a region's (-store URL -region NAME)");
	if (store) {
		err = region_open(store, region);
		if (!err)
			err = region_set_gateway(gateway);
		if (err)
			return usage_error("%s", nl_strerror(err));
	}
	if (netns) {
		err = cmd_enter_netns(netns);
		if (err)
			return err;
	}
	/*
	 * One command line syncs only what it changed (routes_vpn.c), a batch
	 * syncs everything once, even after a failed line: the lines before
	 * it took effect.
	 */
	if (routes && !file && !store)
		routes_vpn_arm();
	if (file)
		err = cmd_batch(file);
	else
		err = cmd_run(argc - optind, argv + optind);
	if (routes && nl_changed() && routes_vpn_sync(err))
		err = err ? err : EXIT_ERROR;
	routes_vpn_end();
	nl_close();
	region_close();
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("cannot write the output: %s", strerror(errno));
		return EXIT_ERROR;
	}
	return err;
}
