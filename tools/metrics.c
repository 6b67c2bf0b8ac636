// SPDX-License-Identifier: GPL-2.0
/*
 * Owns "rnatctl metrics": the namespace's state and counters in the
 * Prometheus text exposition format (0.0.4, what node_exporter's textfile
 * collector reads), and the per-VPN totals "rnatctl -s vpn show" prints.
 * The kernel counts per mapping, and per VPN what its departed mappings
 * counted; a VPN's traffic is that plus its mappings' counters, read in one
 * mapping dump of the same generation. Per-mapping series are printed only
 * for the mappings a filter selects.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "output.h"
#include "parse.h"
#include "rnatctl.h"

void metrics_usage(FILE *f)
{
	fputs("Usage: rnatctl metrics [vpn ID|NAME] [pool NAME] [errors] [active SECONDS]\n"
	      "                       [all] [output FILE]\n"
	      "Prints pools, VPNs (their mappings' counters summed) and drops in the\n"
	      "Prometheus text format; series per mapping only for the mappings every\n"
	      "filter given selects: of a VPN, of a pool, with ICMP errors, used in the\n"
	      "last SECONDS, or all. output FILE replaces FILE atomically.\n", f);
}

struct m_pool {
	char name[RNAT_NAME_MAX];
	uint32_t size, used, owned;
};

/* vpn="ID",name="NAME",pool="POOL",real="PREFIX",nat="PREFIX", escaped */
#define LABELS_MAX (48 + 4 * RNAT_NAME_MAX + 2 * 32)

struct m_vpn {
	uint32_t id;
	char name[RNAT_NAME_MAX], pool[RNAT_NAME_MAX];
	char labels[LABELS_MAX];	/* its labels, for every series */
	bool dev;
	uint32_t mappings, nblocks;
	uint64_t block_addrs;
	struct map_stats st;	/* departed + its mappings' counters */
};

/* A mapping whose series are printed. */
struct m_map {
	uint32_t vpn;		/* index in vpns[] */
	uint32_t real, nat;	/* network byte order */
	uint8_t len;
	struct map_stats st;
};

/* Which mappings get series of their own: all filters given must match. */
struct m_filter {
	bool any;		/* some filter was given */
	const char *vpn_word;	/* ID or NAME */
	uint32_t vpn;		/* its index in vpns[], once resolved */
	const char *pool;
	bool errors;
	bool active;
	uint64_t active_ms;
};

static struct {
	struct m_pool *pools;
	size_t npools, cpools;
	struct m_vpn *vpns;
	size_t nvpns, cvpns;
	struct m_map *maps;
	size_t nmaps, cmaps;
	uint64_t stats[RNAT_STATS_A_MAX + 1];
	uint32_t generation;
	struct m_filter f;
} m;

/* Makes room for one more entry of @size in *@p: 0 or -ENOMEM. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Forgets what was read (the filter stays). */
static void collected_free(void)
{
	struct m_filter f = m.f;

	free(m.pools);
	free(m.vpns);
	free(m.maps);
	memset(&m, 0, sizeof(m));
	m.f = f;
}

static int pool_cb(const struct nlattr **tb, void *data)
{
	struct m_pool *p;

	(void)data;
	if (!tb[RNAT_A_POOL] || !tb[RNAT_A_POOL_SIZE] || !tb[RNAT_A_POOL_USED])
		return nl_malformed("pool");
	if (grow((void **)&m.pools, &m.cpools, m.npools, sizeof(*m.pools)))
		return -ENOMEM;
	p = &m.pools[m.npools++];
	snprintf(p->name, sizeof(p->name), "%s",
		 mnl_attr_get_str(tb[RNAT_A_POOL]));
	p->size = mnl_attr_get_u32(tb[RNAT_A_POOL_SIZE]);
	p->used = mnl_attr_get_u32(tb[RNAT_A_POOL_USED]);
	p->owned = tb[RNAT_A_POOL_OWNED] ?
		   mnl_attr_get_u32(tb[RNAT_A_POOL_OWNED]) : p->used;
	return 0;
}

static void vpn_labels_make(struct m_vpn *v);

