/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny unit test harness for rnatctl: CHECK() prints "ok - NAME" or
 * "not ok - NAME" (with the failed expression) and unit_exit() returns
 * non-zero if any case failed. capture_*() collect what rnatctl prints.
 */
#ifndef RNAT_UNIT_H
#define RNAT_UNIT_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define UNIT_FN static __attribute__((unused))

static int unit_failed, unit_cases;

UNIT_FN void unit_check(int ok, const char *name, const char *file, int line,
		       const char *expr)
{
	unit_cases++;
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok) {
		printf("#   %s:%d: %s\n", file, line, expr);
		unit_failed = 1;
	}
	fflush(stdout);
}

#define CHECK(cond, name) unit_check(!!(cond), name, __FILE__, __LINE__, #cond)

UNIT_FN int unit_exit(void)
{
	printf("# %d cases, %s\n", unit_cases, unit_failed ? "FAILED" : "all passed");
	return unit_failed;
}

/* What rnatctl printed between capture_begin() and capture_end(). */
static char *cap_out, *cap_err;
static size_t cap_out_len, cap_err_len;
static FILE *cap_out_f, *cap_err_f;

UNIT_FN void capture_begin(void)
{
	free(cap_out);
	free(cap_err);
	cap_out = cap_err = NULL;
	cap_out_f = open_memstream(&cap_out, &cap_out_len);
	cap_err_f = open_memstream(&cap_err, &cap_err_len);
	if (!cap_out_f || !cap_err_f)
		abort();
	out_set_files(cap_out_f, cap_err_f);
}

UNIT_FN void capture_end(void)
{
	out_set_files(NULL, NULL);
	fclose(cap_out_f);
	fclose(cap_err_f);
}

UNIT_FN void capture_free(void)
{
	free(cap_out);
	free(cap_err);
	cap_out = cap_err = NULL;
}

/* Did the captured error output contain @s? */
UNIT_FN int err_has(const char *s)
{
	return cap_err && strstr(cap_err, s);
}

#endif
