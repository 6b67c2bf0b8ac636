#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The programs of tests/e2e/churn.sh (churn under traffic). churn.sh runs

  run WORKDIR SECONDS GAP SEED STATE
                              all of the below in one process (a python3
                              start costs seconds in a TCG guest): rx, tx
                              and nlcheck.py's event listeners and dumper
                              forked into their namespaces, drive here, then
                              check and the event/dump checks, printing
                              ok/not ok lines; exit 1 if any failed

The parts, also usable alone (each in its network namespace):

  rx OUT STOP                 receive UDP on port 9 until the file STOP
                              exists and write to OUT (JSON) how many
                              datagrams came per (address they arrived at,
                              source, payload without seq)
  tx-core OUT STOP GAP NAT... send "to=NAT seq=N" to every NAT, round after
                              round (GAP seconds between rounds) until STOP
                              exists; OUT: how many were sent
  tx-vpn OUT STOP GAP VPN CORE REALS SPOOFS
                              from each real address (comma list) send
                              "vpn=VPN real=R seq=N" to CORE, and from each
                              address the host does not own (IP_TRANSPARENT)
                              "spoof vpn=VPN src=S seq=N"
  drive OUT SECONDS SEED STATE
                              the churn: replaces, deletes and re-adds
                              mappings, flushes, deletes and re-creates VPNs,
                              moves them between their two devices, restores
                              whole states. Appends to OUT.history every
                              (NAT, VPN, real) before it can exist; OUT: what
                              it did. STATE: JSON {vpns: {V: [devA, devB]},
                              reals: {V: [...]}, nats: [...]}
  check HISTORY DIR           every receiver's record against the history:
                              prints the figures, exits 1 on a violation

Needs nothing but python3.
"""

import ctypes
import json
import os
import pty
import random
import select
import socket
import struct
import subprocess
import sys
import time
import tty

PORT = 9
IP_PKTINFO = 8
IP_TRANSPARENT = 19
RNATCTL = os.environ.get('RNATCTL', 'tools/rnatctl')


def dump(path, obj):
    with open(path + '.tmp', 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.rename(path + '.tmp', path)


libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


class netns:
    """with netns(NAME): the calling thread in /run/netns/NAME, and back
    (sockets made inside stay there)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open('/proc/self/ns/net', os.O_RDONLY)
        enter(self.name)

    def __exit__(self, *exc):
        setns(self.home)
        os.close(self.home)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET):
        raise OSError(ctypes.get_errno(), 'setns')


def enter(name):
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    setns(fd)
    os.close(fd)


def stopped(path):
    return os.path.exists(path)


def rx(out, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(('0.0.0.0', PORT))
    s.setblocking(False)
    got = {}
    while not stopped(stop):
        if not select.select([s], [], [], 0.2)[0]:
            continue
        while True:
            try:
                data, anc, _, src = s.recvmsg(256, 64)
            except BlockingIOError:
                break
            dst = '?'
            for level, kind, val in anc:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    # struct in_pktinfo: ifindex, spec_dst, addr (header dst)
                    dst = socket.inet_ntoa(val[8:12])
            words = data.decode(errors='replace').split()
            key = ' '.join([dst, src[0]] + [w for w in words
                                            if not w.startswith('seq=')])
            got[key] = got.get(key, 0) + 1
    dump(out, got)


def pace(gap, stop):
    if gap > 0:
        time.sleep(gap)
    return not stopped(stop)


def tx_core(out, stop, gap, nats):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, errors, seq = {n: 0 for n in nats}, 0, 0
    while pace(float(gap), stop):
        for n in nats:
            seq += 1
            try:
                s.sendto(b'to=%s seq=%d' % (n.encode(), seq), (n, PORT))
                sent[n] += 1
            except OSError:
                errors += 1
    dump(out, {'sent': sent, 'errors': errors})


def tx_vpn(out, stop, gap, vpn, core, reals, spoofs):
    socks = []
    for addr in [a for a in reals.split(',') if a]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 10000))
        socks.append((s, b'vpn=%s real=%s' % (vpn.encode(), addr.encode()),
                      'real ' + addr))
    for addr in [a for a in spoofs.split(',') if a]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)
        s.bind((addr, 10000))
        socks.append((s, b'spoof vpn=%s src=%s' % (vpn.encode(),
                                                    addr.encode()),
                      'spoof ' + addr))
    sent = {name: 0 for _, _, name in socks}
    errors, seq = 0, 0
    while pace(float(gap), stop):
        for s, msg, name in socks:
            seq += 1
            try:
                s.sendto(msg + b' seq=%d' % seq, (core, PORT))
                sent[name] += 1
            except OSError:
                errors += 1
    dump(out, {'sent': sent, 'errors': errors})


