// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of rnatctl's commands without the kernel: every usage error
 * is reported with exit status 2 before the netlink socket is even opened;
 * replies built here with libmnl print as documented in text and JSON;
 * malformed replies are refused; ACKs yield their extended ACK message.
 */

#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "parse.h"
#include "rnatctl.h"
#include "unit.h"

/* Runs "OBJECT WORDS..." through @fn, capturing its output. */
static int run(int (*fn)(int, char **), const char *line)
{
	char buf[4096], *w[128];
	int n, ret;

	snprintf(buf, sizeof(buf), "%s", line);
	n = split_words(buf, w, 128);
	capture_begin();
	ret = fn(n, w);
	capture_end();
	return ret;
}

/* @line fails as a usage error mentioning @msg, without netlink. */
static void usage_case(int (*fn)(int, char **), const char *line,
		       const char *msg)
{
	char name[512];
	int ret = run(fn, line);

	snprintf(name, sizeof(name), "usage error: %s", line);
	if (ret != EXIT_USAGE || !err_has("Error: ") || !err_has(msg) ||
	    nl_is_open() || cap_out_len)
		printf("#   exit %d, stderr: %s", ret, cap_err ? cap_err : "");
	CHECK(ret == EXIT_USAGE && err_has("Error: ") && err_has(msg) &&
	      !nl_is_open() && !cap_out_len, name);
}

