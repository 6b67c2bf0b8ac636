// SPDX-License-Identifier: GPL-2.0
/*
 * rnatd: the agent that applies a region's state in etcd to one gateway's
 * rnat module. This file owns its main loop:
 *
 *  - resync: this gateway's view of the region (--gateway: the VPNs placed
 *    on it or on "*") saved at one revision R (region.c's, the text
 *    "rnatctl --store URL --region NAME --gateway NAME save" prints)
 *    installed with ONE atomic restore (cmd.c's, in process: RESTORE_BEGIN
 *    ... COMMIT over one socket, the live state untouched if a line fails),
 *    then routes_sync();
 *  - then a watch of /rnat/v1/REGION/ from R+1: mappings added or deleted
 *    (maps/, with their nat/ index and vpn-blocks/ keys) are applied as
 *    "map add" and "map del" commands in revision order, a mapping that
 *    made a block with "map add ... block B" (the module frees a block
 *    with its last mapping, as the region does; each VPN whose blocks
 *    changed is then compared with the module's, and only their routes
 *    synced when nothing else changed: struct block_routes), VPNs and
 *    pools made (a VPN with the blocks it was made with), changed or
 *    deleted as one "vpn add|set|del" or "pool add|del" each, a VPN
 *    placed here anew from its own keys (vpn_placed()); what leaves this
 *    gateway's part as it was is skipped (struct known); anything else
 *    (blocks that differ, a VPN changed twice in a response), a failed
 *    command, a compacted watch resyncs;
 *  - a dropped watch (or one whose member the other requests left) resumes
 *    from the last applied revision + 1 on the member in use; the store
 *    says if that was compacted away, and then it resyncs;
 *  - while the store is unreachable the module keeps what it has (fail
 *    static), and the agent retries with a backoff up to 30 s;
 *  - /rnat/v1-gateways/REGION/NAME = {"revision":R,"error":"...","time":
 *    "...","pid":N} (outside the watched prefix) under a lease kept alive,
 *    revoked on SIGTERM or SIGINT.
 *
 * Logs: one line per event on stderr, "CLASS: what" (start, resync, maps,
 * apply, skip, watch, store, lease, status, stop).
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "nl.h"
#include "output.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"
#include "routes.h"
#include "store.h"

#define BACKOFF_MAX 30
#define KEY_LEN 256

static char gateway[65];
static int home_ns = -1, gw_ns = -1;
static bool routes = true;
static long ttl = 10;

static int64_t applied;		/* the region revision the module holds */
static int64_t seen;		/* the newest revision the watch delivered */
static char last_error[512];
static bool dirty = true;	/* the status key is to be put again */
static double last_put = -1e9;	/* when it was (now_ms()) */
static int64_t lease;
static time_t lease_next;	/* when to keep it alive */
static char prefix[KEY_LEN], prefix_end[KEY_LEN];
static FILE *devnull;
static volatile sig_atomic_t stopping;
static bool dry_run;		/* print what would be applied, apply nothing */

/*
 * What the module holds of what the watch may change, as of @applied: every
 * pool ("pools/NAME" -> its value), every VPN of this gateway's view
 * ("vpns/ID" -> region_vpn_view()'s text) and its NAT blocks
 * ("vpn-blocks/ID/ADDR/LEN" -> ""). A change that leaves this gateway's
 * part as it is (another gateway's placement, a pool put again for another
 * VPN's block) is skipped, not resynced.
 */
struct known {
	char *key, *val;
};
static struct known *known;
static size_t nknown;

static void say(const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const char *cls, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cls);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Records the last error for the status key; "" when things went well. */
static void set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void set_error(const char *fmt, ...)
{
	char buf[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, last_error)) {
		snprintf(last_error, sizeof(last_error), "%s", buf);
		dirty = true;
	}
}

/*
 * The module is the gateway namespace's; the store is reached from the
 * namespace rnatd started in. Netlink and route sockets belong to the
 * namespace they were opened in, so kernel work is done inside these two.
 */
static int to_gw(void)
{
	if (gw_ns >= 0 && setns(gw_ns, CLONE_NEWNET)) {
		set_error("cannot enter the gateway's network namespace: %s",
			  strerror(errno));
		return -1;
	}
	return 0;
}

static void to_home(void)
{
	if (gw_ns >= 0 && setns(home_ns, CLONE_NEWNET))
		say("netns", "cannot return to the first namespace: %s",
		    strerror(errno));
}

static int known_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known *)a)->key,
		      ((const struct known *)b)->key);
}

static void known_free(struct known *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(k[i].key);
		free(k[i].val);
	}
	free(k);
}

/* @rest's ("vpns/0000000001") value as applied, NULL if none. */
static const char *known_get(const char *rest)
{
	struct known key = { (char *)rest, NULL }, *k;

	k = bsearch(&key, known, nknown, sizeof(*known), known_cmp);
	return k ? k->val : NULL;
}

/* A VPN's key as known_get() takes it. */
static const char *vpn_rest(char *buf, size_t size, uint32_t id)
{
	snprintf(buf, size, "vpns/%010u", id);
	return buf;
}

