#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-gateway placement, on the host (no module): `rnatctl --store URL
# --region R --gateway G` writes and shows placement.G, its save is exactly
# what gateway G must have, its refusals are the module's words; then two
# `rnatd --dry-run` agents (gateways a and b) print what they would apply:
# each its own view, a change for the other gateway (its placement, its
# VPN's mappings and blocks, a pool put again for them) neither applied nor
# resynced, VPN and pool changes applied as vpn and pool commands; what
# each would hold (tests/fleet/replay.py) is its gateway's save.
#
# Usage: tests/fleet/placement.sh    (ok/not ok lines; exit 1 if any fails)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh
fleet_init "placement: "

R() { "$RNATCTL" -store "$ETCD_URL" -region p "$@"; }
etcd_up 1

R pool add P 10.153.0.0/16
# Blocks reserved up front, so that mappings are made without new blocks.
R vpn add 1 pool P dev gv1 name acme blocks 10.153.0.0/28    # every gateway
R -gateway a vpn add 2 pool P dev xa mark 0x30/0xf0 name alpha blocks 10.153.1.0/28 # a
R -gateway b vpn add 3 pool P dev xb name beta blocks 10.153.2.0/28 # b
same "vpn set -gateway b: b's own placement of VPN 1, from *'s" \
	"vpn 1 name acme pool P dev gb1 mappings 0 blocks 10.153.0.0/28" R -gateway b vpn set 1 dev gb1
R map add vpn 1 real 10.1.0.1 >/dev/null
R map add vpn 2 real 10.1.0.2 >/dev/null
R map add vpn 3 real 10.1.0.3 >/dev/null

same "the region's save: every VPN, * placements" "pool add P 10.153.0.0/16
vpn add 1 pool P dev gv1 name acme blocks 10.153.0.0/28
vpn add 2 pool P name alpha blocks 10.153.1.0/28
vpn add 3 pool P name beta blocks 10.153.2.0/28
map add vpn 1 real 10.1.0.1 nat 10.153.0.0
map add vpn 2 real 10.1.0.2 nat 10.153.1.0
map add vpn 3 real 10.1.0.3 nat 10.153.2.0" R save
same "gateway a's save: VPN 1 by *, VPN 2 its own" "pool add P 10.153.0.0/16
vpn add 1 pool P dev gv1 name acme blocks 10.153.0.0/28
vpn add 2 pool P dev xa mark 0x30/0xf0 name alpha blocks 10.153.1.0/28
map add vpn 1 real 10.1.0.1 nat 10.153.0.0
map add vpn 2 real 10.1.0.2 nat 10.153.1.0" R -gateway a save
same "gateway b's save: its own device for VPN 1, VPN 3" "pool add P 10.153.0.0/16
vpn add 1 pool P dev gb1 name acme blocks 10.153.0.0/28
vpn add 3 pool P dev xb name beta blocks 10.153.2.0/28
map add vpn 1 real 10.1.0.1 nat 10.153.0.0
map add vpn 3 real 10.1.0.3 nat 10.153.2.0" R -gateway b save
same "a gateway without placements of its own: the * ones" "pool add P 10.153.0.0/16
vpn add 1 pool P dev gv1 name acme blocks 10.153.0.0/28
map add vpn 1 real 10.1.0.1 nat 10.153.0.0" R -gateway c save
same "vpn show -gateway b" "vpn 1 name acme pool P dev gb1 mappings 1 blocks 10.153.0.0/28
vpn 3 name beta pool P dev xb mappings 1 blocks 10.153.2.0/28" R -gateway b vpn show
same "-j vpn show -gateway a" \
	'[{"vpn":1,"name":"acme","pool":"P","dev":"gv1","mappings":1,"blocks":["10.153.0.0/28"]},{"vpn":2,"name":"alpha","pool":"P","dev":"xa","mark":{"value":48,"mask":240},"mappings":1,"blocks":["10.153.1.0/28"]}]' \
	R -j -gateway a vpn show
same "map show -gateway b" "vpn 1 real 10.1.0.1 nat 10.153.0.0 pool P
vpn 3 real 10.1.0.3 nat 10.153.2.0 pool P" R -gateway b map show

# On gateway b, VPN 2 does not exist: the module's words.
refused "vpn show of a VPN not on the gateway" "no VPN 2" R -gateway b vpn show 2
refused "map add to a VPN not on the gateway" "no VPN 2" R -gateway b map add vpn 2 real 10.1.0.9
refused "map flush of a VPN not on the gateway" "no VPN 2" R -gateway b map flush vpn 2
refused "map del in a VPN not on the gateway" "no mapping for 10.1.0.2 in VPN 2" \
	R -gateway b map del vpn 2 real 10.1.0.2
refused "lookup of a NAT IP not on the gateway" "no mapping for NAT 10.153.1.0" \
	R -gateway b lookup 10.153.1.0
refused "vpn del of a placement the gateway lacks" "VPN 2 has no placement on gateway b" \
	R -gateway b vpn del 2
refused "vpn del -gateway of no VPN" "no VPN 9" R -gateway b vpn del 9
REFUSED_STATUS=2 refused "a bad gateway name" "gateway name \"a/b\" may only have letters, digits, '-', '_' and '.' (or be \"*\")" \
	R -gateway a/b save
