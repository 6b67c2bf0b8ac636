#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Packet fuzzer for rnat's hooks (run by tests/e2e/pktfuzz.sh).

Crafts IPv4 packets, mutated and truncated (IHL, total length, options,
fragment offsets, TCP/UDP/ICMP/DCCP headers cut or with bad checksums, ICMP
errors embedding cut, odd or nested packets), deterministically from a
seed, and injects them with AF_PACKET sockets from the veth ends in `vpn1`
and `core`, so they enter gw exactly as built. It also sends GSO /
CHECKSUM_PARTIAL skbs: TCP with virtio-net headers (PACKET_VNET_HDR) from
vpn1, and from gw's own sockets UDP with UDP_SEGMENT and a TCP bulk
transfer to NAT IPs.

AF_PACKET receivers in vpn1, vpn2 and core judge every packet arriving:
  - into a VPN: no destination in the NAT pool (nor an ICMP error's
    embedded source, which rnat translates too);
  - into core: no source in the customers' real space (nor an embedded
    destination);
  - an IP header checksum valid; L4 (TCP, UDP, ICMP, DCCP) checksums valid
    for complete packets the fuzzer built valid (IP id bit 15 clear),
    CHECKSUM_PARTIAL ones completed as a device would; embedded IP header
    checksums of ICMP errors too, and their embedded TCP/UDP checksums when
    the whole datagram is embedded.

Prints the figures, a hex dump of the first offending packets with the
packet the fuzzer sent under that IP id, and ok/not ok lines.

Usage: pktfuzz.py SEED COUNT MAP...   (MAP: VPN:REAL/PLEN:NAT; namespaces
       vpn1 vpn2 core gw; interfaces eth0, c0, gv1, gc as pktfuzz.sh makes)
