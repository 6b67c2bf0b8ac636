// SPDX-License-Identifier: GPL-2.0
/* Parsing of rnatctl's command line words; see parse.h. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rnat.h>

#include "parse.h"

bool matches(const char *word, const char *keyword)
{
	size_t n = strlen(word);

	return n && n <= strlen(keyword) && !strncmp(word, keyword, n);
}

int keyword(const char *word, const char *const *list, const int *ids)
{
	int found = -1, i;

	for (i = 0; list[i]; i++) {
		int id = ids ? ids[i] : i;

		if (!strcmp(word, list[i]))
			return id;
		if (!matches(word, list[i]))
			continue;
		if (found >= 0 && found != id)
			found = -2;
		else if (found != -2)
			found = id;
	}
	return found;
}

uint32_t prefix_mask(uint8_t len)
{
	return len ? htonl(~0U << (32 - len)) : 0;
}

int parse_addr(const char *word, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, word, &in) != 1) {
		fprintf(stderr, "Error: \"%s\" is not an IPv4 address\n", word);
		return -1;
	}
	*addr = in.s_addr;
	return 0;
}

int parse_prefix(const char *word, struct prefix *p, uint8_t min_len)
{
	char buf[INET_ADDRSTRLEN + 4];
	const char *slash = strchr(word, '/');
	uint32_t len = 32;

	if (strlen(word) >= sizeof(buf)) {
		fprintf(stderr, "Error: \"%s\" is not an IPv4 prefix\n", word);
		return -1;
	}
	strcpy(buf, word);
	if (slash) {
		buf[slash - word] = '\0';
		if (parse_u32(slash + 1, "prefix length", min_len, 32, &len))
			return -1;
	}
	if (parse_addr(buf, &p->addr))
		return -1;
	p->len = len;
	if (p->addr & ~prefix_mask(p->len)) {
		fprintf(stderr, "Error: %s has host bits set\n", word);
		return -1;
	}
	return 0;
}

int parse_u32(const char *word, const char *what, uint32_t min, uint32_t max,
	      uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*word < '0' || *word > '9')
		goto bad;
	v = strtoull(word, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "Error: %s \"%s\" is not a number from %u to %u\n",
		what, word, min, max);
	return -1;
}

int parse_name(const char *word, const char *what)
{
	size_t n = strlen(word);
	size_t i;

	if (!n || n >= RNAT_NAME_MAX) {
		fprintf(stderr, "Error: %s \"%s\" must be 1 to %d bytes\n",
			what, word, RNAT_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)word[i] <= ' ' || word[i] == '"' ||
		    word[i] == '\\' || (unsigned char)word[i] >= 0x7f) {
			fprintf(stderr, "Error: %s \"%s\" has a character names cannot use\n",
				what, word);
			return -1;
		}
	}
	return 0;
}

int split_words(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

const char *format_prefix(uint32_t addr, uint8_t len, char *buf, unsigned int size)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	if (len < 32)
		snprintf(buf, size, "%s/%u", a, len);
	else
		snprintf(buf, size, "%s", a);
	return buf;
}
