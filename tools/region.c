// SPDX-License-Identifier: GPL-2.0
/*
 * Owns a region's state in etcd: its key layout, and the module's commands
 * (pools, VPNs, mappings, lookups, dumps) done on it with the kernel's
 * allocation rules and error messages, each change one etcd transaction
 * guarded by compare-and-swap and retried on conflict.
 *
 * Key layout, version 1, under /rnat/v1/REGION/ (addresses zero-padded
 * dotted quads and lengths two digits, VPN ids ten digits, so that keys
 * sort by address and id); values JSON:
 *
 *   pools/NAME                 {"prefixes":["10.153.0.0/16",...]}; its
 *                              mod_revision is the version of the pool's
 *                              block map: every transaction that creates,
 *                              merges or frees a block in the pool puts it
 *                              again and compares it
 *   vpns/ID                    {"name":"acme","pool":"P","placement":
 *                              {"*":{"dev":"gv1","mark":{"value":48,
 *                              "mask":240},"out_mark":{...}}}}: placement
 *                              maps a gateway to the VPN's device and marks
 *                              there; "*" is every gateway without an
 *                              entry of its own; a VPN with neither is not
 *                              on that gateway (--gateway, vpn_parse())
 *   vpn-names/NAME             "ID" (names are unique in a region)
 *   blocks/ADDR/LEN            {"vpn":ID}: who owns a NAT block (never
 *                              changed, only created and deleted)
 *   vpn-blocks/ID/ADDR/LEN     {"used":N}: a VPN's blocks and the addresses
 *                              its mappings use in each; every allocation in
 *                              a block puts it, so concurrent allocations
 *                              in one block conflict (Calico's IPAM pattern)
 *   maps/ID/REAL/LEN           {"nat":"10.153.0.0"}
 *   nat/NAT/LEN                {"vpn":ID,"real":"10.1.0.0"}: the index NAT
 *                              IP -> mapping, written in the same
 *                              transaction as maps/
 *   changed                    "": put by every change's transaction, so
 *                              its mod_revision is the region's last change
 *                              (what a gateway's applied revision is
 *                              compared with: its lag)
 *
 * and, beside it, what the gateways report, under /rnat/v1-gateways/REGION/
 * (outside the prefix every gateway watches: a report wakes no gateway):
 *
 *   NAME                       {"revision":R,"error":"...","time":"..."}:
 *                              what rnatd on gateway NAME has applied,
 *                              under its lease (gone when rnatd is)
 *
 * Allocation, as kmod/cfg.c and kmod/block.c do it: a mapping's NAT prefix
 * is the lowest free aligned one in the VPN's blocks (address order), else
 * in a new block of the pool (the lowest free aligned one, in the order of
 * the pool's prefixes), as large as all the VPN's blocks so far, from /32 to
 * /24; a new block merges with its buddy of the same VPN into their parent.
 * An explicit NAT prefix must be free: inside one of the VPN's blocks, or
 * nobody's (it becomes a block of its own). A change reads what it needs,
 * decides as the kernel would, then commits one transaction that compares
 * every key the decision rests on: the VPN (create_revision), each block
 * written (mod_revision), the pool when blocks come or go (mod_revision),
 * and the absence (create_revision == 0, over ranges for prefixes) of the
 * mapping and NAT keys it creates. A failed compare means another writer
 * got there first: the change is decided again from a fresh read, up to
 * REGION_TRIES times.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/genetlink.h>

#include "nl.h"
#include "parse.h"
#include "region.h"
#include "rnatctl.h"
#include "store.h"

#define REGION_TRIES 64
#define KEY_MAX 256
#define DEV_BASE 0x7f000000u	/* region_dev_index()'s first index */
#define DEVS_MAX 4096
#define REPLY_MAX (4 << 20)

static bool on;
static char base[160];		/* "/rnat/v1/REGION/" */
static char gw_base[160];	/* "/rnat/v1-gateways/REGION/" */
static int64_t pinned;		/* the revision reads see (save), 0: newest */
static int64_t last_pinned;	/* the last save's revision */
static char gw[66];		/* the view's gateway ("*" too), "": none */
static char *devs[DEVS_MAX];
static unsigned int ndevs;

/* A prefix in host byte order (struct prefix is in network order). */
struct pfx {
	uint32_t base;
	uint8_t plen;
};

static uint32_t mask(unsigned int plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

static uint32_t psize(const struct pfx *p)
{
	return (uint32_t)(1ull << (32 - p->plen));
}

static uint32_t plast(const struct pfx *p)
{
	return p->base + psize(p) - 1;
}

static bool contains(const struct pfx *a, const struct pfx *b)
{
	return b->plen >= a->plen && (b->base & mask(a->plen)) == a->base;
}

static bool overlaps(const struct pfx *a, const struct pfx *b)
{
	return a->base <= plast(b) && b->base <= plast(a);
}

/* "10.1.0.0" (host order), for messages and values. */
static char *ip(char *buf, uint32_t a)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
	return buf;
}

static int parse_ip(const char *s, uint32_t *a)
{
	struct in_addr in;

	if (!s || inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*a = ntohl(in.s_addr);
	return 0;
}

/* A key into @buf (KEY_MAX bytes): region names keep keys far shorter. */
static void kfmt(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void kfmt(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, KEY_MAX, fmt, ap);
	va_end(ap);
}

/* @head then "AAA.BBB.CCC.DDD/LL" into @buf. */
static char *kp(char *buf, const char *head, const struct pfx *p)
{
	uint32_t a = p->base;

	kfmt(buf, "%s%03u.%03u.%03u.%03u/%02u", head, a >> 24,
		 (a >> 16) & 255, (a >> 8) & 255, a & 255, p->plen);
	return buf;
}

/* The keys under @head of every prefix inside @p: [@start, @end). */
static void kspan(char *start, char *end, const char *head,
		  const struct pfx *p)
{
	struct pfx last = { plast(p), 32 };
	size_t len;

	kp(start, head, p);
	start[strlen(start) - 3] = '\0';	/* no "/LL": shorter first */
	kp(end, head, &last);
	len = strlen(end) - 3;
	kfmt(end + len, "/~");
}

/* The prefix a key ends with ("AAA.BBB.CCC.DDD/LL"): 0 or -1. */
static int key_pfx(const char *key, struct pfx *p)
{
	const char *s = strrchr(key, '/');
	unsigned int a, b, c, d, l;

	while (s && s > key && s[-1] != '/')
		s--;
	if (!s || sscanf(s, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &l) != 5 ||
	    a > 255 || b > 255 || c > 255 || d > 255 || l > 32)
		return -1;
	p->base = a << 24 | b << 16 | c << 8 | d;
	p->plen = l;
	return 0;
}

static char *kpool(char *buf, const char *name)
{
	kfmt(buf, "%spools/%s", base, name);
	return buf;
}

static char *kvpn(char *buf, uint32_t id)
{
	kfmt(buf, "%svpns/%010u", base, id);
	return buf;
}

static char *kname(char *buf, const char *name)
{
	kfmt(buf, "%svpn-names/%s", base, name);
	return buf;
}

static char *head(char *buf, const char *kind, uint32_t id)
{
	if (id)
		kfmt(buf, "%s%s/%010u/", base, kind, id);
	else
		kfmt(buf, "%s%s/", base, kind);
	return buf;
}

static char *kblock(char *buf, const struct pfx *p)
{
	char h[KEY_MAX];

	return kp(buf, head(h, "blocks", 0), p);
}

static char *kvblock(char *buf, uint32_t id, const struct pfx *p)
{
	char h[KEY_MAX];

	return kp(buf, head(h, "vpn-blocks", id), p);
}

static char *kmap(char *buf, uint32_t id, const struct pfx *p)
{
	char h[KEY_MAX];

	return kp(buf, head(h, "maps", id), p);
}

static char *knat(char *buf, const struct pfx *p)
{
	char h[KEY_MAX];

	return kp(buf, head(h, "nat", 0), p);
}

/* Records the kernel-like message of a refusal: returns @err. */
static int fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nl_set_error("%s", msg);
	return err;
}

static int store_fail(int err)
{
	return fail(err, "%s", store_strerror());
}

/* ---- values ---- */

static json_object *jparse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const char *jstr(json_object *o, const char *f)
{
	json_object *v;

	return json_object_object_get_ex(o, f, &v) &&
	       json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *f)
{
	json_object *v;

	return json_object_object_get_ex(o, f, &v) ? json_object_get_int64(v) : -1;
}

struct pool_rec {
	char name[RNAT_NAME_MAX];
	struct pfx pfx[RNAT_POOL_PREFIXES_MAX];
	int n;
	int64_t create_rev, mod_rev;
	char *json;		/* as stored: put back unchanged to bump it */
};

static int pool_parse(const struct store_kv *kv, struct pool_rec *p)
{
	json_object *o = jparse(kv->val), *a, *e;
	const char *name = strrchr(kv->key, '/') + 1;
	size_t i;
	char buf[PREFIX_STRLEN + 1], *slash;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->create_rev = kv->create_rev;
	p->mod_rev = kv->mod_rev;
	p->json = kv->val;
	if (!o || !json_object_object_get_ex(o, "prefixes", &a))
		goto bad;
	for (i = 0; i < json_object_array_length(a) &&
	     i < RNAT_POOL_PREFIXES_MAX; i++) {
		e = json_object_array_get_idx(a, i);
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(e));
		slash = strchr(buf, '/');
		if (!slash)
			goto bad;
		*slash = '\0';
		if (parse_ip(buf, &p->pfx[i].base))
			goto bad;
		p->pfx[i].plen = atoi(slash + 1);
		p->n++;
	}
	json_object_put(o);
	return 0;
bad:
	json_object_put(o);
	return fail(-EPROTO, "malformed pool %s in the store", p->name);
}

static bool pool_has(const struct pool_rec *p, const struct pfx *x)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (contains(&p->pfx[i], x))
			return true;
	return false;
}

struct vpn_rec {
	uint32_t id;
	char name[RNAT_NAME_MAX];
	char pool[RNAT_NAME_MAX];
	char dev[64];		/* the placement's the view selects */
	struct mark mark, out_mark;
	bool placed;		/* in the view: placed on the gateway or on * */
	bool own;		/* a placement of the gateway's own (not *) */
	const char *val;	/* the value read (the kv's), NULL if new */
	int64_t create_rev, mod_rev;
};

static void mark_read(json_object *pl, const char *f, struct mark *m)
{
	json_object *o;

	m->value = m->mask = 0;
	if (pl && json_object_object_get_ex(pl, f, &o)) {
		m->value = jint(o, "value");
		m->mask = jint(o, "mask");
	}
}

/*
 * A VPN as the view sees it (region_set_gateway()): with a gateway G, its
 * placement on G, else on "*", else it is not placed (not in G's view);
 * with none (the region's own view), every VPN with its "*" placement.
 */