"""

import ctypes
import errno
import ipaddress
import os
import random
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
SOL_PACKET, PACKET_AUXDATA, PACKET_STATISTICS, PACKET_VNET_HDR = 263, 8, 6, 15
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 8
ETH_P_IP = 0x0800
SOL_UDP, UDP_SEGMENT = 17, 103
POOL = ipaddress.ip_network('10.153.0.0/16')
REAL = ipaddress.ip_network('10.1.0.0/16')
CORE = '10.200.0.1'
GW = ['10.200.0.254', '169.254.0.1']
NOCHECK = 0x8000	# IP id bit: checksums not meant to be valid
IPPROTO_DCCP = 33

libc = ctypes.CDLL(None, use_errno=True)


def netns(name, fn):
    """Calls fn() inside network namespace name (sockets stay there)."""
    here = os.open('/proc/self/ns/net', os.O_RDONLY)
    there = os.open('/run/netns/' + name, os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), 'setns ' + name)
        return fn()
    finally:
        libc.setns(here, CLONE_NEWNET)
        os.close(here)
        os.close(there)


def a2b(a):
    return socket.inet_aton(a)


def b2a(b):
    return socket.inet_ntoa(b)


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def osum(data, s=0):
    """One's complement sum of data (folded, not inverted)."""
    if len(data) & 1:
        data += b'\0'
    return fold(s + sum(struct.unpack('!%dH' % (len(data) // 2), data)))


def cks(data, s=0):
    return ~osum(data, s) & 0xffff


def pseudo(src, dst, proto, length):
    return osum(struct.pack('!4s4sBBH', src, dst, 0, proto, length))


def put16(b, off, v):
    return b[:off] + struct.pack('!H', v) + b[off + 2:]


# ---------------------------------------------------------------- building

class Fuzz:
    def __init__(self, seed, maps):
        self.r = random.Random(seed)
        self.maps = maps	# (vpn, real network, nat network)
        self.vpn1_real = [m for m in maps if m[0] == 1]
        self.nat = [m[2] for m in maps]
        self.nat1 = [m[2] for m in maps if m[0] == 1]

    def pick(self, net):
        return str(net[self.r.randrange(net.num_addresses)])

    def mapped_real(self):
        return self.pick(self.r.choice(self.vpn1_real)[1])

    def mapped_nat(self, only1=False):
        return self.pick(self.r.choice(self.nat1 if only1 else self.nat))

    def rand_addr(self):
        r = self.r
        return r.choice([
            lambda: '%d.%d.%d.%d' % tuple(r.randrange(256) for _ in range(4)),
            lambda: '10.1.%d.%d' % (r.randrange(4), r.randrange(256)),
            lambda: '10.153.%d.%d' % (r.randrange(2), r.randrange(256)),
            lambda: r.choice(['0.0.0.0', '255.255.255.255', '127.0.0.1',
                              '224.0.0.1', '10.200.0.255', '169.254.0.1']),
        ])()

    def payload(self, n):
        return self.r.randbytes(n)

    def options(self):
        r = self.r
        kind = r.randrange(8)
        if kind == 0:	# NOPs and END
            o = bytes([1] * r.randrange(1, 40)) + b'\0'
        elif kind == 1:	# record route
            n = r.randrange(1, 10)
            o = bytes([7, 3 + 4 * n, 4]) + b'\0' * 4 * n
        elif kind == 2:	# timestamp
            n = r.randrange(1, 10)
            o = bytes([68, 4 + 4 * n, 5, r.choice([0, 1, 3])]) + b'\0' * 4 * n
        elif kind == 3:	# loose / strict source route
            n = r.randrange(1, 5)
            o = bytes([r.choice([131, 137]), 3 + 4 * n, 4]) + \
                b''.join(a2b(self.rand_addr()) for _ in range(n))
        elif kind == 4:	# router alert
            o = bytes([148, 4, 0, 0])
        elif kind == 5:	# an option longer than the header
            o = bytes([r.choice([7, 68, 131, 130]), r.randrange(40, 256)])
        elif kind == 6:	# length 0 or 1
            o = bytes([r.choice([7, 68, 148, 25]), r.randrange(2)])
        else:
            o = self.payload(r.randrange(1, 40))
        o = o[:40]
        return o + b'\0' * (-len(o) % 4)

    def ip(self, src, dst, proto, l4, ident, opts=b'', frag=0, ttl=None,
           tot=None, ihl=None, ver=4, bad_csum=False):
        hl = 20 + len(opts)
        if ttl is None:
            ttl = self.r.choice([64, 64, 64, 255, 2, 1, 0])
        h = struct.pack('!BBHHHBBH4s4s',
                        (ver << 4) | ((hl // 4 if ihl is None else ihl) & 15),
                        self.r.choice([0, 0, 0, 0x10, 0xb8, 3]),
                        hl + len(l4) if tot is None else tot, ident, frag,
                        ttl, proto, 0, a2b(src), a2b(dst)) + opts
        c = cks(h) ^ (0x1357 if bad_csum else 0)
        return put16(h, 10, c) + l4

    def l4(self, proto, src, dst, body, bad=False, zero=False, partial=False,
           icmp_type=8, icmp_code=0, inner=b''):
        """A complete L4 datagram with its checksum right (unless bad)."""
        r, s, d = self.r, a2b(src), a2b(dst)
        if proto == socket.IPPROTO_UDP:
            p = struct.pack('!HHHH', r.randrange(65536), r.choice([7, 9, 53, r.randrange(65536)]),
                            8 + len(body), 0) + body
            off = 6
        elif proto == socket.IPPROTO_TCP:
            opt = self.payload(4 * r.randrange(0, 11)) if r.randrange(4) == 0 else b''
            doff = (20 + len(opt)) // 4
            if r.randrange(10) == 0:
                doff = r.randrange(16)	# lies about its length
            p = struct.pack('!HHIIBBHHH', r.randrange(65536), r.choice([7, 9, 80, 5001]),
                            r.getrandbits(32), r.getrandbits(32), doff << 4,
                            r.randrange(256), r.randrange(65536), 0, 0) + opt + body
            off = 16
        elif proto == IPPROTO_DCCP:
            # Generic header with 48-bit sequence numbers, DCCP-Data; CsCov 0.
            p = struct.pack('!HHBBHBBHI', r.randrange(65536), 9, 4, 0, 0,
                            (2 << 1) | 1, 0, r.randrange(65536), r.getrandbits(32)) + body
            off = 6
        elif proto == socket.IPPROTO_ICMP:
            rest = inner if inner else body
            if icmp_type in (0, 8, 13, 14) or not inner:
                hdr4 = struct.pack('!HH', r.randrange(65536), r.randrange(65536))
            else:
                hdr4 = struct.pack('!HH', 0, r.choice([0, 1280, 576, 68]))
            p = struct.pack('!BBH', icmp_type, icmp_code, 0) + hdr4 + rest
            c = cks(p) ^ (0x2468 if bad else 0)
            return put16(p, 2, c)
        else:
            return body
        if zero and proto == socket.IPPROTO_UDP:
            return p
        if partial:
            return put16(p, off, pseudo(s, d, proto, len(p)))
        c = cks(p, pseudo(s, d, proto, len(p)))
        if proto == socket.IPPROTO_UDP and c == 0:
            c = 0xffff
        return put16(p, off, c ^ (0x1111 if bad else 0))

    def datagram(self, src, dst, ident, depth=0):
        """A packet, mostly well formed; returns (bytes, checkable)."""
        r = self.r
        proto = r.choice([socket.IPPROTO_UDP] * 4 + [socket.IPPROTO_TCP] * 4 +
                         [socket.IPPROTO_ICMP] * 3 + [IPPROTO_DCCP, 47, 50, 132,
                                                      4, r.randrange(256)])
        body = self.payload(r.choice([0, 1, 7, 8, 20, 56, r.randrange(1400)]))
        bad = r.randrange(8) == 0
        opts = self.options() if r.randrange(6) == 0 else b''
        if proto == socket.IPPROTO_ICMP:
            t = r.choice([0, 8, 13, 14, 17, 9, 10, r.randrange(256)])
            l4 = self.l4(proto, src, dst, body, bad=bad, icmp_type=t,
                         icmp_code=r.choice([0, 0, r.randrange(256)]))
        else:
            l4 = self.l4(proto, src, dst, body, bad=bad,
                         zero=r.randrange(8) == 0)
        ident = (ident & 0x7fff) | (NOCHECK if bad else 0)
        return self.ip(src, dst, proto, l4, ident, opts=opts), not bad

    def icmp_error(self, src, dst, isrc, idst, ident, depth=0):
        """An ICMP error from src to dst about a packet isrc -> idst."""
        r = self.r
        t = r.choice([3, 3, 3, 11, 11, 12, 4, 5])
        code = r.choice([0, 1, 3, 4, 13, r.randrange(256)]) if t == 3 else r.randrange(3)
        if depth < 2 and r.randrange(6) == 0:	# about an error (nested)
            inner = self.icmp_error(isrc, idst, r.choice([idst, self.rand_addr()]),
                                    r.choice([isrc, self.rand_addr()]),
                                    r.getrandbits(16), depth + 1)
        else:
            inner, ok = self.datagram(isrc, idst, r.getrandbits(16), depth + 1)
            if not ok:
                inner = put16(inner, 4, struct.unpack('!H', inner[4:6])[0] | NOCHECK)
                inner = put16(inner, 10, 0)
                inner = put16(inner, 10, cks(inner[:(inner[0] & 15) * 4]))
        ihl = (inner[0] & 15) * 4
        m = r.randrange(10)
        if m == 0:	# the inner packet is a fragment
            frag = r.choice([0x2000, r.randrange(1, 0x2000), 0x2000 | r.randrange(1, 0x2000)])
            inner = inner[:6] + struct.pack('!H', frag) + inner[8:]
        elif m == 1:	# embedded IP header spoiled: ihl, version
            inner = bytes([r.choice([0x44, 0x4f, 0x46, 0x65, 0x40, 0x41])]) + inner[1:]
            inner = put16(inner, 4, struct.unpack('!H', inner[4:6])[0] | NOCHECK)
        elif m == 2:	# embedded IP checksum wrong
            inner = put16(inner, 4, struct.unpack('!H', inner[4:6])[0] | NOCHECK)
        if m in (0, 1):
            inner = put16(inner, 10, 0)
            inner = put16(inner, 10, cks(inner[:ihl]))
        if m == 2:
            inner = put16(inner, 10, struct.unpack('!H', inner[10:12])[0] ^ 0x55)
        cut = r.choice([len(inner), ihl + 8, ihl + 8, ihl + 18, ihl + 20, ihl,
                        r.randrange(len(inner) + 1), 0, 12, 19])
        inner = inner[:min(cut, 548)]
        l4 = self.l4(socket.IPPROTO_ICMP, src, dst, b'', icmp_type=t,
                     icmp_code=code, inner=inner or b'\0' * 0)
        if not inner:
            l4 = l4[:8]
        return self.ip(src, dst, socket.IPPROTO_ICMP, l4, ident & 0x7fff,
                       opts=self.options() if r.randrange(8) == 0 else b'',
                       ttl=r.choice([64, 64, 64, 1]))

    def mutate(self, pkt, ident):
        """Truncations and header lies; returns (bytes, checkable)."""
        r = self.r
        ihl = (pkt[0] & 15) * 4
        m = r.randrange(12)
        if m == 0:	# L4 cut, total length consistent
            n = r.randrange(ihl, min(len(pkt), ihl + 24) + 1)
            p = put16(pkt[:n], 2, n)
        elif m == 1:	# fragment: random offset and MF
            frag = r.choice([0x2000, r.randrange(1, 0x2000), 0x2000 | r.randrange(1, 0x2000),
                             0x4000 | r.randrange(0, 0x2000)])
            p = pkt[:6] + struct.pack('!H', frag) + pkt[8:]
            if frag & 0x2000:
                n = ihl + (len(pkt) - ihl) // 8 * 8
                p = put16(p[:max(n, ihl + 8)], 2, max(n, ihl + 8))
        elif m == 2:	# tot_len past the frame, or inside the header
            p = put16(pkt, 2, r.choice([len(pkt) + r.randrange(1, 100), r.randrange(ihl), 0]))
        elif m == 3:	# ihl too small or too large
            p = bytes([0x40 | r.choice([0, 1, 4, 15, 14])]) + pkt[1:]
        elif m == 4:	# not version 4
            p = bytes([(r.choice([0, 5, 6, 15]) << 4) | (pkt[0] & 15)]) + pkt[1:]
        elif m == 5:	# the frame cut short, tot_len kept
            p = pkt[:r.randrange(1, len(pkt))]
        elif m == 6:	# trailing bytes after tot_len (link padding)
            p = pkt + self.payload(r.randrange(1, 40))
            return self.fixsum(p), True
        elif m == 7:	# bad IP checksum
            return put16(pkt, 10, struct.unpack('!H', pkt[10:12])[0] ^ 0x101), False
        else:
            return pkt, True
        return self.fixsum(p, nocheck=True), False

    def fixsum(self, p, nocheck=False):
        ihl = (p[0] & 15) * 4
        if len(p) < 20 or ihl < 20 or ihl > len(p):
            return p
        if nocheck:
            p = put16(p, 4, struct.unpack('!H', p[4:6])[0] | NOCHECK)
        p = put16(p, 10, 0)
        return put16(p, 10, cks(p[:ihl]))

    def from_vpn(self, ident):
        r = self.r
        src = r.choice([self.mapped_real] * 15 + [
            lambda: '10.1.%d.%d' % (r.randrange(8), r.randrange(256)),
            lambda: self.mapped_nat(), self.rand_addr])()
        dst = r.choice([CORE] * 12 + GW + [self.mapped_nat] * 3 +
                       [self.rand_addr] * 2)
        dst = dst() if callable(dst) else dst
        if r.randrange(4) == 0:
            # An error about what core (or anything) sent into this VPN.
            pkt = self.icmp_error(src, dst, r.choice([CORE, CORE, self.rand_addr()]),
                                  r.choice([self.mapped_real()] * 3 + [self.rand_addr()]),
                                  ident)
            ok = True
        else:
            pkt, ok = self.datagram(src, dst, ident)
        if r.randrange(3) == 0:
            pkt, ok2 = self.mutate(pkt, ident)
            ok = ok and ok2
        return pkt

    def from_core(self, ident):
        r = self.r
        src = CORE if r.randrange(8) else r.choice(
            ['10.200.0.7', '192.0.2.1', self.mapped_nat(), '10.153.1.1', '0.0.0.0'])
        dst = r.choice([self.mapped_nat] * 14 + [
            lambda: '10.153.0.%d' % r.randrange(64),
            lambda: '10.153.%d.%d' % (r.randrange(256), r.randrange(256)),
            lambda: '10.1.0.%d' % r.randrange(8), lambda: r.choice(GW),
            self.rand_addr])()
        if r.randrange(4) == 0:
            pkt = self.icmp_error(src, dst, r.choice([self.mapped_nat()] * 3 + [
                self.rand_addr(), '10.153.0.%d' % r.randrange(64)]),
                r.choice([CORE, CORE, self.rand_addr()]), ident)
        else:
            pkt, ok = self.datagram(src, dst, ident)
        if r.randrange(3) == 0:
            pkt, ok = self.mutate(pkt, ident)
        return pkt

    def vnet_tcp(self, ident):
        """A TCP GSO (or just CHECKSUM_PARTIAL) packet from vpn1: (vnet, ip)."""
        r = self.r
        src, dst = self.mapped_real(), CORE
        opts = self.options() if r.randrange(5) == 0 else b''
        if opts and opts[0] in (131, 137):
            opts = b''
        gso = r.randrange(4) != 0
        body = self.payload(r.randrange(1500, 20000) if gso else r.randrange(1400))
        proto = socket.IPPROTO_TCP if gso or r.randrange(2) else socket.IPPROTO_UDP
        l4 = self.l4(proto, src, dst, body, partial=True)
        if proto == socket.IPPROTO_TCP:
            l4 = l4[:12] + bytes([5 << 4]) + l4[13:]
            l4 = put16(l4, 16, pseudo(a2b(src), a2b(dst), proto, len(l4)))
            l4 = l4[:20] + body
            l4 = put16(l4, 16, pseudo(a2b(src), a2b(dst), proto, len(l4)))
        # NOCHECK: its checksum is the pseudo-header's until a device fills
        # it in, which veths never do: core's stack may quote it so in an
        # ICMP error. It arrives CHECKSUM_PARTIAL, and is checked so.
        pkt = self.ip(src, dst, proto, l4, ident | NOCHECK, opts=opts, ttl=64)
        ihl = 20 + len(opts)
        gso_size = r.randrange(500, 1400)
        vnet = struct.pack('=BBHHHH', 1, 1 if gso else 0,
                           14 + ihl + 20 if gso else 0, gso_size if gso else 0,
                           14 + ihl, 16 if proto == socket.IPPROTO_TCP else 6)
        return vnet, pkt


# --------------------------------------------------------------- checking

class Judge:
    def __init__(self, name, into_vpn):
        self.name = name
        self.into_vpn = into_vpn
        self.arrived = 0
        self.partial = 0
        self.gso = 0
        self.checked = 0
        self.bad = {}
        self.examples = []

    def fail(self, why, frame, sent):
        self.bad[why] = self.bad.get(why, 0) + 1
        if len(self.examples) < 6:
            self.examples.append((why, frame, sent))

    def judge(self, frame, partial, sent_by_id):
        self.arrived += 1
        p = frame[14:]
        if len(p) < 20 or p[0] >> 4 != 4:
            return self.fail('not IPv4', frame, None)
        ihl = (p[0] & 15) * 4
        tot = struct.unpack('!H', p[2:4])[0]
        ident = struct.unpack('!H', p[4:6])[0]
        sent = sent_by_id.get(ident & 0x7fff)
        if ihl < 20 or tot < ihl or tot > len(p):
            return self.fail('bad IP header', frame, sent)
        p = p[:tot]
        if tot > 1514:
            self.gso += 1
        src, dst = ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20])
        if self.into_vpn and dst in POOL:
            self.fail('NAT destination into a VPN', frame, sent)
        if not self.into_vpn and src in REAL:
            self.fail('real source into core', frame, sent)
        if osum(p[:ihl]) != 0xffff:
            self.fail('IP header checksum', frame, sent)
        frag = struct.unpack('!H', p[6:8])[0] & 0x3fff
        proto, l4 = p[9], p[ihl:]
        if partial:
            self.partial += 1
            off = {6: 16, 17: 6}.get(proto)
            if off is None or len(l4) < off + 2:
                return self.fail('CHECKSUM_PARTIAL, not TCP/UDP', frame, sent)
            # What the device does: the sum from csum_start on, folded.
            l4 = put16(l4, off, cks(l4))
        if proto == 1 and len(l4) >= 8 and l4[0] in (3, 4, 5, 11, 12) and not frag:
            self.inner(l4[8:], frame, sent)
        if frag or (ident & NOCHECK and not partial):
            return
        self.checked += 1
        if not self.l4_ok(p[12:16], p[16:20], proto, l4):
            self.fail('L4 checksum (proto %d)' % proto, frame, sent)

    @staticmethod
    def l4_ok(s, d, proto, l4):
        if proto == 1:
            return osum(l4) == 0xffff
        if proto == 17 and len(l4) >= 8:
            if struct.unpack('!H', l4[6:8])[0] == 0 or \
               struct.unpack('!H', l4[4:6])[0] != len(l4):
                return True
        elif proto not in (6, IPPROTO_DCCP) or len(l4) < (20 if proto == 6 else 16):
            return True
        return osum(l4, pseudo(s, d, proto, len(l4))) == 0xffff

    def inner(self, q, frame, sent):
        if len(q) < 20 or q[0] >> 4 != 4:
            return
        ihl = (q[0] & 15) * 4
        if ihl < 20 or ihl > len(q):
            return
        s, d = ipaddress.ip_address(q[12:16]), ipaddress.ip_address(q[16:20])
        if self.into_vpn and s in POOL:
            self.fail('embedded NAT source into a VPN', frame, sent)
        # gw's own errors into core are about core's packets: not checked.
        if not self.into_vpn and d in REAL and \
           b2a(frame[14 + 12:14 + 16]) not in GW:
            self.fail('embedded real destination into core', frame, sent)
        ident = struct.unpack('!H', q[4:6])[0]
        # A stack that received the packet may have filled in its record
        # route or timestamp option, leaving the checksum stale (it is
        # recomputed only if forwarded): an embedded header with options
        # is not checked.
        if ident & NOCHECK or ihl > 20:
            return
        if osum(q[:ihl]) != 0xffff:
            self.fail('embedded IP header checksum', frame, sent)
        tot = struct.unpack('!H', q[2:4])[0]
        frag = struct.unpack('!H', q[6:8])[0] & 0x3fff
        if tot == len(q) and not frag and q[9] in (6, 17) and \
           not self.l4_ok(q[12:16], q[16:20], q[9], q[ihl:]):
            self.fail('embedded L4 checksum', frame, sent)


def hexdump(b):
    return ' '.join('%02x' % x for x in b)


# ------------------------------------------------------------------- main

def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    maps = []
    for m in sys.argv[3:]:
        vpn, real, nat = m.split(':')
        real = ipaddress.ip_network(real)
        maps.append((int(vpn), real,
                     ipaddress.ip_network('%s/%d' % (nat, real.prefixlen))))
    print('# pktfuzz: seed %d, %d packets each way' % (seed, count), flush=True)
    fz = Fuzz(seed, maps)

    def psock(ifname, proto):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)	# SO_RCVBUFFORCE
        s.bind((ifname, proto))
        return s, s.getsockname()[4]	# the device's MAC address

    gv1_mac = netns('gw', lambda: psock('gv1', 0))[1]
    gc_mac = netns('gw', lambda: psock('gc', 0))[1]
    tx_vpn, vpn_mac = netns('vpn1', lambda: psock('eth0', 0))
    tx_core, core_mac = netns('core', lambda: psock('c0', 0))
    tx_vnet, _ = netns('vpn1', lambda: psock('eth0', 0))
    tx_vnet.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    judges = {}
    for ns, dev, into in (('vpn1', 'eth0', True), ('vpn2', 'eth0', True),
                          ('core', 'c0', False)):
        s, _ = netns(ns, lambda: psock(dev, ETH_P_IP))
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.setblocking(False)
        judges[s] = Judge(ns, into)

    # gw's own GSO: UDP_SEGMENT to a NAT IP, and a TCP bulk transfer.
    nat_a = str(next(m[2] for m in maps if m[0] == 1)[0])
    real_a = str(next(m[1] for m in maps if m[0] == 1)[0])
    udp_gso = netns('gw', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    udp_gso.setsockopt(SOL_UDP, UDP_SEGMENT, 1000)
    lsn = netns('vpn1', lambda: socket.create_server((real_a, 5001)))
    tcp_out = netns('gw', lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    tcp_out.settimeout(10)
    tcp_out.connect((nat_a, 5001))
    tcp_in, _ = lsn.accept()
    tcp_in.setblocking(False)
    tcp_out.setblocking(False)
    bulk = fz.r.randbytes(1 << 16)
    tcp_sent = tcp_recv = 0
    tcp_want = count * 64

    sent_vpn, sent_core = {}, {}
    n_vpn = n_core = n_vnet = n_udp_gso = 0
    send_err = {}

    def send(sock, frame, where):
        try:
            sock.send(frame)
            return True
        except OSError as e:
            k = '%s %s' % (where, errno.errorcode.get(e.errno, e.errno))
            send_err[k] = send_err.get(k, 0) + 1
            return False

    def drain():
        nonlocal tcp_sent, tcp_recv
        for s, j in judges.items():
            while True:
                try:
                    data, anc, _, addr = s.recvmsg(70000, 64)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                partial = False
                for lvl, typ, val in anc:
                    if lvl == SOL_PACKET and typ == PACKET_AUXDATA:
                        partial = bool(struct.unpack('=I', val[:4])[0] &
                                       TP_STATUS_CSUMNOTREADY)
                j.judge(data, partial, sent_core if j.into_vpn else sent_vpn)
        try:
            while tcp_sent < tcp_want:
                tcp_sent += tcp_out.send(bulk[:min(len(bulk), tcp_want - tcp_sent)])
        except BlockingIOError:
            pass
        try:
            while True:
                d = tcp_in.recv(1 << 16)
                if not d:
                    break
                tcp_recv += len(d)
        except BlockingIOError:
            pass

    # Built first, so that the figures tell building from the kernel's work.
    start = time.monotonic()
    plan = []
    for i in range(count):
        ident = i & 0x7fff
        plan.append((fz.from_vpn(ident), fz.from_core(ident),
                     fz.vnet_tcp(ident) if i % 50 == 0 else None,
                     fz.r.randbytes(fz.r.randrange(1001, 12000)) if i % 50 == 0 else None,
                     fz.mapped_nat(only1=True)))
    building = time.monotonic() - start
    start = time.monotonic()
    judging = 0
    for i, (pv, pc, vnet, dgram, nat) in enumerate(plan):
        ident = i & 0x7fff
        sent_vpn[ident] = pv
        n_vpn += send(tx_vpn, gv1_mac + vpn_mac + b'\x08\x00' + pv, 'vpn1')
        sent_core[ident] = pc
        n_core += send(tx_core, gc_mac + core_mac + b'\x08\x00' + pc, 'core')
        if vnet:
            sent_vpn[ident] = vnet[1]
            n_vnet += send(tx_vnet, vnet[0] + gv1_mac + vpn_mac + b'\x08\x00' + vnet[1],
                           'vpn1 vnet')
            try:
                udp_gso.sendto(dgram, (nat, 9))
                n_udp_gso += 1
            except OSError as e:
                k = 'gw udp gso %s' % errno.errorcode.get(e.errno, e.errno)
                send_err[k] = send_err.get(k, 0) + 1
        if i % 16 == 15:
            t = time.monotonic()
            drain()
            judging += time.monotonic() - t
    sending = time.monotonic() - start - judging
    end = time.monotonic() + 3
    while time.monotonic() < end and tcp_recv < tcp_want:
        select.select(list(judges) + [tcp_in], [tcp_out], [], 0.2)
        drain()
    end = time.monotonic() + 1
    while time.monotonic() < end:
        select.select(list(judges), [], [], 0.2)
        drain()

    print('# built in %.1f s; sent in %.1f s (the kernel forwarding, '
          'translating, answering them inline): %d from vpn1, %d from core '
          '(%.0f packets/s), %d TCP GSO/partial with virtio-net headers from '
          'vpn1, %d UDP GSO from gw, TCP from gw %d of %d bytes delivered; '
          'judged in %.1f s' %
          (building, sending, n_vpn, n_core, (n_vpn + n_core) / sending,
           n_vnet, n_udp_gso, tcp_recv, tcp_want, judging))
    for k, v in sorted(send_err.items()):
        print('# send refused (%s): %d' % (k, v))
    failed = False
    lost = 0
    for s, j in judges.items():
        st = struct.unpack('=II', s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        lost += st[1]
        print('# arrived in %s: %d (%d CHECKSUM_PARTIAL, %d larger than the MTU), '
              '%d with L4 checksums checked, %d lost by the capture' %
              (j.name, j.arrived, j.partial, j.gso, j.checked, st[1]))
        for why, n in sorted(j.bad.items()):
            print('#   %s: %d' % (why, n))
        for why, frame, sent in j.examples:
            print('#   %s, arrived: %s' % (why, hexdump(frame[14:200])))
            if sent:
                print('#     sent with that IP id: %s' % hexdump(sent[:200]))
        failed |= bool(j.bad)
    kernel = os.environ.get('RNAT_VM_KERNEL')

    def result(ok, name):
        print('%s - %s%s' % ('ok' if ok else 'not ok',
                             '[%s] ' % kernel if kernel else '', name))
    result(n_vpn + n_core > count, 'pktfuzz: packets were sent both ways')
    result(all(j.arrived for j in judges.values()),
           'pktfuzz: packets arrived in vpn1, vpn2 and core')
    result(lost == 0, 'pktfuzz: the captures lost nothing')
    for j in judges.values():
        result(not j.bad, 'pktfuzz: every packet arriving in %s is right '
               '(addresses, checksums)' % j.name)
    result(tcp_recv == tcp_want, 'pktfuzz: gw\'s TCP bulk transfer to a NAT IP '
           'arrived whole (TSO through the egress hook)')
    result(sum(j.partial for j in judges.values()) > 0,
           'pktfuzz: CHECKSUM_PARTIAL packets crossed and were checked')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
