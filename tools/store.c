// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the conversation with etcd: HTTP POSTs to its v3 JSON gateway
 * (libcurl, one connection kept alive), base64 keys and values, JSON built
 * and read with json-c, paged range reads at one revision, transactions,
 * leases, and watches (a streamed response read through libcurl's multi
 * interface, so that its reader can do other requests between waits);
 * the cluster's members (URL1,URL2,...): a request that cannot reach one
 * goes to the next, which then serves the following ones. See store.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "store.h"

/*
 * libcurl is opened on the first request, not linked: it brings some thirty
 * shared libraries (TLS, HTTP/2, LDAP, Kerberos...) whose loading made every
 * rnatctl start 7 times slower (54 ms instead of 7 on a loaded host), for
 * gateways that never talk to a store.
 */
static struct {
	void *lib;
	CURL *(*init)(void);
	void (*reset)(CURL *c);
	CURLcode (*setopt)(CURL *c, CURLoption o, ...);
	CURLcode (*perform)(CURL *c);
	CURLcode (*getinfo)(CURL *c, CURLINFO i, ...);
	const char *(*strerror)(CURLcode rc);
	void (*cleanup)(CURL *c);
	CURLM *(*m_init)(void);
	CURLMcode (*m_add)(CURLM *m, CURL *c);
	CURLMcode (*m_remove)(CURLM *m, CURL *c);
	CURLMcode (*m_perform)(CURLM *m, int *running);
	CURLMcode (*m_wait)(CURLM *m, struct curl_waitfd *fds, unsigned int n,
			    int timeout_ms, int *numfds);
	CURLMsg *(*m_info_read)(CURLM *m, int *left);
	CURLMcode (*m_cleanup)(CURLM *m);
} cu;

/* Keys per page of a range read: a page of mappings is about 1 MB. */
#define STORE_PAGE 5000


static CURL *curl;
static char urls[STORE_MEMBERS_MAX][512];
static int nurls, cur;		/* the members, and the one in use */
static long timeout_ms = STORE_TIMEOUT_MS;
static char errbuf[512];
#define url urls[cur]

struct store_txn {
	json_object *cmp, *ops;
	int nops;
	bool change;		/* it puts or deletes */
};

static void set_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *store_strerror(void)
{
	return errbuf;
}

const char *store_url(void)
{
	return url;
}

int store_member(void)
{
	return cur;
}

void store_set_timeout(long ms)
{
	timeout_ms = ms;
}

int store_open(const char *list)
{
	const char *u = list, *comma;
	size_t len;

	nurls = cur = 0;
	do {
		comma = strchr(u, ',');
		len = comma ? (size_t)(comma - u) : strlen(u);
		if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
			set_err("store URL \"%.*s\" is not http:// or https://",
				(int)len, u);
			return -EINVAL;
		}
		if (len >= sizeof(urls[0]) - 32) {
			set_err("store URL is too long");
			return -EINVAL;
		}
		if (nurls == STORE_MEMBERS_MAX) {
			set_err("more than %d store URLs", STORE_MEMBERS_MAX);
			return -EINVAL;
		}
		/* "http://host:2379/" and "http://host:2379" alike. */
		while (len > 8 && u[len - 1] == '/')
			len--;
		snprintf(urls[nurls++], sizeof(urls[0]), "%.*s", (int)len, u);
		u = comma + 1;
	} while (comma);
	return 0;
}

void store_close(void)
{
	if (curl)
		cu.cleanup(curl);
	curl = NULL;
}