static int vpn_parse(const struct store_kv *kv, struct vpn_rec *v)
{
	json_object *o = jparse(kv->val), *pl = NULL, *all = NULL;
	const char *s;

	memset(v, 0, sizeof(*v));
	v->id = strtoul(strrchr(kv->key, '/') + 1, NULL, 10);
	v->create_rev = kv->create_rev;
	v->mod_rev = kv->mod_rev;
	v->val = kv->val;
	if (!o || !jstr(o, "name") || !jstr(o, "pool")) {
		json_object_put(o);
		return fail(-EPROTO, "malformed VPN %u in the store", v->id);
	}
	snprintf(v->name, sizeof(v->name), "%s", jstr(o, "name"));
	snprintf(v->pool, sizeof(v->pool), "%s", jstr(o, "pool"));
	if (json_object_object_get_ex(o, "placement", &pl) &&
	    json_object_is_type(pl, json_type_object)) {
		if (gw[0])
			v->own = json_object_object_get_ex(pl, gw, &all);
		if (!all)
			json_object_object_get_ex(pl, "*", &all);
	}
	v->placed = all || !gw[0];
	s = all ? jstr(all, "dev") : NULL;
	snprintf(v->dev, sizeof(v->dev), "%s", s ? s : "");
	mark_read(all, "mark", &v->mark);
	mark_read(all, "out_mark", &v->out_mark);
	json_object_put(o);
	return 0;
}

static void mark_write(json_object *o, const char *f, const struct mark *m)
{
	json_object *j;

	if (!m->mask)
		return;
	j = json_object_new_object();
	json_object_object_add(j, "value", json_object_new_int64(m->value));
	json_object_object_add(j, "mask", json_object_new_int64(m->mask));
	json_object_object_add(o, f, j);
}

/* What vpn_json() does to the view's own placement (--gateway's, or *). */
enum placing { PLACE, UNPLACE, KEEP };

/*
 * The VPN's value, to be freed: its name and pool, its placements as read
 * (v->val) but the view's own one, which is @v's device and marks (PLACE),
 * gone (UNPLACE), or as read (KEEP).
 */
static char *vpn_json(const struct vpn_rec *v, enum placing how)
{
	json_object *o = json_object_new_object(), *old = NULL, *pl, *all, *x;
	const char *key = gw[0] ? gw : "*";
	char *s;

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "pool", json_object_new_string(v->pool));
	pl = json_object_new_object();
	if (v->val)
		old = jparse(v->val);
	if (old && json_object_object_get_ex(old, "placement", &x) &&
	    json_object_is_type(x, json_type_object)) {
		json_object_object_foreach(x, g, entry)
			if (how == KEEP || strcmp(g, key))
				json_object_object_add(pl, g,
						       json_object_get(entry));
	}
	json_object_put(old);
	if (how == PLACE) {
		all = json_object_new_object();
		if (v->dev[0])
			json_object_object_add(all, "dev",
					       json_object_new_string(v->dev));
		mark_write(all, "mark", &v->mark);
		mark_write(all, "out_mark", &v->out_mark);
		json_object_object_add(pl, key, all);
	}
	json_object_object_add(o, "placement", pl);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* One of a VPN's blocks, as read and as a change leaves it. */
struct vblock {
	struct pfx p, orig;
	uint32_t used, orig_used;
	int64_t mod_rev;	/* 0: made by this change */
	bool gone;
};

struct vblocks {
	struct vblock *b;
	int n;
};

static int vblocks_parse(const struct store_kvs *r, struct vblocks *vb)
{
	json_object *o;
	size_t i;

	vb->b = calloc(r->n + 1, sizeof(*vb->b));
	vb->n = 0;
	if (!vb->b)
		abort();
	for (i = 0; i < r->n; i++) {
		struct vblock *b = &vb->b[vb->n];

		o = jparse(r->kv[i].val);
		if (key_pfx(r->kv[i].key, &b->p) || !o || jint(o, "used") < 0) {
			json_object_put(o);
			return fail(-EPROTO, "malformed block %s in the store",
				    r->kv[i].key);
		}
		b->used = b->orig_used = jint(o, "used");
		b->orig = b->p;
		b->mod_rev = r->kv[i].mod_rev;
		json_object_put(o);
		vb->n++;
	}
	return 0;
}

static struct vblock *vblock_add(struct vblocks *vb, const struct pfx *p)
{
	struct vblock *n = realloc(vb->b, (vb->n + 1) * sizeof(*n));
	int i;

	if (!n)
		abort();
	vb->b = n;
	/* In address order, as rnat_block_link() keeps them. */
	for (i = vb->n; i > 0 && vb->b[i - 1].p.base > p->base; i--)
		vb->b[i] = vb->b[i - 1];
	memset(&vb->b[i], 0, sizeof(vb->b[i]));
	vb->b[i].p = *p;
	vb->n++;
	return &vb->b[i];
}

static struct vblock *vblock_of(struct vblocks *vb, uint32_t addr)
{
	struct pfx a = { addr, 32 };
	int i;

	for (i = 0; i < vb->n; i++)
		if (!vb->b[i].gone && contains(&vb->b[i].p, &a))
			return &vb->b[i];
	return NULL;
}

/* rnat_block_merge(): @b and its buddy of the same VPN become their parent. */
static void vblock_merge(struct vblocks *vb, struct vblock *b,
			 const struct pool_rec *pool)
{
	while (b->p.plen > RNAT_POOL_PLEN_MIN) {
		uint32_t size = psize(&b->p);
		struct pfx parent = { b->p.base & ~size, b->p.plen - 1 };
		struct vblock *buddy = vblock_of(vb, b->p.base ^ size), *low,
			      *high;

		if (!buddy || buddy->p.base != (b->p.base ^ size) ||
		    buddy->p.plen != b->p.plen || !pool_has(pool, &parent))
			break;
		low = b->p.base < buddy->p.base ? b : buddy;
		high = low == b ? buddy : b;
		high->gone = true;
		low->p = parent;
		low->used += high->used;
		b = low;
	}
}

/*
 * Writes what a change did to a VPN's blocks into @t, comparing every block
 * it rests on; true if blocks came or went (the pool must be bumped).
 */
static bool vblocks_commit(struct store_txn *t, uint32_t id,
			   const struct vblocks *vb)
{
	char k[KEY_MAX], v[64], owner[32];
	bool shape = false;
	int i;

	for (i = 0; i < vb->n; i++) {
		const struct vblock *b = &vb->b[i];
		bool moved = b->mod_rev && (b->gone || b->p.base != b->orig.base ||
					    b->p.plen != b->orig.plen);

		if (b->mod_rev && (moved || b->used != b->orig_used))
			store_txn_cmp(t, kvblock(k, id, &b->orig), NULL,
				      STORE_MOD, STORE_EQUAL, b->mod_rev);
		if (moved) {
			store_txn_del(t, kblock(k, &b->orig), NULL);
			store_txn_del(t, kvblock(k, id, &b->orig), NULL);
			shape = true;
		}
		if (b->gone)
			continue;
		snprintf(v, sizeof(v), "{\"used\":%u}", b->used);
		if (!b->mod_rev || moved) {
			store_txn_cmp(t, kblock(k, &b->p), NULL, STORE_CREATE,
				      STORE_EQUAL, 0);
			snprintf(owner, sizeof(owner), "{\"vpn\":%u}", id);
			store_txn_put(t, kblock(k, &b->p), owner);
			store_txn_put(t, kvblock(k, id, &b->p), v);
			shape = true;
		} else if (b->used != b->orig_used) {
			store_txn_put(t, kvblock(k, id, &b->p), v);
		}
	}
	return shape;
}

/* ---- reading ---- */

/* Reads [@key, @end) (@end NULL: @key) at the pinned revision, or newest. */
static int rd(const char *key, const char *end, struct store_kvs *out)
{
	int err = store_range(key, end, pinned, false, out);

	return err ? store_fail(err) : 0;
}

static int rd_prefix(const char *prefix, struct store_kvs *out)
{
	char end[KEY_MAX];

	return rd(prefix, store_prefix_end(end, sizeof(end), prefix), out);
}

/* Runs @t (reads only) at one revision into @r[0..@n). */
static int multi(struct store_txn *t, struct store_kvs *r, int n)
{
	bool ok;
	int err;

	memset(r, 0, n * sizeof(*r));
	err = store_txn_commit(t, &ok, NULL, r, n);
	return err ? store_fail(err) : 0;
}

static void kvs_free(struct store_kvs *r, int n)
{
	while (n--)
		store_kvs_free(&r[n]);
}

static int get_pool(const char *name, struct store_kvs *r, struct pool_rec *p)
{
	char k[KEY_MAX];
	int err = rd(kpool(k, name), NULL, r);

	if (err)
		return err;
	if (!r->n)
		return fail(-ENOENT, "no pool %s", name);
	return pool_parse(&r->kv[0], p);
}

/* Every pool, in name order (as the module dumps them: so do the keys). */
static int all_pools(struct store_kvs *r, struct pool_rec **out, int *n)
{
	char h[KEY_MAX];
	size_t i;
	int err = rd_prefix(head(h, "pools", 0), r);

	*out = NULL;
	*n = 0;
	if (err)
		return err;
	*out = calloc(r->n + 1, sizeof(**out));
	if (!*out)
		abort();
	for (i = 0; i < r->n; i++) {
		err = pool_parse(&r->kv[i], &(*out)[i]);
		if (err)
			return err;
		(*n)++;
	}
	return 0;
}

/* A value's {"vpn":ID,"real":...} (nat/ keys). */
static int nat_val(const struct store_kv *kv, uint32_t *vpn, uint32_t *real)
{
	json_object *o = jparse(kv->val);
	int err = 0;

	if (!o || jint(o, "vpn") <= 0 || parse_ip(jstr(o, "real"), real))
		err = fail(-EPROTO, "malformed %s in the store", kv->key);
	else
		*vpn = jint(o, "vpn");
	json_object_put(o);
	return err;
}

/* ---- replies ---- */

static char *rbuf;

static struct nlmsghdr *reply(uint8_t cmd)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	if (!rbuf) {
		rbuf = malloc(REPLY_MAX);
		if (!rbuf)
			abort();
	}
	nlh = mnl_nlmsg_put_header(rbuf);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = RNAT_GENL_VERSION;
	return nlh;
}

static int deliver(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];
	int err;

	if (!cb)
		return 0;
	err = nl_parse_reply(nlh, tb);
	return err ? err : cb(tb, data);
}

static void put_prefixes(struct nlmsghdr *nlh, uint16_t attr,
			 const struct pfx *p, int n)
{
	struct prefix *q = calloc(n + 1, sizeof(*q));
	int i;

	if (!q)
		abort();
	for (i = 0; i < n; i++) {
		q[i].addr = htonl(p[i].base);
		q[i].len = p[i].plen;
	}
	prefixes_put(nlh, attr, q, n);
	free(q);
}