static void test_usage_errors(void)
{
	char line[2048];
	int i, n;

	usage_case(do_pool, "frob", "unknown pool command \"frob\"");
	usage_case(do_pool, "add", "missing NAME");
	usage_case(do_pool, "add P", "missing PREFIX");
	usage_case(do_pool, "add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10.0.0.0/8",
		   "longer than 31 bytes");
	usage_case(do_pool, "add P 10.0.0.0/7", "must be 8 to 32");
	usage_case(do_pool, "add P 10.153.0.0/16 10.153.0.1/16", "10.153.0.1/16 has host bits set");
	usage_case(do_pool, "add P 10.153.0.0/16 10.0.0.0/8", "10.0.0.0/8 overlaps 10.153.0.0/16");
	usage_case(do_pool, "add P 10.153.0.0/16 10.153.0.0/16", "overlaps");
	usage_case(do_pool, "add P 10.153.0.0/16 bogus", "\"bogus\" is not an IPv4 address");
	n = snprintf(line, sizeof(line), "add P");
	for (i = 0; i <= RNAT_POOL_PREFIXES_MAX; i++)
		n += snprintf(line + n, sizeof(line) - n, " 10.%d.0.0/16", i);
	usage_case(do_pool, line, "65 prefixes given, at most 64");
	usage_case(do_pool, "del", "missing NAME");
	usage_case(do_pool, "del A B", "unexpected \"B\"");
	usage_case(do_pool, "show A B", "unexpected \"B\"");

	usage_case(do_vpn, "add", "missing ID");
	usage_case(do_vpn, "add 0 pool P dev lo", "VPN id \"0\"");
	usage_case(do_vpn, "add 2147483648 pool P dev lo", "VPN id \"2147483648\"");
	usage_case(do_vpn, "add x pool P dev lo", "VPN id \"x\"");
	usage_case(do_vpn, "add 1 pool P blocks 10.0.0.0/33", "10.0.0.0/33");
	usage_case(do_vpn, "add 1 pool P blocks 10.0.0.0/24,", "bad prefix list");
	usage_case(do_vpn, "add 1 pool P blocks 10.0.0.1/24", "10.0.0.1/24");
	usage_case(do_monitor, "x", "unexpected \"x\"");
	usage_case(do_save, "x", "unexpected \"x\"");
	usage_case(do_vpn, "add 1 dev lo", "missing \"pool POOL\"");
	usage_case(do_vpn, "add 1 pool P dev", "\"dev\" needs a value");
	usage_case(do_vpn, "add 1 pool P dev lo bogus x", "unknown vpn add keyword \"bogus\"");
	usage_case(do_vpn, "add 1 p P d lo p Q", "\"pool\" given twice");
	usage_case(do_vpn, "add 1 pool P dev lo name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		   "VPN name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 31 bytes");
	usage_case(do_vpn, "del", "missing ID");
	usage_case(do_vpn, "del 1 2", "unexpected \"2\"");
	usage_case(do_vpn, "del -1", "VPN id \"-1\"");
	usage_case(do_vpn, "show 1 2", "unexpected \"2\"");
	usage_case(do_vpn, "show 0", "VPN id \"0\"");
	usage_case(do_vpn, "set", "missing ID");
	usage_case(do_vpn, "set 1", "nothing to set");
	usage_case(do_vpn, "set 1 name", "\"name\" needs a value");
	usage_case(do_vpn, "set 1 name a\"b", "VPN name");
	usage_case(do_vpn, "set 1 pool P", "unknown");
	usage_case(do_pool, "set P", "unknown pool command \"set\"");

	usage_case(do_map, "x", "unknown map command \"x\"");
	usage_case(do_map, "add vpn 1", "missing \"real ADDR[/LEN]\"");
	usage_case(do_map, "add real 10.1.0.0", "missing \"vpn ID\"");
	usage_case(do_map, "add vpn 1 real 10.1.0.0/15", "must be 16 to 32");
	usage_case(do_map, "add vpn 1 real 10.1.0.1/24", "10.1.0.1/24 has host bits set");
	usage_case(do_map, "add vpn 1 real 10.1.0.0/24 nat 10.153.0.5", "10.153.0.5/24 has host bits set");
	usage_case(do_map, "add vpn 1 real 10.1.0.0/24 nat 10.153.0.0/25", "differ in length");
	usage_case(do_map, "add vpn 1 real 10.1.0.0 nat 10.153.0.0/24", "differ in length");
	usage_case(do_map, "add vpn 1 real 10.1.0.0 garbage", "unknown map add keyword \"garbage\"");
	usage_case(do_map, "add vpn 1 real 10.1.0.0 nat", "\"nat\" needs a value");
	usage_case(do_map, "del", "missing \"vpn ID real ADDR[/LEN]\" or \"nat ADDR[/LEN]\"");
	usage_case(do_map, "del vpn 1", "missing \"real ADDR[/LEN]\"");
	usage_case(do_map, "del real 10.1.0.0", "missing \"vpn ID\"");
	usage_case(do_map, "del vpn 1 real 10.1.0.0 nat 10.153.0.0", "not both");
	usage_case(do_map, "del nat 10.153.0.1/16", "10.153.0.1/16 has host bits set");
	usage_case(do_map, "show real 10.1.0.1/24", "10.1.0.1/24 has host bits set");
	usage_case(do_map, "show nat 10.0.0.0/7", "10.0.0.0/7");
	usage_case(do_map, "show pool", "\"pool\" needs a value");
	usage_case(do_map, "show dev x", "unknown map show keyword \"dev\"");
	usage_case(do_map, "replace vpn 1", "map replace: missing \"real ADDR[/LEN]\"");
	usage_case(do_map, "replace real 10.1.0.0", "map replace: missing \"vpn ID\"");
	usage_case(do_map, "flush", "map flush: missing \"vpn ID\"");
	usage_case(do_map, "flush vpn 0", "VPN id \"0\"");
	usage_case(do_map, "flush vpn 1 real 10.1.0.0", "unknown map flush keyword \"real\"");
	usage_case(do_map, "show vpn 0", "VPN id \"0\"");
	usage_case(do_map, "show vpn 1 vpn 2", "given twice");

	usage_case(do_lookup, "", "missing ADDR");
	usage_case(do_lookup, "10.1.0", "\"10.1.0\" is not an IPv4 address");
	usage_case(do_lookup, "10.1.0.0/24", "is not an IPv4 address");
	usage_case(do_lookup, "10.1.0.0 vpn", "\"vpn\" needs a value");
	usage_case(do_lookup, "10.1.0.0 vpn 0", "VPN id \"0\"");
	usage_case(do_lookup, "10.1.0.0 vpn 1 extra", "unknown lookup keyword \"extra\"");
	usage_case(do_lookup, "10.1.0.0 real 1", "unknown lookup keyword \"real\"");
	usage_case(do_metrics, "frob", "unknown metrics keyword \"frob\"");
	usage_case(do_metrics, "active", "\"active\" needs a value");
	usage_case(do_metrics, "active 0", "SECONDS");
	usage_case(do_metrics, "active 1s", "SECONDS");
	usage_case(do_metrics, "all errors all", "\"all\" given twice");
	usage_case(do_metrics, "vpn", "\"vpn\" needs a value");
	usage_case(do_metrics, "pool a\"b", "pool name");
	usage_case(do_metrics, "output", "\"output\" needs a value");

	/* Not a usage error, but found before any netlink either. */
	CHECK(run(do_vpn, "add 1 pool P dev rnat-nosuch0") == EXIT_ERROR &&
	      !strcmp(cap_err, "Error: no device \"rnat-nosuch0\"\n") && !nl_is_open(),
	      "unknown device: exit 1, Error: no device \"X\"");

	CHECK(run(do_map, "help") == 0 && strstr(cap_out, "map add vpn ID real") &&
	      !cap_err_len && !nl_is_open(), "map help");
	CHECK(run(do_pool, "h") == 0 && strstr(cap_out, "pool add NAME PREFIX") &&
	      !nl_is_open(), "pool h abbreviates help");
	CHECK(run(do_vpn, "help") == 0 && strstr(cap_out, "vpn add ID pool POOL [dev DEV]"),
	      "vpn help");
	CHECK(run(do_lookup, "help") == 0 && strstr(cap_out, "lookup NAT_ADDR"),
	      "lookup help");
	CHECK(run(do_metrics, "help") == 0 &&
	      strstr(cap_out, "metrics [vpn ID|NAME]") && !nl_is_open(),
	      "metrics help");
}

/* Building replies as the kernel would. */
static char msgbuf[8192];

static struct nlmsghdr *reply(uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = 0x1d;
	g->cmd = cmd;
	g->version = RNAT_GENL_VERSION;
	return nlh;
}

static void put_prefix(struct nlmsghdr *nlh, int i, const char *addr,
		       uint8_t len, bool with_len)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, i);

	mnl_attr_put_u32(nlh, RNAT_PREFIX_A_ADDR, inet_addr(addr));
	if (with_len)
		mnl_attr_put_u8(nlh, RNAT_PREFIX_A_LEN, len);
	mnl_attr_nest_end(nlh, e);
}

