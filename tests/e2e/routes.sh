#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The routes rnatctl keeps (protocol 82) and everyone else's: a route of
# another protocol where a NAT block wants one is never replaced nor
# deleted (a warning names it, the command succeeds); and concurrent
# rnatctl runs (VPNs added and deleted with their mappings, in parallel)
# leave exactly the routes the final state asks for, none to a deleted
# VPN's device.
#
# Usage: tests/e2e/routes.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: routes.sh MODULE.ko}
NS=routes
WORKERS=${WORKERS:-8}
ROUNDS=${ROUNDS:-6}
devs=(up0)
for k in $(seq "$WORKERS"); do devs+=("d$k"); done
cli_setup "$MODULE" "${devs[@]}"
n "$NS" ip addr add 192.0.2.254/24 dev up0

# Routes of protocol 82, one per line, /32 spelt out, sorted.
rnat_routes() {
	n "$NS" ip -o route show proto 82 |
		awk '$1 != "unreachable" { d = $1; if (d !~ /\//) d = d "/32"; print d, $3 }' | sort
}
# What the state asks for: "BLOCK DEV" for every block of a VPN with a device.
wanted_routes() {
	rnat -j vpn show | python3 -c '
import json, sys
for v in json.load(sys.stdin):
    for b in v.get("blocks", []) if v["dev"] else []:
        print(b if "/" in b else b + "/32", v["dev"])' | sort
}
live_vpns() {
	rnat -j vpn show | python3 -c '
import json, sys
print(" ".join(str(v["vpn"]) for v in json.load(sys.stdin)))'
}

# --- Someone else's route where a block wants one --------------------------
expect "setup: a pool, VPN 1 on d1" rnat -b - <<'BATCH'
pool add EAST 10.153.0.0/16
vpn add 1 pool EAST dev d1
BATCH
# The operator's route (proto boot) where VPN 1's /24 block will be.
n "$NS" ip route add 10.153.0.0/24 via 192.0.2.1
theirs="10.153.0.0/24 via 192.0.2.1 dev up0"
out=$(rnat map add vpn 1 real 10.1.0.0/24 2>&1)
rc=$?
expect_eq "map add whose block has someone else's route succeeds" 0 "$rc"
expect_eq "  ... and warns, naming the route and its owner" \
	"Warning: route 10.153.0.0/24 is not rnat's (proto boot via 192.0.2.1 dev up0): left as it is, rnat's route to d1 not added" \
	"$(grep Warning <<<"$out")"
expect_eq "  ... the mapping is in place" "1" \
	"$(rnat map show vpn 1 | grep -c 'real 10.1.0.0/24 nat 10.153.0.0/24')"
expect_eq "  ... the operator's route stays theirs (proto boot)" "$theirs" \
	"$(n "$NS" ip -o route show 10.153.0.0/24 proto boot | sed 's/  */ /g; s/ $//')"
expect_eq "  ... and rnat added none of its own there" "" "$(rnat_routes)"
out=$(rnat route sync 2>&1)
rc=$?
expect_eq "route sync leaves it too, exit 0 with the warning" "0 1" \
	"$rc $(grep -c "route 10.153.0.0/24 is not rnat's" <<<"$out")"
expect "map del: the block is freed" rnat map del vpn 1 real 10.1.0.0/24
expect_eq "  ... the operator's route is still there" "$theirs" \
	"$(n "$NS" ip -o route show 10.153.0.0/24 | sed 's/  */ /g; s/ $//')"
# Once the operator's route goes, the next sync routes the block.
expect "map add again (still warned)" rnat map add vpn 1 real 10.1.0.0/24
n "$NS" ip route del 10.153.0.0/24 via 192.0.2.1
out=$(rnat route sync 2>&1)
expect_eq "after the operator removes theirs, route sync adds rnat's, silently" \
	"10.153.0.0/24 d1|" "$(rnat_routes)|$out"
