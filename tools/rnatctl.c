// SPDX-License-Identifier: GPL-2.0
/*
 * rnatctl: configures rnat's pools, VPNs and mappings over generic netlink.
 * This file owns main: options, entering the network namespace, the object
 * dispatch, batch mode and the top-level help.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "nl.h"
#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"

#define BATCH_WORDS_MAX 256

static void usage(FILE *f)
{
	fputs("Usage: rnatctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       rnatctl [OPTIONS] -b FILE\n"
	      "OBJECT := { pool | vpn | map | lookup | stats | metrics | route | monitor |\n"
	      "            save | annotate | help }\n"
	      "OPTIONS := { -j[son] | -s[tatistics] | -n[etns] NETNS | -b[atch] FILE |\n"
	      "             -R[outes-off] | -h[elp] | -V[ersion] |\n"
	      "             -store URL -region NAME }\n"
	      "With -store and -region, pool, vpn, map, lookup and save act on the\n"
	      "region's state in etcd (URL: its client URL, http://HOST:2379).\n"
	      "Objects, commands and keywords may be abbreviated to a unique prefix.\n"
	      "\n", f);
	pool_usage(f);
	vpn_usage(f);
	map_usage(f);
	lookup_usage(f);
	route_usage(f);
	monitor_usage(f);
	metrics_usage(f);
	annotate_usage(f);
}

static int do_restore(int argc, char **argv);

/* One command line, without the options: an exit status. */
static int run(int argc, char **argv)
{
	static const char *const objects[] = {
		"pool", "vpn", "map", "lookup", "stats", "route", "monitor",
		"save", "annotate", "restore", "help", "metrics", NULL
	};

	int id;

	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	id = parse_keyword(argv[0], "object", objects, NULL);
	/* What acts on one gateway's kernel: not a region's, yet. */
	if (region_on() && (id == 4 || id == 5 || id == 6 || id == 8 ||
			    id == 9)) {
		pr_err("%s is not supported with --store yet", objects[id]);
		return EXIT_ERROR;
	}
	switch (id) {
	case 0:
		return do_pool(argc - 1, argv + 1);
	case 1:
		return do_vpn(argc - 1, argv + 1);
	case 2:
		return do_map(argc - 1, argv + 1);
	case 3:
		return do_lookup(argc - 1, argv + 1);
	case 4:
		return do_stats(argc - 1, argv + 1);
	case 5:
		return do_route(argc - 1, argv + 1);
	case 6:
		return do_monitor(argc - 1, argv + 1);
	case 7:
		return do_save(argc - 1, argv + 1);
	case 8:
		return do_annotate(argc - 1, argv + 1);
	case 9:
		return do_restore(argc - 1, argv + 1);
	case 10:
		usage(out_stream());
		return 0;
	case 11:
		return do_metrics(argc - 1, argv + 1);
	default:
		return EXIT_USAGE;
	}
}

