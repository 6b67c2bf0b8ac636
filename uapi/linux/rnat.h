/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * rnat: per-VPN stateless NAT for VPN gateways.
 *
 * Documentation
 * =============
 *
 * rnat gives every (VPN, customer address) pair on a gateway its own NAT IP
 * drawn from a pool of reserved prefixes. It is configured through the
 * generic netlink family RNAT_GENL_NAME, version RNAT_GENL_VERSION. All state
 * belongs to the network namespace of the netlink socket and is freed with it.
 * Commands that change state need CAP_NET_ADMIN in the user namespace owning
 * that network namespace; GET commands are open to everyone.
 *
 * Addresses are IPv4, carried as NLA_BE32 (network byte order). A prefix is
 * an address and a length; the address must have no bits set past the length.
 * Names are NLA_NUL_STRING of 1 to RNAT_NAME_MAX - 1 printable ASCII
 * characters other than space, double quote and backslash, not beginning
 * with '#', so text output stays parseable: a name is always one word, and
 * never the start of a comment in a file of commands. Only new names are
 * checked: a name is refused when a pool or VPN would get it.
 * Commands that create or delete answer with an ACK only, except where a
 * reply is described below.
 * Every command has its own strict policy: an attribute it does not take
 * is rejected ("Unsupported attribute", with its offset), as is one out of
 * range (with the range, NLMSGERR_ATTR_POLICY). Every rejection carries an
 * extended ACK message naming the attribute.
 *
 * Every change is announced to the multicast group RNAT_GENL_MCGRP_EVENTS
 * ("events"), in the order the changes were made, as a message of the
 * command that made it carrying the object as GET replies do:
 * RNAT_CMD_POOL_NEW (the pool), RNAT_CMD_POOL_DEL (RNAT_A_POOL),
 * RNAT_CMD_VPN_NEW and RNAT_CMD_VPN_SET (the VPN; also sent when a VPN's
 * device leaves the namespace), RNAT_CMD_VPN_DEL and RNAT_CMD_MAP_FLUSH
 * (RNAT_A_VPN_ID and RNAT_A_VPN_MAPPINGS: its mappings went, without events
 * of their own), RNAT_CMD_MAP_NEW and RNAT_CMD_MAP_DEL (the mapping; see
 * RNAT_CMD_MAP_NEW for a replace). An event that cannot be sent (no
 * memory) is not dropped in silence: every listening socket gets ENOBUFS,
 * as when its receive buffer overflows, and should read the state afresh.
 *
 * Long block lists
 * ----------------
 *
 * A VPN's NAT blocks may be more than one message holds (a message of a
 * dump holds about 1,500 of them, an event of NLMSG_GOODSIZE about 180). A
 * VPN in a dump or an event is therefore sent as one or more consecutive
 * messages, each a whole VPN reply (every attribute of RNAT_CMD_VPN_GET)
 * whose RNAT_A_VPN_BLOCKS carries a slice of its blocks:
 *    RNAT_A_VPN_NBLOCKS: NLA_U32, how many blocks the VPN has in all
 *    RNAT_A_VPN_BLOCKS_FIRST: NLA_U32, the index (from 0) of the first
 *        block in this message; its entries are numbered from that index
 *        plus 1.
 * A message with RNAT_A_VPN_BLOCKS_FIRST 0 starts a VPN; the VPN is whole
 * once BLOCKS_FIRST plus the entries of a message make RNAT_A_VPN_NBLOCKS.
 * A VPN without blocks is one message with an empty RNAT_A_VPN_BLOCKS. A
 * reader that only wants blocks (to route them) may take each message on
 * its own: every one names the VPN and its device. A VPN's messages are
 * never interleaved with other messages of the same dump or of the events
 * group. The reply to RNAT_CMD_VPN_GET for one VPN is one message sized
 * for all its blocks.
 *
 * Consistent dumps
 * ----------------
 *
 * Every change of the live configuration moves the namespace's generation
 * (RNAT_A_GENERATION in RNAT_CMD_STATS_GET replies; a restore being built
 * counts once, when committed). A dump spans as many messages as it needs,
 * the namespace's mutex released between them: a message of a dump carries
 * NLM_F_DUMP_INTR if the generation moved since the dump's previous
 * message, and the dump as a whole may then be no state that ever existed
 * (as with rtnetlink dumps). Several dumps (pools, VPNs, mappings) are one
 * snapshot if none was interrupted and the generation read before the
 * first equals the one read after the last; otherwise read them again, as
 * "rnatctl save" does.
 *
 * Objects
 * -------
 *
 * pool:    a named set of NAT prefixes (one region's reserved space).
 *          Prefixes of all pools in a namespace never overlap.
 * vpn:     one customer connection: an id, a name, the pool its NAT IPs come
 *          from and the network device its traffic arrives on and leaves by.
 *          Several VPNs may share a device (an xfrm interface, or the
 *          uplink of policy-based IPsec) if each has an ingress fwmark:
 *          a packet arriving on the device is then a VPN's only if it
 *          carries the VPN's mark (an xfrm state's output-mark sets it on
 *          decryption), and one routed out of it only if its destination
 *          is a NAT IP of a VPN of the device; other traffic on it passes
 *          untouched. A VPN may also have an egress fwmark, set on its
 *          packets after translation (what selects its xfrm policy on an
 *          xfrm interface, whose lookup comes after).
 *          Its NAT IPs lie in its NAT blocks: aligned prefixes of its pool
 *          reserved for it, so that one route per block steers traffic to
 *          its device. Its first block is one address; each new block is
 *          as large as all its blocks so far, up to /RNAT_BLOCK_PLEN_MIN (or
 *          the size of a prefix mapping that needs more), so n NAT IPs take
 *          about log2(n) blocks; adjacent halves merge. A NAT IP given
 *          explicitly must be free or inside one of the VPN's own blocks (a
 *          free one becomes a block of its own). A block returns to the pool
 *          when its last mapping is deleted.
 * mapping: (vpn, real prefix) <-> NAT prefix of equal length, one to one.
 *          A real prefix is mapped at most once per VPN; a NAT address belongs
 *          to at most one mapping.
 *
 * Commands
 * --------
 *
 * RNAT_CMD_POOL_NEW: creates a pool.
 *    RNAT_A_POOL: NLA_NUL_STRING, required
 *    RNAT_A_POOL_PREFIXES: NLA_NESTED, required, 1 to RNAT_POOL_PREFIXES_MAX
 *    entries of any attribute type (replies number them 1, 2, ...):
 *        1: NLA_NESTED
 *            RNAT_PREFIX_A_ADDR: NLA_BE32
 *            RNAT_PREFIX_A_LEN: NLA_U8, RNAT_POOL_PLEN_MIN to 32
 *    Errors: EEXIST (name taken, or a prefix overlaps another pool's),
 *            EINVAL (host bits set, prefixes overlap each other).
 *
 * RNAT_CMD_POOL_DEL: deletes a pool.
 *    RNAT_A_POOL: required
 *    Errors: ENOENT, EBUSY (a VPN still draws from it).
 *
 * RNAT_CMD_POOL_GET: with RNAT_A_POOL, that pool; as a dump (NLM_F_DUMP), all
 *    pools in name order (strcmp), resuming after the last name sent, so
 *    pools that exist for the whole dump appear exactly once. Each reply
 *    carries:
 *    RNAT_A_POOL, RNAT_A_POOL_PREFIXES (as above),
 *    RNAT_A_POOL_SIZE: NLA_U32, addresses in the pool
 *    RNAT_A_POOL_USED: NLA_U32, addresses held by mappings
 *    RNAT_A_POOL_OWNED: NLA_U32, addresses in VPNs' NAT blocks
 *
 * RNAT_CMD_VPN_NEW: creates a VPN. The first VPN of a namespace registers the
 *    packet hooks there; a namespace without VPNs pays nothing per packet.
 *    RNAT_A_VPN_ID: NLA_U32, 1 to RNAT_VPN_ID_MAX, required
 *    RNAT_A_VPN_NAME: NLA_NUL_STRING, optional (default "vpn<ID>")
 *    RNAT_A_POOL: required, an existing pool
 *    RNAT_A_IFINDEX: NLA_U32, optional: the VPN's device. Packets arriving
 *        on it are the VPN's ingress; packets routed out of it its egress.
 *        Without it the VPN carries no traffic until RNAT_CMD_VPN_SET.
 *    RNAT_A_VPN_MARK: NLA_NESTED, optional: the ingress fwmark, a mark:
 *        RNAT_MARK_A_VALUE: NLA_U32, required, non-zero, no bits outside
 *            the mask
 *        RNAT_MARK_A_MASK: NLA_U32, optional (default 0xffffffff)
 *        A packet carries it if (its mark & MASK) == VALUE. Every VPN's
 *        ingress mark in a namespace has the same mask (one lookup per
 *        packet) and its own value. A mask of 0 means no mark.
 *    RNAT_A_VPN_OUT_MARK: NLA_NESTED, optional: the egress fwmark, a mark
 *        as above (VALUE may be 0): a translated packet into the VPN leaves
 *        with (mark & ~MASK) | VALUE. A mask of 0 means none.
 *    RNAT_A_VPN_BLOCKS: optional, NAT blocks to reserve for the VPN at once,
 *        as listed in RNAT_CMD_VPN_GET replies (how a saved state restores
 *        its blocks exactly); each must be free and inside the pool.
 *    Errors: EEXIST (id, name or ingress mark already used by a VPN; the
 *            device already a VPN's without marks, or shared by VPNs with
 *            marks and this one has none; a block overlaps another's),
 *            ENOENT (no such pool), ENODEV (no such device), EINVAL (a
 *            block outside the pool, a mark with bits outside its mask, an
 *            ingress mark of 0 or with another mask than the others').
 *
 * RNAT_CMD_VPN_SET: changes a VPN's device, name, marks or any of them, all
 *    or nothing.
 *    RNAT_A_VPN_ID: required
 *    RNAT_A_IFINDEX, RNAT_A_VPN_NAME, RNAT_A_VPN_MARK, RNAT_A_VPN_OUT_MARK:
 *        at least one, as in RNAT_CMD_VPN_NEW (a mark with mask 0 removes
 *        the mark).
 *    RNAT_A_IFINDEX 0 takes the VPN's device away (it then has none).
 *    A VPN whose device is unregistered (deleted, or moved to another
 *    namespace) keeps its mappings and blocks but has no device: its traffic
 *    stops and replies leave RNAT_A_IFINDEX out, until this command gives it
 *    one. A new device with the old index is never taken for the VPN's.
 *    With NLM_F_ECHO the reply is the VPN as it is now, as in
 *    RNAT_CMD_VPN_GET (allocated before the change: a change made is
 *    always answered).
 *    Errors: ENOENT (no such VPN), ENODEV, EEXIST and EINVAL as in
 *            RNAT_CMD_VPN_NEW, EINVAL (nothing given, bad name).
 *
 * RNAT_CMD_VPN_DEL: deletes a VPN and all its mappings.
 *    RNAT_A_VPN_ID: required
 *    The reply carries RNAT_A_VPN_ID and RNAT_A_VPN_MAPPINGS (how many
 *    mappings went with it).
 *    Errors: ENOENT.
 *
 * RNAT_CMD_VPN_GET: with RNAT_A_VPN_ID, that VPN; as a dump, all VPNs in id
 *    order, or with RNAT_A_VPN_ID only that one (none if there is no such
 *    VPN; a dump pages a long block list, see "Long block lists"). Each
 *    reply carries RNAT_A_VPN_ID, RNAT_A_VPN_NAME, RNAT_A_POOL,
 *    RNAT_A_IFINDEX (unless it has no device), RNAT_A_VPN_MARK and
 *    RNAT_A_VPN_OUT_MARK (if it has them, both members),
 *    RNAT_A_VPN_MAPPINGS: NLA_U32, and
 *    RNAT_A_VPN_NBLOCKS, RNAT_A_VPN_BLOCKS_FIRST (see "Long block lists"),
 *    RNAT_A_VPN_BLOCKS: NLA_NESTED, its NAT blocks in address order (or
 *        a slice of them), each entry a prefix as in RNAT_A_POOL_PREFIXES.
 *        rnatctl keeps one route per block (protocol "rnat") pointing at
 *        the VPN's device.
 *    RNAT_A_WANT_STATS: NLA_FLAG, optional: replies then also carry
 *    RNAT_A_VPN_DEPARTED: NLA_NESTED, as RNAT_A_MAP_STATS: the counters of
 *        the VPN's mappings that are gone (deleted, flushed, replaced)
 *        since the VPN was made (restored: from zero). Added to its
 *        mappings' counters, they make the VPN's totals, which never go
 *        back while it exists. (A packet translated by a mapping in the
 *        moment it goes may be missed.) A dump of several messages for one
 *        VPN carries them in each; they are read under the lock that
 *        changes them, so a dump with NLM_F_DUMP_INTR unset and a mapping
 *        dump of the same generation count each mapping once.
 *
 * RNAT_CMD_MAP_NEW: maps a real prefix of a VPN to a NAT prefix. With
 *    NLM_F_REPLACE, it makes the real prefix map to the NAT prefix whatever
 *    either was mapped to before, like "ip route replace": the VPN's
 *    mapping of the real prefix and the VPN's mapping holding the NAT
 *    prefix, if any, are replaced in one step (every packet is translated
 *    by an old mapping or by the new one, never dropped for lack of
 *    either) and announced as RNAT_CMD_MAP_DEL events before the
 *    RNAT_CMD_MAP_NEW event, which then carries NLM_F_REPLACE. Without
 *    RNAT_A_MAP_NAT, a replace keeps an existing mapping of the real prefix
 *    as it is (and announces nothing) or adds one.
 *    RNAT_A_VPN_ID: required
 *    RNAT_A_MAP_REAL: NLA_BE32, required, the customer's real address
 *    RNAT_A_MAP_PLEN: NLA_U8, RNAT_MAP_PLEN_MIN to 32, optional (default 32)
 *    RNAT_A_MAP_NAT: NLA_BE32, optional. Without it the kernel allocates the
 *        lowest free aligned range of the VPN's blocks; when they are full,
 *        a new block: the lowest free aligned one of the pool, in the order
 *        the pool's prefixes were given.
 *    RNAT_A_MAP_BLOCK: NLA_NESTED (RNAT_PREFIX_A_*), optional, with
 *        RNAT_A_MAP_NAT and without NLM_F_REPLACE: if the NAT prefix is in
 *        no block, the VPN's new block for it (a free prefix of the pool
 *        that holds it, merged with its buddy as any new block), instead
 *        of the NAT prefix alone. What an agent replaying another
 *        allocator's choices (rnatd, from a region in etcd) gives so that
 *        the VPN's blocks are the same as there. EEXIST if the NAT prefix
 *        is already in one of the VPN's blocks.
 *    With NLM_F_ECHO the reply is the new mapping, as in RNAT_CMD_MAP_GET
 *    (how a caller learns an allocated NAT IP); without it, an ACK only.
 *    Errors: EEXIST (real prefix already mapped in this VPN, or NAT prefix
 *            taken or inside another VPN's block: the message names the
 *            owner), EINVAL (NAT prefix not in
 *            the VPN's pool, host bits set), ENOSPC (pool exhausted),
 *            ENOENT (no such VPN). A replace fails with EEXIST only if the
 *            NAT prefix is another VPN's or overlaps a mapping of another
 *            length.
 *
 * RNAT_CMD_MAP_DEL: deletes one mapping, named by either
 *    RNAT_A_VPN_ID + RNAT_A_MAP_REAL (+ RNAT_A_MAP_PLEN, default 32), or
 *    RNAT_A_MAP_NAT (+ RNAT_A_MAP_PLEN, default 32).
 *    Errors: ENOENT.
 *
 * RNAT_CMD_MAP_GET: without NLM_F_DUMP, looks one address up and returns the
 *    mapping that translates it, named by either
 *    RNAT_A_VPN_ID + RNAT_A_MAP_REAL (a real address inside that VPN), or
 *    RNAT_A_MAP_NAT (any NAT address).
 *    It takes no RNAT_A_MAP_PLEN: the mapping holding the address answers.
 *    As a dump, every mapping in NAT address order, or only those matching
 *    every filter given:
 *    RNAT_A_VPN_ID: of that VPN (none if there is no such VPN)
 *    RNAT_A_POOL: whose NAT prefix is in that pool (none if no such pool)
 *    RNAT_A_FILTER_NAT: NLA_NESTED, a prefix as in RNAT_A_POOL_PREFIXES:
 *        whose NAT prefix lies inside it
 *    RNAT_A_FILTER_REAL: NLA_NESTED, a prefix: whose real prefix lies
 *        inside it
 *    (filters are for dumps: a lookup given one fails with EINVAL). A dump
 *    of one VPN reads only its blocks. A dump spans as many
 *    messages as it needs and resumes after the last NAT address sent, so
 *    mappings that exist for the whole dump appear exactly once even while
 *    others are added or deleted.
 *    RNAT_A_WANT_STATS: NLA_FLAG, optional, for a lookup or a dump: replies
 *        then carry the mapping's counters too.
 *    Each reply carries:
 *    RNAT_A_VPN_ID, RNAT_A_MAP_REAL, RNAT_A_MAP_NAT, RNAT_A_MAP_PLEN,
 *    RNAT_A_POOL (the pool the NAT prefix belongs to), and if asked for
 *    RNAT_A_MAP_STATS: NLA_NESTED, the mapping's counters since it was
 *        made (a replaced or restored mapping starts from zero); "in" is
 *        from the VPN (customer to core), "out" into it:
 *        RNAT_MAP_STATS_A_IN_PACKETS, RNAT_MAP_STATS_A_IN_BYTES,
 *        RNAT_MAP_STATS_A_OUT_PACKETS, RNAT_MAP_STATS_A_OUT_BYTES: NLA_U64,
 *            packets translated by it and their IP lengths (a GSO packet
 *            counts as its segments)
 *        RNAT_MAP_STATS_A_IDLE_MS: NLA_U64, milliseconds since it last
 *            translated a packet, either way; absent if it never did
 *        RNAT_MAP_STATS_A_{IN,OUT}_{UNREACH,REFUSED,FRAG_NEEDED,
 *            TIME_EXCEEDED}: NLA_U32, ICMP errors about its traffic that
 *            crossed the edge: destination unreachable other than port
 *            unreachable and fragmentation needed; port unreachable (what
 *            becomes ECONNREFUSED); fragmentation needed (PMTU discovery);
 *            time exceeded
 *        Packets and bytes are 64-bit counters the CPUs share (as
 *        conntrack's accounting), exact whatever the CPU count.
 *    Errors: ENOENT (nothing maps that address).
 *
 * RNAT_CMD_MAP_FLUSH: deletes every mapping of a VPN, which stays, with no
 *    NAT blocks left.
 *    RNAT_A_VPN_ID: required
 *    The reply and the one event carry RNAT_A_VPN_ID and RNAT_A_VPN_MAPPINGS
 *    (how many mappings went).
 *    Errors: ENOENT (no such VPN).
 *
 * RNAT_CMD_RESTORE_BEGIN: starts building a whole new configuration, empty,
 *    aside from the live one. Until this socket commits or aborts it, its
 *    POOL/VPN/MAP NEW, SET and DEL requests change the new configuration and
 *    announce nothing; GET requests and every other socket see the live one.
 *    Closing the socket aborts it.
 *    Errors: EBUSY (another socket is building one: its port id is named).
 *
 * RNAT_CMD_RESTORE_COMMIT: replaces the live configuration with the one this
 *    socket built, at once: each packet is translated by the old or by the
 *    new configuration, never by a mix. Counters carry on. Announced as an
 *    RNAT_CMD_RESTORE_COMMIT event without attributes.
 *    Errors: EINVAL (this socket is not building one).
 *
 * RNAT_CMD_RESTORE_ABORT: drops the configuration this socket was building.
 *    Errors: EINVAL (this socket is not building one).
 *
 * RNAT_CMD_STATS_GET: the namespace's generation and its packet counters
 *    since it was created.
 *    RNAT_A_GENERATION: NLA_U32, moves with every change of the live
 *        configuration (see "Consistent dumps"); 0 before the first.
 *    The counters are summed over all CPUs (each NLA_U64, read without
 *    stopping the packet path, so a sum may miss packets counted at that
 *    instant):
 *    RNAT_A_STATS: NLA_NESTED
 *        RNAT_STATS_A_IN_TRANSLATED: from a VPN, source made its NAT IP
 *        RNAT_STATS_A_OUT_TRANSLATED: into a VPN, NAT IP made real
 *        RNAT_STATS_A_DROP_IN_UNMAPPED: from a VPN, source not mapped in it
 *        RNAT_STATS_A_DROP_OUT_UNMAPPED: into a VPN, not one of its NAT IPs
 *        RNAT_STATS_A_DROP_MALFORMED: too short or odd to translate safely
 *        RNAT_STATS_A_DROP_REDIRECT: ICMP redirects never cross the edge
 *        RNAT_STATS_A_DROP_NOMEM: headers could not be made writable
 *        RNAT_STATS_A_DROP_FENCED: on a device that carries or carried a
 *            VPN, what rnat cannot translate: IPv6, any packet on a device
 *            whose VPN is gone (fenced until the device is unregistered or
 *            a VPN takes it), a packet on a shared device with a mark under
 *            the VPN mask that no VPN of the device has, a packet whose VPN
 *            was deleted while it was being translated
 *        RNAT_STATS_A_ICMP_UNCOUNTED: ICMP errors translated but not
 *            counted on their mapping: a mapping's ICMP counters come with
 *            its first ICMP error (most never see one), and there was no
 *            memory for them
 */

#ifndef _UAPI_LINUX_RNAT_H
#define _UAPI_LINUX_RNAT_H

#define RNAT_GENL_NAME		"rnat"
#define RNAT_GENL_VERSION	1
#define RNAT_GENL_MCGRP_EVENTS	"events"

#define RNAT_NAME_MAX		32	/* including the terminating NUL */
#define RNAT_POOL_PREFIXES_MAX	64
#define RNAT_POOL_PLEN_MIN	8	/* a pool prefix holds at most 2^24 addresses */
#define RNAT_MAP_PLEN_MIN	16	/* a prefix mapping spans at most 2^16 */
#define RNAT_BLOCK_PLEN_MIN	24	/* VPN NAT blocks grow up to 256 addresses */
#define RNAT_VPN_ID_MAX		0x7fffffff
#define RNAT_RTPROT		82	/* protocol of the routes rnatctl keeps */

enum rnat_cmd {
	RNAT_CMD_UNSPEC,
	RNAT_CMD_POOL_NEW,
	RNAT_CMD_POOL_DEL,
	RNAT_CMD_POOL_GET,
	RNAT_CMD_VPN_NEW,
	RNAT_CMD_VPN_DEL,
	RNAT_CMD_VPN_GET,
	RNAT_CMD_MAP_NEW,
	RNAT_CMD_MAP_DEL,
	RNAT_CMD_MAP_GET,
	RNAT_CMD_STATS_GET,
	RNAT_CMD_VPN_SET,
	RNAT_CMD_RESTORE_BEGIN,
	RNAT_CMD_RESTORE_COMMIT,
	RNAT_CMD_RESTORE_ABORT,
	RNAT_CMD_MAP_FLUSH,
	__RNAT_CMD_MAX
};

#define RNAT_CMD_MAX (__RNAT_CMD_MAX - 1)

enum rnat_attr {
	RNAT_A_UNSPEC,
	RNAT_A_POOL,
	RNAT_A_POOL_PREFIXES,
	RNAT_A_POOL_SIZE,
	RNAT_A_POOL_USED,
	RNAT_A_VPN_ID,
	RNAT_A_VPN_NAME,
	RNAT_A_VPN_MAPPINGS,
	RNAT_A_IFINDEX,
	RNAT_A_MAP_REAL,
	RNAT_A_MAP_NAT,
	RNAT_A_MAP_PLEN,
	RNAT_A_STATS,
	RNAT_A_POOL_OWNED,
	RNAT_A_VPN_BLOCKS,
	RNAT_A_FILTER_NAT,
	RNAT_A_FILTER_REAL,
	RNAT_A_WANT_STATS,
	RNAT_A_MAP_STATS,
	RNAT_A_VPN_MARK,
	RNAT_A_VPN_OUT_MARK,
	RNAT_A_VPN_NBLOCKS,
	RNAT_A_VPN_BLOCKS_FIRST,
	RNAT_A_GENERATION,
	RNAT_A_VPN_DEPARTED,
	RNAT_A_MAP_BLOCK,
	__RNAT_A_MAX
};

#define RNAT_A_MAX (__RNAT_A_MAX - 1)

enum rnat_prefix_attr {
	RNAT_PREFIX_A_UNSPEC,
	RNAT_PREFIX_A_ADDR,
	RNAT_PREFIX_A_LEN,
	__RNAT_PREFIX_A_MAX
};

#define RNAT_PREFIX_A_MAX (__RNAT_PREFIX_A_MAX - 1)

enum rnat_mark_attr {
	RNAT_MARK_A_UNSPEC,
	RNAT_MARK_A_VALUE,
	RNAT_MARK_A_MASK,
	__RNAT_MARK_A_MAX
};

#define RNAT_MARK_A_MAX (__RNAT_MARK_A_MAX - 1)

enum rnat_stats_attr {
	RNAT_STATS_A_UNSPEC,
	RNAT_STATS_A_PAD,
	RNAT_STATS_A_IN_TRANSLATED,
	RNAT_STATS_A_OUT_TRANSLATED,
	RNAT_STATS_A_DROP_IN_UNMAPPED,
	RNAT_STATS_A_DROP_OUT_UNMAPPED,
	RNAT_STATS_A_DROP_MALFORMED,
	RNAT_STATS_A_DROP_REDIRECT,
	RNAT_STATS_A_DROP_NOMEM,
	RNAT_STATS_A_DROP_FENCED,
	RNAT_STATS_A_ICMP_UNCOUNTED,
	__RNAT_STATS_A_MAX
};

#define RNAT_STATS_A_MAX (__RNAT_STATS_A_MAX - 1)

enum rnat_map_stats_attr {
	RNAT_MAP_STATS_A_UNSPEC,
	RNAT_MAP_STATS_A_PAD,
	RNAT_MAP_STATS_A_IN_PACKETS,
	RNAT_MAP_STATS_A_IN_BYTES,
	RNAT_MAP_STATS_A_OUT_PACKETS,
	RNAT_MAP_STATS_A_OUT_BYTES,
	RNAT_MAP_STATS_A_IDLE_MS,
	RNAT_MAP_STATS_A_IN_UNREACH,
	RNAT_MAP_STATS_A_IN_REFUSED,
	RNAT_MAP_STATS_A_IN_FRAG_NEEDED,
	RNAT_MAP_STATS_A_IN_TIME_EXCEEDED,
	RNAT_MAP_STATS_A_OUT_UNREACH,
	RNAT_MAP_STATS_A_OUT_REFUSED,
	RNAT_MAP_STATS_A_OUT_FRAG_NEEDED,
	RNAT_MAP_STATS_A_OUT_TIME_EXCEEDED,
	__RNAT_MAP_STATS_A_MAX
};

#define RNAT_MAP_STATS_A_MAX (__RNAT_MAP_STATS_A_MAX - 1)

#endif /* _UAPI_LINUX_RNAT_H */
