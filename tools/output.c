// SPDX-License-Identifier: GPL-2.0
/* Text and JSON output of objects; see output.h. */

#include "output.h"

static bool json;
static bool in_list, list_first, obj_first, strs_first;

void out_init(bool want_json)
{
	json = want_json;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void out_list_begin(void)
{
	in_list = true;
	list_first = true;
	if (json)
		fputs("[", stdout);
}

void out_list_end(void)
{
	in_list = false;
	if (json)
		fputs("]\n", stdout);
}

void out_obj_begin(void)
{
	obj_first = true;
	if (!json)
		return;
	if (in_list && !list_first)
		fputs(",", stdout);
	list_first = false;
	fputs("{", stdout);
}

void out_obj_end(void)
{
	if (json)
		fputs(in_list ? "}" : "}\n", stdout);
	else
		fputs("\n", stdout);
}

static void out_key(const char *key)
{
	if (json) {
		if (!obj_first)
			fputs(",", stdout);
		json_string(stdout, key);
		fputs(":", stdout);
	} else {
		printf(obj_first ? "%s " : " %s ", key);
	}
	obj_first = false;
}

void out_str(const char *key, const char *value)
{
	out_key(key);
	if (json)
		json_string(stdout, value);
	else
		fputs(value, stdout);
}

void out_uint(const char *key, unsigned long long value)
{
	out_key(key);
	printf("%llu", value);
}

void out_strs_begin(const char *key)
{
	out_key(key);
	strs_first = true;
	if (json)
		fputs("[", stdout);
}

void out_strs_add(const char *value)
{
	if (json) {
		if (!strs_first)
			fputs(",", stdout);
		json_string(stdout, value);
	} else {
		printf(strs_first ? "%s" : " %s", value);
	}
	strs_first = false;
}

void out_strs_end(void)
{
	if (json)
		fputs("]", stdout);
}