/* One VPN message (a VPN, or a part of its block list). */
static int vpn_cb(const struct nlattr **tb, void *data)
{
	const struct nlattr *e;
	struct m_vpn *v;
	struct prefix p;
	bool first, last;
	int err;

	(void)data;
	if (!tb[RNAT_A_VPN_ID])
		return nl_malformed("VPN");
	err = prefixes_check(tb[RNAT_A_VPN_BLOCKS]) ?:
	      vpn_part(tb, &first, &last);
	if (err)
		return err;
	if (first) {
		if (grow((void **)&m.vpns, &m.cvpns, m.nvpns, sizeof(*m.vpns)))
			return -ENOMEM;
		v = &m.vpns[m.nvpns++];
		memset(v, 0, sizeof(*v));
		v->id = mnl_attr_get_u32(tb[RNAT_A_VPN_ID]);
		if (tb[RNAT_A_VPN_NAME])
			snprintf(v->name, sizeof(v->name), "%s",
				 mnl_attr_get_str(tb[RNAT_A_VPN_NAME]));
		if (tb[RNAT_A_POOL])
			snprintf(v->pool, sizeof(v->pool), "%s",
				 mnl_attr_get_str(tb[RNAT_A_POOL]));
		v->dev = tb[RNAT_A_IFINDEX];
		if (tb[RNAT_A_VPN_MAPPINGS])
			v->mappings = mnl_attr_get_u32(tb[RNAT_A_VPN_MAPPINGS]);
		err = map_stats_get(tb[RNAT_A_VPN_DEPARTED], &v->st);
		if (err)
			return err;
		v->st.present = true;
		vpn_labels_make(v);
	}
	v = &m.vpns[m.nvpns - 1];
	if (tb[RNAT_A_VPN_BLOCKS]) {
		mnl_attr_for_each_nested(e, tb[RNAT_A_VPN_BLOCKS]) {
			prefix_entry(e, &p);
			v->nblocks++;
			v->block_addrs += 1ULL << (32 - p.len);
		}
	}
	return 0;
}

static int cmp_vpn(const void *a, const void *b)
{
	const struct m_vpn *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static struct m_vpn *vpn_find(uint32_t id)
{
	struct m_vpn key = { .id = id };

	return bsearch(&key, m.vpns, m.nvpns, sizeof(*m.vpns), cmp_vpn);
}

static bool has_errors(const struct map_stats *s)
{
	int d, i;

	for (d = 0; d < 2; d++)
		for (i = 0; i < 4; i++)
			if (s->icmp[d][i])
				return true;
	return false;
}

static bool selected(const struct m_vpn *v, const struct map_stats *s)
{
	const struct m_filter *f = &m.f;

	if (!f->any)
		return false;
	if (f->vpn_word && v != &m.vpns[f->vpn])
		return false;
	if (f->pool && strcmp(v->pool, f->pool))
		return false;
	if (f->errors && !has_errors(s))
		return false;
	if (f->active && (!s->used || s->idle_ms > f->active_ms))
		return false;
	return true;
}

static int map_cb(const struct nlattr **tb, void *data)
{
	struct map_stats s;
	struct m_vpn *v;
	struct m_map *mm;
	int err;

	(void)data;
	if (!tb[RNAT_A_VPN_ID] || !tb[RNAT_A_MAP_REAL] || !tb[RNAT_A_MAP_NAT])
		return nl_malformed("mapping");
	err = map_stats_get(tb[RNAT_A_MAP_STATS], &s);
	if (err)
		return err;
	/* A VPN made after the VPN dump: left for the next reading. */
	v = vpn_find(mnl_attr_get_u32(tb[RNAT_A_VPN_ID]));
	if (!v)
		return 0;
	map_stats_add(&v->st, &s);
	if (!selected(v, &s))
		return 0;
	if (grow((void **)&m.maps, &m.cmaps, m.nmaps, sizeof(*m.maps)))
		return -ENOMEM;
	mm = &m.maps[m.nmaps++];
	mm->vpn = v - m.vpns;
	mm->real = mnl_attr_get_u32(tb[RNAT_A_MAP_REAL]);
	mm->nat = mnl_attr_get_u32(tb[RNAT_A_MAP_NAT]);
	mm->len = tb[RNAT_A_MAP_PLEN] ? mnl_attr_get_u8(tb[RNAT_A_MAP_PLEN]) : 32;
	if (mm->len > 32)
		return nl_malformed("mapping");
	mm->st = s;
	return 0;
}

static int stats_cb(const struct nlattr **tb, void *data)
{
	const struct nlattr *a;

	(void)data;
	if (!tb[RNAT_A_STATS])
		return nl_malformed("stats reply");
	if (tb[RNAT_A_GENERATION])
		m.generation = mnl_attr_get_u32(tb[RNAT_A_GENERATION]);
	mnl_attr_for_each_nested(a, tb[RNAT_A_STATS]) {
		int type = mnl_attr_get_type(a);

		if (type > RNAT_STATS_A_PAD && type <= RNAT_STATS_A_MAX &&
		    !mnl_attr_validate(a, MNL_TYPE_U64))
			m.stats[type] = mnl_attr_get_u64(a);
	}
	return 0;
}

static int generation_cb(const struct nlattr **tb, void *data)
{
	(void)data;
	m.generation = tb[RNAT_A_GENERATION] ?
		       mnl_attr_get_u32(tb[RNAT_A_GENERATION]) : 0;
	return 0;
}

/* Runs a request, printing what failed: 0 or EXIT_ERROR. */
static int ask(struct nlmsghdr *nlh, nl_reply_cb cb)
{
	int err = nl_talk(nlh, cb, NULL);

	if (err == -ENOMEM)
		pr_err("out of memory");
	else if (err)
		pr_err("%s", nl_strerror(err));
	return err ? EXIT_ERROR : 0;
}

/*
 * Reads the VPNs (only @vpn's unless 0) with their departed mappings'
 * counters, sorted by id: 0 or EXIT_ERROR.
 */
static int vpns_read(uint32_t vpn)
{
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_request(RNAT_CMD_VPN_GET, NLM_F_DUMP);
	if (vpn)
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
	mnl_attr_put(nlh, RNAT_A_WANT_STATS, 0, NULL);
	vpn_parts_reset();
	if (ask(nlh, vpn_cb))
		return EXIT_ERROR;
	err = vpn_parts_end();
	if (err) {
		pr_err("%s", nl_strerror(err));
		return EXIT_ERROR;
	}
	qsort(m.vpns, m.nvpns, sizeof(*m.vpns), cmp_vpn);
	return 0;
}

/* Sums the counters of the mappings (of @vpn unless 0) into their VPNs. */
static int mappings_read(uint32_t vpn)
{
	struct nlmsghdr *nlh;

	nlh = nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP);
	if (vpn)
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
	mnl_attr_put(nlh, RNAT_A_WANT_STATS, 0, NULL);
	return ask(nlh, map_cb);
}