/* Opens libcurl (its ABI 4, as Debian's libcurl4 ships it): 0 or -1. */
static int curl_load(void)
{
	if (cu.lib)
		return 0;
	cu.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!cu.lib) {
		set_err("cannot load libcurl (package libcurl4): %s", dlerror());
		return -1;
	}
	*(void **)&cu.init = dlsym(cu.lib, "curl_easy_init");
	*(void **)&cu.reset = dlsym(cu.lib, "curl_easy_reset");
	*(void **)&cu.setopt = dlsym(cu.lib, "curl_easy_setopt");
	*(void **)&cu.perform = dlsym(cu.lib, "curl_easy_perform");
	*(void **)&cu.getinfo = dlsym(cu.lib, "curl_easy_getinfo");
	*(void **)&cu.strerror = dlsym(cu.lib, "curl_easy_strerror");
	*(void **)&cu.cleanup = dlsym(cu.lib, "curl_easy_cleanup");
	*(void **)&cu.m_init = dlsym(cu.lib, "curl_multi_init");
	*(void **)&cu.m_add = dlsym(cu.lib, "curl_multi_add_handle");
	*(void **)&cu.m_remove = dlsym(cu.lib, "curl_multi_remove_handle");
	*(void **)&cu.m_perform = dlsym(cu.lib, "curl_multi_perform");
	*(void **)&cu.m_wait = dlsym(cu.lib, "curl_multi_wait");
	*(void **)&cu.m_info_read = dlsym(cu.lib, "curl_multi_info_read");
	*(void **)&cu.m_cleanup = dlsym(cu.lib, "curl_multi_cleanup");
	if (!cu.init || !cu.reset || !cu.setopt || !cu.perform ||
	    !cu.getinfo || !cu.strerror || !cu.cleanup || !cu.m_init ||
	    !cu.m_add || !cu.m_remove || !cu.m_perform || !cu.m_wait ||
	    !cu.m_info_read || !cu.m_cleanup) {
		set_err("libcurl.so.4 lacks curl_easy_* or curl_multi_* functions");
		dlclose(cu.lib);
		cu.lib = NULL;
		return -1;
	}
	return 0;
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	uint32_t v;

	if (!out)
		abort();
	for (i = 0; i + 2 < len; i += 3) {
		v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < len) {
		v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0);
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* Decodes @s into a new NUL-terminated string; NULL if it is not base64. */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), i;
	char *out = malloc(n / 4 * 3 + 1);
	uint32_t v = 0;
	int bits = 0;
	const char *c;

	if (!out)
		abort();
	*len = 0;
	for (i = 0; i < n && s[i] != '='; i++) {
		c = strchr(b64, s[i]);
		if (!c || !s[i]) {
			free(out);
			return NULL;
		}
		v = v << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*len)++] = (v >> bits) & 0xff;
		}
	}
	out[*len] = '\0';
	return out;
}

static void add_b64(json_object *o, const char *field, const char *s)
{
	char *e = b64_encode(s, strlen(s));

	json_object_object_add(o, field, json_object_new_string(e));
	free(e);
}

static void add_int(json_object *o, const char *field, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_object_add(o, field, json_object_new_string(buf));
}

/* etcd's gateway writes int64 as strings; accept numbers too. */
static int64_t get_int(json_object *o, const char *field)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, field, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

struct buf {
	char *p;
	size_t len;
};

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *p = realloc(b->p, b->len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	p[b->len] = '\0';
	return size * n;
}

/*
 * Whether a failed request certainly did nothing on the member: it was
 * never sent (no connection), so a change may go to another member. A
 * read may always.
 */
static bool unsent(CURLcode rc)
{
	long sent = 0;

	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return true;
	cu.getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
	return sent == 0;
}

/*
 * POSTs @req (freed) to @path on the member in use, or if it cannot be
 * reached (or, for a read, it fails or answers 5xx) on the next ones, each
 * once: the parsed answer, or NULL (errbuf says). A change (@change)
 * whose request was sent and not answered is not sent again: it may have
 * been made.
 */
