// SPDX-License-Identifier: GPL-2.0
/*
 * Owns the conversation with etcd: HTTP POSTs to its v3 JSON gateway
 * (libcurl, one connection kept alive), base64 keys and values, JSON built
 * and read with json-c, paged range reads at one revision, transactions.
 * See store.h.
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
} cu;

/* Keys per page of a range read: a page of mappings is about 1 MB. */
#define STORE_PAGE 5000

static CURL *curl;
static char url[512];
static char errbuf[512];

struct store_txn {
	json_object *cmp, *ops;
	int nops;
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

int store_open(const char *u)
{
	size_t len = strlen(u);

	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
		set_err("store URL \"%s\" is not http:// or https://", u);
		return -EINVAL;
	}
	if (len >= sizeof(url) - 32) {
		set_err("store URL is too long");
		return -EINVAL;
	}
	/* "http://host:2379/" and "http://host:2379" alike. */
	while (len > 8 && u[len - 1] == '/')
		len--;
	snprintf(url, sizeof(url), "%.*s", (int)len, u);
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
	if (!cu.init || !cu.reset || !cu.setopt || !cu.perform ||
	    !cu.getinfo || !cu.strerror || !cu.cleanup) {
		set_err("libcurl.so.4 lacks curl_easy_* functions");
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

/* POSTs @req (freed) to @path: the parsed answer, or NULL (errbuf says). */
static json_object *post(const char *path, json_object *req)
{
	char full[sizeof(url) + 32], cerr[CURL_ERROR_SIZE] = "";
	struct buf b = { NULL, 0 };
	json_object *ans, *msg;
	long status = 0;
	CURLcode rc;

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
	snprintf(full, sizeof(full), "%s%s", url, path);
	cu.reset(curl);
	cu.setopt(curl, CURLOPT_URL, full);
	cu.setopt(curl, CURLOPT_POSTFIELDS,
			 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	cu.setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
	cu.setopt(curl, CURLOPT_WRITEDATA, &b);
	cu.setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	cu.setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	cu.setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
	cu.setopt(curl, CURLOPT_NOSIGNAL, 1L);
	rc = cu.perform(curl);
	json_object_put(req);
	if (rc != CURLE_OK) {
		set_err("cannot reach the store at %s: %s", url,
			cerr[0] ? cerr : cu.strerror(rc));
		free(b.p);
		return NULL;
	}
	cu.getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
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
				     end && !count_only ? STORE_PAGE : 0));
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
}

void store_txn_del(struct store_txn *t, const char *key, const char *end)
{
	json_object *req = json_object_new_object();

	add_b64(req, "key", key);
	if (end)
		add_b64(req, "range_end", end);
	add_op(t, "request_delete_range", req);
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

	json_object_object_add(req, "compare", t->cmp);
	json_object_object_add(req, "success", t->ops);
	free(t);
	ans = post("/v3/kv/txn", req);
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
