// SPDX-License-Identifier: GPL-2.0
/*
 * Address rewriting with incremental checksum updates (RFC 1624). Every
 * change is folded into the checksum that covers it, so the one's complement
 * sum of the packet's bytes changes only where a pseudo-header moved, which
 * inet_proto_csum_replace4() reports to CHECKSUM_COMPLETE and
 * CHECKSUM_PARTIAL skbs. The ICMP checksum absorbs all changes to an
 * embedded header, so ICMP errors need no full recomputation and fragments
 * of them stay correct.
 */

#include <linux/dccp.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>

#include "translate.h"

static bool rnat_icmp_is_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Bytes of L4 header whose checksum depends on the IP addresses. */
static unsigned int rnat_l4_csum_len(u8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return offsetofend(struct tcphdr, check);
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return sizeof(struct udphdr);
	case IPPROTO_DCCP:
		return offsetofend(struct dccp_hdr, dccph_checksum);
	case IPPROTO_ICMP:
		return sizeof(struct icmphdr);
	default:
		return 0;
	}
}

/*
 * The embedded header of an ICMP error at @off, within the first @len bytes
 * of the packet.
 */
static int rnat_parse_inner(struct sk_buff *skb, struct rnat_pkt *pkt,
			    unsigned int off, unsigned int len)
{
	const struct iphdr *inner;
	unsigned int ihl, want;

	if (off + sizeof(*inner) > len)
		return -EINVAL;
	if (!pskb_may_pull(skb, off + sizeof(*inner)))
		return -ENOMEM;
	inner = (const struct iphdr *)(skb->data + off);
	ihl = inner->ihl * 4;
	if (inner->version != 4 || ihl < sizeof(*inner) || off + ihl > len)
		return -EINVAL;
	if (!pskb_may_pull(skb, off + ihl))
		return -ENOMEM;
	inner = (const struct iphdr *)(skb->data + off);

	pkt->icmp_error = true;
	pkt->inner_off = off;
	pkt->inner_protocol = inner->protocol;
	pkt->inner_saddr = inner->saddr;
	pkt->inner_daddr = inner->daddr;
	pkt->writable = off + ihl;

	/* The embedded L4 header is often cut short: use what is there. */
	if (inner->frag_off & htons(IP_OFFSET))
		return 0;
	want = rnat_l4_csum_len(inner->protocol);
	if (inner->protocol == IPPROTO_ICMP)
		want = 0;	/* no pseudo-header, nothing to fix */
	if (!want || off + ihl + want > len)
		return 0;
	if (!pskb_may_pull(skb, off + ihl + want))
		return -ENOMEM;
	pkt->inner_l4_len = want;
	pkt->writable += want;
	return 0;
}

int rnat_pkt_parse_slow(struct sk_buff *skb, struct rnat_pkt *pkt)
{
	const struct icmphdr *icmph;
	const struct iphdr *iph;
	unsigned int ihl, len, l4;

	/*
	 * ip_rcv() checked all this before PREROUTING, but a packet must not
	 * be read past its end whichever way it came: bytes beyond tot_len
	 * (link padding) are not part of it.
	 */
	memset(pkt, 0, sizeof(*pkt));
	if (!pskb_may_pull(skb, sizeof(*iph)))
		return -EINVAL;
	iph = ip_hdr(skb);
	ihl = iph->ihl * 4;
	len = iph_totlen(skb, iph);
	if (iph->version != 4 || ihl < sizeof(*iph) || len < ihl ||
	    len > skb->len)
		return -EINVAL;
	if (!pskb_may_pull(skb, ihl))
		return -ENOMEM;
	/* Each pull may move the head: pointers into it are reloaded. */
	iph = ip_hdr(skb);

	pkt->saddr = iph->saddr;
	pkt->daddr = iph->daddr;
	pkt->protocol = iph->protocol;
	pkt->writable = ihl;
	if (iph->frag_off & htons(IP_OFFSET)) {
		pkt->fragment = true;
		return 0;
	}

	l4 = rnat_l4_csum_len(pkt->protocol);
	if (!l4)
		return 0;
	/* A first fragment too short for the checksum is dropped too. */
	if (ihl + l4 > len)
		return -EINVAL;
	if (!pskb_may_pull(skb, ihl + l4))
		return -ENOMEM;
	if (pkt->protocol != IPPROTO_ICMP) {
		pkt->writable = ihl + l4;
		return 0;
	}

	icmph = (const struct icmphdr *)(skb->data + ihl);
	if (icmph->type == ICMP_REDIRECT)
		return -EOPNOTSUPP;
	if (!rnat_icmp_is_error(icmph->type))
		return 0;
	pkt->icmp_type = icmph->type;
	pkt->icmp_code = icmph->code;
	return rnat_parse_inner(skb, pkt, ihl + sizeof(*icmph), len);
}