static json_object *post(const char *path, json_object *req, bool change)
{
	char full[sizeof(urls[0]) + 32], cerr[CURL_ERROR_SIZE] = "";
	struct buf b = { NULL, 0 };
	json_object *ans = NULL, *msg;
	const char *body;
	long status = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	int tries;

	if (!curl) {
		if (curl_load()) {
			json_object_put(req);
			return NULL;
		}
		curl = cu.init();
		if (!curl) {
			json_object_put(req);
			set_err("cannot start libcurl");
			return NULL;
		}
	}
	body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	for (tries = 0; tries < nurls; tries++) {
		if (tries)
			cur = (cur + 1) % nurls;
		free(b.p);
		b.p = NULL;
		b.len = 0;
		cerr[0] = '\0';
		snprintf(full, sizeof(full), "%s%s", url, path);
		cu.reset(curl);
		cu.setopt(curl, CURLOPT_URL, full);
		cu.setopt(curl, CURLOPT_POSTFIELDS, body);
		cu.setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
		cu.setopt(curl, CURLOPT_WRITEDATA, &b);
		cu.setopt(curl, CURLOPT_ERRORBUFFER, cerr);
		cu.setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, STORE_CONNECT_MS);
		cu.setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
		cu.setopt(curl, CURLOPT_NOSIGNAL, 1L);
		/*
		 * A change on a connection of its own: on a reused one whose
		 * answer never comes, libcurl sends the request again by
		 * itself, and when that reconnect fails the change would look
		 * unsent and go to the next member, made twice.
		 */
		cu.setopt(curl, CURLOPT_FRESH_CONNECT, change ? 1L : 0L);
		rc = cu.perform(curl);
		status = 0;
		if (rc == CURLE_OK)
			cu.getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && (change || status < 500))
			break;
		if (rc != CURLE_OK)
			set_err("cannot reach the store at %s: %s%s", url,
				cerr[0] ? cerr : cu.strerror(rc),
				tries ? " (nor any other member)" : "");
		else
			set_err("the store at %s answered %s with HTTP %ld: %.200s",
				url, path, status, b.p ? b.p : "");
		if (rc != CURLE_OK && change && !unsent(rc)) {
			set_err("the store at %s did not answer (%s): the change may or may not have been made",
				url, cerr[0] ? cerr : cu.strerror(rc));
			break;
		}
	}
	json_object_put(req);
	if (rc != CURLE_OK || (status >= 500 && !change)) {
		free(b.p);
		return NULL;
	}
	ans = b.p ? json_tokener_parse(b.p) : NULL;
	if (status != 200 || !ans ||
	    !json_object_is_type(ans, json_type_object)) {
		if (ans && json_object_object_get_ex(ans, "message", &msg))
			set_err("the store at %s refused %s: %s", url, path,
				json_object_get_string(msg));
		else
			set_err("the store at %s answered %s with HTTP %ld: %.200s",
				url, path, status, b.p ? b.p : "");
		json_object_put(ans);
		free(b.p);
		return NULL;
	}
	free(b.p);
	return ans;
}

void store_kvs_free(struct store_kvs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->kv[i].key);
		free(r->kv[i].val);
	}
	free(r->kv);
	memset(r, 0, sizeof(*r));
}

/* Appends the "kvs" of a range response to @out: 0 or -EPROTO. */
static int take_kvs(json_object *resp, struct store_kvs *out)
{
	json_object *kvs, *kv, *f;
	size_t i, n, klen;
	struct store_kv *k;

	out->count = get_int(resp, "count");
	if (!json_object_object_get_ex(resp, "kvs", &kvs))
		return 0;
	n = json_object_array_length(kvs);
	if (!n)
		return 0;
	k = realloc(out->kv, (out->n + n) * sizeof(*k));
	if (!k)
		abort();
	out->kv = k;
	for (i = 0; i < n; i++) {
		kv = json_object_array_get_idx(kvs, i);
		k = &out->kv[out->n];
		memset(k, 0, sizeof(*k));
		if (!json_object_object_get_ex(kv, "key", &f) ||
		    !(k->key = b64_decode(json_object_get_string(f), &klen))) {
			set_err("the store sent a malformed key");
			return -EPROTO;
		}
		out->n++;
		if (json_object_object_get_ex(kv, "value", &f))
			k->val = b64_decode(json_object_get_string(f), &k->vlen);
		if (!k->val)
			k->val = strdup("");
		k->create_rev = get_int(kv, "create_revision");
		k->mod_rev = get_int(kv, "mod_revision");
	}
	return 0;
}

static json_object *range_req(const char *key, const char *end, int64_t rev,
			      bool count_only, long limit)
{
	json_object *req = json_object_new_object();

	add_b64(req, "key", key);
	if (end)
		add_b64(req, "range_end", end);
	if (rev)
		add_int(req, "revision", rev);
	if (count_only)
		json_object_object_add(req, "count_only",
				       json_object_new_boolean(1));
	if (limit)
		add_int(req, "limit", limit);
	return req;
}