/* A VPN id from "maps/ID/..." or "vpn-blocks/ID/..." (after its '/'). */
static uint32_t vpn_of(const char *rest)
{
	const char *slash = strchr(rest, '/');

	return slash ? strtoul(slash + 1, NULL, 10) : 0;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pools, this gateway's VPNs and their blocks at revision @rev (the
 * snapshot's), into known: 0 or -1 (last_error says why).
 */
static int known_read(int64_t rev)
{
	static const char *const heads[] = { "pools/", "vpns/", "vpn-blocks/" };
	char key[KEY_LEN], end[KEY_LEN], view[512];
	struct known *k = NULL;
	uint32_t *ids = NULL, id;
	size_t n = 0, nids = 0, i;
	struct store_kvs r;
	int h, err;

	for (h = 0; h < 3; h++) {
		region_key(key, sizeof(key), heads[h]);
		err = store_range(key, store_prefix_end(end, sizeof(end), key),
				  rev, false, &r);
		if (err) {
			set_error("%s", store_strerror());
			known_free(k, n);
			free(ids);
			return -1;
		}
		k = realloc(k, (n + r.n + 1) * sizeof(*k));
		if (h == 1)
			ids = calloc(r.n + 1, sizeof(*ids));
		if (!k || (h == 1 && !ids))
			abort();
		for (i = 0; i < r.n; i++) {
			const char *val = r.kv[i].val;

			/* Blocks of this gateway's VPNs only (ids is sorted). */
			if (h == 2) {
				id = vpn_of(r.kv[i].key + strlen(prefix));
				if (!bsearch(&id, ids, nids, sizeof(id), id_cmp))
					continue;
				val = "";
			}
			if (h == 1) {
				err = region_vpn_view(&r.kv[i], view,
						      sizeof(view));
				if (err < 0) {
					set_error("%s", nl_strerror(err));
					store_kvs_free(&r);
					known_free(k, n);
					free(ids);
					return -1;
				}
				if (!err)
					continue;
				val = view;
				ids[nids++] = strtoul(r.kv[i].key + strlen(prefix) + 5,
						     NULL, 10);
			}
			k[n].key = strdup(r.kv[i].key + strlen(prefix));
			k[n].val = strdup(val);
			if (!k[n].key || !k[n].val)
				abort();
			n++;
		}
		store_kvs_free(&r);
	}
	free(ids);
	qsort(k, n, sizeof(*k), known_cmp);
	known_free(known, nknown);
	known = k;
	nknown = n;
	return 0;
}

/* The region's save at one revision: 0 with *@text and *@rev, or -1. */
static int snapshot(char **text, size_t *len, int64_t *rev)
{
	FILE *f;
	int err;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f) {
		set_error("cannot open a memory stream: %s", strerror(errno));
		return -1;
	}
	out_clear_error();
	region_set_on(true);
	out_set_files(f, devnull);
	err = do_save(0, NULL);
	out_set_files(NULL, NULL);
	region_set_on(false);
	if (fclose(f) && !err)
		err = EXIT_ERROR;
	if (err) {
		set_error("cannot read the region: %s", out_last_error());
		free(*text);
		*text = NULL;
		return -1;
	}
	*rev = region_save_revision();
	return 0;
}

/* A fresh snapshot into the module with one restore: 0 or -1. */
static int resync(const char *why)
{
	double t0 = now_ms(), t1;
	int64_t rev;
	size_t len, lines = 0, i;
	char *text;
	int err;

	if (snapshot(&text, &len, &rev) || known_read(rev)) {
		free(text);
		say("store", "no snapshot (%s): %s", why, last_error);
		return -1;
	}
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	t1 = now_ms();
	if (dry_run) {
		printf("restore %lld\n%s.\n", (long long)rev, text);
		fflush(stdout);
		free(text);
		err = 0;
		goto done;
	}
	if (to_gw()) {
		free(text);
		say("resync", "%s", last_error);
		return -1;
	}
	out_clear_error();
	out_set_files(devnull, NULL);
	err = cmd_restore_text(text, len);
	if (!err && routes)
		err = routes_sync();
	out_set_files(NULL, NULL);
	nl_forget_changes();
	to_home();
	free(text);
	if (err) {
		set_error("restore of revision %lld failed: %s", (long long)rev,
			  out_last_error());
		say("resync", "%s (%s); the module keeps its state", last_error,
		    why);
		return -1;
	}
done:
	applied = seen = rev;
	dirty = true;
	set_error("%s", "");
	say("resync", "revision %lld applied (%s): %zu lines, read in %.0f ms, restored in %.0f ms",
	    (long long)rev, why, lines, t1 - t0, now_ms() - t1);
	return 0;
}

/* A mapping's key "maps/ID/RRR.RRR.RRR.RRR/LL" as a "vpn ID real R" line. */
static int map_key(const char *rest, char *line, size_t size)
{
	unsigned int id, a, b, c, d, len;
	char real[PREFIX_STRLEN];
	int n = 0;

	if (sscanf(rest, "maps/%10u/%3u.%3u.%3u.%3u/%2u%n", &id, &a, &b, &c,
		   &d, &len, &n) != 6 || rest[n] || a > 255 || b > 255 ||
	    c > 255 || d > 255 || len > 32)
		return -1;
	snprintf(real, sizeof(real), "%u.%u.%u.%u", a, b, c, d);
	if (len != 32)
		snprintf(real + strlen(real), sizeof(real) - strlen(real),
			 "/%u", len);
	snprintf(line, size, "vpn %u real %s", id, real);
	return (int)len;
}

/* {"nat":"10.153.0.0"}'s address. */
static int map_nat(const char *val, char *nat)
{
	const char *p = strstr(val, "\"nat\"");

	if (!p || sscanf(p, "\"nat\" : \"%15[0-9.]\"", nat) != 1)
		return -1;
	return 0;
}

/*
 * Mapping @kv (its maps/ key and value) as "map add vpn ID real R nat N"
 * in @line, its NAT address in @nat: its prefix length, or -1 (last_error
 * says).
 */
static int map_add_line(const struct store_kv *kv, char *nat, char *line,
			size_t size)
{
	char real[64];
	int len = map_key(kv->key + strlen(prefix), real, sizeof(real));

	if (len < 0 || map_nat(kv->val, nat)) {
		set_error("a malformed mapping %s = %s", kv->key, kv->val);
		return -1;
	}
	snprintf(line, size, "map add %s nat %s%s", real, nat,
		 len == 32 ? "" : strrchr(real, '/'));
	return len;
}

/* Runs one command line against the module (inside the namespace). */
static int kernel_cmd(char *line)
{
	char *words[RNAT_POOL_PREFIXES_MAX + 8];
	int n = split_words(line, words, RNAT_POOL_PREFIXES_MAX + 8);

	if (n <= 0)
		return EXIT_USAGE;
	return cmd_run(n, words);
}

/*
 * What an event asks (classify()): nothing; a map add or del; a VPN or
 * pool command; a VPN made with its blocks (a command, then its blocks
 * compared); an existing VPN placed here anew (vpn_placed()); a block
 * made or freed; a resync.
 */
