/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objects' commands (pool.c, vpn.c, map.c) as main and the unit tests
 * see them. Each do_* takes the words after the object and returns an exit
 * status (0, EXIT_ERROR or EXIT_USAGE) having printed what went wrong; it
 * sends nothing to the kernel unless every word parsed.
 */
#ifndef RNATCTL_H
#define RNATCTL_H

#include <stdint.h>
#include <stdio.h>

#include "nl.h"

int do_pool(int argc, char **argv);
int do_vpn(int argc, char **argv);
int do_map(int argc, char **argv);
int do_lookup(int argc, char **argv);
int do_stats(int argc, char **argv);

void pool_usage(FILE *f);
void vpn_usage(FILE *f);
void map_usage(FILE *f);
void lookup_usage(FILE *f);

/* Reply printers, one object per call (text line or JSON object). */
int pool_print(const struct nlattr **tb, void *data);
int vpn_print(const struct nlattr **tb, void *data);
int map_print(const struct nlattr **tb, void *data);

/* Fetches a VPN's name into @name (RNAT_NAME_MAX bytes): 0 or -errno. */
int vpn_name(uint32_t id, char *name);

/* The object/command dispatch shared by the do_* functions. */
#define COMMANDS { "add", "del", "delete", "show", "list", "help", NULL }
#define COMMAND_IDS { CMD_ADD, CMD_DEL, CMD_DEL, CMD_SHOW, CMD_SHOW, CMD_HELP }
enum { CMD_ADD, CMD_DEL, CMD_SHOW, CMD_HELP };

#endif
