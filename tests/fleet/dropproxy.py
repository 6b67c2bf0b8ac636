#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An HTTP/1.1 proxy to one etcd member that loses the answer to the first
change: it forwards every request (keep-alive, one connection to the
member per client connection) until the first POST /v3/kv/txn that puts a
key, sends that one on too, reads the member's answer, then closes the client's connection
without it and stops listening. What a member killed between committing a
change and answering it looks like to a client: the change was made, and
reconnecting to that member fails. Prints its port, then serves.

Usage: dropproxy.py MEMBER_HOST:PORT"""
import http.client
import os
import socket
import sys
import threading


def read_request(f):
    line = f.readline()
    if not line:
        return None
    head, length = [line], 0
    while True:
        h = f.readline()
        head.append(h)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode().partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    return line.decode().split()[:2], b"".join(head), f.read(length)


def serve(c, host, port, ls):
    f = c.makefile("rb")
    m = http.client.HTTPConnection(host, int(port))
    while True:
        req = read_request(f)
        if req is None:
            break
        (method, path), head, body = req
        m.request(method, path, body, {"Content-Type": "application/json"})
        r = m.getresponse()
        answer = r.read()
        if path == "/v3/kv/txn" and b"request_put" in body:
            ls.close()
            c.close()
            os._exit(0)
        c.sendall(b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (r.status, len(answer))
                  + answer)
    c.close()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print(ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, host, port, ls),
                         daemon=True).start()


main()
