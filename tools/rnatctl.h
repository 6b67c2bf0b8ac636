/* SPDX-License-Identifier: GPL-2.0 */
/* What the object commands (pool.c, vpn.c, map.c) share with main. */
#ifndef RNATCTL_H
#define RNATCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses: 1 for errors the kernel or system reports, 2 for usage. */
enum { EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Each returns 0 or an exit status, having printed what went wrong. */
int do_pool(int argc, char **argv);
int do_vpn(int argc, char **argv);
int do_map(int argc, char **argv);
int do_lookup(int argc, char **argv);

/* A VPN's name, for lookups; 0 or -1 (printed). */
int vpn_name(uint32_t id, char *name, size_t size);

/* Prints "Error: ..." and returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens the netlink socket on first use; 0 or EXIT_ERROR. */
int need_netlink(void);

/* The command word at argv[0]: index into @list by unique prefix. */
int command(const char *object, const char *word, const char *const *list,
	    const int *ids);

#endif
