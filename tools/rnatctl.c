// SPDX-License-Identifier: GPL-2.0
/*
 * rnatctl: manages rnat's pools, VPNs and mappings over generic netlink.
 * This file: options, the object dispatch, batch mode and help.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

#define MAX_WORDS 128

static bool netlink_open;

static void usage(FILE *f)
{
	fputs("Usage: rnatctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       rnatctl [OPTIONS] -b FILE\n"
	      "OBJECT := { pool | vpn | map | lookup | help }\n"
	      "OPTIONS := { -j[son] | -n[etns] NAME | -b[atch] FILE (- for stdin) }\n"
	      "Words may be abbreviated to any unique prefix.\n"
	      "Run \"rnatctl OBJECT help\" for an object's commands.\n", f);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EXIT_USAGE;
}

int need_netlink(void)
{
	if (netlink_open)
		return 0;
	if (nl_open())
		return EXIT_ERROR;
	netlink_open = true;
	return 0;
}

int command(const char *object, const char *word, const char *const *list,
	    const int *ids)
{
	int k = keyword(word, list, ids);

	if (k == -2)
		usage_error("\"%s\" is ambiguous for %s", word, object);
	else if (k < 0)
		usage_error("unknown %s command \"%s\"", object, word);
	return k;
}

static int run(int argc, char **argv)
{
	static const char *const objects[] = { "pool", "vpn", "map", "lookup", "help", NULL };

	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	switch (keyword(argv[0], objects, NULL)) {
	case 0:
		return do_pool(argc - 1, argv + 1);
	case 1:
		return do_vpn(argc - 1, argv + 1);
	case 2:
		return do_map(argc - 1, argv + 1);
	case 3:
		return do_lookup(argc - 1, argv + 1);
	case 4:
		usage(stdout);
		return 0;
	case -2:
		return usage_error("\"%s\" is ambiguous", argv[0]);
	default:
		usage(stderr);
		return usage_error("unknown object \"%s\"", argv[0]);
	}
}

/* One command per line; stops at the first that fails. */
static int batch(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL, *words[MAX_WORDS];
	size_t cap = 0;
	int lineno = 0, n, err = 0;

	if (!f) {
		fprintf(stderr, "Error: cannot open %s: %s\n", file, strerror(errno));
		return EXIT_ERROR;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		n = split_words(line, words, MAX_WORDS);
		if (n == 0)
			continue;
		err = n < 0 ? usage_error("too many words") : run(n, words);
		if (err) {
			fprintf(stderr, "Error in line %d of %s\n", lineno, file);
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

static int enter_netns(const char *name)
{
	char path[256];
	int fd;

	if (strchr(name, '/') || snprintf(path, sizeof(path), "/run/netns/%s", name) >=
	    (int)sizeof(path))
		return usage_error("bad network namespace name \"%s\"", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "Error: cannot enter network namespace \"%s\": %s\n",
			name, strerror(errno));
		if (fd >= 0)
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
		{ "netns", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *netns = NULL, *file = NULL;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "+jn:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'b':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	out_init(json);
	if (netns && (err = enter_netns(netns)))
		return err;
	if (file) {
		if (optind != argc)
			return usage_error("-b takes no command besides the file");
		err = batch(file);
	} else {
		err = run(argc - optind, argv + optind);
	}
	if (netlink_open)
		nl_close();
	return err;
}
