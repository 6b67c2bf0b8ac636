#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Netlink fuzzer of the rnat family: builds requests of every command from
uapi/rnat.yaml (so a new command or attribute is fuzzed without editing
this file), mutates them (wrong types and lengths, bad nesting, missing and
duplicated attributes, extreme values, truncated headers, wrong genl
version or command, stray flags, several messages per sendmsg) and sends
them, in chunks, as root and as nobody (a forked child that drops to uid
65534). Dumps are also read one message far and their socket closed.

Checks: a batch of messages that were all refused leaves the state as it
was (pool, VPN and mapping dumps compared for a sample of batches, and
`rnatctl save` for a sample of those); nobody changes nothing at all (save
before and after each of its chunks) and no admin command of nobody is
acknowledged; the module answers every batch (a 60 s silence fails).
Values the module replies with (pool names, VPN ids, addresses, blocks) are
fed back into requests, so that deletes and lookups find something.

Usage: tests/fuzz/netlink.py [--seed N] [--count N] [--rnatctl PATH]
Run it in a network namespace of its own (with a few dummy devices) where
rnat is loaded; it prints ok/not ok lines and figures, and exits 1 on a
failure, which --seed (printed first) and --count reproduce.
"""

import argparse
import errno
import importlib.util
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
from importlib.machinery import SourceFileLoader

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')

NETLINK_GENERIC, SOL_NETLINK, NETLINK_EXT_ACK = 16, 270, 11
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 1, 2, 4, 8
NLM_F_ROOT, NLM_F_MATCH, NLM_F_DUMP = 0x100, 0x200, 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID = 16, 3, 1
CTRL_ATTR_FAMILY_NAME = 2
NOBODY = 65534
INT = {'u8': 1, 'u16': 2, 'u32': 4, 'u64': 8,
       's8': 1, 's16': 2, 's32': 4, 's64': 8}
# Names and IPv4 addresses the generator draws from: few, so that requests
# often name what earlier ones made.
NAMES = ['P', 'Q', 'R', 'v1', 'v2', 'x-y.z_9']
ADDRS = ['10.%d.%d.%d' % (a, b, c) for a in (0, 1) for b in (0, 1)
         for c in (0, 1, 2, 3, 4, 8, 16, 128, 255)] + ['0.0.0.0']


# ------------------------------------------------------------------ the spec

def load_spec(path):
    """uapi/rnat.yaml, read by tests/lib/check-spec's own parser."""
    loader = SourceFileLoader('check_spec',
                              os.path.join(ROOT, 'tests', 'lib', 'check-spec'))
    mod = importlib.util.module_from_spec(
        importlib.util.spec_from_loader('check_spec', loader))
    loader.exec_module(mod)
    return mod.load_yaml(path)


class Attr:
    def __init__(self, a, value, consts):
        self.name, self.value, self.type = a['name'], value, a['type']
        self.nested = a.get('nested-attributes')
        self.big_endian = a.get('byte-order') == 'big-endian'
        self.ipv4 = a.get('display-hint') == 'ipv4'
        checks = a.get('checks') or {}
        size = INT.get(self.type, 4)
        signed = self.type.startswith('s')
        lo, hi = ((-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1)
                  if signed else (0, (1 << (8 * size)) - 1))
        self.min = evaluate(checks.get('min', lo), consts)
        self.max = evaluate(checks.get('max', hi), consts)
        self.max_len = evaluate(checks.get('max-len', 64), consts)

    def pack(self, v):
        size = INT[self.type]
        v &= (1 << (8 * size)) - 1
        return v.to_bytes(size, 'big' if self.big_endian else 'little')


def evaluate(expr, consts):
    """A check's value: a number or an expression of constants
    ("name-max - 1")."""
    if isinstance(expr, int):
        return expr
    words = [str(consts[w]) if w in consts else w for w in str(expr).split()]
    return int(eval(' '.join(words), {}))


