#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatctl against the live module: every bad input fails with the expected
# exit status and message and leaves the state exactly as it was.
#
# Usage: tests/e2e/cli.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: cli.sh MODULE.ko}
NS=cli
cli_setup "$MODULE" wg1 wg2 wg3
expect "setup" rnat -b - <<'BATCH'
pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
pool add AWS_CAN_CENTRAL 10.160.0.0/16
pool add TINY 192.0.2.0/30
vpn add 1 pool AWS_USA_EAST_1 dev wg1 name acme
vpn add 2 pool TINY dev wg2
vpn add 3 pool AWS_USA_EAST_1 dev wg3
map add vpn 1 real 10.1.0.0 nat 10.162.0.0
map add vpn 2 real 10.1.0.0
map add vpn 2 real 10.1.0.1
map add vpn 2 real 10.1.0.2
map add vpn 2 real 10.1.0.3
BATCH

# bad STATUS 'MESSAGE' ARGS...: fails with STATUS, prints MESSAGE (a
# substring), and changes nothing.
bad() {
	local status=$1 msg=$2 before after out rc
	shift 2
	before=$(state)
	out=$(rnat "$@" 2>&1)
	rc=$?
	after=$(state)
	if [[ $rc == "$status" && $out == *"$msg"* && $before == "$after" ]]; then
		pass "rejects: $*"
	else
		fail "rejects: $*"
		echo "#   want exit $status and '$msg', got exit $rc: $out"
		[[ $before == "$after" ]] || echo "#   and the state changed"
	fi
}

# Usage errors: exit 2, nothing sent.
bad 2 'unknown object' frobnicate
bad 2 'unknown' pool frob
bad 2 'not an IPv4' map add vpn 1 real 10.1.0
bad 2 'not an IPv4' map add vpn 1 real 10.1.0.256
bad 2 'host bits' map add vpn 1 real 10.1.0.1/24
bad 2 'prefix length' map add vpn 1 real 10.1.0.0/33
bad 2 'prefix length' map add vpn 1 real 10.0.0.0/8
bad 2 'prefix length' pool add X 10.0.0.0/7
bad 2 'VPN id' vpn add 0 pool TINY dev wg1
bad 2 'VPN id' vpn add 2147483648 pool TINY dev wg1
bad 2 'VPN id' map add vpn -1 real 10.1.0.9
bad 2 'name' pool add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10.170.0.0/16
bad 2 'name' vpn add 9 pool TINY dev wg1 name bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
bad 2 'pool add' pool add ONLYNAME
bad 2 '192.0.2.0/33' vpn add 9 pool TINY blocks 192.0.2.0/33
bad 1 'overlaps block 192.0.2.0/30 of VPN 2' vpn add 9 pool TINY blocks 192.0.2.2/31
bad 1 'not a prefix of pool TINY' vpn add 9 pool TINY blocks 10.153.0.0/30
bad 2 '' map add vpn 1
bad 2 '' map add real 10.1.0.9
bad 2 '' map del vpn 1
bad 2 '' lookup
bad 2 '' lookup 10.1.0.0 vpn
bad 2 '' map add vpn 1 real 10.1.0.9 nat
bad 2 '' map add vpn 1 real 10.1.0.9 bogus 1
# The kernel's refusals: exit 1 with its message.
bad 1 'no device' vpn add 9 pool TINY dev nosuchdev
bad 1 'already exists' pool add TINY 10.170.0.0/16
bad 1 'overlaps' pool add OTHER 10.162.128.0/17
bad 1 'AWS_USA_EAST_1' pool add OTHER 10.153.0.0/24
bad 1 'already exists' vpn add 1 pool TINY dev wg2
bad 1 'no pool' vpn add 9 pool NOPE dev wg1
bad 1 'already mapped' map add vpn 1 real 10.1.0.0
bad 1 'to 10.1.0.0 in VPN 1' map add vpn 3 real 10.9.0.0 nat 10.162.0.0
bad 1 'but in AWS_USA_EAST_1' map add vpn 2 real 10.9.0.0 nat 10.162.0.5
bad 1 'not in pool' map add vpn 1 real 10.9.0.0 nat 10.160.0.5
bad 1 'TINY' map add vpn 2 real 10.9.0.0
bad 1 'no VPN' map add vpn 77 real 10.9.0.0
bad 1 'no VPN' vpn del 77
bad 1 'no pool' pool del NOPE
bad 1 'used by' pool del TINY
bad 1 'no mapping' map del nat 10.155.9.9
bad 1 'no mapping' lookup 10.155.9.9
bad 1 'no mapping' lookup 10.1.0.0 vpn 77

# Batch mode names the failing line and stops there.
out=$(printf 'pool show\nmap add vpn 1 real 10.5.0.0\nmap add vpn 1 real 10.5.0.0/99\nmap add vpn 1 real 10.6.0.0\n' |
	rnat -b - 2>&1 >/dev/null)
expect_eq "batch reports the failing line" "yes" \
	"$([[ $out == *"line 3"* ]] && echo yes || echo "no: $out")"
expect_fail "batch stopped at the failing line" rnat lookup 10.6.0.0 vpn 1

