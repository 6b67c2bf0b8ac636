#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What a module would hold after `rnatd --dry-run` printed FILE: its last
snapshot ("restore REV", save lines, ".") with the commands printed after
it ("REV map add|del ...", "REV vpn add|set|del ...", "REV pool add|del
...") applied as the module applies them, printed as `rnatctl save`
prints it (pools by name, VPNs by id, mappings by NAT address; /32
mappings only, and no block made or freed by a command: rnatd resyncs
for those). Usage: replay.py FILE"""
import ipaddress
import sys


def words_to_opts(words):
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}


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
    for line in (snap or []) + after:
        w = line.split()
        obj, cmd = w[0], w[1]
        if obj == "pool" and cmd == "add":
            pools[w[2]] = w[3:]
        elif obj == "pool" and cmd == "del":
            del pools[w[2]]
        elif obj == "vpn" and cmd == "add":
            o = words_to_opts(w[3:])
            vpns[int(w[2])] = o
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
            maps[o["nat"]] = (int(o["vpn"]), o["real"])
        elif obj == "map" and cmd == "del":
            o = words_to_opts(w[2:])
            maps = {n: m for n, m in maps.items()
                    if m != (int(o["vpn"]), o["real"])}
        else:
            sys.exit("replay.py: unknown line: " + line)
    for name in sorted(pools):
        print("pool add", name, " ".join(pools[name]))
    for vid in sorted(vpns):
        o = vpns[vid]
        out = ["vpn add", str(vid), "pool", o["pool"]]
        for k in ("dev", "mark", "out-mark", "name", "blocks"):
            if k in o:
                out += [k, o[k]]
        print(" ".join(out))
    for nat in sorted(maps, key=lambda a: int(ipaddress.IPv4Address(a))):
        print("map add vpn %d real %s nat %s" % (maps[nat][0], maps[nat][1], nat))


main()
