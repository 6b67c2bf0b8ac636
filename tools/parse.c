// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the meaning of command line words: keyword abbreviations, KEY VALUE
 * lists, addresses, prefixes, numbers, names and batch line splitting. See
 * parse.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rnat.h>

#include "output.h"
#include "parse.h"
#include "rnatctl.h"

int keyword(const char *word, const char *const *list, const int *ids)
{
	size_t n = strlen(word);
	int found = -1, i;

	if (!n)
		return -1;
	for (i = 0; list[i]; i++) {
		int id = ids ? ids[i] : i;

		if (!strcmp(word, list[i]))
			return id;
		if (strncmp(word, list[i], n))
			continue;
		if (found == -1)
			found = id;
		else if (found != id)
			found = -2;
	}
	return found;
}

/* "a, b, c": the words of @list that abbreviate @word (all if NULL). */
static void list_words(char *buf, size_t size, const char *const *list,
		       const char *word)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; list[i] && used < size; i++) {
		if (word && strncmp(word, list[i], strlen(word)))
			continue;
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? ", " : "", list[i]);
	}
}

int parse_keyword(const char *word, const char *what,
		  const char *const *list, const int *ids)
{
	int k = keyword(word, list, ids);
	char choices[256];

	if (k == -2) {
		list_words(choices, sizeof(choices), list, word);
		pr_err("ambiguous %s \"%s\" (%s)", what, word, choices);
		return -1;
	}
	if (k < 0) {
		list_words(choices, sizeof(choices), list, NULL);
		pr_err("unknown %s \"%s\" (%s)", what, word, choices);
	}
	return k;
}

int parse_pairs(int argc, char **argv, const char *cmd,
		const char *const *keys, const char **vals)
{
	char what[64];
	int i, k;

	for (k = 0; keys[k]; k++)
		vals[k] = NULL;
	for (i = 0; i < argc; i += 2) {
		k = keyword(argv[i], keys, NULL);
		if (k < 0) {
			/* Only a line that fails pays for its message's words. */
			snprintf(what, sizeof(what), "%s keyword", cmd);
			parse_keyword(argv[i], what, keys, NULL);
			return -1;
		}
		if (vals[k]) {
			pr_err("%s: \"%s\" given twice", cmd, keys[k]);
			return -1;
		}
		if (i + 1 >= argc) {
			pr_err("%s: \"%s\" needs a value", cmd, keys[k]);
			return -1;
		}
		vals[k] = argv[i + 1];
	}
	return 0;
}

/* Decimal digits only, no leading zero, at most 10 of them; -1 if not. */
static long long decimal(const char *word)
{
	size_t n = strspn(word, "0123456789");

	if (!n || word[n] || n > 10 || (word[0] == '0' && n > 1))
		return -1;
	return strtoll(word, NULL, 10);
}

