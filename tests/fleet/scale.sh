#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a resync costs at scale, on the host (no module: the store side):
# a region of VPNS VPNs x PER mappings written straight into etcd
# (populate.py, checked by check-store.py), then `rnatctl save` timed, and
# an `rnatd --dry-run` agent: its start (a snapshot read), a VPN changed
# (applied as one vpn set, not a resync), a pool added and deleted (pool
# add and del), a new block (a map add with its block), a VPN made with
# blocks (a vpn add with them), a VPN placed here anew (its own keys read:
# timed); what it would hold (replay.py) is the region's save after each.
# Prints "# scale:" figures.
#
# Usage: tests/fleet/scale.sh [VPNS [PER]]    (default 100 x 100 = 10^4)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh
fleet_init "scale: "

VPNS=${1:-100}
PER=${2:-100}
N=$((VPNS * PER))
etcd_up 1
R() { "$RNATCTL" -store "$ETCD_URL" -region s "$@"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
t0=$(date +%s%N)
python3 tests/fleet/populate.py "$ETCD_URL" s "$VPNS" "$PER"
echo "# scale: $N mappings written in $(ms "$t0") ms"
if python3 tests/fleet/check-store.py "$ETCD_URL" s "$N" >"$work/check" 2>&1; then
	pass "$N mappings over $VPNS VPNs in the store, consistent"
else
	fail "$N mappings over $VPNS VPNs in the store, consistent"
fi
cat "$work/check"
t0=$(date +%s%N)
R save >"$work/save"
t=$(ms "$t0")
lines=$(wc -l <"$work/save")
[ "$lines" = $((1 + VPNS + N)) ] && pass "rnatctl save: $lines lines" ||
	fail "rnatctl save: $lines lines, want $((1 + VPNS + N))"
echo "# scale: rnatctl save of $N mappings (the snapshot a resync reads): $t ms"
# What a page of a paged range read costs on this etcd: a read of one key
# (limit 1) at the start of maps/ against one at the start of a VPN's
# maps/ (PER keys). etcd 3.4 collects the revisions of every key from the
# start to the range's end before it applies the limit (mvcc rangeKeys),
# so each 5,000-key page of a snapshot read costs the rest of the range.
python3 - "$ETCD_URL" s <<'PY'
import base64, http.client, json, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
b = lambda s: base64.b64encode(s.encode()).decode()
def read(key, end):
    best = None
    for _ in range(5):
        t = time.monotonic()
        c.request("POST", "/v3/kv/range", json.dumps({"key": b(key), "range_end": b(end), "limit": 1}))
        r = json.loads(c.getresponse().read())
        ms = (time.monotonic() - t) * 1000
        best = ms if best is None else min(best, ms)
    return best, int(r.get("count", 0))
base = "/rnat/v1/%s/maps/" % sys.argv[2]
for key, end in ((base, base[:-1] + "0"), (base + "0000000001/", base + "00000000010")):
    ms, n = read(key, end)
    print("# scale: a 1-key page (limit 1) of a %d-key range: %.1f ms (best of 5)" % (n, ms))
PY

"$RNATD" -store "$ETCD_URL" -region s -gateway g -ttl 10 -R -dry-run \
	>"$work/gw.out" 2>"$work/gw.log" &
pids+=($!)
caught_up() {
	local i
	for ((i = 0; i < 600; i++)); do
		R fleet status | grep -q '^gateway g revision [0-9]* lag 0 ' && return 0
		sleep 0.1
	done
	fail "rnatd caught up: $(R fleet status 2>&1)"
	return 1
}
restores() { grep -c '^restore ' "$work/gw.out"; }
caught_up
echo "# scale: rnatd start: $(grep '^resync: ' "$work/gw.log" | tail -1)"
same "rnatd's snapshot is the region's save" "$(cat "$work/save")" \
	python3 tests/fleet/replay.py "$work/gw.out"

R vpn set 7 dev gv7b >/dev/null
R pool add Q 10.170.0.0/24 >/dev/null
R pool del Q >/dev/null
caught_up
[ "$(restores)" = 1 ] && pass "a VPN changed, a pool added and deleted: no resync" ||
	fail "a VPN changed, a pool added and deleted: no resync ($(restores) restores)"
grep '^apply: ' "$work/gw.log" | sed 's/^/# scale: /'
same "... what it would hold is the region's save" "$(R save)" \
	python3 tests/fleet/replay.py "$work/gw.out"

R map add vpn 3 real 10.9.9.9 nat 10.79.0.0 >/dev/null    # a new block
caught_up
[ "$(restores)" = 1 ] && pass "a new block: applied as a map add with its block, no resync" ||
	fail "a new block: applied as a map add with its block, no resync ($(restores) restores)"
same "... what it would hold is the region's save" "$(R save)" \
	python3 tests/fleet/replay.py "$work/gw.out"
pool=$(R vpn show 3 | sed 's/.* pool \([^ ]*\) .*/\1/')
R vpn add 99999 pool "$pool" blocks 10.79.1.0/30 >/dev/null
caught_up
[ "$(restores)" = 1 ] && pass "a VPN made with blocks: a vpn add with them, no resync" ||
	fail "a VPN made with blocks: a vpn add with them, no resync ($(restores) restores)"
same "... what it would hold is the region's save" "$(R save)" \
	python3 tests/fleet/replay.py "$work/gw.out"
# A VPN that existed elsewhere with mappings, placed here anew: its vpn
# add with its blocks and its mappings, read alone (timed), no resync.
R -gateway elsewhere vpn add 99998 pool "$pool" blocks 10.79.2.0/30 >/dev/null
R -gateway elsewhere map add vpn 99998 real 10.9.9.8 >/dev/null
R -gateway g vpn set 99998 dev gv99998 >/dev/null
caught_up
[ "$(restores)" = 1 ] && pass "a VPN placed here anew: its own keys read, no resync" ||
	fail "a VPN placed here anew: its own keys read, no resync ($(restores) restores)"
echo "# scale: a VPN placed here anew at $N mappings: $(grep '^apply: ' "$work/gw.log" | tail -1)"
same "... what it would hold is gateway g's save" "$(R -gateway g save)" \
	python3 tests/fleet/replay.py "$work/gw.out"
if [ "$failed" != 0 ]; then
	echo "# rnatd:"; sed 's/^/#   /' "$work/gw.log"
fi
exit "$failed"
