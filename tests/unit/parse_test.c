// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of rnatctl's word parsing (tools/parse.c): addresses,
 * prefixes, numbers, names, keyword abbreviations, KEY VALUE lists, batch
 * line splitting and address formatting.
 */

#include <arpa/inet.h>

#include <linux/rnat.h>

#include "parse.h"
#include "unit.h"

/* parse_prefix() accepts @word as @addr/@len. */
static int prefix_is(const char *word, uint8_t min, const char *addr, int len)
{
	struct prefix p = { 0 };
	int err;

	capture_begin();
	err = parse_prefix(word, min, &p);
	capture_end();
	return !err && p.addr == inet_addr(addr) && p.len == len &&
	       !cap_err_len;
}

/* parse_prefix() rejects @word with a message containing @msg. */
static int prefix_bad(const char *word, uint8_t min, const char *msg)
{
	struct prefix p;
	int err;

	capture_begin();
	err = parse_prefix(word, min, &p);
	capture_end();
	return err == -1 && err_has("Error: ") && err_has(msg);
}

static int u32_is(const char *word, uint32_t min, uint32_t max,
		  long long want)
{
	uint32_t v = 12345;
	int err;

	capture_begin();
	err = parse_u32(word, "VPN id", min, max, &v);
	capture_end();
	if (want < 0)
		return err == -1 && v == 12345 && err_has("VPN id \"") &&
		       err_has(word);
	return !err && v == want;
}

static int name_ok(const char *word)
{
	int err;

	capture_begin();
	err = parse_name(word, "pool name");
	capture_end();
	return err == 0;
}

static int words_are(const char *line, int max, int n,
		     const char *const *want)
{
	char buf[256], *w[16];
	int i, got;

	snprintf(buf, sizeof(buf), "%s", line);
	got = split_words(buf, w, max);
	if (got != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(w[i], want[i]))
			return 0;
	return 1;
}

static void test_prefixes(void)
{
	CHECK(prefix_is("10.1.0.0", 16, "10.1.0.0", 32), "address alone is a /32");
	CHECK(prefix_is("10.162.0.0/16", 8, "10.162.0.0", 16), "prefix with length");
	CHECK(prefix_is("10.0.0.0/8", 8, "10.0.0.0", 8), "shortest pool prefix");
	CHECK(prefix_is("10.1.0.0/16", 16, "10.1.0.0", 16), "shortest map prefix");
	CHECK(prefix_is("10.1.0.7/32", 16, "10.1.0.7", 32), "explicit /32");
	CHECK(prefix_is("255.255.255.255", 16, "255.255.255.255", 32), "all ones");
	CHECK(prefix_is("0.0.0.0", 16, "0.0.0.0", 32), "all zeros");
	CHECK(prefix_bad("10.1.0.1/24", 16, "10.1.0.1/24 has host bits set"),
	      "host bits set rejected");
	CHECK(prefix_bad("10.153.0.0/8", 8, "10.153.0.0/8 has host bits set"),
	      "host bits of a pool prefix rejected");
	CHECK(prefix_bad("10.1.0.0/33", 16, "\"33\""), "length 33 rejected");
	CHECK(prefix_bad("10.0.0.0/7", 8, "must be 8 to 32"), "pool length below 8 rejected");
	CHECK(prefix_bad("10.0.0.0/15", 16, "must be 16 to 32"), "map length below 16 rejected");
	CHECK(prefix_bad("10.1.0.0/", 16, "bad prefix length"), "empty length rejected");
	CHECK(prefix_bad("10.1.0.0/-1", 16, "bad prefix length"), "negative length rejected");
	CHECK(prefix_bad("10.1.0.0/+24", 16, "bad prefix length"), "signed length rejected");
	CHECK(prefix_bad("10.1.0.0/024", 16, "bad prefix length"), "leading zero length rejected");
	CHECK(prefix_bad("10.1.0.0/2x", 16, "bad prefix length"), "garbage in length rejected");
	CHECK(prefix_bad("10.1.0.0/24/24", 16, "bad prefix length"), "two slashes rejected");
	CHECK(prefix_bad("10.1.0", 16, "\"10.1.0\" is not an IPv4 address"),
	      "three-part address rejected");
	CHECK(prefix_bad("10.1.0.256", 16, "not an IPv4 address"), "octet 256 rejected");
	CHECK(prefix_bad("10.1.0.0.0", 16, "not an IPv4 address"), "five-part address rejected");
	CHECK(prefix_bad("10.01.0.0", 16, "not an IPv4 address"), "leading zero octet rejected");
	CHECK(prefix_bad("0x0a.1.0.0", 16, "not an IPv4 address"), "hex octet rejected");
	CHECK(prefix_bad("167837696", 16, "not an IPv4 address"), "integer address rejected");
	CHECK(prefix_bad("", 16, "not an IPv4 address"), "empty word rejected");
	CHECK(prefix_bad(" 10.1.0.0", 16, "not an IPv4 address"), "leading space rejected");
	CHECK(prefix_bad("10.1.0.0 ", 16, "not an IPv4 address"), "trailing space rejected");
	CHECK(prefix_bad("/24", 16, "not an IPv4 address"), "length without address rejected");
	CHECK(prefix_bad("fe80::1", 16, "not an IPv4 address"), "IPv6 rejected");
	CHECK(prefix_bad("10.100.100.100000000000", 16, "not an IPv4 address"),
	      "over-long word rejected");
	CHECK(prefix_bad("10.1.0.0/0000000000000000000024", 16, "bad prefix length"),
	      "over-long length rejected");
}

