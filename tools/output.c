// SPDX-License-Identifier: GPL-2.0
/*
 * Owns rnatctl's output: text lines, the JSON emitter (nesting, commas,
 * string escaping) and the one format of error messages. See output.h.
 */

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "output.h"

#define JSON_DEPTH_MAX 8

static bool json;
static FILE *out_f, *err_f;
static int err_line;

/* For each open JSON container: has it a member yet? Its closing char. */
static bool json_nonempty[JSON_DEPTH_MAX];
static char json_closer[JSON_DEPTH_MAX];
static int json_depth;

static FILE *out(void)
{
	return out_f ? out_f : stdout;
}

FILE *out_stream(void)
{
	return out();
}

/* The key json_key() gave the next value, if it is still to come. */
static const char *json_next_key;

void out_init(bool want_json)
{
	json = want_json;
	json_depth = 0;
	json_next_key = NULL;
}

bool out_json(void)
{
	return json;
}

static bool stats;

void out_set_stats(bool want)
{
	stats = want;
}

bool out_stats(void)
{
	return stats;
}

void out_set_files(FILE *o, FILE *e)
{
	out_f = o;
	err_f = e;
}

FILE *out_swap(FILE *o)
{
	FILE *old = out_f;

	out_f = o;
	return old;
}

void out_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out(), fmt, ap);
	va_end(ap);
}

void err_set_line(int line)
{
	err_line = line;
}

static char last_err[512];
static bool first_kept;	/* keep the first error since out_clear_error() */

const char *out_last_error(void)
{
	return last_err;
}

void out_clear_error(void)
{
	last_err[0] = '\0';
	first_kept = true;
}

static void vpr_msg(const char *what, const char *fmt, va_list ap)
{
	FILE *f = err_f ? err_f : stderr;
	va_list copy;
	int n = 0;

	if (!strcmp(what, "Error") && !(first_kept && last_err[0])) {
		if (err_line)
			n = snprintf(last_err, sizeof(last_err), "in line %d: ",
				     err_line);
		va_copy(copy, ap);
		vsnprintf(last_err + n, sizeof(last_err) - n, fmt, copy);
		va_end(copy);
	}

	/* Results so far come first if both go to one terminal. */
	fflush(out());
	if (err_line)
		fprintf(f, "%s in line %d: ", what, err_line);
	else
		fprintf(f, "%s: ", what);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_msg("Error", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_msg("Warning", fmt, ap);
	va_end(ap);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr_msg("Error", fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* Length of the valid UTF-8 sequence at @s, 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	uint32_t cp;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', f);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(f, "\\u%04x", *s);
				break;
			}
			n = utf8_len(s);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', f);
}

void json_key(const char *key)
{
	json_next_key = key;
}

/* Starts a value: the comma before it and, inside an object, its key. */
static void json_value(const char *key)
{
	FILE *f = out();

	if (!key) {
		key = json_next_key;
		json_next_key = NULL;
	}

	if (json_depth && json_depth <= JSON_DEPTH_MAX) {
		if (json_nonempty[json_depth - 1])
			fputc(',', f);
		json_nonempty[json_depth - 1] = true;
	}
	if (key) {
		json_string(f, key);
		fputc(':', f);
	}
}

/* Ends a value: a top-level one ends its line. */
static void json_end(void)
{
	if (!json_depth)
		fputc('\n', out());
}

static void json_open(const char *key, char c)
{
	json_value(key);
	fputc(c, out());
	if (json_depth < JSON_DEPTH_MAX) {
		json_nonempty[json_depth] = false;
		json_closer[json_depth] = c == '{' ? '}' : ']';
	}
	json_depth++;
}

static void json_close(char c)
{
	fputc(c, out());
	if (json_depth)
		json_depth--;
	json_end();
}

int json_level(void)
{
	return json_depth;
}

void json_close_to(int level)
{
	while (json_depth > level && json_depth <= JSON_DEPTH_MAX)
		json_close(json_closer[json_depth - 1]);
}

void json_obj_open(const char *key)
{
	json_open(key, '{');
}

void json_obj_close(void)
{
	json_close('}');
}

void json_arr_open(const char *key)
{
	json_open(key, '[');
}

void json_arr_close(void)
{
	json_close(']');
}

void json_str(const char *key, const char *s)
{
	json_value(key);
	json_string(out(), s);
	json_end();
}

void json_uint(const char *key, unsigned long long v)
{
	json_value(key);
	fprintf(out(), "%llu", v);
	json_end();
}

void json_bool(const char *key, bool v)
{
	json_value(key);
	fputs(v ? "true" : "false", out());
	json_end();
}

void json_null(const char *key)
{
	json_value(key);
	fputs("null", out());
	json_end();
}
