// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: packet rewriting (#included by translate.c). Each case builds a
 * packet, translates it, then builds the packet it should have become from
 * scratch, every checksum computed afresh, and compares the bytes.
 */

#include <kunit/test.h>
#include <linux/inet.h>

#define RNAT_TEST_BUF 512

struct rnat_test_pkt {
	const char *src;
	const char *dst;
	u8 protocol;
	u8 optlen;		/* IP options, multiple of 4 */
	u16 payload;		/* L4 payload bytes */
	bool zero_udp_csum;
	u16 frag_off;		/* host order, IP_MF and offset in 8 bytes */
	u8 icmp_type;
	u8 icmp_code;
	const struct rnat_test_pkt *inner;	/* for ICMP errors */
	u16 inner_len;		/* bytes of the embedded packet kept */
};

static unsigned int rnat_test_build(const struct rnat_test_pkt *p, u8 *buf);

/* The L4 header and payload of @p, checksummed over the whole datagram. */
static unsigned int rnat_test_l4(const struct rnat_test_pkt *p, u8 *l4,
				 __be32 saddr, __be32 daddr)
{
	unsigned int len, i;
	struct icmphdr *icmph;
	struct udphdr *uh;
	struct tcphdr *th;

	switch (p->protocol) {
	case IPPROTO_UDP:
		len = sizeof(*uh) + p->payload;
		uh = (struct udphdr *)l4;
		uh->source = htons(4000);
		uh->dest = htons(53);
		uh->len = htons(len);
		break;
	case IPPROTO_TCP:
		len = sizeof(*th) + p->payload;
		th = (struct tcphdr *)l4;
		th->source = htons(40000);
		th->dest = htons(80);
		th->seq = htonl(0x12345678);
		th->doff = sizeof(*th) / 4;
		th->syn = 1;
		th->window = htons(1000);
		break;
	default:
		len = sizeof(*icmph);
		icmph = (struct icmphdr *)l4;
		icmph->type = p->icmp_type;
		icmph->code = p->icmp_code;
		if (p->inner) {
			u8 *inner = kmalloc(RNAT_TEST_BUF, GFP_KERNEL);

			if (inner) {
				rnat_test_build(p->inner, inner);
				memcpy(l4 + len, inner, p->inner_len);
				kfree(inner);
			}
			len += p->inner_len;
		} else {
			icmph->un.echo.id = htons(7);
			len += p->payload;
		}
	}
	if (!p->inner)
		for (i = len - p->payload; i < len; i++)
			l4[i] = i * 7;

	switch (p->protocol) {
	case IPPROTO_UDP:
		uh = (struct udphdr *)l4;
		if (!p->zero_udp_csum) {
			uh->check = csum_tcpudp_magic(saddr, daddr, len, IPPROTO_UDP,
						      csum_partial(l4, len, 0));
			uh->check = uh->check ?: CSUM_MANGLED_0;
		}
		break;
	case IPPROTO_TCP:
		th = (struct tcphdr *)l4;
		th->check = csum_tcpudp_magic(saddr, daddr, len, IPPROTO_TCP,
					      csum_partial(l4, len, 0));
		break;
	default:
		icmph = (struct icmphdr *)l4;
		icmph->checksum = ip_compute_csum(l4, len);
	}
	return len;
}

/* Builds @p into @buf and returns its length. */
static unsigned int rnat_test_build(const struct rnat_test_pkt *p, u8 *buf)
{
	struct iphdr *iph = (struct iphdr *)buf;
	unsigned int ihl = sizeof(*iph) + p->optlen;
	unsigned int len;

	memset(buf, 0, RNAT_TEST_BUF);
	iph->version = 4;
	iph->ihl = ihl / 4;
	iph->ttl = 64;
	iph->id = htons(0x4242);
	iph->protocol = p->protocol;
	iph->saddr = in_aton(p->src);
	iph->daddr = in_aton(p->dst);
	memset(buf + sizeof(*iph), IPOPT_NOOP, p->optlen);
	len = ihl + rnat_test_l4(p, buf + ihl, iph->saddr, iph->daddr);
	iph->tot_len = htons(len);
	iph->check = ip_fast_csum(buf, iph->ihl);
	return len;
}

static struct sk_buff *rnat_test_skb(struct kunit *test, const u8 *data,
				     unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len + 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, skb);
	skb_reserve(skb, 32);
	skb_put_data(skb, data, len);
	skb_reset_network_header(skb);
	skb->protocol = htons(ETH_P_IP);
	return skb;
}

static void rnat_test_expect_bytes(struct kunit *test, const struct sk_buff *skb,
				   const u8 *want, unsigned int len)
{
	unsigned int i;

	KUNIT_ASSERT_EQ(test, skb->len, len);
	for (i = 0; i < len; i++) {
		if (skb->data[i] != want[i]) {
			KUNIT_FAIL(test, "byte %u is %02x, want %02x", i,
				   skb->data[i], want[i]);
			return;
		}
	}
}

