/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line words: keywords with unique-prefix abbreviations, IPv4
 * addresses and prefixes, numbers and names. Every parser returns 0 or -1
 * after printing what was wrong with the word.
 */
#ifndef RNATCTL_PARSE_H
#define RNATCTL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

struct prefix {
	uint32_t addr;		/* network byte order */
	uint8_t len;
};

/* Index of the keyword @word abbreviates in the NULL-terminated @list, -1
 * if none, -2 if it could be several. Aliases share an index through @ids
 * (NULL: the position in @list).
 */
int keyword(const char *word, const char *const *list, const int *ids);
bool matches(const char *word, const char *keyword);

int parse_addr(const char *word, uint32_t *addr);
/* ADDR or ADDR/LEN; no bits may be set past LEN. */
int parse_prefix(const char *word, struct prefix *p, uint8_t min_len);
int parse_u32(const char *word, const char *what, uint32_t min, uint32_t max,
	      uint32_t *out);
int parse_name(const char *word, const char *what);

/* Splits @line in place into at most @max words; returns the count, or -1
 * if there are more. '#' starts a comment.
 */
int split_words(char *line, char **words, int max);

uint32_t prefix_mask(uint8_t len);
/* "10.1.0.0" or "10.1.0.0/24" (the length only below 32). */
const char *format_prefix(uint32_t addr, uint8_t len, char *buf, unsigned int size);

#endif
