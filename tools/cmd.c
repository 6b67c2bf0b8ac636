// SPDX-License-Identifier: GPL-2.0
/*
 * Owns running rnatctl command lines, shared by rnatctl and rnatd: the
 * top-level help, the object dispatch, batch mode (-b), "restore" (one
 * atomic RESTORE_BEGIN ... COMMIT over one socket, from a file or from
 * text in memory) and entering a network namespace.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "cmd.h"
#include "nl.h"
#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"

#define BATCH_WORDS_MAX 256

void cmd_usage(FILE *f)
{
	fputs("Usage: rnatctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       rnatctl [OPTIONS] -b FILE\n"
	      "OBJECT := { pool | vpn | map | lookup | stats | metrics | route | monitor |\n"
	      "            save | annotate | fleet | help }\n"
	      "OPTIONS := { -j[son] | -s[tatistics] | -n[etns] NETNS | -b[atch] FILE |\n"
	      "             -R[outes-off] | -h[elp] | -V[ersion] |\n"
	      "             -store URL[,URL...] -region NAME [-gateway NAME] }\n"
	      "With -store and -region, pool, vpn, map, lookup and save act on the\n"
	      "region's state in etcd (URL: a member's client URL, http://HOST:2379;\n"
	      "several are tried in turn), and\n"
	      "fleet status shows its gateways' rnatd agents. With -gateway NAME\n"
	      "(or \"*\", every gateway without its own), vpn add and set write the\n"
	      "VPN's placement on NAME, vpn del removes that placement (the VPN and\n"
	      "its mappings stay), and shows, lookup and save see what NAME carries.\n"
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
	fleet_usage(f);
}

static int do_restore(int argc, char **argv);
static int batch(FILE *f, const char *file);

/* One command line, without the options: an exit status. */
int cmd_run(int argc, char **argv)
{
	static const char *const objects[] = {
		"pool", "vpn", "map", "lookup", "stats", "route", "monitor",
		"save", "annotate", "restore", "help", "metrics", "fleet", NULL
	};

	int id;

	if (argc < 1) {
		cmd_usage(stderr);
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
		cmd_usage(out_stream());
		return 0;
	case 11:
		return do_metrics(argc - 1, argv + 1);
	case 12:
		return do_fleet(argc - 1, argv + 1);
	default:
		return EXIT_USAGE;
	}
}

/* -b FILE ("-": stdin): an exit status. */
int cmd_batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;

	return batch(f, file);
}

/*
 * One command per line of @f (named @file in messages; closed unless it is
 * stdin); stops at the first that fails, exit status 1.
 */
static int batch(FILE *f, const char *file)
{
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
			err = cmd_run(n, words);
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
static int restore(FILE *f, const char *file, bool check)
{
	static bool restoring;
	FILE *devnull, *held;
	char *text = NULL;
	size_t len = 0;
	uint32_t line;
	int err, nlerr;

	if (restoring) {
		if (f && f != stdin)
			fclose(f);
		return usage_error("restore: not inside a restore");
	}
	if (nl_need() ||
	    nl_exec(nl_request(RNAT_CMD_RESTORE_BEGIN, 0), NULL, NULL)) {
		if (f && f != stdin)
			fclose(f);
		return EXIT_ERROR;
	}
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
		if (f && f != stdin)
			fclose(f);
		return EXIT_ERROR;
	}
	/* The commands' own output would only be noise. */
	out_set_files(devnull, held);
	restoring = true;
	nl_stream_start();
	err = batch(f, file);
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

static int do_restore(int argc, char **argv)
{
	bool check = argc >= 1 && !strcmp(argv[0], "--check");

	if (check) {
		argc--;
		argv++;
	}
	if (argc != 1)
		return usage_error("restore: %s", argc ? "one FILE only" :
				   "missing FILE");
	return restore(strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin,
		       argv[0], check);
}

int cmd_restore_text(const char *text, size_t len)
{
	FILE *f = len ? fmemopen((void *)text, len, "r") :
			fopen("/dev/null", "r");

	return restore(f, "the snapshot", false);
}

/* Like "ip -n": joins /run/netns/NAME before anything else happens. */
int cmd_enter_netns(const char *name)
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