/*
 * Translates @in's @field to @to (and an ICMP error's embedded opposite field
 * to @inner_to), then compares with @out built from scratch.
 */
static void rnat_test_translate(struct kunit *test,
				const struct rnat_test_pkt *in,
				const struct rnat_test_pkt *out,
				enum rnat_field field, const char *to,
				const char *inner_to)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct sk_buff *skb;
	struct rnat_pkt pkt;
	unsigned int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = rnat_test_build(in, buf);
	skb = rnat_test_skb(test, buf, len);
	KUNIT_ASSERT_EQ(test, rnat_pkt_parse(skb, &pkt), 0);
	KUNIT_EXPECT_EQ(test, rnat_rewrite(skb, &pkt, field, in_aton(to),
					   inner_to ? in_aton(inner_to) : 0), 0);
	len = rnat_test_build(out, buf);
	rnat_test_expect_bytes(test, skb, buf, len);
	kfree_skb(skb);
}

static void rnat_translate_test_udp_source(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_UDP, .payload = 33,
	};
	struct rnat_test_pkt out = in;

	out.src = "10.162.0.0";
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.162.0.0", NULL);
}

static void rnat_translate_test_udp_destination(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.200.0.1", .dst = "10.162.0.1",
		.protocol = IPPROTO_UDP, .payload = 100,
	};
	struct rnat_test_pkt out = in;

	out.dst = "10.1.0.0";
	rnat_test_translate(test, &in, &out, RNAT_DADDR, "10.1.0.0", NULL);
}

static void rnat_translate_test_udp_zero_checksum(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_UDP, .payload = 8, .zero_udp_csum = true,
	};
	struct rnat_test_pkt out = in;

	out.src = "10.153.7.9";
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.153.7.9", NULL);
}

static void rnat_translate_test_tcp_both_ways(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_TCP, .payload = 57,
	};
	struct rnat_test_pkt out = in;

	out.src = "10.162.0.0";
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.162.0.0", NULL);
	in.src = "10.200.0.1";
	in.dst = "10.162.0.0";
	out = in;
	out.dst = "10.1.0.0";
	rnat_test_translate(test, &in, &out, RNAT_DADDR, "10.1.0.0", NULL);
}

static void rnat_translate_test_icmp_echo(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.200.0.1", .dst = "10.162.0.1",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_ECHO, .payload = 56,
	};
	struct rnat_test_pkt out = in;

	out.dst = "10.1.0.0";
	rnat_test_translate(test, &in, &out, RNAT_DADDR, "10.1.0.0", NULL);
}

static void rnat_translate_test_ip_options(struct kunit *test)
{
	struct rnat_test_pkt in = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_UDP, .payload = 20, .optlen = 8,
	};
	struct rnat_test_pkt out = in;

	out.src = "10.162.0.0";
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.162.0.0", NULL);
}

/* A customer host refuses a UDP datagram the core sent it. */
static void rnat_translate_test_icmp_error_from_vpn(struct kunit *test)
{
	struct rnat_test_pkt inner = {
		.src = "10.200.0.1", .dst = "10.1.0.0",
		.protocol = IPPROTO_UDP, .payload = 40,
	};
	struct rnat_test_pkt in = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_PORT_UNREACH, .inner = &inner,
		.inner_len = sizeof(struct iphdr) + 8,
	};
	struct rnat_test_pkt inner_out = inner;
	struct rnat_test_pkt out = in;

	inner_out.dst = "10.162.0.1";
	out.src = "10.162.0.1";
	out.inner = &inner_out;
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.162.0.1",
			    "10.162.0.1");
}

/* The core answers a VPN's TCP packet with an error that carries it all. */
static void rnat_translate_test_icmp_error_into_vpn(struct kunit *test)
{
	struct rnat_test_pkt inner = {
		.src = "10.162.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_TCP, .payload = 0,
	};
	struct rnat_test_pkt in = {
		.src = "10.200.0.254", .dst = "10.162.0.0",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_FRAG_NEEDED, .inner = &inner,
		.inner_len = sizeof(struct iphdr) + sizeof(struct tcphdr),
	};
	struct rnat_test_pkt inner_out = inner;
	struct rnat_test_pkt out = in;

	inner_out.src = "10.1.0.0";
	out.dst = "10.1.0.0";
	out.inner = &inner_out;
	rnat_test_translate(test, &in, &out, RNAT_DADDR, "10.1.0.0", "10.1.0.0");
}

