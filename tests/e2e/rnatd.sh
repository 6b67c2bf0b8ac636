#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatd against the module: a region in etcd (one member started here) is
# populated with rnatctl --store, rnatd applies it to namespace gw's module,
# then changes in the region (mappings added and deleted: applied one by
# one, blocks made, merged and freed with them; a VPN added, one added with
# its blocks, one renamed, a pool added and deleted: one command each; a
# VPN placed here anew: its own keys read; a flush: its mappings deleted)
# must reach the module: `rnatctl -n gw save` converges to gateway gw1's
# `save` of the region each time (the times are printed). rnatd killed -9,
# the region changed, rnatd started again: it catches up; the same with an
# etcd compaction of everything while it was stopped. etcd killed: the
# module keeps its state (fail static), rnatd retries and catches up once
# etcd is back. fleet
# status shows the gateway at lag 0; SIGTERM revokes its lease (its status
# key goes at once).
#
# Usage: tests/e2e/rnatd.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/fleet/etcd.sh

MODULE=${1:?usage: rnatd.sh MODULE.ko}
RNATD=${RNATD:-$PWD/tools/rnatd}
NS=gw
work=$(mktemp -d)
RNATD_PID=
stop_rnatd() {
	[ -n "$RNATD_PID" ] || return 0
	kill "-${1:-TERM}" "$RNATD_PID" 2>/dev/null
	wait "$RNATD_PID" 2>/dev/null
	RNATD_PID=
}
cleanup() { stop_rnatd KILL; etcd_stop; ns_del "$NS"; rm -rf "$work"; }
trap cleanup EXIT

kern() { "$RNATCTL" -R -n "$NS" "$@"; }
region() { "$RNATCTL" -store "$ETCD_URL" -region vm "$@"; }
# shellcheck disable=SC2317 # called through converge "$@"
start_rnatd() {
	"$RNATD" -store "$ETCD_URL" -region vm -gateway gw1 -n "$NS" \
		>>"$work/rnatd.log" 2>&1 &
	RNATD_PID=$!
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# converge NAME COMMAND...: runs COMMAND (changes to the region, or
# starting rnatd), then waits for the module's save to change and to be the
# region's, within 60 s: prints the time from COMMAND's end to the
# module's first change (polled every 50 ms, a save taking some 10 ms).
converge() {
	local name=$1 before t0 t1='' want got i
	shift
	before=$(kern save 2>&1)
	if ! "$@" >/dev/null; then
		fail "$name: $*"
		return 1
	fi
	t0=$(ms)
	for ((i = 0; i < 1200; i++)); do
		got=$(kern save 2>&1)
		if [ "$got" != "$before" ]; then
			t1=$(($(ms) - t0))
			break
		fi
		sleep 0.05
	done
	want=$(region -gateway gw1 save)
	for ((i = 0; i < 600; i++)); do
		if [ "$got" = "$want" ]; then
			pass "$name: the module's save is the region's ($(echo "$want" | wc -l) lines), changed ${t1:+$t1 ms }after the command"
			[ -n "$t1" ] && times+=("$t1")
			return 0
		fi
		sleep 0.1
		got=$(kern save 2>&1)
	done
	fail "$name: the module's save is the region's"
	diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/#   /'
	tail -n 5 "$work/rnatd.log" | sed 's/^/#   rnatd: /'
	return 1
}
times=()

# status_current NAME: fleet status shows gw1 at lag 0 without error.
status_current() {
	local s i
	for ((i = 0; i < 100; i++)); do
		s=$(region fleet status 2>&1)
		if [[ $s == "gateway gw1 revision "*" lag 0 time "* && $s != *error* ]]; then
			pass "$1: fleet status: ${s%% time *}"
			return 0
		fi
		sleep 0.1
	done
	fail "$1: fleet status shows gw1 up to date"
	echo "#   $s"
}

wait_etcd() {
	local i
	for ((i = 0; i < 100; i++)); do
		ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" endpoint health \
			>/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# store_rev: the store's revision now.
store_rev() {
	ETCDCTL_API=3 etcdctl --command-timeout=60s --endpoints "$ETCD_URL" get /rnat -w json --limit 1 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])'
}

expect "insmod rnat" insmod "$MODULE"
ip netns add "$NS"
for d in gv1 gv2 gv3 gv4 gv5 gv6; do
	n "$NS" ip link add "$d" type dummy
	n "$NS" ip link set "$d" up
done
if etcd_start 1; then
	pass "etcd member up ($ETCD_URL)"
else
	fail "etcd member up"
	exit 1
fi

{
	echo "pool add EAST 10.153.0.0/16 10.157.0.0/24"
	echo "pool add WEST 10.160.0.0/16"
	echo "vpn add 1 pool EAST dev gv1 name acme"
	echo "vpn add 2 pool EAST dev gv2 name globex mark 0x30/0xf0"
	echo "vpn add 3 pool WEST dev gv3"
	for i in $(seq 1 30); do
		echo "map add vpn $((i % 3 + 1)) real 10.1.0.$i"
	done
	echo "map add vpn 3 real 10.3.0.0/28"
	echo "map add vpn 1 real 10.2.0.1 nat 10.153.5.0"
} >"$work/populate"
expect "populate the region (rnatctl --store -b)" region -b "$work/populate"

t0=$(ms)
converge "start (snapshot and one restore)" start_rnatd
status_current "start"

