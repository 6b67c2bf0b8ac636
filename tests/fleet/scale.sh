#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a resync costs at scale, on the host (no module: the store side):
# a region of VPNS VPNs x PER mappings written straight into etcd
# (populate.py, checked by check-store.py), then `rnatctl save` timed, and
# an `rnatd --dry-run` agent: its start (a snapshot read), a VPN changed
# (applied as one vpn set, not a resync), a pool added and deleted (pool
# add and del), a new block (a map add with its block), a VPN made with
# blocks (still a resync: its read timed); what it
# would hold (replay.py) is the region's save after each. Prints "# scale:"
# figures.
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
# A VPN made with its blocks still resyncs (vpn add has none).
R vpn add 99999 pool "$(R vpn show 3 | sed 's/.* pool \([^ ]*\) .*/\1/')" \
	blocks 10.79.1.0/30 >/dev/null
caught_up
[ "$(restores)" = 2 ] && pass "a VPN made with blocks: one resync" ||
	fail "a VPN made with blocks: one resync ($(restores) restores)"
echo "# scale: a resync at $N mappings: $(grep '^resync: ' "$work/gw.log" | tail -1)"
same "... what it would hold is the region's save" "$(R save)" \
	python3 tests/fleet/replay.py "$work/gw.out"
if [ "$failed" != 0 ]; then
	echo "# rnatd:"; sed 's/^/#   /' "$work/gw.log"
fi
exit "$failed"