static int map_reply(uint8_t cmd, uint32_t vpn, uint32_t real, uint32_t nat,
		     uint8_t plen, const char *pool, nl_reply_cb cb, void *data)
{
	struct nlmsghdr *nlh = reply(cmd);

	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, htonl(real));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, htonl(nat));
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, plen);
	if (pool && *pool)
		mnl_attr_put_strz(nlh, RNAT_A_POOL, pool);
	return deliver(nlh, cb, data);
}

/* ---- the request ---- */

struct req {
	const struct nlattr *tb[RNAT_A_MAX + 1];
	uint16_t flags;
};

static bool has(const struct req *r, int a)
{
	return r->tb[a];
}

static uint32_t u32(const struct req *r, int a)
{
	return mnl_attr_get_u32(r->tb[a]);
}

static const char *str(const struct req *r, int a)
{
	return mnl_attr_get_str(r->tb[a]);
}

/* A prefix list attribute into @p (host order): how many, or -1. */
static int req_prefixes(const struct nlattr *list, struct pfx *p, int max)
{
	const struct nlattr *e;
	struct prefix q;
	int n = 0;

	mnl_attr_for_each_nested(e, list) {
		if (n == max || prefix_entry(e, &q))
			return -1;
		p[n].base = ntohl(q.addr);
		p[n++].plen = q.len;
	}
	return n;
}

static int req_mark(const struct nlattr *a, struct mark *m)
{
	const struct nlattr *e;

	m->value = m->mask = 0;
	if (!a)
		return 0;
	mnl_attr_for_each_nested(e, a) {
		if (mnl_attr_get_type(e) == RNAT_MARK_A_VALUE)
			m->value = mnl_attr_get_u32(e);
		else if (mnl_attr_get_type(e) == RNAT_MARK_A_MASK)
			m->mask = mnl_attr_get_u32(e);
	}
	return 0;
}

static int missing(const char *what)
{
	return fail(-EINVAL, "missing %s", what);
}

/*
 * Runs a change's one try, @fn, until it commits or fails: @fn returns 0,
 * a negative errno, or 1 when a compare failed (someone else changed what
 * it read): then it is tried again from a fresh read, after a short pause
 * that grows with the tries.
 */
static int retry(int (*fn)(const struct req *, void *), const struct req *r,
		 void *data)
{
	int i, err;

	pinned = 0;	/* a change sees, and is seen by, the newest state */
	for (i = 0; i < REGION_TRIES; i++) {
		err = fn(r, data);
		if (err <= 0)
			return err;
		usleep((rand() % 1000) * (i < 8 ? i + 1 : 8));
	}
	return fail(-EAGAIN, "the region kept changing under this command (%d tries); nothing was changed",
		    REGION_TRIES);
}

/*
 * Commits @t, a change, with the put of "changed" that dates the region's
 * last change: 0, 1 if a compare failed, or a negative errno.
 */
static int commit(struct store_txn *t)
{
	char k[KEY_MAX];
	bool ok;
	int err;

	kfmt(k, "%schanged", base);
	store_txn_put(t, k, "");
	err = store_txn_commit(t, &ok, NULL, NULL, 0);

	if (err)
		return store_fail(err);
	return ok ? 0 : 1;
}

/* ---- pools ---- */

static int pool_new(const struct req *r, void *data)
{
	struct pfx p[RNAT_POOL_PREFIXES_MAX];
	struct pool_rec *pools;
	struct store_kvs kvs;
	struct store_txn *t;
	const char *name;
	char k[KEY_MAX], h[KEY_MAX], e[KEY_MAX], a[16], b[16];
	json_object *o, *arr;
	int n, np, i, j, q, err;

	(void)data;
	if (!has(r, RNAT_A_POOL))
		return missing("pool name");
	if (!has(r, RNAT_A_POOL_PREFIXES))
		return missing("pool prefixes");
	name = str(r, RNAT_A_POOL);
	n = req_prefixes(r->tb[RNAT_A_POOL_PREFIXES], p, RNAT_POOL_PREFIXES_MAX);
	if (n <= 0)
		return fail(-EINVAL, "a pool needs 1 to 64 prefixes");
	err = all_pools(&kvs, &pools, &np);
	for (i = 0; !err && i < np; i++) {
		if (!strcmp(pools[i].name, name)) {
			err = fail(-EEXIST, "pool %s already exists", name);
			break;
		}
		for (q = 0; !err && q < pools[i].n; q++)
			for (j = 0; !err && j < n; j++)
				if (overlaps(&pools[i].pfx[q], &p[j]))
					err = fail(-EEXIST, "%s/%u overlaps %s/%u of pool %s",
						   ip(a, p[j].base), p[j].plen,
						   ip(b, pools[i].pfx[q].base),
						   pools[i].pfx[q].plen,
						   pools[i].name);
	}
	free(pools);
	if (err) {
		store_kvs_free(&kvs);
		return err;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		snprintf(e, sizeof(e), "%s/%u", ip(a, p[i].base), p[i].plen);
		json_object_array_add(arr, json_object_new_string(e));
	}
	json_object_object_add(o, "prefixes", arr);
	t = store_txn_new();
	store_txn_cmp(t, kpool(k, name), NULL, STORE_CREATE, STORE_EQUAL, 0);
	/* No other pool came since the read. */
	head(h, "pools", 0);
	store_txn_cmp(t, h, store_prefix_end(e, sizeof(e), h), STORE_CREATE,
		      STORE_LESS, kvs.rev + 1);
	store_txn_put(t, k, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	store_kvs_free(&kvs);
	return commit(t);
}

/* The VPNs of @pool (and the addresses they use) from a read of all. */
static int pool_users(const char *pool, uint32_t *nvpns, uint32_t *used,
		      int64_t *rev)
{
	char h[KEY_MAX];
	struct store_kvs v, b;
	struct vpn_rec rec;
	struct vblocks vb;
	size_t i;
	int err, j;

	*nvpns = *used = 0;
	err = rd_prefix(head(h, "vpns", 0), &v);
	if (err)
		return err;
	*rev = v.rev;
	for (i = 0; !err && i < v.n; i++) {
		err = vpn_parse(&v.kv[i], &rec);
		if (err || strcmp(rec.pool, pool))
			continue;
		(*nvpns)++;
		err = rd_prefix(head(h, "vpn-blocks", rec.id), &b);
		if (!err)
			err = vblocks_parse(&b, &vb);
		for (j = 0; !err && j < vb.n; j++)
			*used += vb.b[j].used;
		if (!err)
			free(vb.b);
		store_kvs_free(&b);
	}
	store_kvs_free(&v);
	return err;
}

static int pool_del(const struct req *r, void *data)
{
	struct pool_rec pool;
	struct store_kvs kvs;
	struct store_txn *t;
	char k[KEY_MAX], h[KEY_MAX], e[KEY_MAX];
	uint32_t nvpns, used;
	int64_t rev;
	int err;

	(void)data;
	if (!has(r, RNAT_A_POOL))
		return missing("pool name");
	err = get_pool(str(r, RNAT_A_POOL), &kvs, &pool);
	if (!err)
		err = pool_users(pool.name, &nvpns, &used, &rev);
	if (!err && nvpns)
		err = fail(-EBUSY, "pool %s is used by %u VPNs (%u addresses mapped)",
			   pool.name, nvpns, used);
	if (err) {
		store_kvs_free(&kvs);
		return err;
	}
	t = store_txn_new();
	store_txn_cmp(t, kpool(k, pool.name), NULL, STORE_MOD, STORE_EQUAL,
		      pool.mod_rev);
	head(h, "vpns", 0);
	store_txn_cmp(t, h, store_prefix_end(e, sizeof(e), h), STORE_CREATE,
		      STORE_LESS, rev + 1);
	store_txn_del(t, k, NULL);
	store_kvs_free(&kvs);
	return commit(t);
}

/* Every block of the region (owners) and every VPN's (use), at one revision. */
struct blockmap {
	struct store_kvs owners, uses;
};

static void pool_figures(const struct pool_rec *p, const struct blockmap *m,
			 uint32_t *size, uint32_t *used, uint32_t *owned)
{
	struct pfx b;
	size_t i;
	int j;

	*size = *used = *owned = 0;
	for (j = 0; j < p->n; j++)
		*size += psize(&p->pfx[j]);
	for (i = 0; i < m->owners.n; i++)
		if (!key_pfx(m->owners.kv[i].key, &b) && pool_has(p, &b))
			*owned += psize(&b);
	for (i = 0; i < m->uses.n; i++) {
		json_object *o = jparse(m->uses.kv[i].val);

		if (!key_pfx(m->uses.kv[i].key, &b) && pool_has(p, &b) &&
		    jint(o, "used") > 0)
			*used += jint(o, "used");
		json_object_put(o);
	}
}

static void pool_put(struct nlmsghdr *nlh, const struct pool_rec *p,
		     const struct blockmap *m)
{
	uint32_t size, used, owned;

	mnl_attr_put_strz(nlh, RNAT_A_POOL, p->name);
	put_prefixes(nlh, RNAT_A_POOL_PREFIXES, p->pfx, p->n);
	if (!m)
		return;
	pool_figures(p, m, &size, &used, &owned);
	mnl_attr_put_u32(nlh, RNAT_A_POOL_SIZE, size);
	mnl_attr_put_u32(nlh, RNAT_A_POOL_USED, used);
	mnl_attr_put_u32(nlh, RNAT_A_POOL_OWNED, owned);
}

static int read_blockmap(struct blockmap *m)
{
	char h[KEY_MAX];
	int err = rd_prefix(head(h, "blocks", 0), &m->owners);

	if (err)
		return err;
	err = rd_prefix(head(h, "vpn-blocks", 0), &m->uses);
	if (err)
		store_kvs_free(&m->owners);
	return err;
}

static int pool_get(const struct req *r, nl_reply_cb cb, void *data)
{
	const char *only = has(r, RNAT_A_POOL) ? str(r, RNAT_A_POOL) : NULL;
	struct pool_rec *pools;
	struct store_kvs kvs;
	struct blockmap m;
	int np, i, err, found = 0;

	err = all_pools(&kvs, &pools, &np);
	if (!err && !pinned)
		pinned = kvs.rev;	/* the figures at the same revision */
	if (!err)
		err = read_blockmap(&m);
	if (err) {
		free(pools);
		store_kvs_free(&kvs);
		return err;
	}
	for (i = 0; !err && i < np; i++) {
		struct nlmsghdr *nlh;

		if (only && strcmp(only, pools[i].name))
			continue;
		found = 1;
		nlh = reply(RNAT_CMD_POOL_GET);
		pool_put(nlh, &pools[i], &m);
		err = deliver(nlh, cb, data);
	}
	store_kvs_free(&m.owners);
	store_kvs_free(&m.uses);
	if (!err && only && !found)
		err = fail(-ENOENT, "no pool %s", only);
	free(pools);
	store_kvs_free(&kvs);
	return err;
}

/* ---- VPNs ---- */

/* A caller's reads, after get_vpn()'s, in the same transaction. */
typedef void (*more_reads)(struct store_txn *t, const void *arg);

/*
 * Reads VPN @id (*@v) and its blocks (@vb) into @r[0] and @r[1], and what
 * @more adds into @r[2..@n): 0, -ENOENT or an error.
 */
static int get_vpn(uint32_t id, struct vpn_rec *v, struct vblocks *vb,
		   struct store_kvs *r, int n, more_reads more,
		   const void *arg)
{
	struct store_txn *t = store_txn_new();
	char k[KEY_MAX], e[KEY_MAX];
	int err;

	store_txn_get(t, kvpn(k, id), NULL, false);
	head(k, "vpn-blocks", id);
	store_txn_get(t, k, store_prefix_end(e, sizeof(e), k), false);
	if (more)
		more(t, arg);
	err = multi(t, r, n);
	if (err)
		return err;
	vb->b = NULL;
	vb->n = 0;
	if (!r[0].n)
		return fail(-ENOENT, "no VPN %u", id);
	err = vpn_parse(&r[0].kv[0], v);
	if (!err)
		err = vblocks_parse(&r[1], vb);
	return err;
}

/*
 * The read of a change that makes or needs blocks: every pool (for the
 * messages and merges), its own pool's record, and the blocks within it.
 */
struct poolview {
	struct store_kvs kvs, blocks;
	struct pool_rec rec;
};

static int poolview_read(const char *name, struct poolview *pv)
{
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX];
	struct store_kvs part;
	struct store_kv *kv;
	int err = get_pool(name, &pv->kvs, &pv->rec), i;

	memset(&pv->blocks, 0, sizeof(pv->blocks));
	if (err)
		return err;
	/* The blocks within each of its prefixes, at the pool's revision. */
	head(h, "blocks", 0);
	for (i = 0; i < pv->rec.n; i++) {
		kspan(k, e, h, &pv->rec.pfx[i]);
		err = store_range(k, e, pv->kvs.rev, false, &part);
		if (err)
			return store_fail(err);
		kv = realloc(pv->blocks.kv,
			     (pv->blocks.n + part.n + 1) * sizeof(*kv));
		if (!kv)
			abort();
		pv->blocks.kv = kv;
		memcpy(kv + pv->blocks.n, part.kv, part.n * sizeof(*kv));
		pv->blocks.n += part.n;
		free(part.kv);
	}
	return 0;
}