class Driver:
    """The control plane's churn, on a model of the state it made. Every
    (NAT, VPN, real) goes to the history before the command that may
    create it runs."""

    def __init__(self, out, seed, state):
        self.out = out
        self.rng = random.Random(int(seed))
        self.devs = {int(v): d for v, d in state['vpns'].items()}
        self.reals = {int(v): r for v, r in state['reals'].items()}
        self.nats = state['nats']
        self.pool = state['pool']
        self.cur = {v: 0 for v in self.devs}	# which of its two devices
        self.maps = {v: {} for v in self.devs}	# real -> NAT
        self.hist = open(out + '.history', 'a')
        self.log = open(out + '.log', 'w')
        self.did = {}
        self.failed = []
        self.on_ready = None
        self.ops = []

    def used(self):
        return {n for m in self.maps.values() for n in m.values()}

    def free_nat(self):
        free = sorted(set(self.nats) - self.used())
        return self.rng.choice(free) if free else None

    def remember(self, nat, vpn, real):
        self.hist.write('%s %d %s\n' % (nat, vpn, real))
        self.hist.flush()

    def start_rnatctl(self):
        """One rnatctl for the whole churn (a process costs seconds in a
        TCG guest): commands on its stdin, its stdout a pty so that it is
        line-buffered and each step ends when "stats" has answered."""
        master, slave = pty.openpty()
        tty.setraw(slave)
        self.ctl = subprocess.Popen([RNATCTL, '-n', 'gw', '-b', '-'],
                                    stdin=subprocess.PIPE, stdout=slave,
                                    stderr=subprocess.PIPE, text=True)
        os.close(slave)
        self.ctl_out = os.fdopen(master, 'r', errors='replace')

    def rnatctl(self, lines, what):
        """Runs lines, then syncs the routes: False if a line failed (the
        kernel is then brought back to a state of ours)."""
        self.log.write('# %s\n%s\n' % (what, '\n'.join(lines)))
        self.log.flush()
        try:
            self.ctl.stdin.write('\n'.join(lines + ['route sync', 'stats'])
                                 + '\n')
            self.ctl.stdin.flush()
            while True:
                line = self.ctl_out.readline()
                if not line or line.startswith('in_translated'):
                    break
        except (OSError, BrokenPipeError):
            line = ''
        if line:
            return True
        self.ctl.stdin = None
        err = self.ctl.communicate()[1].strip()
        self.ctl_out.close()
        self.failed.append('%s: %s' % (what, err))
        self.log.write('# FAILED: %s\n' % err)
        self.start_rnatctl()
        if what.startswith('resync'):
            return False
        self.resync()
        return False

    def stop_rnatctl(self):
        self.ctl.stdin.close()
        self.ctl.stdin = None
        err = self.ctl.communicate()[1].strip()
        self.ctl_out.close()
        if self.ctl.returncode:
            self.failed.append('rnatctl at the end: %s' % err)

    def count(self, what):
        self.did[what] = self.did.get(what, 0) + 1

    def add_lines(self, v):
        """Maps every unmapped real of VPN v to a free NAT."""
        lines = []
        for r in self.reals[v]:
            if r in self.maps[v]:
                continue
            n = self.free_nat()
            if n is None:
                break
            self.maps[v][r] = n
            self.remember(n, v, r)
            lines.append('map add vpn %d real %s nat %s' % (v, r, n))
        return lines

    def dev(self, v):
        return self.devs[v][self.cur[v]]

    def restore(self, what='restore'):
        """A whole new state: every real mapped, NAT IPs shuffled across
        VPNs (so a NAT IP moves from one VPN to another)."""
        for v in self.maps:
            self.maps[v] = {}
        nats = list(self.nats)
        self.rng.shuffle(nats)
        lines = ['pool add %s' % self.pool]
        for v in sorted(self.devs):
            lines.append('vpn add %d pool P dev %s' % (v, self.dev(v)))
        for v in sorted(self.devs):
            for r in self.reals[v]:
                n = nats.pop()
                self.maps[v][r] = n
                self.remember(n, v, r)
                lines.append('map add vpn %d real %s nat %s' % (v, r, n))
        path = self.out + '.restore'
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.count(what)
        return self.rnatctl(['restore ' + path], what)

    def resync(self):
        """After a command failed: the kernel back to a state of ours."""
        self.restore('resync (restore after a failure)')

    def route(self, v):
        """The customer's default route onto the link of its VPN's device
        (ip route replace default via 169.254.0.1 dev ethX onlink), over a
        route socket opened in its namespace."""
        sock, oifs = self.rtnl[v]
        attrs = (struct.pack('=HH4s', 8, 5, socket.inet_aton('169.254.0.1'))
                 + struct.pack('=HHI', 8, 4, oifs[self.cur[v]]))
        # rtmsg: AF_INET, dst_len 0, src_len 0, tos 0, main table, boot
        # protocol, universe scope, unicast, RTNH_F_ONLINK
        body = struct.pack('=BBBBBBBBI', 2, 0, 0, 0, 254, 3, 0, 1, 4) + attrs
        sock.send(struct.pack('=IHHII', 16 + len(body), 24,
                              0x1 | 0x4 | 0x100 | 0x400, 1, 0) + body)
        data = sock.recv(4096)
        err = struct.unpack_from('=i', data, 16)[0]
        if err:
            self.failed.append('route in c%d: %s' % (v, os.strerror(-err)))

    def step(self):
        vpns = sorted(self.devs)
        v = self.rng.choice(vpns)
        mapped = sorted(self.maps[v])
        if not self.ops:
            # every kind of change once per round, in a random order
            self.ops = ['replace', 'steal', 'del-add', 'flush', 'recreate',
                        'move', 'restore', 'replace', 'del-add']
            self.rng.shuffle(self.ops)
        op = self.ops.pop()
        if op in ('replace', 'steal', 'del-add') and not mapped:
            op = 'add'
        if op == 'replace':
            # between the mapping's NAT IP and a free one
            r = self.rng.choice(mapped)
            n = self.free_nat()
            if n is None:
                return
            self.maps[v][r] = n
            self.remember(n, v, r)
            self.count(op)
            self.rnatctl(['map replace vpn %d real %s nat %s' % (v, r, n)],
                         op)
        elif op == 'steal':
            # a real takes the NAT IP of another real of its VPN
            r = self.rng.choice(self.reals[v])
            others = [x for x in mapped if x != r]
            if not others:
                return
            r2 = self.rng.choice(others)
            n = self.maps[v].pop(r2)
            self.maps[v][r] = n
            self.remember(n, v, r)
            self.count(op)
            self.rnatctl(['map replace vpn %d real %s nat %s' % (v, r, n)],
                         op)
        elif op == 'del-add':
            r = self.rng.choice(mapped)
            del self.maps[v][r]
            self.count(op)
            if self.rnatctl(['map del vpn %d real %s' % (v, r)], op):
                self.rnatctl(self.add_lines(v), op + ' (add)')
        elif op == 'add':
            lines = self.add_lines(v)
            if lines:
                self.count(op)
                self.rnatctl(lines, op)
        elif op == 'flush':
            self.maps[v] = {}
            self.count(op)
            if self.rnatctl(['map flush vpn %d' % v], op):
                self.rnatctl(self.add_lines(v), op + ' (re-add)')
        elif op == 'recreate':
            self.maps[v] = {}
            self.count(op)
            if self.rnatctl(['vpn del %d' % v], op):
                self.rnatctl(['vpn add %d pool P dev %s' % (v, self.dev(v))] +
                             self.add_lines(v), op + ' (add)')
        elif op == 'move':
            self.cur[v] ^= 1
            self.count(op)
            if self.rnatctl(['vpn set %d dev %s' % (v, self.dev(v))], op):
                self.route(v)
        elif op == 'restore':
            self.restore()

    def run(self, seconds):
        start = time.monotonic()
        self.rtnl = {}
        for v in self.devs:
            with netns('c%d' % v):
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
                oifs = [socket.if_nametoindex('eth0'),
                        socket.if_nametoindex('eth1')]
            self.rtnl[v] = (sock, oifs)
        self.start_rnatctl()
        self.restore('initial restore')
        for v in self.devs:
            self.route(v)
        if self.on_ready:
            self.on_ready()
        steps = 0
        while time.monotonic() - start < float(seconds):
            self.step()
            steps += 1
        self.stop_rnatctl()
        self.hist.close()
        dump(self.out, {'steps': steps, 'did': self.did,
                        'failed': self.failed,
                        'seconds': round(time.monotonic() - start, 1),
                        'final': {str(v): m for v, m in self.maps.items()}})