# An operator's route at another metric does not stand in rnat's place.
n "$NS" ip route add 10.153.0.0/24 via 192.0.2.1 metric 100
expect "vpn del 1" rnat vpn del 1
expect_eq "rnat's route went with VPN 1, the operator's (metric 100) stayed" \
	"|10.153.0.0/24 via 192.0.2.1 dev up0 metric 100" \
	"$(rnat_routes)|$(n "$NS" ip -o route show 10.153.0.0/24 | sed 's/  */ /g; s/ $//')"
n "$NS" ip route del 10.153.0.0/24 via 192.0.2.1 metric 100

# --- A sync that read the state before another run changed it --------------
# strace holds "map add"'s sync between its reading rnat's state (the block
# of VPN 2 on d2) and its route requests, by delaying its netlink sends from
# the 5th on (family, VPN 2 before, map add, VPN 2 after: then the routes),
# while "vpn del 2" runs. Unserialised, map add would route the block to d2,
# the device of a VPN that is gone; serialised (map add holds the lock from
# before its change to the end of its sync), vpn del waits for it and takes
# the route away.
expect "setup: VPN 2 on d2" rnat vpn add 2 pool EAST dev d2
strace -f -o /dev/null -e trace=sendto \
	-e inject=sendto:delay_enter=3000000:when=5+ \
	"$RNATCTL" -n "$NS" map add vpn 2 real 10.1.0.0 >"$TMPDIR/slow" 2>&1 &
slow=$!
for i in $(seq 50); do
	rnat map show vpn 2 2>/dev/null | grep -q . && break
	sleep 0.1
done
expect "vpn del 2 while map add's sync is held" rnat vpn del 2
wait "$slow"
expect_eq "map add succeeded" "vpn 2 real 10.1.0.0 nat 10.153.0.0 pool EAST" \
	"$(cat "$TMPDIR/slow")"
expect_eq "no route is left to the deleted VPN's device" "" "$(rnat_routes)"

# --- One command syncs its VPN's routes only --------------------------------
# A command that names one VPN reads its blocks before and after and
# touches only their routes: a route of another VPN deleted by hand stays
# missing until "route sync" (or a command of that VPN).
expect "setup: VPN 11 on d3, VPN 12 on d4" rnat -b - <<'BATCH'
vpn add 11 pool EAST dev d3
vpn add 12 pool EAST dev d4
BATCH
expect "map add: a block for VPN 11" rnat map add vpn 11 real 10.1.0.1 nat 10.153.1.1
expect "map add: a block for VPN 12" rnat map add vpn 12 real 10.1.0.1 nat 10.153.2.1
expect_eq "  ... each block routed to its VPN's device" \
	"10.153.1.1/32 d3 10.153.2.1/32 d4" "$(rnat_routes | tr '\n' ' ' | sed 's/ $//')"
n "$NS" ip route del 10.153.2.1/32 proto 82
out=$(rnat map add vpn 11 real 10.1.0.2 nat 10.153.1.5 2>&1 >/dev/null)
expect_eq "map add into a new block of VPN 11: its route is added, silently" \
	"10.153.1.1/32 d3 10.153.1.5/32 d3|" "$(rnat_routes | tr '\n' ' ' | sed 's/ $//')|$out"
expect_eq "  ... VPN 12's route deleted by hand is not repaired (the sync is VPN 11's)" \
	"" "$(rnat_routes | grep ' d4$')"
expect "route sync" rnat route sync
expect_eq "  ... repairs it" "10.153.2.1/32 d4" "$(rnat_routes | grep ' d4$')"
n "$NS" ip route del 10.153.1.1/32 proto 82
expect "another map add of VPN 11" rnat map add vpn 11 real 10.1.0.3 nat 10.153.1.9
expect_eq "  ... repairs VPN 11's own route deleted by hand" \
	"10.153.1.1/32 d3 10.153.1.5/32 d3 10.153.1.9/32 d3" \
	"$(rnat_routes | grep ' d3$' | tr '\n' ' ' | sed 's/ $//')"
expect "map del of the last mapping of VPN 11's block 10.153.1.5" \
	rnat map del vpn 11 real 10.1.0.2