/* One command per line; stops at the first that fails, exit status 1. */
static int batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL, *words[BATCH_WORDS_MAX];
	int lineno = 0, n, err = 0;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		pr_err("cannot open \"%s\": %s", file, strerror(errno));
		return EXIT_ERROR;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		/* Not the line cut short at the NUL: the whole line refused. */
		if (strlen(line) != (size_t)len) {
			err_set_line(lineno);
			usage_error("the line has a NUL byte");
			err_set_line(0);
			err = EXIT_ERROR;
			break;
		}
		n = split_words(line, words, BATCH_WORDS_MAX);
		if (!n)
			continue;
		err_set_line(lineno);
		nl_stream_tag(lineno);
		if (n < 0)
			err = usage_error("more than %d words",
					  BATCH_WORDS_MAX);
		else
			err = run(n, words);
		err_set_line(0);
		if (err) {
			err = EXIT_ERROR;
			break;
		}
	}
	if (!err && ferror(f)) {
		pr_err("cannot read \"%s\": %s", file, strerror(errno));
		err = EXIT_ERROR;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

/*
 * "restore FILE": the commands of FILE (as "save" prints them) build a new
 * state aside in the kernel, which replaces the live one at once when every
 * line has succeeded. On any failure the socket closes unfinished and the
 * kernel drops what was built: the live state is untouched.
 *
 * The lines' requests are streamed (nl_stream_start()), so the kernel's
 * answer to a line may come only after later lines ran: what the lines
 * print to stderr is held back until the stream has told whether an earlier
 * line failed, and the first line that failed is reported either way.
 *
 * "restore --check FILE" does all of that but the commit: the kernel checks
 * every line against the state FILE builds, then drops it; nothing changes.
 */
static int do_restore(int argc, char **argv)
{
	static bool restoring;
	FILE *devnull, *held;
	char *text = NULL;
	size_t len = 0;
	uint32_t line;
	int err, nlerr;
	bool check = argc >= 1 && !strcmp(argv[0], "--check");

	if (check) {
		argc--;
		argv++;
	}
	if (argc != 1)
		return usage_error("restore: %s", argc ? "one FILE only" :
				   "missing FILE");
	if (restoring)
		return usage_error("restore: not inside a restore");
	if (nl_need())
		return EXIT_ERROR;
	if (nl_exec(nl_request(RNAT_CMD_RESTORE_BEGIN, 0), NULL, NULL))
		return EXIT_ERROR;
	devnull = fopen("/dev/null", "w");
	held = open_memstream(&text, &len);
	if (!devnull || !held) {
		pr_err("cannot open /dev/null or a memory stream: %s",
		       strerror(errno));
		if (devnull)
			fclose(devnull);
		if (held)
			fclose(held);
		free(text);
		return EXIT_ERROR;
	}
	/* The commands' own output would only be noise. */
	out_set_files(devnull, held);
	restoring = true;
	nl_stream_start();
	err = batch(argv[0]);
	nlerr = nl_stream_end(&line);
	restoring = false;
	out_set_files(NULL, NULL);
	fclose(devnull);
	fclose(held);
	if (nlerr) {
		err_set_line(line);
		pr_err("%s", nl_strerror(nlerr));
		err_set_line(0);
		err = EXIT_ERROR;
	} else if (len) {
		fwrite(text, 1, len, stderr);
	}
	free(text);
	if (err) {
		nl_close();	/* the kernel drops the unfinished state */
		pr_err("restore: nothing was changed");
		return EXIT_ERROR;
	}
	if (check) {
		err = nl_exec(nl_request(RNAT_CMD_RESTORE_ABORT, 0), NULL, NULL);
		nl_forget_changes();	/* nothing to route */
		return err;
	}
	return nl_exec(nl_request(RNAT_CMD_RESTORE_COMMIT, 0), NULL, NULL);
}

/* Like "ip -n": joins /run/netns/NAME before anything else happens. */
static int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") ||
	    snprintf(path, sizeof(path), "/run/netns/%s", name) >=
	    (int)sizeof(path))
		return usage_error("bad network namespace name \"%s\"", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open network namespace \"%s\": %s", name,
		       strerror(errno));
		return EXIT_ERROR;
	}
	if (setns(fd, CLONE_NEWNET)) {
		pr_err("cannot enter network namespace \"%s\": %s", name,
		       strerror(errno));
		close(fd);
		return EXIT_ERROR;
	}
	close(fd);
	return 0;
}

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
		{}
	};
	const char *netns = NULL, *file = NULL, *store = NULL, *region = NULL;
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
			usage(out_stream());
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
	if (store) {
		err = region_open(store, region);
		if (err)
			return usage_error("%s", nl_strerror(err));
	}
	if (netns) {
		err = enter_netns(netns);
		if (err)
			return err;
	}
	if (file)
		err = batch(file);
	else
		err = run(argc - optind, argv + optind);
	/* Even after a failed batch line: the lines before it took effect. */
	if (routes && nl_changed() && routes_sync())
		err = err ? err : EXIT_ERROR;
	nl_close();
	region_close();
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("cannot write the output: %s", strerror(errno));
		return EXIT_ERROR;
	}
	return err;
}
