// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of "rnatctl annotate" without the kernel (tools/annotate.c):
 * which dotted quads count as addresses, where the annotation goes, prefix
 * mappings by offset, VPNs without a known name, unknown addresses, several
 * addresses per line, a last line without newline, very long lines, the
 * table built from dump replies made here with libmnl, and kept current by
 * events (deleted, moved, flushed, renamed, replayed, many), also while a
 * stream runs.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "annotate.h"
#include "nl.h"
#include "output.h"
#include "parse.h"
#include "unit.h"

static struct annot_table table;

static void add_map(uint32_t vpn, const char *real, const char *nat, int len)
{
	if (annot_add_map(&table, vpn, inet_addr(real), inet_addr(nat), len))
		abort();
}

/* The table of the examples: out of order on purpose. */
static void setup(void)
{
	if (annot_add_vpn(&table, 2, "vpn2") || annot_add_vpn(&table, 1, "acme"))
		abort();
	add_map(2, "10.1.0.0", "10.162.0.1", 32);
	add_map(1, "10.1.0.0", "10.162.0.0", 32);
	add_map(1, "192.168.7.0", "10.153.1.0", 24);
	add_map(9, "172.16.0.0", "10.153.0.0", 16 + 8);	/* no VPN name */
	add_map(1, "10.1.0.9", "10.162.0.9", 32);
	add_map(2, "10.2.0.0", "10.157.0.0", 16);
	if (annot_finish(&table))
		abort();
}

/* annot_line() of @in, as a string (freed by the next call). */
static const char *annotate(const char *in, size_t len)
{
	static char *buf;
	size_t n;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &n);
	if (!f || annot_line(&table, in, len, f))
		abort();
	fclose(f);
	return buf;
}

static void line_case(const char *in, const char *want)
{
	const char *got = annotate(in, strlen(in));
	char name[512];
	size_t i, n;

	/* The name on one line: control characters as \n, \r, \t. */
	n = snprintf(name, sizeof(name), "annotate \"");
	for (i = 0; in[i] && n < sizeof(name) - 8; i++) {
		if (in[i] == '\n' || in[i] == '\r' || in[i] == '\t') {
			name[n++] = '\\';
			name[n++] = in[i] == '\n' ? 'n' : in[i] == '\r' ? 'r' : 't';
		} else {
			name[n++] = in[i];
		}
	}
	snprintf(name + n, sizeof(name) - n, "\"");
	if (strcmp(got, want))
		printf("#   got  \"%s\"\n#   want \"%s\"\n", got, want);
	CHECK(!strcmp(got, want), name);
}

static void test_find(void)
{
	const struct annot_map *m;

	m = annot_find(&table, ntohl(inet_addr("10.162.0.1")));
	CHECK(m && m->vpn == 2 && annot_vpn_name(&table, m->vpn) &&
	      !strcmp(annot_vpn_name(&table, m->vpn), "vpn2"),
	      "find: a /32 with its VPN's name");
	m = annot_find(&table, ntohl(inet_addr("10.153.1.255")));
	CHECK(m && m->vpn == 1 && m->len == 24, "find: the last address of a /24");
	CHECK(!annot_find(&table, ntohl(inet_addr("10.153.2.0"))),
	      "find: just past a /24");
	CHECK(!annot_find(&table, ntohl(inet_addr("10.162.0.2"))),
	      "find: between two /32s");
	CHECK(!annot_find(&table, 0), "find: below every mapping");
	CHECK(!annot_find(&table, 0xffffffff), "find: above every mapping");
	m = annot_find(&table, ntohl(inet_addr("10.153.0.77")));
	CHECK(m && m->vpn == 9 && !annot_vpn_name(&table, m->vpn),
	      "find: a VPN without a name");
	CHECK(annot_add_map(&table, 1, inet_addr("10.1.0.1"),
			    inet_addr("10.162.0.0"), 24) == -EINVAL &&
	      annot_add_map(&table, 1, 0, 0, 33) == -EINVAL,
	      "add: host bits or a length over 32 are refused");
}

