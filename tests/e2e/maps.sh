#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The mapping commands beyond add and del, against the live module: show's
# filters (each compared with the same filter applied by hand to the whole
# table, across a dump of many messages), replace (moving a NAT IP, taking
# one over, no-ops, refusals, the events it sends), flush, and the strict
# per-command policies (tests/e2e/policy.py sends what rnatctl never would).
#
# Usage: tests/e2e/maps.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: maps.sh MODULE.ko}
NS=maps
cli_setup "$MODULE" wg1 wg2 wg3
{
	echo "pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16"
	echo "pool add AWS_CAN_CENTRAL 10.160.0.0/16"
	echo "pool add P 192.0.2.0/24"
	echo "vpn add 1 pool AWS_USA_EAST_1 dev wg1"
	echo "vpn add 2 pool AWS_USA_EAST_1 dev wg2"
	echo "vpn add 3 pool AWS_CAN_CENTRAL dev wg3"
	echo "map add vpn 1 real 10.2.0.0/24"
	for i in $(seq 0 1499); do
		echo "map add vpn $((1 + i % 3)) real 10.$((1 + i / 256)).$((i % 256)).0"
	done
	echo "map add vpn 2 real 10.1.0.7 nat 10.162.0.7"
} >"$TMPDIR/setup"
expect "setup: 1,502 mappings over 3 VPNs" rnat -R -b "$TMPDIR/setup"

# The same filter by hand: keeps the "map show" lines whose fields match.
# Args: VPN POOL NAT-PREFIX REAL-PREFIX ("-" for any).
by_hand() {
	python3 -c '
import ipaddress, sys
vpn, pool, nat, real = sys.argv[1:]
for line in sys.stdin:
    f = line.split()
    d = dict(zip(f[0::2], f[1::2]))
    if vpn != "-" and d["vpn"] != vpn: continue
    if pool != "-" and d["pool"] != pool: continue
    if nat != "-" and not ipaddress.ip_network(d["nat"]).subnet_of(ipaddress.ip_network(nat)): continue
    if real != "-" and not ipaddress.ip_network(d["real"]).subnet_of(ipaddress.ip_network(real)): continue
    print(line, end="")
' "$@"
}
rnat map show >"$TMPDIR/all"
expect_eq "map show lists every mapping once" "1502 1502" \
	"$(wc -l <"$TMPDIR/all") $(sort -u "$TMPDIR/all" | wc -l)"

# filter WORDS... / VPN POOL NAT REAL: the kernel's answer is the hand's.
filter() {
	local words=$1 want got
	shift
	want=$(by_hand "$@" <"$TMPDIR/all")
	got=$(rnat map show $words)
	if [[ -n $want && $got == "$want" ]]; then
		pass "map show $words: the $(wc -l <<<"$want") mappings it should, in NAT order"
	else
		fail "map show $words"
		diff <(echo "$want") <(echo "$got") | head -n 5 | sed 's/^/#   /'
	fi
}
filter "vpn 2" 2 - - -
filter "pool AWS_CAN_CENTRAL" - AWS_CAN_CENTRAL - -
filter "nat 10.153.0.0/24" - - 10.153.0.0/24 -
filter "nat 10.162.0.0/16" - - 10.162.0.0/16 -
filter "real 10.3.0.0/16" - - - 10.3.0.0/16
filter "real 10.2.0.0/23" - - - 10.2.0.0/23
filter "vpn 1 real 10.4.0.0/16" 1 - - 10.4.0.0/16
filter "vpn 3 pool AWS_CAN_CENTRAL nat 10.160.1.0/24" 3 AWS_CAN_CENTRAL 10.160.1.0/24 -
expect_eq "a VPN's mappings are not in another pool" "" "$(rnat map show vpn 1 pool AWS_CAN_CENTRAL)"
expect_eq "a VPN or pool that does not exist has no mappings" "" \
	"$(rnat map show vpn 77; rnat map show pool NOPE)"
expect "map show with filters is valid JSON" bash -c \
	"$RNATCTL -n $NS -j map show vpn 2 real 10.1.0.0/16 | python3 -m json.tool"

# Replace: the real address gets another NAT IP, the old one is free.
rnat monitor >"$TMPDIR/events" 2>&1 &
mon=$!
sleep 1
old=$(rnat lookup 10.1.0.0 vpn 1 | awk '{ print $NF }')
expect_eq "map replace gives 10.1.0.0 another NAT IP" \
	"vpn 1 real 10.1.0.0 nat 10.162.0.9 pool AWS_USA_EAST_1" \
	"$(rnat map replace vpn 1 real 10.1.0.0 nat 10.162.0.9)"
expect_eq "the new NAT IP stands for it" "10.162.0.9 is vpn 1 (vpn1) real 10.1.0.0" \
	"$(rnat lookup 10.162.0.9)"
expect_fail "the old NAT IP $old stands for nothing" rnat lookup "$old"
# A host renumbered from 10.1.0.0 to 10.1.9.9 keeps its NAT IP.
expect "map replace gives the NAT IP to another real address" \
	rnat map replace vpn 1 real 10.1.9.9 nat 10.162.0.9
expect_eq "10.162.0.9 now stands for 10.1.9.9" "10.162.0.9 is vpn 1 (vpn1) real 10.1.9.9" \
	"$(rnat lookup 10.162.0.9)"
expect_fail "10.1.0.0 is no longer mapped in vpn 1" rnat lookup 10.1.0.0 vpn 1
before=$(state)
expect_eq "a replace that changes nothing says the mapping" \
	"vpn 1 real 10.1.9.9 nat 10.162.0.9 pool AWS_USA_EAST_1" \
	"$(rnat map replace vpn 1 real 10.1.9.9 nat 10.162.0.9)"