static struct nlmsghdr *pool_reply(bool good)
{
	struct nlmsghdr *nlh = reply(RNAT_CMD_POOL_GET);
	struct nlattr *list;

	mnl_attr_put_strz(nlh, RNAT_A_POOL, "AWS_USA_EAST_1");
	mnl_attr_put_u32(nlh, RNAT_A_POOL_SIZE, 131072);
	mnl_attr_put_u32(nlh, RNAT_A_POOL_USED, 2);
	list = mnl_attr_nest_start(nlh, RNAT_A_POOL_PREFIXES);
	put_prefix(nlh, 1, "10.153.0.0", 16, true);
	put_prefix(nlh, 2, "10.157.0.0", 16, good);
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

/* Parses @nlh as a reply and prints it with @print in text or JSON. */
static int print(struct nlmsghdr *nlh, nl_reply_cb print, bool json)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];
	int err = nl_parse_reply(nlh, tb);

	if (err)
		return err;
	out_init(json);
	capture_begin();
	err = print(tb, NULL);
	capture_end();
	out_init(false);
	return err;
}

static void test_replies(void)
{
	char lo[IF_NAMESIZE], want[256];
	struct nlmsghdr *nlh;

	CHECK(!print(pool_reply(true), pool_print, false) &&
	      !strcmp(cap_out, "AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 used 2 of 131072\n"),
	      "pool text line");
	CHECK(!print(pool_reply(true), pool_print, true) &&
	      !strcmp(cap_out, "{\"pool\":\"AWS_USA_EAST_1\",\"prefixes\":[\"10.153.0.0/16\","
		      "\"10.157.0.0/16\"],\"size\":131072,\"used\":2}\n"),
	      "pool JSON object");
	CHECK(print(pool_reply(false), pool_print, false) == -EPROTO && !cap_out_len &&
	      !strcmp(nl_strerror(-EPROTO), "malformed pool prefix from the kernel"),
	      "pool prefix without length refused, nothing printed");

	nlh = reply(RNAT_CMD_VPN_GET);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 1);
	mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, "acme");
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "AWS_USA_EAST_1");
	mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, 999999);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, 2);
	mnl_attr_put_u32(nlh, 200, 7);	/* from a newer module: ignored */
	CHECK(!print(nlh, vpn_print, false) &&
	      !strcmp(cap_out, "vpn 1 name acme pool AWS_USA_EAST_1 ifindex 999999 mappings 2\n"),
	      "vpn text line, device gone");
	CHECK(!print(nlh, vpn_print, true) &&
	      !strcmp(cap_out, "{\"vpn\":1,\"name\":\"acme\",\"pool\":\"AWS_USA_EAST_1\","
		      "\"dev\":null,\"ifindex\":999999,\"mappings\":2}\n"),
	      "vpn JSON object, device gone");
	if (if_indextoname(1, lo)) {
		nlh = reply(RNAT_CMD_VPN_GET);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 7);
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, "vpn7");
		mnl_attr_put_strz(nlh, RNAT_A_POOL, "P");
		mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, 1);
		mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, 0);
		snprintf(want, sizeof(want), "vpn 7 name vpn7 pool P dev %s mappings 0\n", lo);
		CHECK(!print(nlh, vpn_print, false) && !strcmp(cap_out, want),
		      "vpn text line names its device");
	}

	nlh = reply(RNAT_CMD_MAP_GET);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 2);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("10.1.0.0"));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr("10.162.0.1"));
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, 32);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "AWS_USA_EAST_1");
	CHECK(!print(nlh, map_print, false) &&
	      !strcmp(cap_out, "vpn 2 real 10.1.0.0 nat 10.162.0.1 pool AWS_USA_EAST_1\n"),
	      "mapping text line");
	CHECK(!print(nlh, map_print, true) &&
	      !strcmp(cap_out, "{\"vpn\":2,\"real\":\"10.1.0.0\",\"nat\":\"10.162.0.1\","
		      "\"plen\":32,\"pool\":\"AWS_USA_EAST_1\"}\n"),
	      "mapping JSON object");

	nlh = reply(RNAT_CMD_MAP_GET);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 3);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("192.168.0.0"));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr("10.153.1.0"));
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, 24);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "P");
	CHECK(!print(nlh, map_print, false) &&
	      !strcmp(cap_out, "vpn 3 real 192.168.0.0/24 nat 10.153.1.0/24 pool P\n"),
	      "prefix mapping shows /LEN on both sides");

	nlh = reply(RNAT_CMD_MAP_GET);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 3);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("192.168.0.0"));
	CHECK(print(nlh, map_print, false) == -EPROTO && !cap_out_len,
	      "mapping without NAT address refused");

	nlh = reply(RNAT_CMD_MAP_GET);
	mnl_attr_put_u16(nlh, RNAT_A_VPN_ID, 3);
	CHECK(print(nlh, map_print, false) == -EPROTO &&
	      !strcmp(nl_strerror(-EPROTO), "malformed reply from the kernel"),
	      "short u32 attribute refused");

	nlh = reply(RNAT_CMD_POOL_GET);
	mnl_attr_put(nlh, RNAT_A_POOL, 3, "abc");
	CHECK(print(nlh, pool_print, false) == -EPROTO, "unterminated string refused");

	nlh = reply(RNAT_CMD_POOL_GET);
	mnl_attr_put_u32(nlh, RNAT_A_POOL_SIZE, 1);
	CHECK(print(nlh, pool_print, false) == -EPROTO, "pool without name refused");

	nlh = reply(RNAT_CMD_VPN_GET);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	CHECK(print(nlh, vpn_print, false) == -EPROTO, "reply shorter than genl header refused");
}