static void poolview_free(struct poolview *pv)
{
	store_kvs_free(&pv->kvs);
	store_kvs_free(&pv->blocks);
}

/* The first block overlapping @p in the pool view, with its owner. */
static bool owned_in(const struct poolview *pv, const struct vblocks *mine,
		     const struct pfx *p, struct pfx *b, uint32_t *owner)
{
	uint32_t best = UINT32_MAX;
	bool found = false;
	struct pfx x;
	size_t i;
	int j;

	for (i = 0; i < pv->blocks.n; i++) {
		json_object *o;

		if (key_pfx(pv->blocks.kv[i].key, &x) || !overlaps(&x, p))
			continue;
		if ((x.base > p->base ? x.base : p->base) >= best && found)
			continue;
		o = jparse(pv->blocks.kv[i].val);
		best = x.base > p->base ? x.base : p->base;
		*b = x;
		*owner = jint(o, "vpn");
		json_object_put(o);
		found = true;
	}
	/* Blocks this change already made. */
	for (j = 0; mine && j < mine->n; j++) {
		const struct vblock *v = &mine->b[j];

		if (v->mod_rev || v->gone || !overlaps(&v->p, p))
			continue;
		if (!found || (v->p.base > p->base ? v->p.base : p->base) < best) {
			best = v->p.base > p->base ? v->p.base : p->base;
			*b = v->p;
			*owner = 0;	/* the caller's own */
			found = true;
		}
	}
	return found;
}

/* vpn add's "blocks": rnat_cfg_vpn_block_add() for each. */
static int vpn_blocks_claim(const struct vpn_rec *v, struct vblocks *vb,
			    const struct pfx *p, int n, struct poolview *pv)
{
	char a[16], b[16];
	uint32_t owner;
	struct pfx x;
	int i;

	for (i = 0; i < n; i++) {
		if ((p[i].base & ~mask(p[i].plen)) || !pool_has(&pv->rec, &p[i]))
			return fail(-EINVAL, "block %s/%u is not a prefix of pool %s",
				    ip(a, p[i].base), p[i].plen, v->pool);
		if (owned_in(pv, vb, &p[i], &x, &owner))
			return fail(-EEXIST, "block %s/%u overlaps block %s/%u of VPN %u",
				    ip(a, p[i].base), p[i].plen, ip(b, x.base),
				    x.plen, owner ? owner : v->id);
		vblock_merge(vb, vblock_add(vb, &p[i]), &pv->rec);
	}
	return 0;
}

static int vpn_new(const struct req *r, void *data)
{
	struct pfx p[VPN_BLOCKS_MAX];
	struct store_kvs kv[3];
	struct vblocks vb = { NULL, 0 };
	struct poolview pv;
	struct store_txn *t;
	struct vpn_rec v;
	char k[KEY_MAX], id[16], *val;
	int n = 0, err;

	(void)data;
	if (!has(r, RNAT_A_VPN_ID))
		return missing("VPN id");
	if (!has(r, RNAT_A_POOL))
		return missing("pool name");
	memset(&v, 0, sizeof(v));
	memset(&pv, 0, sizeof(pv));
	v.id = u32(r, RNAT_A_VPN_ID);
	snprintf(v.pool, sizeof(v.pool), "%s", str(r, RNAT_A_POOL));
	if (has(r, RNAT_A_VPN_NAME))
		snprintf(v.name, sizeof(v.name), "%s", str(r, RNAT_A_VPN_NAME));
	else
		snprintf(v.name, sizeof(v.name), "vpn%u", v.id);
	if (has(r, RNAT_A_IFINDEX) && region_dev_name(u32(r, RNAT_A_IFINDEX)))
		snprintf(v.dev, sizeof(v.dev), "%s",
			 region_dev_name(u32(r, RNAT_A_IFINDEX)));
	req_mark(r->tb[RNAT_A_VPN_MARK], &v.mark);
	req_mark(r->tb[RNAT_A_VPN_OUT_MARK], &v.out_mark);
	if (has(r, RNAT_A_VPN_BLOCKS)) {
		n = req_prefixes(r->tb[RNAT_A_VPN_BLOCKS], p, VPN_BLOCKS_MAX);
		if (n < 0)
			return fail(-EINVAL, "malformed blocks");
	}
	t = store_txn_new();
	store_txn_get(t, kvpn(k, v.id), NULL, false);
	store_txn_get(t, kpool(k, v.pool), NULL, false);
	store_txn_get(t, kname(k, v.name), NULL, false);
	err = multi(t, kv, 3);
	if (err)
		return err;
	if (kv[0].n)
		err = fail(-EEXIST, "VPN %u already exists", v.id);
	else if (!kv[1].n)
		err = fail(-ENOENT, "no pool %s", v.pool);
	else if (kv[2].n)
		err = fail(-EEXIST, "VPN name %s is already used", v.name);
	if (!err && n) {
		err = poolview_read(v.pool, &pv);
		if (!err)
			err = vpn_blocks_claim(&v, &vb, p, n, &pv);
	}
	if (err)
		goto out;
	t = store_txn_new();
	store_txn_cmp(t, kvpn(k, v.id), NULL, STORE_CREATE, STORE_EQUAL, 0);
	store_txn_cmp(t, kname(k, v.name), NULL, STORE_CREATE, STORE_EQUAL, 0);
	if (n) {
		store_txn_cmp(t, kpool(k, v.pool), NULL, STORE_MOD, STORE_EQUAL,
			      pv.rec.mod_rev);
		store_txn_put(t, k, pv.rec.json);
		vblocks_commit(t, v.id, &vb);
	} else {
		store_txn_cmp(t, kpool(k, v.pool), NULL, STORE_CREATE,
			      STORE_EQUAL, kv[1].kv[0].create_rev);
	}
	val = vpn_json(&v, PLACE);
	store_txn_put(t, kvpn(k, v.id), val);
	free(val);
	snprintf(id, sizeof(id), "%u", v.id);
	store_txn_put(t, kname(k, v.name), id);
	err = commit(t);
out:
	free(vb.b);
	poolview_free(&pv);
	kvs_free(kv, 3);
	return err;
}

static void name_read(struct store_txn *t, const void *name)
{
	char k[KEY_MAX];

	if (name)
		store_txn_get(t, kname(k, name), NULL, false);
}

static int vpn_set(const struct req *r, void *data)
{
	struct store_kvs kv[3];
	struct vblocks vb;
	struct store_txn *t;
	struct vpn_rec v;
	char k[KEY_MAX], id[16], old[RNAT_NAME_MAX], *val;
	const char *dev;
	bool placing;
	int err;

	(void)data;
	if (!has(r, RNAT_A_VPN_ID))
		return missing("VPN id");
	err = get_vpn(u32(r, RNAT_A_VPN_ID), &v, &vb, kv, 3, name_read,
		      has(r, RNAT_A_VPN_NAME) ? str(r, RNAT_A_VPN_NAME) : NULL);
	free(vb.b);
	if (err)
		goto out;
	snprintf(old, sizeof(old), "%s", v.name);
	if (has(r, RNAT_A_VPN_NAME)) {
		snprintf(v.name, sizeof(v.name), "%s", str(r, RNAT_A_VPN_NAME));
		if (strcmp(old, v.name) && kv[2].n) {
			err = fail(-EEXIST, "VPN name %s is already used", v.name);
			goto out;
		}
	}
	/* A new name alone is the region's: no placement is made for it. */
	placing = has(r, RNAT_A_IFINDEX) || has(r, RNAT_A_VPN_MARK) ||
		  has(r, RNAT_A_VPN_OUT_MARK);
	if (!placing && !v.placed) {
		err = fail(-ENOENT, "no VPN %u", v.id);
		goto out;
	}
	if (has(r, RNAT_A_IFINDEX)) {
		dev = region_dev_name(u32(r, RNAT_A_IFINDEX));
		snprintf(v.dev, sizeof(v.dev), "%s", dev ? dev : "");
	}
	if (has(r, RNAT_A_VPN_MARK))
		req_mark(r->tb[RNAT_A_VPN_MARK], &v.mark);
	if (has(r, RNAT_A_VPN_OUT_MARK))
		req_mark(r->tb[RNAT_A_VPN_OUT_MARK], &v.out_mark);
	t = store_txn_new();
	store_txn_cmp(t, kvpn(k, v.id), NULL, STORE_MOD, STORE_EQUAL, v.mod_rev);
	val = vpn_json(&v, placing ? PLACE : KEEP);
	store_txn_put(t, k, val);
	free(val);
	if (strcmp(old, v.name)) {
		store_txn_cmp(t, kname(k, v.name), NULL, STORE_CREATE,
			      STORE_EQUAL, 0);
		snprintf(id, sizeof(id), "%u", v.id);
		store_txn_put(t, k, id);
		store_txn_del(t, kname(k, old), NULL);
	}
	err = commit(t);
out:
	kvs_free(kv, 3);
	return err;
}

