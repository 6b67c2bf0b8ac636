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
 *  - then a watch of /rnat/v1/REGION/ from R+1: a response whose events are
 *    only mappings added or deleted (maps/, with their nat/ index and the
 *    vpn-blocks/ counters, no block made or freed) is applied as "map add"
 *    and "map del" commands in revision order; what leaves this gateway's
 *    part as it was is skipped (struct known); anything else (pools, its
 *    VPNs, their blocks), a failed command, a compacted watch resyncs;
 *  - a dropped watch (or one whose member the other requests left) resumes
 *    from the last applied revision + 1 on the member in use; the store
 *    says if that was compacted away, and then it resyncs;
 *  - while the store is unreachable the module keeps what it has (fail
 *    static), and the agent retries with a backoff up to 30 s;
 *  - gateways/NAME = {"revision":R,"error":"...","time":"...","pid":N} under
 *    a lease kept alive, revoked on SIGTERM or SIGINT.
 *
 * Logs: one line per event on stderr, "CLASS: what" (start, resync, maps,
 * skip, watch, store, lease, status, stop).
 */

#define _GNU_SOURCE
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
static int64_t lease;
static time_t lease_next;	/* when to keep it alive */
static char prefix[KEY_LEN], prefix_end[KEY_LEN];
static FILE *devnull;
static volatile sig_atomic_t stopping;
static bool dry_run;		/* print what would be applied, apply nothing */

/*
 * What the module holds of what the watch may change, as of @applied: every
 * pool ("pools/NAME" -> its value) and every VPN of this gateway's view
 * ("vpns/ID" -> region_vpn_view()'s text). A change that leaves this
 * gateway's part as it is (another gateway's placement, a pool put again
 * for another VPN's block) is skipped, not resynced.
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

/*
 * The pools and this gateway's VPNs at revision @rev (the snapshot's),
 * into known: 0 or -1 (last_error says why).
 */
