#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What a module would hold after `rnatd --dry-run` printed FILE: its last
snapshot ("restore REV", save lines, ".") with the commands printed after
it ("REV map add|del ...", "REV vpn add|set|del ...", "REV pool add|del
...") applied as the module applies them, printed as `rnatctl save`
prints it (pools by name, VPNs by id, mappings by NAT address; /32
mappings only). A vpn add with "blocks" reserves them (a VPN made with
its blocks); a map add with "block B" makes B a block of the VPN,
merged with its buddy as the module merges; a map del frees the block
its last mapping leaves. Usage: replay.py FILE"""
import ipaddress
import sys


def words_to_opts(words):
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}


def net(s):
    return ipaddress.ip_network(s if "/" in s else s + "/32")


def merge(blocks, pool, b):
    """Block b joins its buddies of the same VPN while the parent is in
    the pool (kmod/block.c's rnat_block_merge)."""
    while b.prefixlen > 8:
        parent = b.supernet()
        buddy = [h for h in parent.subnets() if h != b][0]
        if buddy not in blocks or not any(parent.subnet_of(net(p))
                                           for p in pool):
            break
        blocks[parent] = blocks.pop(b) + blocks.pop(buddy)
        b = parent


def block_of(blocks, nat):
    return next(b for b in blocks if net(nat).subnet_of(b))


def main():
    snap, after = None, []
    lines = open(sys.argv[1]).read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("restore "):
            j = lines.index(".", i)
            snap, after = lines[i + 1:j], []
            i = j + 1
            continue
        after.append(lines[i].split(" ", 1)[1])
        i += 1
    pools, vpns, maps = {}, {}, {}
    blocks = {}     # VPN id -> {block: mappings in it}, after the snapshot
    for n, line in enumerate((snap or []) + after):
        if n == len(snap or []):
            for vid, o in vpns.items():
                blocks[vid] = {net(b): 0 for b in o.get("blocks", "").split(",") if b}
            for nat, m in maps.items():
                blocks[m[0]][block_of(blocks[m[0]], nat)] += 1
        w = line.split()
        obj, cmd = w[0], w[1]
        if obj == "pool" and cmd == "add":
            pools[w[2]] = w[3:]
        elif obj == "pool" and cmd == "del":
            del pools[w[2]]
        elif obj == "vpn" and cmd == "add":
            o = words_to_opts(w[3:])
            vpns[int(w[2])] = o
            if n >= len(snap or []):
                vid = int(w[2])
                blocks[vid] = {}
                for b in o.get("blocks", "").split(","):
                    if b:
                        blocks[vid][net(b)] = 0
                        merge(blocks[vid], pools[o["pool"]], net(b))
        elif obj == "vpn" and cmd == "set":
            o = vpns[int(w[2])]
            for k, v in words_to_opts(w[3:]).items():
                if v == "none":
                    o.pop(k, None)
                else:
                    o[k] = v
        elif obj == "vpn" and cmd == "del":
            vid = int(w[2])
            del vpns[vid]
            maps = {n: m for n, m in maps.items() if m[0] != vid}
        elif obj == "map" and cmd == "add":
            o = words_to_opts(w[2:])
            vid = int(o["vpn"])
            maps[o["nat"]] = (vid, o["real"])
            if n < len(snap or []):
                continue
            if "block" in o:
                blocks[vid][net(o["block"])] = 0
                merge(blocks[vid], pools[vpns[vid]["pool"]], net(o["block"]))
            blocks[vid][block_of(blocks[vid], o["nat"])] += 1
        elif obj == "map" and cmd == "del":
            o = words_to_opts(w[2:])
            vid = int(o["vpn"])
            gone = [n for n, m in maps.items() if m == (vid, o["real"])]
            for nat in gone:
                del maps[nat]
                b = block_of(blocks[vid], nat)
                blocks[vid][b] -= 1
                if not blocks[vid][b]:
                    del blocks[vid][b]
        else:
            sys.exit("replay.py: unknown line: " + line)
    for name in sorted(pools):
        print("pool add", name, " ".join(pools[name]))
    for vid in sorted(vpns):
        o = vpns[vid]
        out = ["vpn add", str(vid), "pool", o["pool"]]
        if vid in blocks:
            o = dict(o)
            o.pop("blocks", None)
            if blocks[vid]:
                o["blocks"] = ",".join(str(b) for b in sorted(blocks[vid]))
        for k in ("dev", "mark", "out-mark", "name", "blocks"):
            if k in o:
                out += [k, o[k]]
        print(" ".join(out))
    for nat in sorted(maps, key=lambda a: int(ipaddress.IPv4Address(a))):
        print("map add vpn %d real %s nat %s" % (maps[nat][0], maps[nat][1], nat))


main()