static void scan_case(const char *s, size_t at, size_t want_len,
		      const char *want)
{
	uint32_t addr = 0;
	size_t n = annot_scan_addr(s, strlen(s), at, &addr);
	char name[256];

	snprintf(name, sizeof(name), "scan \"%s\" at %zu: %s", s, at,
		 want_len ? want : "none");
	CHECK(n == want_len && (!n || addr == ntohl(inet_addr(want))), name);
}

static void test_scan(void)
{
	scan_case("10.162.0.1", 0, 10, "10.162.0.1");
	scan_case("255.255.255.255", 0, 15, "255.255.255.255");
	scan_case("0.0.0.0", 0, 7, "0.0.0.0");
	scan_case("x 10.162.0.1:80", 2, 10, "10.162.0.1");
	scan_case("(10.162.0.1)", 1, 10, "10.162.0.1");
	scan_case("to 10.162.0.1.", 3, 10, "10.162.0.1");
	scan_case("...10.162.0.1", 3, 10, "10.162.0.1");
	scan_case("::ffff:10.162.0.1", 7, 10, "10.162.0.1");
	scan_case("110.162.0.11", 1, 0, NULL);
	scan_case("10.162.0.1.5", 0, 0, NULL);
	scan_case("1.10.162.0.1", 2, 0, NULL);
	scan_case("1.2.3.4.5", 0, 0, NULL);
	scan_case("1.2.3.4.5", 2, 0, NULL);
	scan_case("v10.162.0.1", 1, 0, NULL);
	scan_case("10.162.0.1x", 0, 0, NULL);
	scan_case("10.162.0.1_", 0, 0, NULL);
	scan_case("10.162.0.1.example", 0, 0, NULL);
	scan_case("10.162.0.256", 0, 0, NULL);
	scan_case("10.162.0.1234", 0, 0, NULL);
	scan_case("10.162.0", 0, 0, NULL);
	scan_case("10.162.0.", 0, 0, NULL);
	scan_case("10.162..1", 0, 0, NULL);
	scan_case("10.162.00.1", 0, 0, NULL);
	scan_case("010.162.0.1", 0, 0, NULL);
	scan_case("1.2.3", 0, 0, NULL);
}

static void test_lines(void)
{
	line_case("connect ECONNREFUSED 10.162.0.1\n",
		  "connect ECONNREFUSED 10.162.0.1 [vpn2 10.1.0.0]\n");
	line_case("connect ECONNREFUSED 10.162.0.1",
		  "connect ECONNREFUSED 10.162.0.1 [vpn2 10.1.0.0]");
	line_case("10.162.0.1", "10.162.0.1 [vpn2 10.1.0.0]");
	line_case("", "");
	line_case("\n", "\n");
	line_case("nothing to see here 1.2.3\n", "nothing to see here 1.2.3\n");
	/* Several per line, mapped or not, glued to punctuation. */
	line_case("src=10.162.0.0 dst=10.162.0.1 via 192.0.2.1, 10.162.0.9.\n",
		  "src=10.162.0.0 [acme 10.1.0.0] dst=10.162.0.1 [vpn2 10.1.0.0] "
		  "via 192.0.2.1, 10.162.0.9 [acme 10.1.0.9].\n");
	line_case("10.162.0.0,10.162.0.1;(10.162.0.9)",
		  "10.162.0.0 [acme 10.1.0.0],10.162.0.1 [vpn2 10.1.0.0];"
		  "(10.162.0.9 [acme 10.1.0.9])");
	/* A port or a prefix length stays with its address. */
	line_case("peer 10.162.0.1:443 closed",
		  "peer 10.162.0.1:443 [vpn2 10.1.0.0] closed");
	line_case("route 10.153.1.0/24 added",
		  "route 10.153.1.0/24 [acme 192.168.7.0] added");
	line_case("10.162.0.1: timed out",
		  "10.162.0.1 [vpn2 10.1.0.0]: timed out");
	line_case("10.162.0.1:65536 10.162.0.1/33 10.162.0.1:http",
		  "10.162.0.1 [vpn2 10.1.0.0]:65536 10.162.0.1 [vpn2 10.1.0.0]/33 "
		  "10.162.0.1 [vpn2 10.1.0.0]:http");
	/* Prefix mappings: each address by its offset. */
	line_case("10.153.1.0 10.153.1.77 10.153.1.255",
		  "10.153.1.0 [acme 192.168.7.0] 10.153.1.77 [acme 192.168.7.77] "
		  "10.153.1.255 [acme 192.168.7.255]");
	line_case("10.157.200.3", "10.157.200.3 [vpn2 10.2.200.3]");
	line_case("10.153.0.5", "10.153.0.5 [vpn 9 172.16.0.5]");
	/* Unknown addresses and look-alikes pass through untouched. */
	line_case("10.162.0.2 10.153.2.0 10.160.0.1\n",
		  "10.162.0.2 10.153.2.0 10.160.0.1\n");
	line_case("110.162.0.11 10.162.0.1.5 1.10.162.0.1 10.162.0.10 v10.162.0.1",
		  "110.162.0.11 10.162.0.1.5 1.10.162.0.1 10.162.0.10 v10.162.0.1");
	line_case("rnat-10.162.0.1.tar.gz 10.162.0.1a 10.162.0.01",
		  "rnat-10.162.0.1.tar.gz 10.162.0.1a 10.162.0.01");
	line_case("version 10.162.0.1.2 and 3.10.162.0.1",
		  "version 10.162.0.1.2 and 3.10.162.0.1");
	line_case("-10.162.0.1- \t10.162.0.1\r\n",
		  "-10.162.0.1 [vpn2 10.1.0.0]- \t10.162.0.1 [vpn2 10.1.0.0]\r\n");
}