def check(history, rxdir):
    """Every receiver's record against the history. Files in rxdir:
    rx-core.json, rx-c<V>.json, tx-core.json, tx-c<V>.json."""
    hist = set()
    nat_vpns = {}		# NAT -> VPNs it ever belonged to
    with open(history) as f:
        for line in f:
            n, v, r = line.split()
            hist.add((n, v, r))
            nat_vpns.setdefault(n, set()).add(v)
    bad = {'misdelivered': 0, 'mistranslated': 0, 'leaked real source': 0,
           'spoofed source crossed': 0, 'unparseable': 0}
    examples = []

    def violation(kind, count, what):
        bad[kind] += count
        if len(examples) < 20:
            examples.append('%s x%d: %s' % (kind, count, what))

    def load(name):
        with open(os.path.join(rxdir, name)) as f:
            return json.load(f)

    files = sorted(os.listdir(rxdir))
    custs = [f[3:-5] for f in files
             if f.startswith('rx-c') and f != 'rx-core.json']
    recv = {'core->vpn': 0, 'vpn->core': 0, 'spoof->core': 0}
    per_vpn_in, per_vpn_out = {}, {}
    for c in custs:
        v = c[1:]
        for key, cnt in load('rx-%s.json' % c).items():
            w = key.split()
            dst, src = w[0], w[1]
            tags = dict(x.split('=', 1) for x in w[2:] if '=' in x)
            if 'to' not in tags or src != '10.200.0.1':
                violation('unparseable', cnt, '%s got %s' % (c, key))
                continue
            n = tags['to']
            recv['core->vpn'] += cnt
            per_vpn_in[v] = per_vpn_in.get(v, 0) + cnt
            if v not in nat_vpns.get(n, ()):
                violation('misdelivered', cnt, 'NAT %s (ever of VPN %s) '
                          'arrived in VPN %s at %s' %
                          (n, ','.join(sorted(nat_vpns.get(n, ()))) or
                           'none', v, dst))
            elif (n, v, dst) not in hist:
                violation('mistranslated', cnt, 'NAT %s arrived in VPN %s '
                          'at %s, never its real address' % (n, v, dst))
    for key, cnt in load('rx-core.json').items():
        w = key.split()
        dst, src = w[0], w[1]
        tags = dict(x.split('=', 1) for x in w[2:] if '=' in x)
        v = tags.get('vpn')
        if w[2:3] == ['spoof']:
            recv['spoof->core'] += cnt
            if (src, v, tags.get('src')) not in hist:
                violation('spoofed source crossed', cnt,
                          'VPN %s sent from %s, core got it from %s' %
                          (v, tags.get('src'), src))
            continue
        if v is None or 'real' not in tags:
            violation('unparseable', cnt, 'core got %s' % key)
            continue
        recv['vpn->core'] += cnt
        per_vpn_out[v] = per_vpn_out.get(v, 0) + cnt
        r = tags['real']
        if (src, v, r) in hist:
            continue
        if src not in nat_vpns:
            violation('leaked real source', cnt, 'VPN %s real %s reached '
                      'core from %s, no NAT IP' % (v, r, src))
        elif v not in nat_vpns[src]:
            violation('misdelivered', cnt, 'VPN %s real %s reached core '
                      'from %s, a NAT IP of VPN %s only' %
                      (v, r, src, ','.join(sorted(nat_vpns[src]))))
        else:
            violation('mistranslated', cnt, 'VPN %s real %s reached core '
                      'from %s, never its NAT IP' % (v, r, src))
    sent = {'core->vpn': 0, 'vpn->core': 0, 'spoof->core': 0}
    errors = 0
    for f in files:
        if not f.startswith('tx-'):
            continue
        t = load(f)
        errors += t['errors']
        for name, cnt in t['sent'].items():
            if f == 'tx-core.json':
                sent['core->vpn'] += cnt
            elif name.startswith('spoof'):
                sent['spoof->core'] += cnt
            else:
                sent['vpn->core'] += cnt
    for d in sent:
        print('# %-12s sent %8d received %8d (%.0f %%)' %
              (d, sent[d], recv[d], 100.0 * recv[d] / max(sent[d], 1)))
    print('# send errors %d; history: %d (NAT, VPN, real) triples, %d NAT IPs'
          % (errors, len(hist), len(nat_vpns)))
    print('# received per VPN, core->vpn %s, vpn->core %s' %
          (json.dumps(per_vpn_in, sort_keys=True),
           json.dumps(per_vpn_out, sort_keys=True)))
    for kind in sorted(bad):
        print('# %-24s %d' % (kind, bad[kind]))
    for e in examples:
        print('#   ' + e)
    dump(os.path.join(rxdir, 'verdict'), {'sent': sent, 'received': recv,
                                          'bad': bad,
                                          'per_vpn_in': per_vpn_in,
                                          'per_vpn_out': per_vpn_out})
    return 1 if sum(bad.values()) else 0