int store_range(const char *key, const char *end, int64_t rev, bool count_only,
		struct store_kvs *out)
{
	char *next = strdup(key);
	json_object *ans, *more;
	int64_t count = -1;
	size_t len;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		ans = post("/v3/kv/range",
			   range_req(next, end, rev, count_only,
				     end && !count_only ? STORE_PAGE : 0),
			   false);
		if (!ans) {
			err = -EIO;
			break;
		}
		if (!rev)
			rev = get_int(json_object_object_get(ans, "header"),
				      "revision");
		err = take_kvs(ans, out);
		if (count < 0)
			count = out->count;
		if (err || !json_object_object_get_ex(ans, "more", &more) ||
		    !json_object_get_boolean(more) || !out->n) {
			json_object_put(ans);
			break;
		}
		json_object_put(ans);
		/* The next page starts just after the last key read. */
		free(next);
		len = strlen(out->kv[out->n - 1].key);
		next = malloc(len + 2);
		if (!next)
			abort();
		memcpy(next, out->kv[out->n - 1].key, len);
		next[len] = '\1';	/* keys hold no control characters */
		next[len + 1] = '\0';
	}
	free(next);
	out->rev = rev;
	out->count = count < 0 ? 0 : count;
	if (err)
		store_kvs_free(out);
	return err;
}

char *store_prefix_end(char *buf, size_t size, const char *prefix)
{
	size_t len = strlen(prefix);

	snprintf(buf, size, "%s", prefix);
	/* Our keys are printable ASCII: the last byte never overflows. */
	if (len && len < size)
		buf[len - 1]++;
	return buf;
}

struct store_txn *store_txn_new(void)
{
	struct store_txn *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->cmp = json_object_new_array();
	t->ops = json_object_new_array();
	return t;
}

void store_txn_cmp(struct store_txn *t, const char *key, const char *end,
		   enum store_target target, enum store_result result,
		   int64_t rev)
{
	json_object *c = json_object_new_object();

	add_b64(c, "key", key);
	if (end)
		add_b64(c, "range_end", end);
	json_object_object_add(c, "target", json_object_new_string(
		target == STORE_CREATE ? "CREATE" : "MOD"));
	json_object_object_add(c, "result", json_object_new_string(
		result == STORE_EQUAL ? "EQUAL" : "LESS"));
	add_int(c, target == STORE_CREATE ? "create_revision" : "mod_revision",
		rev);
	json_object_array_add(t->cmp, c);
}

static void add_op(struct store_txn *t, const char *kind, json_object *req)
{
	json_object *op = json_object_new_object();

	json_object_object_add(op, kind, req);
	json_object_array_add(t->ops, op);
	t->nops++;
}

void store_txn_put(struct store_txn *t, const char *key, const char *val)
{
	json_object *req = json_object_new_object();

	add_b64(req, "key", key);
	add_b64(req, "value", val);
	add_op(t, "request_put", req);
	t->change = true;
}

void store_txn_del(struct store_txn *t, const char *key, const char *end)
{
	json_object *req = json_object_new_object();

	add_b64(req, "key", key);
	if (end)
		add_b64(req, "range_end", end);
	add_op(t, "request_delete_range", req);
	t->change = true;
}

void store_txn_get(struct store_txn *t, const char *key, const char *end,
		   bool count_only)
{
	add_op(t, "request_range", range_req(key, end, 0, count_only, 0));
}

int store_txn_ops(const struct store_txn *t)
{
	return t->nops;
}

int store_txn_commit(struct store_txn *t, bool *ok, int64_t *rev,
		     struct store_kvs *reads, int nreads)
{
	json_object *req = json_object_new_object(), *ans, *resps, *r, *rr;
	int64_t revision;
	size_t i, n;
	int err = 0, k = 0;

	bool change = t->change;

	json_object_object_add(req, "compare", t->cmp);
	json_object_object_add(req, "success", t->ops);
	free(t);
	ans = post("/v3/kv/txn", req, change);
	if (!ans)
		return -EIO;
	revision = get_int(json_object_object_get(ans, "header"), "revision");
	*ok = json_object_object_get_ex(ans, "succeeded", &r) &&
	      json_object_get_boolean(r);
	if (rev)
		*rev = revision;
	if (*ok && reads && json_object_object_get_ex(ans, "responses", &resps)) {
		n = json_object_array_length(resps);
		for (i = 0; i < n && k < nreads && !err; i++) {
			r = json_object_array_get_idx(resps, i);
			if (!json_object_object_get_ex(r, "response_range", &rr))
				continue;
			memset(&reads[k], 0, sizeof(reads[k]));
			err = take_kvs(rr, &reads[k]);
			reads[k++].rev = revision;
		}
	}
	json_object_put(ans);
	return err;
}

/* ---- single requests: put, leases ---- */