int parse_u32(const char *word, const char *what, uint32_t min, uint32_t max,
	      uint32_t *out)
{
	long long v = decimal(word);

	if (v < min || v > max) {
		pr_err("%s \"%s\" is not a number from %u to %u", what, word,
		       min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* A 32-bit number, decimal or 0x hex, whole word up to @end; -1 if not. */
static long long number32(const char *word, const char *end)
{
	const char *digits = "0123456789";
	const char *p = word;
	unsigned long long v;
	size_t n;

	if (!strncmp(p, "0x", 2)) {
		digits = "0123456789abcdefABCDEF";
		p += 2;
	}
	n = strspn(p, digits);
	if (!n || p + n != end || n > 10)
		return -1;
	errno = 0;
	v = strtoull(p, NULL, p == word ? 10 : 16);

	return errno || v > UINT32_MAX ? -1 : (long long)v;
}

int parse_mark(const char *word, const char *what, struct mark *m)
{
	const char *slash = strchr(word, '/');
	const char *end = word + strlen(word);
	long long value, mask = UINT32_MAX;

	if (!strcmp(word, "none")) {
		m->value = m->mask = 0;
		return 0;
	}
	value = number32(word, slash ? slash : end);
	if (slash)
		mask = number32(slash + 1, end);
	if (value < 0 || mask < 0) {
		pr_err("%s \"%s\" is not VALUE[/MASK] (32-bit numbers) or none",
		       what, word);
		return -1;
	}
	if (value & ~mask) {
		pr_err("%s \"%s\" has bits outside its mask", what, word);
		return -1;
	}
	m->value = value;
	m->mask = mask;
	return 0;
}

int parse_addr(const char *word, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, word, &in) != 1) {
		pr_err("\"%s\" is not an IPv4 address", word);
		return -1;
	}
	*addr = in.s_addr;
	return 0;
}

uint32_t prefix_mask(unsigned int len)
{
	return len ? htonl(~0U << (32 - len)) : 0;
}

int parse_prefix(const char *word, uint8_t min_len, struct prefix *p)
{
	const char *slash = strchr(word, '/');
	char addr[INET_ADDRSTRLEN];
	size_t n = slash ? (size_t)(slash - word) : strlen(word);
	long long len = 32;

	if (n >= sizeof(addr)) {
		pr_err("\"%s\" is not an IPv4 address or prefix", word);
		return -1;
	}
	memcpy(addr, word, n);
	addr[n] = '\0';
	if (parse_addr(addr, &p->addr))
		return -1;
	if (slash) {
		len = decimal(slash + 1);
		if (len < min_len || len > 32) {
			pr_err("bad prefix length \"%s\" in %s (must be %u to 32)",
			       slash + 1, word, min_len);
			return -1;
		}
	}
	p->len = len;
	if (p->addr & ~prefix_mask(p->len)) {
		pr_err("%s has host bits set", word);
		return -1;
	}
	return 0;
}

int parse_name(const char *word, const char *what)
{
	size_t n = strlen(word), i;

	if (!n) {
		pr_err("%s is empty", what);
		return -1;
	}
	if (n >= RNAT_NAME_MAX) {
		pr_err("%s \"%s\" is longer than %d bytes", what, word,
		       RNAT_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = word[i];

		/* As the kernel: printable ASCII, no quote or backslash. */
		if (c <= ' ' || c > '~' || c == '"' || c == '\\') {
			pr_err("%s \"%s\" has a space, quote, backslash or non-ASCII character",
			       what, word);
			return -1;
		}
	}
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int split_words(char *line, char **words, int max)
{
	char *p = line;
	int n = 0;

	for (;;) {
		while (blank(*p))
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p && !blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

int parse_new_name(const char *word, const char *what)
{
	if (parse_name(word, what))
		return -1;
	if (word[0] == '#') {
		pr_err("%s \"%s\" begins with '#', which starts a comment in batch files",
		       what, word);
		return -1;
	}
	return 0;
}

char *format_prefix(char *buf, uint32_t addr, unsigned int len,
		    bool always_len)
{
	struct in_addr in = { .s_addr = addr };

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
	if (len != 32 || always_len)
		snprintf(buf + strlen(buf), PREFIX_STRLEN - strlen(buf), "/%u",
			 len);
	return buf;
}

int do_object(const struct object *o, int argc, char **argv)
{
	static const char *const base[] = {
		"add", "del", "delete", "show", "list", "help"
	};
	static const int base_ids[] = { 0, 1, 1, 2, 2, 3 };
	const char *cmds[(sizeof(base) / sizeof(base[0])) + OBJECT_MORE_MAX + 1];
	int ids[(sizeof(base) / sizeof(base[0])) + OBJECT_MORE_MAX];
	unsigned int n, i;
	char what[32];
	int id;

	if (argc < 1)
		return o->show(0, NULL);
	for (n = 0; n < (sizeof(base) / sizeof(base[0])); n++) {
		cmds[n] = base[n];
		ids[n] = base_ids[n];
	}
	for (i = 0; o->more && o->more[i].name && i < OBJECT_MORE_MAX; i++) {
		cmds[n] = o->more[i].name;
		ids[n++] = 4 + i;
	}
	cmds[n] = NULL;
	id = keyword(argv[0], cmds, ids);
	if (id < 0) {
		snprintf(what, sizeof(what), "%s command", o->name);
		id = parse_keyword(argv[0], what, cmds, ids);
	}
	switch (id) {
	case 0:
		return o->add(argc - 1, argv + 1);
	case 1:
		return o->del(argc - 1, argv + 1);
	case 2:
		return o->show(argc - 1, argv + 1);
	case 3:
		o->usage(out_stream());
		return 0;
	default:
		if (id < 4)
			return EXIT_USAGE;
		return o->more[id - 4].fn(argc - 1, argv + 1);
	}
}

int parse_prefix_list(const char *word, uint8_t min_len, struct prefix *out,
		      int max)
{
	char buf[PREFIX_STRLEN];
	const char *p = word, *comma;
	int n = 0;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (n == max) {
			pr_err("more than %d prefixes in \"%s\"", max, word);
			return -1;
		}
		if (!len || len >= sizeof(buf)) {
			pr_err("bad prefix list \"%s\"", word);
			return -1;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (parse_prefix(buf, min_len, &out[n++]))
			return -1;
		if (!comma)
			return n;
		p = comma + 1;
	}
}