/* annot_line() of exactly @len bytes of @s in a buffer of that size. */
static const char *annotate_exact(const char *s)
{
	size_t len = strlen(s);
	char *buf = malloc(len);
	const char *got;

	memcpy(buf, s, len);
	got = annotate(buf, len);
	free(buf);
	return got;
}

static void test_line_bytes(void)
{
	/* A NUL byte does not end the line. */
	static const char in[] = "a\0 10.162.0.1 b";
	static const char want[] = "a\0 10.162.0.1 [vpn2 10.1.0.0] b";
	const char *got;

	got = annotate(in, sizeof(in) - 1);
	CHECK(!memcmp(got, want, sizeof(want)), "a NUL byte inside a line");
	/* No NUL after the bytes: ASan catches any read past them. */
	CHECK(!strcmp(annotate_exact("10.162.0.1"), "10.162.0.1 [vpn2 10.1.0.0]"),
	      "an address ending an unterminated buffer");
	CHECK(!strcmp(annotate_exact("10.162.0.1:"), "10.162.0.1 [vpn2 10.1.0.0]:"),
	      "a colon ending an unterminated buffer");
	CHECK(!strcmp(annotate_exact("10.162.0.1:8"), "10.162.0.1:8 [vpn2 10.1.0.0]"),
	      "a port ending an unterminated buffer");
	CHECK(!strcmp(annotate_exact("10.162.0.1/3"), "10.162.0.1/3 [vpn2 10.1.0.0]"),
	      "a length ending an unterminated buffer");
	CHECK(!strcmp(annotate_exact("10.162.0.1."), "10.162.0.1 [vpn2 10.1.0.0]."),
	      "a full stop ending an unterminated buffer");
	CHECK(!strcmp(annotate_exact("x 10.162.0"), "x 10.162.0"),
	      "half an address ending an unterminated buffer");
}

/* annot_stream() of @in read from a file: what it wrote, its status in
 * *@err.
 */
static char *stream(const char *in, size_t len, int *err)
{
	char *out = NULL;
	size_t n;
	FILE *fi = tmpfile();
	FILE *fo = open_memstream(&out, &n);

	if (!fi || !fo || fwrite(in, 1, len, fi) != len || fflush(fi) ||
	    lseek(fileno(fi), 0, SEEK_SET))
		abort();
	*err = annot_stream(&table, fileno(fi), fo, NULL);
	fclose(fi);
	fclose(fo);
	return out;
}