#define READ_TRIES 8

static int filter_resolve(void);

/*
 * One reading (with @all, of the namespace's counters and pools too):
 * the generation, the VPNs, their mappings, the generation again. A
 * mapping that goes between the VPN and the mapping dumps is counted in
 * neither (or, the other way round, twice), and a VPN's totals would go
 * back: the reading is taken again while the state changes under it. After
 * READ_TRIES, the last one stands, said on stderr. 0 or EXIT_ERROR.
 */
static int collect(uint32_t vpn, bool all)
{
	uint32_t gen;
	bool intr;
	int i, err;

	for (i = 0; i < READ_TRIES; i++) {
		collected_free();
		err = ask(nl_request(RNAT_CMD_STATS_GET, 0), stats_cb);
		gen = m.generation;
		if (!err && all)
			err = ask(nl_request(RNAT_CMD_POOL_GET, NLM_F_DUMP),
				  pool_cb);
		err = err ?: vpns_read(vpn);
		intr = nl_dump_interrupted();
		err = err ?: (all ? filter_resolve() : 0) ?: mappings_read(vpn);
		intr |= nl_dump_interrupted();
		/* The counters stay as read first: the generation only. */
		err = err ?: ask(nl_request(RNAT_CMD_STATS_GET, 0),
				 generation_cb);
		if (err || (!intr && gen == m.generation))
			return err;
	}
	pr_warn("the state kept changing while it was read: a VPN's totals may be off by a mapping's counters");
	return 0;
}

int vpn_totals_read(uint32_t vpn)
{
	return collect(vpn, false);
}

const struct map_stats *vpn_totals(uint32_t vpn)
{
	struct m_vpn *v = vpn_find(vpn);

	return v ? &v->st : NULL;
}

/*
 * Printing. Every series of a family follows its HELP and TYPE lines, as
 * the format requires. A selected mapping has 13 series: each line is
 * built in a buffer and written at once (at 10^5 mappings, fprintf and a
 * putc per label byte cost 10,000 instructions a line).
 */
static FILE *o;

