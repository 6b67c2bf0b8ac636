#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One end of tests/e2e/failover.sh's two long TCP transfers.

    failover.py --bytes N --rate BPS --out FILE
                [--listen PORT --progress FILE]
                [--send ADDR:PORT --bind ADDR:PORT]

--listen: accepts one connection on PORT and reads it to its end, checking
every byte against the pattern (the stream is the 32-bit big-endian words
0, 1, 2 ...), and writes the bytes received so far to the progress file
every 0.2 s. --send: binds to ADDR:PORT (so that the caller knows the flow's
5-tuple, and with it its ECMP path), connects (retrying only while refused,
before the connection exists: never a second connection), sends N bytes of
the pattern at RATE bytes/s, shuts its side down and waits for the peer's
close. Both sockets have TCP_USER_TIMEOUT (--user-timeout s, 20 by default)
and the receiver gives up after --idle s without data (25), so a broken flow
ends in bounded time.

At the end each role writes one line of key=value words to --out:

    recv bytes=N intact=1 mismatch_at=-1 peer=ADDR stall=S stall_start=T
         stall_end=T stall_at=N error=...
    send bytes=N done=1 retrans=N error=...

(stall: the longest time without data, its wall-clock start and end and the
offset it happened at; retrans: the sender's tcpi_total_retrans; done: every
byte sent and the peer closed after reading them.)
"""
import argparse
import array
import errno
import os
import socket
import struct
import sys
import threading
import time

TCP_USER_TIMEOUT = 18
TCP_INFO = 11
TCPI_TOTAL_RETRANS = 100	# offset of tcpi_total_retrans in struct tcp_info

results = []
lock = threading.Lock()


def pattern(n):
    words = array.array("I", range((n + 3) // 4))
    if sys.byteorder == "little":
        words.byteswap()
    return words.tobytes()[:n]


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def report(role, **kv):
    line = role + "".join(" %s=%s" % (k, str(v).replace(" ", "_"))
                          for k, v in kv.items())
    with lock:
        results.append(line)


def receiver(args, data):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", args.listen))
    ls.listen(4)
    ls.settimeout(60)
    got = 0
    mismatch = -1
    peer = "-"
    error = ""
    stall = 0.0
    stall_start = stall_end = 0.0
    stall_at = 0
    last_progress = 0.0

    def progress(force=False):
        nonlocal last_progress
        now = time.time()
        if force or now - last_progress >= 0.2:
            last_progress = now
            tmp = args.progress + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % got)
            os.replace(tmp, args.progress)

    progress(True)
    try:
        c, (peer, _) = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT,
                     args.user_timeout * 1000)
        c.settimeout(0.5)
        last = time.time()
        while True:
            try:
                chunk = c.recv(65536)
            except socket.timeout:
                if time.time() - last > args.idle:
                    error = "no data for %d s" % args.idle
                    break
                progress()
                continue
            now = time.time()
            if now - last > stall:
                stall, stall_start, stall_end, stall_at = now - last, last, now, got
            last = now
            if not chunk:
                break
            if mismatch < 0 and chunk != data[got:got + len(chunk)]:
                for i, b in enumerate(chunk):
                    if got + i >= len(data) or data[got + i] != b:
                        mismatch = got + i
                        break
            got += len(chunk)
            progress()
        c.close()
    except OSError as e:
        error = e.strerror or str(e)
    progress(True)
    report("recv", bytes=got, intact=int(mismatch < 0 and got == len(data)),
           mismatch_at=mismatch, peer=peer, stall="%.2f" % stall,
           stall_start="%.3f" % stall_start, stall_end="%.3f" % stall_end,
           stall_at=stall_at, error=error or "-")


def sender(args, data):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr(args.bind))
    s.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, args.user_timeout * 1000)
    sent = 0
    done = 0
    error = ""
    deadline = time.time() + 60
    while True:		# only until the connection exists
        try:
            s.connect(addr(args.send))
            break
        except OSError as e:
            if e.errno != errno.ECONNREFUSED or time.time() > deadline:
                report("send", bytes=0, done=0, retrans=-1,
                       error=e.strerror or str(e))
                return
            time.sleep(0.2)
    start = time.time()
    try:
        while sent < len(data):
            ahead = start + sent / args.rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
            sent += s.send(data[sent:sent + 16384])
        s.shutdown(socket.SHUT_WR)
        s.settimeout(args.user_timeout + 5)
        if s.recv(1) == b"":
            done = 1
        else:
            error = "unexpected data"
    except OSError as e:
        error = e.strerror or str(e)
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
        retrans = struct.unpack_from("I", info, TCPI_TOTAL_RETRANS)[0]
    except OSError:
        retrans = -1
    s.close()
    report("send", bytes=sent, done=done, retrans=retrans, error=error or "-")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--listen", type=int)
    p.add_argument("--progress")
    p.add_argument("--send")
    p.add_argument("--bind")
    p.add_argument("--user-timeout", type=int, default=20)
    p.add_argument("--idle", type=int, default=25)
    args = p.parse_args()
    data = pattern(args.bytes)
    threads = []
    if args.listen:
        threads.append(threading.Thread(target=receiver, args=(args, data)))
    if args.send:
        threads.append(threading.Thread(target=sender, args=(args, data)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out, "w") as f:
        f.write("".join(line + "\n" for line in results))


main()