/* Reads from @fd until a newline or for at most 5 s: what came, or "". */
static const char *read_line(int fd)
{
	static char buf[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1 && (!n || buf[n - 1] != '\n')) {
		if (poll(&p, 1, 5000) != 1)
			break;
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * In a pipe, each line comes out annotated before the next one goes in,
 * even when it arrives in pieces: a child feeds the lines and checks what
 * comes back between them, and exits with the number of the first step
 * that went wrong.
 */
static void test_pipe(void)
{
	int in[2], out[2], status = -1, err;
	pid_t pid;
	FILE *fo;

	if (pipe(in) || pipe(out))
		abort();
	/* A child that gave up must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	if (!pid) {
		close(in[0]);
		close(out[1]);
		if (write(in[1], "a 10.162.0.1\n", 13) != 13)
			_exit(1);
		if (strcmp(read_line(out[0]), "a 10.162.0.1 [vpn2 10.1.0.0]\n"))
			_exit(2);
		if (write(in[1], "b 10.16", 7) != 7)
			_exit(3);
		usleep(50000);
		if (write(in[1], "2.0.0:80\nc", 10) != 10)
			_exit(4);
		if (strcmp(read_line(out[0]), "b 10.162.0.0:80 [acme 10.1.0.0]\n"))
			_exit(5);
		if (write(in[1], " 10.162.0.9", 11) != 11)
			_exit(6);
		close(in[1]);
		if (strcmp(read_line(out[0]), "c 10.162.0.9 [acme 10.1.0.9]"))
			_exit(7);
		_exit(0);
	}
	close(in[1]);
	close(out[0]);
	fo = fdopen(out[1], "w");
	if (!fo)
		abort();
	err = annot_stream(&table, in[0], fo, NULL);
	fclose(fo);
	close(in[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("#   child status 0x%x\n", status);
	CHECK(!err && WIFEXITED(status) && !WEXITSTATUS(status),
	      "stream: in a pipe every line comes out before the next goes in");
}

static void test_stream(void)
{
	static const char in[] = "a 10.162.0.1\n\nb 10.162.0.0:80\nlast 10.153.1.2";
	char *out, *big, *p;
	size_t i, n = 1 << 20;
	int err, fd;
	FILE *fo;

	out = stream(in, sizeof(in) - 1, &err);
	CHECK(!err && !strcmp(out, "a 10.162.0.1 [vpn2 10.1.0.0]\n\n"
			      "b 10.162.0.0:80 [acme 10.1.0.0]\n"
			      "last 10.153.1.2 [acme 192.168.7.2]"),
	      "stream: lines kept, the last one without its newline");
	free(out);
	out = stream("", 0, &err);
	CHECK(!err && (!out || !*out), "stream: empty input");
	free(out);

	/* A 1 MiB line with addresses at both ends and in the middle. */
	big = malloc(n + 64);
	p = big + sprintf(big, "10.162.0.1 ");
	for (i = 0; i < n / 2; i++)
		*p++ = 'x';
	p += sprintf(p, " 10.162.0.9 ");
	while (p < big + n)
		*p++ = i++ % 7 ? '.' : '1';
	p += sprintf(p, " 10.162.0.0\nshort 10.162.0.1\n");
	out = stream(big, p - big, &err);
	CHECK(!err && out && strlen(out) == (size_t)(p - big) + 4 * 16 &&
	      !strncmp(out, "10.162.0.1 [vpn2 10.1.0.0] xxx", 30) &&
	      strstr(out, "x 10.162.0.9 [acme 10.1.0.9] ..") &&
	      strstr(out, ". 10.162.0.0 [acme 10.1.0.0]\nshort 10.162.0.1 [vpn2 10.1.0.0]\n"),
	      "stream: a 1 MiB line is annotated whole");
	free(out);
	free(big);

	out = NULL;
	fo = open_memstream(&out, &i);
	fd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK(fo && fd >= 0 && annot_stream(&table, fd, fo, NULL) == 1 &&
	      errno == EISDIR, "stream: a read error is reported as one");
	fclose(fo);
	free(out);
	close(fd);
	test_pipe();
}

/* Starts a reply as a dump would carry it. */
static struct nlmsghdr *reply(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	mnl_nlmsg_put_extra_header(nlh, sizeof(struct genlmsghdr));
	return nlh;
}

/* Hands the reply to @cb as nl.c does: its status. */
static int feed(struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];

	if (nl_parse_reply(nlh, tb))
		return -EPROTO;
	return cb(tb, data);
}

/* The table built from dump replies, as "rnatctl annotate" loads it. */
static void test_replies(void)
{
	struct annot_table t = { 0 };
	char buf[512], *out = NULL;
	struct nlmsghdr *nlh;
	const char *got;
	size_t n;
	FILE *f;

	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 4);
	mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, "globex");
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "AWS_CAN_CENTRAL");
	mnl_attr_put_u32(nlh, RNAT_A_IFINDEX, 7);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_MAPPINGS, 2);
	CHECK(!feed(nlh, annot_vpn_reply, &t), "reply: a VPN");
	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 5);
	CHECK(!feed(nlh, annot_vpn_reply, &t), "reply: a VPN without a name");

	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 4);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("10.9.0.0"));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr("10.160.0.0"));
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, 16);
	mnl_attr_put_strz(nlh, RNAT_A_POOL, "AWS_CAN_CENTRAL");
	CHECK(!feed(nlh, annot_map_reply, &t), "reply: a /16 mapping");
	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 5);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("10.1.0.0"));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr("10.161.0.3"));
	CHECK(!feed(nlh, annot_map_reply, &t), "reply: a mapping without a length is a /32");
	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 5);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("10.1.0.0"));
	CHECK(feed(nlh, annot_map_reply, &t) == -EPROTO &&
	      !strcmp(nl_strerror(-EPROTO), "malformed mapping from the kernel"),
	      "reply: a mapping without a NAT address is malformed");
	nlh = reply(buf);
	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, 5);
	mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr("10.1.0.0"));
	mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr("10.161.0.3"));
	mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, 24);
	CHECK(feed(nlh, annot_map_reply, &t) == -EPROTO,
	      "reply: a mapping with host bits set is malformed");
	CHECK(t.nvpns == 1 && t.nmaps == 2, "reply: one VPN name, two mappings kept");

	CHECK(!annot_finish(&t), "reply: the table sorts");
	f = open_memstream(&out, &n);
	got = "10.160.3.4 10.161.0.3 10.161.0.4\n";
	if (!f || annot_line(&t, got, strlen(got), f))
		abort();
	fclose(f);
	CHECK(out && !strcmp(out, "10.160.3.4 [globex 10.9.3.4] "
			     "10.161.0.3 [vpn 5 10.1.0.0] 10.161.0.4\n"),
	      "reply: the loaded table annotates");
	free(out);
	annot_free(&t);
}