static void family(const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends KEY="VALUE", escaped (although rnat's names never need it). */
static char *label_put(char *p, const char *key, const char *val)
{
	p = stpcpy(p, key);
	*p++ = '=';
	*p++ = '"';
	for (; *val; val++) {
		if (*val == '\\' || *val == '"' || *val == '\n')
			*p++ = '\\';
		*p++ = *val == '\n' ? 'n' : *val;
	}
	*p++ = '"';
	*p = '\0';
	return p;
}

static void vpn_labels_make(struct m_vpn *v)
{
	char *p = v->labels + sprintf(v->labels, "vpn=\"%u\"", v->id);

	p = label_put(p, ",name", v->name);
	label_put(p, ",pool", v->pool);
}

static void map_labels(char *buf, const struct m_map *mm)
{
	char a[PREFIX_STRLEN];
	char *p = stpcpy(buf, m.vpns[mm->vpn].labels);

	p = label_put(p, ",real", format_prefix(a, mm->real, mm->len, false));
	label_put(p, ",nat", format_prefix(a, mm->nat, mm->len, false));
}

/* NAME{LABELS EXTRA} VALUE, one line. */
static void line(const char *name, const char *labels, const char *extra,
		 uint64_t val)
{
	char buf[LABELS_MAX + 192], *p = buf, num[24], *q = num + sizeof(num);

	*--q = '\0';
	do
		*--q = '0' + val % 10;
	while (val /= 10);
	p = stpcpy(p, name);
	if (*labels || *extra) {
		*p++ = '{';
		p = stpcpy(stpcpy(p, labels), extra);
		*p++ = '}';
	}
	*p++ = ' ';
	p = stpcpy(p, q);
	*p++ = '\n';
	fwrite_unlocked(buf, 1, p - buf, o);
}

static const char *const dirs[] = {
	",direction=\"in\"", ",direction=\"out\""
};

static const char *const dir_kinds[2][4] = {
	{ ",direction=\"in\",kind=\"unreach\"",
	  ",direction=\"in\",kind=\"refused\"",
	  ",direction=\"in\",kind=\"frag_needed\"",
	  ",direction=\"in\",kind=\"time_exceeded\"" },
	{ ",direction=\"out\",kind=\"unreach\"",
	  ",direction=\"out\",kind=\"refused\"",
	  ",direction=\"out\",kind=\"frag_needed\"",
	  ",direction=\"out\",kind=\"time_exceeded\"" },
};

enum series { PACKETS, BYTES, ICMP, LAST_USED };

/* A VPN's or mapping's series of one family (by direction and kind). */
static void series(const char *name, enum series what, const char *labels,
		   const struct map_stats *s, double now)
{
	int d, i;

	if (what == LAST_USED) {
		if (s->used)
			fprintf(o, "%s{%s} %.3f\n", name, labels,
				now - s->idle_ms / 1000.0);
		return;
	}
	for (d = 0; d < 2; d++) {
		if (what == PACKETS)
			line(name, labels, dirs[d], s->packets[d]);
		else if (what == BYTES)
			line(name, labels, dirs[d], s->bytes[d]);
		else
			for (i = 0; i < 4; i++)
				line(name, labels, dir_kinds[d][i], s->icmp[d][i]);
	}
}

static const struct {
	const char *name, *type, *help;
	enum series what;
} counter_families[] = {
	{ "packets_total", "counter",
	  "Packets translated (direction in: from the VPN; out: into it).",
	  PACKETS },
	{ "bytes_total", "counter",
	  "IP bytes of the packets translated (direction in: from the VPN; out: into it).",
	  BYTES },
	{ "icmp_errors_total", "counter",
	  "ICMP errors about the traffic that crossed the edge (direction in: from the VPN, e.g. refused from its host; out: into it), by kind.",
	  ICMP },
	{ "last_used_timestamp_seconds", "gauge",
	  "When a packet was last translated, either way (absent if never).",
	  LAST_USED },
};

static void print_global(void)
{
	static const char *const drops[RNAT_STATS_A_MAX + 1] = {
		[RNAT_STATS_A_DROP_IN_UNMAPPED] = "in_unmapped",
		[RNAT_STATS_A_DROP_OUT_UNMAPPED] = "out_unmapped",
		[RNAT_STATS_A_DROP_MALFORMED] = "malformed",
		[RNAT_STATS_A_DROP_REDIRECT] = "redirect",
		[RNAT_STATS_A_DROP_NOMEM] = "nomem",
		[RNAT_STATS_A_DROP_FENCED] = "fenced",
	};
	static const char *const pools[] = {
		"rnat_pool_addresses", "Addresses in the pool.",
		"rnat_pool_used_addresses", "Addresses of the pool held by mappings.",
		"rnat_pool_reserved_addresses",
		"Addresses of the pool in VPNs' NAT blocks (used ones included): what new VPNs and blocks cannot have.",
	};
	char labels[LABELS_MAX];
	size_t f, i;
	int t;

	family("rnat_config_generation", "gauge",
	       "Moves with every change of the configuration.");
	fprintf(o, "rnat_config_generation %u\n", m.generation);
	family("rnat_translated_packets_total", "counter",
	       "Packets translated in the namespace (direction in: from a VPN; out: into one).");
	line("rnat_translated_packets_total", "", dirs[0] + 1,
	     m.stats[RNAT_STATS_A_IN_TRANSLATED]);
	line("rnat_translated_packets_total", "", dirs[1] + 1,
	     m.stats[RNAT_STATS_A_OUT_TRANSLATED]);
	family("rnat_dropped_packets_total", "counter",
	       "Packets dropped, by reason (in_unmapped: source not mapped in its VPN; out_unmapped: not a NAT IP of the VPN; fenced: on a device that carried a VPN).");
	for (t = RNAT_STATS_A_DROP_IN_UNMAPPED; t <= RNAT_STATS_A_MAX; t++) {
		if (!drops[t])
			continue;
		label_put(labels, "reason", drops[t]);
		line("rnat_dropped_packets_total", labels, "", m.stats[t]);
	}
	family("rnat_icmp_errors_uncounted_total", "counter",
	       "ICMP errors translated but not counted on their mapping (no memory for its ICMP counters).");
	line("rnat_icmp_errors_uncounted_total", "", "",
	     m.stats[RNAT_STATS_A_ICMP_UNCOUNTED]);
	for (f = 0; f < 3; f++) {
		family(pools[2 * f], "gauge", pools[2 * f + 1]);
		for (i = 0; i < m.npools; i++) {
			label_put(labels, "pool", m.pools[i].name);
			line(pools[2 * f], labels, "",
			     f == 0 ? m.pools[i].size : f == 1 ?
			     m.pools[i].used : m.pools[i].owned);
		}
	}
}

static void print_vpn_gauge(const char *name, const char *help, int which)
{
	size_t i;

	family(name, "gauge", help);
	for (i = 0; i < m.nvpns; i++) {
		const struct m_vpn *v = &m.vpns[i];

		line(name, v->labels, "",
		     which == 0 ? v->mappings : which == 1 ? v->nblocks :
		     which == 2 ? v->block_addrs : v->dev);
	}
}

static void print_counters(const char *prefix, bool vpns, double now)
{
	char name[64], labels[LABELS_MAX];
	size_t f, i;

	for (f = 0; f < sizeof(counter_families) / sizeof(counter_families[0]); f++) {
		snprintf(name, sizeof(name), "%s_%s", prefix,
			 counter_families[f].name);
		family(name, counter_families[f].type, counter_families[f].help);
		if (vpns) {
			for (i = 0; i < m.nvpns; i++)
				series(name, counter_families[f].what,
				       m.vpns[i].labels, &m.vpns[i].st, now);
			continue;
		}
		for (i = 0; i < m.nmaps; i++) {
			map_labels(labels, &m.maps[i]);
			series(name, counter_families[f].what, labels,
			       &m.maps[i].st, now);
		}
	}
}

static void print_all(void)
{
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	print_global();
	print_vpn_gauge("rnat_vpn_mappings", "Mappings of the VPN.", 0);
	print_vpn_gauge("rnat_vpn_blocks", "NAT blocks of the VPN.", 1);
	print_vpn_gauge("rnat_vpn_block_addresses",
			"Addresses in the VPN's NAT blocks.", 2);
	print_vpn_gauge("rnat_vpn_device_present",
			"1 if the VPN has its device (0: it carries no traffic).", 3);
	print_counters("rnat_vpn", true, now);
	family("rnat_metrics_mappings_selected", "gauge",
	       "Mappings with series of their own (rnat_mapping_*): those the filters of rnatctl metrics selected.");
	fprintf(o, "rnat_metrics_mappings_selected %zu\n", m.nmaps);
	if (m.f.any)
		print_counters("rnat_mapping", false, now);
}

/* The filter's VPN, by id or by name: 0 or EXIT_ERROR. */
static int filter_resolve(void)
{
	const char *w = m.f.vpn_word;
	size_t i, found = SIZE_MAX;
	char *end;
	unsigned long id;

	if (m.f.pool) {
		for (i = 0; i < m.npools; i++)
			if (!strcmp(m.pools[i].name, m.f.pool))
				break;
		if (i == m.npools) {
			pr_err("metrics: no pool \"%s\"", m.f.pool);
			return EXIT_ERROR;
		}
	}
	if (!w)
		return 0;
	errno = 0;
	id = strtoul(w, &end, 10);
	for (i = 0; i < m.nvpns; i++) {
		if (strcmp(m.vpns[i].name, w) &&
		    (*end || errno || *w == '0' || m.vpns[i].id != id))
			continue;
		if (found != SIZE_MAX) {
			pr_err("metrics: \"%s\" is VPN %u's id and VPN %u's name",
			       w, m.vpns[found].id, m.vpns[i].id);
			return EXIT_ERROR;
		}
		found = i;
	}
	if (found == SIZE_MAX) {
		pr_err("metrics: no VPN \"%s\"", w);
		return EXIT_ERROR;
	}
	m.f.vpn = found;
	return 0;
}

/*
 * Writes the output to a temporary file beside @path and renames it over
 * @path, so a reader sees the old file or the new one, whole.
 */
static int write_atomic(const char *path)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return usage_error("metrics: output path too long");
	snprintf(dir, sizeof(dir), "%s", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		pr_err("metrics: cannot create a file in \"%s\": %s",
		       dirname(dir), strerror(errno));
		return EXIT_ERROR;
	}
	/* mkstemp makes it 0600: node_exporter runs as another user. */
	o = fdopen(fd, "w");
	if (!o || fchmod(fd, 0644)) {
		err = errno;
		if (o)
			fclose(o);
		else
			close(fd);
		goto fail;
	}
	print_all();
	if (fflush(o) || ferror(o))
		err = errno ? errno : EIO;
	if (fclose(o) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (!err)
		return 0;
fail:
	pr_err("metrics: cannot write \"%s\": %s", path, strerror(err));
	unlink(tmp);
	return EXIT_ERROR;
}

int do_metrics(int argc, char **argv)
{
	static const char *const keys[] = {
		"vpn", "pool", "errors", "active", "all", "output", "help", NULL
	};
	enum { VPN, POOL, ERRORS, ACTIVE, ALL, OUTPUT, HELP };
	const char *output = NULL;
	bool seen[HELP + 1] = { 0 };
	uint32_t secs;
	int i, k, err;

	collected_free();
	for (i = 0; i < argc; i++) {
		k = parse_keyword(argv[i], "metrics keyword", keys, NULL);
		if (k < 0)
			return EXIT_USAGE;
		if (k == HELP) {
			metrics_usage(out_stream());
			return 0;
		}
		if (seen[k])
			return usage_error("metrics: \"%s\" given twice", keys[k]);
		seen[k] = true;
		if ((k == VPN || k == POOL || k == ACTIVE || k == OUTPUT) &&
		    i + 1 == argc)
			return usage_error("metrics: \"%s\" needs a value", keys[k]);
		switch (k) {
		case VPN:
			m.f.vpn_word = argv[++i];
			if (parse_name(m.f.vpn_word, "VPN"))
				return EXIT_USAGE;
			break;
		case POOL:
			m.f.pool = argv[++i];
			if (parse_name(m.f.pool, "pool name"))
				return EXIT_USAGE;
			break;
		case ERRORS:
			m.f.errors = true;
			break;
		case ACTIVE:
			if (parse_u32(argv[++i], "SECONDS", 1, UINT32_MAX / 1000,
				      &secs))
				return EXIT_USAGE;
			m.f.active = true;
			m.f.active_ms = secs * 1000ULL;
			break;
		case OUTPUT:
			output = argv[++i];
			if (!*output)
				return usage_error("metrics: empty output FILE");
			break;
		}
		if (k != OUTPUT)
			m.f.any = true;
	}
	if (out_json())
		return usage_error("metrics: the output is Prometheus text, not JSON");
	if (nl_need())
		return EXIT_ERROR;
	/* Everything is read before anything is printed. */
	err = collect(0, true);
	if (!err) {
		if (output) {
			err = write_atomic(output);
		} else {
			o = out_stream();
			print_all();
		}
	}
	collected_free();
	return err;
}
