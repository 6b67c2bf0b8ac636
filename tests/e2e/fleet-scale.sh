#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatd at scale against the module (issue 11). A region of VPNS VPNs x PER
# mappings is written straight into an etcd member started here
# (tests/fleet/populate.py: rnatctl clients would take hours in a TCG
# guest), or, given DIR (made on the host by tests/fleet/snapshot.sh), the
# member starts from DIR/region.db, the same region (populate.py in the
# guest wrote 2,000 in 19.6 s: some 16 min for 10^5), the start's expected save is
# DIR/gw1.save, and rnatctl and rnatd are DIR's, built with a 120 s request
# timeout; then rnatd for namespace gw: its start (one snapshot read, one
# atomic restore into the module) is timed, and the module's save must be
# gateway gw1's save of the region, byte for byte. Then a client adds and
# deletes mappings in blocks with free room (no block made or freed, so no
# resync): once with rnatd following live, once as a backlog (rnatd stopped
# with SIGSTOP while the client works, then continued). rnatd's own apply
# rate is summed from its "maps:" lines, which must count exactly the
# client's changes; the module's save must be the region's after both, and
# rnatd must not have resynced. Prints "# fleet-scale:" figures.
#
# Usage: tests/e2e/fleet-scale.sh MODULE.ko [VPNS [PER [DIR]]]
#        (1000 x 100; tests/fleet/snapshot.sh VPNS PER DIR makes DIR)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/fleet/etcd.sh

MODULE=${1:?usage: fleet-scale.sh MODULE.ko [VPNS [PER]]}
VPNS=${2:-1000}
PER=${3:-100}
DIR=${4:-}
N=$((VPNS * PER))
RNATD=${RNATD:-$PWD/tools/rnatd}
SNAPSHOT=
TTL=30				# rnatd's requests time out after 10 s
if [ -n "$DIR" ]; then
	SNAPSHOT=$DIR/region.db
	RNATCTL=$DIR/rnatctl
	RNATD=$DIR/rnatd
	TTL=240			# half of it, 120 s, DIR's request timeout
fi
NS=gw
work=$(mktemp -d)
RNATD_PID=
stop_rnatd() {
	[ -n "$RNATD_PID" ] || return 0
	kill -CONT "$RNATD_PID" 2>/dev/null
	kill "-${1:-TERM}" "$RNATD_PID" 2>/dev/null
	wait "$RNATD_PID" 2>/dev/null
	RNATD_PID=
}
cleanup() { stop_rnatd KILL; etcd_stop; ns_del "$NS"; rm -rf "$work"; }
trap cleanup EXIT

kern() { "$RNATCTL" -R -n "$NS" "$@"; }
region() { "$RNATCTL" -store "$ETCD_URL" -region s "$@"; }
E() { ETCDCTL_API=3 etcdctl --command-timeout=300s --endpoints "$ETCD_URL" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "# fleet-scale: $*"; }

# Each VPN holds one block of the smallest power of two >= PER addresses
# (populate.py): room for size - PER more mappings without a new block.
size=1
while [ "$size" -lt "$PER" ]; do size=$((size * 2)); done
room=$((size - PER))
ADD=$((room < 10 ? room : 10))		# adds per VPN touched
DEL=$((PER - 1 < 10 ? PER - 1 : 10))	# deletes per VPN (the block stays)
CV=$((VPNS / 2 < 25 ? VPNS / 2 : 25))	# VPNs touched per phase
if [ "$ADD" -lt 1 ] || [ "$DEL" -lt 1 ] || [ "$CV" -lt 1 ]; then
	fail "PER must leave room in its block (not a power of two) and VPNS >= 2"
	exit 1
fi

expect "insmod rnat" insmod "$MODULE"
ip netns add "$NS"
for v in $(seq 1 "$VPNS"); do
	echo "link add gv$v type dummy"
	echo "link set gv$v up"
