#!/bin/bash
# A region in etcd, on the host (no kernel needed): starts a 3-member etcd
# cluster on 127.0.0.1, then checks `rnatctl --store URL --region NAME`:
# the README example's outputs, the kernel's refusals word for word, 4
# clients allocating MAPPINGS mappings over VPNS VPNs at once (the store's
# invariants checked by check-store.py, the rate printed), races for one
# explicit NAT IP and for the last addresses of a pool. Prints `ok - ...`
# lines and `# fleet:` figures; exit status 1 if any check failed.
#
#   tests/fleet/region.sh [MAPPINGS [VPNS [PRELOAD]]]   # make check: 2000 40
#
# PRELOAD: the VPNS VPNs first get PRELOAD mappings each, written straight
# into etcd (populate.py: one block of the next power of two each), so
# that the clients' MAPPINGS are allocated in a store already that large
# (10^5 allocated by the clients themselves takes hours on a loaded host).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh

MAPPINGS=${1:-2000}
VPNS=${2:-40}
PRELOAD=${3:-0}
CLIENTS=4
RNATCTL=$PWD/tools/rnatctl
FAILED=0
TMP=$(mktemp -d)
cleanup() { etcd_stop; rm -rf "$TMP"; }
trap cleanup EXIT

pass() { echo "ok - fleet: $*"; }
fail() { echo "not ok - fleet: $*"; FAILED=1; }
R() { "$RNATCTL" -store "$ETCD_URL" -region "${REGION:-eu1}" "$@"; }

if etcd_start 3; then
	pass "3-member etcd cluster up ($ETCD_URLS)"
else
	fail "3-member etcd cluster up"
	exit 1
fi

# The README example, against the region.
R pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
R pool add AWS_CAN_CENTRAL 10.160.0.0/16
R vpn add 1 pool AWS_USA_EAST_1 dev gv1 name acme
R vpn add 2 pool AWS_USA_EAST_1 dev gv2 name globex
same "map add prints the region-wide NAT IP" \
	"vpn 1 real 10.1.0.0 nat 10.153.0.0 pool AWS_USA_EAST_1" \
	R map add vpn 1 real 10.1.0.0
same "map add with an explicit NAT IP" \
	"vpn 2 real 10.1.0.0 nat 10.162.0.1 pool AWS_USA_EAST_1" \
	R map add vpn 2 real 10.1.0.0 nat 10.162.0.1
same "lookup NAT" "10.162.0.1 is vpn 2 (globex) real 10.1.0.0" R lookup 10.162.0.1
same "lookup real" "10.1.0.0 in vpn 1 is 10.153.0.0" R lookup 10.1.0.0 vpn 1
same "lookup -j" \
	'{"vpn":2,"name":"globex","real":"10.1.0.0","nat":"10.162.0.1","plen":32,"pool":"AWS_USA_EAST_1"}' \
	R -j lookup 10.162.0.1
same "pool show (in name order, as the module)" "AWS_CAN_CENTRAL 10.160.0.0/16 used 0 of 65536 in blocks 0
AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16 used 2 of 262144 in blocks 2" R pool show
same "vpn show" "vpn 1 name acme pool AWS_USA_EAST_1 dev gv1 mappings 1 blocks 10.153.0.0/32
vpn 2 name globex pool AWS_USA_EAST_1 dev gv2 mappings 1 blocks 10.162.0.1/32" R vpn show
same "save" "pool add AWS_CAN_CENTRAL 10.160.0.0/16
pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
vpn add 1 pool AWS_USA_EAST_1 dev gv1 name acme blocks 10.153.0.0/32
vpn add 2 pool AWS_USA_EAST_1 dev gv2 name globex blocks 10.162.0.1/32
map add vpn 1 real 10.1.0.0 nat 10.153.0.0
map add vpn 2 real 10.1.0.0 nat 10.162.0.1" R save
same "-j save is one JSON document" ok \
	sh -c "'$RNATCTL' -j -store '$ETCD_URL' -region eu1 save | python3 -c 'import json,sys; json.load(sys.stdin); print(\"ok\")'"

# The kernel's refusals, word for word (kmod/cfg.c, kmod/netlink.c).
refused "taken NAT IP" "NAT 10.162.0.1 is already mapped to 10.1.0.0 in VPN 2" \
	R map add vpn 1 real 10.1.0.5 nat 10.162.0.1
refused "NAT IP in another VPN's block" "NAT 10.162.0.1 is already mapped to 10.1.0.0 in VPN 2" \
	R map add vpn 1 real 10.1.0.6 nat 10.162.0.1
refused "real address mapped twice" "10.1.0.0/32 is already mapped in VPN 1 to 10.153.0.0" \
	R map add vpn 1 real 10.1.0.0
refused "NAT IP of another pool" "NAT 10.160.0.1/32 is not in pool AWS_USA_EAST_1 but in AWS_CAN_CENTRAL" \
	R map add vpn 1 real 10.1.0.9 nat 10.160.0.1
