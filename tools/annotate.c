// SPDX-License-Identifier: GPL-2.0
/*
 * Owns "rnatctl annotate": reads every VPN's name and every mapping once
 * (two dumps), then copies standard input to standard output line by line,
 * following each NAT address it knows with " [NAME REAL]". See annotate.h.
 * Input is read with read(2) rather than stdio so the output can be flushed
 * exactly when no complete line is left to write: live in a pipe, without a
 * write(2) per line when a file goes through.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "nl.h"
#include "output.h"
#include "parse.h"

void annotate_usage(FILE *f)
{
	fputs("Usage: rnatctl annotate\n"
	      "Copies standard input to standard output, following every mapped NAT\n"
	      "address with \" [NAME REAL]\": its VPN's name and real address.\n", f);
}

/* Grows the array *@v of *@cap elements of @size to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*v, want, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

int annot_add_vpn(struct annot_table *t, uint32_t id, const char *name)
{
	struct annot_vpn *v;

	if (grow((void **)&t->vpns, &t->vpns_cap, t->nvpns, sizeof(*v)))
		return -ENOMEM;
	v = &t->vpns[t->nvpns++];
	v->id = id;
	snprintf(v->name, sizeof(v->name), "%s", name);
	return 0;
}

int annot_add_map(struct annot_table *t, uint32_t vpn, uint32_t real,
		  uint32_t nat, uint8_t len)
{
	struct annot_map *m;

	if (len > 32 || (nat & ~prefix_mask(len)) ||
	    (real & ~prefix_mask(len)))
		return -EINVAL;
	if (grow((void **)&t->maps, &t->maps_cap, t->nmaps, sizeof(*m)))
		return -ENOMEM;
	m = &t->maps[t->nmaps++];
	m->nat = ntohl(nat);
	m->real = ntohl(real);
	m->len = len;
	m->vpn = vpn;
	m->name = NULL;
	return 0;
}

static int vpn_cmp(const void *a, const void *b)
{
	const struct annot_vpn *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int map_cmp(const void *a, const void *b)
{
	const struct annot_map *x = a, *y = b;

	return (x->nat > y->nat) - (x->nat < y->nat);
}

int annot_finish(struct annot_table *t)
{
	struct annot_vpn key, *v;
	size_t i;

	free(t->keys);
	t->keys = malloc((t->nmaps ? t->nmaps : 1) * sizeof(*t->keys));
	if (!t->keys)
		return -ENOMEM;

	if (t->nvpns)
		qsort(t->vpns, t->nvpns, sizeof(*t->vpns), vpn_cmp);
	if (t->nmaps)
		qsort(t->maps, t->nmaps, sizeof(*t->maps), map_cmp);
	for (i = 0; i < t->nmaps; i++) {
		key.id = t->maps[i].vpn;
		v = t->nvpns ? bsearch(&key, t->vpns, t->nvpns,
				       sizeof(*t->vpns), vpn_cmp) : NULL;
		t->maps[i].name = v ? v->name : NULL;
		t->keys[i] = t->maps[i].nat;
	}
	return 0;
}

void annot_free(struct annot_table *t)
{
	free(t->vpns);
	free(t->maps);
	free(t->keys);
	memset(t, 0, sizeof(*t));
}

const struct annot_map *annot_find(const struct annot_table *t,
				   uint32_t addr)
{
	size_t lo = 0, hi = t->nmaps, mid;
	const struct annot_map *m;

	/* The last mapping starting at or below @addr: NAT prefixes never
	 * overlap, so only it can hold @addr.
	 */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->keys[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	m = &t->maps[lo - 1];
	return (addr & ntohl(prefix_mask(m->len))) == m->nat ? m : NULL;
}

/* ASCII only: the locale must not change what an address looks like. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

size_t annot_scan_addr(const char *s, size_t len, size_t i, uint32_t *addr)
{
	size_t p = i, start;
	uint32_t a = 0;
	unsigned int v;
	int k;

	/* Not the tail of a word, a number or a longer dotted string. */
	if (i > 0 && (is_word(s[i - 1]) ||
		      (s[i - 1] == '.' && i > 1 && is_word(s[i - 2]))))
		return 0;
	for (k = 0; k < 4; k++) {
		if (k) {
			if (p >= len || s[p] != '.')
				return 0;
			p++;
		}
		start = p;
		v = 0;
		while (p < len && is_digit(s[p]) && p - start < 3)
			v = v * 10 + (s[p++] - '0');
		if (p == start || v > 255 || (p - start > 1 && s[start] == '0'))
			return 0;
		a = a << 8 | v;
	}
	/* Not the head of a longer number, word or dotted string either
	 * (a sentence's full stop is fine).
	 */
	if (p < len && (is_word(s[p]) ||
			(s[p] == '.' && p + 1 < len && is_word(s[p + 1]))))
		return 0;
	*addr = a;
	return p - i;
}

/*
 * The length of a ":PORT" or "/LEN" at @s[@p] that belongs with the address
 * before it, else 0: the annotation goes after it, keeping it attached.
 */