enum {
	EV_SKIP, EV_MAP, EV_CMD, EV_VPN_BLOCKS, EV_VPN_PLACED, EV_BLOCK,
	EV_RESYNC
};

/* A command line: a VPN made with VPN_BLOCKS_MAX blocks fits. */
#define LINE_LEN (1024 + VPN_BLOCKS_MAX * sizeof("255.255.255.255/32,"))

/* A NAT prefix or block, host order. */
struct blk {
	uint32_t addr;
	unsigned int len;
};

static uint32_t blk_mask(unsigned int len)
{
	return len ? ~0U << (32 - len) : 0;
}

static bool blk_overlap(const struct blk *a, const struct blk *b)
{
	uint32_t m = blk_mask(a->len < b->len ? a->len : b->len);

	return (a->addr & m) == (b->addr & m);
}

/* "vpn-blocks/ID/AAA.BBB.CCC.DDD/LL" into @id and @b: 0 or -1. */
static int vblock_key(const char *rest, uint32_t *id, struct blk *b)
{
	unsigned int q[4], len;
	int n = 0;

	if (sscanf(rest, "vpn-blocks/%10u/%3u.%3u.%3u.%3u/%2u%n", id, &q[0],
		   &q[1], &q[2], &q[3], &len, &n) != 6 || rest[n] ||
	    q[0] > 255 || q[1] > 255 || q[2] > 255 || q[3] > 255 || len > 32)
		return -1;
	b->addr = q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3];
	b->len = len;
	return 0;
}

/*
 * Whether event @i of @ev is a block of VPN @id made (@made) or freed by
 * its transaction: 1 with *@b, else 0.
 */
static int vblock_event(const struct store_events *ev, size_t i, uint32_t id,
			bool made, struct blk *b)
{
	const struct store_event *e = &ev->ev[i];
	uint32_t bid;

	if (e->del == made ||
	    (made && e->kv.create_rev != e->kv.mod_rev) ||
	    strncmp(e->kv.key, prefix, strlen(prefix)) ||
	    vblock_key(e->kv.key + strlen(prefix), &bid, b) || bid != id)
		return 0;
	return 1;
}

/*
 * The block that the mapping of VPN @id at @nat, event @at of @ev, made in
 * its transaction, as the module is to take it (map add ... block): 1 with
 * *@out, 0 if it made none (@nat is in a block the VPN had), -1 if it
 * cannot be told. The store records a new block already merged with the
 * buddies it joined, whose keys the same transaction deletes: the new
 * block is what of the merged one holds @nat and overlaps none of those.
 */
static int made_block(const struct store_events *ev, size_t at, uint32_t id,
		      const struct blk *nat, struct blk *out)
{
	int64_t rev = ev->ev[at].kv.mod_rev;
	size_t from = at, to = at + 1, i;
	bool shrunk, found = false;
	struct blk b;

	/* The transaction's events: one revision, in a row. */
	while (from > 0 && ev->ev[from - 1].kv.mod_rev == rev)
		from--;
	while (to < ev->n && ev->ev[to].kv.mod_rev == rev)
		to++;
	for (i = from; i < to && !found; i++)
		found = vblock_event(ev, i, id, true, &b) &&
			b.len <= nat->len && blk_overlap(&b, nat);
	if (!found)
		return 0;
	*out = b;
	do {
		shrunk = false;
		for (i = from; i < to; i++) {
			if (!vblock_event(ev, i, id, false, &b) ||
			    !blk_overlap(&b, out))
				continue;
			if (out->len >= nat->len)
				return -1;
			out->len++;
			out->addr = nat->addr & blk_mask(out->len);
			shrunk = true;
		}
	} while (shrunk);
	return 1;
}

/* Whether VPN @id is in the view. */
static bool vpn_known(uint32_t id)
{
	char k[32];

	return known_get(vpn_rest(k, sizeof(k), id));
}

/* Sets (@val) or removes (NULL) @rest's entry in known. */
static void known_set(const char *rest, const char *val)
{
	struct known key = { (char *)rest, NULL }, *k;
	size_t at;

	k = bsearch(&key, known, nknown, sizeof(*known), known_cmp);
	if (k && val) {
		free(k->val);
		k->val = strdup(val);
		if (!k->val)
			abort();
		return;
	}
	if (k) {
		at = k - known;
		free(k->key);
		free(k->val);
		memmove(k, k + 1, (nknown - at - 1) * sizeof(*k));
		nknown--;
		return;
	}
	if (!val)
		return;
	known = realloc(known, (nknown + 1) * sizeof(*known));
	if (!known)
		abort();
	for (at = 0; at < nknown && strcmp(known[at].key, rest) < 0; at++)
		;
	memmove(known + at + 1, known + at, (nknown - at) * sizeof(*known));
	known[at].key = strdup(rest);
	known[at].val = strdup(val);
	if (!known[at].key || !known[at].val)
		abort();
	nknown++;
}

/* The word after @key in a view ("pool P name N dev D ..."), into @out. */
static const char *view_word(const char *view, const char *key, char *out,
			     size_t size)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "%s ", key);
	for (p = view; p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
		if (!strncmp(p, pat, strlen(pat))) {
			snprintf(out, size, "%.*s", (int)strcspn(p + strlen(pat), " "),
				 p + strlen(pat));
			return out;
		}
	snprintf(out, size, "none");
	return out;
}

/*
 * VPN @id's change from @was to @view (either NULL: not in the view) as a
 * command into @line: EV_CMD, EV_VPN_PLACED (an existing VPN newly placed
 * here: its vpn add, its blocks and mappings to come), EV_SKIP (nothing of
 * this gateway's), or EV_RESYNC (a pool cannot change).
 */