static void test_numbers(void)
{
	CHECK(u32_is("1", 1, RNAT_VPN_ID_MAX, 1), "vpn id 1");
	CHECK(u32_is("42", 1, RNAT_VPN_ID_MAX, 42), "vpn id 42");
	CHECK(u32_is("2147483647", 1, RNAT_VPN_ID_MAX, 2147483647), "vpn id max");
	CHECK(u32_is("4294967295", 0, UINT32_MAX, 4294967295LL), "u32 max");
	CHECK(u32_is("2147483648", 1, RNAT_VPN_ID_MAX, -1), "vpn id max + 1 rejected");
	CHECK(u32_is("4294967296", 0, UINT32_MAX, -1), "u32 max + 1 rejected");
	CHECK(u32_is("0", 1, RNAT_VPN_ID_MAX, -1), "vpn id 0 rejected");
	CHECK(u32_is("0", 0, 5, 0), "0 accepted when in range");
	CHECK(u32_is("-1", 1, RNAT_VPN_ID_MAX, -1), "negative rejected");
	CHECK(u32_is("+5", 1, RNAT_VPN_ID_MAX, -1), "plus sign rejected");
	CHECK(u32_is("007", 1, RNAT_VPN_ID_MAX, -1), "leading zeros rejected");
	CHECK(u32_is("0x10", 1, RNAT_VPN_ID_MAX, -1), "hex rejected");
	CHECK(u32_is("1e3", 1, RNAT_VPN_ID_MAX, -1), "exponent rejected");
	CHECK(u32_is("12a", 1, RNAT_VPN_ID_MAX, -1), "trailing garbage rejected");
	CHECK(u32_is(" 1", 1, RNAT_VPN_ID_MAX, -1), "leading space rejected");
	CHECK(u32_is("99999999999999999999", 1, RNAT_VPN_ID_MAX, -1), "overflow rejected");
	CHECK(u32_is("", 1, RNAT_VPN_ID_MAX, -1), "empty number rejected");
	capture_begin();
	parse_u32("0", "VPN id", 1, RNAT_VPN_ID_MAX, &(uint32_t){ 0 });
	capture_end();
	CHECK(!strcmp(cap_err, "Error: VPN id \"0\" is not a number from 1 to 2147483647\n"),
	      "number error message names the word and the range");
}

/* parse_mark() reads @word as @value/@mask, or (@mask < 0) rejects it. */
static int mark_is(const char *word, uint32_t value, long long mask)
{
	struct mark m = { 7, 7 };
	int err;

	capture_begin();
	err = parse_mark(word, "mark", &m);
	capture_end();
	if (mask < 0)
		return err == -1 && m.value == 7 && m.mask == 7 &&
		       err_has("Error: mark \"") && err_has(word);
	return !err && m.value == value && m.mask == mask && !cap_err_len;
}