FAILED = 0


def result(name, good, why=''):
    global FAILED
    kernel = os.environ.get('RNAT_VM_KERNEL')
    print('%sok - %s%s' % ('' if good else 'not ', '[%s] ' % kernel
                           if kernel else '', name))
    if not good:
        FAILED += 1
        for line in str(why).splitlines()[:20]:
            print('#   ' + line)
    sys.stdout.flush()


def wait_files(paths, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not all(map(os.path.exists, paths)):
        time.sleep(0.2)


def run(work, seconds, gap, seed, state_path):
    """The whole churn in one process (a python3 start costs seconds in a
    TCG guest): receivers, senders, event listeners and the dumper are
    forked into their namespaces; the driver runs here; then the checks."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import nlcheck
    with open(state_path) as f:
        state = json.load(f)
    vpns = sorted(state['vpns'], key=int)
    rxdir = os.path.join(work, 'rx')
    os.makedirs(rxdir, exist_ok=True)
    path = lambda name: os.path.join(work, name)
    stop_rx, stop_tx, stop_nl = path('stop-rx'), path('stop-tx'), \
        path('stop-nl')
    kids = []

    def spawn(ns, fn, *args):
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.closerange(3, 65536)	# rnatctl's pipes among them
                enter(ns)
                fn(*args)
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        kids.append(pid)

    spawn('core', rx, os.path.join(rxdir, 'rx-core.json'), stop_rx)
    for v in vpns:
        spawn('c' + v, rx, os.path.join(rxdir, 'rx-c%s.json' % v), stop_rx)
    spawn('gw', nlcheck.events, path('events-gw.json'), stop_nl)
    spawn('core', nlcheck.events, path('events-core.json'), stop_nl)
    time.sleep(2)		# they listen by now

    def senders():
        spawn('core', tx_core, os.path.join(rxdir, 'tx-core.json'), stop_tx,
              gap, state['nats'])
        for v in vpns:
            spawn('c' + v, tx_vpn, os.path.join(rxdir, 'tx-c%s.json' % v),
                  stop_tx, gap, v, '10.200.0.1', ','.join(state['reals'][v]),
                  state['spoofs'][v])
        spawn('gw', nlcheck.dumps, path('dumps-churn.json'), stop_nl)

    drv = Driver(path('drive.json'), seed, state)
    drv.on_ready = senders
    t0 = time.monotonic()
    drv.run(seconds)
    open(stop_tx, 'w').close()
    wait_files([os.path.join(rxdir, 'tx-%s.json' % x)
                for x in ['core'] + ['c' + v for v in vpns]], 120)
    time.sleep(1)
    open(stop_rx, 'w').close()
    open(stop_nl, 'w').close()
    status = [os.waitpid(pid, 0)[1] for pid in kids]
    result('receivers, senders, event listeners and dumper exited cleanly',
           not any(status), 'exit statuses %s' % status)
    os.environ['RNAT_FINAL'] = path('final')
    kids = []
    spawn('gw', nlcheck.dumps, path('dumps-final.json'), stop_nl)
    os.waitpid(kids[0], 0)
    print('# churn and traffic: %.0f s' % (time.monotonic() - t0))

    def load(name):
        try:
            with open(path(name)) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            return {'missing': str(e)}

    d = load('drive.json')
    print('# churn: %s steps in %s s: %s' % (d.get('steps'), d.get('seconds'),
          ', '.join('%s %d' % kv for kv in sorted(d.get('did', {}).items()))))
    result('every churn command succeeded', d.get('failed') == [],
           '\n'.join(d.get('failed', [str(d)])))
    want = {'replace', 'steal', 'del-add', 'flush', 'recreate', 'move',
            'restore'}
    result('the churn made every kind of change', want <= set(d.get('did', {})),
           'missing %s' % (want - set(d.get('did', {}))))

    bad = check(path('drive.json.history'), rxdir)
    v = load('rx/verdict')
    result('no datagram misdelivered, mistranslated, leaked or spoofed',
           bad == 0, 'see above')
    sent, recv = v.get('sent', {}), v.get('received', {})
    enough = all(recv.get(x, 0) * 10 >= sent.get(x, 0) > 0
                 for x in ('core->vpn', 'vpn->core'))
    enough = enough and sent.get('spoof->core', 0) > 0
    enough = enough and all(v.get(k, {}).get(x, 0) > 0 for x in vpns
                            for k in ('per_vpn_in', 'per_vpn_out'))
    result('enough got through: >= 10 % each way, every VPN both ways',
           enough, json.dumps(v))

    with open(path('drive.json.history')) as f:
        hist = set(line.strip() for line in f)
    for name, what in (('events-gw.json', 'events in gw'),
                       ('dumps-churn.json', 'dumps during the churn'),
                       ('dumps-final.json', 'dumps after the churn')):
        e = load(name)
        print('# %s: %s' % (what, ', '.join(
            '%s %s' % kv for kv in sorted(e.items())
            if kv[0] not in ('errors', 'map_new'))))
        result('%s: every byte as specified (lengths, pads, reserved, '
               'values)' % what, e.get('errors') == [],
               '\n'.join(e.get('errors', [str(e)])))
    e = load('events-gw.json')
    result('events: the listener got the churn\'s events, none lost',
           e.get('events', 0) >= d.get('steps', 1) and
           e.get('overruns') == 0, str(e)[:300])
    extra = [m for m in e.get('map_new', []) if m not in hist]
    result('events: every map-new names a (NAT, VPN, real) of the history',
           e.get('map_new') and not extra, 'not in history: %s' % extra[:5])
    e = load('events-core.json')
    result('events: none reached another namespace (core)',
           e.get('events') == 0 and e.get('errors') == [], str(e)[:300])
    model = sorted('%s %s %s' % (n, vpn, r)
                   for vpn, m in d.get('final', {}).items()
                   for r, n in m.items())
    try:
        with open(path('final')) as f:
            got = [line.strip() for line in f]
    except OSError as err:
        got = [str(err)]
    result('the mapping dump is the driver\'s final state', got == model,
           'dump %s\nmodel %s' % (got, model))
    return 1 if FAILED else 0


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == 'rx':
        rx(*args)
    elif cmd == 'tx-core':
        tx_core(args[0], args[1], args[2], args[3:])
    elif cmd == 'tx-vpn':
        tx_vpn(*args)
    elif cmd == 'drive':
        with open(args[3]) as f:
            state = json.load(f)
        Driver(args[0], args[2], state).run(args[1])
    elif cmd == 'check':
        return check(*args)
    elif cmd == 'run':
        return run(*args)
    else:
        print('usage: see the header of %s' % argv[0], file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