refused "VPN exists" "VPN 1 already exists" R vpn add 1 pool AWS_USA_EAST_1
refused "no pool" "no pool NOPE" R vpn add 3 pool NOPE
refused "VPN name used" "VPN name acme is already used" R vpn add 3 pool AWS_USA_EAST_1 name acme
refused "no VPN" "no VPN 9" R map add vpn 9 real 10.1.0.0
refused "pool exists" "pool AWS_CAN_CENTRAL already exists" R pool add AWS_CAN_CENTRAL 10.170.0.0/16
refused "pools overlap" "10.160.128.0/17 overlaps 10.160.0.0/16 of pool AWS_CAN_CENTRAL" \
	R pool add X 10.160.128.0/17
refused "pool in use" "pool AWS_USA_EAST_1 is used by 2 VPNs (2 addresses mapped)" \
	R pool del AWS_USA_EAST_1
refused "no mapping for a NAT IP" "no mapping for NAT 10.153.9.9" R lookup 10.153.9.9
refused "no mapping to delete" "no mapping for 10.9.9.9 in VPN 1" R map del vpn 1 real 10.9.9.9
refused "prefix overlap" "10.1.0.0/24 overlaps 10.1.0.0/32, mapped in VPN 1 to 10.153.0.0" \
	R map add vpn 1 real 10.1.0.0/24
R pool add SMALL 10.200.0.0/30
R vpn add 5 pool SMALL
for i in 1 2 3 4; do R map add vpn 5 real 10.5.0.$i >/dev/null; done
refused "pool exhausted" "pool SMALL has no free /32 left" R map add vpn 5 real 10.5.0.9
same "-b names the failing line" "Error in line 3: pool SMALL has no free /32 left
exit 1" \
	sh -c "printf 'map del vpn 5 real 10.5.0.2\nmap add vpn 5 real 10.5.0.8\nmap add vpn 5 real 10.5.0.9\n' | '$RNATCTL' -store '$ETCD_URL' -region eu1 -b - >/dev/null; echo exit \$?"

same "a freed NAT IP is the lowest free again" \
	"vpn 1 real 10.1.0.7 nat 10.153.0.0 pool AWS_USA_EAST_1" \
	sh -c "'$RNATCTL' -store '$ETCD_URL' -region eu1 map del vpn 1 real 10.1.0.0 && '$RNATCTL' -store '$ETCD_URL' -region eu1 map add vpn 1 real 10.1.0.7"
same "vpn del counts its mappings" "deleted vpn 5 and its 4 mappings" R vpn del 5
same "usage errors send nothing" "Error: -store URL and -region NAME go together" \
	"$RNATCTL" -store "$ETCD_URL" pool show
out=$("$RNATCTL" -store http://127.0.0.1:1 -region eu1 pool show 2>&1)
rc=$?
case "$rc $out" in
"1 Error: cannot reach the store at http://127.0.0.1:1: "*) pass "an unreachable store: exit 1 and why" ;;
*) fail "an unreachable store: exit $rc, $out" ;;
esac
if python3 tests/fleet/check-store.py "$ETCD_URLS" eu1 >"$TMP/check" 2>&1; then
	pass "store invariants after the functional checks"
else
	fail "store invariants after the functional checks"; sed 's/^/#   /' "$TMP/check"
fi

# Concurrency: CLIENTS clients allocate MAPPINGS mappings over VPNS VPNs of
# one pool at once, interleaved so that they contend for the same VPNs and
# blocks.
REGION=load
if [ "$PRELOAD" -gt 0 ]; then
	# populate.py's customers are 10.1.0.1..: the clients' are 10.11.0.1..
	t0=$(date +%s.%N)
	python3 tests/fleet/populate.py "$ETCD_URL" load "$VPNS" "$PRELOAD"
	echo "# fleet: preloaded $((VPNS * PRELOAD)) mappings over $VPNS VPNs in $(echo "$(date +%s.%N) - $t0" | bc) s (populate.py)"
	cbase=10
else
	R pool add LOAD 10.64.0.0/12
	for v in $(seq 1 "$VPNS"); do echo "vpn add $v pool LOAD"; done >"$TMP/vpns"
	R -b "$TMP/vpns"
	cbase=0
fi
per=$((MAPPINGS / CLIENTS))
for c in $(seq 1 $CLIENTS); do
	for i in $(seq 0 $((per - 1))); do
		echo "map add vpn $(((i * CLIENTS + c) % VPNS + 1)) real 10.$((cbase + c)).$((i / 200)).$((i % 200 + 1))"
	done >"$TMP/c$c"
done
start=$(date +%s.%N)
pids=()
for c in $(seq 1 $CLIENTS); do
	R -b "$TMP/c$c" >"$TMP/o$c" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
onto=
[ "$PRELOAD" -gt 0 ] && onto=", onto $((VPNS * PRELOAD)) preloaded"
echo "# fleet: $((per * CLIENTS)) mappings over $VPNS VPNs by $CLIENTS clients in $secs s: $(echo "$per * $CLIENTS / $secs" | bc) allocations/s${onto}"
if [ "$rc" = 0 ]; then
	pass "$CLIENTS clients allocated $((per * CLIENTS)) mappings at once"