/* An NLMSG_ERROR for a request of @req_payload bytes, with @msg. */
static struct nlmsghdr *ack(int error, bool capped, const char *msg)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
	struct nlmsgerr *e;
	unsigned int req = 24;	/* genl header and one u32 attribute */

	nlh->nlmsg_type = NLMSG_ERROR;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg) + (capped ? 0 : req);
	if (capped) {
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	} else {
		/* The echoed request, filled with a fake attribute. */
		char *p = mnl_nlmsg_put_extra_header(nlh, req);

		memset(p, 0xab, req);
	}
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	}
	return nlh;
}

static void test_acks(void)
{
	struct nlmsghdr *nlh;
	int err;

	CHECK(nl_error(ack(0, true, NULL)) == 0, "ACK without error is success");
	err = nl_error(ack(-EEXIST, true, "pool \"P\" already exists"));
	CHECK(err == -EEXIST && !strcmp(nl_strerror(err), "pool \"P\" already exists"),
	      "capped NACK: extack message");
	err = nl_error(ack(-EBUSY, false, "pool \"P\" is used by vpn 1"));
	CHECK(err == -EBUSY && !strcmp(nl_strerror(err), "pool \"P\" is used by vpn 1"),
	      "uncapped NACK: extack message after the echoed request");
	err = nl_error(ack(-ENOENT, true, NULL));
	CHECK(err == -ENOENT && !strcmp(nl_strerror(err), strerror(ENOENT)),
	      "NACK without message falls back to strerror");

	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_DONE;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = -ENOENT;
	nlh->nlmsg_flags |= NLM_F_ACK_TLVS | NLM_F_MULTI;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "no VPN 5");
	err = nl_error(nlh);
	CHECK(err == -ENOENT && !strcmp(nl_strerror(err), "no VPN 5"),
	      "dump ending in an error: extack message");

	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_DONE;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
	CHECK(nl_error(nlh) == 0, "dump end without error");

	/* NLM_F_EXCL has NLM_F_MATCH's value: a create is not a dump. */
	nlh = nl_request(RNAT_CMD_POOL_NEW, NLM_F_CREATE | NLM_F_EXCL);
	CHECK(nlh->nlmsg_flags & NLM_F_ACK, "create request asks for an ACK");
	nlh = nl_request(RNAT_CMD_MAP_GET, NLM_F_DUMP);
	CHECK(!(nlh->nlmsg_flags & NLM_F_ACK), "dump request ends with DONE, no ACK");
}