/* Rewrites an outer TCP/UDP checksum for a pseudo-header address change. */
static void rnat_l4_update(struct sk_buff *skb, u8 protocol, unsigned int off,
			   __be32 from, __be32 to)
{
	struct dccp_hdr *dh;
	struct udphdr *uh;
	struct tcphdr *th;

	switch (protocol) {
	case IPPROTO_TCP:
		th = (struct tcphdr *)(skb->data + off);
		inet_proto_csum_replace4(&th->check, skb, from, to, true);
		break;
	case IPPROTO_DCCP:
		/* Like TCP's, it covers the pseudo-header (RFC 4340 9.1). */
		dh = (struct dccp_hdr *)(skb->data + off);
		inet_proto_csum_replace4(&dh->dccph_checksum, skb, from, to,
					 true);
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		uh = (struct udphdr *)(skb->data + off);
		/*
		 * A zero UDP checksum means "none" and stays so, also under
		 * CHECKSUM_PARTIAL: a partial UDP checksum is never 0 (the
		 * pseudo-header sum is not), so there the offload is for an
		 * inner header (VXLAN, Geneve without outer checksum), as
		 * nf_nat's udp_manip_pkt() reads it too.
		 */
		if (!uh->check && protocol == IPPROTO_UDP)
			break;
		inet_proto_csum_replace4(&uh->check, skb, from, to, true);
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
		break;
	}
}

/*
 * Replaces a 16-bit checksum field inside an ICMP message, folding the
 * change into the ICMP checksum too.
 */
static void rnat_icmp_csum_set(__sum16 *icmp_check, __sum16 *field,
			       __sum16 value)
{
	csum_replace2(icmp_check, (__force __be16)*field,
		      (__force __be16)value);
	*field = value;
}

static void rnat_rewrite_inner(struct sk_buff *skb, const struct rnat_pkt *pkt,
			       enum rnat_field field, __be32 to)
{
	struct icmphdr *icmph = (struct icmphdr *)(skb->data +
						   pkt->inner_off -
						   sizeof(*icmph));
	struct iphdr *inner = (struct iphdr *)(skb->data + pkt->inner_off);
	__be32 *addr = field == RNAT_SADDR ? &inner->saddr : &inner->daddr;
	void *l4 = (void *)inner + inner->ihl * 4;
	__be32 from = *addr;
	__sum16 check;

	if (from == to)
		return;

	if (pkt->inner_l4_len && pkt->inner_protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		check = th->check;
		csum_replace4(&check, from, to);
		rnat_icmp_csum_set(&icmph->checksum, &th->check, check);
	} else if (pkt->inner_l4_len && pkt->inner_protocol == IPPROTO_DCCP) {
		struct dccp_hdr *dh = l4;

		check = dh->dccph_checksum;
		csum_replace4(&check, from, to);
		rnat_icmp_csum_set(&icmph->checksum, &dh->dccph_checksum,
				   check);
	} else if (pkt->inner_l4_len) {
		struct udphdr *uh = l4;

		if (uh->check || pkt->inner_protocol == IPPROTO_UDPLITE) {
			check = uh->check;
			csum_replace4(&check, from, to);
			rnat_icmp_csum_set(&icmph->checksum, &uh->check,
					   check ?: CSUM_MANGLED_0);
		}
	}

	check = inner->check;
	csum_replace4(&check, from, to);
	rnat_icmp_csum_set(&icmph->checksum, &inner->check, check);
	csum_replace4(&icmph->checksum, from, to);
	*addr = to;
}

int rnat_rewrite(struct sk_buff *skb, const struct rnat_pkt *pkt,
		 enum rnat_field field, __be32 to, __be32 inner_to)
{
	struct iphdr *iph;
	__be32 *addr;

	/* What skb_ensure_writable() would find, without the call. */
	if ((skb_cloned(skb) || skb_headlen(skb) < pkt->writable) &&
	    skb_ensure_writable(skb, pkt->writable))
		return -ENOMEM;
	iph = ip_hdr(skb);

	if (pkt->icmp_error)
		rnat_rewrite_inner(skb, pkt, field == RNAT_SADDR ?
				   RNAT_DADDR : RNAT_SADDR, inner_to);

	addr = field == RNAT_SADDR ? &iph->saddr : &iph->daddr;
	if (*addr == to)
		return 0;
	if (!pkt->fragment)
		rnat_l4_update(skb, pkt->protocol, iph->ihl * 4, *addr, to);
	csum_replace4(&iph->check, *addr, to);
	*addr = to;
	return 0;
}

#ifdef RNAT_KUNIT
#include "tests/translate_test.c"
#endif
