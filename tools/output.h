/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output: where results (stdout) and errors (stderr) go. Results are plain
 * text lines or, with -j, JSON written by the small emitter below; errors
 * are one "Error: ..." line ("Error in line N: ..." in batch mode).
 */
#ifndef RNATCTL_OUTPUT_H
#define RNATCTL_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses: 1 for errors the kernel or system reports, 2 for usage. */
enum { EXIT_ERROR = 1, EXIT_USAGE = 2 };

void out_init(bool json);
bool out_json(void);
/* -s: shows ask for counters too. */
void out_set_stats(bool want);
bool out_stats(void);
/* Redirects results and errors (the unit tests capture them). */
void out_set_files(FILE *out, FILE *err);
/* Redirects results only (NULL: stdout); returns where they went before. */
FILE *out_swap(FILE *out);

/* Where results go: stdout unless redirected. */
FILE *out_stream(void);
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "Error: <message>" (or "Error in line N: " when N is set). */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The last error pr_err() or usage_error() printed, without "Error: "; after
 * out_clear_error(), the first one printed since (rnatd's last error).
 */
const char *out_last_error(void);
void out_clear_error(void);
/* "Warning: <message>", for what does not fail the command. */
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like pr_err, returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The batch line errors are reported for; 0 for none. */
void err_set_line(int line);

/*
 * JSON emitter. @key names the member inside an object and must be NULL
 * inside an array or at the top level. A top-level value ends with '\n'.
 */
/* The key of the next value opened or printed without one. */
void json_key(const char *key);
void json_obj_open(const char *key);
void json_obj_close(void);
void json_arr_open(const char *key);
void json_arr_close(void);
void json_str(const char *key, const char *s);
void json_uint(const char *key, unsigned long long v);
void json_bool(const char *key, bool v);
void json_null(const char *key);
/* How many containers are open; closes them down to @level (after a
 * failure, so that what was printed stays one valid JSON document).
 */
int json_level(void);
void json_close_to(int level);

/* Writes @s as a JSON string literal: quotes, backslashes and control
 * characters escaped, invalid UTF-8 bytes replaced by U+FFFD.
 */
void json_string(FILE *f, const char *s);

#endif