/* An unmapped customer router reports on a mapped host. */
static void rnat_translate_test_icmp_error_truncated_inner(struct kunit *test)
{
	struct rnat_test_pkt inner = {
		.src = "10.200.0.1", .dst = "10.1.0.0",
		.protocol = IPPROTO_TCP,
	};
	struct rnat_test_pkt in = {
		.src = "10.1.0.254", .dst = "10.200.0.1",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_TIME_EXCEEDED,
		.inner = &inner, .inner_len = sizeof(struct iphdr) + 8,
	};
	struct rnat_test_pkt inner_out = inner;
	struct rnat_test_pkt out = in;

	/* Only 8 bytes of TCP: the embedded checksum is not there to fix. */
	inner_out.dst = "10.162.0.1";
	out.src = "10.162.0.1";
	out.inner = &inner_out;
	rnat_test_translate(test, &in, &out, RNAT_SADDR, "10.162.0.1",
			    "10.162.0.1");
}

/* Later fragments: the IP header changes, payload bytes never do. */
static void rnat_translate_test_later_fragment(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct rnat_test_pkt p = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_UDP, .payload = 64,
	};
	struct sk_buff *skb;
	struct rnat_pkt pkt;
	struct iphdr *iph;
	unsigned int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = rnat_test_build(&p, buf);
	iph = (struct iphdr *)buf;
	iph->frag_off = htons(3);	/* offset 24 bytes */
	iph->check = 0;
	iph->check = ip_fast_csum(buf, iph->ihl);
	skb = rnat_test_skb(test, buf, len);
	KUNIT_ASSERT_EQ(test, rnat_pkt_parse(skb, &pkt), 0);
	KUNIT_EXPECT_TRUE(test, pkt.fragment);
	KUNIT_ASSERT_EQ(test, rnat_rewrite(skb, &pkt, RNAT_SADDR,
					   in_aton("10.162.0.0"), 0), 0);
	iph->saddr = in_aton("10.162.0.0");
	iph->check = 0;
	iph->check = ip_fast_csum(buf, iph->ihl);
	rnat_test_expect_bytes(test, skb, buf, len);
	kfree_skb(skb);
}

/*
 * A first fragment carries the checksum of the whole datagram: it must end
 * up equal to the checksum of the whole datagram with the new address.
 */
static void rnat_translate_test_first_fragment(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct rnat_test_pkt p = {
		.src = "10.200.0.1", .dst = "10.162.0.1",
		.protocol = IPPROTO_UDP, .payload = 200,
	};
	const unsigned int first = sizeof(struct iphdr) + 64;
	struct sk_buff *skb;
	struct rnat_pkt pkt;
	struct iphdr *iph = (struct iphdr *)buf;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	rnat_test_build(&p, buf);
	iph->frag_off = htons(IP_MF);
	iph->tot_len = htons(first);
	iph->check = 0;
	iph->check = ip_fast_csum(buf, iph->ihl);
	skb = rnat_test_skb(test, buf, first);
	KUNIT_ASSERT_EQ(test, rnat_pkt_parse(skb, &pkt), 0);
	KUNIT_EXPECT_FALSE(test, pkt.fragment);
	KUNIT_ASSERT_EQ(test, rnat_rewrite(skb, &pkt, RNAT_DADDR,
					   in_aton("10.1.0.0"), 0), 0);

	p.dst = "10.1.0.0";
	rnat_test_build(&p, buf);
	iph->frag_off = htons(IP_MF);
	iph->tot_len = htons(first);
	iph->check = 0;
	iph->check = ip_fast_csum(buf, iph->ihl);
	rnat_test_expect_bytes(test, skb, buf, first);
	kfree_skb(skb);
}

/* Locally generated traffic: the checksum field holds the pseudo-header. */
static void rnat_translate_test_checksum_partial(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct rnat_test_pkt p = {
		.src = "10.200.0.1", .dst = "10.162.0.1",
		.protocol = IPPROTO_TCP, .payload = 100,
	};
	unsigned int len, l4len = sizeof(struct tcphdr) + 100;
	struct sk_buff *skb;
	__sum16 want;
	struct rnat_pkt pkt;
	struct tcphdr *th;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = rnat_test_build(&p, buf);
	th = (struct tcphdr *)(buf + sizeof(struct iphdr));
	th->check = ~csum_tcpudp_magic(in_aton(p.src), in_aton(p.dst), l4len,
				       IPPROTO_TCP, 0);
	skb = rnat_test_skb(test, buf, len);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_headroom(skb) + sizeof(struct iphdr);
	skb->csum_offset = offsetof(struct tcphdr, check);
	KUNIT_ASSERT_EQ(test, rnat_pkt_parse(skb, &pkt), 0);
	KUNIT_ASSERT_EQ(test, rnat_rewrite(skb, &pkt, RNAT_DADDR,
					   in_aton("10.1.0.0"), 0), 0);
	skb_set_transport_header(skb, sizeof(struct iphdr));
	th = tcp_hdr(skb);
	want = ~csum_tcpudp_magic(in_aton(p.src), in_aton("10.1.0.0"), l4len,
				  IPPROTO_TCP, 0);
	KUNIT_EXPECT_EQ(test, (__force u16)th->check, (__force u16)want);
	KUNIT_EXPECT_EQ(test, (__force u16)ip_fast_csum(skb->data, 5), 0);
	kfree_skb(skb);
}