# JSON is valid for every kind of answer.
for cmd in "pool show" "vpn show" "map show" "lookup 10.162.0.0" "vpn show 1"; do
	expect "-j $cmd is JSON" bash -c "$RNATCTL -n $NS -j $cmd | python3 -m json.tool"
done

# Reading is open to everyone, changing needs CAP_NET_ADMIN over the
# namespace; another namespace sees nothing of this one's state.
nobody() { n "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all "$RNATCTL" "$@"; }
expect_eq "an unprivileged user can show and look up" "$(rnat map show | head -n 1) 10.162.0.0 is vpn 1 (acme) real 10.1.0.0" \
	"$(nobody map show | head -n 1) $(nobody lookup 10.162.0.0)"
for cmd in "pool add X 10.99.0.0/16" "pool del TINY" "vpn add 7 pool TINY" \
	"vpn set 1 name x" "vpn del 1" "map add vpn 1 real 10.7.0.0" \
	"map del nat 10.162.0.0"; do
	before=$(state)
	out=$(nobody $cmd 2>&1)
	rc=$?
	expect_eq "unprivileged '$cmd' fails with EPERM, changes nothing" \
		"1 Error: Operation not permitted" "$rc $out$(state | diff - <(echo "$before"))"
done
ip netns add cli-other
expect_eq "another namespace sees no pool, VPN or mapping" "" \
	"$("$RNATCTL" -n cli-other pool show; "$RNATCTL" -n cli-other vpn show; "$RNATCTL" -n cli-other map show)"
ip netns del cli-other

# annotate follows every NAT IP it knows with its VPN and real address.
nat2=$(rnat lookup 10.1.0.1 vpn 2 | awk '{ print $NF }')
expect_eq "annotate follows NAT IPs with [NAME REAL], leaves the rest" \
	"x $nat2 [vpn2 10.1.0.1] 10.162.0.0:80 [acme 10.1.0.0], 10.162.0.9 1.10.162.0.0" \
	"$(printf 'x %s 10.162.0.0:80, 10.162.0.9 1.10.162.0.0' "$nat2" | rnat annotate)"
expect_eq "the issue's example" "connect ECONNREFUSED 10.162.0.0 [acme 10.1.0.0]" \
	"$(echo 'connect ECONNREFUSED 10.162.0.0' | rnat annotate)"

# monitor prints every change as the command that makes it, in order.
rnat monitor >"$TMPDIR/events" 2>&1 &
mon=$!
rnat -j monitor >"$TMPDIR/events.json" 2>&1 &
monj=$!
sleep 1
rnat -b - >/dev/null <<'BATCH'
pool add EVENTS 10.170.0.0/24
vpn add 9 pool EVENTS name evt
map add vpn 9 real 10.1.0.0/30
vpn set 9 name evt2
map del vpn 9 real 10.1.0.0/30
vpn del 9
pool del EVENTS
BATCH
# Deleting a VPN takes its mappings and says how many.
expect_eq "vpn del 2 reports its 4 mappings" \
	"deleted vpn 2 and its 4 mappings" "$(rnat vpn del 2)"
expect "the TINY pool is free again" bash -c "$RNATCTL -n $NS pool show TINY | grep -q 'used 0'"
sleep 1
kill "$mon" "$monj"
wait "$mon" "$monj" 2>/dev/null
expect_eq "monitor saw every change, in order" \
	"pool add EVENTS 10.170.0.0/24
vpn add 9 pool EVENTS name evt
map add vpn 9 real 10.1.0.0/30 nat 10.170.0.0/30
vpn set 9 dev none mark none out-mark none name evt2
map del vpn 9 real 10.1.0.0/30 # nat 10.170.0.0/30
vpn del 9 # and its 0 mappings
pool del EVENTS
vpn del 2 # and its 4 mappings" "$(cat "$TMPDIR/events")"
expect "monitor -j prints one JSON object per event" bash -c \
	"[ \$(wc -l <$TMPDIR/events.json) = 8 ] && python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin]' <$TMPDIR/events.json"

# save prints the state as commands; replayed after a module reload they
# give the same state (blocks included), so save prints the same again.
rnat map add vpn 3 real 10.3.0.0/24 >/dev/null
rnat map add vpn 3 real 10.3.1.1 >/dev/null
rnat map del vpn 3 real 10.3.0.0/24
rnat save >"$TMPDIR/saved"
expect "save is valid JSON with -j" bash -c "$RNATCTL -n $NS -j save | python3 -m json.tool"
expect "vpn 3's blocks are saved" grep -q '^vpn add 3 pool AWS_USA_EAST_1 dev wg3 name vpn3 blocks ' "$TMPDIR/saved"
ns_del "$NS"
expect "rmmod rnat (for a reload)" unload_rnat
expect "insmod rnat again" insmod "$MODULE"
ip netns add "$NS"
for d in wg1 wg3; do
	n "$NS" ip link add "$d" type dummy
	n "$NS" ip link set "$d" up
done
expect "rnatctl -b replays the saved state" rnat -b "$TMPDIR/saved"
expect_eq "save after the replay prints the same" "$(cat "$TMPDIR/saved")" "$(rnat save)"

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