int store_put(const char *key, const char *val, int64_t lease, int64_t *rev)
{
	json_object *req = json_object_new_object(), *ans;

	add_b64(req, "key", key);
	add_b64(req, "value", val);
	if (lease)
		add_int(req, "lease", lease);
	ans = post("/v3/kv/put", req, false);
	if (!ans)
		return -EIO;
	if (rev)
		*rev = get_int(json_object_object_get(ans, "header"), "revision");
	json_object_put(ans);
	return 0;
}

int store_lease_grant(int64_t ttl, int64_t *id)
{
	json_object *req = json_object_new_object(), *ans;

	add_int(req, "TTL", ttl);
	ans = post("/v3/lease/grant", req, false);
	if (!ans)
		return -EIO;
	*id = get_int(ans, "ID");
	json_object_put(ans);
	if (!*id) {
		set_err("the store granted no lease");
		return -EPROTO;
	}
	return 0;
}

int store_lease_keepalive(int64_t id, int64_t *ttl)
{
	json_object *req = json_object_new_object(), *ans, *res;

	add_int(req, "ID", id);
	/* A stream in gRPC; the gateway answers one request and ends. */
	ans = post("/v3/lease/keepalive", req, false);
	if (!ans)
		return -EIO;
	res = json_object_object_get(ans, "result");
	*ttl = get_int(res ? res : ans, "TTL");
	json_object_put(ans);
	return 0;
}

int store_lease_revoke(int64_t id)
{
	json_object *req = json_object_new_object(), *ans;

	add_int(req, "ID", id);
	ans = post("/v3/lease/revoke", req, false);
	if (!ans)
		return -EIO;
	json_object_put(ans);
	return 0;
}

/* ---- watches ---- */

struct store_watch {
	CURLM *multi;
	CURL *easy;
	char *body;
	struct buf in;		/* received, not parsed yet from @off on */
	size_t off;
	json_tokener *tok;
	bool done;		/* the transfer ended */
	int member;
	CURLcode rc;
	char cerr[CURL_ERROR_SIZE];
};

void store_events_free(struct store_events *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->ev[i].kv.key);
		free(e->ev[i].kv.val);
	}
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

struct store_watch *store_watch_start(const char *key, const char *end,
				      int64_t rev)
{
	json_object *req = json_object_new_object(), *c = json_object_new_object();
	char full[sizeof(url) + 32];
	struct store_watch *w;

	if (curl_load()) {
		json_object_put(req);
		json_object_put(c);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	add_b64(c, "key", key);
	if (end)
		add_b64(c, "range_end", end);
	if (rev)
		add_int(c, "start_revision", rev);
	json_object_object_add(c, "progress_notify", json_object_new_boolean(1));
	json_object_object_add(req, "create_request", c);
	w->body = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	w->tok = json_tokener_new();
	w->multi = cu.m_init();
	w->easy = cu.init();
	if (!w->body || !w->tok || !w->multi || !w->easy) {
		set_err("cannot start a watch: out of memory or libcurl failed");
		store_watch_stop(w);
		return NULL;
	}
	w->member = cur;
	snprintf(full, sizeof(full), "%s/v3/watch", url);
	cu.setopt(w->easy, CURLOPT_URL, full);
	cu.setopt(w->easy, CURLOPT_POSTFIELDS, w->body);
	cu.setopt(w->easy, CURLOPT_WRITEFUNCTION, write_cb);
	cu.setopt(w->easy, CURLOPT_WRITEDATA, &w->in);
	cu.setopt(w->easy, CURLOPT_ERRORBUFFER, w->cerr);
	cu.setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, STORE_CONNECT_MS);
	cu.setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	/* A silent peer (a cut link) is found by TCP keepalives. */
	cu.setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	cu.setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 10L);
	cu.setopt(w->easy, CURLOPT_TCP_KEEPINTVL, 5L);
	cu.m_add(w->multi, w->easy);
	return w;
}

int store_watch_member(const struct store_watch *w)
{
	return w->member;
}

void store_watch_stop(struct store_watch *w)
{
	if (!w)
		return;
	if (w->multi && w->easy)
		cu.m_remove(w->multi, w->easy);
	if (w->easy)
		cu.cleanup(w->easy);
	if (w->multi)
		cu.m_cleanup(w->multi);
	if (w->tok)
		json_tokener_free(w->tok);
	free(w->body);
	free(w->in.p);
	free(w);
}