done >"$work/links"
expect "$VPNS dummy devices in namespace $NS" ip -n "$NS" -batch "$work/links"
# Larger transactions than etcd's default 128 operations: fewer requests
# for populate.py.
t0=$(ms)
if ETCD_RESTORE=$SNAPSHOT ETCD_ARGS="--max-txn-ops 1024" etcd_start 1; then
	pass "etcd member up ($ETCD_URL)${SNAPSHOT:+, restored from $SNAPSHOT}"
else
	fail "etcd member up${SNAPSHOT:+, restored from $SNAPSHOT}"
	exit 1
fi
if [ -n "$SNAPSHOT" ]; then
	say "etcd restored from $SNAPSHOT and up in $(($(ms) - t0)) ms"
else
	t0=$(ms)
	expect "populate.py writes $VPNS VPNs x $PER mappings" \
		python3 tests/fleet/populate.py "$ETCD_URL" s "$VPNS" "$PER" 1024
	say "$N mappings written by populate.py in $(($(ms) - t0)) ms"
fi
E endpoint status -w json | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
print("# fleet-scale: etcd db of the region: %d bytes (%d in use), revision %d: %.0f bytes a mapping"
      % (s["dbSize"], s.get("dbSizeInUse", 0), s["header"]["revision"], s["dbSize"] / int(sys.argv[1])))' "$N"

# want: gateway gw1's save of the region, timed (rnatctl's own snapshot
# read, process start included).
want() {
	local t0
	t0=$(ms)
	region -gateway gw1 save >"$work/want"
	say "rnatctl --gateway gw1 save of the region ($(wc -l <"$work/want") lines) in $(($(ms) - t0)) ms"
}
# same_save NAME: the module's save is the region's (want's).
same_save() {
	local t0
	t0=$(ms)
	kern save >"$work/got" 2>&1
	say "rnatctl -n $NS save of the module ($(wc -l <"$work/got") lines) in $(($(ms) - t0)) ms"
	if cmp -s "$work/want" "$work/got"; then
		pass "$1: the module's save is the region's ($(wc -l <"$work/want") lines)"
	else
		fail "$1: the module's save is the region's"
		diff "$work/want" "$work/got" | head -n 10 | sed 's/^/#   /'
	fi
}
if [ -n "$DIR" ]; then
	cp "$DIR/gw1.save" "$work/want"
else
	want
fi
expect_eq "the region's save has a pool, $VPNS VPNs and $N mappings" \
	$((1 + VPNS + N)) "$(wc -l <"$work/want")"

# applied REV SECONDS: rnatd's log says it applied revision REV or later
# within SECONDS (read in bash: a new process costs much in the guest).
applied() {
	local rev=$1 i line r
	for ((i = 0; i < $2 * 10; i++)); do
		while IFS= read -r line; do
			case $line in
			"maps: revision "* | "resync: revision "* | "apply: revision "*)
				r=${line#*revision }
				r=${r%% *}
				[ "$r" -ge "$rev" ] && return 0
				;;
			esac
		done <"$work/rnatd.log"
		nap 0.1
	done
	return 1
}
# The region's last change: the mod_revision of its changed key (rnatd's
# own status puts make later revisions that it logs nothing for).
store_rev() {
	E get /rnat/v1/s/changed -w json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'
}
resyncs() { grep -c '^resync: revision' "$work/rnatd.log"; }

# The start: one snapshot read and one restore, into an empty module.
rev=$(store_rev)
t0=$(ms)
"$RNATD" -store "$ETCD_URL" -region s -gateway gw1 -n "$NS" -ttl "$TTL" \
	>>"$work/rnatd.log" 2>&1 &
RNATD_PID=$!
if applied "$rev" 1200; then
	t=$(($(ms) - t0))
	pass "rnatd started and applied revision $rev"
	say "rnatd start at $N mappings: $(grep '^resync: revision' "$work/rnatd.log" | tail -n 1); its log said so $t ms after rnatd was started"