/* The count of a VPN's mappings, after get_vpn()'s reads. */
static void count_reads(struct store_txn *t, const void *arg)
{
	char k[KEY_MAX], e[KEY_MAX];

	head(k, "maps", *(const uint32_t *)arg);
	store_txn_get(t, k, store_prefix_end(e, sizeof(e), k), true);
}

/*
 * vpn del (@del) and map flush: the VPN's mappings, NAT index entries and
 * blocks go (and with vpn del the VPN and its name); *@data is how many
 * mappings went.
 */
static int vpn_drop(const struct req *r, uint32_t *count, bool del)
{
	struct store_kvs kv[3], pk;
	struct pool_rec pool;
	struct vblocks vb;
	struct store_txn *t;
	struct vpn_rec v;
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX];
	uint32_t id;
	int i, err;

	if (!has(r, RNAT_A_VPN_ID))
		return missing("VPN id");
	id = u32(r, RNAT_A_VPN_ID);
	memset(&pk, 0, sizeof(pk));
	err = get_vpn(id, &v, &vb, kv, 3, count_reads, &id);
	if (!err && !v.placed)
		err = fail(-ENOENT, "no VPN %u", id);
	if (!err && vb.n)
		err = get_pool(v.pool, &pk, &pool);
	if (err)
		goto out;
	*count = kv[2].count;
	t = store_txn_new();
	store_txn_cmp(t, kvpn(k, id), NULL, del ? STORE_MOD : STORE_CREATE,
		      STORE_EQUAL, del ? v.mod_rev : v.create_rev);
	/* No block of the VPN was made or changed since the read. */
	head(h, "vpn-blocks", id);
	store_txn_cmp(t, h, store_prefix_end(e, sizeof(e), h), STORE_MOD,
		      STORE_LESS, kv[0].rev + 1);
	head(h, "maps", id);
	store_txn_del(t, h, store_prefix_end(e, sizeof(e), h));
	for (i = 0; i < vb.n; i++) {
		kspan(k, e, head(h, "nat", 0), &vb.b[i].p);
		store_txn_del(t, k, e);
		store_txn_del(t, kblock(k, &vb.b[i].p), NULL);
	}
	head(h, "vpn-blocks", id);
	store_txn_del(t, h, store_prefix_end(e, sizeof(e), h));
	if (vb.n) {
		store_txn_cmp(t, kpool(k, pool.name), NULL, STORE_MOD,
			      STORE_EQUAL, pool.mod_rev);
		store_txn_put(t, k, pool.json);
	}
	if (del) {
		store_txn_del(t, kvpn(k, id), NULL);
		store_txn_del(t, kname(k, v.name), NULL);
	}
	err = commit(t);
out:
	free(vb.b);
	store_kvs_free(&pk);
	kvs_free(kv, 3);
	return err;
}

/*
 * vpn del with a gateway: its placement goes, the VPN and its mappings
 * stay in the region (and on the gateways it is placed on).
 */
static int vpn_unplace(const struct req *r)
{
	struct store_kvs kv[2];
	struct vblocks vb;
	struct store_txn *t;
	struct vpn_rec v;
	char k[KEY_MAX], *val;
	int err;

	if (!has(r, RNAT_A_VPN_ID))
		return missing("VPN id");
	err = get_vpn(u32(r, RNAT_A_VPN_ID), &v, &vb, kv, 2, NULL, NULL);
	free(vb.b);
	if (!err && !v.own)
		err = fail(-ENOENT, "VPN %u has no placement on gateway %s",
			   v.id, gw);
	if (!err) {
		t = store_txn_new();
		store_txn_cmp(t, kvpn(k, v.id), NULL, STORE_MOD, STORE_EQUAL,
			      v.mod_rev);
		val = vpn_json(&v, UNPLACE);
		store_txn_put(t, k, val);
		free(val);
		err = commit(t);
	}
	kvs_free(kv, 2);
	return err;
}

static int vpn_del(const struct req *r, void *data)
{
	if (gw[0]) {
		*(uint32_t *)data = 0;
		return vpn_unplace(r);
	}
	return vpn_drop(r, data, true);
}

static int map_flush(const struct req *r, void *data)
{
	return vpn_drop(r, data, false);
}

static int vpn_get(const struct req *r, nl_reply_cb cb, void *data)
{
	bool dump = (r->flags & NLM_F_DUMP) == NLM_F_DUMP;
	struct store_kvs vpns, blocks, cnt;
	struct vpn_rec v;
	struct pfx *bl = NULL;
	char k[KEY_MAX], h[KEY_MAX], e[KEY_MAX];
	size_t i, j = 0;
	int err, nb;

	if (!dump && !has(r, RNAT_A_VPN_ID))
		return missing("VPN id");
	if (has(r, RNAT_A_VPN_ID))
		err = rd(kvpn(k, u32(r, RNAT_A_VPN_ID)), NULL, &vpns);
	else
		err = rd_prefix(head(h, "vpns", 0), &vpns);
	if (err)
		return err;
	if (!pinned)
		pinned = vpns.rev;
	if (!dump && !vpns.n) {
		store_kvs_free(&vpns);
		return fail(-ENOENT, "no VPN %u", u32(r, RNAT_A_VPN_ID));
	}
	err = rd_prefix(head(h, "vpn-blocks", 0), &blocks);
	if (err) {
		store_kvs_free(&vpns);
		return err;
	}
	bl = calloc(blocks.n + 1, sizeof(*bl));
	if (!bl)
		abort();
	for (i = 0; !err && i < vpns.n; i++) {
		struct nlmsghdr *nlh;

		err = vpn_parse(&vpns.kv[i], &v);
		if (err)
			break;
		if (!v.placed) {
			if (!dump)
				err = fail(-ENOENT, "no VPN %u", v.id);
			continue;
		}
		/* Its blocks: vpn-blocks/ID/ sorts as vpns/ID does. */
		head(h, "vpn-blocks", v.id);
		nb = 0;
		while (j < blocks.n && strcmp(blocks.kv[j].key, h) < 0)
			j++;
		while (j < blocks.n && !strncmp(blocks.kv[j].key, h, strlen(h)))
			if (!key_pfx(blocks.kv[j++].key, &bl[nb]))
				nb++;
		head(h, "maps", v.id);
		err = store_range(h, store_prefix_end(e, sizeof(e), h), pinned,
				  true, &cnt);
		if (err) {
			err = store_fail(err);
			break;
		}
		nlh = reply(RNAT_CMD_VPN_GET);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, v.id);
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, v.name);
		mnl_attr_put_strz(nlh, RNAT_A_POOL, v.pool);
		if (v.dev[0])
			mnl_attr_put_u32(nlh, RNAT_A_IFINDEX,
					 region_dev_index(v.dev));
		if (v.mark.mask)
			mark_put(nlh, RNAT_A_VPN_MARK, &v.mark);
		if (v.out_mark.mask)
			mark_put(nlh, RNAT_A_VPN_OUT_MARK, &v.out_mark);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, cnt.count);
		store_kvs_free(&cnt);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_NBLOCKS, nb);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_BLOCKS_FIRST, 0);
		put_prefixes(nlh, RNAT_A_VPN_BLOCKS, bl, nb);
		err = deliver(nlh, cb, data);
	}
	free(bl);
	store_kvs_free(&blocks);
	store_kvs_free(&vpns);
	return err;
}

/* ---- mappings ---- */

/*
 * The lowest free aligned /@plen of @span, given the prefixes in use there
 * (@used, in address order): 0 with *@out, or -1 if there is none. Like
 * bitmap_find_next_zero_area() on the kernel's pool bitmaps.
 */
static int lowest_free(const struct pfx *span, const struct pfx *used, int n,
		       uint8_t plen, struct pfx *out)
{
	uint64_t size = 1ull << (32 - plen), pos = span->base,
		 end = (uint64_t)plast(span) + 1;
	int i;

	for (i = 0; i < n && pos + size <= end; i++) {
		uint64_t s = used[i].base, e = (uint64_t)plast(&used[i]) + 1;

		if (e <= pos)
			continue;
		if (pos + size <= s)
			break;
		pos = (e + size - 1) & ~(size - 1);
	}
	if (pos + size > end)
		return -1;
	out->base = pos;
	out->plen = plen;
	return 0;
}

/* The prefixes of the keys of @r that overlap @span, in address order. */
static int keys_in(const struct store_kvs *r, const struct pfx *span,
		   struct pfx **out)
{
	int n = 0;
	size_t i;

	*out = calloc(r->n + 1, sizeof(**out));
	if (!*out)
		abort();
	for (i = 0; i < r->n; i++)
		if (!key_pfx(r->kv[i].key, &(*out)[n]) &&
		    overlaps(&(*out)[n], span))
			n++;
	return n;
}

/* The NAT index entries within @span (the block or prefix looked at). */
static int nat_read(const struct pfx *span, struct store_kvs *r)
{
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX];

	kspan(k, e, head(h, "nat", 0), span);
	return rd(k, e, r);
}

/*
 * rnat_cfg_nat_owner(): names the mapping holding the first address of @p
 * in use, from the NAT index entries @nats read around it.
 */
static int nat_owner(const struct store_kvs *nats, const struct pfx *p)
{
	uint32_t best = 0, vpn = 0, real = 0, first;
	char a[16], b[16];
	bool found = false;
	struct pfx x;
	size_t i;

	for (i = 0; i < nats->n; i++) {
		if (key_pfx(nats->kv[i].key, &x) || !overlaps(&x, p))
			continue;
		first = x.base > p->base ? x.base : p->base;
		if (found && first >= best)
			continue;
		if (nat_val(&nats->kv[i], &vpn, &real))
			return -EPROTO;
		best = first;
		found = true;
	}
	if (!found)
		return fail(-EEXIST, "NAT %s is already in use", ip(a, p->base));
	return fail(-EEXIST, "NAT %s is already mapped to %s in VPN %u",
		    ip(a, best), ip(b, real), vpn);
}