/* One watch response into @e: 0, or -EIO/-ESTALE/-EPROTO (errbuf says). */
static int watch_response(json_object *o, struct store_events *e)
{
	json_object *res, *evs, *ev, *kv, *f, *msg;
	struct store_event *x;
	size_t i, n, klen;
	const char *type;

	memset(e, 0, sizeof(*e));
	if (json_object_object_get_ex(o, "error", &res)) {
		msg = json_object_object_get(res, "message");
		set_err("the store ended the watch: %s",
			msg ? json_object_get_string(msg) : "(no message)");
		return -EIO;
	}
	if (!json_object_object_get_ex(o, "result", &res)) {
		set_err("the store sent a watch response without a result");
		return -EPROTO;
	}
	e->rev = get_int(json_object_object_get(res, "header"), "revision");
	e->compact = get_int(res, "compact_revision");
	if (e->compact) {
		set_err("revision %lld was compacted away (the oldest left is %lld)",
			(long long)e->rev, (long long)e->compact);
		return -ESTALE;
	}
	if (json_object_object_get_ex(res, "canceled", &f) &&
	    json_object_get_boolean(f)) {
		msg = json_object_object_get(res, "cancel_reason");
		set_err("the store canceled the watch: %s",
			msg ? json_object_get_string(msg) : "(no reason)");
		return -EIO;
	}
	if (!json_object_object_get_ex(res, "events", &evs))
		return 0;
	n = json_object_array_length(evs);
	e->ev = calloc(n ? n : 1, sizeof(*e->ev));
	if (!e->ev)
		abort();
	for (i = 0; i < n; i++) {
		ev = json_object_array_get_idx(evs, i);
		x = &e->ev[e->n];
		type = json_object_get_string(json_object_object_get(ev, "type"));
		x->del = type && !strcmp(type, "DELETE");
		if (!json_object_object_get_ex(ev, "kv", &kv) ||
		    !json_object_object_get_ex(kv, "key", &f) ||
		    !(x->kv.key = b64_decode(json_object_get_string(f), &klen))) {
			set_err("the store sent a malformed watch event");
			store_events_free(e);
			return -EPROTO;
		}
		e->n++;
		if (json_object_object_get_ex(kv, "value", &f))
			x->kv.val = b64_decode(json_object_get_string(f),
					       &x->kv.vlen);
		if (!x->kv.val)
			x->kv.val = strdup("");
		x->kv.create_rev = get_int(kv, "create_revision");
		x->kv.mod_rev = get_int(kv, "mod_revision");
	}
	return 0;
}

/* The next whole JSON object received: 1 (*@o), 0 if none yet, or -EPROTO. */
static int watch_parse(struct store_watch *w, json_object **o)
{
	enum json_tokener_error jerr;
	size_t used;

	while (w->off < w->in.len) {
		*o = json_tokener_parse_ex(w->tok, w->in.p + w->off,
					   (int)(w->in.len - w->off));
		jerr = json_tokener_get_error(w->tok);
		if (*o) {
			used = json_tokener_get_parse_end(w->tok);
			w->off += used ? used : w->in.len - w->off;
			json_tokener_reset(w->tok);
			return 1;
		}
		if (jerr != json_tokener_continue) {
			set_err("the store sent a malformed watch response: %s",
				json_tokener_error_desc(jerr));
			return -EPROTO;
		}
		w->off = w->in.len;	/* all in the tokener's state */
	}
	/* Everything parsed: start the buffer again. */
	w->in.len = 0;
	w->off = 0;
	return 0;
}

int store_watch_next(struct store_watch *w, int timeout_ms,
		     struct store_events *e)
{
	json_object *o = NULL;
	int running, left, err, i;
	CURLMsg *m;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 2; i++) {
		err = watch_parse(w, &o);
		if (err > 0) {
			err = watch_response(o, e);
			json_object_put(o);
			return err ? err : 1;
		}
		if (err < 0)
			return err;
		if (w->done) {
			long status = 0;

			cu.getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
			if (w->rc != CURLE_OK)
				set_err("the watch on %s failed: %s", url,
					w->cerr[0] ? w->cerr : cu.strerror(w->rc));
			else
				set_err("the store at %s ended the watch (HTTP %ld)",
					url, status);
			return -EIO;
		}
		if (i)
			break;
		cu.m_wait(w->multi, NULL, 0, timeout_ms, NULL);
		cu.m_perform(w->multi, &running);
		while ((m = cu.m_info_read(w->multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				w->done = true;
				w->rc = m->data.result;
			}
	}
	return 0;
}
