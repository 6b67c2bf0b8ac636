// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of rnatctl's output (tools/output.c): JSON string escaping,
 * the JSON emitter's nesting and commas, and the error line formats.
 */

#include "output.h"
#include "unit.h"

static const char *json_of(const char *s)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		abort();
	json_string(f, s);
	fclose(f);
	return buf;
}

#define JSON_IS(in, want, name) CHECK(!strcmp(json_of(in), want), name)

static void test_escaping(void)
{
	JSON_IS("", "\"\"", "empty string");
	JSON_IS("plain", "\"plain\"", "plain string");
	JSON_IS("a\"b", "\"a\\\"b\"", "quote escaped");
	JSON_IS("a\\b", "\"a\\\\b\"", "backslash escaped");
	JSON_IS("/", "\"/\"", "slash left alone");
	JSON_IS("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", "short escapes");
	JSON_IS("\x01\x1f", "\"\\u0001\\u001f\"", "other control characters as \\u");
	JSON_IS("a\x7f", "\"a\\u007f\"", "DEL escaped");
	JSON_IS("caf\xc3\xa9", "\"caf\xc3\xa9\"", "2-byte UTF-8 kept");
	JSON_IS("\xe2\x82\xac", "\"\xe2\x82\xac\"", "3-byte UTF-8 kept");
	JSON_IS("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 kept");
	JSON_IS("a\xffz", "\"a\\ufffdz\"", "invalid byte replaced");
	JSON_IS("\xc3", "\"\\ufffd\"", "truncated sequence at the end replaced");
	JSON_IS("\xc3z", "\"\\ufffdz\"", "truncated sequence before ASCII replaced");
	JSON_IS("\xc0\xaf", "\"\\ufffd\\ufffd\"", "overlong 2-byte form replaced");
	JSON_IS("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"", "overlong 3-byte form replaced");
	JSON_IS("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "UTF-16 surrogate replaced");
	JSON_IS("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "beyond U+10FFFF replaced");
	JSON_IS("\x80", "\"\\ufffd\"", "lone continuation byte replaced");
}

static void test_emitter(void)
{
	out_init(true);
	CHECK(out_json(), "json mode");
	capture_begin();
	json_arr_open(NULL);
	json_arr_close();
	capture_end();
	CHECK(!strcmp(cap_out, "[]\n"), "empty array ends its line");

	capture_begin();
	json_obj_open(NULL);
	json_uint("vpn", 1);
	json_str("name", "a\"b");
	json_bool("deleted", true);
	json_null("dev");
	json_obj_close();
	capture_end();
	CHECK(!strcmp(cap_out, "{\"vpn\":1,\"name\":\"a\\\"b\",\"deleted\":true,\"dev\":null}\n"),
	      "object members separated by commas");

	capture_begin();
	json_arr_open(NULL);
	json_obj_open(NULL);
	json_str("pool", "P");
	json_arr_open("prefixes");
	json_str(NULL, "10.153.0.0/16");
	json_str(NULL, "10.157.0.0/16");
	json_arr_close();
	json_uint("size", 131072);
	json_obj_close();
	json_obj_open(NULL);
	json_str("pool", "Q");
	json_arr_open("prefixes");
	json_arr_close();
	json_obj_close();
	json_arr_close();
	capture_end();
	CHECK(!strcmp(cap_out,
		      "[{\"pool\":\"P\",\"prefixes\":[\"10.153.0.0/16\",\"10.157.0.0/16\"],"
		      "\"size\":131072},{\"pool\":\"Q\",\"prefixes\":[]}]\n"),
	      "nested arrays and objects");

	capture_begin();
	json_obj_open(NULL);
	json_uint("a", 18446744073709551615ULL);
	json_obj_close();
	json_obj_open(NULL);
	json_uint("b", 0);
	json_obj_close();
	capture_end();
	CHECK(!strcmp(cap_out, "{\"a\":18446744073709551615}\n{\"b\":0}\n"),
	      "consecutive top-level values are separate lines");
	out_init(false);
	CHECK(!out_json(), "text mode");
}

static void test_errors(void)
{
	capture_begin();
	pr_err("no device \"%s\"", "wg9");
	capture_end();
	CHECK(!strcmp(cap_err, "Error: no device \"wg9\"\n"), "error line");
	CHECK(!cap_out_len, "errors go to the error stream only");

	capture_begin();
	err_set_line(7);
	CHECK(usage_error("unknown object \"%s\"", "x") == EXIT_USAGE,
	      "usage_error returns the usage exit status");
	err_set_line(0);
	pr_err("after");
	capture_end();
	CHECK(!strcmp(cap_err, "Error in line 7: unknown object \"x\"\nError: after\n"),
	      "batch errors name their line");
}

int main(void)
{
	test_escaping();
	test_emitter();
	test_errors();
	capture_free();
	return unit_exit();
}
