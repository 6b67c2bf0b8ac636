#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes a region of VPNS VPNs with PER mappings each straight into etcd
(its JSON gateway, transactions of 128 puts), in the key layout of
tools/region.c, for scale tests that need more mappings than rnatctl
allocates in a test's time: pool LOAD 10.64.0.0/12; VPN v (1..VPNS),
named vpnV on device gvV (placement "*"), holds one block of the smallest
power of two >= PER addresses, its customers 10.1.0.1.. each mapped to
the block's addresses in order, as the allocator would give them within
the block. check-store.py checks the result.

Usage: populate.py URL REGION VPNS PER [OPS]

OPS: puts per transaction (default 128, etcd's default --max-txn-ops; a
larger one needs etcd started with a larger --max-txn-ops)."""
import base64
import http.client
import ipaddress
import json
import sys
import urllib.parse


def kp(a, plen):
    o = ipaddress.IPv4Address(a).packed
    return "%03u.%03u.%03u.%03u/%02u" % (o[0], o[1], o[2], o[3], plen)


def js(v):
    return json.dumps(v, separators=(",", ":"))


def main():
    url, region, nvpns, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ops_per_txn = int(sys.argv[5]) if len(sys.argv) > 5 else 128
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    base = "/rnat/v1/%s/" % region
    size = 1
    while size < per:
        size *= 2
    plen = 32 - size.bit_length() + 1
    pool = int(ipaddress.IPv4Address("10.64.0.0"))
    if nvpns * size > 1 << 20:
        sys.exit("populate.py: more than the pool's /12")
    puts = [("pools/LOAD", js({"prefixes": ["10.64.0.0/12"]}))]
    for v in range(1, nvpns + 1):
        blk = pool + (v - 1) * size
        puts.append(("vpns/%010u" % v, js({"name": "vpn%u" % v, "pool": "LOAD",
                                           "placement": {"*": {"dev": "gv%u" % v}}})))
        puts.append(("vpn-names/vpn%u" % v, "%u" % v))
        puts.append(("blocks/" + kp(blk, plen), js({"vpn": v})))
        puts.append(("vpn-blocks/%010u/" % v + kp(blk, plen), js({"used": per})))
        for i in range(per):
            real = int(ipaddress.IPv4Address("10.1.0.1")) + i
            nat = blk + i
            puts.append(("maps/%010u/" % v + kp(real, 32),
                         js({"nat": str(ipaddress.IPv4Address(nat))})))
            puts.append(("nat/" + kp(nat, 32),
                         js({"vpn": v, "real": str(ipaddress.IPv4Address(real))})))
    puts.append(("changed", ""))
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    for i in range(0, len(puts), ops_per_txn):
        ops = [{"request_put": {"key": b64(base + k), "value": b64(v)}}
               for k, v in puts[i:i + ops_per_txn]]
        conn.request("POST", "/v3/kv/txn", js({"success": ops}))
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit("populate.py: HTTP %d: %s" % (r.status, body[:200]))
    print("# populate: %d keys, %d VPNs x %d mappings" % (len(puts), nvpns, per))


main()