/* What map add asked for, and what it got. */
struct mreq {
	uint32_t id, real, nat;
	uint8_t plen;
	bool has_nat;
	char pool[RNAT_NAME_MAX];
};

/* map add's reads after the VPN: its mappings inside the real prefix, and
 * each shorter one that would hold it.
 */
static void real_reads(struct store_txn *t, const void *arg)
{
	const struct mreq *m = arg;
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX];
	struct pfx p = { m->real, m->plen };
	unsigned int l;

	kspan(k, e, head(h, "maps", m->id), &p);
	store_txn_get(t, k, e, false);
	for (l = RNAT_MAP_PLEN_MIN; l < m->plen; l++) {
		p.base = m->real & mask(l);
		p.plen = l;
		store_txn_get(t, kmap(k, m->id, &p), NULL, false);
	}
}

static int map_nat_of(const struct store_kv *kv, uint32_t *nat)
{
	json_object *o = jparse(kv->val);
	int err = 0;

	if (!o || parse_ip(jstr(o, "nat"), nat))
		err = fail(-EPROTO, "malformed %s in the store", kv->key);
	json_object_put(o);
	return err;
}

/* rnat_cfg_map_check()'s overlap and map add's "already mapped". */
static int real_check(const struct mreq *m, const struct store_kvs *kv)
{
	char a[16], b[16], c[16];
	const struct store_kv *hit = NULL;
	struct pfx x;
	uint32_t nat;
	int other;
	size_t i;

	/* As the kernel looks: the longest other length first. */
	for (other = 32; other >= RNAT_MAP_PLEN_MIN && !hit; other--) {
		if (other == m->plen)
			continue;
		if (other < m->plen) {
			if (kv[3 + other - RNAT_MAP_PLEN_MIN].n)
				hit = &kv[3 + other - RNAT_MAP_PLEN_MIN].kv[0];
			continue;
		}
		for (i = 0; i < kv[2].n && !hit; i++)
			if (!key_pfx(kv[2].kv[i].key, &x) && x.plen == other)
				hit = &kv[2].kv[i];
	}
	if (hit) {
		if (key_pfx(hit->key, &x) || map_nat_of(hit, &nat))
			return -EPROTO;
		return fail(-EEXIST, "%s/%u overlaps %s/%u, mapped in VPN %u to %s",
			    ip(a, m->real), m->plen, ip(b, x.base), x.plen,
			    m->id, ip(c, nat));
	}
	for (i = 0; i < kv[2].n; i++) {
		if (key_pfx(kv[2].kv[i].key, &x) || x.plen != m->plen)
			continue;
		if (map_nat_of(&kv[2].kv[i], &nat))
			return -EPROTO;
		return fail(-EEXIST, "%s/%u is already mapped in VPN %u to %s",
			    ip(a, m->real), m->plen, m->id, ip(b, nat));
	}
	return 0;
}

/* rnat_cfg_nat_alloc(): the lowest free /plen of the VPN's blocks, or of a
 * new one. Returns the block, with *@natp; *@pv read if a block is made.
 */
static struct vblock *nat_alloc(const struct mreq *m, struct vblocks *vb,
				struct poolview *pv, bool *pv_read,
				struct pfx *natp, int *err)
{
	uint32_t nr = 1u << (32 - m->plen), held = 0;
	struct store_kvs nats;
	struct pfx *used, np;
	int i, n, bplen, j;

	for (i = 0; i < vb->n; i++) {
		struct vblock *b = &vb->b[i];

		if (psize(&b->p) - b->used < nr)
			continue;
		*err = nat_read(&b->p, &nats);
		if (*err)
			return NULL;
		n = keys_in(&nats, &b->p, &used);
		j = lowest_free(&b->p, used, n, m->plen, natp);
		free(used);
		store_kvs_free(&nats);
		if (!j)
			return b;
	}
	/* rnat_block_grow(): as large as all the VPN holds, /32 to /24. */
	*err = poolview_read(m->pool, pv);
	*pv_read = true;
	if (*err)
		return NULL;
	for (i = 0; i < vb->n; i++)
		held += psize(&vb->b[i].p);
	for (bplen = 32; held > 1 && (1u << (32 - bplen)) <= held / 2; bplen--)
		;
	if (bplen < RNAT_BLOCK_PLEN_MIN)
		bplen = RNAT_BLOCK_PLEN_MIN;
	if (bplen > m->plen)
		bplen = m->plen;
	for (; bplen <= m->plen; bplen++) {
		for (i = 0; i < pv->rec.n; i++) {
			n = keys_in(&pv->blocks, &pv->rec.pfx[i], &used);
			j = lowest_free(&pv->rec.pfx[i], used, n, bplen, &np);
			free(used);
			if (!j)
				break;
		}
		if (i < pv->rec.n)
			break;
	}
	if (bplen > m->plen) {
		*err = fail(-ENOSPC, "pool %s has no free /%u left", m->pool,
			    m->plen);
		return NULL;
	}
	natp->base = np.base;
	natp->plen = m->plen;
	return vblock_add(vb, &np);
}

/* rnat_cfg_nat_take(): the NAT prefix the operator named, for the VPN. */
static struct vblock *nat_take(const struct mreq *m, struct vblocks *vb,
			       struct poolview *pv, const struct pfx *p,
			       int *err)
{
	struct pool_rec *pools;
	struct store_kvs all, nats;
	const char *other = NULL;
	char a[16], b[16];
	struct vblock *blk;
	uint32_t owner;
	struct pfx x;
	int np, i;

	*err = poolview_read(m->pool, pv);
	if (*err)
		return NULL;
	if (!pool_has(&pv->rec, p)) {
		struct pfx one = { p->base, 32 };

		*err = all_pools(&all, &pools, &np);
		for (i = 0; !*err && i < np && !other; i++)
			if (pool_has(&pools[i], &one))
				other = pools[i].name;
		if (!*err)
			*err = fail(-EINVAL, "NAT %s/%u is not in pool %s%s%s",
				    ip(a, p->base), p->plen, m->pool,
				    other ? " but in " : "", other ? other : "");
		free(pools);
		store_kvs_free(&all);
		return NULL;
	}
	if (!owned_in(pv, NULL, p, &x, &owner))
		return vblock_add(vb, p);	/* nobody's: a block of its own */
	*err = nat_read(&x, &nats);
	if (*err)
		return NULL;
	if (owner != m->id) {
		struct pfx *used;
		int n = keys_in(&nats, p, &used);

		free(used);
		if (n)
			*err = nat_owner(&nats, p);
		else
			*err = fail(-EEXIST, "NAT %s is in block %s/%u of VPN %u",
				    ip(a, p->base), ip(b, x.base), x.plen,
				    owner);
		store_kvs_free(&nats);
		return NULL;
	}
	blk = vblock_of(vb, x.base);
	if (!blk || !contains(&blk->p, p)) {
		*err = blk ? fail(-EEXIST, "NAT %s/%u straddles the edge of block %s/%u",
				  ip(a, p->base), p->plen, ip(b, x.base), x.plen) :
			     fail(-EPROTO, "block %s/%u of VPN %u is missing from its list in the store",
				  ip(b, x.base), x.plen, m->id);
		store_kvs_free(&nats);
		return NULL;
	}
	{
		struct pfx *used;
		int n = keys_in(&nats, p, &used);

		free(used);
		if (n) {
			*err = nat_owner(&nats, p);
			blk = NULL;
		}
	}
	store_kvs_free(&nats);
	return blk;
}

static int map_new(const struct req *r, void *data)
{
	struct mreq *m = data;
	struct store_kvs kv[3 + 32];
	struct poolview pv;
	struct vblocks vb;
	struct store_txn *t;
	struct vpn_rec v;
	struct vblock *b;
	struct pfx natp, p;
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX], val[64], a[16];
	bool pv_read = false, created;
	int n, err, l;

	(void)r;
	memset(&pv, 0, sizeof(pv));
	n = 3 + (m->plen > RNAT_MAP_PLEN_MIN ? m->plen - RNAT_MAP_PLEN_MIN : 0);
	err = get_vpn(m->id, &v, &vb, kv, n, real_reads, m);
	if (!err && !v.placed)
		err = fail(-ENOENT, "no VPN %u", m->id);
	if (err)
		goto out;
	snprintf(m->pool, sizeof(m->pool), "%s", v.pool);
	if (m->real & ~mask(m->plen)) {
		err = fail(-EINVAL, "real prefix %s/%u has host bits set",
			   ip(a, m->real), m->plen);
		goto out;
	}
	if (m->has_nat && (m->nat & ~mask(m->plen))) {
		err = fail(-EINVAL, "NAT prefix %s/%u has host bits set",
			   ip(a, m->nat), m->plen);
		goto out;
	}
	err = real_check(m, kv);
	if (err)
		goto out;
	if (m->has_nat) {
		natp.base = m->nat;
		natp.plen = m->plen;
		pv_read = true;
		created = false;
		b = nat_take(m, &vb, &pv, &natp, &err);
		if (b)
			created = !b->mod_rev && !b->used;
	} else {
		b = nat_alloc(m, &vb, &pv, &pv_read, &natp, &err);
		created = b && !b->mod_rev && !b->used;
	}
	if (!b)
		goto out;
	b->used += psize(&natp);
	/* Only once the mapping is in: rnat_block_merge() after insertion. */
	if (created)
		vblock_merge(&vb, b, &pv.rec);
	m->nat = natp.base;

	t = store_txn_new();
	store_txn_cmp(t, kvpn(k, m->id), NULL, STORE_CREATE, STORE_EQUAL,
		      v.create_rev);
	p.base = m->real;
	p.plen = m->plen;
	kspan(k, e, head(h, "maps", m->id), &p);
	store_txn_cmp(t, k, e, STORE_CREATE, STORE_EQUAL, 0);
	for (l = RNAT_MAP_PLEN_MIN; l < m->plen; l++) {
		struct pfx q = { m->real & mask(l), l };

		store_txn_cmp(t, kmap(k, m->id, &q), NULL, STORE_CREATE,
			      STORE_EQUAL, 0);
	}
	kspan(k, e, head(h, "nat", 0), &natp);
	store_txn_cmp(t, k, e, STORE_CREATE, STORE_EQUAL, 0);
	/* Blocks come or go only where the pool was read (pv_read). */
	if (vblocks_commit(t, m->id, &vb) && pv_read) {
		store_txn_cmp(t, kpool(k, m->pool), NULL, STORE_MOD,
			      STORE_EQUAL, pv.rec.mod_rev);
		store_txn_put(t, k, pv.rec.json);
	}
	snprintf(val, sizeof(val), "{\"nat\":\"%s\"}", ip(a, natp.base));
	store_txn_put(t, kmap(k, m->id, &p), val);
	snprintf(val, sizeof(val), "{\"vpn\":%u,\"real\":\"%s\"}", m->id,
		 ip(a, m->real));
	store_txn_put(t, knat(k, &natp), val);
	err = commit(t);