REFUSED_STATUS=2 refused "-gateway without a store" "-gateway NAME is a region's (-store URL -region NAME)" \
	"$RNATCTL" -gateway a save
same "nothing changed by the refusals" "$(R save)" R save

# Two agents, dry: what each would apply.
start_agent() {
	"$RNATD" -store "$ETCD_URL" -region p -gateway "$1" -ttl 3 -R -dry-run \
		>"$work/$1.out" 2>"$work/$1.log" &
	pids+=($!)
}
# lag0 GW: GW's rnatd has applied the region's last change.
lag0() { R fleet status | grep -q "^gateway $1 revision [0-9]* lag 0 "; }
wait_lag0() {
	local i
	for ((i = 0; i < 100; i++)); do
		lag0 a && lag0 b && return 0
		sleep 0.1
	done
	fail "both agents caught up: $(R fleet status 2>&1)"
	return 1
}
# replay GW: what GW's module would hold: its agent's last snapshot and
# the commands after it.
replay() { python3 tests/fleet/replay.py "$work/$1.out"; }
restores() { grep -c '^restore ' "$work/$1.out"; }
maplines() { grep -E '^[0-9]+ map ' "$work/$1.out" | cut -d' ' -f2-; }
start_agent a
start_agent b
wait_lag0
same "rnatd a installs a's view" "$(R -gateway a save)" replay a
same "rnatd b installs b's view" "$(R -gateway b save)" replay b

# Mappings: each agent applies only its VPNs'.
R map add vpn 2 real 10.1.0.20 >/dev/null   # a only
R map add vpn 3 real 10.1.0.30 >/dev/null   # b only
R map add vpn 1 real 10.1.0.10 >/dev/null   # both
R map del vpn 1 real 10.1.0.1 >/dev/null    # both
wait_lag0
same "a applied the mappings of its VPNs, no more" "map add vpn 2 real 10.1.0.20 nat 10.153.1.1
map add vpn 1 real 10.1.0.10 nat 10.153.0.1
map del vpn 1 real 10.1.0.1" maplines a
same "b applied the mappings of its VPNs, no more" "map add vpn 3 real 10.1.0.30 nat 10.153.2.1
map add vpn 1 real 10.1.0.10 nat 10.153.0.1
map del vpn 1 real 10.1.0.1" maplines b
[ "$(restores a)" = 1 ] && [ "$(restores b)" = 1 ] &&
	pass "mappings applied without a resync" ||
	fail "mappings applied without a resync: $(restores a) and $(restores b) restores"
# A new block of VPN 3 (the pool is put again): b applies it as a map add
# with its block, a skips it; neither resyncs.
R map add vpn 3 real 10.1.0.31 nat 10.153.3.0 >/dev/null
wait_lag0
ra=$(restores a)
rb=$(restores b)
[ "$ra" = 1 ] && [ "$rb" = 1 ] && pass "a new block of VPN 3 (and the pool put again) resynced neither" ||
	fail "a new block of VPN 3 (and the pool put again) resynced neither: a $ra, b $rb restores"
same "b applied it with its block" "map add vpn 3 real 10.1.0.31 nat 10.153.3.0 block 10.153.3.0/32" \
	sh -c "grep -E '^[0-9]+ map ' $work/b.out | tail -n 1 | cut -d' ' -f2-"
same "b's agent has b's view with the block" "$(R -gateway b save)" replay b

# A placement change for b: a untouched; b applies it as VPN commands.
R -gateway b vpn set 1 dev gb2 >/dev/null
R -gateway b vpn add 4 pool P dev xb4 >/dev/null
R -gateway b vpn del 3 >/dev/null
wait_lag0
[ "$(restores a)" = "$ra" ] && pass "b's placements changed: a neither applied nor resynced" ||
	fail "b's placements changed: a resynced ($(restores a) restores, was $ra)"
same "b applied them as vpn set, add and del, without a resync" "$rb
vpn set 1 name acme dev gb2 mark none out-mark none
vpn add 4 pool P name vpn4 dev xb4
vpn del 3" sh -c "grep -c '^restore ' '$work/b.out'; grep -E '^[0-9]+ vpn ' '$work/b.out' | cut -d' ' -f2-"
same "b's agent has b's new view" "$(R -gateway b save)" replay b
grep -q '^skip: revision [0-9]*: nothing of this gateway' "$work/a.log" &&
	pass "a logs the revisions it skipped" || fail "a logs the revisions it skipped"
