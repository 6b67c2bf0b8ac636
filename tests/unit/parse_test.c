// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of rnatctl's word parsing and JSON output, built with ASan and
 * UBSan by `make -C tools test`. Prints `ok - NAME` / `not ok - NAME`.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rnat.h>

#include "output.h"
#include "parse.h"

static int failed;

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failed = 1;
}

static int prefix_is(const char *word, uint8_t min, const char *addr, int len)
{
	struct prefix p;

	if (parse_prefix(word, &p, min))
		return 0;
	return p.addr == inet_addr(addr) && p.len == len;
}

static int prefix_bad(const char *word, uint8_t min)
{
	struct prefix p;

	return parse_prefix(word, &p, min) == -1;
}

static int u32_is(const char *word, uint32_t min, uint32_t max, long long want)
{
	uint32_t v = 0;
	int err = parse_u32(word, "n", min, max, &v);

	return want < 0 ? err == -1 : !err && v == want;
}

static const char *json_of(const char *s)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_string(f, s);
	fclose(f);
	return buf;
}

static int words_are(const char *line, int n, const char *const *want)
{
	char buf[256], *w[8];
	int i, got;

	snprintf(buf, sizeof(buf), "%s", line);
	got = split_words(buf, w, 8);
	if (got != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(w[i], want[i]))
			return 0;
	return 1;
}

int main(void)
{
	static const char *const objects[] = { "pool", "vpn", "map", "lookup", "help", NULL };
	static const char *const cmds[] = { "add", "del", "delete", "show", "list", NULL };
	static const int ids[] = { 0, 1, 1, 2, 2 };
	char name32[RNAT_NAME_MAX + 1], buf[32];

	/* Stderr would only repeat the failures the cases expect. */
	if (!freopen("/dev/null", "w", stderr))
		return 1;

	check(prefix_is("10.1.0.0", 16, "10.1.0.0", 32), "address alone is a /32");
	check(prefix_is("10.162.0.0/16", 8, "10.162.0.0", 16), "prefix with length");
	check(prefix_is("0.0.0.0/8", 8, "0.0.0.0", 8), "shortest pool prefix");
	check(prefix_is("255.255.255.255/32", 8, "255.255.255.255", 32), "all ones /32");
	check(prefix_bad("10.1.0.1/24", 16), "host bits set rejected");
	check(prefix_bad("10.1.0.0/33", 16), "length 33 rejected");
	check(prefix_bad("10.0.0.0/7", 8), "length below minimum rejected");
	check(prefix_bad("10.1.0.0/", 16), "empty length rejected");
	check(prefix_bad("10.1.0.0/-1", 16), "negative length rejected");
	check(prefix_bad("10.1.0.0/2x", 16), "trailing garbage in length rejected");
	check(prefix_bad("10.1.0", 16), "three-part address rejected");
	check(prefix_bad("10.1.0.256", 16), "octet 256 rejected");
	check(prefix_bad("10.1.0.0.0", 16), "five-part address rejected");
	check(prefix_bad("", 16), "empty word rejected");
	check(prefix_bad(" 10.1.0.0", 16), "leading space rejected");
	check(prefix_bad("10.1.0.0/24/24", 16), "two slashes rejected");
	check(prefix_bad("0x0a.1.0.0", 16), "hex octet rejected");
	check(prefix_bad("10.1.0.0/0000000000000000000000000024", 16),
	      "over-long word rejected");

	check(u32_is("1", 1, RNAT_VPN_ID_MAX, 1), "vpn id 1");
	check(u32_is("2147483647", 1, RNAT_VPN_ID_MAX, 2147483647), "vpn id max");
	check(u32_is("2147483648", 1, RNAT_VPN_ID_MAX, -1), "vpn id max + 1 rejected");
	check(u32_is("0", 1, RNAT_VPN_ID_MAX, -1), "vpn id 0 rejected");
	check(u32_is("-1", 1, RNAT_VPN_ID_MAX, -1), "negative rejected");
	check(u32_is("1e3", 1, RNAT_VPN_ID_MAX, -1), "exponent rejected");
	check(u32_is("99999999999999999999", 1, RNAT_VPN_ID_MAX, -1), "overflow rejected");
	check(u32_is("", 1, RNAT_VPN_ID_MAX, -1), "empty number rejected");
	check(u32_is("+5", 1, RNAT_VPN_ID_MAX, -1), "plus sign rejected");

	memset(name32, 'a', RNAT_NAME_MAX);
	name32[RNAT_NAME_MAX] = '\0';
	check(!parse_name("AWS_USA_EAST_1", "pool"), "pool name accepted");
	check(parse_name(name32, "pool") == -1, "32-byte name rejected");
	name32[RNAT_NAME_MAX - 1] = '\0';
	check(!parse_name(name32, "pool"), "31-byte name accepted");
	check(parse_name("", "pool") == -1, "empty name rejected");
	check(parse_name("a\"b", "pool") == -1, "quote in name rejected");
	check(parse_name("a\tb", "pool") == -1, "tab in name rejected");

	check(keyword("m", objects, NULL) == 2, "m abbreviates map");
	check(keyword("lo", objects, NULL) == 3, "lo abbreviates lookup");
	check(keyword("pool", objects, NULL) == 0, "exact keyword");
	check(keyword("x", objects, NULL) == -1, "unknown keyword");
	check(keyword("mapx", objects, NULL) == -1, "longer than keyword is unknown");
	check(keyword("", objects, NULL) == -1, "empty word matches nothing");
	check(keyword("d", cmds, ids) == 1, "d: del and delete are one command");
	check(keyword("l", objects, NULL) == 3, "l is lookup among objects");
	static const char *const amb[] = { "show", "set", NULL };
	check(keyword("s", amb, NULL) == -2, "s is ambiguous between show and set");

	check(!strcmp(json_of("plain"), "\"plain\""), "json plain string");
	check(!strcmp(json_of("a\"b\\c"), "\"a\\\"b\\\\c\""), "json escapes quote and backslash");
	check(!strcmp(json_of("a\nb\x01"), "\"a\\nb\\u0001\""), "json escapes control characters");

	check(words_are("  map add vpn 1  ", 3 + 1, (const char *const[]){ "map", "add", "vpn", "1" }),
	      "batch line split on blanks");
	check(words_are("# a comment", 0, NULL), "batch comment line is empty");
	check(words_are("pool show # trailing", 2, (const char *const[]){ "pool", "show" }),
	      "batch trailing comment dropped");
	check(words_are("a b c d e f g h i", -1, NULL), "too many words reported");

	check(!strcmp(format_prefix(inet_addr("10.1.0.0"), 24, buf, sizeof(buf)), "10.1.0.0/24"),
	      "prefix formatted with its length");
	check(!strcmp(format_prefix(inet_addr("10.1.0.0"), 32, buf, sizeof(buf)), "10.1.0.0"),
	      "a /32 prints as an address");
	return failed;
}