class Spec:
    def __init__(self, path):
        y = load_spec(path)
        self.family = y['name']
        self.version = y.get('version', 1)
        consts = {d['name']: d['value'] for d in y.get('definitions') or []
                  if d.get('type') == 'const'}
        self.sets = {}          # set name -> {attr name: Attr}
        for s in y['attribute-sets']:
            attrs, v = {}, 1
            for a in s['attributes']:
                v = a.get('value', v)
                attrs[a['name']] = Attr(a, v, consts)
                v += 1
            self.sets[s['name']] = attrs
        self.ops, v = [], 1
        for o in y['operations']['list']:
            v = o.get('value', v)
            self.ops.append(dict(
                name=o['name'], cmd=v, set=o['attribute-set'],
                admin=bool(set(o.get('flags') or []) &
                           {'admin-perm', 'uns-admin-perm'}),
                do=req_attrs(o.get('do')), dump=req_attrs(o.get('dump'))))
            v += 1
        self.by_cmd = {o['cmd']: o for o in self.ops}
        # Commands that take attributes are chosen three times as often as
        # those that take none (stats, restore): more of the tree to cover.
        self.weights = [3 if o['do'] or o['dump'] else 1 for o in self.ops]
        self.max_cmd = max(self.by_cmd)
        # Attributes some request takes: the ones worth learning from replies.
        self.request_attrs = {a for o in self.ops for m in ('do', 'dump')
                              for a in (o[m] or [])}


def req_attrs(mode):
    """A do or dump's request attributes; None if there is no such mode."""
    if mode is None:
        return None
    return list(((mode or {}).get('request') or {}).get('attributes') or [])


# ------------------------------------------------ attributes and messages

class Node:
    """One attribute: kind is its type, value bytes or a list of Nodes;
    hdr_len, if set, is written as nla_len whatever the real length."""
    def __init__(self, kind, value, hdr_len=None):
        self.kind, self.value, self.hdr_len = kind, value, hdr_len

    def encode(self):
        body = (self.value if isinstance(self.value, bytes) else
                b''.join(n.encode() for n in self.value))
        length = 4 + len(body) if self.hdr_len is None else self.hdr_len
        return (struct.pack('=HH', length & 0xffff, self.kind & 0xffff) +
                body + b'\0' * (-len(body) % 4))


def parse_attrs(data):
    out, off = [], 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from('=HH', data, off)
        if length < 4:
            break
        out.append((kind & 0x3fff, data[off + 4:off + length]))
        off += (length + 3) & ~3
    return out


def nlmsg(family, flags, seq, cmd, version, attrs):
    body = struct.pack('=BBH', cmd, version, 0) + attrs
    return struct.pack('=IHHII', 16 + len(body), family, flags, seq, 0) + body