# A placement for a: applied there, b untouched.
R -gateway a vpn set 2 mark 0x40/0xf0 >/dev/null
R vpn set 1 name acme2 >/dev/null             # region-wide: both
R pool add Q 10.170.0.0/24 >/dev/null         # both
R vpn add 5 pool Q dev gv5 >/dev/null         # every gateway: both
R vpn del 5 >/dev/null
R pool del Q >/dev/null
wait_lag0
same "a applied its placement, the rename, the pool and VPN 5 as commands" "vpn set 2 name alpha dev xa mark 0x40/0xf0 out-mark none
vpn set 1 name acme2 dev gv1 mark none out-mark none
pool add Q 10.170.0.0/24
vpn add 5 pool Q name vpn5 dev gv5
vpn del 5
pool del Q" sh -c "grep -E '^[0-9]+ (vpn|pool) ' '$work/a.out' | cut -d' ' -f2-"
same "b applied the rename, the pool and VPN 5, not a's placement" "vpn set 1 name acme2 dev gb2 mark none out-mark none
pool add Q 10.170.0.0/24
vpn add 5 pool Q name vpn5 dev gv5
vpn del 5
pool del Q" sh -c "grep -E '^[0-9]+ (vpn|pool) ' '$work/b.out' | cut -d' ' -f2- | tail -n +4"
[ "$(restores a)" = "$ra" ] && [ "$(restores b)" = "$rb" ] &&
	pass "no resync for any of them" ||
	fail "no resync for any of them ($ra -> $(restores a), $rb -> $(restores b))"
same "a's agent has a's view" "$(R -gateway a save)" replay a
same "b's agent has b's view" "$(R -gateway b save)" replay b
# A VPN deleted with its mappings: one vpn del. An existing VPN placed on
# a gateway anew: its vpn add with its blocks, then its mappings, read
# alone, no resync.
R -gateway a vpn set 3 dev xa3 >/dev/null
R vpn del 2 >/dev/null
wait_lag0
[ "$(restores a)" = "$ra" ] && [ "$(restores b)" = "$rb" ] &&
	pass "VPN 3 placed on a: no resync" ||
	fail "VPN 3 placed on a: no resync ($ra -> $(restores a), $rb -> $(restores b))"
same "a applied VPN 3 with its blocks and mappings" "vpn add 3 pool P name beta dev xa3 blocks 10.153.2.0/28,10.153.3.0/32
map add vpn 3 real 10.1.0.3 nat 10.153.2.0
map add vpn 3 real 10.1.0.30 nat 10.153.2.1
map add vpn 3 real 10.1.0.31 nat 10.153.3.0" \
	sh -c "grep -E '^[0-9]+ (vpn add|map add vpn) 3 ' '$work/a.out' | cut -d' ' -f2-"
[ "$(grep -E '^[0-9]+ vpn del 2$' "$work/a.out" | wc -l)" = 1 ] &&
	pass "VPN 2 deleted with its mappings: one vpn del on a" ||
	fail "VPN 2 deleted with its mappings: one vpn del on a"
same "a's agent has a's view" "$(R -gateway a save)" replay a
same "b's agent has b's view" "$(R -gateway b save)" replay b
# A new name alone is the region's: it places the VPN nowhere new.
R -gateway a vpn add 7 pool P dev xa7 name seven >/dev/null
R vpn set 7 name seven2 >/dev/null
same "a rename of a VPN placed on a only makes no * placement" \
	'{"name":"seven2","pool":"P","placement":{"a":{"dev":"xa7"}}}' \
	sh -c "ETCDCTL_API=3 etcdctl --endpoints '$ETCD_URL' get --print-value-only /rnat/v1/p/vpns/0000000007"
refused "a rename through a gateway the VPN is not on" "no VPN 7" \
	R -gateway b vpn set 7 name seven3
wait_lag0
same "a's agent has a's view" "$(R -gateway a save)" replay a
same "b's agent has b's view" "$(R -gateway b save)" replay b
# A VPN made with blocks: one vpn add with them on both, no resync; on a
# only, when placed on a only.
ra=$(restores a)
rb=$(restores b)
R vpn add 6 pool P dev gv6 blocks 10.153.9.0/28,10.153.9.32/27 >/dev/null
R -gateway a vpn add 8 pool P dev xa8 blocks 10.153.10.0/30 >/dev/null
wait_lag0
[ "$(restores a)" = "$ra" ] && [ "$(restores b)" = "$rb" ] &&
	pass "VPNs made with blocks: no resync" ||
	fail "VPNs made with blocks: no resync ($ra -> $(restores a), $rb -> $(restores b))"
same "a applied them as vpn add with their blocks" "vpn add 6 pool P name vpn6 dev gv6 blocks 10.153.9.0/28,10.153.9.32/27
vpn add 8 pool P name vpn8 dev xa8 blocks 10.153.10.0/30" \
	sh -c "grep -E '^[0-9]+ vpn add [68] ' '$work/a.out' | cut -d' ' -f2-"
same "b applied VPN 6's, not VPN 8" "vpn add 6 pool P name vpn6 dev gv6 blocks 10.153.9.0/28,10.153.9.32/27" \
	sh -c "grep -E '^[0-9]+ vpn add [68] ' '$work/b.out' | cut -d' ' -f2-"
same "a's agent has a's view" "$(R -gateway a save)" replay a
same "b's agent has b's view" "$(R -gateway b save)" replay b
if [ "$failed" != 0 ]; then
	echo "# rnatd a:"; sed 's/^/#   /' "$work/a.log" "$work/a.out"
	echo "# rnatd b:"; sed 's/^/#   /' "$work/b.log" "$work/b.out"
fi
exit "$failed"