static size_t suffix_len(const char *s, size_t len, size_t p)
{
	unsigned long v = 0, max;
	size_t q;

	if (p >= len || (s[p] != ':' && s[p] != '/'))
		return 0;
	max = s[p] == ':' ? 65535 : 32;
	for (q = p + 1; q < len && is_digit(s[q]) && v <= max; q++)
		v = v * 10 + (s[q] - '0');
	if (q == p + 1 || v > max || (q < len && is_word(s[q])))
		return 0;
	return q - p;
}

static int annotate_map(const struct annot_map *m, uint32_t addr, FILE *out)
{
	uint32_t real = m->real | (addr & ~ntohl(prefix_mask(m->len)));
	char buf[PREFIX_STRLEN];

	format_prefix(buf, htonl(real), 32, false);
	if (m->name)
		return fprintf(out, " [%s %s]", m->name, buf) < 0 ? -1 : 0;
	return fprintf(out, " [vpn %u %s]", m->vpn, buf) < 0 ? -1 : 0;
}

int annot_line(const struct annot_table *t, const char *line, size_t len,
	       FILE *out)
{
	const struct annot_map *m;
	size_t i = 0, done = 0, n;
	uint32_t addr;

	while (i < len) {
		if (!is_digit(line[i])) {
			i++;
			continue;
		}
		n = annot_scan_addr(line, len, i, &addr);
		if (!n) {
			/* Skip the whole run: no address starts inside it. */
			while (i < len && is_digit(line[i]))
				i++;
			continue;
		}
		i += n;
		m = annot_find(t, addr);
		if (!m)
			continue;
		i += suffix_len(line, len, i);
		if (fwrite(line + done, 1, i - done, out) != i - done ||
		    annotate_map(m, addr, out))
			return -1;
		done = i;
	}
	if (fwrite(line + done, 1, len - done, out) != len - done)
		return -1;
	return 0;
}

int annot_stream(const struct annot_table *t, int fd, FILE *out)
{
	size_t cap = 65536, len = 0, scanned = 0, start;
	char *buf = malloc(cap), *nl, *p;
	ssize_t n;
	int err = 0;

	if (!buf)
		return 1;
	for (;;) {
		if (len == cap) {
			/* A line longer than the buffer: make room for more. */
			p = realloc(buf, cap * 2);
			if (!p) {
				err = 1;
				break;
			}
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = 1;
			break;
		}
		if (!n) {
			/* The last line may lack its newline. */
			if (annot_line(t, buf, len, out) || fflush(out))
				err = 2;
			break;
		}
		len += n;
		/* Every complete line, its newline kept after the annotations. */
		start = 0;
		while ((nl = memchr(buf + scanned, '\n', len - scanned))) {
			scanned = nl - buf + 1;
			if (annot_line(t, buf + start, scanned - start, out)) {
				err = 2;
				goto out;
			}
			start = scanned;
		}
		scanned = len - start;
		memmove(buf, buf + start, scanned);
		len = scanned;
		/* Before waiting for more input: nothing read stays behind. */
		if (fflush(out)) {
			err = 2;
			break;
		}
	}
out:
	free(buf);
	return err;
}

int annot_vpn_reply(const struct nlattr **tb, void *data)
{
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_VPN_NAME])
		return 0;	/* shown as "vpn ID" */
	return annot_add_vpn(data, mnl_attr_get_u32(tb[RNAT_A_VPN_ID]),
			     mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
}

int annot_map_reply(const struct nlattr **tb, void *data)
{
	int err;

	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping");
	err = annot_add_map(data, mnl_attr_get_u32(tb[RNAT_A_VPN_ID]),
			    mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]),
			    mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]),
			    tb[RNAT_A_MAP_PLEN] ?
			    mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32);
	return err == -EINVAL ? nl_malformed("mapping") : err;
}

/* Both dumps into @t: 0 or EXIT_ERROR after printing why not. */
static int annot_load(struct annot_table *t)
{
	if (nl_need() ||
	    nl_exec(nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP), annot_vpn_reply, t) ||
	    nl_exec(nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP), annot_map_reply, t))
		return EXIT_ERROR;
	if (annot_finish(t)) {
		pr_err("%s", strerror(ENOMEM));
		return EXIT_ERROR;
	}
	return 0;
}

int do_annotate(int argc, char **argv)
{
	static const char *const help[] = { "help", NULL };
	struct annot_table t = { 0 };
	int err;

	if (argc && keyword(argv[0], help, NULL) == 0) {
		annotate_usage(out_stream());
		return 0;
	}
	if (argc)
		return usage_error("annotate: unexpected \"%s\"", argv[0]);
	if (out_json())
		return usage_error("annotate: copies text, there is no JSON output");
	err = annot_load(&t);
	if (!err) {
		err = annot_stream(&t, STDIN_FILENO, out_stream());
		if (err == 1)
			pr_err("cannot read the input: %s", strerror(errno));
		else if (err == 2)
			pr_err("cannot write the output: %s", strerror(errno));
		err = err ? EXIT_ERROR : 0;
	}
	annot_free(&t);
	return err;
}
