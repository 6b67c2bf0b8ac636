#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-gateway placement against the module: a region in etcd (one member
# started here) with VPNs on every gateway, on gateway a only and on b
# only (each with its own device and marks), two rnatd agents for two
# namespaces, gwa (gateway a) and gwb (gateway b). Each module's save must
# become `rnatctl --store URL --region R --gateway G save`, then again
# after mappings of each kind, b's placements changed (gwa's module and
# rnatd a untouched; b applies vpn commands, no resync), a pool and a VPN
# added and deleted (pool and vpn commands with their routes, no resync),
# a's placement changed, a VPN moved from b to a.
#
# Usage: tests/e2e/placement.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/fleet/etcd.sh

MODULE=${1:?usage: placement.sh MODULE.ko}
RNATD=${RNATD:-$PWD/tools/rnatd}
work=$(mktemp -d)
declare -A RPID=()
cleanup() {
	local g
	for g in "${!RPID[@]}"; do
		kill -9 "${RPID[$g]}" 2>/dev/null
		wait "${RPID[$g]}" 2>/dev/null
	done
	etcd_stop
	ns_del gwa
	ns_del gwb
	rm -rf "$work"
}
trap cleanup EXIT

region() { "$RNATCTL" -store "$ETCD_URL" -region vm "$@"; }
kern() { "$RNATCTL" -R -n "gw$1" save 2>&1; }
resyncs() { grep -c '^resync: revision' "$work/$1.log"; }

# same_as_region NAME GW: within 60 s, gwGW's module saves what the region
# says gateway GW carries.
same_as_region() {
	local name=$1 g=$2 want got i
	want=$(region -gateway "$g" save)
	for ((i = 0; i < 600; i++)); do
		got=$(kern "$g")
		if [ "$got" = "$want" ]; then
			pass "$name: gw$g's module has gateway $g's view ($(echo "$want" | wc -l) lines)"
			return 0
		fi
		sleep 0.1
	done
	fail "$name: gw$g's module has gateway $g's view"
	diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/#   /'
	tail -n 5 "$work/$g.log" | sed 's/^/#   rnatd: /'
}

# caught_up GW: fleet status shows GW at lag 0 (within 30 s).
caught_up() {
	local i
	for ((i = 0; i < 300; i++)); do
		region fleet status | grep -q "^gateway $1 revision [0-9]* lag 0 time [^ ]*$" &&
			return 0
		sleep 0.1
	done
	fail "gateway $1 caught up: $(region fleet status 2>&1)"
	return 1
}

expect "insmod rnat" insmod "$MODULE"
for g in a b; do
	ip netns add "gw$g"
	for d in gv1 x2 x3 x4 x5; do
		n "gw$g" ip link add "$d" type dummy
		n "gw$g" ip link set "$d" up
	done
done
etcd_up 1

region pool add EAST 10.153.0.0/16
region vpn add 1 pool EAST dev gv1 name acme blocks 10.153.0.0/28
region -gateway a vpn add 2 pool EAST dev x2 mark 0x30/0xf0 name alpha blocks 10.153.1.0/28
region -gateway b vpn add 3 pool EAST dev x3 name beta blocks 10.153.2.0/28
region -gateway b vpn set 1 dev x4 >/dev/null
for v in 1 2 3; do
	region map add vpn "$v" real "10.$v.0.1" >/dev/null
	region map add vpn "$v" real "10.$v.0.2" >/dev/null
done
for g in a b; do
	"$RNATD" -store "$ETCD_URL" -region vm -gateway "$g" -n "gw$g" \
		>>"$work/$g.log" 2>&1 &
	RPID[$g]=$!
done
same_as_region "start" a
same_as_region "start" b
expect_eq "gwa: VPN 1 on gv1 (*), VPN 2, not VPN 3" \
	"vpn 1 name acme pool EAST dev gv1
vpn 2 name alpha pool EAST dev x2 mark 0x30/0xf0" \
	"$("$RNATCTL" -R -n gwa vpn show | sed 's/ mappings.*//')"
expect_eq "gwb: VPN 1 on x4 (its own), VPN 3, not VPN 2" \
	"vpn 1 name acme pool EAST dev x4
vpn 3 name beta pool EAST dev x3" \
	"$("$RNATCTL" -R -n gwb vpn show | sed 's/ mappings.*//')"
