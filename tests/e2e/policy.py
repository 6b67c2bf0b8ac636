#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends hand-made rnat requests that rnatctl would never send and checks
how the module refuses them: each command's strict policy (an attribute the
command does not take, a value out of range, an unknown attribute type) and
the checks behind it, with the errno, the extended ACK message and the
offset of the attribute it names. Then reads the kernel's policies back
(CTRL_CMD_GETPOLICY) and checks that each command takes exactly the
request attributes uapi/rnat.yaml lists for it.

Usage: tests/e2e/policy.py    (in a namespace where rnat has pool P and VPN 1;
prints ok/not ok lines, exits 1 if any failed)

Needs nothing but python3: the netlink messages are packed by hand.
"""

import errno
import importlib.util
import os
from importlib.machinery import SourceFileLoader
import socket
import struct
import sys

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_CMD_GETPOLICY = 16, 3, 10
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
CTRL_ATTR_POLICY, CTRL_ATTR_OP_POLICY = 8, 9
CTRL_ATTR_POLICY_DO, CTRL_ATTR_POLICY_DUMP = 1, 2
NLA_F_NESTED = 0x8000
NETLINK_GENERIC = 16	# not every Python's socket module names it

# uapi/linux/rnat.h
CMD = dict(POOL_NEW=1, POOL_DEL=2, POOL_GET=3, VPN_NEW=4, VPN_DEL=5,
           VPN_GET=6, MAP_NEW=7, MAP_DEL=8, MAP_GET=9, STATS_GET=10,
           VPN_SET=11, RESTORE_BEGIN=12, RESTORE_COMMIT=13,
           RESTORE_ABORT=14, MAP_FLUSH=15)
A = dict(VPN_NBLOCKS=21, VPN_BLOCKS_FIRST=22, GENERATION=23,
         POOL=1, POOL_PREFIXES=2, POOL_SIZE=3, POOL_USED=4, VPN_ID=5,
         VPN_NAME=6, VPN_MAPPINGS=7, IFINDEX=8, MAP_REAL=9, MAP_NAT=10,
         MAP_PLEN=11, STATS=12, POOL_OWNED=13, VPN_BLOCKS=14, FILTER_NAT=15,
         FILTER_REAL=16, WANT_STATS=17, MAP_STATS=18, VPN_MARK=19,
         VPN_OUT_MARK=20, VPN_DEPARTED=24, MAP_BLOCK=25)
PREFIX_ADDR, PREFIX_LEN = 1, 2
MARK_VALUE, MARK_MASK = 1, 2


def attr(kind, payload):
    """One attribute: kind is its type, payload its bytes (padded here)."""
    hdr = struct.pack('=HH', 4 + len(payload), kind)
    return hdr + payload + b'\0' * (-len(payload) % 4)


def u32(kind, v):
    return attr(kind, struct.pack('=I', v))


def u8(kind, v):
    return attr(kind, struct.pack('=B', v))


def ip(kind, quad):
    return attr(kind, socket.inet_aton(quad))


def string(kind, s):
    return attr(kind, s.encode() + b'\0')


def prefix(kind, quad, plen):
    return attr(kind | NLA_F_NESTED, ip(PREFIX_ADDR, quad) + u8(PREFIX_LEN, plen))


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.seq = 0
        self.family = GENL_ID_CTRL
        reply = self.request(CTRL_CMD_GETFAMILY,
                             string(CTRL_ATTR_FAMILY_NAME, 'rnat'), version=1)
        self.family = struct.unpack_from('=H', reply[CTRL_ATTR_FAMILY_ID])[0]

    def request(self, cmd, attrs=b'', flags=0, version=1):
        """Sends one request: its first reply's attributes, or raises
        Refused with the errno, the extack message and the offset."""
        replies = self.talk(cmd, attrs, flags, version)
        return replies[0] if replies else None

    def talk(self, cmd, attrs=b'', flags=0, version=1, family=None):
        """Sends one request (to @family, default rnat): every reply's
        attributes, in order."""
        self.seq += 1
        body = struct.pack('=BBH', cmd, version, 0) + attrs
        msg = struct.pack('=IHHII', 16 + len(body), family or self.family,
                          NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0) + body
        self.sock.send(msg)
        replies = []
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off < len(data):
                length, kind, mflags, seq, _ = struct.unpack_from('=IHHII', data, off)
                payload = data[off + 16:off + length]
                off += (length + 3) & ~3
                if kind == NLMSG_ERROR:
                    err = -struct.unpack_from('=i', payload)[0]
                    if err:
                        raise Refused(err, payload, mflags)
                    return replies
                if kind == 3:	# NLMSG_DONE: a dump's end, or its error
                    err = -struct.unpack_from('=i', payload)[0]
                    if err:
                        raise Refused(err, payload, mflags, done=True)
                    return replies
                replies.append(parse_attrs(payload[4:]))


def parse_attrs(data):
    out, off = {}, 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from('=HH', data, off)
        if length < 4:
            break
        out[kind & 0x3fff] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return out


class Refused(Exception):
    def __init__(self, err, payload, flags, done=False):
        super().__init__(err)
        self.errno = err
        self.msg, self.offs = '', None
        if flags & NLM_F_ACK_TLVS:
            # The error, then (in an ACK) the request's header only
            # (NETLINK_CAP_ACK), then the extack attributes.
            tlvs = parse_attrs(payload[4 if done else 4 + 16:])
            self.msg = tlvs.get(NLMSGERR_ATTR_MSG, b'').rstrip(b'\0').decode()
            if NLMSGERR_ATTR_OFFS in tlvs:
                self.offs = struct.unpack('=I', tlvs[NLMSGERR_ATTR_OFFS])[0]


failed = 0


def check(name, ok, why=''):
    global failed
    print(('ok - ' if ok else 'not ok - ') + name)
    if not ok:
        failed += 1
        print('#   ' + why)


# A dump's refusal comes in its NLMSG_DONE, whose extack has a message but
# (on 6.1) no offset: those messages name the attribute themselves.
# Offsets count from the start of the request's netlink header: 16 bytes of
# it, 4 of genl header, then the attributes in the order they were packed.
FIRST_ATTR = 20


def refused(name, cmd, attrs, want_errno, want_msg, at=None, flags=0):
    """The request is refused with want_errno and a message containing
    want_msg; with at, the offending attribute is the at-th (from 0)."""
    try:
        g.request(CMD[cmd], b''.join(attrs), flags)
    except Refused as e:
        offs = None
        if at is not None:
            offs = FIRST_ATTR + sum(len(a) for a in attrs[:at])
        good = (e.errno == want_errno and want_msg in e.msg and
                (at is None or e.offs == offs))
        check(name, good, 'got %s "%s" at offset %s, want %s "%s" at %s' %
              (errno.errorcode.get(e.errno, e.errno), e.msg, e.offs,
               errno.errorcode[want_errno], want_msg, offs))
        return
    check(name, False, 'the request was accepted')


g = Genl()
vpn1 = u32(A['VPN_ID'], 1)
real = ip(A['MAP_REAL'], '10.77.0.0')

refused('pool del refuses an attribute it does not take (vpn-id)',
        'POOL_DEL', [string(A['POOL'], 'P'), vpn1], errno.EINVAL,
        'Unsupported attribute', at=1)
refused('stats get takes no attribute', 'STATS_GET',
        [string(A['POOL'], 'P')], errno.EINVAL, 'Unsupported attribute', at=0)
refused('restore begin takes no attribute', 'RESTORE_BEGIN', [vpn1],
        errno.EINVAL, 'Unsupported attribute', at=0)
refused('map new refuses a reply-only attribute (vpn-mappings)', 'MAP_NEW',
        [vpn1, real, u32(A['VPN_MAPPINGS'], 3)], errno.EINVAL,
        'Unsupported attribute', at=2)
refused('an unknown attribute type is refused', 'VPN_GET',
        [vpn1, u32(99, 1)], errno.EINVAL, 'Unknown attribute type', at=1)
refused('map new: a prefix length below the minimum is out of range',
        'MAP_NEW', [vpn1, real, u8(A['MAP_PLEN'], 15)], errno.ERANGE,
        'out of range', at=2)
refused('vpn id 0 is out of range', 'VPN_DEL', [u32(A['VPN_ID'], 0)],
        errno.ERANGE, 'out of range', at=0)
refused('vpn id above RNAT_VPN_ID_MAX is out of range', 'VPN_GET',
        [u32(A['VPN_ID'], 0x80000000)], errno.ERANGE, 'out of range', at=0)
refused('a vpn id of the wrong size is refused', 'VPN_GET',
        [u8(A['VPN_ID'], 1)], errno.EINVAL, 'invalid attribute length', at=0)
refused('a pool name without its NUL is refused', 'POOL_GET',
        [attr(A['POOL'], b'PP')], errno.EINVAL,
        'Attribute failed policy validation', at=0)
refused('a pool name of 32 bytes is too long', 'POOL_DEL',
        [string(A['POOL'], 'x' * 32)], errno.EINVAL,
        'Attribute failed policy validation', at=0)
# A leading '#' would make saved commands comments when read back.
pool_list = attr(A['POOL_PREFIXES'] | NLA_F_NESTED, prefix(1, '10.99.0.0', 16))
refused('a pool name beginning with # is refused', 'POOL_NEW',
        [string(A['POOL'], '#a'), pool_list], errno.EINVAL,
        "pool name cannot begin with '#'")
refused('a VPN name beginning with # is refused', 'VPN_SET',
        [vpn1, string(A['VPN_NAME'], '#v')], errno.EINVAL,
        "VPN name cannot begin with '#'")
refused('map new without a real address names what is missing', 'MAP_NEW',
        [vpn1], errno.EINVAL, 'missing real address')
refused('a lookup given a dump filter is refused', 'MAP_GET',
        [prefix(A['FILTER_NAT'], '10.153.0.0', 16)], errno.EINVAL,
        'filters apply to dumps only', at=0)
refused('a dump filter with host bits set is refused', 'MAP_GET',
        [prefix(A['FILTER_REAL'], '10.1.0.1', 24)], errno.EINVAL,
        'real filter 10.1.0.1/24 has host bits set', flags=NLM_F_DUMP)
refused('a dump filter needs an address and a length', 'MAP_GET',
        [attr(A['FILTER_NAT'] | NLA_F_NESTED, u8(PREFIX_LEN, 16))],
        errno.EINVAL, 'NAT filter needs an address and a length',
        flags=NLM_F_DUMP)
refused('a dump filter prefix shorter than /8 is out of range', 'MAP_GET',
        [prefix(A['FILTER_NAT'], '10.0.0.0', 7)], errno.ERANGE,
        'out of range', flags=NLM_F_DUMP)
refused('a mark needs a value', 'VPN_NEW',
        [vpn1, string(A['POOL'], 'P'),
         attr(A['VPN_MARK'] | NLA_F_NESTED, u32(MARK_MASK, 0xff))],
        errno.EINVAL, 'a mark needs a value', at=2)
refused('a mark of the wrong size is refused', 'VPN_NEW',
        [vpn1, string(A['POOL'], 'P'),
         attr(A['VPN_OUT_MARK'] | NLA_F_NESTED, u8(MARK_VALUE, 1))],
        errno.EINVAL, 'invalid attribute length')
refused('a mark with bits outside its mask is refused', 'VPN_NEW',
        [vpn1, string(A['POOL'], 'P'),
         attr(A['VPN_MARK'] | NLA_F_NESTED,
              u32(MARK_VALUE, 0x130) + u32(MARK_MASK, 0xff))],
        errno.EINVAL, 'mark 0x130 has bits outside its mask 0xff', at=2)
refused('map flush of a VPN that does not exist', 'MAP_FLUSH',
        [u32(A['VPN_ID'], 77)], errno.ENOENT, 'no VPN 77')

# The same requests, well formed, are accepted: the refusals above came
# from what was wrong with them.
try:
    g.request(CMD['POOL_GET'], string(A['POOL'], 'P'))
    g.request(CMD['STATS_GET'])
    g.request(CMD['VPN_GET'], vpn1)
    g.request(CMD['MAP_GET'], prefix(A['FILTER_NAT'], '10.153.0.0', 16),
              NLM_F_DUMP)
    check('the well-formed requests are accepted', True)
except Refused as e:
    check('the well-formed requests are accepted', False,
          '%s "%s"' % (errno.errorcode.get(e.errno), e.msg))


def kernel_policies():
    """{cmd: set of attribute types its policy accepts}, from the kernel's
    own policy dump (CTRL_CMD_GETPOLICY)."""
    replies = g.talk(CTRL_CMD_GETPOLICY,
                     attr(CTRL_ATTR_FAMILY_ID, struct.pack('=H', g.family)),
                     NLM_F_DUMP, family=GENL_ID_CTRL)
    op_policy, attrs = {}, {}
    for r in replies:
        for cmd, nest in parse_attrs(r.get(CTRL_ATTR_OP_POLICY, b'')).items():
            idx = parse_attrs(nest)
            op_policy[cmd] = [struct.unpack('=I', idx[k])[0]
                              for k in (CTRL_ATTR_POLICY_DO, CTRL_ATTR_POLICY_DUMP)
                              if k in idx]
        for idx, nest in parse_attrs(r.get(CTRL_ATTR_POLICY, b'')).items():
            attrs.setdefault(idx, set()).update(parse_attrs(nest))
    return {cmd: set().union(*(attrs.get(i, set()) for i in idxs))
            for cmd, idxs in op_policy.items()}


# The spec's request attributes of every operation are exactly what the
# kernel's policy for that command accepts. 6.1's policy dump leaves out
# attributes it has no type for (NLA_BE32: the addresses); the refusals
# above show those are taken where they should be.
here = os.path.dirname(os.path.abspath(__file__))
spec_path = os.path.join(here, '..', '..', 'uapi', 'rnat.yaml')
loader = SourceFileLoader('check_spec', os.path.join(here, '..', 'lib', 'check-spec'))
check_spec = importlib.util.module_from_spec(
    importlib.util.spec_from_loader('check_spec', loader))
loader.exec_module(check_spec)
spec = check_spec.load_yaml(spec_path)
kernel = kernel_policies()
ops = spec['operations']['list']
rnat_set = [s for s in spec['attribute-sets'] if s['name'] == 'rnat'][0]
undumpable = set(A[a['name'].upper().replace('-', '_')]
                 for a in rnat_set['attributes']
                 if a.get('byte-order') == 'big-endian')
for op in ops:
    cmd = CMD[op['name'].upper().replace('-', '_')]
    want = set()
    for mode in ('do', 'dump'):
        for name in (op.get(mode) or {}).get('request', {}).get('attributes', []):
            want.add(A[name.upper().replace('-', '_')])
    want -= undumpable
    got = kernel.get(cmd)
    check('%s: the kernel takes exactly the spec\'s request attributes' % op['name'],
          got == want, 'kernel %s, spec %s' % (sorted(got or []), sorted(want)))
check('the kernel has no command the spec lacks',
      set(kernel) == set(CMD[o['name'].upper().replace('-', '_')] for o in ops),
      'kernel %s' % sorted(kernel))

sys.exit(1 if failed else 0)