class Fuzzer:
    def __init__(self, spec, rng, learned):
        self.spec, self.rng, self.learned = spec, rng, learned

    # Valid-looking values, from the spec's types and checks.
    def value(self, a, set_name):
        rng = self.rng
        if a.name in self.learned and set_name == self.top and rng.random() < .5:
            return Node(a.value, rng.choice(self.learned[a.name]))
        if a.type in ('nest', 'indexed-array'):
            inner = self.spec.sets[a.nested]
            if a.type == 'nest':
                return Node(a.value | NLA_F_NESTED,
                            self.members(inner, a.nested))
            return Node(a.value | NLA_F_NESTED, [
                Node(i | NLA_F_NESTED, self.members(inner, a.nested))
                for i in range(1, rng.choice((1, 1, 2, 3)) + 1)])
        if a.type in INT:
            if a.ipv4:
                v = int.from_bytes(socket.inet_aton(rng.choice(ADDRS)), 'big')
            else:
                lo, hi, r = a.min, a.max, rng.random()
                v = (rng.randint(lo, min(hi, lo + 7)) if r < .5 else
                     rng.randint(max(lo, hi - 7), hi) if r < .7 else
                     rng.randint(lo, hi))
            return Node(a.value, a.pack(v))
        if a.type == 'string':
            return Node(a.value, rng.choice(NAMES).encode() + b'\0')
        if a.type == 'flag':
            return Node(a.value, b'')
        return Node(a.value, rng.randbytes(rng.randint(0, 8)))

    def members(self, attrs, set_name):
        """Every real attribute of a nested set, each most of the time."""
        return [self.value(a, set_name) for a in attrs.values()
                if a.type not in ('unused', 'pad') and self.rng.random() < .9]

    def request(self, op, dump):
        self.top = op['set']
        attrs = self.spec.sets[op['set']]
        names = op['dump'] if dump else op['do']
        return [self.value(attrs[n], op['set']) for n in names or []
                if self.rng.random() < .8]

    # Mutations of one attribute somewhere in the tree.
    def mutate_attrs(self, nodes, set_name):
        rng = self.rng
        attrs = self.spec.sets[set_name]
        if not nodes or rng.random() < .15:
            a = rng.choice(list(attrs.values()))     # any, even reply-only
            nodes.insert(rng.randint(0, len(nodes)), self.value(a, set_name))
            return 'inject'
        # Pick a node, maybe inside a nest.
        parent = nodes
        i = rng.randrange(len(parent))
        while isinstance(parent[i].value, list) and parent[i].value and \
                rng.random() < .5:
            parent = parent[i].value
            i = rng.randrange(len(parent))
        n = parent[i]
        what = rng.choice(('drop', 'dup', 'type', 'flags', 'len', 'extreme',
                           'nest', 'hdr_len'))
        if what == 'drop':
            del parent[i]
        elif what == 'dup':
            parent.insert(i, Node(n.kind, n.value))
        elif what == 'type':
            top = max(a.value for a in attrs.values())
            n.kind = (n.kind & 0xc000) | rng.choice(
                (0, top + 1, rng.randint(1, top), 0x3fff, rng.randint(0, 0x3fff)))
        elif what == 'flags':
            n.kind ^= rng.choice((NLA_F_NESTED, NLA_F_NET_BYTEORDER))
        elif what == 'len':
            body = n.value if isinstance(n.value, bytes) else \
                b''.join(c.encode() for c in n.value)
            n.value = (body[:rng.randrange(len(body))] if body and
                       rng.random() < .5 else
                       body + rng.randbytes(rng.choice((1, 2, 3, 4, 8))))
        elif what == 'extreme':
            size = rng.choice((1, 2, 4, 8)) if isinstance(n.value, list) \
                else max(len(n.value), 1)
            n.value = rng.choice((
                b'\0' * size, b'\xff' * size, b'\x7f' + b'\xff' * (size - 1),
                b'\x80' + b'\0' * (size - 1), (b'\x01' + b'\0' * 7)[:size],
                b'x' * 31 + b'\0', b'x' * 32 + b'\0', b'\0', b'a b\0',
                b'\x01\x7f\xfe\0', b'P\0Q\0', b'P',
                b'z' * rng.choice((255, 4000, 65000)) + b'\0'))
        elif what == 'nest':
            if isinstance(n.value, list):
                n.value = rng.randbytes(rng.randint(0, 12))
            else:
                n.kind |= NLA_F_NESTED
                n.value = [Node(rng.randint(0, 4), n.value)] if \
                    rng.random() < .5 else [Node(n.kind, [Node(1, n.value)])]
        else:
            n.hdr_len = rng.choice((0, 1, 3, 4, 5, 0xffff,
                                    4 + rng.randint(0, 64)))
        return what

    def message(self, family, seq, dump_ok=True):
        """One request of a random command, maybe mutated: (bytes, cmd,
        what was done to it)."""
        rng = self.rng
        op = rng.choices(self.spec.ops, self.spec.weights)[0]
        dump = op['dump'] is not None and dump_ok and (
            op['do'] is None or rng.random() < .3)
        nodes = self.request(op, dump)
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        if not dump and rng.random() < .2:
            flags |= rng.choice((NLM_F_ECHO, NLM_F_REPLACE, NLM_F_EXCL,
                                 NLM_F_CREATE, NLM_F_ECHO | NLM_F_REPLACE))
        cmd, version, done = op['cmd'], self.spec.version, []
        if rng.random() < .5:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                done.append(self.mutate_attrs(nodes, op['set']))
        msg_mut = None
        if rng.random() < .15:
            msg_mut = rng.choice(('version', 'cmd', 'dump', 'flags',
                                  'truncate', 'nlmsg_len', 'garbage'))
            done.append(msg_mut)
            if msg_mut == 'version':
                version = rng.choice((0, 2, 255))
            elif msg_mut == 'cmd':
                cmd = rng.choice((0, self.spec.max_cmd + 1, 255,
                                  rng.randint(1, self.spec.max_cmd)))
            elif msg_mut == 'dump':
                flags ^= NLM_F_DUMP
            elif msg_mut == 'flags':
                flags ^= rng.choice((NLM_F_REQUEST, NLM_F_ACK, NLM_F_ROOT,
                                     NLM_F_MATCH, NLM_F_MULTI,
                                     rng.randint(0, 0xffff)))
        data = nlmsg(family, flags, seq, cmd, version,
                     b''.join(n.encode() for n in nodes))
        if msg_mut == 'truncate':
            cut = rng.randint(0, len(data) - 1)
            data = data[:cut]
            if cut >= 4 and rng.random() < .5:     # a header that agrees
                data = struct.pack('=I', cut) + data[4:]
        elif msg_mut == 'nlmsg_len':
            data = struct.pack('=I', rng.choice(
                (0, 15, 16, 19, 20, len(data) - 1, len(data) + 4,
                 0xffffffff))) + data[4:]
        elif msg_mut == 'garbage':
            data += rng.randbytes(rng.randint(1, 15))   # no message
        return data, op, flags, done