caught_up a && caught_up b
ra=$(resyncs a)
rb=$(resyncs b)

# Mappings of each VPN: each module gets its own VPNs', no resync.
region map add vpn 1 real 10.1.0.3 >/dev/null
region map add vpn 2 real 10.2.0.3 >/dev/null
region map add vpn 3 real 10.3.0.3 >/dev/null
region map del vpn 3 real 10.3.0.1 >/dev/null
caught_up a && caught_up b
same_as_region "mappings" a
same_as_region "mappings" b
[ "$(resyncs a)" = "$ra" ] && [ "$(resyncs b)" = "$rb" ] &&
	pass "mappings applied one by one, no resync" ||
	fail "mappings applied one by one, no resync ($ra -> $(resyncs a), $rb -> $(resyncs b))"

# b's placements change: gwa is not touched.
before=$(kern a)
region -gateway b vpn set 3 mark 0x40/0xf0 >/dev/null
region -gateway b vpn del 1 >/dev/null         # b falls back to * (gv1)
caught_up a && caught_up b
same_as_region "b's placements changed" b
expect_eq "b's placements changed: gwa's module as it was" "$before" "$(kern a)"
[ "$(resyncs a)" = "$ra" ] && pass "b's placements changed: rnatd a did not resync" ||
	fail "b's placements changed: rnatd a resynced ($ra -> $(resyncs a))"
[ "$(resyncs b)" = "$rb" ] && grep -q '^apply: revision' "$work/b.log" &&
	pass "b's placements changed: rnatd b applied them as vpn commands, no resync" ||
	fail "b's placements changed: rnatd b applied them as vpn commands, no resync ($rb -> $(resyncs b))"

# A pool and a VPN on every gateway come and go as pool and vpn commands,
# with their routes.
region pool add WEST 10.160.0.0/16
region vpn add 5 pool WEST dev x5 name gamma
caught_up a && caught_up b
same_as_region "pool and VPN 5 added" a
same_as_region "pool and VPN 5 added" b
for g in a b; do
	ip -n "gw$g" route show proto 82 | grep -q '^unreachable 10.160.0.0/16' &&
		pass "gw$g: the new pool's unreachable route" ||
		fail "gw$g: the new pool's unreachable route"
done
region vpn del 5 >/dev/null
region pool del WEST
caught_up a && caught_up b
same_as_region "VPN 5 and its pool deleted" a
same_as_region "VPN 5 and its pool deleted" b
[ "$(resyncs a)" = "$ra" ] && [ "$(resyncs b)" = "$rb" ] &&
	pass "pool add, vpn add, vpn del, pool del: no resync" ||
	fail "pool add, vpn add, vpn del, pool del: no resync ($ra -> $(resyncs a), $rb -> $(resyncs b))"
ip -n gwa route show proto 82 | grep -q '10.160.0.0' &&
	fail "gwa: the deleted pool's route is gone" ||
	pass "gwa: the deleted pool's route is gone"

# VPN 3 moves from b to a (its NAT IPs stay); a's VPN 2 changes device.
before=$(kern b)
region -gateway a vpn set 3 dev x3 >/dev/null
region -gateway a vpn set 2 dev x4 >/dev/null
caught_up a && caught_up b
same_as_region "VPN 3 placed on a too" a
expect_eq "VPN 3 placed on a too: gwb's module as it was" "$before" "$(kern b)"
region -gateway b vpn del 3 >/dev/null
caught_up a && caught_up b
same_as_region "VPN 3 off b" b
expect_eq "VPN 3 off b: its NAT IPs on gwa as they were" \
	"$(region map show vpn 3)" "$("$RNATCTL" -R -n gwa map show vpn 3)"
expect_eq "VPN 3 off b: gwb has no VPN 3" "Error: no VPN 3" \
	"$("$RNATCTL" -R -n gwb vpn show 3 2>&1)"

for g in a b; do
	kill -TERM "${RPID[$g]}"
	wait "${RPID[$g]}"
	unset "RPID[$g]"
	echo "# rnatd $g's log:"
	sed 's/^/#   /' "$work/$g.log"
done
cleanup
trap - EXIT
unload_rnat
exit "$E2E_FAILED"