expect_eq "  ... its route is gone, the others stay" "$(wanted_routes)" "$(rnat_routes)"
expect_eq "  ... (no route to 10.153.1.5)" "" "$(rnat_routes | grep '^10.153.1.5/')"
expect "map replace moves VPN 12's mapping to 10.153.2.5" \
	rnat map replace vpn 12 real 10.1.0.1 nat 10.153.2.5
expect_eq "  ... the route of its new block replaces the old one's" \
	"10.153.2.5/32 d4" "$(rnat_routes | grep ' d4$')"
expect "vpn set 11 dev d5" rnat vpn set 11 dev d5
expect_eq "  ... VPN 11's routes moved to d5" \
	"$(wanted_routes | grep ' d5$')|" "$(rnat_routes | grep ' d5$')|$(rnat_routes | grep ' d3$')"
expect_eq "  ... (to d5, and all of them)" "$(wanted_routes)" "$(rnat_routes)"
expect "map del by NAT address (VPN 12's last mapping)" rnat map del nat 10.153.2.5
expect_eq "  ... its block's route is gone" "" "$(rnat_routes | grep ' d4$')"
expect "map flush vpn 11" rnat map flush vpn 11
expect_eq "  ... VPN 11's routes are gone" "" "$(rnat_routes)"
expect "map add for VPN 11 again" rnat map add vpn 11 real 10.1.0.1 nat 10.153.1.1
expect_eq "  ... routed" "10.153.1.1/32 d5" "$(rnat_routes)"
expect "map add for VPN 12 again" rnat map add vpn 12 real 10.1.0.1 nat 10.153.2.1
expect "vpn del 11" rnat vpn del 11
expect_eq "  ... its route went, VPN 12's stayed" "10.153.2.1/32 d4" "$(rnat_routes)"
expect "vpn del 12" rnat vpn del 12
expect_eq "  ... no rnat route is left (but the pool's unreachable one)" \
	"|1" "$(rnat_routes)|$(n "$NS" ip route show proto 82 | grep -c '^unreachable 10.153.0.0/16')"
expect "vpn add 11 pool EAST dev d5 blocks 10.153.4.0/30" \
	rnat vpn add 11 pool EAST dev d5 blocks 10.153.4.0/30
expect_eq "  ... vpn add routes its blocks" "10.153.4.0/30 d5" "$(rnat_routes)"
expect "vpn del 11" rnat vpn del 11
expect_eq "  ... vpn del takes them away" "" "$(rnat_routes)"

# --- Concurrent rnatctl runs ------------------------------------------------
# Each worker adds its VPN with a few mappings and deletes it, over and
# over; odd workers end with their VPN deleted, even ones with it in place.
# Every command syncs the routes, reading the state while others change it.
worker() {
	local k=$1 r j
	for r in $(seq "$ROUNDS"); do
		rnat vpn add "$k" pool EAST dev "d$k"
		for j in 0 1 2; do
			rnat map add vpn "$k" real "10.1.0.$j" >/dev/null
		done
		rnat vpn del "$k" >/dev/null
	done
	if ((k % 2 == 0)); then
		rnat vpn add "$k" pool EAST dev "d$k"
		rnat map add vpn "$k" real 10.1.0.0 >/dev/null
		rnat map add vpn "$k" real 10.2.0.0/30 >/dev/null
	fi
}
pids=()
for k in $(seq "$WORKERS"); do
	worker "$k" >"$TMPDIR/w$k" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
expect_eq "no worker reported an error" "" "$(cat "$TMPDIR"/w* | grep -v '^Warning: device')"
expect_eq "the even workers' VPNs live, the odd ones' are gone" \
	"$(seq 2 2 "$WORKERS" | tr '\n' ' ' | sed 's/ $//')" "$(live_vpns)"
want=$(wanted_routes)
have=$(rnat_routes)
expect_eq "every rnat route leads to the device of the live VPN owning its block, every block has one" \
	"$want" "$have"
expect_eq "  ... ($(grep -c . <<<"$want") blocks, of every live VPN)" \
	"$((WORKERS / 2))" "$(cut -d' ' -f2 <<<"$want" | sort -u | grep -c .)"

exit "$E2E_FAILED"