/* An event as the kernel multicasts it, applied to @t: its status. */
static int event(struct annot_table *t, uint8_t cmd, uint32_t vpn,
		 const char *real, const char *nat, int len, const char *name)
{
	const struct nlattr *tb[RNAT_A_MAX + 1];
	char buf[512];
	struct nlmsghdr *nlh = reply(buf);

	mnl_attr_put_u32(nlh, RNAT_A_VPN_ID, vpn);
	if (real)
		mnl_attr_put_u32(nlh, RNAT_A_MAP_REAL, inet_addr(real));
	if (nat)
		mnl_attr_put_u32(nlh, RNAT_A_MAP_NAT, inet_addr(nat));
	if (len)
		mnl_attr_put_u8(nlh, RNAT_A_MAP_PLEN, len);
	if (name)
		mnl_attr_put_strz(nlh, RNAT_A_VPN_NAME, name);
	if (nl_parse_reply(nlh, tb))
		return -EPROTO;
	return annot_event(t, cmd, 0, tb);
}

/* annot_line() of @in with @t, as a string (freed by the next call). */
static const char *annotate_with(const struct annot_table *t, const char *in)
{
	static char *buf;
	size_t n;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &n);
	if (!f || annot_line(t, in, strlen(in), f))
		abort();
	fclose(f);
	return buf;
}

static void event_case(const struct annot_table *t, const char *in,
		       const char *want, const char *name)
{
	const char *got = annotate_with(t, in);

	if (strcmp(got, want))
		printf("#   got  \"%s\"\n#   want \"%s\"\n", got, want);
	CHECK(!strcmp(got, want), name);
}