static void test_marks(void)
{
	CHECK(mark_is("0x10", 0x10, 0xffffffff), "hex mark, full mask");
	CHECK(mark_is("16/240", 16, 240), "decimal mark and mask");
	CHECK(mark_is("0x10/0xF0", 0x10, 0xf0), "hex mask, upper case digits");
	CHECK(mark_is("0xffffffff", 0xffffffff, 0xffffffff), "largest mark");
	CHECK(mark_is("0/0xff", 0, 0xff), "0 under a mask (clears bits)");
	CHECK(mark_is("none", 0, 0), "none is mask 0");
	CHECK(mark_is("0x110/0xf0", 0, -1), "bits outside the mask rejected");
	CHECK(err_has("bits outside its mask"), "outside-mask message says so");
	CHECK(mark_is("0x100000000", 0, -1), "33-bit mark rejected");
	CHECK(mark_is("4294967296", 0, -1), "33-bit decimal mark rejected");
	CHECK(mark_is("0x", 0, -1), "bare 0x rejected");
	CHECK(mark_is("0x10/", 0, -1), "empty mask rejected");
	CHECK(mark_is("/0xff", 0, -1), "empty value rejected");
	CHECK(mark_is("0x10/0xff/1", 0, -1), "two slashes rejected");
	CHECK(mark_is("-1", 0, -1), "negative mark rejected");
	CHECK(mark_is("0x1g", 0, -1), "non-hex digit rejected");
	CHECK(mark_is("", 0, -1), "empty mark rejected");
}

static void test_names(void)
{
	char name[RNAT_NAME_MAX + 1];

	memset(name, 'a', RNAT_NAME_MAX);
	name[RNAT_NAME_MAX] = '\0';
	CHECK(name_ok("AWS_USA_EAST_1"), "pool name accepted");
	CHECK(name_ok("a"), "1-byte name accepted");
	CHECK(name_ok("acme-corp.eu:1"), "punctuation accepted");
	CHECK(!name_ok("caf\xc3\xa9"), "non-ASCII name refused, as the kernel does");
	CHECK(!name_ok("a\"b") && !name_ok("a\\b"), "quote and backslash refused");
	CHECK(!name_ok(name), "32-byte name rejected");
	CHECK(err_has("longer than 31 bytes") && err_has(name), "long name message names it");
	name[RNAT_NAME_MAX - 1] = '\0';
	CHECK(name_ok(name), "31-byte name accepted");
	CHECK(!name_ok(""), "empty name rejected");
	CHECK(!name_ok("a b"), "space in name rejected");
	CHECK(!name_ok("a\tb"), "tab in name rejected");
	CHECK(!name_ok("a\x7f"), "DEL in name rejected");
	CHECK(!name_ok("a\nb"), "newline in name rejected");
}

static void test_keywords(void)
{
	static const char *const objects[] = { "pool", "vpn", "map", "lookup", "help", NULL };
	static const char *const cmds[] = { "add", "del", "delete", "show", "list", "help", NULL };
	static const int ids[] = { 0, 1, 1, 2, 2, 3 };
	static const char *const amb[] = { "show", "set", "sum", NULL };
	static const char *const nested[] = { "name", "nat", NULL };
	static const char *const exact[] = { "nat", "nation", NULL };

	CHECK(keyword("pool", objects, NULL) == 0, "exact keyword");
	CHECK(keyword("m", objects, NULL) == 2, "m abbreviates map");
	CHECK(keyword("p", objects, NULL) == 0, "p abbreviates pool");
	CHECK(keyword("lo", objects, NULL) == 3, "lo abbreviates lookup");
	CHECK(keyword("l", objects, NULL) == 3, "l is lookup among objects");
	CHECK(keyword("x", objects, NULL) == -1, "unknown keyword");
	CHECK(keyword("mapx", objects, NULL) == -1, "longer than the keyword is unknown");
	CHECK(keyword("MAP", objects, NULL) == -1, "keywords are case-sensitive");
	CHECK(keyword("", objects, NULL) == -1, "empty word matches nothing");
	CHECK(keyword("a", cmds, ids) == 0, "a abbreviates add");
	CHECK(keyword("d", cmds, ids) == 1, "d: del and delete are one command");
	CHECK(keyword("dele", cmds, ids) == 1, "dele abbreviates delete");
	CHECK(keyword("l", cmds, ids) == 2, "l: list is show");
	CHECK(keyword("s", amb, NULL) == -2, "s is ambiguous");
	CHECK(keyword("se", amb, NULL) == 1, "se is unique");
	CHECK(keyword("n", nested, NULL) == -2, "n is ambiguous between name and nat");
	CHECK(keyword("na", nested, NULL) == -2, "na is ambiguous between name and nat");
	CHECK(keyword("nat", exact, NULL) == 0, "an exact match beats a longer keyword");
	CHECK(keyword("nati", exact, NULL) == 1, "nati abbreviates nation");

	capture_begin();
	CHECK(parse_keyword("s", "command", amb, NULL) == -1, "parse_keyword fails if ambiguous");
	capture_end();
	CHECK(err_has("ambiguous command \"s\" (show, set, sum)"), "ambiguity message lists the candidates");
	capture_begin();
	CHECK(parse_keyword("frob", "map command", cmds, ids) == -1, "parse_keyword fails if unknown");
	capture_end();
	CHECK(err_has("unknown map command \"frob\" (add, del, delete, show, list, help)"),
	      "unknown message names the word and the choices");
}