# ------------------------------------------------------------------ sockets

def answered(raw):
    """Will this request get an answer of its own: whole, and asking for
    an ACK, or a dump (which ends with NLMSG_DONE or an error)?"""
    if len(raw) < 20 or struct.unpack_from('=I', raw)[0] != len(raw):
        return False
    flags = struct.unpack_from('=H', raw, 6)[0]
    return bool(flags & NLM_F_REQUEST and (
        flags & NLM_F_ACK or flags & NLM_F_DUMP == NLM_F_DUMP))


class Sock:
    def __init__(self, rcvbuf=None):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.bind((0, 0))
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.settimeout(60)
        self.seq = 0

    def next_seq(self):
        self.seq += 1
        return self.seq

    def close(self):
        self.s.close()

    def exchange(self, data, seqs, family, sure=True):
        """Sends @data (requests with sequence numbers @seqs) and reads
        until each is answered (an ACK, an error or a dump's end); unless
        @sure that each will be, an ACKed request of its own follows and
        is waited for instead. Returns ({seq: 0 | errno}, [reply payloads]);
        a seq without an answer is left out."""
        try:
            self.s.send(data)
        except OSError as e:    # too long for the socket: not sent at all
            return {s: e.errno for s in seqs}, []
        pending, sentinel = set(seqs), None
        if not sure:
            sentinel = self.next_seq()
            self.s.send(nlmsg(family, NLM_F_REQUEST | NLM_F_ACK, sentinel,
                              0xff, 0, b''))     # no such command: an error
            pending = {sentinel}
        result, replies, open_dumps = {}, [], set()
        while pending or open_dumps:
            try:
                buf = self.s.recv(1 << 20)
            except TimeoutError:
                raise TimeoutError(
                    'timed out waiting for seq %s (dumps open: %s; '
                    'answered: %s)' % (sorted(pending), sorted(open_dumps),
                                       result)) from None
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                return {s: e.errno for s in seqs}, replies  # dump overran
            off = 0
            while off + 16 <= len(buf):
                length, kind, flags, seq, _ = struct.unpack_from('=IHHII', buf, off)
                if length < 16:
                    break
                payload = buf[off + 16:off + length]
                off += (length + 3) & ~3
                if kind in (NLMSG_ERROR, NLMSG_DONE):
                    err = -struct.unpack_from('=i', payload)[0] \
                        if len(payload) >= 4 else 0
                    if not result.get(seq):
                        result[seq] = err
                    open_dumps.discard(seq)
                    pending.discard(seq)
                    continue
                if flags & NLM_F_MULTI:
                    open_dumps.add(seq)
                result.setdefault(seq, 0)
                replies.append(payload)
        result.pop(sentinel, None)
        return result, replies


def family_id(sock):
    seq = sock.next_seq()
    name = Node(CTRL_ATTR_FAMILY_NAME, b'rnat\0').encode()
    sock.s.send(nlmsg(GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY,
                      1, name))
    buf = sock.s.recv(65536)
    for kind, val in parse_attrs(buf[20:]):
        if kind == CTRL_ATTR_FAMILY_ID:
            return struct.unpack('=H', val[:2])[0]
    sys.exit('rnat is not loaded')