/* The table the events keep current: never an owner that is no more. */
static void test_events(void)
{
	struct annot_table t = { 0 };
	const char *line = "a 10.162.0.1 b 10.162.0.2 c 10.153.1.7 d 10.157.0.3\n";
	char addr[32];
	int i, ok;

	if (annot_add_vpn(&t, 1, "acme") || annot_add_vpn(&t, 2, "globex") ||
	    annot_add_map(&t, 1, inet_addr("10.1.0.1"), inet_addr("10.162.0.1"), 32) ||
	    annot_add_map(&t, 2, inet_addr("10.1.0.2"), inet_addr("10.162.0.2"), 32) ||
	    annot_add_map(&t, 1, inet_addr("192.168.0.0"), inet_addr("10.153.1.0"), 24) ||
	    annot_finish(&t))
		abort();
	event_case(&t, line, "a 10.162.0.1 [acme 10.1.0.1] b 10.162.0.2 [globex 10.1.0.2] "
		   "c 10.153.1.7 [acme 192.168.0.7] d 10.157.0.3\n", "events: the table as read");

	CHECK(!event(&t, RNAT_CMD_MAP_DEL, 2, "10.1.0.2", "10.162.0.2", 0, NULL),
	      "events: map del applies");
	event_case(&t, line, "a 10.162.0.1 [acme 10.1.0.1] b 10.162.0.2 "
		   "c 10.153.1.7 [acme 192.168.0.7] d 10.157.0.3\n",
		   "events: a deleted NAT IP is no longer annotated");
	CHECK(!event(&t, RNAT_CMD_MAP_NEW, 1, "10.9.0.9", "10.162.0.2", 0, NULL),
	      "events: map add applies");
	event_case(&t, line, "a 10.162.0.1 [acme 10.1.0.1] b 10.162.0.2 [acme 10.9.0.9] "
		   "c 10.153.1.7 [acme 192.168.0.7] d 10.157.0.3\n",
		   "events: a NAT IP handed to another VPN names the new owner");

	/* A replace: its old mappings go first, as the kernel announces it. */
	CHECK(!event(&t, RNAT_CMD_MAP_DEL, 1, "10.1.0.1", "10.162.0.1", 0, NULL) &&
	      !event(&t, RNAT_CMD_MAP_NEW, 2, "10.1.0.1", "10.162.0.1", 0, NULL),
	      "events: a replace applies");
	event_case(&t, "10.162.0.1\n", "10.162.0.1 [globex 10.1.0.1]\n",
		   "events: a replaced mapping names its new VPN");

	/* A /24 of the table read gives way to a /32 inside it. */
	CHECK(!event(&t, RNAT_CMD_MAP_DEL, 1, "192.168.0.0", "10.153.1.0", 24, NULL) &&
	      !event(&t, RNAT_CMD_MAP_NEW, 2, "10.5.0.0", "10.153.1.9", 32, NULL),
	      "events: a prefix mapping deleted, a /32 added inside");
	event_case(&t, "10.153.1.7 10.153.1.9\n", "10.153.1.7 10.153.1.9 [globex 10.5.0.0]\n",
		   "events: the deleted prefix's addresses are unmapped");

	/* Replayed events (they arrived while the table was read) change nothing. */
	CHECK(!event(&t, RNAT_CMD_MAP_NEW, 2, "10.5.0.0", "10.153.1.9", 32, NULL) &&
	      !event(&t, RNAT_CMD_MAP_DEL, 1, "192.168.0.0", "10.153.1.0", 24, NULL) &&
	      !event(&t, RNAT_CMD_MAP_DEL, 7, "10.0.0.7", "10.100.0.7", 32, NULL),
	      "events: replays and unknown mappings apply");
	event_case(&t, line, "a 10.162.0.1 [globex 10.1.0.1] b 10.162.0.2 [acme 10.9.0.9] "
		   "c 10.153.1.7 d 10.157.0.3\n", "events: replays change nothing");

	/* VPN names come and go with the VPN. */
	CHECK(!event(&t, RNAT_CMD_VPN_SET, 2, NULL, NULL, 0, "initech") &&
	      !event(&t, RNAT_CMD_VPN_NEW, 3, NULL, NULL, 0, "hooli") &&
	      !event(&t, RNAT_CMD_MAP_NEW, 3, "10.1.0.3", "10.157.0.3", 0, NULL),
	      "events: vpn set, vpn add and its mapping apply");
	event_case(&t, line, "a 10.162.0.1 [initech 10.1.0.1] b 10.162.0.2 [acme 10.9.0.9] "
		   "c 10.153.1.7 d 10.157.0.3 [hooli 10.1.0.3]\n",
		   "events: a renamed VPN's new name, a new VPN's mapping");

	/* A flush takes the VPN's mappings, read or added since. */
	CHECK(!event(&t, RNAT_CMD_MAP_FLUSH, 2, NULL, NULL, 0, NULL),
	      "events: map flush applies");
	event_case(&t, line, "a 10.162.0.1 b 10.162.0.2 [acme 10.9.0.9] "
		   "c 10.153.1.7 d 10.157.0.3 [hooli 10.1.0.3]\n",
		   "events: a flushed VPN's mappings are unmapped");
	CHECK(!event(&t, RNAT_CMD_VPN_DEL, 1, NULL, NULL, 0, NULL) &&
	      !event(&t, RNAT_CMD_VPN_NEW, 1, NULL, NULL, 0, NULL) &&
	      !event(&t, RNAT_CMD_MAP_NEW, 1, "10.1.0.2", "10.162.0.1", 0, NULL),
	      "events: vpn del, vpn add without a name, its mapping");
	event_case(&t, line, "a 10.162.0.1 [vpn 1 10.1.0.2] b 10.162.0.2 "
		   "c 10.153.1.7 d 10.157.0.3 [hooli 10.1.0.3]\n",
		   "events: a deleted VPN's mappings and name are gone");

	CHECK(event(&t, RNAT_CMD_MAP_NEW, 1, "10.1.0.2", NULL, 0, NULL) == -EPROTO &&
	      event(&t, RNAT_CMD_MAP_NEW, 1, "10.1.0.1", "10.162.0.0", 24, NULL) == -EPROTO,
	      "events: a malformed mapping event is refused");
	CHECK(event(&t, RNAT_CMD_RESTORE_COMMIT, 0, NULL, NULL, 0, NULL) == ANNOT_RELOAD,
	      "events: a restore asks for a reload");
	CHECK(!event(&t, RNAT_CMD_POOL_DEL, 0, NULL, NULL, 0, NULL),
	      "events: pool events change nothing");

	/* Many: several merges of what the events added into the table. */
	ok = 1;
	for (i = 0; i < 3 * ANNOT_ADDED_MAX + 5 && ok; i++) {
		snprintf(addr, sizeof(addr), "10.170.%d.%d", i / 256, i % 256);
		ok = !event(&t, RNAT_CMD_MAP_NEW, 3, addr, addr, 0, NULL);
		if (ok && i % 2) {
			snprintf(addr, sizeof(addr), "10.170.%d.%d", (i - 1) / 256,
				 (i - 1) % 256);
			ok = !event(&t, RNAT_CMD_MAP_DEL, 3, addr, addr, 0, NULL);
		}
	}
	CHECK(ok, "events: 12,293 added, half deleted");
	event_case(&t, "10.170.0.1 10.170.0.2 10.170.47.255 10.170.48.2 10.170.48.4\n",
		   "10.170.0.1 [hooli 10.170.0.1] 10.170.0.2 10.170.47.255 [hooli 10.170.47.255] "
		   "10.170.48.2 10.170.48.4 [hooli 10.170.48.4]\n",
		   "events: after merges, each address as the last event left it");
	event_case(&t, line, "a 10.162.0.1 [vpn 1 10.1.0.2] b 10.162.0.2 "
		   "c 10.153.1.7 d 10.157.0.3 [hooli 10.1.0.3]\n",
		   "events: after merges, the rest as before");
	annot_free(&t);
}