static int known_read(int64_t rev)
{
	static const char *const heads[] = { "pools/", "vpns/" };
	char key[KEY_LEN], end[KEY_LEN], view[512];
	struct known *k = NULL;
	struct store_kvs r;
	size_t n = 0, i;
	int h, err;

	for (h = 0; h < 2; h++) {
		region_key(key, sizeof(key), heads[h]);
		err = store_range(key, store_prefix_end(end, sizeof(end), key),
				  rev, false, &r);
		if (err) {
			set_error("%s", store_strerror());
			known_free(k, n);
			return -1;
		}
		k = realloc(k, (n + r.n + 1) * sizeof(*k));
		if (!k)
			abort();
		for (i = 0; i < r.n; i++) {
			const char *val = r.kv[i].val;

			if (h == 1) {
				err = region_vpn_view(&r.kv[i], view,
						      sizeof(view));
				if (err < 0) {
					set_error("%s", nl_strerror(err));
					store_kvs_free(&r);
					known_free(k, n);
					return -1;
				}
				if (!err)
					continue;
				val = view;
			}
			k[n].key = strdup(r.kv[i].key + strlen(prefix));
			k[n].val = strdup(val);
			if (!k[n].key || !k[n].val)
				abort();
			n++;
		}
		store_kvs_free(&r);
	}
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
		say("store", "%s: %s", why, last_error);
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

/* Runs one command line against the module (inside the namespace). */
static int kernel_cmd(char *line)
{
	char *words[32];
	int n = split_words(line, words, 32);

	if (n <= 0)
		return EXIT_USAGE;
	return cmd_run(n, words);
}

enum { EV_SKIP, EV_MAP, EV_RESYNC };

/* Whether VPN @id (maps/ID/..., vpn-blocks/ID/...) is in the view. */
static bool vpn_known(const char *rest)
{
	const char *slash = strchr(rest, '/');
	char k[32];

	return slash && known_get(vpn_rest(k, sizeof(k),
					    strtoul(slash + 1, NULL, 10)));
}

/*
 * What an event asks of this gateway. The names (vpn-names/), the NAT
 * index (nat/) and block owners (blocks/) come with a change to vpns/,
 * maps/ and vpn-blocks/ in the same transaction, which decide.
 */
static int classify(const struct store_event *e)
{
	const char *rest = e->kv.key + strlen(prefix), *was;
	char view[512];
	int in;

	if (strncmp(e->kv.key, prefix, strlen(prefix)))
		return EV_SKIP;
	if (!strncmp(rest, "gateways/", 9) || !strcmp(rest, "changed") ||
	    !strncmp(rest, "nat/", 4) || !strncmp(rest, "vpn-names/", 10) ||
	    !strncmp(rest, "blocks/", 7))
		return EV_SKIP;
	/* A block's counter; a block made or freed changes the VPN. */
	if (!strncmp(rest, "vpn-blocks/", 11))
		return vpn_known(rest + 10) &&
		       (e->del || e->kv.create_rev == e->kv.mod_rev) ?
		       EV_RESYNC : EV_SKIP;
	/* Mappings are made and deleted, never changed. */
	if (!strncmp(rest, "maps/", 5)) {
		if (!vpn_known(rest + 4))
			return EV_SKIP;
		return e->del || e->kv.create_rev == e->kv.mod_rev ?
		       EV_MAP : EV_RESYNC;
	}
	/* A VPN: only what this gateway installs of it matters. */
	if (!strncmp(rest, "vpns/", 5)) {
		was = known_get(rest);
		in = e->del ? 0 : region_vpn_view(&e->kv, view, sizeof(view));
		if (in < 0)
			return EV_RESYNC;
		if (!in && !was)
			return EV_SKIP;
		return in && was && !strcmp(view, was) ? EV_SKIP : EV_RESYNC;
	}
	/* A pool is put again whenever a block is made in it. */
	if (!strncmp(rest, "pools/", 6) && !e->del) {
		was = known_get(rest);
		return was && !strcmp(was, e->kv.val) ? EV_SKIP : EV_RESYNC;
	}
	return EV_RESYNC;
}

static bool is_state(const struct store_event *e)
{
	const char *rest = e->kv.key + strlen(prefix);

	return !strncmp(e->kv.key, prefix, strlen(prefix)) &&
	       strncmp(rest, "gateways/", 9) && strcmp(rest, "changed");
}

/*
 * One watch response: 0 if applied (or nothing to do), 1 if it asks for a
 * resync.
 */
static int apply(const struct store_events *ev)
{
	char line[128], nat[16], real[64];
	int64_t state = 0;
	int added = 0, deleted = 0, err = 0, len;
	double t0 = now_ms();
	size_t i;

	for (i = 0; i < ev->n; i++) {
		if (ev->ev[i].kv.mod_rev > seen)
			seen = ev->ev[i].kv.mod_rev;
		if (is_state(&ev->ev[i]) && ev->ev[i].kv.mod_rev > state)
			state = ev->ev[i].kv.mod_rev;
		if (classify(&ev->ev[i]) == EV_RESYNC)
			return 1;
	}
	if (!state)
		return 0;
	if (!dry_run && to_gw())
		return 1;
	out_clear_error();
	out_set_files(devnull, devnull);
	for (i = 0; i < ev->n && !err; i++) {
		const struct store_event *e = &ev->ev[i];

		if (classify(e) != EV_MAP)
			continue;
		len = map_key(e->kv.key + strlen(prefix), real, sizeof(real));
		if (len < 0) {
			set_error("a malformed mapping key %s", e->kv.key);
			err = 1;
			break;
		}
		if (e->del) {
			snprintf(line, sizeof(line), "map del %s", real);
			deleted++;
		} else {
			if (map_nat(e->kv.val, nat)) {
				set_error("a malformed mapping %s = %s",
					  e->kv.key, e->kv.val);
				err = 1;
				break;
			}
			snprintf(line, sizeof(line), "map add %s nat %s%s", real,
				 nat, len == 32 ? "" : strrchr(real, '/'));
			added++;
		}
		if (dry_run) {
			printf("%lld %s\n", (long long)e->kv.mod_rev, line);
			fflush(stdout);
		} else if (kernel_cmd(line)) {
			set_error("revision %lld: \"%s\" failed: %s",
				  (long long)e->kv.mod_rev, line,
				  out_last_error());
			err = 1;
		}
	}
	out_set_files(NULL, NULL);
	nl_forget_changes();
	if (!dry_run)
		to_home();
	if (err) {
		say("maps", "%s; resyncing", last_error);
		return 1;
	}
	applied = state;
	dirty = true;
	set_error("%s", "");
	if (added || deleted)
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
	if (!dirty)
		return;
	f = open_memstream(&val, &len);
	if (!f)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "{\"revision\":%lld,\"error\":", (long long)applied);
	json_string(f, last_error);
	fprintf(f, ",\"time\":\"%s\",\"pid\":%d}", when, (int)getpid());
	fclose(f);
	snprintf(key, sizeof(key), "%sgateways/%s", prefix, gateway);
	if (store_put(key, val, lease, NULL)) {
		say_once("status", store_strerror());
	} else {
		dirty = false;
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
				why = "store unreachable";
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
