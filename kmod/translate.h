/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stateless rewriting of one IPv4 address in a packet, with every checksum
 * that covers it: the IP header, the TCP/UDP pseudo-header and, for ICMP
 * errors, the embedded header and its checksums.
 */

#ifndef _RNAT_TRANSLATE_H
#define _RNAT_TRANSLATE_H

#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>

enum rnat_field {
	RNAT_SADDR,
	RNAT_DADDR,
};

/* Where the addresses of a packet are, found once by rnat_pkt_parse(). */
struct rnat_pkt {
	__be32 saddr;
	__be32 daddr;
	u8 protocol;
	bool fragment;		/* a later fragment: no L4 header */
	bool icmp_error;	/* carries an embedded IPv4 header */
	u8 icmp_type;		/* of an ICMP error */
	u8 icmp_code;
	u8 inner_protocol;
	__be32 inner_saddr;
	__be32 inner_daddr;
	u16 inner_off;		/* embedded IP header, from the outer one */
	u16 inner_l4_len;	/* bytes of embedded L4 header present */
	u16 writable;		/* bytes that rewriting may touch */
};

/*
 * Fills @pkt for the IPv4 packet at skb->data, reading nothing past its
 * tot_len. Returns 0, or -EINVAL for a packet too short or too odd to
 * translate safely (a bad IP header, a first fragment or unfragmented packet
 * cut inside its TCP/UDP checksum or ICMP header, an ICMP error cut inside
 * the embedded IP header), -ENOMEM when the headers could not be pulled into
 * the linear area, or -EOPNOTSUPP for an ICMP redirect, which never crosses
 * the VPN edge. Reads only: a packet refused is left as it was.
 */
int rnat_pkt_parse_slow(struct sk_buff *skb, struct rnat_pkt *pkt);

/*
 * rnat_pkt_parse_slow()'s result, found inline for the usual packet: TCP or
 * UDP with its header in the linear area, no IP options, not a later
 * fragment, an IP length within the skb. Anything else takes the full parse.
 * Fills only what a packet without an embedded header needs.
 */
static __always_inline int rnat_pkt_parse(struct sk_buff *skb,
					  struct rnat_pkt *pkt)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	unsigned int l4, len;

	if (unlikely(skb_headlen(skb) < sizeof(*iph) + sizeof(struct tcphdr)))
		return rnat_pkt_parse_slow(skb, pkt);
	if (iph->protocol == IPPROTO_UDP)
		l4 = sizeof(struct udphdr);
	else if (iph->protocol == IPPROTO_TCP)
		l4 = offsetofend(struct tcphdr, check);
	else
		return rnat_pkt_parse_slow(skb, pkt);
	len = ntohs(iph->tot_len);
	if (unlikely(*(const u8 *)iph != 0x45 ||
		     (iph->frag_off & htons(IP_OFFSET)) ||
		     len < sizeof(*iph) + l4 || len > skb->len))
		return rnat_pkt_parse_slow(skb, pkt);
	pkt->saddr = iph->saddr;
	pkt->daddr = iph->daddr;
	pkt->protocol = iph->protocol;
	pkt->fragment = false;
	pkt->icmp_error = false;
	pkt->writable = sizeof(*iph) + l4;
	return 0;
}

/*
 * The usual packet, translated without rnat_pkt_parse() and rnat_rewrite():
 * TCP or UDP without IP options, not a later fragment, an IP length within
 * the skb, its IP and L4 headers in the linear head. Returns the offset of
 * its L4 checksum from the IP header, or 0 for anything else, which takes
 * the full path.
 */
static __always_inline unsigned int rnat_fast_check(const struct sk_buff *skb,
						    const struct iphdr *iph)
{
	unsigned int len;

	if (unlikely(skb_headlen(skb) < sizeof(*iph) + sizeof(struct tcphdr)))
		return 0;
	len = ntohs(iph->tot_len);
	if (unlikely(*(const u8 *)iph != 0x45 ||
		     (iph->frag_off & htons(IP_OFFSET)) || len > skb->len))
		return 0;
	if (likely(iph->protocol == IPPROTO_UDP &&
		   len >= sizeof(*iph) + sizeof(struct udphdr)))
		return sizeof(*iph) + offsetof(struct udphdr, check);
	if (likely(iph->protocol == IPPROTO_TCP &&
		   len >= sizeof(*iph) + offsetofend(struct tcphdr, check)))
		return sizeof(*iph) + offsetof(struct tcphdr, check);
	return 0;
}

/*
 * Makes the headers of a packet rnat_fast_check() accepted with @check_off
 * private, if they are not (a clone: a packet a tap or pktgen still holds;
 * forwarding would copy it too), and returns its IP header, or NULL if that
 * failed.
 */
static __always_inline struct iphdr *rnat_fast_writable(struct sk_buff *skb,
							unsigned int check_off)
{
	if (unlikely(skb_cloned(skb)) &&
	    skb_ensure_writable(skb, check_off + sizeof(__sum16)))
		return NULL;
	return ip_hdr(skb);
}

/*
 * Sets @addr, in the IP header @iph of a packet rnat_fast_check() accepted
 * with @check_off, to @to, with the checksums that cover it as rnat_rewrite()
 * does: the address change, summed once, goes into the IP checksum, the L4
 * one and a CHECKSUM_COMPLETE skb->csum.
 */
static __always_inline void rnat_rewrite_fast(struct sk_buff *skb,
					      struct iphdr *iph, __be32 *addr,
					      unsigned int check_off, __be32 to)
{
	__wsum diff = csum_sub((__force __wsum)to, (__force __wsum)*addr);
	__sum16 *check = (void *)iph + check_off;
	bool udp = iph->protocol == IPPROTO_UDP;

	if (unlikely(*addr == to))
		return;
	csum_replace_by_diff(&iph->check, diff);
	*addr = to;
	/* As rnat_l4_update(): a zero UDP checksum stays so. */
	if (udp && !*check)
		return;
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		*check = ~csum_fold(csum_add(csum_unfold(*check), diff));
	} else {
		csum_replace_by_diff(check, diff);
		if (skb->ip_summed == CHECKSUM_COMPLETE)
			skb->csum = ~csum_add(~skb->csum, diff);
	}
	if (udp && !*check)
		*check = CSUM_MANGLED_0;
}

/*
 * Sets the outer @field to @to. For an ICMP error also sets the embedded
 * header's opposite field (the embedded packet travelled the other way) to
 * @inner_to. Returns 0 or -ENOMEM.
 */
int rnat_rewrite(struct sk_buff *skb, const struct rnat_pkt *pkt,
		 enum rnat_field field, __be32 to, __be32 inner_to);

#endif /* _RNAT_TRANSLATE_H */