/* The source annot_stream() polls: a pipe; each byte on it is one event. */
static int fake_update(struct annot_table *t, void *arg)
{
	int fd = *(int *)arg;
	char c;

	while (read(fd, &c, 1) == 1)
		if (event(t, RNAT_CMD_MAP_DEL, 1, "10.1.0.0", "10.162.0.0", 0, NULL))
			return -1;
	return errno == EAGAIN ? 0 : -1;
}

/*
 * A stream whose table changes between two lines: the second line sees
 * the change, whether it was announced while the stream waited for input
 * or in the same moment as the line came.
 */
static void test_stream_events(void)
{
	struct annot_table t = { 0 };
	int in[2], ev[2], err;
	struct annot_source src = { .update = fake_update, .arg = &ev[0] };
	char *out = NULL;
	size_t n;
	FILE *fo;
	pid_t pid;

	if (annot_add_vpn(&t, 1, "acme") ||
	    annot_add_map(&t, 1, inet_addr("10.1.0.0"), inet_addr("10.162.0.0"), 32) ||
	    annot_finish(&t) || pipe(in) || pipe(ev) ||
	    fcntl(ev[0], F_SETFL, O_NONBLOCK))
		abort();
	src.fd = ev[0];
	pid = fork();
	if (pid < 0)
		abort();
	if (!pid) {
		close(in[0]);
		close(ev[0]);
		if (write(in[1], "x 10.162.0.0\n", 13) != 13)
			_exit(1);
		usleep(100000);
		/* The change, then a line about it, as a log would have it. */
		if (write(ev[1], "d", 1) != 1 ||
		    write(in[1], "y 10.162.0.0\n", 13) != 13)
			_exit(1);
		_exit(0);
	}
	close(in[1]);
	close(ev[1]);
	fo = open_memstream(&out, &n);
	err = annot_stream(&t, in[0], fo, &src);
	fclose(fo);
	waitpid(pid, NULL, 0);
	CHECK(!err && out && !strcmp(out, "x 10.162.0.0 [acme 10.1.0.0]\ny 10.162.0.0\n"),
	      "stream: a change announced before a line is applied to it");
	if (out && strcmp(out, "x 10.162.0.0 [acme 10.1.0.0]\ny 10.162.0.0\n"))
		printf("#   got \"%s\"\n", out);
	free(out);
	close(in[0]);
	close(ev[0]);
	annot_free(&t);
}