expect "without nat, a replace keeps the mapping there is" \
	rnat map replace vpn 1 real 10.1.9.9
expect_eq "...and the state is unchanged" "$before" "$(state)"
before=$(state)
out=$(rnat map replace vpn 2 real 10.1.0.1 nat 10.162.0.9 2>&1)
expect_eq "another VPN's NAT IP cannot be taken, nothing changes" \
	"1 Error: NAT 10.162.0.9 is already mapped to 10.1.9.9 in VPN 1 same" \
	"$? $out $([[ $before == "$(state)" ]] && echo same)"
out=$(rnat map replace vpn 2 real 10.1.0.1 nat 10.160.0.1 2>&1)
expect_eq "a NAT IP outside the VPN's pool is refused, nothing changes" \
	"1 Error: NAT 10.160.0.1/32 is not in pool AWS_USA_EAST_1 but in AWS_CAN_CENTRAL same" \
	"$? $out $([[ $before == "$(state)" ]] && echo same)"
expect "without nat, a replace adds what is missing" \
	rnat map replace vpn 2 real 10.99.0.0
sleep 1
kill "$mon"
wait "$mon" 2>/dev/null
expect_eq "replace announces the mappings it replaced, then the new one" \
	"map del vpn 1 real 10.1.0.0 # nat $old
map replace vpn 1 real 10.1.0.0 nat 10.162.0.9
map del vpn 1 real 10.1.0.0 # nat 10.162.0.9
map replace vpn 1 real 10.1.9.9 nat 10.162.0.9
map add vpn 2 real 10.99.0.0 nat $(rnat lookup 10.99.0.0 vpn 2 | awk '{ print $NF }')" \
	"$(cat "$TMPDIR/events")"

# Flush: one VPN's mappings and blocks go, the VPN and the others stay.
n1=$(rnat map show vpn 1 | wc -l)
others=$(rnat map show vpn 2; rnat map show vpn 3)
expect_eq "map flush says how many mappings went" "flushed $n1 mappings of vpn 1" \
	"$(rnat map flush vpn 1)"
expect_eq "vpn 1 stays, with no mapping and no block" "vpn 1 mappings 0 blocks" \
	"$(rnat -j vpn show 1 | python3 -c 'import json, sys; v = json.load(sys.stdin); v = v[0] if isinstance(v, list) else v; print("vpn", v["vpn"], "mappings", v["mappings"], "blocks", *v.get("blocks", []))')"
expect_eq "the other VPNs' mappings are untouched" "$others" \
	"$(rnat map show vpn 2; rnat map show vpn 3)"
expect_eq "vpn 1's NAT IPs stand for nothing" "$(($(wc -l <<<"$others")))" \
	"$(rnat map show | wc -l)"
expect_eq "flushing again flushes nothing" "flushed 0 mappings of vpn 1" \
	"$(rnat map flush vpn 1)"
out=$(rnat map flush vpn 77 2>&1)
expect_eq "flushing a VPN that does not exist fails" "1 Error: no VPN 77" "$? $out"
out=$(n "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all "$RNATCTL" map flush vpn 2 2>&1)
expect_eq "an unprivileged flush fails with EPERM" "1 Error: Operation not permitted" "$? $out"

# A NAT IP given with its new block (what rnatd gives): the whole block is
# the VPN's and the next automatic NAT IP comes from it; a block that does
# not hold the NAT IP, or one of another VPN's, is refused, changing nothing.
expect_eq "map add ... block: the NAT IP, in a new /29" \
	"vpn 1 real 10.1.7.1 nat 10.162.7.8 pool AWS_USA_EAST_1" \
	"$(rnat map add vpn 1 real 10.1.7.1 nat 10.162.7.8 block 10.162.7.8/29)"
expect_eq "... which is vpn 1's block" "10.162.7.8/29" \
	"$(rnat vpn show 1 | tr ' ' '\n' | grep -x '10.162.7.8/29')"
before=$(state)
out=$(rnat map add vpn 1 real 10.1.7.2 nat 10.162.7.32 block 10.162.7.0/29 2>&1)
expect_eq "a block that does not hold the NAT IP is refused" \
	"1 Error: block 10.162.7.0/29 does not hold 10.162.7.32/32" "$? $out"
out=$(rnat map add vpn 2 real 10.1.7.2 nat 10.162.7.32 block 10.162.7.0/26 2>&1)
expect_eq "a block over another VPN's is refused" \
	"1 Error: block 10.162.7.0/26 overlaps block 10.162.7.8/29 of VPN 1" "$? $out"
out=$(rnat map add vpn 1 real 10.1.7.2 nat 10.162.7.9 block 10.162.7.8/29 2>&1)
expect_eq "a NAT IP already in one of the VPN's blocks takes no block" \
	"1 Error: NAT 10.162.7.9 is already in block 10.162.7.8/29 of VPN 1" "$? $out"
out=$(rnat map add vpn 1 real 10.1.7.2 block 10.162.7.8/29 2>&1)
expect_eq "a block without nat is a usage error" \
	"2 Error: map add: \"block\" needs \"nat ADDR\"" "$? $out"
expect_eq "... and nothing changed" "$before" "$(state)"
rnat map del vpn 1 real 10.1.7.1 >/dev/null
expect_eq "the block goes with its last mapping" "" \
	"$(rnat vpn show 1 | tr ' ' '\n' | grep -x '10.162.7.8/29')"

# What rnatctl never sends: the kernel's own refusals.
n "$NS" python3 tests/e2e/policy.py || E2E_FAILED=1

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