/* A received skb whose device summed it: skb->csum must follow the change. */
static void rnat_translate_test_checksum_complete(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct rnat_test_pkt p = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_UDP, .payload = 77,
	};
	struct sk_buff *skb;
	struct rnat_pkt pkt;
	unsigned int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = rnat_test_build(&p, buf);
	skb = rnat_test_skb(test, buf, len);
	skb->ip_summed = CHECKSUM_COMPLETE;
	skb->csum = csum_partial(skb->data, skb->len, 0);
	KUNIT_ASSERT_EQ(test, rnat_pkt_parse(skb, &pkt), 0);
	KUNIT_ASSERT_EQ(test, rnat_rewrite(skb, &pkt, RNAT_SADDR,
					   in_aton("10.162.3.4"), 0), 0);
	KUNIT_EXPECT_EQ(test, (__force u16)csum_fold(skb->csum),
			(__force u16)csum_fold(csum_partial(skb->data, skb->len, 0)));
	p.src = "10.162.3.4";
	len = rnat_test_build(&p, buf);
	rnat_test_expect_bytes(test, skb, buf, len);
	kfree_skb(skb);
}

static int rnat_test_parse_bytes(struct kunit *test, const u8 *buf,
				 unsigned int len)
{
	struct sk_buff *skb = rnat_test_skb(test, buf, len);
	struct rnat_pkt pkt;
	int err;

	err = rnat_pkt_parse(skb, &pkt);
	kfree_skb(skb);
	return err;
}

static void rnat_translate_test_truncated(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, RNAT_TEST_BUF, GFP_KERNEL);
	struct rnat_test_pkt tcp = {
		.src = "10.1.0.0", .dst = "10.200.0.1", .protocol = IPPROTO_TCP,
	};
	struct rnat_test_pkt inner = {
		.src = "10.200.0.1", .dst = "10.1.0.0", .protocol = IPPROTO_UDP,
	};
	struct rnat_test_pkt err = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_DEST_UNREACH,
		.inner = &inner, .inner_len = 12,
	};
	struct rnat_test_pkt redirect = {
		.src = "10.1.0.0", .dst = "10.200.0.1",
		.protocol = IPPROTO_ICMP, .icmp_type = ICMP_REDIRECT,
		.inner = &inner, .inner_len = sizeof(struct iphdr) + 8,
	};
	unsigned int len;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	len = rnat_test_build(&tcp, buf);
	KUNIT_EXPECT_EQ(test, rnat_test_parse_bytes(test, buf, len), 0);
	KUNIT_EXPECT_EQ(test, rnat_test_parse_bytes(test, buf, 30), -EINVAL);
	len = rnat_test_build(&err, buf);
	KUNIT_EXPECT_EQ(test, rnat_test_parse_bytes(test, buf, len), -EINVAL);
	len = rnat_test_build(&redirect, buf);
	KUNIT_EXPECT_EQ(test, rnat_test_parse_bytes(test, buf, len), -EOPNOTSUPP);
}

static struct kunit_case rnat_translate_test_cases[] = {
	KUNIT_CASE(rnat_translate_test_udp_source),
	KUNIT_CASE(rnat_translate_test_udp_destination),
	KUNIT_CASE(rnat_translate_test_udp_zero_checksum),
	KUNIT_CASE(rnat_translate_test_tcp_both_ways),
	KUNIT_CASE(rnat_translate_test_icmp_echo),
	KUNIT_CASE(rnat_translate_test_ip_options),
	KUNIT_CASE(rnat_translate_test_icmp_error_from_vpn),
	KUNIT_CASE(rnat_translate_test_icmp_error_into_vpn),
	KUNIT_CASE(rnat_translate_test_icmp_error_truncated_inner),
	KUNIT_CASE(rnat_translate_test_later_fragment),
	KUNIT_CASE(rnat_translate_test_first_fragment),
	KUNIT_CASE(rnat_translate_test_checksum_partial),
	KUNIT_CASE(rnat_translate_test_checksum_complete),
	KUNIT_CASE(rnat_translate_test_truncated),
	{}
};

static struct kunit_suite rnat_translate_test_suite = {
	.name = "rnat_translate",
	.test_cases = rnat_translate_test_cases,
};

kunit_test_suite(rnat_translate_test_suite);