else
	fail "rnatd started and applied revision $rev within 1200 s"
	sed 's/^/#   rnatd: /' "$work/rnatd.log" | tail -n 20
	exit 1
fi
same_save "after rnatd's start"

# changes FIRST: the client's batch for VPNs FIRST..FIRST+CV-1: ADD map
# adds (real 10.200.0.x: free) and DEL map dels of populated mappings each.
changes() {
	local v i
	for ((v = $1; v < $1 + CV; v++)); do
		for ((i = 1; i <= ADD; i++)); do echo "map add vpn $v real 10.200.0.$i"; done
		for ((i = 1; i <= DEL; i++)); do echo "map del vpn $v real 10.1.0.$i"; done
	done
}
# maps_sum FROM: "added deleted ms lines" over rnatd's maps: lines after
# line FROM of its log.
maps_sum() {
	tail -n +"$(($1 + 1))" "$work/rnatd.log" | awk '
		/^maps: revision [0-9]+ applied: / {
			a += $5; d += $7; t += $10; n++
		}
		END { printf "%d %d %.1f %d\n", a, d, t, n }'
}
total=$((CV * (ADD + DEL)))
# phase NAME FIRST STOP: the client's batch, rnatd following live (STOP
# empty) or stopped with SIGSTOP during it and continued after; rnatd must
# apply every change as mappings, no resync; prints the rates.
phase() {
	local name=$1 first=$2 stop=$3 from r0 t0 tc t1 t2 rev a d t n
	changes "$first" >"$work/batch"
	from=$(wc -l <"$work/rnatd.log")
	r0=$(resyncs)
	[ -z "$stop" ] || kill -STOP "$RNATD_PID"
	t0=$(ms)
	if ! region -b "$work/batch" >"$work/batch.out" 2>&1; then
		fail "$name: the client's $total changes"
		tail -n 3 "$work/batch.out" | sed 's/^/#   /'
	fi
	tc=$(ms)
	t1=$tc
	rev=$(store_rev)
	[ -z "$stop" ] || { t1=$(ms); kill -CONT "$RNATD_PID"; }
	if applied "$rev" 900; then
		t2=$(ms)
		pass "$name: rnatd applied revision $rev"
	else
		fail "$name: rnatd applied revision $rev within 900 s"
		tail -n 5 "$work/rnatd.log" | sed 's/^/#   rnatd: /'
		return
	fi
	expect_eq "$name: no resync" "$r0" "$(resyncs)"
	read -r a d t n <<<"$(maps_sum "$from")"
	expect_eq "$name: rnatd's maps: lines count the client's $((CV * ADD)) adds and $((CV * DEL)) deletes" \
		"$((CV * ADD)) $((CV * DEL))" "$a $d"
	say "$name: client: $total changes (map add/del in $CV VPNs) in $((tc - t0)) ms: $((total * 1000 / (tc - t0 + 1))) changes/s"
	if [ -z "$stop" ]; then
		say "$name: rnatd applied the last $((t2 - t1)) ms after the client's end"
	else
		say "$name: rnatd, continued with $total changes waiting, applied them all in $((t2 - t1)) ms: $((total * 1000 / (t2 - t1 + 1))) mappings/s from the watch, end to end"
	fi
	say "$name: rnatd's own apply: $((a + d)) mappings in $n watch responses, $t ms in all: $(awk -v m=$((a + d)) -v t="$t" 'BEGIN { printf "%.0f", (t > 0 ? m * 1000 / t : 0) }') mappings/s of apply time"
}
phase "live" 1 ""
phase "backlog" $((CV + 1)) stop
# (One comparison for both: a region's save takes minutes at 10^5 here.)
want
same_save "after both phases"

stop_rnatd TERM
say "rnatd's log: $(grep -c '^maps: ' "$work/rnatd.log") maps: lines; the others:"
grep -v '^maps: ' "$work/rnatd.log" | sed 's/^/#   /'

cleanup
trap - EXIT
unload_rnat
exit "$E2E_FAILED"