# Mappings in existing blocks: applied one by one (no resync).
resyncs=$(grep -c '^resync: revision' "$work/rnatd.log")
converge "map add" region map add vpn 1 real 10.1.1.1
# (10.1.0.28 is in VPN 2's /29 with others: no block is freed.)
converge "map del" region map del vpn 2 real 10.1.0.28
printf 'map add vpn 1 real 10.1.1.%d\n' 2 3 4 5 >"$work/b"
printf 'map del vpn 3 real 10.1.0.%d\n' 20 23 26 >>"$work/b"
converge "a batch of 4 map adds and 3 map dels" region -b "$work/b"
expect_eq "those mapping changes needed no resync" "$resyncs" \
	"$(grep -c '^resync: revision' "$work/rnatd.log")"
if grep -q '^maps: revision .* applied: 1 added' "$work/rnatd.log"; then
	pass "rnatd logged mappings applied one by one"
else
	fail "rnatd logged mappings applied one by one"
fi

# VPN and pool changes (one vpn or pool command each), blocks made, merged
# and freed (map add ... block, map del), a flush, a VPN made with its
# blocks, one placed here anew (made on gateway "other"): none resyncs.
resyncs=$(grep -c '^resync: revision' "$work/rnatd.log")
converge "vpn add" region vpn add 4 pool WEST dev gv4 name initech
converge "its first mapping (a new block)" region map add vpn 4 real 10.4.0.1
printf 'map add vpn 4 real 10.4.0.%d\n' $(seq 2 9) >"$work/b4"
converge "8 more mappings of VPN 4 (its blocks grow and merge)" region -b "$work/b4"
printf 'map del vpn 4 real 10.4.0.%d\n' $(seq 1 9) >"$work/d4"
converge "VPN 4's mappings deleted (its blocks freed)" region -b "$work/d4"
converge "pool add" region pool add SOUTH 10.170.0.0/24
converge "pool del" region pool del SOUTH
converge "vpn set" region vpn set 2 name globex2
converge "map flush" region map flush vpn 3
converge "vpn add with its blocks" region vpn add 5 pool WEST dev gv5 \
	blocks 10.160.5.0/30,10.160.6.0/28
converge "a mapping in one of them" region map add vpn 5 real 10.5.0.1
region -gateway other vpn add 6 pool WEST blocks 10.160.7.0/30 >/dev/null
region -gateway other map add vpn 6 real 10.6.0.1 >/dev/null
converge "VPN 6 with a mapping, placed on gw1 anew" \
	region -gateway gw1 vpn set 6 dev gv6
expect_eq "none of those needed a resync" "$resyncs" \
	"$(grep -c '^resync: revision' "$work/rnatd.log")"
status_current "after the changes"

# kill -9, changes, start again: it catches up.
stop_rnatd KILL
region map add vpn 1 real 10.1.2.1 >/dev/null
region vpn del 4 >/dev/null
region map add vpn 2 real 10.1.2.2 >/dev/null
converge "restart after kill -9 and 3 changes" start_rnatd
status_current "after the restart"

# Stopped; changes; everything compacted away; started: resyncs.
stop_rnatd KILL
region map add vpn 3 real 10.1.3.1 >/dev/null
region map del vpn 1 real 10.1.1.2 >/dev/null
rev=$(store_rev)
if ETCDCTL_API=3 etcdctl --command-timeout=60s --endpoints "$ETCD_URL" compact "$rev" >/dev/null; then
	pass "etcd compacted at revision $rev"
else
	fail "etcd compacted at revision $rev"
fi
converge "restart after a compaction" start_rnatd
converge "map add after the compaction" region map add vpn 1 real 10.1.3.2
status_current "after the compaction"

# Fail static: etcd killed, the module keeps its state and rnatd retries;
# etcd started again on its data: rnatd resyncs and follows changes.
epid=${ETCD_PIDS[0]}
mapfile -d '' eargs <"/proc/$epid/cmdline"
before=$(kern save)
kill -9 "$epid"
wait "$epid" 2>/dev/null
sleep 4
expect_eq "etcd down: the module keeps its state" "$before" "$(kern save)"
if kill -0 "$RNATD_PID" 2>/dev/null && grep -q '^retry: in' "$work/rnatd.log"; then
	pass "etcd down: rnatd runs on and retries"
else
	fail "etcd down: rnatd runs on and retries"
fi
"${eargs[@]}" >>"$ETCD_DIR/m0.log" 2>&1 &
ETCD_PIDS=($!)
if wait_etcd; then
	pass "etcd started again on its data"
else
	fail "etcd started again on its data"
fi
converge "etcd back: a map add" region map add vpn 2 real 10.1.4.1
status_current "etcd back"

# SIGTERM: the lease is revoked, the status key goes at once.
stop_rnatd TERM
expect_eq "SIGTERM: rnatd revoked its lease (fleet status is empty)" "" \
	"$(region fleet status 2>&1)"
if grep -q '^stop: lease .* revoked' "$work/rnatd.log"; then
	pass "rnatd logged its stop"
else
	fail "rnatd logged its stop"
fi
echo "# rnatd: module changed after ${times[*]} ms (each change; from the command's end); run $(($(ms) - t0)) ms; its log:"
sed 's/^/#   /' "$work/rnatd.log"

cleanup
trap - EXIT
unload_rnat
exit "$E2E_FAILED"