/* A VPN message carrying blocks @from (of @total) to @from + @n - 1. */
static struct nlmsghdr *vpn_part_reply(uint32_t id, uint32_t total,
				       uint32_t from, uint32_t n)
{
	struct nlmsghdr *nlh = reply(RNAT_CMD_VPN_GET);
	struct nlattr *list;
	char addr[INET_ADDRSTRLEN];
	uint32_t i;

	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, id);
	mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, "big");
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "P");
	mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, total);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_NBLOCKS, total);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_BLOCKS_FIRST, from);
	list = mnl_attr_nest_start(nlh, RNAT_A_VPN_BLOCKS);
	for (i = from; i < from + n; i++) {
		snprintf(addr, sizeof(addr), "10.153.0.%u", 2 * i);
		put_prefix(nlh, i + 1, addr, 32, true);
	}
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

/* Prints the messages of one VPN (blocks in parts of @sizes) as a dump. */
static int print_parts(const uint32_t *sizes, int nparts, uint32_t total,
		       bool json)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];
	uint32_t from = 0;
	int i, err = 0;

	vpn_parts_reset();
	out_init(json);
	capture_begin();
	for (i = 0; i < nparts && !err; i++) {
		err = nl_parse_reply(vpn_part_reply(1, total, from, sizes[i]), tb);
		if (!err)
			err = vpn_print(tb, NULL);
		from += sizes[i];
	}
	capture_end();
	out_init(false);
	return err;
}

/*
 * A VPN with more blocks than a message holds comes in several messages
 * ("Long block lists"): shown as one VPN, and a missing part is an error.
 */