# ------------------------------------------------------------ the fuzzing

class Run:
    def __init__(self, args, spec):
        self.args, self.spec = args, spec
        self.ctl = Sock()
        self.family = family_id(self.ctl)
        self.learned = {}
        self.counts = dict(sent=0, batches=0, accepted=0, silent=0,
                           dumps_abandoned=0, dump_checks=0, save_checks=0,
                           nobody_denied=0, reopened=0)
        self.refused = {}
        self.failed = 0
        self.cache = {}         # snapshot kind -> state known to be current
        self.spent = {}         # seconds spent in snapshots, by kind
        self.last = []          # the last requests sent, to show on failure
        self.slowest = (0, [])  # the longest wait for answers, and for what

    def fail(self, what, detail=''):
        self.failed += 1
        print('not ok - fuzz: %s' % what)
        for line in detail.splitlines():
            print('#   ' + line)
        print('#   reproduce: tests/fuzz/netlink.py --seed %d --count %d' %
              (self.args.seed, self.args.count))

    # State snapshots: the pool, VPN and mapping dumps, or rnatctl save.
    def snapshot(self, kind):
        t = time.monotonic()
        try:
            return self.take_snapshot(kind)
        finally:
            self.spent[kind] = self.spent.get(kind, 0) + time.monotonic() - t

    def take_snapshot(self, kind):
        self.counts[kind + '_checks'] += 1
        if kind == 'save':
            return subprocess.run([self.args.rnatctl, 'save'], check=True,
                                  capture_output=True, text=True).stdout
        out = []
        for name in ('pool-get', 'vpn-get', 'map-get'):
            op = next(o for o in self.spec.ops if o['name'] == name)
            seq = self.ctl.next_seq()
            _, replies = self.ctl.exchange(
                nlmsg(self.family, NLM_F_REQUEST | NLM_F_DUMP, seq, op['cmd'],
                      self.spec.version, b''), [seq], self.family)
            out += [r.hex() for r in replies]
        return '\n'.join(out)

    def populate(self):
        """Pool BULK and VPN 4000 with 200 mappings, so that dumps span
        several messages (made again before each chunk as root: the
        fuzzing deletes them sooner or later)."""
        a = self.spec.sets['rnat']
        sub = self.spec.sets['prefix']
        cmd = {o['name']: o['cmd'] for o in self.spec.ops}
        u32 = lambda name, v: Node(a[name].value, a[name].pack(v))
        pool = Node(a['pool'].value, b'BULK\0')
        prefix = Node(a['pool-prefixes'].value | NLA_F_NESTED, [
            Node(1 | NLA_F_NESTED, [
                Node(sub['addr'].value, socket.inet_aton('10.250.0.0')),
                Node(sub['len'].value, bytes([24]))])])
        reqs = [(cmd['pool-new'], [pool, prefix]),
                (cmd['vpn-new'], [u32('vpn-id', 4000), pool])]
        reqs += [(cmd['map-new'], [u32('vpn-id', 4000),
                                   u32('map-real', 0x0a090000 + i)])
                 for i in range(200)]
        seqs = [self.ctl.next_seq() for _ in reqs]
        self.ctl.exchange(b''.join(
            nlmsg(self.family, NLM_F_REQUEST | NLM_F_ACK, seq, c,
                  self.spec.version, b''.join(n.encode() for n in nodes))
            for seq, (c, nodes) in zip(seqs, reqs)), seqs, self.family)
        self.cache = {}

    def learn(self, op, payload):
        attrs = {a.value: a for a in self.spec.sets[op['set']].values()}
        for kind, val in parse_attrs(payload[4:]):
            a = attrs.get(kind)
            if a and a.name in self.spec.request_attrs:
                seen = self.learned.setdefault(a.name, [])
                if val not in seen:
                    seen.append(val)
                    del seen[:-32]

    def batch(self, fz, sock, nobody):
        """One sendmsg of 1 to 4 requests; returns their results."""
        rng = fz.rng
        msgs, ops = [], []
        for _ in range(1 if rng.random() < .9 else rng.randint(2, 4)):
            seq = sock.next_seq()
            data, op, flags, done = fz.message(self.family, seq)
            msgs.append((seq, data, op, flags))
            self.last.append('%s %s: %s' % (op['name'], ','.join(done),
                                            data.hex()))
        del self.last[:-8]
        data = b''.join(m[1] for m in msgs)
        t = time.monotonic()
        # The kernel steps NLMSG_ALIGN(nlmsg_len) to the next message: after
        # one of unaligned length it reads the rest out of step, and
        # silently drops what does not parse.
        sure = all(answered(m[1]) for m in msgs) and \
            all(len(m[1]) % 4 == 0 for m in msgs[:-1])
        result, replies = sock.exchange(data, [m[0] for m in msgs],
                                        self.family, sure)
        t = time.monotonic() - t
        if t > self.slowest[0]:
            self.slowest = (t, self.last[-len(msgs):])
        for p in replies:
            op = self.spec.by_cmd.get(p[0]) if p else None
            if op:
                self.learn(op, p)
        self.counts['sent'] += len(msgs)
        self.counts['batches'] += 1
        for seq, raw, op, flags in msgs:
            r = result.get(seq)
            if r is None:
                self.counts['silent'] += 1
            elif r == 0:
                self.counts['accepted'] += 1
                # What was sent, after mutation: an admin command asked for.
                sent = self.spec.by_cmd.get(raw[16]) if len(raw) > 16 else None
                asked = len(raw) >= 8 and \
                    struct.unpack_from('=H', raw, 6)[0] & NLM_F_REQUEST
                if nobody and sent and sent['admin'] and asked:
                    self.fail('nobody had %s acknowledged' % sent['name'],
                              raw.hex())
            else:
                name = errno.errorcode.get(r, str(r))
                self.refused[name] = self.refused.get(name, 0) + 1
        return msgs, result

    def abandon_dump(self, fz):
        """A dump request on a socket of its own, read one message far (or
        not at all), then the socket closed."""
        rng = fz.rng
        s = Sock(rcvbuf=1024)
        try:
            ops = [o for o in self.spec.ops if o['dump'] is not None]
            op = rng.choice(ops)
            fz.top = op['set']
            nodes = fz.request(op, True)
            if rng.random() < .3:
                fz.mutate_attrs(nodes, op['set'])
            s.s.send(nlmsg(self.family, NLM_F_REQUEST | NLM_F_DUMP,
                           s.next_seq(), op['cmd'], self.spec.version,
                           b''.join(n.encode() for n in nodes)))
            if rng.random() < .7:
                s.s.recv(65536)
        finally:
            s.close()
        self.counts['dumps_abandoned'] += 1
        self.counts['sent'] += 1

    def chunk(self, rng, n, nobody):
        """@n messages on one socket (reopened now and then)."""
        fz = Fuzzer(self.spec, rng, self.learned)
        sock = Sock()
        sent = self.counts['sent']
        while self.counts['sent'] - sent < n:
            if rng.random() < .02:
                self.abandon_dump(fz)
                continue
            if rng.random() < .005:        # closing aborts a restore
                sock.close()
                sock = Sock()
                self.counts['reopened'] += 1
            b = self.counts['batches']
            check = None
            if not nobody and b % self.args.check_every == 0:
                check = 'save' if b % (self.args.check_every *
                                       self.args.save_ratio) == 0 else 'dump'
                before = self.cache.get(check) or self.snapshot(check)
            msgs, result = self.batch(fz, sock, nobody)
            refused = all(result.get(m[0]) for m in msgs)
            if not refused:
                self.cache = {}
            elif check:
                after = self.snapshot(check)
                if after != before:
                    self.fail('a refused batch changed the state (%s)' % check,
                              'batch %d: %s\nresults %s\nbefore:\n%s\nafter:\n%s' % (
                                  b, ' '.join(m[1].hex() for m in msgs),
                                  result, before, after))
                    before = after
                self.cache = {check: after}
        sock.close()

    def nobody_chunk(self, seed, n):
        """A chunk as nobody, in a child process; its figures come back
        through a pipe."""
        before = self.snapshot('save')
        r, w = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setgroups([])
                os.setresgid(NOBODY, NOBODY, NOBODY)
                os.setresuid(NOBODY, NOBODY, NOBODY)
                self.failed = 0
                self.chunk(random.Random(seed), n, nobody=True)
                os.write(w, json.dumps([self.counts, self.refused,
                                        self.failed]).encode())
            finally:
                sys.stdout.flush()
                os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            text = f.read()
        os.waitpid(pid, 0)
        if not text:
            self.fail('the unprivileged child died')
            return
        self.counts, self.refused, failed = json.loads(text)
        self.failed += failed
        self.counts['nobody_denied'] = self.refused.get('EPERM', 0)
        after = self.snapshot('save')
        if after != before:
            self.fail('nobody changed the state',
                      'before:\n%s\nafter:\n%s' % (before, after))
        self.cache = {}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int,
                   default=int.from_bytes(os.urandom(4), 'big'))
    p.add_argument('--count', type=int, default=100000)
    p.add_argument('--chunk', type=int, default=2000,
                   help='messages as root between chunks as nobody')
    p.add_argument('--nobody-chunk', type=int, default=500)
    p.add_argument('--check-every', type=int, default=20,
                   help='compare the state around every Nth batch')
    p.add_argument('--save-ratio', type=int, default=50,
                   help='one in N of those comparisons is rnatctl save')
    p.add_argument('--rnatctl', default=os.path.join(ROOT, 'tools', 'rnatctl'))
    p.add_argument('--spec', default=os.path.join(ROOT, 'uapi', 'rnat.yaml'))
    args = p.parse_args()
    print('# fuzz seed %d, %d messages' % (args.seed, args.count), flush=True)
    spec = Spec(args.spec)
    run = Run(args, spec)
    start, i = time.monotonic(), 0
    try:
        while run.counts['sent'] < args.count and not run.failed:
            n = min(args.chunk, args.count - run.counts['sent'])
            t = time.monotonic()
            run.populate()
            run.spent['populate'] = run.spent.get('populate', 0) + time.monotonic() - t
            run.chunk(random.Random('%d-root-%d' % (args.seed, i)), n, False)
            if run.counts['sent'] < args.count and not run.failed:
                n = min(args.nobody_chunk, args.count - run.counts['sent'])
                t = time.monotonic()
                run.nobody_chunk('%d-nobody-%d' % (args.seed, i), n)
                run.spent['nobody'] = run.spent.get('nobody', 0) + time.monotonic() - t
            i += 1
            print('# %d messages, %.0f s' % (run.counts['sent'],
                                             time.monotonic() - start),
                  flush=True)
    except (OSError, subprocess.CalledProcessError) as e:
        run.fail('the module stopped answering: %s' % e,
                 'the last requests sent:\n' + '\n'.join(run.last))
    secs = time.monotonic() - start
    c = run.counts
    print('# %d messages in %d batches, %.0f s (%.0f messages/s)' %
          (c['sent'], c['batches'], secs, c['sent'] / max(secs, 1e-3)))
    print('# accepted %d, no answer %d, refused %d: %s' % (
        c['accepted'], c['silent'], sum(run.refused.values()),
        ', '.join('%s %d' % kv for kv in sorted(
            run.refused.items(), key=lambda kv: -kv[1]))))
    print('# seconds spent in state snapshots: %s' % ', '.join(
        '%s %.1f' % kv for kv in sorted(run.spent.items())))
    print('# slowest answer %.1f s, to: %s' % (
        run.slowest[0], ' | '.join(run.slowest[1])))
    print('# dumps abandoned %d, sockets reopened %d, state comparisons '
          '%d (dumps) + %d (rnatctl save), nobody refused EPERM %d' % (
              c['dumps_abandoned'], c['reopened'], c['dump_checks'],
              c['save_checks'], c['nobody_denied']))
    state = run.snapshot('save')
    print('# state at the end: %d pools, %d VPNs, %d mappings' % tuple(
        sum(line.startswith(w) for line in state.splitlines())
        for w in ('pool add', 'vpn add', 'map add')))
    if not run.failed:
        print('ok - fuzz: %d messages as root and nobody, refused ones '
              'changed nothing, the module answered every one' % c['sent'])
    sys.exit(1 if run.failed else 0)


if __name__ == '__main__':
    main()
