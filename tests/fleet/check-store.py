#!/usr/bin/env python3
"""Checks a region's keys in etcd against the invariants of README "Fleet".

Usage: check-store.py ENDPOINTS REGION [EXPECTED_MAPPINGS]

Reads every key under /rnat/v1/REGION/ at one revision (etcdctl) and
checks: maps/ and nat/ are one-to-one and agree (no NAT prefix given twice,
every mapping indexed); every NAT prefix lies in a block of its VPN; blocks
do not overlap, lie in their VPN's pool, have one owner record (blocks/)
and one use record (vpn-blocks/) whose count is the addresses mapped in
them. Prints "# store: ..." figures; exits 1 naming the first broken rule.
"""
import bisect
import ipaddress
import json
import os
import subprocess
import sys


def pfx(s):
    addr, plen = s.rsplit("/", 1)
    a = int(ipaddress.IPv4Address(".".join(str(int(x)) for x in addr.split("."))))
    return a, int(plen)


def size(p):
    return 1 << (32 - p[1])


def inside(a, b):
    """prefix a inside prefix b"""
    return a[1] >= b[1] and (a[0] >> (32 - b[1])) == (b[0] >> (32 - b[1])) if b[1] else True


def main():
    endpoints, region = sys.argv[1], sys.argv[2]
    expected = int(sys.argv[3]) if len(sys.argv) > 3 else None
    base = f"/rnat/v1/{region}/"
    out = subprocess.run(
        ["etcdctl", "--endpoints", endpoints, "get", "--prefix", base, "-w", "json"],
        env=dict(os.environ, ETCDCTL_API="3"), check=True, capture_output=True, text=True,
    ).stdout
    import base64
    kvs = json.loads(out).get("kvs", [])
    keys = {}
    for kv in kvs:
        k = base64.b64decode(kv["key"]).decode()[len(base):]
        v = base64.b64decode(kv.get("value", "")).decode()
        keys[k] = v
    pools, vpns, blocks, uses, maps, nats = {}, {}, {}, {}, {}, {}
    # Bytes of full keys and values per kind (what the store holds of the
    # region's current state, before etcd's own overhead and history).
    kbytes = {}
    for k, v in keys.items():
        kind = k.partition("/")[0]
        kbytes[kind] = kbytes.get(kind, 0) + len(base) + len(k) + len(v)
    for k, v in keys.items():
        kind, _, rest = k.partition("/")
        if kind == "pools":
            pools[rest] = [pfx(p) for p in json.loads(v)["prefixes"]]
        elif kind == "vpns":
            vpns[int(rest)] = json.loads(v)
        elif kind == "blocks":
            blocks[pfx(rest)] = json.loads(v)["vpn"]
        elif kind == "vpn-blocks":
            vid, _, p = rest.partition("/")
            uses[(int(vid), pfx(p))] = json.loads(v)["used"]
        elif kind == "maps":
            vid, _, p = rest.partition("/")
            maps[(int(vid), pfx(p))] = json.loads(v)["nat"]
        elif kind == "nat":
            nats[pfx(rest)] = json.loads(v)

    def bad(msg):
        print(f"# store check: {msg}")
        sys.exit(1)

    # maps <-> nat, one to one
    seen = {}
    for (vid, real), nat in maps.items():
        n = (int(ipaddress.IPv4Address(nat)), real[1])
        if n in seen:
            bad(f"NAT {nat} given twice: vpn {vid} and vpn {seen[n]}")
        seen[n] = vid
        idx = nats.get(n)
        if not idx or idx["vpn"] != vid or pfx(idx["real"] + f"/{real[1]}")[0] != real[0]:
            bad(f"maps/{vid}/{real} -> {nat} has no matching nat/ entry ({idx})")
    if len(nats) != len(maps):
        bad(f"{len(nats)} nat/ entries for {len(maps)} maps/ entries")
    # blocks: one owner, one use record, no overlap, in the VPN's pool
    if {(v, p) for p, v in blocks.items()} != set(uses):
        bad("blocks/ and vpn-blocks/ disagree")
    ordered = sorted(blocks)
    for a, b in zip(ordered, ordered[1:]):
        if a[0] + size(a) > b[0]:
            bad(f"blocks {a} and {b} overlap")
    used = {p: 0 for p in blocks}
    # Blocks do not overlap (checked above), so a NAT prefix can only lie
    # in the last block starting at or before it: a bisection, not a scan
    # of every block (which made this check quadratic at 10^5 mappings).
    starts = [p[0] for p in ordered]
    for n, idx in nats.items():
        i = bisect.bisect_right(starts, n[0]) - 1
        owner = ordered[i] if i >= 0 and inside(n, ordered[i]) else None
        if owner is None or blocks[owner] != idx["vpn"]:
            bad(f"NAT {n} is in no block of VPN {idx['vpn']}")
        used[owner] += size(n)
    for (vid, p), u in uses.items():
        if used[p] != u:
            bad(f"block {p} of VPN {vid} says used {u}, has {used[p]}")
        if vid not in vpns:
            bad(f"block {p} of missing VPN {vid}")
        if not any(inside(p, q) for q in pools.get(vpns[vid]["pool"], [])):
            bad(f"block {p} of VPN {vid} is not in its pool")
    if expected is not None and len(maps) != expected:
        bad(f"{len(maps)} mappings, expected {expected}")
    print(f"# store: {len(pools)} pools, {len(vpns)} VPNs, {len(blocks)} blocks, "
          f"{len(maps)} mappings, {len(set(seen))} distinct NAT prefixes: consistent")
    print("# store: key+value bytes: " + ", ".join(
        f"{kind}/ {n} ({len([1 for k in keys if k.partition('/')[0] == kind])} keys)"
        for kind, n in sorted(kbytes.items())))


main()