static int vpn_cmd(uint32_t id, const char *was, const char *view, bool made,
		   char *line, size_t size)
{
	static const char *const opt[] = { "dev", "mark", "out-mark" };
	char w[3][RNAT_NAME_MAX + 64];
	size_t i, len;

	if (!was && !view)
		return EV_SKIP;
	if (!view) {
		snprintf(line, size, "vpn del %u", id);
		return EV_CMD;
	}
	if (was && !strcmp(was, view))
		return EV_SKIP;
	view_word(view, "pool", w[0], sizeof(w[0]));
	if (was && strcmp(view_word(was, "pool", w[1], sizeof(w[1])), w[0]))
		return EV_RESYNC;
	view_word(view, "name", w[1], sizeof(w[1]));
	if (!was)
		snprintf(line, size, "vpn add %u pool %s name %s", id, w[0], w[1]);
	else
		snprintf(line, size, "vpn set %u name %s", id, w[1]);
	for (i = 0; i < 3; i++) {
		view_word(view, opt[i], w[2], sizeof(w[2]));
		len = strlen(line);
		if (was || strcmp(w[2], "none"))
			snprintf(line + len, size - len, " %s %s", opt[i], w[2]);
	}
	return was || made ? EV_CMD : EV_VPN_PLACED;
}

/*
 * Appends block @b to the list in @line (at *@len, *@sep before it): 0, or
 * -1 if it does not fit (last_error says).
 */
static int line_add_block(char *line, size_t size, size_t *len,
			  const char **sep, const struct blk *b)
{
	*len += snprintf(line + *len, size - *len, "%s%u.%u.%u.%u/%u", *sep,
			 b->addr >> 24, (b->addr >> 16) & 255,
			 (b->addr >> 8) & 255, b->addr & 255, b->len);
	*sep = ",";
	if (*len < size)
		return 0;
	set_error("a VPN's blocks do not fit a line");
	return -1;
}

/*
 * The blocks VPN @id was made with, by the transaction of event @at of
 * @ev ("vpn add ... blocks"), appended to "vpn add" in @line: 1 if it had
 * some, 0 if none, -1 if they do not fit (last_error says).
 */
static int made_with_blocks(const struct store_events *ev, size_t at,
			    uint32_t id, char *line, size_t size)
{
	int64_t rev = ev->ev[at].kv.mod_rev;
	size_t i, len = strlen(line);
	const char *sep = " blocks ";
	struct blk b;

	for (i = 0; i < ev->n; i++) {
		if (ev->ev[i].kv.mod_rev != rev || !vblock_event(ev, i, id, true, &b))
			continue;
		if (line_add_block(line, size, &len, &sep, &b))
			return -1;
	}
	return *sep == ',';
}

/*
 * What an event asks of this gateway, and its command in @line (EV_MAP,
 * EV_CMD, EV_VPN_BLOCKS), with what known is to hold for its key after it
 * (*@after). The names (vpn-names/), the NAT index (nat/) and block owners
 * (blocks/) come with a change to vpns/, maps/ and vpn-blocks/ in the same
 * transaction, which decide. The mappings and blocks of a VPN that leaves
 * the view in this response (@leaving: its vpn del takes them) are skipped.
 */
static int classify(const struct store_events *ev, const struct store_event *e,
		    const uint32_t *leaving, size_t nleaving, char *line,
		    size_t size, char **after)
{
	const char *rest = e->kv.key + strlen(prefix), *was, *sep = " block ";
	char view[512], nat[16], real[64];
	struct blk natb, b;
	uint32_t id, be;
	bool made;
	size_t i, at;
	int in, len, nb, kind;

	*after = NULL;
	if (strncmp(e->kv.key, prefix, strlen(prefix)))
		return EV_SKIP;
	if (!strcmp(rest, "changed") || !strncmp(rest, "nat/", 4) ||
	    !strncmp(rest, "vpn-names/", 10) || !strncmp(rest, "blocks/", 7))
		return EV_SKIP;
	/*
	 * A block made or freed: known follows it; the module makes it with
	 * the mapping that made it (map add ... block) and frees it with its
	 * last mapping, which apply() checks. A counter changes nothing.
	 */
	if (!strncmp(rest, "vpn-blocks/", 11)) {
		if (e->del) {
			if (!known_get(rest))
				return EV_SKIP;
			known_set(rest, NULL);
			return EV_BLOCK;
		}
		id = vpn_of(rest);
		if (e->kv.create_rev != e->kv.mod_rev || !vpn_known(id))
			return EV_SKIP;
		for (i = 0; i < nleaving; i++)
			if (leaving[i] == id)
				return EV_SKIP;
		known_set(rest, "");
		return EV_BLOCK;
	}
	if (!strncmp(rest, "maps/", 5)) {
		id = vpn_of(rest);
		if (!vpn_known(id))
			return EV_SKIP;
		for (i = 0; i < nleaving; i++)
			if (leaving[i] == id)
				return EV_SKIP;
		/* Mappings are made and deleted, never changed. */
		if (!e->del && e->kv.create_rev != e->kv.mod_rev)
			return EV_RESYNC;
		if (e->del) {
			if (map_key(rest, real, sizeof(real)) < 0) {
				set_error("a malformed mapping key %s", e->kv.key);
				return EV_RESYNC;
			}
			snprintf(line, size, "map del %s", real);
			return EV_MAP;
		}
		len = map_add_line(&e->kv, nat, line, size);
		if (len < 0)
			return EV_RESYNC;
		natb.len = len;
		natb.addr = inet_pton(AF_INET, nat, &be) == 1 ? ntohl(be) : 0;
		nb = made_block(ev, e - ev->ev, id, &natb, &b);
		if (nb < 0) {
			set_error("revision %lld: cannot tell the block that NAT %s/%d made",
				  (long long)e->kv.mod_rev, nat, len);
			return EV_RESYNC;
		}
		at = strlen(line);
		if (nb && line_add_block(line, size, &at, &sep, &b))
			return EV_RESYNC;
		return EV_MAP;
	}
	/* A VPN: only what this gateway installs of it matters. */
	if (!strncmp(rest, "vpns/", 5)) {
		was = known_get(rest);
		in = e->del ? 0 : region_vpn_view(&e->kv, view, sizeof(view));
		if (in < 0)
			return EV_RESYNC;
		if (in)
			*after = strdup(view);
		id = strtoul(rest + 5, NULL, 10);
		made = !e->del && e->kv.create_rev == e->kv.mod_rev;
		kind = vpn_cmd(id, was, in ? view : NULL, made, line, size);
		/* Made with blocks ("vpn add ... blocks"): they come with it. */
		if (kind == EV_CMD && made && !was) {
			nb = made_with_blocks(ev, e - ev->ev, id, line, size);
			if (nb)
				return nb < 0 ? EV_RESYNC : EV_VPN_BLOCKS;
		}
		return kind;
	}
	/* A pool: made, deleted, or put again when a block is made in it. */
	if (!strncmp(rest, "pools/", 6)) {
		was = known_get(rest);
		if (e->del) {
			if (!was)
				return EV_SKIP;
			snprintf(line, size, "pool del %s", rest + 6);
			return EV_CMD;
		}
		if (was)
			return strcmp(was, e->kv.val) ? EV_RESYNC : EV_SKIP;
		if (region_pool_line(&e->kv, view, sizeof(view)))
			return EV_RESYNC;
		snprintf(line, size, "pool add %s", view);
		*after = strdup(e->kv.val);
		return EV_CMD;
	}
	return EV_RESYNC;
}

