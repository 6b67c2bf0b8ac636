/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small client of etcd's v3 API through its JSON gateway (etcd 3.4:
 * POST /v3/kv/range, /v3/kv/txn; keys and values base64 in JSON, 64-bit
 * integers as strings), over libcurl with json-c. It knows nothing of rnat:
 * region.c builds the keys, values and transactions. See README "Fleet".
 */
#ifndef RNATCTL_STORE_H
#define RNATCTL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One key as a range read returns it; key and value are NUL-terminated. */
struct store_kv {
	char *key;
	char *val;
	size_t vlen;
	int64_t create_rev;
	int64_t mod_rev;
};

/* The result of a read: its keys in key order, and the store's revision. */
struct store_kvs {
	struct store_kv *kv;
	size_t n;
	int64_t rev;		/* the revision the read saw */
	int64_t count;		/* keys in the range (count_only reads too) */
};

void store_kvs_free(struct store_kvs *r);

/*
 * Remembers the store's URLs, its members' ("http://10.0.0.5:2379", or
 * "URL1,URL2,URL3"): 0 or -EINVAL. Requests go to the first; one that
 * cannot reach a member (refused, STORE_CONNECT_MS without a connection,
 * the timeout without an answer) goes to the next, which is then used. A
 * change sent and not answered is not sent again (it may have been made):
 * it fails saying so.
 */
#define STORE_MEMBERS_MAX 16
#define STORE_CONNECT_MS 2000L
int store_open(const char *urls);
/* The member in use: its URL and index. */
const char *store_url(void);
int store_member(void);
/*
 * A request's timeout (connection and answer), STORE_TIMEOUT_MS at first.
 * (A build may set it: tests/fleet/snapshot.sh builds a 120 s one for a
 * TCG guest, where a 5,000-key page at 10^5 mappings took over 10 s.)
 */
#ifndef STORE_TIMEOUT_MS
#define STORE_TIMEOUT_MS 10000L
#endif
void store_set_timeout(long ms);
void store_close(void);

/*
 * The keys from @key up to @end (exclusive; NULL: @key alone) at revision
 * @rev (0: the newest), all of them (read in pages, at one revision), or
 * with @count_only just how many. 0 or a negative errno with
 * store_strerror() saying why.
 */
int store_range(const char *key, const char *end, int64_t rev, bool count_only,
		struct store_kvs *out);
/* The end of the range of keys starting with @prefix, into @buf. */
char *store_prefix_end(char *buf, size_t size, const char *prefix);

/*
 * A transaction: compares, then the operations done if all hold (an
 * etcd txn's "success"); reads (store_txn_get) come back in order.
 */
struct store_txn;

enum store_target { STORE_CREATE, STORE_MOD };
enum store_result { STORE_EQUAL, STORE_LESS };

struct store_txn *store_txn_new(void);
/* @key's (or each key's of [@key, @end)) revision @target @result @rev. */
void store_txn_cmp(struct store_txn *t, const char *key, const char *end,
		   enum store_target target, enum store_result result,
		   int64_t rev);
void store_txn_put(struct store_txn *t, const char *key, const char *val);
void store_txn_del(struct store_txn *t, const char *key, const char *end);
void store_txn_get(struct store_txn *t, const char *key, const char *end,
		   bool count_only);
int store_txn_ops(const struct store_txn *t);
/*
 * Runs and frees @t: 0 with *@ok telling whether the compares held (then
 * the i-th read's result is in @reads[i], if @reads) and *@rev the revision
 * after it; or a negative errno.
 */
int store_txn_commit(struct store_txn *t, bool *ok, int64_t *rev,
		     struct store_kvs *reads, int nreads);

/* Puts @key = @val (under @lease, if not 0): 0 with *@rev, or -errno. */
int store_put(const char *key, const char *val, int64_t lease, int64_t *rev);

/* Leases: 0 or a negative errno. A keepalive's *@ttl is 0 if it expired. */
int store_lease_grant(int64_t ttl, int64_t *id);
int store_lease_keepalive(int64_t id, int64_t *ttl);
int store_lease_revoke(int64_t id);

/*
 * A watch of the keys [@key, @end) from revision @rev (POST /v3/watch, a
 * response streamed for as long as the watch lasts, read on its own
 * connection). store_watch_next() waits up to @timeout_ms for the next
 * response: 1 with its events (maybe none: the watch was created, or a
 * progress notice) in *@e, 0 if none came, -ESTALE if @rev was compacted
 * away (e->compact: the oldest revision left), -EIO if the watch ended or
 * failed, -EPROTO; store_strerror() says why. A failed watch is stopped
 * and started again.
 */
struct store_event {
	bool del;		/* a DELETE, else a PUT */
	struct store_kv kv;	/* a DELETE's has its key and mod_rev only */
};

struct store_events {
	struct store_event *ev;
	size_t n;
	int64_t rev;		/* the store's revision when it was sent */
	int64_t compact;
};

struct store_watch;
/* On the member in use (the watch has no timeout but STORE_CONNECT_MS). */
struct store_watch *store_watch_start(const char *key, const char *end,
				      int64_t rev);
/* The member a watch is on (store_member()'s when it started). */
int store_watch_member(const struct store_watch *w);
int store_watch_next(struct store_watch *w, int timeout_ms,
		     struct store_events *e);
void store_watch_stop(struct store_watch *w);
void store_events_free(struct store_events *e);

/* Why the last call failed. */
const char *store_strerror(void);

#endif