out:
	free(vb.b);
	poolview_free(&pv);
	kvs_free(kv, n);
	return err;
}

/* The mapping a MAP_DEL or lookup names: rnat_map_named(). */
struct mref {
	uint32_t vpn, real, nat;
	uint8_t plen;
	int64_t map_mod, nat_mod;
};

/*
 * Finds the mapping @r names: exactly (its prefix, for del) or the one
 * holding the address (lookup). 0 with *@out, or -ENOENT and the message.
 */
static int map_named(const struct req *r, bool exact, struct mref *out)
{
	bool by_nat = has(r, RNAT_A_MAP_NAT);
	uint8_t plen = has(r, RNAT_A_MAP_PLEN) ?
		       mnl_attr_get_u8(r->tb[RNAT_A_MAP_PLEN]) : 32;
	uint32_t addr, id = 0;
	struct store_kvs kv[33];
	struct store_txn *t;
	struct pfx p;
	char k[KEY_MAX], a[16];
	int l, lo = exact ? plen : RNAT_MAP_PLEN_MIN, n = 0, err, i;

	if (by_nat == (has(r, RNAT_A_VPN_ID) && has(r, RNAT_A_MAP_REAL)))
		return fail(-EINVAL, "name a mapping by VPN id and real address, or by NAT address");
	addr = ntohl(u32(r, by_nat ? RNAT_A_MAP_NAT : RNAT_A_MAP_REAL));
	if (!by_nat)
		id = u32(r, RNAT_A_VPN_ID);
	t = store_txn_new();
	for (l = exact ? plen : 32; l >= lo; l--, n++) {
		p.base = addr & mask(l);
		p.plen = l;
		store_txn_get(t, by_nat ? knat(k, &p) : kmap(k, id, &p), NULL,
			      false);
	}
	err = multi(t, kv, n);
	for (i = 0; !err && i < n; i++) {
		const struct store_kv *hit = kv[i].n ? &kv[i].kv[0] : NULL;

		if (!hit)
			continue;
		if (key_pfx(hit->key, &p)) {
			err = fail(-EPROTO, "malformed %s in the store", hit->key);
			break;
		}
		out->plen = p.plen;
		if (by_nat) {
			out->nat = p.base;
			out->nat_mod = hit->mod_rev;
			err = nat_val(hit, &out->vpn, &out->real);
		} else {
			out->vpn = id;
			out->real = p.base;
			out->map_mod = hit->mod_rev;
			err = map_nat_of(hit, &out->nat);
		}
		kvs_free(kv, n);
		return err;
	}
	kvs_free(kv, n);
	if (err)
		return err;
	if (by_nat)
		return fail(-ENOENT, "no mapping for NAT %s", ip(a, addr));
	return fail(-ENOENT, "no mapping for %s in VPN %u", ip(a, addr), id);
}

/* map_named()'s refusal, for a mapping of a VPN not in the view. */
static int not_in_view(const struct req *r, const struct mref *m)
{
	char a[16];

	if (has(r, RNAT_A_MAP_NAT))
		return fail(-ENOENT, "no mapping for NAT %s",
			    ip(a, ntohl(u32(r, RNAT_A_MAP_NAT))));
	return fail(-ENOENT, "no mapping for %s in VPN %u",
		    ip(a, ntohl(u32(r, RNAT_A_MAP_REAL))), m->vpn);
}

static int map_del(const struct req *r, void *data)
{
	struct store_kvs kv[2], pk, other;
	struct pool_rec pool;
	struct vblocks vb;
	struct store_txn *t;
	struct vpn_rec v;
	struct mref m = { 0 };
	struct vblock *b;
	struct pfx real, nat;
	char k[KEY_MAX], a[16];
	int err;

	(void)data;
	memset(&pk, 0, sizeof(pk));
	memset(kv, 0, sizeof(kv));
	err = map_named(r, true, &m);
	if (err)
		return err;
	real.base = m.real;
	nat.base = m.nat;
	real.plen = nat.plen = m.plen;
	/* The other half of the pair, for its revision. */
	err = rd(m.map_mod ? knat(k, &nat) : kmap(k, m.vpn, &real), NULL, &other);
	if (err)
		return err;
	if (other.n) {
		if (m.map_mod)
			m.nat_mod = other.kv[0].mod_rev;
		else
			m.map_mod = other.kv[0].mod_rev;
	}
	store_kvs_free(&other);
	err = get_vpn(m.vpn, &v, &vb, kv, 2, NULL, NULL);
	if (!err && !v.placed)
		err = not_in_view(r, &m);
	if (err)
		goto out;
	b = vblock_of(&vb, m.nat);
	if (!b) {
		err = fail(-EPROTO, "NAT %s has no block of VPN %u in the store",
			   ip(a, m.nat), m.vpn);
		goto out;
	}
	b->used -= psize(&nat) < b->used ? psize(&nat) : b->used;
	if (!b->used) {
		b->gone = true;
		err = get_pool(v.pool, &pk, &pool);
		if (err)
			goto out;
	}
	t = store_txn_new();
	store_txn_cmp(t, kmap(k, m.vpn, &real), NULL, STORE_MOD, STORE_EQUAL,
		      m.map_mod);
	store_txn_del(t, k, NULL);
	store_txn_cmp(t, knat(k, &nat), NULL, STORE_MOD, STORE_EQUAL,
		      m.nat_mod);
	store_txn_del(t, k, NULL);
	if (vblocks_commit(t, m.vpn, &vb)) {
		store_txn_cmp(t, kpool(k, pool.name), NULL, STORE_MOD,
			      STORE_EQUAL, pool.mod_rev);
		store_txn_put(t, k, pool.json);
	}
	err = commit(t);
out:
	free(vb.b);
	store_kvs_free(&pk);
	kvs_free(kv, 2);
	return err;
}

static int map_lookup(const struct req *r, nl_reply_cb cb, void *data)
{
	static const int filters[] = {
		RNAT_A_POOL, RNAT_A_FILTER_NAT, RNAT_A_FILTER_REAL,
	};
	struct store_kvs kv;
	struct vpn_rec v;
	struct mref m;
	char k[KEY_MAX];
	unsigned int i;
	int err;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (has(r, filters[i]))
			return fail(-EINVAL, "filters apply to dumps only");
	err = map_named(r, false, &m);
	if (!err)
		err = rd(kvpn(k, m.vpn), NULL, &kv);
	if (err)
		return err;
	memset(&v, 0, sizeof(v));
	v.placed = true;
	if (kv.n)
		err = vpn_parse(&kv.kv[0], &v);
	store_kvs_free(&kv);
	if (!err && !v.placed)
		err = not_in_view(r, &m);
	if (err)
		return err;
	return map_reply(RNAT_CMD_MAP_GET, m.vpn, m.real, m.nat, m.plen, v.pool,
			 cb, data);
}

/* A filter prefix of a dump (RNAT_A_FILTER_*), or everything. */
static void filter_pfx(const struct req *r, int attr, struct pfx *p)
{
	struct prefix q;

	p->base = 0;
	p->plen = 0;
	if (has(r, attr) && !prefix_entry(r->tb[attr], &q)) {
		p->base = ntohl(q.addr);
		p->plen = q.len;
	}
}

/*
 * With a gateway, the ids of the VPNs in its view (in order) into *@ids:
 * 0 or an error. Without one, *@ids is NULL: every VPN is.
 */
static int view_read(uint32_t **ids, size_t *n)
{
	struct store_kvs vpns;
	struct vpn_rec v;
	char h[KEY_MAX];
	size_t i;
	int err;

	*ids = NULL;
	*n = 0;
	if (!gw[0])
		return 0;
	err = rd_prefix(head(h, "vpns", 0), &vpns);
	if (err)
		return err;
	*ids = calloc(vpns.n + 1, sizeof(**ids));
	if (!*ids)
		abort();
	for (i = 0; !err && i < vpns.n; i++) {
		err = vpn_parse(&vpns.kv[i], &v);
		if (!err && v.placed)
			(*ids)[(*n)++] = v.id;
	}
	store_kvs_free(&vpns);
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_view(const uint32_t *ids, size_t n, uint32_t id)
{
	return !gw[0] || bsearch(&id, ids, n, sizeof(*ids), cmp_u32);
}

/* Mappings in NAT address order, as the module dumps them. */
static int map_dump(const struct req *r, nl_reply_cb cb, void *data)
{
	const char *pool = has(r, RNAT_A_POOL) ? str(r, RNAT_A_POOL) : NULL;
	uint32_t vpn = has(r, RNAT_A_VPN_ID) ? u32(r, RNAT_A_VPN_ID) : 0, id,
		 real;
	struct pool_rec *pools;
	struct store_kvs pk, nats;
	char k[KEY_MAX], e[KEY_MAX], h[KEY_MAX];
	struct pfx fnat, freal, x, rp;
	uint32_t *view = NULL;
	size_t j, nview = 0;
	int np, i, err;

	filter_pfx(r, RNAT_A_FILTER_NAT, &fnat);
	filter_pfx(r, RNAT_A_FILTER_REAL, &freal);
	err = all_pools(&pk, &pools, &np);
	if (err) {
		free(pools);
		return err;
	}
	if (!pinned)
		pinned = pk.rev;
	err = view_read(&view, &nview);
	if (err) {
		free(pools);
		store_kvs_free(&pk);
		return err;
	}
	if (fnat.plen) {
		kspan(k, e, head(h, "nat", 0), &fnat);
		err = rd(k, e, &nats);
	} else {
		err = rd_prefix(head(h, "nat", 0), &nats);
	}
	for (j = 0; !err && j < nats.n; j++) {
		const char *in = NULL;

		if (key_pfx(nats.kv[j].key, &x) ||
		    nat_val(&nats.kv[j], &id, &real)) {
			err = fail(-EPROTO, "malformed %s in the store",
				   nats.kv[j].key);
			break;
		}
		rp.base = real;
		rp.plen = x.plen;
		if ((vpn && id != vpn) || !contains(&fnat, &x) ||
		    !contains(&freal, &rp) || !in_view(view, nview, id))
			continue;
		for (i = 0; i < np && !in; i++)
			if (pool_has(&pools[i], &x))
				in = pools[i].name;
		if (pool && (!in || strcmp(pool, in)))
			continue;
		err = map_reply(RNAT_CMD_MAP_GET, id, real, x.base, x.plen, in,
				cb, data);
	}
	store_kvs_free(&nats);
	free(view);
	free(pools);
	store_kvs_free(&pk);
	return err;
}

/*
 * save's generation: save asks for it before and after its dumps, so the
 * first request pins the revision every read sees and answers it, and the
 * second answers it and lets go: the dumps are one state, the store's at
 * that revision, however busy the region.
 */
static int stats_get(nl_reply_cb cb, void *data)
{
	struct nlmsghdr *nlh;
	struct store_kvs r;
	uint32_t gen;
	int err;

	if (pinned) {
		gen = pinned;
		pinned = 0;
	} else {
		err = store_range(base, NULL, 0, true, &r);
		if (err)
			return store_fail(err);
		pinned = r.rev;
		last_pinned = pinned;
		gen = pinned;
		store_kvs_free(&r);
	}
	nlh = reply(RNAT_CMD_STATS_GET);
	mnl_attr_put_u32(nlh, RNAT_A_GENERATION, gen);
	return deliver(nlh, cb, data);
}

static int count_reply(uint8_t cmd, uint32_t id, uint32_t n, nl_reply_cb cb,
		       void *data)
{
	struct nlmsghdr *nlh = reply(cmd);

	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, n);
	return deliver(nlh, cb, data);
}