static bool is_state(const struct store_event *e)
{
	const char *rest = e->kv.key + strlen(prefix);

	return !strncmp(e->kv.key, prefix, strlen(prefix)) &&
	       strcmp(rest, "changed");
}

/*
 * The VPNs a response takes out of the view (deleted, or their placement
 * here removed) into @out: their count, or -1 if a VPN changes twice in
 * it (a resync then: one command per VPN and response).
 */
static int leaving_of(const struct store_events *ev, uint32_t *out)
{
	size_t i, j;
	int n = 0;
	char view[512];

	for (i = 0; i < ev->n; i++) {
		const struct store_event *e = &ev->ev[i];
		const char *rest = e->kv.key + strlen(prefix);

		if (strncmp(e->kv.key, prefix, strlen(prefix)) ||
		    strncmp(rest, "vpns/", 5))
			continue;
		for (j = i + 1; j < ev->n; j++)
			if (!strcmp(ev->ev[j].kv.key, e->kv.key))
				return -1;
		if (known_get(rest) &&
		    (e->del || region_vpn_view(&e->kv, view, sizeof(view)) == 0))
			out[n++] = strtoul(rest + 5, NULL, 10);
	}
	return n;
}

/* A VPN reply's blocks into a struct blks (nl_reply_cb). */
struct blks {
	struct blk *b;
	size_t n, cap;
};

static void blks_add(struct blks *bs, const struct blk *b)
{
	if (bs->n == bs->cap) {
		bs->cap = bs->cap ? 2 * bs->cap : 16;
		bs->b = realloc(bs->b, bs->cap * sizeof(*bs->b));
		if (!bs->b)
			abort();
	}
	bs->b[bs->n++] = *b;
}

static int blks_of_vpn(const struct nlattr **tb, void *data)
{
	const struct nlattr *entry;
	struct prefix p;
	struct blk b;

	if (!tb[RNAT_A_VPN_BLOCKS])
		return nl_malformed("VPN reply");
	mnl_attr_for_each_nested(entry, tb[RNAT_A_VPN_BLOCKS]) {
		if (prefix_entry(entry, &p))
			return -EINVAL;
		b.addr = ntohl(p.addr);
		b.len = p.len;
		blks_add(data, &b);
	}
	return 0;
}

/*
 * Whether VPN @id's blocks in the module (inside the namespace) are the
 * region's as known holds them: 0, or 1 (last_error says how not).
 */