static void test_empty_table(void)
{
	struct annot_table empty = { 0 };
	char *out = NULL;
	size_t n;
	FILE *f = open_memstream(&out, &n);

	CHECK(!annot_finish(&empty), "an empty table sorts");
	CHECK(!annot_find(&empty, ntohl(inet_addr("10.162.0.1"))),
	      "an empty table finds nothing");
	CHECK(f && !annot_line(&empty, "10.162.0.1\n", 11, f), "an empty table copies");
	fclose(f);
	CHECK(out && !strcmp(out, "10.162.0.1\n"), "an empty table changes nothing");
	free(out);
	annot_free(&empty);
}

/* Usage errors come before any netlink; help prints the usage. */
static void test_usage(void)
{
	char w0[] = "foo", w1[] = "help", *argv[1];
	int ret;

	argv[0] = w0;
	capture_begin();
	ret = do_annotate(1, argv);
	capture_end();
	CHECK(ret == EXIT_USAGE && err_has("annotate: unexpected \"foo\"") &&
	      !cap_out_len && !nl_is_open(), "usage: an extra word");
	out_init(true);
	capture_begin();
	ret = do_annotate(0, argv);
	capture_end();
	out_init(false);
	CHECK(ret == EXIT_USAGE && err_has("no JSON output") && !nl_is_open(),
	      "usage: -j is refused");
	argv[0] = w1;
	capture_begin();
	ret = do_annotate(1, argv);
	capture_end();
	CHECK(!ret && cap_out && strstr(cap_out, "Usage: rnatctl annotate") &&
	      !cap_err_len, "usage: help");
	capture_free();
}

int main(void)
{
	setup();
	test_find();
	test_scan();
	test_lines();
	test_line_bytes();
	test_stream();
	test_empty_table();
	test_replies();
	test_events();
	test_stream_events();
	test_usage();
	annot_free(&table);
	return unit_exit();
}