else
	fail "$CLIENTS clients allocated $((per * CLIENTS)) mappings at once"
	grep -h Error "$TMP"/o* | head -5 | sed 's/^/#   /'
fi
if python3 tests/fleet/check-store.py "$ETCD_URLS" load $((per * CLIENTS + VPNS * PRELOAD)) >"$TMP/check" 2>&1; then
	pass "no NAT IP given twice; maps/, nat/ and blocks agree"
else
	fail "no NAT IP given twice; maps/, nat/ and blocks agree"
fi
cat "$TMP/check"
# The store's size on disk with the load's history, then after a
# compaction of all of it and a defragmentation (what the mappings
# themselves cost): every member's db file, as etcd reports it.
E() { ETCDCTL_API=3 etcdctl --command-timeout=120s --endpoints "$ETCD_URLS" "$@"; }
dbsize() { E endpoint status -w json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%d/%d" % (e["Status"]["dbSize"], e["Status"].get("dbSizeInUse", 0)) for e in s))'; }
rev=$(E endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
echo "# fleet: etcd db size/in use per member after the load, revision $rev: $(dbsize) bytes"
if E compact --physical "$rev" >/dev/null && E defrag >/dev/null; then
	echo "# fleet: etcd db size/in use per member compacted and defragmented: $(dbsize) bytes"
else
	fail "compaction and defragmentation after the load"
fi
# What each client was told is what the store holds.
sort "$TMP"/o* >"$TMP/told"
# (populate.py's mappings, real 10.1.x.x, were told to no client.)
if [ "$PRELOAD" -gt 0 ]; then
	R map show | grep -v ' real 10\.1\.' | sort >"$TMP/held"
else
	R map show | sort >"$TMP/held"
fi
if cmp -s "$TMP/told" "$TMP/held"; then
	pass "every client's printed mapping is the store's"
else
	fail "every client's printed mapping is the store's"
	diff "$TMP/told" "$TMP/held" | head -5 | sed 's/^/#   /'
fi
# The same NAT IPs as one client alone would have been given? Not
# necessarily (the order differs), but as many blocks as the kernel would
# use: a VPN with n NAT IPs holds at most 2n - 1 addresses in blocks.
if R -j vpn show | python3 -c '
import json, sys
for v in json.load(sys.stdin):
    held = sum(1 << (32 - int(b.split("/")[1])) for b in v["blocks"])
    assert held <= 2 * v["mappings"], (v["vpn"], held, v["mappings"])'; then
	pass "blocks grow as the kernel grows them (held <= 2 x mapped)"
else
	fail "blocks grow as the kernel grows them (held <= 2 x mapped)"
fi

# Races: CLIENTS clients want the same explicit NAT IP for their VPNs at
# once, ten times; one wins each time, the others get the kernel's message.
REGION=race
R pool add RACE 10.96.0.0/16
for c in $(seq 1 $CLIENTS); do R vpn add "$c" pool RACE; done
ok=1
for n in $(seq 1 10); do
	pids=()
	for c in $(seq 1 $CLIENTS); do
		R map add vpn "$c" real "10.$c.0.$n" nat "10.96.7.$n" >"$TMP/r$c" 2>&1 &
		pids+=($!)
	done
	wins=0
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && wins=$((wins + 1))
	done
	winner=$(R lookup "10.96.7.$n" | sed -n 's/.* is vpn \([0-9]*\) .*/\1/p')
	for c in $(seq 1 $CLIENTS); do
		[ "$c" = "$winner" ] && continue
		grep -qx "Error: NAT 10.96.7.$n is already mapped to 10.$winner.0.$n in VPN $winner" "$TMP/r$c" || ok=0
	done
	[ "$wins" = 1 ] || ok=0
done
if [ "$ok" = 1 ]; then
	pass "10 races for one NAT IP: one winner each, the others refused as the kernel refuses"
else
	fail "10 races for one NAT IP: one winner each, the others refused as the kernel refuses"
fi
# The last addresses of a pool: 16 free, 4 clients want 8 each.
R pool add TINY 10.97.0.0/28
for c in $(seq 1 $CLIENTS); do R vpn add "$((10 + c))" pool TINY; done
pids=()
for c in $(seq 1 $CLIENTS); do
	(for i in $(seq 1 8); do R map add vpn "$((10 + c))" real "10.$c.1.$i"; done) >"$TMP/x$c" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
got=$(cat "$TMP"/x* | grep -c '^vpn ')
full=$(cat "$TMP"/x* | grep -c '^Error: pool TINY has no free /32 left$')
if [ "$got" = 16 ] && [ "$full" = 16 ]; then
	pass "a pool's last 16 addresses: 16 given, 16 refused with the kernel's message"
else
	fail "a pool's last 16 addresses: $got given, $full refused (want 16 and 16)"
	cat "$TMP"/x* | grep -v '^vpn ' | sort | uniq -c | head -5 | sed 's/^/#   /'
fi
if python3 tests/fleet/check-store.py "$ETCD_URLS" race 26 >"$TMP/check" 2>&1; then
	pass "store invariants after the races"
else
	fail "store invariants after the races"; sed 's/^/#   /' "$TMP/check"
fi
exit $FAILED
