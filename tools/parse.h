/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line words: keywords with unique-prefix abbreviations, KEY VALUE
 * argument lists, IPv4 addresses and prefixes, numbers, names, batch lines
 * and the formatting of addresses back into words. Every parse_* function
 * returns 0 (or a keyword's index) or -1 after printing an "Error: ..."
 * that names the bad word.
 */
#ifndef RNATCTL_PARSE_H
#define RNATCTL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

struct prefix {
	uint32_t addr;		/* network byte order */
	uint8_t len;
};

/* A fwmark test or rewrite: the bits @mask (0: none) to be @value. */
struct mark {
	uint32_t value;
	uint32_t mask;
};

/* "255.255.255.255/32" and its NUL */
#define PREFIX_STRLEN 19

/*
 * The index of the keyword @word is, or abbreviates uniquely, in the
 * NULL-terminated @list: -1 if none, -2 if several. Aliases share an index
 * through @ids (NULL: the position in @list). An exact match always wins.
 */
int keyword(const char *word, const char *const *list, const int *ids);
/* keyword(), printing "unknown/ambiguous @what "word" (choices)" on -1/-2. */
int parse_keyword(const char *word, const char *what,
		  const char *const *list, const int *ids);

/*
 * Reads "KEY VALUE..." pairs: @vals[i] becomes the value given for
 * @keys[i] (NULL-terminated; @vals has as many entries, set to NULL first).
 * Unknown, ambiguous, repeated or valueless keys are errors; @cmd names the
 * command in messages ("map add").
 */
int parse_pairs(int argc, char **argv, const char *cmd,
		const char *const *keys, const char **vals);

/* A decimal number from @min to @max, without sign or leading zeros. */
int parse_u32(const char *word, const char *what, uint32_t min, uint32_t max,
	      uint32_t *out);
/* A strict dotted quad (inet_pton). */
int parse_addr(const char *word, uint32_t *addr);
/* ADDR or ADDR/LEN (LEN from @min_len to 32, default 32); no host bits. */
int parse_prefix(const char *word, uint8_t min_len, struct prefix *p);
/* "P1,P2,..." of at most @max prefixes into @out: their count, or -1. */
int parse_prefix_list(const char *word, uint8_t min_len, struct prefix *out,
		      int max);
/*
 * VALUE[/MASK] (each decimal or 0x hex, MASK default 0xffffffff, no VALUE
 * bits outside MASK), or "none" (mask 0).
 */
int parse_mark(const char *word, const char *what, struct mark *m);
/* 1 to RNAT_NAME_MAX - 1 printable ASCII bytes but space, '"' and '\\'. */
int parse_name(const char *word, const char *what);
/* parse_name() for a name being given to a pool or VPN: not "#..." either. */
int parse_new_name(const char *word, const char *what);

/*
 * Splits @line in place into at most @max words separated by blanks; a word
 * starting with '#' starts a comment. Returns the count, or -1 if there are
 * more than @max.
 */
int split_words(char *line, char **words, int max);

/* The netmask of a prefix length, in network byte order. */
uint32_t prefix_mask(unsigned int len);
/* "10.1.0.0/24"; the "/LEN" is left out for /32 unless @always_len. */
char *format_prefix(char *buf, uint32_t addr, unsigned int len,
		    bool always_len);

#endif
