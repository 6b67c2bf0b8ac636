/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running rnatctl command lines (cmd.c), shared by rnatctl's main and by
 * rnatd: each returns an exit status (0, EXIT_ERROR, EXIT_USAGE) after
 * printing what went wrong with pr_err().
 */
#ifndef RNATCTL_CMD_H
#define RNATCTL_CMD_H

#include <stddef.h>
#include <stdio.h>

void cmd_usage(FILE *f);
/* One command line, without the options. */
int cmd_run(int argc, char **argv);
/* -b FILE ("-": stdin): one command per line, stopping at the first failure. */
int cmd_batch(const char *file);
/*
 * "restore" of @text (as "save" prints it): one atomic RESTORE_BEGIN ...
 * COMMIT over the netlink socket; on any failure the live state is
 * untouched (the socket is closed, the kernel drops what was built).
 */
int cmd_restore_text(const char *text, size_t len);
/* Like "ip -n": joins /run/netns/NAME. */
int cmd_enter_netns(const char *name);

#endif
