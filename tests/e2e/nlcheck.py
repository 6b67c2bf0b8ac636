#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads every byte rnat's netlink family sends and checks it is what
uapi/linux/rnat.h specifies, so that no uninitialised kernel memory reaches
user space: message and attribute lengths exact for their types, the genl
header's reserved field and every alignment pad zero, strings printable and
NUL-terminated with nothing after the NUL, no unknown attribute, values in
their ranges (addresses in the pool or the customers' space, ids, ifindexes
of the namespace's devices, marks within their masks). The receive buffer
is filled with a pattern before each read and must be untouched past what
the kernel says it wrote.

On our test kernel (slub_debug=FZPU) slab memory is poisoned (0x6b, 0x5a)
until written, and the 4 kB receive buffer used here keeps the kernel's
dump, reply and event skbs in slab memory (netlink sizes a dump's skb by
the reader's buffer; larger ones come from the page allocator, which is
not poisoned): an uninitialised pad or value shows as poison.

  events OUT STOP         listen to the "events" group, check each event;
                          OUT (JSON): counts by command, errors, and the
                          (NAT, VPN, real) of every map-new event, once
                          the file STOP exists
  dumps OUT STOP          pool, VPN and mapping dumps (with counters),
                          lookups and stats, over and over until the file
                          STOP exists (at least once); OUT: counts and errors; with
                          RNAT_FINAL=FILE the last map dump's mappings go
                          to FILE as "NAT VPN real" lines

The pool and customer prefixes come from RNAT_POOL (10.153.0.0/24) and
RNAT_REALS (10.1.0.0/16).
"""

import errno
import ipaddress
import json
import os
import socket
import struct
import sys

SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GENERIC = 16
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP = 1, 2, 4, 0x300
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 16, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
NLA_F_NESTED = 0x8000
BUF = 4096
FILL = 0xa5

# uapi/linux/rnat.h
(POOL_NEW, POOL_DEL, POOL_GET, VPN_NEW, VPN_DEL, VPN_GET, MAP_NEW, MAP_DEL,
 MAP_GET, STATS_GET, VPN_SET, RESTORE_BEGIN, RESTORE_COMMIT, RESTORE_ABORT,
 MAP_FLUSH) = range(1, 16)
(A_POOL, A_POOL_PREFIXES, A_POOL_SIZE, A_POOL_USED, A_VPN_ID, A_VPN_NAME,
 A_VPN_MAPPINGS, A_IFINDEX, A_MAP_REAL, A_MAP_NAT, A_MAP_PLEN, A_STATS,
 A_POOL_OWNED, A_VPN_BLOCKS, A_FILTER_NAT, A_FILTER_REAL, A_WANT_STATS,
 A_MAP_STATS, A_VPN_MARK, A_VPN_OUT_MARK, A_VPN_NBLOCKS, A_VPN_BLOCKS_FIRST,
 A_GENERATION, A_VPN_DEPARTED) = range(1, 25)
VPN_ID_MAX = 0x7fffffff
NAME_MAX = 32

POOL_NET = ipaddress.ip_network(os.environ.get('RNAT_POOL', '10.153.0.0/24'))
REAL_NET = ipaddress.ip_network(os.environ.get('RNAT_REALS', '10.1.0.0/16'))

# What each command's replies and events carry: attribute -> required?
POOL_ATTRS = {A_POOL: 1, A_POOL_PREFIXES: 1, A_POOL_SIZE: 1, A_POOL_USED: 1,
              A_POOL_OWNED: 1}
VPN_ATTRS = {A_VPN_ID: 1, A_VPN_NAME: 1, A_POOL: 1, A_IFINDEX: 0,
             A_VPN_MARK: 0, A_VPN_OUT_MARK: 0, A_VPN_MAPPINGS: 1,
             A_VPN_BLOCKS: 0, A_VPN_NBLOCKS: 0, A_VPN_BLOCKS_FIRST: 0,
             A_VPN_DEPARTED: 0}
MAP_ATTRS = {A_VPN_ID: 1, A_MAP_REAL: 1, A_MAP_NAT: 1, A_MAP_PLEN: 1,
             A_POOL: 1, A_MAP_STATS: 0}
GONE_ATTRS = {A_VPN_ID: 1, A_VPN_MAPPINGS: 1}
SHAPE = {POOL_NEW: POOL_ATTRS, POOL_GET: POOL_ATTRS, POOL_DEL: {A_POOL: 1},
         VPN_NEW: VPN_ATTRS, VPN_SET: VPN_ATTRS, VPN_GET: VPN_ATTRS,
         VPN_DEL: GONE_ATTRS, MAP_FLUSH: GONE_ATTRS, MAP_NEW: MAP_ATTRS,
         MAP_DEL: MAP_ATTRS, MAP_GET: MAP_ATTRS, RESTORE_COMMIT: {},
         STATS_GET: {A_STATS: 1, A_GENERATION: 0}}


class Bad(Exception):
    pass


def ifindexes():
    return {i for i, _ in socket.if_nameindex()}


class Checker:
    def __init__(self):
        self.errors = []
        self.msgs = 0
        self.bytes = 0
        self.devs = ifindexes()

    def bad(self, what):
        if len(self.errors) < 50:
            self.errors.append(what)

    # --- attribute values -------------------------------------------------
    @staticmethod
    def attrs(data, where):
        """[(type, flags, payload)] of data, every byte accounted for."""
        out, off = [], 0
        while off < len(data):
            if off + 4 > len(data):
                raise Bad('%s: %d stray bytes' % (where, len(data) - off))
            length, kind = struct.unpack_from('=HH', data, off)
            if length < 4 or off + length > len(data):
                raise Bad('%s: attribute %d length %d past the end'
                          % (where, kind & 0x3fff, length))
            end = off + ((length + 3) & ~3)
            if end > len(data):
                raise Bad('%s: attribute %d alignment past the end'
                          % (where, kind & 0x3fff))
            pad = data[off + length:end]
            if any(pad):
                raise Bad('%s: attribute %d pad bytes %s' %
                          (where, kind & 0x3fff, pad.hex()))
            out.append((kind & 0x3fff, kind & 0xc000,
                        bytes(data[off + 4:off + length])))
            off = end
        return out

    @staticmethod
    def fixed(p, size, where):
        if len(p) != size:
            raise Bad('%s: %d bytes, want %d' % (where, len(p), size))

    def u(self, p, size, where, lo=0, hi=None):
        self.fixed(p, size, where)
        v = int.from_bytes(p, sys.byteorder)
        if v < lo or (hi is not None and v > hi):
            raise Bad('%s: %d out of [%d, %s]' % (where, v, lo, hi))
        return v

    def addr(self, p, where, net):
        self.fixed(p, 4, where)
        a = ipaddress.ip_address(p)
        if a not in net:
            raise Bad('%s: %s not in %s' % (where, a, net))
        return str(a)

    def string(self, p, where):
        if not 2 <= len(p) <= NAME_MAX or p[-1] != 0:
            raise Bad('%s: %r: not 1 to %d characters and one NUL' %
                      (where, p, NAME_MAX - 1))
        for c in p[:-1]:
            if c <= 0x20 or c >= 0x7f or c in b'"\\':
                raise Bad('%s: %r has byte 0x%02x' % (where, p, c))
        return p[:-1].decode()

    def prefixes(self, p, where, net, empty=False):
        got = []
        for i, (kind, flags, q) in enumerate(self.attrs(p, where)):
            if kind != i + 1 or flags != NLA_F_NESTED:
                raise Bad('%s: entry %d has type %d flags 0x%x' %
                          (where, i + 1, kind, flags))
            sub = dict((k, v) for k, _, v in self.attrs(q, where))
            if set(sub) != {1, 2} or len(self.attrs(q, where)) != 2:
                raise Bad('%s: entry %d attributes %s' %
                          (where, i + 1, sorted(sub)))
            a = self.addr(sub[1], where + ' addr', net)
            plen = self.u(sub[2], 1, where + ' len', 8, 32)
            if int(ipaddress.ip_address(a)) & ((1 << (32 - plen)) - 1):
                raise Bad('%s: %s/%d has host bits' % (where, a, plen))
            got.append('%s/%d' % (a, plen))
        if not got and not empty:
            raise Bad('%s: empty' % where)
        return got

    def mark(self, p, where):
        sub = self.attrs(p, where)
        d = dict((k, v) for k, _, v in sub)
        if set(d) != {1, 2} or len(sub) != 2:
            raise Bad('%s: attributes %s' % (where, [k for k, _, _ in sub]))
        value = self.u(d[1], 4, where + ' value')
        mask = self.u(d[2], 4, where + ' mask')
        if value & ~mask:
            raise Bad('%s: 0x%x outside mask 0x%x' % (where, value, mask))

    def counters(self, p, where, first, last, u32_from):
        seen = set()
        for kind, flags, q in self.attrs(p, where):
            w = '%s %d' % (where, kind)
            if flags:
                raise Bad('%s: flags 0x%x' % (w, flags))
            if kind == 1:		# the 64-bit alignment pad attribute
                self.fixed(q, 0, w + ' (pad)')
                continue
            if not first <= kind <= last or kind in seen:
                raise Bad('%s: unknown or repeated' % w)
            seen.add(kind)
            if kind >= u32_from:
                self.u(q, 4, w, 0, 1 << 24)
            else:
                self.u(q, 8, w, 0, 1 << 48)
        return seen

    def value(self, kind, flags, p, where):
        w = '%s attr %d' % (where, kind)
        nested = kind in (A_POOL_PREFIXES, A_VPN_BLOCKS, A_STATS,
                          A_MAP_STATS, A_VPN_DEPARTED, A_VPN_MARK,
                          A_VPN_OUT_MARK)
        if flags != (NLA_F_NESTED if nested else 0):
            raise Bad('%s: flags 0x%x' % (w, flags))
        if kind in (A_POOL, A_VPN_NAME):
            return self.string(p, w)
        if kind == A_VPN_ID:
            return self.u(p, 4, w, 1, VPN_ID_MAX)
        if kind in (A_POOL_SIZE, A_POOL_USED, A_POOL_OWNED):
            return self.u(p, 4, w, 0, POOL_NET.num_addresses)
        if kind in (A_VPN_MAPPINGS, A_VPN_NBLOCKS, A_VPN_BLOCKS_FIRST):
            return self.u(p, 4, w, 0, 1 << 24)
        if kind == A_GENERATION:
            return self.u(p, 4, w)
        if kind == A_IFINDEX:
            v = self.u(p, 4, w, 1)
            if v not in self.devs:
                self.devs = ifindexes()
                if v not in self.devs:
                    raise Bad('%s: ifindex %d is no device here' % (w, v))
            return v
        if kind == A_MAP_REAL:
            return self.addr(p, w, REAL_NET)
        if kind == A_MAP_NAT:
            return self.addr(p, w, POOL_NET)
        if kind == A_MAP_PLEN:
            return self.u(p, 1, w, 16, 32)
        if kind in (A_POOL_PREFIXES, A_VPN_BLOCKS):
            # a VPN without mappings has no blocks (an empty nest)
            return self.prefixes(p, w, POOL_NET, kind == A_VPN_BLOCKS)
        if kind in (A_VPN_MARK, A_VPN_OUT_MARK):
            return self.mark(p, w)
        if kind == A_STATS:
            got = self.counters(p, w, 2, 10, 99)
            if got != set(range(2, 11)):
                raise Bad('%s: counters %s' % (w, sorted(got)))
            return got
        if kind in (A_MAP_STATS, A_VPN_DEPARTED):
            got = self.counters(p, w, 2, 14, 7)
            if not set(range(2, 6)) | set(range(7, 15)) <= got:
                raise Bad('%s: counters %s' % (w, sorted(got)))
            return got
        raise Bad('%s: not expected in a reply or event' % w)

    # --- messages ---------------------------------------------------------
    def message(self, cmd, payload, where):
        """Checks one rnat message's genl header and attributes: returns
        {type: value}."""
        if len(payload) < 4:
            raise Bad('%s: no genl header' % where)
        gcmd, version, reserved = struct.unpack_from('=BBH', payload)
        if gcmd != cmd and cmd is not None:
            raise Bad('%s: command %d, want %d' % (where, gcmd, cmd))
        if version != 1 or reserved:
            raise Bad('%s: version %d reserved 0x%04x' %
                      (where, version, reserved))
        shape = SHAPE.get(gcmd)
        if shape is None:
            raise Bad('%s: unexpected command %d' % (where, gcmd))
        got = {}
        for kind, flags, p in self.attrs(payload[4:], where):
            if kind in got:
                raise Bad('%s: attribute %d twice' % (where, kind))
            if kind not in shape:
                raise Bad('%s (command %d): attribute %d unexpected' %
                          (where, gcmd, kind))
            got[kind] = self.value(kind, flags, p, where)
        missing = [k for k, req in shape.items() if req and k not in got]
        if missing:
            raise Bad('%s (command %d): missing %s' % (where, gcmd, missing))
        if A_MAP_NAT in got and A_MAP_PLEN in got:
            plen = got[A_MAP_PLEN]
            for k in (A_MAP_NAT, A_MAP_REAL):
                if int(ipaddress.ip_address(got[k])) & \
                        ((1 << (32 - plen)) - 1):
                    raise Bad('%s: %s/%d has host bits' %
                              (where, got[k], plen))
        return gcmd, got

    def datagram(self, buf, n, family, where, flags_want=None):
        """Splits one read into netlink messages, checking the bytes
        between them and past the end: [(type, flags, seq, payload)]."""
        self.bytes += n
        if any(b != FILL for b in buf[n:]):
            raise Bad('%s: the buffer changed past the %d bytes read' %
                      (where, n))
        out, off = [], 0
        while off < n:
            if off + 16 > n:
                raise Bad('%s: %d stray bytes' % (where, n - off))
            length, kind, flags, seq, pid = \
                struct.unpack_from('=IHHII', buf, off)
            if length < 16 or off + length > n:
                raise Bad('%s: message length %d' % (where, length))
            end = min(off + ((length + 3) & ~3), n)
            if any(buf[off + length:end]):
                raise Bad('%s: message pad bytes' % where)
            out.append((kind, flags, seq, bytes(buf[off + 16:off + length])))
            off = end
            self.msgs += 1
        return out


def genl_socket():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    return s


def attr(kind, payload):
    return struct.pack('=HH', 4 + len(payload), kind) + payload + \
        b'\0' * (-len(payload) % 4)


class Conn:
    def __init__(self, chk):
        self.chk = chk
        self.sock = genl_socket()
        self.seq = 0
        self.buf = bytearray(BUF)
        replies = self.talk(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                            attr(CTRL_ATTR_FAMILY_NAME, b'rnat\0'), raw=True)
        a = dict((k & 0x3fff, v) for k, v in parse_raw(replies[0][4:]))
        self.family = struct.unpack_from('=H', a[CTRL_ATTR_FAMILY_ID])[0]
        self.mcgrp = None
        for _, grp in parse_raw(a.get(CTRL_ATTR_MCAST_GROUPS, b'')):
            g = dict((k & 0x3fff, v) for k, v in parse_raw(grp))
            if g.get(1, b'').rstrip(b'\0') == b'events':
                self.mcgrp = struct.unpack_from('=I', g[2])[0]

    def read(self, where):
        self.buf[:] = bytes([FILL]) * BUF
        n = self.sock.recv_into(self.buf, BUF)
        return self.chk.datagram(self.buf, n, None, where)

    def talk(self, family, cmd, attrs=b'', flags=0, raw=False, want=None):
        """One request: the payloads of its replies (checked unless raw)."""
        self.seq += 1
        body = struct.pack('=BBH', cmd, 1, 0) + attrs
        self.sock.send(struct.pack('=IHHII', 16 + len(body), family,
                                   NLM_F_REQUEST | NLM_F_ACK | flags,
                                   self.seq, 0) + body)
        replies = []
        where = 'reply to command %d%s' % (cmd, ' (dump)' if flags else '')
        while True:
            if raw:
                data = self.sock.recv(65536)
                msgs = []
                off = 0
                while off < len(data):
                    length, kind, mflags, seq, _ = \
                        struct.unpack_from('=IHHII', data, off)
                    msgs.append((kind, mflags, seq,
                                 data[off + 16:off + length]))
                    off += (length + 3) & ~3
            else:
                msgs = self.read(where)
            for kind, mflags, seq, payload in msgs:
                if seq != self.seq:
                    raise Bad('%s: sequence %d, want %d' %
                              (where, seq, self.seq))
                if kind in (NLMSG_ERROR, NLMSG_DONE):
                    err = struct.unpack_from('=i', payload)[0]
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    if kind == NLMSG_DONE or not flags:
                        return replies
                    continue
                if raw:
                    replies.append(payload)
                    continue
                if kind != self.family:
                    raise Bad('%s: type %d' % (where, kind))
                if flags and not mflags & NLM_F_MULTI:
                    raise Bad('%s: dump part without NLM_F_MULTI' % where)
                replies.append(self.chk.message(want or cmd, payload, where))


def parse_raw(data):
    off, out = 0, []
    while off + 4 <= len(data):
        length, kind = struct.unpack_from('=HH', data, off)
        if length < 4:
            break
        out.append((kind, data[off + 4:off + length]))
        off += (length + 3) & ~3
    return out


def events(out, stop):
    chk = Checker()
    c = Conn(chk)
    c.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, c.mcgrp)
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    except OSError:
        pass
    c.sock.settimeout(0.5)
    counts, maps, overruns = {}, [], 0
    while not os.path.exists(stop):
        try:
            msgs = c.read('event')
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                overruns += 1
                continue
            raise
        for kind, flags, seq, payload in msgs:
            try:
                if kind != c.family or seq != 0:
                    raise Bad('event: type %d seq %d' % (kind, seq))
                cmd, got = chk.message(None, payload, 'event')
                counts[cmd] = counts.get(cmd, 0) + 1
                if cmd == MAP_NEW:
                    maps.append('%s %d %s' % (got[A_MAP_NAT], got[A_VPN_ID],
                                              got[A_MAP_REAL]))
            except Bad as e:
                chk.bad(str(e))
    with open(out, 'w') as f:
        json.dump({'counts': {str(k): v for k, v in counts.items()},
                   'events': sum(counts.values()), 'overruns': overruns,
                   'bytes': chk.bytes, 'errors': chk.errors,
                   'map_new': sorted(set(maps))}, f, indent=1)


def dumps(out, stop):
    chk = Checker()
    c = Conn(chk)
    rounds, final = 0, []
    while rounds == 0 or not os.path.exists(stop):
        rounds += 1
        try:
            c.talk(c.family, STATS_GET)
            pools = c.talk(c.family, POOL_GET, flags=NLM_F_DUMP)
            for _, p in pools:
                c.talk(c.family, POOL_GET, attr(A_POOL, p[A_POOL].encode() +
                                                b'\0'))
            vpns = c.talk(c.family, VPN_GET, attr(A_WANT_STATS, b''),
                          flags=NLM_F_DUMP)
            for _, v in vpns:
                try:
                    c.talk(c.family, VPN_GET,
                           attr(A_VPN_ID, struct.pack('=I', v[A_VPN_ID])) +
                           attr(A_WANT_STATS, b''))
                except OSError as e:	# deleted meanwhile
                    if e.errno != errno.ENOENT:
                        raise
            maps = c.talk(c.family, MAP_GET, attr(A_WANT_STATS, b''),
                          flags=NLM_F_DUMP)
            final = ['%s %d %s' % (m[A_MAP_NAT], m[A_VPN_ID], m[A_MAP_REAL])
                     for _, m in maps]
            for _, m in maps[:8]:
                try:
                    c.talk(c.family, MAP_GET,
                           attr(A_MAP_NAT, ipaddress.ip_address(
                               m[A_MAP_NAT]).packed) +
                           attr(A_WANT_STATS, b''))
                except OSError as e:
                    if e.errno != errno.ENOENT:
                        raise
        except Bad as e:
            chk.bad(str(e))
            # the rest of that answer is still queued: start afresh
            c.sock.close()
            c = Conn(chk)
    if os.environ.get('RNAT_FINAL'):
        with open(os.environ['RNAT_FINAL'], 'w') as f:
            f.write(''.join(line + '\n' for line in sorted(final)))
    with open(out, 'w') as f:
        json.dump({'rounds': rounds, 'messages': chk.msgs,
                   'bytes': chk.bytes, 'errors': chk.errors}, f, indent=1)


if __name__ == '__main__':
    {'events': events, 'dumps': dumps}[sys.argv[1]](*sys.argv[2:])