static const char *cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case RNAT_CMD_MAP_NEW:
		return "map replace";
	case RNAT_CMD_RESTORE_BEGIN:
	case RNAT_CMD_RESTORE_COMMIT:
	case RNAT_CMD_RESTORE_ABORT:
		return "restore";
	}
	return "this command";
}

/*
 * A show reads at one revision: save's pinned one, or its own (the first
 * read's), forgotten after it.
 */
static int show(int (*fn)(const struct req *, nl_reply_cb, void *),
		const struct req *r, nl_reply_cb cb, void *data)
{
	int64_t was = pinned;
	int err = fn(r, cb, data);

	pinned = was;
	return err;
}

int region_talk(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct mreq m = { 0 };
	struct req r;
	uint32_t n = 0;
	int err;

	nl_set_error("%s", "");
	if (nl_parse_reply(nlh, r.tb))
		return fail(-EINVAL, "malformed request");
	r.flags = nlh->nlmsg_flags;
	switch (g->cmd) {
	case RNAT_CMD_POOL_NEW:
		return retry(pool_new, &r, NULL);
	case RNAT_CMD_POOL_DEL:
		return retry(pool_del, &r, NULL);
	case RNAT_CMD_POOL_GET:
		return show(pool_get, &r, cb, data);
	case RNAT_CMD_VPN_NEW:
		return retry(vpn_new, &r, NULL);
	case RNAT_CMD_VPN_SET:
		err = retry(vpn_set, &r, NULL);
		if (err || !(r.flags & NLM_F_ECHO))
			return err;
		return show(vpn_get, &r, cb, data);
	case RNAT_CMD_VPN_GET:
		return show(vpn_get, &r, cb, data);
	case RNAT_CMD_VPN_DEL:
	case RNAT_CMD_MAP_FLUSH:
		err = retry(g->cmd == RNAT_CMD_VPN_DEL ? vpn_del : map_flush,
			    &r, &n);
		return err ? err : count_reply(g->cmd, u32(&r, RNAT_A_VPN_ID),
					       n, cb, data);
	case RNAT_CMD_MAP_NEW:
		if (r.flags & NLM_F_REPLACE)
			break;
		if (!has(&r, RNAT_A_VPN_ID) || !has(&r, RNAT_A_MAP_REAL))
			return missing(has(&r, RNAT_A_VPN_ID) ? "real address" :
				       "VPN id");
		m.id = u32(&r, RNAT_A_VPN_ID);
		m.real = ntohl(u32(&r, RNAT_A_MAP_REAL));
		m.plen = has(&r, RNAT_A_MAP_PLEN) ?
			 mnl_attr_get_u8(r.tb[RNAT_A_MAP_PLEN]) : 32;
		if (m.plen < RNAT_MAP_PLEN_MIN || m.plen > 32)
			return fail(-EINVAL, "prefix length %u is not %d to 32",
				    m.plen, RNAT_MAP_PLEN_MIN);
		if (has(&r, RNAT_A_MAP_BLOCK))
			return fail(-EINVAL, "a block is given to a gateway's module (as rnatd does), not to a region");
		m.has_nat = has(&r, RNAT_A_MAP_NAT);
		if (m.has_nat)
			m.nat = ntohl(u32(&r, RNAT_A_MAP_NAT));
		err = retry(map_new, &r, &m);
		if (err || !(r.flags & NLM_F_ECHO))
			return err;
		return map_reply(RNAT_CMD_MAP_NEW, m.id, m.real, m.nat, m.plen,
				 m.pool, cb, data);
	case RNAT_CMD_MAP_DEL:
		return retry(map_del, &r, NULL);
	case RNAT_CMD_MAP_GET:
		if ((r.flags & NLM_F_DUMP) == NLM_F_DUMP)
			return show(map_dump, &r, cb, data);
		return show(map_lookup, &r, cb, data);
	case RNAT_CMD_STATS_GET:
		return stats_get(cb, data);
	}
	return fail(-EOPNOTSUPP, "%s is not supported with --store yet",
		    cmd_name(g->cmd));
}

uint32_t region_dev_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ndevs; i++)
		if (!strcmp(devs[i], name))
			return DEV_BASE + i;
	if (ndevs == DEVS_MAX)
		return 0;
	devs[ndevs] = strdup(name);
	if (!devs[ndevs])
		abort();
	return DEV_BASE + ndevs++;
}

const char *region_dev_name(uint32_t ifindex)
{
	if (ifindex < DEV_BASE || ifindex - DEV_BASE >= ndevs)
		return NULL;
	return devs[ifindex - DEV_BASE];
}

int region_open(const char *url, const char *name)
{
	const char *c;

	if (!*name || strlen(name) > 64)
		return fail(-EINVAL, "region name \"%s\" is empty or longer than 64 bytes",
			    name);
	for (c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && !strchr("-_.", *c))
			return fail(-EINVAL, "region name \"%s\" may only have letters, digits, '-', '_' and '.'",
				    name);
	if (store_open(url))
		return store_fail(-EINVAL);
	snprintf(base, sizeof(base), "/rnat/v1/%s/", name);
	snprintf(gw_base, sizeof(gw_base), "/rnat/v1-gateways/%s/", name);
	srand(getpid());
	on = true;
	return 0;
}

int region_set_gateway(const char *name)
{
	const char *c;

	gw[0] = '\0';
	if (!name)
		return 0;
	if (strcmp(name, "*")) {
		if (!*name || strlen(name) > 64)
			return fail(-EINVAL, "gateway name \"%s\" is empty or longer than 64 bytes",
				    name);
		for (c = name; *c; c++)
			if (!(*c >= 'a' && *c <= 'z') &&
			    !(*c >= 'A' && *c <= 'Z') &&
			    !(*c >= '0' && *c <= '9') && !strchr("-_.", *c))
				return fail(-EINVAL, "gateway name \"%s\" may only have letters, digits, '-', '_' and '.' (or be \"*\")",
					    name);
	}
	snprintf(gw, sizeof(gw), "%s", name);
	return 0;
}

const char *region_gateway(void)
{
	return gw[0] ? gw : NULL;
}

int region_pool_line(const struct store_kv *kv, char *out, size_t size)
{
	struct pool_rec p;
	char a[16];
	size_t len;
	int i, err = pool_parse(kv, &p);

	if (err)
		return err;
	snprintf(out, size, "%s", p.name);
	for (i = 0; i < p.n; i++) {
		len = strlen(out);
		snprintf(out + len, size - len, " %s/%u", ip(a, p.pfx[i].base),
			 p.pfx[i].plen);
	}
	return 0;
}

/* " KEY 0x30/0xf0" (" KEY none" without one) into @buf. */
static void mark_text(char *buf, size_t size, const char *key,
		      const struct mark *m)
{
	if (m->mask)
		snprintf(buf, size, "%s %#x/%#x", key, m->value, m->mask);
	else
		snprintf(buf, size, "%s none", key);
}

int region_vpn_view(const struct store_kv *kv, char *out, size_t size)
{
	struct vpn_rec v;
	int err = vpn_parse(kv, &v);

	if (err)
		return err;
	if (!v.placed)
		return 0;
	snprintf(out, size, "pool %s name %s dev %s", v.pool, v.name,
		 v.dev[0] ? v.dev : "none");
	mark_text(out + strlen(out), size - strlen(out), " mark", &v.mark);
	mark_text(out + strlen(out), size - strlen(out), " out-mark",
		  &v.out_mark);
	return 1;
}

bool region_on(void)
{
	return on;
}

void region_set_on(bool yes)
{
	on = yes;
}

int64_t region_save_revision(void)
{
	return last_pinned;
}

const char *region_key(char *buf, size_t size, const char *rest)
{
	snprintf(buf, size, "%s%s", base, rest);
	return buf;
}

const char *region_gateway_key(char *buf, size_t size, const char *gateway)
{
	snprintf(buf, size, "%s%s", gw_base, gateway);
	return buf;
}

void region_close(void)
{
	unsigned int i;

	store_close();
	for (i = 0; i < ndevs; i++)
		free(devs[i]);
	ndevs = 0;
	free(rbuf);
	rbuf = NULL;
}

/* ---- fleet status: the gateways' agents ---- */

void region_gateways_free(struct region_gw *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].error);
		free(g[i].time);
	}
	free(g);
}

int region_gateways(struct region_gw **out, size_t *n, int64_t *changed)
{
	struct store_kvs r[2];
	struct store_txn *t;
	char h[KEY_MAX], e[KEY_MAX], k[KEY_MAX];
	struct region_gw *g;
	const char *s;
	json_object *v;
	size_t i;
	int err;

	kfmt(h, "%s", gw_base);
	kfmt(k, "%schanged", base);
	t = store_txn_new();
	store_txn_get(t, h, store_prefix_end(e, sizeof(e), h), false);
	store_txn_get(t, k, NULL, false);
	err = multi(t, r, 2);
	if (err)
		return err;
	*changed = r[1].n ? r[1].kv[0].mod_rev : 0;
	g = calloc(r[0].n + 1, sizeof(*g));
	if (!g)
		abort();
	for (i = 0; i < r[0].n; i++) {
		v = jparse(r[0].kv[i].val);
		g[i].name = strdup(r[0].kv[i].key + strlen(h));
		g[i].revision = v ? jint(v, "revision") : 0;
		if (g[i].revision < 0)
			g[i].revision = 0;
		s = v ? jstr(v, "error") : NULL;
		g[i].error = strdup(s ? s : "");
		s = v ? jstr(v, "time") : NULL;
		g[i].time = strdup(s ? s : "");
		json_object_put(v);
		if (!g[i].name || !g[i].error || !g[i].time)
			abort();
	}
	*out = g;
	*n = r[0].n;
	kvs_free(r, 2);
	return 0;
}