static int blocks_agree(uint32_t id, int64_t rev)
{
	struct blks have = { 0 }, want = { 0 };
	char head[KEY_LEN];
	struct nlmsghdr *nlh;
	struct known key = { head, NULL };
	size_t lo = 0, hi = nknown, mid;
	uint32_t bid;
	struct blk b;
	int err;

	snprintf(head, sizeof(head), "vpn-blocks/%010u/", id);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (known_cmp(&known[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nknown && !strncmp(known[lo].key, head, strlen(head)); lo++)
		if (!vblock_key(known[lo].key, &bid, &b))
			blks_add(&want, &b);
	nlh = nl_request(RNAT_CMD_VPN_GET, 0);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	err = nl_talk(nlh, blks_of_vpn, &have);
	if (err) {
		set_error("revision %lld: cannot read VPN %u's blocks: %s",
			  (long long)rev, id, nl_strerror(err));
	} else if (have.n != want.n ||
		   (want.n && memcmp(have.b, want.b, want.n * sizeof(*want.b)))) {
		set_error("revision %lld: VPN %u's blocks differ: %zu in the module, %zu in the region",
			  (long long)rev, id, have.n, want.n);
		err = 1;
	}
	free(have.b);
	free(want.b);
	return err ? 1 : 0;
}

/* Runs one command line against the module, or prints it (--dry-run). */
static int run_line(int64_t rev, char *line)
{
	char *copy;
	int err;

	if (dry_run) {
		printf("%lld %s\n", (long long)rev, line);
		fflush(stdout);
		return 0;
	}
	copy = strdup(line);	/* kernel_cmd() cuts it into words */
	if (!copy)
		abort();
	err = kernel_cmd(copy);
	free(copy);
	if (err) {
		set_error("revision %lld: \"%.200s%s\" failed: %s", (long long)rev,
			  line, strlen(line) > 200 ? "..." : "",
			  out_last_error());
		return 1;
	}
	return 0;
}

/* Known takes the blocks VPN @id was made with by event @at's transaction. */
static void known_made_blocks(const struct store_events *ev, size_t at,
			      uint32_t id)
{
	struct blk b;
	size_t i;

	for (i = 0; i < ev->n; i++)
		if (ev->ev[i].kv.mod_rev == ev->ev[at].kv.mod_rev &&
		    vblock_event(ev, i, id, true, &b))
			known_set(ev->ev[i].kv.key + strlen(prefix), "");
}

/*
 * VPN @id, placed on this gateway anew at revision @rev, "vpn add" in
 * @line: made with its blocks, then given its mappings, both read at @rev
 * (that VPN's keys only, not the whole view), *@added counting them; known
 * takes the blocks. 0, or 1 (last_error says) for a resync.
 */
static int vpn_placed(uint32_t id, int64_t rev, char *line, size_t size,
		      int *added)
{
	char key[KEY_LEN], end[KEY_LEN], nat[16], rest[32];
	const char *sep = " blocks ";
	size_t i, len = strlen(line);
	struct store_kvs r;
	struct blk b;
	uint32_t bid;
	int err = 0;

	snprintf(rest, sizeof(rest), "vpn-blocks/%010u/", id);
	region_key(key, sizeof(key), rest);
	if (store_range(key, store_prefix_end(end, sizeof(end), key), rev,
			false, &r)) {
		set_error("revision %lld: VPN %u's blocks: %s", (long long)rev,
			  id, store_strerror());
		return 1;
	}
	for (i = 0; i < r.n && !err; i++) {
		err = vblock_key(r.kv[i].key + strlen(prefix), &bid, &b);
		if (err)
			set_error("a malformed block key %s", r.kv[i].key);
		else
			err = line_add_block(line, size, &len, &sep, &b);
	}
	if (!err)
		err = run_line(rev, line);
	for (i = 0; i < r.n && !err; i++)
		known_set(r.kv[i].key + strlen(prefix), "");
	store_kvs_free(&r);
	if (err)
		return 1;
	snprintf(rest, sizeof(rest), "maps/%010u/", id);
	region_key(key, sizeof(key), rest);
	if (store_range(key, store_prefix_end(end, sizeof(end), key), rev,
			false, &r)) {
		set_error("revision %lld: VPN %u's mappings: %s",
			  (long long)rev, id, store_strerror());
		return 1;
	}
	for (i = 0; i < r.n && !err; i++) {
		err = map_add_line(&r.kv[i], nat, line, size) < 0 ||
		      run_line(rev, line);
		if (!err)
			(*added)++;
	}
	store_kvs_free(&r);
	return err ? 1 : 0;
}

/*
 * The VPNs a watch response makes or frees blocks of, each with its block
 * routes before it (read under the routes' lock, held until they are
 * synced): when blocks are all it changes, only those VPNs' routes are
 * synced after it (routes_vpn.c), at the cost of their blocks, not of
 * every VPN and route on the gateway.
 */
struct block_routes {
	uint32_t *id;		/* NULL: routes not kept, or a dry run */
	struct routes *before;
	size_t n;
	bool held;		/* routes_hold() */
	bool all;		/* a read failed: everything is synced */
};

static void block_routes_read(const struct store_events *ev,
			      struct block_routes *br)
{
	size_t i, n = 0;

	br->id = calloc(ev->n + 1, sizeof(*br->id));
	br->before = calloc(ev->n + 1, sizeof(*br->before));
	if (!br->id || !br->before)
		abort();
	for (i = 0; i < ev->n; i++) {
		const struct store_event *e = &ev->ev[i];
		const char *rest = e->kv.key + strlen(prefix);

		/* Made or freed; a put of a block's counter changes none. */
		if (!strncmp(e->kv.key, prefix, strlen(prefix)) &&
		    !strncmp(rest, "vpn-blocks/", 11) &&
		    (e->del || e->kv.create_rev == e->kv.mod_rev))
			br->id[n++] = vpn_of(rest);
	}
	if (!n)		/* mappings alone: no route changes */
		return;
	qsort(br->id, n, sizeof(*br->id), id_cmp);
	for (i = 0; i < n; i++)
		if (!br->n || br->id[i] != br->id[br->n - 1])
			br->id[br->n++] = br->id[i];
	br->held = !nl_need() && !routes_hold();
	br->all = !br->held;
	for (i = 0; i < br->n && !br->all; i++)
		br->all = routes_vpn_read(br->id[i], &br->before[i]) != 0;
}

/*
 * After the response: if @sync, the routes of its block VPNs or, with
 * @all (it ran VPN or pool commands), all of them; then frees @br. 0 or 1.
 */
static int block_routes_done(struct block_routes *br, bool sync, bool all)
{
	size_t i;
	int err = 0;

	if (br->id && sync && (all || br->all))
		err = routes_sync();
	else if (br->id && sync)
		for (i = 0; i < br->n && !err; i++)
			err = routes_vpn_follow(br->id[i], &br->before[i]);
	if (br->held)
		routes_release();
	for (i = 0; i < br->n; i++)
		free(br->before[i].r);
	free(br->id);
	free(br->before);
	return err ? 1 : 0;
}

/*
 * One watch response, applied in revision order: mappings as map add and
 * map del, VPNs and pools as vpn add|set|del and pool add|del (one module
 * command each, so the module has a VPN's old state or its new one), what
 * is not this gateway's skipped. 0 if applied (or nothing to do), 1 if it
 * asks for a resync (the commands before it stay: the resync replaces
 * everything at once).
 */
static int apply(const struct store_events *ev)
{
	static char line[LINE_LEN];
	char *after;
	uint32_t *leaving, *touched;
	struct block_routes br = { 0 };
	int64_t state = 0;
	int added = 0, deleted = 0, cmds = 0, err = 0, nleaving, kind;
	double t0 = now_ms();
	size_t i, ntouched = 0;

	for (i = 0; i < ev->n; i++) {
		if (ev->ev[i].kv.mod_rev > seen)
			seen = ev->ev[i].kv.mod_rev;
		if (is_state(&ev->ev[i]) && ev->ev[i].kv.mod_rev > state)
			state = ev->ev[i].kv.mod_rev;
	}
	if (!state)
		return 0;
	leaving = calloc(ev->n + 1, sizeof(*leaving));
	touched = calloc(ev->n + 1, sizeof(*touched));
	if (!leaving || !touched)
		abort();
	nleaving = leaving_of(ev, leaving);
	if (nleaving < 0) {
		free(leaving);
		free(touched);
		return 1;
	}
	if (!dry_run && to_gw()) {
		free(leaving);
		free(touched);
		return 1;
	}
	out_clear_error();
	out_set_files(devnull, devnull);
	if (routes && !dry_run)
		block_routes_read(ev, &br);
	for (i = 0; i < ev->n && !err; i++) {
		const struct store_event *e = &ev->ev[i];

		kind = classify(ev, e, leaving, nleaving, line, sizeof(line),
				&after);
		if (kind == EV_RESYNC) {
			err = 1;
		} else if (kind == EV_BLOCK) {
			touched[ntouched++] = vpn_of(e->kv.key + strlen(prefix));
		} else if (kind == EV_VPN_PLACED) {
			touched[ntouched] = vpn_of(e->kv.key + strlen(prefix));
			err = vpn_placed(touched[ntouched], e->kv.mod_rev, line,
					 sizeof(line), &added);
			if (!err) {
				known_set(e->kv.key + strlen(prefix), after);
				ntouched++;
				cmds++;
			}
		} else if (kind != EV_SKIP) {
			err = run_line(e->kv.mod_rev, line);
			if (!err && kind != EV_MAP) {
				known_set(e->kv.key + strlen(prefix), after);
				cmds++;
			}
			/* ... and compared with the module's, as any new block. */
			if (!err && kind == EV_VPN_BLOCKS) {
				touched[ntouched] = vpn_of(e->kv.key + strlen(prefix));
				known_made_blocks(ev, i, touched[ntouched++]);
			}
			if (!err && kind == EV_MAP)
				e->del ? deleted++ : added++;
		}
		free(after);
	}
	/* Blocks made and freed are the region's: else a resync. */
	qsort(touched, ntouched, sizeof(*touched), id_cmp);
	for (i = 0; i < ntouched && !err && !dry_run; i++)
		if ((!i || touched[i] != touched[i - 1]) &&
		    vpn_known(touched[i]))
			err = blocks_agree(touched[i], state);
	/* VPNs, pools and blocks come and go with their routes. */
	if (block_routes_done(&br, (cmds || ntouched) && !err, cmds))
		err = 1;
	out_set_files(NULL, NULL);
	nl_forget_changes();
	if (!dry_run)
		to_home();
	free(leaving);
	free(touched);
	if (err) {
		if (*last_error)
			say(cmds ? "apply" : "maps", "%s; resyncing",
			    last_error);
		return 1;
	}
	applied = state;
	dirty = true;
	set_error("%s", "");
	if (cmds)
		say("apply", "revision %lld applied: %d VPN or pool command%s, %d added, %d deleted in %.1f ms",
		    (long long)state, cmds, cmds == 1 ? "" : "s", added,
		    deleted, now_ms() - t0);
	else if (added || deleted)
		say("maps", "revision %lld applied: %d added, %d deleted in %.1f ms",
		    (long long)state, added, deleted, now_ms() - t0);
	else
		say("skip", "revision %lld: nothing of this gateway's",
		    (long long)state);
	return 0;
}

/*
 * A cheap read before a watch resumes: the store answers (maybe another
 * member of it, which the watch then uses): 0, or -1 (last_error says).
 */
static int probe(void)
{
	char key[KEY_LEN];
	struct store_kvs r;

	if (store_range(region_key(key, sizeof(key), "changed"), NULL, 0,
			true, &r)) {
		set_error("%s", store_strerror());
		return -1;
	}
	store_kvs_free(&r);
	return 0;
}

/* ---- the status key and its lease ---- */

/*
 * Says a failure of the lease or the status key once, not every second
 * while the store is away (curl's messages differ by their timings); @msg
 * NULL: they work again.
 */
static void say_once(const char *cls, const char *msg)
{
	static bool failing;

	if (!msg) {
		if (failing)
			say(cls, "published again");
		failing = false;
		return;
	}
	if (!failing)
		say(cls, "%s (said once until it works again)", msg);
	failing = true;
}

static void status_put(void)
{
	char key[KEY_LEN + 80], when[32], *val = NULL;
	time_t t = time(NULL);
	size_t len = 0;
	int64_t left;
	FILE *f;

	if (lease && time(NULL) >= lease_next) {
		if (store_lease_keepalive(lease, &left)) {
			say_once("status", store_strerror());
			lease_next = time(NULL) + 1;
			return;
		}
		if (!left) {
			say("lease", "lease %llx expired", (long long)lease);
			lease = 0;
		} else {
			lease_next = time(NULL) + (ttl + 2) / 3;
		}
	}
	if (!lease) {
		if (store_lease_grant(ttl, &lease)) {
			lease = 0;
			say_once("status", store_strerror());
			return;
		}
		lease_next = time(NULL) + (ttl + 2) / 3;
		say("lease", "lease %llx granted (%ld s)", (long long)lease, ttl);
		dirty = true;
	}
	/*
	 * At most one put a second (the main loop comes back within one):
	 * fleet status needs no more, and etcd keeps every put's history.
	 */
	if (!dirty || now_ms() - last_put < 1000)
		return;
	f = open_memstream(&val, &len);
	if (!f)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "{\"revision\":%lld,\"error\":", (long long)applied);
	json_string(f, last_error);
	fprintf(f, ",\"time\":\"%s\",\"pid\":%d}", when, (int)getpid());
	fclose(f);
	region_gateway_key(key, sizeof(key), gateway);
	if (store_put(key, val, lease, NULL)) {
		say_once("status", store_strerror());
	} else {
		dirty = false;
		last_put = now_ms();
		say_once("status", NULL);
	}
	free(val);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Sleeps @s seconds unless asked to stop, keeping the lease meanwhile. */
static void pause_for(int s)
{
	int i;

	for (i = 0; i < s * 10 && !stopping; i++) {
		usleep(100000);
		if (i % 10 == 9)
			status_put();
	}
}

static void usage(FILE *f)
{
	fputs("Usage: rnatd --store URL[,URL...] --region NAME [--gateway NAME] [-n NETNS]\n"
	      "             [--ttl SECONDS] [-R] [--dry-run]\n"
	      "Applies the region's state in etcd to this gateway's rnat module and\n"
	      "keeps it applied: a snapshot restored at once, then every change.\n"
	      "--store: the etcd members' client URLs, tried in turn.\n"
	      "--gateway: this gateway's name (default: the host name): it installs\n"
	      "the VPNs placed on NAME or on \"*\" and publishes its status under it;\n"
	      "-n: the module's network namespace (/run/netns/NETNS); --ttl: its\n"
	      "status key's lease (default 10 s); -R: no route sync; --dry-run:\n"
	      "print each snapshot (\"restore REV\", its lines, \".\") and each\n"
	      "mapping change (\"REV map add|del ...\") on stdout, apply nothing.\n", f);
}

static int check_name(const char *what, const char *s)
{
	const char *c;

	if (!*s || strlen(s) > 64)
		return usage_error("%s name \"%s\" is empty or longer than 64 bytes",
				   what, s);
	for (c = s; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && !strchr("-_.", *c))
			return usage_error("%s name \"%s\" may only have letters, digits, '-', '_' and '.'",
					   what, s);
	return 0;
}

static int setup(const char *store, const char *region, const char *netns)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	err = region_open(store, region);
	if (err)
		return usage_error("%s", nl_strerror(err));
	region_set_on(false);
	region_key(prefix, sizeof(prefix), "");
	store_prefix_end(prefix_end, sizeof(prefix_end), prefix);
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		pr_err("cannot open /dev/null: %s", strerror(errno));
		return EXIT_ERROR;
	}
	if (netns) {
		home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_ns < 0) {
			pr_err("cannot open /proc/self/ns/net: %s", strerror(errno));
			return EXIT_ERROR;
		}
		err = cmd_enter_netns(netns);
		if (err)
			return err;
		gw_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (gw_ns < 0 || setns(home_ns, CLONE_NEWNET)) {
			pr_err("cannot switch network namespaces: %s",
			       strerror(errno));
			return EXIT_ERROR;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' },
		{ "region", required_argument, NULL, 'G' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "netns", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "routes-off", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *store = NULL, *region = NULL, *netns = NULL;
	struct store_watch *w = NULL;
	struct store_events ev;
	bool need = true, resume = false;
	const char *why = "start";
	int c, err, backoff = 1, resumes = 0;
	char *end;

	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+:n:Rh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			store = optarg;
			break;
		case 'G':
			region = optarg;
			break;
		case 'g':
			snprintf(gateway, sizeof(gateway), "%s", optarg);
			if (check_name("gateway", optarg))
				return EXIT_USAGE;
			break;
		case 'n':
			netns = optarg;
			break;
		case 't':
			ttl = strtol(optarg, &end, 10);
			if (*end || ttl < 2 || ttl > 3600)
				return usage_error("--ttl takes 2 to 3600 seconds");
			break;
		case 'R':
			routes = false;
			break;
		case 'D':
			dry_run = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option \"%s\" needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option \"%s\"",
					   argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("unexpected \"%s\"", argv[optind]);
	if (!store || !region) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A request waits at most half the lease, so a keepalive gets in. */
	store_set_timeout(ttl * 500 < 2000 ? 2000 : ttl * 500 > STORE_TIMEOUT_MS ?
			  STORE_TIMEOUT_MS : ttl * 500);
	if (!gateway[0]) {
		if (gethostname(gateway, sizeof(gateway) - 1) ||
		    check_name("gateway (the host name)", gateway))
			return EXIT_USAGE;
	}
	if (dry_run && netns)
		return usage_error("--dry-run touches no module: no -n NETNS");
	out_init(false);
	err = setup(store, region, netns);
	if (!err && region_set_gateway(gateway))
		err = usage_error("%s", nl_strerror(-EINVAL));
	if (err)
		return err;
	say("start", "gateway %s, region %s at %s%s%s", gateway, region, store,
	    netns ? ", namespace " : "", netns ? netns : "");

	while (!stopping) {
		if (need) {
			store_watch_stop(w);
			w = NULL;
			if (resync(why)) {
				status_put();
				say("retry", "in %d s; the module keeps revision %lld",
				    backoff, (long long)applied);
				pause_for(backoff);
				backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
					  backoff * 2;
				continue;
			}
			backoff = 1;
			need = false;
			w = store_watch_start(prefix, prefix_end, seen + 1);
			if (!w) {
				set_error("%s", store_strerror());
				say("watch", "%s", last_error);
				need = true;
				why = "no watch";
				continue;
			}
			say("watch", "watching %s from revision %lld at %s",
			    prefix, (long long)seen + 1, store_url());
		} else if (resume) {
			resume = false;
			store_watch_stop(w);
			w = NULL;
			if (probe()) {
				say("store", "%s; resyncing", last_error);
				need = true;
				why = "the store was unreachable";
				continue;
			}
			w = store_watch_start(prefix, prefix_end, applied + 1);
			if (!w) {
				set_error("%s", store_strerror());
				need = true;
				continue;
			}
			say("watch", "resumed from revision %lld at %s (%s)",
			    (long long)applied + 1, store_url(), why);
		}
		status_put();
		/* Requests went to another member: so does the watch. */
		if (store_watch_member(w) != store_member()) {
			resume = true;
			why = "the store's requests moved to another member";
			continue;
		}
		err = store_watch_next(w, 1000, &ev);
		if (err == 1) {
			resumes = 0;
			if (apply(&ev)) {
				need = true;
				why = "a change to pools, VPNs or blocks";
			}
			store_events_free(&ev);
		} else if (err == -ESTALE) {
			set_error("%s", store_strerror());
			say("watch", "%s; resyncing", last_error);
			need = true;
			why = "watch compacted";
			store_events_free(&ev);
		} else if (err < 0) {
			/*
			 * A dropped watch resumes where it was, if that is not
			 * compacted away (then it says -ESTALE); one that keeps
			 * failing before it delivers anything resyncs.
			 */
			set_error("%s", store_strerror());
			if (resumes++ < 3) {
				say("watch", "%s; resuming", last_error);
				resume = true;
				why = "watch ended";
			} else {
				say("watch", "%s; resyncing", last_error);
				need = true;
				why = "watch ended";
				resumes = 0;
			}
			store_events_free(&ev);
		}
	}
	store_watch_stop(w);
	if (lease) {
		if (store_lease_revoke(lease))
			say("stop", "cannot revoke lease %llx: %s",
			    (long long)lease, store_strerror());
		else
			say("stop", "lease %llx revoked", (long long)lease);
	}
	say("stop", "stopped at revision %lld", (long long)applied);
	nl_close();
	region_close();
	return 0;
}