static void test_pairs(void)
{
	static const char *const keys[] = { "vpn", "real", "nat", NULL };
	const char *val[3];
	char *ok[] = { "r", "10.1.0.0", "vpn", "1" };
	char *twice[] = { "vpn", "1", "v", "2" };
	char *novalue[] = { "vpn", "1", "real" };
	char *unknown[] = { "vpn", "1", "foo", "2" };
	int err;

	capture_begin();
	err = parse_pairs(4, ok, "map add", keys, val);
	capture_end();
	CHECK(!err && !strcmp(val[0], "1") && !strcmp(val[1], "10.1.0.0") && !val[2],
	      "pairs in any order, abbreviated");
	capture_begin();
	err = parse_pairs(0, NULL, "map show", keys, val);
	capture_end();
	CHECK(!err && !val[0] && !val[1] && !val[2], "no pairs");
	capture_begin();
	err = parse_pairs(4, twice, "map add", keys, val);
	capture_end();
	CHECK(err == -1 && err_has("map add: \"vpn\" given twice"), "repeated key rejected");
	capture_begin();
	err = parse_pairs(3, novalue, "map add", keys, val);
	capture_end();
	CHECK(err == -1 && err_has("\"real\" needs a value"), "key without value rejected");
	capture_begin();
	err = parse_pairs(4, unknown, "map add", keys, val);
	capture_end();
	CHECK(err == -1 && err_has("unknown map add keyword \"foo\""), "unknown key rejected");
}

static void test_split(void)
{
	CHECK(words_are("  map add\tvpn 1 \r\n", 16, 4,
			(const char *const[]){ "map", "add", "vpn", "1" }),
	      "batch line split on blanks");
	CHECK(words_are("", 16, 0, NULL), "empty line has no words");
	CHECK(words_are(" \t \n", 16, 0, NULL), "blank line has no words");
	CHECK(words_are("# a comment", 16, 0, NULL), "comment line has no words");
	CHECK(words_are("   # indented comment", 16, 0, NULL), "indented comment line has no words");
	CHECK(words_are("pool show # trailing", 16, 2,
			(const char *const[]){ "pool", "show" }),
	      "trailing comment dropped");
	CHECK(words_are("pool show x#y", 16, 3,
			(const char *const[]){ "pool", "show", "x#y" }),
	      "# inside a word is kept");
	CHECK(words_are("a b c", 3, 3, (const char *const[]){ "a", "b", "c" }),
	      "exactly the maximum of words");
	CHECK(words_are("a b c d", 3, -1, NULL), "too many words reported");
	CHECK(words_are("a b c # d e", 3, 3, (const char *const[]){ "a", "b", "c" }),
	      "comment words do not count");
}

static void test_format(void)
{
	char buf[PREFIX_STRLEN];

	CHECK(!strcmp(format_prefix(buf, inet_addr("10.1.0.0"), 24, false), "10.1.0.0/24"),
	      "prefix formatted with its length");
	CHECK(!strcmp(format_prefix(buf, inet_addr("10.1.0.0"), 32, false), "10.1.0.0"),
	      "a /32 prints as an address");
	CHECK(!strcmp(format_prefix(buf, inet_addr("10.153.0.0"), 32, true), "10.153.0.0/32"),
	      "pool prefixes always show their length");
	CHECK(!strcmp(format_prefix(buf, inet_addr("255.255.255.255"), 32, true),
		      "255.255.255.255/32"), "longest prefix fits PREFIX_STRLEN");
	CHECK(prefix_mask(0) == 0 && prefix_mask(32) == 0xffffffff &&
	      prefix_mask(24) == htonl(0xffffff00) && prefix_mask(1) == htonl(0x80000000),
	      "prefix masks");
}

int main(void)
{
	test_prefixes();
	test_numbers();
	test_marks();
	test_names();
	test_keywords();
	test_pairs();
	test_split();
	test_format();
	capture_free();
	return unit_exit();
}