static void test_vpn_parts(void)
{
	static const uint32_t three[] = { 2, 1, 1 }, one[] = { 4 },
			      gap[] = { 2, 1 };
	const struct nlattr *tb[RNAT_A_MAX + 1];

	CHECK(!print_parts(three, 3, 4, false) && !vpn_parts_open() &&
	      !strcmp(cap_out, "vpn 1 name big pool P mappings 4 blocks 10.153.0.0/32 "
		      "10.153.0.2/32 10.153.0.4/32 10.153.0.6/32\n"),
	      "VPN in three messages: one text line with every block");
	CHECK(!print_parts(one, 1, 4, false) && !vpn_parts_open() &&
	      !strcmp(cap_out, "vpn 1 name big pool P mappings 4 blocks 10.153.0.0/32 "
		      "10.153.0.2/32 10.153.0.4/32 10.153.0.6/32\n"),
	      "the same VPN in one message prints the same");
	CHECK(!print_parts(three, 3, 4, true) &&
	      !strcmp(cap_out, "{\"vpn\":1,\"name\":\"big\",\"pool\":\"P\",\"dev\":null,"
		      "\"mappings\":4,\"blocks\":[\"10.153.0.0/32\",\"10.153.0.2/32\","
		      "\"10.153.0.4/32\",\"10.153.0.6/32\"]}\n"),
	      "VPN in three messages: one JSON object with every block");
	CHECK(!print_parts(gap, 2, 4, false) && vpn_parts_open() &&
	      !strchr(cap_out, '\n'),
	      "a VPN whose last part is missing stays open (unfinished line)");
	/* The next VPN starts while the last one waits for blocks 3 and 4. */
	CHECK(!nl_parse_reply(vpn_part_reply(2, 1, 0, 1), tb) &&
	      vpn_print(tb, NULL) == -EPROTO && !vpn_parts_open(),
	      "a VPN starting before the last one ended is refused");
	vpn_parts_reset();
	CHECK(!nl_parse_reply(vpn_part_reply(1, 4, 2, 2), tb) &&
	      vpn_print(tb, NULL) == -EPROTO,
	      "a continuation without its start is refused");
	vpn_parts_reset();
}

/* After a failure inside a show, -j output is still one JSON document. */
static void test_json_close(void)
{
	int level;

	out_init(true);
	capture_begin();
	level = json_level();
	json_arr_open(NULL);
	json_obj_open(NULL);
	json_uint("vpn", 1);
	json_arr_open("blocks");
	json_str(NULL, "10.0.0.0/32");
	json_close_to(level);
	capture_end();
	out_init(false);
	CHECK(!strcmp(cap_out, "[{\"vpn\":1,\"blocks\":[\"10.0.0.0/32\"]}]\n") &&
	      json_level() == 0, "json_close_to closes what a failure left open");
}

/* Names given to a pool or VPN cannot start a batch-file comment. */
static void test_hash_names(void)
{
	char *pool_argv[] = { "add", "#a", "10.153.0.0/16", NULL };
	char *vpn_argv[] = { "add", "1", "pool", "P", "name", "#v", NULL };
	char *set_argv[] = { "set", "1", "name", "#v", NULL };
	int ret;

	capture_begin();
	ret = do_pool(3, pool_argv);
	capture_end();
	CHECK(ret == EXIT_USAGE && err_has("begins with '#'") && !nl_is_open(),
	      "usage error: pool add #a");
	capture_begin();
	ret = do_vpn(6, vpn_argv);
	capture_end();
	CHECK(ret == EXIT_USAGE && err_has("begins with '#'") && !nl_is_open(),
	      "usage error: vpn add ... name #v");
	capture_begin();
	ret = do_vpn(4, set_argv);
	capture_end();
	CHECK(ret == EXIT_USAGE && err_has("begins with '#'") && !nl_is_open(),
	      "usage error: vpn set ... name #v");
	CHECK(!parse_name("a#b", "x"), "a '#' inside a name is fine");
}

int main(void)
{
	test_usage_errors();
	test_replies();
	test_acks();
	test_vpn_parts();
	test_json_close();
	test_hash_names();
	capture_free();
	return unit_exit();
}
